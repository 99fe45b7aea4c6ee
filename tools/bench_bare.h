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

/* The map's size as compiled, as xrelay's xr_flows by default; bench_bare
 * attach sizes it at load time (--max-flows, or the flows it is given). */
#define BARE_MAX_FLOWS 65536

#endif /* XRELAY_BENCH_BARE_H */
