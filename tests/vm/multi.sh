#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Start K QEMU guests on one Ethernet segment, one cluster node per guest,
# so that a node can be crashed for real by killing its VM.
#
#   tests/vm/multi.sh [options] SCRIPT1 SCRIPT2 ...     guest i runs SCRIPTi
#   tests/vm/multi.sh [options] --nodes K SCRIPT [ARGS...]   all run SCRIPT
#
#   --kver V, --kernel F, --moddir D, --ko F, --mem MB (default 1024),
#   --smp N (default 1), --timeout S (default 300, whole run), --name N, -q,
#   --no-dmesg-check: as for tests/vm/run.sh
#
# Guest i gets a virtio NIC, eth0 with MAC 02:00:00:00:00:0i and IP
# 10.98.0.i/24, already up.  The NICs are joined by a private UDP hub
# (tests/vm/hub.py, QEMU -netdev dgram): no host networking, no loop-back of
# a guest's own frames, nothing shared with other runs.  Extra environment
# for guest scripts, besides run.sh's:
#   KPAXOS_NODE=i  KPAXOS_NODES=K
#   KPAXOS_SHARED  a directory shared by all guests and the host (each
#                  guest's KPAXOS_OUT is KPAXOS_SHARED/n<i>)
#   KPAXOS_BOOT    0 on the first boot of a guest, 1 after one restart, ...
# A guest script controls the run through files in KPAXOS_SHARED/ctl (the
# helpers vm_kill, vm_restart, vm_block, vm_unblock, vm_loss, vm_barrier in
# tests/vm/lib.sh write them):
#   ctl/kill-J      the host kills guest J at once (power cut); it writes
#                   ctl/killed-J when J is gone
#   ctl/restart-J   kill guest J, then boot it again (KPAXOS_BOOT+1); its
#                   KPAXOS_OUT directory is kept
#   ctl/block, ctl/loss   frame filters of the hub (see hub.py)
#
# Result: 0 when every guest that was not killed at the end passed (status
# 0 and no kernel report); a guest killed on request is not a failure.
# Otherwise the first failing guest's status (124: timeout).  When a guest
# fails, the others are stopped at once (they may be waiting for it).

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
nodes=0
check_dmesg=1
quiet=0
VM_MEM=1024
VM_SMP=1

while [ $# -gt 0 ]; do
	case "$1" in
	--kver) kver=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--moddir) moddir=$2; shift 2 ;;
	--ko) ko=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--name) name=$2; shift 2 ;;
	--mem) VM_MEM=$2; shift 2 ;;
	--smp) VM_SMP=$2; shift 2 ;;
	--nodes) nodes=$2; shift 2 ;;
	--no-dmesg-check) check_dmesg=0; shift ;;
	-q) quiet=1; shift ;;
	-h|--help) usage 0 ;;
	--) shift; break ;;
	-*) vm_msg "unknown option $1"; usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage

scripts=()
script_args=()
if [ "$nodes" -gt 0 ]; then
	s=$(realpath -e "$1") || { vm_msg "no such script: $1"; exit 2; }
	shift
	script_args=("$@")
	for i in $(seq 1 "$nodes"); do
		scripts[i]=$s
	done
else
	nodes=$#
	i=1
	for s in "$@"; do
		scripts[i]=$(realpath -e "$s") ||
			{ vm_msg "no such script: $s"; exit 2; }
		i=$((i + 1))
	done
fi
[ "$nodes" -ge 1 ] && [ "$nodes" -le 32 ] ||
	{ vm_msg "1..32 guests"; exit 2; }

command -v qemu-system-x86_64 >/dev/null ||
	{ vm_msg "qemu-system-x86_64 missing: run scripts/deps.sh"; exit 125; }
vm_resolve_kernel "$kver" "$kernel" "$moddir" || exit 125
[ -n "$name" ] || name=multi-$(basename "${scripts[1]}" .sh)
[ -n "$ko" ] || ko=$KPAXOS_ROOT/build/$VM_KVER/paxos.ko
ko=$(realpath -m "$ko")

vm_claim_run "$name-$VM_KVER"
run=$VM_RUN
shared=$KPAXOS_ROOT/out/vm/$run
logdir=$KPAXOS_ROOT/out/vm-logs
rm -rf "$shared"
mkdir -p "$shared/ctl" "$logdir"
initrd=$(vm_initrd) || { vm_msg "cannot build the initramfs"; exit 125; }

declare -a qpid boot killed hport gport retried
hubpid=
tailpids=()

cleanup()
{
	local i

	for i in $(seq 1 "$nodes"); do
		[ -n "${qpid[i]:-}" ] && kill -KILL "${qpid[i]}" 2>/dev/null
	done
	[ -n "$hubpid" ] && kill "$hubpid" 2>/dev/null
	for i in "${tailpids[@]}"; do
		kill "$i" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 "$VM_DIR/hub.py" "$nodes" "$shared/ctl" "$shared/hub.ports" \
	2>"$shared/hub.stderr" &
hubpid=$!
for _ in $(seq 100); do
	[ -s "$shared/hub.ports" ] && break
	sleep 0.1
done
[ -s "$shared/hub.ports" ] || { vm_msg "hub did not start"; exit 125; }
while read -r i h g; do
	hport[i]=$h
	gport[i]=$g
done < "$shared/hub.ports"

guest_log()
{
	if [ "${boot[$1]}" = 0 ]; then
		echo "$logdir/$run-n$1.log"
	else
		echo "$logdir/$run-n$1.b${boot[$1]}.log"
	fi
}

start_guest()
{
	local i=$1 out=$shared/n$1 log mac

	mkdir -p "$out"
	rm -f "$out/exit-status" "$out/dmesg.txt" "$out/kmemleak.txt"
	log=$(guest_log "$i")
	: > "$log"
	mac=$(printf '02:00:00:00:00:%02x' "$i")
	VM_ENV=("KPAXOS_SRC=$KPAXOS_ROOT" "KPAXOS_KO=$ko" "KPAXOS_OUT=$out"
		"KPAXOS_KVER=$VM_KVER" "KPAXOS_BUILD=$KPAXOS_ROOT/build/$VM_KVER"
		"KPAXOS_NODE=$i" "KPAXOS_NODES=$nodes" "KPAXOS_SHARED=$shared"
		"KPAXOS_BOOT=${boot[i]}")
	VM_NET=1 vm_write_job "$out/job.sh" "${scripts[i]}" "${script_args[@]}"
	VM_SUB=n$i vm_qemu_cmd "$shared" "$log" "$initrd" \
		-netdev "dgram,id=net0,local.type=inet,local.host=127.0.0.1,local.port=${gport[i]},remote.type=inet,remote.host=127.0.0.1,remote.port=${hport[i]}" \
		-device "virtio-net-pci,netdev=net0,mac=$mac,romfile="
	"${VM_CMD[@]}" </dev/null >"$out/qemu.stderr" 2>&1 &
	qpid[i]=$!
	killed[i]=0
	vm_msg "$run: guest $i booting (log $log)"
	if [ "$quiet" = 0 ]; then
		tail -n +1 -f --pid="${qpid[i]}" "$log" 2>/dev/null |
			tr -d '\r' | sed -u "s/^/[n$i] /" &
		tailpids+=($!)
	fi
}

kill_guest()
{
	local i=$1

	if [ -n "${qpid[i]:-}" ]; then
		kill -KILL "${qpid[i]}" 2>/dev/null
		wait "${qpid[i]}" 2>/dev/null
	fi
	qpid[i]=
	killed[i]=1
	vm_msg "$run: guest $i killed"
}

for i in $(seq 1 "$nodes"); do
	boot[i]=0
	start_guest "$i"
done

start=$SECONDS
timed_out=0
while :; do
	for f in "$shared"/ctl/kill-* "$shared"/ctl/restart-*; do
		[ -e "$f" ] || continue
		i=${f##*-}
		rm -f "$f"
		[[ $i =~ ^[0-9]+$ ]] && [ "$i" -ge 1 ] && [ "$i" -le "$nodes" ] ||
			continue
		kill_guest "$i"
		case "$f" in
		*/restart-*)
			boot[i]=$((boot[i] + 1))
			start_guest "$i"
			;;
		*)
			: > "$shared/ctl/killed-$i"
			;;
		esac
	done
	alive=0
	failed=0
	for i in $(seq 1 "$nodes"); do
		if [ -n "${qpid[i]:-}" ]; then
			if kill -0 "${qpid[i]}" 2>/dev/null; then
				alive=$((alive + 1))
			else
				wait "${qpid[i]}" 2>/dev/null
				qpid[i]=
				st=$(cat "$shared/n$i/exit-status" 2>/dev/null)
				log=$(guest_log "$i")
				# Died while booting (overloaded TCG host, see
				# run.sh): boot it once more.
				if [ -z "$st" ] && [ -z "${retried[i]:-}" ] &&
				   ! grep -q 'kpaxos-init: guest up' "$log"; then
					retried[i]=1
					mv -f "$log" "$log.boot1"
					vm_msg "$run: guest $i died while booting; trying again"
					start_guest "$i"
					alive=$((alive + 1))
					continue
				fi
				[ "$st" = 0 ] || failed=$i
			fi
		fi
	done
	[ "$alive" = 0 ] && break
	if [ "$failed" != 0 ]; then
		# Fail fast: the others may wait forever for the failed one.
		vm_msg "$run: guest $failed failed; stopping the others"
		for i in $(seq 1 "$nodes"); do
			[ -n "${qpid[i]:-}" ] && kill_guest "$i" && killed[i]=2
		done
		break
	fi
	if [ $((SECONDS - start)) -ge "$timeout" ]; then
		timed_out=1
		break
	fi
	sleep 0.3
done
elapsed=$((SECONDS - start))

rc=0
for i in $(seq 1 "$nodes"); do
	out=$shared/n$i
	log=$(guest_log "$i")
	if [ "${killed[i]}" = 1 ]; then
		vm_msg "$run: guest $i: killed on request"
		continue
	fi
	if [ "${killed[i]}" = 2 ]; then
		vm_msg "$run: guest $i: stopped after another guest failed"
		continue
	fi
	if [ -n "${qpid[i]:-}" ]; then
		kill_guest "$i"
		r=124
		vm_msg "$run: guest $i: TIMEOUT after ${timeout}s (log $log)"
	elif [ ! -s "$out/exit-status" ]; then
		r=125
		vm_msg "$run: guest $i died without reporting a status (log $log)"
	else
		r=$(cat "$out/exit-status")
	fi
	if [ "$check_dmesg" = 1 ]; then
		logs=("$out/dmesg.txt")
		[ -f "$out/dmesg.txt" ] || logs=("$log")
		[ -f "$out/kmemleak.txt" ] && logs+=("$out/kmemleak.txt")
		if ! hits=$(vm_scan_log "${logs[@]}"); then
			vm_msg "$run: guest $i: kernel reports in its log:"
			echo "$hits" | sed 's/^/vm:   /' >&2
			[ "$r" = 0 ] && r=123
		fi
	fi
	if [ "$r" = 0 ]; then
		vm_msg "$run: guest $i: PASS"
	else
		vm_msg "$run: guest $i: FAIL, status $r (log $log)"
		[ "$rc" = 0 ] && rc=$r
	fi
done
[ "$timed_out" = 1 ] && [ "$rc" = 0 ] && rc=124
if [ "$rc" = 0 ]; then
	vm_msg "$run: PASS (${elapsed}s)"
else
	vm_msg "$run: FAIL, status $rc (${elapsed}s)"
fi
exit "$rc"
