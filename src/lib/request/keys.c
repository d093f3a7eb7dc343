/*
 * Requester keys: Ed25519 (signs requests) and X25519 (receives sealed
 * answers), both from OpenSSL.  Key file format in docs/protocol.md 2.3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal.h"

#define KEYFILE_MAGIC "fairkey requester key v1\n"

static fk_err raw_public(int type, uint8_t pub[32], const uint8_t secret[32])
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(type, NULL, secret, 32);
    size_t n = 32;
    fk_err err = FK_ERR_CRYPTO;
    if (pk && EVP_PKEY_get_raw_public_key(pk, pub, &n) == 1 && n == 32)
        err = FK_OK;
    EVP_PKEY_free(pk);
    return err;
}

fk_err fki_req_ed25519_public(uint8_t pub[32], const uint8_t seed[32])
{
    return raw_public(EVP_PKEY_ED25519, pub, seed);
}

fk_err fki_req_x25519_public(uint8_t pub[32], const uint8_t secret[32])
{
    return raw_public(EVP_PKEY_X25519, pub, secret);
}

fk_err fki_req_x25519(uint8_t shared[32], uint8_t mine[32], const uint8_t secret[32],
                      const uint8_t peer[32])
{
    EVP_PKEY *sk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, secret, 32);
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
    EVP_PKEY_CTX *ctx = sk ? EVP_PKEY_CTX_new(sk, NULL) : NULL;
    size_t n = 32, m = 32;
    fk_err err = FK_ERR_CRYPTO;
    /* OpenSSL refuses an all-zero shared secret (low-order peer point): that
     * is a failure here too.  The key object already holds our public key:
     * handing it out saves the caller a second scalar multiplication. */
    if (pk && ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, pk) == 1 &&
        EVP_PKEY_derive(ctx, shared, &n) == 1 && n == 32 &&
        (!mine || (EVP_PKEY_get_raw_public_key(sk, mine, &m) == 1 && m == 32)))
        err = FK_OK;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pk);
    EVP_PKEY_free(sk);
    if (err)
        fk_wipe(shared, 32);
    return err;
}

fk_err fk_requester_key_generate(fk_requester_key *k, const char *name)
{
    fk_requester_key t;
    fk_err err;
    size_t nl = strlen(name);
    if (!fki_request_name_ok(name, nl))
        return FK_ERR_INVALID;
    memset(&t, 0, sizeof t);
    memcpy(t.name, name, nl);
    if ((err = fk_random(t.sign_seed, 32)) || (err = fk_random(t.reply_secret, 32)) ||
        (err = fki_req_ed25519_public(t.sign_pub, t.sign_seed)) ||
        (err = fki_req_x25519_public(t.reply_pub, t.reply_secret))) {
        fk_wipe(&t, sizeof t);
        return err;
    }
    *k = t;
    fk_wipe(&t, sizeof t);
    return FK_OK;
}

void fk_requester_key_wipe(fk_requester_key *k)
{
    fk_wipe(k, sizeof *k);
}

fk_err fk_requester_key_public_line(char *out, size_t cap, const fk_requester_key *k)
{
    char a[48], b[48];
    fk_b64_encode(a, k->sign_pub, 32);
    fk_b64_encode(b, k->reply_pub, 32);
    int n = snprintf(out, cap, "%s %s %s\n", k->name, a, b);
    if (n < 0 || (size_t)n >= cap)
        return FK_ERR_LIMIT;
    return FK_OK;
}

/*
 * fairkey requester key v1
 * name <name>
 * sign <b64 Ed25519 seed>
 * reply <b64 X25519 secret>
 */
fk_err fk_requester_key_encode(char **out, size_t *outlen, const fk_requester_key *k)
{
    char s[48], r[48];
    size_t cap = sizeof KEYFILE_MAGIC + FK_REQUEST_NAME_MAX + 128;
    char *buf = malloc(cap);
    if (!buf)
        return FK_ERR_NOMEM;
    fk_b64_encode(s, k->sign_seed, 32);
    fk_b64_encode(r, k->reply_secret, 32);
    int n = snprintf(buf, cap, KEYFILE_MAGIC "name %s\nsign %s\nreply %s\n", k->name, s, r);
    fk_wipe(s, sizeof s);
    fk_wipe(r, sizeof r);
    if (n < 0 || (size_t)n >= cap) {
        fk_wipe(buf, cap);
        free(buf);
        return FK_ERR_LIMIT;
    }
    *out = buf;
    *outlen = (size_t)n;
    return FK_OK;
}

static fk_err take_key(const char **p, const char *end, const char *tag, uint8_t out[32])
{
    const char *v;
    size_t vl;
    if (!fki_request_line(p, end, tag, &v, &vl) || !fki_request_b64_32(out, v, vl))
        return FK_ERR_INVALID;
    return FK_OK;
}

fk_err fk_requester_key_parse(fk_requester_key *k, const char *text, size_t len)
{
    fk_requester_key t;
    const char *p = text, *end = text + len, *v;
    size_t vl;
    fk_err err = FK_ERR_INVALID;
    memset(&t, 0, sizeof t);
    if (len < sizeof KEYFILE_MAGIC - 1 || memcmp(text, KEYFILE_MAGIC, sizeof KEYFILE_MAGIC - 1))
        return FK_ERR_INVALID;
    p += sizeof KEYFILE_MAGIC - 1;
    if (!fki_request_line(&p, end, "name", &v, &vl) || !fki_request_name_ok(v, vl))
        goto out;
    memcpy(t.name, v, vl);
    if (take_key(&p, end, "sign", t.sign_seed) || take_key(&p, end, "reply", t.reply_secret) ||
        p != end)
        goto out;
    if ((err = fki_req_ed25519_public(t.sign_pub, t.sign_seed)) ||
        (err = fki_req_x25519_public(t.reply_pub, t.reply_secret)))
        goto out;
    *k = t;
    err = FK_OK;
out:
    fk_wipe(&t, sizeof t);
    return err;
}

fk_err fk_requesters_allowed(const char *text, size_t len, const char *name,
                             const uint8_t key[FK_REQUEST_KEY_LEN])
{
    const char *p = text, *end = text + len;
    size_t namelen = strlen(name);
    int found = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (le > p && *p != '#') {
            const char *sp = memchr(p, ' ', (size_t)(le - p));
            if (!sp || !fki_request_name_ok(p, (size_t)(sp - p)))
                return FK_ERR_INVALID;
            const char *kb = sp + 1;
            const char *ke = memchr(kb, ' ', (size_t)(le - kb));
            if (!ke)
                ke = le;
            uint8_t k[32];
            if (!fki_request_b64_32(k, kb, (size_t)(ke - kb)))
                return FK_ERR_INVALID;
            if ((size_t)(sp - p) == namelen && !memcmp(p, name, namelen) && !memcmp(k, key, 32))
                found = 1;
        }
        p = nl ? nl + 1 : end;
    }
    return found ? FK_OK : FK_ERR_POLICY;
}
