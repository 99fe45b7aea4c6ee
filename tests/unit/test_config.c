// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xrelayd's configuration (userspace/config.c): the defaults, the file
 * parser, the flags and how they layer, every value syntax, the errors
 * (each names where and what, and what was expected), the checks across
 * keys, --help, --check-config and the README's table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "netaddr.h"
#include "check.h"

/* The config under test and the temporary files: the teardown frees and
 * removes them even when a check fails. */
static struct xr_config cfg;
static char tmp_paths[8][64];
static int ntmp;
static char err[1024];

static int setup(void **state)
{
	(void)state;
	config_defaults(&cfg);
	err[0] = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_free(&cfg);
	for (int i = 0; i < ntmp; i++)
		unlink(tmp_paths[i]);
	ntmp = 0;
	return 0;
}

/* A config file with this text; removed by the teardown. */
static const char *write_conf(const char *text)
{
	char *path;
	int fd;
	size_t len = strlen(text);

	CHECK_TRUE(ntmp < 8, "room for another temporary file");
	path = tmp_paths[ntmp];
	snprintf(path, sizeof(tmp_paths[0]), "/tmp/test_config.XXXXXX");
	fd = mkstemp(path);
	CHECK_TRUE(fd >= 0, "mkstemp");
	ntmp++;
	CHECK_EQ(write(fd, text, len), len, "write the config file");
	close(fd);
	return path;
}

static int load(const char *text)
{
	return config_load_file(&cfg, write_conf(text), err, sizeof(err));
}

/* argv from a NULL-terminated list, argv[0] included. */
#define ARGV(...) ((char *[]){ "xrelayd", __VA_ARGS__, NULL })

static int argc_of(char **argv)
{
	int n = 0;

	while (argv[n])
		n++;
	return n;
}

/* config_from_args with stdout caught into out (for --help and
 * --check-config, which print). */
static int run_args(char **argv, int *exit_now, char *out, size_t outlen)
{
	char path[] = "/tmp/test_config.out.XXXXXX";
	int fd = mkstemp(path), saved, rc;
	size_t got = 0;
	ssize_t n;

	CHECK_TRUE(fd >= 0, "mkstemp for stdout");
	unlink(path);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	rc = config_from_args(&cfg, argc_of(argv), argv, exit_now, err,
			      sizeof(err));
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	while (got + 1 < outlen &&
	       (n = read(fd, out + got, outlen - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = 0;
	close(fd);
	return rc;
}

static int args(char **argv, int *exit_now)
{
	char out[16384];

	return run_args(argv, exit_now, out, sizeof(out));
}

static void check_addr(const struct sockaddr_storage *ss, const char *exp,
		       const char *what)
{
	char buf[NETADDR_STRLEN];

	CHECK_STR(netaddr_str((const struct sockaddr *)ss, buf, sizeof(buf)),
		  exp, what);
}

/* One key set to a bad value: -1, and err names where, key and problem. */
static void check_bad(const char *key, const char *value, const char *problem)
{
	char what[256];

	snprintf(what, sizeof(what), "%s = %s: error", key, value);
	CHECK_EQ(config_set(&cfg, key, value, "t.conf:7", err, sizeof(err)),
		 -1, what);
	CHECK_HAS(err, "t.conf:7: key '", what);
	CHECK_HAS(err, key, what);
	CHECK_HAS(err, problem, what);
	CHECK_HAS(err, "(expected ", what);
}

static void set_ok(const char *key, const char *value)
{
	char what[256];

	snprintf(what, sizeof(what), "%s = %s", key, value);
	if (config_set(&cfg, key, value, "t.conf:1", err, sizeof(err)) != 0)
		fail_msg("%s: %s", what, err);
}

/* ---- defaults ------------------------------------------------------------ */

static void test_defaults(void **state)
{
	static const char *const pass[] = { "P-Asserted-Identity",
		"Diversion", "User-Agent", "X-*" };
	struct media_cfg m;

	(void)state;
	CHECK_EQ(cfg.nlisten, 1, "one default listen");
	CHECK_EQ(cfg.listen[0].proto, 0, "default listen is UDP");
	check_addr(&cfg.listen[0].addr, "0.0.0.0:5060", "default listen");
	CHECK_STR(cfg.domain, "xrelay.local", "domain");
	CHECK_STR(cfg.users_file, "", "users_file");
	CHECK_EQ(cfg.nroutes, 0, "no routes");
	CHECK_EQ(cfg.npass, 4, "four default pass headers");
	for (int i = 0; i < 4; i++)
		CHECK_STR(cfg.pass_headers[i], pass[i], "default pass header");
	CHECK_EQ(cfg.max_calls, 0, "max_calls");
	CHECK_EQ(cfg.retry_after_s, 5, "retry_after");
	CHECK_EQ(cfg.media_timeout_ms, 60000, "media_timeout");
	CHECK_EQ(cfg.session_expires_s, 1800, "session_expires");
	CHECK_EQ(cfg.min_se_s, 90, "min_se");
	CHECK_EQ(cfg.reg_min_expires_s, 60, "reg_min_expires");
	CHECK_EQ(cfg.reg_max_expires_s, 3600, "reg_max_expires");
	CHECK_EQ(cfg.max_forwards, 70, "max_forwards");
	CHECK_STR(cfg.cdr_file, "", "cdr_file");
	CHECK_STR(cfg.pin_dir, "/sys/fs/bpf/xrelay", "pin_dir");
	CHECK_STR(cfg.state_dir, "/run/xrelay/state", "state_dir");
	CHECK_STR(cfg.ctl_socket, "/run/xrelay/xrelayd.sock", "ctl_socket");
	CHECK_STR(cfg.metrics_listen, "", "metrics_listen");
	CHECK_STR(cfg.ng_listen, "", "ng_listen");
	CHECK_EQ(cfg.log_level, LOG_INFO, "log_level");
	CHECK_EQ(cfg.kernel_share_warn, 90, "kernel_share_warn");
	CHECK_EQ(cfg.stop_ends_calls, 0, "stop_ends_calls: calls survive a stop");

	/* the table repeats the engine's defaults: they must agree */
	media_cfg_defaults(&m);
	CHECK_EQ(cfg.media.nifaces, 0, "no interfaces");
	CHECK_EQ(cfg.media.port_min, m.port_min, "port_min as the engine's");
	CHECK_EQ(cfg.media.port_max, m.port_max, "port_max as the engine's");
	CHECK_EQ(cfg.media.port_min, 30000, "port_min");
	CHECK_EQ(cfg.media.port_max, 39999, "port_max");
	CHECK_EQ(cfg.media.quarantine_ms, m.quarantine_ms, "quarantine");
	CHECK_EQ(cfg.media.relatch_idle_ms, m.relatch_idle_ms, "relatch_idle");
	CHECK_EQ(cfg.media.idle_ms, m.idle_ms, "idle");
	CHECK_EQ(cfg.media.adopt_grace_ms, m.adopt_grace_ms, "adopt_grace");
	CHECK_EQ(cfg.media.latch, m.latch, "latch");
	CHECK_EQ(cfg.media.strict, m.strict, "strict");
	CHECK_EQ(cfg.media.rtp_stats, m.rtp_stats, "rtp_stats");
	CHECK_EQ(cfg.media.rtp_stats, 1, "rtp_stats: yes by default");
	CHECK_EQ(cfg.media.max_flows, m.max_flows, "max_flows");
	CHECK_TRUE(cfg.media.pin_dir == cfg.pin_dir, "media.pin_dir points "
		   "at the config's pin_dir");
	CHECK_TRUE(cfg.media.state_dir == cfg.state_dir, "media.state_dir "
		   "points at the config's state_dir");

	CHECK_EQ(config_validate(&cfg, err, sizeof(err)), 0,
		 "the defaults validate");
	/* the teardown's config_free releases the default pass headers: ASan
	 * reports a leak otherwise */
}

static void test_free_twice(void **state)
{
	(void)state;
	set_ok("route", "prefix:1 sip:a");
	config_free(&cfg);
	CHECK_EQ(cfg.nroutes, 0, "no routes after config_free");
	CHECK_EQ(cfg.npass, 0, "no pass headers after config_free");
	CHECK_TRUE(cfg.routes[0] == NULL, "route pointer cleared");
	config_free(&cfg); /* and again from the teardown: no double free */
}

/* ---- the file ------------------------------------------------------------- */

static const char full_conf[] =
	"# xrelayd.conf: every key\n"
	"listen = udp:192.0.2.10:5060\n"
	"listen = tcp:[2001:db8::10]:5070\n"
	"domain = voice.example.net\n"
	"users_file = /etc/xrelay/users\n"
	"route = prefix:+4420 sip:10.0.0.5:5060\n"
	"route = domain:example.org sips:gw.example.org\n"
	"pass_header = X-Account\n"
	"pass_header = Remote-Party-ID\n"
	"max_calls = 500\n"
	"retry_after = 30\n"
	"media_timeout = 2m\n"
	"session_expires = 900\n"
	"min_se = 120s\n"
	"reg_min_expires = 120\n"
	"reg_max_expires = 2h\n"
	"max_forwards = 30\n"
	"cdr_file = /var/log/xrelay/cdr.log\n"
	"iface = eth0:xdp\n"
	"iface = eth1:tc/203.0.113.7\n"
	"ports = 40000-40999\n"
	"quarantine = 2500ms\n"
	"relatch_idle = 10s\n"
	"idle = 90s\n"
	"adopt_grace = 1m\n"
	"latch = any\n"
	"strict = no\n"
	"rtp_stats = no\n"
	"max_flows = 200000\n"
	"pin_dir = /sys/fs/bpf/xr-test\n"
	"state_dir = /tmp/xr-state\n"
	"ctl_socket = /tmp/xr.sock\n"
	"metrics_listen = 127.0.0.1:9100\n"
	"ng_listen = udp:127.0.0.1:2223\n"
	"log_level = debug\n";

static void test_full_file(void **state)
{
	const char *path;
	char where[96];

	(void)state;
	path = write_conf(full_conf);
	if (config_load_file(&cfg, path, err, sizeof(err)) != 0)
		fail_msg("full file: %s", err);
	CHECK_EQ(cfg.nlisten, 2, "two listens, the default replaced");
	CHECK_EQ(cfg.listen[0].proto, 0, "listen 0 UDP");
	check_addr(&cfg.listen[0].addr, "192.0.2.10:5060", "listen 0");
	CHECK_EQ(cfg.listen[1].proto, 1, "listen 1 TCP");
	check_addr(&cfg.listen[1].addr, "[2001:db8::10]:5070", "listen 1");
	CHECK_STR(cfg.domain, "voice.example.net", "domain");
	CHECK_STR(cfg.users_file, "/etc/xrelay/users", "users_file");
	CHECK_EQ(cfg.nroutes, 2, "two routes");
	CHECK_STR(cfg.routes[0], "prefix:+4420 sip:10.0.0.5:5060", "route 0");
	CHECK_STR(cfg.routes[1], "domain:example.org sips:gw.example.org",
		  "route 1");
	CHECK_EQ(cfg.npass, 2, "two pass headers, the defaults replaced");
	CHECK_STR(cfg.pass_headers[0], "X-Account", "pass header 0");
	CHECK_STR(cfg.pass_headers[1], "Remote-Party-ID", "pass header 1");
	CHECK_EQ(cfg.max_calls, 500, "max_calls");
	CHECK_EQ(cfg.retry_after_s, 30, "retry_after");
	CHECK_EQ(cfg.media_timeout_ms, 120000, "media_timeout 2m in ms");
	CHECK_EQ(cfg.session_expires_s, 900, "session_expires");
	CHECK_EQ(cfg.min_se_s, 120, "min_se");
	CHECK_EQ(cfg.reg_min_expires_s, 120, "reg_min_expires");
	CHECK_EQ(cfg.reg_max_expires_s, 7200, "reg_max_expires 2h in s");
	CHECK_EQ(cfg.max_forwards, 30, "max_forwards");
	CHECK_STR(cfg.cdr_file, "/var/log/xrelay/cdr.log", "cdr_file");
	CHECK_EQ(cfg.media.nifaces, 2, "two interfaces");
	CHECK_STR(cfg.media.ifaces[0].name, "eth0", "iface 0 name");
	CHECK_EQ(cfg.media.ifaces[0].mode, ATTACH_XDP, "iface 0 mode");
	CHECK_EQ(cfg.media.ifaces[0].has_advertise, 0, "iface 0 advertise");
	CHECK_STR(cfg.media.ifaces[1].name, "eth1", "iface 1 name");
	CHECK_EQ(cfg.media.ifaces[1].mode, ATTACH_TC, "iface 1 mode");
	CHECK_EQ(cfg.media.ifaces[1].has_advertise, 1, "iface 1 advertise");
	check_addr(&cfg.media.ifaces[1].advertise, "203.0.113.7:0",
		   "iface 1 advertised address");
	CHECK_EQ(cfg.media.port_min, 40000, "port_min");
	CHECK_EQ(cfg.media.port_max, 40999, "port_max");
	CHECK_EQ(cfg.media.quarantine_ms, 2500, "quarantine");
	CHECK_EQ(cfg.media.relatch_idle_ms, 10000, "relatch_idle");
	CHECK_EQ(cfg.media.idle_ms, 90000, "idle");
	CHECK_EQ(cfg.media.adopt_grace_ms, 60000, "adopt_grace");
	CHECK_EQ(cfg.media.latch, LATCH_ANY, "latch");
	CHECK_EQ(cfg.media.strict, 0, "strict");
	CHECK_EQ(cfg.media.rtp_stats, 0, "rtp_stats");
	CHECK_EQ(cfg.media.max_flows, 200000, "max_flows");
	CHECK_STR(cfg.pin_dir, "/sys/fs/bpf/xr-test", "pin_dir");
	CHECK_STR(cfg.media.pin_dir, "/sys/fs/bpf/xr-test", "media.pin_dir");
	CHECK_STR(cfg.state_dir, "/tmp/xr-state", "state_dir");
	CHECK_STR(cfg.media.state_dir, "/tmp/xr-state", "media.state_dir");
	CHECK_STR(cfg.ctl_socket, "/tmp/xr.sock", "ctl_socket");
	CHECK_STR(cfg.metrics_listen, "127.0.0.1:9100", "metrics_listen");
	CHECK_STR(cfg.ng_listen, "udp:127.0.0.1:2223", "ng_listen");
	CHECK_EQ(cfg.log_level, LOG_DEBUG, "log_level");
	snprintf(where, sizeof(where), "%s:35", path);
	CHECK_STR(cfg.source, where, "source: the last line set");
	CHECK_EQ(config_validate(&cfg, err, sizeof(err)), 0,
		 "the full file validates");
}

static void test_file_errors(void **state)
{
	static const struct {
		const char *text;  /* the bad line, after three good lines */
		const char *problem, *hint;
	} cases[] = {
		{ "foo = 1", "unknown key 'foo' (see xrelayd --help for the "
		  "keys)", "" },
		{ "prots = 30000-30009", "unknown key 'prots'; did you mean "
		  "'ports'?", "--help" },
		{ "listen udp:192.0.2.1", "'listen udp:192.0.2.1' is not a "
		  "'key = value' line", "comment starts with '#'" },
		{ "= 5", "no key before '='", "key = value" },
		{ "ports = 30001-30010", "key 'ports': the first port 30001 is "
		  "odd", "(expected MIN-MAX, e.g. 30000-39999)" },
		{ "max_calls = -1", "key 'max_calls': '-1' is not a whole "
		  "number", "from 0 to 4294967295" },
		{ "max_forwards = 0", "key 'max_forwards': 0 is below 1",
		  "from 1 to 255" },
		{ "strict = maybe", "key 'strict': 'maybe' is not yes or no",
		  "(expected yes or no)" },
		{ "log_level = loud", "key 'log_level': unknown value 'loud'",
		  "one of error|warn|info|debug" },
		{ "latch = some", "key 'latch': unknown value 'some'",
		  "one of hint|any" },
		{ "metrics_listen = localhost:9642", "key 'metrics_listen': "
		  "'localhost:9642' is not an IP address and port",
		  "e.g. 127.0.0.1:9642" },
		{ "metrics_listen = 127.0.0.1", "is not an IP address and port",
		  "ADDR:PORT" },
		{ "kernel_share_warn = 101", "key 'kernel_share_warn': 101 is "
		  "above 100", "from 0 to 100" },
		{ "min_se = 30", "key 'min_se': 30 is below 90s",
		  "a bare number is seconds" },
		{ "media_timeout = 5x", "'5x' is not a duration", "ms, s, m" },
		{ "listen = sctp:192.0.2.1", "neither udp: nor tcp:",
		  "e.g. udp:0.0.0.0:5060" },
		{ "iface = eth0", "'eth0' has no mode", "NAME:MODE" },
		{ "route = prefix:+44", "has no next hop",
		  "prefix:DIGITS sip:URI or domain:NAME sip:URI" },
		{ "pass_header = X Y", "' ' in 'X Y' is not allowed",
		  "a header name" },
		{ "domain = 0123456789012345678901234567890123456789012345678901"
		  "23456789012345678901234567890123456789012345678901234567890"
		  "12345678901234567890", "131 characters long; the limit is 127",
		  "at most 127 characters" },
	};
	char text[512], what[256], where[96];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path;

		config_free(&cfg);
		config_defaults(&cfg);
		snprintf(text, sizeof(text), "# a comment\n\nmax_calls = 3\n"
			 "%s\nmax_calls = 4\n", cases[i].text);
		path = write_conf(text);
		snprintf(what, sizeof(what), "'%s'", cases[i].text);
		CHECK_EQ(config_load_file(&cfg, path, err, sizeof(err)), -1,
			 what);
		snprintf(where, sizeof(where), "%s:4: ", path);
		CHECK_TRUE(strncmp(err, where, strlen(where)) == 0, what);
		CHECK_HAS(err, cases[i].problem, what);
		CHECK_HAS(err, cases[i].hint, what);
		CHECK_EQ(cfg.max_calls, 3, "the lines before were read, the "
			 "lines after not");
		unlink(path);
		ntmp--;
	}
}

static void test_file_missing(void **state)
{
	(void)state;
	CHECK_EQ(config_load_file(&cfg, "/nonexistent/xrelayd.conf", err,
				  sizeof(err)), -1, "missing file");
	CHECK_HAS(err, "/nonexistent/xrelayd.conf: cannot open: ",
		  "names the file");
	CHECK_HAS(err, "No such file", "says why");
}

static void test_comments_whitespace(void **state)
{
	(void)state;
	CHECK_EQ(load("# first line a comment\n"
		      "   # an indented comment\n"
		      "\n"
		      "   \t \n"
		      "\t max_calls\t=\t 7  \r\n"
		      "domain=tight.example\n"
		      "cdr_file = /var/log/a#b   # kept: '#' inside a value\n"
		      "users_file =\n"
		      "max-forwards = 20 # a comment after a value\n"
		      "state_dir = #only a comment\n"
		      "ctl_socket = /run/x.sock"), /* no final newline */
		 0, "load with comments and spaces");
	CHECK_EQ(cfg.max_calls, 7, "tabs, spaces and CRLF around a value");
	CHECK_STR(cfg.domain, "tight.example", "no spaces around '='");
	CHECK_STR(cfg.cdr_file, "/var/log/a#b", "'#' inside a value stays");
	CHECK_STR(cfg.users_file, "", "an empty value");
	CHECK_EQ(cfg.max_forwards, 20, "a comment after a value");
	CHECK_STR(cfg.state_dir, "", "a value that is only a comment");
	CHECK_TRUE(cfg.media.state_dir == NULL, "empty state_dir: no journal");
	CHECK_STR(cfg.ctl_socket, "/run/x.sock", "the last line without "
		  "a newline");
}

/* ---- flags ------------------------------------------------------------------- */

static void test_flags_override_file(void **state)
{
	const char *path;
	int exit_now = -1;

	(void)state;
	path = write_conf("max_calls = 10\ndomain = file.example\n"
			  "ports = 40000-40099\n");
	/* --config after the flag: the file is still read first */
	CHECK_EQ(args(ARGV("--max-calls", "20", "--config", (char *)path),
		      &exit_now), 0, "file + flags");
	CHECK_EQ(exit_now, 0, "no exit");
	CHECK_EQ(cfg.max_calls, 20, "the flag wins over the file");
	CHECK_STR(cfg.domain, "file.example", "the file's other values stay");
	CHECK_EQ(cfg.media.port_min, 40000, "the file's ports");
	CHECK_STR(cfg.source, "--max-calls", "source: the last flag");
}

static void test_dash_underscore(void **state)
{
	int exit_now;

	(void)state;
	CHECK_EQ(args(ARGV("--max_calls", "3", "--reg-max-expires", "7200",
			   "--pass_header", "X-A", "--log_level=warn"),
		      &exit_now), 0, "flags with '-' and '_'");
	CHECK_EQ(cfg.max_calls, 3, "--max_calls");
	CHECK_EQ(cfg.reg_max_expires_s, 7200, "--reg-max-expires");
	CHECK_EQ(cfg.npass, 1, "--pass_header");
	CHECK_EQ(cfg.log_level, LOG_WARN, "--log_level=warn");
	CHECK_EQ(load("max-calls = 9\nmin_se = 100\nmin-se = 110\n"), 0,
		 "file keys with '-'");
	CHECK_EQ(cfg.max_calls, 9, "max-calls in the file");
	CHECK_EQ(cfg.min_se_s, 110, "min-se and min_se are one key");
}

static void test_flag_value_forms(void **state)
{
	int exit_now;

	(void)state;
	CHECK_EQ(args(ARGV("--domain=eq.example", "--ports", "50000-50999",
			   "--route=prefix:1 sip:a;x=y", "--strict",
			   "--users-file", "", "--max-calls=0"),
		      &exit_now), 0, "--key=value and --key value");
	CHECK_STR(cfg.domain, "eq.example", "--domain=VALUE");
	CHECK_EQ(cfg.media.port_min, 50000, "--ports VALUE");
	CHECK_STR(cfg.routes[0], "prefix:1 sip:a;x=y", "split at the first "
		  "'=' only");
	CHECK_EQ(cfg.media.strict, 1, "--strict alone is yes");
	CHECK_STR(cfg.users_file, "", "an empty value as its own argument");
	CHECK_EQ(args(ARGV("--strict", "no"), &exit_now), 0, "--strict no");
	CHECK_EQ(cfg.media.strict, 0, "--strict no");
	CHECK_EQ(args(ARGV("--strict=yes", "--latch", "any"), &exit_now), 0,
		 "--strict=yes");
	CHECK_EQ(cfg.media.strict, 1, "--strict=yes");
	CHECK_EQ(args(ARGV("--strict=off"), &exit_now), 0, "--strict=off");
	CHECK_EQ(cfg.media.strict, 0, "--strict=off");
	CHECK_EQ(args(ARGV("--strict", "--latch", "hint"), &exit_now), 0,
		 "--strict before another flag");
	CHECK_EQ(cfg.media.strict, 1, "--strict before a flag is yes");
	CHECK_EQ(cfg.media.latch, LATCH_HINT, "and the next flag is read");
}

static void test_flag_errors(void **state)
{
	/* not static: the argv arrays are compound literals */
	const struct {
		char **argv;
		const char *msg;
	} cases[] = {
		{ ARGV("--prots", "30000-30009"), "--prots: unknown option; "
		  "did you mean --ports? (see xrelayd --help" },
		{ ARGV("--bogus"), "--bogus: unknown option (see xrelayd "
		  "--help" },
		{ ARGV("--reg_min_expirse", "5"), "did you mean "
		  "--reg-min-expires?" },
		{ ARGV("--ports"), "--ports: needs a value (expected MIN-MAX" },
		{ ARGV("--domain", "--ports", "30000-30009"), "--domain: needs "
		  "a value" },
		{ ARGV("--ports", "30000-30000"), "--ports: the first port "
		  "30000 is not below the last 30000 (expected MIN-MAX" },
		{ ARGV("--pass-header=a:b"), "--pass-header: ':' in 'a:b' is "
		  "not allowed" },
		{ ARGV("--config", "/a", "--config=/b"), "--config: given "
		  "twice" },
		{ ARGV("--config"), "--config: needs a path" },
		{ ARGV("--check-config=yes"), "--check-config: takes no value" },
		{ ARGV("extra"), "unexpected argument 'extra'" },
		{ ARGV("--max-calls", "1", "-v"), "unexpected argument '-v'" },
		{ ARGV("--"), "unexpected argument '--'" },
	};
	int exit_now;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		exit_now = -1;
		CHECK_EQ(args(cases[i].argv, &exit_now), -1, cases[i].msg);
		CHECK_EQ(exit_now, 0, "no exit_now on an error");
		CHECK_HAS(err, cases[i].msg, cases[i].msg);
		CHECK_TRUE(strncmp(err, "--", 2) == 0 ||
			   strncmp(err, "unexpected", 10) == 0,
			   "a flag error starts with the flag");
	}
}

/* ---- repeatable keys ----------------------------------------------------------- */

static void test_lists_file_appends(void **state)
{
	(void)state;
	CHECK_EQ(load("pass_header = X-A\nlisten = udp:127.0.0.1\n"
		      "pass_header = X-B\nlisten = tcp:127.0.0.1\n"
		      "pass_header = Y-*\n"), 0, "lists in a file");
	CHECK_EQ(cfg.npass, 3, "three pass headers (the defaults replaced)");
	CHECK_STR(cfg.pass_headers[0], "X-A", "pass 0");
	CHECK_STR(cfg.pass_headers[1], "X-B", "pass 1");
	CHECK_STR(cfg.pass_headers[2], "Y-*", "pass 2");
	CHECK_EQ(cfg.nlisten, 2, "two listens (the default replaced)");
	CHECK_EQ(cfg.listen[0].proto, 0, "listen 0 UDP");
	CHECK_EQ(cfg.listen[1].proto, 1, "listen 1 TCP");
	/* a second file on top: its values add to the first's */
	CHECK_EQ(load("pass_header = Z\n"), 0, "a second file");
	CHECK_EQ(cfg.npass, 4, "the second file adds");
}

static void test_lists_flags_replace(void **state)
{
	const char *path;
	int exit_now;

	(void)state;
	path = write_conf("listen = udp:127.0.0.1:5060\n"
			  "listen = udp:127.0.0.2:5060\n"
			  "route = prefix:1 sip:a\nroute = prefix:2 sip:b\n"
			  "iface = eth0:xdp\n"
			  "pass_header = X-File\n");
	CHECK_EQ(args(ARGV("--config", (char *)path,
			   "--listen", "tcp:127.0.0.9:5070",
			   "--route", "prefix:9 sip:z",
			   "--listen", "udp:127.0.0.9"), &exit_now),
		 0, "lists from file and flags");
	CHECK_EQ(cfg.nlisten, 2, "the flags' listens replace the file's");
	check_addr(&cfg.listen[0].addr, "127.0.0.9:5070", "listen 0: flag");
	CHECK_EQ(cfg.listen[0].proto, 1, "listen 0 TCP");
	check_addr(&cfg.listen[1].addr, "127.0.0.9:5060", "listen 1: flag");
	CHECK_EQ(cfg.nroutes, 1, "one route: the flag's");
	CHECK_STR(cfg.routes[0], "prefix:9 sip:z", "route from the flag");
	CHECK_EQ(cfg.media.nifaces, 1, "the file's iface stays");
	CHECK_STR(cfg.media.ifaces[0].name, "eth0", "iface from the file");
	CHECK_EQ(cfg.npass, 1, "the file's pass header stays");
	CHECK_STR(cfg.pass_headers[0], "X-File", "pass header from the file");
}

static void test_lists_limits(void **state)
{
	char v[64];

	(void)state;
	for (int i = 0; i < CFG_MAX_LISTEN; i++) {
		snprintf(v, sizeof(v), "udp:127.0.0.1:%d", 6000 + i);
		set_ok("listen", v);
	}
	check_bad("listen", "udp:127.0.0.1:7000", "more than 8 listen");
	for (int i = 0; i < CFG_MAX_PASS; i++) {
		snprintf(v, sizeof(v), "X-H%d", i);
		set_ok("pass_header", v);
	}
	check_bad("pass_header", "X-Last", "more than 32 values");
	CHECK_EQ(cfg.npass, CFG_MAX_PASS, "full, not past it");
}

/* ---- value syntaxes ------------------------------------------------------------- */

static void test_durations(void **state)
{
	static const struct {
		const char *key, *value;
		size_t off;
		uint32_t exp;
	} ok[] = {
		{ "quarantine", "500ms", offsetof(struct xr_config,
			media.quarantine_ms), 500 },
		{ "quarantine", "2", offsetof(struct xr_config,
			media.quarantine_ms), 2000 },
		{ "idle", "2m", offsetof(struct xr_config, media.idle_ms),
			120000 },
		{ "idle", "1h", offsetof(struct xr_config, media.idle_ms),
			3600000 },
		{ "idle", "24h", offsetof(struct xr_config, media.idle_ms),
			86400000 },
		{ "relatch_idle", "0", offsetof(struct xr_config,
			media.relatch_idle_ms), 0 },
		{ "retry_after", "2m", offsetof(struct xr_config,
			retry_after_s), 120 },
		{ "retry_after", "30 s", offsetof(struct xr_config,
			retry_after_s), 30 },
		{ "retry_after", "3000ms", offsetof(struct xr_config,
			retry_after_s), 3 },
		{ "session_expires", "0", offsetof(struct xr_config,
			session_expires_s), 0 },
		{ "media_timeout", "45", offsetof(struct xr_config,
			media_timeout_ms), 45000 },
	};
	static const struct {
		const char *key, *value, *problem;
	} bad[] = {
		{ "retry_after", "1500ms", "1500ms is not a whole number of "
		  "seconds" },
		{ "idle", "25h", "25h is above 24h" },
		{ "idle", "1d", "'1d' is not a duration" },
		{ "idle", "-1", "'-1' is not a duration" },
		{ "idle", "1.5s", "'1.5s' is not a duration" },
		{ "idle", "", "'' is not a duration" },
		{ "idle", "99999999999999999999999", "is not a duration" },
		{ "reg_min_expires", "0", "0 is below 1s" },
	};
	uint32_t got;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		set_ok(ok[i].key, ok[i].value);
		memcpy(&got, (char *)&cfg + ok[i].off, sizeof(got));
		CHECK_EQ(got, ok[i].exp, ok[i].value);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_bad(bad[i].key, bad[i].value, bad[i].problem);
	CHECK_EQ(cfg.media.idle_ms, 86400000, "a bad value changes nothing");
}

static void test_listen(void **state)
{
	static const struct {
		const char *value, *addr;
		int proto;
	} ok[] = {
		{ "udp:192.0.2.1:5070", "192.0.2.1:5070", 0 },
		{ "tcp:192.0.2.1", "192.0.2.1:5060", 1 },
		{ "udp:[2001:db8::1]:5080", "[2001:db8::1]:5080", 0 },
		{ "tcp:[::1]", "[::1]:5060", 1 },
		{ "UDP:10.0.0.1:5061", "10.0.0.1:5061", 0 },
		{ "tcp:192.0.2.1:5070", "192.0.2.1:5070", 1 }, /* other proto */
	};
	static const struct {
		const char *value, *problem;
	} bad[] = {
		{ "udp:2001:db8::1:5060", "needs brackets" },
		{ "udp:::1", "needs brackets" },
		{ "192.0.2.1:5060", "neither udp: nor tcp:" },
		{ "udp:", "is not an IP address" },
		{ "udp:sip.example.net", "is not an IP address" },
		{ "udp:192.0.2.1:70000", "is not an IP address" },
		{ "udp:192.0.2.1:", "is not an IP address" },
		{ "udp:[2001:db8::1", "is not an IP address" },
		{ "udp:192.0.2.1:0", "port 0" },
		{ "udp:192.0.2.1:5070", "udp:192.0.2.1:5070 is given twice" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		set_ok("listen", ok[i].value);
		CHECK_EQ(cfg.nlisten, (int)i + 1, ok[i].value);
		check_addr(&cfg.listen[i].addr, ok[i].addr, ok[i].value);
		CHECK_EQ(cfg.listen[i].proto, ok[i].proto, ok[i].value);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_bad("listen", bad[i].value, bad[i].problem);
	CHECK_EQ(cfg.nlisten, 6, "bad values add nothing");
}

static void test_iface(void **state)
{
	static const struct {
		const char *value, *name;
		enum attach_mode mode;
		const char *adv; /* NULL: none */
	} ok[] = {
		{ "eth0:xdp", "eth0", ATTACH_XDP, NULL },
		{ "eth1:xdp-generic/203.0.113.5", "eth1", ATTACH_XDP_GENERIC,
		  "203.0.113.5:0" },
		{ "veth-a:tc/2001:db8::5", "veth-a", ATTACH_TC,
		  "[2001:db8::5]:0" },
		{ "lo:off", "lo", ATTACH_OFF, NULL },
		{ "abcdefghijklmno:tc", "abcdefghijklmno", ATTACH_TC, NULL },
	};
	static const struct {
		const char *value, *problem;
	} bad[] = {
		{ "eth9", "'eth9' has no mode" },
		{ "eth9:bpf", "unknown mode 'bpf'" },
		{ "eth9:xdp:x", "unknown mode 'xdp:x'" },
		{ ":xdp", "'' is not an interface name" },
		{ "eth 9:xdp", "'eth 9' is not an interface name" },
		{ "abcdefghijklmnop:xdp", "longer than 15 characters" },
		{ "eth9:xdp/", "'' is not an IP address" },
		{ "eth9:xdp/1.2.3", "'1.2.3' is not an IP address" },
		{ "eth0:tc", "interface eth0 is given twice" },
	};
	char v[32];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const struct media_iface_cfg *ic = &cfg.media.ifaces[i];

		set_ok("iface", ok[i].value);
		CHECK_STR(ic->name, ok[i].name, ok[i].value);
		CHECK_EQ(ic->mode, ok[i].mode, ok[i].value);
		CHECK_EQ(ic->has_advertise, ok[i].adv != NULL, ok[i].value);
		if (ok[i].adv)
			check_addr(&ic->advertise, ok[i].adv, ok[i].value);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_bad("iface", bad[i].value, bad[i].problem);
	for (int i = (int)(sizeof(ok) / sizeof(ok[0])); i < MEDIA_MAX_IFACES;
	     i++) {
		snprintf(v, sizeof(v), "x%d:tc", i);
		set_ok("iface", v);
	}
	check_bad("iface", "y:tc", "more than 8 interfaces");
	CHECK_EQ(cfg.media.nifaces, MEDIA_MAX_IFACES, "full, not past it");
}

static void test_ports(void **state)
{
	static const struct {
		const char *value;
		unsigned min, max;
	} ok[] = {
		{ "30000-39999", 30000, 39999 },
		{ "1024-1025", 1024, 1025 },
		{ "65534-65535", 65534, 65535 },
		{ "20000-20010", 20000, 20010 },
	};
	static const struct {
		const char *value, *problem;
	} bad[] = {
		{ "30001-39999", "the first port 30001 is odd" },
		{ "40000-30000", "the first port 40000 is not below the last "
		  "30000" },
		{ "30000-30000", "not below" },
		{ "1000-2000", "1000-2000 is outside 1024-65535" },
		{ "30000-70000", "30000-70000 is outside 1024-65535" },
		{ "99999999999-100000000000", "outside 1024-65535" },
		{ "30000", "'30000' is not a range" },
		{ "a-b", "'a-b' is not a range" },
		{ "30000-39999x", "'30000-39999x' is not a range" },
		{ "30000 - 39999", "is not a range" },
		{ "-30000-39999", "is not a range" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		set_ok("ports", ok[i].value);
		CHECK_EQ(cfg.media.port_min, ok[i].min, ok[i].value);
		CHECK_EQ(cfg.media.port_max, ok[i].max, ok[i].value);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_bad("ports", bad[i].value, bad[i].problem);
	CHECK_EQ(cfg.media.port_min, 20000, "bad ranges change nothing");
	CHECK_EQ(cfg.media.port_max, 20010, "bad ranges change nothing");
}

static void test_route_and_headers(void **state)
{
	static const char *const routes_ok[] = {
		"prefix:+4420 sip:10.0.0.5:5060",
		"prefix: sip:default.example.net",
		"domain:example.net   sips:gw.example.net;transport=tcp",
		"PREFIX:0 SIP:10.0.0.1", /* any case, as sip/route.c */
	};
	static const struct {
		const char *value, *problem;
	} routes_bad[] = {
		{ "sip:10.0.0.1", "starts with neither prefix: nor domain:" },
		{ "user:+44 sip:a", "starts with neither" },
		{ "prefix:+44", "'prefix:+44' has no next hop" },
		{ "domain: sip:a", "the domain is empty" },
		{ "prefix:1 tel:+441", "'tel:+441' is not a sip: or sips: URI" },
		{ "prefix:1 sip:", "has no host" },
		{ "prefix:1 sip:a extra", "text after the next hop" },
	};
	static const char *const headers_ok[] = { "X-Foo", "P-*", "a.b_c+d~" };
	static const struct {
		const char *value, *problem;
	} headers_bad[] = {
		{ "", "'' names no header" },
		{ "*", "'*' names no header" },
		{ "X-*-Y", "'*' in 'X-*-Y' is not allowed" },
		{ "X-Foo:", "':' in 'X-Foo:' is not allowed" },
		{ "Caf\xc3\xa9", "is not allowed in a header name" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(routes_ok) / sizeof(routes_ok[0]); i++) {
		set_ok("route", routes_ok[i]);
		CHECK_STR(cfg.routes[i], routes_ok[i], "route stored as given");
	}
	for (size_t i = 0; i < sizeof(routes_bad) / sizeof(routes_bad[0]); i++)
		check_bad("route", routes_bad[i].value, routes_bad[i].problem);
	CHECK_EQ(cfg.nroutes, 4, "bad routes add nothing");
	for (size_t i = 0; i < sizeof(headers_ok) / sizeof(headers_ok[0]);
	     i++) {
		set_ok("pass_header", headers_ok[i]);
		CHECK_STR(cfg.pass_headers[i], headers_ok[i], "header stored");
	}
	for (size_t i = 0; i < sizeof(headers_bad) / sizeof(headers_bad[0]);
	     i++)
		check_bad("pass_header", headers_bad[i].value,
			  headers_bad[i].problem);
	CHECK_EQ(cfg.npass, 3, "bad headers add nothing");
}

static void test_bools(void **state)
{
	static const struct {
		const char *value;
		int exp;
	} ok[] = {
		{ "no", 0 }, { "yes", 1 }, { "false", 0 }, { "true", 1 },
		{ "off", 0 }, { "on", 1 }, { "0", 0 }, { "1", 1 },
		{ "NO", 0 }, { "Yes", 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		set_ok("strict", ok[i].value);
		CHECK_EQ(cfg.media.strict, ok[i].exp, ok[i].value);
	}
	check_bad("strict", "2", "'2' is not yes or no");
	check_bad("strict", "", "'' is not yes or no");
	check_bad("strict", "yess", "'yess' is not yes or no");
	CHECK_EQ(cfg.media.strict, 1, "bad values change nothing");
}

static void test_enums(void **state)
{
	static const struct {
		const char *value;
		int exp;
	} levels[] = {
		{ "error", LOG_ERR }, { "warn", LOG_WARN },
		{ "debug", LOG_DEBUG }, { "info", LOG_INFO },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		set_ok("log_level", levels[i].value);
		CHECK_EQ(cfg.log_level, levels[i].exp, levels[i].value);
	}
	set_ok("latch", "any");
	CHECK_EQ(cfg.media.latch, LATCH_ANY, "latch any");
	set_ok("latch", "hint");
	CHECK_EQ(cfg.media.latch, LATCH_HINT, "latch hint");
	check_bad("log_level", "verbose", "unknown value 'verbose'");
	check_bad("latch", "all", "unknown value 'all'");
	CHECK_HAS(err, "(expected one of hint|any)", "the choices");
	CHECK_EQ(cfg.media.latch, LATCH_HINT, "bad values change nothing");
}

static void test_uints_and_strings(void **state)
{
	char longpath[300];

	(void)state;
	set_ok("max_calls", "4294967295");
	CHECK_EQ(cfg.max_calls, 4294967295u, "max_calls at UINT32_MAX");
	check_bad("max_calls", "4294967296", "4294967296 is above 4294967295");
	check_bad("max_calls", "0x10", "'0x10' is not a whole number");
	check_bad("max_calls", "+5", "'+5' is not a whole number");
	check_bad("max_calls", "", "'' is not a whole number");
	set_ok("max_forwards", "255");
	CHECK_EQ(cfg.max_forwards, 255, "max_forwards at its maximum");
	check_bad("max_forwards", "256", "256 is above 255");
	set_ok("max_flows", "1048576");
	CHECK_EQ(cfg.media.max_flows, 1048576, "max_flows");

	memset(longpath, 'a', 255);
	longpath[255] = 0;
	set_ok("cdr_file", longpath);
	CHECK_EQ(strlen(cfg.cdr_file), 255, "255 characters fit in 256");
	longpath[255] = 'a';
	longpath[256] = 0;
	check_bad("cdr_file", longpath, "256 characters long; the limit is "
		  "255");
	CHECK_EQ(strlen(cfg.cdr_file), 255, "a too long value changes nothing");
}

static void test_media_dirs(void **state)
{
	(void)state;
	set_ok("pin_dir", "/sys/fs/bpf/other");
	CHECK_TRUE(cfg.media.pin_dir == cfg.pin_dir, "media.pin_dir points "
		   "into the config");
	CHECK_STR(cfg.media.pin_dir, "/sys/fs/bpf/other", "media.pin_dir");
	set_ok("pin_dir", "");
	CHECK_TRUE(cfg.media.pin_dir == NULL, "empty pin_dir: NULL (the "
		   "engine's default)");
	set_ok("state_dir", "");
	CHECK_TRUE(cfg.media.state_dir == NULL, "empty state_dir: NULL");
	set_ok("state_dir", "/srv/xr");
	CHECK_STR(cfg.media.state_dir, "/srv/xr", "media.state_dir");
}

static void test_set_api(void **state)
{
	(void)state;
	CHECK_EQ(config_set(&cfg, "nope", "1", "--nope", err, sizeof(err)),
		 -1, "unknown flag via config_set");
	CHECK_HAS(err, "--nope: unknown option", "flag form of the message");
	CHECK_EQ(config_set(&cfg, "ports", "1-2", "--ports", err, sizeof(err)),
		 -1, "bad flag value via config_set");
	CHECK_TRUE(strncmp(err, "--ports: 1-2 is outside", 23) == 0,
		   "a flag's error starts with the flag, no key ''");
	CHECK_EQ(config_set(&cfg, "idle", "5s", NULL, err, sizeof(err)), 0,
		 "where may be NULL");
	CHECK_EQ(cfg.media.idle_ms, 5000, "set with where NULL");
	err[0] = 0;
	CHECK_EQ(config_set(&cfg, "nope", "1", "f:1", err, 8), -1,
		 "a short err buffer");
	CHECK_EQ(strlen(err), 7, "err truncated, NUL-terminated");
}

/* ---- checks across keys ------------------------------------------------------------ */

static void test_validate(void **state)
{
	static const struct {
		const char *conf, *msg; /* msg NULL: valid */
	} cases[] = {
		{ "reg_min_expires = 1h\nreg_max_expires = 60\n",
		  "reg_min_expires (1h) is above reg_max_expires (1m)" },
		{ "reg_min_expires = 1h\nreg_max_expires = 1h\n", NULL },
		{ "min_se = 120\nsession_expires = 100\n",
		  "min_se (2m) is above session_expires (100s)" },
		{ "min_se = 120\nsession_expires = 0\n", NULL },
		{ "min_se = 120\nsession_expires = 120\n", NULL },
		{ "listen = udp:0.0.0.0:30010\n", "listen udp:0.0.0.0:30010 is "
		  "inside the media ports 30000-39999" },
		{ "listen = udp:0.0.0.0:30010\nports = 40000-40009\n", NULL },
		{ "listen = tcp:0.0.0.0:30010\n", NULL }, /* media is UDP */
		{ "domain =\n", "domain is empty" },
		{ "ctl_socket = /run/xrelay/a-very-long-directory-name-that-"
		  "goes-on/and-on/and-on/and-on/and-on/until-it-no-longer-fits.sock\n",
		  "longer than the 107 characters of a UNIX socket path" },
	};
	int exit_now;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path;
		int rc;

		config_free(&cfg);
		config_defaults(&cfg);
		path = write_conf(cases[i].conf);
		rc = args(ARGV("--config", (char *)path), &exit_now);
		CHECK_EQ(rc, cases[i].msg ? -1 : 0, cases[i].conf);
		if (cases[i].msg)
			CHECK_HAS(err, cases[i].msg, cases[i].conf);
		unlink(path);
		ntmp--;
	}

	/* fields set directly, past the parsers */
	config_free(&cfg);
	config_defaults(&cfg);
	cfg.nlisten = 0;
	CHECK_EQ(config_validate(&cfg, err, sizeof(err)), -1, "no listen");
	CHECK_HAS(err, "no listen address (add one, e.g. listen = "
		  "udp:0.0.0.0:5060)", "no listen");
	cfg.nlisten = 1;
	cfg.media.port_min = 30001;
	CHECK_EQ(config_validate(&cfg, err, sizeof(err)), -1, "odd port_min");
	CHECK_HAS(err, "ports: the first port 30001 is odd", "odd port_min");
	cfg.media.port_min = 30000;
	cfg.media.port_max = 70000;
	CHECK_EQ(config_validate(&cfg, err, sizeof(err)), -1, "port_max");
	CHECK_HAS(err, "outside 1024-65535", "port_max out of range");
}

/* ---- --help, --check-config, the README table ------------------------------------------- */

static void test_check_config(void **state)
{
	char out[16384];
	const char *path;
	int exit_now = -1;

	(void)state;
	path = write_conf("max_calls = 5\n");
	CHECK_EQ(run_args(ARGV("--config", (char *)path, "--check-config"),
			  &exit_now, out, sizeof(out)), 0, "--check-config");
	CHECK_EQ(exit_now, 1, "--check-config sets exit_now");
	CHECK_STR(out, "xrelayd: config ok\n", "--check-config prints ok");
	CHECK_EQ(cfg.max_calls, 5, "the file was read");

	exit_now = -1;
	CHECK_EQ(run_args(ARGV("--check-config", "--config", (char *)path,
			       "--reg-min-expires", "2h"),
			  &exit_now, out, sizeof(out)), -1,
		 "--check-config of a bad config");
	CHECK_EQ(exit_now, 0, "an error does not set exit_now");
	CHECK_STR(out, "", "nothing printed: the caller prints err");
	CHECK_HAS(err, "reg_min_expires (2h) is above reg_max_expires (1h)",
		  "the validation error");

	exit_now = -1;
	CHECK_EQ(run_args(ARGV("--check-config", "--config",
			       "/nonexistent.conf"),
			  &exit_now, out, sizeof(out)), -1,
		 "--check-config of a missing file");
	CHECK_HAS(err, "/nonexistent.conf: cannot open", "names the file");
	CHECK_EQ(exit_now, 0, "no exit_now");
}

static void test_no_args(void **state)
{
	char *argv[] = { "xrelayd", NULL };
	char out[256];
	int exit_now = -1;

	(void)state;
	CHECK_EQ(run_args(argv, &exit_now, out, sizeof(out)), 0, "no flags");
	CHECK_EQ(exit_now, 0, "run the daemon");
	CHECK_STR(out, "", "nothing printed");
	CHECK_EQ(cfg.nlisten, 1, "the default listen");
}

/* Every key of the brief, as the file names it. */
/* ng_listen is checked when set, ng_allow takes addresses and prefixes,
 * and a UDP ng port among the media ports is refused. */
static void test_ng_keys(void **state)
{
	(void)state;
	CHECK_EQ(config_set(&cfg, "ng_listen", "udp:127.0.0.1:2223,tcp:2224",
			    "x.conf:1", err, sizeof(err)), 0, "ng_listen");
	CHECK_STR(cfg.ng_listen, "udp:127.0.0.1:2223,tcp:2224",
		  "kept as written");
	CHECK_EQ(config_set(&cfg, "ng_listen", "127.0.0.1:2223", "x.conf:2",
			    err, sizeof(err)), -1, "no protocol");
	CHECK_HAS(err, "x.conf:2: key 'ng_listen': '127.0.0.1:2223' starts "
		  "with neither udp: nor tcp:", "the error names the problem");
	CHECK_HAS(err, "e.g. udp:127.0.0.1:2223", "and the expected form");
	CHECK_EQ(config_set(&cfg, "ng_listen", "", "x.conf:3", err,
			    sizeof(err)), 0, "empty: off");
	CHECK_EQ(cfg.nng_allow, 0, "ng_allow: none by default");
	CHECK_EQ(config_set(&cfg, "ng_allow", "10.0.0.0/8", "x.conf:4", err,
			    sizeof(err)), 0, "a prefix");
	CHECK_EQ(config_set(&cfg, "ng_allow", "2001:db8::7", "x.conf:5", err,
			    sizeof(err)), 0, "an address");
	CHECK_EQ(cfg.nng_allow, 2, "both kept");
	CHECK_EQ(config_set(&cfg, "ng_allow", "10.0.0.0/40", "x.conf:6", err,
			    sizeof(err)), -1, "a bad prefix");
	CHECK_HAS(err, "not a prefix length from 0 to 32", "says why");
	config_set(&cfg, "ng_listen", "udp:127.0.0.1:30002", "x.conf:7", err,
		   sizeof(err));
	CHECK_EQ(config_validate(&cfg, err, sizeof(err)), -1,
		 "an ng port among the media ports");
	CHECK_HAS(err, "UDP port 30002 is inside the media ports", "says so");
}

static void test_hep_keys(void **state)
{
	(void)state;
	CHECK_STR(cfg.hep_collector, "", "hep_collector: off by default");
	CHECK_EQ(cfg.hep_capture_id, 2001, "hep_capture_id: 2001 by default");
	CHECK_STR(cfg.hep_auth_key, "", "hep_auth_key: none by default");
	CHECK_EQ(load("hep_collector = [2001:db8::7]:9060\n"
		      "hep_capture_id = 4242\n"
		      "hep_auth_key = s3cret\n"), 0, "the three keys in a file");
	CHECK_STR(cfg.hep_collector, "[2001:db8::7]:9060",
		  "hep_collector: an IPv6 collector");
	CHECK_EQ(cfg.hep_capture_id, 4242, "hep_capture_id: as set");
	CHECK_STR(cfg.hep_auth_key, "s3cret", "hep_auth_key: as set");
	CHECK_EQ(config_set(&cfg, "hep_collector", "homer:9060", "x.conf:1",
			    err, sizeof(err)), -1, "hep_collector: a name");
	CHECK_HAS(err, "x.conf:1: key 'hep_collector': 'homer:9060' is not an "
		  "IP address and port", "the error names the problem");
	CHECK_HAS(err, "e.g. 10.0.0.7:9060", "and the expected form");
	CHECK_EQ(config_set(&cfg, "hep_collector", "10.0.0.7", "x.conf:2", err,
			    sizeof(err)), -1, "hep_collector: no port");
	CHECK_EQ(config_set(&cfg, "hep_capture_id", "-1", "x.conf:3", err,
			    sizeof(err)), -1, "hep_capture_id: negative");
	CHECK_EQ(config_set(&cfg, "hep_collector", "", "x.conf:4", err,
			    sizeof(err)), 0, "hep_collector: empty is off");
	CHECK_STR(cfg.hep_collector, "", "hep_collector: off again");
}

static const char *const all_keys[] = {
	"listen", "domain", "users_file", "route", "pass_header", "max_call_rate",
	"max_calls",
	"retry_after", "media_timeout", "session_expires", "min_se",
	"reg_min_expires", "reg_max_expires", "max_forwards", "cdr_file",
	"hep_collector", "hep_capture_id", "hep_auth_key",
	"iface", "ports", "quarantine", "relatch_idle", "idle", "adopt_grace",
	"latch", "stop_ends_calls", "strict", "rtp_stats", "max_flows", "pin_dir", "state_dir", "ctl_socket",
	"metrics_listen", "ng_listen", "ng_allow", "log_level", "kernel_share_warn",
};

static void test_help(void **state)
{
	char out[16384], flag[64];
	int exit_now = -1;

	(void)state;
	CHECK_EQ(run_args(ARGV("--max-calls", "5", "--help", "--config",
			       "/nonexistent.conf"),
			  &exit_now, out, sizeof(out)), 0, "--help");
	CHECK_EQ(exit_now, 1, "--help sets exit_now");
	CHECK_EQ(cfg.max_calls, 0, "--help applies no flag");
	CHECK_TRUE(strncmp(out, "usage: xrelayd [--config PATH]", 30) == 0,
		   "usage first");
	CHECK_HAS(out, "  --check-config ", "--check-config described");
	CHECK_HAS(out, "  --ports MIN-MAX ", "a key with its value form");
	CHECK_HAS(out, "(default: 30000-39999)", "a default");
	CHECK_HAS(out, "(default: udp:0.0.0.0:5060)", "a list's default");
	CHECK_HAS(out, "(default: 5s)", "a duration's default");
	CHECK_HAS(out, "  --log-level error|warn|info|debug\n",
		  "a long form gets its own line");
	for (size_t i = 0; i < sizeof(all_keys) / sizeof(all_keys[0]); i++) {
		snprintf(flag, sizeof(flag), "  --%s ", all_keys[i]);
		for (char *p = flag; *p; p++)
			if (*p == '_')
				*p = '-';
		CHECK_HAS(out, flag, "every key in --help");
	}
	for (char *line = out, *nl; (nl = strchr(line, '\n')); line = nl + 1)
		CHECK_TRUE(nl - line <= 79, "--help lines fit 79 columns");

	exit_now = -1;
	CHECK_EQ(run_args(ARGV("-h"), &exit_now, out, sizeof(out)), 0, "-h");
	CHECK_EQ(exit_now, 1, "-h sets exit_now");
	CHECK_HAS(out, "usage: xrelayd", "-h prints the usage");
}

static void test_markdown(void **state)
{
	char *buf = NULL, row[96];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rows = 0;

	(void)state;
	CHECK_TRUE(f != NULL, "open_memstream");
	config_print_markdown(f);
	fclose(f);
	static const char head[] = "| key | default | description |\n"
				   "|---|---|---|\n";
	CHECK_TRUE(strncmp(buf, head, strlen(head)) == 0, "the table's head");
	for (size_t i = 0; i < sizeof(all_keys) / sizeof(all_keys[0]); i++) {
		snprintf(row, sizeof(row), "\n| `%s` | ", all_keys[i]);
		if (!strstr(buf, row))
			fail_msg("markdown has no row for %s", all_keys[i]);
	}
	for (char *p = buf; (p = strstr(p, "\n| `")); p++)
		rows++;
	CHECK_EQ(rows, sizeof(all_keys) / sizeof(all_keys[0]),
		 "one row per key");
	CHECK_HAS(buf, "| `pass_header` | `P-Asserted-Identity, Diversion, "
		  "User-Agent, X-*` | `NAME`: ", "a list's default");
	CHECK_HAS(buf, "| `cdr_file` | empty | ", "an empty string default");
	CHECK_HAS(buf, "| `route` | none | ", "an empty list default");
	CHECK_HAS(buf, "`hint\\|any`", "'|' escaped inside a cell");
	CHECK_HAS(buf, "Repeatable. |\n", "repeatable keys say so");
	free(buf);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	static const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_free_twice),
		T(test_full_file),
		T(test_file_errors),
		T(test_file_missing),
		T(test_comments_whitespace),
		T(test_flags_override_file),
		T(test_dash_underscore),
		T(test_flag_value_forms),
		T(test_flag_errors),
		T(test_lists_file_appends),
		T(test_lists_flags_replace),
		T(test_lists_limits),
		T(test_durations),
		T(test_listen),
		T(test_iface),
		T(test_ports),
		T(test_route_and_headers),
		T(test_bools),
		T(test_enums),
		T(test_uints_and_strings),
		T(test_media_dirs),
		T(test_set_api),
		T(test_validate),
		T(test_check_config),
		T(test_no_args),
		T(test_help),
		T(test_markdown),
		T(test_ng_keys),
		T(test_hep_keys),
	};

	return cmocka_run_group_tests_name("test_config", tests, NULL, NULL);
}
