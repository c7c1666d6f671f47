#!/bin/sh
# Builds the release archives, byte for byte reproducible:
#
#   scripts/release.sh VERSION [ARCH...]      (ARCH: amd64 arm64; default both)
#
# For each ARCH: a clean static build in build/release/ARCH, then
#   dist/dock-VERSION-linux-ARCH.tgz          dock, README.md, docs/dock.1
#   dist/dock-VERSION-linux-ARCH.tgz.sha256   as `sha256sum -c` reads it
#
# Same sources, same compiler and libraries: same bytes. Nothing in the
# archive depends on the time, the user or the directory of the build:
# - the binary holds no path or date (no debug info, no __FILE__/__DATE__);
# - every file is stamped SOURCE_DATE_EPOCH (default: the last commit's
#   time), owned by 0:0 with no names, with fixed modes, in name order;
# - gzip -n stores neither the archive's name nor a time.
# scripts/reproducible-check.sh builds twice in two directories and compares.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 VERSION [amd64|arm64]..." >&2; exit 2; }
version=$1
shift
archs=${*:-amd64 arm64}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null) || {
		echo "release: not a git checkout: set SOURCE_DATE_EPOCH" >&2
		exit 1
	}
fi
export SOURCE_DATE_EPOCH
case $SOURCE_DATE_EPOCH in
'' | *[!0-9]*) echo "release: SOURCE_DATE_EPOCH must be a number of seconds" >&2; exit 1 ;;
esac

# Locale, time zone and umask must not leak into names, sorting or modes.
export LC_ALL=C TZ=UTC
umask 022

# The cross compiler for arm64: Debian's gcc-aarch64-linux-gnu driven with the
# specs file of musl-dev:arm64, as musl-gcc drives the native gcc.
cc_for() {
	case $1 in
	amd64) echo "musl-gcc" ;;
	arm64) echo "aarch64-linux-gnu-gcc -specs /usr/lib/aarch64-linux-musl/musl-gcc.specs" ;;
	*) echo "release: unknown architecture '$1' (amd64, arm64)" >&2; return 1 ;;
	esac
}
libdir_for() {
	case $1 in
	amd64) echo /usr/lib/x86_64-linux-gnu ;;
	arm64) echo /usr/lib/aarch64-linux-gnu ;;
	esac
}
machine_for() {
	case $1 in
	amd64) echo "x86-64" ;;
	arm64) echo "ARM aarch64" ;;
	esac
}

mkdir -p dist
for arch in $archs; do
	cc=$(cc_for "$arch")
	build=build/release/$arch
	name=dock-$version-linux-$arch
	stage=$build/stage/$name

	echo "release: building $name" >&2
	rm -rf "$build"
	env -u CFLAGS -u LDFLAGS -u CPPFLAGS make -s --no-print-directory BUILD="$build" CC="$cc" LIBDIR="$(libdir_for "$arch")" "$build/dock" >/dev/null
	file -L "$build/dock" | grep -q "$(machine_for "$arch")" || {
		echo "release: $build/dock is not an $arch binary: $(file -L "$build/dock")" >&2
		exit 1
	}

	mkdir -p "$stage/docs"
	cp "$build/dock" "$stage/dock"
	cp docs/dock.1 "$stage/docs/dock.1"
	if [ -f README.md ]; then
		cp README.md "$stage/README.md"
	else
		echo "release: warning: README.md is missing; the archive goes without it" >&2
	fi
	chmod 0755 "$stage" "$stage/docs" "$stage/dock"
	find "$stage" -type f ! -name dock -exec chmod 0644 {} +

	tar -C "$build/stage" --sort=name --format=gnu \
		--owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
		-cf - "$name" | gzip -9 -n >"dist/$name.tgz.tmp"
	mv "dist/$name.tgz.tmp" "dist/$name.tgz"
	(cd dist && sha256sum "$name.tgz" >"$name.tgz.sha256")
	echo "release: dist/$name.tgz $(wc -c <"dist/$name.tgz") bytes, dock $(wc -c <"$build/dock") bytes" >&2
	cat "dist/$name.tgz.sha256"
done
