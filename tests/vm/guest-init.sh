#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the harness's initramfs (see tests/vm/qemu.sh).  Runs as PID 1 in
# the guest with busybox only:
#   1. loads the few modules needed to reach the host (virtio, 9p, overlay),
#   2. mounts the host root read-only over 9p (tag hostroot) under a tmpfs
#      overlay at /mnt, so the guest sees the host's whole userland and may
#      write anywhere (writes stay in guest RAM),
#   3. mounts the writable export (tag kpaxos_out) at the same path as on
#      the host (kernel parameter kpaxos.out=<path>),
#   4. runs <out>/<sub>/job.sh (written by the host; kpaxos.sub=<sub> is
#      empty for a single guest, n<i> for guest i of tests/vm/multi.sh) with
#      bash inside a chroot,
#   5. records its exit status, dmesg and kmemleak reports next to job.sh,
#   6. powers off.
# Anything going wrong here is reported on the console; the host notices the
# missing exit-status file.

PATH=/bin
export PATH
/bin/busybox --install -s /bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null

die()
{
	echo "kpaxos-init: $*"
	echo "kpaxos-init: FATAL, powering off"
	poweroff -f
	sleep 5
	exit 1
}

for m in $(cat /modules.list); do
	insmod "/lib/kpaxos-initrd/$m" || echo "kpaxos-init: insmod $m failed"
done

OUT=
SUB=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	kpaxos.out=*) OUT=${arg#kpaxos.out=} ;;
	kpaxos.sub=*) SUB=${arg#kpaxos.sub=} ;;
	esac
done
RES=/out${SUB:+/$SUB}
[ -n "$OUT" ] || die "no kpaxos.out= on the kernel command line"

NINEP=trans=virtio,version=9p2000.L,msize=262144
mkdir -p /lower /upper /mnt /out
mount -t 9p -o "$NINEP,ro,cache=loose" hostroot /lower ||
	die "cannot mount the host root over 9p"
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir -p /upper/u /upper/w
if ! mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w \
		overlay /mnt; then
	echo "kpaxos-init: overlay failed; read-only root with tmpfs /tmp"
	mount -o bind /lower /mnt
	mount -t tmpfs tmpfs /mnt/tmp
fi
mount -t 9p -o "$NINEP" kpaxos_out /out || die "cannot mount kpaxos_out"

mount -t proc proc /mnt/proc
mount -t sysfs sysfs /mnt/sys
mount -t devtmpfs devtmpfs /mnt/dev
mkdir -p /mnt/dev/pts /mnt/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /mnt/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /mnt/dev/shm
mount -t tmpfs -o mode=0755 tmpfs /mnt/run
mkdir -p /mnt/run/lock /mnt/run/netns
mount -t debugfs debugfs /mnt/sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /mnt/sys/kernel/tracing 2>/dev/null
mkdir -p "/mnt$OUT"
mount -o bind /out "/mnt$OUT" || die "cannot bind $OUT"

hostname kpaxos-vm
echo "kpaxos-init: guest up ($(uname -r)), running job"

chroot /mnt /usr/bin/env -i /bin/bash "$OUT${SUB:+/$SUB}/job.sh" </dev/null \
	>/dev/console 2>&1
rc=$?
echo "kpaxos-init: job exit status $rc"

if [ -w /mnt/sys/kernel/debug/kmemleak ]; then
	# Two scans: kmemleak reports an object only after it has been seen
	# unreferenced by consecutive scans.
	echo scan > /mnt/sys/kernel/debug/kmemleak
	sleep 5
	echo scan > /mnt/sys/kernel/debug/kmemleak
	cat /mnt/sys/kernel/debug/kmemleak > "$RES/kmemleak.txt"
fi
# util-linux dmesg reads the whole ring buffer; busybox's as a fallback.
chroot /mnt /bin/dmesg > "$RES/dmesg.txt" 2>/dev/null || dmesg > "$RES/dmesg.txt"
echo "$rc" > "$RES/exit-status"
sync
umount "/mnt$OUT" 2>/dev/null
umount /out 2>/dev/null
poweroff -f
sleep 10
