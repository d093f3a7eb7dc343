/*
 * C2SP tlog-cosignature cosignature/v1 signing: witness keys (Ed25519 with
 * key ID type byte 0x04) and timestamped cosignature lines over checkpoints.
 * Verification lives in note.c (fk_note_verify, fk_note_cosig_time).
 * The key code and Ed25519 are shared with note.c (internal.h).
 */
#include <stdlib.h>
#include <string.h>

#include "tlog/internal.h"

#define COSIG_HEADER     "cosignature/v1\ntime "
#define COSIG_HEADER_LEN (sizeof COSIG_HEADER - 1)
/* key ID (4) || big-endian timestamp (8) || Ed25519 signature (64) */
#define COSIG_RAW_LEN 76

/* An fk_cosigner holds the same fields as an fk_note_signer, the type the
 * shared key code in note.c works on (internal.h); these copy between them. */
#define KEY_COPY(dst, src)                                                                         \
    do {                                                                                           \
        memcpy((dst)->name, (src)->name, sizeof (dst)->name);                                      \
        (dst)->name_len = (src)->name_len;                                                         \
        (dst)->key_id = (src)->key_id;                                                             \
        memcpy((dst)->seed, (src)->seed, 32);                                                      \
        memcpy((dst)->pub, (src)->pub, 32);                                                        \
    } while (0)
_Static_assert(sizeof ((fk_cosigner *)0)->name == sizeof ((fk_note_signer *)0)->name,
               "fk_cosigner and fk_note_signer names differ");

/* Store the key k made (err: how that went) in c, then wipe k. */
static fk_err take_key(fk_cosigner *c, fk_note_signer *k, fk_err err)
{
    if (err == FK_OK) {
        memset(c, 0, sizeof *c);
        KEY_COPY(c, k);
    }
    fk_wipe(k, sizeof *k);
    return err;
}

fk_err fk_cosigner_from_seed(fk_cosigner *c, const char *name, size_t name_len,
                             const uint8_t seed[32])
{
    fk_note_signer k;
    if (!c)
        abort();
    return take_key(c, &k, fki_note_key_from_seed(&k, FK_NOTE_ALG_COSIG_V1, name, name_len, seed));
}

fk_err fk_cosigner_generate(fk_cosigner *c, const char *name, size_t name_len)
{
    fk_note_signer k;
    if (!c)
        abort();
    return take_key(c, &k, fki_note_key_generate(&k, FK_NOTE_ALG_COSIG_V1, name, name_len));
}

fk_err fk_cosigner_parse(fk_cosigner *c, const char *text, size_t len)
{
    fk_note_signer k;
    if (!c)
        abort();
    return take_key(c, &k, fki_note_key_parse(&k, FK_NOTE_ALG_COSIG_V1, text, len));
}

fk_err fk_cosigner_encode(const fk_cosigner *c, char *out, size_t cap, size_t *len)
{
    fk_note_signer k;
    fk_err err;
    if (!c)
        abort();
    KEY_COPY(&k, c);
    err = fki_note_key_encode(&k, FK_NOTE_ALG_COSIG_V1, out, cap, len);
    fk_wipe(&k, sizeof k);
    return err;
}

void fk_cosigner_verifier(const fk_cosigner *c, fk_note_verifier *v)
{
    fk_note_signer k;
    if (!c)
        abort();
    KEY_COPY(&k, c);
    fki_note_key_verifier(&k, FK_NOTE_ALG_COSIG_V1, v);
    fk_wipe(&k, sizeof k);
}

void fk_cosigner_wipe(fk_cosigner *c)
{
    if (c)
        fk_wipe(c, sizeof *c);
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
    err = fki_ed25519_sign(raw + 12, c->seed, msg, mlen);
    free(msg);
    if (err != FK_OK)
        return err;
    pos = fki_note_sig_line(out, c->name, c->name_len, raw, sizeof raw);
    out[pos] = 0;
    *len = pos;
    return FK_OK;
}
