/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared between the ng protocol's files: ng.c (messages, cookies, the
 * command table), ng_opts.c (the request's keys and flags), ng_cmd.c (the
 * commands that change calls) and ng_info.c (those that report).
 */
#ifndef XRELAY_NG_INTERNAL_H
#define XRELAY_NG_INTERNAL_H

#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "bencode.h"
#include "media.h"
#include "netaddr.h"
#include "ng.h"

#define NG_ID_MAX      128  /* a media session id, with its NUL */
#define NG_TAG_MAX     128
#define NG_LABEL_MAX   64
#define NG_BUCKETS     4096 /* a power of two */
#define NG_LOAD_LIMIT  (-2) /* a command's "over the limit" */
#define NG_MSG_PARALLEL "Parallel session limit reached" /* as rtpengine: */
#define NG_MSG_PORTS    "Ran out of ports" /* Kamailio fails over on these */

/* What the ng layer knows of a call beyond its media session: which tag
 * is which leg (an offer from the to-tag side is an offer from leg B). */
struct ng_call {
	struct ng_call *next;
	char id[NG_ID_MAX];
	char tag[2][NG_TAG_MAX];      /* "" until known */
	char label[2][NG_LABEL_MAX];
	time_t created, last_signal;  /* wall clock, for query */
	int adopted;                  /* the session predates this entry */
};

struct ng {
	struct media_engine *me;
	struct ng_cfg cfg;
	struct ng_cache *cache;
	struct ng_call *calls[NG_BUCKETS];
	size_t ncalls;
	struct ng_stats st;
	time_t started;
};

/* The request's keys, checked and converted. */
struct ng_opts {
	const char *call_id, *from_tag, *to_tag, *label, *via_branch;
	const char *sdp;
	size_t sdp_len;
	struct sockaddr_storage received_from; /* ss_family 0: none */
	int trust_address;
	int family;                /* address-family: 0, AF_INET, AF_INET6 */
	const char *transport;     /* transport-protocol */
	int supports_load_limit;
	int64_t limit;             /* list: how many; -1: the default */
};

struct ng_req {
	struct ng *ng;
	struct bn_arena *a;
	const struct bnode *in;
	struct bnode *out;
	char from[NETADDR_STRLEN];  /* the client, for log lines */
	const char *command;
	struct ng_opts o;
	const char *result;         /* NULL: "ok" */
	char warning[512];
	char reason[512];
	char detail[256];           /* an error's "message", beside the reason */
};

/* ng_opts.c */
int ng_opts_parse(struct ng_req *r);
__attribute__((format(printf, 2, 3)))
void ng_warn(struct ng_req *r, const char *fmt, ...);
__attribute__((format(printf, 2, 3)))
int ng_fail(struct ng_req *r, const char *fmt, ...);
/* s with anything but printable ASCII as '?', cut to fit: for log lines. */
const char *ng_printable(const char *s, char *buf, size_t len);

/* The commands, each returning 0, -1 (r->reason says why) or
 * NG_LOAD_LIMIT. ng_cmd.c: those that change calls; ng_info.c: the
 * others. */
int ng_cmd_offer(struct ng_req *r);
int ng_cmd_answer(struct ng_req *r);
int ng_cmd_delete(struct ng_req *r);
int ng_cmd_ping(struct ng_req *r);
int ng_cmd_query(struct ng_req *r);
int ng_cmd_list(struct ng_req *r);
int ng_cmd_statistics(struct ng_req *r);
struct ng_call *ng_call_find(struct ng *ng, const char *id);
void ng_call_drop(struct ng *ng, struct ng_call *c);

/* ng_info.c: a call's created, last signal, tags (legs, streams, peers,
 * counters) and totals into r->out, as query and delete reply. */
void ng_put_call_info(struct ng_req *r, const struct ng_call *c,
		      struct media_session *s);

#endif
