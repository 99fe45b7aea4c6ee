// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "log.h"
#include "netaddr.h"
#include "sipmsg.h"

void sb_add(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
		char *p = realloc(b->p, cap);

		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

void sb_free(struct sb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* libosip2 writes its own line to stderr for every parse error; xrelay
 * logs the message and the reason itself, so its trace goes to our log at
 * debug level only. */
static void osip_to_log(const char *file, int line, osip_trace_level_t level,
			const char *fmt, va_list ap)
{
	char buf[256];

	(void)file, (void)line, (void)level;
	if (log_get_level() < LOG_DEBUG)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\r\n")] = 0;
	log_debug("osip: %s", buf);
}

void sipmsg_init(void)
{
	static int done;

	if (!done) {
		parser_init();
		osip_trace_initialize_func(END_TRACE_LEVEL - 1, osip_to_log);
		done = 1;
	}
}

/* 1*DIGIT below max (leading zeros allowed, white space around not). */
static int number_below(const char *s, unsigned long max)
{
	unsigned long v = 0;

	if (!s || !*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v >= max)
			return 0;
	}
	return 1;
}

/* The value of a header line at p (name: value, or folded onto the next
 * line), or NULL if the line is not name's (or its compact form c). */
static const char *hdr_value(const char *p, const char *end, const char *name,
			     char c)
{
	size_t n = strlen(name), i = 0;

	while (p + i < end && p[i] != ':' && p[i] != '\n')
		i++;
	if (p + i == end || p[i] != ':')
		return NULL;
	while (i && (p[i - 1] == ' ' || p[i - 1] == '\t'))
		i--;
	if (!(i == n && !strncasecmp(p, name, n)) &&
	    !(i == 1 && tolower((unsigned char)*p) == c))
		return NULL;
	p = memchr(p, ':', (size_t)(end - p)) + 1;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
			   *p == '\n'))
		p++;
	return p;
}

int sipmsg_osip_parse(osip_message_t *m, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *v;
	char *copy = NULL, was[10];
	int rc;

	/* Past the start line, up to the blank line: each Content-Type. */
	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) &&
	       ++p < end && *p != '\r' && *p != '\n') {
		if (*p == ' ' || *p == '\t' ||
		    !(v = hdr_value(p, end, "content-type", 'c')) ||
		    end - v < 9 || strncasecmp(v, "multipart", 9))
			continue;
		if (!copy && !(copy = malloc(len + 1)))
			return OSIP_NOMEM;
		if (copy != buf) { /* from here on, the copy */
			memcpy(copy, buf, len);
			copy[len] = 0;
			p = copy + (p - buf);
			v = copy + (v - buf);
			end = copy + len;
			buf = copy;
		}
		memcpy(was, v, 9);
		was[9] = 0;
		memcpy((char *)v, "Xmultipar", 9); /* any other token */
	}
	rc = osip_message_parse(m, buf, len);
	if (copy) {
		free(copy);
		if (rc == 0 && m->content_type && m->content_type->type) {
			osip_free(m->content_type->type);
			m->content_type->type = osip_strdup(was);
		}
	}
	return rc;
}

osip_message_t *sipmsg_parse(const char *buf, size_t len, char *why,
			     size_t whylen)
{
	osip_message_t *m;

	sipmsg_init();
	if (osip_message_init(&m) != 0) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (sipmsg_osip_parse(m, buf, len) != 0) {
		snprintf(why, whylen, "not a SIP message (start line or a "
			 "header does not parse)");
		goto bad;
	}
	/* What every message needs before anything can answer it. */
	if (!m->call_id || !m->call_id->number || !m->cseq ||
	    !m->cseq->number || !m->cseq->method || !m->from || !m->to ||
	    osip_list_size(&m->vias) == 0) {
		snprintf(why, whylen, "missing or empty Via, From, To, Call-ID "
			 "or CSeq");
		goto bad;
	}
	if (MSG_IS_REQUEST(m) && (!m->req_uri || !m->req_uri->host ||
				  !m->sip_method)) {
		snprintf(why, whylen, "request without a usable Request-URI");
		goto bad;
	}
	if (MSG_IS_REQUEST(m) && strcmp(m->sip_method, m->cseq->method) &&
	    strcmp(m->sip_method, "ACK") && strcmp(m->sip_method, "CANCEL")) {
		snprintf(why, whylen, "CSeq method '%s' differs from the "
			 "request's '%s'", m->cseq->method, m->sip_method);
		goto bad;
	}
	/* What libosip2 takes as it comes (RFC 4475 3.1.2.3-5, 3.1.2.16,
	 * 3.1.2.19). */
	if (!m->sip_version || strcasecmp(m->sip_version, "SIP/2.0")) {
		snprintf(why, whylen, "SIP version '%.16s' (only SIP/2.0)",
			 m->sip_version ? m->sip_version : "");
		goto bad;
	}
	if (MSG_IS_RESPONSE(m) && (m->status_code < 100 ||
				   m->status_code > 699)) {
		snprintf(why, whylen, "status code out of 100-699");
		goto bad;
	}
	if (!number_below(m->cseq->number, 1ul << 31)) { /* RFC 3261 8.1.1.5 */
		snprintf(why, whylen, "CSeq number '%.24s' is not a number "
			 "below 2^31", m->cseq->number);
		goto bad;
	}
	if (m->content_length &&
	    !number_below(m->content_length->value, 1ul << 31)) {
		snprintf(why, whylen, "Content-Length '%.24s' is not a number",
			 m->content_length->value ? m->content_length->value :
			 "");
		goto bad;
	}
	return m;
bad:
	osip_message_free(m);
	return NULL;
}

osip_message_t *sipmsg_from_sb(struct sb *b)
{
	osip_message_t *m = NULL;
	char why[128];

	if (!b->oom && b->p)
		m = sipmsg_parse(b->p, b->len, why, sizeof(why));
	if (!m)
		log_err("sip: built a message that does not parse (%s): %.200s",
			b->oom ? "out of memory" : why, b->p ? b->p : "");
	sb_free(b);
	return m;
}

void sipmsg_token(char *buf, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[64];
	size_t i;

	if (n > 2 * sizeof(r))
		n = 2 * sizeof(r);
	if (getrandom(r, (n + 1) / 2, 0) < 0)
		memset(r, 0x5a, sizeof(r)); /* cannot happen after boot */
	for (i = 0; i < n; i++)
		buf[i] = hex[(r[i / 2] >> (i & 1 ? 0 : 4)) & 15];
	buf[n] = 0;
}

const char *sipmsg_header(const osip_message_t *m, const char *name)
{
	osip_header_t *h = NULL;

	if (osip_message_header_get_byname(m, name, 0, &h) < 0 || !h)
		return NULL;
	return h->hvalue ? h->hvalue : "";
}

int sipmsg_has_tag(const osip_message_t *m, const char *header,
		   const char *tag)
{
	osip_header_t *h;
	size_t tl = strlen(tag);
	int pos = 0;

	while ((pos = osip_message_header_get_byname(m, header, pos, &h)) >= 0) {
		const char *p = h->hvalue;

		while (p && *p) {
			while (*p == ' ' || *p == ',' || *p == '\t')
				p++;
			if (!strncasecmp(p, tag, tl) &&
			    (!p[tl] || p[tl] == ',' || p[tl] == ' '))
				return 1;
			p = strchr(p, ',');
		}
		pos++;
	}
	return 0;
}

int sipmsg_max_forwards(const osip_message_t *m)
{
	const char *v = sipmsg_header(m, "max-forwards");
	char *end;
	long n;

	if (!v)
		return -1;
	n = strtol(v, &end, 10);
	return end == v || n < 0 ? 0 : n > 255 ? 255 : (int)n;
}

const char *sipmsg_sdp(const osip_message_t *m, size_t *len)
{
	osip_body_t *b = NULL;
	const osip_content_type_t *ct = m->content_type;

	*len = 0;
	if (osip_message_get_body(m, 0, &b) < 0 || !b || !b->body ||
	    !b->length)
		return NULL;
	if (ct && ct->type && ct->subtype &&
	    (strcasecmp(ct->type, "application") ||
	     strcasecmp(ct->subtype, "sdp")))
		return NULL;
	*len = b->length;
	return b->body;
}

static int copy_str(char *s, char *buf, size_t len)
{
	int n;

	if (!s) {
		if (len)
			buf[0] = 0;
		return -1;
	}
	n = snprintf(buf, len, "%s", s);
	osip_free(s);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int sipmsg_from_str(const osip_message_t *m, char *buf, size_t len)
{
	char *s = NULL;

	if (m->from)
		osip_from_to_str(m->from, &s);
	return copy_str(s, buf, len);
}

int sipmsg_to_str(const osip_message_t *m, char *buf, size_t len)
{
	char *s = NULL;

	if (m->to)
		osip_to_to_str(m->to, &s);
	return copy_str(s, buf, len);
}

const char *sipmsg_tag(osip_from_t *f)
{
	osip_generic_param_t *p = NULL;

	if (!f || osip_from_get_tag(f, &p) < 0 || !p || !p->gvalue)
		return NULL;
	return p->gvalue;
}

const char *sipmsg_call_id(const osip_message_t *m, char *buf, size_t len)
{
	const osip_call_id_t *c = m->call_id;

	snprintf(buf, len, "%s%s%s", c->number, c->host ? "@" : "",
		 c->host ? c->host : "");
	return buf;
}

uint32_t sipmsg_cseq(const osip_message_t *m)
{
	return (uint32_t)strtoul(m->cseq->number, NULL, 10);
}

const char *sipmsg_branch(const osip_message_t *m)
{
	osip_via_t *v = NULL;
	osip_generic_param_t *b = NULL;

	if (osip_message_get_via(m, 0, &v) < 0 || !v ||
	    osip_via_param_get_byname(v, "branch", &b) < 0 || !b)
		return NULL;
	return b->gvalue;
}

int sipmsg_uri_str(const osip_uri_t *u, char *buf, size_t len)
{
	char *s = NULL;

	if (u)
		osip_uri_to_str(u, &s);
	return copy_str(s, buf, len);
}

int sipmsg_contact(const osip_message_t *m, char *buf, size_t len)
{
	osip_contact_t *c = NULL;

	if (osip_message_get_contact(m, 0, &c) < 0 || !c || !c->url)
		return -1;
	return sipmsg_uri_str(c->url, buf, len);
}

/* Every header of list through to_str, one line each. */
#define SB_LIST(b, m, list, name, fn)                                        \
	do {                                                                 \
		int i_;                                                      \
		for (i_ = 0; i_ < osip_list_size(&(m)->list); i_++) {        \
			char *s_ = NULL;                                     \
			if (fn(osip_list_get(&(m)->list, i_), &s_) == 0 && s_) { \
				sb_add(b, "%s: %s\r\n", name, s_);           \
				osip_free(s_);                               \
			}                                                    \
		}                                                            \
	} while (0)

osip_message_t *sipmsg_response(const osip_message_t *req, int status,
				const char *reason, const char *to_tag,
				const char *extra, const char *ctype,
				const char *body, size_t bodylen)
{
	struct sb b = { 0 };
	const osip_call_id_t *c = req->call_id;
	char *to = NULL, *from = NULL, tag[20];

	if (!to_tag) { /* RFC 3261 8.2.6.2: every response but 100 has one */
		sipmsg_token(tag, 16);
		to_tag = tag;
	}
	/* As long as they came: a header cut to a buffer's size would not
	 * parse, and the request would get no answer at all. */
	if (req->from)
		osip_from_to_str(req->from, &from);
	if (req->to)
		osip_to_to_str(req->to, &to);
	if (!reason)
		reason = osip_message_get_reason(status);
	sb_add(&b, "SIP/2.0 %d %s\r\n", status, reason ? reason : "Unknown");
	SB_LIST(&b, req, vias, "Via", osip_via_to_str);
	sb_add(&b, "From: %s\r\nTo: %s", from ? from : "", to ? to : "");
	osip_free(from);
	osip_free(to);
	if (to_tag && !sipmsg_tag(req->to) && status > 100)
		sb_add(&b, ";tag=%s", to_tag);
	sb_add(&b, "\r\nCall-ID: %s%s%s\r\nCSeq: %s %s\r\n", c->number,
	       c->host ? "@" : "", c->host ? c->host : "", req->cseq->number,
	       req->cseq->method);
	if (extra)
		sb_add(&b, "%s", extra);
	sb_add(&b, "Server: xrelay\r\n");
	if (body && bodylen)
		sb_add(&b, "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%.*s",
		       ctype ? ctype : "application/sdp", bodylen,
		       (int)bodylen, body);
	else
		sb_add(&b, "Content-Length: 0\r\n\r\n");
	return sipmsg_from_sb(&b);
}

static int uri_peer(const osip_uri_t *u, struct sip_peer *out)
{
	osip_uri_param_t *tr = NULL;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai = NULL;
	char host[256];
	int port;

	memset(out, 0, sizeof(*out));
	if (!u || !u->host)
		return -1;
	snprintf(host, sizeof(host), "%s", u->host);
	if (host[0] == '[') { /* [v6] as osip keeps it on some paths */
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = 0;
	}
	port = u->port && *u->port ? atoi(u->port) : 5060;
	if (port <= 0 || port > 65535)
		return -1;
	osip_uri_uparam_get_byname((osip_uri_t *)u, "transport", &tr);
	out->proto = tr && tr->gvalue && !strcasecmp(tr->gvalue, "tcp") ?
		SIP_TCP : SIP_UDP;
	if (netaddr_parse_ip(host, &out->addr) < 0) {
		/* A name (from a route or a Contact): resolved synchronously;
		 * routes are resolved once at load, Contacts are numeric in
		 * practice. */
		if (getaddrinfo(host, NULL, &hints, &ai) != 0 || !ai)
			return -1;
		memcpy(&out->addr, ai->ai_addr, ai->ai_addrlen);
		freeaddrinfo(ai);
	}
	netaddr_set_port((struct sockaddr *)&out->addr, port);
	return 0;
}

int sipmsg_uri_str_peer(const char *uri, struct sip_peer *out)
{
	osip_uri_t *u = NULL;
	int rc = -1;

	sipmsg_init();
	if (osip_uri_init(&u) == 0 && osip_uri_parse(u, uri) == 0)
		rc = uri_peer(u, out);
	osip_uri_free(u);
	return rc;
}

/* ---- answering what libosip2 cannot parse -------------------------------- */

/* The end of the header line at p (its folded continuation lines
 * included), at most end. */
static const char *raw_line_end(const char *p, const char *end)
{
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			return end;
		if (nl + 1 >= end || (nl[1] != ' ' && nl[1] != '\t'))
			return nl + 1;
		p = nl + 1;
	}
}

/* A header value as one line: folds and control characters become
 * spaces, outer white space goes. */
static void raw_value(struct sb *out, const char *v, const char *end)
{
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (unsigned char)end[-1] <= ' ')
		end--;
	for (; v < end; v++)
		sb_add(out, "%c", (unsigned char)*v < ' ' || *v == 0x7f ?
		       ' ' : *v);
}

static int has_tag(const char *v, const char *end)
{
	for (; end - v >= 4; v++)
		if (!strncasecmp(v, "tag=", 4))
			return 1;
	return 0;
}

static int raw_name_is(const char *p, size_t n, const char *full, char compact)
{
	return (n == strlen(full) && !strncasecmp(p, full, n)) ||
	       (n == 1 && tolower((unsigned char)*p) == compact);
}

int sipmsg_raw_response(const char *buf, size_t len, int status,
			const char *extra, struct sb *out)
{
	const char *end = buf + len, *p, *hend, *eol, *colon;
	const char *from = NULL, *to = NULL, *cid = NULL, *cseq = NULL;
	const char *from_e = NULL, *to_e = NULL, *cid_e = NULL, *cseq_e = NULL;
	const char *reason = osip_message_get_reason(status);
	size_t mlen = 0, nvia = 0;
	char tag[20];

	memset(out, 0, sizeof(*out));
	while (mlen < len && buf[mlen] > ' ' && buf[mlen] != 0x7f)
		mlen++;
	/* A request line: "METHOD SP ..."; never a response, never ACK */
	if (!mlen || mlen >= len || buf[mlen] != ' ' ||
	    !strncmp(buf, "SIP/", 4) || (mlen == 3 && !memcmp(buf, "ACK", 3)))
		return -1;
	p = memchr(buf, '\n', len);
	if (!p)
		return -1;
	hend = p + 1;
	/* The header block: up to the first empty line. */
	for (p = hend; p < end && *p != '\r' && *p != '\n'; p = eol)
		eol = raw_line_end(p, end);
	hend = p;
	sb_add(out, "SIP/2.0 %d %s\r\n", status, reason ? reason : "Bad Request");
	for (p = memchr(buf, '\n', len) + 1; p < hend; p = eol) {
		size_t n;

		eol = raw_line_end(p, hend);
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon)
			continue;
		for (n = (size_t)(colon - p); n && (p[n - 1] == ' ' ||
						     p[n - 1] == '\t'); n--)
			;
		if (raw_name_is(p, n, "via", 'v')) {
			sb_add(out, "Via: ");
			raw_value(out, colon + 1, eol);
			sb_add(out, "\r\n");
			nvia++;
		} else if (!from && raw_name_is(p, n, "from", 'f')) {
			from = colon + 1, from_e = eol;
		} else if (!to && raw_name_is(p, n, "to", 't')) {
			to = colon + 1, to_e = eol;
		} else if (!cid && raw_name_is(p, n, "call-id", 'i')) {
			cid = colon + 1, cid_e = eol;
		} else if (!cseq && raw_name_is(p, n, "cseq", 0)) {
			cseq = colon + 1, cseq_e = eol;
		}
	}
	if (!nvia || !from || !to || !cid || !cseq) {
		sb_free(out);
		return -1; /* nothing to address a response with */
	}
	sb_add(out, "From: ");
	raw_value(out, from, from_e);
	sb_add(out, "\r\nTo: ");
	raw_value(out, to, to_e);
	if (!has_tag(to, to_e)) {
		sipmsg_token(tag, 16);
		sb_add(out, ";tag=%s", tag);
	}
	sb_add(out, "\r\nCall-ID: ");
	raw_value(out, cid, cid_e);
	sb_add(out, "\r\nCSeq: ");
	raw_value(out, cseq, cseq_e);
	sb_add(out, "\r\n%sServer: xrelay\r\nContent-Length: 0\r\n\r\n",
	       extra ? extra : "");
	if (out->oom) {
		sb_free(out);
		return -1;
	}
	return 0;
}
