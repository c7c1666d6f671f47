"""dock as PID 1 of a real OCI container under runc, ended the ways container
engines end containers: a docker-style stop (SIGTERM, SIGKILL 10 s later),
a SIGKILL from outside, and the kernel's OOM killer under a memory limit.

Docker, containerd and Kubernetes send the stop signal to the container's
PID 1 only; they wait a grace period (docker stop: 10 s, Kubernetes:
terminationGracePeriodSeconds, 30 s) and then SIGKILL everything. With dock
as PID 1, a well-behaved app must be gone long before that grace runs out,
and the engine must read the app's own fate from dock's exit status."""

import json
import subprocess
import time

import psutil
import pytest

from conftest import PATH

# docker stop's default grace between SIGTERM and SIGKILL
ENGINE_GRACE = 10.0


def _engine_stop(d, grace=ENGINE_GRACE):
    """Stops a runc container as docker does: TERM to PID 1 (dock), KILL if it
    is still there after `grace`. Returns (exit status, seconds, KILL needed)."""
    t0 = time.monotonic()
    d.kill("TERM")
    killed = False
    try:
        rc = d.proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        killed = True
        subprocess.run(["runc", "kill", d.container, "KILL"], capture_output=True, timeout=10)
        rc = d.proc.wait(timeout=10)
    elapsed = time.monotonic() - t0
    d.returncode = rc
    return rc, elapsed, killed


def test_docker_style_stop_of_well_behaved_app_is_fast(run):
    # the app exits on SIGTERM; dock forwards it and exits with the app's status
    d = run("runc", ["@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready", timeout=15)
    rc, elapsed, killed = _engine_stop(d)
    out = d.out.finish()
    assert not killed, f"the engine had to SIGKILL after {ENGINE_GRACE}s; stdout={out} stderr={d.err.lines}"
    assert rc == 0, f"stderr={d.err.lines}"
    assert "main SIG 15 TERM" in out
    assert elapsed < 1.0, f"docker-style stop took {elapsed:.2f}s"


def test_docker_style_stop_of_app_with_descendants_is_fast(run):
    # the main command exits on TERM; its children, grandchildren and orphans
    # get dock's own SIGTERM right after and obey it
    d = run("runc", ["@tree", "-w", "-x", "0"])
    d.out.expect(r"^tree ready", timeout=15)
    rc, elapsed, killed = _engine_stop(d)
    out = d.out.finish()
    assert not killed and rc == 0, f"rc={rc} stdout={out} stderr={d.err.lines}"
    assert "main got TERM" in out
    for tag in ["c1", "c2", "c3", "o1", "o2"]:
        assert f"{tag} exit" in out, f"{tag} did not exit on dock's SIGTERM: {out}"
    assert elapsed < 1.0, f"docker-style stop of a tree took {elapsed:.2f}s"


def test_kill_timeout_below_engine_grace_keeps_exit_status(run):
    # descendants that ignore SIGTERM: dock SIGKILLs them at --kill-timeout,
    # well before the engine's own SIGKILL, so the app's status (0) survives
    # instead of the 137 an engine kill would give
    d = run("runc", ["--kill-timeout", "1s", "@tree", "-w", "-m", "ignore", "-x", "0"])
    d.out.expect(r"^tree ready", timeout=15)
    rc, elapsed, killed = _engine_stop(d)
    out = d.out.finish()
    assert not killed, f"the engine had to SIGKILL; stdout={out} stderr={d.err.lines}"
    assert rc == 0, f"stderr={d.err.lines}"
    assert 0.9 <= elapsed < 2.5, f"stop took {elapsed:.2f}s with --kill-timeout 1s"


def _main_host_pid(d):
    """Host pid of dock's only child (the main command) in the container."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            kids = psutil.Process(d.dock_pid).children()
        except psutil.NoSuchProcess:
            kids = []
        if kids:
            return kids[0].pid
        time.sleep(0.02)  # poll step: no event says the command was forked
    raise AssertionError("dock's main command never appeared")


def test_main_killed_by_sigkill_from_outside_is_137(run):
    d = run("runc", ["@sigrec"])
    d.out.expect(r"^main ready", timeout=15)
    psutil.Process(_main_host_pid(d)).send_signal(9)
    rc = d.wait(timeout=10)
    assert rc == 137, f"stdout={d.out.lines} stderr={d.err.lines}"
    assert d.elapsed < 15


def _memory_limited_spec(spec, limit):
    cfg = json.loads(json.dumps(spec))
    res = cfg.setdefault("linux", {}).setdefault("resources", {})
    # swap equal to the limit: no swap on top of it (cgroup v1 memsw, v2 swap.max=0)
    res["memory"] = {"limit": limit, "swap": limit}
    return cfg


def test_oom_kill_is_137(run, runc_spec, release_helpers):
    """The main command allocates past the container's 16 MiB limit; the OOM
    killer picks it (the largest process of the cgroup) and dock, small and
    untouched, exits 137 as an engine expects."""
    limit = 16 << 20
    d = run("runc", ["@memhog", "256", "500"], runc_spec=_memory_limited_spec(runc_spec, limit))
    d.out.expect(r"^hog start", timeout=15)
    # runc reports the cgroup's OOM events (cgroup v1 memory.oom_control,
    # v2 memory.events); started during memhog's 500 ms pause
    events = subprocess.Popen(["runc", "events", "--interval", "100ms", d.container],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={"PATH": PATH})
    try:
        rc = d.wait(timeout=20)
    finally:
        try:
            ev_out, ev_err = events.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            events.kill()
            ev_out, ev_err = events.communicate()
    out = d.out.finish()
    assert "hog done" not in out, f"memhog allocated 256 MiB under a 16 MiB limit: the limit did not apply ({out})"
    assert rc == 137, f"rc={rc} stdout={out} stderr={d.err.lines}"
    types = []
    for line in ev_out.splitlines():
        try:
            types.append(json.loads(line).get("type"))
        except ValueError:
            pass
    assert "oom" in types, (f"no OOM event from `runc events` (types seen: {sorted(set(types))}, "
                            f"stderr: {ev_err.strip()!r}): was it the OOM killer?")
