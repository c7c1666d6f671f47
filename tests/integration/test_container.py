"""dock as PID 1 of a real OCI container under runc and under crun, ended the
ways container engines end containers: a docker-style stop (SIGTERM, SIGKILL
10 s later), a SIGKILL from outside, and the kernel's OOM killer under a
memory limit.

Docker, containerd and Kubernetes send the stop signal to the container's
PID 1 only; they wait a grace period (docker stop: 10 s, Kubernetes:
terminationGracePeriodSeconds, 30 s) and then SIGKILL everything. With dock
as PID 1, a well-behaved app must be gone long before that grace runs out,
and the engine must read the app's own fate from dock's exit status.

Every test runs with both runtimes (the `runtime` parameter): runc, and crun,
the runtime Podman uses on Fedora and RHEL. crun 1.8 refuses machines with
cgroup v1 controllers beside a cgroup2 mount at /sys/fs/cgroup/unified
("cgroups in hybrid mode not supported") when that cgroup2 has a controller
(hugetlb here). It runs fine where it sees cgroup v1 alone, so the tests
start it in a private mount namespace without that mount (the host's mounts
are untouched; the container's cgroups are the v1 ones runc uses too). The
tests' plumbing calls the runtime `runc` (conftest's runc mode), so for crun
a directory first on PATH holds a `runc` that is this crun wrapper; each test
checks that crun really is the container's runtime. Where crun is missing,
this is not root, or crun fails even so, the crun cases skip with the reason.
"""

import json
import os
import re
import shutil
import subprocess
import time

import psutil
import pytest

import conftest
from conftest import PATH

RUNTIMES = ["runc", "crun"]
CRUN = shutil.which("crun", path=PATH)
CRUN_WRAPPER = """#!/bin/sh
# crun in a private mount namespace without the cgroup2 mount of a hybrid host
exec unshare --mount --propagation private /bin/sh -c '
# (cgroupfs files say their size is 0: read it)
if mountpoint -q /sys/fs/cgroup/unified && [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers)" ]; then
	umount /sys/fs/cgroup/unified || exit 125
fi
exec {crun} "$@"' crun "$@"
"""
_crun_state = {}


def _crun_probe(shim, rootfs, spec, tmp):
    """None when crun (through the wrapper) runs a container, else the reason."""
    if "problem" in _crun_state:
        return _crun_state["problem"]
    bundle = tmp / "crun-probe"
    bundle.mkdir()
    cfg = json.loads(json.dumps(spec))
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/bin/true"]
    cfg["root"] = {"path": str(rootfs), "readonly": True}
    (bundle / "config.json").write_text(json.dumps(cfg))
    name = f"docktest-crun-probe-{os.getpid()}"
    res = subprocess.run([str(shim / "runc"), "run", "--bundle", str(bundle), name], capture_output=True,
                         text=True, timeout=30, stdin=subprocess.DEVNULL)
    subprocess.run([str(shim / "runc"), "delete", "-f", name], capture_output=True, timeout=30)
    problem = None
    if res.returncode != 0:
        problem = res.stderr.strip().splitlines()[-1] if res.stderr.strip() else f"crun exited {res.returncode}"
    _crun_state["problem"] = problem
    return problem


@pytest.fixture(params=RUNTIMES)
def runtime(request, monkeypatch, tmp_path_factory):
    """The OCI runtime of the test's "runc" mode runs: runc or crun."""
    if request.param == "runc":
        return "runc"
    if CRUN is None:
        pytest.skip("crun is not installed (scripts/deps.sh containers): the crun variant did not run")
    if os.geteuid() != 0:
        pytest.skip("crun needs root here: the crun variant did not run")
    shim = tmp_path_factory.mktemp("crun-shim")
    (shim / "runc").write_text(CRUN_WRAPPER.format(crun=CRUN))
    (shim / "runc").chmod(0o755)
    problem = _crun_probe(shim, request.getfixturevalue("rootfs"), request.getfixturevalue("runc_spec"),
                          tmp_path_factory.mktemp("crun-probe"))
    if problem is not None:
        pytest.skip(f"crun cannot run a container here: {problem}")
    monkeypatch.setattr(conftest, "PATH", f"{shim}:{conftest.PATH}")
    monkeypatch.setenv("PATH", f"{shim}:{os.environ.get('PATH', PATH)}")
    return "crun"


def _check_runtime(d, runtime):
    """The container's PID 1 (dock) is a child of the runtime asked for."""
    parent = psutil.Process(d.dock_pid).parent()
    assert parent is not None and parent.name() == runtime, \
        f"dock's parent is {parent.name() if parent else None}, not {runtime}"


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
        subprocess.run(["runc", "kill", d.container, "KILL"], capture_output=True, timeout=10)  # (or crun's wrapper)
        rc = d.proc.wait(timeout=10)
    elapsed = time.monotonic() - t0
    d.returncode = rc
    return rc, elapsed, killed


def test_docker_style_stop_of_well_behaved_app_is_fast(run, runtime):
    # the app exits on SIGTERM; dock forwards it and exits with the app's status
    d = run("runc", ["@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready", timeout=15)
    _check_runtime(d, runtime)
    rc, elapsed, killed = _engine_stop(d)
    out = d.out.finish()
    assert not killed, f"the engine had to SIGKILL after {ENGINE_GRACE}s; stdout={out} stderr={d.err.lines}"
    assert rc == 0, f"stderr={d.err.lines}"
    assert "main SIG 15 TERM" in out
    assert elapsed < 1.0, f"docker-style stop took {elapsed:.2f}s"


def test_docker_style_stop_of_app_with_descendants_is_fast(run, runtime):
    # the main command exits on TERM; its children, grandchildren and orphans
    # get dock's own SIGTERM right after and obey it
    d = run("runc", ["@tree", "-w", "-x", "0"])
    d.out.expect(r"^tree ready", timeout=15)
    _check_runtime(d, runtime)
    rc, elapsed, killed = _engine_stop(d)
    out = d.out.finish()
    assert not killed and rc == 0, f"rc={rc} stdout={out} stderr={d.err.lines}"
    assert "main got TERM" in out
    for tag in ["c1", "c2", "c3", "o1", "o2"]:
        assert f"{tag} exit" in out, f"{tag} did not exit on dock's SIGTERM: {out}"
    assert elapsed < 1.0, f"docker-style stop of a tree took {elapsed:.2f}s"


def test_kill_timeout_below_engine_grace_keeps_exit_status(run, runtime):
    # descendants that ignore SIGTERM: dock SIGKILLs them at --kill-timeout,
    # well before the engine's own SIGKILL, so the app's status (0) survives
    # instead of the 137 an engine kill would give
    d = run("runc", ["--kill-timeout", "1s", "@tree", "-w", "-m", "ignore", "-x", "0"])
    d.out.expect(r"^tree ready", timeout=15)
    _check_runtime(d, runtime)
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


def test_main_killed_by_sigkill_from_outside_is_137(run, runtime):
    d = run("runc", ["@sigrec"])
    d.out.expect(r"^main ready", timeout=15)
    _check_runtime(d, runtime)
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


def test_oom_kill_is_137(run, runc_spec, release_helpers, runtime):
    """The main command allocates past the container's 16 MiB limit; the OOM
    killer picks it (the largest process of the cgroup) and dock, small and
    untouched, exits 137 as an engine expects."""
    limit = 16 << 20
    d = run("runc", ["@memhog", "256", "500"], runc_spec=_memory_limited_spec(runc_spec, limit))
    d.out.expect(r"^hog start", timeout=15)
    _check_runtime(d, runtime)
    hog = _main_host_pid(d)
    events = None
    if runtime == "runc":
        # runc reports the cgroup's OOM events (cgroup v1 memory.oom_control,
        # v2 memory.events); started during memhog's 500 ms pause
        events = subprocess.Popen(["runc", "events", "--interval", "100ms", d.container],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env={"PATH": PATH})
    try:
        rc = d.wait(timeout=20)
    finally:
        if events is not None:
            try:
                ev_out, ev_err = events.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                events.kill()
                ev_out, ev_err = events.communicate()
    out = d.out.finish()
    assert "hog done" not in out, f"memhog allocated 256 MiB under a 16 MiB limit: the limit did not apply ({out})"
    assert rc == 137, f"rc={rc} stdout={out} stderr={d.err.lines}"
    if events is not None:
        types = []
        for line in ev_out.splitlines():
            try:
                types.append(json.loads(line).get("type"))
            except ValueError:
                pass
        assert "oom" in types, (f"no OOM event from `runc events` (types seen: {sorted(set(types))}, "
                                f"stderr: {ev_err.strip()!r}): was it the OOM killer?")
    else:
        # crun has no `events`: the kernel's own log names the process it killed
        deadline = time.monotonic() + 5
        while True:
            log = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
            if re.search(rf"Killed process {hog} \(memhog\)", log):
                break
            assert time.monotonic() < deadline, \
                f"the kernel log does not say the OOM killer killed memhog (pid {hog}): was it the OOM killer?"
            time.sleep(0.05)
