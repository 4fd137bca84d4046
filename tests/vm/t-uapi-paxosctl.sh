#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# paxosctl and the generic netlink family on three nodes px1..px3 (lib.sh):
#
#   - `genl ctrl list` shows the family "paxos" and its group "events";
#   - status without an instance: exit 1 with advice, --json gives null;
#   - up on every node; `paxosctl monitor` sees node 1 come up and its
#     leader change;
#   - status (text and JSON) on every node: its own id, the members, the
#     peers' MACs, one leader agreed by all, the same delivered index after
#     some traffic; the ioctl fallback agrees with netlink;
#   - set while up: EBUSY and advice; down, set, up --set: parameters show;
#   - set-peers: same members accepted, a member left out refused
#     (EOPNOTSUPP) with the kernel's explanation; monitor sees down/up;
#   - usage errors exit 2, kernel refusals exit 1.
# kpaxos-timeout: 600
. "$KPAXOS_SRC/tests/vm/lib.sh"

need_paxosctl
need_kvstore
N=3
work=$(mktemp -d)

need_module
load_module
on_exit 'rmmod paxos 2>/dev/null'
cluster_up $N

ctl()
{
	local i=$1

	shift
	in_node "$i" "$PAXOSCTL" "$@"
}

# run CMD..., store stdout+stderr in $out and the exit status in $rc
run()
{
	set +e
	out=$("$@" 2>&1)
	rc=$?
	set -e
}

jfield()
{
	sed -n "s/^  \"$1\": \\(.*\\),\$/\\1/p"
}

# ---- the family is registered
genl ctrl list > "$work/genl" 2>&1 || fail "genl ctrl list failed"
grep -A 20 '^Name: paxos' "$work/genl" > "$work/genl.paxos" ||
	fail "genl ctrl list does not show the paxos family"
grep -q 'name: events' "$work/genl.paxos" ||
	fail "no events multicast group: $(cat "$work/genl.paxos")"
log "genl: $(head -2 "$work/genl.paxos" | tr -s '\t\n' '  ')"

# ---- nothing configured yet
run ctl 1 status
assert_eq 1 "$rc" "status without an instance (exit)"
assert_match "no kpaxos instance.*paxosctl up" "$out" "status advice"
run ctl 1 status --json
assert_match '"instance": null' "$out" "status --json without an instance"
run ctl 1 down
assert_eq 1 "$rc" "down without an instance (exit)"
assert_match "no instance in this network namespace" "$out" "down message"

# ---- usage errors: exit 2, nothing sent
run ctl 1 up eth0 --peer 1=02:00:00:00:00:01
assert_eq 2 "$rc" "up without --id"
assert_match "id N is required" "$out" "up without --id message"
run ctl 1 up eth0 --id 1 --peer 1=nonsense
assert_eq 2 "$rc" "bad --peer"
run ctl 1 set nosuchkey=1
assert_eq 2 "$rc" "set unknown key"
assert_match "keys are window" "$out" "set lists the keys"
run ctl 1 frobnicate
assert_eq 2 "$rc" "unknown command"
assert_ok ctl 1 --help > "$work/help"
for w in NAME SYNOPSIS DESCRIPTION COMMANDS "EXIT STATUS" EXAMPLES; do
	grep -q "^$w" "$work/help" || fail "--help has no $w section"
done

# ---- up, watched by monitor on node 1
ctl 1 monitor --json --count 2 --timeout 60 > "$work/monitor.1" &
mon=$!
sleep 1		# the monitor has joined the group
peers=
for i in $(seq 1 $N); do
	peers+=" --peer $i=$(node_mac "$i")"
done
# Generous timeouts: the host running the VM tests may be busy.
for i in $(seq 1 $N); do
	ctl "$i" set election_us=1000000 heartbeat_us=100000 ||
		fail "paxosctl set on node $i"
	# shellcheck disable=SC2086
	ctl "$i" up eth0 --id "$i" --cluster 5 --group 2 $peers ||
		fail "paxosctl up on node $i"
done
wait_for 30 agree_leader
L=$(leader_of 1)
log "leader: node $L"
wait $mon || fail "monitor saw fewer than 2 events: $(cat "$work/monitor.1")"
assert_match '"event": "membership", "node_id": 1, "ifname": "eth0", "members": \[1, 2, 3\]' \
	"$(sed -n 1p "$work/monitor.1")" "first event"
assert_match '"event": "leader_change", "node_id": 1, "leader_id": [1-3]' \
	"$(sed -n 2p "$work/monitor.1")" "second event"

# some traffic, so that the indexes move
for i in $(seq 1 $N); do
	in_node "$i" "$KVSTORE" load -n 50 --key "k$i" > /dev/null ||
		fail "load on node $i"
done

# ---- status on every node
for i in $(seq 1 $N); do
	ctl "$i" status > "$work/status.$i" || fail "status on node $i"
	ctl "$i" status --json > "$work/json.$i" || fail "status --json on node $i"
	python3 - "$work/json.$i" "$i" "$L" <<'EOF' || fail "status --json of node $i"
import json, sys
j = json.load(open(sys.argv[1]))
me, leader = int(sys.argv[2]), int(sys.argv[3])
assert j["source"] == "netlink", j["source"]
assert j["node_id"] == me, j["node_id"]
assert j["ifname"] == "eth0"
assert j["cluster_id"] == 5 and j["group_id"] == 2
assert j["ethertype"] == 0x88b5
assert j["roles"] == ["acceptor", "proposer", "learner"], j["roles"]
assert j["members"] == [1, 2, 3] and j["quorum"] == 2
assert j["peers"] == [{"id": n, "mac": "02:00:00:00:00:%02x" % n}
                      for n in (1, 2, 3)], j["peers"]
# the leader may have changed since it was read (a loaded host): only sane
assert j["leader_id"] in (0, 1, 2, 3), j["leader_id"]
assert isinstance(j["is_leader"], bool)
assert j["delivered_cmds"] >= 150, j["delivered_cmds"]
assert j["delivered_index"] >= 1 and j["committed_index"] >= j["delivered_index"]
assert set(j["params"]) == {"window", "batch_bytes", "batch_delay_us",
                            "heartbeat_us", "election_us", "retransmit_us",
                            "acceptor_slots", "learner_slots",
                            "snapshot_every", "alpha"}
assert j["params"]["alpha"] == 1024, j["params"]
assert "queue_full" in j["drops"]
EOF
	assert_match "^node $i on eth0 +\\(cluster 5, group 2, ethertype 0x88b5\\)" \
		"$(head -1 "$work/status.$i")" "status header of node $i"
	grep -q "members: *1 2 3 *(quorum 2)" "$work/status.$i" ||
		fail "status of node $i: members line"
	grep -q "02:00:00:00:00:0$i  (self)" "$work/status.$i" ||
		fail "status of node $i: own peer line"
	# the ioctl fallback tells the same
	ctl "$i" status --json --ioctl > "$work/ioctl.$i" ||
		fail "status --ioctl on node $i"
	assert_eq '"ioctl"' "$(jfield source < "$work/ioctl.$i")" "ioctl source"
	assert_eq "$i" "$(jfield node_id < "$work/ioctl.$i")" "ioctl node_id"
	assert_match '^[0-3]$' "$(jfield leader_id < "$work/ioctl.$i")" "ioctl leader_id"
	assert_match '^[0-9]+$' "$(jfield delivered_index < "$work/ioctl.$i")" \
		"ioctl delivered_index"
done
cat "$work/status.$L"

# ---- parameters
run ctl 1 set window=16
assert_eq 1 "$rc" "set while up"
assert_match "parameter window: parameters can only change while the instance is down" \
	"$out" "set while up: kernel message"
assert_match "paxosctl down" "$out" "set while up: advice"

ctl 3 monitor --json --count 2 --timeout 60 > "$work/monitor.3" &
mon=$!
sleep 1
assert_ok ctl 3 down
run ctl 3 status
assert_eq 1 "$rc" "status after down"
assert_ok ctl 3 set election_us=800000 heartbeat_us=80000
# shellcheck disable=SC2086
assert_ok ctl 3 up eth0 --id 3 --cluster 5 --group 2 --set window=16 $peers
wait $mon || fail "monitor on node 3: $(cat "$work/monitor.3")"
assert_match '"event": "membership", "node_id": 3, "ifname": "eth0", "members": \[\]' \
	"$(sed -n 1p "$work/monitor.3")" "down event"
assert_match '"members": \[1, 2, 3\]' "$(sed -n 2p "$work/monitor.3")" "up event"
ctl 3 status --json > "$work/json.3b"
python3 - "$work/json.3b" <<'EOF' || fail "parameters after up --set"
import json, sys
p = json.load(open(sys.argv[1]))["params"]
assert p["window"] == 16 and p["election_us"] == 800000 and \
       p["heartbeat_us"] == 80000, p
EOF
run ctl 3 set window=0
assert_eq 1 "$rc" "set window=0 while up"

# ---- set-peers
assert_ok ctl 2 set-peers "1=$(node_mac 1)" "2=$(node_mac 2)" "3=$(node_mac 3)"
run ctl 2 set-peers "1=$(node_mac 1)" "2=$(node_mac 2)"
assert_eq 1 "$rc" "set-peers with another member set"
assert_match "peers must include every member" "$out" "set-peers message"
assert_match "Operation not supported" "$out" "set-peers errno"

# ---- still one cluster: all agree, commands flow
wait_for 30 agree_leader
assert_ok in_node 3 "$KVSTORE" load -n 20 --key after > /dev/null
log "PASS"
