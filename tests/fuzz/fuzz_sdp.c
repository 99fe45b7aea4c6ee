// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * SDP parse and rewrite (userspace/sdp.c): any body the network sends.
 * A body that parses is rewritten onto a relay address (IPv4 or IPv6,
 * chosen by the body's length, so both are tried), and the rewrite must
 * itself parse, keep every stream, and put each stream that was not
 * rejected on the relay's port.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "netaddr.h"
#include "sdp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	return 0;
}

static void relay_addr(struct sockaddr_storage *ss, int v6, unsigned port)
{
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, "2001:db8::53", &s6->sin6_addr);
		s6->sin6_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		inet_pton(AF_INET, "203.0.113.7", &s4->sin_addr);
		s4->sin_port = htons((uint16_t)port);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sdp in, out;
	struct sdp_rewrite rw;
	char err[256], *body;
	int v6 = size & 1;

	if (sdp_parse((const char *)data, size, &in, err, sizeof(err)) < 0)
		return 0;
	if (in.nmedia < 0 || in.nmedia > SDP_MAX_MEDIA)
		abort();
	memset(&rw, 0, sizeof(rw));
	rw.o_version = in.o_version + 1;
	for (int i = 0; i < SDP_MAX_MEDIA; i++) {
		relay_addr(&rw.m[i].addr, v6, 20000 + 2 * (unsigned)i);
		rw.m[i].rtcp_port = 20001 + 2 * (unsigned)i;
	}
	body = sdp_rewrite((const char *)data, size, &in, &rw);
	if (!body)
		return 0; /* out of memory, or too big once rewritten */
	if (sdp_parse(body, strlen(body), &out, err, sizeof(err)) < 0) {
		fprintf(stderr, "the rewrite does not parse (%s):\n%s\n", err,
			body);
		abort();
	}
	if (out.nmedia != in.nmedia) {
		fprintf(stderr, "%d streams in, %d in the rewrite:\n%s\n",
			in.nmedia, out.nmedia, body);
		abort();
	}
	for (int i = 0; i < in.nmedia; i++) {
		if (!in.m[i].port != !out.m[i].port ||
		    (in.m[i].port && out.m[i].port != 20000 + 2 * (unsigned)i)) {
			fprintf(stderr, "stream %d: port %u in, %u in the "
				"rewrite (relay %u):\n%s\n", i, in.m[i].port,
				out.m[i].port, 20000 + 2 * i, body);
			abort();
		}
	}
	free(body);
	return 0;
}
