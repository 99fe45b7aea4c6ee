// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * SIP transport: UDP datagrams and TCP streams behind one epoll descriptor.
 * TCP connections are few next to calls (phones and proxies keep one each),
 * so they live in a list scanned by id or address.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "netaddr.h"
#include "transport.h"

#define TP_MAX_LISTEN 16
#define TP_MAX_CONNS 4096
#define TP_UDP_RCVBUF (4 << 20) /* a UDP listener's receive buffer */

enum ep_kind { EP_UDP, EP_TCP_LISTEN, EP_CONN };

struct ep_item {
	enum ep_kind kind;
};

struct listener {
	struct ep_item ep;
	int fd;
	enum sip_proto proto;
	struct sockaddr_storage addr;
};

struct conn {
	struct ep_item ep;
	struct conn *next;
	uint32_t id;
	int fd;
	int connecting;
	int dead; /* failed while sending: tp_run closes it (conn_kill) */
	uint64_t owed_since_ms; /* a message is owed (accepted and none yet,
				   or part of one came): since then; 0: none */
	unsigned long msgs;     /* delivered */
	struct sockaddr_storage remote, local;
	char *in, *out;
	size_t inlen, incap, outlen, outcap;
};

struct sip_transport {
	int epfd;
	tp_message_cb cb;
	void *ctx;
	struct listener ls[TP_MAX_LISTEN];
	int nls;
	struct conn *conns;
	uint32_t next_id;
	int ndead; /* connections marked dead, not closed yet */
	unsigned stall_ms;      /* TP_TCP_STALL_MS unless a test set it */
	uint64_t next_sweep_ms; /* when tp_run looks for stalled connections */
	int probe4, probe6;     /* route_source's UDP sockets; -1: not yet */
	struct tp_stats st;
	char buf[TP_MAX_MSG + 1];
};

struct sip_transport *tp_new(tp_message_cb cb, void *ctx)
{
	struct sip_transport *tp = calloc(1, sizeof(*tp));

	if (!tp)
		return NULL;
	tp->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (tp->epfd < 0) {
		free(tp);
		return NULL;
	}
	tp->cb = cb;
	tp->ctx = ctx;
	tp->next_id = 1;
	tp->stall_ms = TP_TCP_STALL_MS;
	tp->probe4 = tp->probe6 = -1;
	return tp;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void tp_set_stall_ms(struct sip_transport *tp, unsigned ms)
{
	tp->stall_ms = ms ? ms : TP_TCP_STALL_MS;
	tp->next_sweep_ms = 0;
}

static void conn_close(struct sip_transport *tp, struct conn *c)
{
	struct conn **pp;

	for (pp = &tp->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (c->dead)
		tp->ndead--;
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	tp->st.tcp_closed++;
	tp->st.tcp_open--;
}

/* A send that fails may run inside the message callback, while tp_run
 * still reads that connection or holds others in its event list: mark it,
 * and tp_run closes it once nothing points at it. */
static void conn_kill(struct sip_transport *tp, struct conn *c)
{
	if (!c->dead) {
		c->dead = 1;
		tp->ndead++;
	}
}

void tp_free(struct sip_transport *tp)
{
	int i;

	if (!tp)
		return;
	while (tp->conns)
		conn_close(tp, tp->conns);
	for (i = 0; i < tp->nls; i++)
		close(tp->ls[i].fd);
	if (tp->probe4 >= 0)
		close(tp->probe4);
	if (tp->probe6 >= 0)
		close(tp->probe6);
	close(tp->epfd);
	free(tp);
}

void tp_set_ctx(struct sip_transport *tp, void *ctx)
{
	tp->ctx = ctx;
}

int tp_fd(const struct sip_transport *tp)
{
	return tp->epfd;
}

static int ep_add(struct sip_transport *tp, int fd, uint32_t events,
		  struct ep_item *it)
{
	struct epoll_event ev = { .events = events, .data.ptr = it };

	return epoll_ctl(tp->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void ep_mod(struct sip_transport *tp, struct conn *c)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (c->outlen || c->connecting ? EPOLLOUT : 0),
		.data.ptr = &c->ep,
	};

	epoll_ctl(tp->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/*
 * A UDP listener gets a few MB of receive buffer, not the default 208 KB:
 * every call's requests and responses arrive on it, and a burst (a call
 * peak, a registration storm) should wait there rather than be dropped
 * and cost the peers a T1 retransmission. SO_RCVBUF is capped at
 * net.core.rmem_max; SO_RCVBUFFORCE passes it with CAP_NET_ADMIN. Neither
 * is fatal: a smaller buffer is said at debug level.
 */
static void udp_rcvbuf(int fd, const struct sockaddr *addr)
{
	int want = TP_UDP_RCVBUF, got = 0;
	socklen_t sl = sizeof(got);
	char a[NETADDR_STRLEN];

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &sl) == 0 &&
	    got / 2 >= want) /* the kernel doubles it for its overhead */
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want));
	sl = sizeof(got);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &sl) == 0 &&
	    got / 2 < want)
		log_debug("sip: udp:%s: receive buffer %d bytes, not %d "
			  "(net.core.rmem_max caps it, and no CAP_NET_ADMIN "
			  "to pass it): raise rmem_max for call peaks",
			  netaddr_str(addr, a, sizeof(a)), got / 2, want);
}

int tp_listen(struct sip_transport *tp, enum sip_proto proto,
	      const struct sockaddr *addr, char *err, size_t errlen)
{
	struct listener *l;
	char a[NETADDR_STRLEN];
	int one = 1, fd;

	if (tp->nls >= TP_MAX_LISTEN) {
		snprintf(err, errlen, "more than %d listen addresses",
			 TP_MAX_LISTEN);
		return -1;
	}
	fd = socket(addr->sa_family, (proto == SIP_TCP ? SOCK_STREAM :
		    SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (proto == SIP_UDP)
		udp_rcvbuf(fd, addr);
	if (bind(fd, addr, netaddr_len(addr)) < 0)
		goto fail;
	if (proto == SIP_TCP && listen(fd, 128) < 0)
		goto fail;
	l = &tp->ls[tp->nls];
	l->ep.kind = proto == SIP_TCP ? EP_TCP_LISTEN : EP_UDP;
	l->fd = fd;
	l->proto = proto;
	memcpy(&l->addr, addr, netaddr_len(addr));
	if (ep_add(tp, fd, EPOLLIN, &l->ep) < 0)
		goto fail;
	tp->nls++;
	log_info("sip: listening on %s:%s", proto == SIP_TCP ? "tcp" : "udp",
		 netaddr_str(addr, a, sizeof(a)));
	return 0;
fail:
	snprintf(err, errlen, "cannot listen on %s:%s: %s (is another SIP "
		 "server using it? change 'listen')",
		 proto == SIP_TCP ? "tcp" : "udp",
		 netaddr_str(addr, a, sizeof(a)), strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ---- receiving ------------------------------------------------------------ */

static void deliver(struct sip_transport *tp, const char *buf, size_t len,
		    const struct sip_peer *from)
{
	tp->st.rx_msgs++;
	tp->st.rx_bytes += len;
	tp->cb(tp->ctx, buf, len, from);
}

static void udp_read(struct sip_transport *tp, struct listener *l)
{
	struct sip_peer from = { .proto = SIP_UDP };
	socklen_t sl;
	ssize_t n;
	int budget = 256; /* then let the loop serve the others */

	memcpy(&from.local, &l->addr, sizeof(l->addr));
	while (budget--) {
		sl = sizeof(from.addr);
		n = recvfrom(l->fd, tp->buf, TP_MAX_MSG, 0,
			     (struct sockaddr *)&from.addr, &sl);
		if (n < 0)
			return;
		if (n < 4) /* keep-alive CRLFs, probes */
			continue;
		tp->buf[n] = 0;
		deliver(tp, tp->buf, (size_t)n, &from);
	}
}

static struct conn *conn_new(struct sip_transport *tp, int fd,
			     const struct sockaddr *remote)
{
	struct conn *c;
	socklen_t sl = sizeof(c->local);

	if (tp->st.tcp_open >= TP_MAX_CONNS) {
		log_warn("sip: %d TCP connections open, refusing another",
			 TP_MAX_CONNS);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ep.kind = EP_CONN;
	c->fd = fd;
	c->id = tp->next_id++;
	if (!tp->next_id)
		tp->next_id = 1;
	memcpy(&c->remote, remote, netaddr_len(remote));
	getsockname(fd, (struct sockaddr *)&c->local, &sl);
	c->next = tp->conns;
	tp->conns = c;
	tp->st.tcp_open++;
	return c;
}

static void tcp_accept(struct sip_transport *tp, struct listener *l)
{
	struct sockaddr_storage ss;
	struct conn *c;
	socklen_t sl;
	int fd, one = 1;

	for (;;) {
		sl = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &sl,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = conn_new(tp, fd, (struct sockaddr *)&ss);
		if (c) /* it owes us a first message */
			c->owed_since_ms = now_ms();
		if (!c || ep_add(tp, fd, EPOLLIN, &c->ep) < 0) {
			if (c)
				conn_close(tp, c);
			else
				close(fd);
			continue;
		}
		tp->st.tcp_accepted++;
	}
}

/* The value from v to the end of its line: the header block's bounds, not
 * strtol's (which skips a line break and reads the next line or the body). */
static long parse_length(const char *v, const char *eol)
{
	long cl = 0;
	int digits = 0;

	while (v < eol && (*v == ' ' || *v == '\t'))
		v++;
	for (; v < eol && *v >= '0' && *v <= '9'; v++, digits++)
		if (cl <= TP_MAX_MSG) /* stays above it: no overflow */
			cl = cl * 10 + (*v - '0');
	while (v < eol && (*v == ' ' || *v == '\t' || *v == '\r'))
		v++;
	return digits && v == eol ? cl : -1;
}

/* Content-Length (or its compact form "l") of a header block; 0 if absent
 * (RFC 3261 18.3 makes it mandatory on streams; a missing one means none),
 * -1 if its value is not 1*DIGIT, over TP_MAX_MSG if it is too big. */
static long content_length(const char *hdr, size_t hlen)
{
	const char *p = hdr, *end = hdr + hlen, *eol, *colon;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon) {
			size_t nl = (size_t)(colon - p);

			while (nl && (p[nl - 1] == ' ' || p[nl - 1] == '\t'))
				nl--;
			if ((nl == 14 && !strncasecmp(p, "Content-Length", 14)) ||
			    (nl == 1 && (*p == 'l' || *p == 'L')))
				return parse_length(colon + 1, eol);
		}
		p = eol + 1;
	}
	return 0;
}

/* Cut whole messages off the front of c->in. -1: the stream is broken. */
static int conn_frame(struct sip_transport *tp, struct conn *c)
{
	struct sip_peer from = { .proto = SIP_TCP, .conn = c->id };
	size_t skip, total;
	char *hend;
	long cl;

	memcpy(&from.addr, &c->remote, sizeof(c->remote));
	memcpy(&from.local, &c->local, sizeof(c->local));
	for (;;) {
		for (skip = 0; skip < c->inlen &&
		     (c->in[skip] == '\r' || c->in[skip] == '\n'); skip++)
			; /* keep-alives between messages (RFC 5626 CRLF) */
		memmove(c->in, c->in + skip, c->inlen - skip);
		c->inlen -= skip;
		c->in[c->inlen] = 0;
		hend = strstr(c->in, "\r\n\r\n");
		if (!hend)
			return c->inlen > TP_MAX_MSG ? -1 : 0;
		cl = content_length(c->in, (size_t)(hend - c->in));
		if (cl < 0 || cl > TP_MAX_MSG)
			return -1;
		total = (size_t)(hend - c->in) + 4 + (size_t)cl;
		if (total > TP_MAX_MSG)
			return -1;
		if (c->inlen < total)
			return 0;
		memcpy(tp->buf, c->in, total);
		tp->buf[total] = 0;
		memmove(c->in, c->in + total, c->inlen - total);
		c->inlen -= total;
		c->msgs++;
		deliver(tp, tp->buf, total, &from);
		if (c->dead) /* the callback's reply on it failed */
			return 0;
	}
}

/* After a read: a message is owed from when part of one came (or from the
 * accept, until a first one came) until one completes. CRLF keep-alives
 * owe nothing on a connection that has sent a message. */
static void conn_owed(struct conn *c, unsigned long msgs_before)
{
	if (c->msgs != msgs_before)
		c->owed_since_ms = c->inlen ? now_ms() : 0;
	else if (c->inlen && !c->owed_since_ms)
		c->owed_since_ms = now_ms();
}

static int conn_read(struct sip_transport *tp, struct conn *c)
{
	unsigned long msgs = c->msgs;
	ssize_t n;

	for (;;) {
		if (c->incap - c->inlen < 4097) {
			size_t cap = c->incap ? c->incap * 2 : 8192;
			char *p;

			if (cap > 2 * (TP_MAX_MSG + 1))
				return -1;
			p = realloc(c->in, cap);
			if (!p)
				return -1;
			c->in = p;
			c->incap = cap;
		}
		n = read(c->fd, c->in + c->inlen, c->incap - c->inlen - 1);
		if (n == 0)
			return -1;
		if (n < 0) {
			conn_owed(c, msgs);
			return errno == EAGAIN ? 0 : -1;
		}
		c->inlen += (size_t)n;
		if (conn_frame(tp, c) < 0) {
			char a[NETADDR_STRLEN];

			tp->st.oversized++;
			log_warn("sip: tcp from %s: message over %d bytes or a "
				 "bad Content-Length; closing the connection",
				 netaddr_str((struct sockaddr *)&c->remote, a,
					     sizeof(a)), TP_MAX_MSG);
			return -1;
		}
		if (c->dead) /* leave it to tp_run */
			return 0;
	}
}

/*
 * A connection that owes a message for stall_ms is closed: part of one
 * came and the rest does not (however slowly it trickles), or it was
 * accepted and sent none. Otherwise a peer could hold its buffer (up to
 * TP_MAX_MSG) and one of the TP_MAX_CONNS slots for as long as it likes.
 * A connection that has sent whole messages may stay idle.
 */
static void sweep_stalled(struct sip_transport *tp)
{
	uint64_t now = now_ms();
	struct conn *c, *next;
	char a[NETADDR_STRLEN];

	if (now < tp->next_sweep_ms)
		return;
	tp->next_sweep_ms = now + (tp->stall_ms / 4 < 1000 ?
				   tp->stall_ms / 4 + 1 : 1000);
	for (c = tp->conns; c; c = next) {
		next = c->next;
		if (c->dead || !c->owed_since_ms ||
		    now - c->owed_since_ms < tp->stall_ms)
			continue;
		netaddr_str((struct sockaddr *)&c->remote, a, sizeof(a));
		if (c->inlen)
			log_warn("sip: tcp from %s: %zu bytes of a message, and "
				 "not the rest for %u ms: closing the connection",
				 a, c->inlen, tp->stall_ms);
		else
			log_warn("sip: tcp from %s: connected and sent no "
				 "message for %u ms: closing the connection",
				 a, tp->stall_ms);
		tp->st.tcp_stalled++;
		conn_close(tp, c);
	}
}

static int conn_flush(struct conn *c)
{
	ssize_t n;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (c->connecting) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 ||
		    soerr)
			return -1;
		c->connecting = 0;
		sl = sizeof(c->local);
		getsockname(c->fd, (struct sockaddr *)&c->local, &sl);
	}
	while (c->outlen) {
		n = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
	}
	return 0;
}

void tp_run(struct sip_transport *tp)
{
	struct epoll_event ev[64];
	struct conn *c, *next;
	int i, n;

	n = epoll_wait(tp->epfd, ev, 64, 0);
	for (i = 0; i < n; i++) {
		struct ep_item *it = ev[i].data.ptr;

		switch (it->kind) {
		case EP_UDP:
			udp_read(tp, (struct listener *)it);
			break;
		case EP_TCP_LISTEN:
			tcp_accept(tp, (struct listener *)it);
			break;
		case EP_CONN:
			c = (struct conn *)it;
			if (c->dead)
				break;
			if (((ev[i].events & EPOLLOUT) && conn_flush(c) < 0) ||
			    ((ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
			     conn_read(tp, c) < 0)) {
				conn_close(tp, c);
				break;
			}
			if (!c->dead)
				ep_mod(tp, c);
			break;
		}
	}
	for (c = tp->conns; tp->ndead && c; c = next) {
		next = c->next;
		if (c->dead)
			conn_close(tp, c);
	}
	sweep_stalled(tp);
}

/* ---- sending ------------------------------------------------------------------ */

static struct listener *listener_for(struct sip_transport *tp,
				     enum sip_proto proto, int family,
				     const struct sockaddr *local)
{
	struct listener *any = NULL;
	int i;

	for (i = 0; i < tp->nls; i++) {
		struct listener *l = &tp->ls[i];

		if (l->proto != proto || l->addr.ss_family != family)
			continue;
		if (local && local->sa_family == family &&
		    netaddr_ip_equal((struct sockaddr *)&l->addr, local))
			return l;
		if (!any)
			any = l;
	}
	return any;
}

static struct conn *conn_find(struct sip_transport *tp, const struct sip_peer *to)
{
	struct conn *c;

	for (c = tp->conns; c; c = c->next)
		if (!c->dead && (to->conn ? c->id == to->conn :
		    netaddr_equal((struct sockaddr *)&c->remote,
				  (const struct sockaddr *)&to->addr)))
			return c;
	/* The connection a request came in on is gone: open a new one. */
	if (to->conn)
		for (c = tp->conns; c; c = c->next)
			if (!c->dead &&
			    netaddr_equal((struct sockaddr *)&c->remote,
					  (const struct sockaddr *)&to->addr))
				return c;
	return NULL;
}

static struct conn *conn_open(struct sip_transport *tp, const struct sip_peer *to)
{
	const struct sockaddr *ra = (const struct sockaddr *)&to->addr;
	struct conn *c;
	int fd, one = 1;

	fd = socket(ra->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, ra, netaddr_len(ra)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return NULL;
	}
	c = conn_new(tp, fd, ra);
	if (!c) {
		close(fd);
		return NULL;
	}
	c->connecting = 1;
	if (ep_add(tp, fd, EPOLLIN | EPOLLOUT, &c->ep) < 0) {
		conn_close(tp, c);
		return NULL;
	}
	return c;
}

static int tcp_send(struct sip_transport *tp, const struct sip_peer *to,
		    const char *buf, size_t len)
{
	struct conn *c = conn_find(tp, to);

	if (!c)
		c = conn_open(tp, to);
	if (!c)
		return -1;
	if (c->outlen + len > 4 * (size_t)TP_MAX_MSG) {
		conn_kill(tp, c); /* a peer that reads nothing */
		return -1;
	}
	if (c->outcap < c->outlen + len) {
		size_t cap = c->outlen + len + 4096;
		char *p = realloc(c->out, cap);

		if (!p)
			return -1;
		c->out = p;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, buf, len);
	c->outlen += len;
	if (!c->connecting && conn_flush(c) < 0) {
		conn_kill(tp, c);
		return -1;
	}
	ep_mod(tp, c);
	return 0;
}

int tp_send(struct sip_transport *tp, const struct sip_peer *to,
	    const char *buf, size_t len)
{
	const struct sockaddr *ra = (const struct sockaddr *)&to->addr;
	struct listener *l;
	int rc;

	if (to->proto == SIP_TCP) {
		rc = tcp_send(tp, to, buf, len);
	} else {
		l = listener_for(tp, SIP_UDP, ra->sa_family,
				 (const struct sockaddr *)&to->local);
		rc = l && sendto(l->fd, buf, len, 0, ra, netaddr_len(ra)) ==
			(ssize_t)len ? 0 : -1;
	}
	if (rc < 0) {
		tp->st.send_errors++;
		return -1;
	}
	tp->st.tx_msgs++;
	tp->st.tx_bytes += len;
	return 0;
}

/* The source address the kernel's routing picks toward remote: connect a
 * UDP socket (no packet is sent) and read its address. One socket per
 * family, kept open: this runs for every call and every captured message.
 * It is disconnected first, because a connect keeps the source address an
 * earlier one chose. */
static int route_source(struct sip_transport *tp,
			const struct sockaddr *remote,
			struct sockaddr_storage *out)
{
	int *fd = remote->sa_family == AF_INET6 ? &tp->probe6 : &tp->probe4;
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	socklen_t sl = sizeof(*out);

	if (*fd < 0)
		*fd = socket(remote->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return -1;
	return connect(*fd, &unspec, sizeof(unspec)) < 0 ||
	       connect(*fd, remote, netaddr_len(remote)) < 0 ||
	       getsockname(*fd, (struct sockaddr *)out, &sl) < 0 ? -1 : 0;
}

static int is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
			htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(
		&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

int tp_local_for(struct sip_transport *tp, enum sip_proto proto,
		 const struct sockaddr *remote, struct sockaddr_storage *out)
{
	struct listener *l = listener_for(tp, proto, remote->sa_family, NULL);

	if (!l)
		return -1;
	if (!is_wildcard(&l->addr)) {
		memcpy(out, &l->addr, sizeof(l->addr));
		return 0;
	}
	if (route_source(tp, remote, out) < 0)
		return -1;
	netaddr_set_port((struct sockaddr *)out,
			 netaddr_port((struct sockaddr *)&l->addr));
	return 0;
}

int tp_is_local(struct sip_transport *tp, const struct sockaddr *addr)
{
	struct sockaddr_storage me;
	int i;

	for (i = 0; i < tp->nls; i++) {
		struct listener *l = &tp->ls[i];

		if (l->addr.ss_family != addr->sa_family ||
		    netaddr_port((struct sockaddr *)&l->addr) !=
		    netaddr_port(addr))
			continue;
		if (netaddr_ip_equal((struct sockaddr *)&l->addr, addr))
			return 1;
		/* A wildcard listener (this one, not the first of its
		 * family that tp_local_for picks): is addr one of this
		 * host's? */
		if (is_wildcard(&l->addr) && route_source(tp, addr, &me) == 0 &&
		    netaddr_ip_equal((struct sockaddr *)&me, addr))
			return 1;
	}
	return 0;
}

void tp_stats(const struct sip_transport *tp, struct tp_stats *out)
{
	*out = tp->st;
}
