#!/usr/bin/python3
"""Log-path benchmark: several destinations and time stamps.

SIZE bytes (default 500 MB; K/M/G are decimal) of 100-byte lines (`yes` with
a 99-character string, cut by `head -c`) go, in one run, through:

  tee              producer | tee FILE > OUT               (a file and stdout)
  dock file + -    dock --io - --io FILE -- producer > OUT
  s6-log t         producer | s6-log -b n64 s100000000 t DIR   (TAI64N, 26 B a line)
  ts               producer | TZ=UTC ts '%Y-%m-%dT%H:%M:%.SZ' > FILE   (moreutils, 28 B)
  dock stamps      dock --log-timestamps --io FILE -- producer          (25 B a line)
  dock stamps + -  dock --log-timestamps --io - --io FILE -- producer > OUT

OUT is a file too, so every case writes its bytes to the same kind of sink.
The producer is the same in every case and its cost is part of every
figure. Throughput is counted on the input (SIZE / wall time). Every output
is checked for its exact size (s6-log's directory summed over `current` and
its archives) and, for the stamped ones, the form of its first line. CPU
seconds (user+sys of the whole case, producer included) are reported beside
wall time; dock's VmRSS is sampled every 20 ms.

Rounds are interleaved (A B C ... per round); the best wall time of each
case is reported. Files go to --dir, by default /dev/shm (tmpfs).

    /usr/bin/python3 bench/log_path.py [--size 500M] [--rounds 1] [--dir /dev/shm] [--dock PATH]
        [--write] [--json FILE]

Prints a Markdown table; --write also puts it into docs/benchmarks.md (the
section between <!-- logpath:begin --> and <!-- logpath:end -->). `make
bench` runs it as its part "logpath".
"""

import datetime
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import threading
import time

import report

# Shared with the issue-3 benchmark beside this file: sizes, VmRSS, and the
# bytes of an output (a file, or s6-log's directory).
from io_throughput import output_bytes, parse_args, vmrss_kb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCK = os.path.join(ROOT, "build", "dock")
LINE = "x" * 99                      # + "\n" = 100 bytes
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "TZ": "UTC"}

# First line of each stamped output: dock's RFC 3339 with ms, s6-log's
# TAI64N label, ts's strftime with microseconds.
DOCK_STAMP = rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "
FIRST = {
    "dockt": DOCK_STAMP, "dockt2": DOCK_STAMP,
    "s6t": rb"@[0-9a-f]{24} ",
    "ts": rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z ",
}


class Case:
    def __init__(self, key, label, shown, argv, per_line, stdout_per_line=0, out="file", is_dock=False):
        self.key, self.label, self.shown, self.argv = key, label, shown, argv
        self.per_line = per_line              # bytes a line in FILE (or DIR)
        self.stdout_per_line = stdout_per_line  # bytes a line in OUT (0: nothing there)
        self.out = out                        # "file" or "dir"
        self.is_dock = is_dock
        self.walls, self.cpus, self.rss, self.failures = [], [], [], []


def make_cases(size):
    prod = f"yes {LINE} | head -c {size}"
    sh = lambda tail: ["sh", "-c", prod + tail]
    s6 = shutil.which("s6-log") or "/usr/bin/s6-log"
    ts = shutil.which("ts") or "/usr/bin/ts"
    return [
        Case("tee", "tee", "`… | tee FILE > OUT`", lambda p: sh(f" | tee {p}"), 100, 100),
        Case("dock2", "dock file + -", "`dock --io - --io FILE -- sh -c '…' > OUT`",
             lambda p: [DOCK, "--io", "-", "--io", p, "--", "sh", "-c", prod], 100, 100, is_dock=True),
        Case("s6t", "s6-log t", "`… | s6-log -b n64 s100000000 t DIR`",
             lambda p: sh(f" | {s6} -b n64 s100000000 t {p}"), 126, out="dir"),
        Case("ts", "ts", "`… | ts '%Y-%m-%dT%H:%M:%.SZ' > FILE`",
             lambda p: sh(f" | {ts} '%Y-%m-%dT%H:%M:%.SZ' > {p}"), 128),
        Case("dockt", "dock stamps", "`dock --log-timestamps --io FILE -- sh -c '…'`",
             lambda p: [DOCK, "--log-timestamps", "--io", p, "--", "sh", "-c", prod], 125, is_dock=True),
        Case("dockt2", "dock stamps + -", "`dock --log-timestamps --io - --io FILE -- sh -c '…' > OUT`",
             lambda p: [DOCK, "--log-timestamps", "--io", "-", "--io", p, "--", "sh", "-c", prod], 125, 125,
             is_dock=True),
    ]




def first_line(case, path):
    if case.out == "dir":
        path = os.path.join(path, "current")
    try:
        with open(path, "rb") as f:
            return f.readline()
    except OSError:
        return b""


def remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.unlink(path)


def run_case(case, size, workdir, timeout):
    """Runs one case once; returns (wall seconds, failure text or None)."""
    path, out = os.path.join(workdir, f"out-{case.key}"), os.path.join(workdir, f"stdout-{case.key}")
    remove(path)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    samples, stop = [], threading.Event()
    with open(out, "wb") as stdout:
        t0 = time.monotonic()
        p = subprocess.Popen(case.argv(path), env=ENV, stdin=subprocess.DEVNULL, stdout=stdout,
                             stderr=subprocess.PIPE, start_new_session=True)

        def sample():
            while not stop.is_set():
                r = vmrss_kb(p.pid)
                if r is not None:
                    samples.append((time.monotonic() - t0, r))
                stop.wait(0.02)

        sampler = threading.Thread(target=sample, daemon=True) if case.is_dock else None
        if sampler:
            sampler.start()
        try:
            p.wait(timeout=timeout)
            stalled = False
        except subprocess.TimeoutExpired:
            stalled = True
            os.killpg(p.pid, 9)
            p.wait()
        wall = time.monotonic() - t0
    stop.set()
    if sampler:
        sampler.join()
    err = p.stderr.read().decode(errors="replace").strip()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = size // 100
    got, got_out = output_bytes(case, path), os.path.getsize(out)
    want, want_out = lines * case.per_line, lines * case.stdout_per_line
    first = first_line(case, path)
    form = FIRST.get(case.key, b"") + LINE.encode() + b"\n"
    remove(path)
    remove(out)
    if stalled:
        failure = f"stalled: killed after {timeout:.0f} s"
    elif p.returncode != 0:
        failure = f"exit {p.returncode}: {err[:200]}"
    elif (got, got_out) != (want, want_out):
        failure = f"wrote {got} + {got_out} bytes, expected {want} + {want_out}"
    elif not re.fullmatch(form, first):
        failure = f"first line {first[:60]!r} is not of the expected form"
    else:
        failure = None
        case.walls.append(wall)
        case.cpus.append(cpu)
    if failure:
        case.failures.append(failure)
    if case.is_dock:
        case.rss.append(samples)
    return wall, failure


def fmt_rss(runs):
    steady = [r for samples in runs for t, r in samples if t >= 0.1] or [r for s in runs for _, r in s]
    return f"{min(steady)}–{max(steady)} kB" if steady else "–"


def main():
    global DOCK
    args = parse_args(__doc__, "500M", 300.0, "tee,dock2,s6t,ts,dockt,dockt2")
    DOCK = args.dock
    for tool, pkg in (("s6-log", "s6"), ("ts", "moreutils")):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: scripts/deps.sh bench (Debian's {pkg})")
    workdir = os.path.join(args.dir, f"dock-logpath-bench-{os.getpid()}")
    os.makedirs(workdir)
    need = args.size * 27 // 10
    if shutil.disk_usage(workdir).free < need:
        shutil.rmtree(workdir)
        sys.exit(f"{workdir}: less than {need >> 20} MiB free")

    cases = make_cases(args.size)
    if args.only:
        cases = [c for c in cases if c.key in set(args.only.split(","))]
    load0, t_start = os.getloadavg(), time.monotonic()
    try:
        for r in range(args.rounds):
            for c in cases:
                wall, failure = run_case(c, args.size, workdir, args.timeout)
                print(f"round {r + 1}: {c.label:16s} {wall:7.2f} s" + (f"  FAILED: {failure}" if failure else ""),
                      file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    total, load1 = time.monotonic() - t_start, os.getloadavg()

    mb = args.size / 1e6
    best = {c.key: min(c.walls) for c in cases if c.walls}
    cpu = {c.key: min(c.cpus) for c in cases if c.cpus}
    tee = report.Tee().__enter__()
    print(f"## Log path: several destinations and time stamps ({args.size / 1e6:g} MB of 100-byte lines)\n")
    print(f"Command: `/usr/bin/python3 bench/log_path.py --size {args.size} --rounds {args.rounds}` "
          f"(files on {args.dir}; stdout of the two-destination cases is a file there too).\n")
    print(f"{datetime.date.today()}, {platform.node()}, Linux {platform.release()}, {os.cpu_count()} CPUs, "
          f"files on {args.dir}; {args.rounds} round(s), best wall time of each; load average "
          f"{load0[0]:.1f} at start, {load1[0]:.1f} at end; whole run {total:.0f} s.\n")
    if max(load0[0], load1[0]) > os.cpu_count():
        print(f"**Warning: the machine was loaded (load average up to {max(load0[0], load1[0]):.0f} on "
              f"{os.cpu_count()} CPUs) by other work: wall times and ratios are noisy.**\n")
    print("| case | command | wall (best) | MB/s (input) | CPU s (all processes) | bytes/line out | dock RSS |")
    print("|---|---|---:|---:|---:|---:|---|")
    for c in cases:
        if c.walls:
            cells = f"{best[c.key]:.2f} s | {mb / best[c.key]:.0f} | {min(c.cpus):.2f}"
        else:
            cells = f"**{c.failures[0] if c.failures else 'not run'}** | – | –"
        per = f"{c.per_line}" + (f" + {c.stdout_per_line}" if c.stdout_per_line else "")
        shown = c.shown.replace("|", "\\|")
        print(f"| {c.label} | {shown} | {cells} | {per} | {fmt_rss(c.rss) if c.is_dock else ''} |")

    def ratio(a, b):
        return best[b] / best[a] if a in best and b in best else None

    ratios = [("dock file + - / tee FILE", ratio("dock2", "tee"), "(measured)"),
              ("dock stamps / s6-log t", ratio("dockt", "s6t"), "≥ 2"),
              ("dock stamps / ts", ratio("dockt", "ts"), "(reference)"),
              ("dock stamps + - / s6-log t", ratio("dockt2", "s6t"), "(reference)")]
    print("\n| ratio (throughput) | value | target |")
    print("|---|---:|---|")
    for name, val, target in ratios:
        print(f"| {name} | {'%.2f' % val if val else '–'} | {target} |")
    print("\nNotes. With a file and `-`, dock reads each 64 KiB once and writes it to both without a "
          "copy while neither is behind (a copy into a destination's queue only when it is); `tee` "
          "reads 8 KiB at a time. On a loaded machine the wall-time ratio against `tee` swings widely "
          "from run to run (0.78 to 1.54 over five runs during development); CPU seconds are steadier. "
          "`--log-timestamps` reads the clock once per read and writes the cached stamp at each line "
          "start, where `s6-log t` formats a TAI64N label per line and moreutils' `ts` (Perl) calls "
          "strftime per line. With two destinations each renders its own copy (own stamps, own line "
          "state), so the stamped bytes are produced twice.")
    report.finish(tee, "logpath", args.write, args.json,
                  {"best_s": best, "cpu_s": cpu, "mb": mb, "ratios": {n: v for n, v, _ in ratios},
                   "failures": {c.key: c.failures for c in cases if c.failures},
                   "load": [load0, load1], "seconds": total})
    return 1 if any(c.failures for c in cases) else 0


if __name__ == "__main__":
    sys.exit(main())
