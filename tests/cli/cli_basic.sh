#!/bin/bash
# Black-box tests of fairkey keygen/encrypt/decrypt/inspect: formats, modes,
# round trips, passphrases, and every failure the CLI must report in one line
# with exit 1 (2 for usage), leaving no output file behind.
set -u
. "$(dirname "$0")/lib.sh"
unset FAIRKEY_PASSPHRASE
umask 022
F=$FAIRKEY
cd "$T" || exit 1

# ---- keygen --------------------------------------------------------------
"$F" keygen -o k1 2>k1.err
check "keygen -o exits 0" test -s k1
mode=$(stat -c %a k1)
[ "$mode" = 600 ] && ok "keygen file mode is 0600" || bad "keygen file mode" "$mode"
pk1=$(sed -n 's/^# public key: //p' k1)
grep -Eq '^# created: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})$' k1 &&
    ok "keygen writes '# created: <RFC 3339>'" || bad "keygen created line" "$(head -n 1 k1)"
grep -Eq '^AGE-SECRET-KEY-1[0-9A-Z]{58}$' k1 && ok "keygen writes AGE-SECRET-KEY-1" ||
    bad "keygen secret line" "missing"
[ "$(wc -l <k1)" -eq 3 ] && ok "keygen file has three lines" || bad "keygen lines" "$(wc -l <k1)"
[[ $pk1 =~ ^age1[0-9a-z]{58}$ ]] && ok "keygen public key is age1..." || bad "public key" "$pk1"
[ "$(cat k1.err)" = "Public key: $pk1" ] && ok "keygen -o prints the public key on stderr" ||
    bad "keygen stderr" "$(cat k1.err)"
[ "$("$F" keygen -y k1)" = "$pk1" ] && ok "keygen -y FILE prints the recipient" || bad "keygen -y" "mismatch"
[ "$("$F" keygen -y <k1)" = "$pk1" ] && ok "keygen -y reads standard input" || bad "keygen -y stdin" "mismatch"
"$F" keygen -y -o k1.pub k1 && [ "$(cat k1.pub)" = "$pk1" ] && ok "keygen -y -o" || bad "keygen -y -o" "mismatch"
cp k1 k1.before
expect_fail "keygen refuses to overwrite" 1 "already exists" "$F" keygen -o k1
same "keygen left the existing file alone" k1 k1.before
ln -s k1 k1.link
expect_fail "keygen -y refuses a symlinked key file" 1 "symbolic link" "$F" keygen -y k1.link
expect_fail "keygen -o into a missing folder" 1 "cannot create" "$F" keygen -o nodir/k
"$F" keygen 2>k2.err | cat >k2
chmod 600 k2
pk2=$(sed -n 's/^# public key: //p' k2)
[ "$(cat k2.err)" = "Public key: $pk2" ] && ok "keygen to a pipe prints the public key on stderr" ||
    bad "keygen stdout stderr" "$(cat k2.err)"
"$F" keygen >k4 2>k4.err
grep -q '^fairkey: warning: writing a secret key to a world-readable file' k4.err &&
    ok "keygen warns when stdout is a world-readable file" || bad "keygen world-readable" "$(cat k4.err)"
"$F" keygen -o k3 2>/dev/null
pk3=$(sed -n 's/^# public key: //p' k3)
printf 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n' >badkey
chmod 600 badkey
expect_fail "keygen -y rejects a bad identity" 1 "malformed identity at line 1" "$F" keygen -y badkey
printf '# only a comment\n' >emptykeys
expect_fail "keygen -y with no identities" 1 "no identities" "$F" keygen -y emptykeys
no_temp_files "keygen leaves no temporary files" .

# ---- round trips -----------------------------------------------------------
for n in 0 1 65535 65536 65537 200000; do head -c $n /dev/urandom >p$n; done
for n in 0 1 65535 65536 65537 200000; do
    "$F" encrypt -r "$pk1" -o c$n p$n && "$F" decrypt -i k1 -o d$n c$n
    same "round trip $n bytes" p$n d$n
    "$F" encrypt -a -r "$pk1" p$n >a$n && "$F" decrypt -i k1 a$n >da$n
    same "armored round trip $n bytes (stdout)" p$n da$n
done
head -n 1 a1 | grep -qx -- '-----BEGIN AGE ENCRYPTED FILE-----' && ok "armor begins with the PEM line" ||
    bad "armor" "$(head -n 1 a1)"
mode=$(stat -c %a c1)
[ "$mode" = 644 ] && ok "ciphertext file mode follows the umask (0644)" || bad "ciphertext mode" "$mode"
"$F" encrypt -r "$pk1" -r "$pk2" -r "$pk3" -o cm p65537
for k in k1 k2 k3; do
    "$F" decrypt -i $k -o dm.$k cm && same "three recipients: $k decrypts" p65537 dm.$k
done
"$F" decrypt -i k3 -i k1 -o dm2 c1 && same "several -i: the second matches" p1 dm2
printf '# team\n\n%s\n%s\r\n' "$pk1" "$pk2" >rcpts
"$F" encrypt -R rcpts -o cr p1 && "$F" decrypt -i k2 -o dr cr && same "-R file (comments, blank, CRLF)" p1 dr
"$F" encrypt -i k3 -o ci p1 && "$F" decrypt -i k3 -o di ci && same "encrypt -i (to the identity's recipient)" p1 di
cat k1 k2 >k12 && chmod 600 k12
"$F" decrypt -i k12 -o d12 cm && same "identity file with two keys" p65537 d12
"$F" encrypt -r "$pk1" <p65536 | "$F" decrypt -i k1 >dpipe && same "pipes in and out" p65536 dpipe
"$F" encrypt -e -r "$pk1" -o ce p1 && "$F" decrypt -d -i k1 -o de ce && same "age's -e and -d are accepted" p1 de
"$F" encrypt --recipient "$pk1" --armor --output cl p1 && "$F" decrypt --identity k1 --output dl cl &&
    same "long options" p1 dl
cp p1 inplace && "$F" encrypt -r "$pk1" -o inplace inplace && "$F" decrypt -i k1 -o inplace inplace &&
    same "output may replace the input" p1 inplace
echo "old" >keep
expect_fail "decrypt failure keeps an existing -o file" 1 "no identity matched" "$F" decrypt -i k2 -o keep c1
[ "$(cat keep)" = old ] && ok "existing output untouched on failure" || bad "existing output" "changed"

# ---- passphrases -------------------------------------------------------------
FAIRKEY_PASSPHRASE='correct horse' "$F" encrypt -p -o cp p65537
grep -aq '^-> scrypt ' cp && ok "-p writes a scrypt stanza" || bad "-p" "no scrypt stanza"
FAIRKEY_PASSPHRASE='correct horse' "$F" decrypt -o dp cp && same "passphrase round trip (FAIRKEY_PASSPHRASE)" p65537 dp
printf 'correct horse\n' >passfile
"$F" decrypt --passphrase-fd 3 -o dp3 cp 3<passfile && same "passphrase from --passphrase-fd" p65537 dp3
expect_fail "wrong passphrase" 1 "passphrase is wrong" env FAIRKEY_PASSPHRASE=wrong "$F" decrypt -o dpw cp
absent "wrong passphrase leaves no output" dpw
expect_fail "passphrase file with -i" 1 "passphrase-encrypted" "$F" decrypt -i k1 -o dpi cp
expect_fail "X25519 file without -i" 1 "not passphrase-encrypted" env FAIRKEY_PASSPHRASE=x "$F" decrypt c1
expect_fail "no passphrase source and no terminal" 1 "FAIRKEY_PASSPHRASE" setsid -w "$F" decrypt -o dpn cp
expect_fail "empty passphrase" 1 "empty" env FAIRKEY_PASSPHRASE= "$F" encrypt -p -o cpe p1
long=$(head -c 4096 /dev/zero | tr '\0' 'x')
FAIRKEY_PASSPHRASE=$long "$F" encrypt -p -o clong p1 && FAIRKEY_PASSPHRASE=$long "$F" decrypt -o dlong clong &&
    same "4096-byte passphrase (the limit)" p1 dlong
expect_fail "4097-byte passphrase (one past the limit)" 1 "longer than 4096" \
    env FAIRKEY_PASSPHRASE="${long}x" "$F" encrypt -p -o clong2 p1
printf '%sx\n' "$long" >longpass
expect_fail "4097-byte passphrase from an fd" 1 "longer than 4096" "$F" decrypt --passphrase-fd 3 cp 3<longpass
expect_fail "--passphrase-fd not a number" 2 "file descriptor" "$F" decrypt --passphrase-fd x cp

# ---- failures: wrong key, truncation, corruption -------------------------------
expect_fail "wrong key" 1 "no identity matched any of the file's recipients; check the -i files" \
    "$F" decrypt -i k2 -o dw c200000
absent "wrong key leaves no output file" dw
size=$(stat -c %s c200000)
head -c $((size - 100)) c200000 >ct
# 200000 bytes = 3 full chunks + 3392: cutting into the last chunk leaves the
# first three authentic.
expect_fail "truncated file" 1 "truncated or corrupted after 196608 bytes of plaintext \(chunk 3\)" \
    "$F" decrypt -i k1 -o dt ct
absent "truncated file leaves no output file" dt
"$F" decrypt -i k1 ct >dts 2>/dev/null
[ $? -eq 1 ] && ok "truncated file on stdout exits 1" || bad "truncated stdout exit" "not 1"
head -c 196608 p200000 >p196608
same "truncated file: stdout got exactly the authentic chunks" p196608 dts
hl=$(header_len c200000)
cp c200000 cc && flip_byte cc $((hl + 16 + 65536 + 16 + 100))
expect_fail "corrupted second chunk" 1 "corrupted after 65536 bytes of plaintext \(chunk 1\)" "$F" decrypt -i k1 -o dc cc
absent "corrupted chunk leaves no output file" dc
"$F" decrypt -i k1 cc >dcs 2>/dev/null
head -c 65536 p200000 >p65536b
same "corrupted chunk: stdout got exactly the first chunk" p65536b dcs
# A different, still valid base64 character inside the MAC.
cp c1 cmac
moff=$(($(header_len c1) - 10))
mc=$(dd if=cmac bs=1 skip=$moff count=1 status=none)
[ "$mc" = A ] && mc=B || mc=A
printf %s "$mc" | dd of=cmac bs=1 seek=$moff conv=notrunc status=none
expect_fail "altered header MAC" 1 "MAC" "$F" decrypt -i k1 -o dmac cmac
absent "altered MAC leaves no output file" dmac
head -c 20 c1 >chdr
expect_fail "file cut inside the header" 1 "header" "$F" decrypt -i k1 -o dh chdr
echo "hello" >notage
expect_fail "not an age file" 1 "header|not an age file" "$F" decrypt -i k1 notage
cp c1 ctrail && printf 'x' >>ctrail
expect_fail "trailing data after the last chunk" 1 "truncated or corrupted" "$F" decrypt -i k1 -o dtr ctrail
absent "trailing data leaves no output file" dtr

# A header over 16 MiB: one stanza whose body is 17 MiB of 64-column base64.
{
    printf 'age-encryption.org/v1\n-> X25519 %s\n' "$(head -n 2 c1 | tail -n 1 | cut -d' ' -f3)"
    head -c $((48 * 360000)) /dev/zero | base64 -w 64
    printf '\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n'
} >chuge
expect_fail "header larger than 16 MiB" 1 "16 MiB" "$F" decrypt -i k1 -o dhuge chuge
absent "huge header leaves no output file" dhuge

# Non-canonical base64: the X25519 share's last character with unused bits set.
A=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/
share=$(head -n 2 c1 | tail -n 1 | cut -d' ' -f3)
last=${share: -1}
prefix=${A%%"$last"*}
idx=${#prefix}
nc="${share:0:42}${A:$((idx + 1)):1}"
{ head -n 1 c1; printf -- '-> X25519 %s\n' "$nc"; tail -c +$(($(head -n 2 c1 | wc -c) + 1)) c1; } >cnc
[ "$(stat -c %s cnc)" = "$(stat -c %s c1)" ] && ok "built a non-canonical share" || bad "non-canonical" "size"
expect_fail "non-canonical base64 in a stanza" 1 "header" "$F" decrypt -i k1 -o dnc cnc
absent "non-canonical stanza leaves no output file" dnc

# Bad armor: a character outside base64, and text after the end line.
sed '2s/^./!/' a65537 >abad
expect_fail "armor with an invalid character" 1 "armor" "$F" decrypt -i k1 -o dab abad
absent "bad armor leaves no output file" dab
{ cat a1; echo "trailing garbage"; } >abad2
expect_fail "armor with trailing garbage" 1 "armor" "$F" decrypt -i k1 abad2
sed '$d' a1 >abad3
expect_fail "armor without its end line" 1 "armor" "$F" decrypt -i k1 abad3
no_temp_files "failures leave no temporary files" .
# Interrupted mid-file: SIGTERM removes the temporary output.
mkfifo slow
"$F" decrypt -i k1 -o dsig slow 2>/dev/null &
pid=$!
exec 3>slow
head -c 70000 c200000 >&3
for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ -n "$(find . -maxdepth 1 -name '.dsig.??????')" ] && break
    sleep 0.2
done
[ -n "$(find . -maxdepth 1 -name '.dsig.??????')" ] && ok "decrypt -o writes a temporary file first" ||
    bad "temporary output" "none seen while decrypting"
kill -TERM $pid
wait $pid 2>/dev/null
exec 3>&-
absent "SIGTERM leaves no output file" dsig
no_temp_files "SIGTERM removes the temporary file" .

# ---- recipients and identity files ----------------------------------------------
expect_fail "invalid -r" 1 "not a valid recipient" "$F" encrypt -r age1nope -o x p1
expect_fail "secret key given to -r" 1 "secret key" "$F" encrypt -r "$(tail -n 1 k1)" -o x p1
expect_fail "malformed ssh key given to -r" 1 "SSH recipient of type ssh-ed25519: the key data" \
    "$F" encrypt -r "ssh-ed25519 AAAA" -o x p1
cp k1 k1.rcpt
expect_fail "secret key in a -R file (not echoed)" 1 "k1.rcpt: malformed recipient at line 3" \
    "$F" encrypt -R k1.rcpt -o x p1
grep -q AGE-SECRET "$T/.err" && bad "-R error hides the line" "secret echoed" || ok "-R error does not echo the line"
# A line fairkey cannot use fails the command, as in age: never a file
# encrypted to fewer recipients than the list names.
printf '%s\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO0X user@host\n' "$pk1" >sshrcpt
expect_fail "-R file with an unusable line" 1 "sshrcpt: line 2: SSH key of type ssh-ed25519: .*malformed" \
    "$F" encrypt -R sshrcpt -o xssh p1
absent "-R file with an unusable line writes nothing" xssh
no_temp_files "-R file with an unusable line leaves no temporary" .
expect_fail "-r with an unusable recipient" 1 "ecdsa-sha2-nistp256: .*cannot be age recipients" \
    "$F" encrypt -r "$pk1" -r "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY=" -o xssh p1
absent "-r with an unusable recipient writes nothing" xssh
printf '# nothing\n' >norcpt
expect_fail "-R file with no recipients" 1 "no recipients found" "$F" encrypt -R norcpt -o x p1
expect_fail "-R missing file" 1 "cannot open" "$F" encrypt -R missing -o x p1
expect_fail "-i missing file" 1 "cannot open" "$F" decrypt -i missing c1
expect_fail "-i symlink" 1 "symbolic link" "$F" decrypt -i k1.link c1
expect_fail "-i with a bad identity" 1 "not a valid identity file" "$F" decrypt -i badkey c1
expect_fail "standard input used twice" 1 "more than one purpose" "$F" encrypt -R - -o x - <rcpts
absent "nothing written after a recipient error" x
# Limits: a line of 8 KiB is parsed (and is not a recipient), one more byte is too long.
{ head -c 8192 /dev/zero | tr '\0' 'a'; echo; } >line8k
expect_fail "8192-byte line (the limit) is parsed" 1 "malformed recipient at line 1" "$F" encrypt -R line8k -o x p1
{ head -c 8193 /dev/zero | tr '\0' 'a'; echo; } >line8k1
expect_fail "8193-byte line (one past the limit)" 1 "line 1 is too long" "$F" encrypt -R line8k1 -o x p1
# A 16 MiB recipients file is read; one byte more is refused.
{ echo "$pk1"; head -c $((16 * 1024 * 1024 - ${#pk1} - 3)) /dev/zero | tr '\0' '#'; echo; } >big16
[ "$(stat -c %s big16)" -eq $((16 * 1024 * 1024 - 1)) ] || bad "big16 size" "$(stat -c %s big16)"
echo >>big16
"$F" encrypt -R big16 -o cbig p1 && "$F" decrypt -i k1 -o dbig cbig && same "16 MiB recipients file (the limit)" p1 dbig
echo >>big16
expect_fail "16 MiB + 1 recipients file (one past the limit)" 1 "larger than 16777216 bytes" \
    "$F" encrypt -R big16 -o x p1

# ---- inspect ---------------------------------------------------------------------
"$F" inspect c200000 >ins 2>&1
grep -q 'age-encryption.org/v1 (binary)' ins && grep -q '1. X25519 recipient' ins &&
    grep -q "payload: $((size - hl)) bytes" ins && grep -q 'plaintext: 200000 bytes' ins &&
    ok "inspect: binary X25519 file" || bad "inspect binary" "$(cat ins)"
"$F" inspect a65537 >ins 2>&1
grep -q 'ASCII armored' ins && grep -q 'plaintext: 65537 bytes' ins && ok "inspect: armored file" ||
    bad "inspect armored" "$(cat ins)"
"$F" inspect <cp >ins 2>&1
grep -q 'passphrase (scrypt, work factor 2^18)' ins && ok "inspect: scrypt file from stdin" ||
    bad "inspect scrypt" "$(cat ins)"
"$F" inspect cm >ins 2>&1
grep -q '3 stanzas' ins && grep -q 'plaintext: 65537 bytes' ins && ok "inspect: three recipients" ||
    bad "inspect three" "$(cat ins)"
"$F" inspect c0 >ins 2>&1
grep -q 'plaintext: 0 bytes' ins && ok "inspect: empty plaintext" || bad "inspect empty" "$(cat ins)"
# A payload whose last sealed chunk is shorter than a tag fits no plaintext.
head -c $((hl + 16 + 3 * 65552 + 10)) c200000 >cshort
"$F" inspect cshort >ins 2>&1
grep -q 'plaintext: none' ins && ok "inspect: truncated payload is named" || bad "inspect truncated" "$(cat ins)"
expect_fail "inspect a non-age file" 1 "header|not an age file" "$F" inspect notage

# ---- usage errors (exit 2) ----------------------------------------------------------
expect_fail "encrypt without recipients" 2 "no recipients" "$F" encrypt -o x p1
expect_fail "encrypt -p with -r" 2 "cannot be combined" "$F" encrypt -p -r "$pk1" p1
expect_fail "encrypt unknown flag" 2 "unknown option --bogus" "$F" encrypt --bogus -r "$pk1" p1
expect_fail "encrypt two inputs" 2 "one input" "$F" encrypt -r "$pk1" p1 p1
expect_fail "decrypt unknown flag" 2 "unknown option -x" "$F" decrypt -x c1
expect_fail "decrypt two inputs" 2 "one input" "$F" decrypt -i k1 c1 c1
expect_fail "keygen extra argument" 2 "unexpected argument 'extra'" "$F" keygen extra
expect_fail "inspect two files" 2 "unexpected argument" "$F" inspect c1 c1
expect_fail "-o without a value" 2 "option -o needs a value" "$F" encrypt -r "$pk1" -o
expect_fail "unknown command" 2 "unknown command" "$F" frobnicate
check "help exits 0" "$F" help
if command -v script >/dev/null 2>&1; then
    script -qec "\"$F\" encrypt -r $pk1 p1" /dev/null >tty.out 2>&1
    rc=$?
    [ $rc -eq 2 ] && grep -q "refusing to write binary" tty.out && ok "refuses binary ciphertext on a terminal" ||
        bad "binary on terminal" "exit $rc: $(cat tty.out)"
    script -qec "\"$F\" encrypt -a -r $pk1 p1" /dev/null >tty.out 2>&1 &&
        grep -q 'BEGIN AGE ENCRYPTED FILE' tty.out && ok "armor on a terminal is allowed" ||
        bad "armor on terminal" "$(head -c 200 tty.out)"
    script -qec "\"$F\" keygen" /dev/null >tty.out 2>&1
    grep -q "warning: writing a secret key to the terminal" tty.out && ok "keygen warns on a terminal" ||
        bad "keygen terminal warning" "$(head -c 300 tty.out)"
fi
no_temp_files "no temporary files at the end" .
finish
