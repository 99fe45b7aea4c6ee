/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Call detail records: one JSON object per line per call, ended or failed,
 * appended to a file (opened O_APPEND; reopened on reload for log
 * rotation). Every string is JSON-escaped.
 */
#ifndef XRELAY_CDR_H
#define XRELAY_CDR_H

#include <stdint.h>
#include <stdio.h>

struct cdr_leg_media {               /* one leg: packets arriving from it */
	uint64_t kernel_packets, kernel_bytes;
	uint64_t user_packets, user_bytes;
	uint64_t drops;
};

struct cdr {
	const char *call_id_a, *call_id_b;
	const char *from, *to;           /* URIs of the A leg's From and To */
	uint64_t start_us, answer_us, end_us;  /* wall clock (µs since epoch);
						  answer 0 = never answered */
	const char *end_reason;          /* "bye", "cancel", "failed",
					    "media-timeout", "session-timer",
					    "no-ack", "admin", "shutdown",
					    "limit" (refused: call limit) */
	const char *hangup_by;           /* "caller", "callee", "relay" */
	int final_status;                /* the final SIP status of the call */
	struct cdr_leg_media leg[2];     /* [0] = A, [1] = B */
};

struct cdr_writer;

/* path NULL or "": CDRs are disabled (cdr_write does nothing). */
struct cdr_writer *cdr_open(const char *path, char *err, size_t errlen);
void cdr_close(struct cdr_writer *w);
int cdr_reopen(struct cdr_writer *w, char *err, size_t errlen);
/* One line, written with one write(2) so that lines never interleave. */
int cdr_write(struct cdr_writer *w, const struct cdr *c);
/* The line without the newline, for tests and logs; returns its length. */
int cdr_format(const struct cdr *c, char *buf, size_t len);

#endif
