"""Readiness: --bind-port (sock_diag netlink, /proc/net fallback), --strict-port-binding,
--notify (sd_notify's READY=1), and that waiting costs little and stops once running.

The lifecycle is observed through -d: dock prints `dock: +Nms status: running` on stderr when
every readiness gate is open. A reader thread stamps each line with CLOCK_MONOTONIC as it
arrives, and the commands (Python, on 127.0.0.1 / ::1 only) print the same clock around
their bind(), so "running not before the bind, and soon after it" is a comparison of
timestamps. Arrival in the reader is later than dock's write, so latencies here are upper
bounds, scaled with the machine's load (conftest.slack).

A command that must hold its socket (or stay alive) until dock has seen it holds it until
the test closes the command's stdin (ReadyRun.release), never for a fixed time: on a loaded
machine a fixed hold can end before dock's next probe.
"""

import os
import re
import signal
import socket
import subprocess
import time
import uuid

import psutil
import pytest

from conftest import (BUILD, DOCK, MARK, PATH, Lines, cpu_seconds, kill_marked, slack,
                      voluntary_switches, wait_asleep)

PY = "/usr/bin/python3"
# with -d, dock's lines carry the milliseconds since its start: "dock: +12ms ..."
RUNNING = r"^dock: \+\d+ms status: running$"
ENDED = r"^dock: \+\d+ms status: (stopped|crashed)$"
HELD_OUTSIDE = (r"^dock: (?:\+\d+ms )?--bind-port (\d+): the port is already bound at start by a process "
                r"outside dock's tree; .*--strict-port-binding")
# bind -> running, as seen here: the probe interval is at most 7 ms for a socket on one
# of the machine's addresses or the wildcard (a tenth of the time waited, at most 250 ms,
# on another: see test_port_bound_on_any_address); the rest is room for a loaded machine
# (the spec asks for milliseconds, the original polled every 200 ms)
LATENCY_BOUND = 0.15

# --------------------------------------------------------------------------
# private helpers


class TimedLines(Lines):
    """conftest's Lines, whose expect answers (arrival time, match)."""

    def expect(self, pattern, timeout=10.0):
        return self.expect_at(pattern, timeout)


class ReadyRun:
    """dock -d ARGS in mode plain (a child of the test) or pidns (PID 1 of a new PID
    namespace, same network namespace), with timestamped output."""

    def __init__(self, mode, args, env=None, wrapper=()):
        self.mark = uuid.uuid4().hex
        if mode == "plain":
            argv = list(wrapper) + [str(DOCK), "-d"] + list(args)
        elif mode == "pidns":
            argv = list(wrapper) + ["unshare", "--pid", "--fork", "--mount-proc", str(DOCK), "-d"] + list(args)
        else:
            raise ValueError(mode)
        self.mode = mode
        self.t0 = time.monotonic()
        # stdin: a pipe the command may wait on (see release)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE,
                                     env={"PATH": PATH, MARK: self.mark, **(env or {})})
        self.out = TimedLines(self.proc.stdout)
        self.err = TimedLines(self.proc.stderr)

    @property
    def dock_pid(self):
        if self.mode == "plain":
            return self.proc.pid
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                for c in psutil.Process(self.proc.pid).children():
                    if c.exe() == str(DOCK):
                        return c.pid
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                pass
            time.sleep(0.01)  # poll step: no event gives the pid
        raise AssertionError("cannot find dock's pid")

    def release(self):
        """Closes the command's stdin: a command holding on until EOF goes on."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def send(self, data):
        """Writes data to the command's stdin (a go-ahead it waits for)."""
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def finish(self, timeout=10.0):
        self.release()
        try:
            rc = self.proc.wait(timeout=slack(timeout))
        except subprocess.TimeoutExpired:
            raise AssertionError(f"dock did not exit within {timeout}s; stderr {self.err.lines!r}") from None
        self.out.finish()
        self.err.finish()
        return rc

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        kill_marked(self.mark)
        for s in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                s.close()
            except OSError:
                pass


@pytest.fixture
def start():
    runs = []

    def _start(mode, args, **kw):
        r = ReadyRun(mode, args, **kw)
        runs.append(r)
        return r

    yield _start
    for r in runs:
        r.close()


def free_port():
    """A port free for TCP and UDP on IPv4 and IPv6, below the ephemeral range."""
    import random
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    for _ in range(200):
        port = rng.randrange(12000, 32000)
        socks = []
        try:
            for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
                for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    s = socket.socket(fam, typ)
                    socks.append(s)
                    if fam == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s.bind((addr, port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free port")


# A command that binds (and listens, for TCP) after a delay, prints CLOCK_MONOTONIC
# right before bind() and right after listen(), then holds the socket: until its stdin
# ends (HOLD "stdin"), or for HOLD seconds only where dock must NOT count the socket (a
# hold cut short by load can then miss a bug, never fail a good run).
# DELAY puts the bind after dock's first probes (scenario, not a wait).
#   argv: KIND PORT DELAY LISTEN HOLD [daemon]
# It binds the loopback address of its family, or $BIND_ADDR.
BINDER = r"""
import os, socket, sys, time
kind, port, delay, listen, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]
if len(sys.argv) > 6 and os.fork() > 0:
    os._exit(0)   # daemonize: the binder is orphaned, and comes to dock (a subreaper)
fam = socket.AF_INET6 if kind.endswith("6") else socket.AF_INET
typ = socket.SOCK_DGRAM if kind.startswith("udp") else socket.SOCK_STREAM
s = socket.socket(fam, typ)
time.sleep(delay)   # scenario
t0 = time.monotonic()
s.bind((os.environ.get("BIND_ADDR") or ("::1" if fam == socket.AF_INET6 else "127.0.0.1"), port))
if listen and typ == socket.SOCK_STREAM:
    s.listen()
t1 = time.monotonic()
print("BOUND %.6f %.6f %d" % (t0, t1, os.getpid()), flush=True)
if hold == "stdin":
    sys.stdin.buffer.read()
else:
    time.sleep(float(hold))   # window: dock must not count this socket
"""


def binder(kind, port, delay=0.4, listen=True, hold="stdin", daemon=False):
    return [PY, "-c", BINDER, kind, str(port), str(delay), "1" if listen else "0", str(hold)] + \
        (["daemon"] if daemon else [])


def in_sh(argv, after=""):
    """argv run by sh in the background: dock -> sh -> argv (a grandchild). The
    background job gets sh's stdin explicitly (without job control sh would give it
    /dev/null), so that release() reaches it."""
    return ["sh", "-c", f'exec 3<&0; "$@" <&3 3<&- & wait; {after}', "sh"] + argv


def bound_times(r, timeout=10.0):
    _, m = r.out.expect(r"^BOUND (\S+) (\S+) (\d+)$", timeout)
    return float(m.group(1)), float(m.group(2))


def assert_running_after_bind(r, timeout=10.0, bound=LATENCY_BOUND):
    t_before, t_after = bound_times(r, timeout)
    t_run, _ = r.err.expect(RUNNING, timeout)
    assert t_run >= t_before, f"running reported before the bind; stderr {r.err.lines!r}"
    bound = slack(bound)
    assert t_run - t_after < bound, \
        f"running {1000 * (t_run - t_after):.1f} ms after the bind (bound {1000 * bound:.0f} ms); " \
        f"stderr {r.err.lines!r}"
    return t_run - t_after


def assert_never_running(r, rc_expected=0, timeout=10.0):
    rc = r.finish(timeout)
    assert r.err.first(RUNNING) is None, f"running reported: {r.err.lines!r}"
    assert r.err.first(ENDED) is not None, r.err.lines
    assert rc == rc_expected, r.err.lines


def ctx_switches(pid):
    c = psutil.Process(pid).num_ctx_switches()
    return c.voluntary + c.involuntary


def released_after_running(r):
    """The usual end: running was seen; the command's stdin closes and it ends."""
    r.release()
    assert r.finish() == 0, r.err.lines


# --------------------------------------------------------------------------
# --bind-port


@pytest.mark.parametrize("mode", ["plain", "pidns"])
@pytest.mark.parametrize("kind", ["tcp4", "tcp6", "udp4", "udp6"])
def test_port_bound_after_delay(start, mode, kind):
    port = free_port()
    r = start(mode, ["--bind-port", str(port), "--"] + binder(kind, port))
    assert_running_after_bind(r)
    assert r.finish() == 0
    assert r.err.first(r"already bound at start") is None, r.err.lines


def _host_address(family):
    """One of the machine's own addresses that is not loopback (nor IPv6
    link-local), or None."""
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == family and not a.address.startswith(("127.", "::1", "fe80")):
                return a.address.split("%")[0]
    return None


# The wildcard addresses (a dual-stack "::" socket too, seen by the IPv4 lookup
# as well) and the machine's own addresses are found by the quick lookups;
# 127.0.0.2 (loopback, but not an address of an interface) only by the full dumps.
@pytest.mark.parametrize("kind,addr", [("tcp4", "0.0.0.0"), ("udp4", "0.0.0.0"), ("tcp6", "::"),
                                       ("udp6", "::"), ("tcp4", "127.0.0.2"), ("udp4", "127.0.0.2"),
                                       ("tcp4", "host4"), ("udp6", "host6")])
@pytest.mark.parametrize("delay", [0.4, 1.5])
def test_port_bound_on_any_address(start, kind, addr, delay):
    if addr.startswith("host"):
        addr = _host_address(socket.AF_INET6 if addr == "host6" else socket.AF_INET)
        if addr is None:
            pytest.skip("the machine has no such address")
    port = free_port()
    r = start("plain", ["--bind-port", str(port), "--"] + binder(kind, port, delay=delay),
              env={"BIND_ADDR": addr})
    # Only the full dumps see 127.0.0.2: a tenth of the time waited apart.
    assert_running_after_bind(r, bound=LATENCY_BOUND + (delay / 10 if addr == "127.0.0.2" else 0))
    assert r.finish() == 0


def test_late_bind_seen_within_milliseconds(start):
    """A bind long after the start (probes at their longest interval) is seen
    within a few milliseconds: thirteen docks at once, binding 1.5 s after their
    start on the loopback addresses (TCP, UDP, IPv4, IPv6); at least nine of
    the thirteen latencies (upper bounds, as seen here) are under 10 ms, the
    rest being room for a loaded machine. With probes at most every 25 ms
    (the design before) they spread evenly up to 25 ms: nine of thirteen
    under 10 ms happens there about three runs in a hundred."""
    runs = []
    for i in range(13):
        port = free_port()
        kind = ("tcp4", "udp6", "tcp6", "udp4")[i % 4]
        runs.append(start("plain", ["--bind-port", str(port), "--"] +
                          binder(kind, port, delay=1.5 + 0.013 * i, hold=0.3)))
    latencies = sorted(assert_running_after_bind(r) for r in runs)
    for r in runs:
        assert r.finish() == 0
    fast = sum(1 for x in latencies if x < 0.010)
    assert fast >= 9, f"{fast} of 13 under 10 ms; all (ms): {[round(1000 * x, 1) for x in latencies]}"


@pytest.mark.parametrize("mode", ["plain", "pidns"])
@pytest.mark.parametrize("strict", [False, True])
def test_bound_by_grandchild(start, mode, strict):
    port = free_port()
    args = (["--strict-port-binding"] if strict else []) + ["--bind-port", str(port), "--"]
    r = start(mode, args + in_sh(binder("tcp4", port)))
    assert_running_after_bind(r)
    assert r.finish() == 0


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_bound_by_orphaned_daemon_strict(start, mode):
    """The binder double-forks away from its parent: still dock's (reparented) tree."""
    port = free_port()
    r = start(mode, ["--strict-port-binding", "--bind-port", str(port), "--"] +
              in_sh(binder("udp6", port, daemon=True), after="cat >/dev/null"))
    assert_running_after_bind(r)
    assert r.finish() == 0


@pytest.fixture
def outsider():
    """The test itself listens on a port: a socket outside dock's tree."""
    s = socket.socket()
    port = free_port()
    s.bind(("127.0.0.1", port))
    s.listen()
    yield port
    s.close()


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_outside_process_strict_ignores_it(start, mode, outsider):
    # cat: the command lives until finish() closes its stdin, however late dock probes
    r = start(mode, ["--strict-port-binding", "--bind-port", str(outsider), "--", "cat"])
    r.err.expect(r"port \d+: 1 socket\(s\), none held by dock's tree", 5)
    assert_never_running(r)
    # strict: the outsider cannot make "running" false, so no warning either
    assert r.err.first(HELD_OUTSIDE) is None, r.err.lines


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_outside_process_counts_without_strict(start, mode, outsider):
    """It counts, as the original's check did, but dock says so once, before the
    "running" it makes possible, naming the port and the way out."""
    r = start(mode, ["--bind-port", str(outsider), "--", "cat"])
    t_started, _ = r.err.expect(r"^dock: (?:\+\d+ms )?started ", 5)
    t_run, _ = r.err.expect(RUNNING, 5)
    # bound before the start: the first probe sees it
    assert t_run - t_started < slack(1.0), r.err.lines
    assert r.finish() == 0
    lines = r.err.lines
    warned = [i for i, ln in enumerate(lines) if re.search(HELD_OUTSIDE, ln)]
    running = [i for i, ln in enumerate(lines) if re.search(RUNNING, ln)]
    assert len(warned) == 1 and running and warned[0] < running[0], lines


def test_strict_outsider_on_tcp_own_socket_on_udp(start, outsider):
    """An outsider's TCP listener on the port must not hide the tree's UDP socket."""
    r = start("plain", ["--strict-port-binding", "--bind-port", str(outsider), "--"] +
              binder("udp4", outsider))
    assert_running_after_bind(r)
    assert r.finish() == 0


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_never_bound(start, mode):
    port = free_port()
    cmd = "import sys, time; time.sleep(0.5); print('END %.6f' % time.monotonic(), flush=True); sys.exit(3)"
    r = start(mode, ["--bind-port", str(port), "--", PY, "-c", cmd])
    assert_never_running(r, rc_expected=3)
    t_exit = time.monotonic()
    # dock still exits at once when the command ends, probing or not: timed from the
    # command's last act, not from dock's start (which a loaded machine delays)
    _, m = r.out.first(r"^END (\S+)$")
    assert t_exit - float(m.group(1)) < slack(1.5), r.err.lines


@pytest.mark.parametrize("kind", ["tcp4", "tcp6"])
def test_tcp_bound_but_not_listening_does_not_count(start, kind):
    port = free_port()
    r = start("plain", ["--bind-port", str(port), "--"] + binder(kind, port, delay=0.1, listen=False, hold=0.8))
    bound_times(r)
    assert_never_running(r)


def test_listen_after_bind_counts_from_listen(start):
    port = free_port()
    script = r"""
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
time.sleep(0.5)   # bound, not listening: dock's probes in this window must not count it
t0 = time.monotonic()
s.listen()
t1 = time.monotonic()
print("BOUND %.6f %.6f 0" % (t0, t1), flush=True)
sys.stdin.buffer.read()
"""
    r = start("plain", ["--bind-port", str(port), "--", PY, "-c", script, str(port)])
    assert_running_after_bind(r)
    assert r.finish() == 0


def test_other_port_does_not_count(start):
    port = free_port()
    other = free_port()
    while other == port:
        other = free_port()
    r = start("plain", ["--bind-port", str(port), "--"] + binder("tcp4", other, delay=0.1, hold=0.5))
    bound_times(r)
    assert_never_running(r)


def test_bound_before_dock_starts_counts_at_once(start, outsider):
    r = start("plain", ["--bind-port", str(outsider), "--", "cat"])
    r.err.expect(r"port \d+: bound, seen \d+ ms after start \(probe 1\)", 5)
    r.err.expect(RUNNING, 5)
    assert r.finish() == 0


# --------------------------------------------------------------------------
# cost: probing stops once running; waiting is cheap


def test_idle_after_running(start):
    port = free_port()
    r = start("plain", ["--bind-port", str(port), "--"] + binder("tcp4", port, delay=0.2))
    assert_running_after_bind(r)
    wait_asleep(r.dock_pid)         # done with the turn that reported running
    before = ctx_switches(r.dock_pid)
    time.sleep(1.5)                 # the window watched: a probe left running would show
    after = ctx_switches(r.dock_pid)
    assert after - before <= 1, f"dock woke {after - before} times in 1.5 s once running"
    r.proc.send_signal(signal.SIGTERM)
    r.finish()


def test_waiting_is_cheap(start):
    port = free_port()
    r = start("plain", ["--bind-port", str(port), "--", "sleep", "30"])
    pid = r.dock_pid
    # The probe interval grows with the time waited and stays at 25 ms from 1.25 s
    # on: the steady state begins on dock's clock, so this waits on that clock.
    t_started, _ = r.err.expect(r"^dock: (?:\+\d+ms )?started ", 5)
    time.sleep(max(0.0, t_started + 1.5 - time.monotonic()))
    # Wake-ups are voluntary switches (dock blocks in epoll_wait between probes),
    # which load does not add to as it adds preemptions; CPU time comes from
    # schedstat, in nanoseconds.
    c0, t0, w0 = voluntary_switches(pid), cpu_seconds(pid), time.monotonic()
    time.sleep(2)                   # the window measured
    c1, t1, w1 = voluntary_switches(pid), cpu_seconds(pid), time.monotonic()
    rate = (c1 - c0) / (w1 - w0)
    cpu = (t1 - t0) / (w1 - w0)
    # a probe every 7 ms after the first 350 ms: about 140 a second, each a
    # few microseconds of lookups (every 250 ms at most a full dump); a
    # loaded machine gets room
    assert 5 < rate < 300, f"{rate:.0f} wake-ups/s while waiting"
    assert cpu < 0.03, f"{100 * cpu:.2f}% of a core while waiting"
    r.proc.send_signal(signal.SIGTERM)
    r.finish()


# --------------------------------------------------------------------------
# when sock_diag or /proc is missing


SECCOMP_SRC = r"""
/* Runs argv[1..] with socket(AF_NETLINK, ...) failing EAFNOSUPPORT: sock_diag "missing". */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "unknown architecture"
#endif

int main(int argc, char **argv)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAFNOSUPPORT),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (argc < 2 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		perror("nonetlink");
		return 126;
	}
	execv(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
"""


@pytest.fixture(scope="module")
def nonetlink():
    out = BUILD / "test-helpers" / "ready-nonetlink"
    src = out.with_suffix(".c")
    out.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(SECCOMP_SRC)
    tmp = out.with_name(f".ready-nonetlink.{os.getpid()}.tmp")
    res = subprocess.run(["gcc", "-O1", "-Wall", "-Werror", "-o", str(tmp), str(src)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot build the seccomp launcher: {res.stderr}")
    os.rename(tmp, out)
    return str(out)


@pytest.mark.parametrize("kind", ["tcp4", "tcp6", "udp4", "udp6"])
def test_proc_net_fallback_without_netlink(start, nonetlink, kind):
    port = free_port()
    r = start("plain", ["--bind-port", str(port), "--"] + binder(kind, port), wrapper=[nonetlink])
    assert_running_after_bind(r)
    assert r.finish() == 0
    assert r.err.first(r"sock_diag cannot list .* reading /proc/net/") is not None, r.err.lines
    assert not [l for l in r.err.lines if "cannot see" in l], r.err.lines


def test_no_netlink_no_proc_warns_once_and_does_not_hang(start, nonetlink):
    """Without sock_diag and without /proc: one warning, no running, no busy probing,
    and dock still runs the command to its end."""
    port = free_port()
    wrapper = ["unshare", "--mount", "sh", "-c", 'mount -t tmpfs none /proc && exec "$@"', "sh", nonetlink]
    r = start("plain", ["--bind-port", str(port), "--", "sh", "-c", "cat >/dev/null; exit 4"], wrapper=wrapper)
    r.err.expect(r"--bind-port \d+: cannot see sockets", 5)
    wait_asleep(r.dock_pid)         # done with the turn that warned
    c0 = ctx_switches(r.dock_pid)
    time.sleep(0.6)                 # the window watched: probing would wake dock in it
    c1 = ctx_switches(r.dock_pid)
    assert c1 - c0 <= 1, f"dock woke {c1 - c0} times in 0.6 s with nothing to probe"
    assert_never_running(r, rc_expected=4)
    warnings = [l for l in r.err.lines if "cannot see" in l]
    assert len(warnings) == 1, r.err.lines


# --------------------------------------------------------------------------
# --notify


NOTIFIER = r"""
import os, socket, sys, time
addr = os.environ["NOTIFY_SOCKET"]
assert addr.startswith("@"), addr
print("SOCKET " + addr, flush=True)
print("FDS " + " ".join(sorted(os.listdir("/proc/self/fd"))), flush=True)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
time.sleep(float(sys.argv[1]))   # scenario
t0 = time.monotonic()
s.sendto(sys.argv[2].encode().decode("unicode_escape").encode(), "\0" + addr[1:])
t1 = time.monotonic()
print("BOUND %.6f %.6f 0" % (t0, t1), flush=True)
if sys.argv[3] == "stdin":
    sys.stdin.buffer.read()
else:
    time.sleep(float(sys.argv[3]))   # window: the message must not make dock ready
"""


# hold: as the binder's (stdin, or seconds where dock must not become ready)
def notifier(message, delay=0.3, hold="stdin"):
    return [PY, "-c", NOTIFIER, str(delay), message, str(hold)]


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_notify_ready(start, mode):
    r = start(mode, ["--notify", "--"] + notifier(r"STATUS=warming up\nREADY=1\n"))
    _, m = r.out.expect(r"^SOCKET (@\S+)$")
    r.err.expect(rf"notify: NOTIFY_SOCKET={re.escape(m.group(1))}$", 1)
    assert_running_after_bind(r)
    assert r.finish() == 0
    # the command does not inherit the notify socket: 0, 1, 2 and listdir's own fd only
    _, fds = r.out.first(r"^FDS (.*)$")
    assert fds.group(1).split() == ["0", "1", "2", "3"], fds.group(0)


def test_notify_overrides_inherited_socket(start):
    r = start("plain", ["--notify", "--"] + notifier("READY=1"), env={"NOTIFY_SOCKET": "/run/elsewhere"})
    assert_running_after_bind(r)
    assert r.finish() == 0


@pytest.mark.parametrize("message", [r"STATUS=READY=1", r"READY=0", r"READY=10", r"READY=1 ", r"ready=1"])
def test_notify_without_ready_line(start, message):
    r = start("plain", ["--notify", "--"] + notifier(message, delay=0.1, hold=0.4))
    bound_times(r)
    assert_never_running(r)


def test_notify_oversized_datagram_ignored(start):
    r = start("plain", ["--notify", "--"] + notifier("READY=1\\n" + "X" * 5000, delay=0.1, hold=0.4))
    bound_times(r)
    assert_never_running(r)
    assert r.err.first(r"--notify: \d+-byte message .* ignored") is not None, r.err.lines


def test_notify_from_stranger_ignored_from_tree_accepted(start):
    """Another user's process outside the tree cannot make dock ready; the command can,
    even after dropping its privileges to that same user."""
    r = start("plain", ["--notify", "--", PY, "-c", r"""
import os, socket, sys, time
sys.stdin.readline()   # the test's go-ahead, once the stranger was refused
os.setgid(65534); os.setuid(65534)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
t0 = time.monotonic()
s.sendto(b"READY=1", "\0" + os.environ["NOTIFY_SOCKET"][1:])
print("BOUND %.6f %.6f 0" % (t0, time.monotonic()), flush=True)
sys.stdin.buffer.read()
"""])
    _, m = r.err.expect(r"notify: NOTIFY_SOCKET=@(\S+)$", 5)
    stranger = subprocess.run(
        [PY, "-c", "import socket,sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)"
                   ".sendto(b'READY=1', '\\0' + sys.argv[1])", m.group(1)],
        user=65534, group=65534, capture_output=True, text=True, timeout=10)
    assert stranger.returncode == 0, stranger.stderr
    r.err.expect(r"--notify: READY=1 from pid \d+ \(uid 65534\), not of dock's tree, ignored", 5)
    assert r.err.first(RUNNING) is None
    r.send(b"go\n")
    assert_running_after_bind(r)
    assert r.finish() == 0


def test_notify_from_root_outside_tree_counts(start):
    """dock's own user (here root) is trusted, as systemd's NotifyAccess=all would."""
    r = start("plain", ["--notify", "--", "cat"])
    _, m = r.err.expect(r"notify: NOTIFY_SOCKET=@(\S+)$", 5)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(b"READY=1\n", "\0" + m.group(1))
    s.close()
    r.err.expect(RUNNING, 5)
    r.proc.send_signal(signal.SIGTERM)
    r.finish()


NOTIFY_AND_BIND = r"""
import os, socket, sys, time
first, port = sys.argv[1], int(sys.argv[2])
n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
l = socket.socket()
def notify():
    n.sendto(b"READY=1", "\0" + os.environ["NOTIFY_SOCKET"][1:])
def bind():
    l.bind(("127.0.0.1", port)); l.listen()
steps = [notify, bind] if first == "notify" else [bind, notify]
time.sleep(0.2)   # after dock's first probes (scenario, not a wait)
steps[0]()
print("FIRST %.6f" % time.monotonic(), flush=True)
time.sleep(0.5)   # one condition alone: dock must not become ready in this window
t0 = time.monotonic()
steps[1]()
print("BOUND %.6f %.6f 0" % (t0, time.monotonic()), flush=True)
sys.stdin.buffer.read()
"""


@pytest.mark.parametrize("first", ["notify", "bind"])
def test_notify_and_bind_port_need_both(start, first):
    port = free_port()
    r = start("plain", ["--notify", "--bind-port", str(port), "--", PY, "-c", NOTIFY_AND_BIND, first, str(port)])
    r.out.expect(r"^FIRST ")
    t_run = assert_running_after_bind(r)
    assert t_run >= 0
    assert r.finish() == 0
    gates = [l for l in r.err.lines if re.match(r"^dock: \+\d+ms ready: ", l)]
    assert len(gates) == 2, r.err.lines


# --------------------------------------------------------------------------
# dock as PID 1 of a container (own network namespace), busybox nc as the server


@pytest.mark.parametrize("strict", [False, True])
def test_runc_bind_port(run, strict):
    # nc listens after 0.5 s (scenario: dock probes first) and the command holds on
    # until the test closes its stdin, after running was seen
    args = ["-d"] + (["--strict-port-binding"] if strict else []) + \
        ["--bind-port", "8080", "--", "sh", "-c", "sleep 0.5; nc -l -p 8080 </dev/null & cat >/dev/null"]
    d = run("runc", args, stdin=subprocess.PIPE)
    d.err.expect(r"port 8080: 0 socket\(s\) on it; probing", 15)
    d.err.expect(RUNNING, 15)
    d.proc.stdin.close()
    rc, out, err = d.finish(timeout=20)
    assert rc == 0, err
    assert any(re.search(r"port 8080: bound.* seen (\d+) ms after start", l) for l in err), err
    seen = [int(m.group(1)) for l in err for m in [re.search(r"seen (\d+) ms after start", l)] if m]
    assert seen and seen[0] >= 400, err
