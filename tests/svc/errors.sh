#!/bin/bash
# The start-up errors an operator meets, each one line naming the cause and
# the remedy, never "network failure" or "storage failure": a port already
# in use, a host name that does not resolve (listening, and reaching a log),
# a full disk at start, and a bad configuration file (FILE:LINE).
. "$FK_SOURCE_DIR/tests/e2e/lib.sh"

# one_line FILE PATTERN: FILE holds exactly one line, and it matches.
one_line() {
    [ "$(grep -c '' "$1")" = 1 ] && grep -q "$2" "$1"
}

# ---- port in use: each daemon ---------------------------------------------------------
start_log logA
timeout 20 "$FAIRKEY" log serve --dir "$T/logB" --listen "127.0.0.1:$LOG_PORT" --open \
    >/dev/null 2>"$T/inuse.err" && fail "a second log bound a used port"
one_line "$T/inuse.err" "address 127.0.0.1:$LOG_PORT is already in use (another process listens there); stop it or pick another port" \
    || fail "log, port in use: $(cat "$T/inuse.err")"
timeout 20 "$FAIRKEY" witness serve --dir "$T/wit" --listen "127.0.0.1:$LOG_PORT" --log "$LOG_VKEY" \
    >/dev/null 2>"$T/inuse.err" && fail "a witness bound a used port"
one_line "$T/inuse.err" "address 127.0.0.1:$LOG_PORT is already in use" || fail "witness, port in use: $(cat "$T/inuse.err")"
setup_authority 1 1
timeout 20 "$FAIRKEY" agent serve --share "$T/auth/share-1.key" --authority "$AUTH" \
    --listen "127.0.0.1:$LOG_PORT" --state "$T/agent1" >/dev/null 2>"$T/inuse.err" && fail "an agent bound a used port"
grep -v "^fairkey agent: no --requesters" "$T/inuse.err" >"$T/inuse1.err"
one_line "$T/inuse1.err" "address 127.0.0.1:$LOG_PORT is already in use" || fail "agent, port in use: $(cat "$T/inuse.err")"
ok "a port in use is named as such by the log, the witness and the agent"

# ---- host names that do not resolve --------------------------------------------------
timeout 20 "$FAIRKEY" log serve --dir "$T/logC" --listen "no-such-host.invalid:0" --open \
    >/dev/null 2>"$T/dns.err" && fail "log listened on an unknown host"
one_line "$T/dns.err" "host 'no-such-host.invalid' not found (.*); listen on an IP address such as 127.0.0.1" \
    || fail "listen, unknown host: $(cat "$T/dns.err")"
timeout 30 "$FAIRKEY" log verify --log "http://no-such-host.invalid:1" --vkey "$LOG_VKEY" \
    >/dev/null 2>"$T/dns.err" && fail "verify reached an unknown host"
one_line "$T/dns.err" "cannot reach the log at http://no-such-host.invalid:1: host not found: no-such-host.invalid:1 (DNS lookup failed)" \
    || fail "verify, unknown host: $(cat "$T/dns.err")"
# A log that is down is not a DNS failure.
kill "$LOG_PID"; wait "$LOG_PID" 2>/dev/null
timeout 30 "$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" >/dev/null 2>"$T/down.err" \
    && fail "verify reached a stopped log"
one_line "$T/down.err" "cannot connect to 127.0.0.1:$LOG_PORT (connection refused or unreachable); is the server running there?" \
    || fail "verify, log down: $(cat "$T/down.err")"
ok "an unknown host and a stopped server are each named, not 'network failure'"

# ---- a bad configuration file at start: FILE:LINE, exit 2 ------------------------------
printf 'dir %s\nlisten 127.0.0.1:0\nopen\nbatch-ms\n' "$T/logD" >"$T/log.conf"
"$FAIRKEY" log serve --config "$T/log.conf" >/dev/null 2>"$T/conf.err"
[ $? = 2 ] || fail "bad config: exit status"
one_line "$T/conf.err" "^fairkey: $T/log.conf:4: 'batch-ms' needs a value: batch-ms VALUE$" || fail "bad config: $(cat "$T/conf.err")"
"$FAIRKEY" witness serve --config "$T/nonexistent.conf" >/dev/null 2>"$T/conf.err"
[ $? = 2 ] || fail "missing config: exit status"
one_line "$T/conf.err" "^fairkey: $T/nonexistent.conf: cannot open the configuration file: No such file or directory$" \
    || fail "missing config: $(cat "$T/conf.err")"
printf 'share %s\nmanual maybe\n' "$T/auth/share-1.key" >"$T/agent.conf"
"$FAIRKEY" agent serve --config "$T/agent.conf" >/dev/null 2>"$T/conf.err"
[ $? = 2 ] || fail "bad agent config: exit status"
one_line "$T/conf.err" "^fairkey: $T/agent.conf:2: 'manual' is a switch" || fail "agent config: $(cat "$T/conf.err")"
# A flag overrides the file: the bad listen line is replaced.
printf 'dir %s\nlisten 999.1.1.1:x\nopen\n' "$T/logE" >"$T/log2.conf"
"$FAIRKEY" log serve --config "$T/log2.conf" --listen 127.0.0.1:0 >"$T/logE.out" 2>"$T/logE.err" &
pid=$!; PIDS="$PIDS $pid"
wait_url "$T/logE.out" >/dev/null || fail "--listen did not override the file: $(cat "$T/logE.err")"
kill "$pid"; wait "$pid" 2>/dev/null
ok "a bad configuration file is one line naming FILE:LINE; flags override the file"

# ---- disk full at start ----------------------------------------------------------------
D="$T/small"
mkdir -p "$D"
if mount -t tmpfs -o size=1m tmpfs "$D" 2>/dev/null; then
    trap 'umount "$D" 2>/dev/null; cleanup' EXIT
    dd if=/dev/zero of="$D/fill" bs=4k 2>/dev/null
    for d in log witness; do
        case $d in
        log) timeout 20 "$FAIRKEY" log serve --dir "$D/log" --listen 127.0.0.1:0 --open ;;
        witness) timeout 20 "$FAIRKEY" witness serve --dir "$D/wit" --listen 127.0.0.1:0 --log "$LOG_VKEY" ;;
        esac >/dev/null 2>"$T/full.err" && fail "$d started on a full disk"
        one_line "$T/full.err" "^fairkey: disk full: the file system holding $D/[a-z]* has 0 kB free; free some space, then start again$" \
            || fail "$d, disk full: $(cat "$T/full.err")"
    done
    timeout 20 "$FAIRKEY" agent serve --share "$T/auth/share-1.key" --authority "$AUTH" \
        --listen 127.0.0.1:0 --state "$D/agent" >/dev/null 2>"$T/full.err" && fail "agent started on a full disk"
    grep -v "^fairkey agent: no --requesters" "$T/full.err" >"$T/full1.err"
    one_line "$T/full1.err" "^fairkey: disk full: the file system holding $D/agent has 0 kB free" \
        || fail "agent, disk full: $(cat "$T/full.err")"
    ok "a full disk at start is named as such by the log, the witness and the agent"
    umount "$D"
    # A read-only file system (a unit without its StateDirectory under
    # ProtectSystem=strict looks like this to the daemon).
    mount -t tmpfs -o ro,size=1m tmpfs "$D" || fail "read-only tmpfs"
    timeout 20 "$FAIRKEY" log serve --dir "$D/log" --listen 127.0.0.1:0 --open >/dev/null 2>"$T/ro.err" \
        && fail "log started on a read-only file system"
    one_line "$T/ro.err" "^fairkey: $D/log is on a read-only file system; give the daemon a writable state directory (with systemd: StateDirectory=)$" \
        || fail "log, read-only: $(cat "$T/ro.err")"
    ok "a read-only state directory is named as such"
    umount "$D"
else
    echo "cannot mount a tmpfs here (not root?): the disk-full case is skipped"
fi
echo "svc_errors: ok"
