#!/bin/bash
# C2SP tlog-policy enforcement: agents started with --log-policy answer only
# receipts whose checkpoint meets the policy's quorum; 'log verify --policy'
# judges the log's checkpoint the same way; bad policies stop start-up with
# one clear line.
. "$(dirname "$0")/lib.sh"

setup_authority 2 3
start_log logB
LOGB_VKEY=$LOG_VKEY
start_log logA
setup_file
# A real cosignature/v1 witness key (Sunlight's test witness): this log has
# no witnesses, so its checkpoints never carry that cosignature.
WVKEY=$(sed -n 's/.*"\(witness\.example\.org+[0-9a-f]\{8\}+[A-Za-z0-9+/=]*\)".*/\1/p' \
    "$FK_TESTDATA/merkle/sunlight-cosignature-v1/witness/witness.v0.json")
[ -n "$WVKEY" ] || fail "no witness vkey in the test data"

printf '# no witnesses yet\nlog %s %s\nquorum none\n' "$LOG_VKEY" "$LOG_URL" >"$T/none.policy"
printf 'log %s\n\nwitness W1 %s\ngroup g any W1\nquorum g\n' "$LOG_VKEY" "$WVKEY" >"$T/witness.policy"

# start_policy_agent I POLICY [extra...]: an agent given only --log-policy.
start_policy_agent() {
    i=$1; p=$2; shift 2
    "$FAIRKEY" agent serve --share "$T/auth/share-$i.key" --authority "$AUTH" --log "$LOG_URL" \
        --log-policy "$p" --listen 127.0.0.1:0 --state "$T/agent$i" "$@" \
        >"$T/agent$i.out" 2>"$T/agent$i.err" &
    eval "AGENT_PID_$i=$!"
    PIDS="$PIDS $!"
    port=$(wait_port "$T/agent$i.out") || fail "agent $i did not start: $(cat "$T/agent$i.err")"
    eval "AGENT_URL_$i=http://127.0.0.1:$port"
}

start_policy_agent 1 "$T/none.policy" --requesters "$T/req.pub"
start_agent 2 --requesters "$T/req.pub" --log-policy "$T/none.policy"
start_policy_agent 3 "$T/witness.policy" --requesters "$T/req.pub"

file_request
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" \
    --agents "$AGENT_URL_1,$AGENT_URL_2" -o "$T/out" "$T/file.age" 2>"$T/recover.err" \
    || fail "recover with quorum none: $(cat "$T/recover.err")"
cmp -s "$T/out" "$T/plain" || fail "recovered plaintext differs"
ok "agents with a 'quorum none' policy (alone and beside --log-vkey) answer as before"

code=$(curl -s -m 10 -o "$T/post.body" -w '%{http_code}' --data-binary @"$RECEIPT" "$AGENT_URL_3/recover")
[ "$code" = 403 ] || fail "witness policy agent answered $code: $(cat "$T/post.body")"
grep -q "lacks the witness cosignatures this agent's log policy requires" "$T/post.body" \
    || fail "refusal body: $(cat "$T/post.body")"
rm -f "$T/out3"
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" \
    --agents "$AGENT_URL_1,$AGENT_URL_3" -o "$T/out3" "$T/file.age" 2>"$T/recover3.err" \
    && fail "recovered through an agent whose witness quorum is unmet"
[ -e "$T/out3" ] && fail "output written without t answers"
grep -q "witness cosignatures" "$T/recover3.err" || fail "recover3: $(cat "$T/recover3.err")"
ok "an agent whose policy needs a witness refuses a receipt from a log without witnesses"

# Start-up refusals: one line each, non-zero exit, nothing served.
agent_fails() { # NAME EXPECTED-TEXT ARGS...: agent serve must exit non-zero at once
    name=$1; want=$2; shift 2
    timeout 20 "$FAIRKEY" agent serve --share "$T/auth/share-3.key" --authority "$AUTH" \
        --log "$LOG_URL" --listen 127.0.0.1:0 --state "$T/agent-$name" "$@" \
        >"$T/$name.out" 2>"$T/$name.err" && fail "$name: agent started"
    [ "$(wc -l <"$T/$name.err")" = 1 ] || fail "$name: not one line: $(cat "$T/$name.err")"
    grep -q "^fairkey: .*$want" "$T/$name.err" || fail "$name: $(cat "$T/$name.err")"
}
agent_fails other-log "is not a log of --log-policy" --log-vkey "$LOGB_VKEY" --log-policy "$T/none.policy"
printf 'log %s\nlog %s\nquorum none\n' "$LOG_VKEY" "$LOGB_VKEY" >"$T/two.policy"
agent_fails two-logs "lists 2 logs; name the one to use with --log-vkey" --log-policy "$T/two.policy"
printf 'log %s\nwitness W1 %s\nquorum W2\n' "$LOG_VKEY" "$WVKEY" >"$T/bad.policy"
agent_fails bad-policy "bad.policy line 3 is not valid" --log-policy "$T/bad.policy"
printf 'log %s\n' "$LOG_VKEY" >"$T/noquorum.policy"
agent_fails no-quorum "needs exactly one 'quorum' line" --log-policy "$T/noquorum.policy"
ok "an unusable policy stops the agent with one line"
# With both options and a policy listing several logs, the vkey picks one.
start_agent 3 --requesters "$T/req.pub" --log-policy "$T/two.policy"
code=$(curl -s -m 10 -o "$T/post.body" -w '%{http_code}' --data-binary @"$RECEIPT" "$AGENT_URL_3/recover")
[ "$code" = 200 ] || fail "two-log policy agent answered $code: $(cat "$T/post.body")"
ok "--log-vkey picks the log of a policy listing two"

"$FAIRKEY" log verify --log "$LOG_URL" --policy "$T/none.policy" >"$T/v1.out" 2>&1 \
    || fail "log verify --policy none: $(cat "$T/v1.out")"
grep -q "log policy .*none.policy: quorum met (0 of 0 witnesses cosigned)" "$T/v1.out" || fail "v1: $(cat "$T/v1.out")"
"$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --policy "$T/witness.policy" >"$T/v2.out" 2>"$T/v2.err" \
    && fail "log verify accepted an unwitnessed checkpoint"
grep -q "^fairkey: the log's checkpoint (size [0-9]*) lacks the witness cosignatures --policy .*witness.policy requires (0 of 1 witnesses cosigned)" "$T/v2.err" \
    || fail "v2: $(cat "$T/v2.err")"
"$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOGB_VKEY" --policy "$T/none.policy" >"$T/v3.out" 2>"$T/v3.err" \
    && fail "log verify accepted a vkey the policy does not list"
grep -q "is not a log of --policy" "$T/v3.err" || fail "v3: $(cat "$T/v3.err")"
ok "log verify --policy accepts quorum none, refuses an unmet witness quorum"
echo "PASS"
