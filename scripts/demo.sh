#!/bin/sh
# `make demo`: dock doing its main job, as PID 1 of a fresh PID namespace.
# The command leaves orphans behind, starts a process that ignores SIGTERM,
# then exits 3; dock reaps the orphans, sends SIGTERM to what is left,
# SIGKILL after --kill-timeout, and exits with the command's status.
set -eu
cd "$(dirname "$0")/.."
DOCK=${DOCK:-build/dock}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "dock $($DOCK --version | cut -d' ' -f3): PID 1 of a new PID namespace, -d shows what it does"
cat <<'SCRIPT' >build/demo-app.sh
echo "app: I am pid $$; my init is: $(cat /proc/1/comm)"
# Orphans: each subshell exits at once, leaving its sleep to be adopted by PID 1.
for i in 1 2 3 4 5; do ( sleep 0.2 & ) ; done
sleep 0.4
echo "app: zombies left after the orphans ended: $(grep -l '^State:.Z' /proc/[0-9]*/status 2>/dev/null | wc -l)"
# A stubborn helper that ignores SIGTERM, and a polite one.
sh -c 'trap "" TERM; exec sleep 60' &
sh -c 'exec sleep 60' &
sleep 0.2
echo "app: exiting with 3, leaving a polite and a stubborn process behind"
exit 3
SCRIPT
start=$(date +%s%N)
set +e
unshare --pid --fork --mount-proc "$DOCK" -d --kill-timeout 1s sh build/demo-app.sh
status=$?
set -e
end=$(date +%s%N)
say "dock exited with status $status after $(( (end - start) / 1000000 )) ms (the app's 3; the stubborn sleep was killed at the 1 s timeout)"
