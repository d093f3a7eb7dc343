#!/bin/bash
# An authority's birth in its log: `fairkey authority publish` posts the
# certified transcript of a dealerless ceremony to the log the authority
# names and keeps the receipt; `authority verify --receipt` checks it.  A
# tampered transcript entry is refused by the log; a 50-participant
# ceremony, whose full entry is over 65,535 bytes, is logged as its hash;
# a made-up hash entry the log takes proves nothing for the real transcript.
. "$(dirname "$0")/lib.sh"
start=$(date +%s)

# ceremony DIR T N: a dealerless T-of-N authority naming the log, made with
# `authority dkg`; DIR/authority.pub and DIR/transcript (no shares needed).
ceremony() {
    local d=$T/$1 t=$2 n=$3 parts=()
    mkdir -p "$d"
    for i in $(seq "$n"); do
        parts+=(--participant "$("$FAIRKEY" authority dkg keygen -o "$d/p$i.key")") || fail "keygen"
    done
    "$FAIRKEY" authority dkg init --threshold "$t" --name "$1" --log "$LOG_URL" \
        --log-vkey "$LOG_VKEY" "${parts[@]}" -o "$d/session" 2>/dev/null || fail "$1: init"
    for i in $(seq "$n"); do
        "$FAIRKEY" authority dkg round1 --session "$d/session" --key "$d/p$i.key" \
            -o "$d/r1-$i" 2>/dev/null || fail "$1: round1 $i"
    done
    "$FAIRKEY" authority dkg collect --session "$d/session" -o "$d/bundle" \
        $(seq -f "$d/r1-%g" "$n") 2>/dev/null || fail "$1: collect"
    for i in $(seq "$n"); do
        "$FAIRKEY" authority dkg round2 --session "$d/session" --key "$d/p$i.key" \
            --bundle "$d/bundle" -o "$d/sig-$i" 2>/dev/null || fail "$1: round2 $i"
    done
    "$FAIRKEY" authority dkg certify --session "$d/session" --bundle "$d/bundle" \
        -o "$d/transcript" --authority-out "$d/authority.pub" $(seq -f "$d/sig-%g" "$n") \
        2>/dev/null || fail "$1: certify"
}

# The log exists first; the authorities name it; it is restarted serving them.
start_log birth
ceremony small 3 5
ceremony big 26 50
ceremony other 2 3
ok "ceremonies: 3-of-5, 26-of-50, 2-of-3 ($(( $(date +%s) - start )) s)"
AUTH=$T/small/authority.pub
bind_log birth --authority "$T/big/authority.pub"

# 3-of-5: logged in full; verify checks the receipt.
"$FAIRKEY" authority publish --authority "$AUTH" --transcript "$T/small/transcript" \
    -o "$T/small.proof" >"$T/pub.out" 2>"$T/pub.err" || fail "publish: $(cat "$T/pub.err")"
grep -q "logged in full at index 0" "$T/pub.out" || fail "publish: $(cat "$T/pub.out")"
"$FAIRKEY" authority verify --receipt "$T/small.proof" "$AUTH" "$T/small/transcript" \
    >"$T/v.out" 2>"$T/v.err" || fail "verify --receipt: $(cat "$T/v.err")"
grep -q "the transcript is in the log $LOG_URL in full, at index 0" "$T/v.out" ||
    fail "verify: $(cat "$T/v.out")"
ok "3-of-5 transcript published in full and verified with its receipt"

# The same with the hash form asked for; the default receipt name.
"$FAIRKEY" authority publish --hash --authority "$AUTH" --transcript "$T/small/transcript" \
    >"$T/pub.out" 2>"$T/pub.err" || fail "publish --hash: $(cat "$T/pub.err")"
grep -q "logged as its hash" "$T/pub.out" || fail "publish --hash: $(cat "$T/pub.out")"
"$FAIRKEY" authority verify --receipt "$T/small/transcript.tlog-proof" "$AUTH" \
    "$T/small/transcript" | grep -q "as its hash" || fail "verify of the hash receipt"
ok "publish --hash, verified"

# A tampered transcript entry: one signature changed.  The log refuses it.
{ echo "fairkey authority transcript v1"
  sed 's/^\(signature 2 \)A/\1B/; t; s/^\(signature 2 \)./\1A/' "$T/small/transcript"; } >"$T/tampered"
code=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary @"$T/tampered" "$LOG_URL/add")
[ "$code" = 403 ] || fail "tampered transcript entry: HTTP $code $(cat "$T/body")"
# A transcript of an authority the log does not serve: refused, nothing published.
! "$FAIRKEY" authority publish --authority "$T/other/authority.pub" \
    --transcript "$T/other/transcript" >/dev/null 2>"$T/pub.err" || fail "other authority published"
grep -q "the log refused the transcript (HTTP 403" "$T/pub.err" || fail "other: $(cat "$T/pub.err")"
# Publish checks the transcript against the authority before posting.
! "$FAIRKEY" authority publish --authority "$AUTH" --transcript "$T/big/transcript" \
    >/dev/null 2>"$T/pub.err" || fail "a mismatched transcript was published"
grep -q "is not the certified transcript of authority small" "$T/pub.err" ||
    fail "mismatch: $(cat "$T/pub.err")"
ok "a tampered entry and another authority's transcript refused by the log; a mismatch by publish"

# 26-of-50: the full entry is over 65,535 bytes, so it is logged as its hash.
full=$(( $(wc -c <"$T/big/transcript") + 32 ))
[ "$full" -gt 65535 ] || fail "the 50-participant entry is only $full bytes"
"$FAIRKEY" authority publish --authority "$T/big/authority.pub" --transcript "$T/big/transcript" \
    -o "$T/big.proof" >"$T/pub.out" 2>"$T/pub.err" || fail "publish big: $(cat "$T/pub.err")"
grep -q "logged as its hash" "$T/pub.out" || fail "publish big: $(cat "$T/pub.out")"
"$FAIRKEY" authority verify --receipt "$T/big.proof" "$T/big/authority.pub" "$T/big/transcript" |
    grep -q "as its hash" || fail "verify big"
# A receipt for another transcript proves nothing for this one.
! "$FAIRKEY" authority verify --receipt "$T/small.proof" "$T/big/authority.pub" \
    "$T/big/transcript" >/dev/null 2>"$T/v.err" || fail "a foreign receipt verified"
grep -q "does not prove this transcript is in authority big's log" "$T/v.err" ||
    fail "foreign receipt: $(cat "$T/v.err")"
ok "26-of-50 ($full-byte full entry) published as its hash and verified"

# Anyone may log a hash entry for a served authority (the log cannot check
# the signatures without T), but one whose hash is not T's matches nothing.
"$FAIRKEY" authority publish --hash --authority "$AUTH" --transcript "$T/small/transcript" \
    -o "$T/h.proof" >/dev/null 2>&1 || fail "publish --hash again"
{ echo "fairkey authority transcript-hash v1"
  echo "authority $("$FAIRKEY" authority show "$AUTH" | sed -n 's/^id: //p')"
  echo "transcript-sha256 $(printf '%064d' 0)"
  sed -n 's/^\(signature [0-9]* .*\)$/\1/p' "$T/small/transcript"; } >"$T/madeup"
code=$(curl -s -o "$T/madeup.proof" -w '%{http_code}' --data-binary @"$T/madeup" "$LOG_URL/add")
[ "$code" = 200 ] || fail "a well-formed hash entry was refused: HTTP $code $(cat "$T/madeup.proof")"
! "$FAIRKEY" authority verify --receipt "$T/madeup.proof" "$AUTH" "$T/small/transcript" \
    >/dev/null 2>&1 || fail "a made-up hash entry verified for the real transcript"
ok "a made-up hash entry is logged but proves nothing"
echo "publish: $(( $(date +%s) - start )) s"
echo PASS
