// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * BPF program tests: frames built here run through xrelay_xdp and xrelay_tc
 * with BPF_PROG_TEST_RUN (bpf_prog_test_run_opts); no interface, no netns.
 *
 * Table-driven, like Katran's fixtures: each row of `rows` is {name, input
 * frame, map setup, expected reason}; the expected verdict follows from the
 * reason and the hook, and the expected output frame is built here from
 * the flow (for a forward) or is the input itself (for a pass or a drop).
 * Every row runs through both programs, as its own cmocka test ("xdp ..."
 * and "tc ..."). A forward is checked field by field (MACs, VLAN tag,
 * addresses, TTL/hop limit, ports, lengths, payload, padding), its IPv4
 * header and UDP checksums against ones computed from scratch over the
 * output bytes (frames.c), and then as a whole frame; plus the verdict, the
 * flow's counters read back from the map and the per-reason counters
 * (every reason's delta, not only the expected one).
 *
 * What the test run can and cannot show at TC: BPF_PROG_TEST_RUN builds the
 * skb from the bytes given, so a VLAN tag in the frame stays in the data
 * (skb->vlan_present is 0; __sk_buff ctx_in cannot set it). The program
 * treats a tag in the data at TC as a second tag inside the one the stack
 * stripped (QinQ) and passes with XR_PASS_VLAN before any lookup: that is
 * what the tagged rows assert at TC. A pushed tag (untagged ingress, flow
 * with vlan_id) is put into the skb metadata by bpf_skb_vlan_push(), which
 * test_run does not copy out: at TC the push row asserts the redirect and
 * an untagged data frame with every other field rewritten. Keeping,
 * changing and popping a tag at TC (in_vid from skb metadata) cannot be
 * reached through test_run; the netns tests cover those.
 *
 * Reasons not produced here: XR_PASS_NO_NEIGH (needs forwarding enabled
 * and a route whose next hop has no neighbour entry, i.e. sysctl and
 * interface changes this test does not make) and XR_PASS_ERROR (a helper
 * failing: bpf_xdp_adjust_head() has the test run's 256 bytes of headroom).
 *
 * Special cases, also per hook: strict ports (sample, drop, sample again
 * after the interval), frames truncated at every byte, RTP observation.
 *
 * The programs are loaded once (group setup) with a private pin directory,
 * /sys/fs/bpf/xrtest-<pid>, removed in the group teardown and, should the
 * run die, by atexit, by a SIGINT/SIGTERM handler and by the sanitizer's
 * death callback. Every test starts from empty maps and zero counters.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#endif

#include "fastpath.h"
#include "frames.h"

#define IN_IFINDEX    1    /* lo: the test run's ingress device */
#define OTHER_IFINDEX 4242 /* egress for redirects; test_run never sends */
#define SAMPLE_NS     100000000ULL /* strict ports: one sample per 100 ms */
#define DEFAULT_TTL   64

#define PEER_A_PORT  40000 /* the peer sending to the relay */
#define RELAY_A_PORT 30000 /* the relay port it sends to */
#define RELAY_B_PORT 30002 /* the relay port on the other leg */
#define PEER_B_PORT  50000 /* the other peer */

enum hook { HK_XDP, HK_TC, HK_N };
static const char *const hook_names[HK_N] = { "xdp", "tc" };

static const __u8 MAC_RELAY_IN[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const __u8 MAC_PEER_A[6] = { 0x02, 0, 0, 0, 0, 0xaa };
static const __u8 MAC_RELAY_OUT[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const __u8 MAC_PEER_B[6] = { 0x02, 0, 0, 0, 0, 0xbb };

struct addrs {
	__u8 peer_a[16], relay_a[16], relay_b[16], peer_b[16], foreign[16],
	     local[16];
};

static const struct addrs addrs4 = {
	.peer_a = { 198, 18, 0, 10 },
	.relay_a = { 198, 18, 1, 1 },
	.relay_b = { 198, 18, 1, 2 },
	.peer_b = { 198, 18, 2, 20 },
	.foreign = { 198, 18, 0, 99 },
	.local = { 127, 0, 0, 1 },
};

static const struct addrs addrs6 = {
	.peer_a = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x0a, [15] = 0x10 },
	.relay_a = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x01, [15] = 0x01 },
	.relay_b = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x01, [15] = 0x02 },
	.peer_b = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x0b, [15] = 0x20 },
	.foreign = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x0a, [15] = 0x99 },
	.local = { [15] = 1 },
};

static struct fastpath *fp;
static char pin_dir[64];
static int prog_fds[HK_N];
/* What is being run, for the failure messages: "xdp ipv4-hit-tx", and
 * where in it: " len 17". */
static const char *cur = "";
static char cur_at[128];

/* ---- named assertions --------------------------------------------------- */

static void check_eq_(uint64_t got, uint64_t exp, const char *what,
		      const char *file, int line)
{
	if (got == exp)
		return;
	print_error("%s%s: %s: got %llu (0x%llx), expected %llu (0x%llx)\n",
		    cur, cur_at, what, (unsigned long long)got,
		    (unsigned long long)got, (unsigned long long)exp,
		    (unsigned long long)exp);
	_fail(file, line);
}

static void check_true_(int ok, const char *what, const char *file, int line)
{
	if (ok)
		return;
	print_error("%s%s: %s: not true\n", cur, cur_at, what);
	_fail(file, line);
}

static void hexdump(const char *label, const __u8 *p, size_t len)
{
	char line[3 * 16 + 1];

	print_error("  %s (%zu bytes):\n", label, len);
	for (size_t i = 0; i < len; i += 16) {
		size_t n = 0;

		for (size_t j = i; j < len && j < i + 16; j++)
			n += snprintf(line + n, sizeof(line) - n, " %02x", p[j]);
		print_error("  %04zx%s\n", i, line);
	}
}

static void check_mem_(const void *got, const void *exp, size_t len,
		       const char *what, const char *file, int line)
{
	const __u8 *g = got, *e = exp;

	for (size_t i = 0; i < len; i++) {
		if (g[i] == e[i])
			continue;
		print_error("%s%s: %s: differs at byte %zu: got 0x%02x, "
			    "expected 0x%02x\n", cur, cur_at, what, i, g[i],
			    e[i]);
		hexdump("got", g, len);
		hexdump("expected", e, len);
		_fail(file, line);
	}
}

#define CHECK_EQ(got, exp, what) \
	check_eq_((uint64_t)(got), (uint64_t)(exp), (what), __FILE__, __LINE__)
#define CHECK_TRUE(cond, what) \
	check_true_(!!(cond), (what), __FILE__, __LINE__)
#define CHECK_MEM(got, exp, len, what) \
	check_mem_((got), (exp), (len), (what), __FILE__, __LINE__)

/* ---- running the programs ----------------------------------------------- */

struct run {
	int err; /* 0 or -errno of bpf_prog_test_run_opts */
	__u32 retval;
	__u8 out[FRAME_MAX + 64];
	__u32 out_len;
};

static void prog_run(enum hook h, const __u8 *in, size_t len, struct run *r)
{
	/* XDP: data_end must be the frame size; the ingress device is lo. */
	struct xdp_md md = { .data_end = (__u32)len,
			     .ingress_ifindex = IN_IFINDEX };
	struct __sk_buff skb = { .ingress_ifindex = IN_IFINDEX };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in,
		    .data_size_in = (__u32)len, .data_out = r->out,
		    .data_size_out = sizeof(r->out), .repeat = 1);

	if (h == HK_XDP) {
		o.ctx_in = &md;
		o.ctx_size_in = sizeof(md);
	} else {
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
	}
	memset(r->out, 0, sizeof(r->out));
	r->err = bpf_prog_test_run_opts(prog_fds[h], &o) ? -errno : 0;
	r->retval = o.retval;
	r->out_len = o.data_size_out;
}

/* The verdict a reason gives at each hook. */
static __u32 verdict(enum hook h, int reason)
{
	switch (reason) {
	case XR_FWD_TX:
		return h == HK_XDP ? XDP_TX : TC_ACT_REDIRECT;
	case XR_FWD_REDIRECT:
		return h == HK_XDP ? XDP_REDIRECT : TC_ACT_REDIRECT;
	case XR_DROP_FOREIGN_SRC:
		return h == HK_XDP ? XDP_DROP : TC_ACT_SHOT;
	default:
		return h == HK_XDP ? XDP_PASS : TC_ACT_OK;
	}
}

/* Reasons counted after a full parse, with the IP length as bytes. */
static int reason_counts_bytes(int reason)
{
	switch (reason) {
	case XR_FWD_TX: case XR_FWD_REDIRECT: case XR_PASS_NO_ENTRY:
	case XR_PASS_FOREIGN_SRC: case XR_PASS_FOREIGN_SAMPLE:
	case XR_DROP_FOREIGN_SRC: case XR_PASS_USERSPACE: case XR_PASS_FAMILY:
	case XR_PASS_NO_NEIGH: case XR_PASS_FIB_FAIL:
		return 1;
	}
	return 0;
}

static void stats_get(struct xr_stat *s)
{
	CHECK_EQ(fastpath_stats(fp, s), 0, "fastpath_stats()");
}

/*
 * Exactly one packet more for reason (and ip_len bytes where the reason
 * counts bytes), nothing for every other reason. reason < 0: nothing.
 */
static void check_stats_delta(const struct xr_stat *before, int reason,
			      size_t ip_len)
{
	struct xr_stat after[XR_REASON_MAX];
	char what[96];

	stats_get(after);
	for (int i = 0; i < XR_REASON_MAX; i++) {
		snprintf(what, sizeof(what), "stats[%s].packets delta",
			 xr_reason_name(i));
		CHECK_EQ(after[i].packets - before[i].packets, i == reason,
			 what);
		if (i != reason || reason_counts_bytes(reason)) {
			snprintf(what, sizeof(what), "stats[%s].bytes delta",
				 xr_reason_name(i));
			CHECK_EQ(after[i].bytes - before[i].bytes,
				 i == reason ? ip_len : 0, what);
		}
	}
}

/* One packet and ip_len bytes more for direction dir (-1: none), nothing
 * for the other. */
static void check_dir_delta(const struct xr_stat *before, int dir,
			    size_t ip_len)
{
	struct xr_stat after[XR_DIR_MAX];
	char what[64];

	CHECK_EQ(fastpath_dir_stats(fp, after), 0, "fastpath_dir_stats()");
	for (int d = 0; d < XR_DIR_MAX; d++) {
		snprintf(what, sizeof(what), "dir_stats[%s].packets delta",
			 d ? "from_b" : "from_a");
		CHECK_EQ(after[d].packets - before[d].packets, d == dir, what);
		snprintf(what, sizeof(what), "dir_stats[%s].bytes delta",
			 d ? "from_b" : "from_a");
		CHECK_EQ(after[d].bytes - before[d].bytes,
			 d == dir ? ip_len : 0, what);
	}
}

static __u64 now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* ---- maps --------------------------------------------------------------- */

static int in_fast4_rows; /* run_fast4_rows keeps its table between rows */

static void maps_reset(void)
{
	struct xr_flow_key k;
	struct xr_port_key pk;

	while (fastpath_flow_next(fp, NULL, &k) == 0)
		CHECK_EQ(fastpath_flow_del(fp, &k), 0, "delete a flow");
	/* A case that failed half way may have left the IPv4 port table. */
	if (!in_fast4_rows)
		CHECK_EQ(fastpath_fast4_layout(fp, NULL, 0), 0,
			 "no IPv4 port table");
	while (bpf_map_get_next_key(fastpath_ports_fd(fp), NULL, &pk) == 0)
		CHECK_EQ(fastpath_port_del(fp, &pk), 0, "delete a port");
	CHECK_EQ(fastpath_stats_reset(fp), 0, "fastpath_stats_reset()");
}

static const struct addrs *addrs_of(int family)
{
	return family == 6 ? &addrs6 : &addrs4;
}

/* The flow of the peer A -> relay A stream. */
static void flow_key(int family, struct xr_flow_key *k)
{
	const struct addrs *a = addrs_of(family);

	memset(k, 0, sizeof(*k));
	memcpy(k->local_addr, a->relay_a, 16);
	memcpy(k->remote_addr, a->peer_a, 16);
	k->local_port = htons(RELAY_A_PORT);
	k->remote_port = htons(PEER_A_PORT);
	k->family = family == 6 ? XR_AF_INET6 : XR_AF_INET;
	k->proto = XR_PROTO_UDP;
}

static void port_key(int family, struct xr_port_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, addrs_of(family)->relay_a, 16);
	k->port = htons(RELAY_A_PORT);
	k->family = family == 6 ? XR_AF_INET6 : XR_AF_INET;
}

/* ---- the table ---------------------------------------------------------- */

enum mangle {
	MG_NONE = 0,
	MG_IHL4,            /* IPv4 ihl 4 (< 5) */
	MG_IP_VERSION,      /* IPv4 ethertype, version 6 in the header */
	MG_TOTLEN_BIG,      /* IPv4 tot_len past the end of the frame */
	MG_TOTLEN_SMALL,    /* IPv4 tot_len below the header length */
	MG_ULEN_BIG,        /* UDP length past the IP payload */
	MG_ULEN_SMALL,      /* UDP length 7 */
	MG_PLEN_BIG,        /* IPv6 payload_len past the end of the frame */
	MG_UDP_CSUM0,       /* UDP checksum 0 (IPv6: forbidden) */
	MG_ARP,             /* an ARP request instead of the IP packet */
};

#define M_FLOW 1u
#define M_PORT 2u

/* .tc = TC_IS(reason): the TC program's reason when it differs. */
#define TC_IS(r) ((r) + 1)

struct row {
	const char *name;
	int family;          /* 4 or 6 */
	/* The input frame: peer A -> relay A, an RTP packet, unless: */
	int tags;            /* VLAN tags in the frame */
	__u16 tpid;          /* outer tag's TPID (0: 802.1Q) */
	__u16 tci;           /* outer tag's TCI */
	__u8 ip_opt_len;     /* IPv4 option bytes */
	__u16 frag_off;      /* IPv4 flags+offset (0: DF) */
	__u8 proto;          /* L4 protocol (0: UDP) */
	int has_ext;         /* IPv6 extension header ext_hdr */
	__u8 ext_hdr;
	int csum_zero;       /* IPv4 UDP checksum 0 */
	int tune_zero;       /* payload chosen so the new UDP sum is 0 */
	int tune_in_zero;    /* ... so the input's is 0 (sent as 0xffff) */
	size_t plen;         /* UDP payload bytes (0: 172, RTP + 160) */
#define PLEN_EMPTY ((size_t)-1)
	size_t pad_to;       /* Ethernet padding up to this size */
	int foreign;         /* from a source other than the flow's peer */
	enum mangle mangle;
	/* The maps. */
	unsigned maps;       /* M_FLOW, M_PORT */
	__u16 flow_flags;
	__u8 flow_ttl;
	__u16 flow_vlan;
	int flow_family;     /* the value's family, if not the key's */
	__u32 port_flags;
	/* Expected: the reason (the verdict follows from it) at XDP, and at
	 * TC if .tc is not set. A forward's egress ifindex is lo for FWD_TX
	 * and OTHER_IFINDEX for FWD_REDIRECT. */
	int reason;
	int tc;              /* TC_IS(reason) */
	__u16 udp_check;     /* if set: the output UDP checksum, exactly */
};

static const struct row rows[] = {
	/* ---- forwarded ---------------------------------------------------------- */
	{ .name = "ipv4-hit-tx", .family = 4, .maps = M_FLOW,
	  .reason = XR_FWD_TX },
	{ .name = "ipv4-hit-redirect", .family = 4, .maps = M_FLOW,
	  .reason = XR_FWD_REDIRECT },
	{ .name = "ipv6-hit-tx", .family = 6, .maps = M_FLOW,
	  .reason = XR_FWD_TX },
	{ .name = "ipv6-hit-redirect", .family = 6, .maps = M_FLOW,
	  .reason = XR_FWD_REDIRECT },
	{ .name = "ipv4-hit-flow-ttl", .family = 4, .maps = M_FLOW,
	  .flow_ttl = 17, .reason = XR_FWD_REDIRECT },
	{ .name = "ipv6-hit-flow-hop-limit", .family = 6, .maps = M_FLOW,
	  .flow_ttl = 3, .reason = XR_FWD_REDIRECT },
	{ .name = "ipv4-hit-with-port-entry", .family = 4,
	  .maps = M_FLOW | M_PORT,
	  .port_flags = XR_PORT_F_LATCHED | XR_PORT_F_STRICT,
	  .reason = XR_FWD_TX },
	{ .name = "ipv4-options-ihl6-hit", .family = 4, .ip_opt_len = 4,
	  .maps = M_FLOW, .reason = XR_FWD_REDIRECT },
	{ .name = "ipv4-options-ihl15-hit", .family = 4, .ip_opt_len = 40,
	  .maps = M_FLOW, .reason = XR_FWD_TX },
	{ .name = "ipv4-udp-csum-zero-stays-zero", .family = 4,
	  .csum_zero = 1, .maps = M_FLOW, .reason = XR_FWD_REDIRECT },
	{ .name = "ipv4-new-udp-csum-0-sent-as-ffff", .family = 4,
	  .tune_zero = 1, .maps = M_FLOW, .reason = XR_FWD_REDIRECT,
	  .udp_check = 0xffff },
	{ .name = "ipv6-new-udp-csum-0-sent-as-ffff", .family = 6,
	  .tune_zero = 1, .maps = M_FLOW, .reason = XR_FWD_REDIRECT,
	  .udp_check = 0xffff },
	{ .name = "ipv4-old-udp-csum-ffff-hit", .family = 4,
	  .tune_in_zero = 1, .maps = M_FLOW, .reason = XR_FWD_TX },
	{ .name = "ipv6-old-udp-csum-ffff-hit", .family = 6,
	  .tune_in_zero = 1, .maps = M_FLOW, .reason = XR_FWD_TX },
	{ .name = "ipv4-rtp-stats-hit", .family = 4, .maps = M_FLOW,
	  .flow_flags = XR_FLOW_F_RTP_STATS, .reason = XR_FWD_REDIRECT },
	{ .name = "ipv4-ethernet-padding-hit", .family = 4, .plen = 4,
	  .pad_to = 60, .maps = M_FLOW, .reason = XR_FWD_TX },
	{ .name = "ipv6-empty-payload-hit", .family = 6, .plen = PLEN_EMPTY,
	  .maps = M_FLOW, .reason = XR_FWD_TX },
	/* VLAN: at TC a tag in the frame data is a stacked tag (above). */
	{ .name = "vlan-keep-vid-hit", .family = 4, .tags = 1, .tci = 0x6064,
	  .maps = M_FLOW, .flow_vlan = 100, .reason = XR_FWD_TX,
	  .tc = TC_IS(XR_PASS_VLAN) },
	{ .name = "vlan-change-vid-keeps-pcp-hit", .family = 4, .tags = 1,
	  .tci = 0xb064, .maps = M_FLOW, .flow_vlan = 200,
	  .reason = XR_FWD_REDIRECT, .tc = TC_IS(XR_PASS_VLAN) },
	{ .name = "vlan-pop-hit", .family = 4, .tags = 1, .tci = 0x0064,
	  .maps = M_FLOW, .reason = XR_FWD_REDIRECT,
	  .tc = TC_IS(XR_PASS_VLAN) },
	{ .name = "vlan-push-hit", .family = 4, .maps = M_FLOW,
	  .flow_vlan = 300, .reason = XR_FWD_REDIRECT },
	{ .name = "vlan-push-ipv6-hit", .family = 6, .maps = M_FLOW,
	  .flow_vlan = 4094, .reason = XR_FWD_TX },
	{ .name = "vlan-ipv6-change-vid-hit", .family = 6, .tags = 1,
	  .tci = 0x2005, .maps = M_FLOW, .flow_vlan = 7,
	  .reason = XR_FWD_REDIRECT, .tc = TC_IS(XR_PASS_VLAN) },
	{ .name = "vlan-ipv6-pop-hit", .family = 6, .tags = 1, .tci = 0x0005,
	  .maps = M_FLOW, .reason = XR_FWD_TX, .tc = TC_IS(XR_PASS_VLAN) },
	{ .name = "vlan-ipv4-options-hit", .family = 4, .tags = 1,
	  .tci = 0x0064, .ip_opt_len = 8, .maps = M_FLOW, .flow_vlan = 100,
	  .reason = XR_FWD_TX, .tc = TC_IS(XR_PASS_VLAN) },
	{ .name = "vlan-rtp-stats-hit", .family = 4, .tags = 1, .tci = 0x0064,
	  .maps = M_FLOW, .flow_vlan = 100, .flow_flags = XR_FLOW_F_RTP_STATS,
	  .reason = XR_FWD_TX, .tc = TC_IS(XR_PASS_VLAN) },
	{ .name = "vlan-8021ad-tag-sent-as-8021q", .family = 4, .tags = 1,
	  .tpid = ETHERTYPE_8021AD, .tci = 0x0064, .maps = M_FLOW,
	  .flow_vlan = 100, .reason = XR_FWD_TX, .tc = TC_IS(XR_PASS_VLAN) },

	/* ---- passed or dropped: the frame must come out as it went in ----------- */
	{ .name = "ipv4-no-entry", .family = 4, .reason = XR_PASS_NO_ENTRY },
	{ .name = "ipv6-no-entry", .family = 6, .reason = XR_PASS_NO_ENTRY },
	{ .name = "ipv4-port-not-latched-no-entry", .family = 4,
	  .maps = M_PORT, .port_flags = XR_PORT_F_STRICT,
	  .reason = XR_PASS_NO_ENTRY },
	{ .name = "ipv4-foreign-src-latched", .family = 4, .foreign = 1,
	  .maps = M_FLOW | M_PORT, .port_flags = XR_PORT_F_LATCHED,
	  .reason = XR_PASS_FOREIGN_SRC },
	{ .name = "ipv6-foreign-src-latched", .family = 6, .foreign = 1,
	  .maps = M_FLOW | M_PORT, .port_flags = XR_PORT_F_LATCHED,
	  .reason = XR_PASS_FOREIGN_SRC },
	/* At TC a tag in the data is QinQ, passed before the lookup. */
	{ .name = "vlan-no-entry", .family = 4, .tags = 1, .tci = 0x0064,
	  .reason = XR_PASS_NO_ENTRY, .tc = TC_IS(XR_PASS_VLAN) },
	{ .name = "vlan-foreign-src-latched", .family = 6, .tags = 1,
	  .tci = 0x0064, .foreign = 1, .maps = M_FLOW | M_PORT,
	  .port_flags = XR_PORT_F_LATCHED, .reason = XR_PASS_FOREIGN_SRC,
	  .tc = TC_IS(XR_PASS_VLAN) },
	{ .name = "ipv4-fragment-mf", .family = 4, .frag_off = 0x2000,
	  .maps = M_FLOW, .reason = XR_PASS_FRAGMENT },
	{ .name = "ipv4-fragment-offset", .family = 4, .frag_off = 0x00b9,
	  .maps = M_FLOW, .reason = XR_PASS_FRAGMENT },
	{ .name = "ipv6-fragment-header", .family = 6, .has_ext = 1,
	  .ext_hdr = 44, .maps = M_FLOW, .reason = XR_PASS_FRAGMENT },
	{ .name = "ipv6-hop-by-hop", .family = 6, .has_ext = 1, .ext_hdr = 0,
	  .maps = M_FLOW, .reason = XR_PASS_IP_OPTIONS_V6 },
	{ .name = "ipv6-routing-header", .family = 6, .has_ext = 1,
	  .ext_hdr = 43, .maps = M_FLOW, .reason = XR_PASS_IP_OPTIONS_V6 },
	{ .name = "ipv6-destination-options", .family = 6, .has_ext = 1,
	  .ext_hdr = 60, .maps = M_FLOW, .reason = XR_PASS_IP_OPTIONS_V6 },
	{ .name = "ipv4-tcp", .family = 4, .proto = 6, .maps = M_FLOW,
	  .reason = XR_PASS_NOT_UDP },
	{ .name = "ipv4-icmp", .family = 4, .proto = 1, .maps = M_FLOW,
	  .reason = XR_PASS_NOT_UDP },
	{ .name = "ipv6-tcp", .family = 6, .proto = 6, .maps = M_FLOW,
	  .reason = XR_PASS_NOT_UDP },
	{ .name = "ipv6-icmpv6", .family = 6, .proto = 58, .maps = M_FLOW,
	  .reason = XR_PASS_NOT_UDP },
	{ .name = "arp", .family = 4, .mangle = MG_ARP, .maps = M_FLOW,
	  .reason = XR_PASS_NOT_IP },
	{ .name = "qinq-8021ad-8021q", .family = 4, .tags = 2,
	  .tpid = ETHERTYPE_8021AD, .tci = 0x0064, .maps = M_FLOW,
	  .reason = XR_PASS_VLAN },
	{ .name = "qinq-8021q-8021q", .family = 6, .tags = 2, .tci = 0x0064,
	  .maps = M_FLOW, .reason = XR_PASS_VLAN },
	{ .name = "ipv4-flow-to-userspace", .family = 4, .maps = M_FLOW,
	  .flow_flags = XR_FLOW_F_TO_USERSPACE, .reason = XR_PASS_USERSPACE },
	{ .name = "ipv6-flow-to-userspace", .family = 6, .maps = M_FLOW,
	  .flow_flags = XR_FLOW_F_TO_USERSPACE | XR_FLOW_F_RTP_STATS,
	  .reason = XR_PASS_USERSPACE },
	{ .name = "ipv4-flow-family-ipv6", .family = 4, .maps = M_FLOW,
	  .flow_family = XR_AF_INET6, .reason = XR_PASS_FAMILY },
	{ .name = "ipv6-flow-family-ipv4", .family = 6, .maps = M_FLOW,
	  .flow_family = XR_AF_INET, .reason = XR_PASS_FAMILY },
	/* FIB to the loopback address: not forwardable whatever the routes
	 * and forwarding sysctls of this netns (FWD_DISABLED or NOT_FWDED). */
	{ .name = "ipv4-fib-lookup-fails", .family = 4, .maps = M_FLOW,
	  .flow_flags = XR_FLOW_F_FIB, .reason = XR_PASS_FIB_FAIL },
	{ .name = "ipv6-fib-lookup-fails", .family = 6, .maps = M_FLOW,
	  .flow_flags = XR_FLOW_F_FIB | XR_FLOW_F_RTP_STATS,
	  .reason = XR_PASS_FIB_FAIL },
	/* Malformed. A flow matches each, so a parser that let one through
	 * would forward it. */
	{ .name = "ipv4-ihl-below-5", .family = 4, .mangle = MG_IHL4,
	  .maps = M_FLOW, .reason = XR_PASS_MALFORMED },
	{ .name = "ipv4-version-not-4", .family = 4, .mangle = MG_IP_VERSION,
	  .maps = M_FLOW, .reason = XR_PASS_MALFORMED },
	{ .name = "ipv4-tot-len-beyond-frame", .family = 4,
	  .mangle = MG_TOTLEN_BIG, .maps = M_FLOW,
	  .reason = XR_PASS_MALFORMED },
	{ .name = "ipv4-tot-len-below-header", .family = 4,
	  .mangle = MG_TOTLEN_SMALL, .maps = M_FLOW,
	  .reason = XR_PASS_MALFORMED },
	{ .name = "ipv4-udp-len-beyond-ip-payload", .family = 4,
	  .mangle = MG_ULEN_BIG, .maps = M_FLOW,
	  .reason = XR_PASS_MALFORMED },
	{ .name = "ipv4-udp-len-into-ethernet-padding", .family = 4,
	  .plen = 4, .pad_to = 60, .mangle = MG_ULEN_BIG, .maps = M_FLOW,
	  .reason = XR_PASS_MALFORMED },
	{ .name = "ipv4-udp-len-below-8", .family = 4,
	  .mangle = MG_ULEN_SMALL, .maps = M_FLOW,
	  .reason = XR_PASS_MALFORMED },
	{ .name = "ipv6-payload-len-beyond-frame", .family = 6,
	  .mangle = MG_PLEN_BIG, .maps = M_FLOW,
	  .reason = XR_PASS_MALFORMED },
	{ .name = "ipv6-udp-len-beyond-payload", .family = 6,
	  .mangle = MG_ULEN_BIG, .maps = M_FLOW,
	  .reason = XR_PASS_MALFORMED },
	{ .name = "ipv6-udp-len-below-8", .family = 6,
	  .mangle = MG_ULEN_SMALL, .maps = M_FLOW,
	  .reason = XR_PASS_MALFORMED },
	{ .name = "ipv6-udp-csum-zero", .family = 6, .mangle = MG_UDP_CSUM0,
	  .maps = M_FLOW, .reason = XR_PASS_MALFORMED },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static int row_reason(const struct row *w, enum hook h)
{
	return h == HK_TC && w->tc ? w->tc - 1 : w->reason;
}

static int is_fwd(int reason)
{
	return reason == XR_FWD_TX || reason == XR_FWD_REDIRECT;
}

#define RTP_SEQ  4711
#define RTP_SSRC 0xfeedbeefu

/* An RTP packet: V=2, PT 0 (PCMU), then 160 bytes of "audio". */
static size_t rtp_payload(__u8 *p, size_t len, __u16 seq, __u32 ts,
			  __u32 ssrc, __u8 pt)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (__u8)(0x55 ^ (i * 7));
	if (len >= 12) {
		p[0] = 0x80;
		p[1] = pt;
		put16(p + 2, seq);
		put16(p + 4, ts >> 16);
		put16(p + 6, ts & 0xffff);
		put16(p + 8, ssrc >> 16);
		put16(p + 10, ssrc & 0xffff);
	}
	return len;
}

/* The input frame's spec (payload points into the caller's buffer). */
static void input_spec(const struct row *w, struct frame_spec *s,
		       __u8 *payload)
{
	const struct addrs *a = addrs_of(w->family);

	memset(s, 0, sizeof(*s));
	s->family = w->family;
	memcpy(s->dmac, MAC_RELAY_IN, 6);
	memcpy(s->smac, MAC_PEER_A, 6);
	s->ntags = w->tags;
	s->tpid[0] = w->tpid;
	s->tci[0] = w->tci;
	s->tci[1] = 0x0200 | 42;
	memcpy(s->saddr, w->foreign ? a->foreign : a->peer_a, 16);
	memcpy(s->daddr, a->relay_a, 16);
	s->sport = PEER_A_PORT;
	s->dport = RELAY_A_PORT;
	s->ttl = 61;
	s->tos = 0xb8; /* EF */
	s->ip_id = 0x1234;
	s->frag_off = w->frag_off ? w->frag_off : (w->family == 4 ? 0x4000 : 0);
	s->ip_opt_len = w->ip_opt_len;
	s->proto = w->proto;
	s->has_ext = w->has_ext;
	s->ext_hdr = w->ext_hdr;
	s->payload = payload;
	s->payload_len = w->plen == PLEN_EMPTY ? 0 : w->plen ? w->plen : 172;
	rtp_payload(payload, s->payload_len, RTP_SEQ, 160 * RTP_SEQ, RTP_SSRC,
		    0);
	s->udp_csum = w->csum_zero ? FRAME_CSUM_ZERO : FRAME_CSUM_COMPUTE;
	s->pad_to = w->pad_to;
}

/* The frame a forward must produce from in at hook h. */
static void output_spec(const struct row *w, enum hook h,
			const struct frame_spec *in, struct frame_spec *out)
{
	const struct addrs *a = addrs_of(w->family);

	*out = *in;
	memcpy(out->dmac, MAC_PEER_B, 6);
	memcpy(out->smac, MAC_RELAY_OUT, 6);
	memcpy(out->saddr, a->relay_b, 16);
	memcpy(out->daddr, a->peer_b, 16);
	out->sport = RELAY_B_PORT;
	out->dport = PEER_B_PORT;
	out->ttl = w->flow_ttl ? w->flow_ttl : DEFAULT_TTL;
	/* XDP keeps, changes (keeping PCP/DEI), pops or pushes the tag in
	 * the frame. At TC the tag is in the skb, not in the data. */
	if (h == HK_XDP && w->flow_vlan) {
		out->ntags = 1;
		out->tpid[0] = ETHERTYPE_8021Q;
		out->tci[0] = (__u16)((in->ntags ? in->tci[0] & 0xf000 : 0) |
				      w->flow_vlan);
	} else {
		out->ntags = 0;
	}
	if (in->pad_to)
		out->pad_to = in->pad_to + 4 * (out->ntags - in->ntags);
}

static void flow_value(const struct row *w, struct xr_flow *v)
{
	const struct addrs *a = addrs_of(w->family);

	memset(v, 0, sizeof(*v));
	memcpy(v->src_addr, a->relay_b, 16);
	memcpy(v->dst_addr, w->flow_flags & XR_FLOW_F_FIB ? a->local :
			    a->peer_b, 16);
	v->src_port = htons(RELAY_B_PORT);
	v->dst_port = htons(PEER_B_PORT);
	v->family = w->flow_family ? w->flow_family :
		    (w->family == 6 ? XR_AF_INET6 : XR_AF_INET);
	v->ttl = w->flow_ttl;
	v->flags = w->flow_flags;
	v->ifindex = w->reason == XR_FWD_REDIRECT ? OTHER_IFINDEX : IN_IFINDEX;
	memcpy(v->smac, MAC_RELAY_OUT, 6);
	memcpy(v->dmac, MAC_PEER_B, 6);
	v->vlan_id = w->flow_vlan;
	v->rtp_clock_khz = 8;
}

/* Make the frame inconsistent the way the row asks. */
static void mangle(const struct row *w, __u8 *f, struct frame_layout *lay)
{
	__u8 *ip = f + lay->l3, *udp = f + lay->l4;
	size_t l4_avail = lay->end - lay->l4;

	switch (w->mangle) {
	case MG_NONE:
		return;
	case MG_IHL4:
		ip[0] = 0x44;
		break;
	case MG_IP_VERSION:
		ip[0] = 0x65;
		break;
	case MG_TOTLEN_BIG:
		put16(ip + 2, (__u16)(lay->ip_len + 1));
		break;
	case MG_TOTLEN_SMALL:
		put16(ip + 2, 16);
		break;
	case MG_ULEN_BIG:
		put16(udp + 4, (__u16)(l4_avail + 1));
		break;
	case MG_ULEN_SMALL:
		put16(udp + 4, 7);
		break;
	case MG_PLEN_BIG:
		put16(ip + 4, (__u16)(lay->ip_len - 40 + 1));
		break;
	case MG_UDP_CSUM0:
		put16(udp + 6, 0);
		break;
	case MG_ARP: {
		/* Who has 198.18.1.1? Tell 198.18.0.10. */
		static const __u8 arp[28] = {
			0, 1, 8, 0, 6, 4, 0, 1,
			0x02, 0, 0, 0, 0, 0xaa, 198, 18, 0, 10,
			0, 0, 0, 0, 0, 0, 198, 18, 1, 1 };

		put16(f + lay->l3 - 2, ETHERTYPE_ARP);
		memset(ip, 0, lay->len - lay->l3);
		memcpy(ip, arp, sizeof(arp));
		lay->len = lay->l3 + 46; /* padded to 60 */
		return;
	}
	}
	/* Only the intended inconsistency: a right IPv4 header checksum. */
	if (w->family == 4 && (ip[0] >> 4) == 4) {
		size_t hl = (size_t)(ip[0] & 0xf) * 4;

		put16(ip + 10, 0);
		put16(ip + 10, csum_ipv4_hdr(ip, hl < 20 ? 20 : hl));
	}
}

/*
 * Tune the last two payload bytes so that the rewritten packet's UDP
 * checksum computes to 0 (to be sent as 0xffff): the sum of the output
 * without them is s, so adding 0xffff - s makes it 0xffff (-0).
 */
static void tune_zero_sum(const struct row *w, struct frame_spec *in,
			  __u8 *payload)
{
	struct frame_spec out;
	struct frame_layout lay;
	__u8 f[FRAME_MAX];
	__u16 raw;
	size_t n = in->payload_len;

	payload[n - 2] = payload[n - 1] = 0;
	output_spec(w, HK_XDP, in, &out);
	CHECK_TRUE(frame_build(&out, f, &lay), "build the tuning frame");
	frame_udp_csum(f, &lay, w->family, &raw);
	put16(payload + n - 2, (__u16)(0xffff - raw));
}

/* The same for the input frame: its UDP checksum field is 0xffff. */
static void tune_in_zero_sum(const struct row *w, struct frame_spec *in,
			     __u8 *payload)
{
	struct frame_layout lay;
	__u8 f[FRAME_MAX];
	__u16 raw;
	size_t n = in->payload_len;

	(void)w;
	payload[n - 2] = payload[n - 1] = 0;
	CHECK_TRUE(frame_build(in, f, &lay), "build the tuning frame");
	frame_udp_csum(f, &lay, in->family, &raw);
	put16(payload + n - 2, (__u16)(0xffff - raw));
}

/* ---- checks ------------------------------------------------------------- */

/* A forwarded frame: field by field, then as a whole. */
static void check_fwd_frame(const struct run *r, int family,
			    const __u8 *exp, const struct frame_layout *el,
			    const __u8 *in, const struct frame_layout *il,
			    const struct frame_spec *es)
{
	const __u8 *o = r->out, *oip = o + el->l3, *oudp = o + el->l4;
	const __u8 *eip = exp + el->l3, *iip = in + il->l3;
	int ntags = (int)(el->l3 - 14) / 4;

	CHECK_EQ(r->out_len, el->len, "frame length");
	CHECK_MEM(o, exp, 6, "eth.dst (flow dmac)");
	CHECK_MEM(o + 6, exp + 6, 6, "eth.src (flow smac)");
	for (int t = 0; t < ntags; t++) {
		CHECK_EQ(get16(o + 12 + 4 * t), get16(exp + 12 + 4 * t),
			 "vlan.tpid");
		CHECK_EQ(get16(o + 14 + 4 * t), get16(exp + 14 + 4 * t),
			 "vlan.tci (pcp|dei|vid)");
	}
	CHECK_EQ(get16(o + el->l3 - 2), get16(exp + el->l3 - 2),
		 "eth.type (after the tags)");
	CHECK_EQ(get16(o + el->l3 - 2), get16(in + il->l3 - 2),
		 "eth.type unchanged");
	if (family == 4) {
		size_t hl = (size_t)(iip[0] & 0xf) * 4;

		CHECK_EQ(oip[0], iip[0], "ip.version/ihl unchanged");
		CHECK_EQ(oip[1], iip[1], "ip.tos unchanged");
		CHECK_EQ(get16(oip + 2), get16(iip + 2), "ip.tot_len unchanged");
		CHECK_EQ(get16(oip + 4), get16(iip + 4), "ip.id unchanged");
		CHECK_EQ(get16(oip + 6), get16(iip + 6),
			 "ip.frag_off unchanged");
		CHECK_EQ(oip[8], es->ttl, "ip.ttl (flow ttl or default 64)");
		CHECK_EQ(oip[9], iip[9], "ip.protocol unchanged");
		CHECK_MEM(oip + 12, es->saddr, 4, "ip.saddr (flow src_addr)");
		CHECK_MEM(oip + 16, es->daddr, 4, "ip.daddr (flow dst_addr)");
		CHECK_MEM(oip + 20, iip + 20, hl - 20, "ip options unchanged");
		CHECK_EQ(get16(oip + 10), csum_ipv4_hdr(oip, hl),
			 "ip.check (recomputed from scratch)");
		CHECK_EQ(get16(oip + 10), get16(eip + 10),
			 "ip.check (expected frame)");
	} else {
		CHECK_MEM(oip, iip, 4, "ip6 version/class/flow unchanged");
		CHECK_EQ(get16(oip + 4), get16(iip + 4),
			 "ip6.payload_len unchanged");
		CHECK_EQ(oip[6], iip[6], "ip6.nexthdr unchanged");
		CHECK_EQ(oip[7], es->ttl, "ip6.hop_limit (flow ttl or 64)");
		CHECK_MEM(oip + 8, es->saddr, 16, "ip6.saddr (flow src_addr)");
		CHECK_MEM(oip + 24, es->daddr, 16, "ip6.daddr (flow dst_addr)");
	}
	CHECK_EQ(get16(oudp), es->sport, "udp.source (flow src_port)");
	CHECK_EQ(get16(oudp + 2), es->dport, "udp.dest (flow dst_port)");
	CHECK_EQ(get16(oudp + 4), get16(in + il->l4 + 4), "udp.len unchanged");
	if (es->udp_csum == FRAME_CSUM_ZERO) {
		CHECK_EQ(get16(in + il->l4 + 6), 0, "input udp.check is 0");
		CHECK_EQ(get16(oudp + 6), 0, "udp.check 0 stays 0 (IPv4)");
	} else {
		CHECK_EQ(get16(oudp + 6), frame_udp_csum(o, el, family, NULL),
			 "udp.check (recomputed from scratch, 0 as 0xffff)");
		CHECK_TRUE(get16(oudp + 6) != 0, "udp.check is not 0");
	}
	CHECK_MEM(o + el->payload, in + il->payload, il->end - il->payload,
		  "udp payload unchanged");
	CHECK_MEM(o + el->end, in + il->end, il->len - il->end,
		  "ethernet padding unchanged");
	CHECK_MEM(o, exp, el->len, "whole frame");
}

static void check_flow_counters(const struct xr_flow_key *k, __u64 packets,
				__u64 bytes, __u64 t0, __u64 t1)
{
	struct xr_flow v;

	CHECK_EQ(fastpath_flow_get(fp, k, &v), 0, "read the flow back");
	CHECK_EQ(v.packets, packets, "flow.packets");
	CHECK_EQ(v.bytes, bytes, "flow.bytes (IP bytes as received)");
	if (packets) {
		CHECK_TRUE(v.last_seen_ns >= t0,
			   "flow.last_seen_ns >= time before the run");
		CHECK_TRUE(v.last_seen_ns <= t1,
			   "flow.last_seen_ns <= time after the run");
	} else {
		CHECK_EQ(v.last_seen_ns, 0, "flow.last_seen_ns untouched");
	}
}

/* ---- fixtures ----------------------------------------------------------- */

static void unpin_now(void)
{
	if (pin_dir[0])
		fastpath_unpin(pin_dir);
}

static void on_signal(int sig)
{
	unpin_now();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int group_setup(void **state)
{
	struct fastpath_opts o = { .sample_ns = SAMPLE_NS };
	char err[512] = "";
	int rc;

	(void)state;
	libbpf_set_print(quiet_libbpf);
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/xrtest-%d",
		 (int)getpid());
	o.pin_dir = pin_dir;
	rc = fastpath_load(&fp, &o, err, sizeof(err));
	if (rc) {
		print_error("fastpath_load(%s): %s (%d): run as root\n",
			    pin_dir, err, rc);
		unpin_now();
		return -1;
	}
	prog_fds[HK_XDP] = fastpath_prog_fd(fp, ATTACH_XDP);
	prog_fds[HK_TC] = fastpath_prog_fd(fp, ATTACH_TC);
	if (prog_fds[HK_XDP] < 0 || prog_fds[HK_TC] < 0) {
		print_error("no program fds\n");
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	int rc;

	(void)state;
	fastpath_close(fp);
	fp = NULL;
	rc = fastpath_unpin(pin_dir);
	if (rc == 0 && access(pin_dir, F_OK) == 0)
		rc = -ENOTEMPTY;
	if (rc)
		print_error("removing %s failed: %s\n", pin_dir, strerror(-rc));
	pin_dir[0] = 0;
	return rc ? -1 : 0;
}

static int test_setup(void **state)
{
	(void)state;
	in_fast4_rows = 0; /* a case that failed half way leaves it set */
	maps_reset();
	return 0;
}

/* One cmocka test: a row, or a special case, at one hook. */
struct tcase {
	const struct row *row;
	void (*fn)(enum hook h, int family);
	int family;
	enum hook hook;
	char name[80];
};

/* ---- the row runner ----------------------------------------------------- */

static void run_row(const struct row *w, enum hook h)
{
	int reason = row_reason(w, h);
	__u8 payload[FRAME_MAX], in[FRAME_MAX], exp[FRAME_MAX];
	struct frame_spec is, es;
	struct frame_layout il, el;
	struct xr_stat before[XR_REASON_MAX], dir_before[XR_DIR_MAX];
	struct xr_flow_key k;
	struct xr_port_key pk;
	struct xr_flow v;
	struct xr_port port = { .flags = w->port_flags };
	struct run r;
	__u64 t0, t1;

	input_spec(w, &is, payload);
	if (w->tune_zero)
		tune_zero_sum(w, &is, payload);
	if (w->tune_in_zero)
		tune_in_zero_sum(w, &is, payload);
	CHECK_TRUE(frame_build(&is, in, &il), "build the input frame");
	mangle(w, in, &il);
	if (w->tune_zero)
		CHECK_TRUE(get16(in + il.l4 + 6) != 0,
			   "input udp.check is not 0 (precondition)");
	if (w->tune_in_zero)
		CHECK_EQ(get16(in + il.l4 + 6), 0xffff,
			 "input udp.check is 0xffff (precondition)");

	flow_key(w->family, &k);
	if (w->maps & M_FLOW) {
		flow_value(w, &v);
		/* IPv6 rows play leg B's flows, so both per-direction
		 * counters are exercised; forwarding must not change. */
		if (w->family == 6)
			v.flags |= XR_FLOW_F_FROM_B;
		CHECK_EQ(fastpath_flow_put(fp, &k, &v), 0, "put the flow");
	}
	if (w->maps & M_PORT) {
		port_key(w->family, &pk);
		CHECK_EQ(fastpath_port_put(fp, &pk, &port), 0, "put the port");
	}

	stats_get(before);
	CHECK_EQ(fastpath_dir_stats(fp, dir_before), 0, "fastpath_dir_stats()");
	t0 = now_ns(CLOCK_MONOTONIC_COARSE);
	prog_run(h, in, il.len, &r);
	t1 = now_ns(CLOCK_MONOTONIC);
	CHECK_EQ(r.err, 0, "bpf_prog_test_run_opts() error");
	CHECK_EQ(r.retval, verdict(h, reason), "verdict");
	check_stats_delta(before, reason, il.ip_len);
	check_dir_delta(dir_before, is_fwd(reason) ?
			(w->family == 6 ? XR_DIR_FROM_B : XR_DIR_FROM_A) : -1,
			il.ip_len);

	if (is_fwd(reason)) {
		output_spec(w, h, &is, &es);
		CHECK_TRUE(frame_build(&es, exp, &el),
			   "build the expected frame");
		check_fwd_frame(&r, w->family, exp, &el, in, &il, &es);
		if (w->udp_check)
			CHECK_EQ(get16(r.out + el.l4 + 6), w->udp_check,
				 "udp.check (exact)");
		check_flow_counters(&k, 1, il.ip_len, t0, t1);
		CHECK_EQ(fastpath_flow_get(fp, &k, &v), 0, "read the flow");
		if (v.flags & XR_FLOW_F_RTP_STATS) {
			CHECK_EQ(v.rtp_received, 1, "flow.rtp_received");
			CHECK_EQ(v.rtp_ssrc, RTP_SSRC, "flow.rtp_ssrc");
			CHECK_EQ(v.rtp_base_seq, RTP_SEQ, "flow.rtp_base_seq");
			CHECK_EQ(v.rtp_ext_max_seq, RTP_SEQ,
				 "flow.rtp_ext_max_seq");
		} else {
			CHECK_EQ(v.rtp_received | v.rtp_ssrc |
				 v.rtp_ext_max_seq, 0,
				 "rtp fields untouched without RTP_STATS");
		}
	} else {
		CHECK_EQ(r.out_len, il.len, "frame length (unchanged)");
		CHECK_MEM(r.out, in, il.len, "frame unchanged");
		if (w->maps & M_FLOW) {
			check_flow_counters(&k, 0, 0, t0, t1);
			CHECK_EQ(fastpath_flow_get(fp, &k, &v), 0,
				 "read the flow");
			CHECK_EQ(v.rtp_received | v.rtp_ssrc, 0,
				 "flow.rtp_* untouched (not forwarded)");
		}
	}
	if (w->maps & M_PORT) {
		int foreign = reason == XR_PASS_FOREIGN_SRC;

		CHECK_EQ(fastpath_port_get(fp, &pk, &port), 0,
			 "read the port back");
		CHECK_EQ(port.foreign_packets, foreign, "port.foreign_packets");
		CHECK_EQ(port.foreign_bytes, foreign ? il.ip_len : 0,
			 "port.foreign_bytes");
		CHECK_EQ(port.last_sample_ns, 0,
			 "port.last_sample_ns (not strict)");
	}
}

/* ---- strict ports: sample, drop, sample again --------------------------- */

static void run_strict(enum hook h, int family)
{
	const struct row w = { .name = "strict", .family = family,
			       .foreign = 1, .reason = XR_PASS_NO_ENTRY };
	struct xr_port port = { .flags = XR_PORT_F_LATCHED |
					 XR_PORT_F_STRICT };
	__u8 payload[FRAME_MAX], in[FRAME_MAX];
	struct xr_stat before[XR_REASON_MAX];
	struct frame_spec is;
	struct frame_layout il;
	struct xr_flow_key k;
	struct xr_port_key pk;
	struct xr_flow v;
	struct run r;
	__u64 t0, t1, now;

	input_spec(&w, &is, payload);
	CHECK_TRUE(frame_build(&is, in, &il), "build the input frame");
	flow_key(family, &k);
	flow_value(&w, &v);
	CHECK_EQ(fastpath_flow_put(fp, &k, &v), 0, "put the latched flow");
	port_key(family, &pk);
	CHECK_EQ(fastpath_port_put(fp, &pk, &port), 0, "put the port");

	/* First foreign packet: a sample goes up. */
	stats_get(before);
	t0 = now_ns(CLOCK_MONOTONIC_COARSE);
	prog_run(h, in, il.len, &r);
	t1 = now_ns(CLOCK_MONOTONIC);
	CHECK_EQ(r.err, 0, "1st: bpf_prog_test_run_opts() error");
	CHECK_EQ(r.retval, verdict(h, XR_PASS_FOREIGN_SAMPLE),
		 "1st: verdict (sample passed)");
	CHECK_MEM(r.out, in, il.len, "1st: frame unchanged");
	check_stats_delta(before, XR_PASS_FOREIGN_SAMPLE, il.ip_len);
	CHECK_EQ(fastpath_port_get(fp, &pk, &port), 0, "read the port");
	CHECK_EQ(port.foreign_packets, 1, "1st: port.foreign_packets");
	CHECK_EQ(port.foreign_bytes, il.ip_len, "1st: port.foreign_bytes");
	CHECK_TRUE(port.last_sample_ns >= t0 && port.last_sample_ns <= t1,
		   "1st: port.last_sample_ns is the time of the run");

	/* Within the interval: dropped in the kernel. */
	for (int i = 0; i < 3; i++) {
		stats_get(before);
		prog_run(h, in, il.len, &r);
		CHECK_EQ(r.err, 0, "next: bpf_prog_test_run_opts() error");
		CHECK_EQ(r.retval, verdict(h, XR_DROP_FOREIGN_SRC),
			 "next: verdict (dropped)");
		check_stats_delta(before, XR_DROP_FOREIGN_SRC, il.ip_len);
	}
	CHECK_EQ(fastpath_port_get(fp, &pk, &port), 0, "read the port");
	CHECK_EQ(port.foreign_packets, 4, "port.foreign_packets (1 + 3)");
	CHECK_EQ(port.foreign_bytes, 4 * il.ip_len, "port.foreign_bytes");

	/* The last sample longer ago than the interval: a sample again. */
	now = now_ns(CLOCK_MONOTONIC_COARSE);
	port.last_sample_ns = now - 2 * SAMPLE_NS;
	CHECK_EQ(fastpath_port_put(fp, &pk, &port), 0, "age the sample");
	stats_get(before);
	prog_run(h, in, il.len, &r);
	CHECK_EQ(r.retval, verdict(h, XR_PASS_FOREIGN_SAMPLE),
		 "after the interval: verdict (sample passed)");
	CHECK_MEM(r.out, in, il.len, "after the interval: frame unchanged");
	check_stats_delta(before, XR_PASS_FOREIGN_SAMPLE, il.ip_len);

	/* Just inside the interval: dropped. */
	port.last_sample_ns = now_ns(CLOCK_MONOTONIC_COARSE) -
			      SAMPLE_NS / 2;
	CHECK_EQ(fastpath_port_put(fp, &pk, &port), 0, "set the sample time");
	stats_get(before);
	prog_run(h, in, il.len, &r);
	CHECK_EQ(r.retval, verdict(h, XR_DROP_FOREIGN_SRC),
		 "inside the interval: verdict (dropped)");
	check_stats_delta(before, XR_DROP_FOREIGN_SRC, il.ip_len);

	/* The latched peer itself is still forwarded, not counted foreign. */
	check_flow_counters(&k, 0, 0, 0, 0);
}

/* ---- truncated frames --------------------------------------------------- */

/*
 * Whether the kernel's test_run may refuse (EINVAL) this cut before the TC
 * program sees it: for an skb test run, 6.18 wants the whole minimal IP
 * header behind an IPv4/IPv6 ethertype (20 / 40 bytes). A tag in front
 * hides the ethertype from that check, so the VLAN variants do reach the
 * TC program with every cut.
 */
static int tc_run_may_refuse(enum hook h, const __u8 *f, size_t len)
{
	if (h != HK_TC)
		return 0;
	if (get16(f + 12) == ETHERTYPE_IPV4)
		return len < 14 + 20;
	if (get16(f + 12) == ETHERTYPE_IPV6)
		return len < 14 + 40;
	return 0;
}

/*
 * family 4 or 6; 44 / 46: the same with one VLAN tag. Every length from 0
 * to the full frame minus one, with a matching flow installed. Frames
 * shorter than an Ethernet header are refused by test_run itself
 * (bpf_test_init(): size < ETH_HLEN -> EINVAL), and at TC so may be frames
 * whose IP header is cut (above); every other cut is XR_PASS_MALFORMED,
 * unchanged, at both hooks. The full frame is then forwarded (XDP) or, for
 * the tagged one at TC, passed as a stacked tag.
 */
static void run_truncated(enum hook h, int variant)
{
	const struct row w = { .name = "trunc", .family = variant % 10 == 4 ?
			       4 : 6, .tags = variant >= 40, .tci = 0x0064,
			       .flow_vlan = variant >= 40 ? 100 : 0,
			       .maps = M_FLOW, .reason = XR_FWD_TX };
	__u8 payload[FRAME_MAX], in[FRAME_MAX];
	struct xr_stat before[XR_REASON_MAX];
	struct frame_spec is;
	struct frame_layout il;
	struct xr_flow_key k;
	struct xr_flow v;
	struct run r;
	int full_reason, refused = 0;

	input_spec(&w, &is, payload);
	CHECK_TRUE(frame_build(&is, in, &il), "build the input frame");
	flow_key(w.family, &k);
	flow_value(&w, &v);
	CHECK_EQ(fastpath_flow_put(fp, &k, &v), 0, "put the flow");

	for (size_t len = 0; len < il.len; len++) {
		snprintf(cur_at, sizeof(cur_at), " len %zu (l3 at %zu, l4 at "
			 "%zu)", len, il.l3, il.l4);
		stats_get(before);
		prog_run(h, in, len, &r);
		if (len < 14) {
			CHECK_EQ(r.err, -EINVAL,
				 "test_run refuses a frame < ETH_HLEN");
			check_stats_delta(before, -1, 0);
			continue;
		}
		if (r.err == -EINVAL && tc_run_may_refuse(h, in, len)) {
			check_stats_delta(before, -1, 0);
			refused++;
			continue;
		}
		CHECK_EQ(r.err, 0, "bpf_prog_test_run_opts() error");
		CHECK_EQ(r.retval, verdict(h, XR_PASS_MALFORMED), "verdict");
		check_stats_delta(before, XR_PASS_MALFORMED, 0);
		CHECK_EQ(r.out_len, len, "frame length (unchanged)");
		CHECK_MEM(r.out, in, len, "frame unchanged");
	}
	check_flow_counters(&k, 0, 0, 0, 0);
	if (refused)
		print_message("# %s: test_run refused %d cut(s) past ETH_HLEN "
			      "(IP header shorter than its minimum)\n", cur,
			      refused);

	snprintf(cur_at, sizeof(cur_at), " full length %zu", il.len);
	full_reason = h == HK_TC && w.tags ? XR_PASS_VLAN : XR_FWD_TX;
	stats_get(before);
	prog_run(h, in, il.len, &r);
	CHECK_EQ(r.err, 0, "bpf_prog_test_run_opts() error");
	CHECK_EQ(r.retval, verdict(h, full_reason), "verdict");
	check_stats_delta(before, full_reason, il.ip_len);
}

/* ---- RTP observation ---------------------------------------------------- */

struct rtp_step {
	const char *what;
	__u16 seq;
	__u32 ssrc;
	__u8 byte0, pt;     /* first two RTP bytes (0x80 = V2) */
	size_t plen;        /* payload length */
	size_t pad_to;      /* Ethernet padding */
	/* The flow's RTP fields after the packet. */
	__u32 exp_ssrc, exp_base, exp_ext_max, exp_received;
};

#define SSRC1 0x11223344u
#define SSRC2 0xa5a5a5a5u

static const struct rtp_step rtp_steps[] = {
	{ "first packet", 65533, SSRC1, 0x80, 0, 172, 0,
	  SSRC1, 65533, 65533, 1 },
	{ "next in order", 65534, SSRC1, 0x80, 0, 172, 0,
	  SSRC1, 65533, 65534, 2 },
	{ "wrap with a gap (65535, 0 lost)", 1, SSRC1, 0x80, 0, 172, 0,
	  SSRC1, 65533, 0x10001, 3 },
	{ "next after the wrap", 2, SSRC1, 0x80, 0x80 | 0, 172, 0,
	  SSRC1, 65533, 0x10002, 4 },
	{ "gap (3, 4 lost)", 5, SSRC1, 0x80, 0, 172, 0,
	  SSRC1, 65533, 0x10005, 5 },
	{ "late packet: max unchanged", 4, SSRC1, 0x80, 0, 172, 0,
	  SSRC1, 65533, 0x10005, 6 },
	{ "duplicate: max unchanged", 5, SSRC1, 0x80, 0, 172, 0,
	  SSRC1, 65533, 0x10005, 7 },
	{ "not RTP (version 0): ignored", 6, SSRC1, 0x00, 0, 172, 0,
	  SSRC1, 65533, 0x10005, 7 },
	{ "not RTP (version 1): ignored", 6, SSRC1, 0x40, 0, 172, 0,
	  SSRC1, 65533, 0x10005, 7 },
	{ "muxed RTCP SR (PT 200): ignored", 6, SSRC1, 0x80, 200, 52, 0,
	  SSRC1, 65533, 0x10005, 7 },
	{ "muxed RTCP RR (PT 201): ignored", 6, SSRC1, 0x81, 201, 32, 0,
	  SSRC1, 65533, 0x10005, 7 },
	{ "muxed RTCP BYE (PT 203): ignored", 6, SSRC1, 0x81, 203, 8, 0,
	  SSRC1, 65533, 0x10005, 7 },
	{ "shorter than an RTP header: ignored", 6, SSRC1, 0x80, 0, 11, 0,
	  SSRC1, 65533, 0x10005, 7 },
	{ "4-byte keepalive, Ethernet padding: ignored", 6, SSRC1, 0x80, 0,
	  4, 60, SSRC1, 65533, 0x10005, 7 },
	{ "jump >= 3000: max unchanged", 5 + 3000, SSRC1, 0x80, 0, 172, 0,
	  SSRC1, 65533, 0x10005, 8 },
	{ "in order again", 6, SSRC1, 0x80, 0, 172, 0,
	  SSRC1, 65533, 0x10006, 9 },
	{ "new SSRC: restarts", 1000, SSRC2, 0x80, 8, 172, 0,
	  SSRC2, 1000, 1000, 1 },
	{ "new SSRC: next", 1001, SSRC2, 0x80, 8, 172, 0,
	  SSRC2, 1000, 1001, 2 },
};

static void run_rtp(enum hook h, int family)
{
	const struct row w = { .name = "rtp", .family = family,
			       .maps = M_FLOW,
			       .flow_flags = XR_FLOW_F_RTP_STATS,
			       .reason = XR_FWD_REDIRECT };
	__u8 payload[FRAME_MAX], in[FRAME_MAX], exp[FRAME_MAX];
	struct xr_stat before[XR_REASON_MAX];
	struct frame_spec is, es;
	struct frame_layout il, el;
	struct xr_flow_key k;
	struct xr_flow v;
	struct run r;
	__u64 bytes = 0, t0, t1 = 0;

	flow_key(family, &k);
	flow_value(&w, &v);
	CHECK_EQ(fastpath_flow_put(fp, &k, &v), 0, "put the flow");
	t0 = now_ns(CLOCK_MONOTONIC_COARSE);

	for (size_t i = 0; i < sizeof(rtp_steps) / sizeof(rtp_steps[0]);
	     i++) {
		const struct rtp_step *st = &rtp_steps[i];

		snprintf(cur_at, sizeof(cur_at), " step %zu (%s, seq %u)",
			 i + 1, st->what, st->seq);
		input_spec(&w, &is, payload);
		is.payload_len = st->plen;
		is.pad_to = st->pad_to;
		rtp_payload(payload, st->plen, st->seq, 160u * st->seq,
			    st->ssrc, st->pt);
		if (st->plen >= 2) {
			payload[0] = st->byte0;
			payload[1] = st->pt;
		}
		CHECK_TRUE(frame_build(&is, in, &il), "build the frame");
		output_spec(&w, h, &is, &es);
		CHECK_TRUE(frame_build(&es, exp, &el), "build the expected");

		stats_get(before);
		prog_run(h, in, il.len, &r);
		t1 = now_ns(CLOCK_MONOTONIC);
		CHECK_EQ(r.err, 0, "bpf_prog_test_run_opts() error");
		CHECK_EQ(r.retval, verdict(h, XR_FWD_REDIRECT),
			 "verdict (forwarding unchanged)");
		check_stats_delta(before, XR_FWD_REDIRECT, il.ip_len);
		check_fwd_frame(&r, family, exp, &el, in, &il, &es);
		bytes += il.ip_len;

		CHECK_EQ(fastpath_flow_get(fp, &k, &v), 0, "read the flow");
		CHECK_EQ(v.rtp_ssrc, st->exp_ssrc, "flow.rtp_ssrc");
		CHECK_EQ(v.rtp_base_seq, st->exp_base, "flow.rtp_base_seq");
		CHECK_EQ(v.rtp_ext_max_seq, st->exp_ext_max,
			 "flow.rtp_ext_max_seq (cycles << 16 | max)");
		CHECK_EQ(v.rtp_received, st->exp_received,
			 "flow.rtp_received");
	}
	snprintf(cur_at, sizeof(cur_at), " after all steps");
	check_flow_counters(&k, sizeof(rtp_steps) / sizeof(rtp_steps[0]),
			    bytes, t0, t1);
}

/*
 * Jitter (RFC 3550 A.8) from every 8th packet: 17 frames of one stream sent
 * back to back whose RTP timestamps advance 160 units (20 ms at 8 kHz)
 * each, so that every sampled pair, 8 packets apart, differs in transit by
 * 8 x 160 = 1,280 units (less the microseconds between runs, 0-1 unit).
 * The transit is taken at packets 1, 9 and 17 and left alone in between;
 * the estimate (stored << 4) is 1,280 after packet 9 and 1,280 + 1,280 -
 * 80 = 2,480 after packet 17.
 */
static void run_jitter(enum hook h, int family)
{
	const struct row w = { .name = "jitter", .family = family,
			       .maps = M_FLOW,
			       .flow_flags = XR_FLOW_F_RTP_STATS,
			       .reason = XR_FWD_REDIRECT };
	__u8 payload[FRAME_MAX], in[FRAME_MAX];
	struct frame_spec is;
	struct frame_layout il;
	struct xr_flow_key k;
	struct xr_flow v;
	struct run r;
	__s32 taken = 0;

	flow_key(family, &k);
	flow_value(&w, &v);
	CHECK_EQ(v.rtp_clock_khz, 8, "the flow's RTP clock (8 kHz)");
	CHECK_EQ(fastpath_flow_put(fp, &k, &v), 0, "put the flow");
	for (__u16 i = 1; i <= 17; i++) {
		snprintf(cur_at, sizeof(cur_at), " packet %u", i);
		input_spec(&w, &is, payload);
		rtp_payload(payload, is.payload_len, 100 + i, 160u * i,
			    SSRC1, 0);
		CHECK_TRUE(frame_build(&is, in, &il), "build the frame");
		prog_run(h, in, il.len, &r);
		CHECK_EQ(r.retval, verdict(h, XR_FWD_REDIRECT), "verdict");
		CHECK_EQ(fastpath_flow_get(fp, &k, &v), 0, "read the flow");
		CHECK_EQ(v.rtp_received, i, "flow.rtp_received");
		if (i == 1) {
			taken = v.rtp_last_transit;
			CHECK_EQ(v.rtp_jitter, 0, "no jitter from one packet");
		} else if ((i - 1) % 8) {
			CHECK_EQ(v.rtp_last_transit, taken,
				 "transit not taken between samples");
		} else {
			__s32 d = taken - v.rtp_last_transit;
			__u32 lo = i == 9 ? 1278 : 2474, hi = i == 9 ? 1280 : 2480;

			CHECK_TRUE(d >= 1279 && d <= 1280,
				   "transit 8 packets on: 1,280 units less");
			CHECK_TRUE(v.rtp_jitter >= lo && v.rtp_jitter <= hi,
				   "the jitter estimate (RTP units << 4)");
			taken = v.rtp_last_transit;
		}
	}
}

/*
 * Every IPv4 row again with the flow in xr_fast4, the per-port array the
 * engine uses for its IPv4 ports (the relay's address given one entry, at
 * RELAY_A_PORT): the same verdicts, frames, checksums and counters, and
 * the flow is not in xr_flows. Foreign sources, missing flows and family
 * changes fall back to xr_flows and xr_ports exactly as before.
 */
static void run_fast4_rows(enum hook h, int family)
{
	struct fastpath_addr4 a = { .slot = { .base = 0,
					      .port_min = RELAY_A_PORT,
					      .nports = 1 } };
	struct xr_flow_key k;
	struct xr_flow v;

	(void)family;
	memcpy(&a.addr, addrs4.relay_a, 4);
	CHECK_EQ(fastpath_fast4_layout(fp, &a, 1), 0, "the IPv4 port table");
	in_fast4_rows = 1;
	for (size_t i = 0; i < NROWS; i++) {
		const struct row *w = &rows[i];

		if (w->family != 4)
			continue;
		maps_reset();
		snprintf(cur_at, sizeof(cur_at), " (row %s, in xr_fast4)",
			 w->name);
		run_row(w, h);
		flow_key(4, &k);
		if (w->maps & M_FLOW)
			CHECK_TRUE(bpf_map_lookup_elem(fastpath_flows_fd(fp), &k,
						       &v) != 0,
				   "the flow is in xr_fast4, not in xr_flows");
	}
	in_fast4_rows = 0;
	maps_reset(); /* and the table */
	cur_at[0] = 0;
	flow_key(4, &k);
	memset(&v, 0, sizeof(v));
	CHECK_EQ(fastpath_flow_put(fp, &k, &v), 0, "a flow without the table");
	CHECK_EQ(bpf_map_lookup_elem(fastpath_flows_fd(fp), &k, &v), 0,
		 "... is in xr_flows");
}

/* ---- main --------------------------------------------------------------- */

static void test_case(void **state)
{
	const struct tcase *tc = *state;

	cur = tc->name;
	cur_at[0] = 0;
	if (tc->row)
		run_row(tc->row, tc->hook);
	else
		tc->fn(tc->hook, tc->family);
}

struct special {
	const char *name;
	void (*fn)(enum hook h, int family);
	int family; /* or variant */
};

static const struct special specials[] = {
	{ "ipv4-foreign-strict-sample-then-drop", run_strict, 4 },
	{ "ipv6-foreign-strict-sample-then-drop", run_strict, 6 },
	{ "ipv4-truncated-at-every-byte", run_truncated, 4 },
	{ "ipv6-truncated-at-every-byte", run_truncated, 6 },
	{ "vlan-ipv4-truncated-at-every-byte", run_truncated, 44 },
	{ "vlan-ipv6-truncated-at-every-byte", run_truncated, 46 },
	{ "ipv4-rtp-observation", run_rtp, 4 },
	{ "ipv6-rtp-observation", run_rtp, 6 },
	{ "ipv4-rtp-jitter-every-8th", run_jitter, 4 },
	{ "ipv4-every-row-in-the-port-array", run_fast4_rows, 4 },
};

#define NSPECIALS (sizeof(specials) / sizeof(specials[0]))
#define NTESTS ((NROWS + NSPECIALS) * HK_N)

static struct tcase cases[NTESTS];
static struct CMUnitTest tests[NTESTS];

int main(void)
{
	size_t n = 0;
	int rc;

	atexit(unpin_now);
#ifdef __SANITIZE_ADDRESS__
	__sanitizer_set_death_callback(unpin_now);
#endif
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	for (int h = 0; h < HK_N; h++) {
		for (size_t i = 0; i < NROWS; i++, n++) {
			cases[n].row = &rows[i];
			cases[n].hook = h;
			snprintf(cases[n].name, sizeof(cases[n].name), "%s %s",
				 hook_names[h], rows[i].name);
		}
		for (size_t i = 0; i < NSPECIALS; i++, n++) {
			cases[n].fn = specials[i].fn;
			cases[n].family = specials[i].family;
			cases[n].hook = h;
			snprintf(cases[n].name, sizeof(cases[n].name), "%s %s",
				 hook_names[h], specials[i].name);
		}
	}
	for (size_t i = 0; i < n; i++)
		tests[i] = (struct CMUnitTest){ .name = cases[i].name,
						.test_func = test_case,
						.setup_func = test_setup,
						.initial_state = &cases[i] };
	rc = _cmocka_run_group_tests("test_bpf_prog", tests, n, group_setup,
				     group_teardown);
	unpin_now();
	return rc;
}
