// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_prog: the per-packet cost of xrelay's XDP and TC programs as the
 * flow map grows, through BPF_PROG_TEST_RUN (no NIC, no traffic).
 *
 * Three private instances are loaded (pin dirs
 * /sys/fs/bpf/xrbench-<pid>/{1k,100k,1m}, removed at the end, on errors and
 * on SIGINT/SIGTERM too), each with room for 1.1M flows (same hash buckets;
 * about 0.25 GB of kernel memory each, preallocated), and their xr_flows
 * are filled to 1k, 100k and 1M entries, half IPv4 and half IPv6, every
 * one a distinct 5-tuple. For both programs and both families:
 *
 *   hit        a 214-byte G.711 RTP frame (234 bytes for IPv6) that matches
 *              a flow: parse, lookup, RTP statistics, rewrite, checksums,
 *              counters, verdict. One bpf_prog_test_run_opts() call per
 *              flow with .repeat = REPEAT, over KEYS flows spread across
 *              the table; the figure is opts.duration (the kernel's average
 *              ns per run), the median over the flows. The same flow for
 *              REPEAT packets: its bucket and entry stay in the CPU cache.
 *   miss       the same frame for a 5-tuple with no flow (falls through to
 *              the xr_ports lookup and XDP_PASS / TC_ACT_OK): the reference.
 *   hit-cold   one packet per call (.repeat = 1) for COLD_KEYS flows drawn
 *              at random from the whole table, as when every packet belongs
 *              to another call: in a large table the flow's bucket and
 *              entry are then not in the CPU cache (nor their page in the
 *              TLB). The median of the calls. Includes one clock read of
 *              the kernel's timer, and at XDP an indirect call where the
 *              repeated runs get a direct one (the kernel's XDP dispatcher
 *              is only set up for .repeat > 1).
 *   miss-cold  the same for absent 5-tuples.
 *   empty      (not per size) a program that only returns XDP_PASS /
 *              TC_ACT_OK, run like "hit": the floor of the test-run loop
 *              itself, to be subtracted in one's head from the others.
 *
 * Each figure is the median of ROUNDS rounds. The three sizes are measured
 * interleaved, call by call (see measure()), and the 1M/1k ratio is the
 * median of the per-round ratios, so that the slow phases of a shared
 * machine hit all sizes alike instead of bending the ratio.
 *
 * The flows rewrite a packet into itself (new source = old source, new
 * destination = old destination, same MACs and TTL): the program does all
 * its work, but with .repeat the kernel runs it again on the already
 * rewritten frame, which must still match the same flow. Every call's
 * verdict is checked (forwarded for a hit, passed for a miss), so a figure
 * never silently measures the wrong path.
 *
 * Output: a table on stdout, and with -o FILE a JSON list, one object per
 * line: {"name":..., "value":..., "unit":..., "path":..., "n":...}
 * (see tools/bench.sh, which merges such fragments into build/bench.json).
 *
 * Usage: bench_prog [-o FILE] [-r ROUNDS] [-R REPEAT]      (as root)
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "fastpath.h"
#include "log.h"

#define MAX_FLOWS   1100000u
#define MISS_BASE   1050000u /* indices from here on are never inserted */
#define KEYS        8        /* flows per hot measurement */
#define COLD_KEYS   1000     /* packets per cold measurement */
#define ROUNDS_MAX  31
#define FILL_CHUNK  8192
#define FLOW_IFINDEX 1       /* = the test run's ingress (lo): XDP_TX */
#define TC_ACT_OK_  0
#define TC_ACT_REDIRECT_ 7

#define RTP_PAYLOAD 160      /* 20 ms of G.711 at 8 kHz */
#define FRAME_MAX   256

static const unsigned sizes[] = { 1000, 100000, 1000000 };
static const char *const size_names[] = { "1k", "100k", "1m" };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

enum { PR_XDP, PR_TC, NPROGS };
enum { FA_V4, FA_V6, NFAMS };
enum { CA_HIT, CA_MISS, CA_HIT_COLD, CA_MISS_COLD, NCASES };

static const char *const prog_names[NPROGS] = { "xdp", "tc" };
static const char *const fam_names[NFAMS] = { "ipv4", "ipv6" };
static const char *const case_names[NCASES] = { "hit", "miss", "hit-cold",
						"miss-cold" };

static const __u8 relay_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const __u8 peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* ---- flows and frames ------------------------------------------------------ */

/*
 * Flow i: even i IPv4, odd i IPv6. The relay side is one address and a
 * port of its pool, the peer side an address derived from i (unique up to
 * 2^24), so every i is a distinct 5-tuple.
 */
static void flow_key(unsigned i, struct xr_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->proto = XR_PROTO_UDP;
	k->local_port = htons(10000 + ((i >> 1) % 25000) * 2);
	k->remote_port = htons(20000 + (i % 10000) * 2);
	if (!(i & 1)) {
		k->family = XR_AF_INET;
		k->local_addr[0] = 203, k->local_addr[1] = 0;
		k->local_addr[2] = 113, k->local_addr[3] = 1;
		k->remote_addr[0] = 10;
		k->remote_addr[1] = (i >> 16) & 0xff;
		k->remote_addr[2] = (i >> 8) & 0xff;
		k->remote_addr[3] = i & 0xff;
	} else {
		static const __u8 relay6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1,
						 [15] = 1 };

		k->family = XR_AF_INET6;
		memcpy(k->local_addr, relay6, 16);
		k->remote_addr[0] = 0x20, k->remote_addr[1] = 0x01;
		k->remote_addr[2] = 0x0d, k->remote_addr[3] = 0xb8;
		k->remote_addr[5] = 2;
		k->remote_addr[12] = (i >> 24) & 0xff;
		k->remote_addr[13] = (i >> 16) & 0xff;
		k->remote_addr[14] = (i >> 8) & 0xff;
		k->remote_addr[15] = i & 0xff;
	}
}

/* The rewrite into itself: see the comment at the top. */
static void flow_value(const struct xr_flow_key *k, struct xr_flow *v)
{
	memset(v, 0, sizeof(*v));
	memcpy(v->src_addr, k->remote_addr, 16);
	memcpy(v->dst_addr, k->local_addr, 16);
	v->src_port = k->remote_port;
	v->dst_port = k->local_port;
	v->family = k->family;
	v->ttl = 64;
	v->flags = XR_FLOW_F_RTP_STATS;
	v->rtp_clock_khz = 8;
	v->ifindex = FLOW_IFINDEX;
	memcpy(v->smac, peer_mac, 6);
	memcpy(v->dmac, relay_mac, 6);
}

static __u32 csum_add(__u32 sum, const void *buf, size_t len)
{
	const __u8 *b = buf;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (__u32)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (__u32)b[len - 1] << 8;
	return sum;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* A G.711 RTP frame from the peer to the relay for key k; returns its size. */
static size_t build_frame(__u8 *f, const struct xr_flow_key *k, unsigned seq)
{
	size_t l3 = 14, l4, ulen = 8 + 12 + RTP_PAYLOAD, ip_hlen;
	__u8 *udp, *rtp;
	__u32 sum;

	memset(f, 0, FRAME_MAX);
	memcpy(f, relay_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	if (k->family == XR_AF_INET) {
		__u8 *ip = f + l3;

		f[12] = 0x08, f[13] = 0x00;
		ip_hlen = 20;
		ip[0] = 0x45;
		ip[1] = 0xb8; /* DSCP EF */
		ip[2] = (ip_hlen + ulen) >> 8, ip[3] = (ip_hlen + ulen) & 0xff;
		ip[4] = seq >> 8, ip[5] = seq & 0xff;
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = XR_PROTO_UDP;
		memcpy(ip + 12, k->remote_addr, 4);
		memcpy(ip + 16, k->local_addr, 4);
		sum = csum_fold(csum_add(0, ip, ip_hlen));
		ip[10] = sum >> 8, ip[11] = sum & 0xff;
	} else {
		__u8 *ip6 = f + l3;

		f[12] = 0x86, f[13] = 0xdd;
		ip_hlen = 40;
		ip6[0] = 0x6b, ip6[1] = 0x80; /* traffic class EF */
		ip6[4] = ulen >> 8, ip6[5] = ulen & 0xff;
		ip6[6] = XR_PROTO_UDP;
		ip6[7] = 64;
		memcpy(ip6 + 8, k->remote_addr, 16);
		memcpy(ip6 + 24, k->local_addr, 16);
	}
	l4 = l3 + ip_hlen;
	udp = f + l4;
	memcpy(udp, &k->remote_port, 2);
	memcpy(udp + 2, &k->local_port, 2);
	udp[4] = ulen >> 8, udp[5] = ulen & 0xff;
	rtp = udp + 8;
	rtp[0] = 0x80;  /* V=2 */
	rtp[1] = 0;     /* PT 0: PCMU */
	rtp[2] = seq >> 8, rtp[3] = seq & 0xff;
	rtp[4] = 0, rtp[5] = 0, rtp[6] = (seq >> 8) & 0xff, rtp[7] = seq & 0xff;
	rtp[8] = 0x12, rtp[9] = 0x34, rtp[10] = 0x56, rtp[11] = 0x78;
	memset(rtp + 12, 0xff, RTP_PAYLOAD); /* mu-law silence */
	/* UDP checksum over the pseudo-header and the datagram. */
	if (k->family == XR_AF_INET)
		sum = csum_add(0, f + l3 + 12, 8);
	else
		sum = csum_add(0, f + l3 + 8, 32);
	sum += XR_PROTO_UDP + ulen;
	sum = csum_fold(csum_add(sum, udp, ulen));
	if (!sum)
		sum = 0xffff;
	udp[6] = sum >> 8, udp[7] = sum & 0xff;
	return l4 + ulen;
}

/* ---- filling the map ------------------------------------------------------- */

static int fill(int fd, unsigned from, unsigned to)
{
	static struct xr_flow_key keys[FILL_CHUNK];
	static struct xr_flow vals[FILL_CHUNK];
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .flags = BPF_NOEXIST);
	int batch = 1;

	for (unsigned i = from; i < to && !stop;) {
		__u32 n = to - i < FILL_CHUNK ? to - i : FILL_CHUNK, done = 0;

		for (__u32 j = 0; j < n; j++) {
			flow_key(i + j, &keys[j]);
			flow_value(&keys[j], &vals[j]);
		}
		if (batch) {
			done = n;
			if (!bpf_map_update_batch(fd, keys, vals, &done, &bo)) {
				i += n;
				continue;
			}
			if (errno != EINVAL && errno != ENOTSUP &&
			    errno != EOPNOTSUPP)
				return -errno;
			batch = 0; /* an old kernel: one by one */
			if (done > n)
				done = 0;
		}
		for (__u32 j = done; j < n; j++)
			if (bpf_map_update_elem(fd, &keys[j], &vals[j],
						BPF_NOEXIST))
				return -errno;
		i += n;
	}
	return stop ? -EINTR : 0;
}

/* ---- measuring ------------------------------------------------------------- */

/* One loaded instance per table size. Same max_flows everywhere: same
 * number of hash buckets, only the fill differs. */
struct inst {
	struct fastpath *fp;
	int fds[NPROGS];
	char pin[96];
};

/* samples[size][prog][fam][case][round], and the medians over rounds */
static double samples[NSIZES][NPROGS][NFAMS][NCASES][ROUNDS_MAX];
static double result[NSIZES][NPROGS][NFAMS][NCASES];
static double ratios[NPROGS][NFAMS][NCASES]; /* 1M/1k, paired per round */
static double empty_samples[NPROGS][ROUNDS_MAX], empty_result[NPROGS];

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v. */
static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int verdict_ok(int prog, int hit, __u32 retval)
{
	if (prog == PR_XDP)
		return hit ? retval == XDP_TX || retval == XDP_REDIRECT
			   : retval == XDP_PASS;
	return hit ? retval == TC_ACT_REDIRECT_ : retval == TC_ACT_OK_;
}

/* One test run; *ns = the kernel's average ns per run. */
static int run(int fd, int prog, int hit, const __u8 *frame, size_t len,
	       int repeat, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = (__u32)len, .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o)) {
		int rc = -errno;

		fprintf(stderr, "bench_prog: BPF_PROG_TEST_RUN failed: %s\n",
			strerror(-rc));
		return rc;
	}
	if (!verdict_ok(prog, hit, o.retval)) {
		fprintf(stderr, "bench_prog: %s %s: unexpected verdict %u: the "
			"frame does not take the path to be measured\n",
			prog_names[prog], hit ? "hit" : "miss", o.retval);
		return -EPROTO;
	}
	*ns = o.duration;
	return 0;
}

/* A program that returns pass at once: the test-run loop's own cost. */
static int load_empty(int prog)
{
	struct bpf_insn insns[2] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = prog == PR_XDP ? XDP_PASS : TC_ACT_OK_ },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(prog == PR_XDP ? BPF_PROG_TYPE_XDP
					      : BPF_PROG_TYPE_SCHED_CLS,
			       "xrbench_empty", "Dual BSD/GPL", insns, 2, NULL);

	if (fd < 0)
		fprintf(stderr, "bench_prog: loading an empty %s program "
			"failed: %s\n", prog_names[prog], strerror(errno));
	return fd;
}

static __u64 rnd_state = 0x9e3779b97f4a7c15ull;

static __u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Flow j of KEYS (hot), or a random one (cold), of a table of n entries;
 * a miss takes an index that is never inserted. */
static unsigned pick(unsigned n, int fam, int hit, int j)
{
	if (!hit)
		return MISS_BASE + (j >= 0 ? (unsigned)j :
				    (unsigned)(rnd() % 20000)) * 2 + fam;
	if (j < 0)
		return (unsigned)(rnd() % (n / 2)) * 2 + fam;
	return ((unsigned)((unsigned long)j * n / KEYS + n / (2 * KEYS)) & ~1u)
	       + fam;
}

/*
 * One round of one case of one program and family, for all sizes at once.
 * This machine (a VM) has slow phases; so the sizes are the innermost
 * loop, run within milliseconds of each other, starting each time with
 * another one, and a slow phase hits them alike instead of bending their
 * ratio.
 *   hot:  per size the median over KEYS flows of a run of `repeat`;
 *   cold: per size the median over COLD_KEYS runs of 1 of random flows.
 */
static int measure(const struct inst *in, int p, int f, int c, int r,
		   int repeat)
{
	static double v[NSIZES][COLD_KEYS];
	int cold = c == CA_HIT_COLD || c == CA_MISS_COLD;
	int hit = c == CA_HIT || c == CA_HIT_COLD;
	int calls = cold ? COLD_KEYS : KEYS;
	__u8 frame[FRAME_MAX];
	struct xr_flow_key k;
	size_t len;
	int rc;

	for (int j = 0; j < calls && !stop; j++)
		for (unsigned i = 0; i < NSIZES; i++) {
			unsigned s = (i + j + r) % NSIZES;

			flow_key(pick(sizes[s], f, hit, cold ? -1 : j), &k);
			len = build_frame(frame, &k, j);
			rc = run(in[s].fds[p], p, hit, frame, len,
				 cold ? 1 : repeat, &v[s][j]);
			if (rc)
				return rc;
		}
	for (unsigned s = 0; s < NSIZES; s++)
		samples[s][p][f][c][r] = median(v[s], calls);
	return stop ? -EINTR : 0;
}

/* The empty programs, like "hit". */
static int measure_empty(const int *fds, int r, int repeat)
{
	__u8 frame[FRAME_MAX];
	struct xr_flow_key k;
	double v[KEYS];
	size_t len;
	int rc;

	flow_key(0, &k);
	len = build_frame(frame, &k, 1);
	for (int p = 0; p < NPROGS; p++) {
		for (int j = 0; j < KEYS; j++) {
			rc = run(fds[p], p, 0, frame, len, repeat, &v[j]);
			if (rc)
				return rc;
		}
		empty_samples[p][r] = median(v, KEYS);
	}
	return 0;
}

/* ---- results ----------------------------------------------------------------- */

static void fig_name(char *buf, size_t len, int p, int f, int c,
		     const char *what)
{
	snprintf(buf, len, "prog.%s.%s.%s.%s", prog_names[p], fam_names[f],
		 case_names[c], what);
}

/* Medians and ratios. The ratio is the median of the per-round ratios:
 * 1M and 1k of one round were measured side by side. */
static void summarize(int rounds)
{
	double q[ROUNDS_MAX];

	for (int p = 0; p < NPROGS; p++)
		for (int f = 0; f < NFAMS; f++)
			for (int c = 0; c < NCASES; c++) {
				double *a = samples[0][p][f][c];
				double *b = samples[NSIZES - 1][p][f][c];

				for (int r = 0; r < rounds; r++)
					q[r] = a[r] > 0 ? b[r] / a[r] : 0;
				ratios[p][f][c] = median(q, rounds);
				for (unsigned s = 0; s < NSIZES; s++) {
					double t[ROUNDS_MAX];

					memcpy(t, samples[s][p][f][c],
					       sizeof(t));
					result[s][p][f][c] = median(t, rounds);
				}
			}
	for (int p = 0; p < NPROGS; p++) {
		double t[ROUNDS_MAX];

		memcpy(t, empty_samples[p], sizeof(t));
		empty_result[p] = median(t, rounds);
	}
}

static void row(const char *name, const char *entries, const char *prog,
		const char *fam, const double *samp, int rounds, double med)
{
	double lo = samp[0], hi = samp[0];

	for (int r = 1; r < rounds; r++) {
		lo = samp[r] < lo ? samp[r] : lo;
		hi = samp[r] > hi ? samp[r] : hi;
	}
	printf("%-28s %8s  %-4s  %-4s  %9.1f  %7.1f  %5.0f%%\n", name,
	       entries, prog, fam, med, lo, med > 0 ? 100 * (hi - lo) / med
						    : 0);
}

static void print_table(int rounds)
{
	char name[96], entries[16];

	printf("%-28s %8s  %-4s  %-4s  %9s  %7s  %6s\n", "name", "entries",
	       "prog", "fam", "ns/packet", "min", "spread");
	for (int p = 0; p < NPROGS; p++) {
		snprintf(name, sizeof(name), "prog.%s.empty", prog_names[p]);
		row(name, "-", prog_names[p], "-", empty_samples[p], rounds,
		    empty_result[p]);
	}
	for (int c = 0; c < NCASES; c++)
		for (int p = 0; p < NPROGS; p++)
			for (int f = 0; f < NFAMS; f++)
				for (unsigned s = 0; s < NSIZES; s++) {
					fig_name(name, sizeof(name), p, f, c,
						 size_names[s]);
					snprintf(entries, sizeof(entries),
						 "%u", sizes[s]);
					row(name, entries, prog_names[p],
					    fam_names[f], samples[s][p][f][c],
					    rounds, result[s][p][f][c]);
				}
	printf("\nper-packet cost with 1M entries / with 1k entries "
	       "(1.00 = flat; median of the per-round ratios)\n");
	for (int c = 0; c < NCASES; c++)
		for (int p = 0; p < NPROGS; p++)
			for (int f = 0; f < NFAMS; f++) {
				fig_name(name, sizeof(name), p, f, c,
					 "ratio_1m_1k");
				printf("%-36s %5.2f   (medians %6.1f -> %6.1f "
				       "ns)\n", name, ratios[p][f][c],
				       result[0][p][f][c],
				       result[NSIZES - 1][p][f][c]);
			}
}

static void json_obj(FILE *f, int *first, const char *name, double value,
		     const char *unit, const char *path, int n)
{
	fprintf(f, "%s{\"name\": \"%s\", \"value\": %.3f, \"unit\": \"%s\", "
		"\"path\": \"%s\", \"n\": %d}", *first ? "" : ",\n", name,
		value, unit, path, n);
	*first = 0;
}

static int write_json(const char *path, int rounds)
{
	char name[96], tmp[512];
	int first = 1;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "bench_prog: cannot write %s: %s\n", tmp,
			strerror(errno));
		return -1;
	}
	fputs("[\n", f);
	for (int p = 0; p < NPROGS; p++) {
		snprintf(name, sizeof(name), "prog.%s.empty", prog_names[p]);
		json_obj(f, &first, name, empty_result[p], "ns/packet",
			 prog_names[p], rounds);
	}
	for (int c = 0; c < NCASES; c++)
		for (int p = 0; p < NPROGS; p++)
			for (int fa = 0; fa < NFAMS; fa++) {
				for (unsigned s = 0; s < NSIZES; s++) {
					fig_name(name, sizeof(name), p, fa, c,
						 size_names[s]);
					json_obj(f, &first, name,
						 result[s][p][fa][c],
						 "ns/packet", prog_names[p],
						 rounds);
				}
				fig_name(name, sizeof(name), p, fa, c,
					 "ratio_1m_1k");
				json_obj(f, &first, name, ratios[p][fa][c],
					 "ratio", prog_names[p], rounds);
			}
	fputs("\n]\n", f);
	if (fclose(f) || rename(tmp, path)) {
		fprintf(stderr, "bench_prog: cannot write %s: %s\n", path,
			strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- main -------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out, "usage: bench_prog [-o FILE] [-r ROUNDS] [-R REPEAT]\n"
		"  -o FILE    also write the figures as a JSON list to FILE\n"
		"  -r ROUNDS  rounds per figure, the median is reported "
		"(default 11, max %d)\n"
		"  -R REPEAT  packets per test run for hit/miss/empty "
		"(default 20000)\n", ROUNDS_MAX);
}

static void pin_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set); /* best effort */
}

static int setup(struct inst *in, const char *dir, unsigned s)
{
	struct fastpath_opts fo = { .max_flows = MAX_FLOWS };
	char err[512] = "";
	int rc;

	snprintf(in->pin, sizeof(in->pin), "%s/%s", dir, size_names[s]);
	fo.pin_dir = in->pin;
	rc = fastpath_load(&in->fp, &fo, err, sizeof(err));
	if (rc) {
		in->fp = NULL;
		fprintf(stderr, "bench_prog: %s\n", err);
		return rc;
	}
	in->fds[PR_XDP] = fastpath_prog_fd(in->fp, ATTACH_XDP);
	in->fds[PR_TC] = fastpath_prog_fd(in->fp, ATTACH_TC);
	rc = fill(fastpath_flows_fd(in->fp), 0, sizes[s]);
	if (rc && rc != -EINTR)
		fprintf(stderr, "bench_prog: filling xr_flows to %u entries "
			"failed: %s\n", sizes[s], strerror(-rc));
	return rc;
}

static void teardown(struct inst *in)
{
	if (!in->pin[0])
		return;
	fastpath_close(in->fp);
	in->fp = NULL;
	if (fastpath_unpin(in->pin))
		fprintf(stderr, "bench_prog: could not remove %s: remove it "
			"by hand (rm -r %s)\n", in->pin, in->pin);
}

static double secs_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	int rounds = 11, repeat = 20000, opt, rc = 1;
	struct sigaction sa = { .sa_handler = on_signal };
	int empty_fds[NPROGS] = { -1, -1 };
	struct inst in[NSIZES] = { 0 };
	char dir[64];
	struct timespec t0;

	while ((opt = getopt(argc, argv, "o:r:R:h")) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'R':
			repeat = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (rounds < 1 || rounds > ROUNDS_MAX || repeat < 2) {
		usage(stderr);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench_prog: run as root (it loads BPF "
			"programs and pins maps under /sys/fs/bpf)\n");
		return 2;
	}
	log_libbpf_setup();
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* `| head` must not skip the cleanup */
	pin_cpu();
	clock_gettime(CLOCK_MONOTONIC, &t0);

	/* The private pin directory; fastpath_load() makes the leaves. */
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/xrbench-%d", (int)getpid());
	if (mkdir(dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "bench_prog: cannot create %s: %s (is bpffs "
			"mounted? mount -t bpf bpf /sys/fs/bpf)\n", dir,
			strerror(errno));
		goto out;
	}
	for (unsigned s = 0; s < NSIZES && !stop; s++)
		if (setup(&in[s], dir, s))
			goto out;
	for (int p = 0; p < NPROGS && !stop; p++)
		if ((empty_fds[p] = load_empty(p)) < 0)
			goto out;
	if (stop)
		goto out;
	printf("xrelay BPF program cost per packet (BPF_PROG_TEST_RUN), "
	       "median of %d rounds\n"
	       "frames: G.711 RTP, 214 bytes IPv4 / 234 bytes IPv6; "
	       "hit/miss/empty: %d flows x %d packets;\n"
	       "cold: %d calls of 1 packet, random flows; "
	       "min = fastest round, spread = (max - min) / median\n"
	       "(maps loaded and filled in %.1f s; measuring)\n\n",
	       rounds, KEYS, repeat, COLD_KEYS, secs_since(&t0));
	fflush(stdout);

	for (int r = 0; r < rounds && !stop; r++) {
		if (measure_empty(empty_fds, r, repeat))
			goto out;
		for (int p = 0; p < NPROGS; p++)
			for (int f = 0; f < NFAMS; f++)
				for (int c = 0; c < NCASES; c++)
					if (measure(in, p, f, c, r, repeat))
						goto out;
	}
	if (stop)
		goto out;
	summarize(rounds);
	print_table(rounds);
	if (out && write_json(out, rounds))
		goto out;
	printf("\n(%.1f s in all)\n", secs_since(&t0));
	rc = 0;
out:
	if (stop)
		fprintf(stderr, "bench_prog: interrupted\n");
	for (int p = 0; p < NPROGS; p++)
		if (empty_fds[p] >= 0)
			close(empty_fds[p]);
	for (unsigned s = 0; s < NSIZES; s++)
		teardown(&in[s]);
	if (rmdir(dir) && errno != ENOENT)
		fprintf(stderr, "bench_prog: could not remove %s: %s\n", dir,
			strerror(errno));
	return rc;
}
