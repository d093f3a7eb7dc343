/*
 * C2SP signed-note: Ed25519 keys (vkey and private-key text forms), signing,
 * parsing and verification, plus tlog-cosignature cosignature/v1 checks.
 * Ed25519 and SHA-256 come from OpenSSL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tlog/internal.h"

static const char EM_DASH_SP[] = "\xe2\x80\x94 "; /* U+2014 then a space */
#define EM_DASH_SP_LEN 4
#define PRIV_PREFIX "PRIVATE+KEY+"
#define PRIV_PREFIX_LEN (sizeof PRIV_PREFIX - 1)
/* type byte + 32-byte key, padded base64 */
#define KEY_B64_LEN 44
/* Longest signature we decode for a known key: cosignature/v1 is key ID (4),
 * timestamp (8), Ed25519 signature (64). */
#define SIG_MAX 76
#define COSIG_HEADER "cosignature/v1\ntime "

/* ---- small text helpers shared by the module ----------------------------- */

size_t fki_line_len(const char *s, size_t len)
{
    const char *nl = memchr(s, '\n', len);
    return nl ? (size_t)(nl - s) : len;
}

fk_err fki_parse_u64(uint64_t *out, const char *s, size_t len, uint64_t max)
{
    uint64_t v = 0;
    if (len == 0 || len > 20 || (s[0] == '0' && len > 1))
        return FK_ERR_INVALID;
    for (size_t i = 0; i < len; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return FK_ERR_INVALID;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return FK_ERR_LIMIT;
        v = v * 10 + d;
    }
    if (v > max)
        return FK_ERR_LIMIT;
    *out = v;
    return FK_OK;
}

size_t fki_fmt_u64(char out[21], uint64_t v)
{
    char tmp[21];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = 0;
    return n;
}

/* Decode one UTF-8 code point at s[*i]; -1 on any defect. */
static long utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    long cp;
    size_t n;
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        cp = c & 0x07;
    } else {
        return -1;
    }
    if (len - *i < n + 1)
        return -1;
    for (size_t k = 1; k <= n; k++) {
        unsigned char d = s[*i + k];
        if ((d & 0xc0) != 0x80)
            return -1;
        cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return -1;
    *i += n + 1;
    return cp;
}

bool fki_note_chars_ok(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        long cp = utf8_next(u, len, &i);
        if (cp < 0 || (cp < 0x20 && cp != '\n'))
            return false;
    }
    return true;
}

static bool is_unicode_space(long cp)
{
    /* Unicode White_Space property. */
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
           cp == 0x205f || cp == 0x3000;
}

bool fki_note_name_ok(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    if (len == 0 || len > FK_NOTE_NAME_MAX)
        return false;
    while (i < len) {
        long cp = utf8_next(u, len, &i);
        if (cp < 0x20 || cp == '+' || is_unicode_space(cp))
            return false;
    }
    return true;
}

/* ---- keys ----------------------------------------------------------------- */

fk_err fk_note_key_id(uint32_t *id, const char *name, size_t name_len, uint8_t alg,
                      const uint8_t pub[32])
{
    uint8_t buf[FK_NOTE_NAME_MAX + 2 + 32], h[32];
    fk_err err;
    if (!id || !name || !pub)
        abort();
    if (name_len > FK_NOTE_NAME_MAX)
        return FK_ERR_LIMIT;
    memcpy(buf, name, name_len);
    buf[name_len] = '\n';
    buf[name_len + 1] = alg;
    memcpy(buf + name_len + 2, pub, 32);
    if ((err = fki_sha256(h, buf, name_len + 34)) != FK_OK)
        return err;
    *id = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    return FK_OK;
}

fk_err fk_note_verifier_new(fk_note_verifier *v, const char *name, size_t name_len, uint8_t alg,
                            const uint8_t pub[32])
{
    fk_note_verifier t;
    fk_err err;
    if (!v || !name || !pub)
        abort();
    if (!fki_note_name_ok(name, name_len))
        return FK_ERR_INVALID;
    if (alg != FK_NOTE_ALG_ED25519 && alg != FK_NOTE_ALG_COSIG_V1)
        return FK_ERR_UNSUPPORTED;
    memset(&t, 0, sizeof t);
    memcpy(t.name, name, name_len);
    t.name_len = name_len;
    t.alg = alg;
    memcpy(t.pub, pub, 32);
    if ((err = fk_note_key_id(&t.key_id, name, name_len, alg, pub)) != FK_OK)
        return err;
    *v = t;
    return FK_OK;
}

/* Lowercase 8-digit hex key ID, the only form we accept. */
static fk_err parse_key_id(uint32_t *id, const char *s, size_t len)
{
    uint32_t v = 0;
    if (len != 8)
        return FK_ERR_INVALID;
    for (size_t i = 0; i < 8; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return FK_ERR_INVALID;
        v = v << 4 | d;
    }
    *id = v;
    return FK_OK;
}

/* Split "name+hexid+b64" (internal.h; no further '+' allowed in any field: the base64
 * alphabet has '+', so the key field is taken as the rest). */
fk_err fki_note_split_key(const char *text, size_t len, const char **name, size_t *name_len,
                          uint32_t *id, uint8_t *alg, uint8_t key[32])
{
    const char *p1 = memchr(text, '+', len), *p2;
    uint8_t raw[33];
    size_t rawlen = 0;
    fk_err err;
    if (!p1)
        return FK_ERR_INVALID;
    p2 = memchr(p1 + 1, '+', len - (size_t)(p1 + 1 - text));
    if (!p2)
        return FK_ERR_INVALID;
    *name = text;
    *name_len = (size_t)(p1 - text);
    if (!fki_note_name_ok(*name, *name_len))
        return FK_ERR_INVALID;
    if ((err = parse_key_id(id, p1 + 1, (size_t)(p2 - p1 - 1))) != FK_OK)
        return err;
    size_t klen = len - (size_t)(p2 + 1 - text);
    if (klen != KEY_B64_LEN ||
        fk_b64_decode_padded(raw, sizeof raw, &rawlen, p2 + 1, klen) != FK_OK || rawlen != 33) {
        fk_wipe(raw, sizeof raw);
        return FK_ERR_INVALID;
    }
    *alg = raw[0];
    memcpy(key, raw + 1, 32);
    fk_wipe(raw, sizeof raw);
    return FK_OK;
}

fk_err fk_note_verifier_parse(fk_note_verifier *v, const char *text, size_t len)
{
    const char *name;
    size_t name_len;
    uint32_t id;
    uint8_t alg, pub[32];
    fk_note_verifier t;
    fk_err err;
    if (!v || !text)
        abort();
    if (len > FK_NOTE_KEY_TEXT_MAX)
        return FK_ERR_LIMIT;
    if ((err = fki_note_split_key(text, len, &name, &name_len, &id, &alg, pub)) != FK_OK)
        return err;
    if ((err = fk_note_verifier_new(&t, name, name_len, alg, pub)) != FK_OK)
        return err;
    if (t.key_id != id)
        return FK_ERR_INVALID;
    *v = t;
    return FK_OK;
}

fk_err fki_note_encode_key(char *out, size_t cap, size_t *len, const char *prefix, const char *name,
                           size_t name_len, uint32_t id, uint8_t alg, const uint8_t key[32])
{
    uint8_t raw[33];
    size_t plen = strlen(prefix);
    size_t need = plen + name_len + 1 + 8 + 1 + KEY_B64_LEN;
    char *p = out;
    if (!out || !len)
        abort();
    if (cap < need + 1)
        return FK_ERR_LIMIT;
    memcpy(p, prefix, plen);
    p += plen;
    memcpy(p, name, name_len);
    p += name_len;
    snprintf(p, 11, "+%08x+", id);
    p += 10;
    raw[0] = alg;
    memcpy(raw + 1, key, 32);
    fk_b64_encode_padded(p, raw, 33);
    fk_wipe(raw, sizeof raw);
    *len = need;
    return FK_OK;
}

fk_err fk_note_verifier_encode(const fk_note_verifier *v, char *out, size_t cap, size_t *len)
{
    if (!v)
        abort();
    return fki_note_encode_key(out, cap, len, "", v->name, v->name_len, v->key_id, v->alg, v->pub);
}

/* ---- Ed25519 note keys (signed-note signers and cosigners) ---------------- */

fk_err fki_ed25519_public(uint8_t pub[32], const uint8_t seed[32])
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    uint8_t t[32];
    size_t publen = sizeof t;
    fk_err err = FK_ERR_CRYPTO;
    if (pk && EVP_PKEY_get_raw_public_key(pk, t, &publen) == 1 && publen == 32) {
        memcpy(pub, t, 32);
        err = FK_OK;
    }
    EVP_PKEY_free(pk);
    return err;
}

fk_err fki_ed25519_sign(uint8_t sig[64], const uint8_t seed[32], const uint8_t *msg, size_t len)
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t t[64];
    size_t siglen = sizeof t;
    fk_err err = FK_ERR_CRYPTO;
    if (pk && ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) == 1 &&
        EVP_DigestSign(ctx, t, &siglen, msg, len) == 1 && siglen == 64) {
        memcpy(sig, t, 64);
        err = FK_OK;
    }
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return err;
}

fk_err fki_note_key_from_seed(fk_note_signer *k, uint8_t alg, const char *name, size_t name_len,
                              const uint8_t seed[32])
{
    fk_note_signer t;
    fk_err err;
    if (!k || !name || !seed)
        abort();
    if (!fki_note_name_ok(name, name_len))
        return FK_ERR_INVALID;
    memset(&t, 0, sizeof t);
    memcpy(t.name, name, name_len);
    t.name_len = name_len;
    memcpy(t.seed, seed, 32);
    err = fki_ed25519_public(t.pub, seed);
    if (err == FK_OK)
        err = fk_note_key_id(&t.key_id, name, name_len, alg, t.pub);
    if (err == FK_OK)
        *k = t;
    fk_wipe(&t, sizeof t);
    return err;
}

fk_err fki_note_key_generate(fk_note_signer *k, uint8_t alg, const char *name, size_t name_len)
{
    uint8_t seed[32];
    fk_err err;
    if ((err = fk_random(seed, sizeof seed)) == FK_OK)
        err = fki_note_key_from_seed(k, alg, name, name_len, seed);
    fk_wipe(seed, sizeof seed);
    return err;
}

fk_err fki_note_key_parse(fk_note_signer *k, uint8_t alg, const char *text, size_t len)
{
    const char *name;
    size_t name_len;
    uint32_t id;
    uint8_t text_alg, seed[32];
    fk_note_signer t;
    fk_err err;
    if (!k || !text)
        abort();
    if (len > FK_NOTE_KEY_TEXT_MAX)
        return FK_ERR_LIMIT;
    if (len < PRIV_PREFIX_LEN || memcmp(text, PRIV_PREFIX, PRIV_PREFIX_LEN) != 0)
        return FK_ERR_INVALID;
    err = fki_note_split_key(text + PRIV_PREFIX_LEN, len - PRIV_PREFIX_LEN, &name, &name_len, &id,
                             &text_alg, seed);
    if (err == FK_OK && text_alg != alg)
        err = FK_ERR_UNSUPPORTED;
    if (err == FK_OK)
        err = fki_note_key_from_seed(&t, alg, name, name_len, seed);
    if (err == FK_OK && t.key_id != id)
        err = FK_ERR_INVALID;
    if (err == FK_OK)
        *k = t;
    fk_wipe(seed, sizeof seed);
    fk_wipe(&t, sizeof t);
    return err;
}

fk_err fki_note_key_encode(const fk_note_signer *k, uint8_t alg, char *out, size_t cap, size_t *len)
{
    if (!k)
        abort();
    return fki_note_encode_key(out, cap, len, PRIV_PREFIX, k->name, k->name_len, k->key_id, alg,
                               k->seed);
}

void fki_note_key_verifier(const fk_note_signer *k, uint8_t alg, fk_note_verifier *v)
{
    if (!k || !v)
        abort();
    memset(v, 0, sizeof *v);
    memcpy(v->name, k->name, k->name_len);
    v->name_len = k->name_len;
    v->key_id = k->key_id;
    v->alg = alg;
    memcpy(v->pub, k->pub, 32);
}

fk_err fk_note_signer_from_seed(fk_note_signer *s, const char *name, size_t name_len,
                                const uint8_t seed[32])
{
    return fki_note_key_from_seed(s, FK_NOTE_ALG_ED25519, name, name_len, seed);
}

fk_err fk_note_signer_generate(fk_note_signer *s, const char *name, size_t name_len)
{
    return fki_note_key_generate(s, FK_NOTE_ALG_ED25519, name, name_len);
}

fk_err fk_note_signer_parse(fk_note_signer *s, const char *text, size_t len)
{
    return fki_note_key_parse(s, FK_NOTE_ALG_ED25519, text, len);
}

fk_err fk_note_signer_encode(const fk_note_signer *s, char *out, size_t cap, size_t *len)
{
    return fki_note_key_encode(s, FK_NOTE_ALG_ED25519, out, cap, len);
}

void fk_note_signer_verifier(const fk_note_signer *s, fk_note_verifier *v)
{
    fki_note_key_verifier(s, FK_NOTE_ALG_ED25519, v);
}

void fk_note_signer_wipe(fk_note_signer *s)
{
    if (s)
        fk_wipe(s, sizeof *s);
}

fk_err fk_note_sign_raw(const fk_note_signer *s, const uint8_t *msg, size_t len, uint8_t sig[64])
{
    if (!s || (!msg && len) || !sig)
        abort();
    return fki_ed25519_sign(sig, s->seed, msg, len);
}

/* ---- Ed25519 verification -------------------------------------------------- */

static bool ed25519_verify(const uint8_t pub[32], const uint8_t sig[64], const uint8_t *msg,
                           size_t len)
{
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = pk && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
              EVP_DigestVerify(ctx, sig, 64, msg, len) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return ok;
}

/* ---- notes ---------------------------------------------------------------- */

/* Text a note may carry: non-empty, ends in '\n', allowed characters. */
static bool note_text_ok(const char *text, size_t len)
{
    return len > 0 && text[len - 1] == '\n' && fki_note_chars_ok(text, len);
}

fk_err fk_note_sign(const char *text, size_t text_len, const fk_note_signer *const *signers,
                    size_t nsigners, char *out, size_t cap, size_t *len)
{
    size_t need = text_len + 1, pos;
    fk_err err;
    if (!text || !signers || !out || !len)
        abort();
    if (nsigners == 0)
        return FK_ERR_INVALID;
    if (nsigners > FK_NOTE_MAX_SIGS || text_len > FK_NOTE_MAX_SIZE)
        return FK_ERR_LIMIT; /* before scanning the text, and so `need` cannot wrap */
    if (!note_text_ok(text, text_len))
        return FK_ERR_INVALID;
    for (size_t i = 0; i < nsigners; i++)
        need += EM_DASH_SP_LEN + signers[i]->name_len + 1 + fk_b64_enc_len_padded(68) + 1;
    if (need > FK_NOTE_MAX_SIZE)
        return FK_ERR_LIMIT;
    if (cap < need + 1)
        return FK_ERR_LIMIT;
    memcpy(out, text, text_len);
    out[text_len] = '\n';
    pos = text_len + 1;
    for (size_t i = 0; i < nsigners; i++) {
        const fk_note_signer *s = signers[i];
        uint8_t raw[68];
        raw[0] = (uint8_t)(s->key_id >> 24);
        raw[1] = (uint8_t)(s->key_id >> 16);
        raw[2] = (uint8_t)(s->key_id >> 8);
        raw[3] = (uint8_t)s->key_id;
        if ((err = fk_note_sign_raw(s, (const uint8_t *)text, text_len, raw + 4)) != FK_OK) {
            fk_wipe(out, cap);
            return err;
        }
        pos += fki_note_sig_line(out + pos, s->name, s->name_len, raw, sizeof raw);
    }
    out[pos] = 0;
    *len = pos;
    return FK_OK;
}

size_t fki_note_sig_line(char *out, const char *name, size_t name_len, const uint8_t *raw,
                         size_t raw_len)
{
    size_t pos = 0;
    memcpy(out, EM_DASH_SP, EM_DASH_SP_LEN);
    pos += EM_DASH_SP_LEN;
    memcpy(out + pos, name, name_len);
    pos += name_len;
    out[pos++] = ' ';
    pos += fk_b64_encode_padded(out + pos, raw, raw_len);
    out[pos++] = '\n';
    return pos;
}

static bool b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Well-formed padded base64 of at least 5 bytes: alphabet, '=' only as the
 * final one or two characters.  Canonical trailing bits are checked when a
 * known key decodes it; the key ID comes from the first 8 characters. */
static fk_err parse_sig_b64(const char *b, size_t len, uint32_t *id)
{
    uint8_t head[6];
    size_t hl = 0;
    if (len < 8 || len % 4)
        return FK_ERR_INVALID;
    for (size_t i = 0; i < len; i++) {
        if (b64_char(b[i]))
            continue;
        if (b[i] == '=' && (i == len - 1 || (i == len - 2 && b[len - 1] == '=')))
            continue;
        return FK_ERR_INVALID;
    }
    if (fk_b64_decode_padded(head, sizeof head, &hl, b, 8) != FK_OK || hl < 5)
        return FK_ERR_INVALID;
    *id = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
    return FK_OK;
}

fk_err fk_note_parse(fk_note *n, const char *buf, size_t len)
{
    fk_note t;
    size_t split = 0, pos;
    bool found = false;
    if (!n || !buf)
        abort();
    if (len > FK_NOTE_MAX_SIZE)
        return FK_ERR_LIMIT;
    if (len < 2 || buf[len - 1] != '\n' || !fki_note_chars_ok(buf, len))
        return FK_ERR_INVALID;
    /* The text ends at the last blank line. */
    for (size_t i = len - 1; i-- > 0;) {
        if (buf[i] == '\n' && buf[i + 1] == '\n') {
            split = i;
            found = true;
            break;
        }
    }
    if (!found)
        return FK_ERR_INVALID;
    memset(&t, 0, sizeof t);
    t.text = buf;
    t.text_len = split + 1;
    pos = split + 2;
    if (pos >= len)
        return FK_ERR_INVALID; /* no signature line */
    while (pos < len) {
        const char *line = buf + pos, *sp;
        size_t ll = fki_line_len(line, len - pos);
        fk_note_sig *s;
        if (t.nsigs == FK_NOTE_MAX_SIGS)
            return FK_ERR_LIMIT;
        s = &t.sigs[t.nsigs];
        if (ll < EM_DASH_SP_LEN || memcmp(line, EM_DASH_SP, EM_DASH_SP_LEN) != 0)
            return FK_ERR_INVALID;
        sp = memchr(line + EM_DASH_SP_LEN, ' ', ll - EM_DASH_SP_LEN);
        if (!sp)
            return FK_ERR_INVALID;
        s->name = line + EM_DASH_SP_LEN;
        s->name_len = (size_t)(sp - s->name);
        if (!fki_note_name_ok(s->name, s->name_len))
            return FK_ERR_INVALID;
        s->b64 = sp + 1;
        s->b64_len = ll - (size_t)(s->b64 - line);
        if (parse_sig_b64(s->b64, s->b64_len, &s->key_id) != FK_OK)
            return FK_ERR_INVALID;
        t.nsigs++;
        pos += ll + 1;
    }
    *n = t;
    return FK_OK;
}

/* Check one signature line against one key whose name and ID it carries. */
static fk_err verify_line(const fk_note *n, const fk_note_sig *s, const fk_note_verifier *v,
                          uint64_t *timestamp)
{
    uint8_t raw[SIG_MAX];
    size_t rawlen = 0;
    if (fk_b64_decode_padded(raw, sizeof raw, &rawlen, s->b64, s->b64_len) != FK_OK)
        return FK_ERR_SIGNATURE;
    if (v->alg == FK_NOTE_ALG_ED25519) {
        if (rawlen != 4 + 64 ||
            !ed25519_verify(v->pub, raw + 4, (const uint8_t *)n->text, n->text_len))
            return FK_ERR_SIGNATURE;
        return FK_OK;
    }
    if (v->alg == FK_NOTE_ALG_COSIG_V1) {
        uint64_t ts = 0;
        char num[21];
        size_t numlen, hl = sizeof COSIG_HEADER - 1, mlen;
        uint8_t *msg;
        bool ok;
        if (rawlen != 4 + 8 + 64)
            return FK_ERR_SIGNATURE;
        for (int i = 0; i < 8; i++)
            ts = ts << 8 | raw[4 + i];
        if (ts > (uint64_t)INT64_MAX) /* tlog-cosignature bounds it by 2^63 - 1 */
            return FK_ERR_SIGNATURE;
        numlen = fki_fmt_u64(num, ts);
        mlen = hl + numlen + 1 + n->text_len;
        /* Ed25519 in OpenSSL is one-shot, so the message is assembled. */
        msg = malloc(mlen);
        if (!msg)
            return FK_ERR_NOMEM;
        memcpy(msg, COSIG_HEADER, hl);
        memcpy(msg + hl, num, numlen);
        msg[hl + numlen] = '\n';
        memcpy(msg + hl + numlen + 1, n->text, n->text_len);
        ok = ed25519_verify(v->pub, raw + 12, msg, mlen);
        free(msg);
        if (!ok)
            return FK_ERR_SIGNATURE;
        if (timestamp)
            *timestamp = ts;
        return FK_OK;
    }
    return FK_ERR_SIGNATURE;
}

static bool matches(const fk_note_sig *s, const fk_note_verifier *v)
{
    return s->key_id == v->key_id && s->name_len == v->name_len &&
           memcmp(s->name, v->name, v->name_len) == 0;
}

fk_err fk_note_verify(const fk_note *n, const fk_note_verifier *vs, size_t nv, uint64_t *verified)
{
    uint64_t ok = 0;
    fk_err err;
    if (!n || (!vs && nv))
        abort();
    if (nv > FK_NOTE_MAX_VERIFIERS)
        return FK_ERR_LIMIT;
    for (size_t i = 0; i < n->nsigs; i++) {
        for (size_t j = 0; j < nv; j++) {
            if (!matches(&n->sigs[i], &vs[j]))
                continue;
            if ((err = verify_line(n, &n->sigs[i], &vs[j], NULL)) != FK_OK)
                return err;
            ok |= (uint64_t)1 << j;
        }
    }
    if (!ok)
        return FK_ERR_SIGNATURE;
    if (verified)
        *verified = ok;
    return FK_OK;
}

fk_err fk_note_cosig_time(const fk_note *n, const fk_note_verifier *v, uint64_t *timestamp)
{
    uint64_t ts = 0;
    fk_err err;
    if (!n || !v || !timestamp)
        abort();
    if (v->alg != FK_NOTE_ALG_COSIG_V1)
        return FK_ERR_INVALID;
    for (size_t i = 0; i < n->nsigs; i++) {
        if (!matches(&n->sigs[i], v))
            continue;
        if ((err = verify_line(n, &n->sigs[i], v, &ts)) != FK_OK)
            return err;
        *timestamp = ts;
        return FK_OK;
    }
    return FK_ERR_NOT_FOUND;
}
