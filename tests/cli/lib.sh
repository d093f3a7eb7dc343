# Shared helpers for the CLI shell tests.  Source after setting FAIRKEY.
# Each check prints "ok - <what>" or "FAIL - <what>: <why>"; the script ends
# with `finish`, which exits 1 if anything failed.

: "${FAIRKEY:?FAIRKEY must name the fairkey binary}"
FAILED=0
CHECKS=0

T=$(mktemp -d "${TMPDIR:-/tmp}/fairkey-test.XXXXXX")
cleanup() { chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

ok() { CHECKS=$((CHECKS + 1)); echo "ok - $1"; }
bad() { CHECKS=$((CHECKS + 1)); FAILED=$((FAILED + 1)); echo "FAIL - $1: $2"; }

# check <what> <command...>: the command must succeed.
check() {
    local what=$1; shift
    if "$@" >"$T/.out" 2>"$T/.err"; then ok "$what"; else
        bad "$what" "exit $? ($(head -c 300 "$T/.err"))"; fi
}

# expect_fail <what> <exit code> <stderr pattern> <command...>: the command
# must exit with that code and print exactly one stderr line that starts with
# "fairkey: " and matches the (grep -E) pattern.
expect_fail() {
    local what=$1 code=$2 pat=$3; shift 3
    "$@" >"$T/.out" 2>"$T/.err"
    local rc=$?
    local lines; lines=$(grep -c '' "$T/.err")
    if [ "$rc" -ne "$code" ]; then
        bad "$what" "exit $rc, want $code ($(head -c 300 "$T/.err"))"
    elif [ "$code" -eq 1 ] && [ "$lines" -ne 1 ]; then
        bad "$what" "stderr has $lines lines, want one: $(head -c 300 "$T/.err")"
    elif ! head -n 1 "$T/.err" | grep -q '^fairkey: '; then
        bad "$what" "stderr does not start with 'fairkey: ': $(head -c 300 "$T/.err")"
    elif ! grep -Eq -- "$pat" "$T/.err"; then
        bad "$what" "stderr does not match /$pat/: $(head -c 300 "$T/.err")"
    else
        ok "$what"
    fi
}

# same <what> <file a> <file b>
same() {
    if cmp -s "$2" "$3"; then ok "$1"; else bad "$1" "$2 and $3 differ"; fi
}

# absent <what> <path>
absent() {
    if [ -e "$2" ]; then bad "$1" "$2 exists"; else ok "$1"; fi
}

# no_temp_files <what> <dir>: no ".name.XXXXXX" temporaries left behind.
no_temp_files() {
    local left; left=$(find "$2" -maxdepth 1 -name '.*.??????' | head -n 1)
    if [ -n "$left" ]; then bad "$1" "temporary file $left left behind"; else ok "$1"; fi
}

# flip_byte <file> <offset>: invert the low bit of one byte in place.
flip_byte() {
    local b; b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
    printf "\\$(printf %03o $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# header_len <file>: bytes up to and including the "--- <mac>" line.
header_len() {
    local off; off=$(grep -a -b -m 1 '^--- ' "$1" | cut -d: -f1)
    echo $((off + 4 + 43 + 1))
}

finish() {
    echo "# $CHECKS checks, $FAILED failed"
    [ "$FAILED" -eq 0 ]
    exit $?
}
