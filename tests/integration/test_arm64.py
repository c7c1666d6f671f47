"""Smoke test of the arm64 build (build/arm64/dock from `make arm64`, or else
build/release/arm64/dock from `make release`) under Debian's qemu-user-static.

qemu-aarch64-static runs dock's arm64 code on this x86-64 host; the commands
dock starts are the host's own (the kernel runs an x86-64 executable natively
after dock's execve), so what is exercised is dock itself: start-up, option
parsing, exit statuses, the signalfd loop, reaping, the log file and the
prefixer. The module is skipped when the arm64 binary or qemu is missing.

qemu-user 7.2 (Debian 12) does not implement PR_SET_CHILD_SUBREAPER (EINVAL,
dock warns and carries on), so orphan reaping is tested with dock as PID 1
of a PID namespace, where orphans come to it without a subreaper."""

import os
import re
import shutil
import signal
import stat
import subprocess
import time

import pytest

from conftest import BUILD, PATH, ROOT, Lines, helper, parse_signals

# `make arm64` builds the first, `make release` the second (CI runs the
# latter); the newer of the two is tested
_BUILT = [p for p in (BUILD / "arm64" / "dock", BUILD / "release" / "arm64" / "dock") if p.exists()]
ARM64_DOCK = max(_BUILT, key=lambda p: p.stat().st_mtime) if _BUILT else BUILD / "arm64" / "dock"
QEMU = shutil.which("qemu-aarch64-static")

pytestmark = [
    pytest.mark.skipif(not ARM64_DOCK.exists(), reason=f"{ARM64_DOCK} not built (make arm64 or make release)"),
    pytest.mark.skipif(QEMU is None, reason="qemu-aarch64-static not installed (qemu-user-static)"),
]


def _version():
    m = re.search(r"^VERSION\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
    return m.group(1)


def _argv(args, pidns=False):
    words = [helper(a[1:]) if a.startswith("@") else a for a in args]
    argv = [QEMU, str(ARM64_DOCK)] + words
    if pidns:
        argv = ["unshare", "--pid", "--fork", "--mount-proc"] + argv
    return argv


def arm(args, timeout=30, env=None, pidns=False):
    """Runs the arm64 dock to completion: CompletedProcess (text)."""
    return subprocess.run(_argv(args, pidns), capture_output=True, text=True, timeout=timeout,
                          env={"PATH": PATH, **(env or {})}, stdin=subprocess.DEVNULL)


def test_binary_is_static_aarch64():
    desc = subprocess.run(["file", "-L", str(ARM64_DOCK)], capture_output=True, text=True).stdout
    assert "ARM aarch64" in desc, desc
    assert "statically linked" in desc or "static-pie" in desc, desc


def test_version():
    res = arm(["--version"])
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"dock version {_version()}"


@pytest.mark.parametrize("args,code", [
    (["@exitwith", "3"], 3),
    (["--", "@exitwith", "0"], 0),
    (["@exitwith", "sig:TERM"], 128 + 15),
    (["@exitwith", "sig:KILL"], 128 + 9),
    (["/nonexistent/dock-arm64-cmd"], 127),
    (["--no-such-option", "@exitwith", "0"], 2),
    (["--kill-timeout", "soon", "@exitwith", "0"], 2),
    ([], 2),
    (["--remap-exit", "143", "@exitwith", "sig:TERM"], 0),
])
def test_exit_status(args, code):
    res = arm(args)
    assert res.returncode == code, f"stderr: {res.stderr}"


def test_not_executable_is_126(tmp_path):
    f = tmp_path / "not-exec"
    f.write_text("#!/bin/sh\n")
    f.chmod(stat.S_IRUSR | stat.S_IWUSR)
    res = arm([str(f)])
    assert res.returncode == 126, res.stderr
    assert str(f) in res.stderr


def test_signals_are_forwarded():
    proc = subprocess.Popen(_argv(["@sigrec", "-x", "TERM:7"]), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env={"PATH": PATH})
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        out.expect(r"^main ready", timeout=20)
        for sig in (signal.SIGUSR1, signal.SIGHUP, signal.SIGWINCH, signal.SIGTERM):
            os.kill(proc.pid, sig)
            out.expect(rf"^main SIG {int(sig)} ", timeout=10)
        rc = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert parse_signals(out.finish()) == ["USR1", "HUP", "WINCH", "TERM"]
    assert rc == 7, err.lines


def test_orphans_are_reaped_as_pid1():
    res = arm(["@storm", "50"], pidns=True, timeout=60)
    assert res.returncode == 0, f"stdout={res.stdout} stderr={res.stderr}"
    m = re.search(r"^orphans (\d+) init=1\b", res.stdout, re.M)
    assert m and int(m.group(1)) == 50, res.stdout
    assert re.search(r"^reaped ms=\d+ left=0 zombies=0$", res.stdout, re.M), res.stdout


def test_io_file(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("before\n")
    res = arm(["--io", f"file://{log}", "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 5"])
    assert res.returncode == 5, res.stderr
    assert res.stdout == ""
    text = log.read_text()
    assert text.startswith("before\n")
    assert "to-stdout\n" in text and "to-stderr\n" in text


def test_stdout_prefix():
    res = arm(["--stdout-prefix", "web:green", "sh", "-c", "echo one; printf 'two\\nthree'"])
    assert res.returncode == 0, res.stderr
    p = "\x1b[32;1mweb\x1b[0m"
    assert res.stdout == f"{p}one\n{p}two\n{p}three", repr(res.stdout)
    plain = arm(["--stdout-prefix", "web:green", "sh", "-c", "echo one"], env={"NO_COLOR": "1"})
    assert plain.stdout == "webone\n", repr(plain.stdout)
