# Shared helpers for the end-to-end recovery tests.  Everything runs on
# 127.0.0.1 with ports chosen by the kernel (listen on port 0, read the port
# back), every daemon is killed on exit, and every wait is bounded.
set -u
: "${FAIRKEY:?}" "${FK_BUILD_DIR:?}"
T=$(mktemp -d "${TMPDIR:-/tmp}/fk-e2e.XXXXXX")
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# wait_port FILE: wait (10 s at most) for "listening on port N" in FILE; echo N.
wait_port() {
    for _ in $(seq 1 200); do
        p=$(sed -n 's/.*listening on port \([0-9][0-9]*\).*/\1/p' "$1" 2>/dev/null | head -1)
        [ -n "$p" ] && { echo "$p"; return 0; }
        sleep 0.05
    done
    cat "$1" >&2
    return 1
}

# wait_url FILE: wait (10 s at most) for a line "http://127.0.0.1:N"; echo N.
wait_url() {
    for _ in $(seq 1 200); do
        p=$(sed -n 's|^http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$1" 2>/dev/null | head -1)
        [ -n "$p" ] && { echo "$p"; return 0; }
        sleep 0.05
    done
    return 1
}

# start_log NAME [PORT [LOG-SERVE-OPTIONS...]]: a log in $T/NAME, on PORT if given (else a port
# the kernel picks); it admits requests for the authority $AUTH once there
# is one (a generous --rate: the tests file many requests a minute), and
# anything before (--open: the log exists before the authority that names
# it).  Sets LOG_URL, LOG_VKEY, LOG_PID, LOG_PORT.
start_log() {
    n=$1; p=${2:-0}; [ $# -ge 2 ] && shift 2 || shift 1
    if [ -n "${AUTH:-}" ]; then set -- "$n" "$p" --authority "$AUTH" --rate 600 "$@"
    else set -- "$n" "$p" --open "$@"; fi
    "$FAIRKEY" log serve --dir "$T/$1" --listen "127.0.0.1:$2" --origin "fk.test/$1" \
        --batch-ms "${LOG_BATCH_MS:-50}" "${@:3}" >"$T/$1.out" 2>"$T/$1.err" &
    LOG_PID=$!
    PIDS="$PIDS $LOG_PID"
    LOG_PORT=$(wait_url "$T/$1.out") || fail "log $1 did not start: $(cat "$T/$1.err")"
    LOG_URL="http://127.0.0.1:$LOG_PORT"
    LOG_VKEY=$(grep -o "fk.test/$1+[0-9a-f]\{8\}+[A-Za-z0-9+/=]*" "$T/$1.out" | head -1)
    [ -n "$LOG_VKEY" ] || fail "log $1 printed no vkey"
}

# bind_log NAME [LOG-SERVE-OPTIONS...]: restart the last log started (NAME)
# on its port, now admitting only requests for $AUTH, the authority that
# names it (and for any other --authority given).
bind_log() {
    kill "$LOG_PID"; wait "$LOG_PID" 2>/dev/null
    mv "$T/$1.out" "$T/$1.$LOG_PID.out"
    start_log "$1" "$LOG_PORT" "${@:2}"
}

# setup_authority T N [LOG-OPTIONS...]: a T-of-N authority in $T/auth whose
# log is the last one started (or the one the options name).
setup_authority() {
    t=$1; n=$2; shift 2
    [ $# -gt 0 ] || set -- --log "$LOG_URL" --log-vkey "$LOG_VKEY"
    "$FAIRKEY" authority create --name e2e -t "$t" -n "$n" "$@" -o "$T/auth" >/dev/null \
        || fail "authority create"
    AUTH="$T/auth/authority.pub"
}

# start_agent I [extra args...]: agent for share I (the log is the
# authority's); sets AGENT_URL_I.
start_agent() {
    i=$1; shift
    "$FAIRKEY" agent serve --share "$T/auth/share-$i.key" --authority "$AUTH" \
        --listen 127.0.0.1:0 --state "$T/agent$i" "$@" \
        >"$T/agent$i.out" 2>"$T/agent$i.err" &
    eval "AGENT_PID_$i=$!"
    PIDS="$PIDS $!"
    port=$(wait_port "$T/agent$i.out") || fail "agent $i did not start: $(cat "$T/agent$i.err")"
    eval "AGENT_URL_$i=http://127.0.0.1:$port"
}

stop_agent() {
    eval "kill \$AGENT_PID_$1; wait \$AGENT_PID_$1 2>/dev/null"
    true
}

# A user key, a requester key and a file encrypted to the user and the authority.
setup_file() {
    "$FAIRKEY" keygen -o "$T/user.key" 2>/dev/null || fail "keygen"
    USER_R=$(sed -n 's/^# public key: //p' "$T/user.key")
    AUTH_R=$("$FAIRKEY" authority show --recipient "$AUTH")
    [ -n "$AUTH_R" ] || fail "no authority recipient"
    head -c 100000 /dev/urandom >"$T/plain"
    "$FAIRKEY" encrypt -r "$USER_R" -r "$AUTH_R" -o "$T/file.age" "$T/plain" || fail "encrypt"
    "$FAIRKEY" request keygen --name court.test/judge-1 -o "$T/req.key" >"$T/req.pub" \
        || fail "request keygen"
    echo "warrant 2026-17" >"$T/warrant.txt"
}

# file_request [extra]: file a request for $T/file.age; sets RECEIPT.
file_request() {
    "$FAIRKEY" request --authority "$AUTH" \
        --key "$T/req.key" --warrant "$T/warrant.txt" --reason "e2e test case" \
        -o "$T/receipt" "$@" "$T/file.age" >"$T/request.out" || fail "request"
    RECEIPT="$T/receipt"
}
