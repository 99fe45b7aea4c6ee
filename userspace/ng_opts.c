// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The keys and flags of an ng request, one table each. A key the relay
 * does not know is ignored and named in the reply's warning; so is a flag.
 * A flag or option that asks for something xrelay does not do (ICE, SRTP
 * bridging, recording) is accepted with a warning that says so, rather
 * than failing a call that works without it. Names compare the way
 * rtpengine compares them: '-', '_' and ' ' are the same, case aside.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ng_internal.h"

/* ---- messages ----------------------------------------------------------------- */

void ng_warn(struct ng_req *r, const char *fmt, ...)
{
	size_t n = strlen(r->warning);
	va_list ap;

	if (n + 8 >= sizeof(r->warning))
		return; /* full: the first warnings matter most */
	if (n)
		n += (size_t)snprintf(r->warning + n, sizeof(r->warning) - n,
				      "; ");
	va_start(ap, fmt);
	vsnprintf(r->warning + n, sizeof(r->warning) - n, fmt, ap);
	va_end(ap);
}

int ng_fail(struct ng_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	return -1;
}

const char *ng_printable(const char *s, char *buf, size_t len)
{
	size_t i;

	if (!len)
		return buf;
	for (i = 0; s && s[i] && i + 1 < len; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = 0;
	if (s && s[i] && len >= 4) /* cut: say so */
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

/* '-', '_' and ' ' are the same; case does not matter. */
static int name_char(char ch)
{
	return ch == '_' || ch == ' ' ? '-' : tolower((unsigned char)ch);
}

static int name_eq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen && b[i]; i++)
		if (name_char(a[i]) != name_char(b[i]))
			return 0;
	return i == alen && !b[i];
}

/* ---- typed values ----------------------------------------------------------------- */

static int want(struct ng_req *r, const struct bnode *v, enum bn_type t)
{
	if (v->type == t)
		return 0;
	return ng_fail(r, "'%s' must be %s, not %s", v->key, bn_type_name(t),
		       bn_type_name(v->type));
}

/* A name-like string: not empty, no NUL or control bytes, below max. */
static int want_name(struct ng_req *r, const struct bnode *v, size_t max,
		     const char **out)
{
	if (want(r, v, BN_STR))
		return -1;
	if (v->len == 0)
		return ng_fail(r, "'%s' is empty", v->key);
	if (v->len >= max)
		return ng_fail(r, "'%s' is %zu bytes long; the limit is %zu",
			       v->key, v->len, max - 1);
	for (size_t i = 0; i < v->len; i++)
		if ((unsigned char)v->str[i] < 0x20 || v->str[i] == 0x7f)
			return ng_fail(r, "'%s' holds a control byte 0x%02x",
				       v->key, (unsigned char)v->str[i]);
	*out = v->str;
	return 0;
}

/* ---- the keys ------------------------------------------------------------------------ */

static int k_call_id(struct ng_req *r, const struct bnode *v)
{
	return want_name(r, v, NG_ID_MAX, &r->o.call_id);
}

static int k_from_tag(struct ng_req *r, const struct bnode *v)
{
	return want_name(r, v, NG_TAG_MAX, &r->o.from_tag);
}

static int k_to_tag(struct ng_req *r, const struct bnode *v)
{
	/* an empty to-tag is "none yet" (an initial INVITE) */
	if (v->type == BN_STR && v->len == 0)
		return 0;
	return want_name(r, v, NG_TAG_MAX, &r->o.to_tag);
}

static int k_label(struct ng_req *r, const struct bnode *v)
{
	return want_name(r, v, NG_LABEL_MAX, &r->o.label);
}

static int k_via_branch(struct ng_req *r, const struct bnode *v)
{
	return want_name(r, v, NG_TAG_MAX, &r->o.via_branch);
}

static int k_sdp(struct ng_req *r, const struct bnode *v)
{
	if (want(r, v, BN_STR))
		return -1;
	r->o.sdp = v->str;
	r->o.sdp_len = v->len;
	return 0;
}

/* The SIP source address: ["IP4", "192.0.2.1"] as Kamailio sends it, or
 * just the address. The engine latches only onto it or the SDP address. */
static int k_received_from(struct ng_req *r, const struct bnode *v)
{
	const struct bnode *a = v;
	int fam = 0;

	if (v->type == BN_LIST && v->len == 2 && v->child->type == BN_STR) {
		const char *f = v->child->str;

		fam = strcasecmp(f, "IP4") == 0 ? AF_INET :
		      strcasecmp(f, "IP6") == 0 ? AF_INET6 : -1;
		if (fam < 0)
			return ng_fail(r, "received-from: unknown address "
				       "family '%.8s' (IP4 or IP6)", f);
		a = v->child->next;
	}
	if (a->type != BN_STR || memchr(a->str, 0, a->len))
		return ng_fail(r, "received-from must be [\"IP4\" or \"IP6\", "
			       "address] or an address");
	if (netaddr_parse_ip(a->str, &r->o.received_from) < 0 &&
	    netaddr_parse(a->str, 0, &r->o.received_from) < 0) {
		char p[64];

		return ng_fail(r, "received-from: '%s' is not an IP address",
			       ng_printable(a->str, p, sizeof(p)));
	}
	if (fam && r->o.received_from.ss_family != fam)
		return ng_fail(r, "received-from: the address is not of the "
			       "family given");
	return 0;
}

static int k_supports(struct ng_req *r, const struct bnode *v)
{
	if (want(r, v, BN_LIST))
		return -1;
	for (const struct bnode *c = v->child; c; c = c->next)
		if (c->type == BN_STR && name_eq(c->str, c->len, "load limit"))
			r->o.supports_load_limit = 1;
	return 0;
}

static int k_limit(struct ng_req *r, const struct bnode *v)
{
	if (want(r, v, BN_INT))
		return -1;
	if (v->num < 0)
		return ng_fail(r, "'limit' is negative");
	r->o.limit = v->num;
	return 0;
}

static int k_address_family(struct ng_req *r, const struct bnode *v)
{
	if (want(r, v, BN_STR))
		return -1;
	if (name_eq(v->str, v->len, "IP4"))
		r->o.family = AF_INET;
	else if (name_eq(v->str, v->len, "IP6"))
		r->o.family = AF_INET6;
	else
		ng_warn(r, "address-family: unknown value ignored (IP4 or IP6)");
	return 0;
}

static int k_transport(struct ng_req *r, const struct bnode *v)
{
	if (want(r, v, BN_STR))
		return -1;
	r->o.transport = v->str;
	return 0;
}

/* Values of a list (or a single string) that must be among `ok`; others
 * get a warning naming `why` they are not done. */
static int words(struct ng_req *r, const struct bnode *v,
		 const char *const *ok, const char *why)
{
	const struct bnode *one = v->type == BN_STR ? v : NULL;
	const struct bnode *c = one ? one : v->child;
	char p[48];

	if (!one && want(r, v, BN_LIST))
		return -1;
	for (; c; c = one ? NULL : c->next) {
		int known = 0;

		if (c->type != BN_STR)
			return ng_fail(r, "'%s' must hold strings", v->key);
		for (size_t i = 0; ok[i]; i++)
			known |= name_eq(c->str, c->len, ok[i]);
		if (!known)
			ng_warn(r, "%s '%s' ignored: %s", v->key,
				ng_printable(c->str, p, sizeof(p)), why);
	}
	return 0;
}

/* The relay always rewrites o= and c= and bumps the o= version. */
static int k_replace(struct ng_req *r, const struct bnode *v)
{
	static const char *const ok[] = { "origin", "session-connection",
					  "sdp-version", "force-increment-sdp-ver",
					  NULL };

	return words(r, v, ok, "not supported");
}

static int k_ice(struct ng_req *r, const struct bnode *v)
{
	static const char *const ok[] = { "remove", "default", NULL };

	return words(r, v, ok, "no ICE: candidates are always removed");
}

static int k_rtcp_mux(struct ng_req *r, const struct bnode *v)
{
	static const char *const ok[] = { "offer", "accept", NULL };

	return words(r, v, ok, "rtcp-mux passes through as offered");
}

/* Logical interfaces: the relay picks the address facing each peer by the
 * routing table, which is what a direction pair asks for. */
static int k_direction(struct ng_req *r, const struct bnode *v)
{
	if (want(r, v, BN_LIST))
		return -1;
	for (const struct bnode *c = v->child; c; c = c->next)
		if (c->type != BN_STR)
			return ng_fail(r, "'direction' must hold strings");
	return 0;
}

static int k_media_address(struct ng_req *r, const struct bnode *v)
{
	if (want(r, v, BN_STR))
		return -1;
	ng_warn(r, "media-address ignored: the SDP's address is used");
	return 0;
}

/* ---- flags ---------------------------------------------------------------------------- */

enum flag_effect {
	FL_DONE,        /* what the relay does anyway */
	FL_TRUST,       /* trust-address: no latching hint from SIP */
	FL_NOT_DONE,    /* accepted, with a warning saying it is not done */
};

static const struct ng_flag {
	const char *name;
	enum flag_effect effect;
	const char *why;
} flags[] = {
	{ "trust-address", FL_TRUST, NULL },
	{ "SIP-source-address", FL_DONE, NULL },
	{ "symmetric", FL_DONE, NULL },
	{ "port-latching", FL_DONE, NULL },
	{ "strict-source", FL_DONE, NULL },
	{ "loop-protect", FL_DONE, NULL },
	{ "replace-origin", FL_DONE, NULL },
	{ "replace-session-connection", FL_DONE, NULL },
	{ "all", FL_DONE, NULL },
	{ "reset", FL_DONE, NULL },
	{ "directional", FL_DONE, NULL },
	{ "asymmetric", FL_NOT_DONE, "media is always latched (symmetric)" },
	{ "unidirectional", FL_NOT_DONE, "media is always latched" },
	{ "media-handover", FL_NOT_DONE, "a latched stream re-latches only "
	  "as the relatch_idle setting allows" },
	{ "record-call", FL_NOT_DONE, "no recording" },
	{ "no-rtcp-attribute", FL_NOT_DONE, "a=rtcp is kept" },
	{ "full-rtcp-attribute", FL_NOT_DONE, "a=rtcp is kept as it is" },
	{ "generate-RTCP", FL_NOT_DONE, "RTCP is relayed, not generated" },
	{ "fragment", FL_NOT_DONE, "no trickle ICE" },
};

static int k_flags(struct ng_req *r, const struct bnode *v)
{
	char p[48];

	if (want(r, v, BN_LIST))
		return -1;
	for (const struct bnode *c = v->child; c; c = c->next) {
		const struct ng_flag *f = NULL;

		if (c->type != BN_STR)
			return ng_fail(r, "'flags' must hold strings");
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (name_eq(c->str, c->len, flags[i].name))
				f = &flags[i];
		if (!f)
			ng_warn(r, "unknown flag '%s' ignored",
				ng_printable(c->str, p, sizeof(p)));
		else if (f->effect == FL_TRUST)
			r->o.trust_address = 1;
		else if (f->effect == FL_NOT_DONE)
			ng_warn(r, "flag '%s' ignored: %s", f->name, f->why);
	}
	return 0;
}

/* ---- the key table ----------------------------------------------------------------------- */

static const struct ng_key {
	const char *name;
	int (*parse)(struct ng_req *r, const struct bnode *v); /* NULL: none */
} keys[] = {
	{ "command", NULL },          /* ng.c reads it */
	{ "call-id", k_call_id },
	{ "from-tag", k_from_tag },
	{ "to-tag", k_to_tag },
	{ "sdp", k_sdp },
	{ "flags", k_flags },
	{ "replace", k_replace },
	{ "ICE", k_ice },
	{ "rtcp-mux", k_rtcp_mux },
	{ "direction", k_direction },
	{ "received-from", k_received_from },
	{ "media-address", k_media_address },
	{ "address-family", k_address_family },
	{ "transport-protocol", k_transport },
	{ "label", k_label },
	{ "via-branch", k_via_branch },
	{ "supports", k_supports },
	{ "limit", k_limit },
	{ "sip-message-type", NULL }, /* which SIP message: informative */
	{ "sip-code", NULL },
	{ "TOS", NULL },              /* the SIP proxy's idea of the DSCP */
	{ "delete-delay", NULL },     /* a delete takes effect at once */
	{ "interface", NULL },
};

int ng_opts_parse(struct ng_req *r)
{
	char p[48];

	memset(&r->o, 0, sizeof(r->o));
	r->o.limit = -1;
	for (const struct bnode *m = r->in->child; m; m = m->next) {
		const struct ng_key *k = NULL;

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (name_eq(m->key, m->klen, keys[i].name))
				k = &keys[i];
		if (!k) {
			ng_warn(r, "unknown key '%s' ignored",
				ng_printable(m->key, p, sizeof(p)));
			continue;
		}
		if (k->parse && k->parse(r, m) < 0)
			return -1;
	}
	return 0;
}
