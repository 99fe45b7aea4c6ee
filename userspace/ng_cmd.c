// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The ng commands that change calls: offer, answer, delete; and the table
 * of calls that says which tag is which leg.
 *
 * Tags and legs: the from-tag of the first offer is leg A. In an offer the
 * from-tag is the side that sent the SDP; in an answer the to-tag is (the
 * rtpengine module swaps the tags of an offer in a reply and of an answer
 * in a request, so this holds for late offers too). A re-INVITE from the
 * callee is therefore an offer whose from-tag is leg B's.
 *
 * A session the engine adopted after a restart has no entry here yet: its
 * legs are found by matching the SDP's address against what each leg's
 * peer said before.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ng_internal.h"
#include "sdp.h"

/* ---- the call table -------------------------------------------------------------- */

static unsigned bucket_of(const char *id)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return h & (NG_BUCKETS - 1);
}

struct ng_call *ng_call_find(struct ng *ng, const char *id)
{
	struct ng_call *c = ng->calls[bucket_of(id)];

	while (c && strcmp(c->id, id))
		c = c->next;
	return c;
}

static struct ng_call *call_add(struct ng *ng, const char *id)
{
	struct ng_call *c = calloc(1, sizeof(*c));
	unsigned b = bucket_of(id);

	if (!c)
		return NULL;
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->created = c->last_signal = time(NULL);
	c->next = ng->calls[b];
	ng->calls[b] = c;
	ng->ncalls++;
	return c;
}

void ng_call_drop(struct ng *ng, struct ng_call *c)
{
	struct ng_call **pp = &ng->calls[bucket_of(c->id)];

	for (; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			ng->ncalls--;
			break;
		}
	free(c);
}

/* ---- sessions ---------------------------------------------------------------------- */

static int need(struct ng_req *r, const void *v, const char *key)
{
	if (v)
		return 0;
	return ng_fail(r, "%s needs '%s'", r->command, key);
}

static int over_limit(struct ng *ng)
{
	struct media_totals t;

	if (!ng->cfg.max_sessions)
		return 0;
	media_engine_totals(ng->me, &t);
	return t.sessions >= ng->cfg.max_sessions;
}

/*
 * The session of an offer's call and its entry here, made when new (and
 * *created set). A new call over the session limit is NG_LOAD_LIMIT.
 */
static int session_for_offer(struct ng_req *r, struct media_session **sp,
			     struct ng_call **cp, int *created)
{
	struct ng *ng = r->ng;
	struct media_session *s = media_session_get(ng->me, r->o.call_id, 0);
	struct ng_call *c = ng_call_find(ng, r->o.call_id);

	*created = 0;
	if (!s) {
		if (c) /* its session went (a restart without a journal) */
			ng_call_drop(ng, c);
		c = NULL;
		if (over_limit(ng))
			return NG_LOAD_LIMIT;
		if (!(s = media_session_get(ng->me, r->o.call_id, 1)))
			return ng_fail(r, "out of memory");
		*created = 1;
	}
	if (!c && !(c = call_add(ng, r->o.call_id))) {
		if (*created)
			media_session_delete(ng->me, s);
		return ng_fail(r, "out of memory");
	}
	c->adopted = c->adopted || (!*created && !c->tag[0][0]);
	*sp = s;
	*cp = c;
	return 0;
}

/* An existing call (answer, delete, query): NULL if the engine has none. */
static struct media_session *session_of(struct ng_req *r,
					struct ng_call **cp)
{
	struct media_session *s = media_session_get(r->ng->me, r->o.call_id, 0);
	struct ng_call *c = ng_call_find(r->ng, r->o.call_id);

	if (!s && c) { /* stale */
		ng_call_drop(r->ng, c);
		c = NULL;
	}
	if (s && !c && (c = call_add(r->ng, r->o.call_id)))
		c->adopted = 1;
	*cp = c;
	return s;
}

/* ---- which leg --------------------------------------------------------------------- */

static int tag_is(const struct ng_call *c, int leg, const char *tag)
{
	return tag && c->tag[leg][0] && strcmp(c->tag[leg], tag) == 0;
}

/* The leg whose peer said `a` before: same address and port, else the
 * same address; -1 when neither. */
static int leg_of_peer(const struct media_session_info *in,
		       const struct sockaddr *a)
{
	for (int pass = 0; pass < 2; pass++)
		for (int l = 0; l < 2; l++)
			for (int i = 0; i < in->leg[l].nstreams; i++) {
				const struct sockaddr *p = (const struct sockaddr *)
					&in->leg[l].st[i].rtp.sdp_peer;

				if (pass ? netaddr_ip_equal(a, p) :
					   netaddr_equal(a, p))
					return l;
			}
	return -1;
}

/* The leg whose peer the SDP comes from, by what it said before (an
 * adopted session's tags are unknown); -1 when neither matches. */
static int leg_by_sdp(struct ng_req *r, struct media_session *s)
{
	struct media_session_info *in = malloc(sizeof(*in));
	struct sdp p;
	char e[128];
	int leg = -1;

	if (!in)
		return -1;
	if (sdp_parse(r->o.sdp, r->o.sdp_len, &p, e, sizeof(e)) == 0 &&
	    p.nmedia > 0 && media_session_info(r->ng->me, s, in) == 0)
		leg = leg_of_peer(in, (struct sockaddr *)&p.m[0].addr);
	free(in);
	return leg;
}

/* The leg an offer comes from. */
static enum media_leg offer_leg(struct ng_req *r, struct ng_call *c,
				struct media_session *s)
{
	const char *from = r->o.from_tag, *to = r->o.to_tag;
	int guess;

	if (tag_is(c, 0, from) || tag_is(c, 1, to))
		return MEDIA_LEG_A;
	if (tag_is(c, 1, from) || tag_is(c, 0, to))
		return MEDIA_LEG_B;
	if (c->adopted && (guess = leg_by_sdp(r, s)) >= 0)
		return (enum media_leg)guess;
	if (c->tag[0][0])
		ng_warn(r, "from-tag is new to this call: taken as the "
			"caller's (leg A)");
	return MEDIA_LEG_A;
}

/* The leg an answer comes from; -1 when the tags name no leg. */
static int answer_leg(struct ng_req *r, struct ng_call *c,
		      struct media_session *s)
{
	const char *from = r->o.from_tag, *to = r->o.to_tag;

	if (tag_is(c, 0, to))
		return MEDIA_LEG_A;
	if (tag_is(c, 1, to))
		return MEDIA_LEG_B;
	/* a new to-tag (the first answer, or another fork's) */
	if (tag_is(c, 0, from))
		return MEDIA_LEG_B;
	if (tag_is(c, 1, from))
		return MEDIA_LEG_A;
	if (c->adopted || (!c->tag[0][0] && !c->tag[1][0]))
		return leg_by_sdp(r, s) == 0 ? MEDIA_LEG_A : MEDIA_LEG_B;
	return ng_fail(r, "neither from-tag nor to-tag belongs to this call");
}

static void remember(struct ng_req *r, struct ng_call *c, int leg,
		     const char *own, const char *other)
{
	if (own)
		snprintf(c->tag[leg], sizeof(c->tag[leg]), "%s", own);
	if (other && !c->tag[!leg][0])
		snprintf(c->tag[!leg], sizeof(c->tag[!leg]), "%s", other);
	if (r->o.label)
		snprintf(c->label[leg], sizeof(c->label[leg]), "%s", r->o.label);
	c->adopted = 0;
	c->last_signal = time(NULL);
}

/* ---- offer and answer ---------------------------------------------------------------- */

/* Where this leg's SIP came from is where its RTP may come from (the latch
 * hint); trust-address: only the SDP's address. */
static void apply_hint(struct ng_req *r, struct media_session *s,
		       enum media_leg leg)
{
	if (r->o.trust_address)
		media_leg_hint(r->ng->me, s, leg, NULL);
	else if (r->o.received_from.ss_family)
		media_leg_hint(r->ng->me, s, leg,
			       (struct sockaddr *)&r->o.received_from);
}

static int sdp_error(struct ng_req *r, int rc, const char *err)
{
	if (rc == -ENOSPC || rc == -EAGAIN) {
		/* Kamailio tries the next relay on exactly this text */
		log_err("ng: %s", err);
		snprintf(r->detail, sizeof(r->detail), "%s", err);
		return ng_fail(r, NG_MSG_PORTS);
	}
	return ng_fail(r, "%s", err);
}

/* What the reply's SDP cannot do that the request asked for. */
static void check_result(struct ng_req *r, const char *sdp)
{
	if (r->o.family == AF_INET6 && !strstr(sdp, "IN IP6"))
		ng_warn(r, "address-family IP6 not done: the relay answers in "
			"the peer's family");
	if (r->o.family == AF_INET && !strstr(sdp, "IN IP4"))
		ng_warn(r, "address-family IP4 not done: the relay answers in "
			"the peer's family");
	if (r->o.transport && !strstr(sdp, r->o.transport))
		ng_warn(r, "transport-protocol not changed: m= lines keep the "
			"offer's protocol");
}

static int finish_sdp(struct ng_req *r, enum media_leg leg, char *out)
{
	char id[64];

	check_result(r, out);
	bn_dict_put_str(r->a, r->out, "sdp", out);
	free(out);
	log_info("ng: %s for call %s from leg %c (via %s)", r->command,
		 ng_printable(r->o.call_id, id, sizeof(id)), "AB"[leg],
		 r->from);
	return 0;
}

int ng_cmd_offer(struct ng_req *r)
{
	struct media_session *s = NULL;
	struct ng_call *c = NULL;
	enum media_leg leg;
	char err[256], *out = NULL;
	int created, rc;

	if (need(r, r->o.call_id, "call-id") || need(r, r->o.from_tag, "from-tag") ||
	    need(r, r->o.sdp, "sdp"))
		return -1;
	if ((rc = session_for_offer(r, &s, &c, &created)))
		return rc;
	leg = offer_leg(r, c, s);
	apply_hint(r, s, leg);
	rc = media_offer(r->ng->me, s, leg, r->o.sdp, r->o.sdp_len, &out, err,
			 sizeof(err));
	if (rc) {
		if (created) { /* a failed first offer leaves nothing */
			media_session_delete(r->ng->me, s);
			ng_call_drop(r->ng, c);
		}
		return sdp_error(r, rc, err);
	}
	if (created)
		r->ng->st.calls_created++;
	remember(r, c, leg, r->o.from_tag, r->o.to_tag);
	return finish_sdp(r, leg, out);
}

int ng_cmd_answer(struct ng_req *r)
{
	struct media_session *s;
	struct ng_call *c;
	char err[256], *out = NULL;
	int leg, rc;

	if (need(r, r->o.call_id, "call-id") || need(r, r->o.from_tag, "from-tag") ||
	    need(r, r->o.sdp, "sdp"))
		return -1;
	if (!(s = session_of(r, &c)))
		return ng_fail(r, "Unknown call-id (no offer for this call)");
	if (!c)
		return ng_fail(r, "out of memory");
	if ((leg = answer_leg(r, c, s)) < 0)
		return -1;
	apply_hint(r, s, (enum media_leg)leg);
	rc = media_answer(r->ng->me, s, (enum media_leg)leg, r->o.sdp,
			  r->o.sdp_len, &out, err, sizeof(err));
	if (rc)
		return sdp_error(r, rc, err);
	remember(r, c, leg, r->o.to_tag, r->o.from_tag);
	return finish_sdp(r, (enum media_leg)leg, out);
}

/* ---- delete -------------------------------------------------------------------------- */

/* Whether a delete's tags name this call: a to-tag of another fork (its
 * final failure) must not end the call the answering fork set up. */
static int delete_matches(struct ng_req *r, const struct ng_call *c)
{
	const char *from = r->o.from_tag, *to = r->o.to_tag;

	if (!c || c->adopted || (!c->tag[0][0] && !c->tag[1][0]))
		return 1;
	if (from && !tag_is(c, 0, from) && !tag_is(c, 1, from))
		return 0;
	if (to && c->tag[1][0] && !tag_is(c, 0, to) && !tag_is(c, 1, to))
		return 0;
	return 1;
}

int ng_cmd_delete(struct ng_req *r)
{
	struct media_session *s;
	struct ng_call *c;
	char id[64];

	if (need(r, r->o.call_id, "call-id"))
		return -1;
	s = session_of(r, &c);
	if (!s || !delete_matches(r, c)) {
		ng_warn(r, "Call-ID not found or tags didn't match");
		return 0;
	}
	ng_put_call_info(r, c, s); /* the final counters, as rtpengine does */
	log_info("ng: delete call %s (via %s)",
		 ng_printable(r->o.call_id, id, sizeof(id)), r->from);
	media_session_delete(r->ng->me, s);
	if (c)
		ng_call_drop(r->ng, c);
	r->ng->st.calls_deleted++;
	return 0;
}

int ng_media_idle(struct ng *ng, struct media_session *s)
{
	struct ng_call *c = ng_call_find(ng, media_session_id(s));
	struct media_session_info *in;
	char id[64];

	if (!c)
		return 0;
	if (!ng->cfg.media_timeout_ms || !(in = malloc(sizeof(*in))))
		return 1;
	/* a call still ringing has no media yet: only answered ones */
	if (media_session_info(ng->me, s, in) == 0 &&
	    in->state == MEDIA_ANSWERED) {
		log_info("ng: call %s: no media for %u ms and no delete from "
			 "the proxy: deleted", ng_printable(c->id, id, sizeof(id)),
			 ng->cfg.media_timeout_ms);
		media_session_delete(ng->me, s);
		ng_call_drop(ng, c);
		ng->st.calls_timed_out++;
	}
	free(in);
	return 1;
}
