#!/bin/bash
# What `fairkey log serve --authority` takes: signed recovery requests for
# its authorities, from the --requesters it lists, at most --rate a minute
# per requester.  Random bytes, a badly signed request, a request for
# another authority, a requester not listed and a burst past the rate are
# refused with a 4xx and never sequenced; honest requests are logged.  A
# log with neither --authority nor --open does not start.
. "$(dirname "$0")/common.sh"
TOOL=$1
A="$WORK/a" B="$WORK/b" R="$WORK/req"
mkdir -p "$R"
# The authorities name some log; which one does not matter to admission.
NAMED_LOG="--log https://log.example.com/ --log-vkey example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"
"$FAIRKEY" authority create --name served -t 1 -n 1 $NAMED_LOG -o "$A" >/dev/null || fail "authority a"
"$FAIRKEY" authority create --name other -t 1 -n 1 $NAMED_LOG -o "$B" >/dev/null || fail "authority b"
"$TOOL" "$A/authority.pub" ok.test/alice 4 "$R" || fail "alice's requests"
"$TOOL" "$A/authority.pub" bad.test/mallory 1 "$R" || fail "mallory's request"
mkdir "$R/blind"
"$TOOL" "$A/authority.pub" ok.test/alice 1 "$R/blind" blind || fail "a blinded request"
mkdir "$R/b"
"$TOOL" "$B/authority.pub" ok.test/alice 1 "$R/b" || fail "a request for b"
# The request for b must come from the allowed key: same name, so list both
# of alice's keys (the second key is allowed, its request names b).
cat "$R/alice.pub" "$R/b/alice.pub" "$R/blind/alice.pub" >"$WORK/requesters"

# Start-up refusals: one line each, saying what to give.
! timeout 10 "$FAIRKEY" log serve --dir "$WORK/x" --listen 127.0.0.1:0 >/dev/null 2>"$WORK/none.err" ||
    fail "a log without --authority or --open started"
grep -q -- "give --authority FILE .* or --open" "$WORK/none.err" || fail "no-admission message: $(cat "$WORK/none.err")"
[ "$(wc -l <"$WORK/none.err")" = 1 ] || fail "refusal is not one line"
! timeout 10 "$FAIRKEY" log serve --dir "$WORK/x" --listen 127.0.0.1:0 --open --authority "$A/authority.pub" \
    >/dev/null 2>"$WORK/both.err" || fail "--open with --authority started"
! timeout 10 "$FAIRKEY" log serve --dir "$WORK/x" --listen 127.0.0.1:0 --authority "$WORK/requesters" \
    >/dev/null 2>"$WORK/bad.err" || fail "a requesters file was taken as an authority"
grep -q "not a valid authority file" "$WORK/bad.err" || fail "bad authority: $(cat "$WORK/bad.err")"
# FKI_LOG_MAX_AUTHORITIES = 64: at the limit it starts, one past is refused.
args=(); for _ in $(seq 64); do args+=(--authority "$A/authority.pub"); done
start_log "$WORK/many" "${args[@]}"
stop_log
! timeout 10 "$FAIRKEY" log serve --dir "$WORK/many" --listen 127.0.0.1:0 "${args[@]}" \
    --authority "$A/authority.pub" >/dev/null 2>"$WORK/many.err" || fail "65 authorities accepted"
grep -q "at most 64 authorities" "$WORK/many.err" || fail "authority limit: $(cat "$WORK/many.err")"
# --rate: 1..60000 (FKI_LOG_MAX_RATE).
for r in 0 60001 x; do
    ! timeout 10 "$FAIRKEY" log serve --dir "$WORK/x" --listen 127.0.0.1:0 --authority "$A/authority.pub" \
        --rate "$r" >/dev/null 2>"$WORK/rate.err" || fail "--rate $r accepted"
    grep -q -- "--rate must be 1..60000" "$WORK/rate.err" || fail "rate $r: $(cat "$WORK/rate.err")"
done
echo "ok: start-up refusals"

start_log "$WORK/log" --authority "$A/authority.pub" --authority "$B/authority.pub" \
    --requesters "$WORK/requesters" --rate 3 --batch-ms 20
stop_log
# B was only there to check several authorities parse; serve A alone.
start_log "$WORK/log" --authority "$A/authority.pub" --requesters "$WORK/requesters" --rate 3 \
    --batch-ms 20
post() { http POST /add --data-binary @"$1"; }
expect() { # CODE FILE WHAT [body pattern]
    local got
    got=$(post "$2")
    [ "$got" = "$1" ] || fail "$3: HTTP $got, want $1: $(cat "$WORK/body")"
    [ "$1" = 200 ] || [ "$(wc -l <"$WORK/body")" = 1 ] || fail "$3: the reason is not one line"
    [ -z "${4:-}" ] || grep -q -- "$4" "$WORK/body" || fail "$3: reason $(cat "$WORK/body")"
}
head -c 300 /dev/urandom >"$WORK/random"
expect 400 "$WORK/random" "random bytes" "not a signed fairkey recovery request"
sed 's/admission test 0/admission test X/' "$R/alice-0.req" >"$WORK/forged"
cmp -s "$WORK/forged" "$R/alice-0.req" && fail "forgery did not change the request"
expect 403 "$WORK/forged" "a badly signed request" "signature does not verify"
head -c 200 "$R/alice-0.req" >"$WORK/cut"
expect 400 "$WORK/cut" "a truncated request" "not a well-formed"
expect 403 "$R/b/alice-0.req" "a request for another authority" "authority this log does not serve"
expect 403 "$R/mallory-0.req" "a requester not listed" "requester not allowed"
expect 400 "$R/blind/alice-0.req" "a target whose validity proof fails" "not an escrow stanza of its authority"
{ cat "$R/alice-0.req"; head -c 4000 /dev/zero | tr '\0' a; } >"$WORK/big"
expect 413 "$WORK/big" "a request over 4096 bytes" "at most 4096 bytes"
[ "$(http GET /checkpoint)" = 200 ] && [ "$(sed -n 2p "$WORK/body")" = 0 ] ||
    fail "a refused entry was sequenced: $(cat "$WORK/body")"
echo "ok: random bytes, a bad signature, another authority, an unlisted requester, a forged target, an oversized request: refused"

# The rate: 3 a minute; the 4th in the burst gets 429 with Retry-After.
for i in 0 1 2; do expect 200 "$R/alice-$i.req" "honest request $i"; done
expect 429 "$R/alice-3.req" "a burst past the rate" "over its rate"
grep -qi '^retry-after: 60' "$WORK/headers" || fail "429 without Retry-After"
[ "$(http GET /checkpoint)" = 200 ] && [ "$(sed -n 2p "$WORK/body")" = 3 ] ||
    fail "the log does not hold exactly the 3 honest requests: $(cat "$WORK/body")"
"$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --entry "$R/alice-0.req" >/dev/null ||
    fail "an honest request is not in the log"
echo "ok: 3 honest requests logged, the 4th in a minute refused (429)"
stop_log
echo PASS
