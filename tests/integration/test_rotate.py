"""Log rotation of a file --io (SPEC: Log rotation; issue 4).

A numbered writer (Debian's python3) writes "line N" lines while dock rotates
the file every second or past a size. Whatever happens, the lines found in
the archives (gunzipped, in name order) followed by the live file must be
the lines written, each exactly once, in order, and no archive may hold a
partial line. Plain mode only: rotation is about files, not about PID 1.
"""

import gzip
import os
import re
import stat
import subprocess
import time
from pathlib import Path

import pytest

from conftest import DOCK, PATH, dock_plain
from conftest import wait_for

PY = "/usr/bin/python3"

# Writes "line N" for N = 1..count, `burst` lines per write(2), sleeping
# `pause` seconds between bursts; prints nothing else.
WRITER = r"""
import os, sys, time
count, burst, pause = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
n = 0
while n < count:
    k = min(burst, count - n)
    os.write(1, b"".join(b"line %d\n" % i for i in range(n + 1, n + k + 1)))
    n += k
    if pause:
        time.sleep(pause)  # the writer's pace (scenario)
"""

ARCHIVE = re.compile(r"^(?P<base>.+)_(?P<stamp>\d{14})(?:_(?P<seq>\d\d))?(?P<ext>\.gz)?$")


def writer(count, burst, pause):
    return [PY, "-c", WRITER, str(count), str(burst), str(pause)]


def archives(d, base="app.log"):
    """Archive names of base in d, in name order (which is rotation order)."""
    out = []
    for name in os.listdir(d):
        m = ARCHIVE.match(name)
        if m and m.group("base") == base:
            out.append(name)
    return sorted(out)


def read_archive(path):
    data = Path(path).read_bytes()
    return gzip.decompress(data) if str(path).endswith(".gz") else data


def all_content(d, base="app.log"):
    """(list of archive contents in order, live file content)."""
    parts = [read_archive(Path(d) / a) for a in archives(d, base)]
    live = (Path(d) / base).read_bytes() if (Path(d) / base).exists() else b""
    return parts, live


def numbers(data):
    lines = data.split(b"\n")
    assert lines[-1] == b"", "content does not end with a complete line"
    out = []
    for ln in lines[:-1]:
        m = re.fullmatch(rb"line (\d+)", ln)
        assert m, f"malformed line {ln[:80]!r}"
        out.append(int(m.group(1)))
    return out


def leftovers(d):
    return [n for n in os.listdir(d) if n.endswith(".raw") or n.endswith(".tmp")]


def run_dock(args, timeout=60):
    env = {"PATH": PATH}
    return subprocess.run([str(DOCK)] + args, capture_output=True, text=True, timeout=timeout,
                          env=env, stdin=subprocess.DEVNULL)


def dock_lines(stderr):
    return [ln for ln in stderr.splitlines() if ln.startswith("dock: ")]


# --------------------------------------------------------------------------


def test_every_line_once_in_order_across_periodic_rotations(tmp_path):
    log = tmp_path / "app.log"
    # ~4 s of output at ~200k lines/s in bursts: at least 3 rotations.
    res = run_dock(["--io", str(log), "--log-rotate", "1s", "--log-keep", "100"]
                   + writer(800000, 2000, 0.01))
    assert res.returncode == 0, res.stderr
    assert dock_lines(res.stderr) == [], res.stderr
    names = archives(tmp_path)
    assert len(names) >= 3, names
    assert all(n.endswith(".gz") for n in names), names
    parts, live = all_content(tmp_path)
    for name, p in zip(names, parts):
        assert p and p.endswith(b"\n"), f"{name} is empty or ends mid-line"
    assert numbers(b"".join(parts) + live) == list(range(1, 800001))
    assert leftovers(tmp_path) == []
    umask = os.umask(0)
    os.umask(umask)
    for n in names:
        assert (tmp_path / n).stat().st_mode & 0o777 == 0o666 & ~umask


def test_rotation_waits_for_the_end_of_a_line(tmp_path):
    """A line written in pieces, slower than the period, is never split."""
    log = tmp_path / "app.log"
    script = r"""
import os, time
for i in range(1, 5):
    os.write(1, b"begin %d " % i)
    time.sleep(0.7)  # half a line stays pending across rotation times (scenario)
    os.write(1, b"end %d\n" % i)
    time.sleep(0.7)  # scenario
"""
    res = run_dock(["--io", str(log), "--log-rotate", "1s"] + [PY, "-c", script])
    assert res.returncode == 0, res.stderr
    parts, live = all_content(tmp_path)
    assert len(parts) >= 2
    for p in parts:
        assert p.endswith(b"\n")
    assert b"".join(parts) + live == b"".join(b"begin %d end %d\n" % (i, i) for i in range(1, 5))


def test_keep_drops_the_oldest_and_leaves_other_files_alone(tmp_path):
    log = tmp_path / "app.log"
    foreign = ["app.log2_20200101000000.gz", "other.log_20200101000000.gz", "app.log.1"]
    for f in foreign:
        (tmp_path / f).write_bytes(b"not ours\n")
    res = run_dock(["--io", str(log), "--log-rotate", "1s", "--log-keep", "2"]
                   + writer(1000000, 2000, 0.01))
    assert res.returncode == 0, res.stderr
    names = archives(tmp_path)
    assert len(names) == 2, names
    for f in foreign:
        assert (tmp_path / f).read_bytes() == b"not ours\n", f
    # What is left is the newest output: a contiguous run that ends with the
    # last line, the oldest lines (in deleted archives) gone.
    parts, live = all_content(tmp_path)
    got = numbers(b"".join(parts) + live)
    assert got[0] > 1, "the oldest archives were not deleted"
    assert got == list(range(got[0], 1000001))


def test_size_rotation(tmp_path):
    log = tmp_path / "app.log"
    limit = 64 * 1024
    res = run_dock(["--io", str(log), "--log-max-size", "64k", "--log-keep", "1000"]
                   + writer(200000, 500, 0))
    assert res.returncode == 0, res.stderr
    names = archives(tmp_path)
    parts, live = all_content(tmp_path)
    total = sum(len(p) for p in parts) + len(live)
    assert len(names) >= total // (limit + 64), (len(names), total)
    for n, p in zip(names, parts):
        # Past the limit up to the next line end: a line at most beyond it.
        assert limit <= len(p) <= limit + 64, (n, len(p))
    assert len(live) <= limit + 64
    assert numbers(b"".join(parts) + live) == list(range(1, 200001))


def test_two_rotations_in_one_second_do_not_collide(tmp_path):
    log = tmp_path / "app.log"
    res = run_dock(["--io", str(log), "--log-max-size", "1k", "--log-keep", "1000"]
                   + writer(3000, 100, 0))
    assert res.returncode == 0, res.stderr
    names = archives(tmp_path)
    assert len(names) >= 10, names
    seqs = [ARCHIVE.match(n).group("seq") for n in names]
    assert any(s is not None for s in seqs), f"no sequence suffix in {names}"
    # Name order is rotation order.
    parts, live = all_content(tmp_path)
    assert numbers(b"".join(parts) + live) == list(range(1, 3001))


def test_uncompressed_leftovers_are_compressed_by_the_next_run(tmp_path):
    """A flat-out writer and a small limit: rotations may outrun compression
    (then content is kept uncompressed, BASE_STAMP), and dock's exit drain is
    bounded; either way every line is kept, and the next start of dock
    compresses whatever was left uncompressed."""
    log = tmp_path / "app.log"
    res = run_dock(["--io", str(log), "--log-max-size", "256k", "--log-keep", "1000"]
                   + writer(2000000, 5000, 0))
    assert res.returncode == 0, res.stderr
    assert leftovers(tmp_path) == []
    parts, live = all_content(tmp_path)
    assert numbers(b"".join(parts) + live) == list(range(1, 2000001))
    # Leave some content uncompressed by hand, as a cut-short exit would.
    names = [n for n in archives(tmp_path) if n.endswith(".gz")]
    for n in names[-3:]:
        (tmp_path / n[:-3]).write_bytes(gzip.decompress((tmp_path / n).read_bytes()))
        (tmp_path / n).unlink()
    res = run_dock(["--io", str(log), "--log-max-size", "256k", "--log-keep", "1000", "true"])
    assert res.returncode == 0, res.stderr
    assert all(n.endswith(".gz") for n in archives(tmp_path)), archives(tmp_path)
    assert leftovers(tmp_path) == []
    parts, live = all_content(tmp_path)
    assert numbers(b"".join(parts) + live) == list(range(1, 2000001))


def test_content_of_a_removed_directory_is_archived_when_it_returns(tmp_path):
    """The directory vanishes: one warning, the command goes on, and at a
    later period (once it exists again) rotation resumes; the content written
    meanwhile went on into the open file and is archived then."""
    d = tmp_path / "logs"
    d.mkdir()
    log = d / "app.log"
    proc = subprocess.Popen([str(DOCK), "--io", str(log), "--log-rotate", "1s", "--log-keep", "100"]
                            + writer(800, 2, 0.02),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={"PATH": PATH}, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: any(a.endswith(".gz") for a in archives(d)) and not leftovers(d), what="a first archive")
        for n in os.listdir(d):
            os.unlink(d / n)
        d.rmdir()
        time.sleep(2.5)  # gone across two periods (scenario)
        d.mkdir()
        err = proc.communicate(timeout=30)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    warnings = [ln for ln in dock_lines(err) if "cannot rotate" in ln]
    assert len(warnings) == 1, err
    parts, live = all_content(d)
    got = numbers(b"".join(parts) + live)
    # Lines archived before the removal went with the directory; the rest
    # is all there, once, in order.
    assert got and got == list(range(got[0], 801)), got[:5]
    # (~100 lines a second: the 1 s rotation cuts near line 100, the removal
    # at 1.5 s comes near line 150; the rotation may land just past 100)
    assert got[0] < 140, "what was written while the directory was gone is lost"


@pytest.fixture
def readonly_dir(tmp_path):
    """A directory that refuses new names for a while. dock works through
    the directory's fd taken at start, so a read-only bind mount put over
    the path later would not touch it; the immutable attribute (chattr +i)
    makes the directory itself refuse renames and new files, even to root,
    while the files already open in it stay writable."""
    d = tmp_path / "logs"
    d.mkdir()
    flagged = []

    def make_ro():
        subprocess.run(["chattr", "+i", str(d)], check=True)
        flagged.append(d)

    def make_rw():
        subprocess.run(["chattr", "-i", str(d)], check=True)
        flagged.remove(d)

    if os.geteuid() != 0:
        pytest.skip("needs root for chattr +i")
    if subprocess.run(["chattr", "+i", str(d)], capture_output=True).returncode != 0:
        pytest.skip("the file system has no immutable attribute (chattr +i)")
    subprocess.run(["chattr", "-i", str(d)], check=True)
    yield d, make_ro, make_rw
    for m in flagged:
        subprocess.run(["chattr", "-i", str(m)])


def test_read_only_directory_warns_and_retries(readonly_dir):
    d, make_ro, make_rw = readonly_dir
    log = d / "app.log"
    proc = subprocess.Popen([str(DOCK), "--io", str(log), "--log-rotate", "1s", "--log-keep", "100"]
                            + writer(800, 2, 0.02),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={"PATH": PATH}, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: any(a.endswith(".gz") for a in archives(d)) and not leftovers(d), what="a first archive")
        make_ro()
        time.sleep(2.5)  # read-only across two periods (scenario)
        make_rw()
        err = proc.communicate(timeout=30)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    lines = dock_lines(err)
    assert len([ln for ln in lines if "cannot rotate" in ln]) == 1, err
    assert any("rotation works again" in ln for ln in lines), err
    parts, live = all_content(d)
    assert len(parts) >= 2
    assert numbers(b"".join(parts) + live) == list(range(1, 801))


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs")
    d = tmp_path / "small"
    d.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(d)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {res.stderr.strip()}")
    yield d
    subprocess.run(["umount", "-l", str(d)])


# Incompressible-ish numbered lines "NNNNNNNN <64 hex>": `count` of them as
# fast as possible, then after a pause (two periods) `tail` more.
HEX_WRITER = r"""
import os, sys, time
count, tail = int(sys.argv[1]), int(sys.argv[2])
def lines(a, b):
    return b"".join(b"%08d %s\n" % (i, os.urandom(32).hex().encode()) for i in range(a, b))
for i in range(1, count + 1, 200):
    os.write(1, lines(i, min(i + 200, count + 1)))
time.sleep(2.5)  # two periods without output (scenario)
os.write(1, lines(count + 1, count + tail + 1))
"""


def test_disk_full_drops_oldest_archives_then_output_and_never_blocks(small_disk):
    """The live file alone outgrows the 1 MB disk: the old archive goes
    first, then output is dropped with a warning saying how much; rotation
    and compression go on failing softly, and once a rotation frees room
    the newest lines are written again."""
    d = small_disk
    log = d / "app.log"
    (d / "app.log_20200101000000.gz").write_bytes(os.urandom(600 * 1024))
    (d / "other.log_20200101000000.gz").write_bytes(b"x" * 10000)
    count, tail = 40000, 100  # 40000 * 74 bytes: about 3 MB into a 1 MB disk
    t0 = time.monotonic()
    res = run_dock(["--io", str(log), "--log-rotate", "1s", "--log-keep", "5",
                    PY, "-c", HEX_WRITER, str(count), str(tail)], timeout=60)
    assert res.returncode == 0, res.stderr
    assert time.monotonic() - t0 < 30
    # The oldest archive of this log went to make room; another file's stays.
    assert not (d / "app.log_20200101000000.gz").exists()
    assert (d / "other.log_20200101000000.gz").read_bytes() == b"x" * 10000
    lines = dock_lines(res.stderr)
    assert any(re.search(r"\d+ bytes of output lost", ln) for ln in lines), res.stderr
    assert any("deleted" in ln and "archive" in ln for ln in lines), lines
    assert len(lines) <= 8, f"not one warning per episode: {lines}"
    # What survived is in order, each line at most once; at a loss a line
    # may have been cut, nothing else is malformed.
    parts, live = all_content(d)
    seen, bad = [], 0
    for ln in (b"".join(parts) + live).split(b"\n"):
        m = re.fullmatch(rb"(\d{8}) [0-9a-f]{64}", ln)
        if m:
            seen.append(int(m.group(1)))
        elif ln:
            bad += 1
    assert seen == sorted(set(seen)), "lines duplicated or out of order"
    assert bad <= 10
    assert len(seen) < count, "nothing was lost on a full disk?"
    # The newest lines made it: the disk-full state did not stick.
    assert seen[-tail:] == list(range(count + 1, count + tail + 1))
    assert [n for n in os.listdir(d) if n.endswith(".tmp")] == []


USAGE = [
    ["--log-rotate", "1s"],
    ["--log-max-size", "10M"],
    ["--io", "tcp://127.0.0.1:9", "--log-rotate", "1s"],
    ["--io", "udp://127.0.0.1:9", "--log-max-size", "1M"],
    ["--io", "FILE", "--log-rotate", "0"],
    ["--io", "FILE", "--log-rotate", "abc"],
    ["--io", "FILE", "--log-keep", "0"],
    ["--io", "FILE", "--log-max-size", "0"],
    ["--io", "FILE", "--log-max-size", "lots"],
]


@pytest.mark.parametrize("args", USAGE, ids=[" ".join(a) for a in USAGE])
def test_usage_errors(args, tmp_path):
    marker = tmp_path / "ran"
    args = [str(tmp_path / "app.log") if a == "FILE" else a for a in args]
    res = dock_plain(args + ["touch", str(marker)])
    assert res.returncode == 2, res.stderr
    assert len(res.stderr.splitlines()) == 1 and res.stderr.startswith("dock: ")
    assert not marker.exists()


def test_log_file_that_cannot_be_opened_is_exit_1(tmp_path):
    path = tmp_path / "missing" / "app.log"
    marker = tmp_path / "ran"
    res = dock_plain(["--io", str(path), "--log-rotate", "1s", "touch", str(marker)])
    assert res.returncode == 1, res.stderr
    assert str(path) in res.stderr
    assert not marker.exists()


# --------------------------------------------------------------------------
# modes: the shell's `>` for a new file; an existing file keeps its own; the
# archives take the live file's read/write bits, nothing else


def _umask(mask):
    def f():
        os.umask(mask)
    return f


@pytest.mark.parametrize("umask,existing,live,archive", [
    (0o022, None, 0o644, 0o644),
    (0o077, None, 0o600, 0o600),
    (0o022, 0o640, 0o640, 0o640),
    (0o077, 0o604, 0o604, 0o604),     # the umask narrows nothing dock copies
    (0o022, 0o6775, 0o775, 0o664),   # never setuid/setgid; archives never executable
])
def test_rotation_keeps_modes(tmp_path, umask, existing, live, archive):
    log = tmp_path / "app.log"
    if existing is not None:
        log.touch()
        os.chmod(log, existing)
    res = subprocess.run([str(DOCK), "--io", str(log), "--log-max-size", "1k"] + writer(300, 10, 0),
                         capture_output=True, text=True, timeout=60, env={"PATH": PATH},
                         stdin=subprocess.DEVNULL, preexec_fn=_umask(umask))
    assert res.returncode == 0, res.stderr
    assert dock_lines(res.stderr) == [], res.stderr
    names = archives(tmp_path)
    assert len(names) >= 2, names
    parts, tail = all_content(tmp_path)
    assert numbers(b"".join(parts) + tail) == list(range(1, 301))
    # the file that rotation created last stands in for every successor
    assert stat.S_IMODE(log.stat().st_mode) == live, oct(log.stat().st_mode)
    for n in names:
        got = stat.S_IMODE((tmp_path / n).stat().st_mode)
        assert got == archive, f"{n}: {oct(got)}"
