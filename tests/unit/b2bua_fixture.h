/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the B2BUA tests (test_b2bua.c, test_hep.c, test_torture.c,
 * test_badinput.c; test_journal.c its media engine) set up alike: the media engine in socket mode (attach off) on "lo" with its
 * pin directory, and a UDP transport on 127.0.0.1 that hands what it
 * receives to b2bua_on_message(). Errors are printed (cmocka's
 * print_error) before -1 or NULL is returned.
 */
#ifndef XR_B2BUA_FIXTURE_H
#define XR_B2BUA_FIXTURE_H

#include <stddef.h>

#include "sipmsg.h"

struct media_cfg;
struct media_engine;
struct sip_transport;

/* A free UDP port on 127.0.0.1 (bound and closed again), or -1. */
int fx_free_udp_port(void);

/* A UDP peer at addr ("ip:port"); abort() if addr does not parse. */
struct sip_peer fx_peer(const char *addr);

/* What a B2BUA send hook got (buf, len) parsed back with osip; NULL when
 * it does not parse, after printing why and the message unless quiet. */
osip_message_t *fx_parse_sent(const char *buf, size_t len, int quiet);

/* buf[0..len) as a NUL-terminated string (malloc); abort() when out of
 * memory. */
char *fx_strndup(const char *buf, size_t len);

/* mc: the defaults, one interface "lo" in attach mode off, ports
 * port_min..port_max. */
void fx_media_cfg(struct media_cfg *mc, int port_min, int port_max);

/* A media engine on "lo", attach mode off, ports port_min..port_max,
 * pinning under pin_dir. */
int fx_media_new(struct media_engine **me, const char *pin_dir,
		 int port_min, int port_max);

/* A pin directory /tmp/xr-NAME-pin.XXXXXX into pin_dir (len bytes), then
 * fx_media_new() with it. */
int fx_media_start(struct media_engine **me, char *pin_dir, size_t len,
		   const char *name, int port_min, int port_max);

/* Shut down and free *me (if any; NULL after) and remove pin_dir (if
 * made). */
void fx_media_stop(struct media_engine **me, const char *pin_dir);

/* A transport listening on UDP 127.0.0.1:port (0: any port), its handler
 * b2bua_on_message (its context set later with tp_set_ctx). */
struct sip_transport *fx_transport(int port);

#endif
