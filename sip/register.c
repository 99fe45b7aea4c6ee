// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * REGISTER (RFC 3261 10.3) for the domains we serve, and the digest
 * challenge of REGISTER (401) and INVITE (407) when a users file is set.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "b2bua_internal.h"
#include "log.h"
#include "netaddr.h"
#include "registrar.h"

/*
 * Requests whose credentials failed (wrong password, a nonce not ours or
 * replayed, someone else's name, malformed): the first one is logged at
 * once, then at most one line per AUTH_LOG_MS with the count since the
 * last line, so a password-guessing flood is seen but does not flood the
 * log. One B2BUA per process (the SIP thread), hence file scope.
 */
#define AUTH_LOG_MS 10000

static struct {
	uint64_t logged_ms, failed, total;
} auth_log;

static void auth_failed(struct sip_txn *t, const osip_message_t *m,
			const osip_authorization_t *a, int status)
{
	uint64_t now = b2b_now_ms();
	char src[NETADDR_STRLEN + 8];
	const char *u = a && a->username ? a->username : "";

	auth_log.failed++;
	auth_log.total++;
	if (auth_log.logged_ms && now - auth_log.logged_ms < AUTH_LOG_MS)
		return;
	log_warn("auth: %llu %s with wrong credentials (%llu since start); the "
		 "last: %s from %s as user %.64s, answered %d (a phone with a "
		 "wrong password, or someone guessing: check the users file or "
		 "block the source)",
		 (unsigned long long)auth_log.failed,
		 auth_log.failed == 1 ? "request" : "requests",
		 (unsigned long long)auth_log.total, m->sip_method,
		 netaddr_str((const struct sockaddr *)&txn_peer(t)->addr, src,
			     sizeof(src)), *u ? u : "(none)", status);
	auth_log.failed = 0;
	auth_log.logged_ms = now;
}

/* A rejection answered statelessly (RFC 3261 8.2.7: "the most common use
 * of a stateless UAS is to respond to an unauthenticated request with a
 * WWW-Authenticate challenge"): a flood of them leaves no transactions
 * behind for 32 s. */
static void reject(struct b2bua *b, struct sip_txn *t, int status,
		   const char *extra)
{
	b2b_respond(b, t, status, NULL, extra);
	txn_forget(t);
}

int auth_request(struct b2bua *b, struct sip_txn *t, osip_message_t *m,
		 int proxy)
{
	osip_authorization_t *a = NULL;
	char *hdr = NULL, user[128], chal[512], extra[640];
	enum auth_result res;

	if (!b->d.auth)
		return 0;
	if (proxy)
		osip_message_get_proxy_authorization(m, 0, &a);
	else
		osip_message_get_authorization(m, 0, &a);
	if (a)
		osip_authorization_to_str(a, &hdr);
	res = auth_check(b->d.auth, hdr, m->sip_method, b2b_now_ms(), user,
			 sizeof(user));
	osip_free(hdr);
	switch (res) {
	case AUTH_OK:
		/* The credentials must be the From user's own (no calling
		 * or registering as someone else with one's password). */
		if (m->from && m->from->url && m->from->url->username &&
		    strcmp(m->from->url->username, user)) {
			auth_failed(t, m, a, 403);
			reject(b, t, 403, NULL);
			return 1;
		}
		return 0;
	case AUTH_MISSING:
	case AUTH_STALE:
		auth_challenge(b->d.auth, b2b_now_ms(), res == AUTH_STALE, chal,
			       sizeof(chal));
		snprintf(extra, sizeof(extra), "%s: %s\r\n",
			 proxy ? "Proxy-Authenticate" : "WWW-Authenticate", chal);
		reject(b, t, proxy ? 407 : 401, extra);
		return 1;
	case AUTH_MALFORMED:
		auth_failed(t, m, a, 400);
		reject(b, t, 400, NULL);
		return 1;
	case AUTH_FAILED:
	default:
		auth_failed(t, m, a, 403);
		reject(b, t, 403, NULL);
		return 1;
	}
}

static int expires_of(const osip_message_t *m, const osip_contact_t *ct)
{
	osip_generic_param_t *p = NULL;
	const char *h;

	if (ct && osip_contact_param_get_byname((osip_contact_t *)ct, "expires",
						&p) == 0 && p && p->gvalue)
		return atoi(p->gvalue);
	h = sipmsg_header(m, "expires");
	return h ? atoi(h) : 3600;
}


/* The 200 lists every current binding with its remaining time. */
static void reply_bindings(struct b2bua *b, struct sip_txn *t,
			   const char *aor, uint64_t now)
{
	struct reg_contact cs[REG_MAX_CONTACTS];
	int n = registrar_lookup(b->d.reg, aor, now, cs, REG_MAX_CONTACTS);
	struct sb sb = { 0 };

	for (int i = 0; i < n; i++)
		sb_add(&sb, "Contact: <%s>;expires=%llu\r\n", cs[i].uri,
		       (unsigned long long)((cs[i].expires_ms - now + 999) / 1000));
	b2b_respond(b, t, 200, NULL, sb.p);
	sb_free(&sb);
}

static int register_error(struct b2bua *b, struct sip_txn *t, int rc)
{
	char extra[64];

	switch (rc) {
	case -ERANGE:
		snprintf(extra, sizeof(extra), "Min-Expires: %u\r\n",
			 b->cfg.reg_min_expires_s);
		b2b_respond(b, t, 423, NULL, extra);
		break;
	case -EALREADY:
		b2b_respond(b, t, 500, NULL, NULL);
		break;
	case -ENOSPC:
		b2b_respond(b, t, 403, NULL, NULL);
		break;
	default:
		b2b_respond(b, t, 400, NULL, NULL);
		break;
	}
	return rc;
}

/* Is uri the URI of one of the first n Contacts too? The same binding
 * twice in one REGISTER is one binding: the second must not fail the
 * first's CSeq check (RFC 4475 3.1.1.4: two URIs that only differ in
 * escaped NULs, which libosip2 reads as the same). */
static int seen_before(const osip_message_t *m, int n, const char *uri)
{
	char other[REG_URI_MAX];

	for (int i = 0; i < n; i++) {
		osip_contact_t *ct = osip_list_get(&m->contacts, i);

		if (ct && ct->url &&
		    !sipmsg_uri_str(ct->url, other, sizeof(other)) &&
		    !strcmp(other, uri))
			return 1;
	}
	return 0;
}

/* RFC 3261 25.1's host: a hostname or IPv4 address (letters, digits, '-'
 * and '.'), or an IPv6 address (hex digits, ':' and '.'; libosip2 keeps
 * it without its brackets). */
static int host_valid(const char *h)
{
	int v6 = strchr(h, ':') != NULL;

	if (!*h)
		return 0;
	for (; *h; h++)
		if (!(isxdigit((unsigned char)*h) || *h == '.' ||
		      (v6 ? *h == ':' :
		       isalnum((unsigned char)*h) || *h == '-' || *h == '_')))
			return 0;
	return 1;
}

/* A binding is echoed in the 200's Contact and becomes the Request-URI
 * of calls: what libosip2 printed back from a lax parse (a host with
 * spaces, brackets, '%' or '@' in it) must parse again on its own and
 * have a real host, or it would put a broken header into every reply. */
static int uri_usable(const char *uri)
{
	osip_uri_t *u = NULL;
	int ok;

	if (strpbrk(uri, " \t\r\n<>\""))
		return 0;
	ok = osip_uri_init(&u) == 0 && osip_uri_parse(u, uri) == 0 &&
	     u->host && host_valid(u->host);
	osip_uri_free(u);
	return ok;
}

void register_request(struct b2bua *b, struct sip_txn *t, osip_message_t *m,
		      const struct sip_peer *from)
{
	uint64_t now = b2b_now_ms();
	char aor[320], uri[REG_URI_MAX], cid[128];
	osip_contact_t *ct;
	uint32_t cseq = sipmsg_cseq(m);
	int i, n, rc;

	if (!m->to || !m->to->url || !m->to->url->username ||
	    !b2b_is_ours(b, m->to->url)) {
		b2b_respond(b, t, 403, NULL, NULL); /* not a domain we serve */
		return;
	}
	if (auth_request(b, t, m, 0))
		return;
	snprintf(aor, sizeof(aor), "%s@%s", m->to->url->username, b->cfg.domain);
	for (char *p = aor; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	sipmsg_call_id(m, cid, sizeof(cid));
	n = osip_list_size(&m->contacts);
	for (i = 0; i < n; i++) {
		ct = osip_list_get(&m->contacts, i);
		if (ct && ct->displayname && !strcmp(ct->displayname, "*")) {
			if (n > 1 || expires_of(m, NULL) != 0) {
				b2b_respond(b, t, 400, NULL, NULL);
				return;
			}
			rc = registrar_remove_all(b->d.reg, aor, cid, cseq, now);
			if (rc < 0) {
				register_error(b, t, rc);
				return;
			}
			break;
		}
		if (!ct || !ct->url || sipmsg_uri_str(ct->url, uri, sizeof(uri)) ||
		    seen_before(m, i, uri))
			continue;
		if (!uri_usable(uri)) {
			b2b_respond(b, t, 400, NULL, "Warning: 399 xrelay "
				    "\"a Contact URI that does not parse\"\r\n");
			return;
		}
		rc = registrar_update(b->d.reg, aor, uri,
				      (uint32_t)expires_of(m, ct), cid, cseq,
				      from, now);
		if (rc < 0) {
			register_error(b, t, rc);
			return;
		}
	}
	reply_bindings(b, t, aor, now);
}
