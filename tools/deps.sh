#!/bin/sh
# Installs with apt everything xrelay's build, tests, demo and benchmarks
# need. Idempotent: quiet and quick when everything is already present.
# Usage: tools/deps.sh            (as root, on Debian 12 or later)
set -eu

PKGS="
make gcc pkg-config clang llvm bpftool
libbpf-dev libelf-dev zlib1g-dev libosip2-dev libcmocka-dev
iproute2 ethtool util-linux procps iptables
kamailio
baresip-core sox
rtpengine-daemon gnuplot-nox
"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "tools/deps.sh: missing packages:$missing" >&2
	echo "tools/deps.sh: run as root (or: apt-get install$missing)" >&2
	exit 1
fi
echo "tools/deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
	$missing; } >"$log" 2>&1; then
	tail -n 20 "$log" >&2
	echo "tools/deps.sh: apt-get failed (full log: $log)" >&2
	exit 1
fi
rm -f "$log"
