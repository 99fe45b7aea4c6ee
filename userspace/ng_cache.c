// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The ng reply cache (see ng_cache.h): a hash table for lookups and a
 * list in insertion order for expiry. Every entry lives the same time, so
 * insertion order is expiry order and the oldest is always at the head.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ng_cache.h"

struct entry {
	struct entry *hnext;         /* hash chain */
	struct entry *prev, *next;   /* insertion order */
	uint64_t expires_ms;
	size_t klen, rlen;
	char *reply;                 /* after the key, in the same block */
	char key[];
};

struct ng_cache {
	struct entry **buckets;      /* a power of two, >= max_entries */
	size_t mask;
	struct entry *oldest, *newest;
	uint32_t ttl_ms;
	size_t count, bytes, max_entries, max_bytes;
};

static size_t bucket_of(const struct ng_cache *c, const void *key,
			size_t klen)
{
	const unsigned char *p = key;
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < klen; i++)
		h = (h ^ p[i]) * 16777619u;
	return h & c->mask;
}

struct ng_cache *ng_cache_new(uint32_t ttl_ms, size_t max_entries,
			      size_t max_bytes)
{
	struct ng_cache *c = calloc(1, sizeof(*c));
	size_t n;

	if (!c)
		return NULL;
	c->ttl_ms = ttl_ms;
	c->max_entries = max_entries ? max_entries : 1;
	c->max_bytes = max_bytes;
	/* a chain of about one entry when full: with 16 a proxy's burst
	 * of offers spent a tenth of the daemon's time walking chains */
	for (n = 1; n < c->max_entries && n < (1u << 24); n <<= 1)
		;
	c->buckets = calloc(n, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	c->mask = n - 1;
	return c;
}

static struct entry **chain_of(struct ng_cache *c, const void *key,
			       size_t klen)
{
	struct entry **pp = &c->buckets[bucket_of(c, key, klen)];

	for (; *pp; pp = &(*pp)->hnext)
		if ((*pp)->klen == klen && memcmp((*pp)->key, key, klen) == 0)
			break;
	return pp; /* at the entry, or at the chain's end */
}

static void entry_remove(struct ng_cache *c, struct entry *e)
{
	struct entry **pp = chain_of(c, e->key, e->klen);

	if (*pp == e)
		*pp = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		c->oldest = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->newest = e->prev;
	c->count--;
	c->bytes -= e->klen + e->rlen;
	free(e);
}

void ng_cache_free(struct ng_cache *c)
{
	if (!c)
		return;
	while (c->oldest)
		entry_remove(c, c->oldest);
	free(c->buckets);
	free(c);
}

void ng_cache_expire(struct ng_cache *c, uint64_t now_ms)
{
	while (c->oldest && c->oldest->expires_ms <= now_ms)
		entry_remove(c, c->oldest);
}

const char *ng_cache_get(struct ng_cache *c, const void *key, size_t klen,
			 uint64_t now_ms, size_t *rlen)
{
	struct entry *e;

	ng_cache_expire(c, now_ms);
	e = *chain_of(c, key, klen);
	if (!e)
		return NULL;
	*rlen = e->rlen;
	return e->reply;
}

int ng_cache_put(struct ng_cache *c, const void *key, size_t klen,
		 const char *reply, size_t rlen, uint64_t now_ms)
{
	struct entry *e, *old = *chain_of(c, key, klen);

	if (old)
		entry_remove(c, old);
	e = malloc(sizeof(*e) + klen + rlen + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e->key, key, klen);
	e->reply = e->key + klen;
	memcpy(e->reply, reply, rlen);
	e->reply[rlen] = 0;
	e->klen = klen;
	e->rlen = rlen;
	e->expires_ms = now_ms + c->ttl_ms;
	/* room first: oldest out while over either limit */
	while (c->oldest && (c->count + 1 > c->max_entries ||
			     (c->max_bytes &&
			      c->bytes + klen + rlen > c->max_bytes)))
		entry_remove(c, c->oldest);
	e->hnext = NULL;
	*chain_of(c, key, klen) = e;
	e->prev = c->newest;
	e->next = NULL;
	if (c->newest)
		c->newest->next = e;
	else
		c->oldest = e;
	c->newest = e;
	c->count++;
	c->bytes += klen + rlen;
	return 0;
}

size_t ng_cache_count(const struct ng_cache *c) { return c->count; }

uint64_t ng_cache_next_expiry(const struct ng_cache *c)
{
	return c->oldest ? c->oldest->expires_ms : UINT64_MAX;
}
