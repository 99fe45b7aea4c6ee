// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdr.h"

/*
 * A record is built in memory and appended with one write(2) on an
 * O_APPEND descriptor: the kernel then places each line whole at the end
 * of the file, so lines from several writers (or a daemon and its
 * restarted successor) never mix. The writer only appends; rotation is
 * "rename the file, then cdr_reopen()".
 */
struct cdr_writer {
	char *path;                   /* NULL: disabled */
	int fd;
};

/* ---- JSON building ------------------------------------------------------ */

/* Output into a fixed buffer that counts what did not fit, like snprintf,
 * so the caller learns the size it needs. */
struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->pos < o->len) {
		size_t room = o->len - o->pos;

		memcpy(o->buf + o->pos, s, n < room ? n : room);
	}
	o->pos += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1;  /* never: the callers print numbers */
	if (n > 0)
		put(o, tmp, (size_t)n);
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/*
 * A JSON string, or null. Headers come off the wire: control characters
 * become \u00XX, and bytes that are not UTF-8 become U+FFFD so that one
 * bad From header cannot make the whole CDR file unreadable to a JSON
 * parser.
 */
static void put_str(struct out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		puts_(o, "null");
		return;
	}
	puts_(o, "\"");
	while (*p) {
		size_t n;

		if (*p == '"' || *p == '\\') {
			put(o, "\\", 1);
			put(o, (const char *)p++, 1);
		} else if (*p < 0x20 || *p == 0x7f) {
			putf(o, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			put(o, (const char *)p++, 1);
		} else if ((n = utf8_len(p))) {
			put(o, (const char *)p, n);
			p += n;
		} else {
			puts_(o, "\\ufffd");
			p++;
		}
	}
	puts_(o, "\"");
}

/* "2026-11-24T10:00:00.123Z" */
static void put_time(struct out *o, uint64_t us)
{
	time_t sec = (time_t)(us / 1000000);
	char tmp[32];
	struct tm tm;

	if (!gmtime_r(&sec, &tm) ||
	    !strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm)) {
		puts_(o, "null");
		return;
	}
	putf(o, "\"%s.%03uZ\"", tmp, (unsigned)(us / 1000 % 1000));
}

static void put_leg(struct out *o, const struct cdr_leg_media *m)
{
	putf(o, "{\"kernel_packets\":%" PRIu64, m->kernel_packets);
	putf(o, ",\"kernel_bytes\":%" PRIu64, m->kernel_bytes);
	putf(o, ",\"user_packets\":%" PRIu64, m->user_packets);
	putf(o, ",\"user_bytes\":%" PRIu64, m->user_bytes);
	putf(o, ",\"drops\":%" PRIu64 "}", m->drops);
}

/* answer -> end in seconds with ms precision; 0 if never answered (or the
 * clock went backwards, which must not give a negative duration). */
static void put_times(struct out *o, const struct cdr *c)
{
	int answered = c->answer_us != 0;
	uint64_t dur_ms = answered && c->end_us > c->answer_us ?
			  (c->end_us - c->answer_us) / 1000 : 0;

	puts_(o, ",\"start\":");
	put_time(o, c->start_us);
	puts_(o, ",\"answer\":");
	if (answered)
		put_time(o, c->answer_us);
	else
		puts_(o, "null");
	puts_(o, ",\"end\":");
	put_time(o, c->end_us);
	putf(o, ",\"duration_s\":%" PRIu64 ".%03u", dur_ms / 1000,
	     (unsigned)(dur_ms % 1000));
	/* Post-dial delay to answer: what a carrier looks at first. */
	if (answered && c->answer_us >= c->start_us)
		putf(o, ",\"setup_ms\":%" PRIu64,
		     (c->answer_us - c->start_us) / 1000);
	else
		puts_(o, ",\"setup_ms\":null");
}

/* The record into o (no newline); o->pos is the length it needs. */
static void format_record(struct out *o, const struct cdr *c)
{
	puts_(o, "{\"call_id_a\":");
	put_str(o, c->call_id_a);
	puts_(o, ",\"call_id_b\":");
	put_str(o, c->call_id_b);
	puts_(o, ",\"from\":");
	put_str(o, c->from);
	puts_(o, ",\"to\":");
	put_str(o, c->to);
	put_times(o, c);
	puts_(o, ",\"end_reason\":");
	put_str(o, c->end_reason);
	puts_(o, ",\"hangup_by\":");
	put_str(o, c->hangup_by);
	putf(o, ",\"final_status\":%d", c->final_status);
	puts_(o, ",\"legs\":{\"a\":");
	put_leg(o, &c->leg[0]);
	puts_(o, ",\"b\":");
	put_leg(o, &c->leg[1]);
	puts_(o, "}}");
}

/* Returns the length, or -ENOSPC if it did not fit (buf then holds a
 * truncated, NUL-terminated line). */
int cdr_format(const struct cdr *c, char *buf, size_t len)
{
	struct out o = { buf, len ? len - 1 : 0, 0 };

	format_record(&o, c);
	if (len)
		buf[o.pos < o.len ? o.pos : o.len] = 0;
	if (o.pos >= len || o.pos > INT32_MAX)
		return -ENOSPC;
	return (int)o.pos;
}

/* ---- the file ----------------------------------------------------------- */

static int open_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0 && err && errlen)
		snprintf(err, errlen, "cannot open the CDR file %s: %s (check "
			 "that its directory exists and xrelayd may write "
			 "there, or set no CDR path to disable CDRs)", path,
			 strerror(errno));
	return fd < 0 ? -errno : fd;
}

struct cdr_writer *cdr_open(const char *path, char *err, size_t errlen)
{
	struct cdr_writer *w = calloc(1, sizeof(*w));

	if (!w)
		goto nomem;
	w->fd = -1;
	if (!path || !*path)
		return w;
	w->path = strdup(path);
	if (!w->path)
		goto nomem;
	w->fd = open_file(path, err, errlen);
	if (w->fd < 0) {
		cdr_close(w);
		return NULL;
	}
	return w;
nomem:
	free(w);
	if (err && errlen)
		snprintf(err, errlen, "out of memory opening the CDR file");
	return NULL;
}

void cdr_close(struct cdr_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w->path);
	free(w);
}

/* Open the path again (after logrotate renamed it). The new file is opened
 * first, so a failure leaves CDRs going to the old one. */
int cdr_reopen(struct cdr_writer *w, char *err, size_t errlen)
{
	int fd;

	if (!w || !w->path)
		return 0;
	fd = open_file(w->path, err, errlen);
	if (fd < 0)
		return fd;
	close(w->fd);
	w->fd = fd;
	return 0;
}

/* All of buf: a regular file takes it in one write; the loop is for a
 * signal or a full disk cutting it short. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int cdr_write(struct cdr_writer *w, const struct cdr *c)
{
	char stack[2048], *buf = stack;
	struct out o = { stack, sizeof(stack), 0 };
	int ret;

	if (!w || w->fd < 0)
		return 0;
	format_record(&o, c);
	if (o.pos + 1 > sizeof(stack)) {
		/* Long headers: build it again at the size it needs. */
		buf = malloc(o.pos + 1);
		if (!buf)
			return -ENOMEM;
		o = (struct out){ buf, o.pos + 1, 0 };
		format_record(&o, c);
	}
	buf[o.pos] = '\n';
	ret = write_all(w->fd, buf, o.pos + 1);
	if (buf != stack)
		free(buf);
	return ret;
}
