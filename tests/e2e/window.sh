#!/bin/bash
# The agents' time window (docs/protocol.md 5, rule 6): a logged request
# dated more than 24 h ago, or more than 5 min in the future, is refused and
# the refusal recorded; requests just inside either bound are answered.
# The requester's clock is shifted with an LD_PRELOAD shim (time()).
. "$(dirname "$0")/lib.sh"
: "${TIME_SHIFT_LIB:?}"

start_log logA
setup_authority 2 3
bind_log logA
setup_file
for i in 1 2 3; do start_agent "$i" --requesters "$T/req.pub"; done
URLS="$AGENT_URL_1,$AGENT_URL_2,$AGENT_URL_3"
WINDOW=$((24 * 3600)) SKEW=300

# An ASan build wants its runtime first among preloaded libraries.
PRELOAD=$TIME_SHIFT_LIB
ASAN_RT=$(ldd "$FAIRKEY" | sed -n 's/.*libasan[^ ]* => \([^ ]*\) .*/\1/p' | head -1)
[ -n "$ASAN_RT" ] && PRELOAD="$ASAN_RT:$PRELOAD"

# request_at NAME SHIFT: file a request dated SHIFT seconds from now.
request_at() {
    LD_PRELOAD="$PRELOAD" FK_TIME_SHIFT="$2" "$FAIRKEY" request --authority "$AUTH" \
        --key "$T/req.key" --warrant "$T/warrant.txt" \
        --reason "window $1" -o "$T/$1.receipt" "$T/file.age" >/dev/null || fail "request $1"
}
# The shim works: the receipt's request carries the shifted date.
request_at probe $((-2 * WINDOW))
want=$(date -u -d "@$(( $(date +%s) - 2 * WINDOW ))" +%Y-%m-%d)
base64 -d <<<"$(sed -n 's/^extra //p' "$T/probe.receipt")" | grep -q "^time ${want}T" \
    || fail "time shim did not shift the request's date"

# refused NAME SHIFT MESSAGE KIND-DETAIL
refused() {
    request_at "$1" "$2"
    "$FAIRKEY" recover --authority "$AUTH" --request "$T/$1.receipt" --key "$T/req.key" \
        --agents "$URLS" -o "$T/$1.out" "$T/file.age" 2>"$T/$1.err" && fail "$1: answered"
    [ -e "$T/$1.out" ] && fail "$1: output written"
    grep -q "$3" "$T/$1.err" || fail "$1: $(cat "$T/$1.err")"
    for i in 1 2 3; do
        n=$(sqlite3 "$T/agent$i/agent.db" \
            "SELECT count(*) FROM refusals WHERE kind = 'outside-window' AND detail LIKE '%$4%'")
        [ "$n" -ge 1 ] || fail "$1: agent $i did not record the refusal"
        n=$(sqlite3 "$T/agent$i/agent.db" "SELECT count(*) FROM requests WHERE reason = 'window $1'")
        [ "$n" = 0 ] || fail "$1: agent $i recorded an answer"
    done
}
answered() {
    request_at "$1" "$2"
    "$FAIRKEY" recover --authority "$AUTH" --request "$T/$1.receipt" --key "$T/req.key" \
        --agents "$URLS" -o "$T/$1.out" "$T/file.age" 2>"$T/$1.err" || fail "$1: $(cat "$T/$1.err")"
    cmp -s "$T/$1.out" "$T/plain" || fail "$1: plaintext differs"
}

# One minute past each bound (the test's own steps take seconds).
refused old $((-WINDOW - 60)) "older than the 24 h window; file a new one" "too old"
ok "a request dated 24 h + 1 min ago is refused and recorded by every agent"
refused future $((SKEW + 60)) "dated in the future" "in the future"
ok "a request dated 6 min ahead is refused and recorded by every agent"
answered inside_old $((-WINDOW + 60))
ok "a request dated 23 h 59 min ago is answered"
answered inside_future $((SKEW - 60))
ok "a request dated 4 min ahead is answered"
echo "PASS"
