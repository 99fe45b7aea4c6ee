/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Metrics: one list (metrics.c) of {name, type, help, value}, rendered to
 * the Prometheus text exposition format (the HTTP listener), to JSON and
 * to a text table (xrelayctl metrics / stats --json). Values come from a
 * snapshot taken of the daemon's parts in one go, so one page is
 * consistent and the renderers are pure (unit-tested with made-up
 * snapshots).
 *
 * Names follow Prometheus conventions: xrelay_ prefix, counters end in
 * _total, units in the name (_bytes, _seconds); labels for the dimensions
 * (direction in/out, method, code, path kernel/userspace, reason, iface).
 */
#ifndef XRELAY_METRICS_H
#define XRELAY_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "b2bua.h"
#include "media.h"
#include "outbuf.h"
#include "transport.h"

struct registrar;

/* What the daemon runs (not owned): where the snapshot and the control
 * commands look. */
struct xr_sources {
	struct b2bua *b2b;
	struct sip_transport *tp;
	struct registrar *reg;
	struct media_engine *me;
	uint64_t start_s;             /* wall clock at start */
};

struct metrics_snapshot {
	uint64_t start_s;
	uint64_t legs_active;         /* SIP dialogs of the active calls */
	uint64_t registrations;
	struct b2bua_stats sip;
	struct tp_stats tp;
	struct media_totals media;
};

/* Any source may be NULL (its part stays zero). */
void metrics_collect(const struct xr_sources *src, struct metrics_snapshot *s);

/* Media interface i wanted a kernel attach mode and got none: userspace
 * forwards its media (the metric, the health warnings and `stats`). */
static inline int metrics_iface_fallback(const struct media_totals *t, int i)
{
	return t->iface[i].want != ATTACH_OFF && t->iface[i].got == ATTACH_OFF;
}

enum metric_type { METRIC_COUNTER, METRIC_GAUGE };

struct mlabel {
	const char *name, *value;
};

struct metric;
struct metric_sink;

struct metric {
	const char *name;
	enum metric_type type;
	const char *help;
	/* Unlabelled: a uint64_t or unsigned in the snapshot at off. */
	size_t off, size;
	/* Labelled: emits its samples through metric_sample(). */
	void (*emit)(const struct metrics_snapshot *s, struct metric_sink *k,
		     const struct metric *m);
};

extern const struct metric metrics_list[];
extern const size_t metrics_count;

/* One sample of m (labels may be NULL when n is 0). */
void metric_sample(struct metric_sink *k, const struct metric *m,
		   const struct mlabel *l, int n, uint64_t v);

/* Prometheus text format 0.0.4: HELP, TYPE, then the samples. */
void metrics_render_prom(const struct metrics_snapshot *s, struct outbuf *o);
/* A JSON object: name -> number, or name -> [{"labels": {...}, "value": n}]. */
void metrics_render_json(const struct metrics_snapshot *s, struct outbuf *o);
/* A text table for people: NAME  LABELS  VALUE; labelled samples that
 * are zero are left out. */
void metrics_render_text(const struct metrics_snapshot *s, struct outbuf *o);

/* The HTTP listener (metrics_http.c): GET /metrics (or HEAD) on a TCP
 * address "ADDR:PORT" ("[IPv6]:PORT"); other paths get 404, other methods
 * 405, garbage 400; one request per connection. */
struct metrics_http;
int metrics_http_open(struct metrics_http **out, const char *listen,
		      const struct xr_sources *src, char *err, size_t errlen);
void metrics_http_free(struct metrics_http *h);
int metrics_http_fd(const struct metrics_http *h);
void metrics_http_run(struct metrics_http *h);
int metrics_http_timeout_ms(const struct metrics_http *h);

#endif
