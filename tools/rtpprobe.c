// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * rtpprobe: a plain RTP peer for the end-to-end tests and for an operator.
 *
 *   send  sends an RTP stream (V=2, PT, sequence numbers, timestamps +160,
 *         SSRC, marker on the first packet) from a UDP socket, paced.
 *   recv  receives on a UDP port and prints what arrived as key=value
 *         lines; with --iface it also captures on that interface
 *         (AF_PACKET) and checks every matching frame's IPv4 header
 *         checksum and UDP checksum recomputed from scratch, and its TTL or
 *         hop limit.
 *
 * Exit: 0 when the expectation holds, 1 when it does not (or a system call
 * failed), 2 on a usage error. Every wait has a deadline.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "inet_csum.h"
#include "netaddr.h"

#define RTP_HDR_LEN 12
#define MAX_DATAGRAM 65507
#define MAX_SOURCES 16
#define RCVBUF (4 << 20)
#define BUF_LEN 65600 /* a datagram or a captured frame, with room */

static const char *prog = "rtpprobe";

static void usage(FILE *f)
{
	fprintf(f,
"usage: rtpprobe send --to A:P [--from A:P] [--count N] [--rate PPS]\n"
"                     [--size BYTES] [--ssrc X] [--pt N] [--seq N] [--ttl N]\n"
"         send N RTP packets (default 10) of BYTES (default 172 = 12 header\n"
"         + 160 payload) at PPS packets/s (default 50; 0 = unpaced).\n"
"         Prints sent=, bytes=, src=, dst=.\n"
"       rtpprobe recv --port P [--bind ADDR] [--count N] [--timeout SEC]\n"
"                     [--expect-src A:P] [--iface IF]\n"
"         receive until N packets arrived or SEC seconds (default 5) passed.\n"
"         Exit 0 when exactly N arrived from the expected source and none\n"
"         from another (--count 0: none at all; no --count: at least one).\n"
"         Prints received=, src=, sources=, foreign=, ssrc=, pt=,\n"
"         first_seq=, last_seq=, lost=, dup=, late=, not_rtp=, bytes=,\n"
"         max_gap_ms=; with --iface also cap_frames=, csum_ok=, csum_bad=,\n"
"         csum_bad_ip=, csum_bad_udp=, csum_none=, csum_partial=,\n"
"         ttl= (the value, or 'mixed'), ttl_min=, ttl_max=.\n"
"         With --send-to A:P [--send-count N] [--send-rate PPS]\n"
"         [--send-ssrc X] [--send-delay SEC], it also sends an RTP\n"
"         stream from the same\n"
"         socket, as a phone does (symmetric RTP), and prints sent=.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (rtpprobe --help)\n");
	return 2;
}

static int sys_error(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	return 1;
}

/* A whole number in [min, max]; decimal, or hex with 0x. */
static int parse_num(const char *s, unsigned long long min,
		     unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || *end || *out < min || *out > max)
		return -1;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- checksums, recomputed from scratch ----------------------------------
 *
 * With userspace/inet_csum.c (RFC 1071), never updated incrementally, so
 * that they can judge the relay's incremental updates. A block whose sum
 * includes its own checksum field is valid when the folded, complemented
 * sum is zero.
 */
static int ipv4_header_csum_ok(const uint8_t *ip, size_t hlen)
{
	return inet_csum_fold(inet_csum_add(0, ip, hlen)) == 0;
}

/* The UDP checksum with its pseudo-header (RFC 768; RFC 8200 8.1 for IPv6:
 * addresses, protocol, UDP length). alen is 4 or 16. */
static int udp_csum_ok(const uint8_t *saddr, const uint8_t *daddr,
		       size_t alen, const uint8_t *udp, size_t ulen)
{
	uint32_t sum = 0;

	sum = inet_csum_add(sum, saddr, alen);
	sum = inet_csum_add(sum, daddr, alen);
	sum += IPPROTO_UDP + (uint32_t)ulen;
	sum = inet_csum_add(sum, udp, ulen);
	return inet_csum_fold(sum) == 0;
}

/* ---- send ---------------------------------------------------------------- */

struct send_opts {
	struct sockaddr_storage to, from;
	int have_to, have_from;
	unsigned long long count, rate, size, ssrc, pt, seq, ttl;
};

static int set_ttl(int fd, int family, int ttl)
{
	if (family == AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl,
				  sizeof(ttl));
	return setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
}

static void rtp_header(uint8_t *b, const struct send_opts *o, uint64_t i)
{
	uint16_t seq = (uint16_t)(o->seq + i);
	uint32_t ts = (uint32_t)(i * 160);
	uint32_t ssrc = (uint32_t)o->ssrc;

	b[0] = 0x80; /* V=2, no padding, no extension, no CSRC */
	b[1] = (uint8_t)(o->pt | (i == 0 ? 0x80 : 0)); /* marker: first */
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	b[4] = (uint8_t)(ts >> 24);
	b[5] = (uint8_t)(ts >> 16);
	b[6] = (uint8_t)(ts >> 8);
	b[7] = (uint8_t)ts;
	b[8] = (uint8_t)(ssrc >> 24);
	b[9] = (uint8_t)(ssrc >> 16);
	b[10] = (uint8_t)(ssrc >> 8);
	b[11] = (uint8_t)ssrc;
}

static int send_packet(int fd, const uint8_t *buf, size_t len,
		       const struct sockaddr *to)
{
	/* A full queue (ENOBUFS at high rates) is waited out, briefly. */
	for (int tries = 0; tries < 1000; tries++) {
		if (sendto(fd, buf, len, 0, to, netaddr_len(to)) == (ssize_t)len)
			return 0;
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			return -1;
		usleep(100);
	}
	return -1;
}

static int cmd_send(const struct send_opts *o)
{
	const struct sockaddr *to = (const struct sockaddr *)&o->to;
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	char lbuf[NETADDR_STRLEN], tbuf[NETADDR_STRLEN];
	uint8_t *buf;
	struct timespec start, next;
	uint64_t sent = 0;
	int fd, rc = 1;

	fd = socket(to->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0)
		return sys_error("socket");
	if (o->have_from &&
	    bind(fd, (const struct sockaddr *)&o->from,
		 netaddr_len((const struct sockaddr *)&o->from)) < 0) {
		netaddr_str((const struct sockaddr *)&o->from, lbuf, sizeof(lbuf));
		fprintf(stderr, "%s: cannot bind to %s: %s (is the address on "
			"an interface here, and the port free?)\n", prog, lbuf,
			strerror(errno));
		close(fd);
		return 1;
	}
	if (o->ttl && set_ttl(fd, to->sa_family, (int)o->ttl) < 0) {
		close(fd);
		return sys_error("setting the TTL");
	}
	buf = calloc(1, o->size);
	if (!buf) {
		close(fd);
		return sys_error("allocating the packet");
	}
	memset(buf + RTP_HDR_LEN, 0xff, o->size - RTP_HDR_LEN); /* u-law 0 */
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (; sent < o->count; sent++) {
		if (o->rate) {
			uint64_t ns = sent * 1000000000ULL / o->rate;

			next.tv_sec = start.tv_sec + (time_t)(ns / 1000000000ULL);
			next.tv_nsec = start.tv_nsec + (long)(ns % 1000000000ULL);
			if (next.tv_nsec >= 1000000000L) {
				next.tv_sec++;
				next.tv_nsec -= 1000000000L;
			}
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
					       &next, NULL) == EINTR)
				;
		}
		rtp_header(buf, o, sent);
		if (send_packet(fd, buf, o->size, to) < 0) {
			sys_error("sendto");
			goto out;
		}
	}
	rc = 0;
out:
	if (getsockname(fd, (struct sockaddr *)&local, &llen) < 0)
		local.ss_family = AF_UNSPEC;
	printf("sent=%llu\nbytes=%llu\nsrc=%s\ndst=%s\n",
	       (unsigned long long)sent,
	       (unsigned long long)(sent * o->size),
	       netaddr_str((struct sockaddr *)&local, lbuf, sizeof(lbuf)),
	       netaddr_str(to, tbuf, sizeof(tbuf)));
	free(buf);
	close(fd);
	return rc;
}

static int parse_send(int argc, char **argv, struct send_opts *o)
{
	static const struct option opts[] = {
		{ "to", 1, 0, 't' }, { "from", 1, 0, 'f' },
		{ "count", 1, 0, 'c' }, { "rate", 1, 0, 'r' },
		{ "size", 1, 0, 's' }, { "ssrc", 1, 0, 'S' },
		{ "pt", 1, 0, 'p' }, { "seq", 1, 0, 'q' },
		{ "ttl", 1, 0, 'T' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
	};
	int c;

	o->count = 10;
	o->rate = 50;
	o->size = 172;
	o->ssrc = 0x58520001; /* "XR" 1 */
	o->pt = 0;
	o->seq = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (netaddr_parse(optarg, -1, &o->to))
				return usage_error("--to '%s' is not an "
					"address:port (192.0.2.1:4000 or "
					"[2001:db8::1]:4000)", optarg);
			o->have_to = 1;
			break;
		case 'f':
			if (netaddr_parse(optarg, -1, &o->from))
				return usage_error("--from '%s' is not an "
					"address:port (port 0: any)", optarg);
			o->have_from = 1;
			break;
		case 'c':
			if (parse_num(optarg, 0, UINT32_MAX, &o->count))
				return usage_error("--count '%s' is not a "
						   "number of packets", optarg);
			break;
		case 'r':
			if (parse_num(optarg, 0, 10000000, &o->rate))
				return usage_error("--rate '%s' is not packets "
						   "per second (0 = unpaced)",
						   optarg);
			break;
		case 's':
			if (parse_num(optarg, RTP_HDR_LEN, MAX_DATAGRAM, &o->size))
				return usage_error("--size '%s' is not 12..65507 "
						   "bytes (RTP header included)",
						   optarg);
			break;
		case 'S':
			if (parse_num(optarg, 0, UINT32_MAX, &o->ssrc))
				return usage_error("--ssrc '%s' is not a 32-bit "
						   "number", optarg);
			break;
		case 'p':
			if (parse_num(optarg, 0, 127, &o->pt))
				return usage_error("--pt '%s' is not a payload "
						   "type 0..127", optarg);
			break;
		case 'q':
			if (parse_num(optarg, 0, 65535, &o->seq))
				return usage_error("--seq '%s' is not a sequence "
						   "number 0..65535", optarg);
			break;
		case 'T':
			if (parse_num(optarg, 1, 255, &o->ttl))
				return usage_error("--ttl '%s' is not 1..255",
						   optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return usage_error("bad option for send%s", "");
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->have_to)
		return usage_error("send needs --to A:P%s", "");
	if (o->have_from && o->from.ss_family != o->to.ss_family)
		return usage_error("--from and --to differ in address family%s",
				   "");
	return 0;
}

/* ---- recv: the UDP socket ------------------------------------------------- */

struct recv_opts {
	unsigned long long port;
	struct sockaddr_storage bind_addr, expect;
	int have_bind, have_expect;
	long long count; /* -1: until the timeout, at least one */
	double timeout;
	const char *iface;
	struct send_opts snd;     /* --send-to: symmetric RTP from this socket */
	int have_send;
	double send_delay;        /* seconds before the first packet */
};

struct rtp_state {
	uint64_t received, foreign, not_rtp, bytes, dup, late, rtp;
	struct sockaddr_storage src[MAX_SOURCES];
	int nsrc, more_sources;
	uint32_t ssrc;
	uint8_t pt;
	uint16_t first_seq;
	uint32_t ext_first, ext_max; /* cycles << 16 | seq */
	double last_at, max_gap;
};

/* A v4-mapped IPv6 address (from the dual-stack socket) as plain IPv4. */
static void unmap(struct sockaddr_storage *ss)
{
	struct sockaddr_in6 s6 = *(struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr))
		return;
	memset(ss, 0, sizeof(*ss));
	s4->sin_family = AF_INET;
	s4->sin_port = s6.sin6_port;
	memcpy(&s4->sin_addr, &s6.sin6_addr.s6_addr[12], 4);
}

static void note_source(struct rtp_state *st, const struct sockaddr_storage *ss)
{
	for (int i = 0; i < st->nsrc; i++)
		if (netaddr_equal((const void *)&st->src[i], (const void *)ss))
			return;
	if (st->nsrc < MAX_SOURCES)
		st->src[st->nsrc++] = *ss;
	else
		st->more_sources = 1;
}

/*
 * RFC 3550 A.1, simplified: extend the sequence number; count duplicates
 * (the highest seen, again) and late packets (older than the highest).
 */
static void rtp_account(struct rtp_state *st, const uint8_t *b, size_t len)
{
	uint16_t seq, delta;

	if (len < RTP_HDR_LEN || (b[0] >> 6) != 2) {
		st->not_rtp++;
		return;
	}
	seq = (uint16_t)(b[2] << 8 | b[3]);
	if (st->rtp++ == 0) {
		st->ssrc = (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 |
			   (uint32_t)b[10] << 8 | b[11];
		st->pt = b[1] & 0x7f;
		st->first_seq = seq;
		st->ext_first = st->ext_max = seq;
		return;
	}
	delta = (uint16_t)(seq - (uint16_t)st->ext_max);
	if (delta == 0)
		st->dup++;
	else if (delta < 0x8000)
		st->ext_max += delta;
	else
		st->late++;
}

static int udp_open(const struct recv_opts *o)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	int fd, off = 0, buf = RCVBUF;

	if (o->have_bind) {
		ss = o->bind_addr;
	} else {
		s6->sin6_family = AF_INET6; /* [::], dual stack */
		s6->sin6_addr = in6addr_any;
	}
	netaddr_set_port((struct sockaddr *)&ss, (int)o->port);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0 && !o->have_bind && errno == EAFNOSUPPORT) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		memset(&ss, 0, sizeof(ss)); /* no IPv6 here: IPv4 only */
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)o->port);
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	}
	if (fd < 0)
		return -1;
	if (ss.ss_family == AF_INET6 && !o->have_bind)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&ss, netaddr_len((void *)&ss)) < 0) {
		char a[NETADDR_STRLEN];
		int e = errno;

		fprintf(stderr, "%s: cannot bind UDP %s: %s\n", prog,
			netaddr_str((struct sockaddr *)&ss, a, sizeof(a)),
			strerror(e));
		close(fd);
		errno = e;
		return -2;
	}
	return fd;
}

static void udp_drain(int fd, const struct recv_opts *o, struct rtp_state *st,
		      uint8_t *buf)
{
	struct sockaddr_storage from;
	socklen_t flen;
	ssize_t n;
	double at;

	for (;;) {
		if (o->count > 0 && st->received >= (uint64_t)o->count)
			return;
		flen = sizeof(from);
		n = recvfrom(fd, buf, BUF_LEN, MSG_DONTWAIT,
			     (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		unmap(&from);
		note_source(st, &from);
		if (o->have_expect &&
		    !netaddr_equal((void *)&from, (const void *)&o->expect)) {
			st->foreign++;
			continue;
		}
		at = now_s();
		if (st->received++ && at - st->last_at > st->max_gap)
			st->max_gap = at - st->last_at;
		st->last_at = at;
		st->bytes += (uint64_t)n;
		rtp_account(st, buf, (size_t)n);
	}
}

/* ---- recv: the capture ---------------------------------------------------- */

struct cap_state {
	int fd;
	uint64_t frames, ok, bad, bad_ip, bad_udp, none, partial;
	int ttl_min, ttl_max;
};

static int cap_open(struct cap_state *c, const char *iface)
{
	struct sockaddr_ll sll = { 0 };
	int one = 1, buf = RCVBUF;
	unsigned idx = if_nametoindex(iface);

	c->fd = -1;
	c->ttl_min = 256;
	c->ttl_max = -1;
	if (!idx) {
		fprintf(stderr, "%s: no interface '%s' here (--iface)\n", prog,
			iface);
		return -1;
	}
	c->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (c->fd < 0) {
		sys_error("AF_PACKET socket (needs CAP_NET_RAW)");
		return -1;
	}
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	/* The aux data says whether the checksum is still partial. */
	setsockopt(c->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)idx;
	if (bind(c->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		sys_error("binding the capture to the interface");
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * One captured frame: if it is a UDP datagram to our port, check its
 * checksums from scratch and note its TTL / hop limit.
 */
static void cap_frame(struct cap_state *c, const uint8_t *f, size_t len,
		      uint16_t port, int partial)
{
	const uint8_t *ip, *udp, *sa, *da;
	size_t off = 14, iplen, hlen, ulen, alen;
	uint16_t type;
	int ttl, ip_ok = 1, udp_ok, none;

	if (len < off)
		return;
	type = get16(f + 12);
	while ((type == 0x8100 || type == 0x88a8) && len >= off + 4) {
		type = get16(f + off + 2);
		off += 4;
	}
	ip = f + off;
	if (type == 0x0800) {
		if (len < off + 20 || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_UDP)
			return;
		hlen = (size_t)(ip[0] & 0x0f) * 4;
		iplen = get16(ip + 2);
		if (hlen < 20 || iplen < hlen + 8 || len < off + iplen)
			return;
		if (get16(ip + 6) & 0x3fff)
			return; /* a fragment: not ours to judge */
		udp = ip + hlen;
		ulen = iplen - hlen;
		sa = ip + 12;
		da = ip + 16;
		alen = 4;
		ttl = ip[8];
		ip_ok = ipv4_header_csum_ok(ip, hlen);
	} else if (type == 0x86dd) {
		if (len < off + 48 || (ip[0] >> 4) != 6 || ip[6] != IPPROTO_UDP)
			return;
		ulen = get16(ip + 4);
		if (ulen < 8 || len < off + 40 + ulen)
			return;
		udp = ip + 40;
		sa = ip + 8;
		da = ip + 24;
		alen = 16;
		ttl = ip[7];
	} else {
		return;
	}
	if (get16(udp + 2) != port)
		return;
	c->frames++;
	if (ttl < c->ttl_min)
		c->ttl_min = ttl;
	if (ttl > c->ttl_max)
		c->ttl_max = ttl;
	if (partial) { /* the bytes hold a partial sum: nothing to judge */
		c->partial++;
		return;
	}
	/* Zero is "no checksum" in IPv4 and invalid in IPv6 (RFC 8200). */
	none = alen == 4 && get16(udp + 6) == 0;
	udp_ok = none || (get16(udp + 4) == ulen &&
			  udp_csum_ok(sa, da, alen, udp, ulen));
	c->bad_ip += !ip_ok;
	c->bad_udp += !udp_ok;
	if (!ip_ok || !udp_ok)
		c->bad++;
	else if (none)
		c->none++;
	else
		c->ok++;
}

static void cap_drain(struct cap_state *c, uint16_t port, uint8_t *buf,
		      size_t buflen)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} ctl;
	struct sockaddr_ll sll;
	struct iovec iov = { .iov_base = buf, .iov_len = buflen };
	struct msghdr m;
	struct cmsghdr *cm;
	ssize_t n;
	int partial;

	for (;;) {
		memset(&m, 0, sizeof(m));
		m.msg_name = &sll;
		m.msg_namelen = sizeof(sll);
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = &ctl;
		m.msg_controllen = sizeof(ctl);
		n = recvmsg(c->fd, &m, MSG_DONTWAIT);
		if (n < 0)
			return;
		if (sll.sll_pkttype == PACKET_OUTGOING)
			continue; /* only what arrives */
		partial = 0;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			struct tpacket_auxdata aux;

			if (cm->cmsg_level != SOL_PACKET ||
			    cm->cmsg_type != PACKET_AUXDATA)
				continue;
			memcpy(&aux, CMSG_DATA(cm), sizeof(aux));
			partial = !!(aux.tp_status & TP_STATUS_CSUMNOTREADY);
		}
		cap_frame(c, buf, (size_t)n, port, partial);
	}
}

/* ---- recv ------------------------------------------------------------------ */

static int recv_done(const struct recv_opts *o, const struct rtp_state *st)
{
	return o->count > 0 && st->received >= (uint64_t)o->count;
}

static void print_recv(const struct rtp_state *st, const struct cap_state *c)
{
	char a[NETADDR_STRLEN];
	int64_t expected = (int64_t)(st->ext_max - st->ext_first) + 1;

	printf("received=%llu\n", (unsigned long long)st->received);
	printf("src=%s\n", st->nsrc ? netaddr_str((void *)&st->src[0], a,
						  sizeof(a)) : "-");
	printf("sources=%d%s\n", st->nsrc, st->more_sources ? "+" : "");
	printf("foreign=%llu\n", (unsigned long long)st->foreign);
	printf("bytes=%llu\n", (unsigned long long)st->bytes);
	printf("not_rtp=%llu\n", (unsigned long long)st->not_rtp);
	if (st->rtp) {
		printf("ssrc=0x%08x\npt=%u\n", st->ssrc, st->pt);
		printf("first_seq=%u\nlast_seq=%u\n", st->first_seq,
		       st->ext_max & 0xffff);
		/* RFC 3550 6.4.1: expected - received; late ones arrived,
		 * duplicates did not add a packet. */
		printf("lost=%lld\n", (long long)(expected -
			(int64_t)(st->rtp - st->dup)));
		printf("dup=%llu\nlate=%llu\n", (unsigned long long)st->dup,
		       (unsigned long long)st->late);
	}
	printf("max_gap_ms=%llu\n",
	       (unsigned long long)(st->max_gap * 1000.0 + 0.999));
	if (c->fd >= 0) {
		printf("cap_frames=%llu\n", (unsigned long long)c->frames);
		printf("csum_ok=%llu\ncsum_bad=%llu\n",
		       (unsigned long long)c->ok, (unsigned long long)c->bad);
		printf("csum_bad_ip=%llu\ncsum_bad_udp=%llu\n",
		       (unsigned long long)c->bad_ip,
		       (unsigned long long)c->bad_udp);
		printf("csum_none=%llu\ncsum_partial=%llu\n",
		       (unsigned long long)c->none,
		       (unsigned long long)c->partial);
		if (c->ttl_max < 0)
			printf("ttl=-\n");
		else if (c->ttl_min == c->ttl_max)
			printf("ttl=%d\n", c->ttl_min);
		else
			printf("ttl=mixed\n");
		printf("ttl_min=%d\nttl_max=%d\n", c->ttl_max < 0 ? -1 :
		       c->ttl_min, c->ttl_max);
	}
}

static int cmd_recv(const struct recv_opts *o)
{
	struct cap_state cap = { .fd = -1 };
	struct rtp_state st = { 0 };
	struct pollfd pfd[2];
	double deadline, send_at = 0;
	uint8_t *buf, *sbuf = NULL;
	uint64_t sent = 0;
	int fd, ok;

	buf = malloc(BUF_LEN);
	if (!buf)
		return sys_error("allocating the buffer");
	/* The capture first: it must see everything the socket gets. */
	if (o->iface && cap_open(&cap, o->iface) < 0) {
		free(buf);
		return 1;
	}
	fd = udp_open(o);
	if (fd < 0) {
		if (fd == -1)
			sys_error("UDP socket");
		if (cap.fd >= 0)
			close(cap.fd);
		free(buf);
		return 1;
	}
	deadline = now_s() + o->timeout;
	if (o->have_send) {
		sbuf = calloc(1, o->snd.size);
		if (!sbuf)
			return sys_error("allocating the packet");
		memset(sbuf + RTP_HDR_LEN, 0xff, o->snd.size - RTP_HDR_LEN);
		send_at = now_s() + o->send_delay;
	}
	while (!recv_done(o, &st) || (o->have_send && sent < o->snd.count)) {
		double left = deadline - now_s();
		int n;

		if (left <= 0)
			break;
		if (o->have_send && sent < o->snd.count) {
			if (now_s() >= send_at) {
				rtp_header(sbuf, &o->snd, sent);
				if (send_packet(fd, sbuf, o->snd.size,
						(const struct sockaddr *)&o->snd.to) == 0)
					sent++;
				send_at += o->snd.rate ? 1.0 / (double)o->snd.rate : 0;
				continue;
			}
			if (send_at - now_s() < left)
				left = send_at - now_s();
		}
		pfd[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = cap.fd, .events = POLLIN };
		n = poll(pfd, cap.fd >= 0 ? 2 : 1, (int)(left * 1000.0) + 1);
		if (n < 0 && errno != EINTR) {
			sys_error("poll");
			break;
		}
		if (n > 0 && (pfd[0].revents & POLLIN))
			udp_drain(fd, o, &st, buf);
		if (n > 0 && cap.fd >= 0 && (pfd[1].revents & POLLIN))
			cap_drain(&cap, (uint16_t)o->port, buf, BUF_LEN);
	}
	/* The tap runs before the socket is reached: what the socket got,
	 * the capture has queued by now. */
	if (cap.fd >= 0)
		cap_drain(&cap, (uint16_t)o->port, buf, BUF_LEN);
	print_recv(&st, &cap);
	if (o->have_send)
		printf("sent=%llu\n", (unsigned long long)sent);
	free(sbuf);
	if (o->count < 0)
		ok = st.received > 0;
	else
		ok = st.received == (uint64_t)o->count;
	ok = ok && st.foreign == 0;
	if (cap.fd >= 0)
		close(cap.fd);
	close(fd);
	free(buf);
	return ok ? 0 : 1;
}

static int parse_recv(int argc, char **argv, struct recv_opts *o)
{
	static const struct option opts[] = {
		{ "port", 1, 0, 'p' }, { "bind", 1, 0, 'b' },
		{ "count", 1, 0, 'c' }, { "timeout", 1, 0, 't' },
		{ "expect-src", 1, 0, 'e' }, { "iface", 1, 0, 'i' },
		{ "send-to", 1, 0, 'S' }, { "send-count", 1, 0, 'C' },
		{ "send-rate", 1, 0, 'R' }, { "send-ssrc", 1, 0, 'X' },
		{ "send-delay", 1, 0, 'D' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 },
	};
	unsigned long long n;
	char *end;
	int c, have_port = 0;

	o->count = -1;
	o->timeout = 5;
	o->snd.count = 10;
	o->snd.rate = 50;
	o->snd.size = 172;
	o->snd.ssrc = 0x58520002;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_num(optarg, 1, 65535, &o->port))
				return usage_error("--port '%s' is not 1..65535",
						   optarg);
			have_port = 1;
			break;
		case 'b':
			if (netaddr_parse_ip(optarg, &o->bind_addr))
				return usage_error("--bind '%s' is not an IP "
						   "address", optarg);
			o->have_bind = 1;
			break;
		case 'c':
			if (parse_num(optarg, 0, UINT32_MAX, &n))
				return usage_error("--count '%s' is not a "
						   "number of packets", optarg);
			o->count = (long long)n;
			break;
		case 't':
			errno = 0;
			o->timeout = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(o->timeout > 0) ||
			    o->timeout > 86400)
				return usage_error("--timeout '%s' is not a "
						   "number of seconds (0..86400]",
						   optarg);
			break;
		case 'e':
			if (netaddr_parse(optarg, -1, &o->expect))
				return usage_error("--expect-src '%s' is not an "
						   "address:port", optarg);
			o->have_expect = 1;
			break;
		case 'i':
			o->iface = optarg;
			break;
		case 'S':
			if (netaddr_parse(optarg, -1, &o->snd.to))
				return usage_error("--send-to '%s' is not an "
						   "address:port", optarg);
			o->have_send = 1;
			break;
		case 'D':
			errno = 0;
			o->send_delay = strtod(optarg, &end);
			if (errno || *end || end == optarg || o->send_delay < 0 ||
			    o->send_delay > 60)
				return usage_error("--send-delay '%s' is not a "
						   "number of seconds (0..60)",
						   optarg);
			break;
		case 'C':
		case 'R':
		case 'X':
			if (parse_num(optarg, 0, UINT32_MAX, &n))
				return usage_error("'%s' is not a number", optarg);
			if (c == 'C')
				o->snd.count = n;
			else if (c == 'R')
				o->snd.rate = n;
			else
				o->snd.ssrc = n;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return usage_error("bad option for recv%s", "");
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!have_port)
		return usage_error("recv needs --port P%s", "");
	if (o->have_send && !o->have_bind) {
		/* Send and receive on one socket of the destination's family
		 * (a dual-stack socket cannot send to a plain IPv4 address). */
		memset(&o->bind_addr, 0, sizeof(o->bind_addr));
		o->bind_addr.ss_family = o->snd.to.ss_family;
		o->have_bind = 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char send_name[] = "rtpprobe send", recv_name[] = "rtpprobe recv";
	const char *cmd;
	int rc;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "send")) {
		struct send_opts o = { 0 };

		argv[1] = send_name; /* getopt's messages name the command */

		rc = parse_send(argc - 1, argv + 1, &o);
		return rc ? rc : cmd_send(&o);
	}
	if (!strcmp(cmd, "recv")) {
		struct recv_opts o = { 0 };

		argv[1] = recv_name;

		rc = parse_recv(argc - 1, argv + 1, &o);
		return rc ? rc : cmd_recv(&o);
	}
	return usage_error("unknown command '%s' (send, recv)", cmd);
}
