#!/bin/bash
# End-to-end recovery benchmark on this machine: one log, a 3-of-5 authority,
# five agents (SQLite, synchronous=FULL), all on 127.0.0.1; then
#   1. latency of one recovery at a time (request + log batch + 3 agents),
#   2. sustained recoveries per second with many concurrent requesters.
# Usage: bench/recovery_bench.sh [BUILD_DIR] [N_SEQ] [N_PAR] [CONCURRENCY] [BATCH_MS]
set -u
B=${1:-build}
NSEQ=${2:-20}
NPAR=${3:-2000}
CONC=${4:-256}
BATCH_MS=${5:-1000}
FAIRKEY=$B/fairkey
BENCH=$B/tests/e2e/recovery_bench
[ -x "$FAIRKEY" ] && [ -x "$BENCH" ] || { echo "build fairkey and recovery_bench in $B first" >&2; exit 1; }
T=$(mktemp -d)
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
wait_for() { for _ in $(seq 1 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# The log exists before the authority that names it: start it open, create
# the authority, restart it on its port admitting only that authority's
# requests (one requester files every request: no rate limit to speak of).
"$FAIRKEY" log serve --dir "$T/log" --listen 127.0.0.1:0 --origin bench.test/log --open \
    --batch-ms "$BATCH_MS" >"$T/log0.out" 2>"$T/log.err" & LOGPID=$!
wait_for "$T/log0.out" '^http://' || { cat "$T/log.err"; exit 1; }
LOG=$(grep '^http://' "$T/log0.out"); VKEY=$(head -1 "$T/log0.out")
kill $LOGPID; wait $LOGPID 2>/dev/null
"$FAIRKEY" authority create --name bench -t 3 -n 5 --log "$LOG" --log-vkey "$VKEY" -o "$T/auth" >/dev/null 2>&1
"$FAIRKEY" log serve --dir "$T/log" --listen "${LOG#http://}" --origin bench.test/log \
    --authority "$T/auth/authority.pub" --rate 60000 \
    --batch-ms "$BATCH_MS" >"$T/log.out" 2>"$T/log.err" & PIDS="$PIDS $!"; LOGPID=$!
wait_for "$T/log.out" '^http://' || { cat "$T/log.err"; exit 1; }
"$FAIRKEY" request keygen --name bench.test/req -o "$T/req.key" >"$T/req.pub"
URLS=""
for i in 1 2 3 4 5; do
    "$FAIRKEY" agent serve --share "$T/auth/share-$i.key" --authority "$T/auth/authority.pub" \
        --listen 127.0.0.1:0 --state "$T/agent$i" \
        --requesters "$T/req.pub" >"$T/agent$i.out" 2>"$T/agent$i.err" & PIDS="$PIDS $!"
    wait_for "$T/agent$i.out" "listening on port" || { cat "$T/agent$i.err"; exit 1; }
    URLS="$URLS${URLS:+,}http://127.0.0.1:$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$T/agent$i.out")"
done
"$FAIRKEY" keygen -o "$T/user.key" 2>/dev/null
echo "benchmark plaintext" >"$T/plain"
"$FAIRKEY" encrypt -r "$(sed -n 's/^# public key: //p' "$T/user.key")" \
    -r "$("$FAIRKEY" authority show --recipient "$T/auth/authority.pub")" -o "$T/file.age" "$T/plain"

echo "== machine: $(nproc) cores; log batch interval ${BATCH_MS} ms; 5 agents, t = 3"
echo "== one recovery at a time ($NSEQ recoveries)"
"$BENCH" "$LOG" "$T/auth/authority.pub" "$T/req.key" "$T/file.age" "$URLS" "$NSEQ" 1
# CPU time (user, system; clock ticks) of the log and the agents, and of the
# bench process itself, around the sustained run: CPU per recovery.
ticks() { local u=0 s=0; for p in "$@"; do read -r -a f <"/proc/$p/stat"; u=$((u + f[13])); s=$((s + f[14])); done; echo "$u $s"; }
echo "== sustained ($NPAR recoveries, $CONC concurrent requesters)"
read -r U0 S0 <<<"$(ticks $PIDS)"; read -r L0 M0 <<<"$(ticks $LOGPID)"
TIMEFORMAT='bench process: %U s user, %S s system'
time "$BENCH" "$LOG" "$T/auth/authority.pub" "$T/req.key" "$T/file.age" "$URLS" "$NPAR" "$CONC"
read -r U1 S1 <<<"$(ticks $PIDS)"; read -r L1 M1 <<<"$(ticks $LOGPID)"
HZ=$(getconf CLK_TCK)
echo "log + agents: $(( (U1 - U0) * 1000 / HZ )) ms user, $(( (S1 - S0) * 1000 / HZ )) ms system for $NPAR recoveries"
echo "  of which the log: $(( (L1 - L0) * 1000 / HZ )) ms user, $(( (M1 - M0) * 1000 / HZ )) ms system"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
