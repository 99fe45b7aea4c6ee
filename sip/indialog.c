// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Requests inside a call's dialogs. BYE ends the call on both legs;
 * re-INVITE, UPDATE, INFO, MESSAGE and NOTIFY are relayed: a new request
 * on the other leg (its own CSeq, Via, Contact), whose response comes back
 * as the response to the original, with any SDP rewritten by the media
 * engine. OPTIONS and PRACK are answered on the leg they arrive on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b2bua_internal.h"
#include "log.h"

static struct relay *relay_by_ct(struct call *c, struct sip_txn *t)
{
	for (int i = 0; i < MAX_RELAYS; i++)
		if (c->relay[i].ct == t)
			return &c->relay[i];
	return NULL;
}

static struct relay *relay_free_slot(struct call *c, int invite)
{
	struct relay *free_slot = NULL;

	for (int i = 0; i < MAX_RELAYS; i++) {
		struct relay *r = &c->relay[i];

		if (r->st || r->ct || r->await_ack) {
			if (invite && r->invite)
				return NULL; /* one re-INVITE at a time: 491 */
		} else if (!free_slot) {
			free_slot = r;
		}
	}
	return free_slot;
}

static void relay_done(struct relay *r)
{
	free(r->ack_sdp);
	memset(r, 0, sizeof(*r));
}

static int respond_body(struct b2bua *b, struct call *c, struct sip_txn *st,
			int side, int status, const char *reason,
			struct sb *extra, const char *ctype, const char *body,
			size_t len)
{
	osip_message_t *resp = sipmsg_response(txn_request(st), status, reason,
					       c->leg[side].local_tag,
					       extra ? extra->p : NULL, ctype,
					       body, len);

	if (extra)
		sb_free(extra);
	if (!resp)
		return -ENOMEM;
	return txl_respond(b->txl, st, resp);
}

/* A request with a body that is not SDP (INFO's DTMF, MESSAGE's text)
 * crosses as it is. */
static const char *other_body(const osip_message_t *m, char *ctype,
			      size_t clen, size_t *len)
{
	osip_body_t *body = NULL;
	char *s = NULL;

	*len = 0;
	if (osip_message_get_body(m, 0, &body) < 0 || !body || !body->body)
		return NULL;
	if (!m->content_type || osip_content_type_to_str(m->content_type, &s) ||
	    !s)
		return NULL;
	snprintf(ctype, clen, "%s", s);
	osip_free(s);
	*len = body->length;
	return body->body;
}

static void relay_start(struct b2bua *b, struct leg *l, struct sip_txn *t,
			osip_message_t *m)
{
	struct call *c = l->call;
	struct leg *o = &c->leg[!l->side];
	int invite = !strcmp(m->sip_method, "INVITE");
	int sdp_method = invite || !strcmp(m->sip_method, "UPDATE");
	struct relay *r = relay_free_slot(c, invite);
	char *out = NULL, ctype[128];
	const char *body = NULL;
	size_t blen = 0;
	struct sb sb = { 0 };
	int status = 0;

	if (!r) {
		b2b_respond(b, t, 491, NULL, NULL);
		return;
	}
	if (invite)
		b2b_respond(b, t, 100, NULL, NULL);
	if (sdp_method &&
	    media_rewrite(b, c, l->side, 0, m, &out, &status) < 0) {
		b2b_respond(b, t, status, NULL, NULL);
		return;
	}
	if (sdp_method) /* target refresh requests (RFC 3261 12.2.2) */
		sipmsg_contact(m, l->target, sizeof(l->target));
	else
		body = other_body(m, ctype, sizeof(ctype), &blen);
	leg_begin(b, o, &sb, m->sip_method, ++o->local_cseq, 70);
	if (sdp_method)
		leg_contact(b, o, &sb);
	b2b_pass_headers(b, m, &sb);
	if (out)
		leg_finish(&sb, out, strlen(out));
	else
		leg_finish_ct(&sb, ctype, body, blen);
	free(out);
	r->st = t;
	r->from = l->side;
	r->invite = invite;
	r->late = invite && !sipmsg_sdp(m, &blen);
	r->to_cseq = o->local_cseq;
	call_track(c, t);
	r->ct = leg_send(b, o, &sb);
	if (!r->ct) {
		b2b_respond(b, t, 500, NULL, NULL);
		relay_done(r);
	}
}

void indialog_request(struct b2bua *b, struct leg *l, struct sip_txn *t,
		      osip_message_t *m)
{
	struct call *c = l->call;
	const char *method = m->sip_method;
	uint32_t cseq = sipmsg_cseq(m);

	if (!strcmp(method, "CANCEL")) { /* of a re-INVITE: it completes */
		b2b_respond(b, t, txl_find_invite(b->txl, m) ? 200 : 481,
			    NULL, NULL);
		return;
	}
	if (cseq <= l->remote_cseq && l->remote_cseq) {
		b2b_respond(b, t, 500, NULL, "Retry-After: 1\r\n");
		return; /* RFC 3261 12.2.2: out of order */
	}
	l->remote_cseq = cseq;
	if (c->state == CS_ENDING) {
		b2b_respond(b, t, strcmp(method, "BYE") ? 481 : 200, NULL, NULL);
		return;
	}
	if (!strcmp(method, "BYE")) {
		b2b_respond(b, t, 200, NULL, NULL);
		/* In an early dialog A's INVITE gets 487 (RFC 3261 15.1.2). */
		call_end(b, c, "bye", l->side == LEG_A ? "caller" : "callee",
			 c->a_final ? 0 : 487, l->side);
	} else if (!strcmp(method, "PRACK") || !strcmp(method, "OPTIONS")) {
		if (method[0] == 'P' && l->side == LEG_A)
			invite_prack(b, c, m);
		b2b_respond(b, t, 200, NULL, NULL);
	} else if (!strcmp(method, "INVITE") || !strcmp(method, "UPDATE") ||
		   !strcmp(method, "INFO") || !strcmp(method, "MESSAGE") ||
		   !strcmp(method, "NOTIFY")) {
		if (c->state < CS_EARLY ||
		    (!strcmp(method, "INVITE") && c->state != CS_UP))
			b2b_respond(b, t, 491, NULL, NULL);
		else
			relay_start(b, l, t, m);
	} else {
		b2b_respond(b, t, 405, NULL, "Allow: INVITE, ACK, CANCEL, BYE, "
			    "OPTIONS, UPDATE, PRACK, INFO, MESSAGE, NOTIFY\r\n");
	}
}

/* ---- responses of the other leg ------------------------------------------------- */

static void relay_success(struct b2bua *b, struct call *c, struct relay *r,
			  osip_message_t *resp)
{
	int to = !r->from, status = 0;
	struct leg *lt = &c->leg[to];
	struct sb extra = { 0 };
	char *out = NULL, ctype[128];
	const char *body = NULL;
	size_t blen = 0;

	if (r->invite || sipmsg_sdp(txn_request(r->ct), &blen)) {
		if (media_rewrite(b, c, to, !r->late, resp, &out, &status) < 0) {
			if (r->invite)
				leg_ack(b, lt, r->to_cseq, NULL, 0, &lt->ack);
			respond_body(b, c, r->st, r->from, status, NULL, NULL,
				     NULL, NULL, 0);
			relay_done(r);
			return;
		}
		sipmsg_contact(resp, lt->target, sizeof(lt->target));
		leg_contact(b, &c->leg[r->from], &extra);
	} else {
		body = other_body(resp, ctype, sizeof(ctype), &blen);
	}
	if (r->invite && !r->late)
		leg_ack(b, lt, r->to_cseq, NULL, 0, &lt->ack);
	b2b_pass_headers(b, resp, &extra);
	if (out)
		respond_body(b, c, r->st, r->from, resp->status_code,
			     resp->reason_phrase, &extra, "application/sdp",
			     out, strlen(out));
	else
		respond_body(b, c, r->st, r->from, resp->status_code,
			     resp->reason_phrase, &extra, ctype, body, blen);
	free(out);
	if (c->state == CS_UP) /* targets or the route may have changed */
		call_journal_write(b, c);
	if (r->invite) { /* the slot waits for the ACK from r->from */
		r->await_ack = 1;
		r->st = r->ct = NULL;
	} else {
		relay_done(r);
	}
}

/* A re-INVITE's 2xx again: our ACK was lost, send it again (RFC 3261
 * 13.2.2.4). Late offer: none yet until the other leg's ACK brings the
 * answer. */
static void ack_again(struct b2bua *b, struct call *c, struct sip_txn *t)
{
	const osip_message_t *inv = txn_request(t);
	char cid[256];

	sipmsg_call_id(inv, cid, sizeof(cid));
	for (int side = 0; side < 2; side++) {
		struct leg *l = &c->leg[side];

		if (l->ack && !strcmp(l->call_id, cid) &&
		    sipmsg_cseq(l->ack) == sipmsg_cseq(inv))
			txl_send_stateless(b->txl, l->ack, &l->peer);
	}
}

void indialog_response(struct b2bua *b, struct call *c, struct sip_txn *t,
		       osip_message_t *resp)
{
	int status = resp->status_code;
	struct relay *r;

	if (status < 200)
		return; /* provisional responses of relayed requests stay on
			   their leg; the original's 100 was sent already */
	if (t == c->bye[0] || t == c->bye[1])
		return; /* the transaction's end frees the call */
	r = relay_by_ct(c, t);
	if (!r && status < 300 && txn_kind(t) == TXN_ICT) {
		ack_again(b, c, t);
		return;
	}
	if (!r) { /* our own refresh, PRACK or CANCEL */
		if ((status == 481 || status == 408) && c->state == CS_UP)
			call_end(b, c, "session-timer", "relay", 0, -1);
		return;
	}
	if (status < 300) {
		relay_success(b, c, r, resp);
		return;
	}
	respond_body(b, c, r->st, r->from, status, resp->reason_phrase, NULL,
		     NULL, NULL, 0);
	relay_done(r);
	/* RFC 5057: these end the dialog the request was sent in. */
	if (status == 481 || status == 408)
		call_end(b, c, "failed", "relay", 0, -1);
}

void indialog_ack(struct b2bua *b, struct leg *l, osip_message_t *m)
{
	struct call *c = l->call;
	int status = 0;
	char *out = NULL;

	if (l->side == LEG_A && c->state == CS_ANSWERED) {
		invite_ack(b, c, m);
		return;
	}
	for (int i = 0; i < MAX_RELAYS; i++) {
		struct relay *r = &c->relay[i];

		if (!r->await_ack || r->from != l->side)
			continue;
		if (r->late) { /* the answer to the other leg's offer */
			if (media_rewrite(b, c, l->side, 1, m, &out, &status) < 0)
				out = NULL;
			leg_ack(b, &c->leg[!l->side], r->to_cseq, out,
				out ? strlen(out) : 0, &c->leg[!l->side].ack);
			free(out);
		}
		relay_done(r);
		return;
	}
}

/* RFC 4028 without relying on the phones: the relay refreshes each leg
 * itself (UPDATE where the peer allows it, else an in-dialog OPTIONS as a
 * liveness probe); a 481 or a timeout ends the call. */
void indialog_refresh(struct b2bua *b, struct call *c)
{
	for (int side = 0; side < 2; side++) {
		struct leg *l = &c->leg[side];
		const char *method = l->update ? "UPDATE" : "OPTIONS";
		struct sb sb = { 0 };

		leg_begin(b, l, &sb, method, ++l->local_cseq, 70);
		if (l->update) {
			leg_contact(b, l, &sb);
			sb_add(&sb, "Session-Expires: %u;refresher=uac\r\n",
			       b->cfg.session_expires_s);
		}
		leg_finish(&sb, NULL, 0);
		leg_send(b, l, &sb);
	}
	c->refresh_at_ms = b2b_now_ms() + (uint64_t)b->cfg.session_expires_s * 500;
}
