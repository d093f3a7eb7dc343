/* The agent's SQLite audit store (see store.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "cli/cli.h"
#include "store.h"

struct agent_store {
    sqlite3 *db;
    pthread_mutex_t mu; /* one connection, used by every server thread */
};

static const char SCHEMA[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS requests ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " entry_hash TEXT NOT NULL UNIQUE,"   /* hex leaf hash of the log entry */
    " log_index INTEGER NOT NULL,"
    " requester TEXT NOT NULL, requester_key TEXT NOT NULL,"
    " authority TEXT NOT NULL, target TEXT NOT NULL, warrant TEXT NOT NULL,"
    " reason TEXT NOT NULL, time TEXT NOT NULL,"
    " note TEXT NOT NULL,"                /* the signed request, verbatim */
    " status INTEGER NOT NULL,"          /* enum agent_status */
    " received_at INTEGER NOT NULL, decided_at INTEGER, answered_at INTEGER,"
    " answers INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS refusals ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"
    " kind TEXT NOT NULL, detail TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS checkpoint ("
    " one INTEGER PRIMARY KEY CHECK (one = 1),"
    " size INTEGER NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL, at INTEGER NOT NULL);";

agent_store *agent_store_open(const char *dir)
{
    char path[4096];
    if (mkdir(dir, 0700) && errno != EEXIST) {
        cli_err("cannot create state folder %s: %s", dir, strerror(errno));
        return NULL;
    }
    snprintf(path, sizeof path, "%s/agent.db", dir);
    agent_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    char *msg = NULL;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                          SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK ||
        sqlite3_exec(s->db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
        cli_err("cannot open the agent database %s: %s", path,
                msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        sqlite3_close(s->db);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

void agent_store_close(agent_store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

fk_err agent_store_get(agent_store *s, const uint8_t entry_hash[32], int *status, int64_t *id)
{
    char hex[65];
    sqlite3_stmt *st;
    fk_err err = FK_ERR_STORAGE;
    fk_hex_encode(hex, entry_hash, 32);
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db, "SELECT id, status FROM requests WHERE entry_hash = ?", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *id = sqlite3_column_int64(st, 0);
            *status = sqlite3_column_int(st, 1);
            err = FK_OK;
        } else if (rc == SQLITE_DONE) {
            err = FK_ERR_NOT_FOUND;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->mu);
    return err;
}

fk_err agent_store_put(agent_store *s, const uint8_t entry_hash[32], uint64_t log_index,
                       const fk_request *r, const char *note, int status, int64_t *id)
{
    char hex[65], rk[48], tg[48], war[65], tm[FK_REQUEST_TIME_STR_LEN + 1];
    sqlite3_stmt *st;
    fk_err err = FK_ERR_STORAGE;
    int64_t now = (int64_t)time(NULL);
    fk_hex_encode(hex, entry_hash, 32);
    fk_b64_encode(rk, r->requester_key, 32);
    fk_b64_encode(tg, r->target, 32);
    fk_hex_encode(war, r->warrant, 32);
    fk_request_time_format(tm, r->time);
    pthread_mutex_lock(&s->mu);
    static const char sql[] =
        "INSERT INTO requests (entry_hash, log_index, requester, requester_key, authority,"
        " target, warrant, reason, time, note, status, received_at, decided_at, answered_at,"
        " answers) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"
        " CASE WHEN ?11 > 0 THEN ?12 END, CASE WHEN ?11 = 2 THEN ?12 END, ?11 = 2)"
        " ON CONFLICT(entry_hash) DO UPDATE SET status = MAX(status, ?11),"
        " decided_at = COALESCE(decided_at, CASE WHEN ?11 > 0 THEN ?12 END),"
        " answered_at = CASE WHEN ?11 = 2 THEN ?12 ELSE answered_at END,"
        " answers = answers + (?11 = 2) RETURNING id";
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)log_index);
        sqlite3_bind_text(st, 3, r->requester, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, rk, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->authority, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, tg, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, war, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, r->reason, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, tm, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, note, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 11, status);
        sqlite3_bind_int64(st, 12, now);
        if (sqlite3_step(st) == SQLITE_ROW) {
            if (id)
                *id = sqlite3_column_int64(st, 0);
            err = FK_OK;
        }
        /* The statement commits (autocommit) when it is reset: only then is
         * the row durable, so finalize before reporting success. */
        if (sqlite3_finalize(st) != SQLITE_OK)
            err = FK_ERR_STORAGE;
    }
    pthread_mutex_unlock(&s->mu);
    return err;
}

fk_err agent_store_refusal(agent_store *s, const char *kind, const char *detail)
{
    sqlite3_stmt *st;
    fk_err err = FK_ERR_STORAGE;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db, "INSERT INTO refusals (at, kind, detail) VALUES (?, ?, ?)", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, detail, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE)
            err = FK_OK;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->mu);
    return err;
}

fk_err agent_store_checkpoint(agent_store *s, uint64_t *size, uint8_t root[32])
{
    sqlite3_stmt *st;
    fk_err err = FK_ERR_STORAGE;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db, "SELECT size, root FROM checkpoint WHERE one = 1", -1, &st,
                           NULL) == SQLITE_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == 32) {
            *size = (uint64_t)sqlite3_column_int64(st, 0);
            memcpy(root, sqlite3_column_blob(st, 1), 32);
            err = FK_OK;
        } else if (rc == SQLITE_DONE) {
            err = FK_ERR_NOT_FOUND;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->mu);
    return err;
}

fk_err agent_store_set_checkpoint(agent_store *s, uint64_t size, const uint8_t root[32],
                                  const char *note, size_t note_len)
{
    sqlite3_stmt *st;
    fk_err err = FK_ERR_STORAGE;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO checkpoint (one, size, root, note, at) VALUES (1,?,?,?,?)"
                           " ON CONFLICT(one) DO UPDATE SET size = excluded.size,"
                           " root = excluded.root, note = excluded.note, at = excluded.at"
                           " WHERE excluded.size > checkpoint.size",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
        sqlite3_bind_blob(st, 2, root, 32, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, note, (int)note_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
        if (sqlite3_step(st) == SQLITE_DONE)
            err = FK_OK;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->mu);
    return err;
}

fk_err agent_store_list(agent_store *s, int only_pending,
                        void (*fn)(void *ctx, int64_t id, int status, int64_t log_index,
                                   const char *requester, const char *reason, const char *time,
                                   const char *target),
                        void *ctx)
{
    sqlite3_stmt *st;
    fk_err err = FK_ERR_STORAGE;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, status, log_index, requester, reason, time, target"
                           " FROM requests WHERE ?1 = 0 OR status = 0 ORDER BY id",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int(st, 1, only_pending);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1),
               sqlite3_column_int64(st, 2), (const char *)sqlite3_column_text(st, 3),
               (const char *)sqlite3_column_text(st, 4), (const char *)sqlite3_column_text(st, 5),
               (const char *)sqlite3_column_text(st, 6));
        if (rc == SQLITE_DONE)
            err = FK_OK;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->mu);
    return err;
}

fk_err agent_store_approve(agent_store *s, int64_t id)
{
    sqlite3_stmt *st;
    fk_err err = FK_ERR_STORAGE;
    pthread_mutex_lock(&s->mu);
    if (sqlite3_prepare_v2(s->db,
                           "UPDATE requests SET status = 1, decided_at = ? WHERE id = ? AND status = 0",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
        sqlite3_bind_int64(st, 2, id);
        if (sqlite3_step(st) == SQLITE_DONE)
            err = sqlite3_changes(s->db) == 1 ? FK_OK : FK_ERR_NOT_FOUND;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&s->mu);
    return err;
}
