// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <string.h>

#include "latch.h"
#include "netaddr.h"

static int eligible(const struct sockaddr *src, const struct latch_ctx *c)
{
	if (c->policy == LATCH_ANY)
		return 1;
	if (c->sdp && c->sdp->sa_family && netaddr_ip_equal(src, c->sdp))
		return 1;
	return c->hint && c->hint->sa_family && netaddr_ip_equal(src, c->hint);
}

enum latch_verdict latch_check(const struct latch *l,
			       const struct sockaddr *src,
			       const struct latch_ctx *ctx, uint64_t now_ns)
{
	if (!l->latched)
		return eligible(src, ctx) ? LATCH_NEW : LATCH_REFUSED;
	if (netaddr_equal(src, (const struct sockaddr *)&l->peer))
		return LATCH_FORWARD;
	if (ctx->relatch_idle_ns && now_ns > l->last_ns &&
	    now_ns - l->last_ns >= ctx->relatch_idle_ns && eligible(src, ctx))
		return LATCH_RELATCH;
	return LATCH_FOREIGN;
}

void latch_apply(struct latch *l, enum latch_verdict v,
		 const struct sockaddr *src, uint64_t now_ns)
{
	switch (v) {
	case LATCH_RELATCH:
		l->relatches++;
		/* fall through */
	case LATCH_NEW:
		memset(&l->peer, 0, sizeof(l->peer));
		memcpy(&l->peer, src, netaddr_len(src));
		l->latched = 1;
		/* fall through */
	case LATCH_FORWARD:
		l->last_ns = now_ns;
		break;
	case LATCH_REFUSED:
	case LATCH_FOREIGN:
		break;
	}
}

void latch_reset(struct latch *l)
{
	unsigned relatches = l->relatches;

	memset(l, 0, sizeof(*l));
	l->relatches = relatches;
}

const char *latch_verdict_name(enum latch_verdict v)
{
	static const char *const n[] = { "forward", "latch", "relatch",
					 "refused", "foreign" };
	return (unsigned)v < sizeof(n) / sizeof(n[0]) ? n[v] : "?";
}
