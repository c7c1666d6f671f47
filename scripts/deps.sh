#!/bin/sh
# Installs every Debian package the build, the demo, the tests and the
# benchmarks need. Idempotent: packages already present are not fetched again,
# and apt-get update runs only when something is missing.
set -eu

PKGS="make gcc musl-tools libbearssl-dev zlib1g-dev
python3 python3-pytest python3-psutil
runc busybox-static util-linux procps openssl iproute2
tini dumb-init catatonit s6 hyperfine
clang libclang-rt-14-dev
file groff-base python3-yaml docker.io qemu-user-static
gcc-aarch64-linux-gnu musl-dev:arm64 libbearssl-dev:arm64 zlib1g-dev:arm64"

missing=""
for p in $PKGS; do
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
