// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sipflood: a SIP request flood over UDP, for the flood tests (sipp is not
 * in Debian 12, and sipload plays well-behaved calls, not an attacker).
 *
 *   sipflood --to ADDR[:PORT] --local ADDR [--port P] --method M --uri URI
 *            [--rate R] [--seconds S | --count N] [--from-user U]
 *            [--header 'Name: value']... [--auth-user U --auth-pass P]
 *            [--aor URI] [--ack] [--linger MS]
 *
 * Sends requests of method M (INVITE with an SDP offer, or any other
 * without a body) for URI at R per second (0: as fast as the socket
 * takes them), each a new transaction with its own Call-ID, From tag and
 * branch, from one socket on the local address. The To header is --aor
 * (default: URI), e.g. sip:alice@host on a REGISTER for sip:host. Listens to the responses
 * meanwhile and for --linger ms after the last request (default 2000).
 *
 * --auth-user/--auth-pass: a 401 or 407 is answered once, with a new
 * request (CSeq 2, new branch) carrying Authorization or
 * Proxy-Authorization computed from that user and password (RFC 2617,
 * qop=auth, nc=00000001) over the challenge's nonce: with a wrong password
 * this is a password-guessing flood. Its final response counts as the
 * request's answer.
 *
 * --ack: a non-2xx final response to an INVITE is ACKed, as a UA does; a
 * flooder does not ACK, and the server retransmits its response until its
 * timer H. A 2xx to an INVITE (not expected: flood a target that refuses)
 * is ACKed and ended with a BYE.
 *
 * Prints key=value lines: sent= (requests, resends with credentials not
 * counted), resent_auth=, answered= (requests with a final response),
 * unanswered=, provisional= (1xx received), status_NNN= (the final
 * response of each answered request, by code), retry_after= (503s
 * carrying a Retry-After), retry_after_value= (the last one's value),
 * repeated_finals= (retransmitted final responses), stray=, send_errors=,
 * elapsed_ms=, rate= (requests sent per second).
 *
 * Exit: 0 it ran, 1 a system call failed, 2 usage.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"

#define MAX_MSG    8192
#define MAX_HDRS   8
#define MAX_COUNT  2000000

struct req {
	uint16_t status;      /* final status of the request, 0: none yet */
	uint8_t challenged;   /* a 401/407 was answered with credentials */
	uint8_t finals;       /* final responses seen for the current CSeq */
};

static struct {
	struct sockaddr_storage to, local;
	socklen_t to_len, local_len;
	char to_h[80], local_h[80], local_ip[64];
	int v6;
	const char *method, *uri, *aor, *from_user, *auth_user, *auth_pass;
	const char *hdrs[MAX_HDRS];
	int nhdrs;
	double rate, seconds;
	long count;
	int ack, linger_ms;
} O = { .from_user = "flood", .rate = 100, .seconds = 1, .linger_ms = 2000 };

static struct req *reqs;
static long nreqs;
static uint32_t runid;
static int fd;
static unsigned long st_sent, st_resent, st_prov, st_repeat, st_stray;
static unsigned long st_senderr, st_retry_after, st_status[700];
static char retry_after_value[64] = "-";

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* "ADDR[:PORT]" or "[ADDR6][:PORT]" into ss; port def when none. */
static int parse_hostport(const char *s, int def, struct sockaddr_storage *ss,
			  socklen_t *len)
{
	char host[64];
	const char *port = NULL;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (*s == '[') {
		const char *e = strchr(s, ']');

		if (!e || (size_t)(e - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = 0;
		if (e[1] == ':')
			port = e + 2;
		else if (e[1])
			return -1;
	} else {
		const char *c = strchr(s, ':');

		if (c && strchr(c + 1, ':'))
			c = NULL; /* a bare IPv6 address */
		if (strlen(s) >= sizeof(host))
			return -1;
		snprintf(host, sizeof(host), "%s", s);
		if (c) {
			host[c - s] = 0;
			port = c + 1;
		}
	}
	int p = port ? atoi(port) : def;

	if (p < 0 || p > 65535)
		return -1;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

static void hostport_str(const struct sockaddr_storage *ss, char *out,
			 size_t len, char *ip, size_t iplen)
{
	char a[INET6_ADDRSTRLEN];
	int port;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		port = ntohs(s4->sin_port);
		snprintf(out, len, "%s:%d", a, port);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		port = ntohs(s6->sin6_port);
		snprintf(out, len, "[%s]:%d", a, port);
	}
	if (ip)
		snprintf(ip, iplen, "%s", a);
}

/* ---- building requests ------------------------------------------------------ */

struct sb {
	char b[MAX_MSG];
	size_t n;
};

__attribute__((format(printf, 2, 3)))
static void sb_add(struct sb *s, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (s->n >= sizeof(s->b))
		return;
	va_start(ap, fmt);
	r = vsnprintf(s->b + s->n, sizeof(s->b) - s->n, fmt, ap);
	va_end(ap);
	if (r > 0)
		s->n = s->n + (size_t)r < sizeof(s->b) ? s->n + (size_t)r :
			sizeof(s->b);
}

static void xsend(const struct sb *s)
{
	if (sendto(fd, s->b, s->n, 0, (struct sockaddr *)&O.to, O.to_len) < 0)
		st_senderr++;
}

/* The headers every message of request n shares (From, Call-ID). */
static void common(struct sb *s, long n, const char *branch_sfx)
{
	sb_add(s, "Via: SIP/2.0/UDP %s;rport;branch=z9hG4bKsf%08x.%ld%s\r\n",
	       O.local_h, runid, n, branch_sfx);
	sb_add(s, "Max-Forwards: 70\r\n");
	sb_add(s, "From: <sip:%s@%s>;tag=sf%08x.%ld\r\n", O.from_user,
	       O.local_h, runid, n);
}

static void send_request(long n, int cseq, const char *auth_hdr)
{
	struct sb s = { .n = 0 };
	char body[512];
	int blen = 0;

	if (!strcmp(O.method, "INVITE"))
		blen = snprintf(body, sizeof(body),
				"v=0\r\no=- %ld 1 IN IP%c %s\r\ns=-\r\n"
				"c=IN IP%c %s\r\nt=0 0\r\n"
				"m=audio %ld RTP/AVP 0\r\n"
				"a=rtpmap:0 PCMU/8000\r\n", n, O.v6 ? '6' : '4',
				O.local_ip, O.v6 ? '6' : '4', O.local_ip,
				40000 + 2 * (n % 10000));
	sb_add(&s, "%s %s SIP/2.0\r\n", O.method, O.uri);
	common(&s, n, cseq > 1 ? ".2" : "");
	sb_add(&s, "To: <%s>\r\n", O.aor ? O.aor : O.uri);
	sb_add(&s, "Call-ID: sf%08x.%ld@%s\r\n", runid, n, O.local_h);
	sb_add(&s, "CSeq: %d %s\r\n", cseq, O.method);
	sb_add(&s, "Contact: <sip:%s@%s>\r\n", O.from_user, O.local_h);
	for (int i = 0; i < O.nhdrs; i++)
		sb_add(&s, "%s\r\n", O.hdrs[i]);
	if (auth_hdr)
		sb_add(&s, "%s\r\n", auth_hdr);
	if (blen)
		sb_add(&s, "Content-Type: application/sdp\r\n");
	sb_add(&s, "Content-Length: %d\r\n\r\n", blen);
	if (blen)
		sb_add(&s, "%s", body);
	xsend(&s);
}

/* ---- reading responses ------------------------------------------------------ */

/* The value of header name (or its compact form c) in msg, up to the end
 * of its line, into out; NULL if absent. */
static char *header(const char *msg, const char *name, char c, char *out,
		    size_t len)
{
	const char *p = strstr(msg, "\r\n");
	size_t nl = strlen(name);

	while (p && p[2] && !(p[2] == '\r' && p[3] == '\n')) {
		const char *h = p + 2, *v = NULL, *e;

		if (!strncasecmp(h, name, nl) && (h[nl] == ':' || h[nl] == ' '))
			v = h + nl;
		else if (c && tolower((unsigned char)h[0]) == c &&
			 (h[1] == ':' || h[1] == ' '))
			v = h + 1;
		p = strstr(h, "\r\n");
		if (!v)
			continue;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != ':')
			continue;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		e = p ? p : v + strlen(v);
		snprintf(out, len, "%.*s", (int)(e - v), v);
		return out;
	}
	return NULL;
}

/* A parameter (quoted or not) of a challenge header. */
static int param(const char *h, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);

	for (const char *p = h; (p = strcasestr(p, name)); p += nl) {
		const char *v = p + nl, *e;

		if (p > h && (isalnum((unsigned char)p[-1]) || p[-1] == '-'))
			continue;
		while (*v == ' ')
			v++;
		if (*v != '=')
			continue;
		v++;
		while (*v == ' ')
			v++;
		if (*v == '"') {
			e = strchr(++v, '"');
			if (!e)
				return -1;
		} else {
			e = v + strcspn(v, ", \t");
		}
		snprintf(out, len, "%.*s", (int)(e - v), v);
		return 0;
	}
	return -1;
}

static void answer_challenge(long n, int status, const char *msg)
{
	char ch[1024], realm[128], nonce[256], ha1[DIGEST_HEX_LEN + 1];
	char resp[DIGEST_HEX_LEN + 1], cnonce[32], hdr[1024];

	if (!header(msg, status == 401 ? "WWW-Authenticate" :
		    "Proxy-Authenticate", 0, ch, sizeof(ch)) ||
	    param(ch, "realm", realm, sizeof(realm)) ||
	    param(ch, "nonce", nonce, sizeof(nonce))) {
		st_stray++;
		return;
	}
	snprintf(cnonce, sizeof(cnonce), "%08x%ld", runid, n);
	digest_ha1(O.auth_user, realm, O.auth_pass, ha1);
	digest_response(ha1, nonce, "00000001", cnonce, "auth", O.method,
			O.uri, resp);
	snprintf(hdr, sizeof(hdr), "%s: Digest username=\"%s\", realm=\"%s\", "
		 "nonce=\"%s\", uri=\"%s\", response=\"%s\", algorithm=MD5, "
		 "qop=auth, nc=00000001, cnonce=\"%s\"",
		 status == 401 ? "Authorization" : "Proxy-Authorization",
		 O.auth_user, realm, nonce, O.uri, resp, cnonce);
	reqs[n].challenged = 1;
	reqs[n].finals = 0;
	st_resent++;
	send_request(n, 2, hdr);
}

/* ACK a final response to an INVITE (same branch for non-2xx, a new one
 * and a BYE after it for a 2xx). */
static void ack(long n, int cseq, int status, const char *msg)
{
	char to[512];
	struct sb s = { .n = 0 };

	if (!header(msg, "To", 't', to, sizeof(to)))
		return;
	sb_add(&s, "ACK %s SIP/2.0\r\n", O.uri);
	common(&s, n, status < 300 ? (cseq > 1 ? ".2a" : ".a") :
	       (cseq > 1 ? ".2" : ""));
	sb_add(&s, "To: %s\r\nCall-ID: sf%08x.%ld@%s\r\nCSeq: %d ACK\r\n"
	       "Content-Length: 0\r\n\r\n", to, runid, n, O.local_h, cseq);
	xsend(&s);
	if (status >= 300)
		return;
	s.n = 0;
	sb_add(&s, "BYE %s SIP/2.0\r\n", O.uri);
	common(&s, n, ".b");
	sb_add(&s, "To: %s\r\nCall-ID: sf%08x.%ld@%s\r\nCSeq: %d BYE\r\n"
	       "Content-Length: 0\r\n\r\n", to, runid, n, O.local_h, cseq + 1);
	xsend(&s);
}

static void on_response(char *msg)
{
	char cid[256], cseq_h[64], method[32], ra[64];
	unsigned id;
	long n;
	int status, cseq;

	if (strncmp(msg, "SIP/2.0 ", 8) || !isdigit((unsigned char)msg[8])) {
		st_stray++;
		return;
	}
	status = atoi(msg + 8);
	if (!header(msg, "Call-ID", 'i', cid, sizeof(cid)) ||
	    sscanf(cid, "sf%8x.%ld@", &id, &n) != 2 || id != runid ||
	    n < 0 || n >= nreqs ||
	    !header(msg, "CSeq", 0, cseq_h, sizeof(cseq_h)) ||
	    sscanf(cseq_h, "%d %31s", &cseq, method) != 2 ||
	    status < 100 || status > 699) {
		st_stray++;
		return;
	}
	if (strcasecmp(method, O.method)) /* a BYE's answer */
		return;
	if (status < 200) {
		st_prov++;
		return;
	}
	if ((cseq == 1 && reqs[n].challenged) || reqs[n].finals++) {
		st_repeat++;          /* retransmitted: answer again */
		if (O.ack && !strcmp(O.method, "INVITE"))
			ack(n, cseq, status, msg);
		return;
	}
	if (O.ack && !strcmp(O.method, "INVITE"))
		ack(n, cseq, status, msg);
	if ((status == 401 || status == 407) && O.auth_user && cseq == 1) {
		answer_challenge(n, status, msg);
		return;
	}
	reqs[n].status = (uint16_t)status;
	st_status[status]++;
	if (status == 503 && header(msg, "Retry-After", 0, ra, sizeof(ra))) {
		st_retry_after++;
		snprintf(retry_after_value, sizeof(retry_after_value), "%s", ra);
	}
}

static void drain(void)
{
	static char buf[MAX_MSG + 1];
	ssize_t r;

	while ((r = recv(fd, buf, MAX_MSG, MSG_DONTWAIT)) > 0) {
		buf[r] = 0;
		on_response(buf);
	}
}

/* ---- main ---------------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr,
"usage: sipflood --to ADDR[:PORT] --local ADDR [--port P] --method M\n"
"                --uri URI [--rate R] [--seconds S | --count N]\n"
"                [--from-user U] [--header 'Name: value']...\n"
"                [--auth-user U --auth-pass P] [--aor URI] [--ack]\n"
"                [--linger MS]\n"
"  A flood of SIP requests over UDP, each a new transaction; counts the\n"
"  final responses by status (see the head of tools/sipflood.c).\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", 1, 0, 't' }, { "local", 1, 0, 'l' },
		{ "port", 1, 0, 'p' }, { "method", 1, 0, 'm' },
		{ "uri", 1, 0, 'u' }, { "rate", 1, 0, 'r' },
		{ "seconds", 1, 0, 's' }, { "count", 1, 0, 'n' },
		{ "from-user", 1, 0, 'f' }, { "header", 1, 0, 'H' },
		{ "auth-user", 1, 0, 'U' }, { "auth-pass", 1, 0, 'P' },
		{ "ack", 0, 0, 'a' }, { "aor", 1, 0, 'A' },
		{ "linger", 1, 0, 'L' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
	};
	const char *to = NULL, *local = NULL;
	int port = 0, c, one = 1, big = 4 << 20;
	uint64_t t0, tend, last_tx;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'l': local = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'm': O.method = optarg; break;
		case 'u': O.uri = optarg; break;
		case 'r': O.rate = atof(optarg); break;
		case 's': O.seconds = atof(optarg); O.count = 0; break;
		case 'n': O.count = atol(optarg); break;
		case 'f': O.from_user = optarg; break;
		case 'H':
			if (O.nhdrs == MAX_HDRS)
				return usage();
			O.hdrs[O.nhdrs++] = optarg;
			break;
		case 'U': O.auth_user = optarg; break;
		case 'P': O.auth_pass = optarg; break;
		case 'a': O.ack = 1; break;
		case 'A': O.aor = optarg; break;
		case 'L': O.linger_ms = atoi(optarg); break;
		default: return usage();
		}
	}
	if (!to || !local || !O.method || !O.uri || optind != argc ||
	    O.rate < 0 || (O.auth_user && !O.auth_pass) ||
	    parse_hostport(to, 5060, &O.to, &O.to_len) ||
	    parse_hostport(local, port, &O.local, &O.local_len) ||
	    O.to.ss_family != O.local.ss_family)
		return usage();
	if (port) {
		if (O.local.ss_family == AF_INET)
			((struct sockaddr_in *)&O.local)->sin_port = htons((uint16_t)port);
		else
			((struct sockaddr_in6 *)&O.local)->sin6_port = htons((uint16_t)port);
	}
	O.v6 = O.local.ss_family == AF_INET6;
	if (!O.count)
		O.count = O.rate > 0 ? (long)(O.rate * O.seconds + 0.5) : 1000;
	if (O.count < 1 || O.count > MAX_COUNT)
		return usage();
	nreqs = O.count;
	reqs = calloc((size_t)nreqs, sizeof(*reqs));
	if (!reqs)
		return 1;
	fd = socket(O.local.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&O.local, O.local_len)) {
		perror("sipflood: socket");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	O.local_len = sizeof(O.local);
	getsockname(fd, (struct sockaddr *)&O.local, &O.local_len);
	hostport_str(&O.local, O.local_h, sizeof(O.local_h), O.local_ip,
		     sizeof(O.local_ip));
	hostport_str(&O.to, O.to_h, sizeof(O.to_h), NULL, 0);
	{
		uint64_t seed = now_us() ^ ((uint64_t)getpid() << 20);

		runid = (uint32_t)(seed ^ (seed >> 32));
	}

	t0 = now_us();
	last_tx = t0;
	for (long n = 0; n < nreqs; n++) {
		if (O.rate > 0) {
			uint64_t due = t0 + (uint64_t)((double)n * 1e6 / O.rate);

			for (uint64_t now; (now = now_us()) < due;) {
				struct pollfd p = { .fd = fd, .events = POLLIN };

				if (poll(&p, 1, (int)((due - now) / 1000)) > 0)
					drain();
			}
		}
		send_request(n, 1, NULL);
		st_sent++;
		if (!(n & 15))
			drain();
		last_tx = now_us();
	}
	tend = now_ms() + (uint64_t)O.linger_ms;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = now_ms();
		long answered = 0;

		drain();
		for (long n = 0; n < nreqs; n++)
			answered += reqs[n].status != 0;
		if (now >= tend || answered == nreqs)
			break;
		poll(&p, 1, (int)(tend - now));
	}

	long answered = 0;

	for (long n = 0; n < nreqs; n++)
		answered += reqs[n].status != 0;
	printf("sent=%lu\nresent_auth=%lu\nanswered=%ld\nunanswered=%ld\n"
	       "provisional=%lu\n", st_sent, st_resent, answered,
	       nreqs - answered, st_prov);
	for (int s = 200; s < 700; s++)
		if (st_status[s])
			printf("status_%d=%lu\n", s, st_status[s]);
	printf("retry_after=%lu\nretry_after_value=%s\nrepeated_finals=%lu\n"
	       "stray=%lu\nsend_errors=%lu\n", st_retry_after,
	       retry_after_value, st_repeat, st_stray, st_senderr);
	{
		double el = (double)(last_tx - t0) / 1e3;

		printf("elapsed_ms=%.0f\nrate=%.0f\n", el,
		       el > 0 ? (double)st_sent * 1e3 / el : 0.0);
	}
	return 0;
}
