/*
 * storage_pg.c - the PostgreSQL storage backend: several `log serve` front
 * ends on one database (docs/log.md 7.9).
 *
 * Tables (created on first start, under a transaction-scoped advisory lock
 * so that front ends starting together do not race on the DDL):
 *   fk_log_meta     one row: the log's origin and verifier key (a front end
 *                   with another key or origin is refused);
 *   fk_log_tree     one row: size, root, signed checkpoint (the truth);
 *   fk_log_tiles    (level, idx, width) -> hash tile or entry bundle; a key
 *                   is written once and never changes, so any front end
 *                   may cache what it read;
 *   fk_log_entries  leaf hash -> first index (duplicates);
 *   fk_log_queue    adds taken by any front end, not yet sequenced.
 *
 * A batch is one transaction: the state row, guarded by the old size, its
 * tiles and bundles, its entries and the removal of the queued adds it
 * consumed, so it is all there or none of it; nothing lies beyond the
 * committed tree and discard_beyond has nothing to do.  The guard makes
 * the tree linear whatever the lease does: two sequencers that both think
 * they hold it cannot both extend the same size (the second UPDATE waits
 * for the first's row lock, then finds the size changed).
 *
 * The lease is a row, fk_log_lease (holder, pid, expires_at), on the
 * database's clock only: the holder (an id drawn at random per process)
 * renews it every LEASE_S/3 seconds on the sequencer's own session, and
 * another front end takes it in one UPDATE only when it expired or the
 * session that holds it (pid) is gone.  The second condition keeps the
 * takeover after a crash fast (a killed process's session ends at once; a
 * vanished host's after the TCP keepalives set below), the first bounds
 * the takeover from a holder that hangs with its session alive (SIGSTOP, a
 * stuck thread, a stalled disk).  Every batch transaction ends with
 * fk_log_hold(holder), sent with its COMMIT in one query string: it renews
 * the lease and raises an error unless this holder's lease is unexpired, so
 * a sequencer that wakes up after losing the lease commits nothing.  A hung
 * holder inside a transaction has its session ended by the server
 * (idle_in_transaction_session_timeout, statement_timeout), which frees
 * the tree row for the next sequencer.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "storage.h"

/* Connections for the read path, lookups and queued adds, shared by the
 * HTTP workers and the daemon's threads (the lease session is separate). */
#define POOL_SIZE 4
/* Hash tiles cached in memory: their keys are immutable, proofs read a few
 * of them per entry.  1,024 x 8 KiB = 8 MiB. */
#define CACHE_SLOTS 1024u
/* Advisory lock key of the schema creation. */
#define SCHEMA_KEY "7379030661470855276"
/* The sequencer lease, seconds (docs/log.md 7.9): renewed every third of
 * it, so a batch starts with at least two thirds left, more than a witness
 * round (2 s) and a batch take.  The takeover from a hung holder waits for
 * it; from a dead one it does not. */
#define LEASE_S 5
#define STR_(x) #x
#define STR(x) STR_(x)
#define LEASE_INTERVAL "interval '" STR(LEASE_S) " seconds'"
/* The sequencer's session: a transaction its client stopped in (hung
 * between statements) or a statement stuck half way (a COPY whose data
 * stopped) is ended by the server, releasing the tree row. */
#define SEQ_IDLE_TX_MS STR(LEASE_S) "000"
#define SEQ_STATEMENT_MS "30000"
/* A dead peer is noticed after about idle + interval x count seconds:
 * the bound on a lease held by a host that vanished (docs/log.md 7.9). */
#define KEEPALIVE_IDLE "5"
#define KEEPALIVE_INTERVAL "1"
#define KEEPALIVE_COUNT "3"
#define CONNECT_TIMEOUT "5"
/* The sequencer vacuums the add queue after deleting this many rows. */
#define QUEUE_VACUUM_ROWS 50000u

struct tslot {
    int used;
    int level;
    uint64_t index;
    unsigned width;
    size_t len;
    uint8_t data[FKI_LOG_TILE_WIDTH * FKI_LOG_HASH_LEN];
};

struct pg {
    char *conninfo;
    PGconn *seq;      /* the lease session; LISTEN fk_log_queue */
    int held;
    char holder[33];          /* this process's lease id, hex */
    struct timespec renewed;  /* monotonic: the last renewal (its scheduling only) */
    size_t dead;      /* queue rows deleted since the last VACUUM */
    PGconn *lis;      /* LISTEN fk_log_batch, for the thread that answers adds */
    pthread_mutex_t pmu;
    pthread_cond_t pcv;
    PGconn *pool[POOL_SIZE];
    int busy[POOL_SIZE];
    pthread_mutex_t cmu;
    struct tslot *cache;
};

static char pg_why[512];

/* The first line of libpq's message, for a one-line error (libpq never puts
 * the password in it; the connection string is never printed). */
static const char *first_line(const char *prefix, const char *msg)
{
    size_t n = strcspn(msg ? msg : "", "\n");
    snprintf(pg_why, sizeof pg_why, "%s: %.*s", prefix, (int)n, msg ? msg : "");
    return pg_why;
}

static PGconn *pg_connect(const char *conninfo, const char **why)
{
    /* Defaults first: whatever the connection string says wins. */
    static const char *const keys[] = {"connect_timeout", "keepalives", "keepalives_idle",
                                       "keepalives_interval", "keepalives_count",
                                       "application_name", "dbname", NULL};
    const char *vals[] = {CONNECT_TIMEOUT, "1", KEEPALIVE_IDLE, KEEPALIVE_INTERVAL,
                          KEEPALIVE_COUNT, "fairkey-log", conninfo, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        if (why)
            *why = first_line("cannot connect to the database", c ? PQerrorMessage(c) : "");
        PQfinish(c);
        return NULL;
    }
    /* The server side of the keepalives: a front end that vanishes loses
     * its session, and with it the lease, within seconds. */
    PGresult *r = PQexec(c, "SET tcp_keepalives_idle = " KEEPALIVE_IDLE ";"
                            "SET tcp_keepalives_interval = " KEEPALIVE_INTERVAL ";"
                            "SET tcp_keepalives_count = " KEEPALIVE_COUNT ";"
                            "SET synchronous_commit = on;"
                            /* Every statement of the log reads by primary
                             * key.  The queue churns (its statistics lag,
                             * dead rows pile up between vacuums) and a
                             * lookup's array can be large next to a young
                             * log, so the planner would often scan a whole
                             * table instead. */
                            "SET enable_seqscan = off;"
                            "SET client_min_messages = warning");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok && why)
        *why = first_line("cannot set up the database session", PQerrorMessage(c));
    PQclear(r);
    if (!ok) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

static int exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return ok;
}

/* ---- the connection pool -------------------------------------------------- */

static PGconn *pool_get(struct pg *p, int *slot)
{
    pthread_mutex_lock(&p->pmu);
    int i;
    for (;;) {
        for (i = 0; i < POOL_SIZE && p->busy[i]; i++)
            ;
        if (i < POOL_SIZE)
            break;
        pthread_cond_wait(&p->pcv, &p->pmu);
    }
    p->busy[i] = 1;
    pthread_mutex_unlock(&p->pmu);
    if (p->pool[i] && PQstatus(p->pool[i]) != CONNECTION_OK) {
        PQfinish(p->pool[i]);
        p->pool[i] = NULL;
    }
    if (!p->pool[i])
        p->pool[i] = pg_connect(p->conninfo, NULL);
    *slot = i;
    if (!p->pool[i]) {
        pthread_mutex_lock(&p->pmu);
        p->busy[i] = 0;
        pthread_cond_signal(&p->pcv);
        pthread_mutex_unlock(&p->pmu);
        return NULL;
    }
    return p->pool[i];
}

static void pool_put(struct pg *p, int i)
{
    if (p->pool[i] && PQstatus(p->pool[i]) != CONNECTION_OK) {
        PQfinish(p->pool[i]);
        p->pool[i] = NULL;
    }
    pthread_mutex_lock(&p->pmu);
    p->busy[i] = 0;
    pthread_cond_signal(&p->pcv);
    pthread_mutex_unlock(&p->pmu);
}

/* One statement on a pooled connection.  A connection that broke while it
 * was idle (the database restarted) fails its next statement: it is then
 * replaced and the statement tried once more, so a restart costs no reader
 * an error.  NULL when the database cannot be reached. */
static PGresult *pool_exec(struct pg *p, const char *sql, int n, const char *const *vals,
                           const int *lens, const int *fmts, int binary)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int slot;
        PGconn *c = pool_get(p, &slot);
        if (!c)
            return NULL;
        PGresult *r = PQexecParams(c, sql, n, NULL, vals, lens, fmts, binary);
        ExecStatusType st = PQresultStatus(r);
        int broken = PQstatus(c) != CONNECTION_OK;
        pool_put(p, slot);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK || !broken)
            return r;
        PQclear(r);
    }
    return NULL;
}

/* ---- binary COPY ---------------------------------------------------------- */

struct buf {
    uint8_t *p;
    size_t n, cap;
    int oom;
};

static void put(struct buf *b, const void *d, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put16(struct buf *b, uint16_t v)
{
    v = htobe16(v);
    put(b, &v, 2);
}

static void put32(struct buf *b, uint32_t v)
{
    v = htobe32(v);
    put(b, &v, 4);
}

/* PostgreSQL's binary COPY format: signature, flags, header extension. */
static void copy_begin(struct buf *b)
{
    put(b, "PGCOPY\n\377\r\n\0", 11);
    put32(b, 0);
    put32(b, 0);
}

static void copy_field(struct buf *b, const void *d, size_t n)
{
    put32(b, (uint32_t)n);
    put(b, d, n);
}

/* Run a COPY of b, which ends with the trailer (copy_end). */
static void copy_end(struct buf *b)
{
    put16(b, 0xffff);
}

static int copy_run(PGconn *c, const char *sql, struct buf *b)
{
    if (b->oom)
        return 0;
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    if (!ok)
        return 0;
    for (size_t off = 0; off < b->n && ok;) {
        size_t k = b->n - off > (1u << 20) ? (1u << 20) : b->n - off;
        ok = PQputCopyData(c, (const char *)b->p + off, (int)k) == 1;
        off += k;
    }
    if (PQputCopyEnd(c, ok ? NULL : "fairkey: copy failed") != 1)
        ok = 0;
    while ((r = PQgetResult(c))) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            ok = 0;
        PQclear(r);
    }
    return ok;
}

/* ---- the seam ------------------------------------------------------------- */

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

static fk_err pg_load(void *self, uint64_t *size, uint8_t root[FKI_LOG_HASH_LEN], char **cp)
{
    struct pg *p = self;
    PGresult *r = pool_exec(p, "SELECT size, encode(root, 'hex'), checkpoint FROM fk_log_tree "
                               "WHERE id = 1", 0, NULL, NULL, NULL, 0);
    fk_err e = FK_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        e = FK_ERR_STORAGE;
    } else {
        const char *sz = PQgetvalue(r, 0, 0), *rt = PQgetvalue(r, 0, 1),
                   *ck = PQgetvalue(r, 0, 2);
        char *end;
        unsigned long long v = strtoull(sz, &end, 10);
        if (!ck[0]) {
            *size = 0;
            memset(root, 0, FKI_LOG_HASH_LEN);
            *cp = NULL;   /* a new log: no checkpoint yet */
        } else if (*end || sz[0] == '-' || strlen(rt) != 2 * FKI_LOG_HASH_LEN) {
            e = FK_ERR_STORAGE;
        } else {
            for (size_t i = 0; i < FKI_LOG_HASH_LEN && !e; i++) {
                int hi = hexval(rt[2 * i]), lo = hexval(rt[2 * i + 1]);
                if (hi < 0 || lo < 0)
                    e = FK_ERR_STORAGE;
                else
                    root[i] = (uint8_t)(hi << 4 | lo);
            }
            if (!e && !(*cp = strdup(ck)))
                e = FK_ERR_NOMEM;
            if (!e)
                *size = v;
        }
    }
    PQclear(r);
    return e;
}

static int seq_ready(struct pg *p)
{
    if (p->seq && PQstatus(p->seq) != CONNECTION_OK) {
        PQfinish(p->seq);
        p->seq = NULL;
        p->held = 0;
    }
    if (!p->seq) {
        p->held = 0;
        p->seq = pg_connect(p->conninfo, NULL);
        /* A batch's entries go through a session table (ON CONFLICT needs
         * INSERT, COPY is the fast way in). */
        if (p->seq && !exec_ok(p->seq, "SET idle_in_transaction_session_timeout = "
                                       SEQ_IDLE_TX_MS ";"
                                       "SET statement_timeout = " SEQ_STATEMENT_MS ";"
                                       "LISTEN fk_log_queue;"
                                       "CREATE TEMP TABLE fk_stage (hash bytea NOT NULL, "
                                       "idx bigint NOT NULL) ON COMMIT DELETE ROWS")) {
            PQfinish(p->seq);
            p->seq = NULL;
        }
    }
    return p->seq != NULL;
}

static fk_err pg_store_batch(void *self, const struct fki_log_batch *b)
{
    struct pg *p = self;
    if (!seq_ready(p))
        return FK_ERR_STORAGE;
    PGconn *c = p->seq;
    struct buf tb = {0}, eb = {0};
    char *ids = NULL;
    fk_err e = FK_ERR_STORAGE;
    /* The empty tree of a new log, committed by a front end as it starts
     * (without the lease): only over the row the schema left, so it never
     * replaces a checkpoint.  The holder goes the usual way (it re-signs
     * an empty tree's checkpoint with new cosignatures). */
    int genesis = !p->held && !b->old_size && !b->new_size && !b->nqueue_ids && !b->ntiles;
    if (!exec_ok(c, "BEGIN"))
        goto out;
    /* A batch of duplicates only removes its queued adds: no new state. */
    if (b->checkpoint_len || b->new_size != b->old_size) {
        /* The guard: only the tree this batch extends may be replaced. */
        char nsz[24], osz[24];
        snprintf(nsz, sizeof nsz, "%" PRIu64, b->new_size);
        snprintf(osz, sizeof osz, "%" PRIu64, b->old_size);
        const char *vals[4] = {nsz, (const char *)b->root, b->checkpoint, osz};
        int lens[4] = {0, FKI_LOG_HASH_LEN, (int)b->checkpoint_len, 0};
        int fmts[4] = {0, 1, 1, 0};
        PGresult *r = PQexecParams(c, genesis ? "UPDATE fk_log_tree SET size = $1, root = $2, "
                                                "checkpoint = convert_from($3, 'UTF8') "
                                                "WHERE id = 1 AND size = $4 AND checkpoint = ''"
                                              : "UPDATE fk_log_tree SET size = $1, root = $2, "
                                                "checkpoint = convert_from($3, 'UTF8') "
                                                "WHERE id = 1 AND size = $4",
                                   4, NULL, vals, lens, fmts, 0);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK && !strcmp(PQcmdTuples(r), "1");
        PQclear(r);
        if (!ok)
            goto rollback;
    }
    if (b->ntiles) {
        copy_begin(&tb);
        for (size_t i = 0; i < b->ntiles; i++) {
            const struct fki_log_tile *t = &b->tiles[i];
            uint16_t lv = htobe16((uint16_t)(int16_t)t->level);
            uint64_t ix = htobe64(t->index);
            uint16_t w = htobe16((uint16_t)t->width);
            put16(&tb, 4);
            copy_field(&tb, &lv, 2);
            copy_field(&tb, &ix, 8);
            copy_field(&tb, &w, 2);
            copy_field(&tb, t->data, t->len);
        }
        copy_end(&tb);
        if (!copy_run(c, "COPY fk_log_tiles (level, idx, width, data) FROM STDIN (FORMAT binary)",
                      &tb))
            goto rollback;
    }
    if (b->new_size > b->old_size) {
        copy_begin(&eb);
        for (uint64_t i = 0; i < b->new_size - b->old_size; i++) {
            uint64_t ix = htobe64(b->old_size + i);
            put16(&eb, 2);
            copy_field(&eb, b->leaf_hashes[i], FKI_LOG_HASH_LEN);
            copy_field(&eb, &ix, 8);
        }
        /* A hash already there has a wrong index (the daemon checks every
         * index it is given against the tiles and appends again when it
         * names another entry): the new index replaces it. */
        copy_end(&eb);
        if (!copy_run(c, "COPY fk_stage (hash, idx) FROM STDIN (FORMAT binary)", &eb) ||
            !exec_ok(c, "INSERT INTO fk_log_entries (hash, idx) SELECT hash, idx FROM fk_stage "
                        "ON CONFLICT (hash) DO UPDATE SET idx = excluded.idx"))
            goto rollback;
    }
    if (b->nqueue_ids) {
        ids = malloc(b->nqueue_ids * 21 + 1);
        if (!ids)
            goto rollback;
        size_t n = 0;
        for (size_t i = 0; i < b->nqueue_ids; i++)
            n += (size_t)sprintf(ids + n, "%s%" PRId64, i ? "," : "", b->queue_ids[i]);
        const char *vals[1] = {ids};
        PGresult *r = PQexecParams(c, "DELETE FROM fk_log_queue "
                                      "WHERE id = ANY (string_to_array($1, ',')::bigint[])",
                                   1, NULL, vals, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok)
            goto rollback;
    }
    {
        /* The holder check and the COMMIT in one query string: the server
         * runs them back to back, whatever this process does meanwhile. */
        char fin[128];
        if (genesis)
            snprintf(fin, sizeof fin, "NOTIFY fk_log_batch; COMMIT");
        else
            snprintf(fin, sizeof fin, "SELECT fk_log_hold('%s'); NOTIFY fk_log_batch; COMMIT",
                     p->holder);
        PGresult *r = PQexec(c, fin);
        /* A COMMIT of a failed transaction answers ROLLBACK. */
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK && !strcmp(PQcmdStatus(r), "COMMIT");
        PQclear(r);
        if (ok) {
            e = FK_OK;
            clock_gettime(CLOCK_MONOTONIC, &p->renewed);
            /* Every queued add is deleted once: vacuum the queue as it
             * goes (autovacuum looks once a minute; a busy queue would
             * carry millions of dead rows by then).  A small table: a few
             * ms.  A failure only leaves it to autovacuum. */
            p->dead += b->nqueue_ids;
            if (p->dead >= QUEUE_VACUUM_ROWS) {
                p->dead = 0;
                exec_ok(c, "VACUUM fk_log_queue");
            }
            goto out;
        }
        /* Not held (fk_log_hold raised, the transaction is aborted) or the
         * COMMIT failed. */
        goto rollback;
    }
rollback:
    if (PQstatus(c) == CONNECTION_OK)
        exec_ok(c, "ROLLBACK");
    /* Maybe the lease was lost: the next lease() asks the database. */
    memset(&p->renewed, 0, sizeof p->renewed);
out:
    if (PQstatus(c) != CONNECTION_OK)
        p->held = 0;
    free(tb.p);
    free(eb.p);
    free(ids);
    return e;
}

static fk_err pg_read_tile(void *self, int level, uint64_t index, unsigned width,
                           uint8_t **data, size_t *len)
{
    struct pg *p = self;
    size_t h = 0;
    if (level >= 0 && p->cache) {
        h = (size_t)((index * 0x9E3779B97F4A7C15ull + (uint64_t)level * 131 + width) %
                     CACHE_SLOTS);
        pthread_mutex_lock(&p->cmu);
        struct tslot *s = &p->cache[h];
        if (s->used && s->level == level && s->index == index && s->width == width) {
            uint8_t *q = malloc(s->len ? s->len : 1);
            if (q) {
                memcpy(q, s->data, s->len);
                *data = q;
                *len = s->len;
            }
            pthread_mutex_unlock(&p->cmu);
            return q ? FK_OK : FK_ERR_NOMEM;
        }
        pthread_mutex_unlock(&p->cmu);
    }
    char lv[8], ix[24], w[8];
    snprintf(lv, sizeof lv, "%d", level);
    snprintf(ix, sizeof ix, "%" PRIu64, index);
    snprintf(w, sizeof w, "%u", width);
    const char *vals[3] = {lv, ix, w};
    PGresult *r = pool_exec(p, "SELECT data FROM fk_log_tiles "
                               "WHERE level = $1 AND idx = $2 AND width = $3",
                            3, vals, NULL, NULL, 1);
    fk_err e = FK_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        e = FK_ERR_STORAGE;
    } else if (PQntuples(r) != 1) {
        e = FK_ERR_NOT_FOUND;
    } else {
        size_t n = (size_t)PQgetlength(r, 0, 0);
        uint8_t *q = malloc(n ? n : 1);
        if (!q) {
            e = FK_ERR_NOMEM;
        } else {
            memcpy(q, PQgetvalue(r, 0, 0), n);
            *data = q;
            *len = n;
            if (level >= 0 && p->cache && n <= sizeof p->cache[0].data) {
                pthread_mutex_lock(&p->cmu);
                struct tslot *s = &p->cache[h];
                s->used = 1;
                s->level = level;
                s->index = index;
                s->width = width;
                s->len = n;
                memcpy(s->data, q, n);
                pthread_mutex_unlock(&p->cmu);
            }
        }
    }
    PQclear(r);
    return e;
}

/* lookup's hashes sorted by value (positions into them), to match the
 * rows the database returns in its own order. */
static int cmp_pos(const void *a, const void *b, void *ctx)
{
    const uint8_t(*h)[FKI_LOG_HASH_LEN] = ctx;
    return memcmp(h[*(const size_t *)a], h[*(const size_t *)b], FKI_LOG_HASH_LEN);
}

static fk_err pg_lookup(void *self, const uint8_t (*hashes)[FKI_LOG_HASH_LEN], size_t n,
                        uint64_t *index)
{
    struct pg *p = self;
    for (size_t i = 0; i < n; i++)
        index[i] = FKI_LOG_ABSENT;
    if (!n)
        return FK_OK;
    /* A bytea[] parameter in binary (array_send's layout): = ANY over the
     * primary key is an index scan whatever the table's size (a join with
     * unnest() was planned as a hash join over the whole table). */
    struct buf b = {0};
    put32(&b, 1);                   /* dimensions */
    put32(&b, 0);                   /* no NULLs */
    put32(&b, 17);                  /* element type: bytea */
    put32(&b, (uint32_t)n);
    put32(&b, 1);                   /* lower bound */
    for (size_t i = 0; i < n; i++)
        copy_field(&b, hashes[i], FKI_LOG_HASH_LEN);
    size_t *pos = malloc(n * sizeof *pos);
    if (b.oom || !pos || b.n > INT32_MAX) {
        free(b.p);
        free(pos);
        return FK_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        pos[i] = i;
    qsort_r(pos, n, sizeof *pos, cmp_pos, (void *)hashes);
    static const Oid types[1] = {1001};   /* bytea[] */
    const char *vals[1] = {(const char *)b.p};
    int lens[1] = {(int)b.n}, fmts[1] = {1};
    PGresult *r = NULL;
    for (int attempt = 0; attempt < 2 && !r; attempt++) {
        int slot;
        PGconn *c = pool_get(p, &slot);
        if (!c)
            break;
        r = PQexecParams(c, "SELECT hash, idx FROM fk_log_entries WHERE hash = ANY ($1)", 1,
                         types, vals, lens, fmts, 1);
        int broken = PQstatus(c) != CONNECTION_OK;
        pool_put(p, slot);
        if (PQresultStatus(r) != PGRES_TUPLES_OK && broken) {
            PQclear(r);
            r = NULL;
        }
    }
    fk_err e = FK_OK;
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQnfields(r) != 2) {
        e = FK_ERR_STORAGE;
    } else {
        for (int row = 0; row < PQntuples(r) && !e; row++) {
            if (PQgetlength(r, row, 0) != FKI_LOG_HASH_LEN || PQgetlength(r, row, 1) != 8) {
                e = FK_ERR_STORAGE;
                break;
            }
            const uint8_t *h = (const uint8_t *)PQgetvalue(r, row, 0);
            uint64_t ix;
            memcpy(&ix, PQgetvalue(r, row, 1), 8);
            ix = be64toh(ix);
            /* Binary search for the first position with this hash; every
             * equal one (a hash asked for twice) gets the index. */
            size_t lo = 0, hi = n;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (memcmp(hashes[pos[mid]], h, FKI_LOG_HASH_LEN) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (; lo < n && !memcmp(hashes[pos[lo]], h, FKI_LOG_HASH_LEN); lo++)
                index[pos[lo]] = ix;
        }
    }
    PQclear(r);
    free(pos);
    free(b.p);
    return e;
}

/* Everything lives in one transaction per batch: nothing to discard. */
static fk_err pg_discard_beyond(void *self, uint64_t size)
{
    return FK_OK;
}

static fk_err pg_enqueue(void *self, const uint8_t *const *entries, const size_t *lens, size_t n)
{
    struct pg *p = self;
    struct buf b = {0};
    copy_begin(&b);
    for (size_t i = 0; i < n; i++) {
        put16(&b, 1);
        copy_field(&b, entries[i], lens[i]);
    }
    copy_end(&b);
    /* One COPY is one transaction, durable (synchronous_commit) when it
     * answers; the NOTIFY only wakes the sequencer sooner than its poll.
     * Tried twice, like pool_exec: a connection broken while idle fails
     * first.  Should the first try have committed after all, the adds are
     * queued twice, which only makes duplicates (one index for both). */
    int ok = 0;
    for (int attempt = 0; attempt < 2 && !ok; attempt++) {
        int slot;
        PGconn *c = pool_get(p, &slot);
        if (!c)
            break;
        ok = copy_run(c, "COPY fk_log_queue (entry) FROM STDIN (FORMAT binary)", &b);
        if (ok)
            exec_ok(c, "NOTIFY fk_log_queue");
        int broken = PQstatus(c) != CONNECTION_OK;
        pool_put(p, slot);
        if (!broken)
            break;
    }
    free(b.p);
    return ok ? FK_OK : FK_ERR_STORAGE;
}

/* One lease statement on the sequencer's session with this holder's id:
 * 1 if it changed the row, 0 if not, -1 on a database failure. */
static int lease_exec(struct pg *p, const char *sql)
{
    const char *vals[1] = {p->holder};
    PGresult *r = PQexecParams(p->seq, sql, 1, NULL, vals, NULL, NULL, 0);
    int n = PQresultStatus(r) == PGRES_COMMAND_OK ? !strcmp(PQcmdTuples(r), "1") : -1;
    PQclear(r);
    return n;
}

/* Taken when it expired, or its holder's session is gone (killed, or
 * its host or network died), or it is this process's own (a reconnect). */
#define LEASE_TAKE                                                                          \
    "UPDATE fk_log_lease l SET holder = $1, pid = pg_backend_pid(), "                      \
    "expires_at = clock_timestamp() + " LEASE_INTERVAL " "                                 \
    "WHERE id = 1 AND (l.holder = $1 OR l.expires_at < clock_timestamp() OR "              \
    "NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.pid))"
/* Kept only while unexpired: once it expired, another front end may have
 * taken it (and given it back), so this one starts over from the database. */
#define LEASE_RENEW                                                                         \
    "UPDATE fk_log_lease SET pid = pg_backend_pid(), "                                     \
    "expires_at = clock_timestamp() + " LEASE_INTERVAL " "                                 \
    "WHERE id = 1 AND holder = $1 AND expires_at > clock_timestamp()"
#define LEASE_RELEASE                                                                       \
    "UPDATE fk_log_lease SET expires_at = '-infinity' WHERE id = 1 AND holder = $1"

static long ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Renew the held lease once a third of it passed (this clock only decides
 * when to ask; the database's decides whether it is still held). */
static void renew_if_due(struct pg *p)
{
    if (!p->held || !p->seq || ms_since(&p->renewed) < LEASE_S * 1000 / 3)
        return;
    int n = lease_exec(p, LEASE_RENEW);
    if (n == 1)
        clock_gettime(CLOCK_MONOTONIC, &p->renewed);
    else
        p->held = 0;
}

static fk_err pg_lease(void *self, int want, int *held)
{
    struct pg *p = self;
    if (!want) {
        /* Released first, so the next holder need not wait for the
         * expiry; ending the session is the fallback (the next holder
         * sees it gone) when the release cannot be sent. */
        if (p->held && p->seq && PQstatus(p->seq) == CONNECTION_OK)
            lease_exec(p, LEASE_RELEASE);
        PQfinish(p->seq);
        p->seq = NULL;
        p->held = 0;
        *held = 0;
        return FK_OK;
    }
    int had = p->held;
    if (!seq_ready(p)) {
        *held = 0;
        return FK_ERR_STORAGE;
    }
    if (had && !p->held) {
        /* The session was lost, and the lease with it for all this front
         * end knows: said once, so that it starts over from the database. */
        *held = 0;
        return FK_OK;
    }
    if (p->held) {
        renew_if_due(p);
    } else {
        int n = lease_exec(p, LEASE_TAKE);
        if (n < 0) {
            *held = 0;
            return FK_ERR_STORAGE;
        }
        if (n == 1) {
            p->held = 1;
            clock_gettime(CLOCK_MONOTONIC, &p->renewed);
        }
    }
    if (p->seq && PQstatus(p->seq) != CONNECTION_OK)
        p->held = 0;
    *held = p->held;
    return FK_OK;
}

static fk_err pg_dequeue(void *self, size_t max, fki_log_queued_fn fn, void *ctx, size_t *n)
{
    struct pg *p = self;
    *n = 0;
    if (!p->held || !seq_ready(p) || (renew_if_due(p), !p->held))
        return FK_ERR_STORAGE;
    char lim[24];
    snprintf(lim, sizeof lim, "%zu", max);
    const char *vals[1] = {lim};
    PGresult *r = PQexecParams(p->seq, "SELECT id, entry FROM fk_log_queue ORDER BY id LIMIT $1",
                               1, NULL, vals, NULL, NULL, 1);
    fk_err e = FK_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQnfields(r) != 2) {
        e = FK_ERR_STORAGE;
    } else {
        for (int row = 0; row < PQntuples(r) && !e; row++) {
            uint64_t id;
            if (PQgetlength(r, row, 0) != 8) {
                e = FK_ERR_STORAGE;
                break;
            }
            memcpy(&id, PQgetvalue(r, row, 0), 8);
            e = fn(ctx, (int64_t)be64toh(id), (const uint8_t *)PQgetvalue(r, row, 1),
                   (size_t)PQgetlength(r, row, 1));
            if (!e)
                (*n)++;
        }
    }
    PQclear(r);
    if (p->seq && PQstatus(p->seq) != CONNECTION_OK)
        p->held = 0;
    return e;
}

/* Wait on a LISTENing session for a notification, up to ms. */
static void wait_on(PGconn **cp, const char *conninfo, const char *listen, unsigned ms)
{
    if (*cp && PQstatus(*cp) != CONNECTION_OK) {
        PQfinish(*cp);
        *cp = NULL;
    }
    if (!*cp) {
        *cp = pg_connect(conninfo, NULL);
        if (*cp && !exec_ok(*cp, listen)) {
            PQfinish(*cp);
            *cp = NULL;
        }
        if (!*cp) {
            poll(NULL, 0, (int)ms);
            return;
        }
    }
    PGconn *c = *cp;
    int got = 0;
    PGnotify *nt;
    PQconsumeInput(c);
    while ((nt = PQnotifies(c))) {
        got = 1;
        PQfreemem(nt);
    }
    if (got)
        return;
    struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
    if (pfd.fd < 0 || poll(&pfd, 1, (int)ms) < 0)
        return;
    PQconsumeInput(c);
    while ((nt = PQnotifies(c)))
        PQfreemem(nt);
}

static void pg_wait(void *self, int what, unsigned ms)
{
    struct pg *p = self;
    if (what == 0) {
        if (!seq_ready(p)) {
            poll(NULL, 0, (int)ms);
            return;
        }
        /* Sleep no longer than the next renewal is due. */
        if (p->held && ms > LEASE_S * 1000 / 6)
            ms = LEASE_S * 1000 / 6;
        wait_on(&p->seq, p->conninfo, "LISTEN fk_log_queue", ms);
        if (!p->seq)
            p->held = 0;
        renew_if_due(p);
    } else {
        wait_on(&p->lis, p->conninfo, "LISTEN fk_log_batch", ms);
    }
}

static void pg_close(void *self)
{
    struct pg *p = self;
    if (!p)
        return;
    PQfinish(p->seq);
    PQfinish(p->lis);
    for (int i = 0; i < POOL_SIZE; i++)
        PQfinish(p->pool[i]);
    pthread_mutex_destroy(&p->pmu);
    pthread_cond_destroy(&p->pcv);
    pthread_mutex_destroy(&p->cmu);
    if (p->conninfo) {
        /* It may hold a password. */
        memset(p->conninfo, 0, strlen(p->conninfo));
        free(p->conninfo);
    }
    free(p->cache);
    free(p);
}

/* The schema, created once per database; every statement idempotent. */
static const char schema[] =
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(" SCHEMA_KEY ");"
    "CREATE TABLE IF NOT EXISTS fk_log_meta ("
    "  id int PRIMARY KEY CHECK (id = 1), origin text NOT NULL, vkey text NOT NULL);"
    "CREATE TABLE IF NOT EXISTS fk_log_tree ("
    "  id int PRIMARY KEY CHECK (id = 1), size bigint NOT NULL CHECK (size >= 0),"
    "  root bytea NOT NULL, checkpoint text NOT NULL);"
    "CREATE TABLE IF NOT EXISTS fk_log_tiles ("
    "  level smallint NOT NULL, idx bigint NOT NULL, width smallint NOT NULL,"
    "  data bytea NOT NULL, PRIMARY KEY (level, idx, width));"
    /* Hash tiles do not compress and bundles are read whole: no pglz. */
    "ALTER TABLE fk_log_tiles ALTER COLUMN data SET STORAGE EXTERNAL;"
    "CREATE TABLE IF NOT EXISTS fk_log_entries (hash bytea PRIMARY KEY, idx bigint NOT NULL);"
    "CREATE TABLE IF NOT EXISTS fk_log_queue (id bigserial PRIMARY KEY, entry bytea NOT NULL);"
    "INSERT INTO fk_log_tree (id, size, root, checkpoint) VALUES (1, 0, '', '') "
    "  ON CONFLICT DO NOTHING;"
    /* The sequencer lease (see the top of this file). */
    "CREATE TABLE IF NOT EXISTS fk_log_lease ("
    "  id int PRIMARY KEY CHECK (id = 1), holder text NOT NULL, pid int NOT NULL,"
    "  expires_at timestamptz NOT NULL);"
    "INSERT INTO fk_log_lease (id, holder, pid, expires_at) VALUES (1, '', 0, '-infinity') "
    "  ON CONFLICT DO NOTHING;"
    "CREATE OR REPLACE FUNCTION fk_log_hold(h text) RETURNS void LANGUAGE plpgsql AS $f$ "
    "BEGIN "
    "  UPDATE fk_log_lease SET expires_at = clock_timestamp() + " LEASE_INTERVAL
    "   WHERE id = 1 AND holder = h AND expires_at > clock_timestamp();"
    "  IF NOT FOUND THEN "
    "    RAISE EXCEPTION 'fairkey: this front end does not hold the sequencer lease';"
    "  END IF;"
    "END $f$;"
    "COMMIT";

fk_err fki_log_storage_pg_open(struct fki_log_storage *out, const char *conninfo,
                               const char *vkey, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = "cannot use the database";
    struct pg *p = calloc(1, sizeof *p);
    if (!p)
        return FK_ERR_NOMEM;
    pthread_mutex_init(&p->pmu, NULL);
    pthread_cond_init(&p->pcv, NULL);
    pthread_mutex_init(&p->cmu, NULL);
    p->conninfo = strdup(conninfo);
    {
        uint8_t rnd[16];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
            struct timespec t;
            clock_gettime(CLOCK_REALTIME, &t);
            uint64_t v[2] = {(uint64_t)t.tv_sec ^ ((uint64_t)getpid() << 32),
                             (uint64_t)t.tv_nsec ^ (uint64_t)(uintptr_t)p};
            memcpy(rnd, v, sizeof rnd);
        }
        for (size_t i = 0; i < sizeof rnd; i++)
            snprintf(p->holder + 2 * i, 3, "%02x", rnd[i]);
    }
    p->cache = calloc(CACHE_SLOTS, sizeof *p->cache);
    if (!p->conninfo || !p->cache) {
        pg_close(p);
        return FK_ERR_NOMEM;
    }
    PGconn *c = pg_connect(conninfo, why);
    if (!c) {
        pg_close(p);
        return FK_ERR_STORAGE;
    }
    fk_err e = FK_OK;
    PGresult *r = PQexec(c, schema);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        *why = first_line("cannot create the log's tables", PQerrorMessage(c));
        e = FK_ERR_STORAGE;
    }
    PQclear(r);
    /* The database's log: the first front end names it; every later one
     * must be the same log (its key name is the origin). */
    size_t olen = strcspn(vkey, "+");
    char origin[512];
    snprintf(origin, sizeof origin, "%.*s", (int)olen, vkey);
    if (!e) {
        const char *vals[2] = {origin, vkey};
        r = PQexecParams(c, "INSERT INTO fk_log_meta (id, origin, vkey) VALUES (1, $1, $2) "
                            "ON CONFLICT DO NOTHING",
                         2, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            *why = first_line("cannot record the log in the database", PQerrorMessage(c));
            e = FK_ERR_STORAGE;
        }
        PQclear(r);
    }
    if (!e) {
        r = PQexec(c, "SELECT origin, vkey FROM fk_log_meta WHERE id = 1");
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
            *why = first_line("cannot read the log's identity from the database",
                              PQerrorMessage(c));
            e = FK_ERR_STORAGE;
        } else if (strcmp(PQgetvalue(r, 0, 1), vkey)) {
            int same_origin = !strcmp(PQgetvalue(r, 0, 0), origin);
            snprintf(pg_why, sizeof pg_why,
                     "the database belongs to another log (%s %.100s); give this log its own "
                     "database, or this front end that log's key",
                     same_origin ? "another key of origin" : "origin", PQgetvalue(r, 0, 0));
            *why = pg_why;
            e = FK_ERR_POLICY;
        }
        PQclear(r);
    }
    if (e) {
        PQfinish(c);
        pg_close(p);
        return e;
    }
    p->pool[0] = c;
    out->self = p;
    out->load = pg_load;
    out->store_batch = pg_store_batch;
    out->read_tile = pg_read_tile;
    out->lookup = pg_lookup;
    out->discard_beyond = pg_discard_beyond;
    out->close = pg_close;
    out->enqueue = pg_enqueue;
    out->lease = pg_lease;
    out->dequeue = pg_dequeue;
    out->wait = pg_wait;
    return FK_OK;
}
