/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The control socket's protocol, shared by xrelayd (userspace/ctl.c) and
 * xrelayctl (tools/xrelayctl.c); nothing here needs the daemon.
 *
 * Request: one line, at most CTL_MAX_LINE bytes with its "\n":
 *
 *     COMMAND [ARG] [--json]
 *
 * words separated by spaces or tabs, "--json" anywhere for JSON output.
 *
 * Reply: a header line, then exactly LENGTH bytes of body:
 *
 *     ok LENGTH\n       the command's output (text, or one JSON value)
 *     error LENGTH\n    one sentence naming the cause (and the fix); with
 *                       --json, {"error": "..."}
 *
 * The length prefix, not a terminator line, ends a reply, so a body may
 * hold any line at all. A connection may carry several requests; they are
 * answered in order. `help` lists the commands (this table).
 */
#ifndef XRELAY_CTL_PROTO_H
#define XRELAY_CTL_PROTO_H

#define CTL_SOCKET_DEFAULT "/run/xrelay/xrelayd.sock"
#define CTL_MAX_LINE 1024          /* one request, "\n" included */
#define CTL_MAX_ARGS 8             /* words in a request */
#define CTL_MAX_REPLY (32u << 20)  /* one reply's body */

/*
 * The commands: X(name, argument, number of arguments, help). xrelayd
 * turns it into its dispatch table (name -> ctl_cmd_<name>), xrelayctl
 * into its --help and its usage checks.
 */
#define CTL_COMMANDS(X)                                                      \
	X(calls, "", 0, "One line per call: both Call-IDs, parties, age, "   \
	  "state, packets forwarded in the kernel and in userspace (ng "       \
	  "sessions too, as media-only rows).")                              \
	X(call, "ID", 1, "One call by either leg's Call-ID (or an ng "       \
	  "session id): per leg its ports, SDP and latched peers, attach "     \
	  "mode, kernel and userspace counters per direction, drops by "       \
	  "reason, last packet age.")                                        \
	X(regs, "", 0, "The registrations: AOR, contact, source, expiry.")   \
	X(stats, "", 0, "Totals: calls, SIP, share of packets forwarded in " \
	  "the kernel, kernel verdicts and drops by reason, port pool use, "   \
	  "per-interface attach mode wanted and got.")                       \
	X(metrics, "", 0, "Every metric of the Prometheus page, as a "       \
	  "table.")                                                          \
	X(end, "ID", 1, "End a call on both legs (BYE, or CANCEL while it "  \
	  "rings), by either Call-ID. (ng sessions are their proxy's.)")     \
	X(reload, "", 0, "Reload routes, users and limits (as SIGHUP); "     \
	  "calls go on.")                                                    \
	X(help, "", 0, "This list.")

/* xrelayctl's exit codes, for scripts. */
enum ctl_exit {
	CTL_EXIT_OK = 0,       /* the command ran */
	CTL_EXIT_ERROR = 1,    /* the daemon refused it (e.g. unknown call) */
	CTL_EXIT_USAGE = 2,    /* bad command line */
	CTL_EXIT_CONNECT = 3,  /* no daemon on the socket, or it broke off */
};

#endif
