/* C2SP tlog-checkpoint: the note text of a signed tree head. */
#include <stdlib.h>
#include <string.h>

#include "tlog/internal.h"

#define ROOT_B64_LEN 44 /* padded base64 of 32 bytes */

fk_err fk_checkpoint_parse(fk_checkpoint *c, const char *text, size_t len)
{
    fk_checkpoint t;
    size_t pos = 0, ll, rootlen = 0;
    fk_err err;
    if (!c || !text)
        abort();
    if (len > FK_NOTE_MAX_SIZE)
        return FK_ERR_LIMIT;
    if (len == 0 || text[len - 1] != '\n' || !fki_note_chars_ok(text, len))
        return FK_ERR_INVALID;
    memset(&t, 0, sizeof t);
    /* origin */
    ll = fki_line_len(text, len);
    if (ll == 0 || ll == len)
        return FK_ERR_INVALID;
    if (ll > FK_CHECKPOINT_ORIGIN_MAX)
        return FK_ERR_LIMIT;
    memcpy(t.origin, text, ll);
    t.origin_len = ll;
    pos = ll + 1;
    /* tree size */
    ll = fki_line_len(text + pos, len - pos);
    if (pos + ll == len)
        return FK_ERR_INVALID;
    if ((err = fki_parse_u64(&t.size, text + pos, ll, FK_TLOG_MAX_SIZE)) != FK_OK)
        return err;
    pos += ll + 1;
    /* root hash */
    ll = fki_line_len(text + pos, len - pos);
    if (pos + ll == len || ll != ROOT_B64_LEN ||
        fk_b64_decode_padded(t.root, sizeof t.root, &rootlen, text + pos, ll) != FK_OK ||
        rootlen != FK_TLOG_HASH_LEN)
        return FK_ERR_INVALID;
    pos += ll + 1;
    /* extension lines: each non-empty */
    if (pos < len) {
        t.ext = text + pos;
        t.ext_len = len - pos;
        while (pos < len) {
            ll = fki_line_len(text + pos, len - pos);
            if (ll == 0)
                return FK_ERR_INVALID;
            pos += ll + 1;
        }
    }
    *c = t;
    return FK_OK;
}

fk_err fk_checkpoint_encode(const fk_checkpoint *c, char *out, size_t cap, size_t *len)
{
    char num[21];
    size_t numlen, need, pos = 0;
    if (!c || !out || !len || (!c->ext && c->ext_len))
        abort();
    if (c->origin_len == 0 || c->origin_len > FK_CHECKPOINT_ORIGIN_MAX ||
        memchr(c->origin, '\n', c->origin_len) || !fki_note_chars_ok(c->origin, c->origin_len))
        return FK_ERR_INVALID;
    if (c->size > FK_TLOG_MAX_SIZE || c->ext_len > FK_CHECKPOINT_TEXT_MAX)
        return FK_ERR_LIMIT; /* before scanning the extension lines */
    if (c->ext_len) {
        /* Extension lines must be non-empty and newline-terminated. */
        if (c->ext[c->ext_len - 1] != '\n' || c->ext[0] == '\n' ||
            !fki_note_chars_ok(c->ext, c->ext_len))
            return FK_ERR_INVALID;
        for (size_t i = 0; i + 1 < c->ext_len; i++)
            if (c->ext[i] == '\n' && c->ext[i + 1] == '\n')
                return FK_ERR_INVALID;
    }
    numlen = fki_fmt_u64(num, c->size);
    need = c->origin_len + 1 + numlen + 1 + ROOT_B64_LEN + 1 + c->ext_len;
    if (need > FK_CHECKPOINT_TEXT_MAX)
        return FK_ERR_LIMIT;
    if (cap < need + 1)
        return FK_ERR_LIMIT;
    memcpy(out, c->origin, c->origin_len);
    pos = c->origin_len;
    out[pos++] = '\n';
    memcpy(out + pos, num, numlen);
    pos += numlen;
    out[pos++] = '\n';
    pos += fk_b64_encode_padded(out + pos, c->root, FK_TLOG_HASH_LEN);
    out[pos++] = '\n';
    if (c->ext_len)
        memcpy(out + pos, c->ext, c->ext_len);
    pos += c->ext_len;
    out[pos] = 0;
    *len = pos;
    return FK_OK;
}

fk_err fk_checkpoint_sign(const fk_checkpoint *c, const fk_note_signer *s, char *out, size_t cap,
                          size_t *len)
{
    char body[FK_CHECKPOINT_TEXT_MAX + 1];
    size_t blen = 0;
    fk_err err;
    if (!s)
        abort();
    if ((err = fk_checkpoint_encode(c, body, sizeof body, &blen)) != FK_OK)
        return err;
    return fk_note_sign(body, blen, &s, 1, out, cap, len);
}

fk_err fk_checkpoint_open(fk_checkpoint *c, fk_note *note, const char *buf, size_t len,
                          const char *origin, const fk_note_verifier *vs, size_t nv,
                          uint64_t *verified)
{
    fk_note n;
    fk_checkpoint t;
    uint64_t ok = 0;
    fk_err err;
    if (!c || !buf)
        abort();
    if ((err = fk_note_parse(&n, buf, len)) != FK_OK)
        return err;
    if ((err = fk_note_verify(&n, vs, nv, &ok)) != FK_OK)
        return err;
    if ((err = fk_checkpoint_parse(&t, n.text, n.text_len)) != FK_OK)
        return err;
    if (origin && (strlen(origin) != t.origin_len || memcmp(origin, t.origin, t.origin_len) != 0))
        return FK_ERR_INVALID;
    *c = t;
    if (note)
        *note = n;
    if (verified)
        *verified = ok;
    return FK_OK;
}
