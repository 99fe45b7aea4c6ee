#!/bin/sh
# The demo: a real SIP call through xrelay, its media forwarded in the
# kernel.
#
# Three network namespaces (alice, relay, bob) joined by veth pairs; the
# relay runs xrelayd, the B2BUA, with the XDP program attached to both of
# its veths. Two baresip phones register with it, alice calls bob through
# it, bob answers, and for a few seconds each plays a tone to the other
# (alice 440 Hz, bob 880 Hz) and records what it hears. The first packet
# of each stream is latched and forwarded by userspace, every later one by
# the kernel. At the end: the SIP trace of both legs, the call's CDR line,
# the kernel's per-leg counters, and the tone each phone heard.
#
# Usage: tools/demo.sh [SECONDS] [xdp|xdp-generic|tc|off]   (as root)
set -u
cd "$(dirname "$0")/.."
SECS=${1:-5}
MODE=${2:-xdp}

if [ "$(id -u)" -ne 0 ]; then
	echo "tools/demo.sh: run as root (it makes network namespaces and" \
	     "loads BPF programs)" >&2
	exit 2
fi
tools/deps.sh || exit 2
make -s -j"$(nproc)" || exit 1

ROOT=$(pwd)
. tests/e2e/lib.sh
. tests/e2e/phones.sh    # phone, ua, phones_stop: the tests' phones
PHONE_MODULES=sndfile.so # the phones record what they hear
# Phones first (by pid; a baresip asked to stop would first unregister
# with the relay), then what lib.sh's cleanup removes ($WORK too).
trap 'phones_stop; cleanup' EXIT
workdir
W=$WORK
say() { printf '\n== %s\n' "$*"; }
fail() { echo "demo: $*" >&2; exit 1; }

A=10.77.1.2 RA=10.77.1.1 B=10.77.2.2 RB=10.77.2.1
say "Topology: alice $A -- $RA relay $RB -- $B bob"
mkns alice relay bob || exit 1
veth alice a0 $A/24 relay r0 $RA/24 || exit 1
veth relay r1 $RB/24 bob b0 $B/24 || exit 1
ip -n "${T}alice" route add default via $RA
ip -n "${T}bob" route add default via $RB
# A native XDP redirect into a veth is delivered only if the receiving end
# runs NAPI: GRO on the peers' ends does that (a real NIC needs nothing).
nsx alice ethtool -K a0 gro on >/dev/null
nsx bob ethtool -K b0 gro on >/dev/null
link_ready alice a0 && link_ready bob b0 && link_ready relay r0 r1 || exit 1

say "Starting xrelayd in the relay namespace (attach mode $MODE)"
LOG=$W/xrelayd.log CDR=$W/cdr.jsonl
mkdir -p "$W/state"
bg relay "$BUILD/xrelayd" --listen udp:0.0.0.0:5060 \
	--iface "r0:$MODE" --iface "r1:$MODE" --pin-dir "$PIN" \
	--state-dir "$W/state" --ctl-socket "$W/xrelayd.sock" \
	--domain xrelay.demo --cdr-file "$CDR" --log-level debug \
	</dev/null >"$LOG" 2>&1
XPID=$!
i=0
until grep -q 'xrelayd: ready' "$LOG"; do
	if ! kill -0 $XPID 2>/dev/null || [ $i -ge 100 ]; then
		grep -v libbpf "$LOG" | sed 's/^/   xrelayd: /'
		fail "xrelayd did not start"
	fi
	sleep 0.05
	i=$((i + 1))
done
grep -E 'info +(media|sip|xrelayd):|warn|error' "$LOG" | grep -v libbpf |
	sed 's/^[0-9:.]* [a-z]* */   xrelayd: /'

say "Two SIP phones (baresip) register with xrelayd"
# Each in $W/NAME, controlled with build/uactl on 127.0.0.1:4444 in its
# namespace (ua NAME ...).
phone alice alice $A $RA 440 4444 || fail "alice did not register"
phone bob bob $B $RB 880 4444 || fail "bob did not register"
for n in alice bob; do
	ua $n reginfo | grep "sip:$n@" | sed "s/  */ /g; s/^> */   $n: /"
done

# trace_since N: xrelayd's SIP trace (one line per message) after line N
# of its log.
trace_since() {
	tail -n +$(($1 + 1)) "$LOG" | grep ' sip: [rt]x ' |
		sed 's/ debug sip: /  /; s/^/     /'
}

say "Alice calls sip:bob@$RA; bob's phone rings and he answers"
mark=$(wc -l <"$LOG")
ua alice --timeout 10 --wait-event CALL_ESTABLISHED,CALL_CLOSED \
	dial "sip:bob@$RA" >"$W/dial.out" 2>&1 &
DPID=$!
i=0
until ua bob listcalls 2>/dev/null | grep -q INCOMING; do
	[ $i -ge 50 ] && { cat "$W/dial.out"; fail "bob's phone did not ring"; }
	sleep 0.1
	i=$((i + 1))
done
ua bob --wait-event CALL_ESTABLISHED accept >/dev/null ||
	fail "bob could not answer"
wait $DPID
grep -q '^CALL_ESTABLISHED' "$W/dial.out" ||
	fail "alice's call was not established: $(cat "$W/dial.out")"
echo "   alice: $(cat "$W/dial.out")"
echo "   SIP as xrelayd saw it (leg A: alice, leg B: bob; two dialogs):"
trace_since "$mark"

say "Talking for $SECS s: alice sends 440 Hz, bob 880 Hz (G.711, 50 packets/s)"
sleep "$SECS"
echo "   Live flows, as xrelay-fp flow-list shows them (in-kernel packets):"
"$BUILD/xrelay-fp" flow-list --pin-dir "$PIN" | sed 's/^/     /'
say "A live flow, as bpftool shows it (bpftool map dump pinned $PIN/xr_flows)"
echo "   (addresses as bytes, ports in network byte order)"
bpftool map dump pinned "$PIN/xr_flows" | head -40 | sed 's/^/   /'

say "Alice hangs up"
mark=$(wc -l <"$LOG")
ua alice --wait-event CALL_CLOSED hangup | sed 's/^/   alice: /'
i=0
until [ -s "$CDR" ] || [ $i -ge 60 ]; do sleep 0.05; i=$((i + 1)); done
trace_since "$mark"

say "The call's CDR: the JSON line xrelayd appends to its --cdr-file"
sed 's/^/   /' "$CDR"
cdr_leg() {
	tail -n 1 "$CDR" | sed -n "s/.*\"$1\":{[^}]*\"$2\":\([0-9]*\).*/\1/p"
}
say "Per leg (RTP and RTCP): packets forwarded in the kernel / by userspace"
for l in a b; do
	who=$([ $l = a ] && echo alice || echo bob)
	printf '   from %-5s kernel %5s packets %7s bytes, userspace %s packets, dropped %s\n' \
		"$who" "$(cdr_leg $l kernel_packets)" "$(cdr_leg $l kernel_bytes)" \
		"$(cdr_leg $l user_packets)" "$(cdr_leg $l drops)"
done
say "The kernel's per-reason counters (xrelay-fp stats)"
"$BUILD/xrelay-fp" stats --pin-dir "$PIN" | awk 'NR == 1 || $2 > 0' |
	sed 's/^/   /'

say "What each phone heard (its recording, analysed by sox)"
for p in alice:880 bob:440; do
	who=${p%%:*} want=${p#*:}
	f=$(ls "$W/$who"/dump-*-dec.wav 2>/dev/null | head -n 1)
	if [ -z "$f" ]; then
		echo "   $who: no recording"
		continue
	fi
	sox "$f" -n stat >"$W/$who.stat" 2>&1
	printf '   %-5s heard %s Hz (the other phone plays %s Hz), RMS amplitude %s, %s s\n' \
		"$who" \
		"$(sed -n 's/^Rough *frequency: *//p' "$W/$who.stat")" "$want" \
		"$(sed -n 's/^RMS *amplitude: *//p' "$W/$who.stat")" \
		"$(sed -n 's/^Length (seconds): *//p' "$W/$who.stat")"
done
[ -n "${DEMO_DEBUG:-}" ] && grep -v libbpf "$LOG"
say "Done: phones, xrelayd, namespaces and pinned maps are removed on exit."
