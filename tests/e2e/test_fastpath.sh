#!/bin/sh
# End-to-end: the in-kernel fast path between real peers, without the daemon.
#
#   snd  s0 10.71.1.2 fd71:1::2 --- r0 10.71.1.1 fd71:1::1  rly
#   rly  r1 10.71.2.1 fd71:2::1 --- c0 10.71.2.2 fd71:2::2  rcv
#
# The relay (rly) gets xrelay's program on both of its veths and one flow,
# put in by hand with xrelay-fp: packets from the sender (snd, port 40000)
# to the relay's port 30000 leave towards the receiver (rcv, port 50000)
# from the relay's port 30002. The sender sends an RTP stream with TTL 9;
# each case asserts what a carrier would look at: every packet arrived, from
# the rewritten source, with TTL 64 and checksums that are right when
# recomputed from scratch on the receiver's wire (rtpprobe --iface), and the
# kernel's own counters (flow, per-reason stats, bpftool's view of the map)
# say that it was the program that forwarded them.
. "$(dirname "$0")/lib.sh"

N=50          # packets per stream
SIZE=172      # RTP: 12 bytes of header + 160 bytes of G.711 (20 ms)
RATE=500      # packets per second: 0.1 s per stream
LPORT=30000   # the relay's port towards the sender (the flow's local)
SPORT=40000   # the sender's port (the flow's remote)
OPORT=30002   # the relay's port towards the receiver (the rewritten source)
DPORT=50000   # the receiver's port

need_bins xrelay-fp rtpprobe

# The addresses of one family: SND (sender), RIN (relay, sender side),
# ROUT (relay, receiver side), RCV (receiver), HDR (IP + UDP header bytes).
family() {
	if [ "$1" = 4 ]; then
		SND=10.71.1.2 RIN=10.71.1.1 ROUT=10.71.2.1 RCV=10.71.2.2 HDR=28
	else
		SND=fd71:1::2 RIN=fd71:1::1 ROUT=fd71:2::1 RCV=fd71:2::2 HDR=48
	fi
}

topology() {
	mkns snd rly rcv || return 1
	veth snd s0 10.71.1.2/24 rly r0 10.71.1.1/24 || return 1
	veth rly r1 10.71.2.1/24 rcv c0 10.71.2.2/24 || return 1
	addr snd s0 fd71:1::2/64 || return 1
	addr rly r0 fd71:1::1/64 || return 1
	addr rly r1 fd71:2::1/64 || return 1
	addr rcv c0 fd71:2::2/64 || return 1
	# A native XDP redirect into a veth is delivered only if the PEER of
	# the egress veth (here c0, the receiver's end) runs NAPI, which it
	# does with an XDP program attached or with GRO on; otherwise the
	# frames are dropped silently. We turn GRO on rather than attach
	# xrelay's program to c0: the receiver stands for a real peer and
	# must not run the relay's code, and a second attachment would share
	# the pinned xr_stats map and muddy the per-reason counters asserted
	# below. (In TC mode it makes no difference.)
	nsx rcv ethtool -K c0 gro on >/dev/null || return 1
	workdir
}

# hooked MODE: xrelay's program sits on both relay veths at that hook
# (native XDP, not a generic fallback; or the TC ingress filter).
hooked() {
	for d in r0 r1; do
		case $1 in
		xdp) ip -n "${T}rly" link show "$d" | grep -q 'prog/xdp id' ;;
		tc) tc -n "${T}rly" filter show dev "$d" ingress |
			grep -q 'xrelay_tc' ;;
		esac || return 1
	done
}

# install MODE FAMILY [fib]: attach the program to both relay veths and put
# in the flow snd -> relay -> rcv.
install() {
	fpx rly attach --dev r0 --dev r1 --mode "$1" || return 1
	check "xrelay's program at the $1 hook of r0 and r1" hooked "$1"
	family "$2"
	if [ "${3:-}" = fib ]; then
		# bpf_fib_lookup refuses to answer (FWD_DISABLED) unless
		# forwarding is on for the ingress device, and answers
		# NO_NEIGH (the packet goes to the stack) until the next hop is
		# resolved: a permanent entry makes the first packet take the
		# fast path too.
		nsx rly sysctl -qw net.ipv4.conf.all.forwarding=1 \
			net.ipv6.conf.all.forwarding=1 || return 1
		ip -n "${T}rly" neigh replace "$RCV" lladdr "$(mac_of rcv c0)" \
			dev r1 nud permanent || return 1
		set -- --fib
	else
		set -- --out-dev r1 --smac "$(mac_of rly r1)" \
			--dmac "$(mac_of rcv c0)"
	fi
	fpx rly flow-add --local "$(ap "$RIN" $LPORT)" \
		--remote "$(ap "$SND" $SPORT)" --src "$(ap "$ROUT" $OPORT)" \
		--dst "$(ap "$RCV" $DPORT)" "$@" || return 1
}

# stream FROM_PORT COUNT OUT WANT: the receiver (capturing on c0) and the
# sender, one stream; the receiver's key=value summary goes to OUT. WANT
# is the count the receiver waits for (0: it listens 2 s for nothing).
stream() {
	if [ "$4" -eq 0 ]; then t=2; else t=10; fi
	bg rcv "$BUILD/rtpprobe" recv --port $DPORT --count "$4" --timeout $t \
		--expect-src "$(ap "$ROUT" $OPORT)" --iface c0 >"$3"
	rpid=$!
	wait_udp rcv $DPORT || return 1
	nsx snd "$BUILD/rtpprobe" send --to "$(ap "$RIN" $LPORT)" \
		--from "$(ap "$SND" "$1")" --count "$2" --rate $RATE \
		--size $SIZE --ssrc 0x1234abcd --pt 8 --seq 65500 --ttl 9 \
		>"$3.send" || return 1
	wait "$rpid"
	rrc=$?
	sed 's/^/rcv: /' "$3"
	return 0
}

stat_of() { fp stats | awk -v r="$1" -v c="${2:-2}" '$1 == r { print $c }'; }

# What the receiver saw and what the kernel counted, after N packets.
check_forwarded() {
	out=$1 ip_bytes=$((N * (HDR + SIZE)))
	eq "receiver exit status" "$rrc" 0
	eq "received" "$(kv "$out" received)" $N
	eq "source seen by the receiver (rewritten)" "$(kv "$out" src)" \
		"$(ap "$ROUT" $OPORT)"
	eq "packets from another source" "$(kv "$out" foreign)" 0
	eq "RTP ssrc kept" "$(kv "$out" ssrc)" 0x1234abcd
	eq "RTP pt kept" "$(kv "$out" pt)" 8
	eq "RTP first_seq" "$(kv "$out" first_seq)" 65500
	eq "RTP last_seq (wrapped)" "$(kv "$out" last_seq)" \
		$(((65500 + N - 1) % 65536))
	eq "RTP lost" "$(kv "$out" lost)" 0
	eq "frames captured on c0" "$(kv "$out" cap_frames)" $N
	eq "checksums right from scratch (IPv4 header, UDP)" \
		"$(kv "$out" csum_ok)" $N
	eq "checksums wrong" "$(kv "$out" csum_bad)" 0
	eq "partial checksums on the wire" "$(kv "$out" csum_partial)" 0
	eq "TTL / hop limit (sent with 9)" "$(kv "$out" ttl)" 64

	fpx rly flow-get --local "$(ap "$RIN" $LPORT)" \
		--remote "$(ap "$SND" $SPORT)" >"$WORK/flow" || {
		check "flow-get finds the flow" false
		return 1
	}
	sed 's/^/flow: /' "$WORK/flow"
	eq "flow packets" "$(kv "$WORK/flow" packets)" $N
	eq "flow bytes (IP packets)" "$(kv "$WORK/flow" bytes)" $ip_bytes
	check "flow last_seen_ns is set" [ "$(kv "$WORK/flow" last_seen_ns)" -gt 0 ]

	fp stats | sed 's/^/stats: /'
	eq "stats fwd_redirect packets" "$(stat_of fwd_redirect)" $N
	eq "stats fwd_redirect bytes" "$(stat_of fwd_redirect 3)" $ip_bytes
	eq "stats pass_error" "$(stat_of pass_error)" 0

	bpftool map dump pinned "$PIN/xr_flows" >"$WORK/dump" || {
		check "bpftool map dump pinned xr_flows" false
		return 1
	}
	check "bpftool shows named fields (src_port)" \
		grep -q '"src_port": ' "$WORK/dump"
	check "bpftool shows the entry's packets = $N" \
		grep -q "\"packets\": $N,\$" "$WORK/dump"
}

# forward MODE FAMILY [fib]: one stream through the fast path.
forward() {
	topology || return 1
	install "$@" || return 1
	stream $SPORT $N "$WORK/rcv" $N || return 1
	check_forwarded "$WORK/rcv"
}

case_xdp_ipv4() { forward xdp 4; }
case_xdp_ipv6() { forward xdp 6; }
case_tc_ipv4() { forward tc 4; }
case_tc_ipv6() { forward tc 6; }
case_xdp_fib_ipv4() { forward xdp 4 fib; }
case_tc_fib_ipv6() { forward tc 6 fib; }

# Strict source: once the port is latched and strict, a packet from any
# other source (here the sender's port 40001) is not delivered: dropped in
# the kernel, a rate-limited sample passed up to the relay's stack.
case_strict_source() {
	m=20
	topology || return 1
	install xdp 4 || return 1
	fpx rly port-add --local "$(ap "$RIN" $LPORT)" --strict || return 1
	stream $SPORT $N "$WORK/rcv" $N || return 1
	check_forwarded "$WORK/rcv"
	stream $((SPORT + 1)) $m "$WORK/foreign" 0 || return 1
	eq "receiver status: nothing from the foreign source" "$rrc" 0
	eq "foreign packets received" "$(kv "$WORK/foreign" received)" 0
	eq "foreign frames on c0" "$(kv "$WORK/foreign" cap_frames)" 0
	fp stats | sed 's/^/stats: /'
	drop=$(stat_of drop_foreign_source)
	sample=$(stat_of pass_foreign_sample)
	eq "drop_foreign_source + pass_foreign_sample" \
		$((drop + sample)) $m
	check "drop_foreign_source > 0 (got $drop)" [ "$drop" -gt 0 ]
	check "pass_foreign_sample > 0, rate-limited (got $sample)" \
		[ "$sample" -gt 0 -a "$sample" -lt $m ]
	eq "stats fwd_redirect unchanged" "$(stat_of fwd_redirect)" $N
	eq "flow packets unchanged" "$(fpx rly flow-get \
		--local "$(ap "$RIN" $LPORT)" --remote "$(ap "$SND" $SPORT)" |
		sed -n 's/^packets=//p')" $N
}

run_case fastpath-xdp-ipv4 case_xdp_ipv4
run_case fastpath-xdp-ipv6 case_xdp_ipv6
run_case fastpath-tc-ipv4 case_tc_ipv4
run_case fastpath-tc-ipv6 case_tc_ipv6
run_case fastpath-xdp-fib-ipv4 case_xdp_fib_ipv4
run_case fastpath-tc-fib-ipv6 case_tc_fib_ipv6
run_case fastpath-strict-source case_strict_source
finish
