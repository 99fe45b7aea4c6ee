/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SDP (RFC 4566 / 8866) as the relay needs it: parse what anchoring media
 * depends on (connection addresses, media ports, RTCP, mux, direction, the
 * origin), and rewrite a body line by line so that everything the relay
 * does not own passes through byte for byte.
 */
#ifndef XRELAY_SDP_H
#define XRELAY_SDP_H

#include <stddef.h>
#include <sys/socket.h>

#define SDP_MAX_MEDIA 16
#define SDP_MAX_LEN   65536

enum sdp_dir { SDP_SENDRECV = 0, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };

struct sdp_media {
	char type[16];                 /* audio, video, ... */
	char proto[32];                /* RTP/AVP, RTP/SAVP, ... */
	unsigned port;                 /* 0 = rejected stream */
	struct sockaddr_storage addr;  /* media or session c=, port = port */
	unsigned rtcp_port;            /* a=rtcp, or port + 1 */
	int has_rtcp_attr;
	int rtcp_mux;                  /* a=rtcp-mux */
	int has_ice;                   /* candidates or ICE credentials */
	enum sdp_dir dir;              /* media level, else session level */
	int null_addr;                 /* c=0.0.0.0 / :: (RFC 2543 hold) */
};

struct sdp {
	unsigned long long o_sess_id, o_version;
	int nmedia;
	struct sdp_media m[SDP_MAX_MEDIA];
};

/* Returns 0, or -1 with err naming the line and the problem. */
int sdp_parse(const char *body, size_t len, struct sdp *out, char *err,
	      size_t errlen);

struct sdp_rewrite_media {
	struct sockaddr_storage addr;  /* the relay's advertised address+port */
	unsigned rtcp_port;            /* the relay's RTCP port */
};

struct sdp_rewrite {
	unsigned long long o_version;  /* written into o= */
	struct sdp_rewrite_media m[SDP_MAX_MEDIA];
};

/*
 * The body with every media line anchored on the relay: m= ports, c=
 * (session and media level; a null hold address is kept), o= address and
 * version, a=rtcp set to the relay's RTCP port or removed with rtcp-mux,
 * ICE attributes removed. Rejected streams (port 0) stay rejected. Lines
 * end in CRLF. Returns a malloc'd NUL-terminated string, or NULL.
 */
char *sdp_rewrite(const char *body, size_t len, const struct sdp *parsed,
		  const struct sdp_rewrite *rw);

const char *sdp_dir_name(enum sdp_dir d);

#endif
