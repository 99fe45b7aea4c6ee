// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The one list of metrics and its three renderings. A metric is either a
 * field of the snapshot (off/size) or a function that emits labelled
 * samples; every renderer walks the same list, so Prometheus, JSON and
 * the CLI cannot disagree on names or values.
 */
#include <stdio.h>
#include <string.h>

#include "fastpath.h"
#include "metrics.h"
#include "registrar.h"

enum sink_kind { SINK_PROM, SINK_JSON, SINK_TEXT };

struct metric_sink {
	enum sink_kind kind;
	struct outbuf *o;
	int nsamples;                 /* of the metric being rendered */
};

/* ---- the snapshot ------------------------------------------------------------ */

void metrics_collect(const struct xr_sources *src, struct metrics_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->start_s = src->start_s;
	if (src->b2b) {
		b2bua_stats(src->b2b, &s->sip);
		/* Every call in progress has both its dialogs (leg B is
		 * made with the call, once it is routed): no walk over the
		 * calls at each scrape. */
		s->legs_active = 2 * s->sip.calls_active;
	}
	if (src->tp)
		tp_stats(src->tp, &s->tp);
	if (src->reg)
		s->registrations = registrar_count(src->reg);
	if (src->me)
		media_engine_totals(src->me, &s->media);
}

/* ---- labelled metrics ---------------------------------------------------------- */

static const char *const dir_names[2] = { [B2B_RX] = "in", [B2B_TX] = "out" };

static void emit1(struct metric_sink *k, const struct metric *m,
		  const char *name, const char *value, uint64_t v)
{
	struct mlabel l = { name, value };

	metric_sample(k, m, &l, 1, v);
}

static void emit_outcomes(const struct metrics_snapshot *s,
			  struct metric_sink *k, const struct metric *m)
{
	emit1(k, m, "outcome", "answered", s->sip.calls_answered);
	emit1(k, m, "outcome", "failed", s->sip.calls_failed);
	emit1(k, m, "outcome", "cancelled", s->sip.calls_cancelled);
	emit1(k, m, "outcome", "rejected_limit", s->sip.calls_rejected_limit);
}

static void emit_requests(const struct metrics_snapshot *s,
			  struct metric_sink *k, const struct metric *m)
{
	for (int d = 0; d < 2; d++)
		for (unsigned i = 0; i < B2B_NMETHODS; i++) {
			struct mlabel l[2] = { { "direction", dir_names[d] },
					       { "method", b2bua_method_name(i) } };

			metric_sample(k, m, l, 2, s->sip.requests[d][i]);
		}
}

/* Only the codes seen: 600 series per direction of zeros help nobody. */
static void emit_responses(const struct metrics_snapshot *s,
			   struct metric_sink *k, const struct metric *m)
{
	char code[8];

	for (int d = 0; d < 2; d++)
		for (unsigned i = 0; i < B2B_NCODES; i++) {
			struct mlabel l[2] = { { "direction", dir_names[d] },
					       { "code", code } };

			if (!s->sip.responses[d][i])
				continue;
			snprintf(code, sizeof(code), "%u", i + B2B_CODE_MIN);
			metric_sample(k, m, l, 2, s->sip.responses[d][i]);
		}
}

static void emit_tp_msgs(const struct metrics_snapshot *s,
			 struct metric_sink *k, const struct metric *m)
{
	emit1(k, m, "direction", "in", s->tp.rx_msgs);
	emit1(k, m, "direction", "out", s->tp.tx_msgs);
}

static void emit_tp_bytes(const struct metrics_snapshot *s,
			  struct metric_sink *k, const struct metric *m)
{
	emit1(k, m, "direction", "in", s->tp.rx_bytes);
	emit1(k, m, "direction", "out", s->tp.tx_bytes);
}

/* By path and direction: a_to_b counts what came from leg A (the
 * caller's side, or an ng call's from-tag) and went to B. */
static void emit_media(const struct metrics_snapshot *s, struct metric_sink *k,
		       const struct metric *m, int bytes)
{
	static const char *const dirs[XR_DIR_MAX] = {
		[XR_DIR_FROM_A] = "a_to_b", [XR_DIR_FROM_B] = "b_to_a" };
	const struct xr_stat *per[2] = { s->media.kernel_dir,
					 s->media.user_dir };
	static const char *const paths[2] = { "kernel", "userspace" };

	for (int p = 0; p < 2; p++) {
		for (int d = 0; d < XR_DIR_MAX; d++) {
			struct mlabel l[2] = { { "path", paths[p] },
					       { "direction", dirs[d] } };

			metric_sample(k, m, l, 2, bytes ? per[p][d].bytes :
				      per[p][d].packets);
		}
	}
}

static void emit_media_packets(const struct metrics_snapshot *s,
			       struct metric_sink *k, const struct metric *m)
{
	emit_media(s, k, m, 0);
}

static void emit_media_bytes(const struct metrics_snapshot *s,
			     struct metric_sink *k, const struct metric *m)
{
	emit_media(s, k, m, 1);
}

static void emit_bpf_packets(const struct metrics_snapshot *s,
			     struct metric_sink *k, const struct metric *m)
{
	for (unsigned r = 0; r < XR_REASON_MAX; r++)
		emit1(k, m, "reason", xr_reason_name(r),
		      s->media.reasons[r].packets);
}

static void emit_bpf_bytes(const struct metrics_snapshot *s,
			   struct metric_sink *k, const struct metric *m)
{
	for (unsigned r = 0; r < XR_REASON_MAX; r++)
		emit1(k, m, "reason", xr_reason_name(r),
		      s->media.reasons[r].bytes);
}

static void emit_attach(const struct metrics_snapshot *s,
			struct metric_sink *k, const struct metric *m)
{
	for (int i = 0; i < s->media.nifaces && i < MEDIA_MAX_IFACES; i++) {
		struct mlabel l[3] = {
			{ "iface", s->media.iface[i].name },
			{ "want", attach_mode_name(s->media.iface[i].want) },
			{ "got", attach_mode_name(s->media.iface[i].got) },
		};

		metric_sample(k, m, l, 3, 1);
	}
}

static void emit_fallback(const struct metrics_snapshot *s,
			  struct metric_sink *k, const struct metric *m)
{
	for (int i = 0; i < s->media.nifaces && i < MEDIA_MAX_IFACES; i++)
		emit1(k, m, "iface", s->media.iface[i].name,
		      metrics_iface_fallback(&s->media, i));
}

/* ---- the list --------------------------------------------------------------------- */

#define SNAP(f) offsetof(struct metrics_snapshot, f), \
	sizeof(((struct metrics_snapshot *)0)->f)
#define VAL(n, t, h, f) { n, t, h, SNAP(f), NULL }
#define LAB(n, t, h, fn) { n, t, h, 0, 0, fn }
#define C METRIC_COUNTER
#define G METRIC_GAUGE

const struct metric metrics_list[] = {
	VAL("xrelay_start_time_seconds", G,
	    "When xrelayd started, in seconds since the Unix epoch.", start_s),
	/* calls */
	VAL("xrelay_calls_active", G, "Calls in progress (set up, ringing or "
	    "up).", sip.calls_active),
	VAL("xrelay_call_legs_active", G, "SIP dialogs (legs) of the calls in "
	    "progress.", legs_active),
	VAL("xrelay_calls_started_total", C, "Calls accepted for setup.",
	    sip.calls_total),
	LAB("xrelay_calls_total", C, "Calls by outcome: answered, failed "
	    "(routing, callee or setup failure), cancelled (by the caller "
	    "before an answer), rejected_limit (503 at max_calls).",
	    emit_outcomes),

	VAL("xrelay_registrations", G, "Stored registrar bindings.",
	    registrations),
	/* SIP */
	LAB("xrelay_sip_requests_total", C, "SIP requests on the wire, "
	    "retransmissions included, by direction and method.",
	    emit_requests),
	LAB("xrelay_sip_responses_total", C, "SIP responses on the wire, "
	    "retransmissions included, by direction and status code.",
	    emit_responses),
	VAL("xrelay_sip_malformed_total", C, "SIP messages received that did "
	    "not parse (answered 400 where possible).", sip.malformed),
	VAL("xrelay_sip_retransmissions_total", C, "SIP requests and responses "
	    "this relay sent again (transaction timers).", sip.retransmissions),
	VAL("xrelay_sip_retransmissions_received_total", C, "Retransmitted "
	    "SIP messages received and absorbed by a transaction.",
	    sip.retrans_absorbed),
	VAL("xrelay_sip_transaction_timeouts_total", C, "SIP transactions "
	    "that timed out.", sip.txn_timeouts),
	VAL("xrelay_sip_transactions_active", G, "SIP transactions in "
	    "progress.", sip.txns_active),
	LAB("xrelay_sip_transport_messages_total", C, "SIP messages through "
	    "the transport (UDP and TCP), by direction.", emit_tp_msgs),
	LAB("xrelay_sip_transport_bytes_total", C, "SIP bytes through the "
	    "transport, by direction.", emit_tp_bytes),
	VAL("xrelay_sip_tcp_connections", G, "Open SIP TCP connections.",
	    tp.tcp_open),
	VAL("xrelay_sip_tcp_accepted_total", C, "SIP TCP connections "
	    "accepted.", tp.tcp_accepted),
	VAL("xrelay_sip_send_errors_total", C, "SIP messages the transport "
	    "failed to send.", tp.send_errors),
	VAL("xrelay_sip_oversized_total", C, "SIP messages over the size "
	    "limit (their TCP connection closed).", tp.oversized),
	/* media */
	VAL("xrelay_media_sessions", G, "Media sessions (B2BUA calls and ng "
	    "sessions).", media.sessions),
	LAB("xrelay_media_packets_total", C, "RTP/RTCP packets forwarded, by "
	    "path (kernel: XDP/TC, userspace: the socket path) and direction "
	    "(a_to_b: from the caller's leg; b_to_a).", emit_media_packets),
	LAB("xrelay_media_bytes_total", C, "IP bytes of the media packets "
	    "forwarded, by path and direction.", emit_media_bytes),
	LAB("xrelay_bpf_packets_total", C, "Packets the BPF program saw, by "
	    "verdict reason (fwd_*: forwarded, pass_*: handed to the stack, "
	    "drop_*: dropped); per-CPU counters summed, kept in the pinned "
	    "maps across restarts.", emit_bpf_packets),
	LAB("xrelay_bpf_bytes_total", C, "IP bytes of those packets, by "
	    "verdict reason.", emit_bpf_bytes),
	VAL("xrelay_media_latches_total", C, "Streams latched onto a peer's "
	    "real source.", media.latches),
	VAL("xrelay_media_relatches_total", C, "Latched streams that moved "
	    "to a new source.", media.relatches),
	VAL("xrelay_media_latches_refused_total", C, "Packets whose source the "
	    "latch policy refused (neither SDP nor signalling address).",
	    media.latch_refused),
	VAL("xrelay_media_sessions_adopted_total", C, "Sessions rebuilt from "
	    "the journal at start.", media.adopted),
	VAL("xrelay_media_gc_flows_total", C, "Kernel flows of no known "
	    "session removed after a restart.", media.gc_flows),
	VAL("xrelay_port_pairs", G, "RTP/RTCP port pairs in the pools.",
	    media.ports_total),
	VAL("xrelay_port_pairs_used", G, "Port pairs allocated (quarantined "
	    "ones included).", media.ports_used),
	LAB("xrelay_iface_attach_info", G, "Per media interface: the attach "
	    "mode configured (want) and the one it got (off: userspace "
	    "forwards).", emit_attach),
	LAB("xrelay_iface_attach_fallback", G, "1 when a kernel attach mode "
	    "was configured but could not be attached (media on that "
	    "interface goes through userspace).", emit_fallback),
};
const size_t metrics_count = sizeof(metrics_list) / sizeof(metrics_list[0]);

/* ---- rendering ------------------------------------------------------------------------ */

static uint64_t field(const struct metrics_snapshot *s, const struct metric *m)
{
	const char *p = (const char *)s + m->off;
	uint64_t v64;
	uint32_t v32;

	if (m->size == sizeof(v64)) {
		memcpy(&v64, p, sizeof(v64));
		return v64;
	}
	memcpy(&v32, p, sizeof(v32));
	return v32;
}

/* Prometheus label values: backslash, double quote and newline escaped. */
static void prom_label_value(struct outbuf *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			ob_printf(o, "\\%c", *v);
		else if (*v == '\n')
			ob_puts(o, "\\n");
		else
			ob_put(o, v, 1);
	}
}

static void prom_sample(struct outbuf *o, const struct metric *m,
			const struct mlabel *l, int n, uint64_t v)
{
	ob_puts(o, m->name);
	for (int i = 0; i < n; i++) {
		ob_printf(o, "%s%s=\"", i ? "," : "{", l[i].name);
		prom_label_value(o, l[i].value);
		ob_puts(o, "\"");
	}
	ob_printf(o, "%s %llu\n", n ? "}" : "", (unsigned long long)v);
}

static void json_sample(struct metric_sink *k, const struct metric *m,
			const struct mlabel *l, int n, uint64_t v)
{
	struct outbuf *o = k->o;

	if (!m->emit) {
		ob_printf(o, "%llu", (unsigned long long)v);
		return;
	}
	ob_puts(o, k->nsamples ? ",{\"labels\":{" : "{\"labels\":{");
	for (int i = 0; i < n; i++) {
		if (i)
			ob_puts(o, ",");
		ob_json_str(o, l[i].name);
		ob_puts(o, ":");
		ob_json_str(o, l[i].value);
	}
	ob_printf(o, "},\"value\":%llu}", (unsigned long long)v);
}

static void text_sample(struct outbuf *o, const struct metric *m,
			const struct mlabel *l, int n, uint64_t v)
{
	char lab[160];
	size_t len = 0;

	if (n && !v)
		return;
	lab[0] = 0;
	for (int i = 0; i < n && len < sizeof(lab); i++)
		len += (size_t)snprintf(lab + len, sizeof(lab) - len, "%s%s=%s",
					i ? " " : "", l[i].name, l[i].value);
	ob_printf(o, "%-42s %-34s %llu\n", m->name, n ? lab : "-",
		  (unsigned long long)v);
}

void metric_sample(struct metric_sink *k, const struct metric *m,
		   const struct mlabel *l, int n, uint64_t v)
{
	switch (k->kind) {
	case SINK_PROM:
		prom_sample(k->o, m, l, n, v);
		break;
	case SINK_JSON:
		json_sample(k, m, l, n, v);
		break;
	case SINK_TEXT:
		text_sample(k->o, m, l, n, v);
		break;
	}
	k->nsamples++;
}

static void prom_help(struct outbuf *o, const struct metric *m)
{
	/* HELP text escapes backslash and newline; ours have neither. */
	ob_printf(o, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help,
		  m->name, m->type == METRIC_COUNTER ? "counter" : "gauge");
}

static void render(const struct metrics_snapshot *s, struct metric_sink *k)
{
	for (size_t i = 0; i < metrics_count; i++) {
		const struct metric *m = &metrics_list[i];

		k->nsamples = 0;
		if (k->kind == SINK_PROM)
			prom_help(k->o, m);
		if (k->kind == SINK_JSON) {
			ob_puts(k->o, i ? ",\n" : "{\n");
			ob_json_str(k->o, m->name);
			ob_puts(k->o, m->emit ? ":[" : ":");
		}
		if (m->emit)
			m->emit(s, k, m);
		else
			metric_sample(k, m, NULL, 0, field(s, m));
		if (k->kind == SINK_JSON && m->emit)
			ob_puts(k->o, "]");
	}
	if (k->kind == SINK_JSON)
		ob_puts(k->o, "\n}");
}

void metrics_render_prom(const struct metrics_snapshot *s, struct outbuf *o)
{
	struct metric_sink k = { .kind = SINK_PROM, .o = o };

	render(s, &k);
}

void metrics_render_json(const struct metrics_snapshot *s, struct outbuf *o)
{
	struct metric_sink k = { .kind = SINK_JSON, .o = o };

	render(s, &k);
}

void metrics_render_text(const struct metrics_snapshot *s, struct outbuf *o)
{
	struct metric_sink k = { .kind = SINK_TEXT, .o = o };

	render(s, &k);
}
