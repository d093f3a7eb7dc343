/*
 * fairkey agent serve|pending|approve|deny|backup|restore - an escrow agent:
 * one share, an HTTP API (POST /recover), and its own SQLite audit table.  It releases a
 * partial decryption only for a request that is signed, allowed, addressed
 * to its authority, inside the time window, and proven to be in the log in a
 * checkpoint that meets its log policy (C2SP tlog-policy: the log's
 * signature and the witness cosignatures the quorum asks for) and is
 * consistent with every checkpoint it has seen (docs/protocol.md 5).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "prog/authlog.h"
#include "prog/prog.h"
#include "svc/keyfile.h"
#include "net/net.h"
#include "recovery.h"
#include "store.h"
#include "svc/config.h"
#include "svc/metrics.h"
#include "svc/serve.h"
#include "svc/storage.h"

#define SERVE_USAGE                                                                        \
    "agent serve [--config FILE] --share FILE --authority FILE --listen HOST:PORT\n"                      \
    "             [--requesters FILE] [--manual] [--state DIR]\n"                         \
    "             [--log URL] [--log-vkey VKEY] [--log-policy FILE] [--cacert FILE]\n"                    \
    "       (the log and policy are the authority's; the --log options must match them)\n" \
    "       fairkey agent pending --state DIR [--all]\n"                                   \
    "       fairkey agent approve --state DIR ID\n"                                        \
    "       fairkey agent deny --state DIR ID [--reason TEXT]\n"                            \
    "       fairkey agent backup --state DIR -o FILE\n"                                     \
    "       fairkey agent restore --state DIR FILE"

/* Verified checkpoints remembered in memory: a batch interval's worth of
 * receipts share a handful of checkpoints, so this is ample. */
#define CP_CACHE 4096
/* Signed checkpoint notes whose log signature verified, by hash of the
 * note's bytes: every receipt of one log batch carries the same note, so
 * its signature is checked once, not once per request. */
#define NOTE_CACHE 64
/* Refusals anyone can cause without the log (a request that does not
 * verify, an unlisted requester, another authority, a receipt that proves
 * nothing) are recorded one row each up to this many a minute; the rest of
 * that minute are counted in one summary row ("unauthenticated-summary"),
 * so garbage POSTs cannot grow the database (one fsync per row) without
 * bound.  Refusals of requests proven in the log are all recorded. */
#define AGENT_UNAUTH_ROWS_PER_MIN 20

struct agent {
    fk_escrow_authority *auth;
    fk_escrow_share *share;  /* sodium_malloc'd, wiped at exit */
    char idhex[FK_ESCROW_ID_HEX_LEN];
    struct fki_log_client log; /* under cp_mu: one keep-alive connection */
    fk_tlog_policy policy;   /* what a receipt's checkpoint must meet; lists log.key */
    char *requesters;        /* allow-list text, NULL: any signed requester */
    size_t requesters_len;
    size_t nrequesters;      /* its requester lines, for /metrics */
    pthread_rwlock_t req_lock; /* requesters: swapped whole on SIGHUP */
    _Atomic int manual;      /* reloaded on SIGHUP */
    fki_net_server *srv;     /* for /metrics */
    const char *state;       /* --state, for the operator's lines */
    struct timespec started; /* monotonic, for /healthz */
    agent_store *store;
    pthread_mutex_t cp_mu;   /* serialises checkpoint consistency checks */
    /* Checkpoints already proven consistent with the stored chain, by tree
     * size (direct-mapped): a receipt naming one of them needs no tile
     * fetch, and one naming a known size with another root is a split view
     * at once.  Under cp_mu. */
    struct { uint64_t size; uint8_t root[32]; int valid; } known[CP_CACHE];
    pthread_mutex_t note_mu;
    struct { uint8_t hash[32]; uint64_t size; uint8_t root[32]; int valid; } notes[NOTE_CACHE];
    /* Unauthenticated refusals of the current minute (under un_mu). */
    pthread_mutex_t un_mu;
    int64_t un_minute;
    unsigned un_rows;
    uint64_t un_dropped;
    /* /metrics: answers by outcome, refusals by kind (the audit table's). */
    _Atomic uint64_t m_answered, m_pending, m_denied, m_refused[16];
};

/* The refusal kinds the audit table records, counted for /metrics. */
static const char *const refusal_kinds[] = {
    "bad-receipt", "bad-request", "requester-not-allowed", "other-authority", "log-policy",
    "not-logged", "bad-target", "outside-window", "split-view", "consistency-unchecked",
    "storage", NULL};

static void count_refusal(struct agent *a, const char *kind)
{
    for (size_t i = 0; refusal_kinds[i]; i++)
        if (!strcmp(refusal_kinds[i], kind)) {
            atomic_fetch_add_explicit(&a->m_refused[i], 1, memory_order_relaxed);
            return;
        }
}

/* The summary row of a minute's unrecorded refusals; detail starts with the
 * count, so CAST(detail AS INTEGER) sums them. */
static void unauth_summary(struct agent *a, int64_t minute, uint64_t dropped)
{
    char detail[128], tm[FK_REQUEST_TIME_STR_LEN + 1];
    fk_request_time_format(tm, minute * 60);
    snprintf(detail, sizeof detail,
             "%llu unauthenticated refusals in the minute from %s not recorded one by one",
             (unsigned long long)dropped, tm);
    agent_store_refusal(a->store, "unauthenticated-summary", detail);
}

/* Record a refusal that needs no logged request: in full up to
 * AGENT_UNAUTH_ROWS_PER_MIN a minute, then counted. */
static void refuse_unauth(struct agent *a, const char *kind, const char *detail)
{
    count_refusal(a, kind);
    int64_t minute = (int64_t)time(NULL) / 60, flush_minute = 0;
    uint64_t flush = 0;
    pthread_mutex_lock(&a->un_mu);
    if (minute != a->un_minute) {
        flush = a->un_dropped;
        flush_minute = a->un_minute;
        a->un_minute = minute;
        a->un_rows = 0;
        a->un_dropped = 0;
    }
    int record = a->un_rows < AGENT_UNAUTH_ROWS_PER_MIN;
    if (record)
        a->un_rows++;
    else
        a->un_dropped++;
    pthread_mutex_unlock(&a->un_mu);
    if (flush)
        unauth_summary(a, flush_minute, flush);
    if (record)
        agent_store_refusal(a->store, kind, detail);
}

static void reply(struct fki_net_response *resp, int status, const char *state, const char *msg,
                  json_t *extra)
{
    json_t *o = extra ? extra : json_object();
    json_object_set_new(o, "status", json_string(state));
    if (msg)
        json_object_set_new(o, "error", json_string(msg));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    static __thread char buf[1024];
    size_t n = s ? strlen(s) : 0;
    if (n >= sizeof buf)
        n = 0;
    memcpy(buf, s ? s : "", n);
    buf[n] = '\n';
    free(s);
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = buf;
    resp->body_len = n + 1;
}

static void remember(struct agent *a, uint64_t size, const uint8_t root[32])
{
    size_t i = (size_t)(size % CP_CACHE);
    a->known[i].size = size;
    memcpy(a->known[i].root, root, 32);
    a->known[i].valid = 1;
}

/* Are two checkpoints of the log consistent, whichever is newer?  Proven
 * from the log's tiles against both roots; FK_ERR_PROOF: a split view. */
static fk_err consistent(struct agent *a, const fk_checkpoint *x, const fk_checkpoint *y)
{
    return x->size <= y->size ? fki_log_client_consistent(&a->log, x, y)
                              : fki_log_client_consistent(&a->log, y, x);
}

/* Is the receipt's checkpoint consistent with the newest one this agent has
 * seen?  Then remember the newer of the two. */
static fk_err check_checkpoint(struct agent *a, const fk_checkpoint *cp, const char *note,
                               size_t note_len)
{
    fk_checkpoint seen;
    fk_err err;
    memset(&seen, 0, sizeof seen);
    pthread_mutex_lock(&a->cp_mu);
    size_t slot = (size_t)(cp->size % CP_CACHE);
    if (a->known[slot].valid && a->known[slot].size == cp->size) {
        err = memcmp(a->known[slot].root, cp->root, 32) ? FK_ERR_PROOF : FK_OK;
        pthread_mutex_unlock(&a->cp_mu);
        return err;
    }
    err = agent_store_checkpoint(a->store, &seen.size, seen.root);
    if (err == FK_ERR_NOT_FOUND) {
        /* First checkpoint: compare with what the log serves now, so a
         * receipt from a forked log is caught even on a fresh agent. */
        fk_checkpoint cur;
        err = fki_log_client_checkpoint(&a->log, &cur, NULL);
        if (!err)
            err = consistent(a, cp, &cur);
    } else if (!err) {
        err = consistent(a, &seen, cp);
        if (!err)
            remember(a, seen.size, seen.root);
    }
    if (!err && (cp->size > seen.size))
        err = agent_store_set_checkpoint(a->store, cp->size, cp->root, note, note_len);
    if (!err)
        remember(a, cp->size, cp->root);
    pthread_mutex_unlock(&a->cp_mu);
    return err;
}

/* The receipt proves the request (leaf hash eh) is in the log: the
 * checkpoint is signed by the log key, with its name as origin, cosigned as
 * the log policy's quorum asks (FK_ERR_POLICY if not), and the inclusion
 * proof leads from eh to its root.  cp gets size and root. */
static fk_err verify_receipt(struct agent *a, const fk_tlog_proof *p, const uint8_t eh[32],
                             fk_checkpoint *cp)
{
    uint8_t h[32];
    fk_err err = fk_request_entry_hash(h, p->checkpoint, p->checkpoint_len);
    if (err)
        return err;
    size_t slot = ((size_t)h[0] << 8 | h[1]) % NOTE_CACHE;
    int hit = 0;
    pthread_mutex_lock(&a->note_mu);
    if (a->notes[slot].valid && !memcmp(a->notes[slot].hash, h, 32)) {
        memset(cp, 0, sizeof *cp);
        cp->size = a->notes[slot].size;
        memcpy(cp->root, a->notes[slot].root, 32);
        hit = 1;
    }
    pthread_mutex_unlock(&a->note_mu);
    if (hit) {
        if (p->index >= cp->size)
            return FK_ERR_PROOF;
        return fk_tlog_verify_inclusion(p->index, cp->size, eh,
                                        (const uint8_t(*)[FK_TLOG_HASH_LEN])p->proof, p->nproof,
                                        cp->root);
    }
    fk_note note;
    if ((err = fk_tlog_proof_verify(p, eh, a->log.key.name, &a->log.key, 1, cp, &note)) ||
        (err = fk_tlog_policy_quorum(&a->policy, &note, NULL)))
        return err;
    cp->ext = NULL; /* pointed into the request body */
    cp->ext_len = 0;
    pthread_mutex_lock(&a->note_mu);
    memcpy(a->notes[slot].hash, h, 32);
    a->notes[slot].size = cp->size;
    memcpy(a->notes[slot].root, cp->root, 32);
    a->notes[slot].valid = 1;
    pthread_mutex_unlock(&a->note_mu);
    return FK_OK;
}

/* GET /metrics: Prometheus text (docs/operations.md 4). */
static void metrics(struct agent *a, struct fki_net_response *resp)
{
    fki_metrics_out m;
    if (fki_metrics_begin(&m)) {
        reply(resp, 503, "error", "out of memory", NULL);
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    fki_metrics_common(&m, a->srv, (double)(now.tv_sec - a->started.tv_sec));
    fki_metrics_family(&m, "fairkey_agent_requests_total", "counter",
                       "Recovery requests by outcome: answered, pending (manual approval), "
                       "denied by the operator.");
    fki_metrics_sample(&m, "fairkey_agent_requests_total", "outcome", "answered",
                       (double)atomic_load(&a->m_answered));
    fki_metrics_sample(&m, "fairkey_agent_requests_total", "outcome", "pending",
                       (double)atomic_load(&a->m_pending));
    fki_metrics_sample(&m, "fairkey_agent_requests_total", "outcome", "denied",
                       (double)atomic_load(&a->m_denied));
    fki_metrics_family(&m, "fairkey_agent_refused_total", "counter",
                       "Recovery requests refused, by reason (the audit table's kinds).");
    for (size_t i = 0; refusal_kinds[i]; i++)
        fki_metrics_sample(&m, "fairkey_agent_refused_total", "reason", refusal_kinds[i],
                           (double)atomic_load(&a->m_refused[i]));
    fki_metrics_one(&m, "fairkey_agent_manual", "gauge",
                    "1: requests wait for 'fairkey agent approve' (reloaded on SIGHUP).",
                    atomic_load(&a->manual));
    pthread_rwlock_rdlock(&a->req_lock);
    double nreq = (double)a->nrequesters;
    pthread_rwlock_unlock(&a->req_lock);
    fki_metrics_one(&m, "fairkey_agent_requesters", "gauge",
                    "Lines of the requesters allow-list; 0: any signed requester.",
                    nreq);
    fki_metrics_one(&m, "fairkey_agent_share_index", "gauge",
                    "This agent's share index.",
                    (double)a->share->index);
    fki_metrics_respond(&m, resp);
}

static void handle(void *ctx, const struct fki_net_request *req, struct fki_net_response *resp)
{
    struct agent *a = ctx;
    if (!strcmp(req->path, "/metrics") && !strcmp(req->method, "GET")) {
        metrics(a, resp);
        return;
    }
    if (strcmp(req->path, "/recover")) {
        int health = !strcmp(req->path, "/healthz");
        if (!strcmp(req->method, "GET") && (health || !strcmp(req->path, "/"))) {
            json_t *o = json_object();
            json_object_set_new(o, "authority", json_string(a->idhex));
            json_object_set_new(o, "index", json_integer(a->share->index));
            if (health) {
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                json_object_set_new(o, "uptime_s", json_integer(now.tv_sec - a->started.tv_sec));
            }
            reply(resp, 200, "ok", NULL, o);
            return;
        }
        reply(resp, 404, "error", "no such endpoint; POST /recover, GET /healthz, GET /metrics",
              NULL);
        return;
    }
    if (strcmp(req->method, "POST")) {
        reply(resp, 405, "error", "use POST", NULL);
        return;
    }
    fk_tlog_proof *p = malloc(sizeof *p);
    char note[FK_REQUEST_NOTE_MAX + 1];
    size_t note_len;
    fk_request r;
    uint8_t eh[32];
    fk_checkpoint cp;
    fk_err err;
    char detail[256];
    if (!p) {
        reply(resp, 500, "error", "out of memory", NULL);
        return;
    }
    if (!req->body || fk_request_receipt_parse(p, note, &note_len, (const char *)req->body, req->body_len)) {
        count_refusal(a, "bad-receipt");
        reply(resp, 400, "refused", "body is not a receipt (tlog-proof with the request as extra)", NULL);
        goto out;
    }
    if ((err = fk_request_verify(&r, note, note_len))) {
        refuse_unauth(a, "bad-request", fk_strerror(err));
        reply(resp, 403, "refused",
              err == FK_ERR_SIGNATURE ? "the request's signature does not verify"
                                      : "the request is malformed",
              NULL);
        goto out;
    }
    pthread_rwlock_rdlock(&a->req_lock);
    int denied_requester = a->requesters && fk_requesters_allowed(a->requesters, a->requesters_len,
                                                                  r.requester, r.requester_key);
    pthread_rwlock_unlock(&a->req_lock);
    if (denied_requester) {
        snprintf(detail, sizeof detail, "requester %s", r.requester);
        refuse_unauth(a, "requester-not-allowed", detail);
        reply(resp, 403, "refused", "requester not allowed by this agent's policy", NULL);
        goto out;
    }
    if (strcmp(r.authority, a->idhex)) {
        snprintf(detail, sizeof detail, "authority %.64s", r.authority);
        refuse_unauth(a, "other-authority", detail);
        reply(resp, 403, "refused", "the request names another authority; send it to that "
                                    "authority's agents", NULL);
        goto out;
    }
    fk_request_entry_hash(eh, note, note_len);
    if ((err = verify_receipt(a, p, eh, &cp))) {
        snprintf(detail, sizeof detail, "index %llu: %s", (unsigned long long)p->index,
                 fk_strerror(err));
        if (err == FK_ERR_POLICY) {
            count_refusal(a, "log-policy");
            agent_store_refusal(a->store, "log-policy", detail);
            reply(resp, 403, "refused",
                  "the receipt's checkpoint lacks the witness cosignatures this agent's log "
                  "policy requires; get a receipt under a checkpoint the witnesses cosigned",
                  NULL);
            goto out;
        }
        refuse_unauth(a, "not-logged", detail);
        reply(resp, 403, "refused", "the receipt does not prove the request is in the log", NULL);
        goto out;
    }
    /* The target must be a genuine escrow stanza of this authority: its
     * validity proof shows the requester's E was made by someone who knew
     * its r, so s_i*E tells them nothing they could not compute, and the
     * log holds the very E an owner's audit compares.  A blinded point
     * (c*E, E + x*B, -E, ...) has no proof: refused before any other work
     * on it, and recorded.  After the receipt check, so every such row is
     * of a logged request (the log's admission rate bounds them). */
    if ((err = fk_request_target_verify(&r, a->auth->pk))) {
        char e64[48];
        fk_b64_encode(e64, r.target, 32);
        snprintf(detail, sizeof detail, "requester %s target %s: %s", r.requester, e64,
                 err == FK_ERR_PROOF ? "validity proof does not verify" : fk_strerror(err));
        count_refusal(a, "bad-target");
        agent_store_refusal(a->store, "bad-target", detail);
        reply(resp, 400, "refused",
              "the request's target is not an escrow stanza of this authority (its validity "
              "proof does not verify); copy the target from the file with 'fairkey request'",
              NULL);
        goto out;
    }
    int64_t now = (int64_t)time(NULL);
    if (r.time < now - REC_WINDOW_S || r.time > now + REC_SKEW_S) {
        char tm[FK_REQUEST_TIME_STR_LEN + 1];
        fk_request_time_format(tm, r.time);
        snprintf(detail, sizeof detail, "index %llu: time %s, %s", (unsigned long long)p->index,
                 tm, r.time > now ? "in the future" : "too old");
        count_refusal(a, "outside-window");
        agent_store_refusal(a->store, "outside-window", detail);
        reply(resp, 403, "refused",
              r.time > now ? "the request is dated in the future; check the requester's clock and "
                             "file a new one"
                           : "the request is older than the 24 h window; file a new one",
              NULL);
        goto out;
    }
    if ((err = check_checkpoint(a, &cp, p->checkpoint, p->checkpoint_len))) {
        snprintf(detail, sizeof detail, "receipt checkpoint size %llu: %s",
                 (unsigned long long)cp.size, fk_strerror(err));
        count_refusal(a, err == FK_ERR_PROOF ? "split-view" : "consistency-unchecked");
        agent_store_refusal(a->store, err == FK_ERR_PROOF ? "split-view" : "consistency-unchecked",
                            detail);
        reply(resp, err == FK_ERR_PROOF ? 409 : 503, "refused",
              err == FK_ERR_PROOF ? "the receipt's checkpoint is inconsistent with the log this agent saw (split view)"
                                  : "cannot check the checkpoint against the log; try again",
              NULL);
        goto out;
    }
    int status = AGENT_PENDING;
    int64_t id = 0;
    char denial[AGENT_DENIAL_MAX + 1];
    /* A denied request is never answered, in manual mode or not; in manual
     * mode only what an operator approved is. */
    err = agent_store_get(a->store, eh, &status, &id, denial, sizeof denial);
    if (err && err != FK_ERR_NOT_FOUND) {
        count_refusal(a, "storage");
        reply(resp, 500, "error", "agent storage failed; try again", NULL);
        goto out;
    }
    if (!err && status == AGENT_DENIED) {
        char msg[AGENT_DENIAL_MAX + 64];
        snprintf(msg, sizeof msg, "denied by this agent's operator%s%s", denial[0] ? ": " : "",
                 denial);
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(id));
        atomic_fetch_add_explicit(&a->m_denied, 1, memory_order_relaxed);
        reply(resp, 403, "denied", msg, o);
        goto out;
    }
    if (atomic_load(&a->manual) && (err == FK_ERR_NOT_FOUND || status == AGENT_PENDING)) {
        atomic_fetch_add_explicit(&a->m_pending, 1, memory_order_relaxed);
        int fresh = err == FK_ERR_NOT_FOUND;
        if (agent_store_put(a->store, eh, p->index, &r, note, AGENT_PENDING, &id)) {
            count_refusal(a, "storage");
        reply(resp, 500, "error", "agent storage failed; try again", NULL);
            goto out;
        }
        if (fresh) {
            /* The operator's cue: one line per request that waits for them. */
            char war[2 * FK_REQUEST_HASH_LEN + 1];
            fk_hex_encode(war, r.warrant, sizeof r.warrant);
            fprintf(stderr, "fairkey agent: request %lld (log index %llu, requester %s, warrant "
                            "%.16s...) awaits approval: fairkey agent approve|deny --state %s "
                            "%lld\n",
                    (long long)id, (unsigned long long)p->index, r.requester, war, a->state,
                    (long long)id);
        }
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(id));
        reply(resp, 202, "pending", NULL, o);
        goto out;
    }
    fk_escrow_partial part;
    uint8_t plain[FK_ESCROW_PARTIAL_LEN], sealed[FK_ESCROW_PARTIAL_LEN + FK_ANSWER_OVERHEAD];
    size_t sl;
    if ((err = fk_escrow_partial_decrypt(&part, a->auth, a->share, r.target, eh, sizeof eh))) {
        fk_wipe(&part, sizeof part);
        snprintf(detail, sizeof detail, "index %llu: %s", (unsigned long long)p->index,
                 fk_strerror(err));
        count_refusal(a, "bad-target");
        agent_store_refusal(a->store, "bad-target", detail);
        reply(resp, 400, "refused", "cannot compute the partial decryption for this target",
              NULL);
        goto out;
    }
    /* The audit row is durable before anything leaves this process. */
    if (agent_store_put(a->store, eh, p->index, &r, note, AGENT_ANSWERED, &id)) {
        fk_wipe(&part, sizeof part);
        count_refusal(a, "storage");
        reply(resp, 500, "error", "agent storage failed; not answering", NULL);
        goto out;
    }
    fk_escrow_partial_encode(plain, &part);
    err = fk_answer_seal(sealed, sizeof sealed, &sl, r.reply_to, eh, a->share->index, plain,
                         sizeof plain);
    fk_wipe(&part, sizeof part);
    fk_wipe(plain, sizeof plain);
    char *b = err ? NULL : rec_b64(sealed, sl);
    if (!b) {
        reply(resp, 500, "error", "cannot seal the answer; try again", NULL);
        goto out;
    }
    json_t *o = json_object();
    json_object_set_new(o, "agent", json_integer(a->share->index));
    json_object_set_new(o, "id", json_integer(id));
    json_object_set_new(o, "answer", json_string(b));
    free(b);
    atomic_fetch_add_explicit(&a->m_answered, 1, memory_order_relaxed);
    reply(resp, 200, "answered", NULL, o);
out:
    free(p);
}

static int load_share(struct agent *a, const char *path)
{
    char *text;
    size_t len;
    /* A share others can read, or someone else's, is refused as the log
     * refuses such a key: one copy too many of the agent's secret.  (From
     * standard input, "-", it is the caller's pipe: not checked.) */
    int fd = cli_open_in(path, 1);
    if (fd < 0)
        return -1;
    struct stat st;
    const char *why = NULL;
    memset(&st, 0, sizeof st);
    if (fd > STDERR_FILENO)
        why = fstat(fd, &st) ? "cannot be examined" : fki_secret_file_problem(&st);
    cli_close_in(fd);
    if (why) {
        if (S_ISREG(st.st_mode) && st.st_uid == geteuid())
            cli_err("%s %s; run 'chmod 600 %s' (a share is the agent's secret)", path, why, path);
        else
            cli_err("%s %s; keep the share in a regular file of your own, mode 0600", path, why);
        return -1;
    }
    if (cli_read_file(path, FK_ESCROW_SHARE_TEXT_MAX, 1, &text, &len))
        return -1;
    if (fk_escrow_share_alloc(&a->share, 1)) {
        cli_free_secret(text, len);
        cli_err("cannot allocate guarded memory for the share (out of memory); free memory "
                "and start the agent again");
        return -1;
    }
    fk_err err = fk_escrow_share_parse(a->share, text, len);
    cli_free_secret(text, len);
    if (err || fk_escrow_share_verify(a->auth, a->share)) {
        cli_err("%s is not a share of this authority; check --share and --authority", path);
        return -1;
    }
    return 0;
}

/* Read and check the --requesters file; 0 with the text, or -1 after one
 * line on stderr. */
static int read_requesters(const char *path, char **text, size_t *len)
{
    if (cli_read_file(path, CLI_KEYFILE_MAX, 0, text, len))
        return -1;
    uint8_t zero[32] = {0};
    if (fk_requesters_allowed(*text, *len, "x", zero) == FK_ERR_INVALID) {
        cli_err("%s is not a requesters file (lines: NAME BASE64-ED25519-KEY)", path);
        free(*text);
        *text = NULL;
        return -1;
    }
    return 0;
}

static const struct option serve_opts[] = {
    {"share", required_argument, 0, 's'},      {"authority", required_argument, 0, 'a'},
    {"log", required_argument, 0, 'l'},        {"log-vkey", required_argument, 0, 'k'},
    {"listen", required_argument, 0, 'L'},     {"requesters", required_argument, 0, 'r'},
    {"manual", no_argument, 0, 'm'},           {"state", required_argument, 0, 'd'},
    {"log-policy", required_argument, 0, 'P'}, {"help", no_argument, 0, 'h'},
    {"config", required_argument, 0, 'c'},     {"cacert", required_argument, 0, 'A'},
    {0, 0, 0, 0},
};

/* What `agent serve` reads from its command line and --config file. */
struct serve_args {
    struct fki_conf_argv av;   /* the strings below point into it */
    const char *share, *authp, *listen, *reqp, *state, *vkey, *logurl, *policy;
    int manual;
};

/* FK_EXIT_OK with *a filled (free a->av), or an exit code with a->share
 * NULL (help printed: FK_EXIT_OK); reloading, no usage text (one cli_err
 * line). */
static int parse_serve(int argc, char **argv, int reloading, struct serve_args *a)
{
    char err[FKI_CONF_ERR_MAX];
    int c;
    memset(a, 0, sizeof *a);
    if (fki_conf_argv_build(&a->av, fki_conf_path(argc, argv), "agent serve", serve_opts, argc,
                            argv, err)) {
        cli_err("%s", err);
        return FK_EXIT_USAGE;
    }
    optind = 0;   /* GNU: start afresh on this vector */
    opterr = !reloading;
    while ((c = getopt_long(a->av.argc, a->av.argv, "h", serve_opts, NULL)) != -1) {
        switch (c) {
        case 'A':
            /* At start only: the https calls of a running agent keep their CA. */
            if (!reloading && rec_cacert(optarg)) {
                fki_conf_argv_free(&a->av);
                memset(a, 0, sizeof *a);
                return FK_EXIT_USAGE;
            }
            break;
        case 'c': break;   /* read above */
        case 's': a->share = optarg; break;
        case 'a': a->authp = optarg; break;
        case 'l': a->logurl = optarg; break;
        case 'k': a->vkey = optarg; break;
        case 'P': a->policy = optarg; break;
        case 'L': a->listen = optarg; break;
        case 'r': a->reqp = optarg; break;
        case 'm': a->manual = 1; break;
        case 'd': a->state = optarg; break;
        case 'h':
            fki_conf_argv_free(&a->av);
            memset(a, 0, sizeof *a);
            printf("usage: fairkey %s\n", SERVE_USAGE);
            return FK_EXIT_OK;
        default:
            fki_conf_argv_free(&a->av);
            memset(a, 0, sizeof *a);
            if (reloading) {
                cli_err("bad option in the command line or configuration");
                return FK_EXIT_USAGE;
            }
            return cli_usage(SERVE_USAGE);
        }
    }
    if (!a->share || !a->authp || !a->listen || optind != a->av.argc) {
        fki_conf_argv_free(&a->av);
        memset(a, 0, sizeof *a);
        if (reloading || fki_conf_path(argc, argv)) {
            cli_err("give share, authority and listen (flags --share, --authority, --listen, "
                    "or lines in --config)");
            return FK_EXIT_USAGE;
        }
        return cli_usage(SERVE_USAGE);
    }
    return FK_EXIT_OK;
}

/* SIGHUP: read the --config file and the requesters file again; swap the
 * requesters list in whole and apply manual, or keep everything as it was.
 * One line on stderr either way.  Connections go on. */
static void reload(struct agent *a, int argc, char **argv)
{
    struct serve_args n;
    char *text = NULL;
    size_t len = 0;
    cli_err_quiet(1);
    int rc = parse_serve(argc, argv, 1, &n);
    if (!rc && n.reqp && read_requesters(n.reqp, &text, &len))
        rc = FK_EXIT_FAIL;
    cli_err_quiet(0);
    if (rc) {
        fprintf(stderr, "fairkey agent: SIGHUP: %s; kept the previous configuration\n",
                cli_err_last()[0] ? cli_err_last() : "cannot reload");
        fki_conf_argv_free(&n.av);
        fki_metrics_reloaded(0);
        return;
    }
    pthread_rwlock_wrlock(&a->req_lock);
    char *old = a->requesters;
    a->requesters = text;
    a->requesters_len = len;
    a->nrequesters = fki_metrics_count_lines(text, len);
    pthread_rwlock_unlock(&a->req_lock);
    atomic_store(&a->manual, n.manual);
    free(old);
    fprintf(stderr, "fairkey agent: SIGHUP: reloaded; %s%s, %s approval\n",
            n.reqp ? "requesters from " : "any signed requester", n.reqp ? n.reqp : "",
            n.manual ? "manual" : "automatic");
    fki_conf_argv_free(&n.av);
    fki_metrics_reloaded(1);
}

static int serve_main(int argc, char **argv)
{
    static struct agent a; /* large (checkpoint cache): not on the stack */
    static cli_authlog al;
    struct serve_args sa;
    int rc = FK_EXIT_FAIL, lock_fd = -1;
    memset(&a, 0, sizeof a);
    int prc = parse_serve(argc, argv, 0, &sa);
    if (prc || !sa.share)
        return prc;
    const char *share = sa.share, *authp = sa.authp, *listen = sa.listen, *reqp = sa.reqp,
               *state = sa.state, *vkey = sa.vkey, *logurl = sa.logurl, *policy = sa.policy;
    a.manual = sa.manual;
    if (!(a.auth = rec_load_authority(authp)))
        goto out;
    /* The authority's log and policy: receipts from any other log fail the
     * vkey check, and an agent told of another log does not start. */
    if (cli_authority_log(&al, a.auth, logurl, vkey, policy) ||
        rec_log_open(&a.log, al.url, al.vkey))
        goto out;
    a.policy = al.policy;
    if (load_share(&a, share))
        goto out;
    fk_escrow_id_hex(a.idhex, a.auth->id);
    if (reqp && read_requesters(reqp, &a.requesters, &a.requesters_len))
        goto out;
    a.nrequesters = fki_metrics_count_lines(a.requesters, a.requesters_len);
    if (!a.requesters) {
        fprintf(stderr, "fairkey agent: no --requesters file: any requester with a logged, "
                        "signed request is answered\n");
    }
    char defstate[64];
    if (!state) {
        snprintf(defstate, sizeof defstate, "fairkey-agent-%u", a.share->index);
        state = defstate;
    }
    a.state = state;
    clock_gettime(CLOCK_MONOTONIC, &a.started);
    cli_err_quiet(1);
    a.store = agent_store_open(state, 1);
    cli_err_quiet(0);
    if (!a.store) {
        char buf[512];
        const char *full = fki_storage_problem(state, buf, sizeof buf);
        cli_err("%s", full ? full : cli_err_last());
        goto out;
    }
    /* One agent per state folder: two would answer from one audit table
     * and race on its checkpoint. */
    if ((lock_fd = fki_dir_lock(state)) < 0) {
        if (errno == EWOULDBLOCK)
            cli_err("another agent serves state folder %s; stop it first, or pass another --state",
                    state);
        else
            cli_err("cannot lock %s/lock: %s; pass a writable --state", state, strerror(errno));
        goto out;
    }
    pthread_mutex_init(&a.cp_mu, NULL);
    pthread_mutex_init(&a.note_mu, NULL);
    pthread_mutex_init(&a.un_mu, NULL);
    pthread_rwlock_init(&a.req_lock, NULL);

    sigset_t set;
    fki_serve_signals(&set); /* SIGHUP reloads; server threads inherit the mask */
    struct fki_net_server_config cfg = {
        .listen = listen, .max_body = REC_RECEIPT_MAX, .handler = handle, .ctx = &a,
        .threads = 8, /* handlers block on SQLite commits: overlap them */
    };
    fki_net_server *srv;
    fk_err err = fki_net_server_start(&srv, &cfg);
    if (err) {
        cli_err("%s", fki_net_server_error());
        goto out_mu;
    }
    a.srv = srv;
    printf("agent %u of %u (authority %.16s...) listening on port %u\n", a.share->index, a.auth->n,
           a.idhex, fki_net_server_port(srv));
    fflush(stdout);
    int sig;
    while (!sigwait(&set, &sig) && sig == SIGHUP)
        reload(&a, argc, argv);
    fki_net_server_stop(srv);
    if (a.un_dropped)
        unauth_summary(&a, a.un_minute, a.un_dropped);
    rc = FK_EXIT_OK;
out_mu:
    pthread_mutex_destroy(&a.cp_mu);
    pthread_mutex_destroy(&a.note_mu);
    pthread_mutex_destroy(&a.un_mu);
    pthread_rwlock_destroy(&a.req_lock);
out:
    fki_log_client_close(&a.log);
    agent_store_close(a.store);
    if (lock_fd >= 0)
        close(lock_fd); /* releases the lock */
    if (a.share)
        fk_escrow_share_free(a.share, 1);
    free(a.auth);
    free(a.requesters);
    fki_conf_argv_free(&sa.av);
    return rc;
}

static void print_row(void *ctx, int64_t id, int status, int64_t log_index, const char *requester,
                      const char *reason, const char *tm, const char *target, const char *warrant,
                      const char *denial)
{
    static const char *names[] = {"pending", "approved", "answered", "denied"};
    (void)ctx;
    printf("%lld\t%s\tlog index %lld\t%s\t%s\ttarget %s\twarrant %s\t%s", (long long)id,
           status >= 0 && status <= 3 ? names[status] : "?", (long long)log_index, tm, requester,
           target, warrant ? warrant : "?", reason);
    if (status == AGENT_DENIED)
        printf("\tdenied: %s", denial && denial[0] ? denial : "(no reason given)");
    putchar('\n');
}

enum admin { ADMIN_PENDING, ADMIN_APPROVE, ADMIN_DENY };

static int admin_main(int argc, char **argv, enum admin what)
{
    static const struct option opts[] = {{"state", required_argument, 0, 'd'},
                                         {"all", no_argument, 0, 'A'},
                                         {"reason", required_argument, 0, 'R'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *state = NULL, *reason = "";
    int c, all = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            state = optarg;
        else if (c == 'A' && what == ADMIN_PENDING)
            all = 1;
        else if (c == 'R' && what == ADMIN_DENY)
            reason = optarg;
        else
            return cli_usage(SERVE_USAGE);
    }
    if (!state || optind != argc - (what != ADMIN_PENDING ? 1 : 0))
        return cli_usage(SERVE_USAGE);
    size_t rl = strlen(reason);
    for (size_t i = 0; i < rl; i++) {
        if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f) {
            cli_err("--reason must be one line of text (no control characters)");
            return FK_EXIT_USAGE;
        }
    }
    if (rl > AGENT_DENIAL_MAX) {
        cli_err("--reason is longer than %d bytes; shorten it (it goes back to the requester)",
                AGENT_DENIAL_MAX);
        return FK_EXIT_USAGE;
    }
    long long id = 0;
    if (what != ADMIN_PENDING) {
        char *end;
        id = strtoll(argv[optind], &end, 10);
        if (*end || id <= 0 || end == argv[optind]) {
            cli_err("'%s' is not a request id; see 'fairkey agent pending --state %s'",
                    argv[optind], state);
            return FK_EXIT_USAGE;
        }
    }
    agent_store *s = agent_store_open(state, 0);
    if (!s)
        return FK_EXIT_FAIL;
    int rc = FK_EXIT_OK;
    fk_err err;
    switch (what) {
    case ADMIN_APPROVE:
        if ((err = agent_store_approve(s, id))) {
            cli_err("no pending request with id %lld; see 'fairkey agent pending --state %s'", id,
                    state);
            rc = FK_EXIT_FAIL;
        } else {
            printf("approved request %lld; the agent answers it when the requester asks again\n",
                   id);
        }
        break;
    case ADMIN_DENY:
        if ((err = agent_store_deny(s, id, reason))) {
            cli_err(err == FK_ERR_NOT_FOUND
                        ? "no pending or approved request with id %lld (an answered one cannot be "
                          "denied); see 'fairkey agent pending --all --state %s'"
                        : "cannot deny request %lld: the agent database in %s failed",
                    id, state);
            rc = FK_EXIT_FAIL;
        } else {
            printf("denied request %lld; the agent refuses it (403) whenever it is asked again\n",
                   id);
        }
        break;
    case ADMIN_PENDING:
        if (agent_store_list(s, !all, print_row, NULL)) {
            cli_err("cannot read the agent database in %s; check --state", state);
            rc = FK_EXIT_FAIL;
        }
        break;
    }
    agent_store_close(s);
    return rc;
}

/* 'agent backup' and 'agent restore' (docs/operations.md section 7): the
 * audit table goes through SQLite's online backup, never a file copy of a
 * live WAL database.  The share is not in the state folder and not in the
 * backup. */
static int backup_main(int argc, char **argv, int restore)
{
    static const struct option opts[] = {{"state", required_argument, 0, 'd'},
                                         {"out", required_argument, 0, 'o'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *state = NULL, *out = NULL;
    int c;
    while ((c = getopt_long(argc, argv, restore ? "h" : "o:h", opts, NULL)) != -1) {
        if (c == 'd')
            state = optarg;
        else if (c == 'o' && !restore)
            out = optarg;
        else if (c == 'h') {
            printf("usage: fairkey %s\n", SERVE_USAGE);
            return FK_EXIT_OK;
        } else
            return cli_usage(SERVE_USAGE);
    }
    if (!state || (restore ? optind != argc - 1 : !out || optind != argc))
        return cli_usage(SERVE_USAGE);
    if (out && !strcmp(out, "-")) {
        cli_err("agent backup writes a database file, not standard output; give -o FILE");
        return FK_EXIT_USAGE;
    }
    struct agent_store_stats st;
    if (!restore) {
        if (agent_store_backup(state, out, &st))
            return FK_EXIT_FAIL;
        printf("backed up %s/agent.db to %s: %lld requests (%lld answered, %lld denied), "
               "checkpoint at tree size %lld\n", state, out, (long long)st.requests,
               (long long)st.answered, (long long)st.denied, (long long)st.checkpoint_size);
        return FK_EXIT_OK;
    }
    const char *file = argv[optind];
    if (mkdir(state, 0700) && errno != EEXIST) {
        cli_err("cannot create state folder %s: %s; pass a writable --state", state,
                strerror(errno));
        return FK_EXIT_FAIL;
    }
    /* The agent's own lock: no agent serves the folder while it is filled. */
    int lock_fd = fki_dir_lock(state);
    if (lock_fd < 0) {
        if (errno == EWOULDBLOCK)
            cli_err("an agent serves state folder %s; stop it first", state);
        else
            cli_err("cannot lock %s/lock: %s; pass a writable --state", state, strerror(errno));
        return FK_EXIT_FAIL;
    }
    int rc = agent_store_restore(file, state, &st) ? FK_EXIT_FAIL : FK_EXIT_OK;
    close(lock_fd);
    if (rc == FK_EXIT_OK)
        printf("restored %s/agent.db from %s: %lld requests (%lld answered, %lld denied), "
               "checkpoint at tree size %lld; start the agent\n", state, file,
               (long long)st.requests, (long long)st.answered, (long long)st.denied,
               (long long)st.checkpoint_size);
    return rc;
}

int cmd_agent_main(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage(SERVE_USAGE);
    if (!strcmp(argv[1], "serve"))
        return serve_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "pending"))
        return admin_main(argc - 1, argv + 1, ADMIN_PENDING);
    if (!strcmp(argv[1], "approve"))
        return admin_main(argc - 1, argv + 1, ADMIN_APPROVE);
    if (!strcmp(argv[1], "deny"))
        return admin_main(argc - 1, argv + 1, ADMIN_DENY);
    if (!strcmp(argv[1], "backup"))
        return backup_main(argc - 1, argv + 1, 0);
    if (!strcmp(argv[1], "restore"))
        return backup_main(argc - 1, argv + 1, 1);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        printf("usage: fairkey " SERVE_USAGE "\n");
        return FK_EXIT_OK;
    }
    return cli_usage(SERVE_USAGE);
}
