#!/usr/bin/env python3
"""Where the bytes of build/dock go, read from a GNU ld link map.

    scripts/size-report.py MAPFILE [--members N]

Builds nothing itself: scripts/size.sh links an unstripped copy with
-Wl,-Map and calls this. Every input section the linker kept is charged to
the output section it landed in and to its origin: one of dock's objects, an
archive member of BearSSL, zlib, musl or libgcc, or the start files. Sizes
are the linker's own, before stripping; only bss takes no room in the file.
"""

import re
import sys
from collections import defaultdict

# output section -> column
COLUMNS = {".text": "text", ".text.hot": "text", ".init": "text", ".fini": "text",
           ".rodata": "rodata", ".eh_frame": "eh_frame", ".eh_frame_hdr": "eh_frame",
           ".gcc_except_table": "eh_frame",
           ".data": "data", ".data.rel.ro": "data", ".init_array": "data", ".fini_array": "data",
           ".tdata": "data", ".got": "data", ".got.plt": "data",
           ".tbss": "bss", ".bss": "bss"}
ORDER = ["text", "rodata", "eh_frame", "data", "bss"]

OUT_RX = re.compile(r"^(\.[\w.]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+")
IN_RX = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
MEMBER_RX = re.compile(r"^(.*/)?([^/()]+)\(([^)]+)\)$")


def origin(path):
    """(group, unit) for an input file of the map."""
    m = MEMBER_RX.match(path)
    if m:
        archive, member = m.group(2), m.group(3)
        group = {"libbearssl.a": "BearSSL", "libz.a": "zlib", "libc.a": "musl libc",
                 "libgcc.a": "libgcc", "libgcc_eh.a": "libgcc"}.get(archive, archive)
        return group, member
    name = path.rsplit("/", 1)[-1]
    if name.endswith(".o") and "/obj/" in path:
        return "dock", name
    return "start files", name


def parse(lines):
    """{(group, unit): {column: bytes}}"""
    sizes = defaultdict(lambda: defaultdict(int))
    in_map = False
    column = None
    pending = None  # an input section name alone on its line
    for line in lines:
        line = line.rstrip("\n")
        if not in_map:
            in_map = line.startswith("Linker script and memory map")
            continue
        m = OUT_RX.match(line)
        if m or (line.startswith(".") and " " not in line.strip()):
            name = m.group(1) if m else line.strip()
            column = COLUMNS.get(name)
            pending = None
            continue
        if line.startswith("/DISCARD/"):
            column = None
            continue
        if column is None:
            continue
        if re.match(r"^ \S+$", line):
            pending = line.strip()
            continue
        m = IN_RX.match(line)
        if not m or (m.group(1) is None and pending is None):
            pending = None
            continue
        size = int(m.group(3), 16)
        where = m.group(4).strip()
        pending = None
        if size == 0 or where.startswith("*") or where.startswith("linker stubs"):
            continue
        sizes[origin(where)][column] += size
    return sizes


def kib(n):
    return f"{n / 1024:.1f}"


def table(rows, head):
    out = [f"| {head} | " + " | ".join(ORDER) + " | in file | KiB |",
           "|---|" + "---:|" * (len(ORDER) + 2)]
    for name, cols in rows:
        infile = sum(cols[c] for c in ORDER if c != "bss")
        out.append(f"| {name} | " + " | ".join(str(cols[c]) for c in ORDER)
                   + f" | {infile} | {kib(infile)} |")
    return "\n".join(out)


def main():
    args = sys.argv[1:]
    members = 12
    if "--members" in args:
        i = args.index("--members")
        members = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 1:
        sys.exit("usage: size-report.py MAPFILE [--members N]")
    with open(args[0]) as f:
        sizes = parse(f)

    groups = defaultdict(lambda: defaultdict(int))
    for (group, _unit), cols in sizes.items():
        for c, n in cols.items():
            groups[group][c] += n
    total = defaultdict(int)
    for cols in groups.values():
        for c, n in cols.items():
            total[c] += n

    def infile(cols):
        return sum(cols[c] for c in ORDER if c != "bss")

    rows = sorted(groups.items(), key=lambda kv: -infile(kv[1]))
    print("By origin (bytes of kept input sections):\n")
    print(table(rows + [("**total**", total)], "origin"))
    for group in [g for g, _ in rows if g != "start files"]:
        units = sorted(((u, c) for (g, u), c in sizes.items() if g == group),
                       key=lambda kv: -infile(kv[1]))
        print(f"\n{group}: the {min(members, len(units))} largest of {len(units)} units\n")
        print(table(units[:members], "unit"))


if __name__ == "__main__":
    main()
