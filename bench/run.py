#!/usr/bin/python3
"""Core benchmark of issue 2: dock side by side with tini, tini-static,
dumb-init and catatonit, in one run.

Run it as `make bench` (which calls /usr/bin/python3 bench/run.py after the
dependencies and build/dock are in place). It builds its helpers from
bench/helpers/*.c into build/bench/, measures, prints a Markdown table and
writes it into docs/benchmarks.md between the markers
<!-- core:begin --> and <!-- core:end -->; the rest of that file is kept, so
later benchmarks add their own sections.

Measurements (every init gets the same command and the same conditions; the
rounds are interleaved so that a burst of load on the machine hits all of them
alike):
  1. start+exit of `INIT -- /bin/true`, timed in C (fork to reaped);
  2. signal round trip: SIGUSR1 to the init, forwarded to a child that answers
     with one byte on a pipe; compared with sending to the same child directly;
  3. reaping N orphans that exit at once, the init being PID 1 of a fresh PID
     namespace: the command waits until every orphan is gone (reaped) itself;
  4. idle RSS (VmRSS) of the init while it runs `sleep`;
  5. idle wake-ups: the init's context switches over 2 idle seconds;
  6. SIGTERM to the init until it exits, for `sh -c 'sleep & sleep & wait'`,
     as a plain child and as PID 1 of a PID namespace; processes left running
     afterwards are counted.
"""

import argparse
import ctypes
import datetime
import json
import os
import platform
import random
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import psutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELPERS_SRC = os.path.join(ROOT, "bench", "helpers")
HELPERS_BIN = os.path.join(ROOT, "build", "bench")
DOCK = os.path.join(ROOT, "build", "dock")
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
BEGIN, END = "<!-- core:begin -->", "<!-- core:end -->"

# name, binary, argv before the command (each peer's documented convention).
INITS = [
    ("dock", DOCK, ["--"]),
    ("tini", "/usr/bin/tini", ["--"]),
    ("tini-static", "/usr/bin/tini-static", ["--"]),
    ("dumb-init", "/usr/bin/dumb-init", []),
    ("catatonit", "/usr/bin/catatonit", ["--"]),
]
PEER_PACKAGES = {"tini": "tini", "tini-static": "tini", "dumb-init": "dumb-init",
                 "catatonit": "catatonit"}

TREE = "sleep 100 & sleep 100 & wait"  # a tree that obeys SIGTERM


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# helpers


def build_helpers():
    """Compiles this benchmark's helpers from bench/helpers/ (static, musl
    when available) when stale."""
    os.makedirs(HELPERS_BIN, exist_ok=True)
    compilers = [c for c in ("musl-gcc", "gcc") if shutil.which(c)]
    if not compilers:
        sys.exit("bench: no C compiler (musl-gcc or gcc) found")
    bins = {}
    for name in ("spawnloop", "sigrtt", "sigecho", "orphans"):
        src = name + ".c"
        path = os.path.join(HELPERS_SRC, src)
        out = os.path.join(HELPERS_BIN, name)
        bins[name] = out
        if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(path):
            continue
        for cc in compilers:
            cmd = [cc, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-static", "-o", out, path]
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode == 0:
                break
            log(f"bench: {' '.join(cmd)} failed:\n{r.stdout}")
        else:
            sys.exit(f"bench: cannot build helper {src}")
    return bins


def set_subreaper():
    """Orphans of the plain-mode runs (a peer that leaves its grandchildren
    behind) come to us, so they can be counted, killed and reaped."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        log("bench: warning: cannot become a child subreaper")


def reap_strays():
    """Reaps orphans that were reparented to us (only called while no
    subprocess of ours is pending)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_tree_leftovers(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    time.sleep(0.05)
    reap_strays()


def proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def alive(pid):
    s = proc_state(pid)
    return s is not None and s not in ("Z", "X")


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.005)
    raise TimeoutError(what)


def descendants(pid):
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def names_of(procs):
    out = []
    for p in procs:
        try:
            out.append(p.name())
        except psutil.NoSuchProcess:
            pass
    return out


def exit_poller(pid):
    """A pidfd and a poll object that turns readable when pid exits (becomes
    a zombie). Works for a process that is not our child (the init under
    unshare) and times the exit without a sleep loop."""
    fd = os.pidfd_open(pid)
    try:
        p = select.poll()
        p.register(fd, select.POLLIN)
        return fd, p
    except Exception:
        os.close(fd)
        raise


class Rounds:
    """Up to `planned` rounds, but no new one once `budget` seconds have
    passed (after at least `minimum`): keeps `make bench` within its time
    on a busy machine. `done` is the number run; the report states it."""

    def __init__(self, planned, budget, minimum):
        self.planned, self.budget, self.minimum = planned, budget, min(minimum, planned)
        self.done = 0

    def __iter__(self):
        t0 = time.monotonic()
        for i in range(self.planned):
            if i >= self.minimum and time.monotonic() - t0 > self.budget:
                log(f"      time budget of this part used up: {i} of {self.planned} rounds")
                return
            yield i
            self.done = i + 1


def stats(samples):
    s = sorted(samples)
    n = len(s)
    return {
        "n": n,
        "median": statistics.median(s),
        "mean": statistics.fmean(s),
        "p10": s[int(n * 0.10)],
        "p90": s[min(n - 1, int(n * 0.90))],
        "min": s[0],
    }


def run_lines(cmd, timeout):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


# --------------------------------------------------------------------------
# 1. start + exit


def bench_start(inits, bins, rounds, per_round):
    log(f"[1/6] start+exit of INIT -- /bin/true: {rounds.planned} rounds x {per_round} runs")
    targets = [("no init", [])] + [(n, [b] + pre) for n, b, pre in inits]
    samples = {n: [] for n, _ in targets}
    cpu = {n: [] for n, _ in targets}
    failures = {}
    for _ in rounds:
        order = targets[:]
        random.shuffle(order)
        for name, prefix in order:
            # One extra run first, discarded: page cache and first-exec costs.
            rc, out, err = run_lines([bins["spawnloop"], str(per_round + 1)] + prefix + ["/bin/true"], 120)
            lines = out.split("\n")
            vals = [int(x) / 1e6 for x in lines if x.strip().isdigit()][1:]
            for line in lines:
                if line.startswith("cpu "):
                    # CPU of the whole round (warm-up included), per run
                    cpu[name].append(int(line.split()[1]) / 1e6 / (per_round + 1))
            if rc != 0:
                failures[name] = f"`{' '.join(prefix + ['/bin/true'])}`: {err.strip()}"
            samples[name].extend(vals)
    res = {n: (stats(v) if v else None) for n, v in samples.items()}
    for n, r in res.items():
        if r and cpu[n]:
            r["cpu"] = statistics.median(cpu[n])
    return res, failures


# --------------------------------------------------------------------------
# 2. signal round trip


def bench_signal(inits, bins, rounds, per_round, cpu):
    """All processes of a round trip share one CPU: the number is then the
    work the init adds (a wake-up, a signalfd read, a kill), without the
    latency of waking an idle virtual CPU, which varies from run to run."""
    log(f"[2/6] signal round trip: {rounds.planned} rounds x {per_round} round trips, on CPU {cpu}")
    targets = [("no init", [])] + [(n, [b] + pre) for n, b, pre in inits]
    samples = {n: [] for n, _ in targets}
    failures = {}
    warm = max(50, per_round // 10)
    for _ in rounds:
        order = targets[:]
        random.shuffle(order)
        for name, prefix in order:
            cmd = [bins["sigrtt"], str(per_round + warm)] + prefix + [bins["sigecho"]]
            try:
                r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
                                   preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
                rc, out, err = r.returncode, r.stdout, r.stderr
            except subprocess.TimeoutExpired:
                failures[name] = "round trips stalled (timeout)"
                continue
            if rc != 0:
                failures[name] = err.strip() or f"exit {rc}"
                continue
            samples[name].extend(int(x) / 1e3 for x in out.split()[warm:])
    res = {n: (stats(v) if v else None) for n, v in samples.items()}
    base = res["no init"]["median"] if res["no init"] else None
    for n, r in res.items():
        if r and base is not None:
            r["overhead"] = r["median"] - base
    return res, failures


# --------------------------------------------------------------------------
# 3. orphan storm as PID 1


def bench_orphans(inits, bins, rounds, n_orphans):
    log(f"[3/6] reaping {n_orphans} orphans as PID 1: {rounds.planned} rounds")
    reap = {n: [] for n, _, _ in inits}
    lag = {n: [] for n, _, _ in inits}
    exits = []
    failures = {}
    for _ in rounds:
        order = inits[:]
        random.shuffle(order)
        for name, binary, pre in order:
            cmd = ["unshare", "--pid", "--fork", "--mount-proc", binary] + pre + [bins["orphans"], str(n_orphans)]
            try:
                rc, out, err = run_lines(cmd, 60)
            except subprocess.TimeoutExpired:
                failures[name] = "did not finish within 60 s"
                continue
            m = re.search(r"reap_ns=(\d+) exit_ns=(\d+)", out)
            if rc != 0 or not m:
                failures[name] = (err.strip().splitlines() or [f"exit {rc}"])[-1]
                continue
            r, e = int(m.group(1)) / 1e6, int(m.group(2)) / 1e6
            reap[name].append(r)
            lag[name].append(r - e)
            exits.append(e)
    res = {n: {"reap": stats(reap[n]), "lag": stats(lag[n])} if reap[n] else None for n in reap}
    res["_exit_us_each"] = statistics.median(exits) * 1e3 / n_orphans if exits else None
    return res, failures


# --------------------------------------------------------------------------
# 4 + 5. idle RSS and wake-ups


def ctx_switches(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
    return total


def vm_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                out[k] = int(v.split()[0])
    return out


def installed_copies(inits):
    """Each init copied with cp(1) into build/bench/idle/, as an image layer
    or an installer writes a binary: in large writes, so that on a kernel
    with large folios in the page cache (Linux 6.18 on ext4 here) the file's
    cached pages come in large folios, unlike the file the linker wrote.
    Whether a read fault maps a 64 KiB block or a whole folio then depends
    on that, and so does the resident code of an idle init."""
    out = os.path.join(HELPERS_BIN, "idle")
    os.makedirs(out, exist_ok=True)
    copies = []
    for name, binary, pre in inits:
        dst = os.path.join(out, name)
        if os.path.exists(dst):
            os.unlink(dst)  # a new file, so no folio of an old copy is reused
        subprocess.run(["cp", binary, dst], check=True)
        copies.append((name, dst, pre))
    return copies


def bench_idle(inits, window):
    log(f"[4-5/6] idle RSS and wake-ups over {window:g} s (all inits in parallel, each running sleep)")
    procs = {}
    errs = {}
    failures = {}
    res = {}
    copies = installed_copies(inits)
    runs = [(name, binary, pre, []) for name, binary, pre in copies]
    # dock twice more: as the linker wrote it (build/dock, small folios), and
    # its copy as PID 1 of a PID namespace (what a container runs).
    if any(name == "dock" for name, _, _ in inits):
        pre = ["--"]
        runs.append(("dock:linked", DOCK, pre, []))
        runs.append(("dock:pid1", dict((n, b) for n, b, _ in copies)["dock"], pre,
                     ["unshare", "--pid", "--fork", "--mount-proc"]))
    for name, binary, pre, wrap in runs:
        errs[name] = tempfile.TemporaryFile()
        procs[name] = subprocess.Popen(wrap + [binary] + pre + ["/bin/sleep", "1000"],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errs[name])
    # The init's pid: under unshare, unshare's child.
    pids = {}
    try:
        for name, p in procs.items():
            try:
                wait_for(lambda: "sleep" in names_of(descendants(p.pid)), 10, "sleep child")
                pids[name] = p.pid if not name.endswith(":pid1") else descendants(p.pid)[0].pid
            except (TimeoutError, IndexError):
                errs[name].seek(0)
                why = errs[name].read().decode(errors="replace").strip().splitlines()
                failures[name] = "never started its sleep child" + (f": {why[-1]}" if why else "")
        # Let every init finish whatever it does after the exec of its child.
        time.sleep(0.3)
        before = {}
        for name, p in procs.items():
            if name not in failures:
                before[name] = ctx_switches(pids[name])
        time.sleep(window)
        for name, p in procs.items():
            if name in failures:
                continue
            if p.poll() is not None:
                failures[name] = f"exited during the idle window (status {p.returncode})"
                continue
            after = ctx_switches(pids[name])
            res[name] = {"wakeups": after - before[name], **vm_status(pids[name]),
                         "threads": len(os.listdir(f"/proc/{pids[name]}/task"))}
    finally:
        for name, p in procs.items():
            if p.poll() is None:
                # The init itself: unshare does not pass SIGTERM on.
                try:
                    os.kill(pids.get(name, p.pid), signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, p in procs.items():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        reap_strays()
    return res, failures


# --------------------------------------------------------------------------
# 6. SIGTERM to exit


def term_once_plain(binary, pre, timeout=10.0):
    p = subprocess.Popen([binary] + pre + ["/bin/sh", "-c", TREE],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: names_of(descendants(p.pid)).count("sleep") == 2, 10, "tree")
        time.sleep(0.02)
        tree = [c.pid for c in descendants(p.pid)]
        fd, poller = exit_poller(p.pid)
        t0 = time.perf_counter()
        os.kill(p.pid, signal.SIGTERM)
        ev = poller.poll(timeout * 1000)
        t1 = time.perf_counter()
        os.close(fd)
        if not ev:
            p.kill()
            p.wait()
            kill_tree_leftovers(tree)
            return None, 0, f"still running {timeout:g} s after SIGTERM"
        p.wait()
        # Whatever obeyed SIGTERM is dead after this grace; the rest was left behind.
        time.sleep(0.2)
        left = [pid for pid in tree if alive(pid)]
        kill_tree_leftovers(left)
        return (t1 - t0) * 1e3, len(left), None
    except Exception:
        if p.poll() is None:
            p.kill()
            p.wait()
        raise
    finally:
        reap_strays()


def term_once_ns(binary, pre, timeout=10.0):
    p = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", binary] + pre + ["/bin/sh", "-c", TREE],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        init = wait_for(lambda: (psutil.Process(p.pid).children() or [None])[0], 10, "init under unshare")
        wait_for(lambda: names_of(descendants(init.pid)).count("sleep") == 2, 10, "tree")
        time.sleep(0.02)
        fd, poller = exit_poller(init.pid)
        t0 = time.perf_counter()
        os.kill(init.pid, signal.SIGTERM)
        ev = poller.poll(timeout * 1000)
        t1 = time.perf_counter()
        os.close(fd)
        if not ev:
            init.kill()
            p.wait()
            return None, f"still running {timeout:g} s after SIGTERM"
        p.wait(timeout=10)
        return (t1 - t0) * 1e3, None
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def bench_term(inits, rounds):
    log(f"[6/6] SIGTERM to exit, sh -c '{TREE}': {rounds.planned} rounds, plain and as PID 1")
    plain = {n: [] for n, _, _ in inits}
    left = {n: [] for n, _, _ in inits}
    ns = {n: [] for n, _, _ in inits}
    failures = {}
    for _ in rounds:
        order = inits[:]
        random.shuffle(order)
        for name, binary, pre in order:
            try:
                ms, nleft, why = term_once_plain(binary, pre)
                if why:
                    failures[name + " plain"] = why
                else:
                    plain[name].append(ms)
                    left[name].append(nleft)
                ms, why = term_once_ns(binary, pre)
                if why:
                    failures[name + " ns"] = why
                else:
                    ns[name].append(ms)
            except TimeoutError as e:
                failures[name] = f"tree never came up ({e})"
    res = {}
    for n, _, _ in inits:
        res[n] = {"plain": stats(plain[n]) if plain[n] else None,
                  "left": max(left[n]) if left[n] else None,
                  "ns": stats(ns[n]) if ns[n] else None}
    return res, failures


# --------------------------------------------------------------------------
# report


def sh(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def environment():
    pkgs = sh(["dpkg-query", "-W", "tini", "dumb-init", "catatonit"]).splitlines()
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    dock_v = sh([DOCK, "--version"]) if os.path.exists(DOCK) else "not built"
    rev = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    if not re.fullmatch(r"[0-9a-f]{4,40}", rev):
        rev = "no commit yet"
    elif sh(["git", "-C", ROOT, "status", "--porcelain", "--", "src"]):
        rev += " + uncommitted changes in src/"
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": sh(["nproc"]),
        "kernel": platform.release(),
        "cpu": cpu,
        "mem_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "packages": [p.replace("\t", " ") for p in pkgs],
        "dock": dock_v.replace("\n", " "),
        "rev": rev,
    }


def fmt(v, digits):
    if v is None:
        return "—"
    return f"{v:.{digits}f}"


def cell(v, dock_v, digits, ratio=True):
    if v is None:
        return "failed"
    s = fmt(v, digits)
    if ratio and dock_v is not None and dock_v > 0 and v > 0:
        s += f" (×{v / dock_v:.2f})"
    return s


def verdict(ok, detail=""):
    if ok is None:
        return "n/a"
    return ("**yes**" if ok else "**NO**") + (f" ({detail})" if detail else "")


def render(env, names, R, args):
    start, sig, orph, idle, term = R["start"], R["signal"], R["orphans"], R["idle"], R["term"]
    peers = [n for n in names if n != "dock"]
    has_dock = "dock" in names
    cols = ["measurement", "target for dock", "no init"] + names + ["dock meets target"]
    rows = []

    def get(table, name, *keys):
        v = table.get(name)
        for k in keys:
            if v is None:
                return None
            v = v.get(k)
        return v

    def best_peer(values):
        vals = [(v, n) for n, v in values.items() if n in peers and v is not None]
        return min(vals) if vals else (None, None)

    def row(label, target, base, values, digits, check, ratio=True):
        d = values.get("dock")
        cells = [label, target, fmt(base, digits) if base is not None else ""]
        for n in names:
            if n == "dock":
                cells.append(fmt(d, digits) if d is not None else "failed")
            else:
                cells.append(cell(values.get(n), d, digits, ratio))
        cells.append(check(d) if has_dock else "n/a")
        rows.append(cells)

    # 1
    v = {n: get(start, n, "median") for n in names}
    cat = v.get("catatonit")
    row("start+exit of `INIT -- /bin/true`, median (ms)", "≤ catatonit", get(start, "no init", "median"), v, 2,
        lambda d: verdict(None if d is None or cat is None else d <= cat,
                          "" if d is None or cat is None else f"{(d / cat - 1) * 100:+.0f}% vs catatonit"))
    base = get(start, "no init", "median")
    v = {n: (get(start, n, "median") - base if get(start, n, "median") is not None and base is not None else None)
         for n in names}
    cat_o = v.get("catatonit")
    row("… overhead over running `/bin/true` directly (ms)", "≤ ½ catatonit's", None, v, 2,
        lambda d: verdict(None if d is None or cat_o is None else d <= cat_o / 2,
                          "" if d is None or cat_o is None or cat_o <= 0 else f"{d / cat_o:.2f} of catatonit's"))
    cbase = get(start, "no init", "cpu")
    v = {n: (get(start, n, "cpu") - cbase if get(start, n, "cpu") is not None and cbase is not None else None)
         for n in names}
    cat_c = v.get("catatonit")
    row("… its CPU time (user + system, all processes), overhead per run (ms)", "", None, v, 2,
        lambda d: "" if d is None or cat_c is None or cat_c <= 0 else f"{d / cat_c:.2f} of catatonit's")
    v = {n: get(start, n, "mean") for n in names}
    row("start+exit, mean (ms)", "", get(start, "no init", "mean"), v, 2, lambda d: "")
    # 2
    v = {n: get(sig, n, "median") for n in names}
    row("signal round trip, median (µs)", "", get(sig, "no init", "median"), v, 1, lambda d: "")
    v = {n: get(sig, n, "overhead") for n in names}
    bp, bn = best_peer(v)
    row("signal round trip, overhead of the init (µs)", "≤ best peer", None, v, 1,
        lambda d: verdict(None if d is None or bp is None else d <= bp,
                          "" if d is None or bp is None else f"best peer {bn}: {bp:.1f} µs"))
    # 3
    v = {n: get(orph, n, "reap", "median") for n in names}
    bp, bn = best_peer(v)

    def orphan_verdict(d):
        if d is None or bp is None:
            return "n/a"
        if d <= bp:
            return verdict(True, f"best peer {bn}: {bp:.1f} ms")
        p90 = get(orph, bn, "reap", "p90")
        if d <= p90:
            # The kernel's exit work dominates and varies from storm to storm.
            return (f"**tie** (best peer {bn}: {bp:.1f} ms; dock's median is inside its "
                    f"p10–p90 {get(orph, bn, 'reap', 'p10'):.1f}–{p90:.1f})")
        return verdict(False, f"best peer {bn}: {bp:.1f} ms")
    row(f"reap {args.orphans} orphans that exit at once, as PID 1, median (ms)", "≤ best peer", None, v, 1,
        orphan_verdict)
    v = {n: get(orph, n, "lag", "median") for n in names}
    lbp, lbn = best_peer(v)

    def lag_verdict(d):
        if d is None or lbp is None:
            return "n/a"
        if d <= lbp:
            return verdict(True, f"best peer {lbn}: {lbp:.2f} ms")
        p90 = get(orph, lbn, "lag", "p90")
        if d <= p90:
            return (f"**tie** (best peer {lbn}: {lbp:.2f} ms; dock's median is inside its "
                    f"p10–p90 {get(orph, lbn, 'lag', 'p10'):.2f}–{p90:.2f})")
        return verdict(False, f"best peer {lbn}: {lbp:.2f} ms")
    row("… of which after the last orphan exited, median (ms)", "≤ best peer", None, v, 2, lag_verdict)
    # 4
    v = {n: get(idle, n, "VmRSS") for n in names}
    row("idle RSS, VmRSS (kB)", "< 250 kB", None, v, 0,
        lambda d: verdict(None if d is None else d < 250))
    # 5
    v = {n: get(idle, n, "wakeups") for n in names}
    row(f"idle wake-ups (context switches in {args.idle:g} s)", "0", None, v, 0,
        lambda d: verdict(None if d is None else d == 0), ratio=False)
    # 6
    v = {n: get(term, n, "plain", "median") for n in names}
    row("SIGTERM → exit, plain child (ms), median", "< 100 ms", None, v, 1,
        lambda d: verdict(None if d is None else d < 100))
    v = {n: get(term, n, "left") for n in names}
    row("… processes of the tree left running", "0", None, v, 0,
        lambda d: verdict(None if d is None else d == 0), ratio=False)
    v = {n: get(term, n, "ns", "median") for n in names}
    row("SIGTERM → exit, as PID 1 of a PID namespace (ms), median", "< 100 ms", None, v, 1,
        lambda d: verdict(None if d is None else d < 100))

    out = []
    out.append("| " + " | ".join(cols) + " |")
    out.append("|" + "|".join(["---", "---", "---:"] + ["---:"] * len(names) + ["---"]) + "|")
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    table = "\n".join(out)
    return table


def details(names, R, args):
    """Spread of the timed samples, so a reader can judge the noise."""
    lines = ["| measurement | " + " | ".join(["no init"] + names) + " |",
             "|---|" + "---:|" * (len(names) + 1)]

    def spread(st, digits):
        if not st:
            return ""
        return f"{st['p10']:.{digits}f}–{st['p90']:.{digits}f} (n={st['n']})"

    lines.append("| start+exit p10–p90 (ms) | " + " | ".join(
        spread(R["start"].get(n), 2) for n in ["no init"] + names) + " |")
    lines.append("| signal round trip p10–p90 (µs) | " + " | ".join(
        spread(R["signal"].get(n), 1) for n in ["no init"] + names) + " |")
    lines.append("| orphans: reap time p10–p90 (ms) | | " + " | ".join(
        spread((R["orphans"].get(n) or {}).get("reap"), 1) for n in names) + " |")
    lines.append("| orphans: after the last exit p10–p90 (ms) | | " + " | ".join(
        spread((R["orphans"].get(n) or {}).get("lag"), 2) for n in names) + " |")
    lines.append("| SIGTERM → exit plain p10–p90 (ms) | | " + " | ".join(
        spread((R["term"].get(n) or {}).get("plain"), 1) for n in names) + " |")
    lines.append("| SIGTERM → exit PID 1 p10–p90 (ms) | | " + " | ".join(
        spread((R["term"].get(n) or {}).get("ns"), 1) for n in names) + " |")
    lines.append("| idle RSS: RssAnon / RssFile (kB) | | " + " | ".join(
        (f"{R['idle'][n].get('RssAnon', '?')} / {R['idle'][n].get('RssFile', '?')}" if n in R["idle"] else "")
        for n in names) + " |")
    return "\n".join(lines)


def section(env, names, R, args, table, detail):
    pk = ", ".join(f"`{p}`" for p in env["packages"])
    busy = (" (other work was running on the machine: the timings are noisier than on an idle one)"
            if max(float(env["load"].split()[0]), float(env["load_end"].split()[0])) > 0.5 * int(env["nproc"] or 1)
            else "")
    fails = R["failures"]
    notes = []
    left = {n: (R["term"].get(n) or {}).get("left") for n in names}
    leavers = [n for n, v in left.items() if v]
    if leavers:
        notes.append("- **Left behind on SIGTERM (plain child):** " + ", ".join(
            f"{n} ({left[n]} of 3)" for n in leavers) +
            " forward SIGTERM to the main command only and exit as soon as it is gone; the "
            "`sleep`s that `sh` had started keep running, orphaned (here the benchmark, a subreaper, "
            "collects and kills them). Their short time in that row is the time to abandon the "
            "tree, not to stop it. As PID 1 of a namespace the kernel kills what is left when the "
            "init exits, so there the difference disappears.")
    if fails:
        notes.append("- **Failures in this run:** " + "; ".join(f"{k}: {v}" for k, v in sorted(fails.items())))
    return f"""{BEGIN}
## Core: dock beside tini, dumb-init and catatonit

Command: `/usr/bin/python3 bench/run.py{measuring_args(args)}` (part of `make bench`),
at nice {args.nice}, in {args.elapsed:.0f} s.
Run: {env['date']}; `nproc` {env['nproc']}, kernel {env['kernel']}, {env['cpu']}, {env['mem_gb']} GiB;
load average at start {env['load']}, at the end {env['load_end']}{busy}.
dock: {env['dock']} ({env['rev']}). Peers (`dpkg-query -W`): {pk}; tini and tini-static come from the `tini` package.

Lower is better everywhere. "×r" after a peer's number is the peer's value divided by dock's
(above 1: dock is better). "no init" runs the same command without any init, as the baseline.

{table}

How each number is taken (all timing in C helpers in `bench/helpers/`, or with a pidfd, never
around a Python call; the inits run interleaved, in shuffled order, round after round):

1. **start+exit**: `bench/helpers/spawnloop.c` forks and execs `INIT -- /bin/true`
   {args.start_rounds}×{args.start_runs} times (one discarded warm-up per round) and times each
   run from fork to reaped; the overhead is the median minus that of running `/bin/true`
   without an init. The CPU row is the median over rounds of the CPU time (RUSAGE_CHILDREN)
   of a round divided by its runs, minus the same for `/bin/true` alone: on a loaded machine
   it moves less than wall time. Calling conventions: `tini -- CMD`, `tini-static -- CMD`,
   `dumb-init CMD`, `catatonit -- CMD`, `dock -- CMD`; none is PID 1 here (tini warns about that
   on stderr, discarded).
2. **signal round trip**: `sigrtt.c` starts `INIT -- sigecho` with sigecho's stdout on a pipe,
   sends SIGUSR1 to the init and waits for the byte sigecho writes for each SIGUSR1
   ({args.sig_rounds}×{args.sig_trips} round trips after a warm-up). "no init" sends to sigecho
   directly; the overhead is the init's median minus that one. All three processes are pinned
   to CPU {args.cpu}, so the number is the init's own work (wake-up, read the signal, `kill`),
   not the latency of waking an idle virtual CPU.
3. **orphans**: `unshare --pid --fork --mount-proc INIT -- orphans {args.orphans}`. `orphans.c`
   forks {args.orphans // 100 or 1} children that fork 100 grandchildren each and exit; it reaps the children
   itself, so the {args.orphans} grandchildren are orphans of the init before the clock starts,
   and the init has nothing to reap yet. They all block on one pipe. It then closes the pipe (t0): all
   exit at once; it waits until `kill(pid, 0)` fails with ESRCH for each, i.e. until each is
   reaped, not merely dead (t1). Time t1−t0, median of {args.orphan_rounds} storms. The second
   row is the part after the last orphan exited (EOF on a pipe they all hold): the init's
   own delay, whose floor is the check itself (1000 `kill(pid, 0)`, about 0.1 ms). The
   kernel's share dominates the first: here the exits alone take about
   {fmt(R['orphans'].get('_exit_us_each'), 0)} µs per process, whatever the init.
4. **idle RSS**: every init, copied with `cp` into `build/bench/idle/` (as an image layer
   holds it: written in large chunks, so its page cache may hold large folios, which a fault
   maps whole), runs `/bin/sleep 1000` as a plain child, all at once; VmRSS from
   `/proc/PID/status` {args.idle:g} s after its child runs. A dynamic binary counts its shared
   libc pages too. dock also runs, at the same time, as the linker wrote it (`build/dock`)
   and, its copy, as PID 1 of a PID namespace: {idle_extra(R)}.
5. **idle wake-ups**: voluntary + involuntary context switches of every thread of the init
   (`/proc/PID/task/*/status`) over {args.idle:g} idle seconds, same processes as 4.
6. **SIGTERM → exit**: `INIT -- /bin/sh -c '{TREE}'`; once both `sleep`s run,
   SIGTERM to the init; time until it exits (pidfd), median of {args.term_rounds} trees. "Plain child": the init
   is our child and the benchmark is a subreaper, so anything the init abandons is seen; a
   process of the tree still running 200 ms after the init exited counts as left running.
   "PID 1": the init under `unshare --pid --fork --mount-proc`; its exit includes the kernel
   killing what is left in the namespace.

Spread (p10–p90 and sample count) and memory split:

{detail}

{chr(10).join(notes)}
{END}"""


def idle_extra(R):
    idle = R.get("idle") or {}

    def kb(name):
        v = (idle.get(name) or {}).get("VmRSS")
        return f"{v} kB" if v is not None else "not measured"
    return f"{kb('dock:linked')} and {kb('dock:pid1')}"


def measuring_args(args):
    """The options that change what is measured (not --json, --no-write)."""
    out = []
    if args.quick:
        out.append("--quick")
    if args.only:
        out.append(f"--only {args.only}")
    if args.orphans != 1000:
        out.append(f"--orphans {args.orphans}")
    return "".join(" " + o for o in out)


def write_doc(sec):
    os.makedirs(os.path.dirname(DOC), exist_ok=True)
    head = ("# Benchmarks\n\nEach section is written by one benchmark between its `<!-- NAME:begin -->` and\n"
            "`<!-- NAME:end -->` markers; a rerun replaces only its own section.\n")
    text = open(DOC).read() if os.path.exists(DOC) else head
    if BEGIN in text and END in text:
        a = text.index(BEGIN)
        b = text.index(END) + len(END)
        text = text[:a] + sec + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + sec + "\n"
    with open(DOC + ".tmp", "w") as f:
        f.write(text)
    os.replace(DOC + ".tmp", DOC)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="few iterations, to try the harness")
    ap.add_argument("--only", help="comma-separated inits to run (dock,tini,tini-static,dumb-init,catatonit)")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    ap.add_argument("--orphans", type=int, default=1000, help="orphans per storm (default 1000)")
    ap.add_argument("--json", help="also write the raw results to this file")
    args = ap.parse_args()
    q = args.quick
    args.start_rounds, args.start_runs = (2, 10) if q else (8, 25)
    args.sig_rounds, args.sig_trips = (2, 500) if q else (5, 2000)
    # The delay after the last exit is a fraction of a millisecond against
    # scheduling noise of milliseconds: many storms, so that medians compare.
    args.orphan_rounds = 1 if q else 40
    args.term_rounds = 2 if q else 5
    args.idle = 2.0

    if os.geteuid() != 0:
        sys.exit("bench: needs root (PID namespaces)")
    wanted = args.only.split(",") if args.only else [n for n, _, _ in INITS]
    inits = []
    for name, binary, pre in INITS:
        if name not in wanted:
            continue
        if not os.access(binary, os.X_OK):
            log(f"bench: {name}: {binary} missing, skipped" + (" (run `make` first)" if name == "dock" else ""))
            continue
        inits.append((name, binary, pre))
    names = [n for n, _, _ in inits]
    if not inits:
        sys.exit("bench: nothing to measure")
    if "dock" not in names and not args.no_write:
        log("bench: dock is not measured: docs/benchmarks.md is left alone")
        args.no_write = True

    args.cpu = max(os.sched_getaffinity(0))
    try:
        # Other load on the machine then disturbs the measurements less;
        # every init and its children inherit the same priority.
        os.nice(-10)
        args.nice = -10
    except OSError:
        args.nice = 0

    t_start = time.monotonic()
    bins = build_helpers()
    set_subreaper()
    env = environment()
    random.seed()
    R = {"failures": {}, "seconds": {}}
    # Time budgets (s) per part; on an idle machine every planned round fits
    # well within them (about 75 s in all).
    rounds = {
        "start": Rounds(args.start_rounds, 25, 3),
        "signal": Rounds(args.sig_rounds, 10, 2),
        "orphans": Rounds(args.orphan_rounds, 120, 7),
        "term": Rounds(args.term_rounds, 30, 3),
    }
    phases = [
        ("start", "start", lambda: bench_start(inits, bins, rounds["start"], args.start_runs)),
        ("signal", "signal", lambda: bench_signal(inits, bins, rounds["signal"], args.sig_trips, args.cpu)),
        ("orphans", "orphans", lambda: bench_orphans(inits, bins, rounds["orphans"], args.orphans)),
        ("idle", "idle", lambda: bench_idle(inits, args.idle)),
        ("term", "SIGTERM", lambda: bench_term(inits, rounds["term"])),
    ]
    for key, label, fn in phases:
        t = time.monotonic()
        R[key], f = fn()
        R["failures"].update({f"{k} {label}": v for k, v in f.items()})
        R["seconds"][key] = round(time.monotonic() - t, 1)
        log(f"      {R['seconds'][key]:.1f} s")
    elapsed = args.elapsed = time.monotonic() - t_start
    env["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    args.start_rounds, args.sig_rounds = rounds["start"].done, rounds["signal"].done
    args.orphan_rounds, args.term_rounds = rounds["orphans"].done, rounds["term"].done

    table = render(env, names, R, args)
    sec = section(env, names, R, args, table, details(names, R, args))
    print(sec)
    log(f"bench: done in {elapsed:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"env": env, "results": R}, f, indent=1, default=str)
    if not args.no_write:
        write_doc(sec)
        log(f"bench: wrote {os.path.relpath(DOC, ROOT)}")


if __name__ == "__main__":
    main()
