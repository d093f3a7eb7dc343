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
# The authority is made without a dealer: the ceremony's steps are shown.
for want in "participant key" "opens a 3-of-5 session" "Round 1:" "Round 2:" \
    "transcript signed by all 5" "organisation 5: share-5.key"; do
    grep -q "$want" "$out" || { echo "FAIL: no DKG step '$want'"; exit 1; }
done
grep -q "transcript of authority demo-authority logged in full" "$out" &&
    grep -q "the transcript is in the log" "$out" || { echo "FAIL: the birth was not published"; exit 1; }
grep -q "authority create" "$out" && { echo "FAIL: the demo used the dealer"; exit 1; }
grep -q "answered with share" "$out" || { echo "FAIL: no recovery"; exit 1; }
grep -q "RECOVERY REQUESTED" "$out" || { echo "FAIL: no audit finding"; exit 1; }
# The source deposit: logged, inspected, verified, and the vendor's audit finds both.
grep -q "deposit logged at index" "$out" &&
    grep -q "archive .*inspected-src.tar: matches the logged SHA-256 and size" "$out" &&
    grep -q "DEPOSIT logged at log index .* by vendor demo.fairkey.test/vendor" "$out" &&
    grep -q "INSPECTION of the deposit at log index" "$out" || { echo "FAIL: no deposit or inspection"; exit 1; }
[ $((end - start)) -lt 30 ] || { echo "FAIL: demo took $((end - start)) s"; exit 1; }
ls -d "${TMPDIR:-/tmp}"/fairkey-demo.* 2>/dev/null && echo "note: leftover demo folders above (maybe from other runs)"
echo PASS
