/*
 * C2SP COCKTAIL-DKG v0.2.1, ciphersuite COCKTAIL(Ristretto255, SHA-512):
 * the Schnorr scheme (PoP and CertEq), round 1 (Feldman commitments,
 * PoP, shares encrypted under H6 with XChaCha20-Poly1305), round 2 (PoP,
 * decryption and VSS checks with blame), the canonical transcript and its
 * certificate.  Section names in comments are the spec's.
 *
 * Group operations are libsodium's ristretto255 through the escrow
 * module's glue (fki_mul, fki_add, ...); SHA-512 is OpenSSL's (fki_sha512);
 * XChaCha20-Poly1305 is libsodium's (OpenSSL 3.0 has no XChaCha20).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dkg/internal.h"
#include "escrow/internal.h"

static const char csid[] = FK_DKG_CIPHERSUITE;
#define CSID_LEN (sizeof csid - 1)
/* "Ciphersuite Definitions" and "Schnorr Prefix Strings". */
static const char prefix_h6[] = "COCKTAIL-DKG-Ristretto255-SHA512-H6";
static const char prefix_h7[] = "COCKTAIL-DKG-Ristretto255-SHA512-H7";
static const char prefix_nonce[] = "COCKTAIL-DKG-Ristretto255-SHA512-NONCE";
static const char context_tag[] = "COCKTAIL-DKG-CONTEXT";

#define FRAME_LEN 8 /* uint64_be length prefix of a framed ciphertext */
#define TAG_LEN 16

static void u64be(uint8_t out[8], uint64_t v)
{
    for (int k = 7; k >= 0; k--, v >>= 8)
        out[k] = (uint8_t)v;
}

static void u64le(uint8_t out[8], uint64_t v)
{
    for (int k = 0; k < 8; k++, v >>= 8)
        out[k] = (uint8_t)v;
}

static void u32le(uint8_t out[4], uint32_t v)
{
    for (int k = 0; k < 4; k++, v >>= 8)
        out[k] = (uint8_t)v;
}

static uint64_t get_u64be(const uint8_t *p)
{
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v = v << 8 | p[k];
    return v;
}

static uint64_t get_u64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | p[k];
    return v;
}

static uint32_t get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* "Schnorr Hash-to-Scalar Reduction": SHA-512, wide reduction mod L. */
static fk_err hash_to_scalar(uint8_t out[32], const fki_buf *parts, size_t nparts)
{
    uint8_t h[64];
    fk_err err = fki_sha512(h, parts, nparts);

    if (err == FK_OK)
        crypto_core_ristretto255_scalar_reduce(out, h);
    fk_wipe(h, sizeof h);
    return err;
}

/* ---- Schnorr ("Schnorr Signature Scheme"), message in parts ------------ */

#define MSG_PARTS 4

static fk_err sign_parts(uint8_t sig[64], const uint8_t sk[32], const fki_buf *m, size_t nm)
{
    uint8_t pk[32], k[32], c[32], z[32];
    fki_buf in[3 + MSG_PARTS];
    fk_err err;

    if (nm > MSG_PARTS || !fki_scalar_is_canonical(sk) || fki_scalar_is_zero(sk))
        return FK_ERR_INVALID;
    (void)fki_mul_base(pk, sk);
    in[0] = (fki_buf){ prefix_nonce, sizeof prefix_nonce - 1 };
    in[1] = (fki_buf){ sk, 32 };
    memcpy(in + 2, m, nm * sizeof *m);
    if ((err = hash_to_scalar(k, in, 2 + nm)) != FK_OK)
        goto out;
    if (fki_scalar_is_zero(k)) {
        err = FK_ERR_CRYPTO; /* step 3: abort, reveal nothing */
        goto out;
    }
    (void)fki_mul_base(sig, k); /* R */
    in[0] = (fki_buf){ prefix_h7, sizeof prefix_h7 - 1 };
    in[1] = (fki_buf){ sig, 32 };
    in[2] = (fki_buf){ pk, 32 };
    memcpy(in + 3, m, nm * sizeof *m);
    if ((err = hash_to_scalar(c, in, 3 + nm)) != FK_OK)
        goto out;
    crypto_core_ristretto255_scalar_mul(z, c, sk);
    crypto_core_ristretto255_scalar_add(sig + 32, z, k);
out:
    fk_wipe(k, sizeof k);
    fk_wipe(z, sizeof z);
    if (err != FK_OK)
        fk_wipe(sig, 64);
    return err;
}

static fk_err verify_parts(const uint8_t sig[64], const uint8_t pk[32], const fki_buf *m,
                           size_t nm)
{
    uint8_t c[32], lhs[32], rhs[32];
    fki_buf in[3 + MSG_PARTS];

    if (nm > MSG_PARTS)
        return FK_ERR_INVALID;
    if (!fki_scalar_is_canonical(sig + 32) || !fki_point_is_valid(sig) || !fki_point_is_valid(pk))
        return FK_ERR_SIGNATURE;
    in[0] = (fki_buf){ prefix_h7, sizeof prefix_h7 - 1 };
    in[1] = (fki_buf){ sig, 32 };
    in[2] = (fki_buf){ pk, 32 };
    memcpy(in + 3, m, nm * sizeof *m);
    if (hash_to_scalar(c, in, 3 + nm) != FK_OK)
        return FK_ERR_CRYPTO;
    if (fki_mul_base(lhs, sig + 32) != FK_OK || fki_mul(rhs, c, pk) != FK_OK ||
        fki_add(rhs, rhs, sig) != FK_OK)
        return FK_ERR_SIGNATURE;
    return memcmp(lhs, rhs, 32) == 0 ? FK_OK : FK_ERR_SIGNATURE;
}

fk_err fk_dkg_sign(uint8_t sig[FK_DKG_SIG_LEN], const uint8_t sk[FK_DKG_SCALAR_LEN],
                   const uint8_t *m, size_t mlen)
{
    fki_buf b = { m, mlen };

    if (!sig || !sk || (!m && mlen))
        abort();
    return sign_parts(sig, sk, &b, 1);
}

fk_err fk_dkg_verify(const uint8_t sig[FK_DKG_SIG_LEN], const uint8_t pk[FK_DKG_POINT_LEN],
                     const uint8_t *m, size_t mlen)
{
    fki_buf b = { m, mlen };

    if (!sig || !pk || (!m && mlen))
        abort();
    return verify_parts(sig, pk, &b, 1);
}

/* The PoP message: context || C_i || E_i. */
static void pop_message(fki_buf m[3], const uint8_t *context, size_t context_len, unsigned t,
                        const uint8_t *commit, const uint8_t *eph)
{
    m[0] = (fki_buf){ context, context_len };
    m[1] = (fki_buf){ commit, (size_t)t * 32 };
    m[2] = (fki_buf){ eph, 32 };
}

fk_err fki_dkg_pop_verify(const fki_dkg_deal *p, const uint8_t *dealt)
{
    fki_buf m[3];

    pop_message(m, p->context, p->context_len, p->t, dealt, dealt + (size_t)p->t * 32 + 64);
    return verify_parts(dealt + (size_t)p->t * 32, dealt, m, 3) == FK_OK ? FK_OK
                                                                       : FK_ERR_SIGNATURE;
}

/* ---- setup ------------------------------------------------------------- */

fk_err fk_dkg_session_check(const fk_dkg_session *s)
{
    if (!s || !s->pk || (!s->context && s->context_len) || (!s->ext && s->ext_len))
        abort();
    if (s->n > FK_DKG_MAX_PARTICIPANTS || s->context_len > FK_DKG_CONTEXT_MAX ||
        s->ext_len > FK_DKG_EXT_MAX)
        return FK_ERR_LIMIT;
    if (s->t < 1 || s->t > s->n)
        return FK_ERR_INVALID;
    for (unsigned j = 0; j < s->n; j++) {
        if (!fki_point_is_valid(s->pk[j]))
            return FK_ERR_INVALID;
        for (unsigned k = 0; k < j; k++)
            if (!memcmp(s->pk[j], s->pk[k], 32))
                return FK_ERR_INVALID;
    }
    return FK_OK;
}

fk_err fk_dkg_context(uint8_t out[FK_DKG_CONTEXT_LEN], const uint8_t *session_id, size_t sid_len,
                      unsigned n, const uint8_t (*pk)[FK_DKG_POINT_LEN])
{
    uint8_t l1[8], l2[8], nb[4];

    if (!out || (!session_id && sid_len) || !pk)
        abort();
    if (n < 1 || n > FK_DKG_MAX_PARTICIPANTS)
        return FK_ERR_INVALID;
    u64be(l1, sid_len);
    u64be(l2, CSID_LEN);
    u32le(nb, n);
    fki_buf p[7] = { { context_tag, sizeof context_tag - 1 }, { l1, 8 }, { session_id, sid_len },
                     { l2, 8 }, { csid, CSID_LEN }, { nb, 4 }, { pk, (size_t)n * 32 } };
    return fki_sha512(out, p, 7);
}

fk_err fk_dkg_public(uint8_t p[FK_DKG_POINT_LEN], const uint8_t d[FK_DKG_SCALAR_LEN])
{
    if (!p || !d)
        abort();
    if (!fki_scalar_is_canonical(d) || fki_scalar_is_zero(d))
        return FK_ERR_INVALID;
    return fki_mul_base(p, d);
}

fk_err fk_dkg_keypair(uint8_t d[FK_DKG_SCALAR_LEN], uint8_t p[FK_DKG_POINT_LEN])
{
    fk_err err;

    if (!d || !p)
        abort();
    if (sodium_init() < 0)
        return FK_ERR_CRYPTO;
    if ((err = fki_scalar_random(d)) == FK_OK)
        err = fki_mul_base(p, d);
    if (err != FK_OK)
        fk_wipe(d, 32);
    return err;
}

/* ---- share encryption ("Compute and Encrypt Shares", "DeriveKeyAndNonce") */

/* key || nonce = H6(S_e || S_d, E, P_s, P_r, context)[0:56] with
 * H6(x, E, Ps, Pr, extra) = SHA-512(prefix || x || E || Ps || Pr ||
 * u64le(len extra) || extra). */
static fk_err derive_key(uint8_t kn[56], const uint8_t se[32], const uint8_t sd[32],
                         const uint8_t eph[32], const uint8_t ps[32], const uint8_t pr[32],
                         const uint8_t *context, size_t context_len)
{
    uint8_t h[64], l[8];
    fk_err err;

    u64le(l, context_len);
    fki_buf p[8] = { { prefix_h6, sizeof prefix_h6 - 1 }, { se, 32 }, { sd, 32 }, { eph, 32 },
                     { ps, 32 }, { pr, 32 }, { l, 8 }, { context, context_len } };
    if ((err = fki_sha512(h, p, 8)) == FK_OK)
        memcpy(kn, h, 56);
    fk_wipe(h, sizeof h);
    return err;
}

/* The dealing's sender and recipient j (1-based) as session indices do. */
static fki_dkg_deal session_deal(const fk_dkg_session *s, unsigned i)
{
    return (fki_dkg_deal){ s->t, s->n, s->pk, s->pk[i - 1], s->context, s->context_len };
}

static fk_err seal_to(uint8_t *ct, const fki_dkg_deal *p, unsigned j, const uint8_t d[32],
                      const uint8_t e[32], const uint8_t *pt, size_t ptlen)
{
    uint8_t se[32], sd[32], eph[32], kn[56];
    unsigned long long clen;
    fk_err err;

    if (j < 1 || j > p->n)
        return FK_ERR_INVALID;
    if ((err = fki_mul_base(eph, e)) != FK_OK || (err = fki_mul(se, e, p->to[j - 1])) != FK_OK ||
        (err = fki_mul(sd, d, p->to[j - 1])) != FK_OK)
        goto out;
    if ((err = derive_key(kn, se, sd, eph, p->from, p->to[j - 1], p->context, p->context_len)) !=
        FK_OK)
        goto out;
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, pt, ptlen, NULL, 0, NULL, kn + 32,
                                                   kn) != 0)
        err = FK_ERR_CRYPTO;
out:
    fk_wipe(se, sizeof se);
    fk_wipe(sd, sizeof sd);
    fk_wipe(kn, sizeof kn);
    return err;
}

/* Recipient j (static key d) opens what p's sender sent it. */
static fk_err open_from(uint8_t *pt, size_t cap, const fki_dkg_deal *p, unsigned j,
                        const uint8_t d[32], const uint8_t ej[32], const uint8_t *ct, size_t ctlen)
{
    uint8_t se[32], sd[32], kn[56];
    unsigned long long plen;
    fk_err err;

    if (j < 1 || j > p->n || ctlen < TAG_LEN || cap < ctlen - TAG_LEN)
        return FK_ERR_INVALID;
    if ((err = fki_mul(se, d, ej)) != FK_OK || (err = fki_mul(sd, d, p->from)) != FK_OK)
        goto out;
    if ((err = derive_key(kn, se, sd, ej, p->from, p->to[j - 1], p->context, p->context_len)) !=
        FK_OK)
        goto out;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &plen, NULL, ct, ctlen, NULL, 0, kn + 32,
                                                   kn) != 0) {
        fk_wipe(pt, ctlen - TAG_LEN);
        err = FK_ERR_CRYPTO;
    }
out:
    fk_wipe(se, sizeof se);
    fk_wipe(sd, sizeof sd);
    fk_wipe(kn, sizeof kn);
    return err;
}

fk_err fki_dkg_seal(uint8_t *ct, const fk_dkg_session *s, unsigned i, unsigned j,
                    const uint8_t d[32], const uint8_t e[32], const uint8_t *pt, size_t ptlen)
{
    if (i < 1 || i > s->n)
        return FK_ERR_INVALID;
    fki_dkg_deal p = session_deal(s, i);
    return seal_to(ct, &p, j, d, e, pt, ptlen);
}

fk_err fki_dkg_open(uint8_t *pt, size_t cap, const fk_dkg_session *s, unsigned j, unsigned i,
                    const uint8_t d[32], const uint8_t ej[32], const uint8_t *ct, size_t ctlen)
{
    if (j < 1 || j > s->n)
        return FK_ERR_INVALID;
    fki_dkg_deal p = session_deal(s, j);
    return open_from(pt, cap, &p, i, d, ej, ct, ctlen);
}

/* ---- round 1 ------------------------------------------------------------- */

size_t fk_dkg_msg1_len(unsigned t, unsigned n)
{
    return (size_t)t * 32 + FK_DKG_SIG_LEN + 32 + (size_t)n * (FRAME_LEN + FK_DKG_CT_MIN);
}

fk_err fki_dkg_deal_msg(uint8_t *out, size_t cap, size_t *len, const fki_dkg_deal *p,
                        const uint8_t d[32], const uint8_t (*coeffs)[32], const uint8_t e[32],
                        const uint8_t *payload, size_t plen)
{
    uint8_t sij[32], *pt = NULL;
    size_t need, o;
    fk_err err = FK_OK;

    if (plen > FK_DKG_MAX_CIPHERTEXT - FK_DKG_CT_MIN)
        return FK_ERR_LIMIT;
    for (unsigned k = 0; k < p->t; k++)
        if (!fki_scalar_is_canonical(coeffs[k]) || fki_scalar_is_zero(coeffs[k]))
            return FK_ERR_INVALID;
    if (!fki_scalar_is_canonical(e) || fki_scalar_is_zero(e))
        return FK_ERR_INVALID;
    need = fk_dkg_msg1_len(p->t, p->n) + (size_t)p->n * plen;
    if (cap < need)
        return FK_ERR_LIMIT;
    if (plen && !(pt = malloc(32 + plen)))
        return FK_ERR_NOMEM;

    /* C_i, then E_i, then the PoP between them. */
    for (unsigned k = 0; k < p->t; k++)
        (void)fki_mul_base(out + (size_t)k * 32, coeffs[k]);
    o = (size_t)p->t * 32;
    (void)fki_mul_base(out + o + FK_DKG_SIG_LEN, e);
    {
        fki_buf m[3];
        pop_message(m, p->context, p->context_len, p->t, out, out + o + FK_DKG_SIG_LEN);
        if ((err = sign_parts(out + o, coeffs[0], m, 3)) != FK_OK)
            goto out;
    }
    o += FK_DKG_SIG_LEN + 32;
    for (unsigned j = 1; j <= p->n && err == FK_OK; j++) {
        size_t ctlen = 32 + plen + TAG_LEN;
        fki_poly_eval_scalars(sij, coeffs, p->t, j);
        u64be(out + o, ctlen);
        o += FRAME_LEN;
        if (pt) {
            memcpy(pt, sij, 32);
            memcpy(pt + 32, payload, plen);
        }
        err = seal_to(out + o, p, j, d, e, pt ? pt : sij, 32 + plen);
        o += ctlen;
    }
    if (err == FK_OK)
        *len = o;
out:
    fk_wipe(sij, sizeof sij);
    if (pt) {
        fk_wipe(pt, 32 + plen);
        free(pt);
    }
    if (err != FK_OK)
        fk_wipe(out, need);
    return err;
}

fk_err fki_dkg_round1(uint8_t *out, size_t cap, size_t *len, const fk_dkg_session *s, unsigned i,
                      const uint8_t d[32], const uint8_t (*coeffs)[32], const uint8_t e[32],
                      const uint8_t *payload, size_t plen)
{
    uint8_t p[32];
    fk_err err;

    if ((err = fk_dkg_session_check(s)) != FK_OK)
        return err;
    if (i < 1 || i > s->n || fk_dkg_public(p, d) != FK_OK || memcmp(p, s->pk[i - 1], 32))
        return FK_ERR_INVALID;
    fki_dkg_deal dp = session_deal(s, i);
    return fki_dkg_deal_msg(out, cap, len, &dp, d, coeffs, e, payload, plen);
}

fk_err fk_dkg_round1(uint8_t *out, size_t cap, size_t *len, const fk_dkg_session *s, unsigned i,
                     const uint8_t d[FK_DKG_SCALAR_LEN])
{
    uint8_t(*rnd)[32];
    fk_err err;

    if (!out || !len || !s || !d)
        abort();
    if ((err = fk_dkg_session_check(s)) != FK_OK)
        return err;
    if (sodium_init() < 0)
        return FK_ERR_CRYPTO;
    /* The coefficients (a_{i,0} among them) and e_i: guarded memory, wiped
     * by sodium_free.  fki_scalar_random never returns zero (the spec's
     * resampling). */
    if (!(rnd = sodium_allocarray((size_t)s->t + 1, 32)))
        return FK_ERR_NOMEM;
    err = FK_OK;
    for (unsigned k = 0; k <= s->t && err == FK_OK; k++)
        err = fki_scalar_random(rnd[k]);
    if (err == FK_OK)
        err = fki_dkg_round1(out, cap, len, s, i, d, (const uint8_t(*)[32])rnd, rnd[s->t], NULL, 0);
    sodium_free(rnd);
    return err;
}

fk_err fk_dkg_msg1_parse(fk_dkg_msg1 *m, const uint8_t *in, size_t len, unsigned t, unsigned n)
{
    fk_dkg_msg1 v;
    size_t o;

    if (!m || (!in && len))
        abort();
    if (n > FK_DKG_MAX_PARTICIPANTS)
        return FK_ERR_LIMIT;
    if (t < 1 || t > n)
        return FK_ERR_INVALID;
    memset(&v, 0, sizeof v);
    v.t = t;
    v.n = n;
    o = (size_t)t * 32 + FK_DKG_SIG_LEN + 32;
    if (len < o)
        return FK_ERR_INVALID;
    v.commit = in;
    v.pop = in + (size_t)t * 32;
    v.eph = v.pop + FK_DKG_SIG_LEN;
    /* "The Point at Infinity": refused for C_{i,k} and E_i. */
    for (unsigned k = 0; k < t; k++)
        if (!fki_point_is_valid(v.commit + (size_t)k * 32))
            return FK_ERR_INVALID;
    if (!fki_point_is_valid(v.eph))
        return FK_ERR_INVALID;
    for (unsigned j = 0; j < n; j++) {
        uint64_t l;
        if (len - o < FRAME_LEN)
            return FK_ERR_INVALID;
        l = get_u64be(in + o);
        o += FRAME_LEN;
        if (l > FK_DKG_MAX_CIPHERTEXT)
            return FK_ERR_LIMIT;
        if (l < FK_DKG_CT_MIN || len - o < l)
            return FK_ERR_INVALID;
        v.ct[j] = in + o;
        v.ct_len[j] = (size_t)l;
        o += (size_t)l;
    }
    if (o != len)
        return FK_ERR_INVALID;
    memcpy(m, &v, sizeof v);
    return FK_OK;
}

/* ---- round 2 ------------------------------------------------------------- */

fk_err fki_dkg_check_dealt(uint8_t share[32], const fki_dkg_deal *p, unsigned i,
                           const uint8_t d[32], const fk_dkg_msg1 *m)
{
    uint8_t *pt, sj[32], v[32], want[32];
    fk_err err;

    if (m->t != p->t || m->n != p->n || i < 1 || i > p->n)
        return FK_ERR_INVALID;
    if (fki_dkg_pop_verify(p, m->commit) != FK_OK)
        return FK_ERR_SIGNATURE;
    if (sodium_init() < 0)
        return FK_ERR_CRYPTO;
    /* The plaintext may carry a payload after the share: guarded memory. */
    if (!(pt = sodium_malloc(FK_DKG_MAX_CIPHERTEXT)))
        return FK_ERR_NOMEM;
    if (open_from(pt, FK_DKG_MAX_CIPHERTEXT, p, i, d, m->eph, m->ct[i - 1], m->ct_len[i - 1]) !=
        FK_OK) {
        err = FK_ERR_CRYPTO;
        goto out;
    }
    memcpy(sj, pt, 32);
    if (!fki_scalar_is_canonical(sj)) {
        err = FK_ERR_INVALID;
        goto out;
    }
    /* Algorithm 3: s_{j,i}*B == sum_k i^k C_{j,k}. */
    if ((err = fki_poly_eval_points(want, m->commit, p->t, i)) != FK_OK ||
        (err = fki_mul_base(v, sj)) != FK_OK)
        goto out;
    if (memcmp(v, want, 32)) {
        err = FK_ERR_PROOF;
        goto out;
    }
    memcpy(share, sj, 32);
out:
    fk_wipe(sj, sizeof sj);
    sodium_free(pt); /* wipes */
    return err;
}

/* out[k] = sum_j C_{j,k}; commit(j) gives participant j's t points. */
fk_err fki_dkg_sum_commitments(uint8_t (*out)[32], const uint8_t *const *cj, unsigned t, unsigned n)
{
    fk_err err = FK_OK;

    for (unsigned k = 0; k < t && err == FK_OK; k++) {
        memcpy(out[k], cj[0] + (size_t)k * 32, 32);
        for (unsigned j = 1; j < n && err == FK_OK; j++)
            err = fki_add(out[k], out[k], cj[j] + (size_t)k * 32);
    }
    return err;
}

fk_err fk_dkg_round2(fk_dkg_output *out, unsigned *blame, const fk_dkg_session *s, unsigned i,
                     const uint8_t d[FK_DKG_SCALAR_LEN], const fk_dkg_msg1 *msgs)
{
    const uint8_t *cj[FK_DKG_MAX_PARTICIPANTS];
    uint8_t(*agg)[32] = NULL;
    uint8_t p[32], x[32], sj[32], v[32];
    fk_err err;

    if (!out || !blame || !s || !d || !msgs)
        abort();
    *blame = 0;
    if ((err = fk_dkg_session_check(s)) != FK_OK)
        return err;
    if (i < 1 || i > s->n || fk_dkg_public(p, d) != FK_OK || memcmp(p, s->pk[i - 1], 32))
        return FK_ERR_INVALID;
    for (unsigned j = 0; j < s->n; j++)
        if (msgs[j].t != s->t || msgs[j].n != s->n)
            return FK_ERR_INVALID;
    if (sodium_init() < 0)
        return FK_ERR_CRYPTO;
    if (!(agg = calloc(s->t, 32))) {
        err = FK_ERR_NOMEM;
        goto out;
    }
    memset(x, 0, 32);
    for (unsigned j = 1; j <= s->n; j++) {
        fki_dkg_deal dp = session_deal(s, j);
        *blame = j;
        cj[j - 1] = msgs[j - 1].commit;
        if ((err = fki_dkg_check_dealt(sj, &dp, i, d, &msgs[j - 1])) != FK_OK)
            goto out;
        crypto_core_ristretto255_scalar_add(x, x, sj);
    }
    *blame = 0;
    if ((err = fki_dkg_sum_commitments(agg, cj, s->t, s->n)) != FK_OK)
        goto out;
    memcpy(out->group_pk, agg[0], 32);
    if ((err = fki_poly_eval_points(out->share_pk, (const uint8_t *)agg, s->t, i)) != FK_OK ||
        (err = fki_mul_base(v, x)) != FK_OK)
        goto out;
    /* The final check (defence in depth; implied by the share checks). */
    if (memcmp(v, out->share_pk, 32) || !fki_point_is_valid(out->group_pk)) {
        err = FK_ERR_PROOF;
        goto out;
    }
    memcpy(out->secret, x, 32);
out:
    fk_wipe(x, sizeof x);
    fk_wipe(sj, sizeof sj);
    free(agg);
    if (err != FK_OK)
        fk_wipe(out, sizeof *out);
    return err;
}

/* ---- round 3: transcript and certificate ("Round 3: Certification") ----- */

size_t fk_dkg_transcript_len(const fk_dkg_session *s)
{
    return 8 + CSID_LEN + 8 + s->context_len + 4 + 4 +
           (size_t)s->n * (32 + (size_t)s->t * 32 + FK_DKG_SIG_LEN + 32) + 8 + s->ext_len;
}

fk_err fk_dkg_transcript(uint8_t *out, size_t cap, size_t *len, const fk_dkg_session *s,
                         const fk_dkg_msg1 *msgs)
{
    size_t o = 0, need;
    fk_err err;

    if (!out || !len || !s || !msgs)
        abort();
    if ((err = fk_dkg_session_check(s)) != FK_OK)
        return err;
    for (unsigned j = 0; j < s->n; j++)
        if (msgs[j].t != s->t || msgs[j].n != s->n)
            return FK_ERR_INVALID;
    need = fk_dkg_transcript_len(s);
    if (cap < need)
        return FK_ERR_LIMIT;
#define PUT(p, l)                          \
    do {                                   \
        size_t l_ = (l);                   \
        if (l_ != 0)                       \
            memcpy(out + o, (p), l_);      \
        o += l_;                           \
    } while (0)
    u64le(out + o, CSID_LEN);
    o += 8;
    PUT(csid, CSID_LEN);
    u64le(out + o, s->context_len);
    o += 8;
    PUT(s->context, s->context_len);
    u32le(out + o, s->n);
    u32le(out + o + 4, s->t);
    o += 8;
    PUT(s->pk, (size_t)s->n * 32);
    for (unsigned j = 0; j < s->n; j++)
        PUT(msgs[j].commit, (size_t)s->t * 32);
    for (unsigned j = 0; j < s->n; j++)
        PUT(msgs[j].pop, FK_DKG_SIG_LEN);
    for (unsigned j = 0; j < s->n; j++)
        PUT(msgs[j].eph, 32);
    u64le(out + o, s->ext_len);
    o += 8;
    PUT(s->ext, s->ext_len);
#undef PUT
    *len = o;
    return FK_OK;
}

fk_err fk_dkg_transcript_parse(fk_dkg_transcript_view *v, const uint8_t *t, size_t len)
{
    fk_dkg_transcript_view w;
    size_t o = 0, body;
    uint64_t l;

    if (!v || (!t && len))
        abort();
    memset(&w, 0, sizeof w);
    if (len < 8 + CSID_LEN + 8 || get_u64le(t) != CSID_LEN || memcmp(t + 8, csid, CSID_LEN))
        return FK_ERR_INVALID;
    o = 8 + CSID_LEN;
    l = get_u64le(t + o);
    o += 8;
    if (l > FK_DKG_CONTEXT_MAX)
        return FK_ERR_LIMIT;
    if (len - o < l + 8)
        return FK_ERR_INVALID;
    w.context = t + o;
    w.context_len = (size_t)l;
    o += (size_t)l;
    w.n = get_u32le(t + o);
    w.t = get_u32le(t + o + 4);
    o += 8;
    if (w.n > FK_DKG_MAX_PARTICIPANTS)
        return FK_ERR_LIMIT;
    if (w.t < 1 || w.t > w.n)
        return FK_ERR_INVALID;
    body = (size_t)w.n * (32 + (size_t)w.t * 32 + FK_DKG_SIG_LEN + 32);
    if (len - o < body + 8)
        return FK_ERR_INVALID;
    w.pk = t + o;
    w.commit = w.pk + (size_t)w.n * 32;
    w.pop = w.commit + (size_t)w.n * w.t * 32;
    w.eph = w.pop + (size_t)w.n * FK_DKG_SIG_LEN;
    o += body;
    l = get_u64le(t + o);
    o += 8;
    if (l > FK_DKG_EXT_MAX)
        return FK_ERR_LIMIT;
    if (len - o != l)
        return FK_ERR_INVALID;
    w.ext = t + o;
    w.ext_len = (size_t)l;
    for (unsigned j = 0; j < w.n; j++) {
        if (!fki_point_is_valid(w.pk + (size_t)j * 32) || !fki_point_is_valid(w.eph + (size_t)j * 32))
            return FK_ERR_INVALID;
        for (unsigned k = 0; k < j; k++)
            if (!memcmp(w.pk + (size_t)j * 32, w.pk + (size_t)k * 32, 32))
                return FK_ERR_INVALID;
    }
    for (size_t k = 0; k < (size_t)w.n * w.t; k++)
        if (!fki_point_is_valid(w.commit + k * 32))
            return FK_ERR_INVALID;
    memcpy(v, &w, sizeof w);
    return FK_OK;
}

/* The session a parsed transcript describes (pointers into it). */
static void view_session(fk_dkg_session *s, const fk_dkg_transcript_view *v)
{
    s->t = v->t;
    s->n = v->n;
    s->pk = (const uint8_t(*)[32])v->pk;
    s->context = v->context;
    s->context_len = v->context_len;
    s->ext = v->ext;
    s->ext_len = v->ext_len;
}

fk_err fk_dkg_transcript_check_pops(const fk_dkg_transcript_view *v, unsigned *blame)
{
    fk_dkg_session s;

    if (!v || !blame)
        abort();
    view_session(&s, v);
    *blame = 0;
    for (unsigned j = 0; j < v->n; j++) {
        const uint8_t *c = v->commit + (size_t)j * v->t * 32;
        fki_buf m[3];
        pop_message(m, s.context, s.context_len, s.t, c, v->eph + (size_t)j * 32);
        if (verify_parts(v->pop + (size_t)j * FK_DKG_SIG_LEN, c, m, 3) != FK_OK) {
            *blame = j + 1;
            return FK_ERR_SIGNATURE;
        }
    }
    return FK_OK;
}

fk_err fk_dkg_certificate_verify(const fk_dkg_transcript_view *v, const uint8_t *t, size_t len,
                                 const uint8_t (*sigs)[FK_DKG_SIG_LEN], unsigned *blame)
{
    if (!v || !t || !sigs || !blame)
        abort();
    *blame = 0;
    for (unsigned j = 0; j < v->n; j++)
        if (fk_dkg_verify(sigs[j], v->pk + (size_t)j * 32, t, len) != FK_OK) {
            *blame = j + 1;
            return FK_ERR_SIGNATURE;
        }
    return FK_OK;
}

fk_err fk_dkg_group_commitments(uint8_t (*out)[FK_DKG_POINT_LEN], const fk_dkg_transcript_view *v)
{
    const uint8_t *cj[FK_DKG_MAX_PARTICIPANTS];

    if (!out || !v)
        abort();
    if (v->n < 1 || v->n > FK_DKG_MAX_PARTICIPANTS || v->t < 1 || v->t > v->n)
        return FK_ERR_INVALID;
    for (unsigned j = 0; j < v->n; j++)
        cj[j] = v->commit + (size_t)j * v->t * 32;
    return fki_dkg_sum_commitments(out, cj, v->t, v->n);
}
