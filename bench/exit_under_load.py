#!/usr/bin/python3
"""Exit time on a loaded machine: from a SIGKILL of the main command to
dock's exit, with dock as PID 1 of a PID namespace, `--kill-timeout 3s`,
and a main command with children (four shell loops that ignore SIGTERM and
write and fsync files, as a database's workers would), while
`stress-ng --cpu 4 --io 2` loads the machine. Optionally with a web hook
that refuses or hangs.

Each run prints the time and, from dock's -d stamps (milliseconds since its
start), where it went: the kill timeout, the SIGKILL rounds, the drain. The
bound is docs/decisions.md's formula: kill-timeout + 5 s (KILL re-sends,
only while something survives SIGKILL) + max(5 s, --web-hook-exit-timeout).
Run from the repository root after `make`, as root:

    /usr/bin/python3 bench/exit_under_load.py [RUNS] [none|refused|hung] [DOCK]
"""

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


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    hook = sys.argv[2] if len(sys.argv) > 2 else "hung"
    dock = sys.argv[3] if len(sys.argv) > 3 else os.path.join(ROOT, "build", "dock")
    if shutil.which("stress-ng") is None:
        sys.exit("stress-ng is not installed (scripts/deps.sh bench)")
    srv = hung_server() if hook == "hung" else None
    hook_args = []
    if hook == "hung":
        hook_args = ["--web-hook", f"http://127.0.0.1:{srv.getsockname()[1]}/h"]
    elif hook == "refused":
        hook_args = ["--web-hook", f"http://127.0.0.1:{free_port()}/h"]
    work = tempfile.mkdtemp(prefix="dock-exit-load-")
    stress = subprocess.Popen(["stress-ng", "--cpu", "4", "--io", "2", "--timeout", f"{runs * 40}s"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    times = []
    try:
        time.sleep(2)
        for i in range(runs):
            t, rc, st = one_run(dock, hook_args, work)
            times.append(t)
            phases = ", ".join(f"{k} {v:.2f}" for k, v in sorted(st.items(), key=lambda kv: kv[1]))
            print(f"run {i}: exit {t:.2f}s after SIGKILL (rc {rc}); dock's stamps: {phases}", flush=True)
    finally:
        os.killpg(stress.pid, signal.SIGTERM)
        stress.wait()
        shutil.rmtree(work, ignore_errors=True)
        if srv:
            srv.close()
    print(f"hook {hook}: median {statistics.median(times):.2f}s, max {max(times):.2f}s over {runs} runs; "
          f"formula {FORMULA:g}s")


if __name__ == "__main__":
    main()
