#!/bin/sh
# End-to-end: what xrelayd lets in, with XDP on the relay's interfaces.
#
#   a    a0 10.84.1.2 alice (or a raw SIP client) --- r0 10.84.1.1   rly
#   rly  r1 10.84.2.1 --- b0 10.84.2.2 bob                            b
#   rly  r2 10.84.3.1 --- x0 10.84.3.2 the attacker                   x
#
#   rtp-bleed   a call between two baresip phones; while bob's phone
#               rings (the relay ports are allocated, no media yet) the
#               attacker starts sending to the relay's RTP and RTCP ports
#               of both legs, and goes on after the phones' media began.
#               By default (latch hint) the relay latches only onto the
#               phones (their SDP and signalling address) and the attacker
#               never gets a single datagram (the UDP counters of its
#               namespace), before or after the latch; the control case
#               with --latch any shows that the test sees a bleed.
#   ng-*        the ng listener: a port alone binds loopback, reachable
#               from the relay's host only; on a routable address it
#               serves only the ng_allow sources (UDP and TCP), and only
#               loopback without ng_allow (and says so).
#   ctl-socket  the control socket is mode 0660: another user cannot use
#               it even where the directory is open.
#   digest-*    --users-file, raw SIP over UDP (bash's /dev/udp, md5sum):
#               no credentials get 401/407 with a challenge, a wrong
#               password 403, a replayed nonce count 403, a forged nonce,
#               an unknown user and someone else's credentials 403; the
#               right ones pass (REGISTER 200; INVITE past auth to
#               routing), and a nonce may be used again with a higher nc.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/phones.sh"

phones_need
need_bins rtpprobe
if ! command -v md5sum >/dev/null || ! command -v setpriv >/dev/null; then
	echo "not ok - md5sum and setpriv (coreutils, util-linux) are needed"
	exit 1
fi

A=10.84.1.2 RA=10.84.1.1 B=10.84.2.2 RB=10.84.2.1 X=10.84.3.2 RX=10.84.3.1
REALM=xrelay.test

topology() { phones_topology x; }

# ---- RTP Bleed ------------------------------------------------------------------

# bleed POLICY: the attack, with --latch POLICY.
bleed() {
	policy=$1
	topology || return 1
	relay --iface r2:xdp --latch "$policy" || return 1
	ringing 10 || return 1
	sed 's/^/ringing: /' "$OUT"
	pa=$(leg_field A RTP port) pb=$(leg_field B RTP port)
	check "relay ports allocated while it rings (A $pa, B $pb)" \
		[ -n "$pa" -a -n "$pb" ] || return 1
	eq "no media yet: leg A not latched" "$(leg_field A RTP latched)" no
	x_in0=$(udp_count x InDatagrams) x_noport0=$(udp_count x NoPorts)
	# The attacker: one socket per relay port, sending RTP at 50/s for
	# 5 s and listening for anything the relay sends back.
	apids=""
	for p in "4000 $RA $pa" "4001 $RA $((pa + 1))" \
		 "4002 $RB $pb" "4003 $RB $((pb + 1))"; do
		set -- $p
		bg x "$BUILD/rtpprobe" recv --bind "$X" --port "$1" \
			--iface x0 --count 0 --timeout 6 \
			--send-to "$2:$3" --send-count 250 --send-rate 50 \
			--send-ssrc 0xbadbad00 >"$WORK/x$1.recv"
		apids="$apids $!"
	done
	for port in 4000 4001 4002 4003; do wait_udp x $port || return 1; done
	sleep 1
	ctl call "$cid"
	sed 's/^/before the answer: /' "$OUT"
	if [ "$policy" = hint ]; then
		eq "before: leg A RTP not latched" "$(leg_field A RTP latched)" no
		eq "before: leg B RTP not latched" "$(leg_field B RTP latched)" no
		check "before: the attacker's packets refused on A's RTP port" \
			[ "$(leg_field A RTP policy)" -ge 10 ]
		check "before: ... and on B's RTP port" \
			[ "$(leg_field B RTP policy)" -ge 10 ]
	fi
	# Bob answers; the phones' media starts.
	ua bob --wait-event CALL_ESTABLISHED accept >"$WORK/accept.out" 2>&1
	wait $dpid
	check "the call is established" grep -q '^CALL_ESTABLISHED' \
		"$WORK/dial.out" || return 1
	for p in $apids; do wait "$p"; done
	x_in=$(($(udp_count x InDatagrams) - x_in0))
	x_noport=$(($(udp_count x NoPorts) - x_noport0))
	for port in 4000 4001 4002 4003; do
		sed "s/^/attacker $port: /" "$WORK/x$port.recv" |
			grep -E 'sent=|received=|src=|cap_frames='
	done
	ctl call "$cid"
	sed 's/^/after: /' "$OUT"
	got=0
	for port in 4000 4001 4002 4003; do
		got=$((got + $(kv "$WORK/x$port.recv" received)))
	done
	echo "FIGURE rtp-bleed ($policy): the attacker sent 4 x 250 packets," \
		"received $got; datagrams to its namespace: $x_in (+$x_noport" \
		"to closed ports)"
	if [ "$policy" = any ]; then
		# The control: with latching open, the same attack works.
		check "latch any: the attacker is latched on a leg" \
			grep -q "latched $X:" "$OUT"
		check "latch any: the attacker receives media ($got packets)" \
			[ "$got" -gt 0 ]
		hangup alice
		return 0
	fi
	eq "the attacker received nothing on its sockets" "$got" 0
	eq "no datagram reached the attacker's namespace" \
		"$((x_in + x_noport))" 0
	for port in 4000 4001 4002 4003; do
		eq "attacker $port: frames for it captured on x0" \
			"$(kv "$WORK/x$port.recv" cap_frames)" 0
	done
	eq "leg A RTP latched to alice" \
		"$(leg_field A RTP latched | sed 's/:.*//')" "$A"
	eq "leg B RTP latched to bob" \
		"$(leg_field B RTP latched | sed 's/:.*//')" "$B"
	check "no leg latched to the attacker" sh -c "! grep -q '$X' '$OUT'"
	check "no re-latch" sh -c "! grep -q 'relatches [1-9]' '$OUT'"
	check "after the latch the kernel drops the attacker's packets (A)" \
		[ "$(leg_field A RTP foreign)" -ge 50 ]
	check "... and on B's RTP port" [ "$(leg_field B RTP foreign)" -ge 50 ]
	check "the refused latch is logged" grep -q \
		"not latching $X:400[0-3]: it is neither the SDP address nor the signalling address" \
		"$LOG"
	# The phones' media went through the kernel both ways meanwhile.
	hangup alice
	i=0
	until [ "$(cdr_lines)" -ge 1 ] || [ $i -ge 60 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	k=$(tail -n 1 "$CDR" |
		sed -n 's/.*"b":{"kernel_packets":\([0-9]*\).*/\1/p')
	check "bob's media reached the kernel path (${k:-?} packets)" \
		[ "${k:-0}" -ge 100 ]
}

case_bleed() { bleed hint; }
case_bleed_control() { bleed any; }

# ---- the ng listener ----------------------------------------------------------

NG_PING='d7:command4:pinge'

# ng_udp NS ADDR PORT: an ng ping over UDP from NS; prints the reply (or
# nothing within 1 s).
ng_udp() {
	nsx "$1" bash -c 'exec 3<>"/dev/udp/$1/$2" || exit 1
		printf "%s" "c$$ $3" >&3
		timeout 1 dd bs=65535 count=1 status=none <&3' _ "$2" "$3" \
		"$NG_PING" 2>/dev/null
}

# ng_tcp NS ADDR PORT: the same over TCP.
ng_tcp() {
	nsx "$1" bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1
		printf "%s" "c$$ $3" >&3
		timeout 1 dd bs=65535 count=1 status=none <&3' _ "$2" "$3" \
		"$NG_PING" 2>/dev/null
}

is_pong() { case $1 in c*" d6:result4:ponge") return 0 ;; esac; return 1; }

case_ng_loopback() {
	topology || return 1
	relay --ng-listen udp:2223,tcp:2223 || return 1
	nsx rly ss -Hlun "sport = :2223" >"$WORK/ss"
	nsx rly ss -Hltn "sport = :2223" >>"$WORK/ss"
	sed 's/^/ss: /' "$WORK/ss"
	eq "a port alone: two sockets, both on 127.0.0.1" \
		"$(grep -c ' 127\.0\.0\.1:2223 ' "$WORK/ss")" 2
	r=$(ng_udp rly 127.0.0.1 2223)
	check "ping on loopback: pong ($r)" is_pong "$r"
	r=$(ng_tcp rly 127.0.0.1 2223)
	check "ping over TCP on loopback: pong ($r)" is_pong "$r"
	r=$(ng_udp x "$RX" 2223)
	eq "from the attacker's host (UDP): no answer" "$r" ""
	r=$(ng_tcp x "$RX" 2223)
	eq "from the attacker's host (TCP): no answer" "$r" ""
}

case_ng_allow() {
	topology || return 1
	relay --ng-listen "udp:$RX:2223,tcp:$RX:2223" --ng-allow "$A/32" ||
		return 1
	r=$(ng_udp a "$RX" 2223)
	check "from an ng_allow source (UDP): pong ($r)" is_pong "$r"
	r=$(ng_tcp a "$RX" 2223)
	check "from an ng_allow source (TCP): pong ($r)" is_pong "$r"
	r=$(ng_udp x "$RX" 2223)
	eq "from another source (UDP): no answer" "$r" ""
	sleep 1 # refusals are logged at most once a second
	r=$(ng_tcp x "$RX" 2223)
	eq "from another source (TCP): no answer" "$r" ""
	wait_log "warn .*ng: a message from $X refused: not in ng_allow" ||
		true
	grep 'refused' "$LOG" | sed 's/^/xrelayd: /'
	check "the refused message is logged" grep -q \
		"ng: a message from $X refused: not in ng_allow" "$LOG"
	check "the refused connection is logged" grep -q \
		"ng: a tcp connection from $X refused: not in ng_allow" "$LOG"
}

case_ng_no_allow() {
	topology || return 1
	relay --ng-listen "udp:$RX:2223" || return 1
	check "a routable address without ng_allow: a warning" grep -q \
		"ng: $RX:2223 is not a loopback address but ng_allow is empty" \
		"$LOG"
	r=$(ng_udp x "$RX" 2223)
	eq "from a host on that network: no answer" "$r" ""
	r=$(ng_udp a "$RX" 2223)
	eq "from another host: no answer" "$r" ""
	check "refused: loopback clients only" grep -q \
		"refused: not in ng_allow (empty: loopback clients only)" "$LOG"
}

# ---- the control socket ---------------------------------------------------------

case_ctl_socket() {
	topology || return 1
	# A directory anyone may enter: only the socket's mode guards it.
	chmod 755 "$WORK" || return 1
	relay || return 1
	eq "socket mode" "$(stat -c %a "$SOCK")" 660
	eq "socket owner" "$(stat -c %U "$SOCK")" root
	ctl stats
	eq "root (its owner) may use it" "$RC" 0
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$BUILD/xrelayctl" --socket "$SOCK" stats >"$WORK/nobody.out" \
		2>&1
	rc=$?
	sed 's/^/nobody: /' "$WORK/nobody.out"
	eq "another user cannot reach the daemon (xrelayctl exit 3)" "$rc" 3
	check "... because of the permission" grep -qi 'permission denied' \
		"$WORK/nobody.out"
}

# ---- digest authentication ----------------------------------------------------------

md5() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }

# sip NS FILE: sip_send (the message in FILE from NS to the relay's r0
# address, an INVITE's final response ACKed); the final response (CRs
# removed) in $RESP, its status in $STATUS.
SEQ=0
sip() {
	RESP=$WORK/resp.$SEQ
	sip_send "$1" "$2" 2 >"$RESP"
	STATUS=$(head -n 1 "$RESP" | cut -d' ' -f2)
}

# req METHOD URI USER CSEQ [HEADER]: a request from alice's address (To
# the AOR for REGISTER, the URI otherwise), new branch, Call-ID
# digest-$$-CSEQ unless CALLID is set; its file's path in $MSG.
req() {
	SEQ=$((SEQ + 1))
	MSG=$WORK/req.$SEQ
	to=$2
	[ "$1" = REGISTER ] && to="sip:$3@$RA"
	{
		printf '%s %s SIP/2.0\r\n' "$1" "$2"
		printf 'Via: SIP/2.0/UDP %s:5099;rport;branch=z9hG4bKdg%s.%s\r\n' \
			"$A" "$$" "$SEQ"
		printf 'Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=dg%s\r\n' \
			"$3" "$RA" "$SEQ"
		printf 'To: <%s>\r\nCall-ID: %s\r\nCSeq: %s %s\r\n' "$to" \
			"${CALLID:-digest-$$-$SEQ}" "$4" "$1"
		printf 'Contact: <sip:%s@%s:5099>\r\n' "$3" "$A"
		[ -n "${5:-}" ] && printf '%s\r\n' "$5"
		if [ "$1" = INVITE ]; then
			sdp="v=0\r\no=- 1 1 IN IP4 $A\r\ns=-\r\nc=IN IP4 $A\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
			printf 'Content-Type: application/sdp\r\n'
			printf 'Content-Length: %s\r\n\r\n' \
				"$(printf "$sdp" | wc -c)"
			printf "$sdp"
		else
			printf 'Content-Length: 0\r\n\r\n'
		fi
	} >"$MSG"
}

# challenge HEADER: realm and nonce of the challenge in $RESP (the header
# WWW-Authenticate or Proxy-Authenticate).
challenge() {
	ch=$(grep -i "^$1:" "$RESP")
	NONCE=$(printf '%s' "$ch" | sed -n 's/.*nonce="\([^"]*\)".*/\1/p')
	CREALM=$(printf '%s' "$ch" | sed -n 's/.*realm="\([^"]*\)".*/\1/p')
	QOP=$(printf '%s' "$ch" | sed -n 's/.*qop="\([^"]*\)".*/\1/p')
}

# creds HEADER USER PASSWORD METHOD URI NC: the credentials header for
# the last challenge's nonce (qop=auth).
creds() {
	ha1=$(md5 "$2:$REALM:$3") ha2=$(md5 "$4:$5")
	resp=$(md5 "$ha1:$NONCE:$6:0a4f113b:auth:$ha2")
	printf '%s: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="0a4f113b"' \
		"$1" "$2" "$REALM" "$NONCE" "$5" "$resp" "$6"
}

digest_setup() {
	topology || return 1
	USERS=$(mktemp "/tmp/$T.users.XXXXXX") || return 1
	printf 'alice:%s:alice-pw\nbob:%s:bob-pw\n' $REALM $REALM >"$USERS"
	relay --users-file "$USERS" || return 1
}

case_digest_register() {
	digest_setup || return 1
	U="sip:$RA"
	req REGISTER "$U" alice 1
	sip a "$MSG"
	sed 's/^/no credentials: /' "$RESP" | grep -E '^[^:]*: (SIP|WWW)'
	eq "REGISTER without credentials" "$STATUS" 401
	challenge WWW-Authenticate
	check "401: a nonce" [ -n "$NONCE" ]
	eq "401: our realm" "$CREALM" "$REALM"
	eq "401: qop" "$QOP" auth

	req REGISTER "$U" alice 2 \
		"$(creds Authorization alice wrong-pw REGISTER "$U" 00000001)"
	sip a "$MSG"
	eq "a wrong password" "$STATUS" 403

	good=$(creds Authorization alice alice-pw REGISTER "$U" 00000001)
	req REGISTER "$U" alice 3 "$good"
	sip a "$MSG"
	eq "the right password" "$STATUS" 200
	ctl regs
	check "alice is registered" grep -q "alice@$REALM" "$OUT"

	# The same credentials again: a new transaction (branch, CSeq) with
	# the Authorization header copied, as an eavesdropper replays it.
	req REGISTER "$U" alice 4 "$good"
	sip a "$MSG"
	eq "the credentials replayed (same nonce, same nc)" "$STATUS" 403
	# A higher nc without the secret: the response no longer matches.
	req REGISTER "$U" alice 5 "$(printf '%s' "$good" |
		sed 's/nc=00000001/nc=00000002/')"
	sip a "$MSG"
	eq "replayed with a higher nc, the old response" "$STATUS" 403
	# The owner of the password may count on (RFC 2617 nonce reuse).
	req REGISTER "$U" alice 6 \
		"$(creds Authorization alice alice-pw REGISTER "$U" 00000002)"
	sip a "$MSG"
	eq "alice herself with nc 2 on the same nonce" "$STATUS" 200

	req REGISTER "$U" alice 7 "$(creds Authorization alice alice-pw \
		REGISTER "$U" 00000003 | sed 's/nonce="[0-9a-f]\{16\}/nonce="0000000000000000/')"
	sip a "$MSG"
	eq "a nonce we did not issue (its time forged)" "$STATUS" 403
	req REGISTER "$U" mallory 8 \
		"$(creds Authorization mallory alice-pw REGISTER "$U" 00000001)"
	sip a "$MSG"
	eq "an unknown user" "$STATUS" 403
	# Bob's own valid credentials, to register alice.
	req REGISTER "$U" bob 9
	sip a "$MSG"
	challenge WWW-Authenticate
	req REGISTER "$U" alice 10 \
		"$(creds Authorization bob bob-pw REGISTER "$U" 00000001)"
	sip a "$MSG"
	eq "bob's credentials to register alice" "$STATUS" 403
	req REGISTER "$U" alice 11 'Authorization: Digest username="alice"'
	sip a "$MSG"
	eq "incomplete credentials" "$STATUS" 400
	check "failed credentials are logged" grep -q \
		"warn .*auth: .*wrong credentials.*from $A" "$LOG"
}

case_digest_invite() {
	digest_setup || return 1
	U="sip:nobody@$RA"
	req INVITE "$U" alice 1
	sip a "$MSG"
	sed 's/^/no credentials: /' "$RESP" | grep -E '^[^:]*: (SIP|Proxy)'
	eq "INVITE without credentials" "$STATUS" 407
	challenge Proxy-Authenticate
	check "407: a nonce" [ -n "$NONCE" ]
	eq "407: our realm" "$CREALM" "$REALM"

	req INVITE "$U" alice 2 \
		"$(creds Proxy-Authorization alice wrong-pw INVITE "$U" 00000001)"
	sip a "$MSG"
	eq "a wrong password" "$STATUS" 403
	# Past auth an INVITE for nobody is routed, and nobody is there.
	good=$(creds Proxy-Authorization alice alice-pw INVITE "$U" 00000001)
	req INVITE "$U" alice 3 "$good"
	sip a "$MSG"
	eq "the right password: past auth, to routing (404: nobody)" \
		"$STATUS" 404
	req INVITE "$U" alice 4 "$good"
	sip a "$MSG"
	eq "the credentials replayed on a new INVITE" "$STATUS" 403
	req INVITE "$U" bob 5 "$(creds Proxy-Authorization alice alice-pw \
		INVITE "$U" 00000002)"
	sip a "$MSG"
	eq "alice's credentials, From bob" "$STATUS" 403
	# Credentials in the wrong header (Authorization on an INVITE) do
	# not count: challenged again.
	req INVITE "$U" alice 6 "$(creds Authorization alice alice-pw \
		INVITE "$U" 00000003)"
	sip a "$MSG"
	eq "an INVITE with Authorization instead of Proxy-Authorization" \
		"$STATUS" 407
	ctl stats
	check "no call was set up" grep -q "calls       0 active" "$OUT"
	# The trace shows the six INVITEs that came in: one sent would show.
	eq "INVITEs received in the trace" \
		"$(grep -c ' sip: rx from [0-9.:]*: INVITE' "$LOG")" 6
	eq "no INVITE left the relay" \
		"$(grep -c ' sip: tx to [0-9.:]*: INVITE' "$LOG")" 0
}

# ONLY=PATTERN runs just the cases whose names contain it.
only() { case $1 in *"${ONLY:-}"*) run_case "$@" ;; esac; }
only rtp-bleed-hint case_bleed
only rtp-bleed-control-latch-any case_bleed_control
only ng-loopback-by-default case_ng_loopback
only ng-allow case_ng_allow
only ng-routable-without-allow case_ng_no_allow
only ctl-socket-0660 case_ctl_socket
only digest-register case_digest_register
only digest-invite case_digest_invite
finish
