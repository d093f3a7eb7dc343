/*
 * storage.h - the log daemon's storage seam.  The sequencer and the read path
 * talk to storage only through struct fki_log_storage (a table of function
 * pointers): the embedded backend (SQLite and files) and the PostgreSQL one
 * (everything in one database that several front ends share) implement it.
 *
 * Durability contract of store_batch(): when it returns FK_OK, every tile and
 * entry bundle of the batch and the new tree state (size, root, checkpoint)
 * are durable, in that order (tiles first, then the state), so a crash at any
 * point leaves the last committed state whole.  When it fails, the committed
 * state is unchanged; tiles it may have written lie beyond the committed tree
 * and are rewritten by the next batch that covers them.
 *
 * The entry-hash -> index map behind lookup() is not part of that state: it
 * is derived from the level-0 tiles, which hold every leaf hash.  A backend
 * may write it behind the commits (the embedded one does, entry_index.h) and
 * lose its tail in a crash; load() brings it up to the committed tree before
 * anything is looked up.
 */
#ifndef FK_LOG_STORAGE_H
#define FK_LOG_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include <fairkey.h>

#define FKI_LOG_HASH_LEN 32
/* Tile height (C2SP tlog-tiles): 2^8 = 256 hashes per full tile. */
#define FKI_LOG_TILE_WIDTH 256u
/* The entry-bundle "level" in tile coordinates. */
#define FKI_LOG_LEVEL_ENTRIES (-1)
/* Highest tile level the tiles spec allows (L is 0..63). */
#define FKI_LOG_MAX_LEVEL 63
/* Entries are at most 65,535 bytes: bundles use a big-endian uint16 length. */
#define FKI_LOG_MAX_ENTRY 65535u
/* Longest signed checkpoint we store or serve (origin + size + root + a few
 * signatures; the signed-note spec asks verifiers to take 16 signatures). */
#define FKI_LOG_MAX_CHECKPOINT 8192u

/* lookup()'s answer for a hash that is not in the log. */
#define FKI_LOG_ABSENT UINT64_MAX

/* One tile or entry bundle to write.  width 1..256; 256 is a full tile. */
struct fki_log_tile {
    int level;            /* 0..63, or FKI_LOG_LEVEL_ENTRIES */
    uint64_t index;
    unsigned width;
    const uint8_t *data;
    size_t len;
};

struct fki_log_batch {
    uint64_t old_size, new_size;
    const uint8_t *root;                       /* FKI_LOG_HASH_LEN bytes */
    const struct fki_log_tile *tiles;
    size_t ntiles;
    const uint8_t (*leaf_hashes)[FKI_LOG_HASH_LEN];  /* entries old_size.. new_size-1 */
    const char *checkpoint;                    /* signed note text */
    size_t checkpoint_len;
    /* Shared backends: the queued adds (dequeue ids) this batch consumed,
     * removed from the queue in the same transaction as the state. */
    const int64_t *queue_ids;
    size_t nqueue_ids;
};

/* dequeue()'s callback: one queued add, its bytes valid during the call. */
typedef fk_err (*fki_log_queued_fn)(void *ctx, int64_t id, const uint8_t *entry, size_t len);

struct fki_log_storage {
    void *self;
    /* The committed tree; *checkpoint is malloc'd (NUL-terminated) or NULL for
     * a new, empty log.  On FK_OK, lookup() knows every committed entry. */
    fk_err (*load)(void *self, uint64_t *size, uint8_t root[FKI_LOG_HASH_LEN],
                   char **checkpoint);
    fk_err (*store_batch)(void *self, const struct fki_log_batch *b);
    /* A stored tile or bundle (malloc'd), FK_ERR_NOT_FOUND if absent.  Safe to
     * call from any thread, concurrently with store_batch. */
    fk_err (*read_tile)(void *self, int level, uint64_t index, unsigned width,
                        uint8_t **data, size_t *len);
    /* Indices of committed entries by leaf hash, a batch's worth at once
     * (one read transaction, one round trip for a database server):
     * index[i] = FKI_LOG_ABSENT when hashes[i] is not in the log.  Called
     * only from the sequencer thread. */
    fk_err (*lookup)(void *self, const uint8_t (*hashes)[FKI_LOG_HASH_LEN], size_t n,
                     uint64_t *index);
    /* Remove every tile and bundle that is not part of the committed tree of
     * `size` leaves (left by a batch that failed or a crash), so the read
     * path can never serve one.  Called on start and after a failed batch. */
    fk_err (*discard_beyond)(void *self, uint64_t size);
    void (*close)(void *self);

    /* ---- Several front ends on one database (PostgreSQL; docs/log.md 7.9).
     * NULL in the embedded backend, where the one process queues adds in
     * memory and always sequences.  With a shared backend every front end
     * queues its adds in the database (enqueue), exactly one holds the
     * sequencer lease at a time (lease) and turns queued adds into batches
     * (dequeue, store_batch), and every front end answers its own waiters
     * once lookup() finds their entries in the committed tree (load). */

    /* Queue adds durably: committed when it returns FK_OK.  Any thread. */
    fk_err (*enqueue)(void *self, const uint8_t *const *entries, const size_t *lens, size_t n);
    /* want 1: take the sequencer lease, or keep it (renewed when due; call
     * it at least every second while holding it); *held says whether this
     * front end holds it now: a lease that expired (this process hung past
     * it) or whose session was lost reads 0 once, and a later call may
     * take it afresh.  want 0: give it up.  It expires unless renewed, is
     * free at once when its session ends (the process died), and every
     * store_batch checks it in its own transaction, so a holder that lost
     * it commits nothing.  Sequencer thread only. */
    fk_err (*lease)(void *self, int want, int *held);
    /* The oldest queued adds, at most max, oldest first, passed to fn; *n
     * gets their number.  They stay queued until a batch that names their
     * ids commits.  Sequencer thread only, with the lease. */
    fk_err (*dequeue)(void *self, size_t max, fki_log_queued_fn fn, void *ctx, size_t *n);
    /* Sleep up to ms, or less once something happens: what 0, an add was
     * queued (sequencer thread); what 1, a batch committed (one other
     * thread).  Returns early on a database failure too. */
    void (*wait)(void *self, int what, unsigned ms);
};

/* The embedded backend: DIR/log.db (SQLite, WAL, synchronous=FULL) for the
 * tree state; DIR/index.db for the entry-hash index (entry_index.h: written
 * per run by a background thread, refilled from the level-0 tiles on load);
 * DIR/tile/... and DIR/checkpoint as plain files that any static web server
 * can serve. */
fk_err fki_log_storage_sqlite_open(struct fki_log_storage *out, const char *dir);

/* The PostgreSQL backend (storage_pg.c): the tree state, tiles, bundles,
 * entry index and add queue in one database that several front ends share.
 * conninfo is a libpq connection string or URI (never printed).  A database
 * that holds another log (another origin or key: vkey, the log's verifier
 * key text) is refused with FK_ERR_POLICY.  On failure *why gets one line
 * (no connection string in it). */
fk_err fki_log_storage_pg_open(struct fki_log_storage *out, const char *conninfo,
                               const char *vkey, const char **why);

#endif
