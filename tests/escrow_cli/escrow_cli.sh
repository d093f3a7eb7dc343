#!/bin/bash
# Black-box tests of `fairkey authority` and of escrow in encrypt, decrypt and
# inspect.  $1 is the escrow_forge helper (a sender that forges escrow
# stanzas and re-MACs the header with the file key).
set -euo pipefail
FORGE=$1
: "${FAIRKEY:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
# The log every authority here names (none runs: these tests do not recover).
FK_TEST_LOG="--log https://log.example.com/ --log-vkey example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_fail CODE CMD...: the command must exit with CODE and print one
# "fairkey: " line on stderr, which is kept in $T/err.
expect_fail() {
    local want=$1; shift
    set +e; "$@" >out.txt 2>err.txt; local got=$?; set -e
    [ "$got" = "$want" ] || { cat err.txt >&2; fail "'$*' exited $got, expected $want"; }
    grep -qE '^(fairkey:|usage: fairkey) ' err.txt || fail "'$*' printed no 'fairkey:' or usage line"
}
mode_of() { stat -c %a "$1"; }
# tamper IN OUT PREFIX: change the first character after PREFIX on the line
# that starts with PREFIX (to B, or C if it was B).
tamper() {
    local line c n
    while IFS= read -r line; do
        if [[ $line == "$3"* ]]; then
            c=${line:${#3}:1}; n=B; [ "$c" = B ] && n=C
            line="$3$n${line:$((${#3} + 1))}"
        fi
        printf '%s\n' "$line"
    done <"$1" >"$2"
}

# ---- authority create ------------------------------------------------------
"$FAIRKEY" authority create $FK_TEST_LOG --threshold 3 --agents 5 --name test-authority --out auth >create.txt 2>create.err
grep -q '^threshold: 3-of-5$' create.txt || fail "create did not print the threshold"
RCPT=$(sed -n 's/^recipient: //p' create.txt)
ID=$(sed -n 's/^id: //p' create.txt)
[[ $RCPT == age1fairkey1* ]] || fail "create printed no age1fairkey1 recipient"
[[ $ID =~ ^[0-9a-f]{64}$ ]] || fail "create printed no hex id"
[ -f auth/authority.pub ] || fail "no authority.pub"
for i in 1 2 3 4 5; do
    [ "$(mode_of auth/share-$i.key)" = 600 ] || fail "share-$i.key is not mode 0600"
done
[ ! -e auth/share-6.key ] || fail "a sixth share exists"
[ "$(mode_of auth)" = 700 ] || fail "the new folder is not 0700"
# Success is not an error: the note on stderr names the files and has no
# "fairkey:" prefix (that marks error and warning lines).
grep -q '^Wrote auth/authority.pub and share-1.key..share-5.key (mode 0600)' create.err \
    || fail "create did not name the files it wrote on stderr"
! grep -q '^fairkey:' create.err || fail "create's success note looks like an error line"
# No overwrite: a second ceremony into the same folder fails and keeps the first.
cp auth/share-1.key share1.bak
expect_fail 1 "$FAIRKEY" authority create $FK_TEST_LOG --threshold 2 --agents 3 --name other --out auth
cmp -s auth/share-1.key share1.bak || fail "an existing share was overwritten"
# Usage errors.
expect_fail 2 "$FAIRKEY" authority create $FK_TEST_LOG --threshold 4 --agents 3 --name x --out bad1
expect_fail 2 "$FAIRKEY" authority create $FK_TEST_LOG --threshold 0 --agents 3 --name x --out bad1
expect_fail 2 "$FAIRKEY" authority create $FK_TEST_LOG --threshold 1 --agents 256 --name x --out bad1
expect_fail 2 "$FAIRKEY" authority create $FK_TEST_LOG --threshold 1 --agents 2 --name 'bad name' --out bad1
expect_fail 2 "$FAIRKEY" authority create $FK_TEST_LOG --threshold 1 --agents 2 --name "$(printf 'a%.0s' {1..65})" --out bad1
expect_fail 2 "$FAIRKEY" authority create --threshold 1 --agents 2 --out bad1
expect_fail 2 "$FAIRKEY" authority frobnicate
[ ! -e bad1 ] || fail "a failed create left a folder"
# The limits themselves are accepted: 255 agents, a 64-character name.
"$FAIRKEY" authority create $FK_TEST_LOG --threshold 2 --agents 255 --name "$(printf 'a%.0s' {1..64})" --out big >/dev/null 2>&1 \
    || fail "255 agents / 64-char name refused"
[ -f big/share-255.key ] || fail "no share-255.key"
"$FAIRKEY" authority create $FK_TEST_LOG --threshold 2 --agents 3 --name other --out other >/dev/null 2>&1

# ---- authority show --------------------------------------------------------
"$FAIRKEY" authority show auth/authority.pub >show.txt
grep -qx 'name: test-authority' show.txt || fail "show: name"
grep -qx 'threshold: 3-of-5' show.txt || fail "show: threshold"
grep -qx "id: $ID" show.txt || fail "show: id differs from create's"
grep -qx "recipient: $RCPT" show.txt || fail "show: recipient differs from create's"
[ "$(grep -c '^commitment ' show.txt)" = 3 ] || fail "show: 3 commitments expected"
[ "$(grep -c '^share key ' show.txt)" = 5 ] || fail "show: 5 share keys expected"
[ "$("$FAIRKEY" authority show --recipient auth/authority.pub)" = "$RCPT" ] || fail "show --recipient"
# A tampered authority file is refused (one commitment character changed).
tamper auth/authority.pub tampered.pub 'commitment 1 '
expect_fail 1 "$FAIRKEY" authority show tampered.pub
expect_fail 1 "$FAIRKEY" authority show auth/share-1.key

# ---- authority verify-share ------------------------------------------------
for i in 1 2 3 4 5; do
    "$FAIRKEY" authority verify-share --authority auth/authority.pub auth/share-$i.key >v.txt \
        || fail "share $i does not verify"
    grep -q "share $i of authority test-authority" v.txt || fail "verify-share output"
done
expect_fail 1 "$FAIRKEY" authority verify-share --authority other/authority.pub auth/share-1.key
# A share whose secret was altered (still well-formed: the first base64
# character holds bits of the lowest byte of the little-endian scalar, so it
# stays canonical) is refused, and so is a share relabelled with another index.
(umask 077
 tamper auth/share-2.key tampered.key 'secret '
 sed 's/^index 2$/index 3/' auth/share-2.key >relabelled.key)
cmp -s auth/share-2.key tampered.key && fail "tamper did nothing"
cmp -s auth/share-2.key relabelled.key && fail "relabel did nothing"
expect_fail 1 "$FAIRKEY" authority verify-share --authority auth/authority.pub tampered.key
grep -q 'tampered.key' err.txt || fail "verify-share error does not name the share file"
grep -q 'does not match' err.txt || { cat err.txt; fail "tampered share: not refused by the commitments"; }
expect_fail 1 "$FAIRKEY" authority verify-share --authority auth/authority.pub relabelled.key
grep -q 'does not match' err.txt || { cat err.txt; fail "relabelled share: not refused by the commitments"; }
# Share files are secrets: a symbolic link to one is not followed.
ln -s auth/share-1.key link.key
expect_fail 1 "$FAIRKEY" authority verify-share --authority auth/authority.pub link.key

# ---- encrypt with escrow, decrypt verifies ----------------------------------
"$FAIRKEY" keygen -o id.txt 2>/dev/null
X=$(sed -n 's/^# public key: //p' id.txt)
[[ $X == age1* ]] || fail "keygen printed no recipient"
head -c 200000 /dev/urandom >plain.bin
"$FAIRKEY" encrypt -r "$RCPT" -r "$X" -o esc.age plain.bin
"$FAIRKEY" inspect esc.age >inspect.txt
grep -q "escrow to authority $RCPT, E .*, body 96 bytes, validity proof ok" inspect.txt || { cat inspect.txt; fail "inspect does not list the authority"; }
"$FAIRKEY" decrypt -i id.txt -o dec.bin esc.age 2>err.txt || { cat err.txt; fail "decrypt of an escrowed file"; }
cmp -s plain.bin dec.bin || fail "decrypted plaintext differs"
[ ! -s err.txt ] || { cat err.txt; fail "a verified file printed warnings"; }
"$FAIRKEY" decrypt -i id.txt --require-escrow "$RCPT" -o dec2.bin esc.age || fail "--require-escrow on a good file"
cmp -s plain.bin dec2.bin || fail "plaintext differs (require-escrow)"
# Armored output carries the stanza too.
"$FAIRKEY" encrypt -a -r "$X" -r "$RCPT" -o esc.asc plain.bin
"$FAIRKEY" decrypt -i id.txt --require-escrow "$RCPT" -o dec3.bin esc.asc || fail "armored escrowed file"
cmp -s plain.bin dec3.bin || fail "plaintext differs (armor)"
# A malformed authority recipient is refused at encryption.
expect_fail 1 "$FAIRKEY" encrypt -r "$("$FORGE" bad-recipient)" -r "$X" -o never.age plain.bin
[ ! -e never.age ] || fail "an output was left after a refused recipient"
expect_fail 1 "$FAIRKEY" decrypt -i id.txt --require-escrow "$X" -o never.bin esc.age
[ ! -e never.bin ] || fail "an output was left after a bad --require-escrow"

# ---- forged escrow stanzas: refused by the recipient ------------------------
for mode in other-key swap-e flip-body; do
    "$FORGE" $mode id.txt esc.age forged-$mode.age
    expect_fail 1 "$FAIRKEY" decrypt -i id.txt -o never.bin forged-$mode.age
    grep -q 'does not recompute' err.txt || { cat err.txt; fail "$mode: no escrow explanation"; }
    [ "$(wc -l <err.txt)" = 1 ] || { cat err.txt; fail "$mode: error is not one line"; }
    [ ! -e never.bin ] || fail "$mode: plaintext released for a forged stanza"
    [ ! -s out.txt ] || fail "$mode: plaintext on stdout for a forged stanza"
    # --escrow-warn-only decrypts with a warning
    "$FAIRKEY" decrypt -i id.txt --escrow-warn-only -o warn.bin forged-$mode.age 2>err.txt \
        || { cat err.txt; fail "$mode: --escrow-warn-only refused"; }
    grep -q '^fairkey: warning: .*does not recompute' err.txt || { cat err.txt; fail "$mode: no warning"; }
    cmp -s plain.bin warn.bin || fail "$mode: warn-only plaintext differs"
    rm -f warn.bin
    # inspect checks the validity proof without a key: a stanza for another
    # file key is a valid stanza (only the file key shows it is not this
    # file's); a swapped E or a flipped body bit is not.
    "$FAIRKEY" inspect forged-$mode.age >inspect-$mode.txt || fail "$mode: inspect"
    want=INVALID; [ $mode = other-key ] && want=ok
    grep -q "validity proof $want\$" inspect-$mode.txt || { cat inspect-$mode.txt; fail "$mode: inspect proof"; }
done
# The forged file's header MAC is valid: stock age opens it (it ignores the
# stanza), which shows that only the escrow check stops it.
if [ -x /usr/bin/age ]; then
    /usr/bin/age -d -i id.txt forged-other-key.age | cmp -s plain.bin - || fail "forgery helper broke the MAC"
fi

# ---- a sender that drops escrow ---------------------------------------------
"$FORGE" strip id.txt esc.age stripped.age
! grep -q fairkey.dev/escrow stripped.age || fail "strip left the stanza"
"$FAIRKEY" decrypt -i id.txt -o plain-ok.bin stripped.age || fail "a file without escrow must decrypt by default"
cmp -s plain.bin plain-ok.bin || fail "stripped plaintext differs"
expect_fail 1 "$FAIRKEY" decrypt -i id.txt --require-escrow "$RCPT" -o never.bin stripped.age
grep -q 'no escrow stanza' err.txt || { cat err.txt; fail "require-escrow: no explanation"; }
[ ! -e never.bin ] || fail "require-escrow released plaintext"
"$FAIRKEY" encrypt -r "$X" -o plain.age plain.bin
expect_fail 1 "$FAIRKEY" decrypt -i id.txt --require-escrow "$RCPT" -o never.bin plain.age
[ ! -e never.bin ] || fail "require-escrow released plaintext"
# Escrowed to another authority: the one required is still missing.
OTHER=$("$FAIRKEY" authority show --recipient other/authority.pub)
"$FAIRKEY" encrypt -r "$X" -r "$OTHER" -o other.age plain.bin
expect_fail 1 "$FAIRKEY" decrypt -i id.txt --require-escrow "$RCPT" -o never.bin other.age
"$FAIRKEY" decrypt -i id.txt --require-escrow "$RCPT" --escrow-warn-only -o warn.bin other.age 2>err.txt \
    || fail "warn-only with a missing authority"
grep -q '^fairkey: warning: ' err.txt || fail "no warning for a missing required authority"
# Two required authorities, both present.
"$FAIRKEY" encrypt -r "$X" -r "$OTHER" -r "$RCPT" -o both.age plain.bin
"$FAIRKEY" decrypt -i id.txt --require-escrow "$RCPT" --require-escrow "$OTHER" -o both.bin both.age \
    || fail "two required authorities"

# ---- recover-local: every 3-subset of a 3-of-5 authority --------------------
"$FAIRKEY" encrypt -r "$RCPT" -o only-escrow.age plain.bin
n=0
for a in 1 2 3 4 5; do for b in 1 2 3 4 5; do for c in 1 2 3 4 5; do
    [ $a -lt $b ] && [ $b -lt $c ] || continue
    rm -f rec.bin
    "$FAIRKEY" authority recover-local --authority auth/authority.pub --share auth/share-$a.key \
        --share auth/share-$b.key --share auth/share-$c.key -o rec.bin only-escrow.age \
        || fail "shares $a $b $c did not recover"
    cmp -s plain.bin rec.bin || fail "shares $a $b $c recovered wrong plaintext"
    n=$((n + 1))
done; done; done
[ $n = 10 ] || fail "expected 10 subsets, ran $n"
# More than t shares is fine too; to stdout as well.
"$FAIRKEY" authority recover-local --authority auth/authority.pub --share auth/share-5.key --share auth/share-4.key \
    --share auth/share-3.key --share auth/share-2.key esc.age | cmp -s plain.bin - || fail "4 shares to stdout"
# Two shares: a clear error and no output file.
expect_fail 1 "$FAIRKEY" authority recover-local --authority auth/authority.pub --share auth/share-1.key \
    --share auth/share-2.key -o rec2.bin only-escrow.age
grep -q 'needs 3 shares' err.txt || { cat err.txt; fail "2 shares: unclear error"; }
[ ! -e rec2.bin ] || fail "2 shares left an output file"
ls -a | grep -q '^\.rec2' && fail "2 shares left a temporary file"
# The same share twice does not count twice.
expect_fail 1 "$FAIRKEY" authority recover-local --authority auth/authority.pub --share auth/share-1.key \
    --share auth/share-1.key --share auth/share-2.key -o rec2.bin only-escrow.age
[ ! -e rec2.bin ] || fail "duplicate shares left an output file"
# Shares of another authority, a tampered share, a file without escrow.
expect_fail 1 "$FAIRKEY" authority recover-local --authority auth/authority.pub --share other/share-1.key \
    --share auth/share-1.key --share auth/share-2.key -o rec2.bin only-escrow.age
expect_fail 1 "$FAIRKEY" authority recover-local --authority auth/authority.pub --share tampered.key \
    --share auth/share-1.key --share auth/share-3.key -o rec2.bin only-escrow.age
expect_fail 1 "$FAIRKEY" authority recover-local --authority auth/authority.pub --share auth/share-1.key \
    --share auth/share-2.key --share auth/share-3.key -o rec2.bin plain.age
grep -q 'no escrow stanza' err.txt || { cat err.txt; fail "no-escrow file: unclear error"; }
# A forged stanza cannot be opened (the recovered key does not recompute E or the MAC fails).
expect_fail 1 "$FAIRKEY" authority recover-local --authority auth/authority.pub --share auth/share-1.key \
    --share auth/share-2.key --share auth/share-3.key -o rec2.bin forged-swap-e.age
[ ! -e rec2.bin ] || fail "a forged stanza left an output file"
# --share limit (FK_ESCROW_MAX_SHARES = 255): all 255 shares of the big
# authority are accepted; a 256th option is a usage error.
BIG=$("$FAIRKEY" authority show --recipient big/authority.pub)
"$FAIRKEY" encrypt -r "$BIG" -o big.age plain.bin
args=()
for i in $(seq 1 255); do args+=(--share "big/share-$i.key"); done
"$FAIRKEY" authority recover-local --authority big/authority.pub "${args[@]}" -o big.bin big.age \
    || fail "255 shares refused"
cmp -s plain.bin big.bin || fail "255 shares: plaintext differs"
expect_fail 2 "$FAIRKEY" authority recover-local --authority big/authority.pub "${args[@]}" \
    --share big/share-1.key -o big2.bin big.age
[ ! -e big2.bin ] || fail "256 --share options left an output"
echo "escrow_cli: all checks passed"
