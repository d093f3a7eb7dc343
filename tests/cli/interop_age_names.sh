#!/bin/bash
# fairkey under age's names: a link named age behaves as age, age-keygen and
# fairkey-keygen as age-keygen, and fairkey with a flag where the command
# belongs as age.  The interop matrix of interop_age.sh runs twice: fairkey
# through the age links in age's place (against fairkey's own subcommands),
# then, where Debian's age is installed, against the real age with every
# fairkey command spelt the age way.
set -u
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
F=$FAIRKEY
B=$T/bin
mkdir -p "$B"
for name in age age-keygen fairkey-keygen; do ln -s "$F" "$B/$name"; done
# fairkey's subcommands, spelt as age spells them, for interop_age.sh.
cat >"$B/fairkey-as-age" <<'EOS'
#!/bin/sh
B=$(dirname "$0")
case $1 in
encrypt) shift; exec "$B/age" -e "$@" ;;
decrypt) shift; exec "$B/age" -d "$@" ;;
keygen) shift; exec "$B/age-keygen" "$@" ;;
*) exec "$B/age" "$@" ;;
esac
EOS
chmod +x "$B/fairkey-as-age"
cd "$T" || exit 1

# The names and the flag-first invocation, one by one.
"$B/fairkey-keygen" -o k 2>/dev/null
pk=$(sed -n 's/^# public key: //p' k)
check "age-keygen -y" test "$("$B/age-keygen" -y k)" = "$pk"
check "fairkey-keygen -y" test "$("$B/fairkey-keygen" -y k)" = "$pk"
printf 'hello\n' >p
check "age -r (encrypt by default)" "$B/age" -r "$pk" -o c1 p
check "age -d -i" sh -c '"$1" -d -i k c1 | cmp -s - p' _ "$B/age"
check "fairkey -e -a -r, no command" sh -c '"$1" -e -a -r "$2" -o c2 p && head -n 1 c2 | grep -q BEGIN' _ "$F" "$pk"
check "fairkey -d -i, no command" sh -c '"$1" -d -i k -o d2 c2 && cmp -s d2 p' _ "$F"
check "fairkey --decrypt --identity k, no command" sh -c '"$1" --decrypt --identity k c1 | cmp -s - p' _ "$F"
check "fairkey -i k -d (flags in any order)" sh -c '"$1" -i k -d c1 | cmp -s - p' _ "$F"
expect_fail "age -e -d" 2 "cannot be combined" "$B/age" -e -d c1
"$B/age" -h >h.out 2>h.err
rc=$?
[ $rc -eq 0 ] && [ ! -s h.out ] && grep -q -- '--decrypt' h.err && ok "age -h: usage on stderr, exit 0" ||
    bad "age -h" "exit $rc, stdout $(wc -c <h.out) bytes"
"$F" -h >h.out 2>&1 && grep -q 'fairkey <command>' h.out && ok "fairkey -h is still fairkey's help" ||
    bad "fairkey -h" "$(head -c 200 h.out)"

# The matrix, fairkey under age's names in age's place.
echo "# interop_age.sh with age = fairkey through a link named age"
if AGE=$B/age AGE_KEYGEN=$B/age-keygen bash "$HERE/interop_age.sh" >m1.out 2>&1; then
    ok "interop matrix: age link against fairkey ($(grep -c '^PASS' m1.out) cells)"
else
    bad "interop matrix: age link against fairkey" "$(grep -m 3 '^FAIL' m1.out)"
fi
if [ -x /usr/bin/age ] && [ -x /usr/bin/age-keygen ]; then
    echo "# interop_age.sh with Debian's age against fairkey invoked as age"
    if FAIRKEY=$B/fairkey-as-age bash "$HERE/interop_age.sh" >m2.out 2>&1; then
        ok "interop matrix: Debian age against the age link ($(grep -c '^PASS' m2.out) cells)"
    else
        bad "interop matrix: Debian age against the age link" "$(grep -m 3 '^FAIL' m2.out)"
    fi
else
    echo "# Debian's age is not installed: its half of the matrix is skipped"
fi
finish
