// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * SIP capture in HEPv3 (sip/hep.c and its hooks in sip/b2bua.c).
 *
 * The encoder: known messages are encoded, then taken apart again by the
 * small decoder below (written from the HEP3 specification, not from
 * hep.c), which checks the framing (magic, total length, every chunk's
 * vendor, type, length and value size, no chunk twice) and returns the
 * fields; every field is checked, for IPv4 and IPv6, UDP and TCP, with and
 * without the optional chunks.
 *
 * The B2BUA: a real UDP transport on 127.0.0.1, the media engine in socket
 * mode on "lo", the collector a UDP socket of this test. Bob registers,
 * alice calls him, bob rings: every message received and sent must come
 * out as one HEP packet, in order, with its bytes, addresses and ports, and
 * the B leg's (both directions) with the A leg's Call-ID in chunk 0x0011.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "b2bua.h"
#include "hep.h"
#include "media.h"
#include "netaddr.h"
#include "registrar.h"
#include "route.h"
#include "sipmsg.h"
#include "transport.h"
#include "check.h"
#include "b2bua_fixture.h"

#define DOMAIN "xrelay.test"
#define PORT_MIN 41000
#define PORT_MAX 41999

/* ---- a HEP3 decoder ------------------------------------------------------ */

struct hep_dec {
	int count[0x20];                 /* chunks seen, by type */
	uint8_t family, proto, ptype;
	uint8_t src[16], dst[16];        /* 4 bytes for IPv4 */
	uint16_t sport, dport;
	uint32_t sec, usec, capture_id;
	char auth[256], corr[256];
	const uint8_t *payload;
	size_t plen;
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* 0, or -1 with why. */
static int hep_decode(const uint8_t *b, size_t n, struct hep_dec *d,
		      char *why, size_t whylen)
{
	size_t off = 6;

	memset(d, 0, sizeof(*d));
	if (n < 6 || memcmp(b, "HEP3", 4)) {
		snprintf(why, whylen, "no \"HEP3\" magic");
		return -1;
	}
	if (be16(b + 4) != n) {
		snprintf(why, whylen, "total length %u, packet %zu bytes",
			 be16(b + 4), n);
		return -1;
	}
	while (off < n) {
		uint16_t vendor, type, len;
		const uint8_t *v;
		size_t vlen, want = 0;

		if (n - off < 6) {
			snprintf(why, whylen, "a chunk head cut at %zu", off);
			return -1;
		}
		vendor = be16(b + off);
		type = be16(b + off + 2);
		len = be16(b + off + 4);
		if (vendor != 0 || len < 6 || len > n - off) {
			snprintf(why, whylen, "chunk at %zu: vendor %u, type "
				 "0x%04x, length %u", off, vendor, type, len);
			return -1;
		}
		v = b + off + 6;
		vlen = len - 6u;
		off += len;
		if (type >= 0x20 || d->count[type]++) {
			snprintf(why, whylen, "chunk type 0x%04x unknown or "
				 "twice", type);
			return -1;
		}
		switch (type) {
		case 0x0001: case 0x0002: case 0x000b:
			want = 1;
			break;
		case 0x0007: case 0x0008:
			want = 2;
			break;
		case 0x0003: case 0x0004: case 0x0009: case 0x000a:
		case 0x000c:
			want = 4;
			break;
		case 0x0005: case 0x0006:
			want = 16;
			break;
		case 0x000e: case 0x000f: case 0x0011:
			want = vlen;
			break;
		default:
			snprintf(why, whylen, "chunk type 0x%04x unexpected",
				 type);
			return -1;
		}
		if (vlen != want) {
			snprintf(why, whylen, "chunk 0x%04x: %zu value bytes, "
				 "expected %zu", type, vlen, want);
			return -1;
		}
		switch (type) {
		case 0x0001: d->family = v[0]; break;
		case 0x0002: d->proto = v[0]; break;
		case 0x000b: d->ptype = v[0]; break;
		case 0x0003: case 0x0005: memcpy(d->src, v, vlen); break;
		case 0x0004: case 0x0006: memcpy(d->dst, v, vlen); break;
		case 0x0007: d->sport = be16(v); break;
		case 0x0008: d->dport = be16(v); break;
		case 0x0009: d->sec = be32(v); break;
		case 0x000a: d->usec = be32(v); break;
		case 0x000c: d->capture_id = be32(v); break;
		case 0x000e:
			snprintf(d->auth, sizeof(d->auth), "%.*s", (int)vlen, v);
			break;
		case 0x0011:
			snprintf(d->corr, sizeof(d->corr), "%.*s", (int)vlen, v);
			break;
		case 0x000f:
			d->payload = v;
			d->plen = vlen;
			break;
		}
	}
	return 0;
}

/* Decode or fail the test. */
static void decode(const uint8_t *b, int n, struct hep_dec *d,
		   const char *what)
{
	char why[160] = "", w[256];

	CHECK_TRUE(n > 0, what);
	if (hep_decode(b, (size_t)n, d, why, sizeof(why)) < 0) {
		snprintf(w, sizeof(w), "%s: decodes (%s)", what, why);
		CHECK_TRUE(0, w);
	}
}

/* The address (IPv4 or IPv6 by ss's family) and port of a decoded side. */
static void check_side(const uint8_t *ip, uint16_t port, const char *exp,
		       const char *what)
{
	struct sockaddr_storage ss;
	char w[160];

	CHECK_EQ(netaddr_parse(exp, -1, &ss), 0, "a valid expected address");
	snprintf(w, sizeof(w), "%s: address %s", what, exp);
	if (ss.ss_family == AF_INET)
		CHECK_MEM(ip, &((struct sockaddr_in *)&ss)->sin_addr, 4, w);
	else
		CHECK_MEM(ip, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16, w);
	snprintf(w, sizeof(w), "%s: port of %s", what, exp);
	CHECK_EQ(port, netaddr_port((struct sockaddr *)&ss), w);
}

/* ---- the encoder --------------------------------------------------------- */

#define INVITE_MSG \
	"INVITE sip:bob@example.net SIP/2.0\r\n" \
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n" \
	"Call-ID: b-leg-1@relay\r\nContent-Length: 0\r\n\r\n"

static struct sockaddr_storage addr(const char *s)
{
	struct sockaddr_storage ss;

	if (netaddr_parse(s, -1, &ss) < 0)
		abort();
	return ss;
}

static void test_encode_ipv4(void **state)
{
	struct sockaddr_storage src = addr("192.0.2.1:5060");
	struct sockaddr_storage dst = addr("198.51.100.2:5080");
	struct hep_rec r = {
		.proto = SIP_UDP,
		.src = (struct sockaddr *)&src, .dst = (struct sockaddr *)&dst,
		.time_us = 1700000000123456ull, .capture_id = 2001,
		.auth_key = "s3cret", .correlation_id = "a-leg-1@phone",
		.payload = INVITE_MSG, .len = strlen(INVITE_MSG),
	};
	/* The head and the first chunk, byte for byte (HEP3 figure 1). */
	static const uint8_t head[] = {
		'H', 'E', 'P', '3', 0, 0,  /* the length: checked below */
		0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 0x02, /* IP family: 2 */
		0x00, 0x00, 0x00, 0x02, 0x00, 0x07, 0x11, /* protocol: UDP */
	};
	uint8_t buf[2048];
	struct hep_dec d;
	int n;

	(void)state;
	n = hep_encode(&r, buf, sizeof(buf));
	decode(buf, n, &d, "IPv4 UDP");
	CHECK_MEM(buf, head, 4, "magic");
	CHECK_EQ(be16(buf + 4), n, "total length: the whole packet");
	CHECK_MEM(buf + 6, head + 6, sizeof(head) - 6,
		  "family and protocol chunks, byte for byte");
	CHECK_EQ(d.family, 2, "0x0001 IP family: IPv4 (2)");
	CHECK_EQ(d.proto, 17, "0x0002 protocol: UDP (17)");
	CHECK_EQ(d.count[0x0003] + d.count[0x0004], 2, "IPv4 addresses");
	CHECK_EQ(d.count[0x0005] + d.count[0x0006], 0, "no IPv6 address");
	check_side(d.src, d.sport, "192.0.2.1:5060", "0x0003/0x0007 source");
	check_side(d.dst, d.dport, "198.51.100.2:5080",
		   "0x0004/0x0008 destination");
	CHECK_EQ(d.sec, 1700000000, "0x0009 timestamp seconds");
	CHECK_EQ(d.usec, 123456, "0x000a timestamp microseconds");
	CHECK_EQ(d.ptype, 1, "0x000b protocol type: SIP (1)");
	CHECK_EQ(d.capture_id, 2001, "0x000c capture agent id");
	CHECK_STR(d.auth, "s3cret", "0x000e auth key");
	CHECK_STR(d.corr, "a-leg-1@phone", "0x0011 correlation id");
	CHECK_EQ(d.plen, strlen(INVITE_MSG), "0x000f payload length");
	CHECK_MEM(d.payload, INVITE_MSG, d.plen, "0x000f payload bytes");
	CHECK_EQ(n, 6 + 7 + 7 + 10 + 10 + 8 + 8 + 10 + 10 + 7 + 10 +
		 (6 + 6) + (6 + 13) + (6 + (int)strlen(INVITE_MSG)),
		 "nothing but these chunks");
}

static void test_encode_ipv6_tcp(void **state)
{
	struct sockaddr_storage src = addr("[2001:db8::1]:5061");
	struct sockaddr_storage dst = addr("[2001:db8:ffff::2]:40001");
	struct hep_rec r = {
		.proto = SIP_TCP,
		.src = (struct sockaddr *)&src, .dst = (struct sockaddr *)&dst,
		.time_us = 999999, .capture_id = 0xfedcba98u,
		.auth_key = "", .correlation_id = NULL,
		.payload = "SIP/2.0 200 OK\r\n\r\n", .len = 18,
	};
	uint8_t buf[512];
	struct hep_dec d;
	int n;

	(void)state;
	n = hep_encode(&r, buf, sizeof(buf));
	decode(buf, n, &d, "IPv6 TCP");
	CHECK_EQ(d.family, 10, "0x0001 IP family: IPv6 (10)");
	CHECK_EQ(d.proto, 6, "0x0002 protocol: TCP (6)");
	CHECK_EQ(d.count[0x0005] + d.count[0x0006], 2, "IPv6 addresses");
	CHECK_EQ(d.count[0x0003] + d.count[0x0004], 0, "no IPv4 address");
	check_side(d.src, d.sport, "[2001:db8::1]:5061",
		   "0x0005/0x0007 source");
	check_side(d.dst, d.dport, "[2001:db8:ffff::2]:40001",
		   "0x0006/0x0008 destination");
	CHECK_EQ(d.sec, 0, "0x0009 seconds");
	CHECK_EQ(d.usec, 999999, "0x000a microseconds");
	CHECK_EQ(d.capture_id, 0xfedcba98u, "0x000c: all 32 bits");
	CHECK_EQ(d.count[0x000e], 0, "no auth key: no 0x000e chunk");
	CHECK_EQ(d.count[0x0011], 0, "no correlation id: no 0x0011 chunk");
	CHECK_EQ(d.plen, 18, "0x000f payload length");
	CHECK_MEM(d.payload, "SIP/2.0 200 OK\r\n\r\n", 18, "0x000f payload");
}

static void test_encode_edges(void **state)
{
	struct sockaddr_storage src = addr("[2001:db8::1]:5060");
	struct sockaddr_storage none = { .ss_family = AF_UNSPEC };
	struct sockaddr_storage v4 = addr("192.0.2.1:5060");
	struct hep_rec r = {
		.proto = SIP_UDP, .src = (struct sockaddr *)&none,
		.dst = (struct sockaddr *)&src, .payload = "x", .len = 1,
	};
	static const uint8_t zero[16];
	static uint8_t big[HEP_MAX + 64];
	struct hep_dec d;
	int n;

	(void)state;
	n = hep_encode(&r, big, sizeof(big));
	decode(big, n, &d, "no source address");
	CHECK_EQ(d.family, 10, "the family of the address there is");
	CHECK_MEM(d.src, zero, 16, "the missing side: unspecified");
	CHECK_EQ(d.sport, 0, "the missing side: port 0");
	check_side(d.dst, d.dport, "[2001:db8::1]:5060", "the other side");

	r.src = (struct sockaddr *)&v4;
	n = hep_encode(&r, big, sizeof(big));
	decode(big, n, &d, "source IPv4, destination IPv6");
	CHECK_EQ(d.family, 2, "the source's family");
	CHECK_MEM(d.dst, zero, 4, "the other family's side: unspecified");

	r.dst = r.src = (struct sockaddr *)&none;
	CHECK_EQ(hep_encode(&r, big, sizeof(big)), -EAFNOSUPPORT,
		 "no address at all: refused");

	r.src = (struct sockaddr *)&v4;
	r.len = HEP_MAX;
	r.payload = (const char *)big + 64;
	CHECK_EQ(hep_encode(&r, big, sizeof(big)), -EMSGSIZE,
		 "a payload beyond the 16-bit total length");
	r.payload = INVITE_MSG;
	r.len = strlen(INVITE_MSG);
	CHECK_EQ(hep_encode(&r, big, 100), -EMSGSIZE, "a buffer too small");
	n = hep_encode(&r, big, sizeof(big));
	CHECK_TRUE(n > 100, "the same message fits a bigger buffer");
	CHECK_EQ(hep_encode(&r, big, (size_t)n), n, "an exact fit");
}

static void test_call_id(void **state)
{
	static const struct {
		const char *msg, *want;
	} cases[] = {
		{ "INVITE sip:a@b SIP/2.0\r\nVia: x\r\nCall-ID: abc@h\r\n\r\n",
		  "abc@h" },
		{ "BYE sip:a@b SIP/2.0\r\ncall-id   :\t  xyz  \r\n\r\n", "xyz" },
		{ "SIP/2.0 200 OK\r\ni: compact-1\r\nTo: <sip:a@b>\r\n\r\n",
		  "compact-1" },
		{ "SIP/2.0 200 OK\nI:bare-lf\n\n", "bare-lf" },
		{ "OPTIONS sip:a@b SIP/2.0\r\nCall-Info: <x>\r\n"
		  "Identity: y\r\nCall-ID: after\r\n\r\n", "after" },
		{ "MESSAGE sip:a@b SIP/2.0\r\nTo: x\r\n\r\nCall-ID: in-body\r\n",
		  "" },
		{ "Call-ID: start-line-only\r\n\r\n", "" },
		{ "INVITE sip:a@b SIP/2.0\r\nCall-ID:\r\n\r\n", "" },
		{ "INVITE sip:a@b SIP/2.0\r\nCall-ID: unterminated",
		  "unterminated" },
	};
	char out[32], w[96];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = hep_sip_call_id(cases[i].msg, strlen(cases[i].msg),
					   out, sizeof(out));

		snprintf(w, sizeof(w), "case %zu: Call-ID \"%s\"", i,
			 cases[i].want);
		CHECK_EQ(n, strlen(cases[i].want), w);
		if (n)
			CHECK_STR(out, cases[i].want, w);
	}
	CHECK_EQ(hep_sip_call_id("X y SIP/2.0\r\nCall-ID: "
				 "0123456789012345678901234567890123\r\n\r\n",
				 61, out, sizeof(out)), 0,
		 "a Call-ID longer than the buffer: none");
}

/* ---- the collector ------------------------------------------------------- */

static int collector_open(const char *ip, char *where, size_t wlen)
{
	struct sockaddr_storage ss = addr(ip);
	socklen_t sl = sizeof(ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	CHECK_TRUE(fd >= 0, "collector socket");
	CHECK_EQ(bind(fd, (struct sockaddr *)&ss,
		      netaddr_len((struct sockaddr *)&ss)), 0, "collector bind");
	CHECK_EQ(getsockname(fd, (struct sockaddr *)&ss, &sl), 0,
		 "collector address");
	netaddr_str((struct sockaddr *)&ss, where, wlen);
	return fd;
}

static void test_sender(void **state)
{
	struct sip_peer p = { .proto = SIP_UDP };
	struct hep *h = NULL;
	struct hep_stats st;
	struct hep_dec d;
	char where[NETADDR_STRLEN], err[256] = "";
	uint8_t buf[HEP_MAX];
	time_t now = time(NULL);
	int fd, n;

	(void)state;
	CHECK_EQ(hep_open(&h, "homer:9060", 1, "", err, sizeof(err)), -1,
		 "a host name is refused");
	CHECK_HAS(err, "hep_collector: 'homer:9060' is not an IP address and "
		  "port", "the error names the key and the value");
	CHECK_TRUE(h == NULL, "nothing opened");

	fd = collector_open("127.0.0.1:0", where, sizeof(where));
	CHECK_EQ(hep_open(&h, where, 77, "key-1", err, sizeof(err)), 0, err);
	p.addr = addr("127.0.0.5:5070");
	p.local = addr("127.0.0.1:5060");
	hep_capture(h, NULL, 0, &p, "corr-x", INVITE_MSG, strlen(INVITE_MSG));
	n = (int)recv(fd, buf, sizeof(buf), 0);
	decode(buf, n, &d, "a received message");
	check_side(d.src, d.sport, "127.0.0.5:5070", "received: from the peer");
	check_side(d.dst, d.dport, "127.0.0.1:5060", "received: to us");
	CHECK_EQ(d.capture_id, 77, "capture id as opened");
	CHECK_STR(d.auth, "key-1", "auth key as opened");
	CHECK_STR(d.corr, "corr-x", "correlation id as given");
	CHECK_TRUE(d.sec >= now - 5 && d.sec <= now + 5, "timestamp: now");
	CHECK_MEM(d.payload, INVITE_MSG, strlen(INVITE_MSG), "the payload");

	/* Sent, and our side not known: the unspecified address. */
	p.local.ss_family = AF_UNSPEC;
	hep_capture(h, NULL, 1, &p, NULL, "OPTIONS x SIP/2.0\r\n\r\n", 21);
	n = (int)recv(fd, buf, sizeof(buf), 0);
	decode(buf, n, &d, "a sent message");
	check_side(d.src, d.sport, "0.0.0.0:0", "sent: from us (unknown)");
	check_side(d.dst, d.dport, "127.0.0.5:5070", "sent: to the peer");
	CHECK_EQ(d.count[0x0011], 0, "no correlation id");

	/* Too big for HEP: counted, nothing sent, the next one goes. */
	static char huge[HEP_MAX];
	memset(huge, 'x', sizeof(huge));
	hep_capture(h, NULL, 1, &p, NULL, huge, sizeof(huge));
	CHECK_EQ(recv(fd, buf, sizeof(buf), 0), -1, "nothing sent");
	hep_stats(h, &st);
	CHECK_EQ(st.sent, 2, "two sent");
	CHECK_EQ(st.oversized, 1, "one too big");
	CHECK_EQ(st.send_errors, 0, "no send error");
	hep_free(h);
	close(fd);
}

/* The kernel refuses a broadcast without SO_BROADCAST (EACCES, or
 * ENETUNREACH on a host without a route): every capture is lost, counted,
 * and the daemon goes on. */
static void test_sender_errors(void **state)
{
	struct sip_peer p = { .proto = SIP_UDP };
	struct hep *h = NULL;
	struct hep_stats st;
	char err[256] = "";

	(void)state;
	CHECK_EQ(hep_open(&h, "255.255.255.255:9060", 1, NULL, err,
			  sizeof(err)), 0, err);
	p.addr = addr("127.0.0.5:5070");
	for (int i = 0; i < 3; i++)
		hep_capture(h, NULL, 1, &p, NULL, "x", 1);
	hep_stats(h, &st);
	CHECK_EQ(st.send_errors, 3, "every refused send counted");
	CHECK_EQ(st.sent, 0, "nothing sent");
	hep_free(h);
}

/* ---- the B2BUA ----------------------------------------------------------- */

static struct media_engine *ME;
static char pin_dir[64];

struct ev {                              /* a message on the wire */
	int tx;
	struct sip_peer peer;
	char *buf;
	size_t len;
};

static struct {
	struct sip_transport *tp;
	struct registrar *reg;
	struct routes *rt;
	struct hep *hep;
	struct b2bua *b;
	int coll;                        /* the collector's socket */
	struct ev ev[32];
	int nev;
} F;

static void ev_add(int tx, const struct sip_peer *p, const char *buf,
		   size_t len)
{
	struct ev *e;

	if (F.nev == (int)(sizeof(F.ev) / sizeof(F.ev[0])))
		abort();
	e = &F.ev[F.nev++];
	e->tx = tx;
	e->peer = *p;
	e->buf = malloc(len + 1);
	if (!e->buf)
		abort();
	memcpy(e->buf, buf, len);
	e->buf[len] = 0;
	e->len = len;
}

static int hook_send(void *ctx, const struct sip_peer *to, const char *buf,
		     size_t len)
{
	(void)ctx;
	ev_add(1, to, buf, len);
	return 0;
}

static void feed(const struct sip_peer *from, const char *msg)
{
	ev_add(0, from, msg, strlen(msg));
	b2bua_on_message(F.b, msg, strlen(msg), from);
}

static int b2b_setup(void **state)
{
	struct b2bua_cfg cfg = { .retry_after_s = 5, .reg_min_expires_s = 60,
				 .reg_max_expires_s = 3600, .t1_ms = 1 };
	struct b2bua_deps deps = { 0 };
	char err[512] = "", where[NETADDR_STRLEN];
	int port;

	(void)state;
	memset(&F, 0, sizeof(F));
	F.coll = -1;
	if (fx_media_start(&ME, pin_dir, sizeof(pin_dir), "hep", PORT_MIN,
			   PORT_MAX) < 0)
		return -1;
	sipmsg_init();
	port = fx_free_udp_port();
	F.tp = port < 0 ? NULL : fx_transport(port);
	if (!F.tp)
		return -1;
	F.coll = collector_open("127.0.0.1:0", where, sizeof(where));
	if (hep_open(&F.hep, where, 2001, "homer-key", err, sizeof(err)) < 0) {
		print_error("hep_open: %s\n", err);
		return -1;
	}
	F.reg = registrar_new(60, 3600);
	F.rt = routes_new();
	if (!F.reg || !F.rt)
		return -1;
	snprintf(cfg.domain, sizeof(cfg.domain), DOMAIN);
	deps = (struct b2bua_deps){ .tp = F.tp, .me = ME, .reg = F.reg,
				    .rt = F.rt, .hep = F.hep,
				    .send = hook_send };
	F.b = b2bua_new(&cfg, &deps);
	if (!F.b)
		return -1;
	tp_set_ctx(F.tp, F.b);
	return 0;
}

static int b2b_teardown(void **state)
{
	(void)state;
	b2bua_free(F.b);
	hep_free(F.hep);
	tp_free(F.tp);
	registrar_free(F.reg);
	routes_free(F.rt);
	if (F.coll >= 0)
		close(F.coll);
	for (int i = 0; i < F.nev; i++)
		free(F.ev[i].buf);
	fx_media_stop(&ME, pin_dir);
	memset(&F, 0, sizeof(F));
	return 0;
}

/* Every line of msg starting with "name:" (CRLF-terminated) into out. */
static void copy_headers(const char *msg, const char *name, char *out,
			 size_t outlen)
{
	size_t n = strlen(name), used = strlen(out);

	for (const char *p = msg; p && *p && strncmp(p, "\r\n", 2);) {
		const char *eol = strstr(p, "\r\n");

		if (!eol)
			break;
		if (!strncasecmp(p, name, n) && p[n] == ':')
			used += (size_t)snprintf(out + used, outlen - used,
						 "%.*s\r\n", (int)(eol - p), p);
		if (used >= outlen)
			abort();
		p = eol + 2;
	}
}

static const char *call_id(const char *msg)
{
	static char buf[128];

	if (!hep_sip_call_id(msg, strlen(msg), buf, sizeof(buf)))
		buf[0] = 0;
	return buf;
}

#define SDP_A \
	"v=0\r\no=alice 1 1 IN IP4 127.0.0.2\r\ns=-\r\n" \
	"c=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\n" \
	"a=rtpmap:0 PCMU/8000\r\n"
#define CID_A "callA-hep@127.0.0.2"

static void test_b2bua_capture(void **state)
{
	struct sip_peer pa = { .proto = SIP_UDP }, pb = { .proto = SIP_UDP };
	char msg[4096], relay[NETADDR_STRLEN], peer[NETADDR_STRLEN], w[160];
	const char *inv_b = NULL;
	uint8_t buf[HEP_MAX];
	struct hep_dec d;
	int n, i, ninv_b = 0;

	(void)state;
	pa.addr = addr("127.0.0.2:5062");
	pb.addr = addr("127.0.0.3:5064");
	tp_local_for(F.tp, SIP_UDP, (struct sockaddr *)&pa.addr,
		     &pa.local);
	netaddr_str((struct sockaddr *)&pa.local, relay, sizeof(relay));

	feed(&pb, "REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 127.0.0.3:5064;branch=z9hG4bKreg1;rport\r\n"
	     "Max-Forwards: 70\r\n"
	     "From: <sip:bob@" DOMAIN ">;tag=rb1\r\n"
	     "To: <sip:bob@" DOMAIN ">\r\n"
	     "Call-ID: reg-bob@phone\r\nCSeq: 1 REGISTER\r\n"
	     "Contact: <sip:bob@127.0.0.3:5064>\r\nExpires: 600\r\n"
	     "Content-Length: 0\r\n\r\n");
	snprintf(msg, sizeof(msg), "INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKinvA1;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: \"Alice\" <sip:alice@" DOMAIN ">;tag=ta1\r\n"
		 "To: <sip:bob@" DOMAIN ">\r\n"
		 "Call-ID: " CID_A "\r\nCSeq: 10 INVITE\r\n"
		 "Contact: <sip:alice@127.0.0.2:5062>\r\n"
		 "Content-Type: application/sdp\r\n"
		 "Content-Length: %zu\r\n\r\n%s", strlen(SDP_A), SDP_A);
	feed(&pa, msg);
	for (i = 0; i < F.nev; i++)
		if (F.ev[i].tx && !strncmp(F.ev[i].buf, "INVITE ", 7)) {
			inv_b = F.ev[i].buf;
			ninv_b++;
		}
	CHECK_EQ(ninv_b, 1, "one INVITE sent on leg B");
	CHECK_TRUE(strncmp(call_id(inv_b), "xr", 2) == 0,
		   "leg B has a Call-ID of ours");
	/* Bob rings: a B-leg message received. */
	msg[0] = 0;
	strcat(msg, "SIP/2.0 180 Ringing\r\n");
	copy_headers(inv_b, "Via", msg, sizeof(msg));
	copy_headers(inv_b, "From", msg, sizeof(msg));
	copy_headers(inv_b, "To", msg, sizeof(msg));
	strcpy(msg + strlen(msg) - 2, ";tag=tb1\r\n");
	copy_headers(inv_b, "Call-ID", msg, sizeof(msg));
	copy_headers(inv_b, "CSeq", msg, sizeof(msg));
	strcat(msg, "Contact: <sip:bob@127.0.0.3:5064>\r\n"
	       "Content-Length: 0\r\n\r\n");
	feed(&pb, msg);
	CHECK_TRUE(F.nev >= 7, "REGISTER, 200, INVITE, 100, INVITE B, 180, "
		   "180 to A");

	/* One HEP packet per message, in order, each as it was. */
	for (i = 0; i < F.nev; i++) {
		const struct ev *e = &F.ev[i];
		const char *cid = call_id(e->buf);
		int b_leg = !strncmp(cid, "xr", 2);

		snprintf(w, sizeof(w), "message %d (%s %.*s)", i,
			 e->tx ? "sent" : "received",
			 (int)strcspn(e->buf, "\r\n"), e->buf);
		n = (int)recv(F.coll, buf, sizeof(buf), 0);
		decode(buf, n, &d, w);
		CHECK_EQ(d.plen, e->len, w);
		CHECK_MEM(d.payload, e->buf, e->len, w);
		CHECK_EQ(d.family, 2, w);
		CHECK_EQ(d.proto, 17, w);
		CHECK_EQ(d.ptype, 1, w);
		CHECK_EQ(d.capture_id, 2001, w);
		CHECK_STR(d.auth, "homer-key", w);
		netaddr_str((struct sockaddr *)&e->peer.addr, peer,
			    sizeof(peer));
		if (e->tx) {
			check_side(d.src, d.sport, relay, w);
			check_side(d.dst, d.dport, peer, w);
		} else {
			check_side(d.src, d.sport, peer, w);
			check_side(d.dst, d.dport, relay, w);
		}
		if (b_leg)
			CHECK_STR(d.corr, CID_A, w);
		else
			CHECK_EQ(d.count[0x0011], 0, w);
	}
	CHECK_EQ(recv(F.coll, buf, sizeof(buf), 0), -1,
		 "no HEP packet beyond the messages");

	/* The ones that matter, by name. */
	CHECK_TRUE(!F.ev[2].tx && !strcmp(call_id(F.ev[2].buf), CID_A),
		   "A's INVITE was received (and captured above)");
	for (i = 0; i < F.nev; i++)
		if (F.ev[i].buf == inv_b)
			break;
	CHECK_TRUE(i < F.nev && F.ev[i].tx,
		   "the B-leg INVITE was sent (and captured above with "
		   "correlation id " CID_A ")");
	CHECK_TRUE(!F.ev[5].tx && !strncmp(F.ev[5].buf, "SIP/2.0 180", 11),
		   "bob's 180 was received (B leg: correlated above)");
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_ipv4),
		cmocka_unit_test(test_encode_ipv6_tcp),
		cmocka_unit_test(test_encode_edges),
		cmocka_unit_test(test_call_id),
		cmocka_unit_test(test_sender),
		cmocka_unit_test(test_sender_errors),
		cmocka_unit_test_setup_teardown(test_b2bua_capture, b2b_setup,
						b2b_teardown),
	};

	return cmocka_run_group_tests_name("test_hep", tests, NULL, NULL);
}
