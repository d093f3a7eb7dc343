/*
 * storage_sqlite.c - the embedded storage backend: SQLite for the tree state
 * and the entry-hash index, plain files for tiles, bundles and the checkpoint.
 *
 * Write order per batch (crash-safe, as Sunlight does it):
 *   1. every tile and bundle: written under its final name (always a path
 *      beyond the committed tree), then every file and every directory
 *      touched is fsynced;
 *   2. one SQLite transaction: the new size,
 *      root and checkpoint (WAL, synchronous=FULL: durable at COMMIT);
 *   3. replace DIR/checkpoint atomically (temp + rename; made durable from
 *      SQLite on the next start).
 * SQLite is the truth: on open, DIR/checkpoint is rewritten from it.
 */
#define _GNU_SOURCE   /* pthread_setname_np */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "entry_index.h"
#include "storage.h"

/* Most paths (files and directories) fsynced in one parallel round; a batch
 * with more syncs in several rounds. */
#define DIRS_MAX 256

struct syncpool;

struct sq {
    char *dir;
    sqlite3 *db;
    sqlite3_stmt *upd;
    struct syncpool *sync;
    fki_entry_index *idx;
    uint64_t indexed;   /* the index's watermark when opened */
};

static fk_err tile_rel(char *rel, size_t cap, int level, uint64_t index, unsigned width)
{
    fk_tile t = {.level = level, .index = index, .width = width};
    size_t n;
    return fk_tile_path(&t, rel, cap, &n);
}

static fk_err write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return FK_ERR_IO;
        }
        p += w;
        n -= (size_t)w;
    }
    return FK_OK;
}

static fk_err fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return FK_ERR_IO;
    int rc = fsync(fd);
    close(fd);
    return rc ? FK_ERR_IO : FK_OK;
}

/* mkdir -p for the parent directories of full; *created is increased by
 * the number of directories made (the deepest ones). */
static fk_err make_parents(const char *full, int *created)
{
    char tmp[PATH_MAX];
    size_t n = strlen(full);
    if (n >= sizeof tmp)
        return FK_ERR_LIMIT;
    memcpy(tmp, full, n + 1);
    /* Fast path: the parent usually exists already. */
    char *last = strrchr(tmp, '/');
    struct stat sb;
    if (last) {
        *last = 0;
        int ok = !stat(tmp, &sb) && S_ISDIR(sb.st_mode);
        *last = '/';
        if (ok)
            return FK_OK;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (!mkdir(tmp, 0755))
            (*created)++;
        else if (errno != EEXIST)
            return FK_ERR_IO;
        *p = '/';
    }
    return FK_OK;
}

/* Write a file through a temporary name and rename it into place.  With
 * durable set it is fsynced first; otherwise the caller makes it durable
 * (sync_paths) before relying on it. */
static fk_err write_file_atomic(const char *full, const uint8_t *data, size_t len, int durable,
                                int *created)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", full) >= sizeof tmp)
        return FK_ERR_LIMIT;
    int dummy = 0;
    fk_err e = make_parents(full, created ? created : &dummy);
    if (e)
        return e;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return FK_ERR_IO;
    e = write_all(fd, data, len);
    if (!e && durable && fsync(fd))
        e = FK_ERR_IO;
    if (close(fd) && !e)
        e = FK_ERR_IO;
    if (!e && rename(tmp, full))
        e = FK_ERR_IO;
    if (e)
        unlink(tmp);
    return e;
}

/* Write a tile or bundle under its final name, not through a temporary
 * file: a batch only ever writes paths beyond the committed tree (a
 * committed tile is never rewritten; a wider partial tile or a completed
 * full tile has a new name), so nobody reads them before the batch commits,
 * and a file a crash left torn there is deleted on start (discard_beyond).
 * Saves a rename, a directory update, per file per batch.  The caller makes
 * it durable (sync_paths) before the commit. */
static fk_err write_file_new(const char *full, const uint8_t *data, size_t len, int *created)
{
    fk_err e = make_parents(full, created);
    if (e)
        return e;
    int fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return FK_ERR_IO;
    e = write_all(fd, data, len);
    if (close(fd) && !e)
        e = FK_ERR_IO;
    if (e)
        unlink(full);
    return e;
}

/* fsync a list of files and directories with a few threads at once: the
 * filesystem groups concurrent fsyncs into one journal commit, so a batch
 * costs about one device flush instead of one per file.  The helper threads
 * live as long as the storage (starting threads for every batch cost more
 * CPU than the fsyncs' own system calls). */
#define SYNC_THREADS 8

struct syncjob {
    char (*paths)[PATH_MAX];
    size_t n;
    size_t next;
    int failed;
};

struct syncpool {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    struct syncjob *job;
    unsigned long gen;     /* rounds started; a helper works once per round */
    unsigned busy;         /* helpers still working on this round */
    int stop;
    size_t nth;
    pthread_t th[SYNC_THREADS - 1];
};

static void sync_some(struct syncjob *j)
{
    for (;;) {
        size_t i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        if (i >= j->n)
            break;
        int fd = open(j->paths[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd))
            __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        if (fd >= 0)
            close(fd);
    }
}

static void *sync_helper(void *arg)
{
    struct syncpool *p = arg;
    unsigned long seen = 0;
    pthread_setname_np(pthread_self(), "fk-fsync");
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->gen == seen)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->stop)
            break;
        seen = p->gen;
        struct syncjob *j = p->job;
        pthread_mutex_unlock(&p->mu);
        sync_some(j);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Start the helpers; with none (out of threads) the caller syncs alone. */
static void syncpool_start(struct syncpool *p)
{
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    for (size_t i = 0; i < SYNC_THREADS - 1; i++)
        if (!pthread_create(&p->th[p->nth], NULL, sync_helper, p))
            p->nth++;
}

static void syncpool_stop(struct syncpool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->nth; i++)
        pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->go);
    pthread_mutex_destroy(&p->mu);
}

static fk_err sync_paths(struct syncpool *p, char (*paths)[PATH_MAX], size_t n)
{
    struct syncjob j = {.paths = paths, .n = n};
    /* Helpers only when there is more than one path to sync. */
    int helpers = n > 1 && p->nth;
    if (helpers) {
        pthread_mutex_lock(&p->mu);
        p->job = &j;
        p->busy = (unsigned)p->nth;
        p->gen++;
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
    }
    sync_some(&j);
    if (helpers) {
        pthread_mutex_lock(&p->mu);
        while (p->busy)
            pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
    return j.failed ? FK_ERR_IO : FK_OK;
}

static fk_err sq_read_tile(void *self, int level, uint64_t index, unsigned width,
                           uint8_t **data, size_t *len);

/* The leaf hashes of level-0 tile t in the tree of `size` leaves (*w of
 * them, malloc'd). */
static fk_err read_leaves(struct sq *s, uint64_t size, uint64_t t, uint8_t **data, unsigned *w)
{
    size_t len;
    *w = (t == size >> 8) ? (unsigned)(size & 255) : FKI_LOG_TILE_WIDTH;
    fk_err e = sq_read_tile(s, 0, t, *w, data, &len);
    if (!e && len != (size_t)*w * FKI_LOG_HASH_LEN) {
        free(*data);
        e = FK_ERR_STORAGE;
    }
    return e;
}

/* Bring the entry index up to the committed tree: the leaf hashes it lacks
 * are in the level-0 tiles, durable before their batch committed. */
static fk_err index_catch_up(struct sq *s, uint64_t size)
{
    uint64_t from = s->indexed;
    int foreign = from > size;   /* ahead of the tree it indexes */
    uint8_t *data;
    unsigned w;
    if (!foreign && from) {
        /* Its last entry must be this tree's entry at that index: an
         * index.db copied from another log is not trusted. */
        uint64_t last = from - 1, got = 0;
        fk_err e = read_leaves(s, size, last >> 8, &data, &w);
        if (e)
            return e;
        e = fki_entry_index_lookup(s->idx, data + (last & 255) * FKI_LOG_HASH_LEN, &got);
        free(data);
        if (e && e != FK_ERR_NOT_FOUND)
            return e;
        foreign = e == FK_ERR_NOT_FOUND || got != last;
    }
    if (foreign) {
        fprintf(stderr, "fairkey log: index.db does not index this tree; rebuilding it\n");
        fk_err e = fki_entry_index_reset(s->idx);
        if (e)
            return e;
        from = 0;
    }
    while (from < size) {
        fk_err e = read_leaves(s, size, from >> 8, &data, &w);
        if (e)
            return e;
        size_t skip = (size_t)(from & 255);   /* < w: from < size */
        e = fki_entry_index_add(s->idx, from,
                                (const uint8_t(*)[FKI_LOG_HASH_LEN])(data + skip * FKI_LOG_HASH_LEN),
                                w - skip);
        free(data);
        if (e)
            return e;
        from += w - skip;
    }
    s->indexed = size;
    return FK_OK;
}

static fk_err sq_load(void *self, uint64_t *size, uint8_t root[FKI_LOG_HASH_LEN], char **cp)
{
    struct sq *s = self;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT size, root, checkpoint FROM tree WHERE id = 1", -1,
                           &st, NULL) != SQLITE_OK)
        return FK_ERR_STORAGE;
    fk_err e = FK_OK;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        *size = 0;
        memset(root, 0, FKI_LOG_HASH_LEN);
        *cp = NULL;
    } else if (rc == SQLITE_ROW) {
        sqlite3_int64 sz = sqlite3_column_int64(st, 0);
        const void *r = sqlite3_column_blob(st, 1);
        const unsigned char *c = sqlite3_column_text(st, 2);
        if (sz < 0 || !r || sqlite3_column_bytes(st, 1) != FKI_LOG_HASH_LEN || !c) {
            e = FK_ERR_STORAGE;
        } else {
            *cp = strdup((const char *)c);
            if (!*cp) {
                e = FK_ERR_NOMEM;
            } else {
                *size = (uint64_t)sz;
                memcpy(root, r, FKI_LOG_HASH_LEN);
            }
        }
    } else {
        e = FK_ERR_STORAGE;
    }
    sqlite3_finalize(st);
    if (!e)
        e = index_catch_up(s, *size);
    if (e && *cp) {
        free(*cp);
        *cp = NULL;
    }
    if (!e && *cp) {
        /* SQLite is the truth: a crash between COMMIT and the checkpoint
         * file's replacement leaves the file one batch behind. */
        char full[PATH_MAX];
        snprintf(full, sizeof full, "%s/checkpoint", s->dir);
        if (write_file_atomic(full, (const uint8_t *)*cp, strlen(*cp), 1, NULL) ||
            fsync_dir(s->dir)) {
            free(*cp);
            *cp = NULL;
            e = FK_ERR_IO;
        }
    }
    return e;
}

/* Add a path to the sync list unless present; 0 if the list is full. */
static int add_path(char (*paths)[PATH_MAX], size_t *n, const char *p, size_t len)
{
    for (size_t i = 0; i < *n; i++)
        if (strlen(paths[i]) == len && !memcmp(paths[i], p, len))
            return 1;
    if (*n >= DIRS_MAX || len >= PATH_MAX)
        return 0;
    memcpy(paths[*n], p, len);
    paths[*n][len] = 0;
    (*n)++;
    return 1;
}

/* Crash tests (tests/log/log_crash.sh): FAIRKEY_LOG_FAILPOINT=<point>:<size>
 * makes the process die at <point> ("after-tiles" or "after-commit") of the
 * first batch that reaches <size> entries, exactly where a power cut could. */
static void failpoint(const char *point, uint64_t new_size)
{
    const char *f = getenv("FAIRKEY_LOG_FAILPOINT");
    size_t n = strlen(point);
    if (!f || strncmp(f, point, n) || f[n] != ':')
        return;
    char *end;
    unsigned long long at = strtoull(f + n + 1, &end, 10);
    if (!*end && new_size >= at)
        _exit(99);
}

static fk_err sq_store_batch(void *self, const struct fki_log_batch *b)
{
    struct sq *s = self;
    char full[PATH_MAX], rel[256];
    char (*paths)[PATH_MAX] = malloc(DIRS_MAX * sizeof *paths);
    size_t np = 0;
    fk_err e = FK_OK;
    if (!paths)
        return FK_ERR_NOMEM;

    /* 1. tiles and bundles: written and renamed into place, then every file
     * and every directory whose entries changed is fsynced (in parallel).
     * Order inside this step does not matter: none of it is served or
     * trusted before the commit in step 2. */
    for (size_t i = 0; i < b->ntiles && !e; i++) {
        const struct fki_log_tile *t = &b->tiles[i];
        e = tile_rel(rel, sizeof rel, t->level, t->index, t->width);
        if (e)
            break;
        if ((size_t)snprintf(full, sizeof full, "%s/%s", s->dir, rel) >= sizeof full) {
            e = FK_ERR_LIMIT;
            break;
        }
        int created = 0;
        e = write_file_new(full, t->data, t->len, &created);
        if (e)
            break;
        size_t flen = strlen(full);
        const char *slash = strrchr(full, '/');
        if (np + 2 + (size_t)created > DIRS_MAX) {
            e = sync_paths(s->sync, paths, np);
            np = 0;
        }
        add_path(paths, &np, full, flen);
        add_path(paths, &np, full, (size_t)(slash - full));
        /* New directories: their names live in their parents. */
        for (const char *p = slash; created > 0 && p > full + strlen(s->dir); created--) {
            const char *q = p - 1;
            while (q > full && *q != '/')
                q--;
            add_path(paths, &np, full, (size_t)(q - full));
            p = q;
        }
    }
    if (!e)
        e = sync_paths(s->sync, paths, np);
    free(paths);
    if (e)
        return e;

    failpoint("after-tiles", b->new_size);

    /* 2. the state, in one transaction. */
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return FK_ERR_STORAGE;
    if (!e) {
        sqlite3_stmt *st = s->upd;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)b->new_size);
        sqlite3_bind_blob(st, 2, b->root, FKI_LOG_HASH_LEN, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, b->checkpoint, (int)b->checkpoint_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)b->old_size);
        /* The WHERE guards against two writers: the old size must match. */
        if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(s->db) != 1)
            e = FK_ERR_STORAGE;
        sqlite3_reset(st);
    }
    if (!e && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        e = FK_ERR_STORAGE;
    if (e) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return e;
    }

    failpoint("after-commit", b->new_size);

    /* The batch is committed: nothing below may fail it.  An index that
     * cannot take the entries (out of memory) is rebuilt from the tiles on
     * the next start; until then a duplicate of them gets a new index. */
    if (b->new_size > b->old_size &&
        fki_entry_index_add(s->idx, b->old_size, b->leaf_hashes,
                            (size_t)(b->new_size - b->old_size)))
        fprintf(stderr, "fairkey log: the entry index is out of step; restart the log to "
                        "rebuild it\n");

    /* 3. the checkpoint file.  The batch is committed already: a failure here
     * leaves the file one batch behind (consistent, only older), and the
     * next batch or restart rewrites it, so it is not the batch's failure. */
    snprintf(full, sizeof full, "%s/checkpoint", s->dir);
    /* Not fsynced: SQLite holds the truth and the file is rewritten, durably,
     * from it on every start. */
    write_file_atomic(full, (const uint8_t *)b->checkpoint, b->checkpoint_len, 0, NULL);
    return FK_OK;
}

static fk_err sq_read_tile(void *self, int level, uint64_t index, unsigned width,
                           uint8_t **data, size_t *len)
{
    struct sq *s = self;
    char rel[256], full[PATH_MAX];
    fk_err e = tile_rel(rel, sizeof rel, level, index, width);
    if (e)
        return e;
    if ((size_t)snprintf(full, sizeof full, "%s/%s", s->dir, rel) >= sizeof full)
        return FK_ERR_LIMIT;
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? FK_ERR_NOT_FOUND : FK_ERR_IO;
    struct stat sb;
    /* A bundle holds at most 256 entries of 2 + 65,535 bytes. */
    size_t maxlen = (size_t)FKI_LOG_TILE_WIDTH * (2 + FKI_LOG_MAX_ENTRY);
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || (size_t)sb.st_size > maxlen) {
        close(fd);
        return FK_ERR_IO;
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        return FK_ERR_NOMEM;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(buf);
        return FK_ERR_IO;
    }
    *data = buf;
    *len = n;
    return FK_OK;
}

static fk_err sq_lookup(void *self, const uint8_t (*hashes)[FKI_LOG_HASH_LEN], size_t n,
                        uint64_t *index)
{
    struct sq *s = self;
    return fki_entry_index_lookup_many(s->idx, hashes, n, index);
}

/* Remove the partial versions wider than keep (0: all) of tile (level,
 * index); returns whether anything of the tile existed. */
static fk_err discard_tile(struct sq *s, int level, uint64_t index, unsigned keep, int full,
                           int *existed)
{
    char rel[256], full_path[PATH_MAX];
    fk_err e = tile_rel(rel, sizeof rel, level, index, 1);
    if (e)
        return e;
    snprintf(full_path, sizeof full_path, "%s/%s", s->dir, rel);
    char *slash = strrchr(full_path, '/');
    *slash = 0;   /* ".../<N>.p" */
    DIR *d = opendir(full_path);
    int changed = 0;
    if (d) {
        *existed = 1;
        struct dirent *de;
        while ((de = readdir(d))) {
            char *end;
            unsigned long w = strtoul(de->d_name, &end, 10);
            if (de->d_name[0] == '.' || (!*end && w <= keep))
                continue;   /* ".", "..", or a committed width */
            char victim[PATH_MAX];
            if ((size_t)snprintf(victim, sizeof victim, "%s/%s", full_path, de->d_name) <
                sizeof victim) {
                unlink(victim);
                changed = 1;
            }
        }
        closedir(d);
        if (changed && fsync_dir(full_path))
            e = FK_ERR_IO;
    }
    if (full) {
        e = tile_rel(rel, sizeof rel, level, index, FKI_LOG_TILE_WIDTH);
        if (e)
            return e;
        snprintf(full_path, sizeof full_path, "%s/%s", s->dir, rel);
        if (!unlink(full_path)) {
            *existed = 1;
            slash = strrchr(full_path, '/');
            *slash = 0;
            if (fsync_dir(full_path))
                e = FK_ERR_IO;
        }
    }
    return e;
}

static fk_err sq_discard_beyond(void *self, uint64_t size)
{
    struct sq *s = self;
    fk_err e = FK_OK;
    /* Levels: the bundles, then hash levels while they can hold anything
     * (2^64 leaves need 8 levels). */
    for (int level = FKI_LOG_LEVEL_ENTRIES; level < 8 && !e; level++) {
        unsigned shift = 8u * (unsigned)(level < 0 ? 0 : level);
        uint64_t at_level = size >> shift;
        uint64_t t = at_level >> 8;
        unsigned w = (unsigned)(at_level & 255);
        int existed = 0;
        e = discard_tile(s, level, t, w, 1, &existed);
        /* A failed batch writes consecutive tiles: stop at the first gap. */
        for (uint64_t i = t + 1; !e; i++) {
            existed = 0;
            e = discard_tile(s, level, i, 0, 1, &existed);
            if (!existed)
                break;
        }
    }
    return e;
}

static void sq_close(void *self)
{
    struct sq *s = self;
    if (!s)
        return;
    if (s->sync) {
        syncpool_stop(s->sync);
        free(s->sync);
    }
    fki_entry_index_close(s->idx);
    sqlite3_finalize(s->upd);
    sqlite3_close(s->db);
    free(s->dir);
    free(s);
}

fk_err fki_log_storage_sqlite_open(struct fki_log_storage *out, const char *dir)
{
    struct sq *s = calloc(1, sizeof *s);
    if (!s)
        return FK_ERR_NOMEM;
    s->dir = strdup(dir);
    char path[PATH_MAX];
    if (!s->dir || (size_t)snprintf(path, sizeof path, "%s/log.db", dir) >= sizeof path) {
        sq_close(s);
        return FK_ERR_INVALID;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
        sq_close(s);
        return FK_ERR_STORAGE;
    }
    static const char schema[] =
        /* The daemon holds DIR/lock, so nobody else opens the database:
         * exclusive mode takes the file locks once instead of twice per
         * statement (two fcntl calls per add otherwise). */
        "PRAGMA locking_mode = EXCLUSIVE;"
        "PRAGMA journal_mode = WAL;"
        "PRAGMA synchronous = FULL;"
        "CREATE TABLE IF NOT EXISTS tree ("
        "  id INTEGER PRIMARY KEY CHECK (id = 1),"
        "  size INTEGER NOT NULL CHECK (size >= 0),"
        "  root BLOB NOT NULL CHECK (length(root) = 32),"
        "  checkpoint TEXT NOT NULL);"
        /* Entry hashes live in index.db now (entry_index.h); a log
         * written before keeps them there too, rebuilt from its tiles. */
        "DROP TABLE IF EXISTS entries;";
    if (sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(s->db,
                           "INSERT INTO tree(id, size, root, checkpoint) VALUES (1, ?, ?, ?) "
                           "ON CONFLICT(id) DO UPDATE SET size = excluded.size, "
                           "root = excluded.root, checkpoint = excluded.checkpoint "
                           "WHERE tree.size = ?",
                           -1, SQLITE_PREPARE_PERSISTENT, &s->upd, NULL) != SQLITE_OK) {
        sq_close(s);
        return FK_ERR_STORAGE;
    }
    if (fki_entry_index_open(&s->idx, dir, 0, &s->indexed)) {
        sq_close(s);
        return FK_ERR_STORAGE;
    }
    if (!(s->sync = calloc(1, sizeof *s->sync))) {
        sq_close(s);
        return FK_ERR_NOMEM;
    }
    syncpool_start(s->sync);
    out->self = s;
    out->load = sq_load;
    out->store_batch = sq_store_batch;
    out->read_tile = sq_read_tile;
    out->lookup = sq_lookup;
    out->discard_beyond = sq_discard_beyond;
    out->close = sq_close;
    return FK_OK;
}
