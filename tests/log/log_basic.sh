#!/bin/bash
# The log daemon end to end: adds (single, concurrent, duplicate, limits),
# malformed requests, the tlog-tiles read path and its cache headers, the
# client's verification (signature, consistency, inclusion, full replay),
# and a clean restart that keeps the key and the tree.
. "$(dirname "$0")/common.sh"
D="$WORK/log"
start_log "$D" --open --batch-ms 50 --origin example.test/log
case "$LOG_VKEY" in example.test/log+*) ;; *) fail "vkey has the wrong name: $LOG_VKEY" ;; esac
[ "$(stat -c %a "$D.key")" = 600 ] || fail "the key file is not 0600"
[ ! -e "$D/log.key" ] || fail "the signing key was written inside the published directory"
# It holds the signing key: no core file (fk_process_protect).
awk '/^Max core file size/ {exit !($5 == 0 && $6 == 0)}' "/proc/$LOG_PID/limits" ||
    fail "log daemon may write a core file: $(grep core "/proc/$LOG_PID/limits")"

# Empty log: a signed checkpoint of size 0 from the start.
[ "$(http GET /checkpoint)" = 200 ] || fail "GET /checkpoint"
sed -n 2p "$WORK/body" | grep -qx 0 || fail "new log is not size 0"
grep -qi '^cache-control: no-cache' "$WORK/headers" || fail "checkpoint cache header"

# One add: the answer is a tlog-proof for index 0.
[ "$(http POST /add --data-binary 'first entry')" = 200 ] || fail "first add"
head -1 "$WORK/body" | grep -qx 'c2sp.org/tlog-proof@v1' || fail "add answer is not a tlog-proof"
grep -qx 'index 0' "$WORK/body" || fail "first entry not at index 0"

# A duplicate gets the original index, in the same tree.
[ "$(http POST /add --data-binary 'first entry')" = 200 ] || fail "duplicate add"
grep -qx 'index 0' "$WORK/body" || fail "duplicate did not get index 0"

# Limits and malformed requests.
head -c 65535 /dev/zero | tr '\0' 'b' >"$WORK/max"
head -c 65536 /dev/zero | tr '\0' 'c' >"$WORK/over"
[ "$(http POST /add --data-binary @"$WORK/max")" = 200 ] || fail "65535-byte entry refused"
grep -qx 'index 1' "$WORK/body" || fail "max entry not at index 1"
[ "$(http POST /add --data-binary @"$WORK/over")" = 413 ] || fail "65536-byte entry not refused with 413"
[ "$(http POST /add -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/over")" != 200 ] ||
    fail "chunked 65536-byte entry accepted"
[ "$(http POST /add --data-binary '')" = 400 ] || fail "empty entry not refused"
[ "$(http GET /add)" = 405 ] || fail "GET /add not 405"
[ "$(http PUT /checkpoint --data-binary x)" = 405 ] || fail "PUT not 405"
[ "$(http POST /checkpoint --data-binary x)" = 404 ] || fail "POST elsewhere not 404"
[ "$(http GET /nothing)" = 404 ] || fail "unknown path not 404"
for p in /tile/0/0 /tile/0/000.p/0 /tile/0/000.p/256 /tile/00/000.p/1 /tile/0/x000/000.p/1 \
         /tile/64/000.p/1 /tile/0/000 /tile/entries/000 /tile/0/001.p/1 /tile/0/000.p/9 \
         /tile/entries/000.p/3/../../../log.key /log.key /tile/; do
    [ "$(http GET "$p")" = 404 ] || fail "GET $p not 404"
done

# 600 concurrent adds over 32 connections, every answer verified as a
# tlog-proof against the vkey and recorded.
"$LOG_BENCH" add "$LOG_URL" "$LOG_VKEY" --n 600 --conc 32 --prefix basic --out "$WORK/acks" --strict \
    || fail "concurrent adds"
[ "$(wc -l <"$WORK/acks")" = 600 ] || fail "not 600 acknowledgements"
[ "$(cut -d' ' -f1 "$WORK/acks" | sort -n | uniq | wc -l)" = 600 ] || fail "indices are not unique"
[ "$(cut -d' ' -f1 "$WORK/acks" | sort -n | head -1)" = 2 ] || fail "indices do not start at 2"
[ "$(cut -d' ' -f1 "$WORK/acks" | sort -n | tail -1)" = 601 ] || fail "indices do not end at 601"
cp "$WORK/acks" "$WORK/acks1"
# The same new entry added 16 times at once: one index for all.
seq 16 | xargs -P 16 -I{} curl -s --max-time 20 -o "$WORK/dup.{}" -X POST \
    --data-binary 'same entry, many times' "$LOG_URL/add"
[ "$(cat "$WORK"/dup.* | grep '^index ' | sort -u | wc -l)" = 1 ] || fail "concurrent duplicates got several indices"
[ "$(cat "$WORK"/dup.* | grep -c '^index 602$')" = 16 ] || fail "concurrent duplicates not all at index 602"
"$LOG_BENCH" check "$LOG_URL" "$LOG_VKEY" "$WORK/acks" || fail "check after adds"

# Tiles: a full level-0 tile and bundle are immutable, partial ones short-lived.
[ "$(http GET /tile/0/000)" = 200 ] || fail "full tile 0/000"
[ "$(stat -c %s "$WORK/body")" = 8192 ] || fail "full tile is not 8192 bytes"
grep -qi '^cache-control:.*immutable' "$WORK/headers" || fail "full tile not immutable"
grep -qi '^content-type: application/octet-stream' "$WORK/headers" || fail "tile content type"
[ "$(http GET /tile/0/002.p/91)" = 200 ] || fail "partial tile 0/002.p/91"
[ "$(stat -c %s "$WORK/body")" = 2912 ] || fail "partial tile size"
grep -qi '^cache-control:.*max-age=10' "$WORK/headers" || fail "partial tile cache header"
[ "$(http GET /tile/entries/001)" = 200 ] || fail "full entry bundle"
[ "$(http GET /tile/1/000.p/2)" = 200 ] || fail "level-1 partial tile"
[ "$(http GET /tile/0/002)" = 404 ] || fail "incomplete full tile served"
[ "$(http GET /tile/0/002.p/92)" = 404 ] || fail "partial wider than the tree served"

# The client: signature, trust on first use, inclusion, replay from scratch.
"$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --since "$WORK/seen" --index 1 --follow \
    >"$WORK/v1" || fail "log verify"
grep -q 'size 603' "$WORK/v1" || fail "verify saw the wrong size"
grep -q 'followed 603 entries' "$WORK/v1" || fail "verify did not follow"
printf 'first entry' >"$WORK/e0"
"$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --entry "$WORK/e0" | grep -q 'index 0' ||
    fail "verify --entry did not find index 0"
"$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --entry "$WORK/max" --index 1 >/dev/null ||
    fail "verify --entry --index"
! "$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --entry "$WORK/max" --index 0 \
    >/dev/null 2>&1 || fail "verify accepted the wrong entry at index 0"
printf 'never added' >"$WORK/e9"
! "$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --entry "$WORK/e9" >/dev/null 2>&1 ||
    fail "verify found an entry that was never added"
OTHER=$(echo "$LOG_VKEY" | sed 's/+[^+]*$/+AbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbB/')
! "$FAIRKEY" log verify --log "$LOG_URL" --vkey "$OTHER" >/dev/null 2>&1 ||
    fail "verify accepted a checkpoint under another key"
"$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --since "$WORK/seen" | grep -q consistent ||
    fail "second verify --since not consistent"

# Restart: same key, same tree, and it keeps growing consistently.
stop_log
cp "$WORK/seen" "$WORK/before-restart"
start_log "$D" --open --batch-ms 50
[ "$(http GET /checkpoint)" = 200 ] && sed -n 2p "$WORK/body" | grep -qx 603 || fail "tree size lost on restart"
"$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --since "$WORK/seen" >/dev/null ||
    fail "verify after restart"
"$LOG_BENCH" add "$LOG_URL" "$LOG_VKEY" --n 100 --conc 8 --prefix after --client raw --out "$WORK/acks2" --strict ||
    fail "adds after restart"
"$LOG_BENCH" check "$LOG_URL" "$LOG_VKEY" "$WORK/acks1" "$WORK/acks2" || fail "check after restart"
"$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --since "$WORK/before-restart" --follow \
    | grep -q 'consistent with' || fail "not consistent with the checkpoint before restart"
mapfile -t ST < <(log_args "$D")
if [ "$LOG_BACKEND" = sqlite ]; then
    # One writer per directory: a second daemon on it is refused.
    ! timeout 10 "$FAIRKEY" log serve --dir "$D" --listen 127.0.0.1:0 --open >/dev/null 2>"$WORK/second.err" ||
        fail "a second daemon started on the same directory"
    grep -q 'another process serves this log directory' "$WORK/second.err" ||
        fail "second daemon: wrong reason: $(cat "$WORK/second.err")"
fi
stop_log
# The same directory refuses another origin.
! timeout 10 "$FAIRKEY" log serve "${ST[@]}" --listen 127.0.0.1:0 --open --origin other.test/log >/dev/null \
    2>"$WORK/origin.err" || fail "log serve accepted another origin for an existing key"
grep -q 'another origin' "$WORK/origin.err" || fail "origin: wrong reason: $(cat "$WORK/origin.err")"
# A signing key others can read is refused, with what to do.
chmod 640 "$D.key"
! timeout 10 "$FAIRKEY" log serve "${ST[@]}" --listen 127.0.0.1:0 --open >/dev/null 2>"$WORK/mode.err" ||
    fail "log serve used a group-readable log.key"
grep -q 'chmod 600' "$WORK/mode.err" || fail "mode refusal: $(cat "$WORK/mode.err")"
chmod 600 "$D.key"

# The entry index is only a hint: an index.db row that names another
# entry's index (damage the start-up check, which looks at the last row,
# cannot see) must not make a duplicate's answer prove another entry.  The
# entry is logged again, at the end, and the daemon says why.
if [ "$LOG_BACKEND" = pg ]; then
    pg_sql log "UPDATE fk_log_entries SET idx = 5 WHERE idx = 0" >/dev/null ||
        fail "tampering with fk_log_entries"
else
    sqlite3 "$D/index.db" "UPDATE entries SET idx = 5 WHERE idx = 0" || fail "tampering with index.db"
fi
start_log "$D" --open --batch-ms 50
[ "$(http GET /checkpoint)" = 200 ] || fail "checkpoint before the re-add"
before=$(sed -n 2p "$WORK/body")
[ "$(http POST /add --data-binary 'first entry')" = 200 ] || fail "re-add after tampering"
grep -qx "index $before" "$WORK/body" || fail "a wrong index hint was used: $(grep '^index' "$WORK/body")"
grep -q 'named entry 5 for a different entry' "$WORK/serve.err" ||
    fail "the daemon did not report the wrong hint"
stop_log

# A split view: another tree signed with the same key (a compromised or
# misbehaving log).  A client that saw the real tree refuses it, whether it
# is smaller (rollback) or larger (fork); the saved checkpoint is kept.
F="$WORK/fork"
mkdir -m 700 "$F"
cp "$D.key" "$F.key"
start_log "$F" --open --batch-ms 20
cp "$WORK/seen" "$WORK/seen.before-fork"
"$LOG_BENCH" add "$LOG_URL" "$LOG_VKEY" --n 10 --conc 2 --prefix fork >/dev/null || fail "fork adds"
! "$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --since "$WORK/seen" >/dev/null 2>&1 ||
    fail "a smaller tree under the same key was accepted"
"$LOG_BENCH" add "$LOG_URL" "$LOG_VKEY" --n 800 --conc 16 --prefix fork2 >/dev/null || fail "fork adds"
! "$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --since "$WORK/seen" 2>"$WORK/fork.err" \
    >/dev/null || fail "a forked tree under the same key was accepted"
grep -q 'NOT consistent' "$WORK/fork.err" || fail "fork not reported as such: $(cat "$WORK/fork.err")"
cmp -s "$WORK/seen" "$WORK/seen.before-fork" || fail "the saved checkpoint was replaced by the fork's"
stop_log
echo "log_basic: ok"
