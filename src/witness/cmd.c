/*
 * fairkey witness serve - run a C2SP tlog-witness for one or more logs.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "witness/witness.h"

#define SERVE_USAGE                                                                                \
    "witness serve --dir DIR --listen HOST:PORT --log VKEY [--log VKEY...] [--name NAME]"

static int serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'}, {"listen", required_argument, NULL, 'l'},
        {"log", required_argument, NULL, 'k'}, {"name", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0}};
    static fk_note_verifier logs[FKI_WITNESS_MAX_LOGS];
    struct fki_witnessd_config cfg = {.logs = logs};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            cfg.dir = optarg;
            break;
        case 'l':
            cfg.listen = optarg;
            break;
        case 'n':
            cfg.name = optarg;
            break;
        case 'k':
            if (cfg.nlogs == FKI_WITNESS_MAX_LOGS) {
                cli_err("too many --log keys; a witness follows at most %d logs",
                        FKI_WITNESS_MAX_LOGS);
                return FK_EXIT_USAGE;
            }
            if (fk_note_verifier_parse(&logs[cfg.nlogs], optarg, strlen(optarg)) ||
                logs[cfg.nlogs].alg != FK_NOTE_ALG_ED25519) {
                cli_err("--log %s is not a log's verifier key; pass the vkey `fairkey log serve` "
                        "printed",
                        optarg);
                return FK_EXIT_USAGE;
            }
            cfg.nlogs++;
            break;
        case 'h':
            printf("usage: fairkey %s\n", SERVE_USAGE);
            return FK_EXIT_OK;
        default:
            return cli_bad_option(c, argv, SERVE_USAGE);
        }
    }
    if (optind != argc)
        return cli_bad_operand(argv[optind], SERVE_USAGE);
    if (!cfg.dir || !cfg.listen || !cfg.nlogs)
        return cli_usage(SERVE_USAGE);

    sigset_t set;
    cli_serve_signals(&set);

    char vkey[FK_NOTE_KEY_TEXT_MAX + 1];
    fki_witnessd *w;
    const char *why;
    fk_err e = fki_witnessd_start(&w, &cfg, vkey, sizeof vkey, &why);
    if (e) {
        cli_err("%s: %s (%s)", cfg.dir, why, fk_strerror(e));
        return FK_EXIT_FAIL;
    }
    cli_serve_wait(&set, vkey, cfg.listen, fki_witnessd_port(w), "witness", NULL, NULL);
    fki_witnessd_stop(w);
    return FK_EXIT_OK;
}

int cmd_witness_main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "serve"))
        return serve(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: fairkey %s\n", SERVE_USAGE);
        return FK_EXIT_OK;
    }
    return cli_usage(SERVE_USAGE);
}
