#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kvstore (examples/kvstore on libkpaxos) on three nodes px1..px3 (lib.sh),
# configured with paxosctl, one `kvstore serve` replica per node:
#
#   - concurrent puts and increments from every node: all three replicas
#     end with the same data and applied the same commands in the same
#     order (their apply logs are identical);
#   - propose returns the applicator's result: the increments of one key
#     from all nodes returned exactly the values 1..N;
#   - put on node A, then get on node B at once: B sees it (sync);
#   - cas: of three concurrent "create if absent", exactly one wins;
#     delete then get elsewhere: not found.
# kpaxos-timeout: 600
. "$KPAXOS_SRC/tests/vm/lib.sh"

need_paxosctl
need_kvstore
N=3
PUTS=30
INCRS=20
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
	in_node "$i" "$PAXOSCTL" up eth0 --id "$i" --cluster 11 $peers ||
		fail "paxosctl up on node $i"
done
wait_for 30 agree_leader
log "leader: node $(leader_of 1)"

for i in $(seq 1 $N); do
	in_node "$i" "$KVSTORE" serve --quiet --log "$work/apply.$i" \
		> "$work/serve.$i" 2>&1 &
	on_exit "kill $! 2>/dev/null"
done
for i in $(seq 1 $N); do
	kv "$i" --wait 10000 ping > /dev/null || fail "node $i: no server"
done

# ---- concurrent puts and increments from every node
log "concurrent puts ($PUTS per node) and increments ($INCRS per node)"
pids=()
for i in $(seq 1 $N); do
	(
		for k in $(seq 1 $PUTS); do
			kv "$i" put "n$i.k$k" "value-$i-$k" ||
				fail "node $i: put n$i.k$k"
		done
	) &
	pids+=($!)
	(
		for k in $(seq 1 $INCRS); do
			kv "$i" incr ctr || fail "node $i: incr"
		done > "$work/incr.$i"
	) &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || fail "a writer failed"
done

# propose returned the applicator's result: 1..N*INCRS, each once
sort -n "$work"/incr.* > "$work/incr.all"
seq 1 $((N * INCRS)) > "$work/incr.want"
cmp -s "$work/incr.want" "$work/incr.all" ||
	fail "incr results are not exactly 1..$((N * INCRS)): $(
		diff "$work/incr.want" "$work/incr.all" | head -5)"

# every replica: same data (dump syncs first)
for i in $(seq 1 $N); do
	kv "$i" dump > "$work/dump.$i" || fail "node $i: dump"
done
assert_eq $((N * PUTS + 1)) "$(wc -l < "$work/dump.1")" "keys on node 1"
assert_eq "ctr	$((N * INCRS))" "$(grep '^ctr	' "$work/dump.1")" "ctr"
assert_eq "value-2-7" "$(kv 3 get n2.k7)" "get n2.k7 on node 3"
for i in $(seq 2 $N); do
	cmp -s "$work/dump.1" "$work/dump.$i" ||
		fail "replica $i differs from replica 1: $(
			diff "$work/dump.1" "$work/dump.$i" | head -5)"
done

# same commands in the same order everywhere (the apply logs)
wait_for 20 test "$(wc -l < "$work/apply.1")" -eq $((N * (PUTS + INCRS)))
for i in $(seq 2 $N); do
	wait_for 20 test "$(wc -l < "$work/apply.$i")" -eq \
		"$(wc -l < "$work/apply.1")"
	cmp -s "$work/apply.1" "$work/apply.$i" ||
		fail "apply order of node $i differs: $(
			diff "$work/apply.1" "$work/apply.$i" | head -5)"
done
log "replicas identical: $(wc -l < "$work/apply.1") commands in the same order"

# ---- read your writes across nodes: put on A, get on B at once
log "put on A, get on B"
for j in $(seq 1 15); do
	a=$(( j % N + 1 ))
	b=$(( (j + 1) % N + 1 ))
	kv "$a" put "ryw" "v$j" || fail "put ryw v$j on node $a"
	assert_eq "v$j" "$(kv "$b" get ryw)" "get ryw on node $b after put on node $a"
done

# ---- compare-and-swap: one winner among concurrent creators
log "cas"
pids=()
for i in $(seq 1 $N); do
	(
		rc=0
		kv "$i" cas --absent lock "node$i" 2>/dev/null || rc=$?
		echo $rc > "$work/cas.$i"
	) &
	pids+=($!)
done
wait "${pids[@]}"
wins=$(grep -lx 0 "$work"/cas.* | wc -l)
losses=$(grep -lx 1 "$work"/cas.* | wc -l)
assert_eq 1 "$wins" "cas winners"
assert_eq $((N - 1)) "$losses" "cas losers (exit 1)"
owner=$(kv 1 get lock)
assert_match '^node[1-3]$' "$owner" "lock owner"
assert_ok kv 2 cas lock "$owner" free
assert_eq free "$(kv 3 get lock)" "lock after cas"
assert_fails kv 3 cas lock "$owner" again

# ---- delete
assert_ok kv 1 delete n1.k1
set +e
kv 2 get n1.k1 > /dev/null 2>&1
rc=$?
set -e
assert_eq 1 "$rc" "get of a deleted key (exit status)"

# nobody went through a leader change without noticing: no errors
for i in $(seq 1 $N); do
	! grep -q 'kvstore:' "$work/serve.$i" ||
		fail "server $i complained: $(cat "$work/serve.$i")"
done
log "PASS"
