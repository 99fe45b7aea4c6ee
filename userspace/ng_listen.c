// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The ng listener's sockets (see ng_listen.h). One epoll set holds the UDP
 * sockets, the TCP listening sockets and the TCP clients, so the daemon's
 * loop polls one descriptor.
 *
 * TCP framing: "COOKIE SP DICT", back to back, white space between them
 * allowed. Where a message ends is found by a small scanner that resumes
 * where it stopped, so a client that sends a byte at a time costs a byte's
 * work per byte, not a parse of everything so far. Every client's buffer
 * is bounded; a client that stalls in the middle of a message is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include "log.h"
#include "netaddr.h"
#include "ng_listen.h"

#define UDP_MAX        65536          /* one datagram */
#define TCP_IN_MAX     (256u << 10)   /* a client's unread input */
#define TCP_OUT_MAX    (1u << 20)     /* replies a client has not read */
#define TCP_CLIENTS    64
#define TCP_STALL_MS   10000          /* half a message, then silence */
#define TCP_IDLE_MS    300000
#define COOKIE_MAX     256
#define BATCH          64             /* messages per run and socket */
#define ALLOW_MAX      64

/* ---- syntax ------------------------------------------------------------------------ */

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int endpoint_parse(const char *v, struct ng_endpoint *ep, char *err,
			  size_t errlen)
{
	const char *a = v + 4;
	char *end;
	long port;

	memset(ep, 0, sizeof(*ep));
	if (strncasecmp(v, "udp:", 4) == 0)
		ep->tcp = 0;
	else if (strncasecmp(v, "tcp:", 4) == 0)
		ep->tcp = 1;
	else
		return fail(err, errlen, "'%s' starts with neither udp: nor tcp:",
			    v);
	port = strtol(a, &end, 10);
	if (*a >= '0' && *a <= '9' && !*end) { /* a port alone: loopback */
		if (port < 1 || port > 65535)
			return fail(err, errlen, "port %s is outside 1-65535", a);
		netaddr_parse_ip("127.0.0.1", &ep->addr);
		netaddr_set_port((struct sockaddr *)&ep->addr, (int)port);
		return 0;
	}
	if (a[0] != '[' && strchr(a, ':') != strrchr(a, ':'))
		return fail(err, errlen, "the IPv6 address in '%s' needs brackets",
			    v);
	if (netaddr_parse(a, -1, &ep->addr) < 0 ||
	    netaddr_port((struct sockaddr *)&ep->addr) == 0)
		return fail(err, errlen, "'%s' is not ADDRESS:PORT (e.g. "
			    "127.0.0.1:2223) or a port", a);
	return 0;
}

int ng_listen_parse(const char *spec, struct ng_listen_spec *out, char *err,
		    size_t errlen)
{
	char buf[256], *save = NULL, *v;

	memset(out, 0, sizeof(*out));
	if (strlen(spec) >= sizeof(buf))
		return fail(err, errlen, "the value is too long");
	snprintf(buf, sizeof(buf), "%s", spec);
	for (v = strtok_r(buf, ", ", &save); v; v = strtok_r(NULL, ", ", &save)) {
		if (out->n == NG_LISTEN_MAX)
			return fail(err, errlen, "more than %d addresses",
				    NG_LISTEN_MAX);
		if (endpoint_parse(v, &out->ep[out->n], err, errlen) < 0)
			return -1;
		out->n++;
	}
	if (!out->n)
		return fail(err, errlen, "no address");
	return 0;
}

int ng_net_parse(const char *s, struct ng_net *out, char *err, size_t errlen)
{
	char buf[80], *slash;
	int max;

	memset(out, 0, sizeof(*out));
	if (strlen(s) >= sizeof(buf))
		return fail(err, errlen, "'%.20s...' is too long", s);
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	if (netaddr_parse_ip(buf, &out->addr) < 0)
		return fail(err, errlen, "'%s' is not an IP address", buf);
	max = out->addr.ss_family == AF_INET ? 32 : 128;
	out->prefix = max;
	if (slash) {
		char *end;
		long p = strtol(slash, &end, 10);

		if (!*slash || *end || p < 0 || p > max)
			return fail(err, errlen, "'/%s' is not a prefix length "
				    "from 0 to %d", slash, max);
		out->prefix = (int)p;
	}
	return 0;
}

/* The address bytes of sa (IPv4-mapped IPv6 as IPv4), their count. */
static int addr_bytes(const struct sockaddr *sa, const uint8_t **b)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };

	if (sa->sa_family == AF_INET) {
		*b = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		return 4;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	*b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	if (memcmp(*b, mapped, 12) == 0) {
		*b += 12;
		return 4;
	}
	return 16;
}

static int net_has(const struct ng_net *n, const struct sockaddr *sa)
{
	const uint8_t *a = NULL, *b = NULL;
	int la = addr_bytes((const struct sockaddr *)&n->addr, &a);
	int lb = addr_bytes(sa, &b);
	int full = n->prefix / 8, rest = n->prefix % 8;

	if (!la || la != lb)
		return 0;
	if (memcmp(a, b, (size_t)full))
		return 0;
	return !rest || ((a[full] ^ b[full]) & (0xff00 >> rest) & 0xff) == 0;
}

int ng_net_allowed(const struct ng_net *nets, int n, const struct sockaddr *sa)
{
	static struct ng_net loop[2];

	if (!n) { /* no list: this machine only */
		ng_net_parse("127.0.0.0/8", &loop[0], NULL, 0);
		ng_net_parse("::1", &loop[1], NULL, 0);
		nets = loop;
		n = 2;
	}
	for (int i = 0; i < n; i++)
		if (net_has(&nets[i], sa))
			return 1;
	return 0;
}

/* ---- the listener ------------------------------------------------------------------ */

enum item_kind { IT_UDP, IT_TCP_LISTEN, IT_CLIENT };

struct item {
	enum item_kind kind;
	int fd;
};

struct framer { /* where a TCP message ends; resumes where it stopped */
	size_t pos;      /* bytes of the buffer looked at */
	size_t dict;     /* where the dictionary starts (0: no cookie yet) */
	int begun, depth, json, state;
	uint64_t n;      /* a bencode length being read, or bytes to skip */
};

struct client {
	struct item it;              /* first: epoll's pointer is the item */
	struct client *next;
	struct sockaddr_storage peer;
	char *in, *out;
	size_t inlen, outlen, outoff;
	uint64_t last_ms, partial_since_ms;
	struct framer fr;
};

struct ng_listen {
	int epfd;
	struct ng *ng;
	struct item sock[NG_LISTEN_MAX];
	int nsock;
	struct client *clients;
	int nclients;
	struct ng_net allow[ALLOW_MAX];
	int nallow;
	uint64_t refused, refused_logged_ms;
	char buf[UDP_MAX + 1];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A refused client, logged at most once a second (a flood stays quiet). */
static void refuse(struct ng_listen *l, const struct sockaddr *sa,
		   const char *what)
{
	uint64_t now = now_ms();
	char a[NETADDR_STRLEN];

	l->refused++;
	if (now - l->refused_logged_ms < 1000 && l->refused_logged_ms)
		return;
	l->refused_logged_ms = now;
	log_warn("ng: %s from %s refused: not in ng_allow%s (%llu refused so "
		 "far)", what, netaddr_ip_str(sa, a, sizeof(a)),
		 l->nallow ? "" : " (empty: loopback clients only)",
		 (unsigned long long)l->refused);
}

static int sock_open(struct ng_listen *l, const struct ng_endpoint *ep,
		     char *err, size_t errlen)
{
	const struct sockaddr *sa = (const struct sockaddr *)&ep->addr;
	char a[NETADDR_STRLEN];
	int one = 1, fd;
	struct item *it = &l->sock[l->nsock];
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = it };

	netaddr_str(sa, a, sizeof(a));
	fd = socket(sa->sa_family, (ep->tcp ? SOCK_STREAM : SOCK_DGRAM) |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, "ng_listen %s: socket: %s", a,
			    strerror(errno));
	if (ep->tcp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, sa, netaddr_len(sa)) < 0 ||
	    (ep->tcp && listen(fd, 16) < 0)) {
		int e = errno;

		close(fd);
		return fail(err, errlen, "ng_listen %s:%s: %s (%s)",
			    ep->tcp ? "tcp" : "udp", a, strerror(e),
			    e == EADDRINUSE ? "another process has the port: "
			    "stop it or choose another port" :
			    "is the address on this host?");
	}
	it->kind = ep->tcp ? IT_TCP_LISTEN : IT_UDP;
	it->fd = fd;
	l->nsock++;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return fail(err, errlen, "epoll_ctl: %s", strerror(errno));
	log_info("ng: listening on %s:%s", ep->tcp ? "tcp" : "udp", a);
	if (!l->nallow && !ng_net_allowed(NULL, 0, sa))
		log_warn("ng: %s is not a loopback address but ng_allow is "
			 "empty: only clients on this host are served (add "
			 "ng_allow = the proxies' addresses)", a);
	return 0;
}

int ng_listen_new(struct ng_listen **out, const char *spec,
		  char *const *allow, int nallow, struct ng *ng, char *err,
		  size_t errlen)
{
	struct ng_listen_spec sp;
	struct ng_listen *l;
	char e[192];

	*out = NULL;
	if (ng_listen_parse(spec, &sp, e, sizeof(e)) < 0)
		return fail(err, errlen, "ng_listen: %s", e);
	if (nallow > ALLOW_MAX)
		return fail(err, errlen, "ng_allow: more than %d entries",
			    ALLOW_MAX);
	if (!(l = calloc(1, sizeof(*l))))
		return fail(err, errlen, "out of memory");
	l->ng = ng;
	for (int i = 0; i < nallow; i++)
		if (ng_net_parse(allow[i], &l->allow[i], e, sizeof(e)) < 0) {
			free(l);
			return fail(err, errlen, "ng_allow: %s", e);
		}
	l->nallow = nallow;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return fail(err, errlen, "epoll_create1: %s", strerror(errno));
	}
	for (int i = 0; i < sp.n; i++)
		if (sock_open(l, &sp.ep[i], err, errlen) < 0) {
			ng_listen_free(l);
			return -1;
		}
	*out = l;
	return 0;
}

static void client_close(struct ng_listen *l, struct client *c,
			 const char *why)
{
	struct client **pp = &l->clients;
	char a[NETADDR_STRLEN];

	if (why)
		log_info("ng: tcp client %s closed: %s",
			 netaddr_str((struct sockaddr *)&c->peer, a, sizeof(a)),
			 why);
	for (; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	close(c->it.fd);
	free(c->in);
	free(c->out);
	free(c);
	l->nclients--;
}

void ng_listen_free(struct ng_listen *l)
{
	if (!l)
		return;
	while (l->clients)
		client_close(l, l->clients, NULL);
	for (int i = 0; i < l->nsock; i++)
		close(l->sock[i].fd);
	if (l->epfd >= 0)
		close(l->epfd);
	free(l);
}

int ng_listen_fd(const struct ng_listen *l) { return l->epfd; }

/* ---- UDP ------------------------------------------------------------------------------- */

static void udp_one(struct ng_listen *l, int fd, const char *msg, size_t len,
		    const struct sockaddr *from, socklen_t flen)
{
	char *reply, a[NETADDR_STRLEN];
	size_t rlen;

	if (ng_message(l->ng, msg, len, from, now_ms(), &reply, &rlen) < 0)
		return;
	if (sendto(fd, reply, rlen, 0, from, flen) < 0)
		log_warn("ng: reply of %zu bytes to %s: %s", rlen,
			 netaddr_str(from, a, sizeof(a)), strerror(errno));
	free(reply);
}

static void udp_run(struct ng_listen *l, int fd)
{
	for (int i = 0; i < BATCH; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, l->buf, UDP_MAX, MSG_TRUNC,
				     (struct sockaddr *)&from, &flen);

		if (n < 0)
			return;
		if (!ng_net_allowed(l->allow, l->nallow, (struct sockaddr *)&from)) {
			refuse(l, (struct sockaddr *)&from, "a message");
			continue;
		}
		if ((size_t)n > UDP_MAX) {
			log_warn("ng: a datagram of %zd bytes: dropped (the "
				 "limit is %d)", n, UDP_MAX);
			continue;
		}
		l->buf[n] = 0;
		udp_one(l, fd, l->buf, (size_t)n, (struct sockaddr *)&from, flen);
	}
}

/* ---- TCP: framing ------------------------------------------------------------------------- */

enum { FR_VALUE, FR_INT, FR_LEN, FR_STR, FR_JSON, FR_JSTR, FR_JESC };

/* A bencode value ended: the message too, when it was the outermost. */
static int ben_done(struct framer *f)
{
	f->state = FR_VALUE;
	return f->depth == 0;
}

/* One bencode byte; 1: the message ends here, -1: malformed, 0: go on. */
static int ben_step(struct framer *f, const char *b, size_t len)
{
	char ch = b[f->pos];

	switch (f->state) {
	case FR_VALUE:
		if (ch == 'l' || ch == 'd')
			return f->depth++ > 64 ? -1 : 0;
		if (ch == 'e')
			return f->depth-- <= 0 ? -1 : ben_done(f);
		if (ch == 'i') {
			f->state = FR_INT;
			return 0;
		}
		if (ch < '0' || ch > '9' || f->pos == f->dict)
			return -1;
		f->state = FR_LEN;
		f->n = (uint64_t)(ch - '0');
		return 0;
	case FR_INT:
		return ch == 'e' ? ben_done(f) : (ch == '-' || (ch >= '0' &&
							      ch <= '9')) ? 0 : -1;
	case FR_LEN:
		if (ch == ':') {
			f->state = FR_STR;
			return f->n ? 0 : ben_done(f);
		}
		if (ch < '0' || ch > '9' || f->n > TCP_IN_MAX)
			return -1;
		f->n = f->n * 10 + (uint64_t)(ch - '0');
		return 0;
	case FR_STR: { /* skip the string's bytes at once */
		size_t have = len - f->pos;
		size_t take = have < f->n ? have : (size_t)f->n;

		f->pos += take - 1;
		f->n -= take;
		return f->n ? 0 : ben_done(f);
	}
	}
	return -1;
}

static int json_step(struct framer *f, const char *b)
{
	char ch = b[f->pos];

	if (f->state == FR_JESC) {
		f->state = FR_JSTR;
		return 0;
	}
	if (f->state == FR_JSTR) {
		f->state = ch == '\\' ? FR_JESC : ch == '"' ? FR_JSON : FR_JSTR;
		return 0;
	}
	if (ch == '"')
		f->state = FR_JSTR;
	else if (ch == '{' || ch == '[')
		return f->depth++ > 64 ? -1 : 0;
	else if (ch == '}' || ch == ']')
		return --f->depth == 0 ? 1 : 0;
	return 0;
}

/*
 * The length of the first message in b (after white space, which *skip
 * counts), 0 if it is not all there yet, -1 if it cannot be a message.
 */
static long frame(struct framer *f, const char *b, size_t len, size_t *skip)
{
	*skip = 0;
	while (!f->dict && f->pos < len && strchr(" \t\r\n", b[f->pos]) &&
	       b[f->pos])
		*skip = ++f->pos;
	if (!f->dict) {
		const char *sp = memchr(b + f->pos, ' ', len - f->pos);

		if (!sp)
			return len - f->pos > COOKIE_MAX ? -1 : 0;
		if ((size_t)(sp - b) - f->pos > COOKIE_MAX || sp == b + f->pos)
			return -1;
		f->pos = f->dict = (size_t)(sp - b) + 1;
	}
	if (!f->begun) { /* the dictionary's first byte: which encoding */
		if (f->pos >= len)
			return 0;
		f->json = b[f->pos] == '{';
		if (!f->json && b[f->pos] != 'd')
			return -1;
		f->state = f->json ? FR_JSON : FR_VALUE;
		f->begun = 1;
	}
	for (; f->pos < len; f->pos++) {
		int rc = f->json ? json_step(f, b) : ben_step(f, b, len);

		if (rc < 0)
			return -1;
		if (rc > 0)
			return (long)(++f->pos);
	}
	return 0;
}

/* ---- TCP: clients ------------------------------------------------------------------------- */

static void client_want_out(struct ng_listen *l, struct client *c)
{
	struct epoll_event ev = { .events = EPOLLIN |
				  (c->outlen > c->outoff ? EPOLLOUT : 0),
				  .data.ptr = &c->it };

	epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->it.fd, &ev);
}

/* Send what is queued; -1 when the client is gone. */
static int client_flush(struct ng_listen *l, struct client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->it.fd, c->out + c->outoff,
				 c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return -1;
		c->outoff += (size_t)n;
	}
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	client_want_out(l, c);
	return 0;
}

static int client_queue(struct client *c, const char *p, size_t len)
{
	char *t;

	if (c->outlen + len > TCP_OUT_MAX)
		return -1;
	if (!(t = realloc(c->out, c->outlen + len)))
		return -1;
	memcpy(t + c->outlen, p, len);
	c->out = t;
	c->outlen += len;
	return 0;
}

/* Every whole message in the input; -1 (with *why) to close the client. */
static int client_messages(struct ng_listen *l, struct client *c,
			   const char **why)
{
	long n;
	size_t skip;

	while ((n = frame(&c->fr, c->in, c->inlen, &skip)) > 0) {
		char *reply;
		size_t rlen;

		if (ng_message(l->ng, c->in + skip, (size_t)n - skip,
			       (struct sockaddr *)&c->peer, now_ms(), &reply,
			       &rlen) == 0) {
			int rc = client_queue(c, reply, rlen);

			free(reply);
			if (rc < 0) {
				*why = "it does not read its replies";
				return -1;
			}
		}
		memmove(c->in, c->in + n, c->inlen - (size_t)n);
		c->inlen -= (size_t)n;
		memset(&c->fr, 0, sizeof(c->fr));
	}
	if (n < 0) {
		*why = "not an ng message (COOKIE SP DICT)";
		return -1;
	}
	if (skip) { /* white space before a message is dropped */
		c->fr.pos -= skip;
		if (c->fr.dict)
			c->fr.dict -= skip;
		memmove(c->in, c->in + skip, c->inlen - skip);
		c->inlen -= skip;
	}
	c->partial_since_ms = c->inlen ? (c->partial_since_ms ?
					  c->partial_since_ms : now_ms()) : 0;
	return 0;
}

static void client_read(struct ng_listen *l, struct client *c)
{
	const char *why = NULL;
	ssize_t n;

	if (!c->in && !(c->in = malloc(TCP_IN_MAX))) {
		client_close(l, c, "out of memory");
		return;
	}
	n = recv(c->it.fd, c->in + c->inlen, TCP_IN_MAX - c->inlen, 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(l, c, n == 0 ? NULL : strerror(errno));
		return;
	}
	if (n < 0)
		return;
	c->inlen += (size_t)n;
	c->last_ms = now_ms();
	if (client_messages(l, c, &why) < 0 || client_flush(l, c) < 0) {
		client_close(l, c, why ? why : "write failed");
		return;
	}
	if (c->inlen == TCP_IN_MAX)
		client_close(l, c, "a message longer than 256 KiB");
}

static void tcp_accept(struct ng_listen *l, int lfd)
{
	for (int i = 0; i < BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &plen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *c;
		struct epoll_event ev = { .events = EPOLLIN };

		if (fd < 0)
			return;
		if (!ng_net_allowed(l->allow, l->nallow, (struct sockaddr *)&peer)) {
			refuse(l, (struct sockaddr *)&peer, "a tcp connection");
			close(fd);
			continue;
		}
		if (l->nclients >= TCP_CLIENTS || !(c = calloc(1, sizeof(*c)))) {
			log_warn("ng: tcp connection refused: %d clients already",
				 l->nclients);
			close(fd);
			continue;
		}
		c->it = (struct item){ .kind = IT_CLIENT, .fd = fd };
		c->peer = peer;
		c->last_ms = now_ms();
		ev.data.ptr = &c->it;
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = l->clients;
		l->clients = c;
		l->nclients++;
	}
}

/* Stalled and idle clients go. */
static void clients_expire(struct ng_listen *l, uint64_t now)
{
	struct client *c, *n;

	for (c = l->clients; c; c = n) {
		n = c->next;
		if (c->partial_since_ms && now - c->partial_since_ms > TCP_STALL_MS)
			client_close(l, c, "half a message, then nothing for "
				     "10 s");
		else if (now - c->last_ms > TCP_IDLE_MS)
			client_close(l, c, "idle for 5 minutes");
	}
}

void ng_listen_run(struct ng_listen *l)
{
	struct epoll_event ev[32];
	int n = epoll_wait(l->epfd, ev, 32, 0);

	for (int i = 0; i < n; i++) {
		struct item *it = ev[i].data.ptr;

		if (it->kind == IT_UDP)
			udp_run(l, it->fd);
		else if (it->kind == IT_TCP_LISTEN)
			tcp_accept(l, it->fd);
		else if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			client_read(l, (struct client *)it);
		else if (client_flush(l, (struct client *)it) < 0)
			client_close(l, (struct client *)it, "write failed");
	}
	clients_expire(l, now_ms());
	ng_tick(l->ng, now_ms());
}

int ng_listen_timeout_ms(struct ng_listen *l)
{
	int t = ng_tick(l->ng, now_ms());

	if (l->clients && (t < 0 || t > 1000))
		t = 1000; /* stalled clients are looked at once a second */
	return t;
}
