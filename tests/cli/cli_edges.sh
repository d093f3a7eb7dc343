#!/bin/bash
# The command line's edges: what happens to replaced files, closed standard
# descriptors, misplaced or malformed options, terminals left in a bad state,
# unreadable and unwritable paths (as an unprivileged user when run as root).
set -u
. "$(dirname "$0")/lib.sh"
unset FAIRKEY_PASSPHRASE
umask 022
F=$FAIRKEY
DOC=${FK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}/docs/cli.md
cd "$T" || exit 1

"$F" keygen -o k1 2>/dev/null
pk1=$(sed -n 's/^# public key: //p' k1)
printf 'secret plaintext\n' >p1
"$F" encrypt -r "$pk1" -o c1 p1

# ---- a replaced output keeps the replaced file's mode -------------------------
# age truncates an existing output in place, so a 0600 file stays 0600; a
# new file made by rename must not widen that to 0644.
printf 'old\n' >priv && chmod 600 priv
"$F" decrypt -i k1 -o priv c1 && same "decrypt -o over an existing file" p1 priv
mode=$(stat -c %a priv)
[ "$mode" = 600 ] && ok "decrypt -o keeps the replaced file's 0600 mode" || bad "replaced file mode" "$mode, want 600"
printf 'old\n' >grp && chmod 640 grp
"$F" encrypt -r "$pk1" -o grp p1
mode=$(stat -c %a grp)
[ "$mode" = 640 ] && ok "encrypt -o keeps a 0640 mode" || bad "replaced 0640 mode" "$mode"
printf 'old\n' >wide && chmod 666 wide
"$F" decrypt -i k1 -o wide c1
mode=$(stat -c %a wide)
[ "$mode" = 644 ] && ok "a 0666 file is replaced by one within the umask (0644)" || bad "replaced 0666 mode" "$mode"
ln -s priv priv.link && chmod 600 priv
"$F" decrypt -i k1 -o priv.link c1
mode=$(stat -c %a priv)
[ -L priv.link ] && [ "$mode" = 600 ] && ok "output through a symlink keeps the target's mode" ||
    bad "symlink target mode" "$mode"

# ---- an output never replaces a key or recipients file the command reads ----------
cp k1 kx && chmod 600 kx
expect_fail "decrypt -o onto its own -i file" 1 "kx is a key or recipients file" "$F" decrypt -i kx -o kx c1
same "the identity file survives decrypt -o onto it" k1 kx
expect_fail "keygen -y -o onto its input" 1 "kx is a key or recipients file" "$F" keygen -y -o kx kx
same "the identity file survives keygen -y -o onto it" k1 kx
ln -s kx kx.link
expect_fail "decrypt -o onto its -i file through a symlink" 1 "is a key or recipients file" \
    "$F" decrypt -i kx -o kx.link c1
same "the identity file survives an output through a symlink" k1 kx
printf '%s\n' "$pk1" >rcp && cp rcp rcp.before
expect_fail "encrypt -o onto its -R file" 1 "rcp is a key or recipients file" "$F" encrypt -R rcp -o rcp p1
same "the recipients file survives encrypt -o onto it" rcp.before rcp
no_temp_files "refused outputs leave no temporary file" .

# ---- closed standard descriptors --------------------------------------------------
expect_fail "encrypt with standard input closed" 1 "standard input is closed" \
    "$F" encrypt -r "$pk1" -o cx <&-
absent "closed standard input leaves no output" cx
no_temp_files "closed standard input leaves no temporary file" .
expect_fail "-R - with standard input closed" 1 "standard input is closed" "$F" encrypt -R - -o cx p1 <&-
# The error goes to stderr, so only stdout is closed here.
"$F" decrypt -i k1 c1 >&- 2>"$T/.err"
rc=$?
[ $rc -eq 1 ] && grep -q '^fairkey: standard output is closed' "$T/.err" &&
    ok "decrypt to a closed standard output" || bad "closed stdout" "exit $rc: $(cat "$T/.err")"
"$F" keygen >&- 2>"$T/.err"
rc=$?
[ $rc -eq 1 ] && grep -q '^fairkey: standard output is closed' "$T/.err" &&
    ok "keygen to a closed standard output" || bad "keygen closed stdout" "exit $rc: $(cat "$T/.err")"
# With standard input closed, the key file must not become descriptor 0 and
# be read as the ciphertext (the old failure: "the file's header is malformed").
expect_fail "decrypt with standard input closed" 1 "standard input is closed" "$F" decrypt -i k1 -o dx <&-
absent "decrypt with standard input closed leaves no output" dx

# ---- options: where they go, how errors name them -----------------------------
expect_fail "encrypt: an option after the input is named" 2 "option -o comes after the input file p1" \
    "$F" encrypt -r "$pk1" p1 -o cx
expect_fail "decrypt: an option after the input is named" 2 "option -i comes after the input file c1" \
    "$F" decrypt c1 -i k1
expect_fail "two inputs are still two inputs" 2 "only one input file" "$F" decrypt -i k1 c1 c1
"$F" encrypt -r "$pk1" -o c-dash -- p1 && "$F" decrypt -i k1 -o d-dash -- c-dash && same "-- ends the options" p1 d-dash
cp p1 ./-p1
"$F" encrypt -r "$pk1" -o c-p1 -- -p1 && "$F" decrypt -i k1 -- c-p1 >d-p1 && same "-- lets a file start with -" p1 d-p1
expect_fail "long option without a value is named" 2 "option --passphrase-fd needs a value" \
    "$F" decrypt --passphrase-fd
if [ "$(tr -d '\n -~' <"$T/.err" | wc -c)" -ne 0 ]; then
    bad "option error is printable text" "$(od -c "$T/.err" | head -n 3)"
else
    ok "option error is printable text"
fi
expect_fail "--require-escrow without a value" 2 "option --require-escrow needs a value" \
    "$F" decrypt --require-escrow
expect_fail "--output without a value" 2 "option --output needs a value" "$F" encrypt -r "$pk1" --output
expect_fail "authority create: unknown option" 2 "unknown option --bogus" "$F" authority create --bogus
expect_fail "authority show: unknown option" 2 "unknown option -x" "$F" authority show -x authority.pub
expect_fail "authority verify-share: --authority without a value" 2 "option --authority needs a value" \
    "$F" authority verify-share --authority
expect_fail "authority recover-local: --share without a value" 2 "option --share needs a value" \
    "$F" authority recover-local --share
expect_fail "authority create: missing options are named" 2 "--threshold, --agents, --name and --out" \
    "$F" authority create --threshold 2
expect_fail "authority show: no file" 2 "give the authority file" "$F" authority show
expect_fail "authority show: two files" 2 "unexpected argument" "$F" authority show a b

# ---- unreadable inputs, unwritable folders, full disks: what to do -----------------
# Permissions mean nothing to root: as root, run these as nobody.
AS=()
if [ "$(id -u)" = 0 ]; then
    command -v setpriv >/dev/null 2>&1 && AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    chmod 755 "$T"
    # nobody must be able to run the binary (not so under a 0700 /root).
    [ ${#AS[@]} -gt 0 ] && ! "${AS[@]}" "$F" --version >/dev/null 2>&1 && AS=()
fi
if [ "$(id -u)" != 0 ] || [ ${#AS[@]} -gt 0 ]; then
    chmod 755 "$T"
    mkdir rodir && chmod 555 rodir
    printf 'x\n' >unreadable && chmod 000 unreadable
    chmod 644 p1
    expect_fail "unreadable input: what to do" 1 "cannot open unreadable: Permission denied; check the permissions" \
        "${AS[@]}" "$F" encrypt -r "$pk1" -o "$T/never" unreadable
    expect_fail "output folder not writable: what to do" 1 \
        "cannot create a file next to rodir/x: Permission denied; check the permissions" \
        "${AS[@]}" "$F" encrypt -r "$pk1" -o rodir/x p1
    absent "unwritable folder: no output" rodir/x
    # A read-only file in a writable folder stays as it is (age cannot write it either).
    mkdir rwdir && printf 'keep\n' >rwdir/ro && chmod 444 rwdir/ro
    [ "$(id -u)" = 0 ] && chown -R 65534:65534 rwdir
    expect_fail "read-only output file: not replaced" 1 "cannot write rwdir/ro: Permission denied" \
        "${AS[@]}" "$F" encrypt -r "$pk1" -o rwdir/ro p1
    [ "$(cat rwdir/ro)" = keep ] && ok "read-only output file keeps its contents" || bad "read-only output" "replaced"
fi
expect_fail "missing input: what to do" 1 "cannot open missing: No such file or directory; check the path" \
    "$F" encrypt -r "$pk1" -o cx missing
head -c 300000 /dev/urandom >pbig
"$F" encrypt -r "$pk1" -o cbig pbig
if [ -w /dev/full ]; then
    expect_fail "disk full: what to do" 1 "No space left on device; the disk is full" \
        "$F" decrypt -i k1 -o /dev/full c1
    # A small output written whole (a key, a receipt, an audit state) names
    # the failed write too, not only its exit status.
    { "$F" request keygen --name edges.test/k -o - >/dev/full 2>"$T/.err"; echo $? >"$T/.rc"; }
    [ "$(cat "$T/.rc")" = 1 ] && grep -q '^fairkey: cannot write standard output: No space left on device' "$T/.err" &&
        ok "disk full on a whole-file output: one line says so" || bad "whole-file output, disk full" "exit $(cat "$T/.rc"): $(cat "$T/.err")"
fi
# A small tmpfs fills up mid-file: exit 1, no output, no temporary file.
if [ "$(id -u)" = 0 ] && mkdir small && mount -t tmpfs -o size=128k tmpfs small 2>/dev/null; then
    expect_fail "disk full mid-file (tmpfs)" 1 "No space left on device; the disk is full" \
        "$F" decrypt -i k1 -o small/out cbig
    [ -z "$(ls -A small)" ] && ok "disk full: nothing left in the folder" || bad "disk full" "$(ls -A small)"
    umount small
fi
# A consumer that stops reading: exit 1 with a line that says the output is
# incomplete (not a bare "Broken pipe").
{ "$F" decrypt -i k1 cbig 2>"$T/.err"; echo $? >"$T/.rc"; } | head -c 10 >/dev/null
[ "$(cat "$T/.rc")" = 1 ] && grep -q '^fairkey: .*output is incomplete' "$T/.err" &&
    ok "broken pipe: exit 1, the output is called incomplete" || bad "broken pipe" "exit $(cat "$T/.rc"): $(cat "$T/.err")"
# The last character changed (to q, or p if it was q): the checksum fails.
typo=${pk1%?}q; [ "$typo" = "$pk1" ] && typo=${pk1%?}p
expect_fail "a mistyped recipient: check it for a typo" 1 "not a valid recipient .*check it for a typo" \
    "$F" encrypt -r "$typo" -o cx p1

# ---- secrets are never echoed ------------------------------------------------------
# Bech32 is case-insensitive: a lower-case secret key is still a secret key.
sk_lower=$(tail -n 1 k1 | tr 'A-Z' 'a-z')
expect_fail "a lower-case secret key given to -r" 1 "secret key" "$F" encrypt -r "$sk_lower" -o cx p1
grep -qi "${sk_lower:16:20}" "$T/.err" && bad "-r does not echo a lower-case secret key" "echoed" ||
    ok "-r does not echo a lower-case secret key"
expect_fail "a secret key given to --require-escrow" 1 "secret key" \
    "$F" decrypt -i k1 --require-escrow "$(tail -n 1 k1)" c1
grep -qi "$(tail -n 1 k1 | cut -c 17-36)" "$T/.err" && bad "--require-escrow does not echo a secret key" "echoed" ||
    ok "--require-escrow does not echo a secret key"

# ---- identity files pasted with trailing blanks, or with CRLF ------------------------
sed 's/$/\r/' k1 >k1.crlf && chmod 600 k1.crlf
"$F" decrypt -i k1.crlf -o dcrlf c1 && same "identity file with CRLF line ends" p1 dcrlf
sed '3s/$/ /' k1 >k1.sp && chmod 600 k1.sp
expect_fail "identity with a trailing space: the line is named" 1 "k1.sp: line 3 ends in a space or tab" \
    "$F" decrypt -i k1.sp c1
expect_fail "encrypt -i with a trailing tab: the line is named" 1 "k1.tab: line 3 ends in a space or tab" \
    sh -c "sed '3s/\$/\t/' k1 >k1.tab && chmod 600 k1.tab && \"\$0\" encrypt -i k1.tab -o cx p1" "$F"
printf '# team\n%s \n' "$pk1" >rcp.sp
expect_fail "recipients file with a trailing space: the line is named" 1 "rcp.sp: line 2 ends in a space or tab" \
    "$F" encrypt -R rcp.sp -o cx p1
grep -q "$(tail -n 1 k1 | cut -c 17-36)" "$T/.err" && bad "trailing-blank error hides the key" "echoed" ||
    ok "trailing-blank error hides the key"

# ---- -h describes every flag docs/cli.md lists -----------------------------------------
for cmd in keygen encrypt decrypt; do
    "$F" $cmd -h >help.out 2>&1 || bad "$cmd -h exits 0" "exit $?"
    flags=$(sed -n "/^## $cmd\$/,/^## /p" "$DOC" | grep '^| `-' | cut -d'|' -f2 | grep -oE -- '`--?[a-zA-Z-]+' | tr -d '`')
    [ -n "$flags" ] || bad "$cmd: flags in docs/cli.md" "none found"
    missing=
    for fl in $flags; do grep -qE -- "(^|[ ,])$fl([ ,]|\$)" help.out || missing="$missing $fl"; done
    [ -z "$missing" ] && ok "$cmd -h describes every documented flag" || bad "$cmd -h" "missing:$missing"
done
"$F" inspect -h >help.out && grep -q 'Nothing' help.out && ok "inspect -h says what it does" ||
    bad "inspect -h" "$(cat help.out)"

# ---- --passphrase-fd naming a descriptor that is not open ---------------------------
# Descriptor 3 closed: the input file would get number 3 and its first line
# ("age-encryption.org/v1") would be read as the passphrase.
FAIRKEY_PASSPHRASE=pw "$F" encrypt -p -o cpfd p1
expect_fail "--passphrase-fd of a closed descriptor: refused before anything is opened" 2 \
    "passphrase-fd 3: that descriptor is not open; open it for the command \(3<passfile\)" \
    "$F" decrypt --passphrase-fd 3 -o dpfd cpfd 3<&-
absent "--passphrase-fd failure leaves no output" dpfd
printf 'pw\n' | "$F" decrypt --passphrase-fd 0 -o dpfd0 cpfd && same "--passphrase-fd 0 with a named input" p1 dpfd0
{ printf 'pw\n'; cat cpfd; } >pfd-and-file
expect_fail "--passphrase-fd 0 and the input on standard input" 1 "more than one purpose" \
    "$F" decrypt --passphrase-fd 0 -o dpfd1 <pfd-and-file
absent "--passphrase-fd 0 twice: no output" dpfd1

# ---- an scrypt work factor past the limit -----------------------------------------
# age says "work factor too large"; so does fairkey, naming the limit, and it
# asks for no passphrase first (setsid: no terminal to ask on).
for wf in 23 9223372036854775818; do
    perl -0777 -pe "s/^(-> scrypt \\S+) 18\$/\$1 $wf/m" cpfd >cwf$wf
    expect_fail "scrypt work factor $wf: too large, limit named" 1 \
        "work factor too large.*limit is 22" setsid -w "$F" decrypt -o dwf cwf$wf
    absent "scrypt work factor $wf: no output" dwf
done
expect_fail "scrypt work factor 23 with a passphrase given" 1 "work factor too large" \
    env FAIRKEY_PASSPHRASE=pw "$F" decrypt cwf23

# ---- a signal the caller ignores stays ignored (nohup) ------------------------------
# SIGHUP while decrypting from a FIFO under `trap '' HUP`: the command goes on
# and writes the whole output.
mkfifo hupfifo
(trap '' HUP; exec "$F" decrypt -i k1 -o dhup hupfifo) 2>/dev/null &
pid=$!
exec 3>hupfifo
head -c 70000 cbig >&3
for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ -n "$(find . -maxdepth 1 -name '.dhup.??????')" ] && break
    sleep 0.2
done
kill -HUP $pid 2>/dev/null
sleep 0.3
tail -c +70001 cbig >&3
exec 3>&-
wait $pid
rc=$?
[ $rc -eq 0 ] && same "an ignored SIGHUP does not stop decrypt -o" pbig dhup || bad "ignored SIGHUP" "exit $rc"

# ---- a signal during a passphrase prompt restores the terminal ------------------
# The prompt turns echo off; SIGTERM while it waits must turn it back on (and
# remove decrypt's temporary output).  script(1) gives the commands a terminal.
if command -v script >/dev/null 2>&1; then
    FAIRKEY_PASSPHRASE=pw "$F" encrypt -p -o cpw p1
    # Run the command, wait (up to 10 s) until its prompt has turned echo
    # off, send SIGTERM, then show the terminal's settings.
    cat >prompt.sh <<'EOS'
noecho() { stty -a | grep -Eq '(^| )-echo( |;|$)'; }
"$@" & pid=$!
i=0
while [ $i -lt 100 ] && ! noecho; do sleep 0.1; i=$((i + 1)); done
noecho && echo PROMPT-SEEN
kill -TERM $pid; wait $pid
stty -a
EOS
    # script(1) copies its standard input to the terminal and, at its end,
    # types an end-of-file there: hold a FIFO open for writing instead, so the
    # terminal gets only what the test writes to descriptor 4.
    mkfifo ttyin
    exec 4<>ttyin
    for cmd in "encrypt -p -o tty1 p1" "decrypt -o tty2 cpw"; do
        script -qec "sh prompt.sh \"$F\" $cmd" /dev/null <&4 >tty.out 2>&1
        if ! grep -q PROMPT-SEEN tty.out; then
            bad "SIGTERM at the prompt of '$cmd'" "the prompt never turned echo off: $(head -c 300 tty.out)"
        elif sed '/PROMPT-SEEN/,$!d' tty.out | sed 1d | grep -Eq '(^| )-echo( |;|$)'; then
            bad "SIGTERM at the prompt of '$cmd' restores echo" "stty says -echo"
        elif sed '/PROMPT-SEEN/,$!d' tty.out | grep -Eq '(^| )echo( |;|$)'; then
            ok "SIGTERM at the prompt of '$cmd' restores echo"
        else
            bad "SIGTERM at the prompt of '$cmd'" "no stty output: $(head -c 300 tty.out)"
        fi
    done
    absent "SIGTERM at encrypt's prompt leaves no output" tty1
    # A passphrase typed ahead, written to the terminal a second before the
    # command starts, is read: turning echo off flushes nothing.
    for cmd in "encrypt -p -o tya p1" "decrypt -o tyd tya"; do
        case $cmd in encrypt*) printf 'typed-ahead\ntyped-ahead\n' >&4 ;; *) printf 'typed-ahead\n' >&4 ;; esac
        timeout 20 script -qec "sleep 1; \"$F\" $cmd" /dev/null <&4 >tty.out 2>&1
        rc=$?
        [ $rc -eq 0 ] && ok "a passphrase typed ahead is read by '$cmd'" ||
            bad "a passphrase typed ahead is read by '$cmd'" "exit $rc: $(head -c 300 tty.out)"
    done
    exec 4>&-
    same "typed-ahead passphrase round trip" p1 tyd
    FAIRKEY_PASSPHRASE=typed-ahead "$F" decrypt -o tyd2 tya && same "the typed-ahead passphrase is the one used" p1 tyd2
    absent "SIGTERM at decrypt's prompt leaves no output" tty2
    no_temp_files "SIGTERM at a prompt leaves no temporary file" .
fi

finish
