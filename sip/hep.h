/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SIP capture: every message the B2BUA sends or receives, copied in a
 * HEPv3 packet (https://github.com/sipcapture/HEP) over UDP to a Homer (or
 * any HEP) collector.
 *
 * A HEPv3 packet is "HEP3", its total length (16 bits), then chunks: vendor
 * id (0, generic), type id and length (16 bits each; the length counts the
 * chunk's 6-byte head), then the value; every number in network byte order.
 * hep_encode() is a pure function that writes one; struct hep sends them
 * from one non-blocking UDP socket: a capture never blocks the daemon and a
 * failed send is counted and logged (at most every 10 s), never fatal.
 */
#ifndef XRELAY_HEP_H
#define XRELAY_HEP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sip_peer.h"

/* Chunk types (vendor 0). */
enum hep_chunk_type {
	HEP_IP_FAMILY = 0x0001,      /* u8: HEP_FAMILY_IP4 or _IP6 */
	HEP_IP_PROTO = 0x0002,       /* u8: 17 UDP, 6 TCP */
	HEP_IP4_SRC = 0x0003,        /* 4 bytes */
	HEP_IP4_DST = 0x0004,
	HEP_IP6_SRC = 0x0005,        /* 16 bytes */
	HEP_IP6_DST = 0x0006,
	HEP_SRC_PORT = 0x0007,       /* u16 */
	HEP_DST_PORT = 0x0008,
	HEP_TIME_SEC = 0x0009,       /* u32: seconds since the epoch */
	HEP_TIME_USEC = 0x000a,      /* u32: microseconds in that second */
	HEP_PROTO_TYPE = 0x000b,     /* u8: HEP_PROTO_SIP */
	HEP_CAPTURE_ID = 0x000c,     /* u32: the capture agent's id */
	HEP_AUTH_KEY = 0x000e,       /* string: the collector's password */
	HEP_PAYLOAD = 0x000f,        /* the captured message */
	HEP_CORRELATION_ID = 0x0011, /* string: joins related messages */
};

#define HEP_FAMILY_IP4 2
#define HEP_FAMILY_IP6 10
#define HEP_PROTO_SIP 1
#define HEP_CHUNK_HEAD 6
#define HEP_MAX 65535                /* the 16-bit total length */

/* One captured message. */
struct hep_rec {
	enum sip_proto proto;
	/* The family is src's if it is AF_INET or AF_INET6, else dst's; an
	 * address of another family (or AF_UNSPEC) goes as the unspecified
	 * address with port 0. */
	const struct sockaddr *src, *dst;
	uint64_t time_us;                /* wall clock, µs since the epoch */
	uint32_t capture_id;
	const char *auth_key;            /* NULL or "": no chunk */
	const char *correlation_id;      /* NULL or "": no chunk */
	const char *payload;
	size_t len;
};

/* One HEPv3 packet into buf: its length, -EMSGSIZE if it does not fit in
 * size or in HEP_MAX, -EAFNOSUPPORT if neither address is IPv4 or IPv6. */
int hep_encode(const struct hep_rec *r, uint8_t *buf, size_t size);

/* The Call-ID of a raw SIP message ("Call-ID:" or compact "i:", any case)
 * into out, NUL-terminated: its length, or 0 when there is none or it does
 * not fit. Reads the headers only, never the body. */
size_t hep_sip_call_id(const char *buf, size_t len, char *out, size_t outlen);

struct hep;

/* collector "ADDR:PORT" (IPv4, or IPv6 in brackets); auth_key "" or NULL:
 * none. -1 with err saying what to change. */
int hep_open(struct hep **out, const char *collector, uint32_t capture_id,
	     const char *auth_key, char *err, size_t errlen);
void hep_free(struct hep *h);

struct sip_transport;
/* Capture one SIP message received from p (tx 0) or sent to p (tx 1), now.
 * Our side is p->local or, when that is unset or a wildcard, the address
 * tp picks toward p (tp_local_for; tp NULL: unspecified). Never blocks,
 * never fails: what cannot be sent is counted. */
void hep_capture(struct hep *h, struct sip_transport *tp, int tx,
		 const struct sip_peer *p, const char *correlation_id,
		 const char *buf, size_t len);

struct hep_stats {
	uint64_t sent;                   /* packets handed to the kernel */
	uint64_t send_errors;            /* refused by sendto (full buffer,
					    no route, ...) */
	uint64_t oversized;              /* messages too big for HEP_MAX */
};
void hep_stats(const struct hep *h, struct hep_stats *out);

#endif
