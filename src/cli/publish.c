/*
 * fairkey authority publish - log a dealerless authority's birth: its
 * certified transcript (docs/spec.md 9.7) goes to the log the authority
 * names, and the receipt (C2SP tlog-proof) is kept beside it, so that
 * anyone can check with 'fairkey authority verify --receipt' that the
 * authority is the one the log and its witnesses saw certified.
 *
 *   fairkey authority publish --authority FILE --transcript FILE [--hash] [-o RECEIPT]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/recovery.h"
#include "cli.h"

#define USAGE "authority publish --authority FILE --transcript FILE [--hash] [-o RECEIPT]"

int cli_authority_publish(int argc, char **argv)
{
    static const struct option opts[] = {
        {"authority", required_argument, 0, 'a'}, {"transcript", required_argument, 0, 't'},
        {"hash", no_argument, 0, 'H'},            {"output", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},            {0, 0, 0, 0}};
    const char *authp = NULL, *tpath = NULL, *out = NULL;
    int c, hash = 0, rc = FK_EXIT_FAIL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': authp = optarg; break;
        case 't': tpath = optarg; break;
        case 'H': hash = 1; break;
        case 'o': out = optarg; break;
        case 'h': printf("usage: fairkey %s\n", USAGE); return FK_EXIT_OK;
        default: return cli_usage(USAGE);
        }
    }
    if (!authp || !tpath || optind != argc)
        return cli_usage(USAGE);
    static cli_authlog al;
    fk_escrow_authority *a = NULL;
    char *text = NULL, *entry = NULL, *receipt = NULL, defout[4096];
    size_t len, elen, rlen;
    uint64_t index, size;
    unsigned blame = 0;
    fk_dkg_entry_form form = hash ? FK_DKG_ENTRY_HASH : FK_DKG_ENTRY_FULL;
    fk_err e;
    if (!(a = rec_load_authority(authp)) ||
        cli_read_file(tpath, CLI_DKG_FILE_MAX, 0, &text, &len) < 0)
        goto out;
    /* Publish only what verify will accept. */
    if ((e = fk_dkg_authority_verify(a, text, len, &blame))) {
        if (e == FK_ERR_SIGNATURE)
            cli_err("%s: participant %u's proof of possession or certification signature does "
                    "not verify; nothing published", tpath, blame);
        else
            cli_err("%s is not the certified transcript of authority %s (%s); nothing published",
                    tpath, a->name, fk_strerror(e));
        goto out;
    }
    if (cli_authority_log(&al, a, NULL, NULL, NULL) ||
        cli_transcript_entry(text, len, a, form, &entry, &elen) < 0)
        goto out;
    if (elen > FK_TLOG_MAX_ENTRY && form == FK_DKG_ENTRY_FULL) {
        /* Over a log entry's 65,535 bytes: the hash form carries the rest. */
        free(entry);
        entry = NULL;
        form = FK_DKG_ENTRY_HASH;
        if (cli_transcript_entry(text, len, a, form, &entry, &elen) < 0)
            goto out;
    }
    if (elen > FK_TLOG_MAX_ENTRY) {
        cli_err("the transcript's hash entry is %zu bytes, over a log entry's %u", elen,
                FK_TLOG_MAX_ENTRY);
        goto out;
    }
    if (cli_log_add(&al, "transcript", entry, elen, NULL, 0, &receipt, &rlen, &index, &size))
        goto out;
    if (!out) {
        snprintf(defout, sizeof defout, "%s.tlog-proof", tpath);
        out = defout;
    }
    if (cli_out_write_file(out, 0, receipt, rlen))
        goto out;
    printf("transcript of authority %s logged %s at index %llu (tree size %llu) in %s\n"
           "receipt %s\n",
           a->name, form == FK_DKG_ENTRY_FULL ? "in full" : "as its hash",
           (unsigned long long)index, (unsigned long long)size, al.url, out);
    rc = fflush(stdout) == 0 ? FK_EXIT_OK : FK_EXIT_FAIL;
out:
    free(a);
    free(text);
    free(entry);
    free(receipt);
    return rc;
}
