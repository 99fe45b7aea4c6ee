#!/bin/sh
# End-to-end: the media engine (build/xrelay-media, driven by its line
# commands) between real RTP peers, in network namespaces.
#
#   a    a0 10.73.1.2 fd73:1::2 --- r0 10.73.1.1 fd73:1::1   rly
#   rly  r1 10.73.2.1 fd73:2::1 --- b0 10.73.2.2 fd73:2::2   b
#   rly  r2 10.73.3.1 fd73:3::1 --- x0 10.73.3.2 fd73:3::2   x (third host)
#
# A offers (c= its address, m= port 4000), B answers (port 5000); the
# engine anchors the media on the relay: A is told to send to the relay's
# r0 address and port PA, B to the relay's r1 address and port PB. Each
# peer sends and receives on one socket (symmetric RTP, as phones do:
# rtpprobe recv --send-to). The cases assert what a carrier looks at:
# every packet arrived, from the relay's address and port, with checksums
# right from scratch and TTL 64 on the receiver's wire (rtpprobe --iface),
# and the engine's own counters (its info and totals commands) say who
# forwarded them: the first packet of each direction userspace (it latches
# the peer and installs the flow), all the others the kernel.
. "$(dirname "$0")/lib.sh"

N=100         # packets per stream
RATE=100      # packets per second
SIZE=172      # RTP: 12 bytes of header + 160 bytes of G.711 (20 ms)
APORT=4000    # A's RTP port (in its SDP)
BPORT=5000    # B's RTP port
SSRC_A=0xa1a1a1a1
SSRC_B=0xb2b2b2b2
SSRC_X=0xbadbad00 # the third host's
XSIZE=200     # the third host's packet size: its bytes would show

need_bins xrelay-media xrelay-fp rtpprobe

# The addresses of one family: A, B (peers), RA, RB (the relay towards
# each), X, RX (the third host, the relay towards it), P (prefix length).
family() {
	if [ "$1" = 4 ]; then
		A=10.73.1.2 RA=10.73.1.1 B=10.73.2.2 RB=10.73.2.1
		X=10.73.3.2 RX=10.73.3.1 P=24
	else
		A=fd73:1::2 RA=fd73:1::1 B=fd73:2::2 RB=fd73:2::1
		X=fd73:3::2 RX=fd73:3::1 P=64
	fi
	AHINT=$(ap "$A" 5060) # A's signalling address: its own
}

# topology FAMILY [x]: peers a and b, the relay between them; with x also
# the third host, routed to the relay through its own interface r2.
topology() {
	family "$1"
	hosts_ab "$P" || return 1
	if [ "${2:-}" = x ]; then
		mkns x || return 1
		veth x x0 "$X/$P" rly r2 "$RX/$P" || return 1
		ip -n "${T}x" route add default via "$RX" || return 1
		link_ready x x0 && link_ready rly r2 || return 1
	fi
	workdir
}

# ---- the engine -----------------------------------------------------------
#
# It reads commands from a FIFO that this shell holds open read-write (so
# neither side blocks on open and the engine never sees EOF: a restarted
# engine reads the same FIFO) and writes its replies to $MOUT, its log to
# $MERR; each start gets new files.

GEN=0
engine_start() {
	GEN=$((GEN + 1))
	MOUT=$WORK/engine$GEN.out MERR=$WORK/engine$GEN.err
	if [ ! -p "$WORK/engine.in" ]; then
		mkfifo "$WORK/engine.in" || return 1
		exec 3<>"$WORK/engine.in"
	fi
	: >"$MOUT"
	# As bg does, but with stdin given in the list itself (an
	# asynchronous list's stdin is /dev/null otherwise).
	nsenter --net=/run/netns/"${T}rly" "$BUILD/xrelay-media" \
		--pin-dir "$PIN" "$@" <"$WORK/engine.in" >"$MOUT" 2>"$MERR" &
	EPID=$!
	PIDS="$PIDS $EPID"
	i=0
	while ! grep -q '^ready$' "$MOUT"; do
		if ! kill -0 "$EPID" 2>/dev/null || [ $i -ge 100 ]; then
			echo "xrelay-media did not start:"
			sed 's/^/engine: /' "$MERR"
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
}

# mcmd COMMAND...: one command; its reply lines go to $WORK/reply. Fails on
# "error: ..." or when no reply comes within 5 s.
mcmd() {
	n0=$(wc -l <"$MOUT")
	echo "$*" >&3
	i=0
	while [ $i -lt 250 ]; do
		tail -n +$((n0 + 1)) "$MOUT" >"$WORK/reply"
		if grep -qE '^(ok|error)' "$WORK/reply"; then
			grep -q '^ok$' "$WORK/reply" && return 0
			echo "engine: $* -> $(grep '^error' "$WORK/reply")"
			return 1
		fi
		sleep 0.02
		i=$((i + 1))
	done
	echo "engine: no reply to '$*' in 5 s"
	sed 's/^/engine log: /' "$MERR"
	return 1
}

# CALL: the call the helpers below work on (info, wait_info, call).
CALL=c1

# info FILE / totals FILE: the engine's view, as key=value lines.
info() {
	mcmd info $CALL || return 1
	cp "$WORK/reply" "$1"
	grep -v '\.rtcp\.\|^ok$' "$1" | sed 's/^/info: /'
}
totals() {
	mcmd totals || return 1
	cp "$WORK/reply" "$1"
	grep -v '=0$\|^ok$' "$1" | sed 's/^/totals: /'
}

# wait_info KEY VALUE [SEC]: until info shows KEY with VALUE (or, with
# VALUE "+", anything but - and 0).
wait_info() {
	i=0
	while [ $i -lt $((${3:-5} * 20)) ]; do
		mcmd info $CALL || return 1
		v=$(kv "$WORK/reply" "$1")
		if [ "$2" = + ]; then
			[ "$v" != - ] && [ "$v" != 0 ] && return 0
		else
			[ "$v" = "$2" ] && return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "info: $1 is '$v' after ${3:-5}s, not '$2'"
	return 1
}

# sdp FILE USER ADDR PORT: a phone's offer or answer (G.711, DTMF, 20 ms).
sdp() {
	case $3 in *:*) ipv=IP6 ;; *) ipv=IP4 ;; esac
	{
		printf 'v=0\r\no=%s 2890844526 2890844526 IN %s %s\r\n' \
			"$2" $ipv "$3"
		printf 's=call\r\nc=IN %s %s\r\nt=0 0\r\n' $ipv "$3"
		printf 'm=audio %s RTP/AVP 0 8 101\r\n' "$4"
		printf 'a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n'
		printf 'a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n'
		printf 'a=ptime:20\r\na=sendrecv\r\n'
	} >"$1"
}

# sdp_c FILE / sdp_m FILE: the c= address and the m= port of a body.
sdp_c() { sed -n 's/^c=IN IP[46] \([^\r]*\)\r*$/\1/p' "$1"; }
sdp_m() { sed -n 's/^m=audio \([0-9]*\) .*/\1/p' "$1"; }

# call ADDR: call $CALL: A offers (ADDR:APORT in its SDP, signalling from
# $AHINT), B answers; sets PA and PB, the relay's ports towards A and B.
call() {
	sdp "$WORK/offer.sdp" alice "$1" $APORT
	sdp "$WORK/answer.sdp" bob "$B" $BPORT
	# B's signalling address first: the relay picks its address towards
	# B from it (and latches B only from it or B's SDP address).
	mcmd hint $CALL B "$(ap "$B" 5060)" || return 1
	mcmd offer $CALL A "$AHINT" "$WORK/offer.sdp" "$WORK/offer.out" ||
		return 1
	mcmd answer $CALL B "$(ap "$B" 5060)" "$WORK/answer.sdp" \
		"$WORK/answer.out" || return 1
	PB=$(sdp_m "$WORK/offer.out") PA=$(sdp_m "$WORK/answer.out")
	eq "offer to B: c= is the relay's address towards B" \
		"$(sdp_c "$WORK/offer.out")" "$RB"
	eq "answer to A: c= is the relay's address towards A" \
		"$(sdp_c "$WORK/answer.out")" "$RA"
	# (Each relay address has its own pool: PA and PB may be equal.)
	check "relay ports allocated (A sends to $PA, B to $PB)" \
		[ -n "$PA" -a -n "$PB" ] || return 1
	echo "call: A $(ap "$1" $APORT) <-> relay $(ap "$RA" "$PA") | relay" \
		"$(ap "$RB" "$PB") <-> B $(ap "$B" $BPORT)"
}

# ---- the peers --------------------------------------------------------------

# peer NS IF ADDR PORT RELAY OUT [rtpprobe recv options]: a phone on
# ADDR:PORT: receives (capturing on IF) what the relay sends from RELAY,
# and sends its own stream to RELAY from the same socket. In the
# background; its summary goes to OUT.
peer() {
	ns=$1 ifn=$2 addr=$3 port=$4 rly=$5 out=$6; shift 6
	bg "$ns" "$BUILD/rtpprobe" recv --bind "$addr" --port "$port" \
		--iface "$ifn" --expect-src "$rly" --send-to "$rly" \
		--send-rate $RATE "$@" >"$out"
	wait_udp "$ns" "$port"
}

# streams [N]: a call's media, N packets (default $N) each way at once. B
# listens first and starts sending 0.5 s later, so that A's first packet,
# which latches A, comes first (behind a NAT that is what lets B's media
# reach A at all). Summaries in $WORK/a.recv and b.recv, exit status in
# ARC and BRC.
streams() {
	n=${1:-$N}
	peer b b0 "$B" $BPORT "$(ap "$RB" "$PB")" "$WORK/b.recv" \
		--count "$n" --send-count "$n" --send-ssrc $SSRC_B \
		--send-delay 0.5 --timeout 8 || return 1
	bpid=$!
	peer a a0 "$A" $APORT "$(ap "$RA" "$PA")" "$WORK/a.recv" \
		--count "$n" --send-count "$n" --send-ssrc $SSRC_A \
		--timeout 8 || return 1
	apid=$!
	wait $apid; ARC=$?
	wait $bpid; BRC=$?
	sed 's/^/a: /' "$WORK/a.recv"
	sed 's/^/b: /' "$WORK/b.recv"
}

# check_recv WHO OUT RC SRC SSRC COUNT [TTL]: what a receiver saw.
check_recv() {
	eq "$1: receiver exit status" "$3" 0
	eq "$1: received" "$(kv "$2" received)" "$6"
	eq "$1: source (the relay's port)" "$(kv "$2" src)" "$4"
	eq "$1: packets from another source" "$(kv "$2" foreign)" 0
	eq "$1: RTP ssrc" "$(kv "$2" ssrc)" "$5"
	eq "$1: RTP lost" "$(kv "$2" lost)" 0
	eq "$1: bytes" "$(kv "$2" bytes)" $(($6 * SIZE))
	eq "$1: frames captured" "$(kv "$2" cap_frames)" "$6"
	eq "$1: checksums right from scratch" "$(kv "$2" csum_ok)" "$6"
	eq "$1: checksums wrong" "$(kv "$2" csum_bad)" 0
	eq "$1: TTL / hop limit" "$(kv "$2" ttl)" "${7:-64}"
}

# check_both [TTL_AT_A]: both directions of streams arrived.
check_both() {
	check_recv "A->B" "$WORK/b.recv" "$BRC" "$(ap "$RB" "$PB")" $SSRC_A \
		"$n"
	check_recv "B->A" "$WORK/a.recv" "$ARC" "$(ap "$RA" "$PA")" $SSRC_B \
		"$n" "${1:-64}"
	eq "A sent" "$(kv "$WORK/a.recv" sent)" "$n"
	eq "B sent" "$(kv "$WORK/b.recv" sent)" "$n"
}

# check_leg L PEER USER KERNEL [REFUSED]: the engine's counters of what leg
# L's peer sent to its RTP port (REFUSED: packets of another source before
# the latch, default 0).
check_leg() {
	f=$WORK/info
	eq "leg $1: latched" "$(kv "$f" "$1.0.rtp.latched")" "$2"
	eq "leg $1: user_packets" "$(kv "$f" "$1.0.rtp.user_packets")" "$3"
	eq "leg $1: kernel_packets" "$(kv "$f" "$1.0.rtp.kernel_packets")" "$4"
	eq "leg $1: drop_foreign" "$(kv "$f" "$1.0.rtp.drop_foreign")" 0
	eq "leg $1: drop_policy" "$(kv "$f" "$1.0.rtp.drop_policy")" "${5:-0}"
	eq "leg $1: relatches" "$(kv "$f" "$1.0.rtp.relatches")" 0
}

# check_kernel MODE APEER [REFUSED]: the first packet of each direction
# went up (no flow yet): the engine latched its source, forwarded it and
# installed the flow (its next hop resolved by then, or 2 ms later: the
# engine retries while the neighbour is being resolved); the kernel
# forwarded all the others. REFUSED: packets of a third host that came
# before A's and were not latched (default 0).
check_kernel() {
	r=${3:-0}
	info "$WORK/info" || return 1
	totals "$WORK/totals" || return 1
	eq "leg A mode" "$(kv "$WORK/info" a.mode)" "$1"
	eq "leg B mode" "$(kv "$WORK/info" b.mode)" "$1"
	check_leg a "$2" 1 $((n - 1)) "$r"
	check_leg b "$(ap "$B" $BPORT)" 1 $((n - 1))
	t=$WORK/totals
	eq "totals: iface r0" "$(kv "$t" iface.r0)" "$1"
	eq "totals: iface r1" "$(kv "$t" iface.r1)" "$1"
	eq "totals: user_packets" "$(kv "$t" user_packets)" 2
	eq "totals: kernel_packets" "$(kv "$t" kernel_packets)" $((2 * (n - 1)))
	eq "totals: kernel redirects" "$(kv "$t" reason.fwd_redirect)" \
		$((2 * (n - 1)))
	eq "totals: passed up, no flow yet (first packets, refused ones)" \
		"$(kv "$t" reason.pass_no_entry)" $((2 + r))
	eq "totals: latches" "$(kv "$t" latches)" 2
	eq "totals: latch_refused" "$(kv "$t" latch_refused)" "$r"
	eq "totals: pass_error" "$(kv "$t" reason.pass_error)" 0
}

# both_ways MODE FAMILY: a call, media both ways at once.
both_ways() {
	topology "$2" || return 1
	engine_start --iface r0:"$1" --iface r1:"$1" || return 1
	call "$A" || return 1
	streams || return 1
	check_both
	check_kernel "$1" "$(ap "$A" $APORT)"
}

# rtp_stats FLAGS RECEIVED: the kernel flow A -> B has the RTP statistics
# flag (2) or not, and counted RECEIVED RTP packets (+: some) in them.
rtp_stats() {
	fpx rly flow-get --local "$(ap "$RA" "$PA")" \
		--remote "$(ap $A $APORT)" >"$WORK/flow" || {
		check "the kernel flow A -> B is there" false
		return 1
	}
	eq "flow A -> B: RTP statistics flag" $(($(kv "$WORK/flow" flags) & 2)) "$1"
	if [ "$2" = + ]; then
		check "flow A -> B: RTP packets counted ($(kv "$WORK/flow" \
			rtp_received))" [ "$(kv "$WORK/flow" rtp_received)" -gt 0 ]
		eq "flow A -> B: SSRC" "$(kv "$WORK/flow" rtp_ssrc)" $((SSRC_A))
	else
		eq "flow A -> B: RTP packets counted" \
			"$(kv "$WORK/flow" rtp_received)" "$2"
	fi
}

case_xdp_both_ways() { both_ways xdp 4 && rtp_stats 2 +; }

# rtp_stats_off: the engine with rtp_stats = no: flows forward as ever,
# without the RTP statistics.
case_rtp_stats_off() {
	topology 4 || return 1
	engine_start --iface r0:xdp --iface r1:xdp --no-rtp-stats || return 1
	call "$A" || return 1
	streams || return 1
	check_both
	check_kernel xdp "$(ap "$A" $APORT)"
	rtp_stats 0 0
}
case_tc_both_ways() { both_ways tc 4; }
case_ipv6() { both_ways xdp 6; }

# A behind a NAT (the nat namespace masquerades A's private address behind
# its public one, 10.73.1.3). A's SDP says its private address, which the
# relay cannot reach; its signalling came from the NAT's public address,
# the hint. The relay latches the NAT's address and port from A's first
# packet and sends B's media there; the NAT takes it to A.
#
#   a    a0 192.168.73.2 --- n0 192.168.73.1   nat   n1 10.73.1.3 --- r0 rly
case_nat() {
	family 4
	A=192.168.73.2 AHINT=10.73.1.3:5060
	mkns a nat rly b || return 1
	veth a a0 $A/24 nat n0 192.168.73.1/24 || return 1
	veth nat n1 10.73.1.3/24 rly r0 "$RA/$P" || return 1
	veth rly r1 "$RB/$P" b b0 "$B/$P" || return 1
	ip -n "${T}a" route add default via 192.168.73.1 || return 1
	ip -n "${T}nat" route add default via "$RA" || return 1
	ip -n "${T}b" route add default via "$RB" || return 1
	nsx nat sysctl -qw net.ipv4.ip_forward=1 || return 1
	nsx nat iptables -t nat -A POSTROUTING -o n1 -j MASQUERADE || return 1
	nsx nat ethtool -K n1 gro on >/dev/null || return 1
	nsx b ethtool -K b0 gro on >/dev/null || return 1
	link_ready a a0 && link_ready nat n0 n1 && link_ready b b0 &&
		link_ready rly r0 r1 || return 1
	workdir
	engine_start --iface r0:xdp --iface r1:xdp || return 1
	call $A || return 1
	streams || return 1
	# The NAT forwards the relay's packets to A: one hop less.
	check_both 63
	# MASQUERADE keeps the source port when it is free, as here.
	check_kernel xdp 10.73.1.3:$APORT
	eq "leg A: its SDP address (private, unreachable)" \
		"$(kv "$WORK/info" a.0.rtp.sdp_peer)" $A:$APORT
}

# third_host_after_latch: once both directions are latched, a third host
# sends to the relay port that A uses, from A's port number, while A goes
# on sending. B receives A's packets and none of the third host's: the
# kernel drops them (a strict, latched port), passing up only a
# rate-limited sample, which the engine drops too; the latch stays.
case_third_host_after_latch() {
	n2=100 m=50
	topology 4 x || return 1
	engine_start --iface r0:xdp --iface r1:xdp --iface r2:xdp || return 1
	call $A || return 1
	streams 50 || return 1
	check_both
	check_kernel xdp "$(ap "$A" $APORT)" || return 1
	fwd0=$(kv "$WORK/totals" reason.fwd_redirect)
	bg b "$BUILD/rtpprobe" recv --bind $B --port $BPORT --iface b0 \
		--expect-src "$(ap "$RB" "$PB")" --timeout 2.5 >"$WORK/b2.recv"
	rpid=$!
	wait_udp b $BPORT || return 1
	bg a "$BUILD/rtpprobe" send --from "$(ap $A $APORT)" \
		--to "$(ap "$RA" "$PA")" --count $n2 --rate $RATE --size $SIZE \
		--ssrc $SSRC_A --seq 1000 --ttl 9 >"$WORK/a2.send"
	spid=$!
	nsx x "$BUILD/rtpprobe" send --from "$(ap $X $APORT)" \
		--to "$(ap "$RA" "$PA")" --count $m --rate $RATE --size $XSIZE \
		--ssrc $SSRC_X >"$WORK/x.send" || return 1
	sed 's/^/x: /' "$WORK/x.send"
	wait $spid
	wait $rpid; rrc=$?
	sed 's/^/b: /' "$WORK/b2.recv"
	eq "B: receiver status" $rrc 0
	eq "B: received (A's, none of the third host's)" \
		"$(kv "$WORK/b2.recv" received)" $n2
	eq "B: bytes (all of A's size)" "$(kv "$WORK/b2.recv" bytes)" \
		$((n2 * SIZE))
	eq "B: ssrc" "$(kv "$WORK/b2.recv" ssrc)" $SSRC_A
	eq "B: first_seq" "$(kv "$WORK/b2.recv" first_seq)" 1000
	eq "B: lost" "$(kv "$WORK/b2.recv" lost)" 0
	eq "B: from another source" "$(kv "$WORK/b2.recv" foreign)" 0
	eq "B: frames captured" "$(kv "$WORK/b2.recv" cap_frames)" $n2
	eq "B: TTL (A sent with 9)" "$(kv "$WORK/b2.recv" ttl)" 64
	info "$WORK/info" || return 1
	totals "$WORK/totals" || return 1
	f=$WORK/info t=$WORK/totals
	eq "leg A: still latched to A" "$(kv "$f" a.0.rtp.latched)" \
		"$(ap $A $APORT)"
	eq "leg A: relatches" "$(kv "$f" a.0.rtp.relatches)" 0
	eq "leg A: user_packets" "$(kv "$f" a.0.rtp.user_packets)" 1
	eq "leg A: kernel_packets" "$(kv "$f" a.0.rtp.kernel_packets)" \
		$((n - 1 + n2))
	eq "leg A: drop_foreign (the third host's)" \
		"$(kv "$f" a.0.rtp.drop_foreign)" $m
	eq "leg A: drop_policy" "$(kv "$f" a.0.rtp.drop_policy)" 0
	drop=$(kv "$t" reason.drop_foreign_source)
	sample=$(kv "$t" reason.pass_foreign_sample)
	eq "kernel: drop_foreign_source + pass_foreign_sample" \
		$((drop + sample)) $m
	check "kernel: most dropped there (drop_foreign_source $drop)" \
		[ "$drop" -ge $((m / 2)) ]
	check "kernel: samples passed up, rate-limited ($sample)" \
		[ "$sample" -ge 1 -a "$sample" -le 10 ]
	eq "kernel: redirects (A's)" "$(kv "$t" reason.fwd_redirect)" \
		$((fwd0 + n2))
	eq "totals: user_packets" "$(kv "$t" user_packets)" 2
	eq "totals: relatches" "$(kv "$t" relatches)" 0
}

# third_host_before_latch: the third host sends to A's relay port before
# A's first packet. Its source is neither A's SDP address nor A's
# signalling address: not latched (refused, counted, logged), nothing
# forwarded; then A's stream latches as usual.
case_third_host_before_latch() {
	m=20
	topology 4 x || return 1
	engine_start --iface r0:xdp --iface r1:xdp --iface r2:xdp || return 1
	call $A || return 1
	bg b "$BUILD/rtpprobe" recv --bind $B --port $BPORT --iface b0 \
		--count 0 --timeout 1 >"$WORK/b0.recv"
	rpid=$!
	wait_udp b $BPORT || return 1
	nsx x "$BUILD/rtpprobe" send --from "$(ap $X $APORT)" \
		--to "$(ap "$RA" "$PA")" --count $m --rate $RATE --size $XSIZE \
		--ssrc $SSRC_X >"$WORK/x.send" || return 1
	wait $rpid; rrc=$?
	sed 's/^/b: /' "$WORK/b0.recv"
	eq "B: nothing received (receiver status)" $rrc 0
	eq "B: received" "$(kv "$WORK/b0.recv" received)" 0
	info "$WORK/info" || return 1
	totals "$WORK/totals" || return 1
	eq "leg A: not latched" "$(kv "$WORK/info" a.0.rtp.latched)" -
	eq "leg A: drop_policy (latch refused)" \
		"$(kv "$WORK/info" a.0.rtp.drop_policy)" $m
	eq "leg A: user_packets" "$(kv "$WORK/info" a.0.rtp.user_packets)" 0
	eq "totals: latch_refused" "$(kv "$WORK/totals" latch_refused)" $m
	eq "totals: latches" "$(kv "$WORK/totals" latches)" 0
	check "engine logs the refused latch" grep -q \
		"warn .*not latching $X:$APORT: it is neither the SDP address nor the signalling address" \
		"$MERR"
	streams || return 1
	check_both
	check_kernel xdp "$(ap "$A" $APORT)" $m
}

# attach_off: no BPF at all: every packet goes through a socket per relay
# port, and the engine says so.
case_attach_off() {
	topology 4 || return 1
	engine_start --iface r0:off --iface r1:off || return 1
	call $A || return 1
	streams || return 1
	check_both
	info "$WORK/info" || return 1
	totals "$WORK/totals" || return 1
	eq "leg A mode" "$(kv "$WORK/info" a.mode)" off
	eq "leg B mode" "$(kv "$WORK/info" b.mode)" off
	check_leg a "$(ap "$A" $APORT)" $N 0
	check_leg b "$(ap "$B" $BPORT)" $N 0
	eq "totals: iface r0" "$(kv "$WORK/totals" iface.r0)" off
	eq "totals: iface r1" "$(kv "$WORK/totals" iface.r1)" off
	eq "totals: user_packets" "$(kv "$WORK/totals" user_packets)" $((2 * N))
	eq "totals: kernel_packets" "$(kv "$WORK/totals" kernel_packets)" 0
	sed 's/^/engine log: /' "$MERR"
	check "engine warns that userspace forwards all media" grep -q \
		"warn .*attach mode off on every interface: userspace forwards all media" \
		"$MERR"
	check "no BPF program on r0" sh -c \
		"! ip -n ${T}rly -d link show dev r0 | grep -q prog/"
}

# map_count MAP: the number of entries of a pinned map of this run (its
# BTF-formatted dump has one "key" per entry); for xr_flows, the flows
# (xrelay-fp flow-list: those of xr_flows and the IPv4 ones of xr_fast4).
map_count() {
	if [ "$1" = xr_flows ]; then
		fpx rly flow-list | tail -n +2 | grep -c .
		return 0
	fi
	bpftool map dump pinned "$PIN/$1" | grep -c '"key":'
}

# adopted WHO: the engine that just started knows call $CALL as the first
# one did: its state, ports and A's latch, from the journal; and the
# kernel flow it adopted goes on counting (while A sends).
adopted() {
	info "$WORK/info.$1" || return 1
	f=$WORK/info.$1
	eq "$1: state (answered)" "$(kv "$f" state)" 2
	eq "$1: leg A port" "$(kv "$f" a.0.rtp.port)" "$PA"
	eq "$1: leg B port" "$(kv "$f" b.0.rtp.port)" "$PB"
	eq "$1: leg A latched" "$(kv "$f" a.0.rtp.latched)" "$(ap $A $APORT)"
	eq "$1: leg B SDP peer" "$(kv "$f" b.0.rtp.sdp_peer)" "$(ap $B $BPORT)"
	eq "$1: leg A user_packets (journaled)" \
		"$(kv "$f" a.0.rtp.user_packets)" 1
	k1=$(kv "$f" a.0.rtp.kernel_packets)
	sleep 0.2
	info "$f.2" >/dev/null || return 1
	k2=$(kv "$f.2" a.0.rtp.kernel_packets)
	check "$1: leg A kernel_packets count on ($k1, then $k2)" \
		[ "$k1" -gt 0 -a "$k2" -gt "$k1" ]
	totals "$WORK/totals.$1" >/dev/null || return 1
	eq "$1: sessions" "$(kv "$WORK/totals.$1" sessions)" 1
	eq "$1: adopted" "$(kv "$WORK/totals.$1" adopted)" 1
}

# restart: the engine dies (SIGKILL) while A streams to B, and is started
# again on the same pinned maps and journal; then that one is stopped (the
# stop command frees the engine and leaves the kernel state) and started
# once more. The kernel flows stay and go on forwarding: B sees no gap.
# Each new engine adopts the call from the journal (same ports, A's latch,
# the flow with its counters), and a delete on the last one removes the
# call's kernel entries and its journal file.
case_restart() {
	nr=150 rate=50 # 3 s
	topology 4 || return 1
	ST=$WORK/state
	engine_start --iface r0:xdp --iface r1:xdp --state-dir "$ST" || return 1
	call $A || return 1
	check "journal: $ST/c1.call written" [ -s "$ST/c1.call" ]
	bg b "$BUILD/rtpprobe" recv --bind $B --port $BPORT --iface b0 \
		--expect-src "$(ap "$RB" "$PB")" --count $nr --timeout 10 \
		>"$WORK/b.recv"
	rpid=$!
	wait_udp b $BPORT || return 1
	bg a "$BUILD/rtpprobe" send --from "$(ap $A $APORT)" \
		--to "$(ap "$RA" "$PA")" --count $nr --rate $rate --size $SIZE \
		--ssrc $SSRC_A --ttl 9 >"$WORK/a.send"
	spid=$!
	wait_info a.0.rtp.kernel_packets + || return 1
	sleep 0.3
	kill -KILL "$EPID"
	wait "$EPID" 2>/dev/null
	echo "engine $EPID killed (SIGKILL)"
	engine_start --iface r0:xdp --iface r1:xdp --state-dir "$ST" || return 1
	adopted "engine 2"
	echo stop >&3
	wait "$EPID"
	eq "engine stopped by the stop command (exit status)" $? 0
	engine_start --iface r0:xdp --iface r1:xdp --state-dir "$ST" || return 1
	adopted "engine 3"
	wait $spid
	wait $rpid; rrc=$?
	sed 's/^/b: /' "$WORK/b.recv"
	eq "B: receiver status" $rrc 0
	eq "B: received" "$(kv "$WORK/b.recv" received)" $nr
	eq "B: lost" "$(kv "$WORK/b.recv" lost)" 0
	eq "B: source (the relay's port)" "$(kv "$WORK/b.recv" src)" \
		"$(ap "$RB" "$PB")"
	eq "B: checksums right from scratch" "$(kv "$WORK/b.recv" csum_ok)" $nr
	eq "B: TTL (A sent with 9)" "$(kv "$WORK/b.recv" ttl)" 64
	gap=$(kv "$WORK/b.recv" max_gap_ms)
	check "B: longest gap ${gap} ms < 200 ms (one packet: 20 ms)" \
		[ "$gap" -lt 200 ]
	fpx rly flow-get --local "$(ap "$RA" "$PA")" \
		--remote "$(ap $A $APORT)" >"$WORK/flow" || {
		check "the kernel flow A -> B is still there" false
		return 1
	}
	sed 's/^/flow: /' "$WORK/flow"
	eq "kernel flow A -> B: packets (all but the first)" \
		"$(kv "$WORK/flow" packets)" $((nr - 1))
	info "$WORK/info" || return 1
	eq "engine 3: leg A kernel_packets (the flow's, never reset)" \
		"$(kv "$WORK/info" a.0.rtp.kernel_packets)" $((nr - 1))
	eq "engine 3: leg A user_packets" \
		"$(kv "$WORK/info" a.0.rtp.user_packets)" 1
	totals "$WORK/totals" || return 1
	eq "kernel: redirects (counted across the restarts)" \
		"$(kv "$WORK/totals" reason.fwd_redirect)" $((nr - 1))
	eq "engine 3: iface r0" "$(kv "$WORK/totals" iface.r0)" xdp
	eq "engine 3: gc_flows (nothing unknown)" \
		"$(kv "$WORK/totals" gc_flows)" 0
	mcmd delete c1 || return 1
	check "after delete: the flow A -> B is gone" sh -c "! nsenter \
		--net=/run/netns/${T}rly $BUILD/xrelay-fp flow-get --pin-dir \
		$PIN --local $(ap "$RA" "$PA") --remote $(ap $A $APORT) \
		>/dev/null 2>&1"
	eq "after delete: kernel flows" "$(map_count xr_flows)" 0
	eq "after delete: port entries" "$(map_count xr_ports)" 0
	check "after delete: the journal file is gone" [ ! -e "$ST/c1.call" ]
	for g in 1 2 3; do sed "s/^/engine $g log: /" "$WORK/engine$g.err"; done
}

# restart_gc: two calls stream (A to B) when the engine is killed; the
# journal of c2 is removed meanwhile (as if c2 had ended while no engine
# ran). The new engine adopts c1 only and holds c2's ports out of its
# pool; once its adopt grace time is over it removes c2's kernel flow and
# port entries, so c2's media stops, and quarantines its ports, while
# c1's media goes on without a loss.
case_restart_gc() {
	nr=150 rate=50 grace=1000 # 3 s of media; the grace ends near 1.5 s
	topology 4 || return 1
	ST=$WORK/state
	engine_start --iface r0:xdp --iface r1:xdp --state-dir "$ST" || return 1
	CALL=c1 APORT=4000 BPORT=5000
	call $A || return 1
	PA1=$PA PB1=$PB
	CALL=c2 APORT=4002 BPORT=5002
	call $A || return 1
	PA2=$PA PB2=$PB
	for c in 1 2; do
		eval "pa=\$PA$c pb=\$PB$c"
		if [ $c = 1 ]; then cnt="--count $nr"; else cnt=""; fi
		bg b "$BUILD/rtpprobe" recv --bind $B --port $((4998 + 2 * c)) \
			--iface b0 --expect-src "$(ap "$RB" "$pb")" $cnt \
			--timeout 4 >"$WORK/b$c.recv"
		eval "rpid$c=\$!"
		wait_udp b $((4998 + 2 * c)) || return 1
	done
	for c in 1 2; do
		eval "pa=\$PA$c"
		bg a "$BUILD/rtpprobe" send --from "$(ap $A $((3998 + 2 * c)))" \
			--to "$(ap "$RA" "$pa")" --count $nr --rate $rate \
			--size $SIZE --ssrc $SSRC_A >"$WORK/a$c.send"
		eval "spid$c=\$!"
	done
	CALL=c2 wait_info a.0.rtp.kernel_packets + || return 1
	CALL=c1 wait_info a.0.rtp.kernel_packets + || return 1
	eq "before: kernel flows (A -> B of each call)" "$(map_count xr_flows)" 2
	eq "before: port entries (4 per call)" "$(map_count xr_ports)" 8
	kill -KILL "$EPID"
	wait "$EPID" 2>/dev/null
	rm "$ST/c2.call"
	echo "engine $EPID killed (SIGKILL), c2's journal removed"
	engine_start --iface r0:xdp --iface r1:xdp --state-dir "$ST" \
		--adopt-grace-ms $grace || return 1
	CALL=c1
	mcmd info c2 >/dev/null
	eq "engine 2 does not know c2" "$(cat "$WORK/reply")" \
		"error: no session c2"
	eq "within the grace time: kernel flows" "$(map_count xr_flows)" 2
	totals "$WORK/totals" >/dev/null || return 1
	eq "within the grace time: port pairs in use (c1's, c2's held)" \
		"$(kv "$WORK/totals" ports_used)" 4
	i=0
	until totals "$WORK/totals" >/dev/null &&
		[ "$(kv "$WORK/totals" gc_flows)" != 0 ]; do
		i=$((i + 1))
		[ $i -lt 60 ] || break
		sleep 0.05
	done
	eq "engine 2: gc_flows (c2's)" "$(kv "$WORK/totals" gc_flows)" 1
	eq "engine 2: gc_ports (c2's)" "$(kv "$WORK/totals" gc_ports)" 4
	eq "engine 2: adopted (c1)" "$(kv "$WORK/totals" adopted)" 1
	eq "after the grace: port pairs in use (c1's; c2's in quarantine)" \
		"$(kv "$WORK/totals" ports_used)" 2
	eq "after the grace: kernel flows" "$(map_count xr_flows)" 1
	eq "after the grace: port entries" "$(map_count xr_ports)" 4
	fpx rly flow-get --local "$(ap "$RA" "$PA1")" --remote "$(ap $A 4000)" \
		>/dev/null
	eq "c1's flow stays (flow-get status)" $? 0
	check "c2's flow is gone" sh -c "! nsenter \
		--net=/run/netns/${T}rly $BUILD/xrelay-fp flow-get --pin-dir \
		$PIN --local $(ap "$RA" "$PA2") --remote $(ap $A 4002) \
		>/dev/null 2>&1"
	check "engine 2 logs what it removed" grep -q \
		"removed 1 kernel flows and 4 port entries of no known call" \
		"$WORK/engine2.err"
	wait $spid1; wait $spid2
	wait $rpid1; r1=$?
	wait $rpid2
	sed 's/^/b1: /' "$WORK/b1.recv"
	sed 's/^/b2: /' "$WORK/b2.recv"
	eq "B, c1: receiver status" $r1 0
	eq "B, c1: received (all)" "$(kv "$WORK/b1.recv" received)" $nr
	eq "B, c1: lost" "$(kv "$WORK/b1.recv" lost)" 0
	got2=$(kv "$WORK/b2.recv" received)
	check "B, c2: media stopped after the grace ($got2 of $nr)" \
		[ "${got2:-0}" -gt 0 -a "${got2:-0}" -lt $((nr - 25)) ]
	info "$WORK/info" || return 1
	eq "c1: leg A kernel_packets" "$(kv "$WORK/info" a.0.rtp.kernel_packets)" \
		$((nr - 1))
	for g in 1 2; do sed "s/^/engine $g log: /" "$WORK/engine$g.err"; done
}

# idle: the engine reports a call without media for --idle-ms once ("idle
# c1" on the driver's output), not again while it stays idle, and again
# after media came back and stopped once more.
case_idle() {
	topology 4 || return 1
	engine_start --iface r0:xdp --iface r1:xdp --idle-ms 800 || return 1
	call $A || return 1
	nsx a "$BUILD/rtpprobe" send --from "$(ap $A $APORT)" \
		--to "$(ap "$RA" "$PA")" --count 40 --rate 50 --size $SIZE \
		>/dev/null || return 1
	eq "no idle report while media flowed" \
		"$(grep -c '^idle c1$' "$MOUT")" 0
	i=0
	until grep -q '^idle c1$' "$MOUT" || [ $i -ge 60 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	eq "reported idle once media stopped for 800 ms" \
		"$(grep -c '^idle c1$' "$MOUT")" 1
	info "$WORK/info" >/dev/null || return 1
	eq "info: idle" "$(kv "$WORK/info" idle)" 1
	sleep 1.2
	eq "not reported again while it stays idle" \
		"$(grep -c '^idle c1$' "$MOUT")" 1
	nsx a "$BUILD/rtpprobe" send --from "$(ap $A $APORT)" \
		--to "$(ap "$RA" "$PA")" --count 10 --rate 50 --size $SIZE \
		>/dev/null || return 1
	info "$WORK/info" >/dev/null || return 1
	eq "info: not idle after media resumed" "$(kv "$WORK/info" idle)" 0
	i=0
	until [ "$(grep -c '^idle c1$' "$MOUT")" -ge 2 ] || [ $i -ge 80 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	eq "reported again after media resumed and stopped" \
		"$(grep -c '^idle c1$' "$MOUT")" 2
}

run_case media-xdp-both-ways case_xdp_both_ways
run_case media-tc-both-ways case_tc_both_ways
run_case media-rtp-stats-off case_rtp_stats_off
run_case media-ipv6 case_ipv6
run_case media-nat case_nat
run_case media-third-host-after-latch case_third_host_after_latch
run_case media-third-host-before-latch case_third_host_before_latch
run_case media-attach-off case_attach_off
run_case media-restart case_restart
run_case media-restart-gc case_restart_gc
run_case media-idle case_idle
finish
