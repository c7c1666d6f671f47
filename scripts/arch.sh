# shellcheck shell=sh
# The architectures dock is released for, and how each is built: sourced by
# scripts/release.sh, deb.sh and image.sh. Names are Debian's (dpkg
# --print-architecture), which are also the OCI ones but for armhf (OCI: arm,
# variant v7), i386 (386) and ppc64el (ppc64le).
#
# Each is a static build with Debian's cross gcc driven by the specs file of
# musl-dev:ARCH (as musl-gcc drives the native gcc), linked with
# libbearssl-dev:ARCH and zlib's static archive. scripts/deps.sh release
# installs them all. riscv64 is missing: Debian 12 has no musl for it (it is
# not a release architecture there); see docs/release.md.

DOCK_ARCHS="amd64 arm64 armhf i386 ppc64el s390x"
# where scripts/deps.sh unpacks zlib's libz.a for the architectures whose
# zlib1g-dev dpkg cannot install beside the amd64 one
DOCK_CROSS_ZLIB=/usr/local/lib/dock-cross

# arch_triplet ARCH: the GNU triplet of Debian's library directories
arch_triplet() {
	case $1 in
	amd64) echo x86_64-linux-gnu ;;
	arm64) echo aarch64-linux-gnu ;;
	armhf) echo arm-linux-gnueabihf ;;
	i386) echo i386-linux-gnu ;;
	ppc64el) echo powerpc64le-linux-gnu ;;
	s390x) echo s390x-linux-gnu ;;
	*) echo "unknown architecture '$1' (known: $DOCK_ARCHS)" >&2; return 1 ;;
	esac
}

# arch_cc ARCH: the compiler command
arch_cc() {
	case $1 in
	amd64) echo musl-gcc ;;
	arm64) echo "aarch64-linux-gnu-gcc -specs /usr/lib/aarch64-linux-musl/musl-gcc.specs" ;;
	armhf) echo "arm-linux-gnueabihf-gcc -specs /usr/lib/arm-linux-musleabihf/musl-gcc.specs" ;;
	i386) echo "i686-linux-gnu-gcc -specs /usr/lib/i386-linux-musl/musl-gcc.specs" ;;
	ppc64el) echo "powerpc64le-linux-gnu-gcc -specs /usr/lib/powerpc64le-linux-musl/musl-gcc.specs" ;;
	s390x) echo "s390x-linux-gnu-gcc -specs /usr/lib/s390x-linux-musl/musl-gcc.specs" ;;
	*) echo "unknown architecture '$1' (known: $DOCK_ARCHS)" >&2; return 1 ;;
	esac
}

# arch_libs ARCH: the static archives to link (BearSSL, zlib)
arch_libs() {
	t=$(arch_triplet "$1") || return 1
	z=/usr/lib/$t/libz.a
	[ -f "$z" ] || z=$DOCK_CROSS_ZLIB/$1/libz.a
	echo "/usr/lib/$t/libbearssl.a $z"
}

# arch_machine ARCH: what file(1) says of such an executable
arch_machine() {
	case $1 in
	amd64) echo "x86-64" ;;
	arm64) echo "ARM aarch64" ;;
	armhf) echo "ARM, EABI5" ;;
	i386) echo "Intel 80386" ;;
	ppc64el) echo "64-bit PowerPC" ;;
	s390x) echo "IBM S/390" ;;
	esac
}

# arch_build VERSION ARCH: a clean static build in build/release/ARCH/dock
# that depends on nothing but the sources, the toolchain, the libraries and
# COMMIT (not the time, the user, the directory or the environment's flags).
arch_build() {
	_b=build/release/$2
	_cc=$(arch_cc "$2") || return 1
	rm -rf "$_b"
	env -u CFLAGS -u LDFLAGS -u CPPFLAGS make -s --no-print-directory BUILD="$_b" CC="$_cc" \
		LIBS="$(arch_libs "$2")" COMMIT="$COMMIT" VERSION="$1" "$_b/dock" >/dev/null
	file -L "$_b/dock" | grep -q "$(arch_machine "$2")" || {
		echo "$_b/dock is not an $2 binary: $(file -L "$_b/dock")" >&2
		return 1
	}
}

# release_env: SOURCE_DATE_EPOCH (default: the last commit's time) and
# COMMIT (default: as the Makefile computes it) for every artefact of a run
release_env() {
	if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
		SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null) || {
			echo "release: not a git checkout: set SOURCE_DATE_EPOCH" >&2
			return 1
		}
	fi
	case $SOURCE_DATE_EPOCH in
	'' | *[!0-9]*) echo "release: SOURCE_DATE_EPOCH must be a number of seconds" >&2; return 1 ;;
	esac
	export SOURCE_DATE_EPOCH
	if [ -z "${COMMIT+set}" ]; then
		COMMIT=$(make -s --no-print-directory print-commit)
	fi
	export COMMIT
	# where the artefacts go (the tests build theirs elsewhere)
	DIST=${DIST:-dist}
	# Locale, time zone and umask must not leak into names, sorting or modes.
	export LC_ALL=C TZ=UTC
	umask 022
}
