// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The metrics listener: just enough HTTP/1.x for a Prometheus scraper (and
 * curl): one GET or HEAD per connection, answered with Connection: close.
 * Everything is bounded (clients, request size, reply size, idle time), so
 * a port scanner or a stuck client costs a slot for a few seconds at most.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics.h"
#include "netaddr.h"
#include "streamsrv.h"

#define HTTP_MAX_REQ (8 << 10)   /* request line and headers */
#define HTTP_MAX_REPLY (8 << 20) /* the page: ~100 KB in practice */
#define HTTP_CLIENTS 16
#define HTTP_IDLE_MS 10000
#define PROM_CTYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_http {
	const struct xr_sources *src;
	struct streamsrv *srv;
	struct outbuf page;
};

static void reply(struct outbuf *out, int status, const char *reason,
		  const char *ctype, const char *extra, const char *body,
		  size_t len, int head)
{
	ob_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
		  "Content-Length: %zu\r\nConnection: close\r\n%s\r\n",
		  status, reason, ctype, len, extra ? extra : "");
	if (!head)
		ob_put(out, body, len);
}

static void error_page(struct outbuf *out, int status, const char *reason,
		       const char *extra, int head)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, reason);

	reply(out, status, reason, "text/plain; charset=utf-8", extra, body,
	      (size_t)n, head);
}

static void metrics_page(struct metrics_http *h, struct outbuf *out, int head)
{
	struct metrics_snapshot *s = malloc(sizeof(*s));

	if (!s) {
		error_page(out, 500, "Internal Server Error", NULL, head);
		return;
	}
	metrics_collect(h->src, s);
	ob_reset(&h->page);
	metrics_render_prom(s, &h->page);
	free(s);
	if (h->page.full) {
		error_page(out, 500, "Internal Server Error", NULL, head);
		return;
	}
	reply(out, 200, "OK", PROM_CTYPE, NULL, h->page.p, h->page.len, head);
}

/* The path without a query string is /metrics. */
static int is_metrics(const char *target, size_t len)
{
	static const char path[] = "/metrics";
	size_t n = sizeof(path) - 1;

	return len >= n && !strncmp(target, path, n) &&
	       (len == n || target[n] == '?');
}

/* The request line "METHOD TARGET HTTP/1.x"; the headers are not needed. */
static void answer(struct metrics_http *h, char *req, struct outbuf *out)
{
	char *eol = req + strcspn(req, "\r\n"), *sp1, *sp2;
	int head;

	*eol = 0;
	sp1 = strchr(req, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7)) {
		error_page(out, 400, "Bad Request", NULL, 0);
		return;
	}
	head = (size_t)(sp1 - req) == 4 && !strncmp(req, "HEAD", 4);
	if (!head && !((size_t)(sp1 - req) == 3 && !strncmp(req, "GET", 3))) {
		error_page(out, 405, "Method Not Allowed",
			   "Allow: GET, HEAD\r\n", 0);
		return;
	}
	if (!is_metrics(sp1 + 1, (size_t)(sp2 - sp1 - 1))) {
		error_page(out, 404, "Not Found", NULL, head);
		return;
	}
	metrics_page(h, out, head);
}

static enum srv_verdict http_input(void *ctx, char *in, size_t len, int full,
				   struct outbuf *out, size_t *used)
{
	/* The end of the headers; a bare-LF client is tolerated. */
	char *end = strstr(in, "\r\n\r\n");

	if (!end)
		end = strstr(in, "\n\n");
	if (strlen(in) != len) { /* a NUL byte: not HTTP */
		error_page(out, 400, "Bad Request", NULL, 0);
		return SRV_CLOSE;
	}
	if (!end) {
		if (!full)
			return SRV_MORE;
		error_page(out, 431, "Request Header Fields Too Large", NULL, 0);
		return SRV_CLOSE;
	}
	*used = len;
	answer(ctx, in, out);
	return SRV_CLOSE;
}

static const struct srv_ops http_ops = { .input = http_input };

static int listen_tcp(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	int fd, one = 1;

	if (netaddr_parse(spec, -1, &ss) < 0 ||
	    netaddr_port((struct sockaddr *)&ss) == 0) {
		snprintf(err, errlen, "metrics_listen '%s' is not ADDR:PORT "
			 "(e.g. 127.0.0.1:9642 or [::1]:9642)", spec);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		snprintf(err, errlen, "metrics: socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss,
		 netaddr_len((struct sockaddr *)&ss)) < 0 ||
	    listen(fd, 16) < 0) {
		snprintf(err, errlen, "metrics: cannot listen on %s: %s "
			 "(is another process on that port? choose another "
			 "metrics_listen, or an address of this host)", spec,
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int metrics_http_open(struct metrics_http **out, const char *listen,
		      const struct xr_sources *src, char *err, size_t errlen)
{
	struct srv_limits lim = { HTTP_CLIENTS, HTTP_MAX_REQ,
				  HTTP_MAX_REPLY + 512, HTTP_IDLE_MS };
	struct metrics_http *h = calloc(1, sizeof(*h));
	int fd;

	*out = NULL;
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fd = listen_tcp(listen, err, errlen);
	if (fd < 0) {
		free(h);
		return -1;
	}
	h->src = src;
	ob_init(&h->page, HTTP_MAX_REPLY);
	h->srv = srv_new(fd, &http_ops, h, &lim, err, errlen);
	if (!h->srv) {
		metrics_http_free(h);
		return -1;
	}
	*out = h;
	return 0;
}

void metrics_http_free(struct metrics_http *h)
{
	if (!h)
		return;
	srv_free(h->srv);
	ob_free(&h->page);
	free(h);
}

int metrics_http_fd(const struct metrics_http *h) { return srv_fd(h->srv); }
void metrics_http_run(struct metrics_http *h) { srv_run(h->srv); }
int metrics_http_timeout_ms(const struct metrics_http *h)
{
	return srv_timeout_ms(h->srv);
}
