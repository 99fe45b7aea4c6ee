// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Static routes (sip/route.c): longest user prefix, then exact domain
 * (case-insensitive), then the default route; and route lines that are
 * wrong get a message that says what is wrong and how to write it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "route.h"
#include "check.h"

static struct routes *rt;
static char err[256];

static int setup(void **state)
{
	(void)state;
	rt = routes_new();
	return rt ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	routes_free(rt);
	rt = NULL;
	return 0;
}

static void add(const char *spec)
{
	err[0] = 0;
	if (routes_add(rt, spec, err, sizeof(err)) != 0)
		fail_msg("routes_add(\"%s\"): %s", spec, err);
}

/* lookup, with "(none)" for NULL so that CHECK_STR can compare it */
static const char *hop(const char *user, const char *host)
{
	const char *h = routes_lookup(rt, user, host);

	return h ? h : "(none)";
}

static void test_longest_prefix(void **state)
{
	(void)state;
	add("prefix:+44 sip:uk.example.net");
	add("prefix:+4420 sip:london.example.net:5070;transport=tcp");
	add("prefix:+442079 sip:[2001:db8::20]:5060");
	add("prefix:+1 sip:us.example.net");
	add("prefix:0 sip:national.example.net");
	CHECK_EQ(routes_count(rt), 5, "five routes");
	CHECK_STR(hop("+441632960000", "x"), "sip:uk.example.net",
		  "+44 only");
	CHECK_STR(hop("+442071234567", "x"),
		  "sip:london.example.net:5070;transport=tcp",
		  "+4420 beats +44");
	CHECK_STR(hop("+442079460000", "x"), "sip:[2001:db8::20]:5060",
		  "+442079 beats +4420 and +44");
	CHECK_STR(hop("+4420", "x"),
		  "sip:london.example.net:5070;transport=tcp",
		  "a user equal to a prefix");
	CHECK_STR(hop("+12025550100", "x"), "sip:us.example.net", "+1");
	CHECK_STR(hop("+4", "x"), "(none)", "shorter than every prefix");
	CHECK_STR(hop("02079460000", "x"), "sip:national.example.net",
		  "a one-character prefix");
	CHECK_STR(hop("0", "x"), "sip:national.example.net",
		  "a one-character user");
	CHECK_STR(hop("442071234567", "x"), "(none)",
		  "prefixes are literal: 44 is not +44");
	CHECK_STR(hop("", "x"), "(none)", "empty user");
	CHECK_STR(hop(NULL, "x"), "(none)", "no user");
}

static void test_domain(void **state)
{
	(void)state;
	add("domain:example.net sip:10.0.0.6");
	add("DOMAIN:Partner.Example.Org sips:sbc.partner.example.org:5061");
	add("prefix:+44 sip:uk.example.net");
	CHECK_STR(hop("alice", "example.net"), "sip:10.0.0.6", "domain match");
	CHECK_STR(hop("alice", "EXAMPLE.NET"), "sip:10.0.0.6",
		  "domains match case-insensitively");
	CHECK_STR(hop("bob", "partner.example.org"),
		  "sips:sbc.partner.example.org:5061",
		  "a domain written in capitals");
	CHECK_STR(hop("alice", "sub.example.net"), "(none)",
		  "exact match: a subdomain is another domain");
	CHECK_STR(hop("alice", "example.ne"), "(none)", "no partial match");
	CHECK_STR(hop("+441632960000", "example.net"), "sip:uk.example.net",
		  "a prefix route is tried before the domain");
	CHECK_STR(hop("alice", NULL), "(none)", "no host");
}

static void test_default_route(void **state)
{
	(void)state;
	add("prefix: sip:default.example.net");
	CHECK_STR(hop("anything", "anywhere"), "sip:default.example.net",
		  "the default alone catches everything");
	CHECK_STR(hop(NULL, NULL), "sip:default.example.net",
		  "even with no user and no host");
	add("domain:example.net sip:10.0.0.6");
	add("prefix:+44 sip:uk.example.net");
	CHECK_EQ(routes_count(rt), 3, "the default counts as a route");
	CHECK_STR(hop("+441632960000", "other.org"), "sip:uk.example.net",
		  "a prefix beats the default");
	CHECK_STR(hop("alice", "example.net"), "sip:10.0.0.6",
		  "a domain beats the default (the default is the last)");
	CHECK_STR(hop("alice", "other.org"), "sip:default.example.net",
		  "the default when nothing else matches");
}

static void test_no_match(void **state)
{
	(void)state;
	CHECK_EQ(routes_count(rt), 0, "no routes");
	CHECK_STR(hop("+441632960000", "example.net"), "(none)",
		  "an empty table");
	add("prefix:+44 sip:uk.example.net");
	add("domain:example.net sip:10.0.0.6");
	CHECK_STR(hop("+33", "example.org"), "(none)",
		  "neither prefix nor domain");
}

static void test_many_prefixes(void **state)
{
	char spec[96], user[32], want[64];

	(void)state;
	/* 10,000 prefixes +100000..+109999, added in a shuffled order. */
	for (unsigned i = 0; i < 10000; i++) {
		unsigned k = (i * 7919u) % 10000;

		snprintf(spec, sizeof(spec), "prefix:+10%04u sip:gw%u.example",
			 k, k);
		add(spec);
	}
	add("prefix:+10 sip:short.example");
	CHECK_EQ(routes_count(rt), 10001, "10,001 routes");
	for (unsigned k = 0; k < 10000; k += 37) {
		snprintf(user, sizeof(user), "+10%04u555", k);
		snprintf(want, sizeof(want), "sip:gw%u.example", k);
		CHECK_STR(hop(user, "x"), want,
			  "each prefix finds its gateway");
	}
	CHECK_STR(hop("+10", "x"), "sip:short.example", "the short prefix");
	CHECK_STR(hop("+10999", "x"), "sip:short.example",
		  "too short for the long ones");
}

static void test_bad_specs(void **state)
{
	static const struct {
		const char *spec, *problem, *fix;
	} bad[] = {
		{ "", "empty route", "prefix:+4420 sip:" },
		{ "   ", "empty route", "e.g." },
		{ "prefix:+44", "has no next hop", "e.g." },
		{ "+44 sip:gw.example", "must start with prefix: or domain:",
		  "e.g." },
		{ "user:+44 sip:gw.example", "must start with prefix:",
		  "e.g." },
		{ "prefix:+44 gw.example.net", "is not a SIP URI",
		  "start with sip: or sips:" },
		{ "prefix:+44 http://gw.example.net", "is not a SIP URI",
		  "sip:" },
		{ "prefix:+44 sip:", "has no host", "sip:HOST" },
		{ "prefix:+44 sip:;transport=tcp", "has no host", "sip:HOST" },
		{ "prefix:+44 sip:user@", "has no host", "sip:HOST" },
		{ "prefix:+44 sip::5060", "has no host", "sip:HOST" },
		{ "prefix:+44 sip:gw:0", "bad port", "1 to 65535" },
		{ "prefix:+44 sip:gw:65536", "bad port", "1 to 65535" },
		{ "prefix:+44 sip:gw:50x0", "a character that cannot be in",
		  "sip:HOST[:PORT]" },
		{ "prefix:+44 sip:gw:", "bad port", "1 to 65535" },
		{ "prefix:+44 sip:[2001:db8::1", "closing ']'", "sip:[" },
		{ "prefix:+44 sip:gw/x", "cannot be in a host", "sip:HOST" },
		{ "prefix:+44 sip:gw.example extra", "unexpected \"extra\"",
		  "one match and one next hop" },
		{ "domain: sip:gw.example", "needs a domain name", "e.g." },
		{ "domain:user@example.net sip:gw", "is not a host name",
		  "domain:example.net" },
		{ "domain:example.net:5060 sip:gw", "is not a host name",
		  "without user, port" },
		{ "prefix:+4@4 sip:gw", "cannot be in a user part", "digits" },
		{ "prefix:1234567890123456789012345678901234567890"
		  "12345678901234567890123456789 sip:gw", "longer than 64",
		  "shorten" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		if (routes_add(rt, bad[i].spec, err, sizeof(err)) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i].spec);
		CHECK_HAS(err, bad[i].problem, "error names the problem");
		CHECK_HAS(err, bad[i].fix, "error says how to fix it");
	}
	CHECK_EQ(routes_count(rt), 0, "no bad route was added");
	CHECK_EQ(routes_add(rt, NULL, err, sizeof(err)), -EINVAL, "NULL spec");
}

static void test_duplicates_and_forms(void **state)
{
	(void)state;
	add("  prefix:+44\tsip:uk.example.net  ");
	CHECK_STR(hop("+4411", "x"), "sip:uk.example.net",
		  "white space around and between the words");
	CHECK_EQ(routes_add(rt, "prefix:+44 sip:other.example", err,
			    sizeof(err)), -EINVAL, "the same prefix twice");
	CHECK_HAS(err, "prefix:+44 is already routed to sip:uk.example.net",
		  "duplicate prefix: names the existing route");
	add("domain:example.net sip:a.example");
	CHECK_EQ(routes_add(rt, "domain:EXAMPLE.net sip:b.example", err,
			    sizeof(err)), -EINVAL,
		 "the same domain in other case");
	CHECK_HAS(err, "already routed to sip:a.example",
		  "duplicate domain: names the existing route");
	add("prefix: sip:default.example");
	CHECK_EQ(routes_add(rt, "prefix: sip:other.example", err,
			    sizeof(err)), -EINVAL, "a second default");
	CHECK_HAS(err, "default route", "second default: says so");
	CHECK_EQ(routes_count(rt), 3, "the refused ones were not added");
	/* Next hops that must be accepted. */
	add("prefix:+1 SIP:gw.example.net");
	add("prefix:+2 sip:trunk@gw.example.net:5080;transport=tcp;lr");
	add("prefix:+3 sip:10.0.0.5:5060");
	add("prefix:+4 sips:[2001:db8::5]:5061");
	add("prefix:+5 sip:gw_1.example?x=y");
	add("prefix:*99# sip:vm.example");
	CHECK_STR(hop("*99#", "x"), "sip:vm.example", "a star-hash prefix");
	CHECK_STR(hop("+2", "x"),
		  "sip:trunk@gw.example.net:5080;transport=tcp;lr",
		  "the next hop is kept as written");
	CHECK_EQ(routes_count(rt), 9, "nine routes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_longest_prefix, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_route, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_prefixes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_specs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_and_forms,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("test_route", tests, NULL, NULL);
}
