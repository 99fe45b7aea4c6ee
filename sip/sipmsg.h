/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Small helpers over libosip2's parser for building and reading messages.
 * Outgoing messages are written as text with a string builder and parsed
 * back (which validates them), so that nothing of a received message is
 * copied by accident: a B2BUA builds every header of each leg itself.
 */
#ifndef XRELAY_SIPMSG_H
#define XRELAY_SIPMSG_H

#include <stdarg.h>
#include <stddef.h>
#include <osipparser2/osip_parser.h>

#include "sip_peer.h"

/* A growing string; oom sticks once set, so callers check once at the end. */
struct sb {
	char *p;
	size_t len, cap;
	int oom;
};
void sb_add(struct sb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sb_free(struct sb *b);

/* Once per process (libosip2's parser tables). */
void sipmsg_init(void);
/*
 * libosip2's osip_message_parse(), but a multipart body is kept whole, as
 * it came, with the message's Content-Type as it was: libosip2 would split
 * it into its parts, and leaks a part's Content-Type when the part has
 * two (memory for anyone who sends such messages; nothing here reads the
 * parts). Returns what osip_message_parse() does.
 */
int sipmsg_osip_parse(osip_message_t *m, const char *buf, size_t len);
/* NULL if it does not parse; why gets a short reason. */
osip_message_t *sipmsg_parse(const char *buf, size_t len, char *why,
			     size_t whylen);
/* Parse what a builder made (frees b). NULL on error (logged: our bug). */
osip_message_t *sipmsg_from_sb(struct sb *b);

/* Random token of n hex characters (tags, Call-IDs, branches); buf n+1. */
void sipmsg_token(char *buf, size_t n);

/* The first value of a header by name (case-insensitive; also the compact
 * form when given as alt), or NULL. */
const char *sipmsg_header(const osip_message_t *m, const char *name);
/* Does any Supported/Require header list this option tag? */
int sipmsg_has_tag(const osip_message_t *m, const char *header,
		   const char *tag);
int sipmsg_max_forwards(const osip_message_t *m); /* -1: absent */
/* The SDP body (application/sdp, or any body when no Content-Type);
 * 0 and *len 0 when there is none. */
const char *sipmsg_sdp(const osip_message_t *m, size_t *len);
/* Header values as text (osip's to_str); empty string when absent. */
int sipmsg_from_str(const osip_message_t *m, char *buf, size_t len);
int sipmsg_to_str(const osip_message_t *m, char *buf, size_t len);
const char *sipmsg_tag(osip_from_t *f); /* tag param or NULL */
const char *sipmsg_call_id(const osip_message_t *m, char *buf, size_t len);
uint32_t sipmsg_cseq(const osip_message_t *m);
const char *sipmsg_branch(const osip_message_t *m);
/* URI to text, e.g. "sip:alice@192.0.2.1:5060". */
int sipmsg_uri_str(const osip_uri_t *u, char *buf, size_t len);
/* First Contact's URI as text; -1 if none. */
int sipmsg_contact(const osip_message_t *m, char *buf, size_t len);

/*
 * A response to req: its Via headers, From, To (with to_tag added when the
 * To has none and the status is above 100; to_tag NULL: a fresh one),
 * Call-ID and CSeq; then extra (header lines, each ending in CRLF) and an
 * optional body.
 */
osip_message_t *sipmsg_response(const osip_message_t *req, int status,
				const char *reason, const char *to_tag,
				const char *extra, const char *ctype,
				const char *body, size_t bodylen);

/*
 * A response to a request that libosip2 cannot parse, from its text: the
 * Via, From, To, Call-ID and CSeq lines as they came (folds and control
 * characters made spaces, a To tag added), then extra. For a 400 to a
 * request whose start line or a header is malformed (RFC 4475 3.1.2).
 * -1, and out empty, for a response, an ACK, or a request that lacks one
 * of those headers: nothing can address an answer.
 */
int sipmsg_raw_response(const char *buf, size_t len, int status,
			const char *extra, struct sb *out);

/* A SIP URI to the address to send to: numeric host or a DNS name
 * (resolved now, blocking), port (default 5060), transport param. */
int sipmsg_uri_str_peer(const char *uri, struct sip_peer *out);

#endif
