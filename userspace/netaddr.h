/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Socket addresses to and from text: "192.0.2.1:4000", "[2001:db8::1]:4000". */
#ifndef XRELAY_NETADDR_H
#define XRELAY_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

#define NETADDR_STRLEN 64 /* "[" + INET6_ADDRSTRLEN + "]:" + port + NUL */

/* Address with port ("ip:port", "[ip6]:port"); port may be omitted when
 * default_port >= 0. Returns 0 or -1. */
int netaddr_parse(const char *s, int default_port, struct sockaddr_storage *ss);
/* Address without port ("ip" or "ip6"), port set to 0. */
int netaddr_parse_ip(const char *s, struct sockaddr_storage *ss);
/* "ip:port" / "[ip6]:port" into buf (NETADDR_STRLEN); returns buf. */
const char *netaddr_str(const struct sockaddr *sa, char *buf, size_t len);
/* Only the address. */
const char *netaddr_ip_str(const struct sockaddr *sa, char *buf, size_t len);
int netaddr_port(const struct sockaddr *sa);
void netaddr_set_port(struct sockaddr *sa, int port);
socklen_t netaddr_len(const struct sockaddr *sa);
/* Same address and port. */
int netaddr_equal(const struct sockaddr *a, const struct sockaddr *b);
/* Same address, any port. */
int netaddr_ip_equal(const struct sockaddr *a, const struct sockaddr *b);
/* A MAC "aa:bb:cc:dd:ee:ff" into 6 bytes. */
int netaddr_parse_mac(const char *s, unsigned char mac[6]);

#endif
