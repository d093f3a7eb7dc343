/*
 * Resharing an authority to new agents without changing PK (docs/spec.md
 * section 10): Wong, Wang and Wing, "Verifiable Secret Redistribution for
 * Archive Systems" (IEEE SISW 2002), after Desmedt and Jajodia (1997).  The
 * t dealers i in D each deal lambda_i * s_i with Feldman commitments, as one
 * COCKTAIL dealing (cocktail.c) to the new participants' keys; new agents
 * check each dealer's constant term against lambda_i * PK_i and sum.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dkg/internal.h"
#include "escrow/internal.h"

static const char session_magic[] = "fairkey reshare session v1";
static const char context_domain[] = "fairkey/v1 authority reshare context\n";
static const char entry_magic[] = "fairkey authority reshare v1";

/* ---- the session ----------------------------------------------------------- */

static fk_err session_text(char *out, size_t cap, size_t *len, const fk_reshare_session *s)
{
    char hex[65], b64[44];
    size_t o = 0;
    int w;

    if (cap == 0 || s->ndealers > FK_ESCROW_MAX_SHARES || s->n > FK_ESCROW_MAX_SHARES ||
        s->policy_len > FK_ESCROW_POLICY_MAX)
        return FK_ERR_LIMIT;
    fk_hex_encode(hex, s->authority_id, 32);
    FKI_EMIT("%s\nauthority %s\nname %s\nthreshold %u\n", session_magic, hex, s->name, s->t);
    for (unsigned k = 0; k < s->ndealers; k++) {
        fk_b64_encode(b64, s->dealer_pk[k], 32);
        FKI_EMIT("dealer %u %s\n", s->dealer[k], b64);
    }
    for (unsigned j = 0; j < s->n; j++) {
        fk_b64_encode(b64, s->pk[j], 32);
        FKI_EMIT("participant %s\n", b64);
    }
    if (fki_write_policy_lines(out, cap, &o, s->policy, s->policy_len) != FK_OK)
        return FK_ERR_LIMIT;
    fk_hex_encode(hex, s->id, 32);
    FKI_EMIT("id %s\n", hex);
    *len = o;
    return FK_OK;
}

static int distinct(const uint8_t (*pk)[32], unsigned n)
{
    for (unsigned j = 0; j < n; j++) {
        if (!fki_point_is_valid(pk[j]))
            return 0;
        for (unsigned k = 0; k < j; k++)
            if (!memcmp(pk[j], pk[k], 32))
                return 0;
    }
    return 1;
}

fk_err fk_reshare_session_context(fk_reshare_session *s)
{
    char *text;
    size_t len;
    fk_err err;

    if (!s)
        abort();
    if (s->n > FK_ESCROW_MAX_SHARES || s->ndealers > FK_ESCROW_MAX_SHARES)
        return FK_ERR_LIMIT;
    if (s->t < 1 || s->t > s->n || s->ndealers < 1 || memchr(s->name, 0, sizeof s->name) == NULL ||
        !fki_escrow_name_ok(s->name))
        return FK_ERR_INVALID;
    for (unsigned k = 0; k < s->ndealers; k++)
        if (s->dealer[k] < 1 || s->dealer[k] > FK_ESCROW_MAX_SHARES ||
            (k && s->dealer[k] <= s->dealer[k - 1]))
            return FK_ERR_INVALID;
    /* A staying agent may use one participant key as dealer and as new
     * agent; within each list the keys are distinct (each names one party). */
    if (!distinct((const uint8_t(*)[32])s->dealer_pk, s->ndealers) ||
        !distinct((const uint8_t(*)[32])s->pk, s->n))
        return FK_ERR_INVALID;
    if (s->policy_len > FK_ESCROW_POLICY_MAX)
        return FK_ERR_LIMIT;
    if ((err = fki_escrow_policy_check(s->policy, s->policy_len)) != FK_OK)
        return err;
    if (!(text = malloc(FK_RESHARE_SESSION_TEXT_MAX)))
        return FK_ERR_NOMEM;
    if ((err = session_text(text, FK_RESHARE_SESSION_TEXT_MAX, &len, s)) == FK_OK) {
        fki_buf p[2] = { { context_domain, sizeof context_domain - 1 }, { text, len } };
        err = fki_sha512(s->context, p, 2);
    }
    free(text);
    return err;
}

fk_err fk_reshare_session_encode(char *out, size_t cap, size_t *len, const fk_reshare_session *s)
{
    if (!out || !len || !s)
        abort();
    return session_text(out, cap, len, s);
}

fk_err fk_reshare_session_parse(fk_reshare_session *s, const char *text, size_t len)
{
    fk_reshare_session *w;
    fki_cursor c = { text, len };
    const char *v;
    size_t vn;
    fk_err err = FK_ERR_INVALID;

    if (!s || (!text && len))
        abort();
    if (len > FK_RESHARE_SESSION_TEXT_MAX)
        return FK_ERR_LIMIT;
    if (!(w = calloc(1, sizeof *w)))
        return FK_ERR_NOMEM;
    if (!fki_next_field(&c, session_magic, NULL, NULL) ||
        !fki_next_field(&c, "authority", &v, &vn) || vn != 64 ||
        fk_hex_decode(w->authority_id, 32, v, vn) != FK_OK)
        goto out;
    if (!fki_next_field(&c, "name", &v, &vn) || vn > FK_ESCROW_NAME_MAX)
        goto out;
    memcpy(w->name, v, vn);
    if (!fki_next_field(&c, "threshold", &v, &vn) ||
        !fki_parse_uint(v, vn, 1, FK_ESCROW_MAX_SHARES, &w->t))
        goto out;
    while (c.left > 7 && !memcmp(c.p, "dealer ", 7)) {
        const char *sp;
        if (w->ndealers == FK_ESCROW_MAX_SHARES) {
            err = FK_ERR_LIMIT;
            goto out;
        }
        if (!fki_next_field(&c, "dealer", &v, &vn) || !(sp = memchr(v, ' ', vn)) ||
            !fki_parse_uint(v, (size_t)(sp - v), 1, FK_ESCROW_MAX_SHARES,
                            &w->dealer[w->ndealers]) ||
            !fki_parse_b64_32(w->dealer_pk[w->ndealers], sp + 1, vn - (size_t)(sp - v) - 1))
            goto out;
        w->ndealers++;
    }
    while (c.left > 12 && !memcmp(c.p, "participant ", 12)) {
        if (w->n == FK_ESCROW_MAX_SHARES) {
            err = FK_ERR_LIMIT;
            goto out;
        }
        if (!fki_next_field(&c, "participant", &v, &vn) || !fki_parse_b64_32(w->pk[w->n], v, vn))
            goto out;
        w->n++;
    }
    fk_err pe = fki_read_policy_lines(&c, w->policy, &w->policy_len);
    if (pe != FK_OK) {
        if (pe == FK_ERR_LIMIT)
            err = FK_ERR_LIMIT;
        goto out;
    }
    if (!fki_next_field(&c, "id", &v, &vn) || vn != 64 || fk_hex_decode(w->id, 32, v, vn) != FK_OK ||
        c.left != 0)
        goto out;
    if ((err = fk_reshare_session_context(w)) != FK_OK)
        goto out;
    /* Canonical: hex in lowercase, and everything else re-encodes. */
    {
        char *re = malloc(FK_RESHARE_SESSION_TEXT_MAX);
        size_t rl;
        err = FK_ERR_INVALID;
        if (!re)
            err = FK_ERR_NOMEM;
        else if (session_text(re, FK_RESHARE_SESSION_TEXT_MAX, &rl, w) == FK_OK && rl == len &&
                 !memcmp(re, text, len))
            err = FK_OK;
        free(re);
    }
    if (err == FK_OK)
        memcpy(s, w, sizeof *w);
out:
    free(w);
    return err;
}

fk_err fk_reshare_session_check_old(const fk_reshare_session *s, const fk_escrow_authority *old)
{
    if (!s || !old)
        abort();
    if (memcmp(s->authority_id, old->id, 32) || s->ndealers != old->t)
        return FK_ERR_INVALID;
    for (unsigned k = 0; k < s->ndealers; k++)
        if (s->dealer[k] > old->n)
            return FK_ERR_INVALID;
    return FK_OK;
}

/* Dealer k's dealing as the dkg module sees it. */
static fki_dkg_deal dealing(const fk_reshare_session *s, unsigned k)
{
    return (fki_dkg_deal){ s->t, s->n, (const uint8_t(*)[32])s->pk, s->dealer_pk[k], s->context,
                           FK_DKG_CONTEXT_LEN };
}

static fk_err lambda(uint8_t out[32], const fk_reshare_session *s, unsigned k)
{
    return fki_lagrange0(out, s->dealer[k], s->dealer, s->ndealers);
}

/* ---- dealing ---------------------------------------------------------------- */

size_t fk_reshare_deal_len(const fk_reshare_session *s)
{
    return fk_dkg_msg1_len(s->t, s->n);
}

fk_err fk_reshare_deal(uint8_t *out, size_t cap, size_t *len, const fk_reshare_session *s,
                       const fk_escrow_authority *old, const fk_escrow_share *share,
                       const uint8_t d[FK_DKG_SCALAR_LEN])
{
    uint8_t(*rnd)[32], p[32], lam[32];
    unsigned k = 0;
    fk_err err;

    if (!out || !len || !s || !old || !share || !d)
        abort();
    if ((err = fk_reshare_session_check_old(s, old)) != FK_OK ||
        (err = fk_escrow_share_verify(old, share)) != FK_OK)
        return FK_ERR_INVALID;
    while (k < s->ndealers && s->dealer[k] != share->index)
        k++;
    if (k == s->ndealers || fk_dkg_public(p, d) != FK_OK || memcmp(p, s->dealer_pk[k], 32))
        return FK_ERR_INVALID;
    if ((err = lambda(lam, s, k)) != FK_OK)
        return err;
    if (sodium_init() < 0)
        return FK_ERR_CRYPTO;
    /* a_0 = lambda_i * s_i, a_1..a_{t'-1} and e: guarded memory. */
    if (!(rnd = sodium_allocarray((size_t)s->t + 1, 32)))
        return FK_ERR_NOMEM;
    crypto_core_ristretto255_scalar_mul(rnd[0], lam, share->secret);
    for (unsigned j = 1; j <= s->t && err == FK_OK; j++)
        err = fki_scalar_random(rnd[j]);
    if (err == FK_OK) {
        fki_dkg_deal dp = dealing(s, k);
        err = fki_dkg_deal_msg(out, cap, len, &dp, d, (const uint8_t(*)[32])rnd, rnd[s->t], NULL,
                               0);
    }
    sodium_free(rnd);
    return err;
}

/* ---- the checks ------------------------------------------------------------- */

fk_err fk_reshare_authority(fk_escrow_authority *auth, unsigned *blame,
                            const fk_reshare_session *s, const fk_escrow_authority *old,
                            const uint8_t *const *dealt)
{
    uint8_t lam[32], want[32], (*commit)[32];
    fk_err err;

    if (!auth || !blame || !s || !old || !dealt)
        abort();
    *blame = 0;
    if ((err = fk_reshare_session_check_old(s, old)) != FK_OK)
        return err;
    for (unsigned k = 0; k < s->ndealers; k++) {
        fki_dkg_deal dp = dealing(s, k);
        *blame = s->dealer[k];
        if (fki_dkg_pop_verify(&dp, dealt[k]) != FK_OK)
            return FK_ERR_SIGNATURE;
        /* The constant term: C'_{k,0} == lambda_k * PK_k, so the dealer
         * shares its own part of s and nothing else. */
        if ((err = lambda(lam, s, k)) != FK_OK ||
            (err = fki_mul(want, lam, old->share_pk[s->dealer[k] - 1])) != FK_OK)
            return err;
        if (memcmp(want, dealt[k], 32))
            return FK_ERR_PROOF;
    }
    *blame = 0;
    if (!(commit = calloc(s->t, 32)))
        return FK_ERR_NOMEM;
    if ((err = fki_dkg_sum_commitments(commit, dealt, s->t, s->ndealers)) == FK_OK) {
        /* sum_k lambda_k PK_k = PK by interpolation in the exponent. */
        if (memcmp(commit[0], old->pk, 32))
            err = FK_ERR_PROOF;
        else
            err = fki_escrow_authority_build(auth, s->name, s->t, s->n, s->policy, s->policy_len,
                                             (const uint8_t(*)[32])commit);
    }
    free(commit);
    return err;
}

fk_err fk_reshare_receive(fk_escrow_share *share, fk_escrow_authority *auth, unsigned *blame,
                          const fk_reshare_session *s, const fk_escrow_authority *old,
                          unsigned j, const uint8_t d[FK_DKG_SCALAR_LEN],
                          const fk_dkg_msg1 *msgs)
{
    const uint8_t *dealt[FK_ESCROW_MAX_SHARES];
    uint8_t p[32], x[32], sk[32], v[32];
    fk_err err;

    if (!share || !auth || !blame || !s || !old || !d || !msgs)
        abort();
    *blame = 0;
    if (j < 1 || j > s->n || s->ndealers > FK_ESCROW_MAX_SHARES || fk_dkg_public(p, d) != FK_OK ||
        memcmp(p, s->pk[j - 1], 32))
        return FK_ERR_INVALID;
    for (unsigned k = 0; k < s->ndealers; k++) {
        if (msgs[k].t != s->t || msgs[k].n != s->n)
            return FK_ERR_INVALID;
        dealt[k] = msgs[k].commit;
    }
    if ((err = fk_reshare_authority(auth, blame, s, old, dealt)) != FK_OK)
        goto out;
    memset(x, 0, 32);
    for (unsigned k = 0; k < s->ndealers; k++) {
        fki_dkg_deal dp = dealing(s, k);
        *blame = s->dealer[k];
        if ((err = fki_dkg_check_dealt(sk, &dp, j, d, &msgs[k])) != FK_OK)
            goto out;
        crypto_core_ristretto255_scalar_add(x, x, sk);
    }
    *blame = 0;
    /* Implied by the sub-share checks; a zero share has no usable key. */
    if ((err = fki_mul_base(v, x)) != FK_OK || fki_scalar_is_zero(x) ||
        memcmp(v, auth->share_pk[j - 1], 32)) {
        err = err != FK_OK ? err : FK_ERR_PROOF;
        goto out;
    }
    memcpy(share->authority_id, auth->id, 32);
    share->index = j;
    memcpy(share->secret, x, 32);
out:
    fk_wipe(x, sizeof x);
    fk_wipe(sk, sizeof sk);
    if (err != FK_OK) {
        fk_wipe(auth, sizeof *auth);
        fk_escrow_share_clear(share, 1);
    }
    return err;
}

/* ---- the log entry ------------------------------------------------------------ */

static size_t dealt_len(const fk_reshare_session *s)
{
    return (size_t)s->t * 32 + FK_DKG_SIG_LEN + 32;
}

fk_err fk_reshare_entry_encode(char *out, size_t cap, size_t *len, const fk_reshare_session *s,
                               const fk_escrow_authority *old, const uint8_t *const *dealt,
                               const uint8_t new_id[FK_ESCROW_ID_LEN])
{
    size_t o, l;
    char hex[FK_ESCROW_ID_HEX_LEN];
    fk_err err;
    int w;

    if (!out || !len || !s || !old || !dealt || !new_id)
        abort();
    w = snprintf(out, cap, "%s\n", entry_magic);
    if (w < 0 || (size_t)w >= cap)
        return FK_ERR_LIMIT;
    o = (size_t)w;
    if ((err = fk_escrow_authority_encode(out + o, cap - o, &l, old)) != FK_OK)
        return err;
    o += l;
    if ((err = session_text(out + o, cap - o, &l, s)) != FK_OK)
        return err;
    o += l;
    for (unsigned k = 0; k < s->ndealers; k++) {
        w = snprintf(out + o, cap - o, "dealt %u ", s->dealer[k]);
        if (w < 0 || (size_t)w >= cap - o ||
            cap - o - (size_t)w < fk_b64_enc_len_padded(dealt_len(s)) + 2)
            return FK_ERR_LIMIT;
        o += (size_t)w;
        o += fk_b64_encode_padded_public(out + o, dealt[k], dealt_len(s));
        out[o++] = '\n';
    }
    fk_escrow_id_hex(hex, new_id);
    w = snprintf(out + o, cap - o, "new-authority %s\n", hex);
    if (w < 0 || (size_t)w >= cap - o)
        return FK_ERR_LIMIT;
    o += (size_t)w;
    if (o > FK_RESHARE_ENTRY_MAX)
        return FK_ERR_LIMIT;
    *len = o;
    return FK_OK;
}

/* The length of the file at p that ends with its first "id " line. */
static size_t file_len(const char *p, size_t left)
{
    size_t o = 0;

    while (o < left) {
        const char *nl = memchr(p + o, '\n', left - o);
        if (!nl)
            return 0;
        int last = left - o >= 3 && !memcmp(p + o, "id ", 3);
        o = (size_t)(nl - p) + 1;
        if (last)
            return o;
    }
    return 0;
}

fk_err fk_reshare_entry_parse(fk_reshare_entry *e, const char *text, size_t len)
{
    fki_cursor c = { text, len };
    size_t l, used = 0;
    const char *v;
    size_t vn;
    fk_err err;

    if (!e || (!text && len))
        abort();
    if (len > FK_RESHARE_ENTRY_MAX)
        return FK_ERR_LIMIT;
    memset(e->dealt, 0, sizeof e->dealt);
    if (!fki_next_field(&c, entry_magic, NULL, NULL))
        return FK_ERR_INVALID;
    if (!(l = file_len(c.p, c.left)))
        return FK_ERR_INVALID;
    if ((err = fk_escrow_authority_parse(&e->old, c.p, l)) != FK_OK)
        return err;
    c.p += l;
    c.left -= l;
    if (!(l = file_len(c.p, c.left)))
        return FK_ERR_INVALID;
    if ((err = fk_reshare_session_parse(&e->session, c.p, l)) != FK_OK)
        return err;
    c.p += l;
    c.left -= l;
    const fk_reshare_session *s = &e->session;
    for (unsigned k = 0; k < s->ndealers; k++) {
        const char *sp;
        unsigned idx;
        size_t got;
        if (!fki_next_field(&c, "dealt", &v, &vn) || !(sp = memchr(v, ' ', vn)) ||
            !fki_parse_uint(v, (size_t)(sp - v), 1, FK_ESCROW_MAX_SHARES, &idx) ||
            idx != s->dealer[k])
            return FK_ERR_INVALID;
        if (used + dealt_len(s) > sizeof e->buf)
            return FK_ERR_LIMIT;
        if (fk_b64_decode_padded(e->buf + used, sizeof e->buf - used, &got, sp + 1,
                                 vn - (size_t)(sp - v) - 1) != FK_OK ||
            got != dealt_len(s))
            return FK_ERR_INVALID;
        for (unsigned m = 0; m < s->t; m++)
            if (!fki_point_is_valid(e->buf + used + (size_t)m * 32))
                return FK_ERR_INVALID;
        if (!fki_point_is_valid(e->buf + used + dealt_len(s) - 32))
            return FK_ERR_INVALID;
        e->dealt[k] = e->buf + used;
        used += dealt_len(s);
    }
    if (!fki_next_field(&c, "new-authority", &v, &vn) || vn != 64 ||
        fk_hex_decode(e->new_id, 32, v, vn) != FK_OK || c.left != 0)
        return FK_ERR_INVALID;
    for (size_t i = 0; i < 64; i++)
        if (v[i] >= 'A' && v[i] <= 'F')
            return FK_ERR_INVALID;
    return FK_OK;
}

fk_err fk_reshare_entry_verify(fk_escrow_authority *auth, unsigned *blame,
                               const fk_reshare_entry *e)
{
    fk_err err;

    if (!auth || !blame || !e)
        abort();
    *blame = 0;
    if ((err = fk_reshare_authority(auth, blame, &e->session, &e->old, e->dealt)) != FK_OK)
        return err;
    if (memcmp(auth->id, e->new_id, 32)) {
        fk_wipe(auth, sizeof *auth);
        return FK_ERR_INVALID;
    }
    return FK_OK;
}
