// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The B2BUA's call journal: what a restarted daemon needs to go on with
 * the calls that were up when it died, so that a later BYE from either
 * side ends both legs and writes the CDR.
 *
 * One text file per established call, "<B-leg Call-ID>.dlg" in the state
 * directory (beside the media engine's "<id>.call" files, which it
 * describes the signalling of), written to a temporary name and renamed:
 * key=value lines, values with backslash, CR and LF escaped. Written when
 * the call is confirmed and when a re-INVITE or UPDATE changes a leg;
 * removed when the call ends, right after its CDR line is written. A
 * crash between the two would adopt an ended call, so adoption first looks
 * for the call's CDR line at the end of the CDR file: a call is reported
 * once.
 *
 * CSeq numbers are not journalled on every request: an adopted leg jumps
 * its local CSeq ahead by CSEQ_JUMP (allowed, only growth matters), and
 * takes whatever the peer sends next as its remote CSeq.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b2bua_internal.h"
#include "log.h"
#include "media.h"
#include "netaddr.h"

#define SUFFIX ".dlg"
#define TMP_PREFIX ".tmp-"
#define CSEQ_JUMP 1000
#define CDR_TAIL (1 << 20) /* how much of the CDR file adoption reads */

/* ---- writing --------------------------------------------------------------- */

static void put(FILE *f, const char *key, const char *v)
{
	fprintf(f, "%s=", key);
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '\r')
			fputs("\\r", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('\n', f);
}

static void put_addr(FILE *f, const char *key, const struct sockaddr_storage *ss)
{
	char a[NETADDR_STRLEN];

	put(f, key, ss->ss_family ?
	    netaddr_str((const struct sockaddr *)ss, a, sizeof(a)) : "");
}

static void put_leg(FILE *f, const struct leg *l)
{
	char k[32];
	const char *p = l->side == LEG_A ? "a." : "b.";

#define KEY(name) (snprintf(k, sizeof(k), "%s%s", p, name), k)
	put(f, KEY("call_id"), l->call_id);
	put(f, KEY("local_tag"), l->local_tag);
	put(f, KEY("local_hdr"), l->local_hdr);
	put(f, KEY("remote_hdr"), l->remote_hdr);
	put(f, KEY("target"), l->target);
	put(f, KEY("routes"), l->routes);
	fprintf(f, "%s=%u\n", KEY("local_cseq"), l->local_cseq);
	fprintf(f, "%s=%d\n", KEY("proto"), (int)l->peer.proto);
	put_addr(f, KEY("peer"), &l->peer.addr);
	put_addr(f, KEY("peer_local"), &l->peer.local);
	put_addr(f, KEY("me"), &l->me);
	fprintf(f, "%s=%d,%d,%d\n", KEY("supports"), l->rel100, l->update,
		l->timer);
#undef KEY
}

static int journal_path(const struct b2bua *b, const struct call *c,
			char *buf, size_t len, int tmp)
{
	int n = snprintf(buf, len, "%s/%s%s%s", b->cfg.state_dir,
			 tmp ? TMP_PREFIX : "", c->leg[LEG_B].call_id, SUFFIX);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

void call_journal_write(struct b2bua *b, struct call *c)
{
	char path[600], tmp[600];
	FILE *f;

	if (!b->cfg.state_dir[0] || !c->leg[LEG_B].call_id[0] ||
	    journal_path(b, c, path, sizeof(path), 0) ||
	    journal_path(b, c, tmp, sizeof(tmp), 1))
		return;
	f = fopen(tmp, "we");
	if (!f) {
		log_warn("call %s: cannot journal it in %s (%s): a restart "
			 "would not know this call", c->leg[0].call_id,
			 b->cfg.state_dir, strerror(errno));
		return;
	}
	fprintf(f, "v=1\n");
	put(f, "from", c->from);
	put(f, "to", c->to);
	fprintf(f, "start_us=%llu\nanswer_us=%llu\nfinal_status=%d\n",
		(unsigned long long)c->start_us,
		(unsigned long long)c->answer_us, c->final_status);
	put_leg(f, &c->leg[LEG_A]);
	put_leg(f, &c->leg[LEG_B]);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		log_warn("call %s: journal write failed: %s", c->leg[0].call_id,
			 strerror(errno));
		unlink(tmp);
		return;
	}
	c->journalled = 1;
}

void call_journal_remove(struct b2bua *b, struct call *c)
{
	char path[600];

	if (!c->journalled || journal_path(b, c, path, sizeof(path), 0))
		return;
	unlink(path);
	c->journalled = 0;
}

/* ---- reading ------------------------------------------------------------------ */

static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*o++ = *s == 'r' ? '\r' : *s == 'n' ? '\n' : *s;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

static int set_str(char *dst, size_t len, const char *v)
{
	size_t n = strlen(v);

	if (n >= len)
		return -1;
	memcpy(dst, v, n + 1);
	return 0;
}

static int set_addr(struct sockaddr_storage *ss, const char *v)
{
	memset(ss, 0, sizeof(*ss));
	return *v ? netaddr_parse(v, -1, ss) : 0;
}

static int leg_field(struct leg *l, const char *k, const char *v)
{
	if (!strcmp(k, "call_id"))
		return set_str(l->call_id, sizeof(l->call_id), v);
	if (!strcmp(k, "local_tag"))
		return set_str(l->local_tag, sizeof(l->local_tag), v);
	if (!strcmp(k, "local_hdr"))
		return set_str(l->local_hdr, sizeof(l->local_hdr), v);
	if (!strcmp(k, "remote_hdr"))
		return set_str(l->remote_hdr, sizeof(l->remote_hdr), v);
	if (!strcmp(k, "target"))
		return set_str(l->target, sizeof(l->target), v);
	if (!strcmp(k, "routes"))
		return set_str(l->routes, sizeof(l->routes), v);
	if (!strcmp(k, "local_cseq")) {
		l->local_cseq = (uint32_t)strtoul(v, NULL, 10) + CSEQ_JUMP;
		return 0;
	}
	if (!strcmp(k, "proto")) {
		l->peer.proto = atoi(v) == SIP_TCP ? SIP_TCP : SIP_UDP;
		return 0;
	}
	if (!strcmp(k, "peer"))
		return set_addr(&l->peer.addr, v);
	if (!strcmp(k, "peer_local"))
		return set_addr(&l->peer.local, v);
	if (!strcmp(k, "me"))
		return set_addr(&l->me, v);
	if (!strcmp(k, "supports"))
		return sscanf(v, "%d,%d,%d", &l->rel100, &l->update,
			      &l->timer) == 3 ? 0 : -1;
	return 0; /* a newer writer's key: ignored */
}

static int call_field(struct call *c, const char *k, const char *v)
{
	if (!strncmp(k, "a.", 2))
		return leg_field(&c->leg[LEG_A], k + 2, v);
	if (!strncmp(k, "b.", 2))
		return leg_field(&c->leg[LEG_B], k + 2, v);
	if (!strcmp(k, "v"))
		return atoi(v) == 1 ? 0 : -1;
	if (!strcmp(k, "from"))
		return set_str(c->from, sizeof(c->from), v);
	if (!strcmp(k, "to"))
		return set_str(c->to, sizeof(c->to), v);
	if (!strcmp(k, "start_us"))
		c->start_us = strtoull(v, NULL, 10);
	else if (!strcmp(k, "answer_us"))
		c->answer_us = strtoull(v, NULL, 10);
	else if (!strcmp(k, "final_status"))
		c->final_status = atoi(v);
	return 0;
}

/* Fill c from a journal file; -1 (with the line) if it does not read. */
static int journal_read(const char *path, struct call *c, int *bad_line)
{
	char line[2048];
	FILE *f = fopen(path, "re");
	int n = 0, rc = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');

		n++;
		line[strcspn(line, "\n")] = 0;
		if (!eq) {
			rc = -1;
			break;
		}
		*eq = 0;
		unescape(eq + 1);
		if (call_field(c, line, eq + 1) < 0) {
			rc = -1;
			break;
		}
	}
	fclose(f);
	*bad_line = n;
	if (!rc && (!c->leg[LEG_A].call_id[0] || !c->leg[LEG_B].call_id[0] ||
		    !c->leg[LEG_A].peer.addr.ss_family ||
		    !c->leg[LEG_B].peer.addr.ss_family))
		rc = -1;
	return rc;
}

/* The end of the CDR file, to find calls that ended right before a crash. */
static char *cdr_tail(const char *path)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	if (!path || !*path || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !(buf = malloc(CDR_TAIL + 1))) {
		close(fd);
		return NULL;
	}
	n = pread(fd, buf, CDR_TAIL, st.st_size > CDR_TAIL ?
		  st.st_size - CDR_TAIL : 0);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static int cdr_has(const char *tail, const char *call_id_b)
{
	char key[200];

	snprintf(key, sizeof(key), "\"call_id_b\":\"%s\"", call_id_b);
	return tail && strstr(tail, key);
}

static void adopt_one(struct b2bua *b, const char *dir, const char *name,
		      const char *tail)
{
	char path[600];
	struct call *c;
	int line = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	c = call_new(b);
	if (!c)
		return;
	if (journal_read(path, c, &line) < 0) {
		log_warn("sip journal %s: unreadable at line %d: the call is "
			 "dropped (its media is collected after the grace "
			 "time)", path, line);
		goto drop;
	}
	if (cdr_has(tail, c->leg[LEG_B].call_id)) {
		/* Ended and reported right before the crash. */
		struct media_session *s = media_session_get(
			b->d.me, c->leg[LEG_B].call_id, 0);

		if (s)
			media_session_delete(b->d.me, s);
		goto drop;
	}
	c->ms = media_session_get(b->d.me, c->leg[LEG_B].call_id, 0);
	c->state = CS_UP;
	c->a_final = c->b_final = 1;
	c->journalled = 1;
	call_hash(b, &c->leg[LEG_A]);
	call_hash(b, &c->leg[LEG_B]);
	call_session_timer(b, c);
	log_info("call %s/%s adopted from the journal%s", c->leg[0].call_id,
		 c->leg[1].call_id, c->ms ? "" : " (its media session is gone)");
	return;
drop:
	unlink(path);
	c->state = CS_ENDING;
	b->ncalls--;
	b->st.calls_total--;
	call_free(b, c);
}

/* A B2BUA media session (id "xr...") with no call: a call that died in
 * set-up. Its ports go back to the pool. */
struct orphan_scan {
	struct b2bua *b;
	char (*ids)[128];
	int n, cap;
};

static int orphan_cb(struct media_session *s, void *arg)
{
	struct orphan_scan *o = arg;
	const char *id = media_session_id(s);

	if (strncmp(id, "xr", 2) || leg_find(o->b, id, NULL) || o->n >= o->cap)
		return 0;
	snprintf(o->ids[o->n++], sizeof(o->ids[0]), "%s", id);
	return 0;
}

static void drop_orphans(struct b2bua *b)
{
	struct orphan_scan o = { .b = b, .cap = 4096 };
	int i;

	o.ids = calloc((size_t)o.cap, sizeof(*o.ids));
	if (!o.ids)
		return;
	media_session_foreach(b->d.me, orphan_cb, &o);
	for (i = 0; i < o.n; i++) {
		struct media_session *s = media_session_get(b->d.me, o.ids[i], 0);

		if (s)
			media_session_delete(b->d.me, s);
	}
	if (o.n)
		log_info("sip journal: %d media sessions of calls that died in "
			 "set-up released", o.n);
	free(o.ids);
}

int b2bua_adopt(struct b2bua *b, const char *cdr_path)
{
	const char *dir = b->cfg.state_dir;
	struct dirent *de;
	char *tail;
	DIR *d;
	int n0 = (int)b->ncalls;

	if (!dir[0] || !(d = opendir(dir)))
		return 0;
	tail = cdr_tail(cdr_path);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (!strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) &&
		    l > strlen(SUFFIX) &&
		    !strcmp(de->d_name + l - strlen(SUFFIX), SUFFIX)) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (de->d_name[0] == '.' || l <= strlen(SUFFIX) ||
		    strcmp(de->d_name + l - strlen(SUFFIX), SUFFIX))
			continue;
		adopt_one(b, dir, de->d_name, tail);
	}
	closedir(d);
	free(tail);
	drop_orphans(b);
	return (int)b->ncalls - n0;
}
