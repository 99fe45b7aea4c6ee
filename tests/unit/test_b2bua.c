// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The B2BUA (sip/b2bua.c, call.c, invite.c, indialog.c, register.c) end to
 * end in one process: messages from two fake phones go in through
 * b2bua_on_message(), everything the B2BUA sends is caught by the deps'
 * send hook and parsed back with osip, and the checks read the fields of
 * each leg: what crosses (From/To URIs, pass-through headers, SDP
 * rewritten onto the relay) and what must not (Via, Contact, Call-ID,
 * tags, Record-Route, other headers). The media engine runs for real in
 * socket mode on "lo" (no BPF). Timers are test_txn.c's business: here the
 * only waits are for an ended call's last transactions (T1 shrunk to 1 ms).
 *
 * Phone A is 127.0.0.2:5062, phone B ("bob", registered) 127.0.0.3:5064.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "auth.h"
#include "b2bua.h"
#include "cdr.h"
#include "digest.h"
#include "media.h"
#include "netaddr.h"
#include "registrar.h"
#include "route.h"
#include "sipmsg.h"
#include "transport.h"
#include "check.h"
#include "b2bua_fixture.h"

#define DOMAIN "xrelay.test"
#define PORT_MIN 40000
#define PORT_MAX 40999

/* ---- what the B2BUA sent ------------------------------------------------- */

struct cap {
	struct sip_peer to;
	char *buf;               /* the bytes, NUL-terminated */
	size_t len;
	osip_message_t *m;       /* parsed back */
	int used;                /* taken by a check */
};

static struct {
	struct cap **v;
	size_t n, cap;
} C;

static int cap_send(void *ctx, const struct sip_peer *to, const char *buf,
		    size_t len)
{
	struct cap *c = calloc(1, sizeof(*c));

	(void)ctx;
	if (!c)
		abort();
	c->buf = fx_strndup(buf, len);
	c->len = len;
	c->to = *to;
	c->m = fx_parse_sent(buf, len, 0);
	if (C.n == C.cap) {
		C.cap = C.cap ? C.cap * 2 : 64;
		C.v = realloc(C.v, C.cap * sizeof(*C.v));
		if (!C.v)
			abort();
	}
	C.v[C.n++] = c;
	return 0;
}

static void cap_clear(void)
{
	for (size_t i = 0; i < C.n; i++) {
		if (C.v[i]->m)
			osip_message_free(C.v[i]->m);
		free(C.v[i]->buf);
		free(C.v[i]);
	}
	free(C.v);
	memset(&C, 0, sizeof(C));
}

static void cap_dump(void)
{
	char a[NETADDR_STRLEN];

	for (size_t i = 0; i < C.n; i++) {
		if (C.v[i]->used)
			continue;
		netaddr_str((struct sockaddr *)&C.v[i]->to.addr, a, sizeof(a));
		print_error("  unchecked, to %s: %.*s\n", a,
			    (int)strcspn(C.v[i]->buf, "\r\n"), C.v[i]->buf);
	}
}

static int pending(void)
{
	int n = 0;

	for (size_t i = 0; i < C.n; i++)
		n += !C.v[i]->used;
	return n;
}

static void drain(void)
{
	for (size_t i = 0; i < C.n; i++)
		C.v[i]->used = 1;
}

static void expect_nothing(const char *what)
{
	if (pending() == 0)
		return;
	print_error("%s: %d message(s) sent, expected none\n", what, pending());
	cap_dump();
	fail();
}

static int same_peer(const struct sip_peer *a, const struct sip_peer *b)
{
	return netaddr_ip_equal((const struct sockaddr *)&a->addr,
				(const struct sockaddr *)&b->addr) &&
	       netaddr_port((const struct sockaddr *)&a->addr) ==
	       netaddr_port((const struct sockaddr *)&b->addr);
}

/*
 * The first unchecked message to `to`: a request of `method` (code 0) or a
 * response with status `code` to a `method` request (by CSeq).
 */
static struct cap *take(const struct sip_peer *to, const char *method,
			int code, const char *what)
{
	for (size_t i = 0; i < C.n; i++) {
		struct cap *c = C.v[i];
		osip_message_t *m = c->m;

		if (c->used || !m || !same_peer(&c->to, to))
			continue;
		if (code ? (MSG_IS_RESPONSE(m) && m->status_code == code &&
			    !strcmp(m->cseq->method, method)) :
		    (MSG_IS_REQUEST(m) && !strcmp(m->sip_method, method))) {
			c->used = 1;
			return c;
		}
	}
	print_error("%s: no %s %d was sent\n", what, method, code);
	cap_dump();
	fail();
	return NULL;
}

#define take_req(to, method, what) take((to), (method), 0, (what))
#define take_resp(to, code, method, what) take((to), (method), (code), (what))

/* Is there an unchecked message like that? */
static int sent(const struct sip_peer *to, const char *method, int code)
{
	for (size_t i = 0; i < C.n; i++) {
		osip_message_t *m = C.v[i]->m;

		if (C.v[i]->used || !m || !same_peer(&C.v[i]->to, to))
			continue;
		if (code ? (MSG_IS_RESPONSE(m) && m->status_code == code &&
			    !strcmp(m->cseq->method, method)) :
		    (MSG_IS_REQUEST(m) && !strcmp(m->sip_method, method)))
			return 1;
	}
	return 0;
}

/* ---- reading fields ------------------------------------------------------ */

static const char *branch_of(const osip_message_t *m)
{
	const char *b = sipmsg_branch(m);

	return b ? b : "";
}

static const char *via_host(const osip_message_t *m)
{
	osip_via_t *v = NULL;

	if (osip_message_get_via(m, 0, &v) < 0 || !v || !v->host)
		return "";
	return v->host;
}

static int via_port(const osip_message_t *m)
{
	osip_via_t *v = NULL;

	if (osip_message_get_via(m, 0, &v) < 0 || !v || !v->port)
		return 5060;
	return atoi(v->port);
}

static const char *cid_of(const osip_message_t *m)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	return sipmsg_call_id(m, buf[k], sizeof(buf[k]));
}

static const char *tag_or_empty(osip_from_t *f)
{
	const char *t = sipmsg_tag(f);

	return t ? t : "";
}

static const char *uri_of(const osip_uri_t *u)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	if (sipmsg_uri_str(u, buf[k], sizeof(buf[k])) < 0)
		buf[k][0] = 0;
	return buf[k];
}

static const char *to_str_of(const osip_message_t *m)
{
	static char buf[512];

	if (sipmsg_to_str(m, buf, sizeof(buf)) < 0)
		buf[0] = 0;
	return buf;
}

static const char *contact_of(const osip_message_t *m)
{
	static char buf[256];

	if (sipmsg_contact(m, buf, sizeof(buf)) < 0)
		return "";
	return buf;
}

static const char *body_of(const osip_message_t *m)
{
	osip_body_t *b = NULL;

	if (osip_message_get_body(m, 0, &b) < 0 || !b || !b->body)
		return NULL;
	return b->body;
}

static const char *ctype_of(const osip_message_t *m)
{
	static char buf[128];

	if (!m->content_type || !m->content_type->type)
		return "";
	snprintf(buf, sizeof(buf), "%s/%s", m->content_type->type,
		 m->content_type->subtype ? m->content_type->subtype : "");
	return buf;
}

/* The value of an SDP line "<prefix>..." (the rest of the line). */
static const char *sdp_line(const char *sdp, const char *prefix)
{
	static char buf[4][256];
	static int k;
	const char *p = sdp;
	size_t n = strlen(prefix);

	k = (k + 1) % 4;
	buf[k][0] = 0;
	while (p && *p) {
		if (!strncmp(p, prefix, n)) {
			snprintf(buf[k], sizeof(buf[k]), "%.*s",
				 (int)strcspn(p + n, "\r\n"), p + n);
			return buf[k];
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static int sdp_audio_port(const char *sdp)
{
	const char *m = sdp ? sdp_line(sdp, "m=audio ") : NULL;

	return m ? atoi(m) : -1;
}

/* The SDP points at the relay: c= 127.0.0.1, an even port of the pool. */
static int check_relay_sdp(const char *sdp, const char *what)
{
	char w[160];
	int port = sdp_audio_port(sdp);

	snprintf(w, sizeof(w), "%s: has an SDP body", what);
	CHECK_TRUE(sdp != NULL, w);
	snprintf(w, sizeof(w), "%s: c= is the relay", what);
	CHECK_STR(sdp_line(sdp, "c="), "IN IP4 127.0.0.1", w);
	snprintf(w, sizeof(w), "%s: m= port in the relay's range", what);
	CHECK_TRUE(port >= PORT_MIN && port <= PORT_MAX, w);
	snprintf(w, sizeof(w), "%s: m= port is even (RTP)", what);
	CHECK_EQ(port % 2, 0, w);
	snprintf(w, sizeof(w), "%s: o= is the relay", what);
	CHECK_HAS(sdp_line(sdp, "o="), "IN IP4 127.0.0.1", w);
	return port;
}

/* ---- the fixture --------------------------------------------------------- */

static struct media_engine *ME;
static char pin_dir[64];
static int sip_port;

static struct {
	struct sip_transport *tp;
	struct registrar *reg;
	struct routes *rt;
	struct cdr_writer *cdr;
	struct auth *auth;
	struct b2bua_cfg cfg;
	struct b2bua_deps d;
	struct b2bua *b;
	char cdr_path[64], users_path[64];
} F;

static char *const PASS[] = { "P-Asserted-Identity", "X-Foo", "X-Carrier-*" };

static struct sip_peer PA, PB, PGW;   /* phone A, phone B, a gateway */
static char RELAY[64];                /* "127.0.0.1:<sip_port>" */

static int group_setup(void **state)
{
	(void)state;
	if (fx_media_start(&ME, pin_dir, sizeof(pin_dir), "b2bua", PORT_MIN,
			   PORT_MAX) < 0)
		return -1;
	sip_port = fx_free_udp_port();
	if (sip_port < 0)
		return -1;
	snprintf(RELAY, sizeof(RELAY), "127.0.0.1:%d", sip_port);
	PA = fx_peer("127.0.0.2:5062");
	PB = fx_peer("127.0.0.3:5064");
	PGW = fx_peer("127.0.0.9:5070");
	sipmsg_init();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	fx_media_stop(&ME, pin_dir);
	return 0;
}

static int setup(void **state)
{
	char err[256] = "";
	int fd;

	(void)state;
	memset(&F, 0, sizeof(F));
	F.tp = fx_transport(sip_port);
	if (!F.tp)
		return -1;
	F.reg = registrar_new(60, 3600);
	F.rt = routes_new();
	snprintf(F.cdr_path, sizeof(F.cdr_path), "/tmp/xr-b2bua-cdr.XXXXXX");
	fd = mkstemp(F.cdr_path);
	if (fd < 0 || !F.reg || !F.rt)
		return -1;
	close(fd);
	F.cdr = cdr_open(F.cdr_path, err, sizeof(err));
	if (!F.cdr) {
		print_error("cdr_open: %s\n", err);
		return -1;
	}
	snprintf(F.cfg.domain, sizeof(F.cfg.domain), DOMAIN);
	F.cfg.pass_headers = PASS;
	F.cfg.npass = 3;
	F.cfg.retry_after_s = 7;
	F.cfg.reg_min_expires_s = 60;
	F.cfg.reg_max_expires_s = 3600;
	F.cfg.t1_ms = 1;     /* an ended call's transactions end fast */
	F.d.tp = F.tp;
	F.d.me = ME;
	F.d.reg = F.reg;
	F.d.rt = F.rt;
	F.d.cdr = F.cdr;
	F.d.send = cap_send;
	F.b = b2bua_new(&F.cfg, &F.d);
	if (!F.b)
		return -1;
	tp_set_ctx(F.tp, F.b);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	b2bua_free(F.b);
	tp_free(F.tp);
	registrar_free(F.reg);
	routes_free(F.rt);
	cdr_close(F.cdr);
	auth_free(F.auth);
	if (F.cdr_path[0])
		unlink(F.cdr_path);
	if (F.users_path[0])
		unlink(F.users_path);
	cap_clear();
	memset(&F, 0, sizeof(F));
	return 0;
}

static void reconfigure(void)
{
	b2bua_reconfigure(F.b, &F.cfg, &F.d);
}

/* ---- feeding messages ---------------------------------------------------- */

/* Start line and headers from fmt (each line ending in CRLF); the
 * Content-Length and the body are added here. */
static void feed(const struct sip_peer *from, const char *body,
		 const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 64)
		abort();
	n += snprintf(buf + n, sizeof(buf) - (size_t)n,
		      "Content-Length: %zu\r\n\r\n%s",
		      body ? strlen(body) : 0, body ? body : "");
	b2bua_on_message(F.b, buf, (size_t)n, from);
}

/* A response of the phone at `from` to a request the B2BUA sent it. */
static void respond(const struct sip_peer *from, const osip_message_t *req,
		    int code, const char *reason, const char *to_tag,
		    const char *extra, const char *body)
{
	char buf[8192], fr[512], to[512];
	size_t n = 0;
	int i;

	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "SIP/2.0 %d %s\r\n",
			      code, reason);
	for (i = 0; i < osip_list_size(&req->vias); i++) {
		char *s = NULL;

		osip_via_to_str(osip_list_get(&req->vias, i), &s);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "Via: %s\r\n", s);
		osip_free(s);
	}
	sipmsg_from_str(req, fr, sizeof(fr));
	sipmsg_to_str(req, to, sizeof(to));
	n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			      "From: %s\r\nTo: %s%s%s\r\nCall-ID: %s\r\n"
			      "CSeq: %s %s\r\n%s", fr, to,
			      to_tag && !sipmsg_tag(req->to) ? ";tag=" : "",
			      to_tag && !sipmsg_tag(req->to) ? to_tag : "",
			      cid_of(req), req->cseq->number, req->cseq->method,
			      extra ? extra : "");
	if (body)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "Content-Type: application/sdp\r\n");
	n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			      "Content-Length: %zu\r\n\r\n%s",
			      body ? strlen(body) : 0, body ? body : "");
	if (n >= sizeof(buf))
		abort();
	b2bua_on_message(F.b, buf, n, from);
}

#define SDP_A \
	"v=0\r\no=alice 2890844526 2890844526 IN IP4 127.0.0.2\r\ns=-\r\n" \
	"c=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0 101\r\n" \
	"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n" \
	"a=sendrecv\r\n"
#define SDP_A_HOLD \
	"v=0\r\no=alice 2890844526 2890844527 IN IP4 127.0.0.2\r\ns=-\r\n" \
	"c=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0 101\r\n" \
	"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n" \
	"a=sendonly\r\n"
#define SDP_B \
	"v=0\r\no=bob 1 1 IN IP4 127.0.0.3\r\ns=-\r\n" \
	"c=IN IP4 127.0.0.3\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0 101\r\n" \
	"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n" \
	"a=sendrecv\r\n"
#define SDP_B_HELD \
	"v=0\r\no=bob 1 2 IN IP4 127.0.0.3\r\ns=-\r\n" \
	"c=IN IP4 127.0.0.3\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0 101\r\n" \
	"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n" \
	"a=recvonly\r\n"

static void register_user(const char *user, const struct sip_peer *from,
			  const char *contact_host, int expires, int cseq)
{
	feed(from, NULL,
	     "REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP %s;branch=z9hG4bKreg%s%d;rport\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: <sip:%s@" DOMAIN ">;tag=r%s\r\n"
	     "To: <sip:%s@" DOMAIN ">\r\n"
	     "Call-ID: reg-%s@phone\r\n"
	     "CSeq: %d REGISTER\r\n"
	     "Contact: <sip:%s@%s>\r\n"
	     "Expires: %d\r\n",
	     contact_host, user, cseq, user, user, user, user,
	     cseq, user, contact_host, expires);
}

static void register_bob(void)
{
	struct cap *r;

	register_user("bob", &PB, "127.0.0.3:5064", 600, 1);
	r = take_resp(&PB, 200, "REGISTER", "bob's REGISTER");
	CHECK_TRUE(r != NULL, "200 to REGISTER");
	drain();
}

/* ---- a call -------------------------------------------------------------- */

struct tcall {
	char cid_a[64];          /* A's Call-ID */
	char tag_a[16];          /* A's From tag */
	char branch_a[48];       /* A's INVITE branch */
	uint32_t cseq_a;         /* A's last CSeq */
	char our_tag_a[64];      /* our To tag on leg A */
	char contact_a[256];     /* our Contact on leg A (A's requests go there) */
	char cid_b[256];         /* leg B's Call-ID (ours) */
	char our_tag_b[64];      /* our From tag on leg B */
	char tag_b[16];          /* B's To tag */
	uint32_t cseq_b;         /* B's last CSeq */
	int port_a, port_b;      /* relay ports in the SDP to A / to B */
	struct cap *inv_b;       /* the INVITE sent to B */
};

static unsigned call_seq;

/* The INVITE from A to `user` (in our domain), with sdp or without. */
static void invite_a(struct tcall *c, const char *user, const char *sdp,
		     int max_forwards, const char *extra)
{
	call_seq++;
	memset(c, 0, sizeof(*c));
	snprintf(c->cid_a, sizeof(c->cid_a), "callA-%u@127.0.0.2", call_seq);
	snprintf(c->tag_a, sizeof(c->tag_a), "ta%u", call_seq);
	snprintf(c->branch_a, sizeof(c->branch_a), "z9hG4bKinvA%u", call_seq);
	snprintf(c->tag_b, sizeof(c->tag_b), "tb%u", call_seq);
	c->cseq_a = 10;
	feed(&PA, sdp,
	     "INVITE sip:%s@" DOMAIN " SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=%s;rport\r\n"
	     "Record-Route: <sip:10.9.9.9;lr>\r\n"
	     "Max-Forwards: %d\r\n"
	     "From: \"Alice\" <sip:alice@" DOMAIN ">;tag=%s\r\n"
	     "To: <sip:%s@" DOMAIN ">\r\n"
	     "Call-ID: %s\r\n"
	     "CSeq: %u INVITE\r\n"
	     "Contact: <sip:alice@127.0.0.2:5062>\r\n"
	     "Supported: replaces\r\n"
	     "P-Asserted-Identity: <sip:alice@" DOMAIN ">\r\n"
	     "X-Foo: bar\r\n"
	     "X-Carrier-Id: 42\r\n"
	     "X-Secret: hush\r\n"
	     "User-Agent: phoneA\r\n"
	     "%s%s",
	     user, c->branch_a, max_forwards, c->tag_a, user, c->cid_a,
	     c->cseq_a, extra ? extra : "",
	     sdp ? "Content-Type: application/sdp\r\n" : "");
}

/* After invite_a: A's 100 and the INVITE on leg B, whose ids are kept. */
static struct cap *take_invite_b(struct tcall *c, const struct sip_peer *to)
{
	struct cap *t, *inv;

	t = take_resp(&PA, 100, "INVITE", "A's INVITE");
	CHECK_STR(branch_of(t->m), c->branch_a, "100 Trying: A's Via branch");
	CHECK_STR(cid_of(t->m), c->cid_a, "100 Trying: A's Call-ID");
	inv = take_req(to, "INVITE", "the INVITE on leg B");
	c->inv_b = inv;
	snprintf(c->cid_b, sizeof(c->cid_b), "%s", cid_of(inv->m));
	snprintf(c->our_tag_b, sizeof(c->our_tag_b), "%s",
		 tag_or_empty(inv->m->from));
	return inv;
}

/* B's 180 (with B's Record-Route and Contact) and A's copy of it. */
static void ring(struct tcall *c)
{
	struct cap *r;

	respond(&PB, c->inv_b->m, 180, "Ringing", c->tag_b,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n"
		"Record-Route: <sip:10.8.8.8;lr>\r\n", NULL);
	r = take_resp(&PA, 180, "INVITE", "B's 180");
	snprintf(c->our_tag_a, sizeof(c->our_tag_a), "%s",
		 tag_or_empty(r->m->to));
}

/* B's 200 with SDP; B's ACK and A's 200 are taken (early offer). */
static struct cap *answer(struct tcall *c)
{
	struct cap *ok, *ack;

	respond(&PB, c->inv_b->m, 200, "OK", c->tag_b,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n"
		"Record-Route: <sip:10.8.8.8;lr>\r\n", SDP_B);
	ack = take_req(&PB, "ACK", "the ACK of B's 200");
	CHECK_EQ(sipmsg_cseq(ack->m), sipmsg_cseq(c->inv_b->m),
		 "ACK to B: the INVITE's CSeq number");
	ok = take_resp(&PA, 200, "INVITE", "B's 200");
	snprintf(c->our_tag_a, sizeof(c->our_tag_a), "%s",
		 tag_or_empty(ok->m->to));
	snprintf(c->contact_a, sizeof(c->contact_a), "%s", contact_of(ok->m));
	return ok;
}

/* A request from A in leg A's dialog. */
static void a_request(struct tcall *c, const char *method, uint32_t cseq,
		      const char *extra, const char *body)
{
	feed(&PA, body,
	     "%s %s SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK%s%s%u;rport\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: \"Alice\" <sip:alice@" DOMAIN ">;tag=%s\r\n"
	     "To: <sip:bob@" DOMAIN ">;tag=%s\r\n"
	     "Call-ID: %s\r\n"
	     "CSeq: %u %s\r\n"
	     "%s",
	     method, c->contact_a[0] ? c->contact_a : "sip:" DOMAIN, method,
	     c->tag_a, cseq, c->tag_a, c->our_tag_a, c->cid_a, cseq,
	     method, extra ? extra : "");
}

/* A request from B in leg B's dialog. */
static void b_request(struct tcall *c, const char *method, uint32_t cseq,
		      const char *extra, const char *body)
{
	feed(&PB, body,
	     "%s sip:xrelay@%s SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.3:5064;branch=z9hG4bK%s%s%u;rport\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: <sip:bob@" DOMAIN ">;tag=%s\r\n"
	     "To: \"Alice\" <sip:alice@" DOMAIN ">;tag=%s\r\n"
	     "Call-ID: %s\r\n"
	     "CSeq: %u %s\r\n"
	     "%s",
	     method, RELAY, method, c->tag_b, cseq, c->tag_b, c->our_tag_b,
	     c->cid_b, cseq, method, extra ? extra : "");
}

/* A's CANCEL of its INVITE (the INVITE's branch, RFC 3261 9.1). */
static void cancel_a(const struct tcall *c)
{
	feed(&PA, NULL,
	     "CANCEL sip:bob@" DOMAIN " SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=%s;rport\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: \"Alice\" <sip:alice@" DOMAIN ">;tag=%s\r\n"
	     "To: <sip:bob@" DOMAIN ">\r\n"
	     "Call-ID: %s\r\nCSeq: %u CANCEL\r\n",
	     c->branch_a, c->tag_a, c->cid_a, c->cseq_a);
}

/* A's ACK of a failure response to its INVITE (same branch, hop by hop). */
static void ack_failure_a(const struct tcall *c, const struct cap *resp)
{
	feed(&PA, NULL,
	     "ACK %s SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=%s;rport\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: \"Alice\" <sip:alice@" DOMAIN ">;tag=%s\r\n"
	     "To: %s\r\n"
	     "Call-ID: %s\r\nCSeq: %u ACK\r\n",
	     uri_of(resp->m->to->url), c->branch_a, c->tag_a,
	     to_str_of(resp->m), c->cid_a, c->cseq_a);
}

struct calls_seen {
	int n;
	struct b2bua_call_info ci[4];
};

static int collect(const struct b2bua_call_info *ci, void *arg)
{
	struct calls_seen *s = arg;

	if (s->n < 4)
		s->ci[s->n] = *ci;
	s->n++;
	return 0;
}

static struct calls_seen calls(void)
{
	struct calls_seen s;

	memset(&s, 0, sizeof(s));
	b2bua_foreach_call(F.b, collect, &s);
	return s;
}

/* A whole call up to CALL_UP (early offer). */
static void call_up(struct tcall *c)
{
	struct calls_seen s;

	register_bob();
	invite_a(c, "bob", SDP_A, 70, NULL);
	take_invite_b(c, &PB);
	ring(c);
	answer(c);
	a_request(c, "ACK", c->cseq_a, NULL, NULL);
	expect_nothing("A's ACK of the 200");
	s = calls();
	CHECK_EQ(s.n, 1, "one call");
	CHECK_EQ(s.ci[0].phase, CALL_UP, "the call is up after A's ACK");
	drain();
}

/* Tick until every call is freed (an ended call waits for its last
 * transactions; with T1 = 1 ms that is 64 ms at most). */
static int wait_calls_gone(void)
{
	struct timespec ts = { 0, 2 * 1000000 };

	for (int i = 0; i < 200; i++) {
		if (calls().n == 0)
			return 1;
		b2bua_tick(F.b);
		nanosleep(&ts, NULL);
	}
	return calls().n == 0;
}

/* The whole CDR file. */
static char *cdr_text(void)
{
	static char buf[16384];
	FILE *f = fopen(F.cdr_path, "r");
	size_t n = 0;

	buf[0] = 0;
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return buf;
}

static int cdr_lines(void)
{
	int n = 0;

	for (const char *p = cdr_text(); *p; p++)
		n += *p == '\n';
	return n;
}

static void check_cdr(const struct tcall *c, const char *reason,
		      const char *by, int status)
{
	char *t = cdr_text(), want[320];

	CHECK_EQ(cdr_lines(), 1, "one CDR line");
	snprintf(want, sizeof(want), "\"call_id_a\":\"%s\"", c->cid_a);
	CHECK_HAS(t, want, "CDR: A's Call-ID");
	snprintf(want, sizeof(want), "\"call_id_b\":\"%s\"", c->cid_b);
	CHECK_HAS(t, want, "CDR: B's Call-ID");
	snprintf(want, sizeof(want), "\"end_reason\":\"%s\"", reason);
	CHECK_HAS(t, want, "CDR: end reason");
	snprintf(want, sizeof(want), "\"hangup_by\":\"%s\"", by);
	CHECK_HAS(t, want, "CDR: who hung up");
	snprintf(want, sizeof(want), "\"final_status\":%d", status);
	CHECK_HAS(t, want, "CDR: final status");
	CHECK_HAS(t, "sip:alice@" DOMAIN, "CDR: from");
	CHECK_HAS(t, "sip:bob@" DOMAIN, "CDR: to");
}

/* ---- REGISTER ------------------------------------------------------------ */

static void test_register(void **state)
{
	struct cap *r;
	struct reg_contact rc[2];

	(void)state;
	register_user("bob", &PB, "127.0.0.3:5064", 600, 1);
	r = take_resp(&PB, 200, "REGISTER", "REGISTER of bob");
	CHECK_STR(cid_of(r->m), "reg-bob@phone", "200: the Call-ID");
	CHECK_STR(branch_of(r->m), "z9hG4bKregbob1", "200: the Via branch");
	CHECK_TRUE(sipmsg_tag(r->m->to) != NULL, "200: a To tag");
	CHECK_STR(contact_of(r->m), "sip:bob@127.0.0.3:5064", "200: the Contact");
	CHECK_HAS(r->buf, ";expires=600", "200: the Contact's expires");
	CHECK_EQ(registrar_lookup(F.reg, "bob@" DOMAIN, 0, rc, 2), 1,
		 "the binding is in the registrar");
	expect_nothing("after REGISTER");

	/* Above the maximum: cut to it. */
	register_user("bob", &PB, "127.0.0.3:5064", 99999, 2);
	r = take_resp(&PB, 200, "REGISTER", "REGISTER with a long expiry");
	CHECK_HAS(r->buf, ";expires=3600", "200: expires cut to the maximum");

	/* Another domain: not ours. */
	feed(&PB, NULL,
	     "REGISTER sip:other.example SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.3:5064;branch=z9hG4bKregother\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: <sip:bob@other.example>;tag=ro\r\n"
	     "To: <sip:bob@other.example>\r\n"
	     "Call-ID: reg-other\r\nCSeq: 1 REGISTER\r\n"
	     "Contact: <sip:bob@127.0.0.3:5064>\r\nExpires: 600\r\n");
	take_resp(&PB, 403, "REGISTER", "REGISTER for another domain");

	/* Below the minimum: 423 with Min-Expires. */
	register_user("carol", &PB, "127.0.0.3:5066", 10, 1);
	r = take_resp(&PB, 423, "REGISTER", "REGISTER below the minimum");
	CHECK_STR(sipmsg_header(r->m, "min-expires"), "60", "423: Min-Expires");
	CHECK_EQ(registrar_lookup(F.reg, "carol@" DOMAIN, 0, rc, 2), 0,
		 "no binding for carol");

	/* A second contact, then "Contact: *" with Expires 0 removes both. */
	register_user("bob", &PB, "127.0.0.3:5064", 600, 4);
	register_user("bob", &PB, "127.0.0.3:5070", 600, 5);
	r = take_resp(&PB, 200, "REGISTER", "the first contact");
	r = take_resp(&PB, 200, "REGISTER", "the second contact");
	CHECK_HAS(r->buf, "<sip:bob@127.0.0.3:5064>", "200 lists the first");
	CHECK_HAS(r->buf, "<sip:bob@127.0.0.3:5070>", "200 lists the second");
	CHECK_EQ(registrar_lookup(F.reg, "bob@" DOMAIN, 0, rc, 2), 2,
		 "two bindings");
	feed(&PB, NULL,
	     "REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.3:5064;branch=z9hG4bKregstar\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: <sip:bob@" DOMAIN ">;tag=rs\r\n"
	     "To: <sip:bob@" DOMAIN ">\r\n"
	     "Call-ID: reg-bob@phone\r\nCSeq: 6 REGISTER\r\n"
	     "Contact: *\r\nExpires: 0\r\n");
	r = take_resp(&PB, 200, "REGISTER", "REGISTER with Contact: *");
	CHECK_EQ(registrar_lookup(F.reg, "bob@" DOMAIN, 0, rc, 2), 0,
		 "Contact: * removed every binding");
	register_user("bob", &PB, "127.0.0.3:5064", 600, 7);
	take_resp(&PB, 200, "REGISTER", "bob again");

	/* Expires 0: un-register. */
	register_user("bob", &PB, "127.0.0.3:5064", 0, 8);
	r = take_resp(&PB, 200, "REGISTER", "un-REGISTER");
	CHECK_TRUE(strstr(r->buf, "Contact:") == NULL,
		   "200 of an un-REGISTER lists no binding");
	CHECK_EQ(registrar_lookup(F.reg, "bob@" DOMAIN, 0, rc, 2), 0,
		 "bob's binding is gone");
	expect_nothing("after the REGISTERs");
}

/* ---- the INVITE across --------------------------------------------------- */

static void test_invite_headers(void **state)
{
	struct tcall c;
	struct cap *inv;
	osip_message_t *m;
	char want[128];

	(void)state;
	register_bob();
	invite_a(&c, "bob", SDP_A, 70, NULL);
	inv = take_invite_b(&c, &PB);
	m = inv->m;
	CHECK_STR(uri_of(m->req_uri), "sip:bob@127.0.0.3:5064",
		  "B's INVITE: Request-URI is bob's registered contact");
	/* Fresh identity. */
	CHECK_TRUE(strcmp(cid_of(m), c.cid_a) != 0, "B: a new Call-ID");
	CHECK_TRUE(c.our_tag_b[0] && strcmp(c.our_tag_b, c.tag_a) != 0,
		   "B: a new From tag");
	CHECK_TRUE(sipmsg_tag(m->to) == NULL, "B: no To tag");
	CHECK_EQ(osip_list_size(&m->vias), 1, "B: one Via, ours");
	CHECK_STR(via_host(m), "127.0.0.1", "B: Via host is the relay");
	CHECK_EQ(via_port(m), sip_port, "B: Via port is the relay's");
	CHECK_TRUE(!strncmp(branch_of(m), "z9hG4bK", 7) &&
		   strcmp(branch_of(m), c.branch_a) != 0,
		   "B: a new z9hG4bK branch");
	snprintf(want, sizeof(want), "sip:xrelay@%s", RELAY);
	CHECK_STR(contact_of(m), want, "B: Contact is the relay");
	CHECK_EQ(osip_list_size(&m->contacts), 1, "B: one Contact");
	CHECK_STR(m->cseq->method, "INVITE", "B: CSeq method");
	CHECK_EQ(sipmsg_cseq(m), 1, "B: CSeq in B's own space");
	CHECK_EQ(osip_list_size(&m->record_routes), 0, "B: no Record-Route");
	CHECK_EQ(osip_list_size(&m->routes), 0, "B: no Route");
	/* Kept. */
	CHECK_STR(uri_of(m->from->url), "sip:alice@" DOMAIN, "B: From URI");
	CHECK_STR(m->from->displayname, "\"Alice\"", "B: From display name");
	CHECK_STR(uri_of(m->to->url), "sip:bob@" DOMAIN, "B: To URI");
	CHECK_EQ(sipmsg_max_forwards(m), 69, "B: Max-Forwards is A's minus one");
	/* Pass-through headers. */
	CHECK_STR(sipmsg_header(m, "p-asserted-identity"),
		  "<sip:alice@" DOMAIN ">", "B: P-Asserted-Identity passed");
	CHECK_STR(sipmsg_header(m, "x-foo"), "bar", "B: X-Foo passed");
	CHECK_STR(sipmsg_header(m, "x-carrier-id"), "42",
		  "B: X-Carrier-Id passed (prefix X-Carrier-*)");
	CHECK_TRUE(sipmsg_header(m, "x-secret") == NULL, "B: no X-Secret");
	CHECK_STR(sipmsg_header(m, "user-agent"), "xrelay",
		  "B: our User-Agent, not A's");
	/* Nothing of A's leg anywhere in the bytes. */
	CHECK_TRUE(!strstr(inv->buf, "127.0.0.2"), "B: no trace of A's address");
	CHECK_TRUE(!strstr(inv->buf, c.cid_a), "B: no trace of A's Call-ID");
	CHECK_TRUE(!strstr(inv->buf, c.branch_a), "B: no trace of A's branch");
	CHECK_TRUE(!strstr(inv->buf, "tag=ta"), "B: no trace of A's tag");
	CHECK_TRUE(!strstr(inv->buf, "10.9.9.9"), "B: no trace of A's Record-Route");
	CHECK_TRUE(!strstr(inv->buf, "hush"), "B: no trace of X-Secret");
	CHECK_TRUE(!strstr(inv->buf, "phoneA"), "B: no trace of A's User-Agent");
	/* SDP onto the relay. */
	CHECK_STR(ctype_of(m), "application/sdp", "B: Content-Type");
	check_relay_sdp(body_of(m), "B's INVITE");
	CHECK_HAS(body_of(m), "a=rtpmap:101 telephone-event/8000",
		  "B's INVITE: codecs kept");
	CHECK_HAS(body_of(m), "a=sendrecv", "B's INVITE: direction kept");
	expect_nothing("after the INVITE");

	{
		struct calls_seen s = calls();

		CHECK_EQ(s.n, 1, "one call");
		CHECK_EQ(s.ci[0].phase, CALL_SETUP, "phase setup");
		CHECK_STR(s.ci[0].call_id_a, c.cid_a, "call info: A's Call-ID");
		CHECK_STR(s.ci[0].call_id_b, c.cid_b, "call info: B's Call-ID");
	}
}

static void test_answer(void **state)
{
	struct tcall c;
	struct cap *r, *ack, *ok;
	struct calls_seen s;
	char want[128];

	(void)state;
	register_bob();
	invite_a(&c, "bob", SDP_A, 70, NULL);
	take_invite_b(&c, &PB);

	/* 180: our tag and Contact on leg A, nothing of B's. */
	respond(&PB, c.inv_b->m, 180, "Ringing", c.tag_b,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n"
		"Record-Route: <sip:10.8.8.8;lr>\r\n"
		"X-Foo: ringing\r\nX-Secret: b-secret\r\n", NULL);
	r = take_resp(&PA, 180, "INVITE", "B's 180");
	snprintf(c.our_tag_a, sizeof(c.our_tag_a), "%s", tag_or_empty(r->m->to));
	CHECK_TRUE(c.our_tag_a[0] != 0, "180 to A: a To tag");
	CHECK_TRUE(strcmp(c.our_tag_a, c.tag_b) != 0, "180 to A: our tag, not B's");
	CHECK_STR(cid_of(r->m), c.cid_a, "180 to A: A's Call-ID");
	CHECK_STR(branch_of(r->m), c.branch_a, "180 to A: A's Via branch");
	CHECK_EQ(osip_list_size(&r->m->vias), 1, "180 to A: A's one Via");
	CHECK_EQ(sipmsg_cseq(r->m), 10, "180 to A: A's CSeq");
	CHECK_STR(tag_or_empty(r->m->from), c.tag_a, "180 to A: A's From tag");
	snprintf(want, sizeof(want), "sip:xrelay@%s", RELAY);
	CHECK_STR(contact_of(r->m), want, "180 to A: Contact is the relay");
	CHECK_EQ(osip_list_size(&r->m->record_routes), 0,
		 "180 to A: no Record-Route");
	CHECK_STR(sipmsg_header(r->m, "x-foo"), "ringing", "180 to A: X-Foo");
	CHECK_TRUE(!strstr(r->buf, "127.0.0.3"), "180 to A: no trace of B");
	CHECK_TRUE(!strstr(r->buf, c.cid_b), "180 to A: no B Call-ID");
	CHECK_TRUE(!strstr(r->buf, "10.8.8.8"), "180 to A: no B Record-Route");
	CHECK_TRUE(!strstr(r->buf, "b-secret"), "180 to A: no X-Secret");
	CHECK_TRUE(body_of(r->m) == NULL, "180 to A: no body");
	expect_nothing("after the 180");
	s = calls();
	CHECK_EQ(s.ci[0].phase, CALL_EARLY, "phase early after B's 180");

	/* 200: B gets its ACK, A the 200 with SDP on the relay. */
	respond(&PB, c.inv_b->m, 200, "OK", c.tag_b,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n"
		"Record-Route: <sip:10.8.8.8;lr>\r\n", SDP_B);
	ack = take_req(&PB, "ACK", "ACK of B's 200");
	CHECK_STR(ack->m->cseq->method, "ACK", "ACK to B: CSeq method");
	CHECK_EQ(sipmsg_cseq(ack->m), sipmsg_cseq(c.inv_b->m),
		 "ACK to B: CSeq number is the INVITE's");
	CHECK_STR(tag_or_empty(ack->m->to), c.tag_b, "ACK to B: B's To tag");
	CHECK_STR(tag_or_empty(ack->m->from), c.our_tag_b,
		  "ACK to B: our From tag");
	CHECK_STR(cid_of(ack->m), c.cid_b, "ACK to B: B's Call-ID");
	CHECK_STR(uri_of(ack->m->req_uri), "sip:bob@127.0.0.3:5064",
		  "ACK to B: Request-URI is B's Contact");
	CHECK_TRUE(strcmp(branch_of(ack->m), branch_of(c.inv_b->m)) != 0,
		   "ACK of a 2xx: a new branch");
	CHECK_EQ(osip_list_size(&ack->m->routes), 1, "ACK to B: B's route set");
	CHECK_HAS(ack->buf, "Route: <sip:10.8.8.8;lr>", "ACK to B: the Route");
	CHECK_TRUE(body_of(ack->m) == NULL, "ACK to B: no body (early offer)");

	ok = take_resp(&PA, 200, "INVITE", "B's 200");
	CHECK_STR(tag_or_empty(ok->m->to), c.our_tag_a,
		  "200 to A: the same To tag as the 180");
	CHECK_STR(cid_of(ok->m), c.cid_a, "200 to A: A's Call-ID");
	CHECK_STR(contact_of(ok->m), want, "200 to A: Contact is the relay");
	CHECK_EQ(osip_list_size(&ok->m->record_routes), 0,
		 "200 to A: no Record-Route");
	c.port_a = check_relay_sdp(body_of(ok->m), "200 to A");
	c.port_b = sdp_audio_port(body_of(c.inv_b->m));
	CHECK_TRUE(c.port_a != c.port_b,
		   "the relay uses a port per leg");
	CHECK_TRUE(!strstr(ok->buf, "127.0.0.3"), "200 to A: no trace of B");
	CHECK_TRUE(!strstr(ok->buf, "30000"), "200 to A: not B's media port");
	snprintf(c.contact_a, sizeof(c.contact_a), "%s", contact_of(ok->m));
	expect_nothing("after the 200");
	s = calls();
	CHECK_TRUE(s.ci[0].answer_us != 0, "the call has an answer time");

	/* B's 200 again (our ACK was lost): the same ACK again, A nothing. */
	respond(&PB, c.inv_b->m, 200, "OK", c.tag_b,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n"
		"Record-Route: <sip:10.8.8.8;lr>\r\n", SDP_B);
	r = take_req(&PB, "ACK", "ACK of B's retransmitted 200");
	CHECK_STR(branch_of(r->m), branch_of(ack->m), "the same ACK again");
	expect_nothing("after B's retransmitted 200");

	/* A's ACK: the call is up, nothing sent. */
	a_request(&c, "ACK", c.cseq_a, NULL, NULL);
	expect_nothing("A's ACK");
	s = calls();
	CHECK_EQ(s.n, 1, "one call");
	CHECK_EQ(s.ci[0].phase, CALL_UP, "phase up after A's ACK");
}

/* ---- BYE ----------------------------------------------------------------- */

static void test_bye_from_a(void **state)
{
	struct tcall c;
	struct cap *r, *bye;
	struct b2bua_stats st;

	(void)state;
	call_up(&c);
	a_request(&c, "BYE", ++c.cseq_a, NULL, NULL);
	r = take_resp(&PA, 200, "BYE", "A's BYE");
	CHECK_STR(cid_of(r->m), c.cid_a, "200 to A's BYE: A's Call-ID");
	bye = take_req(&PB, "BYE", "BYE on leg B");
	CHECK_STR(cid_of(bye->m), c.cid_b, "BYE to B: B's Call-ID");
	CHECK_STR(tag_or_empty(bye->m->from), c.our_tag_b,
		  "BYE to B: our From tag");
	CHECK_STR(tag_or_empty(bye->m->to), c.tag_b, "BYE to B: B's To tag");
	CHECK_EQ(sipmsg_cseq(bye->m), sipmsg_cseq(c.inv_b->m) + 1,
		 "BYE to B: CSeq is the INVITE's + 1");
	CHECK_STR(uri_of(bye->m->req_uri), "sip:bob@127.0.0.3:5064",
		  "BYE to B: Request-URI is B's Contact");
	CHECK_HAS(bye->buf, "Route: <sip:10.8.8.8;lr>", "BYE to B: B's route set");
	CHECK_TRUE(!strstr(bye->buf, "127.0.0.2"), "BYE to B: no trace of A");
	CHECK_TRUE(!strstr(bye->buf, c.cid_a), "BYE to B: no A Call-ID");
	expect_nothing("after the BYE");
	b2bua_stats(F.b, &st);
	CHECK_EQ(st.calls_active, 0, "no active call once BYE is in");
	check_cdr(&c, "bye", "caller", 200);

	respond(&PB, bye->m, 200, "OK", NULL, NULL, NULL);
	expect_nothing("B's 200 to BYE");
	CHECK_TRUE(wait_calls_gone(), "the call is gone after B's 200");
	CHECK_EQ(cdr_lines(), 1, "still one CDR line");
}

static void test_bye_from_b(void **state)
{
	struct tcall c;
	struct cap *r, *bye;

	(void)state;
	call_up(&c);
	c.cseq_b = 1;
	b_request(&c, "BYE", c.cseq_b, NULL, NULL);
	r = take_resp(&PB, 200, "BYE", "B's BYE");
	CHECK_STR(cid_of(r->m), c.cid_b, "200 to B's BYE: B's Call-ID");
	bye = take_req(&PA, "BYE", "BYE on leg A");
	CHECK_STR(cid_of(bye->m), c.cid_a, "BYE to A: A's Call-ID");
	CHECK_STR(tag_or_empty(bye->m->from), c.our_tag_a,
		  "BYE to A: From tag is our leg A tag");
	CHECK_STR(tag_or_empty(bye->m->to), c.tag_a, "BYE to A: A's tag in To");
	CHECK_STR(uri_of(bye->m->from->url), "sip:bob@" DOMAIN,
		  "BYE to A: From URI is the callee's");
	CHECK_STR(uri_of(bye->m->to->url), "sip:alice@" DOMAIN,
		  "BYE to A: To URI is the caller's");
	CHECK_STR(uri_of(bye->m->req_uri), "sip:alice@127.0.0.2:5062",
		  "BYE to A: Request-URI is A's Contact");
	CHECK_HAS(bye->buf, "Route: <sip:10.9.9.9;lr>", "BYE to A: A's route set");
	CHECK_TRUE(!strstr(bye->buf, "127.0.0.3"), "BYE to A: no trace of B");
	CHECK_TRUE(!strstr(bye->buf, c.cid_b), "BYE to A: no B Call-ID");
	CHECK_TRUE(sipmsg_cseq(bye->m) >= 1, "BYE to A: a CSeq in our space");
	expect_nothing("after B's BYE");
	check_cdr(&c, "bye", "callee", 200);

	respond(&PA, bye->m, 200, "OK", NULL, NULL, NULL);
	expect_nothing("A's 200 to BYE");
	CHECK_TRUE(wait_calls_gone(), "the call is gone after A's 200");
	drain();

	/* A BYE of the same call again (its 200 was lost): 481 now. */
	a_request(&c, "BYE", ++c.cseq_a, NULL, NULL);
	take_resp(&PA, 481, "BYE", "BYE of a call that is gone");
}

/* BYE from A in the early dialog (RFC 3261 15, 15.1.2): 200 to the BYE,
 * 487 to the INVITE, CANCEL to B. */
static void test_bye_early(void **state)
{
	struct tcall c;
	struct cap *r;

	(void)state;
	register_bob();
	invite_a(&c, "bob", SDP_A, 70, NULL);
	take_invite_b(&c, &PB);
	ring(&c);
	a_request(&c, "BYE", ++c.cseq_a, NULL, NULL);
	take_resp(&PA, 200, "BYE", "A's BYE in the early dialog");
	r = take_resp(&PA, 487, "INVITE", "A's INVITE after its BYE");
	CHECK_STR(tag_or_empty(r->m->to), c.our_tag_a, "487: the 180's tag");
	take_req(&PB, "CANCEL", "CANCEL to B");
	expect_nothing("after the early BYE");
	check_cdr(&c, "bye", "caller", 487);
}

/* ---- CANCEL and failures ------------------------------------------------- */

static void test_cancel(void **state)
{
	struct tcall c;
	struct cap *r, *r487, *cancel;

	(void)state;
	register_bob();
	invite_a(&c, "bob", SDP_A, 70, NULL);
	take_invite_b(&c, &PB);
	ring(&c);
	expect_nothing("after the 180");

	cancel_a(&c);
	r = take_resp(&PA, 200, "CANCEL", "A's CANCEL");
	CHECK_STR(branch_of(r->m), c.branch_a, "200 (CANCEL): A's branch");
	r = r487 = take_resp(&PA, 487, "INVITE", "A's cancelled INVITE");
	CHECK_STR(tag_or_empty(r->m->to), c.our_tag_a,
		  "487: the tag of our 180");
	cancel = take_req(&PB, "CANCEL", "CANCEL on leg B");
	CHECK_STR(branch_of(cancel->m), branch_of(c.inv_b->m),
		  "CANCEL to B: the INVITE's branch");
	CHECK_STR(cid_of(cancel->m), c.cid_b, "CANCEL to B: B's Call-ID");
	CHECK_EQ(sipmsg_cseq(cancel->m), sipmsg_cseq(c.inv_b->m),
		 "CANCEL to B: the INVITE's CSeq number");
	CHECK_STR(uri_of(cancel->m->req_uri), uri_of(c.inv_b->m->req_uri),
		  "CANCEL to B: the INVITE's Request-URI");
	CHECK_TRUE(sipmsg_tag(cancel->m->to) == NULL, "CANCEL to B: no To tag");
	expect_nothing("after the CANCEL");
	check_cdr(&c, "cancel", "caller", 487);

	/* B: 200 to the CANCEL, 487 to the INVITE (which we ACK). */
	respond(&PB, cancel->m, 200, "OK", c.tag_b, NULL, NULL);
	respond(&PB, c.inv_b->m, 487, "Request Terminated", c.tag_b, NULL, NULL);
	r = take_req(&PB, "ACK", "ACK of B's 487");
	CHECK_STR(branch_of(r->m), branch_of(c.inv_b->m),
		  "ACK of a non-2xx: the INVITE's branch");
	expect_nothing("after B's 487");
	/* A's ACK of the 487 is the transaction layer's. */
	ack_failure_a(&c, r487);
	expect_nothing("A's ACK of the 487");
	CHECK_TRUE(wait_calls_gone(), "the cancelled call is gone");
	CHECK_EQ(cdr_lines(), 1, "one CDR line");
}

static void failure_case(int b_status, const char *reason, int a_status)
{
	struct tcall c;
	struct cap *r;
	char what[96];

	invite_a(&c, "bob", SDP_A, 70, NULL);
	take_invite_b(&c, &PB);
	respond(&PB, c.inv_b->m, b_status, reason, c.tag_b,
		b_status == 407 ?
		"Proxy-Authenticate: Digest realm=\"b.example\", nonce=\"x\"\r\n" :
		b_status == 486 ? "Retry-After: 30\r\n" : NULL, NULL);
	snprintf(what, sizeof(what), "B's %d", b_status);
	r = take_req(&PB, "ACK", what);
	CHECK_STR(branch_of(r->m), branch_of(c.inv_b->m),
		  "ACK of B's failure: the INVITE's branch");
	r = take_resp(&PA, a_status, "INVITE", what);
	CHECK_STR(cid_of(r->m), c.cid_a, "failure to A: A's Call-ID");
	CHECK_TRUE(sipmsg_tag(r->m->to) != NULL, "failure to A: a To tag");
	CHECK_TRUE(!strstr(r->buf, "b.example"),
		   "failure to A: no B challenge");
	CHECK_TRUE(!strstr(r->buf, c.tag_b), "failure to A: no B tag");
	expect_nothing(what);
	ack_failure_a(&c, r);
	expect_nothing("A's ACK of the failure");
	CHECK_TRUE(wait_calls_gone(), "the failed call is gone");
	drain(); /* retransmissions of the unacknowledged failure */
}

static void test_failures(void **state)
{
	char *t;

	(void)state;
	register_bob();
	failure_case(486, "Busy Here", 486);
	failure_case(503, "Service Unavailable", 500);
	failure_case(407, "Proxy Authentication Required", 403);
	failure_case(404, "Not Found", 404);
	failure_case(302, "Moved Temporarily", 480);
	failure_case(603, "Decline", 603);
	CHECK_EQ(cdr_lines(), 6, "a CDR line for every failed call");
	t = cdr_text();
	CHECK_HAS(t, "\"end_reason\":\"failed\"", "CDR: failed");
	CHECK_HAS(t, "\"final_status\":486", "CDR: 486");
	CHECK_HAS(t, "\"final_status\":500", "CDR: 503 mapped to 500");
	CHECK_HAS(t, "\"hangup_by\":\"callee\"", "CDR: the callee ended it");
}

/* After A's CANCEL, B's first provisional response: only then the CANCEL
 * goes to B (RFC 3261 9.1). */
static void test_cancel_before_1xx(void **state)
{
	struct tcall c;
	struct cap *r487, *cancel;

	(void)state;
	register_bob();
	invite_a(&c, "bob", SDP_A, 70, NULL);
	take_invite_b(&c, &PB);
	cancel_a(&c);
	take_resp(&PA, 200, "CANCEL", "A's CANCEL");
	r487 = take_resp(&PA, 487, "INVITE", "A's cancelled INVITE");
	CHECK_TRUE(!sent(&PB, "CANCEL", 0), "no CANCEL before B's 1xx");
	expect_nothing("after the CANCEL");
	ack_failure_a(&c, r487);

	respond(&PB, c.inv_b->m, 180, "Ringing", c.tag_b, NULL, NULL);
	cancel = take_req(&PB, "CANCEL", "CANCEL at B's 180");
	CHECK_STR(branch_of(cancel->m), branch_of(c.inv_b->m),
		  "CANCEL to B: the INVITE's branch");
	expect_nothing("B's 180 after the CANCEL: nothing to A");
	respond(&PB, cancel->m, 200, "OK", c.tag_b, NULL, NULL);
	respond(&PB, c.inv_b->m, 487, "Request Terminated", c.tag_b, NULL, NULL);
	take_req(&PB, "ACK", "ACK of B's 487");
	expect_nothing("after B's 487");
	check_cdr(&c, "cancel", "caller", 487);
	CHECK_TRUE(wait_calls_gone(), "the cancelled call is gone");
}

/* B answers while our CANCEL is on its way: B gets ACK and BYE. */
static void test_answer_after_cancel(void **state)
{
	struct tcall c;
	struct cap *cancel, *bye;

	(void)state;
	register_bob();
	invite_a(&c, "bob", SDP_A, 70, NULL);
	take_invite_b(&c, &PB);
	ring(&c);
	cancel_a(&c);
	take_resp(&PA, 200, "CANCEL", "A's CANCEL");
	take_resp(&PA, 487, "INVITE", "A's cancelled INVITE");
	cancel = take_req(&PB, "CANCEL", "CANCEL to B");
	respond(&PB, c.inv_b->m, 200, "OK", c.tag_b,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n", SDP_B);
	take_req(&PB, "ACK", "ACK of B's late 200");
	bye = take_req(&PB, "BYE", "BYE of B's late 200");
	CHECK_STR(tag_or_empty(bye->m->to), c.tag_b, "BYE to B: B's tag");
	CHECK_STR(cid_of(bye->m), c.cid_b, "BYE to B: B's Call-ID");
	expect_nothing("after B's late 200: nothing to A");
	respond(&PB, cancel->m, 200, "OK", c.tag_b, NULL, NULL);
	respond(&PB, bye->m, 200, "OK", NULL, NULL, NULL);
	expect_nothing("after B's 200s");
	CHECK_EQ(cdr_lines(), 1, "one CDR line");
}

/* Early media: B's 183 with SDP reaches A rewritten, the 200 after it
 * repeats the same answer. */
static void test_early_media(void **state)
{
	struct tcall c;
	struct cap *r, *ok;
	int port;

	(void)state;
	register_bob();
	invite_a(&c, "bob", SDP_A, 70, NULL);
	take_invite_b(&c, &PB);
	respond(&PB, c.inv_b->m, 183, "Session Progress", c.tag_b,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n", SDP_B);
	r = take_resp(&PA, 183, "INVITE", "B's 183 with SDP");
	port = check_relay_sdp(body_of(r->m), "183 to A");
	CHECK_TRUE(!strstr(r->buf, "127.0.0.3"), "183 to A: no trace of B");
	CHECK_EQ(calls().ci[0].phase, CALL_EARLY, "early");
	expect_nothing("after the 183");

	respond(&PB, c.inv_b->m, 200, "OK", c.tag_b,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n", SDP_B);
	take_req(&PB, "ACK", "ACK of B's 200");
	ok = take_resp(&PA, 200, "INVITE", "B's 200");
	CHECK_EQ(check_relay_sdp(body_of(ok->m), "200 to A"), port,
		 "200 to A: the port of the early media");
	expect_nothing("after the 200");

	/* A 200 without SDP after early media: the early answer stands. */
	invite_a(&c, "bob", SDP_A, 70, NULL);
	take_invite_b(&c, &PB);
	respond(&PB, c.inv_b->m, 183, "Session Progress", c.tag_b,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n", SDP_B);
	r = take_resp(&PA, 183, "INVITE", "the second call's 183");
	port = check_relay_sdp(body_of(r->m), "183 to A");
	respond(&PB, c.inv_b->m, 200, "OK", c.tag_b,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n", NULL);
	take_req(&PB, "ACK", "ACK of B's 200 without SDP");
	ok = take_resp(&PA, 200, "INVITE", "B's 200 without SDP");
	CHECK_EQ(check_relay_sdp(body_of(ok->m), "200 to A"), port,
		 "200 to A: the early answer again");
}

/* Serial forking over bob's two contacts: a 480 from the first moves on
 * to the second (same B dialog identity, a new INVITE); a 486 stops. */
static void test_serial_fork(void **state)
{
	struct sip_peer PB2 = fx_peer("127.0.0.4:5066");
	struct sip_peer *first, *second;
	struct tcall c;
	struct cap *inv1, *inv2, *ok;

	(void)state;
	register_user("bob", &PB, "127.0.0.3:5064", 600, 1);
	register_user("bob", &PB2, "127.0.0.4:5066", 600, 2);
	drain();
	invite_a(&c, "bob", SDP_A, 70, NULL);
	take_resp(&PA, 100, "INVITE", "A's INVITE");
	first = sent(&PB, "INVITE", 0) ? &PB : &PB2;
	second = first == &PB ? &PB2 : &PB;
	inv1 = take_req(first, "INVITE", "INVITE to the first contact");
	CHECK_TRUE(!sent(second, "INVITE", 0), "one contact at a time");
	c.inv_b = inv1;
	respond(first, inv1->m, 480, "Temporarily Unavailable", "x1", NULL, NULL);
	take_req(first, "ACK", "ACK of the first contact's 480");
	inv2 = take_req(second, "INVITE", "INVITE to the second contact");
	CHECK_STR(cid_of(inv2->m), cid_of(inv1->m), "the same B Call-ID");
	CHECK_STR(tag_or_empty(inv2->m->from), tag_or_empty(inv1->m->from),
		  "the same From tag");
	CHECK_EQ(sipmsg_cseq(inv2->m), sipmsg_cseq(inv1->m) + 1, "CSeq + 1");
	CHECK_TRUE(strcmp(branch_of(inv2->m), branch_of(inv1->m)) != 0,
		   "a new branch");
	CHECK_EQ(sdp_audio_port(body_of(inv2->m)),
		 sdp_audio_port(body_of(inv1->m)), "the same offer");
	expect_nothing("A hears nothing of the 480");
	respond(second, inv2->m, 200, "OK", "x2",
		"Contact: <sip:bob@127.0.0.9:5099>\r\n", SDP_B);
	take_req(second, "ACK", "ACK of the second contact's 200");
	ok = take_resp(&PA, 200, "INVITE", "the second contact's 200");
	check_relay_sdp(body_of(ok->m), "200 to A");
	expect_nothing("after the 200");

	/* A 486 from the first contact ends the search. */
	invite_a(&c, "bob", SDP_A, 70, NULL);
	take_resp(&PA, 100, "INVITE", "A's second INVITE");
	first = sent(&PB, "INVITE", 0) ? &PB : &PB2;
	inv1 = take_req(first, "INVITE", "the second call's first INVITE");
	respond(first, inv1->m, 486, "Busy Here", "x3", NULL, NULL);
	take_req(first, "ACK", "ACK of the 486");
	take_resp(&PA, 486, "INVITE", "486 to A");
	expect_nothing("no second contact after a 486");
}

/* ---- late offer ---------------------------------------------------------- */

static void test_late_offer(void **state)
{
	struct tcall c;
	struct cap *inv, *ok, *ack;
	struct calls_seen s;
	int port_b;

	(void)state;
	register_bob();
	invite_a(&c, "bob", NULL, 70, NULL);
	inv = take_invite_b(&c, &PB);
	CHECK_TRUE(body_of(inv->m) == NULL, "late offer: B's INVITE has no body");
	CHECK_HAS(inv->buf, "Content-Length: 0", "late offer: Content-Length 0");
	ring(&c);

	respond(&PB, inv->m, 200, "OK", c.tag_b,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n", SDP_B);
	ok = take_resp(&PA, 200, "INVITE", "B's 200 with the offer");
	check_relay_sdp(body_of(ok->m), "200 to A (the offer)");
	CHECK_TRUE(!strstr(ok->buf, "127.0.0.3"), "200 to A: no trace of B");
	CHECK_TRUE(!sent(&PB, "ACK", 0), "no ACK to B before A's answer");
	expect_nothing("after B's 200");
	snprintf(c.contact_a, sizeof(c.contact_a), "%s", contact_of(ok->m));
	snprintf(c.our_tag_a, sizeof(c.our_tag_a), "%s", tag_or_empty(ok->m->to));
	s = calls();
	CHECK_EQ(s.ci[0].phase, CALL_UP, "answered: phase up (ACK pending)");

	a_request(&c, "ACK", c.cseq_a, "Content-Type: application/sdp\r\n",
		  SDP_A);
	ack = take_req(&PB, "ACK", "the ACK with A's answer");
	CHECK_EQ(sipmsg_cseq(ack->m), sipmsg_cseq(inv->m),
		 "ACK to B: the INVITE's CSeq number");
	CHECK_STR(tag_or_empty(ack->m->to), c.tag_b, "ACK to B: B's To tag");
	CHECK_STR(cid_of(ack->m), c.cid_b, "ACK to B: B's Call-ID");
	CHECK_STR(ctype_of(ack->m), "application/sdp", "ACK to B: SDP");
	port_b = check_relay_sdp(body_of(ack->m), "ACK to B (the answer)");
	CHECK_TRUE(!strstr(ack->buf, "127.0.0.2"), "ACK to B: no trace of A");
	CHECK_TRUE(port_b != sdp_audio_port(body_of(ok->m)),
		   "a relay port per leg");
	expect_nothing("after A's ACK");
	s = calls();
	CHECK_EQ(s.ci[0].phase, CALL_UP, "phase up");
}

/* Late offer through a reliable 183 (PRACK on leg B): the ACK still has
 * the INVITE's CSeq (RFC 3261 13.2.2.4), not the PRACK's. */
static void test_late_offer_prack(void **state)
{
	struct tcall c;
	struct cap *inv, *prack, *ok, *ack, *r;

	(void)state;
	register_bob();
	invite_a(&c, "bob", NULL, 70, "Supported: 100rel\r\n");
	inv = take_invite_b(&c, &PB);
	CHECK_TRUE(sipmsg_has_tag(inv->m, "supported", "100rel"),
		   "B's INVITE: Supported 100rel (A supports it)");
	respond(&PB, inv->m, 183, "Session Progress", c.tag_b,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n"
		"Require: 100rel\r\nRSeq: 1\r\n", NULL);
	prack = take_req(&PB, "PRACK", "PRACK of B's reliable 183");
	CHECK_STR(sipmsg_header(prack->m, "rack"), "1 1 INVITE", "PRACK: RAck");
	CHECK_EQ(sipmsg_cseq(prack->m), sipmsg_cseq(inv->m) + 1,
		 "PRACK: the next CSeq");
	r = take_resp(&PA, 183, "INVITE", "183 to A");
	CHECK_TRUE(sipmsg_has_tag(r->m, "require", "100rel"),
		   "183 to A: reliable (A supports 100rel)");
	CHECK_STR(sipmsg_header(r->m, "rseq"), "1", "183 to A: our RSeq");
	respond(&PB, prack->m, 200, "OK", NULL, NULL, NULL);
	expect_nothing("after the PRACK's 200");
	/* A's PRACK is answered on leg A. */
	snprintf(c.our_tag_a, sizeof(c.our_tag_a), "%s", tag_or_empty(r->m->to));
	snprintf(c.contact_a, sizeof(c.contact_a), "%s", contact_of(r->m));
	a_request(&c, "PRACK", ++c.cseq_a, "RAck: 1 10 INVITE\r\n", NULL);
	take_resp(&PA, 200, "PRACK", "A's PRACK");
	expect_nothing("A's PRACK stays on leg A");

	respond(&PB, inv->m, 200, "OK", c.tag_b,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n", SDP_B);
	ok = take_resp(&PA, 200, "INVITE", "B's 200 with the offer");
	snprintf(c.contact_a, sizeof(c.contact_a), "%s", contact_of(ok->m));
	snprintf(c.our_tag_a, sizeof(c.our_tag_a), "%s", tag_or_empty(ok->m->to));
	a_request(&c, "ACK", 10, "Content-Type: application/sdp\r\n", SDP_A);
	ack = take_req(&PB, "ACK", "the ACK with A's answer");
	CHECK_EQ(sipmsg_cseq(ack->m), sipmsg_cseq(inv->m),
		 "ACK to B after a PRACK: the INVITE's CSeq number");
	check_relay_sdp(body_of(ack->m), "ACK to B (the answer)");
}

/* ---- in-dialog relays ---------------------------------------------------- */

static void test_reinvite_hold(void **state)
{
	struct tcall c;
	struct cap *r, *reinv, *ack, *ok;
	const char *sdp;

	(void)state;
	call_up(&c);
	c.port_b = sdp_audio_port(body_of(c.inv_b->m));

	a_request(&c, "INVITE", ++c.cseq_a,
		  "Contact: <sip:alice@127.0.0.2:5062>\r\n"
		  "Content-Type: application/sdp\r\n", SDP_A_HOLD);
	take_resp(&PA, 100, "INVITE", "A's re-INVITE");
	reinv = take_req(&PB, "INVITE", "re-INVITE on leg B");
	CHECK_STR(cid_of(reinv->m), c.cid_b, "re-INVITE to B: B's Call-ID");
	CHECK_EQ(sipmsg_cseq(reinv->m), sipmsg_cseq(c.inv_b->m) + 1,
		 "re-INVITE to B: CSeq + 1");
	CHECK_STR(tag_or_empty(reinv->m->from), c.our_tag_b,
		  "re-INVITE to B: our From tag");
	CHECK_STR(tag_or_empty(reinv->m->to), c.tag_b,
		  "re-INVITE to B: B's To tag");
	CHECK_STR(uri_of(reinv->m->req_uri), "sip:bob@127.0.0.3:5064",
		  "re-INVITE to B: Request-URI is B's Contact");
	CHECK_TRUE(strcmp(branch_of(reinv->m), branch_of(c.inv_b->m)) != 0,
		   "re-INVITE to B: a new branch");
	sdp = body_of(reinv->m);
	CHECK_EQ(check_relay_sdp(sdp, "re-INVITE to B"), c.port_b,
		 "re-INVITE to B: the same relay port");
	CHECK_HAS(sdp, "a=sendonly", "re-INVITE to B: direction kept");
	CHECK_TRUE(!strstr(sdp, "a=sendrecv"), "re-INVITE to B: not sendrecv");
	CHECK_TRUE(!strstr(reinv->buf, "127.0.0.2"), "re-INVITE: no trace of A");
	expect_nothing("after the re-INVITE");

	respond(&PB, reinv->m, 200, "OK", NULL,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n", SDP_B_HELD);
	ack = take_req(&PB, "ACK", "ACK of B's 200 to the re-INVITE");
	CHECK_EQ(sipmsg_cseq(ack->m), sipmsg_cseq(reinv->m),
		 "ACK to B: the re-INVITE's CSeq");
	CHECK_STR(cid_of(ack->m), c.cid_b, "ACK to B: B's Call-ID");
	ok = take_resp(&PA, 200, "INVITE", "200 to A's re-INVITE");
	CHECK_EQ(sipmsg_cseq(ok->m), c.cseq_a, "200 to A: A's CSeq");
	CHECK_STR(tag_or_empty(ok->m->to), c.our_tag_a, "200 to A: our tag");
	check_relay_sdp(body_of(ok->m), "200 to A's re-INVITE");
	CHECK_HAS(body_of(ok->m), "a=recvonly", "200 to A: direction kept");
	CHECK_TRUE(!strstr(ok->buf, "127.0.0.3"), "200 to A: no trace of B");
	expect_nothing("after B's 200");

	/* B's 200 again (our ACK was lost): ACKed again, A hears nothing. */
	respond(&PB, reinv->m, 200, "OK", NULL,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n", SDP_B_HELD);
	r = take_req(&PB, "ACK", "ACK of B's retransmitted 200");
	CHECK_EQ(sipmsg_cseq(r->m), sipmsg_cseq(reinv->m),
		 "the ACK again: the re-INVITE's CSeq");
	expect_nothing("after B's retransmitted 200");

	a_request(&c, "ACK", c.cseq_a, NULL, NULL);
	expect_nothing("A's ACK of the re-INVITE is absorbed");

	/* Resume: the next re-INVITE goes through too. */
	a_request(&c, "INVITE", ++c.cseq_a,
		  "Content-Type: application/sdp\r\n", SDP_A);
	take_resp(&PA, 100, "INVITE", "A's second re-INVITE");
	r = take_req(&PB, "INVITE", "second re-INVITE on leg B");
	CHECK_EQ(sipmsg_cseq(r->m), sipmsg_cseq(reinv->m) + 1,
		 "second re-INVITE: CSeq + 1 again");
	CHECK_HAS(body_of(r->m), "a=sendrecv", "resume: sendrecv");
	{
		struct calls_seen s = calls();

		CHECK_EQ(s.ci[0].phase, CALL_UP, "still up");
	}
}

/* A re-INVITE without SDP: the offer comes in B's 200, the answer in A's
 * ACK, which goes on to B as the ACK's body. */
static void test_reinvite_late(void **state)
{
	struct tcall c;
	struct cap *reinv, *ok, *ack, *r;

	(void)state;
	call_up(&c);
	a_request(&c, "INVITE", ++c.cseq_a, NULL, NULL);
	take_resp(&PA, 100, "INVITE", "A's re-INVITE without SDP");
	reinv = take_req(&PB, "INVITE", "re-INVITE on leg B");
	CHECK_TRUE(body_of(reinv->m) == NULL, "re-INVITE to B: no body");
	respond(&PB, reinv->m, 200, "OK", NULL,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n", SDP_B);
	ok = take_resp(&PA, 200, "INVITE", "200 with B's offer");
	check_relay_sdp(body_of(ok->m), "200 to A (offer)");
	CHECK_TRUE(!sent(&PB, "ACK", 0), "no ACK to B before A's answer");
	expect_nothing("after B's 200");
	respond(&PB, reinv->m, 200, "OK", NULL,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n", SDP_B);
	expect_nothing("B's 200 again before A's answer: still no ACK");
	a_request(&c, "ACK", c.cseq_a, "Content-Type: application/sdp\r\n",
		  SDP_A_HOLD);
	ack = take_req(&PB, "ACK", "ACK to B with A's answer");
	CHECK_EQ(sipmsg_cseq(ack->m), sipmsg_cseq(reinv->m),
		 "ACK to B: the re-INVITE's CSeq");
	CHECK_STR(cid_of(ack->m), c.cid_b, "ACK to B: B's Call-ID");
	check_relay_sdp(body_of(ack->m), "ACK to B (answer)");
	CHECK_HAS(body_of(ack->m), "a=sendonly", "ACK to B: direction kept");
	expect_nothing("after A's ACK");
	respond(&PB, reinv->m, 200, "OK", NULL,
		"Contact: <sip:bob@127.0.0.3:5064>\r\n", SDP_B);
	r = take_req(&PB, "ACK", "B's 200 after the ACK: the ACK again");
	CHECK_STR(r->buf, ack->buf, "the same ACK, answer included");
	expect_nothing("after B's 200 again");
}

static void test_reinvite_from_b(void **state)
{
	struct tcall c;
	struct cap *reinv, *ok;

	(void)state;
	call_up(&c);
	b_request(&c, "INVITE", 1, "Contact: <sip:bob@127.0.0.3:5064>\r\n"
		  "Content-Type: application/sdp\r\n", SDP_B_HELD);
	take_resp(&PB, 100, "INVITE", "B's re-INVITE");
	reinv = take_req(&PA, "INVITE", "re-INVITE on leg A");
	CHECK_STR(cid_of(reinv->m), c.cid_a, "re-INVITE to A: A's Call-ID");
	CHECK_STR(tag_or_empty(reinv->m->from), c.our_tag_a,
		  "re-INVITE to A: our tag in From");
	CHECK_STR(tag_or_empty(reinv->m->to), c.tag_a,
		  "re-INVITE to A: A's tag in To");
	CHECK_STR(uri_of(reinv->m->req_uri), "sip:alice@127.0.0.2:5062",
		  "re-INVITE to A: Request-URI is A's Contact");
	check_relay_sdp(body_of(reinv->m), "re-INVITE to A");
	CHECK_HAS(body_of(reinv->m), "a=recvonly", "re-INVITE to A: direction");
	CHECK_TRUE(!strstr(reinv->buf, "127.0.0.3"), "re-INVITE to A: no B");
	respond(&PA, reinv->m, 200, "OK", NULL,
		"Contact: <sip:alice@127.0.0.2:5062>\r\n",
		SDP_A_HOLD);
	take_req(&PA, "ACK", "ACK of A's 200");
	ok = take_resp(&PB, 200, "INVITE", "200 to B's re-INVITE");
	CHECK_STR(cid_of(ok->m), c.cid_b, "200 to B: B's Call-ID");
	check_relay_sdp(body_of(ok->m), "200 to B");
	b_request(&c, "ACK", 1, NULL, NULL);
	expect_nothing("B's ACK absorbed");
}

static void test_info(void **state)
{
	struct tcall c;
	struct cap *info, *ok;
	const char *dtmf = "Signal=5\r\nDuration=160\r\n";

	(void)state;
	call_up(&c);
	a_request(&c, "INFO", ++c.cseq_a,
		  "Content-Type: application/dtmf-relay\r\n"
		  "X-Foo: info\r\nX-Secret: nope\r\n", dtmf);
	info = take_req(&PB, "INFO", "INFO on leg B");
	CHECK_STR(cid_of(info->m), c.cid_b, "INFO to B: B's Call-ID");
	CHECK_EQ(sipmsg_cseq(info->m), sipmsg_cseq(c.inv_b->m) + 1,
		 "INFO to B: CSeq + 1");
	CHECK_STR(ctype_of(info->m), "application/dtmf-relay",
		  "INFO to B: Content-Type");
	CHECK_STR(body_of(info->m), dtmf, "INFO to B: the body");
	CHECK_STR(sipmsg_header(info->m, "x-foo"), "info", "INFO to B: X-Foo");
	CHECK_TRUE(sipmsg_header(info->m, "x-secret") == NULL,
		   "INFO to B: no X-Secret");
	expect_nothing("after INFO");
	respond(&PB, info->m, 200, "OK", NULL, NULL, NULL);
	ok = take_resp(&PA, 200, "INFO", "B's 200 to INFO");
	CHECK_STR(cid_of(ok->m), c.cid_a, "200 to A: A's Call-ID");
	CHECK_EQ(sipmsg_cseq(ok->m), c.cseq_a, "200 to A: A's CSeq");
	expect_nothing("after the 200 to INFO");

	/* A failure of the relayed request comes back as it is. */
	a_request(&c, "INFO", ++c.cseq_a,
		  "Content-Type: application/dtmf-relay\r\n", dtmf);
	info = take_req(&PB, "INFO", "second INFO");
	respond(&PB, info->m, 415, "Unsupported Media Type", NULL, NULL, NULL);
	take_resp(&PA, 415, "INFO", "B's 415 to INFO");
	{
		struct calls_seen s = calls();

		CHECK_EQ(s.ci[0].phase, CALL_UP, "a 415 does not end the call");
	}
}

static void test_indialog_misc(void **state)
{
	struct tcall c;
	struct cap *r, *upd, *reinv;

	(void)state;
	call_up(&c);
	/* CSeq going back in leg A's dialog: 500. */
	a_request(&c, "INFO", 5, "Content-Type: text/plain\r\n", "x");
	r = take_resp(&PA, 500, "INFO", "an INFO with an old CSeq");
	CHECK_TRUE(sipmsg_header(r->m, "retry-after") != NULL, "500: Retry-After");
	expect_nothing("nothing relayed for an old CSeq");

	/* OPTIONS in the dialog: answered here. */
	a_request(&c, "OPTIONS", ++c.cseq_a, NULL, NULL);
	take_resp(&PA, 200, "OPTIONS", "in-dialog OPTIONS");
	expect_nothing("OPTIONS is not relayed");

	/* A re-INVITE while one is pending: 491. */
	a_request(&c, "INVITE", ++c.cseq_a,
		  "Content-Type: application/sdp\r\n", SDP_A_HOLD);
	take_resp(&PA, 100, "INVITE", "the first re-INVITE");
	reinv = take_req(&PB, "INVITE", "the first re-INVITE on B");
	a_request(&c, "INVITE", ++c.cseq_a,
		  "Content-Type: application/sdp\r\n", SDP_A);
	take_resp(&PA, 491, "INVITE", "a second re-INVITE while one is pending");
	expect_nothing("the second re-INVITE is not relayed");
	respond(&PB, reinv->m, 200, "OK", NULL, NULL, SDP_B_HELD);
	take_req(&PB, "ACK", "ACK of the re-INVITE's 200");
	take_resp(&PA, 200, "INVITE", "200 to the first re-INVITE");
	a_request(&c, "ACK", c.cseq_a - 1, NULL, NULL);
	expect_nothing("A's ACK");

	/* UPDATE from B with SDP, B's pass-through header to A. */
	b_request(&c, "UPDATE", 1, "Contact: <sip:bob@127.0.0.3:5064>\r\n"
		  "X-Foo: from-b\r\nX-Secret: b\r\n"
		  "Content-Type: application/sdp\r\n", SDP_B);
	upd = take_req(&PA, "UPDATE", "UPDATE on leg A");
	CHECK_STR(cid_of(upd->m), c.cid_a, "UPDATE to A: A's Call-ID");
	CHECK_STR(sipmsg_header(upd->m, "x-foo"), "from-b", "UPDATE: X-Foo");
	CHECK_TRUE(sipmsg_header(upd->m, "x-secret") == NULL, "UPDATE: no X-Secret");
	check_relay_sdp(body_of(upd->m), "UPDATE to A");
	CHECK_TRUE(!strstr(upd->buf, "127.0.0.3"), "UPDATE to A: no trace of B");
	respond(&PA, upd->m, 200, "OK", NULL,
		"Contact: <sip:alice@127.0.0.2:5062>\r\n", SDP_A);
	r = take_resp(&PB, 200, "UPDATE", "200 to B's UPDATE");
	check_relay_sdp(body_of(r->m), "200 to B's UPDATE");
	CHECK_TRUE(!strstr(r->buf, "127.0.0.2"), "200 to B: no trace of A");
	expect_nothing("after the UPDATE");
	CHECK_EQ(calls().ci[0].phase, CALL_UP, "still up");
}

/* Ended by the relay: b2bua_end_call BYEs both legs; b2bua_shutdown
 * answers a ringing call's A leg and cancels its B leg. */
static void test_end_by_relay(void **state)
{
	struct tcall c, d;
	struct cap *ba, *bb, *r;

	(void)state;
	call_up(&c);
	CHECK_EQ(b2bua_end_call(F.b, "no-such-call"), -ENOENT, "unknown call");
	CHECK_EQ(b2bua_end_call(F.b, c.cid_b), 0, "end the call by B's Call-ID");
	ba = take_req(&PA, "BYE", "BYE to A");
	bb = take_req(&PB, "BYE", "BYE to B");
	CHECK_STR(cid_of(ba->m), c.cid_a, "BYE to A: A's Call-ID");
	CHECK_STR(cid_of(bb->m), c.cid_b, "BYE to B: B's Call-ID");
	expect_nothing("after the BYEs");
	check_cdr(&c, "admin", "relay", 200);
	respond(&PA, ba->m, 200, "OK", NULL, NULL, NULL);
	respond(&PB, bb->m, 200, "OK", NULL, NULL, NULL);
	CHECK_TRUE(wait_calls_gone(), "the call is gone");
	drain();

	invite_a(&d, "bob", SDP_A, 70, NULL);
	take_invite_b(&d, &PB);
	ring(&d);
	b2bua_shutdown(F.b);
	r = take_resp(&PA, 503, "INVITE", "a ringing call at shutdown");
	CHECK_STR(tag_or_empty(r->m->to), d.our_tag_a, "503: the 180's tag");
	take_req(&PB, "CANCEL", "CANCEL of the ringing call at shutdown");
	expect_nothing("after the shutdown");
	CHECK_HAS(cdr_text(), "\"end_reason\":\"shutdown\"", "CDR: shutdown");
}

/* Retransmissions from the phones are absorbed by the transactions. */
static void test_retransmissions(void **state)
{
	struct tcall c;
	struct cap *r;

	(void)state;
	register_bob();
	invite_a(&c, "bob", SDP_A, 70, NULL);
	take_invite_b(&c, &PB);
	call_seq--; /* the same INVITE again */
	invite_a(&c, "bob", SDP_A, 70, NULL);
	take_resp(&PA, 100, "INVITE", "the INVITE again: the 100 again");
	expect_nothing("a retransmitted INVITE makes no new call");
	CHECK_EQ(calls().n, 1, "one call");
	/* B's 180 twice: both go on to A (as a proxy would), same tag. */
	c.inv_b = NULL;
	for (size_t i = 0; i < C.n; i++)
		if (C.v[i]->m && MSG_IS_REQUEST(C.v[i]->m) &&
		    !strcmp(C.v[i]->m->sip_method, "INVITE"))
			c.inv_b = C.v[i];
	respond(&PB, c.inv_b->m, 180, "Ringing", c.tag_b, NULL, NULL);
	respond(&PB, c.inv_b->m, 180, "Ringing", c.tag_b, NULL, NULL);
	r = take_resp(&PA, 180, "INVITE", "B's 180");
	snprintf(c.our_tag_a, sizeof(c.our_tag_a), "%s", tag_or_empty(r->m->to));
	r = take_resp(&PA, 180, "INVITE", "B's 180 again");
	CHECK_STR(tag_or_empty(r->m->to), c.our_tag_a, "the same To tag");
	expect_nothing("after the 180s");
	/* A malformed SDP in a new call: 488. */
	invite_a(&c, "bob", "v=0\r\nthis is not sdp\r\n", 70, NULL);
	take_resp(&PA, 488, "INVITE", "an INVITE with a broken SDP");
	CHECK_TRUE(!sent(&PB, "INVITE", 0), "no INVITE to B for a broken SDP");
	drain();
}

/* ---- requests outside any call, malformed input -------------------------- */

static void test_out_of_dialog(void **state)
{
	struct cap *r;
	struct b2bua_stats st;

	(void)state;
	/* In-dialog request with tags nobody knows. */
	feed(&PA, NULL,
	     "BYE sip:xrelay@%s SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKbye481\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: <sip:alice@" DOMAIN ">;tag=x1\r\n"
	     "To: <sip:bob@" DOMAIN ">;tag=nosuch\r\n"
	     "Call-ID: nosuchcall\r\nCSeq: 2 BYE\r\n", RELAY);
	take_resp(&PA, 481, "BYE", "BYE of an unknown dialog");
	/* BYE without a To tag: also no dialog. */
	feed(&PA, NULL,
	     "INFO sip:xrelay@%s SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKinfo481\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: <sip:alice@" DOMAIN ">;tag=x1\r\n"
	     "To: <sip:bob@" DOMAIN ">\r\n"
	     "Call-ID: nosuchcall2\r\nCSeq: 2 INFO\r\n", RELAY);
	take_resp(&PA, 481, "INFO", "INFO outside a dialog");

	/* OPTIONS: answered here. */
	feed(&PA, NULL,
	     "OPTIONS sip:%s SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKopt1\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: <sip:alice@" DOMAIN ">;tag=o1\r\n"
	     "To: <sip:%s>\r\n"
	     "Call-ID: options-1\r\nCSeq: 1 OPTIONS\r\n", RELAY, RELAY);
	r = take_resp(&PA, 200, "OPTIONS", "OPTIONS");
	CHECK_HAS(r->buf, "Allow: INVITE", "200 to OPTIONS: Allow");
	CHECK_HAS(r->buf, "BYE", "200 to OPTIONS: Allow lists BYE");

	/* OPTIONS with Max-Forwards 0 is still answered (RFC 3261 11). */
	feed(&PA, NULL,
	     "OPTIONS sip:%s SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKopt0\r\n"
	     "Max-Forwards: 0\r\n"
	     "From: <sip:alice@" DOMAIN ">;tag=o2\r\n"
	     "To: <sip:%s>\r\n"
	     "Call-ID: options-2\r\nCSeq: 1 OPTIONS\r\n", RELAY, RELAY);
	take_resp(&PA, 200, "OPTIONS", "OPTIONS with Max-Forwards 0");

	/* An unknown method. */
	feed(&PA, NULL,
	     "FROB sip:%s SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKfrob1\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: <sip:alice@" DOMAIN ">;tag=f1\r\n"
	     "To: <sip:%s>\r\n"
	     "Call-ID: frob-1\r\nCSeq: 1 FROB\r\n", RELAY, RELAY);
	r = take_resp(&PA, 501, "FROB", "an unknown method");
	CHECK_HAS(r->buf, "Allow:", "501: Allow");

	/* Max-Forwards 0. */
	feed(&PA, NULL,
	     "INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKmf0\r\n"
	     "Max-Forwards: 0\r\n"
	     "From: <sip:alice@" DOMAIN ">;tag=m1\r\n"
	     "To: <sip:bob@" DOMAIN ">\r\n"
	     "Call-ID: mf0\r\nCSeq: 1 INVITE\r\n"
	     "Contact: <sip:alice@127.0.0.2:5062>\r\n");
	take_resp(&PA, 483, "INVITE", "Max-Forwards 0");
	expect_nothing("after the out-of-dialog requests");
	CHECK_EQ(calls().n, 0, "no call was made");
	b2bua_stats(F.b, &st);
	CHECK_EQ(st.malformed, 0, "nothing malformed so far");
}

static void test_malformed(void **state)
{
	static const char garbage[] = "\x01\x02 hello \xff\xfe\r\n\r\n";
	struct b2bua_stats st;
	struct cap *r;
	struct tcall c;

	(void)state;
	/* No Call-ID: nothing can be answered. */
	feed(&PA, SDP_A,
	     "INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKnocid\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: <sip:alice@" DOMAIN ">;tag=n1\r\n"
	     "To: <sip:bob@" DOMAIN ">\r\n"
	     "CSeq: 1 INVITE\r\n"
	     "Content-Type: application/sdp\r\n");
	expect_nothing("an INVITE without Call-ID");
	/* CSeq method not the request's: 400 with the reason. */
	feed(&PA, NULL,
	     "INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKbadcseq\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: <sip:alice@" DOMAIN ">;tag=n2\r\n"
	     "To: <sip:bob@" DOMAIN ">\r\n"
	     "Call-ID: badcseq\r\nCSeq: 1 BYE\r\n");
	r = take((&PA), "BYE", 400, "an INVITE with a BYE CSeq");
	CHECK_HAS(r->buf, "Warning: 399", "400: a Warning with the reason");
	CHECK_STR(branch_of(r->m), "z9hG4bKbadcseq", "400: the request's Via");
	/* Garbage and truncated bytes. */
	b2bua_on_message(F.b, garbage, sizeof(garbage) - 1, &PA);
	b2bua_on_message(F.b, "INVITE", 6, &PA);
	b2bua_on_message(F.b, "", 0, &PA);
	b2bua_on_message(F.b, "SIP/2.0 200 OK\r\n\r\n", 18, &PB);
	expect_nothing("garbage");
	b2bua_stats(F.b, &st);
	CHECK_EQ(st.malformed, 6, "every malformed message counted");
	CHECK_EQ(calls().n, 0, "no call from malformed input");

	/* A response of nobody's transaction is dropped. */
	feed(&PB, NULL,
	     "SIP/2.0 200 OK\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKnobody\r\n"
	     "From: <sip:alice@" DOMAIN ">;tag=s1\r\n"
	     "To: <sip:bob@" DOMAIN ">;tag=s2\r\n"
	     "Call-ID: stray\r\nCSeq: 1 INVITE\r\n", sip_port);
	expect_nothing("a stray response");

	/* And calls still work afterwards. */
	register_bob();
	invite_a(&c, "bob", SDP_A, 70, NULL);
	take_invite_b(&c, &PB);
}

/* ---- limits, routing ----------------------------------------------------- */

static void test_max_calls(void **state)
{
	struct tcall c1, c2;
	struct cap *r;
	struct b2bua_stats st;

	(void)state;
	F.cfg.max_calls = 1;
	reconfigure();
	register_bob();
	invite_a(&c1, "bob", SDP_A, 70, NULL);
	take_invite_b(&c1, &PB);
	invite_a(&c2, "bob", SDP_A, 70, NULL);
	r = take_resp(&PA, 503, "INVITE", "a second INVITE at the limit");
	CHECK_STR(cid_of(r->m), c2.cid_a, "503: the second call's Call-ID");
	CHECK_STR(sipmsg_header(r->m, "retry-after"), "7", "503: Retry-After");
	expect_nothing("at the limit");
	CHECK_EQ(calls().n, 1, "one call");
	b2bua_stats(F.b, &st);
	CHECK_EQ(st.calls_rejected_limit, 1, "one rejected at the limit");
}

/* max_call_rate 2: a burst of two new calls passes, the third in the
 * same instant gets 503 with Retry-After; half a second later one more
 * token has come back. */
static void test_max_call_rate(void **state)
{
	struct tcall c[4];
	struct cap *r;

	(void)state;
	F.cfg.max_call_rate = 2;
	reconfigure();
	register_bob();
	invite_a(&c[0], "bob", SDP_A, 70, NULL);
	take_invite_b(&c[0], &PB);
	invite_a(&c[1], "bob", SDP_A, 70, NULL);
	take_invite_b(&c[1], &PB);
	invite_a(&c[2], "bob", SDP_A, 70, NULL);
	r = take_resp(&PA, 503, "INVITE", "a third INVITE in one second");
	CHECK_STR(cid_of(r->m), c[2].cid_a, "503: the third call's Call-ID");
	CHECK_STR(sipmsg_header(r->m, "retry-after"), "7", "503: Retry-After");
	expect_nothing("over the rate");
	usleep(550 * 1000);
	invite_a(&c[3], "bob", SDP_A, 70, NULL);
	take_invite_b(&c[3], &PB);
	CHECK_EQ(calls().n, 3, "three calls set up");
}

/* A port pool with room for one call: the second gets 503 with
 * Retry-After (like the call limit), and the first is unaffected. */
static void test_port_exhaustion(void **state)
{
	struct media_engine *small = NULL;
	struct tcall c1, c2;
	struct cap *r;

	(void)state;
	/* Two pairs: one call's two legs. */
	if (fx_media_new(&small, pin_dir, PORT_MAX + 1, PORT_MAX + 4) < 0)
		fail();
	F.d.me = small;
	reconfigure();
	register_bob();
	invite_a(&c1, "bob", SDP_A, 70, NULL);
	take_invite_b(&c1, &PB);
	invite_a(&c2, "bob", SDP_A, 70, NULL);
	r = take_resp(&PA, 503, "INVITE", "an INVITE with the port pool full");
	CHECK_STR(cid_of(r->m), c2.cid_a, "503: the second call's Call-ID");
	CHECK_STR(sipmsg_header(r->m, "retry-after"), "7", "503: Retry-After");
	{
		struct b2bua_stats st;

		b2bua_stats(F.b, &st);
		CHECK_EQ(st.calls_active, 1, "the first call goes on");
	}
	b2bua_free(F.b); /* its calls' media sessions are small's */
	F.b = NULL;
	media_engine_shutdown(small);
	media_engine_free(small);
	F.d.me = ME;
}

static void test_routing(void **state)
{
	struct tcall c;
	struct cap *inv, *r;
	struct b2bua_stats st;
	char err[256] = "";

	(void)state;
	/* Nobody registered, no route: 404, and a CDR line. */
	invite_a(&c, "nobody", SDP_A, 70, NULL);
	r = take_resp(&PA, 404, "INVITE", "a call to an unknown user");
	CHECK_TRUE(sipmsg_tag(r->m->to) != NULL, "404: a To tag");
	expect_nothing("404");
	b2bua_stats(F.b, &st);
	CHECK_EQ(st.calls_active, 0, "no active call after 404");
	CHECK_EQ(cdr_lines(), 1, "a CDR line for the failed call");
	CHECK_HAS(cdr_text(), "\"final_status\":404", "CDR: 404");
	ack_failure_a(&c, r);
	expect_nothing("A's ACK of the 404");
	CHECK_TRUE(wait_calls_gone(), "the failed call is gone after A's ACK");

	CHECK_EQ(routes_add(F.rt, "prefix:+44 sip:127.0.0.9:5070", err,
			    sizeof(err)), 0, "routes_add");
	invite_a(&c, "+442071234567", SDP_A, 70, NULL);
	inv = take_invite_b(&c, &PGW);
	CHECK_STR(uri_of(inv->m->req_uri), "sip:+442071234567@" DOMAIN,
		  "routed INVITE: the Request-URI is kept");
	check_relay_sdp(body_of(inv->m), "routed INVITE");
	expect_nothing("after the routed INVITE");

	/* Still 404 for what the route does not match. */
	invite_a(&c, "+33123", SDP_A, 70, NULL);
	take_resp(&PA, 404, "INVITE", "a number no route matches");

	/* A route back to ourselves is a loop. */
	{
		char spec[128];

		snprintf(spec, sizeof(spec), "prefix:+99 sip:%s", RELAY);
		CHECK_EQ(routes_add(F.rt, spec, err, sizeof(err)), 0,
			 "routes_add to ourselves");
	}
	invite_a(&c, "+991", SDP_A, 70, NULL);
	take_resp(&PA, 482, "INVITE", "a route to ourselves");
	expect_nothing("after the loop");
}

static void test_max_forwards_cap(void **state)
{
	struct tcall c;
	struct cap *inv;

	(void)state;
	F.cfg.max_forwards = 20;
	reconfigure();
	register_bob();
	invite_a(&c, "bob", SDP_A, 70, NULL);
	inv = take_invite_b(&c, &PB);
	CHECK_EQ(sipmsg_max_forwards(inv->m), 20, "B: Max-Forwards capped");
	invite_a(&c, "bob", SDP_A, 5, NULL);
	inv = take_invite_b(&c, &PB);
	CHECK_EQ(sipmsg_max_forwards(inv->m), 4, "B: Max-Forwards 5 - 1");
}

static void test_session_timer(void **state)
{
	struct tcall c;
	struct cap *inv, *ok, *r;

	(void)state;
	F.cfg.session_expires_s = 1800;
	F.cfg.min_se_s = 90;
	reconfigure();
	register_bob();
	/* A asks for less than Min-SE: 422. */
	invite_a(&c, "bob", SDP_A, 70,
		 "Supported: timer\r\nSession-Expires: 30\r\n");
	r = take_resp(&PA, 422, "INVITE", "Session-Expires below Min-SE");
	CHECK_STR(sipmsg_header(r->m, "min-se"), "90", "422: Min-SE");
	expect_nothing("after the 422");

	invite_a(&c, "bob", SDP_A, 70,
		 "Supported: timer\r\nSession-Expires: 600\r\n");
	inv = take_invite_b(&c, &PB);
	CHECK_TRUE(sipmsg_has_tag(inv->m, "supported", "timer"),
		   "B: Supported timer");
	CHECK_HAS(sipmsg_header(inv->m, "session-expires"), "1800",
		  "B: our Session-Expires");
	CHECK_HAS(sipmsg_header(inv->m, "session-expires"), "refresher=uac",
		  "B: we refresh leg B");
	ring(&c);
	ok = answer(&c);
	CHECK_HAS(sipmsg_header(ok->m, "session-expires"), "600",
		  "200 to A: A's smaller interval");
	CHECK_TRUE(sipmsg_has_tag(ok->m, "require", "timer"),
		   "200 to A: Require timer");
}

/* ---- digest -------------------------------------------------------------- */

static const char *param_of(const char *hdr, const char *name)
{
	static char buf[128];
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), "%s=\"", name);
	p = hdr ? strstr(hdr, key) : NULL;
	if (!p)
		return "";
	p += strlen(key);
	snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(p, "\""), p);
	return buf;
}

static void test_digest(void **state)
{
	struct cap *r, *inv;
	char err[256] = "", nonce[128], ha1[DIGEST_HEX_LEN + 1];
	char resp[DIGEST_HEX_LEN + 1], cred[512];
	const char *h;
	FILE *f;
	int fd;

	(void)state;
	snprintf(F.users_path, sizeof(F.users_path), "/tmp/xr-b2bua-users.XXXXXX");
	fd = mkstemp(F.users_path);
	CHECK_TRUE(fd >= 0, "mkstemp");
	f = fdopen(fd, "w");
	fputs("alice:" DOMAIN ":secret\nbob:" DOMAIN ":bobpw\n", f);
	fclose(f);
	F.auth = auth_load(F.users_path, DOMAIN, err, sizeof(err));
	if (!F.auth)
		fail_msg("auth_load: %s", err);
	F.d.auth = F.auth;
	reconfigure();

	/* REGISTER without credentials: 401. */
	register_user("bob", &PB, "127.0.0.3:5064", 600, 1);
	r = take_resp(&PB, 401, "REGISTER", "REGISTER without credentials");
	h = strcasestr(r->buf, "\nWWW-Authenticate: Digest ");
	CHECK_TRUE(h != NULL, "401: WWW-Authenticate");
	CHECK_HAS(h, "realm=\"" DOMAIN "\"", "401: our realm");
	{
		struct reg_contact rc[2];

		CHECK_EQ(registrar_lookup(F.reg, "bob@" DOMAIN, 0, rc, 2), 0,
			 "no binding without credentials");
	}

	/* With bob's credentials: bound. */
	snprintf(nonce, sizeof(nonce), "%s", param_of(h, "nonce"));
	digest_ha1("bob", DOMAIN, "bobpw", ha1);
	digest_response(ha1, nonce, "00000001", "abcd", "auth", "REGISTER",
			"sip:" DOMAIN, resp);
	feed(&PB, NULL,
	     "REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.3:5064;branch=z9hG4bKregauth\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: <sip:bob@" DOMAIN ">;tag=ra\r\n"
	     "To: <sip:bob@" DOMAIN ">\r\n"
	     "Call-ID: reg-bob@phone\r\nCSeq: 2 REGISTER\r\n"
	     "Contact: <sip:bob@127.0.0.3:5064>\r\nExpires: 600\r\n"
	     "Authorization: Digest username=\"bob\", realm=\"" DOMAIN "\", "
	     "nonce=\"%s\", uri=\"sip:" DOMAIN "\", response=\"%s\", "
	     "algorithm=MD5, cnonce=\"abcd\", qop=auth, nc=00000001\r\n",
	     nonce, resp);
	take_resp(&PB, 200, "REGISTER", "REGISTER with good credentials");
	{
		struct reg_contact rc[2];

		CHECK_EQ(registrar_lookup(F.reg, "bob@" DOMAIN, 0, rc, 2), 1,
			 "bound with credentials");
	}
	/* Bob's credentials on a REGISTER for alice: 403. */
	digest_response(ha1, nonce, "00000002", "abcd", "auth", "REGISTER",
			"sip:" DOMAIN, resp);
	feed(&PB, NULL,
	     "REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.3:5064;branch=z9hG4bKregsteal\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: <sip:alice@" DOMAIN ">;tag=rx\r\n"
	     "To: <sip:alice@" DOMAIN ">\r\n"
	     "Call-ID: reg-steal@phone\r\nCSeq: 1 REGISTER\r\n"
	     "Contact: <sip:alice@127.0.0.3:5064>\r\nExpires: 600\r\n"
	     "Authorization: Digest username=\"bob\", realm=\"" DOMAIN "\", "
	     "nonce=\"%s\", uri=\"sip:" DOMAIN "\", response=\"%s\", "
	     "algorithm=MD5, cnonce=\"abcd\", qop=auth, nc=00000002\r\n",
	     nonce, resp);
	take_resp(&PB, 403, "REGISTER", "bob's credentials for alice");
	expect_nothing("after the REGISTERs");

	/* INVITE without credentials: 407. */
	{
		struct tcall c;

		invite_a(&c, "bob", SDP_A, 70, NULL);
	}
	r = take_resp(&PA, 407, "INVITE", "INVITE without credentials");
	h = strcasestr(r->buf, "\nProxy-Authenticate: Digest ");
	CHECK_TRUE(h != NULL, "407: Proxy-Authenticate");
	CHECK_HAS(h, "realm=\"" DOMAIN "\"", "407: our realm");
	CHECK_HAS(h, "nonce=\"", "407: a nonce");
	snprintf(nonce, sizeof(nonce), "%s", param_of(h, "nonce"));
	CHECK_TRUE(nonce[0] != 0, "407: the nonce parses");
	CHECK_EQ(calls().n, 0, "no call without credentials");
	expect_nothing("after the challenges");

	/* The INVITE again with good credentials: it goes on to B. */
	{
		struct tcall c;

		digest_ha1("alice", DOMAIN, "secret", ha1);
		digest_response(ha1, nonce, "00000001", "c0ffee", "auth",
				"INVITE", "sip:bob@" DOMAIN, resp);
		snprintf(cred, sizeof(cred),
			 "Proxy-Authorization: Digest username=\"alice\", "
			 "realm=\"" DOMAIN "\", nonce=\"%s\", "
			 "uri=\"sip:bob@" DOMAIN "\", response=\"%s\", "
			 "algorithm=MD5, cnonce=\"c0ffee\", qop=auth, "
			 "nc=00000001\r\n", nonce, resp);
		invite_a(&c, "bob", SDP_A, 70, cred);
		inv = take_invite_b(&c, &PB);
		CHECK_TRUE(!strstr(inv->buf, "Authorization"),
			   "the credentials do not cross to B");
		CHECK_TRUE(!strstr(inv->buf, nonce), "nor the nonce");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invite_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bye_from_a, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bye_from_b, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bye_early, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_before_1xx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_after_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_early_media, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_offer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_offer_prack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reinvite_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reinvite_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reinvite_from_b, setup, teardown),
		cmocka_unit_test_setup_teardown(test_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indialog_misc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_end_by_relay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retransmissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_dialog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_call_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_forwards_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
