#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad input never changes a node's state, is counted, and gets clear errors:
#  - crafted frames sent over AF_PACKET from node 3's namespace (truncated,
#    oversized, wrong magic/version/cluster/group/type/node, bad fragments
#    and bodies, garbage) are dropped by nodes 1 and 2, each counted under
#    its reason, while the cluster keeps its leader and its log;
#  - bad ioctl numbers and arguments, bad and oversized writes give the
#    documented errno (pxtest ioctl-bad);
#  - configuration changes without CAP_NET_ADMIN give EPERM, and a user
#    other than root cannot open /dev/paxos (EACCES).
. "$KPAXOS_SRC/tests/vm/lib.sh"
. "$KPAXOS_SRC/tests/vm/t-pxlib.bash"

N=3
px_setup
cluster_up $N
px_up_all $N
leader=$(px_wait_leader 60 1 2 3)
px 1 propose --client 0x100 --count 20 --size 64 >/dev/null ||
	fail "propose before the bad frames"
idx=$(px_wait_same 60 1 2 3)
log "leader $leader, delivered index $idx"
lc1=$(px_stat 1 leader_changes)

COUNT=5
"$PXTEST" frame --list > "$KPAXOS_OUT/kinds"
while read -r kind drop; do
	b1=$(px_stat 1 "drop_$drop")
	b2=$(px_stat 2 "drop_$drop")
	px 3 frame --if eth0 --kind "$kind" --count $COUNT \
		--cluster "$PX_CLUSTER_ID" --src 3 >/dev/null ||
		fail "sending $kind frames"
	wait_for 20 test "$(px_stat 1 "drop_$drop")" -ge $((b1 + COUNT))
	wait_for 20 test "$(px_stat 2 "drop_$drop")" -ge $((b2 + COUNT))
	assert_eq $((b1 + COUNT)) "$(px_stat 1 "drop_$drop")" "node 1 drop_$drop after $kind"
	assert_eq $((b2 + COUNT)) "$(px_stat 2 "drop_$drop")" "node 2 drop_$drop after $kind"
	log "$kind: dropped and counted as $drop"
done < "$KPAXOS_OUT/kinds"

# nothing changed: same leader, no leader change, the log as before
assert_eq "$leader" "$(px_leader 1)" "leader after bad frames"
assert_eq "$lc1" "$(px_stat 1 leader_changes)" "leader changes at node 1"
assert_eq "$idx" "$(px_wait_same 30 1 2 3)" "delivered index after bad frames"
assert_eq $COUNT "$(px_stat_all drop_bad_body 1 2 | sort -u)" "bad bodies beyond the crafted ones"
assert_eq 0 "$(px_stat 3 drops)" "drops at node 3, which sent the frames"
px 1 propose --client 0x101 --count 5 --size 64 >/dev/null ||
	fail "the cluster no longer works after bad frames"
px_wait_same 60 1 2 3 >/dev/null
assert_eq 25 "$(px_compare_logs "$KPAXOS_OUT" 1 2 3)" "records after bad frames"

# ioctls, writes and reads with bad arguments
px 1 ioctl-bad > "$KPAXOS_OUT/ioctl-bad.txt" ||
	{ cat "$KPAXOS_OUT/ioctl-bad.txt"; fail "pxtest ioctl-bad"; }
log "ioctl-bad: $(tail -1 "$KPAXOS_OUT/ioctl-bad.txt")"
sleep 5		# let the pr_warn_ratelimited burst of ioctl-bad expire
px_dmesg_mark
px 1 --expect EINVAL up --id 0 --if eth0 --peer 1=02:00:00:00:00:01 >/dev/null ||
	fail "UP with node id 0 did not give EINVAL"
px_dmesg_since | grep -q "node_id must be" ||
	fail "no explanation in dmesg for a bad PAXOS_IOC_UP"

# no CAP_NET_ADMIN: configuration changes are refused, status still works
nocap=(setpriv --inh-caps=-net_admin --bounding-set=-net_admin)
"${nocap[@]}" "$PXTEST" --netns px1 --expect EPERM down >/dev/null ||
	fail "DOWN without CAP_NET_ADMIN"
"${nocap[@]}" "$PXTEST" --netns px1 --expect EPERM param set window 8 >/dev/null ||
	fail "SET_PARAM without CAP_NET_ADMIN"
"${nocap[@]}" "$PXTEST" --netns px1 --expect EPERM up --id 1 --if eth0 \
	--peer 1=02:00:00:00:00:01 >/dev/null || fail "UP without CAP_NET_ADMIN"
"${nocap[@]}" "$PXTEST" --netns px1 status >/dev/null ||
	fail "STATUS without CAP_NET_ADMIN"
# still up: the node answers for itself (a leader change on a slow debug
# kernel is not what this checks; the bad frames above are checked for it)
assert_eq 1 "$(px_stat 1 node_id 2>/dev/null)" \
	"node 1 still up after refused DOWN"
# another user cannot even open the device (mode 0600)
setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$PXTEST" --expect EACCES status >/dev/null ||
	fail "open by an unprivileged user"
log "PASS"
