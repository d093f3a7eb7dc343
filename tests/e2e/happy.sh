#!/bin/bash
# Happy path: file a logged request, recover with agents, audit finds it;
# a manual-approval agent answers only after 'fairkey agent approve'.
. "$(dirname "$0")/lib.sh"

start_log logA
setup_authority 3 5
bind_log logA
setup_file
for i in 1 2 3 4 5; do start_agent "$i" --requesters "$T/req.pub"; done

# A second file nobody asks about.
"$FAIRKEY" encrypt -r "$AUTH_R" -o "$T/other.age" "$T/warrant.txt" || fail "encrypt other"

# Audit before any request: nothing recorded.
"$FAIRKEY" audit --authority "$AUTH" --state "$T/audit.state" "$T/file.age" \
    >"$T/audit0.out" || fail "audit before"
grep -q "no recovery recorded up to tree size 0" "$T/audit0.out" || fail "audit0: $(cat "$T/audit0.out")"
ok "audit before the request finds nothing (exit 0)"

"$FAIRKEY" request --authority "$AUTH" \
    --key "$T/req.key" --warrant "$T/warrant.txt" --reason "e2e test case" \
    "$T/file.age" >"$T/request.out" || fail "request"
grep -q "request logged at index 0" "$T/request.out" || fail "request output: $(cat "$T/request.out")"
[ -f "$T/file.age.request-0.tlog-proof" ] || fail "no default receipt"
head -1 "$T/file.age.request-0.tlog-proof" | grep -qx "c2sp.org/tlog-proof@v1" || fail "receipt header"
ok "request logged, receipt written"

URLS="$AGENT_URL_1,$AGENT_URL_2,$AGENT_URL_3,$AGENT_URL_4,$AGENT_URL_5"
start=$(date +%s%N)
"$FAIRKEY" recover --authority "$AUTH" --request 0 --key "$T/req.key" --agents "$URLS" \
    -o "$T/out" "$T/file.age" 2>"$T/recover.err" || fail "recover: $(cat "$T/recover.err")"
end=$(date +%s%N)
cmp -s "$T/out" "$T/plain" || fail "recovered plaintext differs"
ok "recovered with 3 of 5 agents in $(( (end - start) / 1000000 )) ms"
[ "$(stat -c %a "$T/out")" = 600 ] || fail "recovered file mode"

# The agents wrote the answer to their audit tables.
n=0
for i in 1 2 3 4 5; do
    "$FAIRKEY" agent pending --all --state "$T/agent$i" | grep -q "answered.*log index 0.*court.test/judge-1" && n=$((n + 1))
done
[ "$n" -ge 3 ] || fail "only $n agents recorded an answer"
ok "$n agents recorded their answer"

rc=0
"$FAIRKEY" audit --authority "$AUTH" --state "$T/audit.state" \
    "$T/file.age" "$T/other.age" >"$T/audit1.out" || rc=$?
[ "$rc" = 3 ] || fail "audit after: exit $rc, not 3 (a recovery is recorded)"
grep -q "file.age: escrow stanza for age1fairkey1.*RECOVERY REQUESTED at log index 0 by court.test/judge-1 at .*: e2e test case" "$T/audit1.out" \
    || fail "audit1: $(cat "$T/audit1.out")"
grep -q "other.age: escrow stanza for .*: no recovery recorded up to tree size 1" "$T/audit1.out" \
    || fail "audit1 other: $(cat "$T/audit1.out")"
ok "audit finds the request for the file and none for the other file (exit 3)"

# Manual approval: agent 6 of a 1-of-1 setup would need another authority;
# instead restart agent 1 in manual mode with a fresh state and file a new request.
stop_agent 1
start_agent 1 --requesters "$T/req.pub" --manual
# Another reason: filed within the same second, the same text would be the
# same (deterministically signed) entry, which agent 1 has answered already.
file_request --reason "e2e manual approval case"
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" \
    --agents "$AGENT_URL_1" -o "$T/out2" "$T/file.age" 2>"$T/manual.err" && fail "manual answered early"
grep -q "queued the request for manual approval (id 2)" "$T/manual.err" || fail "manual: $(cat "$T/manual.err")"
[ -e "$T/out2" ] && fail "output written without t answers"
"$FAIRKEY" agent pending --state "$T/agent1" | grep -q "^2	pending" || fail "pending list"
"$FAIRKEY" agent approve --state "$T/agent1" 2 >/dev/null || fail "approve"
"$FAIRKEY" agent approve --state "$T/agent1" 2 2>/dev/null && fail "approved twice"
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" \
    --agents "$AGENT_URL_1,$AGENT_URL_2,$AGENT_URL_3" -o "$T/out2" "$T/file.age" 2>"$T/manual2.err" \
    || fail "recover after approval: $(cat "$T/manual2.err")"
cmp -s "$T/out2" "$T/plain" || fail "plaintext after approval"
grep -q "agent 1 .* answered with share 1" "$T/manual2.err" || fail "agent 1 did not answer after approval"
ok "manual agent answers only after approval"
echo "PASS"
