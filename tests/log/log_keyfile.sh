#!/bin/bash
# The log's signing key lives outside the directory it publishes: DIR.key
# by default or --key FILE, never inside DIR.  A key inside DIR (where
# fairkey kept log.key before) is refused with the mv command that fixes
# it; a static web server pointed at DIR serves the log but not the key.
. "$(dirname "$0")/common.sh"
D="$WORK/log"
start_log "$D" --open --batch-ms 20
[ -f "$D.key" ] || fail "no key beside the directory"
[ ! -e "$D/log.key" ] || fail "a key inside the published directory"
[ "$(http POST /add --data-binary entry)" = 200 ] || fail "add"
[ "$(http GET /log.key)" = 404 ] || fail "the daemon serves /log.key"
VKEY1=$LOG_VKEY
stop_log
echo "ok: the key is $D.key, outside $D"

# The directory as static files (what docs/log.md suggests): the read
# path is there, no key.
if command -v python3 >/dev/null; then
    python3 -m http.server --bind 127.0.0.1 0 --directory "$D" >"$WORK/static.out" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do grep -q 'port [0-9]' "$WORK/static.out" && break; sleep 0.05; done
    port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$WORK/static.out" | head -1)
    [ -n "$port" ] || fail "static server did not start: $(cat "$WORK/static.out")"
    get() { curl -s --max-time 10 -o "$WORK/sbody" -w '%{http_code}' "http://127.0.0.1:$port/$1"; }
    [ "$(get checkpoint)" = 200 ] || fail "static checkpoint"
    for p in log.key ../log.key %2e%2e/log.key; do
        [ "$(get "$p")" = 404 ] || fail "static GET /$p is not 404"
    done
    echo "ok: a static server of $D: /checkpoint 200, /log.key 404"
fi

# The old layout: refused, one line, with the command that moves the key.
mv "$D.key" "$D/log.key"
! timeout 10 "$FAIRKEY" log serve --dir "$D" --listen 127.0.0.1:0 --open >/dev/null 2>"$WORK/in.err" ||
    fail "a log with its key inside the published directory started"
[ "$(wc -l <"$WORK/in.err")" = 1 ] || fail "refusal is not one line: $(cat "$WORK/in.err")"
cmd=$(grep -o "mv $D/log.key $D.key" "$WORK/in.err") || fail "no mv command: $(cat "$WORK/in.err")"
$cmd
start_log "$D" --open
[ "$LOG_VKEY" = "$VKEY1" ] || fail "another key after the move"
stop_log
echo "ok: DIR/log.key refused with '$cmd'; after it the same key serves"

# --key: anywhere outside DIR; inside DIR (however spelled) refused.
mkdir "$D/sub"
cp "$D.key" "$D/sub/k.key"
for k in "$D/sub/k.key" "$WORK/log/../log/sub/k.key"; do
    ! timeout 10 "$FAIRKEY" log serve --dir "$D" --key "$k" --listen 127.0.0.1:0 --open >/dev/null \
        2>"$WORK/k.err" || fail "--key $k inside the directory accepted"
    grep -q "lies inside the directory the log publishes" "$WORK/k.err" || fail "--key $k: $(cat "$WORK/k.err")"
done
rm -r "$D/sub"
mkdir -m 700 "$WORK/keys"
mv "$D.key" "$WORK/keys/log.key"
start_log "$D" --open --key "$WORK/keys/log.key"
[ "$LOG_VKEY" = "$VKEY1" ] || fail "--key gave another key"
stop_log
[ ! -e "$D.key" ] || fail "a default key was made beside --key"
echo "ok: --key outside the directory serves; inside it is refused"
echo PASS
