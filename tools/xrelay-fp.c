// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xrelay-fp: the fast path by hand. Loads and attaches the program, puts
 * flows and ports into the pinned maps and prints the counters, without the
 * daemon. Used by the demo and the end-to-end tests, and by an operator who
 * wants to look at or poke the fast path directly.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "fastpath.h"
#include "log.h"
#include "netaddr.h"

struct args {
	const char *pin_dir;
	const char *devs[8];
	int ndevs;
	int mode;
	struct sockaddr_storage local, remote, src, dst;
	int have_local, have_remote, have_src, have_dst;
	const char *out_dev;
	unsigned char smac[6], dmac[6];
	int fib, strict, rtp_stats, to_userspace;
	unsigned vlan, ttl, max_flows, rtp_khz;
};

static int cmd_attach(struct args *a);
static int cmd_detach(struct args *a);
static int cmd_flow_add(struct args *a);
static int cmd_flow_del(struct args *a);
static int cmd_flow_get(struct args *a);
static int cmd_flow_list(struct args *a);
static int cmd_port_add(struct args *a);
static int cmd_stats(struct args *a);
static int cmd_unpin(struct args *a);

static const struct command {
	const char *name;
	int (*run)(struct args *a);
	const char *usage;
} commands[] = {
	{ "attach", cmd_attach, "--dev IF [--dev IF ...] --mode xdp|xdp-generic|tc "
	  "[--max-flows N] [--ttl N]\n\tload the program, pin its maps, attach" },
	{ "detach", cmd_detach, "--dev IF [--dev IF ...] --mode MODE\n\t"
	  "detach xrelay's program" },
	{ "flow-add", cmd_flow_add, "--local A:P --remote A:P --src A:P --dst A:P "
	  "(--out-dev IF --smac MAC --dmac MAC | --fib) [--vlan N] [--ttl N] "
	  "[--rtp-stats [--rtp-khz N]] [--to-userspace]\n\tforward packets from "
	  "remote to local as src -> dst" },
	{ "flow-del", cmd_flow_del, "--local A:P --remote A:P" },
	{ "flow-get", cmd_flow_get, "--local A:P --remote A:P\n\tone flow's "
	  "counters as packets=, bytes=, last_seen_ns=, flags=, rtp_received=, "
	  "rtp_ssrc= lines" },
	{ "flow-list", cmd_flow_list, "\n\tevery flow with its counters" },
	{ "port-add", cmd_port_add, "--local A:P [--strict]\n\tmark a relay port "
	  "latched (foreign sources are then counted, dropped if strict)" },
	{ "stats", cmd_stats, "\n\tpackets and bytes per reason" },
	{ "unpin", cmd_unpin, "\n\tremove the pinned maps" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: xrelay-fp COMMAND [--pin-dir DIR] [-v] OPTIONS\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s %s\n", commands[i].name, commands[i].usage);
}

static int die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "xrelay-fp: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	return 2;
}

static int parse_addr(const char *s, struct sockaddr_storage *ss, int *have)
{
	if (netaddr_parse(s, -1, ss) < 0)
		return -1;
	*have = 1;
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "pin-dir", 1, 0, 'p' }, { "dev", 1, 0, 'd' },
		{ "mode", 1, 0, 'm' }, { "local", 1, 0, 'l' },
		{ "remote", 1, 0, 'r' }, { "src", 1, 0, 's' },
		{ "dst", 1, 0, 't' }, { "out-dev", 1, 0, 'o' },
		{ "smac", 1, 0, 'S' }, { "dmac", 1, 0, 'D' },
		{ "fib", 0, 0, 'f' }, { "vlan", 1, 0, 'V' },
		{ "ttl", 1, 0, 'T' }, { "strict", 0, 0, 'x' },
		{ "rtp-stats", 0, 0, 'R' }, { "rtp-khz", 1, 0, 'K' },
		{ "to-userspace", 0, 0, 'u' }, { "max-flows", 1, 0, 'M' },
		{ "verbose", 0, 0, 'v' }, { 0, 0, 0, 0 },
	};
	int c;

	a->mode = -1;
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 'p': a->pin_dir = optarg; break;
		case 'd':
			if (a->ndevs == 8)
				return die_usage("at most 8 --dev%s", "");
			a->devs[a->ndevs++] = optarg;
			break;
		case 'm':
			a->mode = attach_mode_parse(optarg);
			if (a->mode < 0)
				return die_usage("unknown mode '%s' (xdp, "
						 "xdp-generic, tc)", optarg);
			break;
		case 'l': if (parse_addr(optarg, &a->local, &a->have_local)) goto bad; break;
		case 'r': if (parse_addr(optarg, &a->remote, &a->have_remote)) goto bad; break;
		case 's': if (parse_addr(optarg, &a->src, &a->have_src)) goto bad; break;
		case 't': if (parse_addr(optarg, &a->dst, &a->have_dst)) goto bad; break;
		case 'o': a->out_dev = optarg; break;
		case 'S': if (netaddr_parse_mac(optarg, a->smac)) goto badmac; break;
		case 'D': if (netaddr_parse_mac(optarg, a->dmac)) goto badmac; break;
		case 'f': a->fib = 1; break;
		case 'V': a->vlan = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'T': a->ttl = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'x': a->strict = 1; break;
		case 'R': a->rtp_stats = 1; break;
		case 'K': a->rtp_khz = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'u': a->to_userspace = 1; break;
		case 'M': a->max_flows = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'v': log_set_level(LOG_DEBUG); break;
		default: usage(stderr); return 2;
		}
	}
	if (a->vlan > 4094 || a->ttl > 255)
		return die_usage("--vlan is 0..4094 and --ttl 0..255%s", "");
	return 0;
bad:
	return die_usage("'%s' is not an address:port "
			 "(192.0.2.1:4000 or [2001:db8::1]:4000)", optarg);
badmac:
	return die_usage("'%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", optarg);
}

static int dev_index(const char *name)
{
	int idx = (int)if_nametoindex(name);

	if (!idx)
		fprintf(stderr, "xrelay-fp: no interface '%s' here\n", name);
	return idx;
}

static int cmd_attach(struct args *a)
{
	struct fastpath_opts o = { .pin_dir = a->pin_dir, .ttl = (__u8)a->ttl,
				   .max_flows = a->max_flows };
	struct fastpath *fp;
	char err[256];
	int rc;

	if (!a->ndevs || a->mode <= 0)
		return die_usage("attach needs --dev and --mode%s", "");
	rc = fastpath_load(&fp, &o, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "xrelay-fp: %s\n", err);
		return 1;
	}
	for (int i = 0; i < a->ndevs && !rc; i++) {
		int idx = dev_index(a->devs[i]);

		if (!idx) {
			rc = 1;
			break;
		}
		rc = fastpath_attach(fp, idx, a->mode, err, sizeof(err));
		if (rc)
			fprintf(stderr, "xrelay-fp: %s\n", err);
		else
			printf("attached %s to %s\n", attach_mode_name(a->mode),
			       a->devs[i]);
	}
	fastpath_close(fp);
	return rc ? 1 : 0;
}

static int cmd_detach(struct args *a)
{
	int rc = 0;

	if (!a->ndevs || a->mode <= 0)
		return die_usage("detach needs --dev and --mode%s", "");
	for (int i = 0; i < a->ndevs; i++) {
		int idx = dev_index(a->devs[i]);

		if (!idx || fastpath_detach(idx, a->mode)) {
			fprintf(stderr, "xrelay-fp: detaching from %s failed\n",
				a->devs[i]);
			rc = 1;
		}
	}
	return rc;
}

static struct fastpath *open_maps(struct args *a)
{
	struct fastpath *fp;
	char err[256];

	if (fastpath_open_pinned(&fp, a->pin_dir, err, sizeof(err))) {
		fprintf(stderr, "xrelay-fp: %s\n", err);
		return NULL;
	}
	return fp;
}

static int flow_key(struct args *a, struct xr_flow_key *k)
{
	if (!a->have_local || !a->have_remote)
		return die_usage("needs --local and --remote%s", "");
	if (fastpath_flow_key(k, (void *)&a->local, (void *)&a->remote))
		return die_usage("--local and --remote differ in family%s", "");
	return 0;
}

static int cmd_flow_add(struct args *a)
{
	struct xr_flow_key k;
	struct xr_flow v = { 0 };
	struct fastpath *fp;
	int rc;

	if ((rc = flow_key(a, &k)))
		return rc;
	if (!a->have_src || !a->have_dst)
		return die_usage("flow-add needs --src and --dst%s", "");
	if (!a->fib && !a->out_dev)
		return die_usage("flow-add needs --out-dev with MACs, or --fib%s", "");
	if (fastpath_flow_rewrite(&v, (void *)&a->src, (void *)&a->dst))
		return die_usage("--src and --dst differ in family%s", "");
	v.ttl = (__u8)a->ttl;
	v.vlan_id = (__u16)a->vlan;
	v.flags = (a->fib ? XR_FLOW_F_FIB : 0) |
		  (a->rtp_stats ? XR_FLOW_F_RTP_STATS : 0) |
		  (a->to_userspace ? XR_FLOW_F_TO_USERSPACE : 0);
	v.rtp_clock_khz = (__u16)a->rtp_khz;
	if (a->out_dev && !(v.ifindex = (__u32)dev_index(a->out_dev)))
		return 1;
	memcpy(v.smac, a->smac, 6);
	memcpy(v.dmac, a->dmac, 6);
	if (!(fp = open_maps(a)))
		return 1;
	rc = fastpath_flow_put(fp, &k, &v);
	if (rc)
		fprintf(stderr, "xrelay-fp: adding the flow failed: %s\n",
			strerror(-rc));
	fastpath_close(fp);
	return rc ? 1 : 0;
}

static int cmd_flow_del(struct args *a)
{
	struct xr_flow_key k;
	struct fastpath *fp;
	int rc;

	if ((rc = flow_key(a, &k)))
		return rc;
	if (!(fp = open_maps(a)))
		return 1;
	rc = fastpath_flow_del(fp, &k);
	if (rc)
		fprintf(stderr, "xrelay-fp: no such flow\n");
	fastpath_close(fp);
	return rc ? 1 : 0;
}

static int cmd_flow_get(struct args *a)
{
	struct xr_flow_key k;
	struct xr_flow v;
	struct fastpath *fp;
	int rc;

	if ((rc = flow_key(a, &k)))
		return rc;
	if (!(fp = open_maps(a)))
		return 1;
	rc = fastpath_flow_get(fp, &k, &v);
	fastpath_close(fp);
	if (rc) {
		fprintf(stderr, "xrelay-fp: no such flow\n");
		return 1;
	}
	printf("packets=%llu\nbytes=%llu\nlast_seen_ns=%llu\nflags=%u\n"
	       "rtp_received=%u\nrtp_ssrc=%u\n",
	       (unsigned long long)v.packets, (unsigned long long)v.bytes,
	       (unsigned long long)v.last_seen_ns, v.flags, v.rtp_received,
	       v.rtp_ssrc);
	return 0;
}

/* An ABI address and port as text. */
static const char *abi_str(const __u8 *addr, __u16 port, int family,
			   char *buf, size_t len)
{
	struct sockaddr_storage ss;

	fastpath_sockaddr(&ss, addr, port, family);
	return netaddr_str((struct sockaddr *)&ss, buf, len);
}

static int cmd_flow_list(struct args *a)
{
	struct xr_flow_key k, *prev = NULL;
	struct xr_flow v;
	struct fastpath *fp;
	char b1[NETADDR_STRLEN], b2[NETADDR_STRLEN], b3[NETADDR_STRLEN],
		b4[NETADDR_STRLEN];

	if (!(fp = open_maps(a)))
		return 1;
	printf("%-24s %-24s -> %-24s %-24s %10s %12s\n", "from", "to(relay)",
	       "src(relay)", "dst", "packets", "bytes");
	while (fastpath_flow_next(fp, prev, &k) == 0) {
		prev = &k;
		if (fastpath_flow_get(fp, &k, &v))
			continue;
		printf("%-24s %-24s -> %-24s %-24s %10llu %12llu\n",
		       abi_str(k.remote_addr, k.remote_port, k.family, b1, sizeof(b1)),
		       abi_str(k.local_addr, k.local_port, k.family, b2, sizeof(b2)),
		       abi_str(v.src_addr, v.src_port, v.family, b3, sizeof(b3)),
		       abi_str(v.dst_addr, v.dst_port, v.family, b4, sizeof(b4)),
		       (unsigned long long)v.packets,
		       (unsigned long long)v.bytes);
	}
	fastpath_close(fp);
	return 0;
}

static int cmd_port_add(struct args *a)
{
	struct xr_port v = { .flags = XR_PORT_F_LATCHED };
	struct xr_port_key k;
	struct fastpath *fp;
	int rc;

	if (!a->have_local || fastpath_port_key(&k, (void *)&a->local))
		return die_usage("port-add needs --local%s", "");
	if (a->strict)
		v.flags |= XR_PORT_F_STRICT;
	if (!(fp = open_maps(a)))
		return 1;
	rc = fastpath_port_put(fp, &k, &v);
	fastpath_close(fp);
	return rc ? 1 : 0;
}

static int cmd_stats(struct args *a)
{
	struct xr_stat st[XR_REASON_MAX];
	struct fastpath *fp;
	int rc;

	if (!(fp = open_maps(a)))
		return 1;
	rc = fastpath_stats(fp, st);
	fastpath_close(fp);
	if (rc)
		return 1;
	printf("%-24s %12s %14s\n", "reason", "packets", "bytes");
	for (unsigned r = 0; r < XR_REASON_MAX; r++)
		printf("%-24s %12llu %14llu\n", xr_reason_name(r),
		       (unsigned long long)st[r].packets,
		       (unsigned long long)st[r].bytes);
	return 0;
}

static int cmd_unpin(struct args *a)
{
	return fastpath_unpin(a->pin_dir) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	const char *cmd;
	int rc;

	log_libbpf_setup();
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	rc = parse_args(argc - 1, argv + 1, &a);
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].run(&a);
	fprintf(stderr, "xrelay-fp: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
