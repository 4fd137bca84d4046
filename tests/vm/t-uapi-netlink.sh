#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The generic netlink family "paxos" spoken raw (a small Python client, no
# paxosctl in between), on two nodes px1, px2 (lib.sh):
#
#   - malformed requests fail with EINVAL and an extended ack whose
#     message names the problem and whose offset points at the attribute;
#     nothing is created by them;
#   - a valid UP works, GET_STATUS (doit and dump) reports it;
#   - an unprivileged caller (uid 65534, no capabilities) gets EPERM for
#     every change, also through paxosctl (exit 1, with advice), but may
#     read the status.
# kpaxos-timeout: 300
. "$KPAXOS_SRC/tests/vm/lib.sh"

need_paxosctl
work=$(mktemp -d)
chmod 755 "$work"

need_module
load_module
on_exit 'rmmod paxos 2>/dev/null'
cluster_up 2

cat > "$work/pxnl.py" <<'EOF'
# Raw generic netlink client for the paxos family (constants from
# uapi/linux/paxos.h).  Usage: pxnl.py CASE [MACS...]; prints
# "errno=<name> msg=<extack> attr=<type or ->" or "ok".
import errno, os, socket, struct, sys

NETLINK_GENERIC, SOL_NETLINK, NETLINK_EXT_ACK = 16, 270, 11
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE, GENL_ID_CTRL = 2, 3, 0x10
NLA_F_NESTED = 0x8000
CMD_UP, CMD_DOWN, CMD_SET_PEERS, CMD_SET_PARAMS, CMD_GET_STATUS = 1, 2, 3, 4, 5
A_IFNAME, A_NODE_ID, A_CLUSTER_ID, A_GROUP_ID, A_ROLES, A_PEERS = 1, 2, 3, 4, 5, 6
A_PARAMS, A_STATUS, A_KEY, A_ETHERTYPE = 7, 8, 12, 13
PEER_ID, PEER_MAC = 1, 2

def attr(t, data):
    l = 4 + len(data)
    return struct.pack("HH", l, t) + data + b"\0" * ((4 - l % 4) % 4)

def u32(t, v): return attr(t, struct.pack("I", v))
def u16(t, v): return attr(t, struct.pack("H", v))
def u64(t, v): return attr(t, struct.pack("Q", v))
def s(t, v): return attr(t, v.encode() + b"\0")
def nest(t, *a): return attr(t | NLA_F_NESTED, b"".join(a))
def mac(m): return bytes(int(x, 16) for x in m.split(":"))

sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
sock.bind((0, 0))
seq = 100

def send(family, cmd, body, flags=NLM_F_ACK):
    global seq
    seq += 1
    payload = struct.pack("BBH", cmd, 1, 0) + body
    msg = struct.pack("IHHII", 16 + len(payload), family,
                      NLM_F_REQUEST | flags, seq, 0) + payload
    sock.send(msg)
    return msg

def replies():
    while True:
        data = sock.recv(65536)
        off = 0
        while off < len(data):
            l, t, fl, sq, pid = struct.unpack_from("IHHII", data, off)
            yield t, fl, data[off + 16:off + l]
            off += (l + 3) & ~3

def result():
    """(errno, extack message, offset) of the ack; data messages listed."""
    msgs = []
    for t, fl, body in replies():
        if t == NLMSG_DONE:
            return 0, "", None, msgs
        if t != NLMSG_ERROR:
            msgs.append(body)
            continue
        err = -struct.unpack_from("i", body)[0]
        inner_len = struct.unpack_from("I", body, 4)[0]
        off = 4 + (16 if fl & 0x100 else inner_len)   # NLM_F_CAPPED
        text, where = "", None
        while off + 4 <= len(body) and fl & 0x200:    # NLM_F_ACK_TLVS
            l, at = struct.unpack_from("HH", body, off)
            if l < 4:
                break
            v = body[off + 4:off + l]
            if at == 1:
                text = v.rstrip(b"\0").decode()
            elif at == 2:
                where = struct.unpack("I", v)[0]
            off += (l + 3) & ~3
        return err, text, where, msgs

def family_id():
    send(GENL_ID_CTRL, 3, s(2, "paxos"))           # CTRL_CMD_GETFAMILY
    err, _, _, msgs = result()
    assert err == 0 and msgs, "no paxos family"
    body = msgs[0][4:]
    off = 0
    while off < len(body):
        l, t = struct.unpack_from("HH", body, off)
        if t == 1:                                   # CTRL_ATTR_FAMILY_ID
            return struct.unpack_from("H", body, off + 4)[0]
        off += (l + 3) & ~3

def attr_at(msg, off):
    """Type of the attribute starting at byte @off of @msg, nested too."""
    def walk(start, end):
        p = start
        while p + 4 <= end:
            l, t = struct.unpack_from("HH", msg, p)
            if p == off:
                return t & 0x3fff
            if t & NLA_F_NESTED and p < off < p + l:
                return walk(p + 4, p + l)
            p += (l + 3) & ~3
        return None
    return walk(20, len(msg))

fam = family_id()
case = sys.argv[1]
macs = sys.argv[2:]

def peers(*pairs):
    return nest(A_PEERS, *[nest(i + 1, u32(PEER_ID, n), attr(PEER_MAC, m))
                           for i, (n, m) in enumerate(pairs)])

good_peers = lambda: peers(*[(i + 1, mac(m)) for i, m in enumerate(macs)])
base = lambda: s(A_IFNAME, "eth0") + u32(A_NODE_ID, 1)

cases = {
    # a u32 given as two bytes
    "short-node-id": (CMD_UP, s(A_IFNAME, "eth0") + u16(A_NODE_ID, 1) + good_peers()),
    "missing-ifname": (CMD_UP, u32(A_NODE_ID, 1) + good_peers()),
    "missing-peers": (CMD_UP, base()),
    "node-id-zero": (CMD_UP, s(A_IFNAME, "eth0") + u32(A_NODE_ID, 0) + good_peers()),
    "unknown-attr": (CMD_UP, base() + good_peers() + u32(99, 1)),
    "read-only-status": (CMD_UP, base() + good_peers() + attr(A_STATUS, b"\0" * 8)),
    "mac-5-bytes": (CMD_UP, base() + peers((1, mac(macs[0])[:5]))),
    "peer-no-mac": (CMD_UP, base() + nest(A_PEERS, nest(1, u32(PEER_ID, 1)))),
    "peer-duplicate": (CMD_UP, base() + peers((1, mac(macs[0])), (1, mac(macs[1])))),
    "peer-multicast": (CMD_UP, base() + peers((1, b"\x01\0\x5e\0\0\1"))),
    "peers-not-nested": (CMD_UP, base() + attr(A_PEERS, nest(1, u32(PEER_ID, 1), attr(PEER_MAC, mac(macs[0]))))),
    "ifname-too-long": (CMD_UP, s(A_IFNAME, "x" * 20) + u32(A_NODE_ID, 1) + good_peers()),
    "roles-bad-bits": (CMD_UP, base() + good_peers() + u32(A_ROLES, 8)),
    "ethertype-low": (CMD_UP, base() + good_peers() + u16(A_ETHERTYPE, 0x100)),
    "key-short": (CMD_UP, base() + good_peers() + attr(A_KEY, b"k" * 31)),
    "no-such-if": (CMD_UP, s(A_IFNAME, "nonexistent0") + u32(A_NODE_ID, 1) + good_peers()),
    "self-not-peer": (CMD_UP, s(A_IFNAME, "eth0") + u32(A_NODE_ID, 3) + good_peers()),
    "param-u32": (CMD_SET_PARAMS, nest(A_PARAMS, u32(1, 16))),
    "param-unknown": (CMD_SET_PARAMS, nest(A_PARAMS, u64(42, 16))),
    "param-too-big": (CMD_SET_PARAMS, nest(A_PARAMS, u64(1, 1 << 40))),
    "param-bad": (CMD_SET_PARAMS, nest(A_PARAMS, u64(1, 5000))),
    "param-alpha-small": (CMD_SET_PARAMS, nest(A_PARAMS, u64(10, 8))),
    "set-params-empty": (CMD_SET_PARAMS, b""),
    "status": (CMD_GET_STATUS, b""),
    "set-window": (CMD_SET_PARAMS, nest(A_PARAMS, u64(1, 64))),
    "up": (CMD_UP, base() + u32(A_CLUSTER_ID, 9) + good_peers()),
    "down": (CMD_DOWN, b""),
    "set-peers": (CMD_SET_PEERS, good_peers()),
}

if case == "dump":
    send(fam, CMD_GET_STATUS, b"", NLM_F_DUMP)
    err, text, where, msgs = result()
    print("errno=%s msgs=%d" % (errno.errorcode.get(err, err) if err else 0,
                                len(msgs)))
    sys.exit(0)
cmd, body = cases[case]
msg = send(fam, cmd, body)
err, text, where, msgs = result()
if err == 0:
    print("ok msgs=%d" % len(msgs))
else:
    at = attr_at(msg, where) if where is not None else None
    print("errno=%s msg=%s attr=%s" % (errno.errorcode.get(err, err), text,
                                       "-" if at is None else at))
EOF

macs="$(node_mac 1) $(node_mac 2)"
nl()
{
	# shellcheck disable=SC2086
	in_node 1 python3 "$work/pxnl.py" "$1" $macs
}

# expect CASE ERRNO MESSAGE-REGEX [ATTR]
expect()
{
	local got

	got=$(nl "$1") || fail "$1: the client failed"
	assert_match "^errno=$2 " "$got" "$1: errno"
	assert_match "msg=$3" "$got" "$1: extack message"
	[ -z "${4:-}" ] || assert_match "attr=$4\$" "$got" "$1: attribute"
	log "$1: $got"
}

log "malformed requests"
expect short-node-id EINVAL "invalid attribute length|[Aa]ttribute failed policy" 2
expect missing-ifname EINVAL "missing PAXOS_A_IFNAME: the interface to use"
expect missing-peers EINVAL "missing PAXOS_A_PEERS: every member with its MAC"
expect unknown-attr EINVAL "Unknown attribute type" 99
expect read-only-status EINVAL "PAXOS_A_STATUS is reported, not set" 8
expect mac-5-bytes EINVAL "MAC address must be 6 bytes" 2
expect peer-no-mac EINVAL "peer without PAXOS_PEER_A_MAC"
expect peer-duplicate EINVAL "duplicate peer node id" 1
expect peer-multicast EINVAL "MAC address must be unicast and non-zero" 2
expect peers-not-nested EINVAL "NLA_F_NESTED is missing" 6
expect ifname-too-long EINVAL "." 1
expect roles-bad-bits EINVAL "reserved bit set" 5
expect param-u32 EINVAL "." 1
expect key-short EINVAL "." 12
expect param-unknown EINVAL "Unknown attribute type" 42
expect set-params-empty EINVAL "missing PAXOS_A_PARAMS"
expect param-bad EINVAL "window must be in 1..PX_MAX_WINDOW" 1
# PAXOS_PARAM_ALPHA (10) below the default window (32)
expect param-alpha-small EINVAL "alpha must be at least the window" 10
expect node-id-zero EINVAL "node id must be 1..31" 2
expect ethertype-low EINVAL "ethertype must be at least 0x0600" 13
expect param-too-big EINVAL "parameter values are at most 2\\^32-1" 1
# well-formed but not possible
expect no-such-if ENODEV "no such interface in this namespace"
expect self-not-peer EINVAL "peers must include this node"
expect status ENOTCONN "no instance in this network namespace"
expect down ENOTCONN "no instance in this network namespace"
expect set-peers ENOTCONN "no instance in this network namespace"
assert_eq "errno=0 msgs=0" "$(nl dump)" "dump with no instance"

log "valid requests"
assert_match "^ok" "$(nl set-window)" "SET_PARAMS"
assert_match "^ok" "$(nl up)" "UP"
assert_match "^ok msgs=1" "$(nl status)" "GET_STATUS doit"
assert_eq "errno=0 msgs=1" "$(nl dump)" "GET_STATUS dump"
assert_match "cluster 9" "$(in_node 1 "$PAXOSCTL" status | head -1)" "status after UP"
expect up EEXIST "an instance is already up in this namespace"
expect set-window EBUSY "parameters can only change while the instance is down" 1
assert_match "^ok" "$(nl set-peers)" "SET_PEERS with the same members"

log "unprivileged caller"
unpriv()
{
	in_node 1 setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all --bounding-set=-all "$@"
}
for c in down up set-window set-peers; do
	got=$(unpriv python3 "$work/pxnl.py" "$c" $macs) ||
		fail "unprivileged $c: the client failed"
	assert_match "^errno=EPERM " "$got" "unprivileged $c"
done
assert_match "^ok msgs=1" "$(unpriv python3 "$work/pxnl.py" status $macs)" \
	"unprivileged GET_STATUS"
set +e
out=$(unpriv "$PAXOSCTL" down 2>&1)
rc=$?
set -e
assert_eq 1 "$rc" "unprivileged paxosctl down (exit)"
assert_match "Operation not permitted" "$out" "unprivileged paxosctl down"
assert_match "CAP_NET_ADMIN" "$out" "unprivileged paxosctl advice"
assert_ok unpriv "$PAXOSCTL" status > /dev/null
# the instance is still there
assert_match "^ok msgs=1" "$(nl status)" "status after the EPERMs"
assert_match "^ok" "$(nl down)" "DOWN"
assert_eq "errno=0 msgs=0" "$(nl dump)" "dump after DOWN"
log "PASS"
