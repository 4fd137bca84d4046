#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Membership change under load: member 3 is replaced by node 4.
#  - nodes 1..3 up with members {1,2,3}; node 4 made known on each of them
#    (paxosctl set-peers); a set-peers leaving member 3 out is refused;
#  - node 4 up outside the configuration (paxosctl up --members 1,2,3):
#    it learns, and never leads;
#  - load from node 1 (two pxtest clients, retries on);
#  - `paxosctl member replace 3 4=MAC` at the leader (or at node
#    $KPAXOS_MEMBER_AT, whose proposer forwards it); every node's status
#    shows {1,2,4} once it is in effect, and node 2's monitor saw the
#    membership event;
#  - node 3 goes DOWN; more load, from node 1 and from node 4 (a member
#    now); 1, 2, 4 agree on a leader among them;
#  - the load stops; on the idle cluster the leader is removed (asked at
#    another member, --wait: it comes into effect through the leader's
#    no-op fill), a new leader takes over, and the old one is added back;
# then every acknowledged command was delivered exactly once, the logs of
# 1, 2 and 4 are identical from instance 1 (node 4 caught up), and node 4
# delivered as far as the others.
# kpaxos-timeout: 600
. "$KPAXOS_SRC/tests/vm/lib.sh"
. "$KPAXOS_SRC/tests/vm/t-pxlib.bash"

need_paxosctl

ctl()
{
	local i=$1

	shift
	in_node "$i" "$PAXOSCTL" "$@"
}

# the peer list of nodes 1..N for paxosctl set-peers
peers_of()
{
	local i

	for i in $(seq 1 "$1"); do
		printf '%s=%s ' "$i" "$(node_mac "$i")"
	done
}

# every node of NODES... reports the configuration WANT (hex)
members_are()
{
	local want=$1 v

	shift
	for v in $(px_stat_all members "$@"); do
		[ "$v" = "$want" ] || return 1
	done
}

# small alpha (the instance parameter; the module's stays at 1024): a
# change takes effect 64 instances after its decision
px_setup
cluster_up 4
for i in 1 2 3 4; do
	px "$i" param set alpha 64 || fail "node $i: alpha"
done
for i in 1 2 3; do
	px_up "$i" 3
done
PX_NODES_UP=3
on_exit _px_debug_dump

# ---- node 4 known on 1..3; a member cannot be forgotten
for i in 1 2 3; do
	# shellcheck disable=SC2046
	ctl "$i" set-peers $(peers_of 4) >/dev/null ||
		fail "node $i: set-peers with node 4"
done
set +e
out=$(ctl 1 set-peers 1="$(node_mac 1)" 2="$(node_mac 2)" 4="$(node_mac 4)" 2>&1)
rc=$?
set -e
assert_eq 1 "$rc" "set-peers without member 3"
assert_match "peers must include every member" "$out" "set-peers message"

# ---- node 4 up outside the configuration
px 4 param set election_us "$PX_ELECTION_US" || fail "node 4: election_us"
px 4 param set heartbeat_us "$PX_HEARTBEAT_US" || fail "node 4: heartbeat_us"
# shellcheck disable=SC2046
ctl 4 up eth0 --id 4 --cluster "$PX_CLUSTER_ID" --members 1,2,3 \
	$(for i in 1 2 3 4; do printf -- '--peer %s=%s ' "$i" "$(node_mac "$i")"; done) ||
	fail "node 4: up outside the configuration"
PX_NODES_UP=4
assert_eq 0xe "$(px_stat 4 members)" "node 4's configuration at up"
for i in 1 2 3 4; do
	ctl "$i" status --json | python3 -c \
		'import json, sys; a = json.load(sys.stdin)["params"]["alpha"]; assert a == 64, a' ||
		fail "node $i: alpha is not 64"
done
leader=$(px_wait_leader 60 1 2 3)
log "leader is node $leader; node 4 is up as a learner"

px_live_start "$KPAXOS_OUT" 1 2 4
"$PXTEST" --netns px1 propose --client 0x100 --clients 2 --duration 3600 \
	--interval-ms 100 --size 200 --retry-ms 1500 --timeout 120 \
	> "$KPAXOS_OUT/prop.1" &
loadpid=$!
on_exit "kill $loadpid 2>/dev/null"

px_wait_delivered 60 40 1 2 3 4
assert_eq 0 "$(px_stat 4 is_leader)" "node 4 leads while not a member"
assert_eq 0xe "$(px_stat 4 members)" "node 4's configuration before"
log "node 4 learns: delivered $(px_stat 4 delivered_index)"

# ---- replace 3 by 4 at the leader
ctl 2 monitor --json --timeout 300 > "$KPAXOS_OUT/monitor.2" &
monpid=$!
on_exit "kill $monpid 2>/dev/null"
sleep 1
leader=$(px_wait_leader 60 1 2 3)
# KPAXOS_MEMBER_AT=I asks node I instead (a follower forwards the change)
at=${KPAXOS_MEMBER_AT:-$leader}
out=$(ctl "$at" member replace 3 "4=$(node_mac 4)") ||
	fail "member replace at node $at"
assert_match "1 2 3 -> 1 2 4" "$out" "member replace output"
log "node $at (leader $leader): $out"
wait_for 120 members_are 0x16 1 2 3 4
log "members {1,2,4} in effect on every node (delivered $(px_stat 1 delivered_index))"
out=$(ctl 4 members)
assert_match "members: 1 2 4  \\(quorum 2\\)" "$out" "paxosctl members"
wait_for 10 grep -q '"event": "membership", "node_id": 2.*"members": \[1, 2, 4\]' \
	"$KPAXOS_OUT/monitor.2"
kill "$monpid" 2>/dev/null || true

# the same change again is refused: it is the latest configuration already
set +e
out=$(ctl 1 member replace 3 "4=$(node_mac 4)" 2>&1)
rc=$?
set -e
assert_eq 1 "$rc" "replacing 3 again"
assert_match "node 3 is not a member" "$out" "replacing 3 again: message"

# ---- node 3 leaves; the load goes on
px_down 3
leader=$(px_wait_leader 60 1 2 4)
log "node 3 down; leader is node $leader"
d=$(px_stat 1 delivered_index)
px_wait_delivered 60 $((d + 40)) 1 2 4
px 4 propose --client 0x400 --clients 2 --count 30 --size 300 \
	--timeout 120 > "$KPAXOS_OUT/prop.4" ||
	fail "proposals at node 4 (a member now)"

kill -USR2 "$loadpid"
wait "$loadpid" || fail "clients of node 1 failed"
grep '^client ' "$KPAXOS_OUT/prop.1" > "$KPAXOS_OUT/clients"

# ---- idle now: remove the leader, asked at another member, then add it
# back.  Without client traffic a change comes into effect only through
# the leader's no-op fill.
leader=$(px_wait_leader 60 1 2 4)
rest=$(for i in 1 2 4; do [ "$i" = "$leader" ] || printf '%s ' "$i"; done)
other=${rest%% *}
out=$(ctl "$other" member remove "$leader" --wait 60) ||
	fail "member remove $leader (the leader) at node $other"
log "node $other: $out"
# shellcheck disable=SC2086
wait_for 60 members_are "$(printf '0x%x' $((0x16 & ~(1 << leader))))" \
	1 2 4
# shellcheck disable=SC2086
new=$(px_wait_leader 60 $rest)
assert_eq 0 "$(px_stat "$leader" is_leader)" "removed node $leader leads"
log "leader $leader removed; node $new leads"
out=$(ctl "$new" member add "$leader=$(node_mac "$leader")" --wait 60) ||
	fail "member add $leader at node $new"
wait_for 60 members_are 0x16 1 2 4
log "node $leader added back: members {1,2,4} on every node"
d=$(px_wait_same 90 1 2 4)
log "load stopped; nodes 1, 2, 4 delivered $d"
px_live_stop "$KPAXOS_OUT" 1 2 4
total=$PX_LIVE_COUNT
px_check_clients "$KPAXOS_OUT/live.1" "$KPAXOS_OUT/clients"
for c in 400 401; do
	px_check_once "$KPAXOS_OUT/live.1" "$c" 1 30
done
assert_eq "$((PX_CLIENTS_TOTAL + 60))" "$total" "records in every log"
# what the nodes retain (from instance 1: nothing was evicted) agrees too
n=$(px_compare_logs "$KPAXOS_OUT" 1 2 4)
assert_eq "$total" "$n" "records in the retained logs"
log "$total commands exactly once; logs of 1, 2, 4 identical; node 4 at $d"
log "PASS"
