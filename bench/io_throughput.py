#!/usr/bin/python3
"""I/O throughput benchmark of issue 3: a log path as fast as cat.

SIZE bytes (default 2 GB = 2e9; K/M/G are decimal) of 100-byte lines (`yes` with a 99-character
string, cut by `head -c`) go into a file, in one run, through:

  direct       the producer writes the file itself (no init; the floor)
  cat          producer | cat > FILE                        (the issue's baseline)
  dock         dock --io FILE -- producer
  s6-log       producer | s6-log -b n64 s100000000 DIR     (Debian s6)
  dock prefix  dock --io FILE --stdout-prefix 'x ' -- producer
  s6-log t     producer | s6-log -b n64 s100000000 t DIR   (TAI64N stamp)
  sed prefix   producer | sed 's/^/x /' > FILE             (a plain-prefix reference)

s6-log has no directive that adds a fixed prefix; its closest is `t` (a
TAI64N timestamp, "@" + 24 hex digits + " ", 26 bytes a line), so it writes
more bytes than dock's 2-byte prefix. Throughput is counted on the input
(SIZE / wall time) for every case. Every output is checked for its exact
size (and s6-log's directory summed over `current` and its archives).

The producer is identical in every case (`sh -c 'yes S | head -c SIZE'`)
and its cost is part of every figure; the "direct" case shows it alone.
CPU seconds (user+sys of the whole case, producer included, from
RUSAGE_CHILDREN) are reported beside wall time: on a loaded machine they
are steadier than MB/s. dock's VmRSS is sampled every 20 ms while it runs.

Rounds are interleaved (case order A B C ... per round) and the best wall
time of each case is reported. All files go to --dir, by default /dev/shm
(tmpfs), so the disk is out of the picture and every case has the same sink.

    /usr/bin/python3 bench/io_throughput.py [--size 2G] [--rounds 1] [--dir /dev/shm] [--dock PATH]
        [--write] [--json FILE]

Prints a Markdown table; --write also puts it into docs/benchmarks.md (the
`io` section).
"""

import argparse
import datetime
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

import report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCK = os.path.join(ROOT, "build", "dock")
S6LOG = shutil.which("s6-log") or "/usr/bin/s6-log"
LINE = "x" * 99                      # + "\n" = 100 bytes
PREFIX = "x "
S6_STAMP = 26                         # "@" + 24 hex + " "


def parse_size(text):
    m = re.fullmatch(r"(\d+)([KMG]?)", text.strip().upper())
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r}")
    n = int(m.group(1)) * {"": 1, "K": 10**3, "M": 10**6, "G": 10**9}[m.group(2)]
    if n % 100:
        raise argparse.ArgumentTypeError("size must be a multiple of 100 (whole lines)")
    return n


def vmrss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Case:
    def __init__(self, key, label, shown, argv, out, per_line_out, is_dock=False):
        self.key = key
        self.label = label          # name in the table
        self.shown = shown          # command as shown in the table
        self.argv = argv            # function(path) -> argv
        self.out = out              # "file" or "dir"
        self.per_line_out = per_line_out
        self.is_dock = is_dock
        self.walls = []
        self.cpus = []
        self.rss = []               # samples of the best... of all dock runs
        self.failures = []


def make_cases(size):
    prod = f"yes {LINE} | head -c {size}"
    sh = lambda tail: ["sh", "-c", prod + tail]
    return [
        Case("direct", "direct (no init)", "`yes … | head -c N > FILE`",
             lambda p: sh(f" > {p}"), "file", 100),
        Case("cat", "cat", "`yes … | head -c N | cat > FILE`",
             lambda p: sh(f" | cat > {p}"), "file", 100),
        Case("dock", "dock", "`dock --io FILE -- sh -c 'yes … | head -c N'`",
             lambda p: [DOCK, "--io", p, "--", "sh", "-c", prod], "file", 100, is_dock=True),
        Case("s6", "s6-log", "`… | s6-log -b n64 s100000000 DIR`",
             lambda p: sh(f" | {S6LOG} -b n64 s100000000 {p}"), "dir", 100),
        Case("dockp", "dock prefix", "`dock --io FILE --stdout-prefix 'x ' -- sh -c '…'`",
             lambda p: [DOCK, "--io", p, "--stdout-prefix", PREFIX, "--", "sh", "-c", prod], "file",
             100 + len(PREFIX), is_dock=True),
        Case("s6t", "s6-log t", "`… | s6-log -b n64 s100000000 t DIR`",
             lambda p: sh(f" | {S6LOG} -b n64 s100000000 t {p}"), "dir", 100 + S6_STAMP),
        Case("sed", "sed prefix", "`… | sed 's/^/x /' > FILE`",
             lambda p: sh(f" | sed 's/^/x /' > {p}"), "file", 100 + len(PREFIX)),
    ]


def output_bytes(case, path):
    if case.out == "file":
        return os.path.getsize(path) if os.path.exists(path) else 0
    total = 0
    if os.path.isdir(path):
        for name in os.listdir(path):
            if name == "current" or (name.startswith("@") and name.endswith((".s", ".u"))):
                total += os.path.getsize(os.path.join(path, name))
    return total


def content_ok(case, path):
    """Every line of a file output is exactly what was sent (prefix included)."""
    line = ((PREFIX if case.per_line_out == 100 + len(PREFIX) else "") + LINE + "\n").encode()
    block = line * 10000
    with open(path, "rb") as f:
        while True:
            chunk = f.read(len(block))
            if not chunk:
                return True
            if chunk != block[:len(chunk)]:
                return False


def run_case(case, size, workdir, timeout):
    """Runs one case once; returns (wall seconds, failure text or None)."""
    path = os.path.join(workdir, f"out-{case.key}")
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.unlink(path)
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.Popen(case.argv(path), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            r = vmrss_kb(p.pid)
            if r is not None:
                samples.append((time.monotonic() - t0, r))
            stop.wait(0.02)

    sampler = None
    if case.is_dock:
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
    stalled = False
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stalled = True
        os.kill(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.kill()
            p.wait()
    wall = time.monotonic() - t0
    stop.set()
    if sampler:
        sampler.join()
    err = p.stderr.read().decode(errors="replace").strip()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    got = output_bytes(case, path)
    want = size // 100 * case.per_line_out
    bad_content = case.out == "file" and got == want and not stalled and not content_ok(case, path)
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.unlink(path)
    if stalled:
        case.failures.append(f"stalled: killed after {timeout:.0f} s with {got} of {want} bytes written")
    elif p.returncode != 0:
        case.failures.append(f"exit {p.returncode}: {err[:200]}")
    elif got != want:
        case.failures.append(f"wrote {got} bytes, expected {want}")
    elif bad_content:
        case.failures.append("output differs from the input lines")
    else:
        case.walls.append(wall)
        case.cpus.append(cpu)
    if case.is_dock:
        case.rss.append(samples)
    if len(case.walls) and case.walls[-1] == wall:
        return wall, None
    return wall, case.failures[-1]


def fmt_rss(runs):
    vals = [r for samples in runs for _, r in samples]
    if not vals:
        return "–"
    # leave out the first 100 ms (exec, static binary being paged in)
    steady = [r for samples in runs for t, r in samples if t >= 0.1] or vals
    return f"{min(steady)}–{max(steady)} kB ({len(vals)} samples)"


def parse_args(doc, size, timeout, keys):
    """The options every throughput benchmark takes (this one and
    bench/log_path.py); returns them with args.dock made absolute and
    checked to exist."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--size", type=parse_size, default=parse_size(size))
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--dir", default="/dev/shm")
    ap.add_argument("--timeout", type=float, default=timeout, help="seconds before a run counts as stalled")
    ap.add_argument("--dock", default=DOCK, help="the dock binary (default build/dock)")
    ap.add_argument("--only", help=f"comma-separated case keys ({keys})")
    ap.add_argument("--write", action="store_true", help="write the table into docs/benchmarks.md")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    args.dock = os.path.abspath(args.dock)
    if not os.path.exists(args.dock):
        sys.exit(f"{args.dock} is missing: run `make` first")
    return args


def main():
    global DOCK
    args = parse_args(__doc__, "2G", 90.0, "direct,cat,dock,s6,dockp,s6t,sed")
    DOCK = args.dock
    if not os.path.exists(S6LOG):
        sys.exit("s6-log is missing: apt-get install s6")
    workdir = os.path.join(args.dir, f"dock-io-bench-{os.getpid()}")
    os.makedirs(workdir)
    fs = subprocess.run(["stat", "-f", "-c", "%T", workdir], capture_output=True, text=True).stdout.strip()
    free = shutil.disk_usage(workdir).free
    need = args.size * 13 // 10
    if free < need:
        shutil.rmtree(workdir)
        sys.exit(f"{workdir}: {free >> 20} MiB free, need {need >> 20} MiB")

    cases = make_cases(args.size)
    if args.only:
        keep = set(args.only.split(","))
        cases = [c for c in cases if c.key in keep]
    load0 = os.getloadavg()
    t_start = time.monotonic()
    try:
        for r in range(args.rounds):
            for c in cases:
                wall, failure = run_case(c, args.size, workdir, args.timeout)
                print(f"round {r + 1}: {c.label:12s} {wall:7.2f} s" + (f"  FAILED: {failure}" if failure else ""),
                      file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    total = time.monotonic() - t_start
    load1 = os.getloadavg()

    mb = args.size / 1e6
    best = {c.key: min(c.walls) if c.walls else None for c in cases}
    cpu = {c.key: min(c.cpus) if c.cpus else None for c in cases}

    size_txt = f"{args.size / 1e9:g} GB" if args.size >= 10**9 else f"{args.size / 1e6:g} MB"
    tee = report.Tee().__enter__()
    print(f"## I/O throughput ({size_txt} of 100-byte lines into a file)\n")
    print(f"Command: `/usr/bin/python3 bench/io_throughput.py --size {args.size} --rounds {args.rounds}`.")
    print(f"{datetime.date.today()}, {platform.node()}, Linux {platform.release()}, {os.cpu_count()} CPUs, "
          f"files on {args.dir} ({fs}); {args.rounds} round(s), best wall time of each; "
          f"load average {load0[0]:.1f} at start, {load1[0]:.1f} at end; whole run {total:.0f} s. "
          f"dock: {os.path.relpath(DOCK, ROOT) if DOCK.startswith(ROOT) else DOCK}, "
          f"{os.path.getsize(DOCK)} bytes.\n")
    if max(load0[0], load1[0]) > os.cpu_count():
        print(f"**Warning: the machine was loaded (load average up to {max(load0[0], load1[0]):.0f} on "
              f"{os.cpu_count()} CPUs) by other work: wall times and ratios are noisy; re-run on a quiet "
              f"machine with --rounds 3.**\n")
    print("| case | command | wall (best) | MB/s (input) | CPU s (all processes) | output bytes/line | dock RSS while running |")
    print("|---|---|---:|---:|---:|---:|---|")
    for c in cases:
        if c.walls:
            w = best[c.key]
            cells = f"{w:.2f} s | {mb / w:.0f} | {cpu[c.key]:.2f}"
            if len(c.walls) > 1:
                cells = f"{w:.2f} s (median {statistics.median(c.walls):.2f}) | {mb / w:.0f} | {cpu[c.key]:.2f}"
        else:
            cells = f"**{c.failures[0] if c.failures else 'not run'}** | – | –"
        rss = fmt_rss(c.rss) if c.is_dock else ""
        shown = c.shown.replace("|", "\\|")  # a pipe inside a table cell
        print(f"| {c.label} | {shown} | {cells} | {c.per_line_out} | {rss} |")

    def ratio(a, b):
        if best.get(a) and best.get(b):
            return best[b] / best[a]
        return None

    print()
    lines = []
    r = ratio("dock", "cat")
    lines.append(("dock / cat (throughput, no prefix)", r, "≥ 0.90"))
    r2 = ratio("dockp", "s6t")
    lines.append(("dock prefix / s6-log t (throughput)", r2, "≥ 2"))
    lines.append(("dock prefix / s6-log without a directive", ratio("dockp", "s6"), "(reference)"))
    lines.append(("dock prefix / sed prefix", ratio("dockp", "sed"), "(reference)"))
    lines.append(("dock prefix / cat", ratio("dockp", "cat"), "(reference)"))
    print("| ratio | value | issue 3 target |")
    print("|---|---:|---|")
    for name, val, target in lines:
        print(f"| {name} | {'%.2f' % val if val else '–'} | {target} |")
    print()
    print("Notes: without a prefix (and without rotation) dock hands the file's descriptor to the "
          "command, so the bytes never pass through dock: `dock` and `direct` do the same work. "
          "s6-log has no plain-prefix directive; `t` (TAI64N, 26 bytes a line) is its closest, so "
          "it also formats a timestamp per line and writes 24 more bytes a line than dock's 'x '. "
          "CPU seconds include the producer (`yes | head`), the same in every case.")
    report.finish(tee, "io", args.write, args.json,
                  {"best_s": best, "cpu_s": cpu, "mb": mb, "ratios": {n: v for n, v, _ in lines},
                   "failures": {c.key: c.failures for c in cases if c.failures},
                   "load": [load0, load1], "seconds": total})


if __name__ == "__main__":
    main()
