/*
 * Receipts (docs/protocol.md section 3): a C2SP tlog-proof whose extra data
 * is the signed request note, so one file carries the request and the proof
 * that it is logged.
 */
#include <string.h>

#include "internal.h"

fk_err fk_request_receipt_parse(fk_tlog_proof *p, char note[FK_REQUEST_NOTE_MAX + 1],
                                size_t *note_len, const char *buf, size_t len)
{
    size_t n = 0;
    fk_err err = fk_tlog_proof_parse(p, buf, len);
    if (err)
        return err;
    if (!p->extra_b64)
        return FK_ERR_INVALID;
    /* fk_tlog_proof_parse has checked the extra line is canonical padded
     * base64; only its length can still be too much for a request. */
    err = fk_b64_decode_padded((uint8_t *)note, FK_REQUEST_NOTE_MAX, &n, p->extra_b64,
                               p->extra_b64_len);
    if (err) {
        fk_wipe(note, FK_REQUEST_NOTE_MAX + 1);
        return err == FK_ERR_LIMIT ? FK_ERR_LIMIT : FK_ERR_INVALID;
    }
    note[n] = 0;
    *note_len = n;
    return FK_OK;
}
