# fairkey witness serve against the Tessera log's checkpoints (outside data,
# signed by upstream's key): every status code tlog-witness requires.
. "$(dirname "$0")/common.sh"
: "${FK_TESTDATA:?}"
TESS=$FK_TESTDATA/merkle/tessera-posix-log
TVKEY=example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx

# start_witness DIR [serve options...]: sets W_PID, W_URL, W_VKEY.
start_witness() {
    start witness "$@"
    W_PID=$PID W_URL=$URL W_VKEY=$VKEY
}

# post FILE: prints the status; body in $WORK/resp, headers in $WORK/hdr.
post() {
    curl -s --max-time 20 -o "$WORK/resp" -D "$WORK/hdr" -w '%{http_code}' \
        --data-binary @"$1" "$W_URL/add-checkpoint"
}
body() { "$TOOL" body "$1" "$2" "$TESS" >"$WORK/req"; }
# expect STATUS WHAT: POST $WORK/req, check the status.
expect() {
    local got
    got=$(post "$WORK/req")
    [ "$got" = "$1" ] || fail "$2: got $got, want $1 ($(head -c 200 "$WORK/resp"))"
}
# cosigned N: the last answer is one valid cosignature of checkpoint.N.
cosigned() {
    grep -c '' "$WORK/resp" | grep -qx 1 || fail "answer is not one line"
    cat "$TESS/checkpoint.$1" "$WORK/resp" >"$WORK/cosigned"
    [ "$("$TOOL" count "$WORK/cosigned" "$TVKEY" "$W_VKEY")" = 1 ] ||
        fail "answer for size $1 is not a valid cosignature"
}

# Usage and key errors.
"$FAIRKEY" witness serve --dir "$WORK/x" --listen 127.0.0.1:0 2>/dev/null && fail "no --log accepted"
"$FAIRKEY" witness serve --dir "$WORK/x" --listen 127.0.0.1:0 --log nonsense 2>"$WORK/err" &&
    fail "bad --log accepted"
grep -q '^fairkey: ' "$WORK/err" || fail "bad --log: no fairkey: line"

start_witness "$WORK/w1" --log "$TVKEY" --name witness.test/w1
case "$W_VKEY" in witness.test/w1+*) ;; *) fail "vkey $W_VKEY";; esac
[ "$(stat -c %a "$WORK/w1/witness.key")" = 600 ] || fail "witness.key not 0600"
ORIGIN_HASH=$(printf %s example.com/log/testdata | sha256sum | cut -d' ' -f1)
[ "$(curl -s -o /dev/null -w '%{http_code}' "$W_URL/$ORIGIN_HASH/checkpoint")" = 404 ] ||
    fail "monitoring checkpoint before any cosignature"

# Malformed bodies: 400.
printf '' >"$WORK/req"; expect 400 "empty body"
{ printf 'old 03\n\n'; cat "$TESS/checkpoint.3"; } >"$WORK/req"; expect 400 "leading zero"
{ printf 'olde 0\n\n'; cat "$TESS/checkpoint.3"; } >"$WORK/req"; expect 400 "bad old line"
{ printf 'old 0\n'; cat "$TESS/checkpoint.3"; } >"$WORK/req"; expect 400 "no empty line"
{ printf 'old 0\nnot base64\n\n'; cat "$TESS/checkpoint.3"; } >"$WORK/req"; expect 400 "bad proof line"
{ printf 'old 1\n'; for _ in $(seq 64); do echo 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; done
  echo; cat "$TESS/checkpoint.3"; } >"$WORK/req"; expect 400 "64 proof lines"
{ printf 'old 0\n\n'; head -3 "$TESS/checkpoint.3"; } >"$WORK/req"; expect 400 "unsigned note"
body 5 3; expect 400 "old size above the checkpoint size"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$W_URL/add-checkpoint")" = 405 ] || fail "GET not 405"

# Old size 0 takes no proof: 422 (nothing stored yet).
{ printf 'old 0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n'; cat "$TESS/checkpoint.3"; } >"$WORK/req"
expect 422 "proof with old size 0"

# The empty tree, then size 3 from 0.
body 0 0; expect 200 "empty tree"; cosigned 0
body 0 3; expect 200 "first checkpoint"; cosigned 3
# The same checkpoint again (old = size, same root): cosigned again.
body 3 3; expect 200 "same checkpoint"; cosigned 3
# A client that thinks the witness is at 0: 409 with the size.
body 0 5; expect 409 "stale old size"
[ "$(cat "$WORK/resp")" = 3 ] || fail "409 body: $(cat "$WORK/resp")"
grep -qi '^content-type: text/x.tlog.size' "$WORK/hdr" || fail "409 content type"
# A proof for another old size (4 -> 5 sent as 3 -> 5): 422.
body 4 5; sed -i '1s/.*/old 3/' "$WORK/req"; expect 422 "wrong consistency proof"
# A mangled proof: 422.
body 3 5; sed -i '2s|.*|47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=|' "$WORK/req"; expect 422 "mangled proof"
body 3 5; expect 200 "3 -> 5"; cosigned 5
body 5 15; expect 200 "5 -> 15"; cosigned 15
# Rollback: an older checkpoint with the current size as old: 400; with its
# own size as old: 409 (the witness holds 15).
body 15 7
expect 400 "rollback"
body 7 7; expect 409 "rollback with matching old"
[ "$(cat "$WORK/resp")" = 15 ] || fail "409 body after rollback"

# Signatures: a corrupted log signature (same key ID) is 403; a note signed
# only by an unknown key is 403; an unknown origin is 404.
body 15 15
sed -i '$s/.\{6\}$/AAAAA=/' "$WORK/req"
expect 403 "bad log signature"
{ printf 'old 15\n\n'; head -4 "$TESS/checkpoint.15"
  tail -1 "$FK_TESTDATA/merkle/sunlight-cosignature-v1/witness2/88ad7a28caeb0b2aa890fdf0304c2fcaf59fca2ee140134ff8c1300bac493482/checkpoint"; } >"$WORK/req"
expect 403 "unknown key only"
{ printf 'old 0\n\n'; cat "$FK_TESTDATA/merkle/sunlight-cosignature-v1/witness2/88ad7a28caeb0b2aa890fdf0304c2fcaf59fca2ee140134ff8c1300bac493482/checkpoint"; } >"$WORK/req"
expect 404 "unknown origin"

# Monitoring: the latest cosigned checkpoint, with the log's and our lines.
[ "$(curl -s -o "$WORK/mon" -w '%{http_code}' "$W_URL/$ORIGIN_HASH/checkpoint")" = 200 ] ||
    fail "monitoring checkpoint"
[ "$(sed -n 2p "$WORK/mon")" = 15 ] || fail "monitoring checkpoint size"
[ "$("$TOOL" count "$WORK/mon" "$TVKEY" "$W_VKEY")" = 1 ] || fail "monitoring checkpoint cosignature"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$W_URL/$(printf x | sha256sum | cut -d' ' -f1)/checkpoint")" = 404 ] ||
    fail "unknown origin hash"

# Durable: after a restart the witness still holds 15 and its key.
kill -TERM "$W_PID"; wait "$W_PID" || fail "witness exited non-zero on SIGTERM"
OLDKEY=$W_VKEY
start_witness "$WORK/w1" --log "$TVKEY"
[ "$W_VKEY" = "$OLDKEY" ] || fail "key changed across restart"
body 0 15; expect 409 "size after restart"
[ "$(cat "$WORK/resp")" = 15 ] || fail "size after restart: $(cat "$WORK/resp")"
body 15 15; expect 200 "after restart"; cosigned 15
"$FAIRKEY" witness serve --dir "$WORK/w1" --listen 127.0.0.1:0 --log "$TVKEY" --name other.name \
    2>"$WORK/err" && fail "--name that differs from witness.key accepted"
grep -q '^fairkey: ' "$WORK/err" || fail "--name mismatch: no fairkey: line"

# Concurrent submissions of the same step: exactly one wins, the rest see 409
# or a repeat of the same tree (never a rollback).
start_witness "$WORK/w2" --log "$TVKEY"
body 0 9; cp "$WORK/req" "$WORK/req9"
seq 8 | xargs -P 8 -I{} curl -s --max-time 20 -o /dev/null -w '%{http_code}\n' \
    --data-binary @"$WORK/req9" "$W_URL/add-checkpoint" >"$WORK/codes"
[ "$(grep -c 200 "$WORK/codes")" = 1 ] || fail "racing adds: $(tr '\n' ' ' <"$WORK/codes")"
[ "$(grep -c 409 "$WORK/codes")" = 7 ] || fail "racing adds: $(tr '\n' ' ' <"$WORK/codes")"
echo "witness_serve: ok"
