/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Where a SIP message came from or goes to: transport and address. */
#ifndef XRELAY_SIP_PEER_H
#define XRELAY_SIP_PEER_H

#include <stdint.h>
#include <sys/socket.h>

enum sip_proto { SIP_UDP = 0, SIP_TCP = 1 };

struct sip_peer {
	enum sip_proto proto;
	struct sockaddr_storage addr;  /* the remote address */
	struct sockaddr_storage local; /* our address it arrived on / leaves from */
	uint32_t conn;                 /* TCP: connection id, 0 = open one */
};

/* Reliable transports run no retransmission timers (RFC 3261 17.1.1.2). */
static inline int sip_peer_reliable(const struct sip_peer *p)
{
	return p->proto == SIP_TCP;
}

#endif
