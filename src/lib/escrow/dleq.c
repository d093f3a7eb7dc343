/*
 * Chaum-Pedersen DLEQ proofs in the layout of RFC 9497 section 2.2, and the
 * agents' partial decryptions D_i = s_i*E built on them.
 */
#include <string.h>

#include <sodium.h>

#include "escrow/internal.h"

const uint8_t fki_base_point[32] = {
    0xe2, 0xf2, 0xae, 0x0a, 0x6a, 0xbc, 0x4e, 0x71, 0xa8, 0x84, 0xa9, 0x61, 0xc5, 0x00, 0x51, 0x5f,
    0x58, 0xe3, 0x0b, 0x6a, 0xa5, 0x82, 0xdd, 0x8d, 0xb6, 0xa6, 0x59, 0x45, 0xe0, 0x8d, 0x2d, 0x76,
};

/* fairkey's own domain strings for the partial-decryption proof. */
static const char dst_challenge[] = "fairkey/v1 dleq challenge";
static const char dst_nonce[] = "fairkey/v1 dleq nonce";

static const uint8_t len32[2] = { 0, 32 };

/* out = n*p, accumulating the first failure in *err (p is public). */
static void mul_any(uint8_t out[32], const uint8_t n[32], const uint8_t p[32], fk_err *err)
{
    fk_err e = memcmp(p, fki_base_point, 32) == 0 ? fki_mul_base(out, n) : fki_mul(out, n, p);

    if (e != FK_OK && *err == FK_OK)
        *err = FK_ERR_INVALID;
}

/* M and Z per RFC 9497 ComputeComposites, or C[0], D[0] without composites. */
static fk_err composites(uint8_t mm[32], uint8_t zz[32], const uint8_t b[32],
                         const uint8_t (*c)[32], const uint8_t (*d)[32], size_t m,
                         const fki_dleq_params *prm)
{
    uint8_t seed[64], di[32], t[32];
    uint8_t dstlen[2] = { (uint8_t)(prm->seed_dst_len >> 8), (uint8_t)prm->seed_dst_len };
    static const uint8_t len64[2] = { 0, 64 };
    fk_err err = FK_OK;

    if (m == 0 || m > 0xffff)
        return FK_ERR_INVALID;
    if (!prm->composites) {
        if (m != 1)
            return FK_ERR_INVALID;
        memcpy(mm, c[0], 32);
        memcpy(zz, d[0], 32);
        return FK_OK;
    }
    fki_buf st[4] = { { len32, 2 }, { b, 32 }, { dstlen, 2 }, { prm->seed_dst, prm->seed_dst_len } };
    if ((err = fki_sha512(seed, st, 4)) != FK_OK)
        return err;
    memset(mm, 0, 32);
    memset(zz, 0, 32);
    for (size_t i = 0; i < m && err == FK_OK; i++) {
        uint8_t ib[2] = { (uint8_t)(i >> 8), (uint8_t)i };
        fki_buf ct[8] = { { len64, 2 }, { seed, 64 }, { ib, 2 }, { len32, 2 },
                          { c[i], 32 }, { len32, 2 }, { d[i], 32 }, { "Composite", 9 } };
        if ((err = fki_h2s(di, prm->h2s_dst, prm->h2s_dst_len, ct, 8)) != FK_OK)
            break;
        mul_any(t, di, c[i], &err);
        if (err == FK_OK)
            err = fki_add(mm, mm, t);
        mul_any(t, di, d[i], &err);
        if (err == FK_OK)
            err = fki_add(zz, zz, t);
    }
    return err;
}

static fk_err challenge(uint8_t c[32], const uint8_t b[32], const uint8_t mm[32],
                        const uint8_t zz[32], const uint8_t t2[32], const uint8_t t3[32],
                        const fki_dleq_params *prm)
{
    uint8_t bl[FKI_DLEQ_MAX_BIND][2];
    fki_buf tr[2 * FKI_DLEQ_MAX_BIND + 11];
    size_t k = 0;

    if (prm->nbind > FKI_DLEQ_MAX_BIND)
        return FK_ERR_INVALID;
    for (size_t i = 0; i < prm->nbind; i++) {
        if (prm->bind[i].n > 0xffff)
            return FK_ERR_LIMIT;
        bl[i][0] = (uint8_t)(prm->bind[i].n >> 8);
        bl[i][1] = (uint8_t)prm->bind[i].n;
        tr[k++] = (fki_buf){ bl[i], 2 };
        tr[k++] = prm->bind[i];
    }
    const uint8_t *el[5] = { b, mm, zz, t2, t3 };
    for (size_t i = 0; i < 5; i++) {
        tr[k++] = (fki_buf){ len32, 2 };
        tr[k++] = (fki_buf){ el[i], 32 };
    }
    tr[k++] = (fki_buf){ "Challenge", 9 };
    return fki_h2s(c, prm->h2s_dst, prm->h2s_dst_len, tr, k);
}

fk_err fki_dleq_prove(uint8_t proof[64], const uint8_t k[32], const uint8_t a[32],
                      const uint8_t b[32], const uint8_t (*c)[32], const uint8_t (*d)[32],
                      size_t m, const uint8_t r[32], const fki_dleq_params *prm)
{
    uint8_t mm[32], zz[32], t2[32], t3[32], ch[32], ck[32];
    fk_err err;

    if ((err = composites(mm, zz, b, c, d, m, prm)) != FK_OK)
        return err;
    mul_any(t2, r, a, &err);
    mul_any(t3, r, mm, &err);
    if (err == FK_OK)
        err = challenge(ch, b, mm, zz, t2, t3, prm);
    if (err == FK_OK) {
        /* s = r - c*k */
        crypto_core_ristretto255_scalar_mul(ck, ch, k);
        crypto_core_ristretto255_scalar_sub(proof + 32, r, ck);
        memcpy(proof, ch, 32);
    }
    fk_wipe(ck, sizeof ck);
    return err;
}

fk_err fki_dleq_verify(const uint8_t proof[64], const uint8_t a[32], const uint8_t b[32],
                       const uint8_t (*c)[32], const uint8_t (*d)[32], size_t m,
                       const fki_dleq_params *prm)
{
    uint8_t mm[32], zz[32], t2[32], t3[32], u[32], v[32], ch[32];
    fk_err err;

    if (!fki_scalar_is_canonical(proof) || !fki_scalar_is_canonical(proof + 32))
        return FK_ERR_INVALID;
    if ((err = composites(mm, zz, b, c, d, m, prm)) != FK_OK)
        return err;
    /* t2 = s*A + c*B ; t3 = s*M + c*Z */
    mul_any(u, proof + 32, a, &err);
    mul_any(v, proof, b, &err);
    if (err == FK_OK)
        err = fki_add(t2, u, v);
    mul_any(u, proof + 32, mm, &err);
    mul_any(v, proof, zz, &err);
    if (err == FK_OK)
        err = fki_add(t3, u, v);
    if (err == FK_OK)
        err = challenge(ch, b, mm, zz, t2, t3, prm);
    if (err != FK_OK)
        return err == FK_ERR_LIMIT ? err : FK_ERR_PROOF;
    return fk_ct_eq(ch, proof, 32) ? FK_OK : FK_ERR_PROOF;
}

/* ---- partial decryption -------------------------------------------------- */

/* The statement an answer is bound to, besides the RFC 9497 elements
 * (PK_i, E, D_i, t2, t3): the authority id, the share index and the
 * caller's context.  PK_i already fixes the key; the id and index make an
 * answer name its authority and agent explicitly, so it cannot stand for
 * another authority that happens to share a key, and they cost nothing. */
typedef struct partial_binding {
    uint8_t index[2];
    fki_buf part[FKI_DLEQ_MAX_BIND];
} partial_binding;

static void partial_params(fki_dleq_params *prm, partial_binding *b, const uint8_t id[32],
                           unsigned index, const uint8_t *context, size_t context_len)
{
    b->index[0] = (uint8_t)(index >> 8);
    b->index[1] = (uint8_t)index;
    b->part[0] = (fki_buf){ id, 32 };
    b->part[1] = (fki_buf){ b->index, 2 };
    b->part[2] = (fki_buf){ context, context_len };
    memset(prm, 0, sizeof *prm);
    prm->h2s_dst = dst_challenge;
    prm->h2s_dst_len = sizeof dst_challenge - 1;
    prm->composites = 0;
    prm->bind = b->part;
    prm->nbind = FKI_DLEQ_MAX_BIND;
}

static fk_err partial_inputs_ok(const fk_escrow_authority *auth, const fk_escrow_share *share,
                                const uint8_t e[32], size_t context_len)
{
    if (context_len > FK_ESCROW_CONTEXT_MAX)
        return FK_ERR_LIMIT;
    if (share->index < 1 || share->index > auth->n || auth->n > FK_ESCROW_MAX_SHARES)
        return FK_ERR_INVALID;
    if (!fk_ct_eq(share->authority_id, auth->id, FK_ESCROW_ID_LEN))
        return FK_ERR_INVALID;
    if (!fki_scalar_is_canonical(share->secret) || fki_scalar_is_zero(share->secret))
        return FK_ERR_INVALID;
    if (!fki_point_is_valid(e))
        return FK_ERR_INVALID;
    return FK_OK;
}

fk_err fki_escrow_partial_with_nonce(fk_escrow_partial *out, const fk_escrow_authority *auth,
                                     const fk_escrow_share *share, const uint8_t e[32],
                                     const uint8_t *context, size_t context_len,
                                     const uint8_t nonce[32])
{
    fki_dleq_params prm;
    partial_binding bind;
    uint8_t pki[32], d[32], proof[64];
    fk_err err;

    if ((err = partial_inputs_ok(auth, share, e, context_len)) != FK_OK)
        return err;
    /* A share that does not match its key would give an answer that never
     * verifies; refuse it here so the agent learns why. */
    if ((err = fki_mul_base(pki, share->secret)) != FK_OK)
        return err;
    if (!fk_ct_eq(pki, auth->share_pk[share->index - 1], 32))
        return FK_ERR_INVALID;
    if ((err = fki_mul(d, share->secret, e)) != FK_OK)
        return err;
    partial_params(&prm, &bind, auth->id, share->index, context, context_len);
    const uint8_t(*cc)[32] = (const uint8_t(*)[32])e;
    const uint8_t(*dd)[32] = (const uint8_t(*)[32])d;
    err = fki_dleq_prove(proof, share->secret, fki_base_point, pki, cc, dd, 1, nonce, &prm);
    if (err == FK_OK) {
        out->index = share->index;
        memcpy(out->d, d, 32);
        memcpy(out->proof, proof, 64);
    }
    /* D_i is one t-th of the way to the file key: only the answer keeps it. */
    fk_wipe(d, sizeof d);
    return err;
}

fk_err fk_escrow_partial_decrypt(fk_escrow_partial *out, const fk_escrow_authority *auth,
                                 const fk_escrow_share *share,
                                 const uint8_t e[FK_ESCROW_POINT_LEN],
                                 const uint8_t *context, size_t context_len)
{
    uint8_t rnd[32], nonce[32], ctxlen[2] = { (uint8_t)(context_len >> 8), (uint8_t)context_len };
    uint8_t index[2] = { (uint8_t)(share->index >> 8), (uint8_t)share->index };
    fk_err err;

    if ((err = partial_inputs_ok(auth, share, e, context_len)) != FK_OK)
        return err;
    /* Hedged nonce: deterministic in the secret and the whole statement,
     * plus fresh randomness, so neither a bad RNG (no repeat across
     * statements) nor a fault on a purely deterministic nonce leaks s_i. */
    if ((err = fk_random(rnd, sizeof rnd)) != FK_OK)
        return err;
    fki_buf in[8] = { { share->secret, 32 }, { auth->id, 32 }, { index, 2 },
                      { auth->share_pk[share->index - 1], 32 }, { e, 32 },
                      { ctxlen, 2 }, { context, context_len }, { rnd, 32 } };
    err = fki_h2s(nonce, dst_nonce, sizeof dst_nonce - 1, in, 8);
    if (err == FK_OK)
        err = fki_escrow_partial_with_nonce(out, auth, share, e, context, context_len, nonce);
    fk_wipe(rnd, sizeof rnd);
    fk_wipe(nonce, sizeof nonce);
    return err;
}

fk_err fk_escrow_partial_verify(const fk_escrow_authority *auth, const fk_escrow_partial *p,
                                const uint8_t e[FK_ESCROW_POINT_LEN],
                                const uint8_t *context, size_t context_len)
{
    fki_dleq_params prm;
    partial_binding bind;

    if (context_len > FK_ESCROW_CONTEXT_MAX)
        return FK_ERR_LIMIT;
    if (p->index < 1 || p->index > auth->n || auth->n > FK_ESCROW_MAX_SHARES)
        return FK_ERR_INVALID;
    if (!fki_point_is_valid(p->d) || !fki_point_is_valid(e))
        return FK_ERR_INVALID;
    partial_params(&prm, &bind, auth->id, p->index, context, context_len);
    return fki_dleq_verify(p->proof, fki_base_point, auth->share_pk[p->index - 1],
                           (const uint8_t(*)[32])e, (const uint8_t(*)[32])p->d, 1, &prm);
}

void fk_escrow_partial_encode(uint8_t out[FK_ESCROW_PARTIAL_LEN], const fk_escrow_partial *p)
{
    out[0] = (uint8_t)(p->index >> 8);
    out[1] = (uint8_t)p->index;
    memcpy(out + 2, p->d, 32);
    memcpy(out + 34, p->proof, 64);
}

fk_err fk_escrow_partial_decode(fk_escrow_partial *p, const uint8_t in[FK_ESCROW_PARTIAL_LEN])
{
    unsigned index = (unsigned)in[0] << 8 | in[1];

    if (index < 1 || index > FK_ESCROW_MAX_SHARES)
        return FK_ERR_INVALID;
    if (!fki_point_is_valid(in + 2))
        return FK_ERR_INVALID;
    if (!fki_scalar_is_canonical(in + 34) || !fki_scalar_is_canonical(in + 66))
        return FK_ERR_INVALID;
    p->index = index;
    memcpy(p->d, in + 2, 32);
    memcpy(p->proof, in + 34, 64);
    return FK_OK;
}
