#!/bin/sh
# End-to-end: `make install` and what it installs, as an operator meets it.
#
# make install into a staging directory (DESTDIR) puts every file where the
# unit and the README say, with its mode; a second install keeps the
# operator's config; uninstall removes everything but it; PREFIX sets the
# unit's paths. The installed daemon accepts the installed example config
# (which documents every key of --help), names a bad line by file and line,
# refuses a bad flag; the installed xrelayctl runs. The unit passes
# systemd-analyze verify (skipped where the tool is missing), and the
# capabilities it grants are enough for the kernel path: the installed
# xrelayd, started with exactly those capabilities (UID 0 without the
# others, as systemd starts it), attaches XDP and pins its maps.
. "$(dirname "$0")/lib.sh"

need_bins xrelayd xrelayctl

# One install shared by the cases (the cases run in subshells; the files
# persist). Under /tmp/$T, so that the EXIT trap removes it.
INST=$(mktemp -d "/tmp/$T.inst.XXXXXX")
SBIN=$INST/usr/local/sbin
UNIT=$INST/usr/local/lib/systemd/system/xrelayd.service
CONF=$INST/etc/xrelay

# make_install DIR [VAR=VALUE...]: make install into DIR, quietly, with
# make's output shown when it fails.
make_install() {
	d=$1; shift
	if ! make -s -C "$ROOT" install DESTDIR="$d" "$@" >"$d.log" 2>&1; then
		sed 's/^/make: /' "$d.log"
		rm -f "$d.log"
		return 1
	fi
	rm -f "$d.log"
}

# mode WHAT FILE WANT: the file exists with this octal mode.
mode() {
	if [ ! -f "$2" ]; then
		echo "FAIL: $1: $2 is missing"
		CHECK_FAILED=1
		return 1
	fi
	eq "$1 mode" "$(stat -c %a "$2")" "$3"
}

installed() {
	[ -x "$SBIN/xrelayd" ] || { echo "make install did not run"; return 1; }
}

# xd ARGS...: the installed xrelayd; stdout+stderr in $OUT, exit code $RC.
xd() {
	OUT=$("$SBIN/xrelayd" "$@" 2>&1)
	RC=$?
	echo "xrelayd $*: exit $RC: $OUT"
}

t_install() {
	make_install "$INST" || return 1
	mode "xrelayd" "$SBIN/xrelayd" 755
	mode "xrelayctl" "$INST/usr/local/bin/xrelayctl" 755
	mode "example config" "$CONF/xrelayd.conf.example" 644
	mode "config" "$CONF/xrelayd.conf" 640
	mode "unit" "$UNIT" 644
	check "the example is dist's" cmp -s "$CONF/xrelayd.conf.example" \
		"$ROOT/dist/xrelayd.conf.example"
	check "the config starts as the example" cmp -s \
		"$CONF/xrelayd.conf" "$ROOT/dist/xrelayd.conf.example"
	eq "unit ExecStart" "$(sed -n 's/^ExecStart=//p' "$UNIT")" \
		"/usr/local/sbin/xrelayd --config /etc/xrelay/xrelayd.conf"
	# nothing else: a file added to the install is added to this list
	eq "installed files" "$(cd "$INST" && find . -type f | sort | tr '\n' ' ')" \
		"$(printf '%s ' ./etc/xrelay/xrelayd.conf \
			./etc/xrelay/xrelayd.conf.example \
			./usr/local/bin/xrelayctl \
			./usr/local/lib/systemd/system/xrelayd.service \
			./usr/local/sbin/xrelayd)"
}

t_reinstall_uninstall() {
	workdir
	d=$WORK/root
	make_install "$d" || return 1
	echo "domain = mine.example.net" >"$d/etc/xrelay/xrelayd.conf"
	make_install "$d" || return 1
	eq "config after a second install" \
		"$(cat "$d/etc/xrelay/xrelayd.conf")" "domain = mine.example.net"
	make -s -C "$ROOT" uninstall DESTDIR="$d" || return 1
	eq "left after uninstall" "$(cd "$d" && find . -type f | sort)" \
		"./etc/xrelay/xrelayd.conf"
	# PREFIX and SYSCONFDIR reach the unit's paths
	d=$WORK/usr
	make_install "$d" PREFIX=/usr SYSCONFDIR=/etc/opt || return 1
	u=$d/usr/lib/systemd/system/xrelayd.service
	check "PREFIX=/usr: xrelayd in /usr/sbin" test -x "$d/usr/sbin/xrelayd"
	check "PREFIX=/usr: config in /etc/opt/xrelay" \
		test -f "$d/etc/opt/xrelay/xrelayd.conf"
	eq "PREFIX=/usr: unit ExecStart" "$(sed -n 's/^ExecStart=//p' "$u")" \
		"/usr/sbin/xrelayd --config /etc/opt/xrelay/xrelayd.conf"
	eq "PREFIX=/usr: unit ExecReload" \
		"$(sed -n 's/^ExecReload=//p' "$u" | paste -sd';' -)" \
		"/usr/sbin/xrelayd --config /etc/opt/xrelay/xrelayd.conf --check-config;/bin/kill -HUP \$MAINPID"
}

t_example_checks() {
	installed || return 1
	xd --config "$CONF/xrelayd.conf.example" --check-config
	eq "exit code" "$RC" 0
	eq "output" "$OUT" "xrelayd: config ok"
	# every alternative shown commented out is valid too (the NAT
	# variant of eth0 replaces the plain one)
	workdir
	sed -E 's/^# ([a-z_]+ = )/\1/' "$CONF/xrelayd.conf.example" |
		sed 's/^iface = eth0:xdp$/# &/' >"$WORK/alt.conf"
	xd --config "$WORK/alt.conf" --check-config
	eq "with the commented-out lines: exit code" "$RC" 0
}

# The example shows every key of --help (set or commented out), so that a
# new key cannot be left out of it.
t_example_every_key() {
	installed || return 1
	keys=$("$SBIN/xrelayd" --help | sed -n 's/^  --\([a-z-]*\) .*/\1/p' |
		grep -v '^config$\|^check-config$\|^help$' | tr - _)
	n=0
	for k in $keys; do
		n=$((n + 1))
		grep -Eq "^(# )?$k = " "$CONF/xrelayd.conf.example" ||
			check "key $k is in the example" false
	done
	echo "$n keys"
	check "--help lists keys" test "$n" -gt 30
}

t_bad_line() {
	installed || return 1
	workdir
	f=$WORK/bad.conf
	cp "$CONF/xrelayd.conf.example" "$f"
	n=$(($(wc -l <"$f") + 1))
	echo "max_calls = many" >>"$f"
	xd --config "$f" --check-config
	check "bad value: exit code not 0" test "$RC" -ne 0
	case $OUT in
	*"$f:$n: "*max_calls*) echo "pass: names $f:$n and the key" ;;
	*) check "bad value: names $f:$n and the key" false ;;
	esac
	printf 'domain = a.example\nthis is not a setting\n' >"$f"
	xd --config "$f" --check-config
	check "not key = value: exit code not 0" test "$RC" -ne 0
	case $OUT in
	*"$f:2: "*) echo "pass: names $f:2" ;;
	*) check "not key = value: names $f:2" false ;;
	esac
	printf 'no_such_key = 1\n' >"$f"
	xd --config "$f" --check-config
	check "unknown key: exit code not 0" test "$RC" -ne 0
	case $OUT in
	*"$f:1: "*no_such_key*) echo "pass: names $f:1 and the key" ;;
	*) check "unknown key: names $f:1 and the key" false ;;
	esac
}

t_bad_flag() {
	installed || return 1
	xd --config "$CONF/xrelayd.conf.example" --no-such-flag 1 --check-config
	check "unknown flag: exit code not 0" test "$RC" -ne 0
	case $OUT in
	*--no-such-flag*) echo "pass: names --no-such-flag" ;;
	*) check "unknown flag: names it" false ;;
	esac
	xd --config "$CONF/xrelayd.conf.example" --max-calls=-1 --check-config
	check "bad flag value: exit code not 0" test "$RC" -ne 0
	case $OUT in
	*--max-calls*) echo "pass: names --max-calls" ;;
	*) check "bad flag value: names it" false ;;
	esac
}

t_ctl_help() {
	installed || return 1
	out=$("$INST/usr/local/bin/xrelayctl" --help 2>&1)
	eq "xrelayctl --help: exit code" "$?" 0
	case $out in
	usage:\ xrelayctl*) echo "pass: prints its usage" ;;
	*) echo "$out"; check "xrelayctl --help prints its usage" false ;;
	esac
}

t_unit_verify() {
	installed || return 1
	command -v systemd-analyze >/dev/null ||
		skip "systemd-analyze is not installed"
	# verify wants the commands to exist: point them at the staged binary
	workdir
	sed "s|/usr/local/sbin/xrelayd|$SBIN/xrelayd|g" "$UNIT" \
		>"$WORK/xrelayd.service"
	out=$(systemd-analyze verify --man=no "$WORK/xrelayd.service" 2>&1)
	eq "systemd-analyze verify: exit code" "$?" 0
	# warnings (an unknown key, a bad value) leave the exit code at 0
	w=$(echo "$out" | grep xrelayd)
	[ -n "$w" ] && echo "$w"
	check "no warnings about the unit" test -z "$w"
}

# The unit's CapabilityBoundingSet, as setpriv's list: +bpf,+net_admin,...
unit_caps() {
	sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr ' ' '\n' |
		sed -n 's/^CAP_\(.*\)/+\1/p' | tr '[:upper:]' '[:lower:]' | paste -sd, -
}

t_unit_caps() {
	installed || return 1
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	caps=$(unit_caps)
	eq "the unit's capabilities" "$caps" "+bpf,+perfmon,+net_admin,+net_raw,+net_bind_service"
	eq "the ambient ones are the same" \
		"$(sed -n 's/^AmbientCapabilities=//p' "$UNIT")" \
		"$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")"
	mkns rly || return 1
	ip -n "$T"rly link add r0 type veth peer name r1 || return 1
	ip -n "$T"rly addr add 10.83.1.1/24 dev r0
	ip -n "$T"rly addr add 10.83.2.1/24 dev r1
	ip -n "$T"rly link set r0 up
	ip -n "$T"rly link set r1 up
	workdir
	LOG=$WORK/xrelayd.log
	# UID 0 with only these capabilities, no new privileges: as systemd
	# starts the unit
	bg rly setpriv --bounding-set=-all,"$caps" --inh-caps=-all,"$caps" \
		--ambient-caps=-all,"$caps" --no-new-privs \
		"$SBIN/xrelayd" --config "$CONF/xrelayd.conf.example" \
		--listen udp:10.83.1.1:5060 --listen tcp:10.83.1.1:5060 \
		--iface r0:xdp --iface r1:tc --pin-dir "$PIN" \
		--state-dir "$WORK/state" --ctl-socket "$WORK/ctl.sock" \
		--cdr-file "$WORK/cdr.json" --metrics-listen "" \
		</dev/null >"$LOG" 2>&1
	xpid=$!
	i=0
	until grep -q 'xrelayd: ready' "$LOG"; do
		if ! kill -0 "$xpid" 2>/dev/null || [ $i -ge 100 ]; then
			sed 's/^/xrelayd: /' "$LOG"
			check "xrelayd started with the unit's capabilities" false
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	sed 's/^/xrelayd: /' "$LOG"
	check "r0: XDP attached" grep -q 'r0: forwarding in the kernel (xdp)' "$LOG"
	check "r1: TC attached" grep -q 'r1: forwarding in the kernel (tc)' "$LOG"
	check "no fallback to userspace" sh -c "! grep -q 'FALLING BACK' '$LOG'"
	check "the maps are pinned" test -e "$PIN/xr_flows"
	out=$("$INST/usr/local/bin/xrelayctl" --socket "$WORK/ctl.sock" stats)
	eq "xrelayctl stats: exit code" "$?" 0
}

run_case "make install: every file, its mode, the unit's paths" t_install
run_case "a second install keeps the config; uninstall; PREFIX" \
	t_reinstall_uninstall
run_case "the example config passes --check-config" t_example_checks
run_case "the example config shows every key" t_example_every_key
run_case "a bad config line is named by file and line" t_bad_line
run_case "a bad flag is refused" t_bad_flag
run_case "the installed xrelayctl runs" t_ctl_help
run_case "systemd-analyze verify accepts the unit" t_unit_verify
run_case "the unit's capabilities give the kernel path" t_unit_caps
finish
