// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbuf.h"

#define OB_DEFAULT_MAX (1u << 20)
#define OB_KEEP (64u << 10) /* ob_reset keeps an allocation this small */

void ob_init(struct outbuf *o, size_t max)
{
	memset(o, 0, sizeof(*o));
	o->max = max ? max : OB_DEFAULT_MAX;
}

void ob_free(struct outbuf *o)
{
	free(o->p);
	o->p = NULL;
	o->len = o->cap = 0;
	o->full = 0;
}

void ob_reset(struct outbuf *o)
{
	if (o->cap > OB_KEEP)
		ob_free(o);
	o->len = 0;
	o->full = 0;
	if (o->p)
		o->p[0] = 0;
}

/* Room for need more bytes and a NUL; 0 or -1 (and full set). */
static int reserve(struct outbuf *o, size_t need)
{
	size_t cap;
	char *p;

	if (o->full)
		return -1;
	if (need > o->max || o->len + need > o->max) {
		o->full = 1;
		return -1;
	}
	if (o->len + need + 1 <= o->cap)
		return 0;
	cap = o->cap ? o->cap : 1024;
	while (cap < o->len + need + 1)
		cap *= 2;
	if (cap > o->max + 1)
		cap = o->max + 1;
	p = realloc(o->p, cap);
	if (!p) {
		o->full = 1;
		return -1;
	}
	o->p = p;
	o->cap = cap;
	return 0;
}

void ob_put(struct outbuf *o, const void *buf, size_t len)
{
	if (reserve(o, len) < 0)
		return;
	memcpy(o->p + o->len, buf, len);
	o->len += len;
	o->p[o->len] = 0;
}

void ob_puts(struct outbuf *o, const char *s)
{
	ob_put(o, s, strlen(s));
}

void ob_printf(struct outbuf *o, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		o->full = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		ob_put(o, small, (size_t)n);
		return;
	}
	if (reserve(o, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(o->p + o->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	o->len += (size_t)n;
}

/* The length of a valid UTF-8 sequence at s (1-4) within avail bytes,
 * or 0. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void ob_json_strn(struct outbuf *o, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = len ? p + len : p; /* s may be NULL */
	size_t n;

	ob_put(o, "\"", 1);
	while (p < end) {
		if (*p == '"' || *p == '\\') {
			ob_printf(o, "\\%c", *p++);
		} else if (*p == '\n' || *p == '\r' || *p == '\t') {
			ob_put(o, *p == '\n' ? "\\n" : *p == '\r' ? "\\r" :
			       "\\t", 2);
			p++;
		} else if (*p >= 0x20 && *p < 0x7f) {
			ob_put(o, p++, 1);
		} else if (*p >= 0x80 && (n = utf8_len(p, (size_t)(end - p)))) {
			ob_put(o, p, n);
			p += n;
		} else if (*p >= 0x80) {
			/* Not UTF-8: U+FFFD, so the text is valid JSON and
			 * encodes the same again once decoded (an escape of
			 * the byte would decode to another character). */
			ob_put(o, "\xef\xbf\xbd", 3);
			p++;
		} else {
			ob_printf(o, "\\u%04x", *p++);
		}
	}
	ob_put(o, "\"", 1);
}

void ob_json_str(struct outbuf *o, const char *s)
{
	if (!s)
		ob_puts(o, "null");
	else
		ob_json_strn(o, s, strlen(s));
}
