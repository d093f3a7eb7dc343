#!/bin/bash
# fairkey against Debian's age on the same input: encrypt and decrypt,
# RUNS times each, interleaved, median wall time, throughput, time ratio and
# peak RSS.  Usage: bench/age_vs_fairkey.sh [SIZE_MiB=1024] [RUNS=5]
# Environment: FAIRKEY (default build/fairkey), AGE (default /usr/bin/age),
# BENCH_DIR (where the input and outputs live; default $TMPDIR or /tmp),
# BENCH_OUT=file (default: outputs to a file in BENCH_DIR; fairkey fsyncs it
# before the rename, age does not) or BENCH_OUT=null (outputs to /dev/null:
# the crypto and reading only).
set -eu
SIZE_MIB=${1:-1024}
RUNS=${2:-5}
BENCH_OUT=${BENCH_OUT:-file}
here=$(cd "$(dirname "$0")" && pwd)
FAIRKEY=${FAIRKEY:-$here/../build/fairkey}
AGE=${AGE:-/usr/bin/age}
TIME=/usr/bin/time
for x in "$FAIRKEY" "$AGE" "$TIME"; do
    if [ ! -x "$x" ]; then
        echo "bench: $x is missing (build fairkey; apt-get install age time)" >&2
        exit 1
    fi
done
case $BENCH_OUT in file) OUT_PATH= ;; null) OUT_PATH=/dev/null ;; *) echo "BENCH_OUT is file or null" >&2; exit 2 ;; esac
case $SIZE_MIB$RUNS in *[!0-9]*) echo "usage: $0 [SIZE_MiB] [RUNS]" >&2; exit 2 ;; esac

D=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/fairkey-bench.XXXXXX")
trap 'rm -rf "$D"' EXIT
OUT=${OUT_PATH:-$D/out}
head -c $((SIZE_MIB * 1048576)) /dev/urandom >"$D/in"
"$FAIRKEY" keygen -o "$D/key" 2>/dev/null
pk=$(sed -n 's/^# public key: //p' "$D/key")
# Both tools decrypt the same ciphertext (written by age), so decryption
# compares like with like.
"$AGE" -e -r "$pk" -o "$D/ct" "$D/in"

# run <tool> <op> <run>: time one command; outputs go to a file in $D (the
# same disk for both tools) and are removed before the next run.
run() {
    local tool=$1 op=$2 bin in args
    if [ "$tool" = fairkey ]; then
        bin=$FAIRKEY
        if [ "$op" = encrypt ]; then args=(encrypt -r "$pk" -o "$OUT" "$D/in")
        else args=(decrypt -i "$D/key" -o "$OUT" "$D/ct"); fi
    else
        bin=$AGE
        if [ "$op" = encrypt ]; then args=(-e -r "$pk" -o "$OUT" "$D/in")
        else args=(-d -i "$D/key" -o "$OUT" "$D/ct"); fi
    fi
    rm -f "$D/out"
    sync
    local t0 t1
    t0=$(date +%s%N)
    "$TIME" -f %M -o "$D/rss" "$bin" "${args[@]}"
    t1=$(date +%s%N)
    echo "$(((t1 - t0) / 1000)) $(tail -n 1 "$D/rss")" >>"$D/$tool.$op"
}

for ((r = 1; r <= RUNS; r++)); do
    for op in encrypt decrypt; do
        run fairkey $op $r
        run age $op $r
    done
done
[ "$BENCH_OUT" = null ] || cmp -s "$D/in" "$D/out" || { echo "bench: the last decryption does not match the input" >&2; exit 1; }

median() { # column 1 (microseconds) of a file -> median
    sort -n "$1" | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
maxrss() { sort -n -k2 "$1" | tail -n 1 | cut -d' ' -f2; }

echo "input: $SIZE_MIB MiB, $RUNS runs each, interleaved; outputs to $([ "$BENCH_OUT" = null ] && echo /dev/null || echo "files in $D")"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "$("$AGE" --version) vs $("$FAIRKEY" --version)"
printf '%-8s %-8s %10s %10s %16s %14s\n' tool op "median s" "MB/s" "time fk/age" "peak RSS MiB"
for op in encrypt decrypt; do
    ma=$(median "$D/age.$op")
    for tool in fairkey age; do
        m=$(median "$D/$tool.$op")
        awk -v t="$tool" -v op="$op" -v m="$m" -v ma="$ma" -v mib="$SIZE_MIB" -v rss="$(maxrss "$D/$tool.$op")" \
            'BEGIN { s = m / 1e6; printf "%-8s %-8s %10.3f %10.1f %16.2f %14.1f\n", t, op, s,
                     mib * 1048576 / 1e6 / s, (t == "fairkey") ? m / ma : 1, rss / 1024 }'
    done
done
