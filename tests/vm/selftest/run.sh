#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of the VM test harness itself, on one kernel.  Each case boots a
# guest with tests/vm/run.sh (or multi.sh) and checks that the harness
# reports what happened in it: the suite passes when the harness catches
# the failures.  Time limits are generous (a busy host makes TCG guests
# slow), except for the hang case, which checks the kill at the timeout.
#
#   tests/vm/selftest/run.sh [--kver V] [CASE...]
#
#   pass    a healthy guest (lib.sh cluster, netem, cut/heal)  -> 0
#   fail    the guest script exits 3                           -> 3
#   hang    the guest sleeps forever, --timeout 30             -> 124, <60 s
#   warn    the guest kernel logs a WARNING                    -> 123
#   panic   the guest kernel crashes                           -> 125
#   multi   two VMs: ping, block, restart, kill (multi.sh)     -> 0
#
# Ends with "N passed, N failed".

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
kver=${KVER:-6.1}
[ "${1:-}" = --kver ] && { kver=$2; shift 2; }
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(pass fail hang warn panic multi)

pass=0
failed=0
kver=$("$root/scripts/kernels.sh" "$kver") || exit 1

result()
{
	if [ "$1" = ok ]; then
		echo "ok   selftest $2@$kver: $3"
		pass=$((pass + 1))
	else
		echo "FAIL selftest $2@$kver: $3"
		failed=$((failed + 1))
	fi
}

# expect CASE WANT_STATUS MAX_SECONDS run.sh-ARGS...
expect()
{
	local c=$1 want=$2 max=$3 t0=$SECONDS rc el

	shift 3
	"$@" >/dev/null 2>"$root/out/vm-logs/selftest-$c-$kver.harness"
	rc=$?
	el=$((SECONDS - t0))
	if [ "$rc" != "$want" ]; then
		result FAIL "$c" "status $rc, want $want (see out/vm-logs/selftest-$c-$kver.*)"
		sed 's/^/     /' "$root/out/vm-logs/selftest-$c-$kver.harness" |
			tail -n 15
	elif [ "$el" -gt "$max" ]; then
		result FAIL "$c" "status $rc but took ${el}s (max ${max}s)"
	else
		result ok "$c" "status $rc as expected (${el}s)"
	fi
}

# The out/vm/ directory a case used (run.sh picks <name>-<kver>.2 etc. when
# someone else is running the same case in this tree).
rundir()
{
	local r

	r=$(sed -n 's/^vm: \([^ ]*\): booting .*/\1/p' \
	    "$root/out/vm-logs/selftest-$1-$kver.harness" | head -n 1)
	echo "$root/out/vm/${r:-selftest-$1-$kver}"
}

mkdir -p "$root/out/vm-logs"
if ! "$root/scripts/build-module.sh" --kver "$kver" \
		--src "$here/kpx_selftest" >"$root/out/vm-logs/selftest-build-$kver.log" 2>&1; then
	result FAIL build "kpx_selftest did not build (out/vm-logs/selftest-build-$kver.log)"
fi

RUN=("$root/tests/vm/run.sh" -q --kver "$kver")
for c in "${cases[@]}"; do
	case "$c" in
	pass)
		expect pass 0 660 "${RUN[@]}" --timeout 600 \
			--name selftest-pass "$here/g-pass.sh"
		f=$(rundir pass)/pass.txt
		if [ "$(cat "$f" 2>/dev/null)" = "pass $kver" ]; then
			result ok pass-out "guest wrote KPAXOS_OUT/pass.txt"
		else
			result FAIL pass-out "no $f from the guest"
		fi
		;;
	fail)
		expect fail 3 660 "${RUN[@]}" --timeout 600 \
			--name selftest-fail "$here/g-fail.sh"
		;;
	hang)
		expect hang 124 60 "${RUN[@]}" --timeout 30 \
			--name selftest-hang "$here/g-hang.sh"
		;;
	warn)
		expect warn 123 660 "${RUN[@]}" --timeout 600 \
			--name selftest-warn "$here/g-warn.sh"
		if grep -q 'WARNING:' \
			"$(rundir warn)/dmesg.txt" 2>/dev/null; then
			result ok warn-dmesg "the WARNING is in the saved dmesg"
		else
			result FAIL warn-dmesg "no WARNING in $(rundir warn)/dmesg.txt"
		fi
		;;
	panic)
		expect panic 125 660 "${RUN[@]}" --timeout 600 \
			--name selftest-panic "$here/g-panic.sh"
		;;
	multi)
		expect multi 0 700 "$root/tests/vm/multi.sh" -q --kver "$kver" \
			--timeout 600 --name selftest-multi --nodes 2 \
			"$here/g-multi.sh"
		;;
	*)
		result FAIL "$c" "unknown case"
		;;
	esac
done

echo "$pass passed, $failed failed"
[ "$failed" = 0 ]
