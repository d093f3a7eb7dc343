#!/bin/bash
# The PostgreSQL backend when the database goes away (docs/log.md 7.9): two
# front ends under load while PostgreSQL is stopped (fast, then immediate:
# a crash) and started again.  While it is down an add is refused with 503;
# after it is back adds are taken again without restarting the front ends;
# /healthz answers 503 with the reason while it is down (a load balancer
# takes the front ends out) and 200 once it is back;
# every acknowledged entry is there at its index and every checkpoint seen
# is consistent with the last.  Then the refusals at start, one line each:
# a database of another log (another key, another origin), a database that
# cannot be reached (the password in --db is never printed).
LOG_BACKEND=pg
. "$(dirname "$0")/common.sh"
D="$WORK/rs"
FE_URL=()
for i in 0 1; do
    start_log "$D" --open --batch-ms 20
    FE_URL[$i]=$LOG_URL
done
VKEY=$LOG_VKEY
ms() { date +%s%3N; }
size_at() { curl -s --max-time 5 "$1/checkpoint" | sed -n 2p; }
health() { curl -s --max-time 5 -o "$WORK/health" -w '%{http_code}' "$1/healthz"; }
add_status() { curl -s --max-time 20 -o /dev/null -w '%{http_code}' -X POST --data-binary "$2" "$1/add"; }

for mode in fast immediate; do
    CPIDS=()
    for i in 0 1; do
        # Long enough to run through the outage; they stop when told.
        "$LOG_BENCH" add "${FE_URL[$i]}" "$VKEY" --n 100000 --conc 4 --prefix "$mode-f$i" \
            --client raw --out "$WORK/acks.$mode.$i" >"$WORK/client.$mode.$i" 2>&1 &
        CPIDS+=($!)
        PIDS+=($!)
    done
    for _ in $(seq 500); do
        n=$( (cat "$WORK"/acks.$mode.* 2>/dev/null || true) | wc -l)
        [ "$n" -ge 200 ] && break
        sleep 0.02
    done
    [ "$n" -ge 200 ] || fail "$mode: adds are not being acknowledged"
    "$FAIRKEY" log verify --log "${FE_URL[0]}" --vkey "$VKEY" --since "$WORK/seen" >/dev/null ||
        fail "$mode: verify before the stop"
    pg_stop "$mode"
    down=$(ms)
    # While it is down: 503 at both front ends (the entry was not logged).
    for i in 0 1; do
        st=$(add_status "${FE_URL[$i]}" "while down $mode $i")
        [ "$st" = 503 ] || fail "$mode: an add while PostgreSQL is down got $st, not 503"
    done
    # /healthz says so, with the reason, at both (the read path still
    # answers: the checkpoint is served from memory).
    for i in 0 1; do
        hst=
        for _ in $(seq 100); do
            hst=$(health "${FE_URL[$i]}")
            [ "$hst" = 503 ] && break
            sleep 0.05
        done
        [ "$hst" = 503 ] || fail "$mode: /healthz of front end $i answered $hst while the database is down"
        grep -q '"status":"database unavailable"' "$WORK/health" &&
            grep -q '"database":"unreachable"' "$WORK/health" &&
            grep -q '"sequencer":false' "$WORK/health" ||
            fail "$mode: /healthz body while down: $(cat "$WORK/health")"
    done
    echo "$mode stop: /healthz while down: $(cat "$WORK/health")"
    [ -n "$(size_at "${FE_URL[1]}")" ] ||
        fail "$mode: a front end stopped serving its read path while the database is down"
    sleep 1
    pg_restart_server
    up=$(ms)
    # Back: an add succeeds at each front end again, within a bound.
    for i in 0 1; do
        ok=
        for _ in $(seq 300); do
            [ "$(add_status "${FE_URL[$i]}" "after $mode $i $RANDOM")" = 200 ] && { ok=1; break; }
            sleep 0.1
        done
        [ -n "$ok" ] || fail "$mode: front end $i takes no add 30 s after PostgreSQL came back"
    done
    back=$(ms)
    for i in 0 1; do
        hst=
        for _ in $(seq 100); do
            hst=$(health "${FE_URL[$i]}")
            [ "$hst" = 200 ] && break
            sleep 0.05
        done
        [ "$hst" = 200 ] || fail "$mode: /healthz of front end $i answered $hst after the database came back"
        grep -q '"status":"ok"' "$WORK/health" && grep -q '"database":"ok"' "$WORK/health" &&
            grep -Eq '"last_batch_age_s":[0-9]' "$WORK/health" ||
            fail "$mode: /healthz body after: $(cat "$WORK/health")"
    done
    echo "$mode stop: /healthz after: $(cat "$WORK/health")"
    for p in "${CPIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${CPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    n=$(cat "$WORK"/acks.$mode.* | wc -l)
    "$LOG_BENCH" check "${FE_URL[1]}" "$VKEY" "$WORK"/acks.* >/dev/null ||
        fail "$mode: acknowledged entries lost after the restart"
    "$FAIRKEY" log verify --log "${FE_URL[1]}" --vkey "$VKEY" --since "$WORK/seen" >/dev/null ||
        fail "$mode: not consistent with the checkpoint seen before the stop"
    echo "$mode stop: down $((up - down)) ms (503 meanwhile), adds taken again $((back - up)) ms after the start; $n acknowledged entries checked"
done
"$FAIRKEY" log verify --log "${FE_URL[0]}" --vkey "$VKEY" --since "$WORK/seen" --follow >/dev/null ||
    fail "the log does not replay"

# A front end with another key on this log's database: refused, one line.
mapfile -t ST < <(log_args "$D")
refused() {   # refused WHAT PATTERN ARGS...: non-zero exit, one line matching
    local what=$1 pat=$2
    shift 2
    ! timeout 20 "$FAIRKEY" log serve "$@" --listen 127.0.0.1:0 --open >/dev/null 2>"$WORK/err" ||
        fail "$what: the front end started"
    # One line of error (a warning about a password in --db aside).
    [ "$(grep -vc '^fairkey: warning:' "$WORK/err")" = 1 ] || fail "$what: not one line: $(cat "$WORK/err")"
    grep -q "$pat" "$WORK/err" || fail "$what: wrong reason: $(cat "$WORK/err")"
}
refused "another key" "belongs to another log (another key of origin" \
    --db "${ST[1]}" --key "$WORK/other.key" --origin "${VKEY%%+*}"
refused "another origin" "belongs to another log (origin ${VKEY%%+*})" \
    --db "${ST[1]}" --key "$WORK/other2.key" --origin other.test/log
refused "--db and --dir" "goes with --key" --db "${ST[1]}" --dir "$WORK/x" --key "$WORK/k"
# Nothing listens on port 1: one line, and never the password.
refused "unreachable database" "cannot connect to the database" \
    --db "postgresql://postgres:pw-S3CRET@127.0.0.1:1/x" --key "$WORK/k3"
! grep -q S3CRET "$WORK/err" || fail "the password was printed: $(cat "$WORK/err")"
grep -q '^fairkey: warning: the --db connection string holds a password' "$WORK/err" ||
    fail "no warning about the password in --db"
echo "log_pg_restart: ok"
