// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xrelay-media: the media engine alone, driven through its API by line
 * commands on standard input; what the end-to-end tests of the engine use
 * before (and besides) the SIP side. One reply line per command ("ok ..."
 * or "error: ..."), on standard output.
 *
 *   offer  CALL LEG SIGADDR IN.sdp OUT.sdp   LEG is A or B; SIGADDR the
 *   answer CALL LEG SIGADDR IN.sdp OUT.sdp   leg's signalling address or -
 *   hint   CALL LEG SIGADDR                  the leg's signalling address
 *   info   CALL                              key=value lines, then "ok"
 *   totals                                   key=value lines, then "ok"
 *   delete CALL
 *   stop        free the engine, leave the kernel state (a crash/restart)
 *   quit        remove every session and detach, then exit
 *
 * With --state-dir the engine journals its sessions there and a restarted
 * one adopts them (info works for them at once). With --idle-ms, a line
 * "idle CALL" is printed whenever the engine reports a session idle.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "media.h"
#include "netaddr.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = 0;
		*len = (size_t)n;
	}
	return buf;
}

static void print_comp(const char *p, const struct media_component_info *c)
{
	char a[NETADDR_STRLEN], b[NETADDR_STRLEN];

	printf("%s.port=%u\n%s.sdp_peer=%s\n%s.latched=%s\n", p, c->local_port,
	       p, netaddr_str((struct sockaddr *)&c->sdp_peer, a, sizeof(a)),
	       p, c->latched.ss_family ?
	       netaddr_str((struct sockaddr *)&c->latched, b, sizeof(b)) : "-");
	printf("%s.kernel_packets=%llu\n%s.user_packets=%llu\n"
	       "%s.drop_foreign=%llu\n%s.drop_policy=%llu\n%s.relatches=%u\n",
	       p, (unsigned long long)c->in.kernel_packets, p,
	       (unsigned long long)c->in.user_packets, p,
	       (unsigned long long)c->in.drop_foreign, p,
	       (unsigned long long)c->in.drop_policy, p, c->relatches);
}

static int cmd_info(struct media_engine *me, const char *id)
{
	struct media_session *s = media_session_get(me, id, 0);
	struct media_session_info in;
	char p[64];

	if (!s)
		return printf("error: no session %s\n", id), 1;
	media_session_info(me, s, &in);
	printf("state=%d\nidle=%d\n", in.state, in.idle);
	for (int l = 0; l < 2; l++) {
		printf("%c.mode=%s\n", 'a' + l, attach_mode_name(in.leg[l].mode));
		for (int i = 0; i < in.leg[l].nstreams; i++) {
			snprintf(p, sizeof(p), "%c.%d.rtp", 'a' + l, i);
			print_comp(p, &in.leg[l].st[i].rtp);
			snprintf(p, sizeof(p), "%c.%d.rtcp", 'a' + l, i);
			print_comp(p, &in.leg[l].st[i].rtcp);
		}
	}
	return 0;
}

static int cmd_totals(struct media_engine *me)
{
	struct media_totals t;

	media_engine_totals(me, &t);
	printf("sessions=%llu\nkernel_packets=%llu\nuser_packets=%llu\n"
	       "latches=%llu\nrelatches=%llu\nlatch_refused=%llu\n"
	       "ports_used=%u\nports_total=%u\n",
	       (unsigned long long)t.sessions,
	       (unsigned long long)t.kernel_packets,
	       (unsigned long long)t.user_packets,
	       (unsigned long long)t.latches, (unsigned long long)t.relatches,
	       (unsigned long long)t.latch_refused, t.ports_used,
	       t.ports_total);
	printf("adopted=%llu\ngc_flows=%llu\ngc_ports=%llu\n",
	       (unsigned long long)t.adopted, (unsigned long long)t.gc_flows,
	       (unsigned long long)t.gc_ports);
	for (int i = 0; i < t.nifaces; i++)
		printf("iface.%s=%s\n", t.iface[i].name,
		       attach_mode_name(t.iface[i].got));
	for (unsigned r = 0; r < XR_REASON_MAX; r++)
		printf("reason.%s=%llu\n", xr_reason_name(r),
		       (unsigned long long)t.reasons[r].packets);
	return 0;
}

static int cmd_sdp(struct media_engine *me, int offer, char **w)
{
	struct media_session *s = media_session_get(me, w[1], 1);
	enum media_leg leg = w[2][0] == 'B' ? MEDIA_LEG_B : MEDIA_LEG_A;
	struct sockaddr_storage hint;
	char err[256], *in, *out = NULL;
	size_t len;
	FILE *f;
	int rc;

	if (!s)
		return printf("error: cannot create session\n"), 1;
	if (strcmp(w[3], "-") != 0) {
		if (netaddr_parse(w[3], 0, &hint))
			return printf("error: bad address %s\n", w[3]), 1;
		media_leg_hint(me, s, leg, (struct sockaddr *)&hint);
	}
	in = slurp(w[4], &len);
	if (!in)
		return printf("error: cannot read %s\n", w[4]), 1;
	rc = offer ? media_offer(me, s, leg, in, len, &out, err, sizeof(err))
		   : media_answer(me, s, leg, in, len, &out, err, sizeof(err));
	free(in);
	if (rc)
		return printf("error: %s\n", err), 1;
	f = fopen(w[5], "w");
	if (f) {
		fputs(out, f);
		fclose(f);
	}
	free(out);
	return 0;
}

static void on_idle(void *arg, struct media_session *s)
{
	(void)arg;
	printf("idle %s\n", media_session_id(s));
	fflush(stdout);
}

/* One command line; returns 1 to exit (2: without shutdown). */
static int command(struct media_engine *me, char *line)
{
	char *w[8] = { 0 };
	int n = 0, rc = 0;

	for (char *t = strtok(line, " \t\n"); t && n < 8; t = strtok(NULL, " \t\n"))
		w[n++] = t;
	if (n == 0)
		return 0;
	if (!strcmp(w[0], "quit"))
		return 1;
	if (!strcmp(w[0], "stop"))
		return 2;
	if ((!strcmp(w[0], "offer") || !strcmp(w[0], "answer")) && n == 6)
		rc = cmd_sdp(me, w[0][0] == 'o', w);
	else if (!strcmp(w[0], "hint") && n == 4) {
		struct media_session *s = media_session_get(me, w[1], 1);
		struct sockaddr_storage a;

		if (!s || netaddr_parse(w[3], 0, &a))
			rc = printf("error: bad session or address\n") > 0;
		else
			media_leg_hint(me, s, w[2][0] == 'B', (struct sockaddr *)&a);
	} else if (!strcmp(w[0], "info") && n == 2)
		rc = cmd_info(me, w[1]);
	else if (!strcmp(w[0], "totals"))
		rc = cmd_totals(me);
	else if (!strcmp(w[0], "delete") && n == 2) {
		struct media_session *s = media_session_get(me, w[1], 0);

		if (s)
			media_session_delete(me, s);
		else
			rc = printf("error: no session %s\n", w[1]) > 0;
	} else
		rc = printf("error: unknown command or arguments: %s\n", w[0]) > 0;
	if (!rc)
		printf("ok\n");
	fflush(stdout);
	return 0;
}

static int parse_iface(const char *s, struct media_iface_cfg *ifc)
{
	char buf[128], *mode, *adv;

	snprintf(buf, sizeof(buf), "%s", s);
	mode = strchr(buf, ':');
	if (!mode)
		return -1;
	*mode++ = 0;
	adv = strchr(mode, '/');
	if (adv)
		*adv++ = 0;
	if (strlen(buf) >= sizeof(ifc->name))
		return -1;
	memcpy(ifc->name, buf, strlen(buf) + 1);
	if ((int)(ifc->mode = attach_mode_parse(mode)) < 0)
		return -1;
	if (adv) {
		if (netaddr_parse_ip(adv, &ifc->advertise))
			return -1;
		ifc->has_advertise = 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", 1, 0, 'i' }, { "ports", 1, 0, 'p' },
		{ "pin-dir", 1, 0, 'P' }, { "relatch-idle-ms", 1, 0, 'r' },
		{ "latch-any", 0, 0, 'a' }, { "no-strict", 0, 0, 's' },
		{ "state-dir", 1, 0, 'S' }, { "adopt-grace-ms", 1, 0, 'g' },
		{ "idle-ms", 1, 0, 'I' }, { "no-rtp-stats", 0, 0, 'R' },
		{ "verbose", 0, 0, 'v' }, { 0, 0, 0, 0 },
	};
	struct media_engine *me;
	struct media_cfg cfg;
	char err[512], line[1024];
	int c, rc = 0;

	media_cfg_defaults(&cfg);
	log_libbpf_setup();
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (cfg.nifaces == MEDIA_MAX_IFACES ||
			    parse_iface(optarg, &cfg.ifaces[cfg.nifaces++])) {
				fprintf(stderr, "xrelay-media: --iface NAME:MODE"
					"[/ADVERTISE], not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'p':
			if (sscanf(optarg, "%u-%u", &cfg.port_min, &cfg.port_max) != 2)
				return fprintf(stderr, "--ports MIN-MAX\n"), 2;
			break;
		case 'P': cfg.pin_dir = optarg; break;
		case 'r': cfg.relatch_idle_ms = (uint32_t)atoi(optarg); break;
		case 'a': cfg.latch = LATCH_ANY; break;
		case 's': cfg.strict = 0; break;
		case 'R': cfg.rtp_stats = 0; break;
		case 'S': cfg.state_dir = optarg; break;
		case 'g': cfg.adopt_grace_ms = (uint32_t)atoi(optarg); break;
		case 'I': cfg.idle_ms = (uint32_t)atoi(optarg); break;
		case 'v': log_set_level(LOG_DEBUG); break;
		default: return 2;
		}
	}
	if (media_engine_new(&me, &cfg, err, sizeof(err))) {
		fprintf(stderr, "xrelay-media: %s\n", err);
		return 1;
	}
	media_engine_set_idle_cb(me, on_idle, NULL);
	setvbuf(stdin, NULL, _IONBF, 0); /* poll() must see every line */
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p[2] = { { .fd = 0, .events = POLLIN },
				       { .fd = media_engine_fd(me), .events = POLLIN } };

		if (poll(p, 2, media_engine_timeout_ms(me)) < 0 && errno != EINTR)
			break;
		media_engine_run(me); /* input, and timers when poll timed out */
		if (p[0].revents) {
			if (!fgets(line, sizeof(line), stdin))
				break; /* EOF: as quit */
			rc = command(me, line);
			if (rc)
				break;
		}
	}
	if (rc != 2)
		media_engine_shutdown(me);
	media_engine_free(me);
	return 0;
}
