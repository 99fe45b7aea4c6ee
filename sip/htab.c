// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"

uint64_t htab_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ULL;
	return h;
}

int htab_init(struct htab *h, size_t nb)
{
	h->nb = nb;
	h->n = 0;
	h->b = calloc(h->nb, sizeof(*h->b));
	return h->b ? 0 : -ENOMEM;
}

void htab_fini(struct htab *h)
{
	free(h->b);
	h->b = NULL;
	h->nb = h->n = 0;
}

/* Doubles the buckets; if that fails, chains just get longer. */
static void htab_grow(struct htab *h)
{
	size_t nb = h->nb * 2;
	struct hnode **b = calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < h->nb; i++) {
		struct hnode *e = h->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(h->b);
	h->b = b;
	h->nb = nb;
}

void htab_add(struct htab *h, struct hnode *e, char *key)
{
	size_t i;

	if (h->n >= h->nb)
		htab_grow(h);
	e->key = key;
	e->hash = htab_hash(key);
	i = e->hash & (h->nb - 1);
	e->next = h->b[i];
	h->b[i] = e;
	h->n++;
}

struct hnode *htab_find(const struct htab *h, const char *key)
{
	uint64_t hash = htab_hash(key);
	struct hnode *e = h->b[hash & (h->nb - 1)];

	for (; e; e = e->next)
		if (e->hash == hash && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

void htab_del(struct htab *h, struct hnode *e)
{
	struct hnode **pp;

	if (!e->key)
		return;
	for (pp = &h->b[e->hash & (h->nb - 1)]; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			h->n--;
			break;
		}
	}
	e->key = NULL;
	e->next = NULL;
}
