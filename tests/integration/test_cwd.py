"""dock's own working directory: once the command runs it is "/", so dock holds no
directory (and no mount) busy for the container's life, as dumb-init and catatonit;
the command keeps the directory it was started in; relative paths given to dock
(--io, --status-file, SSL_CERT_FILE for an https hook) keep meaning what they meant,
rotation included."""

import gzip
import os
import re
import socket
import ssl
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import DOCK, MARK, PATH, kill_marked

PY = "/usr/bin/python3"


def _cwd_of(pid):
    return os.readlink(f"/proc/{pid}/cwd")


def _wait_cwd(pid, want, timeout=5.0):
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = _cwd_of(pid)
        if seen == want:
            return
        time.sleep(0.01)
    raise AssertionError(f"dock's cwd is {seen!r}, expected {want!r}")


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_dock_moves_to_root_the_command_stays(run, tmp_path, mode):
    d = run(mode, ["sh", "-c", "pwd; echo started; exec sleep 30"],
            preexec_fn=lambda: os.chdir(tmp_path))
    d.out.expect(r"^started$", timeout=10)
    assert d.out.lines[0] == str(tmp_path), d.out.lines
    _wait_cwd(d.dock_pid, "/")
    d.kill("TERM")
    rc, _, err = d.finish()
    assert rc == 143, err


def _numbered_writer(count, pause):
    return [PY, "-c",
            "import sys, time\n"
            "n, pause = int(sys.argv[1]), float(sys.argv[2])\n"
            "for i in range(1, n + 1):\n"
            "    sys.stdout.write('line %d\\n' % i); sys.stdout.flush()\n"
            "    if i % 50 == 0: time.sleep(pause)\n",
            str(count), str(pause)]


def test_relative_io_and_status_file_with_rotation(tmp_path):
    """A relative --io with --log-rotate and --log-max-size, and a relative
    --status-file: every archive, the live file and every status land in the
    directory dock was started in, while dock itself sits in "/"."""
    name = f"app-{uuid.uuid4().hex[:8]}.log"
    status = f"status-{uuid.uuid4().hex[:8]}.json"
    mark = uuid.uuid4().hex
    p = subprocess.Popen([str(DOCK), "--io", name, "--log-rotate", "1s", "--log-max-size", "4k",
                          "--status-file", status, "--"] + _numbered_writer(1000, 0.15),
                         cwd=tmp_path, env={"PATH": PATH, MARK: mark},
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_cwd(p.pid, "/")
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        kill_marked(mark)
    assert p.returncode == 0, err
    assert err == b"", err
    archives = sorted(n for n in os.listdir(tmp_path) if n.startswith(name + "_"))
    assert len(archives) >= 3, os.listdir(tmp_path)
    assert all(n.endswith(".gz") for n in archives), archives
    data = b"".join(gzip.decompress((tmp_path / n).read_bytes()) for n in archives)
    data += (tmp_path / name).read_bytes()
    assert data == b"".join(b"line %d\n" % i for i in range(1, 1001))
    doc = (tmp_path / status).read_text()
    assert re.search(r'"status":"(stopped|crashed)"', doc), doc
    assert not Path("/" + name).exists() and not Path("/" + status).exists()


def test_relative_io_file_of_a_subdirectory(tmp_path):
    (tmp_path / "logs").mkdir()
    res = subprocess.run([str(DOCK), "--io", "file://logs/out.log", "--log-max-size", "1k", "sh", "-c",
                          "i=0; while [ $i -lt 100 ]; do echo line $i xxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done"],
                         cwd=tmp_path, env={"PATH": PATH}, capture_output=True, timeout=20,
                         stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stderr
    names = os.listdir(tmp_path / "logs")
    assert "out.log" in names and len(names) >= 3, names


# --------------------------------------------------------------------------
# an https hook whose CA is a relative SSL_CERT_FILE: the store is read at the
# first TLS session, which may come after dock left its directory


class HttpsHook:
    def __init__(self, cert, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.bodies = []
        self.errors = []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            c.settimeout(5)
            try:
                s = self.ctx.wrap_socket(c, server_side=True)
                buf = b""
                while b"\r\n\r\n" not in buf:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    buf += chunk
                head, _, body = buf.partition(b"\r\n\r\n")
                m = re.search(rb"(?i)content-length: *(\d+)", head)
                need = int(m.group(1)) if m else 0
                while len(body) < need:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    body += chunk
                self.bodies.append(body.decode())
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                s.close()
            except (ssl.SSLError, OSError) as e:
                self.errors.append(repr(e))
                c.close()

    def close(self):
        self.stop.set()
        self.t.join(5)
        self.sock.close()


def test_relative_ssl_cert_file_for_an_https_hook(tls_certs, tmp_path):
    hook = HttpsHook(*tls_certs["good"])
    try:
        certs_dir = Path(tls_certs["dir"])
        res = subprocess.run([str(DOCK), "--web-hook", f"https://127.0.0.1:{hook.port}/h",
                              "sh", "-c", "sleep 0.3"],
                             cwd=certs_dir, env={"PATH": PATH, "SSL_CERT_FILE": "ca.pem",
                                                 "SSL_CERT_DIR": ""},
                             capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    finally:
        hook.close()
    assert res.returncode == 0, res.stderr
    assert res.stderr == "", res.stderr
    statuses = [re.search(r'"status":"(\w+)"', b).group(1) for b in hook.bodies]
    assert statuses and statuses[-1] in ("stopped", "crashed"), (statuses, hook.errors)
    assert "running" in statuses, (statuses, hook.errors)
