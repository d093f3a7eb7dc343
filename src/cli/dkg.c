/*
 * fairkey authority dkg: a dealerless authority (C2SP COCKTAIL-DKG,
 * docs/spec.md section 9) as steps over files.  Participants (one per agent
 * organisation) hold a long-term participant key; a coordinator only relays
 * files and holds no secret.  And fairkey authority verify: an authority
 * file against its certified transcript.
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
#include "dkg.h"

static const char syn_keygen[] = "authority dkg keygen -o KEY_FILE";
static const char syn_public[] = "authority dkg public KEY_FILE";
static const char syn_init[] =
    "authority dkg init --threshold T --name NAME {--log URL --log-vkey VKEY | --log-policy FILE}\n"
    "                        --participant PUBLIC_KEY... -o SESSION";
static const char syn_round1[] = "authority dkg round1 --session SESSION --key KEY_FILE -o ROUND1";
static const char syn_collect[] = "authority dkg collect --session SESSION -o BUNDLE ROUND1...";
static const char syn_round2[] =
    "authority dkg round2 --session SESSION --key KEY_FILE --bundle BUNDLE -o SIGNATURE";
static const char syn_certify[] =
    "authority dkg certify --session SESSION --bundle BUNDLE -o TRANSCRIPT [--authority-out FILE]\n"
    "                        SIGNATURE...";
static const char syn_finish[] =
    "authority dkg finish --session SESSION --key KEY_FILE --bundle BUNDLE\n"
    "                        --transcript TRANSCRIPT --out DIR";
const char cli_dkg_syn_serve[] =
    "authority dkg serve --session SESSION --listen HOST:PORT [--state DIR] [--linger S]";
const char cli_dkg_syn_join[] =
    "authority dkg join --coordinator URL --key KEY_FILE --out DIR [--timeout S]";
static const char syn_verify[] = "authority verify [--receipt RECEIPT] AUTHORITY_FILE TRANSCRIPT";

static const char key_magic[] = "fairkey dkg participant v1";
static const char session_magic[] = "fairkey dkg session v1";
static const char round1_magic[] = "fairkey dkg round1 v1";
static const char bundle_magic[] = "fairkey dkg round1-bundle v1";
static const char sig_magic[] = "fairkey dkg signature v1";
#define DKG_FILE_MAX CLI_DKG_FILE_MAX

static void usage_all(FILE *f)
{
    fprintf(f,
            "usage: fairkey %s\n       fairkey %s\n       fairkey %s\n       fairkey %s\n"
            "       fairkey %s\n       fairkey %s\n       fairkey %s\n       fairkey %s\n"
            "       fairkey %s\n       fairkey %s\n       fairkey %s\n"
            "\n"
            "A dealerless T-of-N authority (COCKTAIL-DKG): no process ever holds its secret.\n"
            "keygen    a participant's long-term key (secret, mode 0600); prints its public key\n"
            "init      coordinator: the session file (participants in order, name, log policy)\n"
            "round1    participant: commitments and encrypted shares\n"
            "collect   coordinator: relay every round1 file as one bundle (checks the PoPs)\n"
            "round2    participant: check every share (naming a cheater), sign the transcript\n"
            "certify   coordinator: collect the signatures into the certified transcript\n"
            "finish    participant: check the certificate, write authority.pub and share-<i>.key\n"
            "serve     coordinator over HTTP: relay the rounds with collect's and certify's checks\n"
            "join      participant over HTTP: every round against the coordinator, then finish\n",
            syn_keygen, syn_public, syn_init, syn_round1, syn_collect, syn_round2, syn_certify,
            syn_finish, cli_dkg_syn_serve, cli_dkg_syn_join, syn_verify);
}

/* ---- small text helpers -------------------------------------------------- */

typedef struct lines {
    const char *p, *end;
} lines;

/* The next line "key value" (value may be empty for key == whole line). */
static int next_line(lines *l, const char *key, const char **val, size_t *vlen)
{
    const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
    size_t n, kl = strlen(key);

    if (!nl)
        return 0;
    n = (size_t)(nl - l->p);
    if (val) {
        if (n < kl + 2 || memcmp(l->p, key, kl) || l->p[kl] != ' ')
            return 0;
        *val = l->p + kl + 1;
        *vlen = n - kl - 1;
    } else if (n != kl || memcmp(l->p, key, kl)) {
        return 0;
    }
    l->p = nl + 1;
    return 1;
}

static int peek(const lines *l, const char *prefix)
{
    size_t pl = strlen(prefix);
    return (size_t)(l->end - l->p) > pl && !memcmp(l->p, prefix, pl);
}

static int parse_index(const char *s, size_t n, unsigned max, unsigned *out)
{
    unsigned v = 0;
    if (n < 1 || n > 3 || (n > 1 && s[0] == '0'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v < 1 || v > max)
        return 0;
    *out = v;
    return 1;
}

static int b64_32(uint8_t out[32], const char *s, size_t n)
{
    size_t got;
    return n == 43 && fk_b64_decode(out, 32, &got, s, n) == FK_OK && got == 32;
}

/* Padded base64 of a message into a new buffer. */
static uint8_t *b64_msg(const char *s, size_t n, size_t *len)
{
    uint8_t *p = malloc(n / 4 * 3 + 3);
    if (!p)
        return NULL;
    if (fk_b64_decode_padded(p, n / 4 * 3 + 3, len, s, n) != FK_OK) {
        free(p);
        return NULL;
    }
    return p;
}

/* ---- the session ---------------------------------------------------------- */

typedef cli_dkg_session session;

void cli_dkg_session_free(session *S)
{
    if (!S)
        return;
    for (unsigned j = 0; j < FK_DKG_MAX_PARTICIPANTS; j++)
        free(S->msg[j]);
    free(S);
}

/* Context and extension from the fields. */
static int session_derive(session *S)
{
    fk_err e;
    if ((e = fk_dkg_context(S->context, S->sid, 32, S->n, (const uint8_t(*)[32])S->pk)) ||
        (e = fk_dkg_authority_ext(S->ext, sizeof S->ext, &S->ext_len, S->name, S->policy,
                                  S->policy_len))) {
        cli_err("cannot derive the session context: %s", fk_strerror(e));
        return -1;
    }
    fk_hex_encode(S->ctxhex, S->context, FK_DKG_CONTEXT_LEN);
    S->s = (fk_dkg_session){ S->t, S->n, (const uint8_t(*)[32])S->pk, S->context,
                             FK_DKG_CONTEXT_LEN, (const uint8_t *)S->ext, S->ext_len };
    if ((e = fk_dkg_session_check(&S->s))) {
        cli_err("the session is not valid: %s (participant keys must be distinct)",
                fk_strerror(e));
        return -1;
    }
    return 0;
}

session *cli_dkg_session_parse(const char *text, size_t len, const char *what)
{
    char pol[FK_ESCROW_POLICY_MAX + 1];
    size_t vn, pl = 0;
    const char *v;
    session *S = calloc(1, sizeof *S);
    if (!S) {
        cli_err("out of memory");
        return NULL;
    }
    lines l = { text, text + len };
    unsigned t = 0;
    if (!next_line(&l, session_magic, NULL, NULL) || !next_line(&l, "name", &v, &vn) ||
        vn > FK_ESCROW_NAME_MAX)
        goto bad;
    memcpy(S->name, v, vn);
    if (!next_line(&l, "threshold", &v, &vn) || !parse_index(v, vn, FK_DKG_MAX_PARTICIPANTS, &t))
        goto bad;
    while (peek(&l, "participant ")) {
        if (S->n == FK_DKG_MAX_PARTICIPANTS || !next_line(&l, "participant", &v, &vn) ||
            !b64_32(S->pk[S->n], v, vn))
            goto bad;
        S->n++;
    }
    while (peek(&l, "policy ")) {
        if (!next_line(&l, "policy", &v, &vn) || pl + vn + 1 > FK_ESCROW_POLICY_MAX)
            goto bad;
        memcpy(pol + pl, v, vn);
        pol[pl + vn] = '\n';
        pl += vn + 1;
    }
    if (!next_line(&l, "id", &v, &vn) || vn != 64 || fk_hex_decode(S->sid, 32, v, vn) ||
        l.p != l.end || t > S->n)
        goto bad;
    S->t = t;
    if (fk_escrow_policy_canonical(S->policy, sizeof S->policy, &S->policy_len, pol, pl) ||
        S->policy_len != pl || memcmp(S->policy, pol, pl))
        goto bad;
    if (session_derive(S) < 0) {
        free(S);
        return NULL;
    }
    return S;
bad:
    free(S);
    cli_err("%s is not a valid fairkey dkg session file; use the one 'fairkey authority dkg "
            "init' wrote",
            what);
    return NULL;
}

static session *load_session(const char *path)
{
    char *text = NULL;
    size_t len;
    if (cli_read_file(path, CLI_DKG_SESSION_MAX, 0, &text, &len) < 0)
        return NULL;
    session *S = cli_dkg_session_parse(text, len, path);
    free(text);
    return S;
}

int cli_dkg_read_key(const char *path, uint8_t d[32], uint8_t p[32])
{
    char *text = NULL;
    size_t len, vn;
    const char *v;
    if (cli_read_file(path, 256, 1, &text, &len) < 0)
        return -1;
    lines l = { text, text + len };
    int ok = next_line(&l, key_magic, NULL, NULL) && next_line(&l, "secret", &v, &vn) &&
             b64_32(d, v, vn) && l.p == l.end && fk_dkg_public(p, d) == FK_OK;
    cli_free_secret(text, len);
    if (!ok) {
        fk_wipe(d, 32);
        cli_err("%s is not a valid fairkey dkg participant key; make one with 'fairkey "
                "authority dkg keygen'",
                path);
        return -1;
    }
    return 0;
}

/* A participant key file: the secret d, its public key and index. */
int cli_dkg_load_key(const char *path, const session *S, uint8_t d[32], unsigned *index)
{
    uint8_t p[32];
    if (cli_dkg_read_key(path, d, p) < 0)
        return -1;
    if (S) {
        for (unsigned j = 0; j < S->n; j++)
            if (!memcmp(S->pk[j], p, 32)) {
                *index = j + 1;
                return 0;
            }
        fk_wipe(d, 32);
        cli_err("the key in %s is not a participant of this session; ask the coordinator to "
                "list its public key ('fairkey authority dkg public %s')",
                path, path);
        return -1;
    }
    return 0;
}

/* A message envelope of kind magic for this session: "context", then for a
 * single message "from" (into *from), then count "data" lines.  what names
 * it in errors. */
int cli_dkg_parse_msgs(const char *text, size_t len, const char *what, const char *ctxhex,
                       unsigned nfrom, const char *magic, unsigned *from, uint8_t **data,
                       size_t *dlen, unsigned count)
{
    size_t vn;
    const char *v;
    lines l = { text, text + len };
    unsigned k = 0;
    if (!next_line(&l, magic, NULL, NULL) || !next_line(&l, "context", &v, &vn))
        goto bad;
    if (vn != 2 * FK_DKG_CONTEXT_LEN || memcmp(v, ctxhex, vn)) {
        cli_err("%s belongs to another ceremony (its context differs from the session's)", what);
        return -1;
    }
    if (from && (!next_line(&l, "from", &v, &vn) || !parse_index(v, vn, nfrom, from)))
        goto bad;
    for (; k < count; k++)
        if (!next_line(&l, "data", &v, &vn) || !(data[k] = b64_msg(v, vn, &dlen[k])))
            goto bad;
    if (l.p != l.end)
        goto bad;
    return 0;
bad:
    for (unsigned i = 0; i < k; i++) {
        free(data[i]);
        data[i] = NULL;
    }
    cli_err("%s is not a valid '%s' file", what, magic);
    return -1;
}

int cli_dkg_load_msgs(const char *path, const char *ctxhex, unsigned nfrom, const char *magic,
                      unsigned *from, uint8_t **data, size_t *dlen, unsigned count)
{
    char *text = NULL;
    size_t len;
    if (cli_read_file(path, DKG_FILE_MAX, 0, &text, &len) < 0)
        return -1;
    int r = cli_dkg_parse_msgs(text, len, path, ctxhex, nfrom, magic, from, data, dlen, count);
    free(text);
    return r;
}

/* The bundle: every participant's msg1, parsed. */
int cli_dkg_bundle_parse(session *S, const char *text, size_t len, const char *what)
{
    size_t dl[FK_DKG_MAX_PARTICIPANTS];
    if (cli_dkg_parse_msgs(text, len, what, S->ctxhex, S->n, bundle_magic, NULL, S->msg, dl,
                           S->n) < 0)
        return -1;
    for (unsigned j = 0; j < S->n; j++) {
        S->len[j] = dl[j];
        fk_err e = fk_dkg_msg1_parse(&S->m[j], S->msg[j], dl[j], S->t, S->n);
        if (e) {
            cli_err("the round 1 message of participant %u in %s is malformed (%s): participant "
                    "%u misbehaved, or the coordinator altered it; the ceremony is aborted",
                    j + 1, what, fk_strerror(e), j + 1);
            return -1;
        }
    }
    return 0;
}

static int load_bundle(const char *path, session *S)
{
    char *text = NULL;
    size_t len;
    if (cli_read_file(path, DKG_FILE_MAX, 0, &text, &len) < 0)
        return -1;
    int r = cli_dkg_bundle_parse(S, text, len, path);
    free(text);
    return r;
}

/* T of the session and bundle (malloc'd). */
uint8_t *cli_dkg_transcript(const session *S, size_t *tlen)
{
    size_t cap = fk_dkg_transcript_len(&S->s);
    uint8_t *t = malloc(cap);
    fk_err e;
    if (!t) {
        cli_err("out of memory");
        return NULL;
    }
    if ((e = fk_dkg_transcript(t, cap, tlen, &S->s, S->m))) {
        free(t);
        cli_err("cannot build the transcript: %s", fk_strerror(e));
        return NULL;
    }
    return t;
}

/* "magic / context / [from] / data..." (malloc'd, *len bytes). */
char *cli_dkg_encode_msgs(const char *ctxhex, const char *magic, unsigned from,
                          uint8_t *const *data, const size_t *dlen, unsigned count, size_t *len)
{
    size_t cap = strlen(magic) + 200, o;
    for (unsigned k = 0; k < count; k++)
        cap += 6 + fk_b64_enc_len_padded(dlen[k]);
    char *out = malloc(cap);
    if (!out) {
        cli_err("out of memory");
        return NULL;
    }
    o = (size_t)snprintf(out, cap, "%s\ncontext %s\n", magic, ctxhex);
    if (from)
        o += (size_t)snprintf(out + o, cap - o, "from %u\n", from);
    for (unsigned k = 0; k < count; k++) {
        memcpy(out + o, "data ", 5);
        o += 5;
        o += fk_b64_encode_padded_public(out + o, data[k], dlen[k]);
        out[o++] = '\n';
    }
    *len = o;
    return out;
}

int cli_dkg_write_msgs(const char *path, const char *ctxhex, const char *magic, unsigned from,
                       uint8_t *const *data, const size_t *dlen, unsigned count)
{
    size_t len;
    char *out = cli_dkg_encode_msgs(ctxhex, magic, from, data, dlen, count, &len);
    if (!out)
        return -1;
    int r = cli_write_new_file(path, out, len, 0);
    free(out);
    return r;
}

/* ---- the steps ------------------------------------------------------------- */


static int cmd_keygen(int argc, char **argv)
{
    static const struct option longopts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    const char *out = NULL;
    CLI_STEP_OPTS_BEGIN(syn_keygen)
    case 'o': out = optarg; break;
    CLI_STEP_OPTS_END
    if (!out || optind != argc) {
        cli_err("give the key file to create with -o");
        return cli_usage(syn_keygen);
    }
    uint8_t d[32], p[32];
    char b64[64], text[128];
    fk_err e = fk_dkg_keypair(d, p);
    if (e) {
        cli_err("cannot make a key: %s", fk_strerror(e));
        return FK_EXIT_FAIL;
    }
    fk_b64_encode(b64, d, 32);
    int n = snprintf(text, sizeof text, "%s\nsecret %s\n", key_magic, b64);
    int r = cli_write_new_file(out, text, (size_t)n, 1);
    fk_wipe(d, sizeof d);
    fk_wipe(b64, sizeof b64);
    fk_wipe(text, sizeof text);
    if (r < 0)
        return FK_EXIT_FAIL;
    fk_b64_encode(b64, p, 32);
    printf("%s\n", b64);
    return fflush(stdout) == 0 ? FK_EXIT_OK : FK_EXIT_FAIL;
}

static int cmd_public(int argc, char **argv)
{
    static const struct option longopts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    CLI_STEP_OPTS_BEGIN(syn_public)
    CLI_STEP_OPTS_END
    if (argc - optind != 1)
        return cli_usage(syn_public);
    uint8_t d[32], p[32];
    char b64[64];
    unsigned idx;
    if (cli_dkg_load_key(argv[optind], NULL, d, &idx) < 0)
        return FK_EXIT_FAIL;
    fk_dkg_public(p, d);
    fk_wipe(d, sizeof d);
    fk_b64_encode(b64, p, 32);
    printf("%s\n", b64);
    return fflush(stdout) == 0 ? FK_EXIT_OK : FK_EXIT_FAIL;
}

static int cmd_init(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "threshold", required_argument, NULL, 't' }, { "name", required_argument, NULL, 'N' },
        { "log", required_argument, NULL, 'l' },       { "log-vkey", required_argument, NULL, 'k' },
        { "log-policy", required_argument, NULL, 'P' }, { "participant", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },            { NULL, 0, NULL, 0 },
    };
    const char *out = NULL, *name = NULL, *logurl = NULL, *vkey = NULL, *ppath = NULL;
    unsigned t = 0;
    session *S = calloc(1, sizeof *S);
    if (!S) {
        cli_err("out of memory");
        return FK_EXIT_FAIL;
    }
    int rc = FK_EXIT_USAGE;
    const char *syn_ = syn_init;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'N': name = optarg; break;
        case 'l': logurl = optarg; break;
        case 'k': vkey = optarg; break;
        case 'P': ppath = optarg; break;
        case 't':
            if (!parse_index(optarg, strlen(optarg), FK_DKG_MAX_PARTICIPANTS, &t)) {
                cli_err("--threshold must be a number from 1 to %u", FK_DKG_MAX_PARTICIPANTS);
                goto out;
            }
            break;
        case 'p':
            if (S->n == FK_DKG_MAX_PARTICIPANTS) {
                cli_err("at most %u participants", FK_DKG_MAX_PARTICIPANTS);
                goto out;
            }
            if (!b64_32(S->pk[S->n], optarg, strlen(optarg))) {
                cli_err("--participant %s is not a participant public key (the line 'fairkey "
                        "authority dkg keygen' printed)",
                        optarg);
                goto out;
            }
            S->n++;
            break;
        case 'h': printf("usage: fairkey %s\n", syn_); rc = FK_EXIT_OK; goto out;
        default: rc = cli_bad_option(c, argv, syn_); goto out;
        }
    }
    if (optind != argc || !out || !name || !t || !S->n) {
        cli_err("--threshold, --name, -o and one --participant per agent are required");
        rc = cli_usage(syn_init);
        goto out;
    }
    if (t > S->n) {
        cli_err("--threshold %u is larger than the %u participants", t, S->n);
        goto out;
    }
    if (ppath ? logurl || vkey : !logurl || !vkey) {
        cli_err("name the authority's log: --log URL and --log-vkey VKEY, or --log-policy FILE "
                "(not both)");
        rc = cli_usage(syn_init);
        goto out;
    }
    rc = FK_EXIT_FAIL;
    size_t nl = strlen(name);
    if (nl < 1 || nl > FK_ESCROW_NAME_MAX ||
        strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != nl) {
        cli_err("--name must be 1 to %d characters of A-Z a-z 0-9 . _ -", FK_ESCROW_NAME_MAX);
        goto out;
    }
    memcpy(S->name, name, nl);
    S->t = t;
    if (cli_policy_for_authority(S->policy, &S->policy_len, logurl, vkey, ppath) < 0)
        goto out;
    if (fk_random(S->sid, sizeof S->sid) || session_derive(S) < 0)
        goto out;
    size_t cap = 256 + S->n * 60 + S->policy_len * 2 + 200, o;
    char *text = malloc(cap), b64[64], hex[65];
    if (!text) {
        cli_err("out of memory");
        goto out;
    }
    o = (size_t)snprintf(text, cap, "%s\nname %s\nthreshold %u\n", session_magic, S->name, S->t);
    for (unsigned j = 0; j < S->n; j++) {
        fk_b64_encode(b64, S->pk[j], 32);
        o += (size_t)snprintf(text + o, cap - o, "participant %s\n", b64);
    }
    for (size_t p = 0; p < S->policy_len;) {
        const char *e = memchr(S->policy + p, '\n', S->policy_len - p);
        size_t ll = (size_t)(e - (S->policy + p));
        o += (size_t)snprintf(text + o, cap - o, "policy %.*s\n", (int)ll, S->policy + p);
        p += ll + 1;
    }
    fk_hex_encode(hex, S->sid, 32);
    o += (size_t)snprintf(text + o, cap - o, "id %s\n", hex);
    if (cli_write_new_file(out, text, o, 0) == 0) {
        fprintf(stderr, "Wrote %s: %u-of-%u session for authority %s; send it to every "
                        "participant\n", out, S->t, S->n, S->name);
        rc = FK_EXIT_OK;
    }
    free(text);
out:
    free(S);
    return rc;
}

char *cli_dkg_round1(const session *S, unsigned i, const uint8_t d[32], size_t *len)
{
    size_t cap = fk_dkg_msg1_len(S->t, S->n), ml;
    uint8_t *msg = malloc(cap);
    char *text = NULL;
    fk_err e;
    if (!msg)
        cli_err("out of memory");
    else if ((e = fk_dkg_round1(msg, cap, &ml, &S->s, i, d)))
        cli_err("round 1 failed: %s; join a new session", fk_strerror(e));
    else
        text = cli_dkg_encode_msgs(S->ctxhex, round1_magic, i, &msg, &ml, 1, len);
    free(msg);
    return text;
}

static int cmd_round1(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "session", required_argument, NULL, 's' }, { "key", required_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *spath = NULL, *kpath = NULL, *out = NULL;
    CLI_STEP_OPTS_BEGIN(syn_round1)
    case 's': spath = optarg; break;
    case 'k': kpath = optarg; break;
    case 'o': out = optarg; break;
    CLI_STEP_OPTS_END
    if (optind != argc || !spath || !kpath || !out) {
        cli_err("--session, --key and -o are required");
        return cli_usage(syn_round1);
    }
    session *S = load_session(spath);
    uint8_t d[32];
    unsigned i;
    int rc = FK_EXIT_FAIL;
    char *text = NULL;
    size_t len;
    if (!S || cli_dkg_load_key(kpath, S, d, &i) < 0)
        goto out;
    text = cli_dkg_round1(S, i, d, &len);
    fk_wipe(d, sizeof d);
    if (text && cli_write_new_file(out, text, len, 0) == 0) {
        fprintf(stderr, "Wrote %s (participant %u of %u); send it to the coordinator\n", out, i,
                S->n);
        rc = FK_EXIT_OK;
    }
out:
    free(text);
    cli_dkg_session_free(S);
    return rc;
}

int cli_dkg_collect_add(session *S, const char *text, size_t len, const char *what,
                        unsigned want, unsigned *from)
{
    uint8_t *d = NULL;
    size_t l;
    *from = 0;
    if (cli_dkg_parse_msgs(text, len, what, S->ctxhex, S->n, round1_magic, from, &d, &l, 1) < 0)
        return -1;
    if (want && *from != want) {
        free(d);
        cli_err("%s is participant %u's round 1 message, not participant %u's", what, *from, want);
        return -1;
    }
    if (S->msg[*from - 1]) {
        int same = S->len[*from - 1] == l && !memcmp(S->msg[*from - 1], d, l);
        free(d);
        if (same)
            return 1;
        cli_err("%s: a second, different round 1 message from participant %u; give one each",
                what, *from);
        return -1;
    }
    fk_err e = fk_dkg_msg1_parse(&S->m[*from - 1], d, l, S->t, S->n);
    if (e) {
        free(d);
        cli_err("participant %u sent a malformed round 1 message (%s); refused: without a "
                "valid one from it there is no ceremony",
                *from, fk_strerror(e));
        return -1;
    }
    S->msg[*from - 1] = d;
    S->len[*from - 1] = l;
    return 0;
}

char *cli_dkg_collect_bundle(session *S, size_t *len, unsigned *blame)
{
    /* The PoPs are public: a coordinator refuses a bad one at once. */
    size_t tlen;
    fk_dkg_transcript_view v;
    uint8_t *t = cli_dkg_transcript(S, &tlen);
    char *text = NULL;
    *blame = 0;
    if (!t)
        return NULL;
    if (fk_dkg_transcript_parse(&v, t, tlen) || fk_dkg_transcript_check_pops(&v, blame))
        cli_err("participant %u's proof of possession does not verify; the ceremony is "
                "aborted: start a new session",
                *blame);
    else
        text = cli_dkg_encode_msgs(S->ctxhex, bundle_magic, 0, S->msg, S->len, S->n, len);
    free(t);
    return text;
}

static int cmd_collect(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "session", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *spath = NULL, *out = NULL;
    CLI_STEP_OPTS_BEGIN(syn_collect)
    case 's': spath = optarg; break;
    case 'o': out = optarg; break;
    CLI_STEP_OPTS_END
    if (!spath || !out || optind == argc) {
        cli_err("--session, -o and the participants' round1 files are required");
        return cli_usage(syn_collect);
    }
    session *S = load_session(spath);
    char *text = NULL, *bundle = NULL;
    size_t len;
    unsigned from, blame;
    int rc = FK_EXIT_FAIL;
    if (!S)
        goto out;
    if ((unsigned)(argc - optind) != S->n) {
        cli_err("%d round1 files given; the session has %u participants and needs one from each",
                argc - optind, S->n);
        goto out;
    }
    for (int k = optind; k < argc; k++) {
        if (cli_read_file(argv[k], DKG_FILE_MAX, 0, &text, &len) < 0)
            goto out;
        int r = cli_dkg_collect_add(S, text, len, argv[k], 0, &from);
        free(text);
        text = NULL;
        if (r == 1)
            cli_err("two round1 files from participant %u (%s); give one each", from, argv[k]);
        if (r != 0)
            goto out;
    }
    if (!(bundle = cli_dkg_collect_bundle(S, &len, &blame)))
        goto out;
    if (cli_write_new_file(out, bundle, len, 0) == 0) {
        fprintf(stderr, "Wrote %s; send it to every participant\n", out);
        rc = FK_EXIT_OK;
    }
out:
    free(bundle);
    cli_dkg_session_free(S);
    return rc;
}

const char *cli_dkg_blame_reason(fk_err e)
{
    switch (e) {
    case FK_ERR_SIGNATURE: return "its proof of possession does not verify";
    case FK_ERR_CRYPTO: return "its share for you does not decrypt";
    case FK_ERR_INVALID: return "its share for you is not a valid scalar";
    case FK_ERR_PROOF: return "its share for you does not match its commitments";
    default: return fk_strerror(e);
    }
}

/* Round 2 for participant i: check every share; x_i stays in out. */
static int run_round2(const session *S, unsigned i, const uint8_t d[32], fk_dkg_output *out,
                      unsigned *blame)
{
    fk_err e = fk_dkg_round2(out, blame, &S->s, i, d, S->m);
    if (e && *blame) {
        cli_err("participant %u misbehaved: %s; the ceremony is aborted and nothing was "
                "written: start a new session without it",
                *blame, cli_dkg_blame_reason(e));
        return -1;
    }
    if (e) {
        *blame = 0;
        cli_err("round 2 failed: %s", fk_strerror(e));
        return -1;
    }
    return 0;
}

char *cli_dkg_round2(const session *S, unsigned i, const uint8_t d[32], size_t *len,
                     unsigned *blame)
{
    uint8_t sig[64], *sp = sig, *t = NULL;
    size_t tlen, sl = 64;
    fk_dkg_output o;
    char *text = NULL;
    memset(&o, 0, sizeof o);
    *blame = 0;
    if (run_round2(S, i, d, &o, blame) < 0 || !(t = cli_dkg_transcript(S, &tlen)))
        goto out;
    if (fk_dkg_sign(sig, d, t, tlen)) {
        cli_err("signing the transcript failed; join a new session");
        goto out;
    }
    text = cli_dkg_encode_msgs(S->ctxhex, sig_magic, i, &sp, &sl, 1, len);
out:
    fk_wipe(&o, sizeof o);
    free(t);
    return text;
}

static int cmd_round2(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "session", required_argument, NULL, 's' }, { "key", required_argument, NULL, 'k' },
        { "bundle", required_argument, NULL, 'b' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *spath = NULL, *kpath = NULL, *bpath = NULL, *out = NULL;
    CLI_STEP_OPTS_BEGIN(syn_round2)
    case 's': spath = optarg; break;
    case 'k': kpath = optarg; break;
    case 'b': bpath = optarg; break;
    case 'o': out = optarg; break;
    CLI_STEP_OPTS_END
    if (optind != argc || !spath || !kpath || !bpath || !out) {
        cli_err("--session, --key, --bundle and -o are required");
        return cli_usage(syn_round2);
    }
    session *S = load_session(spath);
    uint8_t d[32] = { 0 };
    unsigned i, blame;
    int rc = FK_EXIT_FAIL;
    char *text = NULL;
    size_t len;
    if (!S || cli_dkg_load_key(kpath, S, d, &i) < 0 || load_bundle(bpath, S) < 0)
        goto out;
    if (!(text = cli_dkg_round2(S, i, d, &len, &blame)))
        goto out;
    if (cli_write_new_file(out, text, len, 0) == 0) {
        fprintf(stderr, "Checked all %u shares; wrote %s (participant %u's signature of the "
                        "transcript); send it to the coordinator\n", S->n, out, i);
        rc = FK_EXIT_OK;
    }
out:
    fk_wipe(d, sizeof d);
    free(text);
    cli_dkg_session_free(S);
    return rc;
}

/* Write the authority file of certified T to path. */
static int write_authority(const char *path, const uint8_t *t, size_t tlen,
                           fk_escrow_authority *a)
{
    fk_dkg_transcript_view v;
    char *text = malloc(FK_ESCROW_AUTHORITY_TEXT_MAX);
    size_t len;
    fk_err e;
    int r = -1;
    if (!text) {
        cli_err("out of memory");
        return -1;
    }
    if ((e = fk_dkg_transcript_parse(&v, t, tlen)) || (e = fk_dkg_authority_from_transcript(a, &v)) ||
        (e = fk_escrow_authority_encode(text, FK_ESCROW_AUTHORITY_TEXT_MAX, &len, a)))
        cli_err("cannot build the authority from the transcript: %s", fk_strerror(e));
    else
        r = cli_write_new_file(path, text, len, 0);
    free(text);
    return r;
}

int cli_dkg_certify_add(const session *S, uint8_t (*sigs)[64], int *have, const char *text,
                        size_t len, const char *what, unsigned want, const uint8_t *t,
                        size_t tlen, unsigned *blame)
{
    unsigned from;
    uint8_t *d = NULL;
    size_t l;
    *blame = 0;
    if (cli_dkg_parse_msgs(text, len, what, S->ctxhex, S->n, sig_magic, &from, &d, &l, 1) < 0)
        return -1;
    if (want && from != want) {
        free(d);
        cli_err("%s is participant %u's signature, not participant %u's", what, from, want);
        return -1;
    }
    if (l == 64 && have[from - 1] && !memcmp(sigs[from - 1], d, 64)) {
        free(d);
        *blame = from;
        return 1;
    }
    if (l != 64 || have[from - 1]) {
        free(d);
        cli_err("%s: a second or malformed signature of participant %u", what, from);
        return -1;
    }
    if (t && fk_dkg_verify(d, S->pk[from - 1], t, tlen)) {
        free(d);
        *blame = from;
        cli_err("participant %u's signature does not verify over the transcript of this bundle: "
                "it saw other round 1 messages (a split view) or signed something else; "
                "certification failed and no authority exists",
                from);
        return -1;
    }
    memcpy(sigs[from - 1], d, 64);
    have[from - 1] = 1;
    free(d);
    return 0;
}

char *cli_dkg_certify(const session *S, const uint8_t (*sigs)[64], size_t *len, unsigned *blame)
{
    size_t tlen, cap;
    fk_dkg_transcript_view v;
    uint8_t *t = cli_dkg_transcript(S, &tlen);
    char *text = NULL;
    *blame = 0;
    if (!t || fk_dkg_transcript_parse(&v, t, tlen))
        goto out;
    if (fk_dkg_certificate_verify(&v, t, tlen, sigs, blame)) {
        cli_err("participant %u's signature does not verify over the transcript of this bundle: "
                "it saw other round 1 messages (a split view) or signed something else; "
                "certification failed and no authority exists",
                *blame);
        goto out;
    }
    cap = fk_dkg_certified_text_len(tlen, S->n);
    if (!(text = malloc(cap)) || fk_dkg_certified_encode(text, cap, len, t, tlen, sigs, S->n)) {
        cli_err("cannot encode the certified transcript");
        free(text);
        text = NULL;
    }
out:
    free(t);
    return text;
}

static int cmd_certify(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "session", required_argument, NULL, 's' }, { "bundle", required_argument, NULL, 'b' },
        { "authority-out", required_argument, NULL, 'A' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *spath = NULL, *bpath = NULL, *out = NULL, *aout = NULL;
    CLI_STEP_OPTS_BEGIN(syn_certify)
    case 's': spath = optarg; break;
    case 'b': bpath = optarg; break;
    case 'o': out = optarg; break;
    case 'A': aout = optarg; break;
    CLI_STEP_OPTS_END
    if (!spath || !bpath || !out || optind == argc) {
        cli_err("--session, --bundle, -o and the participants' signature files are required");
        return cli_usage(syn_certify);
    }
    session *S = load_session(spath);
    uint8_t(*sigs)[64] = calloc(FK_DKG_MAX_PARTICIPANTS, 64), *t = NULL;
    int have[FK_DKG_MAX_PARTICIPANTS] = { 0 }, rc = FK_EXIT_FAIL;
    char *text = NULL, *stext = NULL;
    size_t len, tlen;
    unsigned blame;
    fk_escrow_authority *a = malloc(sizeof *a);
    if (!S || !sigs || !a || load_bundle(bpath, S) < 0)
        goto out;
    if ((unsigned)(argc - optind) != S->n) {
        cli_err("%d signature files given; the session has %u participants and needs one from "
                "each",
                argc - optind, S->n);
        goto out;
    }
    for (int k = optind; k < argc; k++) {
        if (cli_read_file(argv[k], DKG_FILE_MAX, 0, &stext, &len) < 0)
            goto out;
        int r = cli_dkg_certify_add(S, sigs, have, stext, len, argv[k], 0, NULL, 0, &blame);
        free(stext);
        stext = NULL;
        if (r == 1)
            cli_err("%s: a second signature of participant %u; give one each", argv[k], blame);
        if (r != 0)
            goto out;
    }
    if (!(text = cli_dkg_certify(S, (const uint8_t(*)[64])sigs, &len, &blame)) ||
        cli_write_new_file(out, text, len, 0) < 0)
        goto out;
    if (aout && (!(t = cli_dkg_transcript(S, &tlen)) || write_authority(aout, t, tlen, a) < 0))
        goto out;
    fprintf(stderr, "Certified by all %u participants: wrote %s; send it to every participant\n",
            S->n, out);
    rc = FK_EXIT_OK;
out:
    free(text);
    free(t);
    free(sigs);
    free(a);
    cli_dkg_session_free(S);
    return rc;
}

int cli_dkg_finish(const session *S, unsigned i, const uint8_t d[32], const char *ctext,
                   size_t clen, const char *what, const char *dir)
{
    uint8_t *t = NULL, *ct = NULL, (*sigs)[64] = calloc(FK_DKG_MAX_PARTICIPANTS, 64);
    fk_escrow_authority *a = malloc(sizeof *a);
    fk_escrow_share *share = NULL;
    fk_dkg_output o;
    unsigned blame;
    int rc = -1;
    size_t tlen, ctl;
    fk_dkg_transcript_view v;
    fk_err e;
    memset(&o, 0, sizeof o);
    if (!a || !sigs) {
        cli_err("out of memory");
        goto out;
    }
    if (run_round2(S, i, d, &o, &blame) < 0 || !(t = cli_dkg_transcript(S, &tlen)))
        goto out;
    if (!(ct = malloc(clen + 1)) ||
        fk_dkg_certified_parse(&v, ct, clen + 1, &ctl, sigs, ctext, clen)) {
        cli_err("%s is not a valid certified transcript", what);
        goto out;
    }
    if (ctl != tlen || memcmp(ct, t, tlen)) {
        cli_err("%s certifies another transcript than the one your round 1 messages make: the "
                "coordinator showed participants different messages; no authority exists",
                what);
        goto out;
    }
    if (fk_dkg_certificate_verify(&v, t, tlen, (const uint8_t(*)[64])sigs, &blame)) {
        cli_err("participant %u's signature in %s does not verify over your transcript: a split "
                "view or a forged certificate; no authority exists",
                blame, what);
        goto out;
    }
    if ((e = fk_dkg_authority_from_transcript(a, &v))) {
        cli_err("cannot build the authority: %s", fk_strerror(e));
        goto out;
    }
    if (memcmp(a->share_pk[i - 1], o.share_pk, 32) || memcmp(a->pk, o.group_pk, 32)) {
        cli_err("the authority does not match your share (internal error)");
        goto out;
    }
    if ((e = fk_escrow_share_alloc(&share, 1)))
        goto out;
    memcpy(share->authority_id, a->id, 32);
    share->index = i;
    memcpy(share->secret, o.secret, 32);
    rc = cli_authority_write_agent(dir, a, share, "");
out:
    fk_wipe(&o, sizeof o);
    if (share)
        fk_escrow_share_free(share, 1);
    free(ct);
    free(t);
    free(sigs);
    free(a);
    return rc;
}

static int cmd_finish(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "session", required_argument, NULL, 's' }, { "key", required_argument, NULL, 'k' },
        { "bundle", required_argument, NULL, 'b' },  { "transcript", required_argument, NULL, 'T' },
        { "out", required_argument, NULL, 'O' },     { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *spath = NULL, *kpath = NULL, *bpath = NULL, *tpath = NULL, *dir = NULL;
    CLI_STEP_OPTS_BEGIN(syn_finish)
    case 's': spath = optarg; break;
    case 'k': kpath = optarg; break;
    case 'b': bpath = optarg; break;
    case 'T': tpath = optarg; break;
    case 'O': dir = optarg; break;
    CLI_STEP_OPTS_END
    if (optind != argc || !spath || !kpath || !bpath || !tpath || !dir) {
        cli_err("--session, --key, --bundle, --transcript and --out are required");
        return cli_usage(syn_finish);
    }
    session *S = load_session(spath);
    uint8_t d[32] = { 0 };
    char *ctext = NULL;
    size_t clen;
    unsigned i;
    int rc = FK_EXIT_FAIL;
    if (!S || cli_dkg_load_key(kpath, S, d, &i) < 0 || load_bundle(bpath, S) < 0 ||
        cli_read_file(tpath, DKG_FILE_MAX, 0, &ctext, &clen) < 0)
        goto out;
    if (cli_dkg_finish(S, i, d, ctext, clen, tpath, dir) == 0)
        rc = FK_EXIT_OK;
out:
    fk_wipe(d, sizeof d);
    free(ctext);
    cli_dkg_session_free(S);
    return rc;
}

int cli_authority_dkg(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } steps[] = {
        { "keygen", cmd_keygen }, { "public", cmd_public }, { "init", cmd_init },
        { "round1", cmd_round1 }, { "collect", cmd_collect }, { "round2", cmd_round2 },
        { "certify", cmd_certify }, { "finish", cmd_finish },
#ifndef FK_CLI_LIGHT
        { "serve", cli_dkg_serve }, { "join", cli_dkg_join },
#endif
    };
    if (argc < 2) {
        usage_all(stderr);
        return FK_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage_all(stdout);
        return FK_EXIT_OK;
    }
#ifdef FK_CLI_LIGHT
    /* Over HTTP: libcurl and the server live in fairkey-net.  argv is
     * main's argv + 2, so argv - 1 starts at "authority". */
    if (!strcmp(argv[1], "serve") || !strcmp(argv[1], "join"))
        return cli_exec_net(argc + 1, argv - 1);
#endif
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++)
        if (!strcmp(argv[1], steps[k].name))
            return steps[k].fn(argc - 1, argv + 1);
    cli_err("unknown step 'authority dkg %s'; run 'fairkey authority dkg help'", argv[1]);
    return FK_EXIT_USAGE;
}

int cli_transcript_entry(const char *certified, size_t clen, const fk_escrow_authority *a,
                         fk_dkg_entry_form form, char **entry, size_t *elen)
{
    uint8_t *t = malloc(clen ? clen : 1), (*sigs)[FK_DKG_SIG_LEN] =
                                              malloc(FK_DKG_MAX_PARTICIPANTS * FK_DKG_SIG_LEN);
    fk_dkg_transcript_view v;
    size_t tl, cap;
    char *out = NULL;
    int rc = -1;
    if (!t || !sigs) {
        cli_err("out of memory");
        goto out;
    }
    if (fk_dkg_certified_parse(&v, t, clen ? clen : 1, &tl, sigs, certified, clen)) {
        cli_err("not a valid certified transcript");
        goto out;
    }
    cap = fk_dkg_log_entry_len(form, tl, v.n);
    if (!(out = malloc(cap)) ||
        fk_dkg_log_entry(out, cap, elen, form, t, tl, (const uint8_t(*)[FK_DKG_SIG_LEN])sigs, v.n,
                         a->id)) {
        cli_err("cannot build the transcript's log entry");
        goto out;
    }
    *entry = out;
    out = NULL;
    rc = 0;
out:
    free(out);
    free(t);
    free(sigs);
    return rc;
}

/* --receipt: the transcript is in the authority's log, as a full or a hash
 * entry (both are rebuilt from the transcript), under a checkpoint that
 * meets the authority's witness policy. */
static int verify_receipt(const fk_escrow_authority *a, const char *text, size_t len,
                          const char *rpath)
{
    static cli_authlog al;
    char *rtext = NULL, *entry = NULL;
    size_t rlen, elen;
    uint8_t leaf[FK_TLOG_HASH_LEN];
    fk_checkpoint cp;
    fk_err err = FK_ERR_PROOF;
    int rc = -1;
    const char *form = NULL;
    fk_tlog_proof *pr = malloc(sizeof *pr);
    if (!pr || cli_read_file(rpath, FK_TLOG_PROOF_MAX_SIZE, 0, &rtext, &rlen) < 0)
        goto out;
    if (fk_tlog_proof_parse(pr, rtext, rlen)) {
        cli_err("%s is not a C2SP tlog-proof receipt; use the one 'fairkey authority publish' "
                "wrote", rpath);
        goto out;
    }
    if (cli_authority_log(&al, a, NULL, NULL, NULL))
        goto out;
    for (int f = FK_DKG_ENTRY_FULL; f <= FK_DKG_ENTRY_HASH && err != FK_OK; f++) {
        if (cli_transcript_entry(text, len, a, (fk_dkg_entry_form)f, &entry, &elen) < 0)
            goto out;
        if (elen <= FK_TLOG_MAX_ENTRY && !fk_tlog_leaf_hash(leaf, (const uint8_t *)entry, elen)) {
            fk_err e = cli_log_proof_verify(&al, pr, leaf, &cp);
            if (e == FK_OK || e == FK_ERR_POLICY)
                err = e; /* the entry is there; its checkpoint may lack cosignatures */
            if (e == FK_OK)
                form = f == FK_DKG_ENTRY_FULL ? "in full" : "as its hash";
        }
        free(entry);
        entry = NULL;
    }
    if (err == FK_ERR_POLICY)
        cli_err("%s: the receipt's checkpoint lacks the witness cosignatures authority %s's log "
                "policy requires; publish again for a receipt under a cosigned checkpoint",
                rpath, a->name);
    else if (err)
        cli_err("%s does not prove this transcript is in authority %s's log (%s); publish it "
                "with 'fairkey authority publish'", rpath, a->name, al.url);
    else {
        printf("%s: the transcript is in the log %s %s, at index %llu (tree size %llu)\n", rpath,
               al.url, form, (unsigned long long)pr->index, (unsigned long long)cp.size);
        rc = 0;
    }
out:
    free(pr);
    free(rtext);
    return rc;
}

int cli_authority_verify(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "receipt", required_argument, NULL, 'r' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *rpath = NULL;
    CLI_STEP_OPTS_BEGIN(syn_verify)
    case 'r': rpath = optarg; break;
    CLI_STEP_OPTS_END
    if (argc - optind != 2)
        return cli_usage(syn_verify);
    char *atext = NULL, *ttext = NULL;
    size_t alen, tlen;
    unsigned blame = 0;
    int rc = FK_EXIT_FAIL;
    fk_escrow_authority *a = malloc(sizeof *a);
    fk_err e;
    if (!a || cli_read_file(argv[optind], FK_ESCROW_AUTHORITY_TEXT_MAX, 0, &atext, &alen) < 0 ||
        cli_read_file(argv[optind + 1], DKG_FILE_MAX, 0, &ttext, &tlen) < 0)
        goto out;
    if ((e = fk_escrow_authority_parse(a, atext, alen))) {
        cli_err("%s is not a valid fairkey authority file (%s)", argv[optind], fk_strerror(e));
        goto out;
    }
    e = fk_dkg_authority_verify(a, ttext, tlen, &blame);
    if (e == FK_ERR_SIGNATURE)
        cli_err("%s: participant %u's proof of possession or certification signature does not "
                "verify",
                argv[optind + 1], blame);
    else if (e == FK_ERR_INVALID)
        cli_err("%s does not match the certified transcript %s (or the transcript is malformed)",
                argv[optind], argv[optind + 1]);
    else if (e)
        cli_err("cannot verify: %s", fk_strerror(e));
    else {
        char idhex[FK_ESCROW_ID_HEX_LEN];
        fk_escrow_id_hex(idhex, a->id);
        printf("%s: authority %s (%u-of-%u, id %s) is the one its %u participants certified; "
               "no dealer held its secret\n",
               argv[optind], a->name, a->t, a->n, idhex, a->n);
        if (!rpath || verify_receipt(a, ttext, tlen, rpath) == 0)
            rc = fflush(stdout) == 0 ? FK_EXIT_OK : FK_EXIT_FAIL;
    }
out:
    free(atext);
    free(ttext);
    free(a);
    return rc;
}
