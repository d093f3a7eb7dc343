#!/bin/bash
# Log daemon benchmark on loopback, on both storage backends in one run:
# sustained durable appends per second with many concurrent clients, add
# latency (median, p99), CPU time per add (the daemons', and PostgreSQL's
# own processes for the PostgreSQL backend; independent of what else the
# machine runs), and inclusion proofs per second computed from tiles over
# HTTP.  Bounded: N adds per run, P proofs.
#
#   bench/log_bench.sh [BUILD_DIR]
#   env: N CONC BATCH_MS BATCH_MAX SIZE P CLIENT RATE BACKENDS FRONTENDS REPS PGBIN
#   BACKENDS: "sqlite pg" (default) or one of them.
#     sqlite: one daemon on a directory (the embedded backend).
#     pg: FRONTENDS (default 2) `log serve --db` front ends on one database
#       of a private PostgreSQL 15 cluster started on 127.0.0.1 in a
#       temporary directory (initdb; as `nobody` when run as root;
#       fsync = on, synchronous_commit = on), N/FRONTENDS adds and
#       CONC/FRONTENDS connections at each front end, at the same time.
#   REPS (default 3): runs per backend, interleaved (sqlite, pg, sqlite,
#     ...), so a change in machine load hits both; the table gives medians.
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
#     (about R x BATCH_MS / 1000), or adds wait for connections.  With
#     several front ends each gets R/FRONTENDS.
# Both modes print latency p50, p90, p99, p99.9 and the largest, and how
# many adds took longer than one batch interval + 50 ms.
set -euo pipefail
B=${1:-build}
FAIRKEY=${FAIRKEY:-$B/fairkey}
LOG_BENCH=${LOG_BENCH:-$B/tests/log/log_bench}
N=${N:-100000} CONC=${CONC:-64} BATCH_MS=${BATCH_MS:-1000} BATCH_MAX=${BATCH_MAX:-4096}
SIZE=${SIZE:-300} P=${P:-5000} CLIENT=${CLIENT:-raw} RATE=${RATE:-}
BACKENDS=${BACKENDS:-sqlite pg} FRONTENDS=${FRONTENDS:-2} REPS=${REPS:-3}
if [ -n "$RATE" ] && [ "$CLIENT" != raw ]; then
    echo "log_bench.sh: RATE needs CLIENT=raw" >&2
    exit 2
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fklogbench.XXXXXX")
PIDS=()
fail() { echo "log_bench.sh: $*" >&2; exit 1; }
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if declare -F pg_cleanup >/dev/null; then pg_cleanup; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
HZ=$(getconf CLK_TCK)
# CPU ticks (utime + stime) of processes; gone ones count 0.
ticks() {
    local t=0 p
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$t"
}
pg_pids() {   # the PostgreSQL server and its backends
    local pm
    pm=$(head -1 "$PGDATA_DIR/postmaster.pid")
    echo "$pm" $(ps -o pid= --ppid "$pm")
}

case " $BACKENDS " in *" pg "*)
    . "$(cd "$(dirname "$0")/.." && pwd)/tests/log/pg.sh"
    pg_start
    ;;
esac

# serve NAME DB-OR-DIR: start a front end; sets URL, VKEY, PID.
serve() {
    local out="$WORK/out.$RANDOM"
    : >"$out"
    "$FAIRKEY" log serve "$@" --listen 127.0.0.1:0 --open --batch-ms "$BATCH_MS" \
        --batch-max "$BATCH_MAX" >"$out" 2>>"$WORK/err" &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 200); do [ "$(wc -l <"$out")" -ge 2 ] && break; sleep 0.05; done
    VKEY=$(sed -n 1p "$out") URL=$(sed -n 2p "$out")
    [ -n "$URL" ] || fail "log serve did not start: $(tail -1 "$WORK/err")"
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$RATE" ]; then
    echo "config: open loop, $N adds of $SIZE bytes at $RATE adds/s over a pool of $CONC connections, --batch-ms $BATCH_MS --batch-max $BATCH_MAX, client $CLIENT, $REPS runs per backend; pg: $FRONTENDS front ends"
else
    echo "config: closed loop, $N adds of $SIZE bytes, $CONC concurrent connections, --batch-ms $BATCH_MS --batch-max $BATCH_MAX, client $CLIENT, $REPS runs per backend; pg: $FRONTENDS front ends"
fi

# run BACKEND REP: one run; appends "backend adds/s p50 p99 us/add(daemons) us/add(postgres)" to $WORK/results.
run() {
    local be=$1 rep=$2 fe=1 urls=() pids=() i
    if [ "$be" = pg ]; then
        fe=$FRONTENDS
        pg_createdb "bench$rep"
        for i in $(seq "$fe"); do
            serve --db "$PGURL/bench$rep" --key "$WORK/pg$rep.key"
            urls+=("$URL")
            pids+=("$PID")
        done
    else
        serve --dir "$WORK/log$rep"
        urls+=("$URL")
        pids+=("$PID")
    fi
    local c0 p0=0 t0 t1 n1=$((N / fe)) conc=$((CONC / fe)) open=() cpids=()
    [ "$conc" -ge 1 ] || conc=1
    [ -n "$RATE" ] && open=(--rate $((RATE / fe)) --warmup)
    c0=$(ticks "${pids[@]}")
    [ "$be" = pg ] && p0=$(ticks $(pg_pids))
    t0=$(date +%s%N)
    for i in $(seq 0 $((fe - 1))); do
        "$LOG_BENCH" add "${urls[$i]}" "$VKEY" --n "$n1" --conc "$conc" --size "$SIZE" \
            --verify-every 100 --client "$CLIENT" --bound-ms $((BATCH_MS + 50)) \
            --prefix "$be-$rep-$i" "${open[@]}" >"$WORK/add.$be.$rep.$i" 2>&1 &
        cpids+=($!)
    done
    for p in "${cpids[@]}"; do wait "$p" || fail "$be run $rep: the load generator failed: $(tail -2 "$WORK/add.$be.$rep."*)"; done
    t1=$(date +%s%N)
    local c1 p1=0
    c1=$(ticks "${pids[@]}")
    [ "$be" = pg ] && p1=$(ticks $(pg_pids))
    echo "-- $be run $rep ($fe front end(s)):"
    cat "$WORK"/add.$be.$rep.*
    local acked
    acked=$(cat "$WORK"/add.$be.$rep.* | awk '/^adds / {a += $4} END {print a + 0}')
    local p50 p99
    # Latency: the median and p99 of the per-front-end figures (the worst one).
    p50=$(cat "$WORK"/add.$be.$rep.* | awk '/^latency from/ {if ($7 > m) m = $7} END {print m + 0}')
    p99=$(cat "$WORK"/add.$be.$rep.* | awk '/^latency from/ {if ($13 > m) m = $13} END {print m + 0}')
    awk -v be="$be" -v a="$acked" -v ns=$((t1 - t0)) -v dc=$((c1 - c0)) -v pc=$((p1 - p0)) \
        -v hz="$HZ" -v p50="$p50" -v p99="$p99" 'BEGIN {
        s = ns / 1e9; printf "%s %.0f %s %s %.1f %.1f\n", be, a / s, p50, p99,
        dc / hz * 1e6 / (a ? a : 1), pc / hz * 1e6 / (a ? a : 1) }' >>"$WORK/results"
    tail -1 "$WORK/results" | awk '{printf "   => %s adds/s, daemon CPU %s us/add, PostgreSQL CPU %s us/add\n", $2, $5, $6}'
    if [ "$rep" = "$REPS" ]; then
        "$LOG_BENCH" proofs "${urls[0]}" "$VKEY" --n "$P" --conc 4
        "$FAIRKEY" log verify --log "${urls[0]}" --vkey "$VKEY" --follow | tail -1
    fi
    for p in "${pids[@]}"; do kill -TERM "$p"; wait "$p" || true; done
}

for rep in $(seq "$REPS"); do
    for be in $BACKENDS; do run "$be" "$rep"; done
done

echo
echo "medians of $REPS runs (daemon CPU: the log serve processes; PostgreSQL CPU: its server processes):"
printf '| backend | adds/s | p50 ms | p99 ms | daemon CPU us/add | PostgreSQL CPU us/add | adds/s vs sqlite |\n'
printf '|---|---|---|---|---|---|---|\n'
awk -v fe="$FRONTENDS" '
function median(be, col,   n, i, j, t, v) {
    n = 0
    for (i = 1; i <= NR_; i++) if (B[i] == be) v[++n] = C[i, col]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
{ NR_++; B[NR_] = $1; for (k = 2; k <= 6; k++) C[NR_, k] = $k; seen[$1] = 1 }
END {
    base = ("sqlite" in seen) ? median("sqlite", 2) : 0
    for (be in seen) {
        name = be == "pg" ? "PostgreSQL, " fe " front ends" : "SQLite (embedded)"
        r = base ? sprintf("%.2f", median(be, 2) / base) : "-"
        printf "| %s | %.0f | %.1f | %.1f | %.1f | %.1f | %s |\n", name, median(be, 2), median(be, 3), median(be, 4), median(be, 5), median(be, 6), r
    }
}' "$WORK/results" | sort -r
