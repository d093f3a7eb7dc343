#!/bin/bash
# Interoperability with Debian's age 1.1 (/usr/bin/age, /usr/bin/age-keygen):
# files written by one tool are read by the other, in both directions, for
# keys made by either tool, several sizes around the 64 KiB chunk boundary,
# one and several recipients, binary and armored.  Prints one line per cell.
set -u
AGE=${AGE:-/usr/bin/age}
AGE_KEYGEN=${AGE_KEYGEN:-/usr/bin/age-keygen}
if [ ! -x "$AGE" ] || [ ! -x "$AGE_KEYGEN" ]; then
    echo "skipped: $AGE or $AGE_KEYGEN is not installed (apt-get install age)"
    exit 77
fi
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
echo "# $("$AGE" --version 2>&1 | head -n 1) against $("$FAIRKEY" --version)"

cell() { # <label> <command...>: one matrix cell
    local label=$1; shift
    if "$@" >cell.out 2>cell.err; then
        CHECKS=$((CHECKS + 1)); echo "PASS $label"
    else
        CHECKS=$((CHECKS + 1)); FAILED=$((FAILED + 1))
        echo "FAIL $label: $(head -c 200 cell.err | tr '\n' ' ')"
    fi
}

# Keys: three made by each tool.
for i in 1 2 3; do
    "$FAIRKEY" keygen -o fk$i 2>/dev/null
    "$AGE_KEYGEN" -o ag$i 2>/dev/null
done
pub() { sed -n 's/^# public key: //p' "$1"; }

# Key formats: each tool derives the same recipient from the other's identity.
for i in 1 2 3; do
    cell "keys: age-keygen -y reads fairkey key $i" test "$("$AGE_KEYGEN" -y fk$i)" = "$(pub fk$i)"
    cell "keys: fairkey keygen -y reads age-keygen key $i" test "$("$FAIRKEY" keygen -y ag$i)" = "$(pub ag$i)"
done

sizes="0 1 65535 65536 65537 10485760"
for n in $sizes; do head -c "$n" /dev/urandom >p$n; done

# enc_fairkey / enc_age <out> <armor 0|1> <in> <recipients...>
enc_fairkey() {
    local out=$1 armor=$2 in=$3; shift 3
    local a=(); [ "$armor" = 1 ] && a=(-a)
    local r=(); for x in "$@"; do r+=(-r "$x"); done
    "$FAIRKEY" encrypt "${a[@]}" "${r[@]}" -o "$out" "$in"
}
enc_age() {
    local out=$1 armor=$2 in=$3; shift 3
    local a=(); [ "$armor" = 1 ] && a=(-a)
    local r=(); for x in "$@"; do r+=(-r "$x"); done
    "$AGE" -e "${a[@]}" "${r[@]}" -o "$out" "$in"
}
# roundtrip <encrypt fn> <decrypt tool> <identity> <in> <armor> <recipients...>
roundtrip() {
    local enc=$1 dec=$2 id=$3 in=$4 armor=$5; shift 5
    rm -f ct pt
    "$enc" ct "$armor" "$in" "$@" || return 1
    if [ "$armor" = 1 ]; then
        head -n 1 ct | grep -qx -- '-----BEGIN AGE ENCRYPTED FILE-----' || return 1
    fi
    if [ "$dec" = age ]; then "$AGE" -d -i "$id" -o pt ct || return 1
    else "$FAIRKEY" decrypt -i "$id" -o pt ct || return 1; fi
    # age opens -o lazily: an empty plaintext creates no file.
    [ -e pt ] || [ -s "$in" ] || : >pt
    cmp -s "$in" pt
}

for dir in "fairkey->age" "age->fairkey"; do
    if [ "$dir" = "fairkey->age" ]; then enc=enc_fairkey dec=age; else enc=enc_age dec=fairkey; fi
    for maker in fairkey age-keygen; do
        if [ $maker = fairkey ]; then k=fk o=ag; else k=ag o=fk; fi
        for n in $sizes; do
            for armor in 0 1; do
                aname=binary; [ $armor = 1 ] && aname=armor
                cell "$dir keys=$maker size=$n rcpts=1 $aname" \
                    roundtrip $enc $dec ${k}1 p$n $armor "$(pub ${k}1)"
                # Several recipients, mixing both tools' keys; the identity
                # used matches the last stanza.
                cell "$dir keys=$maker size=$n rcpts=3 $aname" \
                    roundtrip $enc $dec ${k}3 p$n $armor "$(pub ${k}2)" "$(pub ${o}1)" "$(pub ${k}3)"
            done
        done
    done
done

# Recipients files and encrypt -i work the same way in both tools.
printf '# both\n%s\n%s\n' "$(pub fk2)" "$(pub ag2)" >rcpts
cell "fairkey -R file -> age" sh -c '"$1" encrypt -R rcpts -o c.r p65537 && "$2" -d -i ag2 -o d.r c.r && cmp -s p65537 d.r' \
    _ "$FAIRKEY" "$AGE"
cell "age -R file -> fairkey" sh -c '"$2" -e -R rcpts -o c.r2 p65537 && "$1" decrypt -i fk2 -o d.r2 c.r2 && cmp -s p65537 d.r2' \
    _ "$FAIRKEY" "$AGE"
# Passphrases (scrypt): age reads them only from a terminal, so it runs under
# script(1) with the passphrase typed after its prompt appears.
if command -v script >/dev/null 2>&1; then
    for armor in 0 1; do
        a=(); aname=binary; [ $armor = 1 ] && a=(-a) && aname=armor
        rm -f cpp dpp
        FAIRKEY_PASSPHRASE='open sesame' "$FAIRKEY" encrypt -p "${a[@]}" -o cpp p65537
        (sleep 1; printf 'open sesame\n') | timeout 60 script -qec "\"$AGE\" -d -o dpp cpp" /dev/null >/dev/null 2>&1
        cell "fairkey->age passphrase $aname" cmp -s p65537 dpp
        rm -f cpp dpp
        (sleep 1; printf 'open sesame\n'; sleep 1; printf 'open sesame\n') |
            timeout 60 script -qec "\"$AGE\" -p ${a[*]} -o cpp p65537" /dev/null >/dev/null 2>&1
        cell "age->fairkey passphrase $aname" sh -c 'FAIRKEY_PASSPHRASE="open sesame" "$1" decrypt -o dpp cpp && cmp -s p65537 dpp' \
            _ "$FAIRKEY"
    done
fi
# Wrong key: both tools refuse the other's file.
"$AGE" -e -r "$(pub ag1)" -o cw p1
cell "age file, wrong fairkey key: refused" sh -c '! "$1" decrypt -i fk1 -o dw cw && [ ! -e dw ]' _ "$FAIRKEY"
"$FAIRKEY" encrypt -r "$(pub fk1)" -o cw2 p1
cell "fairkey file, wrong age key: refused" sh -c '! "$1" -d -i ag1 -o dw2 cw2' _ "$AGE"
finish
