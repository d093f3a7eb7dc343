/*
 * Resharing without changing PK (docs/spec.md section 10): a 3-of-5
 * authority with a known secret is reshared by agents 1, 3 and 5 to a
 * 2-of-4 set; every new share verifies, any two interpolate to the old
 * secret, PK is the same and the id is new, old shares do not verify
 * against the new authority; a dealer that shares something else than
 * lambda_i * s_i, or sends a sub-share that does not open or does not match
 * its commitments, is named and nothing is returned; the session and log
 * entry formats round-trip and refuse changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "dkg/internal.h"
#include "escrow/internal.h"

#define TEST_POLICY                                                                        \
    "log example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx "  \
    "https://log.example.com/\nquorum none\n"

#define OLD_T 3
#define OLD_N 5
#define NEW_T 2
#define NEW_N 4

typedef struct world {
    uint8_t coeffs[OLD_T][32];            /* the old polynomial: s = coeffs[0] */
    fk_escrow_authority old;
    fk_escrow_share old_share[OLD_N];
    uint8_t dealer_d[OLD_T][32];          /* dealers' participant keys */
    uint8_t new_d[NEW_N][32];             /* new agents' participant keys */
    fk_reshare_session s;
    uint8_t *msg[OLD_T];
    size_t len[OLD_T];
    fk_dkg_msg1 m[OLD_T];
} world;

static const unsigned dealers[OLD_T] = { 1, 3, 5 };

static world *make_world(void)
{
    world *w = calloc(1, sizeof *w);
    uint8_t p[32];

    assert_non_null(w);
    for (unsigned j = 0; j < OLD_T; j++)
        assert_int_equal(fki_scalar_random(w->coeffs[j]), FK_OK);
    assert_int_equal(fki_escrow_deal(&w->old, w->old_share, "ledger", OLD_T, OLD_N, TEST_POLICY,
                                     sizeof TEST_POLICY - 1, (const uint8_t(*)[32])w->coeffs),
                     FK_OK);
    memcpy(w->s.authority_id, w->old.id, 32);
    strcpy(w->s.name, "ledger");
    w->s.t = NEW_T;
    w->s.n = NEW_N;
    w->s.ndealers = OLD_T;
    for (unsigned k = 0; k < OLD_T; k++) {
        w->s.dealer[k] = dealers[k];
        assert_int_equal(fk_dkg_keypair(w->dealer_d[k], w->s.dealer_pk[k]), FK_OK);
    }
    /* Agents 3 and 5 stay: their participant key is theirs in both roles. */
    memcpy(w->new_d[0], w->dealer_d[1], 32);
    memcpy(w->new_d[1], w->dealer_d[2], 32);
    for (unsigned j = 2; j < NEW_N; j++)
        assert_int_equal(fk_dkg_keypair(w->new_d[j], p), FK_OK);
    for (unsigned j = 0; j < NEW_N; j++)
        assert_int_equal(fk_dkg_public(w->s.pk[j], w->new_d[j]), FK_OK);
    memcpy(w->s.policy, TEST_POLICY, sizeof TEST_POLICY - 1);
    w->s.policy_len = sizeof TEST_POLICY - 1;
    assert_int_equal(fk_random(w->s.id, 32), FK_OK);
    assert_int_equal(fk_reshare_session_context(&w->s), FK_OK);
    for (unsigned k = 0; k < OLD_T; k++) {
        size_t cap = fk_reshare_deal_len(&w->s);
        w->msg[k] = malloc(cap);
        assert_int_equal(fk_reshare_deal(w->msg[k], cap, &w->len[k], &w->s, &w->old,
                                         &w->old_share[dealers[k] - 1], w->dealer_d[k]),
                         FK_OK);
        assert_int_equal(fk_dkg_msg1_parse(&w->m[k], w->msg[k], w->len[k], NEW_T, NEW_N), FK_OK);
    }
    return w;
}

static void free_world(world *w)
{
    for (unsigned k = 0; k < OLD_T; k++)
        free(w->msg[k]);
    fk_wipe(w, sizeof *w);
    free(w);
}

static void test_reshare_same_pk(void **state)
{
    world *w = make_world();
    fk_escrow_authority *a = malloc(NEW_N * sizeof *a);
    fk_escrow_share sh[NEW_N];
    unsigned blame = 99;
    (void)state;

    for (unsigned j = 1; j <= NEW_N; j++) {
        assert_int_equal(fk_reshare_receive(&sh[j - 1], &a[j - 1], &blame, &w->s, &w->old, j,
                                            w->new_d[j - 1], w->m),
                         FK_OK);
        assert_int_equal(blame, 0);
        /* Every new agent computes the same authority. */
        assert_memory_equal(a[j - 1].id, a[0].id, 32);
        assert_int_equal(fk_escrow_share_verify(&a[0], &sh[j - 1]), FK_OK);
    }
    assert_memory_equal(a[0].pk, w->old.pk, 32);
    assert_memory_not_equal(a[0].id, w->old.id, 32);
    assert_int_equal(a[0].t, NEW_T);
    assert_int_equal(a[0].n, NEW_N);
    assert_string_equal(a[0].policy, TEST_POLICY);
    /* The new authority file round-trips (its share keys are consistent). */
    char *text = malloc(FK_ESCROW_AUTHORITY_TEXT_MAX);
    size_t tl;
    fk_escrow_authority *b = malloc(sizeof *b);
    assert_int_equal(fk_escrow_authority_encode(text, FK_ESCROW_AUTHORITY_TEXT_MAX, &tl, &a[0]),
                     FK_OK);
    assert_int_equal(fk_escrow_authority_parse(b, text, tl), FK_OK);
    /* Any two new shares interpolate to the old secret. */
    for (unsigned x = 0; x < NEW_N; x++)
        for (unsigned y = x + 1; y < NEW_N; y++) {
            unsigned idx[2] = { x + 1, y + 1 };
            uint8_t l0[32], l1[32], acc[32], t0[32];
            assert_int_equal(fki_lagrange0(l0, x + 1, idx, 2), FK_OK);
            assert_int_equal(fki_lagrange0(l1, y + 1, idx, 2), FK_OK);
            crypto_core_ristretto255_scalar_mul(acc, l0, sh[x].secret);
            crypto_core_ristretto255_scalar_mul(t0, l1, sh[y].secret);
            crypto_core_ristretto255_scalar_add(acc, acc, t0);
            assert_memory_equal(acc, w->coeffs[0], 32);
        }
    /* Old shares do not belong to the new authority, nor new to the old. */
    for (unsigned i = 0; i < OLD_N; i++)
        assert_int_equal(fk_escrow_share_verify(&a[0], &w->old_share[i]), FK_ERR_INVALID);
    for (unsigned j = 0; j < NEW_N; j++)
        assert_int_equal(fk_escrow_share_verify(&w->old, &sh[j]), FK_ERR_INVALID);
    /* Even relabelled with the new id, an old share is not a new one. */
    fk_escrow_share forged = w->old_share[0];
    memcpy(forged.authority_id, a[0].id, 32);
    forged.index = 1;
    assert_int_equal(fk_escrow_share_verify(&a[0], &forged), FK_ERR_INVALID);
    fk_escrow_share_clear(sh, NEW_N);
    free(text);
    free(b);
    free(a);
    free_world(w);
}

/* Dealer k re-deals with its own coefficients (and the same ephemeral key
 * e, so its ciphertexts for other agents are interchangeable). */
static uint8_t *deal_with(world *w, unsigned k, const uint8_t (*coeffs)[32], const uint8_t e[32],
                          size_t *len)
{
    fki_dkg_deal p = { NEW_T, NEW_N, (const uint8_t(*)[32])w->s.pk, w->s.dealer_pk[k],
                       w->s.context, FK_DKG_CONTEXT_LEN };
    size_t cap = fk_reshare_deal_len(&w->s);
    uint8_t *out = malloc(cap);
    assert_int_equal(fki_dkg_deal_msg(out, cap, len, &p, w->dealer_d[k], coeffs, e, NULL, 0),
                     FK_OK);
    return out;
}

static void expect_blame(world *w, unsigned j, fk_err want, unsigned dealer)
{
    fk_escrow_authority *a = malloc(sizeof *a);
    fk_escrow_share sh;
    static const uint8_t zero[sizeof(fk_escrow_share)];
    unsigned blame = 0;

    memset(&sh, 0x5a, sizeof sh);
    assert_int_equal(fk_reshare_receive(&sh, a, &blame, &w->s, &w->old, j, w->new_d[j - 1], w->m),
                     want);
    assert_int_equal(blame, dealer);
    /* Nothing usable: the share and the authority are wiped. */
    assert_memory_equal(&sh, zero, sizeof sh);
    free(a);
}

static void test_reshare_blame(void **state)
{
    world *w = make_world();
    uint8_t c[NEW_T][32], e[32], lam[32];
    size_t l1, l2;
    (void)state;

    /* Dealer 3 (k = 1) deals s_3 itself instead of lambda_3 * s_3: its
     * constant term is not lambda_3 * PK_3, every agent names it. */
    memcpy(c[0], w->old_share[2].secret, 32);
    assert_int_equal(fki_scalar_random(c[1]), FK_OK);
    assert_int_equal(fki_scalar_random(e), FK_OK);
    uint8_t *bad = deal_with(w, 1, (const uint8_t(*)[32])c, e, &l1);
    fk_dkg_msg1 keep = w->m[1];
    assert_int_equal(fk_dkg_msg1_parse(&w->m[1], bad, l1, NEW_T, NEW_N), FK_OK);
    expect_blame(w, 2, FK_ERR_PROOF, 3);
    free(bad);

    /* Dealer 3 deals the right constant, but agent 4's sub-share comes from
     * another polynomial: it opens and fails the commitments. */
    assert_int_equal(fki_lagrange0(lam, 3, dealers, OLD_T), FK_OK);
    crypto_core_ristretto255_scalar_mul(c[0], lam, w->old_share[2].secret);
    uint8_t *good = deal_with(w, 1, (const uint8_t(*)[32])c, e, &l1);
    assert_int_equal(fki_scalar_random(c[1]), FK_OK);
    uint8_t *other = deal_with(w, 1, (const uint8_t(*)[32])c, e, &l2);
    fk_dkg_msg1 mo;
    assert_int_equal(fk_dkg_msg1_parse(&w->m[1], good, l1, NEW_T, NEW_N), FK_OK);
    assert_int_equal(fk_dkg_msg1_parse(&mo, other, l2, NEW_T, NEW_N), FK_OK);
    memcpy((uint8_t *)w->m[1].ct[3], mo.ct[3], mo.ct_len[3]);
    expect_blame(w, 4, FK_ERR_PROOF, 3);
    /* The other agents' sub-shares from dealer 3 are fine. */
    {
        fk_escrow_authority *a = malloc(sizeof *a);
        fk_escrow_share sh;
        unsigned blame;
        assert_int_equal(fk_reshare_receive(&sh, a, &blame, &w->s, &w->old, 1, w->new_d[0], w->m),
                         FK_OK);
        fk_escrow_share_clear(&sh, 1);
        free(a);
    }
    /* A ciphertext that does not open. */
    ((uint8_t *)w->m[1].ct[2])[5] ^= 1;
    expect_blame(w, 3, FK_ERR_CRYPTO, 3);
    /* A changed commitment breaks dealer 5's PoP. */
    w->m[1] = keep;
    ((uint8_t *)w->m[2].pop)[40] ^= 1;
    expect_blame(w, 1, FK_ERR_SIGNATURE, 5);
    free(good);
    free(other);
    free_world(w);
}

static void test_reshare_deal_refuses(void **state)
{
    world *w = make_world();
    size_t cap = fk_reshare_deal_len(&w->s), len;
    uint8_t *out = malloc(cap);
    (void)state;

    /* Agent 2 is not a dealer; dealer 1 with dealer 3's key; wrong session. */
    assert_int_equal(fk_reshare_deal(out, cap, &len, &w->s, &w->old, &w->old_share[1],
                                     w->dealer_d[0]),
                     FK_ERR_INVALID);
    assert_int_equal(fk_reshare_deal(out, cap, &len, &w->s, &w->old, &w->old_share[0],
                                     w->dealer_d[1]),
                     FK_ERR_INVALID);
    fk_reshare_session s2 = w->s;
    s2.authority_id[0] ^= 1;
    assert_int_equal(fk_reshare_deal(out, cap, &len, &s2, &w->old, &w->old_share[0],
                                     w->dealer_d[0]),
                     FK_ERR_INVALID);
    /* A session with two dealers for a 3-of-5 authority. */
    s2 = w->s;
    s2.ndealers = 2;
    assert_int_equal(fk_reshare_session_check_old(&s2, &w->old), FK_ERR_INVALID);
    free(out);
    free_world(w);
}

static void test_session_and_entry(void **state)
{
    world *w = make_world();
    char *text = malloc(FK_RESHARE_ENTRY_MAX + 1);
    fk_reshare_session *s = malloc(sizeof *s);
    fk_reshare_entry *e = malloc(sizeof *e);
    fk_escrow_authority *a = malloc(sizeof *a), *a2 = malloc(sizeof *a2);
    size_t len;
    unsigned blame;
    (void)state;

    assert_int_equal(fk_reshare_session_encode(text, FK_RESHARE_ENTRY_MAX, &len, &w->s), FK_OK);
    assert_int_equal(fk_reshare_session_parse(s, text, len), FK_OK);
    assert_memory_equal(s->context, w->s.context, FK_DKG_CONTEXT_LEN);
    /* One byte more or less, uppercase hex, dealers out of order. */
    assert_int_not_equal(fk_reshare_session_parse(s, text, len - 1), FK_OK);
    text[len] = '\n';
    assert_int_not_equal(fk_reshare_session_parse(s, text, len + 1), FK_OK);
    char *id = strstr(text, "\nid ");
    for (char *p = id + 4; *p != '\n'; p++)
        if (*p >= 'a' && *p <= 'f') {
            *p = (char)(*p - 'a' + 'A');
            break;
        }
    assert_int_equal(fk_reshare_session_parse(s, text, len), FK_ERR_INVALID);
    fk_reshare_session s2 = w->s;
    s2.dealer[0] = 4;
    assert_int_equal(fk_reshare_session_context(&s2), FK_ERR_INVALID);
    s2 = w->s;
    memcpy(s2.pk[1], s2.pk[0], 32);
    assert_int_equal(fk_reshare_session_context(&s2), FK_ERR_INVALID);

    /* The log entry: round trip and verify; a changed dealing is named. */
    const uint8_t *dealt[OLD_T];
    for (unsigned k = 0; k < OLD_T; k++)
        dealt[k] = w->m[k].commit;
    assert_int_equal(fk_reshare_authority(a, &blame, &w->s, &w->old, dealt), FK_OK);
    assert_int_equal(fk_reshare_entry_encode(text, FK_RESHARE_ENTRY_MAX, &len, &w->s, &w->old,
                                             dealt, a->id),
                     FK_OK);
    assert_int_equal(fk_reshare_entry_parse(e, text, len), FK_OK);
    assert_int_equal(fk_reshare_entry_verify(a2, &blame, e), FK_OK);
    assert_memory_equal(a2->id, a->id, 32);
    assert_int_not_equal(fk_reshare_entry_parse(e, text, len - 1), FK_OK);
    /* Another new id. */
    uint8_t other[32];
    memcpy(other, a->id, 32);
    other[0] ^= 1;
    assert_int_equal(fk_reshare_entry_encode(text, FK_RESHARE_ENTRY_MAX, &len, &w->s, &w->old,
                                             dealt, other),
                     FK_OK);
    assert_int_equal(fk_reshare_entry_parse(e, text, len), FK_OK);
    assert_int_equal(fk_reshare_entry_verify(a2, &blame, e), FK_ERR_INVALID);
    /* Dealer 3's commitments changed: its PoP fails, it is named. */
    e->buf[(size_t)NEW_T * 32 + 96 + 40] ^= 1; /* in dealer 3's C'_1 */
    assert_int_equal(fk_reshare_entry_verify(a2, &blame, e), FK_ERR_SIGNATURE);
    assert_int_equal(blame, 3);
    free(text);
    free(s);
    free(e);
    free(a);
    free(a2);
    free_world(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reshare_same_pk),
        cmocka_unit_test(test_reshare_blame),
        cmocka_unit_test(test_reshare_deal_refuses),
        cmocka_unit_test(test_session_and_entry),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
