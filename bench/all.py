#!/usr/bin/python3
"""`make bench`: every benchmark of bench/ in one run, dock side by side with
its peers, and docs/benchmarks.md rewritten from the results.

    /usr/bin/python3 bench/all.py [--only core,ready,hook,io,logpath,rotate,exit] [--quick] [--no-write]

Parts, in this order (each writes its own section of docs/benchmarks.md):

  core    bench/run.py: start+exit, signal forwarding, an orphan storm as
          PID 1, idle memory and wake-ups, SIGTERM to exit; beside tini,
          tini-static, dumb-init and catatonit
  ready   bench/ready_latency.py: bind → `running`, and the CPU of waiting
  hook    bench/hook_latency.py: status change → PUT received
  io      bench/io_throughput.py: the log path beside cat, sed and s6-log
  logpath bench/log_path.py: a file and `-` beside tee; --log-timestamps
          beside s6-log t and moreutils' ts
  rotate  bench/rotate_stall.py: the longest write() stall at a rotation
  exit    bench/exit_under_load.py: SIGKILL of the command to dock's exit,
          as PID 1 under stress-ng, with no hook, a refusing and a hung one
          (last: its load must not disturb the other parts)

Then a summary section at the top of the file: the figures that have a
target, each with its verdict, and the machine and its load over the whole
run. --quick runs every part briefly to try the harness (and writes nothing);
--no-write leaves docs/benchmarks.md alone. About nine minutes in all on a
2-CPU VM.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import report

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
OUT = os.path.join(report.ROOT, "build", "bench")

PARTS = ["core", "ready", "hook", "io", "logpath", "rotate", "exit"]


def commands(quick, write, jpath):
    w = ["--write"] if write else []
    return {
        "core": [PY, os.path.join(HERE, "run.py"), "--json", jpath("core")] +
                (["--quick"] if quick else []) + ([] if write else ["--no-write"]),
        "ready": [PY, os.path.join(HERE, "ready_latency.py"), "--json", jpath("ready")] + w +
                 (["--runs", "5", "--late-runs", "5", "--wait", "4"] if quick else []),
        "hook": [PY, os.path.join(HERE, "hook_latency.py"), "10" if quick else "50", "--json", jpath("hook")] + w,
        "io": [PY, os.path.join(HERE, "io_throughput.py"), "--json", jpath("io")] + w +
              (["--size", "200M"] if quick else []),
        "logpath": [PY, os.path.join(HERE, "log_path.py"), "--json", jpath("logpath")] + w +
                   (["--size", "50M"] if quick else []),
        "rotate": [PY, os.path.join(HERE, "rotate_stall.py"), "--json", jpath("rotate")] + w +
                  (["--size-mb", "50", "--stall-only"] if quick else []),
        "exit": [PY, os.path.join(HERE, "exit_under_load.py"), "--json", jpath("exit")] + w +
                (["--runs", "1"] if quick else []),
    }


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def verdict(ok):
    return "n/a" if ok is None else ("**yes**" if ok else "**NO**")


def summary_rows(J):
    """(figure, target, dock, reference, met) rows from the parts' JSON."""
    rows = []
    core = (J.get("core") or {}).get("results") or {}
    start = core.get("start") or {}

    def med(name, key="median"):
        return (start.get(name) or {}).get(key)
    base, dock, cat = med("no init"), med("dock"), med("catatonit")
    if None not in (base, dock, cat):
        do, co = dock - base, cat - base
        rows.append(("start+exit of `dock -- /bin/true`: overhead over `/bin/true` alone, median",
                     "≤ ½ catatonit's", f"{do:.2f} ms", f"catatonit {co:.2f} ms ({do / co:.2f}×)" if co > 0 else
                     f"catatonit {co:.2f} ms", verdict(do <= co / 2)))
    cbase, cdock, ccat = med("no init", "cpu"), med("dock", "cpu"), med("catatonit", "cpu")
    if None not in (cbase, cdock, ccat):
        do, co = cdock - cbase, ccat - cbase
        rows.append(("… the same in CPU time (user + system) per run",
                     "≤ ½ catatonit's", f"{do:.2f} ms", f"catatonit {co:.2f} ms" +
                     (f" ({do / co:.2f}×)" if co > 0 else ""), verdict(do <= co / 2)))
    orph = core.get("orphans") or {}
    lags = {n: (v.get("lag") or {}).get("median") for n, v in orph.items()
            if isinstance(v, dict) and v.get("lag")}
    if lags.get("dock") is not None:
        peers = {n: v for n, v in lags.items() if n != "dock" and v is not None}
        if peers:
            bn = min(peers, key=peers.get)
            d, b = lags["dock"], peers[bn]
            p90 = ((orph.get(bn) or {}).get("lag") or {}).get("p90")
            ok = d <= b
            met = verdict(ok) if ok or p90 is None or d > p90 else f"**tie** (inside {bn}'s p10–p90)"
            rows.append(("1000 orphans as PID 1: delay after the last exit until all are reaped, median",
                         "≤ best peer", f"{d:.2f} ms", f"{bn} {b:.2f} ms", met))
    idle = core.get("idle") or {}
    if (idle.get("dock") or {}).get("VmRSS") is not None:
        rss = idle["dock"]["VmRSS"]
        # "dock:pid1" and "dock:linked" are dock again (as PID 1; the file
        # the linker wrote), not peers.
        peers = {n: v.get("VmRSS") for n, v in idle.items() if not n.startswith("dock") and isinstance(v, dict)}
        best = min((v, n) for n, v in peers.items() if v is not None) if peers else None
        also = [f"{label} {idle[k]['VmRSS']} kB" for k, label in (("dock:pid1", "as PID 1"),
                                                                 ("dock:linked", "build/dock as linked"))
                if (idle.get(k) or {}).get("VmRSS") is not None]
        worst = max([rss] + [idle[k]["VmRSS"] for k in ("dock:pid1", "dock:linked")
                             if (idle.get(k) or {}).get("VmRSS") is not None])
        rows.append(("idle RSS (VmRSS) of a `cp` copy of dock, plain child" + (f" ({', '.join(also)})" if also else ""),
                     "< 250 kB", f"{rss} kB", f"{best[1]} {best[0]} kB" if best else "", verdict(worst < 250)))
    ready = J.get("ready") or {}
    late = ready.get("late_debug")
    if late:
        rows.append(("port bound 2 s after start → `running`, median / max",
                     "≤ 5 ms / ≤ 15 ms", f"{late['median_ms']:.1f} / {late['max_ms']:.1f} ms ({late['n']} runs)",
                     "original dock: polled every 200 ms",
                     verdict(late["median_ms"] <= 5 and late["max_ms"] <= 15)))
    if ready.get("cpu_total") is not None:
        plain = max(ready["cpu_total"], ready["cpu_steady"])
        strict = max(ready.get("strict_cpu_total") or 0, ready.get("strict_cpu_steady") or 0)
        rows.append(("dock's CPU while waiting 10 s for a port never bound (over the wait, and from 2 s on: "
                     "the higher)", "< 1 % of a core", f"{100 * plain:.2f} %",
                     f"with `--strict-port-binding` and the port held outside the tree (the worst case): "
                     f"{100 * strict:.2f} %", verdict(plain < 0.01)))
    rot = J.get("rotate") or {}
    flat = rot.get("flat out")
    if flat:
        b, r = flat["baseline_max_ms"], flat["rotation_max_ms"]
        bound = max(b + 2, 1.5 * b)
        rows.append(("flat-out writer: longest write() with rotation vs without", "≤ max(+2 ms, 1.5×)",
                     f"{r:.2f} ms", f"without rotation {b:.2f} ms", verdict(r <= bound)))
    io = J.get("io") or {}
    ratios = io.get("ratios") or {}
    for name, target, bound in (("dock / cat (throughput, no prefix)", "≥ 0.90", 0.9),
                                ("dock prefix / s6-log t (throughput)", "≥ 2", 2.0)):
        if ratios.get(name) is not None:
            rows.append((name, target, f"{ratios[name]:.2f}", "", verdict(ratios[name] >= bound)))
    lp = (J.get("logpath") or {}).get("ratios") or {}
    if lp.get("dock stamps / s6-log t") is not None:
        v = lp["dock stamps / s6-log t"]
        rows.append(("`--log-timestamps` / s6-log t (throughput)", "≥ 2", f"{v:.2f}",
                     f"moreutils ts: ×{lp['dock stamps / ts']:.1f}" if lp.get("dock stamps / ts") else "",
                     verdict(v >= 2)))
    ex = (J.get("exit") or {}).get("hooks") or {}
    if ex:
        worst = max(ex, key=lambda h: ex[h]["max_s"])
        bound = ex[worst]["bound_s"]
        rows.append(("SIGKILL of the command → dock's exit, PID 1 under stress-ng, slowest run of every "
                     "hook case (none, refused, hung)", f"≤ {bound:g} s (the documented bound)",
                     f"{ex[worst]['max_s']:.2f} s ({worst})",
                     ", ".join(f"{h} median {v['median_s']:.2f} s" for h, v in ex.items()),
                     verdict(ex[worst]["max_s"] <= bound)))
    return rows


PEERS = ["dock", "tini", "tini-static", "dumb-init", "catatonit"]
BINARIES = {"dock": os.path.join(report.ROOT, "build", "dock"), "tini": "/usr/bin/tini",
            "tini-static": "/usr/bin/tini-static", "dumb-init": "/usr/bin/dumb-init",
            "catatonit": "/usr/bin/catatonit"}


def is_static(path):
    """True for an ELF file without a program interpreter (PT_INTERP)."""
    import struct
    try:
        with open(path, "rb") as f:
            h = f.read(64)
            if h[:4] != b"\x7fELF":
                return False
            b64, end = h[4] == 2, "<" if h[5] == 1 else ">"
            phoff, phentsize, phnum = (struct.unpack_from(end + "Q", h, 32)[0], *struct.unpack_from(end + "HH", h, 54)) \
                if b64 else (struct.unpack_from(end + "I", h, 28)[0], *struct.unpack_from(end + "HH", h, 42))
            f.seek(phoff)
            ph = f.read(phentsize * phnum)
    except OSError:
        return False
    return all(struct.unpack_from(end + "I", ph, i * phentsize)[0] != 3 for i in range(phnum))


def readme_block(J, env):
    """The README's comparison with the peers, from the core part's figures:
    the same run as docs/benchmarks.md, so the two never disagree."""
    core = (J.get("core") or {}).get("results") or {}
    start, sig, orph = core.get("start") or {}, core.get("signal") or {}, core.get("orphans") or {}
    idle, term = core.get("idle") or {}, core.get("term") or {}

    def g(d, *keys):
        for k in keys:
            d = d.get(k) if isinstance(d, dict) else None
        return d

    def minus(a, b):
        return None if a is None or b is None else a - b
    base, cbase = g(start, "no init", "median"), g(start, "no init", "cpu")
    rows = [
        ("start+exit of `INIT -- /bin/true`: time over `/bin/true` alone (ms, median)", 2,
         {n: minus(g(start, n, "median"), base) for n in PEERS}),
        ("… CPU time over `/bin/true` alone (ms)", 2, {n: minus(g(start, n, "cpu"), cbase) for n in PEERS}),
        ("signal forwarding overhead (µs)", 1, {n: g(sig, n, "overhead") for n in PEERS}),
        ("1000 orphans exiting at once, as PID 1: delay after the last exit until all are reaped "
         "(ms, median of 40)", 2, {n: g(orph, n, "lag", "median") for n in PEERS}),
        ("idle RSS (kB; each binary copied with `cp`, as an image holds it)", 0,
         {n: g(idle, n, "VmRSS") for n in PEERS}),
        ("idle wake-ups in 2 s", 0, {n: g(idle, n, "wakeups") for n in PEERS}),
        ("SIGTERM → exit, tree of 3 (ms)", 1, {n: g(term, n, "plain", "median") for n in PEERS}),
        ("… processes of the tree left running", 0, {n: g(term, n, "left") for n in PEERS}),
        ("static binary size (kB)", 0, {n: (os.path.getsize(BINARIES[n]) / 1000
                                            if os.path.exists(BINARIES[n]) and is_static(BINARIES[n]) else None)
                                        for n in PEERS}),
    ]
    lines = [f"Measured side by side in one run (`make bench`, {env['date']}, {env['nproc']} CPUs, Linux "
             f"{env['kernel']}, load average {env['load'][0]:.2f} at the start; the full tables, spreads and "
             "method are in docs/benchmarks.md). Lower is better; the best of each row in bold.", "",
             "| | " + " | ".join(PEERS) + " |", "|---|" + "---:|" * len(PEERS)]
    for label, digits, vals in rows:
        have = [v for v in vals.values() if v is not None]
        best = min(have) if have else None

        def cell(v):
            if v is None:
                return "–"
            t = f"{v:.{digits}f}"
            return f"**{t}**" if best is not None and f"{best:.{digits}f}" == t else t
        lines.append(f"| {label} | " + " | ".join(cell(vals[n]) for n in PEERS) + " |")
    return "\n".join(lines)


def write_readme(text):
    path = os.path.join(report.ROOT, "README.md")
    begin, end = "<!-- compare:begin -->", "<!-- compare:end -->"
    with open(path) as f:
        old = f.read()
    if begin not in old or end not in old:
        print("bench: README.md has no compare markers: its table is left alone", file=sys.stderr)
        return
    new = old[:old.index(begin)] + f"{begin}\n{text}\n{end}" + old[old.index(end) + len(end):]
    with open(path + ".tmp", "w") as f:
        f.write(new)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated parts (" + ",".join(PARTS) + ")")
    ap.add_argument("--quick", action="store_true", help="every part briefly; writes nothing")
    ap.add_argument("--no-write", action="store_true", help="leave docs/benchmarks.md alone")
    args = ap.parse_args()
    parts = args.only.split(",") if args.only else PARTS
    for p in parts:
        if p not in PARTS:
            sys.exit(f"bench: unknown part {p!r} (one of {', '.join(PARTS)})")
    if os.geteuid() != 0:
        sys.exit("bench: needs root (PID namespaces, nice -10)")
    write = not (args.quick or args.no_write)
    os.makedirs(OUT, exist_ok=True)

    def jpath(p):
        return os.path.join(OUT, f"{p}.json")
    cmds = commands(args.quick, write, jpath)
    env = report.machine()
    t0 = time.monotonic()
    took, failed = {}, {}
    for p in parts:
        if os.path.exists(jpath(p)):
            os.unlink(jpath(p))
        print(f"bench: {p}: {' '.join(os.path.relpath(c, report.ROOT) if c.startswith(report.ROOT) else c for c in cmds[p])}",
              file=sys.stderr, flush=True)
        t = time.monotonic()
        rc = subprocess.run(cmds[p], cwd=report.ROOT).returncode
        took[p] = time.monotonic() - t
        if rc != 0:
            failed[p] = rc
            print(f"bench: {p} failed (exit {rc})", file=sys.stderr, flush=True)
    load_end = os.getloadavg()
    seconds = time.monotonic() - t0

    J = {p: load(jpath(p)) for p in parts}
    rows = summary_rows(J)
    lines = ["## Summary", "",
             report.run_line(env, load_end, seconds, "make bench") +
             " Parts: " + ", ".join(f"{p} {took[p]:.0f} s" + (f" (**failed**, exit {failed[p]})" if p in failed else "")
                                    for p in parts) + ".", "",
             "| figure | target | dock | beside | met |", "|---|---|---|---|---|"]
    for figure, target, d, ref, met in rows:
        lines.append(f"| {figure} | {target} | {d} | {ref} | {met} |")
    lines += ["", "Every figure comes from the sections below, measured in this same run; peers "
              "are the Debian packages of tini, dumb-init, catatonit and s6 on the same machine."]
    text = "\n".join(lines)
    print("\n" + text)
    if write and "core" in parts and "core" not in failed:
        write_readme(readme_block(J, env))
    if write and set(parts) == set(PARTS):
        report.write_section("summary", text)
    elif write:
        print("bench: summary not written (only some parts ran)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
