/*
 * fairkey log serve | verify - run the transparency log; check a log from
 * the outside (signature, consistency, inclusion, full replay from tiles).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "agent/recovery.h"
#include "cli.h"
#include "net/net.h"
#include "log/log.h"
#include "svc/config.h"
#include "svc/metrics.h"
#include "svc/serve.h"
#include "svc/storage.h"
#include "witness/witness.h"

#define SERVE_USAGE \
    "log serve [--config FILE] {--dir DIR [--key FILE] | --db CONNINFO --key FILE}\n"      \
    "                 --listen HOST:PORT\n"                                                 \
    "                 {--authority FILE... [--requesters FILE] [--rate N] | --open}\n"      \
    "                 [--origin NAME] [--batch-ms MS] [--batch-max N] [--witness VKEY=URL...]\n" \
    "                 [--cosign-refresh S] [--cacert FILE]"
#define VERIFY_USAGE \
    "log verify --log URL {--vkey VKEY | --policy FILE | --vkey VKEY --policy FILE}\n"      \
    "                  [--since FILE] [--entry FILE | --index N] [--follow] [--cacert FILE]\n"               \
    "       (with both, the policy must list the --vkey log)"

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (!s[0] || s[0] == '-' || s[0] == '+')
        return 0;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return 0;
    *out = v;
    return 1;
}

/* --authority FILE: the authority's id (hex), from the checked file. */
static int load_authority_id(const char *path, char out[FK_ESCROW_ID_HEX_LEN],
                             uint8_t pk[FK_ESCROW_POINT_LEN], unsigned *n)
{
    fk_escrow_authority *a = rec_load_authority(path);
    if (!a)
        return -1;
    fk_escrow_id_hex(out, a->id);
    memcpy(pk, a->pk, FK_ESCROW_POINT_LEN);
    *n = a->n;
    free(a);
    return 0;
}

/* Whether a libpq connection string names a password (not printed). */
static int db_has_password(const char *conninfo)
{
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    int has = 0;
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (!strcmp(o->keyword, "password") && o->val && o->val[0])
            has = 1;
    PQconninfoFree(opts);
    return has;
}

/* Everything `log serve` reads from its command line and --config file.
 * cfg points into av and the arrays here, so one of these lives as long as
 * the daemon uses its settings; a reload parses a new one beside it. */
struct serve_args {
    struct fki_logd_config cfg;
    struct fki_conf_argv av;
    const char *config;     /* --config FILE, NULL if none */
    const char *requesters; /* --requesters FILE */
    char *reqtext;
    size_t reqlen;
    const char *witnesses[FKI_WITNESS_MAX_WITNESSES];
    char authorities[FKI_LOG_MAX_AUTHORITIES][FK_ESCROW_ID_HEX_LEN];
    uint8_t authority_pks[FKI_LOG_MAX_AUTHORITIES][FK_ESCROW_POINT_LEN];
    unsigned authority_ns[FKI_LOG_MAX_AUTHORITIES];
};

static const struct option serve_opts[] = {
    {"dir", required_argument, NULL, 'd'},    {"listen", required_argument, NULL, 'l'},
    {"origin", required_argument, NULL, 'o'}, {"batch-ms", required_argument, NULL, 'b'},
    {"batch-max", required_argument, NULL, 'm'}, {"help", no_argument, NULL, 'h'},
    {"witness", required_argument, NULL, 'w'}, {"key", required_argument, NULL, 'K'},
    {"cosign-refresh", required_argument, NULL, 'C'}, {"db", required_argument, NULL, 'D'},
    {"authority", required_argument, NULL, 'a'}, {"requesters", required_argument, NULL, 'r'},
    {"rate", required_argument, NULL, 'R'},   {"open", no_argument, NULL, 'O'},
    {"config", required_argument, NULL, 'c'}, {"cacert", required_argument, NULL, 'A'},
    {NULL, 0, NULL, 0}};

static void serve_args_free(struct serve_args *a)
{
    if (!a)
        return;
    fki_conf_argv_free(&a->av);
    free(a->reqtext);
    free(a);
}

/* Parse the command line and the --config file into *out (NULL on help or
 * failure).  Returns FK_EXIT_OK with *out set, or an exit code; reloading,
 * no usage text is printed (cli_err lines only). */
static int parse_serve(int argc, char **argv, int reloading, struct serve_args **out)
{
    *out = NULL;
    struct serve_args *a = calloc(1, sizeof *a);
    if (!a) {
        cli_err("out of memory");
        return FK_EXIT_FAIL;
    }
    struct fki_logd_config *cfg = &a->cfg;
    char err[FKI_CONF_ERR_MAX];
    unsigned long v;
    int c, rc = FK_EXIT_USAGE;
    a->config = fki_conf_path(argc, argv);
    if (fki_conf_argv_build(&a->av, a->config, "log serve", serve_opts, argc, argv, err)) {
        cli_err("%s", err);
        goto fail;
    }
    optind = 0;   /* GNU: start afresh on this vector */
    opterr = !reloading;
    while ((c = getopt_long(a->av.argc, a->av.argv, "h", serve_opts, NULL)) != -1) {
        switch (c) {
        case 'A':
            /* At start only: the https calls of a running log keep their CA. */
            if (!reloading && rec_cacert(optarg))
                goto fail;
            break;
        case 'c': break;   /* read above */
        case 'd': cfg->dir = optarg; break;
        case 'D': cfg->db = optarg; break;
        case 'K': cfg->key = optarg; break;
        case 'l': cfg->listen = optarg; break;
        case 'o': cfg->origin = optarg; break;
        case 'O': cfg->admit.open = 1; break;
        case 'r': a->requesters = optarg; break;
        case 'b':
            if (!parse_uint(optarg, FKI_LOG_MAX_BATCH_MS, &v) || !v) {
                cli_err("--batch-ms must be 1..%u milliseconds", FKI_LOG_MAX_BATCH_MS);
                goto fail;
            }
            cfg->batch_ms = (unsigned)v;
            break;
        case 'm':
            if (!parse_uint(optarg, FKI_LOG_MAX_BATCH_MAX, &v) || !v) {
                cli_err("--batch-max must be 1..%u entries", FKI_LOG_MAX_BATCH_MAX);
                goto fail;
            }
            cfg->batch_max = (unsigned)v;
            break;
        case 'R':
            if (!parse_uint(optarg, FKI_LOG_MAX_RATE, &v) || !v) {
                cli_err("--rate must be 1..%u requests per requester per minute",
                        FKI_LOG_MAX_RATE);
                goto fail;
            }
            cfg->admit.rate = (unsigned)v;
            break;
        case 'a':
            if (cfg->admit.nauthorities == FKI_LOG_MAX_AUTHORITIES) {
                cli_err("too many --authority; a log serves at most %d authorities, run another "
                        "log for more",
                        FKI_LOG_MAX_AUTHORITIES);
                goto fail;
            }
            if (load_authority_id(optarg, a->authorities[cfg->admit.nauthorities],
                                  a->authority_pks[cfg->admit.nauthorities],
                                  &a->authority_ns[cfg->admit.nauthorities]))
                goto fail;
            cfg->admit.nauthorities++;
            break;
        case 'w':
            if (cfg->nwitnesses == FKI_WITNESS_MAX_WITNESSES) {
                cli_err("too many --witness; a log asks at most %d witnesses",
                        FKI_WITNESS_MAX_WITNESSES);
                goto fail;
            }
            a->witnesses[cfg->nwitnesses++] = optarg;
            cfg->witnesses = a->witnesses;
            break;
        case 'C':
            if (!parse_uint(optarg, FKI_LOG_COSIGN_REFRESH_MAX_S, &v) || !v) {
                cli_err("--cosign-refresh must be 1..%u seconds", FKI_LOG_COSIGN_REFRESH_MAX_S);
                goto fail;
            }
            cfg->cosign_refresh_s = (unsigned)v;
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
            rc = cli_usage(SERVE_USAGE);
            goto fail;
        }
    }
    if (optind != a->av.argc || !(cfg->dir || cfg->db) || !cfg->listen) {
        if (reloading || a->config) {
            cli_err("%s", optind != a->av.argc ? "unexpected operand"
                          : "give dir (or db) and listen (flags --dir, --db, --listen, or lines "
                            "in --config)");
            goto fail;
        }
        rc = cli_usage(SERVE_USAGE);
        goto fail;
    }
    if (cfg->db && (cfg->dir || !cfg->key)) {
        cli_err("--db goes with --key FILE (every front end of a log signs with the same key) "
                "and without --dir");
        goto fail;
    }
    if (!reloading && cfg->db && db_has_password(cfg->db))
        cli_err("warning: the --db connection string holds a password, which other users can "
                "read in the process list; put it in ~/.pgpass (or PGPASSFILE) instead");
    if (cfg->admit.open && (cfg->admit.nauthorities || a->requesters || cfg->admit.rate)) {
        cli_err("--open takes any entry; it goes without --authority, --requesters and --rate");
        goto fail;
    }
    if (!cfg->admit.open && !cfg->admit.nauthorities) {
        cli_err("give --authority FILE for each authority whose recovery requests this log "
                "takes, or --open for a log that takes any entry");
        goto fail;
    }
    cfg->admit.authorities = (const char(*)[FK_ESCROW_ID_HEX_LEN])a->authorities;
    cfg->admit.authority_pks = (const uint8_t(*)[FK_ESCROW_POINT_LEN])a->authority_pks;
    cfg->admit.authority_ns = a->authority_ns;
    if (a->requesters) {
        static const uint8_t zero[FK_REQUEST_KEY_LEN];
        if (cli_read_file(a->requesters, CLI_KEYFILE_MAX, 0, &a->reqtext, &a->reqlen))
            goto fail;
        if (fk_requesters_allowed(a->reqtext, a->reqlen, "x", zero) == FK_ERR_INVALID) {
            cli_err("%s is not a requesters file (lines: NAME BASE64-ED25519-KEY)",
                    a->requesters);
            goto fail;
        }
        cfg->admit.requesters = a->reqtext;
        cfg->admit.requesters_len = a->reqlen;
    }
    *out = a;
    return FK_EXIT_OK;
fail:
    serve_args_free(a);
    return rc;
}

/* What SIGHUP reloads in a running log. */
struct serve_reload {
    fki_logd *d;
    int argc;
    char **argv;
    struct serve_args *cur;
};

/* SIGHUP: read the command line's --config file and the files it names
 * again; apply the admission (authorities, requesters, rate) whole, or keep
 * the old one.  One line on stderr either way. */
static int serve_reload(void *ctx)
{
    struct serve_reload *r = ctx;
    struct serve_args *n;
    cli_err_quiet(1);
    int rc = parse_serve(r->argc, r->argv, 1, &n);
    cli_err_quiet(0);
    fk_err e = rc ? FK_OK : fki_logd_set_admit(r->d, &n->cfg.admit);
    if (rc || e) {
        fprintf(stderr, "fairkey log: SIGHUP: %s; kept the previous configuration\n",
                e ? "--authority or --rate out of range"
                  : cli_err_last()[0] ? cli_err_last() : "cannot reload");
        serve_args_free(n);
        fki_metrics_reloaded(0);
        return -1;
    }
    const struct fki_logd_config *o = &r->cur->cfg, *c = &n->cfg;
    int restart = strcmp(o->dir, c->dir) || strcmp(o->listen, c->listen) ||
                  o->batch_ms != c->batch_ms || o->batch_max != c->batch_max ||
                  o->nwitnesses != c->nwitnesses || o->cosign_refresh_s != c->cosign_refresh_s;
    for (size_t i = 0; !restart && i < c->nwitnesses; i++)
        restart = strcmp(o->witnesses[i], c->witnesses[i]) != 0;
    if (c->admit.open)
        fprintf(stderr, "fairkey log: SIGHUP: reloaded; open log (takes any entry)%s\n",
                restart ? "; dir, listen, batch and witness settings change at restart" : "");
    else
        fprintf(stderr,
                "fairkey log: SIGHUP: reloaded; %zu authorities, %s%s, rate %u a minute%s\n",
                c->admit.nauthorities, n->requesters ? "requesters from " : "any signed requester",
                n->requesters ? n->requesters : "",
                c->admit.rate ? c->admit.rate : FKI_LOG_DEFAULT_RATE,
                restart ? "; dir, listen, batch and witness settings change at restart" : "");
    fki_metrics_reloaded(1);
    serve_args_free(r->cur);
    r->cur = n;
    return 0;
}

static int serve(int argc, char **argv)
{
    struct serve_args *a;
    int rc = parse_serve(argc, argv, 0, &a);
    if (!a)
        return rc;
    struct fki_logd_config *cfg = &a->cfg;

    sigset_t set;
    fki_serve_signals(&set);

    char vkey[FK_NOTE_KEY_TEXT_MAX + 1];
    fki_logd *d;
    const char *why;
    fk_err e = fki_logd_start(&d, cfg, vkey, sizeof vkey, &why);
    if (e) {
        char buf[512];
        const char *full = cfg->dir && (e == FK_ERR_STORAGE || e == FK_ERR_IO)
                               ? fki_storage_problem(cfg->dir, buf, sizeof buf)
                               : NULL;
        if (full)
            cli_err("%s", full);
        else   /* never the connection string: it may hold a password */
            cli_err("%s: %s (%s)", cfg->dir ? cfg->dir : "--db", why, fk_strerror(e));
        serve_args_free(a);
        return FK_EXIT_FAIL;
    }
    struct serve_reload r = {.d = d, .argc = argc, .argv = argv, .cur = a};
    fki_serve_wait(&set, vkey, cfg->listen, fki_logd_port(d), "log", serve_reload, &r);
    fki_logd_stop(d);
    serve_args_free(r.cur);
    return FK_EXIT_OK;
}

static fk_err read_small_file(const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? FK_ERR_NOT_FOUND : FK_ERR_IO;
    char *buf = malloc(max + 1);
    size_t n = 0;
    fk_err e = buf ? FK_OK : FK_ERR_NOMEM;
    while (!e) {
        ssize_t r = read(fd, buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            e = FK_ERR_IO;
        else if (r == 0)
            break;
        else if ((n += (size_t)r) > max)
            e = FK_ERR_LIMIT;
    }
    close(fd);
    if (e) {
        free(buf);
        return e;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return FK_OK;
}

static int write_file_atomic(const char *path, const char *data, size_t len)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    int ok = write(fd, data, len) == (ssize_t)len && !fsync(fd);
    if (close(fd) || !ok || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"log", required_argument, NULL, 'L'},   {"vkey", required_argument, NULL, 'k'},
        {"since", required_argument, NULL, 's'}, {"entry", required_argument, NULL, 'e'},
        {"index", required_argument, NULL, 'i'}, {"follow", no_argument, NULL, 'f'},
        {"policy", required_argument, NULL, 'P'}, {"help", no_argument, NULL, 'h'},
        {"cacert", required_argument, NULL, 'A'}, {NULL, 0, NULL, 0}};
    const char *url = NULL, *vkey = NULL, *since = NULL, *entry_file = NULL, *policy = NULL;
    char policy_vkey[FK_NOTE_KEY_TEXT_MAX + 1];
    static fk_tlog_policy pol; /* large: not on the stack */
    int have_index = 0, follow = 0, c;
    unsigned long long index = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'A':
            if (rec_cacert(optarg))
                return FK_EXIT_USAGE;
            break;
        case 'L': url = optarg; break;
        case 'k': vkey = optarg; break;
        case 'P': policy = optarg; break;
        case 's': since = optarg; break;
        case 'e': entry_file = optarg; break;
        case 'f': follow = 1; break;
        case 'i': {
            char *end;
            errno = 0;
            index = strtoull(optarg, &end, 10);
            if (errno || *end || !optarg[0] || optarg[0] == '-') {
                cli_err("--index must be a decimal entry index");
                return FK_EXIT_USAGE;
            }
            have_index = 1;
            break;
        }
        case 'h':
            printf("usage: fairkey %s\n", VERIFY_USAGE);
            return FK_EXIT_OK;
        default:
            return cli_usage(VERIFY_USAGE);
        }
    }
    if (optind != argc || !url || (!vkey && !policy))
        return cli_usage(VERIFY_USAGE);
    /* Without --vkey the policy's one log is the log to check. */
    if (!vkey && rec_log_policy(&pol, policy, NULL, "--policy", "--vkey", policy_vkey))
        return FK_EXIT_USAGE;

    /* Closed (its keep-alive connection released) on every return. */
    struct fki_log_client cl __attribute__((cleanup(fki_log_client_close))) = {0};
    fk_err e = fki_log_client_init(&cl, url, vkey ? vkey : policy_vkey);
    if (e) {
        cli_err("bad --log URL or --vkey; give http://HOST:PORT and the key 'fairkey log serve' printed");
        return FK_EXIT_USAGE;
    }
    if (vkey && rec_log_policy(&pol, policy, &cl.key, "--policy", "--vkey", NULL))
        return FK_EXIT_USAGE;
    fk_checkpoint cur;
    char note[FKI_LOG_MAX_CHECKPOINT + 1];
    if ((e = fki_log_client_checkpoint(&cl, &cur, note))) {
        if (e == FK_ERR_NET)
            cli_err("cannot reach the log at %s: %s", url, fki_net_strerror(e));
        else
            cli_err("the log's checkpoint did not verify (%s); check --log and --vkey",
                    fk_strerror(e));
        return FK_EXIT_FAIL;
    }
    uint64_t witnessed = 0;
    fk_note cpnote;
    if ((e = fk_note_parse(&cpnote, note, strlen(note))) ||
        (e = fk_tlog_policy_quorum(&pol, &cpnote, &witnessed))) {
        if (e == FK_ERR_POLICY)
            cli_err("the log's checkpoint (size %llu) lacks the witness cosignatures %s%s requires "
                    "(%d of %zu witnesses cosigned); wait for the witnesses or check the policy",
                    (unsigned long long)cur.size, policy ? "--policy " : "the policy",
                    policy ? policy : "", __builtin_popcountll(witnessed), pol.nwitnesses);
        else
            cli_err("the log's checkpoint carries a witness cosignature that does not verify (%s); "
                    "keep it as evidence", fk_strerror(e));
        return FK_EXIT_FAIL;
    }
    char rootb64[64];
    fk_b64_encode_padded(rootb64, cur.root, FK_TLOG_HASH_LEN);
    printf("checkpoint %s size %llu root %s: signature ok\n", cur.origin,
           (unsigned long long)cur.size, rootb64);
    if (policy)
        printf("log policy %s: quorum met (%d of %zu witnesses cosigned)\n", policy,
               __builtin_popcountll(witnessed), pol.nwitnesses);

    if (since) {
        char *old_text = NULL;
        size_t old_len;
        e = read_small_file(since, FKI_LOG_MAX_CHECKPOINT, &old_text, &old_len);
        if (e == FK_OK) {
            fk_checkpoint old;
            e = fk_checkpoint_open(&old, NULL, old_text, old_len, cl.key.name, &cl.key, 1, NULL);
            if (e) {
                free(old_text);
                cli_err("%s is not a checkpoint signed by this log; remove it to start over", since);
                return FK_EXIT_FAIL;
            }
            e = fki_log_client_consistent(&cl, &old, &cur);
            free(old_text);
            if (e) {
                cli_err("the log is NOT consistent with %s (size %llu): it forked or rolled back (%s); keep both checkpoints as evidence",
                        since, (unsigned long long)old.size, fk_strerror(e));
                return FK_EXIT_FAIL;
            }
            printf("consistent with %s (size %llu)\n", since, (unsigned long long)old.size);
        } else if (e != FK_ERR_NOT_FOUND) {
            cli_err("cannot read %s: %s", since, fk_strerror(e));
            return FK_EXIT_FAIL;
        } else {
            printf("no checkpoint in %s yet: trusting this one from now on\n", since);
        }
        if (write_file_atomic(since, note, strlen(note))) {
            cli_err("cannot write %s; check the directory's permissions", since);
            return FK_EXIT_FAIL;
        }
    }

    if (entry_file) {
        char *data;
        size_t len;
        e = read_small_file(entry_file, FK_TLOG_MAX_ENTRY, &data, &len);
        if (e) {
            cli_err("cannot read entry %s (%s); entries are at most 65535 bytes", entry_file,
                    fk_strerror(e));
            return FK_EXIT_FAIL;
        }
        if (have_index) {
            uint8_t *got;
            size_t glen;
            e = fki_log_client_entry(&cl, &cur, index, &got, &glen);
            if (!e && (glen != len || memcmp(got, data, len)))
                e = FK_ERR_NOT_FOUND;
            if (!e)
                free(got);
        } else {
            uint64_t idx;
            e = fki_log_client_find(&cl, &cur, (const uint8_t *)data, len, &idx);
            index = idx;
        }
        free(data);
        if (e) {
            cli_err("entry %s is not in the log at size %llu (%s)", entry_file,
                    (unsigned long long)cur.size, fk_strerror(e));
            return FK_EXIT_FAIL;
        }
        printf("entry %s included at index %llu\n", entry_file, index);
    } else if (have_index) {
        uint8_t *got;
        size_t glen;
        if ((e = fki_log_client_entry(&cl, &cur, index, &got, &glen))) {
            cli_err("entry %llu could not be proven in the log (%s)", index, fk_strerror(e));
            return FK_EXIT_FAIL;
        }
        free(got);
        printf("entry %llu included (%zu bytes)\n", index, glen);
    }

    if (follow) {
        if ((e = fki_log_client_follow(&cl, &cur))) {
            cli_err("replaying the log from its tiles failed (%s): the log serves bad data",
                    fk_strerror(e));
            return FK_EXIT_FAIL;
        }
        printf("followed %llu entries from scratch: tiles and root match\n",
               (unsigned long long)cur.size);
    }
    return FK_EXIT_OK;
}

int cmd_log_main(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage(SERVE_USAGE "\n       fairkey " VERIFY_USAGE);
    if (!strcmp(argv[1], "serve"))
        return serve(argc - 1, argv + 1);
    if (!strcmp(argv[1], "verify"))
        return verify(argc - 1, argv + 1);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        printf("usage: fairkey " SERVE_USAGE "\n       fairkey " VERIFY_USAGE "\n");
        return FK_EXIT_OK;
    }
    cli_err("unknown 'log %s'; use 'log serve' or 'log verify'", argv[1]);
    return FK_EXIT_USAGE;
}
