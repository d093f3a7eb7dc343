# Shared by the ceremony scripts (dkg_cli, dkg_http, reshare_cli): a work
# folder removed on exit (with any daemon in PIDS), the placeholder log the
# authorities name (which one does not matter to a ceremony), and checks.
set -euo pipefail
: "${FAIRKEY:?}"
T=$(mktemp -d)
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    for p in $PIDS; do wait "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T"
LOG="--log https://log.example.com/ --log-vkey example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
# expect_fail CODE COMMAND...: it must exit CODE and say why in a fairkey line.
expect_fail() {
    local want=$1; shift
    set +e; "$@" >out.txt 2>err.txt; local got=$?; set -e
    [ "$got" = "$want" ] || { cat err.txt >&2; fail "'$*' exited $got, expected $want"; }
    grep -qE '^(fairkey:|usage: fairkey) ' err.txt || fail "'$*' printed no 'fairkey:' line"
}
