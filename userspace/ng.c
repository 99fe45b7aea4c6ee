// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The ng protocol's messages: the cookie, the reply cache, the decoding of
 * the dictionary, the command table, and the reply's result, warning and
 * error-reason. The commands themselves are in ng_cmd.c, the request's
 * keys and flags in ng_opts.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "ng_cache.h"
#include "ng_internal.h"

#define NG_COOKIE_MAX    256
#define NG_CACHE_ENTRIES 65536
#define NG_CACHE_BYTES   (64u << 20)

/* One row per command: the dispatch, the statistics and the docs. */
static const struct ng_command {
	const char *name;
	int (*run)(struct ng_req *r);
	const char *help;
} commands[] = {
	{ "ping", ng_cmd_ping, "Liveness: the reply's result is pong." },
	{ "offer", ng_cmd_offer, "call-id, from-tag, sdp: anchors the offer's "
	  "media on the relay; the reply's sdp is the rewritten body." },
	{ "answer", ng_cmd_answer, "call-id, from-tag, to-tag, sdp: the "
	  "answer to the last offer, rewritten the same way." },
	{ "delete", ng_cmd_delete, "call-id, from-tag (to-tag): ends the "
	  "call's media; an unknown call is ok with a warning." },
	{ "query", ng_cmd_query, "call-id: per tag and stream the relay "
	  "port, the peer, the last packet and the counters; totals." },
	{ "list", ng_cmd_list, "The Call-IDs of the relay's sessions (limit: "
	  "how many, default 32)." },
	{ "statistics", ng_cmd_statistics, "Sessions, packets in the kernel "
	  "and in userspace, ports, interfaces, ng commands." },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const char *ng_command_name(unsigned i)
{
	return i < NCOMMANDS ? commands[i].name : NULL;
}

struct ng *ng_new(struct media_engine *me, const struct ng_cfg *cfg)
{
	struct ng *ng = calloc(1, sizeof(*ng));

	if (!ng)
		return NULL;
	ng->me = me;
	ng->started = time(NULL);
	ng_reconfigure(ng, cfg);
	ng->cache = ng_cache_new(ng->cfg.cache_ttl_ms, NG_CACHE_ENTRIES,
				 NG_CACHE_BYTES);
	if (!ng->cache) {
		free(ng);
		return NULL;
	}
	return ng;
}

void ng_reconfigure(struct ng *ng, const struct ng_cfg *cfg)
{
	uint32_t ttl = ng->cfg.cache_ttl_ms;

	ng->cfg = *cfg;
	if (!ng->cfg.cache_ttl_ms)
		ng->cfg.cache_ttl_ms = NG_CACHE_TTL_MS;
	if (ng->cache) /* the cache was made with the first one */
		ng->cfg.cache_ttl_ms = ttl;
}

void ng_free(struct ng *ng)
{
	if (!ng)
		return;
	for (size_t b = 0; b < NG_BUCKETS; b++)
		while (ng->calls[b])
			ng_call_drop(ng, ng->calls[b]);
	ng_cache_free(ng->cache);
	free(ng);
}

void ng_get_stats(const struct ng *ng, struct ng_stats *st) { *st = ng->st; }

int ng_tick(struct ng *ng, uint64_t now_ms)
{
	uint64_t next;

	ng_cache_expire(ng->cache, now_ms);
	next = ng_cache_next_expiry(ng->cache);
	if (next == UINT64_MAX)
		return -1;
	return next - now_ms > 60000 ? 60000 : (int)(next - now_ms);
}

/* ---- one request ------------------------------------------------------------------ */

/* The dictionary after the cookie; trailing white space is allowed (a
 * person typing at netcat), anything else is not. */
static int decode(struct ng_req *r, int fmt, const char *body, size_t len)
{
	char e[256];
	struct bnode *in;
	size_t used;
	int rc;

	if (fmt < 0)
		return ng_fail(r, "the message after the cookie must be a "
			       "bencode dictionary (d...e) or a JSON object "
			       "({...})");
	rc = bn_decode(r->a, (enum bn_format)fmt, body, len, &in, &used, e,
		       sizeof(e));
	if (rc == -EAGAIN)
		return ng_fail(r, "truncated message: %s", e);
	if (rc)
		return ng_fail(r, "malformed message: %s", e);
	while (used < len && strchr(" \t\r\n", body[used]) && body[used])
		used++;
	if (used < len)
		return ng_fail(r, "malformed message: %zu bytes after the "
			       "dictionary", len - used);
	r->in = in;
	return 0;
}

static const struct ng_command *command_of(struct ng_req *r)
{
	const struct bnode *c = bn_dict_get(r->in, "command");
	char p[48];

	if (!c || c->type != BN_STR) {
		ng_fail(r, "no command (the dictionary needs \"command\", a "
			"string: ping, offer, answer, delete, query, list or "
			"statistics)");
		return NULL;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strlen(commands[i].name) == c->len &&
		    strcasecmp(commands[i].name, c->str) == 0) {
			r->ng->st.by_command[i]++;
			r->command = commands[i].name;
			return &commands[i];
		}
	ng_fail(r, "unknown command '%s' (known: ping, offer, answer, delete, "
		"query, list, statistics)", ng_printable(c->str, p, sizeof(p)));
	return NULL;
}

static int run(struct ng_req *r, int fmt, const char *body, size_t len)
{
	const struct ng_command *cmd;

	if (decode(r, fmt, body, len) < 0 || !(cmd = command_of(r)) ||
	    ng_opts_parse(r) < 0)
		return -1;
	return cmd->run(r);
}

/* result, warning, error-reason; an error's reply carries nothing else. */
static void finish(struct ng_req *r, int rc)
{
	char id[64];

	if (rc == NG_LOAD_LIMIT) {
		r->ng->st.load_limited++;
		log_warn("ng: %s from %s refused: %u sessions, the limit "
			 "(max_calls)", r->command, r->from,
			 r->ng->cfg.max_sessions);
		r->out = bn_dict(r->a);
		if (r->o.supports_load_limit) {
			bn_dict_put_str(r->a, r->out, "result", "load limit");
			bn_dict_put_str(r->a, r->out, "message", NG_MSG_PARALLEL);
			return;
		}
		snprintf(r->reason, sizeof(r->reason), NG_MSG_PARALLEL);
		rc = -1;
	}
	if (rc < 0) {
		r->ng->st.errors++;
		log_warn("ng: %s from %s%s%s: %s", r->command ? r->command :
			 "message", r->from, r->o.call_id ? ", call " : "",
			 r->o.call_id ? ng_printable(r->o.call_id, id,
						     sizeof(id)) : "",
			 r->reason);
		r->out = bn_dict(r->a);
		bn_dict_put_str(r->a, r->out, "result", "error");
		bn_dict_put_str(r->a, r->out, "error-reason", r->reason);
		if (r->detail[0])
			bn_dict_put_str(r->a, r->out, "message", r->detail);
	} else {
		bn_dict_put_str(r->a, r->out, "result",
				r->result ? r->result : "ok");
	}
	if (r->warning[0]) {
		log_info("ng: %s from %s: warning: %s", r->command ? r->command :
			 "message", r->from, r->warning);
		bn_dict_put_str(r->a, r->out, "warning", r->warning);
	}
}

/* The reply dictionary for one request body, encoded (malloc'd). */
static char *handle(struct ng *ng, const char *body, size_t len,
		    const char *from, size_t *rlen)
{
	struct ng_req *r = calloc(1, sizeof(*r));
	int fmt = len ? bn_format_of(body[0]) : -1;
	char *reply = NULL;

	if (!r)
		return NULL;
	r->ng = ng;
	snprintf(r->from, sizeof(r->from), "%s", from);
	r->a = bn_arena_new(0);
	if (r->a && (r->out = bn_dict(r->a))) {
		finish(r, run(r, fmt, body, len));
		if (!bn_arena_failed(r->a))
			reply = bn_encode(r->out, fmt == BN_JSON ? BN_JSON :
					  BN_BENCODE, rlen);
	}
	bn_arena_free(r->a);
	free(r);
	return reply;
}

/* "COOKIE SP REPLY" */
static int compose(const char *cookie, size_t clen, const char *reply,
		   size_t rlen, char **out, size_t *outlen)
{
	char *m = malloc(clen + 1 + rlen + 1);

	if (!m)
		return -1;
	memcpy(m, cookie, clen);
	m[clen] = ' ';
	memcpy(m + clen + 1, reply, rlen);
	m[clen + 1 + rlen] = 0;
	*out = m;
	*outlen = clen + 1 + rlen;
	return 0;
}

int ng_message(struct ng *ng, const char *msg, size_t len,
	       const struct sockaddr *from, uint64_t now_ms, char **out,
	       size_t *outlen)
{
	size_t scan = len < NG_COOKIE_MAX + 1 ? len : NG_COOKIE_MAX + 1;
	const char *sp = memchr(msg, ' ', scan), *cached;
	char who[NETADDR_STRLEN], key[NETADDR_STRLEN + NG_COOKIE_MAX + 1];
	size_t clen, klen, rlen;
	char *reply;
	int rc;

	netaddr_ip_str(from, who, sizeof(who));
	if (!sp || sp == msg) {
		ng->st.dropped++;
		log_warn("ng: a message from %s without a cookie (a message is "
			 "'COOKIE SP DICT', the cookie at most %d bytes): "
			 "dropped", who, NG_COOKIE_MAX);
		return -1;
	}
	ng->st.requests++;
	clen = (size_t)(sp - msg);
	/* A retransmission comes from the same client: its address and the
	 * cookie make the key, so two proxies' cookies never collide. */
	klen = (size_t)snprintf(key, sizeof(key), "%s ", who);
	memcpy(key + klen, msg, clen);
	klen += clen;
	cached = ng_cache_get(ng->cache, key, klen, now_ms, &rlen);
	if (cached) {
		ng->st.retransmits++;
		log_debug("ng: a repeated cookie from %s: the cached reply "
			  "again", who);
		return compose(msg, clen, cached, rlen, out, outlen);
	}
	reply = handle(ng, sp + 1, len - clen - 1, who, &rlen);
	if (!reply) {
		ng->st.dropped++;
		log_err("ng: out of memory for a reply to %s", who);
		return -1;
	}
	if (ng_cache_put(ng->cache, key, klen, reply, rlen, now_ms) < 0)
		log_warn("ng: out of memory: a reply to %s is not cached", who);
	rc = compose(msg, clen, reply, rlen, out, outlen);
	free(reply);
	return rc;
}
