"""--web-hook and --status-file, against real HTTP(S) servers on 127.0.0.1.

The hook servers here are raw sockets in threads: each records every request
and answers as a test's policy says (200, 500 then 200, 404, never, ...),
so the tests see exactly what dock sent and when."""

import base64
import json
import os
import re
import socket
import ssl
import stat
import subprocess
import threading
import time

import psutil
import pytest

from conftest import DOCK, PATH, dock_plain, helper

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


def check_body(req, status):
    assert req.method == "PUT"
    assert req.headers["content-type"] == "application/json"
    assert int(req.headers["content-length"]) == len(req.body)
    assert req.headers["connection"].lower() == "close"
    assert re.fullmatch(r"dock/\S+", req.headers["user-agent"])
    doc = req.json
    assert list(doc) == ["ps"]
    ps = doc["ps"]
    assert ps["status"] == status
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
    if status == "crashed":
        assert "exit_code" in ps and "signal" in ps
    else:
        assert "exit_code" not in ps and "signal" not in ps
    return ps


# --------------------------------------------------------------------------
# delivery


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_three_statuses_in_order(run, server, mode):
    srv = server()
    url = srv.url("/hooks/run?id=42&token=t0k")
    d = run(mode, ["--web-hook", url, "--web-hook-timeout", TIMEOUT, "@exitwith", "sig:TERM"])
    rc, out, err = d.finish()
    assert rc == 128 + 15, err
    reqs = srv.wait_requests(3, err=d.err.lines)
    time.sleep(0.2)
    assert len(srv.requests) == 3, srv.statuses()
    assert [r.status for r in reqs] == ["starting", "running", "crashed"]
    for r, st in zip(reqs, ["starting", "running", "crashed"]):
        assert r.target == "/hooks/run?id=42&token=t0k"
        assert r.headers["host"] == f"127.0.0.1:{srv.port}"
        check_body(r, st)
    crashed = reqs[2].json["ps"]
    assert crashed["exit_code"] == 143
    assert crashed["signal"] == "TERM"
    assert hook_lines(err) == [], err


def test_crashed_by_exit_code_has_null_signal(run, server):
    srv = server()
    d = run("plain", ["--web-hook", srv.url("/"), "@exitwith", "3"])
    rc, out, err = d.finish()
    assert rc == 3
    reqs = srv.wait_requests(3, err=d.err.lines)
    assert reqs[2].target == "/"
    ps = check_body(reqs[2], "crashed")
    assert ps["exit_code"] == 3 and ps["signal"] is None


def test_host_name_resolved_outside_the_loop(run, server):
    """A name (not an IP literal) goes through the resolver child; the
    delivery is the same."""
    srv = server()
    d = run("plain", ["--web-hook", srv.url("/n", host="localhost"), "@exitwith", "0"])
    rc, out, err = d.finish()
    assert rc == 0, err
    reqs = srv.wait_requests(3, err=d.err.lines)
    assert [r.status for r in reqs] == ["starting", "running", "crashed"]
    assert reqs[0].headers["host"] == f"localhost:{srv.port}"


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
    reqs = srv.wait_requests(3, err=d.err.lines)
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
    assert srv.wait_requests(3, err=d.err.lines)[0].headers["host"] == "127.0.0.1"


def test_unknown_host_fails_with_one_line_per_status(run):
    d = run("plain", ["--web-hook", "http://no-such-host.invalid:8080/h?token=zz", "--web-hook-timeout",
                      "1s", "sh", "-c", "echo ran"])
    rc, out, err = d.finish()
    assert rc == 0
    assert out == ["ran"]
    lines = hook_lines(err)
    assert 1 <= len(lines) <= 3, err
    assert "resolve" in lines[0] and "no-such-host.invalid" in lines[0]
    assert "zz" not in "".join(err)


def test_server_down_command_runs_exit_bounded(run):
    port = free_port()
    d = run("plain", ["--web-hook", f"http://127.0.0.1:{port}/h", "--web-hook-timeout", "1s",
                      "sh", "-c", "echo ran; exit 5"])
    rc, out, err = d.finish()
    assert rc == 5
    assert out == ["ran"]
    # every status gives up within its timeout; the exit waits 1 s at most
    assert d.elapsed < 1.0 + 1.5, f"dock took {d.elapsed:.2f}s"
    lines = hook_lines(err)
    assert 1 <= len(lines) <= 3, err
    for line in lines:
        assert line.startswith("dock: web hook: status '")
    assert "Connection refused" in lines[0]
    # one line per status, never one per attempt
    assert len({re.search(r"status '(\w+)'", line).group(1) for line in lines}) == len(lines)


def test_5xx_retried_then_delivered_once(run, server):
    srv = server(lambda n, req: answer(500, "Internal Server Error") if n == 0 else
                 answer(503) if n == 1 else OK)
    d = run("plain", ["--web-hook", srv.url(), "--web-hook-timeout", "5s", "@exitwith", "0"])
    rc, out, err = d.finish()
    assert rc == 0
    srv.wait_requests(5, err=d.err.lines)
    time.sleep(0.2)
    assert srv.statuses() == ["starting", "starting", "starting", "running", "crashed"]
    # backoff: 100 ms, then 200 ms
    gaps = [srv.requests[i + 1].at - srv.requests[i].at for i in range(2)]
    assert 0.08 <= gaps[0] < 1.0 and 0.15 <= gaps[1] < 1.5, gaps
    assert hook_lines(err) == [], err


def test_4xx_not_retried(run, server):
    srv = server(lambda n, req: answer(404, "Not Found"))
    d = run("plain", ["--web-hook", srv.url("/x?token=sekrit"), "--web-hook-timeout", "5s",
                      "@exitwith", "0"])
    rc, out, err = d.finish()
    assert rc == 0
    time.sleep(0.3)
    assert srv.statuses() == ["starting", "running", "crashed"]
    lines = hook_lines(err)
    assert len(lines) == 3, err
    for line, st in zip(lines, ["starting", "running", "crashed"]):
        assert f"'{st}'" in line and "404 Not Found" in line and "not retried" in line
    assert "sekrit" not in "".join(err)
    assert d.elapsed < 2.0, "a 4xx must not be waited on"


def test_interim_and_chunked_responses(run, server):
    reply = (b"HTTP/1.1 100 Continue\r\n\r\n"
             b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"5\r\nhello\r\n0\r\n\r\n")
    srv = server(lambda n, req: reply)
    d = run("plain", ["--web-hook", srv.url(), "@exitwith", "0"])
    rc, out, err = d.finish()
    assert rc == 0
    time.sleep(0.2)
    assert srv.statuses() == ["starting", "running", "crashed"]
    assert hook_lines(err) == [], err


def test_close_delimited_response(run, server):
    srv = server(lambda n, req: b"HTTP/1.0 200 OK\r\n\r\nbody until close")
    d = run("plain", ["--web-hook", srv.url(), "@exitwith", "0"])
    rc, out, err = d.finish()
    assert rc == 0
    time.sleep(0.2)
    assert srv.statuses() == ["starting", "running", "crashed"]
    assert hook_lines(err) == [], err


def test_malformed_response_not_retried(run, server):
    srv = server(lambda n, req: b"SSH-2.0-OpenSSH\r\n")
    d = run("plain", ["--web-hook", srv.url(), "--web-hook-timeout", "5s", "@exitwith", "0"])
    rc, out, err = d.finish()
    assert rc == 0
    time.sleep(0.3)
    assert srv.statuses() == ["starting", "running", "crashed"]
    lines = hook_lines(err)
    assert len(lines) == 3 and all("malformed" in l for l in lines), err


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
    assert took < 3.0 + 1.5, f"exit took {took:.2f}s with a 3s hook timeout"
    err = d.err.finish()
    lines = hook_lines(err)
    assert 1 <= len(lines) <= 3, err
    assert "no response" in lines[0]


def test_idle_after_delivery_makes_no_wakeups(run, server):
    srv = server()
    d = run("plain", ["--web-hook", srv.url(), "@sigrec", "-x", "TERM:0"])
    d.out.expect(r"^main ready")
    srv.wait_requests(2, err=d.err.lines)
    time.sleep(0.3)                 # the connection is closed, timers cancelled
    p = psutil.Process(d.dock_pid)
    before = p.num_ctx_switches()
    time.sleep(1.0)
    after = p.num_ctx_switches()
    assert after.voluntary - before.voluntary == 0, "dock woke up while idle"
    d.kill("TERM")
    assert d.wait() == 0
    srv.wait_requests(3, err=d.err.lines)


def test_extra_headers_and_url_credentials(run, server):
    srv = server()
    d = run("plain", ["--web-hook", srv.url("/a", userinfo="alice:s3cr%40t@"),
                      "--web-hook-header", "X-Api-Key: k1, k2",
                      "--web-hook-header", "X-Trace:  v  ",
                      "@exitwith", "0"])
    rc, out, err = d.finish()
    assert rc == 0
    reqs = srv.wait_requests(3, err=d.err.lines)
    for r in reqs:
        assert r.headers["x-api-key"] == "k1, k2"
        assert r.headers["x-trace"] == "v"
        assert r.headers["authorization"] == "Basic " + base64.b64encode(b"alice:s3cr@t").decode()


def test_explicit_authorization_wins_over_url_credentials(run, server):
    srv = server()
    d = run("plain", ["--web-hook", srv.url("/a", userinfo="alice:pw@"),
                      "--web-hook-header", "Authorization: Bearer tok", "@exitwith", "0"])
    assert d.finish()[0] == 0
    reqs = srv.wait_requests(3, err=d.err.lines)
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
    reqs = srv.wait_requests(3, err=d.err.lines)
    assert [r.status for r in reqs] == ["starting", "running", "crashed"]
    assert reqs[0].target == "/s?x=1"
    assert reqs[0].headers["host"] == f"{host}:{srv.port}"
    assert reqs[2].json["ps"]["signal"] == "KILL"
    assert hook_lines(err) == [], err


def test_https_untrusted_certificate_refused(run, server, certs):
    srv = server(tls=certs["ctx"])
    d = run("plain", ["--web-hook", srv.url(), "--web-hook-timeout", "5s", "@exitwith", "0"],
            env={"SSL_CERT_FILE": certs["other"]})
    rc, out, err = d.finish()
    assert rc == 0
    assert d.elapsed < 2.5, "a certificate failure is not worth retrying"
    time.sleep(0.2)
    assert srv.requests == []
    lines = hook_lines(err)
    assert len(lines) == 3, err
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
    assert len(lines) == 3 and all("certificate" in l for l in lines), err


def test_https_tls_insecure_accepts_any_certificate(run, server, certs):
    srv = server(tls=certs["ctx"])
    d = run("plain", ["--tls-insecure", "--web-hook", srv.url(), "@exitwith", "0"],
            env={"SSL_CERT_FILE": certs["other"]})
    rc, out, err = d.finish()
    assert rc == 0
    reqs = srv.wait_requests(3, err=d.err.lines)
    assert [r.status for r in reqs] == ["starting", "running", "crashed"]
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


RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


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
        time.sleep(0.01)
    raise AssertionError(f"status file never said {want!r}; last: {doc!r}")


def _check_time(doc):
    assert RFC3339.match(doc["time"]), doc
    t = time.mktime(time.strptime(doc["time"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert abs(t - time.time()) < 30, doc


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_status_file_running_then_crashed(run, tmp_path, mode):
    path = tmp_path / "status.json"
    d = run(mode, ["--status-file", str(path), "@sigrec", "-x", "TERM:7"])
    m = d.out.expect(r"^main ready pid=(\d+)")
    doc = _read_status(path, "running")
    assert set(doc) == {"status", "pid", "exit_code", "signal", "time"}
    assert doc["pid"] == int(m.group(1))
    assert doc["exit_code"] is None and doc["signal"] is None
    _check_time(doc)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 & ~_umask()
    d.kill("TERM")
    assert d.wait() == 7
    doc = _read_status(path, "crashed")
    assert doc["pid"] == int(m.group(1))
    assert doc["exit_code"] == 7 and doc["signal"] is None
    _check_time(doc)
    assert not (tmp_path / "status.json.tmp").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["status.json"]


def _umask():
    u = os.umask(0)
    os.umask(u)
    return u


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
    time.sleep(0.2)
    doc = json.loads(path.read_text())
    assert doc["status"] == "starting"
    assert doc["exit_code"] is None and doc["signal"] is None
    _check_time(doc)
    d.kill("TERM")
    assert d.wait() == 0
    assert json.loads(path.read_text())["status"] == "crashed"


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
    assert json.loads(path.read_text())["status"] == "crashed"
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
    assert [r.status for r in srv.wait_requests(3, err=d.err.lines)] == ["starting", "running", "crashed"]
    assert json.loads(path.read_text())["exit_code"] == 4


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
    assert len(err) == 1 and err[0].startswith(f"dock: --status-file {path}: cannot write status 'crashed'"), err
