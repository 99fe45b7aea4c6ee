// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control socket (userspace/ctl.c, ctl_cmds.c, ctl_stats.c): request
 * parsing and the command table; each command's reply, text and JSON
 * (every JSON reply checked well-formed), from real parts: a registrar
 * with a binding, a B2BUA that answered an OPTIONS (counted by method and
 * code), a media engine in socket mode on "lo" with an ng-style session;
 * then the socket itself on a temporary path: mode 0660, a stale file
 * replaced, a live socket or another file refused, several clients at
 * once, a request too long, the file removed at close.
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
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "b2bua.h"
#include "ctl.h"
#include "netaddr.h"
#include "registrar.h"
#include "check.h"
#include "json_check.h"

#define OFFER                                                            \
	"v=0\r\no=alice 10 10 IN IP4 127.0.0.1\r\ns=-\r\n"                 \
	"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"        \
	"a=sendrecv\r\n"
#define ANSWER                                                           \
	"v=0\r\no=bob 20 20 IN IP4 127.0.0.1\r\ns=-\r\n"                   \
	"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"        \
	"a=sendrecv\r\n"
#define OPTIONS                                                          \
	"OPTIONS sip:xrelay.test SIP/2.0\r\n"                              \
	"Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK-ctl-1\r\n"         \
	"Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.2>;tag=1\r\n"            \
	"To: <sip:xrelay.test>\r\nCall-ID: ctl-options-1\r\n"              \
	"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"

static struct {
	struct media_engine *me;
	struct registrar *reg;
	struct b2bua *b2b;
	struct xr_sources src;
	struct ctl_ctx cx;
	int reloads, reload_fails;
	int sent;
	struct outbuf out;
	char path[108];
} F;

static int fake_reload(void *arg, char *err, size_t errlen)
{
	(void)arg;
	F.reloads++;
	if (F.reload_fails) {
		snprintf(err, errlen, "route 'x': no next hop");
		return -1;
	}
	return 0;
}

static int fake_send(void *ctx, const struct sip_peer *to, const char *buf,
		     size_t len)
{
	(void)ctx;
	(void)to;
	(void)buf;
	F.sent++;
	return (int)len;
}

/* The registrar's clock, as the B2BUA and the regs command read it. */
static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void peer(struct sip_peer *p, const char *addr)
{
	memset(p, 0, sizeof(*p));
	p->proto = SIP_UDP;
	netaddr_parse(addr, -1, &p->addr);
	netaddr_parse("127.0.0.1:5060", -1, &p->local);
}

static int setup(void **state)
{
	struct media_cfg mc;
	struct b2bua_cfg bc = { .domain = "xrelay.test", .max_forwards = 70,
				.reg_min_expires_s = 60,
				.reg_max_expires_s = 3600 };
	struct b2bua_deps deps = { 0 };
	struct sip_peer src;
	char err[512];
	unsigned base = 42000 + (unsigned)(getpid() % 100) * 100;

	(void)state;
	memset(&F, 0, sizeof(F));
	media_cfg_defaults(&mc);
	snprintf(mc.ifaces[0].name, sizeof(mc.ifaces[0].name), "lo");
	mc.ifaces[0].mode = ATTACH_OFF;
	mc.nifaces = 1;
	mc.port_min = base;
	mc.port_max = base + 99;
	if (media_engine_new(&F.me, &mc, err, sizeof(err)))
		fail_msg("media_engine_new: %s", err);
	F.reg = registrar_new(60, 3600);
	peer(&src, "127.0.0.3:5064");
	CHECK_EQ(registrar_update(F.reg, "bob@xrelay.test",
				  "sip:bob@127.0.0.3:5064", 600, "reg-1", 1,
				  &src, mono_ms()), 0, "a binding");
	deps.me = F.me;
	deps.reg = F.reg;
	deps.send = fake_send;
	F.b2b = b2bua_new(&bc, &deps);
	F.src = (struct xr_sources){ .b2b = F.b2b, .reg = F.reg, .me = F.me,
				     .start_s = (uint64_t)time(NULL) };
	F.cx = (struct ctl_ctx){ .src = &F.src, .reload = fake_reload };
	ob_init(&F.out, CTL_MAX_REPLY + 64);
	return F.b2b && F.reg ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ob_free(&F.out);
	b2bua_free(F.b2b);
	registrar_free(F.reg);
	media_engine_shutdown(F.me);
	media_engine_free(F.me);
	return 0;
}

/* ---- parsing and the table ------------------------------------------------------ */

static int parse(const char *s, struct ctl_req *r, char *line, char *err)
{
	size_t n = strlen(s);

	memcpy(line, s, n + 1);
	return ctl_parse(line, n, r, err, 256);
}

static void test_parse(void **state)
{
	struct ctl_req r;
	char line[256], err[256];

	(void)state;
	CHECK_EQ(parse("  call\tabc@host  --json\r", &r, line, err), 0, "ok");
	CHECK_EQ(r.argc, 2, "two words");
	CHECK_STR(r.argv[0], "call", "command");
	CHECK_STR(r.argv[1], "abc@host", "argument");
	CHECK_EQ(r.json, 1, "--json anywhere");
	CHECK_EQ(parse("--json stats", &r, line, err), 0, "flag first");
	CHECK_EQ(r.json && r.argc == 1, 1, "stats, JSON");
	CHECK_EQ(parse("", &r, line, err), -1, "empty");
	CHECK_HAS(err, "empty request", "says so");
	CHECK_EQ(parse("   \t ", &r, line, err), -1, "blanks only");
	CHECK_EQ(parse("stats --xml", &r, line, err), -1, "unknown option");
	CHECK_HAS(err, "unknown option '--xml'", "names it");
	CHECK_EQ(parse("st\x1b[2Jats", &r, line, err), -1, "escape sequence");
	CHECK_HAS(err, "control character (byte 0x1b at 2)", "says where");
	CHECK_EQ(parse("a b c d e f g h i", &r, line, err), -1, "9 words");
	CHECK_HAS(err, "at most 8", "the limit");
	CHECK_EQ(parse("a b c d e f g h", &r, line, err), 0, "8 words");
}

static void test_table(void **state)
{
	static const char *const names[] = {
#define NAME(n, a, k, h) #n,
		CTL_COMMANDS(NAME)
#undef NAME
	};

	(void)state;
	CHECK_EQ(ctl_ncmds, sizeof(names) / sizeof(names[0]),
		 "one row per command of ctl_proto.h");
	for (size_t i = 0; i < ctl_ncmds; i++) {
		const struct ctl_cmd *c = ctl_cmd_find(names[i]);

		CHECK_TRUE(c && c->fn && c->help && c->help[0], names[i]);
		CHECK_EQ(c == &ctl_cmds[i], 1, "found by its name");
		CHECK_EQ(c->nargs, c->args[0] ? 1 : 0, "args and nargs agree");
	}
	CHECK_TRUE(ctl_cmd_find("nope") == NULL, "unknown: NULL");
}

/* ---- commands ------------------------------------------------------------------------ */

/* Run one request; the body (NUL-terminated), *ok = "ok" or "error". */
static const char *req(const char *line, int *ok)
{
	char buf[1024];
	size_t n = strlen(line), len = 0;
	char *nl;

	ob_reset(&F.out);
	memcpy(buf, line, n + 1);
	ctl_handle(&F.cx, buf, n, &F.out);
	if (!F.out.p)
		fail_msg("no reply to '%s'", line);
	nl = strchr(F.out.p, '\n');
	if (!nl)
		fail_msg("no header line: '%s'", F.out.p);
	*ok = !strncmp(F.out.p, "ok ", 3);
	if (!*ok && strncmp(F.out.p, "error ", 6))
		fail_msg("header is neither ok nor error: '%s'", F.out.p);
	sscanf(strchr(F.out.p, ' ') + 1, "%zu", &len);
	CHECK_EQ(len, strlen(nl + 1), "the length prefix is the body's");
	if (strstr(line, "--json") && json_check(nl + 1))
		fail_msg("'%s': invalid JSON at '%.60s' in:\n%s", line,
			 json_check(nl + 1), nl + 1);
	return nl + 1;
}

static void test_errors(void **state)
{
	const char *b;
	int ok;

	(void)state;
	b = req("bogus", &ok);
	CHECK_EQ(ok, 0, "unknown command: error");
	CHECK_HAS(b, "unknown command 'bogus' (commands: calls call regs",
		  "lists the commands");
	b = req("call", &ok);
	CHECK_EQ(ok, 0, "missing argument");
	CHECK_STR(b, "usage: call ID [--json]\n", "usage");
	b = req("stats extra", &ok);
	CHECK_EQ(ok, 0, "an argument too many");
	b = req("call nobody --json", &ok);
	CHECK_EQ(ok, 0, "unknown call");
	CHECK_STR(b, "{\"error\":\"no call with Call-ID 'nobody' (xrelayctl "
		  "calls lists them)\"}\n", "a JSON error");
	b = req("end nobody", &ok);
	CHECK_EQ(ok, 0, "end: unknown call");
	CHECK_HAS(b, "no call with Call-ID 'nobody'", "says which");
}

static void test_regs(void **state)
{
	const char *b;
	int ok;

	(void)state;
	b = req("regs", &ok);
	CHECK_EQ(ok, 1, "regs");
	CHECK_HAS(b, "AOR ", "a header");
	CHECK_HAS(b, "bob@xrelay.test  sip:bob@127.0.0.3:5064  "
		  "udp:127.0.0.3:5064", "the binding, aligned");
	CHECK_HAS(b, "\n1 binding\n", "a count");
	b = req("regs --json", &ok);
	CHECK_HAS(b, "{\"aor\":\"bob@xrelay.test\",\"contact\":"
		  "\"sip:bob@127.0.0.3:5064\",\"source\":\"127.0.0.3:5064\","
		  "\"transport\":\"udp\"", "JSON");
	CHECK_HAS(b, "\"count\":1}", "count");
}

static void test_calls_and_call(void **state)
{
	struct media_session *s = media_session_get(F.me, "ng-1", 1);
	char err[256], *out = NULL;
	const char *b;
	int ok;

	(void)state;
	b = req("calls", &ok);
	CHECK_EQ(ok, 1, "calls");
	CHECK_HAS(b, "CALL-ID-A", "the header");
	CHECK_HAS(b, "ng-1", "a media-only session is listed");
	CHECK_EQ(media_offer(F.me, s, MEDIA_LEG_A, OFFER, strlen(OFFER), &out,
			     err, sizeof(err)), 0, "offer");
	free(out);
	CHECK_EQ(media_answer(F.me, s, MEDIA_LEG_B, ANSWER, strlen(ANSWER),
			      &out, err, sizeof(err)), 0, "answer");
	free(out);
	b = req("calls --json", &ok);
	CHECK_HAS(b, "{\"kind\":\"media\",\"call_id_a\":\"ng-1\",\"call_id_b\":"
		  "null", "JSON row");
	CHECK_HAS(b, "\"state\":\"answered\"", "its state");
	CHECK_HAS(b, "\"count\":1}", "count");
	b = req("call ng-1", &ok);
	CHECK_EQ(ok, 1, "call ng-1");
	CHECK_HAS(b, "no SIP dialogs here", "an ng session");
	CHECK_HAS(b, "leg A      signalling -, attach off", "leg A");
	CHECK_HAS(b, "  stream 0 audio sendrecv, relay 127.0.0.1", "stream");
	CHECK_HAS(b, "sdp peer 127.0.0.1:4000  latched no", "A's SDP peer");
	CHECK_HAS(b, "sdp peer 127.0.0.1:5000", "B's SDP peer");
	CHECK_HAS(b, "from B: kernel 0 pkts 0 B, userspace 0 pkts 0 B",
		  "counters per direction");
	CHECK_HAS(b, "drops: foreign source 0, no destination 0, policy 0; "
		  "last packet never", "drops by reason");
	b = req("call ng-1 --json", &ok);
	CHECK_HAS(b, "\"media\":{\"id\":\"ng-1\",\"state\":\"answered\"",
		  "JSON media");
	CHECK_HAS(b, "\"sdp_peer\":\"127.0.0.1:4000\",\"latched\":null",
		  "JSON component");
	CHECK_HAS(b, "\"last_packet_age_ms\":null", "never");
	b = req("end ng-1", &ok);
	CHECK_EQ(ok, 0, "an ng session is not ended from here");
	CHECK_HAS(b, "is a media session of the ng protocol", "says why");
	media_session_delete(F.me, s);
	b = req("call ng-1", &ok);
	CHECK_EQ(ok, 0, "gone");
}

static void test_stats(void **state)
{
	struct sip_peer from;
	struct b2bua_stats st;
	const char *b;
	int ok;

	(void)state;
	peer(&from, "127.0.0.2:5062");
	b2bua_on_message(F.b2b, OPTIONS, strlen(OPTIONS), &from);
	b2bua_stats(F.b2b, &st);
	CHECK_EQ(st.requests[B2B_RX][B2B_M_OPTIONS], 1, "OPTIONS counted in");
	CHECK_EQ(st.responses[B2B_TX][200 - B2B_CODE_MIN], 1, "200 counted out");
	CHECK_EQ(F.sent, 1, "one message sent");
	b2bua_on_message(F.b2b, "bogus\r\n\r\n", 9, &from);
	b = req("stats", &ok);
	CHECK_EQ(ok, 1, "stats");
	CHECK_HAS(b, "calls       0 active (0 legs)", "calls");
	CHECK_HAS(b, "1 malformed", "malformed SIP");
	CHECK_HAS(b, "regs        1 bindings", "registrations");
	CHECK_HAS(b, "port pairs 0 of 100 in use", "the pool");
	CHECK_HAS(b, "forwarded   no packets yet", "no share without packets");
	CHECK_HAS(b, "  lo              want off", "the interface");
	CHECK_HAS(b, "userspace (configured off)", "its state");
	b = req("stats --json", &ok);
	CHECK_HAS(b, "\"kernel_share_percent\":null", "no share yet");
	CHECK_HAS(b, "\"interfaces\":[{\"name\":\"lo\",\"want\":\"off\","
		  "\"got\":\"off\",\"fallback\":false}]", "interfaces");
	CHECK_HAS(b, "\"drop_foreign_source\":{\"packets\":0", "verdicts");
	CHECK_HAS(b, "\"xrelay_sip_requests_total\":[", "the metric list");
	b = req("metrics", &ok);
	CHECK_HAS(b, "xrelay_sip_requests_total", "metrics table");
	CHECK_HAS(b, "direction=in method=OPTIONS", "with labels");
	b = req("metrics --json", &ok);
	CHECK_EQ(ok, 1, "metrics as JSON");
}

static void test_reload_help(void **state)
{
	const char *b;
	int ok;

	(void)state;
	b = req("reload", &ok);
	CHECK_EQ(ok && F.reloads == 1, 1, "reload runs the callback");
	CHECK_HAS(b, "reloaded", "says so");
	F.reload_fails = 1;
	b = req("reload --json", &ok);
	CHECK_EQ(ok, 0, "a refused reload is an error");
	CHECK_HAS(b, "route 'x': no next hop", "with the reason");
	F.cx.reload = NULL;
	req("reload", &ok);
	CHECK_EQ(ok, 0, "no callback: error");
	b = req("help", &ok);
	for (size_t i = 0; i < ctl_ncmds; i++)
		CHECK_HAS(b, ctl_cmds[i].help, ctl_cmds[i].name);
	CHECK_HAS(b, "call ID    One call", "usage column");
	req("help --json", &ok);
	CHECK_EQ(ok, 1, "help as JSON");
}

/* ---- the socket -------------------------------------------------------------------------- */

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* What a client has read and not taken yet. */
struct rbuf {
	char b[1 << 16];
	size_t n;
};

/* A whole reply at the start of r: its length, else 0. */
static size_t complete(struct rbuf *r)
{
	char *nl;
	size_t len;

	r->b[r->n] = 0;
	nl = memchr(r->b, '\n', r->n);
	if (!nl || !strchr(r->b, ' ') ||
	    sscanf(strchr(r->b, ' ') + 1, "%zu", &len) != 1)
		return 0;
	len += (size_t)(nl - r->b) + 1;
	return r->n >= len ? len : 0;
}

/* Serve until fd has a whole reply (or EOF); the reply (in out). */
static char *reply(struct ctl_server *srv, int fd, struct rbuf *r)
{
	static char out[1 << 16];
	size_t len = 0;

	for (int i = 0; i < 400 && !(len = complete(r)); i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		ctl_run(srv);
		if (poll(&p, 1, 5) <= 0)
			continue;
		n = recv(fd, r->b + r->n, sizeof(r->b) - 1 - r->n, 0);
		if (n <= 0)
			break;
		r->n += (size_t)n;
	}
	if (!len)
		len = r->n;
	memcpy(out, r->b, len);
	out[len] = 0;
	memmove(r->b, r->b + len, r->n - len);
	r->n -= len;
	return out;
}

static void test_socket(void **state)
{
	struct ctl_server *srv = NULL, *two = NULL;
	char err[512], path[96], *r;
	struct stat st;
	static struct rbuf rb[3];
	int fd[3];

	(void)state;
	snprintf(path, sizeof(path), "/tmp/xrelay-test-ctl.%d/sub/ctl.sock",
		 getpid());
	CHECK_EQ(ctl_open(&srv, path, &F.cx, err, sizeof(err)), 0, err);
	CHECK_EQ(stat(path, &st), 0, "the socket exists");
	CHECK_TRUE(S_ISSOCK(st.st_mode), "a socket");
	CHECK_EQ(st.st_mode & 0777, 0660, "mode 0660");
	CHECK_EQ(ctl_open(&two, path, &F.cx, err, sizeof(err)), -1,
		 "a second daemon on the same path");
	CHECK_HAS(err, "another xrelayd is listening on", "says why");

	for (int i = 0; i < 3; i++) {
		fd[i] = dial(path);
		CHECK_TRUE(fd[i] >= 0, "connect");
	}
	/* several clients, each with two requests in one write */
	for (int i = 2; i >= 0; i--) {
		CHECK_EQ(send(fd[i], "regs\nhelp\n", 10, 0), 10, "send");
		r = reply(srv, fd[i], &rb[i]);
		CHECK_TRUE(!strncmp(r, "ok ", 3), "first reply");
		CHECK_HAS(r, "bob@xrelay.test", "regs");
		r = reply(srv, fd[i], &rb[i]);
		CHECK_TRUE(!strncmp(r, "ok ", 3), "second reply");
		CHECK_HAS(r, "This list.", "help");
	}
	/* bad input: an error reply, never more */
	CHECK_EQ(send(fd[0], "st\0ats\n", 7, 0), 7, "a NUL byte");
	r = reply(srv, fd[0], &rb[0]);
	CHECK_HAS(r, "error ", "an error");
	CHECK_HAS(r, "control character", "why");
	{
		char big[3000];

		memset(big, 'x', sizeof(big));
		CHECK_EQ(send(fd[1], big, sizeof(big), 0), (long)sizeof(big),
			 "a request too long");
		r = reply(srv, fd[1], &rb[1]);
		CHECK_HAS(r, "longer than one line", "an error, not a reset");
	}
	for (int i = 0; i < 3; i++)
		close(fd[i]);
	ctl_close(srv);
	CHECK_EQ(stat(path, &st), -1, "the socket file is removed at close");

	/* a stale socket (no listener) is replaced */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int s = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
		CHECK_EQ(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0,
			 "a stale socket file");
		close(s);
	}
	CHECK_EQ(ctl_open(&srv, path, &F.cx, err, sizeof(err)), 0,
		 "a stale socket is replaced");
	ctl_close(srv);
	/* another kind of file is the operator's */
	fclose(fopen(path, "w"));
	CHECK_EQ(ctl_open(&srv, path, &F.cx, err, sizeof(err)), -1,
		 "a plain file");
	CHECK_HAS(err, "exists and is not a socket", "says why");
	unlink(path);
	*strrchr(path, '/') = 0;
	rmdir(path);
	*strrchr(path, '/') = 0;
	rmdir(path);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_table),
		T(test_errors),
		T(test_regs),
		T(test_calls_and_call),
		T(test_stats),
		T(test_reload_help),
		T(test_socket),
	};

	return cmocka_run_group_tests_name("test_ctl", tests, NULL, NULL);
}
