// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>

#include "inet_csum.h"

uint32_t inet_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = sum;

	for (; len > 1; p += 2, len -= 2)
		s += (uint32_t)((p[0] << 8) | p[1]);
	if (len)
		s += (uint32_t)(p[0] << 8);
	while (s >> 32)
		s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s;
}

uint16_t inet_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

uint16_t inet_udp_csum(const void *saddr, const void *daddr, size_t alen,
		       const void *udp, size_t udp_len)
{
	uint32_t sum = 0;
	uint16_t c;

	sum = inet_csum_add(sum, saddr, alen);
	sum = inet_csum_add(sum, daddr, alen);
	sum += 17; /* protocol */
	sum += (uint32_t)udp_len;
	sum = inet_csum_add(sum, udp, udp_len);
	c = inet_csum_fold(sum);
	return c ? c : 0xffff;
}
