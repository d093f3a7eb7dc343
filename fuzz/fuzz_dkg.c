/*
 * libFuzzer target: the COCKTAIL-DKG message parsers (src/lib/dkg): msg1
 * (fk_dkg_msg1_parse), the transcript T (fk_dkg_transcript_parse), and the
 * certified transcript file (fk_dkg_certified_parse), with what follows a
 * successful parse (PoP and certificate checks, the authority a transcript
 * determines), and the transcript-hash log entry (fk_dkg_log_hash_parse).
 *
 * Input: byte 0 picks the parser; bytes 1-2 are (t, n) for msg1; the rest
 * is the message.  Checked properties: a parsed msg1's views lie inside the
 * input and its frames cover it exactly; a parsed T re-encodes to the same
 * bytes through fk_dkg_transcript; a parsed transcript-hash entry is
 * exactly the entry its fields print; nothing crashes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

static void check_transcript(const uint8_t *in, size_t len)
{
    fk_dkg_transcript_view v;
    unsigned blame;

    if (fk_dkg_transcript_parse(&v, in, len) != FK_OK)
        return;
    /* Rebuild T from the view: it must be byte for byte the input. */
    fk_dkg_msg1 *m = calloc(v.n, sizeof *m);
    uint8_t *out = malloc(len);
    fk_dkg_session s = { v.t, v.n, (const uint8_t(*)[32])v.pk, v.context, v.context_len,
                         v.ext, v.ext_len };
    size_t olen;
    if (!m || !out)
        abort();
    for (unsigned j = 0; j < v.n; j++) {
        m[j].t = v.t;
        m[j].n = v.n;
        m[j].commit = v.commit + (size_t)j * v.t * 32;
        m[j].pop = v.pop + (size_t)j * 64;
        m[j].eph = v.eph + (size_t)j * 32;
    }
    if (fk_dkg_transcript(out, len, &olen, &s, m) != FK_OK || olen != len || memcmp(out, in, len))
        abort();
    (void)fk_dkg_transcript_check_pops(&v, &blame);
    fk_escrow_authority *a = malloc(sizeof *a);
    if (a && fk_dkg_authority_from_transcript(a, &v) == FK_OK && a->n != v.n)
        abort();
    free(a);
    free(out);
    free(m);
}

/* A parsed transcript-hash entry, printed again from its fields, is the input. */
static void check_log_hash(const uint8_t *in, size_t len)
{
    fk_dkg_log_hash *h = malloc(sizeof *h);
    char *out = malloc(200 + (size_t)FK_DKG_MAX_PARTICIPANTS * 103), hex[65];
    size_t o;
    if (!h || !out)
        abort();
    if (fk_dkg_log_hash_parse(h, (const char *)in, len) == FK_OK) {
        if (h->n < 1 || h->n > FK_DKG_MAX_PARTICIPANTS)
            abort();
        o = (size_t)sprintf(out, "fairkey authority transcript-hash v1\nauthority ");
        fk_hex_encode(hex, h->authority_id, 32);
        o += (size_t)sprintf(out + o, "%s\ntranscript-sha256 ", hex);
        fk_hex_encode(hex, h->transcript_hash, 32);
        o += (size_t)sprintf(out + o, "%s\n", hex);
        for (unsigned j = 0; j < h->n; j++) {
            o += (size_t)sprintf(out + o, "signature %u ", j + 1);
            o += fk_b64_encode_padded_public(out + o, h->sigs[j], 64);
            out[o++] = '\n';
        }
        if (o != len || memcmp(out, in, len))
            abort();
    }
    free(h);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    const uint8_t *in = data + 3;
    size_t len = size - 3;
    switch (data[0] % 4) {
    case 0: {
        fk_dkg_msg1 m;
        unsigned t = data[1], n = data[2];
        if (fk_dkg_msg1_parse(&m, in, len, t, n) == FK_OK) {
            size_t end = (size_t)t * 32 + 96;
            for (unsigned j = 0; j < n; j++) {
                if (m.ct[j] != in + end + 8 || m.ct_len[j] < FK_DKG_CT_MIN)
                    abort();
                end += 8 + m.ct_len[j];
            }
            if (end != len)
                abort();
        }
        break;
    }
    case 1:
        check_transcript(in, len);
        break;
    case 3:
        check_log_hash(in, len);
        break;
    default: {
        uint8_t *t = malloc(len + 1), (*sigs)[64] = malloc(FK_DKG_MAX_PARTICIPANTS * 64);
        fk_dkg_transcript_view v;
        size_t tl;
        unsigned blame;
        if (!t || !sigs)
            abort();
        if (fk_dkg_certified_parse(&v, t, len + 1, &tl, sigs, (const char *)in, len) == FK_OK)
            (void)fk_dkg_certificate_verify(&v, t, tl, (const uint8_t(*)[64])sigs, &blame);
        free(t);
        free(sigs);
    }
    }
    return 0;
}
