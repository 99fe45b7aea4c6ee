// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Metrics (userspace/metrics.c, metrics_http.c) and the health checks
 * (userspace/health.c): the one list rendered to Prometheus text, JSON and
 * the CLI table from a made-up snapshot; every Prometheus line checked
 * against the exposition format; the HTTP listener on a loopback port
 * (200, HEAD, 404, 405, 400, a request too big); the kernel-share
 * warning with its cause, its repeat and its recovery.
 */
#include <arpa/inet.h>
#include <ctype.h>
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
#include <unistd.h>
#include <cmocka.h>

#include "fastpath.h"
#include "health.h"
#include "metrics.h"
#include "check.h"
#include "json_check.h"

static struct metrics_snapshot snap;

/* A snapshot with a distinct value in each interesting place. */
static void fake(struct metrics_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->start_s = 1700000000;
	s->legs_active = 6;
	s->registrations = 4;
	s->sip.calls_active = 3;
	s->sip.calls_total = 20;
	s->sip.calls_answered = 15;
	s->sip.calls_failed = 2;
	s->sip.calls_rejected_limit = 1;
	s->sip.requests[B2B_RX][B2B_M_INVITE] = 7;
	s->sip.requests[B2B_TX][B2B_M_BYE] = 9;
	s->sip.responses[B2B_TX][200 - B2B_CODE_MIN] = 5;
	s->sip.responses[B2B_RX][486 - B2B_CODE_MIN] = 2;
	s->sip.retransmissions = 12;
	s->tp.rx_msgs = 100;
	s->tp.tcp_open = 2;
	s->media.sessions = 3;
	s->media.kernel_packets = 1000;
	s->media.user_packets = 10;
	s->media.kernel_bytes = 200000;
	s->media.user_bytes = 2000;
	s->media.kernel_dir[XR_DIR_FROM_A] = (struct xr_stat){ 600, 120000 };
	s->media.kernel_dir[XR_DIR_FROM_B] = (struct xr_stat){ 400, 80000 };
	s->media.user_dir[XR_DIR_FROM_A] = (struct xr_stat){ 6, 1200 };
	s->media.user_dir[XR_DIR_FROM_B] = (struct xr_stat){ 4, 800 };
	s->media.latches = 6;
	s->media.relatches = 1;
	s->media.ports_total = 5000;
	s->media.ports_used = 8;
	s->media.reasons[XR_FWD_TX].packets = 600;
	s->media.reasons[XR_FWD_REDIRECT].packets = 400;
	s->media.reasons[XR_DROP_FOREIGN_SRC].packets = 11;
	s->media.reasons[XR_DROP_FOREIGN_SRC].bytes = 2200;
	s->media.nifaces = 2;
	snprintf(s->media.iface[0].name, 16, "eth0");
	s->media.iface[0].want = ATTACH_XDP;
	s->media.iface[0].got = ATTACH_XDP;
	snprintf(s->media.iface[1].name, 16, "eth1");
	s->media.iface[1].want = ATTACH_TC;
	s->media.iface[1].got = ATTACH_OFF;
}

static int setup(void **state)
{
	(void)state;
	fake(&snap);
	return 0;
}

/* ---- the Prometheus text format -------------------------------------------- */

static int name_char(char c, int first)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':' ||
	       (!first && isdigit((unsigned char)c));
}

/* One sample line: NAME[{L="V",...}] INTEGER. Returns the name's length,
 * or 0 if the line is malformed. */
static size_t sample_ok(const char *l)
{
	const char *p = l;
	size_t n;

	if (!name_char(*p, 1))
		return 0;
	while (name_char(*p, 0))
		p++;
	n = (size_t)(p - l);
	if (*p == '{') {
		do {
			p++;
			if (!name_char(*p, 1))
				return 0;
			while (name_char(*p, 0))
				p++;
			if (*p++ != '=' || *p++ != '"')
				return 0;
			while (*p && *p != '"') {
				if (*p == '\\' && !strchr("\\\"n", *++p))
					return 0;
				p++;
			}
			if (*p++ != '"')
				return 0;
		} while (*p == ',');
		if (*p++ != '}')
			return 0;
	}
	if (*p++ != ' ' || !isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	return *p ? 0 : n;
}

static void test_prom_format(void **state)
{
	struct outbuf o;
	char *text, *line, *save = NULL, name[128] = "";
	size_t helps = 0, types = 0, samples = 0;

	(void)state;
	ob_init(&o, 0);
	metrics_render_prom(&snap, &o);
	CHECK_TRUE(!o.full && o.len > 0, "rendered");
	CHECK_TRUE(o.p[o.len - 1] == '\n', "ends with a newline");
	text = strdup(o.p);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t n;

		if (!strncmp(line, "# HELP ", 7)) {
			sscanf(line + 7, "%127s", name);
			helps++;
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			char nm[128], type[16];

			CHECK_EQ(sscanf(line + 7, "%127s %15s", nm, type), 2,
				 line);
			CHECK_STR(nm, name, "TYPE follows its HELP");
			CHECK_TRUE(!strcmp(type, "counter") ||
				   !strcmp(type, "gauge"), line);
			/* Prometheus conventions: counters end in _total */
			CHECK_EQ(!strcmp(type, "counter"),
				 strlen(nm) > 6 &&
				 !strcmp(nm + strlen(nm) - 6, "_total"), nm);
			types++;
			continue;
		}
		n = sample_ok(line);
		if (!n)
			fail_msg("not a sample line: '%s'", line);
		CHECK_TRUE(n == strlen(name) && !strncmp(line, name, n),
			   "a sample belongs to the family announced above it");
		samples++;
	}
	free(text);
	CHECK_EQ(helps, metrics_count, "one HELP per metric");
	CHECK_EQ(types, metrics_count, "one TYPE per metric");
	CHECK_TRUE(samples > metrics_count, "samples");
	ob_free(&o);
}

static void test_prom_values(void **state)
{
	static const char *const want[] = {
		"\nxrelay_calls_active 3\n",
		"\nxrelay_call_legs_active 6\n",
		"\nxrelay_calls_started_total 20\n",
		"\nxrelay_calls_total{outcome=\"answered\"} 15\n",
		"\nxrelay_calls_total{outcome=\"rejected_limit\"} 1\n",
		"\nxrelay_registrations 4\n",
		"\nxrelay_sip_requests_total{direction=\"in\",method=\"INVITE\"} 7\n",
		"\nxrelay_sip_requests_total{direction=\"out\",method=\"BYE\"} 9\n",
		"\nxrelay_sip_requests_total{direction=\"in\",method=\"other\"} 0\n",
		"\nxrelay_sip_responses_total{direction=\"out\",code=\"200\"} 5\n",
		"\nxrelay_sip_responses_total{direction=\"in\",code=\"486\"} 2\n",
		"\nxrelay_sip_retransmissions_total 12\n",
		"\nxrelay_sip_transport_messages_total{direction=\"in\"} 100\n",
		"\nxrelay_sip_tcp_connections 2\n",
		"\nxrelay_media_packets_total{path=\"kernel\",direction=\"a_to_b\"} 600\n",
		"\nxrelay_media_packets_total{path=\"kernel\",direction=\"b_to_a\"} 400\n",
		"\nxrelay_media_packets_total{path=\"userspace\",direction=\"a_to_b\"} 6\n",
		"\nxrelay_media_packets_total{path=\"userspace\",direction=\"b_to_a\"} 4\n",
		"\nxrelay_media_bytes_total{path=\"kernel\",direction=\"a_to_b\"} 120000\n",
		"\nxrelay_media_bytes_total{path=\"kernel\",direction=\"b_to_a\"} 80000\n",
		"\nxrelay_media_bytes_total{path=\"userspace\",direction=\"a_to_b\"} 1200\n",
		"\nxrelay_media_bytes_total{path=\"userspace\",direction=\"b_to_a\"} 800\n",
		"\nxrelay_bpf_packets_total{reason=\"drop_foreign_source\"} 11\n",
		"\nxrelay_bpf_bytes_total{reason=\"drop_foreign_source\"} 2200\n",
		"\nxrelay_bpf_packets_total{reason=\"pass_no_neighbour\"} 0\n",
		"\nxrelay_media_latches_total 6\n",
		"\nxrelay_media_relatches_total 1\n",
		"\nxrelay_port_pairs 5000\n",
		"\nxrelay_port_pairs_used 8\n",
		"\nxrelay_iface_attach_info{iface=\"eth0\",want=\"xdp\",got=\"xdp\"} 1\n",
		"\nxrelay_iface_attach_info{iface=\"eth1\",want=\"tc\",got=\"off\"} 1\n",
		"\nxrelay_iface_attach_fallback{iface=\"eth0\"} 0\n",
		"\nxrelay_iface_attach_fallback{iface=\"eth1\"} 1\n",
		"\nxrelay_start_time_seconds 1700000000\n",
		"\n# TYPE xrelay_calls_total counter\n",
		"\n# TYPE xrelay_port_pairs gauge\n",
	};
	struct outbuf o;

	(void)state;
	ob_init(&o, 0);
	metrics_render_prom(&snap, &o);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK_HAS(o.p, want[i], "a sample with its value");
	/* responses: only the codes seen */
	CHECK_TRUE(!strstr(o.p, "code=\"100\""), "no series for unseen codes");
	ob_free(&o);
}

static void test_prom_escaping(void **state)
{
	struct outbuf o;

	(void)state;
	snprintf(snap.media.iface[0].name, 16, "a\"b\\c");
	ob_init(&o, 0);
	metrics_render_prom(&snap, &o);
	CHECK_HAS(o.p, "{iface=\"a\\\"b\\\\c\",", "label values escaped");
	ob_free(&o);
}

static void test_names_unique(void **state)
{
	(void)state;
	for (size_t i = 0; i < metrics_count; i++) {
		const struct metric *m = &metrics_list[i];

		CHECK_TRUE(!strncmp(m->name, "xrelay_", 7), m->name);
		CHECK_TRUE(m->help && m->help[0] && !strchr(m->help, '\n'),
			   "one line of help");
		CHECK_TRUE(m->emit || m->size == 4 || m->size == 8,
			   "a field of a size the renderer reads");
		for (size_t j = 0; j < i; j++)
			CHECK_TRUE(strcmp(m->name, metrics_list[j].name), m->name);
	}
}

static void test_json(void **state)
{
	struct outbuf o;
	const char *bad;

	(void)state;
	ob_init(&o, 0);
	metrics_render_json(&snap, &o);
	bad = json_check(o.p);
	if (bad)
		fail_msg("invalid JSON at '%.40s'", bad);
	CHECK_HAS(o.p, "\"xrelay_calls_active\":3", "a plain value");
	CHECK_HAS(o.p, "\"xrelay_calls_total\":[{\"labels\":{\"outcome\":"
		  "\"answered\"},\"value\":15}", "labelled values");
	ob_free(&o);
}

static void test_text(void **state)
{
	struct outbuf o;

	(void)state;
	ob_init(&o, 0);
	metrics_render_text(&snap, &o);
	CHECK_HAS(o.p, "xrelay_calls_active", "a plain metric");
	CHECK_HAS(o.p, "direction=in method=INVITE", "labels as k=v");
	CHECK_TRUE(!strstr(o.p, "method=CANCEL"), "zero labelled samples "
		   "left out of the table");
	CHECK_HAS(o.p, "xrelay_sip_malformed_total", "plain zeros stay");
	ob_free(&o);
}

static void test_collect_nothing(void **state)
{
	struct xr_sources src = { .start_s = 42 };
	struct outbuf o;

	(void)state;
	metrics_collect(&src, &snap);
	CHECK_EQ(snap.start_s, 42, "start time");
	CHECK_EQ(snap.sip.calls_active, 0, "no B2BUA: zero");
	ob_init(&o, 0);
	metrics_render_prom(&snap, &o);
	CHECK_HAS(o.p, "\nxrelay_media_sessions 0\n", "renders");
	ob_free(&o);
}

static void test_outbuf_limit(void **state)
{
	struct outbuf o;

	(void)state;
	ob_init(&o, 64);
	metrics_render_prom(&snap, &o);
	CHECK_TRUE(o.full, "past the ceiling: full");
	CHECK_TRUE(o.len <= 64, "and no bigger");
	ob_reset(&o);
	CHECK_TRUE(!o.full && o.len == 0, "reset");
	ob_json_str(&o, "a\"\x01\xc3\xa9\xff");
	CHECK_STR(o.p, "\"a\\\"\\u0001\xc3\xa9\xef\xbf\xbd\"",
		  "JSON string escapes (invalid UTF-8 replaced by U+FFFD)");
	ob_free(&o);
}

/* ---- the HTTP listener ----------------------------------------------------------- */

static struct metrics_http *http;
static struct xr_sources http_src = { .start_s = 7 };
static char http_addr[64];

static void http_up(void)
{
	char err[256];

	/* a port of our own: try a few */
	for (int i = 0; i < 20 && !http; i++) {
		snprintf(http_addr, sizeof(http_addr), "127.0.0.1:%d",
			 20000 + (getpid() * 7 + i * 131) % 20000);
		if (metrics_http_open(&http, http_addr, &http_src, err,
				      sizeof(err)) < 0)
			http = NULL;
	}
	if (!http)
		fail_msg("metrics_http_open: %s", err);
}

/* Send req, serve until the server closes; the whole answer. */
static char *http_get(const char *req, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	static char buf[1 << 16];
	size_t got = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_port = htons((uint16_t)atoi(strchr(http_addr, ':') + 1));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect");
	CHECK_EQ(send(fd, req, len, 0), (long long)len, "send");
	for (int i = 0; i < 400; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		metrics_http_run(http);
		if (poll(&p, 1, 5) <= 0)
			continue;
		n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	metrics_http_run(http);
	buf[got] = 0;
	return buf;
}

static void test_http(void **state)
{
	char *r, *body;
	size_t clen = 0;

	(void)state;
	http_up();
	r = http_get("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 34);
	CHECK_TRUE(!strncmp(r, "HTTP/1.1 200 OK\r\n", 17), "200");
	CHECK_HAS(r, "Content-Type: text/plain; version=0.0.4", "content type");
	body = strstr(r, "\r\n\r\n");
	if (!body || !strstr(r, "Content-Length: "))
		fail_msg("no Content-Length or no end of headers: %s", r);
	sscanf(strstr(r, "Content-Length: ") + 16, "%zu", &clen);
	CHECK_EQ(clen, strlen(body) - 4, "Content-Length is the body's");
	CHECK_HAS(body, "\nxrelay_start_time_seconds 7\n", "the page");

	r = http_get("HEAD /metrics?x=1 HTTP/1.0\r\n\r\n", 30);
	CHECK_TRUE(!strncmp(r, "HTTP/1.1 200 OK\r\n", 17), "HEAD: 200");
	body = strstr(r, "\r\n\r\n");
	CHECK_TRUE(body && body[4] == 0, "HEAD: no body");

	r = http_get("GET / HTTP/1.1\r\n\r\n", 18);
	CHECK_TRUE(!strncmp(r, "HTTP/1.1 404 ", 13), "another path: 404");
	r = http_get("POST /metrics HTTP/1.1\r\n\r\n", 26);
	CHECK_TRUE(!strncmp(r, "HTTP/1.1 405 ", 13), "POST: 405");
	CHECK_HAS(r, "Allow: GET, HEAD\r\n", "405 says what is allowed");
	r = http_get("hello\n\n", 7);
	CHECK_TRUE(!strncmp(r, "HTTP/1.1 400 ", 13), "garbage: 400");
	r = http_get("GET /metrics HTTP/1.1\r\n\r\0\n", 26);
	CHECK_TRUE(!strncmp(r, "HTTP/1.1 400 ", 13), "a NUL byte: 400");
	{
		static char big[10000];

		memset(big, 'a', sizeof(big));
		memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
		r = http_get(big, sizeof(big));
		CHECK_TRUE(!strncmp(r, "HTTP/1.1 431 ", 13), "too big: 431");
	}
	metrics_http_free(http);
	http = NULL;
}

static void test_http_bad_listen(void **state)
{
	struct metrics_http *h = NULL;
	char err[256];

	(void)state;
	CHECK_EQ(metrics_http_open(&h, "localhost:9642", &http_src, err,
				   sizeof(err)), -1, "a name, not an address");
	CHECK_HAS(err, "is not ADDR:PORT", "says what is wrong");
	CHECK_EQ(metrics_http_open(&h, "192.0.2.1:9642", &http_src, err,
				   sizeof(err)), -1, "an address not ours");
	CHECK_HAS(err, "cannot listen on 192.0.2.1:9642", "names the address");
}

/* ---- health ------------------------------------------------------------------------- */

static struct media_totals tot;

static void flow(uint64_t k, uint64_t u)
{
	tot.kernel_packets += k;
	tot.user_packets += u;
	tot.reasons[XR_FWD_TX].packets += k;
}

static void test_health(void **state)
{
	struct health h;
	char msg[1024] = "";
	uint64_t t = 1000;

	(void)state;
	memset(&tot, 0, sizeof(tot));
	tot.sessions = 2;
	tot.nifaces = 1;
	snprintf(tot.iface[0].name, 16, "r0");
	tot.iface[0].want = tot.iface[0].got = ATTACH_XDP;
	health_init(&h, 90, t);
	CHECK_EQ(h.next_ms, t + HEALTH_INTERVAL_MS, "first look in 10 s");
	CHECK_EQ(health_check(&h, &tot, t, msg, sizeof(msg)), 0,
		 "the first look only takes the counters");
	flow(990, 10);
	CHECK_EQ(health_check(&h, &tot, t += 10000, msg, sizeof(msg)), 0,
		 "99% in the kernel: fine");
	flow(500, 500);
	tot.reasons[XR_PASS_NO_NEIGH].packets += 450;
	tot.reasons[XR_PASS_NO_ENTRY].packets += 50;
	CHECK_EQ(health_check(&h, &tot, t += 10000, msg, sizeof(msg)), 1,
		 "50%: a warning");
	CHECK_HAS(msg, "only 50% of media packets", "says the share");
	CHECK_HAS(msg, "kernel_share_warn = 90%", "names the threshold");
	CHECK_HAS(msg, "ARP/NDP", "names the largest cause");
	CHECK_HAS(msg, "pass_no_neighbour: 450 packets", "with its count");
	flow(100, 900);
	CHECK_EQ(health_check(&h, &tot, t += 10000, msg, sizeof(msg)), 0,
		 "still low: not logged again within a minute");
	for (int i = 0; i < 4; i++) { /* to 50 s after the warning */
		flow(100, 900);
		health_check(&h, &tot, t += 10000, msg, sizeof(msg));
	}
	flow(100, 900);
	CHECK_EQ(health_check(&h, &tot, t += 10000, msg, sizeof(msg)), 1,
		 "a lasting problem is logged again after a minute");
	CHECK_HAS(msg, "media arrives on an interface without the program",
		  "no pass reason: traffic the program never saw");
	flow(1000, 0);
	CHECK_EQ(health_check(&h, &tot, t += 10000, msg, sizeof(msg)), 2,
		 "recovered: a notice");
	flow(10, 90);
	CHECK_EQ(health_check(&h, &tot, t += 10000, msg, sizeof(msg)), 0,
		 "fewer than HEALTH_MIN_PACKETS: not judged");
	tot.sessions = 0;
	flow(0, 1000);
	CHECK_EQ(health_check(&h, &tot, t += 10000, msg, sizeof(msg)), 0,
		 "no calls: not judged");
	tot.sessions = 1;
	tot.nifaces = 2;
	snprintf(tot.iface[1].name, 16, "r1");
	tot.iface[1].want = ATTACH_XDP;
	tot.iface[1].got = ATTACH_OFF;
	flow(0, 1000);
	CHECK_EQ(health_check(&h, &tot, t += 10000, msg, sizeof(msg)), 1,
		 "0%: warned");
	CHECK_HAS(msg, "r1 has no kernel path", "an interface that fell back "
		  "is the first suspect");
	CHECK_EQ(health_report_attach(&tot), 1, "one interface fell back");
	h.warn_pct = 0;
	flow(0, 1000);
	CHECK_EQ(health_check(&h, &tot, t += 70000, msg, sizeof(msg)), 0,
		 "kernel_share_warn 0: never");
	tot.kernel_packets = 0;
	h.warn_pct = 90;
	CHECK_EQ(health_check(&h, &tot, t += 10000, msg, sizeof(msg)), 0,
		 "counters went back (maps re-made): start over");
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_prom_format, setup),
		cmocka_unit_test_setup(test_prom_values, setup),
		cmocka_unit_test_setup(test_prom_escaping, setup),
		cmocka_unit_test(test_names_unique),
		cmocka_unit_test_setup(test_json, setup),
		cmocka_unit_test_setup(test_text, setup),
		cmocka_unit_test(test_collect_nothing),
		cmocka_unit_test_setup(test_outbuf_limit, setup),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_http_bad_listen),
		cmocka_unit_test(test_health),
	};

	return cmocka_run_group_tests_name("test_metrics", tests, NULL, NULL);
}
