"""dock as PID 1 under containerd, the runtime path Kubernetes nodes use
(kubelet -> containerd -> containerd-shim-runc-v2 -> runc).

The module starts Debian's containerd (1.6) with a config of its own: root,
state and the gRPC/ttrpc sockets under a temporary directory, the CRI plugin
off (no kubelet here). It imports, with `ctr image import`, an OCI archive of
the busybox test rootfs (dock at /sbin/dock, the test helpers in /helpers),
then runs containers with `ctr run` whose process is
`/sbin/dock -- COMMAND`: dock is the container's PID 1, as in an image whose
ENTRYPOINT is dock. It checks exit statuses, and that
`ctr task kill -s SIGTERM` (what the kubelet's stop amounts to) ends the app
and an orphan of its tree gracefully and quickly. It also imports dock's own
OCI image (`make image`) and runs /dock from it. It skips, with the reason,
only where containerd or ctr is not installed or this is not root; the daemon
and everything it made are removed at the end, whatever happened.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import artefacts
from conftest import DOCK, PATH, Lines

CONTAINERD = shutil.which("containerd", path=PATH)
CTR = shutil.which("ctr", path=PATH)
BUDGET = 60.0
NAMESPACE = "docktest"
IMAGE = "docker.io/library/dock-test:latest"
CONFIG = """\
version = 2
root = "{root}/root"
state = "{root}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{root}/c.sock"

[ttrpc]
  address = "{root}/c.sock.ttrpc"
"""


class Containerd:
    def __init__(self, root):
        self.root = Path(root)
        self.sock = self.root / "c.sock"
        self.log = self.root / "containerd.log"
        (self.root / "config.toml").write_text(CONFIG.format(root=self.root))
        self.proc = None
        self.t0 = time.monotonic()
        self._n = 0

    def left(self):
        return BUDGET - (time.monotonic() - self.t0)

    def start(self, timeout=20):
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([CONTAINERD, "--config", str(self.root / "config.toml")],
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env={"PATH": PATH}, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"containerd exited with status {self.proc.returncode}:\n{self.log_tail()}"
            if self.sock.exists() and self.ctr("version", timeout=5, check=False).returncode == 0:
                return None
            time.sleep(0.1)
        return f"containerd did not answer within {timeout}s:\n{self.log_tail()}"

    def log_tail(self, n=15):
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def argv(self, *args):
        return [CTR, "--address", str(self.sock), "--namespace", NAMESPACE, *args]

    def ctr(self, *args, timeout=30, check=True):
        timeout = max(1.0, min(timeout, self.left()))
        res = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=timeout,
                             stdin=subprocess.DEVNULL, env={"PATH": PATH})
        if check and res.returncode != 0:
            raise AssertionError(f"ctr {' '.join(args)} failed ({res.returncode}): {res.stderr}")
        return res

    def new_id(self):
        self._n += 1
        return f"docktest-{os.getpid()}-{self._n}"

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                for task in self.ctr("task", "ls", "-q", timeout=10, check=False).stdout.split():
                    self.ctr("task", "kill", "-s", "SIGKILL", task, timeout=10, check=False)
                    self.ctr("task", "delete", "-f", task, timeout=10, check=False)
                for c in self.ctr("container", "ls", "-q", timeout=10, check=False).stdout.split():
                    self.ctr("container", "delete", c, timeout=10, check=False)
            except subprocess.TimeoutExpired:
                pass
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
                  if line.split()[1].startswith(str(self.root) + "/")]
        for m in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)


@pytest.fixture(scope="module")
def containerd(rootfs):
    if CONTAINERD is None or CTR is None:
        pytest.skip("containerd/ctr is not installed (Debian's containerd, from scripts/deps.sh containers): "
                    "the containerd test did not run")
    if os.geteuid() != 0:
        pytest.skip("containerd needs root: the containerd test did not run")
    root = tempfile.mkdtemp(prefix="dockctd-", dir="/tmp")  # short: unix socket paths are bounded
    c = Containerd(root)
    try:
        problem = c.start()
        assert problem is None, f"containerd is installed but did not start: {problem}"
        archive = artefacts.rootfs_oci_archive(rootfs, Path(root) / "dock-test.tar", IMAGE)
        c.ctr("image", "import", str(archive), timeout=40)
        yield c
    finally:
        c.stop()
        shutil.rmtree(root, ignore_errors=True)


def _run(c, *cmd, image=IMAGE, timeout=30):
    return c.ctr("run", "--rm", image, c.new_id(), *cmd, timeout=timeout, check=False)


@pytest.mark.parametrize("cmd,code", [
    (["/helpers/exitwith", "0"], 0),
    (["/helpers/exitwith", "3"], 3),
    (["/helpers/exitwith", "sig:KILL"], 137),
    (["/helpers/exitwith", "sig:TERM"], 143),
])
def test_ctr_run_exit_status(containerd, cmd, code):
    res = _run(containerd, "/sbin/dock", "--", *cmd)
    assert res.returncode == code, (res.stdout, res.stderr)


def test_ctr_run_dock_is_pid1_and_reaps_orphans(containerd):
    res = _run(containerd, "/sbin/dock", "--", "sh", "-c",
               "tr '\\0' ' ' </proc/1/cmdline; echo; echo ppid=$PPID; /helpers/storm 20")
    assert res.returncode == 0, (res.stdout, res.stderr)
    lines = res.stdout.splitlines()
    assert lines[0].startswith("/sbin/dock -- sh -c "), res.stdout
    assert lines[1] == "ppid=1", res.stdout
    assert re.search(r"^orphans 20 init=1\b", res.stdout, re.M), res.stdout
    assert re.search(r"^reaped ms=\d+ left=0 zombies=0$", res.stdout, re.M), res.stdout


def test_ctr_task_kill_sigterm_stops_app_and_orphan_gracefully(containerd):
    # the app exits 0 on SIGTERM; its children and orphans (o1, o2) get dock's
    # own SIGTERM once it is gone, and obey: nothing needs a SIGKILL
    cid = containerd.new_id()
    proc = subprocess.Popen(containerd.argv("run", "--rm", IMAGE, cid, "/sbin/dock", "--",
                                            "/helpers/tree", "-w", "-x", "0"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env={"PATH": PATH})
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        out.expect(r"^tree ready", timeout=min(20, containerd.left()))
        t0 = time.monotonic()
        containerd.ctr("task", "kill", "-s", "SIGTERM", cid)
        rc = proc.wait(timeout=10)
        elapsed = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            containerd.ctr("task", "kill", "-s", "SIGKILL", cid, check=False)
            proc.wait(timeout=10)
    lines = out.finish()
    assert rc == 0, f"rc={rc} stdout={lines} stderr={err.lines}"
    assert "main got TERM" in lines, lines
    for tag in ["c1", "c2", "c3", "o1", "o2"]:
        assert f"{tag} exit" in lines, f"{tag} did not exit on dock's SIGTERM: {lines}"
    assert elapsed < 1.0, f"ctr task kill -s SIGTERM to exit took {elapsed:.2f}s"


def test_ctr_imports_and_runs_dock_oci_image(containerd):
    # dock's own image (`make image`): /dock alone, the entry point
    a = artefacts.release_amd64()
    res = containerd.ctr("image", "import", str(a["image"]), timeout=30)
    ref = f"docker.io/library/{artefacts.image_ref()}"
    assert ref in containerd.ctr("image", "ls", "-q").stdout.split(), res.stdout
    run = _run(containerd, "/dock", "--version", image=ref)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"dock version {a['version']} - git."), run.stdout
    # the image's own entry point is /dock: with no process args, dock's usage error (exit 2)
    bare = containerd.ctr("run", "--rm", ref, containerd.new_id(), check=False)
    assert bare.returncode == 2 and bare.stderr.startswith("dock: "), (bare.returncode, bare.stderr)


def test_readme_entrypoint_line_under_containerd(containerd, rootfs, tmp_path):
    # an image as README.md's Install section makes it (/dock copied in, its
    # ENTRYPOINT line), the app as CMD; `ctr run` with no command runs
    # ENTRYPOINT + CMD, as the kubelet does for a pod without command/args
    line = artefacts.readme_install_line("ENTRYPOINT ")
    entrypoint = json.loads(line[len("ENTRYPOINT "):])
    cmd = ["sh", "-c", "tr '\\0' ' ' </proc/1/cmdline; echo; echo ppid=$PPID; exit 3"]
    ref = "docker.io/library/dock-entrypoint:test"
    archive = artefacts.rootfs_oci_archive(rootfs, tmp_path / "entrypoint.tar", ref, extra={"/dock": DOCK},
                                           image_config={"Entrypoint": entrypoint, "Cmd": cmd})
    containerd.ctr("image", "import", str(archive), timeout=30)
    res = containerd.ctr("run", "--rm", ref, containerd.new_id(), check=False)
    assert res.returncode == 3, (res.stdout, res.stderr)
    lines = res.stdout.splitlines()
    assert lines[0] == "/dock -- sh -c " + cmd[2] + " ", res.stdout
    assert lines[1] == "ppid=1", res.stdout
