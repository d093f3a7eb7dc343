#!/bin/bash
# age-plugin-fairkey spoken to directly: recipient-v1 and identity-v1 as the
# C2SP age-plugin spec defines them, with grease, errors and bad framing.
# The client's phase-2 answers ("-> ok") are queued on stdin in advance: the
# plugin reads them in order.  $1 is the escrow_forge helper.
set -euo pipefail
FORGE=$1
: "${FAIRKEY:?}" "${AGE_PLUGIN_FAIRKEY_DIR:?}"
PLUGIN=$AGE_PLUGIN_FAIRKEY_DIR/age-plugin-fairkey
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fail() { echo "FAIL: $*" >&2; exit 1; }
b64() { "$FORGE" b64hex "$1"; }
# The log every authority here names (none runs: these tests do not recover).
FK_TEST_LOG="--log https://log.example.com/ --log-vkey example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"

"$FAIRKEY" authority create $FK_TEST_LOG --threshold 2 --agents 3 --name plugin-test --out auth >create.txt 2>/dev/null
RCPT=$(sed -n 's/^recipient: //p' create.txt)
"$FAIRKEY" authority create $FK_TEST_LOG --threshold 1 --agents 1 --name plugin-two --out auth2 >create2.txt 2>/dev/null
RCPT2=$(sed -n 's/^recipient: //p' create2.txt)
K0=000102030405060708090a0b0c0d0e0f
K1=f0e1d2c3b4a5968778695a4b3c2d1e0f
OK=$'-> ok\n\n'

# ---- one recipient, one file key, grease and extension-labels ---------------
{
    printf -- '-> add-recipient %s\n\n' "$RCPT"
    printf -- '-> grease-7f3a 12 99\n%s\n' "$(b64 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123)"
    printf -- '-> wrap-file-key\n%s\n' "$(b64 $K0)"
    printf -- '-> extension-labels\n\n'
    printf -- '-> done\n\n'
    printf '%s' "$OK"
} >in1.txt
"$PLUGIN" --age-plugin=recipient-v1 <in1.txt >out1.txt || fail "recipient-v1 exited non-zero"
# Expected: exactly the library's stanza, prefixed by "recipient-stanza 0", then done.
{
    "$FORGE" stanza "$RCPT" $K0 | sed '1s/^-> /-> recipient-stanza 0 /'
    printf -- '-> done\n\n'
} >want1.txt
cmp -s want1.txt out1.txt || { diff want1.txt out1.txt; fail "plugin stanza differs from the library's"; }
grep -q '^-> recipient-stanza 0 fairkey.dev/escrow/v2 ' out1.txt || fail "stanza type"
! grep -q '^-> labels' out1.txt || fail "the plugin must not constrain labels"

# ---- two recipients, two file keys: four stanzas, each answered ok ----------
{
    printf -- '-> add-recipient %s\n\n' "$RCPT"
    printf -- '-> wrap-file-key\n%s\n' "$(b64 $K0)"
    printf -- '-> add-recipient %s\n\n' "$RCPT2"
    printf -- '-> wrap-file-key\n%s\n' "$(b64 $K1)"
    printf -- '-> done\n\n'
    printf '%s%s%s%s' "$OK" "$OK" "$OK" "$OK"
} >in2.txt
"$PLUGIN" --age-plugin=recipient-v1 <in2.txt >out2.txt || fail "two recipients"
{
    "$FORGE" stanza "$RCPT" $K0 | sed '1s/^-> /-> recipient-stanza 0 /'
    "$FORGE" stanza "$RCPT2" $K0 | sed '1s/^-> /-> recipient-stanza 0 /'
    "$FORGE" stanza "$RCPT" $K1 | sed '1s/^-> /-> recipient-stanza 1 /'
    "$FORGE" stanza "$RCPT2" $K1 | sed '1s/^-> /-> recipient-stanza 1 /'
    printf -- '-> done\n\n'
} >want2.txt
cmp -s want2.txt out2.txt || { diff want2.txt out2.txt; fail "two-by-two stanzas"; }

# ---- errors: no stanza is sent when one recipient cannot be wrapped to -------
BAD=$("$FORGE" bad-recipient)
{
    printf -- '-> add-recipient %s\n\n' "$RCPT"
    printf -- '-> add-recipient %s\n\n' "$BAD"
    printf -- '-> wrap-file-key\n%s\n' "$(b64 $K0)"
    printf -- '-> done\n\n'
    printf '%s' "$OK"
} >in3.txt
set +e; "$PLUGIN" --age-plugin=recipient-v1 <in3.txt >out3.txt 2>/dev/null; rc=$?; set -e
[ $rc != 0 ] || fail "a bad recipient must fail"
grep -q '^-> error recipient 1$' out3.txt || { cat out3.txt; fail "no 'error recipient 1'"; }
! grep -q 'recipient-stanza' out3.txt || fail "a stanza was sent despite an error"
[ "$(sed -n 2p out3.txt | wc -c)" -gt 20 ] || fail "the error carries no message"

# A file key of the wrong length.
{
    printf -- '-> add-recipient %s\n\n' "$RCPT"
    printf -- '-> wrap-file-key\n%s\n' "$(b64 000102030405060708090a0b0c0d0e)"
    printf -- '-> done\n\n'
    printf '%s' "$OK"
} >in4.txt
set +e; "$PLUGIN" --age-plugin=recipient-v1 <in4.txt >out4.txt 2>/dev/null; rc=$?; set -e
[ $rc != 0 ] && grep -q '^-> error internal$' out4.txt || { cat out4.txt; fail "15-byte file key"; }
! grep -q 'recipient-stanza' out4.txt || fail "a stanza was sent for a bad file key"

# An identity: the plugin has none.
{
    printf -- '-> add-identity AGE-PLUGIN-FAIRKEY-1QQQQQQ\n\n'
    printf -- '-> wrap-file-key\n%s\n' "$(b64 $K0)"
    printf -- '-> done\n\n'
    printf '%s' "$OK"
} >in5.txt
set +e; "$PLUGIN" --age-plugin=recipient-v1 <in5.txt >out5.txt 2>/dev/null; rc=$?; set -e
[ $rc != 0 ] && grep -q '^-> error identity 0$' out5.txt || { cat out5.txt; fail "add-identity"; }

# The client hangs up after the first error (as Go age does): no crash.
{
    printf -- '-> add-recipient %s\n\n' "$BAD"
    printf -- '-> wrap-file-key\n%s\n' "$(b64 $K0)"
    printf -- '-> done\n\n'
} >in6.txt
set +e; "$PLUGIN" --age-plugin=recipient-v1 <in6.txt >out6.txt 2>/dev/null; rc=$?; set -e
[ $rc = 1 ] || fail "hang-up after error: exit $rc"

# Malformed framing in phase 1 and an answer other than ok in phase 2.
printf -- '-> add-recipient  %s\n\n-> done\n\n' "$RCPT" >in7.txt
set +e; "$PLUGIN" --age-plugin=recipient-v1 <in7.txt >out7.txt 2>/dev/null; rc=$?; set -e
[ $rc = 1 ] && [ ! -s out7.txt ] || fail "malformed framing"
{
    printf -- '-> add-recipient %s\n\n' "$RCPT"
    printf -- '-> wrap-file-key\n%s\n' "$(b64 $K0)"
    printf -- '-> done\n\n'
    printf -- '-> unsupported\n\n'
} >in8.txt
set +e; "$PLUGIN" --age-plugin=recipient-v1 <in8.txt >out8.txt 2>/dev/null; rc=$?; set -e
[ $rc = 1 ] || fail "a non-ok answer to recipient-stanza must fail"

# ---- PLUGIN_MAX_ITEMS (4096): recipients, and file keys, per session ---------
# 4096 of each are wrapped; one more of either is an error and no stanza.
KB=$(b64 $K0)
limit_input() { # $1 recipients, $2 file keys, $3 ok answers
    { for ((i = 0; i < $1; i++)); do printf -- '-> add-recipient %s\n\n' "$RCPT"; done
      for ((i = 0; i < $2; i++)); do printf -- '-> wrap-file-key\n%s\n' "$KB"; done
      printf -- '-> done\n\n'
      for ((i = 0; i < $3; i++)); do printf '%s' "$OK"; done; }
}
limit_input 4096 1 4096 >inA.txt
"$PLUGIN" --age-plugin=recipient-v1 <inA.txt >outA.txt || fail "4096 recipients refused"
[ "$(grep -c '^-> recipient-stanza 0 ' outA.txt)" = 4096 ] || fail "4096 recipients: stanza count"
limit_input 4097 1 1 >inB.txt
set +e; "$PLUGIN" --age-plugin=recipient-v1 <inB.txt >outB.txt 2>/dev/null; rc=$?; set -e
[ $rc = 1 ] && grep -q '^-> error internal$' outB.txt || fail "4097 recipients accepted"
! grep -q 'recipient-stanza' outB.txt || fail "4097 recipients: a stanza was sent"
limit_input 1 4096 4096 >inC.txt
"$PLUGIN" --age-plugin=recipient-v1 <inC.txt >outC.txt || fail "4096 file keys refused"
[ "$(grep -c '^-> recipient-stanza 4095 ' outC.txt)" = 1 ] || fail "4096 file keys: last index"
limit_input 1 4097 1 >inD.txt
set +e; "$PLUGIN" --age-plugin=recipient-v1 <inD.txt >outD.txt 2>/dev/null; rc=$?; set -e
[ $rc = 1 ] && grep -q '^-> error internal$' outD.txt || fail "4097 file keys accepted"

# ---- identity-v1: no identities, never a file key --------------------------
"$FORGE" stanza "$RCPT" $K0 | sed '1s/^-> /-> recipient-stanza 0 /' >st.txt
{
    printf -- '-> add-identity AGE-PLUGIN-FAIRKEY-1QQQQQQ\n\n'
    printf -- '-> grease-1 2\n\n'
    cat st.txt
    printf -- '-> done\n\n'
    printf '%s' "$OK"
} >in9.txt
"$PLUGIN" --age-plugin=identity-v1 <in9.txt >out9.txt || fail "identity-v1"
grep -q '^-> error identity 0$' out9.txt || fail "identity-v1: no error for the identity"
! grep -q '^-> file-key' out9.txt || fail "identity-v1 sent a file key"
tail -n 2 out9.txt | head -n 1 | grep -qx -- '-> done' || fail "identity-v1 did not end with done"

# ---- program arguments --------------------------------------------------------
set +e
"$PLUGIN" --age-plugin=recipient-v2 </dev/null >/dev/null 2>err.txt; rc=$?
set -e
[ $rc != 0 ] && grep -q 'unknown state machine' err.txt || fail "unknown state machine accepted"
"$PLUGIN" --version | grep -q '^age-plugin-fairkey ' || fail "--version"
set +e; "$PLUGIN" >/dev/null 2>&1; rc=$?; set -e
[ $rc = 2 ] || fail "no arguments: exit $rc"
echo "plugin_protocol: all checks passed"
