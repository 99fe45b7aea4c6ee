/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A strict JSON well-formedness check (RFC 8259) for the tests of what
 * xrelay prints with --json: one value, nothing but whitespace after it.
 * Returns NULL when s is valid, else a pointer to the first bad byte.
 */
#ifndef XRELAY_TEST_JSON_CHECK_H
#define XRELAY_TEST_JSON_CHECK_H

#include <string.h>

static const char *jc_value(const char *p, int depth);

static const char *jc_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *jc_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p++ != '\\')
			continue;
		if (*p == 'u') {
			for (int i = 1; i <= 4; i++)
				if (!strchr("0123456789abcdefABCDEF", p[i]) ||
				    !p[i])
					return NULL;
			p += 5;
		} else if (*p && strchr("\"\\/bfnrt", *p)) {
			p++;
		} else {
			return NULL;
		}
	}
	return p + 1;
}

static const char *jc_number(const char *p)
{
	const char *s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		s = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == s)
			return NULL;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		s = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == s)
			return NULL;
	}
	return p;
}

static const char *jc_members(const char *p, int depth, int object)
{
	char close = object ? '}' : ']';

	p = jc_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (object) {
			if (!(p = jc_string(p)))
				return NULL;
			p = jc_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		if (!(p = jc_value(p, depth + 1)))
			return NULL;
		p = jc_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
		p = jc_ws(p);
	}
}

static const char *jc_value(const char *p, int depth)
{
	p = jc_ws(p);
	if (depth > 64)
		return NULL;
	if (*p == '{' || *p == '[')
		return jc_members(p, depth, *p == '{');
	if (*p == '"')
		return jc_string(p);
	if (!strncmp(p, "true", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (!strncmp(p, "null", 4))
		return p + 4;
	return jc_number(p);
}

/* NULL: valid JSON; else where it went wrong (or s itself). */
static inline const char *json_check(const char *s)
{
	const char *e = jc_value(s, 0);

	if (!e)
		return s;
	e = jc_ws(e);
	return *e ? e : NULL;
}

#endif
