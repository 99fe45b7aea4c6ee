// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <osipparser2/osip_port.h>

#include "fuzz_util.h"
#include "log.h"
#include "media.h"

static void osip_quiet(const char *fi, int li, osip_trace_level_t level,
		       const char *chfr, va_list ap)
{
	(void)fi, (void)li, (void)level, (void)chfr, (void)ap;
}

void fuzz_log_init(void)
{
	const char *v = getenv("XR_FUZZ_LOG");
	int l = v ? log_level_parse(v) : -1;

	log_set_level(l >= 0 ? (enum log_level)l : LOG_ERR);
	if (l < LOG_DEBUG) /* libosip2's own trace of every parse error */
		osip_trace_initialize_func(OSIP_FATAL, osip_quiet);
}

struct media_engine *fuzz_engine(unsigned base)
{
	static char pin_dir[64];
	struct media_engine *me = NULL;
	struct media_cfg mc;
	char err[512] = "";

	snprintf(pin_dir, sizeof(pin_dir), "/tmp/xr-fuzz-pin.XXXXXX");
	if (!mkdtemp(pin_dir)) {
		perror("fuzz: mkdtemp");
		abort();
	}
	media_cfg_defaults(&mc);
	snprintf(mc.ifaces[0].name, sizeof(mc.ifaces[0].name), "lo");
	mc.ifaces[0].mode = ATTACH_OFF;
	mc.nifaces = 1;
	mc.port_min = base + (unsigned)(getpid() % 20) * 100;
	mc.port_max = mc.port_min + 99;
	mc.quarantine_ms = 0; /* a port freed by one input is free for the next */
	mc.pin_dir = pin_dir;
	if (media_engine_new(&me, &mc, err, sizeof(err))) {
		fprintf(stderr, "fuzz: media_engine_new: %s\n", err);
		abort();
	}
	rmdir(pin_dir); /* socket mode pins nothing */
	return me;
}

static int collect(struct media_session *s, void *arg)
{
	struct media_session ***v = arg;

	*(*v)++ = s;
	return 0;
}

int fuzz_engine_clear(struct media_engine *me)
{
	struct media_session *all[1024], **p;
	int n = 0;

	for (;;) {
		struct media_totals t;

		if (media_engine_totals(me, &t) < 0)
			abort();
		if (t.sessions == 0) {
			if (t.ports_used) { /* every session is gone */
				fprintf(stderr, "fuzz: %u port pairs still "
					"used with no session\n", t.ports_used);
				abort();
			}
			return n;
		}
		if (t.sessions > sizeof(all) / sizeof(all[0]))
			abort(); /* more than any input of ours can make */
		p = all;
		media_session_foreach(me, collect, &p);
		if (p == all)
			abort(); /* counted but not listed */
		for (struct media_session **q = all; q < p; q++, n++)
			media_session_delete(me, *q);
	}
}
