/* Lowercase hex encoding; strict decoding of either case. */
#include <fairkey.h>

void fk_hex_encode(char *out, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

fk_err fk_hex_decode(uint8_t *out, size_t outlen, const char *in, size_t inlen)
{
    if (inlen != 2 * outlen)
        return FK_ERR_INVALID;
    for (size_t i = 0; i < inlen; i++)
        if (hexval(in[i]) < 0)
            return FK_ERR_INVALID;
    for (size_t i = 0; i < outlen; i++)
        out[i] = (uint8_t)(hexval(in[2 * i]) << 4 | hexval(in[2 * i + 1]));
    return FK_OK;
}
