// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The ng codec (userspace/bencode.c): bencode and the JSON subset into one
 * tree and back. Round trips, the one spelling of each number, what every
 * kind of malformed input is refused with (the reason and the byte), the
 * limits (depth, values, string lengths, memory), truncation at every byte,
 * and a few thousand mutated messages that must neither crash nor leak
 * (the test build runs under ASan/UBSan).
 *
 * Every tree lives in the arena `a`, freed by the teardown, also when a
 * failed check jumps out of a test.
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

#include "bencode.h"
#include "check.h"

static struct bn_arena *a;
static char *text;
static char err[256];

static int setup(void **state)
{
	(void)state;
	a = bn_arena_new(0);
	err[0] = 0;
	return a ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	bn_arena_free(a);
	a = NULL;
	free(text);
	text = NULL;
	return 0;
}

/* Decode the whole of s; the return code. */
static int dec(enum bn_format f, const char *s, size_t len, struct bnode **n)
{
	size_t used = 0;
	int rc = bn_decode(a, f, s, len, n, &used, err, sizeof(err));

	if (rc == 0)
		CHECK_EQ(used, len, "the value takes the whole input");
	return rc;
}

/* s must decode, and encode back to exactly `back`. */
static struct bnode *round_trip(enum bn_format f, const char *s,
				const char *back)
{
	struct bnode *n = NULL;
	size_t len = 0;

	CHECK_EQ(dec(f, s, strlen(s), &n), 0, s);
	free(text);
	text = bn_encode(n, f, &len);
	CHECK_TRUE(text != NULL, "encoded");
	CHECK_EQ(len, strlen(back), "encoded length");
	CHECK_STR(text, back, "encoded text");
	return n;
}

/* s must be refused with rc, err naming `why`. */
static void refused(enum bn_format f, const char *s, size_t len, int rc,
		    const char *why)
{
	struct bnode *n = (struct bnode *)1;

	err[0] = 0;
	CHECK_EQ(dec(f, s, len, &n), rc, s);
	CHECK_TRUE(n == NULL, "no tree for a refused input");
	CHECK_HAS(err, why, "the reason");
	CHECK_HAS(err, "at byte ", "the reason names the byte");
}

#define REFUSED(f, s, rc, why) refused((f), (s), strlen(s), (rc), (why))

/* ---- bencode ---------------------------------------------------------------- */

static void test_bencode_round_trip(void **state)
{
	struct bnode *n, *m;

	(void)state;
	n = round_trip(BN_BENCODE, "d3:cow3:moo4:spaml1:a1:bee",
		       "d3:cow3:moo4:spaml1:a1:bee");
	CHECK_EQ(n->type, BN_DICT, "a dictionary");
	CHECK_EQ(n->len, 2, "two members");
	m = bn_dict_get(n, "cow");
	CHECK_TRUE(m && m->type == BN_STR, "cow is a string");
	CHECK_STR(m->str, "moo", "cow's value");
	m = bn_dict_get(n, "spam");
	CHECK_TRUE(m && m->type == BN_LIST && m->len == 2, "spam: two items");
	CHECK_STR(m->child->next->str, "b", "the list's second item");
	CHECK_TRUE(bn_dict_get(n, "co") == NULL, "no member 'co'");
	round_trip(BN_BENCODE, "de", "de");
	round_trip(BN_BENCODE, "le", "le");
	round_trip(BN_BENCODE, "0:", "0:");
	round_trip(BN_BENCODE, "i0e", "i0e");
	round_trip(BN_BENCODE, "i-42e", "i-42e");
	round_trip(BN_BENCODE, "i9223372036854775807e", "i9223372036854775807e");
	n = round_trip(BN_BENCODE, "i-9223372036854775808e",
		       "i-9223372036854775808e");
	CHECK_TRUE(n->num == INT64_MIN, "the smallest integer");
	round_trip(BN_BENCODE, "lli1eedee", "lli1eedee");
	/* dictionaries come out sorted, as bencode requires */
	round_trip(BN_BENCODE, "d1:bi2e1:ai1e2:aai3ee", "d1:ai1e2:aai3e1:bi2ee");
}

static void test_bencode_binary(void **state)
{
	static const char msg[] = "d3:k\0y5:a\0b\r\ne";
	struct bnode *n = NULL, *v;
	size_t len;

	(void)state;
	CHECK_EQ(dec(BN_BENCODE, msg, sizeof(msg) - 1, &n), 0, "NULs in data");
	v = n->child;
	CHECK_EQ(v->klen, 3, "the key keeps its NUL");
	CHECK_MEM(v->key, "k\0y", 3, "the key's bytes");
	CHECK_EQ(v->len, 5, "the value keeps its NUL");
	CHECK_MEM(v->str, "a\0b\r\n", 5, "the value's bytes");
	text = bn_encode(n, BN_BENCODE, &len);
	CHECK_EQ(len, sizeof(msg) - 1, "encoded length");
	CHECK_MEM(text, msg, len, "binary round trip");
}

static void test_bencode_malformed(void **state)
{
	(void)state;
	REFUSED(BN_BENCODE, "i03e", -EINVAL, "leading zero");
	REFUSED(BN_BENCODE, "i-0e", -EINVAL, "-0 is not an integer");
	REFUSED(BN_BENCODE, "ie", -EINVAL, "expected a digit");
	REFUSED(BN_BENCODE, "i-e", -EINVAL, "expected a digit");
	REFUSED(BN_BENCODE, "i12x", -EINVAL, "not 'e'");
	REFUSED(BN_BENCODE, "i9223372036854775808e", -E2BIG, "too large");
	REFUSED(BN_BENCODE, "i-9223372036854775809e", -E2BIG, "too large");
	REFUSED(BN_BENCODE, "01:a", -EINVAL, "leading zero");
	REFUSED(BN_BENCODE, "3x", -EINVAL, "not ':'");
	REFUSED(BN_BENCODE, "di1ei2ee", -EINVAL, "key must be a string");
	REFUSED(BN_BENCODE, "x", -EINVAL, "does not start a bencode value");
	REFUSED(BN_BENCODE, "l\x01", -EINVAL, "0x01");
	REFUSED(BN_BENCODE, "", -EAGAIN, "ends inside a value");
	REFUSED(BN_BENCODE, "d3:cow", -EAGAIN, "ends inside a value");
	REFUSED(BN_BENCODE, "5:abc", -EAGAIN, "only 3 follow");
}

static void test_bencode_huge_lengths(void **state)
{
	(void)state;
	REFUSED(BN_BENCODE, "99999999999999999999999999:x", -E2BIG, "too large");
	REFUSED(BN_BENCODE, "18446744073709551615:x", -E2BIG, "too large");
	REFUSED(BN_BENCODE, "4294967296:x", -E2BIG, "the limit is");
	REFUSED(BN_BENCODE, "2000000:x", -E2BIG, "the limit is");
	REFUSED(BN_BENCODE, "d3:sdp999999:v=0e", -EAGAIN, "only 4 follow");
}

/* Nested n deep: "ll...le...e" */
static char *nested(const char *open, const char *close, int n)
{
	size_t lo = strlen(open), lc = strlen(close);
	char *s = malloc((size_t)n * (lo + lc) + 1), *p = s;

	for (int i = 0; i < n; i++, p += lo)
		memcpy(p, open, lo);
	for (int i = 0; i < n; i++, p += lc)
		memcpy(p, close, lc);
	*p = 0;
	return s;
}

static void test_nesting_limits(void **state)
{
	struct bnode *n = NULL;

	(void)state;
	text = nested("l", "e", BN_MAX_DEPTH);
	CHECK_EQ(dec(BN_BENCODE, text, strlen(text), &n), 0,
		 "nested as deep as the limit");
	free(text);
	text = nested("l", "e", BN_MAX_DEPTH + 1);
	REFUSED(BN_BENCODE, text, -E2BIG, "nested deeper than 32");
	free(text);
	text = nested("l", "e", 100000); /* would blow a naive stack */
	REFUSED(BN_BENCODE, text, -E2BIG, "nested deeper");
	free(text);
	text = nested("[", "]", BN_MAX_DEPTH);
	CHECK_EQ(dec(BN_JSON, text, strlen(text), &n), 0, "JSON at the limit");
	free(text);
	text = nested("{\"a\":", "}", BN_MAX_DEPTH + 1);
	REFUSED(BN_JSON, text, -E2BIG, "nested deeper");
}

static void test_value_limit(void **state)
{
	size_t n = BN_MAX_VALUES + 2;
	char *p;

	(void)state;
	text = malloc(n * 3 + 3);
	p = text;
	*p++ = 'l';
	for (size_t i = 0; i < n; i++, p += 3)
		memcpy(p, "i1e", 3);
	*p++ = 'e';
	*p = 0;
	REFUSED(BN_BENCODE, text, -E2BIG, "more than 16384 values");
}

static void test_arena_limit(void **state)
{
	struct bn_arena *small = bn_arena_new(20000);
	struct bnode *n = NULL;
	size_t used;
	char *big = malloc(40000);
	int rc;

	(void)state;
	memcpy(big, "39990:", 6);
	memset(big + 6, 'x', 39990);
	rc = bn_decode(small, BN_BENCODE, big, 39996, &n, &used, err,
		       sizeof(err));
	CHECK_EQ(rc, -ENOMEM, "a value larger than the arena");
	CHECK_HAS(err, "out of memory", "the reason");
	CHECK_TRUE(bn_arena_failed(small), "the arena says it failed");
	bn_arena_free(small);
	free(big);
}

/* Every proper prefix of a message is incomplete, never malformed: a TCP
 * stream may stop anywhere and go on later. */
static void test_truncated_everywhere(void **state)
{
	static const char *const msgs[] = {
		"d7:command5:offer7:call-id6:abc@de3:sdp10:v=0\r\no=- 1"
		"8:supportsl10:load limite5:limiti-1ee",
		"{\"command\":\"offer\",\"sdp\":\"v=0\\r\\n\\u00e9\","
		"\"flags\":[\"a\",1,-2,true,false,null],\"x\":{}}",
	};

	(void)state;
	for (int m = 0; m < 2; m++) {
		size_t len = strlen(msgs[m]);
		enum bn_format f = m ? BN_JSON : BN_BENCODE;
		struct bnode *n;

		CHECK_EQ(dec(f, msgs[m], len, &n), 0, "the whole message");
		for (size_t cut = 0; cut < len; cut++) {
			char what[64];

			snprintf(what, sizeof(what), "cut after %zu bytes", cut);
			CHECK_EQ(dec(f, msgs[m], cut, &n), -EAGAIN, what);
		}
	}
}

static void test_stream_used(void **state)
{
	const char *s = "d1:ai1ee4:next";
	struct bnode *n;
	size_t used;

	(void)state;
	CHECK_EQ(bn_decode(a, BN_BENCODE, s, strlen(s), &n, &used, err,
			   sizeof(err)), 0, "a message followed by more");
	CHECK_EQ(used, 8, "the message's own length");
	s = "{\"a\":1}  {";
	CHECK_EQ(bn_decode(a, BN_JSON, s, strlen(s), &n, &used, err,
			   sizeof(err)), 0, "JSON followed by more");
	CHECK_EQ(used, 7, "the object's own length");
	CHECK_EQ(bn_format_of('d'), BN_BENCODE, "'d' is bencode");
	CHECK_EQ(bn_format_of('{'), BN_JSON, "'{' is JSON");
	CHECK_EQ(bn_format_of('l'), -1, "a list is no message");
}

/* ---- JSON ------------------------------------------------------------------------ */

static void test_json_round_trip(void **state)
{
	struct bnode *n, *m;

	(void)state;
	n = round_trip(BN_JSON,
		       " { \"command\" : \"ping\", \"n\": -12 ,\"l\":[1,\"x\",[]],"
		       "\"d\":{\"e\":{}} }",
		       "{\"command\":\"ping\",\"n\":-12,\"l\":[1,\"x\",[]],"
		       "\"d\":{\"e\":{}}}");
	m = bn_dict_get(n, "n");
	CHECK_TRUE(m && m->type == BN_INT && m->num == -12, "n is -12");
	n = round_trip(BN_JSON, "[true,false,null]", "[1,0,\"\"]");
	CHECK_EQ(n->child->type, BN_INT, "true is an integer");
	/* escapes in, escapes out */
	n = round_trip(BN_JSON, "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0001\"",
		       "\"a\\\"b\\\\c/d\\u0008\\u000c\\n\\r\\t\\u0001\"");
	CHECK_MEM(n->str, "a\"b\\c/d\b\f\n\r\t\x01", 14, "unescaped bytes");
	n = round_trip(BN_JSON, "\"\\u00e9\\u20ac\\ud83d\\ude00\"",
		       "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	CHECK_EQ(n->len, 9, "UTF-8 from \\u escapes and a surrogate pair");
	round_trip(BN_JSON, "\"\\u0000\"", "\"\\u0000\"");
	round_trip(BN_JSON, "9223372036854775807", "9223372036854775807");
	round_trip(BN_JSON, "-9223372036854775808", "-9223372036854775808");
}

/* The same tree in both encodings. */
static void test_cross_encoding(void **state)
{
	struct bnode *n = NULL;
	size_t len;

	(void)state;
	const char *in = "{\"b\":[1,\"two\"],\"a\":\"\\n\"}";

	CHECK_EQ(dec(BN_JSON, in, strlen(in), &n), 0, "JSON in");
	text = bn_encode(n, BN_BENCODE, &len);
	CHECK_STR(text, "d1:a1:\n1:bli1e3:twoee", "bencode out");
	/* bencode strings are bytes: in JSON what is not UTF-8 becomes
	 * U+FFFD (valid, and stable through a decode), control bytes are
	 * escaped */
	CHECK_EQ(dec(BN_BENCODE, "l4:\xff\xc3\xa9\0e", 8, &n), 0,
		 "bytes in");
	free(text);
	text = bn_encode(n, BN_JSON, &len);
	CHECK_STR(text, "[\"\xef\xbf\xbd\xc3\xa9\\u0000\"]",
		  "invalid UTF-8 replaced, NUL escaped, valid UTF-8 kept");
}

static void test_json_malformed(void **state)
{
	(void)state;
	REFUSED(BN_JSON, "{\"a\":1,}", -EINVAL, "key must be a string");
	REFUSED(BN_JSON, "{\"a\" 1}", -EINVAL, "expected ':'");
	REFUSED(BN_JSON, "{1:2}", -EINVAL, "key must be a string");
	REFUSED(BN_JSON, "[1 2]", -EINVAL, "expected ',' or ']'");
	REFUSED(BN_JSON, "[1.5]", -EINVAL, "only whole numbers");
	REFUSED(BN_JSON, "[1e3]", -EINVAL, "only whole numbers");
	REFUSED(BN_JSON, "[01]", -EINVAL, "leading zero");
	REFUSED(BN_JSON, "[-]", -EINVAL, "expected a digit");
	REFUSED(BN_JSON, "[99999999999999999999]", -E2BIG, "too large");
	REFUSED(BN_JSON, "[tru]", -EINVAL, "not a JSON value");
	REFUSED(BN_JSON, "[nul", -EAGAIN, "ends inside");
	REFUSED(BN_JSON, "\"a\nb\"", -EINVAL, "control character 0x0a");
	REFUSED(BN_JSON, "\"\\x\"", -EINVAL, "unknown escape");
	REFUSED(BN_JSON, "\"\\u12g4\"", -EINVAL, "four hex digits");
	REFUSED(BN_JSON, "\"\\ude00\"", -EINVAL, "lone low surrogate");
	REFUSED(BN_JSON, "\"\\ud83d\"", -EINVAL, "without its low surrogate");
	REFUSED(BN_JSON, "\"\\ud83d\\u0041\"", -EINVAL, "without its low");
	REFUSED(BN_JSON, "\"\\u\"", -EINVAL, "four hex digits");
	REFUSED(BN_JSON, "{\"a\":\"b", -EAGAIN, "ends inside");
	REFUSED(BN_JSON, "'a'", -EINVAL, "does not start a JSON value");
}

static void test_builders(void **state)
{
	struct bnode *d = bn_dict(a), *l;
	size_t len;

	(void)state;
	bn_dict_put_str(a, d, "result", "ok");
	bn_dict_put_int(a, d, "n", -1);
	l = bn_dict_put_list(a, d, "calls");
	bn_list_add_str(a, l, "c1");
	bn_list_add(l, bn_int(a, 7));
	bn_dict_put_dict(a, d, "empty");
	CHECK_TRUE(!bn_arena_failed(a), "nothing failed");
	text = bn_encode(d, BN_BENCODE, &len);
	CHECK_STR(text, "d5:callsl2:c1i7ee5:emptyde1:ni-1e6:result2:oke",
		  "bencode, sorted");
	free(text);
	text = bn_encode(d, BN_JSON, &len);
	CHECK_STR(text, "{\"result\":\"ok\",\"n\":-1,\"calls\":[\"c1\",7],"
		  "\"empty\":{}}", "JSON, in order");
	CHECK_TRUE(bn_dict_put_str(a, l, "x", "y") == NULL,
		   "a list takes no keyed member");
	CHECK_TRUE(bn_arena_failed(a), "which marks the arena");
}

/* Mutations of real messages: flipped, dropped and inserted bytes. Any
 * result is fine as long as nothing crashes, leaks or reads outside the
 * buffer (ASan), and a refusal says why. */
static void test_mutations(void **state)
{
	static const char *const seeds[] = {
		"d7:command5:offer7:call-id3:c@d8:from-tag2:ft3:sdp4:v=0\n"
		"5:flagsl13:trust-addressee",
		"{\"command\":\"query\",\"call-id\":\"x\\u0041\",\"l\":[1,[2,{}]]}",
	};
	unsigned seed = 12345;

	(void)state;
	for (int i = 0; i < 6000; i++) {
		const char *s = seeds[i % 2];
		size_t len = strlen(s), pos;
		char *m = malloc(len + 2);
		struct bn_arena *x = bn_arena_new(0);
		struct bnode *n;
		size_t used;
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
		err[0] = 0;
		rc = bn_decode(x, i % 2 ? BN_JSON : BN_BENCODE, m, len, &n, &used,
			       err, sizeof(err));
		if (rc)
			CHECK_HAS(err, "at byte", "a refusal names the byte");
		else
			CHECK_TRUE(used <= len, "never past the input");
		bn_arena_free(x);
		free(m);
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	static const struct CMUnitTest tests[] = {
		T(test_bencode_round_trip),
		T(test_bencode_binary),
		T(test_bencode_malformed),
		T(test_bencode_huge_lengths),
		T(test_nesting_limits),
		T(test_value_limit),
		T(test_arena_limit),
		T(test_truncated_everywhere),
		T(test_stream_used),
		T(test_json_round_trip),
		T(test_cross_encoding),
		T(test_json_malformed),
		T(test_builders),
		T(test_mutations),
	};

	return cmocka_run_group_tests_name("test_bencode", tests, NULL, NULL);
}
