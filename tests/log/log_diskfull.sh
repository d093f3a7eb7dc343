#!/bin/bash
# Disk full: on a small tmpfs the log runs out of space mid-stream.  Batches
# that cannot be made durable must be answered with a 5xx (never 200), the
# tree must stay whole and keep serving, and once space is back the log
# goes on from where it was.  Skips (77) where tmpfs cannot be mounted.
. "$(dirname "$0")/common.sh"
D="$WORK/small"
mkdir -p "$D"
mount -t tmpfs -o size=3m tmpfs "$D" 2>/dev/null || { echo "cannot mount tmpfs: skipped"; exit 77; }
UNMOUNT="$D"

start_log "$D/log" --open --batch-ms 20
# 30 kB entries: a few dozen fill 3 MB (bundles, tiles, SQLite WAL).
"$LOG_BENCH" add "$LOG_URL" "$LOG_VKEY" --n 300 --conc 2 --size 30000 --prefix full \
    --out "$WORK/acks" >"$WORK/fill" 2>&1 || fail "add answers did not verify: $(cat "$WORK/fill")"
cat "$WORK/fill"
acked=$(wc -l <"$WORK/acks")
grep -q 'failed 0 ' "$WORK/fill" && fail "the disk never filled up"
[ "$acked" -ge 1 ] || fail "nothing was acknowledged before the disk filled"
# An add on the full disk is refused with a 5xx.
code=$(curl -s --max-time 20 -o /dev/null -w '%{http_code}' --data-binary @<(head -c 30000 /dev/urandom | base64 -w0) "$LOG_URL/add")
case "$code" in 5??) ;; *) fail "add on a full disk answered $code" ;; esac
# Everything acknowledged is there; the tree is whole.
"$LOG_BENCH" check "$LOG_URL" "$LOG_VKEY" "$WORK/acks" || fail "check on a full disk"
"$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --since "$WORK/seen" --follow >/dev/null ||
    fail "verify on a full disk"

# Space comes back: the same daemon goes on.
mount -o remount,size=64m "$D" || fail "remount"
"$LOG_BENCH" add "$LOG_URL" "$LOG_VKEY" --n 50 --conc 4 --size 1000 --prefix more \
    --out "$WORK/acks2" --strict >/dev/null || fail "adds after space came back"
"$LOG_BENCH" check "$LOG_URL" "$LOG_VKEY" "$WORK/acks" "$WORK/acks2" || fail "check after space came back"
"$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --since "$WORK/seen" --follow >/dev/null ||
    fail "not consistent after space came back"
# And a restart recovers the same tree.
stop_log
start_log "$D/log" --open --batch-ms 20
"$LOG_BENCH" check "$LOG_URL" "$LOG_VKEY" "$WORK/acks" "$WORK/acks2" || fail "check after restart"
stop_log
echo "log_diskfull: ok"
