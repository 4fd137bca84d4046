#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Harness self-test: a healthy guest.  Exercises tests/vm/lib.sh for real
# (3-node cluster, reachability, netem, cut/heal, module load) and must
# pass.  Writes $KPAXOS_OUT/pass.txt for the host to check.

. "$KPAXOS_SRC/tests/vm/lib.sh"

ko=$KPAXOS_BUILD/kpx_selftest/kpx_selftest.ko

# busybox ping: the host root has no iputils.
reach()
{
	in_node "$1" busybox ping -c 1 -W 1 "$(node_ip "$2")" >/dev/null 2>&1
}

assert_eq "$(uname -r)" "$KPAXOS_KVER" "running kernel"
assert_eq 1 "$KPAXOS_GUEST" "KPAXOS_GUEST"
assert_eq "$KPAXOS_SRC" "$PWD" "working directory"
[ -d "$KPAXOS_OUT" ] || fail "no KPAXOS_OUT"

cluster_up 3
for i in 1 2 3; do
	assert_eq "$(node_mac "$i")" \
		"$(in_node "$i" cat /sys/class/net/eth0/address)" "node $i MAC"
	assert_eq up "$(in_node "$i" cat /sys/class/net/eth0/operstate)" \
		"node $i eth0"
	assert_eq br-px "$(basename "$(readlink /sys/class/net/vpx$i/master)")" \
		"vpx$i bridge"
done
assert_eq 3 "$(ls /run/netns | grep -c '^px')" "namespaces"

wait_for 20 reach 1 2
wait_for 20 reach 3 1
log "all nodes reach each other"

netem_all loss 100%
assert_fails reach 1 2
netem_clear
wait_for 20 reach 1 2
log "netem loss works"

cut_node 2
assert_fails reach 1 2
reach 1 3 || fail "cutting node 2 cut node 3"
heal_node 2
wait_for 20 reach 1 2
log "cut/heal works"

insmod "$ko"
grep -q '^kpx_selftest ' /proc/modules || fail "kpx_selftest not loaded"
rmmod kpx_selftest

# A failing assertion fails the (sub)shell with status 1.
( assert_eq a b "deliberate" ) 2>/dev/null && fail "assert_eq passed on a != b"

cluster_down
assert_eq 0 "$(ls /run/netns | grep -c '^px' || true)" "namespaces left"
echo "pass $KPAXOS_KVER" > "$KPAXOS_OUT/pass.txt"
