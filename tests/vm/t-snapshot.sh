#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Snapshots: a replica away longer than its peers retain the log catches up
# from a snapshot.  Three nodes px1..px3 (lib.sh) with small logs
# (learner_slots = acceptor_slots = 256, snapshot_every = 64, small
# batches so that every few puts make an instance), a kvstore replica on
# each (examples/kvstore, which puts its table at every snapshot point):
#
#   - node 3 goes away: its kvstore is killed and its cable unplugged;
#   - thousands of keys are written through node 1 until node 1 no longer
#     retains what node 3 would need next (first_index > node 3's
#     delivered index + 1): only a snapshot can bring node 3 back;
#   - node 3 comes back and a NEW kvstore starts there, reading from
#     instance 1: node 3's learner installs a peer's snapshot
#     (snap_installed > 0), the kvstore restores it (a RESTORE record: its
#     apply log says "restore"), and its full dump equals node 1's and
#     node 2's;
#   - writes afterwards, on every node, replicate to all three.
# kpaxos-timeout: 600
. "$KPAXOS_SRC/tests/vm/lib.sh"

need_paxosctl
need_kvstore
PXTEST=$KPAXOS_SRC/tools/pxtest/pxtest
[ -x "$PXTEST" ] || make -s -C "$KPAXOS_SRC/tools/pxtest" >&2
N=3
work=$(mktemp -d)

need_module
load_module
on_exit 'rmmod paxos 2>/dev/null'
cluster_up $N

# One field of node I's struct paxos_status.
st()
{
	"$PXTEST" --netns "px$1" status --get "$2"
}

declare -A serve_pid=()

serve()
{
	local i=$1 log=$2

	# not through in_node: $! is then the server itself (ip execs it)
	ip netns exec "px$i" "$KVSTORE" serve --quiet --log "$log" \
		>> "$work/serve.$i" 2>&1 &
	serve_pid[$i]=$!
	on_exit "kill $! 2>/dev/null"
	kv "$i" --wait 10000 ping > /dev/null || fail "node $i: no server"
}

# Every node's full dump equals node 1's; prints the number of keys.
same_dumps()
{
	local i

	for i in $(seq 1 $N); do
		kv "$i" dump > "$work/dump.$i" || fail "node $i: dump"
	done
	for i in $(seq 2 $N); do
		cmp -s "$work/dump.1" "$work/dump.$i" ||
			fail "replica $i differs from replica 1 ($(wc -l < "$work/dump.1") / $(wc -l < "$work/dump.$i") keys): $(
				diff "$work/dump.1" "$work/dump.$i" | head -5)"
	done
	wc -l < "$work/dump.1"
}

peers=
for i in $(seq 1 $N); do
	peers+=" --peer $i=$(node_mac "$i")"
done
for i in $(seq 1 $N); do
	# Generous timeouts: the host running the VM tests may be busy.
	in_node "$i" "$PAXOSCTL" set election_us=1000000 heartbeat_us=100000 \
		learner_slots=256 acceptor_slots=256 snapshot_every=64 \
		batch_bytes=512 || fail "paxosctl set on node $i"
	# shellcheck disable=SC2086
	in_node "$i" "$PAXOSCTL" up eth0 --id "$i" --cluster 12 $peers ||
		fail "paxosctl up on node $i"
done
for i in $(seq 1 $N); do
	assert_eq 64 "$(st "$i" snapshot_every)" "snapshot_every of node $i"
done
wait_for 30 agree_leader
log "leader: node $(leader_of 1)"

for i in $(seq 1 $N); do
	serve "$i" "$work/apply.$i"
done

# ---- a first stretch of the log, seen by everybody
in_node 1 "$KVSTORE" fill -n 300 --prefix a. > "$work/fill.0" ||
	fail "fill a.: $(cat "$work/fill.0")"
assert_eq 300 "$(same_dumps)" "keys everywhere"

# ---- node 3 goes away
kill "${serve_pid[3]}"
wait "${serve_pid[3]}" 2>/dev/null || true
cut_node 3
d3=$(st 3 delivered_index)
log "node 3 cut off at instance $d3"

round=0
while :; do
	round=$((round + 1))
	[ $round -le 8 ] ||
		fail "node 1 still retains instance $((d3 + 1)) after $((round - 1)) rounds (first_index $(st 1 first_index))"
	in_node 1 "$KVSTORE" fill -n 1500 --prefix "b$round." \
		> "$work/fill.$round" ||
		fail "fill round $round: $(cat "$work/fill.$round")"
	first=$(st 1 first_index)
	log "round $round: node 1 retains $first..$(st 1 delivered_index), snapshot at $(st 1 snapshot_index)"
	[ "$first" -le $((d3 + 64)) ] || break
done
kv 1 delete a.7 || fail "delete a.7"
for _ in 1 2 3; do
	kv 1 incr ctr > /dev/null || fail "incr ctr"
done
snap1=$(st 1 snapshot_index)
[ "$snap1" -gt "$d3" ] || fail "node 1's snapshot ($snap1) is not past node 3 ($d3)"
[ "$(st 1 snap_puts)" -gt 0 ] || fail "node 1: no snapshot put"
[ $(( $(st 3 delivered_index) + 1 )) -lt "$(st 1 first_index)" ] ||
	fail "node 1 still retains what node 3 needs next"
assert_eq 0 "$(st 3 snap_installed)" "node 3 installed a snapshot while cut off"

# ---- node 3 comes back, with a new kvstore from instance 1
heal_node 3
serve 3 "$work/apply.3b"
want=$(st 1 delivered_index)
wait_for 180 test "$(st 3 delivered_index)" -ge "$want"
installed=$(st 3 snap_installed)
[ "$installed" -gt 0 ] || fail "node 3 caught up without a snapshot"
log "node 3 back: installed $installed snapshot(s), now at $(st 3 snapshot_index)"
assert_eq 0 "$(st 3 snap_rejected)" "snapshots node 3 rejected"
served=$(( $(st 1 snap_served) + $(st 2 snap_served) ))
[ "$served" -gt 0 ] || fail "no node served a snapshot chunk"

keys=$(same_dumps)
want_keys=$((300 + round * 1500))	# a.7 deleted, ctr added
assert_eq "$want_keys" "$keys" "keys everywhere after node 3's return"
assert_eq "ctr	3" "$(grep '^ctr	' "$work/dump.3")" "ctr on node 3"
assert_eq "v$((1500 / 2))" "$(kv 3 get "b$round.$((1500 / 2))")" "a key written while node 3 was away"
grep -q ' restore [0-9]* keys$' "$work/apply.3b" ||
	fail "node 3's new kvstore did not restore a snapshot: $(head -3 "$work/apply.3b")"
log "node 3's kvstore: $(grep -c ' restore ' "$work/apply.3b") restore(s), then $(grep -vc ' restore ' "$work/apply.3b") commands applied"

# ---- and the log goes on, from every node
for i in $(seq 1 $N); do
	kv "$i" put "after.$i" "x$i" || fail "put after.$i on node $i"
	kv "$i" incr ctr > /dev/null || fail "incr ctr on node $i"
done
in_node 3 "$KVSTORE" fill -n 200 --prefix c. > "$work/fill.c" ||
	fail "fill c. on node 3: $(cat "$work/fill.c")"
assert_eq $((want_keys + N + 200)) "$(same_dumps)" "keys everywhere at the end"
assert_eq "ctr	$((3 + N))" "$(grep '^ctr	' "$work/dump.2")" "ctr at the end"

for i in $(seq 1 $N); do
	! grep -q 'kvstore:' "$work/serve.$i" ||
		fail "server $i complained: $(cat "$work/serve.$i")"
done
log "PASS"
