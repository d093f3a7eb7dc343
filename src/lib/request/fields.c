/*
 * The text fields every request-module format is made of (the request, the
 * requester key file, allow-lists): "<tag> <value>" lines, canonical base64
 * of 32 bytes, signed-note key names.  Shared by request.c and keys.c.
 */
#include <string.h>

#include "internal.h"

int fki_request_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > FK_REQUEST_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '+')
            return 0;
    }
    return 1;
}

int fki_request_line(const char **p, const char *end, const char *tag, const char **v, size_t *vl)
{
    size_t tl = strlen(tag);
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl || (size_t)(nl - *p) < tl + 1 || memcmp(*p, tag, tl) || (*p)[tl] != ' ')
        return 0;
    *v = *p + tl + 1;
    *vl = (size_t)(nl - *v);
    *p = nl + 1;
    return 1;
}

int fki_request_b64_32(uint8_t out[32], const char *v, size_t vl)
{
    size_t n = 0;
    return vl == 43 && fk_b64_decode(out, 32, &n, v, vl) == FK_OK && n == 32;
}

fk_err fki_request_check_signer(const fk_note *nt, const char *name, const uint8_t key[32])
{
    size_t namelen = strlen(name);
    if (nt->nsigs != 1 || nt->sigs[0].name_len != namelen ||
        memcmp(nt->sigs[0].name, name, namelen))
        return FK_ERR_INVALID;
    fk_note_verifier v;
    fk_err err = fk_note_verifier_new(&v, name, namelen, FK_NOTE_ALG_ED25519, key);
    if (err)
        return err;
    err = fk_note_verify(nt, &v, 1, NULL);
    return !err ? FK_OK : err == FK_ERR_SIGNATURE ? FK_ERR_SIGNATURE : FK_ERR_INVALID;
}
