/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A growing text buffer with a ceiling, for replies built in one go (the
 * control socket, the metrics page, ng replies). Past the ceiling, or out of memory,
 * it stops growing and `full` sticks: callers write freely and look once
 * at the end, so a huge reply turns into one clear error, not a crash.
 */
#ifndef XRELAY_OUTBUF_H
#define XRELAY_OUTBUF_H

#include <stddef.h>

struct outbuf {
	char *p;          /* NUL-terminated while not full */
	size_t len, cap;
	size_t max;       /* the ceiling in bytes; 0: 1 MiB */
	int full;
};

void ob_init(struct outbuf *o, size_t max);
void ob_free(struct outbuf *o);
/* Empty it again (keeps a small allocation, drops a big one). */
void ob_reset(struct outbuf *o);
void ob_printf(struct outbuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ob_put(struct outbuf *o, const void *buf, size_t len);
void ob_puts(struct outbuf *o, const char *s);
/* s as a JSON string, quotes included: '"', '\\', newline, CR and tab as
 * their short escapes, other control bytes as \u00XX; a byte >= 0x80 that
 * is not part of valid UTF-8 becomes U+FFFD. NULL: null. */
void ob_json_str(struct outbuf *o, const char *s);
/* The same for len bytes that may hold NULs (\u0000). */
void ob_json_strn(struct outbuf *o, const char *s, size_t len);

#endif
