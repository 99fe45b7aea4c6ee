// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sipload: a SIP load generator for the B2BUA (sipp is not in Debian 12).
 * One process plays both ends of every call, over UDP:
 *
 *   callees  N users calleeK register sip:calleeK@RELAY with a Contact on
 *            the generator's callee socket, then answer every INVITE the
 *            relay forwards with 100, 180 and 200 (with SDP), take the ACK
 *            and answer the BYE with 200;
 *   callers  N users callerK place calls at a constant rate R: INVITE
 *            sip:calleeK@RELAY with an SDP offer (c= the generator, PCMU),
 *            ACK the 200, hold the call H ms, BYE, 200.
 *
 * Media: once a call is answered each side sends an RTP packet (172 bytes:
 * 12 of header and 160 of PCMU) to the relay's port from the SDP it got,
 * and again every 100 ms until the other side received one; then the rest
 * of --rtp-count packets (numbered from 1001). The first packet of each
 * direction is the one the relay latches on (userspace, which installs the
 * kernel flow), those sent after one got through should be forwarded by
 * the kernel. The SSRC carries the call's slot, so the receiving side
 * knows whose packet it is.
 *
 * Retransmissions (RFC 3261 17.1, T1 = 500 ms, T2 = 4 s): INVITE every T1,
 * 2T1, 4T1... until a response, failed at 64*T1 without a final one (or at
 * --timeout); BYE every T1... capped at T2, failed at 64*T1; the callee's
 * 200 every T1... until the ACK (failed at 64*T1); a retransmitted 200 gets
 * the ACK again, a retransmitted INVITE or BYE the last response again.
 * A non-2xx final response is ACKed (same branch) and fails the attempt.
 *
 * Matching: a caller's Call-ID and branches carry the run's random id and
 * the call's slot and generation (an O(1) lookup), and a response must
 * match the Call-ID, the CSeq number and method and the top Via branch of
 * the transaction it answers; anything else is a stray. The callee's
 * dialogs (the relay picks their Call-IDs) are in a hash table by Call-ID.
 * Caller and callee of one call are linked by an X-Sipload header, which
 * the relay passes from leg A to leg B (its default pass-header X-*).
 * Timers are in a binary heap, one entry per call side.
 *
 * A call succeeds when its INVITE got a 2xx, its BYE a 2xx, and nothing
 * failed on the callee's side (its 200 ACKed, its dialog BYEd). Measures:
 * attempts, successes, failures by reason and status, set-up time (INVITE
 * sent -> 200 received) and BYE time (BYE sent -> 200 received) p50/p99,
 * the rate reached, the calls whose RTP went through both ways; with
 * --pin-dir also the kernel flows of the relay (entries of xr_flows and
 * in-use entries of the IPv4 per-port array xr_fast4, peak)
 * and the packets the kernel forwarded (xr_stats), with --relay-pid the
 * relay's CPU time per call.
 *
 * A call fails on an INVITE or BYE timeout or non-2xx final response, a
 * BYE from the relay, the callee's 200 never ACKed or its dialog never
 * BYEd, and (with RTP on) when the RTP did not get through both ways before
 * the BYE ("no_media": the relay latches a stream on its first packet and
 * installs its kernel flow then, so that is the check that the media
 * entries were installed).
 *
 * --search steps the rate up (--rates, default 250,500,1000,1500,...) for
 * --step seconds each, after a drain of the previous step, until a step
 * fails: more than --max-fail failed calls (default 0.1%), its rate not
 * reached (97% of its calls started on time), or a set-up p99 above
 * --max-p99 (default 500 ms = T1: over 1% of the INVITEs or their answers
 * had to be retransmitted, the relay is dropping SIP; with UDP
 * retransmissions an overloaded relay completes nearly every call, only
 * seconds late). Then it refines between the last passing and the failing
 * rate (--refine steps), and reports the highest passing rate with its
 * set-up times.
 *
 * Exit: 0 the run completed (whatever the figures), 1 it could not run
 * (registration failed, sockets), 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xrelay_abi.h"
#include "xr_pinned_flows.h"

#define MAX_MSG     4096
#define BATCH       64
#define RTP_LEN     172          /* 12 header + 160 PCMU (20 ms) */
#define RTP_RESEND_MS 100
#define RTP_MAX_TRIES 10         /* first packets of a direction */
#define LINGER_MS   5000         /* a finished call answers retransmissions */
#define MAX_VIA     8
#define MAX_RR      4
#define CHUNK_SHIFT 12
#define CHUNK       (1u << CHUNK_SHIFT)
#define HBUCKETS    (1u << 18)
#define MAX_STEPS   64
#define NONE        UINT32_MAX

/* ---- options --------------------------------------------------------------- */

static struct {
	struct sockaddr_storage relay, local;
	socklen_t relay_len, local_len;
	char relay_hp[80];   /* host[:port] of the relay in URIs */
	char local_h[80];    /* the generator's address (brackets for IPv6) */
	char local_ip[64];   /* ... as in SDP */
	int v6;
	int caller_port, callee_port, rtp_caller_port, rtp_callee_port;
	double rate, duration;
	unsigned hold_ms, users, max_inflight, ring_ms, rtp_count;
	unsigned t1_ms, t2_ms, timeout_ms, drain_s, max_p99_ms;
	const char *json, *pin_dir, *path_name;
	int relay_pid;
	int search, refine, quiet, verbose;
	double rates[MAX_STEPS];
	int nrates;
	double step_s, max_fail;
} O = {
	.caller_port = 5062, .callee_port = 5064,
	.rtp_caller_port = 20000, .rtp_callee_port = 20002,
	.rate = 100, .duration = 10, .hold_ms = 1000, .users = 1000,
	.max_inflight = 50000, .rtp_count = 2, .t1_ms = 500, .t2_ms = 4000,
	.timeout_ms = 32000, .drain_s = 40, .path_name = "xdp",
	.refine = 2, .step_s = 4, .max_fail = 0.001, .max_p99_ms = 500,
};

/* ---- time -------------------------------------------------------------------- */

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t NOW; /* the loop's current time, us */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "sipload: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* ---- timers: a binary min-heap of embedded nodes --------------------------------- */

enum tkind { TK_UAC, TK_UAS, TK_REG };

struct timer {
	uint64_t due;
	int32_t hidx;   /* -1: not in the heap */
	uint8_t kind;
	uint32_t obj;   /* the owner's slot */
};

static struct timer **heap;
static uint32_t heap_n, heap_cap;

static void heap_swap(uint32_t a, uint32_t b)
{
	struct timer *t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
	heap[a]->hidx = (int32_t)a;
	heap[b]->hidx = (int32_t)b;
}

static void heap_up(uint32_t i)
{
	while (i && heap[(i - 1) / 2]->due > heap[i]->due) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < heap_n && heap[l]->due < heap[m]->due)
			m = l;
		if (r < heap_n && heap[r]->due < heap[m]->due)
			m = r;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

static void timer_cancel(struct timer *t)
{
	uint32_t i;

	if (t->hidx < 0)
		return;
	i = (uint32_t)t->hidx;
	t->hidx = -1;
	heap_n--;
	if (i == heap_n)
		return;
	heap[i] = heap[heap_n];
	heap[i]->hidx = (int32_t)i;
	heap_up(i);
	heap_down((uint32_t)heap[i]->hidx);
}

static void timer_set(struct timer *t, uint64_t due)
{
	if (t->hidx >= 0) {
		uint64_t old = t->due;

		t->due = due;
		if (due < old)
			heap_up((uint32_t)t->hidx);
		else
			heap_down((uint32_t)t->hidx);
		return;
	}
	if (heap_n == heap_cap) {
		heap_cap = heap_cap ? heap_cap * 2 : 4096;
		heap = realloc(heap, heap_cap * sizeof(*heap));
		if (!heap)
			die("out of memory");
	}
	t->due = due;
	t->hidx = (int32_t)heap_n;
	heap[heap_n++] = t;
	heap_up(heap_n - 1);
}

/* ---- object pools: chunks (stable addresses) and a free stack ------------------------- */

struct pool {
	char **chunks;
	uint32_t nchunks, size, count;
	uint32_t *free, nfree, free_cap;
};

static void *pool_at(struct pool *p, uint32_t i)
{
	return p->chunks[i >> CHUNK_SHIFT] + (size_t)(i & (CHUNK - 1)) * p->size;
}

/* A zeroed object of a fresh or recycled slot (*idx); the caller keeps the
 * generation it finds there. */
static void *pool_get(struct pool *p, uint32_t *idx)
{
	if (!p->nfree) {
		uint32_t base = p->nchunks * CHUNK;

		p->chunks = realloc(p->chunks, (p->nchunks + 1) * sizeof(char *));
		if (!p->chunks || !(p->chunks[p->nchunks] = calloc(CHUNK, p->size)))
			die("out of memory");
		p->nchunks++;
		if (p->free_cap < p->nchunks * CHUNK) {
			p->free_cap = p->nchunks * CHUNK;
			p->free = realloc(p->free, p->free_cap * sizeof(uint32_t));
			if (!p->free)
				die("out of memory");
		}
		for (uint32_t i = CHUNK; i-- > 0;)
			p->free[p->nfree++] = base + i;
	}
	*idx = p->free[--p->nfree];
	p->count++;
	return pool_at(p, *idx);
}

static void pool_put(struct pool *p, uint32_t idx)
{
	p->free[p->nfree++] = idx;
	p->count--;
}

/* ---- statistics per step -------------------------------------------------------------- */

enum reason {
	R_INV_TIMEOUT, R_INV_STATUS, R_BYE_TIMEOUT, R_BYE_STATUS, R_RELAY_BYE,
	R_CALLEE_NO_ACK, R_CALLEE_NO_BYE, R_NO_MEDIA, R_UNRESOLVED,
	R_MAX
};
static const char *reason_names[R_MAX] = {
	"invite_timeout", "invite_status", "bye_timeout", "bye_status",
	"bye_from_relay", "callee_no_ack", "callee_no_bye", "no_media",
	"unresolved",
};

struct samples {
	uint32_t *v;
	uint32_t n, cap;
};

static void sample_add(struct samples *s, uint64_t us)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->v = realloc(s->v, s->cap * sizeof(uint32_t));
		if (!s->v)
			die("out of memory");
	}
	s->v[s->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile in ms (samples sorted first). */
static double pct_ms(struct samples *s, double p)
{
	size_t k;

	if (!s->n)
		return NAN;
	qsort(s->v, s->n, sizeof(uint32_t), cmp_u32);
	k = (size_t)ceil(p * s->n);
	if (k < 1)
		k = 1;
	return s->v[k - 1] / 1000.0;
}

struct step {
	double rate, dur_s;
	uint64_t t0, t_end, t_done;  /* start, end of starting, all resolved */
	uint64_t planned, started, skipped, success, failed, late_failed;
	uint64_t fail[R_MAX], status[700];
	uint64_t media_ok, media_all;      /* RTP both ways; and all packets
					      sent after the latch */
	uint64_t active_uac, active_uas;
	uint64_t inv_retx, bye_retx, ok_retx, strays;
	uint64_t up_peak, up_media_peak, flows_peak, flows_end;
	uint64_t kfwd0, kfwd1, kpass0, kpass1;
	uint64_t relay_ns0, relay_ns1, gen_ns0, gen_ns1;
	uint64_t rcvbuf0, rcvbuf1;         /* the relay's UDP drops */
	struct samples setup, ring, bye;
	double p50, p99, r50, r99, b50, b99; /* filled by step_finish */
	int pass, closed;                  /* closed: reported, no more
					      updates */
	const char *why;                   /* why it did not pass */
};

static struct step steps[MAX_STEPS];
static int nsteps, cur = -1;
static uint64_t strays, parse_errors, send_errors, unknown_req, unlinked;
static uint64_t calls_up, calls_up_media; /* right now */
static uint64_t calls_active;             /* started, not resolved */

/* ---- sockets -------------------------------------------------------------------------- */

static int fd_caller, fd_callee, fd_rtp_a, fd_rtp_b, epfd;

static int udp_socket(int port)
{
	struct sockaddr_storage a = O.local;
	int fd, big = 8 << 20, one = 1;

	fd = socket(O.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (O.v6)
		((struct sockaddr_in6 *)&a)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&a)->sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&a, O.local_len) < 0)
		die("bind %s port %d: %s", O.local_ip, port, strerror(errno));
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	return fd;
}

static void send_to(int fd, const struct sockaddr_storage *to, const void *buf,
		    size_t len)
{
	socklen_t sl = to->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
			sizeof(struct sockaddr_in);

	if (sendto(fd, buf, len, 0, (const struct sockaddr *)to, sl) < 0)
		send_errors++;
}

static void send_relay(int fd, const char *buf, size_t len)
{
	send_to(fd, &O.relay, buf, len);
}

/* ---- a minimal SIP parser ---------------------------------------------------------------- */

struct str { const char *p; int n; };

struct msg {
	int is_req, status;
	struct str method, ruri, reason;
	struct str callid, from, to, ftag, ttag, cseq_method, contact, xid;
	uint32_t cseq;
	int ncseq;
	struct str via[MAX_VIA];
	int nvia;
	struct str branch;      /* of the top Via */
	struct str rr[MAX_RR];
	int nrr;
	const char *body;
	int clen, has_clen;
};

static int str_eq(struct str s, const char *c)
{
	return s.p && (int)strlen(c) == s.n && !memcmp(s.p, c, (size_t)s.n);
}

static struct str trim(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	return (struct str){ p, (int)(e - p) };
}

/* The value of ";NAME=" in s, outside of <...> (a URI's own parameters). */
static struct str param(struct str s, const char *name)
{
	size_t nl = strlen(name);
	int depth = 0;

	for (int i = 0; i < s.n; i++) {
		char c = s.p[i];

		if (c == '<')
			depth++;
		else if (c == '>')
			depth--;
		else if (c == ';' && depth <= 0 && i + 1 + (int)nl < s.n &&
			 !strncasecmp(s.p + i + 1, name, nl) &&
			 s.p[i + 1 + nl] == '=') {
			const char *v = s.p + i + 2 + nl, *e = v;

			while (e < s.p + s.n && *e != ';' && *e != ',' &&
			       *e != ' ' && *e != '>')
				e++;
			return (struct str){ v, (int)(e - v) };
		}
	}
	return (struct str){ NULL, 0 };
}

/* Header name (long or compact form) matches. */
static int hname(struct str h, const char *lng, char cmp)
{
	if (h.n == 1 && cmp && (h.p[0] | 0x20) == cmp)
		return 1;
	return (int)strlen(lng) == h.n && !strncasecmp(h.p, lng, (size_t)h.n);
}

/* Parses buf (NUL-terminated, len bytes) in place; 0 or -1. */
static int parse(const char *buf, int len, struct msg *m)
{
	const char *p = buf, *end = buf + len, *eol, *q;

	memset(m, 0, sizeof(*m));
	eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		return -1;
	if (len > 8 && !memcmp(p, "SIP/2.0 ", 8)) {
		m->status = atoi(p + 8);
		if (m->status < 100 || m->status > 699)
			return -1;
		q = p + 12;
		m->reason = trim(q < eol ? q : eol, eol);
	} else {
		const char *sp1 = memchr(p, ' ', (size_t)(eol - p)), *sp2;

		if (!sp1)
			return -1;
		sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
		if (!sp2 || strncmp(sp2 + 1, "SIP/2.0", 7))
			return -1;
		m->is_req = 1;
		m->method = (struct str){ p, (int)(sp1 - p) };
		m->ruri = (struct str){ sp1 + 1, (int)(sp2 - sp1 - 1) };
	}
	p = eol + 1;
	while (p < end) {
		const char *colon;
		struct str name, val;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (*p == '\r' || *p == '\n') { /* the blank line */
			p = eol + 1;
			break;
		}
		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon)
			return -1;
		name = trim(p, colon);
		val = trim(colon + 1, eol);
		if (hname(name, "via", 'v')) {
			/* values separated by commas, each its own Via */
			const char *s = val.p, *e = val.p + val.n;

			while (s < e && m->nvia < MAX_VIA) {
				const char *c = memchr(s, ',', (size_t)(e - s));

				if (!c)
					c = e;
				m->via[m->nvia++] = trim(s, c);
				s = c + 1;
			}
		} else if (hname(name, "call-id", 'i')) {
			m->callid = val;
		} else if (hname(name, "from", 'f')) {
			m->from = val;
		} else if (hname(name, "to", 't')) {
			m->to = val;
		} else if (hname(name, "cseq", 0)) {
			char *ep;

			m->cseq = (uint32_t)strtoul(val.p, &ep, 10);
			m->ncseq = ep != val.p;
			m->cseq_method = trim(ep, val.p + val.n);
		} else if (hname(name, "contact", 'm')) {
			const char *lt = memchr(val.p, '<', (size_t)val.n), *gt;

			if (lt && (gt = memchr(lt, '>', (size_t)(val.p + val.n - lt))))
				m->contact = (struct str){ lt + 1, (int)(gt - lt - 1) };
			else
				m->contact = val;
		} else if (hname(name, "record-route", 0)) {
			if (m->nrr < MAX_RR)
				m->rr[m->nrr++] = val;
		} else if (hname(name, "content-length", 'l')) {
			m->clen = atoi(val.p);
			m->has_clen = 1;
		} else if (hname(name, "x-sipload", 0)) {
			m->xid = val;
		}
		p = eol + 1;
	}
	if (!m->callid.p || !m->from.p || !m->to.p || !m->ncseq || !m->nvia)
		return -1;
	m->body = p <= end ? p : end;
	if (!m->has_clen)
		m->clen = (int)(end - m->body);
	if (m->clen < 0 || m->body + m->clen > end)
		return -1;
	m->ftag = param(m->from, "tag");
	m->ttag = param(m->to, "tag");
	m->branch = param(m->via[0], "branch");
	return 0;
}

/* The media address of an SDP body: the c= (media-level if any) and the
 * first m=audio port. */
static int sdp_media(const char *b, int len, struct sockaddr_storage *out)
{
	char ip[64] = "";
	int port = -1, in_m = 0;
	const char *p = b, *e = b + len;

	while (p < e) {
		const char *eol = memchr(p, '\n', (size_t)(e - p));
		int n;

		if (!eol)
			eol = e;
		n = (int)(eol - p);
		if (n > 2 && p[0] == 'm' && p[1] == '=') {
			if (port >= 0)
				break;
			if (!strncmp(p, "m=audio ", 8)) {
				port = atoi(p + 8);
				in_m = 1;
			}
		} else if (n > 9 && (!strncmp(p, "c=IN IP4 ", 9) ||
				     !strncmp(p, "c=IN IP6 ", 9)) &&
			   (!ip[0] || in_m)) {
			int l = n - 9;

			while (l > 0 && (p[9 + l - 1] == '\r' || p[9 + l - 1] == ' '))
				l--;
			if (l >= (int)sizeof(ip))
				return -1;
			memcpy(ip, p + 9, (size_t)l);
			ip[l] = 0;
			if (strchr(ip, '/'))
				*strchr(ip, '/') = 0;
		}
		p = eol + 1;
	}
	if (port <= 0 || port > 65535 || !ip[0])
		return -1;
	memset(out, 0, sizeof(*out));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)out;

	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, ip, &s4->sin_addr) == 1 ? 0 : -1;
}

/* ---- message text -------------------------------------------------------------------- */

struct sb {
	char b[MAX_MSG];
	int n;
};

static void sb_add(struct sb *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_add(struct sb *s, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (s->n >= (int)sizeof(s->b))
		return;
	va_start(ap, fmt);
	r = vsnprintf(s->b + s->n, sizeof(s->b) - (size_t)s->n, fmt, ap);
	va_end(ap);
	s->n += r;
	if (s->n > (int)sizeof(s->b) - 1)
		s->n = (int)sizeof(s->b) - 1;
}

static int sdp_body(char *out, size_t len, const char *user, uint32_t id,
		    int port)
{
	return snprintf(out, len,
		"v=0\r\n"
		"o=%s %u 1 IN IP%c %s\r\n"
		"s=sipload\r\n"
		"c=IN IP%c %s\r\n"
		"t=0 0\r\n"
		"m=audio %d RTP/AVP 0\r\n"
		"a=rtpmap:0 PCMU/8000\r\n"
		"a=ptime:20\r\n"
		"a=sendrecv\r\n",
		user, id, O.v6 ? '6' : '4', O.local_ip, O.v6 ? '6' : '4',
		O.local_ip, port);
}

static char run_id[12]; /* random per process: Call-IDs and branches of
			   another run never look like ours */

/* ---- calls: the caller's side ------------------------------------------------------- */

enum uac_state { U_FREE, U_INVITING, U_PROCEEDING, U_UP, U_BYEING, U_LINGER };

struct uac {
	struct timer tm;
	uint32_t gen, user, uas_idx, uas_gen;
	uint8_t state, failed, has_uas, counted_up, counted_media;
	uint8_t sent[2], rcvd[2];  /* RTP per direction: 0 A->B, 1 B->A;
				      until the first got through */
	uint8_t asent[2], arcvd[2]; /* the packets sent after that */
	uint8_t resolved, got180;  /* outcome recorded; 180 seen */
	uint16_t step;
	uint32_t retx_ms;
	uint64_t t_inv, t_bye, deadline, next_retx, hold_end, rtp_next;
	char ftag[16], ttag[64], target[160];
	struct sockaddr_storage rtp_to;   /* the relay's port for A */
	char *req, *ack, *route;
	uint16_t reqlen, acklen;
};

/* ---- the callee's side ------------------------------------------------------------- */

enum uas_state { S_FREE, S_EARLY, S_ANSWERED, S_CONFIRMED, S_LINGER };

struct uas {
	struct timer tm;
	uint32_t gen, hnext, link_idx, link_gen, user;
	uint8_t state, linked, got_bye;
	uint16_t step;
	uint32_t inv_cseq, retx_ms;
	uint64_t next_retx, deadline;
	char callid[96], branch[96], tag[16];
	struct sockaddr_storage peer, rtp_to;
	char *resp;      /* the last response to the INVITE */
	uint16_t resplen;
	char *ok;        /* the 200 (sent at ring end) */
	uint16_t oklen;
};

static struct pool uacs = { .size = sizeof(struct uac) };
static struct pool uass = { .size = sizeof(struct uas) };
static uint32_t *hbucket;

static struct uac *uac_at(uint32_t i) { return pool_at(&uacs, i); }
static struct uas *uas_at(uint32_t i) { return pool_at(&uass, i); }

static uint32_t hash_str(const char *p, int n)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 16777619u;
	return h & (HBUCKETS - 1);
}

static struct uas *uas_find(struct str cid, uint32_t *idx)
{
	for (uint32_t i = hbucket[hash_str(cid.p, cid.n)]; i != NONE;) {
		struct uas *s = uas_at(i);

		if ((int)strlen(s->callid) == cid.n &&
		    !memcmp(s->callid, cid.p, (size_t)cid.n)) {
			*idx = i;
			return s;
		}
		i = s->hnext;
	}
	return NULL;
}

static void uas_unhash(struct uas *s, uint32_t idx)
{
	uint32_t *pp = &hbucket[hash_str(s->callid, (int)strlen(s->callid))];

	while (*pp != NONE) {
		if (*pp == idx) {
			*pp = s->hnext;
			return;
		}
		pp = &uas_at(*pp)->hnext;
	}
}

/* ---- step accounting ----------------------------------------------------------------- */

static void fail_late(int step, enum reason r)
{
	if (steps[step].closed) /* counted as unresolved */
		return;
	steps[step].late_failed++;
	steps[step].fail[r]++;
}

static void uac_count_up(struct uac *u, int up)
{
	if (up && !u->counted_up) {
		u->counted_up = 1;
		calls_up++;
		if (calls_up > steps[u->step].up_peak)
			steps[u->step].up_peak = calls_up;
	} else if (!up && u->counted_up) {
		u->counted_up = 0;
		calls_up--;
	}
	if (up && !u->counted_media && u->rcvd[0] && u->rcvd[1]) {
		u->counted_media = 1;
		calls_up_media++;
		if (calls_up_media > steps[u->step].up_media_peak)
			steps[u->step].up_media_peak = calls_up_media;
	} else if (!up && u->counted_media) {
		u->counted_media = 0;
		calls_up_media--;
	}
}

/* The attempt's outcome, once. */
static void uac_resolve(struct uac *u, enum reason r, int status)
{
	struct step *st = &steps[u->step];

	if (u->resolved)
		return;
	u->resolved = 1;
	calls_active--;
	uac_count_up(u, 0);
	st->active_uac--;
	if (st->closed) /* counted as unresolved */
		return;
	if ((int)r >= 0) {
		u->failed = 1;
		st->failed++;
		st->fail[r]++;
		if (status >= 100 && status < 700)
			st->status[status]++;
		if (O.verbose)
			fprintf(stderr, "sipload: call %u failed: %s %d\n",
				u->user, reason_names[r], status);
	} else if (O.rtp_count && !(u->rcvd[0] && u->rcvd[1])) {
		/* answered and hung up, but no media through the relay */
		u->failed = 1;
		st->failed++;
		st->fail[R_NO_MEDIA]++;
	} else {
		st->success++;
	}
	if (u->rcvd[0] && u->rcvd[1])
		st->media_ok++;
	if (u->rcvd[0] && u->rcvd[1] && u->arcvd[0] + 1u >= O.rtp_count &&
	    u->arcvd[1] + 1u >= O.rtp_count)
		st->media_all++;
}

static void uac_linger(struct uac *u)
{
	free(u->req);
	u->req = NULL;
	u->state = U_LINGER;
	timer_set(&u->tm, NOW + LINGER_MS * 1000ull);
}

static void uac_free(struct uac *u, uint32_t idx)
{
	timer_cancel(&u->tm);
	free(u->req);
	free(u->ack);
	free(u->route);
	u->req = u->ack = u->route = NULL;
	u->state = U_FREE;
	u->gen++;
	pool_put(&uacs, idx);
}

/* ---- sending: the caller's requests -------------------------------------------------------- */

static void callid_of(uint32_t idx, uint32_t gen, char *out, size_t len)
{
	snprintf(out, len, "%s-%u-%u@sipload", run_id, idx, gen);
}

static void branch_of(char kind, uint32_t idx, uint32_t gen, char *out,
		      size_t len)
{
	snprintf(out, len, "z9hG4bK%s%c%u.%u", run_id, kind, idx, gen);
}

static void req_head(struct sb *s, const char *method, const char *ruri,
		     const char *branch, struct uac *u, uint32_t idx,
		     uint32_t cseq, const char *cseq_method)
{
	char cid[64];

	callid_of(idx, u->gen, cid, sizeof(cid));
	sb_add(s, "%s %s SIP/2.0\r\n"
	       "Via: SIP/2.0/UDP %s:%d;branch=%s;rport\r\n"
	       "Max-Forwards: 70\r\n"
	       "From: <sip:caller%u@%s>;tag=%s\r\n"
	       "To: <sip:callee%u@%s>%s%s\r\n"
	       "Call-ID: %s\r\n"
	       "CSeq: %u %s\r\n",
	       method, ruri, O.local_h, O.caller_port, branch, u->user,
	       O.relay_hp, u->ftag, u->user, O.relay_hp,
	       u->ttag[0] ? ";tag=" : "", u->ttag, cid, cseq, cseq_method);
}

static void uac_set_timer(struct uac *u)
{
	uint64_t due = u->deadline;

	switch (u->state) {
	case U_INVITING:
	case U_BYEING:
		if (u->next_retx < due)
			due = u->next_retx;
		break;
	case U_UP:
		due = u->hold_end;
		if (u->rtp_next && u->rtp_next < due)
			due = u->rtp_next;
		break;
	default:
		break;
	}
	timer_set(&u->tm, due);
}

static void start_call(void)
{
	static uint32_t nth;
	struct step *st = &steps[cur];
	uint32_t idx;
	struct uac *u = pool_get(&uacs, &idx);
	uint32_t gen = u->gen;
	char ruri[128], branch[64], body[512];
	struct sb s;
	int bl;

	memset(u, 0, sizeof(*u));
	u->gen = gen;
	u->tm.hidx = -1;
	u->tm.kind = TK_UAC;
	u->tm.obj = idx;
	u->user = nth++ % O.users;
	u->step = (uint16_t)cur;
	snprintf(u->ftag, sizeof(u->ftag), "%08x", (unsigned)random());
	snprintf(ruri, sizeof(ruri), "sip:callee%u@%s", u->user, O.relay_hp);
	branch_of('i', idx, gen, branch, sizeof(branch));
	s.n = 0;
	req_head(&s, "INVITE", ruri, branch, u, idx, 1, "INVITE");
	bl = sdp_body(body, sizeof(body), "caller", idx, O.rtp_caller_port);
	sb_add(&s, "Contact: <sip:caller%u@%s:%d>\r\n"
	       "X-Sipload: %u.%u\r\n"
	       "User-Agent: sipload\r\n"
	       "Content-Type: application/sdp\r\n"
	       "Content-Length: %d\r\n\r\n%s",
	       u->user, O.local_h, O.caller_port, idx, gen, bl, body);
	u->req = malloc((size_t)s.n);
	if (!u->req)
		die("out of memory");
	memcpy(u->req, s.b, (size_t)s.n);
	u->reqlen = (uint16_t)s.n;
	u->state = U_INVITING;
	u->t_inv = NOW;
	u->retx_ms = O.t1_ms;
	u->next_retx = NOW + O.t1_ms * 1000ull;
	u->deadline = NOW + O.timeout_ms * 1000ull;
	st->started++;
	st->active_uac++;
	calls_active++;
	send_relay(fd_caller, u->req, (size_t)u->reqlen);
	uac_set_timer(u);
}

/* The ACK of a non-2xx final response: same branch and Request-URI as the
 * INVITE (part of its transaction, RFC 3261 17.1.1.3). */
static void uac_ack_non2xx(struct uac *u, uint32_t idx)
{
	char ruri[128], branch[64];
	struct sb s;

	snprintf(ruri, sizeof(ruri), "sip:callee%u@%s", u->user, O.relay_hp);
	branch_of('i', idx, u->gen, branch, sizeof(branch));
	s.n = 0;
	req_head(&s, "ACK", ruri, branch, u, idx, 1, "ACK");
	sb_add(&s, "Content-Length: 0\r\n\r\n");
	free(u->ack);
	u->ack = malloc((size_t)s.n);
	if (!u->ack)
		die("out of memory");
	memcpy(u->ack, s.b, (size_t)s.n);
	u->acklen = (uint16_t)s.n;
	send_relay(fd_caller, u->ack, u->acklen);
}

/* In-dialog request from the caller (ACK for 2xx, BYE): to the remote
 * target, with the route set. */
static int uac_dialog_req(struct uac *u, uint32_t idx, const char *method,
			  char kind, uint32_t cseq, struct sb *s)
{
	char branch[64];

	branch_of(kind, idx, u->gen, branch, sizeof(branch));
	s->n = 0;
	req_head(s, method, u->target, branch, u, idx, cseq, method);
	if (u->route)
		sb_add(s, "%s", u->route);
	sb_add(s, "Content-Length: 0\r\n\r\n");
	return s->n;
}

/* An RTP packet of direction `side` (0: the caller's, 1: the callee's):
 * until one got through they are numbered from 1, after it from 1001. */
static int rtp_send(int side, struct uac *u, uint32_t idx, int after)
{
	uint8_t pkt[RTP_LEN] = { 0x80, 0x00 };
	uint32_t ssrc = (idx & 0xffffff) | ((u->gen & 0xff) << 24);
	uint16_t seq = (uint16_t)(after ? 1001 + u->asent[side] :
				  u->sent[side] + 1);
	uint32_t ts = seq * 160u;
	const struct sockaddr_storage *to;

	if (side == 0) {
		to = &u->rtp_to;
	} else {
		struct uas *s;

		if (!u->has_uas)
			return -1;
		s = uas_at(u->uas_idx);
		if (s->gen != u->uas_gen || s->state == S_FREE ||
		    !s->rtp_to.ss_family)
			return -1;
		to = &s->rtp_to;
	}
	if (!to->ss_family)
		return -1;
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
	pkt[4] = (uint8_t)(ts >> 24);
	pkt[5] = (uint8_t)(ts >> 16);
	pkt[6] = (uint8_t)(ts >> 8);
	pkt[7] = (uint8_t)ts;
	pkt[8] = (uint8_t)(ssrc >> 24);
	pkt[9] = (uint8_t)(ssrc >> 16);
	pkt[10] = (uint8_t)(ssrc >> 8);
	pkt[11] = (uint8_t)ssrc;
	memset(pkt + 12, 0xff, RTP_LEN - 12); /* PCMU silence */
	send_to(side ? fd_rtp_b : fd_rtp_a, to, pkt, sizeof(pkt));
	if (after && u->asent[side] < 255)
		u->asent[side]++;
	else if (!after && u->sent[side] < 255)
		u->sent[side]++;
	return 0;
}

static void uac_send_bye(struct uac *u, uint32_t idx)
{
	struct sb s;

	uac_dialog_req(u, idx, "BYE", 'b', 2, &s);
	free(u->req);
	u->req = malloc((size_t)s.n);
	if (!u->req)
		die("out of memory");
	memcpy(u->req, s.b, (size_t)s.n);
	u->reqlen = (uint16_t)s.n;
	uac_count_up(u, 0);
	u->state = U_BYEING;
	u->t_bye = NOW;
	u->retx_ms = O.t1_ms;
	u->next_retx = NOW + O.t1_ms * 1000ull;
	u->deadline = NOW + 64ull * O.t1_ms * 1000ull;
	send_relay(fd_caller, u->req, u->reqlen);
}

static void uac_answered(struct uac *u, uint32_t idx, const struct msg *m)
{
	struct step *st = &steps[u->step];
	struct sb s;

	sample_add(&st->setup, NOW - u->t_inv);
	snprintf(u->ttag, sizeof(u->ttag), "%.*s", m->ttag.n, m->ttag.p);
	if (m->contact.p && m->contact.n < (int)sizeof(u->target))
		snprintf(u->target, sizeof(u->target), "%.*s", m->contact.n,
			 m->contact.p);
	else
		snprintf(u->target, sizeof(u->target), "sip:callee%u@%s",
			 u->user, O.relay_hp);
	if (m->nrr) { /* the route set: Record-Route reversed */
		struct sb r;

		r.n = 0;
		for (int i = m->nrr; i-- > 0;)
			sb_add(&r, "Route: %.*s\r\n", m->rr[i].n, m->rr[i].p);
		u->route = strndup(r.b, (size_t)r.n);
	}
	uac_dialog_req(u, idx, "ACK", 'a', 1, &s);
	u->ack = malloc((size_t)s.n);
	if (!u->ack)
		die("out of memory");
	memcpy(u->ack, s.b, (size_t)s.n);
	u->acklen = (uint16_t)s.n;
	send_relay(fd_caller, u->ack, u->acklen);
	free(u->req);
	u->req = NULL;
	u->state = U_UP;
	u->hold_end = NOW + O.hold_ms * 1000ull;
	u->deadline = UINT64_MAX;
	uac_count_up(u, 1);
	if (O.rtp_count && sdp_media(m->body, m->clen, &u->rtp_to) == 0) {
		rtp_send(0, u, idx, 0);
		rtp_send(1, u, idx, 0);
		u->rtp_next = NOW + RTP_RESEND_MS * 1000ull;
	}
}

static void uac_timer(struct uac *u, uint32_t idx)
{
	switch (u->state) {
	case U_INVITING:
	case U_PROCEEDING:
		if (NOW >= u->deadline) {
			uac_resolve(u, R_INV_TIMEOUT, 0);
			uac_linger(u);
			return;
		}
		if (u->state == U_INVITING && NOW >= u->next_retx) {
			steps[u->step].inv_retx++;
			send_relay(fd_caller, u->req, u->reqlen);
			u->retx_ms *= 2;
			u->next_retx = NOW + u->retx_ms * 1000ull;
		}
		break;
	case U_UP:
		if (NOW >= u->hold_end) {
			uac_send_bye(u, idx);
			break;
		}
		if (u->rtp_next && NOW >= u->rtp_next) {
			int more = 0;

			for (int d = 0; d < 2; d++)
				if (!u->rcvd[d] && u->sent[d] < RTP_MAX_TRIES) {
					rtp_send(d, u, idx, 0);
					more = 1;
				}
			u->rtp_next = more ? NOW + RTP_RESEND_MS * 1000ull : 0;
		}
		break;
	case U_BYEING:
		if (NOW >= u->deadline) {
			uac_resolve(u, R_BYE_TIMEOUT, 0);
			uac_linger(u);
			return;
		}
		if (NOW >= u->next_retx) {
			steps[u->step].bye_retx++;
			send_relay(fd_caller, u->req, u->reqlen);
			u->retx_ms = u->retx_ms * 2 > O.t2_ms ? O.t2_ms :
				     u->retx_ms * 2;
			u->next_retx = NOW + u->retx_ms * 1000ull;
		}
		break;
	case U_LINGER:
		uac_free(u, idx);
		return;
	default:
		return;
	}
	uac_set_timer(u);
}

/* A caller's Call-ID "RUN-IDX-GEN@sipload" -> its call, or NULL. */
static struct uac *uac_by_callid(struct str cid, uint32_t *idx)
{
	size_t rl = strlen(run_id);
	unsigned long i, g;
	char buf[64], *e;
	struct uac *u;

	if (cid.n >= (int)sizeof(buf) || cid.n <= (int)rl + 1 ||
	    memcmp(cid.p, run_id, rl) || cid.p[rl] != '-')
		return NULL;
	memcpy(buf, cid.p, (size_t)cid.n);
	buf[cid.n] = 0;
	i = strtoul(buf + rl + 1, &e, 10);
	if (*e != '-')
		return NULL;
	g = strtoul(e + 1, &e, 10);
	if (strcmp(e, "@sipload") || i >= (unsigned long)uacs.nchunks * CHUNK)
		return NULL;
	u = uac_at((uint32_t)i);
	if (u->state == U_FREE || u->gen != (uint32_t)g)
		return NULL;
	*idx = (uint32_t)i;
	return u;
}

/* A request to the caller: from the relay (a BYE of a call that it ends). */
static void respond(int fd, const struct sockaddr_storage *to,
		    const struct msg *m, int status, const char *reason,
		    const char *tag, const char *extra, const char *body,
		    int blen);

static void caller_request(const struct msg *m,
			   const struct sockaddr_storage *from)
{
	uint32_t idx;
	struct uac *u = uac_by_callid(m->callid, &idx);

	if (str_eq(m->method, "ACK"))
		return;
	if (!u) {
		unknown_req++;
		respond(fd_caller, from, m, 481, "Call/Transaction Does Not Exist",
			NULL, NULL, NULL, 0);
		return;
	}
	if (str_eq(m->method, "BYE")) {
		respond(fd_caller, from, m, 200, "OK", NULL, NULL, NULL, 0);
		if (u->state == U_UP || u->state == U_BYEING) {
			uac_resolve(u, R_RELAY_BYE, 0);
			uac_linger(u);
		}
		return;
	}
	respond(fd_caller, from, m, str_eq(m->method, "OPTIONS") ? 200 : 501,
		str_eq(m->method, "OPTIONS") ? "OK" : "Not Implemented",
		NULL, NULL, NULL, 0);
}

static void caller_response(const struct msg *m)
{
	uint32_t idx;
	struct uac *u = uac_by_callid(m->callid, &idx);
	char branch[64];
	int inv;

	if (!u) {
		strays++;
		return;
	}
	inv = str_eq(m->cseq_method, "INVITE");
	if (!(inv && m->cseq == 1) &&
	    !(str_eq(m->cseq_method, "BYE") && m->cseq == 2)) {
		steps[u->step].strays++;
		return;
	}
	branch_of(inv ? 'i' : 'b', idx, u->gen, branch, sizeof(branch));
	if (!str_eq(m->branch, branch)) {
		steps[u->step].strays++;
		return;
	}
	if (!inv) { /* BYE */
		if (u->state != U_BYEING || m->status < 200)
			return;
		if (m->status < 300) {
			sample_add(&steps[u->step].bye, NOW - u->t_bye);
			uac_resolve(u, (enum reason)-1, 0);
		} else {
			uac_resolve(u, R_BYE_STATUS, m->status);
		}
		uac_linger(u);
		return;
	}
	if (m->status < 200) {
		if (u->state == U_INVITING) {
			u->state = U_PROCEEDING;
			uac_set_timer(u);
		}
		if (m->status == 180 && u->state == U_PROCEEDING &&
		    !u->got180) {
			sample_add(&steps[u->step].ring, NOW - u->t_inv);
			u->got180 = 1;
		}
		return;
	}
	if (m->status < 300) {
		if (u->state == U_INVITING || u->state == U_PROCEEDING) {
			if (!m->ttag.p || m->ttag.n >= (int)sizeof(u->ttag)) {
				uac_resolve(u, R_INV_STATUS, m->status);
				uac_linger(u);
				return;
			}
			uac_answered(u, idx, m);
			uac_set_timer(u);
		} else if (u->ack && u->acklen) { /* our ACK was lost */
			steps[u->step].ok_retx++;
			send_relay(fd_caller, u->ack, u->acklen);
		}
		return;
	}
	/* a failure */
	if (u->state == U_INVITING || u->state == U_PROCEEDING) {
		if (m->ttag.p && m->ttag.n < (int)sizeof(u->ttag))
			snprintf(u->ttag, sizeof(u->ttag), "%.*s", m->ttag.n,
				 m->ttag.p);
		uac_ack_non2xx(u, idx);
		uac_resolve(u, R_INV_STATUS, m->status);
		uac_linger(u);
	} else if (u->ack && u->state == U_LINGER) {
		send_relay(fd_caller, u->ack, u->acklen);
	}
}

/* ---- the callee's side ---------------------------------------------------------------- */

/* A response to m (Via, From, To, Call-ID, CSeq copied); tag added to To
 * when it has none. */
static int build_response(struct sb *s, const struct msg *m, int status,
			  const char *reason, const char *tag,
			  const char *extra, const char *body, int blen)
{
	s->n = 0;
	sb_add(s, "SIP/2.0 %d %s\r\n", status, reason);
	for (int i = 0; i < m->nvia; i++)
		sb_add(s, "Via: %.*s\r\n", m->via[i].n, m->via[i].p);
	sb_add(s, "From: %.*s\r\nTo: %.*s%s%s\r\nCall-ID: %.*s\r\n"
	       "CSeq: %u %.*s\r\n",
	       m->from.n, m->from.p, m->to.n, m->to.p,
	       tag && !m->ttag.p ? ";tag=" : "", tag && !m->ttag.p ? tag : "",
	       m->callid.n, m->callid.p, m->cseq, m->cseq_method.n,
	       m->cseq_method.p);
	if (extra)
		sb_add(s, "%s", extra);
	if (body)
		sb_add(s, "Content-Type: application/sdp\r\n"
		       "Content-Length: %d\r\n\r\n%.*s", blen, blen, body);
	else
		sb_add(s, "Content-Length: 0\r\n\r\n");
	return s->n;
}

static void respond(int fd, const struct sockaddr_storage *to,
		    const struct msg *m, int status, const char *reason,
		    const char *tag, const char *extra, const char *body,
		    int blen)
{
	struct sb s;

	build_response(&s, m, status, reason, tag, extra, body, blen);
	send_to(fd, to, s.b, (size_t)s.n);
}

static char *dup_sb(const struct sb *s, uint16_t *len)
{
	char *p = malloc((size_t)s->n);

	if (!p)
		die("out of memory");
	memcpy(p, s->b, (size_t)s->n);
	*len = (uint16_t)s->n;
	return p;
}

static void uas_free(struct uas *s, uint32_t idx)
{
	timer_cancel(&s->tm);
	uas_unhash(s, idx);
	free(s->resp);
	free(s->ok);
	s->resp = s->ok = NULL;
	s->state = S_FREE;
	s->gen++;
	pool_put(&uass, idx);
}

static void uas_done(struct uas *s)
{
	if (s->state == S_LINGER)
		return;
	steps[s->step].active_uas--;
	s->state = S_LINGER;
	free(s->resp);
	free(s->ok);
	s->resp = s->ok = NULL;
	timer_set(&s->tm, NOW + LINGER_MS * 1000ull);
}

static void uas_send_ok(struct uas *s)
{
	free(s->resp);
	s->resp = s->ok;
	s->resplen = s->oklen;
	s->ok = NULL;
	s->state = S_ANSWERED;
	s->retx_ms = O.t1_ms;
	s->next_retx = NOW + O.t1_ms * 1000ull;
	s->deadline = NOW + 64ull * O.t1_ms * 1000ull;
	send_to(fd_callee, &s->peer, s->resp, s->resplen);
	timer_set(&s->tm, s->next_retx);
}

static void uas_timer(struct uas *s, uint32_t idx)
{
	switch (s->state) {
	case S_EARLY: /* ringing is over */
		uas_send_ok(s);
		return;
	case S_ANSWERED:
		if (NOW >= s->deadline) {
			fail_late(s->step, R_CALLEE_NO_ACK);
			uas_done(s);
			return;
		}
		steps[s->step].ok_retx++;
		send_to(fd_callee, &s->peer, s->resp, s->resplen);
		s->retx_ms = s->retx_ms * 2 > O.t2_ms ? O.t2_ms : s->retx_ms * 2;
		s->next_retx = NOW + s->retx_ms * 1000ull;
		timer_set(&s->tm, s->next_retx < s->deadline ? s->next_retx :
			  s->deadline);
		return;
	case S_CONFIRMED: /* no BYE in time */
		fail_late(s->step, R_CALLEE_NO_BYE);
		uas_done(s);
		return;
	case S_LINGER:
		uas_free(s, idx);
		return;
	default:
		return;
	}
}

static void callee_invite(const struct msg *m,
			  const struct sockaddr_storage *from)
{
	uint32_t idx, li, lg;
	struct uas *s;
	struct uac *u = NULL;
	char body[512], contact[160];
	unsigned user = 0;
	struct sb sb;
	int bl;

	if ((s = uas_find(m->callid, &idx))) {
		/* a retransmission, or a re-INVITE (refused: not ours to test) */
		if (m->cseq == s->inv_cseq && str_eq(m->branch, s->branch)) {
			if (s->resp)
				send_to(fd_callee, from, s->resp, s->resplen);
		} else {
			respond(fd_callee, from, m, 488, "Not Acceptable Here",
				NULL, NULL, NULL, 0);
		}
		return;
	}
	if (m->callid.n >= (int)sizeof(s->callid) ||
	    m->branch.n >= (int)sizeof(s->branch) || !m->branch.p) {
		parse_errors++;
		return;
	}
	/* sip:calleeN@... */
	if (m->ruri.n > 10 && !strncmp(m->ruri.p, "sip:callee", 10))
		user = (unsigned)strtoul(m->ruri.p + 10, NULL, 10);
	s = pool_get(&uass, &idx);
	{
		uint32_t gen = s->gen;

		memset(s, 0, sizeof(*s));
		s->gen = gen;
	}
	s->tm.hidx = -1;
	s->tm.kind = TK_UAS;
	s->tm.obj = idx;
	s->user = user;
	memcpy(s->callid, m->callid.p, (size_t)m->callid.n);
	memcpy(s->branch, m->branch.p, (size_t)m->branch.n);
	s->inv_cseq = m->cseq;
	s->peer = *from;
	snprintf(s->tag, sizeof(s->tag), "%08x", (unsigned)random());
	{
		uint32_t h = hash_str(m->callid.p, m->callid.n);

		s->hnext = hbucket[h];
		hbucket[h] = idx;
	}
	s->step = (uint16_t)(cur >= 0 ? cur : 0);
	if (m->xid.p && sscanf(m->xid.p, "%u.%u", &li, &lg) == 2 &&
	    li < uacs.nchunks * CHUNK) {
		u = uac_at(li);
		if (u->state == U_FREE || u->gen != lg || u->resolved) {
			u = NULL;
		} else {
			s->linked = 1;
			s->link_idx = li;
			s->link_gen = lg;
			s->step = u->step;
			u->has_uas = 1;
			u->uas_idx = idx;
			u->uas_gen = s->gen;
		}
	}
	if (!u)
		unlinked++;
	steps[s->step].active_uas++;
	if (m->clen)
		sdp_media(m->body, m->clen, &s->rtp_to);
	snprintf(contact, sizeof(contact), "Contact: <sip:callee%u@%s:%d>\r\n",
		 user, O.local_h, O.callee_port);
	respond(fd_callee, from, m, 100, "Trying", NULL, NULL, NULL, 0);
	build_response(&sb, m, 180, "Ringing", s->tag, contact, NULL, 0);
	s->resp = dup_sb(&sb, &s->resplen);
	send_to(fd_callee, from, s->resp, s->resplen);
	bl = sdp_body(body, sizeof(body), "callee", idx, O.rtp_callee_port);
	build_response(&sb, m, 200, "OK", s->tag, contact, body, bl);
	s->ok = dup_sb(&sb, &s->oklen);
	if (O.ring_ms) {
		s->state = S_EARLY;
		timer_set(&s->tm, NOW + O.ring_ms * 1000ull);
	} else {
		uas_send_ok(s);
	}
}

static void callee_request(const struct msg *m,
			   const struct sockaddr_storage *from)
{
	uint32_t idx;
	struct uas *s;

	if (str_eq(m->method, "INVITE")) {
		callee_invite(m, from);
		return;
	}
	s = uas_find(m->callid, &idx);
	if (str_eq(m->method, "ACK")) {
		if (s && s->state == S_ANSWERED && m->cseq == s->inv_cseq) {
			s->state = S_CONFIRMED;
			free(s->resp);
			s->resp = NULL;
			/* the BYE is due after the hold: failed if it never
			 * comes */
			timer_set(&s->tm, NOW + (O.hold_ms + 64ull * O.t1_ms +
						 1000) * 1000ull);
		}
		return;
	}
	if (!s) {
		unknown_req++;
		respond(fd_callee, from, m, 481, "Call/Transaction Does Not Exist",
			NULL, NULL, NULL, 0);
		return;
	}
	if (str_eq(m->method, "BYE")) {
		respond(fd_callee, from, m, 200, "OK", NULL, NULL, NULL, 0);
		if (s->state != S_LINGER) {
			/* a BYE before the ACK (the relay's ACK and our 200's
			 * retransmission lost) is not a failure: the call was
			 * up on the relay */
			s->got_bye = 1;
			uas_done(s);
		}
		return;
	}
	if (str_eq(m->method, "CANCEL")) {
		respond(fd_callee, from, m, 200, "OK", NULL, NULL, NULL, 0);
		return;
	}
	respond(fd_callee, from, m, 200, "OK", NULL, NULL, NULL, 0);
}

/* ---- registration ---------------------------------------------------------------------- */

struct reg {
	struct timer tm;
	uint8_t state; /* 0 waiting, 1 sent, 2 done */
	uint32_t retx_ms, cseq;
	uint64_t deadline;
	char *req;
	uint16_t len;
};
static struct reg *regs;
static uint32_t reg_next, reg_done, reg_inflight;
static int reg_failed;

static void reg_send(uint32_t i)
{
	struct reg *r = &regs[i];
	struct sb s;

	r->cseq++;
	s.n = 0;
	sb_add(&s, "REGISTER sip:%s SIP/2.0\r\n"
	       "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%sr%u.%u;rport\r\n"
	       "Max-Forwards: 70\r\n"
	       "From: <sip:callee%u@%s>;tag=r%u\r\n"
	       "To: <sip:callee%u@%s>\r\n"
	       "Call-ID: %s-reg-%u@sipload\r\n"
	       "CSeq: %u REGISTER\r\n"
	       "Contact: <sip:callee%u@%s:%d>\r\n"
	       "Expires: 3600\r\n"
	       "User-Agent: sipload\r\n"
	       "Content-Length: 0\r\n\r\n",
	       O.relay_hp, O.local_h, O.callee_port, run_id, i, r->cseq, i,
	       O.relay_hp, i, i, O.relay_hp, run_id, i, r->cseq, i, O.local_h,
	       O.callee_port);
	free(r->req);
	r->req = dup_sb(&s, &r->len);
	r->state = 1;
	r->retx_ms = O.t1_ms;
	r->deadline = NOW + 64ull * O.t1_ms * 1000ull;
	send_relay(fd_callee, r->req, r->len);
	timer_set(&r->tm, NOW + r->retx_ms * 1000ull);
}

static void reg_timer(uint32_t i)
{
	struct reg *r = &regs[i];

	if (r->state != 1)
		return;
	if (NOW >= r->deadline) {
		fprintf(stderr, "sipload: REGISTER of callee%u: no response\n", i);
		reg_failed = 1;
		r->state = 2;
		return;
	}
	send_relay(fd_callee, r->req, r->len);
	r->retx_ms = r->retx_ms * 2 > O.t2_ms ? O.t2_ms : r->retx_ms * 2;
	timer_set(&r->tm, NOW + r->retx_ms * 1000ull);
}

static void callee_response(const struct msg *m)
{
	size_t rl = strlen(run_id);
	unsigned long i;

	if (!str_eq(m->cseq_method, "REGISTER") || m->callid.n <= (int)rl + 5 ||
	    memcmp(m->callid.p, run_id, rl) ||
	    memcmp(m->callid.p + rl, "-reg-", 5)) {
		strays++;
		return;
	}
	i = strtoul(m->callid.p + rl + 5, NULL, 10);
	if (i >= O.users || regs[i].state != 1 || m->cseq != regs[i].cseq) {
		strays++;
		return;
	}
	if (m->status < 200)
		return;
	timer_cancel(&regs[i].tm);
	regs[i].state = 2;
	reg_inflight--;
	if (m->status >= 300) {
		fprintf(stderr, "sipload: REGISTER of callee%lu: %d %.*s\n", i,
			m->status, m->reason.n, m->reason.p);
		reg_failed = 1;
		return;
	}
	reg_done++;
}

/* ---- input ------------------------------------------------------------------------------ */

static void on_sip(int fd, char *buf, int len,
		   const struct sockaddr_storage *from)
{
	struct msg m;

	if (len < 4)
		return;
	buf[len] = 0;
	if (parse(buf, len, &m) < 0) {
		parse_errors++;
		if (O.verbose)
			fprintf(stderr, "sipload: unparsable message:\n%.*s\n",
				len, buf);
		return;
	}
	if (fd == fd_caller)
		m.is_req ? caller_request(&m, from) : caller_response(&m);
	else
		m.is_req ? callee_request(&m, from) : callee_response(&m);
}

static void on_rtp(int side, const uint8_t *p, int len)
{
	uint32_t ssrc, idx;
	struct uac *u;
	int d = side == 0 ? 1 : 0; /* arriving at A: the B->A direction */

	if (len < 12 || (p[0] & 0xc0) != 0x80)
		return;
	ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
	       (uint32_t)p[10] << 8 | p[11];
	idx = ssrc & 0xffffff;
	if (idx >= uacs.nchunks * CHUNK)
		return;
	u = uac_at(idx);
	if (u->state == U_FREE || (u->gen & 0xff) != ssrc >> 24)
		return;
	if (((uint32_t)p[2] << 8 | p[3]) > 1000) {
		if (u->arcvd[d] < 255)
			u->arcvd[d]++;
	} else if (u->rcvd[d] < 255) {
		u->rcvd[d]++;
	}
	/* The first one got through: the relay latched the sender and
	 * installed the kernel flow before it forwarded it. Now the rest of
	 * the packets, which the kernel should forward (those resent
	 * meanwhile may still sit in the daemon's socket). */
	if (u->rcvd[d] == 1 && !u->asent[d] && u->state == U_UP)
		while (u->asent[d] + 1u < O.rtp_count)
			if (rtp_send(d, u, idx, 1) < 0)
				break;
	if (u->state == U_UP)
		uac_count_up(u, 1);
}

static void read_socket(int fd)
{
	static char bufs[BATCH][MAX_MSG + 1];
	static struct sockaddr_storage from[BATCH];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	int budget = 16;

	while (budget--) {
		int n;

		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], MAX_MSG };
			mm[i].msg_hdr = (struct msghdr){
				.msg_name = &from[i],
				.msg_namelen = sizeof(from[i]),
				.msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		n = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		NOW = now_us();
		for (int i = 0; i < n; i++) {
			int len = (int)mm[i].msg_len;

			if (fd == fd_rtp_a || fd == fd_rtp_b)
				on_rtp(fd == fd_rtp_a ? 0 : 1,
				       (uint8_t *)bufs[i], len);
			else
				on_sip(fd, bufs[i], len, &from[i]);
		}
		if (n < BATCH)
			return;
	}
}

/* ---- the relay's kernel state (with --pin-dir) and CPU ------------------------------------ */

static int flows_fd = -1, stats_fd = -1, ncpus;
static uint32_t flows_ksize;
/* xr_addr4/xr_fast4: the IPv4 flows of the relay's own ports (absent in
 * older pins). */
static struct xrp_fast4 fast4 = { .addr4_fd = -1, .fast4_fd = -1 };

static void kernel_open(void)
{
	char path[512];
	struct bpf_map_info info = { 0 };
	uint32_t il = sizeof(info);

	if (!O.pin_dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", O.pin_dir, XR_MAP_FLOWS);
	flows_fd = bpf_obj_get(path);
	if (flows_fd < 0 || bpf_obj_get_info_by_fd(flows_fd, &info, &il) < 0) {
		fprintf(stderr, "sipload: %s: %s (no flow counts)\n", path,
			strerror(errno));
		flows_fd = -1;
	} else {
		flows_ksize = info.key_size;
		xrp_fast4_open(&fast4, O.pin_dir);
	}
	snprintf(path, sizeof(path), "%s/%s", O.pin_dir, XR_MAP_STATS);
	stats_fd = bpf_obj_get(path);
	ncpus = libbpf_num_possible_cpus();
}

static uint64_t flows_count(void)
{
	uint8_t k[256], nk[256];
	uint64_t n = 0;
	long long m;
	void *prev = NULL;

	if (flows_fd < 0 || flows_ksize > sizeof(k))
		return 0;
	while (bpf_map_get_next_key(flows_fd, prev, nk) == 0) {
		n++;
		memcpy(k, nk, flows_ksize);
		prev = k;
	}
	m = xrp_fast4_each(&fast4, NULL, NULL); /* entries in use */
	return n + (m > 0 ? (uint64_t)m : 0);
}

/* Packets the relay's program forwarded (out of the ingress device or
 * another) and passed up for having no flow. */
static void kernel_counts(uint64_t *fwd, uint64_t *nopass)
{
	struct xr_stat v[512];
	uint32_t keys[3] = { XR_FWD_TX, XR_FWD_REDIRECT, XR_PASS_NO_ENTRY };
	uint64_t c[3] = { 0, 0, 0 };

	*fwd = *nopass = 0;
	if (stats_fd < 0 || ncpus <= 0 || ncpus > 512)
		return;
	for (int i = 0; i < 3; i++) {
		if (bpf_map_lookup_elem(stats_fd, &keys[i], v) < 0)
			continue;
		for (int cpu = 0; cpu < ncpus; cpu++)
			c[i] += v[cpu].packets;
	}
	*fwd = c[0] + c[1];
	*nopass = c[2];
}

static uint64_t relay_cpu_ns(void)
{
	char path[64], line[256];
	uint64_t sum = 0, v;
	FILE *f;

	if (O.relay_pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", O.relay_pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f) && sscanf(line, "%" SCNu64, &v) == 1)
		sum = v;
	fclose(f);
	return sum;
}

/* RcvbufErrors of UDP in the relay's network namespace (its /proc/PID/net
 * is that of its namespace): datagrams dropped at a full socket. */
static uint64_t relay_rcvbuf_errors(void)
{
	char path[64], hdr[512], val[512];
	uint64_t v = 0;
	FILE *f;

	if (O.relay_pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/net/snmp", O.relay_pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
		char *hs, *vs, *h, *x;

		if (strncmp(hdr, "Udp:", 4))
			continue;
		h = strtok_r(hdr, " \n", &hs);
		x = strtok_r(val, " \n", &vs);
		while (h && x) {
			if (!strcmp(h, "RcvbufErrors"))
				v = strtoull(x, NULL, 10);
			h = strtok_r(NULL, " \n", &hs);
			x = strtok_r(NULL, " \n", &vs);
		}
		break;
	}
	fclose(f);
	return v;
}

static uint64_t gen_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the loop ---------------------------------------------------------------------------- */

static volatile sig_atomic_t stop_now;
static void on_signal(int sig) { (void)sig; stop_now = 1; }

static uint64_t next_start, nstart_k, last_sample, last_progress;

static void run_timers(void)
{
	while (heap_n && heap[0]->due <= NOW) {
		struct timer *t = heap[0];

		timer_cancel(t);
		switch (t->kind) {
		case TK_UAC:
			uac_timer(uac_at(t->obj), t->obj);
			break;
		case TK_UAS:
			uas_timer(uas_at(t->obj), t->obj);
			break;
		case TK_REG:
			reg_timer(t->obj);
			break;
		}
	}
}

/* One turn: wait for input or the next due thing (at most max_wait_us). */
static void turn(uint64_t max_wait_us)
{
	struct epoll_event ev[8];
	uint64_t due = NOW + max_wait_us;
	struct timespec ts;
	int n;

	if (heap_n && heap[0]->due < due)
		due = heap[0]->due;
	if (due > NOW) {
		ts.tv_sec = (time_t)((due - NOW) / 1000000u);
		ts.tv_nsec = (long)((due - NOW) % 1000000u) * 1000;
	} else {
		ts.tv_sec = 0;
		ts.tv_nsec = 0;
	}
	n = epoll_pwait2(epfd, ev, 8, &ts, NULL);
	for (int i = 0; i < n; i++)
		read_socket(ev[i].data.fd);
	NOW = now_us();
	run_timers();
}

static void sample_kernel(struct step *st)
{
	if (flows_fd >= 0 && NOW - last_sample >= 200000) {
		uint64_t n = flows_count();

		last_sample = NOW = now_us();
		if (n > st->flows_peak)
			st->flows_peak = n;
		st->flows_end = n;
	}
}

static void progress(struct step *st)
{
	if (O.quiet || NOW - last_progress < 1000000)
		return;
	last_progress = NOW;
	fprintf(stderr, "  [%5.0f cps] t=%4.1fs started %" PRIu64 " ok %" PRIu64
		" failed %" PRIu64 " in flight %" PRIu64 "/%" PRIu64
		" up %" PRIu64 " (media %" PRIu64 ") flows %" PRIu64 "\n",
		st->rate, (NOW - st->t0) / 1e6, st->started, st->success,
		st->failed + st->late_failed, st->active_uac, st->active_uas,
		calls_up, calls_up_media, st->flows_end);
}

static int registration(void)
{
	uint64_t t0;

	regs = calloc(O.users, sizeof(*regs));
	if (!regs)
		die("out of memory");
	for (uint32_t i = 0; i < O.users; i++) {
		regs[i].tm.hidx = -1;
		regs[i].tm.kind = TK_REG;
		regs[i].tm.obj = i;
	}
	NOW = t0 = now_us();
	while (reg_done < O.users && !reg_failed && !stop_now) {
		while (reg_next < O.users && reg_inflight < 32) {
			reg_send(reg_next++);
			reg_inflight++;
		}
		turn(100000);
		if (NOW - t0 > 60000000u)
			break;
	}
	if (reg_done < O.users) {
		fprintf(stderr, "sipload: %u of %u callees registered\n",
			reg_done, O.users);
		return -1;
	}
	if (!O.quiet)
		fprintf(stderr, "sipload: %u callees registered in %.2f s\n",
			O.users, (NOW - t0) / 1e6);
	return 0;
}

static void step_finish(struct step *st)
{
	st->p50 = pct_ms(&st->setup, 0.50);
	st->p99 = pct_ms(&st->setup, 0.99);
	st->r50 = pct_ms(&st->ring, 0.50);
	st->r99 = pct_ms(&st->ring, 0.99);
	st->b50 = pct_ms(&st->bye, 0.50);
	st->b99 = pct_ms(&st->bye, 0.99);
}

static double fail_ratio(const struct step *st)
{
	uint64_t a = st->started;

	return a ? (double)(st->failed + st->late_failed) / (double)a : 1.0;
}

static double achieved(const struct step *st)
{
	return st->started / st->dur_s;
}

/* Start calls at `rate` for `dur` seconds, then wait until every call of
 * the step is resolved. */
static struct step *run_step(double rate, double dur)
{
	struct step *st;
	uint64_t t_drain;

	if (nsteps >= MAX_STEPS)
		return NULL;
	cur = nsteps++;
	st = &steps[cur];
	st->rate = rate;
	st->dur_s = dur;
	NOW = now_us();
	st->t0 = NOW;
	st->planned = (uint64_t)llround(rate * dur);
	st->relay_ns0 = relay_cpu_ns();
	st->rcvbuf0 = relay_rcvbuf_errors();
	st->gen_ns0 = gen_cpu_ns();
	kernel_counts(&st->kfwd0, &st->kpass0);
	next_start = NOW;
	nstart_k = 0;
	last_progress = NOW;
	/* Calls are started when due; if the loop falls behind it catches
	 * up at once (the rate stays the rate asked for), and a call that
	 * is later than 100 ms, or beyond --max-inflight, is skipped. */
	while (!stop_now && nstart_k < st->planned) {
		while (nstart_k < st->planned && next_start <= NOW) {
			if (NOW - next_start > 100000 ||
			    calls_active >= O.max_inflight)
				st->skipped++;
			else
				start_call();
			nstart_k++;
			next_start = st->t0 + (uint64_t)(nstart_k * 1e6 / rate);
		}
		sample_kernel(st);
		progress(st);
		turn(next_start > NOW ? next_start - NOW : 0);
	}
	st->t_end = NOW;
	t_drain = NOW + O.drain_s * 1000000ull;
	while (!stop_now && (st->active_uac || st->active_uas) &&
	       NOW < t_drain) {
		sample_kernel(st);
		progress(st);
		turn(50000);
	}
	st->t_done = NOW;
	if (st->active_uac || st->active_uas) {
		uint64_t n = st->active_uac > st->active_uas ?
			     st->active_uac : st->active_uas;

		fprintf(stderr, "sipload: %" PRIu64 " calls and %" PRIu64
			" callee dialogs unresolved after the drain\n",
			st->active_uac, st->active_uas);
		st->late_failed += n;
		st->fail[R_UNRESOLVED] += n;
	}
	st->closed = 1;
	st->relay_ns1 = relay_cpu_ns();
	st->rcvbuf1 = relay_rcvbuf_errors();
	st->gen_ns1 = gen_cpu_ns();
	kernel_counts(&st->kfwd1, &st->kpass1);
	step_finish(st);
	st->pass = 0;
	if (fail_ratio(st) > O.max_fail)
		st->why = "failures";
	else if (st->started < (uint64_t)(0.97 * (double)st->planned))
		st->why = "rate";
	else if (O.max_p99_ms && !(st->p99 <= O.max_p99_ms))
		st->why = "p99";
	else
		st->pass = 1;
	return st;
}

/* ---- output -------------------------------------------------------------------------------- */

static void print_header(void)
{
	printf("%6s %6s %6s %7s %8s %8s %7s %7s %7s %6s %6s %7s %6s %7s %5s  %s\n",
	       "rate", "calls", "failed", "fail%", "setup50", "setup99",
	       "bye50", "bye99", "media%", "flows", "kfwd", "relay", "relay",
	       "relay", "gen", "");
	printf("%6s %6s %6s %7s %8s %8s %7s %7s %7s %6s %6s %7s %6s %7s %5s\n",
	       "cps", "", "", "", "ms", "ms", "ms", "ms", "", "peak", "pkts",
	       "us/call", "load%", "drops", "cpu%");
}

static void print_step(const struct step *st)
{
	double dur = (st->t_done - st->t0) / 1e6;
	double relay_us = st->started ?
		(st->relay_ns1 - st->relay_ns0) / 1e3 / st->started : NAN;
	char why[32];

	snprintf(why, sizeof(why), st->pass ? "pass" : "FAIL (%s)", st->why);
	printf("%6.0f %6" PRIu64 " %6" PRIu64 " %7.3f %8.2f %8.2f %7.2f %7.2f "
	       "%7.2f %6" PRIu64 " %6" PRIu64 " %7.1f %6.1f %7" PRIu64
	       " %5.1f  %s\n",
	       st->rate, st->started, st->failed + st->late_failed,
	       100 * fail_ratio(st), st->p50, st->p99, st->b50, st->b99,
	       st->started ? 100.0 * st->media_ok / st->started : 0.0,
	       st->flows_peak, st->kfwd1 - st->kfwd0,
	       O.relay_pid ? relay_us : NAN,
	       O.relay_pid ? relay_us * st->rate / 1e4 : NAN,
	       st->rcvbuf1 - st->rcvbuf0,
	       dur > 0 ? 100.0 * (st->gen_ns1 - st->gen_ns0) / 1e9 / dur : 0.0,
	       why);
	if (st->failed + st->late_failed || st->skipped) {
		printf("       failures:");
		for (int r = 0; r < R_MAX; r++)
			if (st->fail[r])
				printf(" %s %" PRIu64, reason_names[r], st->fail[r]);
		for (int c = 0; c < 700; c++)
			if (st->status[c])
				printf(" [%d: %" PRIu64 "]", c, st->status[c]);
		if (st->skipped)
			printf(" not started in time %" PRIu64, st->skipped);
		printf("\n");
	}
	if (st->inv_retx || st->bye_retx || st->ok_retx || st->strays)
		printf("       retransmitted: INVITE %" PRIu64 ", BYE %" PRIu64
		       ", 200/ACK %" PRIu64 "; strays %" PRIu64 "\n",
		       st->inv_retx, st->bye_retx, st->ok_retx, st->strays);
	fflush(stdout);
}

static FILE *jf;
static int jfirst = 1;

static void jnum(const char *name, double v, const char *unit, uint64_t n)
{
	if (!jf || isnan(v))
		return;
	fprintf(jf, "%s{\"name\": \"%s\", \"value\": %.6g, \"unit\": \"%s\", "
		"\"path\": \"%s\", \"n\": %" PRIu64 "}", jfirst ? "" : ",\n",
		name, v, unit, O.path_name, n);
	jfirst = 0;
}

static void json_step(const char *pfx, const struct step *st)
{
	char name[128];
	uint64_t n = st->setup.n;

#define J(suffix, v, unit, cnt) \
	(snprintf(name, sizeof(name), "%s.%s", pfx, suffix), \
	 jnum(name, v, unit, cnt))
	J("cps", achieved(st), "calls/s", st->started);
	J("failures", fail_ratio(st), "ratio", st->started);
	J("setup_p50", st->p50, "ms", n);
	J("setup_p99", st->p99, "ms", n);
	J("bye_p50", st->b50, "ms", (uint64_t)st->bye.n);
	J("bye_p99", st->b99, "ms", (uint64_t)st->bye.n);
	J("media_ok", st->started ? (double)st->media_ok / st->started : NAN,
	  "ratio", st->started);
	if (flows_fd >= 0) {
		J("flows_peak", (double)st->flows_peak, "entries", 1);
		J("kernel_forwarded", (double)(st->kfwd1 - st->kfwd0),
		  "packets", 1);
	}
	if (O.relay_pid > 0 && st->started) {
		J("relay_cpu_per_call",
		  (st->relay_ns1 - st->relay_ns0) / 1e3 / st->started,
		  "us/call", st->started);
		J("relay_udp_drops", (double)(st->rcvbuf1 - st->rcvbuf0),
		  "packets", 1);
	}
#undef J
}

/* ---- options ------------------------------------------------------------------------------ */

static int parse_addr(const char *s, struct sockaddr_storage *out,
		      socklen_t *len, int need_port)
{
	char host[128];
	const char *colon;
	int port = 0;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (!e || (size_t)(e - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = 0;
		colon = e[1] == ':' ? e + 1 : NULL;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		snprintf(host, sizeof(host), "%.*s",
			 colon ? (int)(colon - s) : (int)strlen(s), s);
	}
	if (colon)
		port = atoi(colon + 1);
	if (need_port && !colon)
		port = 5060;
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		return inet_pton(AF_INET6, host, &a->sin6_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)out;

	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	*len = sizeof(*a);
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: sipload --relay ADDR[:PORT] --local ADDR [options]\n"
"  Plays callers and callees of SIP calls through a B2BUA (UDP): callees\n"
"  register, callers call them at a constant rate, each call is answered,\n"
"  held, hung up; RTP is sent both ways once answered.\n"
"  --relay ADDR[:PORT]   the B2BUA (port 5060 by default)\n"
"  --local ADDR          the generator's address (SIP, SDP and RTP)\n"
"  --ports A,B,C,D       caller SIP, callee SIP, caller RTP, callee RTP\n"
"                        ports (default 5062,5064,20000,20002)\n"
"  --rate R              calls per second (default 100)\n"
"  --duration S          seconds of starting calls (default 10)\n"
"  --hold MS             how long a call stays up (default 1000)\n"
"  --ring MS             the callee's 180 before its 200 (default 0)\n"
"  --users N             callers and callees (default 1000)\n"
"  --max-inflight N      calls at once; more are not started (default 50000)\n"
"  --rtp-count N         RTP packets per direction once answered (default 2;\n"
"                        0: no RTP)\n"
"  --timeout MS          an INVITE without final response fails (32000)\n"
"  --search              step the rate up: --rates LIST (cps, default\n"
"                        250,500,1000,1500,2000,3000,4000,5000), --step S\n"
"                        seconds each (default 4), until a step fails: more\n"
"                        than --max-fail R failed calls (default 0.001), its\n"
"                        rate missed, or a set-up p99 above --max-p99 MS\n"
"                        (default 500, T1: more than 1%% of the INVITEs or\n"
"                        their answers were lost; 0: no limit); then --refine\n"
"                        N steps between the last passing and the failing\n"
"                        rate (default 2)\n"
"  --drain S             wait at most S s for a step's calls to end (40)\n"
"  --pin-dir DIR         the relay's pinned maps: count its kernel flows and\n"
"                        forwarded packets\n"
"  --relay-pid PID       the relay's process: its CPU time per call\n"
"  --json FILE           figures as a tools/bench.sh fragment (sip.*)\n"
"  --path NAME           the path named in the figures (default xdp)\n"
"  --quiet, --verbose\n");
}

static void parse_rates(const char *s)
{
	char *e;

	O.nrates = 0;
	while (*s && O.nrates < MAX_STEPS / 2) {
		O.rates[O.nrates++] = strtod(s, &e);
		if (e == s)
			break;
		s = *e == ',' ? e + 1 : e;
	}
}

static void options(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "relay", 1, 0, 'r' }, { "local", 1, 0, 'l' },
		{ "ports", 1, 0, 'P' }, { "rate", 1, 0, 'R' },
		{ "duration", 1, 0, 'd' }, { "hold", 1, 0, 'H' },
		{ "ring", 1, 0, 'g' }, { "users", 1, 0, 'u' },
		{ "max-inflight", 1, 0, 'm' }, { "rtp-count", 1, 0, 'c' },
		{ "timeout", 1, 0, 'T' }, { "search", 0, 0, 's' },
		{ "rates", 1, 0, 'L' }, { "step", 1, 0, 'S' },
		{ "max-fail", 1, 0, 'F' }, { "refine", 1, 0, 'f' },
		{ "max-p99", 1, 0, 'M' },
		{ "drain", 1, 0, 'D' }, { "pin-dir", 1, 0, 'p' },
		{ "relay-pid", 1, 0, 'i' }, { "json", 1, 0, 'j' },
		{ "path", 1, 0, 'n' }, { "quiet", 0, 0, 'q' },
		{ "verbose", 0, 0, 'v' }, { "help", 0, 0, 'h' },
		{ 0, 0, 0, 0 } };
	const char *relay = NULL, *local = NULL;
	int c;

	parse_rates("250,500,1000,1500,2000,3000,4000,5000");
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'r': relay = optarg; break;
		case 'l': local = optarg; break;
		case 'P':
			if (sscanf(optarg, "%d,%d,%d,%d", &O.caller_port,
				   &O.callee_port, &O.rtp_caller_port,
				   &O.rtp_callee_port) != 4) {
				usage(stderr);
				exit(2);
			}
			break;
		case 'R': O.rate = atof(optarg); break;
		case 'd': O.duration = atof(optarg); break;
		case 'H': O.hold_ms = (unsigned)atoi(optarg); break;
		case 'g': O.ring_ms = (unsigned)atoi(optarg); break;
		case 'u': O.users = (unsigned)atoi(optarg); break;
		case 'm': O.max_inflight = (unsigned)atoi(optarg); break;
		case 'c': O.rtp_count = (unsigned)atoi(optarg); break;
		case 'T': O.timeout_ms = (unsigned)atoi(optarg); break;
		case 's': O.search = 1; break;
		case 'L': parse_rates(optarg); break;
		case 'S': O.step_s = atof(optarg); break;
		case 'F': O.max_fail = atof(optarg); break;
		case 'M': O.max_p99_ms = (unsigned)atoi(optarg); break;
		case 'f': O.refine = atoi(optarg); break;
		case 'D': O.drain_s = (unsigned)atoi(optarg); break;
		case 'p': O.pin_dir = optarg; break;
		case 'i': O.relay_pid = atoi(optarg); break;
		case 'j': O.json = optarg; break;
		case 'n': O.path_name = optarg; break;
		case 'q': O.quiet = 1; break;
		case 'v': O.verbose = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (!relay || !local || optind != argc || O.rate <= 0 ||
	    O.duration <= 0 || !O.users || O.users > 0xffffff ||
	    O.rtp_count > 100 || O.nrates < 1 || O.step_s <= 0) {
		usage(stderr);
		exit(2);
	}
	if (parse_addr(relay, &O.relay, &O.relay_len, 1) < 0 ||
	    parse_addr(local, &O.local, &O.local_len, 0) < 0) {
		fprintf(stderr, "sipload: bad address in --relay or --local\n");
		exit(2);
	}
	if (O.relay.ss_family != O.local.ss_family) {
		fprintf(stderr, "sipload: --relay and --local: one family\n");
		exit(2);
	}
	O.v6 = O.local.ss_family == AF_INET6;
	{
		char ip[64];
		int port;

		if (O.v6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&O.relay)->sin6_addr,
				  ip, sizeof(ip));
			port = ntohs(((struct sockaddr_in6 *)&O.relay)->sin6_port);
			snprintf(O.relay_hp, sizeof(O.relay_hp), "[%s]:%d", ip, port);
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&O.local)->sin6_addr,
				  O.local_ip, sizeof(O.local_ip));
			snprintf(O.local_h, sizeof(O.local_h), "[%s]", O.local_ip);
		} else {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&O.relay)->sin_addr,
				  ip, sizeof(ip));
			port = ntohs(((struct sockaddr_in *)&O.relay)->sin_port);
			snprintf(O.relay_hp, sizeof(O.relay_hp), "%s:%d", ip, port);
			inet_ntop(AF_INET, &((struct sockaddr_in *)&O.local)->sin_addr,
				  O.local_ip, sizeof(O.local_ip));
			snprintf(O.local_h, sizeof(O.local_h), "%s", O.local_ip);
		}
	}
}

int main(int argc, char **argv)
{
	struct step *best = NULL, *st = NULL;
	double lo = 0, hi = 0;
	int i;

	options(argc, argv);
	srandom((unsigned)(now_us() ^ (uint64_t)getpid() << 16));
	snprintf(run_id, sizeof(run_id), "%08lx", random() & 0xffffffffl);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	hbucket = malloc(HBUCKETS * sizeof(uint32_t));
	if (!hbucket)
		die("out of memory");
	memset(hbucket, 0xff, HBUCKETS * sizeof(uint32_t));
	epfd = epoll_create1(0);
	if (epfd < 0)
		die("epoll: %s", strerror(errno));
	fd_caller = udp_socket(O.caller_port);
	fd_callee = udp_socket(O.callee_port);
	fd_rtp_a = udp_socket(O.rtp_caller_port);
	fd_rtp_b = udp_socket(O.rtp_callee_port);
	kernel_open();
	if (O.json && !(jf = fopen(O.json, "w")))
		die("%s: %s", O.json, strerror(errno));
	if (registration() < 0)
		return 1;
	if (!O.quiet)
		printf("sipload: relay %s, %u users, hold %u ms, ring %u ms, "
		       "%u RTP packets per direction%s\n", O.relay_hp, O.users,
		       O.hold_ms, O.ring_ms, O.rtp_count,
		       O.search ? ", searching the highest rate" : "");
	print_header();
	if (!O.search) {
		best = run_step(O.rate, O.duration);
		print_step(best);
	} else {
		for (i = 0; i < O.nrates && !stop_now; i++) {
			st = run_step(O.rates[i], O.step_s);
			print_step(st);
			if (!st->pass)
				break;
			best = st;
		}
		lo = best ? best->rate : 0;
		hi = st && !st->pass ? st->rate : 0;
		for (i = 0; hi > 0 && i < O.refine && !stop_now; i++) {
			double mid = round((lo + hi) / 2 / 50) * 50;

			if (mid <= lo || mid >= hi)
				break;
			st = run_step(mid, O.step_s);
			print_step(st);
			if (st->pass) {
				best = st;
				lo = mid;
			} else {
				hi = mid;
			}
		}
	}
	if (O.search) {
		if (best)
			printf("highest rate with <= %.2f%% failures: %.0f cps "
			       "(%" PRIu64 " calls, %" PRIu64 " failed), set-up "
			       "p50 %.2f ms, p99 %.2f ms%s\n", 100 * O.max_fail,
			       best->rate, best->started,
			       best->failed + best->late_failed, best->p50,
			       best->p99, hi > 0 ? "" :
			       " (the highest rate tried: the limit is higher)");
		else
			printf("no rate passed (<= %.2f%% failures)\n",
			       100 * O.max_fail);
	}
	if (best && O.rtp_count)
		printf("media at %.0f cps: RTP through both ways in %" PRIu64
		       " of %" PRIu64 " calls, %" PRIu64 " also with the %u "
		       "packets sent after the latch%s", best->rate,
		       best->media_ok, best->started, best->media_all,
		       2 * (O.rtp_count - 1), flows_fd < 0 ? "\n" : "");
	if (best && O.rtp_count && flows_fd >= 0)
		printf("; kernel flows at the peak %" PRIu64 " (calls up with "
		       "media then: %" PRIu64 ", 2 flows each), packets the "
		       "kernel forwarded %" PRIu64 " (%u per call sent after "
		       "the latch: %" PRIu64 ")\n",
		       best->flows_peak, best->up_media_peak,
		       best->kfwd1 - best->kfwd0, 2 * (O.rtp_count - 1),
		       2 * (O.rtp_count - 1) * best->started);
	if (strays || parse_errors || send_errors || unknown_req || unlinked)
		printf("strays %" PRIu64 ", unparsable %" PRIu64 ", send errors %"
		       PRIu64 ", requests for unknown dialogs %" PRIu64
		       ", callee dialogs without their caller %" PRIu64 "\n",
		       strays, parse_errors, send_errors, unknown_req, unlinked);
	if (jf) {
		fprintf(jf, "[\n");
		if (O.search) {
			jnum("sip.max_cps", best ? best->rate : 0, "calls/s",
			     best ? best->started : 0);
			if (best)
				json_step("sip.max_cps", best);
		} else if (best) {
			json_step("sip.run", best);
		}
		fprintf(jf, "\n]\n");
		fclose(jf);
	}
	return 0;
}
