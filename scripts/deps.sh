#!/bin/sh
# Installs the Debian packages one or more purposes need, and nothing else:
#     scripts/deps.sh build unit      # what `make` and `make unit` need
#     scripts/deps.sh                 # every purpose
# Purposes: build, unit, integration, containers, bench, release, fuzz.
# Idempotent: packages already present are not fetched again, and
# apt-get update runs only when something is missing.
set -eu

pkgs_build="make gcc musl-tools libbearssl-dev zlib1g-dev file"
# The unit runner is built with the host gcc and its sanitizers, and links
# Debian's shared BearSSL and zlib (in the -dev packages above).
pkgs_unit="$pkgs_build"
pkgs_integration="$pkgs_build python3 python3-pytest python3-psutil
runc busybox-static util-linux procps openssl iproute2 groff-base python3-yaml"
# Real container engines the integration suite drives: Docker, Podman (with
# crun, the runtime Fedora and RHEL give it), containerd (what Kubernetes
# nodes run; `ctr` is its client), and skopeo, which reads the OCI image of
# `make image` without any engine.
pkgs_containers="docker.io podman crun containerd skopeo"
# stress-ng loads the machine for the exit-time measurement under load;
# moreutils has `ts`, the time-stamping reference of the log-path benchmark.
pkgs_bench="$pkgs_build python3 python3-psutil tini dumb-init catatonit s6 hyperfine
stress-ng moreutils"
# Cross builds of the release archives and their qemu-user smoke tests, the
# .deb (dpkg-deb, checked by lintian). For every architecture: Debian's cross
# gcc, musl and BearSSL of that architecture. zlib: see cross_zlib below.
# riscv64 is not an architecture of Debian 12 (only of its unofficial ports):
# no musl-dev:riscv64 to link against, so it is left out (docs/release.md).
pkgs_release="$pkgs_build dpkg-dev lintian qemu-user-static
gcc-aarch64-linux-gnu musl-dev:arm64 libbearssl-dev:arm64 zlib1g-dev:arm64
gcc-arm-linux-gnueabihf musl-dev:armhf libbearssl-dev:armhf
gcc-i686-linux-gnu musl-dev:i386 libbearssl-dev:i386
gcc-powerpc64le-linux-gnu musl-dev:ppc64el libbearssl-dev:ppc64el
gcc-s390x-linux-gnu musl-dev:s390x libbearssl-dev:s390x"
# zlib1g-dev:ARCH cannot be installed beside the amd64 one for these: dpkg
# wants a Multi-Arch: same library at one version on every architecture,
# and Debian 12's security archive updated zlib1g (and linux-libc-dev, which
# libc6-dev:ARCH needs) for amd64 but no longer carries s390x at all (nor are
# the other indexes always reachable through a mirror). dock needs only the
# static libz.a, so the package is unpacked, not installed, into
# $cross_zlib_dir/ARCH/ (scripts/release.sh links it from there).
cross_zlib_archs="armhf i386 ppc64el s390x"
cross_zlib_dir=/usr/local/lib/dock-cross
pkgs_fuzz="clang libclang-rt-14-dev"

[ $# -eq 0 ] && set -- build unit integration containers bench release fuzz
PKGS=""
for purpose in "$@"; do
	case $purpose in
	build) PKGS="$PKGS $pkgs_build" ;;
	unit) PKGS="$PKGS $pkgs_unit" ;;
	integration) PKGS="$PKGS $pkgs_integration" ;;
	containers) PKGS="$PKGS $pkgs_containers" ;;
	bench) PKGS="$PKGS $pkgs_bench" ;;
	release) PKGS="$PKGS $pkgs_release" ;;
	fuzz) PKGS="$PKGS $pkgs_fuzz" ;;
	*) echo "deps: unknown purpose '$purpose' (build unit integration containers bench release fuzz)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $(printf '%s\n' $PKGS | sort -u); do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
zlib_missing=""
case " $* " in
*" release "*)
	for a in $cross_zlib_archs; do
		[ -f "$cross_zlib_dir/$a/libz.a" ] && [ -f "$cross_zlib_dir/$a/version" ] || zlib_missing="$zlib_missing $a"
	done ;;
esac
[ -z "$missing" ] && [ -z "$zlib_missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
[ -z "$missing" ] || echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# ARCH-qualified packages (the arm64 cross build) need that architecture known to dpkg
for p in $missing $(printf 'zlib1g-dev:%s ' $zlib_missing); do
	case $p in
	*:*) dpkg --print-foreign-architectures | grep -qx "${p#*:}" || dpkg --add-architecture "${p#*:}" ;;
	esac
done
# An index that fails to download (a mirror in the middle of a sync) is not
# fatal: apt-get install below says clearly if a package is then missing.
apt-get update -q >/dev/null 2>&1 || echo "deps: warning: apt-get update reported errors; going on with the indexes it has" >&2
if [ -n "$missing" ]; then
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
for a in $zlib_missing; do
	tmp=$(mktemp -d)
	# (as root: the private directory is not the _apt user's)
	(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "zlib1g-dev:$a" >/dev/null)
	dpkg-deb -x "$tmp"/zlib1g-dev_*.deb "$tmp/root"
	mkdir -p "$cross_zlib_dir/$a"
	cp "$tmp"/root/usr/lib/*/libz.a "$cross_zlib_dir/$a/libz.a.tmp"
	cp "$tmp"/root/usr/share/doc/zlib1g-dev/copyright "$cross_zlib_dir/$a/copyright"
	# the source version, for the .deb's Built-Using (scripts/deb.sh)
	dpkg-deb -f "$tmp"/zlib1g-dev_*.deb Version >"$cross_zlib_dir/$a/version"
	mv "$cross_zlib_dir/$a/libz.a.tmp" "$cross_zlib_dir/$a/libz.a"
	rm -rf "$tmp"
	echo "deps: unpacked zlib1g-dev:$a's libz.a into $cross_zlib_dir/$a" >&2
done
