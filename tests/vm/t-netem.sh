#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Three nodes whose links lose, duplicate, delay and reorder frames
# (tc netem on every eth0, egress).  Commands proposed at every node, small
# ones and fragmented ones (3000 bytes at MTU 1500), are all delivered
# exactly once, in the same order everywhere.
. "$KPAXOS_SRC/tests/vm/lib.sh"
. "$KPAXOS_SRC/tests/vm/t-pxlib.bash"

N=3
px_setup
cluster_up $N
px_up_all $N
leader=$(px_wait_leader 60 1 2 3)
log "leader is node $leader; links now lose 5%, duplicate 5%, reorder 25%"
netem_all delay 2ms 1ms loss 5% duplicate 5% reorder 25% 50%

run_round()
{
	local size=$1 per=$2 base=$3 i pids=()

	for i in $(seq 1 $N); do
		px "$i" propose --client $(((i << 8) + base)) --clients 2 \
			--count "$per" --size "$size" --retry-ms 3000 \
			--timeout 200 > "$KPAXOS_OUT/prop.$base.$i" &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" ||
			fail "proposer at node $((i + 1)) (size $size) failed"
	done
	log "size $size: $((N * 2 * per)) commands delivered at their proposers"
}

run_round 100 40 0
run_round 3000 20 2

netem_clear
px_wait_same 60 1 2 3 >/dev/null
total=$(px_compare_logs "$KPAXOS_OUT" 1 2 3)
assert_eq $((N * 2 * (40 + 20))) "$total" "records in every log"
for i in $(seq 1 $N); do
	for k in 0 1; do
		px_check_once "$KPAXOS_OUT/log.1" "$(printf %x $(((i << 8) + k)))" 1 40
		px_check_once "$KPAXOS_OUT/log.1" "$(printf %x $(((i << 8) + 2 + k)))" 1 20
	done
done
# the network really misbehaved: something was retransmitted or dropped
retr=$(awk '{ s += $6 } END { print s + 0 }' "$KPAXOS_OUT"/prop.*)
log "client retries: $retr; duplicates seen by learners: $(px_stat_all duplicates 1 2 3 | paste -sd ' ')"
log "PASS"
