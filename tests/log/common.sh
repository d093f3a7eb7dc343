# Shared by the log tests: start/stop the real daemon on 127.0.0.1 with a
# kernel-chosen free port, and always kill what we started.
set -euo pipefail
LOG_BENCH=${1:?usage: $0 LOG_BENCH}
: "${FAIRKEY:?FAIRKEY must name the fairkey binary}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fklog.XXXXXX")
PIDS=()
UNMOUNT=
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if declare -F pg_cleanup >/dev/null; then pg_cleanup; fi
    if [ -n "$UNMOUNT" ]; then umount "$UNMOUNT" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# The storage backend under test: sqlite (DIR, the default) or pg (a
# database of a private PostgreSQL cluster, tests/log/pg.sh), so the same
# scripts test both.
LOG_BACKEND=${LOG_BACKEND:-sqlite}
if [ "$LOG_BACKEND" = pg ]; then
    . "$(dirname "${BASH_SOURCE[0]}")/pg.sh"
    pg_start
fi

# log_args DIR: the storage options of the log kept in DIR: --dir DIR, or on
# PostgreSQL --db (a database named after DIR) and --key DIR.key.
log_args() {
    if [ "$LOG_BACKEND" = pg ]; then
        local db
        db=$(basename "$1" | tr -c 'a-z0-9_\n' '_')
        pg_createdb "$db"
        printf '%s\n' --db "$PGURL/$db" --key "$1.key"
    else
        printf '%s\n' --dir "$1"
    fi
}

# start_log DIR [serve options...]: sets LOG_PID, LOG_URL, LOG_VKEY.
start_log() {
    local dir=$1; shift
    local out="$WORK/serve.$RANDOM.out" st
    mapfile -t st < <(log_args "$dir")
    : >"$out"   # before the wait below reads it
    "$FAIRKEY" log serve "${st[@]}" --listen 127.0.0.1:0 "$@" >"$out" 2>>"$WORK/serve.err" &
    LOG_PID=$!
    PIDS+=("$LOG_PID")
    for _ in $(seq 200); do
        [ "$(wc -l <"$out")" -ge 2 ] && break
        kill -0 "$LOG_PID" 2>/dev/null || fail "log serve exited: $(cat "$WORK/serve.err")"
        sleep 0.05
    done
    LOG_VKEY=$(sed -n 1p "$out")
    LOG_URL=$(sed -n 2p "$out")
    [ -n "$LOG_URL" ] || fail "log serve printed no URL"
}

stop_log() {
    kill -TERM "$LOG_PID"
    wait "$LOG_PID" || fail "log serve exited non-zero on SIGTERM"
}

# http METHOD PATH [curl args...]: prints the status code; body in $WORK/body.
http() {
    local m=$1 p=$2; shift 2
    curl -s --max-time 20 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -X "$m" "$@" "$LOG_URL$p"
}
