#!/bin/bash
# fairkey as an age plugin client (C2SP age-plugin): recipient-v1 and
# identity-v1 against the suite's test plugin (tests/cli/age-plugin-fktest),
# both ways with Debian's age driving the same plugin when it is installed;
# -j, encrypt -i with a plugin identity, the interactive requests (msg,
# request-secret, confirm, through script(1)), plugin errors, a plugin not on
# PATH, PATH's relative folders not searched, post-quantum recipients.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
if ! command -v python3 >/dev/null 2>&1; then
    echo "skipped: python3 runs the test plugin"
    exit 77
fi
AGE=${AGE:-/usr/bin/age}
cd "$T" || exit 1
mkdir bin
cp "$HERE/age-plugin-fktest" bin/
chmod +x bin/age-plugin-fktest
export PATH="$T/bin:$PATH"
FKTEST_GENERATE=1 age-plugin-fktest >gen
sed -n 1p gen >ident
R=$(sed -n 2p gen)
FKTEST_GENERATE=1 age-plugin-fktest >gen2
sed -n 1p gen2 >ident2
head -c 70000 /dev/urandom >p
"$FAIRKEY" keygen -o x 2>/dev/null
xr=$(sed -n 's/^# public key: //p' x)

dec() { # <identity args...>: decrypt ct to pt and compare
    rm -f pt
    "$FAIRKEY" decrypt "$@" -o pt ct && cmp -s p pt
}
check "fairkey -r age1fktest1 -> fairkey -i ident" \
    sh -c '"$1" encrypt -r "$2" -o ct p && grep -aq "^-> fktest " ct' _ "$FAIRKEY" "$R"
check "  and decrypts with the plugin identity" dec -i ident
check "fairkey -r age1fktest1 -r age1 (mixed) -> -i x" \
    sh -c '"$1" encrypt -r "$2" -r "$3" -o ct p' _ "$FAIRKEY" "$R" "$xr"
check "  the X25519 identity" dec -i x
check "  the plugin identity" dec -i ident
check "fairkey -j fktest -> fairkey -j fktest" \
    sh -c '"$1" encrypt -j fktest -o ct p && "$1" decrypt -j fktest -o pt ct && cmp -s p pt' _ "$FAIRKEY"
check "fairkey -e -i ident (the identity's recipient) -> -i ident" \
    sh -c '"$1" encrypt -i ident -o ct p && "$1" decrypt -i ident -o pt ct && cmp -s p pt' _ "$FAIRKEY"
printf '# mixed\n%s\n%s\n' "$(cat ident2)" "$(grep AGE-SECRET x)" >mixed
"$FAIRKEY" encrypt -r "$R" -o ct p
expect_fail "another plugin key: no match" 1 'no identity matched' \
    "$FAIRKEY" decrypt -i ident2 -o pt ct
expect_fail "identity file of plugin and native lines, none matching" 1 'no identity matched' \
    "$FAIRKEY" decrypt -i mixed -o pt ct

# Debian's age drives the same plugin: files cross both ways.
if [ -x "$AGE" ]; then
    check "age -r age1fktest1 -> fairkey -i ident" \
        sh -c '"$1" -r "$2" -o ct p && "$3" decrypt -i ident -o pt ct && cmp -s p pt' _ "$AGE" "$R" "$FAIRKEY"
    check "fairkey -r age1fktest1 -> age -d -i ident" \
        sh -c '"$1" encrypt -r "$2" -o ct p && "$3" -d -i ident -o pt ct && cmp -s p pt' _ "$FAIRKEY" "$R" "$AGE"
    check "age -j fktest -> fairkey -j fktest" \
        sh -c '"$1" -e -j fktest -o ct p && "$2" decrypt -j fktest -o pt ct && cmp -s p pt' _ "$AGE" "$FAIRKEY"
    check "fairkey -j fktest -> age -d -j fktest" \
        sh -c '"$1" encrypt -j fktest -o ct p && "$2" -d -j fktest -o pt ct && cmp -s p pt' _ "$FAIRKEY" "$AGE"
fi

# Interaction: a message goes to stderr; a PIN and a confirmation are asked
# on the terminal (script(1) gives one), and without a terminal the plugin
# is told "fail".
"$FAIRKEY" encrypt -r "$R" -o ct p
check "msg: shown on stderr" sh -c 'FKTEST_MSG="touch the key" "$1" decrypt -i ident -o pt ct 2>err &&
    grep -q "^fairkey: age-plugin-fktest: touch the key$" err && cmp -s p pt' _ "$FAIRKEY"
expect_fail "request-secret without a terminal: the plugin gives up" 1 'no identity matched' \
    env FKTEST_PIN=1234 setsid "$FAIRKEY" decrypt -i ident -o pt ct
if command -v script >/dev/null 2>&1; then
    rm -f pt
    (sleep 1; printf '1234\n'; sleep 4) | FKTEST_PIN=1234 timeout 60 script -qec \
        "\"$FAIRKEY\" decrypt -i ident -o pt ct" /dev/null >tty.out 2>&1
    check "request-secret: the PIN typed on the terminal" cmp -s p pt
    check "  with the plugin's prompt" grep -q 'age-plugin-fktest: PIN for fktest' tty.out
    rm -f pt
    (sleep 1; printf '4321\n'; sleep 4) | FKTEST_PIN=1234 timeout 60 script -qec \
        "\"$FAIRKEY\" decrypt -i ident -o pt ct" /dev/null >/dev/null 2>&1
    check "request-secret: a wrong PIN decrypts nothing" test ! -e pt
    rm -f pt
    (sleep 1; printf 'yes\n'; sleep 4) | FKTEST_CONFIRM=1 timeout 60 script -qec \
        "\"$FAIRKEY\" decrypt -i ident -o pt ct" /dev/null >tty.out 2>&1
    check "confirm: yes" cmp -s p pt
    check "  the question shows both choices" grep -q 'Use the fktest key? \[yes/no\]' tty.out
    rm -f pt
    (sleep 1; printf 'no\n'; sleep 4) | FKTEST_CONFIRM=1 timeout 60 script -qec \
        "\"$FAIRKEY\" decrypt -i ident -o pt ct" /dev/null >/dev/null 2>&1
    check "confirm: no decrypts nothing" test ! -e pt
fi

# fairkey's own plugin, driven by fairkey's client: it has no identities, and
# says so in both state machines; fairkey shows its message.
if [ -x "${AGE_PLUGIN_FAIRKEY_DIR:-}/age-plugin-fairkey" ]; then
    mkdir fkbin && ln -s "$AGE_PLUGIN_FAIRKEY_DIR/age-plugin-fairkey" fkbin/
    expect_fail "age-plugin-fairkey, recipient-v1 (-j fairkey): its error shown" 1 \
        'age-plugin-fairkey \(identity 0\): age-plugin-fairkey has no identities' \
        env PATH="$T/fkbin:$PATH" "$FAIRKEY" encrypt -j fairkey -o ct2 p
    expect_fail "age-plugin-fairkey, identity-v1 (-j fairkey): its error shown" 1 \
        'age-plugin-fairkey \(identity 0\): age-plugin-fairkey has no identities' \
        env PATH="$T/fkbin:$PATH" "$FAIRKEY" decrypt -j fairkey -o pt ct
fi

# Failures, one line each.
expect_fail "plugin error on encrypt: its message, no output" 1 'age-plugin-fktest \(internal\): the token is unplugged' \
    env FKTEST_FAIL='the token is unplugged' "$FAIRKEY" encrypt -r "$R" -o ct2 p
check "  and no output file" test ! -e ct2
expect_fail "plugin error on decrypt: its message" 1 'age-plugin-fktest \(internal\): the token is unplugged' \
    env FKTEST_FAIL='the token is unplugged' "$FAIRKEY" decrypt -i ident -o pt ct
sed 's/^-> fktest \(.*\) \(.*\)$/-> fktest \1/' ct >bad
expect_fail "malformed plugin stanza: the plugin's stanza error" 1 'age-plugin-fktest \(stanza 0 0\): malformed fktest stanza' \
    "$FAIRKEY" decrypt -i ident -o pt bad
expect_fail "a plugin not on PATH" 1 'age-plugin-nosuch is not on PATH' \
    "$FAIRKEY" encrypt -j nosuch -o ct2 p
mkdir rel && cp bin/age-plugin-fktest rel/age-plugin-fkrel
expect_fail "PATH's relative folders are not searched" 1 'age-plugin-fkrel is not on PATH' \
    sh -c 'cd rel && PATH=".:$PATH" "$1" encrypt -j fkrel -o ../ct2 ../p' _ "$FAIRKEY"
expect_fail "-j with a name that is not one" 1 'a plugin name has only letters' \
    "$FAIRKEY" encrypt -j 'a/b' -o ct2 p
expect_fail "a plugin recipient with a bad checksum" 1 'not a valid recipient' \
    "$FAIRKEY" encrypt -r "${R%?}q" -o ct2 p
expect_fail "post-quantum recipients: ML-KEM is missing" 1 'post-quantum recipients need ML-KEM, which this build.s OpenSSL lacks' \
    "$FAIRKEY" encrypt -r age1pq1x34nzsvr0rxjsgdn8zgyhfe8j7ceq5r9rdelkjuh3y235jzxshfg87pzf5 -o ct2 p
finish
