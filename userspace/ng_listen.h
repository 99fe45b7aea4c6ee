/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ng listener's sockets: UDP (one message per datagram, as Kamailio's
 * and OpenSIPS's rtpengine modules send) and TCP (messages back to back;
 * one ends where its dictionary does, as rtpengine frames them). The
 * protocol itself is ng.c's.
 *
 * Where: "udp:127.0.0.1:2223", "tcp:[::1]:2223", several separated by
 * commas; "udp:2223" is the loopback address. Who: clients whose address
 * is in the allow list (addresses or CIDR prefixes); with none, loopback
 * clients only. Anything else is dropped (TCP: not accepted), and logged
 * at most once a second.
 */
#ifndef XRELAY_NG_LISTEN_H
#define XRELAY_NG_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>

#include "ng.h"

#define NG_LISTEN_MAX 4

struct ng_endpoint {
	int tcp;
	struct sockaddr_storage addr;
};

struct ng_listen_spec {
	int n;
	struct ng_endpoint ep[NG_LISTEN_MAX];
};

struct ng_net { /* an allowed source: an address and a prefix length */
	struct sockaddr_storage addr;
	int prefix;
};

/* The ng_listen syntax above; -1 with err naming the problem. */
int ng_listen_parse(const char *spec, struct ng_listen_spec *out, char *err,
		    size_t errlen);
/* "192.0.2.1", "10.0.0.0/8", "::1", "fd00::/8"; -1 with err. */
int ng_net_parse(const char *s, struct ng_net *out, char *err, size_t errlen);
/* Whether addr is in one of the nets (none given: a loopback address). */
int ng_net_allowed(const struct ng_net *nets, int n,
		   const struct sockaddr *addr);

struct ng_listen;

/* Bind and listen; allow is the ng_allow list (nallow may be 0). */
int ng_listen_new(struct ng_listen **out, const char *spec,
		  char *const *allow, int nallow, struct ng *ng, char *err,
		  size_t errlen);
void ng_listen_free(struct ng_listen *l);
/* One descriptor for the event loop (an epoll set of all the sockets). */
int ng_listen_fd(const struct ng_listen *l);
/* Serve what arrived; never blocks. */
void ng_listen_run(struct ng_listen *l);
/* ms until the next timer (cache expiry, stalled TCP clients); -1: none. */
int ng_listen_timeout_ms(struct ng_listen *l);

#endif
