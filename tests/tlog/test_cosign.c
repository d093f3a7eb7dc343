/* C2SP tlog-cosignature cosignature/v1 signing: witness keys, lines over the
 * Tessera log's checkpoints checked by fk_note_verify (itself checked against
 * Sunlight's cosignatures) and by a verifier built here from the spec's
 * message layout with OpenSSL alone, key IDs of Sunlight's vkeys, limits. */
#include "tlog_test.h"

#include <openssl/evp.h>

#define TESSERA  MERKLE_DIR "/tessera-posix-log"
#define SUNLIGHT MERKLE_DIR "/sunlight-cosignature-v1"

/* Published in merkle/README.md (upstream's public test key). */
static const char TESSERA_VKEY[] =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
static const char TESSERA_SKEY[] =
    "PRIVATE+KEY+example.com/log/testdata+33d7b496+AeymY/SZAX0jZcJ8enZ5FY1Dz+wTML2yWSkK+9DSF3eg";
/* RFC 8032 section 7.1, TEST 1: secret key and the public key it derives. */
static const char RFC8032_SEED[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char RFC8032_PUB[] =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char WNAME[] = "witness.test/w1";

static void cosigner(fk_cosigner *c)
{
    uint8_t seed[32];
    hex32(seed, RFC8032_SEED);
    assert_int_equal(fk_cosigner_from_seed(c, WNAME, strlen(WNAME), seed), FK_OK);
}

/* The spec's message, assembled here: "cosignature/v1\ntime <t>\n" || body,
 * checked with OpenSSL's Ed25519 directly (no fairkey verifier involved). */
static int spec_verify(const uint8_t pub[32], const char *body, size_t body_len, const char *line,
                       uint32_t want_id, uint64_t *ts_out)
{
    const char *sp = strrchr(line, ' ');
    uint8_t raw[80];
    size_t rawlen = 0;
    char msg[8192];
    uint64_t ts = 0;
    assert_non_null(sp);
    size_t b64len = strlen(sp + 1);
    if (b64len && sp[b64len] == '\n')
        b64len--;
    assert_int_equal(fk_b64_decode_padded(raw, sizeof raw, &rawlen, sp + 1, b64len), FK_OK);
    assert_int_equal(rawlen, 76);
    assert_int_equal(
        (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3], want_id);
    for (int i = 0; i < 8; i++)
        ts = ts << 8 | raw[4 + i];
    int n = snprintf(msg, sizeof msg, "cosignature/v1\ntime %llu\n", (unsigned long long)ts);
    assert_true(n > 0 && (size_t)n + body_len < sizeof msg);
    memcpy(msg + n, body, body_len);
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = pk && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
             EVP_DigestVerify(ctx, raw + 12, 64, (const uint8_t *)msg, (size_t)n + body_len) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    *ts_out = ts;
    return ok;
}

static void test_keys(void **state)
{
    fk_cosigner c, c2;
    fk_note_verifier v, v2;
    uint8_t pub[32], h[32];
    char text[FK_NOTE_KEY_TEXT_MAX + 1], vk[FK_NOTE_KEY_TEXT_MAX + 1];
    size_t len, vlen;
    uint32_t id;
    (void)state;
    cosigner(&c);
    hex32(pub, RFC8032_PUB);
    assert_memory_equal(c.pub, pub, 32);
    /* Key ID: SHA-256(name || 0x0A || 0x04 || pub)[:4], computed here. */
    {
        uint8_t buf[64];
        size_t nl = strlen(WNAME);
        unsigned int hl = 32;
        memcpy(buf, WNAME, nl);
        buf[nl] = '\n';
        buf[nl + 1] = 0x04;
        memcpy(buf + nl + 2, pub, 32);
        assert_int_equal(EVP_Digest(buf, nl + 34, h, &hl, EVP_sha256(), NULL), 1);
        id = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
        assert_int_equal(c.key_id, id);
    }
    /* vkey: type 0x04, parses back to the same verifier. */
    fk_cosigner_verifier(&c, &v);
    assert_int_equal(v.alg, FK_NOTE_ALG_COSIG_V1);
    assert_int_equal(fk_note_verifier_encode(&v, vk, sizeof vk, &vlen), FK_OK);
    assert_int_equal(fk_note_verifier_parse(&v2, vk, vlen), FK_OK);
    assert_memory_equal(&v, &v2, sizeof v);
    assert_non_null(strstr(vk, "+B")); /* base64 of 0x04 || ... starts with 'B' */
    /* Private-key text round trip. */
    assert_int_equal(fk_cosigner_encode(&c, text, sizeof text, &len), FK_OK);
    assert_int_equal(strncmp(text, "PRIVATE+KEY+witness.test/w1+", 28), 0);
    assert_int_equal(fk_cosigner_parse(&c2, text, len), FK_OK);
    assert_memory_equal(&c, &c2, sizeof c);
    assert_int_equal(fk_cosigner_encode(&c, text, len, &len), FK_ERR_LIMIT); /* no room for NUL */
    /* A signed-note (0x01) key is not a cosigner key, and the reverse. */
    fk_note_signer s;
    assert_int_equal(fk_cosigner_parse(&c2, TESSERA_SKEY, strlen(TESSERA_SKEY)),
                     FK_ERR_UNSUPPORTED);
    assert_int_equal(fk_cosigner_encode(&c, text, sizeof text, &len), FK_OK);
    assert_int_equal(fk_note_signer_parse(&s, text, len), FK_ERR_UNSUPPORTED);
    /* A wrong key ID is refused. */
    char *idp = text + 28;
    idp[0] = idp[0] == '0' ? '1' : '0';
    assert_int_equal(fk_cosigner_parse(&c2, text, len), FK_ERR_INVALID);
    /* Names: '+' and spaces are not allowed, 255 bytes are, 256 are not. */
    uint8_t seed[32] = {1};
    char name[FK_NOTE_NAME_MAX + 2];
    memset(name, 'a', sizeof name);
    assert_int_equal(fk_cosigner_from_seed(&c2, name, FK_NOTE_NAME_MAX, seed), FK_OK);
    assert_int_equal(fk_cosigner_from_seed(&c2, name, FK_NOTE_NAME_MAX + 1, seed), FK_ERR_INVALID);
    assert_int_equal(fk_cosigner_from_seed(&c2, "a+b", 3, seed), FK_ERR_INVALID);
    assert_int_equal(fk_cosigner_from_seed(&c2, "a b", 3, seed), FK_ERR_INVALID);
    assert_int_equal(fk_cosigner_from_seed(&c2, "", 0, seed), FK_ERR_INVALID);
    /* Generated keys differ. */
    assert_int_equal(fk_cosigner_generate(&c2, WNAME, strlen(WNAME)), FK_OK);
    assert_memory_not_equal(c.seed, c2.seed, 32);
    fk_cosigner_wipe(&c2);
    fk_cosigner_wipe(&c);
    uint8_t zero[sizeof c];
    memset(zero, 0, sizeof zero);
    assert_memory_equal(&c, zero, sizeof c);
}

/* Sunlight's witness vkeys: the key ID of each is SHA-256(name || 0x0A ||
 * 0x04 || pub)[:4] as fk_note_key_id computes it for the cosigner type. */
static void test_sunlight_key_ids(void **state)
{
    static const char *const vkeys[] = {
        "witness.example.org+b8a2cf20+BFLN3yikSfFkVAJtrnh/CiY3Zozkoy7clp+P7XB28qUN",
        "witness2.example.org+2e55b896+BIZ7fpceQWd60IfqQeS9IAnmNOCZjMDne8lZuguz/bi9",
        "mirror.example.org+3fb148ef+BAAjjch9GyYz0sJsJx7ALhbdAtz2ov0unbzSl1vMp94O",
    };
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        fk_note_verifier v;
        uint32_t id;
        assert_int_equal(fk_note_verifier_parse(&v, vkeys[i], strlen(vkeys[i])), FK_OK);
        assert_int_equal(fk_note_key_id(&id, v.name, v.name_len, FK_NOTE_ALG_COSIG_V1, v.pub),
                         FK_OK);
        assert_int_equal(id, (uint32_t)strtoul(vkeys[i] + v.name_len + 1, NULL, 16));
    }
}

/* Cosign every Tessera checkpoint; check each line three ways. */
static void test_cosign_tessera(void **state)
{
    fk_cosigner c;
    fk_note_verifier vs[2];
    (void)state;
    cosigner(&c);
    assert_int_equal(fk_note_verifier_parse(&vs[0], TESSERA_VKEY, strlen(TESSERA_VKEY)), FK_OK);
    fk_cosigner_verifier(&c, &vs[1]);
    for (int size = 0; size <= 15; size++) {
        size_t len;
        char *buf = read_allf(&len, TESSERA "/checkpoint.%d", size);
        fk_note n;
        char line[FK_COSIG_LINE_MAX + 1], line2[FK_COSIG_LINE_MAX + 1];
        size_t ll, ll2;
        uint64_t ts = 1767139200u + (uint64_t)size, got = 0, ok = 0;
        assert_int_equal(fk_note_parse(&n, buf, len), FK_OK);
        assert_int_equal(fk_cosign_checkpoint(&c, n.text, n.text_len, ts, line, sizeof line, &ll),
                         FK_OK);
        assert_int_equal(ll, strlen(line));
        assert_true(ll <= FK_COSIG_LINE_MAX);
        /* Ed25519 is deterministic: the same line every time. */
        assert_int_equal(
            fk_cosign_checkpoint(&c, n.text, n.text_len, ts, line2, sizeof line2, &ll2), FK_OK);
        assert_string_equal(line, line2);
        /* The spec's layout, verified with OpenSSL directly. */
        assert_true(spec_verify(c.pub, n.text, n.text_len, line, c.key_id, &got));
        assert_int_equal(got, ts);
        /* Appended to the log's signed note: both keys verify. */
        char *cos = malloc(len + ll + 1);
        assert_non_null(cos);
        memcpy(cos, buf, len);
        memcpy(cos + len, line, ll + 1);
        assert_int_equal(fk_note_parse(&n, cos, len + ll), FK_OK);
        assert_int_equal(fk_note_verify(&n, vs, 2, &ok), FK_OK);
        assert_int_equal(ok, 3);
        assert_int_equal(fk_note_cosig_time(&n, &vs[1], &got), FK_OK);
        assert_int_equal(got, ts);
        /* A line for another body does not verify on this one. */
        if (size > 0) {
            size_t plen;
            char *prev = read_allf(&plen, TESSERA "/checkpoint.%d", size - 1);
            fk_note pn;
            assert_int_equal(fk_note_parse(&pn, prev, plen), FK_OK);
            assert_int_equal(
                fk_cosign_checkpoint(&c, pn.text, pn.text_len, ts, line2, sizeof line2, &ll2),
                FK_OK);
            memcpy(cos + len, line2, ll2 + 1);
            assert_int_equal(fk_note_parse(&n, cos, len + ll2), FK_OK);
            assert_int_equal(fk_note_verify(&n, vs, 2, NULL), FK_ERR_SIGNATURE);
            free(prev);
        }
        free(cos);
        free(buf);
    }
    fk_cosigner_wipe(&c);
}

static void test_cosign_limits(void **state)
{
    fk_cosigner c;
    size_t len, ll;
    char line[FK_COSIG_LINE_MAX + 1];
    uint64_t got = 0;
    (void)state;
    cosigner(&c);
    char *buf = read_allf(&len, TESSERA "/checkpoint.3");
    fk_note n;
    assert_int_equal(fk_note_parse(&n, buf, len), FK_OK);
    /* Timestamps: 0 is refused (tlog-witness), 2^63 - 1 is the largest. */
    assert_int_equal(fk_cosign_checkpoint(&c, n.text, n.text_len, 0, line, sizeof line, &ll),
                     FK_ERR_INVALID);
    assert_int_equal(fk_cosign_checkpoint(&c, n.text, n.text_len, (uint64_t)INT64_MAX + 1, line,
                                          sizeof line, &ll),
                     FK_ERR_INVALID);
    assert_int_equal(
        fk_cosign_checkpoint(&c, n.text, n.text_len, (uint64_t)INT64_MAX, line, sizeof line, &ll),
        FK_OK);
    assert_true(spec_verify(c.pub, n.text, n.text_len, line, c.key_id, &got));
    assert_int_equal(got, (uint64_t)INT64_MAX);
    assert_int_equal(fk_cosign_checkpoint(&c, n.text, n.text_len, 1, line, sizeof line, &ll),
                     FK_OK);
    /* Output room: exactly the line and its NUL. */
    assert_int_equal(fk_cosign_checkpoint(&c, n.text, n.text_len, 1, line, ll, &ll), FK_ERR_LIMIT);
    assert_int_equal(fk_cosign_checkpoint(&c, n.text, n.text_len, 1, line, ll + 1, &ll), FK_OK);
    /* Only checkpoint bodies are cosigned. */
    assert_int_equal(fk_cosign_checkpoint(&c, "hello\n", 6, 1, line, sizeof line, &ll),
                     FK_ERR_INVALID);
    assert_int_equal(fk_cosign_checkpoint(&c, n.text, n.text_len - 1, 1, line, sizeof line, &ll),
                     FK_ERR_INVALID);
    /* The longest name fits FK_COSIG_LINE_MAX exactly. */
    char name[FK_NOTE_NAME_MAX];
    uint8_t seed[32] = {7};
    memset(name, 'w', sizeof name);
    assert_int_equal(fk_cosigner_from_seed(&c, name, sizeof name, seed), FK_OK);
    assert_int_equal(fk_cosign_checkpoint(&c, n.text, n.text_len, 1, line, sizeof line, &ll),
                     FK_OK);
    assert_int_equal(ll, FK_COSIG_LINE_MAX);
    free(buf);
    fk_cosigner_wipe(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_sunlight_key_ids),
        cmocka_unit_test(test_cosign_tessera),
        cmocka_unit_test(test_cosign_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
