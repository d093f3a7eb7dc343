/* C2SP tlog-policy: the spec's policy shapes with real keys, every rule the
 * parser enforces with one test past each limit, quorum evaluation over
 * cosignatures built here with OpenSSL alone (tlog-cosignature message and
 * key ID rules), and Sunlight's and Tessera's outside checkpoints. */
#include "tlog_test.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#define SUNLIGHT MERKLE_DIR "/sunlight-cosignature-v1"
#define TESSERA MERKLE_DIR "/tessera-posix-log"
static const char TESSERA_VKEY[] =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
#define NW 8
#define BIG (FK_TLOG_POLICY_MAX_SIZE + 4096)

/* A witness: Ed25519 seed and public key, name, vkey text. */
struct wit {
    char name[64];
    uint8_t seed[32], pub[32];
    uint32_t id;
    char vkey[FK_NOTE_KEY_TEXT_MAX + 1];
};

static fk_tlog_policy pol; /* large: not on the stack */
static fk_note_signer logsig;
static char logvkey[FK_NOTE_KEY_TEXT_MAX + 1];
static struct wit W[NW];
static char cpbody[FK_CHECKPOINT_TEXT_MAX];
static size_t cpbody_len;

static void ed25519(const uint8_t seed[32], const uint8_t *msg, size_t len, uint8_t sig[64],
                    uint8_t pub[32])
{
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    size_t sl = 64, pl = 32;
    assert_non_null(k);
    assert_non_null(m);
    if (sig) {
        assert_int_equal(EVP_DigestSignInit(m, NULL, NULL, NULL, k), 1);
        assert_int_equal(EVP_DigestSign(m, sig, &sl, msg, len), 1);
        assert_int_equal(sl, 64);
    }
    if (pub)
        assert_int_equal(EVP_PKEY_get_raw_public_key(k, pub, &pl), 1);
    EVP_MD_CTX_free(m);
    EVP_PKEY_free(k);
}

/* tlog-cosignature: key ID = SHA-256(name || 0x0A || 0x04 || pub)[:4]. */
static uint32_t cosig_key_id(const char *name, const uint8_t pub[32])
{
    uint8_t buf[300], h[32];
    size_t n = strlen(name);
    memcpy(buf, name, n);
    buf[n] = '\n';
    buf[n + 1] = 0x04;
    memcpy(buf + n + 2, pub, 32);
    SHA256(buf, n + 34, h);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

static void make_witness(struct wit *w, const char *name)
{
    uint8_t raw[33];
    char b64[64];
    snprintf(w->name, sizeof w->name, "%s", name);
    assert_int_equal(fk_random(w->seed, 32), FK_OK);
    ed25519(w->seed, NULL, 0, NULL, w->pub);
    w->id = cosig_key_id(name, w->pub);
    raw[0] = 0x04;
    memcpy(raw + 1, w->pub, 32);
    fk_b64_encode_padded(b64, raw, 33);
    snprintf(w->vkey, sizeof w->vkey, "%s+%08x+%s", name, w->id, b64);
}

/* Append "— name base64(id || u64be t || sig)\n" over
 * "cosignature/v1\ntime <t>\n" || body. */
static size_t cosign(const struct wit *w, const char *body, size_t blen, uint64_t t, char *out)
{
    char *msg = malloc(blen + 64);
    uint8_t raw[76];
    char b64[128];
    assert_non_null(msg);
    int hl = snprintf(msg, 64, "cosignature/v1\ntime %llu\n", (unsigned long long)t);
    memcpy(msg + hl, body, blen);
    for (int i = 0; i < 4; i++)
        raw[i] = (uint8_t)(w->id >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        raw[4 + i] = (uint8_t)(t >> (56 - 8 * i));
    ed25519(w->seed, (const uint8_t *)msg, (size_t)hl + blen, raw + 12, NULL);
    free(msg);
    fk_b64_encode_padded(b64, raw, sizeof raw);
    return (size_t)sprintf(out, "\xe2\x80\x94 %s %s\n", w->name, b64);
}

static int setup(void **state)
{
    fk_note_verifier v;
    fk_checkpoint c;
    size_t n;
    (void)state;
    assert_int_equal(fk_note_signer_generate(&logsig, "example.org/log", 15), FK_OK);
    fk_note_signer_verifier(&logsig, &v);
    assert_int_equal(fk_note_verifier_encode(&v, logvkey, sizeof logvkey, &n), FK_OK);
    for (int i = 0; i < NW; i++) {
        char name[32];
        snprintf(name, sizeof name, "w%d.example.net", i);
        make_witness(&W[i], name);
    }
    memset(&c, 0, sizeof c);
    memcpy(c.origin, "example.org/log", 15);
    c.origin_len = 15;
    c.size = 42;
    memset(c.root, 0xab, sizeof c.root);
    assert_int_equal(fk_checkpoint_encode(&c, cpbody, sizeof cpbody, &cpbody_len), FK_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fk_note_signer_wipe(&logsig);
    return 0;
}

/* A checkpoint signed by the log and cosigned by the witnesses in mask. */
static size_t signed_cp(char *out, size_t cap, unsigned mask)
{
    size_t len;
    const fk_note_signer *s = &logsig;
    assert_int_equal(fk_note_sign(cpbody, cpbody_len, &s, 1, out, cap, &len), FK_OK);
    for (int i = 0; i < NW; i++)
        if (mask & (1u << i))
            len += cosign(&W[i], cpbody, cpbody_len, 1700000000 + (uint64_t)i, out + len);
    return len;
}

/* Expand a policy template: @L is the log's vkey, @0..@7 the witnesses'. */
static char *expand(const char *t, size_t *len)
{
    char *out = malloc(BIG), *o = out;
    assert_non_null(out);
    for (; *t; t++) {
        if (*t == '@' && t[1] == 'L') {
            o += sprintf(o, "%s", logvkey);
            t++;
        } else if (*t == '@' && t[1] >= '0' && t[1] < '0' + NW) {
            o += sprintf(o, "%s", W[t[1] - '0'].vkey);
            t++;
        } else {
            *o++ = *t;
        }
    }
    *o = 0;
    *len = (size_t)(o - out);
    return out;
}

static fk_err parse_t(const char *tmpl, size_t *line)
{
    size_t len;
    char *text = expand(tmpl, &len);
    fk_err err = fk_tlog_policy_parse(&pol, text, len, line);
    free(text);
    return err;
}

static fk_err check_mask(unsigned mask)
{
    char buf[8192];
    size_t len = signed_cp(buf, sizeof buf, mask);
    fk_checkpoint cp;
    fk_err err = fk_tlog_policy_check(&pol, buf, len, &cp, NULL);
    if (!err) {
        assert_int_equal(cp.size, 42);
        assert_int_equal(cp.origin_len, 15);
    }
    return err;
}

/* The spec's example: two groups of three, 2-of-X and any-of-Y, both. */
static void test_spec_example(void **state)
{
    size_t line = 99;
    (void)state;
    assert_int_equal(parse_t("log @L\n"
                             "\n"
                             "witness X1 @0\n"
                             "witness X2 @1\n"
                             "witness X3 @2\n"
                             "group X-witnesses 2 X1 X2 X3\n"
                             "\n"
                             "witness Y1 @3\n"
                             "witness Y2 @4\n"
                             "witness Y3 @5\n"
                             "group Y-witnesses any Y1 Y2 Y3\n"
                             "\n"
                             "group X-and-Y all X-witnesses Y-witnesses\n"
                             "quorum X-and-Y\n",
                             &line),
                     FK_OK);
    assert_int_equal(line, 0);
    assert_int_equal(pol.nlogs, 1);
    assert_int_equal(pol.nwitnesses, 6);
    assert_int_equal(pol.ngroups, 3);
    assert_int_equal(pol.groups[0].threshold, 2);
    assert_int_equal(pol.groups[1].threshold, 1);
    assert_int_equal(pol.groups[2].threshold, 2);
    assert_int_equal(pol.quorum, FK_TLOG_POLICY_GROUP_BASE + 2);
    assert_int_equal(check_mask(0x0b), FK_OK);          /* X1 X2 Y1 */
    assert_int_equal(check_mask(0x3f), FK_OK);          /* everyone */
    assert_int_equal(check_mask(0x26), FK_OK);          /* X2 X3 Y3 */
    assert_int_equal(check_mask(0x19), FK_ERR_POLICY);  /* X1 Y1 Y2: one X only */
    assert_int_equal(check_mask(0x07), FK_ERR_POLICY);  /* all X, no Y */
    assert_int_equal(check_mask(0x00), FK_ERR_POLICY);
    /* Cosigners the policy does not know count for nothing. */
    assert_int_equal(check_mask(0xc1 | 0x08), FK_ERR_POLICY);
}

static void test_quorum_shapes(void **state)
{
    (void)state;
    /* quorum none: the log's signature alone. */
    assert_int_equal(parse_t("log @L\nquorum none\n", NULL), FK_OK);
    assert_int_equal(pol.quorum, FK_TLOG_POLICY_NONE);
    assert_int_equal(check_mask(0), FK_OK);
    assert_int_equal(check_mask(0xff), FK_OK);
    /* witnesses listed but quorum none */
    assert_int_equal(parse_t("log @L\nwitness a @0\nquorum none\n", NULL), FK_OK);
    assert_int_equal(check_mask(0), FK_OK);
    /* a single witness */
    assert_int_equal(parse_t("witness a @0\nlog @L\nquorum a\n", NULL), FK_OK);
    assert_int_equal(check_mask(0), FK_ERR_POLICY);
    assert_int_equal(check_mask(2), FK_ERR_POLICY);
    assert_int_equal(check_mask(1), FK_OK);
    /* thresholds: all, any, numeric */
    assert_int_equal(parse_t("log @L\nwitness a @0\nwitness b @1\nwitness c @2\n"
                             "group g all a b c\nquorum g\n", NULL), FK_OK);
    assert_int_equal(check_mask(3), FK_ERR_POLICY);
    assert_int_equal(check_mask(7), FK_OK);
    assert_int_equal(parse_t("log @L\nwitness a @0\nwitness b @1\nwitness c @2\n"
                             "group g any a b c\nquorum g\n", NULL), FK_OK);
    assert_int_equal(check_mask(0), FK_ERR_POLICY);
    assert_int_equal(check_mask(4), FK_OK);
    assert_int_equal(parse_t("log @L\nwitness a @0\nwitness b @1\nwitness c @2\n"
                             "group g 3 a b c\nquorum g\n", NULL), FK_OK);
    assert_int_equal(check_mask(6), FK_ERR_POLICY);
    assert_int_equal(check_mask(7), FK_OK);
    assert_int_equal(parse_t("log @L\nwitness a @0\nwitness b @1\nwitness c @2\n"
                             "group g 1 a b c\nquorum g\n", NULL), FK_OK);
    assert_int_equal(check_mask(2), FK_OK);
    /* Three levels, a witness both alone and through a group. */
    assert_int_equal(parse_t("log @L\n"
                             "witness a @0\nwitness b @1\nwitness c @2\nwitness d @3\n"
                             "witness e @4\n"
                             "group ab any a b\n"
                             "group cd all c d\n"
                             "group inner 2 ab cd e\n"
                             "group top all inner a\n"
                             "quorum top\n", NULL), FK_OK);
    assert_int_equal(check_mask(0x01 | 0x10), FK_OK);         /* a, e */
    assert_int_equal(check_mask(0x01 | 0x0c), FK_OK);         /* a, c, d */
    assert_int_equal(check_mask(0x02 | 0x0c | 0x10), FK_ERR_POLICY); /* no a */
    assert_int_equal(check_mask(0x01 | 0x04 | 0x02), FK_ERR_POLICY); /* a b c: cd fails, no e */
    /* A group of one group. */
    assert_int_equal(parse_t("log @L\nwitness a @0\ngroup g any a\ngroup h all g\nquorum h\n",
                             NULL), FK_OK);
    assert_int_equal(check_mask(0), FK_ERR_POLICY);
    assert_int_equal(check_mask(1), FK_OK);
}

static void test_check_signatures(void **state)
{
    char buf[8192];
    size_t len;
    fk_note n;
    uint64_t mask = 0;
    (void)state;
    assert_int_equal(parse_t("log @L\nwitness a @0\nwitness b @1\ngroup g any a b\nquorum g\n",
                             NULL), FK_OK);
    /* A known witness's bad cosignature rejects the note (signed-note). */
    len = signed_cp(buf, sizeof buf, 3);
    char *last = strrchr(buf, ' ') + 10;
    *last = *last == 'A' ? 'B' : 'A';
    assert_int_equal(fk_tlog_policy_check(&pol, buf, len, NULL, NULL), FK_ERR_SIGNATURE);
    /* A cosignature over another body. */
    len = signed_cp(buf, sizeof buf, 0);
    char other[FK_CHECKPOINT_TEXT_MAX];
    memcpy(other, cpbody, cpbody_len);
    other[16] = other[16] == '4' ? '5' : '4';
    len += cosign(&W[0], other, cpbody_len, 1, buf + len);
    assert_int_equal(fk_tlog_policy_check(&pol, buf, len, NULL, NULL), FK_ERR_SIGNATURE);
    /* The witnessed bitmask. */
    len = signed_cp(buf, sizeof buf, 2);
    assert_int_equal(fk_note_parse(&n, buf, len), FK_OK);
    assert_int_equal(fk_tlog_policy_quorum(&pol, &n, &mask), FK_OK);
    assert_int_equal(mask, 2);
    /* Cosigned but not signed by the log: a witness is not a log. */
    memcpy(buf, cpbody, cpbody_len);
    buf[cpbody_len] = '\n';
    len = cpbody_len + 1;
    len += cosign(&W[0], cpbody, cpbody_len, 1, buf + len);
    len += cosign(&W[1], cpbody, cpbody_len, 1, buf + len);
    assert_int_equal(fk_tlog_policy_check(&pol, buf, len, NULL, NULL), FK_ERR_SIGNATURE);
    /* Another log's key. */
    fk_note_signer other_log;
    const fk_note_signer *s = &other_log;
    assert_int_equal(fk_note_signer_generate(&other_log, "example.org/log", 15), FK_OK);
    assert_int_equal(fk_note_sign(cpbody, cpbody_len, &s, 1, buf, sizeof buf, &len), FK_OK);
    len += cosign(&W[0], cpbody, cpbody_len, 1, buf + len);
    assert_int_equal(fk_tlog_policy_check(&pol, buf, len, NULL, NULL), FK_ERR_SIGNATURE);
    fk_note_signer_wipe(&other_log);
    /* Signed by a policy log whose name is not the origin. */
    fk_note_verifier v;
    char vk[FK_NOTE_KEY_TEXT_MAX + 1];
    assert_int_equal(fk_note_signer_generate(&other_log, "example.org/other", 17), FK_OK);
    fk_note_signer_verifier(&other_log, &v);
    assert_int_equal(fk_tlog_policy_from_log(&pol, &v), FK_OK);
    assert_int_equal(fk_note_sign(cpbody, cpbody_len, &s, 1, buf, sizeof buf, &len), FK_OK);
    assert_int_equal(fk_tlog_policy_check(&pol, buf, len, NULL, NULL), FK_ERR_INVALID);
    fk_note_signer_wipe(&other_log);
    (void)vk;
    /* A policy without logs accepts no checkpoint on its own. */
    assert_int_equal(parse_t("quorum none\n", NULL), FK_OK);
    len = signed_cp(buf, sizeof buf, 0);
    assert_int_equal(fk_tlog_policy_check(&pol, buf, len, NULL, NULL), FK_ERR_SIGNATURE);
    /* ... until the log known from context is added. */
    fk_note_signer_verifier(&logsig, &v);
    assert_int_equal(fk_tlog_policy_add_log(&pol, &v), FK_OK);
    assert_int_equal(fk_tlog_policy_add_log(&pol, &v), FK_ERR_INVALID); /* duplicate */
    assert_int_equal(fk_tlog_policy_check(&pol, buf, len, NULL, NULL), FK_OK);
    /* Malformed notes. */
    assert_int_equal(fk_tlog_policy_check(&pol, cpbody, cpbody_len, NULL, NULL), FK_ERR_INVALID);
}

/* Freshness: only cosignatures at or after not_before count toward the
 * quorum (signed_cp dates witness i's cosignature 1700000000 + i). */
static void test_quorum_since(void **state)
{
    char buf[8192];
    size_t len;
    fk_note n;
    uint64_t mask = 0, fresh = 0, newest = 0;
    (void)state;
    assert_int_equal(parse_t("log @L\nwitness a @0\nwitness b @1\nwitness c @2\n"
                             "group g 2 a b c\nquorum g\n", NULL), FK_OK);
    len = signed_cp(buf, sizeof buf, 7);
    assert_int_equal(fk_note_parse(&n, buf, len), FK_OK);
    assert_int_equal(fk_tlog_policy_quorum_since(&pol, &n, 1700000000, &mask, &fresh, &newest),
                     FK_OK);
    assert_int_equal(mask, 7);
    assert_int_equal(fresh, 7);
    assert_int_equal(newest, 1700000002);
    /* Two of three are recent enough: the quorum holds. */
    assert_int_equal(fk_tlog_policy_quorum_since(&pol, &n, 1700000001, NULL, &fresh, NULL), FK_OK);
    assert_int_equal(fresh, 6);
    /* Only the newest one is: the quorum is not met, though all cosigned. */
    assert_int_equal(fk_tlog_policy_quorum_since(&pol, &n, 1700000002, &mask, &fresh, &newest),
                     FK_ERR_POLICY);
    assert_int_equal(mask, 7);
    assert_int_equal(fresh, 4);
    assert_int_equal(newest, 1700000002);
    assert_int_equal(fk_tlog_policy_quorum(&pol, &n, NULL), FK_OK);
    /* No cosignature at all. */
    len = signed_cp(buf, sizeof buf, 0);
    assert_int_equal(fk_note_parse(&n, buf, len), FK_OK);
    assert_int_equal(fk_tlog_policy_quorum_since(&pol, &n, 0, &mask, &fresh, &newest),
                     FK_ERR_POLICY);
    assert_int_equal(newest, 0);
    /* A bad cosignature by a policy witness rejects the note. */
    len = signed_cp(buf, sizeof buf, 3);
    char *last = strrchr(buf, ' ') + 10;
    *last = *last == 'A' ? 'B' : 'A';
    assert_int_equal(fk_note_parse(&n, buf, len), FK_OK);
    assert_int_equal(fk_tlog_policy_quorum_since(&pol, &n, 0, NULL, NULL, NULL), FK_ERR_SIGNATURE);
    /* quorum none: always met. */
    assert_int_equal(parse_t("log @L\nwitness a @0\nquorum none\n", NULL), FK_OK);
    len = signed_cp(buf, sizeof buf, 1);
    assert_int_equal(fk_note_parse(&n, buf, len), FK_OK);
    assert_int_equal(fk_tlog_policy_quorum_since(&pol, &n, UINT64_MAX, NULL, &fresh, NULL), FK_OK);
    assert_int_equal(fresh, 0);
}

static void test_from_log_find(void **state)
{
    fk_note_verifier v, w;
    size_t i = 99;
    (void)state;
    fk_note_signer_verifier(&logsig, &v);
    assert_int_equal(fk_tlog_policy_from_log(&pol, &v), FK_OK);
    assert_int_equal(pol.nlogs, 1);
    assert_int_equal(pol.nwitnesses, 0);
    assert_int_equal(pol.quorum, FK_TLOG_POLICY_NONE);
    assert_int_equal(fk_tlog_policy_find_log(&pol, &v, &i), FK_OK);
    assert_int_equal(i, 0);
    assert_int_equal(check_mask(0), FK_OK);
    /* The same key under another name is not that log. */
    assert_int_equal(fk_note_verifier_new(&w, "example.org/x", 13, FK_NOTE_ALG_ED25519, v.pub),
                     FK_OK);
    assert_int_equal(fk_tlog_policy_find_log(&pol, &w, &i), FK_ERR_NOT_FOUND);
    /* A witness key is not a log key. */
    assert_int_equal(fk_note_verifier_parse(&w, W[0].vkey, strlen(W[0].vkey)), FK_OK);
    assert_int_equal(fk_tlog_policy_from_log(&pol, &w), FK_ERR_INVALID);
    /* With a parsed policy. */
    assert_int_equal(parse_t("witness a @0\nlog @L http://127.0.0.1:1/\nquorum a\n", NULL), FK_OK);
    assert_int_equal(fk_tlog_policy_find_log(&pol, &v, &i), FK_OK);
    assert_string_equal(pol.log_url[0], "http://127.0.0.1:1/");
    assert_string_equal(pol.witness_url[0], "");
    assert_string_equal(pol.witness_name[0], "a");
}

/* Every rejection rule, with the line the parser blames. */
static void test_rejections(void **state)
{
    static const struct {
        const char *text;
        fk_err err;
        size_t line;
    } cases[] = {
        {"", FK_ERR_INVALID, 0},                                   /* no quorum */
        {"# only a comment\n", FK_ERR_INVALID, 0},
        {"log @L\n", FK_ERR_INVALID, 0},
        {"quorum none", FK_ERR_INVALID, 1},                         /* no final newline */
        {"log @L\nquorum none\nquorum none\n", FK_ERR_INVALID, 3},  /* two quorums */
        {"logs @L\nquorum none\n", FK_ERR_INVALID, 1},              /* unknown keyword */
        {"Log @L\nquorum none\n", FK_ERR_INVALID, 1},
        {"quorum none\nwitnesses a @0\n", FK_ERR_INVALID, 2},
        {"log\nquorum none\n", FK_ERR_INVALID, 1},
        {"log @L http://a/ extra\nquorum none\n", FK_ERR_INVALID, 1},
        {"witness a\nquorum none\n", FK_ERR_INVALID, 1},
        {"witness @0\nquorum none\n", FK_ERR_INVALID, 1},
        {"witness a @0 http://a/ extra\nquorum none\n", FK_ERR_INVALID, 1},
        {"quorum\n", FK_ERR_INVALID, 1},
        {"quorum none extra\n", FK_ERR_INVALID, 1},
        {"log @0\nquorum none\n", FK_ERR_INVALID, 1},               /* witness key as log */
        {"witness a @L\nquorum none\n", FK_ERR_INVALID, 1},         /* log key as witness */
        {"log notakey\nquorum none\n", FK_ERR_INVALID, 1},
        {"log @L\nlog @L\nquorum none\n", FK_ERR_INVALID, 2},       /* duplicate log */
        {"witness a @0\nwitness b @0\nquorum none\n", FK_ERR_INVALID, 2}, /* duplicate witness */
        {"witness a @0\nwitness a @1\nquorum none\n", FK_ERR_INVALID, 2}, /* duplicate name */
        {"witness a @0\ngroup a any a\nquorum none\n", FK_ERR_INVALID, 2},
        {"witness a @0\ngroup g any a\ngroup g any a\nquorum g\n", FK_ERR_INVALID, 3},
        {"witness none @0\nquorum none\n", FK_ERR_INVALID, 1},      /* "none" is predefined */
        {"witness a @0\ngroup none any a\nquorum none\n", FK_ERR_INVALID, 2},
        {"witness a @0\ngroup g any a none\nquorum g\n", FK_ERR_INVALID, 2}, /* none as member */
        {"group g any none\nquorum g\n", FK_ERR_INVALID, 1},
        {"witness a @0\ngroup g any b\nquorum g\n", FK_ERR_INVALID, 2}, /* undefined */
        {"group g any a\nwitness a @0\nquorum g\n", FK_ERR_INVALID, 1}, /* defined later */
        {"witness a @0\ngroup g any g\nquorum g\n", FK_ERR_INVALID, 2}, /* cycle */
        {"quorum a\nwitness a @0\n", FK_ERR_INVALID, 1},             /* quorum before name */
        {"witness a @0\nquorum b\n", FK_ERR_INVALID, 2},
        {"witness a @0\ngroup g any a a\nquorum g\n", FK_ERR_INVALID, 2}, /* member twice */
        {"witness a @0\ngroup g any\nquorum g\n", FK_ERR_INVALID, 2},     /* no member */
        {"witness a @0\ngroup g\nquorum none\n", FK_ERR_INVALID, 2},
        {"witness a @0\ngroup g 0 a\nquorum g\n", FK_ERR_INVALID, 2},     /* k = 0 */
        {"witness a @0\nwitness b @1\ngroup g 3 a b\nquorum g\n", FK_ERR_INVALID, 3}, /* k > n */
        {"witness a @0\nwitness b @1\ngroup g 01 a b\nquorum g\n", FK_ERR_INVALID, 3},
        {"witness a @0\ngroup g +1 a\nquorum g\n", FK_ERR_INVALID, 2},
        {"witness a @0\ngroup g -1 a\nquorum g\n", FK_ERR_INVALID, 2},
        {"witness a @0\ngroup g 1x a\nquorum g\n", FK_ERR_INVALID, 2},
        {"witness a @0\ngroup g ALL a\nquorum g\n", FK_ERR_INVALID, 2},
        {"witness a @0\ngroup g 18446744073709551617 a\nquorum g\n", FK_ERR_INVALID, 2},
        {"log @L\r\nquorum none\n", FK_ERR_INVALID, 1},              /* CR */
        {"# a\x7f\nquorum none\n", FK_ERR_INVALID, 1},               /* DEL */
        {"# a\x01\nquorum none\n", FK_ERR_INVALID, 1},
        {"quorum none\n\v\n", FK_ERR_INVALID, 2},
        {"quorum\xc2\xa0none\n", FK_ERR_INVALID, 1},                 /* NBSP is not whitespace */
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t line = 999;
        fk_err err = parse_t(cases[i].text, &line);
        if (err != cases[i].err || line != cases[i].line)
            fail_msg("case %zu (%s): got %d line %zu, want %d line %zu", i, cases[i].text, err,
                     line, cases[i].err, cases[i].line);
        /* zeroed on failure */
        assert_int_equal(pol.nlogs + pol.nwitnesses + pol.ngroups, 0);
    }
    /* A NUL inside the text. */
    const char nul[] = "quorum none\n#\0\n";
    size_t line;
    assert_int_equal(fk_tlog_policy_parse(&pol, nul, sizeof nul - 1, &line), FK_ERR_INVALID);
    assert_int_equal(line, 2);
    /* A log key with the same public key under another name is a duplicate. */
    fk_note_verifier v;
    char vk[FK_NOTE_KEY_TEXT_MAX + 1], text[2048];
    size_t n;
    fk_note_signer_verifier(&logsig, &v);
    assert_int_equal(fk_note_verifier_new(&v, "other.example/log", 17, FK_NOTE_ALG_ED25519, v.pub),
                     FK_OK);
    assert_int_equal(fk_note_verifier_encode(&v, vk, sizeof vk, &n), FK_OK);
    snprintf(text, sizeof text, "log %s\nlog %s\nquorum none\n", logvkey, vk);
    assert_int_equal(fk_tlog_policy_parse(&pol, text, strlen(text), &line), FK_ERR_INVALID);
    assert_int_equal(line, 2);
    /* ... as is a witness key reused as a log key, and witness keys renamed. */
    assert_int_equal(fk_note_verifier_new(&v, "x.example", 9, FK_NOTE_ALG_ED25519, W[0].pub), FK_OK);
    assert_int_equal(fk_note_verifier_encode(&v, vk, sizeof vk, &n), FK_OK);
    snprintf(text, sizeof text, "witness a %s\nlog %s\nquorum none\n", W[0].vkey, vk);
    assert_int_equal(fk_tlog_policy_parse(&pol, text, strlen(text), &line), FK_ERR_INVALID);
    assert_int_equal(line, 2);
    assert_int_equal(fk_note_verifier_new(&v, "x.example", 9, FK_NOTE_ALG_COSIG_V1, W[0].pub), FK_OK);
    assert_int_equal(fk_note_verifier_encode(&v, vk, sizeof vk, &n), FK_OK);
    snprintf(text, sizeof text, "witness a %s\nwitness b %s\nquorum none\n", W[0].vkey, vk);
    assert_int_equal(fk_tlog_policy_parse(&pol, text, strlen(text), &line), FK_ERR_INVALID);
    assert_int_equal(line, 2);
    /* A key ID that does not match its key. */
    snprintf(text, sizeof text, "witness a %s\nquorum a\n", W[0].vkey);
    char *plus = strchr(strchr(text, '+'), '+') - 1; /* last hex digit of the ID */
    *plus = *plus == '0' ? '1' : '0';
    assert_int_equal(fk_tlog_policy_parse(&pol, text, strlen(text), &line), FK_ERR_INVALID);
    assert_int_equal(line, 1);
    /* ML-DSA-44 witnesses (type 0x06) are valid policy but not verifiable here. */
    uint8_t raw[33] = {0x06};
    char b64[64];
    memcpy(raw + 1, W[1].pub, 32);
    fk_b64_encode_padded(b64, raw, sizeof raw);
    snprintf(text, sizeof text, "witness m mldsa.example+01020304+%s\nquorum m\n", b64);
    assert_int_equal(fk_tlog_policy_parse(&pol, text, strlen(text), &line), FK_ERR_UNSUPPORTED);
    assert_int_equal(line, 1);
}

static void test_accepted_syntax(void **state)
{
    size_t line = 9;
    (void)state;
    /* Leading and trailing whitespace, tabs, indented comments, blank lines
     * of whitespace, URLs, keywords and digits as names, opaque high octets. */
    assert_int_equal(parse_t("# fairkey policy\n"
                             "   \t\n"
                             "\n"
                             "  \t# indented comment \xff\n"
                             "\tlog\t@L  http://log.example/ \t\n"
                             "witness all @0\n"
                             "witness 2 @1 https://w.example/sub\n"
                             "witness K @2\n"
                             "witness \xe2\x84\xaa @3\n"
                             "witness #hash @4\n"
                             "group any 2 all 2 K \xe2\x84\xaa #hash\n"
                             "quorum\tany   \n",
                             &line),
                     FK_OK);
    assert_int_equal(line, 0);
    assert_int_equal(pol.nwitnesses, 5);
    assert_string_equal(pol.log_url[0], "http://log.example/");
    assert_string_equal(pol.witness_url[1], "https://w.example/sub");
    assert_int_equal(pol.groups[0].nmembers, 5);
    /* K and the Kelvin sign are two names. */
    assert_int_equal(check_mask(0x01 | 0x04), FK_OK);
    assert_int_equal(check_mask(0x08 | 0x04), FK_OK);
    assert_int_equal(check_mask(0x10), FK_ERR_POLICY);
    /* Any order of logs and witnesses; quorum before later definitions. */
    assert_int_equal(parse_t("witness a @0\nquorum a\nlog @L\nwitness b @1\n", NULL), FK_OK);
    assert_int_equal(check_mask(1), FK_OK);
    /* A comment is ignored whatever it holds: more words than any policy
     * line may have items. */
    char tmpl[2048] = "  # ";
    for (int i = 0; i < 300; i++)
        strcat(tmpl, "w ");
    strcat(tmpl, "\nlog @L\nquorum none\n");
    assert_int_equal(parse_t(tmpl, &line), FK_OK);
}

/* The limits, at and one past each. */
static void test_limits(void **state)
{
    char *text = malloc(BIG), *o;
    size_t line, len;
    fk_note_signer s;
    fk_note_verifier v;
    char vk[FK_NOTE_KEY_TEXT_MAX + 1];
    static struct wit many[FK_TLOG_POLICY_MAX_WITNESSES + 1];
    (void)state;
    assert_non_null(text);
    /* 32 logs, then 33 */
    o = text;
    for (int i = 0; i <= FK_TLOG_POLICY_MAX_LOGS; i++) {
        char name[32];
        snprintf(name, sizeof name, "log%d.example", i);
        assert_int_equal(fk_note_signer_generate(&s, name, strlen(name)), FK_OK);
        fk_note_signer_verifier(&s, &v);
        fk_note_signer_wipe(&s);
        assert_int_equal(fk_note_verifier_encode(&v, vk, sizeof vk, &len), FK_OK);
        if (i == FK_TLOG_POLICY_MAX_LOGS) {
            len = (size_t)(o - text);
            o += sprintf(o, "quorum none\n");
            assert_int_equal(fk_tlog_policy_parse(&pol, text, (size_t)(o - text), &line), FK_OK);
            assert_int_equal(pol.nlogs, FK_TLOG_POLICY_MAX_LOGS);
            o = text + len;
        }
        o += sprintf(o, "log %s\n", vk);
    }
    o += sprintf(o, "quorum none\n");
    assert_int_equal(fk_tlog_policy_parse(&pol, text, (size_t)(o - text), &line), FK_ERR_LIMIT);
    assert_int_equal(line, FK_TLOG_POLICY_MAX_LOGS + 1);
    /* 32 witnesses in one group, then 33 */
    for (int i = 0; i <= FK_TLOG_POLICY_MAX_WITNESSES; i++) {
        char name[32];
        snprintf(name, sizeof name, "wit%d.example", i);
        make_witness(&many[i], name);
    }
    for (int k = FK_TLOG_POLICY_MAX_WITNESSES; k <= FK_TLOG_POLICY_MAX_WITNESSES + 1; k++) {
        o = text;
        for (int i = 0; i < k; i++)
            o += sprintf(o, "witness %d %s\n", i, many[i].vkey);
        o += sprintf(o, "group g all");
        for (int i = 0; i < k; i++)
            o += sprintf(o, " %d", i);
        o += sprintf(o, "\nquorum g\n");
        fk_err want = k > FK_TLOG_POLICY_MAX_WITNESSES ? FK_ERR_LIMIT : FK_OK;
        assert_int_equal(fk_tlog_policy_parse(&pol, text, (size_t)(o - text), &line), want);
        if (want)
            assert_int_equal(line, FK_TLOG_POLICY_MAX_WITNESSES + 1);
        else
            assert_int_equal(pol.groups[0].nmembers, FK_TLOG_POLICY_MAX_WITNESSES);
    }
    /* 32 groups, then 33; and a group line with more items than names. */
    for (int k = FK_TLOG_POLICY_MAX_GROUPS; k <= FK_TLOG_POLICY_MAX_GROUPS + 1; k++) {
        o = text;
        o += sprintf(o, "witness w %s\n", W[0].vkey);
        for (int i = 0; i < k; i++)
            o += sprintf(o, "group g%d any %s\n", i, i ? "g0" : "w");
        o += sprintf(o, "quorum g0\n");
        fk_err want = k > FK_TLOG_POLICY_MAX_GROUPS ? FK_ERR_LIMIT : FK_OK;
        assert_int_equal(fk_tlog_policy_parse(&pol, text, (size_t)(o - text), &line), want);
        if (want)
            assert_int_equal(line, FK_TLOG_POLICY_MAX_GROUPS + 2);
    }
    o = text;
    o += sprintf(o, "witness w %s\ngroup g any", W[0].vkey);
    for (int i = 0; i < FK_TLOG_POLICY_MAX_WITNESSES + FK_TLOG_POLICY_MAX_GROUPS + 1; i++)
        o += sprintf(o, " w");
    o += sprintf(o, "\nquorum none\n");
    assert_int_equal(fk_tlog_policy_parse(&pol, text, (size_t)(o - text), &line), FK_ERR_LIMIT);
    assert_int_equal(line, 2);
    /* Names of 255 and 256 bytes. */
    for (size_t nl = FK_TLOG_POLICY_NAME_MAX; nl <= FK_TLOG_POLICY_NAME_MAX + 1; nl++) {
        o = text;
        o += sprintf(o, "witness ");
        memset(o, 'n', nl);
        o += nl;
        o += sprintf(o, " %s\nquorum none\n", W[0].vkey);
        assert_int_equal(fk_tlog_policy_parse(&pol, text, (size_t)(o - text), &line),
                         nl > FK_TLOG_POLICY_NAME_MAX ? FK_ERR_LIMIT : FK_OK);
    }
    /* URLs of 511 and 512 bytes. */
    for (size_t ul = FK_TLOG_POLICY_URL_MAX; ul <= FK_TLOG_POLICY_URL_MAX + 1; ul++) {
        o = text;
        o += sprintf(o, "log %s ", logvkey);
        memset(o, 'u', ul);
        o += ul;
        o += sprintf(o, "\nquorum none\n");
        assert_int_equal(fk_tlog_policy_parse(&pol, text, (size_t)(o - text), &line),
                         ul > FK_TLOG_POLICY_URL_MAX ? FK_ERR_LIMIT : FK_OK);
        if (ul == FK_TLOG_POLICY_URL_MAX)
            assert_int_equal(strlen(pol.log_url[0]), FK_TLOG_POLICY_URL_MAX);
    }
    /* Files of exactly the limit and one byte more (comment padding). */
    for (size_t fl = FK_TLOG_POLICY_MAX_SIZE; fl <= FK_TLOG_POLICY_MAX_SIZE + 1; fl++) {
        const char tail[] = "quorum none\n";
        memset(text, ' ', fl);
        text[0] = '#';
        text[fl - sizeof tail] = '\n';
        memcpy(text + fl - (sizeof tail - 1), tail, sizeof tail - 1);
        assert_int_equal(fk_tlog_policy_parse(&pol, text, fl, &line),
                         fl > FK_TLOG_POLICY_MAX_SIZE ? FK_ERR_LIMIT : FK_OK);
    }
    free(text);
}

/* Read the first verifier key of an upstream witness descriptor. */
static void sunlight_vkey(const char *rel, char *out, size_t cap)
{
    char path[512];
    json_error_t e;
    snprintf(path, sizeof path, "%s/%s", SUNLIGHT, rel);
    json_t *j = json_load_file(path, 0, &e);
    assert_non_null(j);
    const char *k = json_string_value(json_array_get(json_object_get(j, "verifier_keys"), 0));
    assert_non_null(k);
    snprintf(out, cap, "%s", k);
    json_decref(j);
}

#define ROME SUNLIGHT "/witness/000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706/checkpoint"
#define MIRROR SUNLIGHT "/witness/mirror/000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706/checkpoint"
#define MILAN SUNLIGHT "/witness2/88ad7a28caeb0b2aa890fdf0304c2fcaf59fca2ee140134ff8c1300bac493482/checkpoint"

static fk_err sunlight_quorum(const char *policy, const char *cpfile)
{
    size_t len = 0, line = 0;
    char *cp = read_all(cpfile, &len);
    fk_note n;
    assert_non_null(cp);
    assert_int_equal(fk_tlog_policy_parse(&pol, policy, strlen(policy), &line), FK_OK);
    assert_int_equal(fk_note_parse(&n, cp, len), FK_OK);
    fk_err err = fk_tlog_policy_quorum(&pol, &n, NULL);
    free(cp);
    return err;
}

/* Sunlight's witnesses' real cosignatures (outside vectors). */
static void test_sunlight(void **state)
{
    char w1[FK_NOTE_KEY_TEXT_MAX + 1], w2[FK_NOTE_KEY_TEXT_MAX + 1], m[FK_NOTE_KEY_TEXT_MAX + 1];
    char policy[4096];
    (void)state;
    sunlight_vkey("witness/witness.v0.json", w1, sizeof w1);
    sunlight_vkey("witness2/witness.v0.json", w2, sizeof w2);
    sunlight_vkey("witness/mirror/mirror.v0.json", m, sizeof m);
#define P(q) (snprintf(policy, sizeof policy, "witness W1 %s\nwitness W2 %s\nwitness M %s\n%s", \
                       w1, w2, m, q), policy)
    assert_int_equal(sunlight_quorum(P("quorum W1\n"), ROME), FK_OK);
    assert_int_equal(sunlight_quorum(P("quorum W2\n"), ROME), FK_ERR_POLICY);
    assert_int_equal(sunlight_quorum(P("quorum W2\n"), MILAN), FK_OK);
    assert_int_equal(sunlight_quorum(P("quorum M\n"), MIRROR), FK_OK);
    assert_int_equal(sunlight_quorum(P("group g any W1 W2 M\nquorum g\n"), ROME), FK_OK);
    assert_int_equal(sunlight_quorum(P("group g any W1 W2 M\nquorum g\n"), MILAN), FK_OK);
    assert_int_equal(sunlight_quorum(P("group g 2 W1 W2 M\nquorum g\n"), ROME), FK_ERR_POLICY);
    assert_int_equal(sunlight_quorum(P("group g all W1 W2 M\nquorum g\n"), MIRROR), FK_ERR_POLICY);
    assert_int_equal(sunlight_quorum(P("quorum none\n"), ROME), FK_OK);
#undef P

    /* The full check: our own key, named as Milan's log, signs Milan's
     * checkpoint body; Sunlight's witness2 line is appended unchanged. */
    size_t len, blen, line;
    char *cp = read_all(MILAN, &len), buf[4096];
    fk_note n;
    fk_note_signer s;
    fk_note_verifier v;
    char vk[FK_NOTE_KEY_TEXT_MAX + 1];
    const fk_note_signer *sp = &s;
    assert_non_null(cp);
    assert_int_equal(fk_note_parse(&n, cp, len), FK_OK);
    assert_int_equal(fk_note_signer_generate(&s, "milan2026h1.example.org", 23), FK_OK);
    assert_int_equal(fk_note_sign(n.text, n.text_len, &sp, 1, buf, sizeof buf, &blen), FK_OK);
    fk_note_signer_verifier(&s, &v);
    fk_note_signer_wipe(&s);
    const char *wline = cp + n.text_len + 1; /* the cosignature line */
    memcpy(buf + blen, wline, len - n.text_len - 1);
    blen += len - n.text_len - 1;
    assert_int_equal(fk_note_verifier_encode(&v, vk, sizeof vk, &len), FK_OK);
    snprintf(buf + blen + 1, sizeof buf - blen - 1, "log %s\nwitness a %s\nquorum a\n", vk, w2);
    const char *ptext = buf + blen + 1;
    assert_int_equal(fk_tlog_policy_parse(&pol, ptext, strlen(ptext), &line), FK_OK);
    fk_checkpoint c;
    assert_int_equal(fk_tlog_policy_check(&pol, buf, blen, &c, NULL), FK_OK);
    assert_int_equal(c.size, 300);
    snprintf(buf + blen + 1, sizeof buf - blen - 1, "log %s\nwitness a %s\nquorum a\n", vk, w1);
    assert_int_equal(fk_tlog_policy_parse(&pol, ptext, strlen(ptext), &line), FK_OK);
    assert_int_equal(fk_tlog_policy_check(&pol, buf, blen, &c, NULL), FK_ERR_POLICY);
    free(cp);
}

/* Tessera's real signed checkpoint (outside vector): accepted with quorum
 * none, refused when a witness is required. */
static void test_tessera(void **state)
{
    size_t len = 0, line = 0;
    char *cp = read_all(TESSERA "/checkpoint.15", &len), policy[1024];
    fk_checkpoint c;
    (void)state;
    assert_non_null(cp);
    snprintf(policy, sizeof policy, "log %s\nquorum none\n", TESSERA_VKEY);
    assert_int_equal(fk_tlog_policy_parse(&pol, policy, strlen(policy), &line), FK_OK);
    assert_int_equal(fk_tlog_policy_check(&pol, cp, len, &c, NULL), FK_OK);
    assert_int_equal(c.size, 15);
    snprintf(policy, sizeof policy, "log %s\nwitness w %s\nquorum w\n", TESSERA_VKEY, W[0].vkey);
    assert_int_equal(fk_tlog_policy_parse(&pol, policy, strlen(policy), &line), FK_OK);
    assert_int_equal(fk_tlog_policy_check(&pol, cp, len, &c, NULL), FK_ERR_POLICY);
    free(cp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_example),   cmocka_unit_test(test_quorum_shapes),
        cmocka_unit_test(test_check_signatures), cmocka_unit_test(test_quorum_since),
        cmocka_unit_test(test_from_log_find),
        cmocka_unit_test(test_rejections),     cmocka_unit_test(test_accepted_syntax),
        cmocka_unit_test(test_limits),         cmocka_unit_test(test_sunlight),
        cmocka_unit_test(test_tessera),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
