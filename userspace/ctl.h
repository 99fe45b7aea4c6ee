/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The control socket: a UNIX stream socket (mode 0660) that xrelayctl
 * talks to, with the line protocol of ctl_proto.h. Non-blocking, several
 * clients at once, every buffer bounded; a bad request gets an error
 * reply, never more.
 *
 * ctl.c is the socket and the protocol; ctl_cmds.c the command table and
 * what each command reads from the daemon's parts (struct xr_sources).
 */
#ifndef XRELAY_CTL_H
#define XRELAY_CTL_H

#include <stddef.h>

#include "ctl_proto.h"
#include "metrics.h"
#include "outbuf.h"

struct ctl_ctx {
	const struct xr_sources *src;     /* not owned; parts may be NULL */
	/* `reload`: 0, or -1 with err; NULL: not available. */
	int (*reload)(void *arg, char *err, size_t errlen);
	void *reload_arg;
};

struct ctl_server;

/*
 * Listen on path: its directory is made if missing; a stale socket left
 * by a crash is replaced, a live one (another xrelayd) is an error.
 */
int ctl_open(struct ctl_server **out, const char *path,
	     const struct ctl_ctx *cx, char *err, size_t errlen);
/* Close every client and remove the socket file (if it is still ours). */
void ctl_close(struct ctl_server *c);
int ctl_fd(const struct ctl_server *c);
void ctl_run(struct ctl_server *c);
int ctl_timeout_ms(const struct ctl_server *c);

/* ---- the protocol without the socket ---------------------------------------- */

struct ctl_req {
	int argc;
	char *argv[CTL_MAX_ARGS];     /* point into the line */
	int json;
};

/* Split a request line (modified in place; len excludes the "\n"). -1 with
 * err for an empty line, a control character, an unknown option, too many
 * words. */
int ctl_parse(char *line, size_t len, struct ctl_req *r, char *err,
	      size_t errlen);
/* One request line -> its framed reply ("ok LEN\n..." or "error LEN\n...")
 * appended to out. */
void ctl_handle(const struct ctl_ctx *cx, char *line, size_t len,
		struct outbuf *out);

typedef int (*ctl_fn)(const struct ctl_ctx *cx, const struct ctl_req *r,
		      struct outbuf *o, char *err, size_t errlen);

struct ctl_cmd {
	const char *name, *args;
	int nargs;
	const char *help;
	ctl_fn fn;       /* 0, or -1 with err (the body is then dropped) */
};

extern const struct ctl_cmd ctl_cmds[];
extern const size_t ctl_ncmds;
const struct ctl_cmd *ctl_cmd_find(const char *name);

#define CTL_DECLARE(n, a, k, h)                                              \
	int ctl_cmd_##n(const struct ctl_ctx *cx, const struct ctl_req *r,   \
			struct outbuf *o, char *err, size_t errlen);
CTL_COMMANDS(CTL_DECLARE)
#undef CTL_DECLARE

#endif
