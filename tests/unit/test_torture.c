// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The SIP torture messages of RFC 4475, written here from the RFC's
 * descriptions (same traps, our addresses: xrelay.test is our domain, phone
 * A at 127.0.0.2:5062, bob registered at 127.0.0.3:5064), each fed through
 * b2bua_on_message() as the transport would hand it over. One cmocka test
 * per RFC case, named after its section and the RFC's name for it, in the
 * RFC's order, all against one B2BUA: the last test checks that after all
 * of them the B2BUA still answers OPTIONS and still connects a call.
 *
 * What each case must get:
 *   CALL     a valid INVITE: 100 Trying to A, and an INVITE to bob whose
 *            SDP is anchored on the relay;
 *   STATUS   this final response to A (or the alternative the RFC allows:
 *            400 where it says rejecting is reasonable, or the answer of an
 *            element that is liberal in what it accepts), nothing to B;
 *   RELAY    (a response from B to the INVITE of a call set up first) this
 *            status relayed to A;
 *   NOTHING  no message at all: a response that must be dropped, or a
 *            request from which no response can be built.
 * Invalid requests get 400 with a Warning that names the problem, or are
 * dropped where no response can be built.
 *
 * XR_TORTURE_DUMP=DIR writes each case as a fuzz_b2bua seed (see
 * tests/fuzz/fuzz_b2bua.c) to DIR/rfc4475-<section>-<name>.sip: that is how
 * the seeds of that name in tests/fuzz/corpus/fuzz_b2bua/ were made.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "b2bua.h"
#include "log.h"
#include "media.h"
#include "netaddr.h"
#include "registrar.h"
#include "route.h"
#include "sipmsg.h"
#include "transport.h"
#include "check.h"
#include "b2bua_fixture.h"

#define DOMAIN "xrelay.test"
#define PORT_MIN 41000
#define PORT_MAX 41399

/* ---- what the B2BUA sent --------------------------------------------------- */

struct cap {
	struct sip_peer to;
	char *buf;
	size_t len;
	osip_message_t *m;       /* parsed back (NULL: it does not parse) */
	int status;              /* a response's, from its text; 0: a request */
};

static struct cap caps[64];
static int ncaps;

static int cap_send(void *ctx, const struct sip_peer *to, const char *buf,
		    size_t len)
{
	struct cap *c;

	(void)ctx;
	if (ncaps == (int)(sizeof(caps) / sizeof(caps[0])))
		return 0; /* a case sends this much: its checks fail anyway */
	c = &caps[ncaps++];
	c->to = *to;
	c->buf = fx_strndup(buf, len);
	c->len = len;
	if (sscanf(c->buf, "SIP/2.0 %d ", &c->status) != 1)
		c->status = 0;
	/* A 400 to a request that does not parse echoes its headers (they
	 * may not parse either); anything else must parse. */
	c->m = fx_parse_sent(buf, len, c->status == 400);
	return 0;
}

static void cap_clear(void)
{
	for (int i = 0; i < ncaps; i++) {
		if (caps[i].m)
			osip_message_free(caps[i].m);
		free(caps[i].buf);
	}
	memset(caps, 0, sizeof(caps));
	ncaps = 0;
}

static void cap_dump(void)
{
	char a[NETADDR_STRLEN];

	for (int i = 0; i < ncaps; i++)
		print_error("  sent to %s: %.*s\n",
			    netaddr_str((struct sockaddr *)&caps[i].to.addr, a,
					sizeof(a)),
			    (int)strcspn(caps[i].buf, "\r\n"), caps[i].buf);
}

/* ---- the fixture: one B2BUA for every case ------------------------------------- */

static struct {
	struct media_engine *me;
	struct sip_transport *tp;
	struct registrar *reg;
	struct routes *rt;
	struct b2bua *b;
	char pin_dir[64];
	const char *dump_dir;
} F;

static struct sip_peer PA, PB;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int group_setup(void **state)
{
	static struct b2bua_cfg cfg = { .domain = DOMAIN };
	struct b2bua_deps d = { 0 };

	(void)state;
	log_set_level(LOG_ERR); /* the malformed-message warnings are expected */
	if (fx_media_start(&F.me, F.pin_dir, sizeof(F.pin_dir), "torture",
			   PORT_MIN, PORT_MAX) < 0)
		return -1;
	F.tp = fx_transport(0);
	if (!F.tp)
		return -1;
	F.reg = registrar_new(60, 3600);
	F.rt = routes_new();
	if (!F.reg || !F.rt)
		return -1;
	PA = fx_peer("127.0.0.2:5062");
	PB = fx_peer("127.0.0.3:5064");
	registrar_update(F.reg, "bob@" DOMAIN, "sip:bob@127.0.0.3:5064", 3600,
			 "reg-bob@phone", 1, &PB, now_ms());
	cfg.reg_min_expires_s = 60;
	cfg.reg_max_expires_s = 3600;
	cfg.t1_ms = 1;
	d.tp = F.tp;
	d.me = F.me;
	d.reg = F.reg;
	d.rt = F.rt;
	d.send = cap_send;
	F.b = b2bua_new(&cfg, &d);
	if (!F.b)
		return -1;
	F.dump_dir = getenv("XR_TORTURE_DUMP");
	sipmsg_init();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	b2bua_shutdown(F.b);
	b2bua_free(F.b);
	tp_free(F.tp);
	registrar_free(F.reg);
	routes_free(F.rt);
	fx_media_stop(&F.me, F.pin_dir);
	cap_clear();
	return 0;
}

/* ---- the cases --------------------------------------------------------------- */

enum expect { CALL, STATUS, RELAY, NOTHING };

struct tcase {
	const char *sec, *name;  /* "3.1.1.1", "wsinv" */
	const char *title;
	const char *msg;         /* "{CL}" is replaced by the body's length */
	size_t len;
	char *(*build)(size_t *len); /* instead of msg: made at run time */
	enum expect e;
	int code, alt;           /* STATUS: code, or alt (0: none); RELAY */
	int from_b;              /* a response of bob to the INVITE of a call
				    set up first ($b branch, $c Call-ID, $f
				    From tag of the INVITE sent to bob) */
	const char *hdr;         /* STATUS: the response has this text;
				    CALL: the INVITE to bob has not */
};

#define M(s) .msg = (s), .len = sizeof(s) - 1

#define SDP_BODY \
	"v=0\r\no=alice 53655765 2353687637 IN IP4 127.0.0.2\r\ns=-\r\n" \
	"c=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 49217 RTP/AVP 0 12\r\n" \
	"m=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n"

/* 3.1.1.7: long values everywhere. */
static char *build_longreq(size_t *len)
{
	static const char *const sdp = SDP_BODY;
	struct sb b = { 0 };
	char x[301];

	memset(x, 'x', 300);
	x[300] = 0;
	sb_add(&b, "INVITE sip:bob@" DOMAIN " SIP/2.0\r\n");
	sb_add(&b, "To: \"I have a user name of %s%s%s proportion\" "
		   "<sip:bob@" DOMAIN ":5060;unknownparam1=very%slongvalue;"
		   "longparam%sname=shortvalue;very%sParameterNameWithNoValue>"
		   "\r\n", x, x, x, x, x, x);
	sb_add(&b, "F: sip:amazinglylongcallername%s@example.net;tag=12%s982"
		   ";unknownheaderparam%sname=unknowheaderparam%svalue;"
		   "unknownValueless%sparamname\r\n", x, x, x, x, x);
	sb_add(&b, "Call-ID: longreq.one%sreally%slongcallid\r\n", x, x);
	sb_add(&b, "CSeq: 3882340 INVITE\r\n");
	sb_add(&b, "Unknown-%s-Header-Name: unknown-%s-value; unknown-%s-"
		   "parameter-name = unknown-%s-parameter-value\r\n", x, x, x,
	       x);
	sb_add(&b, "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKlongreq%s\r\n",
	       x);
	for (int i = 33; i > 0; i--)
		sb_add(&b, "%s: SIP/2.0/TCP sip%d.example.com;branch=z9hG4bK"
			   "longreq%d\r\n", i & 1 ? "v" : "Via", i, i);
	sb_add(&b, "Max-Forwards: 68\r\n");
	sb_add(&b, "Contact: <sip:amazinglylongcallername%s@127.0.0.2:5062>"
		   "\r\n", x);
	sb_add(&b, "Content-Type: application/sdp\r\nl: %zu\r\n\r\n%s",
	       strlen(sdp), sdp);
	if (b.oom)
		abort();
	*len = b.len;
	return b.p;
}

static const struct tcase cases[] = {
	/* ---- 3.1.1 valid messages ---- */
	{ "3.1.1.1", "wsinv", "A short tortuous INVITE: folded lines, white "
	  "space around every separator, mixed-case and compact header names, "
	  "escaped quotes, unknown headers and parameters",
	  M("INVITE sip:bob@" DOMAIN ";unknownparam SIP/2.0\r\n"
	    "TO :\r\n"
	    " <sip:bob@" DOMAIN ">  ;   x-param    = 1918181833n\r\n"
	    "from   : \"A. Caller \\\\\\\"\"       <sip:alice@" DOMAIN ">\r\n"
	    "  ;\r\n"
	    "  tag = 98asjd8\r\n"
	    "MaX-fOrWaRdS: 0068\r\n"
	    "Call-ID: wsinv.ndaksdj@127.0.0.2\r\n"
	    "Content-Length   : {CL}\r\n"
	    "cseq: 0009\r\n"
	    "  INVITE\r\n"
	    "Via  : SIP  /   2.0\r\n"
	    " /UDP\r\n"
	    "    127.0.0.2:5062;branch=z9hG4bK390skdjuw\r\n"
	    "s :\r\n"
	    "NewFangledHeader:   newfangled value\r\n"
	    " continued newfangled value\r\n"
	    "UnknownHeaderWithUnusualValue: ;;,,;;,;\r\n"
	    "Content-Type: application/sdp\r\n"
	    "v:  SIP  / 2.0  / TCP     spindle.example.com   ;\r\n"
	    "  branch  =   z9hG4bK9ikj8  ,\r\n"
	    " SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n"
	    " z9hG4bK30239\r\n"
	    "m:\"Quoted string \\\"\\\"\" <sip:alice@127.0.0.2:5062> ; newparam =\r\n"
	    "      newvalue ;\r\n"
	    "  secondparam ; q = 0.33\r\n"
	    "\r\n" SDP_BODY), .e = CALL },
	/* Valid, and unknown to us: 501. But libosip2 reads a header as a C
	 * string, so the NUL of the quoted-pair ends the To header there:
	 * xrelay answers 400 ("does not parse") rather than take a header cut
	 * at a NUL. The same message without the NUL gets 501 (intmeth-nonul
	 * below). */
	{ "3.1.1.2", "intmeth", "A wide range of valid characters: a method "
	  "of every token character, quoted-pairs of BEL, NUL and DEL, UTF-8 "
	  "in a quoted parameter and in an extension header",
	  M("!interesting-Method0123456789_*+`.%indeed'~ "
	    "sip:1_odd.user~(to-be!sure)&isn't+it$/crazy?,/;;*:&pass=1,"
	    "weird!*pa$$wo~d_too.(no-doubt)@" DOMAIN " SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK-.!%66*_+`'~\r\n"
	    "To: \"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" <sip:1_odd.user~"
	    "(to-be!sure)&isn't+it$/crazy?,/;;*@" DOMAIN ">\r\n"
	    "From: token1~` token2'+_ token3*%!.- <sip:alice@" DOMAIN ">;"
	    "fromParam''~+*_!.-%=\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82"
	    "\xd0\xb0\";tag=_token~1'+`*%!-.\r\n"
	    "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\r\n"
	    "CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~\r\n"
	    "Max-Forwards: 255\r\n"
	    "extensionHeader-!.%*+_`'~:\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c"
	    "\xe9\x9b\xbb\r\n"
	    "Content-Length: 0\r\n\r\n"),
	  .e = STATUS, .code = 501, .alt = 400, .hdr = "Allow" },
	{ "3.1.1.2", "intmeth-nonul", "The same without the NUL: 501",
	  M("!interesting-Method0123456789_*+`.%indeed'~ "
	    "sip:1_odd.user~(to-be!sure)&isn't+it$/crazy?,/;;*:&pass=1,"
	    "weird!*pa$$wo~d_too.(no-doubt)@" DOMAIN " SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK-.!%66*_+`'~nonul\r\n"
	    "To: \"BEL:\\\x07 DEL:\\\x7f\" <sip:1_odd.user~"
	    "(to-be!sure)&isn't+it$/crazy?,/;;*@" DOMAIN ">\r\n"
	    "From: token1~` token2'+_ token3*%!.- <sip:alice@" DOMAIN ">;"
	    "fromParam''~+*_!.-%=\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82"
	    "\xd0\xb0\";tag=_token~1'+`*%!-.\r\n"
	    "Call-ID: intmeth-nonul.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{\r\n"
	    "CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~\r\n"
	    "Max-Forwards: 255\r\n"
	    "extensionHeader-!.%*+_`'~:\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c"
	    "\xe9\x9b\xbb\r\n"
	    "Content-Length: 0\r\n\r\n"),
	  .e = STATUS, .code = 501, .hdr = "Allow" },
	{ "3.1.1.3", "esc01", "Valid use of % escapes: in the Request-URI's "
	  "user (bob, escaped), in From, in Contact parameters",
	  M("INVITE sip:%62o%62@" DOMAIN " SIP/2.0\r\n"
	    "To: sip:%62ob@" DOMAIN "\r\n"
	    "From: <sip:I%20have%20spaces@example.net>;tag=938\r\n"
	    "Max-Forwards: 87\r\n"
	    "i: esc01.239409asdfakjkn23onasd0-3234\r\n"
	    "CSeq: 234234 INVITE\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKnashds7\r\n"
	    "C: application/sdp\r\n"
	    "Contact:\r\n"
	    "  <sip:cal%6Cer@127.0.0.2:5062;%6C%72;n%65w=v%61lue>\r\n"
	    "L: {CL}\r\n"
	    "\r\n" SDP_BODY), .e = CALL },
	{ "3.1.1.4", "escnull", "Escaped NULs in the user parts of To, From "
	  "and two Contacts of a REGISTER",
	  M("REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	    "To: sip:null-%00-null@" DOMAIN "\r\n"
	    "From: sip:null-%00-null@" DOMAIN ";tag=839923423\r\n"
	    "Max-Forwards: 70\r\n"
	    "Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd\r\n"
	    "CSeq: 14398234 REGISTER\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-escnull\r\n"
	    "Contact: <sip:%00@127.0.0.2:5062>\r\n"
	    "Contact: <sip:%00%00@127.0.0.2:5062>\r\n"
	    "L: 0\r\n\r\n"), .e = STATUS, .code = 200, .hdr = "Contact" },
	{ "3.1.1.5", "esc02", "% where it is not an escape: a method token "
	  "RE%47IST%45R (not REGISTER), \"%Z%45\" display names",
	  M("RE%47IST%45R sip:registrar." DOMAIN " SIP/2.0\r\n"
	    "To: \"%Z%45\" <sip:resource@" DOMAIN ">\r\n"
	    "From: \"%Z%45\" <sip:resource@" DOMAIN ">;tag=f232jadfj23\r\n"
	    "Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf\r\n"
	    "Via: SIP/2.0/TCP 127.0.0.2:5062;branch=z9hG4bKvasdf\r\n"
	    "CSeq: 3923239 RE%47IST%45R\r\n"
	    "Max-Forwards: 70\r\n"
	    "Contact: <sip:alias1@127.0.0.2:5062>\r\n"
	    "Contact: <sip:%61lias2@127.0.0.2:5062>\r\n"
	    "Contact: <sip:alias%333@127.0.0.2:5062>\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 501, .hdr = "Allow" },
	{ "3.1.1.6", "lwsdisp", "No white space between a display name and "
	  "its <",
	  M("OPTIONS sip:" DOMAIN " SIP/2.0\r\n"
	    "To: sip:" DOMAIN "\r\n"
	    "From: caller<sip:caller@example.com>;tag=323\r\n"
	    "Max-Forwards: 70\r\n"
	    "Call-ID: lwsdisp.1234abcd@funky.example.com\r\n"
	    "CSeq: 60 OPTIONS\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-lwsdisp\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 200, .hdr = "Allow" },
	/* Parsed and answered; but a call keeps what crosses its legs in
	 * fixed fields (a Call-ID of 127 bytes, From and To of 255): a
	 * Call-ID of 600 gets 513 with a Warning naming it, never a header
	 * cut short on bob's leg. */
	{ "3.1.1.7", "longreq", "Long values in header fields: display name, "
	  "tag, Call-ID, an unknown header, 34 Vias, a Contact of 300+ "
	  "characters", .build = build_longreq, .e = STATUS, .code = 513,
	  .hdr = "Warning: 399 xrelay \"Call-ID of " },
	{ "3.1.1.8", "dblreq", "Extra octets after the Content-Length of a "
	  "datagram (an INVITE after a REGISTER): only the REGISTER is "
	  "handled",
	  M("REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	    "To: sip:j.user@" DOMAIN "\r\n"
	    "From: sip:j.user@" DOMAIN ";tag=43251j3j324\r\n"
	    "Max-Forwards: 8\r\n"
	    "I: dblreq.0ha0isndaksdj99sdfafnl3lk233412\r\n"
	    "Contact: sip:j.user@127.0.0.2:5062\r\n"
	    "CSeq: 8 REGISTER\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw23492\r\n"
	    "Content-Length: 0\r\n\r\n"
	    "INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
	    "To: sip:bob@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=141334\r\n"
	    "Max-Forwards: 8\r\n"
	    "Call-ID: dblreq.0ha0isnda977644900765@127.0.0.2\r\n"
	    "CSeq: 8 INVITE\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw380234\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: 150\r\n\r\n" SDP_BODY),
	  .e = STATUS, .code = 200, .hdr = "Contact" },
	{ "3.1.1.9", "semiuri", "Semicolons in the user part of the "
	  "Request-URI, a folded Accept",
	  M("OPTIONS sip:user;par=u%40example.net@" DOMAIN " SIP/2.0\r\n"
	    "To: sip:j_user@" DOMAIN "\r\n"
	    "From: sip:caller@example.org;tag=33242\r\n"
	    "Max-Forwards: 3\r\n"
	    "Call-ID: semiuri.0ha0isndaksdj\r\n"
	    "CSeq: 8 OPTIONS\r\n"
	    "Accept: application/sdp, application/pkcs7-mime,\r\n"
	    "        multipart/mixed, multipart/signed,\r\n"
	    "        message/sip, message/sipfrag\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKsdf8\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 200, .hdr = "Allow" },
	{ "3.1.1.10", "transports", "Vias of known and unknown transports "
	  "(UDP, SCTP, TLS, UNKNOWN, TCP)",
	  M("OPTIONS sip:user@" DOMAIN " SIP/2.0\r\n"
	    "To: sip:user@" DOMAIN "\r\n"
	    "From: <sip:caller@example.com>;tag=323\r\n"
	    "Max-Forwards: 70\r\n"
	    "Call-ID: transports.kijh4akdnaqjkwendsasfdj\r\n"
	    "Accept: application/sdp\r\n"
	    "CSeq: 60 OPTIONS\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-transports\r\n"
	    "Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf\r\n"
	    "Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj\r\n"
	    "Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en\r\n"
	    "Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 200,
	  .hdr = "Via: SIP/2.0/TCP t5.example.com" },
	{ "3.1.1.11", "mpart01", "A multipart MIME body (text and binary) "
	  "in a MESSAGE, which the B2BUA does not take",
	  M("MESSAGE sip:kumiko@" DOMAIN " SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport\r\n"
	    "Max-Forwards: 70\r\n"
	    "Route: <sip:127.0.0.1:5060;lr>\r\n"
	    "Identity: r5mwreLuyDRYBi/0TiPwEsY3rEVsk/G2WxhgTV1PF7hHuLIK0YWVKZhKv9Mj8UeXqkMVbnVq37CD+813gvYjcBUaZngQmXc9WNZSDNGCzA+fWl9MEUHWIZo1CeJebdY/XlgKeTa0Olvq0rt70Q5jiSfbqMJmQFteeivUhkMWYUA=\r\n"
	    "Contact: <sip:fluffy@127.0.0.2:5062>\r\n"
	    "To: <sip:kumiko@" DOMAIN ">\r\n"
	    "From: <sip:fluffy@example.com>;tag=2fb0dcc9\r\n"
	    "Call-ID: 3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..\r\n"
	    "CSeq: 1 MESSAGE\r\n"
	    "Content-Transfer-Encoding: binary\r\n"
	    "Content-Type: multipart/mixed;boundary=7a9cbec02ceef655\r\n"
	    "Date: Sat, 15 Oct 2005 04:44:56 GMT\r\n"
	    "User-Agent: SIPimp.org/0.2.5 (curses)\r\n"
	    "Content-Length: {CL}\r\n\r\n"
	    "--7a9cbec02ceef655\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Transfer-Encoding: binary\r\n\r\n"
	    "Hello\r\n"
	    "--7a9cbec02ceef655\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "Content-Transfer-Encoding: binary\r\n\r\n"
	    "\x30\x82\x01\x52\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02\xa0"
	    "\x82\x01\x43\x30\x82\x01\x3f\x02\x01\x01\x31\x09\x30\x07\x06\x05"
	    "\x2b\x0e\x03\x02\x1a\x30\x0b\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01"
	    "\x07\x01\x00\x0d\x0a\x00\xff\x00\r\n"
	    "--7a9cbec02ceef655--\r\n"),
	  .e = STATUS, .code = 405, .hdr = "Allow" },
	{ "3.1.1.12", "unreason", "A reason phrase of digits, operators and "
	  "UTF-8 (bob's 200 to the INVITE)",
	  M("SIP/2.0 200 = 2**3 * 5**2 \xd0\xbd\xd0\xbe \xd1\x81\xd1\x82\xd0"
	    "\xbe \xd0\xb4\xd0\xb5\xd0\xb2\xd1\x8f\xd0\xbd\xd0\xbe\xd1\x81\xd1"
	    "\x82\xd0\xbe \xd0\xb4\xd0\xb5\xd0\xb2\xd1\x8f\xd1\x82\xd1\x8c - "
	    "\xd0\xbf\xd1\x80\xd0\xbe\xd1\x81\xd1\x82\xd0\xbe\xd0\xb5\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1;branch=$b\r\n"
	    "Call-ID: $c\r\n"
	    "CSeq: $n INVITE\r\n"
	    "From: <sip:torture@" DOMAIN ">;tag=$f\r\n"
	    "To: <sip:bob@" DOMAIN ">;tag=bob-unreason\r\n"
	    "Contact: <sip:bob@127.0.0.3:5064>\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: {CL}\r\n\r\n"
	    "v=0\r\no=bob 1 1 IN IP4 127.0.0.3\r\ns=-\r\nc=IN IP4 127.0.0.3\r\n"
	    "t=0 0\r\nm=audio 5000 RTP/AVP 0\r\nm=video 5002 RTP/AVP 31\r\n"),
	  .from_b = 1, .e = RELAY, .code = 200 },
	{ "3.1.1.13", "noreason", "An empty reason phrase (bob's 180)",
	  M("SIP/2.0 180 \r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1;branch=$b\r\n"
	    "Call-ID: $c\r\n"
	    "CSeq: $n INVITE\r\n"
	    "From: <sip:torture@" DOMAIN ">;tag=$f\r\n"
	    "To: <sip:bob@" DOMAIN ">;tag=bob-noreason\r\n"
	    "Content-Length: 0\r\n\r\n"),
	  .from_b = 1, .e = RELAY, .code = 180 },

	/* ---- 3.1.2 invalid messages ---- */
	{ "3.1.2.1", "badinv01", "Extraneous header field separators in Via "
	  "and Contact",
	  M("INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
	    "To: sip:bob@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=134161461246\r\n"
	    "Max-Forwards: 7\r\n"
	    "Call-ID: badinv01.0ha0isndaksdjasdf3234nas\r\n"
	    "CSeq: 8 INVITE\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;;,;,,\r\n"
	    "Contact: \"Joe\" <sip:joe@127.0.0.2:5062>;;;;\r\n"
	    "Content-Length: {CL}\r\n"
	    "Content-Type: application/sdp\r\n\r\n" SDP_BODY),
	  .e = STATUS, .code = 400 },
	{ "3.1.2.2", "clerr", "A Content-Length larger than the body (over "
	  "UDP)",
	  M("INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
	    "Max-Forwards: 80\r\n"
	    "To: sip:bob@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=93942939o2\r\n"
	    "Contact: <sip:caller@127.0.0.2:5062>\r\n"
	    "Call-ID: clerr.0ha0isndaksdjweiafasdk3\r\n"
	    "CSeq: 8 INVITE\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK-39234-23523\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: 9999\r\n\r\n" SDP_BODY),
	  .e = STATUS, .code = 400 },
	{ "3.1.2.3", "ncl", "A negative Content-Length",
	  M("INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
	    "Max-Forwards: 254\r\n"
	    "To: sip:bob@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=32394234\r\n"
	    "Call-ID: ncl.0ha0isndaksdj2193423r542w35\r\n"
	    "CSeq: 0 INVITE\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-ncl\r\n"
	    "Contact: <sip:caller@127.0.0.2:5062>\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: -999\r\n\r\n" SDP_BODY),
	  .e = STATUS, .code = 400 },
	{ "3.1.2.4", "scalar02", "Overlarge scalars in a request: CSeq "
	  "number, Max-Forwards, Expires, Contact expires",
	  M("REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKsxmmmkdlk\r\n"
	    "Max-Forwards: 300\r\n"
	    "From: <sip:alice@" DOMAIN ">;tag=239232jh3\r\n"
	    "To: <sip:alice@" DOMAIN ">\r\n"
	    "Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32\r\n"
	    "CSeq: 36893488147419103232 REGISTER\r\n"
	    "Contact: <sip:alice@127.0.0.2:5062>;expires=280297596632815\r\n"
	    "Expires: 1293902834029384729834\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 400 },
	{ "3.1.2.5", "scalarlg", "Overlarge scalars in a response (bob's 503 "
	  "with a CSeq, Retry-After and Warning code out of range): dropped, "
	  "not relayed",
	  M("SIP/2.0 503 Service Unavailable\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1;branch=$b\r\n"
	    "Call-ID: $c\r\n"
	    "CSeq: 36893488147419103232 INVITE\r\n"
	    "From: <sip:torture@" DOMAIN ">;tag=$f\r\n"
	    "To: <sip:bob@" DOMAIN ">;tag=bob-scalarlg\r\n"
	    "Retry-After: 949302838503028349304023988\r\n"
	    "Warning: 1812 overture \"In Progress\"\r\n"
	    "Content-Length: 0\r\n\r\n"), .from_b = 1, .e = NOTHING },
	{ "3.1.2.6", "quotbal", "An unterminated quoted string in a display "
	  "name",
	  M("INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
	    "To: \"Mr. J. User <sip:bob@" DOMAIN ">\r\n"
	    "From: sip:caller@example.net;tag=93334\r\n"
	    "Max-Forwards: 10\r\n"
	    "Call-ID: quotbal.aksdj\r\n"
	    "Contact: <sip:caller@127.0.0.2:5062>\r\n"
	    "CSeq: 8 INVITE\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK-382\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: {CL}\r\n\r\n" SDP_BODY),
	  .e = STATUS, .code = 400 },
	{ "3.1.2.7", "ltgtruri", "A Request-URI in <>",
	  M("INVITE <sip:bob@" DOMAIN "> SIP/2.0\r\n"
	    "To: sip:bob@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=39291\r\n"
	    "Max-Forwards: 23\r\n"
	    "Call-ID: ltgtruri.1@127.0.0.2\r\n"
	    "CSeq: 1 INVITE\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK-ltgt\r\n"
	    "Contact: <sip:caller@127.0.0.2:5062>\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: {CL}\r\n\r\n" SDP_BODY),
	  .e = STATUS, .code = 400 },
	{ "3.1.2.8", "lwsruri", "White space inside the Request-URI",
	  M("INVITE sip:bob@" DOMAIN "; lr SIP/2.0\r\n"
	    "To: sip:bob@" DOMAIN ";tag=3xfe-9921883-z9f\r\n"
	    "From: sip:caller@example.net;tag=231413434\r\n"
	    "Max-Forwards: 5\r\n"
	    "Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423\r\n"
	    "CSeq: 2130706432 INVITE\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw2395\r\n"
	    "Contact: <sip:caller@127.0.0.2:5062>\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: {CL}\r\n\r\n" SDP_BODY),
	  .e = STATUS, .code = 400 },
	{ "3.1.2.9", "lwsstart", "Several SPs between the Request-Line's "
	  "elements",
	  M("INVITE  sip:bob@" DOMAIN "  SIP/2.0\r\n"
	    "Max-Forwards: 8\r\n"
	    "To: sip:bob@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=8814\r\n"
	    "Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@127.0.0.2\r\n"
	    "CSeq: 1893884 INVITE\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw3923\r\n"
	    "Contact: <sip:caller@127.0.0.2:5062>\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: {CL}\r\n\r\n" SDP_BODY),
	  .e = STATUS, .code = 400 },
	{ "3.1.2.10", "trws", "SPs after the SIP-Version of the Request-Line "
	  "(rejecting is acceptable; a liberal element ignores them)",
	  M("OPTIONS sip:remote-target@" DOMAIN " SIP/2.0  \r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-trws\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <sip:caller@example.net>;tag=2342\r\n"
	    "To: <sip:remote-target@" DOMAIN ">\r\n"
	    "Call-ID: trws.oi23nasf9sdfa\r\n"
	    "CSeq: 1 OPTIONS\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 400, .alt = 200 },
	/* Liberal: bob's leg has a Request-URI of its own (bob's contact),
	 * so the escaped Route is ignored and never becomes a header. */
	{ "3.1.2.11", "escruri", "Escaped headers in the Request-URI "
	  "(rejecting is acceptable; a liberal element ignores them and must "
	  "not turn them into headers)",
	  M("INVITE sip:bob@" DOMAIN "?Route=%3Csip:example.com%3E SIP/2.0\r\n"
	    "To: sip:bob@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=341518\r\n"
	    "Max-Forwards: 7\r\n"
	    "Contact: <sip:caller@127.0.0.2:5062>\r\n"
	    "Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5\r\n"
	    "CSeq: 149209342 INVITE\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-escruri\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: {CL}\r\n\r\n" SDP_BODY),
	  .e = CALL, .hdr = "example.com" },
	{ "3.1.2.12", "baddate", "A Date not in GMT: the B2BUA does not use "
	  "Date, so it may ignore it (as the RFC prefers)",
	  M("INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
	    "To: sip:bob@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=2234923\r\n"
	    "Max-Forwards: 70\r\n"
	    "Call-ID: baddate.239423mnsadf3j23lj42--sedfnm234\r\n"
	    "CSeq: 1392934 INVITE\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-baddate\r\n"
	    "Date: Fri, 01 Jan 2010 16:00:00 EST\r\n"
	    "Contact: <sip:caller@127.0.0.2:5062>\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: {CL}\r\n\r\n" SDP_BODY), .e = CALL },
	/* Liberal (libosip2 infers the brackets, as the RFC allows): 200. */
	{ "3.1.2.13", "regbadct", "A Contact with escaped headers not in <> "
	  "(rejecting is reasonable; a liberal element infers the <>)",
	  M("REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	    "To: sip:user@" DOMAIN "\r\n"
	    "From: sip:user@" DOMAIN ";tag=998332\r\n"
	    "Max-Forwards: 70\r\n"
	    "Call-ID: regbadct.k345asrl3fdbv@10.0.0.1\r\n"
	    "CSeq: 1 REGISTER\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-regbadct\r\n"
	    "Contact: sip:user@127.0.0.2?Route=%3Csip:sip.example.com%3E\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 400, .alt = 200 },
	{ "3.1.2.14", "badaspec", "Spaces inside an addr-spec (rejecting is "
	  "reasonable; a liberal element ignores them)",
	  M("OPTIONS sip:user@" DOMAIN " SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-badaspec\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: \"Watson, Thomas\" < sip:t.watson@example.org >;tag=102\r\n"
	    "To: sip:user@" DOMAIN "\r\n"
	    "Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3\r\n"
	    "Accept: application/sdp\r\n"
	    "CSeq: 3923239 OPTIONS\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 400, .alt = 200 },
	{ "3.1.2.15", "baddn", "Non-token characters in unquoted display "
	  "names (rejecting is reasonable)",
	  M("OPTIONS sip:t.watson@" DOMAIN " SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-baddn\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43\r\n"
	    "To: Watson, Thomas <sip:t.watson@" DOMAIN ">\r\n"
	    "Call-ID: baddn.31415@c.example.com\r\n"
	    "Accept: application/sdp\r\n"
	    "CSeq: 3923239 OPTIONS\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 400, .alt = 200 },
	{ "3.1.2.16", "badvers", "An unknown protocol version: 505",
	  M("OPTIONS sip:t.watson@" DOMAIN " SIP/7.0\r\n"
	    "Via: SIP/7.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-badvers\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe\r\n"
	    "To: T. Watson <sip:t.watson@" DOMAIN ">\r\n"
	    "Call-ID: badvers.31417@c.example.com\r\n"
	    "CSeq: 1 OPTIONS\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 505, .alt = 400 },
	{ "3.1.2.17", "mismatch01", "The start line's method and the CSeq's "
	  "differ",
	  M("OPTIONS sip:user@" DOMAIN " SIP/2.0\r\n"
	    "To: sip:j.user@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=34525\r\n"
	    "Max-Forwards: 6\r\n"
	    "Call-ID: mismatch01.dj0234sxdfl3\r\n"
	    "CSeq: 8 INVITE\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-mm01\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 400 },
	{ "3.1.2.18", "mismatch02", "An unknown method and a CSeq of another "
	  "method: 400, not 501",
	  M("NEWMETHOD sip:user@" DOMAIN " SIP/2.0\r\n"
	    "To: sip:j.user@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=34525\r\n"
	    "Max-Forwards: 6\r\n"
	    "Call-ID: mismatch02.dj0234sxdfl3\r\n"
	    "CSeq: 8 INVITE\r\n"
	    "Contact: <sip:caller@127.0.0.2:5062>\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-mm02\r\n"
	    "Content-Type: application/sdp\r\n"
	    "l: {CL}\r\n\r\n" SDP_BODY), .e = STATUS, .code = 400 },
	{ "3.1.2.19", "bigcode", "A status code over 699 (from bob): "
	  "dropped",
	  M("SIP/2.0 4294967301 better not break the receiver\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1;branch=$b\r\n"
	    "Call-ID: $c\r\n"
	    "CSeq: $n INVITE\r\n"
	    "From: <sip:torture@" DOMAIN ">;tag=$f\r\n"
	    "To: <sip:bob@" DOMAIN ">;tag=bob-bigcode\r\n"
	    "Content-Length: 0\r\n\r\n"), .from_b = 1, .e = NOTHING },

	/* ---- 3.2 transaction layer ---- */
	{ "3.2.1", "badbranch", "A branch that is only the magic cookie: "
	  "rejected, or matched the RFC 2543 way",
	  M("OPTIONS sip:user@" DOMAIN " SIP/2.0\r\n"
	    "To: sip:user@" DOMAIN "\r\n"
	    "From: sip:caller@example.org;tag=33242\r\n"
	    "Max-Forwards: 3\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK\r\n"
	    "Accept: application/sdp\r\n"
	    "Call-ID: badbranch.sadonfo23i420jv0as0derf3j3n\r\n"
	    "CSeq: 8 OPTIONS\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 200, .alt = 400 },

	/* ---- 3.3 application layer ---- */
	{ "3.3.1", "insuf", "No Call-ID, From or To: a response cannot be "
	  "built (it copies them), so the request is dropped",
	  M("INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
	    "CSeq: 193942 INVITE\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-insuf\r\n"
	    "Content-Type: application/sdp\r\n"
	    "l: {CL}\r\n\r\n" SDP_BODY), .e = NOTHING },
	{ "3.3.2", "unkscm", "A Request-URI of an unknown scheme: 416",
	  M("OPTIONS nobodyKnowsThisScheme:totallyopaque-content SIP/2.0\r\n"
	    "To: sip:user@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=384\r\n"
	    "Max-Forwards: 3\r\n"
	    "Call-ID: unkscm.nasdfasser0q239nwsdfasdkl34\r\n"
	    "CSeq: 3923423 OPTIONS\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-unkscm\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 416, .alt = 400 },
	{ "3.3.3", "novelsc", "A Request-URI of a known but atypical scheme: "
	  "416",
	  M("OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0\r\n"
	    "To: sip:user@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=384\r\n"
	    "Max-Forwards: 3\r\n"
	    "Call-ID: novelsc.asdfasser0q239nwsdfasdkl34\r\n"
	    "CSeq: 3923423 OPTIONS\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-novelsc\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 416, .alt = 400 },
	/* Valid syntax; the registrar refuses the AOR: 403, as for any AOR
	 * outside our domain (the RFC suggests 400). */
	{ "3.3.4", "unksm2", "A REGISTER whose To is not a SIP AOR: refused",
	  M("REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	    "To: isbn:2983792873\r\n"
	    "From: <http://www.example.com>;tag=3234233\r\n"
	    "Call-ID: unksm2.daksdj@hyphenated-host.example.com\r\n"
	    "CSeq: 234902 REGISTER\r\n"
	    "Max-Forwards: 70\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-unksm2\r\n"
	    "Contact: <name:John_Smith>\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 400, .alt = 403 },
	{ "3.3.5", "bext01", "Require of an extension nobody supports: 420 "
	  "with Unsupported",
	  M("OPTIONS sip:user@" DOMAIN " SIP/2.0\r\n"
	    "To: sip:j_user@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=242etr\r\n"
	    "Max-Forwards: 6\r\n"
	    "Call-ID: bext01.0ha0isndaksdj\r\n"
	    "Require: nothingSupportsThis, nothingSupportsThisEither\r\n"
	    "Proxy-Require: noProxiesSupportThis, norDoAnyProxiesSupportThis\r\n"
	    "CSeq: 8 OPTIONS\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-bext01\r\n"
	    "l: 0\r\n\r\n"),
	  .e = STATUS, .code = 420, .hdr = "Unsupported: nothingSupportsThis" },
	{ "3.3.6", "invut", "A body of an unknown type in an INVITE: 415 with "
	  "Accept",
	  M("INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
	    "Contact: <sip:caller@127.0.0.2:5062>\r\n"
	    "To: sip:bob@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=8392034\r\n"
	    "Max-Forwards: 70\r\n"
	    "Call-ID: invut.0ha0isndaksdjadsfij34n23d\r\n"
	    "CSeq: 235448 INVITE\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-invut\r\n"
	    "Content-Type: application/unknownformat\r\n"
	    "Content-Length: {CL}\r\n\r\n"
	    "<audio>\r\n <pcmu port=\"443\"/>\r\n</audio>\r\n"),
	  .e = STATUS, .code = 415, .hdr = "Accept: application/sdp" },
	{ "3.3.7", "regaut01", "An Authorization of an unknown scheme, to a "
	  "registrar without authentication: ignored",
	  M("REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	    "To: sip:j.user@" DOMAIN "\r\n"
	    "From: sip:j.user@" DOMAIN ";tag=87321hj23128\r\n"
	    "Max-Forwards: 8\r\n"
	    "Call-ID: regaut01.0ha0isndaksdj\r\n"
	    "CSeq: 9338 REGISTER\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-regaut01\r\n"
	    "Authorization: NoOneKnowsThisScheme opaque-data=here\r\n"
	    "Contact: <sip:j.user@127.0.0.2:5062>\r\n"
	    "Content-Length:0\r\n\r\n"), .e = STATUS, .code = 200 },
	{ "3.3.8", "multi01", "Two values of Call-ID, To, From, Max-Forwards "
	  "and CSeq",
	  M("INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-multi01\r\n"
	    "Max-Forwards: 70\r\n"
	    "CSeq: 5 INVITE\r\n"
	    "Call-ID: multi01.98asdh@192.0.2.1\r\n"
	    "CSeq: 59 INVITE\r\n"
	    "Call-ID: multi01.98asdh@192.0.2.2\r\n"
	    "From: sip:caller@example.com;tag=3413415\r\n"
	    "To: sip:bob@" DOMAIN "\r\n"
	    "To: sip:other@example.net\r\n"
	    "From: sip:caller@example.net;tag=2923420123\r\n"
	    "Content-Type: application/sdp\r\n"
	    "l: {CL}\r\n"
	    "Contact: <sip:caller@127.0.0.2:5062>\r\n"
	    "Max-Forwards: 5\r\n\r\n" SDP_BODY), .e = STATUS, .code = 400 },
	{ "3.3.9", "mcl01", "Two Content-Length values",
	  M("OPTIONS sip:user@" DOMAIN " SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-mcl01\r\n"
	    "To: sip:user@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=323\r\n"
	    "Max-Forwards: 70\r\n"
	    "Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf\r\n"
	    "CSeq: 15932 OPTIONS\r\n"
	    "Content-Length: 13\r\n"
	    "Max-Forwards: 60\r\n"
	    "Content-Length: 5\r\n"
	    "Content-Type: text/plain\r\n\r\n"
	    "There's no way to know how many octets are supposed to be here.\r\n"),
	  .e = STATUS, .code = 400 },
	{ "3.3.10", "bcast", "A 200 (from bob) with a second Via, to a "
	  "broadcast address: a UAC discards a response with more than one "
	  "Via",
	  M("SIP/2.0 200 OK\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1;branch=$b\r\n"
	    "Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23\r\n"
	    "Call-ID: $c\r\n"
	    "CSeq: $n INVITE\r\n"
	    "From: <sip:torture@" DOMAIN ">;tag=$f\r\n"
	    "To: <sip:bob@" DOMAIN ">;tag=bob-bcast\r\n"
	    "Contact: <sip:bob@127.0.0.3:5064>\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: {CL}\r\n\r\n"
	    "v=0\r\no=bob 1 1 IN IP4 127.0.0.3\r\ns=-\r\nc=IN IP4 127.0.0.3\r\n"
	    "t=0 0\r\nm=audio 5000 RTP/AVP 0\r\nm=video 5002 RTP/AVP 31\r\n"),
	  .from_b = 1, .e = NOTHING },
	{ "3.3.11", "zeromf", "Max-Forwards 0 on an OPTIONS to us: answered, "
	  "not 483",
	  M("OPTIONS sip:" DOMAIN " SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-zeromf\r\n"
	    "Max-Forwards: 0\r\n"
	    "From: sip:caller@example.net;tag=3ghkfp3\r\n"
	    "To: sip:" DOMAIN "\r\n"
	    "Call-ID: zeromf.xakfk3j23l\r\n"
	    "CSeq: 39234321 OPTIONS\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 200 },
	{ "3.3.12", "cparam01", "A Contact parameter (no <>): the binding is "
	  "the URI without it",
	  M("REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-cparam01\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: sip:+19725552222@" DOMAIN ";tag=904231\r\n"
	    "To: sip:+19725552222@" DOMAIN "\r\n"
	    "Call-ID: cparam01.i3n2k1j6g8h2\r\n"
	    "CSeq: 2 REGISTER\r\n"
	    "Contact: sip:+19725552222@127.0.0.2:5062;unknownparam\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 200,
	  .hdr = "Contact: <sip:+19725552222@127.0.0.2:5062>" },
	{ "3.3.13", "cparam02", "A URI parameter inside <>: part of the "
	  "binding",
	  M("REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-cparam02\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: sip:+19725552223@" DOMAIN ";tag=904232\r\n"
	    "To: sip:+19725552223@" DOMAIN "\r\n"
	    "Call-ID: cparam02.i3n2k1j6g8h3\r\n"
	    "CSeq: 3 REGISTER\r\n"
	    "Contact: <sip:+19725552223@127.0.0.2:5062;unknownparam>\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 200,
	  .hdr = "Contact: <sip:+19725552223@127.0.0.2:5062;unknownparam>" },
	{ "3.3.14", "regescrt", "A Contact URI with an escaped header: "
	  "registered as it is",
	  M("REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	    "To: sip:user@" DOMAIN "\r\n"
	    "From: sip:user@" DOMAIN ";tag=8\r\n"
	    "Max-Forwards: 70\r\n"
	    "Call-ID: regescrt.k345asrl3fdbv@192.0.2.1\r\n"
	    "CSeq: 14398234 REGISTER\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-regescrt\r\n"
	    "Contact: <sip:user@127.0.0.2:5062?Route=%3Csip:sip.example.com%3E>\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 200,
	  .hdr = "?Route=%3Csip:sip.example.com%3E" },
	{ "xrelay", "badhost", "A Contact whose host libosip2 takes laxly "
	  "(':', '%' and '@' in it; printed back in brackets it parses no "
	  "more): 400, not a broken Contact in the 200 (found by fuzz_b2bua)",
	  M("REGISTER sip:" DOMAIN " SIP/2.0\r\n"
	    "To: sip:null-%00-null@" DOMAIN "\r\n"
	    "From: sip:null-%00-null@" DOMAIN ";tag=839923423\r\n"
	    "Max-Forwards: 70\r\n"
	    "Call-ID: badhost.39203ndfvkjdasfkq3w4otd\r\n"
	    "CSeq: 14398234 REGISTER\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-badhost\r\n"
	    "Contact: <sip:%00@127.0:%00%00@127.0.0.2:5062>\r\n"
	    "l: 0\r\n\r\n"), .e = STATUS, .code = 400 },
	{ "3.3.15", "sdp01", "An INVITE that accepts no SDP in the answer: "
	  "406 (or 400: every UA that takes INVITE must take SDP)",
	  M("INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
	    "To: sip:bob@" DOMAIN "\r\n"
	    "From: sip:caller@example.net;tag=234\r\n"
	    "Max-Forwards: 5\r\n"
	    "Call-ID: sdp01.ndaksdj9342dasdd\r\n"
	    "Accept: text/nobodyknowsthis\r\n"
	    "CSeq: 8 INVITE\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bKkdjuw-sdp01\r\n"
	    "Contact: <sip:caller@127.0.0.2:5062>\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: {CL}\r\n\r\n" SDP_BODY),
	  .e = STATUS, .code = 406, .alt = 400 },

	/* ---- 3.4 backward compatibility ---- */
	{ "3.4.1", "inv2543", "An RFC 2543 INVITE: no branch cookie, no "
	  "Max-Forwards",
	  M("INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.2:5062\r\n"
	    "From: <sip:caller@example.net>;tag=2543\r\n"
	    "To: <sip:bob@" DOMAIN ">\r\n"
	    "Call-ID: inv2543.1717@127.0.0.2\r\n"
	    "CSeq: 1 INVITE\r\n"
	    "Contact: <sip:caller@127.0.0.2:5062>\r\n"
	    "Content-Type: application/sdp\r\n"
	    "Content-Length: {CL}\r\n\r\n" SDP_BODY), .e = CALL },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* ---- running a case ------------------------------------------------------------- */

/* The fields of the INVITE the B2BUA last sent bob (for RELAY cases). */
static struct {
	char branch[128], call_id[256], from_tag[128], cseq[16];
} inv_b;

/* The message with {CL} = its body's length and the $ fields of inv_b
 * (for_fuzz: as fuzz_b2bua's "$Bb" and so on, filled in by it). */
static char *expand(const struct tcase *tc, size_t *outlen, int for_fuzz)
{
	size_t len = tc->len, i, body_len = 0;
	const char *msg = tc->msg, *hend;
	char *built = NULL, *out;
	struct sb b = { 0 };

	if (tc->build)
		msg = built = tc->build(&len);
	hend = memmem(msg, len, "\r\n\r\n", 4);
	if (hend) {
		body_len = len - (size_t)(hend + 4 - msg);
		/* dblreq: the body is only the first message's (none) */
		if (memmem(msg, len, "{CL}", 4) == NULL)
			body_len = 0;
	}
	for (i = 0; i < len; i++) {
		const char *v = NULL;
		size_t skip = 1;

		if (len - i >= 4 && !memcmp(msg + i, "{CL}", 4)) {
			sb_add(&b, "%zu", body_len);
			i += 3;
			continue;
		}
		if (msg[i] == '$' && i + 1 < len && tc->from_b && for_fuzz) {
			sb_add(&b, "$B");
			continue;
		}
		if (msg[i] == '$' && i + 1 < len && tc->from_b) {
			skip = 2;
			switch (msg[i + 1]) {
			case 'b': v = inv_b.branch; break;
			case 'c': v = inv_b.call_id; break;
			case 'f': v = inv_b.from_tag; break;
			case 'n': v = inv_b.cseq; break;
			}
		}
		if (v) {
			sb_add(&b, "%s", v);
			i += skip - 1;
		} else {
			sb_add(&b, "%c", msg[i]); /* a NUL too: n is 1 */
		}
	}
	free(built);
	if (b.oom || !b.p)
		abort();
	*outlen = b.len;
	out = b.p;
	return out;
}

static size_t setup_invite(const char *tag, char *buf, size_t size);

/* The case as a fuzz_b2bua seed: from A ("a>"), or the INVITE of the call
 * then bob's response ("b>"), messages separated by two NULs. */
static void dump(const struct tcase *tc)
{
	char path[512], inv[2048];
	size_t len;
	char *msg;
	FILE *f;

	if (!F.dump_dir)
		return;
	snprintf(path, sizeof(path), "%s/rfc4475-%s-%s.sip", F.dump_dir,
		 tc->sec, tc->name);
	f = fopen(path, "wb");
	if (!f)
		return;
	msg = expand(tc, &len, 1);
	if (tc->from_b) {
		fwrite(inv, 1, setup_invite(tc->name, inv, sizeof(inv)), f);
		fwrite("\0\0b>", 1, 4, f);
	} else {
		fwrite("a>", 1, 2, f);
	}
	fwrite(msg, 1, len, f);
	fclose(f);
	free(msg);
}

/* The first message sent to `to`: a response of `code` (0: any response)
 * or a request of `method`. */
static struct cap *find(const struct sip_peer *to, int code,
			const char *method)
{
	for (int i = 0; i < ncaps; i++) {
		const struct cap *c = &caps[i];

		if (!netaddr_equal((struct sockaddr *)&c->to.addr,
				   (const struct sockaddr *)&to->addr))
			continue;
		if (method ? c->m && MSG_IS_REQUEST(c->m) &&
			     !strcmp(c->m->sip_method, method) :
		    c->status && (code ? c->status == code : c->status > 100))
			return &caps[i];
	}
	return NULL;
}

/* An INVITE from A to bob, to set a call up. */
static size_t setup_invite(const char *tag, char *buf, size_t size)
{
	int n = snprintf(buf, size,
		     "INVITE sip:bob@" DOMAIN " SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK-setup-%s\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:torture@" DOMAIN ">;tag=setup-%s\r\n"
		     "To: <sip:bob@" DOMAIN ">\r\n"
		     "Call-ID: setup-%s@127.0.0.2\r\n"
		     "CSeq: 1 INVITE\r\n"
		     "Contact: <sip:torture@127.0.0.2:5062>\r\n"
		     "Content-Type: application/sdp\r\n"
		     "Content-Length: %zu\r\n\r\n%s", tag, tag, tag,
		     strlen(SDP_BODY), SDP_BODY);

	if (n < 0 || (size_t)n >= size)
		abort();
	return (size_t)n;
}

/* A call from A to bob, whose INVITE to bob is in inv_b. */
static void start_call(const char *tag)
{
	char buf[2048];
	struct cap *c;

	b2bua_on_message(F.b, buf, setup_invite(tag, buf, sizeof(buf)), &PA);
	c = find(&PB, 0, "INVITE");
	if (!c) {
		cap_dump();
		fail_msg("%s: the call set up first did not reach bob", tag);
	}
	snprintf(inv_b.branch, sizeof(inv_b.branch), "%s", sipmsg_branch(c->m));
	sipmsg_call_id(c->m, inv_b.call_id, sizeof(inv_b.call_id));
	snprintf(inv_b.from_tag, sizeof(inv_b.from_tag), "%s",
		 sipmsg_tag(c->m->from));
	snprintf(inv_b.cseq, sizeof(inv_b.cseq), "%u", sipmsg_cseq(c->m));
	cap_clear();
}

static int relay_sdp(const struct cap *c)
{
	osip_body_t *body = NULL;

	if (osip_message_get_body(c->m, 0, &body) || !body || !body->body) {
		print_error("no SDP in the INVITE to bob\n");
		return 0;
	}
	if (strstr(body->body, "c=IN IP4 127.0.0.1\r\n") &&
	    !strstr(body->body, "127.0.0.2"))
		return 1;
	print_error("the SDP to bob:\n%s\n", body->body);
	return 0;
}

static void run_case(void **state)
{
	const struct tcase *tc = *state;
	char what[160];
	struct cap *c;
	size_t len;
	char *msg;

	cap_clear();
	if (tc->from_b)
		start_call(tc->name);
	dump(tc);
	msg = expand(tc, &len, 0);
	/* what the transport promises: a NUL after the message */
	msg = realloc(msg, len + 1);
	msg[len] = 0;
	b2bua_on_message(F.b, msg, len, tc->from_b ? &PB : &PA);
	free(msg);
	snprintf(what, sizeof(what), "%s %s (%s)", tc->sec, tc->name, tc->title);

	switch (tc->e) {
	case CALL:
		c = find(&PA, 0, NULL); /* a final response: none */
		if (c || !find(&PA, 100, NULL) || !find(&PB, 0, "INVITE")) {
			print_error("%s: expected 100 Trying to A and an INVITE "
				    "to bob\n", what);
			cap_dump();
			fail();
		}
		CHECK_TRUE(relay_sdp(find(&PB, 0, "INVITE")),
			   "the INVITE to bob has the SDP anchored on the relay");
		if (tc->hdr && strstr(find(&PB, 0, "INVITE")->buf, tc->hdr)) {
			print_error("%s: \"%s\" crossed to bob's leg:\n%s\n",
				    what, tc->hdr, find(&PB, 0, "INVITE")->buf);
			fail();
		}
		break;
	case STATUS:
		c = find(&PA, 0, NULL);
		if (!c || (c->status != tc->code && c->status != tc->alt) ||
		    find(&PB, 0, NULL) || find(&PB, 0, "INVITE")) {
			print_error("%s: expected %d%s%.0d to A and nothing to "
				    "bob\n", what, tc->code,
				    tc->alt ? " or " : "", tc->alt);
			cap_dump();
			fail();
		}
		if (tc->alt) /* which of the two: for the report */
			print_message("# %s %s: %d\n", tc->sec, tc->name,
				      c->status);
		if (c->status == 400)
			CHECK_HAS(c->buf, "\r\nWarning: 399 xrelay \"",
				  "a 400 says why in a Warning");
		if (tc->hdr && c->status == tc->code)
			CHECK_HAS(c->buf, tc->hdr, what);
		break;
	case RELAY:
		c = find(&PA, tc->code, NULL);
		if (!c) {
			print_error("%s: expected bob's %d relayed to A\n",
				    what, tc->code);
			cap_dump();
			fail();
		}
		break;
	case NOTHING:
		if (ncaps) {
			print_error("%s: expected nothing sent\n", what);
			cap_dump();
			fail();
		}
		break;
	}
	cap_clear();
}

/* After all of them: OPTIONS is answered, and a call still goes through. */
static void test_after_all(void **state)
{
	static const char opt[] =
		"OPTIONS sip:" DOMAIN " SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK-after-all\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:alice@" DOMAIN ">;tag=after\r\n"
		"To: <sip:" DOMAIN ">\r\n"
		"Call-ID: after-all@127.0.0.2\r\n"
		"CSeq: 1 OPTIONS\r\n"
		"Content-Length: 0\r\n\r\n";
	struct b2bua_stats st;

	(void)state;
	cap_clear();
	b2bua_tick(F.b);
	cap_clear();
	b2bua_on_message(F.b, opt, sizeof(opt) - 1, &PA);
	CHECK_TRUE(find(&PA, 200, NULL) != NULL,
		   "OPTIONS after every torture message: 200");
	cap_clear();
	start_call("after-all"); /* fails unless the INVITE reaches bob */
	b2bua_stats(F.b, &st);
	CHECK_TRUE(st.malformed > 0, "the malformed messages were counted");
}

int main(void)
{
	static struct CMUnitTest tests[NCASES + 1];
	static char names[NCASES][96];

	for (size_t i = 0; i < NCASES; i++) {
		snprintf(names[i], sizeof(names[i]), "rfc4475 %s %s",
			 cases[i].sec, cases[i].name);
		tests[i] = (struct CMUnitTest){
			.name = names[i], .test_func = run_case,
			.initial_state = (void *)&cases[i] };
	}
	tests[NCASES] = (struct CMUnitTest){
		.name = "rfc4475 after all: OPTIONS and a call",
		.test_func = test_after_all };
	return cmocka_run_group_tests_name("test_torture", tests, group_setup,
					   group_teardown);
}
