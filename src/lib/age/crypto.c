/*
 * The age module's only contact with OpenSSL's primitives: HKDF, HMAC,
 * one-shot ChaCha20-Poly1305 for stanza bodies, X25519.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "age/internal.h"

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *chacha;
static EVP_KDF *hkdf;

static void fetch(void)
{
    /* Explicit fetches once per process: the implicit lookup that
     * EVP_chacha20_poly1305() triggers costs a lock per use. */
    chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
    hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
}

const struct evp_cipher_st *fki_chacha20_poly1305(void)
{
    pthread_once(&fetch_once, fetch);
    return chacha;
}

fk_err fki_hkdf_sha256(uint8_t *out, size_t outlen, const uint8_t *ikm, size_t ikmlen,
                       const uint8_t *salt, size_t saltlen, const char *info)
{
    OSSL_PARAM params[5], *p = params;
    EVP_KDF_CTX *ctx;
    fk_err err = FK_OK;

    pthread_once(&fetch_once, fetch);
    if (!hkdf || !(ctx = EVP_KDF_CTX_new(hkdf)))
        return FK_ERR_CRYPTO;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
    if (saltlen) /* RFC 5869: no salt means HashLen zeros, which HMAC treats as empty */
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
    *p = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(ctx, out, outlen, params) != 1)
        err = FK_ERR_CRYPTO;
    EVP_KDF_CTX_free(ctx);
    return err;
}

fk_err fki_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t keylen, const uint8_t *data,
                       size_t len)
{
    unsigned int olen = 0;
    if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &olen) || olen != 32)
        return FK_ERR_CRYPTO;
    return FK_OK;
}

static fk_err aead0(uint8_t *out, const uint8_t key[32], const uint8_t *in, size_t inlen, int enc)
{
    static const uint8_t nonce[12] = {0};
    const EVP_CIPHER *c = fki_chacha20_poly1305();
    EVP_CIPHER_CTX *ctx;
    size_t mlen = enc ? inlen : inlen - FK_AGE_TAG_LEN;
    int n = 0, ok;

    if (!c || (!enc && inlen < FK_AGE_TAG_LEN) || mlen > 1u << 20)
        return FK_ERR_CRYPTO;
    if (!(ctx = EVP_CIPHER_CTX_new()))
        return FK_ERR_NOMEM;
    ok = EVP_CipherInit_ex(ctx, c, NULL, key, nonce, enc) == 1;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, FK_AGE_TAG_LEN,
                                 (void *)(in + mlen)) == 1;
    ok = ok && EVP_CipherUpdate(ctx, out, &n, in, (int)mlen) == 1;
    ok = ok && EVP_CipherFinal_ex(ctx, out + n, &n) == 1;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, FK_AGE_TAG_LEN, out + mlen) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        fk_wipe(out, mlen);
        return enc ? FK_ERR_CRYPTO : FK_ERR_NO_MATCH;
    }
    return FK_OK;
}

fk_err fki_aead_seal0(uint8_t *out, const uint8_t key[32], const uint8_t *in, size_t inlen)
{
    return aead0(out, key, in, inlen, 1);
}

fk_err fki_aead_open0(uint8_t *out, const uint8_t key[32], const uint8_t *in, size_t inlen)
{
    return aead0(out, key, in, inlen, 0);
}

fk_err fki_open_file_key(uint8_t file_key[16], uint8_t key[32], const uint8_t *body, size_t len)
{
    uint8_t fk[16];
    fk_err err = len == sizeof fk + 16 ? fki_aead_open0(fk, key, body, len) : FK_ERR_HEADER;
    fk_wipe(key, 32);
    if (err == FK_OK)
        memcpy(file_key, fk, sizeof fk);
    fk_wipe(fk, sizeof fk);
    return err;
}

fk_err fki_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32])
{
    static const uint8_t zero[32] = {0};
    EVP_PKEY *sk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, scalar, 32);
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, point, 32);
    EVP_PKEY_CTX *ctx = sk ? EVP_PKEY_CTX_new(sk, NULL) : NULL;
    uint8_t tmp[32];
    size_t len = sizeof tmp;
    fk_err err = FK_ERR_CRYPTO;

    /* OpenSSL refuses an all-zero result itself; the explicit check keeps
     * that rule true whatever the library version does. */
    if (ctx && pk && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, pk) == 1 &&
        EVP_PKEY_derive(ctx, tmp, &len) == 1 && len == 32 && !fk_ct_eq(tmp, zero, 32)) {
        memcpy(out, tmp, 32);
        err = FK_OK;
    }
    fk_wipe(tmp, sizeof tmp);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pk);
    EVP_PKEY_free(sk);
    return err;
}

fk_err fki_x25519_base(uint8_t out[32], const uint8_t scalar[32])
{
    EVP_PKEY *sk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, scalar, 32);
    size_t len = 32;
    fk_err err = FK_ERR_CRYPTO;
    if (sk && EVP_PKEY_get_raw_public_key(sk, out, &len) == 1 && len == 32)
        err = FK_OK;
    EVP_PKEY_free(sk);
    return err;
}
