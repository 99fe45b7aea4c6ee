// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Packets that reach userspace, the latch they drive, and the kernel flows
 * and port entries that follow from it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

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

/* Add the counters of c's installed kernel flow (if any) to *m. */
static void add_flow_counters(struct media_engine *me, const struct comp *c,
			      struct media_counters *m)
{
	struct xr_flow v;

	if (!c->flow_on || fastpath_flow_get(me->fp, &c->flow_key, &v))
		return;
	m->kernel_packets += v.packets;
	m->kernel_bytes += v.bytes;
	if (v.last_seen_ns > m->last_packet_ns)
		m->last_packet_ns = v.last_seen_ns;
}

/* Fold the counters of the installed flow into the component, delete it. */
void flow_retire(struct media_engine *me, struct comp *c)
{
	if (!c->flow_on)
		return;
	add_flow_counters(me, c, &c->c);
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
static int flow_value(const struct media_engine *me, struct comp *c,
		      const struct sockaddr *dst, struct xr_flow *v)
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
	v->flags = (c->rtcp || !me->cfg.rtp_stats ? 0 : XR_FLOW_F_RTP_STATS) |
		   (c->leg == MEDIA_LEG_B ? XR_FLOW_F_FROM_B : 0);
	v->rtp_clock_khz = 8;
	return 0;
}

/* Whether the component should have a kernel flow, its key and where it
 * sends to. */
static int flow_want(struct comp *c, struct xr_flow_key *k,
		     const struct sockaddr **dstp)
{
	struct comp *o = comp_other(c);
	const struct sockaddr *dst = o->pool ? comp_dest(o) : NULL;
	struct sockaddr_storage local;

	*dstp = dst;
	if (!c->latch.latched || !dst || c->st->rejected ||
	    (c->rtcp && c->st->rtcp_mux) ||
	    dst->sa_family != c->latch.peer.ss_family)
		return 0;
	comp_local(c, &local);
	return fastpath_flow_key(k, (struct sockaddr *)&local,
				 (struct sockaddr *)&c->latch.peer) == 0;
}

/*
 * Make the kernel match the component: a flow from its latched peer to the
 * other leg's peer when both ends are known, none otherwise. A flow that
 * only changes its destination keeps its counters. The port's entry
 * follows (latched only while the flow exists).
 */
void flow_sync(struct media_engine *me, struct comp *c)
{
	const struct sockaddr *dst;
	struct xr_flow_key k;
	struct xr_flow v, old;
	int want, rc;

	if (!me->fp || !c->pool)
		return;
	want = flow_want(c, &k, &dst);
	if (c->flow_on && (!want || memcmp(&k, &c->flow_key, sizeof(k))))
		flow_retire(me, c);
	if (want) {
		rc = flow_value(me, c, dst, &v);
		if (rc == -EAGAIN) {
			retry_later(me, c, media_now_ns());
		} else if (rc == 0) {
			if (c->flow_on &&
			    fastpath_flow_get(me->fp, &k, &old) == 0) {
				/* The same rewrite (the other leg latched
				 * where its SDP said): left alone, so that
				 * nothing the program counts meanwhile is
				 * lost and its RTP statistics go on. */
				if (memcmp(&v, &old, offsetof(struct xr_flow,
							      packets)) == 0)
					goto port;
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
port:
	port_entry_sync(me, c, 1);
}

/*
 * A component rebuilt from the journal: its flow is most likely still in
 * the pinned map, forwarding. Keep it as it is - a rewrite of the same
 * value would race with the program's counter updates and reset the RTP
 * statistics - unless the egress changed meanwhile (a new next hop or
 * MAC): then rewrite it, keeping every counter. An unresolved egress
 * leaves the old entry alone: it was forwarding a moment ago.
 */
void flow_adopt(struct media_engine *me, struct comp *c)
{
	const size_t cnt = offsetof(struct xr_flow, packets);
	const struct sockaddr *dst;
	struct xr_flow_key k;
	struct xr_flow v, old;

	if (!me->fp || !c->pool)
		return;
	if (!flow_want(c, &k, &dst) || fastpath_flow_get(me->fp, &k, &old)) {
		flow_sync(me, c); /* install it anew, or none */
		return;
	}
	c->flow_key = k;
	c->flow_on = 1;
	if (flow_value(me, c, dst, &v) == 0) {
		memcpy((char *)&v + cnt, (char *)&old + cnt, sizeof(v) - cnt);
		if (memcmp(&v, &old, sizeof(v)) != 0) {
			log_info("call %s: leg %s %s: the egress changed while "
				 "no engine ran: flow updated", c->st->s->id,
				 leg_name(c->leg), c->rtcp ? "RTCP" : "RTP");
			fastpath_flow_put(me->fp, &k, &v);
		}
	}
	port_entry_sync(me, c, 1);
}

/* The last packet from this component's peer, kernel or userspace. */
uint64_t comp_last_ns(struct media_engine *me, struct comp *c)
{
	struct media_counters m = c->c;

	add_flow_counters(me, c, &m); /* bpf_ktime_get_coarse_ns: MONOTONIC */
	return m.last_packet_ns;
}

/* ---- entries of no known session ------------------------------------------ */

static struct comp *find_comp(struct media_engine *me,
			      const struct sockaddr *local);

static int flow_known(struct media_engine *me, const void *key)
{
	const struct xr_flow_key *k = key;
	struct sockaddr_storage local;
	struct comp *c;

	fastpath_sockaddr(&local, k->local_addr, k->local_port, k->family);
	c = find_comp(me, (struct sockaddr *)&local);
	return c && c->flow_on && memcmp(&c->flow_key, k, sizeof(*k)) == 0;
}

static int port_known(struct media_engine *me, const void *key)
{
	const struct xr_port_key *k = key;
	struct sockaddr_storage local;

	fastpath_sockaddr(&local, k->addr, k->port, k->family);
	return find_comp(me, (struct sockaddr *)&local) != NULL;
}

/* A list of map keys (the GC's candidates). Returns -1 out of memory. */
static int keys_add(struct gc_keys *l, const void *key, size_t ksz)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 256;
		uint8_t *t = realloc(l->keys, nc * ksz);

		if (!t)
			return -1;
		l->keys = t;
		l->cap = nc;
	}
	memcpy(l->keys + l->n++ * ksz, key, ksz);
	return 0;
}

_Static_assert(sizeof(struct xr_flow_key) <= 64 &&
	       sizeof(struct xr_port_key) <= 64, "key buffers");

/* The two tables the GC looks at, through one pair of calls each: flows
 * through fastpath (xr_flows and, for IPv4, xr_fast4), ports by their map. */
struct gc_table {
	size_t ksz;
	int (*next)(struct fastpath *fp, const void *prev, void *next);
	int (*del)(struct fastpath *fp, const void *key);
	int (*known)(struct media_engine *me, const void *key);
};

static int flow_next_(struct fastpath *fp, const void *prev, void *next)
{
	return fastpath_flow_next(fp, prev, next);
}

static int flow_del_(struct fastpath *fp, const void *key)
{
	return fastpath_flow_del(fp, key);
}

static int port_next_(struct fastpath *fp, const void *prev, void *next)
{
	return bpf_map_get_next_key(fastpath_ports_fd(fp), prev, next) ?
		       -errno : 0;
}

static int port_del_(struct fastpath *fp, const void *key)
{
	return fastpath_port_del(fp, key);
}

static const struct gc_table gc_flows = {
	sizeof(struct xr_flow_key), flow_next_, flow_del_, flow_known };
static const struct gc_table gc_ports = {
	sizeof(struct xr_port_key), port_next_, port_del_, port_known };

/* Every key of t that t->known() does not claim, into l. */
static void keys_unknown(struct media_engine *me, const struct gc_table *t,
			 struct gc_keys *l)
{
	uint64_t prev[8], cur[8]; /* any key fits, aligned for known() */
	size_t ksz = t->ksz;
	int first = 1;

	while (t->next(me->fp, first ? NULL : prev, cur) == 0) {
		first = 0;
		memcpy(prev, cur, ksz);
		if (!t->known(me, cur) && keys_add(l, cur, ksz) < 0)
			break; /* out of memory: these for now */
	}
}

/* Delete the keys of l that t->known() still does not claim; empties l. */
static uint64_t keys_sweep(struct media_engine *me, const struct gc_table *t,
			   struct gc_keys *l)
{
	uint64_t removed = 0, key[8];

	for (size_t i = 0; i < l->n; i++) {
		memcpy(key, l->keys + i * t->ksz, t->ksz);
		if (!t->known(me, key))
			removed += t->del(me->fp, key) == 0;
	}
	free(l->keys);
	*l = (struct gc_keys){ 0 };
	return removed;
}

/* The port pair of an unknown xr_ports entry, out of the pool until the GC. */
static void port_hold(struct media_engine *me, const struct xr_port_key *k)
{
	struct sockaddr_storage local;
	struct addrpool *p;
	unsigned port;

	fastpath_sockaddr(&local, k->addr, k->port, k->family);
	p = pool_by_addr(me, (struct sockaddr *)&local);
	port = (unsigned)netaddr_port((struct sockaddr *)&local) & ~1u;
	if (!p || p->by_port[port] || p->by_port[port + 1])
		return;
	if (me->nheld % 256 == 0) {
		struct held_port *t = realloc(me->held, (me->nheld + 256) *
					      sizeof(*t));

		if (!t)
			return;
		me->held = t;
	}
	if (portpool_take(p->pp, port) == 0)
		me->held[me->nheld++] = (struct held_port){ p, port };
}

/*
 * At start, after adoption: the kernel entries no adopted call owns are
 * the GC's candidates, listed now, while the maps hold only what the last
 * engine left. Their ports are taken out of the pool until the GC removes
 * them, and then quarantined like any freed pair: an ended call's peer
 * may still be sending there, and a new call must not get (or latch, with
 * LATCH_ANY) its packets. Entries made after this are this engine's own,
 * so the GC never walks the maps again: at 100,000 calls a walk held the
 * loop for half a second, and first packets overflowed the socket.
 * Returns whether there is anything for the GC.
 */
int gc_collect_unknown(struct media_engine *me)
{
	if (!me->fp)
		return 0;
	keys_unknown(me, &gc_flows, &me->gc_flow_keys);
	keys_unknown(me, &gc_ports, &me->gc_port_keys);
	for (size_t i = 0; i < me->gc_port_keys.n; i++)
		port_hold(me, (const struct xr_port_key *)me->gc_port_keys.keys + i);
	if (me->nheld)
		log_info("media: %zu port pairs with kernel entries of no known "
			 "call: held until the adopt grace time is over",
			 me->nheld);
	return me->gc_flow_keys.n || me->gc_port_keys.n || me->nheld;
}

/* After the grace time: the kernel entries listed at start that no call
 * has claimed since (they ended while no engine ran, or their journal was
 * lost). */
void flow_gc_unknown(struct media_engine *me)
{
	uint64_t f = 0, p = 0, now = media_now_ns();

	for (size_t i = 0; i < me->nheld; i++) /* into quarantine now */
		portpool_release(me->held[i].pool->pp, me->held[i].port, now);
	free(me->held);
	me->held = NULL;
	me->nheld = 0;
	if (me->fp) {
		f = keys_sweep(me, &gc_flows, &me->gc_flow_keys);
		p = keys_sweep(me, &gc_ports, &me->gc_port_keys);
	}
	me->gc_flows += f;
	me->gc_ports += p;
	log_info("media: removed %llu kernel flows and %llu port entries of "
		 "no known call (adopt grace %u ms over)",
		 (unsigned long long)f, (unsigned long long)p,
		 me->cfg.adopt_grace_ms);
}

/* The port's xr_ports entry: present while allocated (sk_lookup steers it),
 * flagged latched/strict while a flow from the latched peer exists. */
void port_entry_sync(struct media_engine *me, struct comp *c, int present)
{
	struct sockaddr_storage local;
	struct xr_port_key k;
	struct xr_port v = { 0 };
	__u32 flags = 0;

	if (!me->fp || !c->pool)
		return;
	comp_local(c, &local);
	if (fastpath_port_key(&k, (struct sockaddr *)&local))
		return;
	if (!present) {
		fastpath_port_del(me->fp, &k);
		return;
	}
	if (c->latch.latched && c->flow_on)
		flags = XR_PORT_F_LATCHED | (me->cfg.strict ? XR_PORT_F_STRICT : 0);
	/* Unchanged (as for an adopted port): not rewritten, so that no
	 * foreign packet the program counts meanwhile is lost. Else the
	 * counters are kept. */
	if (fastpath_port_get(me->fp, &k, &v) == 0 && v.flags == flags)
		return;
	v.flags = flags;
	fastpath_port_put(me->fp, &k, &v);
}

void comp_kernel_counters(struct media_engine *me, struct comp *c,
			  struct media_counters *out)
{
	struct sockaddr_storage local;
	struct xr_port_key pk;
	struct xr_port pv;

	*out = c->c;
	if (!me->fp || !c->pool)
		return;
	add_flow_counters(me, c, out);
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

	if (!c)
		return; /* a port no call owns (quarantine) */
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
	if (v != LATCH_FORWARD) {
		on_latch(me, c, v, src);
		journal_mark(me, c->st->s);
	}
	c->c.last_packet_ns = now;
	o = comp_other(c);
	dst = o->pool ? comp_dest(o) : NULL;
	if (!dst || dst->sa_family != src->sa_family) {
		c->c.drop_no_dest++;
		return;
	}
	comp_local(o, &from);
	/* Counted when it is really sent (media_on_sent). */
	relay_io_send(me->io, o->fd, (struct sockaddr *)&from, dst, buf, len, c);
}

/* A packet from c's peer that userspace forwarded: the socket took it. */
void media_on_sent(void *arg, void *tag, int family, size_t len)
{
	struct media_engine *me = arg;
	struct comp *c = tag;
	/* IP bytes, as the kernel counts them */
	size_t ipb = len + (family == AF_INET6 ? 48 : 28);

	c->c.user_packets++;
	c->c.user_bytes += ipb;
	me->user_dir[c->leg].packets++;
	me->user_dir[c->leg].bytes += ipb;
}
