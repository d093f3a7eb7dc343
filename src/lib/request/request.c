/*
 * Canonical recovery request text and its signed-note form
 * (docs/protocol.md section 2).  One encoder, one strict parser: a request
 * parses only if re-encoding it gives the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal.h"

#define MAGIC_LINE "fairkey recovery request v2"
/* The longest request text: fixed words plus every field at its maximum. */
#define TEXT_MAX (FK_REQUEST_NOTE_MAX - 160)

/* ---- time ---------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Years 1970..9999 only: a request is about now, and 4 digits keep it fixed-width. */
#define TIME_MIN 0
#define TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */

fk_err fk_request_time_format(char out[FK_REQUEST_TIME_STR_LEN + 1], int64_t t)
{
    if (t < TIME_MIN || t > TIME_MAX)
        return FK_ERR_INVALID;
    int64_t y;
    unsigned m, d, secs = (unsigned)(t % 86400);
    civil_from_days(t / 86400, &y, &m, &d);
    char tmp[64]; /* roomy enough that the compiler can prove no truncation */
    snprintf(tmp, sizeof tmp, "%04d-%02u-%02uT%02u:%02u:%02uZ", (int)y, m % 100, d % 100,
             secs / 3600 % 100, secs / 60 % 60, secs % 60);
    memcpy(out, tmp, FK_REQUEST_TIME_STR_LEN + 1);
    return FK_OK;
}

static int digits(const char *s, size_t n, unsigned *v)
{
    unsigned x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *v = x;
    return 1;
}

fk_err fk_request_time_parse(int64_t *t, const char *s, size_t len)
{
    unsigned y, mo, d, h, mi, se;
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (len != FK_REQUEST_TIME_STR_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
        s[13] != ':' || s[16] != ':' || s[19] != 'Z')
        return FK_ERR_INVALID;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
        return FK_ERR_INVALID;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
        se > 59)
        return FK_ERR_INVALID;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return FK_ERR_INVALID;
    *t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return FK_OK;
}

/* ---- text ---------------------------------------------------------------- */

/* Authority ids: 1..FK_REQUEST_AUTHORITY_MAX printable ASCII, no space. */
static int token_ok(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

/* Reasons: 1..FK_REQUEST_REASON_MAX bytes of printable ASCII or UTF-8 bytes
 * >= 0x80 (no control characters, as signed notes demand), no leading or
 * trailing space (so the text survives copy and paste unchanged). */
static int reason_ok(const char *s, size_t len)
{
    if (len == 0 || len > FK_REQUEST_REASON_MAX || s[0] == ' ' || s[len - 1] == ' ')
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return 0;
    return 1;
}

static int fields_ok(const fk_request *r)
{
    return token_ok(r->authority, strnlen(r->authority, sizeof r->authority),
                    FK_REQUEST_AUTHORITY_MAX) &&
           fki_request_name_ok(r->requester, strnlen(r->requester, sizeof r->requester)) &&
           reason_ok(r->reason, strnlen(r->reason, sizeof r->reason)) && r->time >= TIME_MIN &&
           r->time <= TIME_MAX;
}

fk_err fk_request_encode(char *out, size_t cap, size_t *len, const fk_request *r)
{
    char tgt[48], tgb[48], tbody[132], rk[48], rt[48], war[65], tm[FK_REQUEST_TIME_STR_LEN + 1];
    if (!fields_ok(r))
        return FK_ERR_INVALID;
    fk_b64_encode(tgt, r->target, 32);
    fk_b64_encode(tgb, r->target_ebar, 32);
    fk_b64_encode(tbody, r->target_body, FK_REQUEST_TARGET_BODY_LEN);
    fk_b64_encode(rk, r->requester_key, 32);
    fk_b64_encode(rt, r->reply_to, 32);
    fk_hex_encode(war, r->warrant, 32);
    fk_request_time_format(tm, r->time);
    int n = snprintf(out, cap,
                     MAGIC_LINE "\nauthority %s\ntarget %s %s %s\nrequester %s %s\nreply-to %s\n"
                                "warrant %s\nreason %s\ntime %s\n",
                     r->authority, tgt, tgb, tbody, r->requester, rk, rt, war, r->reason, tm);
    if (n < 0 || (size_t)n >= cap)
        return FK_ERR_LIMIT;
    *len = (size_t)n;
    return FK_OK;
}

fk_err fk_request_parse_text(fk_request *r, const char *text, size_t len)
{
    fk_request t;
    const char *p = text, *end = text + len, *v;
    size_t vl;
    memset(&t, 0, sizeof t);
    if (len > TEXT_MAX || len < sizeof MAGIC_LINE || memcmp(p, MAGIC_LINE "\n", sizeof MAGIC_LINE))
        return FK_ERR_INVALID;
    p += sizeof MAGIC_LINE;
    if (!fki_request_line(&p, end, "authority", &v, &vl) || !token_ok(v, vl, FK_REQUEST_AUTHORITY_MAX))
        return FK_ERR_INVALID;
    memcpy(t.authority, v, vl);
    /* target <b64 E> <b64 Ebar> <b64 body>: fixed widths 43, 43, 128. */
    if (!fki_request_line(&p, end, "target", &v, &vl) || vl != 43 + 1 + 43 + 1 + 128 ||
        v[43] != ' ' || v[87] != ' ' || !fki_request_b64_32(t.target, v, 43) ||
        !fki_request_b64_32(t.target_ebar, v + 44, 43))
        return FK_ERR_INVALID;
    {
        size_t n = 0;
        if (fk_b64_decode(t.target_body, sizeof t.target_body, &n, v + 88, 128) != FK_OK ||
            n != FK_REQUEST_TARGET_BODY_LEN)
            return FK_ERR_INVALID;
    }
    if (!fki_request_line(&p, end, "requester", &v, &vl))
        return FK_ERR_INVALID;
    const char *sp = memchr(v, ' ', vl);
    if (!sp || !fki_request_name_ok(v, (size_t)(sp - v)) ||
        !fki_request_b64_32(t.requester_key, sp + 1, (size_t)(v + vl - sp - 1)))
        return FK_ERR_INVALID;
    memcpy(t.requester, v, (size_t)(sp - v));
    if (!fki_request_line(&p, end, "reply-to", &v, &vl) || !fki_request_b64_32(t.reply_to, v, vl))
        return FK_ERR_INVALID;
    if (!fki_request_line(&p, end, "warrant", &v, &vl) || vl != 64)
        return FK_ERR_INVALID;
    for (size_t i = 0; i < vl; i++) /* lowercase only: one encoding per value */
        if (v[i] >= 'A' && v[i] <= 'F')
            return FK_ERR_INVALID;
    if (fk_hex_decode(t.warrant, 32, v, vl))
        return FK_ERR_INVALID;
    if (!fki_request_line(&p, end, "reason", &v, &vl) || !reason_ok(v, vl))
        return FK_ERR_INVALID;
    memcpy(t.reason, v, vl);
    if (!fki_request_line(&p, end, "time", &v, &vl) || fk_request_time_parse(&t.time, v, vl))
        return FK_ERR_INVALID;
    if (p != end)
        return FK_ERR_INVALID;
    *r = t;
    return FK_OK;
}

/* ---- signed note ---------------------------------------------------------- */

/* The signed note is built and checked by the tlog module's signed-note
 * code (C2SP signed-note, Ed25519); this file adds only the request rules:
 * exactly one signature, by the key and under the name the request names. */
fk_err fk_request_sign(char *out, size_t cap, size_t *len, fk_request *r,
                       const fk_requester_key *k)
{
    char text[TEXT_MAX + 1], buf[FK_REQUEST_NOTE_MAX + 1];
    size_t n, m;
    fk_note_signer s;
    fk_err err;
    memcpy(r->requester, k->name, sizeof r->requester);
    memcpy(r->requester_key, k->sign_pub, 32);
    memcpy(r->reply_to, k->reply_pub, 32);
    if ((err = fk_request_encode(text, sizeof text, &n, r)))
        return err;
    if ((err = fk_note_signer_from_seed(&s, k->name, strlen(k->name), k->sign_seed)))
        return err;
    const fk_note_signer *signers[1] = {&s};
    err = fk_note_sign(text, n, signers, 1, buf, sizeof buf, &m);
    fk_note_signer_wipe(&s);
    if (err)
        return err == FK_ERR_LIMIT || err == FK_ERR_INVALID ? FK_ERR_LIMIT : err;
    if (m >= cap)
        return FK_ERR_LIMIT;
    memcpy(out, buf, m + 1);
    *len = m;
    return FK_OK;
}

fk_err fk_request_verify(fk_request *r, const char *note, size_t len)
{
    fk_request t;
    fk_note *nt;
    fk_err err;
    if (len > FK_REQUEST_NOTE_MAX)
        return FK_ERR_INVALID;
    nt = malloc(sizeof *nt);
    if (!nt)
        return FK_ERR_NOMEM;
    if (fk_note_parse(nt, note, len) || nt->nsigs != 1) {
        err = FK_ERR_INVALID;
        goto out;
    }
    if ((err = fk_request_parse_text(&t, nt->text, nt->text_len)))
        goto out;
    if ((err = fki_request_check_signer(nt, t.requester, t.requester_key)))
        goto out;
    *r = t;
out:
    free(nt);
    return err;
}

fk_err fk_request_entry_hash(uint8_t out[FK_REQUEST_HASH_LEN], const void *entry, size_t len)
{
    static const uint8_t zero = 0;
    unsigned hl = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    fk_err err = FK_ERR_CRYPTO;
    if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(c, &zero, 1) == 1 &&
        EVP_DigestUpdate(c, entry, len) == 1 && EVP_DigestFinal_ex(c, out, &hl) == 1)
        err = FK_OK;
    EVP_MD_CTX_free(c);
    return err;
}
