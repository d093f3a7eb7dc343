/* libFuzzer: the ASCII armor decoder.  What decodes must re-encode to the
 * input once outer whitespace and CRs are dropped (strict, canonical PEM). */
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *dec = NULL;
    char *enc = NULL, *norm;
    size_t dlen = 0, elen = 0, s = 0, e = size, n = 0;

    if (fk_armor_decode(&dec, &dlen, data, size) != FK_OK)
        return 0;
    if (fk_armor_encode(&enc, &elen, dec, dlen) != FK_OK)
        abort();
    while (s < e && space(data[s]))
        s++;
    while (e > s && space(data[e - 1]))
        e--;
    if (!(norm = malloc(e - s + 2)))
        abort();
    for (size_t i = s; i < e; i++)
        if (data[i] != '\r')
            norm[n++] = (char)data[i];
    norm[n++] = '\n';
    if (n != elen || memcmp(norm, enc, n) != 0)
        abort();
    free(norm);
    free(enc);
    free(dec);
    return 0;
}
