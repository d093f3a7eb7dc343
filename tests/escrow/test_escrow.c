#define _GNU_SOURCE
/*
 * Escrow behaviour: dealer, shares, file formats and their limits, the
 * recipient string, the escrow stanza and its recipient-side check, partial
 * decryptions with proofs, threshold combination and recovery.
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

#include "escrow/internal.h"

/* The log policy test authorities name (the vkey is the tlog-policy
 * example's test log key). */
#define TEST_POLICY                                                                        \
    "log example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx "  \
    "https://log.example.com/\nquorum none\n"

static const uint8_t ctx_hash[32] = "log entry hash 0123456789abcdef";

/* A 3-of-5 authority shared by the tests (dealt once). */
static fk_escrow_authority *A;
static fk_escrow_share *S;

static int setup(void **state)
{
    (void)state;
    A = calloc(1, sizeof *A);
    if (!A || fk_escrow_share_alloc(&S, 5) != FK_OK)
        return -1;
    return fk_escrow_dealer(A, S, "test-authority", 3, 5, TEST_POLICY, sizeof TEST_POLICY - 1) == FK_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fk_escrow_share_free(S, 5);
    free(A);
    return 0;
}

static void random_key(uint8_t k[16])
{
    assert_int_equal(fk_random(k, 16), FK_OK);
}

static void make_stanza_info(fk_escrow_stanza_info *st, const uint8_t pk[32], const uint8_t k[16])
{
    fk_stanza s;

    assert_int_equal(fk_escrow_stanza_make(&s, pk, k), FK_OK);
    assert_int_equal(fk_escrow_stanza_parse(st, &s), FK_OK);
    fk_stanza_clear(&s);
}

/* ---- dealer and shares ------------------------------------------------------ */

static void test_dealer(void **state)
{
    uint8_t pki[32];

    (void)state;
    assert_int_equal(A->t, 3);
    assert_int_equal(A->n, 5);
    assert_memory_equal(A->pk, A->commit[0], 32);
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(S[i].index, i + 1);
        assert_memory_equal(S[i].authority_id, A->id, 32);
        assert_int_equal(fk_escrow_share_verify(A, &S[i]), FK_OK);
        assert_int_equal(fki_escrow_share_pk(pki, A, i + 1), FK_OK);
        assert_memory_equal(pki, A->share_pk[i], 32);
    }
    /* A share moved to another index, or altered, fails the commitments. */
    fk_escrow_share bad = S[0];
    bad.index = 2;
    assert_int_equal(fk_escrow_share_verify(A, &bad), FK_ERR_INVALID);
    bad = S[0];
    bad.secret[0] ^= 1;
    assert_int_equal(fk_escrow_share_verify(A, &bad), FK_ERR_INVALID);
    bad = S[0];
    bad.authority_id[5] ^= 1;
    assert_int_equal(fk_escrow_share_verify(A, &bad), FK_ERR_INVALID);
    bad = S[0];
    bad.index = 6;
    assert_int_equal(fk_escrow_share_verify(A, &bad), FK_ERR_INVALID);
    fk_escrow_share_clear(&bad, 1);
}

static void test_dealer_params(void **state)
{
    fk_escrow_authority *a = calloc(1, sizeof *a);
    fk_escrow_share *sh;
    char name[80];

    (void)state;
    assert_non_null(a);
    assert_int_equal(fk_escrow_share_alloc(&sh, FK_ESCROW_MAX_SHARES), FK_OK);
    assert_int_equal(fk_escrow_dealer(a, sh, "x", 4, 3, TEST_POLICY, sizeof TEST_POLICY - 1), FK_ERR_INVALID);  /* t > n */
    assert_int_equal(fk_escrow_dealer(a, sh, "x", 0, 3, TEST_POLICY, sizeof TEST_POLICY - 1), FK_ERR_INVALID);  /* t < 1 */
    assert_int_equal(fk_escrow_dealer(a, sh, "x", 2, 256, TEST_POLICY, sizeof TEST_POLICY - 1), FK_ERR_LIMIT);  /* n > max */
    assert_int_equal(fk_escrow_dealer(a, sh, "", 1, 1, TEST_POLICY, sizeof TEST_POLICY - 1), FK_ERR_INVALID);
    assert_int_equal(fk_escrow_dealer(a, sh, "a b", 1, 1, TEST_POLICY, sizeof TEST_POLICY - 1), FK_ERR_INVALID);
    memset(name, 'n', sizeof name);
    name[FK_ESCROW_NAME_MAX + 1] = '\0';
    assert_int_equal(fk_escrow_dealer(a, sh, name, 1, 1, TEST_POLICY, sizeof TEST_POLICY - 1), FK_ERR_INVALID); /* 65 chars */
    name[FK_ESCROW_NAME_MAX] = '\0';
    assert_int_equal(fk_escrow_dealer(a, sh, name, 1, 1, TEST_POLICY, sizeof TEST_POLICY - 1), FK_OK);           /* 64 chars */
    /* The largest authority: n = 255, and its file round-trips. */
    assert_int_equal(fk_escrow_dealer(a, sh, "big", 2, FK_ESCROW_MAX_SHARES, TEST_POLICY, sizeof TEST_POLICY - 1), FK_OK);
    char *text = malloc(FK_ESCROW_AUTHORITY_TEXT_MAX);
    size_t len;
    fk_escrow_authority *b = calloc(1, sizeof *b);
    assert_non_null(text);
    assert_non_null(b);
    assert_int_equal(fk_escrow_authority_encode(text, FK_ESCROW_AUTHORITY_TEXT_MAX, &len, a), FK_OK);
    assert_int_equal(fk_escrow_authority_parse(b, text, len), FK_OK);
    assert_memory_equal(a, b, sizeof *a);
    assert_int_equal(fk_escrow_share_verify(b, &sh[254]), FK_OK);
    /* The same file claiming 256 shares is one past the limit. */
    char *p = strstr(text, "shares 255\n");
    assert_non_null(p);
    p[9] = '6';
    assert_int_equal(fk_escrow_authority_parse(b, text, len), FK_ERR_LIMIT);
    /* Text one byte past the size limit. */
    char *big = calloc(1, FK_ESCROW_AUTHORITY_TEXT_MAX + 1);
    assert_int_equal(fk_escrow_authority_parse(b, big, FK_ESCROW_AUTHORITY_TEXT_MAX + 1),
                     FK_ERR_LIMIT);
    free(big);
    free(text);
    free(b);
    fk_escrow_share_free(sh, FK_ESCROW_MAX_SHARES);
    free(a);
}

/* ---- file formats ------------------------------------------------------------ */

static char *encode_authority(size_t *len)
{
    char *text = malloc(FK_ESCROW_AUTHORITY_TEXT_MAX);

    assert_non_null(text);
    assert_int_equal(fk_escrow_authority_encode(text, FK_ESCROW_AUTHORITY_TEXT_MAX, len, A), FK_OK);
    return text;
}

/* Replace the first occurrence of from with to in a copy of text. */
static char *edit(const char *text, size_t len, const char *from, const char *to, size_t *outlen)
{
    const char *p = memmem(text, len, from, strlen(from));
    size_t fl = strlen(from), tl = strlen(to);
    char *out;

    assert_non_null(p);
    out = malloc(len - fl + tl + 1);
    assert_non_null(out);
    memcpy(out, text, (size_t)(p - text));
    memcpy(out + (p - text), to, tl);
    memcpy(out + (p - text) + tl, p + fl, len - (size_t)(p - text) - fl);
    *outlen = len - fl + tl;
    out[*outlen] = '\0';
    return out;
}

static void expect_authority(const char *text, size_t len, const char *from, const char *to,
                             fk_err want)
{
    fk_escrow_authority *b = calloc(1, sizeof *b);
    size_t n;
    char *t = edit(text, len, from, to, &n);

    assert_int_equal(fk_escrow_authority_parse(b, t, n), want);
    free(t);
    free(b);
}

static void test_authority_file(void **state)
{
    fk_escrow_authority *b = calloc(1, sizeof *b);
    size_t len;
    char *text = encode_authority(&len), small[64], hexid[FK_ESCROW_ID_HEX_LEN];
    char line[128];

    (void)state;
    assert_int_equal(strncmp(text, "fairkey authority v2\nname test-authority\nthreshold 3\n"
                                   "shares 5\nrecipient age1fairkey1",
                             strlen("fairkey authority v2\nname test-authority\nthreshold 3\n"
                                    "shares 5\nrecipient age1fairkey1")),
                     0);
    assert_int_equal(fk_escrow_authority_parse(b, text, len), FK_OK);
    assert_memory_equal(b, A, sizeof *A);
    assert_int_equal(fk_escrow_authority_encode(small, sizeof small, &len, A), FK_ERR_LIMIT);
    len = strlen(text);

    /* Every non-canonical variant is refused. */
    expect_authority(text, len, "threshold 3", "threshold 03", FK_ERR_INVALID);
    expect_authority(text, len, "threshold 3", "threshold  3", FK_ERR_INVALID);
    expect_authority(text, len, "threshold 3", "threshold 6", FK_ERR_INVALID); /* t > n */
    expect_authority(text, len, "threshold 3", "threshold 0", FK_ERR_INVALID);
    expect_authority(text, len, "threshold 3", "threshold 256", FK_ERR_LIMIT);
    expect_authority(text, len, "shares 5", "shares 256", FK_ERR_LIMIT);
    expect_authority(text, len, "name test-authority", "name test authority", FK_ERR_INVALID);
    expect_authority(text, len, "fairkey authority v2\n", "fairkey authority v1\n",
                     FK_ERR_INVALID);
    expect_authority(text, len, "fairkey authority v2\n", "fairkey authority v3\n",
                     FK_ERR_INVALID);
    expect_authority(text, len, "\nshares", "\r\nshares", FK_ERR_INVALID);
    expect_authority(text, len, "commitment 0 ", "commitment 1 ", FK_ERR_INVALID);
    expect_authority(text, len, "share-key 2 ", "share-key 02 ", FK_ERR_INVALID);
    expect_authority(text, len, "recipient age1fairkey1", "recipient AGE1FAIRKEY1",
                     FK_ERR_INVALID);
    fk_escrow_id_hex(hexid, A->id);
    snprintf(line, sizeof line, "id %s", hexid);
    for (char *c = line + 3; *c; c++)
        if (*c >= 'a' && *c <= 'f') {
            char up[128];
            strcpy(up, line);
            up[c - line] = (char)(*c - 32);
            expect_authority(text, len, line, up, FK_ERR_INVALID); /* uppercase hex */
            break;
        }
    {
        char other[128];
        strcpy(other, line);
        other[3] = other[3] == '0' ? '1' : '0';
        expect_authority(text, len, line, other, FK_ERR_INVALID); /* wrong id */
    }
    /* A share key that is not what the commitments give (swap two lines). */
    {
        char k2[80], k3[80], *p2, *p3, *t;
        size_t n;
        p2 = strstr(text, "share-key 2 ");
        p3 = strstr(text, "share-key 3 ");
        memcpy(k2, p2 + 12, 43);
        k2[43] = '\0';
        memcpy(k3, p3 + 12, 43);
        k3[43] = '\0';
        t = edit(text, len, k2, k3, &n);
        assert_int_equal(fk_escrow_authority_parse(b, t, n), FK_ERR_INVALID);
        free(t);
    }
    /* Missing final newline, trailing data, truncation. */
    assert_int_equal(fk_escrow_authority_parse(b, text, len - 1), FK_ERR_INVALID);
    {
        char *t = malloc(len + 2);
        memcpy(t, text, len);
        t[len] = '\n';
        assert_int_equal(fk_escrow_authority_parse(b, t, len + 1), FK_ERR_INVALID);
        free(t);
    }
    assert_int_equal(fk_escrow_authority_parse(b, text, len / 2), FK_ERR_INVALID);
    free(text);
    free(b);
}

static void test_share_file(void **state)
{
    char text[FK_ESCROW_SHARE_TEXT_MAX], b64[64], *t;
    size_t len, n;
    fk_escrow_share got;

    (void)state;
    assert_int_equal(fk_escrow_share_encode(text, sizeof text, &len, &S[2]), FK_OK);
    assert_int_equal(strncmp(text, "fairkey share v1\nauthority ", 27), 0);
    assert_int_equal(fk_escrow_share_parse(&got, text, len), FK_OK);
    assert_memory_equal(&got, &S[2], sizeof got);
    assert_int_equal(fk_escrow_share_encode(text, 20, &len, &S[2]), FK_ERR_LIMIT);
    assert_int_equal(fk_escrow_share_encode(text, sizeof text, &len, &S[2]), FK_OK);

    t = edit(text, len, "index 3", "index 256", &n);
    assert_int_equal(fk_escrow_share_parse(&got, t, n), FK_ERR_LIMIT);
    free(t);
    t = edit(text, len, "index 3", "index 255", &n);
    assert_int_equal(fk_escrow_share_parse(&got, t, n), FK_OK); /* parses; verify says no */
    assert_int_equal(fk_escrow_share_verify(A, &got), FK_ERR_INVALID);
    free(t);
    t = edit(text, len, "index 3", "index 0", &n);
    assert_int_equal(fk_escrow_share_parse(&got, t, n), FK_ERR_INVALID);
    free(t);
    /* Non-canonical scalar (L) and zero are refused. */
    static const uint8_t l[32] = {
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
        0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    };
    char *sec = strstr(text, "secret ") + 7, orig[64];
    memcpy(orig, sec, 43);
    orig[43] = '\0';
    fk_b64_encode(b64, l, 32);
    t = edit(text, len, orig, b64, &n);
    assert_int_equal(fk_escrow_share_parse(&got, t, n), FK_ERR_INVALID);
    free(t);
    uint8_t zero[32] = { 0 };
    fk_b64_encode(b64, zero, 32);
    t = edit(text, len, orig, b64, &n);
    assert_int_equal(fk_escrow_share_parse(&got, t, n), FK_ERR_INVALID);
    free(t);
    assert_int_equal(fk_escrow_share_parse(&got, text, len - 1), FK_ERR_INVALID);
    assert_int_equal(fk_escrow_share_parse(&got, text, FK_ESCROW_SHARE_TEXT_MAX + 1),
                     FK_ERR_LIMIT);
    fk_wipe(text, sizeof text);
    fk_escrow_share_clear(&got, 1);
}

/* ---- recipient and stanza ----------------------------------------------------- */

static void test_recipient(void **state)
{
    char s[FK_ESCROW_RECIPIENT_STR_MAX], up[FK_ESCROW_RECIPIENT_STR_MAX];
    uint8_t pk[32], zero[32] = { 0 }, k[16];
    fk_recipient *r;
    fk_stanza a, b;

    (void)state;
    assert_int_equal(fk_escrow_recipient_encode(s, A->pk), FK_OK);
    assert_int_equal(strncmp(s, "age1fairkey1", 12), 0);
    assert_int_equal(fk_escrow_recipient_decode(pk, s), FK_OK);
    assert_memory_equal(pk, A->pk, 32);
    for (size_t i = 0; i <= strlen(s); i++)
        up[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    assert_int_equal(fk_escrow_recipient_decode(pk, up), FK_OK);
    up[3] = 'e'; /* mixed case */
    assert_int_equal(fk_escrow_recipient_decode(pk, up), FK_ERR_INVALID);
    s[strlen(s) - 1] ^= 1; /* checksum */
    assert_int_equal(fk_escrow_recipient_decode(pk, s), FK_ERR_INVALID);
    assert_int_equal(fk_bech32_encode(s, sizeof s, "age1other", A->pk, 32), FK_OK);
    assert_int_equal(fk_escrow_recipient_decode(pk, s), FK_ERR_INVALID);
    assert_int_equal(fk_escrow_recipient_encode(s, zero), FK_OK); /* identity: refused */
    assert_int_equal(fk_escrow_recipient_decode(pk, s), FK_ERR_INVALID);
    assert_int_equal(fk_escrow_recipient_new(&r, zero), FK_ERR_INVALID);

    /* The recipient's wrap is the stanza maker, deterministic in (PK, k). */
    assert_int_equal(fk_escrow_recipient_encode(s, A->pk), FK_OK);
    assert_int_equal(fk_escrow_recipient_parse(&r, s), FK_OK);
    random_key(k);
    assert_int_equal(r->ops->wrap(r, k, &a), FK_OK);
    assert_int_equal(fk_escrow_stanza_make(&b, A->pk, k), FK_OK);
    assert_int_equal(a.nargs, 4);
    assert_string_equal(a.args[0], FK_ESCROW_STANZA_TYPE);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(a.args[i], b.args[i]);
    assert_int_equal(a.body_len, FK_ESCROW_BODY_LEN);
    assert_memory_equal(a.body, b.body, FK_ESCROW_BODY_LEN);
    fk_stanza_clear(&a);
    fk_stanza_clear(&b);
    fk_recipient_free(r);
}

/* A header of given stanzas (no MAC: fk_escrow_check_header does not look). */
static void header_of(fk_header *h, fk_stanza *st, size_t n)
{
    memset(h, 0, sizeof *h);
    h->stanzas = st;
    h->nstanzas = n;
}

static void init_other(fk_stanza *s)
{
    const char *args[2] = { "X25519", "CJM36AHmTbdHSuOQL+NESqyVQE75f2e610iRdLPEN20" };
    uint8_t body[32] = { 1, 2, 3 };

    assert_int_equal(fk_stanza_init(s, args, 2, body, 32), FK_OK);
}

static void test_check_header(void **state)
{
    uint8_t k[16], k2[16], req[2][32];
    fk_escrow_check_ctx c;
    fk_stanza st[3], forged;
    fk_header h;
    char e2[64];

    (void)state;
    random_key(k);
    random_key(k2);
    init_other(&st[0]);
    assert_int_equal(fk_escrow_stanza_make(&st[1], A->pk, k), FK_OK);
    header_of(&h, st, 2);

    fk_escrow_check_init(&c, NULL, 0, 0, 0);
    assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_OK);
    assert_int_equal(c.nescrow, 1);
    assert_int_equal(c.nverified, 1);
    assert_int_equal(c.nfailed, 0);
    assert_int_equal(c.nresults, 1);
    assert_int_equal(c.results[0].stanza_index, 1);
    assert_memory_equal(c.results[0].pk, A->pk, 32);

    /* Required authority present / absent. */
    memcpy(req[0], A->pk, 32);
    fki_mul_base(req[1], S[0].secret); /* some other key */
    fk_escrow_check_init(&c, (const uint8_t(*)[32])req, 1, 1, 0);
    assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_OK);
    fk_escrow_check_init(&c, (const uint8_t(*)[32])req, 2, 1, 0);
    assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_ERR_ESCROW);
    assert_int_equal(c.nmissing, 1);
    fk_escrow_check_init(&c, (const uint8_t(*)[32])req, 2, 1, 1); /* warn only */
    assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_OK);
    assert_int_equal(c.nmissing, 1);

    /* A header without escrow: fine unless required. */
    header_of(&h, st, 1);
    fk_escrow_check_init(&c, NULL, 0, 0, 0);
    assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_OK);
    assert_int_equal(c.nescrow, 0);
    fk_escrow_check_init(&c, NULL, 0, 1, 0);
    assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_ERR_ESCROW);

    /* Forged: the stanza for another file key (right shape, wrong E/body). */
    assert_int_equal(fk_escrow_stanza_make(&st[2], A->pk, k2), FK_OK);
    st[0].nargs = st[0].nargs; /* keep */
    fk_stanza tmp = st[1];
    st[1] = st[2];
    header_of(&h, st, 2);
    fk_escrow_check_init(&c, NULL, 0, 0, 0);
    assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_ERR_ESCROW);
    assert_int_equal(c.nfailed, 1);
    assert_int_equal(c.results[0].err, FK_ERR_ESCROW);
    fk_escrow_check_init(&c, NULL, 0, 0, 1);
    assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_OK);
    assert_int_equal(c.nfailed, 1);
    st[1] = tmp;

    /* Forged: right body, E of another key. */
    {
        const char *args[4] = { st[1].args[0], st[1].args[1], st[2].args[2], st[1].args[3] };
        assert_int_equal(fk_stanza_init(&forged, args, 4, st[1].body, FK_ESCROW_BODY_LEN), FK_OK);
        fk_stanza both[2] = { st[0], forged };
        header_of(&h, both, 2);
        fk_escrow_check_init(&c, NULL, 0, 0, 0);
        assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_ERR_ESCROW);
        fk_stanza_clear(&forged);
    }
    /* Forged: right E, body of another key; one flipped body bit. */
    {
        const char *args[4] = { st[1].args[0], st[1].args[1], st[1].args[2], st[1].args[3] };
        assert_int_equal(fk_stanza_init(&forged, args, 4, st[2].body, FK_ESCROW_BODY_LEN), FK_OK);
        fk_stanza both[2] = { st[0], forged };
        header_of(&h, both, 2);
        fk_escrow_check_init(&c, NULL, 0, 0, 0);
        assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_ERR_ESCROW);
        forged.body[0] = st[1].body[0];
        memcpy(forged.body, st[1].body, FK_ESCROW_BODY_LEN);
        forged.body[31] ^= 0x80;
        both[1] = forged;
        assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_ERR_ESCROW);
        fk_stanza_clear(&forged);
    }
    /* Malformed escrow stanzas: missing argument, identity E, non-canonical
     * base64 (last char with non-zero unused bits), short body. */
    {
        uint8_t zero[32] = { 0 };
        fk_b64_encode(e2, zero, 32);
        const char *a2[3] = { FK_ESCROW_STANZA_TYPE, st[1].args[1], st[1].args[2] };
        const char *a3[4] = { FK_ESCROW_STANZA_TYPE, st[1].args[1], e2, st[1].args[3] };
        char nc[64];
        strcpy(nc, st[1].args[2]);
        nc[42] = nc[42] == 'A' ? 'B' : (char)(nc[42] ^ 1);
        const char *a4[4] = { FK_ESCROW_STANZA_TYPE, st[1].args[1], nc, st[1].args[3] };
        /* the retired v1 type, as it was written: never ignored */
        const char *a5[3] = { FK_ESCROW_STANZA_TYPE_RETIRED, st[1].args[1], st[1].args[2] };
        uint8_t ncs[FK_ESCROW_BODY_LEN];
        memcpy(ncs, st[1].body, sizeof ncs);
        memset(ncs + FK_ESCROW_BODY_LEN - 32, 0xff, 32); /* proof s >= L */
        fk_stanza bad[6];
        assert_int_equal(fk_stanza_init(&bad[0], a2, 3, st[1].body, FK_ESCROW_BODY_LEN), FK_OK);
        assert_int_equal(fk_stanza_init(&bad[1], a3, 4, st[1].body, FK_ESCROW_BODY_LEN), FK_OK);
        assert_int_equal(fk_stanza_init(&bad[2], a4, 4, st[1].body, FK_ESCROW_BODY_LEN), FK_OK);
        assert_int_equal(fk_stanza_init(&bad[3], (const char *const *)st[1].args, 4, st[1].body,
                                        FK_ESCROW_BODY_LEN - 1),
                         FK_OK);
        assert_int_equal(fk_stanza_init(&bad[4], a5, 3, st[1].body, FK_ESCROW_WRAP_LEN), FK_OK);
        assert_int_equal(fk_stanza_init(&bad[5], (const char *const *)st[1].args, 4, ncs,
                                        FK_ESCROW_BODY_LEN),
                         FK_OK);
        for (int i = 0; i < 6; i++) {
            fk_escrow_stanza_info info;
            assert_int_equal(fk_escrow_stanza_parse(&info, &bad[i]), FK_ERR_ESCROW);
            fk_stanza both[2] = { st[1], bad[i] };
            header_of(&h, both, 2);
            fk_escrow_check_init(&c, NULL, 0, 0, 0);
            assert_int_equal(fk_escrow_check_header(&c, &h, k), FK_ERR_ESCROW);
            assert_int_equal(c.nverified, 1);
            assert_int_equal(c.nfailed, 1);
            fk_stanza_clear(&bad[i]);
        }
    }
    /* header_list / header_find */
    {
        fk_escrow_stanza_info list[4], one;
        size_t count;
        header_of(&h, st, 3);
        assert_int_equal(fk_escrow_header_list(&h, list, 4, &count), FK_OK);
        assert_int_equal(count, 2);
        assert_int_equal(list[0].stanza_index, 1);
        assert_int_equal(list[1].stanza_index, 2);
        assert_int_equal(fk_escrow_header_list(&h, list, 1, &count), FK_OK);
        assert_int_equal(count, 2);
        /* Two stanzas for one authority: ambiguous. */
        assert_int_equal(fk_escrow_header_find(&h, A->pk, &one), FK_ERR_ESCROW);
        header_of(&h, st, 2);
        assert_int_equal(fk_escrow_header_find(&h, A->pk, &one), FK_OK);
        assert_int_equal(one.stanza_index, 1);
        assert_int_equal(fk_escrow_header_find(&h, req[1], &one), FK_ERR_NOT_FOUND);
    }
    for (int i = 0; i < 3; i++)
        fk_stanza_clear(&st[i]);
}

/* ---- the validity proof: agents are not an s*X oracle ----------------------- */

/* A target an agent would be asked to multiply: the victim's stanza with E
 * (and Ebar) replaced, the wrapped key and proof left as they were. */
static fk_err verify_variant(const fk_escrow_stanza_info *orig, const uint8_t e[32],
                             const uint8_t ebar[32])
{
    fk_escrow_stanza_info v = *orig;

    memcpy(v.e, e, 32);
    memcpy(v.ebar, ebar, 32);
    return fk_escrow_stanza_verify(&v);
}

static void test_validity_proof(void **state)
{
    fk_escrow_stanza_info st, other, v;
    uint8_t k[16], c[32], x[32], xb[32], one[32], neg[32], e2[32], eb2[32], g[32], xg[32];
    fk_stanza raw;

    (void)state;
    random_key(k);
    make_stanza_info(&st, A->pk, k);
    assert_int_equal(fk_escrow_stanza_verify(&st), FK_OK);

    /* The second generator, rebuilt here: Ebar = r*G for the same r. */
    {
        uint8_t u[64];
        const char dst[] = "fairkey/v2 escrow generator";
        fki_buf in[1] = { { A->pk, 32 } };
        assert_int_equal(fki_xmd_sha512(u, 64, dst, sizeof dst - 1, in, 1), FK_OK);
        assert_int_equal(crypto_core_ristretto255_from_hash(g, u), 0);
    }

    /* Multiplicative blinding: c*E (with c*Ebar too, as a careful forger would). */
    crypto_core_ristretto255_scalar_random(c);
    assert_int_equal(fki_mul(e2, c, st.e), FK_OK);
    assert_int_equal(fki_mul(eb2, c, st.ebar), FK_OK);
    assert_int_equal(verify_variant(&st, e2, st.ebar), FK_ERR_PROOF);
    assert_int_equal(verify_variant(&st, e2, eb2), FK_ERR_PROOF);

    /* Additive blinding: E + x*B (and Ebar + x*G). */
    crypto_core_ristretto255_scalar_random(x);
    assert_int_equal(fki_mul_base(xb, x), FK_OK);
    assert_int_equal(fki_mul(xg, x, g), FK_OK);
    assert_int_equal(fki_add(e2, st.e, xb), FK_OK);
    assert_int_equal(fki_add(eb2, st.ebar, xg), FK_OK);
    assert_int_equal(verify_variant(&st, e2, st.ebar), FK_ERR_PROOF);
    assert_int_equal(verify_variant(&st, e2, eb2), FK_ERR_PROOF);

    /* Negation: -E (and -Ebar). */
    fki_scalar_from_uint(one, 1);
    crypto_core_ristretto255_scalar_negate(neg, one);
    assert_int_equal(fki_mul(e2, neg, st.e), FK_OK);
    assert_int_equal(fki_mul(eb2, neg, st.ebar), FK_OK);
    assert_int_equal(verify_variant(&st, e2, st.ebar), FK_ERR_PROOF);
    assert_int_equal(verify_variant(&st, e2, eb2), FK_ERR_PROOF);

    /* A point in no file, x*B, with the victim's proof. */
    assert_int_equal(verify_variant(&st, xb, xg), FK_ERR_PROOF);

    /* Ebar alone changed. */
    assert_int_equal(verify_variant(&st, st.e, eb2), FK_ERR_PROOF);

    /* The wrapped key changed, the proof left as it was. */
    v = st;
    v.body[0] ^= 1;
    assert_int_equal(fk_escrow_stanza_verify(&v), FK_ERR_PROOF);
    /* A proof byte changed. */
    v = st;
    v.body[FK_ESCROW_WRAP_LEN] ^= 1;
    assert_int_equal(fk_escrow_stanza_verify(&v), FK_ERR_PROOF);
    /* Another authority's PK: the proof does not carry over. */
    v = st;
    assert_int_equal(fki_mul_base(v.pk, S[0].secret), FK_OK);
    assert_int_equal(fk_escrow_stanza_verify(&v), FK_ERR_PROOF);
    /* Another file's proof and wrapped key on this E. */
    random_key(k);
    make_stanza_info(&other, A->pk, k);
    v = st;
    memcpy(v.body, other.body, FK_ESCROW_BODY_LEN);
    assert_int_equal(fk_escrow_stanza_verify(&v), FK_ERR_PROOF);
    /* A non-canonical proof scalar or an identity point: invalid, not proof. */
    v = st;
    memset(v.body + FK_ESCROW_WRAP_LEN + 32, 0xff, 32);
    assert_int_equal(fk_escrow_stanza_verify(&v), FK_ERR_INVALID);
    v = st;
    memset(v.ebar, 0, 32);
    assert_int_equal(fk_escrow_stanza_verify(&v), FK_ERR_INVALID);

    /* Deterministic: the same (PK, k) writes the same bytes. */
    assert_int_equal(fk_escrow_stanza_make(&raw, A->pk, k), FK_OK);
    assert_int_equal(fk_escrow_stanza_parse(&v, &raw), FK_OK);
    assert_memory_equal(v.body, other.body, FK_ESCROW_BODY_LEN);
    assert_memory_equal(v.ebar, other.ebar, 32);
    fk_stanza_clear(&raw);
}

/* ---- partials, combination, recovery --------------------------------------- */

static void all_partials(fk_escrow_partial p[5], const uint8_t e[32])
{
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(fk_escrow_partial_decrypt(&p[i], A, &S[i], e, ctx_hash, 32), FK_OK);
        assert_int_equal(p[i].index, i + 1);
        assert_int_equal(fk_escrow_partial_verify(A, &p[i], e, ctx_hash, 32), FK_OK);
    }
}

static void test_threshold_subsets(void **state)
{
    fk_escrow_stanza_info st;
    fk_escrow_partial p[5], sub[5];
    uint8_t k[16], got[16], z[32];
    unsigned nt = 0, nfail = 0;

    (void)state;
    random_key(k);
    make_stanza_info(&st, A->pk, k);
    all_partials(p, st.e);

    /* Every subset of size t..n recovers; every smaller subset fails. */
    for (unsigned mask = 1; mask < 32; mask++) {
        size_t m = 0;
        for (unsigned i = 0; i < 5; i++)
            if (mask >> i & 1)
                sub[m++] = p[i];
        fk_err err = fk_escrow_combine(z, A, sub, m);
        if (m >= 3) {
            assert_int_equal(err, FK_OK);
            memset(got, 0, 16);
            assert_int_equal(fk_escrow_open(got, &st, z), FK_OK);
            assert_memory_equal(got, k, 16);
            nt++;
        } else {
            assert_int_equal(err, FK_ERR_POLICY);
            /* Even interpolating them as if t were m gives the wrong Z. */
            fk_escrow_authority *lo = malloc(sizeof *lo);
            memcpy(lo, A, sizeof *lo);
            lo->t = (unsigned)m;
            assert_int_equal(fk_escrow_combine(z, lo, sub, m), FK_OK);
            assert_int_equal(fk_escrow_open(got, &st, z), FK_ERR_ESCROW);
            free(lo);
            nfail++;
        }
    }
    assert_int_equal(nt, 16);   /* 10 + 5 + 1 */
    assert_int_equal(nfail, 15); /* 5 + 10 */

    /* Duplicates refused, even past the first t. */
    sub[0] = p[0];
    sub[1] = p[1];
    sub[2] = p[0];
    assert_int_equal(fk_escrow_combine(z, A, sub, 3), FK_ERR_INVALID);
    sub[2] = p[2];
    sub[3] = p[1];
    assert_int_equal(fk_escrow_combine(z, A, sub, 4), FK_ERR_INVALID);
    fk_wipe(z, sizeof z);
}

static void test_tamper(void **state)
{
    fk_escrow_stanza_info st, t;
    fk_escrow_partial p[5], q;
    uint8_t k[16], got[16], z[32], other[32];

    (void)state;
    random_key(k);
    make_stanza_info(&st, A->pk, k);
    all_partials(p, st.e);
    assert_int_equal(fk_escrow_combine(z, A, p, 3), FK_OK);
    assert_int_equal(fk_escrow_open(got, &st, z), FK_OK);

    fki_mul_base(other, S[4].secret); /* some valid point */

    /* Tampered E, body, PK: the stanza does not open or recompute. */
    t = st;
    memcpy(t.e, other, 32);
    assert_int_equal(fk_escrow_open(got, &t, z), FK_ERR_ESCROW);
    t = st;
    t.body[7] ^= 1;
    assert_int_equal(fk_escrow_open(got, &t, z), FK_ERR_ESCROW);
    t = st;
    memcpy(t.pk, other, 32);
    assert_int_equal(fk_escrow_open(got, &t, z), FK_ERR_ESCROW);

    /* Tampered proof (c or s), D_i, index, E, or context: the proof fails. */
    for (size_t b = 0; b < 64; b += 9) {
        q = p[0];
        q.proof[b] ^= 0x01;
        fk_err e = fk_escrow_partial_verify(A, &q, st.e, ctx_hash, 32);
        assert_true(e == FK_ERR_PROOF || e == FK_ERR_INVALID);
    }
    q = p[0];
    memcpy(q.d, other, 32);
    assert_int_equal(fk_escrow_partial_verify(A, &q, st.e, ctx_hash, 32), FK_ERR_PROOF);
    q = p[0];
    q.index = 2;
    assert_int_equal(fk_escrow_partial_verify(A, &q, st.e, ctx_hash, 32), FK_ERR_PROOF);
    assert_int_equal(fk_escrow_partial_verify(A, &p[0], other, ctx_hash, 32), FK_ERR_PROOF);
    assert_int_equal(fk_escrow_partial_verify(A, &p[0], st.e, ctx_hash, 31), FK_ERR_PROOF);
    assert_int_equal(fk_escrow_partial_verify(A, &p[0], st.e, NULL, 0), FK_ERR_PROOF);
    /* Identity D_i, identity E, index out of range. */
    q = p[0];
    memset(q.d, 0, 32);
    assert_int_equal(fk_escrow_partial_verify(A, &q, st.e, ctx_hash, 32), FK_ERR_INVALID);
    uint8_t zero[32] = { 0 };
    assert_int_equal(fk_escrow_partial_verify(A, &p[0], zero, ctx_hash, 32), FK_ERR_INVALID);
    assert_int_equal(fk_escrow_partial_decrypt(&q, A, &S[0], zero, ctx_hash, 32), FK_ERR_INVALID);
    q = p[0];
    q.index = 6;
    assert_int_equal(fk_escrow_partial_verify(A, &q, st.e, ctx_hash, 32), FK_ERR_INVALID);
    q.index = 0;
    assert_int_equal(fk_escrow_partial_verify(A, &q, st.e, ctx_hash, 32), FK_ERR_INVALID);
    /* A tampered D_i that is still a valid point gives the wrong Z. */
    q = p[1];
    memcpy(p[1].d, other, 32);
    assert_int_equal(fk_escrow_combine(z, A, p, 3), FK_OK);
    assert_int_equal(fk_escrow_open(got, &st, z), FK_ERR_ESCROW);
    p[1] = q;

    /* Context limit: 1024 bytes accepted, 1025 refused. */
    uint8_t *big = calloc(1, FK_ESCROW_CONTEXT_MAX + 1);
    assert_int_equal(fk_escrow_partial_decrypt(&q, A, &S[0], st.e, big, FK_ESCROW_CONTEXT_MAX), FK_OK);
    assert_int_equal(fk_escrow_partial_verify(A, &q, st.e, big, FK_ESCROW_CONTEXT_MAX), FK_OK);
    assert_int_equal(fk_escrow_partial_decrypt(&q, A, &S[0], st.e, big, FK_ESCROW_CONTEXT_MAX + 1),
                     FK_ERR_LIMIT);
    assert_int_equal(fk_escrow_partial_verify(A, &q, st.e, big, FK_ESCROW_CONTEXT_MAX + 1),
                     FK_ERR_LIMIT);
    free(big);
    /* A share of another authority is refused by the prover. */
    fk_escrow_share bad = S[0];
    bad.authority_id[0] ^= 1;
    assert_int_equal(fk_escrow_partial_decrypt(&q, A, &bad, st.e, NULL, 0), FK_ERR_INVALID);
    bad = S[0];
    bad.index = 2;
    assert_int_equal(fk_escrow_partial_decrypt(&q, A, &bad, st.e, NULL, 0), FK_ERR_INVALID);
    fk_escrow_share_clear(&bad, 1);
    fk_wipe(z, sizeof z);
}

static void test_partial_encoding(void **state)
{
    fk_escrow_stanza_info st;
    fk_escrow_partial p, q;
    uint8_t k[16], buf[FK_ESCROW_PARTIAL_LEN], bad[FK_ESCROW_PARTIAL_LEN];
    static const uint8_t l[32] = {
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
        0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    };

    (void)state;
    random_key(k);
    make_stanza_info(&st, A->pk, k);
    assert_int_equal(fk_escrow_partial_decrypt(&p, A, &S[3], st.e, ctx_hash, 32), FK_OK);
    fk_escrow_partial_encode(buf, &p);
    assert_int_equal(buf[0], 0);
    assert_int_equal(buf[1], 4);
    assert_int_equal(fk_escrow_partial_decode(&q, buf), FK_OK);
    assert_memory_equal(&q, &p, sizeof p);
    assert_int_equal(fk_escrow_partial_verify(A, &q, st.e, ctx_hash, 32), FK_OK);

    memcpy(bad, buf, sizeof bad);
    bad[1] = 0;
    assert_int_equal(fk_escrow_partial_decode(&q, bad), FK_ERR_INVALID); /* index 0 */
    bad[0] = 1;
    assert_int_equal(fk_escrow_partial_decode(&q, bad), FK_ERR_INVALID); /* index 256 */
    bad[0] = 0;
    bad[1] = 255;
    assert_int_equal(fk_escrow_partial_decode(&q, bad), FK_OK);          /* index 255 */
    memcpy(bad, buf, sizeof bad);
    memset(bad + 2, 0, 32);
    assert_int_equal(fk_escrow_partial_decode(&q, bad), FK_ERR_INVALID); /* identity D */
    memcpy(bad, buf, sizeof bad);
    memset(bad + 2, 0xff, 32);
    assert_int_equal(fk_escrow_partial_decode(&q, bad), FK_ERR_INVALID); /* invalid D */
    memcpy(bad, buf, sizeof bad);
    memcpy(bad + 34, l, 32);
    assert_int_equal(fk_escrow_partial_decode(&q, bad), FK_ERR_INVALID); /* c = L */
    memcpy(bad, buf, sizeof bad);
    memcpy(bad + 66, l, 32);
    assert_int_equal(fk_escrow_partial_decode(&q, bad), FK_ERR_INVALID); /* s = L */
    /* A proof with s replaced by s + L (same value mod L) is refused. */
    q = p;
    memcpy(q.proof + 32, l, 32);
    assert_int_equal(fk_escrow_partial_verify(A, &q, st.e, ctx_hash, 32), FK_ERR_INVALID);
}

static void test_deterministic_nonce(void **state)
{
    fk_escrow_stanza_info st;
    fk_escrow_partial p1, p2, p3;
    uint8_t k[16], r[32];

    (void)state;
    random_key(k);
    make_stanza_info(&st, A->pk, k);
    assert_int_equal(fki_scalar_random(r), FK_OK);
    assert_int_equal(fki_escrow_partial_with_nonce(&p1, A, &S[1], st.e, ctx_hash, 32, r), FK_OK);
    assert_int_equal(fki_escrow_partial_with_nonce(&p2, A, &S[1], st.e, ctx_hash, 32, r), FK_OK);
    assert_memory_equal(&p1, &p2, sizeof p1);
    /* The hedged nonce differs on every call; both proofs verify. */
    assert_int_equal(fk_escrow_partial_decrypt(&p1, A, &S[1], st.e, ctx_hash, 32), FK_OK);
    assert_int_equal(fk_escrow_partial_decrypt(&p3, A, &S[1], st.e, ctx_hash, 32), FK_OK);
    assert_memory_equal(p1.d, p3.d, 32);
    assert_memory_not_equal(p1.proof, p3.proof, 64);
    assert_int_equal(fk_escrow_partial_verify(A, &p3, st.e, ctx_hash, 32), FK_OK);
}

static void test_recover_header(void **state)
{
    fk_stanza st[2];
    fk_header h;
    fk_escrow_stanza_info info;
    fk_escrow_partial p[5];
    uint8_t k[16], got[16];
    size_t alen;
    char *atext = encode_authority(&alen);
    char stext[5][FK_ESCROW_SHARE_TEXT_MAX];
    size_t slen[5];

    (void)state;
    random_key(k);
    init_other(&st[0]);
    assert_int_equal(fk_escrow_stanza_make(&st[1], A->pk, k), FK_OK);
    assert_int_equal(fk_header_build(&h, st, 2, k), FK_OK);
    assert_int_equal(fk_escrow_header_find(&h, A->pk, &info), FK_OK);
    all_partials(p, info.e);

    memset(got, 0, 16);
    assert_int_equal(fk_escrow_recover(got, A, &h, p + 2, 3, ctx_hash, 32), FK_OK);
    assert_memory_equal(got, k, 16);
    assert_int_equal(fk_escrow_recover(got, A, &h, p, 2, ctx_hash, 32), FK_ERR_POLICY);
    assert_int_equal(fk_escrow_recover(got, A, &h, p, 3, ctx_hash, 31), FK_ERR_PROOF);
    fk_escrow_partial q[3] = { p[0], p[1], p[2] };
    q[1].proof[0] ^= 1;
    assert_int_not_equal(fk_escrow_recover(got, A, &h, q, 3, ctx_hash, 32), FK_OK);

    /* With the shares themselves, and from the file texts. */
    memset(got, 0, 16);
    assert_int_equal(fk_escrow_recover_with_shares(got, A, S + 1, 3, &h), FK_OK);
    assert_memory_equal(got, k, 16);
    assert_int_equal(fk_escrow_recover_with_shares(got, A, S, 2, &h), FK_ERR_POLICY);
    fk_escrow_share dup[3] = { S[0], S[1], S[0] };
    assert_int_equal(fk_escrow_recover_with_shares(got, A, dup, 3, &h), FK_ERR_INVALID);
    fk_escrow_share_clear(dup, 3);
    const char *texts[5];
    for (int i = 0; i < 5; i++) {
        assert_int_equal(fk_escrow_share_encode(stext[i], sizeof stext[i], &slen[i], &S[i]), FK_OK);
        texts[i] = stext[i];
    }
    memset(got, 0, 16);
    assert_int_equal(fk_escrow_recover_from_files(got, atext, alen, texts + 1, slen + 1, 4, &h),
                     FK_OK);
    assert_memory_equal(got, k, 16);
    assert_int_equal(fk_escrow_recover_from_files(got, atext, alen, texts, slen, 2, &h),
                     FK_ERR_POLICY);

    /* A header whose MAC is not under the recovered key is refused. */
    fk_header h2;
    uint8_t k2[16];
    random_key(k2);
    assert_int_equal(fk_header_build(&h2, st, 2, k2), FK_OK);
    assert_int_equal(fk_escrow_recover(got, A, &h2, p, 3, ctx_hash, 32), FK_ERR_HMAC);
    fk_header_clear(&h2);

    fk_wipe(stext, sizeof stext);
    fk_header_clear(&h);
    fk_stanza_clear(&st[0]);
    fk_stanza_clear(&st[1]);
    free(atext);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dealer),
        cmocka_unit_test(test_dealer_params),
        cmocka_unit_test(test_authority_file),
        cmocka_unit_test(test_share_file),
        cmocka_unit_test(test_recipient),
        cmocka_unit_test(test_check_header),
        cmocka_unit_test(test_validity_proof),
        cmocka_unit_test(test_threshold_subsets),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_partial_encoding),
        cmocka_unit_test(test_deterministic_nonce),
        cmocka_unit_test(test_recover_header),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
