"""The worst case from the command's end to dock's exit, with every bounded
wait at once.

docs/decisions.md gives it as one formula:

    kill-timeout + KILL re-sends (5 x 1 s) + max(I/O drain 5 s, --web-hook-exit-timeout)

Here the three waits a container can really meet are composed in one run:
a child that ignores SIGTERM (the kill timeout runs out), a TCP --io peer
that has stopped reading (the command's last output cannot leave: the I/O
drain runs out), and a hook server that accepts and never answers (the
hook's drain runs out). The exit must land within the formula, and since
the two drains run side by side, well before their sum. dock's own -d lines
carry the milliseconds since its start, so the test also reads from them
where the time went.
"""

import re
import socket
import threading
import time

import psutil
import pytest

from conftest import DOCK_IS_SANITIZED, helper

SLOW = 3.0 if DOCK_IS_SANITIZED else 1.0
KILL_TIMEOUT = 1.0
KILL_RESENDS = 5 * 1.0      # KILL_RETRIES x KILL_RETRY_MS in src/main.c
IO_DRAIN = 5.0              # IO_DRAIN_MS in src/main.c
HOOK_EXIT = 2.0             # --web-hook-exit-timeout's default
FORMULA = KILL_TIMEOUT + KILL_RESENDS + max(IO_DRAIN, HOOK_EXIT)


class HungHook:
    """Accepts connections, reads the requests, never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.bodies = []
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._read, args=(c,), daemon=True).start()

    def _read(self, c):
        data = b""
        try:
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
                if b"}}" in data:
                    self.bodies.append(data)
                    data = b""
        except OSError:
            pass

    def statuses(self):
        return [re.search(rb'"status":"(\w+)"', b).group(1).decode() for b in self.bodies]

    def close(self):
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def _stamp(lines, pattern):
    """The +Nms stamp of dock's first -d line matching pattern, in seconds."""
    for line in lines:
        m = re.match(r"^dock: \+(\d+)ms (.*)$", line)
        if m and re.search(pattern, m.group(2)):
            return int(m.group(1)) / 1000
    raise AssertionError(f"no dock line matching {pattern!r}: {lines}")


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_worst_case_exit_composes_every_bounded_wait(run, io_helpers, mode):
    hook = HungHook()
    peer = socket.socket()
    # a small receive window, so the peer's side fills with little data
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    peer.bind(("127.0.0.1", 0))
    peer.listen(1)
    peer.settimeout(10)
    script = (f"trap 'exit 0' TERM; {helper('sigrec')} -t straggler -i TERM & "
              f"{helper('flood')} 100000000 & wait")
    d = run(mode, ["-d", "--kill-timeout", f"{KILL_TIMEOUT:g}s", "--io", f"tcp://127.0.0.1:{peer.getsockname()[1]}",
                   "--web-hook", f"http://127.0.0.1:{hook.port}/h", "--web-hook-timeout", "60s",
                   "sh", "-c", script])
    conn, _ = peer.accept()
    try:
        # everything in place: the straggler runs, the flood is blocked (the
        # peer reads nothing), the hook's "running" is stuck in the server
        def ready():
            try:
                names = [p.name() for p in psutil.Process(d.dock_pid).children(recursive=True)]
            except psutil.Error:
                return False
            return "sigrec" in names and "flood" in names and len(hook.statuses()) == 1
        deadline = time.monotonic() + 10 * SLOW
        while not ready():
            assert time.monotonic() < deadline, f"not set up: {d.err.lines}"
            time.sleep(0.05)
        time.sleep(0.5)             # the flood fills the pty and dock's buffer
        t_stop = time.monotonic()
        d.kill("TERM")
        rc = d.wait(timeout=FORMULA + 10 * SLOW)
        took = time.monotonic() - t_stop
        err = d.err.finish()
    finally:
        conn.close()
        peer.close()
        hook.close()
    assert rc == 0, err                          # the shell's trap: exit 0
    # within the formula; the two drains side by side, not one after the other
    assert took <= FORMULA + 1.0 * SLOW, f"exit {took:.2f}s after TERM, formula {FORMULA:g}s: {err}"
    assert took < KILL_TIMEOUT + IO_DRAIN + HOOK_EXIT, f"the drains added up: {took:.2f}s: {err}"
    # and each wait really was waited (the composition is real)
    assert took >= KILL_TIMEOUT + IO_DRAIN - 0.3, f"exit {took:.2f}s after TERM: {err}"
    # where the time went, from dock's own stamps
    ended = _stamp(err, r"^main command \(pid \d+\) ended")
    killed = _stamp(err, r"sending SIGKILL")
    drain = _stamp(err, r"^draining:")
    exited = _stamp(err, r"^exiting with 0")
    assert KILL_TIMEOUT - 0.05 <= killed - ended <= KILL_TIMEOUT + 0.5 * SLOW, err
    assert drain - killed <= 0.5 * SLOW, err
    assert IO_DRAIN - 0.05 <= exited - drain <= IO_DRAIN + 0.5 * SLOW, err
    # the hook: "running" gave way, the final status had its own attempt
    assert hook.statuses() == ["running", "stopped"], hook.statuses()
    assert any("status 'stopped' not delivered" in ln and "before dock's exit" in ln for ln in err), err
    # no SIGKILL round after the tree was gone
    assert not any("survive SIGKILL" in ln for ln in err), err
