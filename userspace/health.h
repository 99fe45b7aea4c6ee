/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Health is loud: at start, a warning for every interface that wanted the
 * kernel path and did not get it; then, every HEALTH_INTERVAL_MS while
 * media flows, the share of packets forwarded in the kernel over that
 * interval, and a warning naming the likely cause and the fix when it is
 * below the configured threshold (kernel_share_warn).
 *
 * health_check() is pure (totals in, verdict and message out), so the
 * diagnosis is unit-tested; health_tick() feeds it from the daemon.
 */
#ifndef XRELAY_HEALTH_H
#define XRELAY_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "media.h"

#define HEALTH_INTERVAL_MS 10000
#define HEALTH_MIN_PACKETS 200    /* fewer in an interval: not judged */
#define HEALTH_REPEAT_MS 60000    /* a lasting problem is logged again */

struct xr_sources;

struct health {
	unsigned warn_pct;         /* 0: no share warnings */
	uint64_t next_ms;          /* the next look */
	int primed;                /* last_* hold a previous look */
	uint64_t last_k, last_u;
	struct xr_stat last_r[XR_REASON_MAX];
	int low;                   /* below the threshold at the last look */
	uint64_t warned_ms;        /* when the last warning was logged */
};

void health_init(struct health *h, unsigned warn_pct, uint64_t now_ms);
/* Log a warning with cause and fix for each interface that wanted a
 * kernel attach mode and got none; returns how many. */
int health_report_attach(const struct media_totals *t);
/*
 * One look at the totals (now_ms on a monotonic clock). Returns 1 with a
 * warning in msg when it should be logged, 2 with a notice in msg when the
 * share recovered, 0 otherwise.
 */
int health_check(struct health *h, const struct media_totals *t,
		 uint64_t now_ms, char *msg, size_t len);
/* From the daemon's loop: look when due and log. */
void health_tick(struct health *h, const struct xr_sources *src);
int health_timeout_ms(const struct health *h);

#endif
