/*
 * store.h - an escrow agent's own state in SQLite (docs/protocol.md 6):
 * the audit table of every request it answered, queued or refused, and the
 * newest log checkpoint it has seen.  WAL with synchronous=FULL: a row is on
 * disk before the agent answers.
 */
#ifndef FK_AGENT_STORE_H
#define FK_AGENT_STORE_H

#include <stdint.h>

#include <fairkey.h>

typedef struct agent_store agent_store;

enum agent_status {
    AGENT_PENDING = 0,   /* --manual: waiting for 'fairkey agent approve' or deny */
    AGENT_APPROVED = 1,  /* approved; answered on the requester's next try */
    AGENT_ANSWERED = 2,  /* the agent released its partial decryption */
    AGENT_DENIED = 3,    /* 'fairkey agent deny': never answered */
};

/* The longest --reason 'agent deny' keeps: it goes back to the requester
 * in the agent's JSON refusal (one reply buffer of 1 KiB). */
#define AGENT_DENIAL_MAX 256

/* Open DIR/agent.db; with create, make DIR and the database if missing
 * ('agent serve'), else refuse a DIR without one ('agent pending', 'approve',
 * 'deny').  Prints its own error. */
agent_store *agent_store_open(const char *dir, int create);
void agent_store_close(agent_store *s);

/* Look up a request by entry hash: FK_OK with *status, *id and (when denial
 * is not NULL) the denial reason, or FK_ERR_NOT_FOUND. */
fk_err agent_store_get(agent_store *s, const uint8_t entry_hash[32], int *status, int64_t *id,
                       char *denial, size_t denial_cap);
/* Record a request with a status (insert, or update the existing row's
 * status; answers counted).  Durable when it returns FK_OK. */
fk_err agent_store_put(agent_store *s, const uint8_t entry_hash[32], uint64_t log_index,
                       const fk_request *r, const char *note, int status, int64_t *id);
/* Record a refusal (kind: "split-view", "not-logged", ...). */
fk_err agent_store_refusal(agent_store *s, const char *kind, const char *detail);
/* The newest checkpoint seen: FK_ERR_NOT_FOUND when none yet.  The note
 * (malloc'd, may be NULL) is the signed checkpoint. */
fk_err agent_store_checkpoint(agent_store *s, uint64_t *size, uint8_t root[32]);
fk_err agent_store_set_checkpoint(agent_store *s, uint64_t size, const uint8_t root[32],
                                  const char *note, size_t note_len);
/* 'fairkey agent pending', 'approve' and 'deny'.  A row: warrant is the
 * hex SHA-256 of the warrant document, denial NULL unless denied. */
typedef void (*agent_store_row_fn)(void *ctx, int64_t id, int status, int64_t log_index,
                                   const char *requester, const char *reason, const char *time,
                                   const char *target, const char *warrant, const char *denial);
fk_err agent_store_list(agent_store *s, int only_pending, agent_store_row_fn fn, void *ctx);
/* Approve a pending request; FK_ERR_NOT_FOUND if there is none with that id. */
fk_err agent_store_approve(agent_store *s, int64_t id);
/* Deny a pending or approved request (not one already answered): it is
 * never answered; reason goes back to the requester.  FK_ERR_NOT_FOUND if
 * there is no such request. */
fk_err agent_store_deny(agent_store *s, int64_t id, const char *reason);

/* What a database holds, as 'agent backup' and 'agent restore' report it. */
struct agent_store_stats {
    int64_t requests, answered, denied, refusals;
    int64_t checkpoint_size; /* -1: no checkpoint yet */
};
/* 'fairkey agent backup': one consistent copy of DIR/agent.db in out, by
 * SQLite's online backup (a running agent keeps serving), a single file in
 * rollback-journal mode, mode 0600, never replacing a file (written beside
 * out, then linked to its name).  0, or -1 after cli_err with nothing left. */
int agent_store_backup(const char *dir, const char *out, struct agent_store_stats *st);
/* 'fairkey agent restore': file (a backup) checked and copied into
 * DIR/agent.db in WAL mode, 0600, only where DIR has no agent.db, -wal or
 * -shm; the caller holds DIR's lock.  0, or -1 after cli_err. */
int agent_store_restore(const char *file, const char *dir, struct agent_store_stats *st);

#endif
