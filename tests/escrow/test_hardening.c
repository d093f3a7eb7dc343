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

/* The log policy test authorities name (the vkey is the tlog-policy
 * example's test log key). */
#define TEST_POLICY                                                                        \
    "log example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx "  \
    "https://log.example.com/\nquorum none\n"

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
    return fk_escrow_dealer(A, S, "hardening", 3, 5, TEST_POLICY, sizeof TEST_POLICY - 1) == FK_OK ? 0 : -1;
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
    assert_int_equal(fk_escrow_dealer(a, sh, name, 1, 1, TEST_POLICY, sizeof TEST_POLICY - 1), FK_OK);
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
    /* The hashed text ends with the policy, each line prefixed "policy ". */
    static const char pol[] =
        "policy log example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx "
        "https://log.example.com/\npolicy quorum none\n";
    assert_true(flen >= sizeof pol - 1);
    assert_memory_equal(text + flen - (sizeof pol - 1), pol, sizeof pol - 1);
    assert_int_equal(strncmp(text, "fairkey authority v2\n", 21), 0);
    free(text);
}

/* ---- the authority's log policy (docs/spec.md 2.1) ------------------------ */

/* Rewrite the id line of an authority text to the SHA-256 of what precedes
 * it (OpenSSL), so that only the other checks can refuse the text. */
static void reid(char *text, size_t len)
{
    static const char dom[] = "fairkey/v1 authority id\n";
    uint8_t h[32];
    unsigned int hl = 0;
    char *idline = memmem(text, len, "\nid ", 4);
    assert_non_null(idline);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_non_null(md);
    assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(md, dom, sizeof dom - 1), 1);
    assert_int_equal(EVP_DigestUpdate(md, text, (size_t)(idline - text) + 1), 1);
    assert_int_equal(EVP_DigestFinal_ex(md, h, &hl), 1);
    EVP_MD_CTX_free(md);
    for (size_t i = 0; i < 32; i++) {
        static const char hx[] = "0123456789abcdef";
        idline[4 + 2 * i] = hx[h[i] >> 4];
        idline[5 + 2 * i] = hx[h[i] & 15];
    }
}

/* A copy of text with from replaced by to, its id recomputed; parsed. */
static fk_err parse_edited(const char *text, size_t len, const char *from, const char *to)
{
    const char *p = memmem(text, len, from, strlen(from));
    size_t fl = strlen(from), tl = strlen(to), n = len - fl + tl;
    char *t = malloc(n + 1);
    fk_escrow_authority *b = calloc(1, sizeof *b);
    assert_non_null(p);
    assert_non_null(t);
    assert_non_null(b);
    memcpy(t, text, (size_t)(p - text));
    memcpy(t + (p - text), to, tl);
    memcpy(t + (p - text) + tl, p + fl, len - (size_t)(p - text) - fl);
    reid(t, n);
    fk_err err = fk_escrow_authority_parse(b, t, n);
    free(t);
    free(b);
    return err;
}

/* An Ed25519 log vkey (signed-note: name+keyid+base64(0x01 || pub)) built
 * from libsodium and OpenSSL, not from the note code. */
static void make_log_vkey(char *out, const char *name)
{
    uint8_t pk[32], sk[64], blob[33], h[32];
    unsigned int hl = 0;
    char b64[64];
    crypto_sign_keypair(pk, sk);
    blob[0] = 0x01;
    memcpy(blob + 1, pk, 32);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_non_null(md);
    assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(md, name, strlen(name)), 1);
    assert_int_equal(EVP_DigestUpdate(md, "\n", 1), 1);
    assert_int_equal(EVP_DigestUpdate(md, blob, 33), 1);
    assert_int_equal(EVP_DigestFinal_ex(md, h, &hl), 1);
    EVP_MD_CTX_free(md);
    EVP_EncodeBlock((unsigned char *)b64, blob, 33);
    sprintf(out, "%s+%02x%02x%02x%02x+%s", name, h[0], h[1], h[2], h[3], b64);
}

/* A canonical policy of exactly want bytes: logs with long URLs, then
 * "quorum none". */
static size_t policy_of_size(char *out, size_t want)
{
    size_t o = 0, left = want - strlen("quorum none\n");
    unsigned i = 0;
    while (left > 0) {
        char vkey[128], name[32];
        snprintf(name, sizeof name, "log%u.example", i++);
        make_log_vkey(vkey, name);
        size_t fixed = strlen("log ") + strlen(vkey) + strlen(" https://x/") + 1;
        size_t url = left - fixed; /* the rest of the path */
        if (url > 480) /* at most 32 logs, 511-byte URLs */
            url = left - fixed > 960 ? 480 : (left - fixed) / 2;
        o += (size_t)sprintf(out + o, "log %s https://x/", vkey);
        memset(out + o, 'p', url);
        o += url;
        out[o++] = '\n';
        left -= fixed + url;
    }
    o += (size_t)sprintf(out + o, "quorum none\n");
    assert_int_equal(o, want);
    return o;
}

/* The id commits to the policy; the policy is canonical, valid
 * tlog-policy, names a log with its URL, and has a size limit (tested at
 * and one past). */
static void test_authority_policy(void **state)
{
    char *text = malloc(FK_ESCROW_AUTHORITY_TEXT_MAX + 1), *pol = malloc(FK_ESCROW_POLICY_MAX + 2);
    fk_escrow_authority *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    fk_escrow_share sh[1];
    uint8_t id[32];
    size_t len, plen;

    (void)state;
    assert_non_null(text);
    assert_non_null(pol);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(fk_escrow_authority_encode(text, FK_ESCROW_AUTHORITY_TEXT_MAX, &len, A), FK_OK);

    /* Another URL or another quorum is another authority id. */
    memcpy(a, A, sizeof *a);
    memcpy(strstr(a->policy, "https://log.example.com/"), "https://log.example.org/", 24);
    assert_int_equal(fki_escrow_authority_id(id, a), FK_OK);
    assert_memory_not_equal(id, A->id, 32);
    assert_int_equal(parse_edited(text, len, "log.example.com/", "log.example.org/"), FK_OK);
    {
        /* Without a new id, the edited file is refused. */
        char *t = malloc(len + 1);
        assert_non_null(t);
        memcpy(t, text, len);
        memcpy(strstr(t, "https://log.example.com/"), "https://log.example.org/", 24);
        assert_int_equal(fk_escrow_authority_parse(b, t, len), FK_ERR_INVALID);
        free(t);
    }

    /* Non-canonical or invalid policy lines, each under a matching id. */
    assert_int_equal(parse_edited(text, len, "policy quorum none", "policy quorum  none"),
                     FK_ERR_INVALID);
    assert_int_equal(parse_edited(text, len, "policy quorum none", "policy  quorum none"),
                     FK_ERR_INVALID);
    assert_int_equal(parse_edited(text, len, "policy quorum none", "policy quorum none "),
                     FK_ERR_INVALID);
    assert_int_equal(parse_edited(text, len, "policy quorum none", "policy quorum\tnone"),
                     FK_ERR_INVALID);
    assert_int_equal(parse_edited(text, len, "policy quorum none\n", "policy quorum none\npolicy #c\n"),
                     FK_ERR_INVALID);
    assert_int_equal(parse_edited(text, len, "policy quorum none\n", "policy quorum none\npolicy\n"),
                     FK_ERR_INVALID);
    assert_int_equal(parse_edited(text, len, "policy quorum none\n", ""), FK_ERR_INVALID);
    assert_int_equal(parse_edited(text, len, "policy quorum none", "policy quorum W1"),
                     FK_ERR_INVALID);
    assert_int_equal(parse_edited(text, len, "policy quorum none", "policy bogus none"),
                     FK_ERR_INVALID);
    assert_int_equal(parse_edited(text, len, " https://log.example.com/", ""), FK_ERR_INVALID);
    assert_int_equal(parse_edited(text, len, "https://log.example.com/", "ftp://log.example.com/"),
                     FK_ERR_INVALID);
    assert_int_equal(parse_edited(text, len, "https://log.example.com/", "https://l\xc3\xb6g/"),
                     FK_ERR_INVALID);
    /* No log: the policy alone (tlog-policy allows it; an authority does not). */
    {
        char *l = strstr(text, "policy log ");
        char *e = strchr(l, '\n') + 1;
        char line[512];
        memcpy(line, l, (size_t)(e - l));
        line[e - l] = 0;
        assert_int_equal(parse_edited(text, len, line, ""), FK_ERR_INVALID);
    }
    /* A URL one past the tlog-policy limit (511) is a limit error. */
    {
        char url[FK_TLOG_POLICY_URL_MAX + 16] = "https://log.example.com/";
        size_t ul = strlen(url);
        memset(url + ul, 'u', FK_TLOG_POLICY_URL_MAX - ul);
        url[FK_TLOG_POLICY_URL_MAX] = 0;
        assert_int_equal(parse_edited(text, len, "https://log.example.com/", url), FK_OK);
        url[FK_TLOG_POLICY_URL_MAX] = 'u';
        url[FK_TLOG_POLICY_URL_MAX + 1] = 0;
        assert_int_equal(parse_edited(text, len, "https://log.example.com/", url), FK_ERR_LIMIT);
    }

    /* The policy size limit: at FK_ESCROW_POLICY_MAX the authority is made,
     * encoded and parsed; one byte past, the dealer, the canonical form and
     * the parser say FK_ERR_LIMIT. */
    plen = policy_of_size(pol, FK_ESCROW_POLICY_MAX);
    assert_int_equal(fk_escrow_dealer(a, sh, "policy-max", 1, 1, pol, plen), FK_OK);
    assert_int_equal(fk_escrow_authority_encode(text, FK_ESCROW_AUTHORITY_TEXT_MAX, &len, a), FK_OK);
    assert_int_equal(fk_escrow_authority_parse(b, text, len), FK_OK);
    assert_memory_equal(a, b, sizeof *a);
    {
        char *c = malloc(FK_ESCROW_POLICY_MAX + 1);
        size_t cl;
        assert_non_null(c);
        assert_int_equal(fk_escrow_policy_canonical(c, FK_ESCROW_POLICY_MAX + 1, &cl, pol, plen),
                         FK_OK);
        assert_int_equal(cl, plen);
        free(c);
    }
    assert_int_equal(parse_edited(text, len, "https://x/p", "https://x/pp"), FK_ERR_LIMIT);
    plen = policy_of_size(pol, FK_ESCROW_POLICY_MAX + 1);
    assert_int_equal(fk_escrow_dealer(a, sh, "policy-max", 1, 1, pol, plen), FK_ERR_LIMIT);
    {
        char *c = malloc(FK_ESCROW_POLICY_MAX + 2);
        size_t cl;
        assert_non_null(c);
        assert_int_equal(fk_escrow_policy_canonical(c, FK_ESCROW_POLICY_MAX + 2, &cl, pol, plen),
                         FK_ERR_LIMIT);
        free(c);
    }
    fk_escrow_share_clear(sh, 1);
    free(text);
    free(pol);
    free(a);
    free(b);
}

/* The canonical form drops comments and blank lines and joins items with
 * one space; what is not a usable authority policy is refused. */
static void test_policy_canonical(void **state)
{
    static const char in[] =
        "# the authority's log\n"
        "\t log   example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx"
        "\thttps://log.example.com/  \n"
        "\n"
        "quorum none\n";
    char out[FK_ESCROW_POLICY_MAX + 1];
    size_t len;

    (void)state;
    assert_int_equal(fk_escrow_policy_canonical(out, sizeof out, &len, in, sizeof in - 1), FK_OK);
    assert_int_equal(len, strlen(TEST_POLICY));
    assert_string_equal(out, TEST_POLICY);
    /* Too small an output: a limit error, out untouched. */
    memset(out, 'z', sizeof out);
    assert_int_equal(fk_escrow_policy_canonical(out, len, &len, in, sizeof in - 1), FK_ERR_LIMIT);
    assert_int_equal(out[0], 'z');
    /* No log, a log without URL, no final LF, no quorum. */
    assert_int_equal(fk_escrow_policy_canonical(out, sizeof out, &len, "quorum none\n", 12),
                     FK_ERR_INVALID);
    static const char nourl[] =
        "log example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx\n"
        "quorum none\n";
    assert_int_equal(fk_escrow_policy_canonical(out, sizeof out, &len, nourl, sizeof nourl - 1),
                     FK_ERR_INVALID);
    assert_int_equal(fk_escrow_policy_canonical(out, sizeof out, &len, TEST_POLICY,
                                                strlen(TEST_POLICY) - 1),
                     FK_ERR_INVALID);
    assert_int_equal(fk_escrow_policy_canonical(out, sizeof out, &len, TEST_POLICY,
                                                strlen(TEST_POLICY) - strlen("quorum none\n")),
                     FK_ERR_INVALID);
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
    assert_int_equal(fk_escrow_dealer(a, sh, "widest", FK_ESCROW_MAX_SHARES, FK_ESCROW_MAX_SHARES, TEST_POLICY, sizeof TEST_POLICY - 1),
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
    assert_int_equal(fki_escrow_deal(a, sh, "one-of-two", 1, 2, TEST_POLICY, sizeof TEST_POLICY - 1, (const uint8_t(*)[32])coeff),
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
    assert_int_equal(fki_escrow_deal(a, sa, "first", 2, 3, TEST_POLICY, sizeof TEST_POLICY - 1, (const uint8_t(*)[32])coeff), FK_OK);
    assert_int_equal(fki_escrow_deal(b, sb, "second", 2, 3, TEST_POLICY, sizeof TEST_POLICY - 1, (const uint8_t(*)[32])coeff), FK_OK);
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
        cmocka_unit_test(test_authority_policy),
        cmocka_unit_test(test_policy_canonical),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
