/* C2SP tlog-proof: an offline receipt (index, inclusion proof, checkpoint). */
#include <stdlib.h>
#include <string.h>

#include "tlog/internal.h"

#define HL FK_TLOG_HASH_LEN
#define HASH_B64_LEN 44
#define HEADER_LEN (sizeof FK_TLOG_PROOF_HEADER - 1)
/* An inclusion proof in a tree of at most FK_TLOG_MAX_SIZE leaves. */
#define MAX_INCLUSION (FK_TLOG_MAX_PROOF - 1)

fk_err fk_tlog_proof_ctx_init(fk_tlog_proof_ctx *c, const char *signed_checkpoint, size_t cp_len)
{
    fk_note n;
    if (!c || !signed_checkpoint)
        abort();
    /* The checkpoint must be a well-formed note, or the receipt would not parse. */
    fk_err err = fk_note_parse(&n, signed_checkpoint, cp_len);
    if (err)
        return err;
    c->checkpoint = signed_checkpoint;
    c->checkpoint_len = cp_len;
    return FK_OK;
}

fk_err fk_tlog_proof_encode_ctx(const fk_tlog_proof_ctx *c, const uint8_t *extra, size_t extra_len,
                                uint64_t index, const uint8_t (*proof)[HL], size_t nproof,
                                char *out, size_t cap, size_t *len)
{
    char num[21];
    size_t numlen, need, pos;
    if (!c || (!extra && extra_len) || (!proof && nproof) || !out || !len)
        abort();
    if (extra && (extra_len == 0 || extra_len > FK_TLOG_PROOF_EXTRA_MAX))
        return extra_len ? FK_ERR_LIMIT : FK_ERR_INVALID;
    if (nproof > MAX_INCLUSION || index >= FK_TLOG_MAX_SIZE)
        return FK_ERR_LIMIT;
    numlen = fki_fmt_u64(num, index);
    need = HEADER_LEN + 1 + (extra ? 6 + fk_b64_enc_len_padded(extra_len) + 1 : 0) + 6 + numlen + 1 +
           nproof * (HASH_B64_LEN + 1) + 1 + c->checkpoint_len;
    if (need > FK_TLOG_PROOF_MAX_SIZE)
        return FK_ERR_LIMIT;
    if (cap < need + 1)
        return FK_ERR_LIMIT;
    memcpy(out, FK_TLOG_PROOF_HEADER "\n", HEADER_LEN + 1);
    pos = HEADER_LEN + 1;
    if (extra) {
        memcpy(out + pos, "extra ", 6);
        pos += 6;
        pos += fk_b64_encode_padded_public(out + pos, extra, extra_len);
        out[pos++] = '\n';
    }
    memcpy(out + pos, "index ", 6);
    pos += 6;
    memcpy(out + pos, num, numlen);
    pos += numlen;
    out[pos++] = '\n';
    /* Everything here is public: the table encoder is fine (and a daemon
     * encodes one proof per logged entry). */
    for (size_t i = 0; i < nproof; i++) {
        pos += fk_b64_encode_padded_public(out + pos, proof[i], HL);
        out[pos++] = '\n';
    }
    out[pos++] = '\n';
    memcpy(out + pos, c->checkpoint, c->checkpoint_len);
    pos += c->checkpoint_len;
    out[pos] = 0;
    *len = pos;
    return FK_OK;
}

fk_err fk_tlog_proof_encode(const uint8_t *extra, size_t extra_len, uint64_t index,
                            const uint8_t (*proof)[HL], size_t nproof, const char *signed_checkpoint,
                            size_t cp_len, char *out, size_t cap, size_t *len)
{
    fk_tlog_proof_ctx c;
    if ((!extra && extra_len) || (!proof && nproof) || !signed_checkpoint || !out || !len)
        abort();
    fk_err err = fk_tlog_proof_ctx_init(&c, signed_checkpoint, cp_len);
    if (err)
        return err;
    return fk_tlog_proof_encode_ctx(&c, extra, extra_len, index, proof, nproof, out, cap, len);
}

fk_err fk_tlog_proof_parse(fk_tlog_proof *p, const char *buf, size_t len)
{
    fk_tlog_proof tp, *t = &tp;
    size_t pos = 0, ll;
    fk_note n;
    fk_err err;
    if (!p || !buf)
        abort();
    if (len > FK_TLOG_PROOF_MAX_SIZE)
        return FK_ERR_LIMIT;
    memset(t, 0, sizeof *t);
    err = FK_ERR_INVALID;
    ll = fki_line_len(buf, len);
    if (ll != HEADER_LEN || ll == len || memcmp(buf, FK_TLOG_PROOF_HEADER, HEADER_LEN) != 0)
        goto out;
    pos = ll + 1;
    ll = fki_line_len(buf + pos, len - pos);
    if (ll >= 6 && memcmp(buf + pos, "extra ", 6) == 0) {
        uint8_t extra[FK_TLOG_PROOF_EXTRA_MAX];
        size_t elen = 0;
        if (pos + ll == len || ll == 6)
            goto out;
        if (ll - 6 > fk_b64_enc_len_padded(FK_TLOG_PROOF_EXTRA_MAX)) {
            err = FK_ERR_LIMIT;
            goto out;
        }
        err = fk_b64_decode_padded(extra, sizeof extra, &elen, buf + pos + 6, ll - 6);
        if (err != FK_OK) {
            err = err == FK_ERR_LIMIT ? FK_ERR_LIMIT : FK_ERR_INVALID;
            goto out;
        }
        err = FK_ERR_INVALID;
        t->extra_b64 = buf + pos + 6;
        t->extra_b64_len = ll - 6;
        pos += ll + 1;
        ll = fki_line_len(buf + pos, len - pos);
    }
    if (pos + ll == len || ll < 7 || memcmp(buf + pos, "index ", 6) != 0)
        goto out;
    if ((err = fki_parse_u64(&t->index, buf + pos + 6, ll - 6, FK_TLOG_MAX_SIZE - 1)) != FK_OK)
        goto out;
    err = FK_ERR_INVALID;
    pos += ll + 1;
    for (;;) {
        size_t hl = 0;
        ll = fki_line_len(buf + pos, len - pos);
        if (pos + ll == len)
            goto out; /* no blank line before the checkpoint */
        if (ll == 0)
            break;
        if (t->nproof == MAX_INCLUSION) {
            err = FK_ERR_LIMIT;
            goto out;
        }
        if (ll != HASH_B64_LEN ||
            fk_b64_decode_padded(t->proof[t->nproof], HL, &hl, buf + pos, ll) != FK_OK || hl != HL)
            goto out;
        t->nproof++;
        pos += ll + 1;
    }
    pos += 1;
    if ((err = fk_note_parse(&n, buf + pos, len - pos)) != FK_OK)
        goto out;
    t->checkpoint = buf + pos;
    t->checkpoint_len = len - pos;
    *p = *t;
    err = FK_OK;
out:
    return err;
}

fk_err fk_tlog_proof_verify(const fk_tlog_proof *p, const uint8_t leaf_hash[HL], const char *origin,
                            const fk_note_verifier *log_keys, size_t nkeys, fk_checkpoint *cp,
                            fk_note *note)
{
    fk_checkpoint c;
    fk_note n;
    fk_err err;
    if (!p || !leaf_hash || !p->checkpoint)
        abort();
    if ((err = fk_checkpoint_open(&c, &n, p->checkpoint, p->checkpoint_len, origin, log_keys, nkeys,
                                  NULL)) != FK_OK)
        return err;
    if (p->index >= c.size)
        return FK_ERR_PROOF;
    if ((err = fk_tlog_verify_inclusion(p->index, c.size, leaf_hash, (const uint8_t(*)[HL])p->proof,
                                        p->nproof, c.root)) != FK_OK)
        return err;
    if (cp)
        *cp = c;
    if (note)
        *note = n;
    return FK_OK;
}
