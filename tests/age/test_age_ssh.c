/*
 * The ssh-ed25519 and ssh-rsa recipient types: files written by Debian's age
 * 1.1.1 to keys made by ssh-keygen (tests/age/ssh, see its README) decrypt;
 * round trips; every malformed stanza, public key line and private key this
 * module refuses, with the limits one past their bounds.
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

#include <openssl/bio.h>
#include <openssl/pem.h>

#include <fairkey.h>
#include "age/fd_helpers.h"

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    FILE *f;
    char *b = malloc(1 << 16);
    snprintf(path, sizeof path, "%s/%s", FK_SSH_DIR, name);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_non_null(b);
    *len = fread(b, 1, (1 << 16) - 1, f);
    b[*len] = '\0';
    fclose(f);
    return b;
}

static fk_identity *identity(const char *name)
{
    size_t len;
    char *pem = slurp(name, &len);
    fk_identity *id = NULL;
    const char *why = "unset";
    assert_int_equal(fk_ssh_identity_parse(&id, pem, len, &why), FK_OK);
    assert_null(why);
    free(pem);
    return id;
}

static fk_recipient *recipient(const char *name)
{
    size_t len;
    char *line = slurp(name, &len);
    fk_recipient *r = NULL;
    line[strcspn(line, "\n")] = '\0';
    assert_int_equal(fk_ssh_recipient_parse(&r, line, NULL), FK_OK);
    free(line);
    return r;
}

/* Decrypt an age file held in memory; the plaintext's length, or -1 with
 * *err set. */
static fk_err decrypt_mem(const uint8_t *ct, size_t len, fk_identity *id, uint8_t *out, size_t cap,
                          size_t *outlen)
{
    int in = mem_fd(ct, len), o = memfd_create("out", 0);
    fk_err e = fk_age_decrypt_fd(in, o, &id, 1, NULL, NULL);
    off_t n = lseek(o, 0, SEEK_END);
    assert_true(n >= 0 && (size_t)n <= cap);
    assert_int_equal(pread(o, out, (size_t)n, 0), n);
    *outlen = (size_t)n;
    close(in);
    close(o);
    return e;
}

static void test_age_files(void **state)
{
    static const char *const cases[][2] = {
        {"ed25519", "ed25519.age"},  {"rsa", "rsa.age"},      {"rsa.pem", "rsa.age"},
        {"ed25519", "both.age.asc"}, {"rsa", "both.age.asc"}, {"rsa.pem", "both.age.asc"},
    };
    size_t plen, clen, got;
    char *plain = slurp("plain", &plen);
    uint8_t out[256];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        fk_identity *id = identity(cases[i][0]);
        char *ct = slurp(cases[i][1], &clen);
        assert_int_equal(decrypt_mem((uint8_t *)ct, clen, id, out, sizeof out, &got), FK_OK);
        assert_int_equal(got, plen);
        assert_memory_equal(out, plain, plen);
        fk_identity_free(id);
        free(ct);
    }
    /* The other key's file: no match. */
    fk_identity *id = identity("rsa");
    char *ct = slurp("ed25519.age", &clen);
    assert_int_equal(decrypt_mem((uint8_t *)ct, clen, id, out, sizeof out, &got), FK_ERR_NO_MATCH);
    fk_identity_free(id);
    free(ct);
    free(plain);
}

static void roundtrip(fk_recipient *r, fk_identity *id, const char *type, size_t nargs)
{
    uint8_t fk[FK_AGE_FILE_KEY_LEN], got[FK_AGE_FILE_KEY_LEN];
    fk_stanza s = {0};
    fk_header h = {0};
    assert_int_equal(fk_random(fk, sizeof fk), FK_OK);
    assert_int_equal(r->ops->wrap(r, fk, &s), FK_OK);
    assert_string_equal(s.args[0], type);
    assert_int_equal(s.nargs, nargs);
    assert_int_equal(strlen(s.args[1]), 6); /* 4 bytes of SHA-256, unpadded base64 */
    assert_int_equal(fk_header_build(&h, &s, 1, fk), FK_OK);
    assert_int_equal(id->ops->unwrap(id, &h, got), FK_OK);
    assert_memory_equal(got, fk, sizeof fk);
    fk_header_clear(&h);
    fk_stanza_clear(&s);
}

static void test_roundtrip(void **state)
{
    static const char *const keys[][3] = {{"ed25519", "ed25519.pub", "ssh-ed25519"},
                                          {"rsa", "rsa.pub", "ssh-rsa"},
                                          {"rsa.pem", "rsa.pub", "ssh-rsa"}};
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        fk_identity *id = identity(keys[i][0]);
        fk_recipient *r = recipient(keys[i][1]), *r2 = NULL;
        size_t nargs = strcmp(keys[i][2], "ssh-rsa") ? 3 : 2;
        assert_true(fk_ssh_is_identity(id));
        roundtrip(r, id, keys[i][2], nargs);
        assert_int_equal(fk_ssh_identity_recipient(&r2, id), FK_OK);
        roundtrip(r2, id, keys[i][2], nargs);
        fk_recipient_free(r);
        fk_recipient_free(r2);
        fk_identity_free(id);
    }
}

/* Parse an age file's header from the fixtures, let edit change its first
 * stanza, and unwrap with id. */
static fk_err unwrap_edited(const char *file, fk_identity *id, void (*edit)(fk_stanza *))
{
    size_t len, consumed;
    char *ct = slurp(file, &len);
    fk_header h = {0};
    uint8_t fk[FK_AGE_FILE_KEY_LEN];
    fk_err e;
    assert_int_equal(fk_header_parse(&h, (uint8_t *)ct, len, &consumed), FK_OK);
    edit(&h.stanzas[0]);
    e = id->ops->unwrap(id, &h, fk);
    fk_header_clear(&h);
    free(ct);
    return e;
}

static void no_edit(fk_stanza *s)
{
    (void)s;
}
static void other_tag(fk_stanza *s)
{
    s->args[1][0] = s->args[1][0] == 'A' ? 'B' : 'A';
}
static void drop_arg(fk_stanza *s)
{
    free(s->args[--s->nargs]);
}
/* The last character carries 4 bits and 2 that must be zero: 'B' or 'C'
 * sets one of those. */
static void bad_share(fk_stanza *s)
{
    s->args[2][42] = s->args[2][42] == 'B' ? 'C' : 'B';
}
static void other_tag_bad_share(fk_stanza *s)
{
    other_tag(s);
    bad_share(s);
}
static void flip_body(fk_stanza *s)
{
    s->body[0] ^= 1;
}
static void short_body(fk_stanza *s)
{
    s->body_len--;
}
static void extra_arg(fk_stanza *s)
{
    s->args = realloc(s->args, (s->nargs + 1) * sizeof *s->args);
    s->args[s->nargs++] = strdup("x");
}

static void test_stanzas(void **state)
{
    fk_identity *ed = identity("ed25519"), *rsa = identity("rsa");
    (void)state;
    assert_int_equal(unwrap_edited("ed25519.age", ed, no_edit), FK_OK);
    assert_int_equal(unwrap_edited("ed25519.age", ed, other_tag), FK_ERR_NO_MATCH);
    assert_int_equal(unwrap_edited("ed25519.age", ed, drop_arg), FK_ERR_HEADER);
    assert_int_equal(unwrap_edited("ed25519.age", ed, extra_arg), FK_ERR_HEADER);
    /* A non-canonical share is malformed even under another key's tag. */
    assert_int_equal(unwrap_edited("ed25519.age", ed, other_tag_bad_share), FK_ERR_HEADER);
    assert_int_equal(unwrap_edited("ed25519.age", rsa, bad_share), FK_ERR_NO_MATCH);
    assert_int_equal(unwrap_edited("ed25519.age", ed, bad_share), FK_ERR_HEADER);
    assert_int_equal(unwrap_edited("ed25519.age", ed, flip_body), FK_ERR_HEADER);
    assert_int_equal(unwrap_edited("ed25519.age", ed, short_body), FK_ERR_HEADER);
    assert_int_equal(unwrap_edited("rsa.age", rsa, no_edit), FK_OK);
    assert_int_equal(unwrap_edited("rsa.age", rsa, other_tag), FK_ERR_NO_MATCH);
    assert_int_equal(unwrap_edited("rsa.age", rsa, extra_arg), FK_ERR_HEADER);
    assert_int_equal(unwrap_edited("rsa.age", rsa, flip_body), FK_ERR_HEADER);
    assert_int_equal(unwrap_edited("rsa.age", rsa, short_body), FK_ERR_HEADER);
    assert_int_equal(unwrap_edited("rsa.age", ed, no_edit), FK_ERR_NO_MATCH);
    fk_identity_free(ed);
    fk_identity_free(rsa);
}

/* ---- public key lines ---------------------------------------------------- */

static uint8_t *put_string(uint8_t *p, const void *s, size_t n)
{
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    memcpy(p + 4, s, n);
    return p + 4 + n;
}

/* "ssh-rsa BASE64" for exponent e and a modulus of nbytes: top byte top,
 * then 0xff bytes (odd). */
static fk_err rsa_line(const uint8_t *e, size_t elen, size_t nbytes, uint8_t top, const char **why)
{
    uint8_t *blob = malloc(nbytes + 64), *n = malloc(nbytes + 1), *p;
    char *line = malloc((nbytes + 64) / 3 * 4 + 32);
    fk_recipient *r = NULL;
    size_t nl = 0;
    fk_err err;
    if (top & 0x80)
        n[nl++] = 0;
    n[nl++] = top;
    memset(n + nl, 0xff, nbytes - 1);
    nl += nbytes - 1;
    p = put_string(blob, "ssh-rsa", 7);
    p = put_string(p, e, elen);
    p = put_string(p, n, nl);
    strcpy(line, "ssh-rsa ");
    fk_b64_encode_padded(line + 8, blob, (size_t)(p - blob));
    err = fk_ssh_recipient_parse(&r, line, why);
    fk_recipient_free(r);
    free(blob);
    free(n);
    free(line);
    return err;
}

static fk_err parse_line(const char *line)
{
    fk_recipient *r = NULL;
    fk_err e = fk_ssh_recipient_parse(&r, line, NULL);
    fk_recipient_free(r);
    return e;
}

static void test_public_lines(void **state)
{
    static const uint8_t e65537[] = {1, 0, 1}, e3[] = {3}, e1[] = {1}, e4[] = {4};
    static const uint8_t ebig[] = {1, 0, 0, 1};
    const char *why = NULL;
    size_t len;
    char *ed = slurp("ed25519.pub", &len), *rsa = slurp("rsa.pub", &len),
         *l2047 = slurp("rsa2047.pub", &len);
    char buf[1024];
    (void)state;
    ed[strcspn(ed, "\n")] = rsa[strcspn(rsa, "\n")] = l2047[strcspn(l2047, "\n")] = '\0';

    assert_int_equal(parse_line(ed), FK_OK);
    assert_int_equal(parse_line(rsa), FK_OK);
    /* Without the comment, with blanks around: GitHub's .keys lines. */
    snprintf(buf, sizeof buf, "  %.*s\t", (int)(strrchr(ed, ' ') - ed), ed);
    assert_int_equal(parse_line(buf), FK_OK);
    /* age counts whole bytes: a 2047-bit modulus is 256 bytes, accepted. */
    assert_int_equal(parse_line(l2047), FK_OK);
    assert_int_equal(rsa_line(e65537, 3, 255, 0xff, &why), FK_ERR_LIMIT); /* 2040 bits */
    assert_non_null(strstr(why, "2048"));
    assert_int_equal(rsa_line(e65537, 3, 256, 0x80, NULL), FK_OK);     /* 2048 bits */
    assert_int_equal(rsa_line(e3, 1, 2048, 0x80, NULL), FK_OK);        /* 16384 bits */
    assert_int_equal(rsa_line(e3, 1, 2049, 0x01, NULL), FK_ERR_LIMIT); /* 16385 bits */
    assert_int_equal(rsa_line(e1, 1, 256, 0x80, NULL), FK_ERR_INVALID);
    assert_int_equal(rsa_line(e4, 1, 256, 0x80, NULL), FK_ERR_INVALID);
    assert_int_equal(rsa_line(ebig, 4, 256, 0x80, NULL), FK_ERR_INVALID);

    assert_int_equal(parse_line(""), FK_ERR_INVALID);
    assert_int_equal(parse_line("ssh-ed25519"), FK_ERR_INVALID);
    assert_int_equal(parse_line("ssh-ed25519 !!!!"), FK_ERR_INVALID);
    assert_int_equal(parse_line("ssh-foo AAAA"), FK_ERR_INVALID);
    assert_int_equal(parse_line("ecdsa-sha2-nistp256 AAAA"), FK_ERR_UNSUPPORTED);
    assert_int_equal(parse_line("sk-ssh-ed25519@openssh.com AAAA"), FK_ERR_UNSUPPORTED);
    /* The type written must be the type inside. */
    snprintf(buf, sizeof buf, "ssh-rsa %s", strchr(ed, ' ') + 1);
    assert_int_equal(parse_line(buf), FK_ERR_INVALID);
    /* Truncated base64, and base64 that decodes to a key with trailing junk. */
    snprintf(buf, sizeof buf, "%.40s", ed);
    assert_int_equal(parse_line(buf), FK_ERR_INVALID);
    {
        uint8_t blob[128], *p = put_string(blob, "ssh-ed25519", 11), pk[32];
        /* The identity point: small order, which libsodium refuses. */
        memset(pk, 0, sizeof pk);
        pk[0] = 1;
        p = put_string(p, pk, 32);
        strcpy(buf, "ssh-ed25519 ");
        fk_b64_encode_padded(buf + 12, blob, (size_t)(p - blob));
        assert_int_equal(parse_line(buf), FK_ERR_INVALID);
    }
    free(ed);
    free(rsa);
    free(l2047);
}

/* ---- private keys ------------------------------------------------------ */

static fk_err parse_pem(const char *pem, size_t len, const char **why)
{
    fk_identity *id = NULL;
    fk_err e = fk_ssh_identity_parse(&id, pem, len, why);
    fk_identity_free(id);
    return e;
}

/* Re-encode the fixture's openssh-key-v1 blob after edit changed it. */
static fk_err edited_openssh(const char *file, void (*edit)(uint8_t *, long *), const char **why)
{
    size_t len;
    char *pem = slurp(file, &len), *name = NULL, *hdr = NULL, *text;
    uint8_t *data = NULL;
    long dlen = 0;
    BIO *in = BIO_new_mem_buf(pem, (int)len), *out = BIO_new(BIO_s_mem());
    fk_err e;
    assert_int_equal(PEM_read_bio(in, &name, &hdr, &data, &dlen), 1);
    edit(data, &dlen);
    assert_true(PEM_write_bio(out, name, hdr, data, dlen) > 0);
    len = (size_t)BIO_get_mem_data(out, &text);
    e = parse_pem(text, len, why);
    OPENSSL_free(name);
    OPENSSL_free(hdr);
    OPENSSL_free(data);
    BIO_free(in);
    BIO_free(out);
    free(pem);
    return e;
}

/* Offsets in an unencrypted ed25519 openssh-key-v1 blob: magic (15), "none"
 * x2 (8 + 8), kdfoptions (4), nkeys (4), public key (4 + 51), private
 * section length (4): the section starts at 98. */
#define ED_PRIV 98
static void ed_cipher(uint8_t *d, long *n)
{
    (void)n;
    memcpy(d + 19, "aes2", 4);
}
static void ed_check(uint8_t *d, long *n)
{
    (void)n;
    d[ED_PRIV] ^= 1;
}
static void ed_pad(uint8_t *d, long *n)
{
    d[*n - 1] ^= 0x40;
}
static void ed_seed(uint8_t *d, long *n)
{
    (void)n;
    d[ED_PRIV + 8 + 15 + 36 + 4] ^= 1;
}
static void cut(uint8_t *d, long *n)
{
    (void)d;
    *n -= 9;
}

static void test_private_keys(void **state)
{
    const char *why = NULL;
    (void)state;
    assert_int_equal(edited_openssh("ed25519", ed_cipher, &why), FK_ERR_UNSUPPORTED);
    assert_non_null(strstr(why, "passphrase-protected"));
    assert_int_equal(edited_openssh("ed25519", ed_check, NULL), FK_ERR_INVALID);
    assert_int_equal(edited_openssh("ed25519", ed_pad, NULL), FK_ERR_INVALID);
    assert_int_equal(edited_openssh("ed25519", ed_seed, &why), FK_ERR_INVALID);
    assert_non_null(strstr(why, "does not match"));
    assert_int_equal(edited_openssh("ed25519", cut, NULL), FK_ERR_INVALID);
    assert_int_equal(edited_openssh("rsa", cut, NULL), FK_ERR_INVALID);

    static const char ec[] = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
    assert_int_equal(parse_pem(ec, strlen(ec), NULL), FK_ERR_UNSUPPORTED);
    static const char enc[] =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert_int_equal(parse_pem(enc, strlen(enc), &why), FK_ERR_UNSUPPORTED);
    assert_non_null(strstr(why, "passphrase-protected"));
    static const char junk[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    assert_int_equal(parse_pem(junk, strlen(junk), NULL), FK_ERR_INVALID);
    assert_int_equal(parse_pem("AGE-SECRET-KEY-1", 16, NULL), FK_ERR_INVALID);
    /* The size limit, one past it. */
    char *big = malloc(FK_SSH_PRIVATE_MAX + 1);
    memset(big, '\n', FK_SSH_PRIVATE_MAX + 1);
    assert_int_equal(parse_pem(big, FK_SSH_PRIVATE_MAX + 1, NULL), FK_ERR_LIMIT);
    assert_int_equal(parse_pem(big, FK_SSH_PRIVATE_MAX, NULL), FK_ERR_INVALID);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_age_files),    cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_stanzas),      cmocka_unit_test(test_public_lines),
        cmocka_unit_test(test_private_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
