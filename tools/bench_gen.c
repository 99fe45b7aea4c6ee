// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_gen: the traffic generator and the sink of tools/bench_media.sh.
 * Both are tiny XDP programs built here from raw instructions (no object
 * file, nothing for the Makefile beyond this file).
 *
 *   bench_gen send --dev IF --src-mac MAC --dst-mac MAC --from IP:PORT
 *                  --to IP:PORT [--payload N] [--seconds S] [--batch N]
 *                  [--hold-dev IF2]
 *       Blasts one IPv4 RTP frame (14 + 20 + 8 + 12 + N bytes; N = 160 by
 *       default: a 214-byte G.711 frame), with correct IPv4 and UDP
 *       checksums, out of IF (in the current network namespace) for S
 *       seconds (default 2), as fast as the path behind IF takes them.
 *       It runs an XDP program that writes the frame's 54 bytes of
 *       headers back (see load_prog) and returns XDP_TX, through
 *       BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES and ingress
 *       IF: the kernel really transmits every run's frame on IF (through
 *       its ndo_xdp_xmit; into a veth that needs NAPI on the peer end: an
 *       XDP program or GRO there). Calls of adaptive length (about 50 ms
 *       each) until S seconds have passed; the frame count is what the
 *       kernel ran, which is what it tried to transmit (a veth whose peer's
 *       ring is full drops the excess: that is the receiver's loss).
 *       With --hold-dev, the program is also attached (native XDP) to IF2,
 *       a device that must carry no traffic (a veth pair left down) for
 *       as long as the blast lasts: a test run with .repeat > 1 puts the
 *       program into the kernel's XDP dispatcher and takes it out again,
 *       with a synchronize_rcu() each way (tens of ms here, so about half
 *       of the time of 50-ms calls), unless it is there already.
 *       Prints frames=, elapsed_ns=, cpu_ns= (this process's own CPU time
 *       over the blast, CLOCK_PROCESS_CPUTIME_ID: with tick-based CPU
 *       accounting it includes the softirq work the transmit triggers in
 *       this process's context, i.e. the receiver's NAPI poll), pps=.
 *
 *   bench_gen drop --dev IF
 *       Attaches (native mode) an XDP program that drops every frame to
 *       IF and exits; the attachment stays until the device goes. The
 *       veth counts each frame it ran the program on (rx_packets). ARP is
 *       dropped too: give the neighbours permanent entries.
 *
 * Exit: 0 on success, 1 when a system call fails, 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "inet_csum.h"

#define ETH_LEN 14
#define IP_LEN 20
#define UDP_LEN 8
#define RTP_LEN 12
#define MAX_PAYLOAD 1400
#define XDP_DROP_ 1
#define XDP_TX_ 3
#define CHUNK_NS 50000000ll /* aim for calls of about 50 ms */
#define HDR_LEN (ETH_LEN + IP_LEN + UDP_LEN + RTP_LEN) /* written back */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int usage(void)
{
	fprintf(stderr,
"usage: bench_gen send --dev IF --src-mac MAC --dst-mac MAC --from IP:PORT\n"
"                      --to IP:PORT [--payload N] [--seconds S] [--batch N]\n"
"                      [--hold-dev IF2]\n"
"       bench_gen drop --dev IF\n");
	return 2;
}

static long long ns_of(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src,
			    int16_t off, int32_t imm)
{
	struct bpf_insn i;

	memset(&i, 0, sizeof(i));
	i.code = code;
	i.dst_reg = dst & 0xf;
	i.src_reg = src & 0xf;
	i.off = off;
	i.imm = imm;
	return i;
}

/*
 * The sink's program (hdr NULL): return XDP_DROP. The generator's (hdr):
 * write the first hlen bytes (a multiple of 2) of the frame back from hdr,
 * then return XDP_TX. Live frames are initialised from data_in only when
 * their page is first allocated; a page comes back to the pool as the last
 * program that handled the frame left it, and the relay rewrites addresses,
 * ports and checksums in place: without the rewrite back only the first
 * use of each page would match the relay's flow.
 */
static int load_prog(const uint8_t *hdr, size_t hlen)
{
	struct bpf_insn p[64];
	int n = 0, fd;

	if (hdr) {
		/* r2 = data, r3 = data_end; if (r2 + hlen > r3) drop */
		p[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1,
			      offsetof(struct xdp_md, data), 0);
		p[n++] = insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1,
			      offsetof(struct xdp_md, data_end), 0);
		p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4,
			      BPF_REG_2, 0, 0);
		p[n++] = insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_4, 0, 0,
			      (int32_t)hlen);
		p[n++] = insn(BPF_JMP | BPF_JGT | BPF_X, BPF_REG_4, BPF_REG_3,
			      (int16_t)(((hlen + 3) / 4) + 2), 0);
		for (size_t o = 0; o < hlen; o += 4) {
			uint32_t w = 0;
			uint16_t h;

			if (hlen - o >= 4) {
				memcpy(&w, hdr + o, 4);
				p[n++] = insn(BPF_ST | BPF_MEM | BPF_W,
					      BPF_REG_2, 0, (int16_t)o,
					      (int32_t)w);
			} else {
				memcpy(&h, hdr + o, 2);
				p[n++] = insn(BPF_ST | BPF_MEM | BPF_H,
					      BPF_REG_2, 0, (int16_t)o, h);
			}
		}
		p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0,
			      XDP_TX_);
		p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
	p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_DROP_);
	p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, hdr ? "bench_gen_tx"
			   : "bench_gen_drop", "GPL", p, (size_t)n, NULL);
	if (fd < 0)
		fprintf(stderr, "bench_gen: loading the XDP program: %s\n",
			strerror(-fd));
	return fd;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned m[6];
	char end;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3],
		   &m[4], &m[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (m[i] > 255)
			return -1;
		mac[i] = (uint8_t)m[i];
	}
	return 0;
}

/* "a.b.c.d:port" -> address and port in network order. */
static int parse_ap(const char *s, struct in_addr *a, uint16_t *port)
{
	char buf[64], *c;
	long p;

	snprintf(buf, sizeof(buf), "%s", s);
	c = strrchr(buf, ':');
	if (!c)
		return -1;
	*c++ = 0;
	p = strtol(c, &c, 10);
	if (*c || p < 1 || p > 65535 || inet_pton(AF_INET, buf, a) != 1)
		return -1;
	*port = htons((uint16_t)p);
	return 0;
}

/* An Ethernet/IPv4/UDP/RTP frame with every checksum right; its length. */
static size_t build_frame(uint8_t *f, const uint8_t *smac, const uint8_t *dmac,
			  struct in_addr sa, uint16_t sp, struct in_addr da,
			  uint16_t dp, size_t payload)
{
	uint8_t *ip = f + ETH_LEN, *udp = ip + IP_LEN, *rtp = udp + UDP_LEN;
	size_t ulen = UDP_LEN + RTP_LEN + payload;
	uint16_t v;

	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08, f[13] = 0x00;
	memset(ip, 0, IP_LEN);
	ip[0] = 0x45;
	v = htons((uint16_t)(IP_LEN + ulen));
	memcpy(ip + 2, &v, 2);
	ip[6] = 0x40; /* DF */
	ip[8] = 64;   /* TTL */
	ip[9] = 17;   /* UDP */
	memcpy(ip + 12, &sa, 4);
	memcpy(ip + 16, &da, 4);
	v = inet_csum_fold(inet_csum_add(0, ip, IP_LEN));
	memcpy(ip + 10, &v, 2);
	memcpy(udp, &sp, 2);
	memcpy(udp + 2, &dp, 2);
	v = htons((uint16_t)ulen);
	memcpy(udp + 4, &v, 2);
	memset(udp + 6, 0, 2);
	rtp[0] = 0x80;            /* V=2 */
	rtp[1] = 0;               /* PT 0: PCMU */
	rtp[2] = 0x12, rtp[3] = 0x34;             /* sequence */
	memset(rtp + 4, 0, 4);                    /* timestamp */
	rtp[8] = 0xbe, rtp[9] = 0x4c, rtp[10] = 0x00, rtp[11] = 0x01; /* SSRC */
	memset(rtp + RTP_LEN, 0xff, payload);     /* G.711 mu-law silence */
	v = inet_udp_csum(&sa, &da, 4, udp, ulen);
	memcpy(udp + 6, &v, 2);
	return ETH_LEN + IP_LEN + ulen;
}

static int cmd_send(int ifindex, const uint8_t *frame, size_t len,
		    double seconds, unsigned batch, int hold)
{
	struct xdp_md ctx = { .data_end = (uint32_t)len,
			      .ingress_ifindex = (uint32_t)ifindex };
	long long t0, t1, c0, c1, deadline, frames = 0;
	uint32_t chunk = 16384;
	int fd, err, failed = 0;

	fd = load_prog(frame, HDR_LEN);
	if (fd < 0)
		return 1;
	if (hold > 0) {
		err = bpf_xdp_attach(hold, fd, XDP_FLAGS_DRV_MODE |
				     XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
		if (err) {
			fprintf(stderr, "bench_gen: attaching to the hold "
				"device (ifindex %d): %s\n", hold,
				strerror(-err));
			close(fd);
			return 1;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = ns_of(CLOCK_MONOTONIC);
	c0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	deadline = t0 + (long long)(seconds * 1e9);
	for (long long now = t0; now < deadline && !stop;) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
			    .data_size_in = (uint32_t)len, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = chunk,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			    .batch_size = batch);
		long long dt;

		err = bpf_prog_test_run_opts(fd, &o);
		if (err && errno == EINTR)
			break;
		if (err) {
			fprintf(stderr, "bench_gen: BPF_PROG_TEST_RUN (live "
				"frames) on ifindex %d: %s\n", ifindex,
				strerror(errno));
			failed = 1;
			break;
		}
		frames += chunk;
		dt = ns_of(CLOCK_MONOTONIC) - now;
		now += dt;
		/* the next call: about CHUNK_NS long, never past the end */
		if (dt > 0) {
			double rate = (double)chunk / (double)dt;
			long long left = deadline - now;
			double want = rate * (double)(left < CHUNK_NS ? left
							 : CHUNK_NS);

			chunk = want < 256 ? 256 : want > 4e6 ? 4000000
			      : (uint32_t)want;
		}
	}
	t1 = ns_of(CLOCK_MONOTONIC);
	c1 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	if (hold > 0)
		bpf_xdp_detach(hold, XDP_FLAGS_DRV_MODE, NULL);
	close(fd);
	if (failed)
		return 1;
	printf("frames=%lld\nelapsed_ns=%lld\ncpu_ns=%lld\npps=%.0f\n", frames,
	       t1 - t0, c1 - c0, t1 > t0 ? (double)frames * 1e9 / (double)(t1 - t0)
	       : 0.0);
	return 0;
}

static int cmd_drop(int ifindex, const char *dev)
{
	int fd = load_prog(NULL, 0), err;

	if (fd < 0)
		return 1;
	err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
	close(fd);
	if (err) {
		fprintf(stderr, "bench_gen: attaching the drop program to %s "
			"(native XDP): %s\n", dev, strerror(-err));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", 1, 0, 'd' }, { "src-mac", 1, 0, 's' },
		{ "dst-mac", 1, 0, 'm' }, { "from", 1, 0, 'f' },
		{ "to", 1, 0, 't' }, { "payload", 1, 0, 'p' },
		{ "seconds", 1, 0, 'S' }, { "batch", 1, 0, 'b' },
		{ "hold-dev", 1, 0, 'H' }, { 0, 0, 0, 0 },
	};
	uint8_t smac[6], dmac[6], frame[ETH_LEN + IP_LEN + UDP_LEN + RTP_LEN +
					MAX_PAYLOAD];
	const char *dev = NULL, *hold_dev = NULL, *cmd;
	int have = 0, c, ifindex, hold = 0;
	struct in_addr sa, da;
	uint16_t sp = 0, dp = 0;
	unsigned long payload = 160, batch = 64;
	double seconds = 2;
	char *end;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 's':
			if (parse_mac(optarg, smac))
				return usage();
			have |= 1;
			break;
		case 'm':
			if (parse_mac(optarg, dmac))
				return usage();
			have |= 2;
			break;
		case 'f':
			if (parse_ap(optarg, &sa, &sp))
				return usage();
			have |= 4;
			break;
		case 't':
			if (parse_ap(optarg, &da, &dp))
				return usage();
			have |= 8;
			break;
		case 'p':
			payload = strtoul(optarg, &end, 10);
			if (*end || payload > MAX_PAYLOAD)
				return usage();
			break;
		case 'S':
			seconds = strtod(optarg, &end);
			if (*end || seconds <= 0 || seconds > 3600)
				return usage();
			break;
		case 'H': hold_dev = optarg; break;
		case 'b':
			batch = strtoul(optarg, &end, 10);
			if (*end || batch < 1 || batch > 256)
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (!dev || optind != argc)
		return usage();
	ifindex = (int)if_nametoindex(dev);
	if (!ifindex) {
		fprintf(stderr, "bench_gen: no interface %s here\n", dev);
		return 1;
	}
	if (hold_dev && !(hold = (int)if_nametoindex(hold_dev))) {
		fprintf(stderr, "bench_gen: no interface %s here\n", hold_dev);
		return 1;
	}
	if (!strcmp(cmd, "drop"))
		return cmd_drop(ifindex, dev);
	if (strcmp(cmd, "send") || have != 15)
		return usage();
	return cmd_send(ifindex, frame, build_frame(frame, smac, dmac, sa, sp,
			da, dp, payload), seconds, (unsigned)batch, hold);
}
