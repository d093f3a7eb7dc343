#!/bin/bash
# SSH keys and passphrase-encrypted identity files against Debian's age 1.1:
# keys made by ssh-keygen (OpenSSH, PEM and PKCS#8 forms) and openssl, files
# written by one tool and read by the other in both directions, recipients
# from -r, -R (a GitHub-style .keys list with a key age cannot use) and -i,
# and the messages for what neither tool can use.
set -u
AGE=${AGE:-/usr/bin/age}
if [ ! -x "$AGE" ] || ! command -v ssh-keygen >/dev/null 2>&1; then
    echo "skipped: $AGE or ssh-keygen is not installed (apt-get install age openssh-client)"
    exit 77
fi
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
echo "# $("$AGE" --version 2>&1 | head -n 1) against $("$FAIRKEY" --version)"

head -c 70000 /dev/urandom >p

# Keys: OpenSSH's own format, then the PEM forms age also reads.
ssh-keygen -q -t ed25519 -N '' -C 'ed@test' -f ed
ssh-keygen -q -t rsa -b 2048 -N '' -C 'rsa@test' -f rsa
cp rsa rsa_pem && ssh-keygen -q -p -N '' -m PEM -f rsa_pem >/dev/null
cp rsa rsa_p8 && ssh-keygen -q -p -N '' -m PKCS8 -f rsa_p8 >/dev/null
ssh-keygen -q -t ecdsa -N '' -f ec
ssh-keygen -q -t ed25519 -N 'a passphrase' -f edpw
ssh-keygen -q -t rsa -b 1024 -N '' -f rsa1024
openssl genpkey -algorithm ed25519 -out ed_p8 2>/dev/null

# A GitHub .keys list: one key per line, no comments; age skips the ecdsa one.
{ cut -d' ' -f1,2 ed.pub; cut -d' ' -f1,2 ec.pub; cut -d' ' -f1,2 rsa.pub; } >github.keys

# to <tool> <out> <encrypt args...> / from <tool> <in> <identity>
to() {
    local tool=$1 out=$2; shift 2
    rm -f "$out"
    if [ "$tool" = age ]; then "$AGE" -e "$@" -o "$out" p; else "$FAIRKEY" encrypt "$@" -o "$out" p; fi
}
from() {
    local tool=$1 in=$2 id=$3
    rm -f pt
    if [ "$tool" = age ]; then "$AGE" -d -i "$id" -o pt "$in" || return 1
    else "$FAIRKEY" decrypt -i "$id" -o pt "$in" || return 1; fi
    cmp -s p pt
}
trip() { # <encrypting tool> <decrypting tool> <identity> <encrypt args...>
    local e=$1 d=$2 id=$3; shift 3
    to "$e" ct "$@" && from "$d" ct "$id"
}

for k in ed rsa; do
    for armor in "" -a; do
        check "age -R $k.pub $armor -> fairkey -i $k" trip age fairkey $k -R $k.pub $armor
        check "fairkey -R $k.pub $armor -> age -i $k" trip fairkey age $k -R $k.pub $armor
    done
    check "fairkey -r '\$(cat $k.pub)' -> age" trip fairkey age $k -r "$(cat $k.pub)"
    check "age -r '\$(cat $k.pub)' -> fairkey" trip age fairkey $k -r "$(cat $k.pub)"
    check "fairkey -e -i $k (its recipient) -> age" trip fairkey age $k -i $k
    check "age -e -i $k -> fairkey" trip age fairkey $k -i $k
done
for k in rsa_pem rsa_p8; do
    check "age -R rsa.pub -> fairkey -i $k ($(head -n 1 $k))" trip age fairkey $k -R rsa.pub
    check "fairkey -i $k -> age -i $k" trip fairkey age $k -i $k
done
check "fairkey -i ed_p8 (PKCS#8 Ed25519) -> age -i ed_p8" trip fairkey age ed_p8 -i ed_p8
check "age -i ed_p8 -> fairkey -i ed_p8" trip age fairkey ed_p8 -i ed_p8

# The .keys list: both usable keys get a stanza from either tool.
for e in age fairkey; do
    for k in ed rsa; do
        for d in age fairkey; do
            check "$e -R github.keys -> $d -i $k" trip $e $d $k -R github.keys
        done
    done
done
to fairkey ct -R github.keys 2>err
check "fairkey -R github.keys warns about the ecdsa line (line 2)" \
    grep -q 'warning: github.keys: ignoring the SSH key of type ecdsa-sha2-nistp256 at line 2' err
check "fairkey writes one ssh-ed25519 and one ssh-rsa stanza" \
    sh -c 'test "$(grep -ac "^-> ssh-ed25519 " ct)" = 1 && test "$(grep -ac "^-> ssh-rsa " ct)" = 1'

# Mixed: an X25519 recipient beside the SSH ones.
"$FAIRKEY" keygen -o x 2>/dev/null
xr=$(sed -n 's/^# public key: //p' x)
check "fairkey -r age1 -R ed.pub -> age -i x" trip fairkey age x -r "$xr" -R ed.pub
check "age -r age1 -R rsa.pub -> fairkey -i rsa" trip age fairkey rsa -r "$xr" -R rsa.pub

# What cannot be used: one line each, saying why.
to age ct -R ed.pub
expect_fail "decrypt with another SSH key: no match" 1 'no identity matched' \
    "$FAIRKEY" decrypt -i rsa -o pt ct
expect_fail "passphrase-protected OpenSSH key: says so" 1 'edpw: .*passphrase-protected.*ssh-keygen -p' \
    "$FAIRKEY" decrypt -i edpw -o pt ct
expect_fail "ecdsa -r: not an age recipient type" 1 'ecdsa-sha2-nistp256: .*ssh-ed25519 and ssh-rsa' \
    "$FAIRKEY" encrypt -r "$(cat ec.pub)" -o ct2 p
expect_fail "RSA 1024: too short, as age" 1 'shorter than 2048 bits' \
    "$FAIRKEY" encrypt -R rsa1024.pub -o ct2 p
expect_fail "-R with a private key: use -i" 1 'is a private key, not a recipients file' \
    "$FAIRKEY" encrypt -R ed -o ct2 p
expect_fail "ecdsa private key as identity: not usable" 1 'ec: not a usable SSH private key' \
    "$FAIRKEY" decrypt -i ec -o pt ct
cut -c1-60 ed.pub >cut.pub
expect_fail "a cut SSH public key: file and line" 1 'cut.pub: line 1: SSH key of type ssh-ed25519' \
    "$FAIRKEY" encrypt -R cut.pub -o ct2 p

# Passphrase-encrypted identity files (age -p on an identity file).
"$FAIRKEY" encrypt -r "$xr" -o cx p
FAIRKEY_PASSPHRASE='id pass' "$FAIRKEY" encrypt -p -o x.age x
check "fairkey -d -i x.age (fairkey -p identity file)" \
    sh -c 'FAIRKEY_PASSPHRASE="id pass" "$1" decrypt -i x.age -o pt cx && cmp -s p pt' _ "$FAIRKEY"
FAIRKEY_PASSPHRASE='id pass' "$FAIRKEY" encrypt -p -a -o x.age.asc x
check "fairkey -d -i x.age.asc (armored)" \
    sh -c 'FAIRKEY_PASSPHRASE="id pass" "$1" decrypt -i x.age.asc -o pt cx && cmp -s p pt' _ "$FAIRKEY"
check "fairkey -e -i x.age encrypts to the identity inside" \
    sh -c 'FAIRKEY_PASSPHRASE="id pass" "$1" encrypt -i x.age -o cx2 p && "$1" decrypt -i x -o pt cx2 && cmp -s p pt' _ "$FAIRKEY"
expect_fail "wrong passphrase for the identity file" 1 'passphrase for identity file x.age is wrong' \
    env FAIRKEY_PASSPHRASE=nope "$FAIRKEY" decrypt -i x.age -o pt cx
FAIRKEY_PASSPHRASE='file pass' "$FAIRKEY" encrypt -p -o cpass p
expect_fail "a passphrase file and -i x.age: the identity file's passphrase is not asked for" 1 \
    'passphrase-encrypted; run without -i' setsid "$FAIRKEY" decrypt -i x.age -o pt cpass
"$FAIRKEY" encrypt -r "$xr" -o x.tox x
expect_fail "identity file encrypted to a key, not a passphrase" 1 'encrypted with age but not with a passphrase' \
    "$FAIRKEY" decrypt -i x.tox -o pt cx
if command -v script >/dev/null 2>&1; then
    rm -f xa.age
    (sleep 1; printf 'id pass\n'; sleep 1; printf 'id pass\n'; sleep 4) |
        timeout 60 script -qec "\"$AGE\" -p -o xa.age x" /dev/null >/dev/null 2>&1
    check "age -p identity file -> fairkey -d -i" \
        sh -c 'FAIRKEY_PASSPHRASE="id pass" "$1" decrypt -i xa.age -o pt cx && cmp -s p pt' _ "$FAIRKEY"
    rm -f pt
    (sleep 1; printf 'id pass\n'; sleep 4) | timeout 60 script -qec "\"$AGE\" -d -i x.age -o pt cx" /dev/null >/dev/null 2>&1
    check "fairkey -p identity file -> age -d -i" cmp -s p pt
fi
finish
