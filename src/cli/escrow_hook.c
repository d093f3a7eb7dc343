/*
 * The one place where the CLI meets the escrow module: decrypt's escrow
 * verification options and inspect's description of escrow stanzas.
 *
 * decrypt always installs fk_escrow_check_header: every escrow stanza in a
 * file must recompute byte for byte from the file key, or the file is
 * refused before any plaintext is released.  --require-escrow RECIPIENT
 * (repeatable) also refuses a file without a verified stanza for that
 * authority; --escrow-warn-only turns both refusals into warnings.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct escrow_state {
    fk_escrow_check_ctx ctx;
    uint8_t (*required)[FK_ESCROW_POINT_LEN];
    size_t nrequired;
    int warn_only;
};

int cli_escrow_available(void)
{
    return 1;
}

int cli_escrow_setup(const cli_escrow_args *a, fk_decrypt_opts *opts, void **state)
{
    opts->check = NULL;
    opts->check_ctx = NULL;
    *state = NULL;
    struct escrow_state *st = calloc(1, sizeof(*st));
    if (!st || (a->nrequire && !(st->required = calloc(a->nrequire, sizeof(*st->required))))) {
        free(st);
        cli_err("out of memory");
        return -1;
    }
    for (size_t i = 0; i < a->nrequire; i++) {
        if (fk_escrow_recipient_decode(st->required[i], a->require[i]) != FK_OK) {
            if (cli_looks_secret(a->require[i]))
                cli_err("--require-escrow was given a secret key; give the authority's "
                        "age1fairkey1... recipient that 'fairkey authority show' prints");
            else
                cli_err("--require-escrow %s is not an escrow authority recipient; give the "
                        "age1fairkey1... string that 'fairkey authority show' prints",
                        a->require[i]);
            free(st->required);
            free(st);
            return -1;
        }
    }
    st->nrequired = a->nrequire;
    st->warn_only = a->warn_only;
    fk_escrow_check_init(&st->ctx, (const uint8_t(*)[FK_ESCROW_POINT_LEN])st->required,
                         st->nrequired, 0, a->warn_only);
    opts->check = fk_escrow_check_header;
    opts->check_ctx = &st->ctx;
    *state = st;
    return 0;
}

static void recipient_of(char out[FK_ESCROW_RECIPIENT_STR_MAX], const uint8_t pk[FK_ESCROW_POINT_LEN])
{
    static const uint8_t zero[FK_ESCROW_POINT_LEN];
    if (!memcmp(pk, zero, sizeof(zero)) || fk_escrow_recipient_encode(out, pk) != FK_OK)
        strcpy(out, "(unparsable authority)");
}

/* One line about what is wrong with the file's escrow; prefix is "" for a
 * refusal and "warning: " under --escrow-warn-only. */
static void explain(const struct escrow_state *st, const char *prefix, const char *then)
{
    const fk_escrow_check_ctx *c = &st->ctx;
    char rcpt[FK_ESCROW_RECIPIENT_STR_MAX];
    for (size_t i = 0; i < c->nresults; i++) {
        const fk_escrow_check_result *r = &c->results[i];
        if (r->err == FK_OK)
            continue;
        recipient_of(rcpt, r->pk);
        cli_err("%sthe escrow stanza for %s (stanza %zu) does not recompute from the file key: "
                "the escrow field is forged or corrupt; %s",
                prefix, rcpt, r->stanza_index + 1, then);
        return;
    }
    if (c->nfailed) {
        cli_err("%s%zu escrow stanza%s of the file do%s not recompute from the file key: the "
                "escrow field is forged or corrupt; %s",
                prefix, c->nfailed, c->nfailed == 1 ? "" : "s", c->nfailed == 1 ? "es" : "",
                then);
        return;
    }
    for (size_t k = 0; k < st->nrequired; k++) {
        int found = 0;
        for (size_t i = 0; i < c->nresults && !found; i++)
            found = c->results[i].err == FK_OK &&
                    !memcmp(c->results[i].pk, st->required[k], FK_ESCROW_POINT_LEN);
        if (!found && c->nresults < FK_ESCROW_CHECK_MAX_RESULTS) {
            recipient_of(rcpt, st->required[k]);
            cli_err("%sthe file has no escrow stanza for %s, which --require-escrow demands; "
                    "the sender did not escrow it; %s",
                    prefix, rcpt, then);
            return;
        }
    }
    if (c->nmissing)
        cli_err("%sthe file lacks a valid escrow stanza for %zu authorit%s that --require-escrow "
                "demands; %s",
                prefix, c->nmissing, c->nmissing == 1 ? "y" : "ies", then);
}

int cli_escrow_finish(void *state, const fk_decrypt_info *info)
{
    struct escrow_state *st = state;
    if (!st)
        return 0;
    int rc = 0;
    if (info) {
        const fk_escrow_check_ctx *c = &st->ctx;
        if (info->check_err == FK_ERR_ESCROW) {
            explain(st, "", "refusing to decrypt (--escrow-warn-only overrides)");
            rc = -1;
        } else if (st->warn_only && (c->nfailed || c->nmissing)) {
            explain(st, "warning: ", "decrypting anyway because of --escrow-warn-only");
        }
    }
    free(st->required);
    fk_wipe(st, sizeof(*st));
    free(st);
    return rc;
}

int cli_escrow_describe_stanza(const fk_stanza *s, FILE *out)
{
    fk_escrow_stanza_info info;
    fk_err e = fk_escrow_stanza_parse(&info, s);
    if (e == FK_ERR_NOT_FOUND)
        return 0;
    if (e != FK_OK) {
        fprintf(out, "escrow stanza (%s): MALFORMED, %s\n", s->args[0],
                strcmp(s->args[0], FK_ESCROW_STANZA_TYPE) ? "retired v1 type, no agent answers it"
                                                           : fk_strerror(e));
        return 1;
    }
    char rcpt[FK_ESCROW_RECIPIENT_STR_MAX], e64[64];
    recipient_of(rcpt, info.pk);
    fk_b64_encode(e64, info.e, FK_ESCROW_POINT_LEN);
    /* The validity proof needs no key: anyone can see whether the authority's
     * agents would answer a request for this stanza (the file key is what
     * shows it matches the file: decrypt checks that). */
    fprintf(out, "escrow to authority %s, E %s, body %zu bytes, validity proof %s\n", rcpt, e64,
            s->body_len, fk_escrow_stanza_verify(&info) == FK_OK ? "ok" : "INVALID");
    return 1;
}
