/*
 * log.h - the transparency log daemon (sequencer, read path, add endpoint)
 * and its client (checkpoint, consistency and inclusion checks from tiles
 * over HTTP).  Program code compiled into the fairkey executable.
 */
#ifndef FK_LOG_LOG_H
#define FK_LOG_LOG_H

#include <stddef.h>
#include <stdint.h>

#include <fairkey.h>

#include "admit.h"
#include "storage.h"

/* ---- daemon ---------------------------------------------------------------- */

/* Defaults and limits of the sequencer. */
#define FKI_LOG_DEFAULT_BATCH_MS 1000u   /* DESIGN.md: a batch at least every second */
#define FKI_LOG_DEFAULT_BATCH_MAX 4096u  /* entries per batch: 16 full level-0 tiles */
#define FKI_LOG_MAX_BATCH_MAX 65536u     /* bounds one batch's memory and fsync time */
#define FKI_LOG_MAX_BATCH_MS 60000u      /* an add must not wait longer than a minute */
/* Pending adds beyond which POST /add answers 503: bounds memory to about
 * this many entries (each at most 64 KiB, most a few hundred bytes)... */
#define FKI_LOG_QUEUE_MAX 65536u
/* ...and the bytes they hold. */
#define FKI_LOG_QUEUE_BYTES_MAX (256u * 1024u * 1024u)

/* The add answer buffer: the largest tlog-proof and the encoder's NUL. */
#define FKI_LOG_ANSWER_CAP (FK_TLOG_PROOF_MAX_SIZE + 1u)

/* Encode an add answer (a C2SP tlog-proof; extra may be NULL) into out, which
 * holds FKI_LOG_ANSWER_CAP bytes.  *len excludes the NUL. */
fk_err fki_log_answer_encode(char *out, const uint8_t *extra, size_t extra_len, uint64_t index,
                             const uint8_t (*proof)[FK_TLOG_HASH_LEN], size_t nproof,
                             const char *cp, size_t cp_len, size_t *len);

/* Several front ends on one PostgreSQL database (docs/log.md 7.9). */
/* A front end without the sequencer lease tries to take it this often: with
 * the database's detection of a dead session, the bound on the pause after
 * the sequencing front end dies. */
#define FKI_LOG_LEASE_POLL_MS 200
/* Adds queued in the database per transaction (one COPY). */
#define FKI_LOG_SHIP_MAX 4096u
/* An add queued in the database and not in a committed batch after this
 * long gets a 503 (the database is down): retrying is safe, a duplicate
 * gets its first index. */
#define FKI_LOG_SHARED_WAIT_MS 15000
/* /healthz with a shared database: 503 when this front end's last read of
 * the tree failed or is older than this (docs/log.md 7.9). */
#define FKI_LOG_HEALTH_DB_MS 5000
/* On stop, queued adds get this long to be committed and answered. */
#define FKI_LOG_SHARED_STOP_MS 5000

struct fki_logd_config {
    const char *dir;        /* state directory: log.db, index.db, checkpoint, tile/ */
    /* A PostgreSQL connection string (libpq): the shared backend instead of
     * dir; key is then required.  Never printed (it may hold a password). */
    const char *db;
    /* The signing key file; NULL = DIR.key beside DIR.  It must lie outside
     * DIR, which may be published as static files. */
    const char *key;
    const char *listen;     /* "127.0.0.1:PORT" */
    const char *origin;     /* checkpoint origin and key name for a new log; NULL = default */
    unsigned batch_ms;      /* 0 = default */
    unsigned batch_max;     /* 0 = default */
    /* Witnesses asked to cosign each new checkpoint (src/witness/witness.h):
     * "VKEY=URL" strings; none costs nothing per batch. */
    const char *const *witnesses;
    size_t nwitnesses;
    /* A quiet log asks its witnesses to cosign its current checkpoint again
     * after this many seconds without a batch, so its newest cosignatures
     * stay fresh for auditors' --max-age; 0 = FKI_LOG_COSIGN_REFRESH_S. */
    unsigned cosign_refresh_s;
    /* Which entries POST /add takes (admit.h). */
    struct fki_log_admit_config admit;
};

/* The log's verifier key line as /vkey serves it: a key name of at most
 * FK_NOTE_NAME_MAX (255) bytes, '+', 8 hex digits, '+', 44 base64 characters,
 * and the newline. */
#define FKI_LOG_VKEY_MAX 320

/* Default re-cosigning interval of a quiet log: an hour, well inside the
 * audit's default --max-age of a day (docs/protocol.md section 7), and one
 * witness request an hour costs nothing. */
#define FKI_LOG_COSIGN_REFRESH_S 3600
/* Largest --cosign-refresh: a week. */
#define FKI_LOG_COSIGN_REFRESH_MAX_S (7 * 86400)

typedef struct fki_logd fki_logd;

/* The default key file of a log directory: DIR.key, DIR without trailing
 * slashes.  0, or -1 when it does not fit cap. */
int fki_logd_default_key(char *out, size_t cap, const char *dir);

/* Open (creating on first start) the log in cfg->dir, take its lock, recover
 * to the last durable tree, start the sequencer and the HTTP server.  On
 * failure *why (may be NULL) gets a static one-line reason and remedy.  vkey (capacity
 * FK_NOTE_KEY_TEXT_MAX + 1) receives the log's verifier key. */
fk_err fki_logd_start(fki_logd **out, const struct fki_logd_config *cfg, char *vkey, size_t cap,
                      const char **why);
uint16_t fki_logd_port(const fki_logd *d);
/* Replace what POST /add takes (SIGHUP): the new admission is built first
 * and swapped in whole, so a failure (FK_ERR_LIMIT: out of range) leaves the
 * old one in force; adds in flight finish under the old one.  The
 * requesters' rate buckets start afresh. */
fk_err fki_logd_set_admit(fki_logd *d, const struct fki_log_admit_config *cfg);
/* Stop: refuse new adds, finish the pending batch, stop serving, free. */
void fki_logd_stop(fki_logd *d);

/* ---- client ------------------------------------------------------------- */

/* A log as a client sees it: base URL (no trailing slash), its key, and a
 * keep-alive HTTP connection.  One per thread. */
struct fki_log_client {
    char url[512];
    fk_note_verifier key;
    struct fki_net_client *http;
};

fk_err fki_log_client_init(struct fki_log_client *c, const char *url, const char *vkey);
void fki_log_client_close(struct fki_log_client *c);
/* Fetch and verify the current checkpoint.  note_out (may be NULL, capacity
 * FKI_LOG_MAX_CHECKPOINT + 1) gets the signed note text, NUL-terminated. */
fk_err fki_log_client_checkpoint(struct fki_log_client *c, fk_checkpoint *cp, char *note_out);
/* Verify that tree `old` is a prefix of tree `cur` (consistency proof from
 * tiles).  old->size == 0 always passes; FK_ERR_PROOF on a fork or rollback. */
fk_err fki_log_client_consistent(struct fki_log_client *c, const fk_checkpoint *old,
                                 const fk_checkpoint *cur);
/* Fetch entry `index` from its bundle (malloc'd into *entry) and prove its
 * inclusion in cur from tiles. */
fk_err fki_log_client_entry(struct fki_log_client *c, const fk_checkpoint *cur, uint64_t index,
                            uint8_t **entry, size_t *len);
/* Find the first index of an entry in cur by scanning the bundles
 * (FK_ERR_NOT_FOUND if absent), then prove its inclusion. */
fk_err fki_log_client_find(struct fki_log_client *c, const fk_checkpoint *cur,
                           const uint8_t *entry, size_t len, uint64_t *index);
/* Called for each entry, in index order; a non-zero return stops the scan
 * and is returned. */
typedef fk_err (*fki_log_entry_fn)(void *ctx, uint64_t index, const uint8_t *entry, size_t len);
/* Read entries [start, cur->size) from the entry bundles of cur and pass
 * each to fn.  A partial bundle the log has deleted is read from the full
 * one.  FK_ERR_PROOF for a malformed bundle (fewer entries than the tree
 * puts in it, or trailing bytes), FK_ERR_NOT_FOUND for a missing one,
 * FK_ERR_NET otherwise.  Proves nothing: check the leaves against cur's root
 * (fki_log_client_follow does). */
fk_err fki_log_client_entries(struct fki_log_client *c, const fk_checkpoint *cur, uint64_t start,
                              fki_log_entry_fn fn, void *ctx);
/* Follow the whole log from scratch: fetch every bundle and every hash tile
 * of cur, check each level-0 tile against the bundle's leaf hashes and each
 * higher tile against the tiles below, and recompute the root.  Partial
 * tiles and bundles the log has deleted are read from the full ones. */
fk_err fki_log_client_follow(struct fki_log_client *c, const fk_checkpoint *cur);

#endif
