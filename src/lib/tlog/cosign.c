/*
 * C2SP tlog-cosignature cosignature/v1 signing: witness keys (Ed25519 with
 * key ID type byte 0x04) and timestamped cosignature lines over checkpoints.
 * Verification lives in note.c (fk_note_verify, fk_note_cosig_time).
 * Ed25519 and SHA-256 come from OpenSSL.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tlog/internal.h"

#define PRIV_PREFIX      "PRIVATE+KEY+"
#define PRIV_PREFIX_LEN  (sizeof PRIV_PREFIX - 1)
#define COSIG_HEADER     "cosignature/v1\ntime "
#define COSIG_HEADER_LEN (sizeof COSIG_HEADER - 1)
/* key ID (4) || big-endian timestamp (8) || Ed25519 signature (64) */
#define COSIG_RAW_LEN 76

fk_err fk_cosigner_from_seed(fk_cosigner *c, const char *name, size_t name_len,
                             const uint8_t seed[32])
{
    fk_cosigner t;
    size_t publen = 32;
    fk_err err = FK_ERR_CRYPTO;
    EVP_PKEY *pk;
    if (!c || !name || !seed)
        abort();
    if (!fki_note_name_ok(name, name_len))
        return FK_ERR_INVALID;
    memset(&t, 0, sizeof t);
    memcpy(t.name, name, name_len);
    t.name_len = name_len;
    memcpy(t.seed, seed, 32);
    pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    if (pk && EVP_PKEY_get_raw_public_key(pk, t.pub, &publen) == 1 && publen == 32)
        err = fk_note_key_id(&t.key_id, name, name_len, FK_NOTE_ALG_COSIG_V1, t.pub);
    EVP_PKEY_free(pk);
    if (err == FK_OK)
        *c = t;
    fk_wipe(&t, sizeof t);
    return err;
}

fk_err fk_cosigner_generate(fk_cosigner *c, const char *name, size_t name_len)
{
    uint8_t seed[32];
    fk_err err;
    if ((err = fk_random(seed, sizeof seed)) == FK_OK)
        err = fk_cosigner_from_seed(c, name, name_len, seed);
    fk_wipe(seed, sizeof seed);
    return err;
}

fk_err fk_cosigner_parse(fk_cosigner *c, const char *text, size_t len)
{
    const char *name;
    size_t name_len;
    uint32_t id;
    uint8_t alg, seed[32];
    fk_cosigner t;
    fk_err err;
    if (!c || !text)
        abort();
    if (len > FK_NOTE_KEY_TEXT_MAX)
        return FK_ERR_LIMIT;
    if (len < PRIV_PREFIX_LEN || memcmp(text, PRIV_PREFIX, PRIV_PREFIX_LEN) != 0)
        return FK_ERR_INVALID;
    err = fki_note_split_key(text + PRIV_PREFIX_LEN, len - PRIV_PREFIX_LEN, &name, &name_len, &id,
                             &alg, seed);
    if (err == FK_OK && alg != FK_NOTE_ALG_COSIG_V1)
        err = FK_ERR_UNSUPPORTED;
    if (err == FK_OK)
        err = fk_cosigner_from_seed(&t, name, name_len, seed);
    if (err == FK_OK && t.key_id != id)
        err = FK_ERR_INVALID;
    if (err == FK_OK)
        *c = t;
    fk_wipe(seed, sizeof seed);
    fk_wipe(&t, sizeof t);
    return err;
}

fk_err fk_cosigner_encode(const fk_cosigner *c, char *out, size_t cap, size_t *len)
{
    if (!c)
        abort();
    return fki_note_encode_key(out, cap, len, PRIV_PREFIX, c->name, c->name_len, c->key_id,
                               FK_NOTE_ALG_COSIG_V1, c->seed);
}

void fk_cosigner_verifier(const fk_cosigner *c, fk_note_verifier *v)
{
    if (!c || !v)
        abort();
    memset(v, 0, sizeof *v);
    memcpy(v->name, c->name, c->name_len);
    v->name_len = c->name_len;
    v->key_id = c->key_id;
    v->alg = FK_NOTE_ALG_COSIG_V1;
    memcpy(v->pub, c->pub, 32);
}

void fk_cosigner_wipe(fk_cosigner *c)
{
    if (c)
        fk_wipe(c, sizeof *c);
}

static fk_err ed25519_sign(const uint8_t seed[32], const uint8_t *msg, size_t len, uint8_t sig[64])
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t siglen = 64;
    fk_err err = FK_ERR_CRYPTO;
    if (pk && ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) == 1 &&
        EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1 && siglen == 64)
        err = FK_OK;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return err;
}

fk_err fk_cosign_checkpoint(const fk_cosigner *c, const char *text, size_t text_len,
                            uint64_t timestamp, char *out, size_t cap, size_t *len)
{
    fk_checkpoint cp;
    uint8_t raw[COSIG_RAW_LEN], *msg;
    char num[21];
    size_t numlen, mlen, need, pos;
    fk_err err;
    if (!c || !text || !out || !len)
        abort();
    if (timestamp == 0 || timestamp > (uint64_t)INT64_MAX)
        return FK_ERR_INVALID;
    if (text_len > FK_NOTE_MAX_SIZE)
        return FK_ERR_LIMIT;
    if ((err = fk_checkpoint_parse(&cp, text, text_len)) != FK_OK)
        return err;
    need = 4 + c->name_len + 1 + fk_b64_enc_len_padded(COSIG_RAW_LEN) + 1;
    if (cap < need + 1)
        return FK_ERR_LIMIT;
    numlen = fki_fmt_u64(num, timestamp);
    mlen = COSIG_HEADER_LEN + numlen + 1 + text_len;
    /* Ed25519 in OpenSSL is one-shot, so the message is assembled. */
    msg = malloc(mlen);
    if (!msg)
        return FK_ERR_NOMEM;
    memcpy(msg, COSIG_HEADER, COSIG_HEADER_LEN);
    memcpy(msg + COSIG_HEADER_LEN, num, numlen);
    msg[COSIG_HEADER_LEN + numlen] = '\n';
    memcpy(msg + COSIG_HEADER_LEN + numlen + 1, text, text_len);
    raw[0] = (uint8_t)(c->key_id >> 24);
    raw[1] = (uint8_t)(c->key_id >> 16);
    raw[2] = (uint8_t)(c->key_id >> 8);
    raw[3] = (uint8_t)c->key_id;
    for (int i = 0; i < 8; i++)
        raw[4 + i] = (uint8_t)(timestamp >> (56 - 8 * i));
    err = ed25519_sign(c->seed, msg, mlen, raw + 12);
    free(msg);
    if (err != FK_OK)
        return err;
    memcpy(out, "\xe2\x80\x94 ", 4);
    pos = 4;
    memcpy(out + pos, c->name, c->name_len);
    pos += c->name_len;
    out[pos++] = ' ';
    pos += fk_b64_encode_padded(out + pos, raw, sizeof raw);
    out[pos++] = '\n';
    out[pos] = 0;
    *len = pos;
    return FK_OK;
}
