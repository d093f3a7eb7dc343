#!/bin/bash
# Sealed source deposit against plain encryption of the same archive:
#   encrypt  fairkey encrypt -r VENDOR -r AUTHORITY -o OUT ARCHIVE
#   hash+enc sha256sum ARCHIVE, the same encrypt, sha256sum OUT (what a script
#            would do without 'fairkey deposit')
#   deposit  fairkey deposit ... (hashes both in the encrypting pass, signs the
#            record, adds it to a bound log and waits for its batch)
# runs interleaved, RUNS times each; medians of wall time and MB/s.
# Usage: bench/deposit_bench.sh [BUILD_DIR=build] [SIZE_MiB=100] [RUNS=5] [BATCH_MS=50]
set -u
B=${1:-build}
MIB=${2:-100}
RUNS=${3:-5}
BATCH_MS=${4:-50}
FAIRKEY=$B/fairkey
[ -x "$FAIRKEY" ] || { echo "build fairkey in $B first" >&2; exit 1; }
T=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/fk-deposit-bench.XXXXXX")
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
wait_for() { for _ in $(seq 1 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

"$FAIRKEY" log serve --dir "$T/log" --listen 127.0.0.1:0 --origin bench.test/log --open \
    --batch-ms "$BATCH_MS" >"$T/log0.out" 2>"$T/log.err" & LOGPID=$!
wait_for "$T/log0.out" '^http://' || { cat "$T/log.err"; exit 1; }
LOG=$(grep '^http://' "$T/log0.out"); VKEY=$(head -1 "$T/log0.out")
kill $LOGPID; wait $LOGPID 2>/dev/null
"$FAIRKEY" authority create --name bench -t 2 -n 3 --log "$LOG" --log-vkey "$VKEY" -o "$T/auth" >/dev/null 2>&1
"$FAIRKEY" log serve --dir "$T/log" --listen "${LOG#http://}" --origin bench.test/log \
    --authority "$T/auth/authority.pub" --rate 60000 --batch-ms "$BATCH_MS" >"$T/log.out" 2>"$T/log.err" &
PIDS="$PIDS $!"
wait_for "$T/log.out" '^http://' || { cat "$T/log.err"; exit 1; }
"$FAIRKEY" request keygen --name bench.test/vendor -o "$T/vendor.key" >/dev/null
"$FAIRKEY" keygen -o "$T/age.key" 2>/dev/null
R=$(sed -n 's/^# public key: //p' "$T/age.key")
AR=$("$FAIRKEY" authority show --recipient "$T/auth/authority.pub")
head -c $((MIB << 20)) /dev/urandom >"$T/archive"

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
for i in $(seq 1 "$RUNS"); do
    rm -f "$T/out.age"*
    s=$(date +%s%N); "$FAIRKEY" encrypt -r "$R" -r "$AR" -o "$T/out.age" "$T/archive"; echo "encrypt $(ms "$s")" >>"$T/times"
    rm -f "$T/out.age"*
    s=$(date +%s%N); sha256sum "$T/archive" >/dev/null; "$FAIRKEY" encrypt -r "$R" -r "$AR" -o "$T/out.age" "$T/archive"
    sha256sum "$T/out.age" >/dev/null; echo "hash+enc $(ms "$s")" >>"$T/times"
    rm -f "$T/out.age"*
    s=$(date +%s%N)
    "$FAIRKEY" deposit --authority "$T/auth/authority.pub" --key "$T/vendor.key" -r "$R" \
        --product bench --version "$i" -o "$T/out.age" "$T/archive" >/dev/null || exit 1
    echo "deposit $(ms "$s")" >>"$T/times"
done
echo "archive ${MIB} MiB, ${RUNS} runs each, log batch ${BATCH_MS} ms, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %10s %10s   %s\n' what "median ms" "MB/s" "all runs (ms)"
for w in encrypt hash+enc deposit; do
    all=$(awk -v w="$w" '$1 == w {print $2}' "$T/times" | sort -n | tr '\n' ' ')
    med=$(echo "$all" | tr ' ' '\n' | grep . | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%-9s %10s %10s   %s\n' "$w" "$med" "$(( (MIB << 20) / 1000 / med ))" "$all"
done
