#!/bin/sh
# xrelay benchmarks: runs every section, prints its table, and collects all
# figures into one JSON file that a script can compare between runs. Never
# fails on a figure; exits 1 only if a section could not run at all.
#
# Usage: tools/bench.sh        (as root; `make bench` builds, then runs it)
#
# $BUILD/bench.json (BUILD defaults to build) is a JSON list, one object
# per figure:
#   {"name": "prog.xdp.ipv4.hit.1m", "value": 189.0, "unit": "ns/packet",
#    "path": "xdp", "n": 11}
#   name   unique over all sections, dotted, starting with the section name
#   value  the figure: a median over n measurements (or a ratio of them)
#   unit   "ns/packet", "ratio", ...
#   path   the forwarding path measured: "xdp", "tc", "userspace" (and
#          the reference relays: "rtpengine", "udprelay")
#   n      how many repeated measurements the median was taken over
#   calls  (section density) the concurrent calls it was measured with
#   attach (section density) the attach mode the relay really had
#
# Adding a section: its program writes its figures to its own fragment
# $BUILD/bench-<section>.json, a JSON list with ONE OBJECT PER LINE ("[",
# "{...},", ..., "{...}", "]"), and it gets one line
#   section <section> <command and arguments, naming the fragment>
# below. Fragments are removed first, so a section that fails leaves no
# stale figures; at the end merge_json joins the fragments of the sections
# that ran, in order, into $BUILD/bench.json.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
OUT=$BUILD/bench.json

if [ "$(id -u)" -ne 0 ]; then
	echo "tools/bench.sh: run as root: the benchmarks load BPF programs" \
	     "and pin maps under /sys/fs/bpf" >&2
	exit 2
fi
tools/deps.sh || exit 2
if [ -z "${MAKELEVEL:-}" ]; then # run by hand: build what is missing
	make -s BUILD="$BUILD" all "$BUILD/bench_prog" "$BUILD/bench_gen" \
		"$BUILD/bench_ng" "$BUILD/bench_udprelay" "$BUILD/bench_bare" >/dev/null || exit 2
fi

# Pin directories of a bench_prog that was killed before its own cleanup
# (SIGKILL, a crash): only those whose process is gone.
clean_stale() {
	for d in /sys/fs/bpf/xrbench-*; do
		[ -d "$d" ] || continue
		pid=${d##*/xrbench-}
		case $pid in '' | *[!0-9]*) continue ;; esac
		kill -0 "$pid" 2>/dev/null && continue
		echo "tools/bench.sh: removing $d, left by a killed run" >&2
		rm -rf "$d"
	done
}
trap clean_stale EXIT
trap 'exit 130' INT TERM HUP

frags=""
failed=""

# section NAME CMD...: run one benchmark; its fragment is
# $BUILD/bench-NAME.json.
section() {
	name=$1
	shift
	echo
	echo "== $name: $*"
	if "$@" && [ -s "$BUILD/bench-$name.json" ]; then
		frags="$frags $BUILD/bench-$name.json"
	else
		echo "tools/bench.sh: section $name failed" >&2
		failed="$failed $name"
	fi
	clean_stale
}

# Joins fragments (one object per line) into one JSON list.
merge_json() {
	out=$1
	shift
	awk 'BEGIN { n = 0; print "[" }
	     /^[ \t]*\{/ { sub(/,[ \t]*$/, "")
			   printf "%s%s", (n++ ? ",\n" : ""), $0 }
	     END { if (n) printf "\n"; print "]" }' "$@" >"$out.tmp" &&
		mv "$out.tmp" "$out"
}

rm -f "$BUILD"/bench-*.json "$OUT"
clean_stale

# ---- sections ----------------------------------------------------------------
# Per-packet cost of the XDP and TC programs with 1k, 100k and 1M flows.
section prog "$BUILD/bench_prog" -o "$BUILD/bench-prog.json"
# Packets per second and CPU per packet through the relay in namespaces:
# XDP, TC and the socket path (attach mode off), in one run.
section media tools/bench_media.sh "$BUILD/bench-media.json"
# Call set-up rate through the B2BUA (build/sipload against xrelayd, XDP).
section sip tools/bench_sip.sh "$BUILD/bench-sip.json"
# Calls at once (1k to 100k, set up over ng) against packets/s, CPU per
# packet, loss, latency and memory per call: xrelay xdp/tc/off, rtpengine,
# a plain recvmmsg relay; plot in $BUILD/bench-density.png.
section density tools/bench_density.sh "$BUILD/bench-density.json"

# ---- collect -----------------------------------------------------------------
echo
if [ -n "$frags" ]; then
	# shellcheck disable=SC2086 # word splitting of the list is wanted
	merge_json "$OUT" $frags &&
		echo "figures: $OUT ($(grep -c '"name"' "$OUT") figures from:$frags)"
fi
if [ -n "$failed" ]; then
	echo "tools/bench.sh: failed sections:$failed" >&2
	exit 1
fi
exit 0
