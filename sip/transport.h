/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SIP over UDP and TCP: listening sockets, TCP connections (accepted and
 * opened on demand, reused per remote address), and message framing on
 * streams (RFC 3261 18.3: headers up to the blank line, then Content-Length
 * bytes). Everything is non-blocking behind one epoll descriptor that the
 * daemon's loop polls.
 */
#ifndef XRELAY_SIP_TRANSPORT_H
#define XRELAY_SIP_TRANSPORT_H

#include <stddef.h>
#include <sys/socket.h>

#include "sip_peer.h"

#define TP_MAX_MSG 65535 /* a bigger message closes the TCP connection */
/* A TCP connection that owes the rest of a message this long, or was
 * accepted and sent no message in this time, is closed (see tp_run). */
#define TP_TCP_STALL_MS 20000

struct sip_transport;

/* One whole message; buf is NUL-terminated (not counted in len). */
typedef void (*tp_message_cb)(void *ctx, const char *buf, size_t len,
			      const struct sip_peer *from);

struct sip_transport *tp_new(tp_message_cb cb, void *ctx);
void tp_free(struct sip_transport *tp);
/* The callback's context, when it is made after the transport. */
void tp_set_ctx(struct sip_transport *tp, void *ctx);
/* Listen on addr (port set). err says what failed and what to change. */
int tp_listen(struct sip_transport *tp, enum sip_proto proto,
	      const struct sockaddr *addr, char *err, size_t errlen);
int tp_fd(const struct sip_transport *tp);
/* Read and dispatch whatever is ready; never blocks. It also closes
 * stalled TCP connections (TP_TCP_STALL_MS): call it at least once a
 * second, as the daemon's loop does. */
void tp_run(struct sip_transport *tp);
/* Tests: another stall time (0: TP_TCP_STALL_MS). */
void tp_set_stall_ms(struct sip_transport *tp, unsigned ms);
/* Send one message. UDP: from the socket of to->local's family (and address
 * when bound to one). TCP: on connection to->conn, or one to to->addr
 * (reused, or opened now: the bytes wait until it connects). */
int tp_send(struct sip_transport *tp, const struct sip_peer *to,
	    const char *buf, size_t len);
/* The address and port this relay uses toward a peer over proto: what goes
 * into Via and Contact. -1 if nothing listens on that family/proto. */
int tp_local_for(struct sip_transport *tp, enum sip_proto proto,
		 const struct sockaddr *remote, struct sockaddr_storage *out);
/* True if addr (with port) is one we listen on: a request routed there
 * would loop. */
int tp_is_local(struct sip_transport *tp, const struct sockaddr *addr);

struct tp_stats {
	unsigned long long rx_msgs, tx_msgs, rx_bytes, tx_bytes;
	unsigned long long tcp_accepted, tcp_closed, oversized, send_errors;
	unsigned long long tcp_stalled; /* closed by the stall timeout */
	unsigned tcp_open;
};
void tp_stats(const struct sip_transport *tp, struct tp_stats *out);

#endif
