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
 *   bench_gen send --dev IF --src-mac MAC --dst-mac MAC --streams FILE
 *                  [--dir ab|ba] [--calls N] [--rate PPS [--chunk-ms MS]]
 *                  [--rounds K [--wave W]] [--seconds S] [--payload N]
 *                  [--batch N] [--hold-dev IF2]
 *       Many streams (tools/bench_density.sh): FILE has one call a line,
 *       "A_IP A_PORT RA_IP RA_PORT RB_IP RB_PORT B_IP B_PORT" (peer A,
 *       the relay's address and port for A, the relay's for B, peer B;
 *       tools/bench_ng.c writes it), the first N lines are used (default
 *       all). Direction ab sends from A to RA:RA_PORT, ba from B to
 *       RB:RB_PORT. Each frame is the next stream's, round robin: the
 *       program keeps one template per stream in an array map (its 54
 *       bytes of Ethernet/IPv4/UDP/RTP headers, its next sequence number
 *       and RTP timestamp) and writes them into the frame, then advances
 *       them (sequence + 1, timestamp + 160: 20 ms of 8 kHz G.711), puts
 *       bpf_ktime_get_ns() (CLOCK_MONOTONIC) into the payload's first 8
 *       bytes, followed by the marker "XRLY" (for bench_gen latency), and
 *       updates the UDP checksum incrementally from the template's. Each
 *       stream has its own SSRC, and its own first sequence number and
 *       timestamp. --rate paces the frames (PPS over all streams, in
 *       chunks of MS milliseconds' worth, 1 by default; 0, the default
 *       rate: as fast as the path takes them), --rounds stops after K frames per stream (K * N in
 *       all), --seconds after S seconds, whichever comes first. With
 *       --wave, the streams go in waves of W: K frames each for streams
 *       0..W-1 (round robin among them, PPS being the rate of a whole
 *       wave), then the same for streams W..2W-1, and so on: calls whose
 *       media starts W at a time.
 *       Prints frames=, elapsed_ns=, cpu_ns=, pps= as above, and streams=.
 *
 *   bench_gen drop --dev IF
 *       Attaches (native mode) an XDP program that drops every frame to
 *       IF and exits; the attachment stays until the device goes. The
 *       veth counts each frame it ran the program on (rx_packets). ARP is
 *       dropped too: give the neighbours permanent entries.
 *
 *   bench_gen latency --dev IF --seconds S
 *       One-way latency: replaces IF's program by one that, for each
 *       frame carrying the marker of a streams frame, takes
 *       bpf_ktime_get_ns() minus the time the generator wrote into it
 *       (the namespaces share the clock) into a histogram of 256-ns
 *       buckets (up to 16.7 ms), and drops the frame, like drop. After S
 *       seconds (or SIGINT/SIGTERM) it puts the drop program back and
 *       prints samples=, p50_ns=, p90_ns=, p99_ns=, max_ns= (bucket upper
 *       bounds; max: the top bucket seen).
 *
 *   bench_gen flows --pin-dir DIR [--rounds K]
 *       Reads xrelay's flows pinned in DIR (xr_flows and the in-use
 *       entries of the IPv4 per-port array xr_fast4, if pinned) and prints
 *       flows= (entries) and, with K (the frames per stream the latch
 *       phase sent), when the kernel took each flow over: the flow's
 *       kernel packet counter is what it forwarded, so the first frame it
 *       forwarded was number K - packets + 1 of its stream (1-based; 2 =
 *       the stream's second packet). Prints first_kernel_2nd= (flows whose
 *       second packet was the kernel's first), first_kernel_p50=,
 *       first_kernel_p99=, first_kernel_max= (frame numbers over the
 *       flows), kernel_none= (flows that forwarded nothing).
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

#include "bench_util.h"
#include "xrelay_abi.h"
#include "xr_pinned_flows.h"

#define RTP_LEN 12
#define MAX_PAYLOAD 1400
#define XDP_DROP_ 1
#define XDP_TX_ 3
#define CHUNK_NS 50000000ll /* aim for calls of about 50 ms */
#define HDR_LEN (ETH_LEN + IP_LEN + UDP_LEN + RTP_LEN) /* written back */

/* Streams mode: frame offsets (IPv4 without options) and the template. */
#define OFF_UDP_CSUM (ETH_LEN + IP_LEN + 6)        /* 40 */
#define OFF_RTP (ETH_LEN + IP_LEN + UDP_LEN)       /* 42 */
#define OFF_SEQ (OFF_RTP + 2)                      /* 44 */
#define OFF_TS (OFF_RTP + 4)                       /* 46 */
#define OFF_STAMP HDR_LEN                          /* 54: 8 bytes */
#define OFF_MARK (OFF_STAMP + 8)                   /* 62: "XRLY" */
#define MARK "XRLY"
#define LAT_SHIFT 8        /* latency histogram: 256-ns buckets */
#define LAT_BUCKETS 65536  /* up to 16.7 ms; the last one: beyond */

struct gen_ctr {        /* the next stream, and the window rotated over */
	uint32_t next, lo, hi, pad;
};

struct gen_tpl {        /* one stream, in the array map (72 bytes) */
	uint8_t hdr[56];    /* HDR_LEN bytes of headers, 2 unused */
	uint32_t seq;       /* next RTP sequence number, host order */
	uint32_t ts;        /* next RTP timestamp, host order */
	uint32_t sum;       /* 16-bit one's complement sum of the UDP
			     * checksum's words with sequence, timestamp and
			     * stamp zero (the check field not included) */
	uint32_t pad;
};

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
"       bench_gen send --dev IF --src-mac MAC --dst-mac MAC --streams FILE\n"
"                      [--dir ab|ba] [--calls N] [--rate PPS [--chunk-ms MS]]\n"
"                      [--rounds K [--wave W]] [--seconds S] [--payload N]\n"
"                      [--batch N] [--hold-dev IF2]\n"
"       bench_gen drop --dev IF\n"
"       bench_gen latency --dev IF --seconds S\n"
"       bench_gen flows --pin-dir DIR [--rounds K]\n");
	return 2;
}

static long long ns_of(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* The frames of the next test run, after one of SENT frames took DT ns
 * (> 0) with LEFT ns to go: about CHUNK_NS long at that rate, never past
 * the end, 256 to 4,000,000. */
static uint32_t chunk_next(uint32_t sent, long long dt, long long left)
{
	double want = (double)sent / (double)dt *
		      (double)(left < CHUNK_NS ? left : CHUNK_NS);

	return want < 256 ? 256 : want > 4e6 ? 4000000 : (uint32_t)want;
}

/* A 64-bit load of a map's fd (two instructions). */
static int ld_map(struct bpf_insn *p, uint8_t dst, int fd)
{
	p[0] = insn(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd);
	p[1] = insn(0, 0, 0, 0, 0);
	return 2;
}

static int prog_load(const char *name, const struct bpf_insn *p, size_t n)
{
	char log[65536];
	LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log,
		    .log_size = sizeof(log), .log_level = 0);
	int fd;

	log[0] = 0;
	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", p, n, &o);
	if (fd < 0 && errno == EACCES) { /* again, with the verifier's log */
		o.log_level = 1;
		fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", p, n, &o);
	}
	if (fd < 0)
		fprintf(stderr, "bench_gen: loading the XDP program %s: %s\n%s",
			name, strerror(errno), log);
	return fd;
}

/*
 * The streams generator: frame i of a call gets the template of stream
 * (counter++ % n) written into its first HDR_LEN bytes, the template's
 * sequence number and timestamp (then advanced), the time and a new UDP
 * checksum. r6 ctx, r7 data, r9 template; returns XDP_TX.
 */
static int load_streams_prog(int ctr_fd, int tpl_fd, uint32_t n)
{
	static const int16_t words[] = { OFF_SEQ, OFF_TS, OFF_TS + 2,
		OFF_STAMP, OFF_STAMP + 2, OFF_STAMP + 4, OFF_STAMP + 6 };
	struct bpf_insn p[128];
	int k = 0, jdrop[5], nj = 0;

#define I(...) (p[k++] = insn(__VA_ARGS__))
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0);
	I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_7, BPF_REG_6,
	  offsetof(struct xdp_md, data), 0);
	I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_8, BPF_REG_6,
	  offsetof(struct xdp_md, data_end), 0);
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_7, 0, 0);
	I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, OFF_MARK);
	jdrop[nj++] = k;
	I(BPF_JMP | BPF_JGT | BPF_X, BPF_REG_2, BPF_REG_8, 0, 0);
	/* i = next; next = i + 1 < hi ? i + 1 : lo (struct gen_ctr) */
	I(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0);
	k += ld_map(&p[k], BPF_REG_1, ctr_fd);
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
	I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4);
	I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	jdrop[nj++] = k;
	I(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, 0);
	I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_1, BPF_REG_0,
	  offsetof(struct gen_ctr, next), 0);
	I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_0,
	  offsetof(struct gen_ctr, hi), 0);
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_1, 0, 0);
	I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, 1);
	I(BPF_JMP | BPF_JLT | BPF_X, BPF_REG_2, BPF_REG_3, 1, 0);
	I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_0,
	  offsetof(struct gen_ctr, lo), 0);
	I(BPF_STX | BPF_MEM | BPF_W, BPF_REG_0, BPF_REG_2,
	  offsetof(struct gen_ctr, next), 0);
	/* an index past the templates (a bad lo/hi): drop */
	jdrop[nj++] = k;
	I(BPF_JMP | BPF_JGE | BPF_K, BPF_REG_1, 0, 0, (int32_t)n);
	I(BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_1, -8, 0);
	k += ld_map(&p[k], BPF_REG_1, tpl_fd);
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
	I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -8);
	I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	jdrop[nj++] = k;
	I(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, 0);
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_9, BPF_REG_0, 0, 0);
	/* the headers: 6 x 8 + 4 + 2 bytes */
	for (int o = 0; o < 48; o += 8) {
		I(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_9, o, 0);
		I(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_1, o, 0);
	}
	I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_1, BPF_REG_9, 48, 0);
	I(BPF_STX | BPF_MEM | BPF_W, BPF_REG_7, BPF_REG_1, 48, 0);
	I(BPF_LDX | BPF_MEM | BPF_H, BPF_REG_1, BPF_REG_9, 52, 0);
	I(BPF_STX | BPF_MEM | BPF_H, BPF_REG_7, BPF_REG_1, 52, 0);
	/* sequence number and timestamp, then advanced in the template */
	I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_1, BPF_REG_9,
	  offsetof(struct gen_tpl, seq), 0);
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_1, 0, 0);
	I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, 1);
	I(BPF_STX | BPF_MEM | BPF_W, BPF_REG_9, BPF_REG_2,
	  offsetof(struct gen_tpl, seq), 0);
	I(BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_1, 0, 0, 16);
	I(BPF_STX | BPF_MEM | BPF_H, BPF_REG_7, BPF_REG_1, OFF_SEQ, 0);
	I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_1, BPF_REG_9,
	  offsetof(struct gen_tpl, ts), 0);
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_1, 0, 0);
	I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, 160);
	I(BPF_STX | BPF_MEM | BPF_W, BPF_REG_9, BPF_REG_2,
	  offsetof(struct gen_tpl, ts), 0);
	I(BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_1, 0, 0, 32);
	I(BPF_STX | BPF_MEM | BPF_W, BPF_REG_7, BPF_REG_1, OFF_TS, 0);
	/* the send time */
	I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ktime_get_ns);
	I(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_7, BPF_REG_0, OFF_STAMP, 0);
	/* UDP checksum: the template's sum plus the words written */
	I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_1, BPF_REG_9,
	  offsetof(struct gen_tpl, sum), 0);
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		I(BPF_LDX | BPF_MEM | BPF_H, BPF_REG_2, BPF_REG_7, words[w], 0);
		I(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_1, BPF_REG_2, 0, 0);
	}
	for (int f = 0; f < 2; f++) {
		I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_1, 0, 0);
		I(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 16);
		I(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_1, 0, 0, 0xffff);
		I(BPF_ALU64 | BPF_ADD | BPF_X, BPF_REG_1, BPF_REG_2, 0, 0);
	}
	I(BPF_ALU64 | BPF_XOR | BPF_K, BPF_REG_1, 0, 0, 0xffff);
	I(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_1, 0, 1, 0);
	I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 0xffff);
	I(BPF_STX | BPF_MEM | BPF_H, BPF_REG_7, BPF_REG_1, OFF_UDP_CSUM, 0);
	I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_TX_);
	I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	for (int j = 0; j < nj; j++)
		p[jdrop[j]].off = (int16_t)(k - jdrop[j] - 1);
	I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_DROP_);
	I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
#undef I
	return prog_load("bench_gen_strm", p, (size_t)k);
}

/*
 * The latency sink: a frame with the marker at OFF_MARK (IPv4 without
 * options, UDP) adds one to bucket (now - stamp) >> LAT_SHIFT of the
 * histogram; every frame is dropped.
 */
static int load_latency_prog(int hist_fd)
{
	struct bpf_insn p[64];
	uint32_t mark, ethertype = htons(0x0800);
	int k = 0, jdrop[8], nj = 0;

	memcpy(&mark, MARK, 4);
#define I(...) (p[k++] = insn(__VA_ARGS__))
#define JDROP(...) (jdrop[nj++] = k, I(__VA_ARGS__))
	I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1,
	  offsetof(struct xdp_md, data), 0);
	I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1,
	  offsetof(struct xdp_md, data_end), 0);
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0);
	I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_4, 0, 0, OFF_MARK + 4);
	JDROP(BPF_JMP | BPF_JGT | BPF_X, BPF_REG_4, BPF_REG_3, 0, 0);
	I(BPF_LDX | BPF_MEM | BPF_H, BPF_REG_4, BPF_REG_2, 12, 0);
	JDROP(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int32_t)ethertype);
	I(BPF_LDX | BPF_MEM | BPF_B, BPF_REG_4, BPF_REG_2, ETH_LEN, 0);
	JDROP(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, 0x45);
	I(BPF_LDX | BPF_MEM | BPF_B, BPF_REG_4, BPF_REG_2, ETH_LEN + 9, 0);
	JDROP(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, 17);
	I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_2, OFF_MARK, 0);
	JDROP(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int32_t)mark);
	I(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_6, BPF_REG_2, OFF_STAMP, 0);
	I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ktime_get_ns);
	I(BPF_ALU64 | BPF_SUB | BPF_X, BPF_REG_0, BPF_REG_6, 0, 0);
	I(BPF_JMP | BPF_JSGT | BPF_K, BPF_REG_0, 0, 1, 0);
	I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	I(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_0, 0, 0, LAT_SHIFT);
	I(BPF_JMP | BPF_JLT | BPF_K, BPF_REG_0, 0, 1, LAT_BUCKETS);
	I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, LAT_BUCKETS - 1);
	I(BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_0, -4, 0);
	k += ld_map(&p[k], BPF_REG_1, hist_fd);
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
	I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4);
	I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	JDROP(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, 0);
	I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 1);
	I(BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_0, BPF_REG_1, 0, BPF_ADD);
	for (int j = 0; j < nj; j++)
		p[jdrop[j]].off = (int16_t)(k - jdrop[j] - 1);
	I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_DROP_);
	I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
#undef JDROP
#undef I
	return prog_load("bench_gen_lat", p, (size_t)k);
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

/* An Ethernet/IPv4/UDP/RTP frame with every checksum right; its length. */
static size_t build_frame(uint8_t *f, const uint8_t *smac, const uint8_t *dmac,
			  struct in_addr sa, uint16_t sp, struct in_addr da,
			  uint16_t dp, size_t payload)
{
	size_t plen = RTP_LEN + payload;
	uint8_t *rtp = frame_headers(f, smac, dmac, sa.s_addr, sp, da.s_addr,
				     dp, plen);

	rtp[0] = 0x80;            /* V=2 */
	rtp[1] = 0;               /* PT 0: PCMU */
	rtp[2] = 0x12, rtp[3] = 0x34;             /* sequence */
	memset(rtp + 4, 0, 4);                    /* timestamp */
	rtp[8] = 0xbe, rtp[9] = 0x4c, rtp[10] = 0x00, rtp[11] = 0x01; /* SSRC */
	memset(rtp + RTP_LEN, 0xff, payload);     /* G.711 mu-law silence */
	frame_udp_csum(f, plen);
	return ETH_LEN + IP_LEN + UDP_LEN + plen;
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
		if (dt > 0)
			chunk = chunk_next(chunk, dt, deadline - now);
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


/* ---- many streams ------------------------------------------------------------ */

struct stream_ep { struct in_addr sa, da; uint16_t sp, dp; };

/* The streams of FILE (see the top), direction ab or ba; at most max
 * (0: all). Returns how many, or -1. */
static long read_streams(const char *path, int ba, long max,
			 struct stream_ep **out)
{
	FILE *f = fopen(path, "r");
	struct stream_ep *v = NULL;
	long n = 0, cap = 0, lineno = 0;
	char line[512];

	if (!f) {
		fprintf(stderr, "bench_gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((max == 0 || n < max) && fgets(line, sizeof(line), f)) {
		char a[4][64];
		unsigned pt[4];
		struct in_addr ip[4];

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%63s %u %63s %u %63s %u %63s %u", a[0], &pt[0],
			   a[1], &pt[1], a[2], &pt[2], a[3], &pt[3]) != 8 ||
		    inet_pton(AF_INET, a[0], &ip[0]) != 1 ||
		    inet_pton(AF_INET, a[1], &ip[1]) != 1 ||
		    inet_pton(AF_INET, a[2], &ip[2]) != 1 ||
		    inet_pton(AF_INET, a[3], &ip[3]) != 1 || !pt[0] || !pt[1] ||
		    !pt[2] || !pt[3] || pt[0] > 65535 || pt[1] > 65535 ||
		    pt[2] > 65535 || pt[3] > 65535) {
			fprintf(stderr, "bench_gen: %s:%ld: not \"A_IP A_PORT "
				"RA_IP RA_PORT RB_IP RB_PORT B_IP B_PORT\"\n",
				path, lineno);
			free(v);
			fclose(f);
			return -1;
		}
		if (n == cap) {
			struct stream_ep *nv;

			cap = cap ? cap * 2 : 1024;
			nv = realloc(v, (size_t)cap * sizeof(*v));
			if (!nv) {
				free(v);
				fclose(f);
				return -1;
			}
			v = nv;
		}
		if (ba) { /* from B to the relay's address for B */
			v[n].sa = ip[3], v[n].sp = htons((uint16_t)pt[3]);
			v[n].da = ip[2], v[n].dp = htons((uint16_t)pt[2]);
		} else {
			v[n].sa = ip[0], v[n].sp = htons((uint16_t)pt[0]);
			v[n].da = ip[1], v[n].dp = htons((uint16_t)pt[1]);
		}
		n++;
	}
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "bench_gen: %s: no streams\n", path);
		free(v);
		return -1;
	}
	*out = v;
	return n;
}

/* Stream i's frame (sequence, timestamp and stamp zero, the marker set)
 * into f, and its template. */
static size_t stream_frame(uint8_t *f, struct gen_tpl *t, long i, int ba,
			   const uint8_t *smac, const uint8_t *dmac,
			   const struct stream_ep *e, size_t payload)
{
	size_t len = build_frame(f, smac, dmac, e->sa, e->sp, e->da, e->dp,
				 payload);
	uint8_t *rtp = f + OFF_RTP;
	uint32_t ssrc = htonl(0x58000000u | (uint32_t)i << 1 | (uint32_t)ba);
	uint16_t c;

	memset(rtp + 2, 0, 6);          /* sequence, timestamp */
	memcpy(rtp + 8, &ssrc, 4);
	memset(f + OFF_STAMP, 0, 8);
	memcpy(f + OFF_MARK, MARK, 4);
	c = frame_udp_csum(f, len - ETH_LEN - IP_LEN - UDP_LEN);
	memset(t, 0, sizeof(*t));
	memcpy(t->hdr, f, HDR_LEN);
	t->sum = (uint16_t)~c;
	/* a first sequence number and timestamp of its own */
	t->seq = (uint32_t)(i * 40503u + (unsigned)ba * 7919u) & 0xffff;
	t->ts = (uint32_t)i * 2654435761u + (unsigned)ba;
	return len;
}

static void sleep_ns(long long ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ll,
			       .tv_nsec = ns % 1000000000ll };

	nanosleep(&ts, NULL);
}

static int cmd_send_streams(int ifindex, const char *path, int ba, long max,
			    const uint8_t *smac, const uint8_t *dmac,
			    size_t payload, double seconds, long long rounds,
			    double rate, double chunk_ms, long wave,
			    unsigned batch, int hold)
{
	uint8_t frame[ETH_LEN + IP_LEN + UDP_LEN + RTP_LEN + MAX_PAYLOAD];
	struct xdp_md ctx = { .ingress_ifindex = (uint32_t)ifindex };
	long long t0, t1, c0, c1, deadline, frames = 0, limit, wf, wt0;
	long lo, hi;
	int ctr_fd = -1, tpl_fd = -1, fd = -1, err, rc = 1;
	struct stream_ep *st = NULL;
	struct gen_tpl *tpl = NULL;
	uint32_t chunk = 16384, *keys = NULL;
	size_t len = 0;
	long n;

	n = read_streams(path, ba, max, &st);
	if (n < 0)
		return 1;
	tpl = calloc((size_t)n, sizeof(*tpl));
	keys = calloc((size_t)n, sizeof(*keys));
	if (!tpl || !keys)
		goto out;
	for (long i = n - 1; i >= 0; i--) { /* frame 0 last: data_in */
		len = stream_frame(frame, &tpl[i], i, ba, smac, dmac, &st[i],
				   payload);
		keys[i] = (uint32_t)i;
	}
	ctr_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bench_gen_ctr", 4,
				sizeof(struct gen_ctr), 1, NULL);
	tpl_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bench_gen_tpl", 4,
				sizeof(struct gen_tpl), (uint32_t)n, NULL);
	if (ctr_fd < 0 || tpl_fd < 0) {
		fprintf(stderr, "bench_gen: creating the maps (%ld streams): "
			"%s\n", n, strerror(errno));
		goto out;
	}
	{
		uint32_t cnt = (uint32_t)n;

		err = bpf_map_update_batch(tpl_fd, keys, tpl, &cnt, NULL);
		if (err) {
			fprintf(stderr, "bench_gen: filling the templates: "
				"%s\n", strerror(errno));
			goto out;
		}
	}
	fd = load_streams_prog(ctr_fd, tpl_fd, (uint32_t)n);
	if (fd < 0)
		goto out;
	if (hold > 0) {
		err = bpf_xdp_attach(hold, fd, XDP_FLAGS_DRV_MODE |
				     XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
		if (err) {
			fprintf(stderr, "bench_gen: attaching to the hold "
				"device (ifindex %d): %s\n", hold,
				strerror(-err));
			goto out;
		}
	}
	ctx.data_end = (uint32_t)len;
	if (wave <= 0 || wave > n)
		wave = n;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = ns_of(CLOCK_MONOTONIC);
	c0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	deadline = t0 + (long long)(seconds * 1e9);
	rc = 0;
	/* wave after wave of streams (one wave: all of them) */
	for (lo = 0; lo < n && !rc && !stop &&
	     ns_of(CLOCK_MONOTONIC) < deadline; lo += wave) {
		struct gen_ctr w = { 0 };
		double wrate;
		uint32_t zero = 0;

		hi = lo + wave < n ? lo + wave : n;
		w.next = w.lo = (uint32_t)lo;
		w.hi = (uint32_t)hi;
		if (bpf_map_update_elem(ctr_fd, &zero, &w, BPF_ANY)) {
			rc = 1;
			break;
		}
		limit = rounds > 0 ? rounds * (hi - lo) : -1;
		wrate = rate * (double)(hi - lo) / (double)wave;
		wf = 0;
		wt0 = ns_of(CLOCK_MONOTONIC);
		for (long long now = wt0; now < deadline && !stop &&
		     (limit < 0 || wf < limit);) {
			uint32_t want = chunk;
			long long dt;

			if (wrate > 0) { /* due by now, a chunk at a time */
				long long due = (long long)(wrate *
					(double)(now - wt0) / 1e9) - wf;
				double step = wrate * chunk_ms / 1000.0 < 1 ? 1
					    : wrate * chunk_ms / 1000.0;

				if (due < (long long)step &&
				    (limit < 0 || due < limit - wf)) {
					sleep_ns((long long)((double)(wf + step)
						 * 1e9 / wrate) - (now - wt0));
					now = ns_of(CLOCK_MONOTONIC);
					continue;
				}
				want = due > 1000000 ? 1000000 : (uint32_t)due;
			}
			if (limit >= 0 && want > limit - wf)
				want = (uint32_t)(limit - wf);
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
				    .data_size_in = (uint32_t)len,
				    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
				    .repeat = want,
				    .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
				    .batch_size = batch);
			err = bpf_prog_test_run_opts(fd, &o);
			if (err && errno == EINTR)
				break;
			if (err) {
				fprintf(stderr, "bench_gen: BPF_PROG_TEST_RUN "
					"(live frames) on ifindex %d: %s\n",
					ifindex, strerror(errno));
				rc = 1;
				break;
			}
			wf += want;
			frames += want;
			dt = ns_of(CLOCK_MONOTONIC) - now;
			now += dt;
			if (wrate <= 0 && dt > 0)
				chunk = chunk_next(want, dt, deadline - now);
		}
	}
	t1 = ns_of(CLOCK_MONOTONIC);
	c1 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	if (hold > 0)
		bpf_xdp_detach(hold, XDP_FLAGS_DRV_MODE, NULL);
	if (!rc)
		printf("frames=%lld\nelapsed_ns=%lld\ncpu_ns=%lld\npps=%.0f\n"
		       "streams=%ld\n", frames, t1 - t0, c1 - c0,
		       t1 > t0 ? (double)frames * 1e9 / (double)(t1 - t0) : 0.0,
		       n);
out:
	if (fd >= 0)
		close(fd);
	if (ctr_fd >= 0)
		close(ctr_fd);
	if (tpl_fd >= 0)
		close(tpl_fd);
	free(st);
	free(tpl);
	free(keys);
	return rc;
}

/* ---- latency ------------------------------------------------------------------ */

static int cmd_latency(int ifindex, const char *dev, double seconds)
{
	uint64_t *h = NULL, total = 0, acc = 0;
	int hfd, fd, dfd, err, rc = 1, top = -1;
	uint64_t p50 = 0, p90 = 0, p99 = 0;
	long long end;

	hfd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bench_gen_lat", 4, 8,
			     LAT_BUCKETS, NULL);
	if (hfd < 0) {
		fprintf(stderr, "bench_gen: creating the histogram: %s\n",
			strerror(errno));
		return 1;
	}
	fd = load_latency_prog(hfd);
	if (fd < 0) {
		close(hfd);
		return 1;
	}
	err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		fprintf(stderr, "bench_gen: attaching the latency program to "
			"%s: %s\n", dev, strerror(-err));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	end = ns_of(CLOCK_MONOTONIC) + (long long)(seconds * 1e9);
	while (!stop && ns_of(CLOCK_MONOTONIC) < end)
		sleep_ns(10000000);
	dfd = load_prog(NULL, 0); /* the drop program again */
	if (dfd >= 0) {
		err = bpf_xdp_attach(ifindex, dfd, XDP_FLAGS_DRV_MODE, NULL);
		close(dfd);
		if (err)
			fprintf(stderr, "bench_gen: putting the drop program "
				"back on %s: %s\n", dev, strerror(-err));
	}
	h = calloc(LAT_BUCKETS, sizeof(*h));
	if (!h)
		goto out;
	for (uint32_t b = 0; b < LAT_BUCKETS; b++) {
		if (bpf_map_lookup_elem(hfd, &b, &h[b]))
			h[b] = 0;
		total += h[b];
		if (h[b])
			top = (int)b;
	}
	for (uint32_t b = 0; b < LAT_BUCKETS && total; b++) {
		uint64_t up = ((uint64_t)b + 1) << LAT_SHIFT;

		acc += h[b];
		if (!p50 && acc * 100 >= total * 50)
			p50 = up;
		if (!p90 && acc * 100 >= total * 90)
			p90 = up;
		if (!p99 && acc * 100 >= total * 99)
			p99 = up;
	}
	printf("samples=%llu\np50_ns=%llu\np90_ns=%llu\np99_ns=%llu\n"
	       "max_ns=%llu\n", (unsigned long long)total,
	       (unsigned long long)p50, (unsigned long long)p90,
	       (unsigned long long)p99,
	       top < 0 ? 0ull : (unsigned long long)(top + 1) << LAT_SHIFT);
	rc = 0;
out:
	free(h);
	close(fd);
	close(hfd);
	return rc;
}

/* ---- xrelay's flow table --------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct flows_acc {
	long long rounds, nflows, none, second, cap;
	uint64_t *first;
	int failed;
};

static int flows_one(const struct xr_flow_key *k, const struct xr_flow *v,
		     void *arg)
{
	struct flows_acc *a = arg;

	(void)k;
	if (a->rounds > 0) {
		long long f = a->rounds - (long long)v->packets + 1;

		if (a->nflows == a->cap) {
			uint64_t *nf;

			a->cap = a->cap ? a->cap * 2 : 4096;
			nf = realloc(a->first, (size_t)a->cap * sizeof(*nf));
			if (!nf) {
				a->failed = 1;
				return -1;
			}
			a->first = nf;
		}
		if (v->packets == 0)
			a->none++;
		if (f < 1)
			f = 1;
		a->first[a->nflows] = (uint64_t)f;
		a->second += f == 2;
	}
	a->nflows++;
	return 0;
}

/* Both xr_flows and the IPv4 per-port array xr_fast4 (xr_pinned_flows.h). */
static int cmd_flows(const char *pin_dir, long long rounds)
{
	struct flows_acc a = { .rounds = rounds };
	long long nflows, none, second;
	uint64_t *first;

	if (xrp_flows_each(pin_dir, "bench_gen", flows_one, &a) < 0 ||
	    a.failed) {
		if (a.failed)
			fprintf(stderr, "bench_gen: out of memory\n");
		free(a.first);
		return 1;
	}
	nflows = a.nflows;
	none = a.none;
	second = a.second;
	first = a.first;
	printf("flows=%lld\n", nflows);
	if (rounds > 0 && nflows > 0) {
		qsort(first, (size_t)nflows, sizeof(*first), cmp_u64);
		printf("first_kernel_2nd=%lld\nfirst_kernel_p50=%llu\n"
		       "first_kernel_p99=%llu\nfirst_kernel_max=%llu\n"
		       "kernel_none=%lld\n", second,
		       (unsigned long long)first[(nflows - 1) / 2],
		       (unsigned long long)first[(nflows * 99 + 99) / 100 - 1],
		       (unsigned long long)first[nflows - 1], none);
	}
	free(first);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", 1, 0, 'd' }, { "src-mac", 1, 0, 's' },
		{ "dst-mac", 1, 0, 'm' }, { "from", 1, 0, 'f' },
		{ "to", 1, 0, 't' }, { "payload", 1, 0, 'p' },
		{ "seconds", 1, 0, 'S' }, { "batch", 1, 0, 'b' },
		{ "hold-dev", 1, 0, 'H' }, { "streams", 1, 0, 'F' },
		{ "dir", 1, 0, 'D' }, { "calls", 1, 0, 'n' },
		{ "rate", 1, 0, 'r' }, { "rounds", 1, 0, 'R' },
		{ "pin-dir", 1, 0, 'P' }, { "chunk-ms", 1, 0, 'C' },
		{ "wave", 1, 0, 'W' }, { 0, 0, 0, 0 },
	};
	uint8_t smac[6], dmac[6], frame[ETH_LEN + IP_LEN + UDP_LEN + RTP_LEN +
					MAX_PAYLOAD];
	const char *dev = NULL, *hold_dev = NULL, *cmd, *streams = NULL;
	const char *pin_dir = NULL;
	int have = 0, c, ifindex, hold = 0, ba = 0;
	struct in_addr sa, da;
	uint16_t sp = 0, dp = 0;
	unsigned long payload = 160, batch = 64;
	long long rounds = 0;
	long calls = 0, wave = 0;
	double seconds = 2, rate = 0, chunk_ms = 1;
	int seconds_set = 0;
	char *end;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 's':
			if (parse_mac(optarg, strlen(optarg), smac))
				return usage();
			have |= 1;
			break;
		case 'm':
			if (parse_mac(optarg, strlen(optarg), dmac))
				return usage();
			have |= 2;
			break;
		case 'f':
			if (parse_ap(optarg, strlen(optarg), &sa.s_addr, &sp))
				return usage();
			have |= 4;
			break;
		case 't':
			if (parse_ap(optarg, strlen(optarg), &da.s_addr, &dp))
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
			seconds_set = 1;
			break;
		case 'H': hold_dev = optarg; break;
		case 'b':
			batch = strtoul(optarg, &end, 10);
			if (*end || batch < 1 || batch > 256)
				return usage();
			break;
		case 'F': streams = optarg; break;
		case 'D':
			if (strcmp(optarg, "ab") && strcmp(optarg, "ba"))
				return usage();
			ba = !strcmp(optarg, "ba");
			break;
		case 'n':
			calls = strtol(optarg, &end, 10);
			if (*end || calls < 0)
				return usage();
			break;
		case 'r':
			rate = strtod(optarg, &end);
			if (*end || rate < 0)
				return usage();
			break;
		case 'R':
			rounds = strtoll(optarg, &end, 10);
			if (*end || rounds < 0)
				return usage();
			break;
		case 'P': pin_dir = optarg; break;
		case 'W':
			wave = strtol(optarg, &end, 10);
			if (*end || wave < 0)
				return usage();
			break;
		case 'C':
			chunk_ms = strtod(optarg, &end);
			if (*end || chunk_ms <= 0 || chunk_ms > 1000)
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (optind != argc)
		return usage();
	if (!strcmp(cmd, "flows")) {
		if (!pin_dir)
			return usage();
		return cmd_flows(pin_dir, rounds);
	}
	if (!dev)
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
	if (!strcmp(cmd, "latency"))
		return cmd_latency(ifindex, dev, seconds);
	if (strcmp(cmd, "send"))
		return usage();
	if (streams) {
		if ((have & 3) != 3 || payload < 12)
			return usage();
		if (rounds > 0 && !seconds_set)
			seconds = 3600;
		return cmd_send_streams(ifindex, streams, ba, calls, smac, dmac,
					payload, seconds, rounds, rate,
					chunk_ms, wave, (unsigned)batch, hold);
	}
	if (have != 15)
		return usage();
	return cmd_send(ifindex, frame, build_frame(frame, smac, dmac, sa, sp,
			da, dp, payload), seconds, (unsigned)batch, hold);
}
