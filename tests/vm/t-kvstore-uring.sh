#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# libkpaxos's two propose paths on three nodes px1..px3 (lib.sh), at once:
#
#   node 1: kpaxos_propose_async() over io_uring, $COUNT increments of key
#           "a", all in flight together (batched submissions);
#   node 2: blocking kpaxos_propose() from 8 threads, $COUNT increments of
#           key "b";
#   node 3: the io_uring path again on key "c", with netem reordering and
#           loss on its link, so that retries and renumbering happen.
#
# Each `kvstore load` checks that the results it got back are exactly
# BASE+1..BASE+COUNT (the applicator's result of every command, once); then
# every node reads a = b = c = COUNT, and the three replicas' logs agree.
# kpaxos-timeout: 900
. "$KPAXOS_SRC/tests/vm/lib.sh"

need_paxosctl
need_kvstore
N=3
COUNT=${KPAXOS_URING_COUNT:-3000}
work=$(mktemp -d)

need_module
load_module
on_exit 'rmmod paxos 2>/dev/null'
cluster_up $N

peers=
for i in $(seq 1 $N); do
	peers+=" --peer $i=$(node_mac "$i")"
done
# Generous timeouts: the host running the VM tests may be busy.
for i in $(seq 1 $N); do
	in_node "$i" "$PAXOSCTL" set election_us=1000000 heartbeat_us=100000 ||
		fail "paxosctl set on node $i"
	# shellcheck disable=SC2086
	in_node "$i" "$PAXOSCTL" up eth0 --id "$i" $peers ||
		fail "paxosctl up on node $i"
done
wait_for 30 agree_leader

# a replica on every node, for the final reads and the order check
for i in $(seq 1 $N); do
	in_node "$i" "$KVSTORE" serve --quiet --log "$work/apply.$i" &
	on_exit "kill $! 2>/dev/null"
done
for i in $(seq 1 $N); do
	in_node "$i" "$KVSTORE" --server --wait 10000 ping > /dev/null ||
		fail "node $i: no server"
done

log "async (io_uring) on node 1, blocking on node 2, async + netem on node 3"
netem_node 3 delay 2ms 1ms loss 2%
in_node 1 "$KVSTORE" load -n "$COUNT" --async --key a > "$work/load.1" &
p1=$!
in_node 2 "$KVSTORE" load -n "$COUNT" --threads 8 --key b > "$work/load.2" &
p2=$!
in_node 3 "$KVSTORE" load -n "$COUNT" --async --key c > "$work/load.3" &
p3=$!
rc=0
wait $p1 || rc=1
wait $p2 || rc=1
wait $p3 || rc=1
netem_clear
cat "$work"/load.*
[ "$rc" = 0 ] || fail "a load run failed"

for i in 1 2 3; do
	line=$(cat "$work/load.$i")
	assert_match "results=exact" "$line" "node $i results"
	assert_match "final=$COUNT " "$line" "node $i final value"
done
assert_match "mode=async" "$(cat "$work/load.1")" "node 1 mode"
assert_match "mode=blocking" "$(cat "$work/load.2")" "node 2 mode"
# batched submission: far fewer io_uring_submit calls than writes
subs=$(sed -n 's/.*submits=\([0-9]*\).*/\1/p' "$work/load.1")
[ "$subs" -lt $((COUNT / 4)) ] ||
	fail "node 1 made $subs io_uring submissions for $COUNT proposals"

# both paths gave the same results: a = b = c on every node
for i in $(seq 1 $N); do
	for k in a b c; do
		assert_eq "$COUNT" "$(in_node "$i" "$KVSTORE" --server get $k)" \
			"key $k on node $i"
	done
done
wait_for 60 test "$(wc -l < "$work/apply.1")" -ge $((3 * COUNT))
for i in $(seq 2 $N); do
	wait_for 60 test "$(wc -l < "$work/apply.$i")" -eq \
		"$(wc -l < "$work/apply.1")"
	cmp -s "$work/apply.1" "$work/apply.$i" ||
		fail "apply order of node $i differs"
done
assert_eq $((3 * COUNT)) "$(wc -l < "$work/apply.1")" "commands applied"
log "PASS"
