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
# Real container engines the integration suite drives.
pkgs_containers="docker.io"
# moreutils: `ts`, the time-stamping reference of the log-path benchmark.
pkgs_bench="$pkgs_build python3 python3-psutil tini dumb-init catatonit s6 hyperfine moreutils"
# Cross builds of the release archives and their qemu-user smoke tests.
pkgs_release="$pkgs_build gcc-aarch64-linux-gnu musl-dev:arm64 libbearssl-dev:arm64
zlib1g-dev:arm64 qemu-user-static"
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
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# ARCH-qualified packages (the arm64 cross build) need that architecture known to dpkg
for p in $missing; do
	case $p in
	*:*) dpkg --print-foreign-architectures | grep -qx "${p#*:}" || dpkg --add-architecture "${p#*:}" ;;
	esac
done
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
