/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The media engine's internal model, shared by its files (media.c: sessions
 * and offer/answer; media_flow.c: packets, latching and kernel flows).
 *
 *   session --< stream (one per m= line) --< leg[2] --< comp[2] (RTP, RTCP)
 *
 * A component is one relay port on one leg: the port its peer sends to, the
 * peer's SDP address, the latch, and the kernel flow that forwards what
 * arrives there to the same component of the other leg.
 */
#ifndef XRELAY_MEDIA_INTERNAL_H
#define XRELAY_MEDIA_INTERNAL_H

#include "latch.h"
#include "media.h"
#include "portpool.h"
#include "relay_io.h"

#define SESSION_BUCKETS 65536

/* One local relay address: its pool of ports and who owns each port. */
struct addrpool {
	struct sockaddr_storage addr;      /* port 0 */
	struct sockaddr_storage advertise; /* what SDP says (1:1 NAT) */
	int iface;                         /* index into cfg.ifaces */
	struct portpool *pp;
	struct comp **by_port;             /* 65536 entries */
};

struct stream;

struct comp {
	struct stream *st;
	unsigned char leg, rtcp;
	struct addrpool *pool;             /* NULL: no port (rejected) */
	unsigned port;
	int fd;                            /* socket mode: the port's socket */
	struct sockaddr_storage sdp;       /* the peer per its SDP */
	struct latch latch;
	struct media_counters c;           /* userspace; kernel_* from retired flows */
	int flow_on;                       /* a kernel flow is installed */
	struct xr_flow_key flow_key;
	uint64_t retry_ns;                 /* egress unresolved: try again at */
	int pending;                       /* on the engine's retry list */
};

struct stream {
	struct media_session *s;
	char type[16];
	int rejected, rtcp_mux;
	enum sdp_dir dir[2];
	struct comp c[2][2];               /* [leg][0 = RTP, 1 = RTCP] */
};

struct media_session {
	struct media_session *next;        /* hash chain */
	char id[128];
	enum media_state state;
	enum media_leg offerer;
	uint64_t created_ns;
	struct sockaddr_storage hint[2];
	int nstreams;
	struct stream *st[SDP_MAX_MEDIA];
	unsigned long long o_ver[2];       /* o= version sent to each leg */
	char *last_out[2];                 /* the body last sent to each leg */
	struct media_session *jnext;       /* on the engine's to-journal list */
	int jdirty;
	uint64_t jsum;                     /* of the record last written (CRC-32
					      and Adler-32 of its bytes); 0:
					      none, or not known */
	uint64_t idle_check_ns;            /* next look at its idleness */
	uint64_t idle_since_ns;            /* reported idle since (last media) */
	int idle_reported;
};

struct media_engine {
	struct media_cfg cfg;
	char pin_dir[256];
	struct fastpath *fp;               /* NULL in socket mode */
	struct relay_io *io;
	int epfd;
	struct addrpool pools[32];
	int npools;
	enum attach_mode got[MEDIA_MAX_IFACES];
	int ifindex[MEDIA_MAX_IFACES];
	struct media_session *buckets[SESSION_BUCKETS];
	uint64_t nsessions, latches, relatches, latch_refused;
	struct xr_stat user_dir[XR_DIR_MAX]; /* userspace, by the leg it came from */
	uint64_t last_refused_log_ns;
	struct comp *retry[1024];          /* flows waiting for a neighbour */
	int nretry;
	/* timers (media_engine_run) */
	uint64_t tick_ns;                  /* next once-a-second pass */
	int idle_cursor;                   /* where a cut-short pass goes on */
	uint64_t gc_at_ns;                 /* unknown kernel entries go; 0: done */
	struct held_port { struct addrpool *pool; unsigned port; } *held;
	size_t nheld;                      /* ports of unknown entries, kept
					      out of the pool until the GC */
	struct gc_keys { uint8_t *keys; size_t n, cap; }
		gc_flow_keys, gc_port_keys; /* the GC's candidates (at start) */
	void (*idle_cb)(void *arg, struct media_session *s);
	void *idle_arg;
	/* the session journal (media_journal.c); jdir < 0: none */
	int jdir;
	struct media_session *jdirty;      /* to write at the end of the run */
	char boot_id[40];
	uint64_t adopted, gc_flows, gc_ports;
	uint64_t last_jerr_log_ns;
};

uint64_t media_now_ns(void);
static inline struct comp *comp_other(struct comp *c)
{
	return &c->st->c[!c->leg][c->rtcp];
}

/* media.c */
struct addrpool *pool_by_addr(struct media_engine *me,
			      const struct sockaddr *ip);
int leg_bind(struct media_engine *me, struct stream *st, int leg,
	     struct addrpool *p, unsigned port, char *err, size_t errlen);
struct stream *stream_new(struct media_session *s);
/* Take a session out of the table and free it, releasing its ports and
 * kernel entries; its journal file is the caller's business. */
void session_drop(struct media_engine *me, struct media_session *s);

/* media_flow.c */
void flow_sync(struct media_engine *me, struct comp *c);
void flow_adopt(struct media_engine *me, struct comp *c);
int gc_collect_unknown(struct media_engine *me);
void flow_gc_unknown(struct media_engine *me);
uint64_t comp_last_ns(struct media_engine *me, struct comp *c);
void flow_retire(struct media_engine *me, struct comp *c);
void port_entry_sync(struct media_engine *me, struct comp *c, int present);
void comp_kernel_counters(struct media_engine *me, struct comp *c,
			  struct media_counters *out);
void flow_retry_run(struct media_engine *me, uint64_t now);
void flow_retry_forget(struct media_engine *me, struct comp *c);
void media_on_packet(void *arg, void *owner, const struct sockaddr *local,
		     const struct sockaddr *src, const void *buf, size_t len);
void media_on_sent(void *arg, void *tag, int family, size_t len);
const char *leg_name(int leg);

/*
 * media_journal.c: the session journal. One file per session in
 * cfg.state_dir, replaced atomically (write a temporary file, rename it)
 * whenever the session changes, removed when it is deleted; a restarted
 * engine rebuilds its sessions from them and adopts their kernel flows.
 *
 * The record and its codec are pure (no engine, no I/O), so that the
 * format is unit-tested on its own.
 */
#define JOURNAL_VERSION  1
#define JOURNAL_MAX_BODY (SDP_MAX_LEN + 8192) /* a rendered body, at most */
#define JOURNAL_MAX_FILE (4 * 1024 * 1024)    /* bigger: not a journal */

struct journal_comp {
	struct sockaddr_storage sdp;
	struct latch latch;
	struct media_counters c;   /* userspace (and retired kernel) counters */
};

struct journal_stream {
	char type[16];
	int rejected, rtcp_mux;
	enum sdp_dir dir[2];
	struct sockaddr_storage local[2]; /* relay address, RTP port; 0: none */
	struct journal_comp c[2][2];      /* [leg][RTP, RTCP] */
};

struct journal_rec {
	char boot_id[40];           /* the kernel's boot; "" when unknown */
	char id[128];
	enum media_state state;
	enum media_leg offerer;
	uint64_t created_ns;
	struct sockaddr_storage hint[2];
	unsigned long long o_ver[2];
	char *last_out[2];          /* NULL: none; malloc'd by journal_decode */
	int nstreams;
	struct journal_stream st[SDP_MAX_MEDIA];
};

/* A record into a malloc'd buffer. -E2BIG past the format's bounds. */
int journal_encode(const struct journal_rec *r, uint8_t **buf, size_t *len);
/* And back; anything malformed is -EINVAL with err saying what. On error
 * nothing is left allocated; on success free with journal_rec_clear(). */
int journal_decode(const uint8_t *buf, size_t len, struct journal_rec *r,
		   char *err, size_t errlen);
void journal_rec_clear(struct journal_rec *r);
/* The file name of a session id: the id itself when it is made of safe
 * characters, else '~' and its base64url; then ".call". -ENAMETOOLONG. */
int journal_name(const char *id, char *out, size_t outlen);

int journal_open(struct media_engine *me, char *err, size_t errlen);
void journal_close(struct media_engine *me);
/* Write s's record now (unless it is the one last written for s). */
void journal_save(struct media_engine *me, struct media_session *s);
void journal_forget(struct media_engine *me, struct media_session *s);
/* Save s at the end of this media_engine_run (a latch in a batch of
 * packets: once, with the counters of the batch). */
void journal_mark(struct media_engine *me, struct media_session *s);
void journal_flush(struct media_engine *me);
/* Rebuild every journaled session (at start); the others' kernel entries
 * are removed later, after cfg.adopt_grace_ms (flow_gc_unknown). */
void journal_adopt_all(struct media_engine *me);

#endif
