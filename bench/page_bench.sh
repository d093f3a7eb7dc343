#!/bin/bash
# The transparency page (web/) on a large log: fills a log with N entries
# (default 1,000,000: mostly plain entries from log_bench's raw HTTP client,
# plus R signed recovery requests from REQUESTERS requesters, spread over the
# log and over several months), then times the page in headless Chromium
# from navigation to "Verified" (checkpoint signature, every tile, the root)
# with every request listed.  Prints the figure; asserts nothing on time.
#
#   bench/page_bench.sh [BUILD_DIR]     env: N R REQUESTERS KEEP
#   KEEP=DIR: fill the log in DIR once and reuse it on later runs.
#
# Needs node, npm, Debian's chromium and playwright-core (the web_page test
# installs it into BUILD_DIR/playwright; this script does the same).
set -euo pipefail
B=$(cd "${1:-build}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
FAIRKEY=${FAIRKEY:-$B/fairkey}
LOG_BENCH=$B/tests/log/log_bench
REQUEST_TOOL=$B/tests/log/log_request_tool
TIME_SHIFT=$B/tests/e2e/time_shift.so
N=${N:-1000000} R=${R:-1000} REQUESTERS=${REQUESTERS:-5}
export PLAYWRIGHT_DIR=${PLAYWRIGHT_DIR:-$B/playwright}
for f in "$FAIRKEY" "$LOG_BENCH" "$REQUEST_TOOL" "$TIME_SHIFT"; do
    [ -e "$f" ] || { echo "page_bench: $f is missing; build the tree first (cmake --build $B)" >&2; exit 1; }
done
if [ ! -f "$PLAYWRIGHT_DIR/node_modules/playwright-core/package.json" ]; then
    mkdir -p "$PLAYWRIGHT_DIR"
    (cd "$PLAYWRIGHT_DIR" && npm install --no-audit --no-fund --silent playwright-core@1.61.1)
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fkpagebench.XXXXXX")
DIR=${KEEP:-$WORK/log}
PID=
trap '[ -n "$PID" ] && { kill $PID; wait $PID || true; } 2>/dev/null; rm -rf "$WORK"' EXIT

start() {
    "$FAIRKEY" log serve --dir "$DIR" --listen 127.0.0.1:0 --open --origin bench.test/log \
        --batch-ms 200 --batch-max 65536 >"$WORK/out" 2>"$WORK/err" &
    PID=$!
    for _ in $(seq 200); do [ "$(wc -l <"$WORK/out")" -ge 2 ] && break; sleep 0.05; done
    VKEY=$(sed -n 1p "$WORK/out") URL=$(sed -n 2p "$WORK/out")
    [ -n "$URL" ] || { cat "$WORK/err" >&2; exit 1; }
}
size() { curl -s "$URL/checkpoint" | sed -n 2p; }
start
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $(${CHROMIUM:-/usr/bin/chromium} --version)"
if [ "$(size)" -lt "$N" ]; then
    [ "$(size)" -eq 0 ] || { echo "page_bench: $DIR holds a partial log; remove it" >&2; exit 1; }
    "$FAIRKEY" authority create --name bench -t 1 -n 1 --log "$URL" --log-vkey "$VKEY" \
        -o "$WORK/auth" >/dev/null 2>&1
    ROUNDS=10
    t0=$(date +%s)
    for round in $(seq 1 $ROUNDS); do
        "$LOG_BENCH" add "$URL" "$VKEY" --n $(((N - R) / ROUNDS)) --conc 2048 --size 120 \
            --prefix "bench-$round" --verify-every 100000 --client raw >"$WORK/add.out" ||
            { cat "$WORK/add.out" >&2; exit 1; }
        # This round's requests, dated ROUNDS - round months back.
        mkdir -p "$WORK/req$round"
        for q in $(seq 1 "$REQUESTERS"); do
            LD_PRELOAD=$TIME_SHIFT FK_TIME_SHIFT=$(((round - ROUNDS) * 30 * 86400)) \
                "$REQUEST_TOOL" "$WORK/auth/authority.pub" "agency$q.test/officer$q" \
                $((R / ROUNDS / REQUESTERS)) "$WORK/req$round" >/dev/null
        done
        find "$WORK/req$round" -name '*.req' -print0 |
            xargs -0 -P 32 -I{} curl -sf -o /dev/null --data-binary @{} "$URL/add"
        echo "# filled $(size) entries"
    done
    left=$((N - $(size)))
    [ "$left" -le 0 ] || "$LOG_BENCH" add "$URL" "$VKEY" --n "$left" --conc 2048 --size 120 \
        --prefix bench-last --verify-every 100000 --client raw >"$WORK/add.out"
    echo "fill: $(size) entries in $(($(date +%s) - t0)) s"
fi
echo "log: $(size) entries, $(du -sh "$DIR/tile" | cut -f1) of tiles"
node "$SRC/tests/web/page_test.mjs" bench "$URL/" "${OUTDIR:-}"
