#!/bin/bash
# C2SP tlog-policy enforcement: the authority file names the log and its
# policy; agents answer only receipts whose checkpoint meets it and refuse
# to start when told of another log or policy; 'log verify --policy' judges
# the log's checkpoint the same way; bad policies stop start-up with one
# clear line.
. "$(dirname "$0")/lib.sh"

start_log logB
LOGB_URL=$LOG_URL; LOGB_VKEY=$LOG_VKEY
start_log logA
# A real cosignature/v1 witness key (Sunlight's test witness): this log has
# no witnesses, so its checkpoints never carry that cosignature.
WVKEY=$(sed -n 's/.*"\(witness\.example\.org+[0-9a-f]\{8\}+[A-Za-z0-9+/=]*\)".*/\1/p' \
    "$FK_TESTDATA/merkle/sunlight-cosignature-v1/witness/witness.v0.json")
[ -n "$WVKEY" ] || fail "no witness vkey in the test data"

printf '# no witnesses yet\nlog %s %s\nquorum none\n' "$LOG_VKEY" "$LOG_URL" >"$T/none.policy"
printf 'log %s %s\n\nwitness W1 %s\ngroup g any W1\nquorum g\n' "$LOG_VKEY" "$LOG_URL" "$WVKEY" >"$T/witness.policy"
setup_authority 2 3 --log-policy "$T/none.policy"
setup_file
"$FAIRKEY" authority show "$AUTH" | grep -qx "log policy: log $LOG_VKEY $LOG_URL" \
    || fail "authority show: no log policy line"

# The authority's policy; the same policy (other comments, other spacing)
# given again is accepted.
printf 'log\t%s   %s  \n# none\nquorum none\n' "$LOG_VKEY" "$LOG_URL" >"$T/same.policy"
start_agent 1 --requesters "$T/req.pub"
start_agent 2 --requesters "$T/req.pub" --log-policy "$T/same.policy" --log "$LOG_URL" --log-vkey "$LOG_VKEY"
file_request
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" \
    --agents "$AGENT_URL_1,$AGENT_URL_2" -o "$T/out" "$T/file.age" 2>"$T/recover.err" \
    || fail "recover with quorum none: $(cat "$T/recover.err")"
cmp -s "$T/out" "$T/plain" || fail "recovered plaintext differs"
ok "agents take the log and 'quorum none' policy from the authority; the same policy repeated is accepted"

# An authority whose policy needs a witness: its agent refuses a receipt
# from a log without witnesses, and so does recover, before asking it.
"$FAIRKEY" authority create --name wit -t 1 -n 1 --log-policy "$T/witness.policy" -o "$T/authw" \
    >/dev/null || fail "authority create with a witness policy"
bind_log logA --authority "$T/authw/authority.pub"
"$FAIRKEY" encrypt -r "$("$FAIRKEY" authority show --recipient "$T/authw/authority.pub")" \
    -o "$T/filew.age" "$T/plain" || fail "encrypt to authw"
"$FAIRKEY" agent serve --share "$T/authw/share-1.key" --authority "$T/authw/authority.pub" \
    --listen 127.0.0.1:0 --state "$T/agentw" --requesters "$T/req.pub" \
    >"$T/agentw.out" 2>"$T/agentw.err" & PIDS="$PIDS $!"
portw=$(wait_port "$T/agentw.out") || fail "witness agent did not start: $(cat "$T/agentw.err")"
"$FAIRKEY" request --authority "$T/authw/authority.pub" --key "$T/req.key" --warrant "$T/warrant.txt" \
    --reason "witness test" -o "$T/receiptw" "$T/filew.age" >/dev/null || fail "request to authw"
code=$(curl -s -m 10 -o "$T/post.body" -w '%{http_code}' --data-binary @"$T/receiptw" "http://127.0.0.1:$portw/recover")
[ "$code" = 403 ] || fail "witness policy agent answered $code: $(cat "$T/post.body")"
grep -q "lacks the witness cosignatures this agent's log policy requires" "$T/post.body" \
    || fail "refusal body: $(cat "$T/post.body")"
"$FAIRKEY" recover --authority "$T/authw/authority.pub" --request "$T/receiptw" --key "$T/req.key" \
    --agents "http://127.0.0.1:$portw" -o "$T/outw" "$T/filew.age" 2>"$T/recoverw.err" \
    && fail "recovered under an unmet witness quorum"
[ -e "$T/outw" ] && fail "output written without a witnessed receipt"
grep -q "lacks the witness cosignatures authority wit's log policy requires" "$T/recoverw.err" \
    || fail "recoverw: $(cat "$T/recoverw.err")"
ok "an authority whose policy needs a witness: agent and recover refuse a receipt from a log without witnesses"

# Start-up refusals: one line each, non-zero exit, nothing served.  An
# agent is never pointed at a log (or policy) other than its authority's.
agent_fails() { # NAME EXPECTED-TEXT ARGS...: agent serve must exit non-zero at once
    name=$1; want=$2; shift 2
    timeout 20 "$FAIRKEY" agent serve --share "$T/auth/share-3.key" --authority "$AUTH" \
        --listen 127.0.0.1:0 --state "$T/agent-$name" "$@" \
        >"$T/$name.out" 2>"$T/$name.err" && fail "$name: agent started"
    [ "$(wc -l <"$T/$name.err")" = 1 ] || fail "$name: not one line: $(cat "$T/$name.err")"
    grep -q "^fairkey: .*$want" "$T/$name.err" || fail "$name: $(cat "$T/$name.err")"
}
agent_fails other-url "--log $LOGB_URL is not the log of authority e2e" --log "$LOGB_URL"
agent_fails other-key "is not the key of authority e2e's log" --log-vkey "$LOGB_VKEY"
agent_fails other-both "is not the log of authority e2e" --log "$LOGB_URL" --log-vkey "$LOGB_VKEY"
agent_fails other-policy "witness.policy is not the log policy of authority e2e" --log-policy "$T/witness.policy"
printf 'log %s\nwitness W1 %s\nquorum W2\n' "$LOG_VKEY" "$WVKEY" >"$T/bad.policy"
agent_fails bad-policy "bad.policy line 3 is not valid" --log-policy "$T/bad.policy"
printf 'log %s\n' "$LOG_VKEY" >"$T/noquorum.policy"
agent_fails no-quorum "needs exactly one 'quorum' line" --log-policy "$T/noquorum.policy"
ok "an agent told of another log or policy than its authority's does not start (one line)"

# authority create: a log is required, with its URL.
create_fails() { # NAME EXPECTED-TEXT ARGS...
    name=$1; want=$2; shift 2
    "$FAIRKEY" authority create --name x -t 1 -n 1 "$@" -o "$T/c-$name" >/dev/null 2>"$T/c-$name.err" \
        && fail "create $name: accepted"
    grep -q "^fairkey: .*$want" "$T/c-$name.err" || fail "create $name: $(cat "$T/c-$name.err")"
    [ -e "$T/c-$name/authority.pub" ] && fail "create $name: authority written"
    true
}
create_fails nolog "name the authority's log"
create_fails both "not both" --log "$LOG_URL" --log-vkey "$LOG_VKEY" --log-policy "$T/none.policy"
printf 'log %s\nquorum none\n' "$LOG_VKEY" >"$T/nourl.policy"
create_fails nourl "must list the log with its URL" --log-policy "$T/nourl.policy"
create_fails badurl "is not a log" --log "ftp://x" --log-vkey "$LOG_VKEY"
ok "authority create requires the log, with its URL"

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
