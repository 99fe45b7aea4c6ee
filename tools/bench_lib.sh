# Shared helpers of the namespace benchmarks tools/bench_media.sh,
# tools/bench_density.sh and tools/bench_sip.sh (sourced, POSIX sh, from
# the repository's top: each script cds there first), as tests/e2e/lib.sh
# is for the tests, whose helpers (namespaces, veth, cleanup) bench_init
# sources.
#
#   bench_init NAME BIN...  as root, OUT absolute, lib.sh, the binaries
#   say / fail MESSAGE      a line; one on stderr naming NAME, returns 1
#   threaded NS IF [CPU [PRIO]] / napi_threads   IF's NAPI in a thread
#   rx NS IF / task_ns PID...   packets received; run time of tasks
#   name_of MODE            a path's name in figures (off: userspace)
#   KSOFT                   the pids of every ksoftirqd

# bench_init NAME BIN...: exit 2 unless root; OUT made absolute;
# tests/e2e/lib.sh sourced, BUILD (default build/) absolute, also in B;
# exit 1 unless every BIN is built. NAME (bench_media, ...) names the
# script in messages. The caller sets its own T, PIN and traps after it.
bench_init() {
	BENCH=$1
	shift
	if [ "$(id -u)" -ne 0 ]; then
		echo "tools/$BENCH.sh: run as root (namespaces, BPF)" >&2
		exit 2
	fi
	case $OUT in /*) ;; *) OUT=$(pwd)/$OUT ;; esac
	case ${BUILD:-build} in
	/*) B=${BUILD:-build} ;;
	*) B=$(pwd)/${BUILD:-build} ;;
	esac
	# shellcheck disable=SC2034 # ROOT is lib.sh's
	ROOT=$(pwd)
	# shellcheck source=tests/e2e/lib.sh
	. tests/e2e/lib.sh
	BUILD=$B
	bench_need "$@"
}

# bench_need BIN...: exit 1 unless every BIN is built.
bench_need() {
	for b in "$@"; do
		if [ ! -x "$B/$b" ]; then
			echo "tools/$BENCH.sh: $B/$b is missing: run make" >&2
			exit 1
		fi
	done
}

say() { printf '%s\n' "$*"; }
fail() { say "$BENCH: $*" >&2; return 1; }

# napi_threads: pids of every kernel thread napi/*, sorted.
napi_threads() {
	grep -l '^napi/' /proc/[0-9]*/comm 2>/dev/null |
		sed 's,^/proc/,,; s,/comm$,,' | sort
}

# threaded NS IF [CPU [PRIO]]: IF's NAPI in a thread of its own (the one
# that appears when threading is switched on; a new one each time),
# pinned to CPU ($GCPU, the generators', by default) with real-time
# priority PRIO (10 by default) or, PRIO "nice", at nice level $PRIO; its
# pid.
threaded() {
	before=$(napi_threads)
	ip netns exec "$T$1" sh -c "echo 1 >/sys/class/net/$2/threaded" ||
		return 1
	new=$(napi_threads | grep -vxF "${before:-none}")
	if [ "$(printf '%s\n' "$new" | grep -c .)" -ne 1 ]; then
		fail "threaded NAPI on $2: want one new napi/ thread, got '$new'"
		return 1
	fi
	taskset -p -c "${3:-$GCPU}" "$new" >/dev/null || return 1
	if [ "${4:-10}" = nice ]; then
		renice -n "$PRIO" -p "$new" >/dev/null || return 1
	else
		chrt -f -p "${4:-10}" "$new" || return 1
	fi
	echo "$new"
}

# ksoftirqd threads, one per CPU.
KSOFT=$(grep -l '^ksoftirqd/' /proc/[0-9]*/comm 2>/dev/null |
	sed 's,^/proc/,,; s,/comm$,,')

# rx NS IF: packets the interface received.
rx() {
	ip -n "$T$1" -s -j link show dev "$2" |
		sed -n 's/.*"rx":{[^}]*"packets":\([0-9]*\).*/\1/p'
}

# task_ns PID...: run time in ns of the given tasks, summed; a pid given
# as a process counts all its threads.
task_ns() {
	for p in "$@"; do
		cat /proc/"$p"/task/*/schedstat 2>/dev/null
	done | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# name_of MODE: the path's name in the figures.
name_of() { [ "$1" = off ] && echo userspace || echo "$1"; }

# wait_ready PID FILE WHAT: until FILE has a line "ready" (or PID ends).
wait_ready() {
	i=0
	until grep -q '^ready' "$2" 2>/dev/null; do
		if ! kill -0 "$1" 2>/dev/null || [ $i -ge 200 ]; then
			fail "$3 did not start"
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
}
