#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kpaxos-timeout: 900
#
# Durable acceptor state (kmod/storage.c, docs/durability.md), one guest,
# three nodes in namespaces, each with a state file:
#   1. under load, node 2 goes down and comes back up on its state file:
#      it restores its promise and accepted values, catches up, and every
#      command is delivered exactly once, in the same order everywhere;
#   2. a torn tail (garbage appended after the last record) is cut off;
#      the log is compacted when it grows (state_compact_bytes is small
#      here), and a compaction interrupted after PATH was truncated is
#      completed from PATH.new at the next start;
#   3. a file of another node is refused;
#   4. node 3 loses its state file and comes back with --rejoin: it votes
#      for nothing until the rejoin rule holds, then rejoins (promise and
#      trim on disk) and the logs still agree.
# (tests/vm/m-crash-restart.sh kills a whole VM with SIGKILL instead.)
. "$KPAXOS_SRC/tests/vm/lib.sh"
. "$KPAXOS_SRC/tests/vm/t-pxlib.bash"

N=3
GENL=$KPAXOS_SRC/tests/vm/pxgenl.py
need_paxosctl
STATE=$KPAXOS_OUT/state
rm -rf "$STATE"
mkdir -p "$STATE"

genl()
{
	local i=$1

	shift
	in_node "$i" python3 "$GENL" "$@"
}

up_durable()
{
	local i=$1

	shift
	# shellcheck disable=SC2046
	in_node "$i" "$PAXOSCTL" up eth0 --id "$i" --cluster "$PX_CLUSTER_ID" \
		$(px_peers $N) --state "$STATE/n$i" "$@" ||
		fail "node $i: durable up failed"
}

# N commands per node from nodes NODES..., clients (i << 8) + BASE, BASE+1
load()
{
	local per=$1 base=$2 i pids=()

	shift 2
	for i in "$@"; do
		px "$i" propose --client $(((i << 8) + base)) --clients 2 \
			--count "$per" --size 200 --retry-ms 2000 \
			--timeout 200 > "$KPAXOS_OUT/prop.$base.$i" &
		pids+=($!)
	done
	LOAD_PIDS=("${pids[@]}")
}

load_wait()
{
	local p

	for p in "${LOAD_PIDS[@]}"; do
		wait "$p" || fail "a proposer failed (see $KPAXOS_OUT/prop.*)"
	done
}

flags()
{
	genl "$1" flags
}

px_setup state_compact_bytes=32768
cluster_up $N
px_dmesg_mark
for i in $(seq 1 $N); do
	up_durable "$i"
done
PX_NODES_UP=$N
on_exit _px_debug_dump
for i in $(seq 1 $N); do
	assert_eq durable "$(flags "$i")" "node $i state flags"
	assert_eq "$STATE/n$i" "$(genl "$i" path)" "node $i state path"
	in_node "$i" "$PAXOSCTL" status | grep -qF "durable in $STATE/n$i" ||
		fail "paxosctl status of node $i: not durable in $STATE/n$i"
done
leader=$(px_wait_leader 60 1 2 3)
log "leader is node $leader"

# ---- 1. restart a node on its state file, under load
# (node 2 is not a client here: its proposals in flight when it goes
# down fail with ENOTCONN, and may or may not be decided)
load 30 0 1 3
sleep 2
promised=$(px_stat 2 promised)
assert_ne 0 "$promised" "node 2 promised before the restart"
size=$(stat -c %s "$STATE/n2")
[ "$size" -gt 32 ] || fail "node 2's state file holds no record ($size bytes)"
px_down 2
log "node 2 down (promised $promised, state file $size bytes)"
sleep 1
up_durable 2
px_dmesg_since | grep -q "node 2: acceptor state restored from $STATE/n2" ||
	fail "node 2 did not report restoring its state"
_promised_ge()
{
	local got

	got=$(px_stat "$1" promised) && [ "$got" -ge "$2" ]
}
wait_for 10 _promised_ge 2 "$promised"
load_wait
log "load of phase 1 done"
load 20 2 1 3
load_wait
px_wait_same 60 1 2 3 >/dev/null
total=$(px_compare_logs "$KPAXOS_OUT" 1 2 3)
assert_eq $((2 * 60 + 2 * 40)) "$total" "records in every log"
for i in 1 3; do
	for k in 0 1; do
		px_check_once "$KPAXOS_OUT/log.1" \
			"$(printf %x $(((i << 8) + k)))" 1 30
	done
done
for i in 1 3; do
	for k in 2 3; do
		px_check_once "$KPAXOS_OUT/log.1" \
			"$(printf %x $(((i << 8) + k)))" 1 20
	done
done
log "phase 1: restart on the state file: $total records, logs agree"

# ---- 2. torn tail
px_down 2
printf 'torn-record-garbage-\x07\x00\x00' >> "$STATE/n2"
px_dmesg_mark
up_durable 2
px_dmesg_since | grep -q "ignoring 23 bytes of torn tail" ||
	fail "torn tail not reported"
# (node 2 may already have appended new records behind the cut)
if grep -q torn-record-garbage "$STATE/n2"; then
	fail "torn tail not truncated"
fi
log "phase 2: torn tail of 23 bytes cut off"
px_dmesg_since | grep -q "n2: compacted" || dmesg | grep -q "compacted" ||
	fail "no compaction although the logs passed 32 KiB"
log "phase 2: $(dmesg | grep -c compacted) compactions, e.g. $(dmesg | grep compacted | tail -1)"

# A crash in step 2 of a compaction: PATH.new complete, PATH truncated.
promised=$(px_stat 2 promised)
px_down 2
python3 - "$STATE/n2" <<'EOF'
import struct, sys, zlib
path = sys.argv[1]
data = open(path, "rb").read()
body = bytes([0xEE, 0, 0, 0]) + struct.pack("<IQQ", 0, 0, 0)
ln = struct.pack("<I", len(body))
end = ln + struct.pack("<I", zlib.crc32(ln + body)) + body
open(path + ".new", "wb").write(data + end)
open(path, "r+b").truncate(32)
EOF
px_dmesg_mark
up_durable 2
px_dmesg_since | grep -q "n2: completing an interrupted compaction" ||
	fail "interrupted compaction not completed"
wait_for 10 _promised_ge 2 "$promised"
[ "$(stat -c %s "$STATE/n2.new")" = 0 ] || fail "n2.new not emptied"
log "phase 2: interrupted compaction completed from n2.new"

# ---- 3. another node's file is refused (the instance does not come up)
px_down 3
cp "$STATE/n1" "$STATE/other"
# shellcheck disable=SC2046
if genl 3 up eth0 --id 3 --cluster "$PX_CLUSTER_ID" $(px_peers $N) \
	--state "$STATE/other" 2> "$KPAXOS_OUT/other.err"; then
	fail "node 3 came up on node 1's state file"
fi
grep -q "another node" "$KPAXOS_OUT/other.err" ||
	fail "unexpected error: $(cat "$KPAXOS_OUT/other.err")"
log "phase 3: $(cat "$KPAXOS_OUT/other.err")"

# ---- 4. node 3 lost its state: rejoin
rm -f "$STATE/n3"
px_dmesg_mark
up_durable 3 --rejoin
assert_eq durable,rejoining "$(flags 3)" "node 3 flags after a lost state"
assert_match "REJOINING" "$(in_node 3 "$PAXOSCTL" status)" \
	"paxosctl status while rejoining"
assert_eq 0 "$(px_stat 3 promised)" "node 3 promised while rejoining"
# nothing but the header until it rejoins
assert_eq 32 "$(stat -c %s "$STATE/n3")" "node 3 state file while rejoining"
load 20 4 1 2
_rejoined()
{
	[ "$(flags 3)" = durable ]
}
wait_for 120 _rejoined
load_wait
px_dmesg_since | grep -q "node 3: rejoined: promised" ||
	fail "node 3 did not log its rejoin"
[ "$(px_stat 3 promised)" -gt 0 ] || fail "node 3 promised nothing"
[ "$(stat -c %s "$STATE/n3")" -gt 32 ] || fail "node 3 rejoined in memory"
log "phase 4: node 3 rejoined: $(px_dmesg_since | grep rejoined)"
# and it votes: with node 1 down, nodes 2 and 3 are a quorum
px_down 1
load 10 6 2 3
load_wait
px_wait_same 60 2 3 >/dev/null
total=$(px_compare_logs "$KPAXOS_OUT" 2 3)
assert_eq $((2 * 60 + 2 * 40 + 2 * 40 + 2 * 20)) "$total" \
	"records in the logs of nodes 2 and 3"
for i in 2 3; do
	for k in 6 7; do
		px_check_once "$KPAXOS_OUT/log.2" \
			"$(printf %x $(((i << 8) + k)))" 1 10
	done
done
log "phase 4: nodes 2 and 3 (rejoined) decide alone: $total records agree"
# group commit: how many records each fsync covered (logged at close)
px_down 2
log "$(dmesg | grep 'closed:' | tail -3 | sed 's/.*paxos: //' | paste -sd ';')"
log "PASS"
