// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fastpath.h"
#include "health.h"
#include "log.h"
#include "metrics.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void health_init(struct health *h, unsigned warn_pct, uint64_t now_ms)
{
	memset(h, 0, sizeof(*h));
	h->warn_pct = warn_pct;
	h->next_ms = now_ms + HEALTH_INTERVAL_MS;
}

int health_report_attach(const struct media_totals *t)
{
	int n = 0;

	for (int i = 0; i < t->nifaces && i < MEDIA_MAX_IFACES; i++) {
		if (!metrics_iface_fallback(t, i))
			continue;
		log_warn("health: %s: wanted %s, got off: userspace forwards "
			 "every media packet on it, at a fraction of the "
			 "kernel's rate (cause: the attach error above; fix: "
			 "give xrelayd CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON, "
			 "use xdp-generic or tc where the driver has no native "
			 "XDP, or free the hook another program holds; then "
			 "restart). xrelayctl stats shows the attach state.",
			 t->iface[i].name, attach_mode_name(t->iface[i].want));
		n++;
	}
	return n;
}

/* The likely cause of packets going up, by what the BPF program said
 * when it passed them (the largest count over the interval wins). */
static const struct {
	enum xr_reason r;
	const char *cause, *fix;
} causes[] = {
	{ XR_PASS_NO_NEIGH, "the kernel had no ARP/NDP entry for the next hop "
	  "toward the peers", "check that the peers (or their gateway) "
	  "answer ARP/NDP on the egress interface" },
	{ XR_PASS_FIB_FAIL, "the kernel found no route toward the peers",
	  "add routes to the peers' networks in the relay's namespace" },
	{ XR_PASS_NO_ENTRY, "packets arrive on ports without a kernel flow: "
	  "peers that never latched (sending from neither their SDP nor "
	  "their signalling address) or flows not installed",
	  "look at 'xrelayctl call ID' for streams without a latched peer; "
	  "set latch = any if such NATs are expected" },
	{ XR_PASS_FOREIGN_SRC, "peers changed their source address or port "
	  "(NAT rebinding), so their packets no longer match the latched flow",
	  "set relatch_idle so that a silent stream may re-latch, or check "
	  "the NAT in front of the peers" },
	{ XR_PASS_FOREIGN_SAMPLE, "packets from sources other than the "
	  "latched peers (samples of dropped foreign packets)",
	  "check 'xrelayctl stats' drop_foreign_source; an attack, or "
	  "peers behind a rebinding NAT (relatch_idle)" },
	{ XR_PASS_FAMILY, "calls that bridge IPv4 and IPv6: the kernel path "
	  "cannot change the address family", "none needed if intended; "
	  "otherwise offer the same family on both legs" },
	{ XR_PASS_USERSPACE, "flows marked for userspace forwarding",
	  "see the log for why the engine took them out of the kernel" },
	{ XR_PASS_FRAGMENT, "fragmented media packets",
	  "fix the MTU on the path; media should never fragment" },
	{ XR_PASS_ERROR, "a BPF helper failed (redirect to the egress "
	  "device)", "native XDP redirect needs XDP support on the egress "
	  "driver too: try tc or xdp-generic on these interfaces" },
};

static void diagnose(const struct health *h, const struct media_totals *t,
		     char *buf, size_t len)
{
	uint64_t best = 0;
	int bi = -1;

	for (int i = 0; i < t->nifaces && i < MEDIA_MAX_IFACES; i++)
		if (metrics_iface_fallback(t, i)) {
			snprintf(buf, len, "likely cause: %s has no kernel path "
				 "(its %s attach failed at start); fix: see the "
				 "start-up log, fix the cause and restart",
				 t->iface[i].name,
				 attach_mode_name(t->iface[i].want));
			return;
		}
	for (size_t i = 0; i < sizeof(causes) / sizeof(causes[0]); i++) {
		uint64_t d = t->reasons[causes[i].r].packets -
			     h->last_r[causes[i].r].packets;

		if (d > best) {
			best = d;
			bi = (int)i;
		}
	}
	if (bi < 0) {
		snprintf(buf, len, "likely cause: media arrives on an interface "
			 "without the program (not in the iface list); fix: add "
			 "it with iface = NAME:xdp (or tc)");
		return;
	}
	snprintf(buf, len, "likely cause: %s (%s: %llu packets); fix: %s",
		 causes[bi].cause, xr_reason_name(causes[bi].r),
		 (unsigned long long)best, causes[bi].fix);
}

static int wants_kernel(const struct media_totals *t)
{
	for (int i = 0; i < t->nifaces && i < MEDIA_MAX_IFACES; i++)
		if (t->iface[i].want != ATTACH_OFF)
			return 1;
	return 0;
}

static void remember(struct health *h, const struct media_totals *t)
{
	h->last_k = t->kernel_packets;
	h->last_u = t->user_packets;
	memcpy(h->last_r, t->reasons, sizeof(h->last_r));
	h->primed = 1;
}

int health_check(struct health *h, const struct media_totals *t,
		 uint64_t now_ms, char *msg, size_t len)
{
	uint64_t dk, du, pct;
	char why[512];
	int rc = 0;

	h->next_ms = now_ms + HEALTH_INTERVAL_MS;
	if (!h->primed || t->kernel_packets < h->last_k ||
	    t->user_packets < h->last_u) { /* first look, or counters reset */
		remember(h, t);
		return 0;
	}
	dk = t->kernel_packets - h->last_k;
	du = t->user_packets - h->last_u;
	/* Judged only while calls are up and media flows, and only where
	 * the kernel path was asked for (mode off warned at start). */
	if (!h->warn_pct || !t->sessions || dk + du < HEALTH_MIN_PACKETS ||
	    !wants_kernel(t)) {
		remember(h, t);
		return 0;
	}
	pct = dk * 100 / (dk + du);
	if (pct < h->warn_pct) {
		if (!h->low || now_ms - h->warned_ms >= HEALTH_REPEAT_MS) {
			diagnose(h, t, why, sizeof(why));
			snprintf(msg, len, "health: only %llu%% of media packets "
				 "were forwarded in the kernel in the last %us "
				 "(%llu of %llu; threshold kernel_share_warn = "
				 "%u%%, %llu sessions): %s",
				 (unsigned long long)pct,
				 HEALTH_INTERVAL_MS / 1000,
				 (unsigned long long)dk,
				 (unsigned long long)(dk + du), h->warn_pct,
				 (unsigned long long)t->sessions, why);
			h->warned_ms = now_ms;
			rc = 1;
		}
		h->low = 1;
	} else if (h->low) {
		snprintf(msg, len, "health: %llu%% of media packets forwarded "
			 "in the kernel again (threshold %u%%)",
			 (unsigned long long)pct, h->warn_pct);
		h->low = 0;
		rc = 2;
	}
	remember(h, t);
	return rc;
}

void health_tick(struct health *h, const struct xr_sources *src)
{
	uint64_t now = mono_ms();
	struct media_totals t;
	char msg[1024];
	int rc;

	if (now < h->next_ms || !src->me)
		return;
	media_engine_totals(src->me, &t);
	rc = health_check(h, &t, now, msg, sizeof(msg));
	if (rc == 1)
		log_warn("%s", msg);
	else if (rc == 2)
		log_info("%s", msg);
}

int health_timeout_ms(const struct health *h)
{
	uint64_t now = mono_ms();

	return h->next_ms > now ? (int)(h->next_ms - now) : 0;
}
