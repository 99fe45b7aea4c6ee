// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Frame building and from-scratch checksums for the BPF program tests.
 */
#include <string.h>

#include "frames.h"

#define PROTO_TCP 6
#define PROTO_UDP 17

uint32_t csum_partial_be(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *b = data;
	uint64_t s = sum;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 32)
		s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s;
}

uint16_t csum_fold16(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t csum_ipv4_hdr(const uint8_t *hdr, size_t hlen)
{
	uint32_t s = csum_partial_be(hdr, 10, 0);

	s = csum_partial_be(hdr + 12, hlen - 12, s);
	return (uint16_t)~csum_fold16(s);
}

uint16_t csum_tcpudp_magic(const uint8_t saddr[4], const uint8_t daddr[4],
			   uint32_t len, uint8_t proto, uint32_t sum)
{
	uint32_t s = csum_partial_be(saddr, 4, sum);

	s = csum_partial_be(daddr, 4, s);
	s = csum_partial_be((const uint8_t[]){ 0, proto }, 2, s);
	s = csum_partial_be((const uint8_t[]){ len >> 8, len & 0xff }, 2, s);
	return (uint16_t)~csum_fold16(s);
}

uint16_t csum_ipv6_magic(const uint8_t saddr[16], const uint8_t daddr[16],
			 uint32_t len, uint8_t proto, uint32_t sum)
{
	const uint8_t tail[8] = { len >> 24, len >> 16, len >> 8, len,
				  0, 0, 0, proto };
	uint32_t s = csum_partial_be(saddr, 16, sum);

	s = csum_partial_be(daddr, 16, s);
	s = csum_partial_be(tail, sizeof(tail), s);
	return (uint16_t)~csum_fold16(s);
}

uint16_t frame_udp_csum(const uint8_t *f, const struct frame_layout *lay,
			int family, uint16_t *raw_sum)
{
	const uint8_t *udp = f + lay->l4;
	uint16_t ulen = get16(udp + 4);
	uint32_t s;
	uint16_t c;

	/* The UDP header without its check field, then the data. */
	s = csum_partial_be(udp, 6, 0);
	s = csum_partial_be(udp + 8, ulen - 8, s);
	if (family == 4)
		c = csum_tcpudp_magic(f + lay->l3 + 12, f + lay->l3 + 16, ulen,
				      PROTO_UDP, s);
	else
		c = csum_ipv6_magic(f + lay->l3 + 8, f + lay->l3 + 24, ulen,
				    PROTO_UDP, s);
	if (raw_sum)
		*raw_sum = (uint16_t)~c;
	return c ? c : 0xffff;
}

size_t frame_build(const struct frame_spec *s, uint8_t *buf,
		   struct frame_layout *lay)
{
	uint8_t proto = s->proto ? s->proto : PROTO_UDP;
	size_t off = 12, l3, l4, l4hdr, iphlen, end;
	uint16_t etype;
	uint8_t *ip;

	if (s->ip_opt_len % 4 || s->ip_opt_len > 40 ||
	    s->payload_len > FRAME_MAX - 14 - 8 - 60 - 8 - 20)
		return 0;
	memset(buf, 0, FRAME_MAX);
	memcpy(buf, s->dmac, 6);
	memcpy(buf + 6, s->smac, 6);
	for (int i = 0; i < s->ntags && i < 2; i++) {
		put16(buf + off, s->tpid[i] ? s->tpid[i] : ETHERTYPE_8021Q);
		put16(buf + off + 2, s->tci[i]);
		off += 4;
	}
	etype = s->family == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
	put16(buf + off, s->ethertype ? s->ethertype : etype);
	l3 = off + 2;
	ip = buf + l3;

	iphlen = s->family == 6 ? 40 + (s->has_ext ? 8 : 0)
				: 20 + s->ip_opt_len;
	l4 = l3 + iphlen;
	l4hdr = proto == PROTO_TCP ? 20 : 8;
	end = l4 + l4hdr + s->payload_len;

	/* L4 first: the IP header's lengths follow from it. */
	put16(buf + l4, s->sport);
	put16(buf + l4 + 2, s->dport);
	if (proto == PROTO_UDP)
		put16(buf + l4 + 4, (uint16_t)(l4hdr + s->payload_len));
	else if (proto == PROTO_TCP)
		buf[l4 + 12] = 5 << 4;
	if (s->payload_len)
		memcpy(buf + l4 + l4hdr, s->payload, s->payload_len);

	if (s->family == 6) {
		ip[0] = 0x60 | s->tos >> 4;
		ip[1] = (uint8_t)(s->tos << 4);
		put16(ip + 2, s->ip_id);
		put16(ip + 4, (uint16_t)(end - l3 - 40));
		ip[6] = s->has_ext ? s->ext_hdr : proto;
		ip[7] = s->ttl;
		memcpy(ip + 8, s->saddr, 16);
		memcpy(ip + 24, s->daddr, 16);
		if (s->has_ext) {
			uint8_t *x = ip + 40;

			x[0] = proto;
			if (s->ext_hdr == 44) {       /* fragment: offset 0, M */
				x[3] = 1;
				x[7] = 0x2a;          /* identification */
			} else {                      /* a PadN option */
				x[2] = 1;
				x[3] = 4;
			}
		}
	} else {
		ip[0] = 0x40 | (uint8_t)(iphlen / 4);
		ip[1] = s->tos;
		put16(ip + 2, (uint16_t)(end - l3));
		put16(ip + 4, s->ip_id);
		put16(ip + 6, s->frag_off);
		ip[8] = s->ttl;
		ip[9] = proto;
		memcpy(ip + 12, s->saddr, 4);
		memcpy(ip + 16, s->daddr, 4);
		/* Options: NOPs, then End of Options list. */
		if (s->ip_opt_len) {
			memset(ip + 20, 1, s->ip_opt_len - 1);
			ip[20 + s->ip_opt_len - 1] = 0;
		}
		put16(ip + 10, csum_ipv4_hdr(ip, iphlen));
	}

	lay->l3 = l3;
	lay->l4 = l4;
	lay->payload = l4 + l4hdr;
	lay->ip_len = end - l3;
	lay->end = end;
	lay->len = end > s->pad_to ? end : s->pad_to;
	if (lay->len > FRAME_MAX)
		return 0;
	if (proto == PROTO_UDP && s->udp_csum == FRAME_CSUM_COMPUTE)
		put16(buf + l4 + 6, frame_udp_csum(buf, lay, s->family, NULL));
	return lay->len;
}
