#!/bin/sh
# End-to-end: floods at xrelayd during a call between two real phones
# (baresip), with XDP on the relay's interfaces.
#
#   a    a0 10.83.1.2 alice --- r0 10.83.1.1   rly
#   rly  r1 10.83.2.1 --- b0 10.83.2.2 bob     b
#   rly  r2 10.83.3.1 --- x0 10.83.3.2         x (the flooder)
#
# In the cases alice and bob talk (RTP both ways at 50 packets/s,
# forwarded in the kernel) while the third host floods the relay; they
# assert that the call does not notice: over the flood every datagram a
# phone's stack sent reached the other phone's stack (the UDP counters of
# each phone's namespace, /proc/PID/net/snmp, read at one instant; only
# the call's media moves there meanwhile), the call ends with a BYE
# relayed on both legs and its CDR line; and that xrelayd stayed small:
# its CPU time over the flood (/proc/PID/stat) and its peak resident
# memory over it (VmHWM, reset by clear_refs before) are printed (lines
# "FIGURE ...") and bounded.
#
#   rtp        bench_gen blasts RTP frames (XDP live frames, a million or
#              more a second) at the relay port that alice sends to, once
#              latched: the kernel drops them (drop_foreign_source),
#              passing up at most ten a second (pass_foreign_sample), and
#              no other datagram reaches the relay's sockets; xrelayd's
#              CPU stays under CPU_MAX.
#   rtp-before-latch  the same while bob's phone rings: no port is latched
#              yet, so the flood goes up to the socket, where every packet
#              is refused; the phones still latch, the flooder never.
#   invite     xrelayd with --max-calls 1 and --max-call-rate 100 while
#              the call is up: 2000 INVITEs a second (20 times the rate)
#              from a flooder that never ACKs get 503 with
#              Retry-After, every one; bob's phone never rings, and no
#              transaction is left behind to grow the memory.
#   register   xrelayd with --users-file, the phones logged in: 1000
#              REGISTERs a second guessing alice's password (each
#              answered 401, then sent again with a wrong digest) get 403,
#              every one; one log line says so (not one per request);
#              alice's binding stays.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/phones.sh"

phones_need
need_bins bench_gen sipflood

A=10.83.1.2 RA=10.83.1.1 B=10.83.2.2 RB=10.83.2.1 X=10.83.3.2 RX=10.83.3.1
FLOOD_S=3              # seconds of flood
CPU_MAX=20             # xrelayd's CPU over the flood, % of one core
RSS_GROWTH_MAX=8192    # xrelayd's peak RSS over its RSS before (kB)

topology() { phones_topology x; }

# setup [FLAG VALUE...]: topology, xrelayd (XDP on r0, r1 and r2, with
# the flags), alice and bob registered (PASSWORD_alice/_bob if set), and
# a call from alice to bob, its media flowing in the kernel.
setup() {
	topology || return 1
	relay --iface r2:xdp "$@" || return 1
	check "xrelayd forwards in the kernel (xdp) on r0, r1 and r2" \
		[ "$(grep -c 'r[012]: forwarding in the kernel (xdp)' "$LOG")" \
		-eq 3 ]
	phone alice a "$A" "$RA" 440 4444 "${PASSWORD_alice:-}" || return 1
	phone bob b "$B" "$RB" 880 4444 "${PASSWORD_bob:-}" || return 1
	call alice bob "sip:bob@$RA" || return 1
	i=0
	until [ "$(kpkts "$A")" -gt 10 ] && [ "$(kpkts "$B")" -gt 10 ]; do
		if [ $i -ge 60 ]; then
			echo "no media in the kernel 3 s after the answer:"
			"$BUILD/xrelay-fp" flow-list --pin-dir "$PIN"
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
}

# relay_port FROM: the relay address:port that FROM's RTP flow arrives on
# (the even one of its flows).
relay_port() {
	"$BUILD/xrelay-fp" flow-list --pin-dir "$PIN" | awk -v a="$1:" '
		index($1, a) == 1 { n = split($2, p, ":")
				    if (p[n] % 2 == 0) { print $2; exit } }'
}

# window_start / window_end NAME [CPU_MAX]: the phones' UDP counters and
# xrelayd's CPU time around a flood; window_end checks that every datagram
# either phone sent reached the other (a packet in flight at either edge
# of the window aside) at about 50 a second each way, and prints
# xrelayd's CPU use (and bounds it: under CPU_MAX % of a core).
window_start() {
	set -- $(udp_snap "$PHPID_alice" "$PHPID_bob" "$XPID")
	a_in0=$1 a_out0=$2 b_in0=$3 b_out0=$4 rly_in0=$5
	# Reset xrelayd's peak RSS (VmHWM) to its RSS now: the peak since
	# then is the flood's.
	echo 5 >"/proc/$XPID/clear_refs"
	cpu0=$(cpu_ticks) t0=$(date +%s%N)
	L0=$(wc -l <"$LOG")
}
window_end() {
	cpu1=$(cpu_ticks) t1=$(date +%s%N)
	set -- $(udp_snap "$PHPID_alice" "$PHPID_bob" "$XPID") "$@"
	a_in=$(($1 - a_in0)) a_out=$(($2 - a_out0)) b_in=$(($3 - b_in0))
	b_out=$(($4 - b_out0)) rly_in=$(($5 - rly_in0))
	shift 6
	L1=$(wc -l <"$LOG")
	ms=$(((t1 - t0) / 1000000))
	hz=$(getconf CLK_TCK)
	cpu_pct=$(((cpu1 - cpu0) * 1000 * 100 / hz / ms))
	echo "over the $1 ($ms ms): alice sent $a_out, bob received $b_in;" \
		"bob sent $b_out, alice received $a_in"
	echo "FIGURE $1: xrelayd CPU $((cpu1 - cpu0)) ticks in $ms ms =" \
		"$cpu_pct% of a core"
	check "alice -> bob: bob received what alice sent ($b_in of $a_out)" \
		[ "$b_in" -ge $((a_out - 2)) -a "$b_in" -le $((a_out + 2)) ]
	check "bob -> alice: alice received what bob sent ($a_in of $b_out)" \
		[ "$a_in" -ge $((b_out - 2)) -a "$a_in" -le $((b_out + 2)) ]
	# The phones send at 50/s; on a loaded 2-core machine a phone itself
	# may fall behind, which is no gap the relay made.
	check "alice's media flowed throughout ($a_out in $ms ms)" \
		[ "$a_out" -ge $((ms * 30 / 1000)) ]
	check "bob's media flowed throughout ($b_out in $ms ms)" \
		[ "$b_out" -ge $((ms * 30 / 1000)) ]
	[ -z "${2:-}" ] ||
		check "xrelayd CPU over the $1: $cpu_pct% < $2% of a core" \
			[ "$cpu_pct" -lt "$2" ]
}

# memory_check NAME RSS0: xrelayd's peak resident memory since
# window_start against its resident memory then.
memory_check() {
	hwm=$(hwm_kb) rss=$(rss_kb)
	echo "FIGURE $1: xrelayd RSS before $2 kB, after $rss kB," \
		"peak $hwm kB (+$((hwm - $2)) kB)"
	check "xrelayd's peak RSS grew by $((hwm - $2)) kB <= $RSS_GROWTH_MAX kB" \
		[ $((hwm - $2)) -le $RSS_GROWTH_MAX ]
}

# txns_check NAME: the SIP transactions xrelayd holds right after a flood
# of rejected requests: none of them (a rejection keeps no transaction).
txns_check() {
	ctl stats
	n=$(sed -n 's/.*; \([0-9]*\) transactions$/\1/p' "$OUT")
	echo "FIGURE $1: xrelayd holds ${n:-?} SIP transactions after it"
	check "no transaction left per rejected request (${n:-?} <= 5)" \
		[ "${n:-99}" -le 5 ]
}

# end_call: alice hangs up; the BYE is relayed, bob's call closes, the
# CDR line says bye and that the media went through the kernel.
end_call() {
	ncdr=$(cdr_lines)
	hangup alice || return 1
	check "bob's call is gone" wait_calls bob 'Active calls \(0\)'
	i=0
	until [ "$(cdr_lines)" -gt "$ncdr" ] || [ $i -ge 60 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	last=$(grep '"end_reason":"bye"' "$CDR" | tail -n 1)
	echo "cdr: $last"
	check "the call's CDR line: ended by bye from the caller" \
		sh -c 'case "$1" in *\"hangup_by\":\"caller\"*) ;; *) exit 1;; esac' \
		- "$last"
}

# ---- the cases ---------------------------------------------------------------

case_rtp() {
	setup || return 1
	pa=$(relay_port "$A") pb=$(relay_port "$B")
	echo "alice sends to the relay's $pa, bob to $pb"
	check "both relay ports known" [ -n "$pa" -a -n "$pb" ] || return 1
	"$BUILD/xrelay-fp" stats --pin-dir "$PIN" >"$WORK/stats0"
	ctl stats
	ka0=$(kpkts "$A") kb0=$(kpkts "$B")
	rss0=$(rss_kb)
	window_start
	# Frames from the flooder's own address and alice's port number, to
	# the port alice sends to: millions a second, out of x0 into r2.
	nsx x "$BUILD/bench_gen" send --dev x0 --src-mac "$(mac_of x x0)" \
		--dst-mac "$(mac_of rly r2)" --from "$X:4000" \
		--to "$pa" --seconds $FLOOD_S >"$WORK/gen" 2>&1
	grc=$?
	window_end "RTP flood" $CPU_MAX
	sed 's/^/bench_gen: /' "$WORK/gen"
	eq "bench_gen exit status" $grc 0
	frames=$(kv "$WORK/gen" frames)
	"$BUILD/xrelay-fp" stats --pin-dir "$PIN" >"$WORK/stats1"
	sed 's/^/stats: /' "$WORK/stats1"
	st() { awk -v r="$2" '$1 == r { print $2 }' "$1"; }
	drop=$(($(st "$WORK/stats1" drop_foreign_source) - \
		$(st "$WORK/stats0" drop_foreign_source)))
	sample=$(($(st "$WORK/stats1" pass_foreign_sample) - \
		$(st "$WORK/stats0" pass_foreign_sample)))
	echo "FIGURE RTP flood: $frames frames sent in $FLOOD_S s," \
		"$drop dropped in the kernel (drop_foreign_source)," \
		"$sample passed up as samples"
	check "the flood was a flood (>= 100000 frames: $frames)" \
		[ "${frames:-0}" -ge 100000 ]
	check "the kernel dropped all but the samples ($drop + $sample of $frames)" \
		[ $((drop + sample)) -ge $((frames * 99 / 100)) ]
	# cfg_sample_ns: one sample per port and 100 ms.
	check "samples passed up: at most 10 a second ($sample in $FLOOD_S s)" \
		[ "$sample" -le $((10 * FLOOD_S + 2)) ]
	ka=$(($(kpkts "$A") - ka0)) kb=$(($(kpkts "$B") - kb0))
	echo "kernel forwarded meanwhile: from alice $ka, from bob $kb"
	check "the kernel went on forwarding alice's media ($ka)" \
		[ "$ka" -ge $((a_out - 3)) ]
	check "the kernel went on forwarding bob's media ($kb)" \
		[ "$kb" -ge $((b_out - 3)) ]
	echo "FIGURE RTP flood: datagrams that reached sockets in the relay's" \
		"namespace meanwhile: $rly_in"
	check "userspace got only the samples ($rly_in datagrams <= $sample + 4)" \
		[ "$rly_in" -le $((sample + 4)) ]
	cid=$(ctl calls --json && sed -n 's/.*"call_id_a":"\([^"]*\)".*/\1/p' \
		"$OUT" | head -n 1)
	ctl call "$cid"
	sed 's/^/call: /' "$OUT"
	foreign=$(sed -n 's/.*drops: foreign source \([0-9]*\).*/\1/p' "$OUT" |
		awk '{ s += $1 } END { print s + 0 }')
	user=$(sed -n 's/.*, userspace \([0-9]*\) pkts.*/\1/p' "$OUT" |
		awk '{ s += $1 } END { print s + 0 }')
	check "the call's ports counted the flood as foreign ($foreign)" \
		[ "$foreign" -ge "$drop" ]
	check "the legs forwarded in userspace only first packets ($user <= 4)" \
		[ "$user" -le 4 ]
	check "the latch stayed on alice" grep -q "RTP .* latched $A:" "$OUT"
	memory_check "RTP flood" "$rss0"
	end_call
}

case_invite() {
	setup --max-calls 1 --max-call-rate 100 --retry-after 7s || return 1
	rss0=$(rss_kb)
	n0=$(cdr_lines)
	window_start
	# Each INVITE a new call for bob, at 2000 a second; none ACKed.
	nsx x "$BUILD/sipflood" --to "$RA" --local "$X" --port 5099 \
		--method INVITE --uri "sip:bob@$RA" --rate 2000 \
		--seconds $FLOOD_S --linger 1000 >"$WORK/flood"
	frc=$?
	window_end "INVITE flood"
	sed 's/^/sipflood: /' "$WORK/flood"
	eq "sipflood exit status" $frc 0
	sent=$(kv "$WORK/flood" sent)
	echo "FIGURE INVITE flood: $sent INVITEs at $(kv "$WORK/flood" rate)/s," \
		"$(kv "$WORK/flood" status_503) answered 503"
	check "the flood was sent ($sent INVITEs)" [ "${sent:-0}" -ge 5000 ]
	eq "every INVITE answered" "$(kv "$WORK/flood" answered)" "$sent"
	eq "every one with 503" "$(kv "$WORK/flood" status_503)" "$sent"
	eq "every 503 with Retry-After" "$(kv "$WORK/flood" retry_after)" "$sent"
	eq "Retry-After value" "$(kv "$WORK/flood" retry_after_value)" 7
	check "bob's phone never rang: one call" wait_calls bob \
		'Active calls \(1\)'
	eq "INVITEs sent to bob (the call's only)" \
		"$(grep -c "tx to $B:5060: INVITE" "$LOG")" 1
	memory_check "INVITE flood" "$rss0"
	txns_check "INVITE flood"
	sed 's/^/stats: /' "$OUT" | grep -E '^(calls|sip) '
	end_call
	eq "a CDR line per refused INVITE, and the call's" \
		"$(($(cdr_lines) - n0))" $((sent + 1))
	# Room again: a new call goes through.
	call alice bob "sip:bob@$RA" || return 1
	hangup bob
}

case_register() {
	USERS=$(mktemp "/tmp/$T.users.XXXXXX") || return 1
	printf 'alice:xrelay.test:alice-secret\nbob:xrelay.test:bob-secret\n' \
		>"$USERS" || return 1
	PASSWORD_alice=alice-secret PASSWORD_bob=bob-secret
	setup --users-file "$USERS" || return 1
	ctl regs
	grep alice "$OUT" | awk '{ print $1, $2, $3 }' >"$WORK/reg0"
	check "alice's binding before the flood" [ -s "$WORK/reg0" ] ||
		return 1
	rss0=$(rss_kb)
	window_start
	# Password guesses for alice, from the flooder: REGISTER, 401, again
	# with a digest of a wrong password, 403.
	nsx x "$BUILD/sipflood" --to "$RA" --local "$X" --port 5099 \
		--method REGISTER --uri "sip:$RA" --aor "sip:alice@$RA" \
		--from-user alice --auth-user alice --auth-pass guess \
		--rate 1000 --seconds $FLOOD_S --linger 1000 >"$WORK/flood"
	frc=$?
	window_end "REGISTER flood"
	sed 's/^/sipflood: /' "$WORK/flood"
	eq "sipflood exit status" $frc 0
	sent=$(kv "$WORK/flood" sent)
	echo "FIGURE REGISTER flood: $sent password guesses at" \
		"$(kv "$WORK/flood" rate)/s, $(kv "$WORK/flood" status_403)" \
		"answered 403"
	check "the flood was sent ($sent REGISTERs)" [ "${sent:-0}" -ge 2500 ]
	eq "every REGISTER challenged, then sent with the guess" \
		"$(kv "$WORK/flood" resent_auth)" "$sent"
	eq "every guess answered 403" "$(kv "$WORK/flood" status_403)" "$sent"
	memory_check "REGISTER flood" "$rss0"
	txns_check "REGISTER flood"
	grep -E 'auth' "$LOG" | grep -E 'warn|error' | head -n 5 |
		sed 's/^/xrelayd log: /'
	nlog=$(grep -Ec 'warn .*auth.*(wrong|failed)' "$LOG")
	check "a log line says that credentials failed ($nlog lines)" \
		[ "$nlog" -ge 1 ]
	check "... not one per request ($nlog for $sent)" [ "$nlog" -le 10 ]
	check "the log line names the source" \
		grep -Eq "warn .*auth.*$X" "$LOG"
	ctl regs
	grep alice "$OUT" | awk '{ print $1, $2, $3 }' >"$WORK/reg1"
	sed 's/^/regs: /' "$WORK/reg1"
	check "alice's binding is unchanged" cmp -s "$WORK/reg0" "$WORK/reg1"
	sed -n "$((L0 + 1)),$((L1))p" "$LOG" | grep -E " sip: (rx from|tx to) ($A|$B):" |
		sed 's/^/sip during the flood: /'
	end_call
}

# rtp-before-latch: the flood starts while bob's phone rings, before
# either phone sent media: no port is latched yet, so the kernel has
# nothing to drop the flood on and passes it up. The flooder is never
# latched and the phones still latch once they send; xrelayd's CPU over
# the flood is printed.
case_rtp_before_latch() {
	topology || return 1
	relay --iface r2:xdp || return 1
	ringing 15 || return 1
	pa=$(leg_field A RTP port)
	echo "alice will send to $RA:$pa"
	check "alice's relay port known" [ -n "$pa" ] || return 1
	cpu0=$(cpu_ticks) t0=$(date +%s%N)
	nsx x "$BUILD/bench_gen" send --dev x0 --src-mac "$(mac_of x x0)" \
		--dst-mac "$(mac_of rly r2)" --from "$X:4000" \
		--to "$RA:$pa" --seconds $FLOOD_S >"$WORK/gen" 2>&1 &
	gpid=$!
	sleep 1
	ua bob --wait-event CALL_ESTABLISHED accept >"$WORK/accept.out" 2>&1
	wait $dpid
	wait $gpid
	grc=$?
	cpu1=$(cpu_ticks) t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	sed 's/^/bench_gen: /' "$WORK/gen"
	eq "bench_gen exit status" $grc 0
	frames=$(kv "$WORK/gen" frames)
	check "the flood was a flood (>= 100000 frames: $frames)" \
		[ "${frames:-0}" -ge 100000 ]
	cpu_pct=$(((cpu1 - cpu0) * 1000 * 100 / $(getconf CLK_TCK) / ms))
	echo "FIGURE RTP flood before the latch: xrelayd CPU $cpu_pct% of a core"
	check "the call is established" grep -q '^CALL_ESTABLISHED' \
		"$WORK/dial.out" || return 1
	sleep 1
	ctl call "$cid"
	sed 's/^/call: /' "$OUT"
	grep 'not latching' "$LOG" | head -n 3 | sed 's/^/xrelayd: /'
	ka=$(kpkts "$A") kb=$(kpkts "$B")
	check "alice's media latched and forwarded in the kernel ($ka)" \
		[ "$ka" -ge 20 ]
	check "bob's media latched and forwarded in the kernel ($kb)" \
		[ "$kb" -ge 20 ]
	check "the flooder was never latched" sh -c "! grep -q 'latched $X' '$OUT'"
	hangup alice
}

# ONLY=PATTERN runs just the cases whose names contain it.
only() { case $1 in *"${ONLY:-}"*) run_case "$@" ;; esac; }
only flood-rtp case_rtp
only flood-rtp-before-latch case_rtp_before_latch
only flood-invite-503 case_invite
only flood-register-bad-credentials case_register
finish
