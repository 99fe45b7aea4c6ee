/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The B2BUA's model, shared by its files:
 *   b2bua.c     dispatch of what arrives, out-of-dialog requests, timers
 *   call.c      the call table, legs, building requests on a leg, ending
 *   invite.c    the initial INVITE from leg A to leg B and its responses
 *   indialog.c  BYE, re-INVITE, UPDATE, INFO... relayed between the legs
 *   register.c  REGISTER and authentication
 */
#ifndef XRELAY_B2BUA_INTERNAL_H
#define XRELAY_B2BUA_INTERNAL_H

#include <osipparser2/osip_parser.h>

#include "b2bua.h"
#include "cdr.h"
#include "registrar.h"
#include "sipmsg.h"
#include "txn.h"

#define LEG_A 0
#define LEG_B 1
#define CALL_BUCKETS 65536
#define MAX_RELAYS 4

struct call;

struct leg {
	struct call *call;
	int side;                        /* LEG_A or LEG_B */
	struct leg *hnext;               /* call table chain (by Call-ID) */
	char call_id[128];
	char local_tag[24];
	char local_hdr[512];             /* our From (B) / To (A), with tag */
	char remote_hdr[512];            /* theirs, with tag once known */
	uint32_t local_cseq, remote_cseq;
	char target[256];                /* remote target (their Contact) */
	char routes[1024];               /* "Route: ...\r\n" lines */
	struct sip_peer peer;            /* where this leg's requests go */
	struct sockaddr_storage me;      /* our address toward the peer */
	int rel100, update, timer;       /* what the peer supports */
	uint32_t rseq;                   /* A: our RSeq for reliable 1xx */
	osip_message_t *ack;             /* our last ACK of a re-INVITE's 2xx
					    on this leg, for its resends */
};

/* A request from one leg relayed as a new request on the other. */
struct relay {
	struct sip_txn *st;              /* the server transaction (from) */
	struct sip_txn *ct;              /* the client transaction (to) */
	int from;                        /* side the request came from */
	int invite, late;                /* re-INVITE; without SDP */
	int await_ack;                   /* 2xx sent to from, ACK pending */
	char *ack_sdp;                   /* late offer: the answer for to */
	uint32_t to_cseq;                /* CSeq of the request on `to` */
};

enum call_state {
	CS_TRYING,       /* INVITE sent on B, no answer yet */
	CS_EARLY,        /* 1xx with a tag from B */
	CS_ANSWERED,     /* 2xx relayed to A, waiting for A's ACK */
	CS_UP,           /* confirmed on both legs */
	CS_ENDING,       /* BYE sent, waiting for its response */
};

struct call {
	struct call *next, *prev;        /* all calls */
	struct leg leg[2];
	enum call_state state;
	struct media_session *ms;
	struct sip_txn *inv_a;           /* A's INVITE server transaction */
	struct sip_txn *inv_b;           /* our INVITE client transaction */
	struct sip_txn *bye[2];          /* BYE we sent on a leg */
	struct relay relay[MAX_RELAYS];
	int late_offer;                  /* A's INVITE had no SDP */
	osip_message_t *b_ok;            /* late offer: B's 2xx, ACK pending */
	int cancelled, cancel_sent, b_got_1xx;
	int a_final;                     /* A's INVITE has its final response */
	int b_final;                     /* B's INVITE has its final response */
	osip_message_t *b_ack;           /* our ACK to B's 2xx, for resends */
	char *early_sdp;                 /* the SDP sent to A in early media */
	/* Serial forking over the callee's registered contacts. */
	struct reg_contact *alts;        /* the contacts not tried yet */
	int nalts, next_alt;
	char *b_sdp;                     /* the offer sent on B, for a retry */
	osip_message_t *rel1xx;          /* reliable 1xx to A awaiting PRACK */
	uint64_t rel1xx_until_ms;        /* give up retransmitting then */
	int journalled;                  /* has a journal file */
	struct sip_txn *txns[16];        /* every transaction it owns */
	int ntxns;
	/* CDR */
	char from[256], to[256];
	uint64_t start_us, answer_us;
	const char *end_reason, *hangup_by;
	int final_status;
	uint64_t refresh_at_ms;          /* session timer: next refresh */
	uint64_t expire_at_ms;           /* 0: none */
};

struct b2bua {
	struct b2bua_cfg cfg;
	struct b2bua_deps d;
	struct sip_txl *txl;
	struct leg *buckets[CALL_BUCKETS];
	struct call *calls;              /* list of every call */
	uint64_t ncalls;
	uint64_t next_scan_ms;
	struct b2bua_stats st;
	double rate_tokens;              /* max_call_rate bucket */
	uint64_t rate_ms;                /* when it was last filled */
};

/* b2bua.c */
uint64_t b2b_now_ms(void);
uint64_t b2b_wall_us(void);
int b2b_respond(struct b2bua *b, struct sip_txn *t, int status,
		const char *to_tag, const char *extra);
int b2b_is_ours(struct b2bua *b, const osip_uri_t *u);
void b2b_pass_headers(struct b2bua *b, const osip_message_t *m,
		      struct sb *out);

/* call.c */
struct call *call_new(struct b2bua *b);
void call_hash(struct b2bua *b, struct leg *l);
/* local_tag NULL: the B leg with that Call-ID (the media session's id). */
struct leg *leg_find(struct b2bua *b, const char *call_id,
		     const char *local_tag);
void call_free(struct b2bua *b, struct call *c);
/* Begin a request on leg l (start line through Contact; the caller adds
 * headers, then calls leg_finish). */
void leg_begin(struct b2bua *b, struct leg *l, struct sb *sb,
	       const char *method, uint32_t cseq, int max_forwards);
void leg_contact(struct b2bua *b, struct leg *l, struct sb *sb);
void leg_finish(struct sb *sb, const char *body, size_t len);
void leg_finish_ct(struct sb *sb, const char *ctype, const char *body,
		   size_t len);
struct sip_txn *leg_send(struct b2bua *b, struct leg *l, struct sb *sb);
void leg_set_remote(struct leg *l, const osip_message_t *m, int reverse_rr);
/* Tear down: BYE the legs that are up, CANCEL/answer the others, delete
 * the media session; the call is freed when nothing is pending. */
void call_end(struct b2bua *b, struct call *c, const char *reason,
	      const char *by, int status, int skip);
void call_finish(struct b2bua *b, struct call *c);
void call_bye(struct b2bua *b, struct call *c, int side);
/* CANCEL B's INVITE (once; only after a provisional response, 9.1). */
void call_cancel_b(struct b2bua *b, struct call *c);
void call_drop_txn(struct call *c, struct sip_txn *t);
void call_track(struct call *c, struct sip_txn *t);
void leg_ack(struct b2bua *b, struct leg *l, uint32_t cseq, const char *sdp,
	     size_t len, osip_message_t **keep);

/* invite.c */
void invite_new(struct b2bua *b, struct sip_txn *t, osip_message_t *m,
		const struct sip_peer *from);
void invite_response(struct b2bua *b, struct call *c, osip_message_t *r);
void invite_cancel(struct b2bua *b, struct sip_txn *t, osip_message_t *m);
void invite_ack(struct b2bua *b, struct call *c, osip_message_t *m);
void invite_timeout(struct b2bua *b, struct call *c, struct sip_txn *t);
/* RFC 3262: resend the reliable 1xx until A PRACKs it. */
void invite_rel1xx_tick(struct b2bua *b, struct call *c, uint64_t now);
void invite_prack(struct b2bua *b, struct call *c, const osip_message_t *m);
void call_session_timer(struct b2bua *b, struct call *c);
int media_rewrite(struct b2bua *b, struct call *c, int from, int answer,
		  const osip_message_t *m, char **out, int *status);

/* indialog.c */
void indialog_request(struct b2bua *b, struct leg *l, struct sip_txn *t,
		      osip_message_t *m);
void indialog_response(struct b2bua *b, struct call *c, struct sip_txn *t,
		       osip_message_t *r);
void indialog_ack(struct b2bua *b, struct leg *l, osip_message_t *m);
void indialog_refresh(struct b2bua *b, struct call *c);

/* call_journal.c */
void call_journal_write(struct b2bua *b, struct call *c);
void call_journal_remove(struct b2bua *b, struct call *c);

/* register.c */
void register_request(struct b2bua *b, struct sip_txn *t, osip_message_t *m,
		      const struct sip_peer *from);
/* 0: go on; 1: challenged or refused (answered here). */
int auth_request(struct b2bua *b, struct sip_txn *t, osip_message_t *m,
		 int proxy);

#endif
