// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The transaction layer (sip/txn.c): RFC 3261 section 17 state machines
 * with RFC 6026's Accepted states, driven by a fake clock. The fake send
 * parses every message back, so the checks read methods, status codes,
 * branches and headers off what went on the wire, with the time it went.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "txn.h"
#include "check.h"

#define T1 TXN_T1
#define T2 TXN_T2
#define T4 TXN_T4

/* ---- the fake transport, clock and TU ---------------------------------- */

struct sent {
	osip_message_t *m;	/* parsed back from the bytes */
	uint64_t at;
	enum sip_proto proto;
};

enum ev_kind { EV_REQUEST, EV_RESPONSE, EV_TIMEOUT, EV_GONE, EV_STRAY };

struct ev {
	enum ev_kind kind;
	struct sip_txn *t;
	int code;		/* responses */
	char method[16];	/* requests */
	char branch[64];	/* requests: top Via branch */
	uint64_t at;
};

static struct env {
	uint64_t now;
	int send_rc;		/* what the fake send returns */
	struct sent *sent;
	size_t nsent, capsent;
	struct ev *ev;
	size_t nev, capev;
	struct sip_txn **known;	/* every transaction the TU learnt of */
	size_t nknown, capknown;
	unsigned after_gone;	/* callbacks for a transaction after gone */
	/* hooks that call back into the layer */
	void (*on_request)(struct sip_txn *t, osip_message_t *m);
	void (*on_timeout)(struct sip_txn *t);
	struct sip_txn *other;	/* a transaction for the hooks */
	int hook_rc;
	enum txn_state hook_state;
	size_t nsent_base;
} E;

static struct sip_txl *L;
static struct sip_peer UDP, TCP;

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	p = realloc(p, *cap * size);
	if (!p)
		abort();
	return p;
}

static int is_gone(const struct sip_txn *t)
{
	for (size_t i = 0; i < E.nev; i++)
		if (E.ev[i].kind == EV_GONE && E.ev[i].t == t)
			return 1;
	return 0;
}

static void known_add(struct sip_txn *t)
{
	for (size_t i = 0; i < E.nknown; i++)
		if (E.known[i] == t)
			return;
	E.known = grow(E.known, &E.capknown, E.nknown, sizeof(*E.known));
	E.known[E.nknown++] = t;
}

static const char *branch_of(const osip_message_t *m)
{
	osip_via_t *v = osip_list_get(&m->vias, 0);
	osip_generic_param_t *p = NULL;

	if (!v || osip_via_param_get_byname(v, "branch", &p) != 0 || !p)
		return NULL;
	return p->gvalue;
}

static struct ev *record(enum ev_kind kind, struct sip_txn *t)
{
	struct ev *e;

	if (t && is_gone(t))
		E.after_gone++;
	E.ev = grow(E.ev, &E.capev, E.nev, sizeof(*E.ev));
	e = &E.ev[E.nev++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->t = t;
	e->at = E.now;
	return e;
}

static int fake_send(void *ctx, const struct sip_peer *to, const char *buf,
		     size_t len)
{
	struct sent *s;

	(void)ctx;
	E.sent = grow(E.sent, &E.capsent, E.nsent, sizeof(*E.sent));
	s = &E.sent[E.nsent++];
	s->at = E.now;
	s->proto = to->proto;
	osip_message_init(&s->m);
	if (osip_message_parse(s->m, buf, len) != 0)
		fail_msg("the layer sent what osip cannot parse: %.*s",
			 (int)len, buf);
	return E.send_rc;
}

static uint64_t fake_now(void *ctx)
{
	(void)ctx;
	return E.now;
}

static void on_request(void *ctx, struct sip_txn *t, osip_message_t *m,
		       const struct sip_peer *from)
{
	struct ev *e = record(EV_REQUEST, t);
	const char *br = branch_of(m);

	(void)ctx;
	(void)from;
	snprintf(e->method, sizeof(e->method), "%s", m->sip_method);
	snprintf(e->branch, sizeof(e->branch), "%s", br ? br : "");
	if (t)
		known_add(t);
	if (E.on_request)
		E.on_request(t, m);
}

static void on_response(void *ctx, struct sip_txn *t, osip_message_t *m)
{
	(void)ctx;
	record(EV_RESPONSE, t)->code = m->status_code;
}

static void on_timeout(void *ctx, struct sip_txn *t)
{
	(void)ctx;
	record(EV_TIMEOUT, t);
	if (E.on_timeout)
		E.on_timeout(t);
}

static void on_gone(void *ctx, struct sip_txn *t)
{
	(void)ctx;
	if (is_gone(t))
		E.after_gone++;	/* gone twice */
	record(EV_GONE, t);
}

static void on_stray(void *ctx, osip_message_t *m,
		     const struct sip_peer *from)
{
	(void)ctx;
	(void)from;
	record(EV_STRAY, NULL)->code = m->status_code;
}

static const struct txl_ops OPS = {
	.send = fake_send,
	.now_ms = fake_now,
	.request = on_request,
	.response = on_response,
	.timeout = on_timeout,
	.gone = on_gone,
	.stray_response = on_stray,
};

static void reset_env(void)
{
	for (size_t i = 0; i < E.nsent; i++)
		osip_message_free(E.sent[i].m);
	free(E.sent);
	free(E.ev);
	free(E.known);
	memset(&E, 0, sizeof(E));
}

static void set_peer(struct sip_peer *p, enum sip_proto proto)
{
	struct sockaddr_in *a = (struct sockaddr_in *)&p->addr;

	memset(p, 0, sizeof(*p));
	p->proto = proto;
	a->sin_family = AF_INET;
	a->sin_port = htons(5060);
	inet_pton(AF_INET, "192.0.2.10", &a->sin_addr);
}

static int setup(void **state)
{
	(void)state;
	reset_env();
	set_peer(&UDP, SIP_UDP);
	set_peer(&TCP, SIP_TCP);
	L = txl_new(&OPS, &E);
	return L ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	txl_free(L);
	L = NULL;
	reset_env();
	return 0;
}

/* ---- messages ------------------------------------------------------------ */

struct rq {
	const char *method, *branch, *host, *call_id, *from_tag, *to_tag;
	int cseq;
	const char *extra;	/* more header lines, each ending in CRLF */
};

static osip_message_t *mkreq(struct rq q)
{
	char buf[2048], br[80] = "";
	osip_message_t *m;

	if (q.branch)
		snprintf(br, sizeof(br), ";branch=%s", q.branch);
	snprintf(buf, sizeof(buf),
		 "%s sip:bob@b.example SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP %s:5060%s\r\n"
		 "%s"
		 "Max-Forwards: 69\r\n"
		 "Route: <sip:p1.example;lr>\r\n"
		 "Route: <sip:p2.example;lr>\r\n"
		 "From: <sip:alice@a.example>;tag=%s\r\n"
		 "To: <sip:bob@b.example>%s%s\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: %d %s\r\n"
		 "Content-Length: 0\r\n\r\n",
		 q.method, q.host ? q.host : "a.example", br,
		 q.extra ? q.extra : "", q.from_tag ? q.from_tag : "fa",
		 q.to_tag ? ";tag=" : "", q.to_tag ? q.to_tag : "",
		 q.call_id ? q.call_id : "c1@a.example", q.cseq ? q.cseq : 1,
		 q.method);
	osip_message_init(&m);
	if (osip_message_parse(m, buf, strlen(buf)) != 0)
		fail_msg("test request does not parse:\n%s", buf);
	return m;
}

#define REQ(...) mkreq((struct rq){ __VA_ARGS__ })

/* A response to r as its UAS would build it: every Via, To with a tag. */
static osip_message_t *resp_to(const osip_message_t *r, int code,
			       const char *to_tag)
{
	osip_message_t *m;

	osip_message_init(&m);
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	osip_message_set_status_code(m, code);
	osip_message_set_reason_phrase(m, osip_strdup("Test"));
	for (int i = 0; i < osip_list_size(&r->vias); i++) {
		osip_via_t *v;

		osip_via_clone(osip_list_get(&r->vias, i), &v);
		osip_list_add(&m->vias, v, -1);
	}
	osip_from_clone(r->from, &m->from);
	osip_to_clone(r->to, &m->to);
	if (to_tag)
		osip_to_set_tag(m->to, osip_strdup(to_tag));
	osip_call_id_clone(r->call_id, &m->call_id);
	osip_cseq_clone(r->cseq, &m->cseq);
	return m;
}

/* ---- helpers ------------------------------------------------------------- */

/* The owner's event loop: tick whenever txl_timeout_ms() says, up to
 * target. The clock only ever jumps to a deadline the layer announced, so
 * a wrong txl_timeout_ms() shows as a timer that fires late or never. */
static void run_until(uint64_t target)
{
	for (int guard = 0; guard < 1000000; guard++) {
		int d = txl_timeout_ms(L);

		if (d < 0 || E.now + (uint64_t)d > target) {
			E.now = target;
			txl_tick(L);
			return;
		}
		E.now += (uint64_t)d;
		txl_tick(L);
	}
	fail_msg("run_until(%llu): the layer keeps asking for a tick at %llu",
		 (unsigned long long)target, (unsigned long long)E.now);
}

static struct sip_txn *client(osip_message_t *m, const struct sip_peer *p)
{
	struct sip_txn *t = txl_request(L, m, p, NULL);

	CHECK_TRUE(t != NULL, "txl_request of a valid request");
	known_add(t);
	return t;
}

/* A request arrives; returns the server transaction the TU was given. */
static struct sip_txn *serve(osip_message_t *m, const struct sip_peer *p)
{
	size_t n = E.nev;

	txl_recv(L, m, p);
	CHECK_EQ(E.nev, n + 1, "one request callback for a new request");
	CHECK_EQ(E.ev[n].kind, EV_REQUEST, "the event is a request");
	CHECK_TRUE(E.ev[n].t != NULL, "a new request has a transaction");
	return E.ev[n].t;
}

static size_t count(enum ev_kind kind, const struct sip_txn *t)
{
	size_t n = 0;

	for (size_t i = 0; i < E.nev; i++)
		if (E.ev[i].kind == kind && (!t || E.ev[i].t == t))
			n++;
	return n;
}

static const struct ev *find_ev(enum ev_kind kind, const struct sip_txn *t)
{
	for (size_t i = 0; i < E.nev; i++)
		if (E.ev[i].kind == kind && E.ev[i].t == t)
			return &E.ev[i];
	return NULL;
}

static ptrdiff_t ev_index(enum ev_kind kind, const struct sip_txn *t)
{
	const struct ev *e = find_ev(kind, t);

	return e ? e - E.ev : -1;
}

static osip_message_t *sent(size_t i)
{
	CHECK_TRUE(i < E.nsent, "a message was sent");
	return E.sent[i].m;
}

/* The send times of messages [from, nsent) are exactly at[0..n). */
static void check_times(size_t from, const uint64_t *at, size_t n,
			const char *what)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "%s: number sent", what);
	CHECK_EQ(E.nsent - from, n, msg);
	for (size_t i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "%s: send %zu at", what, i);
		CHECK_EQ(E.sent[from + i].at, at[i], msg);
	}
}

static void check_same_sent(size_t a, size_t b, const char *what)
{
	char *x, *y;
	size_t xl, yl;

	osip_message_to_str(sent(a), &x, &xl);
	osip_message_to_str(sent(b), &y, &yl);
	CHECK_STR(y, x, what);
	osip_free(x);
	osip_free(y);
}

static struct txl_stats stats(void)
{
	struct txl_stats s;

	txl_stats(L, &s);
	return s;
}

/* The end of every test: free the layer, then every transaction the TU
 * ever saw got exactly one gone, and no callback came after it. */
static void end_test(void)
{
	txl_free(L);
	L = NULL;
	for (size_t i = 0; i < E.nknown; i++)
		CHECK_EQ(count(EV_GONE, E.known[i]), 1,
			 "gone exactly once per transaction");
	CHECK_EQ(count(EV_GONE, NULL), E.nknown,
		 "gone only for transactions the TU knew");
	CHECK_EQ(E.after_gone, 0, "callbacks after gone");
}

/* ---- INVITE client ----------------------------------------------------- */

static void test_ict_timer_a_b_udp(void **state)
{
	static const uint64_t at[] = { 0, 500, 1500, 3500, 7500, 15500, 31500 };
	struct sip_txn *t;

	(void)state;
	t = client(REQ(.method = "INVITE", .branch = "z9hG4bKa1"), &UDP);
	CHECK_EQ(txn_kind(t), TXN_ICT, "INVITE makes an ICT");
	CHECK_EQ(txn_state(t), TXS_CALLING, "ICT starts in Calling");
	run_until(499);
	CHECK_EQ(E.nsent, 1, "no retransmission before T1");
	run_until(31999);
	check_times(0, at, 7, "Timer A: T1 doubling");
	for (size_t i = 1; i < E.nsent; i++) {
		CHECK_STR(sent(i)->sip_method, "INVITE", "retransmits INVITE");
		CHECK_STR(branch_of(sent(i)), "z9hG4bKa1", "same branch");
	}
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "no Timer B before 64*T1");
	run_until(32000);
	CHECK_EQ(count(EV_TIMEOUT, t), 1, "Timer B at 64*T1");
	CHECK_EQ(find_ev(EV_TIMEOUT, t)->at, 64 * T1, "Timer B time");
	CHECK_TRUE(ev_index(EV_TIMEOUT, t) < ev_index(EV_GONE, t),
		   "timeout before gone");
	CHECK_EQ(E.nsent, 7, "nothing sent at Timer B");
	CHECK_EQ(stats().retransmissions, 6, "stats: retransmissions");
	CHECK_EQ(stats().timeouts, 1, "stats: timeouts");
	CHECK_EQ(stats().active, 0, "stats: active after Timer B");
	CHECK_EQ(txl_timeout_ms(L), -1, "no timer left");
	end_test();
}

static void test_ict_no_retransmit_tcp(void **state)
{
	struct sip_txn *t;

	(void)state;
	t = client(REQ(.method = "INVITE", .branch = "z9hG4bKa2"), &TCP);
	CHECK_EQ(txl_timeout_ms(L), 64 * T1, "TCP: only Timer B runs");
	run_until(31999);
	CHECK_EQ(E.nsent, 1, "no Timer A over TCP");
	CHECK_EQ(E.sent[0].proto, SIP_TCP, "sent over the peer's transport");
	run_until(32000);
	CHECK_EQ(count(EV_TIMEOUT, t), 1, "Timer B over TCP too");
	end_test();
}

static void test_ict_non2xx_ack(void **state)
{
	const char *extra = "Via: SIP/2.0/UDP second.example;branch=z9hG4bKx\r\n";
	struct sip_txn *t;
	osip_message_t *ack, *inv;
	osip_generic_param_t *tag = NULL;
	osip_route_t *r;
	osip_header_t *mf = NULL;
	char *s;

	(void)state;
	t = client(REQ(.method = "INVITE", .branch = "z9hG4bKa3",
		       .extra = extra), &UDP);
	inv = txn_request(t);
	run_until(1000);		/* one retransmission at 500 */
	CHECK_EQ(E.nsent, 2, "INVITE and one retransmission");
	txl_recv(L, resp_to(inv, 486, "tb"), &UDP);
	CHECK_EQ(txn_state(t), TXS_COMPLETED, "486 moves ICT to Completed");
	CHECK_EQ(count(EV_RESPONSE, t), 1, "486 passed up");
	CHECK_EQ(find_ev(EV_RESPONSE, t)->code, 486, "486 passed up as is");
	CHECK_EQ(E.nsent, 3, "the layer sent the ACK");

	ack = sent(2);
	CHECK_STR(ack->sip_method, "ACK", "ACK method");
	osip_uri_to_str(ack->req_uri, &s);
	CHECK_STR(s, "sip:bob@b.example", "ACK Request-URI is the INVITE's");
	osip_free(s);
	CHECK_STR(branch_of(ack), "z9hG4bKa3", "ACK branch is the INVITE's");
	CHECK_EQ(osip_list_size(&ack->vias), 1, "ACK has the top Via only");
	CHECK_STR(ack->cseq->method, "ACK", "ACK CSeq method");
	CHECK_STR(ack->cseq->number, "1", "ACK CSeq number is the INVITE's");
	CHECK_STR(ack->call_id->number, "c1", "ACK Call-ID");
	osip_to_get_tag(ack->to, &tag);
	CHECK_TRUE(tag != NULL, "ACK To has a tag");
	CHECK_STR(tag->gvalue, "tb", "ACK To tag is the response's");
	tag = NULL;
	osip_from_get_tag(ack->from, &tag);
	CHECK_TRUE(tag != NULL, "ACK From has a tag");
	CHECK_STR(tag->gvalue, "fa", "ACK From is the INVITE's");
	CHECK_EQ(osip_list_size(&ack->routes), 2, "ACK carries the Routes");
	osip_message_get_max_forwards(ack, 0, &mf);
	CHECK_TRUE(mf != NULL, "ACK has Max-Forwards");
	CHECK_STR(mf->hvalue, "69", "ACK Max-Forwards is the INVITE's");
	r = osip_list_get(&ack->routes, 0);
	CHECK_STR(r->url->host, "p1.example", "first Route kept in order");

	/* The final again: the ACK again, nothing to the TU. */
	E.now = 2000;
	txl_recv(L, resp_to(inv, 486, "tb"), &UDP);
	CHECK_EQ(E.nsent, 4, "ACK re-sent for the retransmitted 486");
	check_same_sent(2, 3, "the same ACK");
	CHECK_EQ(count(EV_RESPONSE, t), 1, "486 passed up once only");
	CHECK_EQ(stats().absorbed, 1, "stats: the 486 absorbed");
	CHECK_EQ(stats().retransmissions, 2, "stats: INVITE + ACK resent");

	/* Timer D: 32 s after the final, quietly. */
	run_until(1000 + 32000 - 1);
	CHECK_EQ(E.nsent, 4, "no INVITE retransmission in Completed");
	CHECK_EQ(txn_state(t), TXS_COMPLETED, "Completed until Timer D");
	CHECK_EQ(count(EV_GONE, t), 0, "not gone before Timer D");
	run_until(1000 + 32000);
	CHECK_EQ(count(EV_GONE, t), 1, "gone at Timer D");
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "Timer D is no timeout");
	end_test();
}

static void test_ict_non2xx_tcp_timer_d_zero(void **state)
{
	struct sip_txn *t;

	(void)state;
	t = client(REQ(.method = "INVITE", .branch = "z9hG4bKa4"), &TCP);
	E.now = 100;
	txl_recv(L, resp_to(txn_request(t), 603, "tb"), &TCP);
	CHECK_EQ(E.nsent, 2, "ACK over TCP");
	CHECK_STR(sent(1)->sip_method, "ACK", "the ACK");
	CHECK_EQ(txl_timeout_ms(L), 0, "Timer D is 0 over TCP: due now");
	CHECK_EQ(count(EV_GONE, t), 0, "txl_recv never frees");
	txl_tick(L);
	CHECK_EQ(count(EV_GONE, t), 1, "gone at the next tick");
	end_test();
}

static void test_ict_2xx_accepted_timer_m(void **state)
{
	struct sip_txn *t;
	osip_message_t *inv, *ack;

	(void)state;
	t = client(REQ(.method = "INVITE", .branch = "z9hG4bKa5"), &UDP);
	inv = txn_request(t);
	E.now = 200;
	txl_recv(L, resp_to(inv, 180, "tb"), &UDP);
	CHECK_EQ(txn_state(t), TXS_PROCEEDING, "180 -> Proceeding");
	txl_recv(L, resp_to(inv, 180, "tb"), &UDP);
	CHECK_EQ(count(EV_RESPONSE, t), 2, "every provisional passed up");
	run_until(40000);
	CHECK_EQ(E.nsent, 1, "no Timer A in Proceeding");
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "no Timer B in Proceeding");
	txl_recv(L, resp_to(inv, 200, "tb"), &UDP);
	CHECK_EQ(txn_state(t), TXS_ACCEPTED, "2xx -> Accepted");
	CHECK_EQ(E.nsent, 1, "the layer does not ACK a 2xx");
	/* The TU does, outside the transaction; it keeps its message. */
	ack = REQ(.method = "ACK", .branch = "z9hG4bKa5ack", .to_tag = "tb");
	CHECK_EQ(txl_send_stateless(L, ack, &UDP), 0, "stateless ACK sent");
	CHECK_STR(sent(1)->sip_method, "ACK", "as an ACK");
	CHECK_STR(branch_of(sent(1)), "z9hG4bKa5ack", "with its own branch");
	E.send_rc = -1;
	CHECK_EQ(txl_send_stateless(L, ack, &UDP), -1, "send error returned");
	E.send_rc = 0;
	osip_message_free(ack);
	E.nsent_base = E.nsent;
	E.now = 41000;
	txl_recv(L, resp_to(inv, 200, "tb"), &UDP);
	txl_recv(L, resp_to(inv, 200, "tc"), &UDP); /* another fork */
	CHECK_EQ(count(EV_RESPONSE, t), 5, "every 2xx passed up");
	CHECK_EQ(E.ev[E.nev - 1].code, 200, "as a 200");
	txl_recv(L, resp_to(inv, 486, "td"), &UDP);
	CHECK_EQ(count(EV_RESPONSE, t), 5, "no non-2xx in Accepted");
	run_until(40000 + 64 * T1 - 1);
	CHECK_EQ(E.nsent, E.nsent_base, "the layer sends nothing in Accepted");
	CHECK_EQ(count(EV_GONE, t), 0, "Accepted until Timer M");
	run_until(40000 + 64 * T1);
	CHECK_EQ(count(EV_GONE, t), 1, "gone at Timer M");
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "Timer M is no timeout");
	/* The transaction (and its request) is gone: a request built anew
	 * gives the late 2xx. */
	inv = REQ(.method = "INVITE", .branch = "z9hG4bKa5");
	txl_recv(L, resp_to(inv, 200, "tb"), &UDP);
	osip_message_free(inv);
	CHECK_EQ(count(EV_STRAY, NULL), 1, "a 2xx after Timer M is stray");
	end_test();
}

static void test_ict_2xx_after_non2xx_is_stray(void **state)
{
	struct sip_txn *t;

	(void)state;
	t = client(REQ(.method = "INVITE", .branch = "z9hG4bKa6"), &UDP);
	txl_recv(L, resp_to(txn_request(t), 486, "tb"), &UDP);
	txl_recv(L, resp_to(txn_request(t), 200, "tc"), &UDP);
	CHECK_EQ(count(EV_RESPONSE, t), 1, "only the 486 on the transaction");
	CHECK_EQ(count(EV_STRAY, NULL), 1, "the 200 of another fork: stray");
	CHECK_EQ(E.ev[E.nev - 1].code, 200, "stray carries the 200");
	end_test();
}

static void test_ict_timer_c_guard(void **state)
{
	struct sip_txn *t;

	(void)state;
	t = client(REQ(.method = "INVITE", .branch = "z9hG4bKa7"), &UDP);
	txl_recv(L, resp_to(txn_request(t), 183, "tb"), &UDP);
	run_until(180000);
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "rings for 3 minutes");
	run_until(181000);
	CHECK_EQ(count(EV_TIMEOUT, t), 1, "no final in 181 s: timeout");
	end_test();
}

/* ---- non-INVITE client -------------------------------------------------- */

static void test_nict_timer_e_f(void **state)
{
	static const uint64_t at[] = { 0, 500, 1500, 3500, 7500, 11500, 15500,
				       19500, 23500, 27500, 31500 };
	struct sip_txn *t;

	(void)state;
	t = client(REQ(.method = "OPTIONS", .branch = "z9hG4bKn1"), &UDP);
	CHECK_EQ(txn_kind(t), TXN_NICT, "OPTIONS makes a NICT");
	CHECK_EQ(txn_state(t), TXS_TRYING, "NICT starts in Trying");
	run_until(31999);
	check_times(0, at, 11, "Timer E: T1 doubling, capped at T2");
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "no Timer F before 64*T1");
	run_until(32000);
	CHECK_EQ(count(EV_TIMEOUT, t), 1, "Timer F at 64*T1");
	CHECK_EQ(find_ev(EV_TIMEOUT, t)->at, 32000, "Timer F time");
	end_test();
}

static void test_nict_proceeding_t2(void **state)
{
	static const uint64_t at[] = { 0, 500, 4500, 8500, 12500 };
	struct sip_txn *t;

	(void)state;
	t = client(REQ(.method = "BYE", .branch = "z9hG4bKn2"), &UDP);
	E.now = 100;
	txl_recv(L, resp_to(txn_request(t), 100, NULL), &UDP);
	CHECK_EQ(txn_state(t), TXS_PROCEEDING, "100 -> Proceeding");
	CHECK_EQ(count(EV_RESPONSE, t), 1, "100 passed up");
	/* Timer E set in Trying fires at 500, then every T2. */
	run_until(15000);
	check_times(0, at, 5, "Timer E in Proceeding: T2");
	end_test();
}

static void test_nict_timer_k(void **state)
{
	struct sip_txn *t, *u;

	(void)state;
	t = client(REQ(.method = "REGISTER", .branch = "z9hG4bKn3"), &UDP);
	run_until(1000);
	txl_recv(L, resp_to(txn_request(t), 200, "tb"), &UDP);
	CHECK_EQ(txn_state(t), TXS_COMPLETED, "200 -> Completed");
	CHECK_EQ(count(EV_RESPONSE, t), 1, "200 passed up");
	txl_recv(L, resp_to(txn_request(t), 200, "tb"), &UDP);
	CHECK_EQ(count(EV_RESPONSE, t), 1, "retransmitted 200 absorbed");
	CHECK_EQ(stats().absorbed, 1, "stats: absorbed");
	run_until(1000 + T4 - 1);
	CHECK_EQ(E.nsent, 2, "one Timer E (at 500), none in Completed");
	CHECK_EQ(txn_state(t), TXS_COMPLETED, "Completed until Timer K");
	run_until(1000 + T4);
	CHECK_EQ(count(EV_GONE, t), 1, "gone at Timer K = T4");
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "Timer K is no timeout");

	u = client(REQ(.method = "REGISTER", .branch = "z9hG4bKn4"), &TCP);
	txl_recv(L, resp_to(txn_request(u), 401, "tb"), &TCP);
	CHECK_EQ(txl_timeout_ms(L), 0, "Timer K is 0 over TCP");
	txl_tick(L);
	CHECK_EQ(count(EV_GONE, u), 1, "gone at once over TCP");
	end_test();
}

static void test_set_timers(void **state)
{
	static const uint64_t at[] = { 0, 100, 300, 700, 1100, 1500 };
	struct txn_timers tm = { 100, 400, 1000 };
	struct sip_txn *t;

	(void)state;
	txl_set_timers(L, &tm);
	t = client(REQ(.method = "OPTIONS", .branch = "z9hG4bKn5"), &UDP);
	run_until(1500);
	check_times(0, at, 6, "Timer E with T1=100, T2=400");
	run_until(6399);
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "no Timer F before 64*100");
	run_until(6400);
	CHECK_EQ(count(EV_TIMEOUT, t), 1, "Timer F at 64*T1 = 6400");
	end_test();
}

/* ---- INVITE server ------------------------------------------------------- */

static void test_ist_retransmit_provisional(void **state)
{
	struct sip_txn *t;

	(void)state;
	t = serve(REQ(.method = "INVITE", .branch = "z9hG4bKs1"), &UDP);
	CHECK_EQ(txn_kind(t), TXN_IST, "INVITE makes an IST");
	CHECK_EQ(txn_state(t), TXS_PROCEEDING, "IST starts in Proceeding");
	CHECK_STR(txn_request(t)->sip_method, "INVITE", "txn_request");
	txl_recv(L, REQ(.method = "INVITE", .branch = "z9hG4bKs1"), &UDP);
	CHECK_EQ(count(EV_REQUEST, NULL), 1, "retransmission not passed up");
	CHECK_EQ(E.nsent, 0, "nothing to resend before a response");
	CHECK_EQ(txl_respond(L, t, resp_to(txn_request(t), 180, "tb")), 0,
		 "respond 180");
	CHECK_EQ(E.nsent, 1, "180 sent");
	CHECK_EQ(sent(0)->status_code, 180, "as 180");
	txl_recv(L, REQ(.method = "INVITE", .branch = "z9hG4bKs1"), &UDP);
	CHECK_EQ(E.nsent, 2, "retransmitted INVITE: 180 again");
	CHECK_EQ(sent(1)->status_code, 180, "the last provisional");
	CHECK_EQ(count(EV_REQUEST, NULL), 1, "still one request callback");
	CHECK_EQ(stats().absorbed, 2, "stats: two INVITEs absorbed");
	CHECK_EQ(stats().retransmissions, 1, "stats: 180 resent once");
	/* Same branch from another sent-by is another transaction. */
	serve(REQ(.method = "INVITE", .branch = "z9hG4bKs1",
		  .host = "other.example"), &UDP);
	CHECK_EQ(stats().active, 2, "two ISTs");
	end_test();
}

static void test_ist_non2xx_timer_g_ack_timer_i(void **state)
{
	static const uint64_t at[] = { 0, 500, 1500, 3500, 7500, 11500 };
	struct sip_txn *t;

	(void)state;
	t = serve(REQ(.method = "INVITE", .branch = "z9hG4bKs2"), &UDP);
	txl_respond(L, t, resp_to(txn_request(t), 486, "tb"));
	CHECK_EQ(txn_state(t), TXS_COMPLETED, "486 -> Completed");
	CHECK_TRUE(txl_find_invite(L, txn_request(t)) == NULL,
		   "no CANCEL target after a final");
	run_until(12000);
	check_times(0, at, 6, "Timer G: T1 doubling, capped at T2");
	for (size_t i = 0; i < E.nsent; i++)
		CHECK_EQ(sent(i)->status_code, 486, "G resends the 486");
	txl_recv(L, REQ(.method = "ACK", .branch = "z9hG4bKs2",
			.to_tag = "tb"), &UDP);
	CHECK_EQ(txn_state(t), TXS_CONFIRMED, "ACK -> Confirmed");
	CHECK_EQ(count(EV_REQUEST, NULL), 1, "ACK of a non-2xx not passed up");
	txl_recv(L, REQ(.method = "ACK", .branch = "z9hG4bKs2",
			.to_tag = "tb"), &UDP);
	CHECK_EQ(stats().absorbed, 1, "ACK retransmission absorbed");
	run_until(12000 + T4 - 1);
	CHECK_EQ(E.nsent, 6, "no Timer G in Confirmed");
	CHECK_EQ(count(EV_GONE, t), 0, "Confirmed until Timer I");
	run_until(12000 + T4);
	CHECK_EQ(count(EV_GONE, t), 1, "gone at Timer I = T4");
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "no timeout with the ACK");
	end_test();
}

static void test_ist_timer_h(void **state)
{
	struct sip_txn *t;

	(void)state;
	t = serve(REQ(.method = "INVITE", .branch = "z9hG4bKs3"), &UDP);
	E.now = 10;
	txl_respond(L, t, resp_to(txn_request(t), 500, "tb"));
	run_until(10 + 64 * T1 - 1);
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "no Timer H before 64*T1");
	CHECK_EQ(E.nsent, 11, "Timer G: 1 + 10 retransmissions in 32 s");
	run_until(10 + 64 * T1);
	CHECK_EQ(count(EV_TIMEOUT, t), 1, "Timer H: no ACK");
	CHECK_TRUE(ev_index(EV_TIMEOUT, t) < ev_index(EV_GONE, t),
		   "timeout, then gone");
	end_test();
}

static void test_ist_tcp_no_timer_g(void **state)
{
	struct sip_txn *t;

	(void)state;
	t = serve(REQ(.method = "INVITE", .branch = "z9hG4bKs4"), &TCP);
	txl_respond(L, t, resp_to(txn_request(t), 404, "tb"));
	run_until(64 * T1 - 1);
	CHECK_EQ(E.nsent, 1, "no Timer G over TCP");
	txl_recv(L, REQ(.method = "ACK", .branch = "z9hG4bKs4"), &TCP);
	CHECK_EQ(txn_state(t), TXS_CONFIRMED, "ACK -> Confirmed");
	CHECK_EQ(txl_timeout_ms(L), 0, "Timer I is 0 over TCP");
	txl_tick(L);
	CHECK_EQ(count(EV_GONE, t), 1, "gone");
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "no Timer H");
	end_test();
}

static void test_ist_2xx_until_ack(void **state)
{
	static const uint64_t at[] = { 0, 500, 1500, 3500, 7500 };
	struct sip_txn *t;
	const struct ev *e;

	(void)state;
	t = serve(REQ(.method = "INVITE", .branch = "z9hG4bKs5",
		      .cseq = 7), &UDP);
	txl_respond(L, t, resp_to(txn_request(t), 200, "tb"));
	CHECK_EQ(txn_state(t), TXS_ACCEPTED, "2xx -> Accepted");
	run_until(8000);
	check_times(0, at, 5, "2xx retransmitted, T1 doubling");
	/* An ACK of another dialog or CSeq does not stop it. */
	txl_recv(L, REQ(.method = "ACK", .branch = "z9hG4bKack0", .cseq = 6,
			.to_tag = "tb"), &UDP);
	txl_recv(L, REQ(.method = "ACK", .branch = "z9hG4bKack1", .cseq = 7,
			.from_tag = "zz", .to_tag = "tb"), &UDP);
	txl_recv(L, REQ(.method = "ACK", .branch = "z9hG4bKack2", .cseq = 7,
			.call_id = "c2@a.example", .to_tag = "tb"), &UDP);
	run_until(11500);
	CHECK_EQ(E.nsent, 6, "foreign ACKs: 2xx still retransmitted at 11.5 s");
	txl_recv(L, REQ(.method = "ACK", .branch = "z9hG4bKack3", .cseq = 7,
			.to_tag = "tb"), &UDP);
	e = &E.ev[E.nev - 1];
	CHECK_EQ(e->kind, EV_REQUEST, "the ACK is passed up");
	CHECK_TRUE(e->t == NULL, "with t = NULL");
	CHECK_STR(e->method, "ACK", "as an ACK");
	CHECK_STR(e->branch, "z9hG4bKack3", "the ACK itself");
	CHECK_EQ(count(EV_REQUEST, NULL), 5, "INVITE and four ACKs passed up");
	CHECK_EQ(txn_state(t), TXS_ACCEPTED, "Accepted until Timer L");
	/* An INVITE retransmission in Accepted is absorbed. */
	txl_recv(L, REQ(.method = "INVITE", .branch = "z9hG4bKs5",
			.cseq = 7), &UDP);
	CHECK_EQ(count(EV_REQUEST, NULL), 5, "INVITE absorbed in Accepted");
	CHECK_EQ(sent(E.nsent - 1)->status_code, 200, "with the 2xx again");
	run_until(64 * T1 - 1);
	CHECK_EQ(E.nsent, 7, "no timer retransmission after the ACK");
	run_until(64 * T1);
	CHECK_EQ(count(EV_GONE, t), 1, "gone at Timer L");
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "no timeout: the ACK came");
	end_test();
}

static void test_ist_timer_l_no_ack(void **state)
{
	struct sip_txn *t;

	(void)state;
	t = serve(REQ(.method = "INVITE", .branch = "z9hG4bKs6"), &TCP);
	txl_respond(L, t, resp_to(txn_request(t), 200, "tb"));
	run_until(64 * T1 - 1);
	/* 0, .5, 1.5, 3.5, 7.5, then every 4 s to 31.5: 11 sends */
	CHECK_EQ(E.nsent, 11, "2xx retransmitted end to end, also over TCP");
	CHECK_EQ(E.sent[10].at, 31500, "capped at T2");
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "no Timer L before 64*T1");
	run_until(64 * T1);
	CHECK_EQ(count(EV_TIMEOUT, t), 1, "Timer L without ACK: timeout");
	CHECK_EQ(count(EV_GONE, t), 1, "then gone");
	end_test();
}

/* The TU may pass the 2xx again in Accepted (RFC 6026 8.5), nothing else. */
static void test_ist_respond_rules(void **state)
{
	struct sip_txn *t, *c;

	(void)state;
	t = serve(REQ(.method = "INVITE", .branch = "z9hG4bKs7"), &UDP);
	CHECK_EQ(txl_respond(L, t, resp_to(txn_request(t), 200, "tb")), 0,
		 "200");
	CHECK_EQ(txl_respond(L, t, resp_to(txn_request(t), 200, "tb")), 0,
		 "200 again in Accepted");
	CHECK_EQ(E.nsent, 2, "both sent");
	CHECK_TRUE(txl_respond(L, t, resp_to(txn_request(t), 180, "tb")) < 0,
		   "no 180 after a 2xx");
	CHECK_TRUE(txl_respond(L, t, resp_to(txn_request(t), 486, "tb")) < 0,
		   "no 486 after a 2xx");
	CHECK_TRUE(txl_respond(L, t, REQ(.method = "INFO")) < 0,
		   "a request is no response");
	c = client(REQ(.method = "OPTIONS", .branch = "z9hG4bKs8"), &UDP);
	CHECK_TRUE(txl_respond(L, c, resp_to(txn_request(c), 200, "x")) < 0,
		   "no responding on a client transaction");
	CHECK_EQ(E.nsent, 3, "refused responses were not sent");
	end_test();
}

/* ---- non-INVITE server --------------------------------------------------- */

static void test_nist_absorb_timer_j(void **state)
{
	struct sip_txn *t, *u;

	(void)state;
	t = serve(REQ(.method = "OPTIONS", .branch = "z9hG4bKs9"), &UDP);
	CHECK_EQ(txn_kind(t), TXN_NIST, "OPTIONS makes a NIST");
	CHECK_EQ(txn_state(t), TXS_TRYING, "NIST starts in Trying");
	txl_recv(L, REQ(.method = "OPTIONS", .branch = "z9hG4bKs9"), &UDP);
	CHECK_EQ(E.nsent, 0, "absorbed in Trying, nothing to resend");
	txl_respond(L, t, resp_to(txn_request(t), 100, NULL));
	CHECK_EQ(txn_state(t), TXS_PROCEEDING, "1xx -> Proceeding");
	E.now = 100;
	txl_respond(L, t, resp_to(txn_request(t), 200, "tb"));
	CHECK_EQ(txn_state(t), TXS_COMPLETED, "final -> Completed");
	CHECK_TRUE(txl_respond(L, t, resp_to(txn_request(t), 500, "tb")) < 0,
		   "no second final");
	txl_recv(L, REQ(.method = "OPTIONS", .branch = "z9hG4bKs9"), &UDP);
	CHECK_EQ(E.nsent, 3, "retransmission: 200 resent");
	CHECK_EQ(sent(2)->status_code, 200, "the last response");
	CHECK_EQ(count(EV_REQUEST, NULL), 1, "passed up once");
	CHECK_EQ(stats().absorbed, 2, "stats: absorbed");
	run_until(100 + 64 * T1 - 1);
	CHECK_EQ(E.nsent, 3, "a NIST never retransmits by itself");
	CHECK_EQ(count(EV_GONE, t), 0, "Completed until Timer J");
	run_until(100 + 64 * T1);
	CHECK_EQ(count(EV_GONE, t), 1, "gone at Timer J = 64*T1");
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "Timer J is no timeout");
	/* Now it is a new request. */
	txl_recv(L, REQ(.method = "OPTIONS", .branch = "z9hG4bKs9"), &UDP);
	CHECK_EQ(count(EV_REQUEST, NULL), 2, "new transaction after J");

	u = serve(REQ(.method = "MESSAGE", .branch = "z9hG4bKs10"), &TCP);
	txl_respond(L, u, resp_to(txn_request(u), 202, "tb"));
	CHECK_EQ(txl_timeout_ms(L), 0, "Timer J is 0 over TCP");
	txl_tick(L);
	CHECK_EQ(count(EV_GONE, u), 1, "gone at once");
	end_test();
}

/* txn_forget: a rejection that keeps nothing (RFC 3261 8.2.7). */
static void test_forget(void **state)
{
	struct sip_txn *t, *u, *v;

	(void)state;
	t = serve(REQ(.method = "INVITE", .branch = "z9hG4bKf1"), &UDP);
	txl_respond(L, t, resp_to(txn_request(t), 503, "tb"));
	txn_forget(t);
	CHECK_EQ(txl_timeout_ms(L), 0, "forgotten: ends at the next tick");
	txl_tick(L);
	CHECK_EQ(count(EV_GONE, t), 1, "IST gone at once");
	CHECK_EQ(stats().active, 0, "nothing active");
	run_until(64 * T1);
	CHECK_EQ(E.nsent, 1, "no Timer G: the 503 once");
	CHECK_EQ(count(EV_TIMEOUT, NULL), 0, "no Timer H");
	txl_recv(L, REQ(.method = "ACK", .branch = "z9hG4bKf1",
			.to_tag = "tb"), &UDP);
	CHECK_EQ(count(EV_REQUEST, NULL), 2, "its ACK goes up, no transaction");
	txl_recv(L, REQ(.method = "INVITE", .branch = "z9hG4bKf1"), &UDP);
	CHECK_EQ(count(EV_REQUEST, NULL), 3,
		 "a retransmission is a new request");

	u = serve(REQ(.method = "REGISTER", .branch = "z9hG4bKf2"), &UDP);
	txl_respond(L, u, resp_to(txn_request(u), 401, "tb"));
	txn_forget(u);
	txl_tick(L);
	CHECK_EQ(count(EV_GONE, u), 1, "NIST gone at once, no Timer J");

	v = serve(REQ(.method = "OPTIONS", .branch = "z9hG4bKf3"), &UDP);
	txn_forget(v);
	txl_tick(L);
	CHECK_EQ(count(EV_GONE, v), 0, "no final yet: not forgotten");
	CHECK_EQ(txn_state(v), TXS_TRYING, "still Trying");
	txl_respond(L, v, resp_to(txn_request(v), 200, "tb"));
	end_test();
}

/* ---- CANCEL ------------------------------------------------------------- */

static void test_cancel_find_invite(void **state)
{
	struct sip_txn *inv, *can;
	osip_message_t *c;

	(void)state;
	inv = serve(REQ(.method = "INVITE", .branch = "z9hG4bKc1"), &UDP);
	txl_respond(L, inv, resp_to(txn_request(inv), 180, "tb"));
	can = serve(REQ(.method = "CANCEL", .branch = "z9hG4bKc1"), &UDP);
	CHECK_TRUE(can != inv, "CANCEL gets its own transaction");
	CHECK_EQ(txn_kind(can), TXN_NIST, "a NIST");
	CHECK_TRUE(txl_find_invite(L, txn_request(can)) == inv,
		   "txl_find_invite finds the INVITE");
	c = REQ(.method = "CANCEL", .branch = "z9hG4bKc2");
	CHECK_TRUE(txl_find_invite(L, c) == NULL, "other branch: none");
	osip_message_free(c);
	c = REQ(.method = "CANCEL", .branch = "z9hG4bKc1",
		.host = "elsewhere.example");
	CHECK_TRUE(txl_find_invite(L, c) == NULL, "other sent-by: none");
	osip_message_free(c);
	txl_respond(L, can, resp_to(txn_request(can), 200, "tb"));
	txl_respond(L, inv, resp_to(txn_request(inv), 487, "tb"));
	CHECK_EQ(sent(1)->status_code, 200, "200 to the CANCEL");
	CHECK_STR(sent(1)->cseq->method, "CANCEL", "on the CANCEL");
	CHECK_EQ(sent(2)->status_code, 487, "487 to the INVITE");
	CHECK_TRUE(txl_find_invite(L, txn_request(can)) == NULL,
		   "none after the final");
	end_test();
}

static void test_cancel_response_matching(void **state)
{
	struct sip_txn *inv, *can;

	(void)state;
	inv = client(REQ(.method = "INVITE", .branch = "z9hG4bKc3"), &UDP);
	txl_recv(L, resp_to(txn_request(inv), 180, "tb"), &UDP);
	can = client(REQ(.method = "CANCEL", .branch = "z9hG4bKc3"), &UDP);
	CHECK_EQ(txn_kind(can), TXN_NICT, "CANCEL is a NICT");
	txl_recv(L, resp_to(txn_request(can), 200, "tb"), &UDP);
	CHECK_EQ(count(EV_RESPONSE, can), 1, "200 goes to the CANCEL");
	CHECK_EQ(txn_state(can), TXS_COMPLETED, "CANCEL Completed");
	CHECK_EQ(count(EV_RESPONSE, inv), 1, "the INVITE has its 180 only");
	CHECK_EQ(txn_state(inv), TXS_PROCEEDING, "INVITE still Proceeding");
	txl_recv(L, resp_to(txn_request(inv), 487, "tb"), &UDP);
	CHECK_EQ(count(EV_RESPONSE, inv), 2, "487 goes to the INVITE");
	CHECK_EQ(E.ev[E.nev - 1].code, 487, "as 487");
	CHECK_STR(sent(E.nsent - 1)->sip_method, "ACK", "487 ACKed");
	end_test();
}

/* ---- errors, strays, bookkeeping ------------------------------------------ */

static void test_transport_error(void **state)
{
	struct sip_txn *t;

	(void)state;
	t = client(REQ(.method = "INVITE", .branch = "z9hG4bKe1"), &UDP);
	E.send_rc = -1;
	run_until(499);
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "fine until the next send");
	run_until(500);
	CHECK_EQ(count(EV_TIMEOUT, t), 1, "failed retransmission: timeout");
	CHECK_EQ(find_ev(EV_TIMEOUT, t)->at, 500, "at once");
	CHECK_TRUE(ev_index(EV_TIMEOUT, t) < ev_index(EV_GONE, t),
		   "timeout, then gone");
	CHECK_EQ(stats().active, 0, "terminated");

	/* A request that cannot go out at all is an error, not a timeout. */
	CHECK_TRUE(txl_request(L, REQ(.method = "OPTIONS",
				      .branch = "z9hG4bKe2"), &TCP, NULL) == NULL,
		   "txl_request fails when the send fails");
	CHECK_EQ(count(EV_TIMEOUT, NULL), 1, "no callback for it");
	CHECK_EQ(stats().active, 0, "nothing kept");
	CHECK_EQ(txl_timeout_ms(L), -1, "no timer kept");
	end_test();
}

static void test_request_refused(void **state)
{
	struct sip_txn *t;

	(void)state;
	CHECK_TRUE(txl_request(L, REQ(.method = "INVITE"), &UDP, NULL) == NULL,
		   "no branch: refused");
	CHECK_TRUE(txl_request(L, REQ(.method = "INVITE", .branch = "abc"),
			       &UDP, NULL) == NULL, "no magic cookie: refused");
	CHECK_TRUE(txl_request(L, REQ(.method = "ACK", .branch = "z9hG4bKr1"),
			       &UDP, NULL) == NULL, "ACK: refused");
	t = client(REQ(.method = "INVITE", .branch = "z9hG4bKr2"), &UDP);
	CHECK_TRUE(txl_request(L, REQ(.method = "INVITE",
				      .branch = "z9hG4bKr2"), &UDP, NULL) == NULL,
		   "a branch in use: refused");
	CHECK_TRUE(txl_request(L, NULL, &UDP, NULL) == NULL, "NULL: refused");
	CHECK_EQ(E.nsent, 1, "only the valid request was sent");
	CHECK_EQ(txn_state(t), TXS_CALLING, "the first one is untouched");
	end_test();
}

static void test_stray_response(void **state)
{
	struct sip_txn *t;
	osip_message_t *r;
	struct txl_ops ops = OPS;
	struct sip_txl *l2;

	(void)state;
	t = client(REQ(.method = "OPTIONS", .branch = "z9hG4bKt1"), &UDP);
	r = REQ(.method = "OPTIONS", .branch = "z9hG4bKt2");
	txl_recv(L, resp_to(r, 200, "tb"), &UDP);
	CHECK_EQ(count(EV_STRAY, NULL), 1, "unknown branch: stray");
	CHECK_EQ(E.ev[E.nev - 1].code, 200, "stray carries the response");
	osip_message_free(r);
	/* Same branch, other method: no match either. */
	r = REQ(.method = "INFO", .branch = "z9hG4bKt1");
	txl_recv(L, resp_to(r, 200, "tb"), &UDP);
	CHECK_EQ(count(EV_STRAY, NULL), 2, "other CSeq method: stray");
	/* No Via at all. */
	{
		osip_message_t *nv = resp_to(r, 200, "tb");

		while (osip_list_size(&nv->vias)) {
			osip_via_free(osip_list_get(&nv->vias, 0));
			osip_list_remove(&nv->vias, 0);
		}
		txl_recv(L, nv, &UDP);
	}
	CHECK_EQ(count(EV_STRAY, NULL), 2, "no Via: dropped, not stray");
	CHECK_EQ(count(EV_RESPONSE, t), 0, "never to the transaction");

	ops.stray_response = NULL;
	l2 = txl_new(&ops, &E);
	CHECK_TRUE(l2 != NULL, "a layer without stray callback");
	txl_recv(l2, resp_to(r, 200, "tb"), &UDP);
	txl_free(l2);
	CHECK_EQ(count(EV_STRAY, NULL), 2, "NULL stray_response: dropped");
	osip_message_free(r);
	end_test();
}

static void test_malformed_and_rfc2543(void **state)
{
	osip_message_t *m;
	struct sip_txn *t;
	size_t n;

	(void)state;
	m = REQ(.method = "OPTIONS", .branch = "z9hG4bKm1");
	while (osip_list_size(&m->vias)) {
		osip_via_free(osip_list_get(&m->vias, 0));
		osip_list_remove(&m->vias, 0);
	}
	txl_recv(L, m, &UDP);
	m = REQ(.method = "OPTIONS", .branch = "z9hG4bKm2");
	osip_cseq_free(m->cseq);
	m->cseq = NULL;
	txl_recv(L, m, &UDP);
	CHECK_EQ(count(EV_REQUEST, NULL), 0, "requests without Via or CSeq "
		 "are dropped");

	/* RFC 2543: no branch. */
	t = serve(REQ(.method = "INVITE"), &UDP);
	txl_recv(L, REQ(.method = "INVITE"), &UDP);
	CHECK_EQ(count(EV_REQUEST, NULL), 1, "RFC 2543 retransmission matched");
	txl_recv(L, REQ(.method = "INVITE", .cseq = 2), &UDP);
	CHECK_EQ(count(EV_REQUEST, NULL), 2, "other CSeq: a new transaction");
	txl_respond(L, t, resp_to(txn_request(t), 486, "tb"));
	txl_recv(L, REQ(.method = "ACK", .to_tag = "tb"), &UDP);
	CHECK_EQ(txn_state(t), TXS_CONFIRMED, "RFC 2543 ACK matched");
	CHECK_EQ(count(EV_REQUEST, NULL), 2, "its ACK not passed up");

	/* An RFC 2543 2xx: its ACK matches the INVITE itself. */
	t = serve(REQ(.method = "INVITE", .cseq = 5), &UDP);
	txl_respond(L, t, resp_to(txn_request(t), 200, "tb"));
	run_until(600);
	CHECK_EQ(sent(E.nsent - 1)->status_code, 200, "2xx retransmitted");
	txl_recv(L, REQ(.method = "ACK", .cseq = 5, .to_tag = "tb"), &UDP);
	CHECK_EQ(count(EV_REQUEST, NULL), 4, "the 2xx ACK passed up");
	CHECK_TRUE(E.ev[E.nev - 1].t == NULL, "with t = NULL");
	n = E.nsent;
	run_until(64 * T1);
	CHECK_EQ(E.nsent, n, "no 2xx retransmission after the ACK");
	CHECK_EQ(count(EV_TIMEOUT, t), 0, "no Timer L timeout");
	end_test();
}

static void test_timeout_ms(void **state)
{
	struct sip_txn *t, *s;

	(void)state;
	CHECK_EQ(txl_timeout_ms(L), -1, "empty: no timer");
	E.now = 1000;
	t = client(REQ(.method = "INVITE", .branch = "z9hG4bKo1"), &UDP);
	CHECK_EQ(txl_timeout_ms(L), 500, "Timer A in T1");
	E.now = 1200;
	CHECK_EQ(txl_timeout_ms(L), 300, "counts down with the clock");
	txl_tick(L);
	CHECK_EQ(E.nsent, 1, "an early tick fires nothing");
	E.now = 1600;
	CHECK_EQ(txl_timeout_ms(L), 0, "overdue: 0");
	txl_tick(L);
	CHECK_EQ(E.nsent, 2, "late tick fires Timer A");
	CHECK_EQ(txl_timeout_ms(L), 1000, "next Timer A 2*T1 from the fire");
	client(REQ(.method = "OPTIONS", .branch = "z9hG4bKo2"), &TCP);
	CHECK_EQ(txl_timeout_ms(L), 1000, "a later Timer F changes nothing");
	E.now = 2000;
	s = serve(REQ(.method = "INVITE", .branch = "z9hG4bKo3"), &UDP);
	CHECK_EQ(txl_timeout_ms(L), 600, "a new IST runs no timer");
	txl_respond(L, s, resp_to(txn_request(s), 300, "tb"));
	CHECK_EQ(txl_timeout_ms(L), 500, "Timer G is now the earliest");
	txl_recv(L, resp_to(txn_request(t), 100, NULL), &UDP);
	CHECK_EQ(txl_timeout_ms(L), 500, "still G after A stopped");
	end_test();
}

static void test_gone_for_every_txn(void **state)
{
	struct sip_txn *tx[4];

	(void)state;
	tx[0] = client(REQ(.method = "INVITE", .branch = "z9hG4bKg1"), &UDP);
	tx[1] = client(REQ(.method = "BYE", .branch = "z9hG4bKg2"), &UDP);
	tx[2] = serve(REQ(.method = "INVITE", .branch = "z9hG4bKg3"), &UDP);
	tx[3] = serve(REQ(.method = "INFO", .branch = "z9hG4bKg4"), &UDP);
	txl_respond(L, tx[2], resp_to(txn_request(tx[2]), 200, "tb"));
	txn_set_owner(tx[1], &E);
	CHECK_TRUE(txn_owner(tx[1]) == &E, "owner kept");
	CHECK_EQ(stats().active, 4, "four live transactions");
	CHECK_EQ(txn_peer(tx[2])->proto, SIP_UDP, "txn_peer");
	txl_free(L);
	L = NULL;
	for (int i = 0; i < 4; i++)
		CHECK_EQ(count(EV_GONE, tx[i]), 1, "txl_free: gone for each");
	CHECK_EQ(count(EV_TIMEOUT, NULL), 0, "txl_free fires no timeouts");
	end_test();
}

/* ---- re-entrancy ---------------------------------------------------------- */

static void respond_inside(struct sip_txn *t, osip_message_t *m)
{
	if (!t)
		return;
	if (strcmp(m->sip_method, "INVITE") == 0) {
		E.hook_rc |= txl_respond(L, t, resp_to(m, 100, NULL));
		/* B2BUA: the B leg goes out from the A leg's callback. */
		known_add(txl_request(L, REQ(.method = "INVITE",
					     .branch = "z9hG4bKb1",
					     .call_id = "leg-b"), &UDP, NULL));
		/* and a final on another transaction */
		if (E.other)
			E.hook_rc |= txl_respond(L, E.other,
				resp_to(txn_request(E.other), 200, "x"));
		txl_tick(L); /* from a callback: must do nothing harmful */
		return;
	}
	E.hook_rc |= txl_respond(L, t, resp_to(m, 200, "x"));
	/* Over TCP Timer J is 0, but t stays valid while its callback runs
	 * (ASan would see the read below otherwise). */
	txl_tick(L);
	E.hook_state = txn_state(t);
}

static void test_reentrant_respond(void **state)
{
	struct sip_txn *opt, *inv;

	(void)state;
	E.on_request = respond_inside;
	opt = serve(REQ(.method = "OPTIONS", .branch = "z9hG4bKq1"), &TCP);
	CHECK_EQ(txn_state(opt), TXS_COMPLETED,
		 "answered from inside its own callback");
	CHECK_EQ(E.hook_state, TXS_COMPLETED, "t Completed inside, after tick");
	CHECK_EQ(count(EV_GONE, opt), 0, "t outlives its callback (J = 0)");
	E.on_request = NULL;
	E.other = serve(REQ(.method = "INFO", .branch = "z9hG4bKq2"), &UDP);
	E.on_request = respond_inside;
	inv = serve(REQ(.method = "INVITE", .branch = "z9hG4bKq3"), &UDP);
	CHECK_EQ(E.hook_rc, 0, "txl_respond inside callbacks succeeded");
	CHECK_EQ(txn_state(inv), TXS_PROCEEDING, "100 sent from the callback");
	CHECK_EQ(txn_state(E.other), TXS_COMPLETED, "other answered too");
	CHECK_EQ(E.nsent, 4, "200, 100, B-leg INVITE, 200");
	CHECK_EQ(sent(1)->status_code, 100, "100 first");
	CHECK_STR(sent(2)->sip_method, "INVITE", "then the B leg");
	CHECK_EQ(sent(3)->status_code, 200, "then the other's 200");
	CHECK_EQ(stats().active, 4, "3 served (OPTIONS until a tick) + B leg");
	txl_tick(L);
	CHECK_EQ(count(EV_GONE, opt), 1, "the OPTIONS NIST goes at the tick");
	end_test();
}

/* Timer B of the B leg answers the A leg from inside the timeout. */
static struct sip_txn *a_leg;

static void answer_a_leg(struct sip_txn *t)
{
	(void)t;
	E.hook_rc = txl_respond(L, a_leg, resp_to(txn_request(a_leg), 408,
						  "ta"));
	/* a new transaction from inside a tick */
	known_add(txl_request(L, REQ(.method = "OPTIONS",
				     .branch = "z9hG4bKw3"), &UDP, NULL));
}

static void test_reentrant_timeout(void **state)
{
	struct sip_txn *b;

	(void)state;
	a_leg = serve(REQ(.method = "INVITE", .branch = "z9hG4bKw1"), &UDP);
	b = client(REQ(.method = "INVITE", .branch = "z9hG4bKw2"), &TCP);
	E.on_timeout = answer_a_leg;
	run_until(64 * T1);
	CHECK_EQ(count(EV_TIMEOUT, b), 1, "B leg timed out");
	CHECK_EQ(E.hook_rc, 0, "A leg answered from the timeout");
	CHECK_EQ(txn_state(a_leg), TXS_COMPLETED, "A leg Completed");
	CHECK_STR(sent(E.nsent - 1)->sip_method, "OPTIONS",
		  "the new OPTIONS went last");
	CHECK_EQ(sent(E.nsent - 2)->status_code, 408, "after the 408");
	CHECK_EQ(stats().active, 2, "A leg and the OPTIONS live on");
	end_test();
}

/* ---- scale ------------------------------------------------------------------ */

/* Thousands of transactions with interleaved deadlines: every Timer F and
 * K fires at its own time, in order, and nothing is left. */
static void test_many_transactions(void **state)
{
	enum { N = 6000, D = 300 };
	static struct sip_txn *tx[N];
	static uint64_t answered_at[N];
	uint64_t last = 0;
	size_t timeouts = 0;
	unsigned peak = 0;

	(void)state;
	/* One new every 7 ms; every third answered 2.1 s later (Timer K is
	 * 0 over TCP), while the first Timer Fs already fire. */
	for (int i = 0; i < N + D; i++) {
		char br[32];

		run_until((uint64_t)i * 7);
		if (i >= D && (i - D) % 3 == 0) {
			txl_recv(L, resp_to(txn_request(tx[i - D]), 200, "x"),
				 &TCP);
			answered_at[i - D] = E.now;
		}
		if (i >= N)
			continue;
		snprintf(br, sizeof(br), "z9hG4bKm%d", i);
		tx[i] = client(REQ(.method = "OPTIONS", .branch = br), &TCP);
		if (stats().active > peak)
			peak = stats().active;
	}
	CHECK_TRUE(peak > 2500, "thousands live at once");
	run_until((uint64_t)N * 7 + 64 * T1);
	for (size_t i = 0; i < E.nev; i++) {
		const struct ev *e = &E.ev[i];
		ptrdiff_t k = -1;

		if (e->kind != EV_TIMEOUT)
			continue;
		for (int j = 0; j < N; j++)
			if (tx[j] == e->t)
				k = j;
		CHECK_TRUE(k >= 0 && k % 3 != 0, "timeout of an unanswered one");
		CHECK_EQ(e->at, (uint64_t)k * 7 + 64 * T1, "Timer F on time");
		CHECK_TRUE(e->at >= last, "timeouts in deadline order");
		last = e->at;
		timeouts++;
	}
	CHECK_EQ(timeouts, N - N / 3, "every unanswered one timed out");
	for (int j = 0; j < N; j += 3) {
		const struct ev *e = find_ev(EV_GONE, tx[j]);

		CHECK_TRUE(e != NULL, "an answered one is gone");
		CHECK_EQ(e->at, answered_at[j], "gone at once (Timer K = 0)");
	}
	CHECK_EQ(count(EV_GONE, NULL), N, "every one gone");
	CHECK_EQ(stats().active, 0, "none left");
	CHECK_EQ(txl_timeout_ms(L), -1, "no timer left");
	end_test();
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	static const struct CMUnitTest tests[] = {
		T(test_ict_timer_a_b_udp),
		T(test_ict_no_retransmit_tcp),
		T(test_ict_non2xx_ack),
		T(test_ict_non2xx_tcp_timer_d_zero),
		T(test_ict_2xx_accepted_timer_m),
		T(test_ict_2xx_after_non2xx_is_stray),
		T(test_ict_timer_c_guard),
		T(test_nict_timer_e_f),
		T(test_nict_proceeding_t2),
		T(test_nict_timer_k),
		T(test_set_timers),
		T(test_ist_retransmit_provisional),
		T(test_ist_non2xx_timer_g_ack_timer_i),
		T(test_ist_timer_h),
		T(test_ist_tcp_no_timer_g),
		T(test_ist_2xx_until_ack),
		T(test_ist_timer_l_no_ack),
		T(test_ist_respond_rules),
		T(test_nist_absorb_timer_j),
		T(test_forget),
		T(test_cancel_find_invite),
		T(test_cancel_response_matching),
		T(test_transport_error),
		T(test_request_refused),
		T(test_stray_response),
		T(test_malformed_and_rfc2543),
		T(test_timeout_ms),
		T(test_gone_for_every_txn),
		T(test_reentrant_respond),
		T(test_reentrant_timeout),
		T(test_many_transactions),
	};

	return cmocka_run_group_tests_name("test_txn", tests, NULL, NULL);
}
