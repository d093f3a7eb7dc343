/*
 * Bech32 (BIP173) without the 90-character limit, as the age spec uses it.
 * The charset is looked up by scanning all 32 entries, so encoding a secret
 * key does not index a table by secret bits.
 */
#include <string.h>

#include <fairkey.h>

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t chk, unsigned v)
{
    static const uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    uint32_t b = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; i++)
        chk ^= (0u - ((b >> i) & 1)) & gen[i];
    return chk;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static uint32_t hrp_checksum(const char *hrp, size_t hrplen)
{
    uint32_t chk = 1;
    for (size_t i = 0; i < hrplen; i++)
        chk = polymod_step(chk, (unsigned char)lower(hrp[i]) >> 5);
    chk = polymod_step(chk, 0);
    for (size_t i = 0; i < hrplen; i++)
        chk = polymod_step(chk, (unsigned char)lower(hrp[i]) & 31);
    return chk;
}

static char enc5(unsigned v, int upper)
{
    unsigned r = 0;
    for (unsigned i = 0; i < 32; i++) {
        unsigned m = 0u - (unsigned)(((i ^ v) - 1) >> 31); /* all-ones iff i == v */
        r |= m & (unsigned char)charset[i];
    }
    if (upper && r >= 'a' && r <= 'z') /* letters are public structure, not secret */
        r -= 'a' - 'A';
    return (char)r;
}

/* Returns 0..31, or -1 if c is not in the charset (c already lowercased). */
static int dec5(char c)
{
    int r = -1;
    for (int i = 0; i < 32; i++) {
        int m = -(int)(charset[i] == c);
        r = (r & ~m) | (i & m);
    }
    return r;
}

size_t fk_bech32_enc_len(size_t hrplen, size_t datalen)
{
    return hrplen + 1 + (datalen * 8 + 4) / 5 + 6;
}

fk_err fk_bech32_encode(char *out, size_t outcap, const char *hrp, const uint8_t *data, size_t datalen)
{
    size_t hrplen = strlen(hrp), o = 0;
    int upper = hrplen && hrp[0] >= 'A' && hrp[0] <= 'Z';
    uint32_t chk, acc = 0;
    unsigned bits = 0;

    if (hrplen < 1 || outcap < fk_bech32_enc_len(hrplen, datalen) + 1)
        return FK_ERR_LIMIT;
    for (size_t i = 0; i < hrplen; i++)
        if (hrp[i] < 33 || hrp[i] > 126)
            return FK_ERR_INVALID;
    chk = hrp_checksum(hrp, hrplen);
    memcpy(out, hrp, hrplen);
    o = hrplen;
    out[o++] = '1';
    for (size_t i = 0; i < datalen; i++) {
        acc = (acc << 8 | data[i]) & 0xfff;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            unsigned v = (acc >> bits) & 31;
            chk = polymod_step(chk, v);
            out[o++] = enc5(v, upper);
        }
    }
    if (bits) {
        unsigned v = (acc << (5 - bits)) & 31;
        chk = polymod_step(chk, v);
        out[o++] = enc5(v, upper);
    }
    for (int i = 0; i < 6; i++)
        chk = polymod_step(chk, 0);
    chk ^= 1;
    for (int i = 0; i < 6; i++)
        out[o++] = enc5((chk >> (5 * (5 - i))) & 31, upper);
    out[o] = '\0';
    fk_wipe(&acc, sizeof acc);
    return FK_OK;
}

fk_err fk_bech32_decode(char *hrp_out, size_t hrpcap, uint8_t *data, size_t datacap,
                        size_t *datalen, const char *in, size_t inlen)
{
    int has_lower = 0, has_upper = 0;
    size_t sep = (size_t)-1, n5, o = 0;
    uint32_t chk, acc = 0;
    unsigned bits = 0;

    for (size_t i = 0; i < inlen; i++) {
        char c = in[i];
        if (c < 33 || c > 126)
            return FK_ERR_INVALID;
        has_lower |= c >= 'a' && c <= 'z';
        has_upper |= c >= 'A' && c <= 'Z';
        if (c == '1')
            sep = i;
    }
    if (has_lower && has_upper)
        return FK_ERR_INVALID;
    if (sep == (size_t)-1 || sep < 1 || inlen - sep - 1 < 6)
        return FK_ERR_INVALID;
    if (sep + 1 > hrpcap)
        return FK_ERR_LIMIT;
    n5 = inlen - sep - 1 - 6;
    if ((n5 * 5) / 8 > datacap)
        return FK_ERR_LIMIT;

    chk = hrp_checksum(in, sep);
    for (size_t i = sep + 1; i < inlen; i++) {
        int v = dec5(lower(in[i]));
        if (v < 0)
            return FK_ERR_INVALID;
        chk = polymod_step(chk, (unsigned)v);
    }
    if (chk != 1)
        return FK_ERR_INVALID;
    /* Padding: fewer than 5 leftover bits, all zero (BIP173 convertbits). */
    if ((n5 * 5) % 8 >= 5)
        return FK_ERR_INVALID;
    {
        int last = n5 ? dec5(lower(in[sep + n5])) : 0;
        unsigned padbits = (unsigned)((n5 * 5) % 8);
        if (padbits && (last & ((1 << padbits) - 1)))
            return FK_ERR_INVALID;
    }
    for (size_t i = sep + 1; i < sep + 1 + n5; i++) {
        acc = (acc << 5 | (unsigned)dec5(lower(in[i]))) & 0xfff;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            data[o++] = (uint8_t)(acc >> bits);
        }
    }
    for (size_t i = 0; i < sep; i++)
        hrp_out[i] = lower(in[i]);
    hrp_out[sep] = '\0';
    *datalen = o;
    fk_wipe(&acc, sizeof acc);
    return FK_OK;
}
