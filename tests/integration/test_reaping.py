"""Reaping: an orphan storm leaves no zombie; orphans come to dock when it is not PID 1;
a child's end is not the main command's end."""

import time

import psutil
import pytest

from conftest import MODES, marked_processes

STORM = 1000


@pytest.mark.parametrize("mode", MODES)
def test_orphan_storm_leaves_no_zombie(run, mode):
    d = run(mode, ["@storm", str(STORM), "400", "5"])
    m = d.out.expect(r"^orphans (\d+) init=(\d+)", timeout=30)
    orphans, init = int(m.group(1)), int(m.group(2))
    assert orphans == STORM, f"only {orphans} of {STORM} orphans were reparented to the init"
    if mode == "plain":
        assert init == d.dock_pid
    else:
        assert init == 1
    m = d.out.expect(r"^reaped ms=(\d+) left=(\d+) zombies=(\d+)", timeout=30)
    ms, left, zombies = map(int, m.groups())
    assert left == 0 and zombies == 0, f"{left} processes ({zombies} zombies) left after 20 s"
    assert ms < 3000, f"reaping {STORM} orphans took {ms} ms"
    if mode == "plain":
        # seen from outside too, while the command still holds
        kids = psutil.Process(d.dock_pid).children()
        assert len(kids) == 1, f"dock's children besides the command: {kids}"
        assert kids[0].status() != psutil.STATUS_ZOMBIE
    rc, out, err = d.finish(timeout=15)
    assert rc == 5, err
    assert "storm got TERM" not in out, "an orphan's death must not start the shutdown"


def test_orphan_storm_finishes_fast_plain(run):
    t = time.monotonic()
    d = run("plain", ["@storm", str(STORM)])
    rc, out, err = d.finish(timeout=20)
    assert rc == 0, (out, err)
    assert time.monotonic() - t < 10
    assert not [p for p in marked_processes(d.mark) if p.status() == psutil.STATUS_ZOMBIE]


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_orphans_reparented_to_dock(run, mode):
    d = run(mode, ["@tree", "-w", "-x", "0"])
    d.out.expect(r"^tree ready pids=(\S+) main=(\d+)")
    dock = psutil.Process(d.dock_pid)
    kids = dock.children()
    # the command plus its two orphans (o1, o2); c1, c2 stay the command's, c3 c2's
    assert len(kids) == 3, f"dock's children: {[(k.pid, k.cmdline()) for k in kids]}"
    main = [k for k in kids if k.ppid() == dock.pid and k.children()]
    assert len(main) == 1, "exactly one child of dock (the command) has children of its own"
    d.kill("TERM")
    assert d.wait() == 0


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_child_exit_does_not_stop_the_command(run, mode):
    """The original killed the tree on any SIGCHLD: here the command's own child and
    an orphan exit, and the command runs on until it chooses to exit."""
    d = run(mode, ["@storm", "3", "500", "9"])
    d.out.expect(r"^reaped ms=\d+ left=0")
    rc, out, _ = d.finish()
    assert rc == 9
    assert "storm got TERM" not in out
