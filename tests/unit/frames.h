/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Test frames for the BPF program tests: Ethernet (0-2 VLAN tags), IPv4
 * (with options) or IPv6 (with one extension header), UDP or another
 * protocol, built from a spec; and Internet checksums computed from
 * scratch over the finished bytes (RFC 1071, RFC 768, RFC 8200 8.1), the
 * way the kernel selftests' csum_tcpudp_magic()/csum_ipv6_magic() do, so
 * that nothing here shares code with the incremental updates under test.
 */
#ifndef XRELAY_TEST_FRAMES_H
#define XRELAY_TEST_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX 512

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_ARP  0x0806
#define ETHERTYPE_8021Q  0x8100
#define ETHERTYPE_8021AD 0x88a8

enum frame_udp_csum {
	FRAME_CSUM_COMPUTE = 0, /* the right checksum (0 sent as 0xffff) */
	FRAME_CSUM_ZERO,        /* 0: "no checksum" (IPv4 only, RFC 768) */
};

struct frame_spec {
	int family;              /* 4 or 6 */
	uint8_t dmac[6], smac[6];
	int ntags;               /* 802.1Q/802.1ad tags, outermost first */
	uint16_t tpid[2];        /* 0: 0x8100 */
	uint16_t tci[2];
	uint16_t ethertype;      /* 0: from family; else replaces it (ARP) */
	uint8_t saddr[16], daddr[16]; /* IPv4 in the first 4 bytes */
	uint16_t sport, dport;   /* host order */
	uint8_t ttl;             /* TTL / hop limit */
	uint8_t tos;             /* TOS / traffic class */
	uint16_t ip_id;          /* IPv4 id; IPv6: the flow label's low bits */
	uint16_t frag_off;       /* IPv4 flags+offset, host order (DF etc.) */
	uint8_t ip_opt_len;      /* IPv4 option bytes, a multiple of 4, <= 40 */
	uint8_t proto;           /* 0: UDP (17); TCP, ICMP, ... are stubbed */
	int has_ext;             /* IPv6: one 8-byte extension header ... */
	uint8_t ext_hdr;         /* ... of this type (0 hop-by-hop, 43, 44
				  * fragment, 60) before the L4 header */
	const uint8_t *payload;
	size_t payload_len;
	enum frame_udp_csum udp_csum;
	size_t pad_to;           /* Ethernet padding (zeros) up to this size */
};

/* Where the headers of a built frame are. */
struct frame_layout {
	size_t len;     /* whole frame */
	size_t l3;      /* IP header */
	size_t l4;      /* UDP (or other L4) header */
	size_t payload; /* after the UDP header */
	size_t ip_len;  /* IPv4 tot_len / IPv6 40 + payload_len */
	size_t end;     /* end of the IP packet (before padding) */
};

/* Builds the frame into buf (FRAME_MAX bytes); returns its size, 0 if the
 * spec does not fit. */
size_t frame_build(const struct frame_spec *s, uint8_t *buf,
		   struct frame_layout *lay);

/* One's complement sum of big-endian 16-bit words, not folded. */
uint32_t csum_partial_be(const void *data, size_t len, uint32_t sum);
/* Fold to 16 bits (not complemented). */
uint16_t csum_fold16(uint32_t sum);
/* IPv4 header checksum of hdr (its check field taken as zero). */
uint16_t csum_ipv4_hdr(const uint8_t *hdr, size_t hlen);
/* The pseudo-header sums, as in the kernel's csum_tcpudp_magic() and
 * csum_ipv6_magic(): returns the complemented, folded checksum of the
 * pseudo-header plus sum (the L4 bytes). */
uint16_t csum_tcpudp_magic(const uint8_t saddr[4], const uint8_t daddr[4],
			   uint32_t len, uint8_t proto, uint32_t sum);
uint16_t csum_ipv6_magic(const uint8_t saddr[16], const uint8_t daddr[16],
			 uint32_t len, uint8_t proto, uint32_t sum);

/*
 * The UDP checksum the frame's UDP header should carry, computed from
 * scratch over the pseudo-header, the UDP header (check taken as zero) and
 * the UDP length's worth of bytes; a computed 0 is returned as 0xffff.
 * raw_sum, if not NULL, gets the folded, uncomplemented sum.
 */
uint16_t frame_udp_csum(const uint8_t *f, const struct frame_layout *lay,
			int family, uint16_t *raw_sum);

/* Big-endian field access. */
static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

#endif
