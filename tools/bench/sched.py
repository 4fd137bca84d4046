#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""sched.py: where the guest's wall-clock time goes during a point.

    sched.py SCHED-TXT...

Reads the ftrace sched_switch/sched_wakeup traces that `bench.sh --sched`
takes (0.5 s of the first 32-proposer reference point of each backend,
followed by a "# point {json}" line with the point's result) and prints,
per backend, for one round of the closed loop (the commands of all
proposers, `conc` of them):

- CPU time by group, both vCPUs summed: the protocol's tasks ("server":
  the module's px<N>-node threads, or the pxd processes), the load
  generator, softirq threads, everything else, and idle;
- wakeups of server and load tasks, and the time from each wakeup to the
  task running: when the vCPU it went to was idle (a halted vCPU, woken
  by an IPI that the host must schedule) and when it was busy (the task
  waited for the CPU).

Under TCG a wakeup of an idle vCPU is expensive; the table shows how much
of a round is spent that way rather than computing.
"""
import json
import re
import sys

LINE = re.compile(r"^\s*(.*?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+):\s+"
                  r"(sched_switch|sched_wakeup):\s+(.*)$")
SWITCH = re.compile(r"prev_comm=(.*?) prev_pid=(\d+) .*? ==> "
                    r"next_comm=(.*?) next_pid=(\d+)")
WAKEUP = re.compile(r"comm=(.*?) pid=(\d+) .*?target_cpu=(\d+)")
GROUPS = ["server", "load", "softirq", "other", "idle"]


def group(comm, pid):
    if pid == 0:
        return "idle"
    if re.match(r"px\d+-node$", comm) or comm == "pxd":
        return "server"
    if comm == "load":
        return "load"
    if comm.startswith("ksoftirqd/"):
        return "softirq"
    return "other"


def analyze(path):
    point = {}
    cur = {}            # cpu -> (group, since)
    busy = {g: 0.0 for g in GROUPS}
    woken = {}          # pid -> (ts, target cpu idle at the time)
    lat = {"idle": [], "busy": []}
    t0 = t1 = None
    with open(path) as f:
        for line in f:
            if line.startswith("# point "):
                try:
                    point = json.loads(line[len("# point "):])
                except ValueError:
                    pass
                continue
            m = LINE.match(line)
            if not m:
                continue
            cpu, ts, ev, rest = int(m.group(3)), float(m.group(4)), \
                m.group(5), m.group(6)
            t0 = ts if t0 is None else t0
            t1 = ts
            if ev == "sched_wakeup":
                w = WAKEUP.match(rest)
                if not w:
                    continue
                pid = int(w.group(2))
                if group(w.group(1), pid) not in ("server", "load"):
                    continue
                tgt = int(w.group(3))
                idle = cur.get(tgt, ("idle", 0))[0] == "idle"
                woken[pid] = (ts, idle)
                continue
            s = SWITCH.match(rest)
            if not s:
                continue
            prev = group(s.group(1), int(s.group(2)))
            npid = int(s.group(4))
            nxt = group(s.group(3), npid)
            g, since = cur.get(cpu, (prev, None))
            if since is not None:
                busy[g] += ts - since
            cur[cpu] = (nxt, ts)
            if npid in woken:
                wts, idle = woken.pop(npid)
                lat["idle" if idle else "busy"].append(ts - wts)
    for cpu, (g, since) in cur.items():
        if since is not None:
            busy[g] += t1 - since
    return point, (t1 - t0) if t0 is not None else 0.0, busy, lat


def main(paths):
    rows = []
    for path in paths:
        point, secs, busy, lat = analyze(path)
        if not secs or not point.get("cmds_per_s"):
            print("sched: %s: no trace or no point result" % path,
                  file=sys.stderr)
            continue
        conc = point.get("conc", 1)
        rounds = point["cmds_per_s"] * secs / conc
        us = 1e6 / rounds

        def per(v):
            return "%.0f" % (v * us)

        n_idle, n_busy = len(lat["idle"]), len(lat["busy"])
        rows.append([point.get("label", path), "%d" % conc,
                     "%.0f" % (secs * 1e6 / rounds)] +
                    [per(busy[g]) for g in GROUPS] +
                    ["%.1f / %.0f" % (n_idle / rounds,
                                      1e6 * sum(lat["idle"]) / max(n_idle, 1)),
                     "%.1f / %.0f" % (n_busy / rounds,
                                      1e6 * sum(lat["busy"]) / max(n_busy, 1)),
                     "%.0f" % (1e6 * (sum(lat["idle"]) + sum(lat["busy"])) /
                               rounds)])
    head = ["backend", "round (cmds)", "round us", "server us", "load us",
            "softirq us", "other us", "idle us (2 vCPUs)",
            "wakeups to an idle vCPU / mean us",
            "wakeups to a busy vCPU / mean us", "wakeup-to-run us"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0 if rows else 1


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
