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
    if [ -n "$UNMOUNT" ]; then umount "$UNMOUNT" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# start_log DIR [serve options...]: sets LOG_PID, LOG_URL, LOG_VKEY.
start_log() {
    local dir=$1; shift
    local out="$WORK/serve.$RANDOM.out"
    "$FAIRKEY" log serve --dir "$dir" --listen 127.0.0.1:0 "$@" >"$out" 2>>"$WORK/serve.err" &
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
