#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Ethernet hub for tests/vm/multi.sh: joins K QEMU guests' NICs.

Each guest i has a QEMU `-netdev dgram` socket bound to 127.0.0.1:L_i whose
remote is this hub's socket 127.0.0.1:H_i.  A frame arriving on H_i is sent
to every other guest j (from H_j to L_j), like a hub: no loop-back to the
sender, no learning, private to one run (unlike a multicast group).

Fault injection, read from CTL_DIR every 0.2 s:
  CTL_DIR/block   lines "I J": drop frames from guest I to guest J
  CTL_DIR/loss    a percentage: drop that share of all frames at random

Usage: hub.py K CTL_DIR PORTS_FILE
Writes "i H_i L_i" lines to PORTS_FILE (atomically) once listening, then
runs until killed.
"""

import os
import random
import select
import socket
import sys
import time


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read_ctl(ctl):
    blocked = set()
    loss = 0.0
    try:
        with open(os.path.join(ctl, "block")) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    blocked.add((int(parts[0]), int(parts[1])))
    except (OSError, ValueError):
        pass
    try:
        with open(os.path.join(ctl, "loss")) as f:
            loss = float(f.read().strip() or 0) / 100.0
    except (OSError, ValueError):
        pass
    return blocked, loss


def main():
    k, ctl, ports_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    socks = {}
    guest = {}
    for i in range(1, k + 1):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        socks[i] = s
        guest[i] = ("127.0.0.1", free_port())
    tmp = ports_file + ".tmp"
    with open(tmp, "w") as f:
        for i in range(1, k + 1):
            f.write("%d %d %d\n" % (i, socks[i].getsockname()[1],
                                    guest[i][1]))
    os.rename(tmp, ports_file)

    by_fd = {s.fileno(): i for i, s in socks.items()}
    blocked, loss = read_ctl(ctl)
    next_ctl = time.monotonic() + 0.2
    while True:
        ready, _, _ = select.select(list(socks.values()), [], [], 0.2)
        now = time.monotonic()
        if now >= next_ctl:
            blocked, loss = read_ctl(ctl)
            next_ctl = now + 0.2
        for s in ready:
            src = by_fd[s.fileno()]
            try:
                frame = s.recv(65536)
            except OSError:
                continue
            for dst, dsock in socks.items():
                if dst == src or (src, dst) in blocked:
                    continue
                if loss and random.random() < loss:
                    continue
                try:
                    dsock.sendto(frame, guest[dst])
                except OSError:
                    pass        # guest not (yet / any more) running


if __name__ == "__main__":
    main()
