#!/bin/bash
# Requests an agent must refuse, and answers a requester must reject.
. "$(dirname "$0")/lib.sh"
: "${EVIL_AGENT:?}"

start_log logA
setup_authority 3 5
bind_log logA
LOGA_URL=$LOG_URL; LOGA_VKEY=$LOG_VKEY; LOGA_PID=$LOG_PID
setup_file
for i in 1 2 3 4 5; do start_agent "$i" --requesters "$T/req.pub"; done
URLS="$AGENT_URL_1,$AGENT_URL_2,$AGENT_URL_3,$AGENT_URL_4,$AGENT_URL_5"

recover_fails() { # NAME RECEIPT KEY AGENTS: must fail, write nothing, stderr in $T/NAME.err
    rm -f "$T/$1.out"
    "$FAIRKEY" recover --authority "$AUTH" --request "$2" --key "$3" --agents "$4" \
        -o "$T/$1.out" "$T/file.age" 2>"$T/$1.err" && fail "$1: recover succeeded"
    [ -e "$T/$1.out" ] && fail "$1: output written"
    true
}
post() { # URL FILE: POST to an agent, prints "HTTP-code body"
    curl -s -m 10 -o "$T/post.body" -w '%{http_code}' --data-binary @"$2" "$1/recover"
    echo " $(cat "$T/post.body")"
}

# 1. A request not in the authority's log.  'fairkey request' refuses
# another log (one line), whether named by URL or by key ...
start_log logB
LOGB_URL=$LOG_URL; LOGB_VKEY=$LOG_VKEY
LOG_URL=$LOGA_URL; LOG_VKEY=$LOGA_VKEY
request_refused() { # NAME EXPECTED-TEXT OPTIONS...
    name=$1; want=$2; shift 2
    "$FAIRKEY" request --authority "$AUTH" "$@" --key "$T/req.key" --warrant "$T/warrant.txt" \
        --reason "other log" -o "$T/$name.receipt" "$T/file.age" >/dev/null 2>"$T/$name.err" \
        && fail "$name: request filed in a log other than the authority's"
    [ "$(wc -l <"$T/$name.err")" = 1 ] || fail "$name: not one line: $(cat "$T/$name.err")"
    grep -q "^fairkey: .*$want" "$T/$name.err" || fail "$name: $(cat "$T/$name.err")"
    [ -e "$T/$name.receipt" ] && fail "$name: receipt written"
    true
}
request_refused otherurl "is not the log of authority e2e" --log "$LOGB_URL"
request_refused otherkey "is not the key of authority e2e's log" --log-vkey "$LOGB_VKEY"
request_refused otherboth "is not the log of authority e2e" --log "$LOGB_URL" --log-vkey "$LOGB_VKEY"
"$FAIRKEY" request --authority "$AUTH" --log "$LOGA_URL/" --log-vkey "$LOGA_VKEY" --key "$T/req.key" \
    --warrant "$T/warrant.txt" --reason "same log" -o "$T/same.receipt" "$T/file.age" >/dev/null \
    || fail "the authority's own log given as --log and --log-vkey was refused"
ok "fairkey request refuses a log other than the authority's"

# ... and a receipt from another log, filed by hand, is refused by recover
# and by every agent.
file_request; cp "$RECEIPT" "$T/r1"
base64 -d <<<"$(sed -n 's/^extra //p' "$T/r1")" >"$T/r1.note"
curl -s -m 10 --data-binary @"$T/r1.note" "$LOGB_URL/add" >"$T/logb.add" || fail "add to log B"
{ head -1 "$T/logb.add"; echo "extra $(base64 -w0 "$T/r1.note")"; tail -n +2 "$T/logb.add"; } >"$T/logb.receipt"
recover_fails notlogged "$T/logb.receipt" "$T/req.key" "$URLS"
grep -q "does not prove the request is in authority e2e's log" "$T/notlogged.err" || fail "notlogged: $(cat "$T/notlogged.err")"
res=$(post "$AGENT_URL_1" "$T/logb.receipt")
case "$res" in 403*"does not prove the request is in the log"*) ;; *) fail "agent took log B's receipt: $res" ;; esac
ok "a request proven only in another log is refused"

# ... and a receipt whose request was swapped for another (index/proof of a different entry).
"$FAIRKEY" request --authority "$AUTH" --key "$T/req.key" \
    --warrant "$T/warrant.txt" --reason "another reason" -o "$T/r2" "$T/file.age" >/dev/null || fail "r2"
{ head -1 "$T/r1"; sed -n 2p "$T/r2"; tail -n +3 "$T/r1"; } >"$T/swapped"
recover_fails swapped "$T/swapped" "$T/req.key" "$URLS"
grep -q "does not prove the request is in authority e2e's log" "$T/swapped.err" || fail "swapped: $(cat "$T/swapped.err")"
res=$(post "$AGENT_URL_1" "$T/swapped")
case "$res" in 403*"does not prove the request is in the log"*) ;; *) fail "agent took the swapped receipt: $res" ;; esac
ok "a receipt whose request is not the proven entry is refused"

# 2. A request whose signature does not verify: alter a signed request.  The
# log refuses to sequence it; an agent shown it (in r1's receipt) refuses it
# before looking at the proof.
base64 -d <<<"$(sed -n 's/^extra //p' "$T/r1")" | sed 's/e2e test case/e2e test casE/' >"$T/forged.note"
code=$(curl -s -m 10 -o "$T/forged.add" -w '%{http_code}' --data-binary @"$T/forged.note" "$LOG_URL/add")
[ "$code" = 403 ] || fail "the log took a forged request: $code $(cat "$T/forged.add")"
{ head -1 "$T/r1"; echo "extra $(base64 -w0 "$T/forged.note")"; tail -n +3 "$T/r1"; } >"$T/forged.receipt"
res=$(post "$AGENT_URL_1" "$T/forged.receipt")
case "$res" in 403*signature*) ;; *) fail "forged signature: $res" ;; esac
recover_fails forged "$T/forged.receipt" "$T/req.key" "$URLS"
grep -q "not a valid receipt with a signed request" "$T/forged.err" || fail "forged recover: $(cat "$T/forged.err")"
ok "a request with a bad signature is refused by the log and by the agents"

# 3. A requester the agents do not allow.
"$FAIRKEY" request keygen --name rogue.test/x -o "$T/rogue.key" >/dev/null || fail "rogue keygen"
"$FAIRKEY" request --authority "$AUTH" --key "$T/rogue.key" \
    --warrant "$T/warrant.txt" --reason "rogue" -o "$T/rogue.receipt" "$T/file.age" >/dev/null || fail "rogue request"
recover_fails rogue "$T/rogue.receipt" "$T/rogue.key" "$URLS"
grep -q "requester not allowed" "$T/rogue.err" || fail "rogue: $(cat "$T/rogue.err")"
ok "a requester not in the allow-list is refused"

# 4. A wrong partial (an evil agent) is named and skipped; recovery succeeds.
"$EVIL_AGENT" 127.0.0.1:0 badproof 2 >"$T/evil.out" & PIDS="$PIDS $!"
EVIL=http://127.0.0.1:$(wait_port "$T/evil.out") || fail "evil agent"
# With two honest agents the evil answer is needed, so it is examined and
# named for certain; with three, recovery succeeds regardless of it.
recover_fails evil "$T/r1" "$T/req.key" "$EVIL,$AGENT_URL_1,$AGENT_URL_3"
grep -q "\-\-agents entry 1 ($EVIL) returned an invalid proof; skipped" "$T/evil.err" || fail "evil not named: $(cat "$T/evil.err")"
"$FAIRKEY" recover --authority "$AUTH" --request "$T/r1" --key "$T/req.key" \
    --agents "$EVIL,$AGENT_URL_1,$AGENT_URL_3,$AGENT_URL_4" -o "$T/evil.plain" "$T/file.age" \
    2>"$T/evil.err" || fail "recover with an evil agent: $(cat "$T/evil.err")"
cmp -s "$T/evil.plain" "$T/plain" || fail "evil plaintext"
ok "an agent returning a wrong partial is named and skipped"

# 5. An altered answer and a replayed answer do not open.
"$EVIL_AGENT" 127.0.0.1:0 flip "$AGENT_URL_2" >"$T/flip.out" & PIDS="$PIDS $!"
FLIP=http://127.0.0.1:$(wait_port "$T/flip.out") || fail "flip proxy"
# With only two honest agents the altered answer is needed, so it is
# examined and named for certain; with three, recovery succeeds regardless.
recover_fails flip "$T/r1" "$T/req.key" "$FLIP,$AGENT_URL_1,$AGENT_URL_3"
grep -q "\-\-agents entry 1 ($FLIP) returned an answer that does not open for this request; skipped" "$T/flip.err" \
    || fail "flip: $(cat "$T/flip.err")"
"$FAIRKEY" recover --authority "$AUTH" --request "$T/r1" --key "$T/req.key" \
    --agents "$FLIP,$AGENT_URL_1,$AGENT_URL_3,$AGENT_URL_4" -o "$T/flip.plain" "$T/file.age" \
    2>/dev/null || fail "recover with an altered answer"
"$EVIL_AGENT" 127.0.0.1:0 replay "$AGENT_URL_2" >"$T/replay.out" & PIDS="$PIDS $!"
REPLAY=http://127.0.0.1:$(wait_port "$T/replay.out") || fail "replay proxy"
"$FAIRKEY" recover --authority "$AUTH" --request "$T/r1" --key "$T/req.key" --agents "$REPLAY" \
    -o "$T/rp1" "$T/file.age" 2>/dev/null   # primes the proxy with r1's answer (1 of 3: fails)
recover_fails replay "$T/r2" "$T/req.key" "$REPLAY,$AGENT_URL_1,$AGENT_URL_3"
grep -q "\-\-agents entry 1 ($REPLAY) returned an answer that does not open for this request; skipped" "$T/replay.err" \
    || fail "replay: $(cat "$T/replay.err")"
"$FAIRKEY" recover --authority "$AUTH" --request "$T/r2" --key "$T/req.key" \
    --agents "$REPLAY,$AGENT_URL_1,$AGENT_URL_3,$AGENT_URL_4" -o "$T/replay.plain" "$T/file.age" \
    2>/dev/null || fail "recover with a replayed answer"
ok "altered and replayed answers are rejected, recovery still succeeds"

# 6. Only t-1 agents reachable: clear failure, nothing written.
recover_fails short "$T/r1" "$T/req.key" "$AGENT_URL_1,$AGENT_URL_2,http://127.0.0.1:1"
grep -q "only 2 of the 3 valid answers needed; nothing written" "$T/short.err" || fail "short: $(cat "$T/short.err")"
ok "t-1 agents: clear failure, nothing written"

# 7. Wrong authority file.
"$FAIRKEY" authority create --name other -t 2 -n 3 --log "$LOG_URL" --log-vkey "$LOG_VKEY" \
    -o "$T/auth2" >/dev/null || fail "auth2"
"$FAIRKEY" recover --authority "$T/auth2/authority.pub" --request "$T/r1" --key "$T/req.key" \
    --agents "$URLS" -o "$T/wa.out" "$T/file.age" 2>"$T/wa.err" && fail "wrong authority accepted"
grep -q "no escrow stanza for this authority" "$T/wa.err" || fail "wrong authority: $(cat "$T/wa.err")"
"$FAIRKEY" agent serve --share "$T/auth2/share-1.key" --authority "$AUTH" \
    --listen 127.0.0.1:0 --state "$T/wa-agent" 2>"$T/wa-agent.err" \
    && fail "agent started with a share of another authority"
grep -q "is not a share of this authority" "$T/wa-agent.err" || fail "agent share check"
ok "a wrong authority file is refused by recover and by the agent"

# 8. Split view: the log's key signs a fork (other contents) that the
# authority's log URL serves to the requester for a while.
PORTA=${LOGA_URL##*:}
kill "$LOGA_PID"; wait "$LOGA_PID" 2>/dev/null
mkdir -p "$T/logC"
cp "$T/logA.key" "$T/logC.key"
"$FAIRKEY" log serve --dir "$T/logC" --listen "127.0.0.1:$PORTA" --origin fk.test/logA --batch-ms 50 \
    --authority "$AUTH" --rate 600 >"$T/logC.out" 2>"$T/logC.err" & LOGC_PID=$!; PIDS="$PIDS $LOGC_PID"
wait_url "$T/logC.out" >/dev/null || fail "log C: $(cat "$T/logC.err")"
grep -q "^$LOGA_VKEY\$" "$T/logC.out" || fail "log C has another key"
# The agents have seen logA at size >= 3; a 1-entry fork signed by the same key is a split view.
"$FAIRKEY" request --authority "$AUTH" --key "$T/req.key" \
    --warrant "$T/warrant.txt" --reason "fork" -o "$T/fork.receipt" "$T/file.age" >/dev/null || fail "fork request"
kill "$LOGC_PID"; wait "$LOGC_PID" 2>/dev/null
"$FAIRKEY" log serve --dir "$T/logA" --listen "127.0.0.1:$PORTA" --origin fk.test/logA --batch-ms 50 \
    --authority "$AUTH" --rate 600 >"$T/logA2.out" 2>"$T/logA2.err" & PIDS="$PIDS $!"
wait_url "$T/logA2.out" >/dev/null || fail "log A restart: $(cat "$T/logA2.err")"
recover_fails fork "$T/fork.receipt" "$T/req.key" "$URLS"
grep -q "inconsistent with the log this agent saw (split view)" "$T/fork.err" || fail "fork: $(cat "$T/fork.err")"
n=$(sqlite3 "$T/agent1/agent.db" "SELECT count(*) FROM refusals WHERE kind = 'split-view'")
[ "$n" -ge 1 ] || fail "split view not recorded"
ok "a split view (same log key, other contents) is refused and recorded"
echo "PASS"
