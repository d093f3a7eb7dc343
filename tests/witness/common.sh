# Shared by the witness tests: the work directory, cleanup of every daemon
# started, and starting `fairkey log serve` or `fairkey witness serve` on
# 127.0.0.1 with a kernel-chosen port.
set -euo pipefail
TOOL=${1:?usage: $0 WITNESS_TOOL}
: "${FAIRKEY:?}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fkwit.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if declare -F pg_cleanup >/dev/null; then pg_cleanup; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# LOG_BACKEND=pg: the logs keep their state in a private PostgreSQL cluster
# (tests/log/pg.sh): a log started on DIR gets --db (a database named after
# DIR) and --key DIR.key instead of --dir DIR.
LOG_BACKEND=${LOG_BACKEND:-sqlite}
if [ "$LOG_BACKEND" = pg ]; then
    . "$(dirname "${BASH_SOURCE[0]}")/../log/pg.sh"
    pg_start
fi

# start KIND DIR [options...]: sets PID, URL, VKEY (KIND: log or witness);
# the daemon's stderr goes to $WORK/KIND.err.
start() {
    local kind=$1 dir=$2; shift 2
    local out="$WORK/$kind.$RANDOM.out" st=(--dir "$dir")
    if [ "$kind" = log ] && [ "$LOG_BACKEND" = pg ]; then
        local db
        db=$(basename "$dir" | tr -c 'a-z0-9_\n' '_')
        pg_createdb "$db"
        st=(--db "$PGURL/$db" --key "$dir.key")
    fi
    : >"$out"
    "$FAIRKEY" "$kind" serve "${st[@]}" --listen 127.0.0.1:0 "$@" >"$out" 2>>"$WORK/$kind.err" &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 200); do
        [ "$(wc -l <"$out")" -ge 2 ] && break
        kill -0 "$PID" 2>/dev/null || fail "$kind serve exited: $(cat "$WORK/$kind.err")"
        sleep 0.05
    done
    VKEY=$(sed -n 1p "$out")
    URL=$(sed -n 2p "$out")
    [ -n "$URL" ] || fail "$kind serve printed no URL"
}
stop() { kill -TERM "$1"; wait "$1" || fail "serve exited non-zero on SIGTERM"; }

# stored_cp: a file holding the checkpoint the log in $WORK/log has stored
# (DIR/checkpoint, or the tree row of its database).
stored_cp() {
    if [ "$LOG_BACKEND" = pg ]; then
        printf '%s\n' "$(pg_sql log "SELECT checkpoint FROM fk_log_tree WHERE id = 1")" >"$WORK/stored.cp"
        echo "$WORK/stored.cp"
    else
        echo "$WORK/log/checkpoint"
    fi
}
