#!/bin/bash
# Install the build into a temporary prefix (and a DESTDIR stage) and use it
# from there: keygen and an encrypt/decrypt round trip through the installed
# bin/fairkey, network commands through the installed
# libexec/fairkey/fairkey-net (also through a symbolic link to fairkey), the
# man pages (groff lint, man -l), the plugin; then fairkey-net missing or not
# executable gives one clear line and exit 1, and PATH is never searched.
#   install.sh CMAKE BINDIR LIBEXECDIR MANDIR
set -u
. "$FK_SOURCE_DIR/tests/cli/lib.sh"
CMAKE=$1 BINDIR=$2 LIBEXECDIR=$3 MANDIR=$4
case "$BINDIR$LIBEXECDIR$MANDIR" in
/*) echo "skip: absolute install folders ($BINDIR, $LIBEXECDIR, $MANDIR)"; exit 77 ;;
esac
cd "$T" || exit 1
unset FAIRKEY_PASSPHRASE

P=$T/prefix
"$CMAKE" --install "$FK_BUILD_DIR" --prefix "$P" >install.log 2>&1 ||
    { cat install.log; bad "cmake --install" "exit $?"; finish; }
ok "cmake --install --prefix"
FK=$P/$BINDIR/fairkey
NET=$P/$LIBEXECDIR/fairkey/fairkey-net
PLUGIN=$P/$BINDIR/age-plugin-fairkey
for f in "$FK" "$NET" "$PLUGIN"; do
    [ -f "$f" ] && [ -x "$f" ] && ok "installed executable ${f#$P/}" || bad "installed ${f#$P/}" "missing or not executable"
done
absent "fairkey-net is not on the bin folder" "$P/$BINDIR/fairkey-net"
for u in lib/systemd/system/fairkey-log.service lib/systemd/system/fairkey-agent.service \
    lib/systemd/system/fairkey-witness.service lib/sysusers.d/fairkey.conf \
    share/doc/fairkey/examples/log.conf share/doc/fairkey/examples/agent.conf \
    share/doc/fairkey/examples/witness.conf; do
    [ -f "$P/$u" ] && ok "installed $u" || bad "service file $u" "missing"
done
for m in fairkey age-plugin-fairkey; do
    [ -f "$P/$MANDIR/man1/$m.1" ] && ok "installed ${MANDIR}/man1/$m.1" || bad "man page $m.1" "missing"
done

# ---- local commands from the prefix ------------------------------------------
ver=$("$FAIRKEY" --version)
[ "$("$FK" --version)" = "$ver" ] && ok "installed fairkey --version: $ver" || bad "installed --version" "$("$FK" --version 2>&1)"
check "installed fairkey keygen -o" "$FK" keygen -o key
pk=$(sed -n 's/^# public key: //p' key)
[[ $pk =~ ^age1[0-9a-z]{58}$ ]] && ok "keygen wrote an age1 recipient" || bad "keygen recipient" "$pk"
head -c 100000 /dev/urandom >plain
check "installed fairkey encrypt" "$FK" encrypt -r "$pk" -o c.age plain
check "installed fairkey decrypt" "$FK" decrypt -i key -o d c.age
same "installed round trip" plain d

# ---- network commands: fairkey execs the installed fairkey-net -----------------
"$FK" request --help >req.out 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '^usage: fairkey request ' req.out && ok "installed fairkey request --help runs fairkey-net" ||
    bad "installed request --help" "exit $rc: $(head -c 300 req.out)"
"$FK" demo >demo.out 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '^Done in' demo.out && ok "installed fairkey demo (log, agents, recovery, audit)" ||
    bad "installed demo" "exit $rc: $(tail -n 3 demo.out)"
mkdir elsewhere && ln -s "$FK" elsewhere/fk
"$T/elsewhere/fk" agent --help >link.out 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '^usage: fairkey agent ' link.out && ok "a symbolic link to the installed fairkey finds fairkey-net" ||
    bad "symlinked fairkey" "exit $rc: $(head -c 300 link.out)"

# One folder holding both (as the build folder does) works too.
mkdir flat && cp "$FK" "$NET" flat/
flat/fairkey request --help >flat.out 2>&1 && grep -q '^usage: fairkey request ' flat.out &&
    ok "fairkey-net beside fairkey is found" || bad "flat layout" "$(head -c 300 flat.out)"

# ---- a DESTDIR stage for another prefix ----------------------------------------
DESTDIR=$T/stage "$CMAKE" --install "$FK_BUILD_DIR" --prefix /opt/fk >stage.log 2>&1 &&
    ok "DESTDIR=... cmake --install --prefix /opt/fk" || bad "DESTDIR install" "$(tail -n 3 stage.log)"
S=$T/stage/opt/fk
"$S/$BINDIR/fairkey" demo --help >stage.out 2>&1 && grep -q '^usage: fairkey demo' stage.out &&
    ok "the staged fairkey finds its staged fairkey-net" || bad "staged demo --help" "$(head -c 300 stage.out)"

# ---- man pages ----------------------------------------------------------------
if ! command -v groff >/dev/null; then
    bad "man pages" "groff is not installed; run scripts/deps.sh (man-db)"
else
    for m in fairkey age-plugin-fairkey; do
        f=$P/$MANDIR/man1/$m.1
        groff -man -Tutf8 -ww -z "$f" 2>lint.err
        [ ! -s lint.err ] && ok "groff -ww finds nothing in $m.1" || bad "groff lint $m.1" "$(head -c 300 lint.err)"
        grep -q "^\.TH .* \"fairkey ${ver#fairkey }\" " "$f" && ok "$m.1 names version ${ver#fairkey }" ||
            bad "$m.1 version" "$(grep '^\.TH' "$f")"
    done
fi
if ! command -v man >/dev/null; then
    bad "man -l" "man is not installed; run scripts/deps.sh (man-db)"
else
    MANWIDTH=80 man -l "$P/$MANDIR/man1/fairkey.1" >man.out 2>man.err
    grep -q '^NAME' man.out && grep -q 'fairkey - age v1 file encryption' man.out &&
        grep -q 'libexec/fairkey/fairkey-net' man.out && [ ! -s man.err ] &&
        ok "man -l renders fairkey.1" || bad "man -l fairkey.1" "$(head -c 300 man.err)"
    # Every command the program lists has an entry in the man page.
    "$FK" help | sed -n 's/^  \([a-z-]*\) .*/\1/p' >cmds
    missing=
    while read -r c; do
        grep -Eq "^ +fairkey +$c( |$)" man.out || missing="$missing $c"
    done <cmds
    [ "$(grep -c '' cmds)" -ge 11 ] && [ -z "$missing" ] &&
        ok "fairkey.1 has an entry for each of the $(grep -c '' cmds) commands" ||
        bad "fairkey.1 command entries" "missing:$missing (of $(tr '\n' ' ' <cmds))"
    MANWIDTH=80 man -M "$P/$MANDIR" age-plugin-fairkey >manp.out 2>manp.err
    grep -q 'recipient-v1' manp.out && ok "man -M PREFIX/$MANDIR age-plugin-fairkey" ||
        bad "man -M age-plugin-fairkey" "$(head -c 300 manp.err)"
fi

# ---- the plugin ---------------------------------------------------------------
[ "$("$PLUGIN" --version)" = "age-plugin-fairkey ${ver#fairkey }" ] && ok "installed age-plugin-fairkey --version" ||
    bad "plugin --version" "$("$PLUGIN" --version 2>&1)"

# ---- fairkey-net missing or broken ---------------------------------------------
mkdir evil && printf '#!/bin/sh\ntouch "%s/evil.ran"\n' "$T" >evil/fairkey-net && chmod +x evil/fairkey-net
mv "$NET" "$T/net.away"
PATH=$T/evil:$PATH expect_fail "fairkey-net missing: one line, exit 1" 1 \
    "fairkey-net is missing \(looked for .*/bin/fairkey-net and .*/libexec/fairkey/fairkey-net\); reinstall" \
    "$FK" request --help
[ ! -s "$T/.out" ] && ok "nothing on standard output" || bad "missing fairkey-net stdout" "$(head -c 200 "$T/.out")"
absent "PATH is not searched for fairkey-net" "$T/evil.ran"
check "local commands run without fairkey-net" "$FK" keygen -o key2
cp "$T/net.away" "$NET" && chmod a-x "$NET"
expect_fail "fairkey-net not executable: one line, exit 1" 1 \
    "cannot run .*/libexec/fairkey/fairkey-net: Permission denied; reinstall" "$FK" audit --help
finish
