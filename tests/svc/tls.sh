#!/bin/bash
# TLS as docs/operations.md section 5 deploys it: the daemons speak HTTP on
# loopback and Debian's nginx terminates TLS in front of them, with a
# certificate from a test CA.  The nginx server block is the one section 5
# shows, read from docs/operations.md with only its names, paths and ports
# changed, run in a private nginx (its own prefix, pid file, logs and temp
# folders under $T, 127.0.0.1 ports), never the system's.  The clients --
# log verify, request, recover, the agent's own log checks and the log's
# witness calls -- reach the daemons by https URLs and verify the
# certificate against the CA that --cacert or FAIRKEY_CACERT names; without
# it, or with another CA, they refuse in one line naming TLS.
. "$FK_SOURCE_DIR/tests/e2e/lib.sh"
command -v openssl >/dev/null || { echo "no openssl tool: skipped"; exit 77; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "no nginx (Debian's nginx package; scripts/deps.sh installs it): skipped"; exit 77; }
command -v python3 >/dev/null || { echo "no python3 (to pick free ports): skipped"; exit 77; }

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

# ---- nginx ------------------------------------------------------------------------
# The server block of docs/operations.md section 5, verbatim but for these.
SERVER_BLOCK=$(awk '/^```nginx$/ { on = 1; next } on && /^```$/ { exit } on' \
    "$FK_SOURCE_DIR/docs/operations.md")
[ -n "$SERVER_BLOCK" ] || fail "docs/operations.md has no nginx block"
# Run as root (CI containers), the master drops its workers to nobody, who
# must be able to pass through $T to the temp folders (the files in $T that
# matter are 0600 of their own).
if [ "$(id -u)" = 0 ]; then NGINX_USER="user nobody nogroup;"; chmod 711 "$T"; else NGINX_USER=""; fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_nginx NAME BACKEND_PORT: a private nginx in $T/NAME-nginx in front of
# 127.0.0.1:BACKEND_PORT; sets PROXY_PORT once it answers /healthz over TLS.
start_nginx() {
    local d="$T/$1-nginx" tries pid
    mkdir -p "$d"
    [ -n "$NGINX_USER" ] && chmod 711 "$d"
    for tries in 1 2 3; do
        PROXY_PORT=$(free_port) || fail "no free port"
        {
            echo "$NGINX_USER"
            echo "daemon off;            # the test's child: killed on exit"
            echo "worker_processes 1;"
            echo "pid $d/nginx.pid;"
            echo "error_log $d/error.log info;"
            echo "events { worker_connections 64; }"
            echo "http {"
            echo "access_log $d/access.log;"
            for t in client_body proxy fastcgi uwsgi scgi; do echo "${t}_temp_path $d/$t;"; done
            printf '%s\n' "$SERVER_BLOCK" | sed \
                -e "s|listen 443 ssl;|listen 127.0.0.1:$PROXY_PORT ssl;|" \
                -e "s|/etc/ssl/fairkey/log.example.pem|$P/srv.pem|" \
                -e "s|/etc/ssl/fairkey/log.example.key|$P/srv.key|" \
                -e "s|server_name log.example;|server_name localhost;|" \
                -e "s|127.0.0.1:8080|127.0.0.1:$2|g"
            echo "}"
        } >"$d/nginx.conf"
        "$NGINX" -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >"$d/out" 2>&1 &
        pid=$!
        PIDS="$PIDS $pid"
        for _ in $(seq 1 200); do
            kill -0 "$pid" 2>/dev/null || break
            [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$P/ca.pem" \
                "https://localhost:$PROXY_PORT/healthz")" = 200 ] && return 0
            sleep 0.05
        done
        kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
        # Another process took the port between free_port and nginx: again.
        grep -q "Address already in use" "$d/error.log" "$d/out" 2>/dev/null || break
    done
    fail "nginx $1 did not start: $(tail -5 "$d/error.log" "$d/out" 2>/dev/null)"
}

start_log logA
start_nginx log "$LOG_PORT"
LOG_HTTPS="https://localhost:$PROXY_PORT"
LOG_PROXY_PORT=$PROXY_PORT
FAIRKEY_CACERT="$P/ca.pem" "$FAIRKEY" log verify --log "$LOG_HTTPS" --vkey "$LOG_VKEY" \
    >"$T/v.out" 2>"$T/v.err" || fail "log verify over TLS: $(cat "$T/v.err")"
ok "log verify reaches the log through nginx, the certificate verified against the test CA"

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

# The block's /metrics rule: only the private network, not 127.0.0.1.
[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$P/ca.pem" "$LOG_HTTPS/metrics")" = 403 ] \
    || fail "/metrics is not kept to the private network by nginx"
ok "nginx answers /metrics 403 outside its allow list"

# ---- the log's witness calls over https ------------------------------------------
"$FAIRKEY" witness serve --dir "$T/w1" --listen 127.0.0.1:0 --log "$LOG_VKEY" \
    --name witness.test/w1 >"$T/w1.out" 2>"$T/w1.err" &
PIDS="$PIDS $!"
for _ in $(seq 1 200); do [ "$(grep -c '' "$T/w1.out")" -ge 2 ] && break; sleep 0.05; done
W1_VKEY=$(sed -n 1p "$T/w1.out"); W1_URL=$(sed -n 2p "$T/w1.out")
[ -n "$W1_URL" ] || fail "witness did not start: $(cat "$T/w1.err")"
start_nginx witness "${W1_URL##*:}"
W1_HTTPS="https://localhost:$PROXY_PORT"

# ---- a whole recovery over https: the authority names the log's https URL ------------
# The authority's own log check (authority create) through the environment;
# request, the agent (its log checks), recover and the log's witness calls
# through --cacert.  The log restarts on its port behind the same nginx.
FAIRKEY_CACERT="$P/ca.pem" setup_authority 1 1 --log "$LOG_HTTPS" --log-vkey "$LOG_VKEY"
bind_log logA --witness "$W1_VKEY=$W1_HTTPS" --cacert "$P/ca.pem"
for _ in $(seq 1 200); do
    curl -s --cacert "$P/ca.pem" -o "$T/cp" "$LOG_HTTPS/checkpoint"
    grep -q '^— witness.test/w1 ' "$T/cp" && break
    sleep 0.05
done
grep -q '^— witness.test/w1 ' "$T/cp" || fail "no cosignature through nginx: $(cat "$T/cp" "$T/logA.err")"
grep -q "POST /add-checkpoint" "$T/witness-nginx/access.log" \
    || fail "the witness call did not go through nginx: $(cat "$T/witness-nginx/access.log")"
ok "the log's witness calls go over https through nginx; its checkpoint carries the cosignature"

setup_file
file_request --cacert "$P/ca.pem"
grep -q "POST /add " "$T/log-nginx/access.log" || fail "the request did not go through nginx"
start_agent 1 --cacert "$P/ca.pem"
start_nginx agent "${AGENT_URL_1##*:}"
AGENT_HTTPS="https://localhost:$PROXY_PORT"
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" --cacert "$P/ca.pem" \
    --agents "$AGENT_HTTPS" -o "$T/out" "$T/file.age" 2>"$T/recover.err" \
    || fail "recover over TLS: $(cat "$T/recover.err")"
cmp -s "$T/out" "$T/plain" || fail "recovered file differs"
grep -q "POST /recover " "$T/agent-nginx/access.log" || fail "recover did not go through nginx"
ok "request and recover over https: the log, the agent, and the agent's own log check all behind nginx"
# Without the CA the requester cannot even reach the agent.
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" \
    --agents "$AGENT_HTTPS" -o "$T/out2" "$T/file.age" 2>"$T/recover.err" && fail "recover trusted an unknown CA"
grep -q "did not answer (TLS with localhost:$PROXY_PORT failed" "$T/recover.err" \
    || fail "recover without CA: $(cat "$T/recover.err")"
ok "recover without the CA names the TLS failure"
echo "svc_tls: ok"
