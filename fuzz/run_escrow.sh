#!/bin/bash
# fuzz/run_escrow.sh [SECONDS=20]: build the escrow and age-plugin libFuzzer
# targets with clang (ASan+UBSan) and run each for SECONDS, seeded with
# fuzz/seeds/<target>/ (an authority file and a share, an age file with an
# escrow stanza and a recipient string, plugin IPC exchanges) plus the CCTV
# age vectors for the stanza target.
set -euo pipefail
secs=${1:-20}
src=$(cd "$(dirname "$0")/.." && pwd)
build=${FK_FUZZ_BUILD:-$src/build-fuzz}
testdata=${FK_TESTDATA:-$src/../shared/testdata}
targets="authority stanza plugin_ipc"
CC=clang cmake -S "$src" -B "$build" -DFK_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target $(for t in $targets; do printf 'fuzz_%s ' "$t"; done) >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in $targets; do
  mkdir -p "$work/$t"
  cp "$src/fuzz/seeds/$t"/* "$work/$t/"
done
for f in "$testdata"/age-cctv/*; do
  case "$(basename "$f")" in *upstream*) continue ;; esac
  sed '1,/^$/d' "$f" > "$work/stanza/cctv-$(basename "$f")"
done
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1
for t in $targets; do
  echo "== fuzz_$t for ${secs}s"
  "$build/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/$t" 2>&1 | grep -E "stat::number_of_executed_units|Done|ERROR|SUMMARY" || true
  if ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* >/dev/null 2>&1; then
    mkdir -p "$src/fuzz/artifacts" && cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$src/fuzz/artifacts/" 2>/dev/null || true
    echo "fuzz_$t: found a failing input (copied to fuzz/artifacts/)"; exit 1
  fi
done
echo "fuzz (escrow): no crashes"
