#!/bin/bash
# Interop: Debian's stock /usr/bin/age finds age-plugin-fairkey on PATH from
# the "age1fairkey1..." recipient and writes an escrow stanza that fairkey
# verifies byte for byte and recovers from; stock age still decrypts the file
# with its X25519 identity, ignoring the unknown stanza.
set -euo pipefail
FORGE=$1
: "${FAIRKEY:?}" "${AGE_PLUGIN_FAIRKEY_DIR:?}"
AGE=/usr/bin/age
if [ ! -x "$AGE" ]; then
    echo "SKIP: $AGE is not installed (apt-get install age)"
    exit 77
fi
[ -x "$AGE_PLUGIN_FAIRKEY_DIR/age-plugin-fairkey" ] || { echo "FAIL: plugin not built" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
export PATH="$AGE_PLUGIN_FAIRKEY_DIR:$PATH"
# The log every authority here names (none runs: these tests do not recover).
FK_TEST_LOG="--log https://log.example.com/ --log-vkey example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"

"$FAIRKEY" authority create $FK_TEST_LOG --threshold 3 --agents 5 --name interop --out auth >create.txt 2>/dev/null
RCPT=$(sed -n 's/^recipient: //p' create.txt)
if [ -x /usr/bin/age-keygen ]; then
    /usr/bin/age-keygen -o id.txt 2>/dev/null
else
    "$FAIRKEY" keygen -o id.txt 2>/dev/null
fi
X=$(sed -n 's/^# public key: //p' id.txt)
head -c 300000 /dev/urandom >plain.bin

for armor in "" "-a"; do
    rm -f f.age dec.bin dec2.bin rec.bin
    "$AGE" -e $armor -r "$RCPT" -r "$X" -o f.age plain.bin 2>err.txt || { cat err.txt; fail "age with the plugin ($armor)"; }
    "$FAIRKEY" inspect f.age >inspect.txt
    grep -q "escrow to authority $RCPT" inspect.txt || { cat inspect.txt; fail "no escrow stanza in age's file ($armor)"; }
    # fairkey recomputes the stanza from the file key and requires it
    "$FAIRKEY" decrypt -i id.txt --require-escrow "$RCPT" -o dec.bin f.age 2>err.txt \
        || { cat err.txt; fail "fairkey refused age's escrow stanza ($armor)"; }
    [ ! -s err.txt ] || { cat err.txt; fail "warnings on a valid file ($armor)"; }
    cmp -s plain.bin dec.bin || fail "fairkey plaintext differs ($armor)"
    # threshold recovery from any 3 shares
    "$FAIRKEY" authority recover-local --authority auth/authority.pub --share auth/share-2.key \
        --share auth/share-5.key --share auth/share-3.key -o rec.bin f.age || fail "recover-local ($armor)"
    cmp -s plain.bin rec.bin || fail "recovered plaintext differs ($armor)"
    # stock age decrypts it, skipping the stanza it does not know
    "$AGE" -d -i id.txt -o dec2.bin f.age || fail "stock age cannot decrypt ($armor)"
    cmp -s plain.bin dec2.bin || fail "age plaintext differs ($armor)"
done

# The escrow recipient alone: only recovery opens the file.
"$AGE" -r "$RCPT" -o only.age plain.bin
"$FAIRKEY" authority recover-local --authority auth/authority.pub --share auth/share-1.key \
    --share auth/share-2.key --share auth/share-4.key only.age | cmp -s plain.bin - || fail "escrow-only file"

# The plugin's errors reach the age user, and no file is written.
BAD=$("$FORGE" bad-recipient)
set +e; "$AGE" -r "$BAD" -r "$X" -o never.age plain.bin 2>err.txt; rc=$?; set -e
[ $rc != 0 ] || fail "age accepted a malformed authority recipient"
[ ! -s never.age ] || fail "age wrote a file for a malformed recipient"
grep -q 'fairkey' err.txt || { cat err.txt; fail "age did not show the plugin's error"; }
# Without the plugin on PATH, age cannot use the recipient at all.
set +e; PATH=/usr/bin:/bin "$AGE" -r "$RCPT" -o never.age plain.bin 2>/dev/null; rc=$?; set -e
[ $rc != 0 ] || fail "age worked without the plugin on PATH"
echo "plugin_age: all checks passed"
