// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "streamsrv.h"

#define SRV_EVENTS 32
#define SRV_LINGER_MS 2000 /* reading what a closed client still sends */

struct client {
	int fd;                /* -1: a free slot */
	char *in;              /* in_max + 1 bytes */
	size_t inlen;
	struct outbuf out;
	size_t sent;           /* of out.len */
	int closing;           /* close once out is sent */
	int draining;          /* out sent, our side shut: discard input */
	uint64_t deadline_ms;
};

struct streamsrv {
	int epfd, lfd;
	const struct srv_ops *ops;
	void *ctx;
	struct srv_limits lim;
	unsigned nclients;
	struct client *c;      /* lim.max_clients slots */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct streamsrv *srv_new(int listen_fd, const struct srv_ops *ops,
			  void *ctx, const struct srv_limits *lim, char *err,
			  size_t errlen)
{
	struct streamsrv *s = calloc(1, sizeof(*s));
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

	if (!s || !(s->c = calloc(lim->max_clients, sizeof(*s->c)))) {
		free(s);
		close(listen_fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->lfd = listen_fd;
	s->ops = ops;
	s->ctx = ctx;
	s->lim = *lim;
	for (unsigned i = 0; i < lim->max_clients; i++)
		s->c[i].fd = -1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, listen_fd, &ev)) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		srv_free(s);
		return NULL;
	}
	return s;
}

static void client_close(struct streamsrv *s, struct client *c)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	free(c->in);
	c->in = NULL;
	ob_free(&c->out);
	s->nclients--;
}

void srv_free(struct streamsrv *s)
{
	if (!s)
		return;
	for (unsigned i = 0; s->c && i < s->lim.max_clients; i++)
		if (s->c[i].fd >= 0)
			client_close(s, &s->c[i]);
	free(s->c);
	if (s->epfd >= 0)
		close(s->epfd);
	close(s->lfd);
	free(s);
}

int srv_fd(const struct streamsrv *s) { return s->epfd; }
unsigned srv_clients(const struct streamsrv *s) { return s->nclients; }

static struct client *free_slot(struct streamsrv *s)
{
	for (unsigned i = 0; i < s->lim.max_clients; i++)
		if (s->c[i].fd < 0)
			return &s->c[i];
	return NULL;
}

/* A full table turns new clients away at once: they see the connection
 * close, rather than hang. */
static void accept_all(struct streamsrv *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct client *c;
	int fd;

	while ((fd = accept4(s->lfd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = free_slot(s);
		if (!c || !(c->in = malloc(s->lim.in_max + 1))) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->inlen = 0;
		c->sent = 0;
		c->closing = 0;
		c->draining = 0;
		c->deadline_ms = now_ms() + s->lim.idle_ms;
		ob_init(&c->out, s->lim.out_max);
		ev.data.ptr = c;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			c->fd = -1;
			free(c->in);
			c->in = NULL;
			continue;
		}
		s->nclients++;
	}
}

static void want(struct streamsrv *s, struct client *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Hand complete requests to the protocol until it wants more input or a
 * reply is pending. */
static void process(struct streamsrv *s, struct client *c)
{
	while (!c->closing && c->out.len == 0) {
		size_t used = 0;
		enum srv_verdict v;

		c->in[c->inlen] = 0;
		v = s->ops->input(s->ctx, c->in, c->inlen,
				  c->inlen >= s->lim.in_max, &c->out, &used);
		if (v == SRV_MORE)
			return;
		if (v == SRV_CLOSE)
			c->closing = 1;
		if (used > c->inlen)
			used = c->inlen;
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
		if (v == SRV_REPLY && used == 0)
			c->closing = 1; /* no progress: would loop */
	}
}

/* Write what is pending; 0, or -1 when the client is gone. */
static int flush(struct streamsrv *s, struct client *c)
{
	while (c->sent < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + c->sent,
				 c->out.len - c->sent, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			want(s, c, EPOLLOUT);
			return 0;
		}
		if (n <= 0)
			return -1;
		c->sent += (size_t)n;
	}
	ob_reset(&c->out);
	c->sent = 0;
	want(s, c, EPOLLIN);
	if (c->closing) {
		/* Close only once the client has stopped sending: closing
		 * with its bytes unread would reset the connection, and the
		 * client could lose the reply that says what was wrong. */
		shutdown(c->fd, SHUT_WR);
		c->draining = 1;
		c->deadline_ms = now_ms() + SRV_LINGER_MS;
	}
	return 0;
}

/* A closing client: discard what it sends; -1 at its EOF. */
static int drain(struct client *c)
{
	char buf[4096];
	ssize_t n;
	int i = 0;

	/* bounded: a client that keeps sending cannot hold the loop */
	while ((n = recv(c->fd, buf, sizeof(buf), 0)) > 0 && ++i < 64)
		;
	if (n > 0)
		return 0;
	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
			 errno == EINTR) ? 0 : -1;
}

/* Read what there is; 0, or -1 when the client is gone. */
static int fill(struct streamsrv *s, struct client *c)
{
	while (c->inlen < s->lim.in_max) {
		ssize_t n = recv(c->fd, c->in + c->inlen,
				 s->lim.in_max - c->inlen, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		c->inlen += (size_t)n;
	}
	return 0;
}

static void serve(struct streamsrv *s, struct client *c, uint32_t events)
{
	int gone = 0;

	if (c->draining) {
		if (drain(c) < 0)
			client_close(s, c);
		return;
	}
	c->deadline_ms = now_ms() + s->lim.idle_ms;
	if (c->out.len == 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		gone = fill(s, c) < 0;
	/* What arrived before an EOF is still served (a client may send
	 * its request and shut its side down). */
	for (;;) {
		process(s, c);
		if (!c->out.len && !c->closing)
			break;
		if (flush(s, c) < 0) {
			client_close(s, c);
			return;
		}
		if (c->out.len || c->draining)
			return; /* the rest when the client reads */
	}
	if (gone)
		client_close(s, c);
}

static void expire(struct streamsrv *s)
{
	uint64_t now = now_ms();

	for (unsigned i = 0; i < s->lim.max_clients; i++)
		if (s->c[i].fd >= 0 && now >= s->c[i].deadline_ms)
			client_close(s, &s->c[i]);
}

void srv_run(struct streamsrv *s)
{
	struct epoll_event ev[SRV_EVENTS];
	int n, i;

	n = epoll_wait(s->epfd, ev, SRV_EVENTS, 0);
	for (i = 0; i < n; i++) {
		struct client *c = ev[i].data.ptr;

		if (!c)
			accept_all(s);
		else if (c->fd >= 0)
			serve(s, c, ev[i].events);
	}
	expire(s);
}

int srv_timeout_ms(const struct streamsrv *s)
{
	uint64_t now = now_ms(), next = UINT64_MAX;

	for (unsigned i = 0; i < s->lim.max_clients; i++)
		if (s->c[i].fd >= 0 && s->c[i].deadline_ms < next)
			next = s->c[i].deadline_ms;
	if (next == UINT64_MAX)
		return -1;
	return next > now ? (int)(next - now) : 0;
}
