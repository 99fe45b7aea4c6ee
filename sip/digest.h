/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The RFC 2617 digest computations behind auth.c, exposed so that tests can
 * check them against the RFC's own example. Every hash is 32 lower-case hex
 * digits and a NUL.
 */
#ifndef XRELAY_DIGEST_H
#define XRELAY_DIGEST_H

#include <stddef.h>

#define DIGEST_HEX_LEN 32

/* out = hex(MD5(data)). */
void digest_md5_hex(const void *data, size_t len, char out[DIGEST_HEX_LEN + 1]);

/* HA1 = MD5(user ":" realm ":" password) (algorithm MD5, not MD5-sess). */
void digest_ha1(const char *user, const char *realm, const char *password,
		char out[DIGEST_HEX_LEN + 1]);

/*
 * request-digest with HA2 = MD5(method ":" uri):
 *   qop "auth": MD5(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)
 *   qop NULL:   MD5(HA1 ":" nonce ":" HA2)   (RFC 2069; nc, cnonce unused)
 */
void digest_response(const char *ha1, const char *nonce, const char *nc,
		     const char *cnonce, const char *qop, const char *method,
		     const char *uri, char out[DIGEST_HEX_LEN + 1]);

#endif
