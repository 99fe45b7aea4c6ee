#!/bin/sh
# bench_density: how many calls a relay carries, and what each of its
# packets costs, with 1,000 to 100,000 calls up at once: xrelay (XDP, TC,
# its socket path), the bare XDP prototype (what the machine allows an
# XDP relay), rtpengine (userspace) and a plain recvmmsg/sendmmsg relay,
# side by side in one run. A section of tools/bench.sh.
#
# Usage: tools/bench_density.sh OUT.json [SECONDS] [WINDOWS]     (as root)
#   OUT.json  the figures (the fragment format of tools/bench.sh; each
#             object also carries "calls", the concurrent calls, and
#             "attach", the attach mode the run really had). Beside it
#             OUT.png (gnuplot: packets/s and CPU per packet against the
#             calls, one curve per path) when gnuplot is installed.
#   SECONDS   one maximum-rate window (default 1.5); WINDOWS per point
#             (default 2): a figure is the median over the windows.
#   BENCH_DENSITY_CALLS  the numbers of calls (default "1000 10000 100000")
#   BENCH_DENSITY_PATHS  the paths (default "xdp bare bare-array tc off
#                        rtpengine udprelay"; bare and bare-array need
#                        build/bench_bare)
#
# Topology (IPv4 only; IPv6 off in these namespaces), G address groups
# g = 0..G-1 (12,500 calls each, see below):
#
#   gen  g0 10.81.g.2 ---- r0 10.81.g.1  rly  r1 10.82.g.1 ---- s0 10.82.g.2  snk
#   gen  g1 10.83.0.2 ------------------------------------------ s1 10.83.0.1  snk
#   gen  h0 --- h1,  snk k0 --- k1   (left down: hold the generators'
#                                      programs, see bench_gen --hold-dev)
#
# Peers A are in gen (10.81.g.2, RTP port 2000 + 2j for call j of group g),
# peers B in snk (10.82.g.2, the same ports). The relay runs in rly, pinned
# to the last CPU; the generators (build/bench_gen send --streams: XDP
# live frames, one template per stream, round robin) run on the first CPU.
# Every frame is a 214-byte RTP frame (12-byte header, 160 bytes of
# G.711) with its stream's SSRC and advancing sequence numbers and
# timestamps, and the generator's clock in its payload. s0 (frames for B),
# g0 (frames for A) and s1 (the baseline's) run an XDP program that drops
# and counts every frame; their NAPI runs in threads of its own (pinned
# to the first CPU, real-time priority), outside of the relay's CPU. The
# relay's neighbours are permanent entries (the sinks drop ARP).
#
# Each path, for each number of calls N:
#   1. the relay starts: xrelayd (--iface r0:MODE --iface r1:MODE,
#      --ng-listen, no call journal), rtpengine 10.5 (--table=-1: no
#      kernel module; interfaces a = 10.81.0.1, b = 10.82.0.1) or
#      build/bench_udprelay (static: a socket per relay port, recvmmsg and
#      sendmmsg; BENCH_DENSITY_UDPRELAY_MODE=steer: one socket per relay
#      address through sk_lookup, see tools/bench_udprelay.c - here such
#      a socket stopped taking packets under overload, see below).
#   2. N calls are set up through the relay's own control path: the ng
#      protocol (build/bench_ng: offer from A, answer from B, pipelined;
#      the same client and the same calls for xrelayd and rtpengine); the
#      static relay gets its table from a file instead.
#   3. latching, as calls come in: the media of WAVE calls at a time
#      starts (each stream 3 packets at 50 packets/s, both ways at once),
#      wave after wave, so that new calls arrive at CALL_RATE (2,500/s;
#      BENCH_DENSITY_CALL_RATE). The first packet of each stream reaches
#      the daemon, which latches the peer and (xdp/tc) installs the kernel
#      flow. From the kernel flows' packet counters: the share of streams
#      whose 2nd packet was the kernel's first ("2nd in kern"), and the
#      packet the kernel took over at, p99 (1-based; as time: (packet - 1)
#      x 20 ms). Streams not latched by then are given more single packets
#      (top-up rounds) until every flow is in the kernel. The daemon's CPU
#      time over the waves per stream is printed too (what latching a
#      stream costs it). The socket paths get one packet per stream each
#      way.
#   4. memory: the daemon's VmRSS before and after the calls, per call;
#      (xrelay) kernel memory per call: the memlock of the IPv4 port
#      array and the port table (bpftool map show) per entry, times the
#      entries a call uses (4 ports each; its 2 flows live in its ports'
#      array entries); memlock_bytes: those and the 5-tuple table (IPv6
#      flows; preallocated).
#   5. maximum rate: A->B over all N streams as fast as the relay takes
#      them, WINDOWS windows of SECONDS; packets/s delivered at s0, loss
#      (1 - delivered/sent: what the relay could not take) and the
#      relay's CPU per delivered packet.
#   6. fixed rate: 50 packets/s per stream per direction (N = 10,000:
#      1 Mpps in all) for 2 s, both generators at once (in 0.5-ms
#      chunks); packets/s offered (what the generators reached), loss,
#      CPU per delivered packet. Below full load a relay handles fewer
#      packets per wake-up, so this costs more per packet than 5.
#
#   Where the work runs, and the CPU: r0's and r1's NAPI run in threads of
#   their own (threaded NAPI), pinned to the relay's CPU (at real-time
#   priority in the kernel modes, as softirq work would run; at the
#   relay's nice level next to a userspace relay): so the relay's
#   whole work - the XDP program and the redirect, or the stack with the
#   TC program, or the stack, the socket and the daemon - runs in the
#   relay's own tasks on one core, and its CPU is the run time of exactly
#   those tasks (/proc/PID/task/*/schedstat: those two threads, every
#   thread of the relay's process, the relay CPU's ksoftirqd), to the
#   nanosecond, whatever else the machine runs. Nothing of the
#   generators' is in it, so nothing is subtracted (tools/bench_media.sh
#   runs r0's poll in the generator's context instead and subtracts the
#   generator's cost; with the generators at a high priority part of that
#   work ran in the sinks' threads and escaped the count). The
#   generator's own rate and cost per frame with N streams, straight from
#   g1 into s1, are printed per N (the baseline): it is not the
#   bottleneck where the relay loses packets.
#   (7, measured before 5 and 6, with nothing queued anywhere) one-way
#      latency at a low rate (50 packets/s per stream, at most
#      10,000/s in all, A->B, 1 s): s0's program takes the time at
#      arrival minus the generator's timestamp in the frame (one clock:
#      the namespaces share it) into a histogram of 256-ns buckets;
#      p50 and p99 (bucket upper bounds).
#
# The bare path (path "bare"): the same N calls forwarded by the bare
# prototype (tools/bench_bare.bpf.c: the IPv4/UDP 5-tuple lookup in a
# hash map with a 12-byte key and a 28-byte value, the rewrite, both
# checksums, the MACs, bpf_redirect; nothing of xrelay's port table,
# counters, RTP statistics, VLAN or IPv6), so that xrelay's XDP path is
# seen against what the machine allows at each N (issue 7: it loses at
# most 15% of packets/s from 1,000 to 100,000 calls; is a loss the
# memory's or xrelay's?). Right after xdp in the paths (as by default),
# it takes over the xdp path's N calls, still up in xrelayd (that path
# leaves it running): set up and latched as measured there. Otherwise
# steps 1 and 2 as for xdp (xrelayd --iface r0:xdp --iface r1:xdp, the
# calls through ng) and 3 not paced: rounds of one packet per stream each
# way at 20,000/s until the 2N flows are in the kernel. No set-up or
# latching figures (they would be xrelay's). The flows are copied out of
# xrelay's pinned xr_flows (build/bench_bare flows: the same key and
# rewrite, ifindex and MACs, a line each, into a file), xrelayd stops
# (its programs detached, pins removed), and build/bench_bare attach
# puts the prototype natively on r0 and r1 (both directions, as xrelay's)
# with those flows in a preallocated hash map of xr_flows' size (2.5 N
# above 24,000 calls), after checking its output for 256 of the flows
# against frames built from scratch. It pins nothing and holds the attachments as BPF links,
# so ending its process (by pid) is the detach. Then 4 (kernel memory:
# its map's memlock per entry, 2 a call; it has no RSS worth a figure),
# 7, 5 and 6 as for xdp, the same CPU accounting: its process (which
# only sleeps) stands where xrelayd's was, with r0's and r1's NAPI
# threads (made anew after its attach) and the relay CPU's ksoftirqd.
# Its extra ratio: xdp_vs_bare.N.cpu_ratio (issue 7: <= 1.3), and
# bare.100000_vs_1000.pps_ratio like xdp's.
#
# The bare-array path (path "bare-array", not in the default paths): the
# same as bare with the prototype's second program, bare_array (build/
# bench_bare attach --table array): instead of the 5-tuple hash, a small
# hash of the relay's addresses gives a slot, and slot x port span + (relay
# port - lowest relay port) indexes an array of one 64-byte entry (a cache
# line) per relay port: the expected peer (anyone else goes to the stack),
# the same rewrite, and the counters xrelay keeps (packets, bytes, last
# seen), sized for the addresses and the port span the flows have. Is a
# compact direct-indexed table flatter from 1k to 100k calls than a hash?
# It takes the calls over as bare does: from xrelayd right after xdp, or,
# right after bare at the same N, bare's flows file and streams (no
# xrelayd at all); otherwise it sets them up itself as bare does. Kernel
# memory per call: the whole array's memlock over the calls. Its ratios:
# bare-array.100000_vs_1000.pps_ratio, bare-array_vs_bare.N.cpu_ratio.
#
# Limits, found and applied before a path runs (printed; the point is then
# measured at the limit instead):
#   - xrelay xdp/tc (and bare, whose calls xrelayd sets up): its port
#     table (xr_ports) has one entry per relay port, 4 per call, and
#     65,536 entries (bpftool map show; xrelayd has no option for it): N
#     at most that / 4, rounded down to thousands.
#     Past it the daemon accepts offers but cannot steer the new ports.
#   - xrelay's ng offers put both legs of a call on the relay address that
#     faces A (the answer's B leg does not move), so a call takes two port
#     pairs of one address: 27,768 pairs (ports 10000-65535) hold 13,884
#     calls; group g of 12,500 calls has peers in 10.81.g.0/24 and so its
#     own relay address 10.81.g.1. B reaches it through r1 (the relay
#     takes any of its addresses on any interface).
#   - the socket paths (xrelay off, rtpengine) open a socket per port, 4
#     per call, under the open-file limit (20,000 here, which we cannot
#     raise): N at most (limit - 200) / 4, rounded down to 500;
#     bench_udprelay (RTP only) 2 per call: (limit - 200) / 2.
#   - bench_udprelay's steer mode (any N) is not the default: overloaded
#     (3 Mpps offered), its one sk_lookup-steered socket delivered a few
#     thousand packets per window and then slept in epoll_wait while the
#     kernel dropped everything at its full receive buffer; at a rate it
#     keeps up with, it works.
#
# The relay (its process and r0's and r1's NAPI threads) and the
# generators run at nice -20 (BENCH_DENSITY_NICE=0: 0), so that other work
# on a shared machine does not decide the packets per second; CPU times
# are per task anyway. The sinks' NAPI threads run at real-time priority
# on the generators' CPU, so that the generators cannot starve them.
# BENCH_DENSITY_DEBUG=1 prints the relay namespace's UDP counters and the
# kernel's verdicts after latching.
#
# Everything made is removed on exit, also on failure or a signal
# (namespaces with every process in them, by pid; pin directory).
# Exit: 0 when at least one point was measured, 1 when none could be, 2 on
# a usage error. Never on a figure.
set -u
OUT=${1:-}
SECS=${2:-1.5}
WINDOWS=${3:-2}
if [ -z "$OUT" ] || ! [ "$WINDOWS" -ge 1 ] 2>/dev/null ||
	! awk -v s="$SECS" 'BEGIN { exit !(s + 0 > 0 && s + 0 <= 60) }'; then
	echo "usage: tools/bench_density.sh OUT.json [SECONDS] [WINDOWS]" >&2
	exit 2
fi
cd "$(dirname "$0")/.." || exit 2
. tools/bench_lib.sh
bench_init bench_density xrelayd xrelay-fp xrelayctl bench_gen bench_ng \
	bench_udprelay
PNG=${OUT%.json}.png
CALLS=${BENCH_DENSITY_CALLS:-1000 10000 100000}
PATHS=${BENCH_DENSITY_PATHS:-xdp bare bare-array tc off rtpengine udprelay}
UDPRELAY_MODE=${BENCH_DENSITY_UDPRELAY_MODE:-port}

T=xrbd$$-                  # namespaces xrbd<pid>-gen, -rly, -snk
PIN=/sys/fs/bpf/xrbench-$$ # tools/bench.sh removes it if we are killed
W=$(mktemp -d "/tmp/xrbd$$.XXXXXX")
RPID=""                    # the relay under test
HELD=""                    # xrelayd kept for the bare path (see one)
trap 'relay_stop; cleanup; rm -rf "$W"' EXIT
trap 'exit 130' INT TERM HUP

NCPU=$(nproc)
GCPU=0                     # the generators, the sinks' NAPI threads
RCPU=$((NCPU - 1))         # the relay
PER_GROUP=12500            # calls per relay address (see the top)
PORTS=10000-65535
RATE=50                    # packets/s per stream per direction
LATCH_ROUNDS=3             # packets per stream of the latch phase
CALL_RATE=${BENCH_DENSITY_CALL_RATE:-2500} # new calls/s there
WAVE=$((CALL_RATE * LATCH_ROUNDS / RATE))  # calls whose media starts at once
FIXED_SECS=2
BARE_LATCH_RATE=20000      # bare: latching packets/s each way (bare_latch)
CHUNK_MS=0.5               # the fixed rate's frames go in 0.5-ms bursts
# The machine may be shared: the relay, r0's and r1's NAPI threads and the
# generators run at nice -20, so that other work on their CPUs (nice 0)
# gets little of them and does not decide the packets per second; the
# relay's tasks share its CPU fairly among themselves (as softirq work
# deferred to ksoftirqd and a relay would). BENCH_DENSITY_NICE=0: nice 0.
PRIO=-20
[ "${BENCH_DENSITY_NICE:-1}" = 0 ] && PRIO=0
NICE="nice -n $PRIO"
NG=127.0.0.1:2223
# shellcheck disable=SC3045 # dash and bash have ulimit -H
NOFILE=$(ulimit -Hn)

max_of() { printf '%s\n' "$@" | sort -n | tail -n 1; }

# ---- topology ----------------------------------------------------------------

unthreaded() {
	ip netns exec "$T$1" sh -c "echo 0 >/sys/class/net/$2/threaded"
}

KSOFT_R=$(grep -lx "ksoftirqd/$RCPU" /proc/[0-9]*/comm 2>/dev/null |
	sed 's,^/proc/,,; s,/comm$,,')

# topology G: the namespaces with G address groups.
topology() {
	ng_=$1
	mkns gen rly snk || return 1
	for n in gen rly snk; do
		nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	veth gen g0 10.81.0.2/24 rly r0 10.81.0.1/24 || return 1
	veth rly r1 10.82.0.1/24 snk s0 10.82.0.2/24 || return 1
	veth gen g1 10.83.0.2/24 snk s1 10.83.0.1/24 || return 1
	g=1
	while [ $g -lt "$ng_" ]; do
		addr gen g0 "10.81.$g.2/24" && addr rly r0 "10.81.$g.1/24" &&
			addr rly r1 "10.82.$g.1/24" &&
			addr snk s0 "10.82.$g.2/24" || return 1
		g=$((g + 1))
	done
	ip -n "${T}gen" link add h0 type veth peer name h1 || return 1
	ip -n "${T}snk" link add k0 type veth peer name k1 || return 1
	# what the generators transmit is taken by r0/r1 only if they run
	# NAPI: GRO on makes it so whatever the relay attaches
	nsx rly ethtool -K r0 gro on >/dev/null &&
		nsx rly ethtool -K r1 gro on >/dev/null || return 1
	for x in "gen g0" "gen g1" "snk s0" "snk s1"; do
		# shellcheck disable=SC2086 # two words
		set -- $x
		nsx "$1" "$BUILD/bench_gen" drop --dev "$2" || return 1
	done
	G0MAC=$(mac_of gen g0) S0MAC=$(mac_of snk s0) G1MAC=$(mac_of gen g1)
	S1MAC=$(mac_of snk s1) R0MAC=$(mac_of rly r0) R1MAC=$(mac_of rly r1)
	g=0
	while [ $g -lt "$ng_" ]; do
		ip -n "${T}rly" neigh replace "10.81.$g.2" lladdr "$G0MAC" \
			nud permanent dev r0 &&
			ip -n "${T}rly" neigh replace "10.82.$g.2" \
				lladdr "$S0MAC" nud permanent dev r1 || return 1
		g=$((g + 1))
	done
	link_ready gen g0 g1 && link_ready rly r0 r1 &&
		link_ready snk s0 s1 || return 1
	for x in "gen g0" "gen g1" "snk s0" "snk s1"; do
		# shellcheck disable=SC2086 # two words
		threaded $x >/dev/null || return 1
	done
}

# ---- the relays ----------------------------------------------------------------

# rss_kb PID
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }


# wait_ng PID WHAT: until the relay answers ng on $NG (a ping through
# bench_ng would need a call; a bound socket is enough).
wait_ng() {
	i=0
	until nsx rly ss -Huln "sport = :${NG##*:}" | grep -q .; do
		if ! kill -0 "$1" 2>/dev/null || [ $i -ge 200 ]; then
			fail "$2 does not listen for ng on $NG"
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
}

# relay_start PATH N: the relay of PATH for N calls; RPID, ATTACH (what
# it really got).
relay_start() {
	relay_start_ "$@" || return 1
	# r0's and r1's NAPI in threads of their own on the relay's CPU (after
	# the relay attached: a veth may make its NAPI anew then): every bit
	# of the relay's work - its program or the stack, the daemon - then
	# runs in the relay's own tasks
	# In the kernel modes nothing else on that core needs it: the threads
	# run at real-time priority, as softirq work would (a wake-up a little
	# late overflows a veth's ring of 256 frames at these rates); next to
	# a userspace relay they share the core with it fairly (above it they
	# would starve it: receive livelock).
	np="nice"
	case $1 in xdp | tc | bare | bare-array) [ "$PRIO" = 0 ] || np=5 ;; esac
	R0_T=$(threaded rly r0 "$RCPU" $np) &&
		R1_T=$(threaded rly r1 "$RCPU" $np) || return 1
	RTASKS="$RPID $R0_T $R1_T $KSOFT_R"
}

relay_start_() {
	: >"$W/relay.out"
	: >"$W/relay.err"
	ATTACH=$1
	case $1 in
	xdp | tc | off | bare | bare-array)
		# bare, bare-array: xrelayd in mode xdp sets the calls up and latches them
		# (bare_swap then puts the prototype in its place)
		m=$1
		case $m in bare*) m=xdp ;; esac
		ATTACH=$m
		flows=65536
		[ $((2 * $2)) -gt 60000 ] && flows=$((2 * $2 + $2 / 2))
		# shellcheck disable=SC2086 # NICE: three words
		taskset -c "$RCPU" $NICE nsenter --net="/run/netns/${T}rly" \
			"$BUILD/xrelayd" --listen udp:127.0.0.1:5060 \
			--iface "r0:$m" --iface "r1:$m" --ports "$PORTS" \
			--ng-listen "udp:$NG" --pin-dir "$PIN" --state-dir= \
			--ctl-socket "$W/ctl.sock" --media-timeout 0 \
			--quarantine 0 --log-level warn --max-flows "$flows" \
			>"$W/relay.out" 2>"$W/relay.err" &
		RPID=$!
		wait_ng "$RPID" xrelayd || return 1
		"$BUILD/xrelayctl" --socket "$W/ctl.sock" stats >"$W/ctl.stats" \
			2>/dev/null
		ATTACH=$(awk '$1 == "r0" || $1 == "r1" { print $1 ":" $5 }' \
			"$W/ctl.stats" | tr '\n' ' ')
		a0=$(echo "$ATTACH" | sed -n 's/.*r0:\([^ ]*\).*/\1/p')
		a1=$(echo "$ATTACH" | sed -n 's/.*r1:\([^ ]*\).*/\1/p')
		if [ -n "$a0" ] && [ "$a0" = "$a1" ]; then
			ATTACH=$a0
		else
			ATTACH=$(echo "$ATTACH" | sed 's/ $//; s/ /,/')
		fi
		if [ "$ATTACH" != "$m" ] && [ "$1" != "$m" ]; then
			fail "$1: xrelayd got ${ATTACH:-?} instead of native" \
				"XDP on r0 and r1: the prototype cannot attach"
			return 1
		fi
		[ "$ATTACH" = "$m" ] ||
			say "  WARNING: asked xrelayd for $m, it got ${ATTACH:-?}"
		;;
	rtpengine)
		ATTACH=userspace
		# shellcheck disable=SC2086
		taskset -c "$RCPU" $NICE nsenter --net="/run/netns/${T}rly" \
			rtpengine --foreground --table=-1 \
			--interface=a/10.81.0.1 --interface=b/10.82.0.1 \
			--listen-ng="$NG" --port-min="${PORTS%-*}" \
			--port-max="${PORTS#*-}" --log-stderr --log-level=4 \
			--no-log-timestamps >"$W/relay.out" 2>"$W/relay.err" &
		RPID=$!
		wait_ng "$RPID" rtpengine || return 1
		;;
	udprelay)
		ATTACH=userspace
		# shellcheck disable=SC2086
		taskset -c "$RCPU" $NICE nsenter --net="/run/netns/${T}rly" \
			"$BUILD/bench_udprelay" --streams "$W/plan.txt" \
			--calls "$2" --mode "$UDPRELAY_MODE" >"$W/relay.out" 2>"$W/relay.err" &
		RPID=$!
		wait_ready "$RPID" "$W/relay.out" bench_udprelay || return 1
		;;
	esac
}

relay_stop() {
	[ -n "$RPID" ] || return 0
	unthreaded rly r0 2>/dev/null
	unthreaded rly r1 2>/dev/null
	kill "$RPID" 2>/dev/null
	i=0
	while kill -0 "$RPID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	kill -9 "$RPID" 2>/dev/null
	wait "$RPID" 2>/dev/null
	RPID=""
	[ -n "${BENCH_DENSITY_DEBUG:-}" ] &&
		grep -E '^(received|sent|send_errors)=' "$W/relay.out" 2>/dev/null |
		sed 's/^/  relay: /' 
	"$BUILD/xrelay-fp" unpin --pin-dir "$PIN" >/dev/null 2>&1
	rm -rf "$PIN"
	for d in r0 r1; do # whatever a killed daemon left attached
		ip -n "${T}rly" link set dev "$d" xdp off 2>/dev/null
		ip -n "${T}rly" link set dev "$d" xdpgeneric off 2>/dev/null
		tc -n "${T}rly" qdisc del dev "$d" clsact 2>/dev/null
	done
}

# ---- the bare prototype -------------------------------------------------------

# bare_latch STREAMS N: xrelayd (mode xdp) latches every stream, fast:
# rounds of one packet per stream each way at BARE_LATCH_RATE until the
# 2N flows are in the kernel (the paced latch phase of the xdp path prices
# xrelay's latching, nothing of the prototype's).
bare_latch() {
	bq_i=0 bq_f=0
	while [ $bq_i -lt 8 ]; do
		both 1 "$BARE_LATCH_RATE" "$1" "$2" || return 1
		sleep 0.2
		bq_i=$((bq_i + 1))
		bq_f=$(flows)
		[ "${bq_f:-0}" -ge $((2 * $2)) ] && break
	done
	say "  latched for the prototype: ${bq_f:-0} of $((2 * $2)) flows in" \
		"xrelay's kernel table after $bq_i rounds of one packet a" \
		"stream each way at $BARE_LATCH_RATE/s"
	[ "${bq_f:-0}" -gt 0 ]
}

# bare_swap N: the latched flows out of xrelay's pinned xr_flows (bench_bare
# flows: its IPv4 entries, the same key and rewrite, ifindex and MACs),
# xrelayd stopped (its programs detached, pins removed), build/bench_bare
# attached natively to r0 and r1 with them in a map the size of xr_flows;
# RPID is then bench_bare (which only sleeps: ending it is the detach),
# RTASKS its pid and r0's and r1's NAPI threads (made anew after the
# attach) and the relay CPU's ksoftirqd. BARE_MAP: its map's id.
# bare_swap N TABLE (hash: bare, array: bare-array); with REUSE=1 no
# xrelayd runs: the flows file and streams of the last swap (bare's at this
# N, BARE_FLOWS_N) are taken again. Each swap from xrelayd keeps them
# ($W/bare.flows, $W/bare.streams, BARE_FE: xr_flows' size).
bare_swap() {
	if [ "${REUSE:-0}" != 1 ]; then
		BARE_FE=$(bpftool map show pinned "$PIN/xr_flows" 2>/dev/null |
			sed -n 's/.*max_entries \([0-9]*\).*/\1/p')
		BARE_FLOWS_N=""
		nsx rly "$BUILD/bench_bare" flows --pin-dir "$PIN" \
			>"$W/bare.flows" 2>"$W/bare.err" || {
			sed 's/^/  bench_bare: /' "$W/bare.err" >&2
			fail "bare: cannot read xrelay's flows"
			return 1
		}
		cp "$st" "$W/bare.streams" && BARE_FLOWS_N=$1
		BARE_FLOWS_CALLS=$n
		[ -s "$W/bare.err" ] && sed 's/^/  /' "$W/bare.err"
	fi
	bs_n=$(wc -l <"$W/bare.flows")
	[ "$bs_n" -lt $((2 * $1)) ] &&
		say "  WARNING: only $bs_n of $((2 * $1)) flows for the prototype"
	relay_stop
	bs_fe=$BARE_FE
	[ "$2" = array ] && bs_fe=""
	# shellcheck disable=SC2086 # nothing or two words
	taskset -c "$RCPU" nsenter --net="/run/netns/${T}rly" \
		"$BUILD/bench_bare" attach --dev r0 --dev r1 --table "$2" \
		--flows "$W/bare.flows" ${bs_fe:+--max-flows $bs_fe} \
		>"$W/relay.out" 2>"$W/relay.err" &
	RPID=$!
	wait_ready "$RPID" "$W/relay.out" bench_bare || {
		sed 's/^/  bench_bare: /' "$W/relay.err" >&2
		return 1
	}
	bs_prog=$(kv "$W/relay.out" prog_id)
	BARE_MAP=$(kv "$W/relay.out" map_id)
	for d in r0 r1; do # native mode, and ours (not prog/xdpgeneric)
		if ! ip -n "${T}rly" link show dev "$d" |
			grep -q "prog/xdp id $bs_prog "; then
			fail "bare: $d does not run the prototype natively:" \
				"$(ip -n "${T}rly" link show dev "$d" | grep prog/)"
			return 1
		fi
	done
	ATTACH=xdp
	# what relay_start does after an attach (see there)
	np=5
	[ "$PRIO" = 0 ] && np="nice"
	R0_T=$(threaded rly r0 "$RCPU" $np) &&
		R1_T=$(threaded rly r1 "$RCPU" $np) || return 1
	RTASKS="$RPID $R0_T $R1_T $KSOFT_R"
	say "  xrelayd stopped; bench_bare (prog id $bs_prog) on r0 and r1," \
		"natively, $2 table, with $(kv "$W/relay.out" flows) flows in a" \
		"map of $(kv "$W/relay.out" max_entries) ($(kv "$W/relay.out" \
		self_tested) of them checked by a test run)"
	[ "$2" = array ] && say "  array: $(kv "$W/relay.out" slots) relay" \
		"addresses x $(kv "$W/relay.out" port_span) ports from" \
		"$(kv "$W/relay.out" port_min), 64 bytes each"
	return 0
}

# caps: the most calls each path can carry here (see the top).
caps() {
	CAP_SOCK=$(( (NOFILE - 200) / 4 / 500 * 500 ))
	CAP_UDPRELAY=$(( (NOFILE - 200) / 2 / 500 * 500 ))
	[ "$UDPRELAY_MODE" = steer ] && CAP_UDPRELAY=1000000
	CAP_KERNEL=100000
	relay_start xdp 1000 || return 0
	pe=$(bpftool map show pinned "$PIN/xr_ports" 2>/dev/null |
		sed -n 's/.*max_entries \([0-9]*\).*/\1/p')
	relay_stop
	[ -n "$pe" ] && CAP_KERNEL=$((pe / 4 / 1000 * 1000))
	PORTS_MAX=${pe:-?}
}

# cap_of PATH
cap_of() {
	case $1 in
	xdp | tc | bare | bare-array) echo "$CAP_KERNEL" ;;
	off | rtpengine) echo "$CAP_SOCK" ;;
	udprelay) echo "$CAP_UDPRELAY" ;;
	*) echo 1000000 ;;
	esac
}

# points PATH: the numbers of calls to run PATH at.
points() {
	c=$(cap_of "$1")
	for c_n in $CALLS; do
		[ "$c_n" -gt "$c" ] && c_n=$c
		echo "$c_n"
	done | sort -n -u | tr '\n' ' '
}

# ---- measuring ------------------------------------------------------------------

# gen NS DEV SRCMAC DSTMAC DIR STREAMS N OUT [ARGS...]: one generator run
# (its locals are prefixed: sh has no local variables).
gen() {
	g_ns=$1 g_dev=$2 g_sm=$3 g_dm=$4 g_dir=$5 g_st=$6 g_n=$7 g_out=$8
	shift 8
	g_hold=h0
	[ "$g_ns" = snk ] && g_hold=k0
	# shellcheck disable=SC2086
	taskset -c "$GCPU" $NICE nsenter --net="/run/netns/$T$g_ns" \
		"$BUILD/bench_gen" send --dev "$g_dev" --src-mac "$g_sm" \
		--dst-mac "$g_dm" --streams "$g_st" --calls "$g_n" \
		--dir "$g_dir" --hold-dev "$g_hold" "$@" >"$g_out"
}

# drain: until nothing more arrives at the sinks (what sat in the relay's
# socket buffers has gone through), 5 s at most.
drain() {
	dr_prev=-1 dr_i=0
	while [ $dr_i -lt 25 ]; do
		dr_now=$(( $(rx snk s0) + $(rx gen g0) ))
		[ "$dr_now" = "$dr_prev" ] && return 0
		dr_prev=$dr_now
		sleep 0.2
		dr_i=$((dr_i + 1))
	done
}

# window_begin / window_end RESULTS PID...: around generator runs whose
# outputs are $W/ga (and $W/gb); appends "sent elapsed_ns gen_cpu_ns
# delivered tasks_ns" (delivered: at s0 and g0; tasks: the run time of
# the PIDs, with all their threads).
window_begin() {
	shift
	drain
	D0=$(( $(rx snk s0) + $(rx gen g0) )) T0=$(task_ns "$@")
	rm -f "$W/ga" "$W/gb"
}
window_end() {
	res=$1
	shift
	drain # what sits in socket buffers still goes through
	D1=$(( $(rx snk s0) + $(rx gen g0) )) T1=$(task_ns "$@")
	if [ -n "${BENCH_DENSITY_DEBUG:-}" ]; then
		for t in "$@"; do
			printf '  task %s (%s): %s ms\n' "$t" \
				"$(cat "/proc/$t/comm" 2>/dev/null)" \
				"$(task_ns "$t" | awk '{ printf "%.0f", $1 / 1e6 }')"
		done
		nsx rly nstat -az 2>/dev/null | grep -E \
			'UdpRcvbufErrors|UdpInDatagrams|UdpOutDatagrams|IpOutRequests|IpOutDiscards' |
			awk '$2 > 0' | sed 's/^/  nstat: /'
	fi
	cat "$W/ga" "$W/gb" 2>/dev/null | awk -v d=$((D1 - D0)) \
		-v t=$((T1 - T0)) -F= '
		$1 == "frames" { f += $2 } $1 == "cpu_ns" { c += $2 }
		$1 == "elapsed_ns" && $2 > e { e = $2 }
		END { printf "%.0f %.0f %.0f %d %.0f\n", f, e, c, d, t }' >>"$res"
}

# medians RESULTS C_BASE: "pps cpu_ns_per_packet loss offered_pps n"
medians() {
	awk -v cb="$2" '{ pps[NR] = $2 > 0 ? $4 * 1e9 / $2 : 0
	       cpu[NR] = $4 > 0 ? ($3 + $5 - cb * $1) / $4 : 0
	       l = $1 > 0 ? 1 - $4 / $1 : 0; loss[NR] = l < 0 ? 0 : l
	       off[NR] = $2 > 0 ? $1 * 1e9 / $2 : 0 }
	function med(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END { if (NR) printf "%.0f %.1f %.6f %.0f %d\n", med(pps, NR),
		med(cpu, NR), med(loss, NR), med(off, NR), NR }' "$1"
}

# baseline N: the generator's own cost per frame with N streams at the
# maximum rate (C_MAX), straight from g1 into s1.
baseline() {
	bl_n=$1
	# shellcheck disable=SC2086
	bl_t0=$(task_ns $KSOFT)
	gen gen g1 "$G1MAC" "$S1MAC" ab "$W/plan.txt" "$bl_n" "$W/ga" \
		--seconds 1 || return 1
	# shellcheck disable=SC2086
	bl_t1=$(task_ns $KSOFT)
	C_MAX=$(awk -F= -v t=$((bl_t1 - bl_t0)) '$1 == "frames" { f = $2 }
		$1 == "cpu_ns" { c = $2 }
		END { printf "%.1f", f ? (c + t) / f : 0 }' "$W/ga")
	BASE_PPS=$(kv "$W/ga" pps)
	say "  baseline (the generator alone), $bl_n streams straight into" \
		"the sink: $BASE_PPS pps, $C_MAX ns of CPU per frame"
	echo "$bl_n $BASE_PPS $C_MAX" >>"$W/baselines"
}

# both ROUNDS RATE STREAMS N [ARGS...]: both directions at once.
both() {
	b_r=$1 b_rate=$2 b_st=$3 b_n=$4
	shift 4
	gen gen g0 "$G0MAC" "$R0MAC" ab "$b_st" "$b_n" "$W/ga" \
		--rounds "$b_r" --rate "$b_rate" "$@" &
	b_p=$!
	gen snk s0 "$S0MAC" "$R1MAC" ba "$b_st" "$b_n" "$W/gb" \
		--rounds "$b_r" --rate "$b_rate" "$@"
	b_r2=$?
	wait $b_p
	b_r1=$?
	[ $b_r1 -eq 0 ] && [ $b_r2 -eq 0 ]
}

# flows: the kernel flows now.
flows() {
	"$BUILD/bench_gen" flows --pin-dir "$PIN" 2>/dev/null |
		sed -n 's/^flows=//p'
}

# setup: steps 1 to 3 of one (PATH and N in path and n; n becomes the
# calls really set up; STREAMS in st).
setup() {
	relay_start "$path" "$n" || return 1
	echo "attach=$ATTACH" >>"$r"
	rss0=$(rss_kb "$RPID")
	st=$W/plan.txt
	case $path in
	udprelay) ;;
	*)
		st=$W/streams.txt
		dir=""
		[ "$path" = rtpengine ] && dir="--direction a,b"
		# shellcheck disable=SC2086 # dir: nothing or two words
		nsx rly "$BUILD/bench_ng" setup --ng "$NG" --calls "$n" \
			--per-group $PER_GROUP --window 32 --out "$st" \
			$dir >"$W/ng.out"
		ok=$(kv "$W/ng.out" ok)
		say "  ng: $ok of $n calls set up in $(kv "$W/ng.out" elapsed_ms) ms" \
			"($(kv "$W/ng.out" calls_per_s) calls/s, offer + answer;" \
			"$(kv "$W/ng.out" resent) requests resent)" \
			"$(kv "$W/ng.out" error)"
		echo "setup_calls_per_s=$(kv "$W/ng.out" calls_per_s)" >>"$r"
		if [ "${ok:-0}" -lt "$n" ]; then
			fail "$path: only ${ok:-0} of $n calls set up"
			[ "${ok:-0}" -gt 0 ] || return 1
			n=$ok
		fi
		;;
	esac
	# latching
	case $path in
	xdp | tc)
		# calls whose media starts WAVE at a time, at CALL_RATE: each
		# stream gets LATCH_ROUNDS packets at RATE, both ways at once
		lc0=$(task_ns "$RPID")
		both $LATCH_ROUNDS $((RATE * WAVE)) "$st" "$n" --wave $WAVE ||
			return 1
		lc1=$(task_ns "$RPID")
		ga=$(kv "$W/ga" elapsed_ns)
		sleep 0.2
		"$BUILD/bench_gen" flows --pin-dir "$PIN" \
			--rounds $LATCH_ROUNDS >"$W/flows" 2>/dev/null
		f=$(kv "$W/flows" flows)
		sec=$(kv "$W/flows" first_kernel_2nd)
		p99=$(kv "$W/flows" first_kernel_p99)
		# a missing flow has not been taken over within the rounds
		[ "${f:-0}" -lt $((2 * n)) ] && p99=$(awk -v f="${f:-0}" \
			-v n=$((2 * n)) -v p="${p99:-0}" -v k=$LATCH_ROUNDS \
			'BEGIN { print (f < n * 0.99 ? k + 1 : p) }')
		cr=$(awk -v n="$n" -v e="${ga:-0}" \
			'BEGIN { if (e > 0) printf "%.0f", n * 1e9 / e }')
		say "  media of $WAVE calls at a time, $LATCH_ROUNDS packets a" \
			"stream each way at $RATE/s (new calls: ${cr:-?}/s):" \
			"${f:-0} of $((2 * n)) flows in the kernel; the 2nd" \
			"packet was the kernel's first for ${sec:-0}; p99:" \
			"packet ${p99:-?}"
		echo "first_kernel_2nd_share=$(awk -v s="${sec:-0}" \
			-v n=$((2 * n)) 'BEGIN { printf "%.4f", s / n }')" >>"$r"
		echo "first_kernel_p99_ms=$(awk -v p="${p99:-0}" -v r=$RATE \
			'BEGIN { printf "%.1f", (p - 1) * 1000 / r }')" >>"$r"
		echo "first_kernel_p99_packet=${p99:-0}" >>"$r"
		# the daemon's CPU per stream latched (receiving and forwarding
		# its first packets, latching, installing the flow)
		lcpu=$(awk -v c=$((lc1 - lc0)) -v n=$((2 * n)) \
			'BEGIN { printf "%.1f", c / n / 1000 }')
		say "  the daemon's CPU meanwhile: $lcpu us per stream"
		echo "latch_cpu_us_per_stream=$lcpu" >>"$r"
		if [ -n "${BENCH_DENSITY_DEBUG:-}" ]; then
			nsx rly nstat -az 2>/dev/null | grep -E \
				'UdpRcvbufErrors|UdpInDatagrams|UdpNoPorts|IpInDelivers' |
				awk '$2 > 0' | sed 's/^/  nstat: /'
			"$BUILD/xrelayctl" --socket "$W/ctl.sock" stats 2>/dev/null |
				sed -n '/kernel verdicts/,$p' | sed 's/^/  /'
		fi
		top=0
		while [ "$(flows)" -lt $((2 * n)) ] && [ $top -lt 6 ]; do
			both 1 50000 "$st" "$n" || return 1
			sleep 0.2
			top=$((top + 1))
		done
		f=$(flows)
		[ $top -gt 0 ] && say "  top-up: $top more rounds; $f of" \
			"$((2 * n)) flows in the kernel"
		echo "flows=$f" >>"$r"
		;;
	bare | bare-array)
		bare_latch "$st" "$n" || return 1
		;;
	*)
		both 1 50000 "$st" "$n" || return 1
		sleep 0.2
		;;
	esac
}

# one PATH N: one point; its figures in $W/res-PATH-N (key=value lines).
# xdp followed by bare at the same N (HOLD=1, set by the run): xrelayd is
# left running with the xdp path's calls (HELD: N), and the bare path
# takes them over from there instead of setting them up anew (its set-up
# and latching, at 100,000 calls, cost as much as its measurement).
one() {
	path=$1 n=$2 n_asked=$2
	r=$W/res-$path-$n
	: >"$r"
	t_0=$(date +%s.%N)
	say ""
	say "-- $path, $n calls"
	REUSE=0
	if [ "${path%-array}" = bare ] && [ "$HELD" = "$n" ] &&
		kill -0 "$RPID" 2>/dev/null; then
		n=$HELD_CALLS st=$W/streams.txt
		say "  the xdp path's $n calls, still up in xrelayd (set up and" \
			"latched there)"
	elif [ "$path" = bare-array ] && [ "$LAST_RUN" = "bare:$n" ] &&
		[ "${BARE_FLOWS_N:-}" = "$n" ]; then
		[ -n "$HELD" ] && relay_stop
		REUSE=1 n=$BARE_FLOWS_CALLS st=$W/bare.streams
		say "  the bare path's $n calls: its flows (from xrelayd) and" \
			"streams, no xrelayd"
	else
		[ -n "$HELD" ] && relay_stop
		HELD=""
		setup || return 1
	fi
	HELD=""
	if [ "${path%-array}" = bare ]; then
		bs_t="hash"
		[ "$path" = bare-array ] && bs_t=array
		bare_swap "$n" $bs_t || return 1
		# xrelayd's figures (its set-up) are not the prototype's
		echo "attach=$ATTACH" >"$r"
		# kernel memory: the memlock of its map per entry, 2 a call
		# (hash), or the whole array's over the calls (array)
		m=$(bpftool map show id "$BARE_MAP" 2>/dev/null | sed -n \
			's/.*max_entries \([0-9]*\)  *memlock \([0-9]*\)B.*/\1 \2/p')
		if [ -n "$m" ]; then
			# shellcheck disable=SC2086
			set -- $m
			echo "kmem_bytes_per_call=$(awk -v fe="$1" -v fm="$2" \
				-v a=$bs_t -v n="$n" 'BEGIN { printf "%.0f",
				a == "array" ? fm / n : 2 * fm / fe }')" >>"$r"
			echo "memlock_bytes=$2" >>"$r"
		fi
	else
		rss1=$(rss_kb "$RPID")
		if [ "$path" = udprelay ]; then
			echo "rss_kb=$rss1" >>"$r"
		else
			echo "rss_bytes_per_call=$(( (rss1 - rss0) * 1024 / n ))" \
				>>"$r"
		fi
	fi
	case $path in
	xdp | tc | off)
		if [ -e "$PIN/xr_fast4" ]; then
			m=$(for x in xr_fast4 xr_ports xr_flows; do
				bpftool map show pinned "$PIN/$x" | sed -n \
				's/.*max_entries \([0-9]*\)  *memlock \([0-9]*\)B.*/\1 \2/p'
			done | tr '\n' ' ')
			# shellcheck disable=SC2086
			set -- $m
			# IPv4: a call's flows are in its 4 ports' xr_fast4
			# entries; xr_flows (IPv6) stays empty here
			echo "kmem_bytes_per_call=$(awk -v ae="$1" -v am="$2" \
				-v pe="$3" -v pm="$4" 'BEGIN { printf "%.0f",
				4 * am / ae + 4 * pm / pe }')" >>"$r"
			echo "memlock_bytes=$(($2 + $4 + $6))" >>"$r"
		fi
		;;
	esac
	# latency at a low rate, A->B
	lr=$((RATE * n))
	[ $lr -gt 10000 ] && lr=10000
	drain
	nsx snk "$BUILD/bench_gen" latency --dev s0 --seconds 1.5 \
		>"$W/lat" 2>"$W/lat.err" &
	lp=$!
	sleep 0.2
	gen gen g0 "$G0MAC" "$R0MAC" ab "$st" "$n" "$W/ga" --seconds 1 \
		--rate $lr || return 1
	wait $lp
	say "  latency at $lr pps: $(kv "$W/lat" samples) samples, p50" \
		"$(kv "$W/lat" p50_ns) ns, p99 $(kv "$W/lat" p99_ns) ns"
	echo "latency_p50_ns=$(kv "$W/lat" p50_ns)" >>"$r"
	echo "latency_p99_ns=$(kv "$W/lat" p99_ns)" >>"$r"
	# maximum rate, A->B
	: >"$W/max.res"
	w=0
	while [ $w -lt "$WINDOWS" ]; do
		# shellcheck disable=SC2086 # RTASKS: a list of pids
		pp=""
		if [ -n "${BENCH_DENSITY_PERF:-}" ] && [ $w = 0 ]; then
			# started first: perf takes a while to begin sampling
			perf record -q -g -C "$RCPU" \
				-o "$BENCH_DENSITY_PERF/perf.$path.$n.data" \
				-- sleep "$(awk -v s="$SECS" 'BEGIN { print s + 3 }')" \
				>/dev/null 2>&1 &
			pp=$!
			sleep 2
		fi
		window_begin "$W/max.res" $RTASKS
		gen gen g0 "$G0MAC" "$R0MAC" ab "$st" "$n" "$W/ga" \
			--seconds "$SECS" || return 1
		[ -n "$pp" ] && wait "$pp"
		# shellcheck disable=SC2086
		window_end "$W/max.res" $RTASKS
		tail -n 1 "$W/max.res" | awk '{ printf "  max rate: sent %d, delivered %d (%.0f pps), CPU ms: generator %.0f, relay %.0f\n",
			$1, $4, $2 ? $4 * 1e9 / $2 : 0, $3 / 1e6, $5 / 1e6 }'
		w=$((w + 1))
	done
	# the relay's tasks alone: no generator CPU in the figure
	awk '{ $3 = 0; print }' "$W/max.res" | medians /dev/stdin 0 | {
		read -r pps cpu loss _ nw
		echo "pps=$pps"; echo "cpu_ns_per_packet=$cpu"
		echo "loss=$loss"; echo "windows=$nw"
	} >>"$r"
	if [ "${path%-array}" = bare ] &&
		! [ "$(kv "$r" pps)" -gt 0 ] 2>/dev/null; then
		fail "$path: the prototype forwarded nothing"
		return 1
	fi
	# fixed rate, both ways
	: >"$W/fix.res"
	# shellcheck disable=SC2086
	window_begin "$W/fix.res" $RTASKS
	both 1000000 $((RATE * n)) "$st" "$n" --seconds $FIXED_SECS \
		--chunk-ms $CHUNK_MS || return 1
	# shellcheck disable=SC2086
	window_end "$W/fix.res" $RTASKS
	awk '{ $3 = 0; print }' "$W/fix.res" | medians /dev/stdin 0 | {
		read -r pps cpu loss off _
		echo "fixed_offered_pps=$off"; echo "fixed_pps=$pps"
		echo "fixed_loss=$loss"; echo "fixed_cpu_ns_per_packet=$cpu"
	} >>"$r"
	awk -F= '/^fixed_/ { printf "  %s %s", $1, $2 } END { print "" }' "$r"
	case $path in
	xdp | tc | off)
		"$BUILD/xrelayctl" --socket "$W/ctl.sock" stats \
			>"$W/ctl.stats" 2>/dev/null
		sed -n 's/^forwarded *\(.*\)/  xrelayd forwarded: \1/p; s/^latching *\(.*\)/  xrelayd latching: \1/p' \
			"$W/ctl.stats"
		;;
	esac
	if ! kill -0 "$RPID" 2>/dev/null; then
		fail "$path: the relay died during the run"
		sed 's/^/  relay: /' "$W/relay.err" | tail -n 10 >&2
		return 1
	fi
	if [ -n "${BENCH_DENSITY_DEBUG:-}" ] && [ -e "$W/ctl.sock" ]; then
		"$BUILD/xrelayctl" --socket "$W/ctl.sock" stats 2>/dev/null |
			sed -n '/kernel verdicts/,$p' | sed 's/^/  /'
	fi
	if [ -s "$W/relay.err" ]; then
		say "  the relay logged $(wc -l <"$W/relay.err") lines; the last:"
		tail -n "${BENCH_DENSITY_DEBUG:+30}${BENCH_DENSITY_DEBUG:-3}" "$W/relay.err" | cut -c 1-${BENCH_DENSITY_DEBUG:+1}200 |
			sed 's/^/    /'
	fi
	if [ "$path" = xdp ] && [ "${HOLD:-0}" = 1 ]; then
		HELD=$n_asked HELD_CALLS=$n
	else
		relay_stop
	fi
	echo "done=1" >>"$r"
	say "  ($path at $n calls took $(awk -v a="$t_0" -v b="$(date +%s.%N)" \
		'BEGIN { printf "%.1f", b - a }') s)"
}

# ---- the run -----------------------------------------------------------------------

say "density: paths $PATHS; calls $CALLS; ${WINDOWS} windows of ${SECS} s at" \
	"the maximum rate, ${FIXED_SECS} s at $RATE packets/s per stream each way"
[ "$NCPU" -ge 2 ] ||
	say "  WARNING: one CPU only: the relay shares it with the generators"
if [ ! -x "$BUILD/bench_bare" ]; then
	case " $PATHS " in *" bare "* | *" bare-array "*)
		PATHS=$(for p in $PATHS; do
			[ "${p%-array}" = bare ] || printf '%s ' "$p"; done)
		say "  $BUILD/bench_bare is missing (make bench builds it): no" \
			"bare or bare-array path"
		;;
	esac
fi
if ! command -v rtpengine >/dev/null 2>&1; then
	PATHS=$(echo "$PATHS" | sed 's/rtpengine//')
	say "  rtpengine is not installed (tools/deps.sh installs" \
		"rtpengine-daemon): left out"
fi
# shellcheck disable=SC2086 # a list
nmax=$(max_of $CALLS)
groups=$(( (nmax + PER_GROUP - 1) / PER_GROUP ))
topology "$groups" || { fail "cannot build the namespaces"; exit 1; }
case " $PATHS " in
*" xdp "* | *" tc "* | *" bare "* | *" bare-array "*) caps ;;
*)
	CAP_SOCK=$(( (NOFILE - 200) / 4 / 500 * 500 )) CAP_KERNEL=$nmax
	CAP_UDPRELAY=$(( (NOFILE - 200) / 2 / 500 * 500 )) PORTS_MAX='?'
	[ "$UDPRELAY_MODE" = steer ] && CAP_UDPRELAY=1000000
	;;
esac
say "limits: xrelay xdp/tc at most $CAP_KERNEL calls (xr_ports holds" \
	"$PORTS_MAX relay ports, 4 a call); socket paths (xrelay off," \
	"rtpengine) at most $CAP_SOCK (4 sockets a call, open files $NOFILE);" \
	"bench_udprelay ($UDPRELAY_MODE) at most $CAP_UDPRELAY"
nsx rly "$BUILD/bench_ng" plan --calls "$nmax" --per-group $PER_GROUP \
	--out "$W/plan.txt" || exit 1
: >"$W/baselines"
ran=""
LAST_RUN=""                # PATH:N of the point just measured
for N_ in $(for p in $PATHS; do points "$p"; done | tr ' ' '\n' |
	grep . | sort -n -u); do
	say ""
	say "== $N_ calls"
	baseline "$N_" || { fail "the generator does not run"; exit 1; }
	for P_ in $PATHS; do
		case " $(points "$P_") " in *" $N_ "*) ;; *) continue ;; esac
		HOLD=0
		case " $PATHS " in *" $P_ bare "* | *" $P_ bare-array "*)
			case " $(points bare) " in *" $N_ "*) HOLD=1 ;; esac ;;
		esac
		if one "$P_" "$N_"; then
			ran="$ran $P_:$N_"
			LAST_RUN=$P_:$N_
		else
			LAST_RUN=""
			fail "$P_ with $N_ calls could not be measured"
			sed 's/^/  relay: /' "$W/relay.err" 2>/dev/null |
				tail -n 10 >&2
			relay_stop
			HELD=""
		fi
	done
	[ -n "$HELD" ] && relay_stop # not taken over
	HELD=""
done
[ -n "$ran" ] || { fail "no point could be measured"; exit 1; }

# ---- figures ---------------------------------------------------------------------
# get PATH N KEY
get() { kv "$W/res-$1-$2" "$3"; }
# orx VALUE: VALUE, or "-" when it is empty
orx() { if [ -n "$1" ]; then echo "$1"; else echo -; fi; }

# figure NAME VALUE UNIT PATH N CALLS ATTACH: one object, a line of $W/figs
figure() {
	printf '{"name": "density.%s", "value": %s, "unit": "%s", "path": "%s", "n": %s, "calls": %s, "attach": "%s"}\n' \
		"$@" >>"$W/figs"
}
: >"$W/figs"
for pn in $ran; do
	p=${pn%:*} n=${pn#*:}
	pp=$(name_of "$p")
	a=$(get "$p" "$n" attach)
	nw=$(get "$p" "$n" windows)
	for f in "pps packets/s" "cpu_ns_per_packet ns/packet" "loss ratio" \
		"fixed_offered_pps packets/s" "fixed_pps packets/s" \
		"fixed_loss ratio" "fixed_cpu_ns_per_packet ns/packet" \
		"latency_p50_ns ns" "latency_p99_ns ns" \
		"rss_bytes_per_call bytes" "rss_kb kB" \
		"kmem_bytes_per_call bytes" "memlock_bytes bytes" \
		"setup_calls_per_s calls/s" "first_kernel_2nd_share ratio" \
		"first_kernel_p99_ms ms" "latch_cpu_us_per_stream us"; do
		# shellcheck disable=SC2086
		set -- $f
		v=$(get "$p" "$n" "$1")
		[ -n "$v" ] || continue
		k=1
		case $1 in pps | cpu_ns_per_packet | loss) k=${nw:-1} ;; esac
		figure "$pp.$n.$1" "$v" "$2" "$pp" "$k" "$n" "$a"
	done
done

while read -r bn bp bc; do
	figure "generator.$bn.pps" "$bp" packets/s generator 1 "$bn" none
	figure "generator.$bn.cpu_ns_per_frame" "$bc" ns/packet generator 1 \
		"$bn" none
done <"$W/baselines"

# ratios for the targets of issue 7: ratio NAME PATH1 N1 PATH2 N2 KEY:
# KEY of (PATH1, N1) over KEY of (PATH2, N2)
ratio() {
	v1=$(get "$2" "$3" "$6" 2>/dev/null) v2=$(get "$4" "$5" "$6" 2>/dev/null)
	[ -n "$v1" ] && [ -n "$v2" ] || return 0
	v=$(awk -v a="$v1" -v b="$v2" 'BEGIN { if (b > 0) printf "%.3f", a / b }')
	[ -n "$v" ] || return 0
	figure "$1" "$v" ratio "$(name_of "$2")" 1 "$3" "$(get "$2" "$3" attach)"
	say "  $1: $v"
}
lastof() { # the largest N PATH ran at
	for pn in $ran; do [ "${pn%:*}" = "$1" ] && echo "${pn#*:}"; done |
		sort -n | tail -n 1
}
say ""
say "ratios (issue 7: xdp >= 20x rtpengine's pps, <= 1/30 of its CPU per" \
	"packet; socket path >= the plain relay; <= 15% pps lost from 1k to" \
	"100k; xdp <= 1.3x the bare prototype's CPU per packet):"
for n in $(echo "$CALLS $CAP_SOCK $CAP_KERNEL $CAP_UDPRELAY" | tr ' ' '\n' |
	sort -n -u); do
	ratio "xdp_vs_rtpengine.$n.pps_ratio" xdp "$n" rtpengine "$n" pps
	ratio "rtpengine_vs_xdp.$n.cpu_ratio" rtpengine "$n" xdp "$n" \
		cpu_ns_per_packet
	ratio "userspace_vs_udprelay.$n.pps_ratio" off "$n" udprelay "$n" pps
	ratio "xdp_vs_bare.$n.cpu_ratio" xdp "$n" bare "$n" cpu_ns_per_packet
	ratio "bare-array_vs_bare.$n.cpu_ratio" bare-array "$n" bare "$n" \
		cpu_ns_per_packet
done
for p in xdp tc bare bare-array; do
	l=$(lastof "$p")
	[ -n "$l" ] && [ "$l" != 1000 ] &&
		ratio "$p.${l}_vs_1000.pps_ratio" "$p" "$l" "$p" 1000 pps
done
{
	echo "["
	sed '$!s/$/,/' "$W/figs"
	echo "]"
} >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"

# ---- the table --------------------------------------------------------------------
say ""
say "density: maximum rate (A->B, all streams), fixed rate ($RATE pps per stream each way), latency"
printf '%-10s %-9s %7s %9s %8s %6s | %9s %9s %6s %8s | %8s %8s\n' path attach \
	calls "max pps" "CPU ns" loss "50pps off" delivered loss "CPU ns" \
	"lat p50" "lat p99"
for pn in $ran; do
	p=${pn%:*} n=${pn#*:}
	g() { v=$(get "$p" "$n" "$1"); echo "${v:-0}"; }
	printf '%-10s %-9s %7s %9.0f %8.1f %6.3f | %9.0f %9.0f %6.3f %8.1f | %6.1fus %6.1fus\n' \
		"$(name_of "$p")" "$(get "$p" "$n" attach)" "$n" "$(g pps)" \
		"$(g cpu_ns_per_packet)" "$(g loss)" "$(g fixed_offered_pps)" \
		"$(g fixed_pps)" "$(g fixed_loss)" \
		"$(g fixed_cpu_ns_per_packet)" \
		"$(awk -v v="$(g latency_p50_ns)" 'BEGIN { print v / 1000 }')" \
		"$(awk -v v="$(g latency_p99_ns)" 'BEGIN { print v / 1000 }')"
done
say ""
say "per call: memory, set-up, and when the kernel takes a stream over"
printf '%-10s %7s %12s %12s %12s %11s %14s\n' path calls "RSS B/call" \
	"kernel B/call" "ng calls/s" "2nd in kern" "takeover p99"
for pn in $ran; do
	p=${pn%:*} n=${pn#*:}
	rss=$(get "$p" "$n" rss_bytes_per_call)
	[ -z "$rss" ] && rss=$(get "$p" "$n" rss_kb) && [ -n "$rss" ] &&
		rss="($rss kB)"
	[ -z "$rss" ] && rss=-
	sh2=$(get "$p" "$n" first_kernel_2nd_share)
	tk=$(get "$p" "$n" first_kernel_p99_ms)
	printf '%-10s %7s %12s %12s %12s %11s %14s\n' "$(name_of "$p")" "$n" \
		"$rss" "$(orx "$(get "$p" "$n" kmem_bytes_per_call)")" \
		"$(orx "$(get "$p" "$n" setup_calls_per_s)")" \
		"$(awk -v s="$sh2" 'BEGIN { if (s == "") print "-"; else printf "%.1f%%", s * 100 }')" \
		"$( [ -n "$tk" ] && echo "${tk} ms (pkt $(get "$p" "$n" first_kernel_p99_packet))" || echo -)"
done
say ""
say "CPU ns: the relay's CPU per delivered packet: the run time of its own" \
	"tasks (r0's and r1's NAPI threads, its process, its CPU's ksoftirqd)."
say "max pps: what one relay core delivered with the generator flat out;" \
	"where loss is high the relay was overloaded (and its CPU includes the" \
	"packets it received and dropped)."
say "50pps off: what the generators offered (both ways; below" \
	"$RATE x 2 x calls when they could not keep up)."
say "takeover p99: by when 99% of the streams were forwarded by the kernel" \
	"(their packet number; 2 = the second packet, 20 ms after the first)."

# ---- the plot ----------------------------------------------------------------------
if command -v gnuplot >/dev/null 2>&1; then
	: >"$W/plot.dat"
	for p in $PATHS; do
		any=0
		for pn in $ran; do
			[ "${pn%:*}" = "$p" ] || continue
			n=${pn#*:}
			echo "$n $(get "$p" "$n" pps) $(get "$p" "$n" cpu_ns_per_packet)" \
				>>"$W/plot.dat"
			any=1
		done
		[ $any = 1 ] && printf '\n\n' >>"$W/plot.dat"
	done
	plot1="" plot2="" i=0
	for p in $PATHS; do
		case " $ran " in *" $p:"*) ;; *) continue ;; esac
		t="$(name_of "$p")"
		[ "$p" = xdp ] || [ "$p" = tc ] && t="xrelay $p"
		[ "$p" = bare ] && t="bare XDP prototype"
		[ "$p" = bare-array ] && t="bare XDP prototype, port array"
		[ "$p" = off ] && t="xrelay socket path"
		plot1="$plot1${plot1:+, }'$W/plot.dat' index $i using 1:2 with linespoints lw 2 title '$t'"
		plot2="$plot2${plot2:+, }'$W/plot.dat' index $i using 1:3 with linespoints lw 2 title '$t'"
		i=$((i + 1))
	done
	if gnuplot 2>"$W/gnuplot.err" <<EOF; then
set terminal pngcairo size 1100,560 font "sans,10"
set output '$PNG'
set multiplot layout 1,2 title "xrelay density: $(nproc) CPUs, $(uname -r), 214-byte RTP, one run"
set logscale x
set xrange [500:200000]
set xlabel "concurrent calls"
set grid
set key below
set ylabel "packets/s delivered by one relay core (max rate, A->B)"
set logscale y
plot $plot1
set ylabel "relay CPU ns per delivered packet (max rate)"
plot $plot2
unset multiplot
EOF
		say "plot: $PNG"
	else
		say "plot: gnuplot failed: $(head -n 3 "$W/gnuplot.err")"
	fi
else
	say "plot: gnuplot is not installed (tools/deps.sh installs gnuplot-nox)"
fi
exit 0
