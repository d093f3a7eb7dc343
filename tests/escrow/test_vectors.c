/*
 * Outside vectors for the escrow glue: RFC 9496 (ristretto255 encodings),
 * RFC 9497 (expand_message_xmd, hash to scalar/group, DLEQ proof layout,
 * ristretto255-SHA512 suites) and RFC 9591 (Shamir shares, Lagrange).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "escrow/internal.h"

/* The log policy test authorities name (the vkey is the tlog-policy
 * example's test log key). */
#define TEST_POLICY                                                                        \
    "log example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx "  \
    "https://log.example.com/\nquorum none\n"

static json_t *load(const char *rel)
{
    char path[512];
    json_error_t e;
    json_t *j;

    snprintf(path, sizeof path, "%s/%s", FK_TESTDATA, rel);
    j = json_load_file(path, 0, &e);
    if (!j)
        fail_msg("cannot load %s: %s", path, e.text);
    return j;
}

/* Decode hex into out (exactly n bytes expected). */
static void hex(uint8_t *out, size_t n, const char *s)
{
    assert_int_equal(strlen(s), 2 * n);
    assert_int_equal(fk_hex_decode(out, n, s, 2 * n), FK_OK);
}

/* Decode a hex string of any length into a malloc'd buffer. */
static uint8_t *hexdup(const char *s, size_t *n)
{
    size_t len = strlen(s) / 2;
    uint8_t *p = malloc(len + 1);

    assert_non_null(p);
    if (len)
        assert_int_equal(fk_hex_decode(p, len, s, 2 * len), FK_OK);
    *n = len;
    return p;
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    assert_non_null(v);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

/* ---- RFC 9496 ------------------------------------------------------------- */

static void test_rfc9496_multiples(void **state)
{
    json_t *j = load("ristretto255-rfc9496/vectors.json");
    json_t *enc = json_object_get(json_object_get(j, "generator_multiples"), "encodings");
    uint8_t want[32], got[32], n[32], acc[32];
    size_t i;
    json_t *v;

    (void)state;
    assert_int_equal(json_array_size(enc), 16);
    memset(acc, 0, 32);
    json_array_foreach(enc, i, v) {
        hex(want, 32, json_string_value(v));
        fki_scalar_from_uint(n, (unsigned)i);
        fki_mul_base(got, n);
        assert_memory_equal(got, want, 32);
        /* i*B through the generic multiply of B too (identity-safe). */
        if (i > 0) {
            uint8_t b[32];
            fki_scalar_from_uint(n, 1);
            fki_mul_base(b, n);
            fki_scalar_from_uint(n, (unsigned)i);
            assert_int_equal(fki_mul(got, n, b), FK_OK);
            assert_memory_equal(got, want, 32);
            assert_int_equal(fki_add(acc, acc, b), FK_OK);
            assert_memory_equal(acc, want, 32);
        }
        /* The identity (0*B) is a valid encoding but never a valid key. */
        assert_int_equal(fki_point_is_valid(want), i != 0);
    }
    json_decref(j);
}

static void test_rfc9496_invalid(void **state)
{
    json_t *j = load("ristretto255-rfc9496/vectors.json");
    json_t *groups = json_object_get(json_object_get(j, "invalid_encodings"), "groups");
    const char *key;
    json_t *arr, *v;
    size_t i, count = 0;
    uint8_t p[32], out[32], one[32];

    (void)state;
    fki_scalar_from_uint(one, 1);
    json_object_foreach(groups, key, arr) {
        json_array_foreach(arr, i, v) {
            hex(p, 32, json_string_value(v));
            assert_false(fki_point_is_valid(p));
            assert_int_not_equal(fki_mul(out, one, p), FK_OK);
            count++;
        }
    }
    assert_int_equal(count, 29);
    json_decref(j);
}

static void test_rfc9496_from_hash(void **state)
{
    json_t *j = load("ristretto255-rfc9496/vectors.json");
    json_t *vs = json_object_get(json_object_get(j, "element_derivation"), "vectors");
    json_t *same = json_object_get(j, "element_derivation_same_output");
    uint8_t in[64], want[32], got[32];
    size_t i;
    json_t *v;

    (void)state;
    assert_int_equal(json_array_size(vs), 7);
    json_array_foreach(vs, i, v) {
        hex(in, 64, jstr(v, "input"));
        hex(want, 32, jstr(v, "output"));
        assert_int_equal(crypto_core_ristretto255_from_hash(got, in), 0);
        assert_memory_equal(got, want, 32);
    }
    hex(want, 32, jstr(same, "output"));
    json_array_foreach(json_object_get(same, "inputs"), i, v) {
        hex(in, 64, json_string_value(v));
        assert_int_equal(crypto_core_ristretto255_from_hash(got, in), 0);
        assert_memory_equal(got, want, 32);
    }
    json_decref(j);
}

/* ---- scalars --------------------------------------------------------------- */

static void test_scalar_canonical(void **state)
{
    /* L - 1 is canonical, L and L + 1 and 2^256 - 1 are not. */
    static const uint8_t l[32] = {
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
        0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    };
    uint8_t s[32];

    (void)state;
    memcpy(s, l, 32);
    assert_false(fki_scalar_is_canonical(s));
    s[0]--;
    assert_true(fki_scalar_is_canonical(s));
    s[0] += 2;
    assert_false(fki_scalar_is_canonical(s));
    memset(s, 0xff, 32);
    assert_false(fki_scalar_is_canonical(s));
    memset(s, 0, 32);
    assert_true(fki_scalar_is_canonical(s));
    assert_true(fki_scalar_is_zero(s));
    s[31] = 0x0f;
    assert_true(fki_scalar_is_canonical(s));
    assert_false(fki_scalar_is_zero(s));
    s[31] = 0x20;
    assert_false(fki_scalar_is_canonical(s));
}

/* ---- RFC 9497 ------------------------------------------------------------- */

/* contextString from the suite's groupDST ("HashToGroup-" || contextString). */
static size_t context_string(uint8_t *ctx, json_t *suite)
{
    size_t n;
    uint8_t *g = hexdup(jstr(suite, "groupDST"), &n);

    assert_true(n > 12 && memcmp(g, "HashToGroup-", 12) == 0);
    memcpy(ctx, g + 12, n - 12);
    free(g);
    return n - 12;
}

static void dst_of(uint8_t *out, size_t *outlen, const char *prefix, const uint8_t *ctx,
                   size_t ctxlen)
{
    size_t p = strlen(prefix);

    memcpy(out, prefix, p);
    memcpy(out + p, ctx, ctxlen);
    *outlen = p + ctxlen;
}

/* Split a comma-separated list of hex items of 32 bytes into out. */
static size_t split32(uint8_t (*out)[32], size_t cap, const char *s)
{
    size_t n = 0;

    while (*s) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        assert_true(n < cap);
        assert_int_equal(len, 64);
        assert_int_equal(fk_hex_decode(out[n++], 32, s, 64), FK_OK);
        s += len + (comma ? 1 : 0);
    }
    return n;
}

static void test_rfc9497(void **state)
{
    json_t *all = load("voprf-rfc9497/allVectors.json");
    size_t si, nsuites = 0, nproofs = 0;
    json_t *suite;

    (void)state;
    json_array_foreach(all, si, suite) {
        if (strcmp(jstr(suite, "identifier"), "ristretto255-SHA512") != 0)
            continue;
        nsuites++;
        int mode = (int)json_integer_value(json_object_get(suite, "mode"));
        uint8_t ctx[64], dst[128], gdst[128], sk[32], want[32], pk[32];
        size_t ctxlen = context_string(ctx, suite), dstlen, gdstlen, seedlen, infolen;
        uint8_t *seed = hexdup(jstr(suite, "seed"), &seedlen);
        uint8_t *info = hexdup(jstr(suite, "keyInfo"), &infolen);

        /* DeriveKeyPair: HashToScalar(seed || I2OSP(len(info),2) || info ||
         * I2OSP(counter,1), DST = "DeriveKeyPair" || contextString). */
        dst_of(dst, &dstlen, "DeriveKeyPair", ctx, ctxlen);
        uint8_t il[2] = { (uint8_t)(infolen >> 8), (uint8_t)infolen }, counter = 0;
        fki_buf dk[4] = { { seed, seedlen }, { il, 2 }, { info, infolen }, { &counter, 1 } };
        assert_int_equal(fki_h2s(sk, dst, dstlen, dk, 4), FK_OK);
        assert_false(fki_scalar_is_zero(sk));
        hex(want, 32, jstr(suite, "skSm"));
        assert_memory_equal(sk, want, 32);
        fki_mul_base(pk, sk);
        if (mode != 0) {
            hex(want, 32, jstr(suite, "pkSm"));
            assert_memory_equal(pk, want, 32);
        }
        free(seed);
        free(info);
        dst_of(gdst, &gdstlen, "HashToGroup-", ctx, ctxlen);

        size_t vi;
        json_t *v;
        json_array_foreach(json_object_get(suite, "vectors"), vi, v) {
            uint8_t blind[2][32], blinded[2][32], eval[2][32], got[32], k[32], b[32];
            size_t nb = split32(blind, 2, jstr(v, "Blind"));
            assert_int_equal(split32(blinded, 2, jstr(v, "BlindedElement")), nb);
            assert_int_equal(split32(eval, 2, jstr(v, "EvaluationElement")), nb);

            /* Inputs: comma-separated hex of any length. */
            char *inputs = strdup(jstr(v, "Input")), *save = NULL;
            size_t ii = 0;
            for (char *tok = strtok_r(inputs, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                size_t inlen;
                uint8_t *in = hexdup(tok, &inlen);
                uint8_t h[32];
                fki_buf hb = { in, inlen };
                assert_int_equal(fki_h2g(h, gdst, gdstlen, &hb, 1), FK_OK);
                assert_int_equal(fki_mul(got, blind[ii], h), FK_OK);
                assert_memory_equal(got, blinded[ii], 32);
                free(in);
                ii++;
            }
            free(inputs);
            assert_int_equal(ii, nb);

            /* The key that evaluates: skS (modes 0, 1) or the POPRF tweak
             * t = skS + H2S("Info" || I2OSP(len,2) || info). */
            memcpy(k, sk, 32);
            memcpy(b, pk, 32);
            if (mode == 2) {
                size_t pilen;
                uint8_t *pinfo = hexdup(jstr(v, "Info"), &pilen), m[32], sdst[128];
                uint8_t pl[2] = { (uint8_t)(pilen >> 8), (uint8_t)pilen };
                size_t sdstlen;
                dst_of(sdst, &sdstlen, "HashToScalar-", ctx, ctxlen);
                fki_buf fi[3] = { { "Info", 4 }, { pl, 2 }, { pinfo, pilen } };
                assert_int_equal(fki_h2s(m, sdst, sdstlen, fi, 3), FK_OK);
                crypto_core_ristretto255_scalar_add(k, sk, m);
                fki_mul_base(b, k);
                free(pinfo);
            }
            for (size_t q = 0; q < nb; q++) {
                if (mode == 2) {
                    uint8_t inv[32];
                    assert_int_equal(crypto_core_ristretto255_scalar_invert(inv, k), 0);
                    assert_int_equal(fki_mul(got, inv, blinded[q]), FK_OK);
                } else {
                    assert_int_equal(fki_mul(got, k, blinded[q]), FK_OK);
                }
                assert_memory_equal(got, eval[q], 32);
            }

            json_t *proof = json_object_get(v, "Proof");
            if (!proof)
                continue;
            uint8_t want_proof[64], r[32], out[64], base[32], one[32];
            uint8_t h2sdst[128], seeddst[128];
            size_t h2sdstlen, seeddstlen;
            hex(want_proof, 64, jstr(proof, "proof"));
            hex(r, 32, jstr(proof, "r"));
            fki_scalar_from_uint(one, 1);
            fki_mul_base(base, one);
            dst_of(h2sdst, &h2sdstlen, "HashToScalar-", ctx, ctxlen);
            dst_of(seeddst, &seeddstlen, "Seed-", ctx, ctxlen);
            fki_dleq_params prm = { h2sdst, h2sdstlen, seeddst, seeddstlen, 1, NULL, 0 };
            /* VOPRF: C = blinded, D = evaluated; POPRF: the reverse. */
            const uint8_t(*c)[32] = mode == 2 ? (const uint8_t(*)[32])eval
                                              : (const uint8_t(*)[32])blinded;
            const uint8_t(*d)[32] = mode == 2 ? (const uint8_t(*)[32])blinded
                                              : (const uint8_t(*)[32])eval;
            assert_int_equal(fki_dleq_prove(out, k, base, b, c, d, nb, r, &prm), FK_OK);
            assert_memory_equal(out, want_proof, 64);
            assert_int_equal(fki_dleq_verify(want_proof, base, b, c, d, nb, &prm), FK_OK);
            /* One flipped bit anywhere in c or s fails. */
            for (size_t bit = 0; bit < 512; bit += 37) {
                memcpy(out, want_proof, 64);
                out[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                assert_int_not_equal(fki_dleq_verify(out, base, b, c, d, nb, &prm), FK_OK);
            }
            /* A proof for another statement fails. */
            assert_int_equal(fki_dleq_verify(want_proof, base, blinded[0], c, d, nb, &prm),
                             FK_ERR_PROOF);
            nproofs++;
        }
    }
    assert_int_equal(nsuites, 3);
    assert_int_equal(nproofs, 6);
    json_decref(all);
}

/* ---- RFC 9591 ------------------------------------------------------------- */

static void test_rfc9591(void **state)
{
    json_t *j = load("frost-rfc9591/frost-ristretto255-sha512.json");
    json_t *in = json_object_get(j, "inputs");
    json_t *shares = json_object_get(in, "participant_shares");
    uint8_t coeffs[2][32], want[32];
    fk_escrow_authority *auth = calloc(1, sizeof *auth);
    fk_escrow_share got[3];
    size_t i;
    json_t *v;

    (void)state;
    assert_non_null(auth);
    hex(coeffs[0], 32, jstr(in, "group_secret_key"));
    hex(coeffs[1], 32,
        json_string_value(json_array_get(json_object_get(in, "share_polynomial_coefficients"), 0)));
    assert_int_equal(fki_escrow_deal(auth, got, "frost", 2, 3, TEST_POLICY, sizeof TEST_POLICY - 1, (const uint8_t(*)[32])coeffs), FK_OK);
    hex(want, 32, jstr(in, "group_public_key"));
    assert_memory_equal(auth->pk, want, 32);
    assert_int_equal(json_array_size(shares), 3);
    json_array_foreach(shares, i, v) {
        unsigned id = (unsigned)json_integer_value(json_object_get(v, "identifier"));
        hex(want, 32, jstr(v, "participant_share"));
        assert_int_equal(got[id - 1].index, id);
        assert_memory_equal(got[id - 1].secret, want, 32);
        assert_int_equal(fk_escrow_share_verify(auth, &got[id - 1]), FK_OK);
    }

    /* Lagrange at 0 over every subset of size >= 2 recovers s. */
    static const unsigned subsets[][3] = { { 1, 2, 0 }, { 1, 3, 0 }, { 2, 3, 0 }, { 1, 2, 3 } };
    for (size_t q = 0; q < 4; q++) {
        size_t m = subsets[q][2] ? 3 : 2;
        uint8_t acc[32] = { 0 }, lam[32], term[32];
        for (size_t a = 0; a < m; a++) {
            assert_int_equal(fki_lagrange0(lam, subsets[q][a], subsets[q], m), FK_OK);
            crypto_core_ristretto255_scalar_mul(term, lam, got[subsets[q][a] - 1].secret);
            crypto_core_ristretto255_scalar_add(acc, acc, term);
        }
        assert_memory_equal(acc, coeffs[0], 32);
    }
    /* Duplicate and zero indices are refused. */
    uint8_t lam[32];
    const unsigned dup[] = { 1, 1, 2 }, zero[] = { 0, 1 };
    assert_int_equal(fki_lagrange0(lam, 2, dup, 3), FK_ERR_INVALID);
    assert_int_equal(fki_lagrange0(lam, 1, dup, 3), FK_ERR_INVALID);
    assert_int_equal(fki_lagrange0(lam, 1, zero, 2), FK_ERR_INVALID);
    assert_int_equal(fki_lagrange0(lam, 3, zero, 2), FK_ERR_INVALID);
    fk_escrow_share_clear(got, 3);
    free(auth);
    json_decref(j);
}

/* RFC 9380 Appendix K.2 does not cover SHA-512 with our DSTs, so xmd is
 * pinned through the RFC 9497 suites above; here only its limits. */
static void test_xmd_limits(void **state)
{
    uint8_t out[64], dst[256];
    fki_buf m = { "abc", 3 };

    (void)state;
    memset(dst, 'a', sizeof dst);
    assert_int_equal(fki_xmd_sha512(out, 64, dst, 255, &m, 1), FK_OK);
    assert_int_equal(fki_xmd_sha512(out, 64, dst, 256, &m, 1), FK_ERR_INVALID);
    assert_int_equal(fki_xmd_sha512(out, 0, dst, 10, &m, 1), FK_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc9496_multiples), cmocka_unit_test(test_rfc9496_invalid),
        cmocka_unit_test(test_rfc9496_from_hash), cmocka_unit_test(test_scalar_canonical),
        cmocka_unit_test(test_rfc9497),           cmocka_unit_test(test_rfc9591),
        cmocka_unit_test(test_xmd_limits),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
