#!/bin/bash
# The daemons as an operator runs them: the systemd units that cmake
# --install puts in place, their configuration files, /healthz, /metrics,
# and SIGHUP reloads (systemctl reload) that change the configuration
# without dropping a connection, or keep it when the new file is bad.
#
# Under a real systemd (PID 1) the units could be booted as they are; a
# container has none, so this runs the units' own ExecStart and ExecReload
# lines, with /etc/fairkey and /var/lib (StateDirectory=) moved under a
# temporary folder, the example configuration files of dist/config, and the
# built fairkey in place of the installed one.  `systemd-analyze verify`
# and `systemd-analyze security` check the units where systemd is installed.
. "$FK_SOURCE_DIR/tests/e2e/lib.sh"
export LC_ALL=C   # read -N counts bytes (a checkpoint holds a UTF-8 dash)
: "${FK_UNIT_DIR:?}" "${FK_CONF_DIR:?}" "${FK_UNIT_BINDIR:?}"
ETC="$T/etc/fairkey"
VAR="$T/var/lib"
mkdir -p "$ETC" "$VAR"

# ---- the unit files ------------------------------------------------------------------
for d in log agent witness; do
    u="$FK_UNIT_DIR/fairkey-$d.service"
    [ -f "$u" ] || fail "no unit $u"
    for k in "User=fairkey" "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" \
        "PrivateTmp=yes" "CapabilityBoundingSet=" "MemoryDenyWriteExecute=yes" \
        "SystemCallFilter=@system-service" "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" \
        "StateDirectory=fairkey-$d" "ExecReload=/bin/kill -HUP \$MAINPID"; do
        grep -qxF "$k" "$u" || fail "fairkey-$d.service lacks $k"
    done
    # The same unit with the built fairkey, for systemd-analyze (it checks
    # that ExecStart names an executable).
    sed "s|^ExecStart=$FK_UNIT_BINDIR/fairkey|ExecStart=$FAIRKEY|" "$u" >"$T/fairkey-$d.service"
done
ok "the units run fairkey as an unprivileged user, sandboxed, and reload with SIGHUP"
if command -v systemd-analyze >/dev/null 2>&1; then
    systemd-analyze verify --man=no "$T"/fairkey-*.service >"$T/verify.out" 2>&1 \
        || fail "systemd-analyze verify: $(cat "$T/verify.out")"
    ok "systemd-analyze verify accepts the units"
    for d in log agent witness; do
        if systemd-analyze security --offline=yes "$T/fairkey-$d.service" >"$T/sec.out" 2>&1; then
            level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/sec.out")
            [ -n "$level" ] || fail "no exposure level: $(tail -3 "$T/sec.out")"
            awk -v l="$level" 'BEGIN { exit !(l < 2.5) }' \
                || fail "fairkey-$d.service exposure $level (want under 2.5, OK)"
            echo "fairkey-$d.service: systemd-analyze security exposure $level"
        fi
    done
else
    echo "systemd-analyze is not installed: units not verified by systemd"
fi
if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
    echo "systemd is PID 1 ($(systemctl is-system-running 2>/dev/null)); the units are still run by their" \
         "ExecStart lines here, so the test leaves the host's services alone"
else
    echo "no systemd as PID 1 (PID 1 is $(cat /proc/1/comm 2>/dev/null)): running the units' ExecStart lines"
fi

# unit_line D KEY: the value of KEY= in fairkey-D.service, with the installed
# paths mapped to this test's.
unit_line() {
    sed -n "s/^$2=//p" "$FK_UNIT_DIR/fairkey-$1.service" | head -1 |
        sed "s|^$FK_UNIT_BINDIR/fairkey|$FAIRKEY|; s|/etc/fairkey/|$ETC/|g; s|/var/lib/|$VAR/|g"
}
# conf D: the example configuration of D, with the paths mapped; stdin's
# sed script edits it further.
conf() {
    cat >"$T/conf.sed"
    sed "s|/etc/fairkey/|$ETC/|g; s|/var/lib/|$VAR/|g; s|^listen 127.0.0.1:[0-9]*|listen 127.0.0.1:0|" \
        "$FK_CONF_DIR/$1.conf" | sed -f "$T/conf.sed" >"$ETC/$1.conf.new"
    mv "$ETC/$1.conf.new" "$ETC/$1.conf"
}
# start_unit D: as systemd would: make StateDirectory (mode 0700), run
# ExecStart; sets D_PID and D_OUT.
start_unit() {
    sd=$(unit_line "$1" StateDirectory)
    mkdir -p -m 0700 "$VAR/$sd"
    cmd=$(unit_line "$1" ExecStart)
    echo "ExecStart: $cmd"
    # shellcheck disable=SC2086 # the unit's own word splitting
    $cmd >"$T/$1.out" 2>"$T/$1.err" &
    eval "${1^^}_PID=$!"
    PIDS="$PIDS $!"
}
# reload_unit D: run ExecReload with $MAINPID, and wait for the reload line.
reload_unit() {
    pid=$(eval "echo \$${1^^}_PID")
    before=$(grep -c "SIGHUP" "$T/$1.err")
    cmd=$(unit_line "$1" ExecReload | sed "s|\$MAINPID|$pid|")
    $cmd || fail "ExecReload of $1: $cmd"
    for _ in $(seq 1 200); do
        [ "$(grep -c "SIGHUP" "$T/$1.err")" -gt "$before" ] && return 0
        sleep 0.05
    done
    fail "$1 printed no reload line: $(cat "$T/$1.err")"
}
# metric URL NAME: the value of one sample line (NAME with its labels).
metric() {
    curl -sf --max-time 10 "$1/metrics" | grep -F "$2 " | grep -v '^#' | head -1 | awk '{print $NF}'
}
# check_metrics URL: a Prometheus text answer with the common families.
check_metrics() {
    ct=$(curl -s --max-time 10 -o "$T/metrics.txt" -w '%{http_code} %{content_type}' "$1/metrics")
    [ "$ct" = "200 text/plain; version=0.0.4; charset=utf-8" ] || fail "$1/metrics: $ct"
    for f in fairkey_uptime_seconds fairkey_reloads_total fairkey_http_responses_total \
        fairkey_http_connections; do
        grep -q "^# TYPE $f " "$T/metrics.txt" || fail "$1/metrics lacks $f"
    done
    # Every line is a comment or NAME{LABELS} VALUE.
    bad=$(grep -v '^# \(HELP\|TYPE\) ' "$T/metrics.txt" |
        grep -cv '^[a-z_]*\({[a-z_]*="[^"]*"}\)\? [0-9.e+-]*$')
    [ "$bad" = 0 ] || fail "$1/metrics: $bad malformed lines"
}

# ---- the log ----------------------------------------------------------------------
# First an open log (the authority to come names its URL and key)...
conf log <<'SED'
s|^authority .*|#&|
s|^#open$|open|
s|^#batch-ms .*|batch-ms 50|
SED
start_log_unit() {
    start_unit log
    LOG_PORT=$(wait_url "$T/log.out") || fail "log unit did not start: $(cat "$T/log.err")"
    LOG_URL="http://127.0.0.1:$LOG_PORT"
    LOG_VKEY=$(head -1 "$T/log.out")
}
start_log_unit
[ -f "$VAR/fairkey-log/tree.key" ] || fail "the log's key is not beside its tree in the state directory"
curl -sf --max-time 10 "$LOG_URL/healthz" | grep -q '"status":"ok"' || fail "log /healthz"
check_metrics "$LOG_URL"
[ "$(metric "$LOG_URL" fairkey_log_open)" = 1 ] || fail "open log: fairkey_log_open"
# ...on a fixed port from now on.
sed -i "s|^listen 127.0.0.1:0|listen 127.0.0.1:$LOG_PORT|" "$ETC/log.conf"
setup_authority 1 1
cp "$AUTH" "$ETC/authority.pub"
setup_file
cp "$T/req.pub" "$ETC/requesters.pub"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' --data-binary "anything" "$LOG_URL/add")
[ "$code" = 200 ] || fail "open log refused an entry: $code"
ok "the log unit starts from log.conf; /healthz and /metrics answer"

# Hold a connection open across the reload (HTTP/1.1 keep-alive on fd 3).
exec 3<>"/dev/tcp/127.0.0.1/$LOG_PORT" || fail "connect"
# get_on3 PATH: one GET on fd 3; prints the status line's code.
get_on3() {
    printf 'GET %s HTTP/1.1\r\nHost: x\r\n\r\n' "$1" >&3
    IFS= read -r -t 10 status <&3 || fail "no answer on the held connection"
    len=0
    while IFS= read -r -t 10 h <&3; do
        h=${h%$'\r'}
        [ -z "$h" ] && break
        case "${h,,}" in content-length:*) len=${h#*: } ;; esac
    done
    [ "$len" -gt 0 ] && { IFS= read -r -t 10 -N "$len" _ <&3 || fail "short body"; }
    echo "$status" | awk '{print $2}'
}
[ "$(get_on3 /healthz)" = 200 ] || fail "held connection: first request"

# Now bind it to the authority: reload, not restart.
sed -i 's|^open$|#open|; s|^#authority |authority |; s|^#requesters |requesters |; s|^#rate .*|rate 600|' \
    "$ETC/log.conf"
grep -q "^authority $ETC/authority.pub$" "$ETC/log.conf" || fail "log.conf edit"
reload_unit log
grep -q "^fairkey log: SIGHUP: reloaded; 1 authorities, requesters from $ETC/requesters.pub, rate 600 a minute\(; dir, listen, batch and witness settings change at restart\)\?$" \
    "$T/log.err" || fail "log reload line: $(cat "$T/log.err")"
[ "$(get_on3 /checkpoint)" = 200 ] || fail "the held connection did not survive the reload"
[ "$(metric "$LOG_URL" fairkey_log_open)" = 0 ] || fail "after reload: still open"
[ "$(metric "$LOG_URL" fairkey_log_authorities)" = 1 ] || fail "after reload: authorities"
[ "$(metric "$LOG_URL" fairkey_log_requesters)" = 1 ] || fail "after reload: requesters"
[ "$(metric "$LOG_URL" fairkey_log_rate_per_minute)" = 600 ] || fail "after reload: rate"
[ "$(metric "$LOG_URL" 'fairkey_reloads_total{result="ok"}')" = 1 ] || fail "reloads ok"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' --data-binary "anything else" "$LOG_URL/add")
[ "$code" = 400 ] || [ "$code" = 403 ] || fail "bound log took a stray entry: $code"
[ "$(metric "$LOG_URL" 'fairkey_log_add_refused_total{reason="malformed"}')" = 1 ] \
    || [ "$(metric "$LOG_URL" 'fairkey_log_add_refused_total{reason="not_allowed"}')" = 1 ] \
    || fail "refusal not counted"
ok "SIGHUP moves the log from open to the authority's admission; a held connection goes on"

# A bad configuration on reload: one line naming file:line, the old one kept.
cp "$ETC/log.conf" "$T/log.conf.good"
echo "batch_ms 20" >>"$ETC/log.conf"
n=$(wc -l <"$ETC/log.conf")
reload_unit log
tail -1 "$T/log.err" | grep -q "^fairkey log: SIGHUP: $ETC/log.conf:$n: 'batch_ms' is not a key; .*; kept the previous configuration$" \
    || fail "bad reload line: $(tail -2 "$T/log.err")"
cp "$T/log.conf.good" "$ETC/log.conf"
echo "not an authority" >"$T/bad.pub"
sed -i "s|^authority .*|authority $T/bad.pub|" "$ETC/log.conf"
reload_unit log
tail -1 "$T/log.err" | grep -q "^fairkey log: SIGHUP: .*bad.pub.*; kept the previous configuration$" \
    || fail "bad authority reload: $(tail -2 "$T/log.err")"
[ "$(metric "$LOG_URL" fairkey_log_authorities)" = 1 ] || fail "bad reload changed the admission"
[ "$(metric "$LOG_URL" 'fairkey_reloads_total{result="failed"}')" = 2 ] || fail "reloads failed"
[ "$(get_on3 /healthz)" = 200 ] || fail "held connection after bad reloads"
exec 3>&-
cp "$T/log.conf.good" "$ETC/log.conf"
ok "a bad log.conf or authority file on reload is one line; the old admission stays"

# ---- the agent --------------------------------------------------------------------
conf agent </dev/null
# The operator's step: the share, the fairkey user's own file, mode 0600.
sd=$(unit_line agent StateDirectory)
mkdir -p -m 0700 "$VAR/$sd"
install -m 0600 "$T/auth/share-1.key" "$(sed -n 's/^share //p' "$ETC/agent.conf")"
start_unit agent
AGENT_PORT=$(wait_port "$T/agent.out") || fail "agent unit did not start: $(cat "$T/agent.err")"
AGENT_URL="http://127.0.0.1:$AGENT_PORT"
curl -sf --max-time 10 "$AGENT_URL/healthz" | grep -q '"status":"ok"' || fail "agent /healthz"
check_metrics "$AGENT_URL"
[ "$(metric "$AGENT_URL" fairkey_agent_requesters)" = 1 ] || fail "agent requesters gauge"
file_request
"$FAIRKEY" recover --authority "$AUTH" --request "$RECEIPT" --key "$T/req.key" \
    --agents "$AGENT_URL" -o "$T/out" "$T/file.age" 2>"$T/recover.err" || fail "recover: $(cat "$T/recover.err")"
cmp -s "$T/out" "$T/plain" || fail "recovered file differs"
[ "$(metric "$AGENT_URL" 'fairkey_agent_requests_total{outcome="answered"}')" = 1 ] || fail "answered not counted"
[ "$(metric "$LOG_URL" fairkey_log_tree_size)" -ge 2 ] || fail "log tree size"
ok "the agent unit answers a logged request; /healthz and /metrics count it"
sed -i 's|^#manual$|manual|' "$ETC/agent.conf"
reload_unit agent
grep -q "^fairkey agent: SIGHUP: reloaded; requesters from $ETC/requesters.pub, manual approval$" "$T/agent.err" \
    || fail "agent reload: $(cat "$T/agent.err")"
[ "$(metric "$AGENT_URL" fairkey_agent_manual)" = 1 ] || fail "manual not applied"
echo "requesters" >>"$ETC/agent.conf"
reload_unit agent
tail -1 "$T/agent.err" | grep -q "^fairkey agent: SIGHUP: $ETC/agent.conf:[0-9]*: 'requesters' needs a value.*; kept the previous configuration$" \
    || fail "agent bad reload: $(tail -1 "$T/agent.err")"
[ "$(metric "$AGENT_URL" fairkey_agent_manual)" = 1 ] || fail "bad reload changed the agent"
ok "SIGHUP applies the agent's manual switch; a bad agent.conf keeps the old one"

# ---- the witness ------------------------------------------------------------------
conf witness <<SED
s|^log .*|log $LOG_VKEY|
SED
start_unit witness
WIT_PORT=$(wait_url "$T/witness.out") || fail "witness unit did not start: $(cat "$T/witness.err")"
WIT_URL="http://127.0.0.1:$WIT_PORT"
curl -sf --max-time 10 "$WIT_URL/healthz" | grep -q '"logs":1' || fail "witness /healthz"
check_metrics "$WIT_URL"
[ "$(metric "$WIT_URL" fairkey_witness_logs)" = 1 ] || fail "witness logs gauge"
# A second log's key (a log started for a moment) joins on reload.
"$FAIRKEY" log serve --dir "$T/log2" --listen 127.0.0.1:0 --open --origin fk.test/log2 >"$T/log2.out" 2>&1 &
l2=$!
for _ in $(seq 1 100); do [ -s "$T/log2.out" ] && break; sleep 0.05; done
kill "$l2"; wait "$l2" 2>/dev/null
echo "log $(head -1 "$T/log2.out")" >>"$ETC/witness.conf"
reload_unit witness
grep -q "^fairkey witness: SIGHUP: reloaded; following 2 logs$" "$T/witness.err" || fail "witness reload: $(cat "$T/witness.err")"
[ "$(metric "$WIT_URL" fairkey_witness_logs)" = 2 ] || fail "witness did not take the new log"
echo "log not-a-key" >>"$ETC/witness.conf"
reload_unit witness
tail -1 "$T/witness.err" | grep -q "^fairkey witness: SIGHUP: --log not-a-key is not a log's verifier key.*; kept the previous configuration$" \
    || fail "witness bad reload: $(tail -1 "$T/witness.err")"
[ "$(metric "$WIT_URL" fairkey_witness_logs)" = 2 ] || fail "bad reload changed the witness"
ok "SIGHUP replaces the witness's list of logs; a bad key keeps the old list"

# Every daemon still serves; SIGTERM (systemctl stop) ends each with status 0.
for d in log agent witness; do
    pid=$(eval "echo \$${d^^}_PID")
    kill -0 "$pid" 2>/dev/null || fail "$d died"
    kill -TERM "$pid"
    wait "$pid" || fail "$d exited non-zero on SIGTERM"
done
ok "SIGTERM stops each daemon cleanly"
echo "svc_units: ok"
