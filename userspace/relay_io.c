// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fastpath.h"
#include "inet_csum.h"
#include "log.h"
#include "netaddr.h"
#include "relay_io.h"

#define BATCH   64
#define ROUNDS  4  /* batches read per event and run: 256 packets, as SIP
		      reads 256 messages a turn */
#define PKT_MAX 2048
#define CMSG_SZ 64
#define RCVBUF  (4 << 20) /* a socket's receive buffer */

/* What epoll's data.ptr points at: one socket the io reads. */
struct io_sock {
	uint32_t tag;
	int fd;
	void *owner; /* socket mode: the port's owner */
	struct sockaddr_storage local;
};

/* Outgoing packets, sent together by relay_io_flush(). */
struct txq {
	int n;
	int fd[BATCH];
	void *tag[BATCH];
	size_t len[BATCH];                 /* payload bytes */
	struct sockaddr_storage dst[BATCH];
	struct iovec iov[BATCH];
	uint8_t buf[BATCH][PKT_MAX];
};

struct relay_io {
	int epfd;
	int steered;
	struct io_sock steer4, steer6;
	int raw4, raw6;
	struct io_sock **byfd; /* socket mode: each port's io_sock by fd */
	int nbyfd;
	struct txq tx;
	relay_io_sent_cb sent_cb;
	void *sent_arg;
	unsigned long long tx_refused;     /* packets the sockets did not take */
	/* receive batch */
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage src[BATCH];
	uint8_t rbuf[BATCH][PKT_MAX];
	uint8_t cbuf[BATCH][CMSG_SZ];
};

/*
 * A receive buffer of want bytes: SO_RCVBUF, capped at net.core.rmem_max;
 * past it with SO_RCVBUFFORCE if force (CAP_NET_ADMIN). A smaller buffer
 * is not fatal; it is said at debug level, unless what is NULL (a port's
 * socket in socket mode: one line per port would be too many).
 */
static void rcvbuf(int fd, int want, int force, const char *what)
{
	int got = 0;
	socklen_t sl = sizeof(got);

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &sl) == 0 &&
	    got / 2 >= want) /* the kernel doubles it for its overhead */
		return;
	if (force) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want));
		sl = sizeof(got);
		if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &sl) == 0 &&
		    got / 2 >= want)
			return;
	}
	if (what)
		log_debug("relay: %s: receive buffer %d bytes, not %d (net.core."
			  "rmem_max caps it%s)", what, got / 2, want,
			  force ? ", and no CAP_NET_ADMIN to pass it" : "");
}

static int udp_socket(int family, const struct sockaddr *bind_to)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -errno;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	rcvbuf(fd, RCVBUF, 0, NULL);
	if (bind(fd, bind_to, netaddr_len(bind_to)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static int watch(struct relay_io *io, struct io_sock *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };

	s->tag = RELAY_IO_TAG;
	return epoll_ctl(io->epfd, EPOLL_CTL_ADD, s->fd, &ev) ? -errno : 0;
}

/* The raw sockets packets leave by, both or neither: -errno (and both -1)
 * without CAP_NET_RAW. */
static int open_raw(struct relay_io *io)
{
	int rc;

	io->raw4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	io->raw6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (io->raw4 >= 0 && io->raw6 >= 0)
		return 0;
	rc = -errno;
	if (io->raw4 >= 0)
		close(io->raw4);
	if (io->raw6 >= 0)
		close(io->raw6);
	io->raw4 = io->raw6 = -1;
	return rc;
}

/* The steered sockets: wildcard, any port; sk_lookup decides what they get. */
static int open_steered(struct relay_io *io, struct fastpath *fp, char *err,
			size_t errlen)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	int one = 1, rc;

	io->steer4.fd = udp_socket(AF_INET, (struct sockaddr *)&a4);
	io->steer6.fd = udp_socket(AF_INET6, (struct sockaddr *)&a6);
	if (io->steer4.fd < 0 || io->steer6.fd < 0 || (rc = open_raw(io))) {
		snprintf(err, errlen, "cannot open the relay's sockets (%s): "
			 "raw sockets need CAP_NET_RAW", strerror(errno));
		return -EPERM;
	}
	/* Each takes the first packets of every relay port of its family:
	 * past rmem_max if it must. */
	rcvbuf(io->steer4.fd, RCVBUF, 1, "the steered IPv4 socket");
	rcvbuf(io->steer6.fd, RCVBUF, 1, "the steered IPv6 socket");
	setsockopt(io->steer4.fd, IPPROTO_IP, IP_RECVORIGDSTADDR, &one,
		   sizeof(one));
	setsockopt(io->steer6.fd, IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, &one,
		   sizeof(one));
	rc = fastpath_steer(fp, io->steer4.fd, io->steer6.fd, err, errlen);
	if (rc)
		return rc;
	if ((rc = watch(io, &io->steer4)) || (rc = watch(io, &io->steer6))) {
		snprintf(err, errlen, "epoll: %s", strerror(-rc));
		return rc;
	}
	return 0;
}


struct relay_io *relay_io_new(int epfd, struct fastpath *fp, char *err,
			      size_t errlen)
{
	struct relay_io *io = calloc(1, sizeof(*io));
	int rc;

	if (!io) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	io->epfd = epfd;
	io->steer4.fd = io->steer6.fd = io->raw4 = io->raw6 = -1;
	for (int i = 0; i < BATCH; i++) {
		io->iov[i].iov_base = io->rbuf[i];
		io->iov[i].iov_len = PKT_MAX;
	}
	if (fp) {
		io->steered = 1;
		if (open_steered(io, fp, err, errlen)) {
			relay_io_free(io);
			return NULL;
		}
	} else if ((rc = open_raw(io))) {
		/* Socket mode sends a batch through the raw sockets in one
		 * sendmmsg whatever ports it came from (a socket per port
		 * took a syscall per packet); without them, each port's
		 * socket sends. */
		log_debug("relay: no raw sockets (%s): each port's socket "
			  "sends its packets", strerror(-rc));
	}
	return io;
}

void relay_io_free(struct relay_io *io)
{
	if (!io)
		return;
	if (io->steer4.fd >= 0)
		close(io->steer4.fd);
	if (io->steer6.fd >= 0)
		close(io->steer6.fd);
	if (io->raw4 >= 0)
		close(io->raw4);
	if (io->raw6 >= 0)
		close(io->raw6);
	for (int fd = 0; fd < io->nbyfd; fd++)
		if (io->byfd[fd])
			relay_io_close_port(io, fd);
	free(io->byfd);
	free(io);
}

void relay_io_set_sent_cb(struct relay_io *io, relay_io_sent_cb cb,
			  void *arg)
{
	io->sent_cb = cb;
	io->sent_arg = arg;
}

int relay_io_open_port(struct relay_io *io, const struct sockaddr *local,
		       void *owner)
{
	struct io_sock *s;
	int fd, rc;

	if (io->steered)
		return -1;
	fd = udp_socket(local->sa_family, local);
	if (fd < 0)
		return fd;
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	s->fd = fd;
	s->owner = owner;
	memcpy(&s->local, local, netaddr_len(local));
	if (fd >= io->nbyfd) {
		int n = fd * 2 + 64;
		struct io_sock **t = realloc(io->byfd, (size_t)n * sizeof(*t));

		if (!t) {
			rc = -ENOMEM;
			goto fail;
		}
		memset(t + io->nbyfd, 0, (size_t)(n - io->nbyfd) * sizeof(*t));
		io->byfd = t;
		io->nbyfd = n;
	}
	rc = watch(io, s);
	if (rc)
		goto fail;
	io->byfd[fd] = s;
	return fd;
fail:
	close(fd);
	free(s);
	return rc;
}

void relay_io_close_port(struct relay_io *io, int fd)
{
	if (fd < 0 || fd >= io->nbyfd || !io->byfd[fd])
		return;
	epoll_ctl(io->epfd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	free(io->byfd[fd]);
	io->byfd[fd] = NULL;
}

/* IPv4/IPv6 + UDP headers in front of the payload, for the raw sockets. */
static size_t build_raw(uint8_t *out, const struct sockaddr *src,
			const struct sockaddr *dst, const void *buf,
			size_t len)
{
	struct udphdr *udp;
	const void *sa, *da; /* the addresses, for the pseudo-header */
	size_t hl, alen;

	if (src->sa_family == AF_INET) {
		struct iphdr *ip = (struct iphdr *)out;
		const struct sockaddr_in *s = (const void *)src,
					 *d = (const void *)dst;

		hl = sizeof(*ip);
		memset(ip, 0, hl);
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->tot_len = htons((uint16_t)(hl + 8 + len));
		ip->saddr = s->sin_addr.s_addr;
		ip->daddr = d->sin_addr.s_addr;
		udp = (struct udphdr *)(out + hl);
		udp->source = s->sin_port;
		udp->dest = d->sin_port;
		sa = &s->sin_addr;
		da = &d->sin_addr;
		alen = 4;
	} else {
		struct ip6_hdr *ip6 = (struct ip6_hdr *)out;
		const struct sockaddr_in6 *s = (const void *)src,
					  *d = (const void *)dst;

		hl = sizeof(*ip6);
		memset(ip6, 0, hl);
		ip6->ip6_flow = htonl(6u << 28);
		ip6->ip6_plen = htons((uint16_t)(8 + len));
		ip6->ip6_nxt = IPPROTO_UDP;
		ip6->ip6_hlim = 64;
		ip6->ip6_src = s->sin6_addr;
		ip6->ip6_dst = d->sin6_addr;
		udp = (struct udphdr *)(out + hl);
		udp->source = s->sin6_port;
		udp->dest = d->sin6_port;
		sa = &s->sin6_addr;
		da = &d->sin6_addr;
		alen = 16;
	}
	udp->len = htons((uint16_t)(8 + len));
	udp->check = 0;
	memcpy(udp + 1, buf, len);
	udp->check = inet_udp_csum(sa, da, alen, udp, 8 + len);
	return hl + 8 + len;
}

int relay_io_send(struct relay_io *io, int fd, const struct sockaddr *local,
		  const struct sockaddr *dst, const void *buf, size_t len,
		  void *tag)
{
	struct txq *q = &io->tx;
	int i, raw;

	if (local->sa_family != dst->sa_family)
		return -EAFNOSUPPORT;
	if (len + 48 > PKT_MAX)
		return -EMSGSIZE;
	if (q->n == BATCH)
		relay_io_flush(io);
	i = q->n++;
	q->tag[i] = tag;
	q->len[i] = len;
	memset(&q->dst[i], 0, sizeof(q->dst[i]));
	memcpy(&q->dst[i], dst, netaddr_len(dst));
	raw = dst->sa_family == AF_INET ? io->raw4 : io->raw6;
	if (raw >= 0) {
		q->fd[i] = raw;
		q->iov[i].iov_len = build_raw(q->buf[i], local, dst, buf, len);
		/* Raw sockets read the port field as a protocol: zero it. */
		netaddr_set_port((struct sockaddr *)&q->dst[i], 0);
	} else {
		q->fd[i] = fd;
		memcpy(q->buf[i], buf, len);
		q->iov[i].iov_len = len;
	}
	q->iov[i].iov_base = q->buf[i];
	return 0;
}

/* sendmmsg runs of consecutive packets that share a socket. */
void relay_io_flush(struct relay_io *io)
{
	struct txq *q = &io->tx;
	struct mmsghdr m[BATCH];
	int start = 0;

	for (int i = 0; i < q->n; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].msg_hdr.msg_name = &q->dst[i];
		m[i].msg_hdr.msg_namelen =
			netaddr_len((struct sockaddr *)&q->dst[i]);
		m[i].msg_hdr.msg_iov = &q->iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	while (start < q->n) {
		int end = start + 1, sent;

		while (end < q->n && q->fd[end] == q->fd[start])
			end++;
		sent = sendmmsg(q->fd[start], &m[start],
				(unsigned)(end - start), MSG_DONTWAIT);
		if (sent < end - start) {
			/* What the socket did not take is dropped, and not
			 * counted as forwarded. */
			io->tx_refused += (unsigned long long)(end - start -
							      (sent > 0 ? sent : 0));
			log_debug("relay: sendmmsg: %d of %d sent (%s); %llu "
				  "refused in all", sent < 0 ? 0 : sent,
				  end - start, sent < 0 ? strerror(errno) :
				  "partial", io->tx_refused);
		}
		for (int i = start; i < start + sent && io->sent_cb; i++)
			io->sent_cb(io->sent_arg, q->tag[i],
				    q->dst[i].ss_family, q->len[i]);
		start = end;
	}
	q->n = 0;
}

/* The original destination of a steered packet. */
static int orig_dst(struct msghdr *mh, struct sockaddr_storage *out)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c;
	     c = CMSG_NXTHDR(mh, c)) {
		if ((c->cmsg_level == IPPROTO_IP &&
		     c->cmsg_type == IP_ORIGDSTADDR) ||
		    (c->cmsg_level == IPPROTO_IPV6 &&
		     c->cmsg_type == IPV6_ORIGDSTADDR)) {
			size_t n = c->cmsg_len - CMSG_LEN(0);

			memset(out, 0, sizeof(*out));
			memcpy(out, CMSG_DATA(c),
			       n < sizeof(*out) ? n : sizeof(*out));
			return 0;
		}
	}
	return -1;
}

int relay_io_handle(struct relay_io *io, const struct epoll_event *ev,
		    relay_io_cb cb, void *arg)
{
	struct io_sock *s = ev->data.ptr;
	struct sockaddr_storage local;
	int n;

	if (!s || s->tag != RELAY_IO_TAG)
		return 0;
	/* Full batches while the socket has more, up to ROUNDS: a busy
	 * steered socket (every port's first packets) gets as many reads a
	 * turn as the SIP listener. */
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < BATCH; i++) {
			struct msghdr *mh = &io->msgs[i].msg_hdr;

			memset(mh, 0, sizeof(*mh));
			mh->msg_name = &io->src[i];
			mh->msg_namelen = sizeof(io->src[i]);
			mh->msg_iov = &io->iov[i];
			mh->msg_iovlen = 1;
			mh->msg_control = io->steered ? io->cbuf[i] : NULL;
			mh->msg_controllen = io->steered ? CMSG_SZ : 0;
		}
		n = recvmmsg(s->fd, io->msgs, BATCH, MSG_DONTWAIT, NULL);
		for (int i = 0; i < n; i++) {
			if (io->steered) {
				if (orig_dst(&io->msgs[i].msg_hdr, &local))
					continue;
			} else {
				local = s->local;
			}
			cb(arg, io->steered ? NULL : s->owner,
			   (struct sockaddr *)&local,
			   (struct sockaddr *)&io->src[i], io->rbuf[i],
			   io->msgs[i].msg_len);
		}
		if (n < BATCH)
			break;
	}
	return 1;
}
