"""dock as Docker's init (`dockerd --init-path=dock`, `docker run --init`).

Docker bind-mounts the init binary at /sbin/docker-init and makes it the
container's PID 1 as

    /sbin/docker-init -- CMD ARGS...

(the image's ENTRYPOINT and CMD after the `--`), with the container's
environment, so DOCK_* variables given with `docker run -e` configure dock.
On the host, dockerd runs `INIT --version` for `docker info`.

Part (a) checks that calling convention on the binary alone, always.
Part (b) runs a real dockerd (Debian's docker.io, installed by
scripts/deps.sh) with its own data root, exec root, pid file and socket under
a temporary directory, imports the busybox test rootfs as an image, and runs
containers with `--init`; it is skipped, with the reason, only where dockerd
is not installed, this is not root, or DOCKTEST_NO_DOCKER is set; a dockerd
that is installed but does not start fails the test with its log. The daemon
is always stopped at the end. The whole of part (b) is bounded to about 90 s.
"""

import calendar
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

from conftest import DOCK, PATH, ROOT, helper

# --------------------------------------------------------------------------
# (a) the calling convention, on the binary alone

DOCKER_INIT = "/sbin/docker-init"  # the name dock has inside a --init container


def init(args, env=None, timeout=10):
    """Runs dock the way Docker does: argv[0] /sbin/docker-init, then ARGS."""
    return subprocess.run([DOCKER_INIT] + args, executable=str(DOCK), capture_output=True, text=True,
                          timeout=timeout, env={"PATH": PATH, **(env or {})}, stdin=subprocess.DEVNULL)


def _git_commit():
    """(short hash of HEAD, tracked files changed) of this checkout, or None
    outside git."""
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return None
    dirty = subprocess.run(["git", "-C", str(ROOT), "diff", "--quiet", "HEAD", "--"]).returncode != 0
    return head.stdout.strip(), dirty


def test_version_output_format():
    res = init(["--version"])
    assert res.returncode == 0 and res.stderr == "", res.stderr
    # one line in tini's format, "dock version X.Y.Z - git.COMMIT": dockerd
    # splits it on " - " and the commit part on "." for docker info
    m = re.fullmatch(r"dock version (\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?) - git\.([0-9a-f]+)(-dirty)?\n", res.stdout)
    assert m, repr(res.stdout)
    makefile = (ROOT / "Makefile").read_text()
    version = re.search(r"^VERSION\s*:?=\s*(\S+)", makefile, re.M).group(1)
    assert m.group(1) == version
    git = _git_commit()
    if git is not None:
        # the commit this tree is at (a build from an older commit would differ;
        # "-dirty" is only asserted one way: a clean tree's build says clean)
        head, dirty = git
        assert head.startswith(m.group(2)) or m.group(2).startswith(head), (m.group(2), head)
        if m.group(3):
            assert dirty, "the build says -dirty but the tree is clean (stale build?)"


def test_short_version_flag_too():
    assert init(["-v"]).stdout == init(["--version"]).stdout


def test_double_dash_then_command_status():
    assert init(["--", "sh", "-c", "exit 7"]).returncode == 7


def test_option_like_args_after_the_command_belong_to_it():
    # `dock -- sh -c 'exit 3' --version`: --version is sh's $0, not dock's option
    res = init(["--", "sh", "-c", "exit 3", "--version"])
    assert res.returncode == 3, res.stderr
    assert "dock version" not in res.stdout
    res = init(["--", "sh", "-c", 'printf "%s|" "$0" "$@"', "--version", "--help", "-d", "--", "--kill-timeout"])
    assert res.returncode == 0, res.stderr
    assert res.stdout == "--version|--help|-d|--|--kill-timeout|"
    assert res.stderr == ""


def test_command_that_looks_like_an_option():
    # after `--`, even `--help` is the command's name (and here not found)
    res = init(["--", "--help"])
    assert res.returncode == 127
    assert "usage" not in res.stdout
    assert "--help" in res.stderr


def test_no_command_after_double_dash_is_usage_error():
    res = init(["--"])
    assert res.returncode == 2
    assert res.stderr.startswith("dock: ")


def test_command_exit_and_signal_statuses():
    assert init(["--", helper("exitwith"), "0"]).returncode == 0
    assert init(["--", helper("exitwith"), "42"]).returncode == 42
    assert init(["--", helper("exitwith"), "sig:KILL"]).returncode == 137
    assert init(["--", "/nonexistent/entrypoint"]).returncode == 127


def test_container_environment_configures_dock():
    # `docker run --init -e DOCK_STDOUT_PREFIX=...`: the container's env is dock's
    res = init(["--", "sh", "-c", "echo hi; env | grep -c '^DOCK_' || true"],
               env={"DOCK_STDOUT_PREFIX": "[app] ", "DOCK_KILL_TIMEOUT": "2s", "KEEP": "1"})
    assert res.returncode == 0, res.stderr
    assert res.stdout == "[app] hi\n[app] 0\n", "DOCK_* must configure dock and not reach the command"


# --------------------------------------------------------------------------
# (b) a real dockerd

DOCKERD = shutil.which("dockerd", path=PATH)
# Debian's client, matching the daemon's API (not a newer one on PATH first)
DOCKER_CLI = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else shutil.which("docker", path=PATH)
BUDGET = 90.0           # seconds for the whole of parts (b), (c) and (d)
IMAGE = "dock-test"


class Dockerd:
    def __init__(self, root, init_path):
        self.root = Path(root)
        self.sock = self.root / "docker.sock"
        self.pidfile = self.root / "docker.pid"
        self.log = self.root / "dockerd.log"
        self.init_path = init_path
        self.proc = None
        self.t0 = time.monotonic()

    def start(self, timeout=25):
        argv = [DOCKERD,
                "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "exec"),
                "--pidfile", str(self.pidfile), "-H", f"unix://{self.sock}",
                "--storage-driver=overlay2", "--iptables=false", "--ip6tables=false", "--bridge=none",
                "--exec-opt", "native.cgroupdriver=cgroupfs",
                # its own containerd namespaces: never touches another daemon's containers
                "--containerd-namespace", f"docktest{os.getpid()}",
                "--containerd-plugins-namespace", f"docktest{os.getpid()}p",
                f"--init-path={self.init_path}"]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env={"PATH": PATH}, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"dockerd exited with status {self.proc.returncode}:\n{self.log_tail()}"
            if self.sock.exists() and self.docker("version", timeout=5, check=False).returncode == 0:
                return None
            time.sleep(0.1)  # poll step: dockerd says nothing when it is ready
        return f"dockerd did not answer within {timeout}s:\n{self.log_tail()}"

    def log_tail(self, n=15):
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def left(self):
        return BUDGET - (time.monotonic() - self.t0)

    def docker(self, *args, timeout=30, check=True, input=None):
        timeout = max(1.0, min(timeout, self.left()))
        res = subprocess.run([DOCKER_CLI, "-H", f"unix://{self.sock}", *args], capture_output=True,
                             timeout=timeout, input=input, env={"PATH": PATH, "DOCKER_BUILDKIT": "0"})
        if check and res.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed ({res.returncode}): "
                                 f"{res.stderr.decode(errors='replace')}")
        return res

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                ids = self.docker("ps", "-aq", timeout=10, check=False).stdout.decode().split()
                if ids:
                    self.docker("rm", "-f", *ids, timeout=20, check=False)
            except (subprocess.TimeoutExpired, AssertionError):
                pass
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                # its whole session: dockerd and the containerd it started
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # whatever the daemon left mounted under its roots
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
                  if line.split()[1].startswith(str(self.root) + "/")]
        for m in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)


@pytest.fixture(scope="module")
def dockerd(rootfs):
    if DOCKERD is None or DOCKER_CLI is None:
        pytest.skip("dockerd is not installed (Debian's docker.io, from scripts/deps.sh): "
                    "the real-Docker part of the --init-path test did not run")
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root: the real-Docker part of the --init-path test did not run")
    if os.environ.get("DOCKTEST_NO_DOCKER"):
        pytest.skip("DOCKTEST_NO_DOCKER is set: the real-Docker part of the --init-path test did not run")
    root = tempfile.mkdtemp(prefix="dockd-", dir="/tmp")  # short: unix socket paths are bounded
    init_path = Path(root) / "dock"
    shutil.copy2(DOCK, init_path)  # a stable copy: the session's snapshot of build/dock
    d = Dockerd(root, init_path)
    try:
        problem = d.start()
        assert problem is None, f"dockerd is installed but did not start: {problem}"
        tar = subprocess.run(["tar", "-C", str(rootfs), "-c", "."], capture_output=True, check=True).stdout
        d.docker("import", "-", IMAGE, input=tar)
        yield d
    finally:
        d.stop()
        shutil.rmtree(root, ignore_errors=True)


def _run(d, *args, timeout=30):
    return d.docker("run", "--rm", "--init", "--network", "none", *args, timeout=timeout, check=False)


def test_docker_info_names_dock_as_init(dockerd):
    info = json.loads(dockerd.docker("info", "--format", "{{json .}}").stdout)
    assert info["InitBinary"] == str(dockerd.init_path), info["InitBinary"]


def test_docker_run_init_exit_status(dockerd):
    res = _run(dockerd, IMAGE, "sh", "-c", "exit 7")
    assert res.returncode == 7, res.stderr.decode(errors="replace")


def test_docker_run_init_is_dock_as_pid1(dockerd):
    res = _run(dockerd, IMAGE, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; /sbin/docker-init --version")
    out = res.stdout.decode()
    assert res.returncode == 0, res.stderr.decode(errors="replace")
    lines = out.splitlines()
    assert lines[0].startswith("/sbin/docker-init -- sh -c "), out
    assert lines[1].startswith("dock version "), out


def test_docker_run_init_with_dock_env(dockerd):
    res = _run(dockerd, "-e", "DOCK_STDOUT_PREFIX=[app] ", IMAGE, "sh", "-c", "echo hi; env | grep -c '^DOCK_' || true")
    assert res.returncode == 0, res.stderr.decode(errors="replace")
    assert res.stdout.decode() == "[app] hi\n[app] 0\n"


def test_docker_run_init_reaps_orphans(dockerd):
    res = _run(dockerd, IMAGE, "/helpers/storm", "20")
    out = res.stdout.decode()
    assert res.returncode == 0, out + res.stderr.decode(errors="replace")
    assert re.search(r"^orphans 20 init=1\b", out, re.M), out
    assert re.search(r"^reaped ms=\d+ left=0 zombies=0$", out, re.M), out


def _wait_logs(d, cid, pattern, timeout=10):
    deadline = time.monotonic() + min(timeout, d.left())
    while time.monotonic() < deadline:
        logs = d.docker("logs", cid, check=False)
        text = logs.stdout.decode(errors="replace") + logs.stderr.decode(errors="replace")
        if re.search(pattern, text, re.M):
            return text
        time.sleep(0.05)  # poll step: docker logs is read, not followed
    raise AssertionError(f"no {pattern!r} in the logs of {cid[:12]} within {timeout}s: {text!r}")


def _finished_at(state):
    """State.FinishedAt (RFC 3339, nanoseconds, UTC) as a Unix time."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", state["FinishedAt"])
    assert m, state["FinishedAt"]
    whole = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    return whole + float("0." + (m.group(2) or "0"))


def _timed_stop(d, cid, grace=10):
    """docker stop: (seconds from the request to the container's end as the
    daemon recorded it, seconds the whole CLI call took, final State)."""
    sent = time.time()
    t0 = time.monotonic()
    d.docker("stop", "-t", str(grace), cid)
    call = time.monotonic() - t0
    state = json.loads(d.docker("inspect", "--format", "{{json .State}}", cid).stdout)
    return _finished_at(state) - sent, call, state


def test_docker_stop_of_well_behaved_app_is_fast(dockerd):
    cid = dockerd.docker("run", "-d", "--init", "--network", "none", IMAGE,
                         "/helpers/sigrec", "-x", "TERM:0").stdout.decode().strip()
    try:
        _wait_logs(dockerd, cid, r"^main ready")
        ended, call, state = _timed_stop(dockerd, cid)
        logs = _wait_logs(dockerd, cid, r"^main SIG 15 TERM")
    finally:
        dockerd.docker("rm", "-f", cid, check=False)
    assert state["ExitCode"] == 0 and not state["OOMKilled"], (state, logs)
    # the container ends within a second; the CLI's own round trip (the
    # daemon's teardown of the container) comes on top, far from the 10 s kill
    assert ended < 1.0, f"the container ended {ended:.2f}s after docker stop"
    assert call < 5.0, f"docker stop took {call:.2f}s"


def test_example_dockerfile_builds_and_runs(dockerd, tmp_path):
    # examples/Dockerfile with the test rootfs as its base (no registry here)
    ctx = tmp_path / "ctx"
    shutil.copytree(ROOT / "examples", ctx, ignore=shutil.ignore_patterns("dock"))
    shutil.copy2(DOCK, ctx / "dock")
    dockerd.docker("build", "-q", "--build-arg", f"BASE={IMAGE}", "-t", "hello-dock-test", str(ctx), timeout=40)
    cid = dockerd.docker("run", "-d", "--network", "none", "hello-dock-test").stdout.decode().strip()
    try:
        # kubernetes.yaml's readiness probe, run the same way
        probe = ["exec", cid, "grep", "-q", '"status":"running"', "/run/dock/status.json"]
        deadline = time.monotonic() + min(10, dockerd.left())
        while dockerd.docker(*probe, check=False).returncode != 0:
            assert time.monotonic() < deadline, "the example never became ready (status file)"
            time.sleep(0.1)  # poll step: the probe is a command, as kubernetes runs it
        page = dockerd.docker("exec", cid, "wget", "-q", "-O", "-", "http://127.0.0.1:8080/").stdout.decode()
        assert "hello from dock" in page
        logs = _wait_logs(dockerd, cid, r"response:200")
        assert "\x1b[32;1mweb\x1b[0m" in logs, repr(logs)  # DOCK_STDOUT_PREFIX=web:green
        ended, call, state = _timed_stop(dockerd, cid)
    finally:
        dockerd.docker("rm", "-f", cid, check=False)
    assert state["ExitCode"] == 128 + 15, state  # httpd dies of the SIGTERM dock forwards
    assert ended < 1.0 and call < 5.0, f"docker stop of the example: ended after {ended:.2f}s, call {call:.2f}s"


# --------------------------------------------------------------------------
# (c) docker info reads dock's --version; dock's OCI image in Docker
# (docker load, COPY --from, the example Dockerfile both ways); README.md's
# Docker lines. Each a function of its own, on the module's dockerd.

import artefacts  # noqa: E402  (the amd64 release artefacts, built once per session)


def test_docker_info_shows_dock_commit(dockerd):
    # dockerd runs `INIT --version` and parses tini's "NAME version X - git.COMMIT":
    # with dock's output it shows the commit instead of N/A
    out = subprocess.run([str(dockerd.init_path), "--version"], capture_output=True, text=True).stdout
    m = re.fullmatch(r"dock version \S+ - git\.([0-9A-Za-z-]+)\n", out)
    assert m, f"dock --version is not in tini's format: {out!r}"
    init = json.loads(dockerd.docker("info", "--format", "{{json .InitCommit}}").stdout)
    assert init["ID"] == m.group(1), (init, out)
    text = dockerd.docker("info").stdout.decode()
    assert re.search(rf"^\s*init version: {re.escape(m.group(1))}\s*$", text, re.M | re.I), text


def test_readme_dockerd_line_is_the_test_daemons_option(dockerd):
    # the option README.md gives is the one this module's dockerd runs with
    line = artefacts.readme_install_line("dockerd ")
    words = line.split()
    assert words[:2] == ["dockerd", "--init-path"] and len(words) == 3, line
    assert subprocess.run([DOCKERD, "--help"], capture_output=True, text=True).stdout.count("--init-path") == 1
    info = json.loads(dockerd.docker("info", "--format", "{{json .}}").stdout)
    assert info["InitBinary"] == str(dockerd.init_path)


def _load_dock_image(d):
    a = artefacts.release_amd64()
    res = d.docker("load", "-i", str(a["image"]), timeout=30)
    assert f"Loaded image: {artefacts.image_ref()}" in res.stdout.decode(), res.stdout
    return a


def test_docker_loads_dock_image(dockerd):
    a = _load_dock_image(dockerd)
    res = dockerd.docker("run", "--rm", "--network", "none", artefacts.image_ref(), "--version")
    assert res.stdout.decode().startswith(f"dock version {a['version']} - git."), res.stdout


def test_docker_build_copy_from_dock_image_readme_lines(dockerd, tmp_path):
    # a Dockerfile of README.md's two lines on the test image: dock comes
    # from its OCI image and is PID 1 as the entry point
    _load_dock_image(dockerd)
    (tmp_path / "Dockerfile").write_text(
        f"FROM {IMAGE}\n"
        f"{artefacts.readme_install_line('COPY --from=')}\n"
        f"{artefacts.readme_install_line('ENTRYPOINT ')}\n"
        'CMD ["sh", "-c", "tr \'\\\\0\' \' \' </proc/1/cmdline; echo; echo ppid=$PPID; exit 3"]\n')
    dockerd.docker("build", "-q", "-t", "dock-copy-from-test", str(tmp_path), timeout=40)
    res = dockerd.docker("run", "--rm", "--network", "none", "dock-copy-from-test", check=False)
    out = res.stdout.decode()
    assert res.returncode == 3, out + res.stderr.decode(errors="replace")
    lines = out.splitlines()
    assert lines[0].startswith("/dock -- sh -c "), out
    assert lines[1] == "ppid=1", out


def test_example_dockerfile_with_copy_from_dock_image(dockerd, tmp_path):
    # examples/Dockerfile's other way: its COPY line swapped for the
    # `COPY --from=dock:VERSION` its comment gives
    a = _load_dock_image(dockerd)
    ctx = tmp_path / "ctx"
    shutil.copytree(ROOT / "examples", ctx, ignore=shutil.ignore_patterns("dock"))
    text = (ctx / "Dockerfile").read_text()
    copy_from = re.search(r"^#\s+(COPY --from=dock:(\S+) /dock /dock)$", text, re.M)
    assert copy_from, "examples/Dockerfile does not show the COPY --from way"
    assert copy_from.group(2) == a["version"], copy_from.group(0)
    assert text.count("\nCOPY dock /dock\n") == 1
    (ctx / "Dockerfile").write_text(text.replace("\nCOPY dock /dock\n", f"\n{copy_from.group(1)}\n"))
    dockerd.docker("build", "-q", "--build-arg", f"BASE={IMAGE}", "-t", "hello-dock-copy-from", str(ctx), timeout=40)
    res = dockerd.docker("run", "--rm", "--network", "none", "hello-dock-copy-from", "sh", "-c", "echo hi; exit 5",
                         check=False)
    assert res.returncode == 5, res.stderr.decode(errors="replace")
    assert res.stdout.decode() == "\x1b[32;1mweb\x1b[0mhi\n", res.stdout  # DOCK_STDOUT_PREFIX=web:green
    ver = dockerd.docker("run", "--rm", "--network", "none", "--entrypoint", "/dock", "hello-dock-copy-from",
                         "--version").stdout.decode()
    assert ver.startswith(f"dock version {a['version']} - git."), ver


def test_example_dockerfile_with_release_archive_binary(dockerd, tmp_path):
    # examples/Dockerfile as it is, with the binary its comment unpacks from
    # the release archive
    a = artefacts.release_amd64()
    ctx = tmp_path / "ctx"
    shutil.copytree(ROOT / "examples", ctx, ignore=shutil.ignore_patterns("dock"))
    unpack = re.search(r"^#\s+(tar -xzf dock-\S+-linux-amd64\.tgz .*)$", (ctx / "Dockerfile").read_text(), re.M)
    assert unpack, "examples/Dockerfile does not say how to take dock from the release archive"
    shutil.copy2(a["tgz"], ctx)
    res = subprocess.run(["sh", "-c", unpack.group(1)], cwd=ctx, capture_output=True, text=True, timeout=30)
    assert res.returncode == 0 and (ctx / "dock").exists(), (unpack.group(1), res.stderr)
    (ctx / a["tgz"].name).unlink()
    dockerd.docker("build", "-q", "--build-arg", f"BASE={IMAGE}", "-t", "hello-dock-archive", str(ctx), timeout=40)
    res = dockerd.docker("run", "--rm", "--network", "none", "hello-dock-archive", "sh", "-c", "exit 6", check=False)
    assert res.returncode == 6, res.stderr.decode(errors="replace")


# --------------------------------------------------------------------------
# (d) docker stop with the web hook down: dock's own exit code, never Docker's SIGKILL


class _HungHook:
    """Accepts connections on 127.0.0.1 and never answers."""

    def __init__(self):
        import socket
        import threading
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.received = []

        def serve():
            while True:
                try:
                    c, _ = self.sock.accept()
                except OSError:
                    return
                self.conns.append(c)
                threading.Thread(target=lambda c=c: self.received.append(c.recv(65536)), daemon=True).start()
        threading.Thread(target=serve, daemon=True).start()

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.mark.parametrize("hook", ["refused", "hung"])
def test_docker_stop_with_the_hook_down_ends_with_docks_exit_code(dockerd, hook):
    """Every default (docker stop's 10 s grace, --kill-timeout 5s,
    --web-hook-timeout 10s): a command that takes 3 s to stop after SIGTERM,
    a child that goes with the tree's SIGTERM, and a hook that refuses (no
    server: --network none) or accepts and never answers (a server of the
    test's: --network host). The container must end with dock's exit code
    (the command's 0), well before Docker's SIGKILL at 10 s: the hook holds
    the exit at most --web-hook-exit-timeout (2 s) once the tree is gone."""
    srv = _HungHook() if hook == "hung" else None
    port = srv.port if srv else 1
    net = "host" if srv else "none"
    script = "trap 'sleep 3; exit 0' TERM; echo up; sleep 1000 & wait"
    try:
        cid = dockerd.docker("run", "-d", "--init", "--network", net,
                             "-e", f"DOCK_WEB_HOOK=http://127.0.0.1:{port}/hook", IMAGE,
                             "sh", "-c", script).stdout.decode().strip()
        try:
            _wait_logs(dockerd, cid, r"^up$")
            if srv:
                deadline = time.monotonic() + 10
                while not srv.received and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert srv.received, "dock never reached the hook server"
            sent = time.time()
            dockerd.docker("stop", cid, timeout=30)     # the default grace: 10 s
            state = json.loads(dockerd.docker("inspect", "--format", "{{json .State}}", cid).stdout)
            logs = dockerd.docker("logs", cid, check=False)
            text = logs.stdout.decode(errors="replace") + logs.stderr.decode(errors="replace")
        finally:
            dockerd.docker("rm", "-f", cid, check=False)
    finally:
        if srv:
            srv.close()
    ended = _finished_at(state) - sent
    print(f"docker stop, hook {hook}: container ended {ended:.2f}s after the request, exit {state['ExitCode']}")
    assert state["ExitCode"] == 0, (state, text)
    # 3 s for the command, then at most 2 s for the hook (plus the daemon's
    # round trips), far from the 10 s of docker stop's SIGKILL
    assert 3.0 <= ended < 3.0 + 2.0 + 2.0, f"the container ended {ended:.2f}s after docker stop: {text}"
    # the final status had its own attempt, and was the only one that failed at the end
    assert "status 'stopped' not delivered" in text, text
    if srv:
        assert any(b'"status":"stopped"' in r for r in srv.received), srv.received
