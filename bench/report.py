"""What every benchmark of bench/ shares: a description of the machine and
of its load, and the writing of one section of docs/benchmarks.md.

Each benchmark owns the part of docs/benchmarks.md between its markers
<!-- NAME:begin --> and <!-- NAME:end -->; writing replaces only that part,
so the benchmarks can be rerun one at a time (bench/all.py reruns them all).
"""

import datetime
import json
import os
import platform
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
DOCK = os.path.join(ROOT, "build", "dock")

HEAD = ("# Benchmarks\n\nEach section is written by one benchmark between its `<!-- NAME:begin -->` and\n"
        "`<!-- NAME:end -->` markers; a rerun replaces only its own section.\n")


def sh(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def mem_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def dock_revision():
    rev = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    if not rev or any(c not in "0123456789abcdef" for c in rev):
        return "no commit"
    if sh(["git", "-C", ROOT, "status", "--porcelain", "--", "src", "Makefile"]):
        rev += " + uncommitted changes"
    return rev


def machine():
    """The machine, its load now, and dock's version: a dict."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": platform.node(),
        "kernel": platform.release(),
        "cpu": cpu_model(),
        "nproc": os.cpu_count(),
        "mem_gib": mem_gib(),
        "load": os.getloadavg(),
        "dock": sh([DOCK, "--version"]) if os.path.exists(DOCK) else "not built",
        "rev": dock_revision(),
    }


def load_text(load):
    return " / ".join(f"{x:.2f}" for x in load)


def busy(load1, nproc):
    """A remark for the reader when other work shared the machine (a
    1-minute load average above the number of CPUs)."""
    if load1 > (nproc or 1):
        return (f" The machine was busy (load up to {load1:.1f} on {nproc} CPUs): timings are "
                "noisier than on an idle one; the side-by-side figures of one run still compare.")
    return ""


def run_line(env, load_end, seconds, command):
    """One paragraph: when, where, under which load, with which dock."""
    return (f"Command: `{command}`, {seconds:.0f} s. Run {env['date']} on {env['host']}: "
            f"{env['nproc']} CPUs ({env['cpu']}), {env['mem_gib']} GiB, Linux {env['kernel']}; "
            f"load average (1/5/15 min) {load_text(env['load'])} at the start, "
            f"{load_text(load_end)} at the end.{busy(max(env['load'][0], load_end[0]), env['nproc'])} "
            f"dock: {env['dock']} ({env['rev']}).")


def write_section(name, body):
    """Puts body (Markdown, without markers) between NAME's markers in
    docs/benchmarks.md, replacing what was there, or appends it."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    sec = f"{begin}\n{body.strip()}\n{end}"
    text = open(DOC).read() if os.path.exists(DOC) else HEAD
    if begin in text and end in text:
        a = text.index(begin)
        b = text.index(end) + len(end)
        text = text[:a] + sec + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + sec + "\n"
    with open(DOC + ".tmp", "w") as f:
        f.write(text)
    os.replace(DOC + ".tmp", DOC)


def finish(tee, section, write, json_path, data):
    """Ends a benchmark's Tee; with write, its printed Markdown becomes
    section NAME of docs/benchmarks.md; with json_path, data is saved there
    (for bench/all.py's summary)."""
    tee.__exit__(None, None, None)
    if write:
        write_section(section, tee.text())
    if json_path:
        with open(json_path, "w") as f:
            json.dump(data, f, indent=1)


class Tee:
    """Within `with Tee() as t:`, what is printed to stdout also collects in
    t.text(): a benchmark prints its Markdown as it goes and writes the
    same into its section at the end."""

    def __init__(self):
        import io
        import sys
        self._sys = sys
        self._buf = io.StringIO()
        self._out = None

    def write(self, s):
        self._buf.write(s)
        return self._out.write(s)

    def flush(self):
        self._out.flush()

    def __enter__(self):
        self._out = self._sys.stdout
        self._sys.stdout = self
        return self

    def __exit__(self, *exc):
        self._sys.stdout = self._out
        return False

    def text(self):
        return self._buf.getvalue()
