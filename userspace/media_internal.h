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
	int idx;
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
	uint64_t user_packets, user_bytes, no_port_drops;
	uint64_t last_refused_log_ns;
	struct comp *retry[1024];          /* flows waiting for a neighbour */
	int nretry;
};

uint64_t media_now_ns(void);
static inline struct comp *comp_other(struct comp *c)
{
	return &c->st->c[!c->leg][c->rtcp];
}

/* media_flow.c */
void flow_sync(struct media_engine *me, struct comp *c);
void flow_retire(struct media_engine *me, struct comp *c);
void port_entry_sync(struct media_engine *me, struct comp *c, int present);
void comp_kernel_counters(struct media_engine *me, struct comp *c,
			  struct media_counters *out);
void flow_retry_run(struct media_engine *me, uint64_t now);
void flow_retry_forget(struct media_engine *me, struct comp *c);
void media_on_packet(void *arg, void *owner, const struct sockaddr *local,
		     const struct sockaddr *src, const void *buf, size_t len);
const char *leg_name(int leg);

#endif
