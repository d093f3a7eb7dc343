/*
 * fairkey's use of COCKTAIL-DKG (docs/spec.md section 9): the extension
 * that binds the authority's name and log policy into the transcript, the
 * authority a certified transcript determines, and the certified
 * transcript file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkg/internal.h"
#include "escrow/internal.h"

static const char ext_magic[] = "fairkey authority dkg v1\n";
static const char cert_magic[] = "fairkey dkg transcript v1\n";

fk_err fk_dkg_authority_ext(char *out, size_t cap, size_t *len, const char *name,
                            const char *policy, size_t policy_len)
{
    size_t o;
    int w;

    if (!out || !len || !name || (!policy && policy_len))
        abort();
    w = snprintf(out, cap, "%sname %s\n", ext_magic, name);
    if (w < 0 || (size_t)w >= cap)
        return FK_ERR_LIMIT;
    o = (size_t)w;
    for (size_t p = 0; p < policy_len;) {
        const char *nl = memchr(policy + p, '\n', policy_len - p);
        size_t ll = nl ? (size_t)(nl - (policy + p)) : policy_len - p;
        w = snprintf(out + o, cap - o, "policy %.*s\n", (int)ll, policy + p);
        if (w < 0 || (size_t)w >= cap - o)
            return FK_ERR_LIMIT;
        o += (size_t)w;
        p += ll + 1;
    }
    if (o > FK_DKG_EXT_MAX)
        return FK_ERR_LIMIT;
    *len = o;
    return FK_OK;
}

/* Split fairkey's extension into the name and the policy text (into
 * policy, capacity FK_ESCROW_POLICY_MAX + 1).  The policy's own checks are
 * the authority builder's. */
static fk_err ext_parse(char name[FK_ESCROW_NAME_MAX + 1], char *policy, size_t *policy_len,
                        const uint8_t *ext, size_t len)
{
    const char *p = (const char *)ext, *end = p + len, *nl;
    size_t ml = sizeof ext_magic - 1, pl = 0;

    if (len < ml || memcmp(p, ext_magic, ml))
        return FK_ERR_INVALID;
    p += ml;
    if (!(nl = memchr(p, '\n', (size_t)(end - p))) || nl - p < 6 || memcmp(p, "name ", 5) ||
        nl - p - 5 > FK_ESCROW_NAME_MAX)
        return FK_ERR_INVALID;
    memcpy(name, p + 5, (size_t)(nl - p - 5));
    name[nl - p - 5] = '\0';
    if (strlen(name) != (size_t)(nl - p - 5))
        return FK_ERR_INVALID; /* a NUL inside */
    p = nl + 1;
    while (p < end) {
        if (!(nl = memchr(p, '\n', (size_t)(end - p))) || nl - p < 8 || memcmp(p, "policy ", 7))
            return FK_ERR_INVALID;
        size_t ll = (size_t)(nl - p - 7);
        if (pl + ll + 1 > FK_ESCROW_POLICY_MAX)
            return FK_ERR_LIMIT;
        memcpy(policy + pl, p + 7, ll);
        policy[pl + ll] = '\n';
        pl += ll + 1;
        p = nl + 1;
    }
    policy[pl] = '\0';
    *policy_len = pl;
    return FK_OK;
}

fk_err fk_dkg_authority_from_transcript(fk_escrow_authority *auth,
                                        const fk_dkg_transcript_view *v)
{
    char name[FK_ESCROW_NAME_MAX + 1], *policy;
    uint8_t(*commit)[32];
    size_t plen = 0;
    fk_err err;

    if (!auth || !v)
        abort();
    policy = malloc(FK_ESCROW_POLICY_MAX + 1);
    commit = calloc(v->t ? v->t : 1, 32);
    if (!policy || !commit) {
        err = FK_ERR_NOMEM;
        goto out;
    }
    if ((err = ext_parse(name, policy, &plen, v->ext, v->ext_len)) != FK_OK)
        goto out;
    if ((err = fk_dkg_group_commitments(commit, v)) != FK_OK)
        goto out;
    err = fki_escrow_authority_build(auth, name, v->t, v->n, policy, plen,
                                     (const uint8_t(*)[32])commit);
out:
    free(policy);
    free(commit);
    return err;
}

/* ---- the certified transcript file --------------------------------------- */

size_t fk_dkg_certified_text_len(size_t tlen, unsigned n)
{
    /* magic, "transcript " + b64 + LF, n * ("signature " + 3 digits + " " + 88 + LF), NUL */
    return sizeof cert_magic + 11 + fk_b64_enc_len_padded(tlen) + 1 + (size_t)n * (10 + 3 + 1 + 88 + 1) + 1;
}

fk_err fk_dkg_certified_encode(char *out, size_t cap, size_t *len, const uint8_t *t, size_t tlen,
                               const uint8_t (*sigs)[FK_DKG_SIG_LEN], unsigned n)
{
    size_t o;

    if (!out || !len || !t || !sigs)
        abort();
    if (n < 1 || n > FK_DKG_MAX_PARTICIPANTS)
        return FK_ERR_INVALID;
    if (cap < fk_dkg_certified_text_len(tlen, n))
        return FK_ERR_LIMIT;
    memcpy(out, cert_magic, sizeof cert_magic - 1);
    o = sizeof cert_magic - 1;
    memcpy(out + o, "transcript ", 11);
    o += 11;
    o += fk_b64_encode_padded_public(out + o, t, tlen);
    out[o++] = '\n';
    for (unsigned j = 0; j < n; j++) {
        int w = snprintf(out + o, cap - o, "signature %u ", j + 1);
        o += (size_t)w;
        o += fk_b64_encode_padded_public(out + o, sigs[j], FK_DKG_SIG_LEN);
        out[o++] = '\n';
    }
    out[o] = '\0';
    *len = o;
    return FK_OK;
}

/* The next LF-terminated line: [*p, nl). */
static const char *line(const char **p, const char *end, size_t *ll)
{
    const char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));

    if (!nl)
        return NULL;
    *ll = (size_t)(nl - s);
    *p = nl + 1;
    return s;
}

fk_err fk_dkg_certified_parse(fk_dkg_transcript_view *v, uint8_t *tbuf, size_t tcap,
                              size_t *tlen, uint8_t (*sigs)[FK_DKG_SIG_LEN], const char *text,
                              size_t len)
{
    const char *p = text, *end = text + len, *l;
    size_t ll, got, tl;
    fk_dkg_transcript_view w;
    fk_err err;

    if (!v || !tbuf || !tlen || !sigs || (!text && len))
        abort();
    if (!(l = line(&p, end, &ll)) || ll + 1 != sizeof cert_magic - 1 ||
        memcmp(l, cert_magic, ll))
        return FK_ERR_INVALID;
    if (!(l = line(&p, end, &ll)) || ll < 11 || memcmp(l, "transcript ", 11))
        return FK_ERR_INVALID;
    if ((err = fk_b64_decode_padded(tbuf, tcap, &tl, l + 11, ll - 11)) != FK_OK)
        return err;
    if ((err = fk_dkg_transcript_parse(&w, tbuf, tl)) != FK_OK)
        return err;
    for (unsigned j = 1; j <= w.n; j++) {
        char want[24];
        int n = snprintf(want, sizeof want, "signature %u ", j);
        if (!(l = line(&p, end, &ll)) || ll < (size_t)n || memcmp(l, want, (size_t)n))
            return FK_ERR_INVALID;
        if (fk_b64_decode_padded(sigs[j - 1], FK_DKG_SIG_LEN, &got, l + n, ll - (size_t)n) !=
                FK_OK ||
            got != FK_DKG_SIG_LEN)
            return FK_ERR_INVALID;
    }
    if (p != end)
        return FK_ERR_INVALID;
    *tlen = tl;
    memcpy(v, &w, sizeof w);
    return FK_OK;
}

fk_err fk_dkg_authority_verify(const fk_escrow_authority *auth, const char *certified,
                               size_t len, unsigned *blame)
{
    fk_dkg_transcript_view v;
    uint8_t *t = malloc(len ? len : 1), (*sigs)[FK_DKG_SIG_LEN] = malloc(
                                            (size_t)FK_DKG_MAX_PARTICIPANTS * FK_DKG_SIG_LEN);
    fk_escrow_authority *a = malloc(sizeof *a);
    size_t tl;
    fk_err err;

    if (!auth || !certified || !blame)
        abort();
    *blame = 0;
    if (!t || !sigs || !a) {
        err = FK_ERR_NOMEM;
        goto out;
    }
    /* Base64 is longer than what it decodes to: len bounds T. */
    if ((err = fk_dkg_certified_parse(&v, t, len ? len : 1, &tl, sigs, certified, len)) != FK_OK)
        goto out;
    if ((err = fk_dkg_transcript_check_pops(&v, blame)) != FK_OK)
        goto out;
    if ((err = fk_dkg_certificate_verify(&v, t, tl, (const uint8_t(*)[FK_DKG_SIG_LEN])sigs,
                                         blame)) != FK_OK)
        goto out;
    if ((err = fk_dkg_authority_from_transcript(a, &v)) != FK_OK)
        goto out;
    if (a->t != auth->t || a->n != auth->n || memcmp(a->id, auth->id, FK_ESCROW_ID_LEN))
        err = FK_ERR_INVALID;
out:
    free(t);
    free(sigs);
    free(a);
    return err;
}
