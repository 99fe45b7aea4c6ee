#!/bin/sh
# The demo: a call's media through xrelay, forwarded in the kernel.
#
# Three network namespaces (alice, relay, bob) joined by veth pairs; the
# relay runs the media engine with the XDP program attached to both of its
# veths. Alice's SDP offer and Bob's answer go through the engine, which
# anchors the media on the relay; then both send RTP for a few seconds. The
# first packet of each direction is latched and forwarded by userspace,
# every later one by the kernel: the counters printed at the end show it.
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
trap 'cleanup; rm -rf "$W"' EXIT
W=$(mktemp -d)
say() { printf '\n== %s\n' "$*"; }

say "Topology: alice 10.77.1.2 -- relay 10.77.1.1 | 10.77.2.1 -- bob 10.77.2.2"
mkns alice relay bob || exit 1
veth alice a0 10.77.1.2/24 relay r0 10.77.1.1/24 || exit 1
veth relay r1 10.77.2.1/24 bob b0 10.77.2.2/24 || exit 1
ip -n "${T}alice" route add default via 10.77.1.1
ip -n "${T}bob" route add default via 10.77.2.1
# A native XDP redirect into a veth is delivered only if the receiving end
# runs NAPI: GRO on the peers' ends does that (a real NIC needs nothing).
nsx alice ethtool -K a0 gro on >/dev/null
nsx bob ethtool -K b0 gro on >/dev/null

say "Starting the media engine in the relay namespace (attach mode $MODE)"
mkfifo "$W/ctl"
exec 3<>"$W/ctl" # read-write: opening it never blocks
# The redirections sit on the background command itself: an asynchronous
# command's stdin is otherwise /dev/null.
nsenter --net="/run/netns/${T}relay" "$BUILD/xrelay-media" \
	--iface "r0:$MODE" --iface "r1:$MODE" --pin-dir "$PIN" \
	<"$W/ctl" >"$W/out" 2>"$W/log" &
PIDS="$PIDS $!"
ctl() { # one command, wait for its "ok"/"error" line
	n=$(grep -c -E '^(ok|error)' "$W/out")
	echo "$*" >&3
	i=0
	while [ "$(grep -c -E '^(ok|error)' "$W/out")" -le "$n" ] && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	grep -E '^error' "$W/out" | tail -n +$((n + 1)) | head -1 | grep . >&2 && return 1
	return 0
}
i=0; while ! grep -q ready "$W/out" && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
sed 's/^/   engine: /' "$W/log"

cat >"$W/alice.sdp" <<EOF
v=0
o=alice 2890844526 2890844526 IN IP4 10.77.1.2
s=demo
c=IN IP4 10.77.1.2
t=0 0
m=audio 4000 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=sendrecv
EOF
cat >"$W/bob.sdp" <<EOF
v=0
o=bob 2808844564 2808844564 IN IP4 10.77.2.2
s=demo
c=IN IP4 10.77.2.2
t=0 0
m=audio 5000 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=sendrecv
EOF
ctl hint call1 B 10.77.2.2:5060 || exit 1
ctl offer call1 A 10.77.1.2:5060 "$W/alice.sdp" "$W/to-bob.sdp" || exit 1
ctl answer call1 B 10.77.2.2:5060 "$W/bob.sdp" "$W/to-alice.sdp" || exit 1
say "Alice's offer, as the relay sends it to Bob"
sed 's/^/   /' "$W/to-bob.sdp"
say "Bob's answer, as the relay sends it to Alice"
sed 's/^/   /' "$W/to-alice.sdp"
PA=$(awk '/^m=audio/ {print $2}' "$W/to-alice.sdp")
PB=$(awk '/^m=audio/ {print $2}' "$W/to-bob.sdp")

N=$((SECS * 50))
say "RTP both ways for $SECS s: $N packets each, 50 packets/s (G.711, 20 ms)"
# Each phone sends and receives on one socket (symmetric RTP), to the
# relay's port from the SDP it was given.
bg bob "$BUILD/rtpprobe" recv --port 5000 --count "$N" --timeout $((SECS + 6)) \
	--iface b0 --send-to "10.77.2.1:$PB" --send-count "$N" --send-rate 50 \
	--send-ssrc 0xb0b --send-delay 0.5 >"$W/bob.recv"
RB=$!
bg alice "$BUILD/rtpprobe" recv --port 4000 --count "$N" --timeout $((SECS + 6)) \
	--iface a0 --send-to "10.77.1.1:$PA" --send-count "$N" --send-rate 50 \
	--send-ssrc 0xa11ce --send-delay 0.5 >"$W/alice.recv"
RA=$!
wait "$RB"; wait "$RA"
for who in bob alice; do
	printf '   %-5s got %s packets from %s, lost %s, checksums ok %s, ttl %s\n' \
		"$who" "$(sed -n 's/^received=//p' "$W/$who.recv")" \
		"$(sed -n 's/^src=//p' "$W/$who.recv")" \
		"$(sed -n 's/^lost=//p' "$W/$who.recv")" \
		"$(sed -n 's/^csum_ok=//p' "$W/$who.recv")" \
		"$(sed -n 's/^ttl=//p' "$W/$who.recv")"
done

ctl info call1 >/dev/null
say "Per leg (RTP): latched peer, packets forwarded in the kernel / by userspace"
for l in a b; do
	who=$([ $l = a ] && echo alice || echo bob)
	printf '   from %-5s relay port %s latched %s: kernel %s, userspace %s\n' \
		"$who" "$(sed -n "s/^$l.0.rtp.port=//p" "$W/out" | tail -1)" \
		"$(sed -n "s/^$l.0.rtp.latched=//p" "$W/out" | tail -1)" \
		"$(sed -n "s/^$l.0.rtp.kernel_packets=//p" "$W/out" | tail -1)" \
		"$(sed -n "s/^$l.0.rtp.user_packets=//p" "$W/out" | tail -1)"
done
say "The kernel's per-reason counters (xrelay-fp stats)"
"$BUILD/xrelay-fp" stats --pin-dir "$PIN" | awk 'NR == 1 || $2 > 0' | sed 's/^/   /'
say "A live flow, as bpftool shows it (bpftool map dump pinned $PIN/xr_flows)"
bpftool map dump pinned "$PIN/xr_flows" | head -40 | sed 's/^/   /'
[ -n "${DEMO_DEBUG:-}" ] && cat "$W/out" "$W/log"
ctl quit >/dev/null 2>&1
exec 3>&-
say "Done: namespaces, processes and pinned maps are removed on exit."
