/*
 * C2SP COCKTAIL-DKG vectors, COCKTAIL(Ristretto255, SHA-512), from CCTV
 * (tests/vectors/cocktail-dkg): every value reproduced byte for byte, and
 * altered messages refused with the right participant blamed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "dkg/internal.h"
#include "escrow/internal.h"

static const char CS[] = FK_DKG_CIPHERSUITE;

static json_t *vectors(void)
{
    static json_t *j;
    json_error_t e;

    if (!j && !(j = json_load_file(FK_DKG_VECTORS "/cocktail-dkg-ristretto255-sha512.json", 0, &e)))
        fail_msg("cannot load the vectors: %s", e.text);
    return j;
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    assert_non_null(v);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void hex(uint8_t *out, size_t n, const char *s)
{
    assert_int_equal(strlen(s), 2 * n);
    if (n)
        assert_int_equal(fk_hex_decode(out, n, s, 2 * n), FK_OK);
}

static uint8_t *hexdup(const char *s, size_t *n)
{
    size_t len = strlen(s) / 2;
    uint8_t *p = malloc(len + 1);

    assert_non_null(p);
    hex(p, len, s);
    *n = len;
    return p;
}

/* One vector, decoded, with the messages fairkey computes for it. */
typedef struct vec {
    json_t *j;
    unsigned t, n;
    uint8_t seed[32];
    uint8_t d[FK_DKG_MAX_PARTICIPANTS][32];
    uint8_t pk[FK_DKG_MAX_PARTICIPANTS][32];
    uint8_t *context, *ext;
    size_t context_len, ext_len;
    fk_dkg_session s;
    uint8_t *msg[FK_DKG_MAX_PARTICIPANTS];
    size_t msg_len[FK_DKG_MAX_PARTICIPANTS];
    fk_dkg_msg1 m[FK_DKG_MAX_PARTICIPANTS];
    uint8_t *payload[FK_DKG_MAX_PARTICIPANTS];
    size_t payload_len[FK_DKG_MAX_PARTICIPANTS];
} vec;

/* The vectors' labelled hash: SHA-512(seed || csid || u32le t || u32le n ||
 * label [|| u64le counter]), wide-reduced. */
static void derive(uint8_t out[32], const vec *v, const char *label, int with_ctr, uint64_t ctr)
{
    uint8_t tn[8], c[8], h[64];

    for (int k = 0; k < 4; k++) {
        tn[k] = (uint8_t)(v->t >> (8 * k));
        tn[4 + k] = (uint8_t)(v->n >> (8 * k));
    }
    for (int k = 0; k < 8; k++)
        c[k] = (uint8_t)(ctr >> (8 * k));
    fki_buf p[5] = { { v->seed, 32 }, { CS, sizeof CS - 1 }, { tn, 8 }, { label, strlen(label) },
                     { c, 8 } };
    assert_int_equal(fki_sha512(h, p, with_ctr ? 5 : 4), FK_OK);
    crypto_core_ristretto255_scalar_reduce(out, h);
}

static void load_vec(vec *v, size_t idx)
{
    json_t *root = vectors(), *cfg, *sk, *pk, *r1;
    size_t tl;
    uint8_t *tag;

    memset(v, 0, sizeof *v);
    v->j = json_array_get(json_object_get(root, "vectors"), idx);
    assert_non_null(v->j);
    hex(v->seed, 32, jstr(root, "seed"));
    v->t = (unsigned)json_integer_value(json_object_get(v->j, "t"));
    v->n = (unsigned)json_integer_value(json_object_get(v->j, "n"));
    cfg = json_object_get(v->j, "config");
    sk = json_object_get(cfg, "static_secret_keys");
    pk = json_object_get(cfg, "static_public_keys");
    for (unsigned i = 0; i < v->n; i++) {
        char label[64];
        uint8_t want[32];
        hex(v->d[i], 32, json_string_value(json_array_get(sk, i)));
        hex(v->pk[i], 32, json_string_value(json_array_get(pk, i)));
        /* The static keys follow from the seed, and P = d*B. */
        snprintf(label, sizeof label, "static_secret_key_%u", i + 1);
        derive(want, v, label, 0, 0);
        assert_memory_equal(want, v->d[i], 32);
        assert_int_equal(fk_dkg_public(want, v->d[i]), FK_OK);
        assert_memory_equal(want, v->pk[i], 32);
    }
    v->context = hexdup(jstr(v->j, "context"), &v->context_len);
    v->ext = hexdup(jstr(v->j, "extension"), &v->ext_len);
    /* The context is the spec's recommended construction over the tag. */
    tag = hexdup(jstr(v->j, "session_tag"), &tl);
    {
        uint8_t ctx[64];
        assert_int_equal(v->context_len, 64);
        assert_int_equal(fk_dkg_context(ctx, tag, tl, v->n, (const uint8_t(*)[32])v->pk), FK_OK);
        assert_memory_equal(ctx, v->context, 64);
    }
    free(tag);
    v->s = (fk_dkg_session){ v->t, v->n, (const uint8_t(*)[32])v->pk, v->context, v->context_len,
                             v->ext, v->ext_len };
    assert_int_equal(fk_dkg_session_check(&v->s), FK_OK);

    json_t *pl = json_object_get(v->j, "payloads");
    for (unsigned i = 0; pl && i < v->n; i++)
        v->payload[i] = hexdup(json_string_value(json_array_get(pl, i)), &v->payload_len[i]);

    /* msg1 as the vector states it: C || PoP || E || framed c_{i,j}. */
    r1 = json_object_get(v->j, "round1");
    for (unsigned i = 0; i < v->n; i++) {
        json_t *p = json_array_get(r1, i), *c = json_object_get(p, "vss_commitment"),
               *es = json_object_get(p, "encrypted_shares");
        size_t cap = fk_dkg_msg1_len(v->t, v->n) + v->n * v->payload_len[i], o = 0;
        assert_int_equal(json_integer_value(json_object_get(p, "participant_id")), i + 1);
        assert_int_equal(json_array_size(c), v->t);
        v->msg[i] = malloc(cap);
        for (unsigned k = 0; k < v->t; k++, o += 32)
            hex(v->msg[i] + o, 32, json_string_value(json_array_get(c, k)));
        hex(v->msg[i] + o, 64, jstr(p, "pop"));
        o += 64;
        hex(v->msg[i] + o, 32, jstr(p, "ephemeral_public_key"));
        o += 32;
        for (unsigned j = 0; j < v->n; j++) {
            const char *h = json_string_value(json_array_get(es, j));
            size_t l = strlen(h) / 2;
            for (int k = 7; k >= 0; k--)
                v->msg[i][o + 7 - (size_t)k] = (uint8_t)((uint64_t)l >> (8 * k));
            o += 8;
            assert_true(o + l <= cap);
            hex(v->msg[i] + o, l, h);
            o += l;
        }
        assert_int_equal(o, cap);
        v->msg_len[i] = o;
        assert_int_equal(fk_dkg_msg1_parse(&v->m[i], v->msg[i], o, v->t, v->n), FK_OK);
    }
}

static void free_vec(vec *v)
{
    for (unsigned i = 0; i < v->n; i++) {
        free(v->msg[i]);
        free(v->payload[i]);
    }
    free(v->context);
    free(v->ext);
}

/* Round 1 from the vectors' stream reproduces every msg1 byte for byte. */
static void check_round1(vec *v)
{
    for (unsigned i = 1; i <= v->n; i++) {
        uint8_t coeffs[FK_DKG_MAX_PARTICIPANTS][32], e[32];
        char label[64];
        size_t cap = v->msg_len[i - 1], len = 0;
        uint8_t *out = malloc(cap);
        snprintf(label, sizeof label, "round1_participant_%u", i);
        for (unsigned k = 0; k < v->t; k++)
            derive(coeffs[k], v, label, 1, k);
        derive(e, v, label, 1, v->t);
        assert_int_equal(fki_dkg_round1(out, cap, &len, &v->s, i, v->d[i - 1],
                                        (const uint8_t(*)[32])coeffs, e, v->payload[i - 1],
                                        v->payload_len[i - 1]),
                         FK_OK);
        assert_int_equal(len, v->msg_len[i - 1]);
        assert_memory_equal(out, v->msg[i - 1], len);
        free(out);
    }
}

/* Round 2 for every participant: shares, verification shares, group key;
 * the payloads decrypt to what was sent. */
static void check_round2(vec *v)
{
    json_t *r2 = json_object_get(v->j, "round2");
    uint8_t y[32];

    hex(y, 32, jstr(v->j, "group_public_key"));
    for (unsigned i = 1; i <= v->n; i++) {
        json_t *p = json_array_get(r2, i - 1);
        fk_dkg_output out;
        unsigned blame = 99;
        uint8_t want[32];
        assert_int_equal(fk_dkg_round2(&out, &blame, &v->s, i, v->d[i - 1], v->m), FK_OK);
        assert_int_equal(blame, 0);
        hex(want, 32, jstr(p, "secret_share"));
        assert_memory_equal(out.secret, want, 32);
        hex(want, 32, jstr(p, "verification_share"));
        assert_memory_equal(out.share_pk, want, 32);
        assert_memory_equal(out.group_pk, y, 32);
        for (unsigned j = 1; j <= v->n && v->payload[j - 1]; j++) {
            uint8_t pt[512];
            const fk_dkg_msg1 *m = &v->m[j - 1];
            assert_int_equal(fki_dkg_open(pt, sizeof pt, &v->s, j, i, v->d[i - 1], m->eph,
                                          m->ct[i - 1], m->ct_len[i - 1]),
                             FK_OK);
            assert_int_equal(m->ct_len[i - 1] - 16 - 32, v->payload_len[j - 1]);
            assert_memory_equal(pt + 32, v->payload[j - 1], v->payload_len[j - 1]);
        }
    }
}

/* T hashes to the vector's transcript hash; every CertEq signature is
 * reproduced; the certificate verifies; T parses back to the session. */
static uint8_t *check_round3(vec *v, size_t *tlen)
{
    json_t *r3 = json_object_get(v->j, "round3"), *sigs = json_object_get(r3, "signatures");
    size_t cap = fk_dkg_transcript_len(&v->s);
    uint8_t *t = malloc(cap), h[64], want[64], all[FK_DKG_MAX_PARTICIPANTS][64];
    fk_dkg_transcript_view tv;
    unsigned blame = 99;

    assert_int_equal(fk_dkg_transcript(t, cap, tlen, &v->s, v->m), FK_OK);
    assert_int_equal(*tlen, cap);
    fki_buf b = { t, *tlen };
    assert_int_equal(fki_sha512(h, &b, 1), FK_OK);
    hex(want, 64, jstr(r3, "transcript_hash"));
    assert_memory_equal(h, want, 64);
    for (unsigned i = 1; i <= v->n; i++) {
        json_t *p = json_array_get(sigs, i - 1);
        assert_int_equal(json_integer_value(json_object_get(p, "signer_id")), i);
        hex(want, 64, jstr(p, "signature"));
        assert_int_equal(fk_dkg_sign(all[i - 1], v->d[i - 1], t, *tlen), FK_OK);
        assert_memory_equal(all[i - 1], want, 64);
    }
    assert_int_equal(fk_dkg_transcript_parse(&tv, t, *tlen), FK_OK);
    assert_int_equal(tv.n, v->n);
    assert_int_equal(tv.t, v->t);
    assert_int_equal(tv.ext_len, v->ext_len);
    assert_int_equal(fk_dkg_transcript_check_pops(&tv, &blame), FK_OK);
    assert_int_equal(fk_dkg_certificate_verify(&tv, t, *tlen, (const uint8_t(*)[64])all, &blame),
                     FK_OK);
    /* The group commitment C_0 is the group key. */
    {
        uint8_t(*gc)[32] = calloc(v->t, 32), y[32];
        assert_int_equal(fk_dkg_group_commitments(gc, &tv), FK_OK);
        hex(y, 32, jstr(v->j, "group_public_key"));
        assert_memory_equal(gc[0], y, 32);
        free(gc);
    }
    /* A signature by the wrong key, or over another T, is blamed. */
    all[v->n - 1][40] ^= 1;
    assert_int_equal(fk_dkg_certificate_verify(&tv, t, *tlen, (const uint8_t(*)[64])all, &blame),
                     FK_ERR_SIGNATURE);
    assert_int_equal(blame, v->n);
    return t;
}

/* The recovery data: participant 1 decrypts the bundle with d_1 alone. */
static void check_recovery(vec *v)
{
    json_t *r = json_object_get(v->j, "recovery"), *cts;
    uint8_t x[32], want[32], pt[512];

    if (!r)
        return;
    cts = json_object_get(r, "ciphertexts");
    memset(x, 0, 32);
    for (unsigned j = 1; j <= v->n; j++) {
        size_t l;
        uint8_t *c = hexdup(json_string_value(json_array_get(cts, j - 1)), &l);
        assert_int_equal(fki_dkg_open(pt, sizeof pt, &v->s, j, 1, v->d[0], v->m[j - 1].eph, c, l),
                         FK_OK);
        crypto_core_ristretto255_scalar_add(x, x, pt);
        free(c);
    }
    hex(want, 32, jstr(r, "recovered_secret_share"));
    assert_memory_equal(x, want, 32);
    hex(want, 32, jstr(r, "recovered_verification_share"));
    {
        uint8_t y1[32];
        assert_int_equal(fki_mul_base(y1, x), FK_OK);
        assert_memory_equal(y1, want, 32);
    }
}

static void run_vector(size_t idx)
{
    vec *v = malloc(sizeof *v);
    size_t tlen;

    load_vec(v, idx);
    check_round1(v);
    check_round2(v);
    free(check_round3(v, &tlen));
    check_recovery(v);
    free_vec(v);
    free(v);
}

static void test_2of3(void **state) { (void)state; run_vector(0); }
static void test_3of5(void **state) { (void)state; run_vector(1); }
static void test_7of14(void **state) { (void)state; run_vector(2); }

/* The payload vector: its extension is the spec's hash of the payloads. */
static void test_2of3_payload(void **state)
{
    vec *v = malloc(sizeof *v);
    uint8_t h[64], nb[8], lb[FK_DKG_MAX_PARTICIPANTS][8];
    fki_buf p[1 + 2 * 3];
    size_t k = 0, tlen;

    (void)state;
    load_vec(v, 3);
    assert_non_null(v->payload[0]);
    for (int b = 0; b < 8; b++)
        nb[b] = (uint8_t)((uint64_t)v->n >> (8 * b));
    p[k++] = (fki_buf){ nb, 8 };
    for (unsigned i = 0; i < v->n; i++) {
        for (int b = 0; b < 8; b++)
            lb[i][b] = (uint8_t)((uint64_t)v->payload_len[i] >> (8 * b));
        p[k++] = (fki_buf){ lb[i], 8 };
        p[k++] = (fki_buf){ v->payload[i], v->payload_len[i] };
    }
    assert_int_equal(fki_sha512(h, p, k), FK_OK);
    assert_int_equal(v->ext_len, 64);
    assert_memory_equal(h, v->ext, 64);
    check_round1(v);
    check_round2(v);
    free(check_round3(v, &tlen));
    check_recovery(v);
    free_vec(v);
    free(v);
}

/* Altered messages: refused at parse, or in round 2 with the sender blamed. */
static void test_invalid(void **state)
{
    vec *v = malloc(sizeof *v);
    fk_dkg_output out;
    fk_dkg_msg1 keep;
    unsigned blame;
    uint8_t *m, save[64];
    size_t len;

    (void)state;
    load_vec(v, 1); /* 3-of-5 */
    m = v->msg[2];  /* participant 3's msg1 */
    len = v->msg_len[2];

    /* Threshold elevation: t+1 or t-1 commitments do not parse for t. */
    assert_int_not_equal(fk_dkg_msg1_parse(&keep, m, len, v->t + 1, v->n), FK_OK);
    assert_int_not_equal(fk_dkg_msg1_parse(&keep, m, len, v->t - 1, v->n), FK_OK);
    /* Truncated, one byte more. */
    assert_int_equal(fk_dkg_msg1_parse(&keep, m, len - 1, v->t, v->n), FK_ERR_INVALID);
    {
        uint8_t *big = malloc(len + 1);
        memcpy(big, m, len);
        big[len] = 0;
        assert_int_equal(fk_dkg_msg1_parse(&keep, big, len + 1, v->t, v->n), FK_ERR_INVALID);
        free(big);
    }
    /* Identity and non-canonical points as C_{i,k} or E_i. */
    memcpy(save, m, 32);
    memset(m, 0, 32);
    assert_int_equal(fk_dkg_msg1_parse(&keep, m, len, v->t, v->n), FK_ERR_INVALID);
    memset(m, 0xff, 32);
    assert_int_equal(fk_dkg_msg1_parse(&keep, m, len, v->t, v->n), FK_ERR_INVALID);
    memcpy(m, save, 32);
    memcpy(save, m + v->t * 32 + 64, 32);
    memset(m + v->t * 32 + 64, 0, 32);
    assert_int_equal(fk_dkg_msg1_parse(&keep, m, len, v->t, v->n), FK_ERR_INVALID);
    memcpy(m + v->t * 32 + 64, save, 32);
    /* Frame length: past MAX_CIPHERTEXT_SIZE, below the minimum. */
    {
        size_t f = v->t * 32 + 96;
        uint8_t fr[8];
        memcpy(fr, m + f, 8);
        m[f + 5] = 0x01; /* 65536 + 48 */
        assert_int_equal(fk_dkg_msg1_parse(&keep, m, len, v->t, v->n), FK_ERR_LIMIT);
        memcpy(m + f, fr, 8);
        m[f + 7] = 47;
        assert_int_equal(fk_dkg_msg1_parse(&keep, m, len, v->t, v->n), FK_ERR_INVALID);
        memcpy(m + f, fr, 8);
    }
    assert_int_equal(fk_dkg_msg1_parse(&v->m[2], m, len, v->t, v->n), FK_OK);

    /* A bad PoP: participant 3 is blamed by everyone. */
    m[v->t * 32 + 3] ^= 1;
    for (unsigned i = 1; i <= v->n; i++) {
        assert_int_equal(fk_dkg_round2(&out, &blame, &v->s, i, v->d[i - 1], v->m),
                         FK_ERR_SIGNATURE);
        assert_int_equal(blame, 3);
    }
    m[v->t * 32 + 3] ^= 1;
    /* A non-canonical PoP response z (z + L). */
    {
        uint8_t *z = m + v->t * 32 + 32, zs[32];
        memcpy(zs, z, 32);
        static const uint8_t L[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                       0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                       [31] = 0x10 };
        unsigned c = 0;
        for (int b = 0; b < 32; b++) {
            c += (unsigned)z[b] + L[b];
            z[b] = (uint8_t)c;
            c >>= 8;
        }
        if (!c) { /* z + L < 2^256: a second encoding of z */
            assert_int_equal(fk_dkg_round2(&out, &blame, &v->s, 1, v->d[0], v->m),
                             FK_ERR_SIGNATURE);
            assert_int_equal(blame, 3);
        }
        memcpy(z, zs, 32);
    }
    /* A ciphertext to participant 2 altered: 2 blames 3, others accept. */
    {
        uint8_t *c = (uint8_t *)v->m[2].ct[1];
        c[5] ^= 1;
        assert_int_equal(fk_dkg_round2(&out, &blame, &v->s, 2, v->d[1], v->m), FK_ERR_CRYPTO);
        assert_int_equal(blame, 3);
        assert_int_equal(fk_dkg_round2(&out, &blame, &v->s, 1, v->d[0], v->m), FK_OK);
        c[5] ^= 1;
    }
    /* A well-encrypted wrong share f_3(2) + 1 (a cheating dealer). */
    {
        char label[64];
        uint8_t coeffs[FK_DKG_MAX_PARTICIPANTS][32], e[32], s32[32], one[32];
        snprintf(label, sizeof label, "round1_participant_3");
        for (unsigned k = 0; k < v->t; k++)
            derive(coeffs[k], v, label, 1, k);
        derive(e, v, label, 1, v->t);
        fki_poly_eval_scalars(s32, (const uint8_t(*)[32])coeffs, v->t, 2);
        fki_scalar_from_uint(one, 1);
        crypto_core_ristretto255_scalar_add(s32, s32, one);
        uint8_t *c = (uint8_t *)v->m[2].ct[1], orig[48];
        memcpy(orig, c, 48);
        assert_int_equal(fki_dkg_seal(c, &v->s, 3, 2, v->d[2], e, s32, 32), FK_OK);
        assert_int_equal(fk_dkg_round2(&out, &blame, &v->s, 2, v->d[1], v->m), FK_ERR_PROOF);
        assert_int_equal(blame, 3);
        /* A share that is not a canonical scalar. */
        memset(s32, 0xff, 32);
        assert_int_equal(fki_dkg_seal(c, &v->s, 3, 2, v->d[2], e, s32, 32), FK_OK);
        assert_int_equal(fk_dkg_round2(&out, &blame, &v->s, 2, v->d[1], v->m), FK_ERR_INVALID);
        assert_int_equal(blame, 3);
        /* Sealed with another sender's static key: fails to open. */
        fki_poly_eval_scalars(s32, (const uint8_t(*)[32])coeffs, v->t, 2);
        assert_int_equal(fki_dkg_seal(c, &v->s, 3, 2, v->d[3], e, s32, 32), FK_OK);
        assert_int_equal(fk_dkg_round2(&out, &blame, &v->s, 2, v->d[1], v->m), FK_ERR_CRYPTO);
        assert_int_equal(blame, 3);
        memcpy(c, orig, 48);
        assert_int_equal(fk_dkg_round2(&out, &blame, &v->s, 2, v->d[1], v->m), FK_OK);
    }
    /* The wrong static key for an index. */
    assert_int_equal(fk_dkg_round2(&out, &blame, &v->s, 1, v->d[1], v->m), FK_ERR_INVALID);

    /* Transcripts: wrong ciphersuite id, trailing byte, duplicate P_j. */
    {
        size_t cap = fk_dkg_transcript_len(&v->s), tl;
        uint8_t *t = malloc(cap + 1);
        fk_dkg_transcript_view tv;
        assert_int_equal(fk_dkg_transcript(t, cap, &tl, &v->s, v->m), FK_OK);
        assert_int_equal(fk_dkg_transcript_parse(&tv, t, tl), FK_OK);
        t[tl] = 0;
        assert_int_equal(fk_dkg_transcript_parse(&tv, t, tl + 1), FK_ERR_INVALID);
        assert_int_equal(fk_dkg_transcript_parse(&tv, t, tl - 1), FK_ERR_INVALID);
        t[8 + 10] ^= 0x20; /* "COCKTAIL(ristretto255..." */
        assert_int_equal(fk_dkg_transcript_parse(&tv, t, tl), FK_ERR_INVALID);
        t[8 + 10] ^= 0x20;
        size_t pko = 8 + 31 + 8 + 64 + 8;
        memcpy(save, t + pko + 32, 32);
        memcpy(t + pko + 32, t + pko, 32);
        assert_int_equal(fk_dkg_transcript_parse(&tv, t, tl), FK_ERR_INVALID);
        memcpy(t + pko + 32, save, 32);
        /* A PoP altered inside T is blamed by the PoP check. */
        size_t popo = pko + v->n * 32 + v->n * v->t * 32;
        t[popo + 64 * 3 + 1] ^= 1;
        assert_int_equal(fk_dkg_transcript_parse(&tv, t, tl), FK_OK);
        assert_int_equal(fk_dkg_transcript_check_pops(&tv, &blame), FK_ERR_SIGNATURE);
        assert_int_equal(blame, 4);
        free(t);
    }
    free_vec(v);
    free(v);
}

/* Random ceremonies (the OS CSPRNG path) agree with each other. */
static void test_random_ceremony(void **state)
{
    enum { T = 3, N = 5 };
    uint8_t d[N][32], pk[N][32], ctx[64], sid[16] = "fairkey-test-sid";
    uint8_t *msg[N];
    fk_dkg_msg1 m[N];
    fk_dkg_output out[N];
    unsigned blame;
    size_t len;

    (void)state;
    for (int i = 0; i < N; i++)
        assert_int_equal(fk_dkg_keypair(d[i], pk[i]), FK_OK);
    assert_int_equal(fk_dkg_context(ctx, sid, sizeof sid, N, (const uint8_t(*)[32])pk), FK_OK);
    fk_dkg_session s = { T, N, (const uint8_t(*)[32])pk, ctx, 64, NULL, 0 };
    for (unsigned i = 1; i <= N; i++) {
        msg[i - 1] = malloc(fk_dkg_msg1_len(T, N));
        assert_int_equal(fk_dkg_round1(msg[i - 1], fk_dkg_msg1_len(T, N), &len, &s, i, d[i - 1]),
                         FK_OK);
        assert_int_equal(len, fk_dkg_msg1_len(T, N));
        assert_int_equal(fk_dkg_msg1_parse(&m[i - 1], msg[i - 1], len, T, N), FK_OK);
    }
    for (unsigned i = 1; i <= N; i++) {
        assert_int_equal(fk_dkg_round2(&out[i - 1], &blame, &s, i, d[i - 1], m), FK_OK);
        assert_memory_equal(out[i - 1].group_pk, out[0].group_pk, 32);
    }
    /* Any t of the x_i interpolate to the discrete log of Y. */
    {
        unsigned idx[T] = { 2, 4, 5 };
        uint8_t sum[32], lam[32], term[32], y[32];
        memset(sum, 0, 32);
        for (int k = 0; k < T; k++) {
            assert_int_equal(fki_lagrange0(lam, idx[k], idx, T), FK_OK);
            crypto_core_ristretto255_scalar_mul(term, lam, out[idx[k] - 1].secret);
            crypto_core_ristretto255_scalar_add(sum, sum, term);
        }
        assert_int_equal(fki_mul_base(y, sum), FK_OK);
        assert_memory_equal(y, out[0].group_pk, 32);
    }
    for (int i = 0; i < N; i++)
        free(msg[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_2of3),
        cmocka_unit_test(test_3of5),
        cmocka_unit_test(test_7of14),
        cmocka_unit_test(test_2of3_payload),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_random_ceremony),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
