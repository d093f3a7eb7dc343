#!/bin/bash
# `fairkey authority reshare` over files: a file encrypted to a 3-of-5
# authority before it is reshared to 2-of-4 (agents 1 and 2 stay, 3, 4 and 5
# leave, two join) recovers with any 2 of the 4 new shares; 1 new share does
# not; new shares mixed with the old shares of agents that left do not; a
# dealer that sends a bad sub-share is named and nothing usable is written.
# $1 is dkg_tamper (spoils one recipient's ciphertext in a dealt file).
TAMPER=$1
. "$(dirname "$0")/common.sh"

"$FAIRKEY" authority create $LOG --threshold 3 --agents 5 --name ledger --out old >/dev/null 2>&1
RCPT=$("$FAIRKEY" authority show --recipient old/authority.pub)
head -c 70000 /dev/urandom >plain.bin
"$FAIRKEY" encrypt -r "$RCPT" -o before.age plain.bin

# Participant keys: old agents 1, 2 (stay) and 3 (leaves) deal; the new
# agents are 1, 2 (same keys) and two that join.
for k in o1 o2 o3 n3 n4; do "$FAIRKEY" authority dkg keygen -o $k.key >$k.pub; done
"$FAIRKEY" authority reshare init --authority old/authority.pub --threshold 2 \
    --dealer 3:"$(cat o3.pub)" --dealer 1:"$(cat o1.pub)" --dealer 2:"$(cat o2.pub)" \
    --participant "$(cat o1.pub)" --participant "$(cat o2.pub)" \
    --participant "$(cat n3.pub)" --participant "$(cat n4.pub)" -o session 2>/dev/null
grep -q '^dealer 1 ' session && [ "$(grep -c '^dealer ' session)" = 3 ] || fail "session dealers"
# Two dealers are not a quorum of a 3-of-5 authority.
expect_fail 1 "$FAIRKEY" authority reshare init --authority old/authority.pub --threshold 2 \
    --dealer 1:"$(cat o1.pub)" --dealer 2:"$(cat o2.pub)" --participant "$(cat n3.pub)" -o s2
for i in 1 2 3; do
    "$FAIRKEY" authority reshare deal --authority old/authority.pub --session session \
        --share old/share-$i.key --key o$i.key -o dealt-$i 2>/dev/null
done
# Agent 4 is not a dealer; agent 1's share with agent 2's key does not deal.
expect_fail 1 "$FAIRKEY" authority reshare deal --authority old/authority.pub --session session \
    --share old/share-4.key --key o1.key -o dealt-x
expect_fail 1 "$FAIRKEY" authority reshare deal --authority old/authority.pub --session session \
    --share old/share-1.key --key o2.key -o dealt-x
[ ! -e dealt-x ] || fail "a dealing was written for a non-dealer"

"$FAIRKEY" authority reshare collect --authority old/authority.pub --session session -o bundle \
    --entry entry --authority-out new.pub dealt-{2,3,1} 2>/dev/null
[ "$(head -n1 entry)" = "fairkey authority reshare v1" ] || fail "entry's first line"
for j in 1 2 3 4; do
    key=$([ $j -le 2 ] && echo o$j.key || echo n$j.key)
    "$FAIRKEY" authority reshare finish --authority old/authority.pub --session session \
        --key $key --bundle bundle --out new$j >new$j.txt 2>/dev/null
    [ "$(stat -c %a new$j/share-$j.key)" = 600 ] || fail "share-$j.key is not 0600"
    cmp -s new$j/authority.pub new.pub || fail "agent $j has another authority file"
    "$FAIRKEY" authority verify-share --authority new.pub new$j/share-$j.key >/dev/null
done
grep -q '^threshold: 2-of-4$' new1.txt || fail "finish did not print 2-of-4"
[ "$("$FAIRKEY" authority show --recipient new.pub)" = "$RCPT" ] || fail "the recipient changed"
OLDID=$(sed -n 's/^id //p' old/authority.pub); NEWID=$(sed -n 's/^id //p' new.pub)
[ "$OLDID" != "$NEWID" ] || fail "the new authority has the old id"
grep -q "^new-authority $NEWID$" entry || fail "the entry does not name the new id"

# Any 2 of the 4 new shares open the file encrypted before.
n=0
for a in 1 2 3 4; do for b in $(seq $((a + 1)) 4); do
    "$FAIRKEY" authority recover-local --authority new.pub --share new$a/share-$a.key \
        --share new$b/share-$b.key -o out.bin before.age
    cmp -s out.bin plain.bin || fail "new shares $a $b did not recover the file"
    rm -f out.bin; n=$((n + 1))
done; done
[ $n = 6 ] || fail "not every pair was tried"
expect_fail 1 "$FAIRKEY" authority recover-local --authority new.pub --share new1/share-1.key \
    -o out.bin before.age
# New shares mixed with old shares of agents that left: under either file.
expect_fail 1 "$FAIRKEY" authority recover-local --authority new.pub --share new3/share-3.key \
    --share old/share-4.key -o out.bin before.age
grep -q 'does not match' err.txt || fail "the old share was not refused"
expect_fail 1 "$FAIRKEY" authority recover-local --authority old/authority.pub \
    --share new3/share-3.key --share old/share-4.key --share old/share-5.key -o out.bin before.age
[ ! -e out.bin ] || fail "a mixed set wrote output"
# What resharing cannot do: three old shares kept by their holders still open it.
"$FAIRKEY" authority recover-local --authority old/authority.pub --share old/share-3.key \
    --share old/share-4.key --share old/share-5.key -o kept.bin before.age
cmp -s kept.bin plain.bin || fail "old shares (threat-model check) did not recover"

# ---- a dealer sends new agent 4 a bad sub-share --------------------------------
mkdir bad
"$FAIRKEY" authority reshare init --authority old/authority.pub --threshold 2 \
    --dealer 1:"$(cat o1.pub)" --dealer 2:"$(cat o2.pub)" --dealer 3:"$(cat o3.pub)" \
    --participant "$(cat o1.pub)" --participant "$(cat o2.pub)" \
    --participant "$(cat n3.pub)" --participant "$(cat n4.pub)" -o bad/session 2>/dev/null
for i in 1 2 3; do
    "$FAIRKEY" authority reshare deal --authority old/authority.pub --session bad/session \
        --share old/share-$i.key --key o$i.key -o bad/dealt-$i 2>/dev/null
done
"$TAMPER" 2 4 4 <bad/dealt-2 >bad/dealt-2x
"$FAIRKEY" authority reshare collect --authority old/authority.pub --session bad/session \
    -o bad/bundle bad/dealt-1 bad/dealt-2x bad/dealt-3 2>/dev/null
expect_fail 1 "$FAIRKEY" authority reshare finish --authority old/authority.pub \
    --session bad/session --key n4.key --bundle bad/bundle --out bad4
grep -q '^fairkey: dealer 2 misbehaved' err.txt || fail "the bad dealer was not named"
[ ! -e bad4/share-4.key ] && [ ! -e bad4/authority.pub ] || fail "files left after a bad sub-share"
# A dealing from another session does not pass collect.
expect_fail 1 "$FAIRKEY" authority reshare collect --authority old/authority.pub \
    --session bad/session -o bad/bundle2 bad/dealt-1 dealt-2 bad/dealt-3
[ ! -e bad/bundle2 ] || fail "collect wrote a bundle with a foreign dealing"
echo "reshare_cli: ok"
