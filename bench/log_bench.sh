#!/bin/bash
# Log daemon benchmark on loopback: sustained durable appends per second with
# many concurrent clients, add latency (median, p99), the daemon's CPU time
# per add (independent of what else the machine runs), and inclusion proofs
# per second computed from tiles over HTTP.  Bounded: N adds, P proofs.
#
#   bench/log_bench.sh [BUILD_DIR]     env: N CONC BATCH_MS BATCH_MAX SIZE P CLIENT RATE
#   CLIENT: raw (default; HTTP/1.1 keep-alive over epoll, a light load
#   generator) or curl (libcurl multi).
#
# Two modes of the load generator (bench/log_bench.c):
#   RATE unset: closed loop.  CONC connections each send their next add when
#     the previous answer arrives; latency runs from each send.  The offered
#     load adapts to the server, so a slow server shows as fewer adds, not as
#     latency.
#   RATE=R: open loop (raw client).  Add i is due at t0 + i/R; it goes out on
#     an idle connection of a pool of CONC or waits in a queue for one, and
#     its latency runs from the time it was due (no coordinated omission).
#     All CONC connections are opened before the clock starts (--warmup).
#     The run takes about N/R seconds; CONC must cover R x the latency
#     (about R x BATCH_MS / 1000), or adds wait for connections.
# Both modes print latency p50, p90, p99, p99.9 and the largest, and how
# many adds took longer than one batch interval + 50 ms.
set -euo pipefail
B=${1:-build}
FAIRKEY=${FAIRKEY:-$B/fairkey}
LOG_BENCH=${LOG_BENCH:-$B/tests/log/log_bench}
N=${N:-100000} CONC=${CONC:-64} BATCH_MS=${BATCH_MS:-1000} BATCH_MAX=${BATCH_MAX:-4096}
SIZE=${SIZE:-300} P=${P:-5000} CLIENT=${CLIENT:-raw} RATE=${RATE:-}
OPEN=()
if [ -n "$RATE" ]; then
    [ "$CLIENT" = raw ] || { echo "log_bench.sh: RATE needs CLIENT=raw" >&2; exit 2; }
    OPEN=(--rate "$RATE" --warmup)
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fklogbench.XXXXXX")
PID=
# Wait for the killed daemon so the shell does not report it.
trap '[ -n "$PID" ] && { kill -9 $PID; wait $PID || true; } 2>/dev/null; rm -rf "$WORK"' EXIT

"$FAIRKEY" log serve --dir "$WORK/log" --listen 127.0.0.1:0 --open --batch-ms "$BATCH_MS" \
    --batch-max "$BATCH_MAX" >"$WORK/out" 2>"$WORK/err" &
PID=$!
for _ in $(seq 100); do [ "$(wc -l <"$WORK/out")" -ge 2 ] && break; sleep 0.05; done
VKEY=$(sed -n 1p "$WORK/out") URL=$(sed -n 2p "$WORK/out")

cpu() { awk '{print $14 + $15}' /proc/$PID/stat; }   # utime + stime, clock ticks
HZ=$(getconf CLK_TCK)
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$RATE" ]; then
    echo "config: open loop, $N adds of $SIZE bytes at $RATE adds/s over a pool of $CONC connections (opened before the clock starts), --batch-ms $BATCH_MS --batch-max $BATCH_MAX, client $CLIENT"
else
    echo "config: closed loop, $N adds of $SIZE bytes, $CONC concurrent connections, --batch-ms $BATCH_MS --batch-max $BATCH_MAX, client $CLIENT"
fi
c0=$(cpu)
"$LOG_BENCH" add "$URL" "$VKEY" --n "$N" --conc "$CONC" --size "$SIZE" --verify-every 100 \
    --client "$CLIENT" --bound-ms $((BATCH_MS + 50)) "${OPEN[@]}"
c1=$(cpu)
awk -v t=$((c1 - c0)) -v hz="$HZ" -v n="$N" 'BEGIN {
    s = t / hz; printf "daemon CPU: %.2f s for %d adds = %.1f us per add (%.0f adds/s per core)\n",
    s, n, s * 1e6 / n, n / (s > 0 ? s : 1e-9) }'
"$LOG_BENCH" proofs "$URL" "$VKEY" --n "$P" --conc 4
"$FAIRKEY" log verify --log "$URL" --vkey "$VKEY" --follow | tail -1
