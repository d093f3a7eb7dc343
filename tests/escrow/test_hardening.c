#define _GNU_SOURCE
/*
 * Escrow hardening: each test pins one property a review found missing or
 * undocumented, and the byte layouts of docs/spec.md rebuilt here from the
 * primitives (libsodium, OpenSSL, and the RFC 9380/9497-checked H2S) rather
 * than from the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <sodium.h>

#include "escrow/internal.h"

static const uint8_t ctx_hash[32] = "log entry hash 0123456789abcdef";

/* L, little-endian. */
static const uint8_t group_l[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
    0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
};

static fk_escrow_authority *A;
static fk_escrow_share *S;

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    A = calloc(1, sizeof *A);
    if (!A || fk_escrow_share_alloc(&S, 5) != FK_OK)
        return -1;
    return fk_escrow_dealer(A, S, "hardening", 3, 5) == FK_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fk_escrow_share_free(S, 5);
    free(A);
    return 0;
}

static void header_of(fk_header *h, fk_stanza *st, size_t n)
{
    memset(h, 0, sizeof *h);
    h->stanzas = st;
    h->nstanzas = n;
}

static void random_point(uint8_t p[32])
{
    uint8_t r[32];

    crypto_core_ristretto255_scalar_random(r);
    assert_int_equal(crypto_scalarmult_ristretto255_base(p, r), 0);
    sodium_memzero(r, sizeof r);
}

/* ---- recipient-side check ------------------------------------------------ */

/* Two byte-identical, individually valid escrow stanzas for one authority:
 * recovery (fk_escrow_header_find) cannot pick one, so the recipient must
 * not accept the file either. */
static void test_check_refuses_repeated_authority(void **state)
{
    uint8_t k[16];
    fk_stanza st[2];
    fk_header h;
    fk_escrow_check_ctx c;
    fk_escrow_stanza_info one;

    (void)state;
    assert_int_equal(fk_random(k, 16), FK_OK);
    assert_int_equal(fk_escrow_stanza_make(&st[0], A->pk, k), FK_OK);
    assert_int_equal(fk_escrow_stanza_make(&st[1], A->pk, k), FK_OK);
    header_of(&h, st, 2);
    assert_int_equal(fk_escrow_header_find(&h, A->pk, &one), FK_ERR_ESCROW);
    fk_escrow_check_init(&c, NULL, 0, 1, 0);
    assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_ERR_ESCROW);
    assert_int_equal(c.nescrow, 2);
    assert_int_equal(c.nverified, 1);
    assert_int_equal(c.nfailed, 1);
    assert_int_equal(c.results[0].err, FK_OK);
    assert_int_equal(c.results[1].err, FK_ERR_ESCROW);
    /* Required authority: still counted present, the file still refused. */
    fk_escrow_check_init(&c, (const uint8_t(*)[32])A->pk, 1, 1, 0);
    assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_ERR_ESCROW);
    assert_int_equal(c.nmissing, 0);
    /* One of them: accepted, and recovery finds it. */
    header_of(&h, st, 1);
    assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_OK);
    assert_int_equal(fk_escrow_header_find(&h, A->pk, &one), FK_OK);
    fk_stanza_clear(&st[0]);
    fk_stanza_clear(&st[1]);
}

/* FK_ESCROW_MAX_STANZAS escrow stanzas are checked; one more fails. */
static void test_check_stanza_limit(void **state)
{
    enum { N = FK_ESCROW_MAX_STANZAS + 1 };
    fk_stanza *st = calloc(N, sizeof *st);
    uint8_t k[16], pk[32];
    fk_header h;
    fk_escrow_check_ctx c;

    (void)state;
    assert_non_null(st);
    assert_int_equal(fk_random(k, 16), FK_OK);
    for (size_t i = 0; i < N; i++) {
        random_point(pk);
        assert_int_equal(fk_escrow_stanza_make(&st[i], pk, k), FK_OK);
    }
    header_of(&h, st, N - 1);
    fk_escrow_check_init(&c, NULL, 0, 1, 0);
    assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_OK);
    assert_int_equal(c.nverified, FK_ESCROW_MAX_STANZAS);
    assert_int_equal(c.nresults, FK_ESCROW_CHECK_MAX_RESULTS);
    header_of(&h, st, N);
    assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_ERR_ESCROW);
    assert_int_equal(c.nescrow, N);
    assert_int_equal(c.nverified, FK_ESCROW_MAX_STANZAS);
    assert_int_equal(c.nfailed, 1);
    /* A required authority whose stanza lies past the cap is missing. */
    memcpy(pk, A->pk, 32);
    fk_stanza_clear(&st[N - 1]);
    assert_int_equal(fk_escrow_stanza_make(&st[N - 1], pk, k), FK_OK);
    fk_escrow_check_init(&c, (const uint8_t(*)[32])pk, 1, 1, 1);
    assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_OK); /* warn only */
    assert_int_equal(c.nmissing, 1);
    assert_int_equal(c.nfailed, 1);
    for (size_t i = 0; i < N; i++)
        fk_stanza_clear(&st[i]);
    free(st);
}

/* ---- group glue ---------------------------------------------------------- */

/* libsodium 1.0.18 drops bit 255 of a scalar: 2^255 + 1 would act as 1. */
static void test_mul_refuses_noncanonical_scalar(void **state)
{
    uint8_t big[32] = { 1 }, out[32], b[32], one[32] = { 1 };

    (void)state;
    big[31] = 0x80;
    assert_int_equal(fki_mul_base(b, one), FK_OK);
    assert_int_equal(fki_mul(out, big, b), FK_ERR_INVALID);
    assert_int_equal(fki_mul(out, group_l, b), FK_ERR_INVALID);
    assert_int_equal(fki_mul_base(out, big), FK_ERR_INVALID);
    assert_int_equal(fki_mul_base(out, group_l), FK_ERR_INVALID);
    /* L - 1 is the largest canonical scalar: (L-1)*B = -B. */
    uint8_t lm1[32], neg[32];
    memcpy(lm1, group_l, 32);
    lm1[0]--;
    assert_int_equal(fki_mul(out, lm1, b), FK_OK);
    crypto_core_ristretto255_scalar_negate(neg, one);
    assert_int_equal(crypto_scalarmult_ristretto255_base(b, neg), 0);
    assert_memory_equal(out, b, 32);
}

/* A body shorter than the tag: refused, not read or wiped out of bounds;
 * one past FKI_ESCROW_AEAD_MAX refused too. */
static void test_aead_lengths(void **state)
{
    uint8_t key[32] = { 7 }, in[FKI_ESCROW_AEAD_MAX + 17] = { 0 },
            out[FKI_ESCROW_AEAD_MAX + 17];

    (void)state;
    for (size_t n = 0; n < 16; n++)
        assert_int_equal(fki_escrow_aead(0, out, key, in, n), FK_ERR_ESCROW);
    assert_int_equal(fki_escrow_aead(0, out, key, in, 16), FK_ERR_ESCROW); /* bad tag */
    assert_int_equal(fki_escrow_aead(1, out, key, in, FKI_ESCROW_AEAD_MAX - 16), FK_OK);
    assert_int_equal(fki_escrow_aead(0, in, key, out, FKI_ESCROW_AEAD_MAX), FK_OK);
    assert_int_not_equal(fki_escrow_aead(1, out, key, in, FKI_ESCROW_AEAD_MAX + 1), FK_OK);
    assert_int_not_equal(fki_escrow_aead(0, out, key, in, FKI_ESCROW_AEAD_MAX + 1), FK_OK);
}

/* ---- authority file -------------------------------------------------------- */

/* A name one past FK_ESCROW_NAME_MAX is a limit error, as the header says
 * for every length past a limit (64 is accepted). */
static void test_authority_name_limit(void **state)
{
    char *text = malloc(FK_ESCROW_AUTHORITY_TEXT_MAX), *t2 = malloc(FK_ESCROW_AUTHORITY_TEXT_MAX);
    fk_escrow_authority *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    fk_escrow_share sh[1];
    char name[FK_ESCROW_NAME_MAX + 2];
    size_t len;

    (void)state;
    assert_non_null(text);
    assert_non_null(t2);
    assert_non_null(a);
    assert_non_null(b);
    memset(name, 'n', FK_ESCROW_NAME_MAX);
    name[FK_ESCROW_NAME_MAX] = '\0';
    assert_int_equal(fk_escrow_dealer(a, sh, name, 1, 1), FK_OK);
    assert_int_equal(fk_escrow_authority_encode(text, FK_ESCROW_AUTHORITY_TEXT_MAX, &len, a), FK_OK);
    assert_int_equal(fk_escrow_authority_parse(b, text, len), FK_OK);
    /* Insert one more name character. */
    char *p = strstr(text, "\nname ") + 6;
    size_t off = (size_t)(p - text);
    memcpy(t2, text, off);
    t2[off] = 'n';
    memcpy(t2 + off + 1, p, len - off);
    assert_int_equal(fk_escrow_authority_parse(b, t2, len + 1), FK_ERR_LIMIT);
    fk_escrow_share_clear(sh, 1);
    free(text);
    free(t2);
    free(a);
    free(b);
}

/* The authority id is SHA-256 of the domain line and the file up to the id
 * line (docs/spec.md 2.2), recomputed here with OpenSSL directly. */
static void test_authority_id_layout(void **state)
{
    char *text = malloc(FK_ESCROW_AUTHORITY_TEXT_MAX), hex[FK_ESCROW_ID_HEX_LEN];
    static const char dom[] = "fairkey/v1 authority id\n";
    uint8_t h[32];
    unsigned int hl = 0;
    size_t len;

    (void)state;
    assert_non_null(text);
    assert_int_equal(fk_escrow_authority_encode(text, FK_ESCROW_AUTHORITY_TEXT_MAX, &len, A), FK_OK);
    char *idline = strstr(text, "\nid ");
    assert_non_null(idline);
    size_t flen = (size_t)(idline - text) + 1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_non_null(md);
    assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(md, dom, sizeof dom - 1), 1);
    assert_int_equal(EVP_DigestUpdate(md, text, flen), 1);
    assert_int_equal(EVP_DigestFinal_ex(md, h, &hl), 1);
    EVP_MD_CTX_free(md);
    assert_memory_equal(h, A->id, 32);
    fk_escrow_id_hex(hex, h);
    assert_int_equal(strncmp(idline + 4, hex, 64), 0);
    assert_string_equal(idline + 4 + 64, "\n");
    free(text);
}

/* A share key that the commitments do not give, under an id recomputed to
 * match (so only the share-key check can catch it), at the first, a middle
 * and the last index; and the largest authority (255-of-255) round-trips
 * with every share verifying. */
static void test_authority_share_keys(void **state)
{
    char *text = malloc(FK_ESCROW_AUTHORITY_TEXT_MAX);
    fk_escrow_authority *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    fk_escrow_share *sh;
    size_t len;
    const unsigned at[3] = { 1, 3, 5 };

    (void)state;
    assert_non_null(text);
    assert_non_null(a);
    assert_non_null(b);
    for (size_t q = 0; q < 3; q++) {
        memcpy(a, A, sizeof *a);
        random_point(a->share_pk[at[q] - 1]);
        assert_int_equal(fki_escrow_authority_id(a->id, a), FK_OK);
        assert_int_equal(fk_escrow_authority_encode(text, FK_ESCROW_AUTHORITY_TEXT_MAX, &len, a),
                         FK_OK);
        assert_int_equal(fk_escrow_authority_parse(b, text, len), FK_ERR_INVALID);
    }
    /* A wrong commitment (C_1) under a matching id: every key mismatches. */
    memcpy(a, A, sizeof *a);
    random_point(a->commit[1]);
    assert_int_equal(fki_escrow_authority_id(a->id, a), FK_OK);
    assert_int_equal(fk_escrow_authority_encode(text, FK_ESCROW_AUTHORITY_TEXT_MAX, &len, a), FK_OK);
    assert_int_equal(fk_escrow_authority_parse(b, text, len), FK_ERR_INVALID);

    assert_int_equal(fk_escrow_share_alloc(&sh, FK_ESCROW_MAX_SHARES), FK_OK);
    assert_int_equal(fk_escrow_dealer(a, sh, "widest", FK_ESCROW_MAX_SHARES, FK_ESCROW_MAX_SHARES),
                     FK_OK);
    assert_int_equal(fk_escrow_authority_encode(text, FK_ESCROW_AUTHORITY_TEXT_MAX, &len, a), FK_OK);
    assert_int_equal(fk_escrow_authority_parse(b, text, len), FK_OK);
    assert_memory_equal(a, b, sizeof *a);
    for (unsigned i = 0; i < FK_ESCROW_MAX_SHARES; i++)
        assert_int_equal(fk_escrow_share_verify(b, &sh[i]), FK_OK);
    /* A share whose secret is not its key's. */
    sh[7].secret[0] ^= 1;
    if (fki_scalar_is_canonical(sh[7].secret))
        assert_int_equal(fk_escrow_share_verify(b, &sh[7]), FK_ERR_INVALID);
    fk_escrow_share_free(sh, FK_ESCROW_MAX_SHARES);
    free(text);
    free(a);
    free(b);
}

/* ---- stanza layout --------------------------------------------------------- */

static void put32(uint8_t **w, const uint8_t *v, size_t n)
{
    (*w)[0] = (uint8_t)(n >> 8);
    (*w)[1] = (uint8_t)n;
    memcpy(*w + 2, v, n);
    *w += 2 + n;
}

/* docs/spec.md section 4, rebuilt from libsodium and OpenSSL (and the
 * vector-checked xmd/H2S): r, E, G, Ebar, the wrapped key and the validity
 * proof, byte for byte. */
static void test_stanza_layout(void **state)
{
    static const char dst_r[] = "fairkey/v2 escrow r", info[] = "fairkey/v2 escrow wrap";
    static const char dst_g[] = "fairkey/v2 escrow generator";
    static const char dst_w[] = "fairkey/v2 escrow proof nonce";
    static const char dst_c[] = "fairkey/v2 escrow proof";
    uint8_t k[16], msg[48], r[32], w[32], e[32], g[32], eb[32], z[32], salt[64], wk[32];
    uint8_t body[32], nonce[12] = { 0 }, u[64], t2[32], t3[32], c[32], cr[32], sc[32];
    uint8_t tr[7 * 34 + 9], *wp = tr;
    fk_escrow_stanza_info got;
    fk_stanza st;
    size_t wklen = 32;
    int n = 0, m = 0;

    (void)state;
    assert_int_equal(fk_random(k, 16), FK_OK);
    assert_int_equal(fk_escrow_stanza_make(&st, A->pk, k), FK_OK);
    assert_int_equal(fk_escrow_stanza_parse(&got, &st), FK_OK);
    assert_string_equal(st.args[0], "fairkey.dev/escrow/v2");
    assert_int_equal(st.nargs, 4);
    assert_int_equal(st.body_len, 96);

    memcpy(msg, A->pk, 32);
    memcpy(msg + 32, k, 16);
    fki_buf in = { msg, sizeof msg };
    assert_int_equal(fki_h2s(r, dst_r, sizeof dst_r - 1, &in, 1), FK_OK);
    assert_int_equal(fki_h2s(w, dst_w, sizeof dst_w - 1, &in, 1), FK_OK);
    assert_int_equal(crypto_scalarmult_ristretto255_base(e, r), 0);
    fki_buf pin = { A->pk, 32 };
    assert_int_equal(fki_xmd_sha512(u, 64, dst_g, sizeof dst_g - 1, &pin, 1), FK_OK);
    crypto_core_ristretto255_from_hash(g, u);
    assert_int_equal(crypto_scalarmult_ristretto255(eb, r, g), 0);
    assert_int_equal(crypto_scalarmult_ristretto255(z, r, A->pk), 0);
    assert_memory_equal(e, got.e, 32);
    assert_memory_equal(eb, got.ebar, 32);

    memcpy(salt, e, 32);
    memcpy(salt + 32, A->pk, 32);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    assert_non_null(pc);
    assert_int_equal(EVP_PKEY_derive_init(pc), 1);
    assert_int_equal(EVP_PKEY_CTX_set_hkdf_md(pc, EVP_sha256()), 1);
    assert_int_equal(EVP_PKEY_CTX_set1_hkdf_salt(pc, salt, 64), 1);
    assert_int_equal(EVP_PKEY_CTX_set1_hkdf_key(pc, z, 32), 1);
    assert_int_equal(EVP_PKEY_CTX_add1_hkdf_info(pc, (const unsigned char *)info, sizeof info - 1), 1);
    assert_int_equal(EVP_PKEY_derive(pc, wk, &wklen), 1);
    EVP_PKEY_CTX_free(pc);

    EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
    assert_non_null(cc);
    assert_int_equal(EVP_EncryptInit_ex(cc, EVP_chacha20_poly1305(), NULL, wk, nonce), 1);
    assert_int_equal(EVP_EncryptUpdate(cc, body, &n, k, 16), 1);
    assert_int_equal(EVP_EncryptFinal_ex(cc, body + n, &m), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_AEAD_GET_TAG, 16, body + 16), 1);
    EVP_CIPHER_CTX_free(cc);
    assert_memory_equal(body, got.body, 32);

    /* proof: t2 = w*B, t3 = w*G, c over the transcript, s = w - c*r */
    assert_int_equal(crypto_scalarmult_ristretto255_base(t2, w), 0);
    assert_int_equal(crypto_scalarmult_ristretto255(t3, w, g), 0);
    put32(&wp, A->pk, 32);
    put32(&wp, body, 32);
    put32(&wp, e, 32);
    put32(&wp, g, 32);
    put32(&wp, eb, 32);
    put32(&wp, t2, 32);
    put32(&wp, t3, 32);
    memcpy(wp, "Challenge", 9);
    wp += 9;
    assert_int_equal((size_t)(wp - tr), sizeof tr);
    fki_buf tin = { tr, sizeof tr };
    assert_int_equal(fki_h2s(c, dst_c, sizeof dst_c - 1, &tin, 1), FK_OK);
    crypto_core_ristretto255_scalar_mul(cr, c, r);
    crypto_core_ristretto255_scalar_sub(sc, w, cr);
    assert_memory_equal(c, got.body + 32, 32);
    assert_memory_equal(sc, got.body + 64, 32);
    fk_stanza_clear(&st);
    sodium_memzero(r, sizeof r);
    sodium_memzero(w, sizeof w);
    sodium_memzero(cr, sizeof cr);
    sodium_memzero(z, sizeof z);
    sodium_memzero(wk, sizeof wk);
}

/* ---- partial-decryption proof ---------------------------------------------- */

/* The challenge transcript of docs/spec.md section 5, rebuilt by hand:
 * verifying c this way checks the code against the spec byte for byte. */
static void test_proof_transcript_layout(void **state)
{
    static const char dst_c[] = "fairkey/v1 dleq challenge";
    uint8_t k[16], t2[32], t3[32], u[32], v[32], c[32], idx[2];
    uint8_t tr[2 + 32 + 2 + 2 + 2 + 32 + 5 * 34 + 9], *w = tr;
    fk_escrow_stanza_info st;
    fk_escrow_partial p;
    fk_stanza s;

    (void)state;
    assert_int_equal(fk_random(k, 16), FK_OK);
    assert_int_equal(fk_escrow_stanza_make(&s, A->pk, k), FK_OK);
    assert_int_equal(fk_escrow_stanza_parse(&st, &s), FK_OK);
    fk_stanza_clear(&s);
    assert_int_equal(fk_escrow_partial_decrypt(&p, A, &S[2], st.e, ctx_hash, 32), FK_OK);

    const uint8_t *pki = A->share_pk[2], *cc = p.proof, *ss = p.proof + 32;
    /* t2 = s*B + c*PK_i ; t3 = s*E + c*D_i */
    assert_int_equal(crypto_scalarmult_ristretto255_base(u, ss), 0);
    assert_int_equal(crypto_scalarmult_ristretto255(v, cc, pki), 0);
    assert_int_equal(crypto_core_ristretto255_add(t2, u, v), 0);
    assert_int_equal(crypto_scalarmult_ristretto255(u, ss, st.e), 0);
    assert_int_equal(crypto_scalarmult_ristretto255(v, cc, p.d), 0);
    assert_int_equal(crypto_core_ristretto255_add(t3, u, v), 0);

    idx[0] = 0;
    idx[1] = 3;
    put32(&w, A->id, 32);
    put32(&w, idx, 2);
    put32(&w, ctx_hash, 32);
    put32(&w, pki, 32);
    put32(&w, st.e, 32);
    put32(&w, p.d, 32);
    put32(&w, t2, 32);
    put32(&w, t3, 32);
    memcpy(w, "Challenge", 9);
    w += 9;
    assert_int_equal((size_t)(w - tr), sizeof tr);
    fki_buf in = { tr, sizeof tr };
    assert_int_equal(fki_h2s(c, dst_c, sizeof dst_c - 1, &in, 1), FK_OK);
    assert_memory_equal(c, p.proof, 32);
    /* and D_i = s_i * E */
    assert_int_equal(crypto_scalarmult_ristretto255(u, S[2].secret, st.e), 0);
    assert_memory_equal(u, p.d, 32);
}

/* The proof names its agent: with t = 1 every share is s, so PK_1 = PK_2;
 * agent 1's answer relabelled as agent 2's must not verify. */
static void test_proof_binds_index(void **state)
{
    uint8_t coeff[1][32], e[32];
    fk_escrow_authority *a = calloc(1, sizeof *a);
    fk_escrow_share sh[2];
    fk_escrow_partial p;

    (void)state;
    assert_non_null(a);
    assert_int_equal(fki_scalar_random(coeff[0]), FK_OK);
    assert_int_equal(fki_escrow_deal(a, sh, "one-of-two", 1, 2, (const uint8_t(*)[32])coeff),
                     FK_OK);
    assert_memory_equal(a->share_pk[0], a->share_pk[1], 32);
    random_point(e);
    assert_int_equal(fk_escrow_partial_decrypt(&p, a, &sh[0], e, ctx_hash, 32), FK_OK);
    assert_int_equal(fk_escrow_partial_verify(a, &p, e, ctx_hash, 32), FK_OK);
    p.index = 2;
    assert_int_equal(fk_escrow_partial_verify(a, &p, e, ctx_hash, 32), FK_ERR_PROOF);
    fk_escrow_share_clear(sh, 2);
    sodium_memzero(coeff, sizeof coeff);
    free(a);
}

/* Two authorities with the same keys but different ids (names): an answer
 * for one does not verify for the other. */
static void test_proof_binds_authority(void **state)
{
    uint8_t coeff[2][32], e[32];
    fk_escrow_authority *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    fk_escrow_share sa[3], sb[3];
    fk_escrow_partial p;

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(fki_scalar_random(coeff[0]), FK_OK);
    assert_int_equal(fki_scalar_random(coeff[1]), FK_OK);
    assert_int_equal(fki_escrow_deal(a, sa, "first", 2, 3, (const uint8_t(*)[32])coeff), FK_OK);
    assert_int_equal(fki_escrow_deal(b, sb, "second", 2, 3, (const uint8_t(*)[32])coeff), FK_OK);
    assert_memory_equal(a->share_pk, b->share_pk, sizeof a->share_pk);
    assert_memory_not_equal(a->id, b->id, 32);
    random_point(e);
    assert_int_equal(fk_escrow_partial_decrypt(&p, a, &sa[1], e, ctx_hash, 32), FK_OK);
    assert_int_equal(fk_escrow_partial_verify(a, &p, e, ctx_hash, 32), FK_OK);
    assert_int_equal(fk_escrow_partial_verify(b, &p, e, ctx_hash, 32), FK_ERR_PROOF);
    fk_escrow_share_clear(sa, 3);
    fk_escrow_share_clear(sb, 3);
    sodium_memzero(coeff, sizeof coeff);
    free(a);
    free(b);
}

/* ---- Lagrange ---------------------------------------------------------------- */

static void test_lagrange_indices(void **state)
{
    unsigned ok[3] = { 1, 2, 3 }, dup[3] = { 1, 2, 1 }, zero[3] = { 0, 2, 3 };
    unsigned far[2] = { 1, 0x10000 };
    uint8_t lam[32], want[32], three[32] = { 3 };

    (void)state;
    /* lambda_1 over {1,2,3} = 2*3 / ((2-1)(3-1)) = 3 */
    assert_int_equal(fki_lagrange0(lam, 1, ok, 3), FK_OK);
    memcpy(want, three, 32);
    assert_memory_equal(lam, want, 32);
    assert_int_equal(fki_lagrange0(lam, 2, dup, 3), FK_ERR_INVALID);
    assert_int_equal(fki_lagrange0(lam, 1, dup, 3), FK_ERR_INVALID);
    assert_int_equal(fki_lagrange0(lam, 2, zero, 3), FK_ERR_INVALID);
    assert_int_equal(fki_lagrange0(lam, 0, zero, 3), FK_ERR_INVALID);
    assert_int_equal(fki_lagrange0(lam, 4, ok, 3), FK_ERR_INVALID); /* not in the set */
    assert_int_equal(fki_lagrange0(lam, 1, far, 2), FK_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_refuses_repeated_authority),
        cmocka_unit_test(test_check_stanza_limit),
        cmocka_unit_test(test_mul_refuses_noncanonical_scalar),
        cmocka_unit_test(test_aead_lengths),
        cmocka_unit_test(test_authority_name_limit),
        cmocka_unit_test(test_authority_id_layout),
        cmocka_unit_test(test_authority_share_keys),
        cmocka_unit_test(test_stanza_layout),
        cmocka_unit_test(test_proof_transcript_layout),
        cmocka_unit_test(test_proof_binds_index),
        cmocka_unit_test(test_proof_binds_authority),
        cmocka_unit_test(test_lagrange_indices),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
