#!/bin/bash
# Several front ends on one PostgreSQL database (docs/log.md 7.9): three
# `log serve --db` front ends under sustained load, clients on each; the one
# that sequences is killed with SIGKILL, ROUNDS times, while the clients
# send, and restarted.  After each kill another front end must take over
# sequencing (the pause from the kill to the first new batch is measured
# and printed).  At the end every acknowledged entry, wherever it was added,
# is at its acknowledged index with a valid inclusion proof, every
# checkpoint a client saw is consistent with the last one (log_bench
# check), duplicates added at another front end get their first index, and
# the log replays from scratch.
LOG_BACKEND=pg
. "$(dirname "$0")/common.sh"
D="$WORK/fed"
ROUNDS=${ROUNDS:-3}
PER=${PER:-400}          # adds per client per round, one client per front end
FE_PID=() FE_URL=()

ms() { date +%s%3N; }
size_at() { curl -s --max-time 5 "$1/checkpoint" | sed -n 2p; }

start_fe() {
    start_log "$D" --open --batch-ms 20
    FE_PID[$1]=$LOG_PID
    FE_URL[$1]=$LOG_URL
}

# The front end that holds the lease now (its /healthz says so), or none.
sequencer() {
    local i
    for i in 0 1 2; do
        curl -s --max-time 2 "${FE_URL[$i]}/healthz" 2>/dev/null | grep -q '"sequencer":true' &&
            { echo "$i"; return 0; }
    done
    return 1
}

for i in 0 1 2; do start_fe "$i"; done
VKEY=$LOG_VKEY
for _ in $(seq 100); do s=$(sequencer) && break; sleep 0.05; done
[ -n "${s:-}" ] || fail "no front end took the sequencer lease"

PAUSES=()
for round in $(seq "$ROUNDS"); do
    CPIDS=()
    for i in 0 1 2; do
        "$LOG_BENCH" add "${FE_URL[$i]}" "$VKEY" --n "$PER" --conc 8 --prefix "r$round-f$i" \
            --client raw --out "$WORK/acks.$round.$i" >"$WORK/client.$round.$i" 2>&1 &
        CPIDS+=($!)
        PIDS+=($!)
    done
    for _ in $(seq 600); do
        n=$( (cat "$WORK"/acks.$round.* 2>/dev/null || true) | wc -l)
        [ "$n" -ge $((PER / 2)) ] && break
        sleep 0.02
    done
    [ "$n" -ge $((PER / 2)) ] || fail "round $round: adds are not being acknowledged"
    s=$(sequencer) || fail "round $round: no front end sequences"
    o=$(((s + 1) % 3))
    "$FAIRKEY" log verify --log "${FE_URL[$o]}" --vkey "$VKEY" --since "$WORK/seen" >/dev/null ||
        fail "round $round: verify before the kill"
    kill -9 "${FE_PID[$s]}"
    t0=$(ms)
    wait "${FE_PID[$s]}" 2>/dev/null || true
    # Takeover: a surviving front end holds the lease; resumed: the tree
    # grows past the size it had then (the killed one's last commit may
    # still have landed, so growth alone is not a new sequencer).
    t1= t2= base=
    while [ $(($(ms) - t0)) -lt 30000 ]; do
        if [ -z "$t1" ] && s2=$(sequencer) && [ "$s2" != "$s" ]; then
            t1=$(ms)
            base=$(size_at "${FE_URL[$o]}")
        fi
        if [ -n "$t1" ] && [ "$(size_at "${FE_URL[$o]}")" -gt "$base" ]; then
            t2=$(ms)
            break
        fi
        sleep 0.01
    done
    [ -n "$t1" ] || fail "round $round: no front end took over within 30 s"
    [ -n "$t2" ] || fail "round $round: the tree did not grow within 30 s of the kill"
    PAUSES+=($((t2 - t0)))
    acked=$(cat "$WORK"/acks.$round.* | wc -l)
    echo "round $round: killed sequencing front end $s after $acked acknowledged adds this round;" \
        "front end $s2 took the lease after $((t1 - t0)) ms, first new batch $((t2 - t0)) ms after the kill"
    for p in "${CPIDS[@]}"; do wait "$p" || true; done
    start_fe "$s"
done

# Every acknowledged entry, from every front end and round, checked through
# one front end; every checkpoint clients saw consistent with the last.
n=$(cat "$WORK"/acks.* | wc -l)
"$LOG_BENCH" check "${FE_URL[0]}" "$VKEY" "$WORK"/acks.* || fail "acknowledged entries lost or moved"
"$FAIRKEY" log verify --log "${FE_URL[1]}" --vkey "$VKEY" --since "$WORK/seen" --follow >/dev/null ||
    fail "the log is not consistent with the checkpoints seen before, or does not replay"
# A duplicate of an entry acknowledged in round 1 by front end 0, added at
# front end 2: its first index, and the tree does not grow.
first=$(head -n 1 "$WORK/acks.1.0")
idx=${first%% *}
hex=${first##* }
perl -e 'print pack("H*", $ARGV[0])' "$hex" >"$WORK/readd"
LOG_URL=${FE_URL[2]}
before=$(size_at "$LOG_URL")
[ "$(http POST /add --data-binary @"$WORK/readd")" = 200 ] || fail "re-adding an entry: refused"
grep -qx "index $idx" "$WORK/body" || fail "re-added entry answered $(grep '^index ' "$WORK/body"), first at $idx"
[ "$(size_at "$LOG_URL")" = "$before" ] || fail "re-adding an entry grew the tree"
# A clean stop of every front end (SIGTERM: queued adds answered, the
# lease given back) exits 0.
for i in 0 1 2; do
    kill -TERM "${FE_PID[$i]}"
    wait "${FE_PID[$i]}" || fail "front end $i exited non-zero on SIGTERM"
done
max=0
for p in "${PAUSES[@]}"; do [ "$p" -gt "$max" ] && max=$p; done
[ "$max" -lt 10000 ] || fail "a sequencing pause of $max ms (bound: well under 10 s)"
echo "log_pg_failover: ok: $ROUNDS kills, $n acknowledged entries checked, sequencing pauses ${PAUSES[*]} ms (max $max ms)"
