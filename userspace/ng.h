/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * rtpengine's "ng" control protocol over the media engine, so that the SIP
 * proxies carriers run (Kamailio's and OpenSIPS's rtpengine modules) can
 * use xrelay as their media relay unchanged. Like the B2BUA, this is a
 * client of media.h: a call's media session is named by its Call-ID, the
 * from-tag's side of the first offer is leg A, the other side leg B.
 *
 * A message is "COOKIE SP DICT": the cookie is echoed in the reply, DICT
 * is bencode ('d') or JSON ('{') and the reply uses the same encoding.
 * Every reply has "result": "ok" (maybe with "warning"), "pong", "error"
 * (with "error-reason") or "load limit". A repeated cookie from the same
 * address gets the cached reply and does not run the command again.
 *
 * Commands: ping, offer, answer, delete, query, list, statistics. This
 * layer knows no sockets (ng_listen.c has them), so tests drive it
 * directly.
 */
#ifndef XRELAY_NG_H
#define XRELAY_NG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "media.h"

#define NG_CACHE_TTL_MS 30000 /* Kamailio retries for 5 s; rtpengine keeps 30 s */

struct ng_cfg {
	uint32_t max_sessions;     /* more media sessions: "load limit"; 0: none */
	uint32_t media_timeout_ms; /* idle ng calls are deleted; 0: never */
	uint32_t cache_ttl_ms;     /* 0: NG_CACHE_TTL_MS */
};

struct ng;

struct ng *ng_new(struct media_engine *me, const struct ng_cfg *cfg);
void ng_free(struct ng *ng);
/* The limits again (SIGHUP). */
void ng_reconfigure(struct ng *ng, const struct ng_cfg *cfg);

/*
 * One message from a client at from (its address keys the reply cache),
 * at now_ms (CLOCK_MONOTONIC). The reply, "COOKIE SP DICT", goes into *out
 * (malloc'd, *outlen bytes). Returns 0, or -1 when no reply can be given
 * (no cookie to echo, out of memory): the message is dropped and logged.
 */
int ng_message(struct ng *ng, const char *msg, size_t len,
	       const struct sockaddr *from, uint64_t now_ms, char **out,
	       size_t *outlen);

/* Expire cached replies; when next to call (ms from now_ms, -1: never). */
int ng_tick(struct ng *ng, uint64_t now_ms);

/*
 * For the engine's idle report (media_engine_set_idle_cb): an answered ng
 * call with no media for media_timeout_ms is deleted, so that a call whose
 * delete never came (a proxy restart, a lost BYE) does not hold its ports
 * forever. Returns 1 when s is an ng call (then s may be gone), 0 when it
 * is not (someone else's to judge).
 */
int ng_media_idle(struct ng *ng, struct media_session *s);

struct ng_stats {
	uint64_t requests, errors, retransmits, load_limited, dropped;
	uint64_t by_command[8];  /* in the order of ng_command_name() */
	uint64_t calls_created, calls_deleted, calls_timed_out;
};
void ng_get_stats(const struct ng *ng, struct ng_stats *st);
/* The i-th command's name, or NULL past the last. */
const char *ng_command_name(unsigned i);

#endif
