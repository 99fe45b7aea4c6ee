// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control commands (the table of ctl_proto.h) and what each reads:
 * the B2BUA's calls, the media engine's sessions and totals, the
 * registrar. Text for people (aligned tables), JSON for scripts; both
 * from the same walk, so they cannot disagree.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "netaddr.h"
#include "registrar.h"

#define CTL_ROW(n, a, k, h) { #n, a, k, h, ctl_cmd_##n },
const struct ctl_cmd ctl_cmds[] = { CTL_COMMANDS(CTL_ROW) };
#undef CTL_ROW
const size_t ctl_ncmds = sizeof(ctl_cmds) / sizeof(ctl_cmds[0]);

/* ---- small helpers ------------------------------------------------------------- */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "3h02m05s", "2m05s", "12s". */
static const char *age_str(uint64_t s, char *buf, size_t len)
{
	if (s >= 3600)
		snprintf(buf, len, "%lluh%02llum%02llus",
			 (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60),
			 (unsigned long long)(s % 60));
	else if (s >= 60)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%llus", (unsigned long long)s);
	return buf;
}

static uint64_t since_s(uint64_t then, uint64_t now, uint64_t unit)
{
	return now > then ? (now - then) / unit : 0;
}

static const char *phase_name(enum call_phase p)
{
	static const char *const n[] = { [CALL_SETUP] = "setup",
		[CALL_EARLY] = "early", [CALL_UP] = "up",
		[CALL_ENDING] = "ending" };

	return (unsigned)p < sizeof(n) / sizeof(n[0]) ? n[p] : "?";
}

static const char *media_state_name(enum media_state s)
{
	static const char *const n[] = { [MEDIA_NEW] = "new",
		[MEDIA_OFFERED] = "offered", [MEDIA_ANSWERED] = "answered" };

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

/* An address, or "-" when there is none. */
static const char *addr_str(const struct sockaddr_storage *ss, char *buf,
			    size_t len)
{
	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
		return "-";
	return netaddr_str((const struct sockaddr *)ss, buf, len);
}

static void json_addr(struct outbuf *o, const struct sockaddr_storage *ss)
{
	char a[NETADDR_STRLEN];
	const char *s = addr_str(ss, a, sizeof(a));

	ob_json_str(o, strcmp(s, "-") ? s : NULL);
}

/* ---- an aligned text table -------------------------------------------------------- */

#define TBL_COLS 10
#define TBL_CELL_MAX 48 /* wider cells (display names) are cut with "..." */

struct tbl {
	struct outbuf cells;       /* NUL-separated */
	size_t *off;
	size_t n, cap;
	int ncols, w[TBL_COLS];
	int oom;
};

static void tbl_init(struct tbl *t, int ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	ob_init(&t->cells, CTL_MAX_REPLY);
}

static void tbl_free(struct tbl *t)
{
	ob_free(&t->cells);
	free(t->off);
}

/* A cell; cut is the width past which it is shortened (0: never). */
static void tbl_cell(struct tbl *t, size_t cut, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void tbl_cell(struct tbl *t, size_t cut, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	size_t len;
	int col = (int)(t->n % (size_t)t->ncols);

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	len = strlen(buf);
	if (cut && len > cut) {
		memcpy(buf + cut - 3, "...", 4);
		len = cut;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		size_t *p = realloc(t->off, cap * sizeof(*p));

		if (!p) {
			t->oom = 1;
			return;
		}
		t->off = p;
		t->cap = cap;
	}
	t->off[t->n++] = t->cells.len;
	ob_put(&t->cells, buf, len + 1);
	if ((int)len > t->w[col])
		t->w[col] = (int)len;
}

static void tbl_render(struct tbl *t, struct outbuf *o)
{
	if (t->oom || t->cells.full) {
		o->full = 1;
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		int col = (int)(i % (size_t)t->ncols);
		int last = col == t->ncols - 1 || i + 1 == t->n;

		if (last)
			ob_printf(o, "%s\n", t->cells.p + t->off[i]);
		else
			ob_printf(o, "%-*s  ", t->w[col],
				  t->cells.p + t->off[i]);
	}
}

/* ---- media of a session -------------------------------------------------------------- */

struct media_sum {
	uint64_t kp, kb, up, ub;   /* kernel and userspace packets, bytes */
};

static void sum_counters(struct media_sum *m, const struct media_counters *c)
{
	m->kp += c->kernel_packets;
	m->kb += c->kernel_bytes;
	m->up += c->user_packets;
	m->ub += c->user_bytes;
}

static void sum_session(const struct media_session_info *in,
			struct media_sum *m)
{
	memset(m, 0, sizeof(*m));
	for (int l = 0; l < 2; l++)
		for (int i = 0; i < in->leg[l].nstreams; i++) {
			sum_counters(m, &in->leg[l].st[i].rtp.in);
			sum_counters(m, &in->leg[l].st[i].rtcp.in);
		}
}

/* The session's info into *in; 0, or -1 when there is none. */
static int session_info(const struct ctl_ctx *cx, const char *id,
			struct media_session_info *in)
{
	struct media_session *s;

	if (!cx->src->me || !id[0])
		return -1;
	s = media_session_get(cx->src->me, id, 0);
	return s ? media_session_info(cx->src->me, s, in) : -1;
}

/* ---- calls ---------------------------------------------------------------------------- */

struct calls_walk {
	const struct ctl_ctx *cx;
	struct outbuf *o;
	struct tbl t;
	int json;
	size_t n;
	struct media_session_info *info;  /* scratch */
	char **ids;                       /* media ids of the B2BUA's calls */
	size_t nids, capids;
	uint64_t now_us, now_ns;
	int oom;
};

static void keep_id(struct calls_walk *w, const char *id)
{
	if (w->nids == w->capids) {
		size_t cap = w->capids ? w->capids * 2 : 256;
		char **p = realloc(w->ids, cap * sizeof(*p));

		if (!p) {
			w->oom = 1;
			return;
		}
		w->ids = p;
		w->capids = cap;
	}
	if (!(w->ids[w->nids] = strdup(id)))
		w->oom = 1;
	else
		w->nids++;
}

static void calls_json_row(struct calls_walk *w, const char *kind,
			   const char *a, const char *b, const char *from,
			   const char *to, const char *state, uint64_t age,
			   int64_t talk, const struct media_sum *m)
{
	struct outbuf *o = w->o;

	ob_puts(o, w->n ? ",\n{\"kind\":" : "\n{\"kind\":");
	ob_json_str(o, kind);
	ob_puts(o, ",\"call_id_a\":");
	ob_json_str(o, a);
	ob_puts(o, ",\"call_id_b\":");
	ob_json_str(o, b);
	ob_puts(o, ",\"from\":");
	ob_json_str(o, from);
	ob_puts(o, ",\"to\":");
	ob_json_str(o, to);
	ob_puts(o, ",\"state\":");
	ob_json_str(o, state);
	ob_printf(o, ",\"age_s\":%llu", (unsigned long long)age);
	if (talk >= 0)
		ob_printf(o, ",\"talk_s\":%lld", (long long)talk);
	else
		ob_puts(o, ",\"talk_s\":null");
	ob_printf(o, ",\"kernel_packets\":%llu,\"user_packets\":%llu,"
		  "\"kernel_bytes\":%llu,\"user_bytes\":%llu}",
		  (unsigned long long)m->kp, (unsigned long long)m->up,
		  (unsigned long long)m->kb, (unsigned long long)m->ub);
}

static void calls_text_row(struct calls_walk *w, const char *a,
			   const char *b, const char *from, const char *to,
			   const char *state, uint64_t age,
			   const struct media_sum *m)
{
	char ag[32];

	tbl_cell(&w->t, 0, "%s", a);
	tbl_cell(&w->t, 0, "%s", b);
	tbl_cell(&w->t, TBL_CELL_MAX, "%s", from);
	tbl_cell(&w->t, TBL_CELL_MAX, "%s", to);
	tbl_cell(&w->t, 0, "%s", age_str(age, ag, sizeof(ag)));
	tbl_cell(&w->t, 0, "%s", state);
	tbl_cell(&w->t, 0, "%llu", (unsigned long long)m->kp);
	tbl_cell(&w->t, 0, "%llu", (unsigned long long)m->up);
}

static int calls_b2bua(const struct b2bua_call_info *ci, void *arg)
{
	struct calls_walk *w = arg;
	struct media_sum m = { 0 };
	uint64_t age = since_s(ci->start_us, w->now_us, 1000000);
	int64_t talk = ci->answer_us ?
		(int64_t)since_s(ci->answer_us, w->now_us, 1000000) : -1;

	if (session_info(w->cx, ci->media_id, w->info) == 0)
		sum_session(w->info, &m);
	keep_id(w, ci->media_id);
	if (w->json)
		calls_json_row(w, "b2bua", ci->call_id_a, ci->call_id_b,
			       ci->from, ci->to, phase_name(ci->phase), age,
			       talk, &m);
	else
		calls_text_row(w, ci->call_id_a, ci->call_id_b, ci->from,
			       ci->to, phase_name(ci->phase), age, &m);
	w->n++;
	return w->o->full || w->oom;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sessions no B2BUA call owns: driven over the ng protocol. */
static int calls_media(struct media_session *s, void *arg)
{
	struct calls_walk *w = arg;
	const char *id = media_session_id(s);
	struct media_sum m;
	uint64_t age;

	if (w->nids && bsearch(&id, w->ids, w->nids, sizeof(*w->ids), cmp_str))
		return 0;
	media_session_info(w->cx->src->me, s, w->info);
	sum_session(w->info, &m);
	age = since_s(w->info->created_ns, w->now_ns, 1000000000ull);
	if (w->json)
		calls_json_row(w, "media", id, NULL, NULL, NULL,
			       media_state_name(w->info->state), age, -1, &m);
	else
		calls_text_row(w, id, "-", "-", "-",
			       media_state_name(w->info->state), age, &m);
	w->n++;
	return w->o->full;
}

int ctl_cmd_calls(const struct ctl_ctx *cx, const struct ctl_req *r,
		  struct outbuf *o, char *err, size_t errlen)
{
	struct calls_walk w = { .cx = cx, .o = o, .json = r->json };

	w.info = malloc(sizeof(*w.info));
	if (!w.info) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w.now_us = clock_ns(CLOCK_REALTIME) / 1000;
	w.now_ns = clock_ns(CLOCK_MONOTONIC);
	tbl_init(&w.t, 8);
	if (!w.json) {
		const char *h[] = { "CALL-ID-A", "CALL-ID-B", "FROM", "TO",
				    "AGE", "STATE", "KERNEL-PKTS",
				    "USER-PKTS" };

		for (int i = 0; i < 8; i++)
			tbl_cell(&w.t, 0, "%s", h[i]);
	} else {
		ob_puts(o, "{\"calls\":[");
	}
	if (cx->src->b2b)
		b2bua_foreach_call(cx->src->b2b, calls_b2bua, &w);
	if (cx->src->me && !w.oom) {
		if (w.nids)
			qsort(w.ids, w.nids, sizeof(*w.ids), cmp_str);
		media_session_foreach(cx->src->me, calls_media, &w);
	}
	if (w.json) {
		ob_printf(o, "\n],\"count\":%zu}\n", w.n);
	} else {
		tbl_render(&w.t, o);
		ob_printf(o, "%zu call%s\n", w.n, w.n == 1 ? "" : "s");
	}
	tbl_free(&w.t);
	for (size_t i = 0; i < w.nids; i++)
		free(w.ids[i]);
	free(w.ids);
	free(w.info);
	if (w.oom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* ---- call ID ------------------------------------------------------------------------------ */

struct call_find {
	const char *id;
	struct b2bua_call_info ci;
	int found;
};

static int find_call(const struct b2bua_call_info *ci, void *arg)
{
	struct call_find *f = arg;

	if (strcmp(ci->call_id_a, f->id) && strcmp(ci->call_id_b, f->id))
		return 0;
	f->ci = *ci;
	f->found = 1;
	return 1;
}

static const char *last_str(uint64_t last_ns, uint64_t now_ns, char *buf,
			    size_t len)
{
	if (!last_ns)
		return "never";
	snprintf(buf, len, "%.2fs ago",
		 (double)since_s(last_ns, now_ns, 1) / 1e9);
	return buf;
}

static void comp_text(struct outbuf *o, const char *what,
		      const struct media_component_info *c, int leg,
		      uint64_t now_ns)
{
	char a[NETADDR_STRLEN], b[NETADDR_STRLEN], l[32];
	const struct media_counters *n = &c->in;

	if (!c->local_port) {
		ob_printf(o, "    %-5s no port\n", what);
		return;
	}
	ob_printf(o, "    %-5s port %u  sdp peer %s  latched %s  relatches %u\n",
		  what, c->local_port, addr_str(&c->sdp_peer, a, sizeof(a)),
		  c->latched.ss_family ? addr_str(&c->latched, b, sizeof(b)) :
		  "no", c->relatches);
	ob_printf(o, "          from %c: kernel %llu pkts %llu B, userspace "
		  "%llu pkts %llu B\n", leg ? 'B' : 'A',
		  (unsigned long long)n->kernel_packets,
		  (unsigned long long)n->kernel_bytes,
		  (unsigned long long)n->user_packets,
		  (unsigned long long)n->user_bytes);
	ob_printf(o, "          drops: foreign source %llu, no destination "
		  "%llu, policy %llu; last packet %s\n",
		  (unsigned long long)n->drop_foreign,
		  (unsigned long long)n->drop_no_dest,
		  (unsigned long long)n->drop_policy,
		  last_str(n->last_packet_ns, now_ns, l, sizeof(l)));
}

static void media_text(struct outbuf *o, const struct media_session_info *in,
		       uint64_t now_ns)
{
	char a[NETADDR_STRLEN], ag[32];

	ob_printf(o, "media      session %s, %s, created %s ago%s\n", in->id,
		  media_state_name(in->state),
		  age_str(since_s(in->created_ns, now_ns, 1000000000ull), ag,
			  sizeof(ag)), in->idle ? ", idle" : "");
	for (int l = 0; l < 2; l++) {
		const struct media_leg_info *li = &in->leg[l];

		ob_printf(o, "leg %c      signalling %s, attach %s\n",
			  l ? 'B' : 'A', addr_str(&li->hint, a, sizeof(a)),
			  attach_mode_name(li->mode));
		for (int i = 0; i < li->nstreams; i++) {
			const struct media_stream_info *si = &li->st[i];
			char r[NETADDR_STRLEN];

			ob_printf(o, "  stream %d %s %s%s%s, relay %s\n", i,
				  si->type, sdp_dir_name(si->dir),
				  si->rejected ? ", rejected" : "",
				  si->rtcp_mux ? ", rtcp-mux" : "",
				  si->local.ss_family ? netaddr_ip_str(
				  (const struct sockaddr *)&si->local, r,
				  sizeof(r)) : "-");
			comp_text(o, "RTP", &si->rtp, l, now_ns);
			if (!si->rtcp_mux)
				comp_text(o, "RTCP", &si->rtcp, l, now_ns);
		}
	}
}

static void comp_json(struct outbuf *o, const struct media_component_info *c,
		      uint64_t now_ns)
{
	const struct media_counters *n = &c->in;

	ob_printf(o, "{\"local_port\":%u,\"sdp_peer\":", c->local_port);
	json_addr(o, &c->sdp_peer);
	ob_puts(o, ",\"latched\":");
	json_addr(o, &c->latched);
	ob_printf(o, ",\"relatches\":%u,\"in\":{\"kernel_packets\":%llu,"
		  "\"kernel_bytes\":%llu,\"user_packets\":%llu,"
		  "\"user_bytes\":%llu,\"drops\":{\"foreign_source\":%llu,"
		  "\"no_destination\":%llu,\"policy\":%llu},"
		  "\"last_packet_age_ms\":", c->relatches,
		  (unsigned long long)n->kernel_packets,
		  (unsigned long long)n->kernel_bytes,
		  (unsigned long long)n->user_packets,
		  (unsigned long long)n->user_bytes,
		  (unsigned long long)n->drop_foreign,
		  (unsigned long long)n->drop_no_dest,
		  (unsigned long long)n->drop_policy);
	if (n->last_packet_ns)
		ob_printf(o, "%llu}}", (unsigned long long)
			  since_s(n->last_packet_ns, now_ns, 1000000));
	else
		ob_puts(o, "null}}");
}

static void media_json(struct outbuf *o, const struct media_session_info *in,
		       uint64_t now_ns)
{
	char r[NETADDR_STRLEN];

	ob_puts(o, "{\"id\":");
	ob_json_str(o, in->id);
	ob_puts(o, ",\"state\":");
	ob_json_str(o, media_state_name(in->state));
	ob_printf(o, ",\"age_s\":%llu,\"idle\":%s,\"legs\":[",
		  (unsigned long long)since_s(in->created_ns, now_ns,
					      1000000000ull),
		  in->idle ? "true" : "false");
	for (int l = 0; l < 2; l++) {
		const struct media_leg_info *li = &in->leg[l];

		ob_printf(o, "%s{\"leg\":\"%c\",\"attach\":\"%s\",\"signalling\":",
			  l ? "," : "", l ? 'B' : 'A', attach_mode_name(li->mode));
		json_addr(o, &li->hint);
		ob_puts(o, ",\"streams\":[");
		for (int i = 0; i < li->nstreams; i++) {
			const struct media_stream_info *si = &li->st[i];

			ob_printf(o, "%s{\"index\":%d,\"type\":", i ? "," : "", i);
			ob_json_str(o, si->type);
			ob_printf(o, ",\"direction\":\"%s\",\"rejected\":%s,"
				  "\"rtcp_mux\":%s,\"relay\":",
				  sdp_dir_name(si->dir),
				  si->rejected ? "true" : "false",
				  si->rtcp_mux ? "true" : "false");
			ob_json_str(o, si->local.ss_family ? netaddr_ip_str(
				    (const struct sockaddr *)&si->local, r,
				    sizeof(r)) : NULL);
			ob_puts(o, ",\"rtp\":");
			comp_json(o, &si->rtp, now_ns);
			ob_puts(o, ",\"rtcp\":");
			if (si->rtcp_mux)
				ob_puts(o, "null");
			else
				comp_json(o, &si->rtcp, now_ns);
			ob_puts(o, "}");
		}
		ob_puts(o, "]}");
	}
	ob_puts(o, "]}");
}

static void call_text(struct outbuf *o, const struct b2bua_call_info *ci,
		      uint64_t now_us)
{
	char ag[32], an[32];

	ob_printf(o, "call       A %s\n           B %s\n", ci->call_id_a,
		  ci->call_id_b);
	ob_printf(o, "from       %s\nto         %s\n", ci->from, ci->to);
	ob_printf(o, "state      %s, age %s", phase_name(ci->phase),
		  age_str(since_s(ci->start_us, now_us, 1000000), ag,
			  sizeof(ag)));
	if (ci->answer_us)
		ob_printf(o, ", answered after %s",
			  age_str(since_s(ci->start_us, ci->answer_us, 1000000),
				  an, sizeof(an)));
	ob_puts(o, "\n");
}

static void call_json(struct outbuf *o, const struct b2bua_call_info *ci,
		      uint64_t now_us)
{
	ob_puts(o, "\"call_id_a\":");
	ob_json_str(o, ci->call_id_a);
	ob_puts(o, ",\"call_id_b\":");
	ob_json_str(o, ci->call_id_b);
	ob_puts(o, ",\"from\":");
	ob_json_str(o, ci->from);
	ob_puts(o, ",\"to\":");
	ob_json_str(o, ci->to);
	ob_puts(o, ",\"state\":");
	ob_json_str(o, phase_name(ci->phase));
	ob_printf(o, ",\"age_s\":%llu,\"answer_delay_s\":",
		  (unsigned long long)since_s(ci->start_us, now_us, 1000000));
	if (ci->answer_us)
		ob_printf(o, "%llu", (unsigned long long)
			  since_s(ci->start_us, ci->answer_us, 1000000));
	else
		ob_puts(o, "null");
	ob_puts(o, ",");
}

int ctl_cmd_call(const struct ctl_ctx *cx, const struct ctl_req *r,
		 struct outbuf *o, char *err, size_t errlen)
{
	struct call_find *f = calloc(1, sizeof(*f));
	struct media_session_info *in = malloc(sizeof(*in));
	uint64_t now_us = clock_ns(CLOCK_REALTIME) / 1000;
	uint64_t now_ns = clock_ns(CLOCK_MONOTONIC);
	int has_media, rc = -1;

	if (!f || !in) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	f->id = r->argv[1];
	if (cx->src->b2b)
		b2bua_foreach_call(cx->src->b2b, find_call, f);
	has_media = session_info(cx, f->found ? f->ci.media_id : f->id, in) == 0;
	if (!f->found && !has_media) {
		snprintf(err, errlen, "no call with Call-ID '%.200s' (xrelayctl "
			 "calls lists them)", f->id);
		goto out;
	}
	if (r->json) {
		ob_puts(o, "{");
		if (f->found)
			call_json(o, &f->ci, now_us);
		ob_puts(o, "\"media\":");
		if (has_media)
			media_json(o, in, now_ns);
		else
			ob_puts(o, "null");
		ob_puts(o, "}\n");
	} else {
		if (f->found)
			call_text(o, &f->ci, now_us);
		else
			ob_puts(o, "call       no SIP dialogs here (an ng "
				"session)\n");
		if (has_media)
			media_text(o, in, now_ns);
		else
			ob_puts(o, "media      none yet\n");
	}
	rc = 0;
out:
	free(f);
	free(in);
	return rc;
}

/* ---- regs ------------------------------------------------------------------------------------ */

struct regs_walk {
	struct outbuf *o;
	struct tbl t;
	int json;
	size_t n;
	uint64_t now_ms;
};

static int regs_row(const char *aor, const struct reg_contact *c, void *arg)
{
	struct regs_walk *w = arg;
	char a[NETADDR_STRLEN];
	const char *proto = c->source.proto == SIP_TCP ? "tcp" : "udp";
	uint64_t exp = c->expires_ms > w->now_ms ?
		(c->expires_ms - w->now_ms) / 1000 : 0;

	netaddr_str((const struct sockaddr *)&c->source.addr, a, sizeof(a));
	if (w->json) {
		ob_puts(w->o, w->n ? ",\n{\"aor\":" : "\n{\"aor\":");
		ob_json_str(w->o, aor);
		ob_puts(w->o, ",\"contact\":");
		ob_json_str(w->o, c->uri);
		ob_printf(w->o, ",\"source\":\"%s\",\"transport\":\"%s\","
			  "\"expires_s\":%llu,\"call_id\":", a, proto,
			  (unsigned long long)exp);
		ob_json_str(w->o, c->call_id);
		ob_printf(w->o, ",\"cseq\":%u}", c->cseq);
	} else {
		tbl_cell(&w->t, 0, "%s", aor);
		tbl_cell(&w->t, 0, "%s", c->uri);
		tbl_cell(&w->t, 0, "%s:%s", proto, a);
		tbl_cell(&w->t, 0, "%llus", (unsigned long long)exp);
	}
	w->n++;
	return w->o->full;
}

int ctl_cmd_regs(const struct ctl_ctx *cx, const struct ctl_req *r,
		 struct outbuf *o, char *err, size_t errlen)
{
	struct regs_walk w = { .o = o, .json = r->json,
			       .now_ms = clock_ns(CLOCK_MONOTONIC) / 1000000 };

	(void)err;
	(void)errlen;
	tbl_init(&w.t, 4);
	if (w.json) {
		ob_puts(o, "{\"registrations\":[");
	} else {
		tbl_cell(&w.t, 0, "AOR");
		tbl_cell(&w.t, 0, "CONTACT");
		tbl_cell(&w.t, 0, "SOURCE");
		tbl_cell(&w.t, 0, "EXPIRES");
	}
	if (cx->src->reg)
		registrar_foreach(cx->src->reg, w.now_ms, regs_row, &w);
	if (w.json) {
		ob_printf(o, "\n],\"count\":%zu}\n", w.n);
	} else {
		tbl_render(&w.t, o);
		ob_printf(o, "%zu binding%s\n", w.n, w.n == 1 ? "" : "s");
	}
	tbl_free(&w.t);
	return 0;
}

/* ---- end, reload, help ------------------------------------------------------------------------ */

int ctl_cmd_end(const struct ctl_ctx *cx, const struct ctl_req *r,
		struct outbuf *o, char *err, size_t errlen)
{
	const char *id = r->argv[1];

	if (cx->src->b2b && b2bua_end_call(cx->src->b2b, id) == 0) {
		ob_puts(o, r->json ? "{\"ended\":true}\n" :
			"ending the call: BYE (or CANCEL) on both legs\n");
		return 0;
	}
	/* A session of the ng protocol is the proxy's: deleting its media
	 * here would pull it from under the ng layer's call. */
	if (cx->src->me && media_session_get(cx->src->me, id, 0))
		snprintf(err, errlen, "'%.200s' is a media session of the ng "
			 "protocol, not a call of this B2BUA: end it from the "
			 "proxy that drives it (its BYE sends an ng delete)", id);
	else
		snprintf(err, errlen, "no call with Call-ID '%.200s' (xrelayctl "
			 "calls lists them)", id);
	return -1;
}

int ctl_cmd_reload(const struct ctl_ctx *cx, const struct ctl_req *r,
		   struct outbuf *o, char *err, size_t errlen)
{
	if (!cx->reload) {
		snprintf(err, errlen, "reload is not available here");
		return -1;
	}
	if (cx->reload(cx->reload_arg, err, errlen) < 0)
		return -1;
	ob_puts(o, r->json ? "{\"reloaded\":true}\n" :
		"reloaded: routes, users and limits\n");
	return 0;
}

int ctl_cmd_help(const struct ctl_ctx *cx, const struct ctl_req *r,
		 struct outbuf *o, char *err, size_t errlen)
{
	(void)cx;
	(void)err;
	(void)errlen;
	if (r->json)
		ob_puts(o, "{\"commands\":[");
	for (size_t i = 0; i < ctl_ncmds; i++) {
		const struct ctl_cmd *c = &ctl_cmds[i];

		if (!r->json) {
			char use[32];

			snprintf(use, sizeof(use), "%s%s%s", c->name,
				 c->nargs ? " " : "", c->args);
			ob_printf(o, "%-10s %s\n", use, c->help);
			continue;
		}
		ob_puts(o, i ? ",{\"name\":" : "{\"name\":");
		ob_json_str(o, c->name);
		ob_puts(o, ",\"args\":");
		ob_json_str(o, c->args);
		ob_puts(o, ",\"help\":");
		ob_json_str(o, c->help);
		ob_puts(o, "}");
	}
	if (r->json)
		ob_puts(o, "]}\n");
	return 0;
}
