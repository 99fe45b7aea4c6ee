// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_ng: sets up many calls on a media relay through rtpengine's ng
 * control protocol (bencode over UDP), as a SIP proxy's rtpengine module
 * would: for each call an offer (from A) and an answer (from B), with
 * requests pipelined, each under a cookie of its own, resent when no reply
 * comes. The same client drives xrelayd (--ng-listen) and rtpengine, so
 * both get the same calls. For tools/bench_density.sh.
 *
 *   bench_ng setup --ng IP:PORT --calls N --out FILE [--a-net A.B]
 *                  [--b-net A.B] [--per-group G] [--window W]
 *                  [--direction IFA,IFB] [--id PREFIX]
 *       Call i (0-based) belongs to group g = i / G (G 25000 by default)
 *       and is number j = i % G in it: peer A is A.B.g.2 port 2000 + 2j
 *       (--a-net, default 10.81), peer B is A.B.g.2 port 2000 + 2j of
 *       --b-net (default 10.82), one audio stream each (PCMU, RTCP on the
 *       port above). Offers carry the flag trust-address (media comes
 *       from the SDP's address) and, with --direction, rtpengine's
 *       "direction" (its interface names for A and B; xrelayd accepts and
 *       ignores it: it picks the relay address that faces each peer).
 *       At most W requests (default 256) are outstanding; a request
 *       without a reply is sent again after 200 ms, 400 ms, ... (5 times
 *       in all). Writes FILE: one line per call set up,
 *       "A_IP A_PORT RA_IP RA_PORT RB_IP RB_PORT B_IP B_PORT" (RA: what
 *       the answer tells A to send to, RB: what the offer tells B), and
 *       prints calls=, ok=, failed=, elapsed_ms=, calls_per_s=
 *       (set-ups: offer and answer), resent=, and error= (the first
 *       failure's reason).
 *
 *   bench_ng plan --calls N --out FILE [--a-net A.B] [--b-net A.B]
 *                 [--per-group G] [--port-min P]
 *       The same calls without a relay to ask (for a static relay,
 *       tools/bench_udprelay.c): the relay's address for A is A.B.g.1 of
 *       --a-net, for B A.B.g.1 of --b-net, and call j of a group gets port
 *       P + 2j (P 10000 by default) on both.
 *
 * Exit: 0 when every call was set up, 1 when some failed (FILE has the
 * others), 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define MSG_MAX 4096
#define TRIES 5
#define RTO_NS 200000000ll

enum { ST_IDLE, ST_OFFER, ST_ANSWER, ST_DONE, ST_FAILED };

struct call {
	unsigned char state, tries;
	long long sent_ns;
	struct in_addr ra, rb;    /* the relay's addresses for A and B */
	unsigned short rap, rbp;  /* and ports */
};

static struct {
	const char *a_net, *b_net, *dir_a, *dir_b, *id;
	long per_group, port_min;
	unsigned nonce;
} cfg = { "10.81", "10.82", NULL, NULL, "bn", 25000, 10000, 0 };

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int usage(void)
{
	fprintf(stderr,
"usage: bench_ng setup --ng IP:PORT --calls N --out FILE [--a-net A.B]\n"
"                      [--b-net A.B] [--per-group G] [--window W]\n"
"                      [--direction IFA,IFB] [--id PREFIX]\n"
"       bench_ng plan --calls N --out FILE [--a-net A.B] [--b-net A.B]\n"
"                     [--per-group G] [--port-min P]\n");
	return 2;
}

/* Peer (A: side 0, B: side 1) of call i; host's last octet 2, relay's 1. */
static void peer_of(long i, int side, int host, char *ip, size_t iplen,
		    unsigned *port)
{
	long g = i / cfg.per_group, j = i % cfg.per_group;

	snprintf(ip, iplen, "%s.%ld.%d", side ? cfg.b_net : cfg.a_net, g, host);
	*port = (unsigned)(2000 + 2 * j);
}

/* ---- bencode ---------------------------------------------------------------- */

static int put_str(char *b, size_t cap, size_t *n, const char *s, size_t len)
{
	int w = snprintf(b + *n, cap - *n, "%zu:", len);

	if (w < 0 || *n + (size_t)w + len >= cap)
		return -1;
	*n += (size_t)w;
	memcpy(b + *n, s, len);
	*n += len;
	return 0;
}

static int put(char *b, size_t cap, size_t *n, const char *s)
{
	return put_str(b, cap, n, s, strlen(s));
}

static int put_raw(char *b, size_t cap, size_t *n, const char *s)
{
	size_t len = strlen(s);

	if (*n + len >= cap)
		return -1;
	memcpy(b + *n, s, len);
	*n += len;
	return 0;
}

/* Skips one bencoded value at p; the end, or NULL if malformed. */
static const char *skip(const char *p, const char *end)
{
	if (p >= end)
		return NULL;
	if (*p == 'i') {
		p = memchr(p, 'e', (size_t)(end - p));
		return p ? p + 1 : NULL;
	}
	if (*p == 'l' || *p == 'd') {
		p++;
		while (p && p < end && *p != 'e')
			p = skip(p, end);
		return p && p < end ? p + 1 : NULL;
	}
	if (*p >= '0' && *p <= '9') {
		char *e;
		unsigned long len = strtoul(p, &e, 10);

		if (e >= end || *e != ':' || len > (unsigned long)(end - e - 1))
			return NULL;
		return e + 1 + len;
	}
	return NULL;
}

/* The string value of top-level key in the dictionary at p. */
static int dict_str(const char *p, const char *end, const char *key,
		    const char **val, size_t *vlen)
{
	size_t klen = strlen(key);

	if (p >= end || *p != 'd')
		return -1;
	p++;
	while (p < end && *p != 'e') {
		char *e;
		unsigned long len = strtoul(p, &e, 10);
		const char *k = e + 1, *v;

		if (e >= end || *e != ':' || len > (unsigned long)(end - k))
			return -1;
		v = k + len;
		if (len == klen && !memcmp(k, key, klen) && v < end &&
		    *v >= '0' && *v <= '9') {
			unsigned long l2 = strtoul(v, &e, 10);

			if (e >= end || *e != ':' ||
			    l2 > (unsigned long)(end - e - 1))
				return -1;
			*val = e + 1;
			*vlen = l2;
			return 0;
		}
		p = skip(v, end);
		if (!p)
			return -1;
	}
	return -1;
}

/* ---- one request ------------------------------------------------------------ */

static const char *sdp_of(long i, int side, char *b, size_t cap)
{
	char ip[32];
	unsigned port;

	peer_of(i, side, 2, ip, sizeof(ip), &port);
	snprintf(b, cap,
		 "v=0\r\no=%s %ld 1 IN IP4 %s\r\ns=bench\r\nc=IN IP4 %s\r\n"
		 "t=0 0\r\nm=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
		 "a=sendrecv\r\n", side ? "b" : "a", i + 1, ip, ip, port);
	return b;
}

/* The offer (phase 0) or answer (phase 1) of call i. */
static int build(long i, int phase, char *b, size_t cap, size_t *n)
{
	char cookie[64], id[64], ftag[32], ttag[32], sdp[512];

	snprintf(cookie, sizeof(cookie), "%x-%ld-%d ", cfg.nonce, i, phase);
	snprintf(id, sizeof(id), "%s-%x-%ld", cfg.id, cfg.nonce, i);
	snprintf(ftag, sizeof(ftag), "a%ld", i);
	snprintf(ttag, sizeof(ttag), "b%ld", i);
	*n = 0;
	if (put_raw(b, cap, n, cookie) || put_raw(b, cap, n, "d") ||
	    put(b, cap, n, "call-id") || put(b, cap, n, id) ||
	    put(b, cap, n, "command") ||
	    put(b, cap, n, phase ? "answer" : "offer"))
		return -1;
	if (phase == 0 && cfg.dir_a &&
	    (put(b, cap, n, "direction") || put_raw(b, cap, n, "l") ||
	     put(b, cap, n, cfg.dir_a) || put(b, cap, n, cfg.dir_b) ||
	     put_raw(b, cap, n, "e")))
		return -1;
	if (put(b, cap, n, "flags") || put_raw(b, cap, n, "l") ||
	    put(b, cap, n, "trust-address") || put_raw(b, cap, n, "e") ||
	    put(b, cap, n, "from-tag") || put(b, cap, n, ftag) ||
	    put(b, cap, n, "sdp") ||
	    put(b, cap, n, sdp_of(i, phase, sdp, sizeof(sdp))))
		return -1;
	if (phase == 1 && (put(b, cap, n, "to-tag") || put(b, cap, n, ttag)))
		return -1;
	return put_raw(b, cap, n, "e");
}

/* c= and m=audio of an SDP body. */
static int sdp_media(const char *s, size_t len, struct in_addr *a,
		     unsigned short *port)
{
	char buf[MSG_MAX], *c, *m, ip[64];
	unsigned p;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	c = strstr(buf, "c=IN IP4 ");
	m = strstr(buf, "m=audio ");
	if (!c || !m || sscanf(c + 9, "%63[0-9.]", ip) != 1 ||
	    inet_pton(AF_INET, ip, a) != 1 || sscanf(m + 8, "%u", &p) != 1 ||
	    !p || p > 65535)
		return -1;
	*port = (unsigned short)p;
	return 0;
}

/* ---- setup ------------------------------------------------------------------ */

static int cmd_setup(const char *ng, long n, const char *out, int window)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct call *calls = calloc((size_t)n, sizeof(*calls));
	long *fly = calloc((size_t)window, sizeof(*fly));
	long next = 0, ok = 0, failed = 0, resent = 0;
	int nfly = 0, fd, rcv = 8 << 20;
	char msg[MSG_MAX], buf[65536], err[256] = "", host[64];
	long long t0, t1;
	unsigned port;
	size_t len;
	FILE *f;

	if (!calls || !fly)
		return 1;
	if (sscanf(ng, "%63[^:]:%u", host, &port) != 2 || !port ||
	    port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return usage();
	sa.sin_port = htons((unsigned short)port);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "bench_ng: %s: %s\n", ng, strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &rcv, sizeof(rcv));
	t0 = now_ns();
	while (ok + failed < n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long now;

		/* new calls while there is room */
		while (nfly < window && next < n) {
			struct call *c = &calls[next];

			if (build(next, 0, msg, sizeof(msg), &len) ||
			    send(fd, msg, len, 0) < 0) {
				if (errno == EAGAIN || errno == ENOBUFS)
					break;
				fprintf(stderr, "bench_ng: send: %s\n",
					strerror(errno));
				return 1;
			}
			c->state = ST_OFFER;
			c->tries = 1;
			c->sent_ns = now_ns();
			fly[nfly++] = next++;
		}
		if (poll(&pfd, 1, 20) < 0 && errno != EINTR)
			return 1;
		/* replies */
		for (;;) {
			ssize_t r = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
			const char *sp, *d, *end, *v;
			unsigned nonce;
			long i;
			int phase, k;
			size_t vlen;
			struct call *c;

			if (r <= 0)
				break;
			buf[r] = 0;
			end = buf + r;
			sp = memchr(buf, ' ', (size_t)r);
			if (!sp || sscanf(buf, "%x-%ld-%d", &nonce, &i,
					  &phase) != 3 ||
			    nonce != cfg.nonce || i < 0 || i >= n)
				continue;
			c = &calls[i];
			if ((phase == 0 && c->state != ST_OFFER) ||
			    (phase == 1 && c->state != ST_ANSWER))
				continue; /* a late duplicate */
			d = sp + 1;
			for (k = 0; k < nfly && fly[k] != i; k++)
				;
			if (dict_str(d, end, "result", &v, &vlen) ||
			    vlen != 2 || memcmp(v, "ok", 2) ||
			    dict_str(d, end, "sdp", &v, &vlen) ||
			    sdp_media(v, vlen, phase ? &c->ra : &c->rb,
				      phase ? &c->rap : &c->rbp)) {
				if (!err[0]) {
					const char *e;
					size_t el;

					if (dict_str(d, end, "error-reason",
						     &e, &el)) {
						e = "no sdp in the reply";
						el = strlen(e);
					}
					snprintf(err, sizeof(err), "call %ld "
						 "%s: %.*s", i, phase ? "answer"
						 : "offer", (int)(el > 200 ?
						 200 : el), e);
				}
				c->state = ST_FAILED;
				failed++;
				if (k < nfly)
					fly[k] = fly[--nfly];
				continue;
			}
			if (phase == 0) { /* now the answer */
				if (build(i, 1, msg, sizeof(msg), &len) ||
				    send(fd, msg, len, 0) < 0) {
					c->state = ST_ANSWER;
					c->tries = 0; /* sent at the timeout */
					c->sent_ns = 0;
					continue;
				}
				c->state = ST_ANSWER;
				c->tries = 1;
				c->sent_ns = now_ns();
				continue;
			}
			c->state = ST_DONE;
			ok++;
			if (k < nfly)
				fly[k] = fly[--nfly];
		}
		/* resends */
		now = now_ns();
		for (int k = 0; k < nfly;) {
			struct call *c = &calls[fly[k]];
			long long rto = RTO_NS << (c->tries ? c->tries - 1 : 0);

			if (now - c->sent_ns < rto) {
				k++;
				continue;
			}
			if (c->tries >= TRIES) {
				if (!err[0])
					snprintf(err, sizeof(err), "call %ld: "
						 "no reply to the %s after %d "
						 "tries", fly[k], c->state ==
						 ST_OFFER ? "offer" : "answer",
						 TRIES);
				c->state = ST_FAILED;
				failed++;
				fly[k] = fly[--nfly];
				continue;
			}
			if (build(fly[k], c->state == ST_ANSWER, msg,
				  sizeof(msg), &len) == 0 &&
			    send(fd, msg, len, 0) >= 0) {
				if (c->tries)
					resent++;
				c->tries++;
				c->sent_ns = now;
			}
			k++;
		}
	}
	t1 = now_ns();
	close(fd);
	f = fopen(out, "w");
	if (!f) {
		fprintf(stderr, "bench_ng: %s: %s\n", out, strerror(errno));
		return 1;
	}
	for (long i = 0; i < n; i++) {
		char a[32], b[32], ra[INET_ADDRSTRLEN], rb[INET_ADDRSTRLEN];
		unsigned ap, bp;

		if (calls[i].state != ST_DONE)
			continue;
		peer_of(i, 0, 2, a, sizeof(a), &ap);
		peer_of(i, 1, 2, b, sizeof(b), &bp);
		inet_ntop(AF_INET, &calls[i].ra, ra, sizeof(ra));
		inet_ntop(AF_INET, &calls[i].rb, rb, sizeof(rb));
		fprintf(f, "%s %u %s %u %s %u %s %u\n", a, ap, ra,
			calls[i].rap, rb, calls[i].rbp, b, bp);
	}
	if (fclose(f)) {
		fprintf(stderr, "bench_ng: %s: %s\n", out, strerror(errno));
		return 1;
	}
	printf("calls=%ld\nok=%ld\nfailed=%ld\nelapsed_ms=%.1f\n"
	       "calls_per_s=%.0f\nresent=%ld\nerror=%s\n", n, ok, failed,
	       (double)(t1 - t0) / 1e6,
	       t1 > t0 ? (double)ok * 1e9 / (double)(t1 - t0) : 0.0, resent,
	       err);
	free(calls);
	free(fly);
	return failed ? 1 : 0;
}

static int cmd_plan(long n, const char *out)
{
	FILE *f = fopen(out, "w");

	if (!f) {
		fprintf(stderr, "bench_ng: %s: %s\n", out, strerror(errno));
		return 1;
	}
	for (long i = 0; i < n; i++) {
		char a[32], b[32], ra[32], rb[32];
		unsigned ap, bp, x;
		long rp = cfg.port_min + 2 * (i % cfg.per_group);

		peer_of(i, 0, 2, a, sizeof(a), &ap);
		peer_of(i, 1, 2, b, sizeof(b), &bp);
		peer_of(i, 0, 1, ra, sizeof(ra), &x);
		peer_of(i, 1, 1, rb, sizeof(rb), &x);
		fprintf(f, "%s %u %s %ld %s %ld %s %u\n", a, ap, ra, rp, rb, rp,
			b, bp);
	}
	if (fclose(f)) {
		fprintf(stderr, "bench_ng: %s: %s\n", out, strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ng", 1, 0, 'g' }, { "calls", 1, 0, 'n' },
		{ "out", 1, 0, 'o' }, { "a-net", 1, 0, 'a' },
		{ "b-net", 1, 0, 'b' }, { "per-group", 1, 0, 'G' },
		{ "window", 1, 0, 'w' }, { "direction", 1, 0, 'd' },
		{ "id", 1, 0, 'i' }, { "port-min", 1, 0, 'p' },
		{ 0, 0, 0, 0 },
	};
	const char *ng = NULL, *out = NULL, *cmd;
	static char dir[128];
	long n = 0, window = 256;
	char *end, *comma;
	int c;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'g': ng = optarg; break;
		case 'o': out = optarg; break;
		case 'a': cfg.a_net = optarg; break;
		case 'b': cfg.b_net = optarg; break;
		case 'i': cfg.id = optarg; break;
		case 'n':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 10000000)
				return usage();
			break;
		case 'G':
			cfg.per_group = strtol(optarg, &end, 10);
			if (*end || cfg.per_group < 1 || cfg.per_group > 30000)
				return usage();
			break;
		case 'w':
			window = strtol(optarg, &end, 10);
			if (*end || window < 1 || window > 65536)
				return usage();
			break;
		case 'p':
			cfg.port_min = strtol(optarg, &end, 10);
			if (*end || cfg.port_min < 1024 || cfg.port_min > 65534)
				return usage();
			break;
		case 'd':
			snprintf(dir, sizeof(dir), "%s", optarg);
			comma = strchr(dir, ',');
			if (!comma || comma == dir || !comma[1])
				return usage();
			*comma = 0;
			cfg.dir_a = dir;
			cfg.dir_b = comma + 1;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc || !n || !out)
		return usage();
	if (!strcmp(cmd, "plan")) {
		if (cfg.port_min + 2 * (n < cfg.per_group ? n : cfg.per_group)
		    > 65535) {
			fprintf(stderr, "bench_ng: ports beyond 65535: lower "
				"--per-group or --port-min\n");
			return 2;
		}
		return cmd_plan(n, out);
	}
	if (strcmp(cmd, "setup") || !ng)
		return usage();
	cfg.nonce = (unsigned)getpid() ^ (unsigned)now_ns();
	return cmd_setup(ng, n, out, (int)window);
}
