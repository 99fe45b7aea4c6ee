// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `stats` and `metrics`: the same snapshot as the Prometheus page
 * (metrics_collect), as a summary for people, with what they look at
 * first (is the kernel forwarding? which interface fell back?), and as
 * the full metric list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ctl.h"
#include "fastpath.h"

static uint64_t wall_s(void)
{
	return (uint64_t)time(NULL);
}

static unsigned long long u(uint64_t v) { return (unsigned long long)v; }

/* Percent of part in part + rest; -1 when both are 0. */
static double share(uint64_t part, uint64_t rest)
{
	return part + rest ? 100.0 * (double)part / (double)(part + rest) : -1;
}

static const char *iface_state(enum attach_mode want, enum attach_mode got)
{
	if (got != ATTACH_OFF)
		return "kernel";
	if (want != ATTACH_OFF)
		return "FALLING BACK to userspace (see the start-up log for why)";
	return "userspace (configured off)";
}

static void stats_text(const struct metrics_snapshot *s, struct outbuf *o)
{
	const struct b2bua_stats *sip = &s->sip;
	const struct media_totals *m = &s->media;
	double k = share(m->kernel_packets, m->user_packets);
	uint64_t up = wall_s() > s->start_s ? wall_s() - s->start_s : 0;
	int any = 0;

	ob_printf(o, "uptime      %llus\n", u(up));
	ob_printf(o, "calls       %llu active (%llu legs), %llu started: %llu "
		  "answered, %llu failed, %llu rejected at max_calls\n",
		  u(sip->calls_active), u(s->legs_active), u(sip->calls_total),
		  u(sip->calls_answered), u(sip->calls_failed),
		  u(sip->calls_rejected_limit));
	ob_printf(o, "sip         %llu messages in, %llu out; %llu "
		  "retransmissions; %llu malformed; %llu transactions\n",
		  u(s->tp.rx_msgs), u(s->tp.tx_msgs), u(sip->retransmissions),
		  u(sip->malformed), u(sip->txns_active));
	ob_printf(o, "regs        %llu bindings\n", u(s->registrations));
	ob_printf(o, "media       %llu sessions; port pairs %u of %u in use\n",
		  u(m->sessions), m->ports_used, m->ports_total);
	if (k < 0)
		ob_puts(o, "forwarded   no packets yet\n");
	else
		ob_printf(o, "forwarded   kernel %llu packets (%.1f%%), userspace "
			  "%llu packets (%.1f%%)\n            kernel %llu bytes, "
			  "userspace %llu bytes\n", u(m->kernel_packets), k,
			  u(m->user_packets), 100.0 - k, u(m->kernel_bytes),
			  u(m->user_bytes));
	ob_printf(o, "latching    %llu latches, %llu re-latches, %llu refused\n",
		  u(m->latches), u(m->relatches), u(m->latch_refused));
	ob_puts(o, "interfaces\n");
	for (int i = 0; i < m->nifaces && i < MEDIA_MAX_IFACES; i++)
		ob_printf(o, "  %-15s want %-11s got %-11s %s\n",
			  m->iface[i].name, attach_mode_name(m->iface[i].want),
			  attach_mode_name(m->iface[i].got),
			  iface_state(m->iface[i].want, m->iface[i].got));
	ob_puts(o, "kernel verdicts (per-CPU counters of the pinned maps)\n");
	for (unsigned r = 0; r < XR_REASON_MAX; r++) {
		if (!m->reasons[r].packets)
			continue;
		ob_printf(o, "  %-24s %12llu packets %14llu bytes\n",
			  xr_reason_name(r), u(m->reasons[r].packets),
			  u(m->reasons[r].bytes));
		any = 1;
	}
	if (!any)
		ob_puts(o, "  none\n");
}

static void stats_json(const struct metrics_snapshot *s, struct outbuf *o)
{
	const struct b2bua_stats *sip = &s->sip;
	const struct media_totals *m = &s->media;
	double k = share(m->kernel_packets, m->user_packets);

	ob_printf(o, "{\"uptime_s\":%llu,\"calls\":{\"active\":%llu,\"legs\":"
		  "%llu,\"started\":%llu,\"answered\":%llu,\"failed\":%llu,"
		  "\"rejected_limit\":%llu},\"registrations\":%llu,",
		  u(wall_s() > s->start_s ? wall_s() - s->start_s : 0),
		  u(sip->calls_active), u(s->legs_active), u(sip->calls_total),
		  u(sip->calls_answered), u(sip->calls_failed),
		  u(sip->calls_rejected_limit), u(s->registrations));
	ob_printf(o, "\"sip\":{\"messages_in\":%llu,\"messages_out\":%llu,"
		  "\"retransmissions\":%llu,\"malformed\":%llu,"
		  "\"transactions\":%llu},", u(s->tp.rx_msgs), u(s->tp.tx_msgs),
		  u(sip->retransmissions), u(sip->malformed),
		  u(sip->txns_active));
	ob_printf(o, "\"media\":{\"sessions\":%llu,\"kernel_packets\":%llu,"
		  "\"user_packets\":%llu,\"kernel_bytes\":%llu,\"user_bytes\":"
		  "%llu,\"kernel_share_percent\":", u(m->sessions),
		  u(m->kernel_packets), u(m->user_packets), u(m->kernel_bytes),
		  u(m->user_bytes));
	if (k < 0)
		ob_puts(o, "null");
	else
		ob_printf(o, "%.2f", k);
	ob_printf(o, ",\"latches\":%llu,\"relatches\":%llu,\"latch_refused\":"
		  "%llu},\"ports\":{\"pairs\":%u,\"used\":%u},\"interfaces\":[",
		  u(m->latches), u(m->relatches), u(m->latch_refused),
		  m->ports_total, m->ports_used);
	for (int i = 0; i < m->nifaces && i < MEDIA_MAX_IFACES; i++) {
		ob_puts(o, i ? ",{\"name\":" : "{\"name\":");
		ob_json_str(o, m->iface[i].name);
		ob_printf(o, ",\"want\":\"%s\",\"got\":\"%s\",\"fallback\":%s}",
			  attach_mode_name(m->iface[i].want),
			  attach_mode_name(m->iface[i].got),
			  metrics_iface_fallback(m, i) ? "true" : "false");
	}
	ob_puts(o, "],\"kernel_verdicts\":{");
	for (unsigned r = 0; r < XR_REASON_MAX; r++)
		ob_printf(o, "%s\"%s\":{\"packets\":%llu,\"bytes\":%llu}",
			  r ? "," : "", xr_reason_name(r),
			  u(m->reasons[r].packets), u(m->reasons[r].bytes));
	ob_puts(o, "},\"metrics\":");
	metrics_render_json(s, o);
	ob_puts(o, "\n}\n");
}

static int with_snapshot(const struct ctl_ctx *cx, struct outbuf *o,
			 void (*fn)(const struct metrics_snapshot *s,
				    struct outbuf *o),
			 char *err, size_t errlen)
{
	struct metrics_snapshot *s = malloc(sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	metrics_collect(cx->src, s);
	fn(s, o);
	free(s);
	return 0;
}

int ctl_cmd_stats(const struct ctl_ctx *cx, const struct ctl_req *r,
		  struct outbuf *o, char *err, size_t errlen)
{
	return with_snapshot(cx, o, r->json ? stats_json : stats_text, err,
			     errlen);
}

static void metrics_json_nl(const struct metrics_snapshot *s, struct outbuf *o)
{
	metrics_render_json(s, o);
	ob_puts(o, "\n");
}

int ctl_cmd_metrics(const struct ctl_ctx *cx, const struct ctl_req *r,
		    struct outbuf *o, char *err, size_t errlen)
{
	return with_snapshot(cx, o, r->json ? metrics_json_nl :
			     metrics_render_text, err, errlen);
}
