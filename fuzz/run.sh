#!/bin/bash
# fuzz/run.sh [SECONDS=20]: build the libFuzzer targets with clang (ASan+UBSan)
# and run each for SECONDS, seeded with the CCTV age vectors.
set -euo pipefail
secs=${1:-20}
src=$(cd "$(dirname "$0")/.." && pwd)
build=${FK_FUZZ_BUILD:-$src/build-fuzz}
testdata=${FK_TESTDATA:-$src/../shared/testdata}
CC=clang cmake -S "$src" -B "$build" -DFK_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target fuzz_header fuzz_armor >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Seeds: the age file of every CCTV vector (after its blank line), raw, so
# compressed ones are mere bytes; plus the checked-in seeds.
mkdir -p "$work/header" "$work/armor"
for f in "$testdata"/age-cctv/*; do
  case "$(basename "$f")" in *upstream*) continue ;; esac
  sed '1,/^$/d' "$f" > "$work/header/$(basename "$f")"
  case "$(basename "$f")" in armor*) cp "$work/header/$(basename "$f")" "$work/armor/" ;; esac
done
# Sanitizer reports are failures: stop at the first so libFuzzer saves the input.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1
for t in header armor; do
  echo "== fuzz_$t for ${secs}s"
  "$build/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/$t" 2>&1 | grep -E "stat::number_of_executed_units|Done|ERROR|SUMMARY" || true
  if ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* >/dev/null 2>&1; then
    mkdir -p "$src/fuzz/artifacts" && cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$src/fuzz/artifacts/" 2>/dev/null || true
    echo "fuzz_$t: found a failing input (copied to fuzz/artifacts/)"; exit 1
  fi
done
echo "fuzz: no crashes"
# Transparency-log targets (their own seeds).
FK_FUZZ_BUILD="$build" FK_TESTDATA="$testdata" "$src/fuzz/run_tlog.sh" "$secs"
