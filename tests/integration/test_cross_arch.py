"""Smoke tests of the cross builds (arm64, armhf, i386, ppc64el, s390x) under
Debian's qemu-user-static: build/ARCH/dock from `make ARCH`, or else
build/release/ARCH/dock from `make release` (the newer of the two).

qemu-ARCH-static runs dock's code for that architecture on this x86-64 host;
the commands dock starts are the host's own (the kernel runs an x86-64
executable natively after dock's execve), so what is exercised is dock
itself: start-up, option parsing, exit statuses, the signalfd loop, reaping,
the log file and the prefixer, on 32- and 64-bit, little- and big-endian
(s390x) code. An architecture whose binary or qemu is missing is skipped,
with the reason.

qemu-user 7.2 (Debian 12) does not implement PR_SET_CHILD_SUBREAPER (EINVAL,
dock warns and carries on), so orphan reaping is tested with dock as PID 1
of a PID namespace, where orphans come to it without a subreaper.

riscv64 is not here: Debian 12 has no musl for it (docs/release.md)."""

import os
import re
import shutil
import signal
import stat
import subprocess

import pytest

from conftest import BUILD, PATH, ROOT, Lines, helper, parse_signals

# Debian architecture: (qemu-user binary, what file(1) says of its executables)
ARCHS = {
    "arm64": ("qemu-aarch64-static", "ARM aarch64"),
    "armhf": ("qemu-arm-static", "ARM, EABI5"),
    "i386": ("qemu-i386-static", "Intel 80386"),
    "ppc64el": ("qemu-ppc64le-static", "64-bit PowerPC"),
    "s390x": ("qemu-s390x-static", "IBM S/390"),
}


def _binary(arch):
    built = [p for p in (BUILD / arch / "dock", BUILD / "release" / arch / "dock") if p.exists()]
    return max(built, key=lambda p: p.stat().st_mtime) if built else None


@pytest.fixture(params=sorted(ARCHS))
def arch(request):
    name = request.param
    qemu = shutil.which(ARCHS[name][0])
    binary = _binary(name)
    if binary is None:
        pytest.skip(f"no {name} build (make {name} or make release)")
    if qemu is None:
        pytest.skip(f"{ARCHS[name][0]} not installed (qemu-user-static, scripts/deps.sh release)")
    return name, qemu, binary


def _version():
    m = re.search(r"^VERSION\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
    return m.group(1)


def _argv(arch, args, pidns=False):
    _, qemu, binary = arch
    words = [helper(a[1:]) if a.startswith("@") else a for a in args]
    argv = [qemu, str(binary)] + words
    if pidns:
        argv = ["unshare", "--pid", "--fork", "--mount-proc"] + argv
    return argv


def run_arch(arch, args, timeout=30, env=None, pidns=False):
    """Runs the cross-built dock to completion: CompletedProcess (text)."""
    return subprocess.run(_argv(arch, args, pidns), capture_output=True, text=True, timeout=timeout,
                          env={"PATH": PATH, **(env or {})}, stdin=subprocess.DEVNULL)


def test_binary_is_static_for_its_architecture(arch):
    name, _, binary = arch
    desc = subprocess.run(["file", "-L", str(binary)], capture_output=True, text=True).stdout
    assert ARCHS[name][1] in desc, desc
    assert "statically linked" in desc or "static-pie" in desc, desc


def test_version(arch):
    res = run_arch(arch, ["--version"])
    assert res.returncode == 0, res.stderr
    assert re.fullmatch(rf"dock version {re.escape(_version())}( - git\.[0-9A-Za-z-]+)?\n", res.stdout), res.stdout


@pytest.mark.parametrize("args,code", [
    (["@exitwith", "3"], 3),
    (["--", "@exitwith", "0"], 0),
    (["@exitwith", "sig:TERM"], 128 + 15),
    (["@exitwith", "sig:KILL"], 128 + 9),
    (["/nonexistent/dock-cross-cmd"], 127),
    (["--no-such-option", "@exitwith", "0"], 2),
    (["--kill-timeout", "soon", "@exitwith", "0"], 2),
    ([], 2),
    (["--remap-exit", "143", "@exitwith", "sig:TERM"], 0),
])
def test_exit_status(arch, args, code):
    res = run_arch(arch, args)
    assert res.returncode == code, f"stderr: {res.stderr}"


def test_not_executable_is_126(arch, tmp_path):
    f = tmp_path / "not-exec"
    f.write_text("#!/bin/sh\n")
    f.chmod(stat.S_IRUSR | stat.S_IWUSR)
    res = run_arch(arch, [str(f)])
    assert res.returncode == 126, res.stderr
    assert str(f) in res.stderr


def test_signals_are_forwarded(arch):
    proc = subprocess.Popen(_argv(arch, ["@sigrec", "-x", "TERM:7"]), stdout=subprocess.PIPE,
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


def test_orphans_are_reaped_as_pid1(arch):
    res = run_arch(arch, ["@storm", "50"], pidns=True, timeout=60)
    assert res.returncode == 0, f"stdout={res.stdout} stderr={res.stderr}"
    m = re.search(r"^orphans (\d+) init=1\b", res.stdout, re.M)
    assert m and int(m.group(1)) == 50, res.stdout
    assert re.search(r"^reaped ms=\d+ left=0 zombies=0$", res.stdout, re.M), res.stdout


def test_io_file(arch, tmp_path):
    log = tmp_path / "app.log"
    log.write_text("before\n")
    res = run_arch(arch, ["--io", f"file://{log}", "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 5"])
    assert res.returncode == 5, res.stderr
    assert res.stdout == ""
    text = log.read_text()
    assert text.startswith("before\n")
    assert "to-stdout\n" in text and "to-stderr\n" in text


def test_stdout_prefix(arch):
    res = run_arch(arch, ["--stdout-prefix", "web:green", "sh", "-c", "echo one; printf 'two\\nthree'"])
    assert res.returncode == 0, res.stderr
    p = "\x1b[32;1mweb\x1b[0m"
    assert res.stdout == f"{p}one\n{p}two\n{p}three", repr(res.stdout)
    plain = run_arch(arch, ["--stdout-prefix", "web:green", "sh", "-c", "echo one"], env={"NO_COLOR": "1"})
    assert plain.stdout == "webone\n", repr(plain.stdout)


def test_log_rotation_gzip(arch, tmp_path):
    # the zlib each architecture links (its own static libz.a): a rotation by
    # size writes a gzip archive that the host's gzip reads back
    log = tmp_path / "app.log"
    res = run_arch(arch, ["--io", str(log), "--log-rotate", "1d", "--log-max-size", "4K",
                          "sh", "-c", "i=0; while [ $i -lt 400 ]; do echo line-$i-abcdefghij; i=$((i+1)); done"],
                   timeout=60)
    assert res.returncode == 0, res.stderr
    archives = sorted(tmp_path.glob("app.log_*.gz"))
    assert archives, f"no archive after 4K of output: {os.listdir(tmp_path)} stderr={res.stderr}"
    lines = []
    for a in archives:
        lines += subprocess.run(["gzip", "-dc", str(a)], capture_output=True, text=True, check=True).stdout.splitlines()
    lines += log.read_text().splitlines()
    # every line once, none split (400 lines of 20 bytes: two archives of the default five kept)
    assert sorted(lines) == sorted(f"line-{i}-abcdefghij" for i in range(400))
