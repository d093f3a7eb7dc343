#!/bin/bash
# The server out of file descriptors: a daemon whose hard descriptor limit
# is below its connection limit stops accepting for a moment instead of
# spinning on the readable listening socket, and serves again once
# descriptors are free.  (CPU time is the measure: a spinning worker burns a
# whole core; the bound below is ten times what a paused one uses.)
set -euo pipefail
: "${FAIRKEY:?}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fkfd.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A hard limit of 64 descriptors: the daemon cannot raise it to 4,096 + 256.
(ulimit -n 64 && exec "$FAIRKEY" log serve --dir "$WORK/log" --listen 127.0.0.1:0 --open \
    >"$WORK/out" 2>"$WORK/err") &
PID=$!
PIDS+=("$PID")
for _ in $(seq 200); do [ "$(wc -l <"$WORK/out")" -ge 2 ] && break; sleep 0.05; done
URL=$(sed -n 2p "$WORK/out")
[ -n "$URL" ] || fail "log serve did not start: $(cat "$WORK/err")"
PORT=${URL##*:}

# Hold 150 connections open for 2 s: past the daemon's descriptors.
python3 - "$PORT" "$WORK/held" <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
held = []
for _ in range(150):
    s = socket.socket()
    s.settimeout(5)
    s.connect(("127.0.0.1", port))   # completes in the kernel's backlog
    held.append(s)
open(sys.argv[2], "w").write("held\n")
time.sleep(2)
PY
HOLDER=$!
PIDS+=("$HOLDER")
for _ in $(seq 100); do [ -s "$WORK/held" ] && break; sleep 0.05; done
[ -s "$WORK/held" ] || fail "could not open the connections"
cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
c0=$(cpu)
sleep 1
c1=$(cpu)
ticks=$(getconf CLK_TCK)
# A spinning worker: about $ticks ticks in this second; paused: a few.
[ $((c1 - c0)) -lt $((ticks / 10)) ] || fail "the daemon spins while out of descriptors ($((c1 - c0)) ticks in 1 s)"
wait "$HOLDER" || true
# Descriptors free again: the daemon answers.
for _ in $(seq 50); do
    code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$URL/checkpoint" || true)
    [ "$code" = 200 ] && break
    sleep 0.1
done
[ "$code" = 200 ] || fail "the daemon does not serve after descriptors were freed"
echo "net_fdlimit: ok"
