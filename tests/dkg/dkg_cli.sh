#!/bin/bash
# `fairkey authority dkg` over files: a 3-of-5 dealerless authority whose
# every 3-subset of shares recovers a file; a participant that sends a bad
# share is named and nothing usable is left; a coordinator that shows
# participants different round 1 messages makes certification fail;
# `authority verify` checks an authority file against its transcript.
# $1 is dkg_tamper (a participant whose share for one recipient is bad).
TAMPER=$1
. "$(dirname "$0")/common.sh"

# Participants' long-term keys (0600, never overwritten).
PARTS=()
for i in 1 2 3 4 5; do
    P=$("$FAIRKEY" authority dkg keygen -o p$i.key)
    [ "$(stat -c %a p$i.key)" = 600 ] || fail "p$i.key is not mode 0600"
    [ "$("$FAIRKEY" authority dkg public p$i.key)" = "$P" ] || fail "public differs from keygen"
    PARTS+=(--participant "$P")
done
expect_fail 1 "$FAIRKEY" authority dkg keygen -o p1.key
ln -s p1.key link.key
expect_fail 1 "$FAIRKEY" authority dkg public link.key   # O_NOFOLLOW

# ceremony NAME DIR [tamper-spec]: run every step; the coordinator's files in DIR.
ceremony() {
    local d=$2
    mkdir -p "$d"
    "$FAIRKEY" authority dkg init --threshold 3 --name "$1" $LOG "${PARTS[@]}" -o "$d/session" 2>/dev/null
    for i in 1 2 3 4 5; do
        "$FAIRKEY" authority dkg round1 --session "$d/session" --key p$i.key -o "$d/r1-$i" 2>/dev/null
    done
}

# ---- the honest ceremony ---------------------------------------------------
ceremony honest c
"$FAIRKEY" authority dkg collect --session c/session -o c/bundle c/r1-{5,3,1,2,4} 2>/dev/null
for i in 1 2 3 4 5; do
    "$FAIRKEY" authority dkg round2 --session c/session --key p$i.key --bundle c/bundle -o c/sig-$i 2>/dev/null
done
"$FAIRKEY" authority dkg certify --session c/session --bundle c/bundle -o c/transcript \
    --authority-out c/authority.pub c/sig-{1..5} 2>/dev/null
for i in 1 2 3 4 5; do
    "$FAIRKEY" authority dkg finish --session c/session --key p$i.key --bundle c/bundle \
        --transcript c/transcript --out agent$i >agent$i.txt 2>/dev/null
    [ "$(stat -c %a agent$i/share-$i.key)" = 600 ] || fail "share-$i.key is not 0600"
    cmp -s agent$i/authority.pub c/authority.pub || fail "agent $i has another authority file"
done
grep -q '^threshold: 3-of-5$' agent1.txt || fail "finish did not print the authority"
RCPT=$(sed -n 's/^recipient: //p' agent1.txt)
"$FAIRKEY" authority verify c/authority.pub c/transcript >verify.txt
grep -q 'no dealer held its secret' verify.txt || fail "verify did not confirm"
# The shares are ordinary fairkey shares of an ordinary authority file.
for i in 1 2 3 4 5; do
    "$FAIRKEY" authority verify-share --authority c/authority.pub agent$i/share-$i.key >/dev/null
done
head -c 5000 /dev/urandom >plain.bin
"$FAIRKEY" encrypt -r "$RCPT" -o esc.age plain.bin
# Every 3-subset of the 5 shares recovers the file; 2 shares do not.
n=0
for a in 1 2 3 4 5; do for b in $(seq $((a + 1)) 5); do for c in $(seq $((b + 1)) 5); do
    "$FAIRKEY" authority recover-local --authority c/authority.pub --share agent$a/share-$a.key \
        --share agent$b/share-$b.key --share agent$c/share-$c.key -o out.bin esc.age
    cmp -s out.bin plain.bin || fail "shares $a $b $c did not recover the file"
    rm -f out.bin; n=$((n + 1))
done; done; done
[ $n = 10 ] || fail "not every 3-subset was tried"
expect_fail 1 "$FAIRKEY" authority recover-local --authority c/authority.pub \
    --share agent1/share-1.key --share agent2/share-2.key -o out.bin esc.age

# verify refuses another authority, and a transcript with a changed signature.
"$FAIRKEY" authority create $LOG --threshold 3 --agents 5 --name honest --out dealer >/dev/null 2>dealer.err
# The dealer says what it is, in its output and its help.
grep -q '^Trusted-dealer mode' dealer.err || fail "authority create did not say it is the trusted dealer"
"$FAIRKEY" authority create -h | grep -q '^Trusted-dealer mode' || fail "create -h: no trusted-dealer line"
"$FAIRKEY" authority help | grep -q 'create .*trusted-dealer mode' || fail "authority help: no trusted-dealer line"
expect_fail 1 "$FAIRKEY" authority verify dealer/authority.pub c/transcript
grep -q 'does not match' err.txt || fail "verify did not say the authority differs"
sed 's/^\(signature 2 \)A/\1B/; t; s/^\(signature 2 \)./\1A/' c/transcript >bad-transcript
expect_fail 1 "$FAIRKEY" authority verify c/authority.pub bad-transcript
grep -q "participant 2" err.txt || fail "verify did not name participant 2"

# ---- a participant sends a bad share -----------------------------------------
ceremony cheat b
"$TAMPER" 3 5 2 <b/r1-4 >b/r1-4x
"$FAIRKEY" authority dkg collect --session b/session -o b/bundle b/r1-{1,2,3,5} b/r1-4x 2>/dev/null
expect_fail 1 "$FAIRKEY" authority dkg round2 --session b/session --key p2.key --bundle b/bundle -o b/sig-2
grep -q '^fairkey: participant 4 misbehaved' err.txt || fail "the cheater was not named"
[ ! -e b/sig-2 ] || fail "round2 left a signature behind"
# Nor can finish make an authority from it: nothing usable is left.
expect_fail 1 "$FAIRKEY" authority dkg finish --session b/session --key p2.key --bundle b/bundle \
    --transcript c/transcript --out bad2
[ ! -e bad2/share-2.key ] && [ ! -e bad2/authority.pub ] || fail "files left after a bad share"

# ---- a split view --------------------------------------------------------------
# Participant 3 answered round 1 twice; the coordinator shows 1 and 2 the
# first answer and 3, 4, 5 the second.  Every round 2 passes on its own.
ceremony split s
"$FAIRKEY" authority dkg round1 --session s/session --key p3.key -o s/r1-3b 2>/dev/null
"$FAIRKEY" authority dkg collect --session s/session -o s/bundleA s/r1-{1,2,3,4,5} 2>/dev/null
"$FAIRKEY" authority dkg collect --session s/session -o s/bundleB s/r1-{1,2,4,5} s/r1-3b 2>/dev/null
for i in 1 2; do
    "$FAIRKEY" authority dkg round2 --session s/session --key p$i.key --bundle s/bundleA -o s/sig-$i 2>/dev/null
done
for i in 3 4 5; do
    "$FAIRKEY" authority dkg round2 --session s/session --key p$i.key --bundle s/bundleB -o s/sig-$i 2>/dev/null
done
expect_fail 1 "$FAIRKEY" authority dkg certify --session s/session --bundle s/bundleA -o s/tA s/sig-{1..5}
grep -q 'participant 3.*split view' err.txt || fail "certify did not name the split view"
expect_fail 1 "$FAIRKEY" authority dkg certify --session s/session --bundle s/bundleB -o s/tB s/sig-{1..5}
[ ! -e s/tA ] && [ ! -e s/tB ] || fail "a certificate was written for a split view"
# The honest ceremony's certificate does not finish this one either.
expect_fail 1 "$FAIRKEY" authority dkg finish --session s/session --key p1.key --bundle s/bundleA \
    --transcript c/transcript --out split1
[ ! -e split1/share-1.key ] || fail "finish wrote a share for a foreign certificate"
echo "dkg_cli: ok"
