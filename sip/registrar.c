// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "registrar.h"

/*
 * A hash table of AORs keyed on the AOR string (htab.h), so lookup and
 * update stay O(1) at 100k AORs. Each AOR holds a small array of its contacts that grows
 * 1, 2, 4, 8: a struct reg_contact is about 700 bytes and most phones
 * register one contact, so a fixed array of REG_MAX_CONTACTS per AOR would
 * cost ~5 kB per phone.
 *
 * Expired bindings stay until registrar_expire() or the next update of
 * their AOR drops them; lookup and foreach skip them meanwhile.
 */
#define INITIAL_BUCKETS 1024

struct aor {
	struct hnode node;         /* in aors, keyed on name */
	struct reg_contact *c;
	unsigned n, cap;
	char name[];
};

struct registrar {
	struct htab aors;
	unsigned nbindings;        /* stored bindings, expired or not */
	uint32_t min_expires, max_expires;
};

struct registrar *registrar_new(uint32_t min_expires, uint32_t max_expires)
{
	struct registrar *r;

	if (max_expires < min_expires)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (htab_init(&r->aors, INITIAL_BUCKETS) < 0) {
		free(r);
		return NULL;
	}
	r->min_expires = min_expires;
	r->max_expires = max_expires;
	return r;
}

static void aor_free(struct aor *a)
{
	free(a->c);
	free(a);
}

void registrar_free(struct registrar *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->aors.nb; i++) {
		struct hnode *e = r->aors.b[i], *next;

		for (; e; e = next) {
			next = e->next;
			aor_free(container_of(e, struct aor, node));
		}
	}
	htab_fini(&r->aors);
	free(r);
}

static struct aor *aor_find(const struct registrar *r, const char *name)
{
	struct hnode *e = htab_find(&r->aors, name);

	return e ? container_of(e, struct aor, node) : NULL;
}

static struct aor *aor_add(struct registrar *r, const char *name)
{
	size_t len = strlen(name);
	struct aor *a = calloc(1, sizeof(*a) + len + 1);

	if (!a)
		return NULL;
	memcpy(a->name, name, len + 1);
	htab_add(&r->aors, &a->node, a->name);
	return a;
}

static void aor_remove(struct registrar *r, struct aor *a)
{
	htab_del(&r->aors, &a->node);
	r->nbindings -= a->n;
	aor_free(a);
}

/* Remove contact i, keeping the others in registration order. */
static void contact_remove(struct registrar *r, struct aor *a, unsigned i)
{
	memmove(&a->c[i], &a->c[i + 1], (a->n - i - 1) * sizeof(a->c[0]));
	a->n--;
	r->nbindings--;
}

/* Drop the expired contacts of one AOR; returns how many. */
static int aor_expire(struct registrar *r, struct aor *a, uint64_t now_ms)
{
	int n = 0;

	for (unsigned i = 0; i < a->n;) {
		if (a->c[i].expires_ms <= now_ms) {
			contact_remove(r, a, i);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

static struct reg_contact *contact_find(struct aor *a, const char *uri)
{
	for (unsigned i = 0; i < a->n; i++)
		if (strcmp(a->c[i].uri, uri) == 0)
			return &a->c[i];
	return NULL;
}

static struct reg_contact *contact_append(struct registrar *r, struct aor *a)
{
	if (a->n == a->cap) {
		unsigned cap = a->cap ? a->cap * 2 : 1;
		struct reg_contact *c;

		if (cap > REG_MAX_CONTACTS)
			cap = REG_MAX_CONTACTS;
		c = realloc(a->c, cap * sizeof(*c));
		if (!c)
			return NULL;
		a->c = c;
		a->cap = cap;
	}
	r->nbindings++;
	return memset(&a->c[a->n++], 0, sizeof(a->c[0]));
}

/* RFC 3261 10.3 step 7: a binding from the same Call-ID is changed only by
 * a higher CSeq (a retransmitted or reordered REGISTER must not undo a
 * newer one); another Call-ID (the phone restarted) always may. */
static int cseq_ok(const struct reg_contact *c, const char *call_id,
		   uint32_t cseq)
{
	return strcmp(c->call_id, call_id) != 0 || cseq > c->cseq;
}

static void contact_set(struct reg_contact *c, const char *uri,
			uint64_t expires_ms, const char *call_id,
			uint32_t cseq, const struct sip_peer *source)
{
	strcpy(c->uri, uri);
	c->expires_ms = expires_ms;
	strcpy(c->call_id, call_id);
	c->cseq = cseq;
	if (source)
		c->source = *source;
	else
		memset(&c->source, 0, sizeof(c->source));
}

#define CALL_ID_MAX sizeof(((struct reg_contact *)0)->call_id)

static int args_ok(const char *aor, const char *uri, const char *call_id)
{
	return aor && *aor && strlen(aor) < REG_URI_MAX &&
	       uri && *uri && strlen(uri) < REG_URI_MAX &&
	       call_id && strlen(call_id) < CALL_ID_MAX;
}

int registrar_update(struct registrar *r, const char *aor, const char *uri,
		     uint32_t expires, const char *call_id, uint32_t cseq,
		     const struct sip_peer *source, uint64_t now_ms)
{
	struct reg_contact *c;
	struct aor *a;

	/* Over-long strings would have to be truncated, and a truncated
	 * Call-ID or URI no longer compares as RFC 3261 requires. */
	if (!args_ok(aor, uri, call_id))
		return -EINVAL;
	if (expires && expires < r->min_expires)
		return -ERANGE;
	if (expires > r->max_expires)
		expires = r->max_expires;

	a = aor_find(r, aor);
	if (a)  /* an expired binding is no binding */
		aor_expire(r, a, now_ms);
	c = a ? contact_find(a, uri) : NULL;
	if (c && !cseq_ok(c, call_id, cseq))
		return -EALREADY;
	if (!expires) {
		if (c)
			contact_remove(r, a, (unsigned)(c - a->c));
		if (a && !a->n)
			aor_remove(r, a);
		return 0;
	}
	if (!c) {
		if (a && a->n >= REG_MAX_CONTACTS)
			return -ENOSPC;
		if (!a && !(a = aor_add(r, aor)))
			return -ENOMEM;
		if (!(c = contact_append(r, a))) {
			if (!a->n)
				aor_remove(r, a);
			return -ENOMEM;
		}
	}
	contact_set(c, uri, now_ms + (uint64_t)expires * 1000, call_id, cseq,
		    source);
	return 0;
}

int registrar_remove_all(struct registrar *r, const char *aor,
			 const char *call_id, uint32_t cseq, uint64_t now_ms)
{
	struct aor *a;

	if (!aor || !call_id)
		return -EINVAL;
	a = aor_find(r, aor);
	if (!a)
		return 0;
	aor_expire(r, a, now_ms);
	/* RFC 3261 10.3 step 6: one binding with the same Call-ID and a CSeq
	 * not lower aborts the whole request, so check them all first. */
	for (unsigned i = 0; i < a->n; i++)
		if (!cseq_ok(&a->c[i], call_id, cseq))
			return -EALREADY;
	aor_remove(r, a);
	return 0;
}

int registrar_lookup(struct registrar *r, const char *aor, uint64_t now_ms,
		     struct reg_contact *out, int max)
{
	struct aor *a = aor ? aor_find(r, aor) : NULL;
	int n = 0;

	if (!a)
		return 0;
	for (unsigned i = 0; i < a->n && n < max; i++)
		if (a->c[i].expires_ms > now_ms)
			out[n++] = a->c[i];
	return n;
}

int registrar_expire(struct registrar *r, uint64_t now_ms)
{
	int n = 0;

	for (size_t i = 0; i < r->aors.nb; i++) {
		struct hnode *e = r->aors.b[i], *next;

		for (; e; e = next) {
			struct aor *a = container_of(e, struct aor, node);

			next = e->next;
			n += aor_expire(r, a, now_ms);
			if (!a->n)
				aor_remove(r, a);
		}
	}
	return n;
}

void registrar_foreach(struct registrar *r, uint64_t now_ms,
		       int (*cb)(const char *aor, const struct reg_contact *c,
				 void *arg),
		       void *arg)
{
	/* cb must not change the registrar: the walk holds chain pointers. */
	for (size_t i = 0; i < r->aors.nb; i++)
		for (struct hnode *e = r->aors.b[i]; e; e = e->next) {
			struct aor *a = container_of(e, struct aor, node);

			for (unsigned j = 0; j < a->n; j++)
				if (a->c[j].expires_ms > now_ms &&
				    cb(a->name, &a->c[j], arg))
					return;
		}
}

/* The stored bindings: registrar_count() has no clock, so a binding that
 * expired since the last registrar_expire() is still counted. */
unsigned registrar_count(const struct registrar *r)
{
	return r->nbindings;
}
