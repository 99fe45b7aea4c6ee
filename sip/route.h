/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Static routes: a request-URI is matched by user prefix ("user=+4420",
 * longest prefix wins) or by domain ("domain=example.net") to a next-hop
 * SIP URI ("sip:gw1.example.net:5060;transport=tcp"). Read from the
 * config's route lines: "route = prefix:+4420 sip:10.0.0.5:5060" or
 * "route = domain:example.net sip:10.0.0.6". Prefix routes are tried
 * before domain routes; "prefix:" alone (empty) is the default route.
 */
#ifndef XRELAY_ROUTE_H
#define XRELAY_ROUTE_H

#include <stddef.h>

struct routes;

struct routes *routes_new(void);
void routes_free(struct routes *rt);
/* Parse one route value ("prefix:+44 sip:..."); -EINVAL with err naming
 * the problem (the caller prefixes file:line). */
int routes_add(struct routes *rt, const char *spec, char *err, size_t errlen);
/* The next hop for a request-URI's user and host, or NULL (404). */
const char *routes_lookup(const struct routes *rt, const char *user,
			  const char *host);
unsigned routes_count(const struct routes *rt);

#endif
