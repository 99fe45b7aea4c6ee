// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The B2BUA tests' shared set-up: see b2bua_fixture.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "b2bua.h"
#include "media.h"
#include "netaddr.h"
#include "sipmsg.h"
#include "transport.h"
#include "b2bua_fixture.h"

int fx_free_udp_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), port = -1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

struct sip_peer fx_peer(const char *addr)
{
	struct sip_peer p;

	memset(&p, 0, sizeof(p));
	if (netaddr_parse(addr, -1, &p.addr) < 0)
		abort();
	p.proto = SIP_UDP;
	return p;
}

osip_message_t *fx_parse_sent(const char *buf, size_t len, int quiet)
{
	char why[160];
	osip_message_t *m = sipmsg_parse(buf, len, why, sizeof(why));

	if (!m && !quiet)
		print_error("the B2BUA sent a message that does not parse "
			    "(%s):\n%.*s\n", why, (int)len, buf);
	return m;
}

char *fx_strndup(const char *buf, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	memcpy(s, buf, len);
	s[len] = 0;
	return s;
}

void fx_media_cfg(struct media_cfg *mc, int port_min, int port_max)
{
	media_cfg_defaults(mc);
	snprintf(mc->ifaces[0].name, sizeof(mc->ifaces[0].name), "lo");
	mc->ifaces[0].mode = ATTACH_OFF;
	mc->nifaces = 1;
	mc->port_min = port_min;
	mc->port_max = port_max;
}

int fx_media_new(struct media_engine **me, const char *pin_dir,
		 int port_min, int port_max)
{
	struct media_cfg mc;
	char err[512] = "";

	fx_media_cfg(&mc, port_min, port_max);
	mc.pin_dir = pin_dir;
	if (media_engine_new(me, &mc, err, sizeof(err))) {
		print_error("media_engine_new: %s\n", err);
		return -1;
	}
	return 0;
}

int fx_media_start(struct media_engine **me, char *pin_dir, size_t len,
		   const char *name, int port_min, int port_max)
{
	snprintf(pin_dir, len, "/tmp/xr-%s-pin.XXXXXX", name);
	if (!mkdtemp(pin_dir)) {
		print_error("mkdtemp: %s\n", strerror(errno));
		pin_dir[0] = 0;
		return -1;
	}
	return fx_media_new(me, pin_dir, port_min, port_max);
}

void fx_media_stop(struct media_engine **me, const char *pin_dir)
{
	if (*me) {
		media_engine_shutdown(*me);
		media_engine_free(*me);
	}
	*me = NULL;
	if (pin_dir[0])
		rmdir(pin_dir);
}

struct sip_transport *fx_transport(int port)
{
	struct sockaddr_storage ss;
	struct sip_transport *tp = tp_new(b2bua_on_message, NULL);
	char err[256] = "", a[64];

	snprintf(a, sizeof(a), "127.0.0.1:%d", port);
	if (!tp || netaddr_parse(a, -1, &ss) < 0 ||
	    tp_listen(tp, SIP_UDP, (struct sockaddr *)&ss, err,
		      sizeof(err)) < 0) {
		print_error("transport on %s: %s\n", a, err);
		tp_free(tp);
		return NULL;
	}
	return tp;
}
