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
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bench_bare.h"

#define ETH_P_IP 0x0800
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BARE_MAX_FLOWS);
	__type(key, struct bare_key);
	__type(value, struct bare_flow);
} bare_flows SEC(".maps");

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

SEC("xdp")
int bench_bare(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct bare_flow *f;
	struct bare_key k;
	__u64 pseudo, ports;
	__u16 c;

	/* One bounds check for all three headers: options (ihl > 5) are
	 * not handled, so UDP sits right after the 20-byte header. */
	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	/* A later fragment has no UDP header where one is looked for. */
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return XDP_PASS;
	k.daddr = ip->daddr;
	k.saddr = ip->saddr;
	k.dport = udp->dest;
	k.sport = udp->source;
	f = bpf_map_lookup_elem(&bare_flows, &k);
	if (!f)
		return XDP_PASS;

	/* The old values come from the key, read before any store, so no
	 * load of the header can be scheduled after its own rewrite. */
	pseudo = (__u64)(__u32)~k.saddr + f->saddr +
		 (__u32)~k.daddr + f->daddr;
	ports = (__u64)(__u16)~k.sport + f->sport +
		(__u16)~k.dport + f->dport;
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

char LICENSE[] SEC("license") = "Dual BSD/GPL";
