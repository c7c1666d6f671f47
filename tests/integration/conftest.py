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
# timing under load (README.md, "Timing": how a time bound stays honest on a
# loaded machine)


def _time_scale():
    raw = os.environ.get("DOCKTEST_TIME_SCALE", "1")
    try:
        v = float(raw)
    except ValueError:
        v = 0
    if not 0 < v <= 100:
        raise pytest.UsageError(f"DOCKTEST_TIME_SCALE={raw!r}: want a number in (0, 100]")
    return v


TIME_SCALE = _time_scale()
_NCPU = os.cpu_count() or 1
# beyond this the machine is too busy for any bound to mean something
_MAX_LOAD_FACTOR = 20.0


def load_factor():
    """How many times slower than on an idle machine a process may be served
    right now: the larger of 1, the 1-minute load average per CPU and the
    tasks runnable at this moment per CPU (both from /proc/loadavg; the
    second sees a load that has just begun, which the average does not yet),
    times DOCKTEST_TIME_SCALE (default 1) for a slowness the load does not
    show (a niced run, qemu, sanitizers)."""
    try:
        with open("/proc/loadavg") as f:
            fields = f.read().split()
        avg1 = float(fields[0])
        runnable = int(fields[3].split("/")[0]) - 1  # less the reader itself
    except (OSError, ValueError, IndexError):
        avg1 = runnable = 0
    return min(max(1.0, avg1 / _NCPU, runnable / _NCPU), _MAX_LOAD_FACTOR) * TIME_SCALE


def slack(seconds):
    """An upper time bound (a latency, a failure timeout) scaled by
    load_factor(). Lower bounds ("not before") are never scaled: load only
    makes things later."""
    return seconds * load_factor()


def wait_for(predicate, timeout=10.0, what="the condition", step=0.01):
    """Polls predicate until it returns something true, and returns that:
    for a state no line or request announces (a file appears, a process
    starts). Fails after slack(timeout)."""
    deadline = time.monotonic() + slack(timeout)
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s (x{load_factor():.1f} for load)")
        time.sleep(step)  # poll step


def _proc_state_and_wakeups(pid):
    """(state letter, voluntary context switches) of pid, or None once gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches:"):
                    return state, int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return None


def wait_asleep(pid, timeout=10.0):
    """Waits until pid has finished what it was doing: it sleeps in the
    kernel (state S) and, looked at again 50 ms later, still does with no
    wake-up in between (its voluntary context switches unchanged). A busy
    or a still-waking process fails the second look and is looked at again,
    so on a loaded machine this waits longer instead of going wrong."""
    def settled():
        a = _proc_state_and_wakeups(pid)
        if a is None or a[0] != "S":
            return False
        time.sleep(0.05)  # between the two looks
        return _proc_state_and_wakeups(pid) == a
    wait_for(settled, timeout, what=f"pid {pid} falling asleep", step=0.01)


def voluntary_switches(pid):
    """Times pid went to sleep of its own accord (blocked in a system call):
    its wake-ups. Unlike involuntary switches, load does not add to them."""
    st = _proc_state_and_wakeups(pid)
    if st is None:
        raise AssertionError(f"pid {pid} is gone")
    return st[1]


def cpu_seconds(pid):
    """CPU time pid has run, from /proc/PID/schedstat (nanoseconds; the
    tick-based times of /proc/PID/stat are 10 ms coarse)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


# --------------------------------------------------------------------------
# reading a child's output while it runs


class Lines:
    """Collects a stream line by line in a thread, each stamped with its arrival
    time (time.monotonic()); lets a test wait for a line."""

    def __init__(self, stream):
        self._q = queue.Queue()
        self.lines = []
        self.items = []          # (arrival time, line)
        self._done = threading.Event()
        self._t = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._t.start()

    def _pump(self, stream):
        try:
            for raw in iter(stream.readline, b""):
                item = (time.monotonic(), raw.decode(errors="replace").rstrip("\n"))
                self.items.append(item)
                self.lines.append(item[1])
                self._q.put(item)
        except (ValueError, OSError):
            pass
        finally:
            self._done.set()
            self._q.put(None)

    def expect_at(self, pattern, timeout=10.0):
        """Waits for the next line (after those already consumed) matching
        pattern: (arrival time, match)."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + slack(timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {pattern!r} within {timeout}s; got {self.lines!r}")
            try:
                item = self._q.get(timeout=left)
            except queue.Empty:
                continue
            if item is None:
                self._q.put(None)
                raise AssertionError(f"stream closed before a line matching {pattern!r}; got {self.lines!r}")
            m = rx.search(item[1])
            if m:
                return item[0], m

    def expect(self, pattern, timeout=10.0):
        """Waits for the next line (after those already consumed) matching pattern."""
        return self.expect_at(pattern, timeout)[1]

    def first(self, pattern):
        """(arrival time, match) of the first line so far matching pattern, or None."""
        rx = re.compile(pattern)
        for t, line in list(self.items):
            m = rx.search(line)
            if m:
                return t, m
        return None

    def finish(self, timeout=5.0):
        """Waits for EOF (every writer gone); returns every line seen."""
        if not self._done.wait(slack(timeout)):
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
        deadline = time.monotonic() + slack(10)
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
            time.sleep(0.01)  # poll step: no event gives the pid
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
            self.returncode = self.proc.wait(timeout=slack(timeout))
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
                          capture_output=True, text=True, timeout=slack(timeout), env=e,
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


# ==========================================================================
# Added for test_io.py (--io, --stdout-prefix). Nothing above is changed.
# ==========================================================================

IO_HELPERS = ["flood"]


@pytest.fixture(scope="session")
def io_helpers(built):
    """Builds the helpers only the I/O tests use (helpers/flood.c) into
    build/test-helpers/, like _build_helpers does for the core ones."""
    HELPER_BIN.mkdir(parents=True, exist_ok=True)
    common = HELPER_SRC / "common.h"
    for name in IO_HELPERS:
        src = HELPER_SRC / f"{name}.c"
        out = HELPER_BIN / name
        if out.exists() and out.stat().st_mtime >= max(src.stat().st_mtime, common.stat().st_mtime):
            continue
        tmp = out.with_name(f".{name}.{os.getpid()}.tmp")
        res = subprocess.run(["musl-gcc", "-static", "-O1", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE",
                              "-o", str(tmp), str(src)], capture_output=True, text=True)
        if res.returncode != 0:
            pytest.exit(f"cannot build test helper {name}:\n{res.stderr}", returncode=3)
        os.rename(tmp, out)
    return {name: helper(name) for name in IO_HELPERS}


def _openssl_cli(*args, cwd):
    res = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{res.stderr}")


_LEAF_EXT = ("basicConstraints=CA:FALSE\n"
             "keyUsage=critical,digitalSignature\n"
             "extendedKeyUsage=serverAuth\n")


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory):
    """Throw-away PKI made with the openssl CLI (EC P-256 keys):

      ca        the CA the tests trust (SSL_CERT_FILE)
      other_ca  a CA nobody trusts here
      good      leaf by ca for DNS:localhost, IP:127.0.0.1, IP:::1
      untrusted leaf by other_ca, same names
      wronghost leaf by ca for DNS:wrong.example, IP:10.9.9.9 only
      expired   leaf by ca, same names as good, valid only in January 2020

    Returns paths: {"dir", "ca", "other_ca", NAME: (cert, key) ...}."""
    d = tmp_path_factory.mktemp("iocerts")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "other_ca"):
        _openssl_cli("req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "3",
                     "-subj", f"/CN=dock test {ca}", "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    names = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
    leaves = {"good": ("ca", names), "untrusted": ("other_ca", names),
              "wronghost": ("ca", "subjectAltName=DNS:wrong.example,IP:10.9.9.9\n")}
    for leaf, (ca, san) in leaves.items():
        cn = "wrong.example" if leaf == "wronghost" else "localhost"
        _openssl_cli("req", *ec, "-keyout", f"{leaf}.key", "-out", f"{leaf}.csr", "-subj", f"/CN={cn}", cwd=d)
        (d / f"{leaf}.ext").write_text(san + _LEAF_EXT)
        _openssl_cli("x509", "-req", "-in", f"{leaf}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                     "-CAcreateserial", "-out", f"{leaf}.pem", "-days", "3", "-extfile", f"{leaf}.ext", cwd=d)
    # expired: `openssl ca` is the CLI that takes explicit validity dates
    (d / "newcerts").mkdir()
    (d / "index.txt").write_text("")
    (d / "serial").write_text("1000\n")
    (d / "ca.cnf").write_text(
        "[ca]\ndefault_ca = dflt\n"
        "[dflt]\ndir = .\ndatabase = index.txt\nnew_certs_dir = newcerts\nserial = serial\n"
        "default_md = sha256\npolicy = any\nunique_subject = no\nemail_in_dn = no\n"
        "[any]\ncommonName = supplied\n"
        "[leaf]\n" + names + _LEAF_EXT)
    _openssl_cli("req", *ec, "-keyout", "expired.key", "-out", "expired.csr", "-subj", "/CN=localhost", cwd=d)
    _openssl_cli("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
                 "-in", "expired.csr", "-out", "expired.pem", "-notext", "-extensions", "leaf",
                 "-startdate", "20200101000000Z", "-enddate", "20200131000000Z", cwd=d)
    res = {"dir": d, "ca": str(d / "ca.pem"), "other_ca": str(d / "other_ca.pem")}
    for leaf in ("good", "untrusted", "wronghost", "expired"):
        res[leaf] = (str(d / f"{leaf}.pem"), str(d / f"{leaf}.key"))
    return res


# ==========================================================================
# Added for test_container.py, test_docker_init.py and test_cross_arch.py (issue 6:
# release readiness). Nothing above is changed.
# ==========================================================================

RELEASE_HELPERS = ["memhog"]


@pytest.fixture(scope="session")
def release_helpers(rootfs):
    """Builds the helpers only the issue-6 tests use (helpers/memhog.c) into
    build/test-helpers/ and copies them into the container rootfs's /helpers,
    like _build_helpers and the rootfs fixture do for the core ones.
    Returns {name: host path}."""
    HELPER_BIN.mkdir(parents=True, exist_ok=True)
    common = HELPER_SRC / "common.h"
    for name in RELEASE_HELPERS:
        src = HELPER_SRC / f"{name}.c"
        out = HELPER_BIN / name
        if not (out.exists() and out.stat().st_mtime >= max(src.stat().st_mtime, common.stat().st_mtime)):
            tmp = out.with_name(f".{name}.{os.getpid()}.tmp")
            res = subprocess.run(["musl-gcc", "-static", "-O1", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE",
                                  "-o", str(tmp), str(src)], capture_output=True, text=True)
            if res.returncode != 0:
                pytest.exit(f"cannot build test helper {name}:\n{res.stderr}", returncode=3)
            os.rename(tmp, out)
        _install(out, rootfs / CONTAINER_HELPERS.strip("/") / name)
    return {name: helper(name) for name in RELEASE_HELPERS}


# ==========================================================================
# Added for `make check-asan` (scripts/check-asan.sh) and the hardening
# tests (test_chaos.py, test_security.py; issue 7). Nothing above is changed.
#
# Under check-asan the dock under test (DOCKTEST_BINARY=build/asan/dock) is a
# glibc binary linked dynamically against the sanitizer runtimes:
#   - markers say which tests cannot run with such a binary:
#       static_only(reason)   needs a static dock (an empty root, an image
#                             without a libc); skipped for a dynamic one
#       no_sanitizer(reason)  cannot run under the sanitizer runtime (which
#                             needs /proc for itself); skipped under check-asan
#   - the runc rootfs is a separate cache (build/test-rootfs-dynamic) that
#     also holds dock's shared libraries;
#   - every test fails when a sanitizer report appeared during it.
# ==========================================================================

import struct as _struct


def _elf_is_dynamic(path):
    """True when path is an ELF executable with a program interpreter
    (PT_INTERP): a dynamically linked binary."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit only here
                return False
            phoff, = _struct.unpack_from("<Q", head, 32)
            phentsize, phnum = _struct.unpack_from("<HH", head, 54)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
    except OSError:
        return False
    return any(_struct.unpack_from("<I", table, i * phentsize)[0] == 3 for i in range(phnum))


DOCK_IS_DYNAMIC = _elf_is_dynamic(SOURCE_DOCK)
# (the runtime is a shared library; the binary holds its entry point's name)
DOCK_IS_SANITIZED = DOCK_IS_DYNAMIC and b"__asan_init" in SOURCE_DOCK.read_bytes()
SANITIZER_LOG_DIR = Path("/tmp/dock-sanitizer")  # as compiled in by scripts/check-asan.sh

# Tests of other files that cannot run with the sanitizer build, listed here
# so that those files stay as they are; new tests should carry the markers
# (@pytest.mark.static_only("why"), @pytest.mark.no_sanitizer("why")) instead.
STATIC_ONLY_TESTS = {
    "test_process.py::test_runs_in_empty_root": "an empty root holds no libc for a dynamic dock",
    "test_process.py::test_runs_in_empty_root_as_pid1": "an empty root holds no libc for a dynamic dock",
}
NO_SANITIZER_TESTS = {
    "test_ready.py::test_no_netlink_no_proc_warns_once_and_does_not_hang":
        "the sanitizer runtime reads /proc/self/maps for itself",
}

if DOCK_IS_DYNAMIC:
    # The busybox rootfs of the static runs stays as it is; this one also
    # gets the loader and the libraries the dynamic dock needs.
    ROOTFS = BUILD / "test-rootfs-dynamic"


def pytest_configure(config):
    config.addinivalue_line("markers", "static_only(reason): needs a statically linked dock")
    config.addinivalue_line("markers", "no_sanitizer(reason): cannot run under the sanitizer build")
    config.addinivalue_line("markers", "slow: a long case (still run by `make test` and CI)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = item.nodeid.split("/")[-1].split("[")[0]
        m = item.get_closest_marker("static_only")
        if DOCK_IS_DYNAMIC and (m is not None or name in STATIC_ONLY_TESTS):
            why = (m.args[0] if m is not None and m.args else STATIC_ONLY_TESTS.get(name, ""))
            item.add_marker(pytest.mark.skip(reason=f"static dock only: {why}"))
        m = item.get_closest_marker("no_sanitizer")
        if DOCK_IS_SANITIZED and (m is not None or name in NO_SANITIZER_TESTS):
            why = (m.args[0] if m is not None and m.args else NO_SANITIZER_TESTS.get(name, ""))
            item.add_marker(pytest.mark.skip(reason=f"not under sanitizers: {why}"))


def _shared_libraries(binary):
    """The files the loader maps for binary, from ldd: [(path as the loader
    looks it up, real file)]."""
    res = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True)
    libs = []
    for line in res.stdout.splitlines():
        m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
        if m:
            libs.append((m.group(1), os.path.realpath(m.group(1))))
    return libs


@pytest.fixture(scope="session", autouse=True)
def dynamic_dock_rootfs(request, built):
    """With a dynamic dock: its loader and libraries in the runc rootfs, at
    the paths the loader looks them up, and the sanitizer log directory."""
    if not DOCK_IS_DYNAMIC:
        return
    root = request.getfixturevalue("rootfs")
    for path, real in _shared_libraries(DOCK):
        dst = root / path.lstrip("/")
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(real, dst)


def _sanitizer_dirs():
    return [SANITIZER_LOG_DIR, ROOTFS / "tmp" / SANITIZER_LOG_DIR.name]


@pytest.fixture(autouse=True)
def sanitizer_reports(request):
    """Under check-asan: fails the test after which a sanitizer report
    appeared (reports go to files, so none is lost to an unread stderr)."""
    if not DOCK_IS_SANITIZED:
        yield
        return
    for d in _sanitizer_dirs():
        d.mkdir(parents=True, exist_ok=True)
        d.chmod(0o1777)  # dock may run as another user in a container
    before = {p for d in _sanitizer_dirs() for p in d.iterdir()}
    yield
    # A dock that exits at the end of a test writes its leak report then.
    time.sleep(0.05)
    new = sorted({p for d in _sanitizer_dirs() for p in d.iterdir()} - before)
    if new:
        text = "\n".join(f"--- {p}\n{p.read_text(errors='replace')[:20000]}" for p in new)
        pytest.fail(f"sanitizer report(s) during {request.node.nodeid}:\n{text}", pytrace=False)


def dock_rss_kb(pid):
    """Resident set size of a process in KiB (VmRSS), or None once gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


HARDENING_HELPERS = ["forkbomb", "chatter"]


@pytest.fixture(scope="session")
def hardening_helpers(built):
    """Builds the helpers of the chaos and security tests (helpers/forkbomb.c,
    chatter.c) into build/test-helpers/, like _build_helpers does."""
    HELPER_BIN.mkdir(parents=True, exist_ok=True)
    common = HELPER_SRC / "common.h"
    for name in HARDENING_HELPERS:
        src = HELPER_SRC / f"{name}.c"
        out = HELPER_BIN / name
        if out.exists() and out.stat().st_mtime >= max(src.stat().st_mtime, common.stat().st_mtime):
            continue
        tmp = out.with_name(f".{name}.{os.getpid()}.tmp")
        res = subprocess.run(["musl-gcc", "-static", "-O1", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE",
                              "-o", str(tmp), str(src)], capture_output=True, text=True)
        if res.returncode != 0:
            pytest.exit(f"cannot build test helper {name}:\n{res.stderr}", returncode=3)
        os.rename(tmp, out)
    return {name: helper(name) for name in HARDENING_HELPERS}
