#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Leader failure under load, ten times in a row, on three nodes:
#  rounds 1..9: the leader's cable is pulled (cut_node) while two clients
#    per node keep proposing; a new leader takes over and commands keep
#    being delivered; the cable is put back and the old leader rejoins and
#    catches up.  Then every command a client saw delivered was delivered
#    exactly once, the clients' sequences have no holes, and all logs are
#    identical.
#  round 10 (fresh instances): the leader's instance is removed
#    (PAXOS_IOC_DOWN); a new leader takes over; the node comes back as a
#    fresh instance (without the acceptor role: its acceptor state is gone,
#    so it must not vote) and catches up from instance 1; same checks.
. "$KPAXOS_SRC/tests/vm/lib.sh"
. "$KPAXOS_SRC/tests/vm/t-pxlib.bash"

N=3
ROUNDS=${PX_ROUNDS:-10}
px_setup
cluster_up $N
px_up_all $N
px_wait_leader 60 1 2 3 >/dev/null

px_live_start "$KPAXOS_OUT" $(seq 1 $N)
pids=()
for i in $(seq 1 $N); do
	"$PXTEST" --netns "px$i" propose --client $((i << 8)) --clients 2 \
		--duration 3600 --interval-ms 100 --size 200 --retry-ms 1500 \
		--timeout 120 \
		> "$KPAXOS_OUT/prop.$i" &
	pids+=($!)
done
on_exit "kill ${pids[*]} 2>/dev/null"

others()
{
	local i

	for i in $(seq 1 $N); do
		[ "$i" = "$1" ] || echo "$i"
	done
}

for r in $(seq 1 $((ROUNDS - 1))); do
	t0=$(date +%s.%N)
	old=$(px_wait_leader 60 $(seq 1 $N))
	rest=$(others "$old")
	log "round $r: leader $old found in $(echo "$(date +%s.%N) - $t0" | bc)"
	d0=$(px_stat_all delivered_index $rest | sort -n | tail -1)
	cut_node "$old"
	new=$(px_wait_leader 60 $rest)
	assert_ne "$old" "$new" "leader after cutting node $old"
	t1=$(date +%s.%N)
	px_wait_delivered 60 $((d0 + 10)) $rest
	t2=$(date +%s.%N)
	heal_node "$old"
	# the old leader steps down, the cluster agrees again, it catches up
	px_wait_leader 60 $(seq 1 $N) >/dev/null
	t3=$(date +%s.%N)
	d1=$(px_stat_all delivered_index $rest | sort -n | tail -1)
	px_wait_delivered 60 "$d1" "$old"
	t4=$(date +%s.%N)
	log "round $r timing: progress $(echo "$t2 - $t1" | bc) agree $(echo "$t3 - $t2" | bc) catch-up $(echo "$t4 - $t3" | bc)"
	log "round $r: node $old cut, node $new took over, node $old back at $d1"
done

kill -USR2 "${pids[@]}"
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || fail "clients of node $((i + 1)) failed"
done
pids=()
log "load stopped: $(cat "$KPAXOS_OUT"/prop.* | grep -c last) clients done"

cat "$KPAXOS_OUT"/prop.* | grep '^client ' > "$KPAXOS_OUT/clients"
px_wait_same 90 $(seq 1 $N) >/dev/null
px_live_stop "$KPAXOS_OUT" $(seq 1 $N)
total=$PX_LIVE_COUNT
px_check_clients "$KPAXOS_OUT/live.1" "$KPAXOS_OUT/clients"
assert_eq "$PX_CLIENTS_TOTAL" "$total" "records in every log"
log "rounds 1..$((ROUNDS - 1)): $total commands, exactly once, identical logs"

# Round 10, on fresh instances (a fresh node can only catch up on what the
# others retain): the leader's instance is removed, then comes back empty.
for i in $(seq 1 $N); do
	px_down "$i"
done
px_up_all $N
old=$(px_wait_leader 60 $(seq 1 $N))
rest=$(others "$old")
px "$old" propose --client 0x800 --clients 2 --count 20 --size 300 \
	>/dev/null || fail "proposing before removing node $old"
px_down "$old"
new=$(px_wait_leader 60 $rest)
assert_ne "$old" "$new" "leader after removing node $old"
first=$(echo "$rest" | head -1)
px "$first" propose --client 0x900 --clients 2 --count 20 --size 300 \
	>/dev/null || fail "proposing without node $old"
px_up "$old" $N --roles prop,learn
d=$(px_wait_same 90 $(seq 1 $N))
log "round $ROUNDS: node $old removed, node $new took over; node $old rejoined and caught up to $d"
total=$(px_compare_logs "$KPAXOS_OUT" $(seq 1 $N))
for c in 800 801 900 901; do
	px_check_once "$KPAXOS_OUT/log.1" $c 1 20
done
assert_eq 80 "$total" "records in every log after the rejoin"
log "PASS"
