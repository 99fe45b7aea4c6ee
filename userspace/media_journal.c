// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The session journal: what a restarted engine needs to take its calls
 * back (media_internal.h says what the record holds).
 *
 * One file per session in state_dir, named after the session id. A change
 * writes the whole record to ".tmp-NAME" and renames it over NAME, so a
 * reader (the next engine) sees the old record or the new one, never half
 * of one; a record equal to the one last written is not written again.
 * There is no fsync: the crash this protects against is the daemon's, and
 * the page cache outlives a process. A crash of the kernel or a power cut
 * also takes the pinned maps and the calls' media with it, so a record
 * that would survive them could not be adopted anyway; fsync would only
 * add a disk flush (milliseconds) to every latch. For the same reason
 * records carry the kernel's boot id, and those of another boot are
 * discarded.
 *
 * File format (version 1), little-endian, every field written one by one:
 *
 *   "XRSJ"  u16 version  u16 0  u32 payload length  u32 CRC-32 of payload
 *   payload: str boot_id, str id, u8 state, u8 offerer, u8 nstreams,
 *            u64 created_ns, addr hint[2], u64 o_ver[2], body last_out[2],
 *            per stream: str type, u8 rejected, u8 rtcp_mux, u8 dir[2],
 *              addr local[2] (relay address and RTP port; family 0: none),
 *              per leg, RTP then RTCP: addr sdp, u8 latched, addr peer,
 *                u64 latch last_ns, u32 relatches, u64 counters[8]
 *   str = u16 length + bytes; body = u32 length (0xffffffff: none) + bytes;
 *   addr = u8 family (0, 4, 6) + 16 bytes + u16 port + u32 scope id.
 *
 * The decoder checks every length against what is left, every enum, and
 * that the payload ends exactly where the record does; the CRC catches a
 * torn or altered file before that. A file that fails is logged and moved
 * aside (NAME.bad); its call's kernel entries are then collected after the
 * grace time like those of any call the engine does not know.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"
#include "media_internal.h"
#include "netaddr.h"

#define MAGIC       "XRSJ"
#define HDR_LEN     16
#define NO_BODY     0xffffffffu
#define SUFFIX      ".call"
#define TMP_PREFIX  ".tmp-"
#define BAD_SUFFIX  ".bad"

/* ---- writing ---------------------------------------------------------------- */

struct wbuf {
	uint8_t *b;
	size_t n, cap;
	int err;
};

static void put(struct wbuf *w, const void *p, size_t len)
{
	if (w->err)
		return;
	if (w->n + len > w->cap) {
		size_t nc = w->cap ? w->cap : 4096;
		uint8_t *t;

		while (nc < w->n + len)
			nc *= 2;
		if (nc > JOURNAL_MAX_FILE || !(t = realloc(w->b, nc))) {
			w->err = nc > JOURNAL_MAX_FILE ? -E2BIG : -ENOMEM;
			return;
		}
		w->b = t;
		w->cap = nc;
	}
	memcpy(w->b + w->n, p, len);
	w->n += len;
}

static void put_uint(struct wbuf *w, uint64_t v, int bytes)
{
	uint8_t b[8];

	for (int i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, (size_t)bytes);
}

static void put_str(struct wbuf *w, const char *s)
{
	size_t len = strlen(s);

	put_uint(w, len, 2);
	put(w, s, len);
}

static void put_body(struct wbuf *w, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (s && len > JOURNAL_MAX_BODY) {
		w->err = -E2BIG;
		return;
	}
	put_uint(w, s ? len : NO_BODY, 4);
	if (s)
		put(w, s, len);
}

static void put_addr(struct wbuf *w, const struct sockaddr_storage *ss)
{
	uint8_t a[16] = { 0 };
	uint32_t scope = 0;
	int fam = 0;

	if (ss->ss_family == AF_INET) {
		memcpy(a, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		fam = 4;
	} else if (ss->ss_family == AF_INET6) {
		memcpy(a, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		scope = ((const struct sockaddr_in6 *)ss)->sin6_scope_id;
		fam = 6;
	}
	put_uint(w, (uint64_t)fam, 1);
	put(w, a, 16);
	put_uint(w, fam ? (uint64_t)netaddr_port((const struct sockaddr *)ss) : 0, 2);
	put_uint(w, scope, 4);
}

static void put_counters(struct wbuf *w, const struct media_counters *c)
{
	const uint64_t v[8] = { c->kernel_packets, c->kernel_bytes,
				c->user_packets, c->user_bytes,
				c->drop_foreign, c->drop_no_dest,
				c->drop_policy, c->last_packet_ns };

	for (int i = 0; i < 8; i++)
		put_uint(w, v[i], 8);
}

static void put_comp(struct wbuf *w, const struct journal_comp *c)
{
	put_addr(w, &c->sdp);
	put_uint(w, c->latch.latched ? 1 : 0, 1);
	put_addr(w, &c->latch.peer);
	put_uint(w, c->latch.last_ns, 8);
	put_uint(w, c->latch.relatches, 4);
	put_counters(w, &c->c);
}

static void put_stream(struct wbuf *w, const struct journal_stream *st)
{
	put_str(w, st->type);
	put_uint(w, st->rejected ? 1 : 0, 1);
	put_uint(w, st->rtcp_mux ? 1 : 0, 1);
	put_uint(w, (uint64_t)st->dir[0], 1);
	put_uint(w, (uint64_t)st->dir[1], 1);
	put_addr(w, &st->local[0]);
	put_addr(w, &st->local[1]);
	for (int l = 0; l < 2; l++)
		for (int k = 0; k < 2; k++)
			put_comp(w, &st->c[l][k]);
}

int journal_encode(const struct journal_rec *r, uint8_t **buf, size_t *len)
{
	struct wbuf w = { 0 };
	uint32_t crc;
	size_t plen;

	if (r->nstreams < 0 || r->nstreams > SDP_MAX_MEDIA ||
	    strlen(r->id) >= sizeof(r->id))
		return -EINVAL;
	put(&w, MAGIC, 4);
	put_uint(&w, JOURNAL_VERSION, 2);
	put_uint(&w, 0, 2);
	put_uint(&w, 0, 4); /* length and CRC: below */
	put_uint(&w, 0, 4);
	put_str(&w, r->boot_id);
	put_str(&w, r->id);
	put_uint(&w, (uint64_t)r->state, 1);
	put_uint(&w, (uint64_t)r->offerer, 1);
	put_uint(&w, (uint64_t)r->nstreams, 1);
	put_uint(&w, r->created_ns, 8);
	put_addr(&w, &r->hint[0]);
	put_addr(&w, &r->hint[1]);
	put_uint(&w, r->o_ver[0], 8);
	put_uint(&w, r->o_ver[1], 8);
	put_body(&w, r->last_out[0]);
	put_body(&w, r->last_out[1]);
	for (int i = 0; i < r->nstreams; i++)
		put_stream(&w, &r->st[i]);
	if (w.err) {
		free(w.b);
		return w.err;
	}
	plen = w.n - HDR_LEN;
	crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), w.b + HDR_LEN, (uInt)plen);
	for (int i = 0; i < 4; i++) {
		w.b[8 + i] = (uint8_t)(plen >> (8 * i));
		w.b[12 + i] = (uint8_t)(crc >> (8 * i));
	}
	*buf = w.b;
	*len = w.n;
	return 0;
}

/* ---- reading ---------------------------------------------------------------- */

struct rbuf {
	const uint8_t *b;
	size_t n, off;
	const char *why; /* the first thing found wrong: a field's name, */
	int sentence;    /* or a whole sentence */
};

static int bad(struct rbuf *r, const char *why)
{
	if (!r->why)
		r->why = why;
	return -1;
}

static int bad_header(struct rbuf *r, const char *why)
{
	if (!r->why)
		r->sentence = 1;
	return bad(r, why);
}

static const uint8_t *take(struct rbuf *r, size_t len, const char *what)
{
	const uint8_t *p;

	if (r->why)
		return NULL;
	if (len > r->n - r->off) {
		bad(r, what);
		return NULL;
	}
	p = r->b + r->off;
	r->off += len;
	return p;
}

static uint64_t get_uint(struct rbuf *r, int bytes, const char *what)
{
	const uint8_t *p = take(r, (size_t)bytes, what);
	uint64_t v = 0;

	for (int i = 0; p && i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* A flag or enum field, at most max. */
static unsigned get_small(struct rbuf *r, unsigned max, const char *what)
{
	unsigned v = (unsigned)get_uint(r, 1, what);

	if (v > max) {
		bad(r, what);
		return 0;
	}
	return v;
}

static void get_str(struct rbuf *r, char *out, size_t cap, const char *what)
{
	size_t len = (size_t)get_uint(r, 2, what);
	const uint8_t *p;

	out[0] = 0;
	if (len >= cap) {
		bad(r, what);
		return;
	}
	p = take(r, len, what);
	if (!p)
		return;
	if (memchr(p, 0, len)) {
		bad(r, what);
		return;
	}
	memcpy(out, p, len);
	out[len] = 0;
}

static char *get_body(struct rbuf *r, const char *what)
{
	uint32_t len = (uint32_t)get_uint(r, 4, what);
	const uint8_t *p;
	char *s;

	if (r->why || len == NO_BODY)
		return NULL;
	if (len > JOURNAL_MAX_BODY) {
		bad(r, what);
		return NULL;
	}
	p = take(r, len, what);
	if (!p)
		return NULL;
	if (memchr(p, 0, len) || !(s = malloc((size_t)len + 1))) {
		bad(r, what);
		return NULL;
	}
	memcpy(s, p, len);
	s[len] = 0;
	return s;
}

static void get_addr(struct rbuf *r, struct sockaddr_storage *ss,
		     const char *what)
{
	unsigned fam = (unsigned)get_uint(r, 1, what);
	const uint8_t *a = take(r, 16, what);
	int port = (int)get_uint(r, 2, what);
	uint32_t scope = (uint32_t)get_uint(r, 4, what);

	memset(ss, 0, sizeof(*ss));
	if (!a)
		return;
	if (fam == 4) {
		ss->ss_family = AF_INET;
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, a, 4);
	} else if (fam == 6) {
		ss->ss_family = AF_INET6;
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, a, 16);
		((struct sockaddr_in6 *)ss)->sin6_scope_id = scope;
	} else if (fam != 0) {
		bad(r, what);
		return;
	}
	if (fam)
		netaddr_set_port((struct sockaddr *)ss, port);
}

static void get_comp(struct rbuf *r, struct journal_comp *c)
{
	uint64_t *v[8] = { &c->c.kernel_packets, &c->c.kernel_bytes,
			   &c->c.user_packets, &c->c.user_bytes,
			   &c->c.drop_foreign, &c->c.drop_no_dest,
			   &c->c.drop_policy, &c->c.last_packet_ns };

	get_addr(r, &c->sdp, "peer's SDP address");
	c->latch.latched = (int)get_small(r, 1, "latch flag");
	get_addr(r, &c->latch.peer, "latched peer");
	c->latch.last_ns = get_uint(r, 8, "latch time");
	c->latch.relatches = (unsigned)get_uint(r, 4, "re-latch count");
	for (int i = 0; i < 8; i++)
		*v[i] = get_uint(r, 8, "counter");
	if (c->latch.latched && !c->latch.peer.ss_family)
		bad(r, "latch (latched without a peer)");
}

static void get_stream(struct rbuf *r, struct journal_stream *st)
{
	get_str(r, st->type, sizeof(st->type), "stream type");
	st->rejected = (int)get_small(r, 1, "rejected flag");
	st->rtcp_mux = (int)get_small(r, 1, "rtcp-mux flag");
	st->dir[0] = (enum sdp_dir)get_small(r, SDP_INACTIVE, "direction");
	st->dir[1] = (enum sdp_dir)get_small(r, SDP_INACTIVE, "direction");
	for (int l = 0; l < 2; l++) {
		int port;

		get_addr(r, &st->local[l], "relay address");
		port = netaddr_port((struct sockaddr *)&st->local[l]);
		if (st->local[l].ss_family && (port == 0 || port & 1 ||
					       port > 65534))
			bad(r, "relay port (not an even RTP port)");
	}
	for (int l = 0; l < 2; l++)
		for (int k = 0; k < 2; k++)
			get_comp(r, &st->c[l][k]);
}

static int check_header(struct rbuf *r)
{
	uint32_t plen, crc;
	unsigned ver, flags;

	if (r->n < HDR_LEN)
		return bad_header(r, "too short for a journal file");
	if (memcmp(r->b, MAGIC, 4))
		return bad_header(r, "not a journal file (magic)");
	take(r, 4, "magic");
	ver = (unsigned)get_uint(r, 2, "version");
	flags = (unsigned)get_uint(r, 2, "flags");
	plen = (uint32_t)get_uint(r, 4, "length");
	crc = (uint32_t)get_uint(r, 4, "checksum");
	if (ver != JOURNAL_VERSION)
		return bad_header(r, "a format version this build does not "
				  "read (newer xrelay?)");
	if (flags)
		return bad_header(r, "header flags this build does not know");
	if (plen != r->n - HDR_LEN)
		return bad_header(r, "length mismatch (a truncated or extended "
				  "file)");
	if (crc != (uint32_t)crc32(crc32(0L, Z_NULL, 0), r->b + HDR_LEN, (uInt)plen))
		return bad_header(r, "checksum mismatch (a torn or altered "
				  "file)");
	return 0;
}

void journal_rec_clear(struct journal_rec *r)
{
	for (int l = 0; l < 2; l++) {
		free(r->last_out[l]);
		r->last_out[l] = NULL;
	}
}

int journal_decode(const uint8_t *buf, size_t len, struct journal_rec *r,
		   char *err, size_t errlen)
{
	struct rbuf rb = { .b = buf, .n = len };

	memset(r, 0, sizeof(*r));
	if (check_header(&rb) == 0) {
		get_str(&rb, r->boot_id, sizeof(r->boot_id), "boot id");
		get_str(&rb, r->id, sizeof(r->id), "call id");
		r->state = (enum media_state)get_small(&rb, MEDIA_ANSWERED, "state");
		r->offerer = (enum media_leg)get_small(&rb, 1, "offerer");
		r->nstreams = (int)get_small(&rb, SDP_MAX_MEDIA, "number of streams");
		r->created_ns = get_uint(&rb, 8, "creation time");
		get_addr(&rb, &r->hint[0], "leg A's signalling address");
		get_addr(&rb, &r->hint[1], "leg B's signalling address");
		r->o_ver[0] = get_uint(&rb, 8, "o= version");
		r->o_ver[1] = get_uint(&rb, 8, "o= version");
		r->last_out[0] = get_body(&rb, "body sent to leg A");
		r->last_out[1] = get_body(&rb, "body sent to leg B");
		for (int i = 0; i < r->nstreams && !rb.why; i++)
			get_stream(&rb, &r->st[i]);
		if (!rb.why && !r->id[0])
			bad(&rb, "call id (empty)");
		if (!rb.why && rb.off != rb.n)
			bad(&rb, "end (bytes after the last stream)");
	}
	if (!rb.why)
		return 0;
	if (rb.sentence)
		snprintf(err, errlen, "%s", rb.why);
	else
		snprintf(err, errlen, "bad %s at byte %zu", rb.why, rb.off);
	journal_rec_clear(r);
	return -EINVAL;
}

/* ---- file names --------------------------------------------------------------- */

static int safe_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || strchr("-_.@+=", ch) != NULL;
}

int journal_name(const char *id, char *out, size_t outlen)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t len = strlen(id), n = 0;
	int safe = len > 0 && id[0] != '.';

	for (size_t i = 0; safe && i < len; i++)
		safe = safe_char(id[i]);
	if (safe) {
		if ((size_t)snprintf(out, outlen, "%s" SUFFIX, id) >= outlen)
			return -ENAMETOOLONG;
		return 0;
	}
	/* Anything else (SIP Call-IDs may hold '/', spaces, ...): base64url
	 * after a '~', which no safe name starts with, so names never clash. */
	if (outlen < 2 + (len + 2) / 3 * 4 + sizeof(SUFFIX))
		return -ENAMETOOLONG;
	out[n++] = '~';
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)(uint8_t)id[i] << 16;
		size_t k = len - i < 3 ? len - i : 3;

		if (k > 1)
			v |= (uint32_t)(uint8_t)id[i + 1] << 8;
		if (k > 2)
			v |= (uint8_t)id[i + 2];
		for (size_t j = 0; j <= k; j++)
			out[n++] = b64[(v >> (18 - 6 * j)) & 63];
	}
	memcpy(out + n, SUFFIX, sizeof(SUFFIX));
	return 0;
}

/* ---- the engine's files ------------------------------------------------------- */

static void read_boot_id(char *out, size_t cap)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	out[0] = 0;
	if (!f)
		return;
	if (fgets(out, (int)cap, f))
		out[strcspn(out, "\n")] = 0;
	fclose(f);
}

/* The directory and its parents (/run/xrelay/state on a fresh tmpfs). */
static int mkdir_p(const char *dir)
{
	char p[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(p, dir, n + 1);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(p, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

int journal_open(struct media_engine *me, char *err, size_t errlen)
{
	const char *dir = me->cfg.state_dir;

	if (!dir || !*dir)
		return 0;
	if (mkdir_p(dir) < 0) {
		int e = errno;

		snprintf(err, errlen, "state_dir %s: cannot create it (%s): "
			 "create it, or set state_dir to a writable directory "
			 "(on tmpfs: /run/xrelay)", dir, strerror(e));
		return -e;
	}
	me->jdir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (me->jdir < 0 || faccessat(me->jdir, ".", W_OK, AT_EACCESS) < 0) {
		int e = errno;

		snprintf(err, errlen, "state_dir %s: %s: the session journal "
			 "needs a directory it can write", dir, strerror(e));
		return -e;
	}
	read_boot_id(me->boot_id, sizeof(me->boot_id));
	return 0;
}

void journal_close(struct media_engine *me)
{
	if (me->jdir >= 0)
		close(me->jdir);
	me->jdir = -1;
}

/* Journal trouble is logged, at most once a second: the call goes on, only
 * its adoption after a crash is at stake. */
static void jerr(struct media_engine *me, const char *id, const char *what,
		 int e)
{
	uint64_t now = media_now_ns();

	if (now - me->last_jerr_log_ns < 1000000000ull)
		return;
	me->last_jerr_log_ns = now;
	log_warn("call %s: journal: %s (%s): a restarted engine would not "
		 "adopt this call", id, what, strerror(e));
}

/* r's streams past s->nstreams are left as they were: the encoder does not
 * read them, and zeroing all 26 KB of the record showed in profiles. */
static void rec_from_session(struct media_engine *me,
			     const struct media_session *s,
			     struct journal_rec *r)
{
	memset(r, 0, offsetof(struct journal_rec, st));
	memset(r->st, 0, (size_t)s->nstreams * sizeof(r->st[0]));
	snprintf(r->boot_id, sizeof(r->boot_id), "%s", me->boot_id);
	snprintf(r->id, sizeof(r->id), "%s", s->id);
	r->state = s->state;
	r->offerer = s->offerer;
	r->created_ns = s->created_ns;
	r->hint[0] = s->hint[0];
	r->hint[1] = s->hint[1];
	r->o_ver[0] = s->o_ver[0];
	r->o_ver[1] = s->o_ver[1];
	r->last_out[0] = s->last_out[0]; /* borrowed: not freed */
	r->last_out[1] = s->last_out[1];
	r->nstreams = s->nstreams;
	for (int i = 0; i < s->nstreams; i++) {
		const struct stream *st = s->st[i];
		struct journal_stream *js = &r->st[i];

		snprintf(js->type, sizeof(js->type), "%s", st->type);
		js->rejected = st->rejected;
		js->rtcp_mux = st->rtcp_mux;
		for (int l = 0; l < 2; l++) {
			const struct comp *c0 = &st->c[l][0];

			js->dir[l] = st->dir[l];
			if (c0->pool) {
				js->local[l] = c0->pool->addr;
				netaddr_set_port((struct sockaddr *)&js->local[l],
						 (int)c0->port);
			}
			for (int k = 0; k < 2; k++) {
				js->c[l][k].sdp = st->c[l][k].sdp;
				js->c[l][k].latch = st->c[l][k].latch;
				js->c[l][k].c = st->c[l][k].c;
			}
		}
	}
}

static int write_all(int fd, const uint8_t *b, size_t len)
{
	while (len) {
		ssize_t n = write(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* What tells one record from another: the CRC-32 in its header and an
 * Adler-32 of its payload (0 never: 0 means no record). */
static uint64_t rec_sum(const uint8_t *buf, size_t len)
{
	uint64_t crc = (uint64_t)buf[12] | (uint64_t)buf[13] << 8 |
		       (uint64_t)buf[14] << 16 | (uint64_t)buf[15] << 24;
	uint64_t a = adler32(adler32(0L, Z_NULL, 0), buf + HDR_LEN,
			     (uInt)(len - HDR_LEN));

	return (crc << 32 | a) ? (crc << 32 | a) : 1;
}

/*
 * The record to ".tmp-NAME", renamed over NAME. A record equal to the one
 * last written for s (a 200 that repeats the SDP of the 183 before it, a
 * latch flushed after an offer saved it already) is not written again:
 * the file holds it. s->jsum is set only once the rename succeeded.
 */
void journal_save(struct media_engine *me, struct media_session *s)
{
	char name[256], tmp[256 + sizeof(TMP_PREFIX)];
	struct journal_rec r; /* on the stack: 26 KB malloc'd and freed per
				 record made glibc trim and grow its heap */
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t sum;
	int fd, rc;

	if (me->jdir < 0)
		return;
	rec_from_session(me, s, &r); /* the bodies are borrowed */
	rc = journal_encode(&r, &buf, &len);
	if (!rc)
		rc = journal_name(s->id, name, sizeof(name));
	if (rc) {
		free(buf);
		jerr(me, s->id, "cannot make its record", -rc);
		return;
	}
	sum = rec_sum(buf, len);
	if (sum == s->jsum) {
		free(buf);
		return;
	}
	s->jsum = 0; /* until the new one is in place */
	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%s", name);
	fd = openat(me->jdir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
	} else {
		rc = write_all(fd, buf, len);
		if (close(fd) < 0 && !rc)
			rc = -errno;
		if (!rc && renameat(me->jdir, tmp, me->jdir, name) < 0)
			rc = -errno;
		if (rc)
			unlinkat(me->jdir, tmp, 0);
	}
	free(buf);
	if (rc)
		jerr(me, s->id, "cannot write its file", -rc);
	else
		s->jsum = sum;
}

void journal_forget(struct media_engine *me, struct media_session *s)
{
	char name[256];

	s->jsum = 0;
	if (me->jdir < 0 || journal_name(s->id, name, sizeof(name)))
		return;
	if (unlinkat(me->jdir, name, 0) < 0 && errno != ENOENT)
		jerr(me, s->id, "cannot remove its file", errno);
}

void journal_mark(struct media_engine *me, struct media_session *s)
{
	if (me->jdir < 0 || s->jdirty)
		return;
	s->jdirty = 1;
	s->jnext = me->jdirty;
	me->jdirty = s;
}

void journal_flush(struct media_engine *me)
{
	while (me->jdirty) {
		struct media_session *s = me->jdirty;

		me->jdirty = s->jnext;
		s->jdirty = 0;
		journal_save(me, s);
	}
}

/* ---- adoption ------------------------------------------------------------------ */

/* One leg of a stream back on its relay address and port. */
static int adopt_leg(struct media_engine *me, struct stream *st, int leg,
		     const struct sockaddr_storage *local, char *err,
		     size_t errlen)
{
	struct addrpool *p = pool_by_addr(me, (const struct sockaddr *)local);
	unsigned port = (unsigned)netaddr_port((const struct sockaddr *)local);
	char a[NETADDR_STRLEN];
	int rc;

	netaddr_ip_str((const struct sockaddr *)local, a, sizeof(a));
	if (!p) {
		snprintf(err, errlen, "relay address %s is not on a media "
			 "interface any more", a);
		return -EADDRNOTAVAIL;
	}
	rc = portpool_take(p->pp, port);
	if (rc == -EBUSY)
		snprintf(err, errlen, "relay port %u on %s is already another "
			 "call's", port, a);
	else if (rc)
		snprintf(err, errlen, "relay port %u is outside the port range "
			 "%u-%u (was it changed?)", port, me->cfg.port_min,
			 me->cfg.port_max);
	if (rc)
		return rc;
	rc = leg_bind(me, st, leg, p, port, err, errlen);
	if (rc)
		portpool_release(p->pp, port, 0);
	return rc;
}

/* The session a record describes, its ports taken and its kernel flows
 * adopted. The record's bodies move into the session. */
static int session_adopt(struct media_engine *me, struct journal_rec *r,
			 char *err, size_t errlen)
{
	struct media_session *s;
	int rc = 0;

	if (media_session_get(me, r->id, 0)) {
		snprintf(err, errlen, "a call with this id is already here");
		return -EEXIST;
	}
	s = media_session_get(me, r->id, 1);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->state = r->state;
	s->offerer = r->offerer;
	s->created_ns = r->created_ns;
	for (int l = 0; l < 2; l++) {
		s->hint[l] = r->hint[l];
		s->o_ver[l] = r->o_ver[l];
		s->last_out[l] = r->last_out[l];
		r->last_out[l] = NULL;
	}
	for (int i = 0; i < r->nstreams && !rc; i++) {
		const struct journal_stream *js = &r->st[i];
		struct stream *st = stream_new(s);

		if (!st) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
			break;
		}
		snprintf(st->type, sizeof(st->type), "%s", js->type);
		st->rejected = js->rejected;
		st->rtcp_mux = js->rtcp_mux;
		for (int l = 0; l < 2; l++) {
			st->dir[l] = js->dir[l];
			for (int k = 0; k < 2; k++) {
				st->c[l][k].sdp = js->c[l][k].sdp;
				st->c[l][k].latch = js->c[l][k].latch;
				st->c[l][k].c = js->c[l][k].c;
			}
		}
		for (int l = 0; l < 2 && !rc; l++)
			if (js->local[l].ss_family)
				rc = adopt_leg(me, st, l, &js->local[l], err,
					       errlen);
	}
	if (rc) {
		session_drop(me, s); /* no flow adopted yet: none removed */
		return rc;
	}
	/* Flows last: each one's destination is the other leg's latch. */
	for (int i = 0; i < s->nstreams; i++)
		for (int l = 0; l < 2; l++)
			for (int k = 0; k < 2; k++)
				flow_adopt(me, &s->st[i]->c[l][k]);
	me->adopted++;
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Read a whole file of at most JOURNAL_MAX_FILE bytes. */
static int slurp_at(int dirfd, const char *name, uint8_t **buf, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t n = 0;
	int rc = 0;

	*buf = NULL;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
	} else if (st.st_size > JOURNAL_MAX_FILE) {
		rc = -EFBIG;
	} else if (!(*buf = malloc((size_t)st.st_size + 1))) {
		rc = -ENOMEM;
	} else {
		while ((size_t)n < (size_t)st.st_size) {
			ssize_t k = read(fd, *buf + n, (size_t)st.st_size - (size_t)n);

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			n += k;
		}
		*len = (size_t)n;
	}
	close(fd);
	if (rc) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

/* A journal that cannot be adopted: kept aside for a look, out of the way
 * of the next start. */
static void set_aside(struct media_engine *me, const char *name,
		      const char *why)
{
	char bad_name[256 + sizeof(BAD_SUFFIX)];

	snprintf(bad_name, sizeof(bad_name), "%s" BAD_SUFFIX, name);
	renameat(me->jdir, name, me->jdir, bad_name);
	log_warn("media: journal %s/%s: %s: call not adopted (file moved to "
		 "%s); its kernel entries are removed after the adopt grace "
		 "time", me->cfg.state_dir, name, why, bad_name);
}

/* 1: adopted, 0: not (said why). */
static int adopt_file(struct media_engine *me, const char *name)
{
	struct journal_rec *r = calloc(1, sizeof(*r));
	char why[256], want[256];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (!r) {
		log_err("media: journal %s: out of memory", name);
		return 0;
	}
	rc = slurp_at(me->jdir, name, &buf, &len);
	if (rc) {
		snprintf(why, sizeof(why), "cannot read it (%s)", strerror(-rc));
		set_aside(me, name, why);
	} else if (journal_decode(buf, len, r, why, sizeof(why))) {
		set_aside(me, name, why);
		rc = -EINVAL;
	} else if (journal_name(r->id, want, sizeof(want)) ||
		   strcmp(want, name) != 0) {
		set_aside(me, name, "the name is not the one of the call id "
			  "inside");
		rc = -EINVAL;
	} else if (r->boot_id[0] && me->boot_id[0] &&
		   strcmp(r->boot_id, me->boot_id) != 0) {
		/* The machine rebooted: the call's media went with it. */
		log_info("media: journal %s: call %s is from an earlier boot: "
			 "removed", name, r->id);
		unlinkat(me->jdir, name, 0);
		rc = -ESTALE;
	} else if ((rc = session_adopt(me, r, why, sizeof(why)))) {
		set_aside(me, name, why);
	} else {
		log_info("media: adopted call %s (%d streams) from the journal",
			 r->id, r->nstreams);
	}
	free(buf);
	journal_rec_clear(r);
	free(r);
	return rc == 0;
}

void journal_adopt_all(struct media_engine *me)
{
	unsigned adopted = 0, other = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	if (me->jdir < 0)
		return;
	fd = dup(me->jdir);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		log_err("media: state_dir %s: cannot list it (%s): no call "
			"adopted", me->cfg.state_dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
			/* A write a crash interrupted: the record it was
			 * replacing is still there. */
			unlinkat(me->jdir, de->d_name, 0);
			continue;
		}
		if (de->d_name[0] == '.' || !ends_with(de->d_name, SUFFIX))
			continue;
		if (adopt_file(me, de->d_name))
			adopted++;
		else
			other++;
	}
	closedir(d);
	if (adopted || other)
		log_info("media: journal %s: %u calls adopted, %u not",
			 me->cfg.state_dir, adopted, other);
}
