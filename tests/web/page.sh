#!/bin/bash
# The transparency page (web/) in a real browser: Debian's Chromium, headless,
# driven by playwright-core (installed once from npm into the build tree,
# PLAYWRIGHT_DIR), against a real log on 127.0.0.1 cosigned by a witness and
# bound to an authority, with two recovery requests filed by `fairkey
# request` in two months.  Checks (tests/web/page_test.mjs): the page
# verifies the checkpoint, the witness quorum of the policy the log publishes
# (DIR/policy; a static host gets it as ?policy=<data: URL>) and every tile; it lists the requests, searches them,
# charts them; the owner check finds the request for an escrowed file and
# "no recovery recorded up to tree size N" for another; a tampered entry
# bundle (on the log) and a tampered checkpoint signature (on a static host
# of the log's files, which also serves the page) are shown as verification
# failures, and the page verifies Tessera's test log (an outside tlog-tiles
# implementation) at sizes 15 and 0.  Freshness and memory: a replayed
# snapshot (size 1) under the policy with ?max-age=2 is STALE and the owner
# check claims no absence; a key change at one address is refused (trust on
# first use); a smaller tree than one seen before is a ROLLBACK; on a
# 300-then-600-entry open log the remembered root is recomputed from the new
# tiles, and a different one is a FORK.  Screenshots go to PAGE_OUT (in the build tree); their paths are
# printed.  Skipped (77) without node, npm, Chromium or the npm package.
. "$(dirname "$0")/../e2e/lib.sh"
: "${TIME_SHIFT_LIB:?}"
PLAYWRIGHT_VERSION=1.61.1
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
HERE=$(cd "$(dirname "$0")" && pwd)
for c in node npm python3; do
    command -v "$c" >/dev/null 2>&1 || { echo "skipped: $c is not installed (scripts/deps.sh)"; exit 77; }
done
[ -x "$CHROMIUM" ] || { echo "skipped: no Chromium at $CHROMIUM (apt-get install chromium)"; exit 77; }
export PLAYWRIGHT_DIR=${PLAYWRIGHT_DIR:-$FK_BUILD_DIR/playwright}
if [ ! -f "$PLAYWRIGHT_DIR/node_modules/playwright-core/package.json" ]; then
    mkdir -p "$PLAYWRIGHT_DIR"
    if ! (cd "$PLAYWRIGHT_DIR" && timeout 200 npm install --no-audit --no-fund --silent \
            "playwright-core@$PLAYWRIGHT_VERSION" >npm.log 2>&1); then
        echo "skipped: npm could not install playwright-core@$PLAYWRIGHT_VERSION: $(tail -n 3 "$PLAYWRIGHT_DIR/npm.log")"
        exit 77
    fi
fi
export CHROMIUM
OUT=${PAGE_OUT:-$FK_BUILD_DIR/tests/web/page}
rm -rf "$OUT" && mkdir -p "$OUT" || fail "cannot create $OUT"
echo "# $("$CHROMIUM" --version 2>/dev/null), playwright-core $PLAYWRIGHT_VERSION, node $(node --version)"
browser() { node "$HERE/page_test.mjs" "$@" || FAILED=1; }
FAILED=0

# A log, a witness that cosigns it, and the policy that requires the witness.
start_log logP
"$FAIRKEY" witness serve --dir "$T/w1" --listen 127.0.0.1:0 --log "$LOG_VKEY" \
    --name witness.test/w1 >"$T/w1.out" 2>"$T/w1.err" &
PIDS="$PIDS $!"
for _ in $(seq 1 200); do [ "$(wc -l <"$T/w1.out")" -ge 2 ] && break; sleep 0.05; done
W1_VKEY=$(sed -n 1p "$T/w1.out"); W1_URL=$(sed -n 2p "$T/w1.out")
[ -n "$W1_URL" ] || fail "witness did not start: $(cat "$T/w1.err")"
printf 'log %s %s\nwitness w1 %s\nquorum w1\n' "$LOG_VKEY" "$LOG_URL" "$W1_VKEY" >"$T/policy"
setup_authority 2 3 --log-policy "$T/policy"
# The policy next to the checkpoint: the log serves DIR/policy at /policy.
cp "$T/policy" "$T/logP/policy"
bind_log logP --witness "$W1_VKEY=$W1_URL"

# Two requests: court.test/judge-1 for file.age now, police.test/unit-7 for
# third.age dated 40 days ago; other.age is never asked for; then a vendor's
# source deposit (an entry of another kind).
setup_file
file_request
# The snapshot a replaying log operator keeps serving: the log at size 1,
# cosigned by w1 then, before the other requests.
mkdir -p "$T/snap" && cp -r "$T/logP/checkpoint" "$T/logP/tile" "$T/logP/vkey" "$T/snap/" || fail "snapshot"
[ "$(sed -n 2p "$T/snap/checkpoint")" = 1 ] && grep -q "^— witness.test/w1 " "$T/snap/checkpoint" ||
    fail "the snapshot is not a cosigned checkpoint of size 1: $(cat "$T/snap/checkpoint")"
SNAP_AT=$(date +%s)
"$FAIRKEY" encrypt -r "$USER_R" -r "$AUTH_R" -o "$T/other.age" "$T/plain" || fail "encrypt other"
"$FAIRKEY" encrypt -r "$USER_R" -r "$AUTH_R" -o "$T/third.age" "$T/plain" || fail "encrypt third"
"$FAIRKEY" request keygen --name police.test/unit-7 -o "$T/req2.key" >/dev/null || fail "keygen 2"
# An ASan build needs its runtime first in the preload list (as window.sh does).
PRELOAD=$TIME_SHIFT_LIB
ASAN_RT=$(ldd "$FAIRKEY" | sed -n 's/.*libasan[^ ]* => \([^ ]*\) .*/\1/p' | head -1)
[ -n "$ASAN_RT" ] && PRELOAD="$ASAN_RT:$PRELOAD"
LD_PRELOAD="$PRELOAD" FK_TIME_SHIFT=-3456000 "$FAIRKEY" request --authority "$AUTH" \
    --key "$T/req2.key" --warrant "$T/warrant.txt" --reason "older case" -o "$T/receipt2" \
    "$T/third.age" >/dev/null || fail "request 2"
# A vendor's source deposit (docs/protocol.md 10): another entry kind.
"$FAIRKEY" request keygen --name vendor.test/acme -o "$T/vendor.key" >/dev/null || fail "vendor keygen"
head -c 3000 /dev/urandom >"$T/src.tar"
echo "acme 1.0 for linux" >"$T/acme-linux"
"$FAIRKEY" deposit --authority "$AUTH" --key "$T/vendor.key" -r "$USER_R" --product acme \
    --version 1.0 --binary "$T/acme-linux" -o "$T/src.tar.age" "$T/src.tar" >/dev/null 2>"$T/dep.err" ||
    fail "deposit: $(cat "$T/dep.err")"
SIZE=$(curl -s "$LOG_URL/checkpoint" | sed -n 2p)
[ "$SIZE" = 3 ] || fail "the log holds $SIZE entries, not 3"
ok "a log of 2 requests and a source deposit, cosigned by witness w1"

# The policy as a data: URL, percent-encoded ('+' would read as a space).
POLICY=$(base64 -w0 "$T/policy" | sed 's/+/%2B/g; s|/|%2F|g; s/=/%3D/g')
# file.age in age's ASCII armor (PEM, base64 in 64-column lines).
{ echo "-----BEGIN AGE ENCRYPTED FILE-----"; base64 -w 64 "$T/file.age"
  echo "-----END AGE ENCRYPTED FILE-----"; } >"$T/file.age.asc"
browser verified "$LOG_URL/" "$OUT" "$T/file.age" "$T/other.age" "$SIZE" "$T/file.age.asc"

# The same page from a static host of the log's files (no daemon code).
mkdir -p "$T/static"
cp -r "$T/logP/checkpoint" "$T/logP/vkey" "$T/logP/tile" "$T/static/"
cp "$FK_SOURCE_DIR"/web/* "$T/static/"
serve_out="$T/static.srv"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$T/static" >"$serve_out" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 1 200); do
    SPORT=$(sed -n 's/.* port \([0-9][0-9]*\).*/\1/p' "$serve_out" | head -1)
    [ -n "$SPORT" ] && break
    sleep 0.05
done
[ -n "$SPORT" ] || fail "static server did not start: $(cat "$serve_out")"
SURL="http://127.0.0.1:$SPORT"
if node "$HERE/page_test.mjs" bench "$SURL/index.html?policy=data:text/plain;base64,$POLICY" "" >"$T/static.out" 2>&1 &&
        grep -q "^ok - the page verified the log" "$T/static.out"; then
    ok "the page on a static host of the log's files verifies it"
else
    FAILED=1; echo "FAIL - the page on a static host: $(cat "$T/static.out")"
fi

# The page against an outside log: Tessera's test log (tests/vectors/merkle),
# served statically with the page beside it, pinned with ?vkey=, at its
# sizes 15 (a partial tile) and 0 (the empty tree).
TESSERA_VKEY=example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx
cp -r "$FK_TESTDATA/merkle/tessera-posix-log" "$T/static/tessera"
cp "$FK_SOURCE_DIR"/web/* "$T/static/tessera/"
for n in 15 0; do
    cp "$T/static/tessera/checkpoint.$n" "$T/static/tessera/checkpoint"
    if node "$HERE/page_test.mjs" bench "$SURL/tessera/index.html?vkey=$TESSERA_VKEY" "" >"$T/tessera.out" 2>&1 &&
            grep -q "^page load: $n entries" "$T/tessera.out"; then
        ok "the page verifies Tessera's test log at size $n"
    else
        FAILED=1; echo "FAIL - the page on Tessera's test log at size $n: $(cat "$T/tessera.out")"
    fi
done

# (a) The replayed snapshot (size 1; third.age's request came later) under
# the policy with ?max-age=2, once its cosignature is over 2 s old: STALE, and
# the owner check of third.age does not say "no recovery recorded".
mkdir -p "$T/static/snap" && cp -r "$T/snap/"* "$T/static/snap/" && cp "$FK_SOURCE_DIR"/web/* "$T/static/snap/"
while [ $(($(date +%s) - SNAP_AT)) -le 3 ]; do sleep 1; done
browser stale "$SURL/snap/index.html?policy=data:text/plain;base64,$POLICY&max-age=2" "$OUT" "$T/third.age" 1

# (b) Trust on first use: the page at one address verifies the log and
# remembers its key; the same address later serves another log (Tessera's
# test log, another key): refused.
SW=$T/static/tofu
mkdir -p "$SW" && cp "$FK_SOURCE_DIR"/web/* "$SW/"
STEPS=$(printf '[{"run":"cp -r %s %s %s %s/","expect":"ok","trust":"trusted on first use[^]*Freshness[^]*NOT verified: the policy names no witness quorum"},' \
    "$T/logP/checkpoint" "$T/logP/vkey" "$T/logP/tile" "$SW"
  printf '{"run":"rm -rf %s/checkpoint %s/vkey %s/tile && cp -r %s/tile %s/ && cp %s/checkpoint.15 %s/checkpoint && echo %s >%s/vkey","expect":"NOT the one this browser saw here before"}]' \
    "$SW" "$SW" "$SW" "$T/static/tessera" "$SW" "$T/static/tessera" "$SW" "$TESSERA_VKEY" "$SW")
browser visits "$SURL/tofu/index.html" "$OUT" tofu-key-change "$STEPS"

# (c) Rollback: the snapshot (size 1), then the log (size 3, its first entry's
# root recomputed from the tiles equals the remembered one), then the
# snapshot again: refused.
SW=$T/static/roll
mkdir -p "$SW" && cp "$FK_SOURCE_DIR"/web/* "$SW/"
STEPS=$(printf '[{"run":"cp -r %s/checkpoint %s/vkey %s/tile %s/","expect":"ok","trust":"has not verified this log before"},' \
    "$T/snap" "$T/snap" "$T/snap" "$SW"
  printf '{"run":"rm -rf %s/checkpoint %s/tile && cp -r %s %s %s/","expect":"ok","trust":"verified tree size 1 here before; its root is the root of the first 1 entries of this tree"},' \
    "$SW" "$SW" "$T/logP/checkpoint" "$T/logP/tile" "$SW"
  printf '{"run":"rm -rf %s/checkpoint %s/tile && cp -r %s/checkpoint %s/tile %s/","expect":"ROLLBACK: the log shows tree size 1, older than the tree of size 3 this browser verified here before"}]' \
    "$SW" "$SW" "$T/snap" "$T/snap" "$SW")
browser visits "$SURL/roll/index.html" "$OUT" rollback "$STEPS"

# (d) Consistency across tiles: an open log of 300 plain entries, then 600;
# the page remembers size 300 and on the next visit recomputes its root from
# the 600-entry tree's verified tiles (a level-1 node, a re-fetched full hash
# tile); a remembered root that differs is a fork.
"$FAIRKEY" log serve --dir "$T/logB" --listen 127.0.0.1:0 --open --origin fk.test/logB \
    --batch-ms 50 >"$T/logB.out" 2>"$T/logB.err" &
PIDS="$PIDS $!"
BPORT=$(wait_url "$T/logB.out") || fail "log B did not start: $(cat "$T/logB.err")"
BURL=http://127.0.0.1:$BPORT
BVKEY=$(grep -o "fk.test/logB+[0-9a-f]\{8\}+[A-Za-z0-9+/=]*" "$T/logB.out" | head -1)
fill_b() {
    "$FK_BUILD_DIR/tests/log/log_bench" add "$BURL" "$BVKEY" --n 300 --conc 64 --size 120 \
        --prefix "b$1" --client raw >"$T/logB.add" 2>&1 || fail "log_bench: $(cat "$T/logB.add")"
    for _ in $(seq 1 200); do [ "$(sed -n 2p "$T/logB/checkpoint")" = "$2" ] && return; sleep 0.05; done
    fail "log B did not reach size $2"
}
fill_b 1 300
mkdir -p "$T/snapB" && cp -r "$T/logB/checkpoint" "$T/logB/tile" "$T/logB/vkey" "$T/snapB/" || fail "snapshot B"
fill_b 2 600
SW=$T/static/cons
mkdir -p "$SW" && cp "$FK_SOURCE_DIR"/web/* "$SW/"
STEPS=$(printf '[{"run":"cp -r %s/checkpoint %s/vkey %s/tile %s/","expect":"ok"},' "$T/snapB" "$T/snapB" "$T/snapB" "$SW"
  printf '{"run":"rm -rf %s/checkpoint %s/tile && cp -r %s/checkpoint %s/tile %s/","expect":"ok","trust":"verified tree size 300 here before; its root is the root of the first 300 entries of this tree"},' \
    "$SW" "$SW" "$T/logB" "$T/logB" "$SW"
  printf '{"expect":"ok","trust":"verified tree size 600 here before, with the same root"},'
  printf '{"forge":true,"expect":"FORK: the first 600 entries of this tree have the root"}]')
browser visits "$SURL/cons/index.html" "$OUT" consistency "$STEPS"

# A tampered entry bundle on the real log: one request's reason changed.
BUNDLE=$(find "$T/logP/tile/entries" -type f | head -1)
cp "$BUNDLE" "$T/bundle.orig"
perl -pi -e 's/e2e test case/e2e TEST case/' "$BUNDLE"
cmp -s "$BUNDLE" "$T/bundle.orig" && fail "the bundle $BUNDLE was not changed"
browser failed "$LOG_URL/" "$OUT" tampered-tile \
    "leaf hash is not the one .* holds"
cp "$T/bundle.orig" "$BUNDLE"

# A tampered checkpoint signature on the static host: one base64 character
# of the log's signature line changed.
LINE=$(grep -n "^— fk.test/logP " "$T/static/checkpoint" | cut -d: -f1)
perl -pi -e 'if ($. == '"$LINE"') { s/^(— \S+ .{10})(.)/$1 . ($2 eq "A" ? "B" : "A")/e }' "$T/static/checkpoint"
browser failed "$SURL/index.html?policy=data:text/plain;base64,$POLICY" "$OUT" tampered-checkpoint \
    "signature line of fk.test/logP .*does NOT verify"

# A DIR/policy that does not parse: the log does not start, and says why.
mkdir -m 700 "$T/badpol" && printf 'quorum w9\n' >"$T/badpol/policy"
if timeout 10 "$FAIRKEY" log serve --dir "$T/badpol" --listen 127.0.0.1:0 --open >/dev/null 2>"$T/badpol.err"; then
    FAILED=1; echo "FAIL - a log with a broken DIR/policy started"
elif [ "$(grep -c '' "$T/badpol.err")" = 1 ] && grep -q "badpol/policy is not a C2SP tlog-policy" "$T/badpol.err"; then
    ok "a log with a DIR/policy that does not parse refuses to start with one line"
else
    FAILED=1; echo "FAIL - a broken DIR/policy: $(cat "$T/badpol.err")"
fi

# DIR/policy at its limit (FK_TLOG_POLICY_MAX_SIZE, 65,536 bytes) is served;
# one byte more is refused.
mkdir -m 700 "$T/bigpol"
{ printf 'log %s\nquorum none\n' "$LOG_VKEY"; printf '#'; } >"$T/bigpol/policy"
pad=$((65536 - $(stat -c %s "$T/bigpol/policy") - 1))
{ head -c "$pad" /dev/zero | tr '\0' '#'; echo; } >>"$T/bigpol/policy"
"$FAIRKEY" log serve --dir "$T/bigpol" --listen 127.0.0.1:0 --open >"$T/bigpol.out" 2>"$T/bigpol.err" &
BIG_PID=$!
PIDS="$PIDS $BIG_PID"
BPORT=$(wait_url "$T/bigpol.out") || fail "a log with a 65,536-byte DIR/policy did not start: $(cat "$T/bigpol.err")"
if [ "$(curl -s "http://127.0.0.1:$BPORT/policy" | wc -c)" = 65536 ]; then
    ok "a 65,536-byte DIR/policy is served at /policy"
else
    FAILED=1; echo "FAIL - a 65,536-byte DIR/policy is not served whole"
fi
kill "$BIG_PID"; wait "$BIG_PID" 2>/dev/null
printf '#' >>"$T/bigpol/policy"
[ "$(stat -c %s "$T/bigpol/policy")" = 65537 ] || fail "the policy one past the limit is not 65,537 bytes"
if timeout 10 "$FAIRKEY" log serve --dir "$T/bigpol" --listen 127.0.0.1:0 --open >/dev/null 2>"$T/bigpol.err"; then
    FAILED=1; echo "FAIL - a log with a 65,537-byte DIR/policy started"
elif grep -q "bigpol/policy is not a C2SP tlog-policy" "$T/bigpol.err"; then
    ok "a DIR/policy over 65,536 bytes is refused"
else
    FAILED=1; echo "FAIL - a DIR/policy over 65,536 bytes: $(cat "$T/bigpol.err")"
fi

echo "# screenshots in $OUT:"
ls "$OUT"/*.png | sed 's/^/#   /'
[ "$FAILED" -eq 0 ] || { echo "FAIL: the transparency page"; exit 1; }
echo "ok: the transparency page"
