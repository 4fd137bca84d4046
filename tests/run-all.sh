#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every test of kpaxos, in order; what `make test` runs.  One line per test
# (PASS/FAIL/SKIP), logs in out/test-logs/, and a last line
# "N passed, N failed"; exit status non-zero on any failure.  Suites whose
# sources do not exist (yet) are skipped with a message.
#
#   tests/run-all.sh [SUITE...]
#
# Suites, in order (default: all):
#   build     user space (make userspace), then paxos.ko for each kernel
#             (W=1; a compiler warning fails it); checkpatch (scripts/style.sh)
#   unit      make -C tests/unit check
#   check     make -C DIR check, for userlib, tools/*, examples/* that have
#             a check target; tests/install.sh (make install into a DESTDIR)
#   sim       make -C tools/sim run SEEDS=$SIM_SEEDS (10000); tests/sim/run.sh
#             (determinism, regression seeds); check-bug (planted bug)
#   kunit     kunit/run.sh, and kunit/run.sh --selftest (a broken
#             expectation must fail the run)
#   dkms      tests/dkms.sh (dkms add/build/install/remove, both kernels)
#   selftest  tests/vm/selftest/run.sh on each kernel (the harness's tests)
#   vm        each tests/vm/t-*.sh (tests/vm/run.sh) and tests/vm/m-*.sh
#             (tests/vm/multi.sh) on each kernel
#   bench     tools/bench/run.sh --quick, if it exists
#   debug     kunit/vmtest-debug.sh: build the KASAN/lockdep/kmemleak
#             kernel (cached) and run VM tests on it
#
# Environment:
#   KVER=...     kernels for build/selftest/vm: versions or series,
#                space-separated (default: 6.1 and 6.12, scripts/kernels.sh)
#   QUICK=1      skip the suites that boot VMs (selftest, vm, bench)
#   TESTS=RE     only tests whose name matches the extended regex RE
#                (names as printed, e.g. unit, sim, vm/t-basic@6.1.0-56-amd64)
#   SIM_SEEDS=N  seeds for the simulator suite (default 10000)
#   KPAXOS_DEADLINE=T  a time budget (seconds since the epoch, as date +%s):
#                a test's time limit is cut to end by T, a test killed by
#                that cut counts as skipped (not failed), and no test starts
#                in the last 2 minutes.  .ci/run sets it so that CI ends in
#                time; without it every test runs with its own limit.
#   DEBUG_TESTS=RE  the debug suite's VM tests (default: a representative
#                set; "." for all); see kunit/vmtest-debug.sh
#
# VM test scripts may set, in a comment line of their own:
#   # kpaxos-timeout: SECONDS     (default 300)
#   # kpaxos-nodes: K             (m-*.sh only: number of VMs, default 3)

set -uo pipefail

# Our settings, then out of the way: a sub-make must not see them (make
# passes command-line variables down through MAKEFLAGS and the environment,
# and e.g. TESTS is a common Makefile variable name).
filter=${TESTS:-}
quick=${QUICK:-0}
kver_list=${KVER:-}
unset TESTS QUICK KVER MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
logs=$root/out/test-logs
mkdir -p "$logs"

npass=0
nfail=0
nskip=0
failures=()

ALL_SUITES="build unit check sim kunit dkms selftest vm bench debug"
suites=${*:-$ALL_SUITES}
if [ "$quick" = 1 ]; then
	suites=$(echo " $suites " |
		 sed 's/ selftest / /; s/ vm / /; s/ bench / /; s/ debug / /')
fi

want_suite()
{
	[[ " $suites " == *" $1 "* ]]
}

selected()
{
	[ -z "$filter" ] || [[ $1 =~ $filter ]]
}

logname()
{
	echo "$logs/$(echo "$1" | tr '/ ' '__').log"
}

skip()
{
	selected "$1" || return 0
	printf 'SKIP  %s: %s\n' "$1" "$2"
	nskip=$((nskip + 1))
}

# Count a result.  $3/$4: inner "N passed, M failed" counts, if any.
record()
{
	local name=$1 rc=$2 p=${3:-} f=${4:-} el=$5 log=$6 what

	if [ "$rc" = 77 ]; then
		printf 'SKIP  %s (%ss): %s\n' "$name" "$el" \
			"$(grep -m1 -i 'skip' "$log" | cut -c1-100)"
		nskip=$((nskip + 1))
		return
	fi
	if [ -n "$p" ]; then
		what=" ($p passed, $f failed)"
		npass=$((npass + p))
		nfail=$((nfail + f))
		# A crash or build error after the counts still fails.
		[ "$rc" != 0 ] && [ "$f" = 0 ] && nfail=$((nfail + 1))
	else
		what=
		if [ "$rc" = 0 ]; then
			npass=$((npass + 1))
		else
			nfail=$((nfail + 1))
		fi
	fi
	if [ "$rc" = 0 ] && [ "${f:-0}" = 0 ]; then
		printf 'PASS  %s%s (%ss)\n' "$name" "$what" "$el"
	else
		[ "$rc" = 124 ] && what+=" TIMEOUT"
		printf 'FAIL  %s%s (%ss, status %s, log %s)\n' "$name" "$what" \
			"$el" "$rc" "${log#"$root"/}"
		tail -n 15 "$log" | sed 's/^/      | /'
		failures+=("$name")
	fi
}

deadline=${KPAXOS_DEADLINE:-0}
# The debug suite's default tests: cluster, failures, bad input, teardown.
DEBUG_DEFAULT='t-(cluster3|rmmod|badinput|crash-restart|kvstore|snapshot)@'
export KPAXOS_DEADLINE=$deadline

# budget LIMIT: print LIMIT, or less if the deadline comes first; fails if
# there is no time left to start anything.
budget()
{
	local left

	[ "$deadline" -gt 0 ] || { echo "$1"; return 0; }
	left=$((deadline - $(date +%s)))
	[ "$left" -ge 120 ] || return 1
	[ "$1" -lt "$left" ] && left=$1
	echo "$left"
}

# run NAME TIMEOUT CMD...: run CMD (output to the log), count it.  A final
# "N passed, M failed" line in its output adds those counts instead of 1.
run()
{
	local name=$1 limit=$2 log t0 rc counts p= f= cut

	shift 2
	selected "$name" || return 0
	log=$(logname "$name")
	if ! cut=$(budget "$limit"); then
		skip "$name" "out of time (KPAXOS_DEADLINE)"
		return 0
	fi
	t0=$SECONDS
	timeout -k 15 "$cut" "$@" </dev/null >"$log" 2>&1
	rc=$?
	if [ "$rc" = 124 ] && [ "$cut" -lt "$limit" ]; then
		echo "run-all: stopped after ${cut}s at KPAXOS_DEADLINE" >>"$log"
		skip "$name" "stopped at the time budget (KPAXOS_DEADLINE)"
		return 0
	fi
	counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -n "$counts" ]; then
		p=$(echo "$counts" | awk '{ print $1 }')
		f=$(echo "$counts" | awk '{ print $3 }')
	fi
	record "$name" "$rc" "$p" "$f" $((SECONDS - t0)) "$log"
	return "$rc"
}

has_target()
{
	[ -f "$1/Makefile" ] && grep -qE "^$2:" "$1/Makefile"
}

# Kernels to build and test on.
kernels=()
kernel_error=
if want_suite build || want_suite selftest || want_suite vm; then
	for k in ${kver_list:-$("$root/scripts/kernels.sh" 2>/dev/null || true)}; do
		if v=$("$root/scripts/kernels.sh" "$k" 2>/dev/null); then
			kernels+=("$v")
		else
			kernel_error+=" $k"
		fi
	done
	if [ -z "$kver_list" ] && [ "${#kernels[@]}" -lt 2 ]; then
		kernel_error+=" (6.1 and 6.12 both needed)"
	fi
	if [ -n "$kernel_error" ]; then
		echo "FAIL  kernels: not installed:$kernel_error (run scripts/deps.sh)"
		nfail=$((nfail + 1))
		failures+=(kernels)
	fi
	echo "kernels: ${kernels[*]:-none}"
fi

declare -A module_ok=()

# ---- build --------------------------------------------------------------
# Does any selected VM test need the module / user space of kernel $1?
vm_needs()
{
	local t

	want_suite vm || return 1
	for t in tests/vm/t-*.sh tests/vm/m-*.sh; do
		[ -e "$t" ] || continue
		selected "vm/$(basename "$t" .sh)@$1" && return 0
	done
	return 1
}

if want_suite build; then
	if selected build-userspace; then
		run build-userspace 900 make -C "$root" --no-print-directory \
			userspace
	elif vm_needs "${kernels[0]:-}"; then
		make -C "$root" --no-print-directory userspace \
			>"$(logname build-userspace)" 2>&1
	fi
	for k in "${kernels[@]}"; do
		name=build-module@$k
		selected "$name" || vm_needs "$k" || continue
		log=$(logname "$name")
		t0=$SECONDS
		# W=1, and any compiler warning fails the test.
		timeout -k 15 900 "$root/scripts/build-module.sh" --kver "$k" \
			W=1 </dev/null >"$log" 2>&1
		rc=$?
		if [ "$rc" = 0 ]; then
			module_ok[$k]=1
			if grep -qE '(warning|error):' "$log"; then
				echo "run-all: compiler warnings (W=1) above" >>"$log"
				rc=1
			fi
		else
			# Maybe only W=1 warnings (-Werror) broke it: the VM
			# tests can still use a plain build.
			echo "run-all: retrying without W=1" >>"$log"
			timeout -k 15 900 "$root/scripts/build-module.sh" \
				--kver "$k" </dev/null >>"$log" 2>&1 &&
				module_ok[$k]=1
		fi
		selected "$name" &&
			record "$name" "$rc" "" "" $((SECONDS - t0)) "$log"
	done
else
	for k in "${kernels[@]}"; do
		[ -f "$root/build/$k/paxos.ko" ] && module_ok[$k]=1
	done
fi

# ---- style: checkpatch on every C file (scripts/style.sh) ----------------
if want_suite build; then
	run style 900 scripts/style.sh
fi

# ---- unit ---------------------------------------------------------------
if want_suite unit; then
	if has_target tests/unit check; then
		run unit 900 make -C tests/unit --no-print-directory check
	else
		skip unit "tests/unit/Makefile has no check target yet"
	fi
fi

# ---- check: user-space suites of other directories -----------------------
if want_suite check; then
	for d in userlib tools/* examples/*; do
		[ "$d" = tools/sim ] && continue
		has_target "$d" check || continue
		run "check:$d" 900 make -C "$d" --no-print-directory check
	done
	run install 900 tests/install.sh
fi

# ---- sim ----------------------------------------------------------------
if want_suite sim; then
	if has_target tools/sim run; then
		seeds=${SIM_SEEDS:-10000}
		name=sim
		if selected "$name"; then
			log=$(logname "$name")
			t0=$SECONDS
			timeout -k 15 3000 make -C tools/sim --no-print-directory \
				run SEEDS="$seeds" </dev/null >"$log" 2>&1
			rc=$?
			line=$(grep -E '^[0-9]+ seeds, [0-9]+ violations' "$log" |
			       tail -n 1)
			v=$(echo "$line" | awk '{ print $3 }')
			n=$(echo "$line" | awk '{ print $1 }')
			if [ "$rc" = 0 ] && { [ -z "$line" ] || [ "$v" != 0 ] ||
					      [ "$n" != "$seeds" ]; }; then
				echo "run-all: expected '$seeds seeds, 0 violations'" >>"$log"
				rc=1
			fi
			record "$name ($seeds seeds)" "$rc" "" "" \
				$((SECONDS - t0)) "$log"
		fi
		[ -x tests/sim/run.sh ] &&
			run sim-selfcheck 600 tests/sim/run.sh
		if has_target tools/sim check-bug; then
			run sim-check-bug 1200 make -C tools/sim \
				--no-print-directory check-bug
		else
			skip sim-check-bug "tools/sim has no check-bug target yet"
		fi
	else
		skip sim "tools/sim/Makefile has no run target yet"
	fi
fi

# ---- kunit --------------------------------------------------------------
if want_suite kunit; then
	if [ -x kunit/run.sh ]; then
		run kunit 1800 kunit/run.sh
		# The wiring: a deliberately broken expectation must fail.
		run kunit-selftest 900 kunit/run.sh --selftest
	else
		skip kunit "kunit/run.sh does not exist yet"
	fi
fi

# ---- dkms ---------------------------------------------------------------
if want_suite dkms; then
	run dkms 1200 tests/dkms.sh
fi

# ---- selftest: the VM harness's own tests -----------------------------
if want_suite selftest; then
	for k in "${kernels[@]}"; do
		run "selftest@$k" 1500 tests/vm/selftest/run.sh --kver "$k"
	done
fi

# ---- vm -----------------------------------------------------------------
header()
{
	sed -n "s/^# kpaxos-$2: *\([0-9][0-9]*\).*/\1/p" "$1" | head -n 1
}

if want_suite vm; then
	shopt -s nullglob
	vmtests=(tests/vm/t-*.sh tests/vm/m-*.sh)
	shopt -u nullglob
	[ ${#vmtests[@]} -gt 0 ] || skip vm "no tests/vm/t-*.sh or m-*.sh yet"
	for k in "${kernels[@]}"; do
		for t in "${vmtests[@]}"; do
			base=$(basename "$t" .sh)
			name=vm/$base@$k
			selected "$name" || continue
			if [ -z "${module_ok[$k]:-}" ]; then
				printf 'FAIL  %s: paxos.ko did not build for %s\n' \
					"$name" "$k"
				nfail=$((nfail + 1))
				failures+=("$name")
				continue
			fi
			limit=$(header "$t" timeout)
			limit=${limit:-300}
			case "$base" in
			m-*)
				nodes=$(header "$t" nodes)
				run "$name" $((limit + 120)) tests/vm/multi.sh -q \
					--kver "$k" --timeout "$limit" \
					--nodes "${nodes:-3}" "$t"
				;;
			*)
				run "$name" $((limit + 60)) tests/vm/run.sh -q \
					--kver "$k" --timeout "$limit" "$t"
				;;
			esac
		done
	done
fi

# ---- bench --------------------------------------------------------------
if want_suite bench; then
	if [ -x tools/bench/run.sh ]; then
		run bench-quick 1800 tools/bench/run.sh --quick
	else
		skip bench-quick "tools/bench/run.sh does not exist yet"
	fi
fi

# ---- debug: VM tests on the KASAN/lockdep/kmemleak kernel ----------------
# Last: the cold kernel build is the most expensive step, and whatever the
# time budget leaves is what it gets.
if want_suite debug; then
	# shellcheck disable=SC2086
	run debug 4500 env TESTS="${DEBUG_TESTS:-$DEBUG_DEFAULT}" \
		kunit/vmtest-debug.sh
fi

echo
echo "total time: $((SECONDS / 60)) min $((SECONDS % 60)) s; logs in out/test-logs/"
[ "$nskip" -gt 0 ] && echo "$nskip skipped"
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
