#!/bin/bash
# An agent under garbage: 500 POST /recover of a request whose signature
# does not verify.  Each is refused (403), but the refusals table grows by
# at most AGENT_UNAUTH_ROWS_PER_MIN (20) rows a minute plus one summary row
# counting the rest; a refusal of a logged request is still recorded in full.
. "$(dirname "$0")/lib.sh"

start_log logA
setup_authority 1 1
bind_log logA
setup_file
start_agent 1 --requesters "$T/req.pub"
file_request
base64 -d <<<"$(sed -n 's/^extra //p' "$RECEIPT")" | sed 's/e2e test case/e2e test casE/' >"$T/forged.note"
{ head -1 "$RECEIPT"; echo "extra $(base64 -w0 "$T/forged.note")"; tail -n +3 "$RECEIPT"; } >"$T/forged"
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' --data-binary @"$T/forged" "$AGENT_URL_1/recover")
[ "$code" = 403 ] || fail "forged request: HTTP $code"
seq 499 | xargs -P 8 -I{} curl -s -m 20 -o /dev/null -w '%{http_code}\n' --data-binary @"$T/forged" \
    "$AGENT_URL_1/recover" >"$T/codes"
[ "$(grep -c '^403$' "$T/codes")" = 499 ] || fail "not every garbage POST got 403: $(sort "$T/codes" | uniq -c)"
stop_agent 1
db="$T/agent1/agent.db"
rows=$(sqlite3 "$db" "SELECT count(*) FROM refusals WHERE kind = 'bad-request'")
sum=$(sqlite3 "$db" "SELECT coalesce(sum(CAST(detail AS INTEGER)), 0) FROM refusals WHERE kind = 'unauthenticated-summary'")
summaries=$(sqlite3 "$db" "SELECT count(*) FROM refusals WHERE kind = 'unauthenticated-summary'")
# The test may straddle a minute boundary: at most two minutes' worth.
[ "$rows" -ge 20 ] && [ "$rows" -le 40 ] || fail "$rows bad-request rows for 500 garbage POSTs"
[ "$summaries" -ge 1 ] && [ "$summaries" -le 2 ] || fail "$summaries summary rows"
[ $((rows + sum)) = 500 ] || fail "rows $rows + counted $sum != 500"
ok "500 garbage POSTs: $rows rows and $summaries summary row(s) counting $sum"
echo PASS
