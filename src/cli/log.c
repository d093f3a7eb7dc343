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
#include "log/log.h"
#include "witness/witness.h"

#define SERVE_USAGE \
    "log serve {--dir DIR [--key FILE] | --db CONNINFO --key FILE} --listen HOST:PORT\n"     \
    "                 {--authority FILE... [--requesters FILE] [--rate N] | --open}\n"      \
    "                 [--origin NAME] [--batch-ms MS] [--batch-max N] [--witness VKEY=URL...]\n" \
    "                 [--cosign-refresh S]"
#define VERIFY_USAGE \
    "log verify --log URL {--vkey VKEY | --policy FILE | --vkey VKEY --policy FILE}\n"      \
    "                  [--since FILE] [--entry FILE | --index N] [--follow]\n"               \
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

static int serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},    {"listen", required_argument, NULL, 'l'},
        {"origin", required_argument, NULL, 'o'}, {"batch-ms", required_argument, NULL, 'b'},
        {"batch-max", required_argument, NULL, 'm'}, {"help", no_argument, NULL, 'h'},
        {"witness", required_argument, NULL, 'w'}, {"key", required_argument, NULL, 'K'},
        {"cosign-refresh", required_argument, NULL, 'C'}, {"db", required_argument, NULL, 'D'},
        {"authority", required_argument, NULL, 'a'}, {"requesters", required_argument, NULL, 'r'},
        {"rate", required_argument, NULL, 'R'},   {"open", no_argument, NULL, 'O'},
        {NULL, 0, NULL, 0}};
    struct fki_logd_config cfg = {0};
    static const char *witnesses[FKI_WITNESS_MAX_WITNESSES];
    static char authorities[FKI_LOG_MAX_AUTHORITIES][FK_ESCROW_ID_HEX_LEN];
    static uint8_t authority_pks[FKI_LOG_MAX_AUTHORITIES][FK_ESCROW_POINT_LEN];
    static unsigned authority_ns[FKI_LOG_MAX_AUTHORITIES];
    const char *requesters = NULL;
    unsigned long v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': cfg.dir = optarg; break;
        case 'D': cfg.db = optarg; break;
        case 'K': cfg.key = optarg; break;
        case 'l': cfg.listen = optarg; break;
        case 'o': cfg.origin = optarg; break;
        case 'O': cfg.admit.open = 1; break;
        case 'r': requesters = optarg; break;
        case 'b':
            if (!parse_uint(optarg, FKI_LOG_MAX_BATCH_MS, &v) || !v) {
                cli_err("--batch-ms must be 1..%u milliseconds", FKI_LOG_MAX_BATCH_MS);
                return FK_EXIT_USAGE;
            }
            cfg.batch_ms = (unsigned)v;
            break;
        case 'm':
            if (!parse_uint(optarg, FKI_LOG_MAX_BATCH_MAX, &v) || !v) {
                cli_err("--batch-max must be 1..%u entries", FKI_LOG_MAX_BATCH_MAX);
                return FK_EXIT_USAGE;
            }
            cfg.batch_max = (unsigned)v;
            break;
        case 'R':
            if (!parse_uint(optarg, FKI_LOG_MAX_RATE, &v) || !v) {
                cli_err("--rate must be 1..%u requests per requester per minute",
                        FKI_LOG_MAX_RATE);
                return FK_EXIT_USAGE;
            }
            cfg.admit.rate = (unsigned)v;
            break;
        case 'a':
            if (cfg.admit.nauthorities == FKI_LOG_MAX_AUTHORITIES) {
                cli_err("too many --authority; a log serves at most %d authorities, run another "
                        "log for more",
                        FKI_LOG_MAX_AUTHORITIES);
                return FK_EXIT_USAGE;
            }
            if (load_authority_id(optarg, authorities[cfg.admit.nauthorities],
                                  authority_pks[cfg.admit.nauthorities],
                                  &authority_ns[cfg.admit.nauthorities]))
                return FK_EXIT_USAGE;
            cfg.admit.nauthorities++;
            break;
        case 'w':
            if (cfg.nwitnesses == FKI_WITNESS_MAX_WITNESSES) {
                cli_err("too many --witness; a log asks at most %d witnesses",
                        FKI_WITNESS_MAX_WITNESSES);
                return FK_EXIT_USAGE;
            }
            witnesses[cfg.nwitnesses++] = optarg;
            cfg.witnesses = witnesses;
            break;
        case 'C':
            if (!parse_uint(optarg, FKI_LOG_COSIGN_REFRESH_MAX_S, &v) || !v) {
                cli_err("--cosign-refresh must be 1..%u seconds", FKI_LOG_COSIGN_REFRESH_MAX_S);
                return FK_EXIT_USAGE;
            }
            cfg.cosign_refresh_s = (unsigned)v;
            break;
        case 'h':
            printf("usage: fairkey %s\n", SERVE_USAGE);
            return FK_EXIT_OK;
        default:
            return cli_usage(SERVE_USAGE);
        }
    }
    if (optind != argc || !(cfg.dir || cfg.db) || !cfg.listen)
        return cli_usage(SERVE_USAGE);
    if (cfg.db && (cfg.dir || !cfg.key)) {
        cli_err("--db goes with --key FILE (every front end of a log signs with the same key) "
                "and without --dir");
        return FK_EXIT_USAGE;
    }
    if (cfg.db && db_has_password(cfg.db))
        cli_err("warning: the --db connection string holds a password, which other users can "
                "read in the process list; put it in ~/.pgpass (or PGPASSFILE) instead");
    if (cfg.admit.open && (cfg.admit.nauthorities || requesters || cfg.admit.rate)) {
        cli_err("--open takes any entry; it goes without --authority, --requesters and --rate");
        return FK_EXIT_USAGE;
    }
    if (!cfg.admit.open && !cfg.admit.nauthorities) {
        cli_err("give --authority FILE for each authority whose recovery requests this log "
                "takes, or --open for a log that takes any entry");
        return FK_EXIT_USAGE;
    }
    cfg.admit.authorities = (const char(*)[FK_ESCROW_ID_HEX_LEN])authorities;
    cfg.admit.authority_pks = (const uint8_t(*)[FK_ESCROW_POINT_LEN])authority_pks;
    cfg.admit.authority_ns = authority_ns;
    char *reqtext = NULL;
    size_t reqlen = 0;
    if (requesters) {
        static const uint8_t zero[FK_REQUEST_KEY_LEN];
        if (cli_read_file(requesters, CLI_KEYFILE_MAX, 0, &reqtext, &reqlen))
            return FK_EXIT_USAGE;
        if (fk_requesters_allowed(reqtext, reqlen, "x", zero) == FK_ERR_INVALID) {
            cli_err("%s is not a requesters file (lines: NAME BASE64-ED25519-KEY)", requesters);
            free(reqtext);
            return FK_EXIT_USAGE;
        }
        cfg.admit.requesters = reqtext;
        cfg.admit.requesters_len = reqlen;
    }

    sigset_t set;
    cli_serve_signals(&set);

    char vkey[FK_NOTE_KEY_TEXT_MAX + 1];
    fki_logd *d;
    const char *why;
    fk_err e = fki_logd_start(&d, &cfg, vkey, sizeof vkey, &why);
    free(reqtext);   /* the daemon keeps its own copy */
    if (e) {
        /* Never the connection string: it may hold a password. */
        cli_err("%s: %s (%s)", cfg.dir ? cfg.dir : "--db", why, fk_strerror(e));
        return FK_EXIT_FAIL;
    }
    cli_serve_wait(&set, vkey, cfg.listen, fki_logd_port(d), "log", NULL, NULL);
    fki_logd_stop(d);
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
        {NULL, 0, NULL, 0}};
    const char *url = NULL, *vkey = NULL, *since = NULL, *entry_file = NULL, *policy = NULL;
    char policy_vkey[FK_NOTE_KEY_TEXT_MAX + 1];
    static fk_tlog_policy pol; /* large: not on the stack */
    int have_index = 0, follow = 0, c;
    unsigned long long index = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
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
        cli_err("the log's checkpoint did not verify (%s); check --log and --vkey", fk_strerror(e));
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
