#!/bin/bash
# An agent killed and restarted mid-recovery; the audit's consistency state.
. "$(dirname "$0")/lib.sh"

start_log logA
setup_authority 3 3
bind_log logA
setup_file
for i in 1 2 3; do start_agent "$i" --requesters "$T/req.pub"; done
file_request

# Kill agent 3, start the recovery (it retries agent 3), restart agent 3 on
# the same port with the same state.
port3=${AGENT_URL_3##*:}
stop_agent 3
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" \
    --agents "$AGENT_URL_1,$AGENT_URL_2,$AGENT_URL_3" -o "$T/out" "$T/file.age" 2>"$T/recover.err" &
rec=$!
sleep 0.6
"$FAIRKEY" agent serve --share "$T/auth/share-3.key" --authority "$AUTH" \
    --listen "127.0.0.1:$port3" --state "$T/agent3" --requesters "$T/req.pub" \
    >"$T/agent3b.out" 2>"$T/agent3b.err" & PIDS="$PIDS $!"
wait "$rec" || fail "recover across an agent restart: $(cat "$T/recover.err")"
cmp -s "$T/out" "$T/plain" || fail "plaintext"
ok "recovery survives an agent restarted mid-recovery"

# Audit state: a state file from a different log (same origin, other key) is refused.
rc=0
"$FAIRKEY" audit --log "$LOG_URL" --vkey "$LOG_VKEY" --state "$T/st" "$T/file.age" >/dev/null || rc=$?
[ "$rc" = 3 ] || fail "audit: exit $rc, not 3 (the file was recovered)"
grep -q "^fk.test/logA$" "$T/st" || fail "audit state not written"
sed -i '2s/.*/999/' "$T/st"
"$FAIRKEY" audit --log "$LOG_URL" --vkey "$LOG_VKEY" --state "$T/st" "$T/file.age" >/dev/null 2>"$T/st.err" \
    && fail "tampered audit state accepted"
ok "audit refuses a state file that is not a checkpoint of this log"

# --follow reports a new request while running.
"$FAIRKEY" audit --log "$LOG_URL" --vkey "$LOG_VKEY" --follow --interval 1 "$T/file.age" >"$T/follow.out" 2>&1 &
fol=$!; PIDS="$PIDS $fol"
sleep 0.5
"$FAIRKEY" request --authority "$AUTH" --log "$LOG_URL" --key "$T/req.key" --warrant "$T/warrant.txt" \
    --reason "second look" -o "$T/r2" "$T/file.age" >/dev/null || fail "second request"
for _ in $(seq 1 60); do grep -q "second look" "$T/follow.out" && break; sleep 0.1; done
grep -q "RECOVERY REQUESTED at log index 1 .*second look" "$T/follow.out" || fail "follow: $(cat "$T/follow.out")"
ok "audit --follow reports a new request"

# Concurrent recoveries: the agents group-commit their audit rows; every
# answer is on record, and still there after the agent is killed (-9).
N=12
for k in $(seq 1 $N); do
    "$FAIRKEY" request --authority "$AUTH" --key "$T/req.key" \
        --warrant "$T/warrant.txt" --reason "concurrent $k" -o "$T/c$k" "$T/file.age" >/dev/null \
        || fail "request $k"
done
pids=""
for k in $(seq 1 $N); do
    "$FAIRKEY" recover --authority "$AUTH" --request "$T/c$k" --key "$T/req.key" \
        --agents "$AGENT_URL_1,$AGENT_URL_2,$AGENT_URL_3" -o "$T/c$k.out" "$T/file.age" \
        2>"$T/c$k.err" & pids="$pids $!"
done
for p in $pids; do wait "$p" || fail "a concurrent recovery failed: $(cat "$T"/c*.err)"; done
for k in $(seq 1 $N); do cmp -s "$T/c$k.out" "$T/plain" || fail "concurrent plaintext $k"; done
kill -9 "$AGENT_PID_1"; wait "$AGENT_PID_1" 2>/dev/null
for i in 1 2 3; do
    n=$(sqlite3 "$T/agent$i/agent.db" \
        "SELECT count(*) FROM requests WHERE reason LIKE 'concurrent %' AND status = 2 AND answers >= 1")
    [ "$n" = "$N" ] || fail "agent $i recorded $n of $N concurrent answers"
done
ok "$N concurrent recoveries: every answer recorded by every agent, kept across kill -9"
echo "PASS"
