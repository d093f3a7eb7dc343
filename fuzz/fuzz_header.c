/* libFuzzer: the age header parser.  A header that parses must encode back
 * to exactly the bytes it was parsed from (parse, don't validate: one
 * canonical encoding), and every prefix of it must be "incomplete". */
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fk_header h;
    size_t used = 0, elen = 0;
    uint8_t *enc = NULL;
    static const uint8_t key[FK_AGE_FILE_KEY_LEN] = {0};

    if (fk_header_parse(&h, data, size, &used) != FK_OK)
        return 0;
    if (used == 0 || used > size || h.nstanzas == 0)
        abort();
    for (size_t i = 0; i < h.nstanzas; i++)
        if (h.stanzas[i].nargs == 0)
            abort();
    if (fk_header_encode(&h, &enc, &elen) != FK_OK || elen != used || memcmp(enc, data, used))
        abort();
    if (fk_header_parse(&(fk_header){0}, data, used - 1, &elen) != FK_ERR_INVALID)
        abort();
    (void)fk_header_verify_mac(&h, key);
    free(enc);
    fk_header_clear(&h);
    return 0;
}
