// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * HEPv3 capture: the encoder (a pure function over a buffer) and the
 * sender (one non-blocking UDP socket, unconnected so that an ICMP error
 * from a collector that is down never fails the next send).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "hep.h"
#include "log.h"
#include "netaddr.h"
#include "transport.h"

#define WARN_EVERY_MS 10000

/* ---- the encoder --------------------------------------------------------- */

struct wbuf {
	uint8_t *p;
	size_t size, n;
	int full;
};

static void put(struct wbuf *w, const void *v, size_t len)
{
	if (w->full || len > w->size - w->n) {
		w->full = 1;
		return;
	}
	memcpy(w->p + w->n, v, len);
	w->n += len;
}

static void put16(struct wbuf *w, uint16_t v)
{
	uint16_t be = htons(v);

	put(w, &be, sizeof(be));
}

static void chunk(struct wbuf *w, uint16_t type, const void *v, size_t len)
{
	if (len > HEP_MAX - HEP_CHUNK_HEAD) {
		w->full = 1;
		return;
	}
	put16(w, 0); /* vendor: generic */
	put16(w, type);
	put16(w, (uint16_t)(HEP_CHUNK_HEAD + len));
	put(w, v, len);
}

static void chunk8(struct wbuf *w, uint16_t type, uint8_t v)
{
	chunk(w, type, &v, 1);
}

static void chunk16(struct wbuf *w, uint16_t type, uint16_t v)
{
	uint16_t be = htons(v);

	chunk(w, type, &be, sizeof(be));
}

static void chunk32(struct wbuf *w, uint16_t type, uint32_t v)
{
	uint32_t be = htonl(v);

	chunk(w, type, &be, sizeof(be));
}

static void chunk_str(struct wbuf *w, uint16_t type, const char *s)
{
	if (s && s[0])
		chunk(w, type, s, strlen(s));
}

/* The address and port of sa in family (zeros when sa is another). */
static void addr_of(const struct sockaddr *sa, int family, uint8_t ip[16],
		    uint16_t *port)
{
	memset(ip, 0, 16);
	*port = 0;
	if (!sa || sa->sa_family != family)
		return;
	if (family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		memcpy(ip, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		memcpy(ip, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
	}
}

static int inet_family(const struct sockaddr *sa)
{
	return sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6);
}

int hep_encode(const struct hep_rec *r, uint8_t *buf, size_t size)
{
	struct wbuf w = { .p = buf, .size = size < HEP_MAX ? size : HEP_MAX };
	int family;
	uint8_t sip[16], dip[16];
	uint16_t sport, dport;
	size_t alen;

	if (inet_family(r->src))
		family = r->src->sa_family;
	else if (inet_family(r->dst))
		family = r->dst->sa_family;
	else
		return -EAFNOSUPPORT;
	addr_of(r->src, family, sip, &sport);
	addr_of(r->dst, family, dip, &dport);
	alen = family == AF_INET ? 4 : 16;

	put(&w, "HEP3", 4);
	put16(&w, 0); /* the total length, set below */
	chunk8(&w, HEP_IP_FAMILY,
	       family == AF_INET ? HEP_FAMILY_IP4 : HEP_FAMILY_IP6);
	chunk8(&w, HEP_IP_PROTO,
	       r->proto == SIP_TCP ? IPPROTO_TCP : IPPROTO_UDP);
	chunk(&w, family == AF_INET ? HEP_IP4_SRC : HEP_IP6_SRC, sip, alen);
	chunk(&w, family == AF_INET ? HEP_IP4_DST : HEP_IP6_DST, dip, alen);
	chunk16(&w, HEP_SRC_PORT, sport);
	chunk16(&w, HEP_DST_PORT, dport);
	chunk32(&w, HEP_TIME_SEC, (uint32_t)(r->time_us / 1000000));
	chunk32(&w, HEP_TIME_USEC, (uint32_t)(r->time_us % 1000000));
	chunk8(&w, HEP_PROTO_TYPE, HEP_PROTO_SIP);
	chunk32(&w, HEP_CAPTURE_ID, r->capture_id);
	chunk_str(&w, HEP_AUTH_KEY, r->auth_key);
	chunk_str(&w, HEP_CORRELATION_ID, r->correlation_id);
	chunk(&w, HEP_PAYLOAD, r->payload, r->len);
	if (w.full)
		return -EMSGSIZE;
	buf[4] = (uint8_t)(w.n >> 8);
	buf[5] = (uint8_t)w.n;
	return (int)w.n;
}

/* ---- the Call-ID of a raw message ---------------------------------------- */

static int is_ws(char c)
{
	return c == ' ' || c == '\t';
}

size_t hep_sip_call_id(const char *buf, size_t len, char *out, size_t outlen)
{
	const char *p = buf, *end = buf + len;

	/* Skip the start line; then one header per line up to the blank
	 * line (folded continuation lines start with white space: skipped). */
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line, *le, *v;
		size_t n;

		if (!eol)
			eol = end;
		line = p;
		le = eol > line && eol[-1] == '\r' ? eol - 1 : eol;
		p = eol < end ? eol + 1 : end;
		if (line == buf)
			continue;                /* the start line */
		if (le == line)
			break;                   /* the blank line: the body */
		if ((size_t)(le - line) > 7 && !strncasecmp(line, "Call-ID", 7))
			v = line + 7;
		else if (le - line > 1 && (line[0] == 'i' || line[0] == 'I'))
			v = line + 1;
		else
			continue;
		while (v < le && is_ws(*v))
			v++;
		if (v == le || *v != ':')
			continue;                /* "Call-Info:", "Identity:" */
		v++;
		while (v < le && is_ws(*v))
			v++;
		while (le > v && is_ws(le[-1]))
			le--;
		n = (size_t)(le - v);
		if (!n || n >= outlen)
			return 0;
		memcpy(out, v, n);
		out[n] = 0;
		return n;
	}
	return 0;
}

/* ---- the sender ---------------------------------------------------------- */

struct hep {
	int fd;
	struct sockaddr_storage to;
	char to_str[NETADDR_STRLEN];
	uint32_t capture_id;
	char auth_key[256];
	struct hep_stats st;
	uint64_t lost;                   /* since the last warning */
	uint64_t warn_after_ms;          /* no warning before this */
	uint8_t buf[HEP_MAX];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int hep_open(struct hep **out, const char *collector, uint32_t capture_id,
	     const char *auth_key, char *err, size_t errlen)
{
	struct hep *h;

	*out = NULL;
	if (auth_key && strlen(auth_key) >= sizeof(h->auth_key)) {
		snprintf(err, errlen, "hep_auth_key: longer than %zu bytes "
			 "(use a shorter key)", sizeof(h->auth_key) - 1);
		return -1;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (netaddr_parse(collector, -1, &h->to) < 0 ||
	    !netaddr_port((struct sockaddr *)&h->to)) {
		snprintf(err, errlen, "hep_collector: '%s' is not an IP "
			 "address and port (e.g. 10.0.0.7:9060)", collector);
		free(h);
		return -1;
	}
	h->fd = socket(h->to.ss_family,
		       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0) {
		snprintf(err, errlen, "hep_collector %s: socket: %s", collector,
			 strerror(errno));
		free(h);
		return -1;
	}
	netaddr_str((struct sockaddr *)&h->to, h->to_str, sizeof(h->to_str));
	h->capture_id = capture_id;
	snprintf(h->auth_key, sizeof(h->auth_key), "%s",
		 auth_key ? auth_key : "");
	log_info("hep: SIP capture to %s, capture id %u%s", h->to_str,
		 capture_id, h->auth_key[0] ? ", with an auth key" : "");
	*out = h;
	return 0;
}

void hep_free(struct hep *h)
{
	if (!h)
		return;
	close(h->fd);
	free(h);
}

/* A lost capture is logged with its cause and what to do, at most every
 * WARN_EVERY_MS, with the count since the last warning. */
static void lost(struct hep *h, const char *why, const char *fix)
{
	uint64_t now = now_ms();

	h->lost++;
	if (now < h->warn_after_ms)
		return;
	log_warn("hep: %llu SIP capture(s) to %s lost: %s; the calls go on "
		 "(%s)", (unsigned long long)h->lost, h->to_str, why, fix);
	h->lost = 0;
	h->warn_after_ms = now + WARN_EVERY_MS;
}

static int unset_or_any(const struct sockaddr_storage *ss, int family)
{
	if (ss->ss_family != family)
		return 1;
	if (family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
			htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(
		&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

void hep_capture(struct hep *h, struct sip_transport *tp, int tx,
		 const struct sip_peer *p, const char *correlation_id,
		 const char *buf, size_t len)
{
	const struct sockaddr *peer = (const struct sockaddr *)&p->addr;
	struct sockaddr_storage me = p->local;
	struct hep_rec r = {
		.proto = p->proto, .time_us = wall_us(),
		.capture_id = h->capture_id, .auth_key = h->auth_key,
		.correlation_id = correlation_id, .payload = buf, .len = len,
	};
	int n;

	if (unset_or_any(&me, p->addr.ss_family) &&
	    (!tp || tp_local_for(tp, p->proto, peer, &me) < 0))
		memset(&me, 0, sizeof(me));
	r.src = tx ? (const struct sockaddr *)&me : peer;
	r.dst = tx ? peer : (const struct sockaddr *)&me;
	n = hep_encode(&r, h->buf, sizeof(h->buf));
	if (n < 0) {
		if (n == -EMSGSIZE)
			h->st.oversized++;
		lost(h, n == -EMSGSIZE ? "a message too big for one HEP packet" :
		     "a message with no IP address",
		     "nothing to change: such messages are not captured");
		return;
	}
	if (sendto(h->fd, h->buf, (size_t)n, MSG_DONTWAIT,
		   (struct sockaddr *)&h->to,
		   netaddr_len((struct sockaddr *)&h->to)) < 0) {
		h->st.send_errors++;
		lost(h, strerror(errno), "check hep_collector and the route "
		     "to it");
		return;
	}
	h->st.sent++;
}

void hep_stats(const struct hep *h, struct hep_stats *out)
{
	*out = h->st;
}
