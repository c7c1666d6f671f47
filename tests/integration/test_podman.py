"""dock as Podman's init: `podman run --init --init-path DOCK`.

Podman bind-mounts the init binary at /run/podman-init and makes it the
container's PID 1 as `/run/podman-init -- CMD ARGS...` (the same convention
as Docker's docker-init), with the container's environment. Its own default
init is catatonit.

The module starts rootful Podman (Debian's 4.3) on storage of its own under a
temporary directory (graph root, run root and tmp dir there, the vfs storage
driver: CONTAINERS_STORAGE_CONF), with the cgroupfs manager, file events,
runc, no network, and `default_ulimits = []` (Podman's default nofile/nproc
limits exceed this machine's hard limits: CONTAINERS_CONF). It imports
the busybox test rootfs as an image and checks what the Docker tests check:
exit codes, PID 1, orphans, a fast `podman stop`, DOCK_* variables applied and
hidden. It skips, with the reason, only where podman is not installed or
this is not root; everything it made is removed at the end, whatever
happened. The whole module is bounded to about a minute.
"""

import calendar
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import artefacts
from conftest import DOCK, PATH

PODMAN = shutil.which("podman", path=PATH)
BUDGET = 60.0
IMAGE = "dock-test"
# Everything is configured through the files of CONTAINERS_CONF and
# CONTAINERS_STORAGE_CONF (none through flags), so a plain `podman ...` line,
# as README.md's, runs against this private Podman.
CONTAINERS_CONF = """\
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
tmp_dir = "{root}/tmp"
"""
STORAGE_CONF = """\
[storage]
driver = "vfs"
graphroot = "{root}/storage"
runroot = "{root}/run"
"""


class Podman:
    def __init__(self, root):
        self.root = Path(root)
        (self.root / "containers.conf").write_text(CONTAINERS_CONF.format(root=self.root))
        (self.root / "storage.conf").write_text(STORAGE_CONF.format(root=self.root))
        self.env = {"PATH": PATH, "HOME": str(self.root),
                    "CONTAINERS_CONF": str(self.root / "containers.conf"),
                    "CONTAINERS_STORAGE_CONF": str(self.root / "storage.conf")}
        self.init_path = self.root / "dock"
        shutil.copy2(DOCK, self.init_path)  # a stable copy of the session's snapshot
        self.t0 = time.monotonic()

    def left(self):
        return BUDGET - (time.monotonic() - self.t0)

    def podman(self, *args, timeout=30, check=True, input=None):
        timeout = max(1.0, min(timeout, self.left()))
        res = subprocess.run([PODMAN, *args], capture_output=True, timeout=timeout, input=input,
                             stdin=None if input is not None else subprocess.DEVNULL, env=self.env)
        if check and res.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed ({res.returncode}): "
                                 f"{res.stderr.decode(errors='replace')}")
        return res

    def run(self, *args, timeout=30):
        return self.podman("run", "--rm", "--network", "none", "--init", "--init-path", str(self.init_path),
                           *args, timeout=timeout, check=False)

    def cleanup(self):
        try:
            self.podman("rm", "-af", "-t", "0", timeout=30, check=False)
        except subprocess.TimeoutExpired:
            pass
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
                  if line.split()[1].startswith(str(self.root) + "/")]
        for m in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)


@pytest.fixture(scope="module")
def podman(rootfs):
    if PODMAN is None:
        pytest.skip("podman is not installed (Debian's podman, from scripts/deps.sh containers): "
                    "the Podman --init-path test did not run")
    if os.geteuid() != 0:
        pytest.skip("rootful Podman needs root: the Podman --init-path test did not run")
    root = tempfile.mkdtemp(prefix="dockpm-", dir="/tmp")
    p = Podman(root)
    try:
        tar = subprocess.run(["tar", "-C", str(rootfs), "-c", "."], capture_output=True, check=True).stdout
        p.podman("import", "-", IMAGE, input=tar)
        yield p
    finally:
        p.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def _text(res):
    return res.stdout.decode(errors="replace"), res.stderr.decode(errors="replace")


@pytest.mark.parametrize("cmd,code", [
    (["/helpers/exitwith", "0"], 0),
    (["/helpers/exitwith", "3"], 3),
    (["/helpers/exitwith", "sig:KILL"], 137),
    (["/helpers/exitwith", "sig:TERM"], 143),
])
def test_podman_init_exit_status(podman, cmd, code):
    res = podman.run(IMAGE, *cmd)
    assert res.returncode == code, _text(res)


def test_podman_init_is_dock_as_pid1_with_the_command_as_child(podman):
    res = podman.run(IMAGE, "sh", "-c",
                     "tr '\\0' ' ' </proc/1/cmdline; echo; /run/podman-init --version; echo ppid=$PPID")
    out, err = _text(res)
    assert res.returncode == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("/run/podman-init -- sh -c "), out
    assert lines[1].startswith("dock version "), out
    assert lines[2] == "ppid=1", out  # the command is PID 1's (dock's) own child


def test_podman_init_reaps_orphans(podman):
    res = podman.run(IMAGE, "/helpers/storm", "20")
    out, err = _text(res)
    assert res.returncode == 0, out + err
    assert re.search(r"^orphans 20 init=1\b", out, re.M), out
    assert re.search(r"^reaped ms=\d+ left=0 zombies=0$", out, re.M), out


def test_podman_init_with_dock_env(podman):
    res = podman.run("-e", "DOCK_STDOUT_PREFIX=[app] ", IMAGE, "sh", "-c", "echo hi; env | grep -c '^DOCK_' || true")
    out, err = _text(res)
    assert res.returncode == 0, err
    assert out == "[app] hi\n[app] 0\n", "DOCK_* must configure dock and not reach the command"


def _wait_logs(p, cid, pattern, timeout=10):
    deadline = time.monotonic() + min(timeout, p.left())
    text = ""
    while time.monotonic() < deadline:
        out, err = _text(p.podman("logs", cid, check=False))
        text = out + err
        if re.search(pattern, text, re.M):
            return text
        time.sleep(0.05)
    raise AssertionError(f"no {pattern!r} in the logs of {cid[:12]} within {timeout}s: {text!r}")


def test_podman_stop_of_well_behaved_app_is_fast(podman):
    cid = podman.podman("run", "-d", "--network", "none", "--init", "--init-path", str(podman.init_path),
                        IMAGE, "/helpers/sigrec", "-x", "TERM:0").stdout.decode().strip()
    try:
        _wait_logs(podman, cid, r"^main ready")
        sent = time.time()
        t0 = time.monotonic()
        podman.podman("stop", "-t", "10", cid)
        call = time.monotonic() - t0
        state = json.loads(podman.podman("inspect", "--format", "{{json .State}}", cid).stdout)
        logs = _wait_logs(podman, cid, r"^main SIG 15 TERM")
    finally:
        podman.podman("rm", "-f", "-t", "0", cid, check=False)
    assert state["ExitCode"] == 0 and not state["OOMKilled"], (state, logs)
    # the container ends within a second of the stop (as Podman recorded
    # it); the CLI's own teardown comes on top, far from the 10 s kill
    ended = _finished_at(state["FinishedAt"]) - sent
    assert ended < 1.0, f"the container ended {ended:.2f}s after podman stop"
    assert call < 5.0, f"podman stop took {call:.2f}s"


def _finished_at(stamp):
    """Podman's FinishedAt (RFC 3339 with nanoseconds and a zone) as a Unix time."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", stamp)
    assert m, stamp
    whole = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    if m.group(3) != "Z":
        sign = 1 if m.group(3)[0] == "+" else -1
        whole -= sign * (int(m.group(3)[1:3]) * 3600 + int(m.group(3)[4:6]) * 60)
    return whole + float("0." + (m.group(2) or "0"))


# --------------------------------------------------------------------------
# dock's OCI image (`make image`) and README.md's Podman line


def test_podman_loads_dock_image_and_runs_it(podman):
    a = artefacts.release_amd64()
    res = podman.podman("load", "-i", str(a["image"]), timeout=40)
    out, err = _text(res)
    assert f"Loaded image: docker.io/library/{artefacts.image_ref()}" in out + err, out + err
    # the entry point is /dock: the arguments are dock's
    run = podman.podman("run", "--rm", "--network", "none", artefacts.image_ref(), "--version", check=False)
    out, err = _text(run)
    assert run.returncode == 0, err
    assert out.startswith(f"dock version {a['version']} - git."), out


def test_readme_podman_line(podman):
    # run as README.md has it, with IMAGE and COMMAND filled in, dock at
    # /usr/local/bin/dock (a tmpfs there, in a private mount namespace)
    line = artefacts.readme_install_line("podman run ")
    assert line.endswith(" IMAGE COMMAND"), line
    cmd = line.replace(" IMAGE COMMAND", f" --network none {IMAGE} sh -c "
                       "'tr \"\\\\0\" \" \" </proc/1/cmdline; echo; /run/podman-init --version; exit 3'")
    script = (f"mount -t tmpfs tmpfs /usr/local/bin && cp {podman.init_path} /usr/local/bin/dock && {cmd}")
    res = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                         capture_output=True, text=True, timeout=max(1.0, min(30, podman.left())),
                         env=podman.env)
    assert res.returncode == 3, f"{cmd}\n{res.stdout}\n{res.stderr}"
    lines = res.stdout.splitlines()
    assert lines[0].startswith("/run/podman-init -- sh -c "), res.stdout
    assert lines[1].startswith("dock version "), res.stdout
