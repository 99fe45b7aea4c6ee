// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What the public edge sends that is not SIP, or not all of it, over real
 * loopback sockets (sip/transport.c, and sip/b2bua.c behind it):
 *
 *   - a TCP connection that sends half a message and stalls, one that
 *     trickles a message that never ends, one that connects and says
 *     nothing: each is closed after the stall time with a log line that
 *     says which, while another connection's messages go on; a connection
 *     that has sent whole messages may stay idle (and send keep-alives);
 *   - a datagram of garbage, one of the largest size UDP carries, a
 *     valid request that large, half a request: while a call is up, each
 *     is logged (or answered) and counted, and the call goes on and ends
 *     with its BYE as usual.
 *
 * Oversized TCP messages and bad Content-Lengths are test_transport.c's.
 * The stall time is shrunk to 300 ms (tp_set_stall_ms); no wait is over
 * 3 s. Log lines are read back from stderr, redirected to a file.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "b2bua.h"
#include "log.h"
#include "media.h"
#include "netaddr.h"
#include "registrar.h"
#include "sipmsg.h"
#include "transport.h"
#include "check.h"
#include "b2bua_fixture.h"

#define STALL_MS 300
#define DOMAIN "xrelay.test"
#define SA(ss) ((struct sockaddr *)(ss))

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- stderr into a file, to read the log lines back ---------------------------- */

static char log_path[64];
static int saved_stderr = -1;

static void log_capture(void)
{
	int fd;

	snprintf(log_path, sizeof(log_path), "/tmp/xr-badinput-log.XXXXXX");
	fd = mkstemp(log_path);
	CHECK_TRUE(fd >= 0, "mkstemp for the log");
	fflush(stderr);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
	log_set_level(LOG_WARN);
}

/* What was logged since log_capture() (static; stderr is back). */
static const char *log_text(void)
{
	static char buf[16384];
	FILE *f;
	size_t n = 0;

	fflush(stderr);
	if (saved_stderr >= 0) {
		dup2(saved_stderr, 2);
		close(saved_stderr);
		saved_stderr = -1;
	}
	log_set_level(LOG_ERR);
	f = fopen(log_path, "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	unlink(log_path);
	buf[n] = 0;
	return buf;
}

/* ---- a transport and what it delivered ------------------------------------------ */

static struct sip_transport *tp;
static int ndelivered;
static char last[512];
static int port;

static void on_msg(void *ctx, const char *buf, size_t len,
		   const struct sip_peer *from)
{
	(void)ctx;
	(void)from;
	ndelivered++;
	snprintf(last, sizeof(last), "%.*s", (int)len, buf);
}

static int free_port(int type)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, type, 0), p = -1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, SA(&sin), sizeof(sin)) == 0 &&
	    getsockname(fd, SA(&sin), &sl) == 0)
		p = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return p;
}

static void listen_on(struct sip_transport *t, enum sip_proto proto, int p)
{
	struct sockaddr_storage ss;
	char a[64], err[256];

	snprintf(a, sizeof(a), "127.0.0.1:%d", p);
	CHECK_TRUE(netaddr_parse(a, -1, &ss) == 0, "listen address");
	if (tp_listen(t, proto, SA(&ss), err, sizeof(err)) < 0)
		fail_msg("tp_listen %s: %s", a, err);
}

static int tcp_setup(void **state)
{
	(void)state;
	log_set_level(LOG_ERR);
	ndelivered = 0;
	tp = tp_new(on_msg, NULL);
	if (!tp)
		return -1;
	tp_set_stall_ms(tp, STALL_MS);
	port = free_port(SOCK_STREAM);
	listen_on(tp, SIP_TCP, port);
	return 0;
}

static int tcp_teardown(void **state)
{
	(void)state;
	if (saved_stderr >= 0)
		log_text();
	tp_free(tp);
	tp = NULL;
	return 0;
}

/* Drive the transport for ms. */
static void run_for(unsigned ms)
{
	uint64_t end = now_ms() + ms;
	struct pollfd pf = { .fd = tp_fd(tp), .events = POLLIN };

	while (now_ms() < end) {
		poll(&pf, 1, 10);
		tp_run(tp);
	}
}

static int client(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	CHECK_TRUE(fd >= 0 && connect(fd, SA(&sin), sizeof(sin)) == 0,
		   "connect to the transport");
	return fd;
}

static void send_all(int fd, const char *s, size_t len)
{
	CHECK_EQ(send(fd, s, len, MSG_NOSIGNAL), (long long)len, "send");
}

/* 1: the peer closed it (EOF or reset), 0: still open. Never blocks. */
static int closed(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

#define MSG(tag) "OPTIONS sip:" DOMAIN " SIP/2.0\r\n" \
	"Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK" tag "\r\n" \
	"From: <sip:a@" DOMAIN ">;tag=" tag "\r\nTo: <sip:" DOMAIN ">\r\n" \
	"Call-ID: " tag "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
#define HALF "INVITE sip:bob@" DOMAIN " SIP/2.0\r\n" \
	"Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bKhalf\r\n" \
	"From: <sip:a@" DOMAIN ">;tag=half\r\nTo: <sip:bob@" DOMAIN ">\r\n"

/* ---- TCP ---------------------------------------------------------------------------- */

static void test_tcp_half_message(void **state)
{
	struct tp_stats st;
	uint64_t t0, gone = 0;
	const char *log;
	int half, good;

	(void)state;
	log_capture();
	half = client();
	good = client();
	t0 = now_ms();
	send_all(half, HALF, strlen(HALF));
	run_for(50);
	send_all(good, MSG("good1"), strlen(MSG("good1")));
	while (now_ms() - t0 < 3000 && !gone) {
		run_for(20);
		if (closed(half))
			gone = now_ms();
		if (now_ms() - t0 > 150 && ndelivered == 1)
			send_all(good, MSG("good2"), strlen(MSG("good2")));
	}
	log = log_text();
	CHECK_TRUE(gone, "the stalled connection is closed");
	CHECK_TRUE(gone - t0 >= STALL_MS, "not before the stall time");
	CHECK_TRUE(gone - t0 < STALL_MS + 1000, "soon after the stall time");
	CHECK_EQ(ndelivered, 2, "the other connection's messages, both");
	CHECK_HAS(last, "Call-ID: good2", "the last delivered is good2");
	CHECK_HAS(log, "sip: tcp from 127.0.0.1:", "a log line names the peer");
	CHECK_HAS(log, " bytes of a message, and not the rest for 300 ms: "
		  "closing the connection", "and says why");
	/* the other connection is still served */
	send_all(good, MSG("good3"), strlen(MSG("good3")));
	run_for(50);
	CHECK_EQ(ndelivered, 3, "the other connection after the close");
	CHECK_TRUE(!closed(good), "the other connection is open");
	tp_stats(tp, &st);
	CHECK_EQ(st.tcp_stalled, 1, "tcp_stalled");
	CHECK_EQ(st.tcp_open, 1, "one connection left");
	close(half);
	close(good);
}

static void test_tcp_trickle(void **state)
{
	const char *slow = HALF "X-Slow: ";
	uint64_t t0 = now_ms(), gone = 0;
	size_t i = 0;
	int fd;

	(void)state;
	log_capture();
	fd = client();
	/* a byte every 40 ms: traffic all along, no message ever */
	while (now_ms() - t0 < 3000 && !gone) {
		if (i < strlen(slow))
			send_all(fd, slow + i++, 1);
		else
			send_all(fd, "x", 1);
		run_for(40);
		if (closed(fd))
			gone = now_ms();
	}
	CHECK_HAS(log_text(), "bytes of a message, and not the rest",
		  "the trickle is logged as a stall");
	CHECK_TRUE(gone && gone - t0 < STALL_MS + 1000,
		   "a trickling connection is closed at the stall time");
	CHECK_EQ(ndelivered, 0, "nothing delivered");
	close(fd);
}

static void test_tcp_silent(void **state)
{
	uint64_t t0 = now_ms(), gone = 0;
	int fd;

	(void)state;
	log_capture();
	fd = client();
	while (now_ms() - t0 < 3000 && !gone) {
		run_for(20);
		if (closed(fd))
			gone = now_ms();
	}
	CHECK_HAS(log_text(), "connected and sent no message for 300 ms: "
		  "closing the connection", "the silent connection is logged");
	CHECK_TRUE(gone && gone - t0 >= STALL_MS &&
		   gone - t0 < STALL_MS + 1000,
		   "a connection that says nothing is closed at the stall time");
	close(fd);
}

static void test_tcp_idle_kept(void **state)
{
	struct tp_stats st;
	int fd;

	(void)state;
	fd = client();
	send_all(fd, MSG("idle1"), strlen(MSG("idle1")));
	run_for(2 * STALL_MS);
	send_all(fd, "\r\n\r\n", 4); /* RFC 5626 keep-alives */
	run_for(2 * STALL_MS);
	CHECK_TRUE(!closed(fd), "a connection that sent a message may idle");
	send_all(fd, MSG("idle2"), strlen(MSG("idle2")));
	run_for(50);
	CHECK_EQ(ndelivered, 2, "both messages");
	tp_stats(tp, &st);
	CHECK_EQ(st.tcp_stalled, 0, "nothing closed for a stall");
	close(fd);
}

/* ---- UDP, with a call up --------------------------------------------------------------- */

static struct {
	struct media_engine *me;
	struct registrar *reg;
	struct b2bua *b;
	char pin_dir[64];
	int sock;                 /* where the datagrams come from */
} U;

static char sent[64][160];        /* start lines of what the B2BUA sent */
static int nsent;
/* The last request the B2BUA sent bob: what his responses copy. */
static char b_branch[128], b_cid[256], b_ftag[128];
static char a_totag[128];         /* our To tag on A's leg */

static int cap_send(void *ctx, const struct sip_peer *to, const char *buf,
		    size_t len)
{
	osip_message_t *m;
	char why[128];

	(void)ctx;
	(void)to;
	if (nsent < 64)
		snprintf(sent[nsent++], sizeof(sent[0]), "%.*s",
			 (int)strcspn(buf, "\r\n"), buf);
	m = sipmsg_parse(buf, len, why, sizeof(why));
	if (m && MSG_IS_REQUEST(m) && strstr(buf, " sip:bob@127.0.0.3")) {
		snprintf(b_branch, sizeof(b_branch), "%s", sipmsg_branch(m));
		sipmsg_call_id(m, b_cid, sizeof(b_cid));
		snprintf(b_ftag, sizeof(b_ftag), "%s", sipmsg_tag(m->from));
	}
	if (m && MSG_IS_RESPONSE(m) && m->status_code == 200 &&
	    !strcmp(m->cseq->method, "INVITE"))
		snprintf(a_totag, sizeof(a_totag), "%s", sipmsg_tag(m->to));
	if (m)
		osip_message_free(m);
	return 0;
}

static int sent_has(const char *start)
{
	for (int i = 0; i < nsent; i++)
		if (!strncmp(sent[i], start, strlen(start)))
			return 1;
	return 0;
}

static int udp_setup(void **state)
{
	static struct b2bua_cfg cfg = { .domain = DOMAIN };
	struct b2bua_deps d = { 0 };
	struct sip_peer pb = fx_peer("127.0.0.3:5064");

	(void)state;
	log_set_level(LOG_ERR);
	nsent = 0;
	if (fx_media_start(&U.me, U.pin_dir, sizeof(U.pin_dir), "badinput",
			   41400, 41499) < 0)
		return -1;
	port = fx_free_udp_port();
	tp = fx_transport(port);
	if (!tp)
		return -1;
	U.reg = registrar_new(60, 3600);
	registrar_update(U.reg, "bob@" DOMAIN, "sip:bob@127.0.0.3:5064", 600,
			 "reg-bob", 1, &pb, now_ms());
	cfg.reg_min_expires_s = 60;
	cfg.reg_max_expires_s = 3600;
	cfg.t1_ms = 1; /* the ended call's transactions end fast */
	d.tp = tp;
	d.me = U.me;
	d.reg = U.reg;
	d.send = cap_send;
	U.b = b2bua_new(&cfg, &d);
	if (!U.b)
		return -1;
	tp_set_ctx(tp, U.b);
	U.sock = socket(AF_INET, SOCK_DGRAM, 0);
	return U.sock >= 0 ? 0 : -1;
}

static int udp_teardown(void **state)
{
	(void)state;
	if (saved_stderr >= 0)
		log_text();
	b2bua_shutdown(U.b);
	b2bua_free(U.b);
	tp_free(tp);
	tp = NULL;
	registrar_free(U.reg);
	fx_media_stop(&U.me, U.pin_dir);
	close(U.sock);
	memset(&U, 0, sizeof(U));
	return 0;
}

/* One datagram to the transport, from U.sock; the transport runs. */
static void datagram(const char *buf, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	CHECK_EQ(sendto(U.sock, buf, len, 0, SA(&sin), sizeof(sin)),
		 (long long)len, "sendto the transport");
	run_for(30);
}

static int count_up(const struct b2bua_call_info *ci, void *arg)
{
	*(int *)arg += ci->phase == CALL_UP;
	return 0;
}

static int calls_up(void)
{
	int n = 0;

	b2bua_foreach_call(U.b, count_up, &n);
	return n;
}

#define SDP_A "v=0\r\no=a 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\n" \
	"t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
#define SDP_B "v=0\r\no=b 1 1 IN IP4 127.0.0.3\r\ns=-\r\nc=IN IP4 127.0.0.3\r\n" \
	"t=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"

/* Phone A's request or bob's response, as the transport would hand it. */
__attribute__((format(printf, 2, 3)))
static void feed(const char *from, const char *fmt, ...)
{
	char buf[4096];
	struct sip_peer p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memset(&p, 0, sizeof(p));
	netaddr_parse(from, -1, &p.addr);
	b2bua_on_message(U.b, buf, (size_t)n, &p);
}

/* The largest UDP payload over IPv4: 65535 - 20 (IP) - 8 (UDP). */
#define UDP_MAX 65507
#define TAIL "\r\nContent-Length: 0\r\n\r\n"

static void test_udp_bad_datagrams_during_a_call(void **state)
{
	struct b2bua_stats st0, st;
	struct tp_stats ts0, ts;
	const char *log;
	char *big;
	size_t n;

	(void)state;
	/* A call from A to bob, answered and ACKed: up. */
	feed("127.0.0.2:5062", "INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKcall1\r\n"
	     "From: <sip:alice@" DOMAIN ">;tag=a1\r\nTo: <sip:bob@" DOMAIN ">\r\n"
	     "Call-ID: call1@a\r\nCSeq: 1 INVITE\r\n"
	     "Contact: <sip:alice@127.0.0.2:5062>\r\nMax-Forwards: 70\r\n"
	     "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
	     strlen(SDP_A), SDP_A);
	CHECK_TRUE(sent_has("INVITE sip:bob@127.0.0.3:5064"), "INVITE to bob");
	feed("127.0.0.3:5064", "SIP/2.0 200 OK\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.1;branch=%s\r\n"
	     "From: <sip:alice@" DOMAIN ">;tag=%s\r\n"
	     "To: <sip:bob@" DOMAIN ">;tag=b1\r\nCall-ID: %s\r\n"
	     "CSeq: 1 INVITE\r\nContact: <sip:bob@127.0.0.3:5064>\r\n"
	     "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
	     b_branch, b_ftag, b_cid, strlen(SDP_B), SDP_B);
	CHECK_TRUE(sent_has("SIP/2.0 200 OK"), "bob's 200 relayed to A");
	CHECK_EQ(calls_up(), 1, "the call is up");
	b2bua_stats(U.b, &st0);
	tp_stats(tp, &ts0);
	nsent = 0;

	log_capture();
	/* garbage */
	big = malloc(UDP_MAX);
	CHECK_TRUE(big != NULL, "malloc");
	for (n = 0; n < 1400; n++)
		big[n] = (char)(n * 131 + 7);
	datagram(big, 1400);
	/* the largest datagram there is, of garbage */
	memset(big, 'x', UDP_MAX);
	datagram(big, UDP_MAX);
	/* a valid OPTIONS that large: an unknown header of 64 KB */
	n = (size_t)snprintf(big, UDP_MAX, "OPTIONS sip:" DOMAIN " SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKbig\r\n"
			     "From: <sip:x@" DOMAIN ">;tag=big\r\n"
			     "To: <sip:" DOMAIN ">\r\nCall-ID: big@x\r\n"
			     "CSeq: 1 OPTIONS\r\nX-Big: ");
	memset(big + n, 'y', UDP_MAX - n - strlen(TAIL));
	memcpy(big + UDP_MAX - strlen(TAIL), TAIL, strlen(TAIL));
	datagram(big, UDP_MAX);
	/* half a request: the datagram ends inside the headers */
	datagram("INVITE sip:bob@" DOMAIN " SIP/2.0\r\nVia: SIP/2.0/UDP "
		 "127.0.0.1:5999;branch=z9hG4bKhalf\r\nFrom: <sip:x@"
		 DOMAIN ">;tag=h\r\nTo: <sip:bob@" DOMAIN ">\r\nCall-ID: "
		 "half@x\r\nCSeq: 1 INVITE\r\nContent-Le", 175);
	free(big);
	log = log_text();

	tp_stats(tp, &ts);
	b2bua_stats(U.b, &st);
	CHECK_EQ(ts.rx_msgs - ts0.rx_msgs, 4, "four datagrams delivered");
	CHECK_EQ(st.malformed - st0.malformed, 3,
		 "garbage, big garbage, half a request: malformed");
	CHECK_HAS(log, "sip: malformed message from 127.0.0.1:", "logged");
	CHECK_HAS(log, "(1400 bytes): not a SIP message", "the garbage");
	CHECK_HAS(log, "(65507 bytes): not a SIP message", "the big garbage");
	CHECK_TRUE(sent_has("SIP/2.0 200 OK"), "the big OPTIONS: 200");
	CHECK_TRUE(sent_has("SIP/2.0 400 Bad Request"), "half a request: 400");
	CHECK_EQ(nsent, 2, "nothing else sent");
	CHECK_EQ(st.calls_active, 1, "the call is still there");
	CHECK_EQ(calls_up(), 1, "and up");

	/* and it ends as usual: A's BYE goes to bob */
	nsent = 0;
	feed("127.0.0.2:5062", "BYE sip:127.0.0.1 SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKbye1\r\n"
	     "From: <sip:alice@" DOMAIN ">;tag=a1\r\n"
	     "To: <sip:bob@" DOMAIN ">;tag=%s\r\nCall-ID: call1@a\r\n"
	     "CSeq: 2 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
	     a_totag);
	CHECK_TRUE(sent_has("BYE sip:bob@127.0.0.3:5064"), "A's BYE reaches bob");
}

#define T(f, s, t) cmocka_unit_test_setup_teardown(f, s, t)

int main(void)
{
	static const struct CMUnitTest tests[] = {
		T(test_tcp_half_message, tcp_setup, tcp_teardown),
		T(test_tcp_trickle, tcp_setup, tcp_teardown),
		T(test_tcp_silent, tcp_setup, tcp_teardown),
		T(test_tcp_idle_kept, tcp_setup, tcp_teardown),
		T(test_udp_bad_datagrams_during_a_call, udp_setup, udp_teardown),
	};

	return cmocka_run_group_tests_name("test_badinput", tests, NULL, NULL);
}
