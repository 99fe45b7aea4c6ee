/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where a packet from the relay to a peer leaves: the route's interface and
 * next hop, and the next hop's MAC from the neighbour table (rtnetlink).
 * The kernel flow carries the result, so the program needs no FIB lookup
 * (which would also require IP forwarding on the ingress interface).
 */
#ifndef XRELAY_EGRESS_H
#define XRELAY_EGRESS_H

#include <sys/socket.h>

struct egress_l2 {
	int ifindex;
	unsigned char smac[6], dmac[6];
};

/* 0, -EHOSTUNREACH (no route), or -EAGAIN (the neighbour is not resolved
 * yet: send a packet the normal way, which resolves it, and ask again).
 * A complete answer is cached for a second per destination; a failed one
 * is not, so the next call asks the kernel again. */
int egress_resolve(const struct sockaddr *dst, struct egress_l2 *out);

#endif
