/*
 * fairkey witness serve - run a C2SP tlog-witness for one or more logs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prog/authlog.h"
#include "prog/prog.h"
#include "svc/config.h"
#include "svc/metrics.h"
#include "svc/serve.h"
#include "svc/storage.h"
#include "witness/witness.h"

#define SERVE_USAGE                                                                                \
    "witness serve [--config FILE] --dir DIR --listen HOST:PORT --log VKEY [--log VKEY...]\n"     \
    "                     [--name NAME]"

static const struct option serve_opts[] = {
    {"dir", required_argument, NULL, 'd'},  {"listen", required_argument, NULL, 'l'},
    {"log", required_argument, NULL, 'k'},  {"name", required_argument, NULL, 'n'},
    {"help", no_argument, NULL, 'h'},       {"config", required_argument, NULL, 'c'},
    {NULL, 0, NULL, 0}};

/* What `witness serve` reads from its command line and --config file. */
struct serve_args {
    struct fki_witnessd_config cfg;
    struct fki_conf_argv av;   /* cfg's strings point into it */
    fk_note_verifier logs[FKI_WITNESS_MAX_LOGS];
};

/* FK_EXIT_OK with *a filled (free a->av), or an exit code (help: printed,
 * FK_EXIT_OK with a->cfg.dir NULL); reloading, one cli_err line and no
 * usage text. */
static int parse_serve(int argc, char **argv, int reloading, struct serve_args *a)
{
    char err[FKI_CONF_ERR_MAX];
    const char *config = fki_conf_path(argc, argv);
    int c;
    memset(a, 0, sizeof *a);
    a->cfg.logs = a->logs;
    if (fki_conf_argv_build(&a->av, config, "witness serve", serve_opts, argc, argv, err)) {
        cli_err("%s", err);
        return FK_EXIT_USAGE;
    }
    optind = 0;   /* GNU: start afresh on this vector */
    opterr = 0;
    int rc = FK_EXIT_USAGE;
    while ((c = getopt_long(a->av.argc, a->av.argv, "+:h", serve_opts, NULL)) != -1) {
        switch (c) {
        case 'c': break;   /* read above */
        case 'd': a->cfg.dir = optarg; break;
        case 'l': a->cfg.listen = optarg; break;
        case 'n': a->cfg.name = optarg; break;
        case 'k':
            if (a->cfg.nlogs == FKI_WITNESS_MAX_LOGS) {
                cli_err("too many --log keys; a witness follows at most %d logs",
                        FKI_WITNESS_MAX_LOGS);
                goto fail;
            }
            if (fk_note_verifier_parse(&a->logs[a->cfg.nlogs], optarg, strlen(optarg)) ||
                a->logs[a->cfg.nlogs].alg != FK_NOTE_ALG_ED25519) {
                cli_err("--log %s is not a log's verifier key; pass the vkey `fairkey log serve` "
                        "printed",
                        optarg);
                goto fail;
            }
            a->cfg.nlogs++;
            break;
        case 'h':
            printf("usage: fairkey %s\n", SERVE_USAGE);
            rc = FK_EXIT_OK;
            goto fail;
        default:
            if (reloading) {
                cli_err("bad option in the command line or configuration");
                goto fail;
            }
            rc = cli_bad_option(c, a->av.argv, SERVE_USAGE);
            goto fail;
        }
    }
    if (optind != a->av.argc) {
        if (reloading)
            cli_err("unexpected operand %s", a->av.argv[optind]);
        else
            rc = cli_bad_operand(a->av.argv[optind], SERVE_USAGE);
        goto fail;
    }
    if (!a->cfg.dir || !a->cfg.listen || !a->cfg.nlogs) {
        if (reloading || config)
            cli_err("give dir, listen and at least one log (flags --dir, --listen, --log, or "
                    "lines in --config)");
        else
            rc = cli_usage(SERVE_USAGE);
        goto fail;
    }
    return FK_EXIT_OK;
fail:
    fki_conf_argv_free(&a->av);
    a->cfg.dir = NULL;
    return rc;
}

struct serve_reload {
    fki_witnessd *w;
    int argc;
    char **argv;
};

/* SIGHUP: read the --config file again and replace the list of logs whole,
 * or keep it.  One line on stderr either way. */
static int serve_reload(void *ctx)
{
    struct serve_reload *r = ctx;
    static struct serve_args n;   /* large (64 keys): not on the stack */
    cli_err_quiet(1);
    int rc = parse_serve(r->argc, r->argv, 1, &n);
    cli_err_quiet(0);
    const char *why = NULL;
    if (!rc && fki_witnessd_set_logs(r->w, n.logs, n.cfg.nlogs, &why))
        rc = FK_EXIT_FAIL;
    if (rc) {
        fprintf(stderr, "fairkey witness: SIGHUP: %s; kept the previous configuration\n",
                why ? why : cli_err_last()[0] ? cli_err_last() : "cannot reload");
        fki_conf_argv_free(&n.av);
        fki_metrics_reloaded(0);
        return -1;
    }
    fprintf(stderr, "fairkey witness: SIGHUP: reloaded; following %zu logs\n", n.cfg.nlogs);
    fki_conf_argv_free(&n.av);
    fki_metrics_reloaded(1);
    return 0;
}

static int serve(int argc, char **argv)
{
    static struct serve_args a;
    int rc = parse_serve(argc, argv, 0, &a);
    if (rc || !a.cfg.dir)
        return rc;

    sigset_t set;
    fki_serve_signals(&set);

    char vkey[FK_NOTE_KEY_TEXT_MAX + 1];
    fki_witnessd *w;
    const char *why;
    fk_err e = fki_witnessd_start(&w, &a.cfg, vkey, sizeof vkey, &why);
    if (e) {
        char buf[512];
        const char *full = e == FK_ERR_STORAGE || e == FK_ERR_IO
                               ? fki_storage_problem(a.cfg.dir, buf, sizeof buf)
                               : NULL;
        if (full)
            cli_err("%s", full);
        else
            cli_err("%s: %s (%s)", a.cfg.dir, why, fk_strerror(e));
        fki_conf_argv_free(&a.av);
        return FK_EXIT_FAIL;
    }
    struct serve_reload r = {.w = w, .argc = argc, .argv = argv};
    fki_serve_wait(&set, vkey, a.cfg.listen, fki_witnessd_port(w), "witness", serve_reload, &r);
    fki_witnessd_stop(w);
    fki_conf_argv_free(&a.av);
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
