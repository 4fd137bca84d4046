#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kpaxos-timeout: 600
#
# Authenticated frames (PAXOS_A_KEY, docs/durability.md): three nodes share
# a cluster key; a fourth namespace on the same bridge plays a stranger who
# does not have it.
#   1. the keyed cluster works: commands delivered once, same order;
#   2. the stranger's frames - a PREPARE with a huge ballot forged as node 2,
#      unauthenticated or with a made-up tag, and malformed ones - are all
#      dropped and counted as BAD_AUTH; ballots, leader and logs unchanged;
#   3. authentic frames captured earlier and replayed change nothing;
#   4. the key appears nowhere: not in GET_STATUS, not in the kernel log;
#   5. a node with the wrong key cannot join the conversation.
. "$KPAXOS_SRC/tests/vm/lib.sh"
. "$KPAXOS_SRC/tests/vm/t-pxlib.bash"

N=3
GENL=$KPAXOS_SRC/tests/vm/pxgenl.py
need_paxosctl
KEY=$KPAXOS_OUT/cluster.key
PY=$KPAXOS_OUT/frames.py

genl()
{
	local i=$1

	shift
	in_node "$i" python3 "$GENL" "$@"
}

up_keyed()
{
	local i=$1 key=$2

	# shellcheck disable=SC2046
	in_node "$i" "$PAXOSCTL" up eth0 --id "$i" \
		--cluster "$PX_CLUSTER_ID" $(px_peers $N) --key-file "$key" ||
		fail "node $i: up failed"
}

sum_stat()
{
	px_stat_all "$1" "${@:2}" | awk '{ s += $1 } END { print s + 0 }'
}

# Raw frames from the stranger's eth0 (node 4's namespace).
cat > "$PY" <<'EOF'
import os, socket, struct, sys, time

ETH_P = 0x88B5
mode = sys.argv[1]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P))
s.bind(("eth0", ETH_P))
if mode == "capture":		# capture FILE SECS: every frame seen
    out, end, n = open(sys.argv[2], "wb"), time.time() + float(sys.argv[3]), 0
    s.settimeout(0.2)
    while time.time() < end:
        try:
            f = s.recv(65536)
        except socket.timeout:
            continue
        out.write(struct.pack("I", len(f)) + f)
        n += 1
    print(n)
elif mode == "replay":		# replay FILE: send them all again
    data, off, n = open(sys.argv[2], "rb").read(), 0, 0
    while off < len(data):
        (ln,) = struct.unpack_from("I", data, off)
        s.send(data[off + 4:off + 4 + ln])
        off += 4 + ln
        n += 1
    print(n)
else:				# forge CLUSTER COUNT VERSION: PREPAREs as node 2
    cluster, count, version = [int(a) for a in sys.argv[2:5]]
    src = bytes.fromhex("020000000004")
    for k in range(count):
        ballot = (1000000 + k) << 8 | 2
        auth = mode == "forge-tag"
        hdr = struct.pack(">HBBIHBBIHHIHBBQQ", 0x5058, version, 1, cluster,
                          0, 2, 0xff, 0x7f000000 + k, 0, 1, 0, 0,
                          1 if auth else 0, 0, ballot, 1)
        tag = os.urandom(16) if auth else b""
        s.send(b"\xff" * 6 + src + struct.pack(">H", ETH_P) + hdr + tag)
    print(count)
EOF

px_setup
cluster_up 4
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$KEY"
px_dmesg_mark
for i in $(seq 1 $N); do
	up_keyed "$i" "$KEY"
	assert_eq auth "$(genl "$i" flags)" "node $i state flags"
done
PX_NODES_UP=$N
on_exit _px_debug_dump
leader=$(px_wait_leader 60 1 2 3)
log "leader is node $leader (keyed cluster)"

# ---- 1. it works, while the stranger records what it can see
in_node 4 python3 "$PY" capture "$KPAXOS_OUT/captured" 8 \
	> "$KPAXOS_OUT/captured.n" &
cap=$!
pids=()
for i in $(seq 1 $N); do
	px "$i" propose --client $((i << 8)) --clients 2 --count 25 \
		--size 300 --timeout 150 > "$KPAXOS_OUT/prop.$i" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || fail "a proposer failed"
done
wait $cap
assert_ne 0 "$(cat "$KPAXOS_OUT/captured.n")" "frames captured"
px_wait_same 60 1 2 3 >/dev/null
total=$(px_compare_logs "$KPAXOS_OUT" 1 2 3)
assert_eq 150 "$total" "records in every log"
for i in 1 2 3; do
	for k in 0 1; do
		px_check_once "$KPAXOS_OUT/log.1" \
			"$(printf %x $(((i << 8) + k)))" 1 25
	done
done
assert_eq 0 "$(sum_stat drop_bad_auth 1 2 3)" "BAD_AUTH drops among members"
cp "$KPAXOS_OUT/log.1" "$KPAXOS_OUT/log.before"
log "phase 1: 150 commands; the stranger captured $(cat "$KPAXOS_OUT/captured.n") frames"

leader=$(px_wait_leader 30 1 2 3)
ballot=$(px_stat "$leader" ballot)
promised=$(px_stat_all promised 1 2 3 | paste -sd ' ')
delivered=$(px_stat_all delivered_cmds 1 2 3 | paste -sd ' ')

# ---- 2. forged frames
version=$(awk '$2 == "PAXOS_WIRE_VERSION" { print $3 }' \
	"$KPAXOS_SRC/uapi/linux/paxos.h")
in_node 4 python3 "$PY" forge "$PX_CLUSTER_ID" 40 "$version" >/dev/null
in_node 4 python3 "$PY" forge-tag "$PX_CLUSTER_ID" 40 "$version" >/dev/null
px 4 frame --if eth0 --kind badbody --cluster "$PX_CLUSTER_ID" --src 1 \
	--count 20 >/dev/null || fail "pxtest frame"
# A frame claiming to come from the receiver itself is BAD_NODE before its
# tag is checked: node 1 sees 80 BAD_AUTH + 20 BAD_NODE, node 2 20 + 80,
# node 3 100 BAD_AUTH.
_bad_auth_all()
{
	local i

	for i in 1 2 3; do
		[ $(($(px_stat $i drop_bad_auth) + $(px_stat $i drop_bad_node))) \
			-ge 100 ] || return 1
	done
}
wait_for 20 _bad_auth_all
assert_eq 200 "$(sum_stat drop_bad_auth 1 2 3)" "BAD_AUTH drops"
log "phase 2: BAD_AUTH drops: $(px_stat_all drop_bad_auth 1 2 3 | paste -sd ' ')"
# Elections may happen on their own under a slow emulator, so compare with
# the forged ballots (rounds 1000000 and up) rather than with before.
for v in $(px_stat_all promised 1 2 3) $(px_stat_all ballot 1 2 3); do
	[ "$v" -lt $((1000000 << 8)) ] ||
		fail "a forged ballot was adopted: $v (before: $promised)"
done
log "phase 2: ballots $(px_stat_all promised 1 2 3 | paste -sd ' ') (leader ballot before: $ballot)"

# ---- 3. replayed authentic frames
in_node 4 python3 "$PY" replay "$KPAXOS_OUT/captured" >/dev/null
sleep 3
px_wait_same 60 1 2 3 >/dev/null
assert_eq "$delivered" "$(px_stat_all delivered_cmds 1 2 3 | paste -sd ' ')" \
	"commands delivered after the replay"
total=$(px_compare_logs "$KPAXOS_OUT" 1 2 3)
assert_eq 150 "$total" "records after the replay"
cmp -s "$KPAXOS_OUT/log.before" "$KPAXOS_OUT/log.1" ||
	fail "the log changed after the replay"
log "phase 3: replayed frames changed nothing"

# ---- 4. the key is nowhere
hex=$(cat "$KEY")
out=$(in_node 1 "$PAXOSCTL" status; in_node 1 "$PAXOSCTL" status --json)
assert_match "frames: +authenticated" "$out" "paxosctl status"
assert_match "IN MEMORY ONLY" "$out" "paxosctl status, in-memory acceptor"
case "$out" in
*"${hex:0:16}"*) fail "paxosctl status shows the key" ;;
esac
for i in 1 2 3; do
	case " $(genl "$i" attrs) " in
	*" 12 "*) fail "GET_STATUS of node $i reports PAXOS_A_KEY" ;;
	esac
done
if dmesg | tr -d ' :' | grep -qi "${hex:0:16}"; then
	fail "the key shows in the kernel log"
fi
grep -rqs "${hex:0:16}" /sys/kernel/debug/paxos/ 2>/dev/null &&
	fail "the key shows in debugfs"

# ---- 5. a member with the wrong key is not heard (and hears nothing)
px_down 3
head -c 32 /dev/urandom > "$KPAXOS_OUT/wrong.key"
up_keyed 3 "$KPAXOS_OUT/wrong.key"
before=$(px_stat 1 drop_bad_auth)
px 1 propose --client 0x900 --count 5 --size 100 --timeout 60 >/dev/null ||
	fail "nodes 1 and 2 alone could not decide"
_wrong_key_dropped()
{
	[ "$(px_stat 3 drop_bad_auth)" -gt 0 ] &&
		[ "$(px_stat 1 drop_bad_auth)" -gt "$before" ]
}
wait_for 20 _wrong_key_dropped
assert_eq 0 "$(px_stat 3 delivered_cmds)" "commands delivered at node 3"
log "phase 5: node 3 with a wrong key is dropped both ways"
log "PASS"
