/*
 * libFuzzer target: authority and share file parsing.  Whatever parses must
 * be canonical: encoding the parsed value gives back the input byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fk_escrow_authority auth;
    static char out[FK_ESCROW_AUTHORITY_TEXT_MAX + 1];
    size_t len;
    if (fk_escrow_authority_parse(&auth, (const char *)data, size) == FK_OK) {
        if (fk_escrow_authority_encode(out, sizeof(out), &len, &auth) != FK_OK || len != size ||
            memcmp(out, data, size) != 0)
            abort(); /* a non-canonical authority file was accepted */
        char rcpt[FK_ESCROW_RECIPIENT_STR_MAX];
        uint8_t pk[FK_ESCROW_POINT_LEN];
        if (fk_escrow_recipient_encode(rcpt, auth.pk) != FK_OK ||
            fk_escrow_recipient_decode(pk, rcpt) != FK_OK || memcmp(pk, auth.pk, sizeof(pk)))
            abort();
    }
    fk_escrow_share share;
    if (fk_escrow_share_parse(&share, (const char *)data, size) == FK_OK) {
        if (fk_escrow_share_encode(out, sizeof(out), &len, &share) != FK_OK || len != size ||
            memcmp(out, data, size) != 0)
            abort(); /* a non-canonical share file was accepted */
        fk_escrow_share_clear(&share, 1);
    }
    return 0;
}
