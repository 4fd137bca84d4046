#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The interface under an instance changes (netdevice notifier):
#  1. node 3's eth0 goes down: nodes 1 and 2 go on deciding; once it is up
#     again node 3 catches up;
#  2. node 3's eth0 is deleted: the instance detaches from it (and stays
#     up, without an interface); 1 and 2 go on deciding; a new eth0 (same
#     name, same MAC) appears in node 3's namespace: the instance attaches
#     to it by itself and node 3 catches up;
#  3. the MTU drops below the minimum and comes back: a warning, nothing
#     else;
# then the three logs are identical, every command exactly once, and
# DOWN + rmmod are clean.
# kpaxos-timeout: 600
. "$KPAXOS_SRC/tests/vm/lib.sh"
. "$KPAXOS_SRC/tests/vm/t-pxlib.bash"

N=3
px_setup
cluster_up $N
px_dmesg_mark
px_up_all $N
on_exit _px_debug_dump

# propose ROUND: 40 commands from client 0x100+ROUND at node 1 (nodes 1
# and 2 are always up: it decides).
propose()
{
	px 1 propose --client $((0x100 + $1)) --count 40 --size 200 \
		--timeout 120 >"$KPAXOS_OUT/prop.$1" ||
		fail "round $1: proposals at node 1 failed"
}

leader=$(px_wait_leader 60 1 2 3)
log "leader is node $leader"
propose 1
px_wait_delivered 60 "$(px_stat 1 delivered_index)" 1 2 3

# ---- 1. link down, then up
log "1: node 3's eth0 down"
in_node 3 ip link set eth0 down
propose 2
d=$(px_stat 1 delivered_index)
px_wait_delivered 60 "$d" 1 2
[ "$(px_stat 3 delivered_index)" -lt "$d" ] ||
	fail "node 3 delivered $d with its interface down"
in_node 3 ip link set eth0 up
px_wait_delivered 90 "$d" 3
log "1: node 3 caught up to $d after its link came back"

# ---- 2. interface deleted, then a new one of the same name
log "2: node 3's eth0 deleted"
px_dmesg_mark
ip link del "vpx3"		# deletes both ends of the veth pair
wait_for 10 px_dmesg_since_has "node 3: detached from eth0"
assert_eq 3 "$(px_stat 3 node_id)" "node 3's instance after its eth0 went"
propose 3
d=$(px_stat 1 delivered_index)
px_wait_delivered 60 "$d" 1 2

ip link add name vpx3 type veth peer name pxeth3
ip link set pxeth3 netns px3
ip -n px3 link set pxeth3 address "$(node_mac 3)"
ip -n px3 link set pxeth3 name eth0
ip -n px3 link set eth0 up
ip link set vpx3 master "$PX_BRIDGE"
ip link set vpx3 up
wait_for 10 px_dmesg_since_has "node 3: attached to eth0"
px_wait_delivered 90 "$d" 3
log "2: node 3 re-attached to a new eth0 by itself and caught up to $d"

# ---- 3. MTU below the minimum, and back
px_dmesg_mark
in_node 3 ip link set eth0 mtu 400
wait_for 10 px_dmesg_since_has "node 3: eth0 mtu 400 is below"
in_node 3 ip link set eth0 mtu 1500
propose 4
d=$(px_stat 1 delivered_index)
px_wait_delivered 90 "$d" 1 2 3

# ---- the logs
n=$(px_compare_logs "$KPAXOS_OUT" 1 2 3)
for r in 1 2 3 4; do
	client=$(printf '%x' $((0x100 + r)))
	px_check_once "$KPAXOS_OUT/log.1" "$client" 1 40
done
log "identical logs of $n records, 160 commands exactly once"

for i in 1 2 3; do
	px_down "$i"
done
rmmod paxos || fail "rmmod failed"
log "PASS"
