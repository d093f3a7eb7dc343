/*
 * fairkey authority dkg serve | join: the dealerless ceremony (docs/spec.md
 * 9.9) over HTTP.  The coordinator (serve) holds no secret: it relays the
 * very envelopes the file steps write, running the public checks of
 * collect and certify on them; a participant (join) runs every round
 * against it with the file steps' own helpers (src/cli/dkg.h), so an HTTP
 * body and a file are one format checked by one parser.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dkg.h"
#include "net/net.h"
#include "svc/serve.h"

/* A signature envelope is about 250 bytes (magic, 128-hex context, base64
 * of 64 bytes); an abort line is one error message. */
#define DKG_HTTP_SIG_MAX 1024u
#define DKG_HTTP_ABORT_MAX 512u
/* A round1 envelope: the base64 of msg1 (4/3 of fk_dkg_msg1_len) and its
 * three header lines (under 256 bytes). */
#define DKG_HTTP_ROUND1_SLACK 256u
/* After the ceremony ends, the coordinator serves its result this long
 * (unless every participant has fetched it before). */
#define DKG_HTTP_LINGER_DEFAULT_S 300u
/* join: the whole ceremony's deadline, and its polling backoff. */
#define DKG_HTTP_TIMEOUT_DEFAULT_S 600u
#define DKG_HTTP_POLL_MIN_MS 50u
#define DKG_HTTP_POLL_MAX_MS 2000u

/* ---- the coordinator ------------------------------------------------------- */

typedef struct coord {
    pthread_mutex_t mu;
    cli_dkg_session *S;
    char *session_text;
    size_t session_len, round1_max;
    const char *state; /* --state DIR or NULL */
    unsigned got1, gotsig;
    char *bundle; /* once all round 1 messages are in and every PoP verifies */
    size_t bundle_len;
    uint8_t *t; /* T of the bundle */
    size_t tlen;
    uint8_t (*sigs)[64];
    int have[FK_DKG_MAX_PARTICIPANTS];
    char *transcript; /* once all n signatures verify */
    size_t transcript_len;
    char failed[600]; /* non-empty: why the ceremony failed */
    int seen_end[FK_DKG_MAX_PARTICIPANTS]; /* fetched the transcript or the failure */
    unsigned nseen;
    time_t ended;
} coord;

/* The answer: a copy of text (one line, or a file) with status. */
static void answer(struct fki_net_response *resp, int status, const char *text, size_t len)
{
    char *b = malloc(len + 1);
    if (!b) {
        resp->status = 500;
        return;
    }
    memcpy(b, text, len);
    resp->status = status;
    resp->body = b;
    resp->body_len = len;
    resp->body_free = b;
    resp->cache_control = "no-store";
}

static void say(struct fki_net_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(struct fki_net_response *resp, int status, const char *fmt, ...)
{
    char line[700];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    answer(resp, status, line, (size_t)n);
}

/* The ceremony failed: every later answer says why (409). */
static void fail_ceremony(coord *C, const char *why)
{
    if (C->failed[0])
        return;
    snprintf(C->failed, sizeof C->failed, "%s", why);
    C->ended = time(NULL);
}

/* Keep a copy of what was relayed in --state DIR (for publishing and audit). */
static void keep(const coord *C, const char *name, const char *text, size_t len)
{
    char path[PATH_MAX];
    int n;
    if (!C->state)
        return;
    n = snprintf(path, sizeof path, "%s/%s", C->state, name);
    if (n > 0 && (size_t)n < sizeof path)
        cli_write_new_file(path, text, len, 0);
}

/* "/round1/7" -> 7 when prefix matches and 1 <= 7 <= n. */
static unsigned path_index(const char *path, const char *prefix, unsigned n)
{
    size_t pl = strlen(prefix);
    unsigned v = 0;
    const char *p = path + pl;
    if (strncmp(path, prefix, pl) || !*p || strlen(p) > 3 || (p[0] == '0'))
        return 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (unsigned)(*p - '0');
    }
    return v >= 1 && v <= n ? v : 0;
}

/* "participants 2, 5" of those missing (into buf). */
static void missing(char *buf, size_t cap, const coord *C, int round1)
{
    size_t o = (size_t)snprintf(buf, cap, "participants");
    for (unsigned j = 0; j < C->S->n && o + 8 < cap; j++)
        if (round1 ? !C->S->msg[j] : !C->have[j])
            o += (size_t)snprintf(buf + o, cap - o, "%s %u", o > 12 ? "," : "", j + 1);
}

static void post_round1(coord *C, unsigned i, const struct fki_net_request *req,
                        struct fki_net_response *resp)
{
    char what[64];
    unsigned from;
    snprintf(what, sizeof what, "the round1 posted for participant %u", i);
    if (req->body_len > C->round1_max) {
        say(resp, 413, "a round1 message of this session is at most %zu bytes", C->round1_max);
        return;
    }
    int r = cli_dkg_collect_add(C->S, (const char *)req->body, req->body_len, what, i, &from);
    if (r < 0) {
        say(resp, C->S->msg[i - 1] ? 409 : 400, "%s", cli_err_last());
        return;
    }
    if (r == 0) {
        C->got1++;
        keep(C, (snprintf(what, sizeof what, "round1-%u", i), what), (const char *)req->body,
             req->body_len);
        fprintf(stderr, "round 1: participant %u in (%u of %u)\n", i, C->got1, C->S->n);
    }
    if (C->got1 == C->S->n && !C->bundle) {
        unsigned blame;
        size_t tl;
        if (!(C->bundle = cli_dkg_collect_bundle(C->S, &C->bundle_len, &blame)) ||
            !(C->t = cli_dkg_transcript(C->S, &tl))) {
            free(C->bundle);
            C->bundle = NULL;
            fail_ceremony(C, cli_err_last());
            say(resp, 409, "%s", C->failed);
            return;
        }
        C->tlen = tl;
        keep(C, "bundle", C->bundle, C->bundle_len);
        fprintf(stderr, "round 1: every proof of possession verifies; the bundle is ready\n");
    }
    say(resp, 200, "round 1 of participant %u taken (%u of %u in)", i, C->got1, C->S->n);
}

static void post_signature(coord *C, unsigned i, const struct fki_net_request *req,
                           struct fki_net_response *resp)
{
    char what[64];
    unsigned blame;
    if (req->body_len > DKG_HTTP_SIG_MAX) {
        say(resp, 413, "a signature message is at most %u bytes", DKG_HTTP_SIG_MAX);
        return;
    }
    if (!C->bundle) {
        say(resp, 425, "round 1 is not over; fetch the bundle first");
        return;
    }
    snprintf(what, sizeof what, "the signature posted for participant %u", i);
    int r = cli_dkg_certify_add(C->S, C->sigs, C->have, (const char *)req->body, req->body_len,
                                what, i, C->t, C->tlen, &blame);
    if (r < 0 && blame) {
        /* Participant i signed another transcript: it saw other messages. */
        fail_ceremony(C, cli_err_last());
        say(resp, 409, "%s", C->failed);
        return;
    }
    if (r < 0) {
        say(resp, C->have[i - 1] ? 409 : 400, "%s", cli_err_last());
        return;
    }
    if (r == 0) {
        C->gotsig++;
        keep(C, (snprintf(what, sizeof what, "signature-%u", i), what), (const char *)req->body,
             req->body_len);
        fprintf(stderr, "certification: participant %u signed (%u of %u)\n", i, C->gotsig,
                C->S->n);
    }
    if (C->gotsig == C->S->n && !C->transcript) {
        if (!(C->transcript = cli_dkg_certify(C->S, (const uint8_t(*)[64])C->sigs,
                                              &C->transcript_len, &blame))) {
            fail_ceremony(C, cli_err_last());
            say(resp, 409, "%s", C->failed);
            return;
        }
        keep(C, "transcript", C->transcript, C->transcript_len);
        C->ended = time(NULL);
        fprintf(stderr, "Certified by all %u participants: the transcript is ready\n", C->S->n);
    }
    say(resp, 200, "signature of participant %u taken (%u of %u in)", i, C->gotsig, C->S->n);
}

/* POST /abort/<i>: participant i found a fault only it can see (a share
 * for it that does not open or match); its one line is relayed to all. */
static void post_abort(coord *C, unsigned i, const struct fki_net_request *req,
                       struct fki_net_response *resp)
{
    char why[DKG_HTTP_ABORT_MAX + 80];
    size_t n = req->body_len;
    if (n > DKG_HTTP_ABORT_MAX) {
        say(resp, 413, "an abort line is at most %u bytes", DKG_HTTP_ABORT_MAX);
        return;
    }
    if (n && req->body[n - 1] == '\n')
        n--;
    for (size_t k = 0; k < n; k++)
        if (req->body[k] < 0x20 || req->body[k] > 0x7e) {
            say(resp, 400, "an abort is one line of printable ASCII");
            return;
        }
    if (C->transcript) {
        say(resp, 409, "the ceremony is over: the transcript is certified");
        return;
    }
    snprintf(why, sizeof why, "participant %u aborted the ceremony: %.*s", i, (int)n,
             (const char *)req->body);
    fail_ceremony(C, why);
    cli_err("%s", why);
    say(resp, 200, "aborted");
}

static void seen(coord *C, const struct fki_net_request *req)
{
    const char *p = fki_net_query(req, "participant");
    char path[16];
    unsigned i;
    if (!p || strlen(p) > 3)
        return;
    snprintf(path, sizeof path, "/%s", p);
    if ((i = path_index(path, "/", C->S->n)) && !C->seen_end[i - 1]) {
        C->seen_end[i - 1] = 1;
        C->nseen++;
    }
}

static void handle_locked(coord *C, const struct fki_net_request *req,
                          struct fki_net_response *resp)
{
    int get = !strcmp(req->method, "GET"), post = !strcmp(req->method, "POST");
    unsigned n = C->S->n, i;
    char who[4 * FK_DKG_MAX_PARTICIPANTS + 16];
    if (!strcmp(req->path, "/session")) {
        if (!get)
            say(resp, 405, "use GET /session");
        else
            answer(resp, 200, C->session_text, C->session_len);
        return;
    }
    if (!strcmp(req->path, "/bundle") || !strcmp(req->path, "/transcript")) {
        int bundle = req->path[1] == 'b';
        if (!get) {
            say(resp, 405, "use GET %s", req->path);
        } else if (C->failed[0]) {
            if (!bundle)
                seen(C, req);
            say(resp, 409, "%s", C->failed);
        } else if (bundle ? !C->bundle : !C->transcript) {
            missing(who, sizeof who, C, bundle);
            say(resp, 425, "not yet: waiting for %s from %s", bundle ? "round 1" : "signatures",
                who);
        } else {
            if (!bundle)
                seen(C, req);
            answer(resp, 200, bundle ? C->bundle : C->transcript,
                   bundle ? C->bundle_len : C->transcript_len);
        }
        return;
    }
    int r1 = (i = path_index(req->path, "/round1/", n)) != 0, sg = 0, ab = 0;
    if (!r1 && !(sg = (i = path_index(req->path, "/signature/", n)) != 0))
        ab = (i = path_index(req->path, "/abort/", n)) != 0;
    if (!r1 && !sg && !ab) {
        say(resp, 404, "no such endpoint; the coordinator serves GET /session, POST "
                       "/round1/<i>, GET /bundle, POST /signature/<i>, GET /transcript and POST "
                       "/abort/<i> (i = 1..%u)", n);
        return;
    }
    if (!post) {
        say(resp, 405, "use POST %s", req->path);
        return;
    }
    if (C->failed[0] && !ab) {
        say(resp, 409, "%s", C->failed);
        return;
    }
    if (r1)
        post_round1(C, i, req, resp);
    else if (sg)
        post_signature(C, i, req, resp);
    else
        post_abort(C, i, req, resp);
}

static void handle(void *ctx, const struct fki_net_request *req, struct fki_net_response *resp)
{
    coord *C = ctx;
    pthread_mutex_lock(&C->mu);
    handle_locked(C, req, resp);
    pthread_mutex_unlock(&C->mu);
}

/* A number of seconds, 1..86400. */
static int parse_seconds(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s || s[0] == '-' || v < 1 || v > 86400)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int cli_dkg_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "session", required_argument, NULL, 's' }, { "listen", required_argument, NULL, 'l' },
        { "state", required_argument, NULL, 'S' },   { "linger", required_argument, NULL, 'L' },
        { "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
    };
    const char *spath = NULL, *listen = NULL;
    unsigned linger = DKG_HTTP_LINGER_DEFAULT_S;
    coord C;
    int c, rc = FK_EXIT_FAIL;
    memset(&C, 0, sizeof C);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': spath = optarg; break;
        case 'l': listen = optarg; break;
        case 'S': C.state = optarg; break;
        case 'L':
            if (parse_seconds(optarg, &linger) < 0) {
                cli_err("--linger must be a number of seconds from 1 to 86400");
                return FK_EXIT_USAGE;
            }
            break;
        case 'h': printf("usage: fairkey %s\n", cli_dkg_syn_serve); return FK_EXIT_OK;
        default: return cli_bad_option(c, argv, cli_dkg_syn_serve);
        }
    }
    if (optind != argc || !spath || !listen) {
        cli_err("--session and --listen are required");
        return cli_usage(cli_dkg_syn_serve);
    }
    if (cli_read_file(spath, CLI_DKG_SESSION_MAX, 0, &C.session_text, &C.session_len) < 0 ||
        !(C.S = cli_dkg_session_parse(C.session_text, C.session_len, spath)))
        goto out;
    if (!(C.sigs = calloc(FK_DKG_MAX_PARTICIPANTS, 64))) {
        cli_err("out of memory");
        goto out;
    }
    if (C.state && mkdir(C.state, 0700) < 0 && errno != EEXIST) {
        cli_err("cannot create the folder %s: %s", C.state, strerror(errno));
        goto out;
    }
    C.round1_max = fk_b64_enc_len_padded(fk_dkg_msg1_len(C.S->t, C.S->n)) + DKG_HTTP_ROUND1_SLACK;
    pthread_mutex_init(&C.mu, NULL);
    sigset_t set;
    fki_serve_signals(&set);
    struct fki_net_server_config cfg = {
        .listen = listen, .max_body = C.round1_max, .handler = handle, .ctx = &C,
    };
    fki_net_server *srv;
    fk_err err = fki_net_server_start(&srv, &cfg);
    if (err) {
        cli_err("cannot listen on %s (%s); pick another address or port", listen,
                fk_strerror(err));
        goto out_mu;
    }
    char host[256];
    uint16_t lp;
    fki_net_parse_listen(listen, host, sizeof host, &lp);
    int v6 = strchr(host, ':') != NULL;
    printf("http://%s%s%s:%u\n", v6 ? "[" : "", host[0] ? host : "127.0.0.1", v6 ? "]" : "",
           (unsigned)fki_net_server_port(srv));
    fflush(stdout);
    fprintf(stderr, "Coordinating %u-of-%u authority %s; waiting for round 1 from %u "
                    "participants\n", C.S->t, C.S->n, C.S->name, C.S->n);
    /* Serve until every participant has fetched the end (the transcript or
     * the failure), linger seconds after the end, or a signal. */
    struct timespec tick = { 0, 200 * 1000 * 1000 };
    for (;;) {
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM)
            break;
        pthread_mutex_lock(&C.mu);
        int end = (C.transcript || C.failed[0]) &&
                  (C.nseen == C.S->n || time(NULL) - C.ended >= (time_t)linger);
        pthread_mutex_unlock(&C.mu);
        if (end)
            break;
    }
    fki_net_server_stop(srv);
    if (C.transcript)
        rc = FK_EXIT_OK;
    else
        cli_err("no authority was made: %s", C.failed[0] ? C.failed : "stopped before the end");
out_mu:
    pthread_mutex_destroy(&C.mu);
out:
    free(C.session_text);
    free(C.bundle);
    free(C.t);
    free(C.sigs);
    free(C.transcript);
    cli_dkg_session_free(C.S);
    return rc;
}

/* ---- a participant ------------------------------------------------------------ */

typedef struct joiner {
    fki_net_client *net;
    const char *base;
    unsigned i;
    struct timespec deadline;
} joiner;

static long ms_left(const joiner *J)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(J->deadline.tv_sec - now.tv_sec) * 1000 +
           (J->deadline.tv_nsec - now.tv_nsec) / 1000000;
}

/* The first line of a coordinator's answer, printable, for an error. */
static const char *first_line(char *buf, size_t cap, const uint8_t *b, size_t n)
{
    size_t o = 0;
    for (size_t k = 0; k < n && b[k] != '\n' && o + 1 < cap; k++)
        buf[o++] = b[k] >= 0x20 && b[k] < 0x7f ? (char)b[k] : '?';
    buf[o] = '\0';
    return buf;
}

/* One exchange, retried with a bounded backoff while the coordinator is
 * unreachable or answers 425 (not yet): 0 and the body on 200; -1 after a
 * "fairkey: " line otherwise (a 409 is the ceremony's failure, relayed). */
static int exchange(joiner *J, const char *path, const char *body, size_t blen, char **out,
                    size_t *olen)
{
    char url[2048], line[600];
    unsigned wait = DKG_HTTP_POLL_MIN_MS;
    struct fki_net_client_opts opts = { .max_response = CLI_DKG_FILE_MAX,
                                        .content_type = "text/plain" };
    int n = snprintf(url, sizeof url, "%s%s%sparticipant=%u", J->base, path,
                     strchr(path, '?') ? "&" : "?", J->i);
    if (n < 0 || (size_t)n >= sizeof url) {
        cli_err("the coordinator URL is too long");
        return -1;
    }
    for (;;) {
        long status = 0;
        uint8_t *b = NULL;
        size_t bl = 0;
        long left = ms_left(J);
        if (left <= 0) {
            cli_err("the coordinator did not answer %s in time (--timeout); no authority was "
                    "made", path);
            return -1;
        }
        opts.timeout_ms = left < (long)FKI_NET_DEFAULT_CLIENT_TIMEOUT_MS
                              ? left : (long)FKI_NET_DEFAULT_CLIENT_TIMEOUT_MS;
        fk_err e = body ? fki_net_client_post(J->net, url, body, blen, &opts, &status, &b, &bl)
                        : fki_net_client_get(J->net, url, &opts, &status, &b, &bl);
        if (!e && status == 200) {
            if (out) {
                *out = (char *)b;
                *olen = bl;
            } else {
                free(b);
            }
            return 0;
        }
        if (!e && status != 425) {
            first_line(line, sizeof line, b, bl);
            free(b);
            if (status == 409)
                cli_err("the ceremony failed at the coordinator: %s", line);
            else
                cli_err("the coordinator refused %s %s (HTTP %ld): %s", body ? "POST" : "GET",
                        path, status, line);
            return -1;
        }
        free(b);
        if (e == FK_ERR_LIMIT) {
            cli_err("the coordinator's answer to %s is over %u bytes", path, CLI_DKG_FILE_MAX);
            return -1;
        }
        /* Not yet, or not reachable yet: wait and ask again. */
        struct timespec ts = { wait / 1000, (long)(wait % 1000) * 1000000 };
        nanosleep(&ts, NULL);
        wait = wait * 2 > DKG_HTTP_POLL_MAX_MS ? DKG_HTTP_POLL_MAX_MS : wait * 2;
    }
}

/* A fault only this participant can see: tell the coordinator (best effort). */
static void abort_ceremony(joiner *J)
{
    char path[32], line[520];
    size_t n = (size_t)snprintf(line, sizeof line, "%s", cli_err_last());
    char saved[512];
    snprintf(saved, sizeof saved, "%s", cli_err_last());
    snprintf(path, sizeof path, "/abort/%u", J->i);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (ms_left(J) > 5000) { /* a few seconds at most for the courtesy */
        J->deadline = now;
        J->deadline.tv_sec += 5;
    }
    if (exchange(J, path, line, n > DKG_HTTP_ABORT_MAX ? DKG_HTTP_ABORT_MAX : n, NULL, NULL) < 0)
        cli_err("%s", saved); /* the cause stays the last line */
}

int cli_dkg_join(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "coordinator", required_argument, NULL, 'c' }, { "key", required_argument, NULL, 'k' },
        { "out", required_argument, NULL, 'O' },         { "timeout", required_argument, NULL, 'T' },
        { "help", no_argument, NULL, 'h' },              { NULL, 0, NULL, 0 },
    };
    const char *kpath = NULL, *dir = NULL;
    char base[1024] = "";
    unsigned timeout = DKG_HTTP_TIMEOUT_DEFAULT_S;
    int c, rc = FK_EXIT_FAIL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8)) {
                cli_err("--coordinator must be an http:// or https:// URL");
                return FK_EXIT_USAGE;
            }
            if (strlen(optarg) >= sizeof base - 64) {
                cli_err("--coordinator is too long");
                return FK_EXIT_USAGE;
            }
            snprintf(base, sizeof base, "%s", optarg);
            break;
        case 'k': kpath = optarg; break;
        case 'O': dir = optarg; break;
        case 'T':
            if (parse_seconds(optarg, &timeout) < 0) {
                cli_err("--timeout must be a number of seconds from 1 to 86400");
                return FK_EXIT_USAGE;
            }
            break;
        case 'h': printf("usage: fairkey %s\n", cli_dkg_syn_join); return FK_EXIT_OK;
        default: return cli_bad_option(c, argv, cli_dkg_syn_join);
        }
    }
    if (optind != argc || !base[0] || !kpath || !dir) {
        cli_err("--coordinator, --key and --out are required");
        return cli_usage(cli_dkg_syn_join);
    }
    for (size_t l = strlen(base); l && base[l - 1] == '/'; l--)
        base[l - 1] = '\0';
    joiner J = { .base = base };
    clock_gettime(CLOCK_MONOTONIC, &J.deadline);
    J.deadline.tv_sec += timeout;
    cli_dkg_session *S = NULL;
    uint8_t d[32] = { 0 };
    char *stext = NULL, *r1 = NULL, *btext = NULL, *sig = NULL, *ctext = NULL;
    char path[PATH_MAX], what[1100];
    size_t slen, r1len, blen, siglen, clen;
    unsigned blame;
    int made_t = 0;
    signal(SIGPIPE, SIG_IGN);
    if (fki_net_client_new(&J.net)) {
        cli_err("cannot start the HTTP client");
        return FK_EXIT_FAIL;
    }
    /* The session: anything else than what the participants agreed on
     * changes the context, and certification fails. */
    snprintf(what, sizeof what, "the session %s/session", base);
    J.i = 0;
    if (exchange(&J, "/session", NULL, 0, &stext, &slen) < 0 ||
        !(S = cli_dkg_session_parse(stext, slen, what)) || cli_dkg_load_key(kpath, S, d, &J.i) < 0)
        goto out;
    fprintf(stderr, "Joined %u-of-%u authority %s as participant %u\n", S->t, S->n, S->name, J.i);
    /* Round 1. */
    char p[32];
    snprintf(p, sizeof p, "/round1/%u", J.i);
    if (!(r1 = cli_dkg_round1(S, J.i, d, &r1len)) || exchange(&J, p, r1, r1len, NULL, NULL) < 0)
        goto out;
    /* The bundle: every message checked as round2 does; its slot i must be
     * the message this participant sent. */
    snprintf(what, sizeof what, "the bundle from %s", base);
    if (exchange(&J, "/bundle", NULL, 0, &btext, &blen) < 0 ||
        cli_dkg_bundle_parse(S, btext, blen, what) < 0)
        goto out;
    {
        uint8_t *mine = NULL;
        size_t ml;
        unsigned from;
        int same = cli_dkg_parse_msgs(r1, r1len, "round1", S->ctxhex, S->n, "fairkey dkg round1 v1",
                                      &from, &mine, &ml, 1) == 0 &&
                   ml == S->len[J.i - 1] && !memcmp(mine, S->msg[J.i - 1], ml);
        free(mine);
        if (!same) {
            cli_err("%s does not hold your round 1 message: the coordinator replaced it, or "
                    "another client posted for participant %u; no authority was made",
                    what, J.i);
            goto out;
        }
    }
    /* Round 2: a cheater is named here, and told to everyone. */
    if (!(sig = cli_dkg_round2(S, J.i, d, &siglen, &blame))) {
        if (blame)
            abort_ceremony(&J);
        goto out;
    }
    snprintf(p, sizeof p, "/signature/%u", J.i);
    if (exchange(&J, p, sig, siglen, NULL, NULL) < 0)
        goto out;
    snprintf(what, sizeof what, "the transcript from %s", base);
    if (exchange(&J, "/transcript", NULL, 0, &ctext, &clen) < 0)
        goto out;
    /* Finish exactly as the file step does; the transcript goes beside the
     * share, and nothing stays behind if either fails. */
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        cli_err("cannot create the folder %s: %s", dir, strerror(errno));
        goto out;
    }
    if (snprintf(path, sizeof path, "%s/transcript", dir) >= (int)sizeof path) {
        cli_err("the path %s/transcript is too long", dir);
        goto out;
    }
    if (cli_write_new_file(path, ctext, clen, 0) < 0)
        goto out;
    made_t = 1;
    if (cli_dkg_finish(S, J.i, d, ctext, clen, what, dir) < 0)
        goto out;
    fprintf(stderr, "Wrote %s (the certified transcript: publish it with 'fairkey authority "
                    "publish')\n", path);
    rc = FK_EXIT_OK;
out:
    if (rc != FK_EXIT_OK && made_t)
        unlink(path);
    fk_wipe(d, sizeof d);
    fki_net_client_free(J.net);
    free(stext);
    free(r1);
    free(btext);
    free(sig);
    free(ctext);
    cli_dkg_session_free(S);
    return rc;
}
