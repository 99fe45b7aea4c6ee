# Shared helpers of the end-to-end tests (sourced, POSIX sh).
#
# Each test file sources this, defines one function per case, and calls
# `run_case NAME FUNCTION` for each. A case passes when its function
# returns 0, is skipped when it returns 77, and fails otherwise. Output is
# TAP ("ok - NAME", "not ok - NAME", "ok - NAME # SKIP why").
#
# Everything a test makes is named with the prefix $T (namespaces, the pin
# directory), and `cleanup` - run by the trap on any exit - removes it all:
# processes started with `bg` (by pid), namespaces, pinned maps.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build
T=xr$$                       # unique prefix for this run
PIN=/sys/fs/bpf/$T           # pin directory of this run
PIDS=""
NETNS=""

fp() { "$BUILD/xrelay-fp" --pin-dir "$PIN" "$@"; }

# Run a command inside a namespace. Only the network namespace is entered,
# so /sys/fs/bpf (and the pins) stay the host's.
nsx() { ns=$1; shift; nsenter --net=/run/netns/"$T$ns" "$@"; }

# Start a command in the background inside a namespace; remember its pid.
bg() { ns=$1; shift; nsenter --net=/run/netns/"$T$ns" "$@" & PIDS="$PIDS $!"; }

mkns() {
	for n in "$@"; do
		ip netns add "$T$n" || return 1
		NETNS="$NETNS $T$n"
		ip -n "$T$n" link set lo up
	done
}

# veth NS1 IF1 ADDR1 NS2 IF2 ADDR2: a veth pair between two namespaces,
# addresses with prefix length (e.g. 10.71.1.1/24). The senders' checksum
# offload is turned off so that frames carry full checksums, as frames
# from a real NIC do.
veth() {
	ip link add "$T$2" netns "$T$1" type veth peer name "$T$5" \
		netns "$T$4" || return 1
	ip -n "$T$1" link set "$T$2" name "$2"
	ip -n "$T$4" link set "$T$5" name "$5"
	ip -n "$T$1" addr add "$3" dev "$2" nodad
	ip -n "$T$4" addr add "$6" dev "$5" nodad
	ip -n "$T$1" link set "$2" up
	ip -n "$T$4" link set "$5" up
	nsx "$1" ethtool -K "$2" tx off >/dev/null 2>&1
	nsx "$4" ethtool -K "$5" tx off >/dev/null 2>&1
	return 0
}

mac_of() { ip -n "$T$1" -br link show dev "$2" | awk '{print $3}'; }

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	PIDS=""
	# Every namespace of this run, also those a case made in its subshell.
	for n in $NETNS $(ip netns list | awk -v t="$T" 'index($1, t) == 1 {print $1}'); do
		ip netns del "$n" 2>/dev/null
	done
	NETNS=""
	[ -x "$BUILD/xrelay-fp" ] && "$BUILD/xrelay-fp" unpin --pin-dir "$PIN" \
		2>/dev/null
	rm -rf "$PIN" 2>/dev/null
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

FAILED=0
# run_case NAME FUNCTION: one case, with a fresh topology each time.
run_case() {
	name=$1; fn=$2
	( trap cleanup EXIT; set -u; "$fn" ) >"/tmp/$T.case" 2>&1
	rc=$?
	sed 's/^/# /' "/tmp/$T.case"
	rm -f "/tmp/$T.case"
	cleanup
	case $rc in
	0) echo "ok - $name" ;;
	77) echo "ok - $name # SKIP $(cat /tmp/$T.skip 2>/dev/null)" ;;
	*) echo "not ok - $name"; FAILED=1 ;;
	esac
	rm -f "/tmp/$T.skip"
}

skip() { echo "$*" >"/tmp/$T.skip"; exit 77; }

# check WHAT CONDITION...: assert, naming what is checked.
check() {
	what=$1; shift
	if "$@"; then echo "pass: $what"; return 0; fi
	echo "FAIL: $what"
	return 1
}
