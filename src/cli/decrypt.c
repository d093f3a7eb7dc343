/* fairkey decrypt: age's decryption flags, the age v1 format. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char synopsis[] =
    "decrypt [-i PATH]... [-j PLUGIN]... [--passphrase-fd N] [--require-escrow RECIPIENT]... "
    "[--escrow-warn-only] [-o OUTPUT] [INPUT]";
/* -h: the synopsis, then this. */
static const char help[] =
    "  -i, --identity PATH          an identity file: AGE-SECRET-KEY-1... lines, an SSH\n"
    "                               private key, or an identity file encrypted with a\n"
    "                               passphrase (age -p); repeatable; without -i, a\n"
    "                               passphrase is asked for\n"
    "  -j PLUGIN                    decrypt with the data-less plugin age-plugin-PLUGIN\n"
    "      --passphrase-fd N        read the passphrase from file descriptor N\n"
    "      --require-escrow RECIPIENT\n"
    "                               refuse a file without a valid escrow stanza for\n"
    "                               this age1fairkey1... authority; repeatable\n"
    "      --escrow-warn-only       warn about missing or forged escrow, decrypt anyway\n"
    "  -o, --output OUTPUT          write to OUTPUT, created only on success\n"
    "  -d, --decrypt                accepted for age compatibility\n"
    "\n"
    "Every escrow stanza in the file must recompute from the file key, or nothing is\n"
    "decrypted.  INPUT and OUTPUT default to standard input and output ('-' names\n"
    "them too).  Options go before INPUT; '--' ends them.  A passphrase comes from\n"
    "--passphrase-fd, else FAIRKEY_PASSPHRASE, else the terminal.  See docs/cli.md.\n";

enum { OPT_PASSPHRASE_FD = 256, OPT_REQUIRE_ESCROW, OPT_ESCROW_WARN_ONLY };

static int header_has_scrypt(const fk_header *h)
{
    for (size_t i = 0; i < h->nstanzas; i++)
        if (!strcmp(h->stanzas[i].args[0], "scrypt"))
            return 1;
    return 0;
}

/* The work factor (log2 N) of h's scrypt stanza when it is a well-formed
 * decimal above FK_AGE_SCRYPT_MAX_LOGN, else NULL.  The library calls such a
 * stanza a header failure (the age test vectors do too); age's message names
 * the limit, and so does ours, before any passphrase is asked for. */
static const char *scrypt_work_factor_too_large(const fk_header *h)
{
    for (size_t i = 0; i < h->nstanzas; i++) {
        const fk_stanza *s = &h->stanzas[i];
        if (strcmp(s->args[0], "scrypt") != 0 || s->nargs != 3)
            continue;
        const char *w = s->args[2];
        size_t n = strlen(w);
        if (n == 0 || w[0] < '1' || w[0] > '9' || strspn(w, "0123456789") != n)
            continue;
        if (n > 2 || atoi(w) > FK_AGE_SCRYPT_MAX_LOGN)
            return w;
    }
    return NULL;
}

/* The probe runs first: it only notes what kind of file this is, so a failure
 * can say what to do ("this file wants a passphrase"). */
struct probe {
    int called;
    int scrypt;
    char too_large[24]; /* a work factor past the limit, as written (cut short) */
};

static fk_err probe_unwrap(const fk_identity *id, const fk_header *h,
                           uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    (void)file_key;
    struct probe *p = id->state;
    p->called = 1;
    p->scrypt = header_has_scrypt(h);
    const char *w = scrypt_work_factor_too_large(h);
    if (w)
        snprintf(p->too_large, sizeof p->too_large, "%.20s%s", w, strlen(w) > 20 ? "..." : "");
    return FK_ERR_NO_MATCH;
}

static void noop_destroy(fk_identity *id)
{
    (void)id;
}

static const fk_identity_ops probe_ops = {"probe", probe_unwrap, noop_destroy};

/* With no -i, a passphrase file is decrypted by asking for the passphrase
 * only once the header shows it is one (stdin cannot be read twice). */
struct lazy_pass {
    int asked;
    int failed; /* the passphrase could not be read (already reported) */
};

static fk_err lazy_unwrap(const fk_identity *id, const fk_header *h,
                          uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    struct lazy_pass *lp = id->state;
    if (!header_has_scrypt(h))
        return FK_ERR_NO_MATCH;
    if (scrypt_work_factor_too_large(h))
        return FK_ERR_HEADER; /* not worth a passphrase: report() says why */
    char *pass;
    size_t passlen;
    lp->asked = 1;
    if (cli_read_passphrase("Enter passphrase", 0, &pass, &passlen) < 0) {
        lp->failed = 1;
        return FK_ERR_NO_MATCH;
    }
    fk_identity *sid = NULL;
    fk_err e = fk_scrypt_identity_new(&sid, pass, passlen);
    cli_free_secret(pass, passlen);
    if (e != FK_OK)
        return e;
    e = sid->ops->unwrap(sid, h, file_key);
    fk_identity_free(sid);
    return e;
}

static const fk_identity_ops lazy_ops = {"passphrase", lazy_unwrap, noop_destroy};

static void report(fk_err e, const struct probe *probe, const struct lazy_pass *lp, int have_ids,
                   const fk_decrypt_info *info, const cli_out *out)
{
    /* An identity file or plugin said why already (a payload or I/O failure
     * after that is still reported). */
    if (cli_reported && (e == FK_ERR_NO_MATCH || e == FK_ERR_HEADER || e == FK_ERR_INVALID ||
                         e == FK_ERR_UNSUPPORTED))
        return;
    switch (e) {
    case FK_ERR_NO_MATCH:
        if (lp->failed)
            return; /* cli_read_passphrase said why */
        if (lp->asked)
            cli_err("the passphrase is wrong; try again");
        else if (!have_ids && probe->called)
            cli_err("the file is not passphrase-encrypted; give the identity file with -i");
        else if (probe->scrypt)
            cli_err("the file is passphrase-encrypted; run without -i to be asked for the passphrase");
        else
            cli_err("%s", cli_describe_err(e));
        return;
    case FK_ERR_PAYLOAD: {
        uint64_t good = info->plaintext_len;
        if (out->is_stdout)
            cli_err("the file is truncated or corrupted after %llu bytes of plaintext (chunk %llu); "
                    "the output is incomplete and must not be used as the whole file",
                    (unsigned long long)good, (unsigned long long)(good / FK_AGE_CHUNK_LEN));
        else
            cli_err("the file is truncated or corrupted after %llu bytes of plaintext (chunk %llu); "
                    "no output was written",
                    (unsigned long long)good, (unsigned long long)(good / FK_AGE_CHUNK_LEN));
        return;
    }
    case FK_ERR_HEADER:
        if (probe->too_large[0]) {
            cli_err("the file's header asks for an scrypt work factor too large to compute "
                    "(log2 N = %s; the limit is %d, as in age); nothing was decrypted",
                    probe->too_large, FK_AGE_SCRYPT_MAX_LOGN);
            return;
        }
        cli_err("%s", cli_describe_err(e));
        return;
    case FK_ERR_ESCROW:
        return; /* cli_escrow_finish names the authority and the defect */
    case FK_ERR_IO:
        cli_err("cannot decrypt: read or write failed: %s; %s", errno ? strerror(errno) : "I/O error",
                cli_io_hint(errno));
        return;
    default:
        cli_err("%s", cli_describe_err(e));
        return;
    }
}

int cmd_decrypt_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"identity", required_argument, NULL, 'i'},
        {"plugin", required_argument, NULL, 'j'},
        {"output", required_argument, NULL, 'o'},
        {"decrypt", no_argument, NULL, 'd'},
        {"passphrase-fd", required_argument, NULL, OPT_PASSPHRASE_FD},
        {"require-escrow", required_argument, NULL, OPT_REQUIRE_ESCROW},
        {"escrow-warn-only", no_argument, NULL, OPT_ESCROW_WARN_ONLY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char **idfiles = calloc((size_t)argc, sizeof(*idfiles));
    char *idkinds = calloc((size_t)argc, 1);
    const char **require = calloc((size_t)argc, sizeof(*require));
    size_t nidfiles = 0;
    cli_escrow_args ea = {require, 0, 0};
    const char *outpath = NULL;
    int c, rc = FK_EXIT_FAIL, in_fd = -1;
    cli_identities ids = {0};
    fk_identity **all = NULL;
    cli_out out = {.fd = -1, .is_stdout = 1};
    void *escrow_state = NULL;

    if (!idfiles || !require || !idkinds) {
        free(idkinds);
        free(idfiles);
        free(require);
        cli_err("out of memory");
        return FK_EXIT_FAIL;
    }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:i:j:o:dh", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
        case 'j':
            /* Kept in order: identities are tried as given. */
            idkinds[nidfiles] = (char)c;
            idfiles[nidfiles++] = optarg;
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'd':
            break; /* age's -d: decrypting is what this command does */
        case OPT_PASSPHRASE_FD:
            if (cli_set_passphrase_fd(optarg) < 0) {
                rc = FK_EXIT_USAGE;
                goto done;
            }
            break;
        case OPT_REQUIRE_ESCROW:
            require[ea.nrequire++] = optarg;
            break;
        case OPT_ESCROW_WARN_ONLY:
            ea.warn_only = 1;
            break;
        case 'h':
            printf("usage: fairkey %s\n\n%s", synopsis, help);
            rc = FK_EXIT_OK;
            goto done;
        default:
            rc = cli_bad_option(c, argv, synopsis);
            goto done;
        }
    }
    if (argc - optind > 1) {
        rc = cli_extra_inputs(argc, argv, optind, synopsis);
        goto done;
    }
    const char *inpath = optind < argc ? argv[optind] : NULL;
    if ((ea.nrequire || ea.warn_only) && !cli_escrow_available()) {
        cli_err("escrow verification is not available in this build; drop --require-escrow/--escrow-warn-only");
        rc = FK_EXIT_USAGE;
        goto done;
    }

    for (size_t i = 0; i < nidfiles; i++)
        if ((idkinds[i] == 'j' ? cli_identities_add_plugin_default(&ids, idfiles[i])
                               : cli_identities_add_file(&ids, idfiles[i])) < 0)
            goto done;

    struct probe probe = {0};
    struct lazy_pass lp = {0};
    fk_identity probe_id = {&probe_ops, &probe};
    fk_identity lazy_id = {&lazy_ops, &lp};
    all = calloc(ids.n + 2, sizeof(*all));
    if (!all) {
        cli_err("out of memory");
        goto done;
    }
    size_t nall = 0;
    all[nall++] = &probe_id;
    for (size_t i = 0; i < ids.n; i++)
        all[nall++] = ids.v[i];
    if (ids.n == 0)
        all[nall++] = &lazy_id;

    in_fd = cli_open_in(inpath, 0);
    if (in_fd < 0)
        goto done;
    if (cli_out_open(&out, outpath, 0) < 0)
        goto done;

    /* As encrypt: a named output's writeback starts as it is written. */
    fk_decrypt_opts opts = {.threads = 0, .writeback = !out.is_stdout};
    /* Escrow verification: the check runs after the header MAC verifies and
     * before any plaintext is released. */
    if (cli_escrow_setup(&ea, &opts, &escrow_state) < 0) {
        cli_out_abort(&out);
        goto done;
    }
    fk_decrypt_info info = {0};
    errno = 0;
    fk_err e = fk_age_decrypt_fd(in_fd, out.fd, all, nall, &opts, &info);
    if (e != FK_OK) {
        report(e, &probe, &lp, ids.n > 0, &info, &out);
        cli_escrow_finish(escrow_state, &info);
        escrow_state = NULL;
        cli_out_abort(&out);
        goto done;
    }
    int er = cli_escrow_finish(escrow_state, &info);
    escrow_state = NULL;
    if (er < 0) {
        cli_out_abort(&out);
        goto done;
    }
    if (cli_out_commit(&out) < 0)
        goto done;
    rc = FK_EXIT_OK;
done:
    if (escrow_state)
        cli_escrow_finish(escrow_state, NULL);
    if (in_fd >= 0)
        cli_close_in(in_fd);
    free(all);
    cli_identities_free(&ids);
    free(idkinds);
    free(idfiles);
    free(require);
    return rc;
}
