/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The latch of one relay port: which peer source its packets are accepted
 * from. A pure state machine (no I/O), so every transition is unit-tested.
 *
 *   unlatched --packet from an eligible source--> latched (LATCH_NEW)
 *   unlatched --packet from another source------> unlatched (REFUSED)
 *   latched   --packet from the latched peer----> latched (FORWARD)
 *   latched   --other source, peer idle > N ms--> latched anew (RELATCH)
 *   latched   --other source otherwise---------> latched (FOREIGN, drop)
 *   any       --new offer/answer for the leg---> unlatched (latch_reset)
 *
 * Eligible: the source's address is the peer's SDP address or the address
 * its signalling came from (the hint), or any source with LATCH_ANY. That
 * is what keeps an attacker from latching first (RTP Bleed).
 */
#ifndef XRELAY_LATCH_H
#define XRELAY_LATCH_H

#include <stdint.h>
#include <sys/socket.h>

#include "media.h"

struct latch {
	struct sockaddr_storage peer; /* valid when latched */
	int latched;
	uint64_t last_ns;             /* last packet from the peer */
	unsigned relatches;
};

enum latch_verdict {
	LATCH_FORWARD = 0, /* from the latched peer */
	LATCH_NEW,         /* first latch */
	LATCH_RELATCH,     /* a new source after the peer went idle */
	LATCH_REFUSED,     /* not latched, source not eligible */
	LATCH_FOREIGN,     /* latched to someone else */
};

struct latch_ctx {
	const struct sockaddr *sdp;  /* the peer's SDP address (may be NULL) */
	const struct sockaddr *hint; /* its signalling address (may be NULL) */
	enum latch_policy policy;
	uint64_t relatch_idle_ns;    /* 0: never re-latch on idleness */
};

enum latch_verdict latch_check(const struct latch *l,
			       const struct sockaddr *src,
			       const struct latch_ctx *ctx, uint64_t now_ns);
/* Apply a verdict for a packet from src at now_ns. */
void latch_apply(struct latch *l, enum latch_verdict v,
		 const struct sockaddr *src, uint64_t now_ns);
void latch_reset(struct latch *l);
const char *latch_verdict_name(enum latch_verdict v);

#endif
