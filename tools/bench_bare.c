// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_bare: loads the bare prototype (tools/bench_bare.bpf.c), the
 * yardstick that tools/bench_media.sh (one call) and tools/bench_density.sh
 * (1,000 to 100,000 calls) set xrelay's XDP path against.
 *
 *   bench_bare flows --pin-dir DIR
 *       Prints, one a line, a --flow argument (a line of a --flows file)
 *       for each flow of xrelay pinned in DIR (xr_flows and the in-use
 *       entries of the IPv4 per-port array xr_fast4, if pinned) that the
 *       prototype can carry (IPv4, the egress stored in the entry,
 *       untagged, not for userspace): the same key and rewrite. xrelay also sets the TTL (64 by default,
 *       which is what bench_gen sends, so the bytes that leave are the
 *       same); the prototype leaves it. The others are counted on stderr.
 *
 *   bench_bare attach --dev IF [--dev IF ...] (--flow SPEC ... | --flows FILE)
 *                     [--max-flows N] [--table hash|array] [-v]
 *       SPEC: LOCAL:PORT,REMOTE:PORT,SRC:PORT,DST:PORT,OUT-IF,SMAC,DMAC
 *       (forward what REMOTE sends to LOCAL as SRC -> DST out of OUT-IF, a
 *       name or an ifindex in this namespace, with these MACs). FILE: one
 *       SPEC a line, what `flows` prints ("-": standard input), for more
 *       flows than a command line holds (tools/bench_density.sh: 200,000).
 *       Loads the program with a map of N entries (default: 65,536 or the
 *       flows, if more; a preallocated hash, as xrelay's xr_flows, whose
 *       size a fair comparison passes here), puts the flows into it, runs
 *       flows' frames through it once (BPF_PROG_TEST_RUN: every flow, or
 *       SELF_TEST_MAX spread over them when there are more) and compares
 *       the whole result with the frame built from scratch with the
 *       rewrite (checksums computed over the bytes), then attaches it to
 *       each IF in native XDP mode and prints prog_id=, map_id=,
 *       max_entries=, flows= and "ready". It stays in the foreground until
 *       SIGTERM, SIGINT or SIGHUP.
 *       --table array: the second program, bare_array, instead (see
 *       struct bare_port in tools/bench_bare.h): the flows' local
 *       addresses get a slot each in bare_addrs, and bare_ports one
 *       64-byte entry per (slot, port from the lowest local port of the
 *       flows to the highest): sized for what is present; --max-flows is
 *       ignored. Two flows to one local address and port are refused (an
 *       entry holds one peer). map_id= is then bare_ports's, and it also
 *       prints table=array, slots= and port_min=/port_span=.
 *
 * Nothing is pinned: the attachment is a BPF link that belongs to this
 * process, so however the process ends (a signal, a crash, kill -9) the
 * kernel detaches the program and frees its map. Ending it is the detach.
 *
 * Exit: 0 on success, 1 when loading, the self-test or attaching fails, 2
 * on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_bare.h"
#include "bench_util.h"
#include "bench_bare.skel.h"
#include "xrelay_abi.h"
#include "xr_pinned_flows.h"

#define MAX_DEVS 8
#define SELF_TEST_MAX 256 /* flows checked by BPF_PROG_TEST_RUN at most */
#define PAYLOAD 172 /* RTP header + 160 bytes of G.711: a 214-byte frame */
#define FRAME_LEN (ETH_LEN + IP_LEN + UDP_LEN + PAYLOAD)

struct flow {
	struct bare_key k;
	struct bare_flow v;
};

/* The flows to load: --flow arguments and --flows files, in order. */
struct flows {
	struct flow *v;
	int n, cap;
};

static int verbose;

static int usage(void)
{
	fprintf(stderr,
"usage: bench_bare flows --pin-dir DIR\n"
"       bench_bare attach --dev IF [--dev IF ...]\n"
"                         (--flow SPEC ... | --flows FILE) [--max-flows N]\n"
"                         [--table hash|array] [-v]\n"
"         SPEC: LOCAL:PORT,REMOTE:PORT,SRC:PORT,DST:PORT,OUT-IF,SMAC,DMAC\n"
"         FILE: a SPEC a line (what 'flows' prints); -: standard input\n");
	return 2;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* OUT-IF: a name here, or a number that must be an ifindex here. */
static int parse_if(const char *s, size_t len, __u32 *ifindex)
{
	char buf[IF_NAMESIZE + 1], name[IF_NAMESIZE], *end;
	unsigned long n;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	n = strtoul(buf, &end, 10);
	if (!*end) {
		if (n == 0 || n > UINT32_MAX || !if_indextoname((unsigned)n, name))
			return -1;
		*ifindex = (__u32)n;
		return 0;
	}
	*ifindex = if_nametoindex(buf);
	return *ifindex ? 0 : -1;
}

/* One SPEC (see the top) into a key and a value. */
static int parse_flow(const char *spec, struct flow *fl)
{
	const char *p = spec, *comma;
	size_t len;
	int i, rc = 0;

	memset(fl, 0, sizeof(*fl));
	for (i = 0; i < 7 && !rc; i++) {
		comma = strchr(p, ',');
		if ((i < 6) != (comma != NULL))
			return -1;
		len = comma ? (size_t)(comma - p) : strlen(p);
		switch (i) {
		case 0: rc = parse_ap(p, len, &fl->k.daddr, &fl->k.dport); break;
		case 1: rc = parse_ap(p, len, &fl->k.saddr, &fl->k.sport); break;
		case 2: rc = parse_ap(p, len, &fl->v.saddr, &fl->v.sport); break;
		case 3: rc = parse_ap(p, len, &fl->v.daddr, &fl->v.dport); break;
		case 4: rc = parse_if(p, len, &fl->v.ifindex); break;
		case 5: rc = parse_mac(p, len, fl->v.smac); break;
		case 6: rc = parse_mac(p, len, fl->v.dmac); break;
		}
		p = comma ? comma + 1 : p;
	}
	return rc;
}

/* One more flow (parsed from SPEC) at the end of fs; -1 on a bad SPEC,
 * -2 out of memory. */
static int flows_add(struct flows *fs, const char *spec)
{
	if (fs->n == fs->cap) {
		int cap = fs->cap ? 2 * fs->cap : 1024;
		struct flow *v = realloc(fs->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -2;
		fs->v = v;
		fs->cap = cap;
	}
	if (parse_flow(spec, &fs->v[fs->n]))
		return -1;
	fs->n++;
	return 0;
}

/* Every SPEC line of FILE ("-": stdin); blank lines and '#' comments are
 * skipped. 0, or 1 with the reason on stderr. */
static int flows_read(struct flows *fs, const char *file)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	char line[256];
	int lineno = 0, rc = 0;
	size_t len;

	if (!f) {
		fprintf(stderr, "bench_bare: %s: %s\n", file, strerror(errno));
		return 1;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		len = strcspn(line, "\r\n");
		if (!line[len] && !feof(f)) {
			fprintf(stderr, "bench_bare: %s:%d: line too long\n",
				file, lineno);
			rc = 1;
			break;
		}
		line[len] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		switch (flows_add(fs, line)) {
		case 0:
			break;
		case -2:
			fprintf(stderr, "bench_bare: out of memory at %s:%d\n",
				file, lineno);
			rc = 1;
			break;
		default:
			fprintf(stderr, "bench_bare: %s:%d: bad flow '%s' (an "
				"interface that is not here?)\n", file,
				lineno, line);
			rc = 1;
		}
	}
	if (!rc && ferror(f)) {
		fprintf(stderr, "bench_bare: %s: read error\n", file);
		rc = 1;
	}
	if (f != stdin)
		fclose(f);
	return rc;
}

static const char *ap_str(__u32 addr, __u16 port, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	snprintf(buf, len, "%s:%u", a, ntohs(port));
	return buf;
}

static const char *mac_str(const __u8 m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
	return buf;
}

/* ---- flows: xrelay's entries as --flow arguments ------------------------ */

struct flows_out {
	int n, skipped;
};

static int flows_one(const struct xr_flow_key *k, const struct xr_flow *v,
		     void *arg)
{
	struct flows_out *o = arg;
	char a[4][32], m[2][20];
	__u32 la, ra, sa, da;

	if (k->family != XR_AF_INET || v->family != XR_AF_INET ||
	    k->proto != XR_PROTO_UDP || v->vlan_id ||
	    (v->flags & (XR_FLOW_F_FIB | XR_FLOW_F_TO_USERSPACE))) {
		o->skipped++;
		return 0;
	}
	memcpy(&la, k->local_addr, 4);
	memcpy(&ra, k->remote_addr, 4);
	memcpy(&sa, v->src_addr, 4);
	memcpy(&da, v->dst_addr, 4);
	printf("%s,%s,%s,%s,%u,%s,%s\n",
	       ap_str(la, k->local_port, a[0], sizeof(a[0])),
	       ap_str(ra, k->remote_port, a[1], sizeof(a[1])),
	       ap_str(sa, v->src_port, a[2], sizeof(a[2])),
	       ap_str(da, v->dst_port, a[3], sizeof(a[3])), v->ifindex,
	       mac_str(v->smac, m[0], sizeof(m[0])),
	       mac_str(v->dmac, m[1], sizeof(m[1])));
	o->n++;
	return 0;
}

/* xr_flows and the in-use entries of xr_fast4 (xr_pinned_flows.h). */
static int cmd_flows(const char *pin_dir)
{
	struct flows_out o = { 0, 0 };

	if (xrp_flows_each(pin_dir, "bench_bare", flows_one, &o) < 0)
		return 1;
	if (o.skipped)
		fprintf(stderr, "bench_bare: %d of xrelay's flows skipped (IPv6, "
			"VLAN, FIB egress or to userspace: not for the "
			"prototype)\n", o.skipped);
	if (!o.n) {
		fprintf(stderr, "bench_bare: no flow in %s the prototype can "
			"carry\n", pin_dir);
		return 1;
	}
	return 0;
}

/* ---- attach ------------------------------------------------------------- */

/* A 214-byte Ethernet/IPv4/UDP/RTP frame from sa:sp to da:dp with every
 * checksum computed from scratch; udp_csum 0: sent without one. */
static void build_frame(__u8 *f, const __u8 *smac, const __u8 *dmac,
			__u32 sa, __u16 sp, __u32 da, __u16 dp, int udp_csum)
{
	__u8 *rtp = frame_headers(f, smac, dmac, sa, sp, da, dp, PAYLOAD);

	memset(rtp, 0xff, PAYLOAD);
	rtp[0] = 0x80, rtp[1] = 0, rtp[2] = 0x12, rtp[3] = 0x34;
	if (udp_csum)
		frame_udp_csum(f, PAYLOAD);
}

/*
 * The flow's frame through the program: the verdict must be a redirect
 * and the frame exactly the one built with the rewrite, with and without
 * a UDP checksum (which must stay 0). So the figures are those of a
 * program that does the work right.
 */
static int self_test(int prog_fd, const struct flow *fl)
{
	static const __u8 peer_mac[6] = { 2, 0, 0, 0, 0, 1 };
	static const __u8 our_mac[6] = { 2, 0, 0, 0, 0, 2 };
	__u8 in[FRAME_LEN], want[FRAME_LEN], out[FRAME_LEN + 64];
	char a[32];

	for (int csum = 1; csum >= 0; csum--) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in,
			    .data_size_in = sizeof(in), .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);
		int err;

		build_frame(in, peer_mac, our_mac, fl->k.saddr, fl->k.sport,
			    fl->k.daddr, fl->k.dport, csum);
		build_frame(want, fl->v.smac, fl->v.dmac, fl->v.saddr,
			    fl->v.sport, fl->v.daddr, fl->v.dport, csum);
		err = bpf_prog_test_run_opts(prog_fd, &o);
		if (err) {
			fprintf(stderr, "bench_bare: test run: %s\n",
				strerror(errno));
			return -1;
		}
		if (o.retval != XDP_REDIRECT || o.data_size_out != FRAME_LEN ||
		    memcmp(out, want, FRAME_LEN)) {
			fprintf(stderr, "bench_bare: self-test of the flow to "
				"%s failed (%s UDP checksum): verdict %u (want "
				"%u, XDP_REDIRECT), %u bytes, frame %s\n",
				ap_str(fl->k.daddr, fl->k.dport, a, sizeof(a)),
				csum ? "with" : "without", o.retval,
				XDP_REDIRECT, o.data_size_out,
				memcmp(out, want, FRAME_LEN) ? "differs" :
							      "as expected");
			return -1;
		}
	}
	return 0;
}

/* --table array: the flows' local addresses into bare_addrs (a slot each,
 * in order of appearance), each flow into its entry of bare_ports. */
static int fill_array(struct bench_bare_bpf *skel, const struct flows *fs,
		      __u32 nslots, const __u32 *addrs)
{
	int afd = bpf_map__fd(skel->maps.bare_addrs);
	int pfd = bpf_map__fd(skel->maps.bare_ports);
	__u32 pmin = skel->rodata->port_min, span = skel->rodata->port_span;
	struct bare_port e, old;
	char a[32];

	for (__u32 i = 0; i < nslots; i++)
		if (bpf_map_update_elem(afd, &addrs[i], &i, BPF_ANY)) {
			fprintf(stderr, "bench_bare: bare_addrs: %s\n",
				strerror(errno));
			return -1;
		}
	for (int i = 0; i < fs->n; i++) {
		const struct flow *fl = &fs->v[i];
		__u32 slot = 0, idx;

		while (addrs[slot] != fl->k.daddr)
			slot++;
		idx = slot * span + (ntohs(fl->k.dport) - pmin);
		if (bpf_map_lookup_elem(pfd, &idx, &old) == 0 &&
		    old.f.ifindex) {
			fprintf(stderr, "bench_bare: flow %d: %s has a peer "
				"already (an entry holds one)\n", i + 1,
				ap_str(fl->k.daddr, fl->k.dport, a, sizeof(a)));
			return -1;
		}
		memset(&e, 0, sizeof(e));
		e.peer_saddr = fl->k.saddr;
		e.peer_sport = fl->k.sport;
		e.f = fl->v;
		if (bpf_map_update_elem(pfd, &idx, &e, BPF_ANY)) {
			fprintf(stderr, "bench_bare: flow %d: %s\n", i + 1,
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int cmd_attach(char **devs, int ndev, const struct flows *fs,
		      __u32 max_flows, int array)
{
	__u32 addrs[BARE_MAX_ADDRS], nslots = 0, pmin = 65535, pmax = 0;
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_DRV_MODE);
	struct bench_bare_bpf *skel;
	struct bpf_prog_info info;
	struct bpf_map_info minfo;
	__u32 info_len = sizeof(info), minfo_len = sizeof(minfo);
	int ifindex[MAX_DEVS], links[MAX_DEVS], nlinks = 0;
	int map_fd, prog_fd, rc = 1, sig, step, ntest = 0;
	sigset_t set;

	for (int d = 0; d < ndev; d++) {
		ifindex[d] = (int)if_nametoindex(devs[d]);
		if (!ifindex[d]) {
			fprintf(stderr, "bench_bare: no interface %s here\n",
				devs[d]);
			return 1;
		}
	}
	if (array) {
		for (int i = 0; i < fs->n; i++) {
			__u32 j = 0, p = ntohs(fs->v[i].k.dport);

			while (j < nslots && addrs[j] != fs->v[i].k.daddr)
				j++;
			if (j == nslots) {
				if (nslots == BARE_MAX_ADDRS) {
					fprintf(stderr, "bench_bare: more than "
						"%d local addresses\n",
						BARE_MAX_ADDRS);
					return 2;
				}
				addrs[nslots++] = fs->v[i].k.daddr;
			}
			pmin = p < pmin ? p : pmin;
			pmax = p > pmax ? p : pmax;
		}
		max_flows = (__u32)fs->n;
	}
	if (!max_flows)
		max_flows = fs->n > BARE_MAX_FLOWS ? (__u32)fs->n :
						     BARE_MAX_FLOWS;
	if ((__u32)fs->n > max_flows) {
		fprintf(stderr, "bench_bare: %d flows do not fit a map of "
			"--max-flows %u\n", fs->n, max_flows);
		return 2;
	}
	/* Block the signals that end us before there is anything to undo,
	 * and take them with sigwait: the links are closed on every path. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);

	skel = bench_bare_bpf__open();
	if (!skel) {
		fprintf(stderr, "bench_bare: cannot open the program: %s\n",
			strerror(errno));
		return 1;
	}
	if (array) {
		skel->rodata->port_min = pmin;
		skel->rodata->port_span = pmax - pmin + 1;
	}
	/* The other program's maps at their least: only one is loaded. */
	if (bpf_program__set_autoload(array ? skel->progs.bench_bare :
				      skel->progs.bench_bare_array, false) ||
	    bpf_map__set_max_entries(skel->maps.bare_flows,
				     array ? 1 : max_flows) ||
	    bpf_map__set_max_entries(skel->maps.bare_addrs,
				     array ? nslots : 1) ||
	    bpf_map__set_max_entries(skel->maps.bare_ports,
				     array ? nslots * (pmax - pmin + 1) : 1) ||
	    bench_bare_bpf__load(skel)) {
		fprintf(stderr, "bench_bare: cannot load the program with a map "
			"of %u %s: %s\n", array ?
			nslots * (pmax - pmin + 1) : max_flows,
			array ? "ports" : "flows", strerror(errno));
		goto out;
	}
	map_fd = bpf_map__fd(array ? skel->maps.bare_ports :
				     skel->maps.bare_flows);
	prog_fd = bpf_program__fd(array ? skel->progs.bench_bare_array :
					  skel->progs.bench_bare);
	if (array && fill_array(skel, fs, nslots, addrs))
		goto out;
	for (int i = 0; i < fs->n && !array; i++) {
		if (bpf_map_update_elem(map_fd, &fs->v[i].k, &fs->v[i].v,
					BPF_ANY)) {
			fprintf(stderr, "bench_bare: flow %d: %s\n", i + 1,
				strerror(errno));
			goto out;
		}
	}
	/* Every flow, or SELF_TEST_MAX of them spread over all (the first
	 * and, with the rounding, about the last): the same code for each. */
	step = fs->n > SELF_TEST_MAX ? fs->n / SELF_TEST_MAX : 1;
	for (int i = 0; i < fs->n && ntest < SELF_TEST_MAX; i += step, ntest++)
		if (self_test(prog_fd, &fs->v[i]))
			goto out;
	for (int d = 0; d < ndev; d++) {
		links[nlinks] = bpf_link_create(prog_fd, ifindex[d], BPF_XDP, &lo);
		if (links[nlinks] < 0) {
			fprintf(stderr, "bench_bare: cannot attach to %s in "
				"native XDP mode: %s%s\n", devs[d],
				strerror(errno),
				errno == EBUSY || errno == EEXIST ?
				" (another XDP program holds it: detach that "
				"first)" : "");
			goto out;
		}
		nlinks++;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &info_len) == 0)
		printf("prog_id=%u\n", info.id);
	memset(&minfo, 0, sizeof(minfo));
	if (bpf_obj_get_info_by_fd(map_fd, &minfo, &minfo_len) == 0)
		printf("map_id=%u\nmax_entries=%u\n", minfo.id,
		       minfo.max_entries);
	if (array)
		printf("table=array\nslots=%u\nport_min=%u\nport_span=%u\n",
		       nslots, pmin, pmax - pmin + 1);
	printf("flows=%d\nself_tested=%d\nready\n", fs->n, ntest);
	fflush(stdout);
	while (sigwait(&set, &sig) == 0 && sig != SIGTERM && sig != SIGINT &&
	       sig != SIGHUP)
		;
	rc = 0;
out:
	while (nlinks > 0)
		close(links[--nlinks]); /* the detach */
	bench_bare_bpf__destroy(skel);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", 1, 0, 'd' }, { "flow", 1, 0, 'f' },
		{ "flows", 1, 0, 'F' }, { "max-flows", 1, 0, 'm' },
		{ "pin-dir", 1, 0, 'p' }, { "verbose", 0, 0, 'v' },
		{ "table", 1, 0, 't' },
		{ 0, 0, 0, 0 },
	};
	struct flows fs = { 0 };
	char *devs[MAX_DEVS], *end;
	const char *pin_dir = NULL, *cmd;
	unsigned long max_flows = 0;
	int ndev = 0, c, rc, array = 0;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (ndev == MAX_DEVS) {
				fprintf(stderr, "bench_bare: at most %d --dev\n",
					MAX_DEVS);
				return 2;
			}
			devs[ndev++] = optarg;
			break;
		case 'p': pin_dir = optarg; break;
		case 'v': verbose = 1; break;
		case 't':
			if (strcmp(optarg, "hash") && strcmp(optarg, "array")) {
				fprintf(stderr, "bench_bare: --table hash or "
					"array, not '%s'\n", optarg);
				return 2;
			}
			array = !strcmp(optarg, "array");
			break;
		case 'm':
			max_flows = strtoul(optarg, &end, 10);
			if (*end || !max_flows || max_flows > UINT32_MAX) {
				fprintf(stderr, "bench_bare: bad --max-flows "
					"'%s'\n", optarg);
				return 2;
			}
			break;
		case 'f':
			rc = flows_add(&fs, optarg);
			if (rc) {
				fprintf(stderr, "bench_bare: %s '%s'%s\n",
					rc == -2 ? "out of memory at --flow" :
						   "bad --flow", optarg,
					rc == -2 ? "" :
					" (an interface that is not here?)");
				return 2;
			}
			break;
		case 'F':
			if (flows_read(&fs, optarg))
				return 2;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc)
		return usage();
	libbpf_set_print(print_libbpf);
	if (!strcmp(cmd, "flows"))
		return pin_dir ? cmd_flows(pin_dir) : usage();
	if (!strcmp(cmd, "attach")) {
		if (!ndev || !fs.n) {
			if (ndev && !fs.n)
				fprintf(stderr, "bench_bare: no flow given\n");
			return usage();
		}
		rc = cmd_attach(devs, ndev, &fs, (__u32)max_flows, array);
		free(fs.v);
		return rc;
	}
	return usage();
}
