#!/usr/bin/python3
"""Web hook latency: from a status change to its PUT arriving at the server.

The status change is the command's death: the benchmark sends SIGTERM to
dock at t0, dock forwards it to `sleep`, reaps it, reports "stopped", and
the hook server notes when that PUT's last byte arrives. The figure so
includes forwarding and reaping, which are microseconds; the rest is the
hook's own connect, send and the server's read. Run from the repository
root after `make`:

    /usr/bin/python3 bench/hook_latency.py [RUNS]
"""

import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCK = os.path.join(ROOT, "build", "dock")
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Server:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.arrivals = []      # (status, monotonic time of the full request)
        self.cond = threading.Condition()
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v)
            while len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
            t = time.monotonic()
            status = body.split(b'"status":"', 1)[1].split(b'"', 1)[0].decode()
            conn.sendall(OK)
            conn.close()
            with self.cond:
                self.arrivals.append((status, t))
                self.cond.notify_all()

    def wait_for(self, status, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for s, t in self.arrivals:
                    if s == status:
                        return t
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"no {status!r} PUT within {timeout}s")
                self.cond.wait(left)


def one_run(port):
    srv_url = f"http://127.0.0.1:{port}/bench"
    proc = subprocess.Popen([DOCK, "--web-hook", srv_url, "sleep", "60"],
                            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    lat_running, lat_stopped = [], []
    for _ in range(runs):
        srv = Server()
        t_start = time.monotonic()
        proc = one_run(srv.port)
        t_running = srv.wait_for("running")
        lat_running.append(t_running - t_start)
        time.sleep(0.02)
        t0 = time.monotonic()
        os.kill(proc.pid, signal.SIGTERM)
        t1 = srv.wait_for("stopped")
        lat_stopped.append(t1 - t0)
        proc.wait(timeout=10)
        err = proc.stderr.read().decode()
        if err:
            print(f"dock said: {err.strip()}", file=sys.stderr)
        srv.sock.close()

    def show(name, xs):
        xs = sorted(x * 1000 for x in xs)
        print(f"{name:44s} median {statistics.median(xs):6.2f} ms   "
              f"p90 {xs[int(len(xs) * 0.9) - 1]:6.2f} ms   max {xs[-1]:6.2f} ms   (n={len(xs)})")

    show("SIGTERM to dock -> 'stopped' PUT received", lat_stopped)
    show("dock started -> 'running' PUT received", lat_running)


if __name__ == "__main__":
    main()
