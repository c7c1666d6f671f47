"""Exit status: the command's code, 128+N for death by signal N, 126/127, --remap-exit."""

import os
import signal
import subprocess

import pytest

from conftest import DOCK, PATH, dock_plain, helper

SAMPLE_CODES = [0, 1, 2, 3, 42, 126, 127, 128, 200, 255]


@pytest.mark.parametrize("mode", ["plain", "pidns"])
@pytest.mark.parametrize("code", SAMPLE_CODES)
def test_exit_code_passes_through(run, mode, code):
    d = run(mode, ["@exitwith", str(code)])
    rc, out, err = d.finish()
    assert rc == code, f"stderr: {err}"


def test_every_exit_code_0_to_255_plain():
    exe = helper("exitwith")
    wrong = {}
    for code in range(256):
        res = subprocess.run([str(DOCK), exe, str(code)], stdin=subprocess.DEVNULL,
                             capture_output=True, timeout=10, env={"PATH": PATH})
        if res.returncode != code or res.stderr:
            wrong[code] = (res.returncode, res.stderr)
    assert not wrong, f"exit code not passed through (code: (dock's rc, stderr)): {wrong}"


@pytest.mark.parametrize("code", [0, 3, 255])
def test_exit_code_runc(run, code):
    d = run("runc", ["@exitwith", str(code)])
    rc, out, err = d.finish(timeout=20)
    assert rc == code, f"stderr: {err}"


SIGNALS_DEATH = ["HUP", "INT", "QUIT", "KILL", "USR1", "SEGV", "PIPE", "ALRM", "TERM"]


@pytest.mark.parametrize("mode", ["plain", "pidns"])
@pytest.mark.parametrize("sig", SIGNALS_DEATH)
def test_death_by_signal_is_128_plus_n(run, mode, sig):
    d = run(mode, ["@exitwith", f"sig:{sig}"])
    rc, out, err = d.finish()
    assert rc == 128 + signal.Signals["SIG" + sig], f"stderr: {err}"


@pytest.mark.parametrize("sig", ["TERM", "KILL"])
def test_death_by_signal_runc(run, sig):
    d = run("runc", ["@exitwith", f"sig:{sig}"])
    rc, out, err = d.finish(timeout=20)
    assert rc == 128 + signal.Signals["SIG" + sig], f"stderr: {err}"


def test_command_looked_up_on_path():
    # the SPEC's own example: `dock sh -c 'exit 3'`
    res = dock_plain(["sh", "-c", "exit 3"])
    assert res.returncode == 3, res.stderr


def _one_dock_line(stderr, name):
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines!r}"
    assert lines[0].startswith("dock: "), lines[0]
    assert name in lines[0], f"{lines[0]!r} does not name {name!r}"


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_not_found_is_127(run, mode):
    d = run(mode, ["/nonexistent/dock-test-cmd", "arg"])
    rc, out, err = d.finish()
    assert rc == 127
    assert out == []
    _one_dock_line("\n".join(err), "/nonexistent/dock-test-cmd")


def test_not_found_on_path_is_127():
    res = dock_plain(["no-such-command-for-dock-tests"])
    assert res.returncode == 127
    assert res.stdout == ""
    _one_dock_line(res.stderr, "no-such-command-for-dock-tests")


def test_long_path_search(tmp_path):
    """The command is looked up through a PATH near PATH_MAX with long
    entries: the lookup runs in the spawned child before exec, on the
    child's own bounded stack, and must neither crash nor lose the answer."""
    long_dir = tmp_path / ("d" * 200)
    long_dir.mkdir()
    os.symlink(helper("exitwith"), long_dir / "dock-test-found")
    misses = []
    while len(":".join(misses + [str(long_dir)])) < 3800:
        misses.append(str(tmp_path / ("m%03d" % len(misses)) / ("x" * 100)))
    path = ":".join(misses + [str(long_dir)])
    assert 3800 <= len(path) < 4096
    res = dock_plain(["dock-test-found", "5"], env={"PATH": path})
    assert res.returncode == 5, res.stderr
    res = dock_plain(["dock-test-missing"], env={"PATH": path})
    assert res.returncode == 127
    _one_dock_line(res.stderr, "dock-test-missing")


def test_not_found_runc(run):
    d = run("runc", ["/nonexistent/cmd"])
    rc, out, err = d.finish(timeout=20)
    assert rc == 127
    assert any(line.startswith("dock: ") and "/nonexistent/cmd" in line for line in err), err


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_not_executable_file_is_126(run, mode, tmp_path):
    f = tmp_path / "not-exec"
    f.write_text("#!/bin/sh\nexit 0\n")
    os.chmod(f, 0o644)
    d = run(mode, [str(f)])
    rc, out, err = d.finish()
    assert rc == 126
    _one_dock_line("\n".join(err), str(f))


def test_directory_is_126(tmp_path):
    res = dock_plain([str(tmp_path)])
    assert res.returncode == 126
    _one_dock_line(res.stderr, str(tmp_path))


def test_normal_run_is_quiet():
    """Without -d dock prints nothing of its own on a clean run."""
    res = dock_plain(["@exitwith", "0"])
    assert res.returncode == 0
    assert res.stderr == ""
    assert res.stdout == ""


# --- --remap-exit ----------------------------------------------------------


@pytest.mark.parametrize("args,cmd,expected", [
    (["--remap-exit", "3"], ["@exitwith", "3"], 0),
    (["--remap-exit", "3:9"], ["@exitwith", "3"], 9),
    (["--remap-exit=3:9"], ["@exitwith", "3"], 9),
    (["--remap-exit", "3:9"], ["@exitwith", "4"], 4),          # no match: unchanged
    (["--remap-exit", "3:9", "--remap-exit", "4:10"], ["@exitwith", "4"], 10),  # repeatable
    (["--remap-exit", "0:5"], ["@exitwith", "0"], 5),
    (["--remap-exit", "143"], ["@exitwith", "sig:TERM"], 0),   # 128+N is remapped too
    (["--remap-exit", "137:1"], ["@exitwith", "sig:KILL"], 1),
    (["--remap-exit", "255:254"], ["@exitwith", "255"], 254),
])
def test_remap_exit(args, cmd, expected):
    res = dock_plain(args + cmd)
    assert res.returncode == expected, res.stderr


def test_remap_exit_applies_to_127():
    """SPEC: --remap-exit applies last, after the 127 of a missing command."""
    res = dock_plain(["--remap-exit", "127:0", "/nonexistent/cmd"])
    assert res.returncode == 0, res.stderr


def test_remap_exit_from_env():
    res = dock_plain(["@exitwith", "3"], env={"DOCK_REMAP_EXIT": "3:9"})
    assert res.returncode == 9, res.stderr


def test_remap_exit_pidns(run):
    d = run("pidns", ["--remap-exit", "143:7", "@exitwith", "sig:TERM"])
    rc, _, err = d.finish()
    assert rc == 7, err
