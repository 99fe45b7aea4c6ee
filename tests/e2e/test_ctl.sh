#!/bin/sh
# End-to-end: xrelayd's control socket (xrelayctl) and its metrics
# listener, with XDP attached to the relay's interface.
#
#   a    a0 10.81.1.2 --- r0 10.81.1.1   rly   (d0 10.81.9.1: a bridge,
#                                               which has no native XDP)
#
# The cases assert what an operator and a script rely on: the socket's
# path and mode 0660, xrelayctl's output (text and JSON) and exit codes
# (0 ok, 1 refused, 2 usage, 3 no daemon), the attach mode each interface
# got (and the loud fallback when it got none), the Prometheus page (every
# line in the exposition format, SIP counted by method and code), and the
# socket file removed at stop. The page is fetched with bash's /dev/tcp:
# no HTTP client to install.
. "$(dirname "$0")/lib.sh"

need_bins xrelayd xrelayctl
if ! command -v bash >/dev/null; then
	echo "not ok - bash is not installed"
	exit 1
fi

A=10.81.1.2 RA=10.81.1.1 RD=10.81.9.1
MPORT=9642

topology() {
	mkns a rly || return 1
	veth a a0 "$A/24" rly r0 "$RA/24" || return 1
	workdir
	SOCK=$WORK/run/ctl.sock # run/ does not exist: xrelayd makes it
}

# relay [FLAG VALUE...]: xrelayd in rly, its log in $LOG, pid in $XPID.
relay() {
	LOG=$WORK/xrelayd.log
	bg rly "$BUILD/xrelayd" --listen "udp:$RA:5060" --iface r0:xdp \
		--pin-dir "$PIN" --state-dir "$WORK/state" \
		--ctl-socket "$SOCK" --metrics-listen "127.0.0.1:$MPORT" \
		"$@" </dev/null >"$LOG" 2>&1
	XPID=$!
	xrelayd_ready
}

# ctl ARGS...: xrelayctl on this run's socket; stdout in $OUT, stderr in
# $ERR, the exit code in $RC.
ctl() {
	OUT=$WORK/ctl.out ERR=$WORK/ctl.err
	"$BUILD/xrelayctl" --socket "$SOCK" "$@" >"$OUT" 2>"$ERR"
	RC=$?
}

# http_get PATH: GET 127.0.0.1:$MPORT/PATH inside rly; the answer, CRs
# removed, in $PAGE.
http_get() {
	PAGE=$WORK/page
	nsx rly bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "GET %s HTTP/1.0\r\nHost: xrelay\r\n\r\n" "$2" >&3
		timeout 5 cat <&3' _ "$MPORT" "$1" | tr -d '\r' >"$PAGE"
}

has() { grep -qF -- "$2" "$1"; }

# ---- cases ------------------------------------------------------------------

case_commands() {
	topology && relay || return 1
	eq "socket mode" "$(stat -c %a "$SOCK")" 660
	check "the socket is a socket" [ -S "$SOCK" ]

	ctl stats
	eq "stats: exit code" "$RC" 0
	check "stats: r0 got xdp" grep -qE \
		'^  r0 +want xdp +got xdp +kernel$' "$OUT"
	check "stats: no calls" has "$OUT" "calls       0 active (0 legs)"
	check "stats: the port pool" has "$OUT" "port pairs 0 of 5000 in use"
	ctl --json stats
	eq "stats --json: exit code" "$RC" 0
	check "stats --json: interfaces" has "$OUT" \
		'"interfaces":[{"name":"r0","want":"xdp","got":"xdp","fallback":false}]'
	check "stats --json: no share without packets" has "$OUT" \
		'"kernel_share_percent":null'
	eq "stats --json: an object" "$(head -c 12 "$OUT")$(tail -n 1 "$OUT")" \
		'{"uptime_s":}'

	ctl calls
	eq "calls: exit code" "$RC" 0
	check "calls: a header" grep -q '^CALL-ID-A  CALL-ID-B  FROM' "$OUT"
	eq "calls: none" "$(tail -n 1 "$OUT")" "0 calls"
	ctl calls --json
	check "calls --json: empty" has "$OUT" '"count":0}'
	ctl regs
	eq "regs: exit code" "$RC" 0
	eq "regs: none" "$(tail -n 1 "$OUT")" "0 bindings"

	ctl call nonexistent
	eq "call nonexistent: exit code" "$RC" 1
	check "call nonexistent: says why" has "$ERR" \
		"no call with Call-ID 'nonexistent'"
	ctl --json end nonexistent
	eq "end nonexistent: exit code" "$RC" 1
	check "end --json: a JSON error" grep -q '^{"error":"no call' "$ERR"
	ctl bogus
	eq "unknown command: exit code" "$RC" 2
	ctl call
	eq "call without ID: exit code" "$RC" 2
	"$BUILD/xrelayctl" --socket "$WORK/nothing.sock" stats 2>/dev/null
	eq "no daemon: exit code" "$?" 3
	"$BUILD/xrelayctl" --help >"$WORK/help"
	eq "--help: exit code" "$?" 0
	check "--help lists the exit codes" has "$WORK/help" "3  cannot reach"

	ctl reload
	eq "reload: exit code" "$RC" 0
	check "reload: logged" has "$LOG" "reloaded:"

	kill "$XPID"
	wait "$XPID" 2>/dev/null
	check "the socket file is removed at stop" [ ! -e "$SOCK" ]
	ctl stats
	eq "after stop: exit code" "$RC" 3
}

case_metrics() {
	topology && relay || return 1
	# An OPTIONS from a, counted in (OPTIONS) and out (200). One write,
	# so one datagram: cat from a file (bash's printf writes in pieces).
	printf 'OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=%s\r\n%s\r\nFrom: <sip:probe@%s>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: ctl-metrics-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' \
		"$RA" "$A" z9hG4bK-m1 "Max-Forwards: 70" "$A" "$RA" \
		>"$WORK/options" || return 1
	nsx a bash -c 'cat "$1" >"/dev/udp/$2/5060"' _ "$WORK/options" "$RA" ||
		return 1
	i=0
	until grep -q 'sip_requests_total{direction="in",method="OPTIONS"} 1' \
		"$WORK/body" 2>/dev/null || [ $i -ge 20 ]; do
		sleep 0.05
		http_get /metrics
		sed '1,/^$/d' "$PAGE" >"$WORK/body"
		i=$((i + 1))
	done
	http_get /metrics
	eq "status" "$(head -n 1 "$PAGE")" "HTTP/1.1 200 OK"
	check "content type" has "$PAGE" \
		"Content-Type: text/plain; version=0.0.4; charset=utf-8"
	sed '1,/^$/d' "$PAGE" >"$WORK/body"
	check "a body" [ -s "$WORK/body" ]
	eq "every line in the exposition format" "$(grep -cvE \
		'^(# (HELP|TYPE) [a-z_]+ .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [0-9]+)$' \
		"$WORK/body")" 0
	for l in 'xrelay_calls_active 0' \
		 '# TYPE xrelay_sip_requests_total counter' \
		 'xrelay_sip_requests_total{direction="in",method="OPTIONS"} 1' \
		 'xrelay_sip_responses_total{direction="out",code="200"} 1' \
		 'xrelay_iface_attach_info{iface="r0",want="xdp",got="xdp"} 1' \
		 'xrelay_iface_attach_fallback{iface="r0"} 0' \
		 'xrelay_port_pairs 5000' \
		 'xrelay_media_packets_total{path="kernel",direction="a_to_b"} 0'; do
		check "metric: $l" grep -qxF -- "$l" "$WORK/body"
	done
	check "drops by reason" grep -qE \
		'^xrelay_bpf_packets_total\{reason="drop_foreign_source"\} [0-9]+$' \
		"$WORK/body"
	http_get /nope
	eq "another path" "$(head -n 1 "$PAGE")" "HTTP/1.1 404 Not Found"
	ctl metrics
	check "xrelayctl metrics: the same list" grep -qE \
		'^xrelay_sip_requests_total +direction=in method=OPTIONS +1$' "$OUT"
}

case_fallback() {
	topology || return 1
	# A bridge has no native XDP: the attach fails, userspace forwards.
	ip -n "${T}rly" link add d0 type bridge 2>/dev/null ||
		skip "no bridge devices in this kernel"
	addr rly d0 "$RD/24" && ip -n "${T}rly" link set d0 up || return 1
	relay --iface d0:xdp || return 1
	check "the attach error is logged" has "$LOG" \
		"d0: FALLING BACK to the socket path"
	check "a health warning with cause and fix" grep -q \
		'warn  health: d0: wanted xdp, got off: .*fix: ' "$LOG"
	ctl stats
	check "stats: d0 fell back" grep -qE \
		'^  d0 +want xdp +got off +FALLING BACK' "$OUT"
	check "stats: r0 still in the kernel" grep -qE \
		'^  r0 +want xdp +got xdp +kernel$' "$OUT"
	http_get /metrics
	check "metric: fallback" grep -qxF \
		'xrelay_iface_attach_fallback{iface="d0"} 1' "$PAGE"
}

run_case ctl-commands case_commands
run_case ctl-metrics case_metrics
run_case ctl-fallback case_fallback
finish
