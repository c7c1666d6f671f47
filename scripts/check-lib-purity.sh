#!/bin/sh
# Checks that the pure code stays pure: nothing in src/lib (or DIR) may do
# I/O, so it can be unit-tested and fuzzed alone, and read without the loop.
#   scripts/check-lib-purity.sh [DIR]     (CC: the compiler, default cc)
#
# Two checks, over every *.c and *.h of DIR (no list of files: a new one is
# checked as soon as it is there):
#  1. includes: a quoted include must name a header of DIR itself (so never
#     the loop, the log or an I/O module of src/); a system header must not
#     be one whose purpose is system calls (unistd.h, fcntl.h, sys/stat.h,
#     epoll, ...). Headers that carry types and macros (sys/socket.h for
#     sockaddr, sys/wait.h for W*, signal.h for signal numbers) are allowed:
#  2. symbols, which is what decides: each DIR/*.c is compiled to an object,
#     and what it leaves undefined (nm -u) must be a libc function that
#     makes no system call (mem*, str*, snprintf, ...) or a dock_* function
#     defined by another object of DIR.
# Exits 1, naming each violation, when there is one.
set -eu

dir=${1:-src/lib}
cc=${CC:-cc}
[ -d "$dir" ] || { echo "check-lib-purity: no directory $dir" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
bad=0

say() {
	echo "check-lib-purity: $*" >&2
	bad=1
}

# System headers that exist for system calls (or, netdb.h, for lookups
# that go to the network).
denied='unistd\.h|fcntl\.h|sys/stat\.h|sys/statfs\.h|sys/epoll\.h|sys/signalfd\.h|sys/timerfd\.h|sys/eventfd\.h|sys/syscall\.h|sys/ioctl\.h|sys/mman\.h|sys/prctl\.h|sys/uio\.h|sys/sendfile\.h|sys/resource\.h|sys/mount\.h|sys/random\.h|sys/select\.h|poll\.h|dirent\.h|pthread\.h|termios\.h|pty\.h|netdb\.h|ifaddrs\.h|spawn\.h|dlfcn\.h'

for f in "$dir"/*.c "$dir"/*.h; do
	[ -e "$f" ] || continue
	# "name.h": must be a header of the directory itself.
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
		while read -r h; do
			[ -e "$dir/$h" ] || echo "$f: includes \"$h\", which is not in $dir"
		done >>"$tmp/includes"
	grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*<($denied)>" "$f" |
		sed "s|^|$f:|; s|\$| (a system-call header)|" >>"$tmp/includes" || true
done
if [ -s "$tmp/includes" ]; then
	while read -r line; do say "$line"; done <"$tmp/includes"
fi

# libc functions pure code may call: they touch only memory. (__*_chk are
# their _FORTIFY_SOURCE forms, __stack_chk_fail the stack protector's,
# __isoc*_ glibc's names for strto* and friends, __errno_location errno,
# __libc_current_sigrt* SIGRTMIN and SIGRTMAX.)
allowed='^(mem[a-z]*|str[a-z]*|stp[a-z]*|wcs[a-z]*|v?sn?printf|ato[a-z]*|abs|labs|llabs|qsort|bsearch|to(lower|upper)|is(alnum|alpha|digit|xdigit|space|upper|lower|print|punct|cntrl|graph|blank)|inet_(pton|ntop|addr|aton)|hton[ls]|ntoh[ls]|gmtime_r|timegm|div|ldiv|__stack_chk_fail|__stack_chk_fail_local|__(mem|str|stp|wcs|v?sn?printf)[a-z]*_chk|__isoc[0-9]+_(strto|sscanf)[a-z]*|__errno_location|__libc_current_sigrt(min|max)|__ctype_[a-z_]+|_GLOBAL_OFFSET_TABLE_|__assert_fail)$'

: >"$tmp/defined"
: >"$tmp/undefined"
for f in "$dir"/*.c; do
	[ -e "$f" ] || continue
	o="$tmp/$(basename "$f" .c).o"
	if ! $cc -std=c11 -D_GNU_SOURCE -Os -I"$dir" -c "$f" -o "$o" 2>"$tmp/cc.log"; then
		say "$f does not compile alone against $dir:"
		sed 's/^/  /' "$tmp/cc.log" >&2
		continue
	fi
	nm --defined-only "$o" | awk '$2 ~ /^[TDRB]$/ { print $3 }' >>"$tmp/defined"
	nm -u "$o" | awk -v f="$f" '{ print f, $2 }' >>"$tmp/undefined"
done
while read -r f sym; do
	case $sym in
	dock_*)
		grep -qx "$sym" "$tmp/defined" || say "$f: calls $sym, which is not defined in $dir"
		;;
	*)
		echo "$sym" | grep -qE "$allowed" || say "$f: calls $sym, not a pure libc function"
		;;
	esac
done <"$tmp/undefined"

[ "$bad" -eq 0 ] || exit 1
echo "check-lib-purity: $dir is pure ($(ls "$dir"/*.c 2>/dev/null | wc -l) modules)"
