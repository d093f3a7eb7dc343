#!/bin/bash
# What an agent's operator meets: one agent per state folder, a share file
# only its owner can read, admin commands that refuse a mistyped --state,
# manual approval and denial, /healthz, and SIGHUP.
. "$(dirname "$0")/lib.sh"

# one_line FILE PATTERN: FILE holds exactly one line, and it matches.
one_line() {
    [ "$(grep -c '' "$1")" = 1 ] && grep -q "$2" "$1"
}

start_log logA
setup_authority 2 3
bind_log logA
setup_file

# ---- one agent per state folder ------------------------------------------------
start_agent 1 --requesters "$T/req.pub"
"$FAIRKEY" agent serve --share "$T/auth/share-1.key" --authority "$AUTH" \
    --listen 127.0.0.1:0 --state "$T/agent1" --requesters "$T/req.pub" >"$T/second.out" 2>"$T/second.err" &
pid=$!; PIDS="$PIDS $pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && fail "a second agent on the same --state runs"
wait "$pid" && fail "a second agent on the same --state exited 0"
one_line "$T/second.err" "another agent serves state folder $T/agent1; stop it first" \
    || fail "second agent: $(cat "$T/second.err")"
ok "a second agent on the same --state is refused in one line"

# ---- the share file's mode and owner -------------------------------------------
cp "$T/auth/share-2.key" "$T/share-2.key"
chmod 644 "$T/share-2.key"
timeout 10 "$FAIRKEY" agent serve --share "$T/share-2.key" --authority "$AUTH" \
    --listen 127.0.0.1:0 --state "$T/agent2x" --requesters "$T/req.pub" >/dev/null 2>"$T/mode.err" && fail "644 share accepted"
one_line "$T/mode.err" "share-2.key is readable or writable by group or others; run 'chmod 600 $T/share-2.key'" \
    || fail "644 share: $(cat "$T/mode.err")"
chmod 640 "$T/share-2.key"
timeout 10 "$FAIRKEY" agent serve --share "$T/share-2.key" --authority "$AUTH" \
    --listen 127.0.0.1:0 --state "$T/agent2x" --requesters "$T/req.pub" >/dev/null 2>"$T/mode.err" && fail "640 share accepted"
grep -q "chmod 600" "$T/mode.err" || fail "640 share: $(cat "$T/mode.err")"
timeout 10 "$FAIRKEY" agent serve --share /dev/null --authority "$AUTH" \
    --listen 127.0.0.1:0 --state "$T/agent2x" --requesters "$T/req.pub" >/dev/null 2>"$T/mode.err" && fail "/dev/null share accepted"
one_line "$T/mode.err" "is not a regular file" || fail "/dev/null share: $(cat "$T/mode.err")"
ok "a share readable by others, or not a regular file, is refused with the remedy"

# ---- admin commands refuse a mistyped --state ------------------------------------
for cmd in "pending" "approve" "deny"; do
    set -- "$cmd"; [ "$cmd" = pending ] || set -- "$cmd" 1
    "$FAIRKEY" agent "$1" --state "$T/agnet1" "${@:2}" >"$T/typo.out" 2>"$T/typo.err" \
        && fail "agent $cmd --state TYPO exited 0"
    one_line "$T/typo.err" "$T/agnet1 holds no agent database" || fail "$cmd typo: $(cat "$T/typo.err")"
    [ -e "$T/agnet1" ] && fail "agent $cmd --state TYPO created the folder"
done
mkdir "$T/empty"
"$FAIRKEY" agent pending --state "$T/empty" >/dev/null 2>"$T/typo.err" && fail "pending on an empty folder"
[ -e "$T/empty/agent.db" ] && fail "pending created agent.db"
"$FAIRKEY" agent pending --state "$T/agent1" >/dev/null || fail "pending on the real state"
ok "agent pending, approve and deny refuse a --state without agent.db and create nothing"

# ---- manual approval: the operator's line, the warrant hash, deny -------------------
start_agent 2 --requesters "$T/req.pub" --manual
file_request --reason "e2e deny case"
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" \
    --agents "$AGENT_URL_2" -o "$T/out" "$T/file.age" 2>"$T/rec1.err" && fail "manual agent answered"
grep -q "queued the request for manual approval (id 1)" "$T/rec1.err" || fail "rec1: $(cat "$T/rec1.err")"
grep "awaits approval" "$T/agent2.err" >"$T/awaits"
one_line "$T/awaits" \
    "fairkey agent: request 1 (log index 0, requester court.test/judge-1, warrant [0-9a-f]\{16\}...) awaits approval: fairkey agent approve|deny --state $T/agent2 1" \
    || fail "agent's line: $(cat "$T/agent2.err")"
WAR=$(sha256sum "$T/warrant.txt" | cut -d' ' -f1)
"$FAIRKEY" agent pending --state "$T/agent2" >"$T/pending.out" || fail "pending"
grep -q "^1	pending	log index 0	.*	warrant $WAR	e2e deny case$" "$T/pending.out" \
    || fail "pending shows no warrant hash: $(cat "$T/pending.out")"
ok "a request for manual approval: one line on the agent's stderr, pending shows the warrant hash"

"$FAIRKEY" agent deny --state "$T/agent2" --reason "$(printf 'a\tb')" 1 2>"$T/deny.err" && fail "a reason with a tab"
"$FAIRKEY" agent deny --state "$T/agent2" --reason "$(head -c 300 /dev/zero | tr '\0' x)" 1 2>/dev/null \
    && fail "a 300-byte reason"
"$FAIRKEY" agent deny --state "$T/agent2" --reason "warrant not signed by a judge" 1 >"$T/deny.out" \
    || fail "deny"
grep -q "denied request 1" "$T/deny.out" || fail "deny: $(cat "$T/deny.out")"
"$FAIRKEY" agent deny --state "$T/agent2" 1 2>/dev/null && fail "denied twice"
"$FAIRKEY" agent approve --state "$T/agent2" 1 2>/dev/null && fail "approved after denial"
"$FAIRKEY" agent pending --state "$T/agent2" | grep -q . && fail "a denied request still pending"
"$FAIRKEY" agent pending --all --state "$T/agent2" | grep -q "^1	denied	.*	denied: warrant not signed by a judge$" \
    || fail "pending --all: $("$FAIRKEY" agent pending --all --state "$T/agent2")"
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" \
    --agents "$AGENT_URL_2" -o "$T/out" "$T/file.age" 2>"$T/rec2.err" && fail "denied request answered"
grep -q "denied by this agent's operator: warrant not signed by a judge" "$T/rec2.err" \
    || fail "rec2: $(cat "$T/rec2.err")"
curl -s -o /dev/null -w '%{http_code}' --data-binary @"$RECEIPT" "$AGENT_URL_2/recover" | grep -qx 403 \
    || fail "a denied request is not answered 403"
# Without --manual the denial still holds.
stop_agent 2
start_agent 2 --requesters "$T/req.pub"
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" \
    --agents "$AGENT_URL_2" -o "$T/out" "$T/file.age" 2>"$T/rec3.err" && fail "denied request answered after restart"
grep -q "denied by this agent's operator" "$T/rec3.err" || fail "rec3: $(cat "$T/rec3.err")"
ok "a denied request gets 403 with the operator's reason, also from the agent restarted without --manual"

# ---- recover names agents by the share they proved, not by --agents order ---------
start_agent 3 --requesters "$T/req.pub"
file_request --reason "e2e order case"
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" \
    --agents "$AGENT_URL_3,$AGENT_URL_1" -o "$T/out" "$T/file.age" 2>"$T/order.err" \
    || fail "recover: $(cat "$T/order.err")"
cmp -s "$T/out" "$T/plain" || fail "recovered plaintext differs"
grep -q "^agent 3 ($AGENT_URL_3) answered with share 3; proof verified$" "$T/order.err" \
    && grep -q "^agent 1 ($AGENT_URL_1) answered with share 1; proof verified$" "$T/order.err" \
    || fail "agents numbered by position: $(cat "$T/order.err")"
ok "recover numbers agents by their share index"

# ---- GET /healthz on the log, an agent and a witness ------------------------------
"$FAIRKEY" witness serve --dir "$T/wit" --listen 127.0.0.1:0 --log "$LOG_VKEY" \
    >"$T/wit.out" 2>"$T/wit.err" &
WIT_PID=$!; PIDS="$PIDS $WIT_PID"
WIT_PORT=$(wait_url "$T/wit.out") || fail "witness did not start: $(cat "$T/wit.err")"
# healthz URL: the body and the status on one line.
healthz() { curl -s -w ' %{http_code}' "$1/healthz" | tr -d '\n'; }
h=$(healthz "$LOG_URL")
echo "$h" | grep -Eq '^\{"status":"ok","tree_size":[1-9][0-9]*,"uptime_s":[0-9]+\} 200$' || fail "log /healthz: $h"
h=$(healthz "$AGENT_URL_1")
echo "$h" | grep -Eq '^\{"authority":"[0-9a-f]{64}","index":1,"uptime_s":[0-9]+,"status":"ok"\} 200$' \
    || fail "agent /healthz: $h"
h=$(healthz "http://127.0.0.1:$WIT_PORT")
echo "$h" | grep -Eq '^\{"status":"ok","logs":1,"uptime_s":[0-9]+\} 200$' || fail "witness /healthz: $h"
ok "GET /healthz: 200 and a small JSON object on the log, an agent and a witness"

# ---- SIGHUP: the agent reloads --requesters; nothing dies ----------------------------
"$FAIRKEY" request keygen --name court.test/judge-2 -o "$T/req2.key" >"$T/req2.pub" || fail "keygen 2"
"$FAIRKEY" request --authority "$AUTH" --key "$T/req2.key" --warrant "$T/warrant.txt" \
    --reason "e2e reload case" -o "$T/receipt2" "$T/file.age" >/dev/null || fail "request 2"
ask1() {
    "$FAIRKEY" recover --authority "$AUTH" --request "$T/receipt2" --key "$T/req2.key" \
        --agents "$AGENT_URL_1" -o "$T/out2" "$T/file.age" 2>"$T/$1" && fail "one agent recovered"
}
ask1 hup0.err
grep -q "refused: requester not allowed" "$T/hup0.err" || fail "before reload: $(cat "$T/hup0.err")"
cat "$T/req2.pub" >>"$T/req.pub"
kill -HUP "$AGENT_PID_1"
for _ in $(seq 1 100); do grep -q "SIGHUP: reloaded" "$T/agent1.err" && break; sleep 0.05; done
grep -q "^fairkey agent: SIGHUP: reloaded; requesters from $T/req.pub, automatic approval$" "$T/agent1.err" \
    || fail "no reload line: $(cat "$T/agent1.err")"
ask1 hup1.err
grep -q "^agent 1 ($AGENT_URL_1) answered with share 1" "$T/hup1.err" || fail "after reload: $(cat "$T/hup1.err")"
echo "not a requesters file" >"$T/req.pub"
kill -HUP "$AGENT_PID_1"
for _ in $(seq 1 100); do grep -q "kept the previous" "$T/agent1.err" && break; sleep 0.05; done
grep -q "^fairkey agent: SIGHUP: $T/req.pub is not a requesters file .*; kept the previous configuration$" "$T/agent1.err" \
    && ! grep -q "^fairkey: $T/req.pub" "$T/agent1.err" \
    || fail "bad reload: $(cat "$T/agent1.err")"
ask1 hup2.err
grep -q "^agent 1 ($AGENT_URL_1) answered with share 1" "$T/hup2.err" || fail "after bad reload: $(cat "$T/hup2.err")"
ok "SIGHUP reloads the agent's --requesters; a bad file is refused in one line and the old list kept"

kill -HUP "$LOG_PID" "$WIT_PID"
sleep 0.3
for u in "$LOG_URL" "http://127.0.0.1:$WIT_PORT"; do
    curl -s -o /dev/null -w '%{http_code}' "$u/healthz" | grep -qx 200 || fail "$u died on SIGHUP"
done
grep -q "^fairkey witness: SIGHUP: reloaded; following 1 logs" "$T/wit.err" || fail "witness: $(cat "$T/wit.err")"
ok "SIGHUP does not stop the log or the witness"
