// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The ng control protocol (userspace/ng.c, ng_cmd.c, ng_opts.c, bencode.c)
 * as a Kamailio, or anyone who can reach the listener, drives it. An input
 * is one or more messages ("COOKIE SP DICT") separated by a 0x1e byte, run
 * in order against one media engine, so that offer, answer, query and
 * delete of the same call meet; each input starts with a fresh ng layer
 * and leaves no session behind.
 *
 * The codec on its own, for every message: a dictionary that decodes is
 * encoded again in its own format, and that encoding must decode to a tree
 * that encodes to the same bytes.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "fuzz_util.h"
#include "media.h"
#include "netaddr.h"
#include "ng.h"

#define MAX_MSGS 32

static struct media_engine *me;
static struct sockaddr_storage clients[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_log_init();
	me = fuzz_engine(47000);
	netaddr_parse("127.0.0.1:40000", 0, &clients[0]);
	netaddr_parse("[::1]:40001", 0, &clients[1]);
	return 0;
}

static void roundtrip(const char *buf, size_t len)
{
	struct bn_arena *a = bn_arena_new(1 << 20);
	struct bnode *t, *t2;
	const char *sp = memchr(buf, ' ', len);
	char err[128], *e1 = NULL, *e2 = NULL;
	size_t used, l1, l2;
	int f;

	if (!a)
		return;
	if (!sp || sp + 1 == buf + len ||
	    (f = bn_format_of(sp[1])) < 0 ||
	    bn_decode(a, (enum bn_format)f, sp + 1,
		      len - (size_t)(sp + 1 - buf), &t, &used, err,
		      sizeof(err)) != 0)
		goto out;
	e1 = bn_encode(t, (enum bn_format)f, &l1);
	if (!e1)
		goto out;
	if (bn_decode(a, (enum bn_format)f, e1, l1, &t2, &used, err,
		      sizeof(err)) != 0) {
		if (bn_arena_failed(a))
			goto out; /* the arena's limit, not the codec */
		fprintf(stderr, "an encoding of ours does not decode (%s):\n"
			"%.*s\n", err, (int)l1, e1);
		abort();
	}
	if (used != l1)
		abort();
	e2 = bn_encode(t2, (enum bn_format)f, &l2);
	if (e2 && (l1 != l2 || memcmp(e1, e2, l1))) {
		fprintf(stderr, "encoding is not stable:\n%.*s\n%.*s\n",
			(int)l1, e1, (int)l2, e2);
		abort();
	}
out:
	free(e1);
	free(e2);
	bn_arena_free(a);
}

static int collect(struct media_session *s, void *arg)
{
	struct media_session ***v = arg;

	*(*v)++ = s;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t now_ms = 1000000;
	struct ng_cfg cfg = { .max_sessions = 8, .media_timeout_ms = 1 };
	const char *p = (const char *)data, *end = p + size;
	struct media_session *all[64], **q = all;
	struct media_totals t;
	struct ng *ng = ng_new(me, &cfg);
	int n = 0;

	if (!ng)
		abort();
	while (p <= end && n < MAX_MSGS) {
		const char *sep = memchr(p, 0x1e, (size_t)(end - p));
		size_t len = (size_t)((sep ? sep : end) - p);
		char *msg = malloc(len ? len : 1), *out = NULL;
		size_t outlen = 0;

		if (!msg)
			abort();
		memcpy(msg, p, len); /* exactly len bytes: ASan sees overreads */
		now_ms += 10;
		if (ng_message(ng, msg, len, (struct sockaddr *)&clients[n & 1],
			       now_ms, &out, &outlen) == 0) {
			const char *sp = memchr(msg, ' ', len);

			if (!out || !sp || outlen <= (size_t)(sp - msg) ||
			    memcmp(out, msg, (size_t)(sp - msg) + 1)) {
				fprintf(stderr, "a reply that does not echo "
					"the cookie\n");
				abort();
			}
		}
		roundtrip(msg, len);
		free(out);
		free(msg);
		n++;
		if (!sep)
			break;
		p = sep + 1;
	}
	ng_tick(ng, now_ms + 100000); /* the reply cache expires */
	/* The idle report on what is left: ng deletes its answered calls. */
	if (media_engine_totals(me, &t) == 0 &&
	    t.sessions > 0 && t.sessions <= sizeof(all) / sizeof(all[0])) {
		media_session_foreach(me, collect, &q);
		for (struct media_session **s = all; s < q; s++)
			ng_media_idle(ng, *s);
	}
	ng_free(ng);
	fuzz_engine_clear(me);
	return 0;
}
