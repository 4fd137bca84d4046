#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Minimal generic netlink client of the "paxos" family for the VM tests of
durability and authentication (tests/vm/t-crash*.sh, t-auth*.sh,
m-crash*.sh), independent of paxosctl while its options for these
attributes do not exist yet.  Acts on the caller's network namespace (run
it under `ip netns exec`).

  pxgenl.py up IFNAME --id N --peer ID=MAC... [--cluster C]
            [--state PATH] [--rejoin] [--key-file F]
  pxgenl.py flags        PAXOS_STATE_F_* bits of the instance, as names
  pxgenl.py path         the state path reported (empty if none)
  pxgenl.py attrs        every top-level attribute type of GET_STATUS

The key file holds 32 raw bytes or 64 hex digits; the key is never
printed.  Exit status: 0 ok, 1 kernel error (message on stderr), 2 usage.
"""
import os
import socket
import struct
import sys

NETLINK_GENERIC = 16
NETLINK_EXT_ACK = 11
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLA_F_NESTED = 0x8000
NLMSGERR_ATTR_MSG = 1

# uapi/linux/paxos.h
PAXOS_CMD_UP = 1
PAXOS_CMD_GET_STATUS = 5
A_IFNAME, A_NODE_ID, A_CLUSTER_ID = 1, 2, 3
A_PEERS, A_STATUS, A_KEY = 6, 8, 12
A_STATE_PATH, A_STATE_FLAGS = 18, 19
PEER_A_ID, PEER_A_MAC = 1, 2
STATE_F = {1: "rejoin", 2: "durable", 4: "rejoining", 8: "auth",
           16: "failed"}


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def parse_attrs(buf):
    out = {}
    off = 0
    while off + 4 <= len(buf):
        n, t = struct.unpack_from("HH", buf, off)
        if n < 4:
            break
        out[t & 0x3fff] = buf[off + 4:off + n]
        off += (n + 3) & ~3
    return out


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                               NETLINK_GENERIC)
        self.s.setsockopt(270, NETLINK_EXT_ACK, 1)  # SOL_NETLINK
        self.s.bind((0, 0))
        self.seq = 1
        a = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1,
                         attr(CTRL_ATTR_FAMILY_NAME, b"paxos\0"))
        self.family = struct.unpack("H", a[CTRL_ATTR_FAMILY_ID][:2])[0]

    def request(self, family, cmd, version, payload, ack=False):
        self.seq += 1
        body = struct.pack("BBH", cmd, version, 0) + payload
        flags = NLM_F_REQUEST | (NLM_F_ACK if ack else 0)
        msg = struct.pack("IHHII", 16 + len(body), family, flags, self.seq,
                          0) + body
        self.s.send(msg)
        reply = None
        while True:
            data = self.s.recv(1 << 16)
            off = 0
            while off + 16 <= len(data):
                n, t, f, seq, pid = struct.unpack_from("IHHII", data, off)
                m = data[off:off + n]
                off += (n + 3) & ~3
                if t == NLMSG_ERROR:
                    err = struct.unpack_from("i", m, 16)[0]
                    if err:
                        # capped (0x100): only the request header is echoed
                        inner = struct.unpack_from("I", m, 20)[0]
                        tlv = m[20 + (16 if f & 0x100 else inner):]
                        why = parse_attrs(tlv).get(NLMSGERR_ATTR_MSG, b"")
                        raise OSError(-err, "%s: %s" % (
                            os.strerror(-err),
                            why.rstrip(b"\0").decode(errors="replace")))
                    return reply
                if t == NLMSG_DONE:
                    return reply
                reply = parse_attrs(m[20:])
                if not ack:
                    return reply


def read_key(path):
    raw = open(path, "rb").read()
    txt = raw.strip()
    if len(txt) == 64:
        try:
            return bytes.fromhex(txt.decode())
        except ValueError:
            pass
    if len(raw) == 32:
        return raw
    sys.exit("key file: 32 raw bytes or 64 hex digits")


def cmd_up(g, args):
    ifname, node, cluster = None, None, 0
    peers, state, flags, key = [], None, 0, None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--id", "--peer", "--cluster", "--state", "--key-file"):
            if i + 1 >= len(args):
                sys.exit(2)
            v = args[i + 1]
            i += 2
            if a == "--id":
                node = int(v, 0)
            elif a == "--cluster":
                cluster = int(v, 0)
            elif a == "--peer":
                pid, mac = v.split("=", 1)
                peers.append((int(pid), bytes.fromhex(mac.replace(":", ""))))
            elif a == "--state":
                state = v
            else:
                key = read_key(v)
        elif a == "--rejoin":
            flags |= 1
            i += 1
        else:
            ifname = a
            i += 1
    if not ifname or not node or not peers:
        sys.exit(__doc__)
    nest = b"".join(attr(NLA_F_NESTED | (j + 1),
                         attr(PEER_A_ID, struct.pack("I", p)) +
                         attr(PEER_A_MAC, m))
                    for j, (p, m) in enumerate(peers))
    payload = (attr(A_IFNAME, ifname.encode() + b"\0") +
               attr(A_NODE_ID, struct.pack("I", node)) +
               attr(A_CLUSTER_ID, struct.pack("I", cluster)) +
               attr(NLA_F_NESTED | A_PEERS, nest))
    if state:
        payload += attr(A_STATE_PATH, state.encode() + b"\0")
    if flags:
        payload += attr(A_STATE_FLAGS, struct.pack("I", flags))
    if key:
        payload += attr(A_KEY, key)
    g.request(g.family, PAXOS_CMD_UP, 1, payload, ack=True)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    try:
        g = Genl()
        if argv[1] == "up":
            cmd_up(g, argv[2:])
            return 0
        a = g.request(g.family, PAXOS_CMD_GET_STATUS, 1, b"")
        if argv[1] == "flags":
            v = struct.unpack("I", a.get(A_STATE_FLAGS, b"\0" * 4))[0]
            print(",".join(n for b, n in sorted(STATE_F.items())
                           if v & b) or "none")
        elif argv[1] == "path":
            print(a.get(A_STATE_PATH, b"").rstrip(b"\0").decode())
        elif argv[1] == "attrs":
            print(" ".join(str(t) for t in sorted(a)))
        else:
            sys.exit(__doc__)
    except OSError as e:
        print("pxgenl: %s" % e.strerror, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
