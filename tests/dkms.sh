#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms.conf works: `dkms add`, `dkms build -k <ver>` and `dkms install -k
# <ver>` succeed for every supported installed kernel (6.1 and 6.12), the
# installed module carries the right vermagic, and `dkms remove` takes it
# away again.  Uses a private version (0.0.0-t<pid>) so it never touches a
# real installation.  Needs root; exits 77 (skip) without it or without
# dkms.  Ends with "N passed, N failed".
#
#   tests/dkms.sh [KERNEL...]     default: scripts/kernels.sh (6.1 and 6.12)

set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
pass=0
failed=0

ok()
{
	echo "ok   $*"
	pass=$((pass + 1))
}

bad()
{
	echo "FAIL $*"
	failed=$((failed + 1))
}

finish()
{
	echo "$pass passed, $failed failed"
	[ "$failed" = 0 ] && [ "$pass" -gt 0 ]
	exit $?
}

[ "$(id -u)" = 0 ] || { echo "SKIP: dkms test needs root"; exit 77; }
command -v dkms >/dev/null || { echo "SKIP: dkms not installed"; exit 77; }

if [ $# -gt 0 ]; then
	kernels=("$@")
else
	mapfile -t kernels < <("$root/scripts/kernels.sh")
	if [ "${#kernels[@]}" -lt 2 ]; then
		bad "both supported kernels installed (have: ${kernels[*]:-none})"
	fi
fi

ver=0.0.0-t$$
src=/usr/src/paxos-$ver
log=$root/out/test-logs/dkms-$ver.log
mkdir -p "$(dirname "$log")"

cleanup()
{
	dkms remove -m paxos -v "$ver" --all >/dev/null 2>&1
	rm -rf "$src" "/var/lib/dkms/paxos/$ver"
}
trap cleanup EXIT

"$root/scripts/dkms-src.sh" "$src" "$ver"
if dkms add -m paxos -v "$ver" >>"$log" 2>&1; then
	ok "dkms add paxos/$ver"
else
	bad "dkms add paxos/$ver (log $log)"
	finish
fi

installed=()
for k in "${kernels[@]}"; do
	if dkms build -m paxos -v "$ver" -k "$k" >>"$log" 2>&1; then
		ok "dkms build -k $k"
	else
		bad "dkms build -k $k (log $log)"
		cat "/var/lib/dkms/paxos/$ver/build/make.log" >>"$log" 2>/dev/null
		tail -n 20 "/var/lib/dkms/paxos/$ver/build/make.log" 2>/dev/null
		continue
	fi
	if ! dkms install -m paxos -v "$ver" -k "$k" >>"$log" 2>&1; then
		bad "dkms install -k $k (log $log)"
		continue
	fi
	ko=$(find "/lib/modules/$k/updates/dkms" -name 'paxos.ko*' 2>/dev/null |
	     head -n 1)
	vermagic=$(modinfo -F vermagic "$ko" 2>/dev/null)
	[ -n "$ko" ] && installed+=("$ko")
	if [ -n "$ko" ] && [ "${vermagic%% *}" = "$k" ]; then
		ok "dkms install -k $k: $ko, vermagic $k"
	else
		bad "dkms install -k $k: module '$ko' vermagic '$vermagic'"
	fi
	if dkms status -m paxos -v "$ver" -k "$k" 2>/dev/null |
	   grep -q installed; then
		ok "dkms status -k $k: installed"
	else
		bad "dkms status -k $k: $(dkms status -m paxos -v "$ver" -k "$k")"
	fi
done

if dkms remove -m paxos -v "$ver" --all >>"$log" 2>&1; then
	left=
	for f in "${installed[@]}"; do
		[ -e "$f" ] && left+=" $f"
	done
	if [ -z "$left" ]; then
		ok "dkms remove: modules gone"
	else
		bad "dkms remove left $left"
	fi
else
	bad "dkms remove (log $log)"
fi
finish
