#!/usr/bin/env python3
"""Checks src/hot.ld: every function a plain run of dock executes should lie
in the .text.hot output section (the start of the text segment).

    scripts/hot-functions.py

Links an unstripped copy of build/dock (same objects, same layout, with a
link map) into build/hot/, runs it under valgrind's callgrind in a few
everyday scenarios (`dock -- sleep`, SIGTERM to a tree, plain and as PID 1
of a PID namespace, an orphan storm as PID 1), adds the functions the
spawned child runs before its exec (callgrind does not follow it), and
prints each executed function that landed outside .text.hot with the input
section to name in src/hot.ld. Exit status 1 when there is any. Needs root
(PID namespaces), valgrind and a built tree (`make`).
"""

import bisect
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "hot")
DOCK = os.path.join(OUT, "dock")
ORPHANS = os.path.join(ROOT, "bench", "helpers", "orphans.c")

# What the child of spawn.c runs between clone and exec.
CHILD = ["child", "place_fds", "cloexec_from_3", "dock_signals_restore_for_exec",
         "execvp", "__execvpe", "execve", "setpgid", "setsid", "ioctl", "tcsetpgrp",
         "write", "_exit", "dup2", "getpid"]


def link():
    os.makedirs(OUT, exist_ok=True)
    subprocess.run(["make", "-s", "--no-print-directory", "build/dock"], cwd=ROOT, check=True)
    # build/obj/ and build/obj/lib/ (the pure modules), as the Makefile links them.
    objs = sorted(os.path.join(d, f) for d, _, files in os.walk(os.path.join(ROOT, "build", "obj"))
                  for f in files if f.endswith(".o"))
    libdir = "/usr/lib/" + subprocess.run(["gcc", "-print-multiarch"], capture_output=True, text=True).stdout.strip()
    subprocess.run(["musl-gcc", "-static", "-Wl,--gc-sections", "-Wl,-T," + os.path.join(ROOT, "src", "hot.ld"),
                    "-Wl,-Map," + DOCK + ".map"] + objs + [libdir + "/libbearssl.a", libdir + "/libz.a", "-o", DOCK],
                   check=True)
    subprocess.run(["musl-gcc", "-O2", "-static", "-o", os.path.join(OUT, "orphans"), ORPHANS], check=True)


def callgrind(args, name, term_after=None, pid1=False):
    out = os.path.join(OUT, "cg." + name)
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + args
    if pid1:
        # valgrind runs dock in its own process: that one is PID 1.
        cmd = ["unshare", "--pid", "--fork", "--mount-proc"] + cmd
    if term_after is None:
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    else:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(term_after)
        # The process running dock under valgrind (under unshare: its child).
        pids = [p.pid] + [int(x) for x in subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True,
                                                          text=True).stdout.split()]
        target = pids[-1] if pid1 else p.pid
        os.kill(target, signal.SIGTERM)
        p.wait(timeout=60)
    text = subprocess.run(["callgrind_annotate", "--threshold=100", out], capture_output=True, text=True).stdout
    names = set()
    for line in text.splitlines():
        m = re.match(r"^\s*[\d,]+ \([^)]*\)\s+\S*:(\S+) \[", line)
        if m:
            names.add(m.group(1).split("'")[0])
    return names


def sections(mapfile):
    """Input sections of the text: (start, size, section, origin) sorted."""
    out, pending = [], None
    for line in open(mapfile):
        m = re.match(r"^ (\.text\S*)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$", line)
        if m:
            out.append((int(m.group(2), 16), int(m.group(3), 16), m.group(1), m.group(4)))
            pending = None
            continue
        m = re.match(r"^ (\.text\S*)$", line)
        if m:
            pending = m.group(1)
            continue
        m = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$", line)
        if m and pending:
            out.append((int(m.group(1), 16), int(m.group(2), 16), pending, m.group(3)))
        pending = None
    return sorted(s for s in out if s[1] > 0)


def main():
    if os.geteuid() != 0:
        sys.exit("hot-functions: needs root (PID namespaces)")
    link()
    ran = set(CHILD)
    tree = ["/bin/sh", "-c", "sleep 5 & sleep 5 & wait"]
    ran |= callgrind([DOCK, "--", "/bin/sleep", "0.2"], "plain")
    ran |= callgrind([DOCK, "--"] + tree, "term", term_after=2.0)
    ran |= callgrind([DOCK, "--", os.path.join(OUT, "orphans"), "300"], "orphans", pid1=True)
    ran |= callgrind([DOCK, "--"] + tree, "pid1-term", term_after=2.5, pid1=True)

    syms = {}
    for line in subprocess.run(["nm", DOCK], capture_output=True, text=True).stdout.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "tTW":
            syms.setdefault(p[2], int(p[0], 16))
    hdr = subprocess.run(["readelf", "-SW", DOCK], capture_output=True, text=True).stdout
    m = re.search(r"\.text\.hot\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", hdr)
    if not m:
        sys.exit("hot-functions: no .text.hot section in " + DOCK)
    hot_start, hot_size = int(m.group(1), 16), int(m.group(2), 16)
    # .init sits just before .text.hot, in the same first block.
    m = re.search(r"\.init\s+\S+\s+([0-9a-f]+)\s", hdr)
    if m:
        hot_size += hot_start - int(m.group(1), 16)
        hot_start = int(m.group(1), 16)
    secs = sections(DOCK + ".map")
    starts = [s[0] for s in secs]
    missing = {}
    for name in sorted(ran):
        addr = syms.get(name)
        if name.startswith("0x"):
            addr = int(name, 16)
        if addr is None or hot_start <= addr < hot_start + hot_size:
            continue
        k = bisect.bisect_right(starts, addr) - 1
        where = f"{secs[k][3]} {secs[k][2]}" if k >= 0 and addr < secs[k][0] + secs[k][1] else "?"
        missing[name] = where
    print(f".text.hot: {hot_size} bytes at {hot_start:#x} (one fault-around block is 65536 bytes); "
          f"{len(ran)} functions ran")
    for name, where in missing.items():
        print(f"  not in .text.hot: {name}  ({where})")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
