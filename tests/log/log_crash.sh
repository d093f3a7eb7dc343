#!/bin/bash
# Crash safety: several clients stream adds, the daemon is killed with
# SIGKILL mid-stream (twice), and after each restart every acknowledged
# entry must be in the tree at its acknowledged index, every checkpoint seen
# before the crash must be consistent with the new one, and the whole log
# must replay from scratch to the signed root.  Bounded: 4 x 500 adds per
# round.
. "$(dirname "$0")/common.sh"
D="$WORK/log"
CLIENTS=4
PER_CLIENT=500

# readd LINE: add again the entry of a line of an acks file ("<index> <size>
# <root b64> <entry hex>"); the answer must carry the index recorded when it
# was first acknowledged (the entry index, rebuilt from the tiles after a
# crash, finds it), and the tree must not grow.
readd() {
    local line=$1 what=$2 idx hex before after
    idx=${line%% *}
    hex=${line##* }
    perl -e 'print pack("H*", $ARGV[0])' "$hex" >"$WORK/readd"
    before=$(curl -s --max-time 10 "$LOG_URL/checkpoint" | sed -n 2p)
    [ "$(http POST /add --data-binary @"$WORK/readd")" = 200 ] || fail "re-adding $what: refused"
    grep -qx "index $idx" "$WORK/body" ||
        fail "re-adding $what: answered $(grep '^index ' "$WORK/body"), first acknowledged at index $idx"
    after=$(curl -s --max-time 10 "$LOG_URL/checkpoint" | sed -n 2p)
    [ "$before" = "$after" ] || fail "re-adding $what grew the tree from $before to $after"
}

for round in 1 2; do
    start_log "$D" --open --batch-ms 20 --batch-max 64
    "$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --since "$WORK/seen" >/dev/null ||
        fail "round $round: checkpoint after restart is not consistent with the one before"
    CPIDS=()
    for c in $(seq $CLIENTS); do
        # Both HTTP clients of log_bench: libcurl and the raw epoll one.
        client=curl
        [ $((c % 2)) = 0 ] && client=raw
        "$LOG_BENCH" add "$LOG_URL" "$LOG_VKEY" --n $PER_CLIENT --conc 8 --prefix "r$round-c$c" \
            --client $client --out "$WORK/acks.$round.$c" >"$WORK/client.$round.$c" 2>&1 &
        CPIDS+=($!)
        PIDS+=($!)
    done
    # Kill the daemon once a few hundred adds are acknowledged, while the
    # clients are still sending.
    for _ in $(seq 400); do
        n=$( (cat "$WORK"/acks.$round.* 2>/dev/null || true) | wc -l)
        [ "$n" -ge 300 ] && break
        sleep 0.025
    done
    [ "$n" -ge 300 ] || fail "round $round: adds are not being acknowledged"
    # A client checkpoint seen just before the crash, too.
    "$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --since "$WORK/seen" >/dev/null ||
        fail "round $round: verify before crash"
    kill -9 "$LOG_PID"
    wait "$LOG_PID" 2>/dev/null || true
    for p in "${CPIDS[@]}"; do wait "$p" || true; done
    acked=$(cat "$WORK"/acks.$round.* | wc -l)
    [ "$acked" -lt $((CLIENTS * PER_CLIENT)) ] || fail "round $round: the kill came after all adds"
    echo "round $round: killed the daemon after $acked acknowledged adds"

    start_log "$D" --open --batch-ms 20
    "$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --since "$WORK/seen" >/dev/null ||
        fail "round $round: the restarted log is not consistent with the checkpoint seen before the crash"
    "$LOG_BENCH" check "$LOG_URL" "$LOG_VKEY" "$WORK"/acks.* ||
        fail "round $round: acknowledged entries lost or moved"
    # The tree keeps growing from the recovered state.
    "$LOG_BENCH" add "$LOG_URL" "$LOG_VKEY" --n 50 --conc 4 --prefix "post$round" \
        --out "$WORK/acks.post$round" --strict >/dev/null || fail "round $round: adds after recovery"
    "$LOG_BENCH" check "$LOG_URL" "$LOG_VKEY" "$WORK"/acks.* || fail "round $round: check after more adds"
    stop_log
done

# Deterministic crash points: the daemon dies right after a batch's tiles are
# durable (before the commit), or right after the commit (before anyone is
# answered).  Either way the restarted log holds every acknowledged entry,
# serves no tile of the lost batch, and stays consistent.
for point in after-tiles after-commit; do
    start_log "$D" --open --batch-ms 20
    size=$(curl -s --max-time 10 "$LOG_URL/checkpoint" | sed -n 2p)
    stop_log
    target=$((size + 300))
    FAIRKEY_LOG_FAILPOINT="$point:$target" start_log "$D" --open --batch-ms 20
    "$LOG_BENCH" add "$LOG_URL" "$LOG_VKEY" --n 400 --conc 8 --prefix "$point" \
        --out "$WORK/acks.$point" >/dev/null 2>&1 || true
    for _ in $(seq 100); do kill -0 "$LOG_PID" 2>/dev/null || break; sleep 0.05; done
    ! kill -0 "$LOG_PID" 2>/dev/null || fail "$point: the failpoint did not fire"
    wait "$LOG_PID" 2>/dev/null || true
    acked=$(wc -l <"$WORK/acks.$point")
    [ "$acked" -lt $((target - size)) ] || fail "$point: the crashed batch was acknowledged"
    start_log "$D" --open --batch-ms 20
    now=$(curl -s --max-time 10 "$LOG_URL/checkpoint" | sed -n 2p)
    case $point in
    after-tiles) [ "$now" -lt "$target" ] || fail "after-tiles: the uncommitted batch survived" ;;
    after-commit) [ "$now" -ge "$target" ] || fail "after-commit: the committed batch was lost" ;;
    esac
    # No tile or bundle beyond the committed tree is left on disk.
    w=$((now % 256)); t=$(printf '%03d' $((now / 256)))
    for f in "$D"/tile/0/$t.p/* "$D"/tile/entries/$t.p/*; do
        [ -e "$f" ] || continue
        [ "$(basename "$f")" -le "$w" ] || fail "$point: $f lies beyond tree size $now"
    done
    [ ! -e "$D/tile/0/$t" ] || fail "$point: full tile $t exists beyond tree size $now"
    "$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --since "$WORK/seen" --follow \
        >/dev/null || fail "$point: not consistent after restart"
    "$LOG_BENCH" check "$LOG_URL" "$LOG_VKEY" "$WORK"/acks.* >/dev/null || fail "$point: acknowledged entries lost"
    # Duplicates of entries acknowledged before the first kill, just before
    # the last SIGKILL, and just before this crash get their first index.
    first=$(head -n 1 "$WORK/acks.1.1")
    [ -n "$first" ] || fail "$point: no entry recorded before the first kill"
    readd "$first" "an entry acknowledged before the first kill"
    readd "$(sort -n -k1,1 "$WORK"/acks.2.* | tail -n 1)" "the last entry acknowledged before the second kill"
    last=$(sort -n -k1,1 "$WORK/acks.$point" | tail -n 1)
    [ -n "$last" ] || fail "$point: no entry acknowledged before the crash"
    readd "$last" "the last entry acknowledged before the $point crash"
    stop_log
    echo "$point: crash at tree size $target, recovered at $now with $acked acknowledged"
done
echo "log_crash: ok"
