// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <osipparser2/osip_md5.h>

#include "auth.h"
#include "digest.h"

/*
 * Nonce = 16 hex digits of the issue time (the caller's ms clock) followed
 * by hex(MD5(time-hex ":" secret-hex)), 48 characters. The secret is drawn
 * at load, so a nonce proves we issued it at that time without storing it;
 * a restart changes the secret and the old nonces then fail.
 *
 * Replay: nonces that were answered correctly sit in a ring of SEEN_MAX
 * entries (with a hash index) holding the highest nc used. A nonce pushed
 * out of the ring could be replayed as new, so the issue time of the
 * newest nonce ever pushed out is kept, and a nonce not in the ring but
 * not newer than that is answered STALE (a fresh challenge, never access).
 * Without qop there is no nc: such a nonce is good once; using it again
 * gets STALE rather than FAILED, because RFC 2069 phones legitimately
 * reuse their last nonce on the next REGISTER and a 403 would make them
 * give up, while a fresh challenge costs an attacker replaying it nothing
 * but gives him nothing either.
 *
 * Not thread-safe: one auth belongs to the SIP thread.
 */
#define NONCE_TS_LEN 16
#define NONCE_LEN (NONCE_TS_LEN + DIGEST_HEX_LEN)
#define NONCE_LIFETIME_MS (300 * 1000ULL)
#define SECRET_LEN 16
#define SEEN_MAX 4096                 /* answered nonces remembered */
#define SEEN_BUCKETS 4096             /* a power of two */
#define NC_NO_QOP UINT32_MAX          /* nc of a nonce used without qop */
#define HEADER_MAX 4096               /* longest Authorization value */

struct user {
	char *name;
	char ha1[DIGEST_HEX_LEN + 1];
	int line;                     /* in the users file, for messages */
};

struct users {
	struct user *v;               /* sorted by name */
	size_t n;
};

struct seen {
	char nonce[NONCE_LEN + 1];
	uint64_t ts;
	uint32_t nc;                  /* highest nc accepted, or NC_NO_QOP */
	int32_t next;                 /* hash chain; -1 ends it */
};

struct auth {
	char *realm;
	struct users users;
	uint8_t secret[SECRET_LEN];
	char dummy_ha1[DIGEST_HEX_LEN + 1]; /* for unknown users, see below */
	struct seen seen[SEEN_MAX];   /* a ring in insertion order */
	int32_t bucket[SEEN_BUCKETS];
	unsigned nseen, seen_pos;     /* filled entries; next to write */
	int evicted;                  /* has any entry left the ring? */
	uint64_t evicted_ts;          /* newest issue time that left it */
	unsigned nonce_seq;           /* tells apart nonces of one ms */
};

/* ---- digest ------------------------------------------------------------- */

static void hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = 0;
}

/* hex(MD5(parts[0] ":" parts[1] ":" ... )) */
static void md5_join(char out[DIGEST_HEX_LEN + 1], int n,
		     const char *const *parts)
{
	osip_MD5_CTX ctx;
	uint8_t md[16];

	osip_MD5Init(&ctx);
	for (int i = 0; i < n; i++) {
		if (i)
			osip_MD5Update(&ctx, (unsigned char *)":", 1);
		osip_MD5Update(&ctx, (unsigned char *)parts[i],
			       (unsigned)strlen(parts[i]));
	}
	osip_MD5Final(md, &ctx);
	hex(md, sizeof(md), out);
}

void digest_md5_hex(const void *data, size_t len, char out[DIGEST_HEX_LEN + 1])
{
	osip_MD5_CTX ctx;
	uint8_t md[16];

	osip_MD5Init(&ctx);
	osip_MD5Update(&ctx, (unsigned char *)data, (unsigned)len);
	osip_MD5Final(md, &ctx);
	hex(md, sizeof(md), out);
}

void digest_ha1(const char *user, const char *realm, const char *password,
		char out[DIGEST_HEX_LEN + 1])
{
	const char *p[] = { user, realm, password };

	md5_join(out, 3, p);
}

void digest_response(const char *ha1, const char *nonce, const char *nc,
		     const char *cnonce, const char *qop, const char *method,
		     const char *uri, char out[DIGEST_HEX_LEN + 1])
{
	char ha2[DIGEST_HEX_LEN + 1];
	const char *m[] = { method, uri };

	md5_join(ha2, 2, m);
	if (qop) {
		const char *p[] = { ha1, nonce, nc, cnonce, qop, ha2 };

		md5_join(out, 6, p);
	} else {
		const char *p[] = { ha1, nonce, ha2 };

		md5_join(out, 3, p);
	}
}

/* Compare two 32-digit hashes in time independent of where they differ. */
static int hash_equal(const char *a, const char *b)
{
	unsigned diff = 0;

	for (int i = 0; i < DIGEST_HEX_LEN; i++)
		diff |= (unsigned)(a[i] ^ b[i]);
	return diff == 0;
}

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return s[n] == 0;
}

/* ---- users file --------------------------------------------------------- */

/* Fill err (if any); returns -1 so that a parser can return it. */
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
	return -1;
}

static void users_free(struct users *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->v[i].name);
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

static int bad_char(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == '"' || *s == '\\' ||
		    *s == 0x7f)
			return 1;
	return 0;
}

/*
 * One "user:realm:secret" line: the name (in place) and its HA1. The
 * secret is everything after the second colon, so a password may contain
 * colons; 32 hex digits are taken as HA1. Returns 0, or -1 with the
 * problem and its fix in why.
 */
static int parse_user_line(char *line, const char *realm, char **name,
			   char ha1[DIGEST_HEX_LEN + 1], char *why,
			   size_t whylen)
{
	char *c1 = strchr(line, ':'), *c2, *secret;

	if (!c1)
		return seterr(why, whylen, "missing ':' after the user name "
			      "(write user:realm:password)");
	*c1 = 0;
	if (!*line)
		return seterr(why, whylen, "empty user name (write "
			      "user:realm:password)");
	if (bad_char(line))
		return seterr(why, whylen, "the user name contains a space, "
			      "quote, backslash or control character (remove "
			      "it)");
	c2 = strchr(c1 + 1, ':');
	if (!c2)
		return seterr(why, whylen, "missing the second ':' (write "
			      "user:realm:password)");
	*c2 = 0;
	if (strcmp(c1 + 1, realm) != 0)
		return seterr(why, whylen, "realm \"%s\" is not the configured "
			      "realm \"%s\", so this user could never log in "
			      "(fix the realm on this line or in the config)",
			      c1 + 1, realm);
	secret = c2 + 1;
	if (!*secret)
		return seterr(why, whylen, "empty password (write "
			      "user:realm:password, or user:realm:HA1 with 32 "
			      "hex digits)");
	*name = line;
	if (strlen(secret) == DIGEST_HEX_LEN &&
	    is_hex(secret, DIGEST_HEX_LEN)) {
		for (int i = 0; i < DIGEST_HEX_LEN; i++)
			ha1[i] = (char)tolower((unsigned char)secret[i]);
		ha1[DIGEST_HEX_LEN] = 0;
	} else {
		digest_ha1(line, realm, secret, ha1);
	}
	return 0;
}

static int user_cmp(const void *a, const void *b)
{
	const struct user *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->line - y->line;
}

static int users_add(struct users *u, size_t *cap, const char *name,
		     const char *ha1, int line)
{
	if (u->n == *cap) {
		size_t n = *cap ? *cap * 2 : 64;
		struct user *v = realloc(u->v, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		u->v = v;
		*cap = n;
	}
	u->v[u->n].name = strdup(name);
	if (!u->v[u->n].name)
		return -ENOMEM;
	memcpy(u->v[u->n].ha1, ha1, sizeof(u->v[u->n].ha1));
	u->v[u->n].line = line;
	u->n++;
	return 0;
}

/* Sort for bsearch, and refuse a user defined twice (which one would win
 * is not obvious to whoever edits the file). */
static int users_sort(struct users *u, const char *path, char *err,
		      size_t errlen)
{
	if (u->n)
		qsort(u->v, u->n, sizeof(u->v[0]), user_cmp);
	for (size_t i = 1; i < u->n; i++) {
		if (strcmp(u->v[i - 1].name, u->v[i].name) != 0)
			continue;
		seterr(err, errlen, "%s:%d: user \"%s\" is already defined on "
		       "line %d (remove one of the two lines)", path,
		       u->v[i].line, u->v[i].name, u->v[i - 1].line);
		return -EINVAL;
	}
	return 0;
}

static int is_blank_or_comment(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return !*s || *s == '#';
}

static int users_read(FILE *f, const char *path, const char *realm,
		      struct users *u, char *err, size_t errlen)
{
	char *line = NULL, *name = NULL, ha1[DIGEST_HEX_LEN + 1];
	size_t linecap = 0, cap = 0;
	ssize_t n;
	int lineno = 0, ret = 0;

	while ((n = getline(&line, &linecap, f)) >= 0) {
		char why[512];
		int bad;

		lineno++;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (is_blank_or_comment(line))
			continue;
		if ((size_t)n != strlen(line))
			bad = seterr(why, sizeof(why), "a NUL byte in the line "
				     "(is this a text file?)");
		else
			bad = parse_user_line(line, realm, &name, ha1, why,
					      sizeof(why));
		if (bad) {
			seterr(err, errlen, "%s:%d: %s", path, lineno, why);
			ret = -EINVAL;
			break;
		}
		if ((ret = users_add(u, &cap, name, ha1, lineno))) {
			seterr(err, errlen, "%s:%d: out of memory", path,
			       lineno);
			break;
		}
	}
	if (!ret && ferror(f)) {
		seterr(err, errlen, "%s: read error: %s", path,
		       strerror(errno));
		ret = -EIO;
	}
	free(line);
	return ret;
}

/* Read path into u; on error u is empty and err says why. */
static int users_load(const char *path, const char *realm, struct users *u,
		      char *err, size_t errlen)
{
	FILE *f;
	int ret;

	memset(u, 0, sizeof(*u));
	if (!path || !*path) {
		seterr(err, errlen, "no users file given (set the path of a "
		       "file of user:realm:password lines)");
		return -EINVAL;
	}
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		seterr(err, errlen, "%s: cannot open the users file: %s (check "
		       "the path and that xrelayd may read it)", path,
		       strerror(errno));
		return ret;
	}
	ret = users_read(f, path, realm, u, err, errlen);
	fclose(f);
	if (!ret)
		ret = users_sort(u, path, err, errlen);
	if (ret)
		users_free(u);
	return ret;
}

static const struct user *user_find(const struct users *u, const char *name)
{
	size_t lo = 0, hi = u->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, u->v[mid].name);

		if (!c)
			return &u->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- load, reload ------------------------------------------------------- */

struct auth *auth_load(const char *path, const char *realm, char *err,
		       size_t errlen)
{
	struct auth *a;

	if (!realm || !*realm || bad_char(realm)) {
		seterr(err, errlen, "realm \"%s\" is empty or has a space, "
		       "quote, backslash or control character (set a realm "
		       "such as the SIP domain)", realm ? realm : "");
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a || !(a->realm = strdup(realm))) {
		seterr(err, errlen, "out of memory");
		free(a);
		return NULL;
	}
	if (getrandom(a->secret, sizeof(a->secret), 0) != sizeof(a->secret)) {
		seterr(err, errlen, "getrandom for the nonce secret: %s",
		       strerror(errno));
		auth_free(a);
		return NULL;
	}
	/* Unknown users are checked against a hash nobody knows, so that
	 * they take as long as wrong passwords. */
	digest_md5_hex(a->secret, sizeof(a->secret), a->dummy_ha1);
	for (int i = 0; i < SEEN_BUCKETS; i++)
		a->bucket[i] = -1;
	if (users_load(path, realm, &a->users, err, errlen)) {
		auth_free(a);
		return NULL;
	}
	return a;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	users_free(&a->users);
	free(a->realm);
	free(a);
}

int auth_reload(struct auth *a, const char *path, char *err, size_t errlen)
{
	struct users u;
	int ret = users_load(path, a->realm, &u, err, errlen);

	if (ret)
		return ret;
	users_free(&a->users);
	a->users = u;
	return 0;
}

unsigned auth_user_count(const struct auth *a)
{
	return (unsigned)a->users.n;
}

/* ---- nonces ------------------------------------------------------------- */

static void nonce_mac(const struct auth *a, const char *ts_hex,
		      char out[DIGEST_HEX_LEN + 1])
{
	char secret[2 * SECRET_LEN + 1];
	const char *p[] = { ts_hex, secret };

	hex(a->secret, SECRET_LEN, secret);
	md5_join(out, 2, p);
}

/* The stamp is the issue time in ms with a 12-bit sequence below it:
 * two challenges in one millisecond must not share a nonce, or the replay
 * table would take the second client's nc=1 for a replay. */
#define NONCE_SEQ_BITS 12

static void nonce_make(struct auth *a, uint64_t now_ms,
		       char out[NONCE_LEN + 1])
{
	uint64_t stamp = now_ms << NONCE_SEQ_BITS |
			 (a->nonce_seq++ & ((1u << NONCE_SEQ_BITS) - 1));

	snprintf(out, NONCE_TS_LEN + 1, "%016" PRIx64, stamp);
	nonce_mac(a, out, out + NONCE_TS_LEN);
}

/* Is nonce one of ours? Sets *ts to its issue time. */
static int nonce_verify(const struct auth *a, const char *nonce, uint64_t *ts)
{
	char ts_hex[NONCE_TS_LEN + 1], mac[DIGEST_HEX_LEN + 1];

	if (strlen(nonce) != NONCE_LEN || !is_hex(nonce, NONCE_LEN))
		return 0;
	memcpy(ts_hex, nonce, NONCE_TS_LEN);
	ts_hex[NONCE_TS_LEN] = 0;
	nonce_mac(a, ts_hex, mac);
	if (!hash_equal(mac, nonce + NONCE_TS_LEN))
		return 0;
	*ts = strtoull(ts_hex, NULL, 16) >> NONCE_SEQ_BITS;
	return 1;
}

int auth_challenge(struct auth *a, uint64_t now_ms, int stale, char *buf,
		   size_t len)
{
	char nonce[NONCE_LEN + 1];
	int n;

	nonce_make(a, now_ms, nonce);
	n = snprintf(buf, len, "Digest realm=\"%s\", nonce=\"%s\", "
		     "algorithm=MD5, qop=\"auth\"%s", a->realm, nonce,
		     stale ? ", stale=true" : "");
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

static unsigned seen_hash(const char *nonce)
{
	/* The MAC half is uniformly distributed: its first digits will do. */
	char b[9];

	memcpy(b, nonce + NONCE_TS_LEN, 8);
	b[8] = 0;
	return (unsigned)strtoul(b, NULL, 16) & (SEEN_BUCKETS - 1);
}

static struct seen *seen_find(struct auth *a, const char *nonce)
{
	for (int32_t i = a->bucket[seen_hash(nonce)]; i >= 0;
	     i = a->seen[i].next)
		if (strcmp(a->seen[i].nonce, nonce) == 0)
			return &a->seen[i];
	return NULL;
}

/* Push the oldest entry out of the ring, remembering its issue time. */
static void seen_evict(struct auth *a, int32_t i)
{
	int32_t *p = &a->bucket[seen_hash(a->seen[i].nonce)];

	while (*p != i)
		p = &a->seen[*p].next;
	*p = a->seen[i].next;
	if (!a->evicted || a->seen[i].ts > a->evicted_ts)
		a->evicted_ts = a->seen[i].ts;
	a->evicted = 1;
}

static void seen_add(struct auth *a, const char *nonce, uint64_t ts,
		     uint32_t nc)
{
	int32_t i = (int32_t)a->seen_pos;
	struct seen *s = &a->seen[i];
	unsigned h = seen_hash(nonce);

	if (a->nseen == SEEN_MAX)
		seen_evict(a, i);
	else
		a->nseen++;
	a->seen_pos = (a->seen_pos + 1) % SEEN_MAX;
	memcpy(s->nonce, nonce, NONCE_LEN + 1);
	s->ts = ts;
	s->nc = nc;
	s->next = a->bucket[h];
	a->bucket[h] = i;
}

/* The replay check of a correct response; records the use on success. */
static enum auth_result nonce_use(struct auth *a, const char *nonce,
				  uint64_t ts, int qop, uint32_t nc)
{
	struct seen *s = seen_find(a, nonce);

	if (!qop)
		nc = NC_NO_QOP;
	else if (nc == 0)
		return AUTH_FAILED;  /* nc counts from 1 */
	if (s) {
		if (!qop)
			return AUTH_STALE;  /* RFC 2069 reuse: see the top */
		if (nc <= s->nc)
			return AUTH_FAILED; /* a replayed or reordered nc */
		s->nc = nc;
		return AUTH_OK;
	}
	if (a->evicted && ts <= a->evicted_ts)
		return AUTH_STALE;      /* may have been used: can't tell */
	seen_add(a, nonce, ts, nc);
	return AUTH_OK;
}

/* ---- the Authorization header ------------------------------------------- */

struct creds {
	const char *username, *realm, *nonce, *uri, *response;
	const char *algorithm, *cnonce, *qop, *nc;
};

static int is_tchar(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static char *skip_lws(char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* A quoted-string at *pp (at its opening quote), unescaped in place.
 * Returns the value or NULL if the closing quote is missing. */
static char *parse_quoted(char **pp)
{
	char *r = *pp + 1, *w = *pp, *v = w;

	for (; *r != '"'; r++) {
		if (!*r)
			return NULL;
		if (*r == '\\' && !*++r)
			return NULL;
		*w++ = *r;
	}
	*w = 0;
	*pp = r + 1;
	return v;
}

/* A token value: up to a comma or white space (cut by the caller). */
static char *parse_token(char **pp)
{
	char *v = *pp, *p = v;

	while (*p && *p != ',' && *p != ' ' && *p != '\t' && *p != '"')
		p++;
	if (p == v)
		return NULL;
	*pp = p;
	return v;
}

static const char **creds_field(struct creds *c, const char *name)
{
	static const struct {
		const char *name;
		size_t off;
	} f[] = {
		{ "username", offsetof(struct creds, username) },
		{ "realm", offsetof(struct creds, realm) },
		{ "nonce", offsetof(struct creds, nonce) },
		{ "uri", offsetof(struct creds, uri) },
		{ "response", offsetof(struct creds, response) },
		{ "algorithm", offsetof(struct creds, algorithm) },
		{ "cnonce", offsetof(struct creds, cnonce) },
		{ "qop", offsetof(struct creds, qop) },
		{ "nc", offsetof(struct creds, nc) },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcasecmp(name, f[i].name) == 0)
			return (const char **)((char *)c + f[i].off);
	return NULL;  /* opaque and extensions: not ours to check */
}

/* One name=value, cut out of the buffer in place; returns 0 or -1 if
 * malformed. */
static int parse_param(char **pp, struct creds *c)
{
	char *p = *pp, *name = p, *name_end, *value, *value_end = NULL;
	const char **field;

	while (is_tchar(*p))
		p++;
	if (p == name)
		return -1;
	name_end = p;
	p = skip_lws(p);
	if (*p != '=')
		return -1;
	p = skip_lws(p + 1);
	if (*p == '"') {
		value = parse_quoted(&p);   /* cut already */
	} else {
		value = parse_token(&p);
		value_end = p;
	}
	if (!value)
		return -1;
	p = skip_lws(p);
	if (*p && *p != ',')
		return -1;
	if (*p)
		p++;
	/* Cut only now: the cuts may fall on the '=' or the comma that the
	 * reads above had to see. */
	*name_end = 0;
	if (value_end)
		*value_end = 0;
	field = creds_field(c, name);
	if (field) {
		if (*field)
			return -1;  /* twice: which one would count? */
		*field = value;
	}
	*pp = p;
	return 0;
}

static int parse_creds(char *buf, struct creds *c)
{
	char *p = skip_lws(buf);

	memset(c, 0, sizeof(*c));
	if (strncasecmp(p, "Digest", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return -1;
	p += 6;
	for (;;) {
		p = skip_lws(p);
		while (*p == ',')          /* empty list elements are legal */
			p = skip_lws(p + 1);
		if (!*p)
			break;
		if (parse_param(&p, c))
			return -1;
	}
	return 0;
}

/* Parsed and complete? qop=auth needs nc (8 hex digits) and cnonce. */
static int creds_complete(const struct creds *c)
{
	if (!c->username || !c->realm || !c->nonce || !c->uri ||
	    !c->response || strlen(c->response) != DIGEST_HEX_LEN ||
	    !is_hex(c->response, DIGEST_HEX_LEN))
		return 0;
	if (!c->qop)
		return 1;  /* RFC 2069: nc and cnonce, if any, are unused */
	return c->nc && strlen(c->nc) == 8 && is_hex(c->nc, 8) &&
	       c->cnonce && *c->cnonce;
}

/* Does the client's response match the one for ha1? */
static int response_ok(const struct creds *c, const char *ha1,
		       const char *method)
{
	char want[DIGEST_HEX_LEN + 1], got[DIGEST_HEX_LEN + 1];

	digest_response(ha1, c->nonce, c->nc, c->cnonce, c->qop, method,
			c->uri, want);
	for (int i = 0; i <= DIGEST_HEX_LEN; i++)
		got[i] = (char)tolower((unsigned char)c->response[i]);
	return hash_equal(want, got);
}

enum auth_result auth_check(struct auth *a, const char *header,
			    const char *method, uint64_t now_ms,
			    char *user, size_t userlen)
{
	char buf[HEADER_MAX];
	const struct user *u;
	struct creds c;
	uint64_t ts;
	enum auth_result res;
	int ok;

	if (!header)
		return AUTH_MISSING;
	if (strlen(header) >= sizeof(buf) || !method)
		return AUTH_MALFORMED;
	strcpy(buf, header);
	if (parse_creds(buf, &c) || !creds_complete(&c))
		return AUTH_MALFORMED;
	/* We offer MD5 with qop=auth only: anything else cannot be ours. */
	if (c.algorithm && strcasecmp(c.algorithm, "MD5") != 0)
		return AUTH_FAILED;
	if (c.qop && strcmp(c.qop, "auth") != 0)
		return AUTH_FAILED;
	if (strcmp(c.realm, a->realm) != 0 || !nonce_verify(a, c.nonce, &ts))
		return AUTH_FAILED;
	u = user_find(&a->users, c.username);
	ok = response_ok(&c, u ? u->ha1 : a->dummy_ha1, method);
	if (!u || !ok)
		return AUTH_FAILED;
	/* The client knows the password: an old nonce only needs a new one. */
	if (ts > now_ms || now_ms - ts > NONCE_LIFETIME_MS)
		return AUTH_STALE;
	res = nonce_use(a, c.nonce, ts, c.qop != NULL,
			c.qop ? (uint32_t)strtoul(c.nc, NULL, 16) : 0);
	if (res != AUTH_OK)
		return res;
	if (user && userlen)
		snprintf(user, userlen, "%s", c.username);
	return AUTH_OK;
}
