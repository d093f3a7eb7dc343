/*
 * escrow_forge: a test helper that plays the non-compliant sender.  It
 * rewrites a binary age file's escrow stanza and, holding the file key (from
 * an X25519 identity), re-computes the header MAC so that only the escrow
 * check can catch the forgery.  Also prints reference stanzas and malformed
 * recipients for the plugin tests.
 *
 *   escrow_forge stanza RECIPIENT FILE_KEY_HEX
 *   escrow_forge b64hex HEX             (unpadded base64 of the bytes)
 *   escrow_forge bad-recipient          (a valid bech32 "age1fairkey1" of the identity point)
 *   escrow_forge MODE IDENTITY_FILE IN OUT
 *       MODE: other-key  escrow stanza for the same authority but another file key
 *             swap-e     E taken from a stanza for another file key, body kept
 *             flip-body  one bit of the body flipped
 *             strip      escrow stanzas removed
 *
 * The header MAC (C2SP age): HMAC-SHA-256 keyed with HKDF-SHA-256(ikm = file
 * key, salt = empty, info = "header"), over the header through "---".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include <fairkey.h>

static void die(const char *what)
{
    fprintf(stderr, "escrow_forge: %s\n", what);
    exit(1);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open input");
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        if (n == cap)
            b = realloc(b, cap *= 2);
        size_t r = fread(b + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    *len = n;
    return b;
}

static void put_stanza(FILE *f, const fk_stanza *s)
{
    fputs("->", f);
    for (size_t i = 0; i < s->nargs; i++)
        fprintf(f, " %s", s->args[i]);
    fputc('\n', f);
    char line[80];
    size_t off = 0;
    for (;;) {
        size_t n = s->body_len - off < 48 ? s->body_len - off : 48;
        size_t w = n ? fk_b64_encode(line, s->body + off, n) : 0;
        fwrite(line, 1, w, f);
        fputc('\n', f);
        off += n;
        if (n < 48)
            break;
    }
}

static void header_mac(uint8_t mac[32], const uint8_t key[16], const uint8_t *hdr, size_t len)
{
    uint8_t hk[32];
    size_t hklen = sizeof(hk);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    if (!pc || EVP_PKEY_derive_init(pc) <= 0 || EVP_PKEY_CTX_set_hkdf_md(pc, EVP_sha256()) <= 0 ||
        EVP_PKEY_CTX_set1_hkdf_key(pc, key, 16) <= 0 ||
        EVP_PKEY_CTX_add1_hkdf_info(pc, (const unsigned char *)"header", 6) <= 0 ||
        EVP_PKEY_derive(pc, hk, &hklen) <= 0)
        die("HKDF failed");
    EVP_PKEY_CTX_free(pc);
    unsigned maclen = 32;
    if (!HMAC(EVP_sha256(), hk, 32, hdr, len, mac, &maclen))
        die("HMAC failed");
}

static fk_identity *load_identity(const char *path)
{
    size_t len;
    char *text = (char *)slurp(path, &len);
    fk_identity **ids = NULL;
    size_t nids = 0;
    if (fk_identity_file_parse(&ids, &nids, text, len) != FK_OK || nids != 1)
        die("identity file must hold exactly one identity");
    fk_identity *id = ids[0];
    free(ids);
    free(text);
    return id;
}

static int forge(const char *mode, const char *idpath, const char *in, const char *out)
{
    size_t len, consumed;
    uint8_t *file = slurp(in, &len);
    fk_header h;
    memset(&h, 0, sizeof(h));
    if (fk_header_parse(&h, file, len, &consumed) != FK_OK)
        die("input is not a binary age file");
    fk_identity *id = load_identity(idpath);
    uint8_t key[16], other[16];
    if (id->ops->unwrap(id, &h, key) != FK_OK)
        die("the identity does not open the file");
    fk_identity_free(id);
    if (fk_random(other, sizeof(other)) != FK_OK)
        die("no randomness");

    char *hdr = NULL;
    size_t hlen = 0;
    FILE *f = open_memstream(&hdr, &hlen);
    fputs("age-encryption.org/v1\n", f);
    int touched = 0;
    for (size_t i = 0; i < h.nstanzas; i++) {
        fk_stanza *s = &h.stanzas[i];
        fk_escrow_stanza_info info;
        if (fk_escrow_stanza_parse(&info, s) != FK_OK) {
            put_stanza(f, s);
            continue;
        }
        touched++;
        fk_stanza alt;
        if (fk_escrow_stanza_make(&alt, info.pk, other) != FK_OK)
            die("cannot make a stanza");
        if (!strcmp(mode, "other-key")) {
            put_stanza(f, &alt);
        } else if (!strcmp(mode, "swap-e")) {
            char *keep = s->args[2];
            s->args[2] = alt.args[2];
            put_stanza(f, s);
            s->args[2] = keep;
        } else if (!strcmp(mode, "flip-body")) {
            s->body[0] ^= 1;
            put_stanza(f, s);
        } else if (!strcmp(mode, "strip")) {
            /* dropped */
        } else {
            die("unknown mode");
        }
        fk_stanza_clear(&alt);
    }
    if (!touched)
        die("the file has no escrow stanza");
    fputs("---", f);
    fflush(f);
    uint8_t mac[32];
    header_mac(mac, key, (uint8_t *)hdr, hlen);
    char mac64[64];
    fk_b64_encode(mac64, mac, 32);
    fprintf(f, " %s\n", mac64);
    fclose(f);

    FILE *o = fopen(out, "wb");
    if (!o)
        die("cannot create output");
    fwrite(hdr, 1, hlen, o);
    fwrite(file + consumed, 1, len - consumed, o);
    if (fclose(o) != 0)
        die("cannot write output");
    fk_wipe(key, sizeof(key));
    fk_header_clear(&h);
    free(hdr);
    free(file);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "stanza")) {
        uint8_t pk[32], key[16];
        if (fk_escrow_recipient_decode(pk, argv[2]) != FK_OK)
            die("bad recipient");
        if (fk_hex_decode(key, 16, argv[3], strlen(argv[3])) != FK_OK)
            die("bad file key hex");
        fk_stanza s;
        if (fk_escrow_stanza_make(&s, pk, key) != FK_OK)
            die("cannot make the stanza");
        put_stanza(stdout, &s);
        fk_stanza_clear(&s);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "b64hex")) {
        size_t n = strlen(argv[2]) / 2;
        uint8_t *b = malloc(n + 1);
        char *o = malloc(fk_b64_enc_len(n) + 1);
        if (fk_hex_decode(b, n, argv[2], strlen(argv[2])) != FK_OK)
            die("bad hex");
        fk_b64_encode(o, b, n);
        puts(o);
        free(b);
        free(o);
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "bad-recipient")) {
        uint8_t zero[32] = {0};
        char out[128];
        if (fk_bech32_encode(out, sizeof(out), FK_ESCROW_RECIPIENT_HRP, zero, 32) != FK_OK)
            die("bech32 failed");
        puts(out);
        return 0;
    }
    if (argc == 5)
        return forge(argv[1], argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: escrow_forge stanza RECIPIENT FILE_KEY_HEX | bad-recipient | "
                    "MODE IDENTITY_FILE IN OUT\n");
    return 2;
}
