// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include "portpool.h"

/*
 * Pairs are numbered 0..n-1 (port = base + 2 * i). The free pairs sit in a
 * doubly linked FIFO threaded through the arrays, so that a pair can also be
 * taken out of the middle (portpool_take) in O(1).
 */
#define NIL UINT32_MAX

struct portpool {
	unsigned base, n, used;
	uint64_t quarantine_ns;
	uint32_t head, tail;
	uint32_t *next, *prev;
	uint64_t *freed_at;
	uint8_t *in_use;
};

static void fifo_push(struct portpool *pp, uint32_t i)
{
	pp->next[i] = NIL;
	pp->prev[i] = pp->tail;
	if (pp->tail != NIL)
		pp->next[pp->tail] = i;
	else
		pp->head = i;
	pp->tail = i;
}

static void fifo_unlink(struct portpool *pp, uint32_t i)
{
	if (pp->prev[i] != NIL)
		pp->next[pp->prev[i]] = pp->next[i];
	else
		pp->head = pp->next[i];
	if (pp->next[i] != NIL)
		pp->prev[pp->next[i]] = pp->prev[i];
	else
		pp->tail = pp->prev[i];
}

struct portpool *portpool_new(unsigned min, unsigned max,
			      uint64_t quarantine_ns)
{
	struct portpool *pp;

	min += min & 1;
	if (max > 65535 || min < 2 || max < min + 1)
		return NULL;
	pp = calloc(1, sizeof(*pp));
	if (!pp)
		return NULL;
	pp->base = min;
	pp->n = (max - min + 1) / 2;
	pp->quarantine_ns = quarantine_ns;
	pp->head = pp->tail = NIL;
	pp->next = calloc(pp->n, sizeof(*pp->next));
	pp->prev = calloc(pp->n, sizeof(*pp->prev));
	pp->freed_at = calloc(pp->n, sizeof(*pp->freed_at));
	pp->in_use = calloc(pp->n, sizeof(*pp->in_use));
	if (!pp->next || !pp->prev || !pp->freed_at || !pp->in_use) {
		portpool_free(pp);
		return NULL;
	}
	for (uint32_t i = 0; i < pp->n; i++)
		fifo_push(pp, i);
	return pp;
}

void portpool_free(struct portpool *pp)
{
	if (!pp)
		return;
	free(pp->next);
	free(pp->prev);
	free(pp->freed_at);
	free(pp->in_use);
	free(pp);
}

static int pair_index(const struct portpool *pp, unsigned port, uint32_t *i)
{
	if (port < pp->base || (port - pp->base) & 1 ||
	    (port - pp->base) / 2 >= pp->n)
		return -EINVAL;
	*i = (port - pp->base) / 2;
	return 0;
}

int portpool_alloc(struct portpool *pp, uint64_t now_ns)
{
	uint32_t i = pp->head;

	if (i == NIL)
		return -ENOSPC;
	if (pp->freed_at[i] && now_ns - pp->freed_at[i] < pp->quarantine_ns)
		return -EAGAIN;
	fifo_unlink(pp, i);
	pp->in_use[i] = 1;
	pp->used++;
	return (int)(pp->base + 2 * i);
}

int portpool_release(struct portpool *pp, unsigned port, uint64_t now_ns)
{
	uint32_t i;

	if (pair_index(pp, port, &i) || !pp->in_use[i])
		return -EINVAL;
	pp->in_use[i] = 0;
	pp->used--;
	pp->freed_at[i] = now_ns ? now_ns : 1;
	fifo_push(pp, i);
	return 0;
}

int portpool_take(struct portpool *pp, unsigned port)
{
	uint32_t i;

	if (pair_index(pp, port, &i))
		return -EINVAL;
	if (pp->in_use[i])
		return -EBUSY;
	fifo_unlink(pp, i);
	pp->in_use[i] = 1;
	pp->used++;
	return 0;
}

unsigned portpool_size(const struct portpool *pp) { return pp->n; }
unsigned portpool_used(const struct portpool *pp) { return pp->used; }

int portpool_in_use(const struct portpool *pp, unsigned port)
{
	uint32_t i;

	return pair_index(pp, port, &i) == 0 && pp->in_use[i];
}
