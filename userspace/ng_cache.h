/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ng reply cache: a proxy that hears no reply sends the same request
 * again with the same cookie (Kamailio: 5 times, 1 s apart). The command
 * must not run twice - a second offer would allocate new ports - so the
 * reply of every request is kept for a while and sent again for a repeated
 * cookie. rtpproxy's rtpp_command_rcache.c is the model.
 *
 * Entries leave after the time to live, or oldest first when the cache is
 * over its count or byte limit (a flood of distinct cookies cannot make it
 * grow without bound). The clock is the caller's (milliseconds), so tests
 * can move it.
 */
#ifndef XRELAY_NG_CACHE_H
#define XRELAY_NG_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct ng_cache;

struct ng_cache *ng_cache_new(uint32_t ttl_ms, size_t max_entries,
			      size_t max_bytes);
void ng_cache_free(struct ng_cache *c);

/* The reply cached under key and still alive at now_ms, or NULL. */
const char *ng_cache_get(struct ng_cache *c, const void *key, size_t klen,
			 uint64_t now_ms, size_t *rlen);
/* Keep a copy of reply under key (replacing an older one); 0 or -ENOMEM. */
int ng_cache_put(struct ng_cache *c, const void *key, size_t klen,
		 const char *reply, size_t rlen, uint64_t now_ms);
/* Drop what has expired at now_ms. */
void ng_cache_expire(struct ng_cache *c, uint64_t now_ms);
size_t ng_cache_count(const struct ng_cache *c);
/* When the oldest entry expires (ms), or UINT64_MAX when empty. */
uint64_t ng_cache_next_expiry(const struct ng_cache *c);

#endif
