/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The B2BUA: every call is two dialogs, leg A (xrelay is the UAS) and leg B
 * (xrelay is the UAC), each with its own Call-ID, tags, CSeq space, route
 * set and remote target. Nothing of one leg's Via, Record-Route, Contact,
 * Call-ID or tags reaches the other; only the configured pass-through
 * headers and the SDP (rewritten by the media engine) cross.
 *
 * It runs in the daemon's loop: the transport hands it messages, the loop
 * calls b2bua_tick() when b2bua_timeout_ms() says so.
 */
#ifndef XRELAY_B2BUA_H
#define XRELAY_B2BUA_H

#include <stddef.h>
#include <stdint.h>

#include "sip_peer.h"

struct media_engine;
struct media_session;
struct sip_transport;
struct registrar;
struct routes;
struct auth;
struct cdr_writer;
struct hep;

struct b2bua_cfg {
	char domain[128];              /* ours: requests to it are routed by
					  the registrar */
	char *const *pass_headers;     /* copied across legs; "X-*" = prefix */
	int npass;
	uint32_t max_calls;            /* 0: no limit */
	uint32_t max_call_rate;        /* new calls/s (token bucket); 0: none */
	uint32_t retry_after_s;
	uint32_t media_timeout_ms;     /* 0: never end a call for idle media */
	uint32_t session_expires_s;    /* 0: no session timer */
	uint32_t min_se_s;
	uint32_t reg_min_expires_s, reg_max_expires_s;
	uint32_t max_forwards;         /* cap for the B leg */
	uint32_t t1_ms;                /* 0: 500; tests shrink it */
	char state_dir[256];           /* call journal; "": none */
};

struct b2bua_deps {                    /* what it drives; not owned */
	struct sip_transport *tp;
	struct media_engine *me;
	struct registrar *reg;
	struct routes *rt;
	struct auth *auth;             /* NULL: no authentication */
	struct cdr_writer *cdr;        /* NULL: no CDRs */
	struct hep *hep;               /* NULL: no SIP capture (sip/hep.h) */
	/* Tests: where messages go instead of the transport (NULL: tp). */
	int (*send)(void *ctx, const struct sip_peer *to, const char *buf,
		    size_t len);
	void *send_ctx;
};

struct b2bua;

struct b2bua *b2bua_new(const struct b2bua_cfg *cfg,
			const struct b2bua_deps *deps);
/* Frees the B2BUA's state; calls still up keep their journal files and
 * media sessions for the next start (b2bua_shutdown() ends them first). */
void b2bua_free(struct b2bua *b);
/* Swap what reload changes (routes, users, limits); calls go on. */
void b2bua_reconfigure(struct b2bua *b, const struct b2bua_cfg *cfg,
		       const struct b2bua_deps *deps);

/* The transport's message callback (ctx is the b2bua). */
void b2bua_on_message(void *ctx, const char *buf, size_t len,
		      const struct sip_peer *from);
void b2bua_tick(struct b2bua *b);
int b2bua_timeout_ms(const struct b2bua *b);
/* The media engine's idle callback (arg is the b2bua). */
void b2bua_media_idle(void *arg, struct media_session *s);

/* After a crash: take back the calls journalled in cfg.state_dir (those
 * whose CDR line is already at the end of cdr_path ended just before it),
 * and release the media sessions of calls that died in set-up. Call once,
 * after the media engine adopted its sessions. Returns how many. */
int b2bua_adopt(struct b2bua *b, const char *cdr_path);

/* End every call with BYE on both legs (a clean stop). */
void b2bua_shutdown(struct b2bua *b);
/* End one call (by either leg's Call-ID); -ENOENT if none. */
int b2bua_end_call(struct b2bua *b, const char *call_id);

enum call_phase { CALL_SETUP, CALL_EARLY, CALL_UP, CALL_ENDING };

struct b2bua_call_info {
	char call_id_a[128], call_id_b[128];
	char from[256], to[256];
	enum call_phase phase;
	uint64_t start_us, answer_us;   /* wall clock; answer 0: not yet */
	char media_id[128];             /* the media engine's session id */
};
void b2bua_foreach_call(struct b2bua *b,
			int (*cb)(const struct b2bua_call_info *ci, void *arg),
			void *arg);

/* The methods counted by name; the rest are B2B_M_OTHER. */
enum b2bua_method {
	B2B_M_INVITE, B2B_M_ACK, B2B_M_CANCEL, B2B_M_BYE, B2B_M_OPTIONS,
	B2B_M_UPDATE, B2B_M_PRACK, B2B_M_INFO, B2B_M_MESSAGE, B2B_M_NOTIFY,
	B2B_M_REGISTER, B2B_M_SUBSCRIBE, B2B_M_REFER, B2B_M_PUBLISH,
	B2B_M_OTHER, B2B_NMETHODS
};
/* "INVITE", ... "other". */
const char *b2bua_method_name(unsigned m);

#define B2B_CODE_MIN 100
#define B2B_NCODES 600                  /* status codes 100-699 */
enum { B2B_RX = 0, B2B_TX = 1 };

struct b2bua_stats {
	uint64_t calls_active, calls_total;
	uint64_t calls_answered, calls_failed, calls_rejected_limit;
	uint64_t calls_cancelled;        /* by the caller before an answer */
	/* Messages on the wire, retransmissions included: requests by
	 * method, responses by status code (index code - B2B_CODE_MIN). */
	uint64_t requests[2][B2B_NMETHODS];     /* [B2B_RX or B2B_TX] */
	uint64_t responses[2][B2B_NCODES];
	uint64_t malformed;
	/* The transaction layer's (sip/txn.h txl_stats). */
	uint64_t retransmissions, retrans_absorbed, txn_timeouts;
	uint64_t txns_active;
};
void b2bua_stats(const struct b2bua *b, struct b2bua_stats *out);

#endif
