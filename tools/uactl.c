// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * uactl: drives a baresip phone through its ctrl_tcp module, for the
 * end-to-end tests and the demo (no python needed on the machine).
 *
 * ctrl_tcp speaks netstrings ("LEN:JSON,") over TCP. A command is
 *   {"command":"dial","params":"sip:bob@example.com","token":"T"}
 * and its answer
 *   {"response":true,"ok":true,"data":"...","token":"T"}
 * and, unasked, the phone sends events
 *   {"event":true,"class":"call","type":"CALL_ESTABLISHED","param":"..."}
 *
 * uactl connects (retrying until the deadline while nothing listens yet,
 * so it also waits for a phone that is starting), sends at most one
 * command, prints its "data" (terminal colour sequences removed), and with
 * --wait-event also waits for an event of one of the given types, which
 * may arrive before or after the answer, and prints it as "TYPE PARAM".
 *
 * baresip 1.0's ctrl_tcp talks to one connection at a time: the newest
 * one gets the answers and the events. So a command and the event it
 * leads to are best sent and awaited in one uactl run.
 *
 * Exit: 0 done (answer ok, event seen); 1 the phone answered ok:false;
 * 2 usage error; 3 deadline passed (no answer or no such event);
 * 4 cannot connect, connection lost, or a malformed message.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define EX_OK 0
#define EX_NOTOK 1
#define EX_USAGE 2
#define EX_TIMEOUT 3
#define EX_CONN 4

#define MAX_MSG (1 << 20)   /* a netstring longer than this is refused */
#define MAX_TYPES 16
#define MAX_FIELDS 32

static const char *prog = "uactl";
static bool verbose;

static void usage(FILE *f)
{
	fprintf(f,
"usage: uactl [--host ADDR] [--port N] [--timeout SEC]\n"
"             [--wait-event TYPE[,TYPE...]] [--raw] [--verbose]\n"
"             [COMMAND [PARAMS...]]\n"
"  Sends COMMAND (a baresip command: dial, accept, hangup, hold, resume,\n"
"  reginfo, listcalls, callstat, ...) with PARAMS (joined by spaces) to\n"
"  baresip's ctrl_tcp at ADDR:N (default 127.0.0.1:4444) and prints the\n"
"  answer's data. With --wait-event it then also waits for an event of\n"
"  one of the types (e.g. CALL_ESTABLISHED,CALL_CLOSED), counting those\n"
"  that came before the answer, and prints it as \"TYPE PARAM\"; with no\n"
"  COMMAND it only waits. SEC (default 5, fractions allowed) bounds the\n"
"  whole run, connecting included. --raw prints the answer's JSON as is;\n"
"  --verbose prints every message received on stderr.\n"
"  Options come before COMMAND; what follows it is its parameters.\n"
"  Exit: 0 ok, 1 the answer is ok:false, 2 usage, 3 deadline passed,\n"
"  4 connection or protocol error.\n");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- a tiny JSON reader: the top-level members of one object ---------- */

struct field {
	char key[32];
	char *val;   /* decoded string, or the literal (true, 12, ...) */
};

struct msg {
	struct field f[MAX_FIELDS];
	int n;
};

static void msg_free(struct msg *m)
{
	for (int i = 0; i < m->n; i++)
		free(m->f[i].val);
	m->n = 0;
}

static const char *msg_get(const struct msg *m, const char *key)
{
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->f[i].key, key) == 0)
			return m->f[i].val;
	return NULL;
}

static bool msg_true(const struct msg *m, const char *key)
{
	const char *v = msg_get(m, key);

	return v && strcmp(v, "true") == 0;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static void put_utf8(char **o, unsigned cp)
{
	char *q = *o;

	if (cp < 0x80) {
		*q++ = (char)cp;
	} else if (cp < 0x800) {
		*q++ = (char)(0xc0 | cp >> 6);
		*q++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*q++ = (char)(0xe0 | cp >> 12);
		*q++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*q++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*q++ = (char)(0xf0 | cp >> 18);
		*q++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*q++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*q++ = (char)(0x80 | (cp & 0x3f));
	}
	*o = q;
}

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

/* A JSON string at p (at its opening quote); returns the position after
 * it, the decoded text in *out (malloc'd) when out is not NULL. */
static const char *json_string(const char *p, const char *end, char **out)
{
	char *buf = NULL, *o = NULL;

	if (p >= end || *p != '"')
		return NULL;
	p++;
	if (out) {
		buf = malloc((size_t)(end - p) + 1);
		if (!buf)
			return NULL;
		o = buf;
	}
	while (p < end && *p != '"') {
		char c = *p++;
		unsigned cp;

		if (c != '\\') {
			if (o)
				*o++ = c;
			continue;
		}
		if (p >= end)
			goto bad;
		c = *p++;
		switch (c) {
		case 'n': cp = '\n'; break;
		case 't': cp = '\t'; break;
		case 'r': cp = '\r'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case '"': case '\\': case '/': cp = (unsigned char)c; break;
		case 'u':
			if (end - p < 4 || hex4(p, &cp))
				goto bad;
			p += 4;
			/* a surrogate pair */
			if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u') {
				unsigned lo;

				if (!hex4(p + 2, &lo) && lo >= 0xdc00 &&
				    lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					     (lo - 0xdc00);
					p += 6;
				}
			}
			break;
		default:
			goto bad;
		}
		if (o)
			put_utf8(&o, cp);
	}
	if (p >= end)
		goto bad;
	if (out) {
		*o = '\0';
		*out = buf;
	}
	return p + 1;
bad:
	free(buf);
	return NULL;
}

/* Skips one JSON value of any kind. */
static const char *json_skip(const char *p, const char *end, int depth)
{
	p = skip_ws(p, end);
	if (p >= end || depth > 32)
		return NULL;
	if (*p == '"')
		return json_string(p, end, NULL);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';

		p = skip_ws(p + 1, end);
		if (p < end && *p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				p = json_string(skip_ws(p, end), end, NULL);
				if (!p)
					return NULL;
				p = skip_ws(p, end);
				if (p >= end || *p != ':')
					return NULL;
				p++;
			}
			p = json_skip(p, end, depth + 1);
			if (!p)
				return NULL;
			p = skip_ws(p, end);
			if (p < end && *p == ',') {
				p++;
				continue;
			}
			if (p < end && *p == close)
				return p + 1;
			return NULL;
		}
	}
	/* a literal: true, false, null, a number */
	while (p < end && *p != ',' && *p != '}' && *p != ']' &&
	       *p != ' ' && *p != '\n' && *p != '\t' && *p != '\r')
		p++;
	return p;
}

/* Parses one object's top-level members: strings decoded, literals as
 * written, nested objects and arrays skipped. */
static int json_object(const char *p, size_t len, struct msg *m)
{
	const char *end = p + len;

	m->n = 0;
	p = skip_ws(p, end);
	if (p >= end || *p != '{')
		return -1;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return 0;
	for (;;) {
		char *key = NULL;
		const char *v;

		p = json_string(skip_ws(p, end), end, &key);
		if (!p)
			return -1;
		p = skip_ws(p, end);
		if (p >= end || *p != ':') {
			free(key);
			return -1;
		}
		p = skip_ws(p + 1, end);
		v = p;
		if (p < end && *p == '"') {
			char *s = NULL;

			p = json_string(p, end, &s);
			if (!p) {
				free(key);
				return -1;
			}
			if (m->n < MAX_FIELDS && strlen(key) < 32) {
				strcpy(m->f[m->n].key, key);
				m->f[m->n++].val = s;
			} else {
				free(s);
			}
		} else {
			p = json_skip(p, end, 0);
			if (!p) {
				free(key);
				return -1;
			}
			if (*v != '{' && *v != '[' && m->n < MAX_FIELDS &&
			    strlen(key) < 32) {
				strcpy(m->f[m->n].key, key);
				m->f[m->n++].val = strndup(v, (size_t)(p - v));
			}
		}
		free(key);
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '}')
			return 0;
		return -1;
	}
}

/* ---- JSON out ------------------------------------------------------------ */

/* Appends s as a JSON string to buf (of size cap); -1 when it does not
 * fit. */
static int json_put(char *buf, size_t cap, size_t *len, const char *s)
{
	size_t n = *len;

	if (n + 1 >= cap)
		return -1;
	buf[n++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (n + 8 >= cap)
			return -1;
		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(buf + n, cap - n, "\\u%04x", c);
		} else {
			buf[n++] = (char)c;
		}
	}
	if (n + 1 >= cap)
		return -1;
	buf[n++] = '"';
	*len = n;
	return 0;
}

/* ---- the connection ---------------------------------------------------------- */

static int connect_until(const struct sockaddr_in *sa, double deadline)
{
	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
			return -EX_CONN;
		}
		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			return fd;
		int err = errno;

		close(fd);
		if (err != ECONNREFUSED && err != EINTR) {
			fprintf(stderr, "%s: connect: %s\n", prog, strerror(err));
			return -EX_CONN;
		}
		if (now() >= deadline) {
			char a[INET_ADDRSTRLEN];

			fprintf(stderr, "%s: nothing listens on %s:%u (is "
				"baresip running with ctrl_tcp?)\n", prog,
				inet_ntop(AF_INET, &sa->sin_addr, a, sizeof(a)),
				ntohs(sa->sin_port));
			return -EX_TIMEOUT;
		}
		usleep(50 * 1000);
	}
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct reader {
	char *buf;
	size_t len, cap;
};

/* The next netstring's payload (in r->buf, NUL-terminated, of *plen
 * bytes; the caller calls consume with *used after use): 1 when one is
 * there, 0 when more bytes are needed, -1 when malformed. */
static int next_netstring(struct reader *r, size_t *off, size_t *plen,
			  size_t *used)
{
	size_t i = 0, n = 0;

	while (i < r->len && r->buf[i] >= '0' && r->buf[i] <= '9') {
		n = n * 10 + (size_t)(r->buf[i] - '0');
		if (n > MAX_MSG)
			return -1;
		i++;
	}
	if (i == r->len)
		return 0;
	if (i == 0 || r->buf[i] != ':')
		return -1;
	if (r->len < i + 1 + n + 1)
		return 0;
	if (r->buf[i + 1 + n] != ',')
		return -1;
	*off = i + 1;
	*plen = n;
	*used = i + 1 + n + 1;
	return 1;
}

static void consume(struct reader *r, size_t used)
{
	memmove(r->buf, r->buf + used, r->len - used);
	r->len -= used;
}

/* Prints s without terminal escape sequences (ESC [ ... letter). */
static void print_plain(const char *s)
{
	while (*s) {
		if (s[0] == '\033' && s[1] == '[') {
			s += 2;
			while (*s && !((*s >= 'A' && *s <= 'Z') ||
				       (*s >= 'a' && *s <= 'z')))
				s++;
			if (*s)
				s++;
			continue;
		}
		putchar(*s++);
	}
}

static bool type_wanted(char types[][64], int ntypes, const char *t)
{
	for (int i = 0; i < ntypes; i++)
		if (t && strcmp(types[i], t) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "port", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "wait-event", required_argument, NULL, 'w' },
		{ "raw", no_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char types[MAX_TYPES][64];
	int ntypes = 0;
	double timeout = 5;
	bool raw = false;
	long port = 4444;
	const char *host = "127.0.0.1";
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			host = optarg;
			break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end || port < 1 || port > 65535) {
				fprintf(stderr, "%s: --port '%s' is not a port\n",
					prog, optarg);
				return EX_USAGE;
			}
			break;
		case 't':
			timeout = strtod(optarg, &end);
			if (*end || !(timeout > 0) || timeout > 86400) {
				fprintf(stderr, "%s: --timeout '%s' is not "
					"seconds\n", prog, optarg);
				return EX_USAGE;
			}
			break;
		case 'w': {
			char *list = strdup(optarg), *save = NULL, *tok;

			if (!list)
				return EX_CONN;
			for (tok = strtok_r(list, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (ntypes == MAX_TYPES || strlen(tok) >= 64) {
					fprintf(stderr, "%s: too many or too "
						"long event types\n", prog);
					free(list);
					return EX_USAGE;
				}
				strcpy(types[ntypes++], tok);
			}
			free(list);
			if (ntypes == 0) {
				fprintf(stderr, "%s: --wait-event needs a "
					"type\n", prog);
				return EX_USAGE;
			}
			break;
		}
		case 'r':
			raw = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "%s: --host '%s' is not an IPv4 address\n",
			prog, host);
		return EX_USAGE;
	}
	sa.sin_port = htons((uint16_t)port);
	const char *cmd = optind < argc ? argv[optind] : NULL;

	if (!cmd && ntypes == 0) {
		fprintf(stderr, "%s: nothing to do: give a COMMAND or "
			"--wait-event (uactl --help)\n", prog);
		return EX_USAGE;
	}

	/* The command, with its parameters joined by spaces. */
	char token[32], body[8192], frame[8300];
	size_t blen = 0;

	snprintf(token, sizeof(token), "uactl-%ld", (long)getpid());
	if (cmd) {
		char params[4096] = "";
		size_t pl = 0;

		for (int i = optind + 1; i < argc; i++) {
			int n = snprintf(params + pl, sizeof(params) - pl,
					 "%s%s", pl ? " " : "", argv[i]);
			if (n < 0 || (size_t)n >= sizeof(params) - pl) {
				fprintf(stderr, "%s: parameters too long\n",
					prog);
				return EX_USAGE;
			}
			pl += (size_t)n;
		}
		body[blen++] = '{';
		memcpy(body + blen, "\"command\":", 10);
		blen += 10;
		if (json_put(body, sizeof(body), &blen, cmd))
			goto too_long;
		memcpy(body + blen, ",\"params\":", 10);
		blen += 10;
		if (json_put(body, sizeof(body), &blen, params))
			goto too_long;
		memcpy(body + blen, ",\"token\":", 9);
		blen += 9;
		if (json_put(body, sizeof(body), &blen, token) ||
		    blen + 2 > sizeof(body))
			goto too_long;
		body[blen++] = '}';
	}

	double deadline = now() + timeout;
	int fd = connect_until(&sa, deadline);

	if (fd < 0)
		return -fd;
	if (cmd) {
		int n = snprintf(frame, sizeof(frame), "%zu:%.*s,", blen,
				 (int)blen, body);

		if (send_all(fd, frame, (size_t)n)) {
			fprintf(stderr, "%s: send: %s\n", prog, strerror(errno));
			close(fd);
			return EX_CONN;
		}
		if (verbose)
			fprintf(stderr, "%s: sent %.*s\n", prog, (int)blen,
				body);
	}

	struct reader r = { .cap = 65536 };
	bool answered = !cmd, seen = ntypes == 0;
	int rc = EX_OK;

	r.buf = malloc(r.cap);
	if (!r.buf) {
		close(fd);
		return EX_CONN;
	}
	while (!answered || !seen) {
		size_t off, plen, used;
		int got = next_netstring(&r, &off, &plen, &used);

		if (got < 0) {
			fprintf(stderr, "%s: malformed netstring from the "
				"phone\n", prog);
			rc = EX_CONN;
			break;
		}
		if (got == 1) {
			struct msg m;
			char save = r.buf[off + plen];

			r.buf[off + plen] = '\0';
			if (verbose)
				fprintf(stderr, "%s: got %s\n", prog,
					r.buf + off);
			if (json_object(r.buf + off, plen, &m)) {
				fprintf(stderr, "%s: malformed JSON from the "
					"phone: %s\n", prog, r.buf + off);
				msg_free(&m);
				rc = EX_CONN;
				break;
			}
			if (msg_true(&m, "response") && !answered) {
				const char *tok = msg_get(&m, "token");

				if (!tok || strcmp(tok, token) == 0) {
					const char *data = msg_get(&m, "data");

					answered = true;
					if (raw)
						printf("%s\n", r.buf + off);
					else if (data)
						print_plain(data);
					if (!raw && data && *data &&
					    data[strlen(data) - 1] != '\n')
						putchar('\n');
					if (!msg_true(&m, "ok")) {
						rc = EX_NOTOK;
						seen = true; /* wait no more */
					}
				}
			} else if (msg_true(&m, "event") && !seen &&
				   type_wanted(types, ntypes,
					       msg_get(&m, "type"))) {
				const char *prm = msg_get(&m, "param");

				seen = true;
				printf("%s%s%s\n", msg_get(&m, "type"),
				       prm ? " " : "", prm ? prm : "");
			}
			msg_free(&m);
			r.buf[off + plen] = save;
			consume(&r, used);
			continue;
		}

		/* more bytes */
		double left = deadline - now();

		if (left <= 0) {
			fprintf(stderr, "%s: no %s within %g s\n", prog,
				!answered ? "answer" : "such event", timeout);
			rc = EX_TIMEOUT;
			break;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, (int)(left * 1000) + 1);

		if (pr < 0 && errno != EINTR) {
			fprintf(stderr, "%s: poll: %s\n", prog, strerror(errno));
			rc = EX_CONN;
			break;
		}
		if (pr <= 0)
			continue;
		if (r.len == r.cap) {
			char *nb = r.cap < MAX_MSG + 64 ?
				realloc(r.buf, r.cap * 2) : NULL;

			if (!nb) {
				fprintf(stderr, "%s: message too long\n", prog);
				rc = EX_CONN;
				break;
			}
			r.buf = nb;
			r.cap *= 2;
		}
		ssize_t n = recv(fd, r.buf + r.len, r.cap - r.len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "%s: the phone closed the connection "
				"(another control connection took over?)\n",
				prog);
			rc = EX_CONN;
			break;
		}
		r.len += (size_t)n;
	}
	fflush(stdout);
	free(r.buf);
	close(fd);
	return rc;

too_long:
	fprintf(stderr, "%s: command too long\n", prog);
	return EX_USAGE;
}
