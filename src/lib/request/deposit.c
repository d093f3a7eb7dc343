/*
 * Sealed source deposits: the deposit record's canonical text and its
 * signed-note form (docs/protocol.md section 10).  One encoder, one strict
 * parser: a record parses only if re-encoding it gives the same bytes.  The
 * note itself is the tlog module's C2SP signed note, as for requests.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAGIC_LINE FK_DEPOSIT_MAGIC
/* The text part of the note: the note less its blank line and signature
 * line, which are at least 100 bytes. */
#define TEXT_MAX (FK_DEPOSIT_NOTE_MAX - 100)

/* Product, version, binary names: 1..max bytes of 0x21..0x7E (no space: the
 * binary line splits on it; printable ASCII: a web page shows them). */
static int token_ok(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

static int str_ok(const char *s, size_t cap, size_t max)
{
    return token_ok(s, strnlen(s, cap), max);
}

/* Lowercase hex of exactly 32 bytes. */
static int hex32(uint8_t out[32], const char *v, size_t vl)
{
    if (vl != 64)
        return 0;
    for (size_t i = 0; i < vl; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return 0;
    return fk_hex_decode(out, 32, v, vl) == FK_OK;
}

/* Decimal, no leading zero (but "0"), at most FK_DEPOSIT_SIZE_MAX. */
static int dec_u63(uint64_t *out, const char *v, size_t vl)
{
    uint64_t x = 0;
    if (vl == 0 || vl > 19 || (vl > 1 && v[0] == '0'))
        return 0;
    for (size_t i = 0; i < vl; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 0;
        x = x * 10 + (uint64_t)(v[i] - '0'); /* 19 digits never overflow 64 bits */
    }
    if (x > FK_DEPOSIT_SIZE_MAX)
        return 0;
    *out = x;
    return 1;
}

/* "<hex sha256> <decimal size>" */
static int hash_size(uint8_t h[32], uint64_t *size, const char *v, size_t vl)
{
    return vl > 65 && v[64] == ' ' && hex32(h, v, 64) && dec_u63(size, v + 65, vl - 65);
}

static int fields_ok(const fk_deposit *d)
{
    if (!str_ok(d->authority, sizeof d->authority, FK_REQUEST_AUTHORITY_MAX) ||
        !fki_request_name_ok(d->vendor, strnlen(d->vendor, sizeof d->vendor)) ||
        !str_ok(d->product, sizeof d->product, FK_DEPOSIT_TOKEN_MAX) ||
        !str_ok(d->version, sizeof d->version, FK_DEPOSIT_TOKEN_MAX) ||
        d->archive_size > FK_DEPOSIT_SIZE_MAX || d->ciphertext_size > FK_DEPOSIT_SIZE_MAX ||
        d->nbinaries > FK_DEPOSIT_BINARIES_MAX)
        return 0;
    for (size_t i = 0; i < d->nbinaries; i++)
        if (!str_ok(d->binaries[i].name, sizeof d->binaries[i].name, FK_DEPOSIT_BINARY_NAME_MAX))
            return 0;
    char tm[FK_REQUEST_TIME_STR_LEN + 1];
    return fk_request_time_format(tm, d->time) == FK_OK;
}

/* Append to out at *n; 0 if it does not fit. */
static int put(char *out, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int put(char *out, size_t cap, size_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = *n < cap ? vsnprintf(out + *n, cap - *n, fmt, ap) : -1;
    va_end(ap);
    if (k < 0 || (size_t)k >= cap - *n)
        return 0;
    *n += (size_t)k;
    return 1;
}

fk_err fk_deposit_encode(char *out, size_t cap, size_t *len, const fk_deposit *d)
{
    char tgt[48], tgb[48], tbody[132], vk[48], ah[65], ch[65], bh[65],
        tm[FK_REQUEST_TIME_STR_LEN + 1];
    size_t n = 0;
    if (!fields_ok(d))
        return FK_ERR_INVALID;
    fk_b64_encode(tgt, d->target, 32);
    fk_b64_encode(tgb, d->target_ebar, 32);
    fk_b64_encode(tbody, d->target_body, FK_REQUEST_TARGET_BODY_LEN);
    fk_b64_encode(vk, d->vendor_key, 32);
    fk_hex_encode(ah, d->archive_sha256, 32);
    fk_hex_encode(ch, d->ciphertext_sha256, 32);
    fk_request_time_format(tm, d->time);
    if (!put(out, cap, &n,
             MAGIC_LINE "\nauthority %s\ntarget %s %s %s\nvendor %s %s\nproduct %s\nversion %s\n"
                        "archive %s %llu\nciphertext %s %llu\n",
             d->authority, tgt, tgb, tbody, d->vendor, vk, d->product, d->version, ah,
             (unsigned long long)d->archive_size, ch, (unsigned long long)d->ciphertext_size))
        return FK_ERR_LIMIT;
    for (size_t i = 0; i < d->nbinaries; i++) {
        fk_hex_encode(bh, d->binaries[i].sha256, 32);
        if (!put(out, cap, &n, "binary %s %s\n", bh, d->binaries[i].name))
            return FK_ERR_LIMIT;
    }
    if (!put(out, cap, &n, "time %s\n", tm))
        return FK_ERR_LIMIT;
    *len = n;
    return FK_OK;
}

/* Does the line at p start with "<tag> "? */
static int tagged(const char *p, const char *end, const char *tag)
{
    size_t tl = strlen(tag);
    return (size_t)(end - p) > tl && !memcmp(p, tag, tl) && p[tl] == ' ';
}

fk_err fk_deposit_parse_text(fk_deposit *d, const char *text, size_t len)
{
    fk_deposit *t = malloc(sizeof *t);
    const char *p = text, *end = text + len, *v, *sp;
    size_t vl, n = 0;
    fk_err err = FK_ERR_INVALID;
    if (!t)
        return FK_ERR_NOMEM;
    memset(t, 0, sizeof *t);
    if (len > TEXT_MAX || len < sizeof MAGIC_LINE || memcmp(p, MAGIC_LINE "\n", sizeof MAGIC_LINE))
        goto out;
    p += sizeof MAGIC_LINE;
    if (!fki_request_line(&p, end, "authority", &v, &vl) ||
        !token_ok(v, vl, FK_REQUEST_AUTHORITY_MAX))
        goto out;
    memcpy(t->authority, v, vl);
    /* target <b64 E> <b64 Ebar> <b64 body>: fixed widths 43, 43, 128. */
    if (!fki_request_line(&p, end, "target", &v, &vl) || vl != 43 + 1 + 43 + 1 + 128 ||
        v[43] != ' ' || v[87] != ' ' || !fki_request_b64_32(t->target, v, 43) ||
        !fki_request_b64_32(t->target_ebar, v + 44, 43) ||
        fk_b64_decode(t->target_body, sizeof t->target_body, &n, v + 88, 128) != FK_OK ||
        n != FK_REQUEST_TARGET_BODY_LEN)
        goto out;
    if (!fki_request_line(&p, end, "vendor", &v, &vl) || !(sp = memchr(v, ' ', vl)) ||
        !fki_request_name_ok(v, (size_t)(sp - v)) ||
        !fki_request_b64_32(t->vendor_key, sp + 1, (size_t)(v + vl - sp - 1)))
        goto out;
    memcpy(t->vendor, v, (size_t)(sp - v));
    if (!fki_request_line(&p, end, "product", &v, &vl) || !token_ok(v, vl, FK_DEPOSIT_TOKEN_MAX))
        goto out;
    memcpy(t->product, v, vl);
    if (!fki_request_line(&p, end, "version", &v, &vl) || !token_ok(v, vl, FK_DEPOSIT_TOKEN_MAX))
        goto out;
    memcpy(t->version, v, vl);
    if (!fki_request_line(&p, end, "archive", &v, &vl) ||
        !hash_size(t->archive_sha256, &t->archive_size, v, vl))
        goto out;
    if (!fki_request_line(&p, end, "ciphertext", &v, &vl) ||
        !hash_size(t->ciphertext_sha256, &t->ciphertext_size, v, vl))
        goto out;
    while (tagged(p, end, "binary")) {
        fk_deposit_binary *b = &t->binaries[t->nbinaries];
        if (t->nbinaries == FK_DEPOSIT_BINARIES_MAX || !fki_request_line(&p, end, "binary", &v, &vl) ||
            vl < 66 || v[64] != ' ' || !hex32(b->sha256, v, 64) ||
            !token_ok(v + 65, vl - 65, FK_DEPOSIT_BINARY_NAME_MAX))
            goto out;
        memcpy(b->name, v + 65, vl - 65);
        t->nbinaries++;
    }
    if (!fki_request_line(&p, end, "time", &v, &vl) || fk_request_time_parse(&t->time, v, vl) ||
        p != end)
        goto out;
    *d = *t;
    err = FK_OK;
out:
    free(t);
    return err;
}

fk_err fk_deposit_sign(char *out, size_t cap, size_t *len, fk_deposit *d,
                       const fk_requester_key *k)
{
    char *text = malloc(TEXT_MAX + 1), *buf = malloc(FK_DEPOSIT_NOTE_MAX + 1);
    size_t n, m;
    fk_note_signer s;
    fk_err err = FK_ERR_NOMEM;
    if (!text || !buf)
        goto out;
    memcpy(d->vendor, k->name, sizeof d->vendor);
    memcpy(d->vendor_key, k->sign_pub, 32);
    if ((err = fk_deposit_encode(text, TEXT_MAX + 1, &n, d)))
        goto out;
    if ((err = fk_note_signer_from_seed(&s, k->name, strlen(k->name), k->sign_seed)))
        goto out;
    const fk_note_signer *signers[1] = {&s};
    err = fk_note_sign(text, n, signers, 1, buf, FK_DEPOSIT_NOTE_MAX + 1, &m);
    fk_note_signer_wipe(&s);
    if (err) {
        err = err == FK_ERR_INVALID ? FK_ERR_LIMIT : err;
        goto out;
    }
    if (m > FK_DEPOSIT_NOTE_MAX || m >= cap) {
        err = FK_ERR_LIMIT;
        goto out;
    }
    memcpy(out, buf, m + 1);
    *len = m;
out:
    free(text);
    free(buf);
    return err;
}

fk_err fk_deposit_verify(fk_deposit *d, const char *note, size_t len)
{
    fk_deposit *t = NULL;
    fk_note *nt = NULL;
    fk_err err;
    if (len > FK_DEPOSIT_NOTE_MAX)
        return FK_ERR_LIMIT;
    nt = malloc(sizeof *nt);
    t = malloc(sizeof *t);
    if (!nt || !t) {
        err = FK_ERR_NOMEM;
        goto out;
    }
    if (fk_note_parse(nt, note, len) || nt->nsigs != 1) {
        err = FK_ERR_INVALID;
        goto out;
    }
    if ((err = fk_deposit_parse_text(t, nt->text, nt->text_len)))
        goto out;
    if ((err = fki_request_check_signer(nt, t->vendor, t->vendor_key)))
        goto out;
    *d = *t;
out:
    free(nt);
    free(t);
    return err;
}
