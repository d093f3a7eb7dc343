#!/bin/bash
# fuzz/run_tlog.sh [SECONDS=20]: build the transparency-log libFuzzer targets
# with clang (ASan+UBSan) and run each for SECONDS, seeded with the outside
# checkpoints, tiles and entry bundles in testdata/merkle.
set -euo pipefail
secs=${1:-20}
src=$(cd "$(dirname "$0")/.." && pwd)
build=${FK_FUZZ_BUILD:-$src/build-fuzz}
testdata=${FK_TESTDATA:-$src/../shared/testdata}
m=$testdata/merkle
targets="note checkpoint tlog_proof tile_path bundle merkle"
CC=clang cmake -S "$src" -B "$build" -DFK_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target $(for t in $targets; do printf 'fuzz_%s ' "$t"; done) >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in $targets; do mkdir -p "$work/$t"; done
i=0
# Signed checkpoints (Tessera, Sunlight with witness cosignatures): seeds for
# the note and checkpoint parsers, and, wrapped in a receipt, for tlog-proof.
while IFS= read -r f; do
  i=$((i + 1))
  cp "$f" "$work/note/cp$i"
  cp "$f" "$work/checkpoint/cp$i"
  sed '/^$/,$d' "$f" > "$work/checkpoint/body$i"
  { printf 'c2sp.org/tlog-proof@v1\nindex 0\n\n'; cat "$f"; } > "$work/tlog_proof/r$i"
  { printf 'c2sp.org/tlog-proof@v1\nextra AA==\nindex 1\n'; printf '%044d\n' 0 | tr 0 A; echo; cat "$f"; } > "$work/tlog_proof/x$i"
done < <(find "$m/tessera-posix-log" "$m/sunlight-cosignature-v1" -type f -name 'checkpoint*')
# Tiles and entry bundles, and their paths.
while IFS= read -r f; do
  i=$((i + 1))
  rel=${f#"$m/tessera-posix-log/"}
  printf '%s' "$rel" > "$work/tile_path/p$i"
  case "$rel" in tile/entries/*) cp "$f" "$work/bundle/b$i" ;; esac
done < <(find "$m/tessera-posix-log/tile" -type f)
printf 'tile/3/x001/x234/067' > "$work/tile_path/big"
printf 'tile/entries/x018/x446/x744/x073/x709/x551/615' > "$work/tile_path/max"
printf '\x01\0\0\0\0\0\0\0\x07\0\0\0\0\0\0\0\x03\0\0\0\0\0\0\0\x05' > "$work/merkle/tree"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1
for t in $targets; do
  echo "== fuzz_$t for ${secs}s"
  "$build/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=74000 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/$t" 2>&1 | grep -E "stat::number_of_executed_units|Done|ERROR|SUMMARY" || true
  if ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* >/dev/null 2>&1; then
    mkdir -p "$src/fuzz/artifacts" && cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$src/fuzz/artifacts/" 2>/dev/null || true
    echo "fuzz_$t: found a failing input (copied to fuzz/artifacts/)"; exit 1
  fi
done
echo "fuzz (tlog): no crashes"
