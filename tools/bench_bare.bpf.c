// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The bare prototype: the least an XDP RTP relay must do, as the yardstick
 * of tools/bench_media.sh and tools/bench_density.sh (issue 7: xrelay's
 * kernel path within 1.3x of its cost; what the machine allows from 1,000
 * to 100,000 calls). Look the IPv4/UDP 5-tuple up, rewrite addresses and
 * ports, fix both checksums incrementally, rewrite the MACs, redirect.
 *
 * What it leaves out is what xrelay adds and what is being priced: VLAN
 * tags, IPv6, IP options, the port table (strict source, latching of a
 * foreign source), TTL, per-flow and per-reason counters, RTP statistics,
 * FIB egress, XDP_TX. Anything it does not forward goes to the stack.
 * Not a relay: nothing is counted, so nothing can be inspected.
 *
 * A second program, bench_bare_array (tools/bench_density.sh's bare-array
 * path), shares the parse and the rewrite but looks up a direct-indexed
 * array of 64-byte per-port entries instead of the 5-tuple hash, checks
 * the expected peer and keeps xrelay's per-flow counters (see struct
 * bare_port in bench_bare.h): is a compact table flatter with the calls?
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bench_bare.h"

#define ETH_P_IP 0x0800
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define ETH_HLEN 14

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BARE_MAX_FLOWS);
	__type(key, struct bare_key);
	__type(value, struct bare_flow);
} bare_flows SEC(".maps");

/* bare_array's: the relay's addresses (network order) -> their slot, and
 * slots x port_span entries (sized by the loader: the addresses and the
 * port span actually present; 1 entry when bench_bare runs). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BARE_MAX_ADDRS);
	__type(key, __u32);
	__type(value, __u32);
} bare_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bare_port);
} bare_ports SEC(".maps");

/* Set by the loader before the load: the lowest relay port (host order)
 * and the number of ports from it up to the highest. */
const volatile __u32 port_min = 0;
const volatile __u32 port_span = 1;

/* RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), with the ~m + m' of every
 * changed word already summed into delta (64 bits: no carry is lost). */
static __always_inline __u16 csum_replace(__u16 check, __u64 delta)
{
	__u64 s = (__u16)~check + delta;

	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* Both programs' parse: an untagged IPv4/UDP frame without options or
 * fragmentation, else 0 (the caller passes it to the stack). */
static __always_inline int bare_parse(struct xdp_md *ctx, struct ethhdr **eth,
				      struct iphdr **ip, struct udphdr **udp)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	*eth = data;
	*ip = (void *)(*eth + 1);
	*udp = (void *)(*ip + 1);
	/* One bounds check for all three headers: options (ihl > 5) are
	 * not handled, so UDP sits right after the 20-byte header. */
	if ((void *)(*udp + 1) > data_end)
		return 0;
	if ((*eth)->h_proto != bpf_htons(ETH_P_IP) || (*ip)->ihl != 5 ||
	    (*ip)->protocol != IPPROTO_UDP)
		return 0;
	/* A later fragment has no UDP header where one is looked for. */
	if ((*ip)->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return 0;
	return 1;
}

/* The packet's 5-tuple as the maps key it. */
static __always_inline void key_of(const struct iphdr *ip,
				   const struct udphdr *udp, struct bare_key *k)
{
	k->daddr = ip->daddr;
	k->saddr = ip->saddr;
	k->dport = udp->dest;
	k->sport = udp->source;
}

/* Both programs' rewrite: k holds the header's old values (read before
 * any store, so no load of the header can be scheduled after its own
 * rewrite), f the new ones. Returns the redirect's verdict. */
static __always_inline int bare_rewrite(struct ethhdr *eth, struct iphdr *ip,
					struct udphdr *udp,
					const struct bare_key *k,
					const struct bare_flow *f)
{
	__u64 pseudo, ports;
	__u16 c;

	pseudo = (__u64)(__u32)~k->saddr + f->saddr +
		 (__u32)~k->daddr + f->daddr;
	ports = (__u64)(__u16)~k->sport + f->sport +
		(__u16)~k->dport + f->dport;
	ip->saddr = f->saddr;
	ip->daddr = f->daddr;
	ip->check = csum_replace(ip->check, pseudo);
	udp->source = f->sport;
	udp->dest = f->dport;
	/* IPv4 UDP checksum 0 means none and stays 0; a computed 0 is sent
	 * as 0xffff (RFC 768). */
	if (udp->check) {
		c = csum_replace(udp->check, pseudo + ports);
		udp->check = c ? c : 0xffff;
	}
	__builtin_memcpy(eth->h_dest, f->dmac, 6);
	__builtin_memcpy(eth->h_source, f->smac, 6);
	return bpf_redirect(f->ifindex, 0);
}

SEC("xdp")
int bench_bare(struct xdp_md *ctx)
{
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;
	struct bare_flow *f;
	struct bare_key k;

	if (!bare_parse(ctx, &eth, &ip, &udp))
		return XDP_PASS;
	key_of(ip, udp, &k);
	f = bpf_map_lookup_elem(&bare_flows, &k);
	if (!f)
		return XDP_PASS;
	return bare_rewrite(eth, ip, udp, &k, f);
}

/*
 * bare_array: the same parse and rewrite, the lookup direct-indexed (see
 * struct bare_port): a small hash for the destination address, then one
 * 64-byte entry per relay port, the peer checked, the counters kept.
 */
SEC("xdp")
int bench_bare_array(struct xdp_md *ctx)
{
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;
	struct bare_port *p;
	struct bare_key k;
	__u32 *slot, idx, off;

	if (!bare_parse(ctx, &eth, &ip, &udp))
		return XDP_PASS;
	key_of(ip, udp, &k);
	slot = bpf_map_lookup_elem(&bare_addrs, &k.daddr);
	if (!slot)
		return XDP_PASS;
	off = (__u32)bpf_ntohs(k.dport) - port_min;
	if (off >= port_span) /* below port_min wraps: also out */
		return XDP_PASS;
	idx = *slot * port_span + off;
	p = bpf_map_lookup_elem(&bare_ports, &idx);
	if (!p || !p->f.ifindex || p->peer_saddr != k.saddr ||
	    p->peer_sport != k.sport)
		return XDP_PASS;
	__sync_fetch_and_add(&p->packets, 1);
	__sync_fetch_and_add(&p->bytes,
			     (__u64)(ctx->data_end - ctx->data) - ETH_HLEN);
	p->last_seen_ns = bpf_ktime_get_coarse_ns();
	return bare_rewrite(eth, ip, udp, &k, &p->f);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
