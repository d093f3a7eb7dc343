/*
 * ristretto255 glue: RFC 9380 expand_message_xmd (SHA-512), hash to scalar
 * and to group, canonical scalar and point checks, identity-safe scalar
 * multiplication, Lagrange coefficients at zero.  The group operations
 * themselves are libsodium's; SHA-512 is OpenSSL's.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "escrow/internal.h"

/* RFC 9380 section 5.3.1 bounds for SHA-512: b_in_bytes = 64,
 * s_in_bytes = 128; ell <= 255; DST <= 255 bytes. */
#define XMD_B 64
#define XMD_S 128
#define XMD_MAX_ELL 255
#define XMD_MAX_DST 255

static EVP_MD *sha512_md;
static pthread_once_t sha512_once = PTHREAD_ONCE_INIT;

/* Fetch SHA-512 once: EVP_sha512() makes OpenSSL 3 look it up on every
 * init, which costs more than hashing a short transcript. */
static void sha512_fetch(void)
{
    sha512_md = EVP_MD_fetch(NULL, "SHA512", NULL);
}

static const EVP_MD *sha512(void)
{
    pthread_once(&sha512_once, sha512_fetch);
    return sha512_md;
}

fk_err fki_sha512(uint8_t out[64], const fki_buf *parts, size_t nparts)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    fk_err err = FK_ERR_CRYPTO;

    if (!ctx)
        return FK_ERR_NOMEM;
    if (!sha512() || EVP_DigestInit_ex(ctx, sha512(), NULL) != 1)
        goto out;
    for (size_t i = 0; i < nparts; i++)
        if (parts[i].n && EVP_DigestUpdate(ctx, parts[i].p, parts[i].n) != 1)
            goto out;
    if (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != 64)
        goto out;
    err = FK_OK;
out:
    EVP_MD_CTX_free(ctx); /* frees and cleanses the digest state */
    return err;
}

fk_err fki_xmd_sha512(uint8_t *out, size_t outlen, const void *dst, size_t dstlen,
                      const fki_buf *parts, size_t nparts)
{
    static const uint8_t zpad[XMD_S];
    uint8_t b0[XMD_B], bi[XMD_B], x[XMD_B];
    uint8_t lib[2] = { (uint8_t)(outlen >> 8), (uint8_t)outlen };
    uint8_t zero = 0, dl = (uint8_t)dstlen, ctr;
    size_t ell = (outlen + XMD_B - 1) / XMD_B;
    fki_buf msg[1 + FKI_XMD_MAX_PARTS + 4];
    fk_err err;

    if (ell == 0 || ell > XMD_MAX_ELL || outlen > 0xffff || dstlen > XMD_MAX_DST ||
        nparts > FKI_XMD_MAX_PARTS)
        return FK_ERR_INVALID;

    /* b_0 = H(Z_pad || msg || l_i_b_str || I2OSP(0, 1) || DST_prime) */
    size_t k = 0;
    msg[k++] = (fki_buf){ zpad, sizeof zpad };
    for (size_t i = 0; i < nparts; i++)
        msg[k++] = parts[i];
    msg[k++] = (fki_buf){ lib, 2 };
    msg[k++] = (fki_buf){ &zero, 1 };
    msg[k++] = (fki_buf){ dst, dstlen };
    msg[k++] = (fki_buf){ &dl, 1 };
    if ((err = fki_sha512(b0, msg, k)) != FK_OK)
        goto out;

    /* b_i = H(strxor(b_0, b_(i-1)) || I2OSP(i, 1) || DST_prime); b_1 uses b_0. */
    memcpy(x, b0, XMD_B);
    for (size_t i = 1; i <= ell; i++) {
        ctr = (uint8_t)i;
        if (i > 1)
            for (size_t j = 0; j < XMD_B; j++)
                x[j] = b0[j] ^ bi[j];
        fki_buf in[4] = { { x, XMD_B }, { &ctr, 1 }, { dst, dstlen }, { &dl, 1 } };
        if ((err = fki_sha512(bi, in, 4)) != FK_OK)
            goto out;
        size_t take = outlen - (i - 1) * XMD_B;
        memcpy(out + (i - 1) * XMD_B, bi, take < XMD_B ? take : XMD_B);
    }
    err = FK_OK;
out:
    fk_wipe(b0, sizeof b0);
    fk_wipe(bi, sizeof bi);
    fk_wipe(x, sizeof x);
    return err;
}

fk_err fki_h2s(uint8_t out[32], const void *dst, size_t dstlen, const fki_buf *parts,
               size_t nparts)
{
    uint8_t u[64];
    fk_err err = fki_xmd_sha512(u, sizeof u, dst, dstlen, parts, nparts);

    if (err == FK_OK)
        crypto_core_ristretto255_scalar_reduce(out, u);
    fk_wipe(u, sizeof u);
    return err;
}

fk_err fki_h2g(uint8_t out[32], const void *dst, size_t dstlen, const fki_buf *parts,
               size_t nparts)
{
    uint8_t u[64];
    fk_err err = fki_xmd_sha512(u, sizeof u, dst, dstlen, parts, nparts);

    if (err == FK_OK && crypto_core_ristretto255_from_hash(out, u) != 0)
        err = FK_ERR_CRYPTO;
    fk_wipe(u, sizeof u);
    return err;
}

/* L = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const uint8_t group_order[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

int fki_scalar_is_canonical(const uint8_t s[32])
{
    /* s < L iff s - L borrows; computed over every byte, no early exit. */
    unsigned borrow = 0;

    for (size_t i = 0; i < 32; i++) {
        unsigned d = (unsigned)s[i] - group_order[i] - borrow;
        borrow = (d >> 8) & 1;
    }
    return (int)borrow;
}

int fki_scalar_is_zero(const uint8_t s[32])
{
    uint8_t acc = 0;

    for (size_t i = 0; i < 32; i++)
        acc |= s[i];
    return ((unsigned)acc - 1) >> 8 & 1;
}

int fki_point_is_valid(const uint8_t p[32])
{
    /* libsodium accepts the all-zero identity encoding; we refuse it. */
    return crypto_core_ristretto255_is_valid_point(p) == 1 && !fki_scalar_is_zero(p);
}

fk_err fki_scalar_random(uint8_t out[32])
{
    uint8_t wide[64];
    fk_err err;

    do {
        if ((err = fk_random(wide, sizeof wide)) != FK_OK)
            break;
        crypto_core_ristretto255_scalar_reduce(out, wide);
    } while (fki_scalar_is_zero(out));
    fk_wipe(wide, sizeof wide);
    return err;
}

void fki_scalar_from_uint(uint8_t out[32], unsigned v)
{
    memset(out, 0, 32);
    for (size_t i = 0; i < sizeof v; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

fk_err fki_mul(uint8_t out[32], const uint8_t n[32], const uint8_t p[32])
{
    /* libsodium 1.0.18 clears bit 255 of n instead of reducing it, so a
     * scalar >= 2^255 would silently give another product. */
    if (!fki_scalar_is_canonical(n))
        return FK_ERR_INVALID;
    if (crypto_scalarmult_ristretto255(out, n, p) == 0)
        return FK_OK;
    /* libsodium fails both for an invalid P and for an identity result;
     * decode again only on this rare path to tell them apart.  For a valid
     * P (prime-order group) the failure means n*P = 0: the identity. */
    if (crypto_core_ristretto255_is_valid_point(p) != 1)
        return FK_ERR_CRYPTO;
    memset(out, 0, 32);
    return FK_OK;
}

fk_err fki_mul_base(uint8_t out[32], const uint8_t n[32])
{
    if (!fki_scalar_is_canonical(n))
        return FK_ERR_INVALID;
    /* It fails only for the identity result (n = 0). */
    if (crypto_scalarmult_ristretto255_base(out, n) != 0)
        memset(out, 0, 32);
    return FK_OK;
}

fk_err fki_add(uint8_t out[32], const uint8_t p[32], const uint8_t q[32])
{
    return crypto_core_ristretto255_add(out, p, q) == 0 ? FK_OK : FK_ERR_CRYPTO;
}

fk_err fki_lagrange0(uint8_t out[32], unsigned xi, const unsigned *idx, size_t m)
{
    /* lambda_i = prod_{j != i} x_j / (x_j - x_i) */
    uint8_t num[32], den[32], xj[32], xis[32], diff[32], inv[32];
    int seen = 0;
    fk_err err = FK_OK;

    /* Indices are share numbers; a bitmap over 16 bits finds duplicates. */
    uint8_t seenmap[0x10000 / 8];

    if (xi == 0 || xi > 0xffff)
        return FK_ERR_INVALID;
    memset(seenmap, 0, sizeof seenmap);
    for (size_t j = 0; j < m; j++) {
        if (idx[j] == 0 || idx[j] > 0xffff || (seenmap[idx[j] >> 3] >> (idx[j] & 7) & 1))
            return FK_ERR_INVALID;
        seenmap[idx[j] >> 3] |= (uint8_t)(1u << (idx[j] & 7));
    }
    fki_scalar_from_uint(num, 1);
    fki_scalar_from_uint(den, 1);
    fki_scalar_from_uint(xis, xi);
    for (size_t j = 0; j < m; j++) {
        if (idx[j] == xi) {
            if (seen++)
                return FK_ERR_INVALID;
            continue;
        }
        fki_scalar_from_uint(xj, idx[j]);
        crypto_core_ristretto255_scalar_mul(num, num, xj);
        crypto_core_ristretto255_scalar_sub(diff, xj, xis);
        crypto_core_ristretto255_scalar_mul(den, den, diff);
    }
    if (!seen)
        return FK_ERR_INVALID;
    /* A zero denominator means a repeated index among the others. */
    if (crypto_core_ristretto255_scalar_invert(inv, den) != 0)
        err = FK_ERR_INVALID;
    else
        crypto_core_ristretto255_scalar_mul(out, num, inv);
    return err;
}

void fki_poly_eval_scalars(uint8_t out[32], const uint8_t (*coeffs)[32], unsigned t, unsigned x)
{
    /* Horner: ((a_{t-1}) x + a_{t-2}) x + ... + a_0 */
    uint8_t acc[32], xs[32];

    fki_scalar_from_uint(xs, x);
    memcpy(acc, coeffs[t - 1], 32);
    for (unsigned j = t - 1; j-- > 0;) {
        crypto_core_ristretto255_scalar_mul(acc, acc, xs);
        crypto_core_ristretto255_scalar_add(acc, acc, coeffs[j]);
    }
    memcpy(out, acc, 32);
    fk_wipe(acc, sizeof acc);
}

fk_err fki_poly_eval_points(uint8_t out[32], const uint8_t *commit, unsigned t, unsigned x)
{
    /* sum_k x^k C_k by Horner: ((C_{t-1}) x + C_{t-2}) x + ... + C_0 */
    uint8_t acc[32], xs[32];
    fk_err err = FK_OK;

    if (t < 1)
        return FK_ERR_INVALID;
    fki_scalar_from_uint(xs, x);
    memcpy(acc, commit + (size_t)(t - 1) * 32, 32);
    for (unsigned j = t - 1; j-- > 0 && err == FK_OK;)
        if ((err = fki_mul(acc, xs, acc)) == FK_OK)
            err = fki_add(acc, acc, commit + (size_t)j * 32);
    if (err == FK_OK)
        memcpy(out, acc, 32);
    return err;
}
