/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The fast path from userspace: load the BPF object, pin its maps, attach it
 * to interfaces, and read and write flows, ports and statistics.
 *
 * Two ways in: fastpath_load() loads the programs (reusing maps already
 * pinned, so a restarted daemon adopts the flows of the previous one), and
 * fastpath_open_pinned() only opens the pinned maps (tools, tests).
 */
#ifndef XRELAY_FASTPATH_H
#define XRELAY_FASTPATH_H

#include <stddef.h>
#include <sys/socket.h>
#include "xrelay_abi.h"

enum attach_mode {
	ATTACH_OFF = 0,     /* no BPF: userspace forwards everything */
	ATTACH_XDP,         /* native XDP (driver mode) */
	ATTACH_XDP_GENERIC, /* XDP in the stack (SKB mode), any device */
	ATTACH_TC,          /* TC ingress (clsact) */
};

/* "off", "xdp", "xdp-generic", "tc"; -1 for anything else. */
int attach_mode_parse(const char *name);
const char *attach_mode_name(enum attach_mode mode);

struct fastpath_opts {
	const char *pin_dir; /* NULL: XR_PIN_DIR_DEFAULT */
	__u32 max_flows;     /* 0: the object's default */
	__u32 max_ports;     /* 0: the object's default */
	__u8 ttl;            /* 0: 64 */
	__u64 sample_ns;     /* 0: the object's default (100 ms) */
	__u32 fast4_entries; /* xr_fast4's size (see fastpath_fast4_layout) */
};

struct fastpath;

/* Errors return a negative errno; err gets a sentence with cause and fix. */
int fastpath_load(struct fastpath **fpp, const struct fastpath_opts *opts,
		  char *err, size_t errlen);
int fastpath_open_pinned(struct fastpath **fpp, const char *pin_dir,
			 char *err, size_t errlen);
/* Frees the handle; pinned maps and attached programs stay. */
void fastpath_close(struct fastpath *fp);
/* Removes the pinned maps (and the pin directory if it is then empty). */
int fastpath_unpin(const char *pin_dir);

/*
 * Attach the program (fastpath_load() handle) to an interface. A hook held
 * by another program is not taken over: err names who holds it.
 */
int fastpath_attach(struct fastpath *fp, int ifindex, enum attach_mode mode,
		    char *err, size_t errlen);
/* Detach xrelay's program from an interface (in any mode it may have). */
int fastpath_detach(int ifindex, enum attach_mode mode);

/*
 * Steer every relay port (every xr_ports entry) arriving at this network
 * namespace's stack to one UDP socket per family, with sk_lookup. The
 * program stays attached while the handle lives.
 */
int fastpath_steer(struct fastpath *fp, int sock4, int sock6, char *err,
		   size_t errlen);

/* Program fds, for BPF_PROG_TEST_RUN. -1 without fastpath_load(). */
int fastpath_prog_fd(const struct fastpath *fp, enum attach_mode mode);

/* Flows: put creates or replaces the whole value (counters included). */
int fastpath_flow_put(struct fastpath *fp, const struct xr_flow_key *k,
		      const struct xr_flow *v);
int fastpath_flow_get(struct fastpath *fp, const struct xr_flow_key *k,
		      struct xr_flow *v);
int fastpath_flow_del(struct fastpath *fp, const struct xr_flow_key *k);
int fastpath_port_put(struct fastpath *fp, const struct xr_port_key *k,
		      const struct xr_port *v);
int fastpath_port_get(struct fastpath *fp, const struct xr_port_key *k,
		      struct xr_port *v);
int fastpath_port_del(struct fastpath *fp, const struct xr_port_key *k);
/* Iterate flow keys: start with prev = NULL; returns 0, or -ENOENT at end. */
int fastpath_flow_next(struct fastpath *fp, const struct xr_flow_key *prev,
		       struct xr_flow_key *next);

/*
 * The IPv4 addresses whose ports have an entry each in xr_fast4 (see
 * xrelay_abi.h): IPv4 flows of those ports are kept there, not in
 * xr_flows, by fastpath_flow_put/get/del/next, so that the program finds
 * them without hashing. A layout other than the pinned one (the pools
 * changed) clears the array first: its entries would be other ports'.
 * n at most FASTPATH_MAX_ADDR4; base + nports within fast4_entries.
 */
/* The program scans its own copy of at most this many (xrelay_abi.h):
 * the layout holds no more, so every address in it is one the program
 * finds; the pools' further addresses keep their flows in xr_flows. */
#define FASTPATH_MAX_ADDR4 XR_FAST4_ADDRS
struct fastpath_addr4 {
	__u32 addr; /* network order */
	struct xr_addr4 slot;
};
int fastpath_fast4_layout(struct fastpath *fp, const struct fastpath_addr4 *a,
			  int n);

/* Per-reason counters summed over CPUs. out has XR_REASON_MAX entries. */
int fastpath_stats(struct fastpath *fp, struct xr_stat *out);
/* Packets and bytes forwarded in the kernel by the leg they came from. */
int fastpath_dir_stats(struct fastpath *fp, struct xr_stat out[XR_DIR_MAX]);
int fastpath_stats_reset(struct fastpath *fp);
const char *xr_reason_name(unsigned int reason);

int fastpath_flows_fd(const struct fastpath *fp);
int fastpath_ports_fd(const struct fastpath *fp);

/* Keys from socket addresses (local = the relay side). */
int fastpath_flow_key(struct xr_flow_key *k, const struct sockaddr *local,
		      const struct sockaddr *remote);
int fastpath_port_key(struct xr_port_key *k, const struct sockaddr *local);
/* The rewrite of a flow value: new source src, new destination dst (same
 * family). Only those fields are written. */
int fastpath_flow_rewrite(struct xr_flow *v, const struct sockaddr *src,
			  const struct sockaddr *dst);
/* And back: an ABI address (16 bytes, port in network order) to a socket
 * address. */
void fastpath_sockaddr(struct sockaddr_storage *ss, const __u8 *addr,
		       __u16 port_be, int family);

#endif
