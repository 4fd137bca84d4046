#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kpaxos-nodes: 3
# kpaxos-timeout: 900
#
# Crash-restart of a whole machine (tests/vm/multi.sh, one node per VM):
# three VMs, each node's acceptor state in a file of its KPAXOS_OUT (kept
# across restarts: the VM's "disk").  The victim is the leader (or node 2
# if node 1 leads: node 1 drives the test).  The two other nodes propose
# under load; in the middle, the victim's VM is killed with SIGKILL (power
# cut) and booted again.  It comes back on its state file (promise and
# accepted values restored), catches up, and its log holds every
# acknowledged command (all that the proposers saw delivered) exactly once,
# in the same order as the logs of the two others.
. "$KPAXOS_SRC/tests/vm/lib.sh"
. "$KPAXOS_SRC/tests/vm/t-pxlib.bash"

me=$KPAXOS_NODE
n=$KPAXOS_NODES
S=$KPAXOS_SHARED
GENL=$KPAXOS_SRC/tests/vm/pxgenl.py
STATE=$KPAXOS_OUT/paxos.state
PER=40		# commands per client; 2 clients at each of the two others

[ "$n" -ge 3 ] || skip "needs 3 VMs"
px_setup

px() { "$PXTEST" "$@"; }
stat_of() { px status --get "$1"; }

peers=
for i in $(seq 1 "$n"); do
	peers+="--peer $i=$(node_mac "$i") "
done
# shellcheck disable=SC2086
python3 "$GENL" up eth0 --id "$me" --cluster "$PX_CLUSTER_ID" $peers \
	--state "$STATE" || fail "durable up failed"
on_exit "$PXTEST down >/dev/null 2>&1"
assert_eq durable "$(python3 "$GENL" flags)" "state flags"

_have_leader() { [ "$(stat_of leader_id)" != 0 ]; }
_delivered_ge() { [ "$(stat_of delivered_index)" -ge "$1" ]; }
_stable()
{
	local d

	d=$(stat_of delivered_index)
	[ "$d" = "${_LAST:-x}" ] && return 0
	_LAST=$d
	return 1
}

if [ "$KPAXOS_BOOT" -gt 0 ]; then
	VICTIM=$me
	others=$(seq 1 3 | grep -vx "$me" | paste -sd ' ')
	# ---- after the power cut
	dmesg | grep -q "acceptor state restored from $STATE" ||
		fail "no state restored after the crash"
	log "$(dmesg | grep 'acceptor state restored' | tail -1)"
	[ "$(stat_of promised)" -gt 0 ] || fail "promised 0 after restore"
	wait_for 400 test -e "$S/final"
	final=$(cat "$S/final")
	wait_for 120 _delivered_ge "$final"
	px dump --from 1 --now > "$KPAXOS_OUT/log" || fail "dump"
	for i in $others; do
		cmp -s "$S/log.$i" "$KPAXOS_OUT/log" || {
			diff "$S/log.$i" "$KPAXOS_OUT/log" | head >&2
			fail "node $VICTIM's log differs from node $i's"
		}
	done
	for i in $others; do
		for k in 0 1; do
			px_check_once "$KPAXOS_OUT/log" \
				"$(printf %x $(((i << 8) + k)))" 1 "$PER"
		done
	done
	assert_eq $((4 * PER)) "$(wc -l < "$KPAXOS_OUT/log")" "records"
	log "node $VICTIM recovered: $((4 * PER)) commands, same log"
	vm_barrier checked 3 400
	log "PASS"
	exit 0
fi

vm_barrier up "$n"
wait_for 120 _have_leader
if [ "$me" = 1 ]; then
	leader=$(stat_of leader_id)
	VICTIM=$leader
	[ "$leader" != 1 ] || VICTIM=2
	echo "$VICTIM" > "$S/victim"
	log "leader is node $leader; the victim is node $VICTIM"
fi
vm_barrier load "$n"
VICTIM=$(cat "$S/victim")
others=$(seq 1 3 | grep -vx "$VICTIM" | paste -sd ' ')
other=$(echo "$others" | tr ' ' '\n' | grep -vx 1)

if [ "$me" = "$VICTIM" ]; then
	log "waiting for the power cut"
	sleep 600
	fail "not killed"
fi

px propose --client $((me << 8)) --clients 2 --count "$PER" --size 300 \
	--retry-ms 3000 --timeout 400 > "$KPAXOS_OUT/prop" &
load=$!
if [ "$me" = 1 ]; then
	wait_for 60 _delivered_ge 20
	log "power cut of node $VICTIM under load"
	vm_restart "$VICTIM"
fi
wait $load || fail "proposer failed: $(cat "$KPAXOS_OUT/prop")"
log "all $((2 * PER)) commands of node $me acknowledged"
: > "$S/loaded.$me"
wait_for 300 test -e "$S/loaded.1" -a -e "$S/loaded.$other"
_LAST=x
wait_for 60 _stable
assert_eq $((4 * PER)) "$(stat_of delivered_cmds)" "commands delivered"
px dump --from 1 --now > "$S/log.$me.tmp" || fail "dump"
mv "$S/log.$me.tmp" "$S/log.$me"
if [ "$me" = 1 ]; then
	wait_for 60 test -e "$S/log.$other"
	cmp -s "$S/log.1" "$S/log.$other" ||
		fail "logs of nodes 1 and $other differ"
	stat_of delivered_index > "$S/final.tmp"
	mv "$S/final.tmp" "$S/final"
fi
# stay up until the victim has caught up from us
vm_barrier checked 3 400
log "PASS"
