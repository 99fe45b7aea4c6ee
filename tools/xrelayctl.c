// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xrelayctl: ask xrelayd over its control socket. One command per run:
 * send its line, print the reply's body, exit with a code a script can
 * rely on (ctl_proto.h). The command table is the daemon's own
 * (CTL_COMMANDS), so --help and the usage checks cannot drift from it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"

#define REPLY_WAIT_MS 30000 /* a busy daemon answers well within this */

struct cmd_doc {
	const char *name, *args;
	int nargs;
	const char *help;
};

#define DOC_ROW(n, a, k, h) { #n, a, k, h },
static const struct cmd_doc docs[] = { CTL_COMMANDS(DOC_ROW) };
#undef DOC_ROW
#define NDOCS (sizeof(docs) / sizeof(docs[0]))

#define HELP_COL 12   /* where a command's help starts */
#define HELP_WIDTH 79

/* text from column HELP_COL, wrapped at HELP_WIDTH on spaces. */
static void wrap(FILE *f, const char *text)
{
	int col = HELP_COL;

	while (*text) {
		size_t n = strcspn(text, " ");

		if (col > HELP_COL && col + 1 + (int)n > HELP_WIDTH) {
			fprintf(f, "\n%*s", HELP_COL, "");
			col = HELP_COL;
		} else if (col > HELP_COL) {
			fputc(' ', f);
			col++;
		}
		fwrite(text, 1, n, f);
		col += (int)n;
		text += n;
		text += strspn(text, " ");
	}
	fputc('\n', f);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xrelayctl [--socket PATH] [--json] COMMAND [ARG]\n"
		"\nAsks xrelayd over its control socket (--socket, default\n"
		"%s: the daemon's ctl_socket).\n--json prints JSON for "
		"scripts.\n\ncommands:\n", CTL_SOCKET_DEFAULT);
	for (size_t i = 0; i < NDOCS; i++) {
		char use[32];

		snprintf(use, sizeof(use), "%s%s%s", docs[i].name,
			 docs[i].nargs ? " " : "", docs[i].args);
		fprintf(f, "  %-*s", HELP_COL - 2, use);
		wrap(f, docs[i].help);
	}
	fprintf(f, "\nexit codes:\n"
		"  0  the command ran (its output on stdout)\n"
		"  1  the daemon refused it, e.g. no such call (the reason on "
		"stderr)\n"
		"  2  usage error\n"
		"  3  cannot reach the daemon (no socket, refused, no reply)\n");
}

static const struct cmd_doc *find_doc(const char *name)
{
	for (size_t i = 0; i < NDOCS; i++)
		if (!strcmp(docs[i].name, name))
			return &docs[i];
	return NULL;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "xrelayctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (xrelayctl --help lists the commands)\n");
	return CTL_EXIT_USAGE;
}

/* An argument goes into one word of one line. */
static int word_ok(const char *s)
{
	if (!*s || strlen(s) > 512)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "xrelayctl: socket path too long: %s\n", path);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "xrelayctl: cannot connect to %s: %s (is "
			"xrelayd running, with this ctl_socket? --socket "
			"PATH picks another)\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Read exactly len bytes (or up to a header's "\n" when line is set);
 * returns the bytes read, -1 on error or timeout. */
static long read_some(int fd, char *buf, size_t len, int line)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, REPLY_WAIT_MS) <= 0)
			return -1;
		n = read(fd, buf + got, line ? 1 : len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
		if (line && buf[got - 1] == '\n')
			break;
	}
	return (long)got;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Send the request and copy the reply's body out; the exit code. */
static int exchange(int fd, const char *req)
{
	char hdr[64], *body;
	unsigned long long len;
	long n;
	int ok;

	if (write_all(fd, req, strlen(req)) < 0 ||
	    (n = read_some(fd, hdr, sizeof(hdr) - 1, 1)) <= 0) {
		fprintf(stderr, "xrelayctl: no reply from xrelayd\n");
		return CTL_EXIT_CONNECT;
	}
	hdr[n] = 0;
	if (sscanf(hdr, "ok %llu", &len) == 1)
		ok = 1;
	else if (sscanf(hdr, "error %llu", &len) == 1)
		ok = 0;
	else
		len = CTL_MAX_REPLY + 1ull;
	if (len > CTL_MAX_REPLY || !(body = malloc(len + 1))) {
		fprintf(stderr, "xrelayctl: a reply I do not understand: %s",
			hdr);
		return CTL_EXIT_CONNECT;
	}
	if (len && read_some(fd, body, len, 0) != (long)len) {
		fprintf(stderr, "xrelayctl: the reply broke off\n");
		free(body);
		return CTL_EXIT_CONNECT;
	}
	if (ok) {
		write_all(STDOUT_FILENO, body, len);
	} else {
		/* JSON stays JSON, for a script reading stderr */
		if (len && body[0] != '{')
			fputs("xrelayctl: ", stderr);
		fwrite(body, 1, len, stderr);
	}
	free(body);
	return ok ? CTL_EXIT_OK : CTL_EXIT_ERROR;
}

int main(int argc, char **argv)
{
	const char *path = CTL_SOCKET_DEFAULT, *words[4];
	const struct cmd_doc *d;
	char req[CTL_MAX_LINE];
	int json = 0, nw = 0, fd, rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return CTL_EXIT_OK;
		} else if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = 1;
		} else if (!strcmp(argv[i], "--socket") || !strcmp(argv[i], "-s")) {
			if (++i == argc)
				return usage_error("%s needs a PATH", argv[i - 1]);
			path = argv[i];
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			path = argv[i] + 9;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return usage_error("unknown option '%s'", argv[i]);
		} else if (nw == 4) {
			return usage_error("too many words at '%s'", argv[i]);
		} else {
			words[nw++] = argv[i];
		}
	}
	if (!nw) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (!(d = find_doc(words[0])))
		return usage_error("unknown command '%s'", words[0]);
	if (nw - 1 != d->nargs) {
		fprintf(stderr, "xrelayctl: usage: xrelayctl %s%s%s\n", d->name,
			d->nargs ? " " : "", d->args);
		return CTL_EXIT_USAGE;
	}
	for (int i = 1; i < nw; i++)
		if (!word_ok(words[i]))
			return usage_error("'%s' cannot be sent as one word",
					   words[i]);
	snprintf(req, sizeof(req), "%s%s%s%s\n", d->name, nw > 1 ? " " : "",
		 nw > 1 ? words[1] : "", json ? " --json" : "");
	fd = connect_to(path);
	if (fd < 0)
		return CTL_EXIT_CONNECT;
	rc = exchange(fd, req);
	close(fd);
	return rc;
}
