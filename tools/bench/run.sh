#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# tools/bench/run.sh: host side of `make bench` / `make bench-quick`.
#
#   tools/bench/run.sh [--quick] [--idle-poll] [--prof] [--kver V] [--ko F]
#                      [--timeout S] [--doc FILE] [-- BENCH.SH OPTIONS]
#
# Builds tools/bench (and libkpaxos if it can, for load's lib/uring modes),
# boots one QEMU guest with tests/vm/run.sh, runs tools/bench/bench.sh in it
# (3 network namespaces on a bridge: ping-pong floor, pxd over UDP, pxd over
# AF_PACKET, the module), then tools/bench/report.py prints the table and
# writes out/bench/{results.json,table.md,*.png} (out/bench/quick/ for
# --quick).
#
# The guest boots with clocksource=tsc tsc=reliable: without a calibrated
# TSC a TCG guest falls back to the HPET, and every clock read of the kernel
# and of user space becomes an emulated device access.  --idle-poll adds
# idle=poll: idle vCPUs spin instead of halting, so a wakeup does not wait
# for the host to reschedule QEMU's vCPU thread - closer to real hardware,
# but it keeps every host CPU busy for the whole run.
#
# --doc FILE: also put the table and the goal status into FILE (e.g.
# docs/bench.md, between its results/goals markers) and copy the plots to
# FILE's directory, bench/ (report.py --doc).
#
# --prof: build paxos.ko with -DKPAXOS_PROF (build/<kver>-prof/) and
# record its hand profile (kmod/prof.h) at every kernel point: time per
# part of the data path and command, in the JSON and the table.  The
# timing calls cost time themselves: not for the published numbers.
#
# --quick: a short smoke run that asserts only that every part ran and
# reported; ends with "1 passed, 0 failed" or "0 passed, 1 failed".
# Timings are never asserted.
set -uo pipefail
self=$(realpath "$0")
cd "$(dirname "$self")/../.."
ROOT=$PWD

quick=0
append=
vmargs=()
benchargs=()
timeout=
doc=()
kver=6.1
prof=0
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1; shift ;;
	--idle-poll) append="${append:-} idle=poll"; shift ;;
	--kver|--ko|--kernel|--moddir|--mem|--smp)
		[ "$1" = --kver ] && kver=$2
		vmargs+=("$1" "$2"); shift 2 ;;
	--prof) prof=1; shift ;;
	--timeout) timeout=$2; shift 2 ;;
	--doc) doc=(--doc "$2"); shift 2 ;;
	--) shift; benchargs=("$@"); break ;;
	-h|--help) sed -n '4,34p' "$self" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

result() {
	if [ "$quick" = 1 ]; then
		if [ "$1" = 0 ]; then
			echo "1 passed, 0 failed"
		else
			echo "0 passed, 1 failed"
		fi
	fi
	exit "$1"
}

make -s -C userlib libkpaxos.a >/dev/null 2>&1 ||
	echo "run.sh: libkpaxos not built; load has no lib/uring modes" >&2
make -s -j2 -C tools/bench >/dev/null || {
	echo "run.sh: building tools/bench failed" >&2
	result 1
}

if [ "$prof" = 1 ]; then
	ko=$(scripts/build-module.sh --kver "$kver" --prof | tail -1) ||
		{ echo "run.sh: profile build failed" >&2; result 1; }
	vmargs+=(--ko "$ko")
	benchargs=(--prof "${benchargs[@]}")
fi

name=bench
if [ "$quick" = 1 ]; then
	name=bench-quick
	benchargs=(--quick "${benchargs[@]}")
	: "${timeout:=300}"
else
	: "${timeout:=2400}"
fi
[ "$quick" = 1 ] && vmargs+=(-q)

# bench.sh --sched: the scheduler's trace events are enabled at boot;
# enabling them in a busy TCG guest (live code patching) can hang it
[[ " ${benchargs[*]} " == *" --sched "* ]] &&
	append="$append trace_event=sched:sched_switch,sched:sched_wakeup"

export VM_APPEND="clocksource=tsc tsc=reliable$append ${VM_APPEND:-}"
tests/vm/run.sh --name "$name" --timeout "$timeout" \
	"${vmargs[@]}" tools/bench/bench.sh "${benchargs[@]}"
rc=$?
if [ $rc != 0 ]; then
	echo "run.sh: the guest run failed (status $rc)" >&2
fi

jsonl=$(ls -t out/vm/"$name"-*/bench.jsonl 2>/dev/null | head -1)
if [ -z "$jsonl" ] || [ ! -s "$jsonl" ]; then
	echo "run.sh: no results (out/vm/$name-*/bench.jsonl)" >&2
	result 1
fi
dest=out/bench
check=()
if [ "$quick" = 1 ]; then
	dest=out/bench/quick
	check=(--check)
fi
mkdir -p "$dest"
cp "$jsonl" "$dest/bench.jsonl"
python3 tools/bench/report.py "$dest/bench.jsonl" --out "$dest" "${check[@]}" \
	"${doc[@]}"
prc=$?
[ $rc = 0 ] && [ $prc = 0 ]
result $?
