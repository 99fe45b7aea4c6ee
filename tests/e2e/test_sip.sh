#!/bin/sh
# End-to-end: xrelayd, the B2BUA, between real SIP phones (baresip) in
# network namespaces, with XDP attached to the relay's interfaces.
#
#   a    a0 10.79.1.2 alice, 10.79.1.3 carol --- r0 10.79.1.1   rly
#   rly  r1 10.79.2.1 --- b0 10.79.2.2 bob                      b
#
# Each phone registers with xrelayd (its AOR's host is the relay's
# address on its side: <sip:alice@10.79.1.1>), plays a tone (alice 440 Hz,
# bob 880 Hz, carol 660 Hz), records what it receives (baresip's sndfile:
# dump-*-dec.wav in the phone's directory) and is driven through its
# ctrl_tcp module by build/uactl. The cases assert the SIP message flow on
# both legs from xrelayd's debug trace ("sip: rx from ADDR: START-LINE",
# "sip: tx to ADDR: START-LINE"), what the phones say, the call's CDR
# line, the tone each side heard (sox), and that the media went through
# the kernel (the CDR's per-leg counters, the pinned flow map).
#
# Every case makes its own topology, relay and phones; its trap stops the
# phones (by pid) before the usual cleanup.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/phones.sh"

phones_need sox
PHONE_MODULES=sndfile.so   # the phones record what they hear

A=10.79.1.2  C=10.79.1.3  RA=10.79.1.1   # alice, carol; the relay on r0
B=10.79.2.2  RB=10.79.2.1                # bob; the relay on r1
SECS=3                                   # media time of a call

# ---- topology, relay, phones ---------------------------------------------

topology() {
	phones_topology || return 1
	addr a a0 "$C/24"
}

# start_relay [FLAG VALUE...]: phones.sh's relay (xrelayd in rly, XDP on
# r0 and r1, SIP trace at debug level in $LOG, CDR lines in $CDR, pid in
# $XPID), the mark at its start, its XDP checked.
start_relay() {
	MARK=0
	relay "$@" || return 1
	check "xrelayd forwards in the kernel (xdp) on r0 and r1" \
		[ "$(grep -c 'r[01]: forwarding in the kernel (xdp)' "$LOG")" \
		-eq 2 ]
}

# setup [FLAG VALUE...]: the topology, the relay (with the flags), alice
# and bob, registered.
setup() {
	topology || return 1
	start_relay "$@" || return 1
	phone alice a "$A" "$RA" 440 4444 || return 1
	phone bob b "$B" "$RB" 880 4444 || return 1
}

# addr_of NAME: the address NAME's phone signals from.
addr_of() { eval "echo \$PHADDR_$1"; }

# dial CALLER URI: CALLER dials URI in the background; what its phone
# says (the first CALL_ESTABLISHED or CALL_CLOSED event, as "TYPE PARAM")
# goes to $WORK/dial.out, uactl's pid is DPID.
dial() {
	ua "$1" --timeout 10 --wait-event CALL_ESTABLISHED,CALL_CLOSED \
		dial "$2" >"$WORK/dial.out" 2>&1 &
	DPID=$!
}

# dialed: wait for the dial's uactl; check and show what the caller saw.
# Returns its exit status; the event is in DIALED.
dialed() {
	wait "$DPID"
	drc=$?
	DIALED=$(grep '^CALL_' "$WORK/dial.out")
	sed 's/^/caller: /' "$WORK/dial.out"
	return $drc
}

# call CALLER CALLEE URI: CALLER dials URI, CALLEE's phone rings and
# answers; both see the call established.
call() {
	mark
	dial "$1" "$3"
	if ! wait_calls "$2" INCOMING; then
		dialed
		diag
		return 1
	fi
	ua "$2" --wait-event CALL_ESTABLISHED accept >"$WORK/accept.out" 2>&1
	arc=$?
	sed 's/^/callee: /' "$WORK/accept.out"
	dialed
	check "the caller's call is established" \
		[ "${DIALED%% *}" = CALL_ESTABLISHED ] || { diag; return 1; }
	check "the callee's call is established" [ $arc -eq 0 ] ||
		{ diag; return 1; }
}

# ring CALLER CALLEE URI: CALLER dials URI and hears it ring; CALLEE's
# phone rings (and is not answered).
ring() {
	ua "$1" --wait-event CALL_RINGING,CALL_CLOSED dial "$3" \
		>"$WORK/dial.out" 2>&1
	sed 's/^/caller: /' "$WORK/dial.out"
	check "$1 hears it ring" grep -q '^CALL_RINGING' "$WORK/dial.out" ||
		{ diag; return 1; }
	check "$2's phone rings" wait_calls "$2" INCOMING || { diag; return 1; }
	check_flow "180 from $2 relayed to $1" \
		"rx from $(addr_of "$2"):5060: SIP/2.0 180" \
		"tx to $(addr_of "$1"):5060: SIP/2.0 180"
}

# ---- the relay's view -------------------------------------------------------

# mark: from now on, `trace` and check_flow look only at new log lines.
mark() { MARK=$(wc -l <"$LOG"); }

# trace: the SIP trace since the mark, into $WORK/trace.
trace() {
	tail -n +$((MARK + 1)) "$LOG" | grep ' sip: [rt]x ' >"$WORK/trace"
}

# diag: what to look at when a call did not come about: the SIP trace
# since the mark and xrelayd's warnings and errors.
diag() {
	echo "the SIP trace since the mark:"
	trace
	sed 's/^/    /' "$WORK/trace"
	echo "xrelayd's warnings and errors:"
	grep -E ' (warn|error) ' "$LOG" | grep -v libbpf | sed 's/^/    /'
}

# in_order FILE STRING...: lines of FILE contain the strings in this
# order (other lines may come between).
in_order() {
	f=$1
	shift
	awk 'BEGIN { n = ARGC - 2
		     for (i = 1; i <= n; i++) p[i] = ARGV[i + 1]
		     ARGC = 2; k = 1 }
	     k <= n && index($0, p[k]) { k++ }
	     END { exit k <= n }' "$f" "$@"
}

# check_flow WHAT STRING...: within 3 s the trace since the mark shows
# the messages in this order; otherwise what was wanted and the trace.
check_flow() {
	what=$1
	shift
	i=0
	until trace && in_order "$WORK/trace" "$@"; do
		if [ $i -ge 60 ]; then
			echo "FAIL: $what; wanted, in this order:"
			for s in "$@"; do echo "    $s"; done
			echo "  the trace since the mark:"
			sed 's/^/    /' "$WORK/trace"
			CHECK_FAILED=1
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "pass: $what"
}

# no_msg WHAT STRING: the trace since the mark has no such message.
no_msg() {
	trace
	check "$1" sh -c '! grep -qF "$1" "$2"' - "$2" "$WORK/trace"
}

# wait_cdr N: until the CDR file has N lines (3 s); shows them.
wait_cdr() {
	i=0
	until [ "$(cdr_lines)" -ge "$1" ] || [ $i -ge 60 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	sed 's/^/cdr: /' "$CDR" 2>/dev/null
	eq "CDR lines" "$(cdr_lines)" "$1"
}

# cdr KEY: a top-level field of the last CDR line (a string unquoted);
# cdr_leg LEG KEY: a counter of leg a or b.
cdr() {
	tail -n 1 "$CDR" | sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"
}
cdr_leg() {
	tail -n 1 "$CDR" | sed -n "s/.*\"$1\":{[^}]*\"$2\":\([0-9]*\).*/\1/p"
}

# check_kernel LEG: the leg's media went through the kernel: at least 100
# packets (a few seconds of 50 packets/s) there, at most 5 (the latching
# first packets of RTP and RTCP) through userspace.
check_kernel() {
	k=$(cdr_leg "$1" kernel_packets) u=$(cdr_leg "$1" user_packets)
	check "leg $1: $k packets forwarded in the kernel (>= 100)" \
		[ "${k:-0}" -ge 100 ]
	check "leg $1: $u packets through userspace (<= 5)" \
		[ "${u:-99}" -le 5 ]
}

# check_tone NAME HZ: NAME's recording of the call (its first
# dump-*-dec.wav) is about SECS long and carries an HZ tone (+-10%),
# not silence.
check_tone() {
	f=$(ls "$WORK/$1"/dump-*-dec.wav 2>/dev/null | head -n 1)
	check "$1 recorded the call" [ -n "$f" ] || return 1
	sox "$f" -n stat >"$WORK/$1.stat" 2>&1
	hz=$(sed -n 's/^Rough *frequency: *\([0-9]*\).*/\1/p' "$WORK/$1.stat")
	rms=$(sed -n 's/^RMS *amplitude: *\([0-9.]*\).*/\1/p' "$WORK/$1.stat")
	len=$(sed -n 's/^Length (seconds): *\([0-9.]*\).*/\1/p' "$WORK/$1.stat")
	echo "$1 heard: ${hz:-?} Hz, RMS amplitude ${rms:-?}, ${len:-?} s" \
		"($(basename "$f"))"
	check "$1 heard a ${hz:-?} Hz tone: $2 Hz +-10%" \
		[ "${hz:-0}" -ge $(($2 * 9 / 10)) -a "${hz:-0}" -le $(($2 * 11 / 10)) ]
	check "$1's recording is not silence (RMS ${rms:-?} > 0.05)" \
		awk -v r="${rms:-0}" 'BEGIN { exit !(r > 0.05) }'
	check "$1's recording lasts ${len:-?} s (>= $((SECS - 1)) s)" \
		awk -v l="${len:-0}" -v s=$SECS 'BEGIN { exit !(l >= s - 1) }'
}

# The flows of one call set up by call alice bob: A's INVITE relayed to
# B, B's 180 and 200 relayed back, each ACKed on its own leg.
INVITE_FLOW="rx from $A:5060: INVITE sip:bob@$RA SIP/2.0
tx to $A:5060: SIP/2.0 100
tx to $B:5060: INVITE
rx from $B:5060: SIP/2.0 180
tx to $A:5060: SIP/2.0 180
rx from $B:5060: SIP/2.0 200
tx to $B:5060: ACK
tx to $A:5060: SIP/2.0 200
rx from $A:5060: ACK"

# check_flow_lines WHAT LINES: check_flow with one string per line.
check_flow_lines() {
	what=$1
	old=$IFS
	IFS='
'
	set -f
	# shellcheck disable=SC2086
	set -- $2
	set +f
	IFS=$old
	check_flow "$what" "$@"
}

# ---- the cases ------------------------------------------------------------

case_register() {
	setup || return 1
	for p in "alice $A $RA" "bob $B $RB"; do
		set -- $p
		ua "$1" reginfo >"$WORK/reg" 2>&1
		sed "s/^/$1 reginfo: /" "$WORK/reg"
		check "$1 says it is registered at $3" \
			grep -q "sip:$1@$3 .*OK" "$WORK/reg"
		check_flow "REGISTER from $1 answered 200" \
			"rx from $2:5060: REGISTER sip:$3 SIP/2.0" \
			"tx to $2:5060: SIP/2.0 200"
	done
	# The registrar routes by what it learnt: bob's phone rings for
	# sip:bob at the relay's address on alice's side.
	call alice bob "sip:bob@$RA" || return 1
	hangup alice
}

case_call() {
	setup || return 1
	call alice bob "sip:bob@$RA" || return 1
	check_flow_lines "INVITE relayed, 180 and 200 back, ACK per leg" \
		"$INVITE_FLOW"
	sleep $SECS
	ka=$(kpkts "$A") kb=$(kpkts "$B")
	echo "kernel, during the call: from alice $ka packets, from bob $kb"
	check "in the call the kernel forwards from alice ($ka >= 100)" \
		[ "$ka" -ge 100 ]
	check "in the call the kernel forwards from bob ($kb >= 100)" \
		[ "$kb" -ge 100 ]
	mark
	hangup alice || return 1
	check_flow "BYE from the caller relayed to the callee, 200 on each leg" \
		"rx from $A:5060: BYE" "tx to $A:5060: SIP/2.0 200" \
		"tx to $B:5060: BYE" "rx from $B:5060: SIP/2.0 200"
	check "bob's call is gone" wait_calls bob 'Active calls \(0\)'
	wait_cdr 1 || return 1
	eq "CDR end_reason" "$(cdr end_reason)" bye
	eq "CDR hangup_by" "$(cdr hangup_by)" caller
	eq "CDR final_status" "$(cdr final_status)" 200
	eq "CDR from" "$(cdr from)" "<sip:alice@$RA>"
	check_kernel a
	check_kernel b
	check_tone alice 880
	check_tone bob 440
}

case_callee_hangup() {
	setup || return 1
	call alice bob "sip:bob@$RA" || return 1
	sleep $SECS
	mark
	hangup bob || return 1
	check_flow "BYE from the callee relayed to the caller, 200 on each leg" \
		"rx from $B:5060: BYE" "tx to $B:5060: SIP/2.0 200" \
		"tx to $A:5060: BYE" "rx from $A:5060: SIP/2.0 200"
	check "alice's call is gone" wait_calls alice 'Active calls \(0\)'
	wait_cdr 1 || return 1
	eq "CDR end_reason" "$(cdr end_reason)" bye
	eq "CDR hangup_by" "$(cdr hangup_by)" callee
	check_kernel a
	check_kernel b
	check_tone alice 880
	check_tone bob 440
}

case_cancel() {
	setup || return 1
	mark
	ring alice bob "sip:bob@$RA" || return 1
	hangup alice || return 1
	check_flow "CANCEL from alice: 200 and 487 to her, she ACKs" \
		"rx from $A:5060: CANCEL" "tx to $A:5060: SIP/2.0 200" \
		"tx to $A:5060: SIP/2.0 487" "rx from $A:5060: ACK"
	check_flow "CANCEL to bob: 200 and 487 from him, ACKed" \
		"tx to $B:5060: CANCEL" "rx from $B:5060: SIP/2.0 200" \
		"rx from $B:5060: SIP/2.0 487" "tx to $B:5060: ACK"
	check "bob's call is gone" wait_calls bob 'Active calls \(0\)'
	check "alice's call is gone" wait_calls alice 'Active calls \(0\)'
	wait_cdr 1 || return 1
	eq "CDR end_reason" "$(cdr end_reason)" cancel
	eq "CDR hangup_by" "$(cdr hangup_by)" caller
	eq "CDR final_status" "$(cdr final_status)" 487
}

# One direction of the re-INVITE of hold or resume, from alice.
REINVITE_FLOW="rx from $A:5060: INVITE sip:
tx to $A:5060: SIP/2.0 100
tx to $B:5060: INVITE sip:
rx from $B:5060: SIP/2.0 200
tx to $B:5060: ACK
tx to $A:5060: SIP/2.0 200
rx from $A:5060: ACK"

case_hold_resume() {
	setup || return 1
	call alice bob "sip:bob@$RA" || return 1
	sleep 1
	mark
	ua alice hold
	check "alice put the call on hold" [ $? -eq 0 ]
	check_flow_lines "hold: alice's re-INVITE relayed to bob, 200 back" \
		"$REINVITE_FLOW"
	sleep 1
	mark
	ua alice resume
	check "alice resumed the call" [ $? -eq 0 ]
	check_flow_lines "resume: alice's re-INVITE relayed to bob, 200 back" \
		"$REINVITE_FLOW"
	# Media flows again, through the kernel, both ways.
	sleep 0.5
	ka=$(kpkts "$A") kb=$(kpkts "$B")
	sleep 1.5
	ka2=$(kpkts "$A") kb2=$(kpkts "$B")
	echo "kernel after resume: from alice $ka -> $ka2, from bob $kb -> $kb2"
	check "after resume the kernel forwards from alice again" \
		[ $((ka2 - ka)) -ge 50 ]
	check "after resume the kernel forwards from bob again" \
		[ $((kb2 - kb)) -ge 50 ]
	check "alice's call is still up" wait_calls alice ESTABLISHED
	check "bob's call is still up" wait_calls bob ESTABLISHED
	mark
	hangup alice
	check_flow "BYE relayed" "rx from $A:5060: BYE" "tx to $B:5060: BYE"
	wait_cdr 1 || return 1
	eq "CDR end_reason" "$(cdr end_reason)" bye
	check_kernel a
	check_kernel b
}

case_unknown_user() {
	setup || return 1
	mark
	dial alice "sip:nobody@$RA"
	dialed
	check "alice's call closes with 404 ($DIALED)" \
		sh -c 'case "$1" in "CALL_CLOSED 404"*) ;; *) exit 1 ;; esac' \
		- "$DIALED"
	check_flow "INVITE to an unknown user answered 404, ACKed" \
		"rx from $A:5060: INVITE sip:nobody@$RA SIP/2.0" \
		"tx to $A:5060: SIP/2.0 404" "rx from $A:5060: ACK"
	no_msg "nothing sent to bob" "tx to $B:5060: INVITE"
	wait_cdr 1
	eq "CDR final_status" "$(cdr final_status)" 404
	check "alice's call is gone" wait_calls alice 'Active calls \(0\)'
}

# raw_invite NS FROM URI: one INVITE for URI from an ephemeral port of
# address FROM (in namespace NS) to the relay (RA), not from a phone:
# sip_send prints the final response whole (the 1xx skipped) and ACKs it.
raw_invite() {
	sdp=$WORK/raw.sdp inv=$WORK/raw.inv
	cid="raw$$@$2" via="SIP/2.0/UDP $2:5099;rport;branch=z9hG4bKraw$$"
	from="From: <sip:raw@$2>;tag=raw$$"
	printf 'v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n' \
		"$2" "$2" >"$sdp"
	printf 'm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n' >>"$sdp"
	{
		printf 'INVITE %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\n' \
			"$3" "$via"
		printf '%s\r\nTo: <%s>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n' \
			"$from" "$3" "$cid"
		printf 'Contact: <sip:raw@%s:5099>\r\n' "$2"
		printf 'Content-Type: application/sdp\r\nContent-Length: %s\r\n\r\n' \
			"$(wc -c <"$sdp")"
		cat "$sdp"
	} >"$inv"
	sip_send "$1" "$inv" 3
}

case_call_limit() {
	setup --max-calls 1 --retry-after 7s || return 1
	phone carol a "$C" "$RA" 660 4445 || return 1
	call alice bob "sip:bob@$RA" || return 1
	# A second call, from a third phone, while the first one is up.
	mark
	dial carol "sip:bob@$RA"
	dialed
	check "carol's call closes with 503 ($DIALED)" \
		sh -c 'case "$1" in "CALL_CLOSED 503"*) ;; *) exit 1 ;; esac' \
		- "$DIALED"
	check_flow "carol's INVITE answered 503, ACKed" \
		"rx from $C:5060: INVITE sip:bob@$RA SIP/2.0" \
		"tx to $C:5060: SIP/2.0 503" "rx from $C:5060: ACK"
	no_msg "bob is not called a second time" "tx to $B:5060: INVITE"
	# The whole response, as a plain INVITE gets it: Retry-After.
	raw_invite a "$A" "sip:bob@$RA" >"$WORK/raw.resp" 2>&1
	sed 's/^/response: /' "$WORK/raw.resp"
	check "503 to a plain INVITE" grep -q '^SIP/2.0 503' "$WORK/raw.resp"
	check "with Retry-After: 7" grep -qi '^Retry-After: *7\b' \
		"$WORK/raw.resp"
	# The first call goes on; when it ends there is room again.
	check "alice's call is still up" wait_calls alice ESTABLISHED
	check "bob still has just the one call" wait_calls bob 'Active calls \(1\)'
	hangup alice
	check "bob's call is gone" wait_calls bob 'Active calls \(0\)'
	mark
	ring carol bob "sip:bob@$RA" || return 1
	hangup carol
}

# A CDR line for every call, ended or failed: also for one refused at the
# limit (as for one refused with 404).
case_call_limit_cdr() {
	setup --max-calls 1 || return 1
	phone carol a "$C" "$RA" 660 4445 || return 1
	call alice bob "sip:bob@$RA" || return 1
	dial carol "sip:bob@$RA"
	dialed
	check "carol's call closes with 503 ($DIALED)" \
		sh -c 'case "$1" in "CALL_CLOSED 503"*) ;; *) exit 1 ;; esac' \
		- "$DIALED"
	hangup alice
	wait_cdr 2
	check "a CDR line for alice's call (bye)" \
		grep -q '"from":"<sip:alice@[^}]*"end_reason":"bye"' "$CDR"
	check "a CDR line for carol's call, refused with 503" \
		grep -q '"from":"<sip:carol@[^}]*"final_status":503' "$CDR"
}

# crash-restart: xrelayd is killed (SIGKILL) in the middle of a call and
# started again on the same pins, journal and CDR file. The kernel goes on
# forwarding while it is down; the restarted daemon adopts the call from
# its journal, so the callee's later BYE ends both legs and writes one CDR
# line. Killed and restarted once more after that, it adopts nothing and
# writes no second line for the ended call.
case_crash_restart() {
	setup || return 1
	call alice bob "sip:bob@$RA" || return 1
	sleep 1
	kill -KILL "$XPID"
	wait "$XPID" 2>/dev/null
	k1=$(kpkts "$A")
	sleep 1
	k2=$(kpkts "$A")
	check "the kernel forwards alice's media while xrelayd is down ($k1 -> $k2 packets in 1 s)" \
		[ "$k2" -ge $((k1 + 40)) ]
	start_relay || return 1
	check "the restarted xrelayd adopts the call" \
		grep -q 'adopted from the journal' "$LOG"
	sleep 1
	mark
	hangup bob || return 1
	check_flow "BYE from the callee relayed to the caller after the restart" \
		"rx from $B:5060: BYE" "tx to $B:5060: SIP/2.0 200" \
		"tx to $A:5060: BYE" "rx from $A:5060: SIP/2.0 200"
	check "alice's call is gone" wait_calls alice 'Active calls \(0\)'
	wait_cdr 1 || return 1
	eq "CDR end_reason" "$(cdr end_reason)" bye
	eq "CDR hangup_by" "$(cdr hangup_by)" callee
	check_kernel a
	check_kernel b
	# Nothing of the ended call is left in the kernel.
	# (A map that cannot be read would count 0 too: its status first.)
	fp flow-list >"$WORK/flows"
	eq "flow-list exit status" $? 0
	eq "kernel flows left" "$(grep -c '^[0-9]' "$WORK/flows")" 0
	bpftool map dump pinned "$PIN/xr_ports" >"$WORK/ports"
	eq "bpftool map dump xr_ports exit status" $? 0
	eq "port entries left" "$(grep -c '"key"' "$WORK/ports")" 0
	kill -KILL "$XPID"
	wait "$XPID" 2>/dev/null
	start_relay || return 1
	check "after the next restart no call is adopted" \
		sh -c "! grep -q 'adopted from the journal' '$LOG'"
	eq "CDR lines after the next restart" "$(cdr_lines)" 1
	eq "journal files left" "$(ls "$WORK/state" | grep -c '\.\(dlg\|call\)$')" 0
	eq "port pairs in use after the next restart" \
		"$("$BUILD/xrelayctl" --socket "$SOCK" --json stats |
		sed -n 's/.*"ports":{"pairs":[0-9]*,"used":\([0-9]*\)}.*/\1/p')" 0
}

# graceful-restart: SIGTERM (systemctl restart) leaves the call to the next
# start (stop_ends_calls is off by default): the new daemon adopts it and
# the caller's BYE then ends both legs.
case_graceful_restart() {
	setup || return 1
	call alice bob "sip:bob@$RA" || return 1
	kill -HUP "$XPID"
	sleep 1
	check "a reload (SIGHUP) during the call" grep -q 'reloaded' "$LOG"
	kill -TERM "$XPID"
	wait "$XPID" 2>/dev/null
	check "the stopping daemon leaves the call to the next start" \
		grep -q '1 calls left to the next start' "$LOG"
	check "it sent no BYE" sh -c "! grep -q 'tx to .*: BYE' '$LOG'"
	start_relay || return 1
	check "the restarted xrelayd adopts the call" \
		grep -q 'adopted from the journal' "$LOG"
	sleep 2
	mark
	hangup alice || return 1
	check_flow "BYE from the caller relayed to the callee after the restart" \
		"rx from $A:5060: BYE" "tx to $A:5060: SIP/2.0 200" \
		"tx to $B:5060: BYE" "rx from $B:5060: SIP/2.0 200"
	wait_cdr 1 || return 1
	eq "CDR hangup_by" "$(cdr hangup_by)" caller
	check_kernel a
}

run_case sip-register case_register
run_case sip-call-audio-kernel-caller-hangup case_call
run_case sip-callee-hangup case_callee_hangup
run_case sip-cancel-before-answer case_cancel
run_case sip-hold-resume case_hold_resume
run_case sip-unknown-user-404 case_unknown_user
run_case sip-call-limit-503 case_call_limit
run_case sip-call-limit-cdr case_call_limit_cdr
run_case sip-crash-restart case_crash_restart
run_case sip-graceful-restart case_graceful_restart
finish
