/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The map layout of the bare prototype (tools/bench_bare.bpf.c), shared by
 * the program and its loader (tools/bench_bare.c), as bpf/xrelay_abi.h is
 * for xrelay: one definition, fixed-width types, explicit padding.
 *
 * Deliberately smaller than xrelay's: IPv4 only (a 12-byte key instead of
 * xrelay's 40-byte one for both families), no flags, no VLAN, no TTL, no
 * counters. Addresses and ports in network byte order, as on the wire.
 */
#ifndef XRELAY_BENCH_BARE_H
#define XRELAY_BENCH_BARE_H

#ifndef __BPF__
#include <linux/types.h>
#endif

/* The packet as it arrives: destination = the relay, source = the peer. */
struct bare_key {
	__u32 daddr;
	__u32 saddr;
	__u16 dport;
	__u16 sport;
};

/* The rewrite and where to send it. */
struct bare_flow {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u32 ifindex;
	__u8 smac[6];
	__u8 dmac[6];
};

/*
 * bare_array (the second program): one entry per relay port, a cache line
 * each, in an array indexed by slot(daddr) * port_span + (dport -
 * port_min), where slot comes from a small hash of the relay's addresses
 * (bare_addrs) and port_min/port_span from the loader (the lowest relay
 * port among the flows and the span up to the highest). The peer expected
 * on that port (anyone else: XDP_PASS), the same rewrite as bare's, and
 * the counters xrelay's flow keeps (packets, bytes, last_seen via
 * bpf_ktime_get_coarse_ns), so it does the memory traffic the product
 * does. ifindex 0 (f.ifindex) marks an empty entry.
 */
struct bare_port {
	__u32 peer_saddr;	/* the packet's source must be this ... */
	__u16 peer_sport;	/* ... and this port */
	__u16 pad0;
	struct bare_flow f;	/* 28 bytes */
	__u32 pad1;
	__u64 packets;
	__u64 bytes;
	__u64 last_seen_ns;
};

_Static_assert(sizeof(struct bare_port) == 64,
	       "struct bare_port: exactly one cache line");

/* Relay addresses in bare_addrs at most (a slot each). */
#define BARE_MAX_ADDRS 64

/* The map's size as compiled, as xrelay's xr_flows by default; bench_bare
 * attach sizes it at load time (--max-flows, or the flows it is given). */
#define BARE_MAX_FLOWS 65536

#endif /* XRELAY_BENCH_BARE_H */
