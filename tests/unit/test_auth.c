// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Digest authentication (sip/auth.c). The expected responses are built
 * here from the RFC 2617 formulas with osip's MD5 and snprintf, not with
 * the code under test; the RFC's own example checks both. Time is a plain
 * ms number: auth never reads a clock.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <osipparser2/osip_md5.h>

#include "auth.h"
#include "digest.h"
#include "check.h"

#define REALM "xrelay.test"
#define T0 1700000000000ULL  /* ms */
#define USERS "alice:" REALM ":wonderland\n" \
	      "bob:" REALM ":builder\n"

static struct auth *auth;
static char paths[4][64];
static int npaths;
static char err[512];

static int teardown(void **state)
{
	(void)state;
	auth_free(auth);
	auth = NULL;
	for (int i = 0; i < npaths; i++)
		unlink(paths[i]);
	npaths = 0;
	return 0;
}

/* A temporary users file with content; removed by the teardown. */
static const char *users_file(const char *content)
{
	char *path = paths[npaths++];
	size_t len = strlen(content);
	int fd;

	snprintf(path, sizeof(paths[0]), "/tmp/xrelay-users-XXXXXX");
	fd = mkstemp(path);
	CHECK_TRUE(fd >= 0, "mkstemp of a users file");
	CHECK_EQ(write(fd, content, len), len, "write of the users file");
	close(fd);
	return path;
}

static void load(const char *content)
{
	err[0] = 0;
	auth = auth_load(users_file(content), REALM, err, sizeof(err));
	if (!auth)
		fail_msg("auth_load: %s", err);
}

/* ---- the expected digest, computed independently ------------------------ */

static void md5hex(const char *s, char out[33])
{
	osip_MD5_CTX ctx;
	unsigned char md[16];

	osip_MD5Init(&ctx);
	osip_MD5Update(&ctx, (unsigned char *)s, (unsigned)strlen(s));
	osip_MD5Final(md, &ctx);
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

/* RFC 2617 3.2.2.1: with qop, KD(HA1, nonce:nc:cnonce:qop:HA2); without
 * (RFC 2069), KD(HA1, nonce:HA2). */
static void expect_response(const char *user, const char *realm,
			    const char *pw, const char *method,
			    const char *uri, const char *nonce, const char *nc,
			    const char *cnonce, const char *qop, char out[33])
{
	char a1[256], a2[512], kd[1024], ha1[33], ha2[33];

	snprintf(a1, sizeof(a1), "%s:%s:%s", user, realm, pw);
	md5hex(a1, ha1);
	snprintf(a2, sizeof(a2), "%s:%s", method, uri);
	md5hex(a2, ha2);
	if (qop)
		snprintf(kd, sizeof(kd), "%s:%s:%s:%s:%s:%s", ha1, nonce, nc,
			 cnonce, qop, ha2);
	else
		snprintf(kd, sizeof(kd), "%s:%s:%s", ha1, nonce, ha2);
	md5hex(kd, out);
}

/* The nonce of a fresh challenge at now. */
static void nonce_at(uint64_t now, char nonce[64])
{
	char ch[256];
	const char *p, *q;

	CHECK_TRUE(auth_challenge(auth, now, 0, ch, sizeof(ch)) > 0,
		   "auth_challenge");
	p = strstr(ch, "nonce=\"");
	CHECK_TRUE(p != NULL, "challenge has a nonce");
	p += 7;
	q = strchr(p, '"');
	CHECK_TRUE(q && q - p < 64, "nonce is quoted and short");
	memcpy(nonce, p, (size_t)(q - p));
	nonce[q - p] = 0;
}

#define URI "sip:xrelay.test"
#define CNONCE "0a4f113b"

/* An Authorization value as a phone sends it; nc NULL: no qop (RFC 2069). */
static const char *creds(const char *user, const char *pw, const char *nonce,
			 const char *nc)
{
	static char h[1024];
	char resp[33];

	expect_response(user, REALM, pw, "REGISTER", URI, nonce, nc, CNONCE,
			nc ? "auth" : NULL, resp);
	if (nc)
		snprintf(h, sizeof(h), "Digest username=\"%s\", realm=\""
			 REALM "\", nonce=\"%s\", uri=\"" URI "\", response="
			 "\"%s\", algorithm=MD5, cnonce=\"" CNONCE "\", "
			 "qop=auth, nc=%s", user, nonce, resp, nc);
	else
		snprintf(h, sizeof(h), "Digest username=\"%s\", realm=\""
			 REALM "\", nonce=\"%s\", uri=\"" URI "\", response="
			 "\"%s\"", user, nonce, resp);
	return h;
}

static enum auth_result check(const char *header, uint64_t now)
{
	return auth_check(auth, header, "REGISTER", now, NULL, 0);
}

/* ---- known answer ------------------------------------------------------- */

/* RFC 2617 section 3.5. */
static void test_rfc2617_example(void **state)
{
	const char *nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
	char ha1[33], resp[33], mine[33];

	(void)state;
	digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life", ha1);
	digest_response(ha1, nonce, "00000001", "0a4f113b", "auth", "GET",
			"/dir/index.html", resp);
	CHECK_STR(resp, "6629fae49393a05397450978507c4ef1",
		  "digest_response of the RFC 2617 3.5 example");
	expect_response("Mufasa", "testrealm@host.com", "Circle Of Life",
			"GET", "/dir/index.html", nonce, "00000001",
			"0a4f113b", "auth", mine);
	CHECK_STR(mine, "6629fae49393a05397450978507c4ef1",
		  "the test's own computation of the RFC example");
	/* Without qop (RFC 2069), against the test's formula. */
	digest_response(ha1, nonce, NULL, NULL, NULL, "GET",
			"/dir/index.html", resp);
	expect_response("Mufasa", "testrealm@host.com", "Circle Of Life",
			"GET", "/dir/index.html", nonce, NULL, NULL, NULL,
			mine);
	CHECK_STR(resp, mine, "digest_response without qop");
	digest_md5_hex("", 0, resp);
	CHECK_STR(resp, "d41d8cd98f00b204e9800998ecf8427e", "MD5 of nothing");
}

/* ---- outcomes ----------------------------------------------------------- */

static void test_ok_with_qop(void **state)
{
	char nonce[64], user[32] = "";

	(void)state;
	load(USERS);
	CHECK_EQ(auth_user_count(auth), 2, "two users loaded");
	nonce_at(T0, nonce);
	CHECK_EQ(auth_check(auth, creds("alice", "wonderland", nonce,
					"00000001"), "REGISTER", T0 + 2000,
			    user, sizeof(user)), AUTH_OK,
		 "alice with qop=auth");
	CHECK_STR(user, "alice", "the user name on success");
	CHECK_EQ(check(creds("bob", "builder", nonce, "00000002"), T0 + 2000),
		 AUTH_OK, "bob on alice's nonce with the next nc");
	CHECK_EQ(check(creds("bob", "builder", nonce, "00000001"), T0 + 2000),
		 AUTH_FAILED, "the nc is the nonce's, whoever uses it");
}

static void test_ok_without_qop(void **state)
{
	char nonce[64], other[64];

	(void)state;
	load(USERS);
	nonce_at(T0, nonce);
	CHECK_EQ(check(creds("alice", "wonderland", nonce, NULL), T0 + 10),
		 AUTH_OK, "RFC 2069 response (no qop)");
	/* Documented choice: a reused nonce without qop is re-challenged
	 * (STALE), never accepted. */
	CHECK_EQ(check(creds("alice", "wonderland", nonce, NULL), T0 + 20),
		 AUTH_STALE, "the same nonce again without qop");
	CHECK_EQ(check(creds("alice", "wonderland", nonce, "00000001"),
		       T0 + 30), AUTH_FAILED,
		 "a no-qop nonce cannot go on with qop");
	nonce_at(T0 + 40, other);
	CHECK_EQ(check(creds("alice", "wonderland", other, NULL), T0 + 50),
		 AUTH_OK, "a fresh nonce works again");
}

static void test_failures(void **state)
{
	char nonce[64], h[1024];
	char *p;

	(void)state;
	load(USERS);
	nonce_at(T0, nonce);
	CHECK_EQ(check(creds("alice", "wrong", nonce, "00000001"), T0),
		 AUTH_FAILED, "wrong password");
	CHECK_EQ(check(creds("alice", "wrong", nonce, NULL), T0),
		 AUTH_FAILED, "wrong password without qop");
	CHECK_EQ(check(creds("mallory", "wonderland", nonce, "00000001"), T0),
		 AUTH_FAILED, "unknown user");
	CHECK_EQ(check(creds("Alice", "wonderland", nonce, "00000001"), T0),
		 AUTH_FAILED, "user names are case-sensitive");
	CHECK_EQ(auth_check(auth, creds("alice", "wonderland", nonce,
					"00000001"), "INVITE", T0, NULL, 0),
		 AUTH_FAILED, "response computed for another method");
	/* The right response, but the header names another realm. */
	snprintf(h, sizeof(h), "%s", creds("alice", "wonderland", nonce,
					   "00000001"));
	p = strstr(h, REALM);
	memcpy(p, "xrelay.tesT", strlen(REALM));
	CHECK_EQ(check(h, T0), AUTH_FAILED, "another realm");
	snprintf(h, sizeof(h), "%s", creds("alice", "wonderland", nonce,
					   "00000001"));
	p = strstr(h, "algorithm=MD5");
	memcpy(p, "algorithm=SHA", 13);
	CHECK_EQ(check(h, T0), AUTH_FAILED, "an algorithm we did not offer");
	snprintf(h, sizeof(h), "%s", creds("alice", "wonderland", nonce,
					   "00000001"));
	p = strstr(h, "qop=auth");
	memmove(p + 4, p, strlen(p) + 1);
	memcpy(p, "qop=auth-int", 12);
	CHECK_EQ(check(h, T0), AUTH_FAILED, "qop auth-int, not offered");
	/* None of the failures used up nc 1. */
	CHECK_EQ(check(creds("alice", "wonderland", nonce, "00000001"), T0),
		 AUTH_OK, "failed attempts do not burn the nonce count");
}

static void test_missing_and_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"   ",
		"Basic YWxpY2U6d29uZGVybGFuZA==",
		"Digest",
		"Digest ",
		"Digestusername=\"alice\"",
		/* a required field missing */
		"Digest realm=\"r\", nonce=\"n\", uri=\"u\", "
		"response=\"6629fae49393a05397450978507c4ef1\"",
		"Digest username=\"a\", nonce=\"n\", uri=\"u\", "
		"response=\"6629fae49393a05397450978507c4ef1\"",
		"Digest username=\"a\", realm=\"r\", uri=\"u\", "
		"response=\"6629fae49393a05397450978507c4ef1\"",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", "
		"response=\"6629fae49393a05397450978507c4ef1\"",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\"",
		/* a response that is no MD5 */
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", "
		"response=\"6629fae49393a05397450978507c4ef\"",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", "
		"response=\"6629fae49393a05397450978507c4efg\"",
		/* qop=auth without nc, with a bad nc, without cnonce */
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", "
		"response=\"6629fae49393a05397450978507c4ef1\", qop=auth, "
		"cnonce=\"c\"",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", "
		"response=\"6629fae49393a05397450978507c4ef1\", qop=auth, "
		"cnonce=\"c\", nc=1",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", "
		"response=\"6629fae49393a05397450978507c4ef1\", qop=auth, "
		"cnonce=\"c\", nc=0000000x",
		"Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", "
		"response=\"6629fae49393a05397450978507c4ef1\", qop=auth, "
		"nc=00000001",
		/* syntax */
		"Digest username=\"alice, realm=\"r\"",    /* unclosed quote */
		"Digest username=\"a\\",                    /* lone escape */
		"Digest username=\"a\" realm=\"r\"",        /* no comma */
		"Digest username=, realm=\"r\"",            /* empty value */
		"Digest =\"a\"",                            /* no name */
		"Digest username",                          /* no '=' */
		"Digest username=\"a\"x, realm=\"r\"",      /* junk after */
		"Digest username=a\"b\"",
		/* a field twice */
		"Digest username=\"a\", username=\"b\", realm=\"r\", "
		"nonce=\"n\", uri=\"u\", "
		"response=\"6629fae49393a05397450978507c4ef1\"",
	};
	char big[5000];

	(void)state;
	load(USERS);
	CHECK_EQ(check(NULL, T0), AUTH_MISSING, "no header");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum auth_result r = check(bad[i], T0);

		if (r != AUTH_MALFORMED)
			fail_msg("header %zu <%s>: got %d, expected "
				 "AUTH_MALFORMED", i, bad[i], r);
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memcpy(big, "Digest username=\"", 17);
	CHECK_EQ(check(big, T0), AUTH_MALFORMED, "a 5000-byte header");
}

/* Quoted strings with commas, escapes, odd white space, unknown and
 * reordered parameters, upper-case hex: all of it from real phones. */
static void test_parser_tolerance(void **state)
{
	const char *uri = "sip:bob@xrelay.test;x=\"a,b\"";
	char nonce[64], resp[33], h[1024], user[32];

	(void)state;
	load(USERS);
	nonce_at(T0, nonce);
	expect_response("alice", REALM, "wonderland", "INVITE", uri, nonce,
			"00000001", "x,y z", "auth", resp);
	for (char *p = resp; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	snprintf(h, sizeof(h),
		 "  digest\tuizzle=x ,opaque=\"\",  nc=00000001 ,"
		 "qop=\"auth\",cnonce=\"x,y z\", response=\"%s\",\t"
		 "uri=\"sip:bob@xrelay.test;x=\\\"a,b\\\"\" , ,"
		 "nonce = \"%s\",realm=\"" REALM "\",username=\"alice\",",
		 resp, nonce);
	/* "uizzle" is an unknown token parameter; it must not count. */
	CHECK_EQ(auth_check(auth, h, "INVITE", T0, user, sizeof(user)),
		 AUTH_OK, "a header full of legal oddities");
	CHECK_STR(user, "alice", "user from the odd header");
}

static void test_tampered_nonce(void **state)
{
	char nonce[64], t[64];

	(void)state;
	load(USERS);
	nonce_at(T0, nonce);
	CHECK_EQ(strlen(nonce), 48, "nonce: 16 hex time + 32 hex MAC");

	snprintf(t, sizeof(t), "%s", nonce);
	t[47] = t[47] == '0' ? '1' : '0';
	CHECK_EQ(check(creds("alice", "wonderland", t, "00000001"), T0),
		 AUTH_FAILED, "MAC changed");
	snprintf(t, sizeof(t), "%s", nonce);
	t[15] = t[15] == '0' ? '1' : '0';
	CHECK_EQ(check(creds("alice", "wonderland", t, "00000001"), T0),
		 AUTH_FAILED, "time changed (to make a nonce last longer)");
	snprintf(t, sizeof(t), "%s", nonce);
	t[40] = 0;
	CHECK_EQ(check(creds("alice", "wonderland", t, "00000001"), T0),
		 AUTH_FAILED, "a truncated nonce");
	CHECK_EQ(check(creds("alice", "wonderland",
			     "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001"),
		       T0), AUTH_FAILED, "a nonce we never issued");
	/* Another instance has another secret: its nonces are not ours. */
	{
		struct auth *other = auth_load(paths[0], REALM, err,
					       sizeof(err));
		char ch[256], *p;

		CHECK_TRUE(other != NULL, "second auth");
		auth_challenge(other, T0, 0, ch, sizeof(ch));
		auth_free(other);
		p = strstr(ch, "nonce=\"") + 7;
		p[48] = 0;
		CHECK_EQ(check(creds("alice", "wonderland", p, "00000001"),
			       T0), AUTH_FAILED,
			 "a nonce from another secret (a restart)");
	}
	CHECK_EQ(check(creds("alice", "wonderland", nonce, "00000001"), T0),
		 AUTH_OK, "the untouched nonce");
}

static void test_stale(void **state)
{
	char nonce[64];

	(void)state;
	load(USERS);
	nonce_at(T0, nonce);
	CHECK_EQ(check(creds("alice", "wonderland", nonce, "00000001"),
		       T0 + 300000), AUTH_OK, "at exactly 300 s");
	CHECK_EQ(check(creds("alice", "wonderland", nonce, "00000002"),
		       T0 + 301000), AUTH_STALE, "301 s later");
	CHECK_EQ(check(creds("alice", "wonderland", nonce, NULL),
		       T0 + 301000), AUTH_STALE, "301 s later, without qop");
	CHECK_EQ(check(creds("alice", "wrong", nonce, "00000003"),
		       T0 + 301000), AUTH_FAILED,
		 "stale only for a correct response: wrong password fails");
	CHECK_EQ(check(creds("alice", "wonderland", nonce, "00000004"),
		       T0 - 1000), AUTH_STALE,
		 "a nonce from the future (clock stepped back)");
}

static void test_replay(void **state)
{
	char nonce[64];
	char h1[1024];

	(void)state;
	load(USERS);
	nonce_at(T0, nonce);
	snprintf(h1, sizeof(h1), "%s",
		 creds("alice", "wonderland", nonce, "00000001"));
	CHECK_EQ(check(h1, T0), AUTH_OK, "nc 1");
	CHECK_EQ(check(h1, T0 + 1), AUTH_FAILED, "the same request replayed");
	CHECK_EQ(check(creds("alice", "wonderland", nonce, "00000002"), T0),
		 AUTH_OK, "nc 2");
	CHECK_EQ(check(creds("alice", "wonderland", nonce, "00000002"), T0),
		 AUTH_FAILED, "nc 2 again");
	CHECK_EQ(check(creds("alice", "wonderland", nonce, "00000001"), T0),
		 AUTH_FAILED, "a lower nc");
	CHECK_EQ(check(creds("alice", "wonderland", nonce, "0000000a"), T0),
		 AUTH_OK, "a jump to nc 10");
	CHECK_EQ(check(creds("alice", "wonderland", nonce, "00000000"), T0),
		 AUTH_FAILED, "nc 0 (counts start at 1)");
}

/* The replay table is bounded: a nonce pushed out of it must not become
 * usable again from nc 1, so it is re-challenged instead. */
static void test_replay_table_bound(void **state)
{
	char first[64], nonce[64];

	(void)state;
	load(USERS);
	nonce_at(T0, first);
	CHECK_EQ(check(creds("alice", "wonderland", first, "00000001"), T0),
		 AUTH_OK, "the first nonce, nc 1");
	for (int i = 1; i <= 4096; i++) {
		nonce_at(T0 + (uint64_t)i, nonce);
		if (check(creds("bob", "builder", nonce, "00000001"),
			  T0 + (uint64_t)i) != AUTH_OK)
			fail_msg("nonce %d not accepted", i);
	}
	CHECK_EQ(check(creds("alice", "wonderland", first, "00000001"),
		       T0 + 5000), AUTH_STALE,
		 "the replay of a forgotten nonce is re-challenged");
	CHECK_EQ(check(creds("alice", "wonderland", first, "00000002"),
		       T0 + 5000), AUTH_STALE,
		 "a forgotten nonce cannot go on either");
	CHECK_EQ(check(creds("bob", "builder", nonce, "00000001"), T0 + 5000),
		 AUTH_FAILED, "the newest nonce is still remembered");
	nonce_at(T0 + 6000, nonce);
	CHECK_EQ(check(creds("alice", "wonderland", nonce, "00000001"),
		       T0 + 6000), AUTH_OK, "a nonce issued afterwards");
}

/* ---- users file --------------------------------------------------------- */

static void test_ha1_users(void **state)
{
	char ha1[33], line[128], nonce[64];

	(void)state;
	md5hex("carol:" REALM ":s3cret:with:colons", ha1);
	snprintf(line, sizeof(line), "# HA1 form\ncarol:" REALM ":%s\n", ha1);
	load(line);
	CHECK_EQ(auth_user_count(auth), 1, "one HA1 user");
	nonce_at(T0, nonce);
	CHECK_EQ(check(creds("carol", "s3cret:with:colons", nonce, "00000001"),
		       T0), AUTH_OK, "HA1 line checks the password");
	CHECK_EQ(check(creds("carol", ha1, nonce, "00000002"), T0),
		 AUTH_FAILED, "the HA1 is not the password");
	auth_free(auth);

	for (char *p = ha1; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	snprintf(line, sizeof(line), "carol:" REALM ":%s\r\n", ha1);
	load(line);
	nonce_at(T0, nonce);
	CHECK_EQ(check(creds("carol", "s3cret:with:colons", nonce, NULL), T0),
		 AUTH_OK, "upper-case HA1 and a CRLF line end");
	auth_free(auth);

	load("dave:" REALM ":s3cret:with:colons\n");
	nonce_at(T0, nonce);
	CHECK_EQ(check(creds("dave", "s3cret:with:colons", nonce, NULL), T0),
		 AUTH_OK, "a password with colons keeps them");
}

static void test_users_file_errors(void **state)
{
	static const struct {
		const char *content, *where, *what;
	} bad[] = {
		{ "alice\n", ":1: ", "missing ':'" },
		{ "# c\n\nalice:" REALM ":pw\nbob\n", ":4: ", "missing ':'" },
		{ ":" REALM ":pw\n", ":1: ", "empty user name" },
		{ "alice:" REALM "\n", ":1: ", "missing the second ':'" },
		{ "alice:" REALM ":\n", ":1: ", "empty password" },
		{ "alice:other.realm:pw\n", ":1: ", "realm \"other.realm\" is "
		  "not the configured realm \"" REALM "\"" },
		{ "al ice:" REALM ":pw\n", ":1: ", "contains a space" },
		{ "alice:" REALM ":a\n  \nbob:" REALM ":b\nalice:" REALM ":c\n",
		  ":4: ", "\"alice\" is already defined on line 1" },
	};
	char prefix[96];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *path = users_file(bad[i].content);

		err[0] = 0;
		auth = auth_load(path, REALM, err, sizeof(err));
		if (auth)
			fail_msg("users file %zu loaded despite its error", i);
		snprintf(prefix, sizeof(prefix), "%s%s", path, bad[i].where);
		CHECK_TRUE(strncmp(err, prefix, strlen(prefix)) == 0,
			   "error starts with path:line");
		CHECK_HAS(err, bad[i].what, "error names the problem");
		CHECK_HAS(err, "(", "error says how to fix it");
		unlink(path);
		npaths--;
	}
	CHECK_TRUE(auth_load("/nonexistent/users.txt", REALM, err,
			     sizeof(err)) == NULL, "missing file");
	CHECK_HAS(err, "/nonexistent/users.txt", "missing file: the path");
	CHECK_HAS(err, "No such file", "missing file: the cause");
	CHECK_TRUE(auth_load(users_file(USERS), "bad realm", err,
			     sizeof(err)) == NULL, "a realm with a space");
	CHECK_HAS(err, "realm", "bad realm: says so");
}

static void test_reload(void **state)
{
	char nonce[64];
	const char *good, *broken;

	(void)state;
	load(USERS);
	good = users_file("erin:" REALM ":pw\n");
	broken = users_file("erin:" REALM ":pw\nfrank\n");
	CHECK_EQ(auth_reload(auth, broken, err, sizeof(err)), -EINVAL,
		 "reload of a broken file");
	CHECK_HAS(err, ":2: ", "reload error names the line");
	CHECK_EQ(auth_user_count(auth), 2, "old users kept after a failure");
	nonce_at(T0, nonce);
	CHECK_EQ(check(creds("alice", "wonderland", nonce, "00000001"), T0),
		 AUTH_OK, "alice still logs in");
	CHECK_EQ(auth_reload(auth, good, err, sizeof(err)), 0, "reload");
	CHECK_EQ(auth_user_count(auth), 1, "the new file's users");
	CHECK_EQ(check(creds("alice", "wonderland", nonce, "00000002"), T0),
		 AUTH_FAILED, "alice is gone");
	CHECK_EQ(check(creds("erin", "pw", nonce, "00000003"), T0), AUTH_OK,
		 "erin is there; nonces survive a reload");
}

static void test_challenge_format(void **state)
{
	const char *head = "Digest realm=\"" REALM "\", nonce=\"";
	const char *tail = "\", algorithm=MD5, qop=\"auth\"";
	char ch[256], ch2[256];
	int n;

	(void)state;
	load(USERS);
	n = auth_challenge(auth, T0, 0, ch, sizeof(ch));
	CHECK_EQ(n, (int)(strlen(head) + 48 + strlen(tail)),
		 "challenge length");
	CHECK_EQ(n, strlen(ch), "returned length is the string's");
	CHECK_TRUE(strncmp(ch, head, strlen(head)) == 0, "challenge head");
	CHECK_STR(ch + strlen(head) + 48, tail, "challenge tail");
	for (size_t i = strlen(head); i < strlen(head) + 48; i++)
		CHECK_TRUE((ch[i] >= '0' && ch[i] <= '9') ||
			   (ch[i] >= 'a' && ch[i] <= 'f'),
			   "nonce is lower-case hex");
	/* The issue time in ms, shifted left 12 bits over a sequence. */
	CHECK_TRUE(strncmp(ch + strlen(head), "0018bcfe56800000", 16) == 0,
		   "the nonce starts with the issue time in hex");
	n = auth_challenge(auth, T0, 1, ch2, sizeof(ch2));
	CHECK_EQ(n, strlen(ch) + strlen(", stale=true"), "stale length");
	CHECK_TRUE(strncmp(ch, ch2, strlen(head)) == 0,
		   "stale challenge: same head");
	CHECK_TRUE(strncmp(ch + strlen(head), ch2 + strlen(head), 48) != 0,
		   "two challenges in one millisecond: two nonces");
	CHECK_STR(ch2 + strlen(ch) - strlen(tail), "\", algorithm=MD5, "
		  "qop=\"auth\", stale=true", "stale=true appended");
	CHECK_EQ(auth_challenge(auth, T0, 0, ch, 40), -ENOSPC,
		 "buffer too small");
	nonce_at(T0 + 1, ch2);
	CHECK_TRUE(strcmp(ch2, ch) != 0, "another time, another nonce");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_rfc2617_example, teardown),
		cmocka_unit_test_teardown(test_ok_with_qop, teardown),
		cmocka_unit_test_teardown(test_ok_without_qop, teardown),
		cmocka_unit_test_teardown(test_failures, teardown),
		cmocka_unit_test_teardown(test_missing_and_malformed, teardown),
		cmocka_unit_test_teardown(test_parser_tolerance, teardown),
		cmocka_unit_test_teardown(test_tampered_nonce, teardown),
		cmocka_unit_test_teardown(test_stale, teardown),
		cmocka_unit_test_teardown(test_replay, teardown),
		cmocka_unit_test_teardown(test_replay_table_bound, teardown),
		cmocka_unit_test_teardown(test_ha1_users, teardown),
		cmocka_unit_test_teardown(test_users_file_errors, teardown),
		cmocka_unit_test_teardown(test_reload, teardown),
		cmocka_unit_test_teardown(test_challenge_format, teardown),
	};

	return cmocka_run_group_tests_name("test_auth", tests, NULL, NULL);
}
