/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header parsing through a cursor: every step checks the bounds of what it
 * reads and moves the cursor past it. Parsing never writes to the packet.
 */
#ifndef XRELAY_PARSE_BPF_H
#define XRELAY_PARSE_BPF_H

#define ETH_P_IP_BE    bpf_htons(0x0800)
#define ETH_P_IPV6_BE  bpf_htons(0x86DD)
#define ETH_P_8021Q_BE bpf_htons(0x8100)
#define ETH_P_8021AD_BE bpf_htons(0x88A8)

#define IP_MF     0x2000
#define IP_OFFSET 0x1FFF
#define NEXTHDR_FRAGMENT 44

struct cursor {
	void *pos;
	void *end;
};

struct xr_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* What the worker needs from a parsed packet. */
struct pkt {
	struct ethhdr *eth;
	struct iphdr *ip4;      /* one of ip4 / ip6 is set */
	struct ipv6hdr *ip6;
	struct udphdr *udp;
	__u32 ip_len;           /* IP packet bytes, for the counters */
	__u16 vlan_id;          /* the tag in the frame, 0 = none */
	__u8 tagged;            /* a tag is present in the frame data */
};

/*
 * Ethernet and at most one 802.1Q/802.1ad tag. Returns the ethertype
 * (network order) after the tag, or 0 when the frame is too short.
 * A second tag (QinQ) is reported by leaving *proto a VLAN type.
 */
static __always_inline int parse_eth(struct cursor *c, struct pkt *p,
				     __be16 *proto)
{
	struct ethhdr *eth = c->pos;
	struct xr_vlan_hdr *vh;

	if ((void *)(eth + 1) > c->end)
		return -1;
	c->pos = eth + 1;
	p->eth = eth;
	*proto = eth->h_proto;
	if (*proto == ETH_P_8021Q_BE || *proto == ETH_P_8021AD_BE) {
		vh = c->pos;
		if ((void *)(vh + 1) > c->end)
			return -1;
		c->pos = vh + 1;
		p->tagged = 1;
		p->vlan_id = bpf_ntohs(vh->tci) & 0x0fff;
		*proto = vh->proto;
	}
	return 0;
}

/* IPv4 with options. Fragments and non-UDP are told apart by reason. */
static __always_inline int parse_ipv4(struct cursor *c, struct pkt *p)
{
	struct iphdr *ip = c->pos;
	__u32 hlen, tot;

	if ((void *)(ip + 1) > c->end)
		return XR_PASS_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return XR_PASS_MALFORMED;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < hlen || c->pos + hlen > c->end)
		return XR_PASS_MALFORMED;
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return XR_PASS_FRAGMENT;
	if (ip->protocol != XR_PROTO_UDP)
		return XR_PASS_NOT_UDP;
	/* The frame may carry Ethernet padding past tot_len, never less. */
	if (c->pos + tot > c->end)
		return XR_PASS_MALFORMED;
	p->ip4 = ip;
	p->ip_len = tot;
	c->pos += hlen;
	return -1;
}

/* IPv6 with UDP as the next header; extension headers go to the stack. */
static __always_inline int parse_ipv6(struct cursor *c, struct pkt *p)
{
	struct ipv6hdr *ip6 = c->pos;
	__u32 plen;

	if ((void *)(ip6 + 1) > c->end)
		return XR_PASS_MALFORMED;
	if (ip6->version != 6)
		return XR_PASS_MALFORMED;
	plen = bpf_ntohs(ip6->payload_len);
	if ((void *)(ip6 + 1) + plen > c->end)
		return XR_PASS_MALFORMED;
	if (ip6->nexthdr == NEXTHDR_FRAGMENT)
		return XR_PASS_FRAGMENT;
	if (ip6->nexthdr != XR_PROTO_UDP) {
		/* Hop-by-hop, routing and destination options may precede
		 * UDP; RTP never carries them, so the stack handles them. */
		if (ip6->nexthdr == 0 || ip6->nexthdr == 43 ||
		    ip6->nexthdr == 60)
			return XR_PASS_IP_OPTIONS_V6;
		return XR_PASS_NOT_UDP;
	}
	p->ip6 = ip6;
	p->ip_len = plen + sizeof(*ip6);
	c->pos = ip6 + 1;
	return -1;
}

/* UDP: the length must fit the IP payload; IPv6 needs a checksum. */
static __always_inline int parse_udp(struct cursor *c, struct pkt *p,
				     __u32 l4_avail)
{
	struct udphdr *udp = c->pos;
	__u32 ulen;

	if ((void *)(udp + 1) > c->end)
		return XR_PASS_MALFORMED;
	ulen = bpf_ntohs(udp->len);
	if (ulen < sizeof(*udp) || ulen > l4_avail)
		return XR_PASS_MALFORMED;
	if (p->ip6 && udp->check == 0)
		return XR_PASS_MALFORMED;
	p->udp = udp;
	c->pos = udp + 1;
	return -1;
}

/*
 * The whole walk. Returns -1 for a UDP packet ready for lookup, otherwise
 * the pass reason (enum xr_reason).
 */
static __always_inline int parse_packet(void *data, void *data_end,
					struct pkt *p)
{
	struct cursor c = { .pos = data, .end = data_end };
	__be16 proto;
	int r;

	if (parse_eth(&c, p, &proto) < 0)
		return XR_PASS_MALFORMED;
	if (proto == ETH_P_IP_BE) {
		r = parse_ipv4(&c, p);
		if (r >= 0)
			return r;
		return parse_udp(&c, p, p->ip_len - p->ip4->ihl * 4);
	}
	if (proto == ETH_P_IPV6_BE) {
		r = parse_ipv6(&c, p);
		if (r >= 0)
			return r;
		return parse_udp(&c, p, p->ip_len - sizeof(struct ipv6hdr));
	}
	if (proto == ETH_P_8021Q_BE || proto == ETH_P_8021AD_BE)
		return XR_PASS_VLAN;
	return XR_PASS_NOT_IP;
}

#endif /* XRELAY_PARSE_BPF_H */
