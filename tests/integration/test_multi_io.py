"""Several --io destinations at once, --log-timestamps and --stderr-prefix
(issue 14), against real peers (the ones of test_io.py) and real files.

Every destination must get every line of the streams it takes, whole and in
order: files and dock's own stdout/stderr ("-") never lose one (a slow one
slows the command), a network peer that does not keep up loses whole lines,
counted, and never slows the others. With an interactive peer the command's
output comes from a terminal, which turns "\\n" into "\\r\\n" for every
destination (as on any terminal); the expectations below include it.
"""

import calendar
import hashlib
import os
import re
import select
import signal
import stat
import subprocess
import threading
import time
import uuid

import psutil
import pytest

from conftest import DOCK, MARK, MODES, PATH, ROOT, helper, kill_marked
from test_io import (DgramPeer, StreamPeer, dgram_peers, dock, flood_bytes, one_dock_line,  # noqa: F401
                     peers, pfx, sh_marker, short_tmp, _container_path)
from test_rotate import PY, all_content, archives, numbers, writer

STAMP = rb"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z "


def flood_line(i):
    """Line i of helpers/flood.c, without its newline."""
    return b"%09d %s" % (i, bytes([97 + i % 26]) * 89)


def in_order(steps, log=None, exit_code=0):
    """A command writing each (fd, text) of steps in turn (text as printf's
    format). With log, each step first waits until the text of the one
    before is in log: the order of stdout and stderr lines there is then
    the order written, however late dock reads its two pipes."""
    parts = []
    for i, (fd, text) in enumerate(steps):
        if i and log is not None:
            seen = steps[i - 1][1].replace("\\n", "").strip()
            parts.append(f"until grep -qF -- '{seen}' '{log}'; do sleep 0.01; done")
        parts.append(f"printf '{text}' >&{fd}")
    return ["sh", "-c", "; ".join(parts) + f"; exit {exit_code}"]


def stamp_seconds(m):
    """Seconds since the epoch of a STAMP match."""
    y, mo, d, h, mi, s, ms = (int(g) for g in m.groups()[:7])
    return calendar.timegm((y, mo, d, h, mi, s)) + ms / 1000


class DgramReader:
    """Reads a DgramPeer's datagrams in a thread while dock sends them (a burst
    of small datagrams overflows any receive buffer read only afterwards)."""

    def __init__(self, peer):
        self.peer = peer
        self.got = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            r, _, _ = select.select([self.peer.sock], [], [], 0.05)
            if r:
                self.got.append(self.peer.sock.recv(1 << 17))

    def finish(self, quiet=0.3):
        """Every datagram, once none came for `quiet` seconds."""
        n = -1
        while n != len(self.got):
            n = len(self.got)
            time.sleep(quiet)
        self._stop.set()
        self._t.join(5)
        return self.got


def start(args, env=None, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=None):
    mark = uuid.uuid4().hex
    e = {"PATH": PATH, MARK: mark}
    e.update(env or {})
    p = subprocess.Popen([str(DOCK)] + [str(a) for a in args], env=e, stdin=stdin, stdout=stdout,
                         stderr=subprocess.PIPE, cwd=cwd)
    p.mark = mark
    return p


def stop(p):
    if p.poll() is None:
        p.kill()
    p.wait()
    kill_marked(p.mark)


def dock_rss(pid):
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.NoSuchProcess:
        return 0


# --------------------------------------------------------------------------
# every line, once, in order, in every destination, across rotations


@pytest.mark.parametrize("dests", ["file,-", "file,tcp", "file,udp,-"])
def test_every_line_once_in_order_in_each_destination(tmp_path, peers, dgram_peers, dests):
    """~30,000 lines over ~3 s while the file rotates every second."""
    count = 30000
    log = tmp_path / "app.log"
    args, env, peer, reader = ["--io", log, "--log-rotate", "1s", "--log-keep", "100"], {}, None, None
    for d in dests.split(",")[1:]:
        if d == "-":
            args += ["--io", "-"]
        elif d == "tcp":
            peer, url, env = peers("tcp")
            args += ["--io", url]
        else:
            udp, url = dgram_peers("udp")
            reader = DgramReader(udp)
            args += ["--io", url]
    res = dock(args + writer(count, 100, 0.01), env=env, timeout=60)
    assert res.returncode == 0, res
    assert b"dock:" not in res.stderr, res
    want = b"".join(b"line %d\n" % i for i in range(1, count + 1))
    parts, live = all_content(tmp_path)
    assert len(parts) >= 2, archives(tmp_path)
    for p in parts:
        assert p.endswith(b"\n"), "an archive ends mid-line"
    text = b"".join(parts) + live
    if peer is not None:  # a terminal's output: \r\n everywhere
        text = text.replace(b"\r\n", b"\n")
        assert peer.wait_eof(10).replace(b"\r\n", b"\n") == want
    assert numbers(text) == list(range(1, count + 1))
    if "-" in dests:
        assert res.stdout == want
    if reader is not None:
        assert reader.finish() == [b"line %d" % i for i in range(1, count + 1)]


def test_two_files_rotate_each_on_its_own(tmp_path):
    """Each file is rotated with the same settings, its archives beside it
    and named after it."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = tmp_path / "a" / "one.log", tmp_path / "b" / "two.log"
    count = 20000
    res = dock(["--io", a, "--io", b, "--log-rotate", "1s", "--log-keep", "100"] + writer(count, 100, 0.01),
               timeout=60)
    assert res.returncode == 0, res
    for f in (a, b):
        parts, live = all_content(f.parent, f.name)
        assert len(parts) >= 2, archives(f.parent, f.name)
        assert numbers(b"".join(parts) + live) == list(range(1, count + 1))
        assert sorted(os.listdir(f.parent)) == sorted(archives(f.parent, f.name) + [f.name])


def test_fast_writer_50mb_through_two_destinations_arrives_whole(tmp_path, io_helpers):
    lines = 524288  # 100-byte lines: 50 MiB
    log, out = tmp_path / "big.log", tmp_path / "big.out"
    with open(out, "wb") as f:
        res = dock(["--io", log, "--io", "-", io_helpers["flood"], str(lines)], stdout=f, timeout=60)
    assert res.returncode == 0, res
    want = hashlib.sha256(flood_bytes(lines)).hexdigest()
    for path in (log, out):
        got = path.read_bytes()
        assert len(got) == lines * 100, f"{path.name}: {len(got)} bytes"
        assert hashlib.sha256(got).hexdigest() == want, path.name


def test_file_and_stdio_keep_the_streams_apart(tmp_path):
    """'-' is dock's own stdout and stderr, each stream to its own; the file
    gets both, each line whole."""
    log = tmp_path / "app.log"
    res = dock(["--io", "-", "--io", log] +
               in_order([(1, "o1\\n"), (2, "e1\\n"), (1, "o2\\n"), (2, "e2")], log))
    assert res.returncode == 0, res
    assert res.stdout == b"o1\no2\n", res
    assert res.stderr == b"e1\ne2", res
    assert log.read_bytes() == b"o1\ne1\no2\ne2"


def test_dash_alone_is_docks_own_streams_and_dot_slash_dash_a_file(tmp_path):
    out = tmp_path / "out"
    with open(out, "wb") as f:
        res = dock(["--io", "-", "sh", "-c", "readlink /proc/self/fd/1; echo e >&2"], stdout=f)
    assert res.returncode == 0, res
    assert out.read_text() == f"{out}\n", "'-' alone must be inherited, not copied"
    assert res.stderr == b"e\n"
    res = subprocess.run([str(DOCK), "--io", "./-", "echo", "x"], cwd=tmp_path, env={"PATH": PATH},
                         capture_output=True, timeout=10)
    assert res.returncode == 0 and (tmp_path / "-").read_bytes() == b"x\n", res


@pytest.mark.parametrize("how", ["flag", "env"])
def test_dock_io_takes_several_values(tmp_path, how):
    log = tmp_path / "app.log"
    if how == "env":
        res = dock(["sh", "-c", "echo out; echo err >&2"], env={"DOCK_IO": f"- {log}"})
    else:
        res = dock(["--io", "-", "--io", f"file://{log}", "sh", "-c", "echo out; echo err >&2"])
    assert res.returncode == 0, res
    assert (res.stdout, res.stderr) == (b"out\n", b"err\n"), res
    assert log.read_bytes() == b"out\nerr\n"


@pytest.mark.parametrize("also", [[], ["--io", "-"], ["--log-rotate", "1h"]])
def test_file_url_of_a_path_that_looks_like_a_url(tmp_path, also):
    """With a directory named 'tcp:', file://tcp://x:1 is the relative path
    tcp://x:1, that is the file x:1 in it; parsed once, never taken for a
    tcp URL downstream."""
    (tmp_path / "tcp:").mkdir()
    res = subprocess.run([str(DOCK), "--io", "file://tcp://x:1"] + also + ["echo", "hi"], cwd=tmp_path,
                         env={"PATH": PATH}, capture_output=True, timeout=10)
    assert res.returncode == 0, res
    assert (tmp_path / "tcp:" / "x:1").read_bytes() == b"hi\n"
    assert res.stdout == (b"hi\n" if also == ["--io", "-"] else b"")


def test_two_names_of_one_file_is_an_error(tmp_path):
    marker = tmp_path / "started"
    res = dock(["--io", tmp_path / "a.log", "--io", f"{tmp_path}/./a.log"] + sh_marker(marker))
    assert res.returncode == 1, res
    line = one_dock_line(res)
    assert "the same file" in line and "a.log" in line, line
    assert not marker.exists()


@pytest.mark.parametrize("dests", ["-,file,udp", "file,tcp"])
def test_command_sees_only_fds_0_1_2(tmp_path, peers, dgram_peers, dests):
    log = tmp_path / "out.log"
    args, env, peer = [], {}, None
    for d in dests.split(","):
        if d == "file":
            args += ["--io", log]
        elif d == "tcp":
            peer, url, env = peers("tcp")
            args += ["--io", url]
        elif d == "udp":
            args += ["--io", dgram_peers("udp")[1]]
        else:
            args += ["--io", d]
    res = dock(args + [helper("inspect")], env=env)
    assert res.returncode == 0, res
    if peer is not None:
        peer.wait_eof(5)
    m = re.search(r"^fds( .*)?$", log.read_text().replace("\r\n", "\n"), re.M)
    assert m and m.group(0) == "fds 0 1 2", f"the command inherited extra descriptors: {m and m.group(0)!r}"


# --------------------------------------------------------------------------
# back-pressure: a network peer that stops reading


def test_stalled_tcp_peer_drops_whole_lines_and_never_holds_the_file_back(tmp_path, peers, io_helpers):
    """The peer accepts and never reads: the file still gets all 20 MB at
    once (the command is never blocked), dock's memory stays bounded, the
    peer gets whole lines in order, and the lines it missed are counted in
    one warning."""
    lines = 200_000
    log = tmp_path / "app.log"
    peer, url, env = peers("tcp", paused=True)
    p = start(["--io", log, "--io", url, io_helpers["flood"], str(lines)], env=env)
    try:
        peer.wait_accepted()
        base = dock_rss(p.pid)
        want = flood_bytes(lines, eol=b"\r\n")
        deadline, peak = time.monotonic() + 30, base
        while (not log.exists() or log.stat().st_size < len(want)) and time.monotonic() < deadline:
            peak = max(peak, dock_rss(p.pid))
            time.sleep(0.02)
        assert log.read_bytes() == want, "the file did not get everything while the peer stalled"
        assert peak - base < 4 << 20, f"dock's RSS grew by {(peak - base) / 1e6:.1f} MB"
        # dock waits at most 5 s for the peer once the command is gone
        assert p.wait(20) == 0
        err = p.stderr.read().decode()
        m = re.fullmatch(rf"dock: --io {re.escape(url)}: the destination did not keep up: (\d+) lines dropped\n", err)
        assert m, err
        dropped = int(m.group(1))
        peer.resume()
        got = peer.wait_eof(20).split(b"\r\n")
        # The line the kernel had half taken when dock gave up stays half.
        tail = got.pop()
        got_lines = [int(ln[:9]) for ln in got]
        for i, ln in zip(got_lines, got):
            assert ln == flood_line(i), f"line {i} is not whole"
        assert got_lines == sorted(set(got_lines)), "lines out of order or doubled"
        assert dropped > 0 and len(got) + dropped == lines, (len(got), dropped)
        assert len(tail) < 100
    finally:
        stop(p)


def test_stalled_datagram_receiver_drops_and_never_holds_the_others_back(tmp_path, short_tmp, io_helpers):
    """A unixgram receiver that never reads (its queue fills, sends would
    block): the file and dock's stdout still get everything."""
    lines = 100_000
    log, out = tmp_path / "app.log", tmp_path / "out"
    path = short_tmp / "g.sock"
    rx = DgramPeer(path=path)
    try:
        with open(out, "wb") as f:
            res = dock(["--io", log, "--io", f"unixgram://{path}", "--io", "-", io_helpers["flood"], str(lines)],
                       stdout=f, timeout=40)
        assert res.returncode == 0, res
        want = flood_bytes(lines)
        assert log.read_bytes() == want
        assert out.read_bytes() == want
        m = re.fullmatch(rb"dock: --io unixgram://\S+: the destination did not keep up: (\d+) lines dropped\n",
                         res.stderr)
        assert m, res
        got = rx.datagrams(quiet=0.1)
        assert got == [flood_line(int(g[:9])) for g in got]
        assert [int(g[:9]) for g in got] == sorted({int(g[:9]) for g in got})
        assert len(got) + int(m.group(1)) == lines
    finally:
        rx.close()


# --------------------------------------------------------------------------
# an interactive peer among the destinations


def test_interactive_shell_with_a_file_copy(run, peers, tmp_path):
    """The peer drives a shell (its pty, its stdin); the file gets a copy of
    the terminal's output; the peer's close hangs the shell up."""
    log = tmp_path / "session.log"
    peer, url, env = peers("tcp")
    d = run("plain", ["--io", log, "--io", url, "sh"], env=env)
    peer.wait_accepted()
    peer.send(b"echo hello-$((6*7))\n")
    peer.expect(rb"hello-42\r\n")
    peer.close()
    assert d.wait(10) == 128 + signal.SIGHUP
    assert b"hello-42\r\n" in log.read_bytes()


# --------------------------------------------------------------------------
# --stderr-prefix


@pytest.mark.parametrize("io", [[], ["--io", "FILE"], ["--io", "-", "--io", "FILE"]])
@pytest.mark.parametrize("no_color", [False, True])
def test_stderr_prefix(tmp_path, io, no_color):
    log = tmp_path / "app.log"
    args = ["--stdout-prefix", "O :green", "--stderr-prefix", "E :red"]
    args += [str(log) if a == "FILE" else a for a in io]
    steps = [(1, "o1\\n"), (2, "e1\\n"), (1, "o2\\n\\n")]
    res = dock(args + in_order(steps, log if "FILE" in io else None),
               env={"NO_COLOR": "1"} if no_color else {})
    assert res.returncode == 0, res
    o = pfx("O ") if no_color else pfx("O ", "green")
    e = pfx("E ") if no_color else pfx("E ", "red")
    if io == ["--io", "FILE"]:
        assert (res.stdout, res.stderr) == (b"", b"")
    else:
        assert res.stdout == o + b"o1\n" + o + b"o2\n" + o + b"\n", res
        assert res.stderr == e + b"e1\n", res
    if "FILE" in io:
        assert log.read_bytes() == o + b"o1\n" + e + b"e1\n" + o + b"o2\n" + o + b"\n"


def test_stderr_prefix_alone_leaves_stdout_as_it_is(tmp_path):
    log = tmp_path / "app.log"
    res = dock(["--stderr-prefix", "err: ", "--io", log] + in_order([(1, "a\\n"), (2, "b\\n")], log))
    assert res.returncode == 0, res
    assert log.read_bytes() == b"a\nerr: b\n"


def test_lines_of_stdout_and_stderr_never_share_a_line(tmp_path):
    """Both streams write partial lines into one file: every line of the file
    is one stream's. A stdout line left unfinished for longer than the hold
    (100 ms) is ended by dock so that stderr's line can go, and its rest is a
    line of its own (with its prefix again)."""
    log = tmp_path / "app.log"
    script = r"""
import os, time
for i in range(30):
    os.write(1, b"o%d-a " % i)
    os.write(2, b"e%d-a " % i)
    os.write(2, b"e%d-b\n" % i)
    os.write(1, b"o%d-b\n" % i)
os.write(1, b"long ")
time.sleep(0.5)
os.write(2, b"err\n")
time.sleep(0.3)
os.write(1, b"rest\n")
"""
    res = dock(["--stdout-prefix", "O ", "--stderr-prefix", "E ", "--io", log, PY, "-c", script])
    assert res.returncode == 0, res
    lines = log.read_text().splitlines()
    for line in lines:
        assert re.fullmatch(r"O (o\d+-[ab] ?)+|E (e\d+-[ab] ?)+|O long |E err|O rest", line), line
    # "long " waited 0.5 s for its end while "err" waited to go: dock ended it
    assert lines[-1] == "O rest" and lines.index("O long ") < lines.index("E err"), lines[-5:]
    o = "".join(l[2:] for l in lines if l.startswith("O o"))
    e = "".join(l[2:] for l in lines if l.startswith("E e") and l != "E err")
    assert o == "".join(f"o{i}-a o{i}-b" for i in range(30)), lines
    assert e == "".join(f"e{i}-a e{i}-b" for i in range(30)), lines


# --------------------------------------------------------------------------
# --log-timestamps

TIMED = r"""
import os, sys, time
for i in range(40):
    os.write(1, b"%.6f\n" % time.time())
    time.sleep(0.02)
"""


@pytest.mark.parametrize("io", [[], ["--io", "FILE"], ["--io", "FILE", "--io", "-"]])
def test_timestamps_are_monotonic_and_close_to_the_writers_clock(tmp_path, io):
    log = tmp_path / "app.log"
    args = ["--log-timestamps"] + [str(log) if a == "FILE" else a for a in io]
    res = dock(args + [PY, "-c", TIMED], timeout=30)
    assert res.returncode == 0, res
    outputs = []
    if "FILE" in io:
        outputs.append(log.read_bytes())
    if io != ["--io", "FILE"]:
        outputs.append(res.stdout)
    for data in outputs:
        lines = data.split(b"\n")
        assert lines.pop() == b""
        assert len(lines) == 40, data
        stamps, delays = [], []
        for ln in lines:
            m = re.fullmatch(STAMP + rb"(\d+\.\d+)", ln)
            assert m, ln
            stamps.append(stamp_seconds(m))
            delays.append(stamps[-1] - float(m.group(8)))
        assert stamps == sorted(stamps), "timestamps go backwards"
        # The stamp is the time dock read the line: never before the writer
        # wrote it (1 ms: the stamp is cut to milliseconds), and within 50 ms
        # after (all but a few: the machine may be loaded; none over 1 s).
        assert min(delays) > -0.0015, delays
        assert sorted(delays)[len(delays) * 9 // 10] < 0.05, delays
        assert max(delays) < 1.0, delays


@pytest.mark.parametrize("io", [["--io", "FILE"], ["--io", "FILE", "--io", "-"]])
def test_timestamp_of_a_partial_line_is_its_first_bytes(tmp_path, io):
    log = tmp_path / "app.log"
    args = ["--log-timestamps", "--stdout-prefix", "P "] + [str(log) if a == "FILE" else a for a in io]
    res = dock(args + ["sh", "-c", "printf par; sleep 1; echo tial; echo next"])
    assert res.returncode == 0, res
    m = re.fullmatch(STAMP + rb"P partial\n" + STAMP + rb"P next\n", log.read_bytes())
    assert m, log.read_bytes()
    first = stamp_seconds(re.match(STAMP, m.group(0)))
    second = stamp_seconds(re.match(STAMP, m.group(0)[m.group(0).index(b"\n") + 1:]))
    # 1 s apart as written; dock may read either late on a loaded machine
    assert second - first >= 0.5, (first, second)


def test_timestamps_and_datagrams(dgram_peers):
    peer, url = dgram_peers("udp")
    res = dock(["--log-timestamps", "--stdout-prefix", "P ", "--io", url, "sh", "-c", "echo a; echo b"])
    assert res.returncode == 0, res
    got = peer.datagrams()
    assert len(got) == 2 and all(re.fullmatch(STAMP + rb"P [ab]", g) for g in got), got


# --------------------------------------------------------------------------
# in every mode


@pytest.mark.parametrize("mode", MODES)
def test_file_and_stdio_in_mode(run, request, tmp_path, mode):
    rootfs_dir = request.getfixturevalue("rootfs") if mode == "runc" else None
    given, host = _container_path(mode, tmp_path, rootfs_dir, "multi.log")
    try:
        d = run(mode, ["--io", "-", "--io", given, "--stderr-prefix", "E ", "--log-timestamps"] +
                in_order([(1, "out\\n"), (2, "err\\n")], given, exit_code=3))
        rc, out, err = d.finish()
        assert rc == 3, (out, err)
        stamp = STAMP.decode()
        assert len(out) == 1 and re.fullmatch(stamp + "out", out[0]), out
        assert len(err) == 1 and re.fullmatch(stamp + "E err", err[0]), err
        assert re.fullmatch((stamp + "out\n" + stamp + "E err\n").encode(), host.read_bytes())
        # created as the shell's `>` would: 0666 less the umask (runc's is 022)
        umask = os.umask(0)
        os.umask(umask)
        assert stat.S_IMODE(host.stat().st_mode) == 0o666 & ~(0o022 if mode == "runc" else umask)
    finally:
        if mode == "runc":
            host.unlink(missing_ok=True)


# --------------------------------------------------------------------------
# usage errors


@pytest.mark.parametrize("args", [
    ["--io", "tcp://127.0.0.1:9", "--io", "unix:///tmp/dock-x.sock"],
    ["--io", "tls://localhost:9", "--io", "tcp://127.0.0.1:9"],
    ["--io", "-", "--io", "-"],
    ["--io", "/tmp/a.log", "--io", "file:///tmp/a.log"],
    ["--io", "udp://127.0.0.1:9", "--io", "udp://127.0.0.1:9"],
    ["--io", "tcp://127.0.0.1:9", "--stderr-prefix", "E "],
    ["--io", "-", "--log-rotate", "1s"],
    ["--io", "-", "--io", "udp://127.0.0.1:9", "--log-max-size", "1M"],
    ["--io", "-", "--io", "bogus://x"],
    ["--stderr-prefix", "x:bogus"],
    ["--stderr-prefix", ""],
    ["--log-timestamps=1"],
    ["--io", "a1", "--io", "a2", "--io", "a3", "--io", "a4", "--io", "a5", "--io", "a6", "--io", "a7",
     "--io", "a8", "--io", "a9"],
])
def test_usage_errors(tmp_path, args):
    marker = tmp_path / "started"
    res = dock(args + sh_marker(marker))
    assert res.returncode == 2, res
    line = one_dock_line(res)
    assert re.search(r"--(io|stderr-prefix|log-rotate|log-max-size|log-timestamps)", line), line
    assert not marker.exists()


@pytest.mark.parametrize("env", [{"DOCK_LOG_TIMESTAMPS": "maybe"}, {"DOCK_STDERR_PREFIX": "x:nocolour"},
                                 {"DOCK_IO": "tcp://127.0.0.1:9 unix:///tmp/x.sock"}])
def test_usage_errors_from_the_environment(tmp_path, env):
    marker = tmp_path / "started"
    res = dock(sh_marker(marker), env=env)
    assert res.returncode == 2, res
    line = one_dock_line(res)
    assert "DOCK_" in line or "--io" in line, line
    assert not marker.exists()


def test_secret_of_a_second_destination_never_printed(tmp_path):
    res = dock(["--io", "-", "--io", "tcp://127.0.0.1:1?token=s3cretpw", "true"])
    assert res.returncode != 0, res
    assert b"s3cretpw" not in res.stderr + res.stdout, res


# --------------------------------------------------------------------------
# the Kubernetes example keeps `kubectl logs` and a file on a volume


def test_kubernetes_example_keeps_kubectl_logs_and_a_file():
    yaml = pytest.importorskip("yaml")
    docs = [d for d in yaml.safe_load_all((ROOT / "examples" / "kubernetes.yaml").read_text()) if d]
    pod = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    app = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in app.get("env", [])}
    dests = env["DOCK_IO"].split()
    assert "-" in dests, "kubectl logs would show nothing without '-'"
    files = [d for d in dests if d.startswith("/")]
    assert len(files) == 1, dests
    mounts = {m["mountPath"].rstrip("/"): m["name"] for m in app["volumeMounts"]}
    vol = next((name for path, name in mounts.items() if files[0].startswith(path + "/")), None)
    assert vol is not None, f"{files[0]} is not on a volume ({mounts})"
    assert any(v["name"] == vol for v in pod["volumes"])
    assert env.get("DOCK_LOG_ROTATE") and env.get("DOCK_LOG_TIMESTAMPS") in ("1", "true")
