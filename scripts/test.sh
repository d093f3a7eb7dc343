#!/bin/sh
# The whole test suite (README's second command): the normal build and its
# CTest suite, the same suite under AddressSanitizer + UndefinedBehaviorSanitizer,
# and bounded libFuzzer smoke runs.  FK_FUZZ_SECONDS sets the per-target fuzz
# time (default 45); FK_SKIP_ASAN=1 / FK_SKIP_FUZZ=1 skip those stages.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)
# As root on a fresh machine, install the dependencies first (FK_SKIP_DEPS=1 skips).
if [ "$(id -u)" = 0 ] && [ "${FK_SKIP_DEPS:-0}" != 1 ]; then sh scripts/deps.sh; fi

echo "== build and test (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

if [ "${FK_SKIP_ASAN:-0}" != 1 ]; then
    echo "== build and test under ASan+UBSan"
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFK_SANITIZE=ON
    cmake --build build-asan -j"$jobs"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build-asan --output-on-failure -j"$jobs"
fi

if [ "${FK_SKIP_FUZZ:-0}" != 1 ] && [ -x fuzz/run.sh ]; then
    echo "== fuzz smoke runs (${FK_FUZZ_SECONDS:-45} s per target)"
    fuzz/run.sh "${FK_FUZZ_SECONDS:-45}"
fi
echo "== all tests passed"
