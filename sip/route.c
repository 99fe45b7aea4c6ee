// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "route.h"

/*
 * Lookup order: the longest non-empty prefix of the user, then the domain,
 * then the default route ("prefix:" alone). The default comes last even
 * though it is written as a prefix: were it tried with the prefixes, it
 * would match every request and no domain route could ever be reached.
 *
 * Prefix and domain routes are kept sorted, so a lookup is one binary
 * search per prefix length (a carrier's table of thousands of prefixes
 * stays cheap), and adding a duplicate is found where it would go.
 */
struct route {
	char *key;                    /* prefix or domain */
	char *next_hop;
};

struct table {
	struct route *v;
	size_t n, cap;
	int (*cmp)(const char *, const char *);
};

struct routes {
	struct table prefix;          /* non-empty prefixes, strcmp order */
	struct table domain;          /* strcasecmp order */
	char *default_hop;
	size_t prefix_max;            /* longest prefix, to bound the search */
};

struct routes *routes_new(void)
{
	struct routes *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return NULL;
	rt->prefix.cmp = strcmp;
	rt->domain.cmp = strcasecmp;
	return rt;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].key);
		free(t->v[i].next_hop);
	}
	free(t->v);
}

void routes_free(struct routes *rt)
{
	if (!rt)
		return;
	table_free(&rt->prefix);
	table_free(&rt->domain);
	free(rt->default_hop);
	free(rt);
}

/* Where key is, or would go: returns 1 if found; *at is the index. */
static int table_find(const struct table *t, const char *key, size_t *at)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = t->cmp(key, t->v[mid].key);

		if (!c) {
			*at = mid;
			return 1;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*at = lo;
	return 0;
}

static int table_insert(struct table *t, size_t at, const char *key,
			const char *next_hop)
{
	struct route r = { strdup(key), strdup(next_hop) };

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct route *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			goto nomem;
		t->v = v;
		t->cap = cap;
	}
	if (!r.key || !r.next_hop)
		goto nomem;
	memmove(&t->v[at + 1], &t->v[at], (t->n - at) * sizeof(t->v[0]));
	t->v[at] = r;
	t->n++;
	return 0;
nomem:
	free(r.key);
	free(r.next_hop);
	return -ENOMEM;
}

/* ---- parsing ------------------------------------------------------------ */

static int seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

#define PREFIX_MAX 64                 /* longer is no phone number prefix */

#define EXAMPLES "(e.g. \"prefix:+4420 sip:10.0.0.5:5060\" or " \
		 "\"domain:example.net sip:gw.example.net\")"

static int is_host_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

/* host[:port] at p, up to ';', '?' or the end; returns a problem or NULL. */
static const char *check_hostport(const char *p)
{
	const char *h = p;
	char *end;
	long port;

	if (*p == '[') {
		p = strchr(p, ']');
		if (!p || p == h + 1)
			return "an IPv6 host needs its closing ']' "
			       "(write sip:[2001:db8::1]:5060)";
		p++;
	} else {
		while (is_host_char(*p))
			p++;
		if (p == h)
			return "has no host (write sip:HOST or sip:HOST:PORT)";
	}
	if (*p == ':') {
		port = strtol(p + 1, &end, 10);
		if (end == p + 1 || port < 1 || port > 65535 ||
		    !isdigit((unsigned char)p[1]))
			return "has a bad port (write a port from 1 to 65535 "
			       "after the host)";
		p = end;
	}
	if (*p && *p != ';' && *p != '?')
		return "has a character that cannot be in a host name "
		       "(write sip:HOST[:PORT][;params])";
	return NULL;
}

static int check_next_hop(const char *hop, char *err, size_t errlen)
{
	const char *p, *at, *problem;

	if (strncasecmp(hop, "sip:", 4) == 0)
		p = hop + 4;
	else if (strncasecmp(hop, "sips:", 5) == 0)
		p = hop + 5;
	else
		return seterr(err, errlen, "next hop \"%s\" is not a SIP URI: "
			      "it must start with sip: or sips: " EXAMPLES,
			      hop);
	/* A user part is allowed (a gateway may want sip:trunk@gw); the host
	 * follows the last '@' before any parameter. */
	at = strchr(p, '@');
	if (at && at < p + strcspn(p, ";?"))
		p = at + 1;
	problem = check_hostport(p);
	if (problem)
		return seterr(err, errlen, "next hop \"%s\" %s", hop, problem);
	return 0;
}

static int check_prefix(const char *prefix, char *err, size_t errlen)
{
	if (strlen(prefix) > PREFIX_MAX)
		return seterr(err, errlen, "prefix \"%.20s...\" is longer than "
			      "%d characters (shorten it)", prefix, PREFIX_MAX);
	for (const char *p = prefix; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '@' || *p == ':' ||
		    *p == 0x7f)
			return seterr(err, errlen, "prefix \"%s\" has a "
				      "character that cannot be in a user "
				      "part (use digits, + * #, or letters)",
				      prefix);
	return 0;
}

static int check_domain(const char *domain, char *err, size_t errlen)
{
	const char *p = domain;

	if (!*p)
		return seterr(err, errlen, "\"domain:\" needs a domain name "
			      EXAMPLES);
	if (*p == '[') {
		if (p[strlen(p) - 1] == ']' && strlen(p) > 2)
			return 0;
	} else {
		while (is_host_char(*p))
			p++;
		if (!*p)
			return 0;
	}
	return seterr(err, errlen, "domain \"%s\" is not a host name (write "
		      "domain:example.net, without user, port or "
		      "parameters)", domain);
}

/* Split spec into its two words; returns -EINVAL with err otherwise. */
static int split_spec(char *s, char **match, char **hop, char *err,
		      size_t errlen)
{
	char *extra;

	*match = s + strspn(s, " \t");
	*hop = *match + strcspn(*match, " \t");
	if (!**match)
		return seterr(err, errlen, "empty route " EXAMPLES);
	if (!**hop)
		return seterr(err, errlen, "route \"%s\" has no next hop "
			      EXAMPLES, *match);
	*(*hop)++ = 0;
	*hop += strspn(*hop, " \t");
	extra = *hop + strcspn(*hop, " \t");
	if (*extra)
		*extra++ = 0;
	extra += strspn(extra, " \t");
	if (*extra)
		return seterr(err, errlen, "unexpected \"%s\" after the next "
			      "hop %s (one match and one next hop per route)",
			      extra, *hop);
	return 0;
}

/* ---- adding, lookup ----------------------------------------------------- */

static int add_default(struct routes *rt, const char *hop, char *err,
		       size_t errlen)
{
	if (rt->default_hop)
		return seterr(err, errlen, "a default route (\"prefix:\") to "
			      "%s exists already (keep one of the two)",
			      rt->default_hop);
	rt->default_hop = strdup(hop);
	return rt->default_hop ? 0 : -ENOMEM;
}

static int add_keyed(struct table *t, const char *kind, const char *key,
		     const char *hop, char *err, size_t errlen)
{
	size_t at;

	if (table_find(t, key, &at))
		return seterr(err, errlen, "%s:%s is already routed to %s "
			      "(keep one of the two routes)", kind,
			      t->v[at].key, t->v[at].next_hop);
	return table_insert(t, at, key, hop);
}

static int add_parsed(struct routes *rt, char *match, const char *hop,
		      char *err, size_t errlen)
{
	int ret;

	if (check_next_hop(hop, err, errlen))
		return -EINVAL;
	if (strncasecmp(match, "prefix:", 7) == 0) {
		match += 7;
		if (!*match)
			return add_default(rt, hop, err, errlen);
		if (check_prefix(match, err, errlen))
			return -EINVAL;
		ret = add_keyed(&rt->prefix, "prefix", match, hop, err,
				errlen);
		if (!ret && strlen(match) > rt->prefix_max)
			rt->prefix_max = strlen(match);
		return ret;
	}
	if (strncasecmp(match, "domain:", 7) == 0) {
		match += 7;
		if (check_domain(match, err, errlen))
			return -EINVAL;
		return add_keyed(&rt->domain, "domain", match, hop, err,
				 errlen);
	}
	return seterr(err, errlen, "route \"%s\" must start with prefix: or "
		      "domain: " EXAMPLES, match);
}

int routes_add(struct routes *rt, const char *spec, char *err, size_t errlen)
{
	char *copy, *match, *hop;
	int ret;

	if (!spec)
		return seterr(err, errlen, "empty route " EXAMPLES);
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	ret = split_spec(copy, &match, &hop, err, errlen);
	if (!ret)
		ret = add_parsed(rt, match, hop, err, errlen);
	if (ret == -ENOMEM)
		seterr(err, errlen, "out of memory adding a route");
	free(copy);
	return ret;
}

static const char *lookup_prefix(const struct routes *rt, const char *user)
{
	size_t n = strlen(user), at;
	char key[PREFIX_MAX + 1];

	if (n > rt->prefix_max)
		n = rt->prefix_max;  /* never above PREFIX_MAX */
	memcpy(key, user, n);
	for (; n > 0; n--) {
		key[n] = 0;
		if (table_find(&rt->prefix, key, &at))
			return rt->prefix.v[at].next_hop;
	}
	return NULL;
}

const char *routes_lookup(const struct routes *rt, const char *user,
			  const char *host)
{
	const char *hop = NULL;
	size_t at;

	if (user)
		hop = lookup_prefix(rt, user);
	if (!hop && host && table_find(&rt->domain, host, &at))
		hop = rt->domain.v[at].next_hop;
	return hop ? hop : rt->default_hop;
}

unsigned routes_count(const struct routes *rt)
{
	return (unsigned)(rt->prefix.n + rt->domain.n + !!rt->default_hop);
}
