/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A chained hash table keyed on NUL-terminated strings (FNV-1a), for the
 * transaction layer and the registrar. Nodes live inside their owners
 * (container_of gets the owner back). The table doubles at load 1, so
 * lookups stay O(1) at 100k entries; if doubling fails, chains only get
 * longer. It neither copies nor frees keys: a key must live as long as its
 * node is in the table.
 */
#ifndef XRELAY_HTAB_H
#define XRELAY_HTAB_H

#include <stddef.h>
#include <stdint.h>

#define container_of(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))

struct hnode {
	struct hnode *next;
	char *key;	/* NULL: not in a table */
	uint64_t hash;
};

struct htab {
	struct hnode **b;
	size_t nb, n;	/* nb is a power of two */
};

/* 64-bit FNV-1a of s. */
uint64_t htab_hash(const char *s);
/* nb buckets to start with (a power of two). 0 or -ENOMEM. */
int htab_init(struct htab *h, size_t nb);
/* The buckets; the nodes are the caller's. */
void htab_fini(struct htab *h);
void htab_add(struct htab *h, struct hnode *e, char *key);
struct hnode *htab_find(const struct htab *h, const char *key);
/* Unlink e (a node in no table is left alone); e->key becomes NULL. */
void htab_del(struct htab *h, struct hnode *e);

#endif
