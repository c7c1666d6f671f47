#!/bin/sh
# Builds the release artefacts, byte for byte reproducible:
#
#   scripts/release.sh VERSION [ARCH...]   (default: every one of scripts/arch.sh)
#
# For each ARCH: a clean static build in build/release/ARCH, then
#   dist/dock-VERSION-linux-ARCH.tgz          dock, LICENSE, README.md, docs/dock.1
#   dist/dock-VERSION-linux-ARCH.tgz.sha256   as `sha256sum -c` reads it
#   dist/dock_VERSION_ARCH.deb                (scripts/deb.sh)
# and, when amd64 is among them, dist/dock-VERSION-oci.tar (scripts/image.sh).
# dist/SHA256SUMS lists every artefact of the run. DIST=DIR writes them to DIR
# instead of dist/.
#
# Same sources, same compiler and libraries: same bytes. Nothing in an
# artefact depends on the time, the user or the directory of the build:
# - the binary holds no path or date (no debug info, no __FILE__/__DATE__);
#   it holds the commit (`dock --version`), passed in COMMIT;
# - every file is stamped SOURCE_DATE_EPOCH (default: the last commit's
#   time), owned by 0:0 with no names, with fixed modes, in name order;
# - gzip -n stores neither the archive's name nor a time.
# scripts/reproducible-check.sh builds twice in two directories and compares.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 VERSION [ARCH...]" >&2; exit 2; }
version=$1
shift

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/arch.sh
archs=${*:-$DOCK_ARCHS}
for arch in $archs; do
	arch_triplet "$arch" >/dev/null || exit 2
done
release_env

mkdir -p "$DIST"
sums=""
for arch in $archs; do
	build=build/release/$arch
	name=dock-$version-linux-$arch
	stage=$build/stage/$name

	echo "release: building $name" >&2
	arch_build "$version" "$arch"

	mkdir -p "$stage/docs"
	cp "$build/dock" "$stage/dock"
	cp docs/dock.1 "$stage/docs/dock.1"
	cp LICENSE "$stage/LICENSE"
	if [ -f README.md ]; then
		cp README.md "$stage/README.md"
	else
		echo "release: warning: README.md is missing; the archive goes without it" >&2
	fi
	chmod 0755 "$stage" "$stage/docs" "$stage/dock"
	find "$stage" -type f ! -name dock -exec chmod 0644 {} +

	tar -C "$build/stage" --sort=name --format=gnu \
		--owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
		-cf - "$name" | gzip -9 -n >"$DIST/$name.tgz.tmp"
	mv "$DIST/$name.tgz.tmp" "$DIST/$name.tgz"
	(cd "$DIST" && sha256sum "$name.tgz" >"$name.tgz.sha256")
	echo "release: $DIST/$name.tgz $(wc -c <"$DIST/$name.tgz") bytes, dock $(wc -c <"$build/dock") bytes" >&2
	cat "$DIST/$name.tgz.sha256"
	sums="$sums $name.tgz"

	DOCK_PREBUILT=1 ./scripts/deb.sh "$version" "$arch" >&2
	sums="$sums dock_${version}_$arch.deb"
	(cd "$DIST" && sha256sum "dock_${version}_$arch.deb")
done
case " $archs " in
*" amd64 "*)
	DOCK_PREBUILT=1 ./scripts/image.sh "$version" amd64 >&2
	sums="$sums dock-$version-oci.tar"
	(cd "$DIST" && sha256sum "dock-$version-oci.tar") ;;
esac
# shellcheck disable=SC2086
(cd "$DIST" && sha256sum $sums >SHA256SUMS)
