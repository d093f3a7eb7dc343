/*
 * entry_index.h - the log's entry-hash -> index map, used to answer a
 * duplicate add with its original index.
 *
 * The map is derived data: the level-0 tiles hold every leaf hash, so the
 * index never has to be durable before a batch is acknowledged.  Entries of
 * committed batches go first into an in-memory run; a full run is written
 * to DIR/index.db by a background thread, sorted by hash, in one
 * transaction that also advances a watermark ("entries [0, indexed) are
 * in"), so a crash or a lost write only leaves the watermark behind, and
 * the storage refills the gap from the tiles on the next start.
 *
 * Writing the map per batch cost a random B-tree page per entry (a 4 KiB
 * WAL frame for each 32-byte hash, then again at every WAL checkpoint);
 * written per run, sorted, the pages are shared by many entries.
 *
 * add() and lookup() are called from one thread (the log's sequencer).
 */
#ifndef FK_LOG_ENTRY_INDEX_H
#define FK_LOG_ENTRY_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include <fairkey.h>

#include "storage.h"

/* Entries kept in memory before a run is handed to the writer thread
 * (the default of fki_entry_index_open): about 40 bytes each, so about
 * 10 MiB; the restart after a crash rereads at most about twice this many
 * leaf hashes from the tiles.  The index is a B-tree keyed by hash, so once
 * it is larger than a run, writing a run rewrites most of its pages: the
 * larger the run, the fewer bytes written per entry. */
#define FKI_INDEX_RUN 262144u

typedef struct fki_entry_index fki_entry_index;

/* Open (or create) DIR/index.db and start the writer thread; run is the
 * run size (0: FKI_INDEX_RUN).  *indexed gets
 * the watermark: every entry below it is in the index.  A damaged index
 * file is replaced by an empty one (*indexed = 0). */
fk_err fki_entry_index_open(fki_entry_index **out, const char *dir, size_t run,
                           uint64_t *indexed);

/* Forget everything (the index is ahead of the tree it indexes: replaced). */
fk_err fki_entry_index_reset(fki_entry_index *x);

/* Entries [first, first + n) of the committed tree, in order; first must be
 * the end of what the index holds or was given before. */
fk_err fki_entry_index_add(fki_entry_index *x, uint64_t first,
                           const uint8_t (*hashes)[FKI_LOG_HASH_LEN], size_t n);

/* index[i] for a hash not in the log. */
#define FKI_INDEX_ABSENT UINT64_MAX

/* The indices of n entries by leaf hash (FKI_INDEX_ABSENT for those not in
 * the log), with one read transaction for all of them. */
fk_err fki_entry_index_lookup_many(fki_entry_index *x, const uint8_t (*hashes)[FKI_LOG_HASH_LEN],
                                   size_t n, uint64_t *index);

/* The index of the entry with this leaf hash; FK_ERR_NOT_FOUND if none. */
fk_err fki_entry_index_lookup(fki_entry_index *x, const uint8_t hash[FKI_LOG_HASH_LEN],
                              uint64_t *index);

/* Write what is held in memory, stop the thread, close.  NULL is a no-op. */
void fki_entry_index_close(fki_entry_index *x);

#endif
