// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * SDP parse and rewrite (userspace/sdp.c).
 *
 * GOLDEN CASES: tests/sdp/<name>.sdp, one file per case, one cmocka test
 * per file ("sdp/<name>"). A file is:
 *
 *   header lines, "# ..." free text (where the body comes from, what the
 *                 case shows) and "@..." directives (below);
 *   the input body;
 *   a line "----";
 *   the expected output body, with placeholders for what the relay owns.
 *
 * Both bodies are written with LF line ends in the file. The runner sends
 * the input with CRLF line ends (see @input) and expects CRLF on every
 * output line, since sdp_rewrite always writes CRLF. The output is compared
 * byte for byte; a failure names the first differing line.
 *
 * What the runner gives sdp_rewrite (the relay's side of every stream):
 *   address    203.0.113.5, or 2001:db8::5 with "@relay ip6"
 *   stream i   (0-based, counting every m= line) RTP port 30000 + 2i and
 *              RTCP port 30001 + 2i; a rejected stream (m= port 0) gets
 *              port 0 and RTCP port 0, as media.c gives it
 *   o= version the parsed version + 1
 * Placeholders in the expected body:
 *   {ADDR}     the relay address          {VER}    the o= version
 *   {PORT<i>}  stream i's RTP port        {RTCP<i>} stream i's RTCP port
 * Directives:
 *   @relay ip4|ip6      the relay's address family (default ip4)
 *   @input crlf|lf|crlf-noeol|lf-noeol
 *                       the input's line ends (default crlf); -noeol: none
 *                       after the last line
 *   @sdp key=value ...  parsed session fields: nmedia, sess_id, version
 *   @m<i> key=value ... parsed fields of stream i: type, proto, addr (as
 *                       netaddr_str prints it: "192.0.2.1:4000",
 *                       "[2001:db8::1]:4000"), port, rtcp (rtcp_port),
 *                       rtcp_attr, mux, ice, dir (sendrecv, ...), null
 * Every case also parses its output again and checks that each stream
 * points at the relay (or is still rejected, or still an RFC 2543 hold),
 * that its direction and rtcp-mux are unchanged and that no ICE is left.
 *
 * The input is copied to the very end of a page followed by an inaccessible
 * page, so that reading past the body's length crashes the test.
 *
 * MALFORMED BODIES are the table bad_cases[] below (a NUL byte, an empty or
 * an oversized body do not fit in a file): sdp_parse must refuse each with
 * an error naming the line and the cause.
 *
 * The case directory is $XRELAY_SDP_DIR, else ../tests/sdp relative to
 * this binary (build/test_sdp).
 *
 * Everything a test allocates lives in `scratch`, freed by one teardown
 * (scratch_free), which also runs when a failed check jumps out of a test.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "netaddr.h"
#include "sdp.h"
#include "check.h"

#define RELAY4      "203.0.113.5"
#define RELAY6      "2001:db8::5"
#define RELAY_PORT  30000u /* stream i: RELAY_PORT + 2i, RTCP one above */

/* ---- helpers ------------------------------------------------------------- */

/* A copy of body that ends exactly where an inaccessible page begins. */
struct guarded {
	void *map;
	size_t maplen;
	char *p;
};

static void guarded_new(struct guarded *g, const char *body, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (len + page - 1) / page * page;

	g->maplen = data + page;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK_TRUE(g->map != MAP_FAILED, "mmap of the guarded input buffer");
	CHECK_EQ(mprotect((char *)g->map + data, page, PROT_NONE), 0,
		 "mprotect of the guard page");
	g->p = (char *)g->map + data - len;
	memcpy(g->p, body, len);
}

static void guarded_free(struct guarded *g)
{
	if (g->map && g->map != MAP_FAILED)
		munmap(g->map, g->maplen);
	g->map = NULL;
}

/* A growing string. */
struct str {
	char *p;
	size_t n, cap;
};

static void str_add(struct str *s, const char *p, size_t n)
{
	if (s->n + n + 1 > s->cap) {
		s->cap = (s->n + n + 1) * 2;
		s->p = realloc(s->p, s->cap);
		CHECK_TRUE(s->p != NULL, "realloc of a test string");
	}
	memcpy(s->p + s->n, p, n);
	s->n += n;
	s->p[s->n] = 0;
}

static void str_addf(struct str *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void str_addf(struct str *s, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	str_add(s, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct str s = { 0 };
	char buf[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		str_add(&s, buf, n);
	fclose(f);
	if (!s.p)
		str_add(&s, "", 0);
	*len = s.n;
	return s.p;
}

/* The case directory: $XRELAY_SDP_DIR or <dir of this binary>/../tests/sdp. */
static const char *case_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("XRELAY_SDP_DIR");
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return "tests/sdp";
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	snprintf(dir, sizeof(dir), "%.*s/../tests/sdp", PATH_MAX - 20, exe);
	return dir;
}

static void relay_addr(int v6, unsigned port, struct sockaddr_storage *ss)
{
	CHECK_EQ(netaddr_parse_ip(v6 ? RELAY6 : RELAY4, ss), 0,
		 "relay address parses");
	netaddr_set_port((struct sockaddr *)ss, (int)port);
}

/* The relay values for a parsed body, as the header describes them. */
static void make_rewrite(const struct sdp *p, int v6, struct sdp_rewrite *rw)
{
	memset(rw, 0, sizeof(*rw));
	rw->o_version = p->o_version + 1;
	for (int i = 0; i < p->nmedia; i++) {
		/* a rejected stream: port 0, like media.c's render() */
		unsigned port = p->m[i].port ? RELAY_PORT + 2u * (unsigned)i : 0;

		relay_addr(v6, port, &rw->m[i].addr);
		rw->m[i].rtcp_port = port ? port + 1 : 0;
	}
}

/* ---- golden case files --------------------------------------------------- */

struct golden {
	char name[128];
	char path[PATH_MAX];
};

struct golden_case {
	char *text;            /* the whole file */
	struct str input;      /* body sent to sdp_parse */
	struct str expected;   /* with placeholders, LF -> CRLF */
	int v6;
	struct str directives; /* "@sdp ..." / "@m0 ..." lines, LF-separated */
};

/* What the running test owns; scratch_free() releases all of it. */
static struct scratch {
	struct golden_case c;
	struct guarded in;
	struct sdp p, p2;
	struct sdp_rewrite rw;
	char *out, *copy;
	struct str exp, body;
} scratch;

static int scratch_free(void **state)
{
	struct scratch *s = &scratch;

	(void)state;
	free(s->c.text);
	free(s->c.input.p);
	free(s->c.expected.p);
	free(s->c.directives.p);
	guarded_free(&s->in);
	free(s->out);
	free(s->copy);
	free(s->exp.p);
	free(s->body.p);
	memset(s, 0, sizeof(*s));
	return 0;
}

/* Split a case file into its parts; fails the test on a malformed file. */
static void golden_load(const struct golden *g, struct golden_case *c)
{
	const char *eol = "\r\n", *pos, *end;
	size_t len;
	int part = 0; /* 0 header, 1 input, 2 expected */
	int noeol = 0;

	memset(c, 0, sizeof(*c));
	c->text = read_file(g->path, &len);
	if (!c->text)
		fail_msg("%s: cannot read: %s", g->path, strerror(errno));
	pos = c->text;
	end = c->text + len;
	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t n = (size_t)((nl ? nl : end) - pos);

		if (memchr(pos, '\r', n))
			fail_msg("%s: write case files with LF line ends; the "
				 "runner adds the CRs", g->path);
		if (part == 0 && n && (pos[0] == '#' || pos[0] == '@')) {
			if (n > 7 && memcmp(pos, "@relay ", 7) == 0) {
				if (n == 10 && memcmp(pos + 7, "ip6", 3) == 0)
					c->v6 = 1;
				else if (!(n == 10 && memcmp(pos + 7, "ip4", 3) == 0))
					fail_msg("%s: @relay takes ip4 or ip6",
						 g->path);
			} else if (n > 7 && memcmp(pos, "@input ", 7) == 0) {
				const char *v = pos + 7;
				size_t vn = n - 7;

				if (vn >= 6 && memcmp(v + vn - 6, "-noeol", 6) == 0) {
					noeol = 1;
					vn -= 6;
				}
				if (vn == 2 && memcmp(v, "lf", 2) == 0)
					eol = "\n";
				else if (!(vn == 4 && memcmp(v, "crlf", 4) == 0))
					fail_msg("%s: @input takes crlf, lf, "
						 "crlf-noeol or lf-noeol", g->path);
			} else if (pos[0] == '@') {
				str_add(&c->directives, pos, n);
				str_add(&c->directives, "\n", 1);
			}
		} else if (part < 2 && n == 4 && memcmp(pos, "----", 4) == 0) {
			part = 2;
		} else if (part < 2) {
			part = 1;
			str_add(&c->input, pos, n);
			str_add(&c->input, eol, strlen(eol));
		} else {
			str_add(&c->expected, pos, n);
			str_add(&c->expected, "\r\n", 2);
		}
		pos = nl ? nl + 1 : end;
	}
	if (part != 2 || !c->input.n || !c->expected.n)
		fail_msg("%s: a case is header lines, the input body, a line "
			 "\"----\" and the expected body", g->path);
	if (noeol)
		c->input.n -= strlen(eol);
}

/* The expected body with its placeholders filled in, into s. */
static void substitute(struct str *s, const char *exp, const struct sdp *p,
		       const struct sdp_rewrite *rw, int v6, const char *path)
{
	const char *q = exp;

	while (*q) {
		const char *open = strchr(q, '{'), *close;
		char name[32];
		unsigned i;
		char tail;

		if (!open) {
			str_add(s, q, strlen(q));
			break;
		}
		str_add(s, q, (size_t)(open - q));
		close = strchr(open, '}');
		if (!close || (size_t)(close - open) >= sizeof(name))
			fail_msg("%s: unterminated placeholder at \"%.20s\"",
				 path, open);
		memcpy(name, open + 1, (size_t)(close - open - 1));
		name[close - open - 1] = 0;
		if (strcmp(name, "ADDR") == 0) {
			str_addf(s, "%s", v6 ? RELAY6 : RELAY4);
		} else if (strcmp(name, "VER") == 0) {
			str_addf(s, "%llu", rw->o_version);
		} else if (sscanf(name, "PORT%u%c", &i, &tail) == 1 &&
			   i < (unsigned)p->nmedia) {
			str_addf(s, "%d", netaddr_port(
				(const struct sockaddr *)&rw->m[i].addr));
		} else if (sscanf(name, "RTCP%u%c", &i, &tail) == 1 &&
			   i < (unsigned)p->nmedia) {
			str_addf(s, "%u", rw->m[i].rtcp_port);
		} else {
			fail_msg("%s: unknown placeholder {%s} (known: {ADDR} "
				 "{VER} {PORT<i>} {RTCP<i>}, i < %d streams)",
				 path, name, p->nmedia);
		}
		q = close + 1;
	}
	if (!s->p)
		str_add(s, "", 0);
}

/* Print one line of a body with its line end made visible. */
static void print_line(const char *label, const char *p, size_t n)
{
	size_t k = n;

	while (k && (p[k - 1] == '\n' || p[k - 1] == '\r'))
		k--;
	print_error("  %s \"%.*s\"%s\n", label, (int)k, p,
		    n - k == 2 ? "\\r\\n" : n - k == 1 ? (p[k] == '\n' ?
		    "\\n" : "\\r") : "(no line end)");
}

/* Byte-for-byte comparison; a failure names the first differing line. */
static void compare_bodies(const char *got, const char *exp, const char *path)
{
	const char *g = got, *e = exp;
	int line = 1;

	if (strcmp(got, exp) == 0)
		return;
	for (;;) {
		const char *gn = strchr(g, '\n'), *en = strchr(e, '\n');
		size_t gl = gn ? (size_t)(gn + 1 - g) : strlen(g);
		size_t el = en ? (size_t)(en + 1 - e) : strlen(e);

		if (gl != el || memcmp(g, e, gl) != 0) {
			print_error("%s: output differs from the expected body "
				    "at line %d:\n", path, line);
			if (gl)
				print_line("got:     ", g, gl);
			else
				print_error("  got:      (end of output)\n");
			if (el)
				print_line("expected:", e, el);
			else
				print_error("  expected: (end of body)\n");
			print_error("--- whole output:\n%s--- end\n", got);
			fail_msg("%s: rewritten body differs at line %d", path,
				 line);
		}
		g += gl;
		e += el;
		line++;
	}
}

static const char *dir_name_check(const char *v, enum sdp_dir *d)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(v, sdp_dir_name((enum sdp_dir)i)) == 0) {
			*d = (enum sdp_dir)i;
			return NULL;
		}
	return "dir is sendrecv, sendonly, recvonly or inactive";
}

/* "@sdp k=v ..." and "@m<i> k=v ..." against the parsed body. */
static void check_directives(const struct golden_case *c, const struct sdp *p,
			     const char *path)
{
	char *copy = scratch.copy = strdup(c->directives.p ?
					   c->directives.p : "");
	char *save = NULL;

	CHECK_TRUE(copy != NULL, "strdup of the directives");
	for (char *ln = strtok_r(copy, "\n", &save); ln;
	     ln = strtok_r(NULL, "\n", &save)) {
		char *save2 = NULL, *word = strtok_r(ln, " ", &save2);
		const struct sdp_media *m = NULL;
		unsigned mi = 0;
		char tail;

		if (strcmp(word, "@sdp") != 0) {
			if (sscanf(word, "@m%u%c", &mi, &tail) != 1)
				fail_msg("%s: unknown directive %s", path, word);
			if ((int)mi >= p->nmedia)
				fail_msg("%s: %s: the body has %d m= lines", path,
					 word, p->nmedia);
			m = &p->m[mi];
		}
		for (char *kv = strtok_r(NULL, " ", &save2); kv;
		     kv = strtok_r(NULL, " ", &save2)) {
			char *v = strchr(kv, '='), what[160], buf[NETADDR_STRLEN];
			unsigned long long want;
			enum sdp_dir d;

			if (!v)
				fail_msg("%s: %s: \"%s\" is not key=value", path,
					 word, kv);
			*v++ = 0;
			snprintf(what, sizeof(what), "%.80s: parsed %.8s %.20s", path,
				 m ? word + 1 : "session", kv);
			if (m && strcmp(kv, "type") == 0) {
				CHECK_STR(m->type, v, what);
				continue;
			}
			if (m && strcmp(kv, "proto") == 0) {
				CHECK_STR(m->proto, v, what);
				continue;
			}
			if (m && strcmp(kv, "addr") == 0) {
				CHECK_STR(netaddr_str((const struct sockaddr *)
						      &m->addr, buf, sizeof(buf)),
					  v, what);
				continue;
			}
			if (m && strcmp(kv, "dir") == 0) {
				const char *bad = dir_name_check(v, &d);

				if (bad)
					fail_msg("%s: %s", path, bad);
				CHECK_STR(sdp_dir_name(m->dir), v, what);
				continue;
			}
			want = strtoull(v, NULL, 10);
			if (!m && strcmp(kv, "nmedia") == 0)
				CHECK_EQ(p->nmedia, want, what);
			else if (!m && strcmp(kv, "sess_id") == 0)
				CHECK_TRUE(p->o_sess_id == want, what);
			else if (!m && strcmp(kv, "version") == 0)
				CHECK_TRUE(p->o_version == want, what);
			else if (m && strcmp(kv, "port") == 0)
				CHECK_EQ(m->port, want, what);
			else if (m && strcmp(kv, "rtcp") == 0)
				CHECK_EQ(m->rtcp_port, want, what);
			else if (m && strcmp(kv, "rtcp_attr") == 0)
				CHECK_EQ(m->has_rtcp_attr, want, what);
			else if (m && strcmp(kv, "mux") == 0)
				CHECK_EQ(m->rtcp_mux, want, what);
			else if (m && strcmp(kv, "ice") == 0)
				CHECK_EQ(m->has_ice, want, what);
			else if (m && strcmp(kv, "null") == 0)
				CHECK_EQ(m->null_addr, want, what);
			else
				fail_msg("%s: %s: unknown key %s", path, word, kv);
		}
	}
}

/* The output parses and anchors every live stream on the relay. */
static void check_reparse(const char *out, const struct sdp *in,
			  const struct sdp_rewrite *rw, const char *path)
{
	struct sdp *p = &scratch.p2;
	char err[256] = "", what[160];

	if (sdp_parse(out, strlen(out), p, err, sizeof(err)) != 0)
		fail_msg("%s: the output does not parse again: %s", path, err);
	CHECK_EQ(p->nmedia, in->nmedia, "re-parsed: as many m= lines");
	CHECK_TRUE(p->o_sess_id == in->o_sess_id, "re-parsed: o= sess-id kept");
	CHECK_TRUE(p->o_version == rw->o_version,
		   "re-parsed: o= version is the one given");
	for (int i = 0; i < in->nmedia; i++) {
		const struct sdp_media *a = &in->m[i], *b = &p->m[i];

		snprintf(what, sizeof(what), "%.80s: re-parsed m%d", path, i);
		CHECK_STR(b->type, a->type, what);
		CHECK_STR(b->proto, a->proto, what);
		CHECK_EQ(b->dir, a->dir, what);
		CHECK_EQ(b->rtcp_mux, a->rtcp_mux, what);
		CHECK_EQ(b->has_ice, 0, what);
		CHECK_EQ(b->null_addr, a->null_addr, what);
		if (a->port == 0) {
			CHECK_EQ(b->port, 0, what); /* still rejected */
			continue;
		}
		CHECK_EQ(b->port, netaddr_port((const struct sockaddr *)
					       &rw->m[i].addr), what);
		CHECK_EQ(b->rtcp_port, rw->m[i].rtcp_port, what);
		if (!a->null_addr)
			CHECK_TRUE(netaddr_equal((const struct sockaddr *)&b->addr,
						 (const struct sockaddr *)
						 &rw->m[i].addr), what);
	}
}

static void test_golden(void **state)
{
	const struct golden *g = *state;
	struct golden_case *c = &scratch.c;
	struct sdp *p = &scratch.p;
	struct sdp_rewrite *rw = &scratch.rw;
	char err[256] = "";

	golden_load(g, c);
	guarded_new(&scratch.in, c->input.p, c->input.n);
	if (sdp_parse(scratch.in.p, c->input.n, p, err, sizeof(err)) != 0)
		fail_msg("%s: sdp_parse refused the input: %s", g->path, err);
	check_directives(c, p, g->path);
	make_rewrite(p, c->v6, rw);
	scratch.out = sdp_rewrite(scratch.in.p, c->input.n, p, rw);
	CHECK_TRUE(scratch.out != NULL, "sdp_rewrite returns a body");
	substitute(&scratch.exp, c->expected.p, p, rw, c->v6, g->path);
	compare_bodies(scratch.out, scratch.exp.p, g->path);
	check_reparse(scratch.out, p, rw, g->path);
}

static void test_golden_dir_missing(void **state)
{
	fail_msg("no golden cases (*.sdp) in %s: set XRELAY_SDP_DIR or run "
		 "build/test_sdp from the source tree", (const char *)*state);
}

/* ---- malformed bodies ---------------------------------------------------- */

#define HEAD "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
#define BODY HEAD "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
#define NUL_BODY BODY "a=sendrecv\r\na=x\0y\r\n" /* the NUL on line 8 */

struct bad_case {
	const char *name;
	const char *body;
	size_t len;         /* 0: strlen(body) */
	const char *line;   /* the line the error must name ("SDP line 4") */
	const char *cause;  /* and a word about the cause */
};

static const struct bad_case bad_cases[] = {
	{ "does not start with v=0",
	  "o=- 1 1 IN IP4 192.0.2.1\r\nv=0\r\ns=-\r\nt=0 0\r\n", 0,
	  "SDP line 1:", "v=0" },
	{ "blank line, then no v=0",
	  "\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
	  "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", 0, "SDP line 2:", "v=0" },
	{ "SDP version 1", "v=1\r\no=- 1 1 IN IP4 192.0.2.1\r\n", 0,
	  "SDP line 1:", "version" },
	{ "a garbage line", HEAD "hello world\r\nt=0 0\r\n", 0,
	  "SDP line 4:", "x=value" },
	{ "an upper-case type letter", HEAD "C=IN IP4 192.0.2.1\r\n", 0,
	  "SDP line 4:", "x=value" },
	{ "a one-byte line", HEAD "t=0 0\r\nx\r\n", 0, "SDP line 5:",
	  "x=value" },
	{ "o= with 5 fields", "v=0\r\no=- 1 1 IN IP4\r\n", 0, "SDP line 2:",
	  "o=" },
	{ "o= with a non-numeric version",
	  "v=0\r\no=- 1 x IN IP4 192.0.2.1\r\n", 0, "SDP line 2:", "o=" },
	{ "no o= line", "v=0\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n", 0,
	  "SDP line 4:", "no o=" },
	{ "c= with a bad IPv4 address", HEAD "c=IN IP4 192.0.2.300\r\n", 0,
	  "SDP line 4:", "c=" },
	{ "c= IP6 with an IPv4 address", HEAD "c=IN IP6 192.0.2.1\r\n", 0,
	  "SDP line 4:", "c=" },
	{ "c= IP4 with an IPv6 address", HEAD "c=IN IP4 2001:db8::1\r\n", 0,
	  "SDP line 4:", "c=" },
	{ "c= with a host name", HEAD "c=IN IP4 pbx.example.com\r\n", 0,
	  "SDP line 4:", "c=" },
	{ "c= with a nettype other than IN", HEAD "c=ATM NSAP 47.0091\r\n", 0,
	  "SDP line 4:", "c=" },
	{ "c= without an address", HEAD "c=IN IP4\r\n", 0, "SDP line 4:",
	  "c=" },
	{ "m= port not a number", HEAD "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	  "m=audio abc RTP/AVP 0\r\n", 0, "SDP line 6:", "m=" },
	{ "m= port above 65535", HEAD "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	  "m=audio 70000 RTP/AVP 0\r\n", 0, "SDP line 6:", "m=" },
	{ "m= port negative", HEAD "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	  "m=audio -4000 RTP/AVP 0\r\n", 0, "SDP line 6:", "m=" },
	{ "m= port with trailing garbage", HEAD "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	  "m=audio 4000x RTP/AVP 0\r\n", 0, "SDP line 6:", "m=" },
	{ "m= with two spaces before the port", HEAD "c=IN IP4 192.0.2.1\r\n"
	  "t=0 0\r\nm=audio  4000 RTP/AVP 0\r\n", 0, "SDP line 6:", "m=" },
	{ "m= with tabs between the fields", HEAD "c=IN IP4 192.0.2.1\r\n"
	  "t=0 0\r\nm=audio\t4000\tRTP/AVP 0\r\n", 0, "SDP line 6:", "m=" },
	{ "m= with a tab after the port", HEAD "c=IN IP4 192.0.2.1\r\n"
	  "t=0 0\r\nm=audio 4000\tRTP/AVP 0\r\n", 0, "SDP line 6:", "m=" },
	{ "m= with a media name longer than 15", HEAD "c=IN IP4 192.0.2.1\r\n"
	  "t=0 0\r\nm=applicationxxxxx 4000 RTP/AVP 0\r\n", 0, "SDP line 6:",
	  "m=" },
	{ "m= without a proto", HEAD "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
	  "m=audio 4000\r\n", 0, "SDP line 6:", "m=" },
	{ "a=rtcp without a port", BODY "a=rtcp:IN IP4 192.0.2.1\r\n", 0,
	  "SDP line 7:", "a=rtcp" },
	{ "a=rtcp port 0", BODY "a=rtcp:0\r\n", 0, "SDP line 7:", "a=rtcp" },
	{ "a=rtcp port above 65535", BODY "a=rtcp:65536\r\n", 0,
	  "SDP line 7:", "a=rtcp" },
	{ "media without any c=", HEAD "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	  "a=sendrecv\r\n", 0, "SDP line 5:", "no c=" },
	{ "second media without c= (first has one)",
	  HEAD "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.1\r\n"
	  "m=video 4002 RTP/AVP 96\r\n", 0, "SDP line 7:", "m= line 2" },
	{ "a NUL byte", NUL_BODY, sizeof(NUL_BODY) - 1, "SDP line 8:", "NUL" },
	{ "empty body", "", 0, "SDP line 0:", "empty" },
	/* "too many m= lines" and "larger than 65536 bytes" are built in
	 * test_bad_too_many_media and test_bad_too_large. */
};

#define NBAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

static void expect_refused(const char *name, const char *body, size_t len,
			   const char *line, const char *cause)
{
	char err[256], what[200];
	int rc;

	memset(err, 0, sizeof(err));
	guarded_free(&scratch.in);
	guarded_new(&scratch.in, body, len);
	rc = sdp_parse(scratch.in.p, len, &scratch.p, err, sizeof(err));
	snprintf(what, sizeof(what), "%s: sdp_parse refuses it", name);
	CHECK_EQ(rc, -1, what);
	snprintf(what, sizeof(what), "%s: the error names the line", name);
	CHECK_HAS(err, line, what);
	snprintf(what, sizeof(what), "%s: the error names the cause", name);
	CHECK_HAS(err, cause, what);
}

static void test_bad(void **state)
{
	const struct bad_case *b = *state;
	size_t len = b->len ? b->len : strlen(b->body);

	expect_refused(b->name, b->body, len, b->line, b->cause);
}

static void test_bad_too_many_media(void **state)
{
	struct str *s = &scratch.body;
	struct sdp *p = &scratch.p;
	char err[256] = "", line[32];

	(void)state;
	str_add(s, BODY, strlen(BODY)); /* m= 1 on line 6 */
	for (int i = 1; i < SDP_MAX_MEDIA; i++)
		str_addf(s, "m=audio %d RTP/AVP 0\r\n", 4000 + 2 * i);
	/* SDP_MAX_MEDIA m= lines parse ... */
	CHECK_EQ(sdp_parse(s->p, s->n, p, err, sizeof(err)), 0,
		 "16 m= lines are accepted");
	CHECK_EQ(p->nmedia, SDP_MAX_MEDIA, "16 m= lines parsed");
	CHECK_EQ(p->m[SDP_MAX_MEDIA - 1].port, 4000 + 2 * 15,
		 "port of the 16th m= line");
	/* ... one more is refused, naming its line. */
	str_addf(s, "m=audio %d RTP/AVP 0\r\n", 4000 + 2 * SDP_MAX_MEDIA);
	snprintf(line, sizeof(line), "SDP line %d:", 5 + SDP_MAX_MEDIA + 1);
	expect_refused("17 m= lines", s->p, s->n, line, "more than 16 m=");
}

static void test_bad_too_large(void **state)
{
	struct str *s = &scratch.body;

	(void)state;
	str_add(s, BODY, strlen(BODY));
	while (s->n <= SDP_MAX_LEN)
		str_add(s, "a=x-padding:0123456789012345678901234567890123\r\n",
			48);
	expect_refused("a body over 65536 bytes", s->p, s->n, "SDP line 0:",
		       "larger than");
}

/* The error buffer is optional and never overrun. */
static void test_bad_err_buffers(void **state)
{
	static const char body[] = HEAD "hello\r\n";
	struct sdp *p = &scratch.p;
	char small[12];

	(void)state;
	CHECK_EQ(sdp_parse(body, strlen(body), p, NULL, 0), -1,
		 "refused with no error buffer");
	memset(small, 'X', sizeof(small));
	CHECK_EQ(sdp_parse(body, strlen(body), p, small, 8), -1,
		 "refused with an 8-byte error buffer");
	CHECK_EQ(strlen(small), 7, "error truncated to the buffer, NUL-ended");
	CHECK_EQ(small[8], 'X', "nothing written past the given length");
}

/* ---- parsed fields beyond the golden files ------------------------------- */

static void parse_ok(const char *body, struct sdp *p)
{
	char err[256] = "";

	if (sdp_parse(body, strlen(body), p, err, sizeof(err)) != 0)
		fail_msg("sdp_parse refused a valid body: %s", err);
}

/* Direction: media level wins over session level, per stream. */
static void test_parse_dir_levels(void **state)
{
	struct sdp *p = &scratch.p;

	(void)state;
	parse_ok(HEAD "c=IN IP4 192.0.2.1\r\nt=0 0\r\na=recvonly\r\n"
		 "m=audio 4000 RTP/AVP 0\r\n"
		 "m=video 4002 RTP/AVP 96\r\na=inactive\r\n"
		 "m=audio 4004 RTP/AVP 0\r\na=sendrecv\r\n"
		 "m=audio 4006 RTP/AVP 0\r\na=sendonly\r\n", p);
	CHECK_EQ(p->m[0].dir, SDP_RECVONLY, "m0 inherits session a=recvonly");
	CHECK_EQ(p->m[1].dir, SDP_INACTIVE, "m1 media a=inactive");
	CHECK_EQ(p->m[2].dir, SDP_SENDRECV, "m2 media a=sendrecv overrides");
	CHECK_EQ(p->m[3].dir, SDP_SENDONLY, "m3 media a=sendonly");
	parse_ok(HEAD "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
		 "m=audio 4000 RTP/AVP 0\r\na=sendonlyx\r\n", p);
	CHECK_EQ(p->m[0].dir, SDP_SENDRECV,
		 "a=sendonlyx is not a direction: default sendrecv");
	CHECK_STR(sdp_dir_name(SDP_INACTIVE), "inactive", "sdp_dir_name");
	CHECK_STR(sdp_dir_name((enum sdp_dir)7), "?", "sdp_dir_name(7)");
}

/* Addresses: media c= wins; session c= fills in; rejected needs none. */
static void test_parse_addr_levels(void **state)
{
	struct sdp *p = &scratch.p;
	char buf[NETADDR_STRLEN];

	(void)state;
	parse_ok(HEAD "c=IN IP4 192.0.2.1/127\r\nt=0 0\r\n"
		 "m=audio 4000 RTP/AVP 0\r\n"
		 "m=audio 4002 RTP/AVP 0\r\nc=IN IP6 2001:db8::7\r\n"
		 "m=audio 4004 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n"
		 "m=audio 4006 RTP/AVP 0\r\nc=IN IP6 ::\r\n", p);
	CHECK_STR(netaddr_str((struct sockaddr *)&p->m[0].addr, buf,
			      sizeof(buf)), "192.0.2.1:4000",
		  "m0: session c= (TTL dropped) with the m= port");
	CHECK_STR(netaddr_str((struct sockaddr *)&p->m[1].addr, buf,
			      sizeof(buf)), "[2001:db8::7]:4002",
		  "m1: its own IPv6 c=");
	CHECK_EQ(p->m[0].null_addr, 0, "m0 not a null address");
	CHECK_EQ(p->m[2].null_addr, 1, "m2 c=0.0.0.0 is a null address");
	CHECK_EQ(p->m[3].null_addr, 1, "m3 c=:: is a null address");
	parse_ok(HEAD "t=0 0\r\nm=video 0 RTP/AVP 96\r\n"
		 "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.9\r\n", p);
	CHECK_EQ(p->m[0].port, 0, "rejected stream without c= is accepted");
	CHECK_EQ(p->m[0].rtcp_port, 0, "rejected stream: RTCP port 0");
	CHECK_EQ(p->m[1].port, 4000, "second stream's port");
}

/* a=rtcp, a=rtcp-mux, ICE flags; session-level a=rtcp* are not a stream's. */
static void test_parse_rtcp_ice(void **state)
{
	struct sdp *p = &scratch.p;

	(void)state;
	parse_ok(HEAD "c=IN IP4 192.0.2.1\r\nt=0 0\r\na=rtcp-mux\r\n"
		 "a=rtcp:5000\r\n"
		 "m=audio 4000 RTP/AVP 0\r\n"
		 "m=audio 4002 RTP/AVP 0\r\na=rtcp:4010 IN IP4 192.0.2.1\r\n"
		 "m=audio 4004 RTP/AVP 0\r\na=rtcp-mux\r\na=rtcp:4004\r\n"
		 "m=audio 4006 RTP/AVP 0\r\na=rtcp-mux-only\r\n"
		 "a=candidate:1 1 UDP 2130706431 192.0.2.1 4006 typ host\r\n"
		 "m=audio 4008 RTP/AVP 0\r\na=ice-ufrag:abcd\r\n", p);
	CHECK_EQ(p->m[0].rtcp_port, 4001, "m0: RTCP is port + 1");
	CHECK_EQ(p->m[0].rtcp_mux, 0, "m0: session a=rtcp-mux ignored");
	CHECK_EQ(p->m[0].has_rtcp_attr, 0, "m0: session a=rtcp ignored");
	CHECK_EQ(p->m[1].rtcp_port, 4010, "m1: a=rtcp with an address");
	CHECK_EQ(p->m[1].has_rtcp_attr, 1, "m1: has a=rtcp");
	CHECK_EQ(p->m[2].rtcp_mux, 1, "m2: a=rtcp-mux");
	CHECK_EQ(p->m[2].rtcp_port, 4004, "m2: a=rtcp equal to the RTP port");
	CHECK_EQ(p->m[3].rtcp_mux, 0, "m3: a=rtcp-mux-only is not a=rtcp-mux");
	CHECK_EQ(p->m[3].has_ice, 1, "m3: a=candidate means ICE");
	CHECK_EQ(p->m[4].has_ice, 1, "m4: a=ice-ufrag means ICE");
	CHECK_EQ(p->m[0].has_ice, 0, "m0: no ICE");
}

/* The o= fields, including 64-bit WebRTC session ids. */
static void test_parse_origin(void **state)
{
	struct sdp *p = &scratch.p;

	(void)state;
	parse_ok("v=0\r\no=- 4611731400430051336 18446744073709551615 IN IP4 "
		 "127.0.0.1\r\ns=-\r\nt=0 0\r\n", p);
	CHECK_TRUE(p->o_sess_id == 4611731400430051336ULL, "o= 64-bit sess-id");
	CHECK_TRUE(p->o_version == 18446744073709551615ULL,
		   "o= version UINT64_MAX");
	CHECK_EQ(p->nmedia, 0, "a body without m= lines has 0 streams");
}

/* A body that is not NUL-terminated: only len bytes are read. */
static void test_rewrite_len_bounded(void **state)
{
	static const char body[] =
		"v=0\r\no=- 7 8 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
		"t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
		"m=audio 9999 RTP/AVP 0\r\n"; /* beyond len */
	size_t len = strlen(body) - strlen("m=audio 9999 RTP/AVP 0\r\n");
	struct sdp *p = &scratch.p;
	struct sdp_rewrite *rw = &scratch.rw;
	char err[256] = "", *out;

	(void)state;
	CHECK_EQ(sdp_parse(body, len, p, err, sizeof(err)), 0,
		 "parse of the first len bytes");
	CHECK_EQ(p->nmedia, 1, "the m= line beyond len is not seen");
	make_rewrite(p, 0, rw);
	out = scratch.out = sdp_rewrite(body, len, p, rw);
	CHECK_TRUE(out != NULL, "sdp_rewrite returns a body");
	CHECK_STR(out, "v=0\r\no=- 7 9 IN IP4 " RELAY4 "\r\ns=-\r\n"
		  "c=IN IP4 " RELAY4 "\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n",
		  "rewrite of the first len bytes only");
}

/* ---- main ---------------------------------------------------------------- */

static int is_case_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 && d->d_name[0] != '.' &&
	       strcmp(d->d_name + n - 4, ".sdp") == 0;
}

#define T(f) { #f, f, NULL, scratch_free, NULL }

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		T(test_bad_too_many_media),
		T(test_bad_too_large),
		T(test_bad_err_buffers),
		T(test_parse_dir_levels),
		T(test_parse_addr_levels),
		T(test_parse_rtcp_ice),
		T(test_parse_origin),
		T(test_rewrite_len_bounded),
	};
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	const char *dir = case_dir();
	struct dirent **ents = NULL;
	struct golden *golden;
	struct CMUnitTest *tests;
	char (*bad_names)[96];
	int nfiles = scandir(dir, &ents, is_case_file, alphasort);
	size_t n = 0, ngolden = nfiles > 0 ? (size_t)nfiles : 1;
	int rc;

	golden = calloc(ngolden, sizeof(*golden));
	bad_names = calloc(NBAD, sizeof(*bad_names));
	tests = calloc(ngolden + NBAD + nfixed, sizeof(*tests));
	if (!golden || !tests || !bad_names)
		return 1;
	for (int i = 0; i < nfiles; i++, n++) {
		snprintf(golden[i].name, sizeof(golden[i].name), "sdp/%.100s",
			 ents[i]->d_name);
		snprintf(golden[i].path, sizeof(golden[i].path), "%s/%s", dir,
			 ents[i]->d_name);
		tests[n] = (struct CMUnitTest){ .name = golden[i].name,
						.test_func = test_golden,
						.teardown_func = scratch_free,
						.initial_state = &golden[i] };
		free(ents[i]);
	}
	free(ents);
	if (nfiles <= 0)
		tests[n++] = (struct CMUnitTest){ .name = "sdp/ (no cases)",
			.test_func = test_golden_dir_missing,
			.initial_state = (void *)dir };
	for (size_t i = 0; i < NBAD; i++, n++) {
		snprintf(bad_names[i], sizeof(bad_names[i]), "refused: %s",
			 bad_cases[i].name);
		tests[n] = (struct CMUnitTest){ .name = bad_names[i],
						.test_func = test_bad,
						.teardown_func = scratch_free,
						.initial_state = (void *)&bad_cases[i] };
	}
	for (size_t i = 0; i < nfixed; i++)
		tests[n++] = fixed[i];
	rc = _cmocka_run_group_tests("test_sdp", tests, n, NULL, NULL);
	free(tests);
	free(bad_names);
	free(golden);
	return rc;
}
