# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for guest-side VM test scripts (tests/vm/t-*.sh), which run as root
# inside the QEMU guest started by tests/vm/run.sh.  Source it:
#
#	. "$KPAXOS_SRC/tests/vm/lib.sh"
#
# It sets `set -euo pipefail`, registers cleanup at exit, and provides:
#
#   cluster_up N           N nodes, one network namespace each (see below)
#   cluster_down           remove them (also done at exit)
#   in_node I CMD...       run CMD in node I's namespace
#   node_mac I             02:00:00:00:00:0I (hex for I >= 10)
#   node_ip I              10.99.0.I (configured on eth0, for debugging)
#   netem_all ARGS...      `tc qdisc replace ... root netem ARGS` on every eth0
#   netem_node I ARGS...   the same on node I only;  netem_clear: remove all
#   cut_node I / heal_node I   unplug / replug node I's cable (bridge side)
#   load_module [PARAMS]   insmod $KPAXOS_KO (once);  unload_module
#   need_module            skip the test (exit 77) if $KPAXOS_KO is missing
#   need_paxosctl          set $PAXOSCTL, building tools/paxosctl if needed
#   need_kvstore           set $KVSTORE, building examples/kvstore if needed
#   kv I ARGS...           the kvstore client of node I's local replica
#   leader_of I            the leader node I reports (0: none; paxosctl)
#   agree_leader           nodes 1..$N report the same leader
#   fail MSG               print "FAIL: MSG" and exit 1
#   skip MSG               print "SKIP: MSG" and exit 77
#   log MSG                print a timestamped line
#   assert_eq WANT GOT [WHAT]     assert_ne A B [WHAT]
#   assert_match REGEX TEXT [WHAT]
#   assert_ok CMD...       CMD must succeed;  assert_fails CMD...: must fail
#   wait_for SECS CMD...   poll CMD every 0.2 s until it succeeds, else fail
#   on_exit CMD...         run CMD at exit (last registered runs first)
#
# In guests started by tests/vm/multi.sh (one node per VM; KPAXOS_NODE,
# KPAXOS_NODES, KPAXOS_SHARED set; eth0 is the VM's NIC):
#   vm_kill J              ask the host to kill guest J now; waits until dead
#   vm_restart J           ask the host to kill guest J and boot it again
#   vm_block I J           drop frames from guest I to guest J (hub filter)
#   vm_unblock [I J]       undo one block, or all of them
#   vm_loss PCT            drop PCT % of all frames in the hub (0 to stop)
#   vm_barrier NAME [N] [SECS]   wait until N guests (default all) reached it
#
# Topology of `cluster_up 3` (all inside the one guest):
#
#        px1 netns             px2 netns             px3 netns
#     +-------------+       +-------------+       +-------------+
#     | lo          |       | lo          |       | lo          |
#     | eth0        |       | eth0        |       | eth0        |
#     | 02:..:00:01 |       | 02:..:00:02 |       | 02:..:00:03 |
#     | 10.99.0.1   |       | 10.99.0.2   |       | 10.99.0.3   |
#     +------|------+       +------|------+       +------|------+
#            | veth                | veth                | veth
#          vpx1                  vpx2                  vpx3
#     +------|---------------------|---------------------|------+
#     |                  br-px  (root namespace)                |
#     +---------------------------------------------------------+
#
# Node I's eth0 is a veth whose peer vpxI is a port of bridge br-px;
# cut_node I sets vpxI down (node I sees its carrier drop), heal_node I
# brings it back.  netem qdiscs sit on each node's eth0 (egress).

set -euo pipefail

PX_NODES=0
PX_BRIDGE=br-px
_PX_EXIT=()
_PX_MOD_LOADED=0

log()
{
	printf '[%s] %s\n' "$(date +%H:%M:%S.%N | cut -c1-12)" "$*"
}

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

skip()
{
	echo "SKIP: $*" >&2
	exit 77
}

assert_eq()
{
	[ "$1" == "$2" ] ||
		fail "${3:-value}: expected '$1', got '$2'"
}

assert_ne()
{
	[ "$1" != "$2" ] ||
		fail "${3:-value}: expected something other than '$1'"
}

assert_match()
{
	[[ $2 =~ $1 ]] ||
		fail "${3:-value}: '$2' does not match /$1/"
}

assert_ok()
{
	"$@" || fail "command failed (status $?): $*"
}

assert_fails()
{
	if "$@"; then
		fail "command succeeded but should have failed: $*"
	fi
	return 0
}

wait_for()
{
	local secs=$1 end

	shift
	end=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
	until "$@"; do
		[ $(( $(date +%s%N) / 1000000 )) -lt "$end" ] ||
			fail "timed out after ${secs}s waiting for: $*"
		sleep 0.2
	done
}

on_exit()
{
	_PX_EXIT=("$*" "${_PX_EXIT[@]}")
}

_px_run_exit()
{
	local rc=$? c

	set +e
	for c in "${_PX_EXIT[@]}"; do
		eval "$c"
	done
	return $rc
}
trap _px_run_exit EXIT

node_mac()
{
	printf '02:00:00:00:00:%02x\n' "$1"
}

node_ip()
{
	echo "10.99.0.$1"
}

in_node()
{
	local i=$1

	shift
	ip netns exec "px$i" "$@"
}

cluster_up()
{
	local n=$1 i

	[ "$n" -ge 1 ] && [ "$n" -le 32 ] || fail "cluster_up: 1..32 nodes"
	[ "$PX_NODES" = 0 ] || fail "cluster_up: a cluster is already up"
	modprobe veth
	modprobe bridge
	ip link set lo up
	ip link add name "$PX_BRIDGE" type bridge
	# Frames must cross the bridge at once: no STP, no learning delay.
	ip link set "$PX_BRIDGE" type bridge stp_state 0 forward_delay 0
	ip link set "$PX_BRIDGE" up
	PX_NODES=$n
	on_exit cluster_down
	for i in $(seq 1 "$n"); do
		ip netns add "px$i"
		ip link add name "vpx$i" type veth peer name "pxeth$i"
		ip link set "pxeth$i" netns "px$i"
		ip -n "px$i" link set "pxeth$i" name eth0
		ip -n "px$i" link set eth0 address "$(node_mac "$i")"
		ip -n "px$i" addr add "$(node_ip "$i")/24" dev eth0
		ip -n "px$i" link set lo up
		ip -n "px$i" link set eth0 up
		ip link set "vpx$i" master "$PX_BRIDGE"
		ip link set "vpx$i" up
	done
	log "cluster of $n nodes up (px1..px$n on $PX_BRIDGE)"
}

cluster_down()
{
	local i

	for i in $(seq 1 "$PX_NODES"); do
		ip netns del "px$i" 2>/dev/null || true
		ip link del "vpx$i" 2>/dev/null || true
	done
	ip link del "$PX_BRIDGE" 2>/dev/null || true
	PX_NODES=0
}

_px_node_ok()
{
	[ "$1" -ge 1 ] 2>/dev/null && [ "$1" -le "$PX_NODES" ] ||
		fail "no node $1 (cluster has $PX_NODES)"
}

netem_node()
{
	local i=$1

	shift
	_px_node_ok "$i"
	modprobe sch_netem
	ip netns exec "px$i" tc qdisc replace dev eth0 root netem "$@"
}

netem_all()
{
	local i

	for i in $(seq 1 "$PX_NODES"); do
		netem_node "$i" "$@"
	done
}

netem_clear()
{
	local i

	for i in $(seq 1 "$PX_NODES"); do
		ip netns exec "px$i" tc qdisc del dev eth0 root 2>/dev/null ||
			true
	done
}

cut_node()
{
	_px_node_ok "$1"
	ip link set "vpx$1" down
}

heal_node()
{
	_px_node_ok "$1"
	ip link set "vpx$1" up
}

need_module()
{
	[ -n "${KPAXOS_KO:-}" ] && [ -f "$KPAXOS_KO" ] ||
		skip "module not built: ${KPAXOS_KO:-KPAXOS_KO unset}"
}

need_paxosctl()
{
	PAXOSCTL=$KPAXOS_SRC/tools/paxosctl/paxosctl
	[ -x "$PAXOSCTL" ] || make -s -C "$KPAXOS_SRC/tools/paxosctl" >&2 ||
		fail "cannot build paxosctl"
}

need_kvstore()
{
	KVSTORE=$KPAXOS_SRC/examples/kvstore/kvstore
	[ -x "$KVSTORE" ] || make -s -C "$KPAXOS_SRC/examples/kvstore" >&2 ||
		fail "cannot build kvstore"
}

kv()
{
	local i=$1

	shift
	in_node "$i" "$KVSTORE" --server "$@"
}

leader_of()
{
	in_node "$1" "$PAXOSCTL" status --json 2>/dev/null |
		sed -n 's/^  "leader_id": \([0-9]*\),$/\1/p' | grep . || echo 0
}

agree_leader()
{
	local i first

	first=$(leader_of 1)
	[ "$first" != 0 ] || return 1
	for i in $(seq 2 "$N"); do
		[ "$(leader_of "$i")" = "$first" ] || return 1
	done
}

load_module()
{
	[ -n "${KPAXOS_KO:-}" ] && [ -f "$KPAXOS_KO" ] ||
		fail "module not built: ${KPAXOS_KO:-KPAXOS_KO unset}"
	if [ "$_PX_MOD_LOADED" = 0 ]; then
		insmod "$KPAXOS_KO" "$@" || fail "insmod $KPAXOS_KO failed"
		_PX_MOD_LOADED=1
	fi
}

unload_module()
{
	rmmod paxos || fail "rmmod paxos failed"
	_PX_MOD_LOADED=0
}

_px_need_multi()
{
	[ -n "${KPAXOS_SHARED:-}" ] ||
		fail "$1: only in guests started by tests/vm/multi.sh"
}

vm_kill()
{
	_px_need_multi vm_kill
	: > "$KPAXOS_SHARED/ctl/kill-$1"
	wait_for 60 test -e "$KPAXOS_SHARED/ctl/killed-$1"
	log "guest $1 killed"
}

vm_restart()
{
	_px_need_multi vm_restart
	: > "$KPAXOS_SHARED/ctl/restart-$1"
	wait_for 60 test ! -e "$KPAXOS_SHARED/ctl/restart-$1"
	log "guest $1 restarting"
}

vm_block()
{
	_px_need_multi vm_block
	echo "$1 $2" >> "$KPAXOS_SHARED/ctl/block"
	sleep 0.5	# the hub rereads its filters every 0.2 s
}

vm_unblock()
{
	local f=$KPAXOS_SHARED/ctl/block

	_px_need_multi vm_unblock
	if [ $# -eq 2 ]; then
		grep -vx "$1 $2" "$f" > "$f.new" || true
		mv "$f.new" "$f"
	else
		: > "$f"
	fi
	sleep 0.5
}

vm_loss()
{
	_px_need_multi vm_loss
	echo "$1" > "$KPAXOS_SHARED/ctl/loss"
	sleep 0.5
}

_px_barrier_count()
{
	local n

	n=$(find "$KPAXOS_SHARED" -maxdepth 1 -name "barrier-$1.*" | wc -l)
	[ "$n" -ge "$2" ]
}

vm_barrier()
{
	local name=$1 n=${2:-$KPAXOS_NODES} secs=${3:-120}

	_px_need_multi vm_barrier
	: > "$KPAXOS_SHARED/barrier-$name.$KPAXOS_NODE"
	wait_for "$secs" _px_barrier_count "$name" "$n"
}
