#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The VM tests on the debug kernel (KASAN, lockdep, kmemleak): what
# `make vmtest KERNEL=debug` runs.
#
#   kunit/vmtest-debug.sh [TEST...]    default: tests/vm/t-*.sh, m-*.sh
#
# 1. builds the debug kernel (kunit/debug-kernel.sh; cached, incremental),
# 2. builds paxos.ko against its tree (scripts/build-module.sh --kdir),
# 3. runs each test with tests/vm/run.sh (t-*) or tests/vm/multi.sh (m-*)
#    --kernel/--moddir; a KASAN, lockdep or kmemleak report in a guest's log
#    fails the test (run.sh status 123).
#
# One line per test (PASS/FAIL/SKIP), logs in out/test-logs/debug-*.log, and
# a last line "N passed, N failed"; exit status non-zero on any failure.
# The debug kernel is slower under TCG: each test's "# kpaxos-timeout:"
# (default 300 s) is multiplied by KPAXOS_DEBUG_SLOWDOWN (default 3).
# TESTS=<regex> filters tests by name (e.g. t-cluster3).  KPAXOS_DEADLINE
# (seconds since the epoch; tests/run-all.sh) cuts each test's limit to end
# by then; a test that cannot start, or is stopped by that cut, is SKIPped.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 1
logs=$root/out/test-logs
slow=${KPAXOS_DEBUG_SLOWDOWN:-3}
npass=0
nfail=0

finish()
{
	echo "$npass passed, $nfail failed"
	[ "$nfail" = 0 ]
	exit $?
}

fail_setup()
{
	echo "FAIL  $1 (log ${2#"$root"/})"
	tail -n 15 "$2" | sed 's/^/      | /'
	nfail=$((nfail + 1))
	finish
}

mkdir -p "$logs"
log=$logs/debug-kernel.log
echo "debug kernel: building (log ${log#"$root"/})"
"$here/debug-kernel.sh" >"$log" 2>&1 </dev/null || fail_setup debug-kernel "$log"
eval "$("$here/debug-kernel.sh" --print)" || fail_setup debug-kernel "$log"
echo "debug kernel: $KVER ($KERNEL)"

log=$logs/debug-build-module.log
"$root/scripts/build-module.sh" --kdir "$KDIR" >"$log" 2>&1 </dev/null ||
	fail_setup "build-module@$KVER" "$log"
ko=$root/build/$KVER/paxos.ko
[ -f "$ko" ] || fail_setup "build-module@$KVER" "$log"

if [ $# -gt 0 ]; then
	tests=("$@")
else
	shopt -s nullglob
	tests=(tests/vm/t-*.sh tests/vm/m-*.sh)
	shopt -u nullglob
fi
[ ${#tests[@]} -gt 0 ] || { echo "no VM tests"; finish; }

header()
{
	sed -n "s/^# kpaxos-$2: *\([0-9][0-9]*\).*/\1/p" "$1" | head -n 1
}

for t in "${tests[@]}"; do
	base=$(basename "$t" .sh)
	name=vm/$base@$KVER
	[ -z "${TESTS:-}" ] || [[ $name =~ $TESTS ]] || continue
	limit=$(header "$t" timeout)
	limit=$(( ${limit:-300} * slow ))
	full=$limit
	if [ "${KPAXOS_DEADLINE:-0}" -gt 0 ]; then
		left=$((KPAXOS_DEADLINE - $(date +%s) - 150))
		if [ "$left" -lt 120 ]; then
			echo "SKIP  $name: out of time (KPAXOS_DEADLINE)"
			continue
		fi
		[ "$limit" -gt "$left" ] && limit=$left
	fi
	log=$logs/debug-$base.log
	t0=$SECONDS
	case "$base" in
	m-*)
		nodes=$(header "$t" nodes)
		timeout -k 15 $((limit + 120)) tests/vm/multi.sh -q \
			--kernel "$KERNEL" --moddir "$MODDIR" --ko "$ko" \
			--timeout "$limit" --nodes "${nodes:-3}" "$t" \
			</dev/null >"$log" 2>&1
		;;
	*)
		timeout -k 15 $((limit + 60)) tests/vm/run.sh -q \
			--kernel "$KERNEL" --moddir "$MODDIR" --ko "$ko" \
			--timeout "$limit" "$t" </dev/null >"$log" 2>&1
		;;
	esac
	rc=$?
	el=$((SECONDS - t0))
	case "$rc" in
	0)
		echo "PASS  $name (${el}s)"
		npass=$((npass + 1))
		;;
	77)
		echo "SKIP  $name (${el}s)"
		;;
	124)
		if [ "$limit" -lt "$full" ]; then
			echo "SKIP  $name (${el}s): stopped at KPAXOS_DEADLINE"
		else
			echo "FAIL  $name (${el}s, TIMEOUT, log ${log#"$root"/})"
			nfail=$((nfail + 1))
		fi
		;;
	*)
		echo "FAIL  $name (${el}s, status $rc, log ${log#"$root"/})"
		grep -E '^vm: ' "$log" | tail -n 15 | sed 's/^/      | /'
		nfail=$((nfail + 1))
		;;
	esac
done
finish
