// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The ng commands that report: ping, query, list, statistics, and the call
 * information a delete's reply also carries. Field names are rtpengine's,
 * so that what proxies read works unchanged (Kamailio's $rtpstat reads
 * totals.RTP.packets and friends); xrelay adds where each packet was
 * forwarded: "kernel packets" and "userspace packets" beside "packets".
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "ng_internal.h"

#define LIST_DEFAULT 32

int ng_cmd_ping(struct ng_req *r)
{
	r->result = "pong";
	return 0;
}

/* ---- one call ----------------------------------------------------------------------- */

struct sums {
	uint64_t packets, bytes, errors, kpackets, kbytes, upackets, ubytes;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A CLOCK_MONOTONIC time as Unix seconds (0 stays 0: never). */
static int64_t wall_of(uint64_t ns)
{
	uint64_t now = mono_ns();

	if (!ns)
		return 0;
	return (int64_t)time(NULL) - (int64_t)((now > ns ? now - ns : 0) /
					       1000000000ull);
}

static void put_endpoint(struct ng_req *r, struct bnode *d, const char *key,
			 const struct sockaddr_storage *ss)
{
	char a[NETADDR_STRLEN];
	struct bnode *e;

	if (!ss->ss_family)
		return;
	e = bn_dict_put_dict(r->a, d, key);
	bn_dict_put_str(r->a, e, "family",
			ss->ss_family == AF_INET6 ? "IPv6" : "IPv4");
	bn_dict_put_str(r->a, e, "address",
			netaddr_ip_str((const struct sockaddr *)ss, a, sizeof(a)));
	bn_dict_put_int(r->a, e, "port",
			netaddr_port((const struct sockaddr *)ss));
}

static void put_counts(struct ng_req *r, struct bnode *d, const struct sums *s)
{
	bn_dict_put_int(r->a, d, "packets", (int64_t)s->packets);
	bn_dict_put_int(r->a, d, "bytes", (int64_t)s->bytes);
	bn_dict_put_int(r->a, d, "errors", (int64_t)s->errors);
	bn_dict_put_int(r->a, d, "kernel packets", (int64_t)s->kpackets);
	bn_dict_put_int(r->a, d, "kernel bytes", (int64_t)s->kbytes);
	bn_dict_put_int(r->a, d, "userspace packets", (int64_t)s->upackets);
	bn_dict_put_int(r->a, d, "userspace bytes", (int64_t)s->ubytes);
}

static void sums_of(const struct media_counters *in, struct sums *s)
{
	s->kpackets = in->kernel_packets;
	s->kbytes = in->kernel_bytes;
	s->upackets = in->user_packets;
	s->ubytes = in->user_bytes;
	s->packets = s->kpackets + s->upackets;
	s->bytes = s->kbytes + s->ubytes;
	s->errors = in->drop_foreign + in->drop_no_dest + in->drop_policy;
}

static void sums_add(struct sums *t, const struct sums *s)
{
	t->packets += s->packets;
	t->bytes += s->bytes;
	t->errors += s->errors;
	t->kpackets += s->kpackets;
	t->kbytes += s->kbytes;
	t->upackets += s->upackets;
	t->ubytes += s->ubytes;
}

/* One component (RTP or RTCP) of a stream; its counters into *total. */
static void put_stream(struct ng_req *r, struct bnode *list,
		       const struct media_component_info *ci, int rtcp,
		       enum attach_mode mode, struct sums *total)
{
	struct bnode *st = bn_list_add(list, bn_dict(r->a)), *fl;
	struct sums s;

	bn_dict_put_int(r->a, st, "local port", ci->local_port);
	put_endpoint(r, st, "endpoint", ci->latched.ss_family ? &ci->latched :
		     &ci->sdp_peer);
	put_endpoint(r, st, "advertised endpoint", &ci->sdp_peer);
	bn_dict_put_int(r->a, st, "last packet", wall_of(ci->in.last_packet_ns));
	bn_dict_put_int(r->a, st, "relatches", ci->relatches);
	fl = bn_dict_put_list(r->a, st, "flags");
	bn_list_add_str(r->a, fl, rtcp ? "RTCP" : "RTP");
	if (ci->latched.ss_family)
		bn_list_add_str(r->a, fl, "confirmed");
	if (ci->latched.ss_family && mode != ATTACH_OFF)
		bn_list_add_str(r->a, fl, "kernelized");
	sums_of(&ci->in, &s);
	put_counts(r, bn_dict_put_dict(r->a, st, "stats"), &s);
	sums_add(total, &s);
}

static void put_leg(struct ng_req *r, struct bnode *tags,
		    const struct ng_call *c, const struct media_leg_info *li,
		    int leg, struct sums tot[2])
{
	const char *tag = c && c->tag[leg][0] ? c->tag[leg] : "";
	const char *other = c && c->tag[!leg][0] ? c->tag[!leg] : "";
	struct bnode *t, *medias;

	/* a leg whose tag is not known yet (before the answer) still has
	 * its relay ports: shown under "leg A" or "leg B" */
	t = bn_dict_put_dict(r->a, tags, tag[0] ? tag : leg ? "leg B" : "leg A");
	bn_dict_put_str(r->a, t, "tag", tag);
	bn_dict_put_str(r->a, t, "leg", leg ? "B" : "A");
	if (c && c->label[leg][0])
		bn_dict_put_str(r->a, t, "label", c->label[leg]);
	bn_dict_put_str(r->a, t, "in dialogue with", other);
	bn_dict_put_str(r->a, t, "forwarding", attach_mode_name(li->mode));
	put_endpoint(r, t, "received from", &li->hint);
	medias = bn_dict_put_list(r->a, t, "medias");
	for (int i = 0; i < li->nstreams; i++) {
		const struct media_stream_info *si = &li->st[i];
		struct bnode *m = bn_list_add(medias, bn_dict(r->a)), *sl;

		bn_dict_put_int(r->a, m, "index", i + 1);
		bn_dict_put_str(r->a, m, "type", si->type);
		bn_dict_put_str(r->a, m, "direction", sdp_dir_name(si->dir));
		bn_dict_put_int(r->a, m, "rtcp-mux", si->rtcp_mux);
		bn_dict_put_int(r->a, m, "rejected", si->rejected);
		if (si->rejected)
			continue;
		sl = bn_dict_put_list(r->a, m, "streams");
		put_stream(r, sl, &si->rtp, 0, li->mode, &tot[0]);
		put_stream(r, sl, &si->rtcp, 1, li->mode, &tot[1]);
	}
}

void ng_put_call_info(struct ng_req *r, const struct ng_call *c,
		      struct media_session *s)
{
	struct media_session_info *in = malloc(sizeof(*in));
	struct sums tot[2] = { { 0 }, { 0 } };
	struct bnode *tags, *totals;
	int64_t created;

	if (!in || media_session_info(r->ng->me, s, in) < 0) {
		free(in);
		ng_warn(r, "no call information: out of memory");
		return;
	}
	created = c && !c->adopted ? (int64_t)c->created : wall_of(in->created_ns);
	bn_dict_put_int(r->a, r->out, "created", created);
	bn_dict_put_int(r->a, r->out, "last signal",
			c ? (int64_t)c->last_signal : created);
	bn_dict_put_str(r->a, r->out, "state", in->state == MEDIA_ANSWERED ?
			"answered" : in->state == MEDIA_OFFERED ? "offered" :
			"new");
	tags = bn_dict_put_dict(r->a, r->out, "tags");
	for (int leg = 0; leg < 2; leg++)
		put_leg(r, tags, c, &in->leg[leg], leg, tot);
	totals = bn_dict_put_dict(r->a, r->out, "totals");
	put_counts(r, bn_dict_put_dict(r->a, totals, "RTP"), &tot[0]);
	put_counts(r, bn_dict_put_dict(r->a, totals, "RTCP"), &tot[1]);
	free(in);
}

int ng_cmd_query(struct ng_req *r)
{
	struct media_session *s;

	if (!r->o.call_id)
		return ng_fail(r, "query needs 'call-id'");
	s = media_session_get(r->ng->me, r->o.call_id, 0);
	if (!s)
		return ng_fail(r, "Unknown call-id");
	ng_put_call_info(r, ng_call_find(r->ng, r->o.call_id), s);
	return 0;
}

/* ---- every call ----------------------------------------------------------------------- */

struct list_ctx {
	struct ng_req *r;
	struct bnode *calls;
	int64_t left;
};

static int list_one(struct media_session *s, void *arg)
{
	struct list_ctx *x = arg;

	if (x->left-- <= 0)
		return 1;
	bn_list_add_str(x->r->a, x->calls, media_session_id(s));
	return 0;
}

/* The engine's sessions: the B2BUA's too (their ids start with "xr"),
 * since they share the ports and the limit. */
int ng_cmd_list(struct ng_req *r)
{
	struct list_ctx x = { .r = r,
			      .left = r->o.limit >= 0 ? r->o.limit : LIST_DEFAULT };

	x.calls = bn_dict_put_list(r->a, r->out, "calls");
	media_session_foreach(r->ng->me, list_one, &x);
	return 0;
}

static void put_engine(struct ng_req *r, struct bnode *st,
		       const struct media_totals *t)
{
	struct bnode *cur, *tot, *ifs;

	cur = bn_dict_put_dict(r->a, st, "currentstatistics");
	bn_dict_put_int(r->a, cur, "sessionsown", (int64_t)t->sessions);
	bn_dict_put_int(r->a, cur, "sessionsforeign", 0);
	bn_dict_put_int(r->a, cur, "sessionstotal", (int64_t)t->sessions);
	bn_dict_put_int(r->a, cur, "ngcalls", (int64_t)r->ng->ncalls);
	bn_dict_put_int(r->a, cur, "portsused", t->ports_used);
	bn_dict_put_int(r->a, cur, "portstotal", t->ports_total);
	tot = bn_dict_put_dict(r->a, st, "totalstatistics");
	bn_dict_put_int(r->a, tot, "uptime", time(NULL) - r->ng->started);
	bn_dict_put_int(r->a, tot, "managedsessions",
			(int64_t)r->ng->st.calls_created);
	bn_dict_put_int(r->a, tot, "rejectedsessions",
			(int64_t)r->ng->st.load_limited);
	bn_dict_put_int(r->a, tot, "timeoutsessions",
			(int64_t)r->ng->st.calls_timed_out);
	bn_dict_put_int(r->a, tot, "regularterminatedsessions",
			(int64_t)r->ng->st.calls_deleted);
	bn_dict_put_int(r->a, tot, "relayedpackets",
			(int64_t)(t->kernel_packets + t->user_packets));
	bn_dict_put_int(r->a, tot, "relayedbytes",
			(int64_t)(t->kernel_bytes + t->user_bytes));
	bn_dict_put_int(r->a, tot, "kernelpackets", (int64_t)t->kernel_packets);
	bn_dict_put_int(r->a, tot, "userspacepackets", (int64_t)t->user_packets);
	bn_dict_put_int(r->a, tot, "latches", (int64_t)t->latches);
	bn_dict_put_int(r->a, tot, "latchesrefused", (int64_t)t->latch_refused);
	ifs = bn_dict_put_list(r->a, st, "interfaces");
	for (int i = 0; i < t->nifaces; i++) {
		struct bnode *d = bn_list_add(ifs, bn_dict(r->a));

		bn_dict_put_str(r->a, d, "name", t->iface[i].name);
		bn_dict_put_str(r->a, d, "wanted", attach_mode_name(t->iface[i].want));
		bn_dict_put_str(r->a, d, "forwarding", attach_mode_name(t->iface[i].got));
	}
}

static void put_control(struct ng_req *r, struct bnode *st)
{
	const struct ng_stats *n = &r->ng->st;
	struct bnode *ctl = bn_dict_put_dict(r->a, st, "control");
	const char *name;

	for (unsigned i = 0; (name = ng_command_name(i)); i++)
		bn_dict_put_int(r->a, ctl, name, (int64_t)n->by_command[i]);
	bn_dict_put_int(r->a, ctl, "requests", (int64_t)n->requests);
	bn_dict_put_int(r->a, ctl, "errors", (int64_t)n->errors);
	bn_dict_put_int(r->a, ctl, "retransmissions", (int64_t)n->retransmits);
	bn_dict_put_int(r->a, ctl, "load limited", (int64_t)n->load_limited);
}

int ng_cmd_statistics(struct ng_req *r)
{
	struct media_totals *t = malloc(sizeof(*t));
	struct bnode *st;

	if (!t)
		return ng_fail(r, "out of memory");
	media_engine_totals(r->ng->me, t);
	st = bn_dict_put_dict(r->a, r->out, "statistics");
	put_engine(r, st, t);
	put_control(r, st);
	free(t);
	return 0;
}
