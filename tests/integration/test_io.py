"""--io and --stdout-prefix (issue 3), against real peers on 127.0.0.1 and ::1.

The peers are Python sockets served from threads: a stream peer (tcp, unix,
tls) records every byte dock sends and sends what a test tells it to, all
from one thread (an SSL object is not used from two threads); a datagram peer
(udp, unixgram) keeps each datagram whole. TLS certificates come from the
throw-away PKI of conftest's `tls_certs` fixture. The environment of every
dock run is built from scratch (PATH plus what a test sets), so the host's
SSL_CERT_FILE / SSL_CERT_DIR / NO_COLOR never leak in.

Output through a pseudo-terminal carries the terminal's "\\n" -> "\\r\\n"
translation (onlcr), as on any terminal; the expectations below include it.
"""

import hashlib
import os
import re
import select
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest

from conftest import DOCK, MARK, MODES, PATH, helper, kill_marked
from conftest import slack, wait_for

ESC = "\x1b"
COLOURS = {"white": 37, "green": 32, "blue": 34, "magenta": 35, "yellow": 33, "cyan": 36, "red": 31}
MAX_DGRAM = 65507


# --------------------------------------------------------------------------
# running dock to completion, bytes in and out


class Result:
    def __init__(self, returncode, stdout, stderr, elapsed):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed

    @property
    def err_lines(self):
        return self.stderr.decode(errors="replace").splitlines()

    def __repr__(self):
        return (f"Result(rc={self.returncode}, elapsed={self.elapsed:.2f}s, "
                f"stdout={self.stdout[:400]!r}, stderr={self.stderr[:400]!r})")


def dock(args, env=None, input=None, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
         timeout=20, preexec_fn=None):
    """Runs build/dock ARGS (plain mode) to completion. env: added to a clean
    {PATH} environment. A run that overstays `timeout` is killed with every
    process it started, and the test fails."""
    mark = uuid.uuid4().hex
    e = {"PATH": PATH, MARK: mark}
    e.update(env or {})
    t0 = time.monotonic()
    p = subprocess.Popen([str(DOCK)] + [str(a) for a in args], env=e,
                         stdin=subprocess.PIPE if input is not None else stdin,
                         stdout=stdout, stderr=subprocess.PIPE, preexec_fn=preexec_fn)
    try:
        out, err = p.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        kill_marked(mark)
        raise AssertionError(f"dock {args!r} did not exit within {timeout}s; "
                             f"stdout={(out or b'')[-400:]!r} stderr={(err or b'')[-400:]!r}") from None
    finally:
        kill_marked(mark)
    return Result(p.returncode, out, err, time.monotonic() - t0)


def pfx(prefix, colour=None):
    """The bytes dock writes as the prefix, per SPEC."""
    if colour is None:
        return prefix.encode()
    return f"{ESC}[{COLOURS[colour]};1m{prefix}{ESC}[0m".encode()


def one_dock_line(res):
    lines = res.err_lines
    assert len(lines) == 1, f"expected one line on stderr: {res!r}"
    assert lines[0].startswith("dock: "), res
    return lines[0]


def free_port(host="127.0.0.1"):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def sh_marker(path):
    """A command that leaves `path` behind if it ever runs."""
    return ["sh", "-c", f"touch {path}"]


def flood_bytes(lines, prefix=b"", eol=b"\n"):
    """What helpers/flood.c writes for `lines` lines, prefixed and with eol."""
    letters = [bytes([97 + k]) * 89 for k in range(26)]
    return b"".join(b"%s%09d %s%s" % (prefix, i, letters[i % 26], eol) for i in range(lines))


@pytest.fixture
def short_tmp():
    """A short directory for unix socket paths (at most 107 bytes)."""
    d = tempfile.mkdtemp(prefix="dkio", dir="/tmp")
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------
# peers


class StreamPeer:
    """Listens (tcp on host, or unix at path), accepts one connection, TLS
    when `tls` (a server SSLContext) is given. One thread does every socket
    operation: it sends what send() queued, receives into .data, and closes
    on close(). paused=True: accept but do not read until resume().
    stall=True: accept and then do nothing at all (no TLS handshake either)."""

    def __init__(self, host="127.0.0.1", path=None, tls=None, paused=False, stall=False, port=0):
        if path is not None:
            self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.lsock.bind(str(path))
            self.port = None
        else:
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            self.lsock = socket.socket(fam, socket.SOCK_STREAM)
            self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.lsock.bind((host, port))
            self.port = self.lsock.getsockname()[1]
        self.lsock.listen(8)
        self.tls = tls
        self.stall = stall
        self.data = bytearray()
        self.pos = 0
        self.eof = False
        self.error = None
        self.accepted = threading.Event()
        self._cond = threading.Condition()
        self._outq = bytearray()
        self._closing = False
        self._running = threading.Event()
        if not paused:
            self._running.set()
        self._t = threading.Thread(target=self._serve, daemon=True)
        self._t.start()

    def _finish(self, error=None):
        with self._cond:
            if error is not None and self.error is None:
                self.error = error
            self.eof = True
            self._cond.notify_all()

    def _serve(self):
        self.lsock.settimeout(30)
        try:
            conn, _ = self.lsock.accept()
        except OSError as e:
            self._finish(e)
            return
        finally:
            self.lsock.close()
        self.accepted.set()
        if self.stall:
            while True:
                with self._cond:
                    if self._closing:
                        break
                    self._cond.wait(0.05)
            conn.close()
            self._finish()
            return
        if self.tls is not None:
            conn.settimeout(10)
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError) as e:
                conn.close()
                self._finish(e)
                return
        conn.settimeout(0.02)
        try:
            while True:
                with self._cond:
                    pending = bytes(self._outq)
                    self._outq.clear()
                    closing = self._closing
                if pending:
                    conn.settimeout(10)
                    conn.sendall(pending)
                    conn.settimeout(0.02)
                if closing:
                    conn.close()
                    self._finish()
                    return
                if not self._running.is_set():
                    self._running.wait(0.02)
                    continue
                try:
                    chunk = conn.recv(1 << 16)
                except (socket.timeout, ssl.SSLWantReadError):
                    continue
                if not chunk:
                    conn.close()
                    self._finish()
                    return
                with self._cond:
                    self.data += chunk
                    self._cond.notify_all()
        except OSError as e:
            conn.close()
            self._finish(e)

    def send(self, data):
        with self._cond:
            self._outq += data

    def close(self):
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    def resume(self):
        self._running.set()

    def wait_accepted(self, timeout=7):
        assert self.accepted.wait(timeout), "dock never connected"

    def expect(self, pattern, timeout=10):
        """Waits for `pattern` (bytes regex) in what arrived after the last match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = rx.search(self.data, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                left = deadline - time.monotonic()
                if self.eof or left <= 0:
                    raise AssertionError(f"no {pattern!r} from dock within {timeout}s (eof={self.eof}, "
                                         f"error={self.error!r}); got {bytes(self.data[-600:])!r}")
                self._cond.wait(left)

    def wait_eof(self, timeout=10):
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.eof:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"dock did not close the connection within {timeout}s; "
                                         f"got {len(self.data)} bytes, last {bytes(self.data[-200:])!r}")
                self._cond.wait(left)
        return bytes(self.data)


class DgramPeer:
    """A bound udp (host) or unixgram (path) socket; datagrams() returns them whole."""

    def __init__(self, host="127.0.0.1", path=None):
        if path is not None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.sock.bind(str(path))
            self.port = None
        else:
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            self.sock = socket.socket(fam, socket.SOCK_DGRAM)
            self.sock.bind((host, 0))
            self.port = self.sock.getsockname()[1]
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)

    def datagrams(self, quiet=0.3, timeout=10):
        """Every datagram until none came for `quiet` seconds."""
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.sock], [], [], quiet)
            if not r:
                break
            got.append(self.sock.recv(1 << 17))
        return got

    def close(self):
        self.sock.close()


_ctx_cache = {}


def server_ctx(certs, name, sni_log=None):
    """A server SSLContext presenting certificate `name` of tls_certs."""
    if sni_log is None and name in _ctx_cache:
        return _ctx_cache[name]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*certs[name])
    if sni_log is not None:
        ctx.sni_callback = lambda sock, server_name, c: sni_log.append(server_name)
    else:
        _ctx_cache[name] = ctx
    return ctx


@pytest.fixture
def peers(tls_certs, short_tmp):
    """peers(kind, **kw) -> (peer, url, env): a stream peer of `kind` and the
    --io URL that reaches it. Every peer is closed after the test."""
    made = []

    def make(kind, cert="good", host=None, **kw):
        env = {}
        if kind in ("tcp", "tcp4"):
            p = StreamPeer(host or "127.0.0.1", **kw)
            url = f"{kind}://{host or '127.0.0.1'}:{p.port}"
        elif kind == "tcp6":
            p = StreamPeer("::1", **kw)
            url = f"tcp6://[::1]:{p.port}"
        elif kind == "unix":
            path = short_tmp / f"s{len(made)}.sock"
            p = StreamPeer(path=path, **kw)
            url = f"unix://{path}"
        elif kind in ("tls", "ssl"):
            p = StreamPeer(host or "127.0.0.1", tls=server_ctx(tls_certs, cert), **kw)
            name = host or ("localhost" if kind == "tls" else "127.0.0.1")
            url = f"{kind}://{name}:{p.port}"
            env = {"SSL_CERT_FILE": tls_certs["ca"]}
        elif kind == "tls6":
            p = StreamPeer("::1", tls=server_ctx(tls_certs, cert), **kw)
            url = f"tls://[::1]:{p.port}"
            env = {"SSL_CERT_FILE": tls_certs["ca"]}
        else:
            raise ValueError(kind)
        made.append(p)
        return p, url, env

    yield make
    for p in made:
        p.close()


@pytest.fixture
def dgram_peers(short_tmp):
    made = []

    def make(kind):
        if kind in ("udp", "udp4"):
            p = DgramPeer("127.0.0.1")
            url = f"{kind}://127.0.0.1:{p.port}"
        elif kind == "udp6":
            p = DgramPeer("::1")
            url = f"udp6://[::1]:{p.port}"
        elif kind == "unixgram":
            path = short_tmp / f"g{len(made)}.sock"
            p = DgramPeer(path=path)
            url = f"unixgram://{path}"
        else:
            raise ValueError(kind)
        made.append(p)
        return p, url

    yield make
    for p in made:
        p.close()


def crlf(b):
    return b.replace(b"\n", b"\r\n")


# --------------------------------------------------------------------------
# interactive peers: tcp, unix, tls


@pytest.mark.parametrize("kind", ["tcp", "tcp4", "tcp6", "unix", "tls", "ssl", "tls6"])
def test_interactive_shell(run, peers, kind):
    """A shell over the peer: its input is the peer's bytes, its output comes
    back, `tty` names a pseudo-terminal and `stty -a` shows echo off."""
    peer, url, env = peers(kind)
    d = run("plain", ["--io", url, "sh"], env=env)
    peer.wait_accepted()
    peer.send(b"echo A$((40+2))Z\n")
    peer.expect(rb"A42Z\r\n")
    peer.send(b"tty\n")
    peer.expect(rb"/dev/pts/\d+\r\n")
    peer.send(b"stty -a\n")
    peer.expect(rb"(?<![\w-])-echo(?![\w])")
    peer.send(b"read v; echo got=$v\n")
    peer.send(b"typed words\n")
    peer.expect(rb"got=typed words\r\n")
    peer.send(b"exit 7\n")
    assert d.wait(10) == 7
    peer.wait_eof(5)
    # echo is off: what the peer typed never comes back
    assert b"echo A$((40+2))Z" not in peer.data
    assert b"typed words\r\n" not in peer.data.replace(b"got=typed words", b"")
    assert d.err.finish() == [], "dock wrote to its stderr"
    assert d.out.finish() == [], "dock wrote to its stdout"


@pytest.mark.parametrize("kind", ["tcp", "unix", "tls"])
def test_interactive_echo_off_and_line_input(run, peers, kind):
    """`cat` on the terminal: one line in, the same line out once (no echo)."""
    peer, url, env = peers(kind)
    d = run("plain", ["--io", url, "cat"], env=env)
    peer.wait_accepted()
    peer.send(b"hello there\n")
    peer.expect(rb"hello there\r\n")
    peer.send(b"second\n")
    peer.expect(rb"second\r\n")
    time.sleep(0.2)  # window: no echo of the input may follow
    assert bytes(peer.data) == b"hello there\r\nsecond\r\n"
    peer.send(b"\x04")  # ^D on an empty line: end of input for cat
    assert d.wait(10) == 0
    assert peer.wait_eof(5) == b"hello there\r\nsecond\r\n"


@pytest.mark.parametrize("kind", ["tcp", "unix", "tls"])
def test_interactive_command_is_session_leader_with_controlling_tty(run, peers, kind):
    peer, url, env = peers(kind)
    d = run("plain", ["--io", url, "@inspect"], env=env)
    assert d.wait(10) == 0
    text = peer.wait_eof(5).decode(errors="replace")
    m = re.search(r"ids pid=(\d+) ppid=\d+ pgid=(\d+) sid=(\d+) tpgid=(-?\d+)", text)
    assert m, text
    pid, pgid, sid, tpgid = map(int, m.groups())
    assert sid == pid, f"the command is not the leader of its own session: {m.group(0)}"
    assert tpgid == pgid, f"the pty is not its controlling terminal with it in the foreground: {m.group(0)}"


@pytest.mark.parametrize("kind", ["tcp", "tcp6", "unix", "tls"])
def test_peer_close_hangs_up_the_command(run, peers, kind):
    peer, url, env = peers(kind)
    d = run("plain", ["--io", url, "sh", "-c", "echo ready; exec sleep 30"], env=env)
    peer.expect(rb"ready\r\n")
    t = time.monotonic()
    peer.close()
    rc = d.wait(5)
    assert rc == 128 + signal.SIGHUP, d.err.lines
    assert time.monotonic() - t < 2.0


def test_peer_close_hangs_up_an_interactive_shell(run, peers):
    peer, url, env = peers("tcp")
    d = run("plain", ["--io", url, "sh"], env=env)
    peer.send(b"echo U$((1+1))\n")
    peer.expect(rb"U2\r\n")
    t = time.monotonic()
    peer.close()
    rc = d.wait(5)
    assert time.monotonic() - t < 2.0
    assert rc == 128 + signal.SIGHUP, d.err.lines


def test_peer_close_hangs_up_the_whole_session(run, peers):
    """Children in the command's session get SIGHUP too; dock exits promptly
    (not after a kill timeout) and nothing is left."""
    peer, url, env = peers("tcp")
    d = run("plain", ["--kill-timeout", "10s", "--io", url, "sh", "-c",
                      "sleep 30 & sleep 31 & echo ready; wait"], env=env)
    peer.expect(rb"ready\r\n")
    t = time.monotonic()
    peer.close()
    rc = d.wait(5)
    assert time.monotonic() - t < 2.0
    assert rc == 128 + signal.SIGHUP


@pytest.mark.parametrize("mode", ["pidns"])
def test_peer_close_in_pid_namespace(run, peers, mode):
    peer, url, env = peers("tcp")
    d = run(mode, ["--io", url, "sh", "-c", "echo ready; exec sleep 30"], env=env)
    peer.expect(rb"ready\r\n")
    peer.close()
    assert d.wait(5) == 128 + signal.SIGHUP


@pytest.mark.parametrize("kind", ["tcp", "unix", "tls"])
def test_last_output_reaches_the_peer(run, peers, kind):
    peer, url, env = peers(kind)
    d = run("plain", ["--io", url, "sh", "-c", "seq 1 20000; exit 3"], env=env)
    assert d.wait(20) == 3
    data = peer.wait_eof(5)
    want = b"".join(b"%d\r\n" % i for i in range(1, 20001))
    assert len(data) == len(want), f"got {len(data)} of {len(want)} bytes; tail {data[-80:]!r}"
    assert data == want


@pytest.mark.parametrize("kind", ["tcp", "tls"])
def test_last_partial_line_reaches_the_peer(run, peers, kind):
    peer, url, env = peers(kind)
    d = run("plain", ["--io", url, "printf", "last words"], env=env)
    assert d.wait(10) == 0
    assert peer.wait_eof(5) == b"last words"


def test_name_resolution_through_hosts_tries_every_address(run, peers):
    """tcp://localhost: /etc/hosts may list ::1 first; the peer listens on
    127.0.0.1 only, so dock must go on to the next address."""
    peer, _, env = peers("tcp")
    d = run("plain", ["--io", f"tcp://localhost:{peer.port}", "echo", "via name"], env=env)
    assert d.wait(10) == 0
    assert peer.wait_eof(5) == b"via name\r\n"


# --------------------------------------------------------------------------
# connect failures: exit 1, naming the URL, before the command starts


@pytest.mark.parametrize("scheme,host", [("tcp", "127.0.0.1"), ("tcp4", "127.0.0.1"), ("tcp6", "[::1]"),
                                         ("tls", "127.0.0.1"), ("ssl", "localhost")])
def test_refused_connect(tmp_path, scheme, host):
    """Refused until --io-connect-timeout: then the one line and exit 1."""
    port = free_port("::1" if host == "[::1]" else "127.0.0.1")
    url = f"{scheme}://{host}:{port}"
    marker = tmp_path / "started"
    res = dock(["--io-connect-timeout", "1s", "--io", url] + sh_marker(marker), timeout=10)
    assert res.returncode == 1, res
    # the last try starts before the deadline (backoff at most 250 ms)
    assert 0.7 <= res.elapsed < 2.5, res
    line = one_dock_line(res)
    assert line.startswith(f"dock: --io {url}: "), line
    assert not marker.exists(), "the command ran although the peer refused"
    assert res.stdout == b""


@pytest.mark.parametrize("how", ["default", "flag", "env"])
def test_refused_connect_waits_for_the_timeout(tmp_path, how):
    """The default is 5 s; DOCK_IO_CONNECT_TIMEOUT sets it too."""
    url = f"tcp://127.0.0.1:{free_port()}"
    marker = tmp_path / "started"
    args = ["--io", url] + sh_marker(marker)
    env = None
    if how == "flag":
        args = ["--io-connect-timeout", "1500ms"] + args
    elif how == "env":
        env = {"DOCK_IO_CONNECT_TIMEOUT": "1500ms"}
    res = dock(args, env=env, timeout=15)
    assert res.returncode == 1, res
    low, high = (4.5, 6.5) if how == "default" else (1.2, 3.0)
    assert low <= res.elapsed < high, res
    assert one_dock_line(res) == f"dock: --io {url}: Connection refused"
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["tcp", "tls", "unix"])
def test_peer_that_comes_up_late_is_waited_for(tls_certs, short_tmp, tmp_path, kind):
    """A console or log collector that starts a second after the container: the
    command starts once dock is connected, and every byte reaches the peer."""
    env = {}
    if kind == "unix":
        path = short_tmp / "late.sock"
        url = f"unix://{path}"
        make = lambda: StreamPeer(path=path)
    else:
        port = free_port()
        tls = server_ctx(tls_certs, "good") if kind == "tls" else None
        url = f"{kind}://{'localhost' if tls else '127.0.0.1'}:{port}"
        make = lambda: StreamPeer("127.0.0.1", tls=tls, port=port)
        if tls:
            env = {"SSL_CERT_FILE": tls_certs["ca"]}
    marker = tmp_path / "started"
    late = {}

    def come_up():
        time.sleep(1.0)
        late["at"] = time.time()
        late["peer"] = make()

    t = threading.Thread(target=come_up, daemon=True)
    t.start()
    try:
        res = dock(["--io", url, "sh", "-c", f"touch {marker}; echo late hello"], env=env, timeout=15)
        t.join(5)
        assert res.returncode == 0, res
        assert res.err_lines == [], res
        assert late["peer"].wait_eof(5) == b"late hello\r\n"
        assert 0.95 <= res.elapsed < 3.0, res
        assert marker.stat().st_mtime >= late["at"] - 0.01, "the command started before its peer was up"
    finally:
        t.join(5)
        if "peer" in late:
            late["peer"].close()


def test_unix_socket_missing(tmp_path, short_tmp):
    path = short_tmp / "nobody-here.sock"
    marker = tmp_path / "started"
    res = dock(["--io-connect-timeout", "500ms", "--io", f"unix://{path}"] + sh_marker(marker), timeout=10)
    assert res.returncode == 1, res
    assert one_dock_line(res).startswith(f"dock: --io unix://{path}: ")
    assert not marker.exists()


def test_unix_socket_nobody_listening(tmp_path, short_tmp):
    path = short_tmp / "stale.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()  # the file stays, nobody listens: ECONNREFUSED
    marker = tmp_path / "started"
    res = dock(["--io-connect-timeout", "500ms", "--io", f"unix://{path}"] + sh_marker(marker), timeout=10)
    assert res.returncode == 1, res
    assert one_dock_line(res).startswith(f"dock: --io unix://{path}: ")
    assert not marker.exists()


def test_unixgram_socket_missing(tmp_path, short_tmp):
    """A datagram peer is not waited for: no connection has to be up for it."""
    path = short_tmp / "nobody-here.sock"
    marker = tmp_path / "started"
    res = dock(["--io", f"unixgram://{path}"] + sh_marker(marker), timeout=10)
    assert res.returncode == 1, res
    assert res.elapsed < 1.0, res
    assert one_dock_line(res).startswith(f"dock: --io unixgram://{path}: ")
    assert not marker.exists()


def test_connect_that_hangs_times_out_after_5s(tmp_path):
    """A listener with a full accept queue drops SYNs: connect() hangs."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    port = lsock.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            fillers.append(c)
        time.sleep(0.1)  # the fillers' handshakes; if too short the probe connects and the test skips
        probe = socket.socket()
        probe.settimeout(0.5)
        try:
            probe.connect(("127.0.0.1", port))
            pytest.skip("this kernel accepts past a full backlog; cannot make connect() hang")
        except socket.timeout:
            pass
        finally:
            probe.close()
        url = f"tcp://127.0.0.1:{port}"
        marker = tmp_path / "started"
        res = dock(["--io", url] + sh_marker(marker), timeout=15)
        assert res.returncode == 1, res
        assert 4.5 <= res.elapsed <= 7.5, res
        assert one_dock_line(res).startswith(f"dock: --io {url}: ")
        assert not marker.exists()
    finally:
        for c in fillers:
            c.close()
        lsock.close()


def test_tls_handshake_that_stalls_times_out(peers, tmp_path):
    peer, url, env = peers("tls", stall=True)
    marker = tmp_path / "started"
    res = dock(["--io", url] + sh_marker(marker), env=env, timeout=15)
    assert peer.accepted.is_set(), "dock never connected"
    assert res.returncode == 1, res
    assert 4.5 <= res.elapsed <= 7.5, res
    assert one_dock_line(res).startswith(f"dock: --io {url}: ")
    assert not marker.exists()


# --------------------------------------------------------------------------
# TLS verification


@pytest.mark.parametrize("cert,host,reason", [
    ("untrusted", "localhost", "certificate not trusted"),
    ("untrusted", "127.0.0.1", "certificate not trusted"),
    ("wronghost", "localhost", "host name mismatch"),
    ("wronghost", "127.0.0.1", "host name mismatch"),
    ("expired", "localhost", "expired"),
    ("expired", "127.0.0.1", "expired"),
])
def test_tls_certificate_rejected(peers, tls_certs, tmp_path, cert, host, reason):
    peer, _, env = peers("tls", cert=cert)
    url = f"tls://{host}:{peer.port}"
    marker = tmp_path / "started"
    res = dock(["--io", url] + sh_marker(marker), env=env, timeout=10)
    assert res.returncode == 1, res
    assert res.elapsed < 3.0, res
    line = one_dock_line(res)
    assert line.startswith(f"dock: --io {url}: "), line
    assert reason in line, line
    assert not marker.exists(), "the command ran over an unverified connection"


def test_tls_ip_literal_checks_ip_san(peers, tls_certs, tmp_path):
    """The good certificate names 127.0.0.1 and ::1, not 127.0.0.2."""
    peer, _, env = peers("tls", host="127.0.0.2")
    url = f"tls://127.0.0.2:{peer.port}"
    marker = tmp_path / "started"
    res = dock(["--io", url] + sh_marker(marker), env=env, timeout=10)
    assert res.returncode == 1, res
    assert "host name mismatch" in one_dock_line(res)
    assert not marker.exists()


def test_tls_system_store_does_not_trust_the_test_ca(peers, tmp_path):
    """Without SSL_CERT_FILE/SSL_CERT_DIR the system store is used, and it
    does not know the throw-away CA."""
    peer, url, _ = peers("tls")
    marker = tmp_path / "started"
    res = dock(["--io", url] + sh_marker(marker), timeout=10)
    assert res.returncode == 1, res
    assert "certificate not trusted" in one_dock_line(res)
    assert not marker.exists()


def test_tls_ssl_cert_file_of_another_ca_does_not_trust(peers, tls_certs, tmp_path):
    peer, url, _ = peers("tls")
    res = dock(["--io", url] + sh_marker(tmp_path / "m"), env={"SSL_CERT_FILE": tls_certs["other_ca"]},
               timeout=10)
    assert res.returncode == 1, res
    assert "certificate not trusted" in one_dock_line(res)


def test_tls_ssl_cert_dir(run, peers, tls_certs, tmp_path):
    """SSL_CERT_DIR as in OpenSSL: a directory of hashed CA certificates."""
    cadir = tmp_path / "cadir"
    cadir.mkdir()
    shutil.copy(tls_certs["ca"], cadir / "ca.pem")
    subprocess.run(["openssl", "rehash", str(cadir)], check=True, capture_output=True)
    peer, url, _ = peers("tls")
    d = run("plain", ["--io", url, "echo", "trusted by dir"], env={"SSL_CERT_DIR": str(cadir)})
    assert d.wait(10) == 0, d.err.lines
    assert peer.wait_eof(5) == b"trusted by dir\r\n"


def test_tls_sends_sni(run, tls_certs):
    names = []
    peer = StreamPeer("127.0.0.1", tls=server_ctx(tls_certs, "good", sni_log=names))
    try:
        d = run("plain", ["--io", f"tls://localhost:{peer.port}", "true"],
                env={"SSL_CERT_FILE": tls_certs["ca"]})
        assert d.wait(10) == 0, d.err.lines
        peer.wait_eof(5)
        assert names == ["localhost"]
    finally:
        peer.close()


@pytest.mark.parametrize("cert", ["untrusted", "wronghost", "expired"])
def test_tls_insecure_accepts_with_one_warning(run, peers, cert):
    peer, url, env = peers("tls", cert=cert)
    d = run("plain", ["--tls-insecure", "--io", url, "sh", "-c", "echo hi; exit 4"], env=env)
    assert d.wait(10) == 4, d.err.lines
    assert peer.wait_eof(5) == b"hi\r\n"
    err = d.err.finish()
    assert len(err) == 1 and err[0].startswith("dock: "), f"want one warning line, got {err!r}"


# --------------------------------------------------------------------------
# datagram peers


@pytest.mark.parametrize("kind", ["udp", "udp4", "udp6", "unixgram"])
def test_datagrams_one_per_line(dgram_peers, kind):
    peer, url = dgram_peers(kind)
    res = dock(["--io", url, "sh", "-c",
                "printf 'one\\ntwo words\\n'; printf 'err line\\n' >&2; sleep 0.1; printf 'partial'"])
    assert res.returncode == 0, res
    assert res.stdout == b"" and res.stderr == b"", res
    got = peer.datagrams()
    assert sorted(got) == sorted([b"one", b"two words", b"err line", b"partial"]), got
    assert [g for g in got if g in (b"one", b"two words")] == [b"one", b"two words"]
    assert got[-1] == b"partial"


@pytest.mark.parametrize("kind", ["udp", "unixgram"])
def test_datagram_long_line_is_split(dgram_peers, kind):
    peer, url = dgram_peers(kind)
    res = dock(["--io", url, "sh", "-c", "head -c 150000 /dev/zero | tr '\\0' x; echo; echo tail"])
    assert res.returncode == 0, res
    got = peer.datagrams()
    assert got and got[-1] == b"tail", [len(g) for g in got]
    pieces = got[:-1]
    assert all(len(p) <= MAX_DGRAM for p in pieces), [len(p) for p in pieces]
    assert b"".join(pieces) == b"x" * 150000, [len(p) for p in pieces]
    assert len(pieces) == 3, [len(p) for p in pieces]


@pytest.mark.parametrize("kind", ["udp", "unixgram"])
@pytest.mark.parametrize("length,pieces", [(65507, [65507]), (65508, [65507, 1]), (65300, [65300])])
def test_datagram_split_only_past_the_limit(dgram_peers, kind, length, pieces):
    """A line of at most 65507 bytes is one datagram; only a longer one is split."""
    peer, url = dgram_peers(kind)
    res = dock(["--io", url, "sh", "-c", f"head -c {length} /dev/zero | tr '\\0' y; echo; echo end"])
    assert res.returncode == 0, res
    got = peer.datagrams()
    assert [len(g) for g in got] == pieces + [3], [len(g) for g in got]


@pytest.mark.parametrize("kind", ["udp", "unixgram"])
def test_datagram_line_written_in_parts_is_one_datagram(dgram_peers, kind):
    peer, url = dgram_peers(kind)
    res = dock(["--io", url, "sh", "-c", "printf abc; sleep 0.3; printf 'def\\n'; printf gh; sleep 0.3; printf i"])
    assert res.returncode == 0, res
    assert peer.datagrams() == [b"abcdef", b"ghi"]


@pytest.mark.parametrize("kind", ["udp", "unixgram"])
def test_datagrams_with_prefix(dgram_peers, kind):
    peer, url = dgram_peers(kind)
    res = dock(["--stdout-prefix", "app :cyan", "--io", url, "sh", "-c", "echo a; echo b >&2; printf c"])
    assert res.returncode == 0, res
    p = pfx("app ", "cyan")
    assert sorted(peer.datagrams()) == sorted([p + b"a", p + b"b", p + b"c"])


@pytest.mark.parametrize("kind", ["udp", "unixgram"])
def test_datagram_stdin_stays_docks(dgram_peers, kind):
    peer, url = dgram_peers(kind)
    res = dock(["--io", url, "cat"], input=b"from dock's stdin\nline 2\n")
    assert res.returncode == 0, res
    assert peer.datagrams() == [b"from dock's stdin", b"line 2"]


# --------------------------------------------------------------------------
# prefix: byte-exact


@pytest.mark.parametrize("colour", list(COLOURS))
def test_prefix_colours(colour):
    res = dock(["--stdout-prefix", f"web :{colour}", "sh", "-c", "echo a; echo b"])
    assert res.returncode == 0, res
    p = f"{ESC}[{COLOURS[colour]};1mweb {ESC}[0m".encode()
    assert res.stdout == p + b"a\n" + p + b"b\n"
    assert res.stderr == b""


def test_prefix_plain():
    res = dock(["--stdout-prefix", "[x] ", "sh", "-c", "echo a; echo b"])
    assert res.stdout == b"[x] a\n[x] b\n", res


@pytest.mark.parametrize("no_color,coloured", [("1", False), ("yes", False), ("", True)])
def test_prefix_no_color(no_color, coloured):
    res = dock(["--stdout-prefix", "web :red", "sh", "-c", "echo a; echo e >&2"], env={"NO_COLOR": no_color})
    p = pfx("web ", "red") if coloured else b"web "
    assert res.stdout == p + b"a\n", res
    assert res.stderr == p + b"e\n", res


@pytest.mark.parametrize("spec,prefix,colour", [
    ("a:b:red", "a:b", "red"),     # only the last :word is a colour
    ("x: ", "x: ", None),           # ':' then a space: part of the prefix
    ("x:1 ", "x:1 ", None),         # ':' then a digit: part of the prefix
    ("x:-", "x:-", None),           # ':' then punctuation
    ("t=: :green", "t=: ", "green"),
])
def test_prefix_colon_forms(spec, prefix, colour):
    res = dock(["--stdout-prefix", spec, "echo", "v"])
    assert res.returncode == 0, res
    assert res.stdout == pfx(prefix, colour) + b"v\n"


def test_prefix_via_environment_variable():
    res = dock(["sh", "-c", "echo a; echo dock_vars=$(env | grep -c ^DOCK_)"],
               env={"DOCK_STDOUT_PREFIX": "e :blue"})
    p = pfx("e ", "blue")
    assert res.stdout == p + b"a\n" + p + b"dock_vars=0\n", res


def test_prefix_starts_every_line_including_empty_ones():
    res = dock(["--stdout-prefix", "P ", "printf", "first\\n\\nthird\\n"])
    assert res.stdout == b"P first\nP \nP third\n", res


def test_prefix_never_dangles_and_no_output_gives_nothing():
    res = dock(["--stdout-prefix", "P ", "true"])
    assert res.stdout == b"" and res.stderr == b"", res
    res = dock(["--stdout-prefix", "P ", "printf", "no newline"])
    assert res.stdout == b"P no newline", res


def test_prefix_partial_line_is_passed_on_at_once():
    """'par' must arrive (prefixed once) while the command still sleeps; its
    rest 'tial' gets no second prefix."""
    mark = uuid.uuid4().hex
    p = subprocess.Popen([str(DOCK), "--stdout-prefix", "P ", "sh", "-c",
                          "printf par; sleep 1.5; printf 'tial\\nnext'; sleep 0.5; printf ' line\\n'"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         env={"PATH": PATH, MARK: mark})
    try:
        fd = p.stdout.fileno()
        r, _, _ = select.select([fd], [], [], 5)
        assert r, "nothing within 5 s"
        first = time.monotonic()
        early = os.read(fd, 4096)
        # 'tial' comes 1.5 s after 'par': whatever arrives in the next 0.5 s is
        # still the partial line
        while time.monotonic() - first < 0.5:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                early += chunk
        assert early == b"P par", f"the partial line came as {early!r}"
        rest = p.stdout.read()
        assert p.wait(10) == 0
        assert early + rest == b"P partial\nP next line\n"
    finally:
        p.kill()
        p.wait()
        kill_marked(mark)


def test_prefix_stdout_and_stderr_separately():
    res = dock(["--stdout-prefix", "P :yellow", "sh", "-c",
                "printf o1; printf 'e1\\n' >&2; sleep 0.2; printf 'o2\\n'; printf e2 >&2; sleep 0.2; "
                "printf 'e3\\n' >&2; echo o3"])
    p = pfx("P ", "yellow")
    assert res.stdout == p + b"o1o2\n" + p + b"o3\n", res
    assert res.stderr == p + b"e1\n" + p + b"e2e3\n", res


def test_no_prefix_inherits_docks_fds(tmp_path):
    """Without --io and prefix the command writes to dock's own stdout (no
    pipe in between); with a prefix, a pipe goes in between."""
    out = tmp_path / "out"
    with open(out, "wb") as f:
        res = dock(["sh", "-c", "readlink /proc/self/fd/1"], stdout=f)
    assert res.returncode == 0, res
    assert out.read_text() == f"{out}\n"
    out2 = tmp_path / "out2"
    with open(out2, "wb") as f:
        res = dock(["--stdout-prefix", "P ", "sh", "-c", "readlink /proc/self/fd/1"], stdout=f)
    assert re.fullmatch(r"P pipe:\[\d+\]\n", out2.read_text()), out2.read_text()


def test_prefix_to_inherited_file(tmp_path):
    out = tmp_path / "out"
    with open(out, "wb") as f:
        res = dock(["--stdout-prefix", "f :magenta", "sh", "-c", "echo one; printf two"], stdout=f)
    assert res.returncode == 0, res
    p = pfx("f ", "magenta")
    assert out.read_bytes() == p + b"one\n" + p + b"two"


@pytest.mark.parametrize("kind", ["tcp", "unix", "tls"])
def test_prefix_to_a_stream_peer(run, peers, kind):
    peer, url, env = peers(kind)
    d = run("plain", ["--stdout-prefix", "w :green", "--io", url, "sh", "-c",
                      "echo a; echo b >&2; printf c; sleep 0.2; echo d"], env=env)
    assert d.wait(10) == 0
    p = pfx("w ", "green")
    assert peer.wait_eof(5) == p + b"a\r\n" + p + b"b\r\n" + p + b"cd\r\n"


# --------------------------------------------------------------------------
# files


@pytest.mark.parametrize("form", ["bare", "file://"])
@pytest.mark.parametrize("prefix", [None, "P "])
def test_file_created_0666_less_umask_with_both_streams_in_order(tmp_path, form, prefix):
    path = tmp_path / "out.log"
    url = str(path) if form == "bare" else f"file://{path}"
    args = (["--stdout-prefix", prefix] if prefix else []) + ["--io", url]
    res = dock(args + ["sh", "-c", "echo out1; echo err1 >&2; echo out2; printf err2 >&2; exit 3"])
    assert res.returncode == 3, res
    assert res.stdout == b"" and res.stderr == b"", res
    p = (prefix or "").encode()
    assert path.read_bytes() == p + b"out1\n" + p + b"err1\n" + p + b"out2\n" + p + b"err2"
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~_umask()


def _umask():
    u = os.umask(0)
    os.umask(u)
    return u


@pytest.mark.parametrize("umask", [0o022, 0o077])
@pytest.mark.parametrize("prefix", [None, "P "])
def test_file_mode_follows_the_umask(tmp_path, umask, prefix):
    """As `cmd >FILE` in a shell with that umask: 0644 or 0600."""
    path = tmp_path / "out.log"
    args = (["--stdout-prefix", prefix] if prefix else []) + ["--io", str(path)]
    res = dock(args + ["echo", "hi"], preexec_fn=lambda: os.umask(umask))
    assert res.returncode == 0, res
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize("prefix", [None, "P "])
def test_file_is_appended(tmp_path, prefix):
    path = tmp_path / "out.log"
    path.write_bytes(b"old line\n")
    path.chmod(0o640)
    args = (["--stdout-prefix", prefix] if prefix else []) + ["--io", str(path)]
    for word in ("first", "second"):
        res = dock(args + ["echo", word])
        assert res.returncode == 0, res
    p = (prefix or "").encode()
    assert path.read_bytes() == b"old line\n" + p + b"first\n" + p + b"second\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640, "an existing file's mode is not dock's to change"


def test_file_stdin_stays_docks(tmp_path):
    path = tmp_path / "out.log"
    res = dock(["--io", str(path), "cat"], input=b"typed\n")
    assert res.returncode == 0, res
    assert path.read_bytes() == b"typed\n"


def test_file_via_dock_io_variable(tmp_path):
    path = tmp_path / "out.log"
    res = dock([helper("inspect")], env={"DOCK_IO": str(path)})
    assert res.returncode == 0, res
    text = path.read_text()
    assert "\nend\n" in text
    assert "env DOCK_IO" not in text


@pytest.mark.parametrize("how", ["missing-dir", "missing-dir-url", "is-a-directory"])
def test_file_cannot_be_opened(tmp_path, how):
    if how == "missing-dir":
        target = tmp_path / "no" / "such" / "dir" / "out.log"
        url = str(target)
    elif how == "missing-dir-url":
        target = tmp_path / "nodir" / "out.log"
        url = f"file://{target}"
    else:
        target = tmp_path
        url = str(target)
    marker = tmp_path / "started"
    res = dock(["--io", url] + sh_marker(marker))
    assert res.returncode == 1, res
    line = one_dock_line(res)
    assert str(target) in line, line
    assert not marker.exists()


def _become_nobody():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


def test_file_permission_denied(tmp_path):
    """As an unprivileged user (nobody), into a directory only root may write."""
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o755)
    target = locked / "out.log"
    marker = Path(tempfile.mkdtemp(prefix="dkio", dir="/tmp"))
    os.chmod(marker, 0o777)
    try:
        probe = subprocess.run([str(DOCK), "--version"], capture_output=True, preexec_fn=_become_nobody)
        if probe.returncode != 0:
            pytest.skip(f"dock cannot run as nobody here: {probe.stderr!r}")
        res = dock(["--io", str(target)] + sh_marker(marker / "started"),
                   preexec_fn=_become_nobody)
        assert res.returncode == 1, res
        line = one_dock_line(res)
        assert str(target) in line, line
        assert not (marker / "started").exists()
    finally:
        shutil.rmtree(marker, ignore_errors=True)


@pytest.mark.parametrize("prefix", [None, "P "])
def test_fast_writer_50mb_through_a_file_arrives_whole(tmp_path, io_helpers, prefix):
    lines = 524288  # 100-byte lines: 50 MiB
    path = tmp_path / "big.log"
    args = (["--stdout-prefix", prefix] if prefix else []) + ["--io", str(path)]
    res = dock(args + [io_helpers["flood"], str(lines)], timeout=30)
    assert res.returncode == 0, res
    want = flood_bytes(lines, prefix=(prefix or "").encode())
    got = path.read_bytes()
    assert len(got) == len(want), f"{len(got)} bytes instead of {len(want)}"
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(want).hexdigest()


def test_fast_writer_50mb_with_prefix_to_an_inherited_file(tmp_path, io_helpers):
    """No --io, dock's own stdout is a regular file (which epoll cannot watch)."""
    lines = 524288
    path = tmp_path / "big.out"
    with open(path, "wb") as f:
        res = dock(["--stdout-prefix", "P ", io_helpers["flood"], str(lines)], stdout=f, timeout=30)
    assert res.returncode == 0, res
    want = flood_bytes(lines, prefix=b"P ")
    got = path.read_bytes()
    assert len(got) == len(want), f"{len(got)} bytes instead of {len(want)}"
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(want).hexdigest()


def test_prefix_to_dev_null_does_not_stall(io_helpers):
    with open(os.devnull, "wb") as f:
        res = dock(["--stdout-prefix", "P ", io_helpers["flood"], "100000"], stdout=f, timeout=slack(20))
    assert res.returncode == 0, res
    # About 40 ms on an idle machine; a stall is a hang. Under load the 300-odd
    # pipe round trips between flood and dock each wait to be scheduled, hence slack.
    assert res.elapsed < slack(10), res


# --------------------------------------------------------------------------
# a slow reader: bounded memory, nothing lost, signals still forwarded


def _rss(pid):
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.NoSuchProcess:
        return 0


def test_slow_pipe_reader(io_helpers, tmp_path):
    """dock's stdout is a pipe nobody reads for 2 s while the command writes
    10 MB through the prefixer: dock must stop reading (the command blocks),
    not buffer; SIGUSR1 still reaches the command meanwhile."""
    lines = 100_000
    rec = tmp_path / "rec"
    mark = uuid.uuid4().hex
    p = subprocess.Popen([str(DOCK), "--stdout-prefix", "P ", io_helpers["flood"], str(lines), str(rec), "400"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         env={"PATH": PATH, MARK: mark})
    try:
        wait_for(lambda: psutil.Process(p.pid).children(), what="dock starting flood")  # it waits 400 ms to write
        base = _rss(p.pid)  # before the command writes anything
        samples = []
        t0 = time.monotonic()
        sent = False
        while time.monotonic() - t0 < 2.0:
            samples.append(_rss(p.pid))
            if not sent and time.monotonic() - t0 > 1.0:
                os.kill(p.pid, signal.SIGUSR1)
                sent = True
            time.sleep(0.05)  # sampling step of the window watched
        assert p.poll() is None, "dock exited although its output was never read"
        assert rec.exists() and rec.read_text() == "USR1\n", \
            "SIGUSR1 did not reach the command while its output was blocked"
        growth = max(samples) - base
        assert growth < 2 << 20, f"dock's RSS grew by {growth / 1e6:.1f} MB while its reader stalled"
        out_holder = {}
        reader = threading.Thread(target=lambda: out_holder.setdefault("out", p.stdout.read()), daemon=True)
        reader.start()
        reader.join(30)
        assert not reader.is_alive(), "output did not finish within 30 s once read"
        assert p.wait(10) == 0
        want = flood_bytes(lines, prefix=b"P ")
        got = out_holder["out"]
        assert len(got) == len(want), f"{len(got)} bytes instead of {len(want)}"
        assert got == want
    finally:
        p.kill()
        p.wait()
        kill_marked(mark)


def test_slow_tcp_peer(io_helpers, peers, tmp_path):
    """The same over a tcp peer that does not read for 2 s (20 MB, more than
    loopback socket buffers hold)."""
    lines = 200_000
    rec = tmp_path / "rec"
    peer, url, env = peers("tcp", paused=True)
    mark = uuid.uuid4().hex
    p = subprocess.Popen([str(DOCK), "--stdout-prefix", "P ", "--io", url, io_helpers["flood"], str(lines),
                          str(rec), "400"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         env={"PATH": PATH, MARK: mark})
    try:
        peer.wait_accepted()
        wait_for(lambda: psutil.Process(p.pid).children(), what="dock starting flood")  # it waits 400 ms to write
        base = _rss(p.pid)
        samples = []
        t0 = time.monotonic()
        sent = False
        while time.monotonic() - t0 < 2.0:
            samples.append(_rss(p.pid))
            if not sent and time.monotonic() - t0 > 1.0:
                os.kill(p.pid, signal.SIGUSR1)
                sent = True
            time.sleep(0.05)  # sampling step of the window watched
        assert p.poll() is None, "dock exited although its peer never read"
        assert rec.exists() and rec.read_text() == "USR1\n", \
            "SIGUSR1 did not reach the command while its output was blocked"
        growth = max(samples) - base
        assert growth < 2 << 20, f"dock's RSS grew by {growth / 1e6:.1f} MB while its peer stalled"
        peer.resume()
        assert p.wait(30) == 0
        got = peer.wait_eof(10)
        want = flood_bytes(lines, prefix=b"P ", eol=b"\r\n")
        assert len(got) == len(want), f"{len(got)} bytes instead of {len(want)}"
        assert got == want
    finally:
        p.kill()
        p.wait()
        kill_marked(mark)


# --------------------------------------------------------------------------
# no descriptor leaks into the command


FD_KINDS = ["inherit", "inherit-prefix", "file", "file-prefix", "tcp", "unix", "tls", "udp", "unixgram"]


@pytest.mark.parametrize("kind", FD_KINDS)
def test_command_sees_only_fds_0_1_2(run, peers, dgram_peers, tmp_path, kind):
    prefix = ["--stdout-prefix", "P "] if kind.endswith("-prefix") else []
    inspect = helper("inspect")
    if kind.startswith("inherit"):
        res = dock(prefix + [inspect])
        text = res.stdout.decode()
    elif kind.startswith("file"):
        path = tmp_path / "out.log"
        res = dock(prefix + ["--io", str(path), inspect])
        text = path.read_text()
    elif kind in ("udp", "unixgram"):
        peer, url = dgram_peers(kind)
        res = dock(["--io", url, inspect])
        text = "\n".join(g.decode() for g in peer.datagrams()) + "\n"
    else:
        peer, url, env = peers(kind)
        res = dock(["--io", url, inspect], env=env)
        text = peer.wait_eof(5).decode().replace("\r\n", "\n")
    assert res.returncode == 0, res
    if prefix:
        text = "\n".join(l[2:] if l.startswith("P ") else l for l in text.splitlines()) + "\n"
    m = re.search(r"^fds( .*)?$", text, re.M)
    assert m, text
    assert m.group(0) == "fds 0 1 2", f"the command inherited extra descriptors: {m.group(0)!r}"


# --------------------------------------------------------------------------
# usage errors and secrets


@pytest.mark.parametrize("args", [
    ["--io", "foo://x"],
    ["--io", "http://127.0.0.1:80"],
    ["--io", "tcp://127.0.0.1"],
    ["--io", "tcp://127.0.0.1:"],
    ["--io", "tcp://127.0.0.1:0"],
    ["--io", "tcp://127.0.0.1:65536"],
    ["--io", "tcp://127.0.0.1:http"],
    ["--io", "tls://localhost"],
    ["--io", "udp://127.0.0.1"],
    ["--io", "tcp://::1:80"],
    ["--io", "tcp4://[::1]:80"],
    ["--io", "udp4://[::1]:80"],
    ["--io", "tcp6://127.0.0.1:80"],
    ["--stdout-prefix", "x:bogus"],
    ["--stdout-prefix", "web:gren"],
    ["--stdout-prefix", "x:black"],
    ["--log-rotate", "1h"],
    ["--log-rotate", "1h", "--io", "tcp://127.0.0.1:9"],
    ["--log-rotate", "1h", "--io", "udp://127.0.0.1:9"],
    ["--io-connect-timeout", "0"],
    ["--io-connect-timeout", "soon"],
    ["--io-connect-timeout", "-1s"],
    ["--io-connect-timeout", "2d"],
    ["--io-connect-timeout"],
])
def test_usage_errors(tmp_path, args):
    marker = tmp_path / "started"
    res = dock(args + sh_marker(marker))
    assert res.returncode == 2, res
    line = one_dock_line(res)
    assert args[0] in line, line
    assert not marker.exists()


SECRET_URLS = ["tcp://user:s3cretpw@127.0.0.1:1", "tls://user:s3cretpw@localhost:1",
               "udp://user:s3cretpw@127.0.0.1:9", "tcp://user:s3cretpw@[::1]:1",
               "tcp://s3cretpw@127.0.0.1:1", "tcp://127.0.0.1:1?token=s3cretpw",
               "tls://localhost:1/?key=s3cretpw"]


@pytest.mark.parametrize("url", SECRET_URLS)
@pytest.mark.parametrize("how", ["flag", "flag-debug", "env"])
def test_io_secret_never_printed(tmp_path, url, how):
    marker = tmp_path / "started"
    if how == "env":
        res = dock(sh_marker(marker), env={"DOCK_IO": url})
    else:
        res = dock((["-d"] if how == "flag-debug" else []) + ["--io", url] + sh_marker(marker))
    assert res.returncode == 2, res   # credentials or a query in an --io URL: a usage error
    assert b"s3cretpw" not in res.stderr + res.stdout, res
    if how != "flag-debug":
        one_dock_line(res)
    assert not marker.exists()


# --------------------------------------------------------------------------
# in every mode (pidns: dock is PID 1; runc: PID 1 of a container)


def _container_path(mode, tmp_path, rootfs_dir, name):
    """(path dock is given, host path to read) for a file in `mode`."""
    if mode == "runc":
        inside = f"/tmp/{name}-{uuid.uuid4().hex[:8]}"
        return inside, rootfs_dir / inside.lstrip("/")
    p = tmp_path / name
    return str(p), p


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("prefix", [None, "P :red"])
def test_io_file_in_mode(run, request, tmp_path, mode, prefix):
    rootfs_dir = request.getfixturevalue("rootfs") if mode == "runc" else None
    given, host = _container_path(mode, tmp_path, rootfs_dir, "io.log")
    try:
        args = (["--stdout-prefix", prefix] if prefix else []) + ["--io", given]
        d = run(mode, args + ["sh", "-c", "echo out; echo err >&2; exit 3"])
        rc, out, err = d.finish()
        assert rc == 3, (out, err)
        assert out == [], out
        p = pfx("P ", "red") if prefix else b""
        assert host.read_bytes() == p + b"out\n" + p + b"err\n"
        # runc's default umask is 022
        assert stat.S_IMODE(host.stat().st_mode) == 0o666 & ~(0o022 if mode == "runc" else _umask())
    finally:
        if mode == "runc":
            host.unlink(missing_ok=True)


@pytest.mark.parametrize("mode", MODES)
def test_prefix_in_mode(run, mode):
    d = run(mode, ["--stdout-prefix", "P :green", "sh", "-c", "echo out; echo err >&2; printf tail"])
    rc, out, err = d.finish()
    assert rc == 0, (out, err)
    p = pfx("P ", "green").decode()
    assert out == [p + "out", p + "tail"], out
    assert err == [p + "err"], err


@pytest.mark.parametrize("mode", MODES)
def test_inspect_fds_in_mode_with_prefix(run, mode):
    d = run(mode, ["--stdout-prefix", "P ", "@inspect"])
    rc, out, err = d.finish()
    assert rc == 0, (out, err)
    fds = [l for l in out if l.startswith("P fds")]
    assert fds == ["P fds 0 1 2"], out
