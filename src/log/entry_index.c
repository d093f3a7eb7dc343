/*
 * entry_index.c - the entry-hash -> index map: in-memory runs, written to
 * DIR/index.db by a background thread (see entry_index.h).
 */
#define _GNU_SOURCE   /* pthread_setname_np */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "entry_index.h"

#define HL FKI_LOG_HASH_LEN
/* SQLite may be busy for a moment while the other connection checkpoints. */
#define BUSY_TIMEOUT_MS 5000
/* A failed run write (disk full) is retried after this long. */
#define RETRY_MS 1000
/* Full runs waiting for (or being written by) the writer thread.  When
 * this many are queued, the sequencer waits: memory stays bounded, and a
 * failing disk holds the sequencer back, as it would without the index. */
#define QUEUE_MAX 4

/* A run: entries [first, first + n) with an open-addressing table over
 * them.  Slots are chosen by multiply-shift hashing with a random odd
 * multiplier, so entries chosen to collide in the table need the secret. */
struct run {
    uint64_t first;
    size_t n, cap;
    uint8_t (*h)[HL];
    uint32_t *slot;   /* position + 1; 0 = empty; 2 * cap slots */
    unsigned bits;    /* log2 of the slot count */
};

struct fki_entry_index {
    sqlite3 *rd, *wr;           /* the sequencer's reader, the thread's writer */
    sqlite3_stmt *look;
    uint64_t mult;              /* odd, random */
    size_t run;                 /* entries per run handed to the writer */
    struct run *pending;        /* sequencer-owned */
    uint64_t next;              /* the index the next add must start at */
    int broken;                 /* an add failed half-way: out of step until restart */

    pthread_t thr;
    int thr_started;
    pthread_mutex_t mu;
    pthread_cond_t cv, done;
    /* Full runs in index order, read-only once queued: queue[0, written)
     * are committed (the sequencer frees them), queue[written, queued) wait
     * for the writer.  Only the sequencer changes the array and `queued`;
     * only the writer advances `written` (under mu). */
    struct run *queue[QUEUE_MAX];
    size_t queued, written;
    int stop;
    char path[PATH_MAX];
};

static size_t slot_of(const struct run *r, const uint64_t mult, const uint8_t *h)
{
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return (size_t)((v * mult) >> (64 - r->bits));
}

static void run_free(struct run *r)
{
    if (!r)
        return;
    free(r->h);
    free(r->slot);
    free(r);
}

static struct run *run_new(uint64_t first)
{
    struct run *r = calloc(1, sizeof *r);
    if (r)
        r->first = first;
    return r;
}

static fk_err run_grow(struct run *r, uint64_t mult)
{
    size_t cap = r->cap ? 2 * r->cap : 1024;
    unsigned bits = 1;
    while (((size_t)1 << bits) < 2 * cap)
        bits++;
    uint8_t(*h)[HL] = realloc(r->h, cap * HL);
    if (!h)
        return FK_ERR_NOMEM;
    r->h = h;
    uint32_t *slot = calloc((size_t)1 << bits, sizeof *slot);
    if (!slot)
        return FK_ERR_NOMEM;
    free(r->slot);
    r->slot = slot;
    r->cap = cap;
    r->bits = bits;
    size_t mask = ((size_t)1 << bits) - 1;
    for (size_t i = 0; i < r->n; i++) {
        size_t j = slot_of(r, mult, r->h[i]);
        while (slot[j])
            j = (j + 1) & mask;
        slot[j] = (uint32_t)(i + 1);
    }
    return FK_OK;
}

/* Append h as entry first + n.  A hash already in the run keeps its first
 * position in the table (the log never holds one twice, but a position must
 * stay an index either way). */
static fk_err run_add(struct run *r, uint64_t mult, const uint8_t *h)
{
    if (r->n >= UINT32_MAX - 1)
        return FK_ERR_LIMIT;
    if (r->n == r->cap) {
        fk_err e = run_grow(r, mult);
        if (e)
            return e;
    }
    size_t mask = ((size_t)1 << r->bits) - 1;
    memcpy(r->h[r->n], h, HL);
    size_t j = slot_of(r, mult, h);
    while (r->slot[j]) {
        if (!memcmp(r->h[r->slot[j] - 1], h, HL)) {
            r->n++;
            return FK_OK;
        }
        j = (j + 1) & mask;
    }
    r->slot[j] = (uint32_t)(r->n + 1);
    r->n++;
    return FK_OK;
}

static int run_find(const struct run *r, uint64_t mult, const uint8_t *h, uint64_t *index)
{
    if (!r || !r->n)
        return 0;
    size_t mask = ((size_t)1 << r->bits) - 1;
    for (size_t j = slot_of(r, mult, h); r->slot[j]; j = (j + 1) & mask)
        if (!memcmp(r->h[r->slot[j] - 1], h, HL)) {
            *index = r->first + r->slot[j] - 1;
            return 1;
        }
    return 0;
}

/* ---- index.db ------------------------------------------------------------ */

static const char schema[] =
    "PRAGMA journal_mode = WAL;"
    /* WAL with NORMAL: a commit is atomic but may be lost in a power cut,
     * which only moves the watermark back; the tiles refill it. */
    "PRAGMA synchronous = NORMAL;"
    "CREATE TABLE IF NOT EXISTS meta ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  indexed INTEGER NOT NULL CHECK (indexed >= 0));"
    "INSERT OR IGNORE INTO meta(id, indexed) VALUES (1, 0);"
    "CREATE TABLE IF NOT EXISTS entries ("
    "  hash BLOB PRIMARY KEY CHECK (length(hash) = 32),"
    "  idx INTEGER NOT NULL) WITHOUT ROWID;";

static int cmp_pos(const void *a, const void *b, void *ctx)
{
    const struct run *r = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int c = memcmp(r->h[x], r->h[y], HL);
    return c ? c : (x > y) - (x < y);   /* equal hashes: the first index first */
}

/* One transaction: the run's entries in hash order, and the watermark. */
static fk_err write_run(sqlite3 *db, const struct run *r)
{
    uint32_t *order = malloc((r->n ? r->n : 1) * sizeof *order);
    if (!order)
        return FK_ERR_NOMEM;
    for (size_t i = 0; i < r->n; i++)
        order[i] = (uint32_t)i;
    qsort_r(order, r->n, sizeof *order, cmp_pos, (void *)r);
    sqlite3_stmt *ins = NULL, *mark = NULL;
    fk_err e = FK_OK;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        free(order);
        return FK_ERR_STORAGE;
    }
    if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO entries(hash, idx) VALUES (?, ?)", -1,
                           &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "UPDATE meta SET indexed = ? WHERE id = 1 AND indexed = ?", -1,
                           &mark, NULL) != SQLITE_OK)
        e = FK_ERR_STORAGE;
    for (size_t k = 0; k < r->n && !e; k++) {
        sqlite3_reset(ins);
        sqlite3_bind_blob(ins, 1, r->h[order[k]], HL, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 2, (sqlite3_int64)(r->first + order[k]));
        if (sqlite3_step(ins) != SQLITE_DONE)
            e = FK_ERR_STORAGE;
    }
    if (!e) {
        sqlite3_bind_int64(mark, 1, (sqlite3_int64)(r->first + r->n));
        sqlite3_bind_int64(mark, 2, (sqlite3_int64)r->first);
        if (sqlite3_step(mark) != SQLITE_DONE || sqlite3_changes(db) != 1)
            e = FK_ERR_STORAGE;   /* the watermark is not where the run starts */
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(mark);
    if (!e && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        e = FK_ERR_STORAGE;
    if (e)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    free(order);
    return e;
}

static void *writer(void *arg)
{
    fki_entry_index *x = arg;
    pthread_setname_np(pthread_self(), "fk-index");
    pthread_mutex_lock(&x->mu);
    for (;;) {
        while (!x->stop && x->written == x->queued)
            pthread_cond_wait(&x->cv, &x->mu);
        if (x->written == x->queued)
            break;   /* stopping, nothing in hand */
        const struct run *r = x->queue[x->written];
        pthread_mutex_unlock(&x->mu);
        fk_err e = write_run(x->wr, r);
        pthread_mutex_lock(&x->mu);
        if (!e) {
            /* Committed: every later read transaction sees it, so the run
             * may leave memory now, whatever the checkpoint below does. */
            x->written++;
            pthread_cond_broadcast(&x->done);
            pthread_mutex_unlock(&x->mu);
            /* Copy the run into the database file and empty the WAL.
             * Readers hold a snapshot only while one batch's lookups run,
             * so this waits a moment at most (the automatic checkpoint
             * never resets a WAL that a snapshot still reads). */
            sqlite3_wal_checkpoint_v2(x->wr, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
            pthread_mutex_lock(&x->mu);
            continue;
        }
        /* Lookups still find the run in memory; try again later. */
        fprintf(stderr, "fairkey log: writing the entry index failed (%s); retrying\n",
                sqlite3_errmsg(x->wr));
        if (x->stop)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += RETRY_MS / 1000;
        pthread_cond_timedwait(&x->cv, &x->mu, &ts);
    }
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

static fk_err open_db(fki_entry_index *x)
{
    if (sqlite3_open_v2(x->path, &x->wr, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(x->wr, BUSY_TIMEOUT_MS) != SQLITE_OK ||
        sqlite3_exec(x->wr, schema, NULL, NULL, NULL) != SQLITE_OK)
        return FK_ERR_STORAGE;
    if (sqlite3_open_v2(x->path, &x->rd, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(x->rd, BUSY_TIMEOUT_MS) != SQLITE_OK ||
        sqlite3_prepare_v3(x->rd, "SELECT idx FROM entries WHERE hash = ?", -1,
                           SQLITE_PREPARE_PERSISTENT, &x->look, NULL) != SQLITE_OK)
        return FK_ERR_STORAGE;
    return FK_OK;
}

static void close_db(fki_entry_index *x)
{
    sqlite3_finalize(x->look);
    sqlite3_close(x->rd);
    sqlite3_close(x->wr);
    x->look = NULL;
    x->rd = x->wr = NULL;

}

static fk_err read_watermark(fki_entry_index *x, uint64_t *indexed)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(x->wr, "SELECT indexed FROM meta WHERE id = 1", -1, &st, NULL) !=
        SQLITE_OK)
        return FK_ERR_STORAGE;
    fk_err e = FK_ERR_STORAGE;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) >= 0) {
        *indexed = (uint64_t)sqlite3_column_int64(st, 0);
        e = FK_OK;
    }
    sqlite3_finalize(st);
    return e;
}

/* Delete the index file and its WAL, then open a fresh one. */
static fk_err recreate(fki_entry_index *x)
{
    char p[PATH_MAX + 8];
    close_db(x);
    unlink(x->path);
    snprintf(p, sizeof p, "%s-wal", x->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", x->path);
    unlink(p);
    return open_db(x);
}

fk_err fki_entry_index_open(fki_entry_index **out, const char *dir, size_t run,
                           uint64_t *indexed)
{
    fki_entry_index *x = calloc(1, sizeof *x);
    if (!x)
        return FK_ERR_NOMEM;
    x->run = run && run < UINT32_MAX / 8 ? run : FKI_INDEX_RUN;
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    pthread_cond_init(&x->done, NULL);
    fk_err e = FK_OK;
    if ((size_t)snprintf(x->path, sizeof x->path, "%s/index.db", dir) >= sizeof x->path)
        e = FK_ERR_LIMIT;
    if (!e)
        e = fk_random((uint8_t *)&x->mult, sizeof x->mult);
    x->mult |= 1;
    if (!e && (open_db(x) || read_watermark(x, indexed))) {
        /* Damaged: the index is derived data, start it again. */
        fprintf(stderr, "fairkey log: %s is unreadable; rebuilding it from the tiles\n",
                x->path);
        e = recreate(x);
        if (!e)
            e = read_watermark(x, indexed);
    }
    if (!e) {
        x->next = *indexed;
        x->pending = run_new(x->next);
        if (!x->pending)
            e = FK_ERR_NOMEM;
    }
    if (!e) {
        if (pthread_create(&x->thr, NULL, writer, x))
            e = FK_ERR_NOMEM;
        else
            x->thr_started = 1;
    }
    if (e) {
        fki_entry_index_close(x);
        return e;
    }
    *out = x;
    return FK_OK;
}

fk_err fki_entry_index_reset(fki_entry_index *x)
{
    /* Only before the first add (at start): nothing is in flight. */
    if (x->queued || x->pending->n)
        return FK_ERR_STORAGE;
    pthread_mutex_lock(&x->mu);
    fk_err e = recreate(x);
    pthread_mutex_unlock(&x->mu);
    if (e)
        return e;
    x->next = 0;
    x->pending->first = 0;
    return FK_OK;
}

fk_err fki_entry_index_add(fki_entry_index *x, uint64_t first,
                           const uint8_t (*hashes)[FKI_LOG_HASH_LEN], size_t n)
{
    if (x->broken || first != x->next)
        return FK_ERR_STORAGE;
    for (size_t i = 0; i < n; i++) {
        fk_err e = run_add(x->pending, x->mult, hashes[i]);
        if (e) {
            x->broken = 1;
            return e;
        }
    }
    x->next += n;
    if (x->pending->n < x->run)
        return FK_OK;
    struct run *fresh = run_new(x->next);
    if (!fresh)
        return FK_OK;   /* keep growing this one; hand it over next time */
    pthread_mutex_lock(&x->mu);
    /* Runs the writer committed leave memory (every later read
     * transaction sees them in index.db). */
    for (;;) {
        size_t w = x->written;
        for (size_t i = 0; i < w; i++)
            run_free(x->queue[i]);
        memmove(x->queue, x->queue + w, (x->queued - w) * sizeof x->queue[0]);
        x->queued -= w;
        x->written = 0;
        if (x->queued < QUEUE_MAX)
            break;
        /* Far behind (a failing disk): wait for the writer. */
        pthread_cond_wait(&x->done, &x->mu);
    }
    x->queue[x->queued++] = x->pending;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
    x->pending = fresh;
    return FK_OK;
}

fk_err fki_entry_index_lookup_many(fki_entry_index *x, const uint8_t (*hashes)[FKI_LOG_HASH_LEN],
                                   size_t n, uint64_t *index)
{
    /* Memory first: queued runs are freed only by this thread, in add(). */
    size_t miss = 0;
    for (size_t i = 0; i < n; i++) {
        int found = run_find(x->pending, x->mult, hashes[i], &index[i]);
        for (size_t q = x->queued; !found && q > 0; q--)
            found = run_find(x->queue[q - 1], x->mult, hashes[i], &index[i]);
        if (found)
            continue;
        index[i] = FKI_INDEX_ABSENT;
        miss++;
    }
    if (!miss)
        return FK_OK;
    /* One read transaction for the whole batch: in autocommit mode every
     * SELECT would take and drop the shared lock (two fcntl calls each).
     * It ends at once, so the writer's checkpoints can empty the WAL. */
    if (sqlite3_exec(x->rd, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return FK_ERR_STORAGE;
    fk_err e = FK_OK;
    for (size_t i = 0; i < n && !e; i++) {
        if (index[i] != FKI_INDEX_ABSENT)
            continue;
        sqlite3_reset(x->look);
        sqlite3_bind_blob(x->look, 1, hashes[i], HL, SQLITE_STATIC);
        int rc = sqlite3_step(x->look);
        if (rc == SQLITE_ROW)
            index[i] = (uint64_t)sqlite3_column_int64(x->look, 0);
        else if (rc != SQLITE_DONE)
            e = FK_ERR_STORAGE;
    }
    sqlite3_reset(x->look);
    sqlite3_exec(x->rd, "COMMIT", NULL, NULL, NULL);
    return e;
}

fk_err fki_entry_index_lookup(fki_entry_index *x, const uint8_t hash[FKI_LOG_HASH_LEN],
                              uint64_t *index)
{
    uint64_t got;
    fk_err e = fki_entry_index_lookup_many(x, (const uint8_t(*)[HL])hash, 1, &got);
    if (!e && got == FKI_INDEX_ABSENT)
        e = FK_ERR_NOT_FOUND;
    if (!e)
        *index = got;
    return e;
}

void fki_entry_index_close(fki_entry_index *x)
{
    if (!x)
        return;
    if (x->thr_started) {
        pthread_mutex_lock(&x->mu);
        x->stop = 1;
        pthread_cond_signal(&x->cv);
        pthread_mutex_unlock(&x->mu);
        pthread_join(x->thr, NULL);   /* writes what is queued, unless it fails */
    }
    /* The rest, in order (the watermark refuses a gap), so the next start
     * has little to reread. */
    int ok = x->wr != NULL;
    for (size_t i = x->written; i < x->queued && ok; i++)
        ok = !write_run(x->wr, x->queue[i]);
    if (ok && x->pending && x->pending->n)
        write_run(x->wr, x->pending);
    for (size_t i = 0; i < x->queued; i++)
        run_free(x->queue[i]);
    run_free(x->pending);
    close_db(x);
    pthread_cond_destroy(&x->cv);
    pthread_cond_destroy(&x->done);
    pthread_mutex_destroy(&x->mu);
    free(x);
}
