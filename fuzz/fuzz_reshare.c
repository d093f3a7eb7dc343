/*
 * libFuzzer target: the resharing parsers (src/lib/dkg/reshare.c): the
 * session file (fk_reshare_session_parse) and the log entry
 * (fk_reshare_entry_parse), with what follows a parse (the entry's checks).
 * Dealings are COCKTAIL msg1s, fuzzed by fuzz_dkg.
 *
 * Input: byte 0 picks the parser; the rest is the text.  Checked
 * properties: a parsed session re-encodes byte for byte; a parsed entry's
 * dealings lie inside its buffer; nothing crashes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        fk_reshare_session *s = malloc(sizeof *s);
        char *out = malloc(FK_RESHARE_SESSION_TEXT_MAX);
        size_t ol;
        if (!s || !out)
            abort();
        if (fk_reshare_session_parse(s, in, len) == FK_OK &&
            (fk_reshare_session_encode(out, FK_RESHARE_SESSION_TEXT_MAX, &ol, s) != FK_OK ||
             ol != len || memcmp(out, in, len)))
            abort();
        free(out);
        free(s);
    } else {
        fk_reshare_entry *e = malloc(sizeof *e);
        fk_escrow_authority *a = malloc(sizeof *a);
        unsigned blame;
        if (!e || !a)
            abort();
        if (fk_reshare_entry_parse(e, in, len) == FK_OK) {
            for (unsigned k = 0; k < e->session.ndealers; k++)
                if (e->dealt[k] < e->buf || e->dealt[k] >= e->buf + sizeof e->buf)
                    abort();
            (void)fk_reshare_entry_verify(a, &blame, e);
        }
        free(a);
        free(e);
    }
    return 0;
}
