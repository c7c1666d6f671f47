#!/bin/sh
# make check-asan: dock built with AddressSanitizer and UndefinedBehaviorSanitizer,
# then the unit tests and the whole integration suite run against that build.
#
# The sanitizer runtimes need glibc and dynamic linking, so this build is not
# the release one: gcc (glibc), Debian's shared BearSSL and zlib, and none of
# src/compat.c (the glibc fortify shims that only musl needs). Tests that
# need a static binary (an empty root, a libc-less image) skip themselves
# under it (the `static_only` marker, see tests/integration/conftest.py); the
# runc rootfs gets the build's shared libraries.
#
# Reports: the binary carries its sanitizer options (tests/sanitizer/
# defaults.c), which send every report to /tmp/dock-sanitizer/report.<pid>
# (inside a runc container: the rootfs's /tmp), and the suite fails the test
# after which a report appeared. Arguments go to pytest:
#     scripts/check-asan.sh -k chaos
set -eu
cd "$(dirname "$0")/.."

OUT=build/asan
BIN=$OUT/dock
LOGDIR=/tmp/dock-sanitizer
PYTHON=${PYTHON:-/usr/bin/python3}
VERSION=$(sed -n 's/^VERSION *:= *//p' Makefile)

./scripts/deps.sh build unit integration containers
mkdir -p "$OUT"
# the commit `dock --version` names, as the Makefile computes it (a stamp
# rewritten only when it changes)
make -s --no-print-directory build/commit
COMMIT=$(cat build/commit)

# Rebuilt when a source, a header or this script is newer than the binary.
srcs=$(ls src/*.c src/lib/*.c | grep -v '^src/compat\.c$')
if [ ! -x "$BIN" ] || [ -n "$(find src tests/sanitizer scripts/check-asan.sh build/commit -newer "$BIN" -type f | head -n1)" ]; then
	echo "check-asan: building $BIN"
	# shellcheck disable=SC2086
	gcc -std=c11 -Wall -Wextra -D_GNU_SOURCE -DDOCK_VERSION="\"$VERSION\"" -DDOCK_COMMIT="\"$COMMIT\"" \
		-DDOCK_SANITIZER_LOG="\"$LOGDIR/report\"" \
		-g -O1 -fno-omit-frame-pointer \
		-fsanitize=address,undefined -fno-sanitize-recover=all \
		-Isrc -Isrc/lib $srcs tests/sanitizer/defaults.c -o "$BIN.tmp" -lbearssl -lz
	mv "$BIN.tmp" "$BIN"
fi
"$BIN" --version >/dev/null

status=0

# The unit tests are always built with the same sanitizers (see Makefile).
echo "check-asan: unit tests"
make --no-print-directory build/unit
build/unit || status=1

echo "check-asan: integration tests against $BIN"
# Stale reports from an earlier run would be blamed on the first test.
rm -rf "$LOGDIR" build/test-rootfs-dynamic/tmp/dock-sanitizer
DOCKTEST_BINARY=$PWD/$BIN "$PYTHON" -m pytest -q -p no:cacheprovider tests/integration "$@" || status=1

if [ -n "$(find "$LOGDIR" build/test-rootfs-dynamic/tmp/dock-sanitizer -type f 2>/dev/null | head -n1)" ]; then
	echo "check-asan: sanitizer reports in $LOGDIR (see the failing tests above)" >&2
	status=1
fi
[ "$status" = 0 ] && echo "check-asan: passed"
exit "$status"
