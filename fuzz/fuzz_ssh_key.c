/*
 * libFuzzer target: SSH private keys as age identities (fk_ssh_identity_parse):
 * PEM text as given, or (first byte 0) the rest as the binary openssh-key-v1
 * container, wrapped in PEM here so the fuzzer reaches the container parser
 * without having to find valid base64.  A key that parses must round-trip a
 * file key through its own recipient.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include <fairkey.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(fk_identity *id)
{
    fk_recipient *r = NULL;
    fk_stanza s = {0};
    fk_header h = {0};
    uint8_t fk[FK_AGE_FILE_KEY_LEN] = {1, 2, 3}, got[FK_AGE_FILE_KEY_LEN];
    if (fk_ssh_identity_recipient(&r, id) != FK_OK || r->ops->wrap(r, fk, &s) != FK_OK ||
        fk_header_build(&h, &s, 1, fk) != FK_OK || id->ops->unwrap(id, &h, got) != FK_OK ||
        memcmp(fk, got, sizeof fk) != 0)
        abort();
    fk_header_clear(&h);
    fk_stanza_clear(&s);
    fk_recipient_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fk_identity *id = NULL;
    const char *why = NULL;
    char *text = NULL;
    size_t len = size;
    BIO *out = NULL;

    if (size > 0 && data[0] == 0) {
        out = BIO_new(BIO_s_mem());
        if (!out || PEM_write_bio(out, "OPENSSH PRIVATE KEY", "", data + 1, (long)size - 1) <= 0) {
            BIO_free(out);
            return 0;
        }
        len = (size_t)BIO_get_mem_data(out, &text);
    } else {
        text = (char *)data;
    }
    fk_err e = fk_ssh_identity_parse(&id, text, len, &why);
    if (e == FK_OK) {
        if (why)
            abort();
        check_roundtrip(id);
        fk_identity_free(id);
    } else if (id) {
        abort(); /* outputs untouched on failure */
    }
    BIO_free(out);
    return 0;
}
