#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a Debian kernel under QEMU and run one guest-side script in it.
#
#   tests/vm/run.sh [options] SCRIPT [ARGS...]
#
#   --kver V       kernel to boot: a version or a series (6.1, 6.12);
#                  default $KVER, else the newest installed 6.1
#   --kernel F     boot this bzImage instead (default $KERNEL); its modules
#                  come from --moddir / $MODDIR (a /lib/modules/<ver> tree)
#   --moddir D     see --kernel
#   --ko F         module to hand to the guest as KPAXOS_KO (default
#                  build/<kver>/paxos.ko, built by `make KVER=<kver>`)
#   --timeout S    kill the guest after S seconds (default 300, or
#                  $KPAXOS_TIMEOUT); reported as a failure
#   --name N       name of the run (default: the script's name); logs go to
#                  out/vm-logs/<name>-<kver>.log, files to out/vm/<name>-<kver>/
#                  (<name>-<kver>.2 etc. while another run uses that name)
#   --mem MB, --smp N   guest size (default 2048 MB, 2 CPUs)
#   --no-dmesg-check    do not fail on kernel reports in the guest's log
#   -q             do not copy the console to stdout
#
# The guest sees the host's whole root file system (read-only 9p, with a
# tmpfs overlay: writes stay in the guest) and runs SCRIPT with bash as root
# in a chroot of it, with the working directory at the repository and:
#   KPAXOS_SRC   the repository         KPAXOS_KVER  the running kernel
#   KPAXOS_KO    the module to load     KPAXOS_OUT   a directory shared
#   KPAXOS_GUEST=1                                   writable with the host
# plus every KPAXOS_* variable of the caller.  Tests source tests/vm/lib.sh.
#
# Exit status: the script's status; 124 if the guest was killed at the
# timeout; 125 if the guest died without reporting (panic; a guest that dies
# while booting, before the script starts, is booted a second time);
# 123 if the script passed but the guest kernel logged a WARNING, BUG, Oops,
# lockdep/KASAN/kmemleak report or a call trace (see tests/vm/qemu.sh).
# A script may exit 77 to report "skipped".  KPAXOS_KVM=1 uses KVM instead
# of TCG (nested KVM can hang; TCG is the default).

set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/qemu.sh"

usage()
{
	awk 'NR > 2 && /^#/ { sub(/^# ?/, ""); print; next } NR > 2 { exit }' "$0"
	exit "${1:-2}"
}

kver=${KVER:-}
kernel=${KERNEL:-}
moddir=${MODDIR:-}
ko=
timeout=${KPAXOS_TIMEOUT:-300}
name=
check_dmesg=1
quiet=0
VM_MEM=2048
VM_SMP=2

while [ $# -gt 0 ]; do
	case "$1" in
	--kver) kver=$2; shift 2 ;;
	--kver=*) kver=${1#*=}; shift ;;
	--kernel) kernel=$2; shift 2 ;;
	--moddir) moddir=$2; shift 2 ;;
	--ko) ko=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--timeout=*) timeout=${1#*=}; shift ;;
	--name) name=$2; shift 2 ;;
	--mem) VM_MEM=$2; shift 2 ;;
	--smp) VM_SMP=$2; shift 2 ;;
	--no-dmesg-check) check_dmesg=0; shift ;;
	-q) quiet=1; shift ;;
	-h|--help) usage 0 ;;
	--) shift; break ;;
	-*) vm_msg "unknown option $1"; usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
script=$(realpath -e "$1") || { vm_msg "no such script: $1"; exit 2; }
shift

command -v qemu-system-x86_64 >/dev/null ||
	{ vm_msg "qemu-system-x86_64 missing: run scripts/deps.sh"; exit 125; }
vm_resolve_kernel "$kver" "$kernel" "$moddir" || exit 125

[ -n "$name" ] || name=$(basename "$script" .sh)
[ -n "$ko" ] || ko=$KPAXOS_ROOT/build/$VM_KVER/paxos.ko
ko=$(realpath -m "$ko")
[ -f "$ko" ] || vm_msg "note: $ko not built (make KVER=$VM_KVER)"

vm_claim_run "$name-$VM_KVER"
run=$VM_RUN
out=$KPAXOS_ROOT/out/vm/$run
logdir=$KPAXOS_ROOT/out/vm-logs
log=$logdir/$run.log
rm -rf "$out"
mkdir -p "$out" "$logdir"
: > "$log"

initrd=$(vm_initrd) || { vm_msg "cannot build the initramfs"; exit 125; }

VM_ENV=("KPAXOS_SRC=$KPAXOS_ROOT" "KPAXOS_KO=$ko" "KPAXOS_OUT=$out"
	"KPAXOS_KVER=$VM_KVER" "KPAXOS_BUILD=$KPAXOS_ROOT/build/$VM_KVER")
vm_write_job "$out/job.sh" "$script" "$@"
vm_qemu_cmd "$out" "$log" "$initrd"

qpid=
tpid=
cleanup()
{
	[ -n "$qpid" ] && kill -KILL "$qpid" 2>/dev/null
	[ -n "$tpid" ] && kill "$tpid" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$SECONDS
for attempt in 1 2; do
	vm_msg "$run: booting $VM_KERNEL (timeout ${timeout}s, log $log)"
	"${VM_CMD[@]}" </dev/null >"$out/qemu.stderr" 2>&1 &
	qpid=$!
	if [ "$quiet" = 0 ]; then
		tail -n +1 -f --pid="$qpid" "$log" 2>/dev/null | tr -d '\r' &
		tpid=$!
	fi
	vm_wait_pid "$qpid" "$timeout"
	qrc=$?
	qpid=
	[ -n "$tpid" ] && wait "$tpid" 2>/dev/null
	tpid=
	# A guest that died before its job started (a boot failure of an
	# overloaded TCG host, never the test's doing) is booted once more.
	if [ "$attempt" = 1 ] && [ "$qrc" != 124 ] &&
	   [ ! -s "$out/exit-status" ] &&
	   ! grep -q 'kpaxos-init: guest up' "$log"; then
		vm_msg "$run: the guest died while booting; trying again" \
		       "(first console: $log.boot1)"
		mv -f "$log" "$log.boot1"
		: > "$log"
		continue
	fi
	break
done
elapsed=$((SECONDS - start))

if [ "$qrc" = 124 ]; then
	vm_msg "$run: TIMEOUT after ${timeout}s: guest killed (log $log)"
	rc=124
elif [ ! -s "$out/exit-status" ]; then
	vm_msg "$run: guest died without reporting a status (qemu exit $qrc)"
	sed 's/^/vm: qemu: /' "$out/qemu.stderr" >&2
	rc=125
else
	rc=$(cat "$out/exit-status")
fi

if [ "$check_dmesg" = 1 ]; then
	if [ -f "$out/dmesg.txt" ]; then
		logs=("$out/dmesg.txt")
		[ -f "$out/kmemleak.txt" ] && logs+=("$out/kmemleak.txt")
	else
		logs=("$log")
	fi
	if ! hits=$(vm_scan_log "${logs[@]}"); then
		vm_msg "$run: kernel reports in the guest's log:"
		echo "$hits" | sed 's/^/vm:   /' >&2
		[ "$rc" = 0 ] && rc=123
	fi
fi

case "$rc" in
0) vm_msg "$run: PASS (${elapsed}s)" ;;
77) vm_msg "$run: SKIP (${elapsed}s)" ;;
*) vm_msg "$run: FAIL, status $rc (${elapsed}s, log $log)" ;;
esac
exit "$rc"
