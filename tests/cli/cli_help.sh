#!/bin/bash
# Every subcommand's -h and --help: usage on stdout, nothing on stderr, exit
# 0.  The commands come from the subcommand table (src/cli/commands.h); the
# subcommands of each from its own usage text (the "fairkey CMD SUB" lines
# and the name column of its table), two levels deep.
set -u
. "$(dirname "$0")/lib.sh"
SRC=${FK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
F=$FAIRKEY
cd "$T" || exit 1

top=$(sed -n 's/^FK_\(NET_\)\{0,1\}COMMAND("\([a-z-]*\)".*/\2/p' "$SRC/src/cli/commands.h")
[ "$(echo "$top" | wc -w)" -ge 12 ] || bad "subcommand table" "only: $top"

# subs "CMD..." FILE: the subcommand names the usage text in FILE shows.
subs() {
    local cmd=$1 f=$2
    { sed -n "s/.*fairkey $cmd \([a-z][a-z0-9-]*\).*/\1/p" "$f"
      sed -n 's/^\([a-z][a-z0-9-]*\)  .*/\1/p' "$f"; } | sort -u
}

# help_ok "CMD...": -h and --help print a usage line on stdout, nothing on
# stderr, and exit 0.
help_ok() {
    local flag rc
    for flag in -h --help; do
        # shellcheck disable=SC2086
        "$F" $1 $flag >"$T/help.out" 2>"$T/help.err"
        rc=$?
        if [ $rc -ne 0 ]; then bad "fairkey $1 $flag" "exit $rc: $(head -c 200 "$T/help.err")"
        elif ! grep -q '^usage: fairkey' "$T/help.out"; then bad "fairkey $1 $flag" "no usage line on stdout"
        elif [ -s "$T/help.err" ]; then bad "fairkey $1 $flag" "stderr: $(head -c 200 "$T/help.err")"
        else ok "fairkey $1 $flag"; fi
    done
}

n=0
for c in $top; do
    help_ok "$c"
    "$F" "$c" -h >"$T/$c.usage" 2>/dev/null
    for s in $(subs "$c" "$T/$c.usage"); do
        help_ok "$c $s"; n=$((n + 1))
        "$F" "$c" "$s" -h >"$T/$c.$s.usage" 2>/dev/null
        "$F" "$c" "$s" help >>"$T/$c.$s.usage" 2>/dev/null
        for s2 in $(subs "$c $s" "$T/$c.$s.usage"); do
            help_ok "$c $s $s2"; n=$((n + 1))
        done
    done
done
# The subcommands the issue named, so the discovery above cannot miss them.
for c in "recover" "audit" "agent pending" "agent approve" "request keygen" "authority dkg join"; do
    help_ok "$c"
done
[ "$n" -ge 20 ] || bad "subcommands found" "only $n"
finish
