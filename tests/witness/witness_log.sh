# fairkey log serve --witness: two witnesses cosign every checkpoint; a
# stopped witness is skipped (adds still succeed, one cosignature); a
# restarted log learns the witnesses' sizes from 409; a fork gets none.
. "$(dirname "$0")/common.sh"
add() {
    [ "$(curl -s --max-time 20 -o "$WORK/ans" -w '%{http_code}' --data-binary "$1" "$2/add")" = 200 ] ||
        fail "add $1: $(cat "$WORK/ans")"
}
# cosigs LOG_URL LOG_VKEY: number of valid witness cosignatures on the
# log's current checkpoint (W1 and W2 keys).
cosigs() {
    curl -s --max-time 20 -o "$WORK/cp" "$1/checkpoint"
    "$TOOL" count "$WORK/cp" "$2" "$W1_VKEY" "$W2_VKEY" || fail "checkpoint does not verify"
}

"$FAIRKEY" log serve --dir "$WORK/x" --listen 127.0.0.1:0 --open --witness nonsense 2>"$WORK/err" &&
    fail "bad --witness accepted"
grep -q '^fairkey: ' "$WORK/err" || fail "bad --witness: no fairkey: line"

# The log's key first (witnesses are configured with it).
start log "$WORK/log" --open --origin witnessed.test/log
L_VKEY=$VKEY
stop "$PID"
start witness "$WORK/w1" --log "$L_VKEY" --name witness.test/w1
W1_PID=$PID W1_URL=$URL W1_VKEY=$VKEY
start witness "$WORK/w2" --log "$L_VKEY" --name witness.test/w2
W2_PID=$PID W2_URL=$URL W2_VKEY=$VKEY
"$FAIRKEY" log serve --dir "$WORK/log" --listen 127.0.0.1:0 --open --witness "$W1_URL" 2>/dev/null &&
    fail "--witness without a vkey accepted"
"$FAIRKEY" log serve --dir "$WORK/log" --listen 127.0.0.1:0 --open --witness "$L_VKEY=$W1_URL" 2>/dev/null &&
    fail "--witness with a log (0x01) key accepted"

start log "$WORK/log" --open --batch-ms 20 --witness "$W1_VKEY=$W1_URL" --witness "$W2_VKEY=$W2_URL/"
L_PID=$PID L_URL=$URL
for i in 1 2 3; do add "entry $i" "$L_URL"; done
[ "$(cosigs "$L_URL" "$L_VKEY")" = 2 ] || fail "checkpoint without 2 cosignatures"
# The add answer (tlog-proof) carries the cosigned checkpoint too.
sed '1,/^$/d' "$WORK/ans" >"$WORK/anscp"
[ "$("$TOOL" count "$WORK/anscp" "$L_VKEY" "$W1_VKEY" "$W2_VKEY")" = 2 ] ||
    fail "add answer's checkpoint without 2 cosignatures"
seq 40 | xargs -P 8 -I{} curl -s --max-time 20 -o /dev/null --data-binary 'many {}' "$L_URL/add"
add "entry 4" "$L_URL"
[ "$(cosigs "$L_URL" "$L_VKEY")" = 2 ] || fail "after many adds"

# One witness down: adds succeed, one cosignature, one stderr line.
stop "$W2_PID"
for i in 5 6 7; do add "entry $i" "$L_URL"; done
[ "$(cosigs "$L_URL" "$L_VKEY")" = 1 ] || fail "one witness down: not 1 cosignature"
[ "$(grep -c 'witness witness.test/w2 skipped' "$WORK/log.err")" = 1 ] ||
    fail "failure streak not reported once: $(cat "$WORK/log.err")"
# Back (same state): cosigns again from the size it held.
start witness "$WORK/w2" --log "$L_VKEY"
W2_PID=$PID W2_URL2=$URL
# (new port: restart the log with it, which also forgets every witness's size)
stop "$L_PID"
start log "$WORK/log" --open --batch-ms 20 --witness "$W1_VKEY=$W1_URL" --witness "$W2_VKEY=$W2_URL2"
L_PID=$PID L_URL=$URL
add "entry 8" "$L_URL"
[ "$(cosigs "$L_URL" "$L_VKEY")" = 2 ] || fail "after restarts (409 then retry)"

# A fork: the same log key, another tree.  The witnesses hold a larger
# tree, so the forked checkpoint gets no cosignature; the add still works.
mkdir -m 700 "$WORK/fork"
cp "$WORK/log.key" "$WORK/fork.key"
start log "$WORK/fork" --open --batch-ms 20 --witness "$W1_VKEY=$W1_URL" --witness "$W2_VKEY=$W2_URL2"
F_URL=$URL
add "forked entry" "$F_URL"
[ "$(cosigs "$F_URL" "$L_VKEY")" = 0 ] || fail "forked checkpoint cosigned"
for i in $(seq 2 60); do add "forked $i" "$F_URL"; done
[ "$(cosigs "$F_URL" "$L_VKEY")" = 0 ] || fail "larger forked checkpoint cosigned"
# The real log goes on being cosigned.
add "entry 9" "$L_URL"
[ "$(cosigs "$L_URL" "$L_VKEY")" = 2 ] || fail "real log after the fork attempt"
# A witness that accepts connections and never answers (hung): each ask
# costs a batch the witness timeout, so after a failure it is left alone
# for a growing backoff (1 s, 2 s, ...) instead of being asked every batch.
start witness "$WORK/w3" --log "$L_VKEY" --name witness.test/w3
W3_VKEY=$VKEY
stop "$PID"
python3 - "$WORK/hole.port" "$WORK/hole.accepts" <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
held = []
while True:
    c, _ = s.accept()
    held.append(c)                      # never read, never answered
    with open(sys.argv[2], "a") as f:
        f.write("x\n")
PY
PIDS+=("$!")
for _ in $(seq 100); do [ -s "$WORK/hole.port" ] && break; sleep 0.05; done
[ -s "$WORK/hole.port" ] || fail "the hung witness did not start"
stop "$L_PID"
start log "$WORK/log" --open --batch-ms 20 --witness "$W1_VKEY=$W1_URL" \
    --witness "$W3_VKEY=http://127.0.0.1:$(cat "$WORK/hole.port")"
L_PID=$PID L_URL=$URL
for i in $(seq 10 15); do add "entry $i" "$L_URL"; done
[ "$(cosigs "$L_URL" "$L_VKEY")" = 1 ] || fail "hung witness: W1's cosignature missing"
asked=$(wc -l <"$WORK/hole.accepts")
[ "$asked" -lt 6 ] || fail "the hung witness was asked for every one of 6 batches ($asked)"
grep -q 'witness witness.test/w3 skipped' "$WORK/log.err" || fail "hung witness not reported"
echo "witness_log: ok"
