"""Chaos suite (issue 7): dock under abuse.

Each case bounds its own time, keeps its traffic on 127.0.0.1, and checks the
same things: dock neither crashes nor hangs, the command's exit status comes
out of dock unchanged, and signals keep reaching the command while the chaos
goes on. Each case also appends what it measured to
build/chaos-figures.jsonl (docs/reliability.md quotes a run of it).

The slowest cases carry the `slow` marker: `-m "not slow"` leaves them out
of a quick local run; `make test` and CI run them all.
"""

import copy
import gzip
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest

from conftest import (BUILD, CONTAINER_HELPERS, DOCK, DOCK_IS_SANITIZED, HARDENING_HELPERS, HELPER_BIN, MARK,
                      PATH, Lines, _install, dock_rss_kb, kill_marked, marked_processes, parse_signals, slack)

FIGURES = BUILD / "chaos-figures.jsonl"
# The sanitizer build is several times slower, and its allocator keeps a
# quarantine: time and memory bounds get room under it.
SLOW = 3.0 if DOCK_IS_SANITIZED else 1.0
RSS_ROOM_KB = 48 * 1024 if DOCK_IS_SANITIZED else 2 * 1024


def record(case, **figures):
    """Appends one case's figures to build/chaos-figures.jsonl."""
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    with open(FIGURES, "a") as f:
        f.write(json.dumps({"case": case, "sanitized": DOCK_IS_SANITIZED,
                            "time": time.strftime("%Y-%m-%d %H:%M:%S"), **figures}) + "\n")


@pytest.fixture
def chaos_rootfs(rootfs, hardening_helpers):
    """The runc rootfs with the chaos helpers in /helpers too."""
    for name in HARDENING_HELPERS:
        _install(HELPER_BIN / name, rootfs / CONTAINER_HELPERS.strip("/") / name)
    return rootfs


def cpu_seconds(pid):
    try:
        t = psutil.Process(pid).cpu_times()
        return t.user + t.system
    except psutil.NoSuchProcess:
        return None


def alive(pid):
    """True while pid runs (a zombie has crashed or exited)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def expect_out(d, pattern, timeout):
    """d.out.expect, with dock's stderr in the failure message."""
    try:
        return d.out.expect(pattern, timeout=timeout)
    except AssertionError as e:
        raise AssertionError(f"{e}; stderr={d.err.lines[-20:]}") from None


def wait_for(pred, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)  # poll step
    return pred()


def wait_file_line(path, line, timeout):
    """Waits until path holds `line` as one of its lines."""
    def has():
        try:
            return line in Path(path).read_text().splitlines()
        except OSError:
            return False
    return wait_for(has, timeout)


class RssSampler(threading.Thread):
    """Samples a process's VmRSS every `period` seconds until it is gone."""

    def __init__(self, pid, period=0.05):
        super().__init__(daemon=True)
        self.pid, self.period, self.samples = pid, period, []
        self._halt = threading.Event()
        self.start()

    def run(self):
        while not self._halt.is_set():
            kb = dock_rss_kb(self.pid)
            if kb is None:
                break
            self.samples.append((time.monotonic(), kb))
            self._halt.wait(self.period)

    def stop(self):
        self._halt.set()
        self.join(5)
        return [kb for _, kb in self.samples]


# --------------------------------------------------------------------------
# 1. a flood of 100k signals


# Standard signals coalesce; real-time ones queue, so for those every single
# one must come through. SIGCHLD is not forwarded (it makes dock reap), the
# fault signals sent by kill take dock's signal-handler path, SIGPIPE the
# "not one of dock's own" check. URG is left out: under runc the Go runtime
# sends stray ones.
FLOOD_STANDARD = ["USR1", "USR2", "WINCH", "HUP", "ALRM", "PIPE", "CHLD", "SEGV"]
FLOOD_RT = [35, 36]
FLOOD_TOTAL = 100_000


@pytest.mark.parametrize("mode", ["plain", "pidns", "runc"])
def test_signal_flood(run, mode):
    d = run(mode, ["@sigrec", "-x", "TERM:7", "-T", "120"])
    expect_out(d, r"^main ready", timeout=15)
    pid = d.dock_pid
    seq = [int(signal.Signals["SIG" + s]) for s in FLOOD_STANDARD] + FLOOD_RT
    rss0, cpu0 = dock_rss_kb(pid), cpu_seconds(pid)
    sent = {s: 0 for s in seq}
    refused = 0
    t0 = time.monotonic()
    for i in range(FLOOD_TOTAL):
        s = seq[i % len(seq)]
        try:
            os.kill(pid, s)
            sent[s] += 1
        except OSError:  # EAGAIN: the real-time queue is full
            refused += 1
    flood_s = time.monotonic() - t0
    assert alive(pid), f"dock died under the flood; stderr={d.err.lines[-5:]}"

    # Every queued real-time signal reaches the command, none twice.
    rt_sent = sum(sent[s] for s in FLOOD_RT)

    def rt_received():
        return sum(1 for x in parse_signals(d.out.lines, mode=mode) if x in ("SIG35", "SIG36"))
    wait_for(lambda: rt_received() >= rt_sent, 30 * SLOW, step=0.1)
    drain_s = time.monotonic() - t0
    cpu1, rss1 = cpu_seconds(pid), dock_rss_kb(pid)
    assert rt_received() == rt_sent, f"{rt_received()} of {rt_sent} real-time signals reached the command"
    got = parse_signals(d.out.lines, mode=mode)
    assert "CHLD" not in got, "SIGCHLD was forwarded"
    for name in ("USR1", "USR2", "WINCH", "HUP", "SEGV", "PIPE"):
        assert name in got, f"no {name} reached the command"

    # A later signal still comes through, and the exit status is the command's.
    d.kill("PWR")
    expect_out(d, r"^main SIG \d+ PWR$", timeout=5 * SLOW)
    d.kill("TERM")
    rc = d.wait(timeout=10 * SLOW)
    assert rc == 7, f"stderr={d.err.lines[-10:]}"
    warnings = [ln for ln in d.err.finish() if ln.startswith("dock: ")]
    assert len(warnings) <= 2, f"dock wrote {len(warnings)} lines under the flood: {warnings[:5]}"
    record(f"signal flood ({mode})", sent=FLOOD_TOTAL - refused, refused=refused, rt_sent=rt_sent,
           rt_received=rt_received(), flood_s=round(flood_s, 3), drained_s=round(drain_s, 3),
           dock_cpu_s=round(cpu1 - cpu0, 3), rss_kb=[rss0, rss1], forwarded_lines=len(got))


# --------------------------------------------------------------------------
# 2. 10 000 orphans at once, dock as PID 1


@pytest.mark.slow
def test_orphan_storm_10k_as_pid1(run):
    n = 10_000
    d = run("pidns", ["@storm", str(n), "2000", "5"])
    m = expect_out(d, r"^orphans (\d+) init=(\d+) forked_ms=(\d+)", timeout=90 * SLOW)
    orphans, init, forked_ms = int(m.group(1)), int(m.group(2)), int(m.group(3))
    assert init == 1 and orphans == n, m.group(0)
    pid = d.dock_pid
    m = expect_out(d, r"^reaped ms=(\d+) left=(\d+) zombies=(\d+)", timeout=60 * SLOW)
    reaped_ms, left, zombies = int(m.group(1)), int(m.group(2)), int(m.group(3))
    assert left == 0 and zombies == 0, m.group(0)
    assert reaped_ms < 15000 * SLOW
    rss = dock_rss_kb(pid)
    cpu = cpu_seconds(pid)
    # dock still forwards: the storm records TERM and does not obey it
    d.kill("TERM")
    expect_out(d, r"^storm got TERM", timeout=5 * SLOW)
    rc = d.wait(timeout=20 * SLOW)
    assert rc == 5, f"stderr={d.err.lines[-10:]}"
    record("10k-orphan storm (pidns, PID 1)", orphans=orphans, forked_ms=forked_ms, reaped_ms=reaped_ms,
           left=left, zombies=zombies, dock_cpu_s=round(cpu, 3), dock_rss_kb=rss)


# --------------------------------------------------------------------------
# 3. a fork bomb held by a process limit


def _bomb_checks(d, rc_expected, t_done, case, extra):
    rc = d.wait(timeout=30 * SLOW)
    shutdown_s = time.monotonic() - t_done
    assert rc == rc_expected, f"rc={rc} stderr={d.err.lines[-10:]}"
    # nothing of the bomb survives dock
    assert wait_for(lambda: not marked_processes(d.mark), 5), \
        f"{len(marked_processes(d.mark))} processes of the bomb outlived dock"
    err = d.err.finish()
    record(case, shutdown_s=round(shutdown_s, 3), sigkill_needed=any("SIGKILL" in ln for ln in err),
           dock_lines=len(err), **extra)
    return shutdown_s


@pytest.mark.slow
def test_fork_bomb_held_by_pids_cgroup(run, runc_spec, chaos_rootfs):
    limit = 256
    spec = copy.deepcopy(runc_spec)
    spec["linux"].setdefault("resources", {})["pids"] = {"limit": limit}
    # The bomb lives 3 s on an idle machine, longer on a loaded one: USR1
    # (sent a second after "bomb ready" reaches the test) must land within
    # its life, and the line itself may reach the test late.
    life = str(min(12, max(3, round(slack(3)))))
    d = run("runc", ["--kill-timeout", "2s", "@forkbomb", life, "9"], runc_spec=spec, rootfs=chaos_rootfs)
    expect_out(d, r"^bomb ready", timeout=15 * SLOW)
    time.sleep(1.0)  # the bomb presses on its limit by now (scenario: a slow machine only signals it sooner)
    t0 = time.monotonic()
    os.kill(d.dock_pid, signal.SIGUSR1)
    expect_out(d, r"^bomb got USR1", timeout=5 * SLOW)
    usr1_ms = (time.monotonic() - t0) * 1000
    m = expect_out(d, r"^bomb done forks=(\d+) refused=(\d+)", timeout=15 * SLOW)
    t_done = time.monotonic()
    forks, refused = int(m.group(1)), int(m.group(2))
    assert refused > 0, "the limit never held the bomb"
    s = _bomb_checks(d, 9, t_done, "fork bomb, pids cgroup limit 256 (runc, PID 1)",
                     {"forks": forks, "refused": refused, "usr1_ms": round(usr1_ms, 1)})
    assert s < 2 + 3 * SLOW, f"shutdown took {s:.1f}s"


@pytest.mark.slow
def test_fork_bomb_held_by_rlimit_nproc_as_subreaper(run, hardening_helpers, tmp_path):
    """dock not PID 1 (a subreaper, as uid 1000 under RLIMIT_NPROC): its
    shutdown must find and stop the bomb through /proc while it forks."""
    limit = 150
    for p in (HELPER_BIN, DOCK):
        assert os.stat(p).st_mode & 0o005, f"{p} not reachable by uid 1000"

    def as_user():
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))
        os.setgroups([])
        os.setgid(1000)
        os.setuid(1000)
    life = str(min(12, max(3, round(slack(3)))))  # as above
    d = run("plain", ["--kill-timeout", "2s", "@forkbomb", life, "9"], preexec_fn=as_user)
    expect_out(d, r"^bomb ready", timeout=15 * SLOW)
    time.sleep(1.0)  # as above: USR1 is meant to arrive while the bomb presses on its limit
    t0 = time.monotonic()
    os.kill(d.dock_pid, signal.SIGUSR1)
    expect_out(d, r"^bomb got USR1", timeout=5 * SLOW)
    usr1_ms = (time.monotonic() - t0) * 1000
    m = expect_out(d, r"^bomb done forks=(\d+) refused=(\d+)", timeout=15 * SLOW)
    t_done = time.monotonic()
    forks, refused = int(m.group(1)), int(m.group(2))
    assert refused > 0, "the limit never held the bomb"
    s = _bomb_checks(d, 9, t_done, "fork bomb, RLIMIT_NPROC 150 (plain, subreaper, uid 1000)",
                     {"forks": forks, "refused": refused, "usr1_ms": round(usr1_ms, 1)})
    assert s < 2 + 6 * SLOW, f"shutdown took {s:.1f}s"


# --------------------------------------------------------------------------
# 4. a TCP --io peer that stops reading


def test_tcp_peer_that_stops_reading(run, hardening_helpers, tmp_path):
    rec = tmp_path / "signals"
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(10)
    port = srv.getsockname()[1]
    d = run("plain", ["--io", f"tcp://127.0.0.1:{port}", "@chatter", "-n", "0", "-r", str(rec)])
    conn, _ = srv.accept()
    try:
        pid = d.dock_pid
        # Never read: once the socket buffers and the pty are full the
        # command blocks and dock must stop reading it, not buffer.
        def queued():
            import fcntl
            import termios
            return int.from_bytes(fcntl.ioctl(conn.fileno(), termios.FIONREAD, b"\0" * 4), "little")

        def settled():
            a = queued()
            time.sleep(0.3)  # the buffer no longer grows across this look: full
            return a > 0 and queued() == a
        assert wait_for(settled, 10 * SLOW, step=0.1), "the peer's buffer never filled"
        rss = RssSampler(pid)
        time.sleep(2.0)  # the window watched: dock's RSS while its peer stalls
        t0 = time.monotonic()
        os.kill(pid, signal.SIGUSR1)
        assert wait_file_line(rec, "USR1", 3 * SLOW), "USR1 not forwarded while the peer stalls"
        usr1_ms = (time.monotonic() - t0) * 1000
        time.sleep(1.0)  # the window watched goes on after the signal
        samples = rss.stop()
        assert alive(pid)
        assert max(samples) - min(samples) <= RSS_ROOM_KB, f"dock's RSS grew: {samples[0]} -> {max(samples)} KiB"
        unread = queued()
        # The peer goes away: the command gets SIGHUP, dock exits with its status.
        t_close = time.monotonic()
        conn.close()
        rc = d.wait(timeout=10 * SLOW)
        assert rc == 128 + signal.SIGHUP, f"rc={rc} stderr={d.err.lines[-10:]}"
        record("TCP --io peer stops reading (plain)", peer_unread_bytes=unread, usr1_ms=round(usr1_ms, 1),
               rss_kb_min_max=[min(samples), max(samples)], rss_samples=len(samples),
               exit_after_close_s=round(time.monotonic() - t_close, 3), rc=rc)
    finally:
        conn.close()
        srv.close()


# --------------------------------------------------------------------------
# 5. hook servers that misbehave


class HookServer:
    """An HTTP server on 127.0.0.1 that misbehaves in one way. Counts the
    connections it got."""

    def __init__(self, how):
        self.how = how
        self.connections = 0
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        if how == "refuse":
            self.sock.close()  # nothing listens on the port now
            return
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _read_request(self, c):
        data = b""
        c.settimeout(5)
        try:
            while b"\r\n\r\n" not in data:
                chunk = c.recv(65536)
                if not chunk:
                    return data
                data += chunk
        except OSError:
            pass
        return data

    def _serve(self, c):
        try:
            self._read_request(c)
            if self.how == "http500":
                c.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n"
                          b"Connection: close\r\n\r\noops\n")
            elif self.how == "hang":
                self.stop.wait(60)
            elif self.how == "trickle":
                for b in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                    if self.stop.wait(1.0):
                        break
                    c.sendall(bytes([b]))
            elif self.how == "garbage":
                c.sendall(bytes(range(256)) * 256 + b"\r\n\r\n")
            elif self.how == "huge_body":
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 107374182400\r\n\r\n")
                chunk = b"x" * 65536
                while not self.stop.is_set():
                    c.sendall(chunk)
            elif self.how == "endless_head":
                c.sendall(b"HTTP/1.1 200 OK\r\n")
                line = b"X-Filler: " + b"a" * 1000 + b"\r\n"
                while not self.stop.is_set():
                    c.sendall(line)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.stop.set()
        try:
            self.sock.close()
        except OSError:
            pass


HOOK_CASES = ["refuse", "http500", "hang", "trickle", "garbage", "huge_body", "endless_head"]


@pytest.mark.parametrize("how", HOOK_CASES)
def test_hook_server_misbehaves(run, how):
    timeout = 2.0
    srv = HookServer(how)
    try:
        d = run("plain", ["--web-hook", f"http://127.0.0.1:{srv.port}/hook", "--web-hook-timeout",
                          f"{timeout:g}s", "@sigrec", "-x", "TERM:3", "-T", "60"])
        expect_out(d, r"^main ready", timeout=10 * SLOW)
        pid = d.dock_pid
        rss = RssSampler(pid)
        time.sleep(0.5)  # a delivery is under way (or stuck) by now (scenario, as in the bomb tests)
        lat = []
        for _ in range(3):
            t0 = time.monotonic()
            d.kill("USR1")
            expect_out(d, r"^main SIG 10 USR1$", timeout=2 * SLOW)
            lat.append((time.monotonic() - t0) * 1000)
            time.sleep(0.2)  # spacing between the signals (scenario)
        t_term = time.monotonic()
        d.kill("TERM")
        rc = d.wait(timeout=timeout + 10 * SLOW)
        exit_s = time.monotonic() - t_term
        samples = rss.stop()
        assert rc == 3, f"rc={rc} stderr={d.err.lines[-10:]}"
        # pending deliveries get at most --web-hook-timeout after the command ends
        assert exit_s <= timeout + 1.5 * SLOW, f"dock took {exit_s:.2f}s to exit after TERM"
        err = d.err.finish()
        assert all(ln.startswith("dock: ") for ln in err), err
        assert len(err) <= 6, f"{len(err)} lines on stderr: {err}"
        assert max(samples) - min(samples) <= RSS_ROOM_KB, f"RSS grew {samples[0]} -> {max(samples)} KiB"
        record(f"hook server: {how}", usr1_ms_max=round(max(lat), 1), exit_after_term_s=round(exit_s, 3),
               stderr_lines=len(err), connections=srv.connections,
               rss_kb_min_max=[min(samples), max(samples)], rc=rc, stderr=err)
    finally:
        srv.close()


# --------------------------------------------------------------------------
# 6. the log disk fills up


@pytest.fixture
def tiny_disk(tmp_path):
    d = tmp_path / "disk"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(d)], check=True)
    yield d
    subprocess.run(["umount", "-l", str(d)], capture_output=True)


@pytest.mark.slow
def test_log_disk_fills_up(run, hardening_helpers, tiny_disk, tmp_path):
    rec = tmp_path / "signals"
    log = tiny_disk / "app.log"
    d = run("plain", ["--io", str(log), "--log-rotate", "1s", "--log-keep", "3",
                      "@chatter", "-n", "0", "-r", str(rec), "-x", "6"])
    pid = d.dock_pid
    assert wait_for(lambda: shutil.disk_usage(tiny_disk).free < 64 * 1024, 10 * SLOW), "the disk never filled"
    rss = RssSampler(pid)
    usr1 = []
    for _ in range(3):  # across several rotation periods on a full disk
        time.sleep(1.0)  # across several rotation periods on a full disk (scenario)
        t0 = time.monotonic()
        rec.unlink(missing_ok=True)
        os.kill(pid, signal.SIGUSR1)
        assert wait_file_line(rec, "USR1", 3 * SLOW), "USR1 not forwarded on a full disk"
        usr1.append((time.monotonic() - t0) * 1000)
    assert alive(pid)
    t_term = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    rc = d.wait(timeout=15 * SLOW)
    exit_s = time.monotonic() - t_term
    samples = rss.stop()
    assert rc == 6, f"rc={rc} stderr={d.err.lines[-10:]}"
    err = d.err.finish()
    dock_lines = [ln for ln in err if ln.startswith("dock: ")]
    # one warning per episode, not one per write
    assert len(dock_lines) <= 20, f"{len(dock_lines)} warnings: {dock_lines[:10]}"
    assert max(samples) - min(samples) <= RSS_ROOM_KB
    record("log disk fills up (tmpfs 1 MiB, --log-rotate 1s)", usr1_ms_max=round(max(usr1), 1),
           exit_after_term_s=round(exit_s, 3), dock_warnings=len(dock_lines), warnings=dock_lines[:6],
           files=sorted(os.listdir(tiny_disk)), rss_kb_min_max=[min(samples), max(samples)], rc=rc)


# --------------------------------------------------------------------------
# 7. /proc not mounted


class Bare:
    """dock started through an arbitrary wrapper (shell, unshare); found by
    its binary among the wrapper's descendants."""

    def __init__(self, argv):
        self.mark = os.urandom(8).hex()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env={"PATH": PATH, MARK: self.mark})
        self.out, self.err = Lines(self.proc.stdout), Lines(self.proc.stderr)
        self._pid = None

    @property
    def dock_pid(self):
        if self._pid is None:
            def find():
                try:
                    p = psutil.Process(self.proc.pid)
                    for c in [p] + p.children(recursive=True):
                        if c.exe() == str(DOCK):
                            self._pid = c.pid
                            return True
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    pass
                return False
            assert wait_for(find, 10), f"dock not found; stderr={self.err.lines}"
        return self._pid

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        kill_marked(self.mark)


NO_PROC = "mount -t tmpfs -o size=4k noproc /proc && exec \"$@\""


@pytest.mark.no_sanitizer("the sanitizer runtime reads /proc/self/maps for itself")
@pytest.mark.parametrize("pid1", [True, False], ids=["pid1", "subreaper"])
def test_proc_not_mounted(hardening_helpers, pid1):
    wrap = ["unshare", "--mount", "--propagation", "private"]
    if pid1:
        wrap[1:1] = ["--pid", "--fork"]
    argv = wrap + ["sh", "-c", NO_PROC, "sh", str(DOCK), "--thug", "--kill-timeout", "2s",
                   str(HELPER_BIN / "sigrec"), "-f", "-x", "TERM:5", "-x", "INT:6", "-b", "QUIT"]
    b = Bare(argv)
    try:
        b.out.expect(r"^main ready", timeout=10)
        assert wait_for(lambda: any(ln.startswith("main.child ready") for ln in b.out.lines), 10)
        pid = b.dock_pid
        # forwarding needs no /proc
        os.kill(pid, signal.SIGUSR1)
        b.out.expect(r"^main SIG 10 USR1$", timeout=3)
        # --thug needs /proc/PID/status: without it QUIT goes through as is
        # (still blocked by the command), with a warning saying why
        os.kill(pid, signal.SIGQUIT)
        b.err.expect(r"^dock: .*/proc", timeout=3)
        t0 = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        rc = b.proc.wait(timeout=10)
        exit_s = time.monotonic() - t0
        out = b.out.finish()
        err = b.err.finish()
        assert rc == 5, f"rc={rc} stderr={err}"
        # the child (same process group) was stopped too
        assert "main.child SIG 15 TERM" in out, out
        assert exit_s < 2.0, f"shutdown took {exit_s:.1f}s"
        assert all(ln.startswith("dock: ") for ln in err), err
        record(f"/proc not mounted ({'PID 1' if pid1 else 'subreaper'})", rc=rc, exit_after_term_s=round(exit_s, 3),
               warnings=err)
    finally:
        b.close()


# --------------------------------------------------------------------------
# 8. dock as a non-root user in a container


def test_non_root_in_runc(run, runc_spec, chaos_rootfs):
    spec = copy.deepcopy(runc_spec)
    spec["process"]["user"] = {"uid": 1000, "gid": 1000}
    # no capabilities at all: a truly unprivileged PID 1
    spec["process"]["capabilities"] = {k: [] for k in ("bounding", "effective", "permitted", "ambient")}
    d = run("runc", ["--kill-timeout", "2s", "@storm", "500", "1500", "4"], runc_spec=spec, rootfs=chaos_rootfs)
    m = expect_out(d, r"^orphans (\d+) init=(\d+)", timeout=30 * SLOW)
    assert m.group(1) == "500" and m.group(2) == "1"
    m = expect_out(d, r"^reaped ms=(\d+) left=(\d+) zombies=(\d+)", timeout=30 * SLOW)
    assert m.group(2) == "0" and m.group(3) == "0"
    pid = d.dock_pid
    assert psutil.Process(pid).uids().real == 1000
    os.kill(pid, signal.SIGTERM)
    expect_out(d, r"^storm got TERM", timeout=5 * SLOW)
    rc = d.wait(timeout=15 * SLOW)
    assert rc == 4, f"rc={rc} stderr={d.err.lines}"
    err = d.err.finish()
    assert all(ln.startswith("dock: ") for ln in err), err
    record("non-root PID 1 in runc (uid 1000, no capabilities)", reaped_ms=int(m.group(1)), rc=rc,
           stderr=err)


# --------------------------------------------------------------------------
# 9. a million lines and a thousand rotations


@pytest.mark.slow
def test_million_lines_thousand_rotations_rss_flat(run, hardening_helpers, tmp_path):
    lines = 1_000_000
    rec = tmp_path / "signals"
    log = tmp_path / "app.log"
    # chatter stops half-way until USR1 has come: the signal is sure to
    # arrive in the middle of the run, however fast the run is
    # Paced at 80 000 lines (8 MB) a second: archive names carry the second
    # and a two-digit sequence, so rotation does at most 99 a second.
    d = run("plain", ["-d", "--io", str(log), "--log-max-size", "100k", "--log-keep", "3",
                      "@chatter", "-n", str(lines), "-p", str(lines // 2), "-R", "80000",
                      "-r", str(rec), "-x", "3"])
    pid = d.dock_pid
    rss = RssSampler(pid, period=0.02)
    t0 = time.monotonic()
    wait_for(lambda: d.err.text.count(": rotated (") >= 300, 20 * SLOW)
    os.kill(pid, signal.SIGUSR1)
    assert wait_file_line(rec, "USR1", 3 * SLOW), "USR1 not forwarded during the flood"
    rc = d.wait(timeout=120 * SLOW)
    elapsed = time.monotonic() - t0
    samples = rss.stop()
    assert rc == 3, f"rc={rc} stderr={d.err.lines[-10:]}"
    err = d.err.finish()
    rotations = sum(1 for ln in err if ": rotated (" in ln)
    assert rotations >= 900, f"only {rotations} rotations"
    assert "chatter wrote 1000000 lines" in log.read_text(errors="replace") or \
        any("chatter wrote 1000000 lines" in ln for ln in err)
    # flat: the second half of the run needs no more memory than the first
    half = len(samples) // 2
    first, second = max(samples[:half]), max(samples[half:])
    assert second - first <= RSS_ROOM_KB // 2, f"RSS grew from {first} to {second} KiB"
    # the newest lines are all there, in order, at the end of the live file
    tail = [ln for ln in log.read_text(errors="replace").splitlines() if ln[:9].isdigit()]
    assert tail and int(tail[-1][:9]) == lines - 1
    nums = [int(ln[:9]) for ln in tail]
    assert nums == list(range(nums[0], nums[0] + len(nums)))
    archives = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("app.log_"))
    assert 1 <= len(archives) <= 3, archives
    # What retention kept is the newest history, without a hole: the
    # archives' lines run on from one to the next and into the live file.
    ranges = []
    for name in archives:
        data = (tmp_path / name).read_bytes()
        text = gzip.decompress(data) if name.endswith(".gz") else data
        nums = [int(ln[:9]) for ln in text.decode(errors="replace").splitlines() if ln[:9].isdigit()]
        ranges.append((name, nums[0], nums[-1]))
    ranges.append(("live", int(tail[0][:9]), lines - 1))
    holes = [(a[0], b[0]) for a, b in zip(ranges, ranges[1:]) if b[1] != a[2] + 1]
    record("1M lines, 1000 rotations (--log-max-size 100k, plain)", rotations=rotations,
           elapsed_s=round(elapsed, 2), rss_kb_first_half_max=first, rss_kb_second_half_max=second,
           rss_kb_min=min(samples), samples=len(samples), rc=rc, archives=archives,
           kept_ranges=ranges, holes=holes)
    # A rotation being compressed when more than --log-keep pile up is
    # dropped first (its compressor killed), not a newer pending one.
    assert holes == [], f"retention kept an older archive and lost a newer one: {ranges}"
