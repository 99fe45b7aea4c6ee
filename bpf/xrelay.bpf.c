// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xrelay's in-kernel RTP/RTCP forwarder.
 *
 * One worker, two thin entry points: xrelay_xdp (XDP, native or generic)
 * and xrelay_tc (TC ingress) share the parser, the lookup and the maps.
 * They differ only where the hook differs: how the VLAN tag is carried and
 * changed, how checksums are written (direct at XDP; through the csum
 * helpers at TC, so that CHECKSUM_PARTIAL/COMPLETE skbs stay right), and
 * the verdicts.
 *
 * Everything the program does not own, or cannot handle, goes to the stack
 * unchanged with a counted reason: that is how the first packet of a peer
 * reaches the daemon, which latches it and installs the flow.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xrelay_abi.h"
#include "csum.bpf.h"
#include "parse.bpf.h"

#define AF_INET  2
#define AF_INET6 10
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define TC_ACT_REDIRECT 7

/* Set by the loader before load (rodata). */
const volatile __u8 cfg_ttl = 64;                     /* TTL / hop limit */
const volatile __u64 cfg_sample_ns = 100000000ULL;    /* 10 samples/s/port */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xr_flow_key);
	__type(value, struct xr_flow);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xr_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xr_port_key);
	__type(value, struct xr_port);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xr_ports SEC(".maps");

/* The IPv4 flows of the engine's ports (see xrelay_abi.h); the loader
 * sizes xr_fast4 to its port pools. xr_addr4 is the layout for userspace
 * and tools: the program scans its own copy (fast4_cfg, below). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct xr_addr4);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xr_addr4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xr_fast4);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xr_fast4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XR_REASON_MAX);
	__type(key, __u32);
	__type(value, struct xr_stat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xr_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XR_DIR_MAX);
	__type(key, __u32);
	__type(value, struct xr_stat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xr_dir_stats SEC(".maps");

/* Where a forwarded packet goes. */
struct egress {
	__u32 ifindex;
	__u8 smac[6];
	__u8 dmac[6];
	__u16 vlan_id;
};

/* The checksum changes of one rewrite, written per hook. */
struct csum_deltas {
	__u64 ip;     /* IPv4 header checksum */
	__u64 pseudo; /* UDP checksum: pseudo-header part (addresses) */
	__u64 ports;  /* UDP checksum: the ports (UDP header proper) */
};

static __always_inline void count(__u32 reason, __u32 bytes)
{
	struct xr_stat *s = bpf_map_lookup_elem(&xr_stats, &reason);

	if (s) {
		s->packets++;
		s->bytes += bytes;
	}
}

static __always_inline void build_key(struct xr_flow_key *k, struct pkt *p)
{
	if (p->ip4) {
		k->family = XR_AF_INET;
		__builtin_memcpy(k->local_addr, &p->ip4->daddr, 4);
		__builtin_memcpy(k->remote_addr, &p->ip4->saddr, 4);
	} else {
		k->family = XR_AF_INET6;
		__builtin_memcpy(k->local_addr, &p->ip6->daddr, 16);
		__builtin_memcpy(k->remote_addr, &p->ip6->saddr, 16);
	}
	k->proto = XR_PROTO_UDP;
	k->local_port = p->udp->dest;
	k->remote_port = p->udp->source;
}

/*
 * The flow of an IPv4 packet to one of the engine's ports from that port's
 * latched peer: the address's slot, then the port's entry, no hashing of
 * the 5-tuple. NULL: look in xr_flows.
 */
/*
 * The same layout as xr_addr4, for the program: the engine's few IPv4
 * addresses scanned in order cost a few loads, a hash lookup of the
 * address about 10 ns a packet. Written by the loader (fastpath.c) with
 * xr_addr4; a program loaded anew starts empty until then.
 */
struct xr_fast4_cfg fast4_cfg SEC(".bss");

static __always_inline struct xr_flow *fast4_lookup(struct pkt *p)
{
	__u32 daddr = p->ip4->daddr, idx, n = fast4_cfg.n;
	struct xr_addr4 *a = NULL;
	struct xr_fast4 *e;
	__u16 off;

	for (__u32 i = 0; i < XR_FAST4_ADDRS && i < n; i++)
		if (fast4_cfg.addr[i] == daddr) {
			a = &fast4_cfg.slot[i];
			break;
		}
	if (!a)
		return NULL;
	off = bpf_ntohs(p->udp->dest) - a->port_min;
	if (off >= a->nports)
		return NULL;
	idx = a->base + off;
	e = bpf_map_lookup_elem(&xr_fast4, &idx);
	if (!e || !e->in_use || e->remote_addr != p->ip4->saddr ||
	    e->remote_port != p->udp->source)
		return NULL;
	return &e->flow;
}

/*
 * No flow for this 5-tuple. If the port has latched a peer, the source is
 * foreign: strict ports drop it here (a flood never reaches userspace) and
 * pass up a rate-limited sample; others pass it up. Otherwise this is the
 * first packet of a peer, for the daemon to latch.
 */
static __always_inline int miss_reason(struct xr_flow_key *k, __u32 bytes)
{
	struct xr_port_key pk = {};
	struct xr_port *port;
	__u64 now;

	__builtin_memcpy(pk.addr, k->local_addr, 16);
	pk.port = k->local_port;
	pk.family = k->family;
	port = bpf_map_lookup_elem(&xr_ports, &pk);
	if (!port || !(port->flags & XR_PORT_F_LATCHED))
		return XR_PASS_NO_ENTRY;
	__sync_fetch_and_add(&port->foreign_packets, 1);
	__sync_fetch_and_add(&port->foreign_bytes, bytes);
	if (!(port->flags & XR_PORT_F_STRICT))
		return XR_PASS_FOREIGN_SRC;
	now = bpf_ktime_get_coarse_ns();
	if (now - port->last_sample_ns >= cfg_sample_ns) {
		port->last_sample_ns = now;
		return XR_PASS_FOREIGN_SAMPLE;
	}
	return XR_DROP_FOREIGN_SRC;
}

/* The egress of a flow: stored, or from the FIB for the rewritten packet. */
static __always_inline int resolve_egress(void *ctx, __u32 in_ifindex,
					  struct pkt *p, struct xr_flow *f,
					  struct egress *e)
{
	struct bpf_fib_lookup fib = {};
	long rc;

	e->vlan_id = f->vlan_id;
	if (!(f->flags & XR_FLOW_F_FIB)) {
		e->ifindex = f->ifindex;
		__builtin_memcpy(e->smac, f->smac, 6);
		__builtin_memcpy(e->dmac, f->dmac, 6);
		return -1;
	}
	fib.ifindex = in_ifindex;
	fib.l4_protocol = XR_PROTO_UDP;
	fib.sport = f->src_port;
	fib.dport = f->dst_port;
	if (f->family == XR_AF_INET) {
		fib.family = AF_INET;
		fib.tot_len = p->ip_len;
		__builtin_memcpy(&fib.ipv4_src, f->src_addr, 4);
		__builtin_memcpy(&fib.ipv4_dst, f->dst_addr, 4);
	} else {
		fib.family = AF_INET6;
		__builtin_memcpy(fib.ipv6_src, f->src_addr, 16);
		__builtin_memcpy(fib.ipv6_dst, f->dst_addr, 16);
	}
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return XR_PASS_NO_NEIGH;
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return XR_PASS_FIB_FAIL;
	e->ifindex = fib.ifindex;
	__builtin_memcpy(e->smac, fib.smac, 6);
	__builtin_memcpy(e->dmac, fib.dmac, 6);
	return -1;
}

/*
 * The interarrival jitter is estimated from every JITTER_EVERY-th packet of
 * a stream: the precise clock read (and the divide that turns it into RTP
 * units) was the largest single cost of the program, about 40 ns a packet
 * here, a third of what it adds to a bare forwarder. RFC 3550 defines the
 * transit difference D(i,j) for any two packets; taken 8 packets (160 ms
 * of 20-ms G.711) apart instead of 1, it estimates the same jitter for
 * independent per-packet delays, smoothed over 16 samples as A.8 does.
 */
#define JITTER_EVERY 8

/* The packet's transit time in RTP units (A.8: arrival - RTP timestamp). */
static __always_inline __s32 rtp_transit(const struct xr_flow *f, __u32 ts)
{
	__u64 now = bpf_ktime_get_ns();

	return (__s32)((__u32)(now * f->rtp_clock_khz / 1000000) - ts);
}

/*
 * RFC 3550 A.1 (sequence) and A.8 (jitter), observation only: nothing here
 * changes what is forwarded, and a payload that is not RTP is ignored.
 */
static __always_inline void rtp_observe(struct xr_flow *f, struct pkt *p,
					void *data_end)
{
	__u8 *rtp = (__u8 *)(p->udp + 1);
	__u32 ssrc, ts, ext, max;
	__u16 seq, delta;
	__s32 transit, d;

	/* Within the UDP datagram, not in the Ethernet padding after it. */
	if ((void *)(rtp + 12) > data_end ||
	    bpf_ntohs(p->udp->len) < sizeof(struct udphdr) + 12 ||
	    (rtp[0] >> 6) != 2)
		return;
	if ((rtp[1] & 0x7f) >= 72 && (rtp[1] & 0x7f) <= 76)
		return; /* muxed RTCP (PT 200-204) */
	seq = ((__u16)rtp[2] << 8) | rtp[3];
	ts = ((__u32)rtp[4] << 24) | ((__u32)rtp[5] << 16) |
	     ((__u32)rtp[6] << 8) | rtp[7];
	ssrc = ((__u32)rtp[8] << 24) | ((__u32)rtp[9] << 16) |
	       ((__u32)rtp[10] << 8) | rtp[11];
	if (f->rtp_received == 0 || f->rtp_ssrc != ssrc) {
		f->rtp_ssrc = ssrc;
		f->rtp_base_seq = seq;
		f->rtp_ext_max_seq = seq;
		f->rtp_received = 1;
		f->rtp_jitter = 0;
		f->rtp_last_transit = f->rtp_clock_khz ? rtp_transit(f, ts) : 0;
		return;
	}
	ext = f->rtp_ext_max_seq;
	max = ext & 0xffff;
	delta = seq - (__u16)max;
	if (delta != 0 && delta < 3000) { /* in order, maybe with a gap */
		if (seq < max)
			ext += 0x10000; /* wrapped */
		f->rtp_ext_max_seq = (ext & 0xffff0000) | seq;
	}
	f->rtp_received++;
	if (!f->rtp_clock_khz || (f->rtp_received - 1) % JITTER_EVERY)
		return;
	transit = rtp_transit(f, ts);
	d = transit - f->rtp_last_transit;
	if (d < 0)
		d = -d;
	f->rtp_last_transit = transit;
	f->rtp_jitter += d - ((f->rtp_jitter + 8) >> 4);
}

/*
 * The checksum change of rewriting the UDP ports, from the old ports read
 * before they are written. Taken as two 16-bit words: the two ports are
 * only 2-byte aligned, and clang 14 expands a 32-bit load of them
 * (*(__u32 *)&udp->source, even through memcpy) into two 16-bit loads of
 * which it may emit the second after the store to udp->dest, so that the
 * delta missed the destination port's change and every packet left with a
 * wrong UDP checksum.
 */
static __always_inline __u64 csum_delta_ports(struct udphdr *udp,
					      struct xr_flow *f)
{
	return (__u64)(__u16)~udp->source + f->src_port +
	       (__u16)~udp->dest + f->dst_port;
}

/*
 * Rewrite addresses, ports and TTL/hop limit of the packet whose IP header
 * starts at l3_off, and gather the checksum changes. With write_csum the
 * checksums are written here (XDP); otherwise the caller applies the deltas
 * through the skb csum helpers (TC). Returns 0, or -1 if the headers moved
 * out of reach (cannot happen after a successful parse).
 */
static __always_inline int rewrite_l3l4(void *data, void *data_end,
					__u32 l3_off, struct xr_flow *f,
					struct csum_deltas *cd, int write_csum,
					__u32 *l4_off_out)
{
	__u8 ttl = f->ttl ? f->ttl : cfg_ttl;
	struct udphdr *udp;
	__u32 l4_off;

	l3_off &= 0x3f;
	if (f->family == XR_AF_INET) {
		struct iphdr *ip = data + l3_off;
		__u16 old_tp, new_tp;

		if ((void *)(ip + 1) > data_end)
			return -1;
		l4_off = l3_off + ((ip->ihl * 4) & 0x3c);
		udp = data + l4_off;
		if ((void *)(udp + 1) > data_end)
			return -1;
		cd->pseudo = csum_delta32(0, ip->saddr, *(__u32 *)f->src_addr);
		cd->pseudo = csum_delta32(cd->pseudo, ip->daddr,
					  *(__u32 *)f->dst_addr);
		/* The TTL/protocol word, built from values (never read back
		 * through a cast: see csum_delta_ports). */
		old_tp = bpf_htons(((__u16)ip->ttl << 8) | ip->protocol);
		new_tp = bpf_htons(((__u16)ttl << 8) | ip->protocol);
		ip->saddr = *(__u32 *)f->src_addr;
		ip->daddr = *(__u32 *)f->dst_addr;
		ip->ttl = ttl;
		cd->ip = cd->pseudo + (__u16)~old_tp + new_tp;
		cd->ports = csum_delta_ports(udp, f);
		udp->source = f->src_port;
		udp->dest = f->dst_port;
		if (write_csum) {
			ip->check = csum_apply(ip->check, cd->ip);
			udp->check = csum_apply_udp(udp->check,
						    cd->pseudo + cd->ports);
		}
	} else {
		struct ipv6hdr *ip6 = data + l3_off;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		l4_off = l3_off + sizeof(*ip6);
		udp = data + l4_off;
		if ((void *)(udp + 1) > data_end)
			return -1;
		cd->pseudo = csum_delta_words(0, (__u32 *)&ip6->saddr,
					      (__u32 *)f->src_addr, 4);
		cd->pseudo = csum_delta_words(cd->pseudo, (__u32 *)&ip6->daddr,
					      (__u32 *)f->dst_addr, 4);
		__builtin_memcpy(&ip6->saddr, f->src_addr, 16);
		__builtin_memcpy(&ip6->daddr, f->dst_addr, 16);
		ip6->hop_limit = ttl;
		cd->ip = 0;
		cd->ports = csum_delta_ports(udp, f);
		udp->source = f->src_port;
		udp->dest = f->dst_port;
		if (write_csum)
			udp->check = csum_apply_udp(udp->check,
						    cd->pseudo + cd->ports);
	}
	*l4_off_out = l4_off;
	return 0;
}

/*
 * The shared worker: parse, look up, decide. Returns -1 with *fp and *e set
 * when the packet is to be forwarded, otherwise the reason to pass or drop.
 */
static __always_inline int decide(void *ctx, void *data, void *data_end,
				  __u32 in_ifindex, int tag_in_data_ok,
				  struct pkt *p, struct xr_flow **fp,
				  struct egress *e)
{
	struct xr_flow_key k = {};
	struct xr_flow *f;
	int r;

	r = parse_packet(data, data_end, p);
	if (r >= 0)
		return r;
	/* At TC the stack has stripped the outer tag: one in the data is a
	 * second one (QinQ), passed like QinQ at XDP, before the flow is
	 * looked up or its RTP statistics touched. */
	if (p->tagged && !tag_in_data_ok)
		return XR_PASS_VLAN;
	f = p->ip4 ? fast4_lookup(p) : NULL;
	if (!f) {
		build_key(&k, p);
		f = bpf_map_lookup_elem(&xr_flows, &k);
		if (!f)
			return miss_reason(&k, p->ip_len);
	}
	if (f->flags & XR_FLOW_F_TO_USERSPACE)
		return XR_PASS_USERSPACE;
	if (f->family != (p->ip4 ? XR_AF_INET : XR_AF_INET6))
		return XR_PASS_FAMILY;
	r = resolve_egress(ctx, in_ifindex, p, f, e);
	if (r >= 0)
		return r;
	if (f->flags & XR_FLOW_F_RTP_STATS)
		rtp_observe(f, p, data_end);
	*fp = f;
	return -1;
}

static __always_inline void count_flow(struct xr_flow *f, __u32 bytes)
{
	__u32 dir = f->flags & XR_FLOW_F_FROM_B ? XR_DIR_FROM_B : XR_DIR_FROM_A;
	struct xr_stat *s = bpf_map_lookup_elem(&xr_dir_stats, &dir);

	__sync_fetch_and_add(&f->packets, 1);
	__sync_fetch_and_add(&f->bytes, bytes);
	f->last_seen_ns = bpf_ktime_get_coarse_ns();
	if (s) {
		s->packets++;
		s->bytes += bytes;
	}
}

/* ---- XDP ---------------------------------------------------------------- */

/*
 * Make the frame's L2 header what the egress needs: MACs, and the 802.1Q
 * tag added, changed or removed. Returns the new L3 offset, or -1.
 */
static __always_inline int xdp_set_l2(struct xdp_md *ctx, struct pkt *p,
				      struct egress *e)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct xr_vlan_hdr *vh;
	int l3_off = p->tagged ? 18 : 14;

	if (p->tagged && !e->vlan_id) {
		if (bpf_xdp_adjust_head(ctx, 4))
			return -1;
		l3_off = 14;
	} else if (!p->tagged && e->vlan_id) {
		if (bpf_xdp_adjust_head(ctx, -4))
			return -1;
		l3_off = 18;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(eth->h_dest, e->dmac, 6);
	__builtin_memcpy(eth->h_source, e->smac, 6);
	if (e->vlan_id) {
		vh = (void *)(eth + 1);
		if ((void *)(vh + 1) > data_end)
			return -1;
		/* After a push the inner type is already in place: set the
		 * outer type and the tag; a kept tag keeps its priority. */
		eth->h_proto = ETH_P_8021Q_BE;
		if (p->tagged)
			vh->tci = (vh->tci & bpf_htons(0xf000)) |
				  bpf_htons(e->vlan_id);
		else
			vh->tci = bpf_htons(e->vlan_id);
	}
	return l3_off;
}

SEC("xdp")
int xrelay_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct csum_deltas cd;
	struct xr_flow *f = NULL;
	struct egress e = {};
	struct pkt p = {};
	__u32 l4_off;
	int r, l3_off;

	r = decide(ctx, data, data_end, ctx->ingress_ifindex, 1, &p, &f, &e);
	if (r >= 0) {
		count(r, p.ip_len);
		return r == XR_DROP_FOREIGN_SRC ? XDP_DROP : XDP_PASS;
	}
	l3_off = xdp_set_l2(ctx, &p, &e);
	if (l3_off < 0) {
		count(XR_PASS_ERROR, p.ip_len);
		return XDP_PASS;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (rewrite_l3l4(data, data_end, l3_off, f, &cd, 1, &l4_off) < 0) {
		count(XR_PASS_ERROR, p.ip_len);
		return XDP_DROP; /* headers were changed: cannot pass as is */
	}
	count_flow(f, p.ip_len);
	if (e.ifindex == ctx->ingress_ifindex) {
		count(XR_FWD_TX, p.ip_len);
		return XDP_TX;
	}
	count(XR_FWD_REDIRECT, p.ip_len);
	return bpf_redirect(e.ifindex, 0);
}

/* ---- TC ingress ----------------------------------------------------------- */

/*
 * At TC ingress the stack has already moved an outer VLAN tag into the skb
 * (vlan_present/vlan_tci), so the frame data starts untagged and the tag is
 * changed through the vlan helpers.
 */
static __always_inline int tc_set_vlan(struct __sk_buff *skb, __u16 in_vid,
				       __u16 out_vid)
{
	if (in_vid == out_vid)
		return 0;
	if (in_vid && bpf_skb_vlan_pop(skb))
		return -1;
	if (out_vid && bpf_skb_vlan_push(skb, ETH_P_8021Q_BE, out_vid))
		return -1;
	return 0;
}

SEC("tc")
int xrelay_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u16 in_vid = skb->vlan_present ? (skb->vlan_tci & 0x0fff) : 0;
	struct csum_deltas cd;
	struct xr_flow *f = NULL;
	struct ethhdr *eth;
	struct egress e = {};
	struct pkt p = {};
	__u32 l4_off, ip_csum_off = 14 + 10;
	int r;

	/* Headers past the linear part: pull them in, then parse. */
	if (data + 14 + 60 + 8 > data_end && skb->len > data_end - data) {
		bpf_skb_pull_data(skb, skb->len < 128 ? skb->len : 128);
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}
	r = decide(skb, data, data_end, skb->ingress_ifindex, 0, &p, &f, &e);
	if (r >= 0) {
		count(r, p.ip_len);
		return r == XR_DROP_FOREIGN_SRC ? TC_ACT_SHOT : TC_ACT_OK;
	}
	if (tc_set_vlan(skb, in_vid, e.vlan_id) < 0) {
		count(XR_PASS_ERROR, p.ip_len);
		return TC_ACT_SHOT; /* the tag may be half changed */
	}
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (rewrite_l3l4(data, data_end, 14, f, &cd, 0, &l4_off) < 0) {
		count(XR_PASS_ERROR, p.ip_len);
		return TC_ACT_SHOT;
	}
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_SHOT;
	__builtin_memcpy(eth->h_dest, e.dmac, 6);
	__builtin_memcpy(eth->h_source, e.smac, 6);
	l4_off = (l4_off & 0x7f) + offsetof(struct udphdr, check);
	if (f->family == XR_AF_INET)
		bpf_l3_csum_replace(skb, ip_csum_off, 0,
				    csum_delta_fold32(cd.ip), 0);
	bpf_l4_csum_replace(skb, l4_off, 0, csum_delta_fold32(cd.pseudo),
			    BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0);
	bpf_l4_csum_replace(skb, l4_off, 0, csum_delta_fold32(cd.ports),
			    BPF_F_MARK_MANGLED_0);
	count_flow(f, p.ip_len);
	count(e.ifindex == skb->ingress_ifindex ? XR_FWD_TX : XR_FWD_REDIRECT,
	      p.ip_len);
	return bpf_redirect(e.ifindex, 0);
}

/* ---- sk_lookup: every relay port to one socket per family ------------------ */

/* Key 0: the IPv4 socket, 1: the IPv6 socket (set by the daemon). */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} xr_steer SEC(".maps");

/*
 * A UDP packet for the local stack whose destination is an allocated relay
 * port (an xr_ports entry) goes to the daemon's socket of its family, which
 * reads the original destination. So the relay needs no socket per port.
 */
SEC("sk_lookup")
int xrelay_steer(struct bpf_sk_lookup *ctx)
{
	struct xr_port_key pk = {};
	struct bpf_sock *sk;
	__u32 idx;

	if (ctx->protocol != XR_PROTO_UDP)
		return SK_PASS;
	if (ctx->family == AF_INET) {
		__u32 a = ctx->local_ip4;

		__builtin_memcpy(pk.addr, &a, 4);
		pk.family = XR_AF_INET;
		idx = 0;
	} else if (ctx->family == AF_INET6) {
		__u32 a[4] = { ctx->local_ip6[0], ctx->local_ip6[1],
			       ctx->local_ip6[2], ctx->local_ip6[3] };

		__builtin_memcpy(pk.addr, a, 16);
		pk.family = XR_AF_INET6;
		idx = 1;
	} else {
		return SK_PASS;
	}
	pk.port = bpf_htons((__u16)ctx->local_port);
	if (!bpf_map_lookup_elem(&xr_ports, &pk))
		return SK_PASS;
	sk = bpf_map_lookup_elem(&xr_steer, &idx);
	if (!sk)
		return SK_PASS;
	bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
