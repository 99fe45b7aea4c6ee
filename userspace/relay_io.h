/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The media engine's sockets: the path for the packets the kernel does not
 * forward (first packets, packets to latch, the whole stream in mode off).
 *
 * Steered mode (any BPF attach mode): the sk_lookup program hands every
 * allocated relay port to one UDP socket per address family, which reads
 * each packet's original destination; packets go out through a raw socket
 * that writes the relay port as the source. Descriptors: four in all,
 * whatever the number of calls.
 *
 * Socket mode (attach mode off everywhere): one UDP socket per relay port,
 * bounded by the descriptor limit, which the engine reports; packets go out
 * through a raw socket too when the daemon may open one (CAP_NET_RAW),
 * else through the port's socket.
 *
 * Receiving and sending are batched with recvmmsg/sendmmsg.
 */
#ifndef XRELAY_RELAY_IO_H
#define XRELAY_RELAY_IO_H

#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>

struct relay_io;
struct fastpath;

/* A packet that arrived: owner is the port's owner in socket mode, NULL in
 * steered mode (the engine looks the port up by local). */
typedef void (*relay_io_cb)(void *arg, void *owner,
			    const struct sockaddr *local,
			    const struct sockaddr *src, const void *buf,
			    size_t len);

/* fp != NULL: steered mode (attaches sk_lookup to this network namespace). */
struct relay_io *relay_io_new(int epfd, struct fastpath *fp, char *err,
			      size_t errlen);
void relay_io_free(struct relay_io *io);

/* Socket mode: bind local (address and port) for owner and return the fd;
 * steered mode: returns -1 and does nothing. < -1: -errno. */
int relay_io_open_port(struct relay_io *io, const struct sockaddr *local,
		       void *owner);
void relay_io_close_port(struct relay_io *io, int fd);

/* Queue a packet from local to dst; fd is the port's socket, used in
 * socket mode when there is no raw socket. relay_io_flush() sends what is
 * queued: the caller's, after its batch of relay_io_handle() calls (so that
 * one sendmmsg takes the packets of many ports), or a full queue; tag must
 * stay valid until then. 0 means queued, not sent: only the sent callback
 * says sent. */
int relay_io_send(struct relay_io *io, int fd, const struct sockaddr *local,
		  const struct sockaddr *dst, const void *buf, size_t len,
		  void *tag);
void relay_io_flush(struct relay_io *io);

/* Called by the flush for every packet the kernel took (len: payload
 * bytes, family: AF_INET/AF_INET6); a packet the socket refused (buffer
 * full, no route) is not reported: it was not sent. */
typedef void (*relay_io_sent_cb)(void *arg, void *tag, int family,
				 size_t len);
void relay_io_set_sent_cb(struct relay_io *io, relay_io_sent_cb cb,
			  void *arg);

/* An epoll event of one of the io's sockets: read a batch, call cb per
 * packet, then flush; again while the batches come full, up to 256
 * packets. Returns 0 if the event was not the io's. */
int relay_io_handle(struct relay_io *io, const struct epoll_event *ev,
		    relay_io_cb cb, void *arg);

/* epoll data.ptr values the io registers carry this tag as first field. */
#define RELAY_IO_TAG 0x52454c41u /* "RELA" */

#endif
