/*
 * Unit tests for the age module: STREAM round trips across sizes and thread
 * counts, identical output for every thread count, payload failures
 * (truncation, corruption, trailing data), armor and header round trips, the
 * header size limit, scrypt limits, keys and identity files.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <fairkey.h>
#include "age/fd_helpers.h"
#include "age/internal.h"

#define CHUNK FK_AGE_CHUNK_LEN
#define CT FKI_CT_CHUNK_LEN

/* ---- helpers ----------------------------------------------------------- */

/* Input mode for the helpers below: a memfd (regular file, positional reads)
 * or a pipe. */
static int use_pipe;

static int input_fd(const uint8_t *data, size_t len)
{
    return use_pipe ? pipe_fd(data, len) : mem_fd(data, len);
}

static void input_done(int fd)
{
    close(fd);
    if (use_pipe)
        while (wait(NULL) > 0)
            ;
}

static uint8_t *fd_contents(int fd, size_t *len)
{
    off_t end = lseek(fd, 0, SEEK_END);
    uint8_t *b = malloc((size_t)end + 1);
    assert_non_null(b);
    assert_int_equal(pread(fd, b, (size_t)end, 0), (ssize_t)end);
    *len = (size_t)end;
    return b;
}

static uint8_t *pattern(size_t n, unsigned seed)
{
    uint8_t *b = malloc(n + 1);
    uint32_t x = seed * 2654435761u + 1;
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (uint8_t)x;
    }
    return b;
}

typedef struct keys {
    fk_recipient *r;
    fk_identity *id;
} keys;

static void keys_new(keys *k)
{
    char s[FK_AGE_IDENTITY_STR_MAX], r[FK_AGE_RECIPIENT_STR_MAX];
    assert_int_equal(fk_x25519_keygen(s, r), FK_OK);
    assert_int_equal(fk_recipient_parse(&k->r, r), FK_OK);
    assert_int_equal(fk_identity_parse(&k->id, s), FK_OK);
}

static void keys_free(keys *k)
{
    fk_recipient_free(k->r);
    fk_identity_free(k->id);
}

/* Encrypt pt; returns the ciphertext. */
static uint8_t *enc(keys *k, const uint8_t *pt, size_t n, unsigned threads, int armor,
                    size_t *ctlen)
{
    int in = input_fd(pt, n), out = memfd_create("ct", 0);
    fk_encrypt_opts o = {.armor = armor, .threads = threads};
    assert_int_equal(fk_age_encrypt_fd(in, out, &k->r, 1, &o), FK_OK);
    uint8_t *ct = fd_contents(out, ctlen);
    input_done(in);
    close(out);
    return ct;
}

/* Decrypt ct; returns the error, the released plaintext in *pt. */
static fk_err dec(keys *k, const uint8_t *ct, size_t n, unsigned threads, uint8_t **pt,
                  size_t *ptlen, fk_decrypt_info *info)
{
    int in = input_fd(ct, n), out = memfd_create("pt", 0);
    fk_decrypt_opts o = {.threads = threads};
    fk_err e = fk_age_decrypt_fd(in, out, &k->id, 1, &o, info);
    *pt = fd_contents(out, ptlen);
    input_done(in);
    close(out);
    return e;
}

/* Offset of the payload (the nonce) in a binary file. */
static size_t payload_off(const uint8_t *ct, size_t n)
{
    fk_header h;
    size_t used = 0;
    assert_int_equal(fk_header_parse(&h, ct, n, &used), FK_OK);
    fk_header_clear(&h);
    return used;
}

/* ---- STREAM ------------------------------------------------------------- */

static const size_t sizes[] = {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5,
                               8 * CHUNK, 16 * CHUNK, 16 * CHUNK + 1};
static const unsigned thread_counts[] = {1, 2, 3, 8};

static void test_roundtrip_sizes_threads(void **state)
{
    keys k;
    (void)state;
    keys_new(&k);
    for (size_t m = 0; m < 2 * sizeof sizes / sizeof *sizes; m++) {
        size_t i = m / 2;
        use_pipe = m & 1;
        uint8_t *pt = pattern(sizes[i], (unsigned)i);
        for (size_t t = 0; t < sizeof thread_counts / sizeof *thread_counts; t++) {
            size_t ctlen, outlen;
            uint8_t *out;
            fk_decrypt_info info;
            uint8_t *ct = enc(&k, pt, sizes[i], thread_counts[t], 0, &ctlen);
            size_t chunks = sizes[i] ? (sizes[i] + CHUNK - 1) / CHUNK : 1;
            /* header + nonce + chunks, each with a 16-byte tag */
            assert_int_equal(ctlen - payload_off(ct, ctlen), 16 + sizes[i] + 16 * chunks);
            /* decrypt with a different thread count than encrypt */
            unsigned dt = thread_counts[(t + 1) % 4];
            assert_int_equal(dec(&k, ct, ctlen, dt, &out, &outlen, &info), FK_OK);
            assert_int_equal(outlen, sizes[i]);
            assert_int_equal(info.plaintext_len, sizes[i]);
            assert_int_equal(info.armored, 0);
            assert_memory_equal(out, pt, sizes[i]);
            free(out);
            free(ct);
        }
        free(pt);
    }
    use_pipe = 0;
    keys_free(&k);
}

static void test_same_output_any_threads(void **state)
{
    static const uint8_t fkey[16] = "YELLOW SUBMARINE", nonce[16] = "0123456789abcdef";
    /* 131 chunks: several batches for every thread count, short last chunk;
     * from a regular file (positional reads) and from a pipe (batches that
     * grow from one chunk), both ways. */
    size_t n = 131 * CHUNK - 1000, first_len = 0;
    uint8_t *pt = pattern(n, 7), *first = NULL;
    (void)state;
    for (size_t m = 0; m < 2 * sizeof thread_counts / sizeof *thread_counts; m++) {
        size_t t = m / 2;
        use_pipe = m & 1;
        int in = input_fd(pt, n), out = memfd_create("o", 0), back = memfd_create("b", 0);
        size_t len, blen;
        uint64_t written = 0;
        assert_int_equal(fki_payload_encrypt_fd(in, out, fkey, nonce, thread_counts[t]), FK_OK);
        input_done(in);
        uint8_t *ct = fd_contents(out, &len);
        assert_int_equal(len, 16 + n + 131 * 16);
        int cin = input_fd(ct, len);
        assert_int_equal(fki_payload_decrypt_fd(cin, back, fkey, thread_counts[t], &written),
                         FK_OK);
        input_done(cin);
        if (!first) {
            first = ct;
            first_len = len;
        } else {
            assert_int_equal(len, first_len);
            assert_memory_equal(ct, first, len);
            free(ct);
        }
        uint8_t *rt = fd_contents(back, &blen);
        assert_int_equal(blen, n);
        assert_int_equal(written, n);
        assert_memory_equal(rt, pt, n);
        free(rt);
        close(out);
        close(back);
    }
    use_pipe = 0;
    free(first);
    free(pt);
}

/* Decrypt a damaged file with every thread count: the error and exactly
 * `released` bytes of plaintext. */
static void expect_failure(keys *k, const uint8_t *ct, size_t len, const uint8_t *pt,
                           size_t released, fk_err want)
{
    for (size_t m = 0; m < 2 * sizeof thread_counts / sizeof *thread_counts; m++) {
        size_t t = m / 2;
        use_pipe = m & 1;
        uint8_t *out;
        size_t outlen;
        assert_int_equal(dec(k, ct, len, thread_counts[t], &out, &outlen, NULL), want);
        assert_int_equal(outlen, released);
        assert_memory_equal(out, pt, released);
        free(out);
    }
    use_pipe = 0;
}

static void test_payload_failures(void **state)
{
    keys k;
    size_t n = 20 * CHUNK + 100, ctlen, off;
    uint8_t *pt = pattern(n, 3), *ct, *bad;
    (void)state;
    keys_new(&k);
    ct = enc(&k, pt, n, 2, 0, &ctlen);
    off = payload_off(ct, ctlen) + 16; /* first chunk */
    bad = malloc(ctlen + 2 * CT + 10);

    /* truncated by one byte: the last chunk fails, 20 chunks were released */
    expect_failure(&k, ct, ctlen - 1, pt, 20 * CHUNK, FK_ERR_PAYLOAD);
    /* the whole last chunk missing: chunk 19 is not final */
    expect_failure(&k, ct, ctlen - (100 + 16), pt, 20 * CHUNK, FK_ERR_PAYLOAD);
    /* cut inside the tag of chunk 5 */
    expect_failure(&k, ct, off + 5 * CT + CT - 3, pt, 5 * CHUNK, FK_ERR_PAYLOAD);
    /* only the nonce: no chunk at all */
    expect_failure(&k, ct, off, pt, 0, FK_ERR_PAYLOAD);
    /* nonce cut short: a header failure, as CCTV expects */
    expect_failure(&k, ct, off - 3, pt, 0, FK_ERR_HEADER);
    /* corrupt chunk 9 (the second batch for 1 thread) */
    memcpy(bad, ct, ctlen);
    bad[off + 9 * CT + 77] ^= 1;
    expect_failure(&k, bad, ctlen, pt, 9 * CHUNK, FK_ERR_PAYLOAD);
    /* corrupt a tag of chunk 0 */
    memcpy(bad, ct, ctlen);
    bad[off + CT - 1] ^= 0x80;
    expect_failure(&k, bad, ctlen, pt, 0, FK_ERR_PAYLOAD);
    /* trailing data after a short final chunk becomes part of it: that chunk
     * fails (as in the reference implementation) */
    memcpy(bad, ct, ctlen);
    memset(bad + ctlen, 0, 10);
    expect_failure(&k, bad, ctlen + 1, pt, 20 * CHUNK, FK_ERR_PAYLOAD);
    expect_failure(&k, bad, ctlen + 10, pt, 20 * CHUNK, FK_ERR_PAYLOAD);
    /* an extra full chunk appended (a copy of chunk 3) */
    memcpy(bad, ct, ctlen);
    memcpy(bad + ctlen, ct + off + 3 * CT, CT);
    expect_failure(&k, bad, ctlen + CT, pt, 20 * CHUNK, FK_ERR_PAYLOAD);
    free(ct);
    /* a full final chunk followed by data: everything released, then error */
    ct = enc(&k, pt, 16 * CHUNK, 2, 0, &ctlen);
    memcpy(bad, ct, ctlen);
    memset(bad + ctlen, 'x', CT + 5);
    expect_failure(&k, bad, ctlen + 1, pt, 16 * CHUNK, FK_ERR_PAYLOAD);
    expect_failure(&k, bad, ctlen + CT + 5, pt, 16 * CHUNK, FK_ERR_PAYLOAD);
    /* ... and without its last chunk, chunk 14 is not final: released, error */
    expect_failure(&k, ct, ctlen - CT, pt, 15 * CHUNK, FK_ERR_PAYLOAD);
    free(ct);
    ct = enc(&k, pt, n, 2, 0, &ctlen);
    /* chunks 3 and 4 swapped: chunk 3's place fails */
    memcpy(bad, ct, ctlen);
    memcpy(bad + off + 3 * CT, ct + off + 4 * CT, CT);
    memcpy(bad + off + 4 * CT, ct + off + 3 * CT, CT);
    expect_failure(&k, bad, ctlen, pt, 3 * CHUNK, FK_ERR_PAYLOAD);
    /* header MAC flipped */
    memcpy(bad, ct, ctlen);
    bad[off - 16 - 2] ^= 1; /* a base64 character of the MAC; may become non-canonical */
    {
        uint8_t *out;
        size_t outlen;
        fk_err e = dec(&k, bad, ctlen, 2, &out, &outlen, NULL);
        assert_true(e == FK_ERR_HMAC || e == FK_ERR_HEADER);
        assert_int_equal(outlen, 0);
        free(out);
    }
    free(bad);
    free(ct);
    free(pt);
    keys_free(&k);
}

static void test_full_last_chunk_and_empty(void **state)
{
    /* A file whose plaintext is exactly one chunk ends with a full final
     * chunk; an empty file has one empty final chunk. */
    keys k;
    size_t ctlen;
    uint8_t *pt = pattern(CHUNK, 1), *ct;
    (void)state;
    keys_new(&k);
    ct = enc(&k, pt, CHUNK, 1, 0, &ctlen);
    assert_int_equal(ctlen - payload_off(ct, ctlen), 16 + CT);
    free(ct);
    ct = enc(&k, pt, 0, 1, 0, &ctlen);
    assert_int_equal(ctlen - payload_off(ct, ctlen), 16 + 16);
    free(ct);
    free(pt);
    keys_free(&k);
}

static void test_armored_file(void **state)
{
    keys k;
    size_t ctlen, outlen;
    uint8_t *pt = pattern(3 * CHUNK + 5, 9), *ct, *out;
    fk_decrypt_info info;
    (void)state;
    keys_new(&k);
    ct = enc(&k, pt, 3 * CHUNK + 5, 2, 1, &ctlen);
    assert_memory_equal(ct, FKI_ARMOR_BEGIN "\n", sizeof FKI_ARMOR_BEGIN);
    assert_memory_equal(ct + ctlen - sizeof FKI_ARMOR_END, FKI_ARMOR_END "\n",
                        sizeof FKI_ARMOR_END);
    for (size_t i = 0, col = 0; i < ctlen; i++, col++) { /* 64 columns at most */
        if (ct[i] == '\n')
            col = (size_t)-1;
        else
            assert_true(col < 64 || ct[i] == '-');
    }
    assert_int_equal(dec(&k, ct, ctlen, 3, &out, &outlen, &info), FK_OK);
    assert_int_equal(info.armored, 1);
    assert_int_equal(outlen, 3 * CHUNK + 5);
    assert_memory_equal(out, pt, outlen);
    free(out);
    /* garbage after the end line is an armor failure */
    ct = realloc(ct, ctlen + 3);
    memcpy(ct + ctlen, "x\n", 2);
    assert_int_equal(dec(&k, ct, ctlen + 2, 3, &out, &outlen, &info), FK_ERR_ARMOR);
    free(out);
    free(ct);
    free(pt);
    keys_free(&k);
}

/* ---- armor buffer API ----------------------------------------------------- */

static void test_armor_roundtrip(void **state)
{
    (void)state;
    for (size_t n = 0; n < 300; n += (n < 100 ? 1 : 47)) {
        uint8_t *in = pattern(n, (unsigned)n), *dec_ = NULL;
        char *enc_ = NULL;
        size_t elen = 0, dlen = 0;
        assert_int_equal(fk_armor_encode(&enc_, &elen, in, n), FK_OK);
        assert_int_equal(strlen(enc_), elen);
        assert_int_equal(fk_armor_decode(&dec_, &dlen, (uint8_t *)enc_, elen), FK_OK);
        assert_int_equal(dlen, n);
        assert_memory_equal(dec_, in, n);
        free(dec_);
        dec_ = NULL;
        /* without the final newline, with CRLF line ends: still valid */
        assert_int_equal(fk_armor_decode(&dec_, &dlen, (uint8_t *)enc_, elen - 1), FK_OK);
        assert_int_equal(dlen, n);
        free(dec_);
        dec_ = NULL;
        {
            char *crlf = malloc(2 * elen + 1);
            size_t c = 0;
            for (size_t i = 0; i < elen; i++) {
                if (enc_[i] == '\n')
                    crlf[c++] = '\r';
                crlf[c++] = enc_[i];
            }
            assert_int_equal(fk_armor_decode(&dec_, &dlen, (uint8_t *)crlf, c), FK_OK);
            assert_int_equal(dlen, n);
            free(dec_);
            dec_ = NULL;
            free(crlf);
        }
        free(enc_);
        free(in);
    }
}

static void test_armor_strict(void **state)
{
    static const char *const bad[] = {
        "-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\n",                                   /* no end */
        "-----BEGIN AGE ENCRYPTED FILE-----\nYWJ=\n-----END AGE ENCRYPTED FILE-----\n", /* non-canonical */
        "-----BEGIN AGE ENCRYPTED FILE-----\nYWI\n-----END AGE ENCRYPTED FILE-----\n",  /* unpadded */
        "-----BEGIN AGE ENCRYPTED FILE-----\n YWJj\n-----END AGE ENCRYPTED FILE-----\n",
        "-----BEGIN AGE ENCRYPTED FILE-----\nYWJj \n-----END AGE ENCRYPTED FILE-----\n",
        "-----BEGIN AGE ENCRYPTED FILE-----\nYQ==\nYWJj\n-----END AGE ENCRYPTED FILE-----\n",
        "-----BEGIN AGE ENCRYPTED FILE-----\n\nYWJj\n-----END AGE ENCRYPTED FILE-----\n",
        "-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\n-----END AGE ENCRYPTED FILE-----\nx",
        "x-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\n-----END AGE ENCRYPTED FILE-----\n",
        "-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\r\r\n-----END AGE ENCRYPTED FILE-----\n",
    };
    uint8_t *out;
    size_t len;
    char big[2 * FKI_ARMOR_MAX_SPACE + 200];
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(fk_armor_decode(&out, &len, (const uint8_t *)bad[i], strlen(bad[i])),
                         FK_ERR_ARMOR);
    /* whitespace around the block: up to the limit, and one past it */
    snprintf(big, sizeof big, "%*s-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\n"
             "-----END AGE ENCRYPTED FILE-----\n%*s", FKI_ARMOR_MAX_SPACE, "",
             FKI_ARMOR_MAX_SPACE - 1, "");
    assert_int_equal(fk_armor_decode(&out, &len, (uint8_t *)big, strlen(big)), FK_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(out, "abc", 3);
    free(out);
    snprintf(big, sizeof big, "%*s-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\n"
             "-----END AGE ENCRYPTED FILE-----\n", FKI_ARMOR_MAX_SPACE + 1, "");
    assert_int_equal(fk_armor_decode(&out, &len, (uint8_t *)big, strlen(big)), FK_ERR_ARMOR);
    snprintf(big, sizeof big, "-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\n"
             "-----END AGE ENCRYPTED FILE-----\n%*s", FKI_ARMOR_MAX_SPACE, "");
    assert_int_equal(fk_armor_decode(&out, &len, (uint8_t *)big, strlen(big)), FK_OK);
    free(out);
    snprintf(big, sizeof big, "-----BEGIN AGE ENCRYPTED FILE-----\nYWJj\n"
             "-----END AGE ENCRYPTED FILE-----\n%*s", FKI_ARMOR_MAX_SPACE + 1, "");
    assert_int_equal(fk_armor_decode(&out, &len, (uint8_t *)big, strlen(big)), FK_ERR_ARMOR);
}

/* ---- header ---------------------------------------------------------------- */

static void test_header_roundtrip(void **state)
{
    static const uint8_t fkey[16] = "0123456789abcdef", other[16] = "0123456789abcdeX";
    static const size_t body_lens[] = {0, 1, 47, 48, 49, 95, 96, 97, 300};
    const char *args[3] = {"example.com/type", "a!~\"b", "x"};
    fk_stanza st[9];
    fk_header h, p;
    uint8_t *enc_ = NULL, *body = pattern(300, 5);
    size_t elen = 0, used = 0, n = sizeof body_lens / sizeof *body_lens;
    (void)state;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(fk_stanza_init(&st[i], args, 1 + i % 3, body, body_lens[i]), FK_OK);
    assert_int_equal(fk_header_build(&h, st, n, fkey), FK_OK);
    assert_int_equal(fk_header_encode(&h, &enc_, &elen), FK_OK);
    assert_int_equal(fk_header_parse(&p, enc_, elen, &used), FK_OK);
    assert_int_equal(used, elen);
    assert_int_equal(p.nstanzas, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(p.stanzas[i].nargs, 1 + i % 3);
        for (size_t j = 0; j < p.stanzas[i].nargs; j++)
            assert_string_equal(p.stanzas[i].args[j], args[j]);
        assert_int_equal(p.stanzas[i].body_len, body_lens[i]);
        assert_memory_equal(p.stanzas[i].body, body, body_lens[i]);
    }
    assert_int_equal(fk_header_verify_mac(&p, fkey), FK_OK);
    assert_int_equal(fk_header_verify_mac(&p, other), FK_ERR_HMAC);
    /* every proper prefix is "incomplete", never an error */
    for (size_t cut = 0; cut < elen; cut++) {
        fk_header q;
        assert_int_equal(fk_header_parse(&q, enc_, cut, &used), FK_ERR_INVALID);
        assert_int_equal(used, 0);
    }
    /* invalid arguments are refused when building */
    const char *sp[1] = {"a b"}, *empty[1] = {""};
    fk_stanza bad;
    assert_int_equal(fk_stanza_init(&bad, sp, 1, NULL, 0), FK_ERR_INVALID);
    assert_int_equal(fk_stanza_init(&bad, empty, 1, NULL, 0), FK_ERR_INVALID);
    assert_int_equal(fk_header_build(&h, st, 0, fkey), FK_ERR_INVALID);
    fk_header_clear(&h);
    fk_header_clear(&p);
    for (size_t i = 0; i < n; i++)
        fk_stanza_clear(&st[i]);
    free(enc_);
    free(body);
}

static void test_header_malformed(void **state)
{
    static const char *const bad[] = {
        "age-encryption.org/v2\n-> X\n\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        "age-encryption.org/v1\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", /* no stanza */
        "age-encryption.org/v1\n->\n\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        "age-encryption.org/v1\n-> X \n\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        "age-encryption.org/v1\n-> X\nAB\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        "age-encryption.org/v1\n-> X\n\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB\n",
        "age-encryption.org/v1\n-> X\n\n---AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        "age-encryption.org/v1\r\n-> X\n\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        "garbage",
    };
    static const char good[] =
        "age-encryption.org/v1\n-> X\n\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nrest";
    fk_header h;
    size_t used;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(fk_header_parse(&h, (const uint8_t *)bad[i], strlen(bad[i]), &used),
                         FK_ERR_HEADER);
    assert_int_equal(fk_header_parse(&h, (const uint8_t *)good, strlen(good), &used), FK_OK);
    assert_int_equal(used, strlen(good) - 4);
    fk_header_clear(&h);
}

/* A header of exactly `total` bytes: one stanza with a long zero body. */
static uint8_t *header_of_len(size_t total)
{
    static const char start[] = "age-encryption.org/v1\n-> X\n";
    static const char mac[] = "--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";
    size_t fixed = sizeof start - 1 + sizeof mac - 1, body = total - fixed; /* lines + LFs */
    size_t full = (body - 1) / 65, s = body - 1 - full * 65, o = 0;
    uint8_t *b = malloc(total);
    assert_non_null(b);
    assert_true(s < 64 && s % 4 != 1);
    memcpy(b, start, sizeof start - 1);
    o = sizeof start - 1;
    for (size_t i = 0; i < full; i++, o += 65) {
        memset(b + o, 'A', 64);
        b[o + 64] = '\n';
    }
    memset(b + o, 'A', s);
    o += s;
    b[o++] = '\n';
    memcpy(b + o, mac, sizeof mac - 1);
    assert_int_equal(o + sizeof mac - 1, total);
    return b;
}

static void test_header_limit(void **state)
{
    fk_header h;
    size_t used = 0;
    uint8_t *ok = header_of_len(FK_AGE_MAX_HEADER_LEN), *big = header_of_len(FK_AGE_MAX_HEADER_LEN + 1);
    keys k;
    (void)state;
    assert_int_equal(fk_header_parse(&h, ok, FK_AGE_MAX_HEADER_LEN, &used), FK_OK);
    assert_int_equal(used, FK_AGE_MAX_HEADER_LEN);
    fk_header_clear(&h);
    assert_int_equal(fk_header_parse(&h, big, FK_AGE_MAX_HEADER_LEN + 1, &used), FK_ERR_LIMIT);
    /* through the fd path too: refused before anything is unwrapped */
    keys_new(&k);
    {
        uint8_t *out;
        size_t outlen;
        assert_int_equal(dec(&k, big, FK_AGE_MAX_HEADER_LEN + 1, 1, &out, &outlen, NULL),
                         FK_ERR_LIMIT);
        free(out);
        /* the header at the limit parses; no stanza is ours */
        assert_int_equal(dec(&k, ok, FK_AGE_MAX_HEADER_LEN, 1, &out, &outlen, NULL),
                         FK_ERR_NO_MATCH);
        free(out);
    }
    keys_free(&k);
    free(ok);
    free(big);
}

/* ---- scrypt ---------------------------------------------------------------- */

static void test_scrypt(void **state)
{
    fk_recipient *r, *x;
    fk_identity *id, *wrong;
    keys k;
    uint8_t *pt = pattern(1000, 2);
    (void)state;
    assert_int_equal(fk_scrypt_recipient_new(&r, "pw", 2, FK_AGE_SCRYPT_MAX_LOGN + 1), FK_ERR_LIMIT);
    assert_int_equal(fk_scrypt_recipient_new(&r, "pw", 2, -1), FK_ERR_LIMIT);
    assert_int_equal(fk_scrypt_recipient_new(&r, "pw", 2, 10), FK_OK);
    assert_int_equal(fk_scrypt_identity_new(&id, "pw", 2), FK_OK);
    assert_int_equal(fk_scrypt_identity_new(&wrong, "pW", 2), FK_OK);
    {
        int in = mem_fd(pt, 1000), out = memfd_create("o", 0), back = memfd_create("b", 0);
        size_t len;
        assert_int_equal(fk_age_encrypt_fd(in, out, &r, 1, NULL), FK_OK);
        assert_int_equal(lseek(out, 0, SEEK_SET), 0);
        assert_int_equal(fk_age_decrypt_fd(out, back, &wrong, 1, NULL, NULL), FK_ERR_NO_MATCH);
        assert_int_equal(lseek(out, 0, SEEK_SET), 0);
        assert_int_equal(fk_age_decrypt_fd(out, back, &id, 1, NULL, NULL), FK_OK);
        uint8_t *rt = fd_contents(back, &len);
        assert_int_equal(len, 1000);
        assert_memory_equal(rt, pt, 1000);
        free(rt);
        close(in);
        close(out);
        close(back);
    }
    /* log N 16 needs 64 MiB, above OpenSSL's default scrypt cap of 32 MiB:
     * passes only because maxmem is raised */
    {
        fk_recipient *r16;
        int in = mem_fd(pt, 10), out = memfd_create("o", 0), back = memfd_create("b", 0);
        assert_int_equal(fk_scrypt_recipient_new(&r16, "pw", 2, 16), FK_OK);
        assert_int_equal(fk_age_encrypt_fd(in, out, &r16, 1, NULL), FK_OK);
        assert_int_equal(lseek(out, 0, SEEK_SET), 0);
        assert_int_equal(fk_age_decrypt_fd(out, back, &id, 1, NULL, NULL), FK_OK);
        assert_int_equal(lseek(back, 0, SEEK_END), 10);
        fk_recipient_free(r16);
        close(in);
        close(out);
        close(back);
    }
    /* scrypt must be alone: refused when encrypting */
    keys_new(&k);
    x = k.r;
    {
        fk_recipient *both[2] = {r, x};
        int in = mem_fd(pt, 10), out = memfd_create("o", 0);
        assert_int_equal(fk_age_encrypt_fd(in, out, both, 2, NULL), FK_ERR_INVALID);
        close(in);
        close(out);
    }
    /* work factor 23 in a file: a header failure, before any scrypt runs */
    {
        static const char f23[] = "age-encryption.org/v1\n"
                                  "-> scrypt AAAAAAAAAAAAAAAAAAAAAA 23\n"
                                  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
                                  "--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
                                  "0123456789abcdef";
        int in = mem_fd((const uint8_t *)f23, sizeof f23 - 1), out = memfd_create("o", 0);
        assert_int_equal(fk_age_decrypt_fd(in, out, &id, 1, NULL, NULL), FK_ERR_HEADER);
        close(in);
        close(out);
    }
    keys_free(&k);
    fk_recipient_free(r);
    fk_identity_free(id);
    fk_identity_free(wrong);
    free(pt);
}

/* ---- keys, identity files, hooks ---------------------------------------- */

static void test_keys(void **state)
{
    char s[FK_AGE_IDENTITY_STR_MAX], r[FK_AGE_RECIPIENT_STR_MAX], r2[FK_AGE_RECIPIENT_STR_MAX];
    fk_recipient *rc;
    fk_identity *id;
    (void)state;
    /* the spec's example identity and its recipient (C2SP age, X25519) */
    assert_int_equal(fk_x25519_identity_to_recipient(
                         r, "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"),
                     FK_OK);
    assert_string_equal(r, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj");
    assert_int_equal(fk_x25519_keygen(s, r), FK_OK);
    assert_memory_equal(s, "AGE-SECRET-KEY-1", 16);
    assert_memory_equal(r, "age1", 4);
    assert_int_equal(fk_x25519_identity_to_recipient(r2, s), FK_OK);
    assert_string_equal(r, r2);
    /* case matters: age writes recipients lowercase, identities uppercase */
    for (char *p = r2; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    assert_int_equal(fk_recipient_parse(&rc, r2), FK_ERR_INVALID);
    for (char *p = s; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    assert_int_equal(fk_identity_parse(&id, s), FK_ERR_INVALID);
    assert_int_equal(fk_recipient_parse(&rc, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwa"),
                     FK_ERR_INVALID); /* bad checksum */
    assert_int_equal(fk_recipient_parse(&rc, "age1fairkey1qqqqqqqqqq"), FK_ERR_UNSUPPORTED);
    assert_int_equal(fk_identity_parse(&id, "AGE-PLUGIN-YUBIKEY-1QQQQQQ"), FK_ERR_UNSUPPORTED);
}

static void test_identity_file(void **state)
{
    static const char file[] =
        "# created: 2021-01-01T00:00:00Z\r\n"
        "# public key: age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj\r\n"
        "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\r\n"
        "\n"
        "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
    fk_identity **ids = NULL;
    size_t n = 0;
    (void)state;
    assert_int_equal(fk_identity_file_parse(&ids, &n, file, sizeof file - 1), FK_OK);
    assert_int_equal(n, 2);
    assert_int_equal(fk_identity_file_parse(&ids, &n, "# nothing\n", 10), FK_ERR_INVALID);
    assert_int_equal(fk_identity_file_parse(&ids, &n, " AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX", 75),
                     FK_ERR_INVALID);
    assert_int_equal(n, 2); /* untouched by the failures */
    for (size_t i = 0; i < n; i++)
        fk_identity_free(ids[i]);
    free(ids);
}

static fk_err refuse(void *ctx, const fk_header *h, const uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    (void)h;
    (void)file_key;
    ++*(int *)ctx;
    return FK_ERR_ESCROW;
}

static void test_check_hook_and_filekey(void **state)
{
    keys k;
    size_t ctlen, outlen;
    uint8_t *pt = pattern(5000, 4), *ct;
    int calls = 0;
    fk_decrypt_info info;
    (void)state;
    keys_new(&k);
    ct = enc(&k, pt, 5000, 1, 0, &ctlen);
    {
        int in = mem_fd(ct, ctlen), out = memfd_create("o", 0);
        fk_decrypt_opts o = {.check = refuse, .check_ctx = &calls};
        assert_int_equal(fk_age_decrypt_fd(in, out, &k.id, 1, &o, &info), FK_ERR_ESCROW);
        assert_int_equal(calls, 1);
        assert_int_equal(info.check_err, FK_ERR_ESCROW);
        assert_int_equal(lseek(out, 0, SEEK_END), 0); /* nothing released */
        close(in);
        close(out);
    }
    /* read the header only, then decrypt with the file key */
    {
        int in = mem_fd(ct, ctlen), out = memfd_create("o", 0);
        fk_header h;
        int armored = -1;
        uint64_t plen = 0;
        assert_int_equal(fk_age_read_header_fd(in, &h, &armored, &plen), FK_OK);
        assert_int_equal(armored, 0);
        assert_int_equal(plen, 16 + 5000 + 16);
        assert_int_equal(h.nstanzas, 1);
        assert_string_equal(h.stanzas[0].args[0], "X25519");
        /* recover the file key as escrow recovery would, then decrypt with it */
        uint8_t fkey[FK_AGE_FILE_KEY_LEN];
        fk_identity *fid;
        assert_int_equal(k.id->ops->unwrap(k.id, &h, fkey), FK_OK);
        assert_int_equal(fk_filekey_identity_new(&fid, fkey), FK_OK);
        assert_int_equal(lseek(in, 0, SEEK_SET), 0);
        assert_int_equal(fk_age_decrypt_fd(in, out, &fid, 1, NULL, &info), FK_OK);
        assert_int_equal(info.plaintext_len, 5000);
        fk_identity_free(fid);
        fkey[0] ^= 1; /* a wrong file key matches nothing */
        assert_int_equal(fk_filekey_identity_new(&fid, fkey), FK_OK);
        assert_int_equal(lseek(in, 0, SEEK_SET), 0);
        assert_int_equal(fk_age_decrypt_fd(in, out, &fid, 1, NULL, &info), FK_ERR_NO_MATCH);
        fk_identity_free(fid);
        fk_header_clear(&h);
        close(in);
        close(out);
    }
    free(ct);
    free(pt);
    keys_free(&k);
    (void)outlen;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_sizes_threads),
        cmocka_unit_test(test_same_output_any_threads),
        cmocka_unit_test(test_payload_failures),
        cmocka_unit_test(test_full_last_chunk_and_empty),
        cmocka_unit_test(test_armored_file),
        cmocka_unit_test(test_armor_roundtrip),
        cmocka_unit_test(test_armor_strict),
        cmocka_unit_test(test_header_roundtrip),
        cmocka_unit_test(test_header_malformed),
        cmocka_unit_test(test_header_limit),
        cmocka_unit_test(test_scrypt),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_identity_file),
        cmocka_unit_test(test_check_hook_and_filekey),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
