// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The registrar's location service (sip/registrar.c): bindings per AOR
 * with expiry, the RFC 3261 10.3 Call-ID/CSeq rule, Min-Expires and the
 * cap on expiry, "Contact: *" removal, and a table of 10,000 AORs. Time is
 * a plain ms number: the registrar never reads a clock.
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
#include <cmocka.h>

#include "registrar.h"
#include "check.h"

#define MIN_EXP 60
#define MAX_EXP 3600
#define T0 1000000ULL  /* an arbitrary "now" in ms */

static struct registrar *reg;

static int setup(void **state)
{
	(void)state;
	reg = registrar_new(MIN_EXP, MAX_EXP);
	return reg ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	registrar_free(reg);
	reg = NULL;
	return 0;
}

/* A UDP source 192.0.2.1:port. */
static struct sip_peer peer(uint16_t port)
{
	struct sip_peer p;
	struct sockaddr_in *sin = (struct sockaddr_in *)&p.addr;

	memset(&p, 0, sizeof(p));
	p.proto = SIP_UDP;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, "192.0.2.1", &sin->sin_addr);
	return p;
}

static uint16_t peer_port(const struct sip_peer *p)
{
	return ntohs(((const struct sockaddr_in *)&p->addr)->sin_port);
}

static int reg_add(const char *aor, const char *uri, uint32_t expires,
		   const char *call_id, uint32_t cseq, uint64_t now)
{
	struct sip_peer p = peer(5060);

	return registrar_update(reg, aor, uri, expires, call_id, cseq, &p, now);
}

/* ---- basics ------------------------------------------------------------- */

static void test_register_lookup(void **state)
{
	struct reg_contact c[REG_MAX_CONTACTS];
	struct sip_peer src = peer(40000);

	(void)state;
	CHECK_EQ(registrar_lookup(reg, "alice@example.net", T0, c, 8), 0,
		 "lookup before any REGISTER");
	CHECK_EQ(registrar_update(reg, "alice@example.net",
				  "sip:alice@192.0.2.1:40000", 600, "cid-1", 1,
				  &src, T0), 0, "first REGISTER");
	CHECK_EQ(registrar_count(reg), 1, "count after one binding");
	CHECK_EQ(registrar_lookup(reg, "alice@example.net", T0 + 1000, c, 8),
		 1, "lookup finds the binding");
	CHECK_STR(c[0].uri, "sip:alice@192.0.2.1:40000", "contact uri");
	CHECK_EQ(c[0].expires_ms, T0 + 600 * 1000, "absolute expiry");
	CHECK_STR(c[0].call_id, "cid-1", "stored Call-ID");
	CHECK_EQ(c[0].cseq, 1, "stored CSeq");
	CHECK_EQ(peer_port(&c[0].source), 40000, "stored source port");
	CHECK_EQ(registrar_lookup(reg, "bob@example.net", T0, c, 8), 0,
		 "another AOR has no binding");
	CHECK_EQ(registrar_lookup(reg, "alice@example.net", T0, c, 0), 0,
		 "max 0 copies nothing");
}

static void test_several_contacts(void **state)
{
	struct reg_contact c[REG_MAX_CONTACTS];

	(void)state;
	CHECK_EQ(reg_add("a@x", "sip:desk@10.0.0.1", 600, "c1", 1, T0), 0,
		 "desk phone");
	CHECK_EQ(reg_add("a@x", "sip:soft@10.0.0.2", 300, "c2", 1, T0), 0,
		 "softphone, another Call-ID");
	CHECK_EQ(reg_add("a@x", "sip:mobile@10.0.0.3", 120, "c3", 7, T0), 0,
		 "mobile");
	CHECK_EQ(registrar_count(reg), 3, "three bindings");
	CHECK_EQ(registrar_lookup(reg, "a@x", T0, c, 8), 3, "all three found");
	CHECK_STR(c[0].uri, "sip:desk@10.0.0.1", "first in registration order");
	CHECK_STR(c[1].uri, "sip:soft@10.0.0.2", "second");
	CHECK_STR(c[2].uri, "sip:mobile@10.0.0.3", "third");
	CHECK_EQ(registrar_lookup(reg, "a@x", T0, c, 2), 2,
		 "lookup stops at max");
	CHECK_STR(c[1].uri, "sip:soft@10.0.0.2", "the first two when max is 2");
}

static void test_refresh_same_contact(void **state)
{
	struct reg_contact c[REG_MAX_CONTACTS];
	struct sip_peer moved = peer(41000);

	(void)state;
	CHECK_EQ(reg_add("a@x", "sip:a@10.0.0.1", 600, "c1", 1, T0), 0,
		 "register");
	CHECK_EQ(reg_add("a@x", "sip:other@10.0.0.9", 600, "c9", 1, T0), 0,
		 "a second contact");
	CHECK_EQ(registrar_update(reg, "a@x", "sip:a@10.0.0.1", 900, "c1", 2,
				  &moved, T0 + 5000), 0,
		 "refresh with CSeq 2, from a new NAT port");
	CHECK_EQ(registrar_count(reg), 2, "refresh updated in place");
	CHECK_EQ(registrar_lookup(reg, "a@x", T0 + 5000, c, 8), 2,
		 "still two contacts");
	CHECK_STR(c[0].uri, "sip:a@10.0.0.1", "refreshed one kept its place");
	CHECK_EQ(c[0].expires_ms, T0 + 5000 + 900 * 1000, "new expiry");
	CHECK_EQ(c[0].cseq, 2, "new CSeq");
	CHECK_EQ(peer_port(&c[0].source), 41000, "new source");
	/* A restarted phone: new Call-ID, its CSeq starts over at 1. */
	CHECK_EQ(reg_add("a@x", "sip:a@10.0.0.1", 700, "c1-new", 1, T0 + 6000),
		 0, "new Call-ID with a lower CSeq updates");
	CHECK_EQ(registrar_lookup(reg, "a@x", T0 + 6000, c, 8), 2, "two still");
	CHECK_STR(c[0].call_id, "c1-new", "Call-ID replaced");
	CHECK_EQ(c[0].cseq, 1, "CSeq from the new Call-ID");
}

static void test_unregister(void **state)
{
	struct reg_contact c[REG_MAX_CONTACTS];

	(void)state;
	CHECK_EQ(reg_add("a@x", "sip:a@10.0.0.1", 600, "c1", 1, T0), 0, "one");
	CHECK_EQ(reg_add("a@x", "sip:a@10.0.0.2", 600, "c2", 1, T0), 0, "two");
	CHECK_EQ(reg_add("a@x", "sip:a@10.0.0.1", 0, "c1", 2, T0), 0,
		 "expires 0 removes");
	CHECK_EQ(registrar_count(reg), 1, "one binding left");
	CHECK_EQ(registrar_lookup(reg, "a@x", T0, c, 8), 1, "one found");
	CHECK_STR(c[0].uri, "sip:a@10.0.0.2", "the other one stays");
	CHECK_EQ(reg_add("a@x", "sip:never@10.0.0.3", 0, "c3", 1, T0), 0,
		 "removing an unknown contact is not an error");
	CHECK_EQ(registrar_count(reg), 1, "and changes nothing");
	CHECK_EQ(reg_add("a@x", "sip:a@10.0.0.2", 0, "c2", 1, T0), -EALREADY,
		 "removal with the same Call-ID and CSeq is refused");
	CHECK_EQ(reg_add("a@x", "sip:a@10.0.0.2", 0, "c2", 2, T0), 0,
		 "the last contact removed");
	CHECK_EQ(registrar_count(reg), 0, "no bindings");
	CHECK_EQ(registrar_lookup(reg, "a@x", T0, c, 8), 0, "AOR empty");
	CHECK_EQ(reg_add("a@x", "sip:a@10.0.0.5", 600, "c5", 1, T0), 0,
		 "the AOR can register again");
	CHECK_EQ(registrar_lookup(reg, "a@x", T0, c, 8), 1, "found again");
}

static void test_remove_all(void **state)
{
	struct reg_contact c[REG_MAX_CONTACTS];

	(void)state;
	CHECK_EQ(reg_add("a@x", "sip:a@10.0.0.1", 600, "c1", 5, T0), 0, "one");
	CHECK_EQ(reg_add("a@x", "sip:a@10.0.0.2", 600, "c2", 9, T0), 0, "two");
	CHECK_EQ(reg_add("b@x", "sip:b@10.0.0.3", 600, "c3", 1, T0), 0,
		 "another AOR");
	/* RFC 3261 10.3 step 6: the same Call-ID with a CSeq not higher
	 * aborts the whole request, even though c1's binding would go. */
	CHECK_EQ(registrar_remove_all(reg, "a@x", "c2", 9, T0), -EALREADY,
		 "'*' with c2's stored CSeq");
	CHECK_EQ(registrar_lookup(reg, "a@x", T0, c, 8), 2,
		 "an aborted '*' removes nothing");
	CHECK_EQ(registrar_remove_all(reg, "a@x", "c2", 10, T0), 0,
		 "'*' with a higher CSeq");
	CHECK_EQ(registrar_lookup(reg, "a@x", T0, c, 8), 0, "a@x empty");
	CHECK_EQ(registrar_count(reg), 1, "only b@x's binding left");
	CHECK_EQ(registrar_lookup(reg, "b@x", T0, c, 8), 1, "b@x untouched");
	CHECK_EQ(registrar_remove_all(reg, "nobody@x", "c", 1, T0), 0,
		 "'*' for an AOR without bindings");
	CHECK_EQ(registrar_remove_all(reg, "b@x", "other", 1, T0), 0,
		 "'*' from another Call-ID removes regardless of CSeq");
	CHECK_EQ(registrar_count(reg), 0, "no bindings at all");
}

/* ---- time --------------------------------------------------------------- */

static void test_expiry(void **state)
{
	struct reg_contact c[REG_MAX_CONTACTS];

	(void)state;
	CHECK_EQ(reg_add("a@x", "sip:short@h", 60, "c1", 1, T0), 0, "60 s");
	CHECK_EQ(reg_add("a@x", "sip:long@h", 600, "c2", 1, T0), 0, "600 s");
	CHECK_EQ(reg_add("b@x", "sip:b@h", 60, "c3", 1, T0), 0, "b@x 60 s");
	CHECK_EQ(registrar_lookup(reg, "a@x", T0 + 59999, c, 8), 2,
		 "both live 1 ms before the first expiry");
	CHECK_EQ(registrar_lookup(reg, "a@x", T0 + 60000, c, 8), 1,
		 "lookup skips the expired one at its expiry");
	CHECK_STR(c[0].uri, "sip:long@h", "the live one");
	CHECK_EQ(registrar_count(reg), 3,
		 "count still holds the expired bindings before expire()");
	CHECK_EQ(registrar_expire(reg, T0 + 59999), 0,
		 "nothing expires early");
	CHECK_EQ(registrar_expire(reg, T0 + 60000), 2,
		 "two bindings expire at 60 s");
	CHECK_EQ(registrar_count(reg), 1, "one left");
	CHECK_EQ(registrar_lookup(reg, "b@x", T0, c, 8), 0,
		 "b@x's AOR was freed (even with an earlier clock)");
	CHECK_EQ(registrar_expire(reg, T0 + 600000), 1, "the last expires");
	CHECK_EQ(registrar_count(reg), 0, "empty");
	CHECK_EQ(registrar_expire(reg, T0 + 700000), 0, "expire on empty");
}

static void test_min_max_expires(void **state)
{
	struct reg_contact c[REG_MAX_CONTACTS];

	(void)state;
	CHECK_EQ(reg_add("a@x", "sip:a@h", MIN_EXP - 1, "c1", 1, T0), -ERANGE,
		 "below Min-Expires: 423");
	CHECK_EQ(registrar_count(reg), 0, "refused REGISTER stores nothing");
	CHECK_EQ(reg_add("a@x", "sip:a@h", MIN_EXP, "c1", 2, T0), 0,
		 "exactly Min-Expires");
	CHECK_EQ(reg_add("b@x", "sip:b@h", 86400, "c2", 1, T0), 0,
		 "a day is accepted");
	CHECK_EQ(registrar_lookup(reg, "b@x", T0, c, 8), 1, "b@x found");
	CHECK_EQ(c[0].expires_ms, T0 + MAX_EXP * 1000ULL, "cut to max");
	CHECK_EQ(reg_add("a@x", "sip:a@h", 0, "c1", 3, T0), 0,
		 "expires 0 is not below Min-Expires");
	CHECK_EQ(registrar_lookup(reg, "a@x", T0, c, 8), 0, "a@x removed");
	CHECK_TRUE(registrar_new(100, 10) == NULL, "min above max is refused");
}

/* ---- RFC 3261 10.3 step 7 ----------------------------------------------- */

static void test_cseq_rule(void **state)
{
	struct reg_contact c[REG_MAX_CONTACTS];

	(void)state;
	CHECK_EQ(reg_add("a@x", "sip:a@h", 600, "cid", 10, T0), 0, "CSeq 10");
	CHECK_EQ(reg_add("a@x", "sip:a@h", 900, "cid", 10, T0 + 1), -EALREADY,
		 "same CSeq again (a retransmission)");
	CHECK_EQ(reg_add("a@x", "sip:a@h", 900, "cid", 9, T0 + 1), -EALREADY,
		 "an older CSeq (a reordered REGISTER)");
	CHECK_EQ(registrar_lookup(reg, "a@x", T0 + 1, c, 8), 1, "one binding");
	CHECK_EQ(c[0].expires_ms, T0 + 600 * 1000,
		 "a refused REGISTER changes nothing");
	CHECK_EQ(reg_add("a@x", "sip:a@h", 900, "cid", 11, T0 + 1), 0,
		 "a newer CSeq");
	CHECK_EQ(reg_add("a@x", "sip:a@h", 900, "other", 1, T0 + 2), 0,
		 "another Call-ID may use any CSeq");
	CHECK_EQ(reg_add("a@x", "sip:new@h", 900, "cid", 1, T0 + 3), 0,
		 "the rule is per binding: a new contact with an old CSeq");
	CHECK_EQ(registrar_count(reg), 2, "two bindings");
	/* An expired binding is gone: its CSeq no longer counts. */
	CHECK_EQ(reg_add("a@x", "sip:new@h", 900, "cid", 1,
			 T0 + 3 + 900 * 1000), 0,
		 "same CSeq after the binding expired");
}

static void test_too_many_contacts(void **state)
{
	struct reg_contact c[REG_MAX_CONTACTS + 1];
	char uri[64];

	(void)state;
	for (int i = 0; i < REG_MAX_CONTACTS; i++) {
		snprintf(uri, sizeof(uri), "sip:dev%d@h", i);
		CHECK_EQ(reg_add("a@x", uri, i == 0 ? 60 : 600, "cid",
				 (uint32_t)i + 1, T0), 0,
			 "contact within the cap");
	}
	CHECK_EQ(reg_add("a@x", "sip:one-too-many@h", 600, "cid", 100, T0),
		 -ENOSPC, "one more than REG_MAX_CONTACTS: 403");
	CHECK_EQ(registrar_count(reg), REG_MAX_CONTACTS, "the cap holds");
	CHECK_EQ(reg_add("a@x", "sip:dev3@h", 900, "cid", 101, T0), 0,
		 "refreshing an existing contact at the cap");
	CHECK_EQ(reg_add("a@x", "sip:dev3@h", 0, "cid", 102, T0), 0,
		 "remove one");
	CHECK_EQ(reg_add("a@x", "sip:one-more@h", 600, "cid", 103, T0), 0,
		 "room again after a removal");
	/* dev0 expires at 60 s: its slot is free for a newcomer. */
	CHECK_EQ(reg_add("a@x", "sip:late@h", 600, "cid", 104, T0 + 60000), 0,
		 "an expired binding does not take a slot");
	CHECK_EQ(registrar_lookup(reg, "a@x", T0 + 60000, c,
				  REG_MAX_CONTACTS + 1), REG_MAX_CONTACTS,
		 "full again, the expired one gone");
	for (int i = 0; i < REG_MAX_CONTACTS; i++)
		CHECK_TRUE(strcmp(c[i].uri, "sip:dev0@h") != 0,
			   "dev0 (expired) is not listed");
}

static void test_bad_arguments(void **state)
{
	char longs[REG_URI_MAX + 10];

	(void)state;
	memset(longs, 'a', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = 0;
	CHECK_EQ(reg_add("a@x", longs, 600, "c", 1, T0), -EINVAL,
		 "a contact URI longer than REG_URI_MAX is not truncated");
	CHECK_EQ(reg_add(longs, "sip:a@h", 600, "c", 1, T0), -EINVAL,
		 "an over-long AOR");
	CHECK_EQ(reg_add("a@x", "sip:a@h", 600, longs, 1, T0), -EINVAL,
		 "a Call-ID longer than the stored field");
	CHECK_EQ(reg_add("", "sip:a@h", 600, "c", 1, T0), -EINVAL,
		 "an empty AOR");
	CHECK_EQ(registrar_count(reg), 0, "nothing stored");
	CHECK_EQ(registrar_update(reg, "a@x", "sip:a@h", 600, "c", 1, NULL,
				  T0), 0, "no source is allowed");
}

/* ---- walking ------------------------------------------------------------ */

struct walk {
	int n, stop_at;
	char seen[4][2 * REG_URI_MAX + 2];
};

static int walk_cb(const char *aor, const struct reg_contact *c, void *arg)
{
	struct walk *w = arg;

	if (w->n < 4)
		snprintf(w->seen[w->n], sizeof(w->seen[0]), "%s %s", aor,
			 c->uri);
	w->n++;
	return w->stop_at && w->n == w->stop_at;
}

static int seen(const struct walk *w, const char *s)
{
	for (int i = 0; i < w->n && i < 4; i++)
		if (strcmp(w->seen[i], s) == 0)
			return 1;
	return 0;
}

static void test_foreach_count(void **state)
{
	struct walk w = { 0 };

	(void)state;
	CHECK_EQ(reg_add("a@x", "sip:a1@h", 600, "c1", 1, T0), 0, "a1");
	CHECK_EQ(reg_add("a@x", "sip:a2@h", 60, "c2", 1, T0), 0, "a2 (60 s)");
	CHECK_EQ(reg_add("b@x", "sip:b1@h", 600, "c3", 1, T0), 0, "b1");
	CHECK_EQ(registrar_count(reg), 3, "three bindings");
	registrar_foreach(reg, T0, walk_cb, &w);
	CHECK_EQ(w.n, 3, "foreach visits every binding");
	CHECK_TRUE(seen(&w, "a@x sip:a1@h"), "a1 visited with its AOR");
	CHECK_TRUE(seen(&w, "a@x sip:a2@h"), "a2 visited with its AOR");
	CHECK_TRUE(seen(&w, "b@x sip:b1@h"), "b1 visited with its AOR");

	memset(&w, 0, sizeof(w));
	registrar_foreach(reg, T0 + 60000, walk_cb, &w);
	CHECK_EQ(w.n, 2, "foreach skips the expired binding");
	CHECK_TRUE(!seen(&w, "a@x sip:a2@h"), "a2 not visited once expired");

	memset(&w, 0, sizeof(w));
	w.stop_at = 1;
	registrar_foreach(reg, T0, walk_cb, &w);
	CHECK_EQ(w.n, 1, "foreach stops when the callback returns non-zero");
}

/* ---- scale -------------------------------------------------------------- */

static void test_10000_aors(void **state)
{
	const int n = 10000;
	struct reg_contact c[REG_MAX_CONTACTS];
	struct walk w = { 0 };
	char aor[64], uri[64];

	(void)state;
	for (int i = 0; i < n; i++) {
		snprintf(aor, sizeof(aor), "user%d@example.net", i);
		snprintf(uri, sizeof(uri), "sip:user%d@10.%d.%d.1", i,
			 i / 256, i % 256);
		/* Half of them for 60 s, half for 600 s. */
		if (reg_add(aor, uri, i % 2 ? 600 : 60, "cid", 1, T0) != 0)
			fail_msg("REGISTER of %s failed", aor);
	}
	CHECK_EQ(registrar_count(reg), n, "10,000 bindings");
	for (int i = 0; i < n; i++) {
		snprintf(aor, sizeof(aor), "user%d@example.net", i);
		snprintf(uri, sizeof(uri), "sip:user%d@10.%d.%d.1", i,
			 i / 256, i % 256);
		if (registrar_lookup(reg, aor, T0, c, 8) != 1 ||
		    strcmp(c[0].uri, uri) != 0)
			fail_msg("lookup of %s did not find %s", aor, uri);
	}
	CHECK_EQ(registrar_lookup(reg, "user10000@example.net", T0, c, 8), 0,
		 "an AOR never registered");
	registrar_foreach(reg, T0, walk_cb, &w);
	CHECK_EQ(w.n, n, "foreach visits all 10,000");
	CHECK_EQ(registrar_expire(reg, T0 + 60000), n / 2,
		 "the 60 s half expires");
	CHECK_EQ(registrar_count(reg), n / 2, "the 600 s half stays");
	CHECK_EQ(registrar_lookup(reg, "user1@example.net", T0 + 60000, c, 8),
		 1, "an odd (600 s) user is still there");
	CHECK_EQ(registrar_lookup(reg, "user2@example.net", T0, c, 8), 0,
		 "an even (60 s) user is gone");
	CHECK_EQ(registrar_expire(reg, T0 + 600000), n / 2, "the rest expires");
	CHECK_EQ(registrar_count(reg), 0, "empty");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_lookup, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_several_contacts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refresh_same_contact,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unregister, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_remove_all, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_min_max_expires, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cseq_rule, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_too_many_contacts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_foreach_count, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_10000_aors, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("test_registrar", tests, NULL, NULL);
}
