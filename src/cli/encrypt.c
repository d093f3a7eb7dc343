/* fairkey encrypt: age's encryption flags, the age v1 format. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char synopsis[] =
    "encrypt [-a] [-o OUTPUT] (-r RECIPIENT | -R PATH | -i PATH | -j PLUGIN)... [INPUT]\n"
    "       fairkey encrypt -p [--passphrase-fd N] [-a] [-o OUTPUT] [INPUT]";
/* -h: the synopsis, then this. */
static const char help[] =
    "  -r, --recipient RECIPIENT   encrypt to an age1... recipient, an age1fairkey1...\n"
    "                              escrow authority or an SSH public key (\"ssh-ed25519\n"
    "                              AAAA...\", \"ssh-rsa AAAA...\"); repeatable\n"
    "  -R, --recipients-file PATH  encrypt to the recipients listed in PATH, one per line\n"
    "                              (a .pub file, GitHub's USER.keys); repeatable\n"
    "  -i, --identity PATH         encrypt to the recipients of the identities in PATH\n"
    "                              (an identity file or SSH private key); repeatable\n"
    "  -j PLUGIN                   encrypt with the data-less plugin age-plugin-PLUGIN\n"
    "  -p, --passphrase            encrypt with a passphrase (scrypt), and to nothing else\n"
    "      --passphrase-fd N       read the passphrase from file descriptor N\n"
    "  -a, --armor                 write ASCII armor (PEM)\n"
    "  -o, --output OUTPUT         write to OUTPUT, replaced only on success\n"
    "  -e, --encrypt               accepted for age compatibility\n"
    "\n"
    "INPUT and OUTPUT default to standard input and output ('-' names them too).\n"
    "Options go before INPUT; '--' ends them.  A passphrase comes from\n"
    "--passphrase-fd, else FAIRKEY_PASSPHRASE, else the terminal.  See docs/cli.md.\n";

enum { OPT_PASSPHRASE_FD = 256 };

/* A recipient source, kept in command-line order so stanzas follow it. */
struct source {
    int kind; /* 'r', 'R', 'i' or 'j' */
    const char *arg;
};

int cmd_encrypt_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"recipient", required_argument, NULL, 'r'},
        {"recipients-file", required_argument, NULL, 'R'},
        {"identity", required_argument, NULL, 'i'},
        {"plugin", required_argument, NULL, 'j'},
        {"passphrase", no_argument, NULL, 'p'},
        {"passphrase-fd", required_argument, NULL, OPT_PASSPHRASE_FD},
        {"armor", no_argument, NULL, 'a'},
        {"output", required_argument, NULL, 'o'},
        {"encrypt", no_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct source *src = calloc((size_t)argc, sizeof(*src));
    size_t nsrc = 0;
    const char *outpath = NULL;
    int armor = 0, passphrase = 0, c, rc = FK_EXIT_FAIL;
    cli_recipients rcpts = {0};
    char *pass = NULL;
    size_t passlen = 0;
    int in_fd = -1;
    cli_out out = {.fd = -1, .is_stdout = 1};

    if (!src) {
        cli_err("out of memory");
        return FK_EXIT_FAIL;
    }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:r:R:i:j:pao:eh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
        case 'R':
        case 'i':
        case 'j':
            src[nsrc].kind = c;
            src[nsrc++].arg = optarg;
            break;
        case 'p':
            passphrase = 1;
            break;
        case OPT_PASSPHRASE_FD:
            if (cli_set_passphrase_fd(optarg) < 0) {
                free(src);
                return FK_EXIT_USAGE;
            }
            break;
        case 'a':
            armor = 1;
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'e':
            break; /* age's -e: encrypting is what this command does */
        case 'h':
            printf("usage: fairkey %s\n\n%s", synopsis, help);
            free(src);
            return FK_EXIT_OK;
        default:
            free(src);
            return cli_bad_option(c, argv, synopsis);
        }
    }
    if (argc - optind > 1) {
        free(src);
        return cli_extra_inputs(argc, argv, optind, synopsis);
    }
    const char *inpath = optind < argc ? argv[optind] : NULL;
    if (passphrase && nsrc) {
        cli_err("-p cannot be combined with -r, -R, -i or -j; a passphrase-encrypted file has no other recipients");
        free(src);
        return FK_EXIT_USAGE;
    }
    if (!passphrase && !nsrc) {
        cli_err("no recipients; give -r RECIPIENT, -R FILE, -i FILE, -j PLUGIN or -p");
        free(src);
        return cli_usage(synopsis);
    }
    /* Binary ciphertext on a terminal is never wanted; "-o -" forces it. */
    if (!armor && outpath == NULL && isatty(STDOUT_FILENO)) {
        cli_err("refusing to write binary ciphertext to the terminal; use -a for armor, -o FILE, or -o - to force");
        free(src);
        return FK_EXIT_USAGE;
    }

    for (size_t i = 0; i < nsrc; i++) {
        int r;
        if (src[i].kind == 'r')
            r = cli_recipients_add_string(&rcpts, src[i].arg);
        else if (src[i].kind == 'R')
            r = cli_recipients_add_file(&rcpts, src[i].arg);
        else if (src[i].kind == 'j')
            r = cli_recipients_add_plugin_default(&rcpts, src[i].arg);
        else
            r = cli_recipients_add_identity_file(&rcpts, src[i].arg);
        if (r < 0)
            goto done;
    }
    if (passphrase) {
        if (cli_read_passphrase("Enter passphrase", 1, &pass, &passlen) < 0)
            goto done;
        fk_recipient *r = NULL;
        fk_err e = fk_scrypt_recipient_new(&r, pass, passlen, 0);
        cli_free_secret(pass, passlen);
        pass = NULL;
        if (e != FK_OK) {
            cli_err("cannot use the passphrase: %s", fk_strerror(e));
            goto done;
        }
        if (cli_recipients_add(&rcpts, r) < 0)
            goto done;
    }

    in_fd = cli_open_in(inpath, 0);
    if (in_fd < 0)
        goto done;
    if (cli_out_open(&out, outpath, 0) < 0)
        goto done;
    /* A named output is fsynced before its rename: start its writeback as
     * it is written, so the fsync has little left to wait for. */
    fk_encrypt_opts opts = {.armor = armor, .threads = 0, .writeback = !out.is_stdout};
    errno = 0;
    fk_err e = fk_age_encrypt_fd(in_fd, out.fd, rcpts.v, rcpts.n, &opts);
    if (e != FK_OK) {
        if (cli_reported)
            ; /* a plugin's failure, already explained */
        else if (e == FK_ERR_IO)
            cli_err("cannot encrypt: read or write failed: %s; %s",
                    errno ? strerror(errno) : "I/O error", cli_io_hint(errno));
        else if (e == FK_ERR_INVALID)
            cli_err("cannot encrypt: these recipients cannot be combined (a passphrase must be the only one)");
        else
            cli_err("cannot encrypt: %s", cli_describe_err(e));
        cli_out_abort(&out);
        goto done;
    }
    if (cli_out_commit(&out) < 0)
        goto done;
    rc = FK_EXIT_OK;
done:
    if (in_fd >= 0)
        cli_close_in(in_fd);
    cli_recipients_free(&rcpts);
    free(src);
    return rc;
}
