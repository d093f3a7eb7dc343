/*
 * The scrypt passphrase recipient type (C2SP age, "The scrypt recipient
 * type").  That an scrypt stanza is alone in its header is checked for every
 * file in age.c, before any identity runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "age/internal.h"

#define S_TYPE "scrypt"
#define S_LABEL "age-encryption.org/v1/scrypt"
#define S_LABEL_LEN (sizeof S_LABEL - 1)
#define S_SALT_LEN 16
#define S_R 8
#define S_P 1
#define WRAPPED_LEN (FK_AGE_FILE_KEY_LEN + FK_AGE_TAG_LEN)

typedef struct s_state {
    char *pass;
    size_t passlen;
    int logn;
} s_state;

static fk_err derive(uint8_t key[32], const s_state *st, const uint8_t salt[S_SALT_LEN], int logn)
{
    uint8_t s[S_LABEL_LEN + S_SALT_LEN];
    uint64_t n = (uint64_t)1 << logn;
    memcpy(s, S_LABEL, S_LABEL_LEN);
    memcpy(s + S_LABEL_LEN, salt, S_SALT_LEN);
    if (logn < 1 || logn > FK_AGE_SCRYPT_MAX_LOGN)
        return FK_ERR_LIMIT;
    /* libsodium's scrypt (its SSE2 escrypt core) over OpenSSL's portable
     * one: about 0.65x the time at log N 18 here (docs/age.md).  It picks
     * the SSE2 core only once sodium_init has probed the CPU.  It needs
     * 128*r*N bytes, 4 GiB at log N 22, which it allocates itself. */
    if (sodium_init() < 0 ||
        crypto_pwhash_scryptsalsa208sha256_ll((const uint8_t *)st->pass, st->passlen, s, sizeof s,
                                              n, S_R, S_P, key, 32) != 0)
        return FK_ERR_CRYPTO;
    return FK_OK;
}

static fk_err s_wrap(const fk_recipient *r, const uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                     fk_stanza *out)
{
    const s_state *st = r->state;
    uint8_t salt[S_SALT_LEN], key[32], body[WRAPPED_LEN];
    char salt_b64[24], logn[8];
    const char *args[3] = {S_TYPE, salt_b64, logn};
    fk_err err;

    if ((err = fk_random(salt, sizeof salt)) == FK_OK &&
        (err = derive(key, st, salt, st->logn)) == FK_OK &&
        (err = fki_aead_seal0(body, key, file_key, FK_AGE_FILE_KEY_LEN)) == FK_OK) {
        fk_b64_encode(salt_b64, salt, sizeof salt);
        snprintf(logn, sizeof logn, "%d", st->logn);
        err = fk_stanza_init(out, args, 3, body, sizeof body);
    }
    fk_wipe(key, sizeof key);
    return err;
}

/* ^[1-9][0-9]*$, at most FK_AGE_SCRYPT_MAX_LOGN; -1 otherwise. */
static int parse_logn(const char *s)
{
    int v = 0;
    if (*s < '1' || *s > '9')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
        if (v > FK_AGE_SCRYPT_MAX_LOGN)
            return -1; /* also stops overflow */
    }
    return v;
}

static fk_err s_unwrap(const fk_identity *id, const fk_header *h,
                       uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    const s_state *st = id->state;
    for (size_t i = 0; i < h->nstanzas; i++) {
        const fk_stanza *s = &h->stanzas[i];
        uint8_t salt[S_SALT_LEN], key[32];
        int logn;
        fk_err err;

        if (strcmp(s->args[0], S_TYPE) != 0)
            continue;
        if (s->nargs != 3 || fki_arg_b64(salt, sizeof salt, s->args[1]) != FK_OK ||
            (logn = parse_logn(s->args[2])) < 0 || s->body_len != WRAPPED_LEN)
            return FK_ERR_HEADER;
        if ((err = derive(key, st, salt, logn)) != FK_OK)
            return err;
        err = fki_open_file_key(file_key, key, s->body, s->body_len);
        if (err == FK_ERR_NO_MATCH)
            continue;
        return err;
    }
    return FK_ERR_NO_MATCH;
}

static void s_free(s_state *st)
{
    if (!st)
        return;
    fk_wipe(st->pass, st->passlen);
    free(st->pass);
    fk_wipe(st, sizeof *st);
    free(st);
}

static void s_destroy_r(fk_recipient *r)
{
    s_free(r->state);
    r->state = NULL;
}

static void s_destroy_i(fk_identity *id)
{
    s_free(id->state);
    id->state = NULL;
}

static const fk_recipient_ops s_rcpt_ops = {"scrypt", 1, s_wrap, s_destroy_r};
static const fk_identity_ops s_id_ops = {"scrypt", s_unwrap, s_destroy_i};

static fk_err new_state(s_state **out, const char *pass, size_t passlen, int logn)
{
    s_state *st = calloc(1, sizeof *st);
    if (!st || !(st->pass = malloc(passlen ? passlen : 1))) {
        free(st);
        return FK_ERR_NOMEM;
    }
    memcpy(st->pass, pass, passlen);
    st->passlen = passlen;
    st->logn = logn;
    *out = st;
    return FK_OK;
}

fk_err fk_scrypt_recipient_new(fk_recipient **out, const char *pass, size_t passlen, int logn)
{
    fk_recipient *r;
    s_state *st;
    fk_err err;
    if (!out || (!pass && passlen))
        abort();
    if (logn == 0)
        logn = FK_AGE_SCRYPT_DEFAULT_LOGN;
    if (logn < 1 || logn > FK_AGE_SCRYPT_MAX_LOGN)
        return FK_ERR_LIMIT;
    if (passlen == 0)
        return FK_ERR_INVALID;
    if ((err = new_state(&st, pass, passlen, logn)) != FK_OK)
        return err;
    if (!(r = malloc(sizeof *r))) {
        s_free(st);
        return FK_ERR_NOMEM;
    }
    r->ops = &s_rcpt_ops;
    r->state = st;
    *out = r;
    return FK_OK;
}

fk_err fk_scrypt_identity_new(fk_identity **out, const char *pass, size_t passlen)
{
    fk_identity *id;
    s_state *st;
    fk_err err;
    if (!out || (!pass && passlen))
        abort();
    if ((err = new_state(&st, pass, passlen, 0)) != FK_OK)
        return err;
    if (!(id = malloc(sizeof *id))) {
        s_free(st);
        return FK_ERR_NOMEM;
    }
    id->ops = &s_id_ops;
    id->state = st;
    *out = id;
    return FK_OK;
}
