# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers of the module's VM tests (tests/vm/t-*.sh), on top of lib.sh.
# Sourced after lib.sh; not a test itself (no .sh suffix).
#
#   px_setup                load the module, find or build pxtest ($PXTEST)
#   px_up I [N] [ARGS]      PAXOS_IOC_UP on node I of a cluster of N
#   px_up_all N [ARGS]      the same on nodes 1..N
#   px_down I               PAXOS_IOC_DOWN on node I
#   px_stat I FIELD         one field of node I's status
#   px_leader I             the leader node I believes in (0: none)
#   px_wait_leader SECS NODES...  until NODES agree on one live leader;
#                           prints it
#   px_wait_delivered SECS IDX NODES...  until NODES delivered >= IDX
#   px_wait_same SECS NODES...  until NODES report the same delivered index
#                           and it stays put for a moment; prints it
#   px_dump I FILE          node I's whole retained log (from instance 1)
#   px_compare_logs DIR NODES...  dump every node, assert identical logs;
#                           prints the number of records
#   px_live_start DIR NODES...  follow the logs as they grow (DIR/live.I)
#   px_live_stop DIR NODES...   stop, assert identical; count in PX_LIVE_COUNT
#   px_check_once FILE CLIENT FIRST LAST  every seq FIRST..LAST of CLIENT
#                           appears exactly once in FILE
#   px_check_clients FILE CLIENTS  px_check_once for every "client ID .. LAST"
#                           line of CLIENTS (pxtest's report); the sum of
#                           their LASTs in PX_CLIENTS_TOTAL
#   px_dmesg_mark           remember the dmesg position; px_dmesg_since
#                           prints what came after; px_dmesg_since_has RE

PX_CLUSTER_ID=${PX_CLUSTER_ID:-7}
PX_NODES_UP=0

px_setup()
{
	need_module
	load_module "$@"
	on_exit 'rmmod paxos 2>/dev/null'
	PXTEST=$KPAXOS_SRC/tools/pxtest/pxtest
	if [ ! -x "$PXTEST" ]; then
		make -s -C "$KPAXOS_SRC/tools/pxtest" O="$KPAXOS_OUT" >&2 ||
			fail "cannot build pxtest"
		PXTEST=$KPAXOS_OUT/pxtest
	fi
	export PXTEST
	[ -c /dev/paxos ] || fail "/dev/paxos missing after insmod"
}

# pxtest in node I's namespace.  pxtest enters it itself (setns): cheaper
# than `ip netns exec`, and every process start counts under TCG.
px()
{
	local i=$1

	shift
	"$PXTEST" --netns "px$i" "$@"
}

# FIELD of every node of NODES..., one value per node, in order ("-": down).
px_stat_all()
{
	local field=$1 list=

	shift
	list=$(printf 'px%s,' "$@")
	"$PXTEST" --netns "${list%,}," status --get "$field" | awk '{ print $2 }'
}

px_peers()
{
	local n=$1 i

	for i in $(seq 1 "$n"); do
		printf -- '--peer %s=%s ' "$i" "$(node_mac "$i")"
	done
}

# Election timeout of the tests' instances: TCG guests on a busy host stall
# for 100 ms and more now and then, which the default 150 ms turns into
# spurious elections; PX_ELECTION_US= (empty) keeps the module's default.
PX_ELECTION_US=${PX_ELECTION_US-600000}
# Heartbeats (and learners' STATUS) every 50 ms rather than 20: less
# background work for the slow guest, still 12 per election timeout.
PX_HEARTBEAT_US=${PX_HEARTBEAT_US-50000}

px_up()
{
	local i=$1 n=${2:-$PX_NODES}

	shift 2 || shift $#
	if [ -n "$PX_ELECTION_US" ]; then
		px "$i" param set election_us "$PX_ELECTION_US" ||
			fail "node $i: cannot set election_us"
	fi
	if [ -n "$PX_HEARTBEAT_US" ]; then
		px "$i" param set heartbeat_us "$PX_HEARTBEAT_US" ||
			fail "node $i: cannot set heartbeat_us"
	fi
	# shellcheck disable=SC2046
	px "$i" up --id "$i" --if eth0 --cluster "$PX_CLUSTER_ID" \
		$(px_peers "$n") "$@" >/dev/null || fail "node $i: up failed"
}

px_up_all()
{
	local n=$1 i

	shift
	for i in $(seq 1 "$n"); do
		px_up "$i" "$n" "$@"
	done
	[ "$PX_NODES_UP" != 0 ] || on_exit _px_debug_dump
	PX_NODES_UP=$n
}

# At exit after a failure: every instance's debugfs status, for the log.
_px_debug_dump()
{
	local f

	# rc is the exit status, a local of lib.sh's exit handler
	[ "${rc:-0}" != 0 ] || return 0
	mountpoint -q /sys/kernel/debug ||
		mount -t debugfs none /sys/kernel/debug 2>/dev/null
	for f in /sys/kernel/debug/paxos/*/status; do
		[ -r "$f" ] || continue
		echo "--- $f"
		paste -sd ' ' "$f"
	done >&2
	dmesg | grep paxos | tail -20 >&2
}

px_down()
{
	px "$1" down >/dev/null || fail "node $1: down failed"
}

px_stat()
{
	px "$1" status --get "$2"
}

px_leader()
{
	px_stat "$1" leader_id 2>/dev/null || echo 0
}

_px_agree_leader()
{
	local vals

	vals=$(px_stat_all leader_id "$@" | sort -u)
	[ "$(echo "$vals" | wc -l)" = 1 ] && [ "$vals" != 0 ] &&
		[ "$vals" != - ] || return 1
	# the leader itself must be among the nodes asked, and think so
	[[ " $* " == *" $vals "* ]] || return 1
	[ "$(px_stat "$vals" is_leader 2>/dev/null)" = 1 ] || return 1
	_PX_LEADER=$vals
}

px_wait_leader()
{
	local secs=$1

	shift
	wait_for "$secs" _px_agree_leader "$@"
	echo "$_PX_LEADER"
}

_px_delivered_ge()
{
	local idx=$1 d

	shift
	for d in $(px_stat_all delivered_index "$@"); do
		[ "$d" != - ] && [ "$d" -ge "$idx" ] || return 1
	done
}

px_wait_delivered()
{
	local secs=$1 idx=$2

	shift 2
	wait_for "$secs" _px_delivered_ge "$idx" "$@"
}

_px_same()
{
	local vals

	vals=$(px_stat_all delivered_index "$@" | sort -u)
	[ "$(echo "$vals" | wc -l)" = 1 ] && [ "$vals" != - ] || return 1
	if [ "$vals" = "${_PX_SAME_LAST:-x}" ]; then
		_PX_SAME=$vals
		return 0
	fi
	_PX_SAME_LAST=$vals
	return 1
}

px_wait_same()
{
	local secs=$1

	shift
	_PX_SAME_LAST=x
	wait_for "$secs" _px_same "$@"
	echo "$_PX_SAME"
}

px_dump()
{
	px "$1" dump --from 1 --now > "$2" || fail "node $1: dump failed"
}

px_compare_logs()
{
	local dir=$1 i first= n

	shift
	for i in "$@"; do
		px_dump "$i" "$dir/log.$i"
		[ -z "$first" ] && first=$i
		if ! cmp -s "$dir/log.$first" "$dir/log.$i"; then
			diff "$dir/log.$first" "$dir/log.$i" | head -20 >&2
			fail "logs of node $first and node $i differ"
		fi
	done
	n=$(wc -l < "$dir/log.$first")
	echo "$n"
}

# Readers that follow node I's log from instance 1 as it grows (to keep
# a whole log that outgrows what nodes retain), into DIR/live.I.
declare -A _PX_LIVE=()

px_live_start()
{
	local dir=$1 i

	shift
	for i in "$@"; do
		"$PXTEST" --netns "px$i" dump --from 1 > "$dir/live.$i" &
		_PX_LIVE[$i]=$!
	done
	on_exit "kill ${_PX_LIVE[*]} 2>/dev/null"
}

# Stop them once they read everything delivered; assert equal logs; sets
# PX_LIVE_COUNT to the number of records.  (Not in $(...): wait needs the
# shell that started the readers.)
px_live_stop()
{
	local dir=$1 i first=

	shift
	for i in "$@"; do
		kill -USR2 "${_PX_LIVE[$i]}"
		wait "${_PX_LIVE[$i]}" || fail "node $i: live reader failed"
		[ -z "$first" ] && first=$i
		if ! cmp -s "$dir/live.$first" "$dir/live.$i"; then
			diff "$dir/live.$first" "$dir/live.$i" | head -20 >&2
			fail "logs of node $first and node $i differ"
		fi
	done
	PX_LIVE_COUNT=$(wc -l < "$dir/live.$first")
}

# Every seq FIRST..LAST of CLIENT (hex, as dump prints it) exactly once.
px_check_once()
{
	local file=$1 client=$2 first=$3 last=$4 bad

	bad=$(awk -v c="$client" -v a="$first" -v b="$last" '
		$3 == c { n[$4]++ }
		END {
			for (s = a; s <= b; s++)
				if (n[s] != 1) { print s " seen " n[s] + 0; e++ }
			for (s in n)
				if (s + 0 < a || s + 0 > b) { print s " unexpected"; e++ }
			exit e > 0
		}' "$file") || fail "client $client in $file: $(echo "$bad" | head -5 | tr '\n' ' ')"
}

px_check_clients()
{
	local file=$1 client last

	PX_CLIENTS_TOTAL=0
	while read -r _ client _ last; do
		px_check_once "$file" "$client" 1 "$last"
		PX_CLIENTS_TOTAL=$((PX_CLIENTS_TOTAL + last))
	done < "$2"
}

px_dmesg_mark()
{
	_PX_DMESG_LINES=$(dmesg | wc -l)
}

px_dmesg_since()
{
	dmesg | tail -n +$((_PX_DMESG_LINES + 1))
}

px_dmesg_since_has()
{
	px_dmesg_since | grep -q "$1"
}

# The scenario of t-cluster3.sh and t-cluster5.sh: N nodes, COUNT commands
# of SIZE bytes proposed concurrently at every node (by 4 clients each);
# every node delivers all of them exactly once, in the same order.
px_basic_cluster()
{
	local n=$1 count=$2 size=$3 mtu=${4:-1500} i k f leader total nodes
	local pids=()

	px_setup
	cluster_up "$n"
	if [ "$mtu" != 1500 ]; then
		ip link set "$PX_BRIDGE" mtu "$mtu"
		for i in $(seq 1 "$n"); do
			ip link set "vpx$i" mtu "$mtu"
			in_node "$i" ip link set eth0 mtu "$mtu"
		done
	fi
	px_dmesg_mark
	px_up_all "$n"
	leader=$(px_wait_leader 60 $(seq 1 "$n"))
	log "leader is node $leader"

	# 4 clients per node, ids 0xI00..0xI03, one command in flight each
	for i in $(seq 1 "$n"); do
		px "$i" propose --client $((i << 8)) --clients 4 \
			--count $((count / 4)) --size "$size" --timeout 150 \
			> "$KPAXOS_OUT/prop.$i" &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || fail "proposer at node $((i + 1)) failed"
	done
	log "all $((n * count)) commands delivered at their proposers"

	px_wait_same 60 $(seq 1 "$n") >/dev/null
	total=$(px_compare_logs "$KPAXOS_OUT" $(seq 1 "$n"))
	assert_eq $((n * count)) "$total" "records in every log"
	for i in $(seq 1 "$n"); do
		for k in 0 1 2 3; do
			px_check_once "$KPAXOS_OUT/log.1" \
				"$(printf %x $(((i << 8) + k)))" 1 $((count / 4))
		done
	done
	nodes=$(seq 1 "$n")
	assert_eq "" "$(px_stat_all frames_rx $nodes | grep -x 0 || true)" \
		"nodes without frames received"
	assert_eq "$((n * count))" \
		"$(px_stat_all delivered_cmds $nodes | sort -u)" "delivered_cmds"
	for f in drop_bad_body drop_bad_frag drop_truncated drop_bad_node; do
		assert_eq 0 "$(px_stat_all $f $nodes | sort -u)" "$f"
	done
	if [ -r /sys/kernel/debug/paxos ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null; then
		assert_eq "$n" "$(ls /sys/kernel/debug/paxos | wc -l)" \
			"debugfs instance directories"
		grep -q "^delivered_cmds: $((n * count))$" \
			/sys/kernel/debug/paxos/*/status ||
			fail "debugfs status lacks delivered_cmds"
	fi

	for i in $(seq 1 "$n"); do
		px_down "$i"
	done
	assert_eq "$n" "$(px_dmesg_since | grep -c 'instance destroyed')" \
		"instances destroyed"
	assert_fails px 1 status
	cluster_down
	rmmod paxos || fail "rmmod"
	[ ! -e /dev/paxos ] || fail "/dev/paxos still there after rmmod"
}
