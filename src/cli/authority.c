/*
 * fairkey authority: create an escrow authority (dealer ceremony), show its
 * public file, check an agent's share against the Feldman commitments, and
 * recover a file locally from t shares (no agents, no log: for tests, drills
 * and tools; the accountable path is 'fairkey recover').
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char synopsis_create[] =
    "authority create --threshold T --agents N --name NAME\n"
    "                        {--log URL --log-vkey VKEY | --log-policy FILE} --out DIR";
static const char synopsis_show[] = "authority show [--recipient] AUTHORITY_FILE";
static const char synopsis_verify[] = "authority verify-share --authority AUTHORITY_FILE SHARE_FILE";
static const char synopsis_recover[] =
    "authority recover-local --authority AUTHORITY_FILE --share SHARE_FILE... [-o OUTPUT] INPUT";

static void print_usage(FILE *f)
{
    fprintf(f,
            "usage: fairkey %s\n"
            "       fairkey %s\n"
            "       fairkey %s\n"
            "       fairkey %s\n"
            "\n"
            "create         trusted-dealer mode (tests, drills): deal a new T-of-N authority;\n"
            "               writes DIR/authority.pub (public)\n"
            "               and DIR/share-<i>.key (secret, mode 0600) for agents 1..N,\n"
            "               and prints the age1fairkey1... recipient; the authority\n"
            "               secret exists only in memory during the ceremony; the file\n"
            "               names the log (and witness policy) where its agents and\n"
            "               requesters record every request, and the id commits to it\n"
            "show           print an authority file: name, T-of-N, id, recipient,\n"
            "               public key, commitments and share public keys\n"
            "verify-share   check a share file against the authority's commitments\n"
            "dkg            a dealerless authority (COCKTAIL-DKG): 'fairkey authority dkg help'\n"
            "publish        log a dealerless authority's certified transcript in its log,\n"
            "               keeping the receipt: 'fairkey authority publish -h'\n"
            "verify         check an authority file against its certified DKG transcript\n"
            "               (and, with --receipt, that the transcript is in its log)\n"
            "reshare        the same key to new agents (new T, N, shares and id): 'fairkey\n"
            "               authority reshare help'\n"
            "recover-local  decrypt a file with T share files of its escrow authority,\n"
            "               without agents or log (the audited path is 'fairkey recover')\n",
            synopsis_create, synopsis_show, synopsis_verify, synopsis_recover);
}

/* A required option or operand is missing: one "fairkey: " line, the usage. */
static int missing_option(const char *what, const char *synopsis)
{
    cli_err("%s", what);
    return cli_usage(synopsis);
}

/* Strict decimal in [lo, hi]: no sign, no spaces, no leading zeros. */
static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 9)
        return -1;
    unsigned v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int join_path(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) {
        cli_err("the path %s/%s is too long; choose a shorter --out folder", dir, name);
        return -1;
    }
    return 0;
}

static int cmd_create(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"threshold", required_argument, NULL, 't'},
        {"agents", required_argument, NULL, 'n'},
        {"name", required_argument, NULL, 'N'},
        {"out", required_argument, NULL, 'o'},
        {"log", required_argument, NULL, 'l'},
        {"log-vkey", required_argument, NULL, 'k'},
        {"log-policy", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned t = 0, n = 0;
    const char *name = NULL, *dir = NULL, *logurl = NULL, *vkey = NULL, *policy_path = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:t:n:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (parse_uint(optarg, 1, FK_ESCROW_MAX_SHARES, &t) < 0) {
                cli_err("--threshold must be a number from 1 to %u", FK_ESCROW_MAX_SHARES);
                return FK_EXIT_USAGE;
            }
            break;
        case 'n':
            if (parse_uint(optarg, 1, FK_ESCROW_MAX_SHARES, &n) < 0) {
                cli_err("--agents must be a number from 1 to %u", FK_ESCROW_MAX_SHARES);
                return FK_EXIT_USAGE;
            }
            break;
        case 'N': name = optarg; break;
        case 'o': dir = optarg; break;
        case 'l': logurl = optarg; break;
        case 'k': vkey = optarg; break;
        case 'P': policy_path = optarg; break;
        case 'h':
            printf("usage: fairkey %s\n\nTrusted-dealer mode, for tests and drills: one process "
                   "draws the authority's\nsecret and deals the shares.  A dealerless authority: "
                   "'fairkey authority dkg help'.\n", synopsis_create);
            return FK_EXIT_OK;
        default: return cli_bad_option(c, argv, synopsis_create);
        }
    }
    if (optind != argc)
        return cli_bad_operand(argv[optind], synopsis_create);
    if (!t || !n || !name || !dir)
        return missing_option("--threshold, --agents, --name and --out are all required",
                              synopsis_create);
    if (t > n) {
        cli_err("--threshold %u is larger than --agents %u; T shares out of N must exist", t, n);
        return FK_EXIT_USAGE;
    }
    /* Required: an authority whose log nobody knows has requests nobody audits. */
    if (policy_path ? logurl || vkey : !logurl || !vkey)
        return missing_option("name the authority's log: --log URL and --log-vkey VKEY, or "
                              "--log-policy FILE (not both)",
                              synopsis_create);
    size_t nl = strlen(name);
    if (nl < 1 || nl > FK_ESCROW_NAME_MAX || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                                          "opqrstuvwxyz0123456789._-") != nl) {
        cli_err("--name must be 1 to %d characters of A-Z a-z 0-9 . _ -", FK_ESCROW_NAME_MAX);
        return FK_EXIT_USAGE;
    }
    char *policy = malloc(FK_ESCROW_POLICY_MAX + 1);
    size_t policy_len = 0;
    if (!policy) {
        cli_err("out of memory");
        return FK_EXIT_FAIL;
    }
    if (cli_policy_for_authority(policy, &policy_len, logurl, vkey, policy_path) < 0) {
        free(policy);
        return FK_EXIT_FAIL;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        cli_err("cannot create the folder %s: %s", dir, strerror(errno));
        free(policy);
        return FK_EXIT_FAIL;
    }

    int rc = FK_EXIT_FAIL;
    fk_escrow_authority *auth = malloc(sizeof(*auth));
    fk_escrow_share *shares = NULL;
    char *text = malloc(FK_ESCROW_AUTHORITY_TEXT_MAX);
    char share_text[FK_ESCROW_SHARE_TEXT_MAX];
    char path[PATH_MAX];
    unsigned written = 0; /* share files created so far, removed on failure */
    int pub_written = 0;
    size_t len;
    fk_err e;
    if (!auth || !text) {
        cli_err("out of memory");
        goto out;
    }
    if ((e = fk_escrow_share_alloc(&shares, n)) != FK_OK) {
        cli_err("cannot allocate protected memory for the shares: %s", fk_strerror(e));
        goto out;
    }
    if ((e = fk_escrow_dealer(auth, shares, name, t, n, policy, policy_len)) != FK_OK) {
        cli_err("the dealer ceremony failed: %s", fk_strerror(e));
        goto out;
    }
    if ((e = fk_escrow_authority_encode(text, FK_ESCROW_AUTHORITY_TEXT_MAX, &len, auth)) != FK_OK) {
        cli_err("cannot encode the authority: %s", fk_strerror(e));
        goto out;
    }
    /* Shares first: if one cannot be written, no authority.pub exists that
     * someone could encrypt to. */
    for (unsigned i = 0; i < n; i++) {
        char fname[32];
        snprintf(fname, sizeof(fname), "share-%u.key", i + 1);
        if (join_path(path, sizeof(path), dir, fname) < 0)
            goto out;
        size_t slen;
        e = fk_escrow_share_encode(share_text, sizeof(share_text), &slen, &shares[i]);
        if (e != FK_OK) {
            cli_err("cannot encode share %u: %s", i + 1, fk_strerror(e));
            goto out;
        }
        int r = cli_write_new_file(path, share_text, slen, 1);
        fk_wipe(share_text, sizeof(share_text));
        if (r < 0)
            goto out;
        written = i + 1;
    }
    if (join_path(path, sizeof(path), dir, "authority.pub") < 0 ||
        cli_write_new_file(path, text, len, 0) < 0)
        goto out;
    pub_written = 1;

    char recipient[FK_ESCROW_RECIPIENT_STR_MAX], idhex[FK_ESCROW_ID_HEX_LEN];
    if ((e = fk_escrow_recipient_encode(recipient, auth->pk)) != FK_OK) {
        cli_err("cannot encode the recipient: %s", fk_strerror(e));
        goto out;
    }
    fk_escrow_id_hex(idhex, auth->id);
    printf("authority: %s\nthreshold: %u-of-%u\nid: %s\nrecipient: %s\n", auth->name, t, n, idhex,
           recipient);
    /* A note, not an error: no "fairkey:" prefix (keygen's "Public key:" does
     * the same), so a script that treats "fairkey:" lines as failures is not
     * misled. */
    fprintf(stderr,
            "Wrote %s/authority.pub and share-1.key..share-%u.key (mode 0600); give "
            "share-<i>.key to agent i and delete it here\n"
            "Trusted-dealer mode (tests, drills): this process held the authority's secret "
            "(wiped now) and nothing proves it was not kept; for an authority whose secret "
            "never exists in one place, use 'fairkey authority dkg'\n",
            dir, n);
    rc = fflush(stdout) == 0 ? FK_EXIT_OK : FK_EXIT_FAIL;
out:
    if (rc != FK_EXIT_OK) {
        /* Leave no half-made authority behind. */
        for (unsigned i = 0; i < written; i++) {
            char fname[32];
            snprintf(fname, sizeof(fname), "share-%u.key", i + 1);
            if (join_path(path, sizeof(path), dir, fname) == 0)
                unlink(path);
        }
        if (pub_written && join_path(path, sizeof(path), dir, "authority.pub") == 0)
            unlink(path);
    }
    if (shares)
        fk_escrow_share_free(shares, n);
    fk_wipe(share_text, sizeof(share_text));
    free(text);
    free(auth);
    free(policy);
    return rc;
}

static void print_b64_point(const char *label, const uint8_t p[FK_ESCROW_POINT_LEN])
{
    char b64[64];
    fk_b64_encode(b64, p, FK_ESCROW_POINT_LEN);
    printf("%s%s\n", label, b64);
}

static int cmd_show(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"recipient", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int only_recipient = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r': only_recipient = 1; break;
        case 'h': printf("usage: fairkey %s\n", synopsis_show); return FK_EXIT_OK;
        default: return cli_bad_option(c, argv, synopsis_show);
        }
    }
    if (argc - optind > 1)
        return cli_bad_operand(argv[optind + 1], synopsis_show);
    if (argc == optind)
        return missing_option("give the authority file (authority.pub)", synopsis_show);
    fk_escrow_authority *a = cli_load_authority(argv[optind]);
    if (!a)
        return FK_EXIT_FAIL;
    char recipient[FK_ESCROW_RECIPIENT_STR_MAX], idhex[FK_ESCROW_ID_HEX_LEN];
    fk_err e = fk_escrow_recipient_encode(recipient, a->pk);
    if (e != FK_OK) {
        free(a);
        cli_err("cannot encode the recipient: %s", fk_strerror(e));
        return FK_EXIT_FAIL;
    }
    if (only_recipient) {
        printf("%s\n", recipient);
    } else {
        fk_escrow_id_hex(idhex, a->id);
        printf("name: %s\nthreshold: %u-of-%u\nid: %s\nrecipient: %s\n", a->name, a->t, a->n,
               idhex, recipient);
        print_b64_point("public key: ", a->pk);
        for (unsigned j = 0; j < a->t; j++) {
            char label[32];
            snprintf(label, sizeof(label), "commitment %u: ", j);
            print_b64_point(label, a->commit[j]);
        }
        for (unsigned i = 1; i <= a->n; i++) {
            char label[32];
            snprintf(label, sizeof(label), "share key %u: ", i);
            print_b64_point(label, a->share_pk[i - 1]);
        }
        /* The log policy, one line each: as written to a --log-policy file. */
        for (size_t p = 0; p < a->policy_len;) {
            const char *nl = memchr(a->policy + p, '\n', a->policy_len - p);
            size_t ll = nl ? (size_t)(nl - (a->policy + p)) : a->policy_len - p;
            printf("log policy: %.*s\n", (int)ll, a->policy + p);
            p += ll + 1;
        }
    }
    free(a);
    return fflush(stdout) == 0 ? FK_EXIT_OK : FK_EXIT_FAIL;
}

static int cmd_verify_share(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"authority", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *apath = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'a': apath = optarg; break;
        case 'h': printf("usage: fairkey %s\n", synopsis_verify); return FK_EXIT_OK;
        default: return cli_bad_option(c, argv, synopsis_verify);
        }
    }
    if (argc - optind > 1)
        return cli_bad_operand(argv[optind + 1], synopsis_verify);
    if (!apath || argc == optind)
        return missing_option("give --authority AUTHORITY_FILE and one share file",
                              synopsis_verify);
    const char *spath = argv[optind];
    fk_escrow_authority *a = cli_load_authority(apath);
    if (!a)
        return FK_EXIT_FAIL;
    fk_escrow_share share;
    int rc = FK_EXIT_FAIL;
    if (cli_load_share(spath, &share) < 0)
        goto out;
    fk_err e = fk_escrow_share_verify(a, &share);
    if (e != FK_OK) {
        cli_err("%s does not match the commitments of authority %s; it is corrupt or belongs to "
                "another authority: do not use it",
                spath, a->name);
        goto out;
    }
    printf("%s: share %u of authority %s (%u-of-%u) is valid\n", spath, share.index, a->name, a->t,
           a->n);
    rc = fflush(stdout) == 0 ? FK_EXIT_OK : FK_EXIT_FAIL;
out:
    fk_escrow_share_clear(&share, 1);
    free(a);
    return rc;
}

static int cmd_recover_local(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"authority", required_argument, NULL, 'a'},
        {"share", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *apath = NULL, *outpath = NULL;
    const char *spaths[FK_ESCROW_MAX_SHARES];
    size_t nshares = 0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'a': apath = optarg; break;
        case 's':
            if (nshares == FK_ESCROW_MAX_SHARES) {
                cli_err("more than %u --share options; an authority has at most that many shares",
                        FK_ESCROW_MAX_SHARES);
                return FK_EXIT_USAGE;
            }
            spaths[nshares++] = optarg;
            break;
        case 'o': outpath = optarg; break;
        case 'h': printf("usage: fairkey %s\n", synopsis_recover); return FK_EXIT_OK;
        default: return cli_bad_option(c, argv, synopsis_recover);
        }
    }
    if (argc - optind > 1)
        return cli_bad_operand(argv[optind + 1], synopsis_recover);
    if (!apath || nshares == 0 || argc == optind)
        return missing_option("give --authority AUTHORITY_FILE, a --share SHARE_FILE for each "
                              "of T shares, and the file to recover",
                              synopsis_recover);
    const char *inpath = argv[optind];
    if (!strcmp(inpath, "-")) {
        cli_err("recover-local reads the file twice (header, then payload); give a file name, "
                "not standard input");
        return FK_EXIT_USAGE;
    }

    int rc = FK_EXIT_FAIL, in_fd = -1, out_open = 0;
    fk_escrow_authority *a = cli_load_authority(apath);
    fk_escrow_share *shares = NULL;
    fk_identity *id = NULL;
    fk_header h;
    int have_header = 0;
    uint8_t file_key[FK_AGE_FILE_KEY_LEN] = {0};
    cli_out out;
    fk_err e;
    if (!a)
        goto done;
    if (nshares < a->t) {
        cli_err("authority %s needs %u shares to recover and %zu were given; pass --share once "
                "for each of %u share files",
                a->name, a->t, nshares, a->t);
        goto done;
    }
    if ((e = fk_escrow_share_alloc(&shares, nshares)) != FK_OK) {
        cli_err("cannot allocate protected memory for the shares: %s", fk_strerror(e));
        goto done;
    }
    for (size_t i = 0; i < nshares; i++) {
        if (cli_load_share(spaths[i], &shares[i]) < 0)
            goto done;
        if (fk_escrow_share_verify(a, &shares[i]) != FK_OK) {
            cli_err("%s does not match the commitments of authority %s; it is corrupt or "
                    "belongs to another authority",
                    spaths[i], a->name);
            goto done;
        }
        for (size_t j = 0; j < i; j++)
            if (shares[j].index == shares[i].index) {
                cli_err("%s and %s are the same share (%u); give %u different shares", spaths[j],
                        spaths[i], shares[i].index, a->t);
                goto done;
            }
    }
    in_fd = cli_open_in(inpath, 0);
    if (in_fd < 0)
        goto done;
    memset(&h, 0, sizeof(h));
    int armored;
    uint64_t plen;
    if ((e = fk_age_read_header_fd(in_fd, &h, &armored, &plen)) != FK_OK) {
        cli_err("%s: %s", inpath, cli_describe_err(e));
        goto done;
    }
    have_header = 1;
    e = fk_escrow_recover_with_shares(file_key, a, shares, nshares, &h);
    if (e != FK_OK) {
        if (e == FK_ERR_NOT_FOUND)
            cli_err("%s has no escrow stanza for authority %s; it was not escrowed to it", inpath,
                    a->name);
        else
            cli_err("recovering the file key of %s failed: %s", inpath, cli_describe_err(e));
        goto done;
    }
    e = fk_filekey_identity_new(&id, file_key);
    fk_wipe(file_key, sizeof(file_key));
    if (e != FK_OK) {
        cli_err("%s", cli_describe_err(e));
        goto done;
    }
    if (lseek(in_fd, 0, SEEK_SET) != 0) {
        cli_err("cannot rewind %s: %s; give a regular file", inpath, strerror(errno));
        goto done;
    }
    if (cli_out_open(&out, outpath, 0) < 0)
        goto done;
    out_open = 1;
    fk_decrypt_opts opts;
    memset(&opts, 0, sizeof(opts));
    fk_identity *ids[1] = {id};
    e = fk_age_decrypt_fd(in_fd, out.fd, ids, 1, &opts, NULL);
    if (e != FK_OK) {
        cli_err("%s: %s", inpath, cli_describe_err(e));
        goto done;
    }
    out_open = 0;
    if (cli_out_commit(&out) < 0)
        goto done;
    rc = FK_EXIT_OK;
done:
    if (out_open)
        cli_out_abort(&out);
    if (id)
        fk_identity_free(id);
    if (have_header)
        fk_header_clear(&h);
    if (in_fd >= 0)
        cli_close_in(in_fd);
    if (shares)
        fk_escrow_share_free(shares, nshares);
    fk_wipe(file_key, sizeof(file_key));
    free(a);
    return rc;
}

int cmd_authority_main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return FK_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
        print_usage(stdout);
        return FK_EXIT_OK;
    }
    if (!strcmp(sub, "create"))
        return cmd_create(argc - 1, argv + 1);
    if (!strcmp(sub, "show"))
        return cmd_show(argc - 1, argv + 1);
    if (!strcmp(sub, "verify-share"))
        return cmd_verify_share(argc - 1, argv + 1);
    if (!strcmp(sub, "recover-local"))
        return cmd_recover_local(argc - 1, argv + 1);
    if (!strcmp(sub, "dkg"))
        return cli_authority_dkg(argc - 1, argv + 1);
    if (!strcmp(sub, "verify"))
        return cli_authority_verify(argc - 1, argv + 1);
    if (!strcmp(sub, "publish"))
#ifdef FK_CLI_LIGHT
        return cli_exec_net(argc, argv); /* it talks to the log: libcurl */
#else
        return cli_authority_publish(argc - 1, argv + 1);
#endif
    if (!strcmp(sub, "reshare"))
        return cli_authority_reshare(argc - 1, argv + 1);
    cli_err("unknown authority command '%s'; run 'fairkey authority help'", sub);
    return FK_EXIT_USAGE;
}
