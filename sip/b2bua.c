// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The B2BUA's entry points: messages from the transport go through the
 * transaction layer, which hands each new request and each response here
 * once; out-of-dialog requests are served or start a call, in-dialog ones
 * go to their leg.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth.h"
#include "b2bua_internal.h"
#include "hep.h"
#include "log.h"
#include "media.h"
#include "netaddr.h"
#include "registrar.h"
#include "transport.h"

#define SCAN_MS 1000
#define B2B_ALLOW "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO, " \
	      "MESSAGE, NOTIFY, REGISTER"

uint64_t b2b_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t b2b_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- counting messages by method and status ------------------------------- */

static const char *const method_names[B2B_NMETHODS] = {
	"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "UPDATE", "PRACK",
	"INFO", "MESSAGE", "NOTIFY", "REGISTER", "SUBSCRIBE", "REFER",
	"PUBLISH", "other",
};

const char *b2bua_method_name(unsigned m)
{
	return m < B2B_NMETHODS ? method_names[m] : "other";
}

/* From the start line of a well-formed message: "SIP/2.0 200 ..." or
 * "INVITE sip:...". */
static void count_msg(struct b2bua *b, int dir, const char *buf, size_t len)
{
	size_t n = 0;
	unsigned m;

	if (len > 12 && !strncmp(buf, "SIP/2.0 ", 8)) {
		int code = atoi(buf + 8);

		if (code >= B2B_CODE_MIN && code < B2B_CODE_MIN + B2B_NCODES)
			b->st.responses[dir][code - B2B_CODE_MIN]++;
		return;
	}
	while (n < len && buf[n] != ' ')
		n++;
	for (m = 0; m < B2B_M_OTHER; m++)
		if (strlen(method_names[m]) == n &&
		    !strncmp(buf, method_names[m], n))
			break;
	b->st.requests[dir][m]++;
}

/* ---- SIP capture (HEP) --------------------------------------------------- */

/*
 * Every message, as it goes on or comes off the wire. A B-leg message
 * carries the A leg's Call-ID as its correlation id (chunk 0x0011), so the
 * collector joins both legs of a call (Homer: the B leg's "correlation_id"
 * is the A leg's Call-ID). A-leg messages and those of no call (REGISTER,
 * OPTIONS) carry none: their own Call-ID already is the key. A B-leg
 * message after its call is freed (a late retransmission) goes uncorrelated.
 */
static void capture(struct b2bua *b, int tx, const struct sip_peer *p,
		    const char *buf, size_t len)
{
	char cid[sizeof(((struct leg *)0)->call_id)];
	const char *corr = NULL;
	struct leg *l;

	if (!b->d.hep)
		return;
	if (hep_sip_call_id(buf, len, cid, sizeof(cid)) &&
	    (l = leg_find(b, cid, NULL)))
		corr = l->call->leg[LEG_A].call_id;
	hep_capture(b->d.hep, b->d.tp, tx, p, corr, buf, len);
}

/* ---- the transaction layer's callbacks ---------------------------------- */

static int txl_send_cb(void *ctx, const struct sip_peer *to, const char *buf,
		       size_t len)
{
	struct b2bua *b = ctx;
	char a[NETADDR_STRLEN];
	int rc;

	if (log_get_level() >= LOG_DEBUG)
		log_debug("sip: tx to %s: %.*s", netaddr_str(
			  (const struct sockaddr *)&to->addr, a, sizeof(a)),
			  (int)strcspn(buf, "\r\n"), buf);
	if (b->d.send)
		rc = b->d.send(b->d.send_ctx, to, buf, len);
	else
		rc = tp_send(b->d.tp, to, buf, len);
	if (rc >= 0) {
		count_msg(b, B2B_TX, buf, len);
		capture(b, 1, to, buf, len);
	}
	return rc;
}

static uint64_t txl_now_cb(void *ctx)
{
	(void)ctx;
	return b2b_now_ms();
}

static void on_request(void *ctx, struct sip_txn *t, osip_message_t *m,
		       const struct sip_peer *from);

static void on_response(void *ctx, struct sip_txn *t, osip_message_t *r)
{
	struct b2bua *b = ctx;
	struct call *c = txn_owner(t);

	if (!c)
		return;
	if (t == c->inv_b)
		invite_response(b, c, r);
	else
		indialog_response(b, c, t, r);
}

static void on_timeout(void *ctx, struct sip_txn *t)
{
	struct b2bua *b = ctx;
	struct call *c = txn_owner(t);
	osip_message_t *r;

	if (!c)
		return;
	if (t == c->inv_a || t == c->inv_b) {
		invite_timeout(b, c, t);
		return;
	}
	if (txn_kind(t) == TXN_NICT || txn_kind(t) == TXN_ICT) {
		/* As a 408 from the peer (RFC 3261 8.1.3.1). */
		r = sipmsg_response(txn_request(t), 408, "Request Timeout",
				    NULL, NULL, NULL, NULL, 0);
		if (r) {
			indialog_response(b, c, t, r);
			osip_message_free(r);
		}
	}
}

static void on_gone(void *ctx, struct sip_txn *t)
{
	struct b2bua *b = ctx;
	struct call *c = txn_owner(t);

	if (c) {
		txn_set_owner(t, NULL);
		call_drop_txn(c, t);
		call_finish(b, c);
	}
}

static const struct txl_ops txl_ops = {
	.send = txl_send_cb,
	.now_ms = txl_now_cb,
	.request = on_request,
	.response = on_response,
	.timeout = on_timeout,
	.gone = on_gone,
};

/* ---- responding ------------------------------------------------------------ */

int b2b_respond(struct b2bua *b, struct sip_txn *t, int status,
		const char *to_tag, const char *extra)
{
	osip_message_t *r = sipmsg_response(txn_request(t), status, NULL,
					    to_tag, extra, NULL, NULL, 0);

	if (!r)
		return -ENOMEM;
	return txl_respond(b->txl, t, r);
}

int b2b_is_ours(struct b2bua *b, const osip_uri_t *u)
{
	struct sockaddr_storage ss;

	if (!u || !u->host)
		return 0;
	if (!strcasecmp(u->host, b->cfg.domain))
		return 1;
	if (netaddr_parse_ip(u->host, &ss) < 0)
		return 0;
	netaddr_set_port((struct sockaddr *)&ss,
			 u->port && *u->port ? atoi(u->port) : 5060);
	return tp_is_local(b->d.tp, (struct sockaddr *)&ss);
}

static int pass_match(struct b2bua *b, const char *name)
{
	for (int i = 0; i < b->cfg.npass; i++) {
		const char *p = b->cfg.pass_headers[i];
		size_t n = strlen(p);

		if (n && p[n - 1] == '*' ? !strncasecmp(name, p, n - 1) :
		    !strcasecmp(name, p))
			return 1;
	}
	return 0;
}

void b2b_pass_headers(struct b2bua *b, const osip_message_t *m, struct sb *out)
{
	osip_header_t *h;
	int i;

	for (i = 0; i < osip_list_size(&m->headers); i++) {
		h = osip_list_get(&m->headers, i);
		if (h && h->hname && h->hvalue && pass_match(b, h->hname))
			sb_add(out, "%s: %s\r\n", h->hname, h->hvalue);
	}
}

/* ---- requests ---------------------------------------------------------------- */

static void options_request(struct b2bua *b, struct sip_txn *t)
{
	b2b_respond(b, t, 200, NULL,
		    "Allow: " B2B_ALLOW "\r\n"
		    "Accept: application/sdp\r\n"
		    "Supported: 100rel, timer\r\n");
}

static int method_known(const char *m)
{
	for (unsigned i = 0; i < B2B_M_OTHER; i++)
		if (!strcmp(m, method_names[i]))
			return 1;
	return 0;
}

static void out_of_dialog(struct b2bua *b, struct sip_txn *t,
			  osip_message_t *m, const struct sip_peer *from)
{
	const char *method = m->sip_method;

	if (!strcmp(method, "INVITE"))
		invite_new(b, t, m, from);
	else if (!strcmp(method, "CANCEL"))
		invite_cancel(b, t, m);
	else if (!strcmp(method, "REGISTER"))
		register_request(b, t, m, from);
	else if (!strcmp(method, "OPTIONS"))
		options_request(b, t);
	else if (!method_known(method))
		b2b_respond(b, t, 501, NULL, "Allow: " B2B_ALLOW "\r\n");
	else if (!strcmp(method, "SUBSCRIBE") || !strcmp(method, "PUBLISH") ||
		 !strcmp(method, "MESSAGE") || !strcmp(method, "REFER"))
		b2b_respond(b, t, 405, NULL, "Allow: " B2B_ALLOW "\r\n");
	else /* BYE, UPDATE, PRACK, INFO, NOTIFY need a dialog */
		b2b_respond(b, t, 481, NULL, NULL);
}

/* Does the INVITE's Accept (if any) take an SDP answer? */
static int accepts_sdp(const osip_message_t *m)
{
	int n = osip_list_size(&m->accepts);

	for (int i = 0; i < n; i++) {
		const osip_accept_t *a = osip_list_get(&m->accepts, i);

		if (!a || !a->type || !a->subtype ||
		    ((!strcasecmp(a->type, "application") ||
		      !strcmp(a->type, "*")) &&
		     (!strcasecmp(a->subtype, "sdp") ||
		      !strcmp(a->subtype, "*"))))
			return 1;
	}
	return n == 0;
}

/*
 * What a UAS refuses before the method's own handling (RFC 3261 8.2.2,
 * 8.2.3; RFC 4475 3.3.5, 3.3.6, 3.3.15): an option in Require that we do
 * not support gets 420 listing it in Unsupported; an INVITE or UPDATE
 * whose body is not SDP gets 415 with our Accept (the media engine reads
 * nothing else, and dropping the body would turn the call into a late
 * offer that A did not make); an INVITE whose Accept has no SDP gets 406.
 */
static int refuse_request(struct b2bua *b, struct sip_txn *t,
			  const osip_message_t *m)
{
	const char *meth = m->sip_method;
	const osip_content_type_t *ct = m->content_type;
	osip_body_t *body = NULL;
	osip_header_t *h = NULL;
	struct sb un = { 0 };
	int pos = 0;

	while ((pos = osip_message_header_get_byname(m, "require", pos,
						     &h)) >= 0) {
		for (const char *p = h && h->hvalue ? h->hvalue : ""; *p; ) {
			size_t n;

			p += strspn(p, " \t,");
			n = strcspn(p, " \t,");
			if (n && strncasecmp(p, "100rel", n > 6 ? n : 6) &&
			    strncasecmp(p, "timer", n > 5 ? n : 5))
				sb_add(&un, "%s%.*s",
				       un.len ? ", " : "Unsupported: ",
				       (int)(n > 64 ? 64 : n), p);
			p += n;
		}
		pos++;
	}
	if (un.len) {
		sb_add(&un, "\r\n");
		b2b_respond(b, t, 420, NULL, un.oom ? NULL : un.p);
		sb_free(&un);
		return 1;
	}
	if ((!strcmp(meth, "INVITE") || !strcmp(meth, "UPDATE")) &&
	    osip_message_get_body(m, 0, &body) >= 0 && body && body->length &&
	    ct && ct->type && ct->subtype &&
	    (strcasecmp(ct->type, "application") ||
	     strcasecmp(ct->subtype, "sdp"))) {
		b2b_respond(b, t, 415, NULL, "Accept: application/sdp\r\n");
		return 1;
	}
	if (!strcmp(meth, "INVITE") && !accepts_sdp(m)) {
		b2b_respond(b, t, 406, NULL, "Warning: 399 xrelay \"the answer "
			    "would be application/sdp, which Accept does not "
			    "list\"\r\n");
		return 1;
	}
	return 0;
}

static void on_request(void *ctx, struct sip_txn *t, osip_message_t *m,
		       const struct sip_peer *from)
{
	struct b2bua *b = ctx;
	const char *tag = sipmsg_tag(m->to);
	char cid[256];
	struct leg *l = NULL;

	if (tag)
		l = leg_find(b, sipmsg_call_id(m, cid, sizeof(cid)), tag);
	if (!t) { /* an ACK to a 2xx */
		if (l)
			indialog_ack(b, l, m);
		return;
	}
	if (sipmsg_max_forwards(m) == 0 && strcmp(m->sip_method, "OPTIONS")) {
		b2b_respond(b, t, 483, NULL, NULL);
		return;
	}
	if (strcmp(m->sip_method, "CANCEL") && refuse_request(b, t, m))
		return;
	if (!tag) {
		out_of_dialog(b, t, m, from);
		return;
	}
	if (!l) {
		b2b_respond(b, t, 481, NULL, NULL);
		return;
	}
	indialog_request(b, l, t, m);
}

/* RFC 3581 / RFC 3261 18.2.1: note on the top Via where the request
 * really came from, so every response (copied Vias) tells a NATed client
 * its public address and goes back the way the request came. */
static void via_received(osip_message_t *m, const struct sip_peer *from)
{
	osip_via_t *v = NULL;
	osip_generic_param_t *rport = NULL, *rcvd = NULL;
	char ip[NETADDR_STRLEN], port[8];

	if (!MSG_IS_REQUEST(m) || osip_message_get_via(m, 0, &v) < 0 || !v)
		return;
	netaddr_ip_str((const struct sockaddr *)&from->addr, ip, sizeof(ip));
	snprintf(port, sizeof(port), "%d",
		 netaddr_port((const struct sockaddr *)&from->addr));
	osip_via_param_get_byname(v, "rport", &rport);
	osip_via_param_get_byname(v, "received", &rcvd);
	if (rport && !rport->gvalue)
		rport->gvalue = osip_strdup(port);
	if (!rcvd && (rport || !v->host || strcmp(v->host, ip)))
		osip_via_set_received(v, osip_strdup(ip));
}

/* The status for a request libosip2 parses but we refuse: 505 for another
 * SIP version, 416 for a Request-URI that is not sip: or sips:, else 400. */
static int reject_status(const osip_message_t *m)
{
	if (m->sip_version && strcasecmp(m->sip_version, "SIP/2.0"))
		return 505;
	if (m->req_uri && m->req_uri->scheme &&
	    strcasecmp(m->req_uri->scheme, "sip") &&
	    strcasecmp(m->req_uri->scheme, "sips"))
		return 416;
	return 400;
}

/* A request libosip2 cannot parse at all: 400 from its text, when its Via,
 * From, To, Call-ID and CSeq lines are there to address one. */
static void raw_reject(struct b2bua *b, const char *buf, size_t len,
		       const struct sip_peer *from, const char *warn)
{
	struct sb r;

	if (sipmsg_raw_response(buf, len, 400, warn, &r) == 0)
		txl_send_cb(b, from, r.p, r.len);
	sb_free(&r);
}

/* A request that does not parse gets 400 (505, 416) when enough of it is
 * there to address a response; either way it is logged with the reason
 * and dropped. */
void b2bua_on_message(void *ctx, const char *buf, size_t len,
		      const struct sip_peer *from)
{
	struct b2bua *b = ctx;
	char why[160], a[NETADDR_STRLEN], warn[256];
	osip_message_t *m = sipmsg_parse(buf, len, why, sizeof(why));

	if (log_get_level() >= LOG_DEBUG)
		log_debug("sip: rx from %s: %.*s", netaddr_str(
			  (const struct sockaddr *)&from->addr, a, sizeof(a)),
			  (int)strcspn(buf, "\r\n"), buf);
	capture(b, 0, from, buf, len);
	if (m && MSG_IS_RESPONSE(m) && osip_list_size(&m->vias) != 1) {
		/* RFC 3261 8.1.3.3: we sent one Via; more is someone else's
		 * response (RFC 4475 3.3.10) */
		log_warn("sip: a response from %s with %d Vias, not one: not "
			 "for us, dropped", netaddr_str((const struct sockaddr *)
			 &from->addr, a, sizeof(a)), osip_list_size(&m->vias));
		b->st.malformed++;
		osip_message_free(m);
		return;
	}
	if (m) {
		count_msg(b, B2B_RX, buf, len);
		via_received(m, from);
		txl_recv(b->txl, m, from);
		return;
	}
	b->st.malformed++;
	log_warn("sip: malformed message from %s (%zu bytes): %s",
		 netaddr_str((const struct sockaddr *)&from->addr, a, sizeof(a)),
		 len, why);
	if (len < 8 || !strncmp(buf, "SIP/", 4))
		return; /* nobody to answer for a response */
	snprintf(warn, sizeof(warn), "Warning: 399 xrelay \"%s\"\r\n", why);
	if (osip_message_init(&m) != 0)
		return;
	if (sipmsg_osip_parse(m, buf, len) == 0) {
		osip_message_t *r = NULL;

		if (!m->call_id || !m->call_id->number || !m->cseq ||
		    !m->cseq->number || !m->cseq->method || !m->from ||
		    !m->to || osip_list_size(&m->vias) == 0 ||
		    !MSG_IS_REQUEST(m) ||
		    !strcmp(m->sip_method ? m->sip_method : "", "ACK"))
			; /* nothing to address an answer, or no answer */
		else if (strlen(m->cseq->number) > 9 ||
			 m->cseq->number[strspn(m->cseq->number, "0123456789")])
			/* a response copies the CSeq, and one we build must
			 * parse: answer from the text */
			raw_reject(b, buf, len, from, warn);
		else
			r = sipmsg_response(m, reject_status(m), NULL, NULL,
					    warn, NULL, NULL, 0);
		if (r) {
			txl_send_stateless(b->txl, r, from);
			osip_message_free(r);
		}
	} else {
		raw_reject(b, buf, len, from, warn);
	}
	osip_message_free(m);
}

/* ---- life cycle and timers ----------------------------------------------------- */

struct b2bua *b2bua_new(const struct b2bua_cfg *cfg,
			const struct b2bua_deps *deps)
{
	struct b2bua *b = calloc(1, sizeof(*b));
	struct txn_timers tm = { TXN_T1, TXN_T2, TXN_T4 };

	if (!b)
		return NULL;
	sipmsg_init();
	b->cfg = *cfg;
	b->d = *deps;
	b->txl = txl_new(&txl_ops, b);
	if (!b->txl) {
		free(b);
		return NULL;
	}
	if (cfg->t1_ms) {
		tm.t1 = cfg->t1_ms;
		tm.t2 = cfg->t1_ms * 8;
		tm.t4 = cfg->t1_ms * 10;
	}
	txl_set_timers(b->txl, &tm);
	return b;
}

void b2bua_reconfigure(struct b2bua *b, const struct b2bua_cfg *cfg,
		       const struct b2bua_deps *deps)
{
	b->cfg = *cfg;
	b->d = *deps;
}

void b2bua_free(struct b2bua *b)
{
	if (!b)
		return;
	txl_free(b->txl); /* gone callbacks detach every call's transactions */
	while (b->calls) {
		/* A call still up is left to the next start (its journal and
		 * media session stay): only b2bua_shutdown() ends calls. */
		b->calls->ms = NULL;
		call_free(b, b->calls);
	}
	free(b);
}

static void scan_calls(struct b2bua *b, uint64_t now)
{
	struct call *c, *next;

	for (c = b->calls; c; c = next) {
		next = c->next;
		invite_rel1xx_tick(b, c, now);
		if (c->state != CS_UP)
			continue;
		if (c->expire_at_ms && now >= c->expire_at_ms)
			call_end(b, c, "session-timer", "relay", 0, -1);
		else if (c->refresh_at_ms && now >= c->refresh_at_ms)
			indialog_refresh(b, c);
	}
}

void b2bua_tick(struct b2bua *b)
{
	uint64_t now = b2b_now_ms();

	txl_tick(b->txl);
	if (now >= b->next_scan_ms) {
		b->next_scan_ms = now + SCAN_MS;
		scan_calls(b, now);
		registrar_expire(b->d.reg, now);
	}
}

int b2bua_timeout_ms(const struct b2bua *b)
{
	uint64_t now = b2b_now_ms();
	int t = txl_timeout_ms(b->txl);
	int s = b->next_scan_ms > now ? (int)(b->next_scan_ms - now) : 0;

	return t < 0 || s < t ? s : t;
}

void b2bua_media_idle(void *arg, struct media_session *s)
{
	struct b2bua *b = arg;
	struct leg *l;

	if (!b->cfg.media_timeout_ms)
		return;
	l = leg_find(b, media_session_id(s), NULL);
	if (l && l->call->state == CS_UP) {
		log_info("call %s: no media for %u ms, ending it",
			 l->call_id, b->cfg.media_timeout_ms);
		call_end(b, l->call, "media-timeout", "relay", 0, -1);
	}
}

void b2bua_shutdown(struct b2bua *b)
{
	struct call *c, *next;

	for (c = b->calls; c; c = next) {
		next = c->next;
		call_end(b, c, "shutdown", "relay", 503, -1);
	}
}

int b2bua_end_call(struct b2bua *b, const char *call_id)
{
	struct call *c;

	for (c = b->calls; c; c = c->next) {
		if (c->state == CS_ENDING)
			continue;
		if (!strcmp(c->leg[0].call_id, call_id) ||
		    !strcmp(c->leg[1].call_id, call_id)) {
			call_end(b, c, "admin", "relay", 503, -1);
			return 0;
		}
	}
	return -ENOENT;
}

void b2bua_foreach_call(struct b2bua *b,
			int (*cb)(const struct b2bua_call_info *ci, void *arg),
			void *arg)
{
	static const enum call_phase phase[] = {
		[CS_TRYING] = CALL_SETUP, [CS_EARLY] = CALL_EARLY,
		[CS_ANSWERED] = CALL_UP, [CS_UP] = CALL_UP,
		[CS_ENDING] = CALL_ENDING,
	};
	struct b2bua_call_info ci;
	struct call *c;

	for (c = b->calls; c; c = c->next) {
		memset(&ci, 0, sizeof(ci));
		snprintf(ci.call_id_a, sizeof(ci.call_id_a), "%s", c->leg[0].call_id);
		snprintf(ci.call_id_b, sizeof(ci.call_id_b), "%s", c->leg[1].call_id);
		snprintf(ci.from, sizeof(ci.from), "%s", c->from);
		snprintf(ci.to, sizeof(ci.to), "%s", c->to);
		snprintf(ci.media_id, sizeof(ci.media_id), "%s", c->leg[1].call_id);
		ci.phase = phase[c->state];
		ci.start_us = c->start_us;
		ci.answer_us = c->answer_us;
		if (cb(&ci, arg))
			return;
	}
}

void b2bua_stats(const struct b2bua *b, struct b2bua_stats *out)
{
	struct txl_stats ts;

	*out = b->st;
	out->calls_active = b->ncalls;
	txl_stats(b->txl, &ts);
	out->retransmissions = ts.retransmissions;
	out->retrans_absorbed = ts.absorbed;
	out->txn_timeouts = ts.timeouts;
	out->txns_active = ts.active;
}
