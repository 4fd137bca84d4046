#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Module and instance lifetime:
#  A. rmmod under load: on slow links (netem rate 2mbit), every node fills
#     its proposal queue (writers gone, the cluster still busy ordering the
#     commands, frames in flight in the qdiscs); the module is removed:
#     it unloads, /dev/paxos disappears, every instance is destroyed.
#  B. blocked readers: while a reader is blocked in read(2), rmmod is
#     refused (the open file holds the module) and changes nothing;
#     PAXOS_IOC_DOWN wakes a blocked reader with ENOTCONN; deleting the
#     namespace of a reader's instance does too; a signal interrupts a
#     blocked read (EINTR); once the readers are gone rmmod succeeds.
# The harness fails the test on any WARNING/BUG/Oops in dmesg.
. "$KPAXOS_SRC/tests/vm/lib.sh"
. "$KPAXOS_SRC/tests/vm/t-pxlib.bash"

N=3
px_setup
cluster_up $N

# --- A: rmmod under load
px_up_all $N
px_wait_leader 60 1 2 3 >/dev/null
# slow links (2 Mbit/s), so that the queued commands take a while
netem_all delay 5ms rate 2mbit
for i in $(seq 1 $N); do
	px "$i" propose --client $((i << 8)) --clients 4 --count 100000 \
		--size 1000 --fill > "$KPAXOS_OUT/fill.$i" &
done
wait
busy=$(px_stat_all delivered_cmds 1 2 3 | paste -sd ' ')
px_dmesg_mark
rmmod paxos || fail "rmmod under load"
queued=$(cat "$KPAXOS_OUT"/fill.* | awk '{ s += $2 } END { print s }')
log "A: $queued commands queued, delivered at rmmod time: $busy"
for d in $busy; do
	[ "$d" -lt "$queued" ] || fail "the cluster was idle at rmmod time"
done
[ ! -e /dev/paxos ] || fail "/dev/paxos still there after rmmod"
grep -q '^paxos ' /proc/modules && fail "paxos still in /proc/modules"
assert_eq $N "$(px_dmesg_since | grep -c 'instance destroyed')" \
	"instances destroyed by rmmod"
px_dmesg_since | grep -q 'paxos: unloaded' || fail "no 'unloaded' message"
log "A: rmmod under load: module gone, $N instances destroyed"
netem_clear

# --- B: blocked readers
insmod "$KPAXOS_KO" || fail "insmod again"
wait_for 10 test -c /dev/paxos
PX_NODES_UP=0
px_up_all $N
px_wait_leader 60 1 2 3 >/dev/null

blocked()
{
	grep -q '^blocked' "$1"
}

"$PXTEST" --netns px1 --expect ENOTCONN wait-read > "$KPAXOS_OUT/r1" &
r1=$!
"$PXTEST" --netns px2 --expect ENOTCONN wait-read > "$KPAXOS_OUT/r2" &
r2=$!
"$PXTEST" --netns px3 --expect ENOTCONN wait-read --leave-netns \
	> "$KPAXOS_OUT/r3" &
r3=$!
"$PXTEST" --netns px1 --expect EINTR wait-read --eintr > "$KPAXOS_OUT/r4" &
r4=$!
for f in r1 r2 r3 r4; do
	wait_for 20 blocked "$KPAXOS_OUT/$f"
done
sleep 1

if rmmod paxos 2>"$KPAXOS_OUT/rmmod.err"; then
	fail "rmmod succeeded with open files"
fi
log "B: rmmod with blocked readers refused: $(cat "$KPAXOS_OUT/rmmod.err")"
for p in $r1 $r2 $r3 $r4; do
	kill -0 "$p" 2>/dev/null || fail "a blocked reader ended after the refused rmmod"
done
assert_ne 0 "$(px_leader 1)" "leader after the refused rmmod"

kill -USR1 $r4
wait $r4 || fail "SIGUSR1 did not interrupt a blocked read with EINTR"
log "B: a signal interrupted a blocked read (EINTR)"

px_down 2
wait $r2 || fail "DOWN did not wake the blocked reader with ENOTCONN"
log "B: DOWN woke the blocked reader with ENOTCONN"

px_dmesg_mark
ip netns del px3
wait_for 60 px_dmesg_since_has 'instance destroyed'
wait $r3 || fail "namespace deletion did not wake the reader with ENOTCONN"
log "B: deleting the namespace destroyed its instance and woke its reader"

px_down 1
wait $r1 || fail "DOWN did not wake the blocked reader of node 1"
rmmod paxos || fail "rmmod once the readers are gone"
[ ! -e /dev/paxos ] || fail "/dev/paxos still there after rmmod"
log "PASS"
