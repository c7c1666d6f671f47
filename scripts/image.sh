#!/bin/sh
# Builds the OCI image to copy dock from, reproducibly:
#
#   scripts/image.sh VERSION [ARCH]     ->  dist/dock-VERSION-oci.tar
#
# ARCH is amd64 by default; another one writes dist/dock-VERSION-oci-ARCH.tar.
#
# One layer holding only /dock and /LICENSE; the entry point is /dock. The
# archive is an OCI image layout (oci-layout, index.json, blobs/sha256/...)
# that also carries the manifest.json of `docker save`, pointing at the same
# blobs, so every engine loads it as it is:
#   docker load -i F    podman load -i F    ctr image import F
# and then names it dock:VERSION (docker.io/library/dock:VERSION):
#   COPY --from=dock:VERSION /dock /dock
# Nothing is written by hand that could vary: the layer is a tar in name
# order, owned by 0:0, stamped SOURCE_DATE_EPOCH, gzip -n; the JSON documents
# are printed from fixed text, their digests computed from their bytes.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 VERSION [ARCH]" >&2
	exit 2
fi
version=$1
arch=${2:-amd64}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/arch.sh
arch_triplet "$arch" >/dev/null || exit 2
release_env
# the OCI (Go) names of Debian's architectures
case $arch in
armhf) oci_arch=arm variant=',"variant":"v7"' ;;
i386) oci_arch=386 variant= ;;
ppc64el) oci_arch=ppc64le variant= ;;
*) oci_arch=$arch variant= ;;
esac

build=build/release/$arch
if [ "${DOCK_PREBUILT:-}" != 1 ] || [ ! -x "$build/dock" ]; then
	arch_build "$version" "$arch"
fi

work=$build/image
rm -rf "$work"
mkdir -p "$work/rootfs" "$work/oci/blobs/sha256"
cp "$build/dock" "$work/rootfs/dock"
cp LICENSE "$work/rootfs/LICENSE"
chmod 0755 "$work/rootfs/dock"
chmod 0644 "$work/rootfs/LICENSE"
blobs=$work/oci/blobs/sha256
tarit() { # DIR NAMES...: a tar of NAMES in DIR, nothing of the build in it
	_d=$1
	shift
	tar -C "$_d" --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
		--mtime="@$SOURCE_DATE_EPOCH" -cf - "$@"
}
# blob FILE: moves FILE into blobs/ under its digest; prints "HEX SIZE"
blob() {
	_h=$(sha256sum "$1" | cut -d' ' -f1)
	_s=$(wc -c <"$1")
	mv "$1" "$blobs/$_h"
	echo "$_h $_s"
}

tarit "$work/rootfs" dock LICENSE >"$work/layer.tar"
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -9 -n <"$work/layer.tar" >"$work/layer.tar.gz"
# shellcheck disable=SC2046 # (two words: the digest and the size)
set -- $(blob "$work/layer.tar.gz")
layer=$1 layer_size=$2

created=$(date -u -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%dT%H:%M:%SZ')
rev=${COMMIT:-}
labels="\"org.opencontainers.image.title\":\"dock\",\"org.opencontainers.image.description\":\"a micro init for Linux containers: COPY --from this image /dock\",\"org.opencontainers.image.version\":\"$version\",\"org.opencontainers.image.revision\":\"$rev\",\"org.opencontainers.image.licenses\":\"MIT\",\"org.opencontainers.image.created\":\"$created\""
printf '{"architecture":"%s"%s,"os":"linux","created":"%s","config":{"Entrypoint":["/dock"],"Labels":{%s}},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"%s","created_by":"scripts/image.sh %s %s"}]}' \
	"$oci_arch" "$variant" "$created" "$labels" "$diff_id" "$created" "$version" "$arch" >"$work/config.json"
# shellcheck disable=SC2046 # (two words: the digest and the size)
set -- $(blob "$work/config.json")
config=$1 config_size=$2

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}],"annotations":{%s}}' \
	"$config" "$config_size" "$layer" "$layer_size" "$labels" >"$work/manifest.json"
# shellcheck disable=SC2046 # (two words: the digest and the size)
set -- $(blob "$work/manifest.json")
manifest=$1 manifest_size=$2

ref=docker.io/library/dock:$version
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"%s","os":"linux"%s},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}\n' \
	"$manifest" "$manifest_size" "$oci_arch" "$variant" "$ref" "$version" >"$work/oci/index.json"
printf '{"imageLayoutVersion":"1.0.0"}\n' >"$work/oci/oci-layout"
# docker load (Docker 20.10 reads only this file of the archive)
printf '[{"Config":"blobs/sha256/%s","RepoTags":["dock:%s"],"Layers":["blobs/sha256/%s"]}]\n' \
	"$config" "$version" "$layer" >"$work/oci/manifest.json"
find "$work/oci" -type d -exec chmod 0755 {} +
find "$work/oci" -type f -exec chmod 0644 {} +

mkdir -p "$DIST"
out=$DIST/dock-$version-oci.tar
[ "$arch" = amd64 ] || out=$DIST/dock-$version-oci-$arch.tar
tarit "$work/oci" blobs index.json manifest.json oci-layout >"$out.tmp"
mv "$out.tmp" "$out"
echo "image: $out $(wc -c <"$out") bytes, $ref ($arch), manifest sha256:$manifest"
