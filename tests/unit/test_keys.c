// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Map keys from socket addresses (fastpath_flow_key, fastpath_port_key,
 * fastpath_sockaddr) checked byte for byte against the ABI layout of
 * bpf/xrelay_abi.h, which the BPF program reads as raw bytes; and the
 * address text helpers of userspace/netaddr.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "fastpath.h"
#include "netaddr.h"
#include "check.h"

static void parse(const char *s, struct sockaddr_storage *ss)
{
	char what[96];

	snprintf(what, sizeof(what), "test address \"%s\" parses", s);
	CHECK_EQ(netaddr_parse(s, -1, ss), 0, what);
}

#define SA(ss) ((struct sockaddr *)(ss))

/* ---- the ABI layout itself ----------------------------------------------- */

static void test_abi_layout(void **state)
{
	(void)state;
	CHECK_EQ(sizeof(struct xr_flow_key), 40, "sizeof xr_flow_key");
	CHECK_EQ(offsetof(struct xr_flow_key, local_addr), 0,
		 "xr_flow_key.local_addr offset");
	CHECK_EQ(offsetof(struct xr_flow_key, remote_addr), 16,
		 "xr_flow_key.remote_addr offset");
	CHECK_EQ(offsetof(struct xr_flow_key, local_port), 32,
		 "xr_flow_key.local_port offset");
	CHECK_EQ(offsetof(struct xr_flow_key, remote_port), 34,
		 "xr_flow_key.remote_port offset");
	CHECK_EQ(offsetof(struct xr_flow_key, family), 36,
		 "xr_flow_key.family offset");
	CHECK_EQ(offsetof(struct xr_flow_key, proto), 37,
		 "xr_flow_key.proto offset");
	CHECK_EQ(offsetof(struct xr_flow_key, pad), 38, "xr_flow_key.pad offset");
	CHECK_EQ(sizeof(struct xr_port_key), 20, "sizeof xr_port_key");
	CHECK_EQ(offsetof(struct xr_port_key, addr), 0, "xr_port_key.addr offset");
	CHECK_EQ(offsetof(struct xr_port_key, port), 16, "xr_port_key.port offset");
	CHECK_EQ(offsetof(struct xr_port_key, family), 18,
		 "xr_port_key.family offset");
	CHECK_EQ(offsetof(struct xr_port_key, pad), 19, "xr_port_key.pad offset");
	CHECK_EQ(XR_AF_INET, 4, "XR_AF_INET");
	CHECK_EQ(XR_AF_INET6, 6, "XR_AF_INET6");
	CHECK_EQ(XR_PROTO_UDP, 17, "XR_PROTO_UDP");
}

/* ---- flow keys ----------------------------------------------------------- */

static void test_flow_key_v4(void **state)
{
	static const uint8_t want[40] = {
		/* local_addr: 203.0.113.5, then 12 zero bytes */
		0xcb, 0x00, 0x71, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* remote_addr: 192.0.2.10 */
		0xc0, 0x00, 0x02, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x75, 0x30,  /* local_port 30000, network order */
		0x0f, 0xa0,  /* remote_port 4000 */
		0x04,        /* family XR_AF_INET */
		0x11,        /* proto UDP */
		0x00, 0x00,  /* pad */
	};
	struct sockaddr_storage local, remote;
	struct xr_flow_key k;

	(void)state;
	parse("203.0.113.5:30000", &local);
	parse("192.0.2.10:4000", &remote);
	memset(&k, 0xff, sizeof(k)); /* padding must not keep garbage */
	CHECK_EQ(fastpath_flow_key(&k, SA(&local), SA(&remote)), 0,
		 "fastpath_flow_key IPv4");
	CHECK_MEM(&k, want, sizeof(want), "IPv4 flow key bytes");
	CHECK_EQ(k.local_port, htons(30000), "local_port is network order");
	CHECK_EQ(k.remote_port, htons(4000), "remote_port is network order");
}

static void test_flow_key_v6(void **state)
{
	static const uint8_t want[40] = {
		/* local_addr: 2001:db8::5 */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05,
		/* remote_addr: 2001:db8:10::20 */
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x20,
		0x75, 0x32,  /* local_port 30002 */
		0x2e, 0x04,  /* remote_port 11780 */
		0x06,        /* family XR_AF_INET6 */
		0x11,        /* proto UDP */
		0x00, 0x00,  /* pad */
	};
	struct sockaddr_storage local, remote;
	struct xr_flow_key k;

	(void)state;
	parse("[2001:db8::5]:30002", &local);
	parse("[2001:db8:10::20]:11780", &remote);
	/* Flow label and scope id are not part of the key. */
	((struct sockaddr_in6 *)&remote)->sin6_flowinfo = htonl(0x12345);
	((struct sockaddr_in6 *)&remote)->sin6_scope_id = 3;
	memset(&k, 0xff, sizeof(k));
	CHECK_EQ(fastpath_flow_key(&k, SA(&local), SA(&remote)), 0,
		 "fastpath_flow_key IPv6");
	CHECK_MEM(&k, want, sizeof(want), "IPv6 flow key bytes");
}

static void test_flow_key_bad_families(void **state)
{
	struct sockaddr_storage v4, v6, unspec;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct xr_flow_key k;

	(void)state;
	parse("192.0.2.10:4000", &v4);
	parse("[2001:db8::10]:4000", &v6);
	memset(&unspec, 0, sizeof(unspec));
	CHECK_EQ(fastpath_flow_key(&k, SA(&v4), SA(&v6)), -EINVAL,
		 "flow key IPv4 local, IPv6 remote: mixed families");
	CHECK_EQ(fastpath_flow_key(&k, SA(&v6), SA(&v4)), -EINVAL,
		 "flow key IPv6 local, IPv4 remote: mixed families");
	CHECK_EQ(fastpath_flow_key(&k, SA(&unspec), SA(&v4)), -EAFNOSUPPORT,
		 "flow key AF_UNSPEC local");
	CHECK_EQ(fastpath_flow_key(&k, SA(&v4), SA(&unspec)), -EAFNOSUPPORT,
		 "flow key AF_UNSPEC remote");
	CHECK_EQ(fastpath_flow_key(&k, (struct sockaddr *)&un, SA(&v4)),
		 -EAFNOSUPPORT, "flow key AF_UNIX local");
}

/* ---- port keys ----------------------------------------------------------- */

static void test_port_key(void **state)
{
	static const uint8_t want4[20] = {
		0xcb, 0x00, 0x71, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x75, 0x31,  /* port 30001 (an RTCP port) */
		0x04,        /* family */
		0x00,        /* pad */
	};
	static const uint8_t want6[20] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05,
		0xff, 0xfe,  /* port 65534 */
		0x06, 0x00,
	};
	struct sockaddr_storage a;
	struct xr_port_key k;

	(void)state;
	parse("203.0.113.5:30001", &a);
	memset(&k, 0xff, sizeof(k));
	CHECK_EQ(fastpath_port_key(&k, SA(&a)), 0, "fastpath_port_key IPv4");
	CHECK_MEM(&k, want4, sizeof(want4), "IPv4 port key bytes");
	parse("[2001:db8::5]:65534", &a);
	memset(&k, 0xff, sizeof(k));
	CHECK_EQ(fastpath_port_key(&k, SA(&a)), 0, "fastpath_port_key IPv6");
	CHECK_MEM(&k, want6, sizeof(want6), "IPv6 port key bytes");
	memset(&a, 0, sizeof(a));
	CHECK_EQ(fastpath_port_key(&k, SA(&a)), -EAFNOSUPPORT,
		 "port key of AF_UNSPEC");
}

/* ---- back to socket addresses -------------------------------------------- */

static void roundtrip(const char *local_s, const char *remote_s)
{
	struct sockaddr_storage local, remote, back;
	struct xr_flow_key k;
	struct xr_port_key pk;
	char what[160];

	parse(local_s, &local);
	parse(remote_s, &remote);
	snprintf(what, sizeof(what), "flow key of %s <- %s", local_s,
		 remote_s);
	CHECK_EQ(fastpath_flow_key(&k, SA(&local), SA(&remote)), 0, what);
	memset(&back, 0xff, sizeof(back));
	fastpath_sockaddr(&back, k.remote_addr, k.remote_port, k.family);
	snprintf(what, sizeof(what), "remote %s -> key -> sockaddr, whole "
		 "storage", remote_s);
	CHECK_MEM(&back, &remote, sizeof(back), what);
	memset(&back, 0xff, sizeof(back));
	fastpath_sockaddr(&back, k.local_addr, k.local_port, k.family);
	snprintf(what, sizeof(what), "local %s -> key -> sockaddr", local_s);
	CHECK_MEM(&back, &local, sizeof(back), what);
	CHECK_EQ(fastpath_port_key(&pk, SA(&local)), 0, "port key");
	fastpath_sockaddr(&back, pk.addr, pk.port, pk.family);
	snprintf(what, sizeof(what), "local %s -> port key -> sockaddr",
		 local_s);
	CHECK_TRUE(netaddr_equal(SA(&back), SA(&local)), what);
}

static void test_sockaddr_roundtrip(void **state)
{
	(void)state;
	roundtrip("203.0.113.5:30000", "192.0.2.10:4000");
	roundtrip("10.0.0.1:2", "255.255.255.255:65535");
	roundtrip("0.0.0.0:0", "192.0.2.1:1");
	roundtrip("[2001:db8::5]:30002", "[2001:db8:10::20]:11780");
	roundtrip("[::1]:65534", "[fe80::1:2:3:4]:1");
	roundtrip("[::ffff:192.0.2.1]:30000", "[ffff:ffff:ffff:ffff:ffff:ffff:"
		  "ffff:ffff]:65535");
}

/* IPv4: only the first 4 bytes of the ABI field are read. */
static void test_sockaddr_v4_ignores_tail(void **state)
{
	const uint8_t addr[16] = { 192, 0, 2, 77, 0xde, 0xad, 0xbe, 0xef,
				   1, 2, 3, 4, 5, 6, 7, 8 };
	struct sockaddr_storage ss, want;

	(void)state;
	parse("192.0.2.77:5004", &want);
	memset(&ss, 0xff, sizeof(ss));
	fastpath_sockaddr(&ss, addr, htons(5004), XR_AF_INET);
	CHECK_MEM(&ss, &want, sizeof(ss),
		  "IPv4 sockaddr from an ABI field with a non-zero tail");
}

/* ---- netaddr ------------------------------------------------------------- */

struct parse_row {
	const char *in;
	int default_port;
	const char *want; /* netaddr_str of the result; NULL: must fail */
};

static const struct parse_row parse_rows[] = {
	{ "192.0.2.1:5060", -1, "192.0.2.1:5060" },
	{ "[2001:db8::1]:5060", -1, "[2001:db8::1]:5060" },
	{ "192.0.2.1", 5060, "192.0.2.1:5060" },
	{ "2001:db8::1", 5060, "[2001:db8::1]:5060" },
	{ "[2001:db8::1]", 5061, "[2001:db8::1]:5061" },
	{ "::1", 0, "[::1]:0" },
	{ "192.0.2.1:0", -1, "192.0.2.1:0" },
	{ "192.0.2.1:65535", -1, "192.0.2.1:65535" },
	{ "192.0.2.1:5060", 7, "192.0.2.1:5060" }, /* explicit port wins */
	{ "[2001:0db8:0000:0000:0000:0000:0000:0001]:80", -1,
	  "[2001:db8::1]:80" },                    /* canonical text */
	{ "[::ffff:192.0.2.1]:5060", -1, "[::ffff:192.0.2.1]:5060" },
	{ "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", -1,
	  "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" },
	/* A bare IPv6 address never has a port: this is the address
	 * 2001:db8::1:5060 with the default port. */
	{ "2001:db8::1:5060", 7, "[2001:db8::1:5060]:7" },
	/* refused */
	{ "192.0.2.1", -1, NULL },          /* no port and no default */
	{ "2001:db8::1", -1, NULL },
	{ "[2001:db8::1]", -1, NULL },
	{ "192.0.2.1:", -1, NULL },
	{ "192.0.2.1:", 5060, NULL },       /* an empty port is not "none" */
	{ "192.0.2.1:65536", -1, NULL },
	{ "192.0.2.1:-1", -1, NULL },
	{ "192.0.2.1:50x", -1, NULL },
	{ "192.0.2.1:abc", -1, NULL },
	{ "256.0.0.1:5060", -1, NULL },
	{ "192.0.2:5060", -1, NULL },
	{ "192.0.2.1.5:5060", -1, NULL },
	{ " 192.0.2.1:5060", -1, NULL },
	{ "[2001:db8::1", -1, NULL },       /* no ] */
	{ "[2001:db8::1]x", -1, NULL },
	{ "[2001:db8::1]:", -1, NULL },
	{ "[2001:db8::1]:70000", -1, NULL },
	{ "[2001:db8::1]:5060:7", -1, NULL },
	{ "[]:5060", -1, NULL },
	{ "[2001:db8::g]:5060", -1, NULL },
	{ "", 5060, NULL },
	{ ":5060", -1, NULL },
	{ "pbx.example.com:5060", -1, NULL }, /* names are not resolved */
	{ "localhost", 5060, NULL },
	{ "[11111111111111111111111111111111111111111111111111111111111111111"
	  "11111]:1", -1, NULL },           /* longer than the host buffer */
	{ "1111111111111111111111111111111111111111111111111111111111111111111"
	  "111:1", -1, NULL },
};

#define NPARSE (sizeof(parse_rows) / sizeof(parse_rows[0]))

static void test_netaddr_parse_row(void **state)
{
	const struct parse_row *r = *state;
	struct sockaddr_storage ss, again;
	char buf[NETADDR_STRLEN], buf2[NETADDR_STRLEN], what[200];
	int rc;

	memset(&ss, 0xff, sizeof(ss));
	rc = netaddr_parse(r->in, r->default_port, &ss);
	snprintf(what, sizeof(what), "netaddr_parse(\"%s\", %d)", r->in,
		 r->default_port);
	if (!r->want) {
		CHECK_EQ(rc, -1, what);
		return;
	}
	CHECK_EQ(rc, 0, what);
	CHECK_STR(netaddr_str(SA(&ss), buf, sizeof(buf)), r->want, what);
	/* And back: the text parses to the very same address. */
	snprintf(what, sizeof(what), "\"%s\" parses again", buf);
	CHECK_EQ(netaddr_parse(buf, -1, &again), 0, what);
	snprintf(what, sizeof(what), "\"%s\" round trip", buf);
	CHECK_TRUE(netaddr_equal(SA(&again), SA(&ss)), what);
	CHECK_MEM(&again, &ss, netaddr_len(SA(&ss)), what);
	CHECK_STR(netaddr_str(SA(&again), buf2, sizeof(buf2)), buf, what);
}

static void test_netaddr_str_misc(void **state)
{
	struct sockaddr_storage ss, a, b;
	char buf[NETADDR_STRLEN], small[8];

	(void)state;
	memset(&ss, 0, sizeof(ss));
	CHECK_STR(netaddr_str(SA(&ss), buf, sizeof(buf)), "-",
		  "netaddr_str of AF_UNSPEC");
	CHECK_STR(netaddr_ip_str(SA(&ss), buf, sizeof(buf)), "-",
		  "netaddr_ip_str of AF_UNSPEC");
	CHECK_EQ(netaddr_port(SA(&ss)), 0, "netaddr_port of AF_UNSPEC");
	netaddr_set_port(SA(&ss), 99);
	CHECK_EQ(ss.ss_family, AF_UNSPEC, "set_port leaves AF_UNSPEC alone");
	parse("[2001:db8::1]:5060", &ss);
	CHECK_STR(netaddr_ip_str(SA(&ss), buf, sizeof(buf)), "2001:db8::1",
		  "netaddr_ip_str of IPv6: no brackets");
	CHECK_EQ(netaddr_len(SA(&ss)), sizeof(struct sockaddr_in6),
		 "netaddr_len IPv6");
	netaddr_set_port(SA(&ss), 40000);
	CHECK_EQ(netaddr_port(SA(&ss)), 40000, "set_port/port IPv6");
	CHECK_EQ(((struct sockaddr_in6 *)&ss)->sin6_port, htons(40000),
		 "sin6_port in network order");
	parse("192.0.2.1:5060", &ss);
	CHECK_EQ(netaddr_len(SA(&ss)), sizeof(struct sockaddr_in),
		 "netaddr_len IPv4");
	memset(small, 'X', sizeof(small));
	netaddr_str(SA(&ss), small, sizeof(small));
	CHECK_EQ(strlen(small), sizeof(small) - 1,
		 "netaddr_str truncates into a short buffer, NUL-ended");
	CHECK_EQ(netaddr_parse_ip("192.0.2.1", &a), 0, "parse_ip IPv4");
	CHECK_EQ(netaddr_port(SA(&a)), 0, "parse_ip: port 0");
	CHECK_EQ(netaddr_parse_ip("192.0.2.1:5060", &a), -1,
		 "parse_ip refuses a port");
	CHECK_EQ(netaddr_parse_ip("[2001:db8::1]", &a), -1,
		 "parse_ip refuses brackets");

	parse("192.0.2.1:5060", &a);
	parse("192.0.2.1:5062", &b);
	CHECK_TRUE(netaddr_ip_equal(SA(&a), SA(&b)), "ip_equal: other port");
	CHECK_TRUE(!netaddr_equal(SA(&a), SA(&b)), "equal: other port");
	parse("[::ffff:192.0.2.1]:5060", &b);
	CHECK_TRUE(!netaddr_ip_equal(SA(&a), SA(&b)),
		   "ip_equal: IPv4 vs IPv4-mapped IPv6");
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	CHECK_TRUE(!netaddr_ip_equal(SA(&a), SA(&b)),
		   "ip_equal: two AF_UNSPEC are not equal");
}

static void test_netaddr_mac(void **state)
{
	static const unsigned char want[6] = { 0x02, 0x00, 0x5e, 0x10, 0xab,
					       0xff };
	unsigned char mac[6];

	(void)state;
	CHECK_EQ(netaddr_parse_mac("02:00:5e:10:ab:ff", mac), 0, "MAC lower");
	CHECK_MEM(mac, want, 6, "MAC bytes");
	CHECK_EQ(netaddr_parse_mac("02:00:5E:10:AB:FF", mac), 0, "MAC upper");
	CHECK_MEM(mac, want, 6, "MAC bytes (upper case)");
	CHECK_EQ(netaddr_parse_mac("02:00:5e:10:ab", mac), -1,
		 "MAC with 5 bytes");
	CHECK_EQ(netaddr_parse_mac("02:00:5e:10:ab:ff:01", mac), -1,
		 "MAC with 7 bytes");
	CHECK_EQ(netaddr_parse_mac("02:00:5e:10:ab:100", mac), -1,
		 "MAC byte above 0xff");
	CHECK_EQ(netaddr_parse_mac("zz:00:5e:10:ab:ff", mac), -1,
		 "MAC not hex");
	CHECK_EQ(netaddr_parse_mac("", mac), -1, "empty MAC");
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_abi_layout),
		cmocka_unit_test(test_flow_key_v4),
		cmocka_unit_test(test_flow_key_v6),
		cmocka_unit_test(test_flow_key_bad_families),
		cmocka_unit_test(test_port_key),
		cmocka_unit_test(test_sockaddr_roundtrip),
		cmocka_unit_test(test_sockaddr_v4_ignores_tail),
		cmocka_unit_test(test_netaddr_str_misc),
		cmocka_unit_test(test_netaddr_mac),
	};
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	static char names[NPARSE][128];
	struct CMUnitTest tests[NPARSE + sizeof(fixed) / sizeof(fixed[0])];
	size_t n = 0;

	for (size_t i = 0; i < nfixed; i++)
		tests[n++] = fixed[i];
	for (size_t i = 0; i < NPARSE; i++) {
		snprintf(names[i], sizeof(names[i]), "netaddr_parse \"%.60s\" "
			 "default %d: %s", parse_rows[i].in,
			 parse_rows[i].default_port,
			 parse_rows[i].want ? "ok" : "refused");
		tests[n++] = (struct CMUnitTest){ .name = names[i],
			.test_func = test_netaddr_parse_row,
			.initial_state = (void *)&parse_rows[i] };
	}
	return _cmocka_run_group_tests("test_keys", tests, n, NULL, NULL);
}
