# Shared helpers of the end-to-end tests (sourced, POSIX sh).
#
# Each test file sources this, defines one function per case, and calls
# `run_case NAME FUNCTION` for each, then `finish`. A case passes when its
# function returns 0 and no `check` in it failed, is skipped when it
# returns 77, and fails otherwise. Output is TAP ("ok - NAME",
# "not ok - NAME", "ok - NAME # SKIP why").
#
# Everything a test makes is named with the prefix $T (namespaces, the pin
# directory), and `cleanup` - run by the trap on any exit - removes it all:
# processes started with `bg` and any other process left inside the
# run's namespaces (by pid, never by name), the namespaces, pinned maps.

ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=$ROOT/build
T=xr$$-                      # unique prefix for this run; the "-" keeps
                             # run xr12- from matching run xr123-'s names
PIN=/sys/fs/bpf/$T           # pin directory of this run
PIDS=""
NETNS=""
WORK=""                      # a case's scratch directory (workdir)

# xrelay-fp on this run's pins: fp COMMAND OPTIONS (the command comes first).
fp() { c=$1; shift; "$BUILD/xrelay-fp" "$c" --pin-dir "$PIN" "$@"; }

# Run a command inside a namespace. Only the network namespace is entered,
# so /sys/fs/bpf (and the pins) stay the host's.
nsx() { ns=$1; shift; nsenter --net=/run/netns/"$T$ns" "$@"; }

# Start a command in the background inside a namespace; remember its pid
# (nsenter execs the command, so $! is the command's own pid).
bg() { ns=$1; shift; nsenter --net=/run/netns/"$T$ns" "$@" & PIDS="$PIDS $!"; }

# xrelay-fp inside a namespace, so that --dev/--out-dev name its devices.
fpx() { ns=$1 c=$2; shift 2; nsx "$ns" "$BUILD/xrelay-fp" "$c" --pin-dir "$PIN" "$@"; }

# workdir: make $WORK, a scratch directory that cleanup removes.
workdir() { WORK=$(mktemp -d "/tmp/$T.XXXXXX"); }

mkns() {
	for n in "$@"; do
		ip netns add "$T$n" || return 1
		NETNS="$NETNS $T$n"
		ip -n "$T$n" link set lo up
	done
}

# veth NS1 IF1 ADDR1 NS2 IF2 ADDR2: a veth pair between two namespaces,
# addresses with prefix length (e.g. 10.71.1.1/24), both ends up and ready
# (link_ready) when it returns. Transmit checksum offload is turned off on
# both ends so that frames carry full checksums, as frames from a real NIC
# do; with it on, a veth frame carries only the pseudo-header sum
# (CHECKSUM_PARTIAL), which is not what a relay sees on the wire and cannot
# be verified from the bytes.
veth() {
	ip link add "$T$2" netns "$T$1" type veth peer name "$T$5" \
		netns "$T$4" || return 1
	ip -n "$T$1" link set "$T$2" name "$2"
	ip -n "$T$4" link set "$T$5" name "$5"
	addr "$1" "$2" "$3"
	addr "$4" "$5" "$6"
	ip -n "$T$1" link set "$2" up
	ip -n "$T$4" link set "$5" up
	nsx "$1" ethtool -K "$2" tx off >/dev/null 2>&1
	nsx "$4" ethtool -K "$5" tx off >/dev/null 2>&1
	# Up is not ready: wait until both ends carry traffic (see link_ready).
	link_ready "$1" "$2" && link_ready "$4" "$5"
}

mac_of() { ip -n "$T$1" -br link show dev "$2" | awk '{print $3}'; }

# addr NS IF ADDR...: addresses with prefix length on an interface; IPv6
# ones without duplicate address detection, so they are usable at once.
addr() {
	ns=$1 ifn=$2; shift 2
	for a in "$@"; do
		case $a in
		*:*) ip -n "$T$ns" addr add "$a" dev "$ifn" nodad ;;
		*) ip -n "$T$ns" addr add "$a" dev "$ifn" ;;
		esac || return 1
	done
}

# hosts_ab PREFIXLEN: namespaces a, rly and b, linked a0 $A --- r0 $RA and
# r1 $RB --- b0 $B (addresses with PREFIXLEN), default routes via the
# relay, all links ready. A native XDP redirect into a veth is delivered
# only if the peer end runs NAPI (GRO on, or an XDP program); the hosts
# run no relay code, so their ends have GRO on.
hosts_ab() {
	mkns a rly b || return 1
	veth a a0 "$A/$1" rly r0 "$RA/$1" || return 1
	veth rly r1 "$RB/$1" b b0 "$B/$1" || return 1
	ip -n "${T}a" route add default via "$RA" || return 1
	ip -n "${T}b" route add default via "$RB" || return 1
	nsx a ethtool -K a0 gro on >/dev/null || return 1
	nsx b ethtool -K b0 gro on >/dev/null || return 1
	link_ready a a0 && link_ready b b0 && link_ready rly r0 r1
}

# xrelayd_ready: until xrelayd (pid $XPID) logs in $LOG that it is ready
# (5 s); if it exits or does not, its log (without libbpf's lines) and 1.
xrelayd_ready() {
	i=0
	until grep -q 'xrelayd: ready' "$LOG"; do
		if ! kill -0 "$XPID" 2>/dev/null || [ $i -ge 100 ]; then
			echo "xrelayd did not start:"
			grep -v libbpf "$LOG" | sed 's/^/xrelayd: /'
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
}

# kv FILE KEY: the value of a "key=value" line (the last one wins).
kv() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

# wait_udp NS PORT [SEC]: until a UDP socket is bound to PORT in NS.
wait_udp() {
	i=0
	while [ "$i" -lt "$((${3:-5} * 20))" ]; do
		nsx "$1" ss -Huln "sport = :$2" | grep -q . && return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "nothing listens on UDP port $2 in $1 after ${3:-5}s"
	return 1
}

# link_ready NS IF...: until the interfaces carry traffic. A veth is up at
# once, but its operational state, and with it its IPv6 setup (the
# multicast route on which neighbour solicitations arrive), follow from
# the kernel's link watch, which runs up to a second later when links
# change often (as when tests run side by side). Until then a solicitation
# is dropped (IP_INNOROUTES) and the sender tries again only a second
# later, holding its packets meanwhile.
link_ready() {
	ns=$1; shift
	for ifn in "$@"; do
		i=0
		until ip -n "$T$ns" -o link show dev "$ifn" |
			grep -q ' state UP ' &&
			{ [ -z "$(ip -n "$T$ns" -6 -o addr show dev "$ifn")" ] ||
			  ip -n "$T$ns" -6 route show table local type multicast \
				dev "$ifn" | grep -q .; }; do
			if [ "$i" -ge 100 ]; then
				echo "$ifn in $ns is not ready after 5 s"
				return 1
			fi
			sleep 0.05
			i=$((i + 1))
		done
	done
}

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	PIDS=""
	# Every namespace of this run, also those a case made in its subshell
	# (whose pids the parent does not know): first whatever still runs
	# inside them, by pid, then the namespaces.
	runs=$(ip netns list | awk -v t="$T" 'index($1, t) == 1 {print $1}')
	for n in $NETNS $runs; do
		for p in $(ip netns pids "$n" 2>/dev/null); do
			kill "$p" 2>/dev/null
		done
	done
	for n in $NETNS $runs; do
		ip netns del "$n" 2>/dev/null
	done
	NETNS=""
	[ -x "$BUILD/xrelay-fp" ] && "$BUILD/xrelay-fp" unpin --pin-dir "$PIN" \
		2>/dev/null
	rm -rf "$PIN" 2>/dev/null
	[ -n "$WORK" ] && rm -rf "$WORK"
	WORK=""
	return 0
}
# The case running now (a subshell, see run_case): ended by pid on a signal,
# so that its own trap cleans up what it made.
CASE_PID=""
interrupted() {
	if [ -n "$CASE_PID" ]; then
		kill -TERM "$CASE_PID" 2>/dev/null
		wait "$CASE_PID" 2>/dev/null
	fi
	exit 130
}
# On the way out also every /tmp file of this run (the case output, a
# scratch directory a signal caught before $WORK was set).
trap 'cleanup; rm -rf "/tmp/$T".*' EXIT
trap interrupted INT TERM

FAILED=0
CHECK_FAILED=0
# run_case NAME FUNCTION: one case, with a fresh topology each time. The
# case runs in a subshell whose trap cleans up after it, also when it is
# interrupted; the subshell runs in the background and is waited for, so
# that a signal to the test reaches the trap at once (a shell runs traps
# only after the foreground command ends, but interrupts `wait`).
run_case() {
	name=$1; fn=$2
	(
		trap cleanup EXIT
		trap 'exit 130' TERM
		set -u
		"$fn"; rc=$?
		[ "$rc" -eq 0 ] && [ "$CHECK_FAILED" -ne 0 ] && rc=1
		exit "$rc"
	) >"/tmp/$T.case" 2>&1 &
	CASE_PID=$!
	wait "$CASE_PID"
	rc=$?
	CASE_PID=""
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

# The exit status of a test file: 1 if any case failed.
finish() { exit "$FAILED"; }

skip() { echo "$*" >"/tmp/$T.skip"; exit 77; }

# check WHAT CONDITION...: assert, naming what is checked. A failed check
# fails the case but lets it go on, so one run shows every wrong field;
# use `check ... || return 1` where going on makes no sense.
check() {
	what=$1; shift
	if "$@"; then echo "pass: $what"; return 0; fi
	echo "FAIL: $what"
	CHECK_FAILED=1
	return 1
}

# eq WHAT GOT WANT: check that two values are equal, showing both.
eq() {
	if [ "$2" = "$3" ]; then echo "pass: $1 = $3"; return 0; fi
	echo "FAIL: $1 = '$2', want '$3'"
	CHECK_FAILED=1
	return 1
}

# need_bins NAME...: stop the test file (as one failure) if a binary is
# not built.
need_bins() {
	for b in "$@"; do
		if [ ! -x "$BUILD/$b" ]; then
			echo "not ok - build/$b is missing: run make"
			exit 1
		fi
	done
}

# ap ADDR PORT: "ip:port" or "[ip6]:port".
ap() { case $1 in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }
