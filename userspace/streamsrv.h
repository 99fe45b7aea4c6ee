/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small request/reply server over a listening stream socket (the
 * control socket, the metrics HTTP listener): non-blocking, a bounded
 * number of clients, a bounded input and output buffer each, an idle
 * timeout. It owns an epoll descriptor, so the daemon's loop polls one
 * descriptor for the listener and all its clients (srv_fd), and calls
 * srv_run() when it is readable and srv_timeout_ms() for its timer.
 *
 * The protocol is the caller's: input() sees what a client sent so far
 * and says whether it holds a whole request; if so, it writes the reply
 * into out. While a reply is being written, nothing more is read from
 * that client (a client that never reads cannot grow our memory).
 */
#ifndef XRELAY_STREAMSRV_H
#define XRELAY_STREAMSRV_H

#include <stddef.h>
#include <stdint.h>

#include "outbuf.h"

enum srv_verdict {
	SRV_MORE = 0,   /* no whole request yet: read more */
	SRV_REPLY,      /* *used bytes were a request; out has its reply */
	SRV_CLOSE,      /* send what is in out, then close */
};

struct srv_ops {
	/*
	 * in[0..len) is what the client sent and nobody used yet (with a NUL
	 * after it); full: the input buffer is full, so SRV_MORE would wait
	 * forever (answer with an error and SRV_CLOSE instead).
	 */
	enum srv_verdict (*input)(void *ctx, char *in, size_t len, int full,
				  struct outbuf *out, size_t *used);
};

struct srv_limits {
	unsigned max_clients;
	size_t in_max;        /* one request, at most */
	size_t out_max;       /* one reply, at most */
	unsigned idle_ms;     /* a quiet client is closed after this */
};

struct streamsrv;

/* Takes the listening socket (closed by srv_free). NULL: out of memory
 * or epoll failed (err says which). */
struct streamsrv *srv_new(int listen_fd, const struct srv_ops *ops,
			  void *ctx, const struct srv_limits *lim, char *err,
			  size_t errlen);
void srv_free(struct streamsrv *s);
int srv_fd(const struct streamsrv *s);
void srv_run(struct streamsrv *s);
int srv_timeout_ms(const struct streamsrv *s);
unsigned srv_clients(const struct streamsrv *s);

#endif
