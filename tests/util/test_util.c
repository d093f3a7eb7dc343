/* Unit tests for the util module: base64 (RFC 4648 section 10 vectors),
 * bech32 (BIP173 test vectors), hex, constant-time compare. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <fairkey.h>

/* RFC 4648 section 10 test vectors. */
static const char *const rfc4648[][2] = {
    {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

static void test_b64_rfc4648(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        const char *plain = rfc4648[i][0], *padded = rfc4648[i][1];
        size_t n = strlen(plain), outlen = 0;
        char enc[32];
        uint8_t dec[32];
        fk_b64_encode_padded(enc, (const uint8_t *)plain, n);
        assert_string_equal(enc, padded);
        assert_int_equal(fk_b64_encode_padded_public(enc, (const uint8_t *)plain, n), strlen(padded));
        assert_string_equal(enc, padded);
        fk_b64_encode_padded(enc, (const uint8_t *)plain, n);
        assert_int_equal(fk_b64_encode(enc, (const uint8_t *)plain, n), fk_b64_enc_len(n));
        /* unpadded = padded with '=' removed */
        assert_int_equal(strncmp(enc, padded, strlen(enc)), 0);
        assert_int_equal(strspn(padded + strlen(enc), "="), strlen(padded) - strlen(enc));
        assert_int_equal(fk_b64_decode(dec, sizeof dec, &outlen, enc, strlen(enc)), FK_OK);
        assert_int_equal(outlen, n);
        assert_memory_equal(dec, plain, n);
        assert_int_equal(fk_b64_decode_padded(dec, sizeof dec, &outlen, padded, strlen(padded)), FK_OK);
        assert_int_equal(outlen, n);
        assert_memory_equal(dec, plain, n);
    }
}

static void test_b64_all_bytes(void **state)
{
    (void)state;
    uint8_t in[256], dec[256];
    char enc[400];
    size_t outlen;
    for (int i = 0; i < 256; i++)
        in[i] = (uint8_t)i;
    for (size_t n = 0; n <= 256; n += 1) {
        size_t len = fk_b64_encode(enc, in + (256 - n), n);
        assert_int_equal(fk_b64_decode(dec, sizeof dec, &outlen, enc, len), FK_OK);
        assert_int_equal(outlen, n);
        assert_memory_equal(dec, in + (256 - n), n);
        /* The table encoder decodes back through the strict decoder. */
        len = fk_b64_encode_padded_public(enc, in + (256 - n), n);
        assert_int_equal(len, fk_b64_enc_len_padded(n));
        assert_int_equal(fk_b64_decode_padded(dec, sizeof dec, &outlen, enc, len), FK_OK);
        assert_int_equal(outlen, n);
        assert_memory_equal(dec, in + (256 - n), n);
    }
}

static void test_b64_rejects(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t outlen = 99;
    /* non-canonical trailing bits (RFC 4648 3.5): "Zh" has low bits set, "Zg" is canonical */
    assert_int_equal(fk_b64_decode(out, sizeof out, &outlen, "Zh", 2), FK_ERR_INVALID);
    assert_int_equal(fk_b64_decode(out, sizeof out, &outlen, "Zm9", 3), FK_ERR_INVALID);
    assert_int_equal(fk_b64_decode(out, sizeof out, &outlen, "Zm8", 3), FK_OK);
    /* padding in unpadded mode, bad characters, impossible length */
    assert_int_equal(fk_b64_decode(out, sizeof out, &outlen, "Zg==", 4), FK_ERR_INVALID);
    assert_int_equal(fk_b64_decode(out, sizeof out, &outlen, "Zm-v", 4), FK_ERR_INVALID);
    assert_int_equal(fk_b64_decode(out, sizeof out, &outlen, "Zm_v", 4), FK_ERR_INVALID);
    assert_int_equal(fk_b64_decode(out, sizeof out, &outlen, "Zm v", 4), FK_ERR_INVALID);
    assert_int_equal(fk_b64_decode(out, sizeof out, &outlen, "Zm9vY", 5), FK_ERR_INVALID);
    assert_int_equal(fk_b64_decode(out, sizeof out, &outlen, "Zm\0v", 4), FK_ERR_INVALID);
    /* padded mode: wrong padding */
    assert_int_equal(fk_b64_decode_padded(out, sizeof out, &outlen, "Zg=", 3), FK_ERR_INVALID);
    assert_int_equal(fk_b64_decode_padded(out, sizeof out, &outlen, "Z===", 4), FK_ERR_INVALID);
    assert_int_equal(fk_b64_decode_padded(out, sizeof out, &outlen, "Zh==", 4), FK_ERR_INVALID);
    assert_int_equal(fk_b64_decode_padded(out, sizeof out, &outlen, "Zg=a", 4), FK_ERR_INVALID);
    /* capacity: one byte short */
    assert_int_equal(fk_b64_decode(out, 2, &outlen, "Zm9v", 4), FK_ERR_LIMIT);
}

/* BIP173 "valid" checksums (those whose data is whole bytes). */
static const char *const bip173_valid[] = {
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
};

/* BIP173 invalid strings (the 90-character limit is not applied, as in age). */
static const char *const bip173_invalid[] = {
    " 1nwldj5", "\x7f" "1axkwrx", "\x80" "1eym55h", "pzry9x0s0muk", "1pzry9x0s0muk",
    "x1b4n0q5v", "li1dgmt3", "de1lg7wt\xff", "A1G7SGD8", "10a06t8", "1qzzfhee",
};

static void test_bech32_bip173(void **state)
{
    (void)state;
    char hrp[128], again[256];
    uint8_t data[128];
    size_t n;
    for (size_t i = 0; i < sizeof bip173_valid / sizeof bip173_valid[0]; i++) {
        const char *s = bip173_valid[i];
        assert_int_equal(fk_bech32_decode(hrp, sizeof hrp, data, sizeof data, &n, s, strlen(s)), FK_OK);
        /* re-encoding gives the lowercase form back */
        assert_int_equal(fk_bech32_encode(again, sizeof again, hrp, data, n), FK_OK);
        for (size_t j = 0; s[j]; j++)
            assert_int_equal(again[j], (s[j] >= 'A' && s[j] <= 'Z') ? s[j] + 32 : s[j]);
    }
    for (size_t i = 0; i < sizeof bip173_invalid / sizeof bip173_invalid[0]; i++) {
        const char *s = bip173_invalid[i];
        assert_int_not_equal(fk_bech32_decode(hrp, sizeof hrp, data, sizeof data, &n, s, strlen(s)), FK_OK);
    }
}

static void test_bech32_mixed_case_and_padding(void **state)
{
    (void)state;
    char hrp[16], s[128];
    uint8_t data[64], key[32];
    size_t n;
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(fk_bech32_encode(s, sizeof s, "age", key, 32), FK_OK);
    assert_int_equal(strlen(s), fk_bech32_enc_len(3, 32));
    assert_int_equal(fk_bech32_decode(hrp, sizeof hrp, data, sizeof data, &n, s, strlen(s)), FK_OK);
    assert_string_equal(hrp, "age");
    assert_int_equal(n, 32);
    assert_memory_equal(data, key, 32);
    s[5] = (char)(s[5] - 32 * (s[5] >= 'a' && s[5] <= 'z'));
    if (s[5] >= 'A' && s[5] <= 'Z') /* mixed case is refused */
        assert_int_equal(fk_bech32_decode(hrp, sizeof hrp, data, sizeof data, &n, s, strlen(s)), FK_ERR_INVALID);
    /* uppercase hrp yields an uppercase string that decodes to the same bytes */
    assert_int_equal(fk_bech32_encode(s, sizeof s, "AGE-SECRET-KEY-", key, 32), FK_OK);
    for (size_t j = 0; s[j]; j++)
        assert_false(s[j] >= 'a' && s[j] <= 'z');
    assert_int_equal(fk_bech32_decode(hrp, sizeof hrp, data, sizeof data, &n, s, strlen(s)), FK_OK);
    assert_string_equal(hrp, "age-secret-key-");
    assert_memory_equal(data, key, 32);
    /* one byte short of capacity */
    assert_int_equal(fk_bech32_decode(hrp, sizeof hrp, data, 31, &n, s, strlen(s)), FK_ERR_LIMIT);
}

static void test_hex_and_ct(void **state)
{
    (void)state;
    uint8_t b[4] = {0x00, 0xab, 0x10, 0xff}, d[4];
    char h[9];
    fk_hex_encode(h, b, 4);
    assert_string_equal(h, "00ab10ff");
    assert_int_equal(fk_hex_decode(d, 4, "00AB10ff", 8), FK_OK);
    assert_memory_equal(d, b, 4);
    assert_int_equal(fk_hex_decode(d, 4, "00ab10f", 7), FK_ERR_INVALID);
    assert_int_equal(fk_hex_decode(d, 4, "00ab10fg", 8), FK_ERR_INVALID);
    assert_true(fk_ct_eq(b, d, 4));
    d[3] ^= 1;
    assert_false(fk_ct_eq(b, d, 4));
    assert_string_equal(fk_strerror(FK_OK), "success");
    assert_string_equal(fk_strerror((fk_err)9999), "unknown error");
    for (int e = 0; e < FK_ERR__COUNT; e++)
        assert_string_not_equal(fk_strerror((fk_err)e), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_rfc4648),
        cmocka_unit_test(test_b64_all_bytes),
        cmocka_unit_test(test_b64_rejects),
        cmocka_unit_test(test_bech32_bip173),
        cmocka_unit_test(test_bech32_mixed_case_and_padding),
        cmocka_unit_test(test_hex_and_ct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
