// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The latch state machine (userspace/latch.c), transition by transition as
 * latch.h's table lists them: one row per (state, source, context) with the
 * verdict latch_check must give, then what latch_apply does with each
 * verdict, latch_reset, and whole sequences.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "latch.h"
#include "netaddr.h"
#include "check.h"

#define MS 1000000ULL
#define IDLE (2000 * MS) /* relatch_idle of most rows: 2 s */

/* An address for a row: NULL, "zero" (family 0, as media.c stores an SDP
 * address on hold), or "ip:port" / "[ip6]:port". */
static const struct sockaddr *addr(const char *s, struct sockaddr_storage *ss)
{
	char what[96];

	if (!s)
		return NULL;
	memset(ss, 0, sizeof(*ss));
	if (strcmp(s, "zero") == 0)
		return (const struct sockaddr *)ss;
	snprintf(what, sizeof(what), "test address %s parses", s);
	CHECK_EQ(netaddr_parse(s, -1, ss), 0, what);
	return (const struct sockaddr *)ss;
}

struct row {
	const char *name;
	const char *peer;      /* NULL: unlatched */
	uint64_t last_ns;      /* the peer's last packet */
	const char *src;       /* the packet's source */
	const char *sdp, *hint;
	enum latch_policy policy;
	uint64_t relatch_idle_ns;
	uint64_t now_ns;
	enum latch_verdict want;
};

#define T0 (10000 * MS)

static const struct row rows[] = {
	/* unlatched --eligible source--> LATCH_NEW */
	{ "unlatched, source is the SDP address and port", NULL, 0,
	  "192.0.2.10:4000", "192.0.2.10:4000", "198.51.100.1:5060",
	  LATCH_HINT, IDLE, T0, LATCH_NEW },
	{ "unlatched, SDP address from another port (NAT)", NULL, 0,
	  "192.0.2.10:61234", "192.0.2.10:4000", NULL,
	  LATCH_HINT, IDLE, T0, LATCH_NEW },
	{ "unlatched, source is the signalling address (hint)", NULL, 0,
	  "198.51.100.1:4000", "10.0.0.5:4000", "198.51.100.1:5060",
	  LATCH_HINT, IDLE, T0, LATCH_NEW },
	{ "unlatched, hint only (no SDP address)", NULL, 0,
	  "198.51.100.1:35000", NULL, "198.51.100.1:5060",
	  LATCH_HINT, 0, T0, LATCH_NEW },
	{ "unlatched, SDP address only (no hint)", NULL, 0,
	  "192.0.2.10:4000", "192.0.2.10:4000", NULL,
	  LATCH_HINT, 0, T0, LATCH_NEW },
	{ "unlatched, IPv6 source, SDP address", NULL, 0,
	  "[2001:db8::10]:6000", "[2001:db8::10]:4000", NULL,
	  LATCH_HINT, IDLE, T0, LATCH_NEW },
	{ "unlatched, IPv6 source, IPv6 hint, IPv4 SDP", NULL, 0,
	  "[2001:db8::1]:6000", "192.0.2.10:4000", "[2001:db8::1]:5060",
	  LATCH_HINT, IDLE, T0, LATCH_NEW },
	/* unlatched --other source--> LATCH_REFUSED (RTP Bleed) */
	{ "unlatched, foreign source", NULL, 0,
	  "203.0.113.66:4000", "192.0.2.10:4000", "198.51.100.1:5060",
	  LATCH_HINT, IDLE, T0, LATCH_REFUSED },
	{ "unlatched, foreign source with the SDP port", NULL, 0,
	  "192.0.2.11:4000", "192.0.2.10:4000", NULL,
	  LATCH_HINT, IDLE, T0, LATCH_REFUSED },
	{ "unlatched, NULL SDP and NULL hint", NULL, 0,
	  "192.0.2.10:4000", NULL, NULL,
	  LATCH_HINT, IDLE, T0, LATCH_REFUSED },
	{ "unlatched, SDP address zeroed (hold) matches nothing", NULL, 0,
	  "0.0.0.0:0", "zero", "zero",
	  LATCH_HINT, IDLE, T0, LATCH_REFUSED },
	{ "unlatched, IPv6 foreign source", NULL, 0,
	  "[2001:db8::66]:4000", "[2001:db8::10]:4000", "[2001:db8::1]:5060",
	  LATCH_HINT, IDLE, T0, LATCH_REFUSED },
	{ "unlatched, IPv4-mapped IPv6 source is not the IPv4 SDP address",
	  NULL, 0, "[::ffff:192.0.2.10]:4000", "192.0.2.10:4000", NULL,
	  LATCH_HINT, IDLE, T0, LATCH_REFUSED },
	{ "unlatched, IPv4 source vs IPv6 SDP/hint", NULL, 0,
	  "192.0.2.10:4000", "[2001:db8::10]:4000", "[2001:db8::1]:5060",
	  LATCH_HINT, IDLE, T0, LATCH_REFUSED },
	/* LATCH_ANY: anyone latches first */
	{ "unlatched, LATCH_ANY, foreign source", NULL, 0,
	  "203.0.113.66:4000", "192.0.2.10:4000", "198.51.100.1:5060",
	  LATCH_ANY, IDLE, T0, LATCH_NEW },
	{ "unlatched, LATCH_ANY, NULL SDP and hint", NULL, 0,
	  "[2001:db8::66]:4000", NULL, NULL,
	  LATCH_ANY, 0, T0, LATCH_NEW },
	/* latched --the peer--> LATCH_FORWARD */
	{ "latched, packet from the peer", "192.0.2.10:4000", T0,
	  "192.0.2.10:4000", "192.0.2.10:4000", NULL,
	  LATCH_HINT, IDLE, T0 + MS, LATCH_FORWARD },
	{ "latched, the peer even though no longer eligible",
	  "192.0.2.10:4000", T0, "192.0.2.10:4000", "192.0.2.99:4000", NULL,
	  LATCH_HINT, IDLE, T0 + 100 * IDLE, LATCH_FORWARD },
	{ "latched, the peer with NULL SDP/hint", "192.0.2.10:4000", T0,
	  "192.0.2.10:4000", NULL, NULL, LATCH_HINT, 0, T0, LATCH_FORWARD },
	{ "latched, IPv6 peer", "[2001:db8::10]:6000", T0,
	  "[2001:db8::10]:6000", NULL, NULL, LATCH_HINT, IDLE, T0 + MS,
	  LATCH_FORWARD },
	/* latched --anyone else, peer not idle--> LATCH_FOREIGN */
	{ "latched, same address, other port", "192.0.2.10:4000", T0,
	  "192.0.2.10:4002", "192.0.2.10:4000", NULL,
	  LATCH_HINT, IDLE, T0 + MS, LATCH_FOREIGN },
	{ "latched, foreign source", "192.0.2.10:4000", T0,
	  "203.0.113.66:4000", "192.0.2.10:4000", NULL,
	  LATCH_HINT, IDLE, T0 + MS, LATCH_FOREIGN },
	{ "latched, LATCH_ANY, other source, peer not idle",
	  "192.0.2.10:4000", T0, "203.0.113.66:4000", NULL, NULL,
	  LATCH_ANY, IDLE, T0 + IDLE - 1, LATCH_FOREIGN },
	{ "latched, IPv6 peer, IPv4 eligible source, not idle",
	  "[2001:db8::10]:6000", T0, "192.0.2.10:6000", "192.0.2.10:6000",
	  NULL, LATCH_HINT, IDLE, T0 + MS, LATCH_FOREIGN },
	{ "latched, IPv6 peer, other IPv6 port, not idle",
	  "[2001:db8::10]:6000", T0, "[2001:db8::10]:6002",
	  "[2001:db8::10]:6000", NULL, LATCH_HINT, IDLE, T0 + MS,
	  LATCH_FOREIGN },
	/* relatch_idle 0: never re-latch on idleness */
	{ "relatch_idle 0, peer idle for an hour, eligible source",
	  "192.0.2.10:4000", T0, "192.0.2.10:4002", "192.0.2.10:4000",
	  "192.0.2.10:5060", LATCH_HINT, 0, T0 + 3600000 * MS, LATCH_FOREIGN },
	{ "relatch_idle 0, LATCH_ANY", "192.0.2.10:4000", T0,
	  "203.0.113.66:4000", NULL, NULL, LATCH_ANY, 0,
	  T0 + 3600000 * MS, LATCH_FOREIGN },
	/* latched --eligible source, peer idle >= relatch_idle--> RELATCH */
	{ "idle exactly relatch_idle, SDP address, new port (NAT rebinding)",
	  "192.0.2.10:4000", T0, "192.0.2.10:4002", "192.0.2.10:4000", NULL,
	  LATCH_HINT, IDLE, T0 + IDLE, LATCH_RELATCH },
	{ "idle 1 ns less than relatch_idle", "192.0.2.10:4000", T0,
	  "192.0.2.10:4002", "192.0.2.10:4000", NULL,
	  LATCH_HINT, IDLE, T0 + IDLE - 1, LATCH_FOREIGN },
	{ "idle long enough, source is the hint", "192.0.2.10:4000", T0,
	  "198.51.100.1:30000", "192.0.2.10:4000", "198.51.100.1:5060",
	  LATCH_HINT, IDLE, T0 + 5 * IDLE, LATCH_RELATCH },
	{ "idle long enough, LATCH_ANY, foreign source", "192.0.2.10:4000",
	  T0, "203.0.113.66:4000", NULL, NULL,
	  LATCH_ANY, IDLE, T0 + IDLE, LATCH_RELATCH },
	{ "idle long enough, IPv6 eligible source", "[2001:db8::10]:6000", T0,
	  "[2001:db8::10]:7000", "[2001:db8::10]:6000", NULL,
	  LATCH_HINT, IDLE, T0 + IDLE, LATCH_RELATCH },
	{ "idle long enough, IPv6 peer, IPv4 eligible source",
	  "[2001:db8::10]:6000", T0, "192.0.2.10:6000", "192.0.2.10:6000",
	  NULL, LATCH_HINT, IDLE, T0 + 10 * IDLE, LATCH_RELATCH },
	/* idle long enough but not eligible: still FOREIGN */
	{ "idle long enough, foreign source", "192.0.2.10:4000", T0,
	  "203.0.113.66:4000", "192.0.2.10:4000", "198.51.100.1:5060",
	  LATCH_HINT, IDLE, T0 + 100 * IDLE, LATCH_FOREIGN },
	{ "idle long enough, NULL SDP and hint", "192.0.2.10:4000", T0,
	  "192.0.2.10:4002", NULL, NULL, LATCH_HINT, IDLE, T0 + 100 * IDLE,
	  LATCH_FOREIGN },
	{ "idle long enough, IPv6 foreign source", "[2001:db8::10]:6000", T0,
	  "[2001:db8::66]:6000", "[2001:db8::10]:6000", NULL,
	  LATCH_HINT, IDLE, T0 + 100 * IDLE, LATCH_FOREIGN },
	/* a clock before the peer's last packet is not idleness */
	{ "now before the peer's last packet", "192.0.2.10:4000", T0,
	  "192.0.2.10:4002", "192.0.2.10:4000", NULL,
	  LATCH_HINT, IDLE, T0 - 1, LATCH_FOREIGN },
	{ "now equal to the peer's last packet, relatch_idle 1 ns",
	  "192.0.2.10:4000", T0, "192.0.2.10:4002", "192.0.2.10:4000", NULL,
	  LATCH_HINT, 1, T0, LATCH_FOREIGN },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* A latch in the row's state, built through latch_apply as the engine
 * does (so it holds what a real latch holds). */
static void latch_from_row(struct latch *l, const struct row *r)
{
	struct sockaddr_storage ss;

	memset(l, 0, sizeof(*l));
	if (r->peer)
		latch_apply(l, LATCH_NEW, addr(r->peer, &ss), r->last_ns);
}

static void test_row(void **state)
{
	const struct row *r = *state;
	struct sockaddr_storage src, sdp, hint;
	struct latch l, before;
	struct latch_ctx ctx = {
		.sdp = addr(r->sdp, &sdp),
		.hint = addr(r->hint, &hint),
		.policy = r->policy,
		.relatch_idle_ns = r->relatch_idle_ns,
	};
	enum latch_verdict v;
	char what[200];

	latch_from_row(&l, r);
	before = l;
	v = latch_check(&l, addr(r->src, &src), &ctx, r->now_ns);
	if (v != r->want)
		fail_msg("%s: latch_check gave %s, expected %s", r->name,
			 latch_verdict_name(v), latch_verdict_name(r->want));
	snprintf(what, sizeof(what), "%s: latch_check leaves the latch as it "
		 "is", r->name);
	CHECK_MEM(&l, &before, sizeof(l), what);
}

/* ---- latch_apply --------------------------------------------------------- */

static void test_apply_new(void **state)
{
	struct sockaddr_storage src, want;
	struct latch l;

	(void)state;
	memset(&l, 0xa5, sizeof(l)); /* garbage where the peer goes */
	l.latched = 0;
	l.relatches = 7;
	addr("192.0.2.10:4000", &src);
	latch_apply(&l, LATCH_NEW, (struct sockaddr *)&src, 5 * MS);
	CHECK_EQ(l.latched, 1, "NEW: latched");
	CHECK_TRUE(netaddr_equal((struct sockaddr *)&l.peer,
				 (struct sockaddr *)&src),
		   "NEW: peer is the source, port included");
	memset(&want, 0, sizeof(want));
	memcpy(&want, &src, sizeof(struct sockaddr_in));
	CHECK_MEM(&l.peer, &want, sizeof(want),
		  "NEW: peer storage = source, the rest zeroed");
	CHECK_TRUE(l.last_ns == 5 * MS, "NEW: last_ns is now");
	CHECK_EQ(l.relatches, 7, "NEW: not counted as a relatch");
}

static void test_apply_forward(void **state)
{
	struct sockaddr_storage p;
	struct latch l = { 0 }, before;

	(void)state;
	latch_apply(&l, LATCH_NEW, addr("[2001:db8::10]:6000", &p), 1 * MS);
	before = l;
	latch_apply(&l, LATCH_FORWARD, (struct sockaddr *)&p, 9 * MS);
	CHECK_TRUE(l.last_ns == 9 * MS, "FORWARD: last_ns moves to now");
	CHECK_MEM(&l.peer, &before.peer, sizeof(l.peer),
		  "FORWARD: peer unchanged");
	CHECK_EQ(l.latched, 1, "FORWARD: still latched");
	CHECK_EQ(l.relatches, 0, "FORWARD: no relatch counted");
}

static void test_apply_relatch(void **state)
{
	struct sockaddr_storage p, q, want;
	struct latch l = { 0 };

	(void)state;
	latch_apply(&l, LATCH_NEW, addr("[2001:db8::10]:6000", &p), 1 * MS);
	/* An IPv4 peer replaces an IPv6 one: no IPv6 bytes may remain. */
	latch_apply(&l, LATCH_RELATCH, addr("192.0.2.10:4002", &q), 3000 * MS);
	CHECK_EQ(l.relatches, 1, "RELATCH: relatches + 1");
	CHECK_EQ(l.latched, 1, "RELATCH: latched");
	memset(&want, 0, sizeof(want));
	memcpy(&want, &q, sizeof(struct sockaddr_in));
	CHECK_MEM(&l.peer, &want, sizeof(want),
		  "RELATCH: peer is the new source, rest of the storage zero");
	CHECK_TRUE(l.last_ns == 3000 * MS, "RELATCH: last_ns is now");
	latch_apply(&l, LATCH_RELATCH, (struct sockaddr *)&p, 6000 * MS);
	CHECK_EQ(l.relatches, 2, "second RELATCH: relatches + 1 again");
	CHECK_TRUE(netaddr_equal((struct sockaddr *)&l.peer,
				 (struct sockaddr *)&p),
		   "second RELATCH: back to the IPv6 peer");
}

static void test_apply_drops_change_nothing(void **state)
{
	static const enum latch_verdict drops[] = { LATCH_REFUSED,
						    LATCH_FOREIGN };
	struct sockaddr_storage p, q;
	struct latch l = { 0 }, before;
	char what[96];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		memset(&l, 0, sizeof(l));
		before = l;
		latch_apply(&l, drops[i], addr("203.0.113.66:4000", &q), 7 * MS);
		snprintf(what, sizeof(what), "%s on an unlatched latch changes "
			 "nothing", latch_verdict_name(drops[i]));
		CHECK_MEM(&l, &before, sizeof(l), what);
		latch_apply(&l, LATCH_NEW, addr("192.0.2.10:4000", &p), 1 * MS);
		before = l;
		latch_apply(&l, drops[i], (struct sockaddr *)&q, 7 * MS);
		snprintf(what, sizeof(what), "%s on a latched latch changes "
			 "nothing (not even last_ns)", latch_verdict_name(drops[i]));
		CHECK_MEM(&l, &before, sizeof(l), what);
	}
}

static void test_reset(void **state)
{
	struct sockaddr_storage p, q;
	struct latch l = { 0 }, zero;
	struct latch_ctx ctx = { .policy = LATCH_HINT, .relatch_idle_ns = IDLE };

	(void)state;
	latch_apply(&l, LATCH_NEW, addr("192.0.2.10:4000", &p), 1 * MS);
	latch_apply(&l, LATCH_RELATCH, addr("192.0.2.10:4002", &q), 5000 * MS);
	latch_apply(&l, LATCH_RELATCH, (struct sockaddr *)&p, 9000 * MS);
	CHECK_EQ(l.relatches, 2, "two relatches before the reset");
	latch_reset(&l);
	CHECK_EQ(l.latched, 0, "reset: unlatched");
	CHECK_EQ(l.relatches, 2, "reset: keeps the relatch count");
	CHECK_TRUE(l.last_ns == 0, "reset: last_ns cleared");
	memset(&zero, 0, sizeof(zero));
	CHECK_MEM(&l.peer, &zero.peer, sizeof(l.peer), "reset: peer cleared");
	/* Unlatched again: the old peer is no longer forwarded blindly. */
	ctx.sdp = addr("198.51.100.50:7000", &q);
	CHECK_EQ(latch_check(&l, (struct sockaddr *)&p, &ctx, 9001 * MS),
		 LATCH_REFUSED, "reset: the old peer, now ineligible, is refused, "
		 "not forwarded");
	CHECK_EQ(latch_check(&l, (struct sockaddr *)&q, &ctx, 9001 * MS),
		 LATCH_NEW, "reset: the new SDP address latches");
	latch_reset(&l);
	CHECK_EQ(l.relatches, 2, "second reset: count still kept");
}

/* A call's life: latch, forward, NAT rebinding after idleness, re-offer. */
static void test_sequence(void **state)
{
	struct sockaddr_storage sdp, hint, a, a2, evil;
	struct latch l = { 0 };
	struct latch_ctx ctx = { .policy = LATCH_HINT, .relatch_idle_ns = IDLE };
	uint64_t t = 1000 * MS;
	enum latch_verdict v;

	(void)state;
	ctx.sdp = addr("10.0.0.5:4000", &sdp);            /* private SDP */
	ctx.hint = addr("198.51.100.1:5060", &hint);     /* NAT public */
	addr("198.51.100.1:41000", &a);                   /* RTP via NAT */
	addr("198.51.100.1:41222", &a2);                  /* rebinding */
	addr("203.0.113.66:41000", &evil);                /* RTP Bleed */

	v = latch_check(&l, (struct sockaddr *)&evil, &ctx, t);
	CHECK_EQ(v, LATCH_REFUSED, "attacker first: refused");
	latch_apply(&l, v, (struct sockaddr *)&evil, t);
	v = latch_check(&l, (struct sockaddr *)&a, &ctx, t += MS);
	CHECK_EQ(v, LATCH_NEW, "peer behind NAT latches by the hint");
	latch_apply(&l, v, (struct sockaddr *)&a, t);
	for (int i = 0; i < 50; i++) {
		v = latch_check(&l, (struct sockaddr *)&a, &ctx, t += 20 * MS);
		CHECK_EQ(v, LATCH_FORWARD, "the peer's packets are forwarded");
		latch_apply(&l, v, (struct sockaddr *)&a, t);
	}
	v = latch_check(&l, (struct sockaddr *)&evil, &ctx, t += IDLE);
	CHECK_EQ(v, LATCH_FOREIGN, "attacker after idleness: foreign");
	latch_apply(&l, v, (struct sockaddr *)&evil, t);
	v = latch_check(&l, (struct sockaddr *)&a2, &ctx, t += MS);
	CHECK_EQ(v, LATCH_RELATCH, "NAT rebinding after idleness relatches");
	latch_apply(&l, v, (struct sockaddr *)&a2, t);
	CHECK_EQ(l.relatches, 1, "one relatch counted");
	v = latch_check(&l, (struct sockaddr *)&a, &ctx, t += MS);
	CHECK_EQ(v, LATCH_FOREIGN, "the old binding is now foreign");
	v = latch_check(&l, (struct sockaddr *)&a2, &ctx, t += MS);
	CHECK_EQ(v, LATCH_FORWARD, "the new binding is forwarded");
	latch_apply(&l, v, (struct sockaddr *)&a2, t);
	latch_reset(&l); /* a re-INVITE with a new address */
	v = latch_check(&l, (struct sockaddr *)&a, &ctx, t += MS);
	CHECK_EQ(v, LATCH_NEW, "after the reset any eligible source latches");
}

static void test_verdict_names(void **state)
{
	(void)state;
	CHECK_STR(latch_verdict_name(LATCH_FORWARD), "forward", "FORWARD name");
	CHECK_STR(latch_verdict_name(LATCH_NEW), "latch", "NEW name");
	CHECK_STR(latch_verdict_name(LATCH_RELATCH), "relatch", "RELATCH name");
	CHECK_STR(latch_verdict_name(LATCH_REFUSED), "refused", "REFUSED name");
	CHECK_STR(latch_verdict_name(LATCH_FOREIGN), "foreign", "FOREIGN name");
	CHECK_STR(latch_verdict_name((enum latch_verdict)5), "?",
		  "name of an unknown verdict");
	CHECK_STR(latch_verdict_name((enum latch_verdict)-1), "?",
		  "name of a negative verdict");
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_apply_new),
		cmocka_unit_test(test_apply_forward),
		cmocka_unit_test(test_apply_relatch),
		cmocka_unit_test(test_apply_drops_change_nothing),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_verdict_names),
	};
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest tests[NROWS + sizeof(fixed) / sizeof(fixed[0])];
	size_t n = 0;

	for (size_t i = 0; i < NROWS; i++)
		tests[n++] = (struct CMUnitTest){ .name = rows[i].name,
						  .test_func = test_row,
						  .initial_state = (void *)&rows[i] };
	for (size_t i = 0; i < nfixed; i++)
		tests[n++] = fixed[i];
	return _cmocka_run_group_tests("test_latch", tests, n, NULL, NULL);
}
