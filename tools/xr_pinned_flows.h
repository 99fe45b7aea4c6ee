/*
 * xr_pinned_flows.h - the flows of a pinned xrelay, for the bench tools
 * that read the maps directly with libbpf (bench_gen, bench_bare,
 * sipload: sipload does not link the library).
 *
 * A flow is in one of two places (bpf/xrelay_abi.h):
 *   - xr_flows, the 5-tuple hash;
 *   - xr_fast4, the per-port array of the IPv4 flows of the engine's own
 *     ports, an entry in use standing for the key
 *       local  = (xr_addr4 key, port_min + (idx - base)),
 *       remote = (remote_addr, remote_port), XR_AF_INET, UDP,
 *     for the xr_addr4 entry whose [base, base + nports) holds idx.
 * Pins of older layouts have no xr_addr4 / xr_fast4: then xr_flows only.
 * The same reconstruction as fast4_key() in userspace/fastpath.c.
 *
 * Header-only (static inline functions).
 */
#ifndef XR_PINNED_FLOWS_H
#define XR_PINNED_FLOWS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "xrelay_abi.h"

#define XRP_MAX_ADDR4 256   /* xr_addr4's max_entries in the program */
#define XRP_CHUNK     4096  /* xr_fast4 entries per batch lookup */

struct xrp_fast4 {
	int addr4_fd, fast4_fd; /* -1: not pinned (older layout) */
	__u32 size;             /* xr_fast4's max_entries */
	int naddr;
	struct {
		__u32 addr; /* network order */
		struct xr_addr4 slot;
	} addr[XRP_MAX_ADDR4];
};

typedef int (*xrp_flow_cb)(const struct xr_flow_key *k,
			   const struct xr_flow *v, void *arg);

static inline int xrp_open_pin(const char *pin_dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	return bpf_obj_get(path);
}

static inline void xrp_fast4_close(struct xrp_fast4 *f)
{
	if (f->addr4_fd >= 0)
		close(f->addr4_fd);
	if (f->fast4_fd >= 0)
		close(f->fast4_fd);
	f->addr4_fd = f->fast4_fd = -1;
	f->naddr = 0;
	f->size = 0;
}

/* (Re)reads the xr_addr4 layout; the fds stay open. */
static inline void xrp_fast4_layout(struct xrp_fast4 *f)
{
	__u32 k, next, *prev = NULL;

	f->naddr = 0;
	if (f->addr4_fd < 0)
		return;
	while (f->naddr < XRP_MAX_ADDR4 &&
	       bpf_map_get_next_key(f->addr4_fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(f->addr4_fd, &k,
					&f->addr[f->naddr].slot) == 0)
			f->addr[f->naddr++].addr = k;
	}
}

/* Opens xr_addr4 and xr_fast4 under pin_dir if pinned (both or neither)
 * and reads the layout. Never fails: without them, f has no entry. */
static inline void xrp_fast4_open(struct xrp_fast4 *f, const char *pin_dir)
{
	struct bpf_map_info info = { 0 };
	__u32 il = sizeof(info);

	memset(f, 0, sizeof(*f));
	f->addr4_fd = xrp_open_pin(pin_dir, XR_MAP_ADDR4);
	f->fast4_fd = xrp_open_pin(pin_dir, XR_MAP_FAST4);
	if (f->addr4_fd < 0 || f->fast4_fd < 0 ||
	    bpf_obj_get_info_by_fd(f->fast4_fd, &info, &il) ||
	    info.value_size != sizeof(struct xr_fast4)) {
		xrp_fast4_close(f);
		return;
	}
	f->size = info.max_entries;
	xrp_fast4_layout(f);
}

/* The key of xr_fast4's entry idx (in use), or -1 if no address holds it. */
static inline int xrp_fast4_key(const struct xrp_fast4 *f, __u32 idx,
			 const struct xr_fast4 *e, struct xr_flow_key *k)
{
	for (int i = 0; i < f->naddr; i++) {
		const struct xr_addr4 *s = &f->addr[i].slot;

		if (idx < s->base || idx - s->base >= s->nports)
			continue;
		memset(k, 0, sizeof(*k));
		memcpy(k->local_addr, &f->addr[i].addr, 4);
		memcpy(k->remote_addr, &e->remote_addr, 4);
		k->local_port = htons((__u16)(s->port_min + (idx - s->base)));
		k->remote_port = e->remote_port;
		k->family = XR_AF_INET;
		k->proto = XR_PROTO_UDP;
		return 0;
	}
	return -1;
}

/*
 * Calls cb for each entry of xr_fast4 in use (that an address holds),
 * read by batch lookups (one entry at a time where the kernel has none).
 * cb NULL: counts the entries in use only. Returns the number of entries
 * or -errno; stops early at a cb returning non-zero.
 */
static inline long long xrp_fast4_each(struct xrp_fast4 *f, xrp_flow_cb cb,
				void *arg)
{
	struct xr_fast4 *vals;
	__u32 *keys, batch = 0, n;
	long long count = 0;
	int batched = 1, rc = 0;

	if (f->fast4_fd < 0 || f->size == 0)
		return 0;
	keys = calloc(XRP_CHUNK, sizeof(*keys));
	vals = calloc(XRP_CHUNK, sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (__u32 pos = 0; pos < f->size;) {
		int done = 0;

		n = XRP_CHUNK;
		if (batched) {
			DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);

			if (bpf_map_lookup_batch(f->fast4_fd,
						 pos ? &batch : NULL, &batch,
						 keys, vals, &n, &opts) < 0) {
				if (errno == ENOENT) {
					done = 1;
				} else if (pos == 0) {
					batched = 0; /* no batch ops: one by one */
					continue;
				} else {
					rc = -errno;
					break;
				}
			}
		} else {
			__u32 i;

			for (i = 0; i < XRP_CHUNK && pos + i < f->size; i++) {
				keys[i] = pos + i;
				if (bpf_map_lookup_elem(f->fast4_fd, &keys[i],
							&vals[i]))
					memset(&vals[i], 0, sizeof(vals[i]));
			}
			n = i;
		}
		for (__u32 i = 0; i < n; i++) {
			struct xr_flow_key k;

			if (!vals[i].in_use)
				continue;
			if (!cb) {
				count++;
				continue;
			}
			if (xrp_fast4_key(f, keys[i], &vals[i], &k))
				continue;
			count++;
			if (cb(&k, &vals[i].flow, arg)) {
				done = 1;
				break;
			}
		}
		pos += n;
		if (done || n == 0)
			break;
	}
	free(keys);
	free(vals);
	return rc ? rc : count;
}

/*
 * Calls cb for every flow of the xrelay pinned in pin_dir: xr_flows'
 * entries, then xr_fast4's in use. Returns the number of flows, or
 * -errno if xr_flows cannot be opened (message on stderr, prefixed by
 * who).
 */
static inline long long xrp_flows_each(const char *pin_dir, const char *who,
				xrp_flow_cb cb, void *arg)
{
	struct xr_flow_key k, next;
	struct xr_flow v;
	struct xrp_fast4 *f;
	long long n = 0, m;
	void *prev = NULL;
	int fd;

	fd = xrp_open_pin(pin_dir, XR_MAP_FLOWS);
	if (fd < 0) {
		int rc = -errno;

		fprintf(stderr, "%s: %s/%s: %s\n", who, pin_dir, XR_MAP_FLOWS,
			strerror(-rc));
		return rc;
	}
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;
		n++;
		if (cb(&k, &v, arg)) {
			close(fd);
			return n;
		}
	}
	close(fd);
	f = malloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	xrp_fast4_open(f, pin_dir);
	m = xrp_fast4_each(f, cb, arg);
	xrp_fast4_close(f);
	free(f);
	if (m < 0) {
		fprintf(stderr, "%s: %s/%s: %s\n", who, pin_dir, XR_MAP_FAST4,
			strerror((int)-m));
		return m;
	}
	return n + m;
}

#endif /* XR_PINNED_FLOWS_H */
