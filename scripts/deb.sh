#!/bin/sh
# Builds the Debian package of one architecture, reproducibly:
#
#   scripts/deb.sh VERSION ARCH     ->  dist/dock_VERSION_ARCH.deb
#
# A native package (dock is its own upstream) in Debian's layout:
#   /usr/bin/dock                          the static binary
#   /usr/share/man/man1/dock.1.gz          the man page
#   /usr/share/doc/dock/copyright          machine-readable, MIT ("Expat")
#   /usr/share/doc/dock/changelog.gz       the release, in Debian's format
#   /usr/share/lintian/overrides/dock      what lintian flags on purpose
# The binary is build/release/ARCH/dock, built fresh (scripts/arch.sh) unless
# DOCK_PREBUILT=1 says the caller (scripts/release.sh) just built it.
# Every file is stamped SOURCE_DATE_EPOCH, owned by root, in name order;
# dpkg-deb takes the archive's own times from SOURCE_DATE_EPOCH.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 VERSION ARCH" >&2; exit 2; }
version=$1
arch=$2
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/arch.sh
triplet=$(arch_triplet "$arch") || exit 2
release_env

build=build/release/$arch
if [ "${DOCK_PREBUILT:-}" != 1 ] || [ ! -x "$build/dock" ]; then
	arch_build "$version" "$arch"
fi

stage=$build/deb/dock
rm -rf "$build/deb"
mkdir -p "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/share/man/man1" \
	"$stage/usr/share/doc/dock" "$stage/usr/share/lintian/overrides"
cp "$build/dock" "$stage/usr/bin/dock"
gzip -9 -n <docs/dock.1 >"$stage/usr/share/man/man1/dock.1.gz"

# RFC 2822 date of the release, as a Debian changelog writes it
date=$(date -u -d "@$SOURCE_DATE_EPOCH" '+%a, %d %b %Y %H:%M:%S +0000')
maintainer="the dock authors <dock@example.org>"
{
	echo "dock ($version) unstable; urgency=medium"
	echo
	echo "  * Release $version, built from commit ${COMMIT:-unknown}."
	echo
	echo " -- $maintainer  $date"
} | gzip -9 -n >"$stage/usr/share/doc/dock/changelog.gz"

{
	cat <<-HEAD
	Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
	Upstream-Name: dock
	Comment: /usr/bin/dock is linked statically with musl (MIT, Copyright
	 2005-2020 Rich Felker, et al.), BearSSL (MIT, Copyright 2016-2018 Thomas
	 Pornin) and zlib (Zlib, Copyright 1995-2022 Jean-loup Gailly and Mark
	 Adler) as Debian packages them: see the copyright files of Debian's musl,
	 libbearssl-dev and zlib1g-dev packages.

	Files: *
	Copyright: 2026 the dock authors
	License: Expat
	HEAD
	# the MIT text of LICENSE, up to its separator line, as a DEP-5 block
	sed -n '/^Permission is hereby granted/,/^SOFTWARE\.$/p' LICENSE |
		sed 's/^$/./; s/^/ /'
} >"$stage/usr/share/doc/dock/copyright"

# What lintian flags on purpose (docs/release.md lists every tag left):
# a static binary that carries its libraries is what dock is for.
cat >"$stage/usr/share/lintian/overrides/dock" <<EOF2
# dock runs as PID 1 of images with no libc: static on purpose
dock: statically-linked-binary [usr/bin/dock]
EOF2

# Built-Using: the sources of what the static binary carries (for licences)
src_of() {
	dpkg-query -W -f='${source:Package} (= ${source:Version})' "$1" 2>/dev/null
}
z=$(src_of "zlib1g-dev:$arch") || z=""
if [ -z "$z" ] && [ -f "$DOCK_CROSS_ZLIB/$arch/version" ]; then
	z="zlib (= $(cat "$DOCK_CROSS_ZLIB/$arch/version"))"
fi
built_using="$(src_of "musl-dev:$arch"), $(src_of "libbearssl-dev:$arch")${z:+, $z}"

find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f -exec chmod 0644 {} +
chmod 0755 "$stage/usr/bin/dock"
(cd "$stage" && find usr -type f | sort | xargs md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"
size=$(du -k -s --apparent-size "$stage/usr" | cut -f1)
cat >"$stage/DEBIAN/control" <<EOF2
Package: dock
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Built-Using: $built_using
Section: admin
Priority: optional
Description: micro init for Linux containers
 dock is the PID 1 of a container (or a subreaper anywhere else): it runs
 one command, forwards signals to it, reaps every zombie, stops the whole
 process tree gracefully and exits with the command's status. It can send
 the command's output to a rotated log file or a remote peer, prefix every
 line, report the status to a web hook and wait for a port to be bound.
 .
 A static binary: it can be copied into any image, and used as Docker's or
 Podman's --init (--init-path /usr/bin/dock).
EOF2
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$DIST"
out=$DIST/dock_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out.tmp" >/dev/null
mv "$out.tmp" "$out"
echo "deb: $out $(wc -c <"$out") bytes ($triplet)"
