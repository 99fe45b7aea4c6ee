/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The registrar's location service (RFC 3261 section 10.3): for each
 * address of record, its contacts with expiry, Call-ID and CSeq (an older
 * CSeq from the same Call-ID is refused), and the source the REGISTER came
 * from (calls go there, for phones behind NAT). Pure data: the B2BUA turns
 * a REGISTER into calls here and builds the response.
 */
#ifndef XRELAY_REGISTRAR_H
#define XRELAY_REGISTRAR_H

#include <stddef.h>
#include <stdint.h>

#include "sip_peer.h"

#define REG_MAX_CONTACTS 8   /* per AOR; more are refused with 403 */
#define REG_URI_MAX 256

struct reg_contact {
	char uri[REG_URI_MAX];     /* the Contact URI, as registered */
	uint64_t expires_ms;       /* absolute, on the caller's clock */
	char call_id[128];
	uint32_t cseq;
	struct sip_peer source;    /* where the REGISTER came from */
};

struct registrar;

struct registrar *registrar_new(uint32_t min_expires, uint32_t max_expires);
void registrar_free(struct registrar *r);

/*
 * One contact of a REGISTER for aor ("user@domain", lower-cased by the
 * caller). expires 0 removes it; "*" is registrar_remove_all(). Expiry
 * above max is cut to max. Returns 0, -ERANGE (expires below min:
 * 423 with Min-Expires), -EALREADY (CSeq not newer than the binding's for
 * the same Call-ID, RFC 3261 10.3 step 7: the caller answers 500),
 * -ENOSPC (too many contacts: 403).
 */
int registrar_update(struct registrar *r, const char *aor, const char *uri,
		     uint32_t expires, const char *call_id, uint32_t cseq,
		     const struct sip_peer *source, uint64_t now_ms);
/* REGISTER with "Contact: *" and Expires: 0. */
int registrar_remove_all(struct registrar *r, const char *aor,
			 const char *call_id, uint32_t cseq, uint64_t now_ms);

/* The live contacts of aor (expired ones are skipped), up to max; returns
 * how many were copied. */
int registrar_lookup(struct registrar *r, const char *aor, uint64_t now_ms,
		     struct reg_contact *out, int max);

/* Drop expired bindings; returns how many. Cheap enough to call each second. */
int registrar_expire(struct registrar *r, uint64_t now_ms);

/* Every live binding (for `xrelayctl regs`); stop when cb returns non-zero. */
void registrar_foreach(struct registrar *r, uint64_t now_ms,
		       int (*cb)(const char *aor, const struct reg_contact *c,
				 void *arg),
		       void *arg);
unsigned registrar_count(const struct registrar *r);

#endif
