# fairkey log serve --witness against a misbehaving witness: its answers
# must never put a line on the log's checkpoint that does not verify over
# the checkpoint (a verifier that trusts the witness would reject the whole
# note).  The fake witness holds a real witness key and answers
#   blank: a blank line, then a valid cosignature over the log's whole note
#          (text and log signature: the blank line moves the note's split);
#   alias: a valid cosignature, then a line with another name but the
#          witness's key ID and a junk signature.
. "$(dirname "$0")/common.sh"
add() {
    [ "$(curl -s --max-time 20 -o "$WORK/ans" -w '%{http_code}' --data-binary "$1" "$2/add")" = 200 ] ||
        fail "add $1: $(cat "$WORK/ans")"
}

start log "$WORK/log" --open --origin evil.test/log
L_VKEY=$VKEY
stop "$PID"
start witness "$WORK/w1" --log "$L_VKEY" --name witness.test/w1
W1_URL=$URL W1_VKEY=$VKEY
start witness "$WORK/e" --log "$L_VKEY" --name evil.test/w
E_VKEY=$VKEY
stop "$PID"

for mode in ${EVIL_MODES:-blank alias}; do
    rm -f "$WORK/evil.port"
    python3 - "$WORK/evil.port" "$mode" "$TOOL" "$WORK/e/witness.key" "$E_VKEY" <<'PY' &
import base64, http.server, subprocess, sys, time
port_file, mode, tool, key, vkey = sys.argv[1:]
keyid = bytes.fromhex(vkey.split("+")[1])

def cosign(text):
    return subprocess.run([tool, "cosign", key, str(int(time.time()))], input=text,
                          capture_output=True, check=True).stdout

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        cp = body[body.index(b"\n\n") + 2:]           # after the proof lines
        if mode == "blank":
            ans = b"\n" + cosign(cp)                   # signs text + log line
        else:
            text = cp[:cp.rindex(b"\n\n") + 1]
            junk = base64.b64encode(keyid + bytes(72))
            ans = cosign(text) + "\u2014 other.test/x ".encode() + junk + b"\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(ans)))
        self.end_headers()
        self.wfile.write(ans)

s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(port_file, "w").write(str(s.server_address[1]))
s.serve_forever()
PY
    EVIL_PID=$!
    PIDS+=("$EVIL_PID")
    for _ in $(seq 100); do [ -s "$WORK/evil.port" ] && break; sleep 0.05; done
    [ -s "$WORK/evil.port" ] || fail "the fake witness did not start"
    start log "$WORK/log" --open --batch-ms 20 --witness "$W1_VKEY=$W1_URL" \
        --witness "$E_VKEY=http://127.0.0.1:$(cat "$WORK/evil.port")"
    L_PID=$PID L_URL=$URL
    want=$([ "$mode" = blank ] && echo 1 || echo 2)
    # Every checkpoint must verify; the expected count must come within a
    # few seconds (a slow first answer puts the witness in its backoff).
    for i in $(seq 1 30); do
        add "$mode entry $i" "$L_URL"
        curl -s --max-time 20 -o "$WORK/cp" "$L_URL/checkpoint"
        n=$("$TOOL" count "$WORK/cp" "$L_VKEY" "$W1_VKEY" "$E_VKEY") ||
            fail "$mode: the checkpoint carries a line of the witness that does not verify: $(cat "$WORK/cp")"
        ! grep -q 'other.test/x' "$WORK/cp" || fail "$mode: an unverified line was appended"
        [ "$n" -le "$want" ] || fail "$mode: $n valid cosignatures, at most $want possible"
        [ "$i" -ge 3 ] && [ "$n" = "$want" ] && break
        [ "$i" -ge 3 ] && sleep 0.3
    done
    [ "$n" = "$want" ] || fail "$mode: $n valid cosignatures, want $want"
    stop "$L_PID"
    kill "$EVIL_PID"
done
echo "witness_evil: ok"
