# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The demo proper, sourced by scripts/demo.sh (`make demo`) inside the guest
# once nodes px1..px3 exist (tests/vm/lib.sh) and paxos.ko is loaded:
#
#   1. configure the three nodes with paxosctl (generic netlink);
#   2. start a kvstore replica (examples/kvstore on libkpaxos) on each;
#   3. propose from every node at once: puts, and increments of one counter;
#   4. show that every node applied the same commands in the same order,
#      that a get anywhere sees the latest write, and each node's status.
#
# It can also be run on its own in a guest: tests/vm/run.sh with a script
# that sources tests/vm/lib.sh, calls cluster_up 3 and load_module, then
# sources this file.

DEMO_CTL=$KPAXOS_SRC/tools/paxosctl/paxosctl
DEMO_KV=$KPAXOS_SRC/examples/kvstore/kvstore
[ -x "$DEMO_CTL" ] || make -s -C "$KPAXOS_SRC/tools/paxosctl" >&2
[ -x "$DEMO_KV" ] || make -s -C "$KPAXOS_SRC/examples/kvstore" >&2
demo_dir=$(mktemp -d)

# Print a command as typed at node I's shell, then run it there.
demo_run()
{
	local i=$1

	shift
	echo "px$i\$ ${*##*/}"
	in_node "$i" "$@"
}

demo_leader()
{
	in_node "$1" "$DEMO_CTL" status --json 2>/dev/null |
		sed -n 's/^  "leader_id": \([0-9]*\),$/\1/p'
}

demo_agree()
{
	local l1 l2 l3

	l1=$(demo_leader 1)
	l2=$(demo_leader 2)
	l3=$(demo_leader 3)
	[ -n "$l1" ] && [ "$l1" != 0 ] && [ "$l1" = "$l2" ] && [ "$l2" = "$l3" ]
}

echo
echo "--- 1. configure the nodes (paxosctl, generic netlink family \"paxos\")"
echo "(the guest is emulated, often on a busy host: relaxed election timers)"
demo_peers="--peer 1=$(node_mac 1) --peer 2=$(node_mac 2) --peer 3=$(node_mac 3)"
for i in 1 2 3; do
	demo_run "$i" "$DEMO_CTL" set election_us=600000 heartbeat_us=60000
done
for i in 1 2 3; do
	# shellcheck disable=SC2086
	demo_run "$i" "$DEMO_CTL" up eth0 --id "$i" --cluster 42 $demo_peers
done
in_node 1 "$DEMO_CTL" monitor --timeout 600 > "$demo_dir/events" 2>/dev/null &
demo_mon=$!
wait_for 60 demo_agree
echo "all three nodes agree: node $(demo_leader 1) leads"

echo
echo "--- 2. a kvstore replica on every node"
for i in 1 2 3; do
	echo "px$i\$ kvstore serve --log /tmp/apply.$i &"
	in_node "$i" "$DEMO_KV" serve --quiet --log "$demo_dir/apply.$i" &
	on_exit "kill $! 2>/dev/null"
done
for i in 1 2 3; do
	in_node "$i" "$DEMO_KV" --wait 10000 ping > /dev/null
done

echo
echo "--- 3. propose from every node at the same time"
demo_pids=()
for i in 1 2 3; do
	(
		for k in 1 2 3 4; do
			in_node "$i" "$DEMO_KV" put "city$i.$k" "from-node-$i"
			in_node "$i" "$DEMO_KV" incr visits > /dev/null
		done
	) &
	demo_pids+=($!)
done
wait "${demo_pids[@]}"
demo_run 2 "$DEMO_KV" put color blue
demo_run 3 "$DEMO_KV" get color
demo_run 1 "$DEMO_KV" cas color blue green
demo_run 3 "$DEMO_KV" get color
demo_run 1 "$DEMO_KV" get visits

echo
echo "--- 4. every node applied the same commands in the same order"
for i in 1 2 3; do
	in_node "$i" "$DEMO_KV" dump > "$demo_dir/dump.$i"	# syncs first
done
echo "(instance position client-id seq op key status)"
printf '%-44s %-44s %s\n' "px1" "px2" "px3"
paste -d'|' "$demo_dir/apply.1" "$demo_dir/apply.2" "$demo_dir/apply.3" |
	awk -F'|' '{ printf "%-44s %-44s %s\n", $1, $2, $3 }'
for i in 1 2 3; do
	echo "px$i: $(wc -l < "$demo_dir/apply.$i") commands, log md5" \
	     "$(md5sum < "$demo_dir/apply.$i" | cut -c1-12)," \
	     "data md5 $(md5sum < "$demo_dir/dump.$i" | cut -c1-12)"
done
if cmp -s "$demo_dir/apply.1" "$demo_dir/apply.2" &&
   cmp -s "$demo_dir/apply.1" "$demo_dir/apply.3" &&
   cmp -s "$demo_dir/dump.1" "$demo_dir/dump.2" &&
   cmp -s "$demo_dir/dump.1" "$demo_dir/dump.3"; then
	echo "=> identical order and identical data on all three nodes"
else
	echo "=> THE NODES DIFFER"
fi

echo
echo "--- 5. each node's status"
for i in 1 2 3; do
	demo_run "$i" "$DEMO_CTL" status
	echo
done
kill "$demo_mon" 2>/dev/null || true
wait "$demo_mon" 2>/dev/null || true
echo "events seen by \`paxosctl monitor\` on px1:" \
     "$(wc -l < "$demo_dir/events") (the last ones:)"
tail -n 8 "$demo_dir/events" | sed 's/^/  /'
