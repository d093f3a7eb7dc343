/*
 * server.c - a C2SP tlog-witness: POST /add-checkpoint verifies a log's
 * checkpoint against the logs it was configured with and the latest size it
 * cosigned for that origin (consistency proof), stores the new latest in
 * SQLite (durable before answering) and answers a cosignature/v1 line.
 * GET /<sha256(origin) hex>/checkpoint serves the latest cosigned checkpoint
 * (the monitoring path).  One mutex makes check-and-store atomic, as the
 * spec requires (two racing requests could otherwise roll the size back).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "svc/keyfile.h"
#include "net/net.h"
#include "svc/metrics.h"
#include "witness/witness.h"

#define HL FK_TLOG_HASH_LEN
/* Longest stored checkpoint we serve: the note with the log's lines that
 * verified and our own line. */
#define STORED_MAX (FK_NOTE_MAX_SIZE + FK_COSIG_LINE_MAX)

struct wlog {
    fk_note_verifier key;
    char origin_hash[2 * HL + 1]; /* lowercase hex of SHA-256(origin) */
};

struct fki_witnessd {
    fk_cosigner key;
    fk_note_verifier vkey;
    struct wlog logs[FKI_WITNESS_MAX_LOGS];
    size_t nlogs;
    pthread_rwlock_t logs_lock; /* logs and nlogs: replaced on SIGHUP */
    sqlite3 *db;
    pthread_mutex_t mu; /* the db, and check-then-store */
    fki_net_server *srv;
    struct timespec started; /* monotonic, for /healthz */
    _Atomic uint64_t m_cosigned;
    _Atomic uint64_t m_refused[7];   /* by enum refusal */
};

/* Why add-checkpoint was refused, for fairkey_witness_refused_total. */
enum refusal { R_MALFORMED, R_UNKNOWN_LOG, R_SIGNATURE, R_CONFLICT, R_PROOF, R_STORAGE,
               R_OTHER, R_COUNT };
static const char *const refusal_names[R_COUNT] = {
    "malformed", "unknown_log", "bad_signature", "size_conflict", "bad_proof", "storage",
    "other"};

/* Count the refusal that status means (400, 404, 403, 409, 422, 500). */
static void count_refusal(struct fki_witnessd *w, int status)
{
    enum refusal r = status == 400   ? R_MALFORMED
                     : status == 404 ? R_UNKNOWN_LOG
                     : status == 403 ? R_SIGNATURE
                     : status == 409 ? R_CONFLICT
                     : status == 422 ? R_PROOF
                     : status == 500 ? R_STORAGE
                                     : R_OTHER;
    atomic_fetch_add_explicit(&w->m_refused[r], 1, memory_order_relaxed);
}

/* ---- state ----------------------------------------------------------------- */

static fk_err db_open(struct fki_witnessd *w, const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/witness.db", dir);
    if (sqlite3_open_v2(path, &w->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK)
        return FK_ERR_STORAGE;
    chmod(path, 0600);
    /* synchronous FULL: a cosigned size is on disk before the answer leaves. */
    static const char schema[] = "PRAGMA journal_mode = WAL;"
                                 "PRAGMA synchronous = FULL;"
                                 "CREATE TABLE IF NOT EXISTS latest ("
                                 " origin TEXT PRIMARY KEY,"
                                 " size INTEGER NOT NULL,"
                                 " root BLOB NOT NULL,"
                                 " checkpoint TEXT NOT NULL);";
    return sqlite3_exec(w->db, schema, NULL, NULL, NULL) == SQLITE_OK ? FK_OK : FK_ERR_STORAGE;
}

/* Latest cosigned (size, root) for origin; size 0 and the empty root if none. */
static fk_err db_get(struct fki_witnessd *w, const char *origin, uint64_t *size, uint8_t root[HL],
                     char **cp)
{
    sqlite3_stmt *st;
    fk_err e = FK_OK;
    if (sqlite3_prepare_v2(w->db, "SELECT size, root, checkpoint FROM latest WHERE origin = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return FK_ERR_STORAGE;
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        sqlite3_int64 s = sqlite3_column_int64(st, 0);
        const void *r = sqlite3_column_blob(st, 1);
        if (s < 0 || !r || sqlite3_column_bytes(st, 1) != HL) {
            e = FK_ERR_STORAGE;
        } else {
            *size = (uint64_t)s;
            memcpy(root, r, HL);
            if (cp) {
                const char *t = (const char *)sqlite3_column_text(st, 2);
                *cp = t ? strdup(t) : NULL;
                if (!*cp)
                    e = FK_ERR_NOMEM;
            }
        }
    } else if (rc == SQLITE_DONE) {
        *size = 0;
        e = fk_tlog_root(root, NULL, 0);
        if (cp)
            *cp = NULL;
    } else {
        e = FK_ERR_STORAGE;
    }
    sqlite3_finalize(st);
    return e;
}

static fk_err db_put(struct fki_witnessd *w, const char *origin, uint64_t size,
                     const uint8_t root[HL], const char *cp, size_t cp_len)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(w->db,
                           "INSERT OR REPLACE INTO latest (origin, size, root, checkpoint)"
                           " VALUES (?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return FK_ERR_STORAGE;
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
    sqlite3_bind_blob(st, 3, root, HL, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, cp, (int)cp_len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? FK_OK : FK_ERR_STORAGE;
}

/* ---- add-checkpoint ------------------------------------------------------- */

static void respond(struct fki_net_response *r, int status, const char *msg)
{
    r->status = status;
    r->body = msg;
    r->body_len = strlen(msg);
}

/* Decimal without leading zeros ("0" alone allowed), at most FK_TLOG_MAX_SIZE. */
static int parse_size(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 19 || (s[0] == '0' && len > 1))
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits cannot overflow */
    }
    if (v > FK_TLOG_MAX_SIZE)
        return 0;
    *out = v;
    return 1;
}

struct add_req {
    uint64_t old;
    size_t nproof;
    uint8_t proof[FKI_WITNESS_MAX_PROOF][HL];
    const char *note;
    size_t note_len;
};

/* The body: "old N\n", 0..63 proof lines, "\n", the signed checkpoint. */
static int parse_add(const uint8_t *body, size_t len, struct add_req *r)
{
    const char *b = (const char *)body, *end = b + len, *nl;
    if (!body || len < 4 || memcmp(b, "old ", 4))
        return 0;
    nl = memchr(b, '\n', len);
    if (!nl || !parse_size(b + 4, (size_t)(nl - b - 4), &r->old))
        return 0;
    b = nl + 1;
    r->nproof = 0;
    for (;;) {
        if (b >= end)
            return 0;
        nl = memchr(b, '\n', (size_t)(end - b));
        if (!nl)
            return 0;
        if (nl == b)
            break;
        size_t got = 0;
        if (r->nproof == FKI_WITNESS_MAX_PROOF || nl - b != 44 ||
            fk_b64_decode_padded(r->proof[r->nproof], HL, &got, b, 44) || got != HL)
            return 0;
        r->nproof++;
        b = nl + 1;
    }
    r->note = nl + 1;
    r->note_len = (size_t)(end - r->note);
    return r->note_len > 0;
}

/* The note as we serve it: text, the lines of the verified log keys, ours. */
static size_t stored_note(const fk_note *n, const fk_note_verifier *keys, uint64_t ok, size_t nkeys,
                          const char *line, size_t line_len, char *out)
{
    size_t pos = n->text_len + 1;
    memcpy(out, n->text, n->text_len);
    out[n->text_len] = '\n';
    for (size_t i = 0; i < n->nsigs; i++) {
        const fk_note_sig *s = &n->sigs[i];
        for (size_t j = 0; j < nkeys; j++) {
            if (!(ok >> j & 1) || s->key_id != keys[j].key_id || s->name_len != keys[j].name_len ||
                memcmp(s->name, keys[j].name, s->name_len))
                continue;
            const char *start = s->name - 4; /* "— " */
            size_t l = (size_t)(s->b64 + s->b64_len - start);
            memcpy(out + pos, start, l);
            pos += l;
            out[pos++] = '\n';
            break;
        }
    }
    memcpy(out + pos, line, line_len);
    pos += line_len;
    out[pos] = 0;
    return pos;
}

static void handle_add(struct fki_witnessd *w, const struct fki_net_request *req,
                       struct fki_net_response *resp)
{
    static __thread struct add_req r;
    static __thread fk_note n;
    static __thread char stored[STORED_MAX + 1];
    static __thread char sizebuf[24];
    static __thread char line[FK_COSIG_LINE_MAX + 1];
    fk_checkpoint c;
    fk_note_verifier keys[FKI_WITNESS_MAX_LOGS];
    size_t nkeys = 0;
    uint64_t ok = 0;

    if (!parse_add(req->body, req->body_len, &r))
        return respond(
            resp, 400,
            "malformed body; send \"old N\", proof lines, an empty line, the checkpoint\n");
    if (fk_note_parse(&n, r.note, r.note_len) || fk_checkpoint_parse(&c, n.text, n.text_len))
        return respond(resp, 400, "malformed checkpoint note\n");
    pthread_rwlock_rdlock(&w->logs_lock);
    for (size_t i = 0; i < w->nlogs; i++)
        if (w->logs[i].key.name_len == c.origin_len &&
            !memcmp(w->logs[i].key.name, c.origin, c.origin_len))
            keys[nkeys++] = w->logs[i].key;
    pthread_rwlock_unlock(&w->logs_lock);
    if (!nkeys)
        return respond(resp, 404, "unknown log origin\n");
    if (fk_note_verify(&n, keys, nkeys, &ok))
        return respond(resp, 403, "no valid signature from a known key of this log\n");
    if (r.old > c.size)
        return respond(resp, 400, "old size is larger than the checkpoint size\n");

    uint8_t empty[HL], root[HL];
    fk_tlog_root(empty, NULL, 0);
    if (c.size == 0 && memcmp(c.root, empty, HL))
        return respond(resp, 422, "a checkpoint of size 0 must have the empty tree's root\n");
    if (r.old == 0 && r.nproof)
        return respond(resp, 422, "old size 0 takes no consistency proof\n");

    pthread_mutex_lock(&w->mu);
    uint64_t cur;
    fk_err e = db_get(w, c.origin, &cur, root, NULL);
    if (e) {
        pthread_mutex_unlock(&w->mu);
        return respond(resp, 500, "witness storage failed\n");
    }
    if (r.old != cur) {
        pthread_mutex_unlock(&w->mu);
        int k = snprintf(sizebuf, sizeof sizebuf, "%llu\n", (unsigned long long)cur);
        resp->status = 409;
        resp->content_type = "text/x.tlog.size";
        resp->body = sizebuf;
        resp->body_len = (size_t)k;
        return;
    }
    if (r.old > 0 && fk_tlog_verify_consistency(r.old, c.size, root, c.root,
                                                (const uint8_t(*)[HL])r.proof, r.nproof)) {
        pthread_mutex_unlock(&w->mu);
        return respond(resp, 422, "consistency proof does not verify (or the roots differ)\n");
    }
    size_t ll, sl;
    e = fk_cosign_checkpoint(&w->key, n.text, n.text_len, (uint64_t)time(NULL), line, sizeof line,
                             &ll);
    if (!e) {
        sl = stored_note(&n, keys, ok, nkeys, line, ll, stored);
        e = db_put(w, c.origin, c.size, c.root, stored, sl);
    }
    pthread_mutex_unlock(&w->mu);
    if (e)
        return respond(resp, 500, "witness could not cosign or store the checkpoint\n");
    atomic_fetch_add_explicit(&w->m_cosigned, 1, memory_order_relaxed);
    resp->status = 200;
    resp->body = line;
    resp->body_len = ll;
    resp->cache_control = "no-store";
}

/* GET /metrics: Prometheus text (docs/operations.md 4). */
static void metrics(struct fki_witnessd *w, struct fki_net_response *resp)
{
    fki_metrics_out m;
    if (fki_metrics_begin(&m))
        return respond(resp, 503, "out of memory\n");
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    fki_metrics_common(&m, w->srv, (double)(now.tv_sec - w->started.tv_sec));
    fki_metrics_one(&m, "fairkey_witness_cosigned_total", "counter",
                    "Checkpoints cosigned (add-checkpoint answered 200).",
                    (double)atomic_load(&w->m_cosigned));
    fki_metrics_family(&m, "fairkey_witness_refused_total", "counter",
                       "add-checkpoint requests refused, by reason.");
    for (int r = 0; r < R_COUNT; r++)
        fki_metrics_sample(&m, "fairkey_witness_refused_total", "reason", refusal_names[r],
                           (double)atomic_load(&w->m_refused[r]));
    static char origins[FKI_WITNESS_MAX_LOGS][FK_NOTE_NAME_MAX + 1];
    static pthread_mutex_t origins_mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&origins_mu);
    pthread_rwlock_rdlock(&w->logs_lock);
    size_t n = w->nlogs;
    for (size_t i = 0; i < n; i++)
        memcpy(origins[i], w->logs[i].key.name, w->logs[i].key.name_len + 1);
    pthread_rwlock_unlock(&w->logs_lock);
    fki_metrics_one(&m, "fairkey_witness_logs", "gauge",
                    "Logs this witness follows (reloaded on SIGHUP).",
                    (double)n);
    fki_metrics_family(&m, "fairkey_witness_log_size", "gauge",
                       "Tree size of the latest checkpoint cosigned, per log origin.");
    for (size_t i = 0; i < n; i++) {
        uint64_t size = 0;
        uint8_t root[HL];
        pthread_mutex_lock(&w->mu);
        fk_err e = db_get(w, origins[i], &size, root, NULL);
        pthread_mutex_unlock(&w->mu);
        if (!e)
            fki_metrics_sample(&m, "fairkey_witness_log_size", "origin", origins[i],
                               (double)size);
    }
    pthread_mutex_unlock(&origins_mu);
    fki_metrics_respond(&m, resp);
}

static void handle_get(struct fki_witnessd *w, const struct fki_net_request *req,
                       struct fki_net_response *resp)
{
    const char *p = req->path;
    size_t len = strlen(p);
    if (!strcmp(p, "/healthz")) {
        /* For load balancers and monitoring: answered from memory. */
        static __thread char buf[128];
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        pthread_rwlock_rdlock(&w->logs_lock);
        size_t nlogs = w->nlogs;
        pthread_rwlock_unlock(&w->logs_lock);
        int n = snprintf(buf, sizeof buf, "{\"status\":\"ok\",\"logs\":%zu,\"uptime_s\":%lld}\n",
                         nlogs, (long long)(now.tv_sec - w->started.tv_sec));
        resp->status = 200;
        resp->content_type = "application/json";
        resp->body = buf;
        resp->body_len = n > 0 && (size_t)n < sizeof buf ? (size_t)n : 0;
        resp->cache_control = "no-store";
        return;
    }
    if (!strcmp(p, "/metrics"))
        return metrics(w, resp);
    if (len != 1 + 2 * HL + 11 || p[0] != '/' || strcmp(p + 1 + 2 * HL, "/checkpoint"))
        return respond(resp, 404, "not found\n");
    pthread_rwlock_rdlock(&w->logs_lock);
    for (size_t i = 0; i < w->nlogs; i++) {
        if (memcmp(p + 1, w->logs[i].origin_hash, 2 * HL))
            continue;
        uint64_t size;
        uint8_t root[HL];
        char *cp = NULL;
        char origin[FK_NOTE_NAME_MAX + 1];
        memcpy(origin, w->logs[i].key.name, w->logs[i].key.name_len + 1);
        pthread_rwlock_unlock(&w->logs_lock);
        pthread_mutex_lock(&w->mu);
        fk_err e = db_get(w, origin, &size, root, &cp);
        pthread_mutex_unlock(&w->mu);
        if (e)
            return respond(resp, 500, "witness storage failed\n");
        if (!cp)
            return respond(resp, 404, "never cosigned a checkpoint of this log\n");
        resp->status = 200;
        resp->body = cp;
        resp->body_len = strlen(cp);
        resp->body_free = cp;
        resp->cache_control = "no-cache";
        return;
    }
    pthread_rwlock_unlock(&w->logs_lock);
    respond(resp, 404, "unknown log\n");
}

static void handler(void *ctx, const struct fki_net_request *req, struct fki_net_response *resp)
{
    struct fki_witnessd *w = ctx;
    if (!strcmp(req->path, "/add-checkpoint")) {
        if (strcmp(req->method, "POST")) {
            resp->extra_name[0] = "Allow";
            resp->extra_value[0] = "POST";
            return respond(resp, 405, "use POST for /add-checkpoint\n");
        }
        handle_add(w, req, resp);
        if (resp->status != 200)
            count_refusal(w, resp->status);
        return;
    }
    if (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD"))
        return handle_get(w, req, resp);
    resp->extra_name[0] = "Allow";
    resp->extra_value[0] = "GET, HEAD";
    respond(resp, 405, "method not allowed\n");
}

/* ---- start and stop -------------------------------------------------------- */

fk_err fki_witnessd_set_logs(fki_witnessd *w, const fk_note_verifier *logs, size_t n,
                             const char **why)
{
    static struct wlog nl[FKI_WITNESS_MAX_LOGS];   /* large; start and reload run on one thread */
    const char *dummy;
    if (!why)
        why = &dummy;
    if (n == 0 || n > FKI_WITNESS_MAX_LOGS) {
        *why = "give 1 to 64 --log keys";
        return FK_ERR_LIMIT;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t h[HL];
        unsigned hl = HL;
        if (logs[i].alg != FK_NOTE_ALG_ED25519) {
            *why = "a --log key must be a log's signed-note key (type 0x01)";
            return FK_ERR_INVALID;
        }
        nl[i].key = logs[i];
        if (EVP_Digest(logs[i].name, logs[i].name_len, h, &hl, EVP_sha256(), NULL) != 1)
            return FK_ERR_CRYPTO;
        fk_hex_encode(nl[i].origin_hash, h, HL);
    }
    pthread_rwlock_wrlock(&w->logs_lock);
    memcpy(w->logs, nl, n * sizeof nl[0]);
    w->nlogs = n;
    pthread_rwlock_unlock(&w->logs_lock);
    return FK_OK;
}

fk_err fki_witnessd_start(fki_witnessd **out, const struct fki_witnessd_config *cfg, char *vkey,
                          size_t cap, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = "cannot start the witness; check the directory and its files";
    if (cfg->nlogs == 0 || cfg->nlogs > FKI_WITNESS_MAX_LOGS) {
        *why = "give 1 to 64 --log keys";
        return FK_ERR_LIMIT;
    }
    if (mkdir(cfg->dir, 0700) && errno != EEXIST) {
        *why = "cannot create the witness directory; check the path and permissions";
        return FK_ERR_IO;
    }
    struct fki_witnessd *w = calloc(1, sizeof *w);
    if (!w)
        return FK_ERR_NOMEM;
    pthread_mutex_init(&w->mu, NULL);
    pthread_rwlock_init(&w->logs_lock, NULL);
    fk_err e = fki_witnessd_set_logs(w, cfg->logs, cfg->nlogs, why);
    if (e)
        goto fail;
    clock_gettime(CLOCK_MONOTONIC, &w->started);
    /* DIR/witness.key, created on first start.  A witness publishes no
     * directory (it answers only through its daemon), so its key may live
     * beside its database. */
    char keypath[PATH_MAX];
    snprintf(keypath, sizeof keypath, "%s/witness.key", cfg->dir);
    if ((e = fki_keyfile_load_or_create(&(struct fki_keyfile_key){.cosigner = &w->key}, keypath,
                                        cfg->name, "fairkey-witness-"))) {
        *why = e == FK_ERR_POLICY ? "witness.key has another name; drop --name or use another --dir"
                                  : "cannot read or create witness.key; check it is a witness "
                                    "private key, yours, mode 0600 (chmod 600)";
        goto fail;
    }
    fk_cosigner_verifier(&w->key, &w->vkey);
    size_t vlen;
    if ((e = fk_note_verifier_encode(&w->vkey, vkey, cap, &vlen)))
        goto fail;
    if ((e = db_open(w, cfg->dir))) {
        *why = "cannot open witness.db; check the directory";
        goto fail;
    }
    struct fki_net_server_config sc = {
        .listen = cfg->listen, .max_body = FKI_WITNESS_MAX_BODY, .handler = handler, .ctx = w};
    if ((e = fki_net_server_start(&w->srv, &sc))) {
        *why = fki_net_server_error();
        goto fail;
    }
    *out = w;
    return FK_OK;
fail:
    fki_witnessd_stop(w);
    return e;
}

uint16_t fki_witnessd_port(const fki_witnessd *w)
{
    return fki_net_server_port(w->srv);
}

void fki_witnessd_stop(fki_witnessd *w)
{
    if (!w)
        return;
    fki_net_server_stop(w->srv);
    if (w->db)
        sqlite3_close(w->db);
    fk_cosigner_wipe(&w->key);
    pthread_mutex_destroy(&w->mu);
    pthread_rwlock_destroy(&w->logs_lock);
    free(w);
}
