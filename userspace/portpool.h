/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The relay's port pool for one local address: pairs of an even RTP port
 * and the odd RTCP port above it, over a configured range. A freed pair
 * waits out a quarantine before it is handed out again, so late packets of
 * an ended call never reach a new one. Every operation is O(1): the free
 * pairs form a FIFO ordered by the time they were freed, so the head is
 * always the one that has waited longest.
 */
#ifndef XRELAY_PORTPOOL_H
#define XRELAY_PORTPOOL_H

#include <stdint.h>

struct portpool;

/* Range [min, max]; min is rounded up to even, the last pair must fit. */
struct portpool *portpool_new(unsigned min, unsigned max,
			      uint64_t quarantine_ns);
void portpool_free(struct portpool *pp);

/* Returns the even port of a free pair, -ENOSPC when every pair is in use,
 * or -EAGAIN when the free pairs are all still in quarantine. */
int portpool_alloc(struct portpool *pp, uint64_t now_ns);
/* Give a pair back (its even port); -EINVAL if it was not allocated. */
int portpool_release(struct portpool *pp, unsigned port, uint64_t now_ns);
/* Take a specific pair (adopting a call after a restart); -EBUSY if used. */
int portpool_take(struct portpool *pp, unsigned port);

unsigned portpool_size(const struct portpool *pp);  /* pairs in all */
unsigned portpool_used(const struct portpool *pp);  /* pairs allocated */
int portpool_in_use(const struct portpool *pp, unsigned port);

#endif
