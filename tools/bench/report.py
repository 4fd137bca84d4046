#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""report.py: turn bench.sh's bench.jsonl into the benchmark's outputs.

    report.py BENCH.JSONL [--out DIR] [--markdown FILE] [--doc FILE]
              [--check]

Prints the table (ratios first, then the sweeps) on stdout and writes
DIR/results.json, DIR/table.md and PNG plots (gnuplot) into DIR (default
out/bench).  --markdown also writes the table to FILE.  --doc puts the
table and the goal status into FILE (docs/bench.md) between its
results/goals markers and copies the plots to FILE's directory, bench/.  --check (for
bench-quick) exits 1 unless the run produced a ping-pong result and a load
point with decided commands for every backend that ran; timings are never
judged.
"""
import json
import os
import shutil
import subprocess
import sys

BACKENDS = ["kernel", "pxd-udp", "pxd-raw"]
GOALS = {
    "kernel_vs_user": 3.0,
    "p50_vs_rtt": 1.5,
    "batched_vs_unbatched": 20.0,
    "cost_drift": 1.2,
}


def load(path):
    env, pp, pts, notes = {}, [], [], []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                o = json.loads(line)
            except ValueError:
                notes.append("unparsable line: " + line[:80])
                continue
            k = o.get("kind")
            if k == "env":
                env = o
            elif k == "pingpong":
                pp.append(o)
            elif k == "load":
                pts.append(o)
            elif k == "note":
                notes.append(o.get("text", ""))
    return env, pp, pts, notes


def find(pts, label, sweep=None, mode="loop", **kw):
    for p in pts:
        if p.get("label") != label or p.get("mode") != mode:
            continue
        if sweep is not None and p.get("sweep") != sweep:
            continue
        if all(p.get(k) == v for k, v in kw.items()):
            return p
    return None


def median(v):
    v = sorted(x for x in v if x is not None)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def rtt(pp, transport, size=64, near=None):
    """Ping-pong p50: the median of the runs made next to @near's latency
    points if there are any, else of all runs of this transport."""
    runs = [p for p in pp if p["transport"] == transport and
            p["size"] == size]
    close = [p for p in runs if near and p.get("for") == near]
    return median([p["rtt_us"]["p50"] for p in (close or runs)])


def ratio(a, b):
    if a is None or b is None or not b:
        return None
    return a / b


def fmt(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        if abs(v) >= 100:
            return "%.0f" % v
        return ("%." + str(nd) + "f") % v
    return str(v)


def headline(pts):
    """The reference point of a backend: 64 B commands, 32 proposers; of
    the interleaved rounds, the one with the median throughput."""
    out = {}
    for be in BACKENDS:
        reps = sorted((p for p in pts if p.get("label") == be and
                       p.get("sweep") == "head" and p.get("mode") == "loop"),
                      key=lambda p: p["cmds_per_s"])
        if reps:
            out[be] = reps[len(reps) // 2]
        else:
            out[be] = (find(pts, be, "conc", size=64, conc=32) or
                       find(pts, be, "quick"))
    return out


def low_load_p50(pts, be):
    """p50 with one proposer: median over the interleaved rounds."""
    reps = [p["lat_us"]["p50"] for p in pts if p.get("label") == be and
            p.get("sweep") == "head1" and p.get("mode") == "loop"]
    if reps:
        return median(reps)
    p = find(pts, be, "conc", size=64, conc=1)
    return p["lat_us"]["p50"] if p else None


def cost_drift(p):
    """
    cpu/cmd of the second half of the run over the first (1.0 = flat);
    the first interval, still warming up, counts in neither.
    """
    if not p:
        return None
    s = [x for x in p.get("series", []) if x["cmds"] > 0][1:]
    if len(s) < 2:
        return None
    half = len(s) // 2

    def cost(xs):
        return sum(x["busy_us"] for x in xs) / sum(x["cmds"] for x in xs)

    first = cost(s[:half])
    return cost(s[half:]) / first if first else None


def batch_ratio(pts, be, sweep):
    """(best, unbatched) cmds/s of a batch-limit sweep; 28 B = unbatched."""
    b = [p for p in pts if p.get("label") == be and p.get("sweep") == sweep]
    one = [p for p in b if p.get("batch_bytes") == 28]
    if not b or not one:
        return None, None
    return max(p["cmds_per_s"] for p in b), one[0]["cmds_per_s"]


def round_ratios(pts, be):
    """
    kernel / @be throughput of each interleaved round of the reference
    point (the two measured back to back, so drift of the host cancels).
    """
    def by_rep(label):
        return {p.get("rep"): p["cmds_per_s"] for p in pts
                if p.get("label") == label and p.get("sweep") == "head" and
                p.get("mode") == "loop"}
    k, u = by_rep("kernel"), by_rep(be)
    return [ratio(k[n], u[n]) for n in sorted(k) if n in u]


def compute_ratios(pp, pts):
    r = {}
    h = headline(pts)
    tk = h["kernel"]["cmds_per_s"] if h["kernel"] else None
    for be in ("pxd-udp", "pxd-raw"):
        tu = h[be]["cmds_per_s"] if h[be] else None
        rounds = round_ratios(pts, be)
        r["kernel_vs_" + be + "_rounds"] = rounds
        # the median of the paired rounds; without rounds, the one point
        r["kernel_vs_" + be] = median(rounds) if rounds else ratio(tk, tu)
    for be, tr in (("kernel", "raw"), ("pxd-raw", "raw"),
                   ("pxd-udp", "udp")):
        r["p50_vs_rtt_" + be] = ratio(low_load_p50(pts, be),
                                      rtt(pp, tr, near=be))
    for be in BACKENDS:
        for sweep, key in (("batch", "batched_vs_unbatched_"),
                           ("batch1", "batched_vs_unbatched_w1_")):
            r[key + be] = ratio(*batch_ratio(pts, be, sweep))
        r["cost_drift_" + be] = cost_drift(find(pts, be, "long"))
    return r


def ratio_rows(pp, pts, r):
    rows = []
    h = headline(pts)

    def tp(be):
        return fmt(h[be]["cmds_per_s"]) if h[be] else "-"

    ref = h["kernel"] or h["pxd-udp"] or h["pxd-raw"]
    conc = ref["conc"] if ref else 32
    for be in ("pxd-udp", "pxd-raw"):
        rounds = r.get("kernel_vs_" + be + "_rounds") or []
        vals = "%s / %s" % (tp("kernel"), tp(be))
        if len(rounds) > 1:
            vals += "; rounds " + ", ".join(fmt(x, 2) for x in rounds)
        rows.append(("kernel / %s throughput (64 B, %d proposers)" % (
                         be, conc), vals,
                     r["kernel_vs_" + be], ">= %.0fx" % GOALS["kernel_vs_user"]))
    for be, tr in (("kernel", "raw"), ("pxd-raw", "raw"),
                   ("pxd-udp", "udp")):
        rows.append(("%s p50 (1 proposer) / %s ping-pong RTT p50" % (
                         be, tr),
                     "%s / %s us" % (fmt(low_load_p50(pts, be)),
                                     fmt(rtt(pp, tr, near=be))),
                     r["p50_vs_rtt_" + be],
                     "<= %.1fx" % GOALS["p50_vs_rtt"]))
    for sweep, key, what in (
            ("batch1", "batched_vs_unbatched_w1_", "window 1"),
            ("batch", "batched_vs_unbatched_", "window 32")):
        for be in BACKENDS:
            best, one = batch_ratio(pts, be, sweep)
            vals = "%s / %s" % (fmt(best), fmt(one)) if best else ""
            rows.append(("%s batched / unbatched (64 B, %s)" % (be, what),
                         vals, r[key + be],
                         ">= %.0fx" % GOALS["batched_vs_unbatched"]))
    for be in BACKENDS:
        rows.append(("%s cpu/cmd second / first half (long run)" % be, "",
                     r["cost_drift_" + be], "~1 (flat)"))
    return rows


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        out.append("| " + " | ".join(fmt(c, 2) if not isinstance(c, str)
                                     else c for c in row) + " |")
    return "\n".join(out)


def disturbed(p):
    nd = p.get("node") or {}
    return bool(nd.get("leader_changes") or p.get("retries"))


def sweep_rows(pts, sweep, key, fields):
    """One row per value of @key; a '*' marks a point disturbed by a leader
    change or retries."""
    vals = sorted({p[key] for p in pts if p.get("sweep") == sweep and
                   p.get("mode") == "loop"})
    rows = []
    for v in vals:
        row = [str(v)]
        for be in BACKENDS:
            p = find(pts, be, sweep, **{key: v})
            for i, f in enumerate(fields):
                c = f(p) if p else None
                if i == 0 and p and disturbed(p):
                    c = fmt(c) + "*"
                row.append(c)
        rows.append(row)
    return rows


def prof_table(pts):
    """The module's hand profile (run.sh --prof): one column per kernel
    point, one row per part (us per decided command, events per command)."""
    ps = [p for p in pts if p.get("prof") and p.get("mode") == "loop"]
    if not ps:
        return []
    names = list(ps[0]["prof"])

    def col(p):
        tag = [p.get("sweep", "")]
        for k in ("batch_bytes", "window"):
            if k in p:
                tag.append("%s=%s" % (k, p[k]))
        return "%s c%d" % (" ".join(tag), p["conc"])

    rows = []
    for n in names:
        rows.append([n] + ["%.2f / %.2f%s" % (
            v[0], v[1], " (%d%% sw)" % round(v[2] * 100) if v[2] >= .05
            else "") for v in (p["prof"].get(n, (0, 0, 0)) for p in ps)])
    rows.append(["cmds/s"] + [fmt(p["cmds_per_s"], 0) for p in ps])
    return ["Module hand profile (kmod/prof.h; us / events per decided "
            "command, the three nodes summed; parts nest, see prof.h; "
            "\"sw\": share of events during which the task was switched "
            "out, left out and estimated at the others' mean):",
            "", md_table(["part"] + [col(p) for p in ps], rows), ""]


def tables(env, pp, pts, notes, r):
    out = []
    e = env
    out.append("Environment: %s, %s vCPUs (%s), kernel %s, clocksource %s, "
               "%s, %s s per point%s" % (
                   "QEMU " + e.get("accel", "?").upper() if e.get("accel")
                   else e.get("virt", "?"),
                   e.get("cpus", "?"), e.get("cpu_model", "?"),
                   e.get("kernel", "?"), e.get("clocksource", "?"),
                   e.get("date", "?"), e.get("duration_s", "?"),
                   ", quick run" if e.get("quick") else ""))
    out.append("")
    out.append("Ratios (measured in this run):")
    out.append("")
    out.append(md_table(["ratio", "values", "measured", "goal"],
                        [(a, b, c, d) for a, b, c, d in
                         ratio_rows(pp, pts, r)]))
    out.append("")
    if pp:
        out.append("Ping-pong floor (round trip, us):")
        out.append("")
        out.append(md_table(["transport", "size", "next to", "min", "p50",
                             "p99", "p99.9"],
                            [(p["transport"], str(p["size"]),
                              p.get("for", "-"),
                              p["rtt_us"]["min"], p["rtt_us"]["p50"],
                              p["rtt_us"]["p99"], p["rtt_us"]["p999"])
                             for p in pp]))
        out.append("")

    hdr = [""]
    for be in BACKENDS:
        hdr += [be + " cmds/s", be + " MB/s"]
    rows = sweep_rows(pts, "size", "size",
                      [lambda p: p["cmds_per_s"],
                       lambda p: p["bytes_per_s"] / 1e6])
    if rows:
        out.append("Throughput vs command size (16 proposers):")
        out.append("")
        out.append(md_table(["size B"] + hdr[1:], rows))
        out.append("")
    hdr = []
    for be in BACKENDS:
        hdr += [be + " cmds/s", "p50", "p99", "p99.9"]
    rows = sweep_rows(pts, "conc", "conc",
                      [lambda p: p["cmds_per_s"],
                       lambda p: p["lat_us"]["p50"],
                       lambda p: p["lat_us"]["p99"],
                       lambda p: p["lat_us"]["p999"]])
    if rows:
        out.append("Latency (us, propose -> delivery) vs load "
                   "(64 B, N proposers):")
        out.append("")
        out.append(md_table(["N"] + hdr, rows))
        out.append("")
    for sweep, key, title in (("batch", "batch_bytes",
                               "Batch limit (bytes; 28 = one command)"),
                              ("batch1", "batch_bytes",
                               "Batch limit at window 1 (bytes)"),
                              ("window", "window", "Window (instances)")):
        hdr = []
        for be in BACKENDS:
            hdr += [be + " cmds/s", "p50", "cmds/inst"]
        rows = sweep_rows(pts, sweep, key,
                          [lambda p: p["cmds_per_s"],
                           lambda p: p["lat_us"]["p50"],
                           lambda p: (p.get("node") or {}).get(
                               "cmds_per_instance")])
        if rows:
            conc = [p["conc"] for p in pts if p.get("sweep") == sweep]
            out.append("%s, 64 B, %s proposers:" % (
                title, conc[0] if conc else "?"))
            out.append("")
            out.append(md_table([key] + hdr, rows))
            out.append("")
    rows = []
    hl = headline(pts)
    ref = hl["kernel"] or hl["pxd-udp"] or hl["pxd-raw"]
    for be in BACKENDS:
        p = hl[be]
        if p:
            c = p["cpu_us_per_cmd"]
            nd = p.get("node") or {}
            rows.append((be, c["system"], c["server"], c["load"],
                         p["cpu_busy_frac"], nd.get("cmds_per_instance"),
                         nd.get("frames_tx_per_cmd")))
    if rows:
        out.append("CPU time per decided command (us) and batching at the "
                   "leader (64 B, %d proposers; server = the pxd processes "
                   "or the module's px* threads):" % ref["conc"])
        out.append("")
        out.append(md_table(["backend", "whole system", "server", "load",
                             "busy fraction", "cmds/instance",
                             "frames sent/cmd"], rows))
        out.append("")
    bad = []
    for p in pts:
        nd = p.get("node") or {}
        if nd.get("leader_changes") or p.get("retries"):
            bad.append("%s/%s %s size %d conc %d: %s leader change(s), "
                       "%d retries" % (
                           p["label"], p["mode"], p.get("sweep", ""),
                           p["size"], p["conc"],
                           nd.get("leader_changes", "?"), p["retries"]))
    if bad:
        out.append("Points disturbed by a leader change or command retries "
                   "(marked * above; their tails include an election or a "
                   "5 s retry):")
        out.append("")
        out += ["- " + b for b in bad]
        out.append("")
    libs = [p for p in pts if p.get("mode") in ("lib", "uring")]
    if libs:
        out.append("Module through libkpaxos (64 B):")
        out.append("")
        out.append(md_table(["mode", "proposers", "cmds/s", "p50", "p99"],
                            [(p["mode"], str(p["conc"]), p["cmds_per_s"],
                              p["lat_us"]["p50"], p["lat_us"]["p99"])
                             for p in libs]))
        out.append("")
    out += prof_table(pts)
    if notes:
        out.append("Notes:")
        out += ["- " + n for n in notes]
        out.append("")
    return "\n".join(out)


def plots(pts, outdir):
    made = []

    def dat(name, rows):
        path = os.path.join(outdir, name)
        with open(path, "w") as f:
            for row in rows:
                f.write(" ".join(str(x) for x in row) + "\n")
        return path

    series = {}
    for be in BACKENDS:
        s = sorted((p["size"], p["cmds_per_s"], p["bytes_per_s"] / 1e6)
                   for p in pts if p.get("label") == be and
                   p.get("sweep") == "size")
        if s:
            series[be] = dat("size-%s.dat" % be, s)
    gp = []
    if series:
        png = os.path.join(outdir, "throughput-size.png")
        gp.append("set terminal pngcairo size 900,420 font ',10'\n"
                  "set output '%s'\nset multiplot layout 1,2\n"
                  "set logscale x 2\nset xlabel 'command size (bytes)'\n"
                  "set grid\nset key top right\n"
                  "set ylabel 'decided commands/s'\n"
                  "plot %s\nset ylabel 'MB/s'\nset key top left\n"
                  "plot %s\nunset multiplot\n" % (
                      png,
                      ", ".join("'%s' u 1:2 w lp t '%s'" % (f, b)
                                for b, f in series.items()),
                      ", ".join("'%s' u 1:3 w lp t '%s'" % (f, b)
                                for b, f in series.items())))
        made.append(png)
    series = {}
    for be in BACKENDS:
        s = sorted((p["conc"], p["cmds_per_s"], p["lat_us"]["p50"],
                    p["lat_us"]["p99"], p["lat_us"]["p999"])
                   for p in pts if p.get("label") == be and
                   p.get("sweep") == "conc")
        if s:
            series[be] = dat("conc-%s.dat" % be, s)
    if series:
        png = os.path.join(outdir, "latency-load.png")
        gp.append("set terminal pngcairo size 900,420 font ',10'\n"
                  "set output '%s'\nunset logscale\nset multiplot layout 1,2\n"
                  "set grid\nset logscale x 2\n"
                  "set xlabel 'concurrent proposers (64 B commands)'\n"
                  "set ylabel 'propose -> delivery latency (us)'\n"
                  "set key top left\nset logscale y\n"
                  "set title 'p50 (solid) and p99 (dashed)'\n"
                  "plot %s, %s\n"
                  "unset logscale y\nunset title\n"
                  "set ylabel 'decided commands/s'\nplot %s\n"
                  "unset multiplot\n" % (
                      png,
                      ", ".join("'%s' u 1:3 w lp lc %d t '%s p50'" % (f, i + 1, b)
                                for i, (b, f) in enumerate(series.items())),
                      ", ".join("'%s' u 1:4 w lp dt 2 lc %d t '%s p99'" % (
                          f, i + 1, b)
                                for i, (b, f) in enumerate(series.items())),
                      ", ".join("'%s' u 1:2 w lp lc %d t '%s'" % (f, i + 1, b)
                                for i, (b, f) in enumerate(series.items()))))
        made.append(png)
    series = {}
    for be in BACKENDS:
        s = sorted((p["batch_bytes"], p["cmds_per_s"])
                   for p in pts if p.get("label") == be and
                   p.get("sweep") == "batch")
        if s:
            series[be] = dat("batch-%s.dat" % be, s)
    if series:
        png = os.path.join(outdir, "batch.png")
        gp.append("set terminal pngcairo size 600,420 font ',10'\n"
                  "set output '%s'\nunset logscale\nset logscale x 2\n"
                  "set grid\nset xlabel 'batch limit (bytes)'\n"
                  "set ylabel 'decided commands/s (64 B)'\n"
                  "set key top left\nplot %s\n" % (
                      png, ", ".join("'%s' u 1:2 w lp t '%s'" % (f, b)
                                     for b, f in series.items())))
        made.append(png)
    if gp:
        script = os.path.join(outdir, "plots.gp")
        with open(script, "w") as f:
            f.write("\n".join(gp))
        try:
            subprocess.run(["gnuplot", script], check=True,
                           stderr=subprocess.PIPE)
        except (OSError, subprocess.CalledProcessError) as e:
            print("report: gnuplot failed: %s" % e, file=sys.stderr)
            return []
    return made


def check(env, pp, pts, notes):
    ok = True
    skipped = {n.split(":")[0] for n in notes if "skipped" in n}
    if not pp and "pingpong" not in skipped:
        print("check: no ping-pong result")
        ok = False
    ran = {p["label"] for p in pts}
    for be in ("pxd-udp", "pxd-raw"):
        if be not in ran and be not in skipped:
            print("check: no %s load point" % be)
            ok = False
    for p in pts:
        if p["cmds"] <= 0 or p["errors"]:
            print("check: %s %s: %d cmds, %d errors" % (
                p["label"], p["mode"], p["cmds"], p["errors"]))
            ok = False
    if "kernel" not in ran and "kernel" not in skipped:
        print("check: the module was built but produced no load point")
        ok = False
    for n in notes:
        if n.startswith("FAILED") or "failed" in n or "no leader" in n:
            print("check: " + n)
            ok = False
    return ok


def goal_lines(r):
    """One line per goal: the measured ratios and whether they meet it."""
    def show(v):
        return "-" if v is None else "%.2f" % v

    def verdict(vals, ok):
        got = [v for v in vals if v is not None]
        if not got:
            return "not measured"
        return "met" if all(ok(v) for v in got) else "not met"

    kv = [r.get("kernel_vs_pxd-udp"), r.get("kernel_vs_pxd-raw")]
    p50 = r.get("p50_vs_rtt_kernel")
    bat = r.get("batched_vs_unbatched_w1_kernel")
    bat32 = r.get("batched_vs_unbatched_kernel")
    drift = r.get("cost_drift_kernel")
    g = GOALS
    return [
        "- kernel >= %.0fx the user-space equivalent's throughput: "
        "%s (kernel/pxd-udp %s, kernel/pxd-raw %s)" % (
            g["kernel_vs_user"],
            verdict(kv, lambda v: v >= g["kernel_vs_user"]),
            show(kv[0]), show(kv[1])),
        "- kernel p50 at low load <= %.1fx the ping-pong RTT: %s (%s)" % (
            g["p50_vs_rtt"],
            verdict([p50], lambda v: v <= g["p50_vs_rtt"]), show(p50)),
        "- kernel batched >= %.0fx unbatched (64 B): %s at window 1, "
        "batching alone (%s); %s at the default window 32, where "
        "pipelining already overlaps unbatched instances (%s)" % (
            g["batched_vs_unbatched"],
            verdict([bat], lambda v: v >= g["batched_vs_unbatched"]),
            show(bat),
            verdict([bat32], lambda v: v >= g["batched_vs_unbatched"]),
            show(bat32)),
        "- kernel cost per command flat (second/first half within "
        "%.1fx): %s (%s)" % (
            g["cost_drift"],
            verdict([drift], lambda v: 1 / g["cost_drift"] <= v <=
                    g["cost_drift"]), show(drift)),
    ]


def fill_doc(path, text, r, made):
    """
    Put the table and the goal status between the results/goals markers of
    PATH (a lone RESULTS or GOALS line becomes the markers) and copy the
    plots into PATH's directory under bench/.
    """
    with open(path) as f:
        doc = f.read()
    for name in ("results", "goals"):
        begin = "<!-- %s:begin -->" % name
        end = "<!-- %s:end -->" % name
        if begin not in doc:
            doc = doc.replace("\n%s\n" % name.upper(),
                              "\n%s\n%s\n" % (begin, end), 1)
    body = {"results": text, "goals": "\n".join(goal_lines(r))}
    for name, content in body.items():
        begin = "<!-- %s:begin -->" % name
        end = "<!-- %s:end -->" % name
        a = doc.find(begin)
        b = doc.find(end)
        if a < 0 or b < a:
            continue
        doc = doc[:a + len(begin)] + "\n" + content + "\n" + doc[b:]
    with open(path, "w") as f:
        f.write(doc)
    pdir = os.path.join(os.path.dirname(path) or ".", "bench")
    os.makedirs(pdir, exist_ok=True)
    for m in made:
        shutil.copy(m, pdir)


def main(argv):
    args = argv[1:]
    outdir = "out/bench"
    markdown = None
    doc = None
    do_check = False
    src = None
    while args:
        a = args.pop(0)
        if a == "--out":
            outdir = args.pop(0)
        elif a == "--markdown":
            markdown = args.pop(0)
        elif a == "--doc":
            doc = args.pop(0)
        elif a == "--check":
            do_check = True
        elif a.startswith("-"):
            print(__doc__, file=sys.stderr)
            return 2
        else:
            src = a
    if not src:
        print(__doc__, file=sys.stderr)
        return 2
    env, pp, pts, notes = load(src)
    os.makedirs(outdir, exist_ok=True)
    r = compute_ratios(pp, pts)
    text = tables(env, pp, pts, notes, r)
    print(text)
    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write(text + "\n")
    if markdown:
        with open(markdown, "w") as f:
            f.write(text + "\n")
    made = plots(pts, outdir)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"env": env, "pingpong": pp, "points": pts,
                   "ratios": r, "goals": GOALS, "notes": notes,
                   "plots": [os.path.basename(m) for m in made]}, f,
                  indent=1)
    if doc:
        fill_doc(doc, text, r, made)
    print("results: %s/results.json, plots: %s" % (
        outdir, ", ".join(os.path.basename(m) for m in made) or "none"))
    if do_check:
        return 0 if check(env, pp, pts, notes) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
