#!/bin/sh
# Runs the libFuzzer targets: first every file of each target's corpus once
# (the regression inputs: crashes found before must stay fixed), then
# fuzzing for SECONDS each, two targets at a time (or FUZZ_JOBS). One TAP
# line per target and phase: "ok - fuzz NAME ..." or "not ok - fuzz NAME
# ...", with executions per second and where a crashing input was saved.
#
# Usage: tests/fuzz/run.sh SECONDS [TARGET...]   (from `make fuzz`,
#        `make fuzz-ci` or tests/run.sh; the targets must be built)
#
# Seeds: tests/fuzz/corpus/TARGET/ (committed; a crash's input goes here,
# as crash-*, with its fix).
# New inputs found go to build/fuzz-corpus/TARGET/ (kept between runs, not
# committed), crashes to build/fuzz-crash/TARGET-*, logs to
# build/fuzz-log/TARGET.log.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
secs=${1:?usage: tests/fuzz/run.sh SECONDS [TARGET...]}
shift
[ $# -gt 0 ] || set -- fuzz_b2bua fuzz_config fuzz_ng fuzz_sdp
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
[ "$jobs" -gt 2 ] && jobs=2
mkdir -p "$BUILD/fuzz-log" "$BUILD/fuzz-crash"

# Every seed once; a crash names the file.
replay() {
	name=$1 bin=$BUILD/$1 log=$BUILD/fuzz-log/$1.replay.log
	n=$(ls "tests/fuzz/corpus/$name" | wc -l)
	# files, not the directory: each is run once, nothing is written
	if "$bin" -timeout=10 -rss_limit_mb=2048 \
	   -artifact_prefix="$BUILD/fuzz-crash/$name-replay-" \
	   "tests/fuzz/corpus/$name"/* >"$log" 2>&1; then
		echo "ok - fuzz $name: $n corpus inputs replayed"
	else
		echo "not ok - fuzz $name: a corpus input fails, see $log:"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|Running:)|runtime error' "$log" |
			tail -5 | sed 's/^/#   /'
	fi
}

# Fuzz for $secs; the last status line has the figures.
fuzz() {
	name=$1 bin=$BUILD/$1 log=$BUILD/fuzz-log/$1.log work=$BUILD/fuzz-corpus/$1
	dict=tests/fuzz/$name.dict
	mkdir -p "$work"
	set -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$BUILD/fuzz-crash/$name-"
	[ -f "$dict" ] && set -- "$@" -dict="$dict"
	if "$bin" "$@" "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
		cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1)
		echo "ok - fuzz $name: ${runs:-?} inputs in ${secs} s (${rate:-?}/s), $cov, corpus $(ls "$work" | wc -l)"
	else
		crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
		echo "not ok - fuzz $name: crash, input saved in ${crash:-?}, see $log:"
		grep -E '^(==[0-9]+==ERROR|SUMMARY)|runtime error' "$log" |
			tail -5 | sed 's/^/#   /'
	fi
}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
i=0 pids=""
for t in "$@"; do
	i=$((i + 1))
	if [ ! -x "$BUILD/$t" ]; then
		echo "not ok - fuzz $t: $BUILD/$t not built (make fuzz-build)" >"$out/$i.1"
		continue
	fi
	replay "$t" >"$out/$i.1"
	fuzz "$t" >"$out/$i.2" &
	pids="$pids $!"
	# at most $jobs at once: wait for the oldest
	set -- $pids
	if [ $# -ge "$jobs" ]; then
		wait "$1"
		shift
		pids="$*"
	fi
done
wait
for f in $(ls "$out" | sort -n); do cat "$out/$f"; done
! grep -q '^not ok' "$out"/* 2>/dev/null
