/*
 * Strict RFC 4648 base64 (standard alphabet), unpadded as age requires and
 * padded for signed notes and JSON.  Encoding and decoding are branch-free in
 * the data: keys and secrets pass through here, so no table is indexed by a
 * secret value (the approach of wireguard-tools' key encoding).
 */
#include <fairkey.h>

/* All-ones when x < y, else zero; x and y are small (< 2^31). */
static unsigned lt_mask(unsigned x, unsigned y)
{
    return 0u - ((x - y) >> 31);
}

/* All-ones when lo <= c <= hi, else zero. */
static unsigned range_mask(unsigned c, unsigned lo, unsigned hi)
{
    return ~lt_mask(c, lo) & lt_mask(c, hi + 1);
}

/* 6-bit value -> character. */
static char enc6(unsigned v)
{
    unsigned c = (range_mask(v, 0, 25) & (v + 'A')) | (range_mask(v, 26, 51) & (v - 26 + 'a')) |
                 (range_mask(v, 52, 61) & (v - 52 + '0')) | (range_mask(v, 62, 62) & '+') |
                 (range_mask(v, 63, 63) & '/');
    return (char)c;
}

/* character -> 6-bit value, or 0x100 set when the character is invalid. */
static unsigned dec6(unsigned char ch)
{
    unsigned c = ch;
    unsigned m1 = range_mask(c, 'A', 'Z'), m2 = range_mask(c, 'a', 'z'),
             m3 = range_mask(c, '0', '9'), m4 = range_mask(c, '+', '+'),
             m5 = range_mask(c, '/', '/');
    unsigned v = (m1 & (c - 'A')) | (m2 & (c - 'a' + 26)) | (m3 & (c - '0' + 52)) | (m4 & 62u) |
                 (m5 & 63u);
    return v | (~(m1 | m2 | m3 | m4 | m5) & 0x100u);
}

size_t fk_b64_enc_len(size_t n)
{
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t fk_b64_enc_len_padded(size_t n)
{
    return (n + 2) / 3 * 4;
}

size_t fk_b64_encode(char *out, const uint8_t *in, size_t n)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = enc6(v >> 18);
        out[o++] = enc6(v >> 12 & 63);
        out[o++] = enc6(v >> 6 & 63);
        out[o++] = enc6(v & 63);
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = enc6(v >> 18);
        out[o++] = enc6(v >> 12 & 63);
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = enc6(v >> 18);
        out[o++] = enc6(v >> 12 & 63);
        out[o++] = enc6(v >> 6 & 63);
    }
    out[o] = '\0';
    return o;
}

size_t fk_b64_encode_padded(char *out, const uint8_t *in, size_t n)
{
    size_t o = fk_b64_encode(out, in, n);
    while (o % 4)
        out[o++] = '=';
    out[o] = '\0';
    return o;
}

size_t fk_b64_encode_padded_public(char *out, const uint8_t *in, size_t n)
{
    static const char tab[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
        out[o++] = tab[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0u);
        out[o++] = tab[v >> 18];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

fk_err fk_b64_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen)
{
    size_t rem = inlen % 4, n = inlen / 4 * 3 + (rem ? rem - 1 : 0);
    unsigned bad = 0, acc = 0;
    size_t i, o = 0;

    if (rem == 1)
        return FK_ERR_INVALID;
    if (n > outcap)
        return FK_ERR_LIMIT;
    /* First pass validates everything, so out is untouched on failure. */
    for (i = 0; i < inlen; i++)
        bad |= dec6((unsigned char)in[i]) & 0x100u;
    if (rem) {
        /* The unused low bits of the last character must be zero (RFC 4648 3.5). */
        unsigned last = dec6((unsigned char)in[inlen - 1]) & 63;
        bad |= rem == 2 ? (last & 15) : (last & 3);
    }
    if (bad)
        return FK_ERR_INVALID;
    for (i = 0; i + 4 <= inlen; i += 4) {
        acc = dec6((unsigned char)in[i]) << 18 | dec6((unsigned char)in[i + 1]) << 12 |
              dec6((unsigned char)in[i + 2]) << 6 | dec6((unsigned char)in[i + 3]);
        out[o++] = (uint8_t)(acc >> 16);
        out[o++] = (uint8_t)(acc >> 8);
        out[o++] = (uint8_t)acc;
    }
    if (rem) {
        acc = dec6((unsigned char)in[i]) << 18 | dec6((unsigned char)in[i + 1]) << 12;
        if (rem == 3)
            acc |= dec6((unsigned char)in[i + 2]) << 6;
        out[o++] = (uint8_t)(acc >> 16);
        if (rem == 3)
            out[o++] = (uint8_t)(acc >> 8);
    }
    fk_wipe(&acc, sizeof acc);
    *outlen = o;
    return FK_OK;
}

fk_err fk_b64_decode_padded(uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen)
{
    size_t pad = 0;
    if (inlen % 4)
        return FK_ERR_INVALID;
    if (inlen >= 1 && in[inlen - 1] == '=')
        pad++;
    if (inlen >= 2 && in[inlen - 2] == '=')
        pad++;
    /* "==" must not be preceded by more '='; dec6 rejects any other '='. */
    return fk_b64_decode(out, outcap, outlen, in, inlen - pad);
}
