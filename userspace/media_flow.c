// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Packets that reach userspace, the latch they drive, and the kernel flows
 * and port entries that follow from it.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "egress.h"
#include "log.h"
#include "media_internal.h"
#include "netaddr.h"

uint64_t media_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *leg_name(int leg) { return leg ? "B" : "A"; }

/* The relay's own address and port of a component. */
static void comp_local(const struct comp *c, struct sockaddr_storage *ss)
{
	*ss = c->pool->addr;
	netaddr_set_port((struct sockaddr *)ss, (int)c->port);
}

/* Where packets for this component's peer go: latched, else its SDP. */
static const struct sockaddr *comp_dest(const struct comp *c)
{
	if (c->latch.latched)
		return (const struct sockaddr *)&c->latch.peer;
	if (c->sdp.ss_family && netaddr_port((const struct sockaddr *)&c->sdp))
		return (const struct sockaddr *)&c->sdp;
	return NULL;
}

/* Fold the counters of the installed flow into the component, delete it. */
void flow_retire(struct media_engine *me, struct comp *c)
{
	struct xr_flow v;

	if (!c->flow_on)
		return;
	if (fastpath_flow_get(me->fp, &c->flow_key, &v) == 0) {
		c->c.kernel_packets += v.packets;
		c->c.kernel_bytes += v.bytes;
		if (v.last_seen_ns > c->c.last_packet_ns)
			c->c.last_packet_ns = v.last_seen_ns;
	}
	fastpath_flow_del(me->fp, &c->flow_key);
	c->flow_on = 0;
}

/* Try this component's flow again soon (its next hop is being resolved). */
static void retry_later(struct media_engine *me, struct comp *c, uint64_t now)
{
	c->retry_ns = now + 2000000ull; /* ARP/ND answer in well under 2 ms */
	if (c->pending || me->nretry == (int)(sizeof(me->retry) / sizeof(me->retry[0])))
		return;
	c->pending = 1;
	me->retry[me->nretry++] = c;
}

void flow_retry_forget(struct media_engine *me, struct comp *c)
{
	if (!c->pending)
		return;
	for (int i = 0; i < me->nretry; i++)
		if (me->retry[i] == c) {
			me->retry[i] = me->retry[--me->nretry];
			break;
		}
	c->pending = 0;
}

void flow_retry_run(struct media_engine *me, uint64_t now)
{
	for (int i = 0; i < me->nretry;) {
		struct comp *c = me->retry[i];

		if (now < c->retry_ns) {
			i++;
			continue;
		}
		me->retry[i] = me->retry[--me->nretry];
		c->pending = 0;
		flow_sync(me, c);
	}
}

/* The rewrite part of a flow: from the other leg's port to dst, out of the
 * interface toward dst. -EAGAIN while the next hop is unresolved. */
static int flow_value(struct comp *c, const struct sockaddr *dst,
		      struct xr_flow *v)
{
	struct sockaddr_storage src;
	struct egress_l2 e;
	int rc;

	comp_local(comp_other(c), &src);
	memset(v, 0, sizeof(*v));
	if (fastpath_flow_rewrite(v, (struct sockaddr *)&src, dst))
		return -EAFNOSUPPORT;
	rc = egress_resolve(dst, &e);
	if (rc)
		return rc;
	v->ifindex = (__u32)e.ifindex;
	memcpy(v->smac, e.smac, 6);
	memcpy(v->dmac, e.dmac, 6);
	v->flags = c->rtcp ? 0 : XR_FLOW_F_RTP_STATS;
	v->rtp_clock_khz = 8;
	return 0;
}

/*
 * Make the kernel match the component: a flow from its latched peer to the
 * other leg's peer when both ends are known, none otherwise. A flow that
 * only changes its destination keeps its counters. The port's entry
 * follows (latched only while the flow exists).
 */
void flow_sync(struct media_engine *me, struct comp *c)
{
	struct comp *o = comp_other(c);
	const struct sockaddr *dst = o->pool ? comp_dest(o) : NULL;
	struct sockaddr_storage local;
	struct xr_flow_key k;
	struct xr_flow v, old;
	int want, rc;

	if (!me->fp || !c->pool)
		return;
	want = c->latch.latched && dst && !c->st->rejected &&
	       !(c->rtcp && c->st->rtcp_mux) &&
	       dst->sa_family == c->latch.peer.ss_family;
	comp_local(c, &local);
	if (want && fastpath_flow_key(&k, (struct sockaddr *)&local,
				      (struct sockaddr *)&c->latch.peer))
		want = 0;
	if (c->flow_on && (!want || memcmp(&k, &c->flow_key, sizeof(k))))
		flow_retire(me, c);
	if (want) {
		rc = flow_value(c, dst, &v);
		if (rc == -EAGAIN) {
			retry_later(me, c, media_now_ns());
		} else if (rc == 0) {
			if (c->flow_on &&
			    fastpath_flow_get(me->fp, &k, &old) == 0) {
				v.packets = old.packets;
				v.bytes = old.bytes;
				v.last_seen_ns = old.last_seen_ns;
			}
			if (fastpath_flow_put(me->fp, &k, &v) == 0) {
				c->flow_key = k;
				c->flow_on = 1;
			} else {
				log_warn("call %s: cannot install a kernel "
					 "flow (%s): the flow table is full; "
					 "raise max_flows. Userspace forwards "
					 "this stream", c->st->s->id,
					 strerror(errno));
			}
		}
	}
	port_entry_sync(me, c, 1);
}

/* The port's xr_ports entry: present while allocated (sk_lookup steers it),
 * flagged latched/strict while a flow from the latched peer exists. */
void port_entry_sync(struct media_engine *me, struct comp *c, int present)
{
	struct sockaddr_storage local;
	struct xr_port_key k;
	struct xr_port v = { 0 };

	if (!me->fp || !c->pool)
		return;
	comp_local(c, &local);
	if (fastpath_port_key(&k, (struct sockaddr *)&local))
		return;
	if (!present) {
		fastpath_port_del(me->fp, &k);
		return;
	}
	fastpath_port_get(me->fp, &k, &v); /* keep its counters */
	v.flags = 0;
	if (c->latch.latched && c->flow_on)
		v.flags = XR_PORT_F_LATCHED | (me->cfg.strict ? XR_PORT_F_STRICT : 0);
	fastpath_port_put(me->fp, &k, &v);
}

void comp_kernel_counters(struct media_engine *me, struct comp *c,
			  struct media_counters *out)
{
	struct sockaddr_storage local;
	struct xr_port_key pk;
	struct xr_port pv;
	struct xr_flow v;

	*out = c->c;
	if (!me->fp || !c->pool)
		return;
	if (c->flow_on && fastpath_flow_get(me->fp, &c->flow_key, &v) == 0) {
		out->kernel_packets += v.packets;
		out->kernel_bytes += v.bytes;
		if (v.last_seen_ns > out->last_packet_ns)
			out->last_packet_ns = v.last_seen_ns;
	}
	comp_local(c, &local);
	if (fastpath_port_key(&pk, (struct sockaddr *)&local) == 0 &&
	    fastpath_port_get(me->fp, &pk, &pv) == 0)
		out->drop_foreign += pv.foreign_packets;
}

static struct comp *find_comp(struct media_engine *me,
			      const struct sockaddr *local)
{
	int port = netaddr_port(local);

	for (int i = 0; i < me->npools; i++)
		if (netaddr_ip_equal(local, (struct sockaddr *)&me->pools[i].addr))
			return me->pools[i].by_port[port];
	return NULL;
}

static void on_latch(struct media_engine *me, struct comp *c,
		     enum latch_verdict v, const struct sockaddr *src)
{
	char a[NETADDR_STRLEN];

	if (v == LATCH_RELATCH)
		me->relatches++;
	else
		me->latches++;
	log_info("call %s: leg %s %s %s %s to %s", c->st->s->id,
		 leg_name(c->leg), c->st->type, c->rtcp ? "RTCP" : "RTP",
		 v == LATCH_RELATCH ? "re-latched" : "latched",
		 netaddr_str(src, a, sizeof(a)));
	flow_sync(me, c);
	flow_sync(me, comp_other(c)); /* its destination is now the latch */
}

static void refused(struct media_engine *me, struct comp *c,
		    const struct sockaddr *src, uint64_t now)
{
	char a[NETADDR_STRLEN];

	c->c.drop_policy++;
	me->latch_refused++;
	if (now - me->last_refused_log_ns < 1000000000ull)
		return; /* at most one line a second */
	me->last_refused_log_ns = now;
	log_warn("call %s: leg %s %s: not latching %s: it is neither the SDP "
		 "address nor the signalling address of the peer (policy %s)",
		 c->st->s->id, leg_name(c->leg), c->rtcp ? "RTCP" : "RTP",
		 netaddr_str(src, a, sizeof(a)),
		 me->cfg.latch == LATCH_ANY ? "any" : "sdp-or-signalling");
}

void media_on_packet(void *arg, void *owner, const struct sockaddr *local,
		     const struct sockaddr *src, const void *buf, size_t len)
{
	struct media_engine *me = arg;
	struct comp *c = owner ? owner : find_comp(me, local), *o;
	uint64_t now = media_now_ns();
	struct sockaddr_storage from;
	const struct sockaddr *dst;
	struct latch_ctx ctx;
	enum latch_verdict v;

	if (!c) {
		me->no_port_drops++; /* a port no call owns (quarantine) */
		return;
	}
	if (c->rtcp && c->st->rtcp_mux)
		return; /* no RTCP port with rtcp-mux: stray */
	ctx.sdp = (const struct sockaddr *)&c->sdp;
	ctx.hint = (const struct sockaddr *)&c->st->s->hint[c->leg];
	ctx.policy = me->cfg.latch;
	ctx.relatch_idle_ns = (uint64_t)me->cfg.relatch_idle_ms * 1000000ull;
	v = latch_check(&c->latch, src, &ctx, now);
	if (v == LATCH_REFUSED) {
		refused(me, c, src, now);
		return;
	}
	if (v == LATCH_FOREIGN) {
		/* While the port's entry is latched, the BPF program has
		 * counted this packet in the port's foreign_packets (it is a
		 * sample, or the port is not strict): counting it here too
		 * would count it twice in drop_foreign. */
		if (!c->flow_on || me->got[c->pool->iface] == ATTACH_OFF)
			c->c.drop_foreign++;
		return;
	}
	latch_apply(&c->latch, v, src, now);
	if (v != LATCH_FORWARD)
		on_latch(me, c, v, src);
	c->c.last_packet_ns = now;
	o = comp_other(c);
	dst = o->pool ? comp_dest(o) : NULL;
	if (!dst || dst->sa_family != src->sa_family) {
		c->c.drop_no_dest++;
		return;
	}
	comp_local(o, &from);
	if (relay_io_send(me->io, o->fd, (struct sockaddr *)&from, dst, buf,
			  len) == 0) {
		/* IP bytes, as the kernel counts them */
		size_t ipb = len + (src->sa_family == AF_INET6 ? 48 : 28);

		c->c.user_packets++;
		c->c.user_bytes += ipb;
		me->user_packets++;
		me->user_bytes += ipb;
	}
}
