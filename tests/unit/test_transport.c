// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The SIP transport (sip/transport.c) over real loopback sockets: UDP in and
 * out, TCP stream framing (RFC 3261 18.3: headers to the blank line, then
 * Content-Length bytes), CRLF keep-alives, the TP_MAX_MSG limit, replies on
 * the connection a request came in on, connections opened on demand and
 * reused, tp_local_for, tp_is_local, and IPv6.
 *
 * Only 127.0.0.1 and ::1 carry traffic, on ephemeral ports: a free port is
 * found by binding a probe socket to port 0. The transport is driven by
 * tp_run() and poll() on tp_fd() with a deadline: no wait is over 2 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "log.h"
#include "netaddr.h"
#include "transport.h"
#include "check.h"

#define WAIT_MS 2000 /* the longest any wait lasts */
#define QUIET_MS 150 /* how long "nothing more arrives" is watched */

/* ---- fixture: the transport, what it delivered, the test's sockets -------- */

#define MAX_GOT 32
#define MAX_FDS 16

struct got {
	char *buf;
	size_t len;
	int nul;   /* buf[len] was the NUL the API promises */
	void *ctx; /* the context the callback got */
	struct sip_peer from;
};

static struct sip_transport *tp;
static struct got got[MAX_GOT];
static int ngot, overflow;
static int fds[MAX_FDS], nfds;
/* When set, the callback answers every message with this, on its peer. */
static const char *reply_with;
static int reply_rc;

static int teardown(void **state)
{
	(void)state;
	tp_free(tp);
	tp = NULL;
	for (int i = 0; i < ngot; i++)
		free(got[i].buf);
	memset(got, 0, sizeof(got));
	ngot = overflow = 0;
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	nfds = 0;
	reply_with = NULL;
	reply_rc = 0;
	return 0;
}

static void on_msg(void *ctx, const char *buf, size_t len,
		   const struct sip_peer *from)
{
	struct got *g;

	if (ngot >= MAX_GOT) {
		overflow++;
		return;
	}
	g = &got[ngot++];
	g->buf = malloc(len + 1);
	if (g->buf)
		memcpy(g->buf, buf, len + 1);
	g->len = len;
	g->nul = buf[len] == '\0';
	g->ctx = ctx;
	g->from = *from;
	if (reply_with)
		reply_rc = tp_send(tp, from, reply_with, strlen(reply_with));
}

static int ctx_token; /* its address is the callback's context */

static void new_tp(void)
{
	tp_free(tp);
	tp = tp_new(on_msg, &ctx_token);
	CHECK_TRUE(tp != NULL, "tp_new");
	CHECK_TRUE(tp_fd(tp) >= 0, "tp_fd of a new transport");
}

static int track(int fd)
{
	CHECK_TRUE(fd >= 0, "socket");
	CHECK_TRUE(nfds < MAX_FDS, "the test keeps under MAX_FDS sockets");
	fds[nfds++] = fd;
	return fd;
}

/* Close a tracked socket now (the peer sees it go). */
static void untrack_close(int fd)
{
	for (int i = 0; i < nfds; i++) {
		if (fds[i] == fd) {
			fds[i] = fds[--nfds];
			break;
		}
	}
	close(fd);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Wait up to ms for the transport (and fd, when >= 0) then run it once. */
static void pump_fd(int fd, int ms)
{
	struct pollfd p[2] = {
		{ .fd = tp_fd(tp), .events = POLLIN },
		{ .fd = fd, .events = POLLIN },
	};

	poll(p, fd >= 0 ? 2 : 1, ms > 50 ? 50 : ms < 0 ? 0 : ms);
	tp_run(tp);
}

/* Run the transport until expr holds or WAIT_MS pass. */
#define WAIT_FOR(expr) do {						\
	long long end_ = now_ms() + WAIT_MS;				\
	tp_run(tp);							\
	while (!(expr) && now_ms() < end_)				\
		pump_fd(-1, 50);					\
} while (0)

/* Run the transport for ms whatever happens. */
static void pump_for(int ms)
{
	long long end = now_ms() + ms;

	do
		pump_fd(-1, (int)(end - now_ms()));
	while (now_ms() < end);
}

static struct tp_stats stats(void)
{
	struct tp_stats st;

	tp_stats(tp, &st);
	return st;
}

/* ---- addresses and plain sockets -------------------------------------------- */

static struct sockaddr_storage addr_of(const char *ip, int port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	CHECK_EQ(netaddr_parse_ip(ip, &ss), 0, "netaddr_parse_ip");
	netaddr_set_port((struct sockaddr *)&ss, port);
	return ss;
}

#define SA(ss) ((struct sockaddr *)(ss))

static struct sockaddr_storage sock_name(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	CHECK_EQ(getsockname(fd, SA(&ss), &sl), 0, "getsockname");
	return ss;
}

/* A port nothing uses now on ip for type: bind a probe to port 0, read the
 * port, close the probe. -1 if ip cannot be bound at all. */
static int free_port(const char *ip, int type)
{
	struct sockaddr_storage ss = addr_of(ip, 0);
	int fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0), port;

	if (fd < 0)
		return -1;
	if (bind(fd, SA(&ss), netaddr_len(SA(&ss))) < 0) {
		close(fd);
		return -1;
	}
	ss = sock_name(fd);
	port = netaddr_port(SA(&ss));
	close(fd);
	return port;
}

/* The transport listening on ip, on a free port, over proto. */
static struct sockaddr_storage listen_on(const char *ip, enum sip_proto proto)
{
	char err[256] = "";
	struct sockaddr_storage ss;
	int port = free_port(ip, proto == SIP_TCP ? SOCK_STREAM : SOCK_DGRAM);

	CHECK_TRUE(port > 0, "a free port from a probe socket");
	ss = addr_of(ip, port);
	if (tp_listen(tp, proto, SA(&ss), err, sizeof(err)) != 0)
		fail_msg("tp_listen %s:%d: %s", ip, port, err);
	return ss;
}

/* A plain UDP socket bound to ip, any port. */
static int udp_sock(const char *ip)
{
	struct sockaddr_storage ss = addr_of(ip, 0);
	int fd = track(socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));

	CHECK_EQ(bind(fd, SA(&ss), netaddr_len(SA(&ss))), 0, "bind udp");
	return fd;
}

/* A TCP client connected to the transport's listener; non-blocking after
 * the connect (which the kernel completes without the transport running). */
static int tcp_client(const struct sockaddr_storage *to)
{
	int fd = track(socket(to->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));

	CHECK_EQ(connect(fd, (const struct sockaddr *)to,
			 netaddr_len((const struct sockaddr *)to)), 0,
		 "connect to the transport's TCP listener");
	CHECK_EQ(fcntl(fd, F_SETFL, O_NONBLOCK), 0, "O_NONBLOCK");
	return fd;
}

/* A plain listening TCP socket on ip, any port. */
static int tcp_listener(const char *ip, struct sockaddr_storage *where)
{
	struct sockaddr_storage ss = addr_of(ip, 0);
	int fd = track(socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
			      SOCK_CLOEXEC, 0));

	CHECK_EQ(bind(fd, SA(&ss), netaddr_len(SA(&ss))), 0, "bind tcp");
	CHECK_EQ(listen(fd, 8), 0, "listen");
	*where = sock_name(fd);
	return fd;
}

/* Write all of buf from a non-blocking socket, running the transport while
 * the socket buffer is full. Returns what was written (less when the
 * transport closed the connection). */
static size_t send_all(int fd, const char *buf, size_t len)
{
	long long end = now_ms() + WAIT_MS;
	size_t done = 0;

	while (done < len && now_ms() < end) {
		ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			break;
		pump_fd(-1, 10);
	}
	return done;
}

static void send_str(int fd, const char *s)
{
	CHECK_EQ(send_all(fd, s, strlen(s)), strlen(s), "client write");
}

/* Read exactly len bytes on fd within WAIT_MS, running the transport. */
static size_t recv_all(int fd, char *buf, size_t len)
{
	long long end = now_ms() + WAIT_MS;
	size_t done = 0;

	while (done < len && now_ms() < end) {
		ssize_t n = recv(fd, buf + done, len - done, MSG_DONTWAIT);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			break;
		pump_fd(fd, 50);
	}
	return done;
}

/* 0: fd is still open (nothing readable within ms); 1: EOF; 2: reset.
 * Data that arrives meanwhile is an error: nothing here is owed any. */
static int peer_state(int fd, int ms)
{
	long long end = now_ms() + ms;
	char c;

	for (;;) {
		ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

		if (n == 0)
			return 1;
		if (n < 0 && errno == ECONNRESET)
			return 2;
		CHECK_TRUE(n < 0, "no data from the transport on this socket");
		if (now_ms() >= end)
			return 0;
		pump_fd(fd, (int)(end - now_ms()));
	}
}

/* A datagram on a plain UDP socket within WAIT_MS. */
static ssize_t udp_recv(int fd, char *buf, size_t len,
			struct sockaddr_storage *from)
{
	long long end = now_ms() + WAIT_MS;
	socklen_t sl = sizeof(*from);

	for (;;) {
		ssize_t n = recvfrom(fd, buf, len, MSG_DONTWAIT, SA(from), &sl);

		if (n >= 0 || errno != EAGAIN || now_ms() >= end)
			return n;
		pump_fd(fd, 50);
	}
}

static void check_got(int i, const char *exp, const char *what)
{
	char w[160];

	snprintf(w, sizeof(w), "%s: length", what);
	CHECK_EQ(got[i].len, strlen(exp), w);
	snprintf(w, sizeof(w), "%s: bytes", what);
	CHECK_TRUE(got[i].buf != NULL, "the callback's copy");
	CHECK_MEM(got[i].buf, exp, strlen(exp), w);
	snprintf(w, sizeof(w), "%s: NUL after the message", what);
	CHECK_TRUE(got[i].nul, w);
	snprintf(w, sizeof(w), "%s: the callback's context", what);
	CHECK_TRUE(got[i].ctx == &ctx_token, w);
}

/* ---- messages ------------------------------------------------------------- */

#define REQ(callid, clen_hdr)						\
	"OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n"				\
	"Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-" callid "\r\n"	\
	"From: <sip:alice@127.0.0.1>;tag=1\r\n"				\
	"To: <sip:bob@127.0.0.1>\r\n"					\
	"Call-ID: " callid "\r\n"					\
	"CSeq: 1 OPTIONS\r\n"						\
	clen_hdr							\
	"\r\n"

static const char M1[] = REQ("one", "Content-Length: 0\r\n");
static const char M2[] = REQ("two", "Content-Length: 0\r\n");
static const char M3[] = REQ("three", "Content-Length: 0\r\n");

/* ---- UDP ------------------------------------------------------------------ */

static void test_udp_receive(void **state)
{
	struct sockaddr_storage ls, cl;
	struct tp_stats st;
	int c;

	(void)state;
	new_tp();
	ls = listen_on("127.0.0.1", SIP_UDP);
	c = udp_sock("127.0.0.1");
	cl = sock_name(c);
	/* A keep-alive datagram first: too short to be a message. */
	CHECK_EQ(sendto(c, "\r\n\r\n", 2, 0, SA(&ls), netaddr_len(SA(&ls))), 2,
		 "sendto keep-alive");
	CHECK_EQ(sendto(c, M1, strlen(M1), 0, SA(&ls), netaddr_len(SA(&ls))),
		 strlen(M1), "sendto");
	WAIT_FOR(ngot >= 1);
	pump_for(QUIET_MS);
	CHECK_EQ(ngot, 1, "messages delivered (the keep-alive is not one)");
	check_got(0, M1, "UDP message");
	CHECK_EQ(got[0].from.proto, SIP_UDP, "from.proto");
	CHECK_TRUE(netaddr_equal(SA(&got[0].from.addr), SA(&cl)),
		   "from.addr is the sender's address and port");
	CHECK_TRUE(netaddr_equal(SA(&got[0].from.local), SA(&ls)),
		   "from.local is the listener");
	CHECK_EQ(got[0].from.conn, 0, "from.conn on UDP");
	st = stats();
	CHECK_EQ(st.rx_msgs, 1, "stats.rx_msgs");
	CHECK_EQ(st.rx_bytes, strlen(M1), "stats.rx_bytes");
	CHECK_EQ(st.tcp_open, 0, "stats.tcp_open");
}

static void test_udp_send(void **state)
{
	struct sockaddr_storage ls, dst, from;
	struct sip_peer to = { .proto = SIP_UDP };
	char buf[2048];
	ssize_t n;
	int c;

	(void)state;
	new_tp();
	ls = listen_on("127.0.0.1", SIP_UDP);
	c = udp_sock("127.0.0.1");
	dst = sock_name(c);
	to.addr = dst;
	CHECK_EQ(tp_send(tp, &to, M2, strlen(M2)), 0, "tp_send udp");
	n = udp_recv(c, buf, sizeof(buf), &from);
	CHECK_EQ(n, strlen(M2), "datagram length at the plain socket");
	CHECK_MEM(buf, M2, strlen(M2), "datagram bytes");
	CHECK_TRUE(netaddr_equal(SA(&from), SA(&ls)),
		   "the datagram leaves from the listening socket");
	CHECK_EQ(stats().tx_msgs, 1, "stats.tx_msgs");
	CHECK_EQ(stats().tx_bytes, strlen(M2), "stats.tx_bytes");

	/* Nothing listens on IPv6 UDP here: an error, counted. */
	to.addr = addr_of("::1", netaddr_port(SA(&dst)));
	CHECK_EQ(tp_send(tp, &to, M2, strlen(M2)), -1,
		 "tp_send udp to ::1 with no IPv6 UDP socket");
	CHECK_EQ(stats().send_errors, 1, "stats.send_errors");
	CHECK_EQ(stats().tx_msgs, 1, "stats.tx_msgs after the failed send");
}

static void test_udp6(void **state)
{
	struct sockaddr_storage ls, cl, from;
	char err[256] = "", buf[2048];
	ssize_t n;
	int port, c;

	(void)state;
	port = free_port("::1", SOCK_DGRAM);
	if (port <= 0) {
		skip(); /* no IPv6 loopback in this environment */
		return;
	}
	new_tp();
	ls = addr_of("::1", port);
	if (tp_listen(tp, SIP_UDP, SA(&ls), err, sizeof(err)) != 0)
		fail_msg("tp_listen [::1]:%d: %s", port, err);
	c = udp_sock("::1");
	cl = sock_name(c);
	CHECK_EQ(sendto(c, M1, strlen(M1), 0, SA(&ls), netaddr_len(SA(&ls))),
		 strlen(M1), "sendto [::1]");
	WAIT_FOR(ngot >= 1);
	CHECK_EQ(ngot, 1, "IPv6 messages delivered");
	check_got(0, M1, "IPv6 UDP message");
	CHECK_EQ(got[0].from.addr.ss_family, AF_INET6, "from.addr family");
	CHECK_TRUE(netaddr_equal(SA(&got[0].from.addr), SA(&cl)),
		   "from.addr is the IPv6 sender");
	CHECK_EQ(got[0].from.proto, SIP_UDP, "from.proto");

	/* The reply goes back out of the IPv6 socket. */
	CHECK_EQ(tp_send(tp, &got[0].from, M2, strlen(M2)), 0,
		 "tp_send to the IPv6 sender");
	n = udp_recv(c, buf, sizeof(buf), &from);
	CHECK_EQ(n, strlen(M2), "IPv6 reply length");
	CHECK_MEM(buf, M2, strlen(M2), "IPv6 reply bytes");
	CHECK_TRUE(netaddr_equal(SA(&from), SA(&ls)),
		   "the IPv6 reply comes from [::1]:listen port");
}

/* ---- TCP framing ------------------------------------------------------------ */

static void test_tcp_two_in_one_write(void **state)
{
	struct sockaddr_storage ls, cl;
	char both[2048];
	struct tp_stats st;
	int c;

	(void)state;
	new_tp();
	ls = listen_on("127.0.0.1", SIP_TCP);
	c = tcp_client(&ls);
	cl = sock_name(c);
	snprintf(both, sizeof(both), "%s%s", M1, M2);
	send_str(c, both); /* one write, two messages */
	WAIT_FOR(ngot >= 2);
	pump_for(QUIET_MS);
	CHECK_EQ(ngot, 2, "messages from one write");
	check_got(0, M1, "first message");
	check_got(1, M2, "second message");
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(got[i].from.proto, SIP_TCP, "from.proto");
		CHECK_TRUE(netaddr_equal(SA(&got[i].from.addr), SA(&cl)),
			   "from.addr is the client's address and port");
		CHECK_TRUE(netaddr_equal(SA(&got[i].from.local), SA(&ls)),
			   "from.local is the listening address");
		CHECK_TRUE(got[i].from.conn != 0, "from.conn is set");
	}
	CHECK_EQ(got[1].from.conn, got[0].from.conn,
		 "both messages came on the same connection");
	st = stats();
	CHECK_EQ(st.tcp_accepted, 1, "stats.tcp_accepted");
	CHECK_EQ(st.tcp_open, 1, "stats.tcp_open");
	CHECK_EQ(st.rx_msgs, 2, "stats.rx_msgs");
	CHECK_EQ(st.rx_bytes, strlen(M1) + strlen(M2), "stats.rx_bytes");
	CHECK_EQ(peer_state(c, 0), 0, "the connection stays open");
}

static void test_tcp_split_writes(void **state)
{
	static const char msg[] =
		"MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\n"
		"Call-ID: split\r\n"
		"Content-Type: text/plain\r\n"
		"Content-Length: 26\r\n"
		"\r\n"
		"abcdefghijklmnopqrstuvwxyz";
	/* Cut inside a header name, inside the blank line, in the body. */
	const size_t cuts[] = {
		10,                                /* request line */
		strstr(msg, "Length") - msg + 3,   /* "Content-Len|gth" */
		strstr(msg, "\r\n\r\n") - msg + 3, /* "\r\n\r|\n" */
		strstr(msg, "\r\n\r\n") - msg + 4, /* headers, no body */
		strlen(msg) - 10,                  /* body split */
		strlen(msg),
	};
	struct sockaddr_storage ls;
	size_t from = 0;
	int c;

	(void)state;
	new_tp();
	ls = listen_on("127.0.0.1", SIP_TCP);
	c = tcp_client(&ls);
	CHECK_EQ(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
			    sizeof(int)), 0, "TCP_NODELAY");
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		char what[96];

		CHECK_EQ(send_all(c, msg + from, cuts[i] - from),
			 cuts[i] - from, "client write of one piece");
		from = cuts[i];
		if (from < strlen(msg)) {
			pump_for(QUIET_MS / 2);
			snprintf(what, sizeof(what),
				 "callbacks after %zu of %zu bytes", from,
				 strlen(msg));
			CHECK_EQ(ngot, 0, what);
		}
	}
	WAIT_FOR(ngot >= 1);
	pump_for(QUIET_MS);
	CHECK_EQ(ngot, 1, "callbacks once the message is whole");
	check_got(0, msg, "split message");
	CHECK_EQ(stats().tcp_accepted, 1, "one connection for all pieces");
}

static void test_tcp_content_length_forms(void **state)
{
	/* Every body holds what would frame as a message if the length were
	 * wrong; each message is followed by another one. */
	static const char *const msgs[] = {
		"MESSAGE sip:b@h SIP/2.0\r\nContent-Length: 5\r\n\r\nhello",
		"MESSAGE sip:b@h SIP/2.0\r\nl: 8\r\n\r\nA\r\n\r\nB\r\n",
		"MESSAGE sip:b@h SIP/2.0\r\nL:3\r\n\r\nxyz",
		"MESSAGE sip:b@h SIP/2.0\r\ncontent-length  :   4  \r\n\r\n1234",
		"MESSAGE sip:b@h SIP/2.0\r\nCONTENT-LENGTH:\t2\r\n\r\nok",
		"SIP/2.0 200 OK\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n",
		"MESSAGE sip:b@h SIP/2.0\r\nX-L: 99\r\nContent-Length: 1\r\n"
		"\r\nZ",
	};
	const size_t n = sizeof(msgs) / sizeof(msgs[0]);
	struct sockaddr_storage ls;
	char all[4096] = "";
	int c;

	(void)state;
	new_tp();
	ls = listen_on("127.0.0.1", SIP_TCP);
	c = tcp_client(&ls);
	for (size_t i = 0; i < n; i++)
		strcat(all, msgs[i]);
	send_str(c, all);
	WAIT_FOR(ngot >= (int)n);
	pump_for(QUIET_MS);
	CHECK_EQ(ngot, n, "messages delivered");
	for (size_t i = 0; i < n; i++) {
		char what[64];

		snprintf(what, sizeof(what), "message %zu", i);
		check_got((int)i, msgs[i], what);
	}
	CHECK_EQ(stats().oversized, 0, "stats.oversized");
	CHECK_EQ(peer_state(c, 0), 0, "the connection stays open");
}

static void test_tcp_keepalives(void **state)
{
	struct sockaddr_storage ls;
	char stream[2048];
	int c;

	(void)state;
	new_tp();
	ls = listen_on("127.0.0.1", SIP_TCP);
	c = tcp_client(&ls);
	/* A keep-alive alone: no message, the connection stays. */
	send_str(c, "\r\n\r\n");
	pump_for(QUIET_MS);
	CHECK_EQ(ngot, 0, "messages from a keep-alive alone");
	CHECK_EQ(stats().tcp_open, 1, "the connection is open");
	/* Keep-alives before, between and after messages; one split. */
	snprintf(stream, sizeof(stream), "\r\n%s\r\n\r\n\r\n%s\r", M1, M2);
	send_str(c, stream);
	pump_for(QUIET_MS / 2);
	send_str(c, "\n\r\n");
	send_str(c, M3);
	WAIT_FOR(ngot >= 3);
	pump_for(QUIET_MS);
	CHECK_EQ(ngot, 3, "messages around keep-alives");
	check_got(0, M1, "message after a keep-alive");
	check_got(1, M2, "message between keep-alives");
	check_got(2, M3, "message after a split keep-alive");
	CHECK_EQ(stats().rx_bytes, strlen(M1) + strlen(M2) + strlen(M3),
		 "stats.rx_bytes counts no keep-alive");
	CHECK_EQ(stats().tcp_open, 1, "the connection is still open");
	CHECK_EQ(peer_state(c, 0), 0, "the client sees no close");
}

static void test_tcp_no_content_length(void **state)
{
	static const char bare[] = REQ("bare", "");
	struct sockaddr_storage ls;
	char stream[2048];
	int c;

	(void)state;
	new_tp();
	ls = listen_on("127.0.0.1", SIP_TCP);
	c = tcp_client(&ls);
	/* Without Content-Length the message ends at the blank line: what
	 * follows is the next message, not a body. */
	snprintf(stream, sizeof(stream), "%s%s", bare, M2);
	send_str(c, stream);
	WAIT_FOR(ngot >= 2);
	pump_for(QUIET_MS);
	CHECK_EQ(ngot, 2, "messages");
	check_got(0, bare, "message without Content-Length");
	check_got(1, M2, "the message after it");
}

/* The largest message is delivered; one byte more closes. */
static char *sized_msg(size_t total)
{
	char hdr[128], *m;
	size_t hlen, body;

	/* The Content-Length is 5 digits for both sizes used. */
	hlen = (size_t)snprintf(hdr, sizeof(hdr),
				"MESSAGE sip:b@h SIP/2.0\r\nContent-Length: "
				"%05zu\r\n\r\n", (size_t)0);
	body = total - hlen;
	snprintf(hdr, sizeof(hdr), "MESSAGE sip:b@h SIP/2.0\r\nContent-Length: "
		 "%05zu\r\n\r\n", body);
	m = malloc(total + 1);
	CHECK_TRUE(m != NULL, "malloc");
	memcpy(m, hdr, hlen);
	for (size_t i = 0; i < body; i++)
		m[hlen + i] = (char)('a' + i % 26);
	m[total] = 0;
	return m;
}

static void test_tcp_max_size(void **state)
{
	struct sockaddr_storage ls;
	char *m;
	int c;

	(void)state;
	new_tp();
	ls = listen_on("127.0.0.1", SIP_TCP);
	c = tcp_client(&ls);
	m = sized_msg(TP_MAX_MSG);
	CHECK_EQ(send_all(c, m, TP_MAX_MSG), TP_MAX_MSG, "write 64 KiB");
	send_str(c, M1);
	WAIT_FOR(ngot >= 2);
	CHECK_EQ(ngot, 2, "the largest message and the next one");
	CHECK_EQ(got[0].len, TP_MAX_MSG, "the largest message's length");
	CHECK_TRUE(got[0].buf && memcmp(got[0].buf, m, TP_MAX_MSG) == 0,
		   "the largest message's bytes");
	CHECK_TRUE(got[0].nul, "NUL after the largest message");
	check_got(1, M1, "message after the largest one");
	CHECK_EQ(stats().oversized, 0, "stats.oversized");
	free(m);
}

/* Each stream breaks the connection: the client sees it closed, no
 * message is delivered, stats.oversized counts it. */
static void check_broken(const char *stream, size_t len, const char *what,
			 int eof_only)
{
	struct sockaddr_storage ls;
	struct tp_stats st;
	char w[160];
	int c, state;

	new_tp();
	ls = listen_on("127.0.0.1", SIP_TCP);
	c = tcp_client(&ls);
	send_all(c, stream, len); /* may stop short: the transport closed */
	WAIT_FOR(stats().tcp_closed >= 1);
	st = stats();
	snprintf(w, sizeof(w), "%s: stats.oversized", what);
	CHECK_EQ(st.oversized, 1, w);
	snprintf(w, sizeof(w), "%s: stats.tcp_closed", what);
	CHECK_EQ(st.tcp_closed, 1, w);
	snprintf(w, sizeof(w), "%s: stats.tcp_open", what);
	CHECK_EQ(st.tcp_open, 0, w);
	snprintf(w, sizeof(w), "%s: messages delivered", what);
	CHECK_EQ(ngot, 0, w);
	state = peer_state(c, WAIT_MS);
	snprintf(w, sizeof(w), "%s: the client sees the connection closed",
		 what);
	/* The transport read all a header-only stream: a FIN. A flood it
	 * stopped reading may be reset instead. */
	if (eof_only)
		CHECK_EQ(state, 1, w);
	else
		CHECK_TRUE(state == 1 || state == 2, w);
	teardown(NULL);
}

static void test_tcp_oversized(void **state)
{
	char *m;
	size_t flood = TP_MAX_MSG + 5000;

	(void)state;
	/* Headers that never end. */
	m = malloc(flood);
	CHECK_TRUE(m != NULL, "malloc");
	memset(m, 'h', flood);
	check_broken(m, flood, "64 KiB of headers without a blank line", 0);
	free(m);
	/* A whole message one byte over the limit. */
	m = sized_msg(TP_MAX_MSG + 1);
	check_broken(m, TP_MAX_MSG + 1, "a message of TP_MAX_MSG + 1 bytes", 0);
	free(m);
	/* Announced bodies over the limit: closed at the header. */
	check_broken(REQ("big", "Content-Length: 70000\r\n"),
		     strlen(REQ("big", "Content-Length: 70000\r\n")),
		     "Content-Length 70000", 1);
	check_broken(REQ("big", "l: 65535\r\n"),
		     strlen(REQ("big", "l: 65535\r\n")),
		     "Content-Length 65535 (headers + body over the limit)", 1);
}

static void test_tcp_bad_content_length(void **state)
{
	static const struct {
		const char *msg, *why;
	} bad[] = {
		{ REQ("bad", "Content-Length: -1\r\n"), "negative" },
		{ REQ("bad", "Content-Length: 99999999999999999999999\r\n"),
		  "beyond a long" },
		{ REQ("bad", "Content-Length: 18446744073709551617\r\n"),
		  "2^64 + 1" },
		{ REQ("bad", "Content-Length: abc\r\n"), "not a number" },
		{ REQ("bad", "l: 12x\r\n"), "trailing garbage" },
		{ REQ("bad", "Content-Length: \r\n"), "empty" },
		/* The last header's empty value: the digits that follow the
		 * blank line are body, not the length. */
		{ "MESSAGE sip:b@h SIP/2.0\r\nContent-Length:\r\n\r\n0123",
		  "empty, before a body of digits" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[96];

		snprintf(what, sizeof(what), "Content-Length %s", bad[i].why);
		check_broken(bad[i].msg, strlen(bad[i].msg), what, 1);
	}
}

/* ---- TCP: sending ------------------------------------------------------------ */

static void test_tcp_reply_same_conn(void **state)
{
	struct sockaddr_storage ls;
	struct sip_peer to;
	char buf[2048];
	int c;

	(void)state;
	new_tp();
	ls = listen_on("127.0.0.1", SIP_TCP);
	c = tcp_client(&ls);
	send_str(c, M1);
	WAIT_FOR(ngot >= 1);
	CHECK_EQ(ngot, 1, "the request");
	to = got[0].from;
	CHECK_EQ(tp_send(tp, &to, M2, strlen(M2)), 0, "tp_send on conn");
	CHECK_EQ(recv_all(c, buf, strlen(M2)), strlen(M2),
		 "reply bytes at the client");
	CHECK_MEM(buf, M2, strlen(M2), "reply on the same connection");

	/* The connection id wins over the address. */
	to = got[0].from;
	netaddr_set_port(SA(&to.addr), netaddr_port(SA(&to.addr)) ^ 1);
	CHECK_EQ(tp_send(tp, &to, M3, strlen(M3)), 0,
		 "tp_send on conn, other address");
	CHECK_EQ(recv_all(c, buf, strlen(M3)), strlen(M3),
		 "reply by id at the client");
	CHECK_MEM(buf, M3, strlen(M3), "the reply by id");

	/* An unknown id with the connection's address: the connection to
	 * that address. */
	to = got[0].from;
	to.conn = got[0].from.conn + 1000;
	CHECK_EQ(tp_send(tp, &to, M1, strlen(M1)), 0,
		 "tp_send on a stale id");
	CHECK_EQ(recv_all(c, buf, strlen(M1)), strlen(M1),
		 "reply by address at the client");
	CHECK_MEM(buf, M1, strlen(M1), "the reply by address");

	pump_for(QUIET_MS);
	CHECK_EQ(stats().tcp_accepted, 1, "stats.tcp_accepted");
	CHECK_EQ(stats().tcp_open, 1, "no connection was opened");
	CHECK_EQ(stats().tx_msgs, 3, "stats.tx_msgs");
	CHECK_EQ(stats().tx_bytes, strlen(M1) + strlen(M2) + strlen(M3),
		 "stats.tx_bytes");
}

static void test_tcp_open_on_demand(void **state)
{
	struct sockaddr_storage where;
	struct sip_peer to = { .proto = SIP_TCP };
	char both[2048], buf[2048];
	long long end;
	int l, a = -1;

	(void)state;
	new_tp();
	l = tcp_listener("127.0.0.1", &where);
	to.addr = where;
	/* Two sends before the connection is up: both wait for it. */
	CHECK_EQ(tp_send(tp, &to, M1, strlen(M1)), 0, "first tp_send");
	CHECK_EQ(tp_send(tp, &to, M2, strlen(M2)), 0, "second tp_send");
	CHECK_EQ(stats().tcp_open, 1, "one connection for both sends");
	for (end = now_ms() + WAIT_MS; a < 0 && now_ms() < end;) {
		a = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (a < 0)
			pump_fd(l, 50);
	}
	CHECK_TRUE(a >= 0, "the plain listener accepts the connection");
	track(a);
	snprintf(both, sizeof(both), "%s%s", M1, M2);
	CHECK_EQ(recv_all(a, buf, strlen(both)), strlen(both),
		 "bytes at the accepted socket");
	CHECK_MEM(buf, both, strlen(both), "both messages, in order");

	/* Once connected, a third send reuses the connection. */
	CHECK_EQ(tp_send(tp, &to, M3, strlen(M3)), 0, "third tp_send");
	CHECK_EQ(recv_all(a, buf, strlen(M3)), strlen(M3),
		 "third message at the accepted socket");
	CHECK_MEM(buf, M3, strlen(M3), "third message");
	pump_for(QUIET_MS);
	CHECK_EQ(accept(l, NULL, NULL), -1, "no second connection");
	CHECK_EQ(stats().tcp_open, 1, "stats.tcp_open");
	CHECK_EQ(stats().tcp_accepted, 0, "stats.tcp_accepted (outbound only)");

	/* What the far end sends on it is received, from that address. */
	send_str(a, M1);
	WAIT_FOR(ngot >= 1);
	CHECK_EQ(ngot, 1, "a message on the opened connection");
	check_got(0, M1, "message on the opened connection");
	CHECK_EQ(got[0].from.proto, SIP_TCP, "from.proto");
	CHECK_TRUE(got[0].from.conn != 0, "from.conn");
	CHECK_TRUE(netaddr_equal(SA(&got[0].from.addr), SA(&where)),
		   "from.addr is the address we connected to");
	{
		struct sockaddr_storage peer;
		socklen_t sl = sizeof(peer);

		CHECK_EQ(getpeername(a, SA(&peer), &sl), 0, "getpeername");
		CHECK_TRUE(netaddr_equal(SA(&got[0].from.local), SA(&peer)),
			   "from.local is the connection's own end");
	}
}

static void test_tcp_connect_refused(void **state)
{
	struct sip_peer to = { .proto = SIP_TCP };
	int port;

	(void)state;
	new_tp();
	port = free_port("127.0.0.1", SOCK_STREAM); /* nothing listens */
	CHECK_TRUE(port > 0, "a free port");
	to.addr = addr_of("127.0.0.1", port);
	CHECK_EQ(tp_send(tp, &to, M1, strlen(M1)), 0,
		 "tp_send queues while connecting");
	CHECK_EQ(stats().tcp_open, 1, "the connection is being opened");
	WAIT_FOR(stats().tcp_closed >= 1);
	CHECK_EQ(stats().tcp_closed, 1, "the refused connection is closed");
	CHECK_EQ(stats().tcp_open, 0, "stats.tcp_open");
}

static void test_tcp_peer_close(void **state)
{
	struct sockaddr_storage ls;
	int c, c2;

	(void)state;
	new_tp();
	ls = listen_on("127.0.0.1", SIP_TCP);
	c = tcp_client(&ls);
	c2 = tcp_client(&ls);
	send_str(c, M1);
	WAIT_FOR(ngot >= 1 && stats().tcp_accepted >= 2);
	CHECK_EQ(stats().tcp_open, 2, "two connections open");
	untrack_close(c);
	WAIT_FOR(stats().tcp_closed >= 1);
	CHECK_EQ(stats().tcp_closed, 1, "stats.tcp_closed after the peer closed");
	CHECK_EQ(stats().tcp_open, 1, "stats.tcp_open");
	CHECK_EQ(stats().oversized, 0, "a close is not a broken stream");
	/* The other connection still works. */
	send_str(c2, M2);
	WAIT_FOR(ngot >= 2);
	CHECK_EQ(ngot, 2, "a message on the other connection");
	check_got(1, M2, "message on the other connection");
	CHECK_TRUE(got[1].from.conn != got[0].from.conn,
		   "the connections have different ids");
	untrack_close(c2);
	WAIT_FOR(stats().tcp_closed >= 2);
	CHECK_EQ(stats().tcp_closed, 2, "stats.tcp_closed");
	CHECK_EQ(stats().tcp_open, 0, "stats.tcp_open");
}

/* The callback answers at once, on a connection the peer has reset: the send
 * fails inside the callback, and the transport must not use the connection
 * after it is gone (ASan watches). */
static void test_tcp_reply_to_reset_peer(void **state)
{
	struct sockaddr_storage ls;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char both[2048];
	int c;

	(void)state;
	new_tp();
	ls = listen_on("127.0.0.1", SIP_TCP);
	c = tcp_client(&ls);
	WAIT_FOR(stats().tcp_accepted >= 1);
	snprintf(both, sizeof(both), "%s%s", M1, M2);
	send_str(c, both);
	CHECK_EQ(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0,
		 "SO_LINGER 0");
	untrack_close(c); /* a reset, right behind the two messages */
	reply_with = M3;
	WAIT_FOR(stats().tcp_closed >= 1);
	pump_for(QUIET_MS);
	CHECK_TRUE(ngot >= 1, "the first message is delivered");
	check_got(0, M1, "the message before the reset");
	CHECK_EQ(reply_rc, -1, "the reply to a reset peer fails");
	CHECK_EQ(stats().tcp_closed, 1, "stats.tcp_closed");
	CHECK_EQ(stats().tcp_open, 0, "stats.tcp_open");
	CHECK_TRUE(stats().send_errors >= 1, "stats.send_errors");
}

/* ---- local addresses ------------------------------------------------------------ */

static void test_local_for(void **state)
{
	struct sockaddr_storage udp, tcp, out, rem;

	(void)state;
	new_tp();
	udp = listen_on("0.0.0.0", SIP_UDP);
	tcp = listen_on("0.0.0.0", SIP_TCP);
	rem = addr_of("127.0.0.1", 5060);
	memset(&out, 0, sizeof(out));
	CHECK_EQ(tp_local_for(tp, SIP_UDP, SA(&rem), &out), 0,
		 "tp_local_for udp toward 127.0.0.1");
	{
		struct sockaddr_storage exp =
			addr_of("127.0.0.1", netaddr_port(SA(&udp)));

		CHECK_TRUE(netaddr_equal(SA(&out), SA(&exp)),
			   "udp: 127.0.0.1 and the UDP listen port");
	}
	memset(&out, 0, sizeof(out));
	CHECK_EQ(tp_local_for(tp, SIP_TCP, SA(&rem), &out), 0,
		 "tp_local_for tcp toward 127.0.0.1");
	{
		struct sockaddr_storage exp =
			addr_of("127.0.0.1", netaddr_port(SA(&tcp)));

		CHECK_TRUE(netaddr_equal(SA(&out), SA(&exp)),
			   "tcp: 127.0.0.1 and the TCP listen port");
	}
	rem = addr_of("::1", 5060);
	CHECK_EQ(tp_local_for(tp, SIP_UDP, SA(&rem), &out), -1,
		 "tp_local_for toward ::1 with no IPv6 listener");

	/* A listener on one address gives that address as it is. */
	new_tp();
	udp = listen_on("127.0.0.1", SIP_UDP);
	rem = addr_of("127.0.0.1", 5060);
	CHECK_EQ(tp_local_for(tp, SIP_UDP, SA(&rem), &out), 0,
		 "tp_local_for, specific listener");
	CHECK_TRUE(netaddr_equal(SA(&out), SA(&udp)),
		   "the specific listener's address and port");
	CHECK_EQ(tp_local_for(tp, SIP_TCP, SA(&rem), &out), -1,
		 "tp_local_for tcp with only a UDP listener");
}

static void test_is_local(void **state)
{
	struct sockaddr_storage ls, a;
	int port;

	(void)state;
	new_tp();
	ls = listen_on("127.0.0.1", SIP_UDP);
	port = netaddr_port(SA(&ls));
	CHECK_TRUE(tp_is_local(tp, SA(&ls)), "the listen address and port");
	a = addr_of("127.0.0.1", port == 65535 ? port - 1 : port + 1);
	CHECK_TRUE(!tp_is_local(tp, SA(&a)), "127.0.0.1, another port");
	a = addr_of("192.0.2.1", port);
	CHECK_TRUE(!tp_is_local(tp, SA(&a)), "another address, same port");
	a = addr_of("::1", port);
	CHECK_TRUE(!tp_is_local(tp, SA(&a)), "::1, same port (IPv4 listener)");

	/* A wildcard listener: any of the host's addresses on its port. */
	new_tp();
	ls = listen_on("0.0.0.0", SIP_TCP);
	port = netaddr_port(SA(&ls));
	a = addr_of("127.0.0.1", port);
	CHECK_TRUE(tp_is_local(tp, SA(&a)), "127.0.0.1 on a wildcard's port");
	a = addr_of("127.0.0.1", port == 65535 ? port - 1 : port + 1);
	CHECK_TRUE(!tp_is_local(tp, SA(&a)), "127.0.0.1 on another port");
	a = addr_of("192.0.2.1", port); /* TEST-NET-1: not this host's */
	CHECK_TRUE(!tp_is_local(tp, SA(&a)), "a remote address, same port");
}

/* An IPv4 address of this host other than loopback; -1 if none. Only used
 * as a question to tp_is_local: no traffic goes to it. */
static int host_ipv4(char *buf, size_t len)
{
	struct ifaddrs *ifa, *i;
	int rc = -1;

	if (getifaddrs(&ifa) < 0)
		return -1;
	for (i = ifa; i && rc < 0; i = i->ifa_next) {
		struct sockaddr_in *sin = (struct sockaddr_in *)i->ifa_addr;

		if (!sin || sin->sin_family != AF_INET ||
		    !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK) ||
		    (ntohl(sin->sin_addr.s_addr) >> 24) == 127)
			continue;
		inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)len);
		rc = 0;
	}
	freeifaddrs(ifa);
	return rc;
}

/* Two listeners of one proto and family, the first on 127.0.0.1, the second
 * a wildcard: the host's other address on the wildcard's port is local. */
static void test_is_local_mixed(void **state)
{
	struct sockaddr_storage wild, a;
	char ip[64];

	(void)state;
	if (host_ipv4(ip, sizeof(ip)) < 0) {
		skip(); /* no non-loopback IPv4 address to ask about */
		return;
	}
	new_tp();
	listen_on("127.0.0.1", SIP_UDP);
	wild = listen_on("0.0.0.0", SIP_UDP);
	a = addr_of(ip, netaddr_port(SA(&wild)));
	CHECK_TRUE(tp_is_local(tp, SA(&a)),
		   "the host's address on the wildcard listener's port");
	a = addr_of("127.0.0.1", netaddr_port(SA(&wild)));
	CHECK_TRUE(tp_is_local(tp, SA(&a)),
		   "127.0.0.1 on the wildcard listener's port");
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int main(void)
{
	static const struct CMUnitTest tests[] = {
		T(test_udp_receive),
		T(test_udp_send),
		T(test_udp6),
		T(test_tcp_two_in_one_write),
		T(test_tcp_split_writes),
		T(test_tcp_content_length_forms),
		T(test_tcp_keepalives),
		T(test_tcp_no_content_length),
		T(test_tcp_max_size),
		T(test_tcp_oversized),
		T(test_tcp_bad_content_length),
		T(test_tcp_reply_same_conn),
		T(test_tcp_open_on_demand),
		T(test_tcp_connect_refused),
		T(test_tcp_peer_close),
		T(test_tcp_reply_to_reset_peer),
		T(test_local_for),
		T(test_is_local),
		T(test_is_local_mixed),
	};

	log_set_level(LOG_ERR); /* the transport's warnings are expected */
	return cmocka_run_group_tests_name("test_transport", tests, NULL, NULL);
}
