/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The media engine's public API. It owns the relay's ports and decides what
 * the kernel forwards; it knows nothing of SIP. The B2BUA and the ng
 * listener drive it the same way:
 *
 *   s = media_session_get(me, call_id, 1);
 *   media_leg_hint(me, s, MEDIA_LEG_A, sip_source_of_a);
 *   media_offer(me, s, MEDIA_LEG_A, sdp_from_a, &sdp_for_b, ...);
 *   media_answer(me, s, MEDIA_LEG_B, sdp_from_b, &sdp_for_a, ...);
 *   ... media flows; re-offers from either leg the same way ...
 *   media_session_delete(me, s);
 *
 * The engine runs in the caller's event loop: poll media_engine_fd() for
 * input and call media_engine_run() when it is readable, and at least every
 * media_engine_timeout_ms().
 */
#ifndef XRELAY_MEDIA_H
#define XRELAY_MEDIA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "fastpath.h"
#include "sdp.h"

#define MEDIA_MAX_IFACES 8

enum media_leg { MEDIA_LEG_A = 0, MEDIA_LEG_B = 1 };

/* Which sources a stream may latch onto (RTP Bleed protection). */
enum latch_policy {
	LATCH_HINT = 0, /* the SDP address or the leg's signalling address */
	LATCH_ANY,      /* any source (for unusual NATs); still logged */
};

struct media_iface_cfg {
	char name[16];
	enum attach_mode mode;
	struct sockaddr_storage advertise; /* 1:1 NAT: the public address */
	int has_advertise;
};

struct media_cfg {
	struct media_iface_cfg ifaces[MEDIA_MAX_IFACES];
	int nifaces;
	unsigned port_min, port_max;
	uint32_t quarantine_ms;   /* a freed port pair waits this long */
	uint32_t relatch_idle_ms; /* 0: re-latch only after a new offer/answer */
	uint32_t idle_ms;         /* no media this long: session reported idle */
	uint32_t adopt_grace_ms;  /* kernel flows of unknown sessions: removed after */
	enum latch_policy latch;
	int strict;               /* drop foreign sources in the kernel (default 1) */
	int rtp_stats;            /* RTP statistics per kernel flow (default 1) */
	const char *pin_dir;      /* NULL: XR_PIN_DIR_DEFAULT */
	const char *state_dir;    /* session journal; NULL: none */
	uint32_t max_flows;       /* kernel flow table size; 0: default */
};

/* Defaults for every field (ports 30000-39999, strict, LATCH_HINT, ...). */
void media_cfg_defaults(struct media_cfg *cfg);

struct media_engine;
struct media_session;

int media_engine_new(struct media_engine **out, const struct media_cfg *cfg,
		     char *err, size_t errlen);
/*
 * With cfg.state_dir set, every session with streams is kept in a journal
 * there (a file per session, replaced atomically when it changes, removed
 * when it is deleted), and media_engine_new() rebuilds the sessions it
 * finds: same ports, latched peers, o= versions; their kernel flows, still
 * in the pinned maps, are adopted with their counters. Kernel entries of
 * no known session (journal or not) are removed cfg.adopt_grace_ms after
 * the start; until then their ports are kept out of the pool, and then
 * quarantined. Use a directory on tmpfs (/run/xrelay): the pinned maps do
 * not survive a reboot either (journal files of another boot are
 * discarded).
 */

/* Frees userspace state. Kernel flows and journal files stay (a restart
 * adopts them) unless media_engine_shutdown() was called first. */
void media_engine_free(struct media_engine *me);
/* Remove every session's flows, ports and journal files and detach (a
 * clean stop). */
void media_engine_shutdown(struct media_engine *me);
int media_engine_fd(const struct media_engine *me);
void media_engine_run(struct media_engine *me);
int media_engine_timeout_ms(const struct media_engine *me);

/*
 * Idle sessions, without polling each one: cb(arg, s) is called from
 * media_engine_run() when s has had no media for cfg.idle_ms - no packet
 * from either leg's peer, forwarded in the kernel or in userspace, since
 * its last one (or since it was created, if none came yet; so also while
 * a call rings). Once per idle period: s is reported again only after
 * media resumed and then stopped for idle_ms again. The engine looks about
 * once a second, so a report comes up to a second or so after idle_ms (up
 * to idle_ms / 4 after resumed media stopped again). What to do is the
 * caller's: end the call, or nothing (a call on hold with no RTCP). cb may
 * delete s, and no other session. cb NULL or idle_ms 0: no reports.
 */
void media_engine_set_idle_cb(struct media_engine *me,
			      void (*cb)(void *arg, struct media_session *s),
			      void *arg);

/* Find a session by its id (the call's id); create it when create is set.
 * NULL when absent (or out of memory). */
struct media_session *media_session_get(struct media_engine *me,
					const char *id, int create);
void media_session_delete(struct media_engine *me, struct media_session *s);

/* The address a leg's signalling came from (or goes to): the latching hint
 * and the peer the relay picks its advertised address for. */
void media_leg_hint(struct media_engine *me, struct media_session *s,
		    enum media_leg leg, const struct sockaddr *sig_addr);

/*
 * An SDP body from `from`, rewritten for the other leg into *out (malloc'd,
 * NUL-terminated). An offer (re-)allocates ports for new streams; an answer
 * completes the streams the offer opened. Errors (-EINVAL malformed body,
 * -ENOSPC/-EAGAIN port pool exhausted, -EPROTO answer without an offer)
 * leave the session as it was; err says what and why.
 */
int media_offer(struct media_engine *me, struct media_session *s,
		enum media_leg from, const char *sdp, size_t len, char **out,
		char *err, size_t errlen);
int media_answer(struct media_engine *me, struct media_session *s,
		 enum media_leg from, const char *sdp, size_t len, char **out,
		 char *err, size_t errlen);

/* Counters of one direction (packets arriving from a leg's peer). */
struct media_counters {
	uint64_t kernel_packets, kernel_bytes;
	uint64_t user_packets, user_bytes;
	uint64_t drop_foreign;     /* sources other than the latched peer */
	uint64_t drop_no_dest;     /* nowhere to send yet */
	uint64_t drop_policy;      /* latch refused by policy */
	uint64_t last_packet_ns;   /* CLOCK_MONOTONIC, 0 = never */
};

struct media_component_info { /* RTP or RTCP of one stream of one leg */
	unsigned local_port;
	struct sockaddr_storage sdp_peer;  /* where the SDP says the peer is */
	struct sockaddr_storage latched;   /* ss_family 0: not latched */
	struct media_counters in;          /* from this leg's peer */
	unsigned relatches;
};

struct media_stream_info {
	char type[16];
	int rejected, rtcp_mux;
	enum sdp_dir dir;
	struct sockaddr_storage local;     /* the relay's address on this leg */
	struct media_component_info rtp, rtcp;
};

struct media_leg_info {
	int nstreams;
	struct media_stream_info st[SDP_MAX_MEDIA];
	struct sockaddr_storage hint;
	enum attach_mode mode;             /* how its packets are forwarded */
};

enum media_state { MEDIA_NEW = 0, MEDIA_OFFERED, MEDIA_ANSWERED };

struct media_session_info {
	char id[128];
	enum media_state state;
	uint64_t created_ns;
	int idle;                          /* no media for idle_ms */
	struct media_leg_info leg[2];
};

int media_session_info(struct media_engine *me, struct media_session *s,
		       struct media_session_info *out);
/* Sessions in no particular order; stop when cb returns non-zero. */
void media_session_foreach(struct media_engine *me,
			   int (*cb)(struct media_session *s, void *arg),
			   void *arg);
const char *media_session_id(const struct media_session *s);

struct media_totals {
	uint64_t sessions;
	uint64_t kernel_packets, kernel_bytes, user_packets, user_bytes;
	uint64_t latches, relatches, latch_refused;
	uint64_t adopted;                 /* sessions rebuilt from the journal */
	uint64_t gc_flows, gc_ports;      /* unknown kernel entries removed */
	unsigned ports_total, ports_used; /* pairs */
	struct xr_stat reasons[XR_REASON_MAX];
	/* By the leg the packets came from ([XR_DIR_FROM_A], [..._B]). */
	struct xr_stat kernel_dir[XR_DIR_MAX], user_dir[XR_DIR_MAX];
	int nifaces;
	struct {
		char name[16];
		enum attach_mode want, got;
	} iface[MEDIA_MAX_IFACES];
};
int media_engine_totals(struct media_engine *me, struct media_totals *t);

#endif
