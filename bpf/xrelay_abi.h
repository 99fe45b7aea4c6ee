/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ABI between the xrelay eBPF programs and userspace: map keys, map
 * values, flags and the pass/drop reasons. Included by bpf/xrelay.bpf.c and
 * by userspace, so there is exactly one definition of every layout.
 *
 * Rules: fixed-width types only, explicit padding, no bool, no vmlinux.h.
 * Addresses and ports are stored in network byte order, exactly as they
 * appear on the wire, so the program compares and copies them without
 * conversion. An IPv4 address occupies the first 4 bytes of a 16-byte
 * address field and the other 12 bytes are zero.
 */
#ifndef XRELAY_ABI_H
#define XRELAY_ABI_H

#ifdef __BPF__
/* The BPF side gets the __uN types from vmlinux.h. */
#else
#include <linux/types.h>
#endif

#define XR_AF_INET  4
#define XR_AF_INET6 6

#define XR_PROTO_UDP 17

/* Default pin directory; the daemon's `pin_dir` setting overrides it. */
#define XR_PIN_DIR_DEFAULT "/sys/fs/bpf/xrelay"

/* Map names, as pinned under the pin directory. */
#define XR_MAP_FLOWS "xr_flows"
#define XR_MAP_PORTS "xr_ports"
#define XR_MAP_STATS "xr_stats"
#define XR_MAP_DIR_STATS "xr_dir_stats"
#define XR_MAP_ADDR4 "xr_addr4"
#define XR_MAP_FAST4 "xr_fast4"

/*
 * Key of xr_flows: the packet as it arrives at the relay.
 * local = the relay's address and port (the packet's destination),
 * remote = the peer (the packet's source).
 */
struct xr_flow_key {
	__u8 local_addr[16];
	__u8 remote_addr[16];
	__u16 local_port;
	__u16 remote_port;
	__u8 family; /* XR_AF_INET or XR_AF_INET6 */
	__u8 proto;  /* XR_PROTO_UDP */
	__u8 pad[2];
};

/* xr_flow.flags */
enum xr_flow_flags {
	/* Egress by bpf_fib_lookup on the rewritten packet instead of the
	 * stored ifindex/MACs. No neighbour yet: the packet goes to the stack. */
	XR_FLOW_F_FIB = 1 << 0,
	/* Observe RTP (sequence, loss, jitter). Never changes forwarding. */
	XR_FLOW_F_RTP_STATS = 1 << 1,
	/* The entry exists but userspace wants these packets (e.g. RTCP it
	 * inspects): pass them up, counted as XR_PASS_USERSPACE. */
	XR_FLOW_F_TO_USERSPACE = 1 << 2,
	/* The packets of this flow come from a call's leg B (the callee):
	 * which xr_dir_stats entry counts them. Never changes forwarding. */
	XR_FLOW_F_FROM_B = 1 << 3,
};

/* Index of xr_dir_stats (per CPU, value struct xr_stat): the packets and
 * IP bytes forwarded in the kernel by the leg they came from, so metrics
 * give kernel traffic per direction without walking the flows. */
enum xr_dir {
	XR_DIR_FROM_A = 0,
	XR_DIR_FROM_B = 1,
	XR_DIR_MAX,
};

/*
 * Value of xr_flows: what to do with a packet that matches the key.
 * The rewrite: new source = the relay's address/port on the other leg,
 * new destination = the other peer. The program only rewrites within one
 * address family; a 4<->6 leg pair is forwarded by userspace.
 */
struct xr_flow {
	__u8 src_addr[16];
	__u8 dst_addr[16];
	__u16 src_port;
	__u16 dst_port;
	__u8 family; /* egress family; must equal the key's */
	__u8 ttl;    /* TTL / hop limit of the sent packet; 0 = program default */
	__u16 flags; /* enum xr_flow_flags */
	/* How to send it (ignored with XR_FLOW_F_FIB). */
	__u32 ifindex;
	__u8 smac[6];
	__u8 dmac[6];
	__u16 vlan_id; /* egress 802.1Q VLAN id; 0 = untagged */
	__u16 rtp_clock_khz; /* RTP clock for jitter (8 = 8 kHz); 0 = none */
	__u32 pad0;
	/* Counters, updated by the program. Times are CLOCK_MONOTONIC ns. */
	__u64 packets;
	__u64 bytes; /* IP packet bytes (header + payload), as received */
	__u64 last_seen_ns;
	/* RTP observation (XR_FLOW_F_RTP_STATS), RFC 3550 A.1 / A.8. */
	__u32 rtp_ssrc;
	__u32 rtp_ext_max_seq; /* cycles << 16 | highest sequence seen */
	__u32 rtp_base_seq;    /* first sequence seen */
	__u32 rtp_received;    /* packets of this SSRC */
	__u32 rtp_jitter;      /* interarrival jitter, RTP units << 4, from
				* every 8th packet (see the program) */
	__s32 rtp_last_transit; /* of the last packet jitter was taken at */
};

/*
 * The IPv4 flows of the engine's own ports, found without hashing: a
 * 5-tuple hash lookup among 200,000 flows missed the CPU caches and the
 * TLB on every packet (the relay's CPU per packet doubled from 1,000 to
 * 100,000 calls), one entry per relay port in an array does not.
 *
 * Value of xr_addr4 (hash; key: an IPv4 relay address, __u32 in network
 * order): where that address's ports sit in xr_fast4.
 */
#define XR_FAST4_ADDRS 16 /* IPv4 addresses the program scans (the rest: xr_flows) */

struct xr_addr4 {
	__u32 base;     /* the index of port_min's entry */
	__u16 port_min; /* host order */
	__u16 nports;   /* ports port_min .. port_min + nports - 1 */
};

/* The program's copy of xr_addr4 (a global of its own, set by the loader):
 * scanning a few addresses is cheaper than a hash lookup per packet. */
struct xr_fast4_cfg {
	__u32 n;
	__u32 addr[XR_FAST4_ADDRS];
	struct xr_addr4 slot[XR_FAST4_ADDRS];
};

/*
 * Value of xr_fast4 (array; index = base + port - port_min): the flow of
 * one IPv4 relay port, for packets from its latched peer only. Two cache
 * lines. A packet from another source, or to a port without an entry,
 * goes on to xr_flows and xr_ports as before.
 */
struct xr_fast4 {
	__u32 remote_addr; /* the latched peer, network order */
	__u16 remote_port; /* network order */
	__u16 in_use;      /* 0: no flow on this port */
	__u8 pad[8];
	struct xr_flow flow; /* the key's local side is the entry's port */
};

/* Key of xr_ports: a relay address and port that the engine owns. */
struct xr_port_key {
	__u8 addr[16];
	__u16 port;
	__u8 family;
	__u8 pad;
};

/* xr_port.flags */
enum xr_port_flags {
	/* A flow of this port has latched its peer. A packet from another
	 * source is then "foreign" rather than "first packet". */
	XR_PORT_F_LATCHED = 1 << 0,
	/* Strict source: a foreign packet is dropped in the kernel and only
	 * a rate-limited sample goes up. Without it, it goes up unchanged. */
	XR_PORT_F_STRICT = 1 << 1,
};

/*
 * Value of xr_ports. Consulted only when a packet matches no flow, to tell
 * "first packet of a peer" from "a foreign source on a latched port".
 */
struct xr_port {
	__u32 flags; /* enum xr_port_flags */
	__u32 pad;
	__u64 foreign_packets; /* from any source but the latched peer */
	__u64 foreign_bytes;
	__u64 last_sample_ns; /* last foreign packet passed up as a sample */
};

/*
 * Why the program forwarded, passed or dropped a packet: the index of the
 * per-CPU xr_stats array, the label of the drop/pass metrics, and the
 * names printed by the tools (xr_reason_names[] in userspace).
 */
enum xr_reason {
	XR_FWD_TX = 0,        /* forwarded out of the ingress device */
	XR_FWD_REDIRECT,      /* handed to bpf_redirect() for another device;
			       * a delivery that fails after the program
			       * returns (e.g. a veth peer without XDP) shows
			       * in that device's counters and the
			       * xdp:xdp_redirect_err tracepoint, not here */
	XR_PASS_NOT_IP,       /* not IPv4/IPv6 (ARP, LLDP, ...) */
	XR_PASS_NOT_UDP,      /* not UDP */
	XR_PASS_FRAGMENT,     /* IP fragment: the stack reassembles */
	XR_PASS_MALFORMED,    /* truncated or inconsistent header */
	XR_PASS_IP_OPTIONS_V6,/* IPv6 extension headers: left to the stack */
	XR_PASS_VLAN,         /* stacked VLAN tags (QinQ) */
	XR_PASS_NO_ENTRY,     /* UDP to a port with no flow: first packet */
	XR_PASS_FOREIGN_SRC,  /* source is not the flow's peer (not latched) */
	XR_PASS_FOREIGN_SAMPLE,/* foreign source on a strict port: sample */
	XR_DROP_FOREIGN_SRC,  /* foreign source on a strict port: dropped */
	XR_PASS_USERSPACE,    /* flow asks for userspace (XR_FLOW_F_TO_USERSPACE) */
	XR_PASS_FAMILY,       /* flow's egress family differs from ingress */
	XR_PASS_NO_NEIGH,     /* FIB lookup: no neighbour entry yet */
	XR_PASS_FIB_FAIL,     /* FIB lookup: no route, blackhole, ... */
	XR_PASS_ERROR,        /* a helper failed (adjust_head, redirect) */
	XR_REASON_MAX
};

/* Value of xr_stats (per CPU): packets and IP bytes per reason. */
struct xr_stat {
	__u64 packets;
	__u64 bytes;
};

#endif /* XRELAY_ABI_H */
