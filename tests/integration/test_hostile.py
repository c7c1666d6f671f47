"""Hostile files (issue 10): the files dock writes cannot be turned against it.

dock runs as root; the command runs as nobody (`setpriv --reuid=65534
--regid=65534 --clear-groups`) and owns the log directory and the status
file's directory. At every path dock touches (the live log, the hidden
rotation name `.app.log_STAMP.raw`, names an earlier run left, the
archive's temporary and final names, the status file's temporary name and
the status file) the test plants in turn:

  symlink    a symlink to a root-only file (the victim, 0600)
  hardlink   a hard link to the victim (planted by the test, root: the
             kernel's fs.protected_hardlinks keeps nobody from making one,
             so no sysctl is changed)
  fifo       a FIFO (an open of it for writing blocks without a reader)
  device     a character device node with /dev/zero's numbers (a read of it
             never ends)
  directory  a directory holding a file

For each: the victim is neither opened nor changed (inotify watches it, and
every planted FIFO and device node, for IN_OPEN/IN_ACCESS/IN_MODIFY), dock
exits in bound with the command's code, and every line the command wrote
(and every line a genuine leftover of an earlier run held) is in the live
file or the archives, once.

Plus: a reader of dock's stdout that goes away (`dock --stdout-prefix 'p: '
sh -c 'seq 1 1000000; exit 5' | head -2`, with and without the prefix), a
FIFO as --io, and --status-file naming a device (/dev/full), in the three
modes. Diagnostics quoting argv show no C1 control.
"""

import ctypes
import gzip
import json
import os
import re
import shutil
import stat
import struct
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import (CONTAINER_DOCK, DOCK, DOCK_IS_SANITIZED, MODES, PATH, dock_plain,
                      kill_marked, MARK)

SLOW = 3.0 if DOCK_IS_SANITIZED else 1.0
PY = "/usr/bin/python3"
NOBODY = 65534
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
SECRET = b"TOP SECRET: root only\n"
KINDS = ["symlink", "hardlink", "fifo", "device", "directory"]

# Writes n1 numbered lines, says so (SYNC/half), waits for SYNC/go, writes
# n2 more with short pauses (rotations happen in between), exits 7.
WRITER = r"""
import os, sys, time
sync, n1, n2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pad = b"x" * 40
for i in range(1, n1 + 1):
    os.write(1, b"line %d %s\n" % (i, pad))
open(os.path.join(sync, "half"), "w").close()
end = time.time() + 20
while not os.path.exists(os.path.join(sync, "go")) and time.time() < end:
    time.sleep(0.005)
for i in range(n1 + 1, n1 + n2 + 1):
    os.write(1, b"line %d %s\n" % (i, pad))
    if i % 25 == 0:
        time.sleep(0.01)
sys.exit(7)
"""
N1, N2 = 40, 300


# --------------------------------------------------------------------------
# inotify: was a file opened, read or written?

_libc = ctypes.CDLL(None, use_errno=True)
IN_ACCESS, IN_MODIFY, IN_OPEN = 0x1, 0x2, 0x20
IN_CREATE, IN_DELETE, IN_MOVED_TO = 0x100, 0x200, 0x80
IN_IGNORED = 0x8000


class Watch:
    """Records opens, reads and writes of the files it is given."""

    def __init__(self):
        self.fd = _libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, ctypes.get_errno()
        self.names = {}

    def add(self, path, mask=IN_OPEN | IN_ACCESS | IN_MODIFY):
        wd = _libc.inotify_add_watch(self.fd, os.fsencode(str(path)), mask)
        if wd < 0 and ctypes.get_errno() == 2:
            raise FileNotFoundError(path)  # removed at once (a race the test runs)
        assert wd >= 0, (path, ctypes.get_errno())
        self.names[wd] = str(path)
        return wd

    def remove(self, wd):
        _libc.inotify_rm_watch(self.fd, wd)
        self.names.pop(wd, None)

    def events(self):
        out = []
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            off = 0
            while off < len(buf):
                wd, mask, _cookie, ln = struct.unpack_from("iIII", buf, off)
                off += 16 + ln
                if not mask & IN_IGNORED:
                    out.append((self.names.get(wd, wd), hex(mask)))
        return out

    def close(self):
        os.close(self.fd)


# --------------------------------------------------------------------------
# a scene: a root-owned base with the victim, directories owned by nobody


class Scene:
    def __init__(self, base):
        self.base = Path(base)
        self.base.chmod(0o755)
        self.victim = self.base / "secret"
        self.victim.write_bytes(SECRET)
        self.victim.chmod(0o600)
        self.logs = self.base / "logs"
        self.sdir = self.base / "status"
        self.sync = self.base / "sync"
        for d in (self.logs, self.sdir, self.sync):
            d.mkdir()
            os.chown(d, NOBODY, NOBODY)
        self.log = self.logs / "app.log"
        self.status = self.sdir / "s.json"
        self.watch = Watch()
        self.watch.add(self.victim)
        self.planted = []          # (path, kind)

    def plant(self, path, kind):
        """Puts a `kind` at path (nothing may be there); watches what can be opened."""
        path = Path(path)
        wd = None
        if kind == "symlink":
            os.symlink(self.victim, path)
        elif kind == "hardlink":
            os.link(self.victim, path)
        elif kind == "fifo":
            os.mkfifo(path, 0o666)
            wd = self.watch.add(path)
        elif kind == "device":
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 5))
            wd = self.watch.add(path)
        elif kind == "directory":
            path.mkdir()
            (path / "keep").write_bytes(b"keep\n")
            wd = self.watch.add(path, IN_OPEN | IN_CREATE | IN_DELETE | IN_MOVED_TO)
        else:
            raise ValueError(kind)
        if wd is not None and not self._is(path, kind):
            # dock replaced it before the watch was set (by path): the
            # watch would be on dock's own file
            self.watch.remove(wd)
            raise FileNotFoundError(path)
        if kind != "hardlink":  # (the victim's inode: its owner stays root)
            os.lchown(path, NOBODY, NOBODY)
        self.planted.append((path, kind))

    @staticmethod
    def _is(path, kind):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return False
        return {"fifo": stat.S_ISFIFO, "device": stat.S_ISCHR, "directory": stat.S_ISDIR}[kind](st.st_mode)

    def still_planted(self, path, kind):
        """True when what was planted at path is there, as it was."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return False
        return {"symlink": stat.S_ISLNK(st.st_mode) and os.readlink(path) == str(self.victim),
                "hardlink": st.st_ino == os.stat(self.victim).st_ino,
                "fifo": stat.S_ISFIFO(st.st_mode),
                "device": stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 5),
                "directory": stat.S_ISDIR(st.st_mode) and os.listdir(path) == ["keep"]}[kind]

    def check_victim(self):
        ev = self.watch.events()
        assert ev == [], f"dock opened, read or wrote a planted file or the victim: {ev}"
        st = os.stat(self.victim)
        assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0
        assert self.victim.read_bytes() == SECRET

    def close(self):
        self.watch.close()


@pytest.fixture
def scene():
    base = tempfile.mkdtemp(prefix="dock-hostile-", dir="/tmp")
    s = Scene(base)
    yield s
    s.close()
    shutil.rmtree(base, ignore_errors=True)


ARCHIVE = re.compile(r"^app\.log_(\d{14})(?:_(\d\d))?(\.gz)?$")
RAW = re.compile(r"^\.app\.log_(\d{14})(?:_(\d\d))?\.raw$")


def content_lines(sc):
    """Every line in the live file and the archives (regular files only; the
    planted hard link, which is the victim, is not an archive), in name order."""
    victim_ino = os.stat(sc.victim).st_ino
    data = []
    names = sorted(n for n in os.listdir(sc.logs) if ARCHIVE.match(n))
    for n in names + ["app.log"]:
        p = sc.logs / n
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_ino == victim_ino:
            continue
        raw = p.read_bytes()
        if n.endswith(".gz"):
            raw = gzip.decompress(raw)
        assert SECRET not in raw, f"{n} holds the victim's content"
        data.append(raw)
    text = b"".join(data)
    assert text.endswith(b"\n") or text == b"", "a partial line"
    return [ln.decode() for ln in text.split(b"\n")[:-1]]


def expect_all_lines(sc, old=0):
    """The command's N1+N2 lines (after `old` lines an earlier run left),
    each once, in order."""
    got = content_lines(sc)
    want = [f"old {i}" for i in range(1, old + 1)] + [f"line {i} {'x' * 40}" for i in range(1, N1 + N2 + 1)]
    assert sorted(got) == sorted(want), (f"lines lost or doubled: {len(got)} lines, "
                                         f"missing {sorted(set(want) - set(got))[:5]}, "
                                         f"extra {sorted(set(got) - set(want))[:5]}")
    new = [ln for ln in got if ln.startswith("line ")]
    assert new == want[old:], "lines out of order"


def stamps_around(now, before=1, after=4):
    """YYYYmmddHHMMSS for the seconds around now, local time and UTC (the
    rotation names use dock's local time)."""
    out = set()
    for t in range(int(now) - before, int(now) + after + 1):
        out.add(time.strftime("%Y%m%d%H%M%S", time.localtime(t)))
        out.add(time.strftime("%Y%m%d%H%M%S", time.gmtime(t)))
    return sorted(out)


def start_dock(sc, mode_args=(), extra=()):
    argv = [str(DOCK), "--io", str(sc.log), "--log-max-size", "1k", "--log-keep", "1000",
            "--status-file", str(sc.status), *extra, "--",
            *AS_NOBODY, PY, "-c", WRITER, str(sc.sync), str(N1), str(N2)]
    mark = uuid.uuid4().hex
    proc = subprocess.Popen([*mode_args, *argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={"PATH": PATH, MARK: mark})
    proc.mark = mark
    return proc


def wait_file(path, proc, timeout=10.0):
    end = time.monotonic() + timeout * SLOW
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise AssertionError(f"dock ended before {path} appeared: {proc.communicate()}")
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.005)


def finish(proc, timeout=15.0):
    try:
        out, err = proc.communicate(timeout=timeout * SLOW)
    except subprocess.TimeoutExpired:
        proc.kill()
        kill_marked(proc.mark)  # first: a dock left behind (pidns) holds the pipes
        out, err = proc.communicate(timeout=10)
        raise AssertionError(f"dock did not exit within {timeout * SLOW}s; stderr {err!r}")
    return proc.returncode, err.decode(errors="replace")


def dock_warnings(err):
    return [ln for ln in err.splitlines() if ln.startswith("dock: ")]


# --------------------------------------------------------------------------
# what an earlier run of dock left (a genuine leftover: root's, one link)

OLD_KEY = "20200102000000"


def leave_genuine_leftover(sc, lines=10):
    raw = sc.logs / f".app.log_{OLD_KEY}.raw"
    raw.write_bytes(b"".join(b"old %d\n" % i for i in range(1, lines + 1)))
    raw.chmod(0o600)
    return lines


def plant_at_observed_raw(sc, kind, which, stop):
    """Best effort, the race an attacker would run: as soon as a rotation's
    hidden file shows up, plant at the archive name that will follow it."""
    seen = set()
    while not stop.is_set():
        for n in os.listdir(sc.logs):
            m = RAW.match(n)
            if m and n not in seen:
                seen.add(n)
                key = m.group(1) + (f"_{m.group(2)}" if m.group(2) else "")
                target = sc.logs / (f"app.log_{key}.gz.tmp" if which == "tmp" else f"app.log_{key}.gz")
                try:
                    sc.plant(target, kind)
                except (FileExistsError, FileNotFoundError):
                    pass
        time.sleep(0.001)


PLACES = ["live", "raw", "leftover", "archive-tmp", "archive", "status-tmp", "status"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_hostile_directory(scene, mode, place, kind):
    """(runc: not here. The files are the point, not PID 1, and the busybox
    rootfs has no setpriv that changes the user.)"""
    sc = scene
    old = 0
    # ---- plants made before dock starts
    if place == "leftover":
        sc.plant(sc.logs / "app.log_20200101000000", kind)
        sc.plant(sc.logs / ".app.log_20200101000001.raw", kind)
        sc.plant(sc.logs / "app.log_20200101000002.gz.tmp", kind)
    elif place in ("archive-tmp", "archive"):
        old = leave_genuine_leftover(sc)
        sc.plant(sc.logs / (f"app.log_{OLD_KEY}.gz.tmp" if place == "archive-tmp" else f"app.log_{OLD_KEY}.gz"),
                 kind)
    proc = start_dock(sc, ["unshare", "--pid", "--fork", "--mount-proc"] if mode == "pidns" else [])
    stop = threading.Event()
    racer = None
    try:
        if place in ("archive-tmp", "archive"):
            racer = threading.Thread(target=plant_at_observed_raw,
                                     args=(sc, kind, "tmp" if place == "archive-tmp" else "gz", stop),
                                     daemon=True)
            racer.start()
        wait_file(sc.sync / "half", proc)
        # ---- plants made while the command runs
        if place == "live":
            os.unlink(sc.log)
            sc.plant(sc.log, kind)
        elif place == "raw":
            # every hidden name the next rotations could take
            for st in stamps_around(time.time()):
                for seq in range(0, 4):
                    try:
                        sc.plant(sc.logs / (f".app.log_{st}" + (f"_{seq:02d}" if seq else "") + ".raw"), kind)
                    except FileExistsError:
                        pass
        elif place == "status-tmp":
            sc.plant(sc.sdir / "s.json.tmp", kind)
        elif place == "status":
            os.unlink(sc.status)
            sc.plant(sc.status, kind)
        (sc.sync / "go").touch()
        rc, err = finish(proc)
    finally:
        stop.set()
        if racer:
            racer.join(5)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            kill_marked(proc.mark)
    assert rc == 7, err
    sc.check_victim()
    expect_all_lines(sc, old)
    warnings = dock_warnings(err)
    # ---- what became of the plants
    if place == "live":
        # A name is all it loses, so dock takes the name back; a directory
        # holding something is left alone (dock wrote on into its open
        # file and archived it at exit).
        if kind == "directory":
            assert sc.still_planted(sc.log, kind)
            assert any("found a directory at the log file's name: left alone" in w for w in warnings), err
        else:
            assert not sc.still_planted(sc.log, kind)
            assert stat.S_ISREG(os.lstat(sc.log).st_mode)
            assert any("at the log file's name: removed it" in w for w in warnings), err
        assert len([w for w in warnings if "log file's name" in w]) == 1, err
    elif place in ("raw", "leftover"):
        for path, k in sc.planted:
            if place == "leftover" and path.name.endswith(".gz.tmp") and k != "directory":
                continue  # a stale temporary name: removed, whatever it was
            assert sc.still_planted(path, k), f"{path.name} was touched"
    elif place == "status":
        if kind == "hardlink":
            # a regular file: the rename takes the name, the file it shared is untouched
            assert json.loads(sc.status.read_text())["status"] == "crashed"
            assert os.stat(sc.victim).st_nlink == 1
        else:
            assert sc.still_planted(sc.status, kind)
            assert any("--status-file" in w and "not a regular file; left alone" in w for w in warnings), err
    elif place == "status-tmp":
        if kind == "directory":
            assert sc.still_planted(sc.sdir / "s.json.tmp", kind)
        else:
            assert json.loads(sc.status.read_text())["status"] == "crashed"
    if place not in ("status", "status-tmp"):
        assert json.loads(sc.status.read_text())["status"] == "crashed"
        assert not [w for w in warnings if "--status-file" in w], err


@pytest.mark.parametrize("kind", ["symlink", "fifo", "device", "directory"])
def test_status_file_not_regular_refused_at_start(scene, kind):
    sc = scene
    sc.plant(sc.status, kind)
    ran = sc.base / "ran"
    res = dock_plain(["--status-file", str(sc.status), "touch", str(ran)])
    assert res.returncode == 1, res
    want = {"symlink": "a symbolic link", "fifo": "a FIFO", "device": "a character device",
            "directory": "a directory"}[kind]
    assert res.stderr == f"dock: --status-file {sc.status}: is {want}, not a regular file\n"
    assert not ran.exists()
    sc.check_victim()
    assert sc.still_planted(sc.status, kind)


def test_status_file_hard_link_is_replaced_not_written(scene):
    """A hard link at PATH is a regular file: the rename replaces the name,
    and the file it shares stays as it was."""
    sc = scene
    sc.plant(sc.status, "hardlink")
    res = dock_plain(["--status-file", str(sc.status), "true"])
    assert res.returncode == 0, res
    assert json.loads(sc.status.read_text())["status"] in ("stopped", "crashed")
    assert os.stat(sc.victim).st_nlink == 1
    sc.check_victim()


@pytest.mark.parametrize("kind", ["symlink", "hardlink", "fifo", "device", "directory"])
def test_status_file_stale_temporary_at_start(scene, kind):
    """A stale PATH.tmp is removed, whatever it is, and made anew; only a
    directory holding something cannot be: exit 1, naming it."""
    sc = scene
    tmp = sc.sdir / "s.json.tmp"
    sc.plant(tmp, kind)
    res = dock_plain(["--status-file", str(sc.status), "true"])
    if kind == "directory":
        assert res.returncode == 1, res
        assert res.stderr.startswith(f"dock: --status-file {sc.status}: cannot write: {tmp} is a directory"), res
        sc.check_victim()
        assert sc.still_planted(tmp, kind)
    else:
        assert res.returncode == 0, res
        sc.check_victim()
        assert not tmp.exists() and not tmp.is_symlink()
        assert json.loads(sc.status.read_text())["status"] in ("stopped", "crashed")


@pytest.mark.parametrize("kind", ["symlink", "fifo", "device"])
def test_live_log_planted_before_start(scene, kind):
    """A symlink the command left at the log's path (a directory it can
    write) is not followed at the next start; a FIFO or device there is
    not opened for rotation (usage error) and a FIFO without a reader is
    not waited for."""
    sc = scene
    if kind == "symlink":
        sc.plant(sc.log, kind)
        for extra in ([], ["--log-max-size", "1k"]):
            res = dock_plain(["--io", str(sc.log), *extra, "echo", "hello"])
            assert res.returncode == 1, res
            assert res.stderr == f"dock: {sc.log}: a symbolic link owned by uid {NOBODY}: not followed\n"
    else:
        sc.plant(sc.log, kind)
        res = dock_plain(["--io", str(sc.log), "--log-max-size", "1k", "echo", "hello"])
        assert res.returncode == 2, res
        assert "--log-max-size: needs a regular file" in res.stderr
        if kind == "fifo":
            res = dock_plain(["--io", str(sc.log), "echo", "hello"], timeout=10 * SLOW)
            assert res.returncode == 1, res
            assert res.stderr == f"dock: {sc.log}: a FIFO with no reader\n"
    sc.check_victim()


@pytest.mark.parametrize("rotate", [True, False], ids=["rotate", "direct"])
def test_log_hard_link_refused_at_start(scene, rotate):
    """A second name of the log file may be a hard link to a file the
    command could not write: dock neither opens it nor hands it on."""
    sc = scene
    sc.plant(sc.log, "hardlink")
    extra = ["--log-max-size", "1k"] if rotate else []
    res = dock_plain(["--io", str(sc.log), *extra, "echo", "hello"])
    assert res.returncode == 1, res
    assert res.stderr == f"dock: {sc.log}: a file with 2 links: dock writes only a file with one name\n"
    sc.check_victim()


# --------------------------------------------------------------------------
# the three modes: a vanished reader, a FIFO --io, --status-file /dev/full


def mode_argv(mode, args, tmp, rootfs=None, runc_spec=None, detach=False):
    """The command line that runs dock ARGS in mode (as conftest's Dock does),
    and the runc container's name (or None). detach: `runc run --detach`,
    so the container gets runc's own stdio (without it runc copies the
    container's output through pipes of its own)."""
    if mode == "plain":
        return [str(DOCK), *args], None
    if mode == "pidns":
        return ["unshare", "--pid", "--fork", "--mount-proc", str(DOCK), *args], None
    name = f"dockhostile-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    bundle = Path(tmp) / name
    bundle.mkdir(parents=True)
    cfg = json.loads(json.dumps(runc_spec))
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = [CONTAINER_DOCK, *args]
    cfg["process"]["env"] = [f"PATH={PATH}"]
    cfg["root"] = {"path": str(rootfs), "readonly": False}
    (bundle / "config.json").write_text(json.dumps(cfg))
    return ["runc", "run", *(["--detach"] if detach else []), "--bundle", str(bundle), name], name


@pytest.fixture
def in_mode(request, tmp_path):
    """in_mode(mode) -> (argv builder, path translator, cleanup) for a mode;
    under runc the files live in the rootfs's /tmp."""
    containers, dirs = [], []

    def setup(mode):
        if mode == "runc":
            rootfs = request.getfixturevalue("rootfs")
            spec = request.getfixturevalue("runc_spec")
            inside = Path("/tmp") / f"hostile-{uuid.uuid4().hex[:8]}"
            host = Path(rootfs) / inside.relative_to("/")
            host.mkdir(parents=True)
            dirs.append(host)

            def argv(args, detach=False):
                a, name = mode_argv(mode, args, tmp_path, rootfs, spec, detach)
                containers.append(name)
                return a
            return argv, host, inside
        d = tmp_path / "files"
        d.mkdir(exist_ok=True)
        return (lambda args, detach=False: mode_argv(mode, args, tmp_path)[0]), d, d

    yield setup
    for name in containers:
        subprocess.run(["runc", "delete", "-f", name], capture_output=True)
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


def runc_wait_stopped(name, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        st = subprocess.run(["runc", "state", name], capture_output=True, text=True)
        if st.returncode != 0 or json.loads(st.stdout).get("status") == "stopped":
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("prefix", [True, False], ids=["prefix", "no-prefix"])
@pytest.mark.parametrize("mode", MODES)
def test_reader_gone_ends_the_writer(in_mode, mode, prefix):
    """`dock [--stdout-prefix 'p: '] sh -c 'seq 1 1000000; exit 5' | head -2`
    ends promptly with 5: the writer sees EPIPE (SIGPIPE) as it would
    writing to the pipe itself. Under runc the container is started
    detached, so that dock's stdout is the pipe to head itself, and dock's
    exit code is read from its --status-file."""
    argv, host, inside = in_mode(mode)
    args = (["--stdout-prefix", "p: "] if prefix else []) + ["--status-file", str(inside / "s.json"),
                                                             "sh", "-c", "seq 1 1000000; exit 5"]
    t0 = time.monotonic()
    cmd = argv(args, detach=True)
    dock = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={"PATH": PATH})
    head = subprocess.Popen(["head", "-2"], stdin=dock.stdout, stdout=subprocess.PIPE)
    dock.stdout.close()
    try:
        out = head.communicate(timeout=20 * SLOW)[0]
        rc = dock.wait(timeout=20 * SLOW)
    except subprocess.TimeoutExpired:
        dock.kill()
        head.kill()
        raise AssertionError("the pipeline never ended: the writer is blocked for good") from None
    if mode == "runc":
        assert rc == 0, dock.stderr.read()
        assert runc_wait_stopped(cmd[-1], 20 * SLOW), "the container never stopped: the writer is blocked"
        st = json.loads((host / "s.json").read_text())
        rc = st["exit_code"] if st["status"] == "crashed" else 0
    elapsed = time.monotonic() - t0
    err = dock.stderr.read().decode(errors="replace")
    assert out == (b"p: 1\np: 2\n" if prefix else b"1\n2\n")
    assert rc == 5, err
    assert elapsed < 10 * SLOW, elapsed
    # the ordinary end of a pipeline: nothing to warn about
    assert err == "", err


@pytest.mark.parametrize("mode", MODES)
def test_io_fifo_without_reader_is_exit_1(in_mode, mode):
    argv, host, inside = in_mode(mode)
    os.mkfifo(host / "out.fifo")
    res = subprocess.run(argv(["--io", str(inside / "out.fifo"), "echo", "hello"]), capture_output=True,
                         text=True, timeout=20 * SLOW, stdin=subprocess.DEVNULL, env={"PATH": PATH})
    assert res.returncode == 1, res
    assert res.stderr.splitlines()[-1] == f"dock: {inside / 'out.fifo'}: a FIFO with no reader", res


@pytest.mark.parametrize("prefix", [True, False], ids=["prefix", "no-prefix"])
@pytest.mark.parametrize("mode", MODES)
def test_io_fifo_with_reader_works(in_mode, mode, prefix):
    """A FIFO with a reader is an output like any other, more than a pipe's
    capacity of it included."""
    argv, host, inside = in_mode(mode)
    fifo = host / "out.fifo"
    os.mkfifo(fifo)
    # O_RDWR: the read end exists before dock opens the FIFO (it never sees
    # EOF, so the reader stops at the last line).
    rfd = os.open(fifo, os.O_RDWR)
    got = bytearray()

    def reader():
        while not got.endswith(b"end\n"):
            chunk = os.read(rfd, 1 << 16)
            if not chunk:
                break
            got.extend(chunk)
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    args = (["--stdout-prefix", "p: "] if prefix else []) + [
        "--io", str(inside / "out.fifo"), "sh", "-c", "seq 1 20000; echo end; exit 3"]
    try:
        res = subprocess.run(argv(args), capture_output=True, text=True, timeout=30 * SLOW,
                             stdin=subprocess.DEVNULL, env={"PATH": PATH})
        t.join(10 * SLOW)
    finally:
        os.close(rfd)
    assert res.returncode == 3, res
    p = "p: " if prefix else ""
    lines = got.decode().splitlines()
    assert lines == [f"{p}{i}" for i in range(1, 20001)] + [f"{p}end"]


@pytest.mark.parametrize("mode", MODES)
def test_status_file_device_is_refused(in_mode, mode):
    """--status-file naming a device node: exit 1 naming it, the node left as
    it was. Under runc the container's own /dev/full (a private /dev);
    elsewhere a node with its numbers, so the host's /dev/full is never at
    risk even from a broken dock."""
    argv, host, inside = in_mode(mode)
    if mode == "runc":
        path = "/dev/full"
        marker_host, marker = host / "ran", inside / "ran"
        check = None
    else:
        node = host / "full"
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 7))
        path = str(node)
        marker_host = marker = host / "ran"
        check = node
    res = subprocess.run(argv(["--status-file", path, "touch", str(marker)]), capture_output=True, text=True,
                         timeout=20 * SLOW, stdin=subprocess.DEVNULL, env={"PATH": PATH})
    assert res.returncode == 1, res
    assert res.stderr.splitlines()[-1] == f"dock: --status-file {path}: is a character device, not a regular file"
    assert not marker_host.exists()
    if check is not None:
        st = os.lstat(check)
        assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 7)


def test_status_file_directory_named(tmp_path):
    res = dock_plain(["--status-file", str(tmp_path), "true"])
    assert res.returncode == 1
    assert res.stderr == f"dock: --status-file {tmp_path}: is a directory, not a regular file\n"


# --------------------------------------------------------------------------
# diagnostics: no C0 or C1 control reaches stderr


@pytest.mark.parametrize("how", ["argv", "env"])
def test_diagnostics_show_no_control_characters(tmp_path, how):
    """C0 (tab included), DEL, raw C1 bytes and U+0080-U+009F in UTF-8 from
    argv or the environment: each shown as '?'."""
    bad = b"x\x9b31m\xc2\x9b32m\x1b[33m\ty\x7f\xc3\xa9"
    path = os.fsencode(str(tmp_path / "nope")) + b"/" + bad
    if how == "argv":
        res = subprocess.run([os.fsencode(str(DOCK)), b"--status-file", path, b"true"], capture_output=True,
                             timeout=10, env={"PATH": PATH}, stdin=subprocess.DEVNULL)
    else:
        res = subprocess.run([str(DOCK), "true"], capture_output=True, timeout=10,
                             env={b"PATH": PATH.encode(), b"DOCK_STATUS_FILE": path}, stdin=subprocess.DEVNULL)
    assert res.returncode == 1
    err = res.stderr
    assert err.endswith(b"\n") and err.count(b"\n") == 1, err
    body = err[:-1]
    assert b"x?31m?32m?[33m?y?\xc3\xa9" in body, err  # other UTF-8 (\xc3\xa9) kept
    assert not any(b < 0x20 or b == 0x7f or 0x80 <= b <= 0x9f for b in body.replace(b"\xc3\xa9", b"")), err


@pytest.mark.parametrize("prefix", [True, False], ids=["prefix", "no-prefix"])
@pytest.mark.parametrize("target", ["/dev/stdout", "/dev/null"])
def test_io_device_targets_work(target, prefix):
    """--io opens its file non-blocking, yet /dev/stdout (a link to dock's
    own stdout, here a pipe) and /dev/null are outputs as before; rotating
    them is a usage error."""
    args = (["--stdout-prefix", "p: "] if prefix else []) + ["--io", target, "sh", "-c", "echo hi; exit 4"]
    res = dock_plain(args)
    assert res.returncode == 4, res
    assert res.stdout == ("" if target == "/dev/null" else ("p: hi\n" if prefix else "hi\n"))
    res = dock_plain(["--io", target, "--log-rotate", "1h", "true"])
    assert res.returncode == 2, res
    assert res.stderr.startswith("dock: --log-rotate: needs a regular file; --io " + target), res
