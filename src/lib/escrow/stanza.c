/*
 * The escrow recipient ("age1fairkey1...") and the verifiable escrow stanza:
 * making it, parsing it, finding it in a header, and recomputing every
 * escrow stanza of a header from the file key (fk_escrow_check_header).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "escrow/internal.h"

/* Stanza v2 domain strings (docs/spec.md section 1). */
static const char dst_r[] = "fairkey/v2 escrow r";
static const char wrap_info[] = "fairkey/v2 escrow wrap";
static const char dst_generator[] = "fairkey/v2 escrow generator";
static const char dst_proof[] = "fairkey/v2 escrow proof";
static const char dst_proof_nonce[] = "fairkey/v2 escrow proof nonce";
#define B64_POINT_LEN 43

/* ---- recipient string ---------------------------------------------------- */

fk_err fk_escrow_recipient_encode(char out[FK_ESCROW_RECIPIENT_STR_MAX],
                                  const uint8_t pk[FK_ESCROW_POINT_LEN])
{
    return fk_bech32_encode(out, FK_ESCROW_RECIPIENT_STR_MAX, FK_ESCROW_RECIPIENT_HRP, pk, 32);
}

fk_err fk_escrow_recipient_decode(uint8_t pk[FK_ESCROW_POINT_LEN], const char *s)
{
    char hrp[sizeof FK_ESCROW_RECIPIENT_HRP];
    uint8_t data[32];
    size_t n = 0, slen = strlen(s);

    if (slen >= FK_ESCROW_RECIPIENT_STR_MAX)
        return FK_ERR_INVALID;
    if (fk_bech32_decode(hrp, sizeof hrp, data, sizeof data, &n, s, slen) != FK_OK)
        return FK_ERR_INVALID;
    if (strcmp(hrp, FK_ESCROW_RECIPIENT_HRP) != 0 || n != 32 || !fki_point_is_valid(data))
        return FK_ERR_INVALID;
    memcpy(pk, data, 32);
    return FK_OK;
}

typedef struct escrow_rcpt {
    uint8_t pk[32];
} escrow_rcpt;

static fk_err rcpt_wrap(const fk_recipient *r, const uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                        fk_stanza *out)
{
    const escrow_rcpt *st = r->state;

    return fk_escrow_stanza_make(out, st->pk, file_key);
}

static void rcpt_destroy(fk_recipient *r)
{
    if (r->state) {
        fk_wipe(r->state, sizeof(escrow_rcpt));
        free(r->state);
        r->state = NULL;
    }
}

static const fk_recipient_ops escrow_rcpt_ops = {
    .name = "fairkey escrow",
    .alone = 0,
    .wrap = rcpt_wrap,
    .destroy = rcpt_destroy,
};

fk_err fk_escrow_recipient_new(fk_recipient **out, const uint8_t pk[FK_ESCROW_POINT_LEN])
{
    fk_recipient *r;
    escrow_rcpt *st;

    if (!fki_point_is_valid(pk))
        return FK_ERR_INVALID;
    if (!(r = calloc(1, sizeof *r)))
        return FK_ERR_NOMEM;
    if (!(st = calloc(1, sizeof *st))) {
        free(r);
        return FK_ERR_NOMEM;
    }
    memcpy(st->pk, pk, 32);
    r->ops = &escrow_rcpt_ops;
    r->state = st;
    *out = r;
    return FK_OK;
}

fk_err fk_escrow_recipient_parse(fk_recipient **out, const char *s)
{
    uint8_t pk[32];
    fk_err err = fk_escrow_recipient_decode(pk, s);

    return err == FK_OK ? fk_escrow_recipient_new(out, pk) : err;
}

/* ---- stanza values --------------------------------------------------------- */

/* HKDF and ChaCha20-Poly1305 are fetched once: an implicit fetch on every
 * call costs OpenSSL 3 a provider lookup, more than the 16-byte operation
 * itself, and every encrypted file pays it. */
static EVP_KDF *hkdf_alg;
static EVP_CIPHER *aead_alg;
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;

static void algs_fetch(void)
{
    hkdf_alg = EVP_KDF_fetch(NULL, "HKDF", NULL);
    aead_alg = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
}

/* wk = HKDF-SHA-256(ikm = Z, salt = E || PK, info = "fairkey/v2 escrow wrap") */
fk_err fki_escrow_wrap_key(uint8_t wk[32], const uint8_t z[32], const uint8_t e[32],
                           const uint8_t pk[32])
{
    uint8_t salt[64];
    EVP_KDF_CTX *kctx;
    OSSL_PARAM params[5];
    fk_err err = FK_ERR_CRYPTO;

    pthread_once(&algs_once, algs_fetch);
    if (!hkdf_alg)
        return FK_ERR_CRYPTO;
    if (!(kctx = EVP_KDF_CTX_new(hkdf_alg)))
        return FK_ERR_NOMEM;
    memcpy(salt, e, 32);
    memcpy(salt + 32, pk, 32);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, 32);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, sizeof salt);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)wrap_info,
                                                  sizeof wrap_info - 1);
    params[4] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(kctx, wk, 32, params) == 1)
        err = FK_OK;
    EVP_KDF_CTX_free(kctx); /* cleanses the HKDF state */
    return err;
}

/* ChaCha20-Poly1305 with a zero nonce and no AAD; the key is single-use. */
fk_err fki_escrow_aead(int enc, uint8_t *out, const uint8_t key[32], const uint8_t *in,
                       size_t inlen)
{
    static const uint8_t nonce[12];
    EVP_CIPHER_CTX *ctx;
    int n = 0, m = 0;
    size_t ptlen;
    fk_err err = enc ? FK_ERR_CRYPTO : FK_ERR_ESCROW;

    /* Bodies are short and fixed; a decrypt input shorter than the tag has
     * no plaintext at all. */
    if (inlen > FKI_ESCROW_AEAD_MAX || (!enc && inlen < 16))
        return err;
    ptlen = enc ? inlen : inlen - 16;
    pthread_once(&algs_once, algs_fetch);
    if (!aead_alg)
        return err;
    if (!(ctx = EVP_CIPHER_CTX_new()))
        return FK_ERR_NOMEM;
    if (EVP_CipherInit_ex2(ctx, aead_alg, key, nonce, enc, NULL) != 1)
        goto out;
    if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, (void *)(in + ptlen)) != 1)
        goto out;
    if (EVP_CipherUpdate(ctx, out, &n, in, (int)ptlen) != 1 || (size_t)n != ptlen)
        goto out;
    if (EVP_CipherFinal_ex(ctx, out + n, &m) != 1 || m != 0)
        goto out;
    if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + ptlen) != 1)
        goto out;
    err = FK_OK;
out:
    if (err != FK_OK)
        fk_wipe(out, enc ? inlen + 16 : ptlen);
    EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
    return err;
}

/* G = H2G("fairkey/v2 escrow generator", PK): the second generator of the
 * validity proof, one per authority, with a discrete log nobody knows. */
static fk_err generator(uint8_t g[32], const uint8_t pk[32])
{
    fki_buf in[1] = { { pk, 32 } };

    return fki_h2g(g, dst_generator, sizeof dst_generator - 1, in, 1);
}

/* The validity proof is the generic DLEQ of escrow/dleq.c for
 * log_B(E) == log_G(Ebar), its challenge bound to PK and the wrapped key
 * (Shoup-Gennaro TDH2's label and ciphertext binding). */
static void proof_params(fki_dleq_params *prm, fki_buf bind[2], const uint8_t pk[32],
                         const uint8_t wrap[FK_ESCROW_WRAP_LEN])
{
    bind[0] = (fki_buf){ pk, 32 };
    bind[1] = (fki_buf){ wrap, FK_ESCROW_WRAP_LEN };
    memset(prm, 0, sizeof *prm);
    prm->h2s_dst = dst_proof;
    prm->h2s_dst_len = sizeof dst_proof - 1;
    prm->composites = 0;
    prm->bind = bind;
    prm->nbind = 2;
}

fk_err fki_escrow_stanza_values(uint8_t e[32], uint8_t ebar[32],
                                uint8_t body[FK_ESCROW_BODY_LEN], const uint8_t pk[32],
                                const uint8_t file_key[16])
{
    uint8_t r[32], z[32], wk[32], g[32], w[32], eb[32], bd[FK_ESCROW_BODY_LEN];
    fki_dleq_params prm;
    fki_buf bind[2];
    fk_err err;

    if (!fki_point_is_valid(pk))
        return FK_ERR_INVALID;
    fki_buf in[2] = { { pk, 32 }, { file_key, 16 } };
    if ((err = fki_h2s(r, dst_r, sizeof dst_r - 1, in, 2)) != FK_OK)
        goto out;
    /* The proof nonce: a function of (PK, k) under its own DST, so the
     * stanza stays deterministic; every input of the challenge is itself a
     * function of (PK, k), so one nonce never meets two challenges. */
    if ((err = fki_h2s(w, dst_proof_nonce, sizeof dst_proof_nonce - 1, in, 2)) != FK_OK)
        goto out;
    /* r = 0 or w = 0 have probability 2^-252 each; r = 0 would make E the
     * identity. */
    if (fki_scalar_is_zero(r) || fki_scalar_is_zero(w)) {
        err = FK_ERR_CRYPTO;
        goto out;
    }
    if ((err = fki_mul_base(e, r)) != FK_OK || (err = generator(g, pk)) != FK_OK ||
        (err = fki_mul(eb, r, g)) != FK_OK || (err = fki_mul(z, r, pk)) != FK_OK)
        goto out;
    if ((err = fki_escrow_wrap_key(wk, z, e, pk)) != FK_OK)
        goto out;
    if ((err = fki_escrow_aead(1, bd, wk, file_key, 16)) != FK_OK)
        goto out;
    proof_params(&prm, bind, pk, bd);
    err = fki_dleq_prove(bd + FK_ESCROW_WRAP_LEN, r, fki_base_point, e,
                         (const uint8_t(*)[32])g, (const uint8_t(*)[32])eb, 1, w, &prm);
    if (err == FK_OK) {
        memcpy(ebar, eb, 32);
        memcpy(body, bd, sizeof bd);
    }
out:
    fk_wipe(r, sizeof r);
    fk_wipe(w, sizeof w);
    fk_wipe(z, sizeof z);
    fk_wipe(wk, sizeof wk);
    return err;
}

fk_err fk_escrow_stanza_verify(const fk_escrow_stanza_info *st)
{
    uint8_t g[32];
    fki_dleq_params prm;
    fki_buf bind[2];
    fk_err err;

    if (!fki_point_is_valid(st->pk) || !fki_point_is_valid(st->e) ||
        !fki_point_is_valid(st->ebar))
        return FK_ERR_INVALID;
    if ((err = generator(g, st->pk)) != FK_OK)
        return err;
    proof_params(&prm, bind, st->pk, st->body);
    err = fki_dleq_verify(st->body + FK_ESCROW_WRAP_LEN, fki_base_point, st->e,
                          (const uint8_t(*)[32])g, (const uint8_t(*)[32])st->ebar, 1, &prm);
    return err == FK_OK ? FK_OK : err == FK_ERR_INVALID ? FK_ERR_INVALID : FK_ERR_PROOF;
}

fk_err fk_escrow_stanza_make(fk_stanza *out, const uint8_t pk[FK_ESCROW_POINT_LEN],
                             const uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    uint8_t e[32], ebar[32], body[FK_ESCROW_BODY_LEN];
    char pk64[B64_POINT_LEN + 1], e64[B64_POINT_LEN + 1], eb64[B64_POINT_LEN + 1];
    fk_err err;

    if ((err = fki_escrow_stanza_values(e, ebar, body, pk, file_key)) != FK_OK)
        return err;
    fk_b64_encode(pk64, pk, 32);
    fk_b64_encode(e64, e, 32);
    fk_b64_encode(eb64, ebar, 32);
    const char *args[4] = { FK_ESCROW_STANZA_TYPE, pk64, e64, eb64 };
    return fk_stanza_init(out, args, 4, body, sizeof body);
}

/* The current type, or the retired v1 type, which is never ignored: a file
 * that carries it is one no agent will recover. */
static int is_escrow_type(const fk_stanza *s)
{
    return s->nargs >= 1 && (strcmp(s->args[0], FK_ESCROW_STANZA_TYPE) == 0 ||
                             strcmp(s->args[0], FK_ESCROW_STANZA_TYPE_RETIRED) == 0);
}

static int arg_point(uint8_t out[32], const char *arg)
{
    size_t n = strlen(arg), got = 0;

    return n == B64_POINT_LEN && fk_b64_decode(out, 32, &got, arg, n) == FK_OK && got == 32 &&
           fki_point_is_valid(out);
}

fk_err fk_escrow_stanza_parse(fk_escrow_stanza_info *out, const fk_stanza *s)
{
    fk_escrow_stanza_info st;

    if (!is_escrow_type(s))
        return FK_ERR_NOT_FOUND;
    memset(&st, 0, sizeof st);
    if (strcmp(s->args[0], FK_ESCROW_STANZA_TYPE) != 0)
        return FK_ERR_ESCROW; /* retired */
    if (s->nargs != 4 || s->body_len != FK_ESCROW_BODY_LEN)
        return FK_ERR_ESCROW;
    if (!arg_point(st.pk, s->args[1]) || !arg_point(st.e, s->args[2]) ||
        !arg_point(st.ebar, s->args[3]))
        return FK_ERR_ESCROW;
    if (!fki_scalar_is_canonical(s->body + FK_ESCROW_WRAP_LEN) ||
        !fki_scalar_is_canonical(s->body + FK_ESCROW_WRAP_LEN + 32))
        return FK_ERR_ESCROW;
    memcpy(st.body, s->body, FK_ESCROW_BODY_LEN);
    *out = st;
    return FK_OK;
}

fk_err fk_escrow_header_list(const fk_header *h, fk_escrow_stanza_info *out, size_t cap,
                             size_t *count)
{
    fk_escrow_stanza_info st;
    size_t k = 0;
    fk_err err = FK_OK;

    for (size_t i = 0; i < h->nstanzas; i++) {
        fk_err e = fk_escrow_stanza_parse(&st, &h->stanzas[i]);
        if (e == FK_ERR_NOT_FOUND)
            continue;
        if (e != FK_OK) {
            /* Malformed: reported through the return value, not listed. */
            err = FK_ERR_ESCROW;
            continue;
        }
        st.stanza_index = i;
        if (k < cap)
            out[k] = st;
        k++;
    }
    *count = k;
    return err;
}

fk_err fk_escrow_header_find(const fk_header *h, const uint8_t pk[FK_ESCROW_POINT_LEN],
                             fk_escrow_stanza_info *out)
{
    fk_escrow_stanza_info st, found;
    int nfound = 0;

    for (size_t i = 0; i < h->nstanzas; i++) {
        fk_err e = fk_escrow_stanza_parse(&st, &h->stanzas[i]);
        if (e == FK_ERR_NOT_FOUND)
            continue;
        if (e != FK_OK)
            return FK_ERR_ESCROW;
        if (memcmp(st.pk, pk, 32) != 0)
            continue;
        st.stanza_index = i;
        found = st;
        nfound++;
    }
    if (nfound == 0)
        return FK_ERR_NOT_FOUND;
    if (nfound > 1)
        return FK_ERR_ESCROW;
    *out = found;
    return FK_OK;
}

/* ---- recomputation ----------------------------------------------------------- */

void fk_escrow_check_init(fk_escrow_check_ctx *ctx,
                          const uint8_t (*required)[FK_ESCROW_POINT_LEN], size_t nrequired,
                          int require_any, int warn_only)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->required = required;
    ctx->nrequired = nrequired;
    ctx->require_any = require_any;
    ctx->warn_only = warn_only;
}

/* 1 if (PK, k) recomputes the parsed stanza byte for byte (E, Ebar, the
 * wrapped key and the proof), compared in constant time. */
int fki_escrow_stanza_matches(const fk_escrow_stanza_info *st, const uint8_t file_key[16])
{
    uint8_t e[32], ebar[32], body[FK_ESCROW_BODY_LEN];

    if (fki_escrow_stanza_values(e, ebar, body, st->pk, file_key) != FK_OK)
        return 0;
    return fk_ct_eq(e, st->e, 32) & fk_ct_eq(ebar, st->ebar, 32) &
           fk_ct_eq(body, st->body, sizeof body);
}

/* Recompute one parsed stanza from k and compare every byte. */
static fk_err recompute(const fk_escrow_stanza_info *st, const uint8_t file_key[16])
{
    return fki_escrow_stanza_matches(st, file_key) ? FK_OK : FK_ERR_ESCROW;
}

/* 1 if an escrow-typed stanza before index i names the same PK argument.
 * Comparing the b64 text is exact: a stanza that parsed has the one
 * canonical encoding of its point. */
static int repeats_pk(const fk_header *h, size_t i)
{
    const fk_stanza *s = &h->stanzas[i];

    for (size_t j = 0; j < i; j++) {
        const fk_stanza *o = &h->stanzas[j];
        if (is_escrow_type(o) && o->nargs >= 2 && strcmp(o->args[1], s->args[1]) == 0)
            return 1;
    }
    return 0;
}

fk_err fk_escrow_check_header(void *vctx, const fk_header *h,
                              const uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    fk_escrow_check_ctx *ctx = vctx;
    fk_escrow_stanza_info st;
    /* PKs of the stanzas that verified (at most one per PK). */
    uint8_t verified[FK_ESCROW_MAX_STANZAS][FK_ESCROW_POINT_LEN];

    ctx->nescrow = ctx->nverified = ctx->nfailed = ctx->nmissing = ctx->nresults = 0;
    for (size_t i = 0; i < h->nstanzas; i++) {
        fk_err e;
        if (!is_escrow_type(&h->stanzas[i]))
            continue;
        memset(st.pk, 0, 32);
        if (++ctx->nescrow > FK_ESCROW_MAX_STANZAS) {
            /* Not even parsed: the check's cost stays bounded. */
            e = FK_ERR_LIMIT;
        } else if ((e = fk_escrow_stanza_parse(&st, &h->stanzas[i])) != FK_OK) {
            memset(st.pk, 0, 32);
        } else if (repeats_pk(h, i)) {
            /* Two stanzas for one authority make recovery ambiguous
             * (fk_escrow_header_find refuses them): a file a recipient
             * accepts must be one its authorities can recover. */
            e = FK_ERR_ESCROW;
        } else {
            e = recompute(&st, file_key);
        }
        if (e == FK_OK)
            memcpy(verified[ctx->nverified++], st.pk, 32);
        else
            ctx->nfailed++;
        if (ctx->nresults < FK_ESCROW_CHECK_MAX_RESULTS) {
            fk_escrow_check_result *r = &ctx->results[ctx->nresults++];
            r->stanza_index = i;
            memcpy(r->pk, st.pk, 32);
            r->err = e;
        }
    }
    for (size_t q = 0; q < ctx->nrequired; q++) {
        int ok = 0;
        /* A required authority counts only with a stanza that verified. */
        for (size_t v = 0; v < ctx->nverified && !ok; v++)
            ok = memcmp(verified[v], ctx->required[q], 32) == 0;
        if (!ok)
            ctx->nmissing++;
    }
    if (ctx->warn_only)
        return FK_OK;
    if (ctx->nfailed || ctx->nmissing || (ctx->require_any && ctx->nverified == 0))
        return FK_ERR_ESCROW;
    return FK_OK;
}
