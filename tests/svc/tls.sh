#!/bin/bash
# TLS as docs/operations.md section 5 deploys it: the daemons speak HTTP on
# loopback and a TLS-terminating proxy (tls_proxy, standing in for nginx)
# holds a certificate from a test CA.  The clients -- log verify, request,
# recover, and the agent's own log checks -- reach them by https URLs and
# verify the certificate against the CA FAIRKEY_CACERT names; without it,
# or with another CA, they refuse in one line naming TLS.
. "$FK_SOURCE_DIR/tests/e2e/lib.sh"
: "${TLS_PROXY:?}"
command -v openssl >/dev/null || { echo "no openssl tool: skipped"; exit 77; }

# ---- a test CA and a server certificate for localhost and 127.0.0.1 ---------------
P=$T/pki
mkdir -p "$P"
ossl() { openssl "$@" >>"$P/openssl.log" 2>&1 || fail "openssl $1: $(tail -3 "$P/openssl.log")"; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=fairkey-test-ca -keyout "$P/ca.key" -out "$P/ca.pem"
ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$P/srv.key" -out "$P/srv.csr"
ossl x509 -req -in "$P/srv.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -days 2 \
    -copy_extensions copy -out "$P/srv.pem"
# Another CA, which signed nothing here.
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=other-ca -keyout "$P/other.key" -out "$P/other.pem"

# start_proxy NAME BACKEND_PORT: sets PROXY_PORT.
start_proxy() {
    "$TLS_PROXY" "$P/srv.pem" "$P/srv.key" "$2" >"$T/$1.out" 2>"$T/$1.err" &
    PIDS="$PIDS $!"
    PROXY_PORT=$(wait_port "$T/$1.out") || fail "proxy $1 did not start: $(cat "$T/$1.err")"
}

start_log logA
start_proxy logproxy "$LOG_PORT"
LOG_HTTPS="https://localhost:$PROXY_PORT"
FAIRKEY_CACERT="$P/ca.pem" "$FAIRKEY" log verify --log "$LOG_HTTPS" --vkey "$LOG_VKEY" \
    >"$T/v.out" 2>"$T/v.err" || fail "log verify over TLS: $(cat "$T/v.err")"
ok "log verify reaches the log through TLS, the certificate verified against the test CA"

for ca in "" "$P/other.pem"; do
    FAIRKEY_CACERT="$ca" "$FAIRKEY" log verify --log "$LOG_HTTPS" --vkey "$LOG_VKEY" \
        >/dev/null 2>"$T/v.err" && fail "log verify trusted a certificate it cannot verify (CA '$ca')"
    [ "$(grep -c '' "$T/v.err")" = 1 ] &&
        grep -q "^fairkey: cannot reach the log at $LOG_HTTPS: TLS with localhost:$PROXY_PORT failed (.*); check its certificate and the CA file$" "$T/v.err" \
        || fail "untrusted certificate (CA '$ca'): $(cat "$T/v.err")"
done
ok "without the CA, or with another, the certificate is refused in one line naming TLS"

# --cacert does the same as FAIRKEY_CACERT, and wins over it.
FAIRKEY_CACERT="$P/other.pem" "$FAIRKEY" log verify --log "$LOG_HTTPS" --vkey "$LOG_VKEY" \
    --cacert "$P/ca.pem" >/dev/null 2>"$T/v.err" || fail "log verify --cacert: $(cat "$T/v.err")"
"$FAIRKEY" log verify --log "$LOG_HTTPS" --vkey "$LOG_VKEY" --cacert "$P/missing.pem" \
    >/dev/null 2>"$T/v.err"
[ $? = 2 ] && [ "$(grep -c '' "$T/v.err")" = 1 ] &&
    grep -q "^fairkey: --cacert $P/missing.pem: No such file or directory; give the CA certificate file (PEM)$" "$T/v.err" \
    || fail "--cacert missing file: $(cat "$T/v.err")"
ok "--cacert FILE verifies against FILE (over FAIRKEY_CACERT); a missing file is one line, exit 2"

# ---- a whole recovery over https: the authority names the log's https URL ------------
# The authority's own log check (authority create) through the environment;
# request, the agent (its log checks) and recover through --cacert.
FAIRKEY_CACERT="$P/ca.pem" setup_authority 1 1 --log "$LOG_HTTPS" --log-vkey "$LOG_VKEY"
bind_log logA
setup_file
file_request --cacert "$P/ca.pem"
start_agent 1 --cacert "$P/ca.pem"
start_proxy agentproxy "${AGENT_URL_1##*:}"
AGENT_HTTPS="https://localhost:$PROXY_PORT"
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" --cacert "$P/ca.pem" \
    --agents "$AGENT_HTTPS" -o "$T/out" "$T/file.age" 2>"$T/recover.err" \
    || fail "recover over TLS: $(cat "$T/recover.err")"
cmp -s "$T/out" "$T/plain" || fail "recovered file differs"
ok "request and recover over https: the log, the agent, and the agent's own log check all behind TLS"
# Without the CA the requester cannot even reach the agent.
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" \
    --agents "$AGENT_HTTPS" -o "$T/out2" "$T/file.age" 2>"$T/recover.err" && fail "recover trusted an unknown CA"
grep -q "did not answer (TLS with localhost:$PROXY_PORT failed" "$T/recover.err" \
    || fail "recover without CA: $(cat "$T/recover.err")"
ok "recover without the CA names the TLS failure"
echo "svc_tls: ok"
