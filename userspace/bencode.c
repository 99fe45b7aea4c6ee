// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bencode and the JSON subset of the ng protocol, into and out of one tree
 * (see bencode.h). Recursive descent, bounded by BN_MAX_DEPTH, so the
 * stack never grows with the input; every read checks the remaining
 * length first.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "outbuf.h"

#define ARENA_DEFAULT (8u << 20)
#define CHUNK_SIZE    16384
#define BN_MAX_STRLEN (1u << 20) /* no ng value is longer (an SDP: 64 KiB) */

/* ---- the arena ---------------------------------------------------------------- */

struct chunk {
	struct chunk *next;
	size_t used, cap;
	_Alignas(max_align_t) unsigned char mem[];
};

struct bn_arena {
	struct chunk *head;
	size_t total, limit;
	int failed;
};

struct bn_arena *bn_arena_new(size_t limit)
{
	struct bn_arena *a = calloc(1, sizeof(*a));

	if (a)
		a->limit = limit ? limit : ARENA_DEFAULT;
	return a;
}

void bn_arena_free(struct bn_arena *a)
{
	struct chunk *c, *n;

	if (!a)
		return;
	for (c = a->head; c; c = n) {
		n = c->next;
		free(c);
	}
	free(a);
}

int bn_arena_failed(const struct bn_arena *a) { return a->failed; }

static void *arena_alloc(struct bn_arena *a, size_t size)
{
	struct chunk *c = a->head;
	size_t align = _Alignof(max_align_t);

	size = (size + align - 1) / align * align;
	if (!c || c->cap - c->used < size) {
		size_t cap = size > CHUNK_SIZE ? size : CHUNK_SIZE;

		if (a->total + cap > a->limit ||
		    !(c = malloc(sizeof(*c) + cap))) {
			a->failed = 1;
			return NULL;
		}
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
		a->total += cap;
	}
	c->used += size;
	return c->mem + c->used - size;
}

/* A NUL-terminated copy of len bytes. */
static char *arena_strdup(struct bn_arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	if (p) {
		memcpy(p, s, len);
		p[len] = 0;
	}
	return p;
}

/* ---- builders ----------------------------------------------------------------- */

static struct bnode *node_new(struct bn_arena *a, enum bn_type t)
{
	struct bnode *n = arena_alloc(a, sizeof(*n));

	if (n) {
		memset(n, 0, sizeof(*n));
		n->type = t;
	}
	return n;
}

struct bnode *bn_dict(struct bn_arena *a) { return node_new(a, BN_DICT); }
struct bnode *bn_list(struct bn_arena *a) { return node_new(a, BN_LIST); }

struct bnode *bn_str(struct bn_arena *a, const char *s, size_t len)
{
	struct bnode *n = node_new(a, BN_STR);

	if (n && !(n->str = arena_strdup(a, s, len)))
		return NULL;
	if (n)
		n->len = len;
	return n;
}

struct bnode *bn_int(struct bn_arena *a, int64_t v)
{
	struct bnode *n = node_new(a, BN_INT);

	if (n)
		n->num = v;
	return n;
}

static void append(struct bnode *c, struct bnode *v)
{
	v->next = NULL;
	if (c->last)
		c->last->next = v;
	else
		c->child = v;
	c->last = v;
	c->len++;
}

struct bnode *bn_list_add(struct bnode *l, struct bnode *v)
{
	if (!l || !v || l->type != BN_LIST)
		return NULL;
	append(l, v);
	return v;
}

struct bnode *bn_dict_put(struct bn_arena *a, struct bnode *d,
			  const char *key, struct bnode *v)
{
	size_t kl = strlen(key);

	if (!d || !v || d->type != BN_DICT) {
		a->failed = 1;
		return NULL;
	}
	if (!(v->key = arena_strdup(a, key, kl)))
		return NULL;
	v->klen = kl;
	append(d, v);
	return v;
}

struct bnode *bn_dict_put_str(struct bn_arena *a, struct bnode *d,
			      const char *key, const char *s)
{
	return bn_dict_put(a, d, key, bn_str(a, s, strlen(s)));
}

struct bnode *bn_dict_put_int(struct bn_arena *a, struct bnode *d,
			      const char *key, int64_t v)
{
	return bn_dict_put(a, d, key, bn_int(a, v));
}

struct bnode *bn_dict_put_dict(struct bn_arena *a, struct bnode *d,
			       const char *key)
{
	return bn_dict_put(a, d, key, bn_dict(a));
}

struct bnode *bn_dict_put_list(struct bn_arena *a, struct bnode *d,
			       const char *key)
{
	return bn_dict_put(a, d, key, bn_list(a));
}

struct bnode *bn_list_add_str(struct bn_arena *a, struct bnode *l,
			      const char *s)
{
	struct bnode *v = bn_list_add(l, bn_str(a, s, strlen(s)));

	if (!v)
		a->failed = 1;
	return v;
}

struct bnode *bn_dict_get(const struct bnode *d, const char *key)
{
	size_t kl = strlen(key);

	if (!d || d->type != BN_DICT)
		return NULL;
	for (struct bnode *m = d->child; m; m = m->next)
		if (m->klen == kl && memcmp(m->key, key, kl) == 0)
			return m;
	return NULL;
}

const char *bn_type_name(enum bn_type t)
{
	switch (t) {
	case BN_INT: return "an integer";
	case BN_STR: return "a string";
	case BN_LIST: return "a list";
	case BN_DICT: return "a dictionary";
	}
	return "nothing";
}

int bn_format_of(char first)
{
	if (first == 'd')
		return BN_BENCODE;
	if (first == '{')
		return BN_JSON;
	return -1;
}

/* ---- decoding: shared ----------------------------------------------------------- */

struct dec {
	struct bn_arena *a;
	const char *b;
	size_t len, pos;
	int depth;
	unsigned values;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int dfail(struct dec *d, int rc, const char *fmt, ...)
{
	char what[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(d->err, d->errlen, "at byte %zu: %s", d->pos, what);
	return rc;
}

static int truncated(struct dec *d)
{
	return dfail(d, -EAGAIN, "the message ends inside a value");
}

/* A byte for a message: printable as is, else as \xNN. */
static const char *show(char ch, char buf[8])
{
	unsigned char u = (unsigned char)ch;

	if (u >= 0x21 && u < 0x7f)
		snprintf(buf, 8, "'%c'", ch);
	else
		snprintf(buf, 8, "0x%02x", u);
	return buf;
}

/* Count one more value, and go one level deeper for a container. */
static int enter(struct dec *d, int container)
{
	if (++d->values > BN_MAX_VALUES)
		return dfail(d, -E2BIG, "more than %u values", BN_MAX_VALUES);
	if (container && ++d->depth > BN_MAX_DEPTH)
		return dfail(d, -E2BIG, "nested deeper than %d levels",
			     BN_MAX_DEPTH);
	return 0;
}

static int oom(struct dec *d)
{
	return dfail(d, -ENOMEM, "out of memory (the message is too big)");
}

/*
 * Decimal digits at d->pos into *v (no sign), at most max. A leading zero
 * only alone, so each number has one spelling.
 */
static int digits(struct dec *d, uint64_t max, uint64_t *v, const char *what)
{
	size_t start = d->pos;

	*v = 0;
	if (d->pos >= d->len)
		return truncated(d);
	if (d->b[d->pos] < '0' || d->b[d->pos] > '9') {
		char s[8];

		return dfail(d, -EINVAL, "%s: expected a digit, got %s", what,
			     show(d->b[d->pos], s));
	}
	while (d->pos < d->len && d->b[d->pos] >= '0' && d->b[d->pos] <= '9') {
		uint64_t dig = (uint64_t)(d->b[d->pos] - '0');

		if (d->pos > start && *v == 0)
			return dfail(d, -EINVAL, "%s has a leading zero", what);
		if (*v > (max - dig) / 10)
			return dfail(d, -E2BIG, "%s is too large", what);
		*v = *v * 10 + dig;
		d->pos++;
	}
	return d->pos < d->len ? 0 : truncated(d);
}

/* ---- bencode ------------------------------------------------------------------------ */

static int ben_value(struct dec *d, struct bnode **out);

static int ben_int(struct dec *d, struct bnode **out)
{
	int neg = 0, rc;
	uint64_t v;

	d->pos++; /* 'i' */
	if (d->pos < d->len && d->b[d->pos] == '-') {
		neg = 1;
		d->pos++;
	}
	rc = digits(d, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX,
		    &v, "the integer");
	if (rc)
		return rc;
	if (neg && v == 0)
		return dfail(d, -EINVAL, "-0 is not an integer");
	if (d->b[d->pos] != 'e') {
		char s[8];

		return dfail(d, -EINVAL, "the integer ends with %s, not 'e'",
			     show(d->b[d->pos], s));
	}
	d->pos++;
	*out = bn_int(d->a, neg ? (int64_t)(0 - v) : (int64_t)v);
	return *out ? 0 : oom(d);
}

/* "<len>:<bytes>": the bytes into *s, their length into *n. */
static int ben_bytes(struct dec *d, const char **s, size_t *n)
{
	uint64_t v;
	int rc = digits(d, UINT64_MAX / 2, &v, "the string length");

	if (rc)
		return rc;
	if (d->b[d->pos] != ':') {
		char c[8];

		return dfail(d, -EINVAL, "the string length ends with %s, not "
			     "':'", show(d->b[d->pos], c));
	}
	if (v > BN_MAX_STRLEN)
		return dfail(d, -E2BIG, "a string of %llu bytes (the limit is "
			     "%u)", (unsigned long long)v, BN_MAX_STRLEN);
	d->pos++;
	if (v > d->len - d->pos)
		return dfail(d, -EAGAIN, "a string of %llu bytes, but only %zu "
			     "follow", (unsigned long long)v, d->len - d->pos);
	*s = d->b + d->pos;
	*n = (size_t)v;
	d->pos += (size_t)v;
	return 0;
}

static int ben_str(struct dec *d, struct bnode **out)
{
	const char *s;
	size_t n;
	int rc = ben_bytes(d, &s, &n);

	if (rc)
		return rc;
	*out = bn_str(d->a, s, n);
	return *out ? 0 : oom(d);
}

/* Members up to the closing 'e'; a dict's keys are strings. */
static int ben_members(struct dec *d, struct bnode *c)
{
	int rc;

	d->pos++; /* 'l' or 'd' */
	for (;;) {
		struct bnode *v;
		const char *k = NULL;
		size_t kn = 0;

		if (d->pos >= d->len)
			return truncated(d);
		if (d->b[d->pos] == 'e')
			break;
		if (c->type == BN_DICT) {
			char s[8];

			if (d->b[d->pos] < '0' || d->b[d->pos] > '9')
				return dfail(d, -EINVAL, "a dictionary key must "
					     "be a string, not %s",
					     show(d->b[d->pos], s));
			if ((rc = ben_bytes(d, &k, &kn)))
				return rc;
		}
		if ((rc = ben_value(d, &v)))
			return rc;
		if (k && !(v->key = arena_strdup(d->a, k, kn)))
			return oom(d);
		v->klen = kn;
		append(c, v);
	}
	d->pos++;
	d->depth--;
	return 0;
}

static int ben_value(struct dec *d, struct bnode **out)
{
	char ch, s[8];
	int rc;

	if (d->pos >= d->len)
		return truncated(d);
	ch = d->b[d->pos];
	if ((rc = enter(d, ch == 'l' || ch == 'd')))
		return rc;
	if (ch == 'i')
		return ben_int(d, out);
	if (ch >= '0' && ch <= '9')
		return ben_str(d, out);
	if (ch != 'l' && ch != 'd')
		return dfail(d, -EINVAL, "%s does not start a bencode value "
			     "(i, l, d or a length)", show(ch, s));
	*out = ch == 'l' ? bn_list(d->a) : bn_dict(d->a);
	if (!*out)
		return oom(d);
	return ben_members(d, *out);
}

/* ---- JSON ------------------------------------------------------------------------- */

static int json_value(struct dec *d, struct bnode **out);

static void json_ws(struct dec *d)
{
	while (d->pos < d->len && strchr(" \t\r\n", d->b[d->pos]) &&
	       d->b[d->pos])
		d->pos++;
}

static int hex4(struct dec *d, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char ch;

		if (d->pos >= d->len)
			return truncated(d);
		ch = d->b[d->pos++];
		unsigned h = ch >= '0' && ch <= '9' ? (unsigned)(ch - '0') :
			     ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10) :
			     ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10) :
			     16;
		if (h == 16)
			return dfail(d, -EINVAL, "\\u needs four hex digits");
		*v = *v << 4 | h;
	}
	return 0;
}

/* \uXXXX (and its low surrogate) as UTF-8 into o; returns bytes or < 0. */
static int json_uescape(struct dec *d, char *o)
{
	unsigned cp, lo;
	int rc = hex4(d, &cp);

	if (rc)
		return rc;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return dfail(d, -EINVAL, "a lone low surrogate \\u%04x", cp);
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if ((d->pos < d->len && d->b[d->pos] != '\\') ||
		    (d->pos + 1 < d->len && d->b[d->pos + 1] != 'u'))
			return dfail(d, -EINVAL, "a high surrogate without its "
				     "low surrogate");
		if (d->len - d->pos < 2)
			return truncated(d);
		d->pos += 2;
		if ((rc = hex4(d, &lo)))
			return rc;
		if (lo < 0xdc00 || lo > 0xdfff)
			return dfail(d, -EINVAL, "a high surrogate without its "
				     "low surrogate");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int json_escape(struct dec *d, char *o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *p;
	char s[8];

	if (d->pos >= d->len)
		return truncated(d);
	if (d->b[d->pos] == 'u') {
		d->pos++;
		return json_uescape(d, o);
	}
	p = d->b[d->pos] ? strchr(from, d->b[d->pos]) : NULL;
	if (!p)
		return dfail(d, -EINVAL, "unknown escape \\%s",
			     show(d->b[d->pos], s));
	d->pos++;
	*o = to[p - from];
	return 1;
}

/*
 * A string at d->pos ('"') into *s and *n (arena). The unescaped text is never
 * longer than the escaped one, so one buffer of that size holds it.
 */
static int json_bytes(struct dec *d, const char **s, size_t *n)
{
	size_t start = ++d->pos, end = start, w = 0;
	char *o;

	while (end < d->len && d->b[end] != '"')
		end += d->b[end] == '\\' ? 2 : 1;
	if (end >= d->len)
		return truncated(d);
	if (end - start > BN_MAX_STRLEN)
		return dfail(d, -E2BIG, "a string of more than %u bytes",
			     BN_MAX_STRLEN);
	if (!(o = arena_alloc(d->a, end - start + 1)))
		return oom(d);
	while (d->pos < end) {
		unsigned char ch = (unsigned char)d->b[d->pos];
		int k;

		if (ch < 0x20)
			return dfail(d, -EINVAL, "a control character 0x%02x in "
				     "a string (escape it)", ch);
		d->pos++;
		if (ch != '\\') {
			o[w++] = (char)ch;
			continue;
		}
		if ((k = json_escape(d, o + w)) < 0)
			return k;
		w += (size_t)k;
	}
	d->pos++; /* '"' */
	o[w] = 0;
	*s = o;
	*n = w;
	return 0;
}

static int json_str(struct dec *d, struct bnode **out)
{
	struct bnode *n = node_new(d->a, BN_STR);
	int rc;

	if (!n)
		return oom(d);
	if ((rc = json_bytes(d, &n->str, &n->len)))
		return rc;
	*out = n;
	return 0;
}

static int json_num(struct dec *d, struct bnode **out)
{
	int neg = d->b[d->pos] == '-', rc;
	uint64_t v;

	d->pos += (size_t)neg;
	if (d->pos >= d->len)
		return truncated(d);
	rc = digits(d, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX,
		    &v, "the number");
	if (rc == -EAGAIN) /* digits were read: a number may end the input */
		rc = 0;
	if (rc)
		return rc;
	if (d->pos < d->len && strchr(".eE", d->b[d->pos]) && d->b[d->pos])
		return dfail(d, -EINVAL, "only whole numbers are supported");
	*out = bn_int(d->a, neg ? (int64_t)(0 - v) : (int64_t)v);
	return *out ? 0 : oom(d);
}

/* true, false, null: 1, 0 and an empty string. */
static int json_word(struct dec *d, struct bnode **out)
{
	static const char *const words[] = { "true", "false", "null" };

	for (int i = 0; i < 3; i++) {
		size_t wl = strlen(words[i]), have = d->len - d->pos;

		if (memcmp(d->b + d->pos, words[i], have < wl ? have : wl))
			continue;
		if (have < wl)
			return truncated(d);
		d->pos += wl;
		*out = i < 2 ? bn_int(d->a, i == 0) : bn_str(d->a, "", 0);
		return *out ? 0 : oom(d);
	}
	return dfail(d, -EINVAL, "not a JSON value");
}

static int json_members(struct dec *d, struct bnode *c)
{
	char close = c->type == BN_DICT ? '}' : ']', s[8];
	int rc;

	d->pos++;
	json_ws(d);
	if (d->pos < d->len && d->b[d->pos] == close)
		goto done;
	for (;;) {
		struct bnode *v;
		const char *k = NULL;
		size_t kn = 0;

		json_ws(d);
		if (d->pos >= d->len)
			return truncated(d);
		if (c->type == BN_DICT) {
			if (d->b[d->pos] != '"')
				return dfail(d, -EINVAL, "an object key must be "
					     "a string, not %s",
					     show(d->b[d->pos], s));
			if ((rc = json_bytes(d, &k, &kn)))
				return rc;
			json_ws(d);
			if (d->pos >= d->len)
				return truncated(d);
			if (d->b[d->pos] != ':')
				return dfail(d, -EINVAL, "expected ':' after "
					     "the key, got %s",
					     show(d->b[d->pos], s));
			d->pos++;
		}
		json_ws(d);
		if ((rc = json_value(d, &v)))
			return rc;
		v->key = k;
		v->klen = kn;
		append(c, v);
		json_ws(d);
		if (d->pos >= d->len)
			return truncated(d);
		if (d->b[d->pos] == close)
			break;
		if (d->b[d->pos] != ',')
			return dfail(d, -EINVAL, "expected ',' or '%c', got %s",
				     close, show(d->b[d->pos], s));
		d->pos++;
	}
done:
	d->pos++;
	d->depth--;
	return 0;
}

static int json_value(struct dec *d, struct bnode **out)
{
	char ch, s[8];
	int rc;

	if (d->pos >= d->len)
		return truncated(d);
	ch = d->b[d->pos];
	if ((rc = enter(d, ch == '{' || ch == '[')))
		return rc;
	if (ch == '"')
		return json_str(d, out);
	if (ch == '-' || (ch >= '0' && ch <= '9'))
		return json_num(d, out);
	if (ch == 't' || ch == 'f' || ch == 'n')
		return json_word(d, out);
	if (ch != '{' && ch != '[')
		return dfail(d, -EINVAL, "%s does not start a JSON value",
			     show(ch, s));
	*out = ch == '{' ? bn_dict(d->a) : bn_list(d->a);
	if (!*out)
		return oom(d);
	return json_members(d, *out);
}

int bn_decode(struct bn_arena *a, enum bn_format f, const char *buf,
	      size_t len, struct bnode **out, size_t *used, char *err,
	      size_t errlen)
{
	struct dec d = { .a = a, .b = buf, .len = len, .err = err,
			 .errlen = errlen };
	int rc;

	*out = NULL;
	*used = 0;
	if (f == BN_JSON)
		json_ws(&d);
	rc = f == BN_JSON ? json_value(&d, out) : ben_value(&d, out);
	if (rc) {
		*out = NULL;
		return rc;
	}
	*used = d.pos;
	return 0;
}

/* ---- encoding ---------------------------------------------------------------------- */

/* No ceiling of its own: the transport bounds what it sends. */
#define BN_OUT_MAX ((size_t)-1 / 2)

static void ben_bytes_out(struct outbuf *o, const char *s, size_t n)
{
	ob_printf(o, "%zu:", n);
	ob_put(o, s, n);
}

static int key_cmp(const void *x, const void *y)
{
	const struct bnode *a = *(struct bnode *const *)x;
	const struct bnode *b = *(struct bnode *const *)y;
	size_t n = a->klen < b->klen ? a->klen : b->klen;
	int c = memcmp(a->key, b->key, n);

	if (c)
		return c;
	return a->klen < b->klen ? -1 : a->klen > b->klen;
}

static void ben_out(struct outbuf *o, const struct bnode *n);

static void ben_dict_out(struct outbuf *o, const struct bnode *n)
{
	struct bnode **m = n->len ? malloc(n->len * sizeof(*m)) : NULL;
	size_t i = 0;

	if (n->len && !m) {
		o->full = 1;
		return;
	}
	for (struct bnode *c = n->child; c && i < n->len; c = c->next)
		m[i++] = c;
	if (i > 1)
		qsort(m, i, sizeof(*m), key_cmp);
	ob_put(o, "d", 1);
	for (size_t j = 0; j < i; j++) {
		ben_bytes_out(o, m[j]->key, m[j]->klen);
		ben_out(o, m[j]);
	}
	ob_put(o, "e", 1);
	free(m);
}

static void ben_out(struct outbuf *o, const struct bnode *n)
{
	switch (n->type) {
	case BN_INT:
		ob_printf(o, "i%llde", (long long)n->num);
		break;
	case BN_STR:
		ben_bytes_out(o, n->str, n->len);
		break;
	case BN_LIST:
		ob_put(o, "l", 1);
		for (struct bnode *c = n->child; c; c = c->next)
			ben_out(o, c);
		ob_put(o, "e", 1);
		break;
	case BN_DICT:
		ben_dict_out(o, n);
		break;
	}
}

static void json_out(struct outbuf *o, const struct bnode *n)
{
	int first = 1;

	switch (n->type) {
	case BN_INT:
		ob_printf(o, "%lld", (long long)n->num);
		return;
	case BN_STR:
		ob_json_strn(o, n->str, n->len);
		return;
	case BN_LIST:
	case BN_DICT:
		break;
	}
	ob_put(o, n->type == BN_DICT ? "{" : "[", 1);
	for (struct bnode *c = n->child; c; c = c->next) {
		if (!first)
			ob_put(o, ",", 1);
		first = 0;
		if (n->type == BN_DICT) {
			ob_json_strn(o, c->key, c->klen);
			ob_put(o, ":", 1);
		}
		json_out(o, c);
	}
	ob_put(o, n->type == BN_DICT ? "}" : "]", 1);
}

char *bn_encode(const struct bnode *n, enum bn_format f, size_t *len)
{
	struct outbuf o;

	ob_init(&o, BN_OUT_MAX);
	if (f == BN_JSON)
		json_out(&o, n);
	else
		ben_out(&o, n);
	if (o.full || !o.p) {
		ob_free(&o);
		return NULL;
	}
	*len = o.len;
	return o.p;
}
