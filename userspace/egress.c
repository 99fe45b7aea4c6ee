// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Route and neighbour look-ups over one long-lived rtnetlink socket (and
 * one socket for the interface ioctls), with a small cache of recent
 * answers per destination: a call installs up to four flows toward the
 * same few peers within milliseconds, and a socket per look-up cost more
 * than the look-up.
 *
 * Only complete answers are cached, for EGRESS_TTL_NS: a destination
 * whose route or neighbour is missing is asked again every time (the
 * engine retries an unresolved neighbour every 2 ms until it resolves). A
 * flow installed within the TTL of a change of next hop or MAC gets the
 * old one, as a flow installed a moment before the change would have.
 * The daemon is single-threaded: no locking.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "egress.h"

#define EGRESS_TTL_NS    1000000000ull /* a cached answer is used for 1 s */
#define EGRESS_CACHE     1024          /* slots (a power of 2) */

struct req {
	struct nlmsghdr nh;
	union {
		struct rtmsg rt;
		struct ndmsg nd;
	};
	char attrs[64];
};

/* One destination's answer; expires_ns 0: an empty slot. */
struct cached {
	uint64_t expires_ns;
	int family;
	uint32_t scope;
	unsigned char addr[16];
	struct egress_l2 l2;
};

static int nl_fd = -1;   /* NETLINK_ROUTE */
static int ioc_fd = -1;  /* AF_INET datagram socket for the ioctls */
static uint32_t nl_seq;
static struct cached cache[EGRESS_CACHE];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void add_attr(struct nlmsghdr *nh, int type, const void *data, int len)
{
	struct rtattr *a = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, (size_t)len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void nl_close(void)
{
	if (nl_fd >= 0)
		close(nl_fd);
	nl_fd = -1;
}

static int nl_open(void)
{
	struct timeval tv = { .tv_sec = 1 };

	if (nl_fd >= 0)
		return 0;
	nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl_fd < 0)
		return -errno;
	setsockopt(nl_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return 0;
}

/* One request, its reply (a reply to an earlier request that timed out is
 * skipped by its sequence number); returns the reply length or -errno. A
 * socket that failed is closed: the next request opens a new one. */
static int talk(struct req *r, char *buf, int len)
{
	int n, rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		rc = nl_open();
		if (rc)
			return rc;
		r->nh.nlmsg_seq = ++nl_seq;
		if (send(nl_fd, r, r->nh.nlmsg_len, 0) >= 0)
			break;
		rc = -errno;
		nl_close(); /* a fresh socket, once */
	}
	if (rc)
		return rc;
	for (;;) {
		struct nlmsghdr *nh = (struct nlmsghdr *)buf;

		n = (int)recv(nl_fd, buf, (size_t)len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			nl_close(); /* a late reply must not be read as the next */
			return n;
		}
		if (n < (int)sizeof(struct nlmsghdr) || !NLMSG_OK(nh, (unsigned)n))
			return -EIO;
		if (nh->nlmsg_seq != r->nh.nlmsg_seq)
			continue; /* stale */
		if (nh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nh);

			return e->error ? e->error : -ENOENT;
		}
		return n;
	}
}

static const void *addr_bytes(const struct sockaddr *sa, int *len)
{
	if (sa->sa_family == AF_INET6) {
		*len = 16;
		return &((const struct sockaddr_in6 *)sa)->sin6_addr;
	}
	*len = 4;
	return &((const struct sockaddr_in *)sa)->sin_addr;
}

/* The route to dst: output interface and next hop (gateway or dst). */
static int route_get(const struct sockaddr *dst, int *oif, unsigned char *nh,
		     int *nhlen)
{
	struct req r = { 0 };
	char buf[4096];
	const void *a = addr_bytes(dst, nhlen);
	int n, alen;
	struct rtattr *at;

	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	r.nh.nlmsg_type = RTM_GETROUTE;
	r.nh.nlmsg_flags = NLM_F_REQUEST;
	r.rt.rtm_family = (unsigned char)dst->sa_family;
	r.rt.rtm_dst_len = (unsigned char)(*nhlen * 8);
	add_attr(&r.nh, RTA_DST, a, *nhlen);
	n = talk(&r, buf, sizeof(buf));
	if (n < 0)
		return -EHOSTUNREACH;
	memcpy(nh, a, (size_t)*nhlen);
	*oif = 0;
	alen = (int)RTM_PAYLOAD((struct nlmsghdr *)buf);
	for (at = RTM_RTA(NLMSG_DATA(buf)); RTA_OK(at, alen);
	     at = RTA_NEXT(at, alen)) {
		if (at->rta_type == RTA_OIF)
			memcpy(oif, RTA_DATA(at), sizeof(*oif));
		else if (at->rta_type == RTA_GATEWAY)
			memcpy(nh, RTA_DATA(at), (size_t)*nhlen);
	}
	return *oif ? 0 : -EHOSTUNREACH;
}

static int neigh_get(int family, int oif, const unsigned char *nh, int nhlen,
		     unsigned char mac[6])
{
	struct req r = { 0 };
	char buf[4096];
	struct ndmsg *nd;
	struct rtattr *at;
	int n, alen, found = 0;

	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
	r.nh.nlmsg_type = RTM_GETNEIGH;
	r.nh.nlmsg_flags = NLM_F_REQUEST;
	r.nd.ndm_family = (unsigned char)family;
	r.nd.ndm_ifindex = oif;
	add_attr(&r.nh, NDA_DST, nh, nhlen);
	n = talk(&r, buf, sizeof(buf));
	if (n < 0)
		return -EAGAIN;
	nd = NLMSG_DATA(buf);
	if (!(nd->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY |
			       NUD_PROBE | NUD_PERMANENT | NUD_NOARP)))
		return -EAGAIN;
	alen = (int)RTM_PAYLOAD((struct nlmsghdr *)buf);
	for (at = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
	     RTA_OK(at, alen); at = RTA_NEXT(at, alen))
		if (at->rta_type == NDA_LLADDR && RTA_PAYLOAD(at) == 6) {
			memcpy(mac, RTA_DATA(at), 6);
			found = 1;
		}
	return found ? 0 : -EAGAIN;
}

/* The interface's own MAC: its name, then its hardware address, both by
 * ioctl on one kept socket (if_indextoname would open one per call). */
static int if_mac(int ifindex, unsigned char mac[6])
{
	struct ifreq ifr = { 0 };

	if (ioc_fd < 0) {
		ioc_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (ioc_fd < 0)
			return -errno;
	}
	ifr.ifr_ifindex = ifindex;
	if (ioctl(ioc_fd, SIOCGIFNAME, &ifr) < 0 ||
	    ioctl(ioc_fd, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

/* The destination's cache slot, and whether it holds dst. */
static struct cached *slot_of(const struct sockaddr *dst, int *hit)
{
	const unsigned char *a;
	uint32_t h = 2166136261u, scope = 0; /* FNV-1a */
	struct cached *c;
	int len;

	a = addr_bytes(dst, &len);
	if (dst->sa_family == AF_INET6)
		scope = ((const struct sockaddr_in6 *)dst)->sin6_scope_id;
	for (int i = 0; i < len; i++)
		h = (h ^ a[i]) * 16777619u;
	h = (h ^ scope) * 16777619u;
	c = &cache[h & (EGRESS_CACHE - 1)];
	*hit = c->expires_ns && c->family == dst->sa_family &&
	       c->scope == scope && memcmp(c->addr, a, (size_t)len) == 0;
	return c;
}

int egress_resolve(const struct sockaddr *dst, struct egress_l2 *out)
{
	unsigned char nh[16];
	uint64_t now = now_ns();
	struct cached *c;
	int nhlen, rc, hit;

	c = slot_of(dst, &hit);
	if (hit && now < c->expires_ns) {
		*out = c->l2;
		return 0;
	}
	if (hit)
		c->expires_ns = 0; /* stale: asked anew, cached only if whole */
	rc = route_get(dst, &out->ifindex, nh, &nhlen);
	if (!rc)
		rc = neigh_get(dst->sa_family, out->ifindex, nh, nhlen,
			       out->dmac);
	if (!rc && if_mac(out->ifindex, out->smac))
		rc = -EHOSTUNREACH;
	if (rc)
		return rc;
	c->expires_ns = now + EGRESS_TTL_NS;
	c->family = dst->sa_family;
	c->scope = dst->sa_family == AF_INET6 ?
		   ((const struct sockaddr_in6 *)dst)->sin6_scope_id : 0;
	memset(c->addr, 0, sizeof(c->addr));
	memcpy(c->addr, addr_bytes(dst, &nhlen), (size_t)nhlen);
	c->l2 = *out;
	return 0;
}
