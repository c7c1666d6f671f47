"""Security review (issue 7): the properties docs/security.md claims, one
test (or one parametrised family) each.

- TLS (--io tls://, --web-hook https://) refuses self-signed, untrusted,
  wrong-host and expired certificates, before a byte of the command's output
  or of a status is sent; the trust store is the test's alone (both
  SSL_CERT_FILE and SSL_CERT_DIR are set, since this machine sets them
  globally).
- No secret of a URL (user:password@, ?token=) or of a hook header reaches
  dock's stderr, with -d, on failing deliveries or usage errors.
- Nothing runs through a shell.
- File modes: the log file and its archives 0666 less the umask when dock
  creates them, the status file 0644 less the umask, a planted symlink never
  followed.
- The command gets fds 0, 1, 2 and nothing else, whatever dock opened.
- DOCK_* never reaches the command's environment.

"""

import base64
import os
import re
import socket
import ssl
import stat
import threading
import time

import pytest

from conftest import DOCK_IS_SANITIZED, MODES, _openssl_cli, dock_plain, wait_for

SLOW = 3.0 if DOCK_IS_SANITIZED else 1.0


# --------------------------------------------------------------------------
# servers on 127.0.0.1


class Server:
    """A TCP (optionally TLS) server on 127.0.0.1 that records what it got.

    respond: bytes sent after a request head (HTTP), or None to only read.
    Every connection's decrypted bytes go to .received; TLS handshake
    failures to .tls_errors."""

    def __init__(self, cert=None, respond=None, host="127.0.0.1"):
        self.respond = respond
        self.received = []
        self.tls_errors = []
        self.done = threading.Event()
        self.sock = socket.socket(socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.ctx = None
        if cert is not None:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(*cert)
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        c.settimeout(5)
        try:
            if self.ctx is not None:
                try:
                    c = self.ctx.wrap_socket(c, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    self.tls_errors.append(str(e))
                    return
            data = b""
            while True:
                try:
                    chunk = c.recv(65536)
                except (socket.timeout, OSError):
                    break
                if not chunk:
                    break
                data += chunk
                if self.respond is not None and b"\r\n\r\n" in data:
                    head, _, body = data.partition(b"\r\n\r\n")
                    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
                    if m is None or len(body) >= int(m.group(1)):
                        c.sendall(self.respond)
                        break
            self.received.append(data)
            self.done.set()
        finally:
            try:
                c.close()
            except OSError:
                pass

    def close(self):
        self._stop.set()
        self.sock.close()


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
ERR500 = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


# --------------------------------------------------------------------------
# TLS verification


@pytest.fixture(scope="module")
def certs(tls_certs, tmp_path_factory):
    """conftest's throw-away PKI plus a self-signed leaf (not a CA) for
    localhost/127.0.0.1, and an empty directory for SSL_CERT_DIR."""
    d = tmp_path_factory.mktemp("selfsigned")
    _openssl_cli("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "self.key", "-out", "self.pem", "-days", "3", "-subj", "/CN=localhost",
                 "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                 "-addext", "basicConstraints=critical,CA:FALSE", cwd=d)
    empty = d / "empty-cert-dir"
    empty.mkdir()
    return {**tls_certs, "selfsigned": (str(d / "self.pem"), str(d / "self.key")), "empty_dir": str(empty)}


def trust_env(certs):
    """Trust exactly the test CA: SSL_CERT_FILE and SSL_CERT_DIR both set."""
    return {"SSL_CERT_FILE": certs["ca"], "SSL_CERT_DIR": certs["empty_dir"]}


BAD_CERTS = [
    # (certificate, host in the URL, what dock must say)
    ("selfsigned", "localhost", "not trusted"),
    ("untrusted", "localhost", "not trusted"),
    ("wronghost", "localhost", "mismatch"),
    ("wronghost", "127.0.0.1", "mismatch"),
    ("expired", "localhost", "expired"),
]


@pytest.mark.parametrize("cert,host,why", BAD_CERTS, ids=[f"{c}-{h}" for c, h, _ in BAD_CERTS])
def test_io_tls_refuses_bad_certificate(certs, tmp_path, cert, host, why):
    srv = Server(cert=certs[cert])
    marker = tmp_path / "ran"
    try:
        url = f"tls://{host}:{srv.port}"
        res = dock_plain(["--io", url, "sh", "-c", f"echo secret output; touch {marker}"],
                         env=trust_env(certs), timeout=15 * SLOW)
        assert res.returncode == 1, res
        assert not marker.exists(), "the command ran over an unverified connection"
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"dock: --io {url}: "), lines
        assert why in lines[0], lines[0]
        time.sleep(0.2)  # window: dock exited; nothing may reach the peer
        assert not any(srv.received), f"the peer got data: {srv.received}"
    finally:
        srv.close()


def test_io_tls_selfsigned_refused_by_the_system_store_too(certs, tmp_path):
    """The machine's own store (its global SSL_CERT_FILE/SSL_CERT_DIR) does
    not make a self-signed certificate acceptable either."""
    srv = Server(cert=certs["selfsigned"])
    env = {k: os.environ[k] for k in ("SSL_CERT_FILE", "SSL_CERT_DIR") if k in os.environ}
    try:
        res = dock_plain(["--io", f"tls://localhost:{srv.port}", "true"], env=env, timeout=15 * SLOW)
        assert res.returncode == 1 and "not trusted" in res.stderr, res
    finally:
        srv.close()


def test_io_tls_good_certificate_accepted(certs):
    """The control: the same setup with a good certificate works."""
    srv = Server(cert=certs["good"])
    try:
        res = dock_plain(["--io", f"tls://localhost:{srv.port}", "echo", "hello over tls"],
                         env=trust_env(certs), timeout=15 * SLOW)
        assert res.returncode == 0, res
        assert srv.done.wait(5)
        assert b"hello over tls" in b"".join(srv.received)
    finally:
        srv.close()


@pytest.mark.parametrize("cert,host,why", BAD_CERTS, ids=[f"{c}-{h}" for c, h, _ in BAD_CERTS])
def test_hook_https_refuses_bad_certificate(certs, cert, host, why):
    srv = Server(cert=certs[cert], respond=OK)
    try:
        url = f"https://{host}:{srv.port}/hook"
        res = dock_plain(["--web-hook", url, "--web-hook-timeout", "2s", "@exitwith", "5"],
                         env=trust_env(certs), timeout=20 * SLOW)
        # a hook failure never changes the command's status
        assert res.returncode == 5, res
        # the server's thread notes the refused handshake on its own time
        # (dock may attempt only the final status, and exit right after)
        deadline = time.monotonic() + 5 * SLOW
        while not srv.tls_errors and time.monotonic() < deadline:
            time.sleep(0.01)
        assert srv.tls_errors, "no TLS handshake was refused by dock"
        assert not any(srv.received), f"a status went out over unverified TLS: {srv.received}"
        lines = res.stderr.splitlines()
        assert lines and all(ln.startswith("dock: web hook: ") for ln in lines), lines
        assert any(why in ln for ln in lines), lines
    finally:
        srv.close()


def test_hook_https_good_certificate_accepted(certs):
    srv = Server(cert=certs["good"], respond=OK)
    try:
        res = dock_plain(["--web-hook", f"https://localhost:{srv.port}/hook", "@exitwith", "5"],
                         env=trust_env(certs), timeout=20 * SLOW)
        assert res.returncode == 5, res
        # The command ends at once, so `running` may be superseded before its
        # delivery (a slow build: the tree shutdown ends the hook's resolver
        # child); that is reported, and only that. The final status must arrive.
        others = [ln for ln in res.stderr.splitlines() if "superseded by 'crashed', not retried" not in ln]
        assert others == [], res.stderr
        assert "certificate" not in res.stderr, res.stderr
        # the server thread records a request after answering it: wait for it
        wait_for(lambda: any(b'"status":"crashed"' in r for r in srv.received), timeout=5,
                 what="the crashed PUT at the server")
    finally:
        srv.close()


# --------------------------------------------------------------------------
# secrets in URLs and headers


PASSWORD = "pw-S3cr3t-71f3"
TOKEN = "tok-9c1e-ZZ"
HEADER_SECRET = "hdr-77aa-Secret"
SECRETS = [PASSWORD, TOKEN, HEADER_SECRET,
           base64.b64encode(f"alice:{PASSWORD}".encode()).decode()]


def assert_no_secret(text):
    for s in SECRETS:
        assert s not in text, f"secret {s!r} printed:\n{text}"


def hook_url(port):
    return f"http://alice:{PASSWORD}@127.0.0.1:{port}/hook?token={TOKEN}&x=1"


@pytest.mark.parametrize("server", ["refused", "http500", "hang", "ok"])
@pytest.mark.parametrize("how", ["flag", "env"])
def test_hook_secrets_never_printed(server, how):
    srv = None
    if server == "refused":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
    else:
        srv = Server(respond={"http500": ERR500, "ok": OK, "hang": None}[server])
        port = srv.port
    try:
        common = ["-d", "--web-hook-timeout", "1500ms", "--web-hook-header",
                  f"Authorization: Bearer {HEADER_SECRET}"]
        if how == "flag":
            res = dock_plain(common + ["--web-hook", hook_url(port), "@exitwith", "3"], timeout=20 * SLOW)
        else:
            res = dock_plain(common + ["@exitwith", "3"], env={"DOCK_WEB_HOOK": hook_url(port)},
                             timeout=20 * SLOW)
        assert res.returncode == 3, res
        assert_no_secret(res.stderr + res.stdout)
        if server != "ok":
            # the failures are reported, with the URL in its redacted form
            assert re.search(r"not (delivered|sent) to http://alice:\*\*\*@127\.0\.0\.1:\d+/hook", res.stderr), \
                res.stderr
        else:
            # and the secrets did go where they belong (an Authorization
            # header given by the user takes the place of the URL's Basic one)
            # (the server thread records a request after answering it)
            wait_for(lambda: f"token={TOKEN}".encode() in b"".join(srv.received), timeout=5,
                     what="the hook request at the server")
            got = b"".join(srv.received).decode(errors="replace")
            assert f"token={TOKEN}" in got and f"Authorization: Bearer {HEADER_SECRET}" in got, got
    finally:
        if srv:
            srv.close()


USAGE_LEAKS = [
    ["--web-hook", f"http://alice:{PASSWORD}@127.0.0.1:99999/hook?token={TOKEN}"],
    ["--web-hook", f"ftp://alice:{PASSWORD}@127.0.0.1/hook?token={TOKEN}"],
    ["--io", f"tcp://alice:{PASSWORD}@127.0.0.1:9"],
    ["--io", f"tls://alice:{PASSWORD}@127.0.0.1:9?token={TOKEN}"],
    ["--web-hook-header", f"Authorization Bearer {HEADER_SECRET}"],
    ["--web-hook-header", f"Authorization: Bearer {HEADER_SECRET}\r\nX-Evil: 1"],
]


@pytest.mark.parametrize("args", USAGE_LEAKS, ids=range(len(USAGE_LEAKS)))
def test_usage_errors_never_print_secrets(args, tmp_path):
    marker = tmp_path / "ran"
    res = dock_plain(["-d"] + args + ["touch", str(marker)])
    assert res.returncode == 2, res
    assert not marker.exists()
    assert len(res.stderr.splitlines()) == 1 and res.stderr.startswith("dock: "), res.stderr
    assert_no_secret(res.stderr)


# --------------------------------------------------------------------------
# nothing through a shell


def test_command_word_with_shell_syntax_is_execd_literally(tmp_path):
    marker = tmp_path / "x"
    res = dock_plain([f"echo hi; touch {marker}"])
    assert res.returncode == 127, res
    assert "command not found" in res.stderr
    assert not marker.exists()
    assert "hi" not in res.stdout


def test_arguments_with_shell_syntax_are_passed_verbatim(tmp_path):
    marker = tmp_path / "x"
    words = [f"$(touch {marker})", f"`touch {marker}`", f"; touch {marker}", f"| touch {marker}", "*", "~", "$HOME"]
    res = dock_plain(["@inspect"] + words)
    assert res.returncode == 0, res
    args = [ln.split(" ", 2)[2] for ln in res.stdout.splitlines() if ln.startswith("arg ")][1:]
    assert args == words
    assert not marker.exists()


def test_prefix_and_header_values_are_not_shell_expanded(tmp_path):
    marker = tmp_path / "x"
    srv = Server(respond=OK)
    try:
        res = dock_plain(["--stdout-prefix", f"$(touch {marker}) ", "--web-hook", f"http://127.0.0.1:{srv.port}/h",
                          "--web-hook-header", f"X-Probe: $(touch {marker})", "echo", "out"],
                         env={"DOCK_KILL_TIMEOUT": f"$(touch {marker})s"}, timeout=15 * SLOW)
        # DOCK_KILL_TIMEOUT with shell syntax is just a bad duration
        assert res.returncode == 2, res
        assert not marker.exists()
        res = dock_plain(["--stdout-prefix", f"$(touch {marker}) ", "--web-hook", f"http://127.0.0.1:{srv.port}/h",
                          "--web-hook-header", f"X-Probe: $(touch {marker})", "echo", "out"], timeout=15 * SLOW)
        assert res.returncode == 0, res
        assert res.stdout == f"$(touch {marker}) out\n"
        assert srv.done.wait(5)
        assert f"X-Probe: $(touch {marker})".encode() in b"".join(srv.received)
        assert not marker.exists()
    finally:
        srv.close()


# --------------------------------------------------------------------------
# file modes


def _with_umask(mask):
    def f():
        os.umask(mask)
    return f


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_log_file_and_archives_are_0666_less_umask(tmp_path, umask):
    """Created as the shell's `>` would: the umask decides who may read the logs."""
    log = tmp_path / "app.log"
    res = dock_plain(["--io", str(log), "--log-max-size", "1k", "sh", "-c",
                      "i=0; while [ $i -lt 60 ]; do echo line $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done"],
                     preexec_fn=_with_umask(umask), timeout=15 * SLOW)
    assert res.returncode == 0, res
    files = sorted(p for p in tmp_path.iterdir() if p.name.startswith("app.log"))
    assert len(files) >= 2, files  # the live file and at least one archive
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~umask, f"{p.name}: {oct(p.stat().st_mode)}"


def test_log_successors_never_get_setuid_bits(tmp_path):
    """A log file that another user prepared with mode 04755 must not make
    dock (root) create root-owned setuid files whose content the command
    writes."""
    log = tmp_path / "app.log"
    log.touch()
    os.chown(log, 1000, 1000)
    os.chmod(log, 0o4755)
    res = dock_plain(["--io", str(log), "--log-max-size", "1k", "sh", "-c",
                      "i=0; while [ $i -lt 60 ]; do echo line $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done"],
                     timeout=15 * SLOW)
    assert res.returncode == 0, res
    created = [p for p in tmp_path.iterdir() if p.name.startswith("app.log") and p.stat().st_uid == 0]
    assert created, "no file created by dock"
    for p in created:
        assert not p.stat().st_mode & (stat.S_ISUID | stat.S_ISGID), f"{p.name}: {oct(p.stat().st_mode)}"


def test_archive_tmp_name_symlink_is_not_followed(tmp_path, hardening_helpers):
    """Whoever can write to the log directory (the command, if it dropped
    privileges) plants a symlink at the next archive's temporary name as
    soon as the rotated content shows up: dock must not write through it."""
    logs = tmp_path / "logs"
    logs.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    stop = threading.Event()
    planted = []

    def attacker():
        while not stop.is_set():
            for n in os.listdir(logs):
                m = re.fullmatch(r"\.app\.log_(\d{14}(?:_\d\d)?)\.raw", n)
                if m:
                    try:
                        os.symlink(victim, logs / f"app.log_{m.group(1)}.gz.tmp")
                        planted.append(m.group(1))
                    except FileExistsError:
                        pass
    t = threading.Thread(target=attacker, daemon=True)
    t.start()
    try:
        res = dock_plain(["--io", str(logs / "app.log"), "--log-max-size", "10M",
                          "@chatter", "-n", "1500000"], timeout=60 * SLOW)
    finally:
        stop.set()
        t.join(5)
    assert res.returncode == 0, res
    assert planted, "the attack never got its chance (no rotation seen)"
    assert victim.read_text() == "precious\n", "dock wrote through a planted symlink"


@pytest.mark.parametrize("umask,mode", [(0o000, 0o644), (0o022, 0o644), (0o077, 0o600)])
def test_status_file_mode_is_0644_less_umask(tmp_path, umask, mode):
    sf = tmp_path / "status.json"
    res = dock_plain(["--status-file", str(sf), "true"], preexec_fn=_with_umask(umask))
    assert res.returncode == 0, res
    assert stat.S_IMODE(sf.stat().st_mode) == mode, oct(sf.stat().st_mode)


def test_status_file_planted_symlink_is_not_followed(tmp_path):
    sf = tmp_path / "status.json"
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    os.symlink(victim, tmp_path / "status.json.tmp")
    marker = tmp_path / "ran"
    res = dock_plain(["--status-file", str(sf), "touch", str(marker)])
    # A stale PATH.tmp, whatever it is, is removed (never followed) and the
    # temporary file created anew (O_EXCL): dock starts.
    assert res.returncode == 0, res
    assert victim.read_text() == "precious\n"
    assert marker.exists()
    assert not (tmp_path / "status.json.tmp").is_symlink()
    assert sf.is_file() and not sf.is_symlink()


# --------------------------------------------------------------------------
# no fd leaks into the command


def inspect_fds(text):
    # (a line may start with a prefix, or a pty's \r)
    for ln in text.replace("\r", "").splitlines():
        m = re.search(r"(?:^|\x1b\[0m)fds((?: \d+)*)$", ln)
        if m:
            return sorted(int(x) for x in m.group(1).split())
    raise AssertionError(f"no fds line in {text!r}")


class UdpSink:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]

    def text(self, timeout=5):
        out, end = [], time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                out.append(self.sock.recv(65536).decode(errors="replace"))
            except socket.timeout:
                if any(x.startswith("end") for x in out):
                    break
        self.sock.close()
        return "\n".join(out)


FD_CASES = ["file", "file-rotate", "tcp", "tls", "udp", "prefix", "web-hook", "web-hook-https", "notify",
            "bind-port", "status-file", "everything"]


@pytest.mark.parametrize("case", FD_CASES)
def test_command_gets_only_fds_0_1_2(case, certs, tmp_path):
    env = trust_env(certs)
    args, collect, cleanup = [], None, []
    log = tmp_path / "out.log"
    if case in ("file", "file-rotate", "everything"):
        args += ["--io", str(log)]
        collect = log.read_text
        if case != "file":
            args += ["--log-rotate", "1h", "--log-max-size", "10M"]
    if case in ("tcp", "tls"):
        srv = Server(cert=certs["good"] if case == "tls" else None)
        cleanup.append(srv.close)
        args += ["--io", f"{'tls' if case == 'tls' else 'tcp'}://localhost:{srv.port}"]
        collect = lambda: (srv.done.wait(5), b"".join(srv.received).decode(errors="replace"))[1]  # noqa: E731
    if case == "udp":
        sink = UdpSink()
        args += ["--io", f"udp://127.0.0.1:{sink.port}"]
        collect = sink.text
    if case in ("prefix", "everything"):
        args += ["--stdout-prefix", "p:green"]
    if case in ("web-hook", "web-hook-https", "everything"):
        hook = Server(cert=certs["good"] if case != "web-hook" else None, respond=OK)
        cleanup.append(hook.close)
        args += ["--web-hook", f"{'http' if case == 'web-hook' else 'https'}://localhost:{hook.port}/h"]
    if case in ("notify", "everything"):
        args += ["--notify"]
    if case in ("bind-port", "everything"):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        args += ["--bind-port", str(s.getsockname()[1])]
        s.close()
    if case in ("status-file", "everything"):
        args += ["--status-file", str(tmp_path / "status.json")]
    try:
        res = dock_plain(["--kill-timeout", "1s", "--web-hook-timeout", "2s"] + args + ["@inspect"],
                         env=env, timeout=20 * SLOW)
        assert res.returncode == 0, res
        text = collect() if collect else res.stdout
        assert inspect_fds(text) == [0, 1, 2], text
    finally:
        for c in cleanup:
            c()


# --------------------------------------------------------------------------
# DOCK_* stays with dock


@pytest.mark.parametrize("mode", MODES)
def test_dock_variables_never_reach_the_command(run, mode):
    env = {"DOCK_WEB_HOOK": hook_url(9), "DOCK_KILL_TIMEOUT": "3s", "DOCK_WEB_HOOK_HEADER":
           f"Authorization: Bearer {HEADER_SECRET}", "DOCK_NOT_AN_OPTION": "x", "DOCK_": "y",
           "DOCKER_HOST": "unix:///keep", "MY_DOCK_X": "keep", "dock_lower": "keep"}
    d = run(mode, ["--web-hook-timeout", "500ms", "@inspect"], env=env)
    rc, out, err = d.finish(timeout=15 * SLOW)
    assert rc == 0, err
    names = {ln[4:].split("=", 1)[0] for ln in out if ln.startswith("env ")}
    assert not [n for n in names if n.startswith("DOCK_")], names
    assert {"DOCKER_HOST", "MY_DOCK_X", "dock_lower"} <= names, names
    assert_no_secret("\n".join(out + err))
