"""--web-hook and --status-file, against real HTTP(S) servers on 127.0.0.1.

The hook servers here are raw sockets in threads: each records every request
and answers as a test's policy says (200, 500 then 200, 404, never, ...),
so the tests see exactly what dock sent and when."""

import base64
import calendar
import json
import os
import re
import signal
import socket
import ssl
import stat
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest

from conftest import DOCK, PATH, dock_plain, helper
from conftest import wait_asleep, wait_for

TIMEOUT = "2s"          # --web-hook-timeout of most tests


# --------------------------------------------------------------------------
# a hook server


class Request:
    def __init__(self, method, target, headers, body, at):
        self.method = method
        self.target = target
        self.header_list = headers
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        self.at = at

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def status(self):
        return self.json["ps"]["status"]


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
HANG = None


def answer(code, reason="X"):
    return f"HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\n\r\n".encode()


class HookServer:
    """Listens on 127.0.0.1; policy(n, request) returns the bytes to answer the
    n-th request (0-based) with, or HANG to keep the connection open silently."""

    def __init__(self, policy=lambda n, req: OK, tls=None, bind="127.0.0.1", port=0):
        self.policy = policy
        self.tls = tls
        self.requests = []
        self.accepted = 0
        self.tls_failures = []
        self._cond = threading.Condition()
        self._held = []
        self._closed = False
        self.sock = socket.socket(socket.AF_INET6 if ":" in bind else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((bind, port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path="/hook", host="127.0.0.1", scheme=None, userinfo=""):
        scheme = scheme or ("https" if self.tls else "http")
        return f"{scheme}://{userinfo}{host}:{self.port}{path}"

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._cond:
                self.accepted += 1
                self._cond.notify_all()
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(20)
        try:
            if self.tls:
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    with self._cond:
                        self.tls_failures.append(str(e))
                        self._cond.notify_all()
                    conn.close()
                    return
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    conn.close()
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:]]
            length = int(dict((k.lower(), v) for k, v in headers).get("content-length", "0"))
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
            req = Request(method, target, headers, body, time.monotonic())
            with self._cond:
                n = len(self.requests)
                self.requests.append(req)
                self._cond.notify_all()
            reply = self.policy(n, req)
            if reply is HANG:
                self._held.append(conn)
                return
            conn.sendall(reply)
            if self.tls:
                try:
                    conn.unwrap()
                except (ssl.SSLError, OSError):
                    pass
            conn.close()
        except (OSError, ValueError):
            try:
                conn.close()
            except OSError:
                pass

    def wait_requests(self, n, timeout=10.0, err=None):
        """Waits for n requests; err (dock's stderr lines) goes into the
        failure message."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.requests)} hook request(s) within {timeout}s, "
                                         f"expected {n}: {[r.body for r in self.requests]}; "
                                         f"dock's stderr: {err!r}")
                self._cond.wait(left)
            return list(self.requests)

    def wait_accepted(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.accepted < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.accepted} connection(s) within {timeout}s, expected {n}")
                self._cond.wait(left)

    def statuses(self):
        return [r.status for r in self.requests]

    def close(self):
        self._closed = True
        self.sock.close()
        for c in self._held:
            try:
                c.close()
            except OSError:
                pass


@pytest.fixture
def server():
    made = []

    def make(policy=lambda n, req: OK, tls=None, bind="127.0.0.1", port=0):
        s = HookServer(policy, tls, bind, port)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def free_port():
    """A port with nothing listening on it (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def hook_lines(err):
    return [line for line in err if "web hook" in line]


RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
FIELDS = ["status", "pid", "exit_code", "signal", "time"]   # the hook's "ps" and the status file
FINAL = ("stopped", "crashed")


def check_time(doc):
    """time: when the status began, RFC 3339 UTC with milliseconds, about now."""
    assert RFC3339_MS.match(doc["time"]), doc
    t = calendar.timegm(time.strptime(doc["time"][:19], "%Y-%m-%dT%H:%M:%S")) + int(doc["time"][20:23]) / 1000
    assert abs(t - time.time()) < 30, doc


def check_fields(doc, status, pid=None):
    """The fields the hook's "ps" object and the status file share, in order.
    pid: the one expected ("null": none, as before the command exists)."""
    assert list(doc)[:5] == FIELDS, doc
    assert doc["status"] == status
    if pid == "null":
        assert doc["pid"] is None, doc
    elif status == "starting":
        assert doc["pid"] is None or isinstance(doc["pid"], int)
    else:
        assert isinstance(doc["pid"], int) and doc["pid"] > 0, doc
    if isinstance(pid, int):
        assert doc["pid"] == pid, doc
    if status in FINAL:
        assert isinstance(doc["exit_code"], int), doc
        assert doc["signal"] is None or isinstance(doc["signal"], str), doc
    else:
        assert doc["exit_code"] is None and doc["signal"] is None, doc
    check_time(doc)


def check_body(req, status, pid=None):
    assert req.method == "PUT"
    assert req.headers["content-type"] == "application/json"
    assert int(req.headers["content-length"]) == len(req.body)
    assert req.headers["connection"].lower() == "close"
    assert re.fullmatch(r"dock/\S+", req.headers["user-agent"])
    doc = req.json
    assert list(doc) == ["ps"]
    ps = doc["ps"]
    assert list(ps) == FIELDS + ["net_interfaces"], ps
    check_fields(ps, status, pid)
    ifs = ps["net_interfaces"]
    assert isinstance(ifs, list) and 0 < len(ifs) <= 32
    for i in ifs:
        assert set(i) == {"name", "ipv4", "ipv6"}
        assert isinstance(i["name"], str) and i["name"]
        assert i["ipv4"] is None or socket.inet_pton(socket.AF_INET, i["ipv4"])
        assert i["ipv6"] is None or socket.inet_pton(socket.AF_INET6, i["ipv6"])
    names = [i["name"] for i in ifs]
    assert len(names) == len(set(names)), "one entry per interface"
    lo = [i for i in ifs if i["name"] == "lo"]
    assert lo and lo[0]["ipv4"] == "127.0.0.1"
    return ps


def assert_states(statuses, final):
    """Statuses are states, not events: each at most once, in order, and the
    final one last; an earlier one may have been superseded before its
    delivery (a command that exits at once has no time to be "running")."""
    assert statuses and statuses[-1] == final, statuses
    it = iter(["starting", "running", final])
    assert all(st in it for st in statuses), f"not in order, or twice: {statuses}"


def hold_port():
    """A listening socket of the test's own (outside dock's tree): with
    --bind-port (not strict) it opens the gate that holds "running" back.
    Returns (port, a function that starts listening)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    port = free_port()

    def listen():
        s.bind(("127.0.0.1", port))
        s.listen(1)
        return s
    return port, listen


# --------------------------------------------------------------------------
# delivery


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_three_statuses_in_order(run, server, mode):
    """starting while a readiness gate holds running back, running once the
    port is bound, stopped after docker-stop's SIGTERM: each delivered once."""
    srv = server()
    url = srv.url("/hooks/run?id=42&token=t0k")
    port, listen = hold_port()
    d = run(mode, ["--web-hook", url, "--web-hook-timeout", TIMEOUT, "--bind-port", str(port),
                   "@sigrec", "-x", "TERM:0"])
    m = d.out.expect(r"^main ready pid=(\d+)")
    srv.wait_requests(1, err=d.err.lines)
    sock = listen()
    try:
        srv.wait_requests(2, err=d.err.lines)
        d.kill("TERM")
        rc, out, err = d.finish()
    finally:
        sock.close()
    assert rc == 0, err
    reqs = srv.wait_requests(3, err=d.err.lines)
    time.sleep(0.2)  # window: dock exited; no further request may come
    assert len(srv.requests) == 3, srv.statuses()
    assert [r.status for r in reqs] == ["starting", "running", "stopped"]
    # pid: the command's as dock sees it (its own namespace's number as PID 1)
    pid = None if mode == "pidns" else int(m.group(1))
    for r, st in zip(reqs, ["starting", "running", "stopped"]):
        assert r.target == "/hooks/run?id=42&token=t0k"
        assert r.headers["host"] == f"127.0.0.1:{srv.port}"
        check_body(r, st, pid if st != "starting" else None)
    assert reqs[0].json["ps"]["pid"] is None or reqs[0].json["ps"]["pid"] == reqs[1].json["ps"]["pid"]
    assert reqs[1].json["ps"]["pid"] == reqs[2].json["ps"]["pid"]
    stopped = reqs[2].json["ps"]
    assert stopped["exit_code"] == 0 and stopped["signal"] is None
    assert hook_lines(err) == [], err


def test_crashed_by_signal_nobody_asked_for(run, server):
    srv = server()
    d = run("plain", ["--web-hook", srv.url("/"), "@exitwith", "sig:TERM"])
    rc, out, err = d.finish()
    assert rc == 128 + 15, err
    srv.wait_requests(1, err=d.err.lines)
    time.sleep(0.2)
    assert_states(srv.statuses(), "crashed")
    ps = check_body(srv.requests[-1], "crashed")
    assert ps["exit_code"] == 143 and ps["signal"] == "TERM"
    assert hook_lines(err) == [], err


def test_crashed_by_exit_code_has_null_signal(run, server):
    srv = server()
    d = run("plain", ["--web-hook", srv.url("/"), "@exitwith", "3"])
    rc, out, err = d.finish()
    assert rc == 3
    srv.wait_requests(1, err=d.err.lines)
    time.sleep(0.2)
    assert_states(srv.statuses(), "crashed")
    assert srv.requests[-1].target == "/"
    ps = check_body(srv.requests[-1], "crashed")
    assert ps["exit_code"] == 3 and ps["signal"] is None


def test_host_name_resolved_outside_the_loop(run, server):
    """A name (not an IP literal) goes through the resolver child; the
    delivery is the same."""
    srv = server()
    d = run("plain", ["--web-hook", srv.url("/n", host="localhost"), "@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready")
    srv.wait_requests(1, err=d.err.lines)
    d.kill("TERM")
    rc, out, err = d.finish()
    assert rc == 0, err
    reqs = srv.wait_requests(2, err=d.err.lines)
    assert [r.status for r in reqs] == ["running", "stopped"]
    assert reqs[0].headers["host"] == f"localhost:{srv.port}"
    assert hook_lines(err) == [], err


def _has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_literal(run, server):
    srv = server(bind="::1")
    d = run("plain", ["--web-hook", srv.url("/6", host="[::1]"), "@exitwith", "0"])
    rc, out, err = d.finish()
    assert rc == 0, err
    reqs = srv.wait_requests(1, err=d.err.lines)
    assert reqs[0].headers["host"] == f"[::1]:{srv.port}"
    assert reqs[0].target == "/6"


def test_default_port_left_out_of_host(run, server):
    """Host carries the port only when it is not the scheme's default."""
    try:
        srv = server(port=80)
    except OSError:
        pytest.skip("cannot listen on 127.0.0.1:80 here")
    d = run("plain", ["--web-hook", "http://127.0.0.1/p", "@exitwith", "0"])
    assert d.finish()[0] == 0
    assert srv.wait_requests(1, err=d.err.lines)[0].headers["host"] == "127.0.0.1"


def test_unknown_host_fails_with_one_line_per_status(run):
    d = run("plain", ["--web-hook", "http://no-such-host.invalid:8080/h?token=zz", "--web-hook-timeout",
                      "1s", "sh", "-c", "echo ran"])
    rc, out, err = d.finish()
    assert rc == 0
    assert out == ["ran"]
    lines = hook_lines(err)
    assert 1 <= len(lines) <= 2, err
    assert "resolve" in lines[0] and "no-such-host.invalid" in lines[0]
    assert "zz" not in "".join(err)


def test_server_down_command_runs_exit_bounded(run):
    port = free_port()
    d = run("plain", ["--web-hook", f"http://127.0.0.1:{port}/h", "--web-hook-timeout", "1s",
                      "sh", "-c", "echo ran; exit 5"])
    rc, out, err = d.finish()
    assert rc == 5
    assert out == ["ran"]
    # the final status gives up within its timeout; the exit waits 1 s at most
    assert d.elapsed < 1.0 + 1.5, f"dock took {d.elapsed:.2f}s"
    lines = hook_lines(err)
    assert 1 <= len(lines) <= 2, err
    for line in lines:
        assert line.startswith("dock: web hook: status '")
    assert "Connection refused" in lines[-1] and "'crashed'" in lines[-1], lines
    # one line per status, never one per attempt
    assert len({re.search(r"status '(\w+)'", line).group(1) for line in lines}) == len(lines)


def test_5xx_retried_then_delivered_once(run, server):
    srv = server(lambda n, req: answer(500, "Internal Server Error") if n == 0 else
                 answer(503) if n == 1 else OK)
    d = run("plain", ["--web-hook", srv.url(), "--web-hook-timeout", "5s", "@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready")
    srv.wait_requests(3, err=d.err.lines)
    d.kill("TERM")
    rc, out, err = d.finish()
    assert rc == 0
    srv.wait_requests(4, err=d.err.lines)
    time.sleep(0.2)  # window: dock exited; no further request may come
    assert srv.statuses() == ["running", "running", "running", "stopped"]
    # backoff: 100 ms, then 200 ms
    gaps = [srv.requests[i + 1].at - srv.requests[i].at for i in range(2)]
    assert 0.08 <= gaps[0] < 1.0 and 0.15 <= gaps[1] < 1.5, gaps
    assert hook_lines(err) == [], err


def test_4xx_not_retried(run, server):
    srv = server(lambda n, req: answer(404, "Not Found"))
    d = run("plain", ["--web-hook", srv.url("/x?token=sekrit"), "--web-hook-timeout", "5s",
                      "@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready")
    srv.wait_requests(1, err=d.err.lines)
    d.err.expect(r"'running'.*404", timeout=5)
    t = time.monotonic()
    d.kill("TERM")
    rc, out, err = d.finish()
    assert rc == 0
    assert time.monotonic() - t < 2.0, "a 4xx must not be waited on"
    time.sleep(0.3)  # window: dock exited; no further request may come
    assert srv.statuses() == ["running", "stopped"]
    lines = hook_lines(err)
    assert len(lines) == 2, err
    for line, st in zip(lines, ["running", "stopped"]):
        assert f"'{st}'" in line and "404 Not Found" in line and "not retried" in line
    assert "sekrit" not in "".join(err)


def test_interim_and_chunked_responses(run, server):
    reply = (b"HTTP/1.1 100 Continue\r\n\r\n"
             b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"5\r\nhello\r\n0\r\n\r\n")
    srv = server(lambda n, req: reply)
    d = run("plain", ["--web-hook", srv.url(), "@exitwith", "0"])
    rc, out, err = d.finish()
    assert rc == 0
    srv.wait_requests(1, err=d.err.lines)
    time.sleep(0.2)  # window: dock exited; no further request may come
    assert_states(srv.statuses(), "stopped")
    assert hook_lines(err) == [], err


def test_close_delimited_response(run, server):
    srv = server(lambda n, req: b"HTTP/1.0 200 OK\r\n\r\nbody until close")
    d = run("plain", ["--web-hook", srv.url(), "@exitwith", "0"])
    rc, out, err = d.finish()
    assert rc == 0
    srv.wait_requests(1, err=d.err.lines)
    time.sleep(0.2)  # window: dock exited; no further request may come
    assert_states(srv.statuses(), "stopped")
    assert hook_lines(err) == [], err


def test_malformed_response_not_retried(run, server):
    srv = server(lambda n, req: b"SSH-2.0-OpenSSH\r\n")
    d = run("plain", ["--web-hook", srv.url(), "--web-hook-timeout", "5s", "@exitwith", "0"])
    rc, out, err = d.finish()
    assert rc == 0
    time.sleep(0.3)  # window: dock exited; no further request may come
    assert_states(srv.statuses(), "stopped")
    lines = hook_lines(err)
    assert len(lines) == len(srv.requests) and all("malformed" in l for l in lines), err


def test_hung_server_never_delays_the_command(run, server):
    srv = server(lambda n, req: HANG)
    d = run("plain", ["--web-hook", srv.url(), "--web-hook-timeout", "3s", "@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready", timeout=1.5)
    started = time.monotonic() - d.t0
    assert started < 1.5
    srv.wait_requests(1, err=d.err.lines)            # dock's request is stuck in the server
    t = time.monotonic()
    d.kill("USR1")
    d.out.expect(r"^main SIG 10 USR1$", timeout=1.0)
    assert time.monotonic() - t < 0.5, "a hung hook server delayed signal forwarding"
    t = time.monotonic()
    d.kill("TERM")
    rc = d.wait(timeout=10)
    took = time.monotonic() - t
    assert rc == 0
    # the exit waits --web-hook-exit-timeout (2 s) at most once the tree is gone
    assert took < 2.0 + 1.0, f"exit took {took:.2f}s with a hung hook server"
    err = d.err.finish()
    lines = hook_lines(err)
    assert len(lines) == 2, err
    assert "'running'" in lines[0] and "no response" in lines[0]
    assert "'stopped'" in lines[1] and "no response" in lines[1] and "before dock's exit" in lines[1]
    # the final status got its own attempt, though the one before it hung
    assert srv.statuses() == ["running", "stopped"]


def test_idle_after_delivery_makes_no_wakeups(run, server):
    srv = server()
    d = run("plain", ["--web-hook", srv.url(), "@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready")
    srv.wait_requests(1, err=d.err.lines)
    wait_for(lambda: not psutil.Process(d.dock_pid).connections("inet"), what="the hook connection closing")
    wait_asleep(d.dock_pid)         # then dock is idle: connection closed, timers cancelled
    p = psutil.Process(d.dock_pid)
    before = p.num_ctx_switches()
    time.sleep(1.0)                 # the window watched: any wake-up in it is a fault
    after = p.num_ctx_switches()
    assert after.voluntary - before.voluntary == 0, "dock woke up while idle"
    d.kill("TERM")
    assert d.wait() == 0
    srv.wait_requests(2, err=d.err.lines)


def test_extra_headers_and_url_credentials(run, server):
    srv = server()
    d = run("plain", ["--web-hook", srv.url("/a", userinfo="alice:s3cr%40t@"),
                      "--web-hook-header", "X-Api-Key: k1, k2",
                      "--web-hook-header", "X-Trace:  v  ",
                      "@exitwith", "0"])
    rc, out, err = d.finish()
    assert rc == 0
    reqs = srv.wait_requests(1, err=d.err.lines)
    for r in reqs:
        assert r.headers["x-api-key"] == "k1, k2"
        assert r.headers["x-trace"] == "v"
        assert r.headers["authorization"] == "Basic " + base64.b64encode(b"alice:s3cr@t").decode()


def test_explicit_authorization_wins_over_url_credentials(run, server):
    srv = server()
    d = run("plain", ["--web-hook", srv.url("/a", userinfo="alice:pw@"),
                      "--web-hook-header", "Authorization: Bearer tok", "@exitwith", "0"])
    assert d.finish()[0] == 0
    reqs = srv.wait_requests(1, err=d.err.lines)
    assert [v for k, v in reqs[0].header_list if k.lower() == "authorization"] == ["Bearer tok"]


def test_credentials_and_query_never_printed(run, server):
    srv = server(lambda n, req: answer(401, "Unauthorized") if n < 3 else OK)
    url = srv.url("/h?token=TOPSECRET&user=me", userinfo="bob:PASSW0RD@")
    d = run("plain", ["-d", "--web-hook", url, "--web-hook-header", "Authorization: Bearer HEADERTOKEN",
                      "@exitwith", "0"])
    rc, out, err = d.finish()
    assert rc == 0
    text = "\n".join(err)
    assert "web hook" in text and "401" in text
    for secret in ["TOPSECRET", "PASSW0RD", "HEADERTOKEN", "user=me"]:
        assert secret not in text, text
    assert "bob:***@" in text and "token=***" in text


def test_hook_down_url_redacted_in_warnings(run):
    port = free_port()
    d = run("plain", ["--web-hook", f"http://u:PW123@127.0.0.1:{port}/p?k=V456", "--web-hook-timeout", "1s",
                      "@exitwith", "0"])
    rc, out, err = d.finish()
    text = "\n".join(err)
    assert hook_lines(err)
    assert "PW123" not in text and "V456" not in text


# --------------------------------------------------------------------------
# states, not events: what a hook that is down or hung costs


def test_hook_down_final_status_gets_its_own_attempt(run):
    """The issue's case: a command that exits at once with the hook down.
    Nothing is retried for statuses the command has already left behind;
    the final one is attempted (with retries), and the exit waits for it
    at most --web-hook-exit-timeout (2 s) although --web-hook-timeout is
    the default 10 s."""
    port = free_port()
    d = run("plain", ["--web-hook", f"http://127.0.0.1:{port}/h", "sh", "-c", "exit 3"])
    rc, out, err = d.finish()
    assert rc == 3
    assert d.elapsed < 2.0 + 1.0, f"dock took {d.elapsed:.2f}s: the hook held the exit"
    # the final status, attempted (with retries) and not delivered, last; "running"
    # may have had one attempt if the loop got to it before the command ended,
    # and is then given up as superseded
    assert 1 <= len(err) <= 2, err
    if len(err) == 2:
        assert "status 'running' not delivered" in err[0] and "superseded by 'crashed', not retried" in err[0]
    assert re.fullmatch(r"dock: web hook: status 'crashed' not delivered to http://127\.0\.0\.1:\d+/h "
                        r"before dock's exit \(--web-hook-exit-timeout 2s\): connect: Connection refused \(\d+ attempts\)",
                        err[-1]), err


def test_hook_down_during_the_run_retries_only_the_newest(run):
    """While the command runs, only "running" is retried; SIGTERM makes it
    stale: it is given up at once (one line) and "stopped" goes next."""
    port = free_port()
    d = run("plain", ["-d", "--web-hook", f"http://127.0.0.1:{port}/h", "@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready")
    d.err.expect(r"PUT status 'running' .*\(attempt 3\)", timeout=5)
    t = time.monotonic()
    d.kill("TERM")
    rc, out, err = d.finish()
    took = time.monotonic() - t
    assert rc == 0
    assert took < 2.0 + 1.0, f"exit took {took:.2f}s"
    puts = [re.search(r"PUT status '(\w+)'", l).group(1) for l in err if "PUT status" in l]
    assert puts[0] == "running" and "stopped" in puts, puts
    first_stopped = puts.index("stopped")
    assert set(puts[:first_stopped]) == {"running"} and set(puts[first_stopped:]) == {"stopped"}, puts
    assert any("status 'running' not delivered" in l and "superseded by 'stopped', not retried" in l
               for l in err), err
    assert not any("PUT status 'starting'" in l for l in err), err


def test_superseded_status_waiting_for_retry_gives_way_at_once(run, server):
    """A 5xx for "running" would be retried after a backoff; the command's
    end makes it stale, and "stopped" is sent right away, not after it."""
    srv = server(lambda n, req: answer(503) if req.status == "running" else OK)
    d = run("plain", ["--web-hook", srv.url(), "--web-hook-timeout", "30s", "@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready")
    srv.wait_requests(5, err=d.err.lines)     # running: 0, 100, 300, 700, 1500 ms: backing off 1.6 s
    t = time.monotonic()
    d.kill("TERM")
    rc, out, err = d.finish()
    assert rc == 0
    reqs = srv.wait_requests(6, err=d.err.lines)
    assert reqs[-1].status == "stopped"
    assert reqs[-1].at - t < 0.5, f"stopped went out {reqs[-1].at - t:.2f}s after the end"
    lines = hook_lines(err)
    assert len(lines) == 1 and "'running'" in lines[0] and "superseded by 'stopped'" in lines[0], err


@pytest.mark.parametrize("exit_timeout, low, high", [(None, 1.5, 3.0), ("500ms", 0.3, 1.5), ("4s", 3.5, 5.5)])
def test_web_hook_exit_timeout_bounds_the_exit(run, server, exit_timeout, low, high):
    """A hung server holds the exit exactly as long as --web-hook-exit-timeout
    (default 2 s) after the tree is gone, whatever --web-hook-timeout says."""
    srv = server(lambda n, req: HANG)
    args = ["--web-hook", srv.url(), "--web-hook-timeout", "20s"]
    if exit_timeout:
        args += ["--web-hook-exit-timeout", exit_timeout]
    d = run("plain", args + ["@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready")
    srv.wait_requests(1, err=d.err.lines)
    t = time.monotonic()
    d.kill("TERM")
    rc = d.wait(timeout=15)
    took = time.monotonic() - t
    assert rc == 0
    assert low <= took < high, f"exit took {took:.2f}s with --web-hook-exit-timeout {exit_timeout}"
    # "running" had half of it, "stopped" the other half
    assert srv.wait_requests(2, err=d.err.lines)[1].status == "stopped"


def test_web_hook_exit_timeout_from_the_environment(run, server):
    srv = server(lambda n, req: HANG)
    d = run("plain", ["--web-hook", srv.url(), "@exitwith", "0"], env={"DOCK_WEB_HOOK_EXIT_TIMEOUT": "300ms"})
    assert d.wait(timeout=10) == 0
    assert d.elapsed < 0.3 + 1.0, f"dock took {d.elapsed:.2f}s"


@pytest.mark.parametrize("value", ["0", "0s", "x", "-1s", "5q", ""])
def test_web_hook_exit_timeout_usage_errors(value):
    res = dock_plain(["--web-hook-exit-timeout", value, "sh", "-c", "echo ran"])
    assert res.returncode == 2, res
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dock: --web-hook-exit-timeout: "), res.stderr
    res = dock_plain(["sh", "-c", "echo ran"], env={"DOCK_WEB_HOOK_EXIT_TIMEOUT": value or "y"})
    assert res.returncode == 2 and res.stderr.startswith("dock: DOCK_WEB_HOOK_EXIT_TIMEOUT: "), res


@pytest.mark.parametrize("url", ["ftp://example.com/", "http://", "http://h:0/", "mailto:x@y",
                                 "http://u:SECRET@h:99999/x"])
def test_bad_url_is_a_usage_error(url):
    res = dock_plain(["--web-hook", url, "sh", "-c", "echo ran"])
    assert res.returncode == 2
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dock: ") and "--web-hook" in lines[0]
    assert "SECRET" not in res.stderr


# --------------------------------------------------------------------------
# https


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_ca(d, name):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A throw-away CA, a server certificate it signed for localhost and
    127.0.0.1, and another CA that signed nothing here."""
    d = tmp_path_factory.mktemp("hookcerts")
    _make_ca(d, "ca")
    _make_ca(d, "other")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=localhost", cwd=d)
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                               "basicConstraints=CA:FALSE\n"
                               "keyUsage=critical,digitalSignature\n"
                               "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(d / "srv.pem", d / "srv.key")
    return {"dir": d, "ca": str(d / "ca.pem"), "other": str(d / "other.pem"), "ctx": ctx}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_https_with_trusted_ca(run, server, certs, host):
    srv = server(tls=certs["ctx"])
    d = run("plain", ["--web-hook", srv.url("/s?x=1", host=host), "@exitwith", "sig:KILL"],
            env={"SSL_CERT_FILE": certs["ca"]})
    rc, out, err = d.finish()
    assert rc == 128 + 9
    reqs = srv.wait_requests(1, err=d.err.lines)
    time.sleep(0.2)
    assert_states(srv.statuses(), "crashed")
    assert reqs[0].target == "/s?x=1"
    assert reqs[0].headers["host"] == f"{host}:{srv.port}"
    assert srv.requests[-1].json["ps"]["signal"] == "KILL"
    assert hook_lines(err) == [], err


def test_https_untrusted_certificate_refused(run, server, certs):
    srv = server(tls=certs["ctx"])
    d = run("plain", ["--web-hook", srv.url(), "--web-hook-timeout", "5s", "@exitwith", "0"],
            env={"SSL_CERT_FILE": certs["other"]})
    rc, out, err = d.finish()
    assert rc == 0
    assert d.elapsed < 2.5, "a certificate failure is not worth retrying"
    time.sleep(0.2)  # window: dock exited; no further request may come
    assert srv.requests == []
    lines = hook_lines(err)
    assert 1 <= len(lines) <= 2 and "'stopped'" in lines[-1], err
    for line in lines:
        assert "certificate" in line


def test_https_address_mismatch_refused(run, server, certs):
    # the certificate names localhost and 127.0.0.1; the server answers on
    # 127.0.0.2 (loopback too) with it
    srv = server(tls=certs["ctx"], bind="127.0.0.2")
    d = run("plain", ["--web-hook", srv.url(host="127.0.0.2"), "--web-hook-timeout", "5s", "@exitwith", "0"],
            env={"SSL_CERT_FILE": certs["ca"]})
    rc, out, err = d.finish()
    assert rc == 0
    assert d.elapsed < 2.5
    assert srv.requests == []
    lines = hook_lines(err)
    assert 1 <= len(lines) <= 2 and all("certificate" in l for l in lines), err


def test_https_tls_insecure_accepts_any_certificate(run, server, certs):
    srv = server(tls=certs["ctx"])
    d = run("plain", ["--tls-insecure", "--web-hook", srv.url(), "@exitwith", "0"],
            env={"SSL_CERT_FILE": certs["other"]})
    rc, out, err = d.finish()
    assert rc == 0
    srv.wait_requests(1, err=d.err.lines)
    time.sleep(0.2)
    assert_states(srv.statuses(), "stopped")
    assert err == ["dock: --tls-insecure: the web hook's certificate is not verified"], err


def test_http_to_a_tls_server_fails_cleanly(run, server, certs):
    srv = server(tls=certs["ctx"])
    d = run("plain", ["--web-hook", srv.url(scheme="http"), "--web-hook-timeout", "1s", "@exitwith", "0"])
    rc, out, err = d.finish()
    assert rc == 0
    assert d.elapsed < 1.0 + 1.5
    assert hook_lines(err)


# --------------------------------------------------------------------------
# --status-file


def _read_status(path, want, timeout=5.0):
    deadline = time.monotonic() + timeout
    doc = None
    while time.monotonic() < deadline:
        try:
            doc = json.loads(path.read_text())
            if doc["status"] == want:
                return doc
        except FileNotFoundError:
            pass
        time.sleep(0.01)            # poll step: no event says the file was replaced
    raise AssertionError(f"status file never said {want!r}; last: {doc!r}")


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_status_file_running_then_stopped(run, tmp_path, mode):
    path = tmp_path / "status.json"
    d = run(mode, ["--status-file", str(path), "@sigrec", "-x", "TERM:7"])
    m = d.out.expect(r"^main ready pid=(\d+)")
    doc = _read_status(path, "running")
    assert list(doc) == FIELDS, doc
    check_fields(doc, "running", int(m.group(1)))
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 & ~_umask()
    d.kill("TERM")
    assert d.wait() == 7
    # ended after the stop signal dock forwarded: stopped, whatever the code
    doc = _read_status(path, "stopped")
    assert list(doc) == FIELDS, doc
    check_fields(doc, "stopped", int(m.group(1)))
    assert doc["exit_code"] == 7 and doc["signal"] is None
    assert not (tmp_path / "status.json.tmp").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["status.json"]


def _umask():
    u = os.umask(0)
    os.umask(u)
    return u


# The final status: "stopped" when the command exits 0 (after --remap-exit)
# or ends after dock forwarded a stop signal it received from outside: a
# TERM, INT or QUIT, whatever --rewrite or --thug made of it, or a signal
# --rewrite made one of those; "crashed" otherwise.
# (dock options, command, signal the test sends to dock (or "KILL-CMD": to
# the command itself, as the OOM killer would), status, exit_code, signal, rc)
FINAL_CASES = {
    "exit-0": ([], ["@exitwith", "0"], None, "stopped", 0, None, 0),
    "exit-3": ([], ["@exitwith", "3"], None, "crashed", 3, None, 3),
    "exit-3-remapped-to-0": (["--remap-exit", "3"], ["@exitwith", "3"], None, "stopped", 3, None, 0),
    "exit-3-remapped-to-4": (["--remap-exit", "3:4"], ["@exitwith", "3"], None, "crashed", 3, None, 4),
    "TERM-then-exit-7": ([], ["@sigrec", "-x", "TERM:7"], "TERM", "stopped", 7, None, 7),
    "INT-then-exit-130": ([], ["@sigrec", "-x", "INT:130"], "INT", "stopped", 130, None, 130),
    "QUIT-then-exit-3": ([], ["@sigrec", "-x", "QUIT:3"], "QUIT", "stopped", 3, None, 3),
    "TERM-rewritten-to-USR1": (["--rewrite", "TERM:USR1"], ["@sigrec", "-x", "USR1:5"], "TERM", "stopped",
                               5, None, 5),
    "TERM-thug-KILL": (["--thug"], ["@sigrec", "-i", "TERM"], "TERM", "stopped", 137, "KILL", 137),
    "HUP-then-exit-5": ([], ["@sigrec", "-x", "HUP:5"], "HUP", "crashed", 5, None, 5),
    "USR1-rewritten-to-TERM": (["--rewrite", "USR1:TERM"], ["@sigrec", "-x", "TERM:6"], "USR1", "stopped",
                               6, None, 6),
    "KILL-nobody-asked-for": ([], ["@sigrec"], "KILL-CMD", "crashed", 137, "KILL", 137),
    "TERM-dropped-then-KILL": (["--rewrite", "TERM:0"], ["@sigrec"], "TERM+KILL-CMD", "crashed", 137, "KILL", 137),
}


@pytest.mark.parametrize("case", list(FINAL_CASES))
def test_final_status_stopped_or_crashed(run, tmp_path, case):
    opts, cmd, send, status, code, sig, rc = FINAL_CASES[case]
    path = tmp_path / "s.json"
    d = run("plain", ["--status-file", str(path)] + opts + cmd)
    if send:
        m = d.out.expect(r"^main ready pid=(\d+)")
        if send.startswith("TERM+"):
            d.kill("TERM")
            time.sleep(0.2)
            assert d.proc.poll() is None, "a dropped TERM must not end the command"
        if send.endswith("KILL-CMD"):
            os.kill(int(m.group(1)), signal.SIGKILL)
        else:
            d.kill(send)
    assert d.wait() == rc, d.err.lines
    doc = json.loads(path.read_text())
    check_fields(doc, status)
    assert (doc["exit_code"], doc["signal"]) == (code, sig), doc


@pytest.mark.parametrize("mode", ["pidns", "runc"])
def test_final_status_as_pid1(run, tmp_path, mode, rootfs):
    """docker stop of a command that exits 143 on SIGTERM: stopped, as PID 1 too."""
    if mode == "runc":
        inside = f"/tmp/s-{os.getpid()}.json"
        arg, path = inside, rootfs / inside.lstrip("/")
    else:
        arg = path = tmp_path / "s.json"
    d = run(mode, ["--status-file", str(arg), "@sigrec", "-x", "TERM:143"])
    m = d.out.expect(r"^main ready pid=(\d+)")
    d.kill("TERM")
    assert d.wait(timeout=20) == 143
    try:
        doc = json.loads(Path(path).read_text())
    finally:
        Path(path).unlink(missing_ok=True)
    check_fields(doc, "stopped", pid=int(m.group(1)))
    assert doc["exit_code"] == 143 and doc["signal"] is None


def test_final_status_exec_failure_is_crashed(tmp_path):
    path = tmp_path / "s.json"
    res = dock_plain(["--status-file", str(path), "--remap-exit", "127", "/nonexistent/cmd"])
    assert res.returncode == 0, res
    doc = json.loads(path.read_text())
    check_fields(doc, "crashed", pid="null")
    assert doc["exit_code"] == 127 and doc["signal"] is None


def test_status_file_crashed_by_signal(run, tmp_path):
    path = tmp_path / "s.json"
    d = run("plain", ["--status-file", str(path), "@exitwith", "sig:KILL"])
    assert d.wait() == 137
    doc = json.loads(path.read_text())
    assert doc["status"] == "crashed" and doc["exit_code"] == 137 and doc["signal"] == "KILL"
    assert isinstance(doc["pid"], int) and doc["pid"] > 0


def test_status_file_starting_while_not_ready(run, tmp_path):
    """With a readiness condition that never holds, the file says starting."""
    path = tmp_path / "s.json"
    d = run("plain", ["--status-file", str(path), "--bind-port", str(free_port()),
                      "@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready")
    time.sleep(0.2)  # window: the file must not turn to running
    doc = json.loads(path.read_text())
    check_fields(doc, "starting")
    d.kill("TERM")
    assert d.wait() == 0
    assert json.loads(path.read_text())["status"] == "stopped"


def test_status_file_replaced_atomically(tmp_path):
    """A reader hammering the file never sees it missing, empty or partial:
    each change is a new file renamed over the old, never a rewrite in place
    (inode numbers prove nothing here: the file system reuses them)."""
    path = tmp_path / "s.json"
    path.write_text('{"status":"none"}')
    bad, reads = [], [0]
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                with open(path) as f:
                    text = f.read()
                json.loads(text)
                reads[0] += 1
            except (OSError, ValueError) as e:
                bad.append(repr(e))

    t = threading.Thread(target=reader)
    t.start()
    try:
        for _ in range(20):
            res = subprocess.run([str(DOCK), "--status-file", str(path), helper("exitwith"), "0"],
                                 capture_output=True, timeout=10, env={"PATH": PATH})
            assert res.returncode == 0, res.stderr
    finally:
        stop.set()
        t.join()
    assert not bad, bad[:5]
    assert reads[0] > 100
    assert json.loads(path.read_text())["status"] == "stopped"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_status_file_in_missing_directory_fails_before_start(tmp_path):
    path = tmp_path / "nope" / "s.json"
    res = dock_plain(["--status-file", str(path), "sh", "-c", "echo ran"])
    assert res.returncode == 1
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dock: --status-file ") and str(path) in lines[0]


def test_status_file_not_through_a_planted_symlink(tmp_path):
    target = tmp_path / "victim"
    target.write_text("keep")
    path = tmp_path / "s.json"
    (tmp_path / "s.json.tmp").symlink_to(target)
    res = dock_plain(["--status-file", str(path), "@exitwith", "0"])
    assert res.returncode == 0, res.stderr  # the stale link is removed, not followed
    assert target.read_text() == "keep"


def test_status_file_and_hook_together(run, server, tmp_path):
    srv = server()
    path = tmp_path / "s.json"
    d = run("plain", ["--status-file", str(path), "--web-hook", srv.url(), "@exitwith", "4"])
    assert d.finish()[0] == 4
    srv.wait_requests(1, err=d.err.lines)
    time.sleep(0.2)
    assert_states(srv.statuses(), "crashed")
    # the same fields with the same values: the status file is the body's "ps"
    ps = srv.requests[-1].json["ps"]
    doc = json.loads(path.read_text())
    assert doc == {k: ps[k] for k in FIELDS}, (doc, ps)
    assert doc["exit_code"] == 4


def test_status_file_write_failure_after_start_only_warns(run, tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    path = sub / "s.json"
    d = run("plain", ["--status-file", str(path), "@sigrec", "-x", "TERM:6"])
    d.out.expect(r"^main ready")
    _read_status(path, "running")
    path.unlink()
    sub.rmdir()
    d.kill("TERM")
    rc, out, err = d.finish()
    assert rc == 6, "a status file failure must not change the exit status"
    assert len(err) == 1 and err[0].startswith(f"dock: --status-file {path}: cannot write status 'stopped'"), err


def test_final_statuses_documented_everywhere():
    """--help, the man page and the README all name both final statuses and
    the option that bounds the hook's hold on the exit."""
    from conftest import ROOT
    help_text = dock_plain(["--help"]).stdout
    man = (ROOT / "docs" / "dock.1").read_text().replace("\\-", "-")
    readme = (ROOT / "README.md").read_text()
    for name, text in [("--help", help_text), ("docs/dock.1", man), ("README.md", readme)]:
        for word in ["stopped", "crashed", "--web-hook-exit-timeout", "--remap-exit"]:
            assert word in text, f"{name} does not mention {word}"


def test_exec_failure_reports_crashed_without_waiting_for_output(server, tmp_path):
    """A command that cannot start: "crashed" (127) goes to the hook, which
    may hold the exit its 2 s; no output drain (the command never had the
    pipe), and a signal meanwhile goes nowhere (there is no command to
    forward it to, and kill(0) would be dock's own process group)."""
    srv = server(lambda n, req: HANG)
    t0 = time.monotonic()
    p = subprocess.Popen([str(DOCK), "-d", "--io", str(tmp_path / "log"), "--stdout-prefix", "a ",
                          "--web-hook", srv.url(), "/nonexistent/cmd"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={"PATH": PATH}, start_new_session=True)
    try:
        srv.wait_requests(1)
        os.kill(p.pid, signal.SIGTERM)
        out, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    took = time.monotonic() - t0
    assert p.returncode == 127, err
    assert took < 2.0 + 1.0, f"dock took {took:.2f}s"
    assert srv.statuses() == ["crashed"]
    check_body(srv.requests[0], "crashed", pid="null")
    text = err.decode()
    assert "forwarding signal" not in text and "not forwarded" in text, text
