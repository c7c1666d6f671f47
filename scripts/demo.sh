#!/bin/sh
# `make demo`: dock doing its job on a small example, in two acts.
#  1. As PID 1 of a fresh PID namespace: the app leaves orphans (reaped) and a
#     process that ignores SIGTERM (killed at --kill-timeout); dock exits with
#     the app's status.
#  2. As a platform would use it: a web server under dock with its log in a
#     rotated file with a coloured prefix, a web hook told starting / running
#     (only once the port listens) / crashed, and a status file; then a
#     `docker stop`-style SIGTERM.
set -eu
cd "$(dirname "$0")/.."
DOCK=${DOCK:-$PWD/build/dock}
PY=/usr/bin/python3
DEMO=build/demo
rm -rf "$DEMO"
mkdir -p "$DEMO"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

say "dock $($DOCK --version | cut -d' ' -f3) — act 1: PID 1 of a new PID namespace (-d shows what dock does)"
cat >"$DEMO/app.sh" <<'SCRIPT'
echo "app: I am pid $$; PID 1 is: $(cat /proc/1/comm)"
for i in 1 2 3 4 5; do ( sleep 0.2 & ) ; done      # five orphans for PID 1
sleep 0.4
echo "app: zombies left after the orphans ended: $(grep -l '^State:.Z' /proc/[0-9]*/status 2>/dev/null | wc -l)"
sh -c 'trap "" TERM; exec sleep 60' &             # ignores SIGTERM
sh -c 'exec sleep 60' &                           # obeys it
sleep 0.2
echo "app: exiting with 3, leaving a polite and a stubborn process behind"
exit 3
SCRIPT
t=$(date +%s%N)
set +e
unshare --pid --fork --mount-proc "$DOCK" -d --kill-timeout 1s sh "$DEMO/app.sh"
status=$?
set -e
say "dock exited $status after $(ms "$t") ms: the app's 3; the stubborn sleep got SIGKILL at the 1 s timeout"

say "act 2: a web server under dock, with a hook receiver, a log file and readiness"
# A hook receiver: prints each PUT it gets, with the time since it started.
cat >"$DEMO/receiver.py" <<'PYEOF'
import http.server, json, sys, time
t0 = time.monotonic()
class Hook(http.server.BaseHTTPRequestHandler):
    def do_PUT(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ps = body["ps"]
        extra = {k: v for k, v in ps.items() if k in ("exit_code", "signal")}
        print(f"hook: {time.monotonic() - t0:5.2f}s PUT {self.path} status={ps['status']} {extra or ''}"
              f" interfaces={[i['name'] for i in ps['net_interfaces']]}", flush=True)
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), Hook)
print(srv.server_port, flush=True)
srv.serve_forever()
PYEOF
$PY -u "$DEMO/receiver.py" >"$DEMO/receiver.out" &
recv=$!
trap 'kill $recv 2>/dev/null || true' EXIT
while [ ! -s "$DEMO/receiver.out" ]; do sleep 0.05; done
port=$(head -n1 "$DEMO/receiver.out")
tail -n +2 -f "$DEMO/receiver.out" &
tailer=$!

# The "web server": logs a line every 0.2 s, and listens on 18080 only after 1 s.
cat >"$DEMO/web.py" <<'PYEOF'
import http.server, sys, threading, time
print("web: warming up (not listening yet)", flush=True)
time.sleep(1)
srv = http.server.HTTPServer(("127.0.0.1", 18080), http.server.SimpleHTTPRequestHandler)
print("web: listening on 18080", flush=True)
threading.Thread(target=srv.serve_forever, daemon=True).start()
n = 0
while True:
    n += 1
    print(f"web: request {n} served", flush=True)
    print(f"web: a warning on stderr ({n})", file=sys.stderr, flush=True)
    time.sleep(0.2)
PYEOF
echo "\$ dock --io $DEMO/web.log --log-rotate 1s --log-keep 5 --stdout-prefix 'web :green'"
echo "       --web-hook 'http://127.0.0.1:$port/hooks/web-1?token=s3cret' --bind-port 18080"
echo "       --status-file $DEMO/status.json --kill-timeout 2s -- python3 web.py"
"$DOCK" --io "$DEMO/web.log" --log-rotate 1s --log-keep 5 --stdout-prefix 'web :green' \
	--web-hook "http://127.0.0.1:$port/hooks/web-1?token=s3cret" --bind-port 18080 \
	--status-file "$DEMO/status.json" --kill-timeout 2s -- $PY -u "$DEMO/web.py" &
dock=$!
sleep 3.5
echo "status file now: $(cat "$DEMO/status.json")"
say "SIGTERM to dock (what docker stop sends)"
t=$(date +%s%N)
kill -TERM $dock
set +e
wait $dock
status=$?
set -e
echo "dock exited $status after $(ms "$t") ms (143 = the server died of SIGTERM)"
sleep 0.2
kill $tailer 2>/dev/null || true
echo "status file: $(cat "$DEMO/status.json")"
say "the log: the live file and the archives rotated every second"
ls -1 "$DEMO" | grep '^web.log' | sed 's/^/  /'
echo "last lines of the live file (prefix in colour, stdout and stderr in order):"
tail -n 3 "$DEMO/web.log" | sed 's/^/  /'
# Every "request N" line, archives first (their names sort by time), then
# the live file: 1, 2, 3... each exactly once means nothing lost or doubled.
seen=$( { for f in "$DEMO"/web.log_*.gz; do gzip -dc "$f"; done; cat "$DEMO/web.log"; } |
	sed -n 's/.*request \([0-9]*\) served/\1/p' | tr '\n' ' ')
echo "request numbers across archives and live file: $seen"
say "done: zombies reaped, the tree stopped, the platform told, no log line lost"
