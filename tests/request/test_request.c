/* Unit tests for recovery requests: canonical text, signed note, key files,
 * allow-lists and sealed answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fairkey.h>

static void sample(fk_request *r)
{
    memset(r, 0, sizeof *r);
    strcpy(r->authority, "age1fairkey1example");
    for (int i = 0; i < 32; i++) {
        r->target[i] = (uint8_t)i;
        r->target_ebar[i] = (uint8_t)(0x40 + i);
        r->warrant[i] = (uint8_t)(0xa0 + i);
    }
    for (int i = 0; i < FK_REQUEST_TARGET_BODY_LEN; i++)
        r->target_body[i] = (uint8_t)(0x80 + i);
    strcpy(r->reason, "case 2026-17: suspected fraud");
    r->time = 1795000000; /* 2026-11-17T... */
}

static void test_time(void **st)
{
    char s[FK_REQUEST_TIME_STR_LEN + 1];
    int64_t t;
    assert_int_equal(fk_request_time_format(s, 0), FK_OK);
    assert_string_equal(s, "1970-01-01T00:00:00Z");
    assert_int_equal(fk_request_time_format(s, 951782400), FK_OK); /* leap day 2000 */
    assert_string_equal(s, "2000-02-29T00:00:00Z");
    assert_int_equal(fk_request_time_parse(&t, "2000-02-29T00:00:00Z", 20), FK_OK);
    assert_int_equal(t, 951782400);
    assert_int_equal(fk_request_time_parse(&t, "2024-12-31T23:59:59Z", 20), FK_OK);
    assert_int_equal(t, 1735689599);
    assert_int_equal(fk_request_time_parse(&t, "1900-02-29T00:00:00Z", 20), FK_ERR_INVALID);
    assert_int_equal(fk_request_time_parse(&t, "2001-02-29T00:00:00Z", 20), FK_ERR_INVALID);
    assert_int_equal(fk_request_time_parse(&t, "2024-12-31T23:59:60Z", 20), FK_ERR_INVALID);
    assert_int_equal(fk_request_time_parse(&t, "2024-12-31t23:59:59Z", 20), FK_ERR_INVALID);
    assert_int_equal(fk_request_time_parse(&t, "2024-12-31T23:59:59+00:00", 25), FK_ERR_INVALID);
    assert_int_equal(fk_request_time_parse(&t, "2024-13-01T00:00:00Z", 20), FK_ERR_INVALID);
    assert_int_equal(fk_request_time_format(s, -1), FK_ERR_INVALID);
}

static void test_encode_parse(void **st)
{
    fk_request r, p;
    fk_requester_key k;
    char buf[FK_REQUEST_NOTE_MAX + 1];
    size_t n;
    sample(&r);
    assert_int_equal(fk_requester_key_generate(&k, "example.gov/office-7"), FK_OK);
    memcpy(r.requester, k.name, sizeof r.requester);
    memcpy(r.requester_key, k.sign_pub, 32);
    memcpy(r.reply_to, k.reply_pub, 32);
    assert_int_equal(fk_request_encode(buf, sizeof buf, &n, &r), FK_OK);
    assert_int_equal(strlen(buf), n);
    static const char head[] =
        "fairkey recovery request v2\nauthority age1fairkey1example\n"
        "target AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8 "
        "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8 "
        "gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp+goaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2+v8"
        "DBwsPExcbHyMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f\n";
    assert_true(!strncmp(buf, head, sizeof head - 1));
    assert_int_equal(fk_request_parse_text(&p, buf, n), FK_OK);
    assert_memory_equal(&p, &r, sizeof r);
    /* one byte more or less, or a changed case, breaks it */
    assert_int_equal(fk_request_parse_text(&p, buf, n - 1), FK_ERR_INVALID);
    buf[n] = '\n';
    assert_int_equal(fk_request_parse_text(&p, buf, n + 1), FK_ERR_INVALID);
    char *w = strstr(buf, "warrant ");
    w[8] = 'A';
    assert_int_equal(fk_request_parse_text(&p, buf, n), FK_ERR_INVALID);
    fk_requester_key_wipe(&k);
}

static void test_limits(void **st)
{
    fk_request r, p;
    char buf[FK_REQUEST_NOTE_MAX + 1];
    size_t n;
    sample(&r);
    strcpy(r.requester, "x");
    memset(r.reason, 'a', FK_REQUEST_REASON_MAX);
    r.reason[FK_REQUEST_REASON_MAX] = 0;
    memset(r.authority, 'b', FK_REQUEST_AUTHORITY_MAX);
    r.authority[FK_REQUEST_AUTHORITY_MAX] = 0;
    memset(r.requester, 'c', FK_REQUEST_NAME_MAX);
    r.requester[FK_REQUEST_NAME_MAX] = 0;
    assert_int_equal(fk_request_encode(buf, sizeof buf, &n, &r), FK_OK);
    assert_int_equal(fk_request_parse_text(&p, buf, n), FK_OK);
    /* one past the reason limit: build text by hand */
    char big[FK_REQUEST_NOTE_MAX * 2];
    char *rs = strstr(buf, "\nreason ") + 8;
    size_t pre = (size_t)(rs - buf);
    memcpy(big, buf, pre);
    big[pre] = 'a';
    memcpy(big + pre + 1, rs, n - pre);
    assert_int_equal(fk_request_parse_text(&p, big, n + 1), FK_ERR_INVALID);
    /* control characters and a space in names are refused */
    sample(&r);
    strcpy(r.requester, "a b");
    assert_int_equal(fk_request_encode(buf, sizeof buf, &n, &r), FK_ERR_INVALID);
    strcpy(r.requester, "a+b");
    assert_int_equal(fk_request_encode(buf, sizeof buf, &n, &r), FK_ERR_INVALID);
    strcpy(r.requester, "ab");
    strcpy(r.reason, "tab\there");
    assert_int_equal(fk_request_encode(buf, sizeof buf, &n, &r), FK_ERR_INVALID);
    strcpy(r.reason, "ok");
    assert_int_equal(fk_request_encode(buf, 10, &n, &r), FK_ERR_LIMIT);
}

static void test_sign_verify(void **st)
{
    fk_request r, p;
    fk_requester_key k, k2;
    char note[FK_REQUEST_NOTE_MAX + 1];
    size_t n;
    sample(&r);
    assert_int_equal(fk_requester_key_generate(&k, "example.gov/office-7"), FK_OK);
    assert_int_equal(fk_requester_key_generate(&k2, "example.gov/office-7"), FK_OK);
    assert_int_equal(fk_request_sign(note, sizeof note, &n, &r, &k), FK_OK);
    assert_non_null(strstr(note, "\n\n\xe2\x80\x94 example.gov/office-7 "));
    assert_int_equal(fk_request_verify(&p, note, n), FK_OK);
    assert_memory_equal(&p, &r, sizeof r);
    /* change one character of the reason: the signature fails */
    char *c = strstr(note, "fraud");
    c[0] = 'F';
    assert_int_equal(fk_request_verify(&p, note, n), FK_ERR_SIGNATURE);
    c[0] = 'f';
    /* swap in another key's public key (same name): key id or signature fails */
    char other[FK_REQUEST_NOTE_MAX + 1];
    size_t n2;
    fk_request r2 = r;
    assert_int_equal(fk_request_sign(other, sizeof other, &n2, &r2, &k2), FK_OK);
    char *sig1 = strstr(note, "\n\n") + 2, *sig2 = strstr(other, "\n\n") + 2;
    char mix[FK_REQUEST_NOTE_MAX + 1];
    size_t t1 = (size_t)(sig2 - other);
    memcpy(mix, other, t1);
    strcpy(mix + t1, sig1);
    assert_int_equal(fk_request_verify(&p, mix, strlen(mix)), FK_ERR_SIGNATURE);
    /* a second signature line is refused */
    memcpy(mix, note, n);
    memcpy(mix + n, sig1, strlen(sig1) + 1);
    assert_int_equal(fk_request_verify(&p, mix, strlen(mix)), FK_ERR_INVALID);
    /* truncated */
    assert_int_equal(fk_request_verify(&p, note, n - 1), FK_ERR_INVALID);
    uint8_t h1[32], h2[32];
    assert_int_equal(fk_request_entry_hash(h1, note, n), FK_OK);
    assert_int_equal(fk_request_entry_hash(h2, other, n2), FK_OK);
    assert_memory_not_equal(h1, h2, 32);
    fk_requester_key_wipe(&k);
    fk_requester_key_wipe(&k2);
}

static void test_entry_hash_vector(void **st)
{
    /* RFC 6962 leaf hash of the empty entry: SHA-256(0x00). */
    uint8_t h[32];
    char hex[65];
    assert_int_equal(fk_request_entry_hash(h, "", 0), FK_OK);
    fk_hex_encode(hex, h, 32);
    assert_string_equal(hex, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
}

static void test_keyfile(void **st)
{
    fk_requester_key k, p;
    char *txt;
    size_t n;
    char line[FK_REQUESTER_PUB_LINE_MAX];
    assert_int_equal(fk_requester_key_generate(&k, "req"), FK_OK);
    assert_int_equal(fk_requester_key_encode(&txt, &n, &k), FK_OK);
    assert_int_equal(fk_requester_key_parse(&p, txt, n), FK_OK);
    assert_memory_equal(&p, &k, sizeof k);
    assert_int_equal(fk_requester_key_parse(&p, txt, n - 1), FK_ERR_INVALID);
    fk_wipe(txt, n);
    free(txt);
    assert_int_equal(fk_requester_key_public_line(line, sizeof line, &k), FK_OK);
    char list[1024];
    snprintf(list, sizeof list, "# allowed\n\nother AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n%s", line);
    assert_int_equal(fk_requesters_allowed(list, strlen(list), "req", k.sign_pub), FK_OK);
    assert_int_equal(fk_requesters_allowed(list, strlen(list), "other", k.sign_pub), FK_ERR_POLICY);
    assert_int_equal(fk_requesters_allowed(list, strlen("# allowed\n"), "req", k.sign_pub), FK_ERR_POLICY);
    assert_int_equal(fk_requesters_allowed("bad line\n", 9, "req", k.sign_pub), FK_ERR_INVALID);
    assert_int_equal(fk_requester_key_generate(&k, "has space"), FK_ERR_INVALID);
    fk_requester_key_wipe(&k);
}

static void test_seal(void **st)
{
    fk_requester_key k, k2;
    uint8_t eh[32] = {1}, eh2[32] = {2}, pt[100], sealed[200], out[FK_ANSWER_PLAIN_MAX];
    size_t sl, ol;
    for (int i = 0; i < 100; i++)
        pt[i] = (uint8_t)(i * 7);
    assert_int_equal(fk_requester_key_generate(&k, "a"), FK_OK);
    assert_int_equal(fk_requester_key_generate(&k2, "b"), FK_OK);
    assert_int_equal(fk_answer_seal(sealed, sizeof sealed, &sl, k.reply_pub, eh, 3, pt, 100), FK_OK);
    assert_int_equal(sl, 100 + FK_ANSWER_OVERHEAD);
    assert_int_equal(fk_answer_open(out, sizeof out, &ol, k.reply_secret, eh, 3, sealed, sl), FK_OK);
    assert_int_equal(ol, 100);
    assert_memory_equal(out, pt, 100);
    assert_int_equal(fk_answer_open(out, sizeof out, &ol, k.reply_secret, eh2, 3, sealed, sl), FK_ERR_CRYPTO);
    assert_int_equal(fk_answer_open(out, sizeof out, &ol, k.reply_secret, eh, 4, sealed, sl), FK_ERR_CRYPTO);
    assert_int_equal(fk_answer_open(out, sizeof out, &ol, k2.reply_secret, eh, 3, sealed, sl), FK_ERR_CRYPTO);
    sealed[40] ^= 1;
    assert_int_equal(fk_answer_open(out, sizeof out, &ol, k.reply_secret, eh, 3, sealed, sl), FK_ERR_CRYPTO);
    assert_int_equal(fk_answer_open(out, sizeof out, &ol, k.reply_secret, eh, 3, sealed, 47), FK_ERR_INVALID);
    uint8_t big[FK_ANSWER_PLAIN_MAX + 1] = {0};
    uint8_t bs[FK_ANSWER_PLAIN_MAX + 100];
    assert_int_equal(fk_answer_seal(bs, sizeof bs, &sl, k.reply_pub, eh, 3, big, sizeof big), FK_ERR_LIMIT);
    assert_int_equal(fk_answer_seal(bs, sizeof bs, &sl, k.reply_pub, eh, 3, big, sizeof big - 1), FK_OK);
    fk_requester_key_wipe(&k);
    fk_requester_key_wipe(&k2);
}

/* Every single-bit change anywhere in a sealed answer (ephemeral key,
 * ciphertext, tag), a low-order ephemeral key, and a sealed answer cut or
 * extended by one byte fail to open, and the output buffer is left as it
 * was: nothing unauthenticated is released. */
static void test_seal_tamper(void **st)
{
    fk_requester_key k;
    uint8_t eh[32] = {9}, pt[98], sealed[98 + FK_ANSWER_OVERHEAD + 1], out[FK_ANSWER_PLAIN_MAX];
    uint8_t before[FK_ANSWER_PLAIN_MAX];
    size_t sl, ol = 12345;
    for (size_t i = 0; i < sizeof pt; i++)
        pt[i] = (uint8_t)(i + 1);
    assert_int_equal(fk_requester_key_generate(&k, "court.test/judge"), FK_OK);
    assert_int_equal(fk_answer_seal(sealed, sizeof sealed, &sl, k.reply_pub, eh, 2, pt, sizeof pt),
                     FK_OK);
    assert_int_equal(sl, sizeof pt + FK_ANSWER_OVERHEAD);
    memset(out, 0xA5, sizeof out);
    memcpy(before, out, sizeof out);
    for (size_t i = 0; i < sl; i++) {
        for (int bit = 0; bit < 8; bit++) {
            sealed[i] ^= (uint8_t)(1u << bit);
            assert_int_equal(fk_answer_open(out, sizeof out, &ol, k.reply_secret, eh, 2, sealed, sl),
                             FK_ERR_CRYPTO);
            sealed[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_memory_equal(out, before, sizeof out);
    assert_int_equal(ol, 12345);
    /* One byte short or long: the tag is taken from elsewhere. */
    assert_int_equal(fk_answer_open(out, sizeof out, &ol, k.reply_secret, eh, 2, sealed, sl - 1),
                     FK_ERR_CRYPTO);
    sealed[sl] = 0;
    assert_int_equal(fk_answer_open(out, sizeof out, &ol, k.reply_secret, eh, 2, sealed, sl + 1),
                     FK_ERR_CRYPTO);
    /* A low-order ephemeral key gives an all-zero shared secret: refused. */
    uint8_t low[sizeof sealed];
    memcpy(low, sealed, sl);
    memset(low, 0, 32);
    assert_int_equal(fk_answer_open(out, sizeof out, &ol, k.reply_secret, eh, 2, low, sl),
                     FK_ERR_CRYPTO);
    memset(low, 0, 32);
    low[0] = 1; /* the point of order 1 in u-coordinates */
    assert_int_equal(fk_answer_open(out, sizeof out, &ol, k.reply_secret, eh, 2, low, sl),
                     FK_ERR_CRYPTO);
    assert_memory_equal(out, before, sizeof out);
    /* The output buffer one byte too small: a limit, not an open. */
    assert_int_equal(fk_answer_open(out, sizeof pt - 1, &ol, k.reply_secret, eh, 2, sealed, sl),
                     FK_ERR_LIMIT);
    /* And the untouched answer still opens. */
    assert_int_equal(fk_answer_open(out, sizeof out, &ol, k.reply_secret, eh, 2, sealed, sl), FK_OK);
    assert_int_equal(ol, sizeof pt);
    assert_memory_equal(out, pt, sizeof pt);
    /* A sealed answer never repeats: a fresh ephemeral key each time. */
    uint8_t again[sizeof sealed];
    size_t al;
    assert_int_equal(fk_answer_seal(again, sizeof again, &al, k.reply_pub, eh, 2, pt, sizeof pt),
                     FK_OK);
    assert_int_equal(al, sl);
    assert_memory_not_equal(again, sealed, 32);
    fk_requester_key_wipe(&k);
}

static char *read_testdata(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", FK_TESTDATA, rel);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[16384];
    *len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[*len] = 0;
    return buf;
}

/* Receipts: a tlog-proof (here around an outside log's checkpoint) whose
 * extra data is the request note; the note is at most FK_REQUEST_NOTE_MAX
 * bytes, and a receipt without extra data is not a receipt. */
static void test_receipt(void **st)
{
    size_t cplen, rlen, nl;
    const char *cp = read_testdata("merkle/tessera-posix-log/checkpoint", &cplen);
    static char receipt[FK_TLOG_PROOF_MAX_SIZE + 8192], note[FK_REQUEST_NOTE_MAX + 1];
    static uint8_t extra[FK_REQUEST_NOTE_MAX + 1];
    static fk_tlog_proof p;
    fk_requester_key k;
    fk_request r;
    char signed_note[FK_REQUEST_NOTE_MAX + 1];
    size_t sl;
    sample(&r);
    assert_int_equal(fk_requester_key_generate(&k, "court.test/judge"), FK_OK);
    assert_int_equal(fk_request_sign(signed_note, sizeof signed_note, &sl, &r, &k), FK_OK);
    assert_int_equal(fk_tlog_proof_encode((const uint8_t *)signed_note, sl, 0, NULL, 0, cp, cplen,
                                          receipt, sizeof receipt, &rlen), FK_OK);
    assert_int_equal(fk_request_receipt_parse(&p, note, &nl, receipt, rlen), FK_OK);
    assert_int_equal(nl, sl);
    assert_memory_equal(note, signed_note, sl);
    assert_int_equal(note[nl], 0);
    fk_request got;
    assert_int_equal(fk_request_verify(&got, note, nl), FK_OK);

    /* At the limit, and one past it. */
    memset(extra, 'x', sizeof extra);
    assert_int_equal(fk_tlog_proof_encode(extra, FK_REQUEST_NOTE_MAX, 0, NULL, 0, cp, cplen,
                                          receipt, sizeof receipt, &rlen), FK_OK);
    assert_int_equal(fk_request_receipt_parse(&p, note, &nl, receipt, rlen), FK_OK);
    assert_int_equal(nl, FK_REQUEST_NOTE_MAX);
    static char b64[8192]; /* more than the base64 of FK_REQUEST_NOTE_MAX + 1 bytes */
    size_t bl = fk_b64_encode_padded(b64, extra, FK_REQUEST_NOTE_MAX + 1);
    rlen = (size_t)snprintf(receipt, sizeof receipt, "c2sp.org/tlog-proof@v1\nextra %.*s\nindex 0\n\n%s",
                            (int)bl, b64, cp);
    assert_int_equal(fk_request_receipt_parse(&p, note, &nl, receipt, rlen), FK_ERR_LIMIT);

    /* No extra data; unpadded extra data. */
    assert_int_equal(fk_tlog_proof_encode(NULL, 0, 0, NULL, 0, cp, cplen, receipt, sizeof receipt,
                                          &rlen), FK_OK);
    assert_int_equal(fk_request_receipt_parse(&p, note, &nl, receipt, rlen), FK_ERR_INVALID);
    rlen = (size_t)snprintf(receipt, sizeof receipt, "c2sp.org/tlog-proof@v1\nextra eHg\nindex 0\n\n%s", cp);
    assert_int_equal(fk_request_receipt_parse(&p, note, &nl, receipt, rlen), FK_ERR_INVALID);
    rlen = (size_t)snprintf(receipt, sizeof receipt, "c2sp.org/tlog-proof@v1\nextra eHg=\nindex 0\n\n%s", cp);
    assert_int_equal(fk_request_receipt_parse(&p, note, &nl, receipt, rlen), FK_OK);
    assert_int_equal(nl, 2);
    fk_requester_key_wipe(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time),         cmocka_unit_test(test_encode_parse),
        cmocka_unit_test(test_limits),       cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_entry_hash_vector), cmocka_unit_test(test_keyfile),
        cmocka_unit_test(test_seal),         cmocka_unit_test(test_seal_tamper),
        cmocka_unit_test(test_receipt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
