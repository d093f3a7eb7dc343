#!/bin/bash
# The demo is the README's first command: it must pass, quickly.
set -u
: "${FAIRKEY:?}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s)
timeout 60 "$FAIRKEY" demo >"$out" 2>&1 || { cat "$out"; echo "FAIL: demo"; exit 1; }
end=$(date +%s)
cat "$out"
grep -q "answered with share" "$out" || { echo "FAIL: no recovery"; exit 1; }
grep -q "RECOVERY REQUESTED" "$out" || { echo "FAIL: no audit finding"; exit 1; }
[ $((end - start)) -lt 30 ] || { echo "FAIL: demo took $((end - start)) s"; exit 1; }
ls -d "${TMPDIR:-/tmp}"/fairkey-demo.* 2>/dev/null && echo "note: leftover demo folders above (maybe from other runs)"
echo PASS
