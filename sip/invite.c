// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A call's set-up: the INVITE from leg A is routed (registrar, then static
 * routes), its SDP goes through the media engine, and a fresh INVITE goes
 * out on leg B; B's responses come back to A rewritten, CANCEL and
 * failures tear both sides down. Late offer (no SDP in the INVITE): B's 2xx
 * carries the offer and A's ACK the answer, so the ACK to B waits for it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b2bua_internal.h"
#include "log.h"
#include "media.h"
#include "netaddr.h"
#include "registrar.h"
#include "route.h"
#include "transport.h"

#define B2B_ALLOW_HDR "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, " \
		      "PRACK, INFO, MESSAGE, NOTIFY\r\n"

/* ---- SDP through the media engine --------------------------------------------- */

int media_rewrite(struct b2bua *b, struct call *c, int from, int answer,
		  const osip_message_t *m, char **out, int *status)
{
	char err[256];
	size_t len;
	const char *sdp = sipmsg_sdp(m, &len);
	int rc;

	*out = NULL;
	if (!sdp)
		return 0;
	rc = answer ?
		media_answer(b->d.me, c->ms, from, sdp, len, out, err, sizeof(err)) :
		media_offer(b->d.me, c->ms, from, sdp, len, out, err, sizeof(err));
	if (rc == 0)
		return 1;
	log_warn("call %s: SDP %s from leg %c refused: %s", c->leg[0].call_id,
		 answer ? "answer" : "offer", from ? 'B' : 'A', err);
	*status = rc == -ENOSPC || rc == -EAGAIN ? 503 :
		  rc == -EINVAL || rc == -EPROTO ? 488 : 500;
	return -1;
}

/* ---- routing ------------------------------------------------------------------------ */

static int has_allow(const osip_message_t *m, const char *method)
{
	for (int i = 0; i < osip_list_size(&m->allows); i++) {
		osip_allow_t *a = osip_list_get(&m->allows, i);

		if (a && a->value && strcasestr(a->value, method))
			return 1;
	}
	return 0;
}

/* Point leg B at a registered contact: sent to the address its REGISTER
 * came from, for phones behind NAT. */
static void leg_b_contact(struct leg *lb, const struct reg_contact *rc)
{
	snprintf(lb->target, sizeof(lb->target), "%s", rc->uri);
	lb->peer = rc->source;
}

/* Where leg B goes: the registered contacts of an AOR of ours (the first
 * now, the others kept for serial forking), else a static route. Returns
 * 0 or the status to answer. */
static int route_call(struct b2bua *b, struct call *c, const osip_message_t *m)
{
	const osip_uri_t *u = m->req_uri;
	const char *user = u->username ? u->username : "";
	struct leg *lb = &c->leg[LEG_B];
	struct reg_contact rc[REG_MAX_CONTACTS];
	const char *hop;
	char aor[320];
	int n;

	if (b2b_is_ours(b, u)) {
		snprintf(aor, sizeof(aor), "%s@%s", user, b->cfg.domain);
		for (char *p = aor; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		n = registrar_lookup(b->d.reg, aor, b2b_now_ms(), rc,
				     REG_MAX_CONTACTS);
		if (n > 0) {
			leg_b_contact(lb, &rc[0]);
			if (n > 1 && (c->alts = malloc(sizeof(rc[0]) *
						       (size_t)(n - 1)))) {
				memcpy(c->alts, &rc[1], sizeof(rc[0]) *
				       (size_t)(n - 1));
				c->nalts = n - 1;
			}
			return 0;
		}
	}
	hop = b->d.rt ? routes_lookup(b->d.rt, user, u->host) : NULL;
	if (!hop)
		return 404;
	if (sipmsg_uri_str_peer(hop, &lb->peer) < 0) {
		log_warn("sip: route next hop '%s' does not resolve", hop);
		return 502;
	}
	sipmsg_uri_str(u, lb->target, sizeof(lb->target));
	return 0;
}

/* A header (From or To) of leg A without its tag, for leg B. */
static void hdr_notag(const osip_from_t *f, char *buf, size_t len)
{
	osip_from_t *cl = NULL;
	char *s = NULL;

	buf[0] = 0;
	if (osip_from_clone(f, &cl) != 0)
		return;
	for (int i = 0; i < osip_list_size(&cl->gen_params); i++) {
		osip_generic_param_t *p = osip_list_get(&cl->gen_params, i);

		if (p && p->gname && !strcasecmp(p->gname, "tag")) {
			osip_list_remove(&cl->gen_params, i);
			osip_generic_param_free(p);
			break;
		}
	}
	if (osip_from_to_str(cl, &s) == 0 && s) {
		snprintf(buf, len, "%s", s);
		osip_free(s);
	}
	osip_from_free(cl);
}

/* ---- the new call --------------------------------------------------------------------- */

static int session_expires(const osip_message_t *m)
{
	const char *v = sipmsg_header(m, "session-expires");

	if (!v)
		v = sipmsg_header(m, "x");
	return v ? atoi(v) : 0;
}

static void leg_a_init(struct b2bua *b, struct call *c, const osip_message_t *m,
		       const struct sip_peer *from)
{
	struct leg *la = &c->leg[LEG_A];
	char to[480];

	sipmsg_call_id(m, la->call_id, sizeof(la->call_id));
	sipmsg_from_str(m, la->remote_hdr, sizeof(la->remote_hdr));
	sipmsg_to_str(m, to, sizeof(to));
	snprintf(la->local_hdr, sizeof(la->local_hdr), "%s;tag=%s", to,
		 la->local_tag);
	la->remote_cseq = sipmsg_cseq(m);
	la->local_cseq = 1;
	leg_set_remote(la, m, 0);
	la->peer = *from;
	la->rel100 = sipmsg_has_tag(m, "supported", "100rel") ||
		     sipmsg_has_tag(m, "require", "100rel");
	la->update = has_allow(m, "UPDATE");
	la->timer = sipmsg_has_tag(m, "supported", "timer");
	if (tp_local_for(b->d.tp, from->proto,
			 (const struct sockaddr *)&from->addr, &la->me) < 0)
		la->me = from->local;
	hdr_notag(m->from, c->from, sizeof(c->from));
	hdr_notag(m->to, c->to, sizeof(c->to));
}

static void leg_b_init(struct b2bua *b, struct call *c, const osip_message_t *m)
{
	struct leg *lb = &c->leg[LEG_B];
	char tok[28];

	sipmsg_token(tok, 24);
	snprintf(lb->call_id, sizeof(lb->call_id), "xr%s", tok);
	snprintf(lb->local_hdr, sizeof(lb->local_hdr), "%s;tag=%s", c->from,
		 lb->local_tag);
	snprintf(lb->remote_hdr, sizeof(lb->remote_hdr), "%s", c->to);
	lb->local_cseq = 1;
	if (tp_local_for(b->d.tp, lb->peer.proto,
			 (const struct sockaddr *)&lb->peer.addr, &lb->me) < 0)
		lb->me = c->leg[LEG_A].me;
	(void)m;
}

static struct sip_txn *send_invite_b(struct b2bua *b, struct call *c,
				     const osip_message_t *m, const char *sdp)
{
	struct leg *lb = &c->leg[LEG_B];
	struct sb sb = { 0 };
	int mf = sipmsg_max_forwards(m);

	mf = mf < 0 ? 70 : mf - 1;
	if (b->cfg.max_forwards && (uint32_t)mf > b->cfg.max_forwards)
		mf = (int)b->cfg.max_forwards;
	leg_begin(b, lb, &sb, "INVITE", lb->local_cseq, mf);
	leg_contact(b, lb, &sb);
	sb_add(&sb, B2B_ALLOW_HDR "Supported: %s%s\r\n",
	       b->cfg.session_expires_s ? "timer" : "replaces",
	       c->leg[LEG_A].rel100 ? ", 100rel" : "");
	if (b->cfg.session_expires_s)
		sb_add(&sb, "Session-Expires: %u;refresher=uac\r\nMin-SE: %u\r\n",
		       b->cfg.session_expires_s, b->cfg.min_se_s);
	b2b_pass_headers(b, m, &sb);
	leg_finish(&sb, sdp, sdp ? strlen(sdp) : 0);
	return leg_send(b, lb, &sb);
}

/* A call refused before it exists (over the limit) still gets its CDR
 * line: carriers count refused attempts. */
static void cdr_refused(struct b2bua *b, const osip_message_t *m, int status)
{
	char cid[256], from[256], to[256];
	uint64_t now = b2b_wall_us();
	struct cdr r = {
		.call_id_a = sipmsg_call_id(m, cid, sizeof(cid)),
		.from = from, .to = to, .start_us = now, .end_us = now,
		.end_reason = "limit", .hangup_by = "relay",
		.final_status = status,
	};

	if (!b->d.cdr)
		return;
	hdr_notag(m->from, from, sizeof(from));
	hdr_notag(m->to, to, sizeof(to));
	cdr_write(b->d.cdr, &r);
}

/* A token bucket of max_call_rate tokens per second, one second deep:
 * a flood of new calls is refused before it costs a port or a dialog. */
static int rate_ok(struct b2bua *b)
{
	uint64_t now = b2b_now_ms();
	double cap = b->cfg.max_call_rate;

	if (!b->cfg.max_call_rate)
		return 1;
	if (!b->rate_ms)
		b->rate_tokens = cap;
	else
		b->rate_tokens += (double)(now - b->rate_ms) * cap / 1000.0;
	if (b->rate_tokens > cap)
		b->rate_tokens = cap;
	b->rate_ms = now;
	if (b->rate_tokens < 1.0)
		return 0;
	b->rate_tokens -= 1.0;
	return 1;
}

static int admit(struct b2bua *b, struct sip_txn *t, const osip_message_t *m)
{
	char extra[96];
	int se = session_expires(m);

	if ((b->cfg.max_calls && b->ncalls >= b->cfg.max_calls) ||
	    !rate_ok(b)) {
		b->st.calls_rejected_limit++;
		snprintf(extra, sizeof(extra), "Retry-After: %u\r\n",
			 b->cfg.retry_after_s);
		b2b_respond(b, t, 503, NULL, extra);
		/* Stateless (RFC 3261 8.2.7): a flood over the limit leaves
		 * no transaction behind for Timer H. */
		txn_forget(t);
		cdr_refused(b, m, 503);
		return -1;
	}
	if (b->cfg.session_expires_s && se > 0 && (uint32_t)se < b->cfg.min_se_s) {
		snprintf(extra, sizeof(extra), "Min-SE: %u\r\n", b->cfg.min_se_s);
		b2b_respond(b, t, 422, NULL, extra);
		return -1;
	}
	return 0;
}

/*
 * A call keeps what crosses its legs in fixed fields (b2bua_internal.h):
 * an INVITE whose Call-ID, From, To or Contact would not fit gets 513
 * with a Warning that names the header, rather than a call whose headers
 * are cut short on the other leg (RFC 4475 3.1.1.7).
 */
static int too_large(struct b2bua *b, struct sip_txn *t,
		     const osip_message_t *m)
{
	const size_t cid_max = sizeof(((struct leg *)0)->call_id) - 1;
	const size_t hdr_max = sizeof(((struct call *)0)->from) - 1;
	const size_t uri_max = sizeof(((struct leg *)0)->target) - 1;
	const osip_call_id_t *ci = m->call_id;
	osip_contact_t *ct = NULL;
	char *f = NULL, *to = NULL, *u = NULL, warn[160];
	size_t n = strlen(ci->number) + (ci->host ? 1 + strlen(ci->host) : 0);
	const char *what = NULL;
	size_t max = 0;

	osip_from_to_str(m->from, &f);
	osip_to_to_str(m->to, &to);
	if (osip_message_get_contact(m, 0, &ct) >= 0 && ct && ct->url)
		osip_uri_to_str(ct->url, &u);
	if (n > cid_max)
		what = "Call-ID", max = cid_max;
	else if (f && strlen(f) > hdr_max)
		what = "From", max = hdr_max, n = strlen(f);
	else if (to && strlen(to) > hdr_max)
		what = "To", max = hdr_max, n = strlen(to);
	else if (u && strlen(u) > uri_max)
		what = "Contact URI", max = uri_max, n = strlen(u);
	osip_free(f);
	osip_free(to);
	osip_free(u);
	if (!what)
		return 0;
	log_warn("sip: INVITE %.60s...: %s of %zu bytes, over the %zu this "
		 "relay carries: 513", ci->number, what, n, max);
	snprintf(warn, sizeof(warn), "Warning: 399 xrelay \"%s of %zu bytes, "
		 "over the %zu this relay carries\"\r\n", what, n, max);
	b2b_respond(b, t, 513, NULL, warn);
	return 1;
}

void invite_new(struct b2bua *b, struct sip_txn *t, osip_message_t *m,
		const struct sip_peer *from)
{
	struct call *c;
	char *out = NULL;
	int status = 0;

	if (too_large(b, t, m) || auth_request(b, t, m, 1) ||
	    admit(b, t, m) < 0)
		return;
	c = call_new(b);
	if (!c) {
		b2b_respond(b, t, 500, NULL, NULL);
		return;
	}
	leg_a_init(b, c, m, from);
	c->inv_a = t;
	call_track(c, t);
	call_hash(b, &c->leg[LEG_A]);
	status = route_call(b, c, m);
	if (!status && tp_is_local(b->d.tp,
				   (struct sockaddr *)&c->leg[LEG_B].peer.addr))
		status = 482; /* routed back to ourselves */
	if (status) { /* a failed call: answered, and it gets its CDR */
		b->st.calls_failed++;
		call_end(b, c, "failed", "relay", status, -1);
		return;
	}
	b2b_respond(b, t, 100, NULL, NULL);
	leg_b_init(b, c, m);
	call_hash(b, &c->leg[LEG_B]);
	c->ms = media_session_get(b->d.me, c->leg[LEG_B].call_id, 1);
	if (!c->ms) {
		call_end(b, c, "failed", "relay", 500, -1);
		return;
	}
	media_leg_hint(b->d.me, c->ms, MEDIA_LEG_A, (struct sockaddr *)&from->addr);
	media_leg_hint(b->d.me, c->ms, MEDIA_LEG_B,
		       (struct sockaddr *)&c->leg[LEG_B].peer.addr);
	switch (media_rewrite(b, c, LEG_A, 0, m, &out, &status)) {
	case -1:
		call_end(b, c, "failed", "relay", status, -1);
		return;
	case 0:
		c->late_offer = 1;
		break;
	}
	c->state = CS_TRYING;
	c->inv_b = send_invite_b(b, c, m, out);
	c->b_sdp = out;
	if (!c->inv_b) {
		c->b_final = 1;
		call_end(b, c, "failed", "relay", 503, -1);
		return;
	}
	log_info("call %s -> %s: %s to %s", c->leg[0].call_id,
		 c->leg[1].call_id, c->from, c->leg[1].target);
}

/* ---- B's responses ------------------------------------------------------------------------ */

/* Status to give A for a failure of B: what would mislead A is changed. */
static int map_failure(int status)
{
	static const struct { int from, to; } map[] = {
		{ 401, 403 }, { 407, 403 }, /* B's credentials are not A's */
		{ 503, 500 },               /* B's overload is not ours */
		{ 423, 500 }, { 422, 500 }, /* intervals negotiated per leg */
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].from == status)
			return map[i].to;
	if (status >= 300 && status < 400)
		return 480; /* a redirect's Contact must not cross legs */
	return status;
}

/* Headers of a provisional or 2xx response to A. */
static void a_extra(struct b2bua *b, struct call *c, const osip_message_t *r,
		    struct sb *sb)
{
	struct leg *la = &c->leg[LEG_A];

	leg_contact(b, la, sb);
	sb_add(sb, B2B_ALLOW_HDR);
	b2b_pass_headers(b, r, sb);
}

static int respond_a(struct b2bua *b, struct call *c, int status,
		     const char *reason, struct sb *extra, const char *sdp,
		     osip_message_t **keep)
{
	osip_message_t *resp = sipmsg_response(txn_request(c->inv_a), status,
					       reason, c->leg[LEG_A].local_tag,
					       extra->p, "application/sdp",
					       sdp, sdp ? strlen(sdp) : 0);

	sb_free(extra);
	if (!resp)
		return -ENOMEM;
	if (keep) {
		if (*keep)
			osip_message_free(*keep);
		*keep = NULL;
		osip_message_clone(resp, keep);
	}
	return txl_respond(b->txl, c->inv_a, resp);
}

void invite_rel1xx_tick(struct b2bua *b, struct call *c, uint64_t now)
{
	if (!c->rel1xx)
		return;
	if (now >= c->rel1xx_until_ms || c->a_final) {
		osip_message_free(c->rel1xx);
		c->rel1xx = NULL;
		return;
	}
	txl_send_stateless(b->txl, c->rel1xx, &c->leg[LEG_A].peer);
}

void invite_prack(struct b2bua *b, struct call *c, const osip_message_t *m)
{
	const char *rack = sipmsg_header(m, "rack");

	(void)b;
	if (c->rel1xx && rack &&
	    strtoul(rack, NULL, 10) == c->leg[LEG_A].rseq) {
		osip_message_free(c->rel1xx);
		c->rel1xx = NULL;
	}
}

static void prack_b(struct b2bua *b, struct call *c, const osip_message_t *r)
{
	struct leg *lb = &c->leg[LEG_B];
	const char *rseq = sipmsg_header(r, "rseq");
	struct sb sb = { 0 };

	if (!rseq)
		return;
	/* PRACKed here on B: A's own PRACK of our reliable 1xx is answered
	 * on A (two hops, each acknowledged on its own leg). */
	leg_begin(b, lb, &sb, "PRACK", ++lb->local_cseq, 70);
	sb_add(&sb, "RAck: %s %s INVITE\r\n", rseq, r->cseq->number);
	leg_finish(&sb, NULL, 0);
	leg_send(b, lb, &sb);
}

static void b_provisional(struct b2bua *b, struct call *c, osip_message_t *r)
{
	struct leg *lb = &c->leg[LEG_B];
	int reliable = sipmsg_has_tag(r, "require", "100rel");
	struct sb extra = { 0 };
	char *sdp = NULL;
	int status = 0;

	c->b_got_1xx = 1;
	if (sipmsg_tag(r->to)) {
		sipmsg_to_str(r, lb->remote_hdr, sizeof(lb->remote_hdr));
		leg_set_remote(lb, r, 1);
		c->state = CS_EARLY;
	}
	if (reliable)
		prack_b(b, c, r);
	if (!c->late_offer && !c->early_sdp &&
	    media_rewrite(b, c, LEG_B, 1, r, &sdp, &status) == 1)
		c->early_sdp = sdp;
	a_extra(b, c, r, &extra);
	if (reliable && c->leg[LEG_A].rel100)
		sb_add(&extra, "Require: 100rel\r\nRSeq: %u\r\n",
		       ++c->leg[LEG_A].rseq);
	respond_a(b, c, r->status_code, r->reason_phrase, &extra,
		  sipmsg_sdp(r, &(size_t){0}) ? c->early_sdp : NULL,
		  reliable && c->leg[LEG_A].rel100 ? &c->rel1xx : NULL);
	if (c->rel1xx) /* 64*T1, RFC 3262 3 */
		c->rel1xx_until_ms = b2b_now_ms() + 32000;
}

void call_session_timer(struct b2bua *b, struct call *c)
{
	uint32_t se = b->cfg.session_expires_s;

	if (!se)
		return;
	c->refresh_at_ms = b2b_now_ms() + (uint64_t)se * 500;
	c->expire_at_ms = 0;
}

static void b_success(struct b2bua *b, struct call *c, osip_message_t *r)
{
	struct leg *lb = &c->leg[LEG_B], *la = &c->leg[LEG_A];
	struct sb extra = { 0 };
	char *sdp = NULL;
	int status = 0, se = session_expires(txn_request(c->inv_a));

	if (c->b_final) { /* a retransmission: our ACK was lost */
		if (c->b_ack)
			txl_send_stateless(b->txl, c->b_ack, &lb->peer);
		return;
	}
	c->b_final = 1;
	sipmsg_to_str(r, lb->remote_hdr, sizeof(lb->remote_hdr));
	leg_set_remote(lb, r, 1);
	lb->update = has_allow(r, "UPDATE");
	if (c->state == CS_ENDING) { /* answered after we gave up: hang up */
		leg_ack(b, lb, sipmsg_cseq(r), NULL, 0, &c->b_ack);
		call_bye(b, c, LEG_B);
		return;
	}
	if (media_rewrite(b, c, LEG_B, !c->late_offer, r, &sdp, &status) < 0 ||
	    (!sdp && (c->late_offer || !c->early_sdp))) {
		leg_ack(b, lb, sipmsg_cseq(r), NULL, 0, &c->b_ack);
		call_end(b, c, "failed", "callee", status ? status : 488, -1);
		return;
	}
	if (!c->late_offer)
		leg_ack(b, lb, sipmsg_cseq(r), NULL, 0, &c->b_ack);
	else if (osip_message_clone(r, &c->b_ok) != 0) /* its CSeq for the ACK */
		c->b_ok = NULL;
	a_extra(b, c, r, &extra);
	if (b->cfg.session_expires_s && la->timer)
		sb_add(&extra, "Session-Expires: %u;refresher=uas\r\n"
		       "Require: timer\r\n",
		       se > 0 && (uint32_t)se < b->cfg.session_expires_s ?
		       (uint32_t)se : b->cfg.session_expires_s);
	respond_a(b, c, r->status_code, r->reason_phrase, &extra,
		  sdp ? sdp : c->early_sdp, NULL);
	free(sdp);
	c->a_final = 1;
	c->final_status = r->status_code;
	c->answer_us = b2b_wall_us();
	c->state = CS_ANSWERED;
	b->st.calls_answered++;
	log_info("call %s answered", c->leg[0].call_id);
}

/* After a failure of one contact, the next registered one (RFC 3261
 * 16.6's serial search, done by a UAC): same B dialog identity, a new
 * INVITE. A busy or declined callee (486, 6xx) and CANCEL stop it. */
static int try_next_contact(struct b2bua *b, struct call *c, int status)
{
	struct leg *lb = &c->leg[LEG_B];

	if (c->next_alt >= c->nalts || c->state == CS_ENDING ||
	    status == 486 || status == 487 || status >= 600)
		return 0;
	leg_b_contact(lb, &c->alts[c->next_alt++]);
	snprintf(lb->remote_hdr, sizeof(lb->remote_hdr), "%s", c->to);
	lb->routes[0] = 0;
	lb->local_cseq++;
	if (tp_local_for(b->d.tp, lb->peer.proto,
			 (const struct sockaddr *)&lb->peer.addr, &lb->me) < 0)
		lb->me = c->leg[LEG_A].me;
	media_leg_hint(b->d.me, c->ms, MEDIA_LEG_B,
		       (struct sockaddr *)&lb->peer.addr);
	c->b_got_1xx = 0;
	c->state = CS_TRYING;
	c->inv_b = send_invite_b(b, c, txn_request(c->inv_a), c->b_sdp);
	if (!c->inv_b)
		return 0;
	log_info("call %s: %d from a contact, trying %s", c->leg[0].call_id,
		 status, lb->target);
	return 1;
}

void invite_response(struct b2bua *b, struct call *c, osip_message_t *r)
{
	int status = r->status_code;

	if (status == 100)
		return;
	if (status < 200) {
		if (c->state != CS_ENDING) {
			b_provisional(b, c, r);
		} else { /* ended before B's first 1xx: CANCEL now (9.1) */
			c->b_got_1xx = 1;
			call_cancel_b(b, c);
		}
		return;
	}
	if (status < 300) {
		b_success(b, c, r);
		return;
	}
	if (c->inv_b) {
		/* The transaction ACKs the failure's retransmissions itself
		 * (Timer D, 32 s): the call need not stay for them. */
		struct sip_txn *t = c->inv_b;

		txn_set_owner(t, NULL);
		call_drop_txn(c, t);
	}
	if (c->state != CS_ENDING && try_next_contact(b, c, status))
		return;
	c->b_final = 1;
	if (c->state == CS_ENDING) {
		call_finish(b, c);
		return;
	}
	b->st.calls_failed++;
	c->final_status = map_failure(status);
	call_end(b, c, "failed", "callee", c->final_status, LEG_B);
}

void invite_cancel(struct b2bua *b, struct sip_txn *t, osip_message_t *m)
{
	struct sip_txn *inv = txl_find_invite(b->txl, m);
	struct call *c = inv ? txn_owner(inv) : NULL;

	if (!inv) {
		b2b_respond(b, t, 481, NULL, NULL);
		return;
	}
	b2b_respond(b, t, 200, NULL, NULL);
	if (c && !c->a_final) {
		b->st.calls_cancelled++;
		call_end(b, c, "cancel", "caller", 487, -1);
	}
}

void invite_ack(struct b2bua *b, struct call *c, osip_message_t *m)
{
	struct leg *lb = &c->leg[LEG_B];
	/* The INVITE's CSeq (RFC 3261 13.2.2.4): a PRACK or UPDATE since
	 * moved local_cseq on. */
	uint32_t cseq = c->b_ok ? sipmsg_cseq(c->b_ok) : lb->local_cseq;
	char *sdp = NULL;
	int status = 0;

	if (c->late_offer) {
		if (media_rewrite(b, c, LEG_A, 1, m, &sdp, &status) != 1) {
			leg_ack(b, lb, cseq, NULL, 0, &c->b_ack);
			c->state = CS_UP;
			call_end(b, c, "failed", "caller", status ? status : 488, -1);
			return;
		}
		leg_ack(b, lb, cseq, sdp, strlen(sdp), &c->b_ack);
		free(sdp);
	}
	c->state = CS_UP;
	call_session_timer(b, c);
	call_journal_write(b, c);
}

void invite_timeout(struct b2bua *b, struct call *c, struct sip_txn *t)
{
	if (t == c->inv_b && !c->b_final) {
		if (try_next_contact(b, c, 408))
			return;
		c->b_final = 1;
		b->st.calls_failed++;
		call_end(b, c, "failed", "callee", 408, -1);
	} else if (t == c->inv_a && c->state == CS_ANSWERED) {
		call_end(b, c, "no-ack", "caller", 0, -1);
	}
}
