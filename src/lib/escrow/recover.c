/*
 * Threshold recovery: Lagrange combination of partial decryptions, opening
 * the escrow stanza with the combined Z, and the whole recovery paths
 * (answers from agents, or shares held locally).
 */
#include <stdlib.h>
#include <string.h>

#include "escrow/internal.h"

/* k = open(body) under wk derived from Z. */
static fk_err unwrap(uint8_t k[16], const fk_escrow_stanza_info *st, const uint8_t z[32])
{
    uint8_t wk[32];
    fk_err err = fki_escrow_wrap_key(wk, z, st->e, st->pk);

    if (err == FK_OK)
        err = fki_escrow_aead(0, k, wk, st->body, FK_ESCROW_WRAP_LEN);
    fk_wipe(wk, sizeof wk);
    return err;
}

fk_err fk_escrow_combine(uint8_t z[FK_ESCROW_POINT_LEN], const fk_escrow_authority *auth,
                         const fk_escrow_partial *parts, size_t nparts)
{
    unsigned idx[FK_ESCROW_MAX_SHARES];
    uint8_t acc[32], lam[32], term[32];
    unsigned t = auth->t;
    fk_err err = FK_OK;

    if (t < 1 || t > FK_ESCROW_MAX_SHARES || auth->n > FK_ESCROW_MAX_SHARES)
        return FK_ERR_INVALID;
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].index < 1 || parts[i].index > auth->n)
            return FK_ERR_INVALID;
        for (size_t j = 0; j < i; j++)
            if (parts[j].index == parts[i].index)
                return FK_ERR_INVALID;
    }
    if (nparts < t)
        return FK_ERR_POLICY;
    for (unsigned i = 0; i < t; i++) {
        if (!fki_point_is_valid(parts[i].d))
            return FK_ERR_INVALID;
        idx[i] = parts[i].index;
    }
    /* Z = sum lambda_i D_i over the first t answers. */
    memset(acc, 0, 32);
    for (unsigned i = 0; i < t && err == FK_OK; i++) {
        if ((err = fki_lagrange0(lam, idx[i], idx, t)) != FK_OK)
            break;
        if ((err = fki_mul(term, lam, parts[i].d)) != FK_OK)
            break;
        err = fki_add(acc, acc, term);
    }
    if (err == FK_OK && fki_scalar_is_zero(acc))
        err = FK_ERR_INVALID; /* an identity Z never opens a stanza */
    if (err == FK_OK)
        memcpy(z, acc, 32);
    fk_wipe(acc, sizeof acc);
    fk_wipe(term, sizeof term);
    return err;
}

fk_err fk_escrow_open(uint8_t file_key[FK_AGE_FILE_KEY_LEN], const fk_escrow_stanza_info *st,
                      const uint8_t z[FK_ESCROW_POINT_LEN])
{
    uint8_t k[16];
    fk_err err;

    if ((err = unwrap(k, st, z)) != FK_OK)
        return err;
    /* k must recompute the whole stanza: a body that opens under Z but was
     * made for another key (or with another E) is not this file's escrow. */
    err = fki_escrow_stanza_matches(st, k) ? FK_OK : FK_ERR_ESCROW;
    if (err == FK_OK)
        memcpy(file_key, k, 16);
    fk_wipe(k, sizeof k);
    return err;
}

fk_err fk_escrow_recover(uint8_t file_key[FK_AGE_FILE_KEY_LEN], const fk_escrow_authority *auth,
                         const fk_header *h, const fk_escrow_partial *parts, size_t nparts,
                         const uint8_t *context, size_t context_len)
{
    fk_escrow_stanza_info st;
    uint8_t z[32], k[16];
    fk_err err;

    if ((err = fk_escrow_header_find(h, auth->pk, &st)) != FK_OK)
        return err;
    for (size_t i = 0; i < nparts; i++)
        if ((err = fk_escrow_partial_verify(auth, &parts[i], st.e, context, context_len)) != FK_OK)
            return err;
    if ((err = fk_escrow_combine(z, auth, parts, nparts)) != FK_OK)
        return err;
    err = fk_escrow_open(k, &st, z);
    if (err == FK_OK)
        err = fk_header_verify_mac(h, k);
    if (err == FK_OK)
        memcpy(file_key, k, 16);
    fk_wipe(z, sizeof z);
    fk_wipe(k, sizeof k);
    return err;
}

fk_err fk_escrow_recover_with_shares(uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                                     const fk_escrow_authority *auth, const fk_escrow_share *shares,
                                     size_t nshares, const fk_header *h)
{
    fk_escrow_stanza_info st;
    fk_escrow_partial *parts;
    fk_err err;

    if (nshares > FK_ESCROW_MAX_SHARES)
        return FK_ERR_LIMIT;
    for (size_t i = 0; i < nshares; i++) {
        if ((err = fk_escrow_share_verify(auth, &shares[i])) != FK_OK)
            return err;
        for (size_t j = 0; j < i; j++)
            if (shares[j].index == shares[i].index)
                return FK_ERR_INVALID;
    }
    if (nshares < auth->t)
        return FK_ERR_POLICY;
    if ((err = fk_escrow_header_find(h, auth->pk, &st)) != FK_OK)
        return err;
    if (!(parts = calloc(auth->t, sizeof *parts)))
        return FK_ERR_NOMEM;
    for (unsigned i = 0; i < auth->t && err == FK_OK; i++)
        err = fk_escrow_partial_decrypt(&parts[i], auth, &shares[i], st.e, NULL, 0);
    if (err == FK_OK)
        err = fk_escrow_recover(file_key, auth, h, parts, auth->t, NULL, 0);
    fk_wipe(parts, auth->t * sizeof *parts);
    free(parts);
    return err;
}

fk_err fk_escrow_recover_from_files(uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                                    const char *authority_text, size_t authority_len,
                                    const char *const *share_texts, const size_t *share_lens,
                                    size_t nshares, const fk_header *h)
{
    fk_escrow_authority *auth;
    fk_escrow_share *shares = NULL;
    fk_err err;

    if (nshares == 0)
        return FK_ERR_POLICY;
    if (nshares > FK_ESCROW_MAX_SHARES)
        return FK_ERR_LIMIT;
    if (!(auth = malloc(sizeof *auth)))
        return FK_ERR_NOMEM;
    if ((err = fk_escrow_authority_parse(auth, authority_text, authority_len)) != FK_OK)
        goto out;
    if ((err = fk_escrow_share_alloc(&shares, nshares)) != FK_OK)
        goto out;
    for (size_t i = 0; i < nshares && err == FK_OK; i++)
        err = fk_escrow_share_parse(&shares[i], share_texts[i], share_lens[i]);
    if (err == FK_OK)
        err = fk_escrow_recover_with_shares(file_key, auth, shares, nshares, h);
out:
    fk_escrow_share_free(shares, nshares);
    free(auth);
    return err;
}
