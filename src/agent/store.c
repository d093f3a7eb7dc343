/*
 * The agent's SQLite audit store (see store.h).
 *
 * Group commit: every write (an answer, a queued request, a refusal, the
 * newest checkpoint) joins a queue; one writing thread at a time takes the
 * whole queue, runs it in one transaction and commits it (one WAL append and
 * one fsync with synchronous=FULL), and only then tells each waiting thread
 * that its row is durable.  Concurrent answers thus share an fsync instead of
 * paying one each, and no answer leaves before its row is on disk.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "prog/authlog.h"
#include "prog/prog.h"
#include "store.h"

enum { ST_GET, ST_PUT, ST_REFUSAL, ST_CP_GET, ST_CP_SET, ST_LIST, ST_APPROVE, ST_DENY, ST_N };

static const char *const SQL[ST_N] = {
    [ST_GET] = "SELECT id, status, denial FROM requests WHERE entry_hash = ?",
    [ST_PUT] =
        ("INSERT INTO requests (entry_hash, log_index, requester, requester_key, authority,"
        " target, warrant, reason, time, note, status, received_at, decided_at, answered_at,"
        " answers) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"
        " CASE WHEN ?11 > 0 THEN ?12 END, CASE WHEN ?11 = 2 THEN ?12 END, ?11 = 2)"
        " ON CONFLICT(entry_hash) DO UPDATE SET status = MAX(status, ?11),"
        " decided_at = COALESCE(decided_at, CASE WHEN ?11 > 0 THEN ?12 END),"
        " answered_at = CASE WHEN ?11 = 2 THEN ?12 ELSE answered_at END,"
        " answers = answers + (?11 = 2) WHERE status <> 3 RETURNING id"),
    [ST_REFUSAL] = "INSERT INTO refusals (at, kind, detail) VALUES (?, ?, ?)",
    [ST_CP_GET] = "SELECT size, root FROM checkpoint WHERE one = 1",
    [ST_CP_SET] = ("INSERT INTO checkpoint (one, size, root, note, at) VALUES (1,?,?,?,?)"
                  " ON CONFLICT(one) DO UPDATE SET size = excluded.size,"
                  " root = excluded.root, note = excluded.note, at = excluded.at"
                  " WHERE excluded.size > checkpoint.size"),
    [ST_LIST] = ("SELECT id, status, log_index, requester, reason, time, target, warrant,"
                " denial FROM requests WHERE ?1 = 0 OR status = 0 ORDER BY id"),
    [ST_APPROVE] = "UPDATE requests SET status = 1, decided_at = ? WHERE id = ? AND status = 0",
    /* Pending or approved but not yet answered: an answer sent cannot be
     * taken back. */
    [ST_DENY] = ("UPDATE requests SET status = 3, decided_at = ?1, denial = ?3"
                " WHERE id = ?2 AND status IN (0, 1)"),
};

/* One queued write.  Lives on its caller's stack until done is set. */
struct op {
    int kind; /* ST_PUT, ST_REFUSAL, ST_CP_SET */
    /* ST_PUT */
    char hex[65], rk[48], tg[48], war[65], tm[FK_REQUEST_TIME_STR_LEN + 1];
    uint64_t index;
    const fk_request *r;
    const char *note;
    int status;
    /* ST_REFUSAL */
    const char *refusal_kind, *detail;
    /* ST_CP_SET */
    uint64_t size;
    const uint8_t *root;
    size_t note_len;
    /* results */
    int64_t id;
    fk_err err;
    int done;
    struct op *next;
};

struct agent_store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_N];
    pthread_mutex_t db_mu; /* the connection and its statements: one thread at a time */
    pthread_mutex_t q_mu;  /* the write queue */
    pthread_cond_t q_cv;   /* a batch was committed */
    struct op *head, **tail;
    int writing;           /* a thread is committing a batch */
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
    " answers INTEGER NOT NULL DEFAULT 0,"
    " denial TEXT);"                      /* 'agent deny --reason' */
    "CREATE TABLE IF NOT EXISTS refusals ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"
    " kind TEXT NOT NULL, detail TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS checkpoint ("
    " one INTEGER PRIMARY KEY CHECK (one = 1),"
    " size INTEGER NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL, at INTEGER NOT NULL);";

agent_store *agent_store_open(const char *dir, int create)
{
    char path[4096];
    if (create && mkdir(dir, 0700) && errno != EEXIST) {
        cli_err("cannot create state folder %s: %s; pass a writable --state", dir,
                strerror(errno));
        return NULL;
    }
    if ((size_t)snprintf(path, sizeof path, "%s/agent.db", dir) >= sizeof path) {
        cli_err("state folder name too long; pass a shorter --state");
        return NULL;
    }
    struct stat st;
    if (!create && stat(path, &st)) {
        /* A mistyped --state must not become a fresh, empty database that
         * shows no pending request. */
        cli_err("%s holds no agent database (%s: %s); pass the --state folder of 'fairkey "
                "agent serve'", dir, path, strerror(errno));
        return NULL;
    }
    agent_store *s = calloc(1, sizeof *s);
    if (!s) {
        cli_err("out of memory");
        return NULL;
    }
    char *msg = NULL;
    int ok = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                                               (create ? SQLITE_OPEN_CREATE : 0),
                             NULL) == SQLITE_OK &&
             sqlite3_busy_timeout(s->db, 5000) == SQLITE_OK &&
             sqlite3_exec(s->db, SCHEMA, NULL, NULL, &msg) == SQLITE_OK;
    if (ok) {
        /* A database from before 'agent deny' lacks the column; adding it
         * again fails harmlessly ("duplicate column"). */
        sqlite3_exec(s->db, "ALTER TABLE requests ADD COLUMN denial TEXT", NULL, NULL, NULL);
    }
    for (int i = 0; ok && i < ST_N; i++)
        ok = sqlite3_prepare_v3(s->db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) ==
             SQLITE_OK;
    if (!ok) {
        cli_err("cannot open the agent database %s (%s); check the --state folder", path,
                msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        for (int i = 0; i < ST_N; i++)
            sqlite3_finalize(s->st[i]);
        sqlite3_close(s->db);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->db_mu, NULL);
    pthread_mutex_init(&s->q_mu, NULL);
    pthread_cond_init(&s->q_cv, NULL);
    s->tail = &s->head;
    return s;
}

void agent_store_close(agent_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < ST_N; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->db_mu);
    pthread_mutex_destroy(&s->q_mu);
    pthread_cond_destroy(&s->q_cv);
    free(s);
}

/* The statement, ready to bind, under db_mu. */
static sqlite3_stmt *stmt(agent_store *s, int which)
{
    sqlite3_stmt *st = s->st[which];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Run one queued write inside the open transaction (db_mu held). */
static fk_err run_op(agent_store *s, struct op *o)
{
    int64_t now = (int64_t)time(NULL);
    sqlite3_stmt *st = stmt(s, o->kind);
    fk_err err = FK_ERR_STORAGE;
    switch (o->kind) {
    case ST_PUT:
        sqlite3_bind_text(st, 1, o->hex, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)o->index);
        sqlite3_bind_text(st, 3, o->r->requester, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, o->rk, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, o->r->authority, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, o->tg, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, o->war, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, o->r->reason, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, o->tm, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, o->note, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 11, o->status);
        sqlite3_bind_int64(st, 12, now);
        if (sqlite3_step(st) == SQLITE_ROW) {
            o->id = sqlite3_column_int64(st, 0);
            /* RETURNING: the row is written once the statement runs out. */
            if (sqlite3_step(st) == SQLITE_DONE)
                err = FK_OK;
        }
        break;
    case ST_REFUSAL:
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_text(st, 2, o->refusal_kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, o->detail, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE)
            err = FK_OK;
        break;
    case ST_CP_SET:
        sqlite3_bind_int64(st, 1, (sqlite3_int64)o->size);
        sqlite3_bind_blob(st, 2, o->root, 32, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, o->note, (int)o->note_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now);
        if (sqlite3_step(st) == SQLITE_DONE)
            err = FK_OK;
        break;
    default:
        abort();
    }
    sqlite3_reset(st);
    return err;
}

static int exec(agent_store *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

/* Write a batch: one transaction and one commit for all of it.  If the
 * batch fails, each write is retried in a transaction of its own, so one bad
 * write does not fail the others. */
static void write_batch(agent_store *s, struct op *batch)
{
    pthread_mutex_lock(&s->db_mu);
    int ok = exec(s, "BEGIN IMMEDIATE");
    for (struct op *o = batch; ok && o; o = o->next)
        ok = run_op(s, o) == FK_OK;
    if (ok)
        ok = exec(s, "COMMIT");
    if (ok) {
        for (struct op *o = batch; o; o = o->next)
            o->err = FK_OK;
    } else {
        if (!sqlite3_get_autocommit(s->db))
            exec(s, "ROLLBACK");
        for (struct op *o = batch; o; o = o->next) {
            o->err = FK_ERR_STORAGE;
            if (!exec(s, "BEGIN IMMEDIATE"))
                continue;
            if (run_op(s, o) == FK_OK && exec(s, "COMMIT"))
                o->err = FK_OK;
            else if (!sqlite3_get_autocommit(s->db))
                exec(s, "ROLLBACK");
        }
    }
    pthread_mutex_unlock(&s->db_mu);
}

/* Queue o and return once it is committed (durable) or has failed. */
static fk_err submit(agent_store *s, struct op *o)
{
    o->done = 0;
    o->next = NULL;
    o->err = FK_ERR_STORAGE;
    pthread_mutex_lock(&s->q_mu);
    *s->tail = o;
    s->tail = &o->next;
    while (!o->done) {
        if (s->writing) {
            pthread_cond_wait(&s->q_cv, &s->q_mu);
            continue;
        }
        /* Lead: take everything queued so far (o included) and commit it. */
        struct op *batch = s->head;
        s->head = NULL;
        s->tail = &s->head;
        s->writing = 1;
        pthread_mutex_unlock(&s->q_mu);
        write_batch(s, batch);
        pthread_mutex_lock(&s->q_mu);
        for (struct op *b = batch, *n; b; b = n) {
            n = b->next; /* b may go away once done is seen */
            b->done = 1;
        }
        s->writing = 0;
        pthread_cond_broadcast(&s->q_cv);
    }
    pthread_mutex_unlock(&s->q_mu);
    return o->err;
}

/* Step a statement that reads at most one row: FK_OK on a row (its columns
 * are readable until the reset), FK_ERR_NOT_FOUND on none. */
static fk_err one_row(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    return rc == SQLITE_ROW ? FK_OK : rc == SQLITE_DONE ? FK_ERR_NOT_FOUND : FK_ERR_STORAGE;
}

fk_err agent_store_get(agent_store *s, const uint8_t entry_hash[32], int *status, int64_t *id,
                       char *denial, size_t denial_cap)
{
    char hex[65];
    fk_err err;
    fk_hex_encode(hex, entry_hash, 32);
    pthread_mutex_lock(&s->db_mu);
    sqlite3_stmt *st = stmt(s, ST_GET);
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    if (!(err = one_row(st))) {
        *id = sqlite3_column_int64(st, 0);
        *status = sqlite3_column_int(st, 1);
        if (denial && denial_cap) {
            const char *d = (const char *)sqlite3_column_text(st, 2);
            snprintf(denial, denial_cap, "%s", d ? d : "");
        }
    }
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->db_mu);
    return err;
}

fk_err agent_store_put(agent_store *s, const uint8_t entry_hash[32], uint64_t log_index,
                       const fk_request *r, const char *note, int status, int64_t *id)
{
    struct op o;
    memset(&o, 0, sizeof o);
    o.kind = ST_PUT;
    fk_hex_encode(o.hex, entry_hash, 32);
    fk_b64_encode(o.rk, r->requester_key, 32);
    fk_b64_encode(o.tg, r->target, 32);
    fk_hex_encode(o.war, r->warrant, 32);
    if (fk_request_time_format(o.tm, r->time))
        return FK_ERR_INVALID;
    o.index = log_index;
    o.r = r;
    o.note = note;
    o.status = status;
    fk_err err = submit(s, &o);
    if (!err && id)
        *id = o.id;
    return err;
}

fk_err agent_store_refusal(agent_store *s, const char *kind, const char *detail)
{
    struct op o;
    memset(&o, 0, sizeof o);
    o.kind = ST_REFUSAL;
    o.refusal_kind = kind;
    o.detail = detail;
    return submit(s, &o);
}

fk_err agent_store_checkpoint(agent_store *s, uint64_t *size, uint8_t root[32])
{
    fk_err err;
    pthread_mutex_lock(&s->db_mu);
    sqlite3_stmt *st = stmt(s, ST_CP_GET);
    if (!(err = one_row(st)) && sqlite3_column_bytes(st, 1) != 32)
        err = FK_ERR_STORAGE;
    if (!err) {
        *size = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(root, sqlite3_column_blob(st, 1), 32);
    }
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->db_mu);
    return err;
}

fk_err agent_store_set_checkpoint(agent_store *s, uint64_t size, const uint8_t root[32],
                                  const char *note, size_t note_len)
{
    struct op o;
    memset(&o, 0, sizeof o);
    o.kind = ST_CP_SET;
    o.size = size;
    o.root = root;
    o.note = note;
    o.note_len = note_len;
    return submit(s, &o);
}

fk_err agent_store_list(agent_store *s, int only_pending, agent_store_row_fn fn, void *ctx)
{
    fk_err err = FK_ERR_STORAGE;
    int rc;
    pthread_mutex_lock(&s->db_mu);
    sqlite3_stmt *st = stmt(s, ST_LIST);
    sqlite3_bind_int(st, 1, only_pending);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1),
           sqlite3_column_int64(st, 2), (const char *)sqlite3_column_text(st, 3),
           (const char *)sqlite3_column_text(st, 4), (const char *)sqlite3_column_text(st, 5),
           (const char *)sqlite3_column_text(st, 6), (const char *)sqlite3_column_text(st, 7),
           (const char *)sqlite3_column_text(st, 8));
    if (rc == SQLITE_DONE)
        err = FK_OK;
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->db_mu);
    return err;
}

fk_err agent_store_approve(agent_store *s, int64_t id)
{
    fk_err err = FK_ERR_STORAGE;
    pthread_mutex_lock(&s->db_mu);
    sqlite3_stmt *st = stmt(s, ST_APPROVE);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
    sqlite3_bind_int64(st, 2, id);
    if (sqlite3_step(st) == SQLITE_DONE)
        err = sqlite3_changes(s->db) == 1 ? FK_OK : FK_ERR_NOT_FOUND;
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->db_mu);
    return err;
}

fk_err agent_store_deny(agent_store *s, int64_t id, const char *reason)
{
    fk_err err = FK_ERR_STORAGE;
    pthread_mutex_lock(&s->db_mu);
    sqlite3_stmt *st = stmt(s, ST_DENY);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
    sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_DONE)
        err = sqlite3_changes(s->db) == 1 ? FK_OK : FK_ERR_NOT_FOUND;
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->db_mu);
    return err;
}

/* ---- backup and restore: SQLite's online backup, never a file copy ------------- */

/* Copy every page of src into dst (SQLite's online backup API): a reader of
 * src in WAL mode, so a running agent keeps answering and committing while
 * it runs; its result is one consistent snapshot of src. */
static int copy_db(sqlite3 *dst, sqlite3 *src)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b)
        return 0;
    int rc, tries = 0;
    /* BUSY or LOCKED: a writer holds a lock for a moment (a checkpoint of
     * the WAL); try again, for up to 10 s. */
    while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        if (++tries > 200)
            break;
        sqlite3_sleep(50);
    }
    return sqlite3_backup_finish(b) == SQLITE_OK && rc == SQLITE_DONE;
}

/* Nonzero if db is a whole agent database: its pages check out and it has
 * the agent's tables.  Fills *st. */
static int check_db(sqlite3 *db, struct agent_store_stats *st)
{
    sqlite3_stmt *q = NULL;
    int ok = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &q, NULL) == SQLITE_OK &&
             sqlite3_step(q) == SQLITE_ROW &&
             !strcmp((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    q = NULL;
    memset(st, 0, sizeof *st);
    ok = ok &&
         sqlite3_prepare_v2(db,
                            "SELECT (SELECT count(*) FROM requests),"
                            " (SELECT count(*) FROM requests WHERE status = 2),"
                            " (SELECT count(*) FROM requests WHERE status = 3),"
                            " (SELECT COALESCE(MAX(size), -1) FROM checkpoint),"
                            " (SELECT count(*) FROM refusals)",
                            -1, &q, NULL) == SQLITE_OK &&
         sqlite3_step(q) == SQLITE_ROW;
    if (ok) {
        st->requests = sqlite3_column_int64(q, 0);
        st->answered = sqlite3_column_int64(q, 1);
        st->denied = sqlite3_column_int64(q, 2);
        st->checkpoint_size = sqlite3_column_int64(q, 3);
        st->refusals = sqlite3_column_int64(q, 4);
    }
    sqlite3_finalize(q);
    return ok;
}

/* A new file for a database beside final (its folder), 0600 and O_EXCL
 * (mkstemp); its path in tmp.  -1 after cli_err. */
static int tmp_beside(const char *final, char *tmp, size_t cap)
{
    const char *slash = strrchr(final, '/');
    int dl = slash ? (int)(slash - final + 1) : 0;
    if ((size_t)snprintf(tmp, cap, "%.*s.%s.XXXXXX", dl, final, slash ? slash + 1 : final) >=
        cap) {
        cli_err("%s: name too long; pick a shorter one", final);
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        cli_err("cannot create a file beside %s: %s; check that its folder exists and is "
                "writable", final, strerror(errno));
        return -1;
    }
    return fd;
}

/* Make tmp durable and give it the name final without ever replacing a
 * file there (link, not rename: O_EXCL's promise); tmp goes either way.
 * 0, or -1 after cli_err. */
static int publish(const char *tmp, const char *final)
{
    int fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int ok = fd >= 0 && !fsync(fd);
    if (fd >= 0)
        close(fd);
    if (!ok) {
        cli_err("cannot write %s: %s; check the disk", final, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (link(tmp, final)) {
        int e = errno;
        unlink(tmp);
        cli_err(e == EEXIST ? "%s already exists; pick a new name (nothing is replaced)"
                            : "cannot create %s: %s; check its folder", final, strerror(e));
        return -1;
    }
    unlink(tmp);
    /* The new name durable too: its folder's entry. */
    char dir[4096];
    const char *slash = strrchr(final, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == final)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - final), final);
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(fd);
        close(fd);
    }
    return 0;
}

static sqlite3 *open_path(const char *path, int flags)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(db, 5000) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

int agent_store_backup(const char *dir, const char *out, struct agent_store_stats *st)
{
    char path[4096], tmp[4096];
    struct stat sb;
    if ((size_t)snprintf(path, sizeof path, "%s/agent.db", dir) >= sizeof path) {
        cli_err("state folder name too long; pass a shorter --state");
        return -1;
    }
    if (stat(path, &sb)) {
        cli_err("%s holds no agent database (%s: %s); pass the --state folder of 'fairkey "
                "agent serve'", dir, path, strerror(errno));
        return -1;
    }
    if (!lstat(out, &sb) || errno != ENOENT) {
        cli_err("%s already exists; pick a new name (nothing is replaced)", out);
        return -1;
    }
    sqlite3 *src = open_path(path, SQLITE_OPEN_READWRITE);
    if (!src) {
        cli_err("cannot open the agent database %s; check the --state folder", path);
        return -1;
    }
    int fd = tmp_beside(out, tmp, sizeof tmp);
    if (fd < 0) {
        sqlite3_close(src);
        return -1;
    }
    close(fd);
    sqlite3 *dst = open_path(tmp, SQLITE_OPEN_READWRITE);
    /* The copy is one file: no WAL beside it to lose on the way to tape. */
    int ok = dst && copy_db(dst, src) &&
             sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) == SQLITE_OK &&
             check_db(dst, st);
    if (!ok)
        cli_err("cannot back up %s: %s; check the state folder and the disk", path,
                sqlite3_errmsg(dst ? dst : src));
    sqlite3_close(dst);
    sqlite3_close(src);
    if (!ok) {
        unlink(tmp);
        return -1;
    }
    return publish(tmp, out);
}

int agent_store_restore(const char *file, const char *dir, struct agent_store_stats *st)
{
    char tmp[4096], path[sizeof tmp + 8]; /* room for tmp's "-wal" */
    static const char *const parts[] = {"agent.db", "agent.db-wal", "agent.db-shm"};
    struct stat sb;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, parts[i]) >= sizeof path) {
            cli_err("state folder name too long; pass a shorter --state");
            return -1;
        }
        /* A WAL left from another database would be replayed into the
         * restored one. */
        if (!lstat(path, &sb) || errno != ENOENT) {
            cli_err("%s already exists; restore only into a state folder without agent.db, "
                    "agent.db-wal and agent.db-shm (move them aside first)", path);
            return -1;
        }
    }
    snprintf(path, sizeof path, "%s/agent.db", dir);
    if (stat(file, &sb)) {
        cli_err("%s: %s; give a file that 'fairkey agent backup' wrote", file, strerror(errno));
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        cli_err("%s is not a regular file; give a file that 'fairkey agent backup' wrote", file);
        return -1;
    }
    sqlite3 *src = open_path(file, SQLITE_OPEN_READONLY);
    if (!src || !check_db(src, st)) {
        cli_err("%s is not an agent database backup (%s); give a file that 'fairkey agent "
                "backup' wrote", file, src ? sqlite3_errmsg(src) : "cannot open it");
        sqlite3_close(src);
        return -1;
    }
    int fd = tmp_beside(path, tmp, sizeof tmp);
    if (fd < 0) {
        sqlite3_close(src);
        return -1;
    }
    close(fd);
    sqlite3 *dst = open_path(tmp, SQLITE_OPEN_READWRITE);
    struct agent_store_stats check;
    int ok = dst && copy_db(dst, src) &&
             sqlite3_exec(dst, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) == SQLITE_OK &&
             check_db(dst, &check);
    if (!ok)
        cli_err("cannot restore %s into %s: %s; check the state folder and the disk", file,
                path, sqlite3_errmsg(dst ? dst : src));
    /* Closing the last connection folds the WAL back and removes it, so
     * nothing but the one file is renamed. */
    sqlite3_close(dst);
    sqlite3_close(src);
    snprintf(path, sizeof path, "%s-shm", tmp);
    unlink(path); /* an index of the WAL, rebuilt on open; SQLite removes it too */
    if (ok) {
        snprintf(path, sizeof path, "%s-wal", tmp);
        ok = lstat(path, &sb) && errno == ENOENT;
        if (!ok)
            cli_err("cannot restore into %s: SQLite left %s behind; check the disk", dir, path);
    }
    if (!ok) {
        unlink(tmp);
        return -1;
    }
    snprintf(path, sizeof path, "%s/agent.db", dir);
    return publish(tmp, path);
}
