/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the bench tools share: raw BPF instructions (bench_gen,
 * bench_udprelay), Ethernet/IPv4/UDP frames and "A.B.C.D:PORT" and MAC
 * parsing (bench_gen, bench_bare). */
#ifndef XRELAY_BENCH_UTIL_H
#define XRELAY_BENCH_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <linux/bpf.h>

#include "inet_csum.h"

#define ETH_LEN 14
#define IP_LEN 20
#define UDP_LEN 8

static inline struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src,
				   int16_t off, int32_t imm)
{
	struct bpf_insn i;

	memset(&i, 0, sizeof(i));
	i.code = code;
	i.dst_reg = dst & 0xf;
	i.src_reg = src & 0xf;
	i.off = off;
	i.imm = imm;
	return i;
}

/* Ethernet, IPv4 (DF, TTL 64, its checksum) and UDP (checksum 0) headers
 * at f, from sa:sp to da:dp (network order), for plen bytes of UDP
 * payload; the payload's start. */
static inline uint8_t *frame_headers(uint8_t *f, const uint8_t *smac,
				     const uint8_t *dmac, uint32_t sa,
				     uint16_t sp, uint32_t da, uint16_t dp,
				     size_t plen)
{
	uint8_t *ip = f + ETH_LEN, *udp = ip + IP_LEN;
	uint16_t v;

	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08, f[13] = 0x00;
	memset(ip, 0, IP_LEN);
	ip[0] = 0x45;
	v = htons((uint16_t)(IP_LEN + UDP_LEN + plen));
	memcpy(ip + 2, &v, 2);
	ip[6] = 0x40; /* DF */
	ip[8] = 64;   /* TTL */
	ip[9] = 17;   /* UDP */
	memcpy(ip + 12, &sa, 4);
	memcpy(ip + 16, &da, 4);
	v = inet_csum_fold(inet_csum_add(0, ip, IP_LEN));
	memcpy(ip + 10, &v, 2);
	memcpy(udp, &sp, 2);
	memcpy(udp + 2, &dp, 2);
	v = htons((uint16_t)(UDP_LEN + plen));
	memcpy(udp + 4, &v, 2);
	memset(udp + 6, 0, 2);
	return udp + UDP_LEN;
}

/* The UDP checksum of the frame at f (frame_headers' and plen bytes of
 * payload) from scratch, written into it; the value written. */
static inline uint16_t frame_udp_csum(uint8_t *f, size_t plen)
{
	uint8_t *ip = f + ETH_LEN, *udp = ip + IP_LEN;
	uint16_t v;

	memset(udp + 6, 0, 2);
	v = inet_udp_csum(ip + 12, ip + 16, 4, udp, UDP_LEN + plen);
	memcpy(udp + 6, &v, 2);
	return v;
}

/* "A.B.C.D:PORT" (the len bytes at s) into a network-order address and
 * port. */
static inline int parse_ap(const char *s, size_t len, uint32_t *addr,
			   uint16_t *port)
{
	char buf[64], *colon, *end;
	unsigned long p;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	colon = strrchr(buf, ':');
	if (!colon)
		return -1;
	*colon = 0;
	p = strtoul(colon + 1, &end, 10);
	if (*end || end == colon + 1 || p == 0 || p > 65535)
		return -1;
	if (inet_pton(AF_INET, buf, addr) != 1)
		return -1;
	*port = htons((uint16_t)p);
	return 0;
}

/* "xx:xx:xx:xx:xx:xx" (the len bytes at s). */
static inline int parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	char buf[32];
	int n = 0;

	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (sscanf(buf, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%n", &mac[0],
		   &mac[1], &mac[2], &mac[3], &mac[4], &mac[5], &n) != 6 ||
	    buf[n])
		return -1;
	return 0;
}

#endif
