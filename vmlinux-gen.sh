#!/bin/sh
# Writes vmlinux.h (the running kernel's types, for CO-RE) from its BTF.
# Usage: vmlinux-gen.sh OUT   (the Makefile writes build/vmlinux.h)
set -eu
out=${1:-build/vmlinux.h}
btf=/sys/kernel/btf/vmlinux
if [ ! -r "$btf" ]; then
	echo "vmlinux-gen.sh: $btf is missing: this kernel was built without" \
	     "CONFIG_DEBUG_INFO_BTF; xrelay needs a BTF-enabled kernel (5.10+)." >&2
	exit 1
fi
mkdir -p "$(dirname "$out")"
bpftool btf dump file "$btf" format c > "$out.tmp"
mv "$out.tmp" "$out"
