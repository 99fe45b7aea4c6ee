#!/bin/sh
# Runs every test: installs what is missing, builds (tests under ASan/UBSan),
# runs the cmocka unit and BPF program tests, then the end-to-end tests in
# network namespaces. Every test reports TAP lines ("ok - name",
# "not ok - name", "ok - name # SKIP why"); the last line is the summary.
#
# Usage: tests/run.sh [PATTERN]     (as root; PATTERN filters test files)
set -u
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "tests/run.sh: run as root: the tests load BPF programs and make" \
	     "network namespaces" >&2
	exit 2
fi
tools/deps.sh || exit 2
make -s -j"$(nproc)" test-build || { echo "0 passed, 1 failed"; exit 1; }

pattern=${1:-}
pass=0 fail=0 skip=0
failed_names=""
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Count the TAP lines of one test program's output.
tally() {
	name=$1
	p=$(grep -c '^ok' "$out")
	s=$(grep -Ec '^ok .*# SKIP' "$out")
	f=$(grep -Ec '^not ok' "$out")
	p=$((p - s))
	pass=$((pass + p)) skip=$((skip + s)) fail=$((fail + f))
	if [ "$f" -gt 0 ] || [ "$2" -ne 0 -a "$2" -ne 77 -a "$f" -eq 0 ]; then
		[ "$f" -eq 0 ] && fail=$((fail + 1)) # crashed without a TAP line
		failed_names="$failed_names $name"
	fi
}

run_one() {
	name=$1; shift
	echo "# --- $name"
	timeout -k 10 "${TEST_TIMEOUT:-600}" "$@" >"$out" 2>&1
	rc=$?
	cat "$out"
	[ $rc -eq 124 ] && echo "not ok - $name timed out" >>"$out"
	tally "$name" "$rc"
}

for t in build/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *"$pattern"*) ;; *) continue ;; esac
	CMOCKA_MESSAGE_OUTPUT=TAP run_one "$(basename "$t")" "$t"
done
# The libFuzzer targets (tests/fuzz/): every corpus input again, then
# FUZZ_CI_TIME seconds of fuzzing each, two at a time.
case fuzz in *"$pattern"*)
	if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
		echo "ok - fuzz # SKIP ${FUZZ_CC:-clang} is not installed" >"$out"
		cat "$out"
		tally fuzz 0
	elif ! make -s -j"$(nproc)" fuzz-build >"$out" 2>&1; then
		cat "$out"
		echo "not ok - fuzz: make fuzz-build failed" >"$out"
		cat "$out"
		tally fuzz 1
	else
		run_one fuzz sh tests/fuzz/run.sh "${FUZZ_CI_TIME:-20}"
	fi ;;
esac
for t in tests/e2e/test_*.sh; do
	[ -f "$t" ] || continue
	case "$t" in *"$pattern"*) ;; *) continue ;; esac
	run_one "$(basename "$t")" sh "$t"
done

[ -n "$failed_names" ] && echo "# failed:$failed_names"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
