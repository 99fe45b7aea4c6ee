// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The media engine: local addresses and their port pools, sessions, and the
 * offer/answer that opens, changes and rewrites their streams.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "media_internal.h"
#include "netaddr.h"

void media_cfg_defaults(struct media_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port_min = 30000;
	cfg->port_max = 39999;
	cfg->quarantine_ms = 5000;
	cfg->idle_ms = 60000;
	cfg->adopt_grace_ms = 30000;
	cfg->latch = LATCH_HINT;
	cfg->strict = 1;
	cfg->rtp_stats = 1;
}

/* ---- local addresses ------------------------------------------------------ */

static int add_pool(struct media_engine *me, const struct sockaddr *sa,
		    int iface, char *err, size_t errlen)
{
	struct addrpool *p;
	char a[NETADDR_STRLEN];
	uint64_t q = (uint64_t)me->cfg.quarantine_ms * 1000000ull;

	if (me->npools == (int)(sizeof(me->pools) / sizeof(me->pools[0])))
		return 0; /* enough addresses */
	p = &me->pools[me->npools];
	memset(p, 0, sizeof(*p));
	memcpy(&p->addr, sa, netaddr_len(sa));
	netaddr_set_port((struct sockaddr *)&p->addr, 0);
	p->iface = iface;
	p->advertise = p->addr;
	if (me->cfg.ifaces[iface].has_advertise &&
	    me->cfg.ifaces[iface].advertise.ss_family == sa->sa_family)
		p->advertise = me->cfg.ifaces[iface].advertise;
	p->pp = portpool_new(me->cfg.port_min, me->cfg.port_max, q);
	p->by_port = calloc(65536, sizeof(*p->by_port));
	if (!p->pp || !p->by_port) {
		portpool_free(p->pp);
		free(p->by_port);
		snprintf(err, errlen, "port range %u-%u is not valid (or out "
			 "of memory)", me->cfg.port_min, me->cfg.port_max);
		return -EINVAL;
	}
	me->npools++;
	log_info("media: relay address %s on %s, ports %u-%u",
		 netaddr_ip_str(sa, a, sizeof(a)), me->cfg.ifaces[iface].name,
		 me->cfg.port_min, me->cfg.port_max);
	return 0;
}

/* Every global address of the configured interfaces gets a port pool. */
static int find_addresses(struct media_engine *me, char *err, size_t errlen)
{
	struct ifaddrs *ifa, *i;
	int rc = 0;

	if (getifaddrs(&ifa) < 0) {
		snprintf(err, errlen, "getifaddrs: %s", strerror(errno));
		return -errno;
	}
	for (int n = 0; n < me->cfg.nifaces && !rc; n++) {
		for (i = ifa; i && !rc; i = i->ifa_next) {
			const struct sockaddr_in6 *s6 = (void *)i->ifa_addr;

			if (!i->ifa_addr || strcmp(i->ifa_name, me->cfg.ifaces[n].name))
				continue;
			if (i->ifa_addr->sa_family == AF_INET6 &&
			    IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
				continue;
			if (i->ifa_addr->sa_family == AF_INET ||
			    i->ifa_addr->sa_family == AF_INET6)
				rc = add_pool(me, i->ifa_addr, n, err, errlen);
		}
	}
	freeifaddrs(ifa);
	if (!rc && me->npools == 0) {
		snprintf(err, errlen, "no IPv4 or IPv6 address on the media "
			 "interfaces: give them an address or name other "
			 "interfaces (the iface key)");
		rc = -EADDRNOTAVAIL;
	}
	return rc;
}

/* The relay address the kernel would use toward peer (or the first one).
 * With a single address of the peer's family, that one: the kernel is not
 * asked (a socket per leg, in every call's set-up). */
static struct addrpool *pool_toward(struct media_engine *me,
				    const struct sockaddr *peer)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	struct addrpool *only = NULL;
	int fd, same = 0;

	for (int i = 0; peer && i < me->npools; i++)
		if (me->pools[i].addr.ss_family == peer->sa_family) {
			only = &me->pools[i];
			same++;
		}
	if (same == 1)
		return only;
	if (peer && peer->sa_family) {
		struct sockaddr_storage p;

		memcpy(&p, peer, netaddr_len(peer));
		if (!netaddr_port((struct sockaddr *)&p))
			netaddr_set_port((struct sockaddr *)&p, 9);
		fd = socket(peer->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&p,
				       netaddr_len(peer)) == 0 &&
		    getsockname(fd, (struct sockaddr *)&local, &len) == 0) {
			close(fd);
			for (int i = 0; i < me->npools; i++)
				if (netaddr_ip_equal((struct sockaddr *)&local,
						     (struct sockaddr *)&me->pools[i].addr))
					return &me->pools[i];
		} else if (fd >= 0) {
			close(fd);
		}
		for (int i = 0; i < me->npools; i++) /* same family */
			if (me->pools[i].addr.ss_family == peer->sa_family)
				return &me->pools[i];
	}
	return &me->pools[0];
}

struct addrpool *pool_by_addr(struct media_engine *me,
			      const struct sockaddr *ip)
{
	for (int i = 0; i < me->npools; i++)
		if (netaddr_ip_equal(ip, (struct sockaddr *)&me->pools[i].addr))
			return &me->pools[i];
	return NULL;
}

/* ---- attach ------------------------------------------------------------------ */

/* The IPv4 pools' place in xr_fast4: one entry per port, pool after pool
 * (the first FASTPATH_MAX_ADDR4 IPv4 addresses, at most 65,535 ports each:
 * further addresses and the rest of a wider range go through xr_flows).
 * Returns the entries needed. */
static __u32 fast4_plan(const struct media_engine *me,
			struct fastpath_addr4 *a, int *n)
{
	unsigned span = me->cfg.port_max - me->cfg.port_min + 1;
	__u32 base = 0;

	if (span > 65535)
		span = 65535;
	*n = 0;
	for (int i = 0; i < me->npools && *n < FASTPATH_MAX_ADDR4; i++) {
		const struct sockaddr_in *s4 =
			(const struct sockaddr_in *)&me->pools[i].addr;

		if (s4->sin_family != AF_INET)
			continue;
		a[*n] = (struct fastpath_addr4){
			.addr = s4->sin_addr.s_addr,
			.slot = { .base = base, .port_min = me->cfg.port_min,
				  .nports = (__u16)span } };
		base += span;
		(*n)++;
	}
	return base;
}

static int attach_all(struct media_engine *me, char *err, size_t errlen)
{
	struct fastpath_opts o = { .pin_dir = me->pin_dir,
				   .max_flows = me->cfg.max_flows };
	/* Every relay port of every address may have its port entry and
	 * (latched) its flow: size both tables for that, never below the
	 * object's 65536, so that the pools and not the maps bound calls. */
	uint64_t ports = (uint64_t)me->npools *
			 (me->cfg.port_max - me->cfg.port_min + 1);
	struct fastpath_addr4 a4[FASTPATH_MAX_ADDR4];
	int want_bpf = 0, rc, n4;
	char e[512];

	if (ports > 65536) {
		o.max_ports = ports > UINT32_MAX ? UINT32_MAX : (__u32)ports;
		if (!o.max_flows)
			o.max_flows = o.max_ports;
	}
	o.fast4_entries = fast4_plan(me, a4, &n4);
	if (!o.fast4_entries)
		o.fast4_entries = 1;

	for (int i = 0; i < me->cfg.nifaces; i++) {
		me->ifindex[i] = (int)if_nametoindex(me->cfg.ifaces[i].name);
		if (!me->ifindex[i]) {
			snprintf(err, errlen, "media interface '%s' does not "
				 "exist here", me->cfg.ifaces[i].name);
			return -ENODEV;
		}
		want_bpf |= me->cfg.ifaces[i].mode != ATTACH_OFF;
	}
	if (!want_bpf) {
		log_warn("media: attach mode off on every interface: userspace "
			 "forwards all media, with one socket per port");
		return 0;
	}
	rc = fastpath_load(&me->fp, &o, e, sizeof(e));
	if (rc) {
		log_err("media: %s", e);
		log_err("media: FALLING BACK to the socket path: userspace "
			"forwards all media (fix the cause above to forward "
			"in the kernel)");
		return 0;
	}
	if (fastpath_fast4_layout(me->fp, a4, n4))
		log_warn("media: the IPv4 port table could not be set up: "
			 "IPv4 flows go through the 5-tuple table (slower at "
			 "scale)");
	for (int i = 0; i < me->cfg.nifaces; i++) {
		enum attach_mode m = me->cfg.ifaces[i].mode;

		if (m == ATTACH_OFF)
			continue;
		if (fastpath_attach(me->fp, me->ifindex[i], m, e, sizeof(e))) {
			log_err("media: %s", e);
			log_err("media: %s: FALLING BACK to the socket path for "
				"this interface: media arriving on it is "
				"forwarded by userspace", me->cfg.ifaces[i].name);
			continue;
		}
		me->got[i] = m;
		log_info("media: %s: forwarding in the kernel (%s)",
			 me->cfg.ifaces[i].name, attach_mode_name(m));
	}
	return 0;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		log_warn("media: socket path: one descriptor per port, so at "
			 "most about %llu ports (%llu calls) at once "
			 "(descriptor limit %llu)",
			 (unsigned long long)rl.rlim_cur - 64,
			 (unsigned long long)(rl.rlim_cur - 64) / 4,
			 (unsigned long long)rl.rlim_cur);
}

int media_engine_new(struct media_engine **out, const struct media_cfg *cfg,
		     char *err, size_t errlen)
{
	struct media_engine *me = calloc(1, sizeof(*me));
	int rc;

	if (!me)
		return -ENOMEM;
	me->jdir = -1;
	me->cfg = *cfg;
	snprintf(me->pin_dir, sizeof(me->pin_dir), "%s",
		 cfg->pin_dir ? cfg->pin_dir : XR_PIN_DIR_DEFAULT);
	me->cfg.pin_dir = me->pin_dir;
	me->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (me->epfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		goto fail;
	}
	if ((rc = find_addresses(me, err, errlen)) ||
	    (rc = attach_all(me, err, errlen)))
		goto fail;
	me->io = relay_io_new(me->epfd, me->fp, err, errlen);
	if (!me->io) {
		rc = -EIO;
		goto fail;
	}
	relay_io_set_sent_cb(me->io, media_on_sent, me);
	if (!me->fp)
		raise_nofile();
	if ((rc = journal_open(me, err, errlen)))
		goto fail;
	journal_adopt_all(me);
	/* Kernel entries nobody adopted (calls that ended while no engine
	 * ran, a lost or corrupt journal, no journal at all) keep forwarding
	 * for a grace time, then go: a call still up loses its media only
	 * then, and a dead call's entries and ports are not kept forever. */
	if (gc_collect_unknown(me))
		me->gc_at_ns = media_now_ns() +
			       (uint64_t)me->cfg.adopt_grace_ms * 1000000ull + 1;
	*out = me;
	return 0;
fail:
	media_engine_free(me);
	return rc;
}

static void session_free(struct media_engine *me, struct media_session *s);

void media_engine_shutdown(struct media_engine *me)
{
	for (int b = 0; b < SESSION_BUCKETS; b++)
		while (me->buckets[b]) {
			struct media_session *s = me->buckets[b];

			me->buckets[b] = s->next;
			journal_forget(me, s); /* a clean stop: the calls end */
			session_free(me, s);
		}
	me->nsessions = 0;
	me->jdirty = NULL;
	for (int i = 0; i < me->cfg.nifaces; i++)
		if (me->got[i] != ATTACH_OFF) {
			fastpath_detach(me->ifindex[i], me->got[i]);
			me->got[i] = ATTACH_OFF;
		}
}

void media_engine_free(struct media_engine *me)
{
	if (!me)
		return;
	/* Sessions' kernel flows stay: a restarted engine adopts them. */
	for (int b = 0; b < SESSION_BUCKETS; b++)
		while (me->buckets[b]) {
			struct media_session *s = me->buckets[b];

			me->buckets[b] = s->next;
			for (int i = 0; i < s->nstreams; i++)
				free(s->st[i]);
			free(s->last_out[0]);
			free(s->last_out[1]);
			free(s);
		}
	journal_close(me);
	free(me->held);
	free(me->gc_flow_keys.keys);
	free(me->gc_port_keys.keys);
	relay_io_free(me->io);
	fastpath_close(me->fp);
	for (int i = 0; i < me->npools; i++) {
		portpool_free(me->pools[i].pp);
		free(me->pools[i].by_port);
	}
	if (me->epfd >= 0)
		close(me->epfd);
	free(me);
}

int media_engine_fd(const struct media_engine *me) { return me->epfd; }
/* The next time the once-a-second pass (or the garbage collection) is due. */
static uint64_t next_timer_ns(const struct media_engine *me)
{
	uint64_t t = me->tick_ns;

	if (me->gc_at_ns && me->gc_at_ns < t)
		t = me->gc_at_ns;
	return t;
}

int media_engine_timeout_ms(const struct media_engine *me)
{
	uint64_t now = media_now_ns(), t = next_timer_ns(me);

	if (me->nretry)
		return 1;
	if (t <= now)
		return 0;
	return t - now >= 1000000000ull ? 1000 : (int)((t - now) / 1000000ull) + 1;
}

static int idle_scan(struct media_engine *me, uint64_t now);

/* What is due by the clock: unknown kernel entries after the grace time,
 * then idle sessions (about once a second). */
static void engine_timers(struct media_engine *me, uint64_t now)
{
	if (me->gc_at_ns && now >= me->gc_at_ns) {
		me->gc_at_ns = 0;
		flow_gc_unknown(me);
	}
	if (now < me->tick_ns)
		return;
	/* A pass cut short goes on at the next turn, 10 ms on. */
	me->tick_ns = now + (idle_scan(me, now) ? 1000000000ull : 10000000ull);
}

void media_engine_run(struct media_engine *me)
{
	struct epoll_event ev[32];
	int n = epoll_wait(me->epfd, ev, 32, 0);

	for (int i = 0; i < n; i++)
		relay_io_handle(me->io, &ev[i], media_on_packet, me);
	relay_io_flush(me->io); /* one sendmmsg for the ports of the batch */
	if (me->nretry)
		flow_retry_run(me, media_now_ns());
	journal_flush(me); /* after the batch: its sends are counted */
	engine_timers(me, media_now_ns());
}

void media_engine_set_idle_cb(struct media_engine *me,
			      void (*cb)(void *arg, struct media_session *s),
			      void *arg)
{
	me->idle_cb = cb;
	me->idle_arg = arg;
}

/* ---- sessions ------------------------------------------------------------------ */

static unsigned bucket_of(const char *id)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return h % SESSION_BUCKETS;
}

struct media_session *media_session_get(struct media_engine *me,
					const char *id, int create)
{
	unsigned b = bucket_of(id);
	struct media_session *s;

	for (s = me->buckets[b]; s; s = s->next)
		if (strcmp(s->id, id) == 0)
			return s;
	if (!create || strlen(id) >= sizeof(s->id))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->created_ns = media_now_ns();
	s->next = me->buckets[b];
	me->buckets[b] = s;
	me->nsessions++;
	return s;
}

const char *media_session_id(const struct media_session *s) { return s->id; }

/* Release one leg's port pair of a stream (flows, entries, sockets). */
static void leg_release(struct media_engine *me, struct stream *st, int leg)
{
	struct comp *c = &st->c[leg][0];
	uint64_t now = media_now_ns();

	if (!c->pool)
		return;
	for (int k = 0; k < 2; k++) {
		struct comp *x = &st->c[leg][k];

		flow_retry_forget(me, x);
		flow_retire(me, x);
		port_entry_sync(me, x, 0);
		relay_io_close_port(me->io, x->fd);
		x->pool->by_port[x->port] = NULL;
	}
	portpool_release(c->pool->pp, c->port, now);
	st->c[leg][0].pool = st->c[leg][1].pool = NULL;
}

static void session_free(struct media_engine *me, struct media_session *s)
{
	for (int i = 0; i < s->nstreams; i++) {
		leg_release(me, s->st[i], 0);
		leg_release(me, s->st[i], 1);
		free(s->st[i]);
	}
	free(s->last_out[0]);
	free(s->last_out[1]);
	free(s);
}

void session_drop(struct media_engine *me, struct media_session *s)
{
	struct media_session **pp = &me->buckets[bucket_of(s->id)];

	for (; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			me->nsessions--;
			break;
		}
	if (s->jdirty) /* not written after all */
		for (pp = &me->jdirty; *pp; pp = &(*pp)->jnext)
			if (*pp == s) {
				*pp = s->jnext;
				break;
			}
	session_free(me, s);
}

void media_session_delete(struct media_engine *me, struct media_session *s)
{
	journal_forget(me, s);
	session_drop(me, s);
}

void media_leg_hint(struct media_engine *me, struct media_session *s,
		    enum media_leg leg, const struct sockaddr *sig_addr)
{
	memset(&s->hint[leg], 0, sizeof(s->hint[leg]));
	if (sig_addr && sig_addr->sa_family)
		memcpy(&s->hint[leg], sig_addr, netaddr_len(sig_addr));
	if (s->nstreams) /* before any stream there is nothing to adopt */
		journal_save(me, s);
}

/*
 * Give one leg of a stream the port pair (port, port + 1) of pool p, which
 * the caller took from the pool: the port owner table and, in socket mode,
 * the ports' sockets. The caller then makes the ports' kernel entries.
 */
int leg_bind(struct media_engine *me, struct stream *st, int leg,
	     struct addrpool *p, unsigned port, char *err, size_t errlen)
{
	for (int k = 0; k < 2; k++) {
		struct comp *c = &st->c[leg][k];
		struct sockaddr_storage local = p->addr;

		c->st = st;
		c->leg = (unsigned char)leg;
		c->rtcp = (unsigned char)k;
		c->pool = p;
		c->port = port + (unsigned)k;
		c->fd = -1;
		netaddr_set_port((struct sockaddr *)&local, (int)c->port);
		if (!me->fp) {
			c->fd = relay_io_open_port(me->io, (struct sockaddr *)&local, c);
			if (c->fd < 0) {
				int e = c->fd;

				snprintf(err, errlen, "cannot open the socket of "
					 "relay port %u (%s): the socket path "
					 "needs a descriptor per port", c->port,
					 strerror(-e));
				c->fd = -1;
				if (k == 1) {
					relay_io_close_port(me->io, st->c[leg][0].fd);
					st->c[leg][0].fd = -1;
					p->by_port[port] = NULL;
				}
				st->c[leg][0].pool = st->c[leg][1].pool = NULL;
				return e;
			}
		}
		p->by_port[c->port] = c;
	}
	return 0;
}

/* Allocate one leg's port pair of a stream on pool p. */
static int leg_alloc(struct media_engine *me, struct stream *st, int leg,
		     struct addrpool *p, char *err, size_t errlen)
{
	int port = portpool_alloc(p->pp, media_now_ns()), rc;
	char a[NETADDR_STRLEN];

	if (port < 0) {
		snprintf(err, errlen, "port pool exhausted on %s (%u of %u "
			 "pairs in use%s): widen port_min/port_max or add "
			 "relay addresses",
			 netaddr_ip_str((struct sockaddr *)&p->addr, a, sizeof(a)),
			 portpool_used(p->pp), portpool_size(p->pp),
			 port == -EAGAIN ? ", the rest in quarantine" : "");
		return port;
	}
	rc = leg_bind(me, st, leg, p, (unsigned)port, err, errlen);
	if (rc) {
		portpool_release(p->pp, (unsigned)port, 0);
		return rc;
	}
	port_entry_sync(me, &st->c[leg][0], 1);
	port_entry_sync(me, &st->c[leg][1], 1);
	return 0;
}

/* A new stream at the end of s, its components unbound. */
struct stream *stream_new(struct media_session *s)
{
	struct stream *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->s = s;
	for (int k = 0; k < 2; k++) {
		st->c[0][k].fd = st->c[1][k].fd = -1;
		st->c[0][k].st = st->c[1][k].st = st;
		st->c[1][k].leg = 1;
		st->c[0][k].rtcp = st->c[1][k].rtcp = (unsigned char)k;
	}
	s->st[s->nstreams++] = st;
	return st;
}

/* New streams for m= lines the session does not have yet; all or none. */
static int streams_add(struct media_engine *me, struct media_session *s,
		       const struct sdp *p, enum media_leg from, char *err,
		       size_t errlen)
{
	int first = s->nstreams, rc = 0;
	struct addrpool *pool[2];

	for (int i = first; i < p->nmedia && !rc; i++) {
		struct stream *st = stream_new(s);

		if (!st) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			break;
		}
		snprintf(st->type, sizeof(st->type), "%s", p->m[i].type);
		if (p->m[i].port == 0) {
			st->rejected = 1;
			continue;
		}
		/* Each leg's relay address faces that leg's peer. */
		pool[from] = pool_toward(me, s->hint[from].ss_family ?
					 (struct sockaddr *)&s->hint[from] :
					 (struct sockaddr *)&p->m[i].addr);
		pool[!from] = pool_toward(me, s->hint[!from].ss_family ?
					  (struct sockaddr *)&s->hint[!from] :
					  (struct sockaddr *)&p->m[i].addr);
		rc = leg_alloc(me, st, 0, pool[0], err, errlen);
		if (!rc) {
			rc = leg_alloc(me, st, 1, pool[1], err, errlen);
			if (rc)
				leg_release(me, st, 0);
		}
	}
	if (rc) { /* undo every stream this call added */
		while (s->nstreams > first) {
			struct stream *st = s->st[--s->nstreams];

			leg_release(me, st, 0);
			leg_release(me, st, 1);
			free(st);
			s->st[s->nstreams] = NULL;
		}
	}
	return rc;
}

/* Record what leg `from` said about stream i; a changed address unlatches. */
static void stream_update(struct media_engine *me, struct stream *st,
			  const struct sdp_media *m, enum media_leg from)
{
	struct sockaddr_storage a[2] = { m->addr, m->addr };

	netaddr_set_port((struct sockaddr *)&a[1],
			 (int)(m->rtcp_mux ? m->port : m->rtcp_port));
	if (m->null_addr || m->port == 0)
		memset(a, 0, sizeof(a)); /* on hold / rejected: no destination */
	st->rtcp_mux = m->rtcp_mux;
	st->dir[from] = m->dir;
	for (int k = 0; k < 2; k++) {
		struct comp *c = &st->c[from][k];

		int had = c->sdp.ss_family != 0;

		if (memcmp(&c->sdp, &a[k], sizeof(a[k])) == 0)
			continue;
		c->sdp = a[k];
		/* A new address from the peer: latch again (RTP may now
		 * come from elsewhere); the other leg sends to the new one.
		 * Its first address (the answer) changes nothing: a latch
		 * made before it, by a peer that sent as soon as it accepted,
		 * passed the policy on the leg's signalling address and
		 * stays, so its next packets stay in the kernel. */
		if (c->latch.latched && had)
			latch_reset(&c->latch);
		flow_sync(me, c);
		flow_sync(me, comp_other(c));
	}
}

static char *render(struct media_engine *me, const char *sdp, size_t len,
		    const struct sdp *p, struct media_session *s,
		    enum media_leg to, unsigned long long ver)
{
	struct sockaddr_storage fallback = me->pools[0].advertise;
	struct sdp_rewrite rw;

	memset(&rw, 0, sizeof(rw));
	rw.o_version = ver;
	for (int i = 0; i < p->nmedia; i++) /* rejected streams: any address */
		if (s->st[i]->c[to][0].pool) {
			fallback = s->st[i]->c[to][0].pool->advertise;
			break;
		}
	for (int i = 0; i < p->nmedia; i++) {
		struct comp *c = &s->st[i]->c[to][0];

		rw.m[i].addr = c->pool ? c->pool->advertise : fallback;
		netaddr_set_port((struct sockaddr *)&rw.m[i].addr,
				 c->pool ? (int)c->port : 0);
		rw.m[i].rtcp_port = c->pool ? c->port + 1 : 0;
	}
	return sdp_rewrite(sdp, len, p, &rw);
}

/*
 * The body for leg `to`. Its o= version is the one last sent to that leg,
 * plus one when the body differs from what was last sent (RFC 3264 8).
 */
static char *render_versioned(struct media_engine *me, const char *sdp,
			      size_t len, const struct sdp *p,
			      struct media_session *s, enum media_leg to)
{
	char *out;

	if (!s->last_out[to])
		s->o_ver[to] = p->o_version;
	out = render(me, sdp, len, p, s, to, s->o_ver[to]);
	if (out && s->last_out[to] && strcmp(out, s->last_out[to]) != 0) {
		free(out);
		out = render(me, sdp, len, p, s, to, ++s->o_ver[to]);
	}
	if (!out)
		return NULL;
	free(s->last_out[to]);
	s->last_out[to] = strdup(out);
	return out;
}

static int process_sdp(struct media_engine *me, struct media_session *s,
		       enum media_leg from, const char *sdp, size_t len,
		       char **out, char *err, size_t errlen, int offer)
{
	struct sdp p;
	int rc;

	if (sdp_parse(sdp, len, &p, err, errlen) < 0)
		return -EINVAL;
	if (!offer && (s->state == MEDIA_NEW || s->offerer == from)) {
		snprintf(err, errlen, "an answer from leg %s, but there is no "
			 "offer from leg %s to answer", leg_name(from),
			 leg_name(!from));
		return -EPROTO;
	}
	if (p.nmedia < s->nstreams) {
		snprintf(err, errlen, "the SDP has %d m= lines, the session "
			 "already %d: m= lines are never removed (RFC 3264 8)",
			 p.nmedia, s->nstreams);
		return -EINVAL;
	}
	if (!offer && p.nmedia > s->nstreams) {
		snprintf(err, errlen, "the answer has %d m= lines, the offer %d",
			 p.nmedia, s->nstreams);
		return -EINVAL;
	}
	rc = streams_add(me, s, &p, from, err, errlen);
	if (rc)
		return rc;
	*out = render_versioned(me, sdp, len, &p, s, !from);
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < p.nmedia; i++) {
		if (p.m[i].port == 0)
			s->st[i]->rejected = 1;
		stream_update(me, s->st[i], &p.m[i], from);
	}
	if (offer) {
		s->state = MEDIA_OFFERED;
		s->offerer = from;
	} else {
		s->state = MEDIA_ANSWERED;
	}
	/* Before the body goes out: a crash after this adopts the session
	 * the peer is told about. */
	journal_save(me, s);
	return 0;
}

int media_offer(struct media_engine *me, struct media_session *s,
		enum media_leg from, const char *sdp, size_t len, char **out,
		char *err, size_t errlen)
{
	return process_sdp(me, s, from, sdp, len, out, err, errlen, 1);
}

int media_answer(struct media_engine *me, struct media_session *s,
		 enum media_leg from, const char *sdp, size_t len, char **out,
		 char *err, size_t errlen)
{
	return process_sdp(me, s, from, sdp, len, out, err, errlen, 0);
}

/* ---- queries ------------------------------------------------------------------- */

static void comp_info(struct media_engine *me, struct comp *c,
		      struct media_component_info *out)
{
	memset(out, 0, sizeof(*out));
	if (!c->pool)
		return;
	out->local_port = c->port;
	out->sdp_peer = c->sdp;
	if (c->latch.latched)
		out->latched = c->latch.peer;
	out->relatches = c->latch.relatches;
	comp_kernel_counters(me, c, &out->in);
}

int media_session_info(struct media_engine *me, struct media_session *s,
		       struct media_session_info *out)
{
	uint64_t now = media_now_ns(), last = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s", s->id);
	out->state = s->state;
	out->created_ns = s->created_ns;
	for (int l = 0; l < 2; l++) {
		struct media_leg_info *li = &out->leg[l];

		li->nstreams = s->nstreams;
		li->hint = s->hint[l];
		li->mode = ATTACH_OFF;
		for (int i = 0; i < s->nstreams; i++) {
			struct stream *st = s->st[i];
			struct media_stream_info *si = &li->st[i];
			struct comp *c = &st->c[l][0];

			snprintf(si->type, sizeof(si->type), "%s", st->type);
			si->rejected = st->rejected;
			si->rtcp_mux = st->rtcp_mux;
			si->dir = st->dir[l];
			if (c->pool) {
				si->local = c->pool->addr;
				li->mode = me->got[c->pool->iface];
			}
			comp_info(me, &st->c[l][0], &si->rtp);
			comp_info(me, &st->c[l][1], &si->rtcp);
			if (si->rtp.in.last_packet_ns > last)
				last = si->rtp.in.last_packet_ns;
			if (si->rtcp.in.last_packet_ns > last)
				last = si->rtcp.in.last_packet_ns;
		}
	}
	if (!last)
		last = s->created_ns;
	out->idle = now > last && now - last >= (uint64_t)me->cfg.idle_ms * 1000000ull;
	return 0;
}

/* ---- idleness ----------------------------------------------------------------- */

/* The last packet from any peer of s (kernel or userspace), else its start. */
static uint64_t session_last_ns(struct media_engine *me,
				struct media_session *s)
{
	uint64_t last = s->created_ns;

	for (int i = 0; i < s->nstreams; i++)
		for (int l = 0; l < 2; l++)
			for (int k = 0; k < 2; k++) {
				uint64_t t = comp_last_ns(me, &s->st[i]->c[l][k]);

				if (t > last)
					last = t;
			}
	return last;
}

/*
 * Whether s has just become idle (to be reported), and when to look again.
 * A session is looked at only when it could have become idle (its last
 * packet + idle_ns), so a busy engine reads each flow about once per idle
 * period, not once a second. A reported session is reported again only
 * after a packet newer than the one it went idle after.
 */
static int idle_check(struct media_engine *me, struct media_session *s,
		      uint64_t now, uint64_t idle_ns)
{
	uint64_t last = session_last_ns(me, s);
	uint64_t recheck = idle_ns / 4 > 1000000000ull ? idle_ns / 4 :
			   1000000000ull;
	int quiet = now > last && now - last >= idle_ns;

	if (s->idle_reported && last > s->idle_since_ns)
		s->idle_reported = 0; /* media came back: eligible again */
	if (!s->idle_reported && !quiet) {
		s->idle_check_ns = last + idle_ns;
		return 0;
	}
	s->idle_check_ns = now + recheck;
	if (s->idle_reported)
		return 0;
	s->idle_reported = 1;
	s->idle_since_ns = last;
	return 1;
}

/*
 * Looks at the sessions that could have become idle, at most
 * IDLE_CHECKS_PER_TURN of them (each reads its kernel flows): sessions
 * set up in a burst come due in a burst, and 10,000 at once held the loop
 * for 100 ms. Returns 1 when the pass is complete, 0 when it stopped at
 * me->idle_cursor, to go on from there.
 */
#define IDLE_CHECKS_PER_TURN 1000

static int idle_scan(struct media_engine *me, uint64_t now)
{
	uint64_t idle_ns = (uint64_t)me->cfg.idle_ms * 1000000ull;
	int checks = 0;

	if (!me->idle_cb || !idle_ns)
		return 1;
	for (int b = me->idle_cursor; b < SESSION_BUCKETS; b++) {
		if (checks >= IDLE_CHECKS_PER_TURN) {
			me->idle_cursor = b;
			return 0;
		}
		for (struct media_session *s = me->buckets[b], *n; s; s = n) {
			n = s->next; /* the callback may delete s */
			if (now < s->idle_check_ns)
				continue;
			checks++;
			if (idle_check(me, s, now, idle_ns))
				me->idle_cb(me->idle_arg, s);
		}
	}
	me->idle_cursor = 0;
	return 1;
}

void media_session_foreach(struct media_engine *me,
			   int (*cb)(struct media_session *s, void *arg),
			   void *arg)
{
	for (int b = 0; b < SESSION_BUCKETS; b++)
		for (struct media_session *s = me->buckets[b], *n; s; s = n) {
			n = s->next; /* cb may delete s */
			if (cb(s, arg))
				return;
		}
}

int media_engine_totals(struct media_engine *me, struct media_totals *t)
{
	memset(t, 0, sizeof(*t));
	t->sessions = me->nsessions;
	t->user_packets = me->user_dir[XR_DIR_FROM_A].packets +
			  me->user_dir[XR_DIR_FROM_B].packets;
	t->user_bytes = me->user_dir[XR_DIR_FROM_A].bytes +
			me->user_dir[XR_DIR_FROM_B].bytes;
	t->latches = me->latches;
	t->relatches = me->relatches;
	t->latch_refused = me->latch_refused;
	t->adopted = me->adopted;
	t->gc_flows = me->gc_flows;
	t->gc_ports = me->gc_ports;
	for (int i = 0; i < me->npools; i++) {
		t->ports_total += portpool_size(me->pools[i].pp);
		t->ports_used += portpool_used(me->pools[i].pp);
	}
	memcpy(t->user_dir, me->user_dir, sizeof(t->user_dir));
	if (me->fp)
		fastpath_dir_stats(me->fp, t->kernel_dir);
	if (me->fp && fastpath_stats(me->fp, t->reasons) == 0) {
		t->kernel_packets = t->reasons[XR_FWD_TX].packets +
				    t->reasons[XR_FWD_REDIRECT].packets;
		t->kernel_bytes = t->reasons[XR_FWD_TX].bytes +
				  t->reasons[XR_FWD_REDIRECT].bytes;
	}
	t->nifaces = me->cfg.nifaces;
	for (int i = 0; i < me->cfg.nifaces; i++) {
		snprintf(t->iface[i].name, sizeof(t->iface[i].name), "%s",
			 me->cfg.ifaces[i].name);
		t->iface[i].want = me->cfg.ifaces[i].mode;
		t->iface[i].got = me->got[i];
	}
	return 0;
}
