"""Shutdown when the main command ends: SIGTERM to the rest of the tree, exit as soon as
it is empty, SIGKILL after --kill-timeout, exit with the command's status."""

import re
import subprocess
import time

import pytest

from conftest import MODES, PATH, helper, marked_processes, parse_signals

DESCENDANTS = ["c1", "c2", "c3", "o1", "o2"]
# slack for the end of a run: runc's own teardown adds a little
SLACK = {"plain": 1.0, "pidns": 1.0, "runc": 1.5}


def _after_ready(d):
    d.out.expect(r"^tree ready", timeout=15)
    return time.monotonic()


def _no_survivor(d):
    if d.mode == "plain":
        left = marked_processes(d.mark)
        assert not left, f"processes of the tree survived dock: {[(p.pid, p.cmdline()) for p in left]}"


@pytest.mark.parametrize("mode", MODES)
def test_tree_that_obeys_term_ends_fast(run, mode):
    d = run(mode, ["@tree", "-x", "3"])
    t = _after_ready(d)
    rc, out, err = d.finish(timeout=10)
    elapsed = time.monotonic() - t
    assert rc == 3, err
    for tag in DESCENDANTS:
        assert f"{tag} got TERM" in out, f"{tag} never got SIGTERM: {out}"
        assert f"{tag} exit" in out
    assert elapsed < 0.5 + SLACK[mode], f"dock took {elapsed:.2f}s for a tree that obeys SIGTERM"
    _no_survivor(d)


@pytest.mark.parametrize("mode", MODES)
def test_tree_that_ignores_term_is_killed_at_timeout(run, mode):
    d = run(mode, ["--kill-timeout", "1s", "@tree", "-m", "ignore", "-x", "4"])
    t = _after_ready(d)
    rc, out, err = d.finish(timeout=10)
    elapsed = time.monotonic() - t
    assert rc == 4, err
    for tag in DESCENDANTS:
        assert f"{tag} got TERM" in out, f"{tag} never got SIGTERM before SIGKILL: {out}"
        assert f"{tag} exit" not in out
    assert 0.95 <= elapsed < 1.0 + SLACK[mode], f"killed after {elapsed:.2f}s with --kill-timeout 1s"
    _no_survivor(d)


def test_sig_ign_term_tree_is_killed_at_timeout(run):
    d = run("plain", ["--kill-timeout", "1s", "@tree", "-m", "sigign", "-x", "0"])
    t = _after_ready(d)
    rc, out, err = d.finish(timeout=10)
    elapsed = time.monotonic() - t
    assert rc == 0
    assert 0.95 <= elapsed < 2.0, elapsed
    _no_survivor(d)


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_shutdown_waits_for_a_slow_but_obedient_tree(run, mode):
    """Exit as soon as the tree is empty: not before (the tree takes 400 ms to
    exit) and not at the timeout (default 5 s)."""
    d = run(mode, ["@tree", "-d", "400", "-x", "0"])
    t = _after_ready(d)
    rc, out, _ = d.finish(timeout=10)
    elapsed = time.monotonic() - t
    assert rc == 0
    for tag in DESCENDANTS:
        assert f"{tag} exit" in out, f"{tag} was killed before it could finish: {out}"
    assert 0.35 <= elapsed < 2.0, elapsed


@pytest.mark.parametrize("mode", MODES)
def test_term_to_dock_stops_command_then_tree(run, mode):
    """The `docker stop` path: TERM to dock, forwarded to the command, which exits;
    then the rest of the tree gets its TERM."""
    d = run(mode, ["@tree", "-w", "-x", "7"])
    d.out.expect(r"^tree ready", timeout=15)
    t = time.monotonic()
    d.kill("TERM")
    rc, out, err = d.finish(timeout=10)
    assert rc == 7, err
    assert "main got TERM" in out
    for tag in DESCENDANTS:
        assert f"{tag} got TERM" in out
    assert time.monotonic() - t < 0.5 + SLACK[mode]
    _no_survivor(d)


@pytest.mark.parametrize("args,env,low,high", [
    (["--kill-timeout", "500ms"], None, 0.45, 1.5),
    (["--kill-timeout=500ms"], None, 0.45, 1.5),
    (["--kill-timeout", "1"], None, 0.95, 2.0),          # bare number: seconds
    (["--kill-timeout", "2s"], None, 1.95, 3.0),
    ([], {"DOCK_KILL_TIMEOUT": "500ms"}, 0.45, 1.5),
    (["--kill-timeout", "500ms"], {"DOCK_KILL_TIMEOUT": "20s"}, 0.45, 1.5),  # the flag wins
    ([], None, 4.95, 6.0),                              # default 5s
], ids=["500ms", "eq-500ms", "bare-1", "2s", "env-500ms", "flag-wins", "default-5s"])
def test_kill_timeout_values(run, args, env, low, high):
    d = run("plain", args + ["@tree", "-m", "ignore"], env=env)
    t = _after_ready(d)
    rc = d.wait(timeout=high + 2)
    elapsed = time.monotonic() - t
    assert rc == 0
    assert low <= elapsed < high, f"{args} {env}: the tree was killed after {elapsed:.2f}s"
    _no_survivor(d)


def test_command_killed_by_signal_still_shuts_down_tree(run):
    d = run("plain", ["--kill-timeout", "1s", "@tree", "-w", "-m", "obey"])
    d.out.expect(r"^tree ready")
    main = [p for p in marked_processes(d.mark) if p.ppid() == d.dock_pid and p.children()]
    assert len(main) == 1
    main[0].kill()
    rc, out, _ = d.finish()
    assert rc == 137
    for tag in DESCENDANTS:
        assert f"{tag} got TERM" in out
    _no_survivor(d)


def test_plain_mode_signals_only_its_own_tree(run):
    """Not PID 1: the shutdown reaches dock's descendants and nothing else."""
    bystander = subprocess.Popen([helper("sigrec"), "-t", "bystander", "-T", "30", "-x", "USR2:0"],
                                 stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env={"PATH": PATH})
    try:
        assert bystander.stdout.readline().startswith(b"bystander ready")
        d = run("plain", ["--kill-timeout", "500ms", "@tree", "-m", "ignore"])
        d.out.expect(r"^tree ready")
        assert d.wait() == 0
        bystander.send_signal(12)  # USR2: closes the bystander
        out, _ = bystander.communicate(timeout=5)
        got = parse_signals(out.decode().splitlines(), "bystander")
        assert got == ["USR2"], f"dock signalled a process outside its tree: {got}"
    finally:
        if bystander.poll() is None:
            bystander.kill()
            bystander.wait()


KILL_LINE = r"^dock: processes still running \d+ ms after SIGTERM; sending SIGKILL(.*)$"


def _kill_warning(err):
    """The one SIGKILL warning: ([(pid, comm)...], how many more)."""
    lines = [re.match(KILL_LINE, ln) for ln in err]
    found = [m.group(1) for m in lines if m]
    assert len(found) == 1, f"expected one SIGKILL warning: {err}"
    m = re.fullmatch(r": (.*?)(?: and (\d+) more)?", found[0])
    assert m, f"the warning names nothing: {found[0]!r}"
    named = [(int(p), c) for p, c in re.findall(r"(\d+) \(([^)]*)\)", m.group(1))]
    return named, int(m.group(2) or 0)


@pytest.mark.parametrize("mode", MODES)
def test_sigkill_warning_names_what_is_left(run, mode):
    """The five processes that ignore SIGTERM, by the pid dock sees and their name."""
    d = run(mode, ["--kill-timeout", "1s", "@tree", "-m", "ignore", "-x", "4"])
    ready = d.out.expect(r"^tree ready pids=([\d,]+) ", timeout=15)
    left = {int(v) for v in ready.group(1).split(",")}
    rc, _, err = d.finish(timeout=10)
    assert rc == 4, err
    named, more = _kill_warning(err)
    assert more == 0, err
    assert {p for p, _ in named} == left, err
    assert all(c == "tree" for _, c in named), err
    _no_survivor(d)


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_sigkill_warning_names_five_and_counts_the_rest(run, mode):
    d = run(mode, ["--kill-timeout", "500ms", "sh", "-c",
                   "trap '' TERM; for i in 1 2 3 4 5 6 7 8; do sleep 60 & done; echo started"])
    d.out.expect(r"^started$", timeout=15)
    rc, _, err = d.finish(timeout=10)
    assert rc == 0, err
    named, more = _kill_warning(err)
    assert len(named) == 5 and more == 3, err
    assert all(c == "sleep" for _, c in named), err
    assert [p for p, _ in named] == sorted(p for p, _ in named), err
    _no_survivor(d)


def test_sigkill_warning_prints_a_hostile_name_harmlessly(run):
    """The name is the command's to choose: escape codes and a newline must not reach
    the operator's terminal or split the log line."""
    script = ("import ctypes, signal, time\n"
              "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
              "ctypes.CDLL(None).prctl(15, b'\\x1b[31m\\nevil', 0, 0, 0)\n"
              "print('named', flush=True)\n"
              "time.sleep(60)\n")
    d = run("plain", ["--kill-timeout", "500ms", "sh", "-c",
                      '/usr/bin/python3 -c "$0" & exec sleep 60', script])
    d.out.expect(r"^named$", timeout=15)
    # the main command ends; python is left over
    d.kill("HUP")
    rc, _, err = d.finish(timeout=10)
    assert rc == 129, err
    named, more = _kill_warning(err)
    assert more == 0 and len(named) == 1, err
    assert named[0][1] == "?[31m?evil", err
    assert not any("\x1b" in ln for ln in err), err
