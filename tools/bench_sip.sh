#!/bin/sh
# bench_sip: the call set-up rate of the B2BUA, with media. A section of
# tools/bench.sh.
#
# Usage: tools/bench_sip.sh OUT.json [STEP_SECONDS] [HOLD_MS]     (as root)
#   OUT.json      the figures, a JSON list with one object per line (the
#                 fragment format of tools/bench.sh)
#   STEP_SECONDS  how long each rate of the search is held (default 4)
#   HOLD_MS       how long each call stays up (default 1000)
#
# Topology (IPv4 only; IPv6 off in these namespaces):
#
#   gen  g0 10.81.1.2 ------------------- r0 10.81.1.1  rly
#        build/sipload: callers and        xrelayd: SIP on udp:10.81.1.1:5060,
#        callees (SIP 5062/5064,           media on r0 with the program
#        RTP 20000/20002)                  attached (--iface r0:xdp)
#
# Callers and callees are both in gen, so both legs of every call are on
# r0: what the relay forwards in the kernel leaves by XDP_TX. g0 has GRO on
# (a native XDP_TX into a veth is delivered only if the peer runs NAPI).
#
# build/sipload registers its 1,000 callees, then searches the highest call
# rate with at most 0.1% failed calls: rates 250, 500, 1000, 1500, ...
# calls/s for STEP_SECONDS each (each step drained before the next), until
# a step fails - more than 0.1% failed calls (a call without its RTP
# through both ways counts as failed), its rate missed, or a set-up p99
# above 500 ms (T1: INVITEs being retransmitted, the daemon dropping SIP) -
# then two steps between the last passing and the failing rate.
# A call: INVITE with SDP, 100/180/200 with SDP, ACK,
# RTP both ways (2 packets per direction: the first latches the peer in the
# daemon, which installs the kernel flow, the second should be forwarded by
# the kernel), held HOLD_MS, BYE/200. "Media entries installed" is checked
# three ways: the calls whose RTP came through both ways (sipload), the
# peak number of entries of the relay's pinned xr_flows map during the step
# (2 per call: one per direction), and the packets the kernel forwarded
# (xr_stats: one per second packet, 2 per call).
#
# xrelayd runs with --log-level warn (it logs a line per call at info), its
# journal in /dev/shm (tmpfs, as it is meant to be: the default
# /run/xrelay is on disk on these machines), ports 16384-65535 and
# --quarantine 1s: a call takes 4 ports (an RTP/RTCP pair per leg) for its
# hold plus the quarantine, so 49,152 ports carry about 6,000 calls/s with
# 1 s holds (with the default 5 s quarantine about 2,000). Generator and
# daemon are pinned to different CPUs (generator cpu0, daemon the last).
# On veth the receiving side's softirq work runs in the sender's context:
# the daemon's CPU includes the delivery of what it sends into the
# generator's sockets, and the generator's the relay's XDP program and
# the delivery into the daemon's sockets.
#
# With 2 RTP packets per stream half of the media is forwarded by the
# daemon itself (the first packets, which latch), so its health check warns
# that less than 90% went through the kernel: expected here.
#
# The table, a line per step: the rate asked; calls started; failed (and
# below, by reason); set-up and BYE time p50/p99 (ms); media% (calls with
# RTP through both ways); flows peak (xr_flows entries); kfwd (packets the
# kernel forwarded); relay us/call (the daemon's CPU per call); load% (that
# times the rate: the share of one core the daemon needs for it); drops
# (datagrams lost at the daemon's full socket buffers); gen cpu%. After the
# run, the drops per socket: SIP (its default 208 KB receive buffer) and
# the media port pool's socket.
#
# Figures: sip.max_cps (calls/s), and for that step sip.max_cps.cps,
# .failures (ratio), .setup_p50 / .setup_p99 (ms, INVITE sent to 200
# received), .bye_p50 / .bye_p99 (ms), .media_ok (ratio of calls with RTP
# through both ways), .flows_peak (entries), .kernel_forwarded (packets),
# .relay_cpu_per_call (us of the daemon's CPU per call), .relay_udp_drops
# (packets lost at its full sockets during the step).
#
# BENCH_SIP_ARGS replaces sipload's "--search --step STEP --quiet" (by
# hand, e.g. BENCH_SIP_ARGS="--rate 500 --duration 5 --verbose");
# BENCH_SIP_DAEMON_ARGS is added to xrelayd's (e.g. "--state-dir=" to
# measure without the journal).
#
# Everything made is removed on exit, also on failure or a signal.
# Exit: 0 measured, 1 could not run, 2 usage.
set -u
OUT=${1:-}
STEP=${2:-4}
HOLD=${3:-1000}
if [ -z "$OUT" ]; then
	echo "usage: tools/bench_sip.sh OUT.json [STEP_SECONDS] [HOLD_MS]" >&2
	exit 2
fi
cd "$(dirname "$0")/.." || exit 2
. tools/bench_lib.sh
bench_init bench_sip
if [ ! -x "$B/sipload" ] && [ -z "${MAKELEVEL:-}" ]; then
	make -s BUILD="$B" "$B/sipload" >/dev/null
fi
bench_need xrelayd sipload xrelay-fp
T=xrbs$$-                   # namespaces xrbs<pid>-gen, -rly
PIN=/sys/fs/bpf/xrbench-$$  # tools/bench.sh removes it if we are killed
STATE=/dev/shm/xrbs$$-state # the daemon's journal (tmpfs)
W=$(mktemp -d "/tmp/xrbs$$.XXXXXX")
XPID=""
trap 'daemon_stop; cleanup; rm -rf "$W" "$STATE"' EXIT
trap 'exit 130' INT TERM HUP

G=10.81.1.2 R=10.81.1.1
NCPU=$(nproc)
GCPU=0
RCPU=$((NCPU - 1))

topology() {
	mkns gen rly || return 1
	for n in gen rly; do
		nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	veth gen g0 "$G/24" rly r0 "$R/24" || return 1
	nsx gen ethtool -K g0 gro on >/dev/null || return 1
	link_ready gen g0 && link_ready rly r0
}

# shellcheck disable=SC2086 # BENCH_SIP_DAEMON_ARGS is a list of options
daemon_start() {
	mkdir -p "$STATE" || return 1
	taskset -c "$RCPU" nsenter --net="/run/netns/${T}rly" \
		"$BUILD/xrelayd" --listen "udp:$R:5060" --iface r0:xdp \
		--ports 16384-65535 --quarantine 1s --pin-dir "$PIN" \
		--state-dir "$STATE" --ctl-socket "$W/ctl.sock" \
		--log-level warn ${BENCH_SIP_DAEMON_ARGS:-} \
		>"$W/xrelayd.out" 2>"$W/xrelayd.err" &
	XPID=$!
	PIDS="$PIDS $XPID"
	wait_udp rly 5060 5 >/dev/null || {
		sed 's/^/  xrelayd: /' "$W/xrelayd.err" >&2
		fail "xrelayd did not start"
		return 1
	}
	kill -0 "$XPID" 2>/dev/null || {
		sed 's/^/  xrelayd: /' "$W/xrelayd.err" >&2
		fail "xrelayd exited"
		return 1
	}
}

# A clean stop (BYE for what is left, flows and pins removed).
daemon_stop() {
	[ -n "$XPID" ] || return 0
	kill -TERM "$XPID" 2>/dev/null
	i=0
	while kill -0 "$XPID" 2>/dev/null && [ $i -lt 60 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	kill -KILL "$XPID" 2>/dev/null
	wait "$XPID" 2>/dev/null
	XPID=""
}

say "sip: call set-up rate through xrelayd (--iface r0:xdp), ${STEP} s per" \
	"rate, hold ${HOLD} ms, generator on cpu$GCPU, daemon on cpu$RCPU"
topology || { fail "cannot build the namespaces"; exit 1; }
daemon_start || exit 1
got=$(ip -n "${T}rly" -d link show dev r0 |
	sed -n 's/.*prog\/\(xdp[a-z]*\).*/\1/p' | head -n 1)
case $got in
xdp) path=xdp ;;
xdpgeneric) path=xdp-generic ;;
*) path=userspace; say "  WARNING: no XDP program on r0: media through the socket path" ;;
esac
say "  attach got: $path"

# shellcheck disable=SC2086 # BENCH_SIP_ARGS is a list of options
taskset -c "$GCPU" nsenter --net="/run/netns/${T}gen" "$BUILD/sipload" \
	--relay "$R:5060" --local "$G" --hold "$HOLD" --users 1000 \
	--pin-dir "$PIN" --relay-pid "$XPID" --json "$OUT.tmp" --path "$path" \
	${BENCH_SIP_ARGS:---search --step $STEP --quiet}
rc=$?

say "relay's kernel counters (xr_stats, the whole run):"
"$BUILD/xrelay-fp" stats --pin-dir "$PIN" 2>/dev/null |
	awk 'NR == 1 || $2 > 0' | sed 's/^/  /'
say "relay's sockets (the whole run; drops: datagrams lost at a full" \
	"receive buffer; :5060 is SIP, the other the media port pool's):"
nsx rly ss -uanm | awk '$1 == "UNCONN" { a = $4 }
	/skmem/ { rb = d = "?"
		  if (match($0, /rb[0-9]+/)) rb = substr($0, RSTART + 2, RLENGTH - 2)
		  if (match($0, /,d[0-9]+\)/)) d = substr($0, RSTART + 2, RLENGTH - 3)
		  printf "  %-22s receive buffer %8s bytes, drops %s\n", a, rb, d }'
if ! kill -0 "$XPID" 2>/dev/null; then
	fail "xrelayd died during the run"
	sed 's/^/  xrelayd: /' "$W/xrelayd.err" | tail -n 20 >&2
	rc=1
elif [ -s "$W/xrelayd.err" ]; then
	n=$(wc -l <"$W/xrelayd.err")
	say "xrelayd logged $n warnings (numbers shown as N):"
	sed 's/^[0-9:.]* //; s/call [^ ]*/call X/g; s/[0-9][0-9]*/N/g' \
		"$W/xrelayd.err" | sort | uniq -c |
		sort -rn | head -n 5 | sed 's/^/  /'
fi
daemon_stop
if [ $rc -ne 0 ] || [ ! -s "$OUT.tmp" ]; then
	rm -f "$OUT.tmp"
	fail "sipload did not complete"
	exit 1
fi
mv "$OUT.tmp" "$OUT"
exit 0
