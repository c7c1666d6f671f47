#!/usr/bin/python3
"""Exit time on a loaded machine: from a SIGKILL of the main command to
dock's exit, with dock as PID 1 of a PID namespace, `--kill-timeout 3s`,
and a main command with children (four shell loops that ignore SIGTERM and
write and fsync files, as a database's workers would), while
`stress-ng --cpu 4 --io 2` loads the machine; without a web hook, with one
that refuses connections, and with one that accepts and never answers.

Each run prints the time and, from dock's -d stamps (milliseconds since its
start), where it went: the kill timeout, the SIGKILL rounds, the drain. The
bound is docs/decisions.md's formula: kill-timeout + 5 s (KILL re-sends,
only while something survives SIGKILL) + max(5 s, --web-hook-exit-timeout).
Run from the repository root after `make`, as root (`make bench` runs it as
its part "exit"):

    /usr/bin/python3 bench/exit_under_load.py [--runs 5] [--hooks none,refused,hung]
        [--dock PATH] [--write] [--json FILE]

Prints a Markdown table; --write also puts it into docs/benchmarks.md (the
section between <!-- exit:begin --> and <!-- exit:end -->).
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KILL_TIMEOUT = 3.0
FORMULA = KILL_TIMEOUT + 5.0 + max(5.0, 2.0)


def hung_server():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    held = []

    def accept():
        while True:
            try:
                held.append(s.accept()[0])
            except OSError:
                return
    threading.Thread(target=accept, daemon=True).start()
    return s


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def stamps(err):
    """{phase: seconds since dock's start} from its -d lines."""
    marks = {"ended": r"main command \(pid \d+\) ended", "kill": r"sending SIGKILL",
             "given up": r"survive SIGKILL", "drain": r"^draining", "exit": r"^exiting with"}
    out = {}
    for line in err.splitlines():
        m = re.match(r"^dock: \+(\d+)ms (.*)$", line)
        if not m:
            continue
        for name, rx in marks.items():
            if name not in out and re.search(rx, m.group(2)):
                out[name] = int(m.group(1)) / 1000
    return out


def one_run(dock, hook_args, work):
    script = ("for i in 1 2 3 4; do (trap '' TERM; while :; do "
              f"dd if=/dev/zero of={work}/f.$$.$i bs=64k count=32 conv=fsync 2>/dev/null; done) & done; wait")
    p = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", dock, "-d", "--kill-timeout",
                          f"{KILL_TIMEOUT:g}s"] + hook_args + ["sh", "-c", script],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    main = None
    while time.monotonic() < deadline:
        inits = children(p.pid)
        mains = children(inits[0]) if inits else []
        if mains and len(children(mains[0])) >= 4:
            main = mains[0]
            break
        time.sleep(0.05)
    if main is None:
        p.kill()
        raise RuntimeError("the command did not start its children")
    time.sleep(1.0)
    t0 = time.monotonic()
    os.kill(main, signal.SIGKILL)
    _, err = p.communicate(timeout=120)
    return time.monotonic() - t0, p.returncode, stamps(err.decode(errors="replace"))


HOOKS = ["none", "refused", "hung"]
HOOK_TEXT = {"none": "no hook", "refused": "hook refused (nothing listens)",
             "hung": "hook hung (accepts, never answers)"}


def hook_args(hook, srv):
    if hook == "hung":
        return ["--web-hook", f"http://127.0.0.1:{srv.getsockname()[1]}/h"]
    if hook == "refused":
        return ["--web-hook", f"http://127.0.0.1:{free_port()}/h"]
    return []


def med(values):
    return statistics.median(values) if values else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per hook case (default 5)")
    ap.add_argument("--hooks", default=",".join(HOOKS), help="comma-separated: " + ",".join(HOOKS))
    ap.add_argument("--dock", default=os.path.join(ROOT, "build", "dock"), help="the dock binary")
    ap.add_argument("--write", action="store_true", help="write the table into docs/benchmarks.md")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    hooks = args.hooks.split(",")
    for h in hooks:
        if h not in HOOKS:
            sys.exit(f"exit_under_load: unknown hook case {h!r} (one of {', '.join(HOOKS)})")
    dock = os.path.abspath(args.dock)
    if not os.path.exists(dock):
        sys.exit(f"{dock} is missing: run `make` first")
    if shutil.which("stress-ng") is None:
        sys.exit("stress-ng is not installed (scripts/deps.sh bench)")
    env = report.machine()
    t_start = time.monotonic()
    srv = hung_server() if "hung" in hooks else None
    work = tempfile.mkdtemp(prefix="dock-exit-load-")
    total_runs = args.runs * len(hooks)
    stress = subprocess.Popen(["stress-ng", "--cpu", "4", "--io", "2", "--timeout", f"{total_runs * 40 + 10}s"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    results = {}
    try:
        time.sleep(2)  # stress-ng's workers up and running before the first run
        for hook in hooks:
            r = results[hook] = {"times": [], "codes": [], "stamps": []}
            for i in range(args.runs):
                t, rc, st = one_run(dock, hook_args(hook, srv), work)
                r["times"].append(t)
                r["codes"].append(rc)
                r["stamps"].append(st)
                phases = ", ".join(f"{k} {v:.2f}" for k, v in sorted(st.items(), key=lambda kv: kv[1]))
                print(f"{hook} run {i + 1}: exit {t:.2f}s after SIGKILL (rc {rc}); dock's stamps: {phases}",
                      file=sys.stderr, flush=True)
    finally:
        os.killpg(stress.pid, signal.SIGTERM)
        stress.wait()
        shutil.rmtree(work, ignore_errors=True)
        if srv:
            srv.close()
    seconds = time.monotonic() - t_start
    load_end = os.getloadavg()

    tee = report.Tee().__enter__()
    print("## Exit time on a loaded machine\n")
    print(report.run_line(env, load_end, seconds,
                          f"/usr/bin/python3 bench/exit_under_load.py --runs {args.runs} --hooks {','.join(hooks)}"))
    print()
    print(f"dock is PID 1 of a PID namespace with `-d --kill-timeout {KILL_TIMEOUT:g}s`; its command is "
          "`sh -c` with four children that ignore SIGTERM and write and fsync files in a loop. "
          "Once they run (and 1 s more), the benchmark SIGKILLs `sh` and times dock's exit, while "
          "`stress-ng --cpu 4 --io 2` loads the machine. The bound is docs/decisions.md's formula, "
          f"{KILL_TIMEOUT:g} s + 5 s + max(5 s, 2 s) = {FORMULA:g} s. The phases come from dock's "
          "own `-d` stamps (medians): from the command's end to the first SIGKILL round (the kill "
          "timeout), and from the start of the drain (output, hook) to the exit.\n")
    print("| case | runs | SIGKILL → exit, median | max | kill timeout | drain | bound | within |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    out = {}
    for hook in hooks:
        r = results[hook]
        st = r["stamps"]
        kill = med([s["kill"] - s["ended"] for s in st if "kill" in s and "ended" in s])
        drain = med([s["exit"] - s["drain"] for s in st if "exit" in s and "drain" in s])
        mx = max(r["times"])
        ok = mx <= FORMULA and all(c == 137 for c in r["codes"])
        out[hook] = {"runs": len(r["times"]), "median_s": med(r["times"]), "max_s": mx,
                     "kill_timeout_s": kill, "drain_s": drain, "codes": r["codes"], "bound_s": FORMULA}
        f = lambda v: "–" if v is None else f"{v:.2f} s"
        print(f"| {HOOK_TEXT[hook]} | {len(r['times'])} | {f(med(r['times']))} | {f(mx)} | {f(kill)} | "
              f"{f(drain)} | {FORMULA:g} s | {'**yes**' if ok else '**NO**'} |")
    codes = sorted({c for h in hooks for c in results[h]["codes"]})
    print(f"\ndock's exit status in every run: {', '.join(map(str, codes))} (137: the command's "
          "SIGKILL, passed on). Before the fix of the exit path (6e0f532), a hung hook held the exit "
          "13.0 s in every run (the SIGKILL rounds, then the hook's pending statuses for the whole "
          "`--web-hook-timeout`); now the hook holds it `--web-hook-exit-timeout` (2 s) at most, and "
          "a refusing one less: it stops at the last retry that fits.")
    report.finish(tee, "exit", args.write, args.json, {"hooks": out, "bound_s": FORMULA, "seconds": seconds})
    return 0 if all(v["max_s"] <= FORMULA for v in out.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
