#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# test-pxd.sh: three pxd daemons on 127.0.0.1 (UDP), no VM needed.
#
#   px1 (udp :P+1) ─┐
#   px2 (udp :P+2) ─┼─ loopback; clients on $DIR/pxN.sock
#   px3 (udp :P+3) ─┘
#
# Commands are proposed at every node (so followers forward to the leader),
# with retries written twice, with commands that need fragmentation, and
# across the loss of the leader; every node's delivered log must be the
# same sequence of (instance, pos, client, seq, bytes), each command once.
# Ends with "N passed, N failed"; exits 1 on any failure.
set -u
cd "$(dirname "$0")"
B=$PWD
make -s -j2 pxd pxcheck >/dev/null || { echo "0 passed, 1 failed"; exit 1; }

DIR=$(mktemp -d /tmp/test-pxd.XXXXXX)
PORT=$((20000 + $$ % 20000))
PIDS=()
passed=0
failed=0
declare -A NODE_PID

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

start_node() {
	local i=$1 j peers=""
	for j in 1 2 3; do
		[ "$j" = "$i" ] || peers="$peers --peer $j=127.0.0.1:$((PORT + j))"
	done
	"$B/pxd" --id "$i" --udp "127.0.0.1:$((PORT + i))" $peers \
		--sock "$DIR/px$i.sock" "${@:2}" 2>"$DIR/pxd$i.err" &
	NODE_PID[$i]=$!
	PIDS+=($!)
}

status() {	# status NODE FIELD
	"$B/pxd" --status "$DIR/px$1.sock.ctl" 2>/dev/null |
		sed -n "s/^$2=//p"
}

leader() {	# the node that says it leads, if all live nodes agree
	local i l=""
	for i in "$@"; do
		if [ "$(status "$i" is_leader)" = 1 ]; then
			[ -z "$l" ] || return 1
			l=$i
		fi
	done
	[ -n "$l" ] || return 1
	for i in "$@"; do
		[ "$(status "$i" leader_id)" = "$l" ] || return 1
	done
	echo "$l"
}

wait_leader() {
	local t
	for t in $(seq 50); do
		leader "$@" && return 0
		sleep 0.1
	done
	return 1
}

# start_readers NAME COUNT NODES...: one log reader per node
start_readers() {
	local name=$1 count=$2 i t
	shift 2
	for i in "$@"; do
		"$B/pxcheck" log "$DIR/px$i.sock" --count "$count" \
			--timeout 30 >"$DIR/$name.$i" 2>"$DIR/$name.$i.err" &
		eval "RD_$name$i=$!"
	done
	for i in "$@"; do
		for t in $(seq 50); do
			grep -q reading "$DIR/$name.$i.err" && break
			sleep 0.05
		done
	done
	sleep 0.2
}

# wait_readers NAME NODES...: all finished, logs identical
logs_same() {
	local name=$1 i pid first=""
	shift
	for i in "$@"; do
		eval "pid=\$RD_$name$i"
		wait "$pid" || { echo "  reader at node $i failed:" \
			"$(cat "$DIR/$name.$i.err" | tail -1)"; return 1; }
	done
	for i in "$@"; do
		if [ -z "$first" ]; then
			first=$i
			continue
		fi
		cmp -s "$DIR/$name.$first" "$DIR/$name.$i" || {
			echo "  logs of node $first and node $i differ:"
			diff "$DIR/$name.$first" "$DIR/$name.$i" | head -5
			return 1
		}
	done
	# every (client, seq) exactly once
	if [ -n "$(awk '{ print $3, $4 }' "$DIR/$name.$first" | sort |
		   uniq -d)" ]; then
		echo "  a command was delivered twice"
		return 1
	fi
	return 0
}

run() {
	local name=$1
	shift
	if "$@"; then
		echo "ok   $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		failed=$((failed + 1))
	fi
}

# ------------------------------------------------------------------ tests

t_election() {
	wait_leader 1 2 3 >/dev/null
}

t_propose_everywhere() {
	local i pids=() ok=0
	start_readers all 600 1 2 3
	for i in 1 2 3; do
		"$B/pxcheck" propose "$DIR/px$i.sock" --client $((100 + i)) \
			--count 200 --size 16 --window 8 >"$DIR/p$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || ok=1
	done
	[ $ok = 0 ] || { cat "$DIR"/p?.out; return 1; }
	logs_same all 1 2 3 || return 1
	[ "$(wc -l <"$DIR/all.1")" = 600 ] || return 1
	# each node's own commands are all there
	for i in 1 2 3; do
		[ "$(awk -v c=$((100 + i)) '$3 == c' "$DIR/all.1" |
		     wc -l)" = 200 ] || return 1
	done
}

t_log_order_is_instance_order() {
	# instances never decrease and positions increase inside one
	awk 'NR > 1 && ($1 < pi || ($1 == pi && $2 <= pp)) { bad = 1 }
	     { pi = $1; pp = $2 } END { exit bad }' "$DIR/all.1"
}

t_retries_delivered_once() {
	start_readers dup 150 1 2 3
	"$B/pxcheck" propose "$DIR/px2.sock" --client 201 --count 150 \
		--size 32 --window 4 --dup >"$DIR/dup.out" 2>&1 ||
		{ cat "$DIR/dup.out"; return 1; }
	logs_same dup 1 2 3 || return 1
	# and the nodes counted the repeats
	[ "$(status 1 duplicates)" -ge 1 ]
}

t_fragmented_commands() {
	local ok=0 p1 p2
	start_readers big 40 1 2 3
	"$B/pxcheck" propose "$DIR/px1.sock" --client 301 --count 20 \
		--size 8192 --window 4 >"$DIR/big1.out" 2>&1 &
	p1=$!
	"$B/pxcheck" propose "$DIR/px3.sock" --client 302 --count 20 \
		--size 60000 --window 2 >"$DIR/big2.out" 2>&1 &
	p2=$!
	wait $p1 || ok=1
	wait $p2 || ok=1
	[ $ok = 0 ] || { cat "$DIR"/big?.out; return 1; }
	logs_same big 1 2 3 || return 1
	[ "$(awk '$5 == 60000' "$DIR/big.1" | wc -l)" = 20 ]
}

t_leader_failure() {
	local old new live="" i
	old=$(leader 1 2 3) || return 1
	for i in 1 2 3; do
		[ "$i" = "$old" ] || live="$live $i"
	done
	start_readers fail 200 $live
	kill "${NODE_PID[$old]}"
	wait "${NODE_PID[$old]}" 2>/dev/null
	for i in $live; do
		"$B/pxcheck" propose "$DIR/px$i.sock" --client $((400 + i)) \
			--count 100 --size 16 --window 4 --timeout 30 \
			>"$DIR/fail$i.out" 2>&1 || { cat "$DIR/fail$i.out";
						      return 1; }
	done
	logs_same fail $live || return 1
	new=$(wait_leader $live) || return 1
	[ "$new" != "$old" ]
}

t_survivors_agree() {
	local live=() i t
	for i in 1 2 3; do
		[ -n "$(status "$i" node_id)" ] && live+=("$i")
	done
	[ ${#live[@]} = 2 ] || return 1
	for t in $(seq 20); do
		[ "$(status "${live[0]}" delivered_index)" = \
		  "$(status "${live[1]}" delivered_index)" ] &&
		[ "$(status "${live[0]}" delivered_cmds)" = \
		  "$(status "${live[1]}" delivered_cmds)" ] && return 0
		sleep 0.1
	done
	return 1
}

for i in 1 2 3; do
	start_node $i
done
run "one leader elected, all nodes agree" t_election
run "600 commands proposed at all 3 nodes, identical logs" \
	t_propose_everywhere
run "log is in instance order" t_log_order_is_instance_order
run "every command written twice is delivered once" \
	t_retries_delivered_once
run "8 KiB and 60000-byte commands (fragmented), identical logs" \
	t_fragmented_commands
run "leader killed: survivors elect a new one, decide, agree" \
	t_leader_failure
run "survivors report the same delivered index and count" \
	t_survivors_agree

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
