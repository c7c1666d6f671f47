#!/bin/sh
# Checks that the release artefacts are reproducible: copies the source tree
# (tracked and untracked files, as `git ls-files` lists them) into two
# directories of different names and depths, runs scripts/release.sh in each
# with the same SOURCE_DATE_EPOCH and COMMIT (the copies are not git
# checkouts), and compares every artefact (archives, .debs, the OCI image)
# byte for byte.
#
#   scripts/reproducible-check.sh VERSION [ARCH...]
set -eu

[ $# -ge 1 ] || { echo "usage: $0 VERSION [ARCH...]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct)}"
export SOURCE_DATE_EPOCH
if [ -z "${COMMIT+set}" ]; then
	COMMIT=$(make -s --no-print-directory print-commit)
fi
export COMMIT

tmp=$(mktemp -d /tmp/dock-repro.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
one=$tmp/a
two=$tmp/second/build-tree-with-a-longer-name
mkdir -p "$one" "$two"
for dir in "$one" "$two"; do
	git ls-files -z -c -o --exclude-standard | xargs -0 tar -cf - | tar -C "$dir" -xf -
done

(cd "$one" && ./scripts/release.sh "$@" >"$tmp/one.sha256")
(cd "$two" && ./scripts/release.sh "$@" >"$tmp/two.sha256")
echo "build in $one:"; cat "$tmp/one.sha256"
echo "build in $two:"; cat "$tmp/two.sha256"
status=0
n=0
for f in "$one"/dist/*; do
	b=$(basename "$f")
	n=$((n + 1))
	if cmp -s "$f" "$two/dist/$b"; then
		echo "reproducible: $b"
	else
		echo "NOT reproducible: $b" >&2
		status=1
	fi
done
[ "$n" -gt 0 ] || { echo "no artefact was built" >&2; status=1; }
exit $status
