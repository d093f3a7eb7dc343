#!/bin/bash
# Sealed source deposits (docs/protocol.md 10): a vendor deposits an archive,
# the record is logged, an inspector files an inspection (a recovery request
# against the deposit), the agents answer, the recovered archive verifies
# against the logged hash, and the vendor's audit shows the deposit and the
# inspection (exit 3).  Then a hostile vendor, requester and log client:
# forged, re-signed, oversized, replayed and stale records, a record for
# another authority or with a target from another file are refused by the
# log; a ciphertext or archive other than the record's is refused by
# 'deposit verify' and reported by the audit.
. "$(dirname "$0")/lib.sh"
: "${TIME_SHIFT_LIB:?}"
# The independent signer needs Python's cryptography: Debian's python3 has it
# (python3-cryptography, scripts/deps.sh) even where another python3 comes
# first on PATH.
PY_SIGNER=
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null; then
        PY_SIGNER=$p
        break
    fi
done
[ -n "$PY_SIGNER" ] || fail "no python3 with the cryptography package (Debian's python3-cryptography)"

start_log logD
setup_authority 2 3
bind_log logD
setup_file   # the inspector's requester key ($T/req.key), a warrant, $T/file.age
for i in 1 2 3; do start_agent "$i" --requesters "$T/req.pub"; done

# POST FILE to the log's /add; echo the HTTP status and the index it gave.
post() {
    python3 - "$LOG_URL/add" "$1" <<'PY'
import sys, urllib.request, urllib.error
body = open(sys.argv[2], 'rb').read()
try:
    r = urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=body, method='POST'))
    idx = [l for l in r.read().decode().split('\n') if l.startswith('index ')][0][6:]
    print(r.status, idx)
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().strip().replace(' ', '_')[:200])
PY
}
tree_size() { sed -n 2p "$T/logD/checkpoint"; }
# sign TEXT-FILE KEYFILE OUT: a signed note over TEXT-FILE by the Ed25519 seed of a requester key file.
sign() {
    "$PY_SIGNER" - "$1" "$2" "$3" <<'PY'
import sys, base64, hashlib
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
text = open(sys.argv[1], 'rb').read()
kv = dict(l.split(' ', 1) for l in open(sys.argv[2]).read().splitlines()[1:])
sk = Ed25519PrivateKey.from_private_bytes(base64.b64decode(kv['sign'] + '='))
pub = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
name = kv['name'].encode()
kid = hashlib.sha256(name + b'\n\x01' + pub).digest()[:4]
sig = base64.b64encode(kid + sk.sign(text)).decode()
open(sys.argv[3], 'wb').write(text + b'\n\xe2\x80\x94 ' + name + b' ' + sig.encode() + b'\n')
PY
}
# record RECEIPT OUT: the signed record a receipt carries; OUT.txt its text.
record() {
    python3 - "$1" "$2" <<'PY'
import sys, base64
r = open(sys.argv[1]).read().split('\n')
note = base64.b64decode([l for l in r if l.startswith('extra ')][0][6:])
open(sys.argv[2], 'wb').write(note)
open(sys.argv[2] + '.txt', 'wb').write(note[:note.index(b'\n\n') + 1])
PY
}

# ---- the vendor deposits ----------------------------------------------------
"$FAIRKEY" request keygen --name vendor.test/acme -o "$T/vendor.key" >"$T/vendor.pub" \
    || fail "vendor keygen"
[ "$(stat -c %a "$T/vendor.key")" = 600 ] || fail "vendor key mode"
"$FAIRKEY" keygen -o "$T/vendor-age.key" 2>/dev/null || fail "vendor age keygen"
VENDOR_R=$(sed -n 's/^# public key: //p' "$T/vendor-age.key")
head -c 300000 /dev/urandom >"$T/src.tar"
echo "acme 1.0 for linux" >"$T/acme-linux-x86_64"
echo "acme 1.0 for windows" >"$T/acme.exe"
"$FAIRKEY" deposit --authority "$AUTH" --key "$T/vendor.key" -r "$VENDOR_R" --product acme \
    --version 1.0 --binary "$T/acme-linux-x86_64" --binary "$T/acme.exe" -o "$T/src.tar.age" \
    "$T/src.tar" >"$T/dep.out" 2>"$T/dep.err" || fail "deposit: $(cat "$T/dep.err")"
grep -q "deposit logged at index 0" "$T/dep.out" || fail "deposit output: $(cat "$T/dep.out")"
DEP_RECEIPT="$T/src.tar.age.deposit.tlog-proof"
[ -f "$DEP_RECEIPT" ] || fail "no deposit receipt"
record "$DEP_RECEIPT" "$T/rec"
head -1 "$T/rec.txt" | grep -qx "fairkey source deposit v1" || fail "record: $(cat "$T/rec.txt")"
grep -qx "archive $(sha256sum "$T/src.tar" | cut -d' ' -f1) 300000" "$T/rec.txt" ||
    fail "archive line: $(cat "$T/rec.txt")"
grep -qx "ciphertext $(sha256sum "$T/src.tar.age" | cut -d' ' -f1) $(stat -c %s "$T/src.tar.age")" \
    "$T/rec.txt" || fail "ciphertext line: $(cat "$T/rec.txt")"
grep -qx "binary $(sha256sum "$T/acme.exe" | cut -d' ' -f1) acme.exe" "$T/rec.txt" ||
    fail "binary line: $(cat "$T/rec.txt")"
[ "$(tree_size)" = 1 ] || fail "tree size $(tree_size)"
# The entry in the log is the record, byte for byte.
"$FAIRKEY" log verify --log "$LOG_URL" --vkey "$LOG_VKEY" --entry "$T/rec" >"$T/lv.out" 2>&1 ||
    fail "log verify --entry: $(cat "$T/lv.out")"
ok "deposit logged: record with archive, ciphertext and binary hashes at index 0"
"$FAIRKEY" decrypt -i "$T/vendor-age.key" -o "$T/vendor-copy" "$T/src.tar.age" ||
    fail "vendor decrypt"
cmp -s "$T/vendor-copy" "$T/src.tar" || fail "vendor copy differs"
"$FAIRKEY" deposit verify --authority "$AUTH" --receipt "$DEP_RECEIPT" \
    --ciphertext "$T/src.tar.age" >"$T/v0.out" 2>&1 || fail "verify: $(cat "$T/v0.out")"
grep -q "ciphertext .*: matches the logged SHA-256 and size" "$T/v0.out" || fail "$(cat "$T/v0.out")"
ok "the vendor decrypts its deposit; deposit verify accepts the ciphertext"

audit_rc() { local out=$1; shift; rc=0; "$FAIRKEY" audit "$@" >"$out" 2>&1 || rc=$?; echo "$rc"; }
rc=$(audit_rc "$T/a0" --authority "$AUTH" --vendor "$T/vendor.pub")
[ "$rc" = 0 ] && grep -q "deposit acme 1.0 of vendor.test/acme: .*DEPOSIT logged at log index 0 by vendor vendor.test/acme: product acme version 1.0" "$T/a0" &&
    grep -q "no inspection recorded up to tree size 1" "$T/a0" || fail "audit before: exit $rc: $(cat "$T/a0")"
ok "vendor audit before any inspection: the deposit, no inspection (exit 0)"

# ---- the inspection ----------------------------------------------------------
"$FAIRKEY" request --authority "$AUTH" --key "$T/req.key" --warrant "$T/warrant.txt" \
    --reason "source inspection, case 2026-17" -o "$T/insp.receipt" "$T/src.tar.age" \
    >"$T/insp.out" || fail "inspection request"
"$FAIRKEY" recover --authority "$AUTH" --request "$T/insp.receipt" --key "$T/req.key" \
    --agents "$AGENT_URL_1,$AGENT_URL_2,$AGENT_URL_3" -o "$T/inspected.tar" "$T/src.tar.age" \
    2>"$T/rec.err" || fail "recover: $(cat "$T/rec.err")"
"$FAIRKEY" deposit verify --authority "$AUTH" --receipt "$DEP_RECEIPT" \
    --ciphertext "$T/src.tar.age" --archive "$T/inspected.tar" >"$T/v1.out" 2>&1 ||
    fail "verify after inspection: $(cat "$T/v1.out")"
grep -q "archive .*inspected.tar: matches the logged SHA-256 and size" "$T/v1.out" ||
    fail "$(cat "$T/v1.out")"
ok "inspection: agents answered, the recovered archive matches the logged hash"

rc=$(audit_rc "$T/a1" --authority "$AUTH" --vendor "$T/vendor.pub" --state "$T/vst")
[ "$rc" = 3 ] || fail "vendor audit after: exit $rc: $(cat "$T/a1")"
grep -q "DEPOSIT logged at log index 0" "$T/a1" &&
    grep -q "INSPECTION of the deposit at log index 0: RECOVERY REQUESTED at log index 1 by court.test/judge-1 at .*: source inspection, case 2026-17" "$T/a1" ||
    fail "vendor audit: $(cat "$T/a1")"
rc=$(audit_rc "$T/a2" --authority "$AUTH" "$T/src.tar.age" "$T/file.age")
[ "$rc" = 3 ] && grep -q "src.tar.age: .*DEPOSIT logged at log index 0 .*this file matches the record's ciphertext SHA-256" "$T/a2" &&
    grep -q "src.tar.age: .*INSPECTION of the deposit at log index 0: RECOVERY REQUESTED at log index 1" "$T/a2" &&
    grep -q "file.age: .*no recovery recorded" "$T/a2" || fail "file audit: exit $rc: $(cat "$T/a2")"
rc=$(audit_rc "$T/a3" --authority "$AUTH" --vendor "$T/vendor.pub" --state "$T/vst")
[ "$rc" = 3 ] && grep -q "INSPECTION of the deposit" "$T/a3" || fail "re-audit: exit $rc: $(cat "$T/a3")"
ok "vendor audit (--vendor, and given the ciphertext) shows the deposit and the inspection (exit 3)"

# ---- hostile cases -----------------------------------------------------------
size0=$(tree_size)
# 1. A forged record: the version changed after signing.
sed 's/^version 1\.0$/version 1.1/' "$T/rec" >"$T/forged"
cmp -s "$T/rec" "$T/forged" && fail "forging changed nothing"
read -r st msg < <(post "$T/forged")
[ "$st" = 403 ] && [[ "$msg" == *signature_does_not_verify* ]] || fail "forged record: $st $msg"
ok "forged record (changed after signing) refused: $st ${msg//_/ }"
# 2. Re-signed by another key under the vendor's name and key line.
"$FAIRKEY" request keygen --name vendor.test/acme -o "$T/mallory.key" >/dev/null || fail "keygen"
sign "$T/rec.txt" "$T/mallory.key" "$T/other-key"
read -r st msg < <(post "$T/other-key")
[ "$st" = 403 ] && [[ "$msg" == *signature_does_not_verify* ]] || fail "other key: $st $msg"
ok "record signed by a key other than the one it names refused: $st"
# 3. Oversized: one byte past 4096.
python3 -c "
import sys
e = open('$T/rec', 'rb').read()
open('$T/big', 'wb').write(e + b'x' * (4097 - len(e)))"
read -r st msg < <(post "$T/big")
[ "$st" = 413 ] || fail "oversized record: $st $msg"
ok "oversized record (4097 bytes) refused: $st ${msg//_/ }"
# 4. A target whose E is another file's (a blinded or borrowed point): its
# validity proof fails under the authority; signed by the vendor.
python3 - "$T/rec.txt" "$T/file.age" "$T/swapped.txt" <<'PY'
import sys
t = open(sys.argv[1]).read().split('\n')
h = open(sys.argv[2], 'rb').read().split(b'\n')
e = [l for l in h if l.startswith(b'-> fairkey.dev/escrow/v2 ')][0].decode().split(' ')[3]
t = [('target ' + e + l[7 + 43:] if l.startswith('target ') else l) for l in t]
open(sys.argv[3], 'w').write('\n'.join(t))
PY
sign "$T/swapped.txt" "$T/vendor.key" "$T/swapped"
read -r st msg < <(post "$T/swapped")
[ "$st" = 400 ] && [[ "$msg" == *validity_proof* ]] || fail "bad target: $st $msg"
ok "record whose target is no valid escrow stanza of the authority refused: $st"
# 5. Replays: the same record again gets its first index (the tree does not
# grow); an old record (dated over a day ago) is refused.
read -r st idx < <(post "$T/rec")
[ "$st" = 200 ] && [ "$idx" = 0 ] || fail "replayed record: $st $idx"
sed "s/^time .*/time $(date -u -d '-2 days' +%Y-%m-%dT%H:%M:%SZ)/" "$T/rec.txt" >"$T/old.txt"
sign "$T/old.txt" "$T/vendor.key" "$T/old"
read -r st msg < <(post "$T/old")
[ "$st" = 403 ] && [[ "$msg" == *more_than_a_day_old* ]] || fail "stale record: $st $msg"
# The vendor's clock is a day behind (the time() shim; under ASan its runtime first).
PRELOAD=$TIME_SHIFT_LIB
ASAN_RT=$(ldd "$FAIRKEY" | sed -n 's/.*libasan[^ ]* => \([^ ]*\) .*/\1/p' | head -1)
[ -n "$ASAN_RT" ] && PRELOAD="$ASAN_RT:$PRELOAD"
rc=0
LD_PRELOAD="$PRELOAD" FK_TIME_SHIFT=-90000 "$FAIRKEY" deposit --authority "$AUTH" \
    --key "$T/vendor.key" -r "$VENDOR_R" --product acme --version 0.9 -o "$T/old.age" \
    "$T/src.tar" >"$T/old.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "more than a day old" "$T/old.out" && [ ! -e "$T/old.age" ] ||
    fail "backdated deposit: exit $rc: $(cat "$T/old.out")"
ok "an exact replay keeps its first index; a record over a day old is refused (403), and 'fairkey deposit' leaves no ciphertext"
# 6. A record for another authority (one whose file names this log, which
# does not serve it).
"$FAIRKEY" authority create --name other -t 1 -n 1 --log "$LOG_URL" --log-vkey "$LOG_VKEY" \
    -o "$T/auth2" >/dev/null || fail "authority 2"
rc=0
"$FAIRKEY" deposit --authority "$T/auth2/authority.pub" --key "$T/vendor.key" -r "$VENDOR_R" \
    --product acme --version 1.0 -o "$T/a2.age" "$T/src.tar" >"$T/a2dep.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "HTTP 403: the deposit record names an authority this log does not serve" \
    "$T/a2dep.out" && [ ! -e "$T/a2.age" ] || fail "other authority: exit $rc: $(cat "$T/a2dep.out")"
ok "record for another authority refused (403)"
[ "$(tree_size)" = "$size0" ] || fail "the tree grew from $size0 to $(tree_size)"
ok "the log holds none of the hostile records (tree size $size0)"

# 7. A ciphertext other than the deposited one: same header, other bytes.
cp "$T/src.tar.age" "$T/swapped.age" && printf 'x' >>"$T/swapped.age"
rc=0
"$FAIRKEY" deposit verify --authority "$AUTH" --receipt "$DEP_RECEIPT" \
    --ciphertext "$T/swapped.age" >"$T/v2.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "DOES NOT MATCH the logged SHA-256" "$T/v2.out" ||
    fail "other ciphertext: exit $rc: $(cat "$T/v2.out")"
rc=$(audit_rc "$T/a4" --authority "$AUTH" "$T/swapped.age")
[ "$rc" = 3 ] && grep -q "this file DOES NOT MATCH the record's ciphertext" "$T/a4" ||
    fail "audit of another ciphertext: exit $rc: $(cat "$T/a4")"
ok "a ciphertext whose hash is not the record's is refused by deposit verify and flagged by the audit"
# 8. An archive other than the deposited one (a vendor that logged one
# archive's hash and encrypted another is caught the same way).
cp "$T/inspected.tar" "$T/wrong.tar" && printf 'x' >>"$T/wrong.tar"
rc=0
"$FAIRKEY" deposit verify --authority "$AUTH" --receipt "$DEP_RECEIPT" \
    --archive "$T/wrong.tar" >"$T/v3.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "wrong.tar: DOES NOT MATCH" "$T/v3.out" || fail "wrong archive: exit $rc: $(cat "$T/v3.out")"
ok "an archive other than the logged one is refused (exit 1)"
# 9. A receipt whose record was altered, or checked against another authority.
python3 - "$DEP_RECEIPT" "$T/bad.receipt" <<'PY'
import sys, base64
r = open(sys.argv[1]).read().split('\n')
for k, l in enumerate(r):
    if l.startswith('extra '):
        n = base64.b64decode(l[6:]).replace(b'version 1.0\n', b'version 2.0\n')
        r[k] = 'extra ' + base64.b64encode(n).decode()
open(sys.argv[2], 'w').write('\n'.join(r))
PY
rc=0
"$FAIRKEY" deposit verify --authority "$AUTH" --receipt "$T/bad.receipt" >"$T/v4.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "signature does not verify" "$T/v4.out" || fail "altered receipt: exit $rc: $(cat "$T/v4.out")"
rc=0
"$FAIRKEY" deposit verify --authority "$T/auth2/authority.pub" --receipt "$DEP_RECEIPT" \
    >"$T/v5.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "for another authority" "$T/v5.out" || fail "other authority verify: exit $rc: $(cat "$T/v5.out")"
"$FAIRKEY" deposit verify --authority "$AUTH" --receipt "$DEP_RECEIPT" --vendor "$T/vendor.pub" \
    >"$T/v6.out" 2>&1 || fail "verify --vendor: $(cat "$T/v6.out")"
"$FAIRKEY" request public --key "$T/mallory.key" >"$T/mallory.pub" || fail "mallory public"
rc=0
"$FAIRKEY" deposit verify --authority "$AUTH" --receipt "$DEP_RECEIPT" --vendor "$T/mallory.pub" \
    >"$T/v7.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "not by the --vendor key given" "$T/v7.out" || fail "verify other vendor: exit $rc: $(cat "$T/v7.out")"
ok "deposit verify refuses an altered record, a record of another authority, and another vendor's key"
