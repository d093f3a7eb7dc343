/*
 * Adding an entry to an authority's log and keeping the receipt: the one
 * place where fairkey request (a recovery request) and fairkey authority
 * publish (an authority's certified transcript) talk to POST /add.
 * fairkey-net only (libcurl).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/recovery.h"
#include "cli.h"
#include "net/net.h"

int cli_log_add(const cli_authlog *al, const char *what, const char *entry, size_t len,
                const uint8_t *extra, size_t extra_len, char **receipt, size_t *rlen,
                uint64_t *index, uint64_t *size)
{
    char url[REC_URL_MAX];
    uint8_t *body = NULL, leaf[FK_TLOG_HASH_LEN];
    size_t blen = 0, cap = FK_TLOG_PROOF_MAX_SIZE;
    long status = 0;
    fk_note_verifier v;
    fk_checkpoint cp;
    fk_err err = FK_ERR_LIMIT; /* a URL too long for rec_url */
    int rc = -1;
    fk_tlog_proof *lp = malloc(sizeof *lp);
    char *out = malloc(cap);
    struct fki_net_client_opts no = {.content_type = "text/plain; charset=utf-8",
                                     .timeout_ms = 30000};
    if (!lp || !out) {
        cli_err("out of memory");
        goto out;
    }
    if (fk_note_verifier_parse(&v, al->vkey, strlen(al->vkey)) != FK_OK) {
        cli_err("the log key %s is not a verifier key", al->vkey);
        goto out;
    }
    if (rec_url(url, sizeof url, al->url, "add") ||
        (err = fki_net_post(url, entry, len, &no, &status, &body, &blen))) {
        cli_err("cannot reach the log at %s (%s); is the authority's log running?", al->url,
                fki_net_strerror(err));
        goto out;
    }
    /* The log answers with a C2SP tlog-proof: index, inclusion proof and
     * signed checkpoint.  Check it before keeping it. */
    if (status != 200 || fk_tlog_proof_parse(lp, (const char *)body, blen)) {
        cli_err("the log refused the %s (HTTP %ld: %.*s); check the authority's log and try "
                "again",
                what, status, (int)(blen > 200 ? 200 : blen), body ? (const char *)body : "");
        goto out;
    }
    if (fk_tlog_leaf_hash(leaf, (const uint8_t *)entry, len) ||
        fk_tlog_proof_verify(lp, leaf, v.name, &v, 1, &cp, NULL)) {
        cli_err("the log's receipt does not verify (checkpoint or inclusion proof); do not "
                "trust this log");
        goto out;
    }
    if ((err = fk_tlog_proof_encode(extra, extra_len, lp->index,
                                    (const uint8_t(*)[FK_TLOG_HASH_LEN])lp->proof, lp->nproof,
                                    lp->checkpoint, lp->checkpoint_len, out, cap, rlen))) {
        cli_err("cannot encode the receipt; the log's answer is too large (add it again)");
        goto out;
    }
    *index = lp->index;
    *size = cp.size;
    *receipt = out;
    out = NULL;
    rc = 0;
out:
    free(lp);
    free(out);
    free(body);
    return rc;
}
