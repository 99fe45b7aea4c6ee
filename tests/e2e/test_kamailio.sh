#!/bin/sh
# End-to-end: xrelay as the media relay of a real SIP proxy. Kamailio (the
# Debian package) with its rtpengine module, pointed at xrelayd's ng
# listener, proxies a call between two baresip phones; xrelayd does no SIP
# here, only media, forwarded by XDP on the relay's interfaces.
#
#   a    a0 10.77.1.2 alice --- r0 10.77.1.1   rly: Kamailio :5060,
#   rly  r1 10.77.2.1 --- b0 10.77.2.2 bob     xrelayd ng on 127.0.0.1
#
# Alice registers with Kamailio at 10.77.1.1, bob at 10.77.2.1; alice
# calls sip:bob@10.77.1.1. Kamailio record-routes, so the BYE passes it
# too, and calls rtpengine_manage() on the INVITE (offer), on the reply
# with SDP (answer) and on the BYE (delete); before the delete it logs
# $rtpstat, which is an ng query. The case asserts that both phones see
# the call established and hear the other's tone, that xrelayd saw the
# ng commands, that the media went through the kernel (ng query: kernel
# packets >> userspace packets; the pinned flow map agrees), and that the
# BYE's delete removed the session.
. "$(dirname "$0")/lib.sh"
# The topology and the phones (phones_topology, phone, ua, wait_calls,
# kpkts); relay, wait_log and hangup are this file's own, defined below.
. "$(dirname "$0")/phones.sh"

phones_need kamailio sox
PHONE_MODULES=sndfile.so   # the phones record what they hear

A=10.77.1.2  RA=10.77.1.1   # alice; the relay (and Kamailio) on r0
B=10.77.2.2  RB=10.77.2.1   # bob; the relay on r1
NGPORT=22222                # xrelayd's ng listener, on loopback
SECS=3                      # media time of the call

topology() { phones_topology; }

# wait_log FILE PATTERN WHAT [SEC]: until FILE has a line matching PATTERN.
wait_log() {
	i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		if [ $i -ge $((${4:-5} * 20)) ]; then
			echo "$3: not in $(basename "$1") after ${4:-5} s:"
			grep -v libbpf "$1" | tail -n 20 | sed 's/^/    /'
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
}

# wait_count FILE PATTERN N: until FILE has N lines matching PATTERN (5 s).
wait_count() {
	i=0
	until [ "$(grep -c "$2" "$1")" -ge "$3" ]; do
		if [ $i -ge 100 ]; then
			echo "$(grep -c "$2" "$1") lines match '$2', not $3"
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
}

# relay: xrelayd with XDP on r0 and r1 and the ng listener; its SIP
# listener (which it needs) on a port nobody uses.
relay() {
	LOG=$WORK/xrelayd.log
	mkdir -p "$WORK/state" || return 1
	bg rly "$BUILD/xrelayd" --listen udp:127.0.0.1:15060 \
		--iface r0:xdp --iface r1:xdp --pin-dir "$PIN" \
		--state-dir "$WORK/state" --ctl-socket "$WORK/ctl.sock" \
		--ng-listen "udp:127.0.0.1:$NGPORT" </dev/null >"$LOG" 2>&1
	wait_log "$LOG" 'xrelayd: ready' "xrelayd started" || return 1
	check "xrelayd forwards in the kernel (xdp) on r0 and r1" \
		[ "$(grep -c 'r[01]: forwarding in the kernel (xdp)' "$LOG")" \
		-eq 2 ]
	check "xrelayd's ng listener is up" \
		grep -q "ng: listening on udp:127.0.0.1:$NGPORT" "$LOG"
}

# kamailio: the proxy, its configuration written here. Modules from the
# Debian package's directory; it stays in the foreground (-DD), logs to
# stderr (-E), keeps its runtime files in $WORK.
kamailio_start() {
	KLOG=$WORK/kamailio.log
	mpath=$(dirname "$(dpkg -L kamailio | grep '/rtpengine\.so$')")
	mkdir -p "$WORK/kamrun" || return 1
	cat >"$WORK/kamailio.cfg" <<EOF
#!KAMAILIO
debug=2
log_stderror=yes
children=2
mhomed=1
auto_aliases=no
listen=udp:$RA:5060
listen=udp:$RB:5060
alias=$RA
alias=$RB
mpath="$mpath"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "rtpengine.so"
modparam("usrloc", "db_mode", 0)
modparam("rtpengine", "rtpengine_sock", "udp:127.0.0.1:$NGPORT")

request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (!sanity_check()) {
		exit;
	}
	if (is_method("REGISTER")) {
		if (!save("location")) {
			sl_reply_error();
		}
		exit;
	}
	if (has_totag()) {
		route(WITHINDLG);
		exit;
	}
	if (is_method("CANCEL")) {
		if (t_check_trans()) {
			rtpengine_manage();
			t_relay();
		}
		exit;
	}
	t_check_trans();
	if (!lookup("location")) {
		sl_send_reply("404", "Not Found");
		exit;
	}
	if (is_method("INVITE")) {
		record_route();
		rtpengine_manage("replace-origin replace-session-connection");
	}
	route(RELAY);
}

route[WITHINDLG] {
	if (!loose_route()) {
		if (is_method("ACK") && t_check_trans()) {
			t_relay();
			exit;
		}
		sl_send_reply("404", "Not here");
		exit;
	}
	if (is_method("BYE")) {
		xlog("L_NOTICE", "XRTEST bye \$ci: \$rtpstat\n");
		rtpengine_manage();
	} else if (has_body("application/sdp")) {
		rtpengine_manage("replace-origin replace-session-connection");
	}
	route(RELAY);
}

route[RELAY] {
	if (is_method("INVITE|UPDATE")) {
		t_on_reply("REPLY");
		t_on_failure("FAILED");
	}
	if (!t_relay()) {
		sl_reply_error();
	}
	exit;
}

onreply_route[REPLY] {
	if (has_body("application/sdp")) {
		rtpengine_manage("replace-origin replace-session-connection");
	}
}

failure_route[FAILED] {
	rtpengine_manage();
}
EOF
	bg rly kamailio -DD -E -f "$WORK/kamailio.cfg" -Y "$WORK/kamrun" \
		-m 64 -M 8 </dev/null >"$KLOG" 2>&1
	# It pings its rtpengine at start: that is xrelayd answering.
	wait_log "$KLOG" "rtpengine instance <udp:127.0.0.1:$NGPORT> found" \
		"Kamailio found xrelayd as its rtpengine" || return 1
	wait_udp rly 5060
}

# kphone NAME NS ADDR REGISTRAR HZ PORT: phones.sh's phone (recording
# what it hears), registered with Kamailio.
kphone() {
	if ! phone "$@"; then
		tail -n 20 "$KLOG" | sed 's/^/kamailio: /'
		return 1
	fi
	echo "pass: $1 registered with Kamailio at $4"
}

# ng JSON: one ng request (JSON) to xrelayd from inside the relay's
# namespace, as a proxy sends it: the reply's dictionary on stdout. Each
# request has a cookie of its own (a repeated one gets the cached reply).
ng() {
	cookie=t$(date +%s%N)
	nsx rly bash -c 'exec 3<>"/dev/udp/127.0.0.1/$1" &&
		printf "%s %s" "$2" "$3" >&3 &&
		timeout 2 dd bs=65536 count=1 <&3 2>/dev/null' - \
		"$NGPORT" "$cookie" "$1" | sed "s/^$cookie //"
}

# totals REPLY: "packets kernel userspace" of a query reply's totals.RTP
# (a JSON reply keeps xrelay's order: packets, bytes, errors, kernel
# packets, kernel bytes, userspace packets, ...).
totals() {
	printf '%s' "$1" | sed -n 's/.*"totals":{"RTP":{"packets":\([0-9]*\),"bytes":[0-9]*,"errors":[0-9]*,"kernel packets":\([0-9]*\),"kernel bytes":[0-9]*,"userspace packets":\([0-9]*\).*/\1 \2 \3/p'
}

# check_tone NAME HZ: NAME's recording carries an HZ tone (+-10%).
check_tone() {
	f=$(ls "$WORK/$1"/dump-*-dec.wav 2>/dev/null | head -n 1)
	check "$1 recorded the call" [ -n "$f" ] || return 1
	sox "$f" -n stat >"$WORK/$1.stat" 2>&1
	hz=$(sed -n 's/^Rough *frequency: *\([0-9]*\).*/\1/p' "$WORK/$1.stat")
	rms=$(sed -n 's/^RMS *amplitude: *\([0-9.]*\).*/\1/p' "$WORK/$1.stat")
	echo "$1 heard: ${hz:-?} Hz, RMS amplitude ${rms:-?}"
	check "$1 heard a ${hz:-?} Hz tone: $2 Hz +-10%" \
		[ "${hz:-0}" -ge $(($2 * 9 / 10)) -a "${hz:-0}" -le $(($2 * 11 / 10)) ]
	check "$1's recording is not silence (RMS ${rms:-?} > 0.05)" \
		awk -v r="${rms:-0}" 'BEGIN { exit !(r > 0.05) }'
}

diag() {
	echo "kamailio's log:"
	grep -v '^ *$' "$KLOG" | tail -n 30 | sed 's/^/    /'
	echo "xrelayd's ng lines, warnings and errors:"
	grep -E ' ng: | (warn|error) ' "$LOG" | grep -v libbpf | sed 's/^/    /'
}

# ---- the case -----------------------------------------------------------------

# setup_call: the topology, xrelayd, Kamailio, both phones registered, and
# alice's call to bob through Kamailio established.
setup_call() {
	topology || return 1
	relay || return 1
	kamailio_start || { diag; return 1; }
	kphone alice a "$A" "$RA" 440 4444 || return 1
	kphone bob b "$B" "$RB" 880 4444 || return 1
	ua alice --timeout 10 --wait-event CALL_ESTABLISHED,CALL_CLOSED \
		dial "sip:bob@$RA" >"$WORK/dial.out" 2>&1 &
	dpid=$!
	if ! wait_calls bob INCOMING; then
		wait "$dpid"
		diag
		return 1
	fi
	ua bob --wait-event CALL_ESTABLISHED accept >"$WORK/accept.out" 2>&1
	arc=$?
	wait "$dpid"
	sed 's/^/alice: /' "$WORK/dial.out"
	sed 's/^/bob: /' "$WORK/accept.out"
	check "alice's call is established" \
		grep -q '^CALL_ESTABLISHED' "$WORK/dial.out" || { diag; return 1; }
	check "bob's call is established" [ $arc -eq 0 ] || { diag; return 1; }
	check "xrelayd got Kamailio's offer (from leg A)" \
		grep -q 'ng: offer for call .* from leg A' "$LOG"
	check "xrelayd got Kamailio's answer (from leg B)" \
		grep -q 'ng: answer for call .* from leg B' "$LOG"
	list=$(ng '{"command":"list"}')
	echo "ng list: $list"
	CALLID=$(printf '%s' "$list" |
		sed -n 's/.*"calls":\["\([^"]*\)"\].*/\1/p')
	check "xrelayd has the call (ng list names one Call-ID)" \
		[ -n "$CALLID" ] || { diag; return 1; }
}

# query_totals: an ng query of the call; its totals.RTP as P K U (all,
# in the kernel, in userspace).
query_totals() {
	q=$(ng "{\"command\":\"query\",\"call-id\":\"$CALLID\"}")
	echo "ng query: $q" >>"$WORK/queries"
	set -- $(totals "$q") "" "" ""
	P=$1 K=$2 U=$3
	echo "ng query, totals.RTP: $P packets, $K in the kernel, $U in userspace"
}

# hangup NAME: NAME hangs up; the BYE's delete (after Kamailio's $rtpstat
# query) reaches xrelayd and the session is gone.
hangup() {
	ua "$1" --wait-event CALL_CLOSED hangup >"$WORK/hangup.out" 2>&1
	check "$1 hung up (the call closed)" [ $? -eq 0 ]
	wait_log "$KLOG" "XRTEST bye" "Kamailio's BYE route ran"
	sed -n 's/.*\(XRTEST bye.*\)/kamailio: \1/p' "$KLOG"
	check "Kamailio's \$rtpstat (an ng query) counted RTP" \
		grep -Eq 'XRTEST bye .*RTP: [0-9]+ bytes, [1-9][0-9]* packets' \
		"$KLOG"
	wait_log "$LOG" "ng: delete call $CALLID" "the BYE's delete"
	check "Kamailio's delete on BYE reached xrelayd" \
		grep -q "ng: delete call $CALLID" "$LOG"
	s=$(ng '{"command":"statistics"}')
	echo "ng statistics: $(printf '%s' "$s" |
		sed -n 's/.*"control":\({[^}]*}\).*/\1/p')"
	check "Kamailio's ping, offer, answer and delete were counted" \
		sh -c 'printf "%s" "$1" | grep -Eq "\"ping\":[1-9].*\"offer\":[1-9].*\"answer\":[1-9].*\"delete\":[1-9]"' - "$s"
	check "no ng request failed" \
		sh -c 'printf "%s" "$1" | grep -q "\"errors\":0"' - "$s"
	list=$(ng '{"command":"list"}')
	eq "ng list after the BYE" "$list" '{"calls":[],"result":"ok"}'
	q=$(ng "{\"command\":\"query\",\"call-id\":\"$CALLID\"}")
	check "ng query after the BYE: Unknown call-id" \
		sh -c 'printf "%s" "$1" | grep -q "Unknown call-id"' - "$q"
	check "the call's kernel flows are gone" \
		[ "$("$BUILD/xrelay-fp" flow-list --pin-dir "$PIN" |
			grep -c "^$A:\|^$B:")" -eq 0 ]
}

# ---- the cases ----------------------------------------------------------------

case_call_through_kamailio() {
	setup_call || return 1
	sleep $SECS
	query_totals
	check "ng query: the kernel forwarded the media (${K:-?} >= 200)" \
		[ "${K:-0}" -ge 200 ]
	check "ng query: userspace only the first packets (${U:-?} <= 10)" \
		[ "${U:-99}" -le 10 ]
	check "ng query: kernel packets >> userspace packets" \
		[ "${K:-0}" -ge $((20 * ${U:-99})) ]
	ka=$(kpkts "$A") kb=$(kpkts "$B")
	echo "pinned flow map: from alice $ka packets, from bob $kb"
	check "the flow map: the kernel forwards from alice ($ka >= 100)" \
		[ "$ka" -ge 100 ]
	check "the flow map: the kernel forwards from bob ($kb >= 100)" \
		[ "$kb" -ge 100 ]
	hangup alice
	check "bob's call is gone" wait_calls bob 'Active calls \(0\)'
	phones_stop
	check_tone alice 880
	check_tone bob 440
}

# The callee puts the call on hold and resumes it: re-INVITEs from bob's
# side, so ng offers from leg B (its from-tag) and answers from leg A;
# media goes on in the kernel afterwards; bob's BYE ends it.
case_callee_reinvite() {
	setup_call || return 1
	sleep 1
	ua bob hold
	check "bob put the call on hold" [ $? -eq 0 ]
	sleep 1
	ua bob resume
	check "bob resumed the call" [ $? -eq 0 ]
	# hold and resume return before their re-INVITEs are done: wait
	check "bob's two re-INVITEs are ng offers from leg B" \
		wait_count "$LOG" 'ng: offer for call .* from leg B' 2
	check "alice's 200s to them are ng answers from leg A" \
		wait_count "$LOG" 'ng: answer for call .* from leg A' 2
	sleep 0.5
	query_totals
	k1=$K
	ka=$(kpkts "$A") kb=$(kpkts "$B")
	sleep 1.5
	query_totals
	ka2=$(kpkts "$A") kb2=$(kpkts "$B")
	echo "after resume: kernel $k1 -> $K; from alice $ka -> $ka2," \
		"from bob $kb -> $kb2"
	check "after resume the kernel forwards again ($k1 -> $K)" \
		[ $((K - k1)) -ge 100 ]
	check "from alice ($ka -> $ka2)" [ $((ka2 - ka)) -ge 50 ]
	check "from bob ($kb -> $kb2)" [ $((kb2 - kb)) -ge 50 ]
	hangup bob
	check "alice's call is gone" wait_calls alice 'Active calls \(0\)'
}

run_case call_through_kamailio case_call_through_kamailio
run_case callee_reinvite case_callee_reinvite
finish
