#!/bin/bash
# fairkey audit: every escrow stanza (a 17th, a malformed one), a witness
# policy and --max-age against a replayed snapshot, a forged huge checkpoint,
# and a re-audit of a grown log that fetches only the new tiles.
. "$(dirname "$0")/lib.sh"
: "${AUDIT_FORGE:?}"

# serve_dir DIR: python's static server on a kernel-chosen port; sets SURL.
serve_dir() {
    local out="$1.srv"
    python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$1" >"$out" 2>&1 &
    PIDS="$PIDS $!"
    for _ in $(seq 1 200); do
        p=$(sed -n 's/.* port \([0-9][0-9]*\).*/\1/p' "$out" | head -1)
        [ -n "$p" ] && break
        sleep 0.05
    done
    [ -n "$p" ] || fail "static server did not start: $(cat "$out")"
    SURL="http://127.0.0.1:$p"
}
# audit_rc OUT ARGS...: run audit, stdout+stderr to OUT; echo its exit code.
audit_rc() {
    local out=$1; shift
    rc=0
    "$FAIRKEY" audit "$@" >"$out" 2>&1 || rc=$?
    echo "$rc"
}

# A log cosigned by one witness, and the policy that requires it.
start_log logW
LOGW_DIR="$T/logW"; LOGW_VKEY=$LOG_VKEY
kill "$LOG_PID"; wait "$LOG_PID" 2>/dev/null
"$FAIRKEY" witness serve --dir "$T/w1" --listen 127.0.0.1:0 --log "$LOGW_VKEY" \
    --name witness.test/w1 >"$T/w1.out" 2>"$T/w1.err" &
PIDS="$PIDS $!"
for _ in $(seq 1 200); do [ "$(wc -l <"$T/w1.out")" -ge 2 ] && break; sleep 0.05; done
W1_VKEY=$(sed -n 1p "$T/w1.out"); W1_URL=$(sed -n 2p "$T/w1.out")
[ -n "$W1_URL" ] || fail "witness did not start: $(cat "$T/w1.err")"
"$FAIRKEY" log serve --dir "$LOGW_DIR" --listen 127.0.0.1:0 --origin fk.test/logW --batch-ms 20 \
    --open --witness "$W1_VKEY=$W1_URL" >"$T/logW2.out" 2>"$T/logW2.err" &
PIDS="$PIDS $!"
port=$(wait_url "$T/logW2.out") || fail "log did not restart: $(cat "$T/logW2.err")"
LOG_URL="http://127.0.0.1:$port"; LOG_VKEY=$LOGW_VKEY
printf 'log %s %s\nwitness w1 %s\nquorum w1\n' "$LOG_VKEY" "$LOG_URL" "$W1_VKEY" >"$T/policy"

# 17 escrow stanzas: 16 decoy authorities first, the real one last; all
# name this log under the witness policy, so the audit reads it once.
setup_authority 2 3 --log-policy "$T/policy"
setup_file
RCPTS="-r $USER_R"
AUTHS=""
for i in $(seq 1 16); do
    "$FAIRKEY" authority create --name "decoy$i" -t 1 -n 1 --log-policy "$T/policy" \
        -o "$T/decoy$i" >/dev/null 2>&1 || fail "decoy $i"
    RCPTS="$RCPTS -r $("$FAIRKEY" authority show --recipient "$T/decoy$i/authority.pub")"
    AUTHS="$AUTHS --authority $T/decoy$i/authority.pub"
done
AUTHS="$AUTHS --authority $AUTH"
# shellcheck disable=SC2086
"$FAIRKEY" encrypt $RCPTS -r "$AUTH_R" -o "$T/f17.age" "$T/plain" || fail "encrypt 17"
# A witnessed entry first, so the snapshot carries a cosignature.
file_request --reason "first, for another file"
# shellcheck disable=SC2086
[ "$(audit_rc "$T/a0" $AUTHS --state "$T/st" "$T/f17.age")" = 0 ] ||
    fail "audit before: $(cat "$T/a0")"
[ "$(grep -c 'no recovery recorded up to tree size 1' "$T/a0")" = 17 ] ||
    fail "not every stanza audited: $(cat "$T/a0")"
ok "audit lists all 17 escrow stanzas (exit 0)"
# The log comes from the authority files: a stanza whose authority is not
# given is reported as not audited (exit 1), never skipped; a --log other
# than the authority's is refused.
rc=$(audit_rc "$T/a0b" --authority "$AUTH" "$T/f17.age")
[ "$rc" = 1 ] && [ "$(grep -c 'NOT AUDITED: give its authority file' "$T/a0b")" = 16 ] ||
    fail "stanzas of authorities not given: exit $rc: $(cat "$T/a0b")"
rc=$(audit_rc "$T/a0c" --authority "$AUTH" --log http://127.0.0.1:1 "$T/f17.age")
[ "$rc" = 1 ] && grep -q "is not the log of authority e2e" "$T/a0c" ||
    fail "another --log accepted: exit $rc: $(cat "$T/a0c")"
ok "stanzas of authorities not given are NOT AUDITED (exit 1); another log is refused"

# The snapshot a replaying attacker keeps serving.
mkdir "$T/snap" && cp -r "$LOGW_DIR/checkpoint" "$LOGW_DIR/tile" "$T/snap/" || fail "snapshot"
cp "$T/st" "$T/st.snap"
sleep 6

"$FAIRKEY" request --authority "$AUTH" --log "$LOG_URL" --log-vkey "$LOG_VKEY" --key "$T/req.key" \
    --warrant "$T/warrant.txt" --reason "through the 17th stanza" -o "$T/r17" "$T/f17.age" \
    >/dev/null || fail "request for the 17th stanza"
# shellcheck disable=SC2086
rc=$(audit_rc "$T/a1" $AUTHS --max-age 4 --state "$T/st" "$T/f17.age")
[ "$rc" = 3 ] || fail "audit after the request: exit $rc: $(cat "$T/a1")"
grep -q "escrow stanza for $AUTH_R: RECOVERY REQUESTED at log index 1 .*through the 17th stanza" \
    "$T/a1" || fail "17th stanza's request not reported: $(cat "$T/a1")"
ok "the request through the 17th stanza is reported (exit 3)"
for i in 1 2; do start_agent "$i" --requesters "$T/req.pub"; done
"$FAIRKEY" recover --authority "$AUTH" --request "$T/r17" --key "$T/req.key" \
    --agents "$AGENT_URL_1,$AGENT_URL_2" -o "$T/out17" "$T/f17.age" 2>"$T/rec.err" ||
    fail "recover through the 17th stanza: $(cat "$T/rec.err")"
cmp -s "$T/out17" "$T/plain" || fail "recovered plaintext"
rc=$(audit_rc "$T/a2" --log "$LOG_URL" --vkey "$LOG_VKEY" --state "$T/st" "$T/f17.age")
[ "$rc" = 3 ] && grep -q "RECOVERY REQUESTED 1 time(s) before tree size 2" "$T/a2" ||
    fail "re-audit forgot the recovery: exit $rc: $(cat "$T/a2")"
ok "recovered through the 17th stanza; a re-audit still reports it (exit 3)"

# The replayed snapshot (tree of 1, before the request).
serve_dir "$T/snap"
rc=$(audit_rc "$T/s1" --log "$SURL" --policy "$T/policy" --max-age 4 "$T/f17.age")
[ "$rc" = 1 ] && grep -q "STALE: .*size 1.* lacks a witness quorum cosigned in the last 4 s" "$T/s1" ||
    fail "stale snapshot accepted under the policy: exit $rc: $(cat "$T/s1")"
ok "a replayed snapshot is refused under a policy: $(grep STALE "$T/s1")"
rc=$(audit_rc "$T/s2" --log "$SURL" --vkey "$LOG_VKEY" --state "$T/st" "$T/f17.age")
[ "$rc" = 1 ] && grep -q "STALE: .*(size 1) is older than the one seen before (size 2)" "$T/s2" ||
    fail "stale snapshot not reported without a policy: exit $rc: $(cat "$T/s2")"
ok "without a policy it is reported stale against the state: $(grep STALE "$T/s2")"
rc=$(audit_rc "$T/s3" --log "$SURL" --vkey "$LOG_VKEY" "$T/f17.age")
[ "$rc" = 0 ] && grep -q "freshness cannot be verified" "$T/s3" ||
    fail "no freshness warning: exit $rc: $(cat "$T/s3")"
ok "without a policy or state the audit says freshness cannot be verified"

# A malformed escrow stanza is reported, and fails the audit.
"$FAIRKEY" encrypt -r "$("$FAIRKEY" authority show --recipient "$T/decoy1/authority.pub")" \
    -o "$T/one.age" "$T/warrant.txt" || fail "encrypt one"
python3 - "$T/one.age" "$T/bad.age" <<'PY' || fail "cannot break the stanza"
import sys
d = open(sys.argv[1], 'rb').read()
i = d.index(b'-> fairkey.dev/escrow/v2 ')
j = d.index(b'\n', i)
args = d[i:j].split(b' ')
args[2] = b'AAAA'
open(sys.argv[2], 'wb').write(d[:i] + b' '.join(args) + d[j:])
PY
rc=$(audit_rc "$T/m1" --log "$LOG_URL" --vkey "$LOG_VKEY" "$T/bad.age")
[ "$rc" = 1 ] && grep -q "bad.age: stanza 1: MALFORMED escrow stanza" "$T/m1" ||
    fail "malformed stanza not reported: exit $rc: $(cat "$T/m1")"
ok "a malformed escrow stanza is reported (exit 1)"

# A hostile log: a validly signed checkpoint of 2^59 entries, and five full
# bundles (past the 1024 leaves the old leaf array held after wrapping).
mkdir -p "$T/huge/tile/entries"
"$AUDIT_FORGE" "$LOGW_DIR.key" fk.test/logW 576460752303423488 >"$T/huge/checkpoint" ||
    fail "forge"
python3 - "$T/huge/tile/entries" <<'PY'
import sys
b = b''.join(len(e).to_bytes(2, 'big') + e for e in (b'x%d' % i for i in range(256)))
for n in range(5):
    open('%s/%03d' % (sys.argv[1], n), 'wb').write(b)
PY
serve_dir "$T/huge"
rc=0
/usr/bin/time -f %M -o "$T/rss" "$FAIRKEY" audit --log "$SURL" --vkey "$LOG_VKEY" "$T/f17.age" \
    >"$T/h1" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "claims 576460752303423488 entries, more than an audit reads" "$T/h1" ||
    fail "huge checkpoint not refused: exit $rc: $(cat "$T/h1")"
RSS=$(tail -1 "$T/rss")
[ "$RSS" -lt 200000 ] || fail "huge checkpoint: max RSS $RSS KiB"
ok "a forged checkpoint of 2^59 entries is refused (max RSS $RSS KiB)"

# Incremental: a counting proxy in front of a plain log; 300 entries, audit,
# 300 more, re-audit: only the tiles past the first 256 entries are read again.
# (an open log: the audit test is not about admission)
SAVED_AUTH=$AUTH; AUTH=""
LOG_BATCH_MS=10 start_log logB
AUTH=$SAVED_AUTH
"$FAIRKEY" authority create --name b -t 1 -n 1 --log "$LOG_URL" --log-vkey "$LOG_VKEY" \
    -o "$T/authB" >/dev/null || fail "authority B"
AUTH_B="$T/authB/authority.pub"
"$FAIRKEY" encrypt -r "$("$FAIRKEY" authority show --recipient "$AUTH_B")" -o "$T/fileB.age" \
    "$T/plain" || fail "encrypt to B"
cat >"$T/proxy.py" <<'PY'
import sys, urllib.request, urllib.error
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
up, log = sys.argv[1], sys.argv[2]
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, 'a') as f:
            f.write(self.path + '\n')
        try:
            r = urllib.request.urlopen(up + self.path, timeout=20)
            code, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            code, body = e.code, e.read()
        self.send_response(code)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = ThreadingHTTPServer(('127.0.0.1', 0), H)
print('port', s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$T/proxy.py" "$LOG_URL" "$T/gets" >"$T/proxy.out" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 1 200); do grep -q port "$T/proxy.out" && break; sleep 0.05; done
PURL="http://127.0.0.1:$(sed -n 's/port //p' "$T/proxy.out")"
grow() {
    seq "$1" "$2" | xargs -P 8 -I{} "$FAIRKEY" request --authority "$AUTH_B" \
        --key "$T/req.key" --warrant "$T/warrant.txt" --reason "request {}" \
        -o "$T/rq.{}" "$T/fileB.age" >/dev/null || fail "requests $1..$2"
}
grow 1 300
: >"$T/gets"
rc=$(audit_rc "$T/i1" --log "$PURL" --vkey "$LOG_VKEY" --state "$T/sti" "$T/f17.age")
[ "$rc" = 0 ] || fail "first audit of logB: exit $rc: $(cat "$T/i1")"
grep -qx /tile/entries/000 "$T/gets" || fail "first audit did not read bundle 0: $(cat "$T/gets")"
grow 301 600
: >"$T/gets"
rc=$(audit_rc "$T/i2" --log "$PURL" --vkey "$LOG_VKEY" --state "$T/sti" "$T/f17.age")
[ "$rc" = 0 ] && grep -q "up to tree size 600" "$T/i2" || fail "re-audit: exit $rc: $(cat "$T/i2")"
grep -q '^/tile/entries/000' "$T/gets" && fail "re-audit read the old bundle again: $(cat "$T/gets")"
grep -q '^/tile/[0-9]' "$T/gets" && fail "re-audit read hash tiles: $(cat "$T/gets")"
ok "re-audit of 300 -> 600 fetched only: $(tr '\n' ' ' <"$T/gets")"
echo "PASS"
