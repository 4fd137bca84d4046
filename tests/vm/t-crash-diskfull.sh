#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kpaxos-timeout: 600
#
# A state log that cannot be written (docs/durability.md, "Failure"): node
# 3 keeps its acceptor state on a tiny tmpfs that fills up under load.  Its
# write fails, it reports PAXOS_STATE_F_FAILED, its acceptor answers
# nothing from then on (its promise stops moving), and nodes 1 and 2 keep
# deciding: every command is delivered once, in the same order.
. "$KPAXOS_SRC/tests/vm/lib.sh"
. "$KPAXOS_SRC/tests/vm/t-pxlib.bash"

N=3
GENL=$KPAXOS_SRC/tests/vm/pxgenl.py
STATE=$KPAXOS_OUT/state
FULL=/run/pxfull

genl()
{
	local i=$1

	shift
	in_node "$i" python3 "$GENL" "$@"
}

px_setup state_compact_bytes=0
cluster_up $N
rm -rf "$STATE"
mkdir -p "$STATE" "$FULL"
mount -t tmpfs -o size=64k tmpfs "$FULL" || skip "cannot mount a tmpfs"
on_exit "umount $FULL"
px_dmesg_mark
for i in $(seq 1 $N); do
	dir=$STATE
	[ "$i" = 3 ] && dir=$FULL
	# shellcheck disable=SC2046
	genl "$i" up eth0 --id "$i" --cluster "$PX_CLUSTER_ID" \
		$(px_peers $N) --state "$dir/n$i" || fail "node $i: up failed"
done
PX_NODES_UP=$N
on_exit _px_debug_dump
leader=$(px_wait_leader 60 1 2 3)
log "leader is node $leader"

pids=()
for i in 1 2; do
	px "$i" propose --client $((i << 8)) --clients 2 --count 60 \
		--size 1000 --retry-ms 3000 --timeout 300 \
		> "$KPAXOS_OUT/prop.$i" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || fail "a proposer failed"
done
log "240 commands acknowledged"

assert_eq durable,failed "$(genl 3 flags)" "node 3 flags"
px_dmesg_since | grep -q "state file write failed" ||
	fail "no write failure reported"
log "node 3: $(px_dmesg_since | grep 'state file write failed' | head -1)"
promised=$(px_stat 3 promised)
# more load: node 3's acceptor stays mute, nodes 1 and 2 decide
px 1 propose --client 0x500 --count 20 --size 100 --timeout 200 \
	> /dev/null || fail "nodes 1 and 2 could not decide"
assert_eq "$promised" "$(px_stat 3 promised)" "node 3 promised after failing"
px_wait_same 60 1 2 >/dev/null
total=$(px_compare_logs "$KPAXOS_OUT" 1 2)
assert_eq 260 "$total" "records in the logs of nodes 1 and 2"
for i in 1 2; do
	for k in 0 1; do
		px_check_once "$KPAXOS_OUT/log.1" \
			"$(printf %x $(((i << 8) + k)))" 1 60
	done
done
log "PASS"
