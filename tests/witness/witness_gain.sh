# A log that gains a witness has its current checkpoint cosigned at start,
# without waiting for a new entry: a quiet log (no adds after the restart)
# serves a checkpoint with the new witness's line within seconds, keeps the
# lines it had (one per witness), and survives another restart with no
# duplicate line.
. "$(dirname "$0")/common.sh"
add() {
    [ "$(curl -s --max-time 20 -o "$WORK/ans" -w '%{http_code}' --data-binary "$1" "$2/add")" = 200 ] ||
        fail "add $1: $(cat "$WORK/ans")"
}
# count_on URL LOG_VKEY WVKEY...: valid cosignatures of those witnesses.
count_on() {
    local url=$1; shift
    curl -s --max-time 20 -o "$WORK/cp" "$url/checkpoint"
    "$TOOL" count "$WORK/cp" "$@" || fail "checkpoint does not verify"
}
# wait_cosigs N URL LOG_VKEY WVKEY...: up to 10 s for N cosignatures.
wait_cosigs() {
    local n=$1; shift
    for _ in $(seq 100); do
        [ "$(count_on "$@")" = "$n" ] && return 0
        sleep 0.1
    done
    fail "no $n cosignatures within 10 s: $(cat "$WORK/cp")"
}

start log "$WORK/log" --open --batch-ms 20 --origin gain.test/log
L_VKEY=$VKEY
for i in 1 2 3 4 5; do add "entry $i" "$URL"; done
stop "$PID"
start witness "$WORK/w1" --log "$L_VKEY" --name witness.test/w1
W1_URL=$URL W1_VKEY=$VKEY
start witness "$WORK/w2" --log "$L_VKEY" --name witness.test/w2
W2_URL=$URL W2_VKEY=$VKEY

# Gains w1: the size-5 checkpoint is cosigned with no add.
start log "$WORK/log" --open --batch-ms 20 --witness "$W1_VKEY=$W1_URL"
L_PID=$PID L_URL=$URL
wait_cosigs 1 "$L_URL" "$L_VKEY" "$W1_VKEY"
[ "$(sed -n 2p "$WORK/cp")" = 5 ] || fail "the checkpoint moved: $(cat "$WORK/cp")"
[ "$(grep -c '^— witness.test/w1 ' "$WORK/cp")" = 1 ] || fail "not one w1 line"
# ... stored, not only served: in DIR/checkpoint too.
"$TOOL" count "$(stored_cp)" "$L_VKEY" "$W1_VKEY" | grep -qx 1 || fail "not stored"
echo "ok: a log that gains a witness has its quiet checkpoint cosigned at start"

# Gains w2 as well: w1's line is kept (not asked again), w2 added.
stop "$L_PID"
start log "$WORK/log" --open --batch-ms 20 --witness "$W1_VKEY=$W1_URL" --witness "$W2_VKEY=$W2_URL"
L_PID=$PID L_URL=$URL
wait_cosigs 2 "$L_URL" "$L_VKEY" "$W1_VKEY" "$W2_VKEY"
[ "$(grep -c '^— witness.test/w1 ' "$WORK/cp")" = 1 ] || fail "w1 line doubled"
[ "$(grep -c '^— witness.test/w2 ' "$WORK/cp")" = 1 ] || fail "not one w2 line"
cp "$WORK/cp" "$WORK/cp.before"
# A restart with nothing missing asks nobody and changes nothing.
stop "$L_PID"
start log "$WORK/log" --open --batch-ms 20 --witness "$W1_VKEY=$W1_URL" --witness "$W2_VKEY=$W2_URL"
L_PID=$PID L_URL=$URL
sleep 0.5
count_on "$L_URL" "$L_VKEY" "$W1_VKEY" "$W2_VKEY" >/dev/null
cmp -s "$WORK/cp" "$WORK/cp.before" || fail "a fully cosigned checkpoint changed on restart"
# Adds go on as before.
add "entry 6" "$L_URL"
[ "$(count_on "$L_URL" "$L_VKEY" "$W1_VKEY" "$W2_VKEY")" = 2 ] || fail "after an add"
stop "$L_PID"
echo "ok: a second witness is added beside the first; nothing doubled; adds go on"

# A quiet log has its checkpoint cosigned again every --cosign-refresh
# seconds: the witnesses' lines (their timestamps) change, the tree does not,
# so an auditor's --max-age keeps accepting a log that has nothing new.
start log "$WORK/log" --open --batch-ms 20 --cosign-refresh 2 --witness "$W1_VKEY=$W1_URL" \
    --witness "$W2_VKEY=$W2_URL"
L_PID=$PID L_URL=$URL
count_on "$L_URL" "$L_VKEY" "$W1_VKEY" "$W2_VKEY" >/dev/null
grep '^— ' "$WORK/cp" >"$WORK/lines.before"
fresh=0
for _ in $(seq 100); do
    sleep 0.1
    [ "$(count_on "$L_URL" "$L_VKEY" "$W1_VKEY" "$W2_VKEY")" = 2 ] || continue
    grep '^— ' "$WORK/cp" >"$WORK/lines.now"
    if ! cmp -s "$WORK/lines.before" "$WORK/lines.now"; then fresh=1; break; fi
done
[ "$fresh" = 1 ] || fail "a quiet log's cosignatures were not refreshed within 10 s"
[ "$(sed -n 2p "$WORK/cp")" = 6 ] || fail "the refreshed checkpoint moved: $(cat "$WORK/cp")"
[ "$(grep -c '^— witness.test/w1 ' "$WORK/cp")" = 1 ] && [ "$(grep -c '^— witness.test/w2 ' "$WORK/cp")" = 1 ] ||
    fail "refreshed lines not one per witness: $(cat "$WORK/cp")"
"$TOOL" count "$(stored_cp)" "$L_VKEY" "$W1_VKEY" "$W2_VKEY" | grep -qx 2 || fail "refresh not stored"
echo "ok: a quiet log's checkpoint is cosigned again by both witnesses (tree unchanged)"
echo PASS
