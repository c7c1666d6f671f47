#!/bin/sh
# Where the bytes of the release binary go (docs/size.md shows a run):
# builds the same binary as `make` (same flags: the map is only a side
# product of the link) in build/size, checks it is byte for byte build/dock
# when that is up to date, and prints the link map's breakdown by origin.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=build/size
rm -rf "$out"
# LDFLAGS from the environment come before the Makefile's own (+=)
env -u CFLAGS LDFLAGS="-Wl,-Map,$out/dock.map" make -s --no-print-directory BUILD="$out" "$out/dock" >/dev/null

bytes=$(wc -c <"$out/dock")
echo "build/size/dock: $bytes bytes ($(awk "BEGIN { printf \"%.1f\", $bytes / 1024 }") KiB; budget 512 KiB)"
if [ -f build/dock ]; then
	if cmp -s build/dock "$out/dock"; then
		echo "identical to build/dock"
	else
		echo "differs from build/dock (is build/dock out of date? run make)"
	fi
fi
echo
size -A "$out/dock" | awk 'NR > 2 && $2 > 0 { printf "  %-16s %8d\n", $1, $2 }'
echo
python3 scripts/size-report.py "$out/dock.map" --members "${MEMBERS:-10}"
