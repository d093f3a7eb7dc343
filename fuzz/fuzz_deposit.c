/* libFuzzer: source deposit records (docs/protocol.md 10), as the log
 * admits them and an audit or 'deposit verify' reads them.
 *  - canonical record text: what parses encodes back to exactly the input;
 *  - a signed deposit note: what verifies has a canonical text followed by
 *    the blank line, fits FK_DEPOSIT_NOTE_MAX, and is not a request;
 *  - a receipt carrying a record: parsing never crashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *encoded(const fk_deposit *d, size_t *len)
{
    static char out[2 * FK_DEPOSIT_NOTE_MAX];
    if (fk_deposit_encode(out, sizeof out, len, d) != FK_OK)
        abort();
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fk_deposit d;
    const char *s = (const char *)data;
    size_t len = 0;
    if (fk_deposit_parse_text(&d, s, size) == FK_OK) {
        const char *out = encoded(&d, &len);
        if (len != size || memcmp(out, s, size) != 0)
            abort();
    }
    if (fk_deposit_verify(&d, s, size) == FK_OK) {
        const char *out = encoded(&d, &len);
        fk_request r;
        if (size > FK_DEPOSIT_NOTE_MAX || len >= size || memcmp(out, s, len) != 0 ||
            s[len] != '\n' || fk_request_verify(&r, s, size) == FK_OK)
            abort();
    }
    static fk_tlog_proof p;
    static char note[FK_REQUEST_NOTE_MAX + 1];
    size_t nl = 0;
    if (fk_request_receipt_parse(&p, note, &nl, s, size) == FK_OK)
        (void)fk_deposit_verify(&d, note, nl);
    return 0;
}
