#!/bin/sh
# Install dependencies, build, and run `fairkey demo` (README's first command).
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then sh scripts/deps.sh; fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
exec ./build/fairkey demo
