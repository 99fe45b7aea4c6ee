#!/bin/sh
# bench_media: packets per second and CPU per packet of the relay's
# forwarding paths, XDP, TC and the socket path (attach mode off), and of
# the bare prototype XDP forwarder that issue 7 prices xrelay's XDP path
# against, on the same namespaces, in one run. A section of tools/bench.sh.
#
# Usage: tools/bench_media.sh OUT.json [SECONDS] [WINDOWS]     (as root)
#   OUT.json  the figures, a JSON list with one object per line (the
#             fragment format of tools/bench.sh)
#   SECONDS   length of one blast (default 2); WINDOWS blasts per path
#             (default 3): each figure is the median over the windows.
#
# Topology (IPv4 only; IPv6 is disabled in these namespaces: no DAD, no
# router or multicast chatter in the counters):
#
#   gen  g0 10.79.1.2 ------- r0 10.79.1.1  rly  r1 10.79.2.1 ------- s0 10.79.2.2  snk
#   gen  g1 10.79.3.2 ----------------------------------------------- s1 10.79.3.1  snk
#   gen  h0 --- h1  (left down: only holds the generator's program, see
#                    tools/bench_gen.c --hold-dev)
#
# The generator (build/bench_gen send) transmits a 214-byte RTP frame
# (12-byte RTP header + 160 bytes of G.711, UDP/IPv4/Ethernet) out of g0,
# from A 10.79.1.2:4000 to the relay's port for A, as fast as the relay
# takes them (BPF_PROG_TEST_RUN with live frames: about 6 Mpps here). The
# sink's s0 and s1 run an XDP program that drops every frame (bench_gen
# drop); the veth counts every frame it ran it on: delivered = the rise of
# s0's rx_packets. Neighbours on the sink link are permanent (the sink
# drops ARP too).
#
# For each path (xdp, tc, off) the media engine (build/xrelay-media) runs
# in rly with that attach mode on r0 and r1; one call goes through offer
# and answer (A: 10.79.1.2:4000, B: 10.79.2.2:5000) and is latched both
# ways by three packets from each side (rtpprobe send, A first), so that
# in the kernel modes the blast is forwarded by the kernel (the table
# shows how many the engine saw forwarded where).
#
# The bare path (run right after xdp, so that the two see the same
# machine): the yardstick of issue 7 ("within 1.3x of the bare
# prototype's cost with everything it adds: VLAN, IPv6, strict source,
# counters"). tools/bench_bare.bpf.c does only the IPv4/UDP 5-tuple lookup
# (a 12-byte key), the rewrite of addresses and ports, the incremental IP
# and UDP checksum updates, the MACs and bpf_redirect: no VLAN, IPv6, IP
# options, port table, TTL, counters or RTP statistics. The call is set
# up and latched exactly as for xdp (the engine with --iface r0:xdp
# --iface r1:xdp), its flows are copied out of xrelay's pinned xr_flows
# (build/bench_bare flows: the same key and rewrite, ifindex and MACs),
# the engine quits (xrelay detached, pins removed), and build/bench_bare
# attach puts the prototype on r0 in native XDP mode with those flows
# (it checks its rewrite of the call's frame against one built from
# scratch first), pinning nothing: it stays running, holding the
# attachment as a BPF link, until it is ended by pid. Same generator,
# frames, sink, windows and CPU accounting as xdp (its own process, which
# only sleeps, stands where the engine's was). The frames can reach s0
# only through it (rly does not forward, and nothing else is attached);
# r0's driver count of XDP redirects (ethtool -S) is printed against what
# the sink got. Skipped, loudly, when build/bench_bare is not built.
#
# Where the work runs: a veth schedules the receiving end's NAPI poll on
# the CPU that transmitted, and the generator transmits from its own
# process (pinned to the first CPU). So in the kernel modes the chain -
# generator, r0's poll with the XDP program (or the stack with the TC
# program), the redirect or transmit into s0's ring - runs one batch after
# the other in the generator's context on that CPU (or in its ksoftirqd):
# the generator never outruns the relay there, and "pps" is what one core
# does running the generator and the relay (and the sink's threads, see
# below). CPU per packet is the figure of the relay alone; 1e9 over it is
# what one core doing only relay work would forward (printed under the
# table). At the socket path r0's stack delivers to the engine's socket in
# the same way, and the engine (pinned to the last CPU) receives and sends
# on its own core; what it cannot keep up with is dropped at its socket:
# the loss.
#
# The sink is kept out of that: s0 and s1 use threaded NAPI, so their
# polls (the drop; for frames that arrive as skbs, at TC and at the socket
# path, also the copy veth makes to run XDP on them) run in their own
# kernel threads, napi/s0-N and napi/s1-N, pinned to the first CPU with a
# real-time priority (so that the generator, always runnable, cannot
# starve them into dropping at their ring). Their CPU is not the relay's
# and is not counted below.
#
# CPU: the machine is shared (2 cores here, and other work may run while
# this does), so the CPU is not taken from the whole host's /proc/stat but
# counted for our own tasks, to the nanosecond:
#
#   ours = the generator's own CPU time over its blast (bench_gen reports
#          CLOCK_PROCESS_CPUTIME_ID; with this kernel's tick-based
#          accounting that includes the softirq work run in its context:
#          r0's poll and everything the relay's kernel path does)
#        + the run time (/proc/PID/schedstat) of every thread of the
#          engine process (none in the baseline)
#        + the run time of every ksoftirqd (where softirq work goes when
#          there is too much of it; it may include a little of others'),
#          measured from just before the blast to 0.3 s after it.
#
# A baseline run first sends the same frames from g1 straight into the
# sink s1 (no relay): there ours/sent is what one frame costs the
# generator (its program, which writes the frame's headers back, and the
# transmit into the peer's ring), C_base (the median over its windows).
# For a path:
#
#   cpu_ns_per_packet = (ours - C_base * sent) / delivered
#
# i.e. SUBTRACTED is the generator's own cost of every frame it sent, as
# measured in the baseline; what remains is the relay's: r0's poll, the
# program or the stack and the engine, the transmit into s0's ring. At the
# socket path, with its loss, that includes the relay's cost of the
# packets it received and then dropped at its socket (as on a real relay).
# The baseline's own rate is printed too: what the generator reaches with
# nothing in the way. For a cross-check each window also prints the host's
# busy CPU time from /proc/stat (user+nice+system+irq+softirq, all CPUs):
# ours, the sink's, plus whatever else ran meanwhile.
#
# Figures: media.<path>.pps (packets/s delivered), .cpu_ns_per_packet
# (ns/packet), .loss (ratio: 1 - delivered/sent, sent = frames the
# generator ran), path xdp / bare / tc / userspace (mode off),
# media.kernel_vs_socket.pps_ratio (xdp pps / off pps) and
# media.xdp_vs_bare.cpu_ratio (xdp's CPU ns/packet / bare's; issue 7:
# at most 1.3).
#
# BENCH_MEDIA_DEBUG=1 also prints the engine's totals and the kernel's
# counters and flows after each path.
#
# Everything made is removed on exit, also on failure or a signal
# (namespaces with every process in them, by pid; the pin directory).
# Exit: 0 when at least one path was measured, 1 when none could be, 2 on
# a usage error.
set -u
OUT=${1:-}
SECS=${2:-2}
WINDOWS=${3:-3}
if [ -z "$OUT" ] || ! [ "$WINDOWS" -ge 1 ] 2>/dev/null ||
	! awk -v s="$SECS" 'BEGIN { exit !(s + 0 > 0 && s + 0 <= 60) }'; then
	echo "usage: tools/bench_media.sh OUT.json [SECONDS] [WINDOWS]" >&2
	exit 2
fi
cd "$(dirname "$0")/.." || exit 2
. tools/bench_lib.sh
bench_init bench_media xrelay-media xrelay-fp rtpprobe bench_gen
T=xrbm$$-                 # namespaces xrbm<pid>-gen, -rly, -snk
PIN=/sys/fs/bpf/xrbench-$$ # tools/bench.sh removes it if we are killed
W=$(mktemp -d "/tmp/xrbm$$.XXXXXX")
trap 'cleanup; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP

NCPU=$(nproc)
GCPU=0                    # the generator (and the kernel's work it triggers)
RCPU=$((NCPU - 1))        # the engine
HZ=$(getconf CLK_TCK)
PAYLOAD=160               # + 12 (RTP) + 8 + 20 + 14 = a 214-byte frame
A=10.79.1.2 RA=10.79.1.1 RB=10.79.2.1 SB=10.79.2.2 G1=10.79.3.2 S1=10.79.3.1
APORT=4000 BPORT=5000

# ---- topology ----------------------------------------------------------------

topology() {
	mkns gen rly snk || return 1
	for n in gen rly snk; do
		nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	veth gen g0 "$A/24" rly r0 "$RA/24" || return 1
	veth rly r1 "$RB/24" snk s0 "$SB/24" || return 1
	veth gen g1 "$G1/24" snk s1 "$S1/24" || return 1
	ip -n "${T}gen" link add h0 type veth peer name h1 || return 1
	# Frames the generator transmits into g0 are taken by r0 only if r0
	# runs NAPI: GRO on makes it so whatever the attach mode (an XDP
	# program would too); g0 likewise for what the relay sends to A.
	nsx rly ethtool -K r0 gro on >/dev/null || return 1
	nsx gen ethtool -K g0 gro on >/dev/null || return 1
	nsx snk "$BUILD/bench_gen" drop --dev s0 || return 1
	nsx snk "$BUILD/bench_gen" drop --dev s1 || return 1
	ip -n "${T}rly" neigh replace "$SB" lladdr "$(mac_of snk s0)" \
		nud permanent dev r1 || return 1
	ip -n "${T}snk" neigh replace "$RB" lladdr "$(mac_of rly r1)" \
		nud permanent dev s0 || return 1
	link_ready gen g0 g1 && link_ready rly r0 r1 &&
		link_ready snk s0 s1 || return 1
	S0_THREAD=$(threaded snk s0) && S1_THREAD=$(threaded snk s1) ||
		return 1
	G0MAC=$(mac_of gen g0) G1MAC=$(mac_of gen g1)
	R0MAC=$(mac_of rly r0) S1MAC=$(mac_of snk s1)
}

# ---- the engine ----------------------------------------------------------------

EPID=""
# engine_start MODE: the engine on r0 and r1 (pinned to the relay's CPU),
# driven through the fifo on fd 3; its replies in $W/eng.out.
engine_start() {
	rm -f "$W/ctl"
	mkfifo "$W/ctl" || return 1
	exec 3<>"$W/ctl"
	: >"$W/eng.out"
	taskset -c "$RCPU" nsenter --net="/run/netns/${T}rly" \
		"$BUILD/xrelay-media" --iface "r0:$1" --iface "r1:$1" \
		--pin-dir "$PIN" --ports 30000-30099 \
		<"$W/ctl" >"$W/eng.out" 2>"$W/eng.err" &
	EPID=$!
	PIDS="$PIDS $EPID"
	wait_ready "$EPID" "$W/eng.out" "xrelay-media ($1)"
}

# ctl COMMAND...: one command; its reply lines in $W/reply.
ctl() {
	n0=$(wc -l <"$W/eng.out")
	echo "$*" >&3
	i=0
	while [ $i -lt 250 ]; do
		tail -n +$((n0 + 1)) "$W/eng.out" >"$W/reply"
		if grep -qE '^(ok|error)' "$W/reply"; then
			grep -q '^ok$' "$W/reply" && return 0
			fail "engine: $* -> $(grep '^error' "$W/reply")"
			return 1
		fi
		sleep 0.02
		i=$((i + 1))
	done
	fail "engine: no reply to '$*' in 5 s"
}

engine_stop() {
	[ -n "$EPID" ] || return 0
	echo quit >&3 2>/dev/null
	i=0
	while kill -0 "$EPID" 2>/dev/null && [ $i -lt 60 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	kill "$EPID" 2>/dev/null
	wait "$EPID" 2>/dev/null
	exec 3>&-
	EPID=""
	"$BUILD/xrelay-fp" unpin --pin-dir "$PIN" >/dev/null 2>&1
	rm -rf "$PIN"
}

# call: offer (A) and answer (B) through the engine; PA, PB: the relay's
# ports A and B are told to send to.
call() {
	cat >"$W/a.sdp" <<EOF
v=0
o=a 1 1 IN IP4 $A
s=bench
c=IN IP4 $A
t=0 0
m=audio $APORT RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=sendrecv
EOF
	cat >"$W/b.sdp" <<EOF
v=0
o=b 1 1 IN IP4 $SB
s=bench
c=IN IP4 $SB
t=0 0
m=audio $BPORT RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=sendrecv
EOF
	ctl hint c1 B "$SB:5060" &&
		ctl offer c1 A "$A:5060" "$W/a.sdp" "$W/to-b.sdp" &&
		ctl answer c1 B "$SB:5060" "$W/b.sdp" "$W/to-a.sdp" || return 1
	PA=$(awk '/^m=audio/ {print $2}' "$W/to-a.sdp")
	PB=$(awk '/^m=audio/ {print $2}' "$W/to-b.sdp")
	if [ -z "$PA" ] || [ -z "$PB" ]; then
		fail "no relay ports in the SDP"
		return 1
	fi
}

# latch: three packets from A, then three from B; until the engine shows
# both legs latched.
latch() {
	nsx gen "$BUILD/rtpprobe" send --from "$A:$APORT" --to "$RA:$PA" \
		--count 3 --rate 100 --size $((PAYLOAD + 12)) >/dev/null || return 1
	nsx snk "$BUILD/rtpprobe" send --from "$SB:$BPORT" --to "$RB:$PB" \
		--count 3 --rate 100 --size $((PAYLOAD + 12)) >/dev/null || return 1
	i=0
	while [ $i -lt 40 ]; do
		ctl info c1 || return 1
		[ "$(kv "$W/reply" a.0.rtp.latched)" = "$A:$APORT" ] &&
			[ "$(kv "$W/reply" b.0.rtp.latched)" = "$SB:$BPORT" ] &&
			return 0
		sleep 0.05
		i=$((i + 1))
	done
	fail "the call did not latch both ways: $(grep 'latched' "$W/reply" | tr '\n' ' ')"
}

# ---- measuring ------------------------------------------------------------------

# busy_ns: busy time of all CPUs from /proc/stat, in ns.
busy_ns() {
	awk -v hz="$HZ" '$1 == "cpu" {
		printf "%.0f\n", ($2 + $3 + $4 + $7 + $8) * 1e9 / hz }' /proc/stat
}

# blast DEV SRCMAC DSTMAC FROM TO SINKIF SINKTHREAD RESULTS PID...: one
# window; a line "sent elapsed_ns gen_cpu_ns delivered tasks_ns
# host_busy_ns sink_ns" is appended to RESULTS (tasks_ns: the run time of
# the PIDs and of every ksoftirqd; sink_ns: of the sink's NAPI thread).
blast() {
	dev=$1 smac=$2 dmac=$3 from=$4 to=$5 sink=$6 sth=$7 res=$8
	shift 8
	# shellcheck disable=SC2086 # KSOFT: a list of pids
	d0=$(rx snk "$sink") t0=$(task_ns "$@" $KSOFT) b0=$(busy_ns)
	s0=$(task_ns "$sth")
	taskset -c "$GCPU" nsenter --net="/run/netns/${T}gen" \
		"$BUILD/bench_gen" send --dev "$dev" --src-mac "$smac" \
		--dst-mac "$dmac" --from "$from" --to "$to" \
		--payload $PAYLOAD --seconds "$SECS" --hold-dev h0 \
		>"$W/gen.out" || return 1
	sleep 0.3 # what sits in socket buffers still goes through
	# shellcheck disable=SC2086
	d1=$(rx snk "$sink") t1=$(task_ns "$@" $KSOFT) b1=$(busy_ns)
	s1=$(task_ns "$sth")
	echo "$(kv "$W/gen.out" frames) $(kv "$W/gen.out" elapsed_ns)" \
		"$(kv "$W/gen.out" cpu_ns) $((d1 - d0)) $((t1 - t0))" \
		"$((b1 - b0)) $((s1 - s0))" >>"$res"
	tail -n 1 "$res" | awk '{
		printf "  window: sent %d, delivered %d (%.0f pps); CPU ms: ours %.0f (generator %.0f, engine+ksoftirqd %.0f), sink %.0f, host busy %.0f\n",
		$1, $4, $4 * 1e9 / $2, ($3 + $5) / 1e6, $3 / 1e6, $5 / 1e6, $7 / 1e6, $6 / 1e6 }'
}

# medians RESULTS [C_BASE]: "pps cpu_ns_per_packet loss ours_per_sent
# cores n": medians over the windows (cpu_ns_per_packet as described at
# the top, with C_BASE, default 0; cores: (ours + sink) / elapsed, the
# CPU our tasks got) and the number of windows.
medians() {
	awk -v cb="${2:-0}" '{ pps[NR] = $4 * 1e9 / $2
	       cpu[NR] = $4 > 0 ? ($3 + $5 - cb * $1) / $4 : 0
	       l = $1 > 0 ? 1 - $4 / $1 : 0; loss[NR] = l < 0 ? 0 : l
	       per[NR] = $1 > 0 ? ($3 + $5) / $1 : 0
	       cores[NR] = ($3 + $5 + $7) / $2 }
	function med(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END { if (NR) printf "%.0f %.1f %.6f %.1f %.2f %d\n", med(pps, NR),
		med(cpu, NR), med(loss, NR), med(per, NR), med(cores, NR), NR }' "$1"
}

# ---- the bare prototype -------------------------------------------------------

BPID=""
# bare_start: the call's flows out of xrelay's pinned map, the engine
# stopped, build/bench_bare attached to r0 with them (see the top); its
# program's id in BARE_PROG.
bare_start() {
	nsx rly "$BUILD/bench_bare" flows --pin-dir "$PIN" >"$W/bare.flows" \
		2>"$W/bare.err" || { fail "cannot read xrelay's flows"; return 1; }
	engine_stop
	# shellcheck disable=SC2046 # one --flow argument per line
	set -- $(sed 's/^/--flow /' "$W/bare.flows")
	: >"$W/bare.out"
	taskset -c "$RCPU" nsenter --net="/run/netns/${T}rly" \
		"$BUILD/bench_bare" attach --dev r0 "$@" \
		>"$W/bare.out" 2>"$W/bare.err" &
	BPID=$!
	PIDS="$PIDS $BPID"
	wait_ready "$BPID" "$W/bare.out" bench_bare || return 1
	BARE_PROG=$(kv "$W/bare.out" prog_id)
	# Native mode, and ours: "prog/xdpgeneric" would be the generic hook.
	if ! ip -n "${T}rly" link show dev r0 |
		grep -q "prog/xdp id $BARE_PROG "; then
		fail "r0 does not run the bare program natively:" \
			"$(ip -n "${T}rly" link show dev r0 | grep prog/)"
		return 1
	fi
}

# bare_stop: end bench_bare by its pid: that detaches the program.
bare_stop() {
	[ -n "$BPID" ] || return 0
	kill "$BPID" 2>/dev/null
	wait "$BPID" 2>/dev/null
	# shellcheck disable=SC2086 # PIDS: a list of pids
	PIDS=$(printf '%s\n' $PIDS | grep -vx "$BPID" | tr '\n' ' ')
	BPID=""
}

# xdp_redirects NS IF: the frames the XDP program on the veth IF
# redirected (the driver's count, summed over its queues).
xdp_redirects() {
	nsx "$1" ethtool -S "$2" 2>/dev/null |
		awk '$1 ~ /^rx_queue_[0-9]+_xdp_redirect:$/ { s += $2 }
		     END { printf "%.0f\n", s }'
}

# path MODE: one path's windows; its medians in $W/MODE.med, the attach
# mode it really got in $W/MODE.got, the engine's counters in $W/MODE.info
# (for bare: the driver's and the sink's counts). MODE bare: the engine
# sets the call up in mode xdp, then the bare prototype forwards it.
path() {
	mode=$1 emode=$1 pid=""
	[ "$mode" = bare ] && emode=xdp
	say ""
	if [ "$mode" = bare ]; then
		say "-- path bare: the call set up by the engine with --iface r0:xdp" \
			"--iface r1:xdp, then forwarded by the bare prototype on r0"
	else
		say "-- path $mode: engine with --iface r0:$mode --iface r1:$mode"
	fi
	engine_start "$emode" || return 1
	call || return 1
	latch || return 1
	ctl totals || return 1
	got=$(kv "$W/reply" iface.r0)
	[ "$(kv "$W/reply" iface.r1)" = "$got" ] ||
		got="r0:$got,r1:$(kv "$W/reply" iface.r1)"
	echo "$got" >"$W/$mode.got"
	[ "$got" = "$emode" ] || say "  WARNING: asked for $emode, got $got"
	say "  call latched: A $A:$APORT -> relay $RA:$PA | relay $RB:$PB -> B $SB:$BPORT"
	if [ "$mode" = bare ]; then
		[ "$got" = xdp ] || { fail "no native XDP here"; return 1; }
		bare_start || return 1
		say "  xrelay detached; bench_bare (prog id $BARE_PROG) on r0 with" \
			"$(wc -l <"$W/bare.flows") flows: $(tr '\n' ' ' <"$W/bare.flows")"
		pid=$BPID
		rd0=$(xdp_redirects rly r0)
	else
		pid=$EPID
	fi
	: >"$W/$mode.res"
	w=0
	while [ $w -lt "$WINDOWS" ]; do
		blast g0 "$G0MAC" "$R0MAC" "$A:$APORT" "$RA:$PA" s0 \
			"$S0_THREAD" "$W/$mode.res" "$pid" || return 1
		w=$((w + 1))
	done
	if [ "$mode" = bare ]; then
		rd=$(($(xdp_redirects rly r0) - rd0))
		awk -v rd="$rd" '{ s += $1; d += $4 }
			END { printf "sent=%d\ndelivered=%d\nredirected=%d\n", s, d, rd }' \
			"$W/bare.res" >"$W/bare.info"
		say "  r0's driver: $rd frames redirected by the bare program;" \
			"the sink got $(kv "$W/bare.info" delivered) of" \
			"$(kv "$W/bare.info" sent) sent"
		bare_stop
		medians "$W/$mode.res" "$C_BASE" >"$W/$mode.med"
		if [ "$rd" -le 0 ] || [ "$(kv "$W/bare.info" delivered)" -le 0 ]; then
			rm -f "$W/$mode.med"
			fail "the bare program forwarded nothing"
			return 1
		fi
		return 0
	fi
	ctl info c1 || return 1
	cp "$W/reply" "$W/$mode.info"
	if [ -n "${BENCH_MEDIA_DEBUG:-}" ]; then
		ctl totals && grep -v '=0$' "$W/reply" | sed 's/^/  totals: /'
		"$BUILD/xrelay-fp" stats --pin-dir "$PIN" 2>/dev/null |
			awk 'NR == 1 || $2 > 0'
		"$BUILD/xrelay-fp" flow-list --pin-dir "$PIN" 2>/dev/null
	fi
	medians "$W/$mode.res" "$C_BASE" >"$W/$mode.med"
	engine_stop
}

# ---- the run -------------------------------------------------------------------

say "media: ${WINDOWS} windows of ${SECS} s per path; 214-byte RTP frames;" \
	"generator on cpu$GCPU, engine on cpu$RCPU"
[ "$NCPU" -ge 2 ] ||
	say "  WARNING: one CPU only: the engine shares it with the generator"
topology || { fail "cannot build the namespaces"; exit 1; }

say ""
say "-- baseline: the generator straight into the sink (g1 -> s1), no relay"
: >"$W/base.res"
w=0
while [ $w -lt "$WINDOWS" ]; do
	blast g1 "$G1MAC" "$S1MAC" "$G1:$APORT" "$S1:$BPORT" s1 \
		"$S1_THREAD" "$W/base.res" ||
		{ fail "the generator does not run"; exit 1; }
	w=$((w + 1))
done
medians "$W/base.res" >"$W/base.med"
read -r BASE_PPS _ BASE_LOSS C_BASE BASE_CORES _ <"$W/base.med"
say "  generator: $C_BASE ns per frame (C_base), loss $BASE_LOSS"

ran=""
for m in xdp bare tc off; do
	if [ "$m" = bare ] && [ ! -x "$BUILD/bench_bare" ]; then
		fail "$BUILD/bench_bare is missing (make bench builds it):" \
			"no bare path, no xdp vs bare ratio"
		continue
	fi
	if path "$m"; then
		ran="$ran $m"
	else
		fail "path $m could not be measured"
		sed 's/^/  engine: /' "$W/eng.err" 2>/dev/null | tail -n 20 >&2
		[ "$m" = bare ] &&
			sed 's/^/  bench_bare: /' "$W/bare.err" 2>/dev/null >&2
		bare_stop
		engine_stop
	fi
done
[ -n "$ran" ] || { fail "no path could be measured"; exit 1; }

# ---- figures -----------------------------------------------------------------
{
	echo "["
	first=1
	for m in $ran; do
		p=$(name_of "$m")
		read -r pps cpu loss _ cores n <"$W/$m.med"
		for f in "pps $pps packets/s" "cpu_ns_per_packet $cpu ns/packet" \
			 "loss $loss ratio"; do
			# shellcheck disable=SC2086 # split into its words
			set -- $f
			[ $first = 1 ] || echo ","
			first=0
			printf '{"name": "media.%s.%s", "value": %s, "unit": "%s", "path": "%s", "n": %s}' \
				"$p" "$1" "$2" "$3" "$p" "$n"
		done
	done
	if [ -s "$W/xdp.med" ] && [ -s "$W/bare.med" ]; then
		awk 'NR == FNR { x = $2; n = $6; next }
		     { if ($2 > 0) printf ",\n{\"name\": \"media.xdp_vs_bare.cpu_ratio\", \"value\": %.3f, \"unit\": \"ratio\", \"path\": \"xdp\", \"n\": %d}", x / $2, n }' \
			"$W/xdp.med" "$W/bare.med"
	fi
	if [ -s "$W/xdp.med" ] && [ -s "$W/off.med" ]; then
		awk 'NR == FNR { x = $1; n = $6; next }
		     { if ($1 > 0) printf ",\n{\"name\": \"media.kernel_vs_socket.pps_ratio\", \"value\": %.3f, \"unit\": \"ratio\", \"path\": \"xdp\", \"n\": %d}", x / $1, n }' \
			"$W/xdp.med" "$W/off.med"
	fi
	printf '\n]\n'
} >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"

say ""
printf '%-10s %-10s %10s %14s %8s %6s  %s\n' path "attach got" "pps" \
	"CPU ns/packet" loss cores "forwarded by (engine counters, A -> B)"
for m in $ran; do
	read -r pps cpu loss _ cores n <"$W/$m.med"
	if [ "$m" = bare ]; then
		by="bare program (r0's XDP redirects) $(kv "$W/bare.info" redirected)"
	else
		by="kernel $(kv "$W/$m.info" a.0.rtp.kernel_packets), userspace $(kv "$W/$m.info" a.0.rtp.user_packets)"
	fi
	printf '%-10s %-10s %10.0f %14.1f %8.4f %6.2f  %s\n' \
		"$(name_of "$m")" "$(cat "$W/$m.got")" "$pps" "$cpu" "$loss" \
		"$cores" "$by"
done
if [ -s "$W/xdp.med" ] && [ -s "$W/bare.med" ]; then
	awk 'NR == FNR { x = $2; next } $2 > 0 {
		printf "xdp vs bare: %.2f x the CPU per packet (issue 7: <= 1.3)\n", x / $2 }' \
		"$W/xdp.med" "$W/bare.med"
fi
if [ -s "$W/xdp.med" ] && [ -s "$W/off.med" ]; then
	awk 'NR == FNR { x = $1; next } $1 > 0 {
		printf "kernel (xdp) vs socket path: %.1f x the packets per second\n", x / $1 }' \
		"$W/xdp.med" "$W/off.med"
fi
line=""
for m in $ran; do
	read -r pps cpu loss _ cores n <"$W/$m.med"
	v=$(awk -v c="$cpu" 'BEGIN { if (c > 0) printf "%.2f", 1e3 / c }')
	[ -n "$v" ] && line="$line${line:+, }$(name_of "$m") $v Mpps"
done
[ -n "$line" ] && say "one core of relay work alone (1e9 / CPU ns/packet): $line"
printf 'baseline (generator straight into the sink, no relay): %.0f pps, %s ns/frame, %s cores\n' \
	"$BASE_PPS" "$C_BASE" "$BASE_CORES"
say "CPU ns/packet: the relay's CPU per delivered packet: our tasks' CPU minus" \
	"the baseline's cost of each frame sent (see the top of tools/bench_media.sh)."
say "cores: the CPU our tasks got (generator, kernel work, engine, sink);" \
	"below 1 in the kernel modes, other work on the generator's core held pps down."
exit 0
