#!/bin/bash
# A sequencer that hangs with its process and database session alive
# (docs/log.md 7.9): three `log serve --db` front ends under load, clients
# on each; the one that sequences is stopped with SIGSTOP.  Its lease must
# expire and another front end sequence: the time from the stop until
# another front end holds the lease, and until an add sent at another front
# end right at the stop is answered, is measured and printed.  Then it is
# woken (SIGCONT): it must commit nothing (its batch, if it was in one, is
# refused), say it lost the lease, go back to following and serve the same
# tree as the others.  At the end every acknowledged entry is at its first
# index, every checkpoint any client or front end served is consistent with
# the last one, and the log replays.
LOG_BACKEND=pg
. "$(dirname "$0")/common.sh"
D="$WORK/hang"
FE_PID=() FE_URL=()
ms() { date +%s%3N; }
size_at() { curl -s --max-time 5 "$1/checkpoint" | sed -n 2p; }
add_status() { curl -s --max-time 30 -o /dev/null -w '%{http_code}' -X POST --data-binary "$2" "$1/add"; }
# The front end (not $1) that holds the lease now, or none.
sequencer() {
    local i
    for i in 0 1 2; do
        [ "$i" = "${1:-}" ] && continue
        curl -s --max-time 2 "${FE_URL[$i]}/healthz" 2>/dev/null | grep -q '"sequencer":true' &&
            { echo "$i"; return 0; }
    done
    return 1
}

for i in 0 1 2; do
    start_log "$D" --open --batch-ms 20
    FE_PID[$i]=$LOG_PID
    FE_URL[$i]=$LOG_URL
done
VKEY=$LOG_VKEY
for _ in $(seq 100); do s=$(sequencer) && break; sleep 0.05; done
[ -n "${s:-}" ] || fail "no front end took the sequencer lease"

CPIDS=()
for i in 0 1 2; do
    "$LOG_BENCH" add "${FE_URL[$i]}" "$VKEY" --n 100000 --conc 8 --prefix "h-f$i" \
        --client raw --out "$WORK/acks.$i" >"$WORK/client.$i" 2>&1 &
    CPIDS+=($!)
    PIDS+=($!)
done
for _ in $(seq 600); do
    n=$( (cat "$WORK"/acks.* 2>/dev/null || true) | wc -l)
    [ "$n" -ge 300 ] && break
    sleep 0.02
done
[ "$n" -ge 300 ] || fail "adds are not being acknowledged"
s=$(sequencer) || fail "no front end sequences"
o=$(((s + 1) % 3))
"$FAIRKEY" log verify --log "${FE_URL[$o]}" --vkey "$VKEY" --since "$WORK/seen" >/dev/null ||
    fail "verify before the stop"
errs=$(wc -l <"$WORK/serve.err")
kill -STOP "${FE_PID[$s]}"
t0=$(ms)
# An add at another front end right at the stop: answered once someone
# sequences again.
(st=$(add_status "${FE_URL[$o]}" "sent at the stop $RANDOM"); echo "$st $(ms)" >"$WORK/probe") &
probe=$!
t1=
while [ $(($(ms) - t0)) -lt 30000 ]; do
    if s2=$(sequencer "$s"); then t1=$(ms); break; fi
    sleep 0.02
done
[ -n "$t1" ] || fail "no front end took the lease within 30 s of the stop"
wait "$probe"
read -r pst t2 <"$WORK/probe"
[ "$pst" = 200 ] || fail "an add sent at the stop got $pst, not 200"
acked=$(cat "$WORK"/acks.* | wc -l)
echo "stopped sequencing front end $s (SIGSTOP) after $acked acknowledged adds; front end $s2" \
    "took the lease after $((t1 - t0)) ms, an add sent at front end $o at the stop answered after $((t2 - t0)) ms"
# The others go on while it sleeps a while longer.
before=$(size_at "${FE_URL[$o]}")
sleep 2
[ "$(size_at "${FE_URL[$o]}")" -gt "$before" ] || fail "the tree does not grow while $s is stopped"

kill -CONT "${FE_PID[$s]}"
# Woken: it follows (not sequencing), and serves the tree the others serve.
ok=
for _ in $(seq 200); do
    h=$(curl -s --max-time 2 "${FE_URL[$s]}/healthz" || true)
    if grep -q '"sequencer":false' <<<"$h" && grep -q '"status":"ok"' <<<"$h"; then ok=1; break; fi
    sleep 0.05
done
[ -n "$ok" ] || fail "the woken front end still sequences or is unhealthy: $h"
tail -n +"$((errs + 1))" "$WORK/serve.err" | grep -Eq "lost the sequencer lease|stopped sequencing" ||
    fail "the woken front end did not say it lost the lease: $(tail -n +"$((errs + 1))" "$WORK/serve.err")"
[ "$(add_status "${FE_URL[$s]}" "at the woken one $RANDOM")" = 200 ] ||
    fail "an add at the woken front end was not answered"
"$FAIRKEY" log verify --log "${FE_URL[$s]}" --vkey "$VKEY" --since "$WORK/seen" >/dev/null ||
    fail "the woken front end serves a tree inconsistent with the others' (a fork?)"
for p in "${CPIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${CPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
# Every checkpoint each front end serves now, and every acknowledged entry.
for i in 0 1 2; do
    "$FAIRKEY" log verify --log "${FE_URL[$i]}" --vkey "$VKEY" --since "$WORK/seen" >/dev/null ||
        fail "front end $i: not consistent with the checkpoints seen before"
done
n=$(cat "$WORK"/acks.* | wc -l)
"$LOG_BENCH" check "${FE_URL[$s]}" "$VKEY" "$WORK"/acks.* || fail "acknowledged entries lost or moved"
"$FAIRKEY" log verify --log "${FE_URL[$o]}" --vkey "$VKEY" --since "$WORK/seen" --follow >/dev/null ||
    fail "the log does not replay"
for i in 0 1 2; do
    kill -TERM "${FE_PID[$i]}"
    wait "${FE_PID[$i]}" || fail "front end $i exited non-zero on SIGTERM"
done
[ $((t2 - t0)) -lt 15000 ] || fail "sequencing paused $((t2 - t0)) ms after the stop (bound: the 5 s lease and a batch)"
echo "log_pg_hang: ok: lease taken $((t1 - t0)) ms after SIGSTOP, adds answered again after $((t2 - t0)) ms; $n acknowledged entries checked"
