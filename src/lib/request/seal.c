/*
 * Sealing an agent's answer to the requester's X25519 reply key
 * (docs/protocol.md section 5): ephemeral X25519, HKDF-SHA-256,
 * ChaCha20-Poly1305, all from OpenSSL.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "internal.h"

#define SEAL_DOMAIN "fairkey/v1 recovery answer"
#define TAG_LEN 16

/* Fetched once: a fetch per answer costs a provider lookup. */
static pthread_once_t hkdf_once = PTHREAD_ONCE_INIT;
static EVP_KDF *hkdf;

static void hkdf_fetch(void)
{
    hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
}

static fk_err seal_key(uint8_t key[32], const uint8_t shared[32], const uint8_t eph_pub[32],
                       const uint8_t reply_to[32])
{
    uint8_t salt[64];
    pthread_once(&hkdf_once, hkdf_fetch);
    EVP_KDF_CTX *ctx = hkdf ? EVP_KDF_CTX_new(hkdf) : NULL;
    fk_err err = FK_ERR_CRYPTO;
    memcpy(salt, eph_pub, 32);
    memcpy(salt + 32, reply_to, 32);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)shared, 32),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, sizeof salt),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)SEAL_DOMAIN,
                                          sizeof SEAL_DOMAIN - 1),
        OSSL_PARAM_construct_end(),
    };
    if (ctx && EVP_KDF_derive(ctx, key, 32, params) == 1)
        err = FK_OK;
    EVP_KDF_CTX_free(ctx);
    return err;
}

static void make_aad(uint8_t aad[sizeof SEAL_DOMAIN - 1 + 34], const uint8_t entry_hash[32],
                     unsigned idx)
{
    memcpy(aad, SEAL_DOMAIN, sizeof SEAL_DOMAIN - 1);
    memcpy(aad + sizeof SEAL_DOMAIN - 1, entry_hash, 32);
    aad[sizeof SEAL_DOMAIN - 1 + 32] = (uint8_t)(idx >> 8);
    aad[sizeof SEAL_DOMAIN - 1 + 33] = (uint8_t)idx;
}

/* ChaCha20-Poly1305 with a zero nonce: each key is fresh (new ephemeral). */
static fk_err aead(int enc, uint8_t *out, const uint8_t key[32], const uint8_t *aad, size_t aadlen,
                   const uint8_t *in, size_t inlen, uint8_t tag[TAG_LEN])
{
    static const uint8_t nonce[12];
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0;
    fk_err err = FK_ERR_CRYPTO;
    if (!c)
        return FK_ERR_NOMEM;
    if (EVP_CipherInit_ex(c, EVP_chacha20_poly1305(), NULL, key, nonce, enc) != 1)
        goto out;
    if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, tag) != 1)
        goto out;
    if (EVP_CipherUpdate(c, NULL, &l, aad, (int)aadlen) != 1 ||
        (inlen && EVP_CipherUpdate(c, out, &l, in, (int)inlen) != 1) ||
        EVP_CipherFinal_ex(c, out + inlen, &l) != 1)
        goto out;
    if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, tag) != 1)
        goto out;
    err = FK_OK;
out:
    EVP_CIPHER_CTX_free(c);
    return err;
}

fk_err fk_answer_seal(uint8_t *out, size_t cap, size_t *outlen,
                      const uint8_t reply_to[FK_REQUEST_KEY_LEN],
                      const uint8_t entry_hash[FK_REQUEST_HASH_LEN], unsigned agent_index,
                      const uint8_t *plain, size_t plain_len)
{
    uint8_t eph[32], shared[32], key[32], aad[sizeof SEAL_DOMAIN - 1 + 34];
    uint8_t buf[32 + FK_ANSWER_PLAIN_MAX + TAG_LEN];
    fk_err err;
    if (plain_len > FK_ANSWER_PLAIN_MAX || agent_index > 0xffff)
        return FK_ERR_LIMIT;
    if (cap < plain_len + FK_ANSWER_OVERHEAD)
        return FK_ERR_LIMIT;
    make_aad(aad, entry_hash, agent_index);
    if ((err = fk_random(eph, 32)) || (err = fki_req_x25519(shared, buf, eph, reply_to)) ||
        (err = seal_key(key, shared, buf, reply_to)) ||
        (err = aead(1, buf + 32, key, aad, sizeof aad, plain, plain_len, buf + 32 + plain_len)))
        goto out;
    memcpy(out, buf, plain_len + FK_ANSWER_OVERHEAD);
    *outlen = plain_len + FK_ANSWER_OVERHEAD;
out:
    fk_wipe(eph, sizeof eph);
    fk_wipe(shared, sizeof shared);
    fk_wipe(key, sizeof key);
    fk_wipe(buf, sizeof buf);
    return err;
}

fk_err fk_answer_open(uint8_t *plain, size_t cap, size_t *plain_len,
                      const uint8_t reply_secret[FK_REQUEST_KEY_LEN],
                      const uint8_t entry_hash[FK_REQUEST_HASH_LEN], unsigned agent_index,
                      const uint8_t *sealed, size_t sealed_len)
{
    uint8_t shared[32], key[32], mine[32], tag[TAG_LEN], aad[sizeof SEAL_DOMAIN - 1 + 34];
    uint8_t buf[FK_ANSWER_PLAIN_MAX];
    fk_err err;
    if (sealed_len < FK_ANSWER_OVERHEAD || sealed_len - FK_ANSWER_OVERHEAD > FK_ANSWER_PLAIN_MAX ||
        agent_index > 0xffff)
        return FK_ERR_INVALID;
    size_t n = sealed_len - FK_ANSWER_OVERHEAD;
    if (cap < n)
        return FK_ERR_LIMIT;
    make_aad(aad, entry_hash, agent_index);
    memcpy(tag, sealed + 32 + n, TAG_LEN);
    if ((err = fki_req_x25519(shared, mine, reply_secret, sealed)) ||
        (err = seal_key(key, shared, sealed, mine)) ||
        (err = aead(0, buf, key, aad, sizeof aad, sealed + 32, n, tag)))
        goto out;
    memcpy(plain, buf, n);
    *plain_len = n;
out:
    fk_wipe(shared, sizeof shared);
    fk_wipe(key, sizeof key);
    fk_wipe(buf, sizeof buf);
    return err;
}
