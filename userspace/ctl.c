// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control socket and its line protocol (ctl_proto.h). The socket is
 * made with care because it is an operator's way in at 3 a.m.: a stale
 * file from a crash must not stop the daemon, a second daemon must not
 * steal the first one's socket, and stop removes only our own file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "streamsrv.h"

#define CTL_CLIENTS 16
#define CTL_IDLE_MS 60000
#define CTL_MODE 0660     /* the daemon's user and group */
#define CTL_DIR_MODE 0755 /* the socket's own mode guards it */

struct ctl_server {
	struct ctl_ctx cx;
	struct streamsrv *srv;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
};

/* ---- parsing and framing -------------------------------------------------------- */

static int is_blank(char ch) { return ch == ' ' || ch == '\t'; }

int ctl_parse(char *line, size_t len, struct ctl_req *r, char *err,
	      size_t errlen)
{
	char *p = line, *end;

	memset(r, 0, sizeof(*r));
	if (len && line[len - 1] == '\r')
		line[--len] = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			snprintf(err, errlen, "the request has a control "
				 "character (byte 0x%02x at %zu): send one "
				 "line of text", ch, i);
			return -1;
		}
	}
	line[len] = 0;
	end = line + len;
	while (p < end) {
		char *w;

		while (p < end && is_blank(*p))
			p++;
		if (p == end)
			break;
		w = p;
		while (p < end && !is_blank(*p))
			p++;
		*p++ = 0;
		if (!strcmp(w, "--json")) {
			r->json = 1;
			continue;
		}
		if (w[0] == '-' && w[1] == '-') {
			snprintf(err, errlen, "unknown option '%.64s' (the only "
				 "option is --json)", w);
			return -1;
		}
		if (r->argc == CTL_MAX_ARGS) {
			snprintf(err, errlen, "too many words in the request "
				 "(at most %d)", CTL_MAX_ARGS);
			return -1;
		}
		r->argv[r->argc++] = w;
	}
	if (!r->argc) {
		snprintf(err, errlen, "empty request: send a command, e.g. "
			 "'stats' or 'help'");
		return -1;
	}
	return 0;
}

const struct ctl_cmd *ctl_cmd_find(const char *name)
{
	for (size_t i = 0; i < ctl_ncmds; i++)
		if (!strcmp(ctl_cmds[i].name, name))
			return &ctl_cmds[i];
	return NULL;
}

static void frame_error(struct outbuf *out, int json, const char *msg)
{
	struct outbuf b;

	ob_init(&b, 4096);
	if (json) {
		ob_puts(&b, "{\"error\":");
		ob_json_str(&b, msg);
		ob_puts(&b, "}\n");
	} else {
		ob_printf(&b, "%s\n", msg);
	}
	ob_printf(out, "error %zu\n", b.len);
	ob_put(out, b.p, b.len);
	ob_free(&b);
}

static void unknown(struct outbuf *out, int json, const char *name)
{
	char msg[512];
	size_t n = (size_t)snprintf(msg, sizeof(msg), "unknown command "
				    "'%.64s' (commands:", name);

	for (size_t i = 0; i < ctl_ncmds && n < sizeof(msg); i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, " %s",
				      ctl_cmds[i].name);
	if (n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ")");
	frame_error(out, json, msg);
}

void ctl_handle(const struct ctl_ctx *cx, char *line, size_t len,
		struct outbuf *out)
{
	const struct ctl_cmd *cmd;
	struct ctl_req r;
	struct outbuf body;
	char err[512];

	if (ctl_parse(line, len, &r, err, sizeof(err)) < 0) {
		frame_error(out, r.json, err);
		return;
	}
	cmd = ctl_cmd_find(r.argv[0]);
	if (!cmd) {
		unknown(out, r.json, r.argv[0]);
		return;
	}
	if (r.argc - 1 != cmd->nargs) {
		snprintf(err, sizeof(err), "usage: %s%s%s [--json]", cmd->name,
			 cmd->nargs ? " " : "", cmd->args);
		frame_error(out, r.json, err);
		return;
	}
	ob_init(&body, CTL_MAX_REPLY);
	err[0] = 0;
	if (cmd->fn(cx, &r, &body, err, sizeof(err)) < 0) {
		frame_error(out, r.json, err[0] ? err : "failed");
	} else if (body.full) {
		snprintf(err, sizeof(err), "the reply is over the %u MiB limit "
			 "of the control socket (use 'stats' for totals, or "
			 "'call ID' for one call)", CTL_MAX_REPLY >> 20);
		frame_error(out, r.json, err);
	} else {
		ob_printf(out, "ok %zu\n", body.len);
		ob_put(out, body.p ? body.p : "", body.len);
	}
	ob_free(&body);
}

static enum srv_verdict ctl_input(void *ctx, char *in, size_t len, int full,
				  struct outbuf *out, size_t *used)
{
	struct ctl_server *c = ctx;
	char *nl = memchr(in, '\n', len);

	if (!nl) {
		if (!full)
			return SRV_MORE;
		frame_error(out, 0, "the request is longer than one line of "
			    "1024 bytes");
		return SRV_CLOSE;
	}
	*used = (size_t)(nl - in) + 1;
	ctl_handle(&c->cx, in, (size_t)(nl - in), out);
	return SRV_REPLY;
}

static const struct srv_ops ctl_ops = { .input = ctl_input };

/* ---- the socket file ---------------------------------------------------------------- */

/* mkdir -p of path's directory. */
static int make_dir(const char *path, char *err, size_t errlen)
{
	char d[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(d, sizeof(d), "%s", path);
	slash = strrchr(d, '/');
	if (!slash || slash == d)
		return 0;
	*slash = 0;
	for (char *p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(d, CTL_DIR_MODE) < 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(d, CTL_DIR_MODE) < 0 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "ctl_socket: cannot make directory %s: %s "
		 "(make it, or set ctl_socket to a path in a writable "
		 "directory)", d, strerror(errno));
	return -1;
}

/* A file at the path: a socket nobody listens on (a crash left it) is
 * removed; a live socket or another kind of file is the operator's. */
static int clear_stale(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "ctl_socket: %s exists and is not a "
			 "socket (remove it, or set ctl_socket to another "
			 "path)", sa->sun_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "ctl_socket: another xrelayd is "
			 "listening on %s (stop it, or set ctl_socket to "
			 "another path)", sa->sun_path);
		return -1;
	}
	unlink(sa->sun_path);
	return 0;
}

static int listen_unix(struct ctl_server *c, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	if (make_dir(c->path, err, errlen) < 0 ||
	    clear_stale(&sa, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(c->path, CTL_MODE) < 0 || listen(fd, 16) < 0 ||
	    stat(c->path, &st) < 0) {
		snprintf(err, errlen, "ctl_socket: cannot listen on %s: %s "
			 "(check the directory's permissions, or set "
			 "ctl_socket to another path)", c->path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	return fd;
}

int ctl_open(struct ctl_server **out, const char *path,
	     const struct ctl_ctx *cx, char *err, size_t errlen)
{
	struct srv_limits lim = { CTL_CLIENTS, CTL_MAX_LINE,
				  CTL_MAX_REPLY + 64, CTL_IDLE_MS };
	struct ctl_server *c;
	int fd;

	*out = NULL;
	if (strlen(path) >= sizeof(c->path) || !path[0]) {
		snprintf(err, errlen, "ctl_socket: '%s' is not a usable UNIX "
			 "socket path (at most %zu characters)", path,
			 sizeof(c->path) - 1);
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->cx = *cx;
	snprintf(c->path, sizeof(c->path), "%s", path);
	fd = listen_unix(c, err, errlen);
	if (fd < 0) {
		free(c);
		return -1;
	}
	c->srv = srv_new(fd, &ctl_ops, c, &lim, err, errlen);
	if (!c->srv) {
		unlink(c->path);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void ctl_close(struct ctl_server *c)
{
	struct stat st;

	if (!c)
		return;
	srv_free(c->srv);
	/* Another daemon may have taken the path over since: leave its. */
	if (lstat(c->path, &st) == 0 && st.st_dev == c->dev &&
	    st.st_ino == c->ino)
		unlink(c->path);
	free(c);
}

int ctl_fd(const struct ctl_server *c) { return srv_fd(c->srv); }
void ctl_run(struct ctl_server *c) { srv_run(c->srv); }
int ctl_timeout_ms(const struct ctl_server *c) { return srv_timeout_ms(c->srv); }
