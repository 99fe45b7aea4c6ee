# Helpers of the end-to-end tests that put xrelayd between real baresip
# phones (sourced after lib.sh; POSIX sh). Not a test itself: run.sh runs
# only test_*.sh.
#
#   relay [FLAG VALUE...]   xrelayd in namespace rly: its log in $LOG,
#                           pid in $XPID, CDR lines in $CDR, control
#                           socket $SOCK
#   phone NAME NS ADDR REGISTRAR HZ PORT [PASSWORD]
#                           a registered baresip phone (PHONE_MODULES:
#                           more baresip modules, e.g. sndfile.so)
#   ua NAME ARGS...         build/uactl on NAME's control port
#   call CALLER CALLEE URI  CALLER dials, CALLEE answers: established
#   ringing SEC             alice and bob, alice's call to bob ringing
#   hangup NAME             NAME hangs up and sees its call closed
#   ctl ARGS...             xrelayctl: $OUT, $ERR, $RC
#   leg_field LEG KIND FIELD  a field of `xrelayctl call` in $OUT
#   sip_send NS FILE SEC    one SIP request, not from a phone: its final
#                           response, ACKed
#   udp_count NS FIELD      a UDP counter of /proc/net/snmp in NS
#   rss_kb / hwm_kb / cpu_ticks   xrelayd's memory and CPU time
#
#   phones_topology [x]     namespaces a, rly, b (and x), linked
#   kpkts FROM              packets the kernel forwarded from FROM
#
# A test that uses phones sets its trap with `phones_trap` (in the case's
# subshell) so that the phones (by pid) go before the usual cleanup.

# phones_need [COMMAND...]: the binaries, baresip, bash and the COMMANDs
# (sox, kamailio, ...) are there.
phones_need() {
	need_bins xrelayd xrelayctl uactl xrelay-fp
	for b in baresip bash "$@"; do
		if ! command -v $b >/dev/null; then
			echo "not ok - $b is not installed: run tools/deps.sh"
			exit 1
		fi
	done
}

phones_trap() { trap 'phones_stop; cleanup' EXIT; }

# phones_topology [x]: phones_trap, then the namespaces a, rly and b (and,
# with "x", a third host x), with the test's addresses (/24):
#
#   a    a0 $A  --- r0 $RA   rly
#   rly  r1 $RB --- b0 $B    b
#   rly  r2 $RX --- x0 $X    x       (with "x")
#
# default routes via the relay, GRO on the hosts' ends (see hosts_ab), all
# links ready, and $WORK made.
phones_topology() {
	phones_trap
	hosts_ab 24 || return 1
	if [ -n "${1:-}" ]; then
		mkns x || return 1
		veth x x0 "$X/24" rly r2 "$RX/24" || return 1
		ip -n "${T}x" route add default via "$RX" || return 1
		nsx x ethtool -K x0 gro on >/dev/null || return 1
		link_ready x x0 && link_ready rly r2 || return 1
	fi
	workdir
}

# relay [FLAG VALUE...]: xrelayd in rly, XDP on r0 and r1 (add more with
# flags), the SIP trace at debug level.
relay() {
	LOG=$WORK/xrelayd.log CDR=$WORK/cdr.jsonl SOCK=$WORK/ctl.sock
	mkdir -p "$WORK/state" || return 1
	bg rly "$BUILD/xrelayd" --listen udp:0.0.0.0:5060 \
		--iface r0:xdp --iface r1:xdp --pin-dir "$PIN" \
		--state-dir "$WORK/state" --ctl-socket "$SOCK" \
		--domain xrelay.test --cdr-file "$CDR" --log-level debug \
		"$@" </dev/null >"$LOG" 2>&1
	XPID=$!
	xrelayd_ready
}

PHONES=""
PHONE_MODULES=${PHONE_MODULES:-}
# phone NAME NS ADDR REGISTRAR HZ PORT [PASSWORD]: a baresip phone on
# ADDR:5060 in namespace NS, account <sip:NAME@REGISTRAR> (PASSWORD, or
# none), playing an HZ tone, PCMU only, controlled on 127.0.0.1:PORT in
# NS; registered when this returns. It runs in $WORK/NAME (its log; with
# PHONE_MODULES=sndfile.so its recordings, dump-*-dec.wav). ausine makes
# 48 kHz stereo only; aubridge,nil plays nothing, so no sound device is
# needed.
phone() {
	name=$1 ns=$2 pa=$3 reg=$4 hz=$5 port=$6 pw=${7:-none}
	d=$WORK/$name
	mkdir -p "$d" || return 1
	{
	cat <<EOF
poll_method epoll
sip_listen $pa:5060
audio_player aubridge,nil
audio_alert aubridge,nil
audio_source ausine,$hz
ausrc_srate 48000
ausrc_channels 2
auplay_srate 48000
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aubridge.so
EOF
	for m in $PHONE_MODULES; do echo "module $m"; done
	cat <<EOF
module_app account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:$port
EOF
	} >"$d/config"
	echo "<sip:$name@$reg>;auth_pass=$pw;regint=600;audio_codecs=PCMU" \
		>"$d/accounts"
	(cd "$d" && exec nsenter --net=/run/netns/"$T$ns" baresip -f "$d" \
		</dev/null >"$d/log" 2>&1) &
	PHONES="$PHONES $!"
	# The subshell execs nsenter, which execs baresip: $! is the phone.
	eval "PHNS_$name=$ns PHPORT_$name=$port PHADDR_$name=$pa PHPID_$name=$!"
	# Registered at start, before anyone listens for the event: ask.
	i=0
	until ua "$name" --timeout 5 reginfo 2>&1 |
		grep -q "sip:$name@$reg .*OK"; do
		if [ $i -ge 50 ]; then
			echo "$name did not register:"
			ua "$name" reginfo 2>&1 | sed "s/^/$name: /"
			sed "s/^/$name log: /" "$d/log" | tail -n 20
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

# phones_stop: every phone, at once (a baresip asked to stop unregisters
# first, which waits on the relay).
phones_stop() {
	for p in $PHONES; do kill -KILL "$p" 2>/dev/null; done
	for p in $PHONES; do wait "$p" 2>/dev/null; done
	PHONES=""
}

# ua NAME UACTL-ARGS...: uactl on NAME's control port, inside its
# namespace.
ua() {
	n=$1
	shift
	eval "uns=\$PHNS_$n uport=\$PHPORT_$n"
	nsx "$uns" "$BUILD/uactl" --port "$uport" "$@"
}

# wait_calls NAME PATTERN [SEC]: until NAME's list of calls matches
# PATTERN (grep -E), e.g. "INCOMING" or "Active calls \(0\)".
wait_calls() {
	i=0
	while [ $i -lt $((${3:-5} * 10)) ]; do
		ua "$1" listcalls >"$WORK/calls" 2>&1
		grep -Eq "$2" "$WORK/calls" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "$1's calls after ${3:-5} s do not match '$2':"
	sed "s/^/$1: /" "$WORK/calls"
	return 1
}

# call CALLER CALLEE URI: CALLER dials URI, CALLEE answers; both see the
# call established.
call() {
	ua "$1" --timeout 10 --wait-event CALL_ESTABLISHED,CALL_CLOSED \
		dial "$3" >"$WORK/dial.out" 2>&1 &
	dpid=$!
	if ! wait_calls "$2" INCOMING; then
		wait $dpid
		sed 's/^/caller: /' "$WORK/dial.out"
		return 1
	fi
	ua "$2" --wait-event CALL_ESTABLISHED accept >"$WORK/accept.out" 2>&1
	arc=$?
	wait $dpid
	sed 's/^/caller: /' "$WORK/dial.out"
	sed 's/^/callee: /' "$WORK/accept.out"
	check "$1's call is established" \
		grep -q '^CALL_ESTABLISHED' "$WORK/dial.out" || return 1
	check "$2's call is established" [ $arc -eq 0 ]
}

# ringing SEC: alice and bob (phones on $A and $B, registered with the
# relay at $RA and $RB), alice dials bob and bob's phone rings: uactl,
# waiting up to SEC s for the call's end, runs as $dpid (its output in
# $WORK/dial.out); the call's Call-ID (leg A) in $cid, its `xrelayctl
# call` in $OUT.
ringing() {
	phone alice a "$A" "$RA" 440 4444 || return 1
	phone bob b "$B" "$RB" 880 4444 || return 1
	ua alice --timeout "$1" --wait-event CALL_ESTABLISHED,CALL_CLOSED \
		dial "sip:bob@$RA" >"$WORK/dial.out" 2>&1 &
	dpid=$!
	wait_calls bob INCOMING || return 1
	ctl calls --json
	cid=$(sed -n 's/.*"call_id_a":"\([^"]*\)".*/\1/p' "$OUT" | head -n 1)
	ctl call "$cid"
}

hangup() {
	ua "$1" --wait-event CALL_CLOSED hangup >"$WORK/hangup.out" 2>&1
	hrc=$?
	sed "s/^/$1: /" "$WORK/hangup.out"
	check "$1 hung up (its call closed)" [ $hrc -eq 0 ]
}

ctl() {
	OUT=$WORK/ctl.out ERR=$WORK/ctl.err
	"$BUILD/xrelayctl" --socket "$SOCK" "$@" >"$OUT" 2>"$ERR"
	RC=$?
}

# leg_field LEG KIND FIELD: from `xrelayctl call` text in $OUT: for leg A
# or B, the RTP or RTCP line's "port", "latched" value, or the next line's
# "policy" or "foreign" drop count.
leg_field() {
	awk -v leg="$1" -v kind="$2" -v f="$3" '
		$1 == "leg" { cur = $2; next }
		cur == leg && $1 == kind {
			for (i = 2; i < NF; i++) {
				if (f == "port" && $i == "port") v = $(i + 1)
				if (f == "latched" && $i == "latched") v = $(i + 1)
			}
			want = 1; next
		}
		want && $1 == "drops:" {
			if (f == "foreign") v = $4
			if (f == "policy") v = $9
			want = 0
		}
		END { gsub(/[,;]/, "", v); print v }' "$OUT"
}

# sip_send NS FILE SEC: send the SIP request in FILE (one datagram) from
# an ephemeral port of NS to the relay ($RA:5060), through bash's
# /dev/udp, so that no other tool is needed; print its final response
# (the 1xx skipped, CRs removed), waiting up to SEC s for each datagram.
# A final response to an INVITE is ACKed (Via, From, Call-ID and CSeq
# number of the request, To of the response). 1 if no final response.
sip_send() {
	nsx "$1" env MSG="$2" DST="$RA" SEC="$3" bash -c '
		exec 3<>"/dev/udp/$DST/5060" || exit 1
		# One datagram: one write (a builtin printf writes per line).
		one() { dd bs=65535 count=1 iflag=fullblock status=none >&3; }
		one <"$MSG"
		while :; do
			r=$(timeout "$SEC" dd bs=65535 count=1 status=none <&3)
			[ -n "$r" ] || exit 1
			case $r in "SIP/2.0 1"*) continue ;; esac
			break
		done
		printf "%s\n" "$r" | tr -d "\r"
		case $(head -n 1 "$MSG") in INVITE*) ;; *) exit 0 ;; esac
		to=$(printf "%s\n" "$r" | grep -i "^to:" | tr -d "\r")
		uri=$(head -n 1 "$MSG" | cut -d" " -f2)
		{ printf "ACK %s SIP/2.0\r\n" "$uri"
		  grep -i "^\(via\|from\|call-id\):" "$MSG"
		  printf "%s\r\nCSeq: %s ACK\r\nMax-Forwards: 70\r\n" "$to" \
			"$(sed -n "s/^CSeq: \([0-9]*\).*/\1/p" "$MSG")"
		  printf "Content-Length: 0\r\n\r\n"; } | one'
}

# udp_count NS FIELD: FIELD (InDatagrams, OutDatagrams, ...) of the Udp:
# line of /proc/net/snmp as seen inside NS (its own counters).
udp_count() {
	nsx "$1" cat /proc/net/snmp | awk -v f="$2" '
		$1 == "Udp:" && !h { for (i = 2; i <= NF; i++) c[$i] = i; h = 1
				     next }
		$1 == "Udp:" { print $c[f]; exit }'
}

# udp_snap PID...: for each process, the InDatagrams and OutDatagrams of
# UDP in its network namespace (/proc/PID/net/snmp), "in out" pairs on
# one line, read at once: no skew between namespaces, as nsenter per
# namespace would add on a loaded machine.
udp_snap() {
	for p in "$@"; do echo "/proc/$p/net/snmp"; done |
		xargs awk '$1 == "Udp:" && !(FILENAME in h) {
				for (i = 2; i <= NF; i++) c[FILENAME, $i] = i
				h[FILENAME] = 1; next }
			   $1 == "Udp:" { printf "%s %s ", $c[FILENAME, "InDatagrams"],
					  $c[FILENAME, "OutDatagrams"] }
			   END { print "" }'
}

# xrelayd's resident memory now and at its peak (kB), its CPU time
# (user + system, clock ticks).
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$XPID/status"; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$XPID/status"; }
cpu_ticks() {
	# The fields after the command name, which is in parentheses.
	sed 's/.*) //' "/proc/$XPID/stat" | awk '{ print $12 + $13 }'
}

# kpkts FROM: packets the kernel forwarded so far from address FROM (the
# pinned flow map: all its flows, RTP and RTCP).
kpkts() {
	fp flow-list | awk -v a="$1:" 'index($1, a) == 1 { s += $6 } END { print s + 0 }'
}

# cdr_lines: lines of the CDR file.
cdr_lines() { if [ -f "$CDR" ]; then wc -l <"$CDR"; else echo 0; fi; }

# wait_log PATTERN [SEC]: until xrelayd's log has a line matching PATTERN
# (grep -E).
wait_log() {
	i=0
	until grep -Eq "$1" "$LOG"; do
		[ $i -ge $((${2:-3} * 20)) ] && return 1
		sleep 0.05
		i=$((i + 1))
	done
}
