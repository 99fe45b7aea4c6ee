// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * SIP through the whole B2BUA (sip/b2bua.c and everything under it:
 * parsing, the transaction layer, dialogs, routing, the registrar, digest
 * authentication, SDP through the media engine, CDRs), the way
 * b2bua_on_message() gets it from the transport.
 *
 * An input is a sequence of messages separated by two NUL bytes (one NUL
 * may be part of a message), fed in order.
 * A message may start with a prefix naming who sends it: "a>" phone A
 * (127.0.0.2:5062, the default), "b>" phone B (bob, registered at
 * 127.0.0.3:5064), "g>" the gateway of the "+1" route (127.0.0.9:5070),
 * "A>" phone A over TCP. An input starting with "!" runs with digest
 * authentication on.
 *
 * What the B2BUA sends is parsed back (it must parse, but for a 400 that
 * echoes the headers of a request that did not), and its fields can
 * be quoted in later messages, so that B's responses match the INVITE the
 * B2BUA sent B and a call gets past its first message: "$Xy" with X the
 * peer it was sent to (A, B or G) and y the field of the last request sent
 * there: b branch, c Call-ID, f From tag, t To tag, n CSeq number; or r,
 * the To tag of the last response sent there.
 *
 * Every input starts from nothing (new registrar and B2BUA, bob
 * registered) and ends with b2bua_shutdown() and b2bua_free(): no media
 * session, port or memory may be left over.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "b2bua.h"
#include "cdr.h"
#include "fuzz_util.h"
#include "media.h"
#include "netaddr.h"
#include "registrar.h"
#include "route.h"
#include "sipmsg.h"
#include "transport.h"

#define DOMAIN "xrelay.test"
#define MAX_MSGS 48
#define FIELD 128

enum { P_A, P_B, P_G, NPEERS };
enum { F_BRANCH, F_CALLID, F_FTAG, F_TTAG, F_CSEQ, F_RTAG, NFIELDS };
static const char field_ch[NFIELDS] = { 'b', 'c', 'f', 't', 'n', 'r' };

static struct media_engine *me;
static struct sip_transport *tp;
static struct routes *rt;
static struct cdr_writer *cdr;
static struct auth *auth;
static struct sip_peer peers[NPEERS], peer_a_tcp;
static char seen[NPEERS][NFIELDS][FIELD];
static int trace; /* XR_FUZZ_TRACE set: print the start line of each message */
static char *const pass[] = { "P-Asserted-Identity", "X-*" };

static struct sip_peer peer(const char *s)
{
	struct sip_peer p;

	memset(&p, 0, sizeof(p));
	if (netaddr_parse(s, -1, &p.addr) < 0)
		abort();
	p.proto = SIP_UDP;
	return p;
}

static void listen_on(enum sip_proto proto)
{
	struct sockaddr_storage ss;
	char err[256];

	/* port 0: the kernel's pick; only tp_is_local and tp_local_for
	 * look at these listeners, nothing reads them */
	netaddr_parse("127.0.0.1:0", -1, &ss);
	if (tp_listen(tp, proto, (struct sockaddr *)&ss, err, sizeof(err))) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char users[] = "/tmp/xr-fuzz-users.XXXXXX", err[256];
	int fd;
	FILE *f;

	(void)argc;
	(void)argv;
	sipmsg_init();
	fuzz_log_init(); /* after libosip2's init, which sets its trace up */
	me = fuzz_engine(46000);
	tp = tp_new(b2bua_on_message, NULL);
	rt = routes_new();
	if (!tp || !rt)
		abort();
	listen_on(SIP_UDP);
	listen_on(SIP_TCP);
	if (routes_add(rt, "prefix:+1 sip:127.0.0.9:5070", err, sizeof(err)) ||
	    routes_add(rt, "domain:carrier.test sip:127.0.0.9:5070;transport=tcp",
		       err, sizeof(err))) {
		fprintf(stderr, "fuzz: routes_add: %s\n", err);
		abort();
	}
	cdr = cdr_open("/dev/null", err, sizeof(err));
	fd = mkstemp(users);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!cdr || !f)
		abort();
	fputs("alice:" DOMAIN ":secret\nbob:" DOMAIN ":bobpw\n", f);
	fclose(f);
	auth = auth_load(users, DOMAIN, err, sizeof(err));
	unlink(users);
	if (!auth) {
		fprintf(stderr, "fuzz: auth_load: %s\n", err);
		abort();
	}
	peers[P_A] = peer("127.0.0.2:5062");
	peers[P_B] = peer("127.0.0.3:5064");
	peers[P_G] = peer("127.0.0.9:5070");
	peer_a_tcp = peers[P_A];
	peer_a_tcp.proto = SIP_TCP;
	peer_a_tcp.conn = 7;
	trace = getenv("XR_FUZZ_TRACE") != NULL;
	return 0;
}

/* ---- what the B2BUA sends ------------------------------------------------ */

static void keep(char *dst, const char *v)
{
	snprintf(dst, FIELD, "%s", v ? v : "");
}

static int fuzz_send(void *ctx, const struct sip_peer *to, const char *buf,
		     size_t len)
{
	char why[160], cid[256], n[32];
	osip_message_t *m = sipmsg_parse(buf, len, why, sizeof(why));
	int p;

	(void)ctx;
	if (!m && len > 12 && !memcmp(buf, "SIP/2.0 400 ", 12))
		return 0; /* a 400 to what did not parse echoes its headers */
	if (!m) {
		fprintf(stderr, "the B2BUA sent a message that does not parse "
			"(%s):\n%.*s\n", why, (int)len, buf);
		abort();
	}
	if (trace)
		fprintf(stderr, "  tx to %s: %.*s\n",
			netaddr_str((const struct sockaddr *)&to->addr, why,
				    sizeof(why)), (int)strcspn(buf, "\r\n"), buf);
	for (p = 0; p < NPEERS; p++)
		if (netaddr_equal((const struct sockaddr *)&to->addr,
				  (const struct sockaddr *)&peers[p].addr))
			break;
	if (p < NPEERS && MSG_IS_REQUEST(m)) {
		keep(seen[p][F_BRANCH], sipmsg_branch(m));
		keep(seen[p][F_CALLID], sipmsg_call_id(m, cid, sizeof(cid)));
		keep(seen[p][F_FTAG], sipmsg_tag(m->from));
		keep(seen[p][F_TTAG], sipmsg_tag(m->to));
		snprintf(n, sizeof(n), "%u", sipmsg_cseq(m));
		keep(seen[p][F_CSEQ], n);
	} else if (p < NPEERS && m->status_code > 100) {
		keep(seen[p][F_RTAG], sipmsg_tag(m->to));
	}
	osip_message_free(m);
	return 0;
}

/* ---- feeding --------------------------------------------------------------- */

/* msg with "$Xy" replaced, into out (at most outcap - 1 bytes). */
static size_t expand(const char *msg, size_t len, char *out, size_t outcap)
{
	static const char peer_ch[NPEERS] = { 'A', 'B', 'G' };
	size_t i = 0, o = 0;

	while (i < len && o < outcap - 1) {
		const char *v = NULL;

		if (msg[i] == '$' && i + 2 < len) {
			const char *pp = memchr(peer_ch, msg[i + 1], NPEERS);
			const char *fp = memchr(field_ch, msg[i + 2], NFIELDS);

			if (pp && fp)
				v = seen[pp - peer_ch][fp - field_ch];
		}
		if (v) {
			size_t vl = strlen(v);

			if (vl > outcap - 1 - o)
				vl = outcap - 1 - o;
			memcpy(out + o, v, vl);
			o += vl;
			i += 3;
		} else {
			out[o++] = msg[i++];
		}
	}
	return o;
}

static int count_call(const struct b2bua_call_info *ci, void *arg)
{
	(*(int *)arg) += ci->phase == CALL_UP;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[TP_MAX_MSG + 1];
	const char *p = (const char *)data, *end = p + size;
	struct b2bua_cfg cfg = { .domain = DOMAIN };
	struct b2bua_deps d = { 0 };
	struct b2bua_stats st;
	struct b2bua *b;
	struct registrar *reg = registrar_new(60, 3600);
	struct timespec ts;
	int n = 0, up = 0;

	if (!reg)
		abort();
	memset(seen, 0, sizeof(seen));
	cfg.pass_headers = pass;
	cfg.npass = 2;
	cfg.max_calls = 4;
	cfg.retry_after_s = 5;
	cfg.session_expires_s = 1800;
	cfg.min_se_s = 90;
	cfg.reg_min_expires_s = 60;
	cfg.reg_max_expires_s = 3600;
	cfg.max_forwards = 70;
	d.tp = tp;
	d.me = me;
	d.reg = reg;
	d.rt = rt;
	d.cdr = cdr;
	d.send = fuzz_send;
	if (size && *p == '!') {
		d.auth = auth;
		p++;
	}
	b = b2bua_new(&cfg, &d);
	if (!b)
		abort();
	/* on the B2BUA's clock (b2b_now_ms: CLOCK_MONOTONIC) */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	registrar_update(reg, "bob@" DOMAIN, "sip:bob@127.0.0.3:5064", 600,
			 "reg-bob@phone", 1, &peers[P_B],
			 (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
	while (p < end && n++ < MAX_MSGS) {
		const char *sep = memmem(p, (size_t)(end - p), "\0\0", 2);
		const char *e = sep ? sep : end;
		const struct sip_peer *from = &peers[P_A];
		size_t len;

		if (e - p >= 2 && p[1] == '>') {
			switch (p[0]) {
			case 'b': from = &peers[P_B]; p += 2; break;
			case 'g': from = &peers[P_G]; p += 2; break;
			case 'A': from = &peer_a_tcp; p += 2; break;
			case 'a': p += 2; break;
			}
		}
		len = expand(p, (size_t)(e - p), buf, sizeof(buf));
		buf[len] = 0; /* what the transport promises */
		if (trace)
			fprintf(stderr, "rx: %.*s\n", (int)strcspn(buf, "\r\n"),
				buf);
		b2bua_on_message(b, buf, len, from);
		b2bua_tick(b);
		p = sep ? sep + 2 : end;
	}
	b2bua_foreach_call(b, count_call, &up);
	b2bua_stats(b, &st);
	b2bua_timeout_ms(b);
	b2bua_shutdown(b);
	b2bua_tick(b);
	b2bua_free(b);
	registrar_free(reg);
	if (fuzz_engine_clear(me)) {
		fprintf(stderr, "media sessions left after b2bua_free()\n");
		abort();
	}
	return 0;
}
