#!/usr/bin/python3
"""Rotation benchmark of issue 4: does rotating (and gzipping) a 500 MB log
ever stall the command's writes, and how fast is dock's gzip?

    /usr/bin/python3 bench/rotate_stall.py [--size-mb 500] [--dir DIR]
        [--tmpfs] [--nice N | --rt] [--stall-only] [--runs N] [--dock PATH]
        [--write] [--json FILE]

Needs build/dock (`make`), gcc and Debian's gzip. Prints Markdown; --write
also puts it into docs/benchmarks.md (the `rotate` section). Stall figures are only as quiet as the
machine: every row states the load average, and the baselines (same writer,
same bytes, no rotation) show what the machine itself adds. --tmpfs takes
the disk and its journal out; --rt (SCHED_FIFO) is of little use for the
rotation rows, since RT throttling pauses a task that keeps a CPU busy for
50 ms every second, which compression does.

1. Stall. A writer (C, built here into build/bench/rotate_writer) writes
   log-like lines in 4 KiB write(2) calls into `dock --io FILE
   --log-max-size SIZE`, timing every call on CLOCK_MONOTONIC. When FILE
   passes SIZE dock renames it, reopens FILE, and a helper process gzips
   the renamed content; the writer keeps writing until the archive is
   complete. Reported: the longest write() overall and while rotating (from
   each raw file's appearance to its removal, as seen by a thread polling
   the directory every 2 ms), writes over 10 ms,
   and the same writer through dock with no rotation as the baseline. Two
   writers: flat out (the pipe is always full, so every write waits for
   dock's next loop turn: the worst case), and paced at 50 MB/s (a heavy
   but realistic logger). The flat-out pair runs --runs times (5), and the
   worst of each is compared with the target: with rotation at most
   max(without + 2 ms, 1.5 x without).
2. Throughput. The same SIZE of data gzipped by dock on its own (the writer
   idles from the rotation until the archive is complete: time from the raw
   file's appearance to the archive's), by `gzip -1` and by `gzip -6`, with
   the ratios. The archive is also checked: gunzipped it must equal the
   first SIZE bytes (to a line end) of what the writer wrote.
"""

import argparse
import datetime
import gzip
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import report

NICE = []  # ["nice", "-n", N] with --nice
DOCK_BIN = [None]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCK = os.path.join(ROOT, "build", "dock")
BIN = os.path.join(ROOT, "build", "bench")
WRITER = os.path.join(BIN, "rotate_writer")

WRITER_C = r"""
/* Writes a block of log lines cyclically to stdout in CHUNK-byte write(2)
 * calls, timing each; stops after MIN bytes once STOPFILE exists (or at
 * MAX bytes), optionally paced to RATE bytes/s, or idles after IDLE_AFTER
 * bytes until STOPFILE exists. Prints a JSON summary to RESULT. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#define MAX_SLOW 200000
static int64_t slow_t[MAX_SLOW], slow_l[MAX_SLOW];

int main(int argc, char **argv)
{
	if (argc != 9) {
		fprintf(stderr, "usage: BLOCK CHUNK MIN MAX RATE IDLE_AFTER STOPFILE RESULT\n");
		return 2;
	}
	const char *blockfile = argv[1], *stopfile = argv[7], *result = argv[8];
	size_t chunk = strtoul(argv[2], 0, 10);
	long long min = atoll(argv[3]), max = atoll(argv[4]), rate = atoll(argv[5]);
	long long idle_after = atoll(argv[6]);
	int fd = open(blockfile, O_RDONLY);
	struct stat st;
	fstat(fd, &st);
	size_t blen = (size_t)st.st_size;
	char *block = malloc(blen + chunk);
	if (read(fd, block, blen) != (ssize_t)blen)
		return 3;
	memcpy(block + blen, block, chunk); /* so a chunk never wraps */
	close(fd);

	int64_t t0 = now_ns(), maxlat = 0, maxlat_t = 0, sum = 0;
	long long written = 0, calls = 0, nslow = 0;
	long long hist[8] = { 0 }; /* <0.1 <1 <2 <5 <10 <20 <50 >=50 ms */
	size_t off = 0;
	int stop_seen = 0, idled = 0;
	while (written < max) {
		if (rate > 0) {
			int64_t due = t0 + (int64_t)((double)written * 1e9 / (double)rate);
			int64_t n = now_ns();
			if (due > n) {
				struct timespec ts = { (time_t)(due / 1000000000LL), (long)(due % 1000000000LL) };
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			}
		}
		if (idle_after > 0 && !idled && written >= idle_after) {
			/* Quiet while dock compresses on its own. */
			while (access(stopfile, F_OK) != 0)
				usleep(2000);
			idled = 1;
		}
		int64_t a = now_ns();
		ssize_t w = write(1, block + off, chunk);
		int64_t b = now_ns();
		if (w <= 0)
			return 4;
		int64_t lat = b - a;
		calls++;
		sum += lat;
		double ms = lat / 1e6;
		hist[ms < 0.1 ? 0 : ms < 1 ? 1 : ms < 2 ? 2 : ms < 5 ? 3 : ms < 10 ? 4 : ms < 20 ? 5 : ms < 50 ? 6 : 7]++;
		if (lat > maxlat) {
			maxlat = lat;
			maxlat_t = a;
		}
		if (ms >= 1.0 && nslow < MAX_SLOW) {
			slow_t[nslow] = a;
			slow_l[nslow++] = lat;
		}
		written += w;
		off = (off + (size_t)w) % blen;
		if ((written & ((1 << 24) - 1)) < (long long)chunk && written >= min) {
			if (!stop_seen && access(stopfile, F_OK) == 0)
				stop_seen = 1, min = written + (64LL << 20);
			else if (stop_seen)
				break;
		}
	}
	FILE *f = fopen(result, "w");
	fprintf(f, "{\"t0\": %lld, \"t1\": %lld, \"bytes\": %lld, \"calls\": %lld, \"sum_ns\": %lld, "
		   "\"max_ns\": %lld, \"max_t\": %lld, \"hist\": [",
		(long long)t0, (long long)now_ns(), written, calls, (long long)sum, (long long)maxlat,
		(long long)maxlat_t);
	for (int i = 0; i < 8; i++)
		fprintf(f, "%s%lld", i ? ", " : "", hist[i]);
	fprintf(f, "], \"slow\": [");
	for (long long i = 0; i < nslow; i++)
		fprintf(f, "%s[%lld, %lld]", i ? ", " : "", (long long)slow_t[i], (long long)slow_l[i]);
	fprintf(f, "]}\n");
	fclose(f);
	return 0;
}
"""

LEVELS = ["INFO", "INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"]
WORDS = ("request served user session cache miss hit backend upstream timeout retry "
         "connection accepted closed payload bytes latency handler route GET POST PUT "
         "/api/v1/items /health /login /static/app.js token refreshed queue depth worker "
         "started stopped shard replica leader follower commit index").split()


def make_block(path, size):
    """Log-like lines: a timestamp, a level, a component, a request id and a
    few words and numbers; deterministic."""
    r = random.Random(4)
    out, n, t = [], 0, 1700000000.0
    while n < size:
        t += r.random() / 50
        s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
        line = "%s.%03dZ %-5s [%s] req=%06x %s %s %s status=%d dur=%.1fms user=%d\n" % (
            s, int(t * 1000) % 1000, r.choice(LEVELS), r.choice(["api", "db", "auth", "web", "cron"]),
            r.getrandbits(24), r.choice(WORDS), r.choice(WORDS), r.choice(WORDS),
            r.choice([200, 200, 200, 200, 201, 204, 304, 404, 500]), r.random() * 200, r.randint(1, 5000))
        out.append(line)
        n += len(line)
    data = "".join(out).encode()
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def build_writer():
    os.makedirs(BIN, exist_ok=True)
    src = os.path.join(BIN, "rotate_writer.c")
    with open(src, "w") as f:
        f.write(WRITER_C)
    subprocess.run(["gcc", "-O2", "-std=gnu11", "-o", WRITER, src], check=True)


class DirWatch(threading.Thread):
    """Polls a directory every 2 ms (times in CLOCK_MONOTONIC ns, the
    writer's clock): when each raw file appears and goes (a rotation and its
    compression), and when the first archive appears."""

    def __init__(self, d):
        super().__init__(daemon=True)
        self.d, self.stop = d, False
        self.raws = {}  # name -> [appeared, gone or None]
        self.gz_t = self.gz_name = None

    @property
    def raw_t(self):
        return min((w[0] for w in self.raws.values()), default=None)

    def windows(self):
        end = time.monotonic_ns()
        return [(a, b if b is not None else end) for a, b in self.raws.values()]

    def run(self):
        while not self.stop:
            names = set(os.listdir(self.d))
            t = time.monotonic_ns()
            for name in names:
                if name.endswith(".raw") and name not in self.raws:
                    self.raws[name] = [t, None]
                elif name.endswith(".gz") and self.gz_t is None:
                    self.gz_t, self.gz_name = t, name
            for name, w in self.raws.items():
                if w[1] is None and name not in names:
                    w[1] = t
            if self.gz_t is not None:
                with open(os.path.join(self.d, "stop"), "w"):
                    pass
            time.sleep(0.002)


def run_case(d, block, size, rate=0, rotate=True, idle=False, total=None):
    """One dock run; returns (writer summary, DirWatch). Without rotation
    the writer writes total bytes (what the rotation run wrote)."""
    for name in os.listdir(d):
        if name != "block":
            os.unlink(os.path.join(d, name))
    log, stop, result = os.path.join(d, "app.log"), os.path.join(d, "stop"), os.path.join(d, "result.json")
    limit = size if rotate else 100 * size
    minimum = size + (64 << 20)
    maximum = 3 * size + (256 << 20)
    if not rotate:
        maximum = minimum = total
    if idle:
        # Quiet from just past the limit until the archive is complete,
        # then a little more and out.
        maximum = minimum = size + 8192 + 4 * 4096
    watch = DirWatch(d)
    watch.start()
    args = NICE + [DOCK_BIN[0], "--io", log, "--log-max-size", str(limit), "--log-keep", "10",
            WRITER, block, "4096", str(minimum), str(maximum), str(rate),
            str(size + 8192 if idle else 0), stop, result]
    res = subprocess.run(args, capture_output=True, text=True, timeout=900)
    watch.stop = True
    watch.join()
    if res.returncode != 0:
        sys.exit(f"dock/writer failed ({res.returncode}): {res.stderr}")
    with open(result) as f:
        summary = json.load(f)
    summary["stderr"] = res.stderr
    return summary, watch


def stall_row(label, s, w):
    lat_ms = s["max_ns"] / 1e6
    window = ""
    over10 = sum(1 for t, lat in s["slow"] if lat >= 10e6)
    if w is not None and w.raws:
        # From 50 ms before a rotation (the poll may see it late) until its
        # raw file is gone (compressed and synced).
        wins = w.windows()
        inside = [lat for t, lat in s["slow"] if any(a - 50e6 <= t <= b for a, b in wins)]
        window = "%.2f (%d rotations)" % (max(inside) / 1e6 if inside else 1.0, len(wins))
        if not inside:
            window = "< 1 (%d rotations)" % len(wins)
    mb = s["bytes"] / 1e6
    secs = (s["t1"] - s["t0"]) / 1e9
    mean_us = s["sum_ns"] / s["calls"] / 1e3
    h = s["hist"]
    return (f"| {label} | {mb:.0f} MB in {secs:.1f} s ({mb / secs:.0f} MB/s) | {mean_us:.1f} µs | "
            f"{lat_ms:.2f} ms | {window or '-'} | {over10} | {h[3]}/{h[4]}/{h[5] + h[6] + h[7]} |")


def verify_archive(d, block, name, size):
    """The archive gunzips to the writer's stream (the block, cycled) up to
    its first line end at or past size bytes, where dock rotates."""
    with open(block, "rb") as f:
        data = f.read()
    pos = (size - 1) % len(data)
    length = size + data.index(b"\n", pos) - pos
    h, n = hashlib.sha256(), 0
    with gzip.open(os.path.join(d, name)) as g:
        while True:
            buf = g.read(1 << 20)
            if not buf:
                break
            h.update(buf)
            n += len(buf)
    e, total = hashlib.sha256(), 0
    while total < length:
        take = data[: length - total]
        e.update(take)
        total += len(take)
    return n == length and h.hexdigest() == e.hexdigest(), n


def timed(cmd, stdin_path, out_path):
    with open(stdin_path, "rb") as i, open(out_path, "wb") as o:
        t = time.monotonic()
        subprocess.run(cmd, stdin=i, stdout=o, check=True)
        return time.monotonic() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=500)
    ap.add_argument("--dir", default=None, help="where the logs go (default: a temporary directory)")
    ap.add_argument("--nice", type=int, default=None,
                    help="run dock and the writer at this nice value (e.g. -10: ahead of other "
                         "load on a shared machine, which otherwise shows up as stalls)")
    ap.add_argument("--rt", action="store_true",
                    help="run dock and the writer as SCHED_FIFO (root): on a busy shared "
                         "machine this keeps other load out of the stall figures")
    ap.add_argument("--stall-only", action="store_true", help="skip the throughput part")
    ap.add_argument("--runs", type=int, default=5,
                    help="flat-out runs with and without rotation; the worst of each counts (default 5)")
    ap.add_argument("--dock", default=DOCK, help="the binary (default build/dock)")
    ap.add_argument("--tmpfs", action="store_true",
                    help="put the logs on a tmpfs mounted here (root): no journal or disk "
                         "shared with other load, so what remains is dock's own cost")
    ap.add_argument("--write", action="store_true", help="write the tables into docs/benchmarks.md")
    ap.add_argument("--json", help="write the stall figures to this file")
    a = ap.parse_args()
    tee = report.Tee().__enter__()
    stalls = {}
    try:
        run(a, stalls)
    except BaseException:
        tee.__exit__(None, None, None)
        raise
    report.finish(tee, "rotate", a.write, a.json, stalls)


def run(a, stalls):
    DOCK_BIN[0] = a.dock
    if a.nice is not None:
        NICE[:] = ["nice", "-n", str(a.nice)]
    if a.rt:
        NICE[:] = ["chrt", "-f", "10"]
    if not os.path.exists(DOCK_BIN[0]):
        sys.exit(f"{DOCK_BIN[0]} is missing: run make")
    size = a.size_mb * 1000 * 1000
    build_writer()
    d = tempfile.mkdtemp(prefix="dock-rotate-bench-", dir=a.dir)
    mounted = False
    if a.tmpfs:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={4 * size + (512 << 20)}", "tmpfs", d],
                       check=True)
        mounted = True
    try:
        block = os.path.join(d, "block")
        blen = make_block(block, 16 << 20)
        print(f"## Log rotation of a {a.size_mb} MB log\n")
        print(f"Command: `/usr/bin/python3 bench/rotate_stall.py --size-mb {a.size_mb}"
              f"{' --nice %d' % a.nice if a.nice is not None else ''}{' --rt' if a.rt else ''}"
              f"{' --tmpfs' if a.tmpfs else ''}`, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}.\n")
        print(f"Machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; "
              f"log directory on {fs_type(d)}; data: {blen >> 20} MiB of log-like lines, cycled; "
              f"{'SCHED_FIFO' if a.rt else 'nice %d' % (a.nice or 0)}.\n")

        print("### Longest stall of the command's write() calls (4 KiB each)\n")
        print("| case | written | mean write | longest write | longest while rotating/compressing "
              "| writes >= 10 ms | writes 2-5 / 5-10 / >= 10 ms |")
        print("|---|---|---|---|---|---|---|")
        for label, rate in [("flat out", 0), ("50 MB/s", 50 * 1000 * 1000)]:
            # The flat-out writer is the figure with a target: a run with
            # rotation and one without, alternately, a.runs times; the
            # worst of each counts (rows for each run, the worst in bold).
            runs = a.runs if rate == 0 else 1
            worst = {"baseline_max_ms": 0.0, "rotation_max_ms": 0.0, "runs": runs}
            behind = 0
            for i in range(runs):
                s, w = run_case(d, block, size, rate=rate, rotate=True)
                base, _ = run_case(d, block, size, rate=rate, rotate=False, total=s["bytes"])
                tag = f" (run {i + 1} of {runs})" if runs > 1 else ""
                print(stall_row(f"{label}, no rotation (baseline){tag}", base, None))
                print(stall_row(f"{label}, rotation of {a.size_mb} MB{tag}", s, w), flush=True)
                worst["baseline_max_ms"] = max(worst["baseline_max_ms"], base["max_ns"] / 1e6)
                worst["rotation_max_ms"] = max(worst["rotation_max_ms"], s["max_ns"] / 1e6)
                if not (w.raw_t and w.gz_t):
                    behind += 1
            stalls[label] = worst
            if behind:
                # Level-1 gzip (~110 MB/s) cannot keep up with a writer at
                # 1 GB/s: the writer reaches its byte cap first, and what
                # the exit's 3 s do not compress stays uncompressed.
                print(f"\n({label}: in {behind} of {runs} runs the writer reached its cap before the "
                      f"first archive was complete; compression ran beside it all the time)\n")
        flat = stalls["flat out"]
        b, r = flat["baseline_max_ms"], flat["rotation_max_ms"]
        bound = max(b + 2, 1.5 * b)
        print(f"\nFlat out, worst of {flat['runs']} runs: {r:.2f} ms with rotation, {b:.2f} ms without; "
              f"target with rotation <= max(without + 2 ms, 1.5 x without) = {bound:.2f} ms: "
              f"{'met' if r <= bound else 'NOT met'}.")

        print(f"\nLoad average at the end: {os.getloadavg()[0]:.1f}.")
        if a.stall_only:
            return
        print("\n### Compression throughput on the same data\n")
        s, w = run_case(d, block, size, idle=True)
        if not (w.raw_t and w.gz_t):
            sys.exit(f"no archive was made: {s['stderr']}")
        dock_secs = (w.gz_t - w.raw_t) / 1e9
        ok, raw_len = verify_archive(d, block, w.gz_name, size)
        gz_len = os.path.getsize(os.path.join(d, w.gz_name))
        raw = os.path.join(d, "raw")
        with gzip.open(os.path.join(d, w.gz_name)) as g, open(raw, "wb") as o:
            shutil.copyfileobj(g, o, 1 << 20)
        rows = [("dock (zlib level 1, in its helper process)", dock_secs, gz_len)]
        for level in ("-1", "-6"):
            out = os.path.join(d, "out.gz")
            secs = timed(["gzip", "-c", level], raw, out)
            rows.append((f"Debian gzip {level}", secs, os.path.getsize(out)))
            os.unlink(out)
        print("| compressor | time | throughput | archive | ratio |")
        print("|---|---|---|---|---|")
        for name, secs, n in rows:
            print(f"| {name} | {secs:.2f} s | {raw_len / secs / 1e6:.0f} MB/s | {n / 1e6:.1f} MB | "
                  f"{raw_len / n:.2f} |")
        print(f"\nArchive check: {'gunzips to exactly the bytes written' if ok else 'MISMATCH'} "
              f"({raw_len} bytes).")
        if not ok:
            sys.exit(1)
    finally:
        if mounted:
            subprocess.run(["umount", d])
        shutil.rmtree(d, ignore_errors=True)


def fs_type(path):
    try:
        out = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True).stdout
        return out.strip() or "?"
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
