// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "egress.h"

struct req {
	struct nlmsghdr nh;
	union {
		struct rtmsg rt;
		struct ndmsg nd;
	};
	char attrs[64];
};

static void add_attr(struct nlmsghdr *nh, int type, const void *data, int len)
{
	struct rtattr *a = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, (size_t)len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* One request, one reply; returns the reply length or -errno. */
static int talk(struct req *r, char *buf, int len)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct timeval tv = { .tv_sec = 1 };
	int n;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send(fd, r, r->nh.nlmsg_len, 0) < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	n = (int)recv(fd, buf, (size_t)len, 0);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n >= (int)sizeof(struct nlmsghdr)) {
		struct nlmsghdr *nh = (struct nlmsghdr *)buf;

		if (nh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nh);

			return e->error ? e->error : -ENOENT;
		}
	}
	return n;
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

static int if_mac(int ifindex, unsigned char mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	if (!if_indextoname((unsigned)ifindex, ifr.ifr_name) ||
	    ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		rc = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return rc;
}

int egress_resolve(const struct sockaddr *dst, struct egress_l2 *out)
{
	unsigned char nh[16];
	int nhlen, rc;

	rc = route_get(dst, &out->ifindex, nh, &nhlen);
	if (rc)
		return rc;
	rc = neigh_get(dst->sa_family, out->ifindex, nh, nhlen, out->dmac);
	if (rc)
		return rc;
	return if_mac(out->ifindex, out->smac) ? -EHOSTUNREACH : 0;
}
