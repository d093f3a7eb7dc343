/*
 * The X25519 recipient type (C2SP age, "The X25519 recipient type").
 */
#include <stdlib.h>
#include <string.h>

#include "age/internal.h"

#define X_INFO "age-encryption.org/v1/X25519"
#define X_TYPE "X25519"
#define HRP_RCPT "age"
#define HRP_ID "AGE-SECRET-KEY-"
#define HRP_ID_LOWER "age-secret-key-"
#define WRAPPED_LEN (FK_AGE_FILE_KEY_LEN + FK_AGE_TAG_LEN)

typedef struct x_rcpt {
    uint8_t pk[32];
} x_rcpt;

typedef struct x_id {
    uint8_t sk[32];
    uint8_t pk[32];
} x_id;

static fk_err wrap_key(uint8_t key[32], const uint8_t shared[32], const uint8_t share[32],
                       const uint8_t pk[32])
{
    uint8_t salt[64];
    memcpy(salt, share, 32);
    memcpy(salt + 32, pk, 32);
    return fki_hkdf_sha256(key, 32, shared, 32, salt, sizeof salt, X_INFO);
}

static fk_err x_wrap(const fk_recipient *r, const uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                     fk_stanza *out)
{
    const x_rcpt *xr = r->state;
    uint8_t eph[32], share[32], shared[32], key[32], body[WRAPPED_LEN];
    char share_b64[44];
    const char *args[2] = {X_TYPE, share_b64};
    fk_err err;

    if ((err = fk_random(eph, sizeof eph)) == FK_OK && (err = fki_x25519_base(share, eph)) == FK_OK &&
        (err = fki_x25519(shared, eph, xr->pk)) == FK_OK &&
        (err = wrap_key(key, shared, share, xr->pk)) == FK_OK &&
        (err = fki_aead_seal0(body, key, file_key, FK_AGE_FILE_KEY_LEN)) == FK_OK) {
        fk_b64_encode(share_b64, share, sizeof share);
        err = fk_stanza_init(out, args, 2, body, sizeof body);
    }
    fk_wipe(eph, sizeof eph);
    fk_wipe(shared, sizeof shared);
    fk_wipe(key, sizeof key);
    return err;
}

static fk_err x_unwrap(const fk_identity *id, const fk_header *h,
                       uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    const x_id *xi = id->state;
    for (size_t i = 0; i < h->nstanzas; i++) {
        const fk_stanza *s = &h->stanzas[i];
        uint8_t share[32], shared[32], key[32];
        fk_err err;

        if (strcmp(s->args[0], X_TYPE) != 0)
            continue;
        /* Malformed X25519 stanzas are header failures, checked before any
         * key agreement (the body length check stops partitioning oracles). */
        if (s->nargs != 2 || fki_arg_b64(share, sizeof share, s->args[1]) != FK_OK ||
            s->body_len != WRAPPED_LEN)
            return FK_ERR_HEADER;
        if (fki_x25519(shared, xi->sk, share) != FK_OK)
            return FK_ERR_HEADER; /* all-zero shared secret: low-order share */
        err = wrap_key(key, shared, share, xi->pk);
        fk_wipe(shared, sizeof shared);
        if (err == FK_OK)
            err = fki_open_file_key(file_key, key, s->body, s->body_len);
        fk_wipe(key, sizeof key);
        if (err == FK_ERR_NO_MATCH)
            continue;
        return err;
    }
    return FK_ERR_NO_MATCH;
}

static void x_destroy_r(fk_recipient *r)
{
    fk_wipe(r->state, sizeof(x_rcpt));
    free(r->state);
    r->state = NULL;
}

static void x_destroy_i(fk_identity *id)
{
    fk_wipe(id->state, sizeof(x_id));
    free(id->state);
    id->state = NULL;
}

static const fk_recipient_ops x_rcpt_ops = {"X25519", 0, x_wrap, x_destroy_r};
static const fk_identity_ops x_id_ops = {"X25519", x_unwrap, x_destroy_i};

static int has_upper(const char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            return 1;
    return 0;
}

static int has_lower(const char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            return 1;
    return 0;
}

/* Decode a bech32 key: the hrp must match exactly, case included (age
 * writes recipients in lowercase and identities in uppercase). */
static fk_err decode_key(uint8_t key[32], const char *s, const char *hrp_lower, int upper)
{
    char hrp[32];
    uint8_t data[33];
    size_t len = 0;
    fk_err err;
    if (upper ? has_lower(s) : has_upper(s))
        return FK_ERR_INVALID;
    err = fk_bech32_decode(hrp, sizeof hrp, data, sizeof data, &len, s, strlen(s));
    if (err == FK_OK && (strcmp(hrp, hrp_lower) != 0 || len != 32))
        err = FK_ERR_INVALID;
    if (err == FK_OK)
        memcpy(key, data, 32);
    else if (err == FK_ERR_LIMIT)
        err = FK_ERR_INVALID;
    fk_wipe(data, sizeof data);
    return err;
}

fk_err fk_x25519_recipient_parse(fk_recipient **out, const char *s)
{
    fk_recipient *r;
    x_rcpt *st;
    uint8_t pk[32];
    fk_err err;
    if (!out || !s)
        abort();
    if ((err = decode_key(pk, s, HRP_RCPT, 0)) != FK_OK)
        return err;
    r = malloc(sizeof *r);
    st = malloc(sizeof *st);
    if (!r || !st) {
        free(r);
        free(st);
        return FK_ERR_NOMEM;
    }
    memcpy(st->pk, pk, 32);
    r->ops = &x_rcpt_ops;
    r->state = st;
    *out = r;
    return FK_OK;
}

fk_err fk_x25519_identity_parse(fk_identity **out, const char *s)
{
    fk_identity *id;
    x_id *st;
    fk_err err;
    if (!out || !s)
        abort();
    if (!(st = malloc(sizeof *st)))
        return FK_ERR_NOMEM;
    if ((err = decode_key(st->sk, s, HRP_ID_LOWER, 1)) != FK_OK ||
        (err = fki_x25519_base(st->pk, st->sk)) != FK_OK || !(id = malloc(sizeof *id))) {
        fk_wipe(st, sizeof *st);
        free(st);
        return err != FK_OK ? err : FK_ERR_NOMEM;
    }
    id->ops = &x_id_ops;
    id->state = st;
    *out = id;
    return FK_OK;
}

static fk_err encode_pair(char *secret_str, char *recipient_str, const uint8_t sk[32])
{
    uint8_t pk[32];
    fk_err err = fki_x25519_base(pk, sk);
    if (err == FK_OK && secret_str)
        err = fk_bech32_encode(secret_str, FK_AGE_IDENTITY_STR_MAX, HRP_ID, sk, 32);
    if (err == FK_OK)
        err = fk_bech32_encode(recipient_str, FK_AGE_RECIPIENT_STR_MAX, HRP_RCPT, pk, 32);
    return err;
}

fk_err fk_x25519_keygen(char *secret_str, char *recipient_str)
{
    uint8_t sk[32];
    fk_err err;
    if (!secret_str || !recipient_str)
        abort();
    err = fk_random(sk, sizeof sk);
    if (err == FK_OK)
        err = encode_pair(secret_str, recipient_str, sk);
    if (err != FK_OK)
        fk_wipe(secret_str, FK_AGE_IDENTITY_STR_MAX);
    fk_wipe(sk, sizeof sk);
    return err;
}

fk_err fk_x25519_identity_to_recipient(char *recipient_str, const char *secret_str)
{
    uint8_t sk[32];
    fk_err err;
    if (!recipient_str || !secret_str)
        abort();
    err = decode_key(sk, secret_str, HRP_ID_LOWER, 1);
    if (err == FK_OK)
        err = encode_pair(NULL, recipient_str, sk);
    fk_wipe(sk, sizeof sk);
    return err;
}
