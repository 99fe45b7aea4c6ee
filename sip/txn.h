/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * RFC 3261 section 17 transactions (with RFC 6026's Accepted states): the
 * four state machines (INVITE client/server, non-INVITE client/server),
 * their matching rules and timers A-K, M and L. The layer owns every
 * retransmission, so the call logic above it sees each request once and
 * each response once per transaction, plus the 2xx retransmissions of an
 * INVITE that it must ACK again.
 *
 * Time comes from ops->now_ms, so tests drive the timers with a fake clock;
 * the owner calls txl_tick() when txl_timeout_ms() says so.
 */
#ifndef XRELAY_TXN_H
#define XRELAY_TXN_H

#include <stdint.h>
#include <osipparser2/osip_parser.h>

#include "sip_peer.h"

/* RFC 3261 timer values (ms). Tests may shrink them via txl_set_timers(). */
struct txn_timers {
	uint32_t t1, t2, t4;
};
#define TXN_T1 500
#define TXN_T2 4000
#define TXN_T4 5000

enum txn_kind { TXN_ICT, TXN_NICT, TXN_IST, TXN_NIST };

enum txn_state {
	TXS_CALLING, TXS_TRYING, TXS_PROCEEDING, TXS_COMPLETED,
	TXS_CONFIRMED, TXS_ACCEPTED, TXS_TERMINATED,
};

struct sip_txn;
struct sip_txl;

struct txl_ops {
	/* Put bytes on the wire; < 0 is a transport error (the client
	 * transaction then fails as on a timeout, RFC 3261 17.1.4). */
	int (*send)(void *ctx, const struct sip_peer *to, const char *buf,
		    size_t len);
	uint64_t (*now_ms)(void *ctx);
	/* A new request: t is its new server transaction (respond through
	 * txl_respond). An ACK to a 2xx arrives here with t = NULL; a CANCEL
	 * gets its own NIST, and txl_find_invite() finds what it cancels.
	 * The callee owns nothing: msg is freed after the call. */
	void (*request)(void *ctx, struct sip_txn *t, osip_message_t *msg,
			const struct sip_peer *from);
	/* A response to a client transaction (each provisional and the final
	 * once; an INVITE's 2xx again on every retransmission, so that the
	 * caller ACKs it again). msg is freed after the call. */
	void (*response)(void *ctx, struct sip_txn *t, osip_message_t *msg);
	/* Timer B/F (no final response) or a transport error on a client
	 * transaction; Timer H (no ACK for a non-2xx final) or Timer L with
	 * no ACK for a 2xx on an INVITE server transaction. */
	void (*timeout)(void *ctx, struct sip_txn *t);
	/* The transaction is about to be freed: drop every pointer to it. */
	void (*gone)(void *ctx, struct sip_txn *t);
	/* A response that matches no client transaction (a stray 2xx of a
	 * forked or restarted INVITE); may be NULL. */
	void (*stray_response)(void *ctx, osip_message_t *msg,
			       const struct sip_peer *from);
};

struct sip_txl *txl_new(const struct txl_ops *ops, void *ctx);
void txl_free(struct sip_txl *l);
void txl_set_timers(struct sip_txl *l, const struct txn_timers *t);

/* A parsed message from the transport. Requests are matched to server
 * transactions (a retransmission gets the last response again and goes no
 * further), responses to client transactions. Takes ownership of msg. */
void txl_recv(struct sip_txl *l, osip_message_t *msg,
	      const struct sip_peer *from);

/* Send a request in a new client transaction (ICT for INVITE, NICT for
 * anything but ACK). The layer adds nothing: the request must carry its
 * Via with a fresh z9hG4bK branch. Takes ownership of req; NULL on error
 * (then nothing was sent and req is freed). */
struct sip_txn *txl_request(struct sip_txl *l, osip_message_t *req,
			    const struct sip_peer *to, void *owner);

/* Respond in a server transaction: 1xx keeps it open, a final response
 * moves it on (an INVITE's 2xx is retransmitted, T1 doubling up to T2,
 * until the ACK arrives or Timer L = 64*T1 fires the timeout callback).
 * Takes ownership of resp. */
int txl_respond(struct sip_txl *l, struct sip_txn *t, osip_message_t *resp);

/*
 * After a final non-2xx response: keep nothing (RFC 3261 8.2.7, a
 * stateless UAS). The response is not retransmitted (Timer G) and the
 * transaction ends at the next tick, so a retransmission of the request
 * is a new request and is answered again, and its ACK goes to the TU as
 * one that matches no transaction. For rejections a flood can cause by
 * the thousand (503 at the call limit, digest challenges and failures):
 * a transaction that waits out Timer H or J holds the parsed request for
 * 32 s. Does nothing in any other state.
 */
void txn_forget(struct sip_txn *t);

/* Send outside any transaction (an ACK to a 2xx, a stateless 400). Does
 * not take ownership. */
int txl_send_stateless(struct sip_txl *l, osip_message_t *msg,
		       const struct sip_peer *to);

/* The INVITE server transaction a CANCEL refers to (same branch, sent-by,
 * RFC 3261 9.2); NULL if none or it has sent its final response. */
struct sip_txn *txl_find_invite(struct sip_txl *l, const osip_message_t *cancel);

/* Fire what is due; ms until the next timer (-1: none). */
void txl_tick(struct sip_txl *l);
int txl_timeout_ms(const struct sip_txl *l);

void *txn_owner(const struct sip_txn *t);
void txn_set_owner(struct sip_txn *t, void *owner);
enum txn_kind txn_kind(const struct sip_txn *t);
enum txn_state txn_state(const struct sip_txn *t);
/* The request that opened the transaction (owned by the transaction). */
osip_message_t *txn_request(const struct sip_txn *t);
const struct sip_peer *txn_peer(const struct sip_txn *t);

/* Counters for metrics. */
struct txl_stats {
	uint64_t retransmissions;   /* requests and responses we resent */
	uint64_t absorbed;          /* retransmissions we received */
	uint64_t timeouts;
	unsigned active;
};
void txl_stats(const struct sip_txl *l, struct txl_stats *out);

#endif
