// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xrelayd's configuration. keys[] below is the only list of keys: the
 * defaults, the file parser, the flags, --help and the README's table all
 * walk it, so a key cannot be parsed one way and documented another
 * (Kamailio's params[] and xdp-tools' params.h are the model).
 *
 * Values arrive in layers: the table's defaults, then the file, then the
 * flags. A single key's later value wins. A repeatable key's first value in
 * a layer replaces the list of the layer below (lists_inherited), so that
 * "--listen" on the command line is the listen list, not one more entry.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "config.h"
#include "log.h"
#include "netaddr.h"
#include "ng_listen.h"
#include "sip_peer.h"

#define SEC    1000ull
#define MINUTE (60 * SEC)
#define HOUR   (60 * MINUTE)
#define DAY    (24 * HOUR)

#define HELP_WIDTH 79    /* --help wraps its text to this many columns */
#define HELP_LEFT_MAX 31 /* and starts it no further right than this */

enum key_type {
	K_STR,    /* a char array; too long is an error, not a truncation */
	K_UINT,   /* uint32_t in lo..hi */
	K_BOOL,   /* int 0 or 1 */
	K_DUR,    /* uint32_t in units of unit_ms; lo..hi in ms */
	K_ENUM,   /* int from parse() */
	K_LIST,   /* char *[size] of strdup'd values, checked by check() */
	K_CUSTOM, /* set() parses and stores */
};

/* The repeatable keys, one bit each in lists_inherited. */
enum { L_LISTEN = 1, L_IFACE = 2, L_ROUTE = 4, L_PASS = 8, L_NG_ALLOW = 16,
       L_ALL = 31 };

struct cfg_key;
/* Parse v into c, or write the problem (no location, no hint) into why. */
typedef int (*key_set_fn)(struct xr_config *c, const struct cfg_key *k,
			  const char *v, char *why, size_t whylen);

struct cfg_key {
	const char *name;
	enum key_type type;
	size_t off;          /* the field: offsetof(struct xr_config, ...) */
	size_t size;         /* K_STR: bytes; K_LIST: entries */
	size_t count_off;    /* repeatable: its int counter */
	uint64_t lo, hi;     /* K_UINT: the range; K_DUR: the range in ms */
	uint32_t unit_ms;    /* K_DUR: 1 for a _ms field, 1000 for _s */
	int (*parse)(const char *name);              /* K_ENUM; -1: unknown */
	int (*check)(const char *v, char *why, size_t whylen); /* K_LIST */
	key_set_fn set;      /* K_CUSTOM */
	unsigned list;       /* L_*: repeatable */
	const char *arg;     /* the value's form in --help: "MIN-MAX" */
	const char *def;     /* the default as text; a list's is ", "-separated */
	const char *help;
	const char *expect;  /* after a bad value: "(expected ...)"; NULL: by type */
};

static int set_listen(struct xr_config *c, const struct cfg_key *k,
		      const char *v, char *why, size_t whylen);
static int set_iface(struct xr_config *c, const struct cfg_key *k,
		     const char *v, char *why, size_t whylen);
static int set_ports(struct xr_config *c, const struct cfg_key *k,
		     const char *v, char *why, size_t whylen);
static int check_route(const char *v, char *why, size_t whylen);
static int check_header(const char *v, char *why, size_t whylen);
static int set_ng_listen(struct xr_config *c, const struct cfg_key *k,
			 const char *v, char *why, size_t whylen);
static int check_ng_allow(const char *v, char *why, size_t whylen);
static int latch_parse(const char *name);
static int set_addr_port(struct xr_config *c, const struct cfg_key *k,
			 const char *v, char *why, size_t whylen);

#define FIELD(f) offsetof(struct xr_config, f)
#define FSIZE(f) sizeof(((struct xr_config *)0)->f)
/* The field's offset, and a compile error if the field is not sz bytes:
 * the setters store uint32_t or int through the offset. */
#define SIZED(f, sz) (FIELD(f) + 0 * sizeof(char[FSIZE(f) == (sz) ? 1 : -1]))

#define STR(n, f, a, d, h) \
	{ .name = n, .type = K_STR, .off = FIELD(f), .size = FSIZE(f), \
	  .arg = a, .def = d, .help = h }
#define UINT(n, f, l, u, d, h) \
	{ .name = n, .type = K_UINT, .off = SIZED(f, sizeof(uint32_t)), \
	  .lo = l, .hi = u, .arg = "N", .def = d, .help = h }
#define DUR(n, f, unit, l, u, d, h) \
	{ .name = n, .type = K_DUR, .off = SIZED(f, sizeof(uint32_t)), \
	  .unit_ms = unit, .lo = l, .hi = u, .arg = "DURATION", .def = d, \
	  .help = h }
#define BOOL(n, f, d, h) \
	{ .name = n, .type = K_BOOL, .off = SIZED(f, sizeof(int)), \
	  .arg = "yes|no", .def = d, .help = h }
#define ENUM(n, f, p, a, d, h) \
	{ .name = n, .type = K_ENUM, .off = SIZED(f, sizeof(int)), .parse = p, \
	  .arg = a, .def = d, .help = h }
#define LIST(n, f, cnt, l, chk, a, e, d, h) \
	{ .name = n, .type = K_LIST, .off = FIELD(f), \
	  .size = FSIZE(f) / sizeof(char *), \
	  .count_off = SIZED(cnt, sizeof(int)), .check = chk, .list = l, \
	  .arg = a, .expect = e, .def = d, .help = h }
#define CUSTOM(n, fn, l, cnt, a, e, d, h) \
	{ .name = n, .type = K_CUSTOM, .set = fn, .list = l, .count_off = cnt, \
	  .arg = a, .expect = e, .def = d, .help = h }
/* A string field, "" by default, whose syntax fn checks before storing. */
#define CUSTOM_STR(n, f, fn, a, e, h) \
	{ .name = n, .type = K_CUSTOM, .set = fn, .off = FIELD(f), \
	  .size = FSIZE(f), .arg = a, .def = "", .expect = e, .help = h }

static const struct cfg_key keys[] = {
	/* SIP */
	CUSTOM("listen", set_listen, L_LISTEN, SIZED(nlisten, sizeof(int)),
	       "PROTO:ADDR[:PORT]",
	       "udp:ADDR[:PORT] or tcp:ADDR[:PORT], e.g. udp:0.0.0.0:5060 or "
	       "tcp:[::1]:5060",
	       "udp:0.0.0.0:5060",
	       "A SIP listen address: udp: or tcp:, an IPv6 address in "
	       "brackets, port 5060 when none is given."),
	STR("domain", domain, "NAME", "xrelay.local",
	    "Our SIP domain and digest realm."),
	STR("users_file", users_file, "PATH", "",
	    "The users for digest authentication; empty: no authentication."),
	LIST("route", routes, nroutes, L_ROUTE, check_route, "MATCH URI",
	     "prefix:DIGITS sip:URI or domain:NAME sip:URI, e.g. "
	     "prefix:+4420 sip:10.0.0.5:5060",
	     "",
	     "A static route: a request-URI's user prefix (the longest wins; "
	     "\"prefix:\" alone is the default route) or domain, a space, and "
	     "the next hop."),
	LIST("pass_header", pass_headers, npass, L_PASS, check_header, "NAME",
	     "a header name such as User-Agent, or a prefix ending in '*' "
	     "such as X-*",
	     "P-Asserted-Identity, Diversion, User-Agent, X-*",
	     "A header copied from one leg to the other; a trailing '*' "
	     "matches a prefix."),
	UINT("max_call_rate", max_call_rate, 0, UINT32_MAX, "0",
	     "New calls per second (a burst of one second's worth is "
	     "allowed); more are refused with 503 and Retry-After. 0: no "
	     "limit."),
	UINT("max_calls", max_calls, 0, UINT32_MAX, "0",
	     "Calls at once; more are refused with 503, and ng offers of new "
	     "calls with \"load limit\" (counting the B2BUA's calls). 0: no "
	     "limit."),
	DUR("retry_after", retry_after_s, SEC, 0, HOUR, "5s",
	    "The Retry-After of a 503."),
	DUR("media_timeout", media_timeout_ms, 1, 0, DAY, "60s",
	    "A call whose media stops this long is ended. 0: never."),
	DUR("session_expires", session_expires_s, SEC, 0, DAY, "1800s",
	    "The session timer we ask for (RFC 4028). 0: no session timer."),
	DUR("min_se", min_se_s, SEC, 90 * SEC, DAY, "90s",
	    "The shortest session timer we accept (Min-SE, at least 90s)."),
	DUR("reg_min_expires", reg_min_expires_s, SEC, SEC, DAY, "60s",
	    "The shortest registration we accept; shorter ones get 423."),
	DUR("reg_max_expires", reg_max_expires_s, SEC, SEC, 7 * DAY, "3600s",
	    "Longer registrations are cut to this."),
	UINT("max_forwards", max_forwards, 1, 255, "70",
	     "The Max-Forwards of the requests we send on the B leg."),
	STR("cdr_file", cdr_file, "PATH", "",
	    "Call records are appended here; empty: no records."),
	CUSTOM_STR("hep_collector", hep_collector, set_addr_port, "ADDR:PORT",
		   "ADDR:PORT with an IP address, e.g. 10.0.0.7:9060 or "
		   "[2001:db8::7]:9060, or empty",
		   "Every SIP message sent and received is copied here in "
		   "HEPv3 over UDP (Homer); B-leg messages carry the A leg's "
		   "Call-ID as correlation id. Empty: off."),
	UINT("hep_capture_id", hep_capture_id, 0, UINT32_MAX, "2001",
	     "The capture agent id in each HEP packet."),
	STR("hep_auth_key", hep_auth_key, "KEY", "",
	    "The HEP collector's auth key (password); empty: none."),
	/* media engine */
	CUSTOM("iface", set_iface, L_IFACE,
	       SIZED(media.nifaces, sizeof(int)), "NAME:MODE[/ADDR]",
	       "NAME:MODE or NAME:MODE/ADDRESS with MODE xdp, xdp-generic, tc "
	       "or off, e.g. eth0:xdp or eth0:tc/203.0.113.5",
	       "",
	       "A media interface and how the kernel forwards on it: xdp, "
	       "xdp-generic, tc or off (userspace only); /ADDR: the public "
	       "address to advertise behind 1:1 NAT."),
	CUSTOM("ports", set_ports, 0, 0, "MIN-MAX",
	       "MIN-MAX, e.g. 30000-39999", "30000-39999",
	       "The media port range within 1024-65535: RTP on even ports, "
	       "RTCP on the odd port above."),
	DUR("quarantine", media.quarantine_ms, 1, 0, HOUR, "5s",
	    "A freed port pair waits this long before it is used again."),
	DUR("relatch_idle", media.relatch_idle_ms, 1, 0, HOUR, "0",
	    "A latched peer silent this long may be replaced by a new "
	    "source. 0: only after a new offer/answer."),
	DUR("idle", media.idle_ms, 1, 0, DAY, "60s",
	    "No media this long: the session is reported idle."),
	DUR("adopt_grace", media.adopt_grace_ms, 1, 0, HOUR, "30s",
	    "Kernel flows that a restarted daemon finds without a session are "
	    "removed after this."),
	ENUM("latch", media.latch, latch_parse, "hint|any", "hint",
	     "Which sources a stream latches onto: hint (the SDP or "
	     "signalling address) or any (for unusual NATs; open to RTP "
	     "Bleed)."),
	BOOL("stop_ends_calls", stop_ends_calls, "no",
	     "On SIGTERM, end every call with BYE on both legs. No: leave the "
	     "calls to the next start, which adopts them from the journal "
	     "(the kernel forwards their media meanwhile), so a restart "
	     "loses no call."),
	BOOL("strict", media.strict, "yes",
	     "Once latched, drop packets from other sources in the kernel."),
	BOOL("rtp_stats", media.rtp_stats, "yes",
	     "Keep RTP statistics per kernel flow (SSRC, sequence, loss, "
	     "jitter; shown by xrelay-fp flow-get and bpftool). About 11 ns "
	     "of the relay's CPU per packet; no turns it off."),
	UINT("max_flows", media.max_flows, 0, UINT32_MAX, "0",
	     "The kernel flow table's size. 0: the BPF object's default."),
	STR("pin_dir", pin_dir, "PATH", XR_PIN_DIR_DEFAULT,
	    "Where the BPF maps are pinned; a restart adopts their flows."),
	STR("state_dir", state_dir, "PATH", "/run/xrelay/state",
	    "The call state journal's directory; empty: no journal. On tmpfs "
	    "it lives exactly as long as the pinned maps it describes (both "
	    "survive a crash, neither a reboot)."),
	/* operations */
	STR("ctl_socket", ctl_socket, "PATH", "/run/xrelay/xrelayd.sock",
	    "The UNIX socket xrelayctl talks to."),
	CUSTOM_STR("metrics_listen", metrics_listen, set_addr_port, "ADDR:PORT",
		   "ADDR:PORT with an IP address, e.g. 127.0.0.1:9642 or "
		   "[::1]:9642, or empty",
		   "Prometheus metrics over HTTP here (GET /metrics); empty: "
		   "off."),
	CUSTOM_STR("ng_listen", ng_listen, set_ng_listen, "PROTO:ADDR:PORT",
		   "udp:ADDR:PORT or tcp:ADDR:PORT, several separated by "
		   "commas, a port alone meaning 127.0.0.1, e.g. "
		   "udp:127.0.0.1:2223; or empty",
		   "rtpengine's ng control protocol here, for the rtpengine "
		   "module of Kamailio or OpenSIPS: udp: or tcp:, several "
		   "separated by commas; a port alone is on 127.0.0.1. Empty: "
		   "off."),
	LIST("ng_allow", ng_allow, nng_allow, L_NG_ALLOW, check_ng_allow,
	     "ADDR[/LEN]", "an IP address or a prefix, e.g. 192.0.2.10 or "
	     "10.0.0.0/8",
	     "",
	     "A client the ng listener serves: an address or a CIDR prefix. "
	     "None: clients on this host (loopback) only."),
	ENUM("log_level", log_level, log_level_parse, "error|warn|info|debug",
	     "info", "How much to log."),
	UINT("kernel_share_warn", kernel_share_warn, 0, 100, "90",
	     "Warn when, while calls are up, less than this percentage of "
	     "media packets is forwarded in the kernel (checked every 10s). "
	     "0: never."),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Latch policies by name, in enum latch_policy order. */
static const char *const latch_names[] = { "hint", "any" };

/* ---- small helpers --------------------------------------------------------- */

static void *field_of(struct xr_config *c, size_t off)
{
	return (char *)c + off;
}

static int *count_of(struct xr_config *c, const struct cfg_key *k)
{
	return field_of(c, k->count_off);
}

__attribute__((format(printf, 3, 4)))
static int fail(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* Key names compare with '-' and '_' the same: --max-calls is max_calls. */
static int key_char(char ch)
{
	return ch == '-' ? '_' : (unsigned char)ch;
}

static int key_eq(const char *a, const char *b)
{
	while (*a && key_char(*a) == key_char(*b))
		a++, b++;
	return *a == 0 && *b == 0;
}

static const struct cfg_key *key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (key_eq(name, keys[i].name))
			return &keys[i];
	return NULL;
}

/* Edit distance (for "did you mean"), cut off for long names. */
static size_t key_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t sub = diag + (key_char(a[i - 1]) !=
					     key_char(b[j - 1]));

			row[j] = sub;
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/* The key a typo most likely meant, or NULL. */
static const struct cfg_key *key_nearest(const char *name)
{
	const struct cfg_key *best = NULL;
	size_t best_d = 3; /* at most two edits ... */

	for (size_t i = 0; i < NKEYS; i++) {
		size_t d = key_distance(name, keys[i].name);

		if (d < best_d && d < strlen(name)) { /* ... and not all of it */
			best = &keys[i];
			best_d = d;
		}
	}
	return best;
}

/* Leading and trailing white space off, in place. */
static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = 0;
	return s;
}

/* Decimal digits only (no sign, no hex, no spaces): "-1" cannot wrap. */
static int parse_digits(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*end = s;
	*out = v;
	return 0;
}

/* "90s", "5m", "1500ms": the largest unit that divides it exactly. */
static const char *dur_str(uint64_t ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "0");
	else if (ms % HOUR == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / HOUR));
	else if (ms % MINUTE == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / MINUTE));
	else if (ms % SEC == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / SEC));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	return buf;
}

/* A number with an optional unit; a bare number is seconds (every duration
 * key documents its value in seconds or larger). */
static int parse_duration(const char *v, uint64_t *ms)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = { { "ms", 1 }, { "s", SEC }, { "m", MINUTE }, { "h", HOUR } };
	const char *end;
	uint64_t n, mul = SEC;
	size_t i;

	if (parse_digits(v, &end, &n) < 0)
		return -1;
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(end, units[i].suffix) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		mul = units[i].ms;
	}
	if (n > UINT64_MAX / mul)
		return -1;
	*ms = n * mul;
	return 0;
}

static int parse_bool(const char *v)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

static int latch_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(latch_names) / sizeof(latch_names[0]); i++)
		if (strcmp(name, latch_names[i]) == 0)
			return (int)i;
	return -1;
}

/* The RTP/RTCP pairs need an even start and room for one pair; below 1024
 * the ports belong to system services. */
static int check_ports(uint64_t min, uint64_t max, char *why, size_t whylen)
{
	if (min < 1024 || max > 65535 || min > 65535)
		return fail(why, whylen, "%llu-%llu is outside 1024-65535",
			    (unsigned long long)min, (unsigned long long)max);
	if (min % 2)
		return fail(why, whylen, "the first port %llu is odd; RTP takes "
			    "even ports", (unsigned long long)min);
	if (min >= max)
		return fail(why, whylen, "the first port %llu is not below the "
			    "last %llu", (unsigned long long)min,
			    (unsigned long long)max);
	return 0;
}

static const char *listen_str(const struct cfg_listen *l, char *buf,
			      size_t len)
{
	char a[NETADDR_STRLEN];

	netaddr_str((const struct sockaddr *)&l->addr, a, sizeof(a));
	snprintf(buf, len, "%s:%s", l->proto == SIP_TCP ? "tcp" : "udp", a);
	return buf;
}

/* media_cfg holds pointers; the strings live in the config itself. */
static void link_media_dirs(struct xr_config *c)
{
	c->media.pin_dir = c->pin_dir[0] ? c->pin_dir : NULL;
	c->media.state_dir = c->state_dir[0] ? c->state_dir : NULL;
}

/* ---- setters by type -------------------------------------------------------- */

static int set_str(struct xr_config *c, const struct cfg_key *k,
		   const char *v, char *why, size_t whylen)
{
	size_t len = strlen(v);

	if (len >= k->size)
		return fail(why, whylen, "the value is %zu characters long; "
			    "the limit is %zu", len, k->size - 1);
	memcpy(field_of(c, k->off), v, len + 1);
	return 0;
}

static int set_uint(struct xr_config *c, const struct cfg_key *k,
		    const char *v, char *why, size_t whylen)
{
	const char *end;
	uint64_t n;
	uint32_t u;

	if (parse_digits(v, &end, &n) < 0 || *end)
		return fail(why, whylen, "'%s' is not a whole number", v);
	if (n < k->lo)
		return fail(why, whylen, "%s is below %llu", v,
			    (unsigned long long)k->lo);
	if (n > k->hi)
		return fail(why, whylen, "%s is above %llu", v,
			    (unsigned long long)k->hi);
	u = (uint32_t)n;
	memcpy(field_of(c, k->off), &u, sizeof(u));
	return 0;
}

static int set_dur(struct xr_config *c, const struct cfg_key *k,
		   const char *v, char *why, size_t whylen)
{
	char lim[32];
	uint64_t ms;
	uint32_t u;

	if (parse_duration(v, &ms) < 0)
		return fail(why, whylen, "'%s' is not a duration", v);
	if (ms < k->lo)
		return fail(why, whylen, "%s is below %s", v,
			    dur_str(k->lo, lim, sizeof(lim)));
	if (ms > k->hi)
		return fail(why, whylen, "%s is above %s", v,
			    dur_str(k->hi, lim, sizeof(lim)));
	if (ms % k->unit_ms)
		return fail(why, whylen, "%s is not a whole number of seconds",
			    v);
	u = (uint32_t)(ms / k->unit_ms);
	memcpy(field_of(c, k->off), &u, sizeof(u));
	return 0;
}

static int set_bool(struct xr_config *c, const struct cfg_key *k,
		    const char *v, char *why, size_t whylen)
{
	int b = parse_bool(v);

	if (b < 0)
		return fail(why, whylen, "'%s' is not yes or no", v);
	memcpy(field_of(c, k->off), &b, sizeof(b));
	return 0;
}

static int set_enum(struct xr_config *c, const struct cfg_key *k,
		    const char *v, char *why, size_t whylen)
{
	int e = k->parse(v);

	if (e < 0)
		return fail(why, whylen, "unknown value '%s'", v);
	/* int-sized (SIZED() in the table), an enum field included */
	memcpy(field_of(c, k->off), &e, sizeof(e));
	return 0;
}

static int set_list(struct xr_config *c, const struct cfg_key *k,
		    const char *v, char *why, size_t whylen)
{
	char **arr = field_of(c, k->off);
	int *n = count_of(c, k);

	if (k->check(v, why, whylen) < 0)
		return -1;
	if ((size_t)*n >= k->size)
		return fail(why, whylen, "more than %zu values", k->size);
	arr[*n] = strdup(v);
	if (!arr[*n])
		return fail(why, whylen, "out of memory");
	(*n)++;
	return 0;
}

static int set_value(struct xr_config *c, const struct cfg_key *k,
		     const char *v, char *why, size_t whylen)
{
	static const key_set_fn by_type[] = {
		[K_STR] = set_str,   [K_UINT] = set_uint, [K_BOOL] = set_bool,
		[K_DUR] = set_dur,   [K_ENUM] = set_enum, [K_LIST] = set_list,
	};

	if (k->type == K_CUSTOM)
		return k->set(c, k, v, why, whylen);
	return by_type[k->type](c, k, v, why, whylen);
}

/* Empty a repeatable key's list (freeing strings it owns). */
static void list_clear(struct xr_config *c, const struct cfg_key *k)
{
	int *n = count_of(c, k);

	if (k->type == K_LIST) {
		char **arr = field_of(c, k->off);

		for (int i = 0; i < *n; i++) {
			free(arr[i]);
			arr[i] = NULL;
		}
	}
	*n = 0;
}

/* ---- the keys with a syntax of their own --------------------------------------- */

/* An IP address with a port (metrics_listen, hep_collector), or "" (off);
 * stored as written. */
static int set_addr_port(struct xr_config *c, const struct cfg_key *k,
			 const char *v, char *why, size_t whylen)
{
	struct sockaddr_storage ss;

	if (v[0] && (netaddr_parse(v, -1, &ss) < 0 ||
		     !netaddr_port((struct sockaddr *)&ss)))
		return fail(why, whylen, "'%s' is not an IP address and port",
			    v);
	return set_str(c, k, v, why, whylen);
}

static int set_listen(struct xr_config *c, const struct cfg_key *k,
		      const char *v, char *why, size_t whylen)
{
	struct cfg_listen l;
	const char *addr = v + 4;
	char a[NETADDR_STRLEN + 4];

	(void)k;
	memset(&l, 0, sizeof(l));
	if (strncasecmp(v, "udp:", 4) == 0)
		l.proto = SIP_UDP;
	else if (strncasecmp(v, "tcp:", 4) == 0)
		l.proto = SIP_TCP;
	else
		return fail(why, whylen, "'%s' starts with neither udp: nor "
			    "tcp:", v);
	/* "2001:db8::1:5060" could be an address with or without a port */
	if (addr[0] != '[' && strchr(addr, ':') != strrchr(addr, ':'))
		return fail(why, whylen, "the IPv6 address in '%s' needs "
			    "brackets", v);
	if (netaddr_parse(addr, 5060, &l.addr) < 0)
		return fail(why, whylen, "'%s' is not an IP address with an "
			    "optional port", addr);
	if (netaddr_port((struct sockaddr *)&l.addr) == 0)
		return fail(why, whylen, "port 0 in '%s'", v);
	for (int i = 0; i < c->nlisten; i++)
		if (c->listen[i].proto == l.proto &&
		    netaddr_equal((struct sockaddr *)&c->listen[i].addr,
				  (struct sockaddr *)&l.addr))
			return fail(why, whylen, "%s is given twice",
				    listen_str(&l, a, sizeof(a)));
	if (c->nlisten == CFG_MAX_LISTEN)
		return fail(why, whylen, "more than %d listen addresses",
			    CFG_MAX_LISTEN);
	c->listen[c->nlisten++] = l;
	return 0;
}

/* Linux's own rule for a name (dev_valid_name): no '/', ':' or spaces. */
static int iface_name_ok(const char *name)
{
	return *name && strcmp(name, ".") && strcmp(name, "..") &&
	       !name[strcspn(name, "/: \t")];
}

static int set_iface(struct xr_config *c, const struct cfg_key *k,
		     const char *v, char *why, size_t whylen)
{
	struct media_cfg *m = &c->media;
	struct media_iface_cfg ic;
	char spec[128], *mode, *adv;
	int am;

	(void)k;
	memset(&ic, 0, sizeof(ic));
	if (strlen(v) >= sizeof(spec))
		return fail(why, whylen, "the value is too long");
	strcpy(spec, v);
	adv = strchr(spec, '/'); /* before the ':' split: IPv6 has colons */
	if (adv)
		*adv++ = 0;
	mode = strchr(spec, ':');
	if (!mode)
		return fail(why, whylen, "'%s' has no mode", v);
	*mode++ = 0;
	if (!iface_name_ok(spec))
		return fail(why, whylen, "'%s' is not an interface name", spec);
	if (strlen(spec) >= sizeof(ic.name))
		return fail(why, whylen, "the interface name '%s' is longer "
			    "than %zu characters", spec, sizeof(ic.name) - 1);
	am = attach_mode_parse(mode);
	if (am < 0)
		return fail(why, whylen, "unknown mode '%s'", mode);
	strcpy(ic.name, spec);
	ic.mode = (enum attach_mode)am;
	if (adv) {
		if (netaddr_parse_ip(adv, &ic.advertise) < 0)
			return fail(why, whylen, "'%s' is not an IP address",
				    adv);
		ic.has_advertise = 1;
	}
	for (int i = 0; i < m->nifaces; i++)
		if (strcmp(m->ifaces[i].name, ic.name) == 0)
			return fail(why, whylen, "interface %s is given twice",
				    ic.name);
	if (m->nifaces == MEDIA_MAX_IFACES)
		return fail(why, whylen, "more than %d interfaces",
			    MEDIA_MAX_IFACES);
	m->ifaces[m->nifaces++] = ic;
	return 0;
}

static int set_ports(struct xr_config *c, const struct cfg_key *k,
		     const char *v, char *why, size_t whylen)
{
	const char *end;
	uint64_t min, max;

	(void)k;
	if (parse_digits(v, &end, &min) < 0 || *end != '-' ||
	    parse_digits(end + 1, &end, &max) < 0 || *end)
		return fail(why, whylen, "'%s' is not a range", v);
	if (check_ports(min, max, why, whylen) < 0)
		return -1;
	c->media.port_min = (unsigned)min;
	c->media.port_max = (unsigned)max;
	return 0;
}

/* Only the shape: sip/route.c parses the spec when it builds the table. */
static int check_route(const char *v, char *why, size_t whylen)
{
	int domain = strncasecmp(v, "domain:", 7) == 0; /* as route.c */
	const char *match, *uri;
	size_t n;

	if (!domain && strncasecmp(v, "prefix:", 7))
		return fail(why, whylen, "'%s' starts with neither prefix: nor "
			    "domain:", v);
	match = v + 7;
	n = strcspn(match, " \t");
	if (n == 0 && domain)
		return fail(why, whylen, "the domain is empty");
	uri = match + n + strspn(match + n, " \t");
	if (!*uri)
		return fail(why, whylen, "'%s' has no next hop", v);
	n = strncasecmp(uri, "sips:", 5) == 0 ? 5 :
	    strncasecmp(uri, "sip:", 4) == 0 ? 4 : 0;
	if (n == 0)
		return fail(why, whylen, "the next hop '%s' is not a sip: or "
			    "sips: URI", uri);
	if (!uri[n] || isspace((unsigned char)uri[n]))
		return fail(why, whylen, "the next hop '%s' has no host", uri);
	if (uri[strcspn(uri, " \t")])
		return fail(why, whylen, "text after the next hop in '%s'", v);
	return 0;
}

/* RFC 3261 token characters, less '*' (ours: "matches a prefix"). */
static int header_char(char ch)
{
	return isalnum((unsigned char)ch) || (ch && strchr("-.!%_+`'~", ch));
}

static int check_header(const char *v, char *why, size_t whylen)
{
	size_t len = strlen(v);

	if (len && v[len - 1] == '*')
		len--;
	if (len == 0)
		return fail(why, whylen, "'%s' names no header (a lone '*' "
			    "would copy Via and Call-ID too)", v);
	for (size_t i = 0; i < len; i++)
		if (!header_char(v[i]))
			return fail(why, whylen, "'%c' in '%s' is not allowed "
				    "in a header name", v[i], v);
	return 0;
}

/* ng_listen is checked here, so --check-config catches a typo; the
 * listener parses it again when it binds. */
static int set_ng_listen(struct xr_config *c, const struct cfg_key *k,
			 const char *v, char *why, size_t whylen)
{
	struct ng_listen_spec sp;

	if (v[0] && ng_listen_parse(v, &sp, why, whylen) < 0)
		return -1;
	return set_str(c, k, v, why, whylen);
}

static int check_ng_allow(const char *v, char *why, size_t whylen)
{
	struct ng_net n;

	return ng_net_parse(v, &n, why, whylen);
}

/* ---- errors ---------------------------------------------------------------------- */

/* Flags are named as typed ("--pass-header"); file lines as "path:line". */
static int where_is_flag(const char *where)
{
	return where[0] == '-';
}

static void key_expect(const struct cfg_key *k, char *buf, size_t len)
{
	char lo[32], hi[32];

	switch (k->type) {
	case K_UINT:
		snprintf(buf, len, "a whole number from %llu to %llu",
			 (unsigned long long)k->lo, (unsigned long long)k->hi);
		break;
	case K_DUR:
		snprintf(buf, len, "a duration from %s to %s: a number with "
			 "%ss, m or h; a bare number is seconds",
			 dur_str(k->lo, lo, sizeof(lo)),
			 dur_str(k->hi, hi, sizeof(hi)),
			 k->unit_ms == 1 ? "ms, " : "");
		break;
	case K_BOOL:
		snprintf(buf, len, "yes or no");
		break;
	case K_ENUM:
		snprintf(buf, len, "one of %s", k->arg);
		break;
	case K_STR:
		snprintf(buf, len, "at most %zu characters", k->size - 1);
		break;
	default:
		snprintf(buf, len, "%s", k->expect);
	}
}

static int bad_value(const struct cfg_key *k, const char *where,
		     const char *why, char *err, size_t errlen)
{
	char exp[256];

	key_expect(k, exp, sizeof(exp));
	if (where_is_flag(where))
		return fail(err, errlen, "%s: %s (expected %s)", where, why,
			    exp);
	return fail(err, errlen, "%s: key '%s': %s (expected %s)", where,
		    k->name, why, exp);
}

static int unknown_key(const char *name, const char *where, char *err,
		       size_t errlen)
{
	const struct cfg_key *near = key_nearest(name);
	char hint[64] = "";

	if (where_is_flag(where)) {
		if (near)
			snprintf(hint, sizeof(hint), "; did you mean --%s?",
				 near->name);
		for (char *p = hint; *p; p++) /* shown as flags are: '-' */
			if (*p == '_')
				*p = '-';
		return fail(err, errlen, "%s: unknown option%s (see xrelayd "
			    "--help for the options)", where, hint);
	}
	if (near)
		snprintf(hint, sizeof(hint), "; did you mean '%s'?", near->name);
	return fail(err, errlen, "%s: unknown key '%s'%s (see xrelayd --help "
		    "for the keys)", where, name, hint);
}

/* ---- defaults, set, free ------------------------------------------------------------- */

/* A list's default is several values: "P-Asserted-Identity, X-*". */
static void apply_default(struct xr_config *c, const struct cfg_key *k)
{
	char buf[256], why[256], *save = NULL, *v;

	if (!k->def || (k->list && !k->def[0]))
		return;
	if (!k->list) {
		set_value(c, k, k->def, why, sizeof(why));
		return;
	}
	snprintf(buf, sizeof(buf), "%s", k->def);
	for (v = strtok_r(buf, ",", &save); v; v = strtok_r(NULL, ",", &save))
		set_value(c, k, trim(v), why, sizeof(why));
}

void config_defaults(struct xr_config *c)
{
	memset(c, 0, sizeof(*c));
	/* the engine's own defaults first: the table's repeat them, and
	 * test_config checks the two agree */
	media_cfg_defaults(&c->media);
	for (size_t i = 0; i < NKEYS; i++)
		apply_default(c, &keys[i]);
	c->lists_inherited = L_ALL;
	link_media_dirs(c);
}

void config_free(struct xr_config *c)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].type == K_LIST)
			list_clear(c, &keys[i]);
}

int config_set(struct xr_config *c, const char *key, const char *value,
	       const char *where, char *err, size_t errlen)
{
	const struct cfg_key *k = key_find(key);
	char why[256];

	if (!where)
		where = "config";
	if (!k)
		return unknown_key(key, where, err, errlen);
	if (k->list & c->lists_inherited) {
		list_clear(c, k);
		c->lists_inherited &= ~k->list;
	}
	if (set_value(c, k, value, why, sizeof(why)) < 0)
		return bad_value(k, where, why, err, errlen);
	snprintf(c->source, sizeof(c->source), "%s", where);
	link_media_dirs(c);
	return 0;
}

/* ---- the file ------------------------------------------------------------------------- */

/* A '#' at the start of the value or after white space starts a comment;
 * "a#b" stays a value. */
static void strip_comment(char *v)
{
	for (char *p = v; *p; p++)
		if (*p == '#' && (p == v || isspace((unsigned char)p[-1]))) {
			*p = 0;
			return;
		}
}

static int load_line(struct xr_config *c, const char *where, char *line,
		     char *err, size_t errlen)
{
	char *key = trim(line), *eq;

	if (!*key || *key == '#')
		return 0;
	eq = strchr(key, '=');
	if (!eq)
		return fail(err, errlen, "%s: '%.60s' is not a 'key = value' "
			    "line (a comment starts with '#')", where, key);
	*eq = 0;
	strip_comment(eq + 1);
	key = trim(key);
	if (!*key)
		return fail(err, errlen, "%s: no key before '=' (expected "
			    "key = value)", where);
	return config_set(c, key, trim(eq + 1), where, err, errlen);
}

int config_load_file(struct xr_config *c, const char *path, char *err,
		     size_t errlen)
{
	char where[320], *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return fail(err, errlen, "%s: cannot open: %s (check the path "
			    "given to --config)", path, strerror(errno));
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		snprintf(where, sizeof(where), "%s:%u", path, ++lineno);
		rc = load_line(c, where, line, err, errlen);
	}
	if (rc == 0 && ferror(f))
		rc = fail(err, errlen, "%s: cannot read: %s", path,
			  strerror(errno));
	free(line);
	fclose(f);
	return rc;
}

/* ---- the command line ----------------------------------------------------------------- */

enum flag_kind { FL_KEY, FL_CONFIG, FL_CHECK, FL_HELP };

struct flag {
	enum flag_kind kind;
	const struct cfg_key *k; /* FL_KEY */
	const char *value;       /* FL_KEY, FL_CONFIG */
	char where[64];          /* as typed: "--pass-header" */
};

static int flag_missing(const struct flag *f, char *err, size_t errlen)
{
	char exp[256];

	if (!f->k)
		return fail(err, errlen, "%s: needs a path", f->where);
	key_expect(f->k, exp, sizeof(exp));
	return fail(err, errlen, "%s: needs a value (expected %s)", f->where,
		    exp);
}

/* The flag at argv[*i] (and its value: "--key value" moves *i on). */
static int flag_next(int argc, char **argv, int *i, struct flag *f,
		     char *err, size_t errlen)
{
	const char *arg = argv[*i], *eq, *next;
	size_t len;

	memset(f, 0, sizeof(*f));
	if (strcmp(arg, "-h") == 0) {
		f->kind = FL_HELP;
		return 0;
	}
	if (strncmp(arg, "--", 2) || !arg[2])
		return fail(err, errlen, "unexpected argument '%s' (settings "
			    "are flags, --key value; see xrelayd --help)", arg);
	eq = strchr(arg, '=');
	len = eq ? (size_t)(eq - arg) : strlen(arg);
	if (len >= sizeof(f->where)) /* no key is that long: stays unknown */
		len = sizeof(f->where) - 1;
	memcpy(f->where, arg, len);
	f->where[len] = 0;
	f->value = eq ? eq + 1 : NULL;
	if (key_eq(f->where + 2, "help"))
		f->kind = FL_HELP;
	else if (key_eq(f->where + 2, "check-config"))
		f->kind = FL_CHECK;
	else if (key_eq(f->where + 2, "config"))
		f->kind = FL_CONFIG;
	else if (!(f->k = key_find(f->where + 2)))
		return unknown_key(f->where + 2, f->where, err, errlen);
	if (f->kind == FL_HELP || f->kind == FL_CHECK)
		return f->value ? fail(err, errlen, "%s: takes no value",
				       f->where) : 0;
	if (f->value)
		return 0;
	/* no value starts with "--": that is the next flag */
	next = *i + 1 < argc && strncmp(argv[*i + 1], "--", 2) ?
	       argv[*i + 1] : NULL;
	if (!next && f->k && f->k->type == K_BOOL) {
		f->value = "yes"; /* "--strict" alone */
		return 0;
	}
	if (!next)
		return flag_missing(f, err, errlen);
	f->value = next;
	(*i)++;
	return 0;
}

static void print_usage(FILE *out);

int config_from_args(struct xr_config *c, int argc, char **argv,
		     int *exit_now, char *err, size_t errlen)
{
	const char *path = NULL;
	struct flag f;
	int check = 0;

	*exit_now = 0;
	/* first the flags about flags: --help, and the file that every other
	 * flag overrides wherever it stands */
	for (int i = 1; i < argc; i++) {
		if (flag_next(argc, argv, &i, &f, err, errlen) < 0)
			return -1;
		if (f.kind == FL_HELP) {
			print_usage(stdout);
			*exit_now = 1;
			return 0;
		}
		if (f.kind == FL_CONFIG && path)
			return fail(err, errlen, "%s: given twice (one file "
				    "only; flags override it)", f.where);
		if (f.kind == FL_CONFIG)
			path = f.value;
		check |= f.kind == FL_CHECK;
	}
	if (path && config_load_file(c, path, err, errlen) < 0)
		return -1;
	c->lists_inherited = L_ALL; /* a list flag replaces the file's list */
	for (int i = 1; i < argc; i++) {
		if (flag_next(argc, argv, &i, &f, err, errlen) < 0)
			return -1;
		if (f.kind == FL_KEY &&
		    config_set(c, f.k->name, f.value, f.where, err, errlen) < 0)
			return -1;
	}
	if (config_validate(c, err, errlen) < 0)
		return -1;
	if (check) {
		printf("xrelayd: config ok\n");
		fflush(stdout);
		*exit_now = 1;
	}
	return 0;
}

/* ---- checks across keys --------------------------------------------------------------- */

static int validate_listen(const struct xr_config *c, char *err,
			   size_t errlen)
{
	const struct media_cfg *m = &c->media;
	char a[NETADDR_STRLEN + 4];

	if (c->nlisten == 0)
		return fail(err, errlen, "no listen address (add one, e.g. "
			    "listen = udp:0.0.0.0:5060)");
	for (int i = 0; i < c->nlisten; i++) {
		const struct cfg_listen *l = &c->listen[i];
		unsigned port = (unsigned)netaddr_port(
			(const struct sockaddr *)&l->addr);

		/* the fast path takes every UDP packet to a relay port */
		if (l->proto == SIP_UDP && port >= m->port_min &&
		    port <= m->port_max)
			return fail(err, errlen, "listen %s is inside the media "
				    "ports %u-%u (move the listen port or the "
				    "ports range)", listen_str(l, a, sizeof(a)),
				    m->port_min, m->port_max);
	}
	return 0;
}

/* A UDP ng port among the media ports would be the fast path's. */
static int validate_ng(const struct xr_config *c, char *err, size_t errlen)
{
	struct ng_listen_spec sp;
	char why[192];

	if (!c->ng_listen[0])
		return 0;
	if (ng_listen_parse(c->ng_listen, &sp, why, sizeof(why)) < 0)
		return fail(err, errlen, "ng_listen: %s", why);
	for (int i = 0; i < sp.n; i++) {
		int port = netaddr_port((struct sockaddr *)&sp.ep[i].addr);

		if (!sp.ep[i].tcp && port >= (int)c->media.port_min &&
		    port <= (int)c->media.port_max)
			return fail(err, errlen, "ng_listen: UDP port %d is "
				    "inside the media ports %u-%u (move "
				    "ng_listen or the ports range)", port,
				    c->media.port_min, c->media.port_max);
	}
	return 0;
}

int config_validate(const struct xr_config *c, char *err, size_t errlen)
{
	char why[256], x[32], y[32];
	size_t sun_max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

	if (check_ports(c->media.port_min, c->media.port_max, why,
			sizeof(why)) < 0)
		return fail(err, errlen, "ports: %s (expected MIN-MAX, e.g. "
			    "30000-39999)", why);
	if (validate_listen(c, err, errlen) < 0 ||
	    validate_ng(c, err, errlen) < 0)
		return -1;
	if (!c->domain[0])
		return fail(err, errlen, "domain is empty (set our SIP domain, "
			    "e.g. domain = example.net)");
	if (c->reg_min_expires_s > c->reg_max_expires_s)
		return fail(err, errlen, "reg_min_expires (%s) is above "
			    "reg_max_expires (%s) (lower the one or raise the "
			    "other)", dur_str(c->reg_min_expires_s * SEC, x,
					      sizeof(x)),
			    dur_str(c->reg_max_expires_s * SEC, y, sizeof(y)));
	if (c->session_expires_s && c->min_se_s > c->session_expires_s)
		return fail(err, errlen, "min_se (%s) is above session_expires "
			    "(%s) (raise session_expires, or set it to 0 for no "
			    "session timer)",
			    dur_str(c->min_se_s * SEC, x, sizeof(x)),
			    dur_str(c->session_expires_s * SEC, y, sizeof(y)));
	if (strlen(c->ctl_socket) > sun_max)
		return fail(err, errlen, "ctl_socket: '%s' is longer than the "
			    "%zu characters of a UNIX socket path (choose a "
			    "shorter path)", c->ctl_socket, sun_max);
	return 0;
}

/* ---- help ----------------------------------------------------------------------------- */

/* "--max-calls N": flags are shown with '-', the file's keys with '_'. */
static void flag_form(const struct cfg_key *k, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "--%s %s", k->name, k->arg);
	for (i = 2; buf[i] && buf[i] != ' '; i++)
		if (buf[i] == '_')
			buf[i] = '-';
}

/* An empty default: no list entries, or an empty string (a feature off). */
static const char *key_default(const struct cfg_key *k)
{
	if (k->def && k->def[0])
		return k->def;
	return k->list ? "none" : "empty";
}

static void key_text(const struct cfg_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s (default: %s)", k->help,
		 k->list ? " Repeatable." : "", key_default(k));
}

/* "  left   text", the text wrapped into the columns from width on. */
static void print_row(FILE *out, const char *left, const char *text,
		      int width)
{
	int col = fprintf(out, "  %s", left);
	const char *p = text;

	if (col + 2 > width) { /* too wide: the text starts below */
		fputc('\n', out);
		col = 0;
	}
	fprintf(out, "%*s", width - col, "");
	col = width;
	while (*p) {
		int n = (int)strcspn(p, " ");

		if (col > width && col + 1 + n > HELP_WIDTH) {
			fprintf(out, "\n%*s", width, "");
			col = width;
		} else if (col > width) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", n, p);
		col += n;
		p += n;
		p += strspn(p, " ");
	}
	fputc('\n', out);
}

static int help_width(void)
{
	char left[96];
	int w = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		flag_form(&keys[i], left, sizeof(left));
		if ((int)strlen(left) > w)
			w = (int)strlen(left);
	}
	w += 4; /* two of indent, two between the columns */
	/* a long form ("--log-level error|warn|info|debug") gets its own
	 * line rather than pushing every text to the right */
	return w < HELP_LEFT_MAX ? w : HELP_LEFT_MAX;
}

void config_print_help(FILE *out)
{
	char left[96], text[512];
	int width = help_width();

	for (size_t i = 0; i < NKEYS; i++) {
		flag_form(&keys[i], left, sizeof(left));
		key_text(&keys[i], text, sizeof(text));
		print_row(out, left, text, width);
	}
}

static void print_usage(FILE *out)
{
	int width = help_width();

	fprintf(out, "usage: xrelayd [--config PATH] [--check-config] "
		"[--KEY VALUE]...\n\n");
	print_row(out, "--config PATH", "Read this file first (\"key = value\" "
		  "lines, '#' comments); the flags override it.", width);
	print_row(out, "--check-config", "Check the configuration, print "
		  "\"xrelayd: config ok\" and exit.", width);
	print_row(out, "--help", "Print this and exit.", width);
	fprintf(out, "\nEvery key is a file line \"key = value\" or a flag "
		"\"--key value\" or\n\"--key=value\" ('-' and '_' are the "
		"same). A DURATION is a number with ms,\ns, m or h; a bare "
		"number is seconds. A repeatable key adds a value per line\n"
		"or flag; on the command line it replaces the file's values.\n"
		"\n");
	config_print_help(out);
}

/* A table cell: '|' would end the cell. */
static void md_cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', out);
		fputc(*s, out);
	}
}

void config_print_markdown(FILE *out)
{
	fprintf(out, "| key | default | description |\n|---|---|---|\n");
	for (size_t i = 0; i < NKEYS; i++) {
		const struct cfg_key *k = &keys[i];

		fprintf(out, "| `%s` | ", k->name);
		if (k->def && k->def[0]) {
			fputc('`', out);
			md_cell(out, k->def);
			fputc('`', out);
		} else {
			fputs(key_default(k), out);
		}
		fputs(" | `", out);
		md_cell(out, k->arg);
		fputs("`: ", out);
		md_cell(out, k->help);
		fprintf(out, "%s |\n", k->list ? " Repeatable." : "");
	}
}
