/*
 * The certified transcript as a transparency log entry (docs/spec.md 9.7):
 * the whole certified transcript, or, for a ceremony whose transcript does
 * not fit in a log entry, its SHA-256 with the authority id and the n
 * certification signatures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dkg/internal.h"

static const char full_magic[] = "fairkey authority transcript v1\n";
static const char hash_magic[] = "fairkey authority transcript-hash v1\n";

size_t fk_dkg_log_entry_len(fk_dkg_entry_form form, size_t tlen, unsigned n)
{
    if (form == FK_DKG_ENTRY_FULL)
        return sizeof full_magic - 1 + fk_dkg_certified_text_len(tlen, n);
    /* magic, "authority " 64 LF, "transcript-sha256 " 64 LF, n signature lines, NUL */
    return sizeof hash_magic - 1 + 10 + 64 + 1 + 18 + 64 + 1 + (size_t)n * (10 + 3 + 1 + 88 + 1) +
           1;
}

fk_err fk_dkg_log_entry(char *out, size_t cap, size_t *len, fk_dkg_entry_form form,
                        const uint8_t *t, size_t tlen, const uint8_t (*sigs)[FK_DKG_SIG_LEN],
                        unsigned n, const uint8_t id[FK_ESCROW_ID_LEN])
{
    size_t o, l;
    uint8_t h[32];
    fk_err err;

    if (!out || !len || !t || !sigs || (form == FK_DKG_ENTRY_HASH && !id))
        abort();
    if (n < 1 || n > FK_DKG_MAX_PARTICIPANTS)
        return FK_ERR_INVALID;
    if (cap < fk_dkg_log_entry_len(form, tlen, n))
        return FK_ERR_LIMIT;
    if (form == FK_DKG_ENTRY_FULL) {
        memcpy(out, full_magic, sizeof full_magic - 1);
        o = sizeof full_magic - 1;
        if ((err = fk_dkg_certified_encode(out + o, cap - o, &l, t, tlen, sigs, n)) != FK_OK)
            return err;
        *len = o + l;
        return FK_OK;
    }
    crypto_hash_sha256(h, t, tlen);
    memcpy(out, hash_magic, sizeof hash_magic - 1);
    o = sizeof hash_magic - 1;
    memcpy(out + o, "authority ", 10);
    o += 10;
    fk_hex_encode(out + o, id, FK_ESCROW_ID_LEN);
    o += 2 * FK_ESCROW_ID_LEN;
    memcpy(out + o, "\ntranscript-sha256 ", 19);
    o += 19;
    fk_hex_encode(out + o, h, sizeof h);
    o += 2 * sizeof h;
    out[o++] = '\n';
    for (unsigned j = 0; j < n; j++) {
        o += (size_t)snprintf(out + o, cap - o, "signature %u ", j + 1);
        o += fk_b64_encode_padded_public(out + o, sigs[j], FK_DKG_SIG_LEN);
        out[o++] = '\n';
    }
    out[o] = '\0';
    *len = o;
    return FK_OK;
}

/* The next LF-terminated line "key value": the value and its length. */
static const char *field(const char **p, const char *end, const char *key, size_t *vl)
{
    const char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
    size_t kl = strlen(key);

    if (!nl || (size_t)(nl - s) <= kl || memcmp(s, key, kl))
        return NULL;
    *vl = (size_t)(nl - s) - kl;
    *p = nl + 1;
    return s + kl;
}

/* Lowercase hex only: one encoding per value. */
static int hex32(uint8_t out[32], const char *s, size_t n)
{
    if (n != 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return fk_hex_decode(out, 32, s, n) == FK_OK;
}

fk_err fk_dkg_log_hash_parse(fk_dkg_log_hash *h, const char *entry, size_t len)
{
    const char *p = entry, *end = entry + len, *v;
    size_t vl, got;
    unsigned n = 0;

    if (!h || (!entry && len))
        abort();
    if (len < sizeof hash_magic - 1 || memcmp(entry, hash_magic, sizeof hash_magic - 1))
        return FK_ERR_INVALID;
    p += sizeof hash_magic - 1;
    if (!(v = field(&p, end, "authority ", &vl)) || !hex32(h->authority_id, v, vl) ||
        !(v = field(&p, end, "transcript-sha256 ", &vl)) || !hex32(h->transcript_hash, v, vl))
        return FK_ERR_INVALID;
    while (p < end) {
        char key[24];
        if (n == FK_DKG_MAX_PARTICIPANTS)
            return FK_ERR_INVALID;
        snprintf(key, sizeof key, "signature %u ", n + 1);
        if (!(v = field(&p, end, key, &vl)) ||
            fk_b64_decode_padded(h->sigs[n], FK_DKG_SIG_LEN, &got, v, vl) != FK_OK ||
            got != FK_DKG_SIG_LEN)
            return FK_ERR_INVALID;
        n++;
    }
    if (n == 0)
        return FK_ERR_INVALID;
    h->n = n;
    return FK_OK;
}
