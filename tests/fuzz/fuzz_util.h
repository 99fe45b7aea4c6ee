/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the libFuzzer targets share: a media engine made once per process
 * (socket mode on "lo", no BPF, no port quarantine) and emptied after each
 * input, so that no session, port or socket outlives the input that made
 * it.
 */
#ifndef XRELAY_FUZZ_UTIL_H
#define XRELAY_FUZZ_UTIL_H

#include <stddef.h>

struct media_engine;

/* The engine, on 100 ports of its own from base (shifted by the process
 * id, so that parallel fuzzers rarely share a port). Aborts on failure:
 * the target cannot run without it. */
struct media_engine *fuzz_engine(unsigned base);
/* Delete every session left (the input's code should have); returns how
 * many there were. */
int fuzz_engine_clear(struct media_engine *me);
/* Log level from XR_FUZZ_LOG (error, warn, info, debug; default: error,
 * so that a run is not all warnings about the bad input it was given);
 * libosip2's trace only at debug. */
void fuzz_log_init(void);

#endif
