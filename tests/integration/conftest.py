"""Black-box integration tests of build/dock.

dock runs in three modes (the `mode` fixture):

  plain  build/dock [opts] CMD...                 (dock is a subreaper)
  pidns  unshare --pid --fork --mount-proc dock   (dock is PID 1 of a new PID namespace)
  runc   dock as PID 1 of an OCI container under runc, rootfs from busybox-static

The commands dock runs are small static helper programs (helpers/*.c, built
with musl-gcc into build/test-helpers/ and copied into the container rootfs),
so the same command line works in every mode. A command word "@NAME" stands
for the helper NAME at the right path for the mode.

Every wait is bounded: a broken dock fails a test, it never hangs the suite.
"""

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
# DOCKTEST_BINARY: run the suite against another binary (e.g. to see it fail on tini)
SOURCE_DOCK = Path(os.environ.get("DOCKTEST_BINARY", BUILD / "dock")).resolve()
HELPER_SRC = Path(__file__).resolve().parent / "helpers"
HELPER_BIN = BUILD / "test-helpers"
# The session tests a snapshot of the binary, so a `make` running meanwhile
# cannot swap (or half-write) it under a test.
DOCK = HELPER_BIN / f"dock-under-test-{os.getpid()}"
ROOTFS = BUILD / "test-rootfs"
HELPERS = ["sigrec", "exitwith", "inspect", "storm", "tree"]
CONTAINER_HELPERS = "/helpers"
CONTAINER_DOCK = "/sbin/dock"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# marks every process a test starts, so cleanup finds survivors by pid
MARK = "ZDT_RUN"

MODES = ["plain", "pidns", "runc"]


# --------------------------------------------------------------------------
# building what the tests need


def _build_helpers():
    HELPER_BIN.mkdir(parents=True, exist_ok=True)
    common = HELPER_SRC / "common.h"
    for name in HELPERS:
        src = HELPER_SRC / f"{name}.c"
        out = HELPER_BIN / name
        if out.exists() and out.stat().st_mtime >= max(src.stat().st_mtime, common.stat().st_mtime):
            continue
        tmp = out.with_name(f".{name}.{os.getpid()}.tmp")
        cmd = ["musl-gcc", "-static", "-O1", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE",
               "-o", str(tmp), str(src)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            pytest.exit(f"cannot build test helper {name}:\n{res.stderr}", returncode=3)
        os.rename(tmp, out)


def _snapshot_dock():
    if not SOURCE_DOCK.exists():
        pytest.exit(f"{SOURCE_DOCK} does not exist: run `make` first", returncode=3)
    _install(SOURCE_DOCK, DOCK)


def _install(src, dst):
    """Copies src to dst atomically (a running copy of dst is never rewritten)."""
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    shutil.copy2(src, tmp)
    os.rename(tmp, dst)


def pytest_report_header(config):
    if SOURCE_DOCK.exists():
        st = SOURCE_DOCK.stat()
        return [f"dock under test: {SOURCE_DOCK} ({st.st_size} bytes, "
                f"mtime {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(st.st_mtime))})"]
    return [f"dock under test: {SOURCE_DOCK} (missing)"]


@pytest.fixture(scope="session", autouse=True)
def built():
    _snapshot_dock()
    _build_helpers()
    yield DOCK
    DOCK.unlink(missing_ok=True)


def helper(name):
    return str(HELPER_BIN / name)


@pytest.fixture(scope="session")
def rootfs(built):
    """A busybox-static rootfs with dock at /sbin/dock and the helpers in /helpers.

    The busybox part is cached in build/test-rootfs; dock and the helpers are
    copied fresh every session so the container runs the binary under test."""
    busybox = Path("/bin/busybox")
    assert busybox.exists(), "busybox-static is not installed (/bin/busybox)"
    marker = ROOTFS / ".busybox-done"
    if not marker.exists():
        if ROOTFS.exists():
            shutil.rmtree(ROOTFS)
        for d in ["bin", "sbin", "proc", "dev", "sys", "tmp", "etc", CONTAINER_HELPERS.strip("/")]:
            (ROOTFS / d).mkdir(parents=True, exist_ok=True)
        shutil.copy2(busybox, ROOTFS / "bin" / "busybox")
        applets = subprocess.run([str(busybox), "--list"], capture_output=True, text=True,
                                 check=True).stdout.split()
        for a in applets:
            link = ROOTFS / "bin" / a
            if a != "busybox" and not link.exists():
                link.symlink_to("busybox")
        (ROOTFS / "etc" / "passwd").write_text("root:x:0:0:root:/:/bin/sh\n")
        (ROOTFS / "etc" / "group").write_text("root:x:0:\n")
        marker.write_text("ok\n")
    _install(DOCK, ROOTFS / "sbin" / "dock")
    for name in HELPERS:
        _install(HELPER_BIN / name, ROOTFS / CONTAINER_HELPERS.strip("/") / name)
    return ROOTFS


@pytest.fixture(scope="session")
def runc_spec(tmp_path_factory):
    """The default config.json of `runc spec`, made once."""
    d = tmp_path_factory.mktemp("runcspec")
    subprocess.run(["runc", "spec"], cwd=d, check=True)
    return json.loads((d / "config.json").read_text())


# --------------------------------------------------------------------------
# reading a child's output while it runs


class Lines:
    """Collects a stream line by line in a thread; lets a test wait for a line."""

    def __init__(self, stream):
        self._q = queue.Queue()
        self.lines = []
        self._done = threading.Event()
        self._t = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._t.start()
        self._pos = 0

    def _pump(self, stream):
        try:
            for raw in iter(stream.readline, b""):
                line = raw.decode(errors="replace").rstrip("\n")
                self.lines.append(line)
                self._q.put(line)
        except (ValueError, OSError):
            pass
        finally:
            self._done.set()
            self._q.put(None)

    def expect(self, pattern, timeout=10.0):
        """Waits for the next line (after those already consumed) matching pattern."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {pattern!r} within {timeout}s; got {self.lines!r}")
            try:
                line = self._q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                self._q.put(None)
                raise AssertionError(f"stream closed before a line matching {pattern!r}; got {self.lines!r}")
            m = rx.search(line)
            if m:
                return m

    def finish(self, timeout=5.0):
        """Waits for EOF (every writer gone); returns every line seen."""
        if not self._done.wait(timeout):
            raise AssertionError(f"stream still open {timeout}s after dock exited "
                                 f"(a process of the tree survived?); lines so far {self.lines!r}")
        return list(self.lines)

    @property
    def text(self):
        return "".join(line + "\n" for line in self.lines)


# --------------------------------------------------------------------------
# running dock in a mode


_counter = [0]


class Dock:
    """One run of dock in a mode. Use as a context manager: cleanup always runs."""

    def __init__(self, mode, args, env=None, stdin=subprocess.DEVNULL, pass_fds=(),
                 preexec_fn=None, rootfs=None, runc_spec=None, tmp=None):
        self.mode = mode
        self.mark = uuid.uuid4().hex
        self.args = [self._resolve(a) for a in args]
        self.env = dict(env or {})
        self._dock_pid = None
        self.container = None
        self.returncode = None
        base_env = {"PATH": PATH, MARK: self.mark}
        if mode == "plain":
            argv = [str(DOCK)] + self.args
        elif mode == "pidns":
            argv = ["unshare", "--pid", "--fork", "--mount-proc", str(DOCK)] + self.args
        elif mode == "runc":
            _counter[0] += 1
            self.container = f"docktest-{os.getpid()}-{_counter[0]}-{self.mark[:6]}"
            bundle = Path(tmp) / self.container
            bundle.mkdir(parents=True)
            cfg = json.loads(json.dumps(runc_spec))
            cfg["process"]["terminal"] = False
            cfg["process"]["args"] = [CONTAINER_DOCK] + self.args
            cfg["process"]["env"] = [f"{k}={v}" for k, v in {**base_env, **self.env}.items()]
            cfg["root"] = {"path": str(rootfs), "readonly": False}
            cfg["hostname"] = "docktest"
            (bundle / "config.json").write_text(json.dumps(cfg))
            argv = ["runc", "run", "--bundle", str(bundle), self.container]
        else:
            raise ValueError(mode)
        self.argv = argv
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**base_env, **self.env} if mode != "runc" else {"PATH": PATH},
                                     pass_fds=pass_fds, preexec_fn=preexec_fn)
        self.out = Lines(self.proc.stdout)
        self.err = Lines(self.proc.stderr)

    def _resolve(self, a):
        if isinstance(a, str) and a.startswith("@"):
            name = a[1:]
            return f"{CONTAINER_HELPERS}/{name}" if self.mode == "runc" else helper(name)
        return str(a)

    # -- dock's host pid, for signals and psutil
    @property
    def dock_pid(self):
        if self._dock_pid is not None:
            return self._dock_pid
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.mode == "plain":
                self._dock_pid = self.proc.pid
            elif self.mode == "pidns":
                try:
                    for c in psutil.Process(self.proc.pid).children():
                        if c.exe() == str(DOCK):
                            self._dock_pid = c.pid
                except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                    pass
            else:
                st = subprocess.run(["runc", "state", self.container], capture_output=True, text=True)
                if st.returncode == 0:
                    state = json.loads(st.stdout)
                    if state.get("status") == "running" and state.get("pid"):
                        self._dock_pid = state["pid"]
            if self._dock_pid is not None:
                return self._dock_pid
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise AssertionError(f"cannot find dock's pid ({self.mode}); "
                             f"stdout={self.out.lines!r} stderr={self.err.lines!r}")

    def kill(self, sig):
        """Sends sig to dock (runc: through `runc kill`)."""
        sig = signum(sig)
        if self.mode == "runc":
            self.dock_pid  # the container must be running
            res = subprocess.run(["runc", "kill", self.container, str(int(sig))],
                                 capture_output=True, text=True, timeout=10)
            assert res.returncode == 0, f"runc kill {sig} failed: {res.stderr}"
        else:
            os.kill(self.dock_pid, sig)

    def wait(self, timeout=10.0):
        """Waits for dock (or its wrapper) to exit; returns the exit status."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"dock did not exit within {timeout}s ({self.mode}); "
                                 f"stdout={self.out.lines!r} stderr={self.err.lines!r}") from None
        self.elapsed = time.monotonic() - self.t0
        return self.returncode

    def finish(self, timeout=10.0, eof_timeout=5.0):
        """Waits for exit and for both streams to close; returns (rc, stdout lines, stderr lines)."""
        rc = self.wait(timeout)
        return rc, self.out.finish(eof_timeout), self.err.finish(eof_timeout)

    # -- cleanup: nothing a test started may outlive it
    def close(self):
        if self.proc.poll() is None:
            if self.mode == "runc":
                subprocess.run(["runc", "kill", self.container, "KILL"], capture_output=True)
            elif self._dock_pid or self.mode == "plain":
                try:
                    os.kill(self.dock_pid, signal.SIGKILL)
                except (ProcessLookupError, AssertionError):
                    pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.mode == "runc":
            subprocess.run(["runc", "delete", "-f", self.container], capture_output=True)
        kill_marked(self.mark)
        for s in (self.proc.stdout, self.proc.stderr):
            try:
                s.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def marked_processes(mark):
    found = []
    for p in psutil.process_iter(["pid"]):
        try:
            if p.environ().get(MARK) == mark:
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            pass
    return found


def kill_marked(mark):
    for p in marked_processes(mark):
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass


@pytest.fixture
def run(request, tmp_path):
    """run(mode, args, **kw) starts dock; every run is cleaned up after the test."""
    started = []

    def start(mode, args, **kw):
        if mode == "runc":
            kw.setdefault("rootfs", request.getfixturevalue("rootfs"))
            kw.setdefault("runc_spec", request.getfixturevalue("runc_spec"))
            kw.setdefault("tmp", tmp_path)
        d = Dock(mode, args, **kw)
        started.append(d)
        return d

    yield start
    for d in started:
        d.close()


def dock_plain(args, env=None, timeout=10, **kw):
    """Runs build/dock ARGS to completion in plain mode: CompletedProcess (text)."""
    e = {"PATH": PATH}
    e.update(env or {})
    return subprocess.run([str(DOCK)] + [helper(a[1:]) if a.startswith("@") else a for a in args],
                          capture_output=True, text=True, timeout=timeout, env=e,
                          stdin=subprocess.DEVNULL, **kw)


def parse_signals(lines, tag="main", mode=None):
    """Names of the signals the sigrec helper tagged `tag` recorded, in order.

    Under runc a stray SIGURG may reach the container's init: Go's runtime (runc
    is Go) uses SIGURG for goroutine preemption (opencontainers/runc#3364), and
    dock rightly forwards it. For mode "runc" those are left out."""
    out = []
    for line in lines:
        m = re.match(rf"^{re.escape(tag)} SIG (\d+) (\S+)$", line)
        if m and not (mode == "runc" and m.group(2) == "URG"):
            out.append(m.group(2))
    return out


def signum(sig):
    """A signal number from a number or a name like TERM / SIGTERM."""
    if isinstance(sig, str):
        return int(signal.Signals[sig if sig.startswith("SIG") else "SIG" + sig])
    return int(sig)


def sig_label(sig):
    """The name sigrec prints for a signal number."""
    if sig < 32:
        return signal.Signals(sig).name[3:]
    return f"SIG{sig}"
