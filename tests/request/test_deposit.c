/* Unit tests for source deposit records (docs/protocol.md 10): canonical
 * text, strict parsing, every field limit at and one past it, the signed
 * note, the size bound of the largest record, domain separation from
 * requests, and the target's validity proof. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fairkey.h>

static const char POLICY[] =
    "log example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx "
    "https://log.example.com/\nquorum none\n";

static void sample(fk_deposit *d)
{
    memset(d, 0, sizeof *d);
    memset(d->authority, 'a', 64);
    for (int i = 0; i < 32; i++) {
        d->target[i] = (uint8_t)i;
        d->target_ebar[i] = (uint8_t)(0x40 + i);
        d->archive_sha256[i] = (uint8_t)(0xa0 + i);
        d->ciphertext_sha256[i] = (uint8_t)(0xc0 + i);
        d->vendor_key[i] = (uint8_t)(0x10 + i);
    }
    for (int i = 0; i < FK_REQUEST_TARGET_BODY_LEN; i++)
        d->target_body[i] = (uint8_t)(0x80 + i);
    strcpy(d->vendor, "vendor.example/acme");
    strcpy(d->product, "acme-server");
    strcpy(d->version, "1.2.3");
    d->archive_size = 1048576;
    d->ciphertext_size = 1049000;
    d->nbinaries = 1;
    memset(d->binaries[0].sha256, 0x5a, 32);
    strcpy(d->binaries[0].name, "acme-server_1.2.3_amd64.deb");
    d->time = 1795000000;
}

static char *enc(const fk_deposit *d, size_t *len)
{
    static char buf[FK_DEPOSIT_NOTE_MAX + 1];
    assert_int_equal(fk_deposit_encode(buf, sizeof buf, len, d), FK_OK);
    return buf;
}

/* parse(text with `from` replaced by `to`) gives want. */
static void edited(const char *text, const char *from, const char *to, fk_err want)
{
    char buf[2 * FK_DEPOSIT_NOTE_MAX];
    const char *p = strstr(text, from);
    fk_deposit d;
    assert_non_null(p);
    size_t n = (size_t)(p - text);
    memcpy(buf, text, n);
    n += (size_t)sprintf(buf + n, "%s%s", to, p + strlen(from));
    assert_int_equal(fk_deposit_parse_text(&d, buf, n), want);
}

static void test_text(void **st)
{
    (void)st;
    fk_deposit d, p;
    size_t n;
    sample(&d);
    char *t = enc(&d, &n);
    /* The exact bytes (docs/protocol.md 10.1). */
    const char *want =
        "fairkey source deposit v1\n"
        "authority aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
        "target AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8 QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8 "
        "gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp+goaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2+v8DBwsPExcbHyMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f\n"
        "vendor vendor.example/acme EBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8\n"
        "product acme-server\n"
        "version 1.2.3\n"
        "archive a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf 1048576\n"
        "ciphertext c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf 1049000\n"
        "binary 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a acme-server_1.2.3_amd64.deb\n"
        "time 2026-11-18T11:06:40Z\n";
    assert_string_equal(t, want);
    assert_int_equal(fk_deposit_parse_text(&p, t, n), FK_OK);
    assert_memory_equal(&p, &d, sizeof d);
    /* No binaries; the largest sizes. */
    d.nbinaries = 0;
    memset(d.binaries, 0, sizeof d.binaries);
    d.archive_size = 0;
    d.ciphertext_size = FK_DEPOSIT_SIZE_MAX;
    t = enc(&d, &n);
    assert_non_null(strstr(t, " 0\nciphertext "));
    assert_non_null(strstr(t, " 9223372036854775807\ntime "));
    assert_int_equal(fk_deposit_parse_text(&p, t, n), FK_OK);
    assert_memory_equal(&p, &d, sizeof d);
    d.ciphertext_size++;
    char buf[FK_DEPOSIT_NOTE_MAX + 1];
    assert_int_equal(fk_deposit_encode(buf, sizeof buf, &n, &d), FK_ERR_INVALID);

    /* Anything the encoder would not write is refused. */
    sample(&d);
    t = enc(&d, &n);
    char text[FK_DEPOSIT_NOTE_MAX + 1];
    memcpy(text, t, n + 1);
    assert_int_equal(fk_deposit_parse_text(&p, text, n - 1), FK_ERR_INVALID); /* no final LF */
    edited(text, "v1\n", "v2\n", FK_ERR_INVALID);
    edited(text, "archive a0", "archive A0", FK_ERR_INVALID);             /* uppercase hex */
    edited(text, " 1048576\n", " 01048576\n", FK_ERR_INVALID);           /* leading zero */
    edited(text, " 1048576\n", " 9223372036854775808\n", FK_ERR_INVALID); /* 2^63 */
    edited(text, " 1048576\n", " 1048576 \n", FK_ERR_INVALID);
    edited(text, "product acme-server\n", "product acme server\n", FK_ERR_INVALID);
    edited(text, "product acme-server\n", "product \n", FK_ERR_INVALID);
    edited(text, "product acme-server\nversion 1.2.3\n", "version 1.2.3\nproduct acme-server\n",
           FK_ERR_INVALID);                                                 /* order */
    edited(text, "version 1.2.3\n", "", FK_ERR_INVALID);                   /* missing */
    edited(text, "version 1.2.3\n", "version 1.2.3\r\n", FK_ERR_INVALID);
    edited(text, "time 2026-11-18T11:06:40Z\n", "time 2026-11-18T11:06:40Z\nx\n", FK_ERR_INVALID);
    edited(text, "EBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8", "EBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi9",
           FK_ERR_INVALID);                                                 /* non-canonical b64 */
    edited(text, "binary ", "binary  ", FK_ERR_INVALID);
    edited(text, "ciphertext c0", "binary 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a x\nciphertext c0",
           FK_ERR_INVALID);                                                 /* binary before ciphertext */

    /* Limits at and one past: product and version 64, binary names 128,
     * 12 binaries. */
    sample(&d);
    memset(d.product, 'p', FK_DEPOSIT_TOKEN_MAX);
    memset(d.version, 'v', FK_DEPOSIT_TOKEN_MAX);
    memset(d.binaries[0].name, 'b', FK_DEPOSIT_BINARY_NAME_MAX);
    t = enc(&d, &n);
    assert_int_equal(fk_deposit_parse_text(&p, t, n), FK_OK);
    char longer[80];
    memset(longer, 'p', FK_DEPOSIT_TOKEN_MAX + 1);
    longer[FK_DEPOSIT_TOKEN_MAX + 1] = 0;
    memcpy(text, t, n + 1);
    char pl[80];
    snprintf(pl, sizeof pl, "product %.*s\n", FK_DEPOSIT_TOKEN_MAX, longer);
    char pl2[90];
    snprintf(pl2, sizeof pl2, "product %s\n", longer);
    edited(text, pl, pl2, FK_ERR_INVALID);
    char bn[140], bn2[140];
    memset(bn, 'b', FK_DEPOSIT_BINARY_NAME_MAX);
    bn[FK_DEPOSIT_BINARY_NAME_MAX] = '\n';
    bn[FK_DEPOSIT_BINARY_NAME_MAX + 1] = 0;
    memcpy(bn2, bn, sizeof bn);
    bn2[FK_DEPOSIT_BINARY_NAME_MAX] = 'b';
    bn2[FK_DEPOSIT_BINARY_NAME_MAX + 1] = '\n';
    bn2[FK_DEPOSIT_BINARY_NAME_MAX + 2] = 0;
    edited(text, bn, bn2, FK_ERR_INVALID);
    d.product[FK_DEPOSIT_TOKEN_MAX] = 'p'; /* 65, NUL after it (the struct has room) */
    assert_int_equal(fk_deposit_encode(buf, sizeof buf, &n, &d), FK_ERR_INVALID);

    sample(&d);
    d.nbinaries = FK_DEPOSIT_BINARIES_MAX;
    for (size_t i = 1; i < d.nbinaries; i++)
        d.binaries[i] = d.binaries[0];
    t = enc(&d, &n);
    assert_int_equal(fk_deposit_parse_text(&p, t, n), FK_OK);
    assert_int_equal(p.nbinaries, FK_DEPOSIT_BINARIES_MAX);
    memcpy(text, t, n + 1);
    char one[120];
    snprintf(one, sizeof one, "binary %s acme-server_1.2.3_amd64.deb\n",
             "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a");
    char two[240];
    snprintf(two, sizeof two, "%s%s", one, one);
    edited(text, one, two, FK_ERR_INVALID); /* 13 */
    d.nbinaries++;
    assert_int_equal(fk_deposit_encode(buf, sizeof buf, &n, &d), FK_ERR_INVALID);
    /* A buffer too small is a limit, not a bad record. */
    sample(&d);
    assert_int_equal(fk_deposit_encode(buf, 100, &n, &d), FK_ERR_LIMIT);
}

static void test_signed(void **st)
{
    (void)st;
    fk_deposit d, p;
    fk_requester_key k, other;
    char note[FK_DEPOSIT_NOTE_MAX + 1], copy[FK_DEPOSIT_NOTE_MAX + 2];
    size_t n;
    sample(&d);
    assert_int_equal(fk_requester_key_generate(&k, "vendor.example/acme"), FK_OK);
    assert_int_equal(fk_requester_key_generate(&other, "vendor.example/acme"), FK_OK);
    assert_int_equal(fk_deposit_sign(note, sizeof note, &n, &d, &k), FK_OK);
    assert_memory_equal(d.vendor_key, k.sign_pub, 32);
    assert_int_equal(fk_deposit_verify(&p, note, n), FK_OK);
    assert_memory_equal(&p, &d, sizeof d);
    assert_non_null(strstr(note, "\n\n\xe2\x80\x94 vendor.example/acme "));

    /* Changed after signing: the signature fails. */
    memcpy(copy, note, n + 1);
    *strstr(copy, "version 1.2.3") = 'V';
    assert_int_equal(fk_deposit_verify(&p, copy, n), FK_ERR_INVALID); /* "Version" is no tag */
    memcpy(copy, note, n + 1);
    strstr(copy, "version 1.2.3")[8] = '9';
    assert_int_equal(fk_deposit_verify(&p, copy, n), FK_ERR_SIGNATURE);
    /* Signed by another key under the same name: the record names the first. */
    fk_deposit e = d;
    char note2[FK_DEPOSIT_NOTE_MAX + 1];
    size_t n2;
    assert_int_equal(fk_deposit_sign(note2, sizeof note2, &n2, &e, &other), FK_OK);
    const char *sig2 = strstr(note2, "\n\n") + 2, *sig1 = strstr(note, "\n\n") + 2;
    memcpy(copy, note, (size_t)(sig1 - note));
    strcpy(copy + (sig1 - note), sig2);
    assert_int_equal(fk_deposit_verify(&p, copy, strlen(copy)), FK_ERR_SIGNATURE);
    /* A second signature line, or none. */
    memcpy(copy, note, n + 1);
    strcat(copy, strstr(note, "\n\n") + 2);
    assert_int_equal(fk_deposit_verify(&p, copy, strlen(copy)), FK_ERR_INVALID);
    assert_int_equal(fk_deposit_verify(&p, note, (size_t)(sig1 - note)), FK_ERR_INVALID);
    /* One byte past the note limit. */
    static char big[FK_DEPOSIT_NOTE_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    assert_int_equal(fk_deposit_verify(&p, big, FK_DEPOSIT_NOTE_MAX + 1), FK_ERR_LIMIT);

    /* The largest record (every field at its limit) signs within the note
     * limit, under the longest vendor name. */
    fk_requester_key lk;
    char name[FK_REQUEST_NAME_MAX + 1];
    memset(name, 'n', FK_REQUEST_NAME_MAX);
    name[FK_REQUEST_NAME_MAX] = 0;
    assert_int_equal(fk_requester_key_generate(&lk, name), FK_OK);
    memset(d.authority, 'f', FK_REQUEST_AUTHORITY_MAX);
    memset(d.product, 'p', FK_DEPOSIT_TOKEN_MAX);
    memset(d.version, 'v', FK_DEPOSIT_TOKEN_MAX);
    d.archive_size = d.ciphertext_size = FK_DEPOSIT_SIZE_MAX;
    d.time = 253402300799LL;
    d.nbinaries = FK_DEPOSIT_BINARIES_MAX;
    for (size_t i = 0; i < d.nbinaries; i++)
        memset(d.binaries[i].name, 'b', FK_DEPOSIT_BINARY_NAME_MAX);
    assert_int_equal(fk_deposit_sign(note, sizeof note, &n, &d, &lk), FK_OK);
    assert_true(n <= 3571);
    assert_int_equal(fk_deposit_verify(&p, note, n), FK_OK);

    /* Domain separation: a request is not a deposit, nor a deposit a request. */
    fk_request r;
    memset(&r, 0, sizeof r);
    strcpy(r.authority, "aaaa");
    strcpy(r.reason, "test");
    r.time = 1795000000;
    char rn[FK_REQUEST_NOTE_MAX + 1];
    size_t rl;
    assert_int_equal(fk_request_sign(rn, sizeof rn, &rl, &r, &k), FK_OK);
    assert_int_equal(fk_deposit_verify(&p, rn, rl), FK_ERR_INVALID);
    sample(&d);
    assert_int_equal(fk_deposit_sign(note, sizeof note, &n, &d, &k), FK_OK);
    assert_int_equal(fk_request_verify(&r, note, n), FK_ERR_INVALID);
    fk_requester_key_wipe(&k);
    fk_requester_key_wipe(&other);
    fk_requester_key_wipe(&lk);
}

static void test_target(void **st)
{
    (void)st;
    fk_escrow_authority *auth = malloc(sizeof *auth);
    fk_escrow_share *sh = NULL;
    fk_stanza s1, s2;
    fk_escrow_stanza_info i1, i2;
    uint8_t k1[16] = {1}, k2[16] = {2};
    fk_deposit d;
    assert_int_equal(fk_escrow_share_alloc(&sh, 1), FK_OK);
    assert_int_equal(fk_escrow_dealer(auth, sh, "deposit", 1, 1, POLICY, sizeof POLICY - 1), FK_OK);
    assert_int_equal(fk_escrow_stanza_make(&s1, auth->pk, k1), FK_OK);
    assert_int_equal(fk_escrow_stanza_make(&s2, auth->pk, k2), FK_OK);
    assert_int_equal(fk_escrow_stanza_parse(&i1, &s1), FK_OK);
    assert_int_equal(fk_escrow_stanza_parse(&i2, &s2), FK_OK);
    sample(&d);
    fk_deposit_target_set(&d, &i1);
    assert_int_equal(fk_deposit_target_verify(&d, auth->pk), FK_OK);
    memcpy(d.target, i2.e, 32); /* another file's E with this file's proof */
    assert_int_not_equal(fk_deposit_target_verify(&d, auth->pk), FK_OK);
    fk_stanza_clear(&s1);
    fk_stanza_clear(&s2);
    fk_escrow_share_free(sh, 1);
    free(auth);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_signed),
        cmocka_unit_test(test_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
