#!/bin/bash
# fuzz/run.sh [SECONDS=20] [TARGET...]: build the libFuzzer targets with clang
# (ASan+UBSan) and run each for SECONDS.  With no TARGET, every fuzz_*.c here.
# Each target's corpus is fuzz/seeds/<target>/ (checked in) plus what
# seed_<target> below derives from the outside vectors in tests/vectors.
# A crash, leak, timeout or out-of-memory fails the run; its input is kept in fuzz/artifacts/.
set -euo pipefail
secs=${1:-20}
shift || true
src=$(cd "$(dirname "$0")/.." && pwd)
build=${FK_FUZZ_BUILD:-$src/build-fuzz}
testdata=${FK_TESTDATA:-$src/tests/vectors}
m=$testdata/merkle
if [ $# -gt 0 ]; then
  targets="$*"
else
  targets=$(cd "$src/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//' | tr '\n' ' ')
fi
CC=clang cmake -S "$src" -B "$build" -DFK_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target $(for t in $targets; do printf 'fuzz_%s ' "$t"; done) >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The age file of every CCTV vector (the bytes after its blank line).
cctv() {
  local dir=$1 filter=${2:-}
  for f in "$testdata"/age-cctv/*; do
    case "$(basename "$f")" in *upstream*) continue ;; esac
    case "$(basename "$f")" in $filter*) ;; *) continue ;; esac
    sed '1,/^$/d' "$f" > "$dir/cctv-$(basename "$f")"
  done
}
seed_header() { cctv "$1"; }
seed_armor() { cctv "$1" armor; }
seed_stanza() { cctv "$1"; }
# Signed checkpoints (Tessera; Sunlight with witness cosignatures), also
# wrapped in tlog-proof receipts; tiles, bundles and their paths.
checkpoints() { find "$m/tessera-posix-log" "$m/sunlight-cosignature-v1" -type f -name 'checkpoint*'; }
seed_note() { local i=0 f; while IFS= read -r f; do i=$((i + 1)); cp "$f" "$1/cp$i"; done < <(checkpoints); }
seed_checkpoint() {
  local i=0 f
  while IFS= read -r f; do
    i=$((i + 1)); cp "$f" "$1/cp$i"; sed '/^$/,$d' "$f" > "$1/body$i"
  done < <(checkpoints)
}
seed_tlog_proof() {
  local i=0 f
  while IFS= read -r f; do
    i=$((i + 1))
    { printf 'c2sp.org/tlog-proof@v1\nindex 0\n\n'; cat "$f"; } > "$1/r$i"
    { printf 'c2sp.org/tlog-proof@v1\nextra AA==\nindex 1\n'; printf '%044d\n' 0 | tr 0 A; echo; cat "$f"; } > "$1/x$i"
  done < <(checkpoints)
}
seed_tile_path() {
  local i=0 f
  while IFS= read -r f; do i=$((i + 1)); printf '%s' "${f#"$m/tessera-posix-log/"}" > "$1/p$i"; done \
    < <(find "$m/tessera-posix-log/tile" -type f)
  printf 'tile/3/x001/x234/067' > "$1/big"
  printf 'tile/entries/x018/x446/x744/x073/x709/x551/615' > "$1/max"
}
seed_bundle() { local i=0 f; while IFS= read -r f; do i=$((i + 1)); cp "$f" "$1/b$i"; done < <(find "$m/tessera-posix-log/tile/entries" -type f); }
# The example configuration files the units read.
seed_config() { cp "$src"/dist/config/*.conf "$1/"; }
# SSH keys made by ssh-keygen (tests/age/ssh), also as bare openssh-key-v1
# containers (first byte 0, as fuzz_ssh_key reads it).
seed_ssh_key() {
  local k
  for k in ed25519 rsa rsa.pem; do cp "$src/tests/age/ssh/$k" "$1/$k"; done
  for k in ed25519 rsa; do
    { printf '\0'; sed '1d;$d' "$src/tests/age/ssh/$k" | base64 -d; } > "$1/bin-$k"
  done
}
seed_ssh_recipient() {
  local k
  for k in ed25519 rsa rsa2047; do cp "$src/tests/age/ssh/$k.pub" "$1/$k"; done
}
seed_merkle() { printf '\x01\0\0\0\0\0\0\0\x07\0\0\0\0\0\0\0\x03\0\0\0\0\0\0\0\x05' > "$1/tree"; }

# Sanitizer reports are failures: stop at the first so libFuzzer saves the input.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1
for t in $targets; do
  mkdir -p "$work/$t"
  if [ -d "$src/fuzz/seeds/$t" ]; then cp "$src/fuzz/seeds/$t"/* "$work/$t/"; fi
  if declare -F "seed_$t" >/dev/null; then "seed_$t" "$work/$t"; fi
  echo "== fuzz_$t for ${secs}s ($(ls "$work/$t" | wc -l) seeds)"
  "$build/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=74000 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/$t" 2>&1 | grep -E "stat::number_of_executed_units|Done|ERROR|SUMMARY" || true
  # (ls of three globs fails when any one matches nothing: find each kind instead)
  found=$(find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \))
  if [ -n "$found" ]; then
    mkdir -p "$src/fuzz/artifacts" && printf '%s\n' "$found" | xargs -I{} cp {} "$src/fuzz/artifacts/"
    echo "fuzz_$t: found a failing input (copied to fuzz/artifacts/)"; exit 1
  fi
done
echo "fuzz: no crashes in: $targets"
