#!/bin/bash
# `fairkey authority dkg serve | join`: the ceremony over HTTP on 127.0.0.1
# (ports chosen by the kernel, every wait bounded).  A 3-of-5 dealerless
# authority made by a coordinator and 5 join processes in parallel recovers
# a file with every 3-subset, after the coordinator refused malformed,
# misaddressed and oversized posts; a participant that posts a bad share is
# named and no one writes an authority; a coordinator that shows one
# participant another bundle (a split view) makes certification fail.
# $1 is dkg_tamper (a participant whose share for one recipient is bad).
TAMPER=$1
. "$(dirname "$0")/common.sh"
: "${FK_SOURCE_DIR:?}"
HELPER="python3 $FK_SOURCE_DIR/tests/dkg/dkg_http.py"

# wait_url FILE: the first line "http://127.0.0.1:N" of FILE (10 s at most).
wait_url() {
    for _ in $(seq 1 200); do
        u=$(grep -m1 '^http://127\.0\.0\.1:[0-9]*$' "$1" 2>/dev/null || true)
        [ -n "$u" ] && { echo "$u"; return 0; }
        sleep 0.05
    done
    cat "${1%.out}.err" >&2 2>/dev/null || true
    return 1
}

PARTS=()
for i in 1 2 3 4 5; do PARTS+=(--participant "$("$FAIRKEY" authority dkg keygen -o p$i.key)"); done

# serve NAME: a coordinator of a new 3-of-5 session in NAME/; sets URL, CPID.
serve() {
    mkdir -p "$1"
    "$FAIRKEY" authority dkg init --threshold 3 --name "$1" $LOG "${PARTS[@]}" -o "$1/session" 2>/dev/null
    "$FAIRKEY" authority dkg serve --session "$1/session" --listen 127.0.0.1:0 --state "$1/state" \
        --linger 30 >"$1/serve.out" 2>"$1/serve.err" &
    CPID=$!
    PIDS="$PIDS $CPID"
    URL=$(wait_url "$1/serve.out") || fail "the coordinator of $1 did not start"
}

# join NAME URL I...: participants I... join at URL in parallel (60 s at most);
# participant i's files in NAME/agent<i>, its output in NAME/join<i>.{out,err,rc}.
join() {
    local n=$1 u=$2 jp=""; shift 2
    for i in "$@"; do
        ( set +e; timeout 60 "$FAIRKEY" authority dkg join --coordinator "$u" --key p$i.key \
              --out "$n/agent$i" --timeout 50 >"$n/join$i.out" 2>"$n/join$i.err"
          echo $? >"$n/join$i.rc" ) &
        jp="$jp $!"
    done
    for p in $jp; do wait "$p"; done
}

# ---- refused posts, then the honest ceremony ---------------------------------
serve honest
expect_post() { # STATUS PATH FILE [WORDS]
    got=$($HELPER post "$URL$2" "$3")
    [ "${got%% *}" = "$1" ] || fail "POST $2 answered '$got', expected $1"
    [ -z "${4:-}" ] || grep -q "$4" <<<"$got" || fail "POST $2 answered '$got', without '$4'"
}
echo garbage >garbage
head -c 5000 /dev/zero | tr '\0' A >big
"$FAIRKEY" authority dkg round1 --session honest/session --key p2.key -o r1-2 2>/dev/null
expect_post 400 /round1/1 garbage "not a valid 'fairkey dkg round1 v1'"
expect_post 400 /round1/1 r1-2 "participant 2's round 1 message, not participant 1's"
expect_post 413 /round1/1 big
expect_post 404 /round1/6 garbage
expect_post 425 /signature/1 garbage
expect_post 413 /signature/1 big
$HELPER post "$URL/nope" garbage | grep -q '^404 ' || fail "an unknown path was not 404"
ok "malformed (400), misaddressed (400), oversized (413), early (425) and unknown (404) posts refused"

join honest "$URL" 1 2 3 4 5
for i in 1 2 3 4 5; do
    [ "$(cat honest/join$i.rc)" = 0 ] || { cat honest/join$i.err >&2; fail "join $i failed"; }
    [ "$(stat -c %a honest/agent$i/share-$i.key)" = 600 ] || fail "share-$i.key is not 0600"
    cmp -s honest/agent$i/authority.pub honest/agent1/authority.pub || fail "agent $i has another authority"
    cmp -s honest/agent$i/transcript honest/state/transcript || fail "agent $i has another transcript"
done
wait "$CPID" || fail "the coordinator did not exit 0 once every participant had the transcript"
grep -q '^Certified by all 5 participants' honest/serve.err || fail "the coordinator did not certify"
"$FAIRKEY" authority verify honest/agent1/authority.pub honest/agent1/transcript | grep -q 'no dealer held its secret' \
    || fail "authority verify"
A=honest/agent1/authority.pub
RCPT=$(sed -n 's/^recipient: //p' honest/join1.out)
head -c 5000 /dev/urandom >plain.bin
"$FAIRKEY" encrypt -r "$RCPT" -o esc.age plain.bin
n=0
for a in 1 2 3 4 5; do for b in $(seq $((a + 1)) 5); do for c in $(seq $((b + 1)) 5); do
    "$FAIRKEY" authority recover-local --authority $A --share honest/agent$a/share-$a.key \
        --share honest/agent$b/share-$b.key --share honest/agent$c/share-$c.key -o out.bin esc.age 2>/dev/null
    cmp -s out.bin plain.bin || fail "shares $a $b $c did not recover the file"
    rm -f out.bin; n=$((n + 1))
done; done; done
[ $n = 10 ] || fail "not every 3-subset was tried"
set +e; "$FAIRKEY" authority recover-local --authority $A --share honest/agent1/share-1.key \
    --share honest/agent2/share-2.key -o out.bin esc.age 2>/dev/null; r=$?; set -e
[ $r = 1 ] && [ ! -e out.bin ] || fail "2 shares recovered the file"
ok "3-of-5 over HTTP: 5 joins in parallel, every 3-subset recovers, 2 shares do not"

# nothing_left NAME I...: no share, authority or transcript in any agent folder.
nothing_left() {
    local n=$1; shift
    for i in "$@"; do
        [ ! -e "$n/agent$i/share-$i.key" ] && [ ! -e "$n/agent$i/authority.pub" ] && \
            [ ! -e "$n/agent$i/transcript" ] || fail "$n: participant $i left files behind"
        [ "$(cat "$n/join$i.rc")" = 1 ] || fail "$n: join $i exited $(cat "$n/join$i.rc")"
        [ "$(grep -c '^fairkey: ' "$n/join$i.err")" -ge 1 ] || fail "$n: join $i printed no error"
    done
}

# ---- a participant posts a bad share -------------------------------------------
# Participant 4 is not a join: it posts a round1 whose share for participant 2
# does not open.  Its PoP verifies, so only participant 2 can see the fault;
# it names participant 4 and tells the coordinator, which tells the others.
serve cheat
"$FAIRKEY" authority dkg round1 --session cheat/session --key p4.key -o r1-4 2>/dev/null
"$TAMPER" 3 5 2 <r1-4 >r1-4x
expect_post 200 /round1/4 r1-4x
join cheat "$URL" 1 2 3 5
nothing_left cheat 1 2 3 5
grep -q '^fairkey: participant 4 misbehaved: its share for you does not decrypt' cheat/join2.err \
    || { cat cheat/join2.err >&2; fail "participant 2 did not name participant 4"; }
for i in 1 3 5; do
    grep -q 'participant 2 aborted the ceremony: participant 4 misbehaved' cheat/join$i.err \
        || { cat cheat/join$i.err >&2; fail "participant $i was not told participant 4 misbehaved"; }
done
grep -q 'participant 4 misbehaved' cheat/serve.err || fail "the coordinator did not name participant 4"
[ ! -e cheat/state/transcript ] || fail "the coordinator certified a ceremony with a bad share"
ok "a bad share over HTTP: participant 4 named by its victim, the coordinator and everyone; nothing written"

# ---- a split view -------------------------------------------------------------------
# A hostile coordinator (in front of the real one) shows participant 3 a
# bundle where participant 5's message is another valid one: every check of
# participant 3's round 2 passes, but its signature is over another
# transcript, so certification fails and no one writes an authority.
serve split
"$FAIRKEY" authority dkg round1 --session split/session --key p5.key -o r1-5b 2>/dev/null
$HELPER splitview "$URL" r1-5b 3 5 >split/proxy.out 2>split/proxy.err &
PIDS="$PIDS $!"
PURL=$(wait_url split/proxy.out) || fail "the split-view coordinator did not start"
join split "$PURL" 1 2 3 4 5
nothing_left split 1 2 3 4 5
for i in 1 2 3 4 5; do
    grep -q "participant 3's signature does not verify over the transcript.*split view" split/join$i.err \
        || { cat split/join$i.err >&2; fail "participant $i was not told of the split view"; }
done
grep -q "participant 3's signature does not verify" split/serve.err || fail "the coordinator did not name participant 3"
[ ! -e split/state/transcript ] || fail "a split view was certified"
ok "a split view over HTTP: certification fails naming participant 3; nothing written"

# ---- a coordinator that never completes a round ----------------------------------------
serve slow
set +e
timeout 30 "$FAIRKEY" authority dkg join --coordinator "$URL" --key p1.key --out slow/agent1 --timeout 2 \
    >/dev/null 2>slow/join1.err; r=$?
set -e
[ $r = 1 ] && grep -q 'did not answer /bundle in time' slow/join1.err || fail "join did not time out: $r"
[ ! -e slow/agent1 ] || fail "a timed-out join left files"
ok "join gives up after --timeout with nothing written"
echo "dkg_http: ok"
