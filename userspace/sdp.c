// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"
#include "sdp.h"

/* One line of the body, without its line ending. */
struct line {
	const char *p;
	size_t n;
};

/* Next line from *pos; returns 0 at the end of the body. */
static int next_line(const char **pos, const char *end, struct line *l)
{
	const char *nl;

	if (*pos >= end)
		return 0;
	nl = memchr(*pos, '\n', (size_t)(end - *pos));
	l->p = *pos;
	l->n = (size_t)((nl ? nl : end) - *pos);
	*pos = nl ? nl + 1 : end;
	if (l->n && l->p[l->n - 1] == '\r')
		l->n--;
	return 1;
}

static int line_is(const struct line *l, const char *prefix)
{
	size_t n = strlen(prefix);

	return l->n >= n && memcmp(l->p, prefix, n) == 0;
}

/* Copy a line's text after `skip` bytes into buf, NUL-terminated. */
static void line_text(const struct line *l, size_t skip, char *buf,
		      size_t len)
{
	size_t n = l->n > skip ? l->n - skip : 0;

	if (n >= len)
		n = len - 1;
	memcpy(buf, l->p + skip, n);
	buf[n] = 0;
}

static void seterr(char *err, size_t len, int lineno, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void seterr(char *err, size_t len, int lineno, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !len)
		return;
	n = snprintf(err, len, "SDP line %d: ", lineno);
	if (n < 0 || (size_t)n >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, len - (size_t)n, fmt, ap);
	va_end(ap);
}

/* "IN IP4 192.0.2.1" (an optional /ttl is ignored) into ss. */
static int parse_conn(const char *s, struct sockaddr_storage *ss, int *null)
{
	char nettype[8], atype[8], addr[64], *slash;

	if (sscanf(s, "%7s %7s %63s", nettype, atype, addr) != 3 ||
	    strcmp(nettype, "IN") != 0)
		return -1;
	slash = strchr(addr, '/');
	if (slash)
		*slash = 0;
	if (netaddr_parse_ip(addr, ss) < 0)
		return -1;
	if ((strcmp(atype, "IP4") == 0) != (ss->ss_family == AF_INET))
		return -1;
	*null = strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0;
	return 0;
}

static int parse_dir(const struct line *l, enum sdp_dir *d)
{
	static const char *const names[] = { "a=sendrecv", "a=sendonly",
					     "a=recvonly", "a=inactive" };

	for (int i = 0; i < 4; i++)
		if (l->n == strlen(names[i]) && line_is(l, names[i])) {
			*d = (enum sdp_dir)i;
			return 1;
		}
	return 0;
}

static int is_ice_attr(const struct line *l)
{
	return line_is(l, "a=candidate:") || line_is(l, "a=ice-ufrag:") ||
	       line_is(l, "a=ice-pwd:") || line_is(l, "a=ice-options:") ||
	       line_is(l, "a=remote-candidates:") ||
	       line_is(l, "a=end-of-candidates") || line_is(l, "a=ice-lite") ||
	       line_is(l, "a=ice-mismatch");
}

static int parse_m(const char *s, struct sdp_media *m)
{
	char type[16], port[16], proto[32], head[80], *slash, *end;
	unsigned long p;
	int n;

	if (sscanf(s, "%15s %15s %31s", type, port, proto) != 3)
		return -1;
	/* One space between the fields (RFC 8866 5.14), no truncated field:
	 * sdp_rewrite replaces exactly the text between the first two. */
	n = snprintf(head, sizeof(head), "%s %s %s", type, port, proto);
	if (strncmp(s, head, (size_t)n) != 0 || (s[n] != ' ' && s[n] != 0))
		return -1;
	slash = strchr(port, '/');
	if (slash)
		*slash = 0;
	p = strtoul(port, &end, 10);
	if (*end || end == port || p > 65535)
		return -1;
	snprintf(m->type, sizeof(m->type), "%s", type);
	snprintf(m->proto, sizeof(m->proto), "%s", proto);
	m->port = (unsigned)p;
	return 0;
}

/* The parse state that only matters while walking the lines. */
struct walk {
	struct sockaddr_storage sess_addr;
	int has_sess_addr, sess_null;
	enum sdp_dir sess_dir;
	int has_conn[SDP_MAX_MEDIA], has_dir[SDP_MAX_MEDIA];
	int m_lineno[SDP_MAX_MEDIA];
	int saw_v, saw_o;
};

static int parse_line(const struct line *l, int lineno, struct sdp *out,
		      struct walk *w, char *err, size_t errlen)
{
	struct sdp_media *m = out->nmedia ? &out->m[out->nmedia - 1] : NULL;
	char buf[256];
	int null = 0;

	if (l->n < 2 || l->p[1] != '=' || l->p[0] < 'a' || l->p[0] > 'z') {
		seterr(err, errlen, lineno, "not of the form x=value");
		return -1;
	}
	line_text(l, 2, buf, sizeof(buf));
	switch (l->p[0]) {
	case 'v':
		if (strcmp(buf, "0") != 0) {
			seterr(err, errlen, lineno, "unknown SDP version '%s'", buf);
			return -1;
		}
		w->saw_v = 1;
		return 0;
	case 'o': {
		char user[64], ntype[8], atype[8], addr[64];

		if (sscanf(buf, "%63s %llu %llu %7s %7s %63s", user,
			   &out->o_sess_id, &out->o_version, ntype, atype,
			   addr) != 6) {
			seterr(err, errlen, lineno, "o= needs 6 fields: username "
			       "sess-id sess-version nettype addrtype address");
			return -1;
		}
		w->saw_o = 1;
		return 0;
	}
	case 'c': {
		struct sockaddr_storage ss;

		if (parse_conn(buf, &ss, &null) < 0) {
			seterr(err, errlen, lineno, "c= is not 'IN IP4 address' "
			       "or 'IN IP6 address': '%s'", buf);
			return -1;
		}
		if (!m) {
			w->sess_addr = ss;
			w->has_sess_addr = 1;
			w->sess_null = null;
		} else {
			m->addr = ss;
			m->null_addr = null;
			w->has_conn[out->nmedia - 1] = 1;
		}
		return 0;
	}
	case 'm':
		if (out->nmedia == SDP_MAX_MEDIA) {
			seterr(err, errlen, lineno, "more than %d m= lines",
			       SDP_MAX_MEDIA);
			return -1;
		}
		w->m_lineno[out->nmedia] = lineno;
		m = &out->m[out->nmedia++];
		if (parse_m(buf, m) < 0) {
			seterr(err, errlen, lineno, "m= is not 'media port proto "
			       "fmt...': '%s'", buf);
			return -1;
		}
		return 0;
	case 'a':
		if (line_is(l, "a=rtcp:") && m) {
			char *end;
			unsigned long p = strtoul(buf + 5, &end, 10);

			if (end == buf + 5 || p == 0 || p > 65535) {
				seterr(err, errlen, lineno, "a=rtcp needs a port");
				return -1;
			}
			m->rtcp_port = (unsigned)p;
			m->has_rtcp_attr = 1;
		} else if (l->n == 10 && line_is(l, "a=rtcp-mux")) {
			if (m)
				m->rtcp_mux = 1;
		} else if (is_ice_attr(l)) {
			if (m)
				m->has_ice = 1;
		} else if (parse_dir(l, m ? &m->dir : &w->sess_dir)) {
			if (m)
				w->has_dir[out->nmedia - 1] = 1;
		}
		return 0;
	default:
		return 0; /* s=, t=, b=, k=, ... pass through */
	}
}

int sdp_parse(const char *body, size_t len, struct sdp *out, char *err,
	      size_t errlen)
{
	const char *pos = body, *end = body + len, *nul;
	struct walk w = { 0 };
	struct line l;
	int lineno = 0;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > SDP_MAX_LEN) {
		seterr(err, errlen, 0, "body is empty or larger than %d bytes",
		       SDP_MAX_LEN);
		return -1;
	}
	nul = memchr(body, 0, len);
	if (nul) {
		for (const char *p = body; p < nul; p++)
			lineno += *p == '\n';
		seterr(err, errlen, lineno + 1, "body contains a NUL byte");
		return -1;
	}
	while (next_line(&pos, end, &l)) {
		lineno++;
		if (l.n == 0)
			continue; /* tolerate blank lines (trailing CRLF) */
		if (parse_line(&l, lineno, out, &w, err, errlen) < 0)
			return -1;
		if (!w.saw_v) { /* the first line that is not blank */
			seterr(err, errlen, lineno, "an SDP body starts with v=0");
			return -1;
		}
	}
	if (!w.saw_o) {
		seterr(err, errlen, lineno, "no o= line");
		return -1;
	}
	for (int i = 0; i < out->nmedia; i++) {
		struct sdp_media *m = &out->m[i];

		if (!w.has_conn[i]) {
			if (!w.has_sess_addr && m->port) {
				seterr(err, errlen, w.m_lineno[i], "m= line %d "
				       "(%s) has no c= and there is no "
				       "session-level c=", i + 1, m->type);
				return -1;
			}
			m->addr = w.sess_addr;
			m->null_addr = w.sess_null;
		}
		netaddr_set_port((struct sockaddr *)&m->addr, (int)m->port);
		if (!m->has_rtcp_attr)
			m->rtcp_port = m->port ? m->port + 1 : 0;
		if (!w.has_dir[i])
			m->dir = w.sess_dir;
	}
	return 0;
}

/* A growing output buffer. */
struct out {
	char *p;
	size_t n, cap;
	int oom;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->n + n + 1 > o->cap) {
		size_t cap = (o->cap ? o->cap * 2 : 1024) + n;
		char *p = realloc(o->p, cap);

		if (!p) {
			o->oom = 1;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
	o->p[o->n] = 0;
}

static void putf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static const char *atype(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? "IP6" : "IP4";
}

/* o=user sess-id <version> IN <relay addr type> <relay addr> */
static void put_origin(struct out *o, const struct line *l,
		       const struct sdp_rewrite *rw, const struct sdp *parsed)
{
	char text[256], user[64] = "-", ip[48];
	const struct sockaddr_storage *a = &rw->m[0].addr;

	line_text(l, 2, text, sizeof(text)); /* the body is not NUL-ended */
	sscanf(text, "%63s", user);
	netaddr_ip_str((const struct sockaddr *)a, ip, sizeof(ip));
	putf(o, "o=%s %llu %llu IN %s %s\r\n", user, parsed->o_sess_id,
	     rw->o_version, atype(a), ip);
}

static void put_conn(struct out *o, const struct sockaddr_storage *a,
		     int keep_null, const struct line *orig)
{
	char ip[48];

	if (keep_null) { /* an RFC 2543 hold stays a hold */
		put(o, orig->p, orig->n);
		put(o, "\r\n", 2);
		return;
	}
	netaddr_ip_str((const struct sockaddr *)a, ip, sizeof(ip));
	putf(o, "c=IN %s %s\r\n", atype(a), ip);
}

char *sdp_rewrite(const char *body, size_t len, const struct sdp *parsed,
		  const struct sdp_rewrite *rw)
{
	const char *pos = body, *end = body + len;
	struct out o = { 0 };
	struct line l;
	int mi = -1;

	while (next_line(&pos, end, &l)) {
		const struct sdp_media *m = mi >= 0 ? &parsed->m[mi] : NULL;
		const struct sdp_rewrite_media *r = mi >= 0 ? &rw->m[mi] : NULL;

		if (l.n == 0)
			continue;
		if (line_is(&l, "o=")) {
			put_origin(&o, &l, rw, parsed);
		} else if (line_is(&l, "c=")) {
			/* Session level: the first stream's relay address. */
			int null = m ? m->null_addr : 0;

			if (!m) {
				struct sockaddr_storage ss;
				char text[256];

				line_text(&l, 2, text, sizeof(text));
				parse_conn(text, &ss, &null);
			}
			put_conn(&o, m ? &r->addr : &rw->m[0].addr, null, &l);
		} else if (line_is(&l, "m=")) {
			const char *sp1 = memchr(l.p, ' ', l.n), *sp2;

			mi++;
			m = &parsed->m[mi];
			r = &rw->m[mi];
			sp2 = sp1 ? memchr(sp1 + 1, ' ', l.n - (size_t)(sp1 + 1 - l.p)) : NULL;
			if (!sp2 || m->port == 0) {
				put(&o, l.p, l.n); /* rejected: unchanged */
			} else {
				put(&o, l.p, (size_t)(sp1 + 1 - l.p));
				putf(&o, "%d", netaddr_port((const struct sockaddr *)&r->addr));
				put(&o, sp2, l.n - (size_t)(sp2 - l.p));
			}
			put(&o, "\r\n", 2);
		} else if (line_is(&l, "a=rtcp:") && m) {
			char ip[48];

			if (m->rtcp_mux || m->port == 0)
				continue; /* muxed: RTCP rides the RTP port */
			netaddr_ip_str((const struct sockaddr *)&r->addr, ip,
				       sizeof(ip));
			putf(&o, "a=rtcp:%u IN %s %s\r\n", r->rtcp_port,
			     atype(&r->addr), ip);
		} else if (is_ice_attr(&l)) {
			continue; /* the relay is the only candidate */
		} else {
			put(&o, l.p, l.n);
			put(&o, "\r\n", 2);
		}
	}
	if (o.oom) {
		free(o.p);
		return NULL;
	}
	return o.p;
}

const char *sdp_dir_name(enum sdp_dir d)
{
	static const char *const n[] = { "sendrecv", "sendonly", "recvonly",
					 "inactive" };
	return (unsigned)d < 4 ? n[d] : "?";
}
