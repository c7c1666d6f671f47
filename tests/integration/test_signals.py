"""Signals: forwarding, --rewrite, --signal-group, --thug, the terminal's foreground group."""

import os
import pty
import re
import select
import signal
import termios
import time
import uuid

import psutil
import pytest

from conftest import DOCK, MARK, PATH, helper, kill_marked, parse_signals, sig_label, signum

FORWARDED = ["HUP", "INT", "QUIT", "USR1", "USR2", "TERM", "ALRM", "WINCH", "CONT",
             "TSTP", "TTIN", "TTOU"]
# other catchable signals that are not fault signals (dock may leave SEGV, BUS,
# FPE, ILL, ABRT, TRAP, SYS unblocked, per DESIGN) and not musl-internal (32-34)
FORWARDED_EXTRA = ["PIPE", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "IO", "PWR", "STKFLT", 35, 40, 64]


def _expect_sig(d, sig, tag="main", timeout=5):
    n = signum(sig)
    return d.out.expect(rf"^{re.escape(tag)} SIG {n} {sig_label(n)}$", timeout=timeout)


TERMINAL_STOPS = ("TSTP", "TTIN", "TTOU")


def _assert_not_stopped(d):
    if d.mode == "runc":
        return
    st = psutil.Process(d.dock_pid).status()
    assert st != psutil.STATUS_STOPPED, "dock itself was stopped by a job-control signal"


def _wait_status(pid, want, timeout=5):
    """Waits until process pid is in (want=True) or out of (False) the stopped state."""
    deadline = time.monotonic() + timeout
    st = None
    while time.monotonic() < deadline:
        st = psutil.Process(pid).status()
        if (st == psutil.STATUS_STOPPED) == want:
            return
        time.sleep(0.01)
    raise AssertionError(f"pid {pid} is {st}, expected {'stopped' if want else 'not stopped'}")


def _after_terminal_stop(d, sig):
    """Not PID 1, dock stops itself after forwarding a terminal stop (as
    dumb-init); SIGCONT continues it, and it continues the command."""
    if sig not in TERMINAL_STOPS or d.mode != "plain":
        return False
    _wait_status(d.dock_pid, True)
    d.kill("CONT")
    _wait_status(d.dock_pid, False)
    return True


@pytest.mark.parametrize("mode", ["plain", "pidns"])
@pytest.mark.parametrize("sig", FORWARDED)
def test_signal_forwarded(run, mode, sig):
    d = run(mode, ["@sigrec", "-x", f"{sig}:33"])
    d.out.expect(r"^main ready")
    d.kill(sig)
    _expect_sig(d, sig)
    # the command exits on the signal; a dock that stopped itself learns it once continued
    _after_terminal_stop(d, sig)
    assert d.wait() == 33
    assert parse_signals(d.out.finish()) == [sig]


@pytest.mark.parametrize("mode", ["plain", "pidns", "runc"])
def test_all_signals_forwarded_in_one_run(run, mode):
    d = run(mode, ["@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready", timeout=15)
    want = []
    for sig in FORWARDED:
        if sig == "TERM":
            continue
        d.kill(sig)
        _expect_sig(d, sig)
        want.append(sig)
        if _after_terminal_stop(d, sig):
            _expect_sig(d, "CONT")
            want.append("CONT")
        else:
            _assert_not_stopped(d)
    d.kill("TERM")
    rc, out, err = d.finish(timeout=15)
    assert rc == 0, err
    assert parse_signals(out, mode=mode) == want + ["TERM"]


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_other_catchable_signals_forwarded(run, mode):
    d = run(mode, ["@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready")
    for sig in FORWARDED_EXTRA:
        d.kill(sig)
        _expect_sig(d, sig)
    d.kill("TERM")
    rc, out, err = d.finish()
    assert rc == 0
    assert parse_signals(out) == [sig_label(signum(s)) for s in FORWARDED_EXTRA] + ["TERM"]


@pytest.mark.parametrize("mode", ["plain", "pidns", "runc"])
@pytest.mark.parametrize("sig,expected", [("TERM", 143), ("INT", 130), ("HUP", 129)])
def test_forwarded_signal_kills_command(run, mode, sig, expected):
    d = run(mode, ["sleep", "30"])
    # sleep has no readiness line: wait until dock has started it
    _wait_for_command(d)
    d.kill(sig)
    rc, _, err = d.finish(timeout=15)
    assert rc == expected, err


def _wait_for_command(d, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(d.dock_pid).children():
                return
        except psutil.NoSuchProcess:
            break
        time.sleep(0.01)  # poll step: no event says the command was forked
    raise AssertionError("dock did not start its command")


def test_signal_burst_not_lost(run):
    """Distinct signals sent back to back all arrive (none merged away by dock)."""
    d = run("plain", ["@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready")
    burst = ["HUP", "USR1", "USR2", "WINCH", "ALRM", "URG"]
    for sig in burst:
        os.kill(d.dock_pid, signum(sig))
    for _ in burst:
        d.out.expect(r"^main SIG ")
    d.kill("TERM")
    rc, out, _ = d.finish()
    assert rc == 0
    assert sorted(parse_signals(out)) == sorted(burst + ["TERM"])


# --- --rewrite ---------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plain", "pidns"])
@pytest.mark.parametrize("opt", [["--rewrite", "TERM:USR1"], ["--rewrite=SIGTERM:SIGUSR1"],
                                 ["--rewrite", "15:10"]])
def test_rewrite(run, mode, opt):
    d = run(mode, opt + ["@sigrec", "-x", "USR2:0"])
    d.out.expect(r"^main ready")
    d.kill("TERM")
    _expect_sig(d, "USR1")
    d.kill("USR2")
    rc, out, _ = d.finish()
    assert rc == 0
    assert parse_signals(out) == ["USR1", "USR2"]


@pytest.mark.parametrize("mode", ["plain", "pidns"])
@pytest.mark.parametrize("dropped", ["HUP", "USR1"])
def test_rewrite_to_zero_drops(run, mode, dropped):
    # the dropped signal has a lower number than the closing USR2: if dock
    # forwarded it anyway, the command would record it before USR2
    d = run(mode, ["--rewrite", f"{dropped}:0", "@sigrec", "-x", "USR2:0"])
    d.out.expect(r"^main ready")
    d.kill(dropped)
    d.kill("USR2")
    rc, out, _ = d.finish()
    assert rc == 0
    assert parse_signals(out) == ["USR2"]


def test_rewrite_is_applied_once_not_chained(run):
    d = run("plain", ["--rewrite", "USR1:USR2", "--rewrite", "USR2:USR1", "@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready")
    d.kill("USR1")
    _expect_sig(d, "USR2")
    d.kill("USR2")
    _expect_sig(d, "USR1")
    d.kill("TERM")
    rc, out, _ = d.finish()
    assert rc == 0
    assert parse_signals(out) == ["USR2", "USR1", "TERM"]


def test_rewrite_from_env(run):
    d = run("plain", ["@sigrec", "-x", "USR2:0"], env={"DOCK_REWRITE": "TERM:USR1,HUP:0"})
    d.out.expect(r"^main ready")
    d.kill("HUP")
    d.kill("TERM")
    _expect_sig(d, "USR1")
    d.kill("USR2")
    rc, out, _ = d.finish()
    assert rc == 0
    assert parse_signals(out) == ["USR1", "USR2"]


def test_rewrite_flag_wins_over_env(run):
    d = run("plain", ["--rewrite", "TERM:USR1", "@sigrec", "-x", "USR2:0"], env={"DOCK_REWRITE": "TERM:HUP"})
    d.out.expect(r"^main ready")
    d.kill("TERM")
    _expect_sig(d, "USR1")
    d.kill("USR2")
    rc, out, _ = d.finish()
    assert parse_signals(out) == ["USR1", "USR2"]


def test_rewrite_runc(run):
    d = run("runc", ["--rewrite", "TERM:USR1", "@sigrec", "-x", "USR2:0"])
    d.out.expect(r"^main ready", timeout=15)
    d.kill("TERM")
    _expect_sig(d, "USR1")
    d.kill("USR2")
    rc, out, _ = d.finish(timeout=15)
    assert rc == 0
    assert parse_signals(out, mode="runc") == ["USR1", "USR2"]


# --- --signal-group ----------------------------------------------------------


@pytest.mark.parametrize("mode", ["plain", "pidns"])
@pytest.mark.parametrize("how", ["flag", "env"])
def test_signal_group_reaches_the_whole_group(run, mode, how):
    args, env = (["--signal-group"], None) if how == "flag" else ([], {"DOCK_SIGNAL_GROUP": "1"})
    d = run(mode, args + ["@sigrec", "-f", "-x", "USR1:0"], env=env)
    child = d.out.expect(r"^main\.child ready pid=(\d+) ppid=\d+ pgid=(\d+)")
    main = d.out.expect(r"^main ready pid=(\d+) ppid=\d+ pgid=(\d+)")
    assert main.group(2) == child.group(2) == main.group(1), "the child should share the command's group"
    d.kill("USR1")
    rc, out, _ = d.finish()
    assert rc == 0
    assert parse_signals(out, "main") == ["USR1"]
    assert parse_signals(out, "main.child") == ["USR1"], "the group member did not get the signal"


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_without_signal_group_only_the_command_gets_it(run, mode):
    d = run(mode, ["@sigrec", "-f", "-x", "USR2:0"])
    d.out.expect(r"^main ready")
    d.kill("USR1")
    _expect_sig(d, "USR1")
    d.kill("USR2")
    rc, out, _ = d.finish()
    assert rc == 0
    assert parse_signals(out, "main") == ["USR1", "USR2"]
    # the child only gets the shutdown's TERM (and maybe a CONT with it); a USR1
    # sent to the group would be pending in it before that TERM and recorded first
    assert [s for s in parse_signals(out, "main.child") if s != "CONT"] == ["TERM"]


# --- --thug ------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plain", "pidns"])
@pytest.mark.parametrize("sig,how", [("TERM", "-i"), ("TERM", "-b"), ("INT", "-i"), ("QUIT", "-i"),
                                     ("INT", "-b"), ("QUIT", "-b")])
def test_thug_kills_command_that_ignores_stop_signal(run, mode, sig, how):
    d = run(mode, ["--thug", "@sigrec", how, sig, "-x", "USR2:0"])
    d.out.expect(r"^main ready")
    t = time.monotonic()
    d.kill(sig)
    rc, out, _ = d.finish(timeout=5)
    assert rc == 137, f"expected SIGKILL (137), got {rc}; output {out}"
    assert time.monotonic() - t < 2.0


def test_thug_from_env(run):
    d = run("plain", ["@sigrec", "-i", "TERM", "-x", "USR2:0"], env={"DOCK_THUG": "1"})
    d.out.expect(r"^main ready")
    d.kill("TERM")
    assert d.wait(5) == 137


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_without_thug_an_ignored_term_is_just_ignored(run, mode):
    d = run(mode, ["@sigrec", "-i", "TERM", "-x", "USR2:5"])
    d.out.expect(r"^main ready")
    d.kill("TERM")
    time.sleep(0.3)  # window: the command must not die of the ignored TERM
    assert d.proc.poll() is None, "the command died from an ignored TERM without --thug"
    d.kill("USR2")
    assert d.wait() == 5


def test_thug_forwards_a_handled_term(run):
    d = run("plain", ["--thug", "@sigrec", "-x", "TERM:3"])
    d.out.expect(r"^main ready")
    d.kill("TERM")
    rc, out, _ = d.finish()
    assert rc == 3
    assert parse_signals(out) == ["TERM"]


def test_thug_leaves_other_ignored_signals_alone(run):
    d = run("plain", ["--thug", "@sigrec", "-i", "USR1", "-i", "HUP", "-x", "USR2:4"])
    d.out.expect(r"^main ready")
    d.kill("USR1")
    d.kill("HUP")
    time.sleep(0.3)  # window: --thug must not kill for USR1 or HUP
    assert d.proc.poll() is None, "--thug killed the command for a signal that is not INT/TERM/QUIT"
    d.kill("USR2")
    assert d.wait() == 4


def test_thug_applies_after_rewrite(run):
    """SPEC: forwarding happens after --rewrite/--thug: HUP rewritten to TERM,
    which the command ignores, becomes SIGKILL."""
    d = run("plain", ["--thug", "--rewrite", "HUP:TERM", "@sigrec", "-i", "TERM", "-x", "USR2:0"])
    d.out.expect(r"^main ready")
    d.kill("HUP")
    assert d.wait(5) == 137


def test_thug_runc(run):
    d = run("runc", ["--thug", "@sigrec", "-i", "TERM", "-x", "USR2:0"])
    d.out.expect(r"^main ready", timeout=15)
    d.kill("TERM")
    assert d.wait(15) == 137


# --- a terminal on stdin -----------------------------------------------------


class Pty:
    def __init__(self, argv, env, tostop=False):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                if tostop:
                    a = termios.tcgetattr(0)
                    a[3] |= termios.TOSTOP
                    termios.tcsetattr(0, termios.TCSANOW, a)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(121)
        self.buf = ""
        self.status = None

    def expect(self, pattern, timeout=5):
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} on the terminal within {timeout}s: {self.buf!r}")
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    m = rx.search(self.buf)
                    if m:
                        return m
                    raise AssertionError(f"terminal closed before {pattern!r}: {self.buf!r}")
                self.buf += data.decode(errors="replace").replace("\r\n", "\n")

    def wait(self, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                    self.buf += data.decode(errors="replace").replace("\r\n", "\n")
                except OSError:
                    pass
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                return self.status
        raise AssertionError(f"dock on a terminal did not exit within {timeout}s "
                             f"(state {psutil.Process(self.pid).status()}): {self.buf!r}")

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(self.fd)


def test_terminal_command_is_the_foreground_group():
    t = Pty([str(DOCK), helper("inspect")], {"PATH": PATH})
    try:
        m = t.expect(r"^ids pid=(\d+) ppid=(\d+) pgid=(\d+) sid=(\d+) tpgid=(-?\d+)$")
        pid, ppid, pgid, sid, tpgid = map(int, m.groups())
        assert ppid == t.pid
        assert pgid == pid, "the command should lead its own process group"
        assert tpgid == pgid, "the command's group should be the terminal's foreground group"
        t.expect(r"^end$")
        assert t.wait() == 0
    finally:
        t.close()


def test_terminal_stop_signals_to_dock_stop_it_until_cont():
    """dock on a terminal, not PID 1, is sent TSTP, TTIN or TTOU itself: it forwards
    the signal (sigrec handles it and goes on), stops itself, and on SIGCONT
    continues and hands the SIGCONT on."""
    t = Pty([str(DOCK), helper("sigrec"), "-x", "USR2:6"], {"PATH": PATH})
    try:
        m = t.expect(r"^main ready pid=(\d+) ppid=\d+ pgid=(\d+)")
        assert os.tcgetpgrp(t.fd) == int(m.group(2))
        for sig in TERMINAL_STOPS:
            os.kill(t.pid, signum(sig))
            t.expect(rf"^main SIG {signum(sig)} {sig}$")
            _wait_status(t.pid, True)
            os.kill(t.pid, signal.SIGCONT)
            _wait_status(t.pid, False)
            t.expect(rf"^main SIG {signum('CONT')} CONT$")
            t.buf = ""
        os.kill(t.pid, signal.SIGUSR2)
        assert t.wait() == 6
    finally:
        t.close()


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_tstp_to_dock_without_a_terminal(run, mode):
    """Not PID 1: TSTP to dock stops the command and dock, SIGCONT continues both.
    As PID 1 dock forwards it and never stops."""
    d = run(mode, ["sh", "-c", "echo started; exec sleep 30"])
    d.out.expect(r"^started$")
    _wait_for_command(d)
    cmd = psutil.Process(d.dock_pid).children()[0].pid
    d.kill("TSTP")
    _wait_status(cmd, True)
    if mode == "plain":
        _wait_status(d.dock_pid, True)
        d.kill("CONT")
        _wait_status(d.dock_pid, False)
        _wait_status(cmd, False)
    else:
        time.sleep(0.2)  # time to stop, if dock were to: nothing happens to wait for
        _assert_not_stopped(d)
        d.kill("CONT")
        _wait_status(cmd, False)
    d.kill("TERM")
    rc, _, err = d.finish()
    assert rc == 143, err


def test_dropped_terminal_stop_does_not_stop_dock(run):
    d = run("plain", ["--rewrite", "TSTP:0", "@sigrec", "-x", "USR2:6"])
    d.out.expect(r"^main ready")
    d.kill("TSTP")
    d.kill("USR2")
    assert d.wait() == 6
    assert parse_signals(d.out.finish()) == ["USR2"]


def test_terminal_with_tostop_dock_writes_from_background():
    """With TOSTOP, a background write raises SIGTTOU: dock (background once the
    command is foreground) must still print its -d lines and exit, never stop."""
    t = Pty([str(DOCK), "-d", helper("exitwith"), "3"], {"PATH": PATH}, tostop=True)
    try:
        assert t.wait() == 3
    finally:
        t.close()


# --- job control in an interactive shell -----------------------------------


class Shell:
    """An interactive bash on a pseudo-terminal, as a user at a terminal has."""

    def __init__(self):
        self.mark = uuid.uuid4().hex
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve("/bin/bash", ["bash", "--norc", "--noprofile", "-i"],
                          {"PATH": PATH, "PS1": "PROMPT$ ", "TERM": "dumb", "HOME": "/tmp",
                           MARK: self.mark})
            finally:
                os._exit(121)
        self.buf = b""
        self.expect(rb"PROMPT\$ ")

    def expect(self, pattern, timeout=10):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} on the terminal within {timeout}s: {self.buf!r}")
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError(f"terminal closed before {pattern!r}: {self.buf!r}")
                self.buf += data

    def type(self, text):
        os.write(self.fd, text)

    def dock_and_command(self):
        """dock (the shell's child) and its command, as psutil processes."""
        for p in psutil.Process(self.pid).children():
            if p.exe() == str(DOCK):
                return p, p.children()[0]
        raise AssertionError("no dock under the shell")

    def close(self):
        kill_marked(self.mark)
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


# prints "ready-42", which the terminal's echo of the command line does not hold
READER = "echo ready-$((6*7)); read x; echo got $x; exit 7"


@pytest.mark.parametrize("sig_ctrl", ["^Z", "kill -TSTP"])
def test_ctrl_z_in_an_interactive_shell(sig_ctrl):
    """`dock sh ...` in bash, then ^Z: the command stops, dock stops with it, bash
    prints Stopped and its prompt; `fg` resumes both with the terminal, the command
    reads what is typed, and $? is the command's code."""
    sh = Shell()
    try:
        sh.type(f"{DOCK} sh -c '{READER}'\n".encode())
        sh.expect(rb"ready-42")
        dock, cmd = sh.dock_and_command()
        if sig_ctrl == "^Z":
            sh.type(b"\x1a")
        else:
            os.kill(dock.pid, signal.SIGTSTP)
        sh.expect(rb"Stopped[^\n]*dock-under-test-\d+ sh -c")
        sh.expect(rb"PROMPT\$ ")
        assert dock.status() == psutil.STATUS_STOPPED
        _wait_status(cmd.pid, True)
        sh.type(b"fg\n")
        _wait_status(cmd.pid, False)
        sh.type(b"hello\n")
        sh.expect(rb"got hello")
        sh.expect(rb"PROMPT\$ ")
        sh.type(b"echo rc=$?\n")
        assert sh.expect(rb"rc=(\d+)").group(1) == b"7"
    finally:
        sh.close()


def test_background_read_stops_the_job_and_fg_gives_the_terminal():
    """`dock sh ... &`: the command reads the terminal from the background and gets
    SIGTTIN; dock stops too, so bash reports the job stopped; `fg` continues dock,
    which hands the terminal to the command's group."""
    sh = Shell()
    try:
        sh.type(f"{DOCK} sh -c '{READER}' &\n".encode())
        sh.expect(rb"ready-42")
        dock, cmd = sh.dock_and_command()
        _wait_status(dock.pid, True)
        sh.type(b"jobs\n")
        sh.expect(rb"Stopped[^\n]*dock-under-test-\d+ sh -c")
        sh.type(b"fg\n")
        _wait_status(cmd.pid, False)
        sh.type(b"hello\n")
        sh.expect(rb"got hello")
        sh.expect(rb"PROMPT\$ ")
        sh.type(b"echo rc=$?\n")
        assert sh.expect(rb"rc=(\d+)").group(1) == b"7"
    finally:
        sh.close()
