/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Digest authentication (RFC 2617 / RFC 3261 22.4, MD5, qop=auth) of
 * REGISTER and INVITE against a users file. Nonces are stateless (a
 * timestamp and an HMAC-like MD5 over it with a secret drawn at start), so
 * a flood of challenges costs no memory; a nonce older than its lifetime is
 * "stale"; nonce counts are tracked per nonce in a small bounded table so a
 * replayed (nonce, nc) is refused.
 *
 * Users file: one "user:realm:password" or "user:realm:HA1-hex" per line
 * ("#" comments, blank lines); a bad line names file, line and problem.
 */
#ifndef XRELAY_AUTH_H
#define XRELAY_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct auth;

/* NULL on error with err filled ("users.txt:3: missing realm ..."). */
struct auth *auth_load(const char *path, const char *realm, char *err,
		       size_t errlen);
void auth_free(struct auth *a);
/* Reload the users file in place; on error the old users stay. */
int auth_reload(struct auth *a, const char *path, char *err, size_t errlen);
unsigned auth_user_count(const struct auth *a);

/* The value of a WWW-Authenticate / Proxy-Authenticate header for a fresh
 * challenge, into buf: Digest realm="..", nonce="..", algorithm=MD5,
 * qop="auth"[, stale=true]. */
int auth_challenge(struct auth *a, uint64_t now_ms, int stale, char *buf,
		   size_t len);

enum auth_result {
	AUTH_OK = 0,
	AUTH_MISSING,      /* no credentials: challenge (401/407) */
	AUTH_STALE,        /* a good response to an expired nonce: challenge
			      again with stale=true */
	AUTH_FAILED,       /* wrong user/password, bad nonce, replay: 403 */
	AUTH_MALFORMED,    /* unparseable header: 400 */
};

/* Check an Authorization / Proxy-Authorization header value (NULL when
 * absent) for method and the request's URI as the client wrote it in the
 * digest-uri. On AUTH_OK, *user (optional) gets the user name. */
enum auth_result auth_check(struct auth *a, const char *header,
			    const char *method, uint64_t now_ms,
			    char *user, size_t userlen);

#endif
