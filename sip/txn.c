// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * RFC 3261 section 17 transactions with RFC 6026's Accepted states.
 *
 * A transaction runs at most two timers at once: a retransmission timer
 * (A, E, G, or the 2xx retransmission of an INVITE server transaction in
 * Accepted) and a lifetime timer (B, D, F, H, I, J, K, L or M). The earlier
 * of the two places the transaction in one binary min-heap, so
 * txl_timeout_ms() is O(1) and each timer fired costs O(log n).
 *
 * Transactions are found by key in a chained hash table: the client key is
 * (branch, CSeq method), the server key (branch, sent-by, method) with ACK
 * folded onto INVITE (RFC 3261 17.1.3, 17.2.3). A second table indexes the
 * INVITE server transactions in Accepted by (Call-ID, From tag, CSeq
 * number), because the ACK of a 2xx carries a branch of its own.
 *
 * Re-entrancy: a transaction is terminated and freed only by txl_tick() or
 * txl_free(). Anything else that ends a transaction (Timer K of zero on a
 * reliable transport, say) sets its lifetime timer to "now", and the next
 * tick ends it. So txl_recv(), txl_request() and txl_respond() never free a
 * transaction, and a callback may call any of them, on any transaction;
 * txl_tick() from inside a callback does nothing (txl_timeout_ms() then
 * says 0, so the owner's loop ticks again). txl_free() must not be called
 * from a callback.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "htab.h"
#include "txn.h"

#define NEVER   UINT64_MAX
#define NO_SLOT SIZE_MAX
#define MAGIC   "z9hG4bK" /* RFC 3261 8.1.1.7 branch cookie */
/* Timer D: "at least 32 s" on unreliable transports (RFC 3261 17.1.1.2). */
#define TIMER_D_MIN 32000
/* ICT in Proceeding: RFC 3261 16.6's Timer C, "greater than 3 minutes". */
#define TIMER_C 181000

struct sip_txn {
	struct sip_txl *l;
	enum txn_kind kind;
	enum txn_state state;
	osip_message_t *req;
	struct sip_peer peer;
	void *owner;
	struct hnode by_key;	/* in l->txns while not terminated */
	struct hnode by_dialog;	/* IST in Accepted: in l->dialogs */
	/* Bytes to resend: the request of a client transaction, the last
	 * response of a server transaction. */
	char *out;
	size_t out_len;
	char *ack;		/* ICT: the ACK of a non-2xx final */
	size_t ack_len;
	uint64_t retx_at, end_at;
	uint32_t retx_iv;
	size_t slot;		/* index in l->heap, NO_SLOT if none */
	int acked;		/* IST Accepted: the ACK of the 2xx came */
	struct sip_txn *dead_next; /* txl_free's list */
};

struct sip_txl {
	struct txl_ops ops;
	void *ctx;
	struct txn_timers tm;
	struct htab txns, dialogs;
	struct sip_txn **heap;
	size_t heap_n, heap_cap;
	size_t ntxn;		/* allocated: bounds the heap */
	unsigned depth;		/* > 0 while a callback runs */
	struct txl_stats st;
};

/* ---- keys ---------------------------------------------------------------- */

/* Parts joined by '\n', which no parsed header value can contain; a NULL
 * part counts as empty. */
static char *key_join(const char *const *part, size_t n)
{
	size_t len = 1;
	char *k, *p;

	for (size_t i = 0; i < n; i++)
		len += (part[i] ? strlen(part[i]) : 0) + 1;
	k = malloc(len);
	if (!k)
		return NULL;
	p = k;
	for (size_t i = 0; i < n; i++) {
		size_t m = part[i] ? strlen(part[i]) : 0;

		memcpy(p, part[i] ? part[i] : "", m);
		p += m;
		*p++ = '\n';
	}
	*p = '\0';
	return k;
}

#define KEY(...) key_join((const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

/* osip's param getters take non-const lists; this one reads only. */
static const char *param(const osip_list_t *params, const char *name)
{
	int n = osip_list_size(params);

	for (int i = 0; i < n; i++) {
		const osip_generic_param_t *p = osip_list_get(params, i);

		if (p && p->gname && strcasecmp(p->gname, name) == 0)
			return p->gvalue ? p->gvalue : "";
	}
	return NULL;
}

static const osip_via_t *top_via(const osip_message_t *m)
{
	return osip_list_get(&m->vias, 0);
}

static const char *via_branch(const osip_via_t *v)
{
	return v ? param(&v->via_params, "branch") : NULL;
}

static int is_magic(const char *branch)
{
	return branch && strncmp(branch, MAGIC, strlen(MAGIC)) == 0;
}

static const char *from_tag(const osip_message_t *m)
{
	return m->from ? param(&m->from->gen_params, "tag") : NULL;
}

static int is_method(const osip_message_t *m, const char *method)
{
	return m->sip_method && strcmp(m->sip_method, method) == 0;
}

/* What every request needs before we keep state for it. */
static int request_ok(const osip_message_t *m)
{
	const osip_via_t *v = top_via(m);

	return MSG_IS_REQUEST(m) && m->sip_method && m->req_uri && v &&
	       v->host && m->cseq && m->cseq->method && m->cseq->number &&
	       m->call_id && m->call_id->number && m->from;
}

/* What a response needs before anyone looks at it: even a stray one goes
 * to the TU, which may read these. */
static int response_ok(const osip_message_t *m)
{
	return MSG_IS_RESPONSE(m) && top_via(m) && m->cseq &&
	       m->cseq->method && m->cseq->number && m->call_id &&
	       m->call_id->number && m->from && m->to;
}

/* RFC 3261 17.1.3: top Via branch and CSeq method. */
static char *client_key(const osip_message_t *m)
{
	const char *br = via_branch(top_via(m));

	if (!br || !m->cseq || !m->cseq->method)
		return NULL;
	return KEY("c", br, m->cseq->method);
}

/*
 * RFC 3261 17.2.3: top Via branch, sent-by and method, where an ACK
 * matches its INVITE (method may force one, for CANCEL lookups). Without
 * the magic cookie (RFC 2543 peers) a simpler identity stands in: Call-ID,
 * CSeq number, From tag and the whole top Via.
 */
static char *server_key(const osip_message_t *m, const char *method)
{
	const osip_via_t *v = top_via(m);
	const char *br = via_branch(v);

	if (!method)
		method = is_method(m, "ACK") ? "INVITE" : m->sip_method;
	if (is_magic(br))
		return KEY("s", br, v->host, v->port, method);
	return KEY("o", m->call_id->number, m->call_id->host, m->cseq->number,
		   from_tag(m), v->host, v->port, br, method);
}

/* How the ACK of a 2xx finds its INVITE server transaction. */
static char *dialog_key(const osip_message_t *m)
{
	return KEY("d", m->call_id->number, m->call_id->host, from_tag(m),
		   m->cseq->number);
}

/* ---- indexes ------------------------------------------------------------ */

/* Out of the index, and the key (which the transaction owns) freed. */
static void unindex(struct htab *h, struct hnode *e)
{
	char *key = e->key;

	htab_del(h, e);
	free(key);
}

/* The transaction with this key, if any; frees the key. */
static struct sip_txn *find(const struct htab *h, char *key, int dialog)
{
	struct hnode *e = key ? htab_find(h, key) : NULL;

	free(key);
	if (!e)
		return NULL;
	return dialog ? container_of(e, struct sip_txn, by_dialog)
		      : container_of(e, struct sip_txn, by_key);
}

/* ---- timer heap ---------------------------------------------------------- */

static uint64_t due(const struct sip_txn *t)
{
	return t->retx_at < t->end_at ? t->retx_at : t->end_at;
}

static void heap_set(struct sip_txl *l, size_t i, struct sip_txn *t)
{
	l->heap[i] = t;
	t->slot = i;
}

static void heap_up(struct sip_txl *l, size_t i)
{
	struct sip_txn *t = l->heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (due(l->heap[p]) <= due(t))
			break;
		heap_set(l, i, l->heap[p]);
		i = p;
	}
	heap_set(l, i, t);
}

static void heap_down(struct sip_txl *l, size_t i)
{
	struct sip_txn *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->heap_n)
			break;
		if (c + 1 < l->heap_n && due(l->heap[c + 1]) < due(l->heap[c]))
			c++;
		if (due(t) <= due(l->heap[c]))
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

static void heap_remove(struct sip_txl *l, struct sip_txn *t)
{
	size_t i = t->slot;
	struct sip_txn *last;

	if (i == NO_SLOT)
		return;
	t->slot = NO_SLOT;
	if (i == --l->heap_n)
		return;
	last = l->heap[l->heap_n];
	heap_set(l, i, last);
	heap_up(l, i);
	heap_down(l, last->slot);
}

/* Re-sorts t after one of its deadlines changed. The heap has room for
 * every allocated transaction (txn_new reserves it), so this cannot fail. */
static void heap_fix(struct sip_txl *l, struct sip_txn *t)
{
	if (due(t) == NEVER) {
		heap_remove(l, t);
		return;
	}
	if (t->slot == NO_SLOT) {
		heap_set(l, l->heap_n++, t);
		heap_up(l, t->slot);
		return;
	}
	heap_up(l, t->slot);
	heap_down(l, t->slot);
}

static int heap_reserve(struct sip_txl *l, size_t n)
{
	struct sip_txn **h;
	size_t cap;

	if (n <= l->heap_cap)
		return 0;
	cap = l->heap_cap ? l->heap_cap * 2 : 64;
	h = realloc(l->heap, cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	l->heap = h;
	l->heap_cap = cap;
	return 0;
}

/* ---- per-transaction timers ---------------------------------------------- */

static uint64_t now(const struct sip_txl *l)
{
	return l->ops.now_ms(l->ctx);
}

static uint64_t t1x64(const struct sip_txl *l)
{
	return 64 * (uint64_t)l->tm.t1;
}

static void retx_start(struct sip_txn *t, uint32_t iv)
{
	t->retx_iv = iv;
	t->retx_at = now(t->l) + iv;
	heap_fix(t->l, t);
}

static void retx_stop(struct sip_txn *t)
{
	t->retx_at = NEVER;
	heap_fix(t->l, t);
}

/* A lifetime of 0 ends the transaction at the next tick. */
static void end_in(struct sip_txn *t, uint64_t ms)
{
	t->end_at = now(t->l) + ms;
	heap_fix(t->l, t);
}

/* Timers D, I, J and K: a wait on unreliable transports only. */
static uint64_t linger(const struct sip_txn *t, uint64_t ms)
{
	return sip_peer_reliable(&t->peer) ? 0 : ms;
}

/* ---- wire and callbacks -------------------------------------------------- */

static int wire(struct sip_txl *l, const struct sip_peer *to, const char *buf,
		size_t len)
{
	int rc;

	l->depth++;
	rc = l->ops.send(l->ctx, to, buf, len);
	l->depth--;
	return rc;
}

static int serialize(osip_message_t *m, char **buf, size_t *len)
{
	*buf = NULL;
	if (osip_message_to_str(m, buf, len) != 0 || !*buf) {
		osip_free(*buf);
		*buf = NULL;
		return -EINVAL;
	}
	return 0;
}

static void cb_request(struct sip_txl *l, struct sip_txn *t,
		       osip_message_t *m, const struct sip_peer *from)
{
	if (!l->ops.request)
		return;
	l->depth++;
	l->ops.request(l->ctx, t, m, from);
	l->depth--;
}

static void cb_response(struct sip_txl *l, struct sip_txn *t,
			osip_message_t *m)
{
	if (!l->ops.response)
		return;
	l->depth++;
	l->ops.response(l->ctx, t, m);
	l->depth--;
}

static void cb_stray(struct sip_txl *l, osip_message_t *m,
		     const struct sip_peer *from)
{
	if (!l->ops.stray_response)
		return;
	l->depth++;
	l->ops.stray_response(l->ctx, m, from);
	l->depth--;
}

static void cb_timeout(struct sip_txl *l, struct sip_txn *t)
{
	l->st.timeouts++;
	if (!l->ops.timeout)
		return;
	l->depth++;
	l->ops.timeout(l->ctx, t);
	l->depth--;
}

/* ---- life cycle ---------------------------------------------------------- */

/* Takes req (also on failure). */
static struct sip_txn *txn_new(struct sip_txl *l, enum txn_kind kind,
			       osip_message_t *req, const struct sip_peer *peer)
{
	struct sip_txn *t;

	if (heap_reserve(l, l->ntxn + 1) || !(t = calloc(1, sizeof(*t)))) {
		osip_message_free(req);
		return NULL;
	}
	t->l = l;
	t->kind = kind;
	t->req = req;
	t->peer = *peer;
	t->retx_at = t->end_at = NEVER;
	t->slot = NO_SLOT;
	l->ntxn++;
	return t;
}

static void txn_destroy(struct sip_txn *t)
{
	t->l->ntxn--;
	osip_message_free(t->req);
	osip_free(t->out);
	osip_free(t->ack);
	free(t);
}

/* Out of every index: nothing matches it and no timer fires for it. */
static void finish(struct sip_txn *t)
{
	struct sip_txl *l = t->l;

	if (t->state == TXS_TERMINATED)
		return;
	t->state = TXS_TERMINATED;
	heap_remove(l, t);
	unindex(&l->txns, &t->by_key);
	unindex(&l->dialogs, &t->by_dialog);
	l->st.active--;
}

/* The last thing that happens to a transaction. */
static void reap(struct sip_txn *t)
{
	struct sip_txl *l = t->l;

	finish(t);
	if (l->ops.gone) {
		l->depth++;
		l->ops.gone(l->ctx, t);
		l->depth--;
	}
	txn_destroy(t);
}

/* ---- client transactions ------------------------------------------------- */

/* RFC 3261 17.1.1.3: the ACK of a non-2xx final, built from the INVITE and
 * the response's To (with its tag). */
static osip_message_t *build_ack(const osip_message_t *inv,
				 const osip_message_t *resp)
{
	osip_message_t *a;
	osip_via_t *v;
	osip_header_t *mf = NULL;
	int n = osip_list_size(&inv->routes);

	if (osip_message_init(&a) != 0)
		return NULL;
	osip_message_set_method(a, osip_strdup("ACK"));
	osip_message_set_version(a, osip_strdup("SIP/2.0"));
	if (osip_uri_clone(inv->req_uri, &a->req_uri) != 0 ||
	    osip_via_clone(top_via(inv), &v) != 0)
		goto fail;
	osip_list_add(&a->vias, v, -1); /* the top Via only */
	if (osip_call_id_clone(inv->call_id, &a->call_id) != 0 ||
	    osip_from_clone(inv->from, &a->from) != 0 ||
	    osip_to_clone(resp->to, &a->to) != 0 ||
	    osip_cseq_init(&a->cseq) != 0)
		goto fail;
	osip_cseq_set_number(a->cseq, osip_strdup(inv->cseq->number));
	osip_cseq_set_method(a->cseq, osip_strdup("ACK"));
	for (int i = 0; i < n; i++) {
		osip_route_t *r;

		if (osip_from_clone(osip_list_get(&inv->routes, i), &r) != 0)
			goto fail;
		osip_list_add(&a->routes, r, -1);
	}
	/* RFC 3261 8.1.1.6: every request carries Max-Forwards. */
	osip_message_get_max_forwards(inv, 0, &mf);
	osip_message_set_max_forwards(a, mf && mf->hvalue ? mf->hvalue : "70");
	return a;
fail:
	osip_message_free(a);
	return NULL;
}

/* Calling/Proceeding -> Completed: ACK (re-sent on every retransmission of
 * the final), wait Timer D for those retransmissions. */
static void ict_complete(struct sip_txn *t, const osip_message_t *resp)
{
	struct sip_txl *l = t->l;
	uint64_t d = t1x64(l) > TIMER_D_MIN ? t1x64(l) : TIMER_D_MIN;
	osip_message_t *ack = build_ack(t->req, resp);

	t->state = TXS_COMPLETED;
	retx_stop(t);
	end_in(t, linger(t, d));
	if (!ack || serialize(ack, &t->ack, &t->ack_len) != 0 ||
	    wire(l, &t->peer, t->ack, t->ack_len) < 0) {
		/* The final still goes up, so the TU has its answer; no
		 * timeout, just no waiting for retransmissions we cannot
		 * answer. */
		end_in(t, 0);
	}
	osip_message_free(ack);
}

static void ict_response(struct sip_txn *t, osip_message_t *m,
			 const struct sip_peer *from)
{
	struct sip_txl *l = t->l;
	int code = m->status_code;

	switch (t->state) {
	case TXS_CALLING:
	case TXS_PROCEEDING:
		retx_stop(t);
		if (code < 200) {
			/* Timer B only guards Calling (17.1.1.2): a call may
			 * ring for minutes. Timer C, restarted by every
			 * provisional, still frees an INVITE whose final
			 * never comes, as the TU has no other way to. */
			t->state = TXS_PROCEEDING;
			end_in(t, TIMER_C);
		} else if (code < 300) {
			t->state = TXS_ACCEPTED;
			end_in(t, t1x64(l)); /* Timer M */
		} else {
			ict_complete(t, m);
		}
		cb_response(l, t, m);
		break;
	case TXS_ACCEPTED:
		/* RFC 6026 7.2: every 2xx goes up, so the TU ACKs each. */
		if (code >= 200 && code < 300)
			cb_response(l, t, m);
		break;
	case TXS_COMPLETED:
		if (code >= 300) {
			l->st.absorbed++;
			if (t->ack && wire(l, &t->peer, t->ack, t->ack_len) >= 0)
				l->st.retransmissions++;
		} else if (code >= 200) {
			/* A 2xx of another fork after our failure: the TU
			 * must still ACK and BYE it. */
			cb_stray(l, m, from);
		}
		break;
	default:
		break;
	}
}

static void nict_response(struct sip_txn *t, osip_message_t *m)
{
	struct sip_txl *l = t->l;

	switch (t->state) {
	case TXS_TRYING:
	case TXS_PROCEEDING:
		if (m->status_code < 200) {
			t->state = TXS_PROCEEDING;
		} else {
			t->state = TXS_COMPLETED;
			retx_stop(t);
			end_in(t, linger(t, l->tm.t4)); /* Timer K */
		}
		cb_response(l, t, m);
		break;
	case TXS_COMPLETED:
		if (m->status_code >= 200)
			l->st.absorbed++;
		break;
	default:
		break;
	}
}

static void recv_response(struct sip_txl *l, osip_message_t *m,
			  const struct sip_peer *from)
{
	struct sip_txn *t;

	if (!response_ok(m))
		return;
	t = find(&l->txns, client_key(m), 0);
	if (!t)
		cb_stray(l, m, from);
	else if (t->kind == TXN_ICT)
		ict_response(t, m, from);
	else
		nict_response(t, m);
}

/* ---- server transactions ------------------------------------------------- */

/* The ACK of our 2xx came: stop retransmitting, but stay in Accepted until
 * Timer L so that INVITE retransmissions are still absorbed (RFC 6026). */
static void ist_acked(struct sip_txn *t)
{
	t->acked = 1;
	retx_stop(t);
}

static void recv_ack(struct sip_txl *l, osip_message_t *m,
		     const struct sip_peer *from)
{
	struct sip_txn *t = find(&l->txns, server_key(m, NULL), 0);

	if (t && t->kind == TXN_IST) {
		switch (t->state) {
		case TXS_COMPLETED:	/* ACK of our non-2xx: ours alone */
			t->state = TXS_CONFIRMED;
			retx_stop(t);
			end_in(t, linger(t, l->tm.t4)); /* Timer I */
			osip_message_free(m);
			return;
		case TXS_ACCEPTED:	/* same branch as the INVITE: RFC 2543 */
			ist_acked(t);
			break;
		case TXS_CONFIRMED:
			l->st.absorbed++;
			/* fall through */
		default:		/* an ACK before any final: nonsense */
			osip_message_free(m);
			return;
		}
	} else {
		t = find(&l->dialogs, dialog_key(m), 1);
		if (t && t->state == TXS_ACCEPTED)
			ist_acked(t);
	}
	/* The ACK of a 2xx belongs to the dialog, not to a transaction. */
	cb_request(l, NULL, m, from);
	osip_message_free(m);
}

/* A request that matches a server transaction: the response again. */
static void absorb(struct sip_txl *l, struct sip_txn *t)
{
	l->st.absorbed++;
	if (t->out && wire(l, &t->peer, t->out, t->out_len) >= 0)
		l->st.retransmissions++;
}

static void recv_request(struct sip_txl *l, osip_message_t *m,
			 const struct sip_peer *from)
{
	struct sip_txn *t;
	struct hnode *e;
	char *key;

	if (!request_ok(m)) {
		osip_message_free(m);
		return;
	}
	if (is_method(m, "ACK")) {
		recv_ack(l, m, from);
		return;
	}
	key = server_key(m, NULL);
	e = key ? htab_find(&l->txns, key) : NULL;
	if (!key || e) {
		free(key);
		if (e)
			absorb(l, container_of(e, struct sip_txn, by_key));
		osip_message_free(m);
		return;
	}
	t = txn_new(l, is_method(m, "INVITE") ? TXN_IST : TXN_NIST, m, from);
	if (!t) {
		free(key);
		return;
	}
	t->state = t->kind == TXN_IST ? TXS_PROCEEDING : TXS_TRYING;
	htab_add(&l->txns, &t->by_key, key);
	l->st.active++;
	cb_request(l, t, m, from);
}

/* The state a response moves a server transaction to (-1: not allowed). */
static int server_next(const struct sip_txn *t, int code)
{
	if (t->kind == TXN_IST) {
		if (t->state == TXS_PROCEEDING)
			return code < 200 ? TXS_PROCEEDING :
			       code < 300 ? TXS_ACCEPTED : TXS_COMPLETED;
		/* RFC 6026 8.5: the TU may pass the 2xx again. */
		if (t->state == TXS_ACCEPTED && code >= 200 && code < 300)
			return TXS_ACCEPTED;
		return -1;
	}
	if (t->state == TXS_TRYING || t->state == TXS_PROCEEDING)
		return code < 200 ? TXS_PROCEEDING : TXS_COMPLETED;
	return -1;
}

/* Enter state s after sending a response from Trying/Proceeding. */
static void server_enter(struct sip_txn *t, enum txn_state s)
{
	struct sip_txl *l = t->l;
	enum txn_state was = t->state;
	char *key;

	t->state = s;
	if (s == TXS_PROCEEDING || was == s)
		return;
	if (t->kind == TXN_NIST) {
		end_in(t, linger(t, t1x64(l))); /* Timer J */
		return;
	}
	if (s == TXS_COMPLETED) {
		/* Timer G on unreliable transports, Timer H on all. */
		if (!sip_peer_reliable(&t->peer))
			retx_start(t, l->tm.t1);
		end_in(t, t1x64(l));
		return;
	}
	/*
	 * Accepted: the 2xx is retransmitted end to end (RFC 3261 13.3.1.4),
	 * also over TCP, because a proxy on the way may forward it over UDP.
	 * Timer L bounds the wait; the ACK is found by dialog.
	 */
	retx_start(t, l->tm.t1);
	end_in(t, t1x64(l));
	key = dialog_key(t->req);
	if (key)	/* else no ACK will stop the 2xx before Timer L */
		htab_add(&l->dialogs, &t->by_dialog, key);
}

/* ---- public API ---------------------------------------------------------- */

struct sip_txl *txl_new(const struct txl_ops *ops, void *ctx)
{
	static int parser_ready;
	struct sip_txl *l;

	if (!ops || !ops->send || !ops->now_ms)
		return NULL;
	if (!parser_ready) {
		parser_init();
		parser_ready = 1;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->ops = *ops;
	l->ctx = ctx;
	l->tm = (struct txn_timers){ TXN_T1, TXN_T2, TXN_T4 };
	if (htab_init(&l->txns, 64) || htab_init(&l->dialogs, 64)) {
		htab_fini(&l->txns);
		free(l);
		return NULL;
	}
	return l;
}

void txl_free(struct sip_txl *l)
{
	if (!l)
		return;
	/* Terminate all first, so that a gone callback touching another of
	 * them finds it terminated; loop in case one made a new one. */
	for (;;) {
		struct sip_txn *dead = NULL;

		for (size_t i = 0; i < l->txns.nb; i++) {
			while (l->txns.b[i]) {
				struct sip_txn *t = container_of(
					l->txns.b[i], struct sip_txn, by_key);

				finish(t);
				t->dead_next = dead;
				dead = t;
			}
		}
		if (!dead)
			break;
		while (dead) {
			struct sip_txn *t = dead;

			dead = t->dead_next;
			reap(t);
		}
	}
	htab_fini(&l->txns);
	htab_fini(&l->dialogs);
	free(l->heap);
	free(l);
}

void txl_set_timers(struct sip_txl *l, const struct txn_timers *t)
{
	l->tm = *t;
	/* Retransmission intervals of 0 would never let txl_tick finish. */
	if (!l->tm.t1)
		l->tm.t1 = 1;
	if (l->tm.t2 < l->tm.t1)
		l->tm.t2 = l->tm.t1;
}

void txl_recv(struct sip_txl *l, osip_message_t *msg,
	      const struct sip_peer *from)
{
	if (!msg)
		return;
	if (MSG_IS_REQUEST(msg)) {
		recv_request(l, msg, from);
		return;
	}
	recv_response(l, msg, from);
	osip_message_free(msg);
}

struct sip_txn *txl_request(struct sip_txl *l, osip_message_t *req,
			    const struct sip_peer *to, void *owner)
{
	struct sip_txn *t;
	char *key;

	if (!req || !request_ok(req) || is_method(req, "ACK") ||
	    !is_magic(via_branch(top_via(req)))) {
		osip_message_free(req);
		return NULL;
	}
	key = client_key(req);
	if (!key || htab_find(&l->txns, key)) { /* the TU reused a branch */
		free(key);
		osip_message_free(req);
		return NULL;
	}
	t = txn_new(l, is_method(req, "INVITE") ? TXN_ICT : TXN_NICT, req, to);
	if (!t) {
		free(key);
		return NULL;
	}
	t->owner = owner;
	/* A send that fails at once is an error to the caller, not a
	 * timeout: the transaction never existed. */
	if (serialize(req, &t->out, &t->out_len) != 0 ||
	    wire(l, to, t->out, t->out_len) < 0) {
		free(key);
		txn_destroy(t);
		return NULL;
	}
	t->state = t->kind == TXN_ICT ? TXS_CALLING : TXS_TRYING;
	htab_add(&l->txns, &t->by_key, key);
	l->st.active++;
	if (!sip_peer_reliable(to))
		retx_start(t, l->tm.t1);	/* Timer A or E */
	end_in(t, t1x64(l));			/* Timer B or F */
	return t;
}

int txl_respond(struct sip_txl *l, struct sip_txn *t, osip_message_t *resp)
{
	char *buf;
	size_t len;
	int next, rc;

	if (!t || t->l != l || !resp || !MSG_IS_RESPONSE(resp) ||
	    resp->status_code < 100 || resp->status_code > 699 ||
	    (t->kind != TXN_IST && t->kind != TXN_NIST) ||
	    (next = server_next(t, resp->status_code)) < 0) {
		osip_message_free(resp);
		return -EINVAL;
	}
	rc = serialize(resp, &buf, &len);
	osip_message_free(resp);
	if (rc)
		return rc;
	osip_free(t->out);
	t->out = buf;
	t->out_len = len;
	/* A failed send leaves the state machine as if it went: Timer G (on
	 * UDP) tries again, Timer H/L/J ends the transaction. */
	rc = wire(l, &t->peer, buf, len);
	server_enter(t, (enum txn_state)next);
	return rc < 0 ? rc : 0;
}

void txn_forget(struct sip_txn *t)
{
	if (t->state != TXS_COMPLETED ||
	    (t->kind != TXN_IST && t->kind != TXN_NIST))
		return;
	if (t->kind == TXN_IST)
		t->state = TXS_CONFIRMED; /* ends quietly, no Timer H */
	retx_stop(t);
	end_in(t, 0);
}

int txl_send_stateless(struct sip_txl *l, osip_message_t *msg,
		       const struct sip_peer *to)
{
	char *buf;
	size_t len;
	int rc;

	if (!msg)
		return -EINVAL;
	rc = serialize(msg, &buf, &len);
	if (rc)
		return rc;
	rc = wire(l, to, buf, len);
	osip_free(buf);
	return rc;
}

struct sip_txn *txl_find_invite(struct sip_txl *l, const osip_message_t *cancel)
{
	struct sip_txn *t;

	if (!cancel || !request_ok(cancel))
		return NULL;
	t = find(&l->txns, server_key(cancel, "INVITE"), 0);
	return t && t->kind == TXN_IST && t->state == TXS_PROCEEDING ? t : NULL;
}

/* A retransmission timer fired: send again, back off. */
static void fire_retx(struct sip_txn *t)
{
	struct sip_txl *l = t->l;
	int client = t->kind == TXN_ICT || t->kind == TXN_NICT;
	uint64_t iv = t->retx_iv;

	if (wire(l, &t->peer, t->out, t->out_len) < 0 && client) {
		/* RFC 3261 17.1.4: a transport error fails the request. */
		finish(t);
		cb_timeout(l, t);
		reap(t);
		return;
	}
	l->st.retransmissions++;
	if (t->kind == TXN_ICT)
		iv *= 2;	/* Timer A: no cap, Timer B ends it */
	else if (t->kind == TXN_NICT && t->state == TXS_PROCEEDING)
		iv = l->tm.t2;
	else
		iv = iv * 2 < l->tm.t2 ? iv * 2 : l->tm.t2;
	retx_start(t, (uint32_t)(iv < t1x64(l) ? iv : t1x64(l)));
}

/* A lifetime timer fired: the transaction ends, in some states with the
 * timeout callback first. */
static void fire_end(struct sip_txn *t)
{
	int timeout;

	switch (t->state) {
	case TXS_CALLING:	/* Timer B */
	case TXS_TRYING:	/* Timer F */
	case TXS_PROCEEDING:	/* Timer F, or our Timer C of an ICT */
		timeout = t->kind == TXN_ICT || t->kind == TXN_NICT;
		break;
	case TXS_COMPLETED:	/* Timer H; D, K and J end quietly */
		timeout = t->kind == TXN_IST;
		break;
	case TXS_ACCEPTED:	/* Timer L without the ACK; M quietly */
		timeout = t->kind == TXN_IST && !t->acked;
		break;
	default:		/* Timer I */
		timeout = 0;
		break;
	}
	finish(t);
	if (timeout)
		cb_timeout(t->l, t);
	reap(t);
}

void txl_tick(struct sip_txl *l)
{
	uint64_t ms;

	/* From a callback the caller may hold t: the owner's loop ticks
	 * again at once, as txl_timeout_ms() says 0. */
	if (l->depth)
		return;
	ms = now(l);
	/* Every fire either ends t (out of the heap) or moves its deadline
	 * past ms, so this loop ends. */
	while (l->heap_n && due(l->heap[0]) <= ms) {
		struct sip_txn *t = l->heap[0];

		if (t->end_at <= ms)
			fire_end(t);
		else
			fire_retx(t);
	}
}

int txl_timeout_ms(const struct sip_txl *l)
{
	uint64_t d, ms;

	if (!l->heap_n)
		return -1;
	d = due(l->heap[0]);
	ms = now(l);
	if (d <= ms)
		return 0;
	return d - ms > INT_MAX ? INT_MAX : (int)(d - ms);
}

void *txn_owner(const struct sip_txn *t) { return t->owner; }
void txn_set_owner(struct sip_txn *t, void *owner) { t->owner = owner; }
enum txn_kind txn_kind(const struct sip_txn *t) { return t->kind; }
enum txn_state txn_state(const struct sip_txn *t) { return t->state; }
osip_message_t *txn_request(const struct sip_txn *t) { return t->req; }
const struct sip_peer *txn_peer(const struct sip_txn *t) { return &t->peer; }

void txl_stats(const struct sip_txl *l, struct txl_stats *out)
{
	*out = l->st;
}
