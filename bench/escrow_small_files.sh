#!/bin/bash
# Many small files: `age -r X25519` against `fairkey encrypt -r X25519 -r
# age1fairkey1...` (the same file also escrowed to a 3-of-5 authority), one
# process per file, the same shell loop for both, REPEATS rounds interleaved.
# `fairkey encrypt -r X25519` alone runs too, so the escrow's own share of
# the time is visible apart from fairkey's per-process cost.  Prints the
# median wall seconds per tool (and its CPU seconds, user + sys, which a
# loaded machine disturbs less), files per second and the time ratios.
# Usage: bench/escrow_small_files.sh [N=10000] [REPEATS=3] [SIZE_BYTES=1024]
# Environment: FAIRKEY (default build/fairkey), AGE (default /usr/bin/age),
# BENCH_DIR (where the files live; default $TMPDIR or /tmp).
set -eu
N=${1:-10000}
REPEATS=${2:-3}
SIZE=${3:-1024}
here=$(cd "$(dirname "$0")" && pwd)
FAIRKEY=${FAIRKEY:-$here/../build/fairkey}
AGE=${AGE:-/usr/bin/age}
case $N$REPEATS$SIZE in *[!0-9]*) echo "usage: $0 [N] [REPEATS] [SIZE_BYTES]" >&2; exit 2 ;; esac
for x in "$FAIRKEY" "$AGE"; do
    if [ ! -x "$x" ]; then
        echo "bench: $x is missing (build fairkey; apt-get install age)" >&2
        exit 1
    fi
done
# The log every authority here names (none runs: these tests do not recover).
FK_TEST_LOG="--log https://log.example.com/ --log-vkey example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"

D=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/fairkey-small.XXXXXX")
trap 'rm -rf "$D"' EXIT
mkdir "$D/in" "$D/out"
# N files of SIZE random bytes, cut from one random stream.
head -c $((N * SIZE)) /dev/urandom | split -a 6 -d -b "$SIZE" - "$D/in/f"
"$FAIRKEY" keygen -o "$D/key" 2>/dev/null
pk=$(sed -n 's/^# public key: //p' "$D/key")
escrow=$("$FAIRKEY" authority create $FK_TEST_LOG --threshold 3 --agents 5 --name bench --out "$D/auth" 2>/dev/null |
         sed -n 's/^recipient: //p')
case $escrow in age1fairkey1*) ;; *) echo "bench: no escrow recipient from fairkey authority create" >&2; exit 1 ;; esac

# one <tool>: encrypt every file once, one process each; appends
# "wall user sys" seconds to $D/<tool>.t.
one() {
    local tool=$1 f TIMEFORMAT='%R %U %S'
    rm -rf "$D/out" && mkdir "$D/out"
    {
        time {
            case $tool in
            age) for f in "$D"/in/*; do "$AGE" -r "$pk" -o "$D/out/${f##*/}" "$f"; done ;;
            fk-x25519) for f in "$D"/in/*; do "$FAIRKEY" encrypt -r "$pk" -o "$D/out/${f##*/}" "$f"; done ;;
            fk-escrow) for f in "$D"/in/*; do "$FAIRKEY" encrypt -r "$pk" -r "$escrow" -o "$D/out/${f##*/}" "$f"; done ;;
            esac
        }
    } 2>>"$D/$tool.t"
}

tools="age fk-escrow fk-x25519"
for ((r = 1; r <= REPEATS; r++)); do
    for t in $tools; do one "$t"; done
done
# The last round's outputs (fairkey, X25519 only) decrypt with age; one
# escrowed output decrypts with age and carries the escrow stanza.
f=$(ls "$D/out" | head -n 1)
"$FAIRKEY" encrypt -r "$pk" -r "$escrow" -o "$D/check.age" "$D/in/$f"
"$AGE" -d -i "$D/key" "$D/check.age" | cmp -s - "$D/in/$f" ||
    { echo "bench: age cannot decrypt fairkey's escrowed output" >&2; exit 1; }
"$FAIRKEY" inspect "$D/check.age" | grep -q 'escrow to authority age1fairkey1' ||
    { echo "bench: fairkey's output has no escrow stanza" >&2; exit 1; }

# median <file> <column>: median of one column
median() { awk -v c="$2" '{print $c}' "$1" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
cpu() { awk '{print $2 + $3}' "$1" >"$1.cpu"; median "$1.cpu" 1; }
echo "files: $N x $SIZE bytes, $REPEATS rounds interleaved, one process per file"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$("$AGE" --version) vs $("$FAIRKEY" --version)"
wa=$(median "$D/age.t" 1)
ca=$(cpu "$D/age.t")
printf '%-36s %8s %8s %8s %11s %10s
' command "wall s" "files/s" "CPU s" "wall / age" "CPU / age"
for t in $tools; do
    case $t in
    age) label="age -r X25519" ;;
    fk-x25519) label="fairkey encrypt -r X25519" ;;
    fk-escrow) label="fairkey encrypt -r X25519 -r escrow" ;;
    esac
    w=$(median "$D/$t.t" 1)
    c=$(cpu "$D/$t.t")
    awk -v l="$label" -v w="$w" -v c="$c" -v wa="$wa" -v ca="$ca" -v n="$N" \
        'BEGIN { printf "%-36s %8.2f %8.0f %8.2f %11.2f %10.2f\n", l, w, n / w, c, w / wa, c / ca }'
done
we=$(median "$D/fk-escrow.t" 1)
wx=$(median "$D/fk-x25519.t" 1)
awk -v e="$we" -v x="$wx" -v n="$N" \
    'BEGIN { printf "escrow stanza cost inside fairkey: %+.2f ms per file (wall, escrow - X25519 only)\n", (e - x) / n * 1000 }'
