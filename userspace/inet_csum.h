/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Internet checksums computed from scratch (RFC 1071), for the packets
 * userspace builds itself and for the tests that check the kernel's. */
#ifndef XRELAY_INET_CSUM_H
#define XRELAY_INET_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* One's complement sum of len bytes added to sum (not folded). */
uint32_t inet_csum_add(uint32_t sum, const void *data, size_t len);
/* Fold and complement: the value to write into a checksum field. */
uint16_t inet_csum_fold(uint32_t sum);
/* UDP checksum over the pseudo-header (addresses in network order, 4 or 16
 * bytes each) and the UDP header + payload whose check field is zero.
 * A computed 0 is returned as 0xffff. */
uint16_t inet_udp_csum(const void *saddr, const void *daddr, size_t alen,
		       const void *udp, size_t udp_len);

#endif
