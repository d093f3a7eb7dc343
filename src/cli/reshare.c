/*
 * fairkey authority reshare: the same authority key to a new set of agents
 * (docs/spec.md section 10) as steps over files.  A coordinator (no secret)
 * writes the session and relays files; each dealer (an old agent of the
 * chosen quorum) deals its part of the key with its share and participant
 * key; each new agent checks every dealing and writes its new share.
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

static const char syn_init[] =
    "authority reshare init --authority OLD_AUTHORITY --threshold T\n"
    "                        --dealer INDEX:PUBLIC_KEY... --participant PUBLIC_KEY...\n"
    "                        [--log URL --log-vkey VKEY | --log-policy FILE] -o SESSION";
static const char syn_deal[] =
    "authority reshare deal --authority OLD_AUTHORITY --session SESSION --share SHARE_FILE\n"
    "                        --key KEY_FILE -o DEALT";
static const char syn_collect[] =
    "authority reshare collect --authority OLD_AUTHORITY --session SESSION -o BUNDLE\n"
    "                        [--entry LOG_ENTRY] [--authority-out FILE] DEALT...";
static const char syn_finish[] =
    "authority reshare finish --authority OLD_AUTHORITY --session SESSION --key KEY_FILE\n"
    "                        --bundle BUNDLE --out DIR";

static const char dealt_magic[] = "fairkey reshare dealt v1";
static const char bundle_magic[] = "fairkey reshare bundle v1";

static void usage_all(FILE *f)
{
    fprintf(f,
            "usage: fairkey %s\n       fairkey %s\n       fairkey %s\n       fairkey %s\n"
            "\n"
            "Reshare an authority's key to new agents: same PK (files encrypted before still\n"
            "recover), new threshold, agents, share keys and id; old shares do not combine\n"
            "with new ones.  Participant keys come from 'fairkey authority dkg keygen'.\n"
            "init     coordinator: the session (the old authority, its T dealers with their\n"
            "         participant keys, the new agents in order, the new threshold)\n"
            "deal     dealer: deal its part of the key to the new agents\n"
            "collect  coordinator: check every dealing's public part (naming a dealer at\n"
            "         fault), write the bundle, the log entry and the new authority file\n"
            "finish   new agent: check its sub-share from every dealer (naming one at\n"
            "         fault), write authority.pub and share-<j>.key\n",
            syn_init, syn_deal, syn_collect, syn_finish);
}

typedef struct rs {
    fk_escrow_authority *old;
    fk_reshare_session s;
    char ctxhex[2 * FK_DKG_CONTEXT_LEN + 1];
    uint8_t *msg[FK_ESCROW_MAX_SHARES];
    size_t len[FK_ESCROW_MAX_SHARES];
    fk_dkg_msg1 m[FK_ESCROW_MAX_SHARES];
} rs;

static void rs_free(rs *R)
{
    if (!R)
        return;
    for (unsigned k = 0; k < FK_ESCROW_MAX_SHARES; k++)
        free(R->msg[k]);
    free(R->old);
    free(R);
}

/* The old authority and the session, checked against each other. */
static rs *rs_load(const char *apath, const char *spath)
{
    rs *R = calloc(1, sizeof *R);
    char *text = NULL;
    size_t len;
    fk_err e;
    if (!R) {
        cli_err("out of memory");
        return NULL;
    }
    if (!(R->old = cli_load_authority(apath)))
        goto fail;
    if (cli_read_file(spath, FK_RESHARE_SESSION_TEXT_MAX, 0, &text, &len) < 0)
        goto fail;
    if ((e = fk_reshare_session_parse(&R->s, text, len))) {
        cli_err("%s is not a valid fairkey reshare session (%s); use the one 'fairkey authority "
                "reshare init' wrote",
                spath, fk_strerror(e));
        goto fail;
    }
    if (fk_reshare_session_check_old(&R->s, R->old)) {
        cli_err("%s does not reshare the authority in %s (another id, or not one dealer per "
                "share of a quorum of it)",
                spath, apath);
        goto fail;
    }
    fk_hex_encode(R->ctxhex, R->s.context, FK_DKG_CONTEXT_LEN);
    free(text);
    return R;
fail:
    free(text);
    rs_free(R);
    return NULL;
}

/* The bundle: every dealer's dealing, in session order, parsed. */
static int load_bundle(const char *path, rs *R)
{
    if (cli_dkg_load_msgs(path, R->ctxhex, 0, bundle_magic, NULL, R->msg, R->len,
                          R->s.ndealers) < 0)
        return -1;
    for (unsigned k = 0; k < R->s.ndealers; k++) {
        fk_err e = fk_dkg_msg1_parse(&R->m[k], R->msg[k], R->len[k], R->s.t, R->s.n);
        if (e) {
            cli_err("the dealing of dealer %u in %s is malformed (%s); the resharing is aborted",
                    R->s.dealer[k], path, fk_strerror(e));
            return -1;
        }
    }
    return 0;
}

/* The public checks of every dealing and the new authority (auth). */
static int check_public(rs *R, fk_escrow_authority *auth)
{
    const uint8_t *dealt[FK_ESCROW_MAX_SHARES];
    unsigned blame;
    for (unsigned k = 0; k < R->s.ndealers; k++)
        dealt[k] = R->m[k].commit;
    fk_err e = fk_reshare_authority(auth, &blame, &R->s, R->old, dealt);
    if (e && blame) {
        cli_err("dealer %u misbehaved: %s; the resharing is aborted and nothing was written: "
                "start a new session",
                blame,
                e == FK_ERR_SIGNATURE ? "its proof of possession does not verify"
                                      : "its constant-term commitment is not lambda_i * PK_i "
                                        "(it does not deal its part of the authority's key)");
        return -1;
    }
    if (e) {
        cli_err("the dealings do not make an authority: %s", fk_strerror(e));
        return -1;
    }
    return 0;
}

static int write_authority(const char *path, const fk_escrow_authority *a)
{
    char *text = malloc(FK_ESCROW_AUTHORITY_TEXT_MAX);
    size_t len;
    int r = -1;
    if (!text)
        cli_err("out of memory");
    else if (fk_escrow_authority_encode(text, FK_ESCROW_AUTHORITY_TEXT_MAX, &len, a))
        cli_err("cannot encode the new authority");
    else
        r = cli_write_new_file(path, text, len, 0);
    free(text);
    return r;
}


static int b64_32(uint8_t out[32], const char *s)
{
    size_t got;
    return strlen(s) == 43 && fk_b64_decode(out, 32, &got, s, 43) == FK_OK && got == 32;
}

static int cmd_init(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "authority", required_argument, NULL, 'a' }, { "threshold", required_argument, NULL, 't' },
        { "dealer", required_argument, NULL, 'd' },    { "participant", required_argument, NULL, 'p' },
        { "log", required_argument, NULL, 'l' },       { "log-vkey", required_argument, NULL, 'k' },
        { "log-policy", required_argument, NULL, 'P' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *apath = NULL, *out = NULL, *logurl = NULL, *vkey = NULL, *ppath = NULL;
    fk_reshare_session *s = calloc(1, sizeof *s);
    fk_escrow_authority *old = NULL;
    char *text = NULL, *end;
    int rc = FK_EXIT_USAGE;
    if (!s) {
        cli_err("out of memory");
        return FK_EXIT_FAIL;
    }
    const char *syn_ = syn_init;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'a': apath = optarg; break;
        case 'o': out = optarg; break;
        case 'l': logurl = optarg; break;
        case 'k': vkey = optarg; break;
        case 'P': ppath = optarg; break;
        case 't': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*optarg < '1' || *optarg > '9' || *end || v > FK_ESCROW_MAX_SHARES) {
                cli_err("--threshold must be a number from 1 to %u", FK_ESCROW_MAX_SHARES);
                goto out;
            }
            s->t = (unsigned)v;
            break;
        }
        case 'd': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (s->ndealers == FK_ESCROW_MAX_SHARES || *optarg < '1' || *optarg > '9' ||
                *end != ':' || v > FK_ESCROW_MAX_SHARES ||
                !b64_32(s->dealer_pk[s->ndealers], end + 1)) {
                cli_err("--dealer %s is not INDEX:PUBLIC_KEY (the old agent's index and the "
                        "public key 'fairkey authority dkg keygen' printed for it)",
                        optarg);
                goto out;
            }
            s->dealer[s->ndealers++] = (unsigned)v;
            break;
        }
        case 'p':
            if (s->n == FK_ESCROW_MAX_SHARES || !b64_32(s->pk[s->n], optarg)) {
                cli_err("--participant %s is not a participant public key (the line 'fairkey "
                        "authority dkg keygen' printed), or more than %u were given",
                        optarg, FK_ESCROW_MAX_SHARES);
                goto out;
            }
            s->n++;
            break;
        case 'h': printf("usage: fairkey %s\n", syn_); rc = FK_EXIT_OK; goto out;
        default: rc = cli_bad_option(c, argv, syn_); goto out;
        }
    }
    if (optind != argc || !apath || !out || !s->t || !s->ndealers || !s->n) {
        cli_err("--authority, --threshold, -o, one --dealer per dealer and one --participant per "
                "new agent are required");
        rc = cli_usage(syn_init);
        goto out;
    }
    if ((logurl || vkey) && (ppath || !logurl || !vkey)) {
        cli_err("a new log policy is --log URL and --log-vkey VKEY, or --log-policy FILE");
        rc = cli_usage(syn_init);
        goto out;
    }
    rc = FK_EXIT_FAIL;
    if (!(old = cli_load_authority(apath)))
        goto out;
    if (s->t > s->n) {
        cli_err("--threshold %u is larger than the %u new agents", s->t, s->n);
        goto out;
    }
    if (s->ndealers != old->t) {
        cli_err("authority %s is %u-of-%u: give exactly %u --dealer options (a quorum of its "
                "agents deals)",
                old->name, old->t, old->n, old->t);
        goto out;
    }
    /* Dealers in increasing index order (the session's canonical order). */
    for (unsigned a = 1; a < s->ndealers; a++)
        for (unsigned b = a; b > 0 && s->dealer[b - 1] > s->dealer[b]; b--) {
            unsigned ti = s->dealer[b];
            uint8_t tp[32];
            s->dealer[b] = s->dealer[b - 1];
            s->dealer[b - 1] = ti;
            memcpy(tp, s->dealer_pk[b], 32);
            memcpy(s->dealer_pk[b], s->dealer_pk[b - 1], 32);
            memcpy(s->dealer_pk[b - 1], tp, 32);
        }
    memcpy(s->authority_id, old->id, 32);
    memcpy(s->name, old->name, sizeof s->name);
    if (logurl || ppath) {
        if (cli_policy_for_authority(s->policy, &s->policy_len, logurl, vkey, ppath) < 0)
            goto out;
    } else {
        memcpy(s->policy, old->policy, old->policy_len);
        s->policy_len = old->policy_len;
    }
    fk_err e;
    if (fk_random(s->id, sizeof s->id) || (e = fk_reshare_session_context(s)) ||
        (e = fk_reshare_session_check_old(s, old))) {
        cli_err("the session is not valid: dealer indices must be distinct agents of %s "
                "(1..%u), dealer keys distinct and participant keys distinct",
                old->name, old->n);
        goto out;
    }
    size_t len;
    if (!(text = malloc(FK_RESHARE_SESSION_TEXT_MAX)) ||
        fk_reshare_session_encode(text, FK_RESHARE_SESSION_TEXT_MAX, &len, s) ||
        cli_write_new_file(out, text, len, 0) < 0)
        goto out;
    fprintf(stderr, "Wrote %s: %s %u-of-%u to %u-of-%u, dealt by agents", out, old->name, old->t,
            old->n, s->t, s->n);
    for (unsigned k = 0; k < s->ndealers; k++)
        fprintf(stderr, " %u", s->dealer[k]);
    fprintf(stderr, "; send it to every dealer and new agent\n");
    rc = FK_EXIT_OK;
out:
    free(text);
    free(old);
    free(s);
    return rc;
}

static int cmd_deal(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "authority", required_argument, NULL, 'a' }, { "session", required_argument, NULL, 's' },
        { "share", required_argument, NULL, 'S' },     { "key", required_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },            { NULL, 0, NULL, 0 },
    };
    const char *apath = NULL, *spath = NULL, *shpath = NULL, *kpath = NULL, *out = NULL;
    CLI_STEP_OPTS_BEGIN(syn_deal)
    case 'a': apath = optarg; break;
    case 's': spath = optarg; break;
    case 'S': shpath = optarg; break;
    case 'k': kpath = optarg; break;
    case 'o': out = optarg; break;
    CLI_STEP_OPTS_END
    if (optind != argc || !apath || !spath || !shpath || !kpath || !out) {
        cli_err("--authority, --session, --share, --key and -o are required");
        return cli_usage(syn_deal);
    }
    rs *R = rs_load(apath, spath);
    fk_escrow_share *share = NULL;
    uint8_t d[32] = { 0 }, p[32], *msg = NULL;
    int rc = FK_EXIT_FAIL;
    size_t len;
    fk_err e;
    if (!R || fk_escrow_share_alloc(&share, 1) || cli_load_share(shpath, share) < 0 ||
        cli_dkg_read_key(kpath, d, p) < 0)
        goto out;
    if (fk_escrow_share_verify(R->old, share)) {
        cli_err("%s is not a share of authority %s", shpath, R->old->name);
        goto out;
    }
    if (!(msg = malloc(fk_reshare_deal_len(&R->s))))
        goto out;
    if ((e = fk_reshare_deal(msg, fk_reshare_deal_len(&R->s), &len, &R->s, R->old, share, d))) {
        cli_err("agent %u cannot deal in this session: it is not one of its dealers, or %s is "
                "not the key the session lists for it (%s)",
                share->index, kpath, fk_strerror(e));
        goto out;
    }
    if (cli_dkg_write_msgs(out, R->ctxhex, dealt_magic, share->index, &msg, &len, 1) == 0) {
        fprintf(stderr, "Wrote %s (dealer %u); send it to the coordinator\n", out, share->index);
        rc = FK_EXIT_OK;
    }
out:
    fk_wipe(d, sizeof d);
    if (share)
        fk_escrow_share_free(share, 1);
    free(msg);
    rs_free(R);
    return rc;
}

static int cmd_collect(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "authority", required_argument, NULL, 'a' }, { "session", required_argument, NULL, 's' },
        { "entry", required_argument, NULL, 'E' },     { "authority-out", required_argument, NULL, 'A' },
        { "help", no_argument, NULL, 'h' },            { NULL, 0, NULL, 0 },
    };
    const char *apath = NULL, *spath = NULL, *out = NULL, *epath = NULL, *aout = NULL;
    CLI_STEP_OPTS_BEGIN(syn_collect)
    case 'a': apath = optarg; break;
    case 's': spath = optarg; break;
    case 'o': out = optarg; break;
    case 'E': epath = optarg; break;
    case 'A': aout = optarg; break;
    CLI_STEP_OPTS_END
    if (!apath || !spath || !out || optind == argc) {
        cli_err("--authority, --session, -o and the dealers' files are required");
        return cli_usage(syn_collect);
    }
    rs *R = rs_load(apath, spath);
    fk_escrow_authority *a = malloc(sizeof *a);
    char *entry = NULL;
    int rc = FK_EXIT_FAIL;
    if (!R || !a)
        goto out;
    if ((unsigned)(argc - optind) != R->s.ndealers) {
        cli_err("%d files given; the session has %u dealers and needs one from each",
                argc - optind, R->s.ndealers);
        goto out;
    }
    for (int k = optind; k < argc; k++) {
        unsigned from, pos = 0;
        uint8_t *d = NULL;
        size_t l;
        if (cli_dkg_load_msgs(argv[k], R->ctxhex, FK_ESCROW_MAX_SHARES, dealt_magic, &from, &d,
                              &l, 1) < 0)
            goto out;
        while (pos < R->s.ndealers && R->s.dealer[pos] != from)
            pos++;
        if (pos == R->s.ndealers || R->msg[pos]) {
            free(d);
            cli_err("%s is from agent %u, which is not a dealer of this session or gave two "
                    "files",
                    argv[k], from);
            goto out;
        }
        R->msg[pos] = d;
        R->len[pos] = l;
        fk_err e = fk_dkg_msg1_parse(&R->m[pos], d, l, R->s.t, R->s.n);
        if (e) {
            cli_err("dealer %u sent a malformed dealing (%s); the resharing is aborted: start a "
                    "new session",
                    from, fk_strerror(e));
            goto out;
        }
    }
    if (check_public(R, a) < 0)
        goto out;
    if (cli_dkg_write_msgs(out, R->ctxhex, bundle_magic, 0, R->msg, R->len, R->s.ndealers) < 0)
        goto out;
    if (epath) {
        const uint8_t *dealt[FK_ESCROW_MAX_SHARES];
        size_t len;
        for (unsigned k = 0; k < R->s.ndealers; k++)
            dealt[k] = R->m[k].commit;
        if (!(entry = malloc(FK_RESHARE_ENTRY_MAX + 1)))
            goto out;
        fk_err e = fk_reshare_entry_encode(entry, FK_RESHARE_ENTRY_MAX + 1, &len, &R->s, R->old,
                                           dealt, a->id);
        if (e) {
            cli_err("the log entry does not fit in one log entry (%s): %u dealers of %u "
                    "commitments are too many to log whole",
                    fk_strerror(e), R->s.ndealers, R->s.t);
            goto out;
        }
        if (cli_write_new_file(epath, entry, len, 0) < 0)
            goto out;
    }
    if (aout && write_authority(aout, a) < 0)
        goto out;
    char idhex[FK_ESCROW_ID_HEX_LEN];
    fk_escrow_id_hex(idhex, a->id);
    fprintf(stderr, "Every dealing checks: wrote %s (send it to every new agent); new authority "
                    "%s %u-of-%u, id %s\n",
            out, a->name, a->t, a->n, idhex);
    rc = FK_EXIT_OK;
out:
    free(entry);
    free(a);
    rs_free(R);
    return rc;
}

static int cmd_finish(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "authority", required_argument, NULL, 'a' }, { "session", required_argument, NULL, 's' },
        { "key", required_argument, NULL, 'k' },       { "bundle", required_argument, NULL, 'b' },
        { "out", required_argument, NULL, 'O' },       { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *apath = NULL, *spath = NULL, *kpath = NULL, *bpath = NULL, *dir = NULL;
    CLI_STEP_OPTS_BEGIN(syn_finish)
    case 'a': apath = optarg; break;
    case 's': spath = optarg; break;
    case 'k': kpath = optarg; break;
    case 'b': bpath = optarg; break;
    case 'O': dir = optarg; break;
    CLI_STEP_OPTS_END
    if (optind != argc || !apath || !spath || !kpath || !bpath || !dir) {
        cli_err("--authority, --session, --key, --bundle and --out are required");
        return cli_usage(syn_finish);
    }
    rs *R = rs_load(apath, spath);
    fk_escrow_authority *a = malloc(sizeof *a);
    fk_escrow_share *share = NULL;
    uint8_t d[32] = { 0 }, p[32];
    unsigned j = 0, blame;
    int rc = FK_EXIT_FAIL;
    fk_err e;
    if (!R || !a || cli_dkg_read_key(kpath, d, p) < 0)
        goto out;
    while (j < R->s.n && memcmp(R->s.pk[j], p, 32))
        j++;
    if (j++ == R->s.n) {
        cli_err("the key in %s is not a new agent of this session; ask the coordinator to list "
                "its public key",
                kpath);
        goto out;
    }
    if (load_bundle(bpath, R) < 0 || check_public(R, a) < 0 || fk_escrow_share_alloc(&share, 1))
        goto out;
    if ((e = fk_reshare_receive(share, a, &blame, &R->s, R->old, j, d, R->m))) {
        if (blame)
            cli_err("dealer %u misbehaved: %s; the resharing is aborted and nothing was written: "
                    "start a new session without it",
                    blame, cli_dkg_blame_reason(e));
        else
            cli_err("resharing failed: %s", fk_strerror(e));
        goto out;
    }
    rc = cli_authority_write_agent(dir, a, share, "; the recipient is unchanged") == 0
             ? FK_EXIT_OK
             : FK_EXIT_FAIL;
out:
    fk_wipe(d, sizeof d);
    if (share)
        fk_escrow_share_free(share, 1);
    free(a);
    rs_free(R);
    return rc;
}

int cli_authority_reshare(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } steps[] = {
        { "init", cmd_init },
        { "deal", cmd_deal },
        { "collect", cmd_collect },
        { "finish", cmd_finish },
    };
    if (argc < 2) {
        usage_all(stderr);
        return FK_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage_all(stdout);
        return FK_EXIT_OK;
    }
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++)
        if (!strcmp(argv[1], steps[k].name))
            return steps[k].fn(argc - 1, argv + 1);
    cli_err("unknown step 'authority reshare %s'; run 'fairkey authority reshare help'", argv[1]);
    return FK_EXIT_USAGE;
}
