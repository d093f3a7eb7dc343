#!/bin/bash
# Every C2SP CCTV age vector through `fairkey decrypt`: the exit code, a
# one-line error naming the right failure class, exactly the authentic
# plaintext on standard output (checked against the vector's payload hash, also
# for payload failures), and no output file left behind with -o on failure.
set -u
. "$(dirname "$0")/lib.sh"
: "${FK_TESTDATA:?}"
V=$FK_TESTDATA/age-cctv
unset FAIRKEY_PASSPHRASE

# split <vector> <dir>: writes dir/meta (the key: value lines) and dir/file
# (the age file, inflated when the vector says "compressed: zlib").
split_vector() {
    perl -MCompress::Zlib -e '
        local $/; open(my $f, "<:raw", $ARGV[0]) or die; my $all = <$f>;
        my $i = index($all, "\n\n"); die "no blank line" if $i < 0;
        my $meta = substr($all, 0, $i + 1); my $body = substr($all, $i + 2);
        if ($meta =~ /^compressed: zlib$/m) { $body = uncompress($body); die "zlib" unless defined $body; }
        open(my $m, ">", "$ARGV[1]/meta") or die; print $m $meta;
        open(my $o, ">:raw", "$ARGV[1]/file") or die; print $o $body;' "$1" "$2"
}

class_pattern() {
    case $1 in
    "success") echo "" ;;
    "no match") echo "no identity matched|passphrase is wrong|not passphrase-encrypted" ;;
    "HMAC failure") echo "MAC" ;;
    "header failure") echo "header" ;;
    # Text before "-----BEGIN" is not armor at all, so it fails as a binary
    # header; the vectors allow aliasing the two classes.
    "armor failure") echo "armor|header" ;;
    "payload failure") echo "truncated or corrupted" ;;
    *) echo "?" ;;
    esac
}

n=0
for vec in "$V"/*; do
    name=$(basename "$vec")
    case $name in README* | LICENSE*) continue ;; esac
    n=$((n + 1))
    D=$T/$name
    mkdir -p "$D"
    if ! split_vector "$vec" "$D"; then bad "$name" "cannot split the vector"; continue; fi
    expect=$(sed -n 's/^expect: //p' "$D/meta")
    payload=$(sed -n 's/^payload: //p' "$D/meta")
    pass=$(sed -n 's/^passphrase: //p' "$D/meta")
    sed -n 's/^identity: //p' "$D/meta" >"$D/ids"
    chmod 600 "$D/ids"
    args=()
    [ -s "$D/ids" ] && args=(-i "$D/ids")
    pq=0
    grep -q 'AGE-SECRET-KEY-PQ-' "$D/ids" && pq=1

    if [ -n "$pass" ]; then export FAIRKEY_PASSPHRASE=$pass; else unset FAIRKEY_PASSPHRASE; fi
    "$FAIRKEY" decrypt "${args[@]}" "$D/file" >"$D/out" 2>"$D/err"
    rc=$?
    # The -o run matters for failures (no file may be left); for the large
    # (compressed) success vectors it would only repeat the stdout run.
    if [ "$expect" = success ] && grep -q '^compressed:' "$D/meta"; then
        cp "$D/out" "$D/out2"
        rc2=$rc
    else
        "$FAIRKEY" decrypt "${args[@]}" -o "$D/out2" "$D/file" >/dev/null 2>&1
        rc2=$?
    fi
    unset FAIRKEY_PASSPHRASE

    # ML-KEM hybrid recipients are outside this build: reported as unsupported.
    if [ $pq = 1 ] && [ $rc = 1 ] && grep -q 'support' "$D/err"; then
        ok "$name: hybrid reported as unsupported"
        continue
    fi
    lines=$(grep -c '' "$D/err")
    got=$(sha256sum <"$D/out" | cut -d' ' -f1)
    if [ "$expect" = success ]; then
        if [ $rc != 0 ] || [ $rc2 != 0 ]; then
            bad "$name" "expected success, exit $rc/$rc2: $(head -c 200 "$D/err")"
        elif [ -n "$payload" ] && [ "$got" != "$payload" ]; then
            bad "$name" "plaintext hash differs"
        elif ! cmp -s "$D/out" "$D/out2"; then
            bad "$name" "-o output differs from stdout"
        else
            ok "$name: success"
        fi
        continue
    fi
    pat=$(class_pattern "$expect")
    if [ $rc != 1 ] || [ $rc2 != 1 ]; then
        bad "$name" "expected $expect (exit 1), got exit $rc/$rc2"
    elif [ "$lines" != 1 ] || ! grep -q '^fairkey: ' "$D/err"; then
        bad "$name" "error is not one 'fairkey: ' line: $(head -c 200 "$D/err")"
    elif ! grep -Eq "$pat" "$D/err"; then
        bad "$name" "expected $expect, message: $(cat "$D/err")"
    elif [ -n "$payload" ] && [ "$got" != "$payload" ]; then
        bad "$name" "released plaintext does not match the vector's payload hash"
    elif [ -z "$payload" ] && [ -s "$D/out" ]; then
        bad "$name" "plaintext released for a $expect"
    elif [ -e "$D/out2" ]; then
        bad "$name" "-o left an output file after a failure"
    else
        ok "$name: $expect"
    fi
done
[ $n -gt 100 ] && ok "ran $n vectors" || bad "vector count" "only $n vectors found in $V"
no_temp_files "no temporary files" "$T"
finish
