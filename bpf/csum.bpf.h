/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Incremental Internet checksum updates (RFC 1071, RFC 1624).
 *
 * A change is accumulated as a "delta": for every 32-bit word that changes,
 * add ~old and new (one's complement subtraction is addition of the
 * complement). Words are taken exactly as they sit in memory, so the result
 * is right on either byte order as long as the checksum field is read and
 * written in memory order too.
 */
#ifndef XRELAY_CSUM_BPF_H
#define XRELAY_CSUM_BPF_H

static __always_inline __u16 csum_fold64(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* Add the change of one 32-bit word to a delta. */
static __always_inline __u64 csum_delta32(__u64 delta, __u32 old, __u32 new)
{
	return delta + (__u32)~old + new;
}

/* Add the change of n 32-bit words (an address) to a delta. */
static __always_inline __u64 csum_delta_words(__u64 delta, const __u32 *old,
					      const __u32 *new, int n)
{
#pragma unroll
	for (int i = 0; i < n; i++)
		delta = csum_delta32(delta, old[i], new[i]);
	return delta;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). */
static __always_inline __u16 csum_apply(__u16 check, __u64 delta)
{
	return ~csum_fold64((__u64)(__u16)~check + delta);
}

/*
 * The same for a UDP checksum: zero means "no checksum" in IPv4 and stays
 * zero; a computed zero is sent as 0xffff (RFC 768), which also keeps an
 * IPv6 UDP checksum from ever being zero (RFC 8200 8.1).
 */
static __always_inline __u16 csum_apply_udp(__u16 check, __u64 delta)
{
	__u16 c;

	if (check == 0)
		return 0;
	c = csum_apply(check, delta);
	return c ? c : 0xffff;
}

/* The 32-bit folded delta, as bpf_l3/l4_csum_replace take it with size 0. */
static __always_inline __u32 csum_delta_fold32(__u64 delta)
{
	delta = (delta & 0xffffffff) + (delta >> 32);
	delta = (delta & 0xffffffff) + (delta >> 32);
	return (__u32)delta;
}

#endif /* XRELAY_CSUM_BPF_H */
