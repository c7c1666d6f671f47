"""The compressor of rotated logs runs in a helper process, off dock's loop.

What this holds: the tree shutdown neither waits for the helper nor kills it
(as PID 1 too), so the last archive is complete at exit; a helper killed
from outside leaves the content, with one warning, and the next start of
dock compresses it; a helper still running when the exit drain's 3 s are up
is killed and dock exits within that bound; neither the command nor the
helper holds an fd it should not.

The writer writes numbered lines of random hex ("NNNNNNNN <64 hex>"), which
deflate cannot shrink much, so compressing tens of MB takes a while; with
`-d` dock names the helper's pid ("compressing ... (pid N)").
"""

import gzip
import os
import re
import signal
import time

import psutil
import pytest

from conftest import dock_plain, slack, wait_for

PY = "/usr/bin/python3"

# Writes `mb` MB of numbered hex lines, then waits for the file `stop` to
# exist (if given), then exits.
WRITER = r"""
import os, sys, time
mb, stop = int(sys.argv[1]), sys.argv[2]
hexes = os.urandom(32 * 4096).hex().encode()
n, written = 0, 0
while written < mb * 1000 * 1000:
    chunk = b"".join(b"%08d %s\n" % (n + i, hexes[(i % 4096) * 64:(i % 4096) * 64 + 64])
                     for i in range(1, 4097))
    os.write(1, chunk)
    n += 4096
    written += len(chunk)
while stop and not os.path.exists(stop):
    time.sleep(0.01)  # waits for the test's go (an event: the file)
"""

COMPRESSING = r"compressing (\S+) \(pid (\d+)\)"


def writer(mb, stop=""):
    return [PY, "-c", WRITER, str(mb), str(stop)]


def archive_names(d):
    return sorted(n for n in os.listdir(d) if re.match(r"^app\.log_\d{14}(_\d\d)?(\.gz)?$", n))


def hidden(d):
    return sorted(n for n in os.listdir(d) if n.endswith(".raw") or n.endswith(".tmp"))


def numbers_in(d):
    """The line numbers of the archives (in name order) then the live file."""
    data = b""
    for name in archive_names(d):
        raw = (d / name).read_bytes()
        data += gzip.decompress(raw) if name.endswith(".gz") else raw
    data += (d / "app.log").read_bytes()
    assert data.endswith(b"\n"), "a partial line"
    return [int(line.split(b" ", 1)[0]) for line in data.splitlines()]


# With -d every line of dock's is stamped, warnings too: these are the
# words of the warnings a compression can give.
TROUBLE = re.compile(r"uncompressed|cut short|cannot|lost|SIGKILL|without finishing|compressed at the next")


def troubles(lines):
    return [ln for ln in lines if TROUBLE.search(ln)]


def fd_targets(pid):
    out = {}
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except FileNotFoundError:
        return out  # gone
    for fd in fds:
        try:
            out[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            pass
    return out


def next_start(log):
    """dock started again on the same log, with a command that lives until
    the recovered content's archive is there (or 60 s, scaled by the load):
    the recovery runs while dock does, and on a loaded machine a command
    that ends at once would leave it only the exit's 3 s."""
    bound = slack(60)
    script = ('i=0; while [ $i -lt %d ]; do for f in %s_*.gz; do [ -e "$f" ] && exit 0; done; '
              'sleep 0.05; i=$((i+1)); done; exit 1') % (int(bound / 0.05), log)
    return dock_plain(["--io", str(log), "--log-max-size", "30M", "/bin/sh", "-c", script],
                      timeout=bound + 30)


def gone(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_compressing(d):
    """(raw file name, helper pid) from dock's -d line."""
    m = d.err.expect(COMPRESSING, timeout=60)
    return m.group(1), int(m.group(2))


@pytest.mark.parametrize("mode", ["plain", "pidns"])
def test_shutdown_spares_the_compressor_and_the_last_archive_is_complete(mode, run, tmp_path):
    """The command ends while its last rotation is being compressed; the rest
    of the tree gets SIGKILL after 100 ms. The helper is not part of that
    tree: it finishes within the exit drain, and the archive is whole."""
    log = tmp_path / "app.log"
    d = run(mode, ["-d", "--kill-timeout", "100ms", "--io", str(log), "--log-max-size", "30M"]
            + writer(40))
    raw, _ = wait_compressing(d)
    rc, _, err = d.finish(timeout=30)
    assert rc == 0, err
    assert troubles(err) == [], err
    names = archive_names(tmp_path)
    assert len(names) == 1 and names[0].endswith(".gz"), (names, err)
    assert hidden(tmp_path) == [], err
    nums = numbers_in(tmp_path)
    assert nums == list(range(1, len(nums) + 1))


def test_killed_compressor_keeps_the_content_and_the_next_start_compresses_it(run, tmp_path):
    log, stop = tmp_path / "app.log", tmp_path / "stop"
    d = run("plain", ["-d", "--io", str(log), "--log-max-size", "30M"] + writer(40, stop))
    raw, helper = wait_compressing(d)
    # Stopped first, so that the kill surely lands mid-compression.
    os.kill(helper, signal.SIGSTOP)
    os.kill(helper, signal.SIGKILL)
    d.err.expect(r"compressor process ended without finishing; kept \S+ uncompressed", timeout=10)
    stop.touch()
    rc, _, err = d.finish(timeout=30)
    assert rc == 0, err
    assert len(troubles(err)) == 1, err
    names = archive_names(tmp_path)
    assert len(names) == 1 and not names[0].endswith(".gz"), names
    nums = numbers_in(tmp_path)
    assert nums == list(range(1, len(nums) + 1))

    # The next start compresses what was kept.
    res = next_start(log)
    assert res.returncode == 0, res.stderr
    assert [ln for ln in res.stderr.splitlines() if ln.startswith("dock: ")] == [], res.stderr
    names = archive_names(tmp_path)
    assert len(names) == 1 and names[0].endswith(".gz"), names
    assert hidden(tmp_path) == []
    assert numbers_in(tmp_path) == nums


def test_no_fd_leaks_into_the_command_or_the_compressor(run, tmp_path):
    log, stop = tmp_path / "app.log", tmp_path / "stop"
    d = run("plain", ["-d", "--io", str(log), "--log-max-size", "30M"] + writer(40, stop))
    raw, helper = wait_compressing(d)
    # Inspected once it has set itself up (closed what it inherited) and
    # is writing the archive; stopped so that it stays there.
    wait_for(lambda: any(t.endswith(".gz.tmp") for t in fd_targets(helper).values()),
             what="the compressor writing its archive", step=0.001)
    os.kill(helper, signal.SIGSTOP)
    try:
        children = [c.pid for c in psutil.Process(d.dock_pid).children()]
        command = [p for p in children if p != helper]
        assert len(command) == 1, children
        assert sorted(fd_targets(command[0])) == [0, 1, 2]
        fds = fd_targets(helper)
        extra = {fd: t for fd, t in fds.items() if fd > 2}
        pipes = [t for t in extra.values() if t.startswith("pipe:")]
        assert len(pipes) == 1, extra  # its report pipe, nothing of the command's
        assert str(log) not in extra.values(), extra  # not the live file
        allowed = {str(tmp_path), str(tmp_path / raw.rsplit("/", 1)[-1])}
        files = {t for t in extra.values() if not t.startswith("pipe:")}
        assert all(t in allowed or t.endswith(".gz.tmp") for t in files), extra
    finally:
        os.kill(helper, signal.SIGCONT)
    stop.touch()
    rc, _, err = d.finish(timeout=30)
    assert rc == 0, err


def test_compressor_still_running_at_exit_is_bounded(run, tmp_path):
    """A compressor that cannot finish (stopped here) holds the exit for the
    drain's 3 s at most; then it is killed, the content is kept, and the
    next start compresses it."""
    log, stop = tmp_path / "app.log", tmp_path / "stop"
    d = run("plain", ["-d", "--io", str(log), "--log-max-size", "30M"] + writer(40, stop))
    raw, helper = wait_compressing(d)
    os.kill(helper, signal.SIGSTOP)
    t0 = time.monotonic()
    stop.touch()
    rc, _, err = d.finish(timeout=30)
    took = time.monotonic() - t0
    assert rc == 0, err
    assert took <= slack(3 + 2), f"exit took {took:.1f} s"
    assert took >= 2.5, f"exit after {took:.1f} s: the compressor was not given its time"
    assert any(re.search(r"compression cut short at exit; kept \S+ uncompressed", ln) for ln in err), err
    wait_for(lambda: gone(helper), what="the compressor's end")
    nums = numbers_in(tmp_path)
    assert nums == list(range(1, len(nums) + 1))
    res = next_start(log)
    assert res.returncode == 0, res.stderr
    assert all(n.endswith(".gz") for n in archive_names(tmp_path)), archive_names(tmp_path)
    assert numbers_in(tmp_path) == nums
