#!/bin/bash
# No silent access: an allowed requester who logs requests for a blinded
# target (c*E, E + x*B, -E, a different c per agent, a point in no file)
# gets nothing from any agent, and every attempt is a refusal row; the
# honest request for the same file still recovers it and the audit finds it.
. "$(dirname "$0")/lib.sh"
: "${BLIND_REQUESTER:?}"

# The log takes anything (--open): a careless or hostile log operator.  The
# agents must refuse on their own; a log that admits only this authority's
# requests refuses them too (below), but no agent relies on that.
start_log logB
setup_authority 3 5
setup_file
for i in 1 2 3 4 5; do start_agent "$i" --requesters "$T/req.pub"; done
URLS="$AGENT_URL_1,$AGENT_URL_2,$AGENT_URL_3,$AGENT_URL_4,$AGENT_URL_5"

attempts=0
for v in mul add neg peragent nofile; do
    "$BLIND_REQUESTER" "$v" "$AUTH" "$T/req.key" "$LOG_URL" "$URLS" "$T/file.age" \
        >"$T/blind-$v.out" 2>&1
    rc=$?
    cat "$T/blind-$v.out" | sed "s/^/  $v: /"
    [ $rc -ne 3 ] || fail "$v: the blinded request recovered the victim's file key"
    [ $rc -eq 0 ] || fail "$v: the attack tool failed: $(cat "$T/blind-$v.out")"
    grep -q "^answered 0 refused 5 " "$T/blind-$v.out" || fail "$v: an agent answered"
    [ "$(grep -c 'HTTP 400 refused: the request.s target is not an escrow stanza of this authority' \
        "$T/blind-$v.out")" = 5 ] || fail "$v: not every agent refused the target"
    attempts=$((attempts + 1))
    ok "$v: refused by all 5 agents"
done

# Every agent recorded every attempt (peragent: one request per agent).
for i in 1 2 3 4 5; do
    n=$(sqlite3 "$T/agent$i/agent.db" "SELECT count(*) FROM refusals WHERE kind = 'bad-target'")
    [ "$n" = "$attempts" ] || fail "agent $i recorded $n bad-target refusals, want $attempts"
    a=$(sqlite3 "$T/agent$i/agent.db" "SELECT count(*) FROM requests")
    [ "$a" = 0 ] || fail "agent $i has $a request rows after the attacks"
done
sqlite3 "$T/agent1/agent.db" "SELECT detail FROM refusals WHERE kind = 'bad-target' LIMIT 1" \
    | grep -q "requester court.test/judge-1 target .*validity proof does not verify" \
    || fail "refusal detail"
ok "every agent recorded $attempts bad-target refusals and no answer"

# The same log, now admitting only this authority's requests, refuses a
# blinded one before it is logged.
bind_log logB
"$BLIND_REQUESTER" mul "$AUTH" "$T/req.key" "$LOG_URL" "$URLS" "$T/file.age" >"$T/blind-log.out" 2>&1 \
    || fail "blinded request against the bound log: $(cat "$T/blind-log.out")"
grep -q "^log: HTTP 400: the request's target is not an escrow stanza of its authority" "$T/blind-log.out" \
    || fail "the bound log did not refuse the blinded request: $(cat "$T/blind-log.out")"
ok "a log bound to the authority refuses the blinded request (400)"

# The honest request for the same file recovers it, and the audit sees it.
file_request
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" --agents "$URLS" \
    -o "$T/out" "$T/file.age" 2>"$T/recover.err" || fail "recover: $(cat "$T/recover.err")"
cmp -s "$T/out" "$T/plain" || fail "recovered plaintext differs"
ok "the honest request recovers the file"
idx=$(sed -n 's/^request logged at index \([0-9]*\).*/\1/p' "$T/request.out")
"$FAIRKEY" audit --authority "$AUTH" "$T/file.age" >"$T/audit.out"
grep -q "RECOVERY REQUESTED at log index $idx by court.test/judge-1" "$T/audit.out" \
    || fail "audit: $(cat "$T/audit.out")"
[ "$(grep -c 'RECOVERY REQUESTED' "$T/audit.out")" = 1 ] || fail "audit: $(cat "$T/audit.out")"
ok "the audit finds the honest request"
