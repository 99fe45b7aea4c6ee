// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Calls and their legs: the table by Call-ID, requests built on a leg from
 * its own dialog state only, and the end of a call (BYE/CANCEL where
 * needed, the media session deleted, one CDR line).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b2bua_internal.h"
#include "htab.h"
#include "log.h"
#include "media.h"
#include "netaddr.h"

static unsigned cid_hash(const char *s)
{
	return (unsigned)(htab_hash(s) % CALL_BUCKETS);
}

struct call *call_new(struct b2bua *b)
{
	struct call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	for (int i = 0; i < 2; i++) {
		c->leg[i].call = c;
		c->leg[i].side = i;
		sipmsg_token(c->leg[i].local_tag, 16);
	}
	c->start_us = b2b_wall_us();
	c->next = b->calls;
	if (b->calls)
		b->calls->prev = c;
	b->calls = c;
	b->ncalls++;
	b->st.calls_total++;
	return c;
}

void call_hash(struct b2bua *b, struct leg *l)
{
	unsigned h = cid_hash(l->call_id);

	l->hnext = b->buckets[h];
	b->buckets[h] = l;
}

static void call_unhash(struct b2bua *b, struct leg *l)
{
	struct leg **pp = &b->buckets[cid_hash(l->call_id)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == l) {
			*pp = l->hnext;
			return;
		}
	}
}

struct leg *leg_find(struct b2bua *b, const char *call_id,
		     const char *local_tag)
{
	struct leg *l;

	for (l = b->buckets[cid_hash(call_id)]; l; l = l->hnext) {
		if (strcmp(l->call_id, call_id))
			continue;
		if (local_tag ? !strcmp(l->local_tag, local_tag) :
		    l->side == LEG_B)
			return l;
	}
	return NULL;
}

void call_track(struct call *c, struct sip_txn *t)
{
	if (!t)
		return;
	if (c->ntxns < (int)(sizeof(c->txns) / sizeof(c->txns[0]))) {
		c->txns[c->ntxns++] = t;
		txn_set_owner(t, c);
	} else {
		/* Untracked: its responses are ignored (a call this busy is
		 * broken anyway). */
		txn_set_owner(t, NULL);
		log_warn("call %s: too many transactions in flight",
			 c->leg[0].call_id);
	}
}

void call_drop_txn(struct call *c, struct sip_txn *t)
{
	for (int i = 0; i < c->ntxns; i++) {
		if (c->txns[i] == t) {
			c->txns[i] = c->txns[--c->ntxns];
			break;
		}
	}
	if (c->inv_a == t)
		c->inv_a = NULL;
	if (c->inv_b == t)
		c->inv_b = NULL;
	for (int i = 0; i < 2; i++)
		if (c->bye[i] == t)
			c->bye[i] = NULL;
	for (int i = 0; i < MAX_RELAYS; i++) {
		struct relay *r = &c->relay[i];

		if (r->st == t)
			r->st = NULL;
		if (r->ct == t)
			r->ct = NULL;
		if (!r->st && !r->ct && !r->await_ack) {
			free(r->ack_sdp);
			memset(r, 0, sizeof(*r));
		}
	}
}

void call_free(struct b2bua *b, struct call *c)
{
	for (int i = 0; i < c->ntxns; i++)
		txn_set_owner(c->txns[i], NULL);
	for (int i = 0; i < 2; i++)
		if (c->leg[i].call_id[0])
			call_unhash(b, &c->leg[i]);
	if (c->prev)
		c->prev->next = c->next;
	else
		b->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->ms)
		media_session_delete(b->d.me, c->ms);
	if (c->state != CS_ENDING)
		b->ncalls--;
	for (int i = 0; i < MAX_RELAYS; i++)
		free(c->relay[i].ack_sdp);
	if (c->b_ok)
		osip_message_free(c->b_ok);
	if (c->b_ack)
		osip_message_free(c->b_ack);
	for (int i = 0; i < 2; i++)
		if (c->leg[i].ack)
			osip_message_free(c->leg[i].ack);
	free(c->early_sdp);
	free(c->b_sdp);
	if (c->rel1xx)
		osip_message_free(c->rel1xx);
	free(c->alts);
	free(c);
}

/* ---- requests on a leg -------------------------------------------------------- */

static const char *proto_name(const struct leg *l)
{
	return l->peer.proto == SIP_TCP ? "TCP" : "UDP";
}

void leg_begin(struct b2bua *b, struct leg *l, struct sb *sb,
	       const char *method, uint32_t cseq, int max_forwards)
{
	char me[NETADDR_STRLEN], branch[24];

	(void)b;
	sipmsg_token(branch, 20);
	netaddr_str((struct sockaddr *)&l->me, me, sizeof(me));
	sb_add(sb, "%s %s SIP/2.0\r\n"
	       "Via: SIP/2.0/%s %s;branch=z9hG4bK%s;rport\r\n"
	       "Max-Forwards: %d\r\n"
	       "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %u %s\r\n%s",
	       method, l->target, proto_name(l), me, branch, max_forwards,
	       l->local_hdr, l->remote_hdr, l->call_id, cseq, method,
	       l->routes);
}

void leg_contact(struct b2bua *b, struct leg *l, struct sb *sb)
{
	char me[NETADDR_STRLEN];

	(void)b;
	netaddr_str((struct sockaddr *)&l->me, me, sizeof(me));
	sb_add(sb, "Contact: <sip:xrelay@%s%s>\r\n", me,
	       l->peer.proto == SIP_TCP ? ";transport=tcp" : "");
}

void leg_finish_ct(struct sb *sb, const char *ctype, const char *body,
		   size_t len)
{
	sb_add(sb, "User-Agent: xrelay\r\n");
	if (body && len)
		sb_add(sb, "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%.*s",
		       ctype, len, (int)len, body);
	else
		sb_add(sb, "Content-Length: 0\r\n\r\n");
}

void leg_finish(struct sb *sb, const char *body, size_t len)
{
	leg_finish_ct(sb, "application/sdp", body, len);
}

struct sip_txn *leg_send(struct b2bua *b, struct leg *l, struct sb *sb)
{
	osip_message_t *m = sipmsg_from_sb(sb);
	struct sip_txn *t;

	if (!m)
		return NULL;
	t = txl_request(b->txl, m, &l->peer, l->call);
	if (t)
		call_track(l->call, t);
	return t;
}

void leg_ack(struct b2bua *b, struct leg *l, uint32_t cseq, const char *sdp,
	     size_t len, osip_message_t **keep)
{
	struct sb sb = { 0 };
	osip_message_t *m;

	leg_begin(b, l, &sb, "ACK", cseq, 70);
	leg_finish(&sb, sdp, len);
	m = sipmsg_from_sb(&sb);
	if (!m)
		return;
	txl_send_stateless(b->txl, m, &l->peer);
	if (keep) {
		if (*keep)
			osip_message_free(*keep);
		*keep = m;
	} else {
		osip_message_free(m);
	}
}

/* The remote side of a dialog from a request it sent (leg A: Record-Route
 * in order) or a response it sent (leg B: reversed), RFC 3261 12.1. */
void leg_set_remote(struct leg *l, const osip_message_t *m, int reverse_rr)
{
	int n = osip_list_size(&m->record_routes);
	size_t off = 0;

	sipmsg_contact(m, l->target, sizeof(l->target));
	l->routes[0] = 0;
	for (int i = 0; i < n; i++) {
		osip_record_route_t *rr =
			osip_list_get(&m->record_routes,
				      reverse_rr ? n - 1 - i : i);
		char *s = NULL;

		if (!rr || osip_record_route_to_str(rr, &s) != 0 || !s)
			continue;
		int w = snprintf(l->routes + off, sizeof(l->routes) - off,
				 "Route: %s\r\n", s);
		osip_free(s);
		if (w < 0 || (size_t)w >= sizeof(l->routes) - off) {
			l->routes[off] = 0; /* too long: drop the rest */
			break;
		}
		off += (size_t)w;
	}
}

/* ---- the end of a call ------------------------------------------------------------ */

static void leg_media(struct media_leg_info *li, struct cdr_leg_media *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < li->nstreams; i++) {
		const struct media_component_info *cs[2] = {
			&li->st[i].rtp, &li->st[i].rtcp };

		for (int k = 0; k < 2; k++) {
			const struct media_counters *m = &cs[k]->in;

			out->kernel_packets += m->kernel_packets;
			out->kernel_bytes += m->kernel_bytes;
			out->user_packets += m->user_packets;
			out->user_bytes += m->user_bytes;
			out->drops += m->drop_foreign + m->drop_no_dest +
				      m->drop_policy;
		}
	}
}

static void call_cdr(struct b2bua *b, struct call *c)
{
	struct media_session_info *mi = NULL;
	struct cdr r = {
		.call_id_a = c->leg[0].call_id, .call_id_b = c->leg[1].call_id,
		.from = c->from, .to = c->to, .start_us = c->start_us,
		.answer_us = c->answer_us, .end_us = b2b_wall_us(),
		.end_reason = c->end_reason, .hangup_by = c->hangup_by,
		.final_status = c->final_status,
	};

	/* The media counters are for the CDR line only: without a CDR file
	 * the engine is not asked (a map look-up per port). */
	if (b->d.cdr && c->ms && (mi = malloc(sizeof(*mi))) &&
	    media_session_info(b->d.me, c->ms, mi) == 0) {
		leg_media(&mi->leg[0], &r.leg[0]);
		leg_media(&mi->leg[1], &r.leg[1]);
	}
	free(mi);
	log_info("call %s/%s ended: %s by %s, status %d", c->leg[0].call_id,
		 c->leg[1].call_id, c->end_reason, c->hangup_by,
		 c->final_status);
	if (b->d.cdr)
		cdr_write(b->d.cdr, &r);
}

void call_bye(struct b2bua *b, struct call *c, int side)
{
	struct leg *l = &c->leg[side];
	struct sb sb = { 0 };

	leg_begin(b, l, &sb, "BYE", ++l->local_cseq, 70);
	leg_finish(&sb, NULL, 0);
	c->bye[side] = leg_send(b, l, &sb);
}

void call_cancel_b(struct b2bua *b, struct call *c)
{
	osip_message_t *inv = c->inv_b ? txn_request(c->inv_b) : NULL;
	struct leg *l = &c->leg[LEG_B];
	struct sb sb = { 0 };
	char me[NETADDR_STRLEN], from[512];
	const char *branch;

	if (!inv || c->cancel_sent || !(branch = sipmsg_branch(inv)))
		return;
	/* RFC 3261 9.1: the INVITE's Request-URI, Via branch, Call-ID, From,
	 * To (no tag) and CSeq number, and its Route headers. */
	netaddr_str((struct sockaddr *)&l->me, me, sizeof(me));
	sipmsg_to_str(inv, from, sizeof(from));
	sb_add(&sb, "CANCEL %s SIP/2.0\r\nVia: SIP/2.0/%s %s;branch=%s;rport\r\n"
	       "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
	       "CSeq: %s CANCEL\r\n%s", l->target, proto_name(l), me, branch,
	       l->local_hdr, from, l->call_id, inv->cseq->number, l->routes);
	leg_finish(&sb, NULL, 0);
	leg_send(b, l, &sb);
	c->cancel_sent = 1;
}

/*
 * End a call for `reason`: A gets `status` if its INVITE is still open, B
 * is cancelled (now, or at its first provisional response: RFC 3261 9.1),
 * legs with a dialog get BYE except `skip` (the side that sent BYE). The
 * CDR is written and the media session deleted now; the call stays in the
 * table until its transactions are done, to answer what still arrives.
 */
void call_end(struct b2bua *b, struct call *c, const char *reason,
	      const char *by, int status, int skip)
{
	if (c->state == CS_ENDING)
		return;
	c->end_reason = reason;
	c->hangup_by = by;
	if (status && !c->final_status)
		c->final_status = status;
	if (c->inv_a && !c->a_final) {
		char ra[40];

		/* A 503 of ours (port pool exhausted, shutdown) says when to
		 * come back, as the call limit's does. */
		snprintf(ra, sizeof(ra), "Retry-After: %u\r\n",
			 b->cfg.retry_after_s ? b->cfg.retry_after_s : 5);
		b2b_respond(b, c->inv_a, status >= 300 ? status : 500,
			    c->leg[0].local_tag, status == 503 ? ra : NULL);
		c->a_final = 1;
	} else if (skip != LEG_A && (c->state == CS_UP ||
				     c->state == CS_ANSWERED)) {
		call_bye(b, c, LEG_A);
	}
	if (!c->b_final) {
		c->cancelled = 1;
		if (c->b_got_1xx)
			call_cancel_b(b, c);
	} else if (skip != LEG_B) {
		call_bye(b, c, LEG_B);
	}
	if (!c->final_status && c->answer_us)
		c->final_status = 200;
	call_cdr(b, c);
	call_journal_remove(b, c); /* after the CDR: see call_journal.c */
	if (c->ms) {
		media_session_delete(b->d.me, c->ms);
		c->ms = NULL;
	}
	c->state = CS_ENDING;
	b->ncalls--;
	call_finish(b, c);
}

/* Free an ended call once nothing of it is in flight. */
void call_finish(struct b2bua *b, struct call *c)
{
	if (c->state != CS_ENDING)
		return;
	if (c->ntxns == 0 && (c->b_final || !c->inv_b))
		call_free(b, c);
}
