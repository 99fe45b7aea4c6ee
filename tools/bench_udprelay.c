// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_udprelay: the plainest userspace UDP relay there can be, as the
 * floor for any userspace media relay in tools/bench_density.sh. Static:
 * no signalling, no latching, no RTP parsing, no counters per call; a
 * packet to the relay's port for A goes to peer B from the relay's port for
 * B, and the other way round, by a table built at start.
 *
 *   bench_udprelay --streams FILE [--calls N] [--mode steer|port]
 *                  [--batch B]
 *       FILE: the calls, one per line, "A_IP A_PORT RA_IP RA_PORT RB_IP
 *       RB_PORT B_IP B_PORT" (tools/bench_ng.c plan writes it); the first
 *       N lines (default all). RTP only: the relay ports of RTCP are not
 *       served.
 *
 *       steer (default): one UDP socket per relay address. A BPF sk_lookup
 *       program (built here from raw instructions, attached to the
 *       network namespace) hands it every UDP packet to that address
 *       within the table's port range; IP_RECVORIGDSTADDR gives each
 *       packet's port, the table (per address, indexed by port) the peer
 *       and the source port to send from. Packets are received with
 *       recvmmsg in batches of B (64) and sent with sendmmsg on a raw
 *       socket (IPPROTO_RAW: any source port; the UDP checksum is
 *       computed here), one sendmmsg per batch. Any number of calls, four
 *       descriptors.
 *
 *       port: one socket per relay port (two per call: the open-file
 *       limit bounds the calls), all in one epoll set; for each ready
 *       socket a recvmmsg of up to B packets and one sendmmsg of them on
 *       the other leg's socket.
 *
 *   Runs until SIGINT/SIGTERM, then prints received=, sent=, send_errors=.
 *   "ready" is printed on stdout once it serves.
 *
 * Exit: 0 after a signal, 1 when it cannot start, 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "bench_util.h"
#include "inet_csum.h"

#define MAX_ADDRS 64
#define PKT_MAX 2048
#define BATCH_MAX 256

struct route {                /* what a packet to one relay port becomes */
	struct sockaddr_in to;    /* the peer; sin_port 0: no route */
	uint32_t src_addr;        /* network order */
	uint16_t src_port;        /* network order */
	int in_fd, out_fd;        /* port mode: its socket, the other leg's */
};

static struct {
	int n;
	uint32_t addr[MAX_ADDRS];     /* network order */
	struct route *port[MAX_ADDRS];/* 65536 each */
	int fd[MAX_ADDRS];            /* steer mode: the address's socket */
} relay;

static volatile sig_atomic_t stop;
static unsigned long long received, sent, send_errors;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_udprelay --streams FILE [--calls N] "
		"[--mode steer|port] [--batch B]\n");
	return 2;
}

static int addr_index(uint32_t a)
{
	for (int i = 0; i < relay.n; i++)
		if (relay.addr[i] == a)
			return i;
	if (relay.n == MAX_ADDRS)
		return -1;
	relay.port[relay.n] = calloc(65536, sizeof(struct route));
	if (!relay.port[relay.n])
		return -1;
	relay.addr[relay.n] = a;
	relay.fd[relay.n] = -1;
	return relay.n++;
}

static int add_route(uint32_t ra, unsigned rp, const char *peer,
		     unsigned pp, uint32_t sa, unsigned sp)
{
	int i = addr_index(ra);
	struct route *r;

	if (i < 0)
		return -1;
	r = &relay.port[i][rp];
	r->to.sin_family = AF_INET;
	if (inet_pton(AF_INET, peer, &r->to.sin_addr) != 1)
		return -1;
	r->to.sin_port = htons((uint16_t)pp);
	r->src_addr = sa;
	r->src_port = htons((uint16_t)sp);
	r->in_fd = r->out_fd = -1;
	return 0;
}

static long load(const char *path, long max, unsigned *pmin, unsigned *pmax)
{
	FILE *f = fopen(path, "r");
	char line[512];
	long n = 0;

	if (!f) {
		fprintf(stderr, "bench_udprelay: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	*pmin = 65535, *pmax = 0;
	while ((max == 0 || n < max) && fgets(line, sizeof(line), f)) {
		char a[64], ra[64], rb[64], b[64];
		unsigned ap, rap, rbp, bp;
		struct in_addr xa, xb;

		if (sscanf(line, "%63s %u %63s %u %63s %u %63s %u", a, &ap, ra,
			   &rap, rb, &rbp, b, &bp) != 8 ||
		    inet_pton(AF_INET, ra, &xa) != 1 ||
		    inet_pton(AF_INET, rb, &xb) != 1 || rap > 65535 ||
		    rbp > 65535 || !rap || !rbp ||
		    add_route(xa.s_addr, rap, b, bp, xb.s_addr, rbp) ||
		    add_route(xb.s_addr, rbp, a, ap, xa.s_addr, rap)) {
			fprintf(stderr, "bench_udprelay: %s: bad line %ld (or "
				"more than %d relay addresses)\n", path, n + 1,
				MAX_ADDRS);
			fclose(f);
			return -1;
		}
		*pmin = rap < *pmin ? rap : *pmin;
		*pmin = rbp < *pmin ? rbp : *pmin;
		*pmax = rap > *pmax ? rap : *pmax;
		*pmax = rbp > *pmax ? rbp : *pmax;
		n++;
	}
	fclose(f);
	return n;
}

static int udp_socket(uint32_t addr, unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = addr };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int buf = 4 << 20, one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(fd, IPPROTO_IP, IP_RECVORIGDSTADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * sk_lookup: a UDP packet to a port in [pmin, pmax] goes to the socket
 * that the sockhash holds for its destination address, if any.
 */
static int steer(unsigned pmin, unsigned pmax)
{
	struct bpf_insn p[32];
	char log[16384];
	LIBBPF_OPTS(bpf_prog_load_opts, o,
		    .expected_attach_type = BPF_SK_LOOKUP, .log_buf = log,
		    .log_size = sizeof(log), .log_level = 1);
	int k = 0, map, prog, netns, link, jpass[6], nj = 0;

	map = bpf_map_create(BPF_MAP_TYPE_SOCKHASH, "udprelay_socks", 4, 8,
			     MAX_ADDRS, NULL);
	if (map < 0) {
		fprintf(stderr, "bench_udprelay: sockhash: %s\n",
			strerror(errno));
		return -1;
	}
	for (int i = 0; i < relay.n; i++) {
		uint64_t v = (uint64_t)relay.fd[i];

		if (bpf_map_update_elem(map, &relay.addr[i], &v, BPF_ANY)) {
			fprintf(stderr, "bench_udprelay: sockhash update: %s\n",
				strerror(errno));
			return -1;
		}
	}
#define I(...) (p[k++] = insn(__VA_ARGS__))
#define JPASS(...) (jpass[nj++] = k, I(__VA_ARGS__))
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0);
	I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_6,
	  offsetof(struct bpf_sk_lookup, protocol), 0);
	JPASS(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0, IPPROTO_UDP);
	I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_6,
	  offsetof(struct bpf_sk_lookup, local_port), 0);
	JPASS(BPF_JMP | BPF_JLT | BPF_K, BPF_REG_2, 0, 0, (int32_t)pmin);
	JPASS(BPF_JMP | BPF_JGT | BPF_K, BPF_REG_2, 0, 0, (int32_t)pmax);
	I(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_6,
	  offsetof(struct bpf_sk_lookup, local_ip4), 0);
	I(BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_2, -4, 0);
	I(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map);
	I(0, 0, 0, 0, 0);
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
	I(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4);
	I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	JPASS(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, 0);
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_7, BPF_REG_0, 0, 0);
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_6, 0, 0);
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_7, 0, 0);
	I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 0);
	I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_assign);
	I(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_7, 0, 0);
	I(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_release);
	for (int j = 0; j < nj; j++)
		p[jpass[j]].off = (int16_t)(k - jpass[j] - 1);
	I(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1); /* SK_PASS */
	I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
#undef JPASS
#undef I
	log[0] = 0;
	prog = bpf_prog_load(BPF_PROG_TYPE_SK_LOOKUP, "udprelay_steer", "GPL",
			     p, (size_t)k, &o);
	if (prog < 0) {
		fprintf(stderr, "bench_udprelay: loading sk_lookup: %s\n%s",
			strerror(errno), log);
		return -1;
	}
	netns = open("/proc/self/ns/net", O_RDONLY);
	link = netns < 0 ? -1 : bpf_link_create(prog, netns, BPF_SK_LOOKUP,
						 NULL);
	if (link < 0) {
		fprintf(stderr, "bench_udprelay: attaching sk_lookup: %s\n",
			strerror(errno));
		return -1;
	}
	close(netns);
	return link; /* attached while it is open: until we exit */
}

/* ---- steer mode ---------------------------------------------------------------- */

struct txhdr {
	struct iphdr ip;
	uint16_t sport, dport, len, check;
} __attribute__((packed));

static int run_steer(int batch)
{
	static uint8_t buf[BATCH_MAX][PKT_MAX], cbuf[BATCH_MAX][64];
	static struct mmsghdr rx[BATCH_MAX], tx[BATCH_MAX];
	static struct iovec riov[BATCH_MAX], tiov[BATCH_MAX][2];
	static struct sockaddr_in src[BATCH_MAX];
	static struct txhdr th[BATCH_MAX];
	int ep = epoll_create1(0), raw, sndbuf = 4 << 20;

	raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (ep < 0 || raw < 0) {
		fprintf(stderr, "bench_udprelay: raw socket: %s\n",
			strerror(errno));
		return 1;
	}
	setsockopt(raw, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	for (int i = 0; i < relay.n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 =
					  (uint32_t)i };

		if (epoll_ctl(ep, EPOLL_CTL_ADD, relay.fd[i], &ev))
			return 1;
	}
	for (int i = 0; i < batch; i++) {
		riov[i].iov_base = buf[i];
		riov[i].iov_len = PKT_MAX;
		tiov[i][0].iov_base = &th[i];
		tiov[i][0].iov_len = sizeof(th[i]);
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct epoll_event evs[MAX_ADDRS];
		int ne = epoll_wait(ep, evs, MAX_ADDRS, 200);

		for (int e = 0; e < ne; e++) {
			int a = (int)evs[e].data.u32, fd = relay.fd[a], r, nt = 0;

			for (int i = 0; i < batch; i++) {
				memset(&rx[i].msg_hdr, 0, sizeof(rx[i].msg_hdr));
				rx[i].msg_hdr.msg_iov = &riov[i];
				rx[i].msg_hdr.msg_iovlen = 1;
				rx[i].msg_hdr.msg_name = &src[i];
				rx[i].msg_hdr.msg_namelen = sizeof(src[i]);
				rx[i].msg_hdr.msg_control = cbuf[i];
				rx[i].msg_hdr.msg_controllen = sizeof(cbuf[i]);
			}
			r = recvmmsg(fd, rx, (unsigned)batch, MSG_DONTWAIT, NULL);
			if (r <= 0)
				continue;
			received += (unsigned)r;
			for (int i = 0; i < r; i++) {
				struct msghdr *m = &rx[i].msg_hdr;
				struct sockaddr_in *od = NULL;
				struct route *rt;
				struct cmsghdr *c;
				size_t len = rx[i].msg_len;
				uint32_t sum;

				for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
					if (c->cmsg_level == IPPROTO_IP &&
					    c->cmsg_type == IP_ORIGDSTADDR)
						od = (void *)CMSG_DATA(c);
				if (!od)
					continue;
				rt = &relay.port[a][ntohs(od->sin_port)];
				if (!rt->to.sin_port)
					continue;
				memset(&th[nt].ip, 0, sizeof(th[nt].ip));
				th[nt].ip.version = 4;
				th[nt].ip.ihl = 5;
				th[nt].ip.ttl = 64;
				th[nt].ip.protocol = IPPROTO_UDP;
				th[nt].ip.frag_off = htons(IP_DF);
				th[nt].ip.saddr = rt->src_addr;
				th[nt].ip.daddr = rt->to.sin_addr.s_addr;
				th[nt].ip.tot_len = htons((uint16_t)(len + 28));
				th[nt].sport = rt->src_port;
				th[nt].dport = rt->to.sin_port;
				th[nt].len = htons((uint16_t)(len + 8));
				th[nt].check = 0;
				/* pseudo-header, UDP header, payload */
				sum = inet_csum_add(0, &th[nt].ip.saddr, 8);
				sum += htons(IPPROTO_UDP) + th[nt].len;
				sum = inet_csum_add(sum, &th[nt].sport, 8);
				sum = inet_csum_add(sum, buf[i], len);
				th[nt].check = inet_csum_fold(sum);
				if (!th[nt].check)
					th[nt].check = 0xffff;
				tiov[nt][1].iov_base = buf[i];
				tiov[nt][1].iov_len = len;
				tiov[nt][0].iov_base = &th[nt];
				memset(&tx[nt].msg_hdr, 0, sizeof(tx[nt].msg_hdr));
				tx[nt].msg_hdr.msg_iov = tiov[nt];
				tx[nt].msg_hdr.msg_iovlen = 2;
				tx[nt].msg_hdr.msg_name = &rt->to;
				tx[nt].msg_hdr.msg_namelen = sizeof(rt->to);
				nt++;
			}
			for (int off = 0; off < nt;) {
				int s = sendmmsg(raw, tx + off,
						 (unsigned)(nt - off), 0);

				if (s <= 0) { /* skip the one that failed */
					send_errors++;
					off++;
					continue;
				}
				sent += (unsigned)s;
				off += s;
			}
		}
	}
	return 0;
}

/* ---- port mode ------------------------------------------------------------------ */

static int run_port(int batch)
{
	static uint8_t buf[BATCH_MAX][PKT_MAX];
	static struct mmsghdr m[BATCH_MAX];
	static struct iovec iov[BATCH_MAX];
	static struct epoll_event evs[1024];
	int ep = epoll_create1(0);

	if (ep < 0)
		return 1;
	/* a socket per routed port, then each route's way out */
	for (int a = 0; a < relay.n; a++)
		for (unsigned p = 1; p < 65536; p++) {
			struct route *r = &relay.port[a][p];
			struct epoll_event ev = { .events = EPOLLIN };

			if (!r->to.sin_port)
				continue;
			r->in_fd = udp_socket(relay.addr[a], p);
			if (r->in_fd < 0) {
				fprintf(stderr, "bench_udprelay: a socket for "
					"port %u: %s\n", p, strerror(errno));
				return 1;
			}
			ev.data.ptr = r;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, r->in_fd, &ev))
				return 1;
		}
	for (int a = 0; a < relay.n; a++)
		for (unsigned p = 1; p < 65536; p++) {
			struct route *r = &relay.port[a][p];
			int b;

			if (!r->to.sin_port)
				continue;
			for (b = 0; b < relay.n && relay.addr[b] != r->src_addr; b++)
				;
			if (b < relay.n)
				r->out_fd = relay.port[b][ntohs(r->src_port)].in_fd;
		}
	for (int i = 0; i < batch; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = PKT_MAX;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		int ne = epoll_wait(ep, evs, 1024, 200);

		for (int e = 0; e < ne; e++) {
			struct route *rt = evs[e].data.ptr;
			int r;

			for (int i = 0; i < batch; i++) {
				memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
				m[i].msg_hdr.msg_iov = &iov[i];
				m[i].msg_hdr.msg_iovlen = 1;
			}
			r = recvmmsg(rt->in_fd, m, (unsigned)batch, MSG_DONTWAIT,
				     NULL);
			if (r <= 0)
				continue;
			received += (unsigned)r;
			if (rt->out_fd < 0)
				continue;
			for (int i = 0; i < r; i++) {
				iov[i].iov_len = m[i].msg_len;
				m[i].msg_hdr.msg_name = &rt->to;
				m[i].msg_hdr.msg_namelen = sizeof(rt->to);
			}
			for (int off = 0; off < r;) {
				int s = sendmmsg(rt->out_fd, m + off,
						 (unsigned)(r - off), 0);

				if (s <= 0) {
					send_errors++;
					off++;
					continue;
				}
				sent += (unsigned)s;
				off += s;
			}
			for (int i = 0; i < r; i++)
				iov[i].iov_len = PKT_MAX;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "streams", 1, 0, 'F' }, { "calls", 1, 0, 'n' },
		{ "mode", 1, 0, 'm' }, { "batch", 1, 0, 'b' }, { 0, 0, 0, 0 },
	};
	const char *streams = NULL, *mode = "steer";
	long calls = 0, batch = 64, n;
	unsigned pmin, pmax;
	struct rlimit rl;
	char *end;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'F': streams = optarg; break;
		case 'm': mode = optarg; break;
		case 'n':
			calls = strtol(optarg, &end, 10);
			if (*end || calls < 0)
				return usage();
			break;
		case 'b':
			batch = strtol(optarg, &end, 10);
			if (*end || batch < 1 || batch > BATCH_MAX)
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (!streams || optind != argc ||
	    (strcmp(mode, "steer") && strcmp(mode, "port")))
		return usage();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	n = load(streams, calls, &pmin, &pmax);
	if (n <= 0)
		return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!strcmp(mode, "steer")) {
		for (int i = 0; i < relay.n; i++) {
			relay.fd[i] = udp_socket(relay.addr[i], 0);
			if (relay.fd[i] < 0) {
				fprintf(stderr, "bench_udprelay: a socket on "
					"relay address %d: %s\n", i,
					strerror(errno));
				return 1;
			}
		}
		if (steer(pmin, pmax) < 0)
			return 1;
		rc = run_steer((int)batch);
	} else {
		rc = run_port((int)batch);
	}
	printf("calls=%ld\nreceived=%llu\nsent=%llu\nsend_errors=%llu\n", n,
	       received, sent, send_errors);
	return rc;
}
