// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xrelayd: the SIP B2BUA and the media engine in one process, one event
 * loop. Set-up runs in steps and is undone in reverse; SIGTERM/SIGINT end
 * every call with BYE on both legs and stop; SIGHUP reloads routes, users
 * and limits without touching calls.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "b2bua.h"
#include "cdr.h"
#include "config.h"
#include "ctl.h"
#include "health.h"
#include "hep.h"
#include "log.h"
#include "media.h"
#include "metrics.h"
#include "ng.h"
#include "ng_listen.h"
#include "registrar.h"
#include "route.h"
#include "transport.h"

struct daemon {
	struct xr_config cfg;
	char *argv0, **argv;
	int argc;
	struct media_engine *me;
	struct sip_transport *tp;
	struct registrar *reg;
	struct routes *rt;
	struct auth *auth;
	struct cdr_writer *cdr;
	struct hep *hep;                 /* NULL: hep_collector off */
	struct b2bua *b2b;
	struct ng *ng;                   /* NULL: ng_listen off */
	struct ng_listen *ngl;
	int sigfd;
	/* operations: what the control socket and metrics read */
	struct xr_sources src;
	struct ctl_server *ctl;
	struct metrics_http *metrics;    /* NULL: metrics_listen off */
	struct health health;
};

static int reload(struct daemon *d, char *err, size_t errlen);

static struct routes *load_routes(const struct xr_config *c, char *err,
				  size_t errlen)
{
	struct routes *rt = routes_new();
	char e[256];

	if (!rt) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int i = 0; i < c->nroutes; i++) {
		if (routes_add(rt, c->routes[i], e, sizeof(e)) < 0) {
			snprintf(err, errlen, "route '%s': %s", c->routes[i], e);
			routes_free(rt);
			return NULL;
		}
	}
	return rt;
}

static void b2b_cfg(const struct xr_config *c, struct b2bua_cfg *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->domain, sizeof(o->domain), "%s", c->domain);
	o->pass_headers = c->pass_headers;
	o->npass = c->npass;
	o->max_calls = c->max_calls;
	o->max_call_rate = c->max_call_rate;
	o->retry_after_s = c->retry_after_s;
	o->media_timeout_ms = c->media_timeout_ms;
	o->session_expires_s = c->session_expires_s;
	o->min_se_s = c->min_se_s;
	o->reg_min_expires_s = c->reg_min_expires_s;
	o->reg_max_expires_s = c->reg_max_expires_s;
	o->max_forwards = c->max_forwards;
	snprintf(o->state_dir, sizeof(o->state_dir), "%s", c->state_dir);
}

static void deps_of(struct daemon *d, struct b2bua_deps *o)
{
	*o = (struct b2bua_deps){ .tp = d->tp, .me = d->me, .reg = d->reg,
				  .rt = d->rt, .auth = d->auth, .cdr = d->cdr,
				  .hep = d->hep };
}

static int ctl_reload(void *arg, char *err, size_t errlen)
{
	return reload(arg, err, errlen);
}

/* The control socket, the metrics listener and the health checks. */
static int ops_start(struct daemon *d, char *err, size_t errlen)
{
	struct ctl_ctx cx = { .src = &d->src, .reload = ctl_reload,
			      .reload_arg = d };
	struct media_totals t;

	d->src = (struct xr_sources){ .b2b = d->b2b, .tp = d->tp,
				      .reg = d->reg, .me = d->me,
				      .start_s = (uint64_t)time(NULL) };
	if (ctl_open(&d->ctl, d->cfg.ctl_socket, &cx, err, errlen) < 0)
		return -1;
	if (d->cfg.metrics_listen[0] &&
	    metrics_http_open(&d->metrics, d->cfg.metrics_listen, &d->src,
			      err, errlen) < 0)
		return -1;
	/* now 0: the first look (which only takes the counters) at once */
	health_init(&d->health, d->cfg.kernel_share_warn, 0);
	media_engine_totals(d->me, &t);
	health_report_attach(&t);
	return 0;
}

/* Idle media: an ng call is the ng layer's to end, any other the
 * B2BUA's (each ends only its own). */
static void media_idle(void *arg, struct media_session *s)
{
	struct daemon *d = arg;

	if (!d->ng || !ng_media_idle(d->ng, s))
		b2bua_media_idle(d->b2b, s);
}

static struct ng_cfg ng_cfg_of(const struct xr_config *c)
{
	return (struct ng_cfg){ .max_sessions = c->max_calls,
				.media_timeout_ms = c->media_timeout_ms };
}

/* rtpengine's ng protocol, when ng_listen is set. */
static int ng_start(struct daemon *d, char *err, size_t errlen)
{
	struct ng_cfg nc = ng_cfg_of(&d->cfg);

	if (!d->cfg.ng_listen[0])
		return 0;
	if (!(d->ng = ng_new(d->me, &nc))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return ng_listen_new(&d->ngl, d->cfg.ng_listen, d->cfg.ng_allow,
			     d->cfg.nng_allow, d->ng, err, errlen);
}

static int start(struct daemon *d, char *err, size_t errlen)
{
	struct b2bua_cfg bc;
	struct b2bua_deps deps;
	struct xr_config *c = &d->cfg;

	/* The engine reports idle media; the B2BUA and the ng layer end those
	 * calls (each its own: media_idle). */
	if (c->media_timeout_ms)
		c->media.idle_ms = c->media_timeout_ms;
	if (media_engine_new(&d->me, &c->media, err, errlen) < 0)
		return -1;
	d->tp = tp_new(b2bua_on_message, NULL);
	if (!d->tp) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < c->nlisten; i++)
		if (tp_listen(d->tp, c->listen[i].proto,
			      (struct sockaddr *)&c->listen[i].addr, err,
			      errlen) < 0)
			return -1;
	d->reg = registrar_new(c->reg_min_expires_s, c->reg_max_expires_s);
	d->rt = load_routes(c, err, errlen);
	if (!d->reg || !d->rt)
		return -1;
	if (c->users_file[0] &&
	    !(d->auth = auth_load(c->users_file, c->domain, err, errlen)))
		return -1;
	if (c->cdr_file[0] && !(d->cdr = cdr_open(c->cdr_file, err, errlen)))
		return -1;
	if (c->hep_collector[0] &&
	    hep_open(&d->hep, c->hep_collector, c->hep_capture_id,
		     c->hep_auth_key, err, errlen) < 0)
		return -1;
	b2b_cfg(c, &bc);
	deps_of(d, &deps);
	d->b2b = b2bua_new(&bc, &deps);
	if (!d->b2b) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	tp_set_ctx(d->tp, d->b2b);
	/* After a crash: the calls that were up, from the journal (the
	 * media engine adopted their media sessions already). */
	if (b2bua_adopt(d->b2b, c->cdr_file) > 0)
		log_info("xrelayd: calls adopted from %s", c->state_dir);
	media_engine_set_idle_cb(d->me, media_idle, d);
	if (ng_start(d, err, errlen) < 0)
		return -1;
	return ops_start(d, err, errlen);
}

static void stop(struct daemon *d)
{
	ng_listen_free(d->ngl);
	ng_free(d->ng);
	ctl_close(d->ctl);
	metrics_http_free(d->metrics);
	b2bua_free(d->b2b);
	hep_free(d->hep);
	cdr_close(d->cdr);
	auth_free(d->auth);
	routes_free(d->rt);
	registrar_free(d->reg);
	tp_free(d->tp);
	if (d->me)
		media_engine_free(d->me);
}

/* SIGHUP (and xrelayctl reload): routes, users, limits and the CDR file
 * again; calls go on. -1 with err when the new configuration is refused. */
static int reload(struct daemon *d, char *err, size_t errlen)
{
	struct xr_config nc;
	struct routes *rt;
	struct b2bua_cfg bc;
	struct b2bua_deps deps;
	int exit_now = 0;

	config_defaults(&nc);
	if (config_from_args(&nc, d->argc, d->argv, &exit_now, err,
			     errlen) < 0 ||
	    !(rt = load_routes(&nc, err, errlen))) {
		log_err("reload refused, the running configuration stays: %s",
			err);
		config_free(&nc);
		return -1;
	}
	if (d->auth && auth_reload(d->auth, nc.users_file, err, errlen) < 0)
		log_err("reload: users file kept as it was: %s", err);
	if (d->cdr && cdr_reopen(d->cdr, err, errlen) < 0)
		log_err("reload: CDR file: %s", err);
	routes_free(d->rt);
	d->rt = rt;
	/* Only what reload may change is taken from the new config. */
	d->cfg.max_calls = nc.max_calls;
	d->cfg.max_call_rate = nc.max_call_rate;
	d->cfg.retry_after_s = nc.retry_after_s;
	d->cfg.media_timeout_ms = nc.media_timeout_ms;
	d->cfg.session_expires_s = nc.session_expires_s;
	b2b_cfg(&d->cfg, &bc);
	deps_of(d, &deps);
	b2bua_reconfigure(d->b2b, &bc, &deps);
	if (d->ng) {
		struct ng_cfg ngc = ng_cfg_of(&d->cfg);

		ng_reconfigure(d->ng, &ngc);
	}
	d->cfg.kernel_share_warn = nc.kernel_share_warn;
	d->health.warn_pct = nc.kernel_share_warn;
	config_free(&nc);
	log_info("reloaded: %u routes, limits and users", routes_count(rt));
	return 0;
}

static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/*
 * What the loop serves: one row per service with a descriptor to poll and
 * what to call when it is readable (or its timer is due). A new listener
 * (control socket, metrics, ng) is one more row.
 */
struct service {
	const char *name;
	int (*fd)(struct daemon *d);
	void (*run)(struct daemon *d);
	int (*timeout_ms)(struct daemon *d);  /* NULL: none */
};

static int me_fd(struct daemon *d) { return media_engine_fd(d->me); }
static void me_run(struct daemon *d) { media_engine_run(d->me); }
static int me_timeout(struct daemon *d) { return media_engine_timeout_ms(d->me); }
static int sip_fd(struct daemon *d) { return tp_fd(d->tp); }
static void sip_run(struct daemon *d) { tp_run(d->tp); b2bua_tick(d->b2b); }
static int sip_timeout(struct daemon *d) { return b2bua_timeout_ms(d->b2b); }
static int ng_fd(struct daemon *d) { return d->ngl ? ng_listen_fd(d->ngl) : -1; }
static void ng_run(struct daemon *d)
{
	if (d->ngl)
		ng_listen_run(d->ngl);
}
static int ng_timeout(struct daemon *d)
{
	return d->ngl ? ng_listen_timeout_ms(d->ngl) : -1;
}
static int ctl_fd_(struct daemon *d) { return ctl_fd(d->ctl); }
static void ctl_run_(struct daemon *d) { ctl_run(d->ctl); }
static int ctl_timeout(struct daemon *d) { return ctl_timeout_ms(d->ctl); }
static int metrics_fd(struct daemon *d)
{
	return d->metrics ? metrics_http_fd(d->metrics) : -1;
}
static void metrics_run(struct daemon *d)
{
	if (d->metrics)
		metrics_http_run(d->metrics);
}
static int metrics_timeout(struct daemon *d)
{
	return d->metrics ? metrics_http_timeout_ms(d->metrics) : -1;
}
static int no_fd(struct daemon *d) { (void)d; return -1; }
static void health_run(struct daemon *d) { health_tick(&d->health, &d->src); }
static int health_timeout(struct daemon *d) { return health_timeout_ms(&d->health); }

static const struct service services[] = {
	{ "media", me_fd, me_run, me_timeout },
	{ "sip", sip_fd, sip_run, sip_timeout },
	{ "ng", ng_fd, ng_run, ng_timeout },
	{ "ctl", ctl_fd_, ctl_run_, ctl_timeout },
	{ "metrics", metrics_fd, metrics_run, metrics_timeout },
	{ "health", no_fd, health_run, health_timeout },
};
#define NSERVICES (sizeof(services) / sizeof(services[0]))

/*
 * A service that holds the loop for long delays every other one: media
 * first packets wait in a socket buffer that overflows, SIP retransmits.
 * Such a turn is logged with the service's name (at most every 10 s), so
 * that a stall at scale has a name rather than only dropped packets. Wall
 * clock, not CPU time (a syscall per service per turn): a turn during
 * which the CPU ran other work (softirq, real-time threads) counts too.
 */
#define SLOW_TURN_MS 50

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void run_timed(struct daemon *d, const struct service *sv)
{
	static uint64_t said_us;
	uint64_t t0 = mono_us(), took;

	sv->run(d);
	took = mono_us() - t0;
	if (took < SLOW_TURN_MS * 1000u || t0 - said_us < 10000000u)
		return;
	said_us = t0;
	log_warn("loop: one turn of the %s service took %llu ms (wall clock: "
		 "its work, or the CPU given to other tasks meanwhile; over "
		 "%d ms delays the other services and socket buffers may "
		 "overflow)", sv->name, (unsigned long long)(took / 1000),
		 SLOW_TURN_MS);
}

/* Returns when asked to stop. */
static void loop(struct daemon *d)
{
	struct pollfd pf[NSERVICES + 1];
	struct signalfd_siginfo si;
	char err[512];
	size_t i;

	for (i = 0; i < NSERVICES; i++)
		pf[i] = (struct pollfd){ .fd = services[i].fd(d), .events = POLLIN };
	pf[NSERVICES] = (struct pollfd){ .fd = d->sigfd, .events = POLLIN };
	for (;;) {
		int to = -1;

		for (i = 0; i < NSERVICES; i++)
			if (services[i].timeout_ms)
				to = min_timeout(to, services[i].timeout_ms(d));
		if (poll(pf, NSERVICES + 1, to) < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			return;
		}
		/* Every service runs each turn: its timers may be due even
		 * when its descriptor is quiet (or it has none), and a run
		 * never blocks. */
		for (i = 0; i < NSERVICES; i++)
			if (pf[i].fd >= 0 || services[i].timeout_ms)
				run_timed(d, &services[i]);
		if (!(pf[NSERVICES].revents & POLLIN) ||
		    read(d->sigfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP)
			reload(d, err, sizeof(err));
		else
			return;
	}
}

/* End the calls with BYE and give the transactions a moment to finish. */
static void drain(struct daemon *d)
{
	struct b2bua_stats st;
	int i;

	b2bua_shutdown(d->b2b);
	for (i = 0; i < 40; i++) { /* up to 2 s */
		b2bua_stats(d->b2b, &st);
		if (!st.calls_active && i > 4)
			break;
		poll(NULL, 0, 50);
		tp_run(d->tp);
		b2bua_tick(d->b2b);
	}
	media_engine_shutdown(d->me);
}

int main(int argc, char **argv)
{
	struct daemon d = { .argc = argc, .argv = argv, .sigfd = -1 };
	char err[512];
	int exit_now = 0, rc = 1;
	sigset_t ss;

	config_defaults(&d.cfg);
	if (config_from_args(&d.cfg, argc, argv, &exit_now, err,
			     sizeof(err)) < 0) {
		fprintf(stderr, "xrelayd: %s\n", err);
		config_free(&d.cfg);
		return 2;
	}
	if (exit_now) {
		config_free(&d.cfg);
		return 0;
	}
	log_set_level(d.cfg.log_level);
	log_libbpf_setup();
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.sigfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	if (start(&d, err, sizeof(err)) < 0) {
		log_err("xrelayd: %s", err);
		goto out;
	}
	log_info("xrelayd: ready");
	loop(&d);
	if (d.cfg.stop_ends_calls) {
		log_info("xrelayd: stopping: ending calls");
		drain(&d);
	} else {
		struct b2bua_stats st;

		b2bua_stats(d.b2b, &st);
		log_info("xrelayd: stopping: %llu calls left to the next start "
			 "(journal in %s; the kernel forwards their media)",
			 (unsigned long long)st.calls_active, d.cfg.state_dir);
	}
	rc = 0;
out:
	stop(&d);
	if (d.sigfd >= 0)
		close(d.sigfd);
	config_free(&d.cfg);
	return rc;
}
