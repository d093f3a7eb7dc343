/*
 * recovery_bench - end-to-end recoveries against a running log and agents
 * (started by bench/recovery_bench.sh).  Each recovery does what 'fairkey
 * request' and 'fairkey recover' do, in-process so that process start-up is
 * not measured: sign a request, add it to the log (waiting for the batch),
 * build the receipt, ask agents until t answers verify, combine, open the
 * escrow stanza and check the header MAC.  C client threads run recoveries
 * back to back; reports recoveries per second and latency percentiles.
 *
 *   recovery_bench LOG_URL AUTHORITY REQUESTER_KEY FILE.age AGENTS N C
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/recovery.h"
#include "net/net.h"

/* Program-side helpers (src/agent/recovery.c, src/cli/io.c) print through
 * cli_err and cli_usage (src/cli/fairkey.c); the bench has its own, silent. */
void cli_err(const char *fmt, ...)
{
    (void)fmt;
}
int cli_usage(const char *synopsis)
{
    (void)synopsis;
    return 2;
}
int cli_help_wanted(void)
{
    return 0;
}

static const char *log_url;
static fk_escrow_authority *auth;
static fk_requester_key key;
static fk_header header;
static char idhex[FK_ESCROW_ID_HEX_LEN];
static uint8_t target[32];
static fk_escrow_stanza_info stanza;
static char *agents[FK_ESCROW_MAX_SHARES];
static size_t nagents;
static int total, next_job, failures;
static double *lat;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static double t_add, t_agents; /* summed phase times, for the report */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct call {
    const char *agent;
    const char *receipt;
    size_t rlen;
    const uint8_t *eh;
    int ok;
    fk_escrow_partial part;
};

/* One agent: POST the receipt, open and verify the answer as 'fairkey
 * recover' does. */
static void ask(struct call *c, fki_net_client *http)
{
    char url[REC_URL_MAX], why[256];
    uint8_t *ab = NULL;
    size_t al = 0;
    long st = 0;
    long long id;
    struct fki_net_client_opts o = {.timeout_ms = 30000};
    rec_url(url, sizeof url, c->agent, "recover");
    if (!fki_net_client_post(http, url, c->receipt, c->rlen, &o, &st, &ab, &al))
        c->ok = rec_answer_read(st, ab, al, auth, key.reply_secret, c->eh, target, &c->part, &id,
                                why, sizeof why) == REC_ANSWER_VALID;
    free(ab);
}

/* A requester's helpers: long-lived threads that ask agents in parallel, so
 * each keeps its HTTP connections alive from one recovery to the next (as a
 * long-running requester would); a thread per call would reconnect. */
struct crew {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned gen, pending;
    int quit;
    struct call *calls;
    size_t n;
    size_t nth; /* helpers started */
    pthread_t th[FK_ESCROW_MAX_SHARES];
};
struct helper {
    struct crew *cr;
    size_t k;
};

static void *helper_main(void *v)
{
    struct helper *h = v;
    struct crew *cr = h->cr;
    unsigned seen = 0;
    fki_net_client *http = NULL;
    fk_err err = fki_net_client_new(&http);
    for (;;) {
        pthread_mutex_lock(&cr->mu);
        while (cr->gen == seen && !cr->quit)
            pthread_cond_wait(&cr->go, &cr->mu);
        if (cr->quit) {
            pthread_mutex_unlock(&cr->mu);
            fki_net_client_free(http);
            free(h);
            return NULL;
        }
        seen = cr->gen;
        struct call *c = h->k < cr->n ? &cr->calls[h->k] : NULL;
        pthread_mutex_unlock(&cr->mu);
        if (c && !err)
            ask(c, http);
        pthread_mutex_lock(&cr->mu);
        if (--cr->pending == 0)
            pthread_cond_signal(&cr->done);
        pthread_mutex_unlock(&cr->mu);
    }
}

static int crew_start(struct crew *cr, size_t n)
{
    memset(cr, 0, sizeof *cr);
    pthread_mutex_init(&cr->mu, NULL);
    pthread_cond_init(&cr->go, NULL);
    pthread_cond_init(&cr->done, NULL);
    for (size_t k = 0; k < n; k++) {
        struct helper *h = malloc(sizeof *h);
        if (!h)
            return -1;
        h->cr = cr;
        h->k = k;
        if (pthread_create(&cr->th[k], NULL, helper_main, h)) {
            free(h);
            return -1;
        }
        cr->nth = k + 1;
    }
    return 0;
}

/* Run calls[0..n) on the helpers and wait for all. */
static void crew_run(struct crew *cr, struct call *calls, size_t n)
{
    pthread_mutex_lock(&cr->mu);
    cr->calls = calls;
    cr->n = n;
    cr->pending = (unsigned)cr->nth;
    cr->gen++;
    pthread_cond_broadcast(&cr->go);
    while (cr->pending)
        pthread_cond_wait(&cr->done, &cr->mu);
    pthread_mutex_unlock(&cr->mu);
}

static void crew_stop(struct crew *cr)
{
    pthread_mutex_lock(&cr->mu);
    cr->quit = 1;
    pthread_cond_broadcast(&cr->go);
    pthread_mutex_unlock(&cr->mu);
    for (size_t k = 0; k < cr->nth; k++)
        pthread_join(cr->th[k], NULL);
    pthread_mutex_destroy(&cr->mu);
    pthread_cond_destroy(&cr->go);
    pthread_cond_destroy(&cr->done);
}

static int one(struct crew *cr, fki_net_client *http, int job)
{
    fk_request r;
    char note[FK_REQUEST_NOTE_MAX + 1], url[REC_URL_MAX];
    size_t nl;
    memset(&r, 0, sizeof r);
    memcpy(r.authority, idhex, sizeof idhex);
    fk_request_target_set(&r, &stanza);
    snprintf(r.reason, sizeof r.reason, "bench recovery %d", job);
    r.time = (int64_t)time(NULL);
    if (fk_request_sign(note, sizeof note, &nl, &r, &key))
        return -1;
    uint8_t *body = NULL;
    size_t blen = 0;
    long status = 0;
    struct fki_net_client_opts o = {.timeout_ms = 30000};
    rec_url(url, sizeof url, log_url, "add");
    double ta = now();
    if (fki_net_client_post(http, url, note, nl, &o, &status, &body, &blen) || status != 200) {
        free(body);
        return -1;
    }
    double tb = now();
    fk_tlog_proof *lp = malloc(sizeof *lp);
    char *receipt = malloc(REC_RECEIPT_MAX);
    size_t rlen = 0;
    int rc = -1;
    if (!lp || !receipt || fk_tlog_proof_parse(lp, (const char *)body, blen) ||
        fk_tlog_proof_encode((const uint8_t *)note, nl, lp->index,
                             (const uint8_t(*)[FK_TLOG_HASH_LEN])lp->proof, lp->nproof,
                             lp->checkpoint, lp->checkpoint_len, receipt, REC_RECEIPT_MAX, &rlen))
        goto out;
    uint8_t eh[32];
    fk_request_entry_hash(eh, note, nl);
    fk_escrow_partial parts[FK_ESCROW_MAX_SHARES];
    size_t np = 0;
    /* Ask t agents in parallel, as 'fairkey recover' does, starting at a
     * different agent each time to spread the load; then the others in
     * turn if some answer is missing or bad. */
    struct call calls[FK_ESCROW_MAX_SHARES];
    size_t first = auth->t < nagents ? auth->t : nagents;
    for (size_t k = 0; k < nagents; k++) {
        calls[k].agent = agents[((size_t)job + k) % nagents];
        calls[k].receipt = receipt;
        calls[k].rlen = rlen;
        calls[k].eh = eh;
        calls[k].ok = 0;
    }
    crew_run(cr, calls, first);
    for (size_t k = 0; k < nagents && np < auth->t; k++) {
        if (k >= first)
            ask(&calls[k], http);
        if (calls[k].ok)
            parts[np++] = calls[k].part;
    }
    pthread_mutex_lock(&mu);
    t_add += tb - ta;
    t_agents += now() - tb;
    pthread_mutex_unlock(&mu);
    uint8_t fkey[FK_AGE_FILE_KEY_LEN];
    /* As 'fairkey recover': proofs were checked per answer; combine, open
     * the stanza, check the header MAC. */
    uint8_t z[32];
    if (np == auth->t && !fk_escrow_combine(z, auth, parts, np) &&
        !fk_escrow_open(fkey, &stanza, z) && !fk_header_verify_mac(&header, fkey))
        rc = 0;
    fk_wipe(z, sizeof z);
    fk_wipe(fkey, sizeof fkey);
    fk_wipe(parts, sizeof parts);
    fk_wipe(calls, sizeof calls);
out:
    free(lp);
    free(receipt);
    free(body);
    return rc;
}

static void *worker(void *v)
{
    (void)v;
    struct crew cr;
    fki_net_client *http;
    if (fki_net_client_new(&http))
        return NULL;
    if (crew_start(&cr, auth->t < nagents ? auth->t : nagents)) {
        fki_net_client_free(http);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&mu);
        int job = next_job < total ? next_job++ : -1;
        pthread_mutex_unlock(&mu);
        if (job < 0)
            break;
        double t0 = now();
        int rc = one(&cr, http, job);
        double dt = now() - t0;
        pthread_mutex_lock(&mu);
        lat[job] = rc ? -1 : dt;
        failures += rc != 0;
        pthread_mutex_unlock(&mu);
    }
    crew_stop(&cr);
    fki_net_client_free(http);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: recovery_bench LOG_URL AUTHORITY REQUESTER_KEY FILE.age AGENTS N C\n");
        return 2;
    }
    log_url = argv[1];
    total = atoi(argv[6]);
    int conc = atoi(argv[7]);
    char *text;
    size_t len;
    auth = rec_load_authority(argv[2]);
    if (!auth || rec_load_requester_key(argv[3], &key) || total < 1 || conc < 1) {
        fprintf(stderr, "recovery_bench: bad authority, key or counts\n");
        return 1;
    }
    fk_escrow_id_hex(idhex, auth->id);
    fk_escrow_stanza_info st;
    int armored;
    uint64_t pl;
    FILE *f = fopen(argv[4], "rb");
    if (!f) {
        fprintf(stderr, "recovery_bench: cannot open %s\n", argv[4]);
        return 1;
    }
    text = malloc(1 << 20);
    len = fread(text, 1, 1 << 20, f);
    fclose(f);
    size_t used;
    if (fk_header_parse(&header, (const uint8_t *)text, len, &used) ||
        fk_escrow_header_find(&header, auth->pk, &st)) {
        fprintf(stderr, "recovery_bench: %s has no escrow stanza for the authority\n", argv[4]);
        return 1;
    }
    (void)armored;
    (void)pl;
    memcpy(target, st.e, 32);
    stanza = st;
    for (char *p = strtok(argv[5], ","); p && nagents < FK_ESCROW_MAX_SHARES; p = strtok(NULL, ","))
        agents[nagents++] = p;
    lat = calloc((size_t)total, sizeof *lat);
    pthread_t *th = calloc((size_t)conc, sizeof *th);
    double t0 = now();
    for (int i = 0; i < conc; i++)
        pthread_create(&th[i], NULL, worker, NULL);
    for (int i = 0; i < conc; i++)
        pthread_join(th[i], NULL);
    double wall = now() - t0;
    qsort(lat, (size_t)total, sizeof *lat, cmp);
    int ok = total - failures;
    double *good = lat + failures; /* failures sort first (-1) */
    printf("recoveries: %d ok, %d failed, %d concurrent clients, %zu agents (t=%u)\n", ok, failures,
           conc, nagents, auth->t);
    if (ok > 0)
        printf("throughput: %.1f recoveries/s over %.2f s\nlatency: median %.0f ms, p99 %.0f ms, max %.0f ms\n",
               ok / wall, wall, good[ok / 2] * 1000, good[(int)(ok * 0.99) < ok ? (int)(ok * 0.99) : ok - 1] * 1000,
               good[ok - 1] * 1000);
    if (ok > 0)
        printf("phases (mean): log add %.0f ms, agents %.0f ms\n", t_add / total * 1000,
               t_agents / total * 1000);
    fk_header_clear(&header);
    free(text);
    free(lat);
    free(th);
    free(auth);
    fk_requester_key_wipe(&key);
    return failures ? 1 : 0;
}
