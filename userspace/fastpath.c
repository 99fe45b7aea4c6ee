// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Open -> set rodata -> load (pinned maps reused) -> attach, one cleanup
 * path; then plain map operations on the pinned maps.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fastpath.h"
#include "log.h"
#include "xrelay.skel.h"

/* TC filter identity: one fixed handle/priority, so detach finds ours. */
#define TC_HANDLE 0x5852 /* "XR" */
#define TC_PRIO   0xc000

struct fastpath {
	struct xrelay_bpf *skel; /* NULL when only the pinned maps are open */
	struct bpf_link *steer;  /* sk_lookup, attached to our netns */
	int flows_fd, ports_fd, stats_fd, dir_stats_fd;
	int addr4_fd, fast4_fd; /* -1: none (pins of an older version) */
	struct fastpath_addr4 addr4[FASTPATH_MAX_ADDR4];
	int naddr4;
	__u32 fast4_size;
	int ncpus;
};

static void fast4_read_layout(struct fastpath *fp);

static const char *const mode_names[] = {
	[ATTACH_OFF] = "off",
	[ATTACH_XDP] = "xdp",
	[ATTACH_XDP_GENERIC] = "xdp-generic",
	[ATTACH_TC] = "tc",
};

static const char *const reason_names[XR_REASON_MAX] = {
	[XR_FWD_TX] = "fwd_tx",
	[XR_FWD_REDIRECT] = "fwd_redirect",
	[XR_PASS_NOT_IP] = "pass_not_ip",
	[XR_PASS_NOT_UDP] = "pass_not_udp",
	[XR_PASS_FRAGMENT] = "pass_fragment",
	[XR_PASS_MALFORMED] = "pass_malformed",
	[XR_PASS_IP_OPTIONS_V6] = "pass_ipv6_ext_headers",
	[XR_PASS_VLAN] = "pass_vlan_stacked",
	[XR_PASS_NO_ENTRY] = "pass_no_entry",
	[XR_PASS_FOREIGN_SRC] = "pass_foreign_source",
	[XR_PASS_FOREIGN_SAMPLE] = "pass_foreign_sample",
	[XR_DROP_FOREIGN_SRC] = "drop_foreign_source",
	[XR_PASS_USERSPACE] = "pass_to_userspace",
	[XR_PASS_FAMILY] = "pass_family_change",
	[XR_PASS_NO_NEIGH] = "pass_no_neighbour",
	[XR_PASS_FIB_FAIL] = "pass_no_route",
	[XR_PASS_ERROR] = "pass_error",
};

const char *xr_reason_name(unsigned int reason)
{
	if (reason >= XR_REASON_MAX || !reason_names[reason])
		return "unknown";
	return reason_names[reason];
}

int attach_mode_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strcmp(name, mode_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *attach_mode_name(enum attach_mode mode)
{
	return (unsigned)mode < sizeof(mode_names) / sizeof(mode_names[0]) ?
		mode_names[mode] : "unknown";
}

static void seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/*
 * The pinned maps: the name they are pinned by, where the handle keeps
 * the fd, and whether a pin directory without it is still usable (pins of
 * an older version). One table for loading, opening, closing, unpinning.
 */
static const struct pinned_map {
	const char *name;
	size_t fd_off;
	int optional;
} pinned_maps[] = {
	{ XR_MAP_FLOWS, offsetof(struct fastpath, flows_fd), 0 },
	{ XR_MAP_PORTS, offsetof(struct fastpath, ports_fd), 0 },
	{ XR_MAP_STATS, offsetof(struct fastpath, stats_fd), 0 },
	{ XR_MAP_DIR_STATS, offsetof(struct fastpath, dir_stats_fd), 1 },
	{ XR_MAP_ADDR4, offsetof(struct fastpath, addr4_fd), 1 },
	{ XR_MAP_FAST4, offsetof(struct fastpath, fast4_fd), 1 },
};
#define NPINNED (sizeof(pinned_maps) / sizeof(pinned_maps[0]))

static int *map_fd(struct fastpath *fp, const struct pinned_map *m)
{
	return (int *)((char *)fp + m->fd_off);
}

static struct fastpath *fastpath_new(void)
{
	struct fastpath *fp = calloc(1, sizeof(*fp));

	if (!fp)
		return NULL;
	for (size_t i = 0; i < NPINNED; i++)
		*map_fd(fp, &pinned_maps[i]) = -1;
	fp->ncpus = libbpf_num_possible_cpus();
	return fp;
}

/*
 * Pins need a bpffs. Distributions mount one on /sys/fs/bpf at boot, but a
 * minimal system or a container may not: mount it there, as systemd would.
 */
static int ensure_bpffs(const char *pin, char *err, size_t errlen)
{
	static const char root[] = "/sys/fs/bpf";
	struct statfs st;

	if (strncmp(pin, root, sizeof(root) - 1) != 0)
		return 0; /* the operator chose another bpffs */
	if (statfs(root, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", root, "bpf", 0, "mode=0700") == 0) {
		log_info("mounted bpffs on %s (it was not mounted)", root);
		return 0;
	}
	seterr(err, errlen, "%s is not a bpffs and mounting one failed (%s): "
	       "mount it (mount -t bpf bpf %s) or set another pin directory",
	       root, strerror(errno), root);
	return -errno;
}

int fastpath_load(struct fastpath **fpp, const struct fastpath_opts *o,
		  char *err, size_t errlen)
{
	const char *pin = o && o->pin_dir ? o->pin_dir : XR_PIN_DIR_DEFAULT;
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = pin);
	struct fastpath *fp;
	int rc;

	fp = fastpath_new();
	if (!fp)
		return -ENOMEM;
	if (fp->ncpus <= 0) {
		seterr(err, errlen, "cannot count the possible CPUs");
		rc = -EINVAL;
		goto fail;
	}
	rc = ensure_bpffs(pin, err, errlen);
	if (rc)
		goto fail;
	if (mkdir(pin, 0700) && errno != EEXIST) {
		rc = -errno;
		seterr(err, errlen, "cannot create the pin directory %s: %s "
		       "(is bpffs mounted on /sys/fs/bpf?)", pin, strerror(-rc));
		goto fail;
	}
	fp->skel = xrelay_bpf__open_opts(&oo);
	if (!fp->skel) {
		rc = -errno;
		seterr(err, errlen, "cannot open the BPF object: %s",
		       strerror(-rc));
		goto fail;
	}
	if (o && o->ttl)
		fp->skel->rodata->cfg_ttl = o->ttl;
	if (o && o->sample_ns)
		fp->skel->rodata->cfg_sample_ns = o->sample_ns;
	if (o && o->max_flows)
		bpf_map__set_max_entries(fp->skel->maps.xr_flows, o->max_flows);
	if (o && o->max_ports)
		bpf_map__set_max_entries(fp->skel->maps.xr_ports, o->max_ports);
	if (o && o->fast4_entries)
		bpf_map__set_max_entries(fp->skel->maps.xr_fast4,
					 o->fast4_entries);
	rc = xrelay_bpf__load(fp->skel);
	if (rc) {
		if (rc == -EPERM)
			seterr(err, errlen, "loading the BPF programs was refused "
			       "(EPERM): run as root or give xrelayd CAP_BPF, "
			       "CAP_NET_ADMIN and CAP_PERFMON");
		else
			seterr(err, errlen, "loading the BPF programs failed: "
			       "%s. If maps pinned under %s come from another "
			       "xrelay version or size, remove them "
			       "(xrelay-fp unpin --pin-dir %s); run with -v for "
			       "the verifier log", strerror(-rc), pin, pin);
		goto fail;
	}
	for (size_t i = 0; i < NPINNED; i++)
		*map_fd(fp, &pinned_maps[i]) = bpf_map__fd(
			bpf_object__find_map_by_name(fp->skel->obj,
						     pinned_maps[i].name));
	fast4_read_layout(fp);
	*fpp = fp;
	return 0;
fail:
	fastpath_close(fp);
	return rc;
}

static int open_pin(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

int fastpath_open_pinned(struct fastpath **fpp, const char *pin_dir,
			 char *err, size_t errlen)
{
	const char *pin = pin_dir ? pin_dir : XR_PIN_DIR_DEFAULT;
	struct fastpath *fp = fastpath_new();

	if (!fp)
		return -ENOMEM;
	for (size_t i = 0; i < NPINNED; i++) {
		const struct pinned_map *m = &pinned_maps[i];
		int rc;

		*map_fd(fp, m) = open_pin(pin, m->name);
		if (*map_fd(fp, m) >= 0 || m->optional)
			continue;
		rc = -errno;
		seterr(err, errlen, "cannot open the map %s pinned under %s: "
		       "%s (is xrelay loaded with this pin directory?)",
		       m->name, pin, strerror(-rc));
		fastpath_close(fp);
		return rc;
	}
	fast4_read_layout(fp);
	*fpp = fp;
	return 0;
}

void fastpath_close(struct fastpath *fp)
{
	if (!fp)
		return;
	bpf_link__destroy(fp->steer);
	if (fp->skel) {
		xrelay_bpf__destroy(fp->skel); /* closes the map fds too */
	} else {
		for (size_t i = 0; i < NPINNED; i++)
			if (*map_fd(fp, &pinned_maps[i]) >= 0)
				close(*map_fd(fp, &pinned_maps[i]));
	}
	free(fp);
}

int fastpath_unpin(const char *pin_dir)
{
	const char *pin = pin_dir ? pin_dir : XR_PIN_DIR_DEFAULT;
	char path[512];
	int rc = 0;

	for (size_t i = 0; i < NPINNED; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin, pinned_maps[i].name);
		if (unlink(path) && errno != ENOENT)
			rc = -errno;
	}
	if (rmdir(pin) && errno != ENOENT && errno != ENOTEMPTY)
		rc = rc ? rc : -errno;
	return rc;
}

int fastpath_steer(struct fastpath *fp, int sock4, int sock6, char *err,
		   size_t errlen)
{
	int map = bpf_map__fd(fp->skel->maps.xr_steer), netns;
	__u32 k4 = 0, k6 = 1;
	__u64 v4 = (__u64)sock4, v6 = (__u64)sock6;

	if (bpf_map_update_elem(map, &k4, &v4, BPF_ANY) ||
	    bpf_map_update_elem(map, &k6, &v6, BPF_ANY)) {
		seterr(err, errlen, "cannot put the relay sockets into the "
		       "steering map: %s", strerror(errno));
		return -errno;
	}
	netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (netns < 0) {
		seterr(err, errlen, "cannot open /proc/self/ns/net: %s",
		       strerror(errno));
		return -errno;
	}
	fp->steer = bpf_program__attach_netns(fp->skel->progs.xrelay_steer,
					      netns);
	close(netns);
	if (!fp->steer) {
		seterr(err, errlen, "attaching sk_lookup to this network "
		       "namespace failed: %s (kernel 5.9+ needed)",
		       strerror(errno));
		return -errno;
	}
	return 0;
}

int fastpath_prog_fd(const struct fastpath *fp, enum attach_mode mode)
{
	if (!fp->skel)
		return -1;
	if (mode == ATTACH_TC)
		return bpf_program__fd(fp->skel->progs.xrelay_tc);
	return bpf_program__fd(fp->skel->progs.xrelay_xdp);
}

/* Name and id of the XDP program on ifindex, for "the hook is held by". */
static void xdp_holder(int ifindex, __u32 flags, char *name, size_t len,
		       __u32 *id)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd;

	*id = 0;
	snprintf(name, len, "?");
	if (bpf_xdp_query_id(ifindex, flags, id) || !*id)
		return;
	fd = bpf_prog_get_fd_by_id(*id);
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%s", info.name);
	close(fd);
}

static int attach_xdp(struct fastpath *fp, int ifindex, int generic,
		      char *err, size_t errlen)
{
	__u32 mode = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	int prog = bpf_program__fd(fp->skel->progs.xrelay_xdp);
	char ifname[IF_NAMESIZE] = "?", holder[64];
	__u32 id;
	int rc;

	if_indextoname(ifindex, ifname);
	xdp_holder(ifindex, mode, holder, sizeof(holder), &id);
	if (id && strcmp(holder, "xrelay_xdp") != 0) {
		seterr(err, errlen, "the XDP hook of %s is held by program "
		       "'%s' (id %u); xrelay does not replace it: detach it "
		       "(ip link set dev %s xdp off) or use attach mode tc",
		       ifname, holder, id, ifname);
		return -EBUSY;
	}
	rc = bpf_xdp_attach(ifindex, prog, mode, NULL);
	if (rc)
		seterr(err, errlen, "attaching XDP (%s mode) to %s failed: %s%s",
		       generic ? "generic" : "native", ifname, strerror(-rc),
		       generic ? "" : "; the driver may lack native XDP: use "
		       "attach mode xdp-generic or tc");
	return rc;
}

static int attach_tc(struct fastpath *fp, int ifindex, char *err,
		     size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tco, .handle = TC_HANDLE, .priority = TC_PRIO,
		    .flags = BPF_TC_F_REPLACE,
		    .prog_fd = bpf_program__fd(fp->skel->progs.xrelay_tc));
	char ifname[IF_NAMESIZE] = "?";
	int rc;

	if_indextoname(ifindex, ifname);
	rc = bpf_tc_hook_create(&hook);
	if (rc && rc != -EEXIST) { /* a shared clsact is fine */
		seterr(err, errlen, "creating the clsact qdisc on %s failed: %s",
		       ifname, strerror(-rc));
		return rc;
	}
	rc = bpf_tc_attach(&hook, &tco);
	if (rc)
		seterr(err, errlen, "attaching TC ingress to %s failed: %s",
		       ifname, strerror(-rc));
	return rc;
}

int fastpath_attach(struct fastpath *fp, int ifindex, enum attach_mode mode,
		    char *err, size_t errlen)
{
	if (!fp->skel) {
		seterr(err, errlen, "no program loaded (maps opened only)");
		return -EINVAL;
	}
	switch (mode) {
	case ATTACH_XDP:
		return attach_xdp(fp, ifindex, 0, err, errlen);
	case ATTACH_XDP_GENERIC:
		return attach_xdp(fp, ifindex, 1, err, errlen);
	case ATTACH_TC:
		return attach_tc(fp, ifindex, err, errlen);
	case ATTACH_OFF:
		return 0;
	}
	return -EINVAL;
}

int fastpath_detach(int ifindex, enum attach_mode mode)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, tco, .handle = TC_HANDLE, .priority = TC_PRIO);
	char holder[64];
	__u32 id, flags;

	switch (mode) {
	case ATTACH_XDP:
	case ATTACH_XDP_GENERIC:
		flags = mode == ATTACH_XDP ? XDP_FLAGS_DRV_MODE
					   : XDP_FLAGS_SKB_MODE;
		xdp_holder(ifindex, flags, holder, sizeof(holder), &id);
		if (!id)
			return 0;
		if (strcmp(holder, "xrelay_xdp") != 0)
			return -EBUSY; /* not ours: leave it */
		return bpf_xdp_detach(ifindex, flags, NULL);
	case ATTACH_TC:
		/* Only our filter; the clsact qdisc may be shared. */
		return bpf_tc_detach(&hook, &tco);
	case ATTACH_OFF:
		return 0;
	}
	return -EINVAL;
}

/* ---- IPv4 flows of the engine's ports: xr_fast4 ----------------------------- */

/* The pinned layout (what xr_addr4 holds), into fp. */
static void fast4_read_layout(struct fastpath *fp)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), k, prev;
	int first = 1;

	fp->naddr4 = 0;
	fp->fast4_size = 0;
	if (fp->addr4_fd < 0 || fp->fast4_fd < 0)
		return;
	if (bpf_obj_get_info_by_fd(fp->fast4_fd, &info, &len) == 0)
		fp->fast4_size = info.max_entries;
	while (fp->naddr4 < FASTPATH_MAX_ADDR4 &&
	       bpf_map_get_next_key(fp->addr4_fd, first ? NULL : &prev, &k) == 0) {
		struct fastpath_addr4 *e = &fp->addr4[fp->naddr4];

		first = 0;
		prev = k;
		e->addr = k;
		if (bpf_map_lookup_elem(fp->addr4_fd, &k, &e->slot) == 0)
			fp->naddr4++;
	}
}

/* k's entry in xr_fast4: 0 and *idx, or -1 (not one of its ports). */
static int fast4_index(const struct fastpath *fp, const struct xr_flow_key *k,
		       __u32 *idx)
{
	__u32 addr;

	if (k->family != XR_AF_INET || fp->fast4_fd < 0)
		return -1;
	memcpy(&addr, k->local_addr, 4);
	for (int i = 0; i < fp->naddr4; i++) {
		const struct xr_addr4 *s = &fp->addr4[i].slot;
		__u16 off = (__u16)(ntohs(k->local_port) - s->port_min);

		if (fp->addr4[i].addr != addr)
			continue;
		if (off >= s->nports || s->base + off >= fp->fast4_size)
			return -1;
		*idx = s->base + off;
		return 0;
	}
	return -1;
}

/* The entry at idx, if it holds k's flow (its peer is k's remote). */
static int fast4_get(const struct fastpath *fp, __u32 idx,
		     const struct xr_flow_key *k, struct xr_fast4 *e)
{
	if (bpf_map_lookup_elem(fp->fast4_fd, &idx, e))
		return -errno;
	if (!e->in_use || memcmp(&e->remote_addr, k->remote_addr, 4) ||
	    e->remote_port != k->remote_port)
		return -ENOENT;
	return 0;
}

/* The program's copy of the layout (its .bss), when this handle loaded it. */
static void fast4_set_program(struct fastpath *fp,
			      const struct fastpath_addr4 *a, int n)
{
	struct xr_fast4_cfg *c;

	if (!fp->skel || !fp->skel->bss)
		return;
	c = &fp->skel->bss->fast4_cfg;
	c->n = 0; /* no half-written entry is ever scanned */
	__sync_synchronize();
	for (int i = 0; i < n; i++) { /* n <= FASTPATH_MAX_ADDR4 */
		c->addr[i] = a[i].addr;
		c->slot[i] = a[i].slot;
	}
	__sync_synchronize();
	c->n = (__u32)n;
}

int fastpath_fast4_layout(struct fastpath *fp, const struct fastpath_addr4 *a,
			  int n)
{
	struct xr_fast4 e, zero = { 0 };
	int same = n == fp->naddr4;

	if (fp->addr4_fd < 0 || fp->fast4_fd < 0 || n > FASTPATH_MAX_ADDR4)
		return -EINVAL;
	for (int i = 0; same && i < n; i++) {
		int found = 0;

		for (int j = 0; j < fp->naddr4; j++)
			found |= a[i].addr == fp->addr4[j].addr &&
				 !memcmp(&a[i].slot, &fp->addr4[j].slot,
					 sizeof(a[i].slot));
		same = found;
	}
	fast4_set_program(fp, a, n);
	if (same)
		return 0;
	/* Another layout: every entry would be another port's. */
	for (__u32 i = 0; i < fp->fast4_size; i++)
		if (bpf_map_lookup_elem(fp->fast4_fd, &i, &e) == 0 && e.in_use)
			bpf_map_update_elem(fp->fast4_fd, &i, &zero, BPF_ANY);
	for (int j = 0; j < fp->naddr4; j++)
		bpf_map_delete_elem(fp->addr4_fd, &fp->addr4[j].addr);
	for (int i = 0; i < n; i++)
		if (bpf_map_update_elem(fp->addr4_fd, &a[i].addr, &a[i].slot,
					BPF_ANY))
			return -errno;
	fast4_read_layout(fp);
	return 0;
}

/* ---- flows -------------------------------------------------------------------------- */

int fastpath_flow_put(struct fastpath *fp, const struct xr_flow_key *k,
		      const struct xr_flow *v)
{
	struct xr_fast4 e = { 0 };
	__u32 idx;

	if (fast4_index(fp, k, &idx) == 0) {
		memcpy(&e.remote_addr, k->remote_addr, 4);
		e.remote_port = k->remote_port;
		e.in_use = 1;
		e.flow = *v;
		if (bpf_map_update_elem(fp->fast4_fd, &idx, &e, BPF_ANY))
			return -errno;
		bpf_map_delete_elem(fp->flows_fd, k); /* one place only */
		return 0;
	}
	return bpf_map_update_elem(fp->flows_fd, k, v, BPF_ANY) ? -errno : 0;
}

int fastpath_flow_get(struct fastpath *fp, const struct xr_flow_key *k,
		      struct xr_flow *v)
{
	struct xr_fast4 e;
	__u32 idx;

	if (fast4_index(fp, k, &idx) == 0 && fast4_get(fp, idx, k, &e) == 0) {
		*v = e.flow;
		return 0;
	}
	return bpf_map_lookup_elem(fp->flows_fd, k, v) ? -errno : 0;
}

int fastpath_flow_del(struct fastpath *fp, const struct xr_flow_key *k)
{
	struct xr_fast4 e, zero = { 0 };
	__u32 idx;

	if (fast4_index(fp, k, &idx) == 0 && fast4_get(fp, idx, k, &e) == 0)
		return bpf_map_update_elem(fp->fast4_fd, &idx, &zero, BPF_ANY) ?
			       -errno : 0;
	return bpf_map_delete_elem(fp->flows_fd, k) ? -errno : 0;
}

/* The key of xr_fast4's entry idx (in use), or -1. */
static int fast4_key(const struct fastpath *fp, __u32 idx,
		     struct xr_flow_key *k)
{
	struct xr_fast4 e;

	if (bpf_map_lookup_elem(fp->fast4_fd, &idx, &e) || !e.in_use)
		return -1;
	for (int i = 0; i < fp->naddr4; i++) {
		const struct xr_addr4 *s = &fp->addr4[i].slot;

		if (idx < s->base || idx - s->base >= s->nports)
			continue;
		memset(k, 0, sizeof(*k));
		memcpy(k->local_addr, &fp->addr4[i].addr, 4);
		memcpy(k->remote_addr, &e.remote_addr, 4);
		k->local_port = htons((__u16)(s->port_min + (idx - s->base)));
		k->remote_port = e.remote_port;
		k->family = XR_AF_INET;
		k->proto = XR_PROTO_UDP;
		return 0;
	}
	return -1;
}

/* xr_flows' keys, then xr_fast4's entries in use, in index order. */
int fastpath_flow_next(struct fastpath *fp, const struct xr_flow_key *prev,
		       struct xr_flow_key *next)
{
	struct xr_fast4 e;
	__u32 idx = 0;

	if (prev && fast4_index(fp, prev, &idx) == 0 &&
	    fast4_get(fp, idx, prev, &e) == 0) {
		idx++; /* in the array already */
	} else {
		if (bpf_map_get_next_key(fp->flows_fd, prev, next) == 0)
			return 0;
		idx = 0;
	}
	for (; fp->fast4_fd >= 0 && idx < fp->fast4_size; idx++)
		if (fast4_key(fp, idx, next) == 0)
			return 0;
	return -ENOENT;
}

int fastpath_port_put(struct fastpath *fp, const struct xr_port_key *k,
		      const struct xr_port *v)
{
	return bpf_map_update_elem(fp->ports_fd, k, v, BPF_ANY) ? -errno : 0;
}

int fastpath_port_get(struct fastpath *fp, const struct xr_port_key *k,
		      struct xr_port *v)
{
	return bpf_map_lookup_elem(fp->ports_fd, k, v) ? -errno : 0;
}

int fastpath_port_del(struct fastpath *fp, const struct xr_port_key *k)
{
	return bpf_map_delete_elem(fp->ports_fd, k) ? -errno : 0;
}

int fastpath_flows_fd(const struct fastpath *fp) { return fp->flows_fd; }
int fastpath_ports_fd(const struct fastpath *fp) { return fp->ports_fd; }

/* Sum the per-CPU xr_stat entries 0..n-1 of an array map into out[]. */
static int sum_percpu(const struct fastpath *fp, int fd, struct xr_stat *out,
		      __u32 n)
{
	struct xr_stat *percpu = calloc(fp->ncpus, sizeof(*percpu));
	int rc = 0;

	if (!percpu)
		return -ENOMEM;
	for (__u32 i = 0; i < n; i++) {
		out[i].packets = out[i].bytes = 0;
		if (bpf_map_lookup_elem(fd, &i, percpu)) {
			rc = -errno;
			break;
		}
		for (int c = 0; c < fp->ncpus; c++) {
			out[i].packets += percpu[c].packets;
			out[i].bytes += percpu[c].bytes;
		}
	}
	free(percpu);
	return rc;
}

int fastpath_stats(struct fastpath *fp, struct xr_stat *out)
{
	return sum_percpu(fp, fp->stats_fd, out, XR_REASON_MAX);
}

int fastpath_dir_stats(struct fastpath *fp, struct xr_stat out[XR_DIR_MAX])
{
	if (fp->dir_stats_fd < 0) {
		memset(out, 0, sizeof(*out) * XR_DIR_MAX);
		return -ENOENT;
	}
	return sum_percpu(fp, fp->dir_stats_fd, out, XR_DIR_MAX);
}

int fastpath_stats_reset(struct fastpath *fp)
{
	struct xr_stat *zero = calloc(fp->ncpus, sizeof(*zero));
	int rc = 0;

	if (!zero)
		return -ENOMEM;
	for (__u32 r = 0; r < XR_REASON_MAX && !rc; r++)
		if (bpf_map_update_elem(fp->stats_fd, &r, zero, BPF_ANY))
			rc = -errno;
	for (__u32 d = 0; d < XR_DIR_MAX && !rc && fp->dir_stats_fd >= 0; d++)
		if (bpf_map_update_elem(fp->dir_stats_fd, &d, zero, BPF_ANY))
			rc = -errno;
	free(zero);
	return rc;
}

/* Copy the address of sa into a 16-byte ABI field; returns the family. */
static int abi_addr(__u8 out[16], __u16 *port, const struct sockaddr *sa)
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		memcpy(out, &s4->sin_addr, 4);
		*port = s4->sin_port;
		return XR_AF_INET;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		memcpy(out, &s6->sin6_addr, 16);
		*port = s6->sin6_port;
		return XR_AF_INET6;
	}
	return -EAFNOSUPPORT;
}

int fastpath_flow_key(struct xr_flow_key *k, const struct sockaddr *local,
		      const struct sockaddr *remote)
{
	int fl, fr;

	memset(k, 0, sizeof(*k));
	fl = abi_addr(k->local_addr, &k->local_port, local);
	fr = abi_addr(k->remote_addr, &k->remote_port, remote);
	if (fl < 0 || fr < 0)
		return -EAFNOSUPPORT;
	if (fl != fr)
		return -EINVAL;
	k->family = fl;
	k->proto = XR_PROTO_UDP;
	return 0;
}

int fastpath_port_key(struct xr_port_key *k, const struct sockaddr *local)
{
	int f;

	memset(k, 0, sizeof(*k));
	f = abi_addr(k->addr, &k->port, local);
	if (f < 0)
		return f;
	k->family = f;
	return 0;
}

int fastpath_flow_rewrite(struct xr_flow *v, const struct sockaddr *src,
			  const struct sockaddr *dst)
{
	struct xr_flow_key rw;

	/* The rewrite has the key's layout: src as "local", dst as "remote". */
	if (fastpath_flow_key(&rw, src, dst))
		return -EINVAL;
	memcpy(v->src_addr, rw.local_addr, 16);
	memcpy(v->dst_addr, rw.remote_addr, 16);
	v->src_port = rw.local_port;
	v->dst_port = rw.remote_port;
	v->family = rw.family;
	return 0;
}

void fastpath_sockaddr(struct sockaddr_storage *ss, const __u8 *addr,
		       __u16 port_be, int family)
{
	memset(ss, 0, sizeof(*ss));
	if (family == XR_AF_INET6) {
		struct sockaddr_in6 *s6 = (void *)ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, addr, 16);
		s6->sin6_port = port_be;
	} else {
		struct sockaddr_in *s4 = (void *)ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr, 4);
		s4->sin_port = port_be;
	}
}
