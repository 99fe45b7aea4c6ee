// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The ng protocol (userspace/ng*.c) against a real media engine: interface
 * lo in attach mode off (userspace forwarding, no BPF, no root needed),
 * ports from a range this process picks. Each command as a proxy sends it,
 * the reply as a proxy reads it: offer and answer rewrite the SDP onto the
 * relay, media sent over lo shows in query's counters, delete ends the
 * call, a repeated cookie gets the cached reply without running the
 * command again, JSON gets JSON, flags spelled any way mean the same,
 * unknown ones are warned about, errors say why, and a full relay answers
 * "load limit".
 *
 * The engine, the ng layer and the reply's arena are freed by the
 * teardown, also when a failed check jumps out of a test.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "bencode.h"
#include "log.h"
#include "media.h"
#include "netaddr.h"
#include "ng.h"
#include "ng_listen.h"
#include "sdp.h"
#include "check.h"

#define OFFER_SDP(port)                                                   \
	"v=0\r\no=alice 10 10 IN IP4 127.0.0.1\r\ns=-\r\n"                  \
	"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " port " RTP/AVP 0\r\n"     \
	"a=sendrecv\r\n"
#define ANSWER_SDP(port)                                                  \
	"v=0\r\no=bob 20 20 IN IP4 127.0.0.1\r\ns=-\r\n"                    \
	"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " port " RTP/AVP 0\r\n"     \
	"a=sendrecv\r\n"

static struct media_engine *me;
static struct ng *ng;
static struct bn_arena *a;       /* requests and replies of one test */
static char *raw;                /* the last reply as received */
static size_t rawlen;
static uint64_t now_ms = 1000;   /* the cache's clock */
static unsigned cookie_n;
static unsigned port_base;
static int sock_a = -1, sock_b = -1;
static struct ng_listen *listener;

static struct ng_cfg cfg_of(uint32_t max_sessions)
{
	return (struct ng_cfg){ .max_sessions = max_sessions,
				.media_timeout_ms = 60000 };
}

static int setup_limit(uint32_t max_sessions)
{
	struct media_cfg mc;
	struct ng_cfg nc = cfg_of(max_sessions);
	char err[512];

	log_set_level(LOG_ERR);
	media_cfg_defaults(&mc);
	snprintf(mc.ifaces[0].name, sizeof(mc.ifaces[0].name), "lo");
	mc.ifaces[0].mode = ATTACH_OFF;
	mc.nifaces = 1;
	/* 100 ports (50 pairs) of their own per test process */
	port_base = 42000 + (unsigned)(getpid() % 200) * 100;
	mc.port_min = port_base;
	mc.port_max = port_base + 99;
	if (media_engine_new(&me, &mc, err, sizeof(err))) {
		print_error("media_engine_new: %s\n", err);
		return -1;
	}
	ng = ng_new(me, &nc);
	a = bn_arena_new(0);
	return ng && a ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	return setup_limit(0);
}

static int setup_one_call(void **state)
{
	(void)state;
	return setup_limit(1);
}

static int teardown(void **state)
{
	(void)state;
	ng_listen_free(listener);
	listener = NULL;
	ng_free(ng);
	ng = NULL;
	if (me)
		media_engine_free(me);
	me = NULL;
	bn_arena_free(a);
	a = NULL;
	free(raw);
	raw = NULL;
	if (sock_a >= 0)
		close(sock_a);
	if (sock_b >= 0)
		close(sock_b);
	sock_a = sock_b = -1;
	return 0;
}

/* ---- talking ng ----------------------------------------------------------------- */

static const struct sockaddr *client(void)
{
	static struct sockaddr_storage ss;

	netaddr_parse("127.0.0.1:40000", 0, &ss);
	return (const struct sockaddr *)&ss;
}

/* Send "COOKIE SP body"; the reply (without its cookie) stays in raw. */
static int send_raw(const char *cookie, const char *body, size_t len)
{
	size_t clen = strlen(cookie);
	char *msg = malloc(clen + 1 + len);
	int rc;

	memcpy(msg, cookie, clen);
	msg[clen] = ' ';
	memcpy(msg + clen + 1, body, len);
	free(raw);
	raw = NULL;
	rc = ng_message(ng, msg, clen + 1 + len, client(), now_ms, &raw, &rawlen);
	free(msg);
	if (rc == 0) {
		CHECK_TRUE(rawlen > clen + 1, "a reply after the cookie");
		CHECK_MEM(raw, cookie, clen, "the reply echoes the cookie");
		CHECK_EQ(raw[clen], ' ', "a space after the cookie");
	}
	return rc;
}

/* The reply to a request tree, sent with `cookie` in format f. */
static struct bnode *send_as(const char *cookie, struct bnode *req,
			     enum bn_format f)
{
	struct bnode *rep;
	size_t len, used, clen = strlen(cookie);
	char *body = bn_encode(req, f, &len), err[256];

	CHECK_TRUE(body != NULL, "the request encodes");
	CHECK_EQ(send_raw(cookie, body, len), 0, "a reply comes");
	free(body);
	CHECK_EQ(raw[clen + 1], f == BN_JSON ? '{' : 'd',
		 "the reply is in the request's encoding");
	CHECK_EQ(bn_decode(a, f, raw + clen + 1, rawlen - clen - 1, &rep,
			   &used, err, sizeof(err)), 0, "the reply decodes");
	return rep;
}

static struct bnode *send_req(struct bnode *req)
{
	char cookie[32];

	snprintf(cookie, sizeof(cookie), "%u_%u", (unsigned)getpid(),
		 ++cookie_n);
	return send_as(cookie, req, BN_BENCODE);
}

static struct bnode *req_new(const char *command, const char *call_id,
			     const char *from_tag, const char *to_tag,
			     const char *sdp)
{
	struct bnode *d = bn_dict(a);

	bn_dict_put_str(a, d, "command", command);
	if (call_id)
		bn_dict_put_str(a, d, "call-id", call_id);
	if (from_tag)
		bn_dict_put_str(a, d, "from-tag", from_tag);
	if (to_tag)
		bn_dict_put_str(a, d, "to-tag", to_tag);
	if (sdp)
		bn_dict_put_str(a, d, "sdp", sdp);
	return d;
}

static const char *str_of(const struct bnode *d, const char *key)
{
	const struct bnode *v = bn_dict_get(d, key);

	return v && v->type == BN_STR ? v->str : NULL;
}

/* A path of dictionary keys: "totals", "RTP", "packets". */
static const struct bnode *at(const struct bnode *d, ...)
{
	va_list ap;
	const char *k;

	va_start(ap, d);
	while (d && (k = va_arg(ap, const char *)))
		d = bn_dict_get(d, k);
	va_end(ap);
	return d;
}

static int64_t int_at(const struct bnode *n)
{
	CHECK_TRUE(n && n->type == BN_INT, "an integer is there");
	return n->num;
}

static void check_ok(const struct bnode *rep, const char *what)
{
	const char *r = str_of(rep, "result");

	if (!r || strcmp(r, "ok"))
		print_error("%s: reply: result %s, error-reason %s\n", what,
			    r ? r : "(none)", str_of(rep, "error-reason") ?
			    str_of(rep, "error-reason") : "(none)");
	CHECK_STR(r, "ok", what);
}

static void check_error(const struct bnode *rep, const char *reason,
			const char *what)
{
	CHECK_STR(str_of(rep, "result"), "error", what);
	CHECK_HAS(str_of(rep, "error-reason"), reason, what);
}

/* The m= port and c= address of a body. */
static unsigned sdp_port(const char *body)
{
	struct sdp p;
	char err[128];

	CHECK_EQ(sdp_parse(body, strlen(body), &p, err, sizeof(err)), 0,
		 "the reply's SDP parses");
	CHECK_EQ(p.nmedia, 1, "one stream");
	return p.m[0].port;
}

/* offer from alice (tag "ta"), answer from bob (tag "tb"): the relay's
 * ports toward A (in the answer's reply) and toward B (the offer's). */
static void set_up_call(const char *id, unsigned *pa, unsigned *pb,
			const char *aport, const char *bport)
{
	char o[512], an[512];
	struct bnode *rep;

	snprintf(o, sizeof(o), OFFER_SDP("%s"), aport);
	snprintf(an, sizeof(an), ANSWER_SDP("%s"), bport);
	rep = send_req(req_new("offer", id, "ta", NULL, o));
	check_ok(rep, "offer");
	*pb = sdp_port(str_of(rep, "sdp"));
	rep = send_req(req_new("answer", id, "ta", "tb", an));
	check_ok(rep, "answer");
	*pa = sdp_port(str_of(rep, "sdp"));
}

/* ---- the commands ------------------------------------------------------------------ */

static void test_ping(void **state)
{
	struct bnode *rep;

	(void)state;
	rep = send_req(req_new("ping", NULL, NULL, NULL, NULL));
	CHECK_STR(str_of(rep, "result"), "pong", "ping gets pong");
	CHECK_TRUE(!bn_dict_get(rep, "warning"), "no warning");
}

static void test_offer_answer(void **state)
{
	struct bnode *rep;
	const char *sdp;
	unsigned pa, pb;

	(void)state;
	rep = send_req(req_new("offer", "call1@test", "ta", NULL,
			       OFFER_SDP("4000")));
	check_ok(rep, "offer");
	sdp = str_of(rep, "sdp");
	CHECK_TRUE(sdp != NULL, "the offer's reply has the sdp");
	pb = sdp_port(sdp);
	CHECK_TRUE(pb >= port_base && pb <= port_base + 99,
		   "the offer's media port is the relay's");
	CHECK_EQ(pb % 2, 0, "RTP on an even port");
	CHECK_HAS(sdp, "c=IN IP4 127.0.0.1", "the relay's address in c=");
	CHECK_TRUE(!strstr(sdp, "m=audio 4000"), "A's port is gone");
	rep = send_req(req_new("answer", "call1@test", "ta", "tb",
			       ANSWER_SDP("5000")));
	check_ok(rep, "answer");
	pa = sdp_port(str_of(rep, "sdp"));
	CHECK_TRUE(pa >= port_base && pa <= port_base + 99 && pa != pb,
		   "the answer's media port is the relay's other one");
	/* the callee re-INVITEs (from-tag tb, to-tag ta): an offer from leg
	 * B, rewritten for A, on the port A already sends to */
	rep = send_req(req_new("offer", "call1@test", "tb", "ta",
			       ANSWER_SDP("5002")));
	check_ok(rep, "re-offer from the callee");
	CHECK_EQ(sdp_port(str_of(rep, "sdp")), pa,
		 "a callee's re-offer goes to A on A's relay port");
	rep = send_req(req_new("answer", "call1@test", "tb", "ta",
			       OFFER_SDP("4000")));
	check_ok(rep, "the caller's answer to it");
	CHECK_EQ(sdp_port(str_of(rep, "sdp")), pb,
		 "and the answer goes to B on B's relay port");
}

static int udp_on(unsigned *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_TRUE(fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
		   "a peer socket");
	getsockname(fd, (struct sockaddr *)&sin, &len);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* n RTP packets from A to the relay, forwarded by the engine to B. */
static int media_a_to_b(unsigned relay_port, int n)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)relay_port) };
	char pkt[172] = { (char)0x80, 0 }, buf[256];
	int got = 0;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < n; i++) {
		pkt[3] = (char)i; /* sequence number */
		CHECK_EQ(sendto(sock_a, pkt, sizeof(pkt), 0,
				(struct sockaddr *)&to, sizeof(to)),
			 sizeof(pkt), "A sends");
	}
	for (int tries = 0; tries < 100 && got < n; tries++) {
		struct pollfd pf = { .fd = media_engine_fd(me), .events = POLLIN };

		poll(&pf, 1, 10);
		media_engine_run(me);
		while (recv(sock_b, buf, sizeof(buf), 0) > 0)
			got++;
	}
	return got;
}

static void test_query_counts_media(void **state)
{
	const struct bnode *rep, *tags, *t, *st;
	unsigned pa, pb, ap, bp;
	char as[8], bs[8];
	struct bnode *q;

	(void)state;
	sock_a = udp_on(&ap);
	sock_b = udp_on(&bp);
	snprintf(as, sizeof(as), "%u", ap);
	snprintf(bs, sizeof(bs), "%u", bp);
	set_up_call("media@test", &pa, &pb, as, bs);
	CHECK_EQ(media_a_to_b(pa, 5), 5, "B got A's five packets via the relay");
	q = req_new("query", "media@test", NULL, NULL, NULL);
	rep = send_req(q);
	check_ok(rep, "query");
	CHECK_EQ(int_at(at(rep, "totals", "RTP", "packets", NULL)), 5,
		 "totals.RTP.packets");
	CHECK_TRUE(int_at(at(rep, "totals", "RTP", "bytes", NULL)) >= 5 * 172,
		   "totals.RTP.bytes: at least the payloads");
	CHECK_EQ(int_at(at(rep, "totals", "RTP", "userspace packets", NULL)), 5,
		 "forwarded in userspace (attach mode off)");
	CHECK_EQ(int_at(at(rep, "totals", "RTP", "kernel packets", NULL)), 0,
		 "none in the kernel");
	CHECK_EQ(int_at(at(rep, "totals", "RTCP", "packets", NULL)), 0,
		 "totals.RTCP.packets");
	CHECK_TRUE(int_at(at(rep, "created", NULL)) > 1600000000,
		   "created is a Unix time");
	tags = at(rep, "tags", NULL);
	CHECK_TRUE(tags && tags->len == 2, "two tags");
	t = bn_dict_get(tags, "ta");
	CHECK_TRUE(t != NULL, "the caller's tag");
	CHECK_STR(str_of(t, "in dialogue with"), "tb", "ta talks to tb");
	CHECK_STR(str_of(t, "leg"), "A", "ta is leg A");
	st = bn_dict_get(t, "medias")->child;
	CHECK_STR(str_of(st, "type"), "audio", "an audio stream");
	st = bn_dict_get(st, "streams")->child;
	CHECK_EQ(int_at(bn_dict_get(st, "local port")), pa,
		 "leg A's RTP: the relay's port A sends to");
	CHECK_EQ(int_at(at(st, "endpoint", "port", NULL)), ap,
		 "leg A's peer: latched at A's port");
	CHECK_STR(str_of(at(st, "endpoint", NULL), "address"), "127.0.0.1",
		  "leg A's peer's address");
	CHECK_EQ(int_at(at(st, "stats", "packets", NULL)), 5, "stream counters");
	CHECK_TRUE(int_at(bn_dict_get(st, "last packet")) > 1600000000,
		   "last packet is a Unix time");
	CHECK_HAS(bn_dict_get(st, "flags")->child->next->str, "confirmed",
		  "the stream is latched");
	t = bn_dict_get(tags, "tb");
	CHECK_TRUE(t != NULL, "the callee's tag");
	CHECK_EQ(int_at(bn_dict_get(bn_dict_get(bn_dict_get(t, "medias")->child,
						"streams")->child, "local port")),
		 pb, "leg B's RTP: the relay's port B sends to");
}

static void test_delete(void **state)
{
	struct bnode *rep;
	unsigned pa, pb;

	(void)state;
	set_up_call("del@test", &pa, &pb, "4000", "5000");
	rep = send_req(req_new("delete", "del@test", "ta", NULL, NULL));
	check_ok(rep, "delete");
	CHECK_TRUE(!bn_dict_get(rep, "warning"), "no warning");
	CHECK_TRUE(at(rep, "totals", "RTP", "packets", NULL) != NULL,
		   "the delete's reply has the final counters");
	CHECK_TRUE(media_session_get(me, "del@test", 0) == NULL,
		   "the session is gone");
	rep = send_req(req_new("query", "del@test", NULL, NULL, NULL));
	check_error(rep, "Unknown call-id", "query after delete");
	rep = send_req(req_new("delete", "del@test", "ta", NULL, NULL));
	check_ok(rep, "a second delete");
	CHECK_HAS(str_of(rep, "warning"), "Call-ID not found",
		  "a second delete warns");
	rep = send_req(req_new("delete", "never@test", "x", NULL, NULL));
	check_ok(rep, "delete of an unknown call");
	CHECK_HAS(str_of(rep, "warning"), "Call-ID not found",
		  "an unknown call's delete warns");
	/* the BYE comes from the callee: its tag is a leg's too */
	set_up_call("bye@test", &pa, &pb, "4000", "5000");
	rep = send_req(req_new("delete", "bye@test", "tb", NULL, NULL));
	check_ok(rep, "delete with the callee's from-tag");
	CHECK_TRUE(media_session_get(me, "bye@test", 0) == NULL,
		   "the callee's BYE ended the call");
	/* another fork's final failure does not end the answered call */
	set_up_call("fork@test", &pa, &pb, "4000", "5000");
	rep = send_req(req_new("delete", "fork@test", "ta", "other", NULL));
	check_ok(rep, "delete of another fork");
	CHECK_HAS(str_of(rep, "warning"), "tags didn't match",
		  "another fork's delete warns");
	CHECK_TRUE(media_session_get(me, "fork@test", 0) != NULL,
		   "the answered call stays");
}

static void test_list_statistics(void **state)
{
	const struct bnode *rep, *calls;
	struct bnode *q;
	unsigned pa, pb;

	(void)state;
	set_up_call("l1@test", &pa, &pb, "4000", "5000");
	set_up_call("l2@test", &pa, &pb, "4002", "5002");
	rep = send_req(req_new("list", NULL, NULL, NULL, NULL));
	check_ok(rep, "list");
	calls = bn_dict_get(rep, "calls");
	CHECK_TRUE(calls && calls->type == BN_LIST && calls->len == 2,
		   "list names both calls");
	q = req_new("list", NULL, NULL, NULL, NULL);
	bn_dict_put_int(a, q, "limit", 1);
	rep = send_req(q);
	CHECK_EQ(bn_dict_get(rep, "calls")->len, 1, "list honours limit");
	rep = send_req(req_new("statistics", NULL, NULL, NULL, NULL));
	check_ok(rep, "statistics");
	CHECK_EQ(int_at(at(rep, "statistics", "currentstatistics",
			   "sessionsown", NULL)), 2, "two sessions");
	CHECK_EQ(int_at(at(rep, "statistics", "control", "offer", NULL)), 2,
		 "two offers counted");
	CHECK_EQ(int_at(at(rep, "statistics", "totalstatistics",
			   "managedsessions", NULL)), 2, "two calls made");
	CHECK_STR(str_of(bn_dict_get(at(rep, "statistics", NULL),
				     "interfaces")->child, "forwarding"),
		  "off", "lo forwards in userspace");
}

/* A retransmission (same cookie) gets the same bytes and runs nothing. */
static void test_retransmission(void **state)
{
	struct bnode *req = req_new("offer", "rt@test", "ta", NULL,
				    OFFER_SDP("4000"));
	struct ng_stats st;
	char *first;
	size_t len;

	(void)state;
	check_ok(send_as("5555_1", req, BN_BENCODE), "offer");
	first = malloc(rawlen);
	memcpy(first, raw, rawlen);
	len = rawlen;
	now_ms += 1000; /* Kamailio retries after a second */
	send_as("5555_1", req, BN_BENCODE);
	CHECK_EQ(rawlen, len, "the same reply length");
	CHECK_MEM(raw, first, len, "the same reply, byte for byte");
	free(first);
	ng_get_stats(ng, &st);
	CHECK_EQ(st.by_command[1], 1, "offer ran once");
	CHECK_EQ(st.retransmits, 1, "one retransmission seen");
	/* after the cache forgot it, the same cookie is a new request */
	now_ms += NG_CACHE_TTL_MS;
	check_ok(send_as("5555_1", req, BN_BENCODE), "the offer again");
	ng_get_stats(ng, &st);
	CHECK_EQ(st.by_command[1], 2, "after 30 s the cookie runs again");
}

static void test_json(void **state)
{
	const char *msg = "{\"command\":\"offer\",\"call-id\":\"json@test\","
			  "\"from-tag\":\"ta\",\"sdp\":\"v=0\\r\\no=alice 1 1 IN "
			  "IP4 127.0.0.1\\r\\ns=-\\r\\nc=IN IP4 127.0.0.1\\r\\n"
			  "t=0 0\\r\\nm=audio 4000 RTP/AVP 0\\r\\n\","
			  "\"flags\":[\"trust-address\"]}";
	struct bnode *rep;
	size_t used;
	char err[256];

	(void)state;
	CHECK_EQ(send_raw("j1", msg, strlen(msg)), 0, "a JSON request");
	CHECK_EQ(raw[3], '{', "a JSON reply");
	CHECK_EQ(bn_decode(a, BN_JSON, raw + 3, rawlen - 3, &rep, &used, err,
			   sizeof(err)), 0, "the JSON reply decodes");
	check_ok(rep, "JSON offer");
	CHECK_HAS(str_of(rep, "sdp"), "c=IN IP4 127.0.0.1\r\n",
		  "the rewritten sdp, CRLF intact");
	CHECK_TRUE(sdp_port(str_of(rep, "sdp")) >= port_base, "the relay's port");
}

/* received-from is the latching hint, unless trust-address; flags are
 * the same however they are spelled. */
static void test_flags(void **state)
{
	static const char *const spellings[] = {
		"trust-address", "trust address", "TRUST_ADDRESS", "Trust-Address",
	};
	struct bnode *req, *rep, *rf, *fl;
	char id[32];

	(void)state;
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "flags%d@test", i);
		req = req_new("offer", id, "ta", NULL, OFFER_SDP("4000"));
		rf = bn_dict_put_list(a, req, "received-from");
		bn_list_add_str(a, rf, "IP4");
		bn_list_add_str(a, rf, "127.0.0.2");
		fl = bn_dict_put_list(a, req, "flags");
		if (i < 4)
			bn_list_add_str(a, fl, spellings[i]);
		bn_list_add_str(a, fl, "SIP source address");
		bn_list_add_str(a, fl, "replace-origin");
		rep = send_req(req);
		check_ok(rep, spellings[i < 4 ? i : 0]);
		CHECK_TRUE(!bn_dict_get(rep, "warning"), "known flags: no warning");
		rep = send_req(req_new("query", id, NULL, NULL, NULL));
		rf = (struct bnode *)at(rep, "tags", "ta", "received from", NULL);
		if (i < 4)
			CHECK_TRUE(rf == NULL, "trust-address: no SIP hint");
		else
			CHECK_STR(str_of(rf, "address"), "127.0.0.2",
				  "received-from is the latching hint");
	}
}

static void test_unknown_flags_and_keys(void **state)
{
	struct bnode *req = req_new("offer", "warn@test", "ta", NULL,
				    OFFER_SDP("4000"));
	struct bnode *rep, *l;

	(void)state;
	bn_list_add_str(a, bn_dict_put_list(a, req, "flags"), "frobnicate");
	bn_dict_put_str(a, req, "ICE", "force");
	l = bn_dict_put_list(a, req, "replace");
	bn_list_add_str(a, l, "origin");
	bn_list_add_str(a, l, "session connection");
	l = bn_dict_put_list(a, req, "rtcp-mux");
	bn_list_add_str(a, l, "demux");
	bn_dict_put_str(a, req, "transport-protocol", "RTP/SAVP");
	bn_dict_put_str(a, req, "sip-message-type", "sip-request");
	bn_dict_put_str(a, req, "via-branch", "z9hG4bK1");
	bn_dict_put_str(a, req, "label", "caller");
	bn_dict_put_str(a, req, "x-custom", "1");
	l = bn_dict_put_list(a, req, "supports");
	bn_list_add_str(a, l, "load limit");
	rep = send_req(req);
	check_ok(rep, "an offer with flags the relay does not know");
	CHECK_HAS(str_of(rep, "warning"), "unknown flag 'frobnicate'",
		  "the unknown flag is named");
	CHECK_HAS(str_of(rep, "warning"), "ICE 'force' ignored",
		  "ICE force is not done, and said so");
	CHECK_HAS(str_of(rep, "warning"), "rtcp-mux 'demux' ignored",
		  "rtcp-mux demux is not done, and said so");
	CHECK_HAS(str_of(rep, "warning"), "transport-protocol not changed",
		  "no protocol translation, and said so");
	CHECK_HAS(str_of(rep, "warning"), "unknown key 'x-custom'",
		  "the unknown key is named");
	CHECK_TRUE(!strstr(str_of(rep, "warning"), "session connection"),
		   "replace session-connection is done");
	rep = send_req(req_new("query", "warn@test", NULL, NULL, NULL));
	CHECK_STR(str_of(at(rep, "tags", "ta", NULL), "label"), "caller",
		  "the label is kept");
}

static void test_errors(void **state)
{
	struct bnode *rep, *req;
	char cookie[8];

	(void)state;
	rep = send_req(req_new("offer", NULL, "ta", NULL, OFFER_SDP("4000")));
	check_error(rep, "offer needs 'call-id'", "no call-id");
	rep = send_req(req_new("offer", "e@test", NULL, NULL, OFFER_SDP("4000")));
	check_error(rep, "offer needs 'from-tag'", "no from-tag");
	rep = send_req(req_new("offer", "e@test", "ta", NULL, "v=0\r\nbogus\r\n"));
	CHECK_STR(str_of(rep, "result"), "error", "a malformed SDP");
	CHECK_TRUE(str_of(rep, "error-reason") &&
		   strlen(str_of(rep, "error-reason")) > 10, "says why");
	CHECK_TRUE(media_session_get(me, "e@test", 0) == NULL,
		   "a failed first offer leaves no session");
	rep = send_req(req_new("answer", "nothing@test", "ta", "tb",
			       ANSWER_SDP("5000")));
	check_error(rep, "Unknown call-id", "an answer without an offer");
	rep = send_req(req_new("frobnicate", NULL, NULL, NULL, NULL));
	check_error(rep, "unknown command 'frobnicate'", "an unknown command");
	req = bn_dict(a);
	bn_dict_put_int(a, req, "command", 5);
	check_error(send_req(req), "no command", "a command that is no string");
	req = req_new("offer", "e@test", "ta", NULL, NULL);
	bn_dict_put_int(a, req, "sdp", 5);
	check_error(send_req(req), "'sdp' must be a string, not an integer",
		    "a value of the wrong type");
	rep = send_req(req_new("offer", "bad\001id", "ta", NULL,
			       OFFER_SDP("4000")));
	check_error(rep, "control byte 0x01", "a control byte in the call-id");
	req = req_new("offer", "e@test", "ta", NULL, OFFER_SDP("4000"));
	bn_dict_put_str(a, req, "received-from", "not-an-address");
	check_error(send_req(req), "not an IP address", "a bad received-from");
	/* malformed messages: a reply with the reason, never a crash */
	CHECK_EQ(send_raw("m1", "d7:command4:ping", 16), 0, "truncated");
	CHECK_HAS(raw, "truncated message", "a truncated dictionary");
	CHECK_EQ(send_raw("m2", "d7:command4:pingeXYZ", 20), 0, "trailing");
	CHECK_HAS(raw, "3 bytes after the dictionary", "trailing bytes");
	CHECK_EQ(send_raw("m3", "li1ee", 5), 0, "a list");
	CHECK_HAS(raw, "must be a bencode dictionary", "not a dictionary");
	CHECK_EQ(send_raw("m4", "d4:abci1ee", 10), 0, "a bad length");
	CHECK_HAS(raw, "malformed message: at byte", "names the byte");
	CHECK_EQ(send_raw("m5", "d7:command4:pinge\r\n", 19), 0, "a newline");
	CHECK_HAS(raw, "4:pong", "white space after the dictionary is fine");
	/* no cookie: nothing to echo, so no reply at all */
	CHECK_EQ(ng_message(ng, "d7:command4:pinge", 17, client(), now_ms,
			    &raw, &rawlen), -1, "no cookie, no reply");
	CHECK_EQ(ng_message(ng, " d7:command4:pinge", 18, client(), now_ms,
			    &raw, &rawlen), -1, "an empty cookie, no reply");
	memset(cookie, 'x', sizeof(cookie) - 1);
	cookie[7] = 0;
	CHECK_EQ(send_raw(cookie, "", 0), 0, "nothing after the cookie");
	CHECK_HAS(raw, "error-reason", "an error");
}

/* The first offer of a call over the limit: "load limit" for a proxy that
 * supports it (it tries another relay), else the error it knows. */
static void test_load_limit(void **state)
{
	struct bnode *req, *rep;
	unsigned pa, pb;

	(void)state;
	set_up_call("first@test", &pa, &pb, "4000", "5000");
	req = req_new("offer", "second@test", "ta", NULL, OFFER_SDP("4000"));
	bn_list_add_str(a, bn_dict_put_list(a, req, "supports"), "load limit");
	rep = send_req(req);
	CHECK_STR(str_of(rep, "result"), "load limit", "over the limit");
	CHECK_HAS(str_of(rep, "message"), "Parallel session limit reached",
		  "says which limit");
	rep = send_req(req_new("offer", "second@test", "ta", NULL,
			       OFFER_SDP("4000")));
	check_error(rep, "Parallel session limit reached",
		    "without 'supports: load limit' it is an error");
	CHECK_TRUE(media_session_get(me, "second@test", 0) == NULL,
		   "no session for the refused call");
	rep = send_req(req_new("offer", "first@test", "ta", "tb",
			       OFFER_SDP("4000")));
	check_ok(rep, "a re-offer of a call already up is not refused");
}

/* Kamailio fails over on exactly "Ran out of ports". */
static void test_ports_exhausted(void **state)
{
	struct bnode *rep = NULL;
	char id[32];
	int i;

	(void)state;
	for (i = 0; i < 60; i++) { /* 50 pairs, two per call */
		snprintf(id, sizeof(id), "full%d@test", i);
		rep = send_req(req_new("offer", id, "ta", NULL, OFFER_SDP("4000")));
		if (strcmp(str_of(rep, "result"), "ok"))
			break;
	}
	CHECK_EQ(i, 25, "25 calls fit in 50 port pairs");
	check_error(rep, "Ran out of ports", "the 26th call");
	CHECK_STR(str_of(rep, "error-reason"), "Ran out of ports",
		  "exactly rtpengine's words");
	CHECK_HAS(str_of(rep, "message"), "port pool exhausted",
		  "the details beside them");
}

/* An answered ng call without media is deleted; other sessions are not
 * the ng layer's to judge. */
static void test_idle(void **state)
{
	struct media_session *s;
	unsigned pa, pb;
	struct ng_stats st;

	(void)state;
	set_up_call("idle@test", &pa, &pb, "4000", "5000");
	s = media_session_get(me, "idle@test", 0);
	CHECK_EQ(ng_media_idle(ng, s), 1, "an ng call");
	CHECK_TRUE(media_session_get(me, "idle@test", 0) == NULL,
		   "the idle call is deleted");
	ng_get_stats(ng, &st);
	CHECK_EQ(st.calls_timed_out, 1, "counted as timed out");
	s = media_session_get(me, "xrb2bua", 1);
	CHECK_EQ(ng_media_idle(ng, s), 0, "not an ng call");
	CHECK_TRUE(media_session_get(me, "xrb2bua", 0) == s, "left alone");
}

/* After a restart the engine knows the call but the ng layer does not:
 * the legs are found from the SDP. */
static void test_adopted_session(void **state)
{
	struct media_session *s;
	struct bnode *rep;
	char *out = NULL, err[256];
	unsigned pa;

	(void)state;
	s = media_session_get(me, "adopt@test", 1);
	CHECK_EQ(media_offer(me, s, MEDIA_LEG_A, OFFER_SDP("4000"),
			     strlen(OFFER_SDP("4000")), &out, err, sizeof(err)),
		 0, "an offer outside ng");
	free(out);
	CHECK_EQ(media_answer(me, s, MEDIA_LEG_B, ANSWER_SDP("5000"),
			      strlen(ANSWER_SDP("5000")), &out, err, sizeof(err)),
		 0, "its answer");
	pa = sdp_port(out);
	free(out);
	/* the callee's re-INVITE with tags ng never saw */
	rep = send_req(req_new("offer", "adopt@test", "newb", "newa",
			       ANSWER_SDP("5000")));
	check_ok(rep, "a re-offer of an adopted call");
	CHECK_EQ(sdp_port(str_of(rep, "sdp")), pa,
		 "recognised as leg B's by its SDP address and sent to A");
}

/* Mutated requests (flipped, dropped, inserted bytes): each gets a reply
 * that echoes its cookie, or is dropped for having none; nothing crashes,
 * leaks or reads outside the message (the test build runs under ASan). */
static void test_mutated_requests(void **state)
{
	static const char *const seeds[] = {
		"c1 d7:command5:offer7:call-id4:m@t18:from-tag2:ta3:sdp87:v=0\r\n"
		"o=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		"m=audio 4000 RTP/AVP 0\r\n5:flagsl13:trust-address4:asdfe"
		"13:received-froml3:IP49:127.0.0.1ee",
		"c2 {\"command\":\"answer\",\"call-id\":\"m@t1\",\"from-tag\":\"ta\","
		"\"to-tag\":\"tb\",\"sdp\":\"v=0\\r\\no=b 1 1 IN IP4 127.0.0.1\\r\\n"
		"s=-\\r\\nc=IN IP4 127.0.0.1\\r\\nt=0 0\\r\\nm=audio 5000 RTP/AVP 0"
		"\\r\\n\",\"replace\":[\"origin\"],\"ICE\":\"remove\"}",
		"c3 d7:command5:query7:call-id4:m@t1e",
		"c4 d7:command6:delete7:call-id4:m@t18:from-tag2:tbe",
		"c5 d7:command4:list5:limiti3ee",
	};
	unsigned seed = 777;

	(void)state;
	for (int i = 0; i < 5; i++) { /* the seeds themselves are fine */
		CHECK_EQ(ng_message(ng, seeds[i], strlen(seeds[i]), client(),
				    now_ms, &raw, &rawlen), 0, seeds[i]);
		CHECK_TRUE(strstr(raw, "6:result2:ok") ||
			   strstr(raw, "\"result\":\"ok\""), raw);
		free(raw);
		raw = NULL;
	}
	for (int i = 0; i < 4000; i++) {
		const char *s = seeds[i % 5];
		size_t len = strlen(s), pos;
		char *m = malloc(len + 2), *out = NULL;
		size_t outlen = 0;
		int rc;

		memcpy(m, s, len);
		seed = seed * 1103515245u + 12345u;
		pos = (seed >> 8) % len;
		switch ((seed >> 4) % 3) {
		case 0: m[pos] = (char)(seed >> 16); break;
		case 1: memmove(m + pos, m + pos + 1, len - pos - 1); len--; break;
		default: memmove(m + pos + 1, m + pos, len - pos);
			 m[pos] = (char)(seed >> 20); len++; break;
		}
		now_ms += 10; /* the cache must not answer for the seed */
		rc = ng_message(ng, m, len, client(), now_ms, &out, &outlen);
		if (rc == 0) {
			const char *sp = memchr(m, ' ', len);

			CHECK_TRUE(sp && outlen > (size_t)(sp - m) &&
				   memcmp(out, m, (size_t)(sp - m) + 1) == 0,
				   "a reply echoes the cookie");
		}
		free(out);
		free(m);
	}
}

/* ---- the listener ---------------------------------------------------------------- */

static void test_listen_syntax(void **state)
{
	struct ng_listen_spec sp;
	struct ng_net n[2];
	struct sockaddr_storage ss;
	char err[256], a[NETADDR_STRLEN];

	(void)state;
	CHECK_EQ(ng_listen_parse("udp:127.0.0.1:2223", &sp, err, sizeof(err)),
		 0, "udp:ADDR:PORT");
	CHECK_EQ(sp.n, 1, "one address");
	CHECK_EQ(sp.ep[0].tcp, 0, "udp");
	CHECK_EQ(ng_listen_parse("udp:2223, tcp:[::1]:2224", &sp, err,
				 sizeof(err)), 0, "a port alone, and a list");
	CHECK_EQ(sp.n, 2, "two addresses");
	CHECK_STR(netaddr_str((struct sockaddr *)&sp.ep[0].addr, a, sizeof(a)),
		  "127.0.0.1:2223", "a port alone is loopback");
	CHECK_EQ(sp.ep[1].tcp, 1, "tcp");
	CHECK_EQ(ng_listen_parse("sctp:1.2.3.4:5", &sp, err, sizeof(err)), -1,
		 "an unknown protocol");
	CHECK_HAS(err, "neither udp: nor tcp:", "says so");
	CHECK_EQ(ng_listen_parse("udp:1.2.3.4", &sp, err, sizeof(err)), -1,
		 "no port");
	CHECK_EQ(ng_listen_parse("udp:::1:5", &sp, err, sizeof(err)), -1,
		 "IPv6 without brackets");
	CHECK_HAS(err, "brackets", "says so");
	CHECK_EQ(ng_listen_parse("udp:70000", &sp, err, sizeof(err)), -1,
		 "a port out of range");
	CHECK_EQ(ng_net_parse("10.1.0.0/16", &n[0], err, sizeof(err)), 0, "CIDR");
	CHECK_EQ(ng_net_parse("2001:db8::/32", &n[1], err, sizeof(err)), 0,
		 "an IPv6 prefix");
	CHECK_EQ(ng_net_parse("10.0.0.0/33", &n[0], err, sizeof(err)), -1,
		 "a prefix too long");
	CHECK_EQ(ng_net_parse("example.com", &n[0], err, sizeof(err)), -1,
		 "not an address");
	ng_net_parse("10.1.0.0/16", &n[0], err, sizeof(err));
	netaddr_parse("10.1.200.3:5060", 0, &ss);
	CHECK_TRUE(ng_net_allowed(n, 2, (struct sockaddr *)&ss), "in 10.1/16");
	netaddr_parse("10.2.0.1:5060", 0, &ss);
	CHECK_TRUE(!ng_net_allowed(n, 2, (struct sockaddr *)&ss), "not in it");
	netaddr_parse("[::ffff:10.1.2.3]:5060", 0, &ss);
	CHECK_TRUE(ng_net_allowed(n, 2, (struct sockaddr *)&ss),
		   "an IPv4-mapped address counts as IPv4");
	netaddr_parse("[2001:db8:5::1]:5060", 0, &ss);
	CHECK_TRUE(ng_net_allowed(n, 2, (struct sockaddr *)&ss), "in the /32");
	CHECK_TRUE(!ng_net_allowed(NULL, 0, (struct sockaddr *)&ss),
		   "no list: not loopback, refused");
	netaddr_parse("127.0.0.7:1", 0, &ss);
	CHECK_TRUE(ng_net_allowed(NULL, 0, (struct sockaddr *)&ss),
		   "no list: loopback allowed");
	netaddr_parse("[::1]:1", 0, &ss);
	CHECK_TRUE(ng_net_allowed(NULL, 0, (struct sockaddr *)&ss),
		   "no list: ::1 allowed");
}

/* Serve the listener until `fd` has `want` bytes or 2 s passed. */
static size_t pump(struct ng_listen *l, int fd, char *buf, size_t cap,
		   size_t want)
{
	size_t got = 0;

	for (int i = 0; i < 200 && got < want; i++) {
		ssize_t n;

		ng_listen_run(l);
		n = recv(fd, buf + got, cap - 1 - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		else
			usleep(10000);
	}
	buf[got] = 0;
	return got;
}

static void test_listen_udp_tcp(void **state)
{
	struct ng_listen *l;
	char spec[96], err[256], buf[4096];
	unsigned port = port_base + 150; /* outside the media ports */
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	const char *ping = "d7:command4:pinge", *pong = "d6:result4:ponge";
	char *const allow[] = { "127.0.0.0/8" };
	int u, t;

	(void)state;
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u,tcp:127.0.0.1:%u", port,
		 port);
	CHECK_EQ(ng_listen_new(&listener, spec, allow, 1, ng, err, sizeof(err)),
		 0, err);
	l = listener;
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	sendto(u, "u1 d7:command4:pinge", 20, 0, (struct sockaddr *)&to,
	       sizeof(to));
	CHECK_EQ(pump(l, u, buf, sizeof(buf), 19), 19, "a UDP reply");
	CHECK_STR(buf, "u1 d6:result4:ponge", "UDP ping, pong");
	close(u);
	/* TCP: one message in pieces, then two at once, then JSON */
	t = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(connect(t, (struct sockaddr *)&to, sizeof(to)), 0, "connect");
	ng_listen_run(l);
	send(t, "t1 d7:comm", 10, 0);
	pump(l, t, buf, sizeof(buf), 1);
	CHECK_EQ(strlen(buf), 0, "half a message: no reply yet");
	send(t, "and4:pinge", 10, 0);
	CHECK_EQ(pump(l, t, buf, sizeof(buf), 19), 19, "the rest: a reply");
	CHECK_STR(buf, "t1 d6:result4:ponge", "TCP ping in pieces");
	snprintf(buf, sizeof(buf), "\r\nt2 %s t3 %s", ping, ping);
	send(t, buf, strlen(buf), 0);
	CHECK_EQ(pump(l, t, buf, sizeof(buf), 38), 38, "two replies");
	CHECK_TRUE(strstr(buf, "t2 ") && strstr(buf, "t3 ") &&
		   strstr(buf, pong), "both pongs");
	send(t, "t4 {\"command\": \"ping\", \"x\": \"}{\\\"\"}", 35, 0);
	pump(l, t, buf, sizeof(buf), 23);
	CHECK_STR(buf, "t4 {\"result\":\"pong\",\"warning\":\"unknown key 'x' "
		  "ignored\"}", "JSON over TCP, braces in strings");
	send(t, "junk xyz", 8, 0);
	pump(l, t, buf, sizeof(buf), 1);
	CHECK_EQ(recv(t, buf, sizeof(buf), MSG_DONTWAIT), 0,
		 "a client sending garbage is closed");
	close(t);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	static const struct CMUnitTest tests[] = {
		T(test_ping),
		T(test_offer_answer),
		T(test_query_counts_media),
		T(test_delete),
		T(test_list_statistics),
		T(test_retransmission),
		T(test_json),
		T(test_flags),
		T(test_unknown_flags_and_keys),
		T(test_errors),
		cmocka_unit_test_setup_teardown(test_load_limit, setup_one_call,
						teardown),
		T(test_ports_exhausted),
		T(test_idle),
		T(test_adopted_session),
		T(test_mutated_requests),
		T(test_listen_syntax),
		T(test_listen_udp_tcp),
	};

	return cmocka_run_group_tests_name("test_ng", tests, NULL, NULL);
}
