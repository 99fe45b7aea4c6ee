// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The session journal (userspace/media_journal.c): the record's codec
 * (round trip, every corruption refused), file names, and a whole engine
 * in socket mode on the loopback interface that journals a call, "crashes"
 * (media_engine_free leaves the journal) and adopts it again; no BPF.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>
#include <zlib.h>
#include <cmocka.h>

#include "media_internal.h"
#include "netaddr.h"
#include "check.h"
#include "b2bua_fixture.h"

static struct journal_rec *rec, *back;
static uint8_t *buf;

static int teardown(void **state)
{
	(void)state;
	if (back)
		journal_rec_clear(back);
	free(rec);
	free(back);
	free(buf);
	rec = back = NULL;
	buf = NULL;
	return 0;
}

static void addr(struct sockaddr_storage *ss, const char *s)
{
	char what[96];

	snprintf(what, sizeof(what), "test address %s parses", s);
	CHECK_EQ(netaddr_parse(s, -1, ss), 0, what);
}

/* A record with something in every field: two streams (IPv4 audio with
 * both legs latched, IPv6 video with rtcp-mux) and a rejected third. */
static struct journal_rec *sample(void)
{
	struct journal_rec *r = calloc(1, sizeof(*r));

	CHECK_TRUE(r != NULL, "calloc");
	snprintf(r->boot_id, sizeof(r->boot_id), "%s",
		 "0f4c7c2e-1a2b-4c3d-9e8f-0123456789ab");
	snprintf(r->id, sizeof(r->id), "%s", "a84b4c76e66710@pc33.example.com");
	r->state = MEDIA_ANSWERED;
	r->offerer = MEDIA_LEG_B;
	r->created_ns = 123456789012345ull;
	addr(&r->hint[0], "192.0.2.10:5060");
	addr(&r->hint[1], "[2001:db8::20]:5070");
	r->o_ver[0] = 2890844527ull;
	r->o_ver[1] = 18446744073709551615ull;
	r->last_out[0] = "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\n";
	r->last_out[1] = "";
	r->nstreams = 3;
	snprintf(r->st[0].type, sizeof(r->st[0].type), "audio");
	r->st[0].dir[1] = SDP_SENDONLY;
	addr(&r->st[0].local[0], "10.0.0.1:30000");
	addr(&r->st[0].local[1], "10.0.1.1:30002");
	addr(&r->st[0].c[0][0].sdp, "192.0.2.10:4000");
	addr(&r->st[0].c[0][1].sdp, "192.0.2.10:4001");
	addr(&r->st[0].c[0][0].latch.peer, "198.51.100.7:61000");
	r->st[0].c[0][0].latch.latched = 1;
	r->st[0].c[0][0].latch.last_ns = 99999;
	r->st[0].c[0][0].latch.relatches = 3;
	r->st[0].c[0][0].c = (struct media_counters){ 1, 2, 3, 4, 5, 6, 7, 8 };
	r->st[0].c[1][1].c.last_packet_ns = UINT64_MAX;
	snprintf(r->st[1].type, sizeof(r->st[1].type), "video");
	r->st[1].rtcp_mux = 1;
	r->st[1].dir[0] = SDP_INACTIVE;
	addr(&r->st[1].local[0], "[fd00::1]:30004");
	addr(&r->st[1].local[1], "[fd00::1]:30006");
	addr(&r->st[1].c[1][0].sdp, "[2001:db8::20]:6000");
	((struct sockaddr_in6 *)&r->st[1].c[1][0].sdp)->sin6_scope_id = 7;
	addr(&r->st[1].c[1][0].latch.peer, "[2001:db8::20]:6000");
	r->st[1].c[1][0].latch.latched = 1;
	snprintf(r->st[2].type, sizeof(r->st[2].type), "application");
	r->st[2].rejected = 1;
	return r;
}

static size_t encode(const struct journal_rec *r)
{
	size_t len = 0;

	free(buf);
	buf = NULL;
	CHECK_EQ(journal_encode(r, &buf, &len), 0, "journal_encode");
	return len;
}

static int decode(const uint8_t *b, size_t len, char *err, size_t errlen)
{
	if (!back)
		back = malloc(sizeof(*back));
	else
		journal_rec_clear(back);
	return journal_decode(b, len, back, err, errlen);
}

/* Every field of two records, the bodies by content. */
static void check_same(const struct journal_rec *a,
		       const struct journal_rec *b)
{
	struct journal_rec x = *a, y = *b;

	for (int l = 0; l < 2; l++) {
		CHECK_TRUE(!a->last_out[l] == !b->last_out[l],
			   "a body is there after the round trip, or not");
		if (a->last_out[l])
			CHECK_STR(b->last_out[l], a->last_out[l], "body");
		x.last_out[l] = y.last_out[l] = NULL;
	}
	CHECK_TRUE(memcmp(&x, &y, sizeof(x)) == 0,
		   "the decoded record is the encoded one, byte for byte");
}

/* ---- round trip ------------------------------------------------------------ */

static void test_round_trip(void **state)
{
	char err[128] = "";
	size_t len;

	(void)state;
	rec = sample();
	len = encode(rec);
	CHECK_EQ(decode(buf, len, err, sizeof(err)), 0, "journal_decode");
	check_same(rec, back);
	CHECK_EQ(back->st[1].c[1][0].sdp.ss_family, AF_INET6, "IPv6 kept");
	CHECK_EQ(((struct sockaddr_in6 *)&back->st[1].c[1][0].sdp)->sin6_scope_id,
		 7, "IPv6 scope id kept");
}

static void test_round_trip_minimal(void **state)
{
	char err[128] = "";
	size_t len;

	(void)state;
	rec = calloc(1, sizeof(*rec));
	snprintf(rec->id, sizeof(rec->id), "x");
	len = encode(rec);
	CHECK_EQ(decode(buf, len, err, sizeof(err)), 0,
		 "a record without streams, bodies or boot id");
	check_same(rec, back);
	CHECK_TRUE(back->last_out[0] == NULL && back->last_out[1] == NULL,
		   "no body stays no body (not an empty one)");
}

static void test_encode_bounds(void **state)
{
	size_t len = 0;
	char *big;

	(void)state;
	rec = sample();
	big = malloc(JOURNAL_MAX_BODY + 2);
	memset(big, 'a', JOURNAL_MAX_BODY + 1);
	big[JOURNAL_MAX_BODY + 1] = 0;
	rec->last_out[0] = big;
	CHECK_EQ(journal_encode(rec, &buf, &len), -E2BIG,
		 "a body past JOURNAL_MAX_BODY is refused");
	big[JOURNAL_MAX_BODY] = 0;
	CHECK_EQ(journal_encode(rec, &buf, &len), 0,
		 "a body of JOURNAL_MAX_BODY bytes is fine");
	free(big);
	rec->nstreams = SDP_MAX_MEDIA + 1;
	CHECK_EQ(journal_encode(rec, &buf, &len), -EINVAL,
		 "more streams than SDP_MAX_MEDIA");
}

/* ---- corruption ------------------------------------------------------------- */

/* Recompute length and CRC after a change to the payload, so that the
 * structural checks behind them are what is tested. */
static void reseal(uint8_t *b, size_t len)
{
	uint32_t plen = (uint32_t)(len - 16);
	uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), b + 16, plen);

	for (int i = 0; i < 4; i++) {
		b[8 + i] = (uint8_t)(plen >> (8 * i));
		b[12 + i] = (uint8_t)(crc >> (8 * i));
	}
}

static void expect_bad(const uint8_t *b, size_t len, const char *why,
		       const char *what)
{
	char err[160] = "", msg[256];

	snprintf(msg, sizeof(msg), "%s: refused", what);
	CHECK_EQ(decode(b, len, err, sizeof(err)), -EINVAL, msg);
	snprintf(msg, sizeof(msg), "%s: says '%s' (it said '%s')", what, why,
		 err);
	CHECK_TRUE(strstr(err, why) != NULL, msg);
	CHECK_TRUE(back->last_out[0] == NULL && back->last_out[1] == NULL,
		   "a refused record holds no memory");
}

static void test_corrupt_header(void **state)
{
	size_t len;
	uint8_t *b;

	(void)state;
	rec = sample();
	len = encode(rec);
	b = malloc(len + 1);
	memcpy(b, buf, len);
	b[0] = 'Y';
	expect_bad(b, len, "magic", "another magic");
	memcpy(b, buf, len);
	b[4] = 2;
	expect_bad(b, len, "version", "version 2");
	expect_bad(buf, 10, "too short", "10 bytes");
	expect_bad(buf, 0, "too short", "an empty file");
	expect_bad(buf, len - 1, "length", "one byte missing");
	memcpy(b, buf, len);
	b[len] = 0;
	expect_bad(b, len + 1, "length", "one byte more");
	memcpy(b, buf, len);
	b[len / 2] ^= 0x40;
	expect_bad(b, len, "checksum", "a flipped bit in the middle");
	memcpy(b, buf, len);
	b[len - 1] ^= 1;
	expect_bad(b, len, "checksum", "a flipped bit in the last byte");
	free(b);
}

/* Any prefix of a record (a torn write, had rename not been atomic), and
 * any single changed byte, is refused; none crashes (ASan watches). */
static void test_corrupt_everywhere(void **state)
{
	char err[160];
	size_t len;
	uint8_t *b;

	(void)state;
	rec = sample();
	len = encode(rec);
	b = malloc(len);
	for (size_t n = 0; n < len; n++) {
		memcpy(b, buf, n); /* a copy of exactly n bytes for ASan */
		if (decode(b, n, err, sizeof(err)) != -EINVAL)
			fail_msg("a record cut at %zu of %zu bytes decoded", n,
				 len);
	}
	for (size_t i = 0; i < len; i++) {
		memcpy(b, buf, len);
		b[i] ^= 0xa5;
		if (decode(b, len, err, sizeof(err)) != -EINVAL)
			fail_msg("byte %zu changed, and the record decoded", i);
	}
	free(b);
}

/* Payloads with a valid CRC but impossible contents. The offsets follow
 * the format: header 16, boot id (2 + 36), id (2 + len), state, ... */
static void test_corrupt_fields(void **state)
{
	size_t len, st;
	uint8_t *b;

	(void)state;
	rec = sample();
	len = encode(rec);
	b = malloc(len + 8);
	st = 16 + 2 + strlen(rec->boot_id) + 2 + strlen(rec->id);

	memcpy(b, buf, len);
	b[st] = 3;
	reseal(b, len);
	expect_bad(b, len, "state", "state 3");

	memcpy(b, buf, len);
	b[st + 1] = 2;
	reseal(b, len);
	expect_bad(b, len, "offerer", "offerer 2");

	memcpy(b, buf, len);
	b[st + 2] = SDP_MAX_MEDIA + 1;
	reseal(b, len);
	expect_bad(b, len, "number of streams", "17 streams");

	memcpy(b, buf, len);
	b[st + 2] = 2; /* the third stream's bytes are left over */
	reseal(b, len);
	expect_bad(b, len, "end", "fewer streams than bytes");

	memcpy(b, buf, len);
	b[st + 3 + 8] = 5; /* hint A's family */
	reseal(b, len);
	expect_bad(b, len, "signalling address", "address family 5");

	memcpy(b, buf, len);
	b[16 + 2 + strlen(rec->boot_id)] = 200; /* the id's length */
	reseal(b, len);
	expect_bad(b, len, "call id", "an id longer than 127");

	memcpy(b, buf, len);
	b[16 + 2 + strlen(rec->boot_id) + 2 + 3] = 0; /* a NUL in the id */
	reseal(b, len);
	expect_bad(b, len, "call id", "a NUL inside the id");

	memcpy(b, buf, len);
	memset(b + len, 0, 8);
	reseal(b, len + 8);
	expect_bad(b, len + 8, "end", "bytes after the last stream");
	free(b);

	/* An empty id. */
	free(rec);
	rec = sample();
	rec->id[0] = 0;
	len = encode(rec);
	expect_bad(buf, len, "call id", "an empty id");
	/* An odd relay port. */
	free(rec);
	rec = sample();
	netaddr_set_port((struct sockaddr *)&rec->st[0].local[1], 30003);
	len = encode(rec);
	expect_bad(buf, len, "relay port", "an odd relay port");
	/* A latch without a peer. */
	memset(&rec->st[0].local[1], 0, sizeof(rec->st[0].local[1]));
	rec->st[1].c[0][1].latch.latched = 1;
	len = encode(rec);
	expect_bad(buf, len, "without a peer", "latched to nobody");
}

/* ---- names ----------------------------------------------------------------- */

static void test_names(void **state)
{
	char a[256], b[256], id[128];

	(void)state;
	CHECK_EQ(journal_name("c1", a, sizeof(a)), 0, "a plain id");
	CHECK_STR(a, "c1.call", "a plain id is its own name");
	CHECK_EQ(journal_name("a84b4c76e66710@pc33.example.com", a, sizeof(a)),
		 0, "a Call-ID");
	CHECK_STR(a, "a84b4c76e66710@pc33.example.com.call", "a Call-ID");
	CHECK_EQ(journal_name("../etc/passwd", a, sizeof(a)), 0, "a path");
	CHECK_TRUE(a[0] == '~' && !strchr(a, '/'), "a path is encoded");
	CHECK_EQ(journal_name(".hidden", a, sizeof(a)), 0, "a leading dot");
	CHECK_TRUE(a[0] == '~', "a leading dot is encoded");
	CHECK_EQ(journal_name("a b", a, sizeof(a)), 0, "a space");
	CHECK_STR(a, "~YSBi.call", "base64url of 'a b'");
	CHECK_EQ(journal_name("~YSBi", b, sizeof(b)), 0, "an id like a name");
	CHECK_TRUE(strcmp(a, b) != 0, "'~' ids do not clash with encoded ones");
	CHECK_EQ(journal_name("a/b", a, sizeof(a)), 0, "a/b");
	CHECK_EQ(journal_name("a?b", b, sizeof(b)), 0, "a?b");
	CHECK_TRUE(strcmp(a, b) != 0, "different ids, different names");
	memset(id, 0xff, sizeof(id) - 1);
	id[sizeof(id) - 1] = 0;
	CHECK_EQ(journal_name(id, a, sizeof(a)), 0,
		 "the longest id, all bytes to encode, fits a file name");
	CHECK_TRUE(strlen(a) < 255, "shorter than NAME_MAX");
	CHECK_EQ(journal_name(id, a, 64), -ENAMETOOLONG, "a short buffer");
}

/* ---- a whole engine, socket mode on lo ---------------------------------------- */

#define LO_OFFER                                                         \
	"v=0\r\no=alice 10 10 IN IP4 127.0.0.1\r\ns=-\r\n"                 \
	"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"        \
	"a=sendrecv\r\n"
#define LO_ANSWER                                                        \
	"v=0\r\no=bob 20 20 IN IP4 127.0.0.1\r\ns=-\r\n"                   \
	"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"        \
	"a=sendrecv\r\n"

static char dir[64];

static int dir_teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			print_error("could not remove %s\n", dir);
	}
	dir[0] = 0;
	return teardown(state);
}

static struct media_engine *engine(uint16_t base)
{
	struct media_engine *me = NULL;
	struct media_cfg cfg;
	char err[512] = "";

	fx_media_cfg(&cfg, base, base + 99);
	cfg.state_dir = dir;
	if (media_engine_new(&me, &cfg, err, sizeof(err)))
		fail_msg("media_engine_new: %s", err);
	return me;
}

static int exists(const char *name)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

static void test_engine_adopts(void **state)
{
	struct media_engine *me;
	struct media_session *s;
	struct media_session_info *in, *in2;
	char err[256], *out = NULL, *out2 = NULL;
	uint16_t base = (uint16_t)(41000 + (getpid() % 200) * 100);
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xr-journal-test.XXXXXX");
	CHECK_TRUE(mkdtemp(dir) != NULL, "mkdtemp");
	in = calloc(2, sizeof(*in));
	in2 = in + 1;

	me = engine(base);
	s = media_session_get(me, "c1", 1);
	CHECK_EQ(media_offer(me, s, MEDIA_LEG_A, LO_OFFER, strlen(LO_OFFER),
			     &out, err, sizeof(err)), 0, "offer");
	free(out);
	CHECK_TRUE(exists("c1.call"), "the offer wrote c1.call");
	CHECK_EQ(media_answer(me, s, MEDIA_LEG_B, LO_ANSWER, strlen(LO_ANSWER),
			      &out, err, sizeof(err)), 0, "answer");
	media_session_info(me, s, in);
	s = media_session_get(me, "gone", 1);
	CHECK_EQ(media_offer(me, s, MEDIA_LEG_A, LO_OFFER, strlen(LO_OFFER),
			     &out2, err, sizeof(err)), 0, "offer of 'gone'");
	free(out2);
	media_session_delete(me, s);
	CHECK_TRUE(!exists("gone.call"), "delete removed gone.call");
	media_engine_free(me); /* as a crash: the journal stays */
	CHECK_TRUE(exists("c1.call"), "c1.call outlives the engine");

	/* A corrupt file, a leftover temporary file, an unrelated file. */
	{
		char p[256];

		snprintf(p, sizeof(p), "%s/bad.call", dir);
		f = fopen(p, "w");
		fputs("XRSJ and then nothing a journal would have", f);
		fclose(f);
		snprintf(p, sizeof(p), "%s/.tmp-c1.call", dir);
		f = fopen(p, "w");
		fputs("half a record", f);
		fclose(f);
		snprintf(p, sizeof(p), "%s/notes.txt", dir);
		f = fopen(p, "w");
		fclose(f);
	}

	me = engine(base);
	s = media_session_get(me, "c1", 0);
	CHECK_TRUE(s != NULL, "the restarted engine knows c1");
	CHECK_TRUE(media_session_get(me, "gone", 0) == NULL,
		   "a deleted call stays gone");
	CHECK_TRUE(media_session_get(me, "bad", 0) == NULL,
		   "a corrupt journal adopts nothing");
	CHECK_TRUE(exists("bad.call.bad") && !exists("bad.call"),
		   "the corrupt file is moved aside");
	CHECK_TRUE(!exists(".tmp-c1.call"), "the torn temporary file is gone");
	CHECK_TRUE(exists("notes.txt"), "other files are left alone");
	media_session_info(me, s, in2);
	CHECK_EQ(in2->state, MEDIA_ANSWERED, "state");
	CHECK_EQ(in2->leg[0].st[0].rtp.local_port, in->leg[0].st[0].rtp.local_port,
		 "leg A's port");
	CHECK_EQ(in2->leg[1].st[0].rtp.local_port, in->leg[1].st[0].rtp.local_port,
		 "leg B's port");
	CHECK_TRUE(memcmp(&in2->leg[0].st[0].rtp.sdp_peer,
			  &in->leg[0].st[0].rtp.sdp_peer,
			  sizeof(in->leg[0].st[0].rtp.sdp_peer)) == 0,
		   "leg A's SDP peer");
	CHECK_EQ(in2->created_ns, in->created_ns, "creation time");
	{
		struct media_totals t;

		media_engine_totals(me, &t);
		CHECK_EQ(t.sessions, 1, "one session");
		CHECK_EQ(t.adopted, 1, "one adopted");
		CHECK_EQ(t.ports_used, 2, "its two port pairs are taken");
	}
	/* The same answer again: the body is unchanged, so is its o=
	 * version (the last body sent survived the restart). */
	CHECK_EQ(media_answer(me, s, MEDIA_LEG_B, LO_ANSWER, strlen(LO_ANSWER),
			      &out2, err, sizeof(err)), 0, "answer again");
	CHECK_STR(out2, out, "the same body, o= version not bumped");
	free(out2);
	/* A new call gets other ports than the adopted one. */
	{
		struct media_session *s2 = media_session_get(me, "c2", 1);
		struct media_session_info *i3 = calloc(1, sizeof(*i3));

		CHECK_EQ(media_offer(me, s2, MEDIA_LEG_A, LO_OFFER,
				     strlen(LO_OFFER), &out2, err, sizeof(err)),
			 0, "offer of a new call");
		free(out2);
		media_session_info(me, s2, i3);
		CHECK_TRUE(i3->leg[0].st[0].rtp.local_port !=
				   in->leg[0].st[0].rtp.local_port &&
			   i3->leg[0].st[0].rtp.local_port !=
				   in->leg[1].st[0].rtp.local_port,
			   "a new call does not get the adopted ports");
		free(i3);
	}
	media_session_delete(me, s);
	CHECK_TRUE(!exists("c1.call"), "delete removed c1.call");
	media_engine_shutdown(me);
	CHECK_TRUE(!exists("c2.call"), "a clean stop removes every journal");
	media_engine_free(me);
	free(out);
	free(in);
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int main(void)
{
	static const struct CMUnitTest tests[] = {
		T(test_round_trip),
		T(test_round_trip_minimal),
		T(test_encode_bounds),
		T(test_corrupt_header),
		T(test_corrupt_everywhere),
		T(test_corrupt_fields),
		T(test_names),
		cmocka_unit_test_teardown(test_engine_adopts, dir_teardown),
	};

	return cmocka_run_group_tests_name("test_journal", tests, NULL, NULL);
}
