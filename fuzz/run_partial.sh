#!/bin/bash
# fuzz/run_partial.sh [SECONDS=20]: build fuzz_partial (the agents' answer
# decoder, proof check and combination) with clang (ASan+UBSan) and run it
# for SECONDS, seeded with fuzz/seeds/partial/ (real answers of the target's
# fixed 2-of-3 authority, one with an identity D_i).
set -euo pipefail
secs=${1:-20}
src=$(cd "$(dirname "$0")/.." && pwd)
build=${FK_FUZZ_BUILD:-$src/build-fuzz}
CC=clang cmake -S "$src" -B "$build" -DFK_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target fuzz_partial >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cp "$src/fuzz/seeds/partial"/* "$work/corpus/"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1
echo "== fuzz_partial for ${secs}s"
"$build/fuzz/fuzz_partial" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" 2>&1 | grep -E "stat::number_of_executed_units|Done|ERROR|SUMMARY" || true
if ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* >/dev/null 2>&1; then
  mkdir -p "$src/fuzz/artifacts" && cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$src/fuzz/artifacts/" 2>/dev/null || true
  echo "fuzz_partial: found a failing input (copied to fuzz/artifacts/)"; exit 1
fi
echo "fuzz (partial): no crashes"
