#!/bin/bash
# C2SP tlog-tiles lets a log delete a partial tile once the full tile
# exists.  A client holding an older checkpoint (a cached one: its tree ends
# inside tile 0) must then read tile 0 and entry bundle 0 from the full ones:
# `fairkey log verify --since --follow` and `fairkey audit --state` against a
# static mirror of the log's tiles whose partials of tile 0 are gone.
. "$(dirname "$0")/common.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 needed for the static mirror"; exit 77; }
D="$WORK/log"
start_log "$D" --open --batch-ms 20

# Tree of 40: the client and the auditor remember it.
"$LOG_BENCH" add "$LOG_URL" "$LOG_VKEY" --n 40 --conc 4 --prefix a --out "$WORK/acks" --strict ||
    fail "adds to 40"
"$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --since "$WORK/seen" >/dev/null ||
    fail "verify at 40"
grep -qx 40 <(sed -n 2p "$WORK/seen") || fail "seen checkpoint is not size 40"
"$FAIRKEY" keygen -o "$WORK/user.key" 2>/dev/null || fail "keygen"
USER_R=$(grep -o 'age1[0-9a-z]*' "$WORK/user.key" | head -1)
printf 'audited\n' >"$WORK/plain"
"$FAIRKEY" encrypt -r "$USER_R" -o "$WORK/file.age" "$WORK/plain" 2>/dev/null || fail "encrypt"
"$FAIRKEY" audit --log "$LOG_URL" --vkey "$LOG_VKEY" --state "$WORK/audit.state" "$WORK/file.age" \
    >/dev/null || fail "audit at 40"

# Tree of 100: the checkpoint a cache will keep serving.
"$LOG_BENCH" add "$LOG_URL" "$LOG_VKEY" --n 60 --conc 4 --prefix b --out "$WORK/acks" --strict ||
    fail "adds to 100"
[ "$(http GET /checkpoint)" = 200 ] || fail "checkpoint at 100"
cp "$WORK/body" "$WORK/cp100"
grep -qx 100 <(sed -n 2p "$WORK/cp100") || fail "checkpoint is not size 100"

# Tree of 400: tile 0 and bundle 0 are full now.
"$LOG_BENCH" add "$LOG_URL" "$LOG_VKEY" --n 300 --conc 8 --prefix c --out "$WORK/acks" --strict ||
    fail "adds to 400"
[ -f "$D/tile/0/000" ] && [ -f "$D/tile/entries/000" ] || fail "full tile 0 not written"
[ -f "$D/tile/0/000.p/100" ] && [ -f "$D/tile/entries/000.p/100" ] ||
    fail "the log kept no partial tile at 100 to delete"

# The mirror: the log's tiles, the size-100 checkpoint, tile 0's partials deleted.
M="$WORK/mirror"
mkdir "$M"
cp -r "$D/tile" "$M/tile"
cp "$WORK/cp100" "$M/checkpoint"
rm -rf "$M/tile/0/000.p" "$M/tile/entries/000.p"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$M" >"$WORK/mirror.out" 2>/dev/null &
PIDS+=("$!")
PORT=
for _ in $(seq 100); do
    PORT=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$WORK/mirror.out" | head -1)
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "$PORT" ] || fail "the static mirror did not start"
MURL="http://127.0.0.1:$PORT"
code=$(curl -s --max-time 20 -o /dev/null -w '%{http_code}' "$MURL/tile/0/000.p/100")
[ "$code" = 404 ] || fail "mirror still serves the partial tile ($code)"
code=$(curl -s --max-time 20 -o /dev/null -w '%{http_code}' "$MURL/tile/entries/000.p/100")
[ "$code" = 404 ] || fail "mirror still serves the partial bundle ($code)"

# Consistency 40 -> 100, inclusion and a replay from scratch, all from full tiles.
"$FAIRKEY" log verify --log "$MURL" --vkey "$LOG_VKEY" --since "$WORK/seen" --index 77 --follow \
    >"$WORK/v" || fail "verify against the mirror: $(cat "$WORK/v")"
grep -q 'consistent with .* (size 40)' "$WORK/v" || fail "no consistency check: $(cat "$WORK/v")"
grep -q 'entry 77 included' "$WORK/v" || fail "no inclusion: $(cat "$WORK/v")"
grep -q 'followed 100 entries' "$WORK/v" || fail "no replay: $(cat "$WORK/v")"

# The auditor: consistency 40 -> 100 and entries 40..99 from the full bundle.
"$FAIRKEY" audit --log "$MURL" --vkey "$LOG_VKEY" --state "$WORK/audit.state" "$WORK/file.age" \
    >"$WORK/a" || fail "audit against the mirror"
grep -qx 100 <(sed -n 2p "$WORK/audit.state") || fail "audit state not advanced to 100"

# A full tile that is missing too is an error, not a silent pass.
rm "$M/tile/0/000"
if "$FAIRKEY" log verify --log "$MURL" --vkey "$LOG_VKEY" --follow >/dev/null 2>&1; then
    fail "verify passed with tile 0 gone"
fi
stop_log
echo "ok: partial tiles deleted, full tiles read"
