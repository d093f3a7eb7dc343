#!/bin/bash
# Interoperability with typage (age-encryption on npm, a TypeScript age):
# it decrypts fairkey files that carry an escrow stanza (it skips the stanza,
# as age does), for several sizes around the 64 KiB chunk boundary, and
# fairkey decrypts what it writes.  The package is installed once into the
# build tree (TYPAGE_DIR) with npm; without node and npm the test is skipped.
set -u
TYPAGE_VERSION=0.2.4
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "skipped: node or npm is not installed (apt-get install nodejs npm)"
    exit 77
fi
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${TYPAGE_DIR:-$T/typage}
if [ ! -f "$DIR/node_modules/age-encryption/package.json" ]; then
    mkdir -p "$DIR"
    if ! (cd "$DIR" && timeout 300 npm install --no-audit --no-fund --silent \
            "age-encryption@$TYPAGE_VERSION" >npm.log 2>&1); then
        echo "skipped: npm could not install age-encryption@$TYPAGE_VERSION: $(tail -n 3 "$DIR/npm.log")"
        exit 77
    fi
fi
cp "$HERE/typage.mjs" "$DIR/typage.mjs"
typage() { node "$DIR/typage.mjs" "$@"; }
cd "$T" || exit 1
echo "# typage $(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$DIR/node_modules/age-encryption/package.json" | head -1) on node $(node --version) against $("$FAIRKEY" --version)"

NAMED_LOG="--log https://log.example.com/ --log-vkey example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"
"$FAIRKEY" keygen -o id 2>/dev/null
R=$(sed -n 's/^# public key: //p' id)
"$FAIRKEY" authority create --name typage $NAMED_LOG -t 1 -n 1 -o auth >/dev/null
A=$("$FAIRKEY" authority show --recipient auth/authority.pub)
for size in 0 1 65535 65536 65537 200000; do
    head -c "$size" /dev/urandom >p$size
    "$FAIRKEY" encrypt -r "$R" -r "$A" -o e$size.age p$size
    "$FAIRKEY" inspect e$size.age | grep -q "escrow to authority $A, .*validity proof ok" \
        || bad "size $size" "no escrow stanza in fairkey's file"
    if typage decrypt id e$size.age d$size 2>err && cmp -s p$size d$size; then
        ok "typage decrypts fairkey's escrowed file ($size bytes)"
    else
        bad "typage decrypts fairkey's escrowed file ($size bytes)" "$(head -c 300 err)"
    fi
    if typage encrypt "$R" p$size t$size.age 2>err && "$FAIRKEY" decrypt -i id -o f$size t$size.age 2>>err &&
        cmp -s p$size f$size; then
        ok "fairkey decrypts typage's file ($size bytes)"
    else
        bad "fairkey decrypts typage's file ($size bytes)" "$(head -c 300 err)"
    fi
done
finish
