/*
 * The log's entry-hash index (src/log/entry_index.c) on its own: entries
 * added in chunks across several runs and looked up while the writer thread
 * works (memory, the run being written, index.db), close and reopen, hashes
 * that share their first 8 bytes (the table's probe path), an add out of
 * step, a damaged index.db, and reset.
 *
 * index.db is also read directly here (sqlite3, read-only) to see the
 * watermark move and the rows the writer committed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/sha.h>
#include <sqlite3.h>

#include "log/entry_index.h"

#define HL FKI_LOG_HASH_LEN
/* Bounded waits for the writer thread: a run of 65,536 rows is written in
 * well under a second; a loaded machine gets a generous margin. */
#define WAIT_MS 20000
/* Entries of case (a): three full runs and a partial one. */
/* The run size these tests open the index with (the daemon's default is
 * FKI_INDEX_RUN): small enough to cross several runs quickly. */
#define RUN 65536u
#define TOTAL_A (3 * (uint64_t)RUN + 17)

/* Leaf hash of entry i: SHA-256 of a domain tag and i; absent(i) is from
 * another domain, so it is never in the index. */
static void leaf(uint64_t i, uint8_t out[HL])
{
    uint8_t msg[9] = {'L'};
    for (int k = 0; k < 8; k++)
        msg[1 + k] = (uint8_t)(i >> (8 * k));
    SHA256(msg, sizeof msg, out);
}

static void absent(uint64_t i, uint8_t out[HL])
{
    uint8_t msg[9] = {'A'};
    for (int k = 0; k < 8; k++)
        msg[1 + k] = (uint8_t)(i >> (8 * k));
    SHA256(msg, sizeof msg, out);
}

static void make_dir(char *dir)
{
    assert_non_null(mkdtemp(dir));
}

static void remove_dir(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void db_path(const char *dir, const char *suffix, char *out, size_t cap)
{
    assert_true((size_t)snprintf(out, cap, "%s/index.db%s", dir, suffix) < cap);
}

/* Open DIR/index.db from outside the index (read-only unless rw). */
static sqlite3 *db_open(const char *dir, int rw)
{
    char p[512];
    sqlite3 *db = NULL;
    db_path(dir, "", p, sizeof p);
    int rc = sqlite3_open_v2(p, &db, rw ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, NULL);
    assert_int_equal(rc, SQLITE_OK);
    assert_int_equal(sqlite3_busy_timeout(db, 5000), SQLITE_OK);
    return db;
}

static int64_t db_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The watermark as index.db has it committed. */
static uint64_t watermark(const char *dir)
{
    sqlite3 *db = db_open(dir, 0);
    int64_t v = db_int(db, "SELECT indexed FROM meta WHERE id = 1");
    sqlite3_close(db);
    assert_true(v >= 0);
    return (uint64_t)v;
}

static void db_exec(const char *dir, const char *sql)
{
    sqlite3 *db = db_open(dir, 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* The idx row of a hash in index.db, or -1 when it has none. */
static int64_t db_idx(sqlite3 *db, const uint8_t h[HL])
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT idx FROM entries WHERE hash = ?", -1, &st,
                                        NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(st, 1, h, HL, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t v = -1;
    if (rc == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(st);
    return v;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait (bounded) until the committed watermark is at least min. */
static uint64_t wait_watermark(const char *dir, uint64_t min)
{
    uint64_t w = 0;
    for (int t = 0; t < WAIT_MS / 10; t++) {
        w = watermark(dir);
        if (w >= min)
            return w;
        sleep_ms(10);
    }
    fail_msg("the watermark stayed at %llu, below %llu", (unsigned long long)w,
             (unsigned long long)min);
    return w;
}

/* index.db's WAL is emptied after each run is written (a lookup holds a
 * read snapshot only while it runs): it gets below max within WAIT_MS. */
static void wait_wal_below(const char *dir, long max)
{
    char p[1100];
    snprintf(p, sizeof p, "%s/index.db-wal", dir);
    struct stat sb;
    for (int t = 0; t < WAIT_MS / 10; t++) {
        if (stat(p, &sb) || sb.st_size < max)
            return;
        sleep_ms(10);
    }
    fail_msg("index.db-wal stays at %lld bytes", (long long)sb.st_size);
}

static void expect_at(fki_entry_index *x, const uint8_t (*h)[HL], uint64_t i)
{
    uint64_t got = UINT64_MAX;
    fk_err e = fki_entry_index_lookup(x, h[i], &got);
    if (e != FK_OK || got != i)
        fail_msg("entry %llu: lookup gave error %d, index %llu", (unsigned long long)i, (int)e,
                 (unsigned long long)got);
}

static void expect_none(fki_entry_index *x, const uint8_t h[HL])
{
    uint64_t got = 12345;
    assert_int_equal(fki_entry_index_lookup(x, h, &got), FK_ERR_NOT_FOUND);
    assert_int_equal(got, 12345);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(uint64_t below)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state % below;
}

/* Entries [0, end) are in: look up a sample, and what is not in. */
static void check_sample(fki_entry_index *x, const uint8_t (*h)[HL], uint64_t end,
                         uint64_t chunk_first)
{
    expect_at(x, h, 0);
    expect_at(x, h, end - 1);
    expect_at(x, h, chunk_first);
    if (end >= 2)
        expect_at(x, h, end - 2);
    /* Both sides of every run boundary reached so far. */
    for (uint64_t k = 1; k * RUN <= end; k++) {
        expect_at(x, h, k * RUN - 1);
        if (k * RUN < end)
            expect_at(x, h, k * RUN);
    }
    /* Random ones, and one in every run. */
    for (int k = 0; k < 64; k++)
        expect_at(x, h, rnd(end));
    for (uint64_t r = 0; r * RUN < end; r++) {
        uint64_t span = end - r * RUN;
        if (span > RUN)
            span = RUN;
        expect_at(x, h, r * RUN + rnd(span));
    }
    /* The next entry is not in yet; nor is a hash never added. */
    if (end < TOTAL_A)
        expect_none(x, h[end]);
    uint8_t a[HL];
    absent(end, a);
    expect_none(x, a);
}

/* (a) and (b): chunks of varied sizes across three runs and a part, looked
 * up while the writer works; then close and reopen. */
static void test_chunks_and_reopen(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk_entryidx.XXXXXX";
    make_dir(dir);
    uint8_t(*h)[HL] = malloc(TOTAL_A * HL);
    assert_non_null(h);
    for (uint64_t i = 0; i < TOTAL_A; i++)
        leaf(i, h[i]);

    fki_entry_index *x;
    uint64_t indexed = 99;
    assert_int_equal(fki_entry_index_open(&x, dir, RUN, &indexed), FK_OK);
    assert_int_equal(indexed, 0);
    expect_none(x, h[0]);

    /* Three runs of RUN in chunks of varied sizes, then 17. */
    static const size_t sizes[] = {1,   1000, 4097,  3,     20000, 40435, 256, 9999, 2,
                                   31000, 24279, 1, 1000, 4097, 60438, 16, 1};
    /* The first run is handed to the writer at the end of the chunk that
     * brings the index to RUN entries. */
    const uint64_t run0_end = RUN;
    uint64_t end = 0;
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
        size_t n = sizes[c];
        assert_int_equal(fki_entry_index_add(x, end, (const uint8_t(*)[HL])h + end, n), FK_OK);
        uint64_t first = end;
        end += n;
        check_sample(x, (const uint8_t(*)[HL])h, end, first);
        if (end == run0_end) {
            /* Let the writer commit the first run before going on, so the
             * second is handed over and the first leaves memory. */
            wait_watermark(dir, run0_end);
            check_sample(x, (const uint8_t(*)[HL])h, end, first);
        }
    }
    assert_int_equal(end, TOTAL_A);

    /* Once the watermark is past the first run, the second run was handed
     * over, and that frees the first: its entries are answered from
     * index.db only. */
    uint64_t w = wait_watermark(dir, run0_end + 1);
    /* Two runs written: their WAL frames went into the file, the WAL was
     * truncated (one run's frames are about 3 MB). */
    wait_wal_below(dir, 1000000);
    assert_true(w >= run0_end + RUN);
    sqlite3 *db = db_open(dir, 0);
    for (uint64_t i = 0; i < run0_end; i += 97)
        assert_int_equal(db_idx(db, h[i]), (int64_t)i);
    /* Rows and watermark move together: nothing at or above it. */
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    int64_t w2 = db_int(db, "SELECT indexed FROM meta WHERE id = 1");
    assert_int_equal(db_int(db, "SELECT count(*) FROM entries"), w2);
    assert_int_equal(db_int(db, "SELECT count(*) FROM entries WHERE idx >= (SELECT indexed "
                                "FROM meta)"),
                     0);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    for (uint64_t i = 0; i < run0_end; i++)
        expect_at(x, (const uint8_t(*)[HL])h, i);
    /* The last entries are still in memory; all of them answer. */
    for (uint64_t i = w; i < TOTAL_A; i++)
        expect_at(x, (const uint8_t(*)[HL])h, i);

    /* (b) Close writes what it held: the watermark is the total. */
    fki_entry_index_close(x);
    assert_int_equal(watermark(dir), TOTAL_A);
    db = db_open(dir, 0);
    assert_int_equal(db_int(db, "SELECT count(*) FROM entries"), (int64_t)TOTAL_A);
    assert_int_equal(db_int(db, "SELECT max(idx) FROM entries"), (int64_t)TOTAL_A - 1);
    sqlite3_close(db);

    indexed = 0;
    assert_int_equal(fki_entry_index_open(&x, dir, RUN, &indexed), FK_OK);
    assert_int_equal(indexed, TOTAL_A);
    /* Proof that answers come from index.db: change the row under the
     * index and see the change, then put it back.  Done before the first
     * lookup after the reopen. */
    uint64_t probe = run0_end / 2;
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE entries SET idx = idx + 1000000 WHERE idx = %llu",
             (unsigned long long)probe);
    db_exec(dir, sql);
    uint64_t got;
    assert_int_equal(fki_entry_index_lookup(x, h[probe], &got), FK_OK);
    assert_int_equal(got, probe + 1000000);
    fki_entry_index_close(x);
    snprintf(sql, sizeof sql, "UPDATE entries SET idx = idx - 1000000 WHERE idx = %llu",
             (unsigned long long)probe + 1000000);
    db_exec(dir, sql);
    assert_int_equal(fki_entry_index_open(&x, dir, RUN, &indexed), FK_OK);
    assert_int_equal(indexed, TOTAL_A);
    /* Every entry, now from index.db. */
    for (uint64_t i = 0; i < TOTAL_A; i++)
        expect_at(x, (const uint8_t(*)[HL])h, i);
    uint8_t a[HL];
    absent(0, a);
    expect_none(x, a);
    /* The next add starts at the watermark, not before. */
    uint8_t more[1][HL];
    leaf(TOTAL_A, more[0]);
    assert_int_not_equal(fki_entry_index_add(x, 0, (const uint8_t(*)[HL])more, 1), FK_OK);
    assert_int_not_equal(fki_entry_index_add(x, TOTAL_A - 1, (const uint8_t(*)[HL])more, 1),
                         FK_OK);
    expect_none(x, more[0]);
    assert_int_equal(fki_entry_index_add(x, TOTAL_A, (const uint8_t(*)[HL])more, 1), FK_OK);
    assert_int_equal(fki_entry_index_lookup(x, more[0], &got), FK_OK);
    assert_int_equal(got, TOTAL_A);
    fki_entry_index_close(x);
    assert_int_equal(watermark(dir), TOTAL_A + 1);

    free(h);
    remove_dir(dir);
}

/* (c) Hashes equal in their first 8 bytes (the table's slot comes from
 * those): all land on one probe sequence, across a table grow. */
static void test_same_prefix(void **state)
{
    (void)state;
    enum { N = 2000 };
    char dir[] = "/tmp/fk_entryidx.XXXXXX";
    make_dir(dir);
    static uint8_t h[N + 1][HL];
    for (uint64_t i = 0; i <= N; i++) {
        leaf(i, h[i]);
        memcpy(h[i], "samepref", 8);
    }
    fki_entry_index *x;
    uint64_t indexed;
    assert_int_equal(fki_entry_index_open(&x, dir, RUN, &indexed), FK_OK);
    assert_int_equal(indexed, 0);
    /* In two chunks: the first fills the initial table, the second grows it. */
    assert_int_equal(fki_entry_index_add(x, 0, (const uint8_t(*)[HL])h, 1000), FK_OK);
    for (uint64_t i = 0; i < 1000; i++)
        expect_at(x, (const uint8_t(*)[HL])h, i);
    assert_int_equal(fki_entry_index_add(x, 1000, (const uint8_t(*)[HL])h + 1000, N - 1000),
                     FK_OK);
    for (uint64_t i = 0; i < N; i++)
        expect_at(x, (const uint8_t(*)[HL])h, i);
    /* Same prefix, never added: the probe ends at an empty slot. */
    expect_none(x, h[N]);
    fki_entry_index_close(x);

    /* And from index.db. */
    assert_int_equal(fki_entry_index_open(&x, dir, RUN, &indexed), FK_OK);
    assert_int_equal(indexed, N);
    for (uint64_t i = 0; i < N; i++)
        expect_at(x, (const uint8_t(*)[HL])h, i);
    expect_none(x, h[N]);
    fki_entry_index_close(x);
    remove_dir(dir);
}

/* (d) An add that does not start where the index ends is refused and
 * changes nothing. */
static void test_out_of_step(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk_entryidx.XXXXXX";
    make_dir(dir);
    uint8_t h[30][HL];
    for (uint64_t i = 0; i < 30; i++)
        leaf(i, h[i]);
    fki_entry_index *x;
    uint64_t indexed;
    assert_int_equal(fki_entry_index_open(&x, dir, RUN, &indexed), FK_OK);
    /* The first add must start at 0. */
    assert_int_not_equal(fki_entry_index_add(x, 1, (const uint8_t(*)[HL])h + 1, 5), FK_OK);
    expect_none(x, h[1]);
    assert_int_equal(fki_entry_index_add(x, 0, (const uint8_t(*)[HL])h, 10), FK_OK);
    /* Behind, overlapping, ahead: all refused, nothing of them is in. */
    static const uint64_t bad[] = {0, 5, 9, 11, 1000};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_not_equal(fki_entry_index_add(x, bad[k], (const uint8_t(*)[HL])h + 10, 10),
                             FK_OK);
        for (uint64_t i = 10; i < 20; i++)
            expect_none(x, h[i]);
        for (uint64_t i = 0; i < 10; i++)
            expect_at(x, (const uint8_t(*)[HL])h, i);
    }
    /* The index is still in step: the right add goes in. */
    assert_int_equal(fki_entry_index_add(x, 10, (const uint8_t(*)[HL])h + 10, 10), FK_OK);
    for (uint64_t i = 0; i < 20; i++)
        expect_at(x, (const uint8_t(*)[HL])h, i);
    expect_none(x, h[20]);
    fki_entry_index_close(x);
    assert_int_equal(watermark(dir), 20);
    remove_dir(dir);
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Fill an index, close it, damage index.db with what `damage` writes. */
static void damaged_case(const uint8_t *junk, size_t junk_len)
{
    char dir[] = "/tmp/fk_entryidx.XXXXXX";
    make_dir(dir);
    uint8_t h[50][HL];
    for (uint64_t i = 0; i < 50; i++)
        leaf(i, h[i]);
    fki_entry_index *x;
    uint64_t indexed;
    assert_int_equal(fki_entry_index_open(&x, dir, RUN, &indexed), FK_OK);
    assert_int_equal(fki_entry_index_add(x, 0, (const uint8_t(*)[HL])h, 50), FK_OK);
    fki_entry_index_close(x);
    assert_int_equal(watermark(dir), 50);

    char p[512];
    db_path(dir, "", p, sizeof p);
    write_bytes(p, junk, junk_len);
    db_path(dir, "-wal", p, sizeof p);
    unlink(p);
    db_path(dir, "-shm", p, sizeof p);
    unlink(p);

    indexed = 99;
    assert_int_equal(fki_entry_index_open(&x, dir, RUN, &indexed), FK_OK);
    assert_int_equal(indexed, 0);
    expect_none(x, h[0]);
    expect_none(x, h[49]);
    /* A working index again, from 0. */
    assert_int_not_equal(fki_entry_index_add(x, 50, (const uint8_t(*)[HL])h, 1), FK_OK);
    assert_int_equal(fki_entry_index_add(x, 0, (const uint8_t(*)[HL])h, 50), FK_OK);
    expect_at(x, (const uint8_t(*)[HL])h, 49);
    fki_entry_index_close(x);
    assert_int_equal(watermark(dir), 50);
    remove_dir(dir);
}

/* (e) A damaged index.db is replaced by an empty one on open. */
static void test_damaged(void **state)
{
    (void)state;
    uint8_t junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)rnd(256);
    damaged_case(junk, sizeof junk);
    /* The SQLite header, then garbage. */
    memcpy(junk, "SQLite format 3", 16);
    damaged_case(junk, sizeof junk);
    /* A few bytes only. */
    damaged_case((const uint8_t *)"not a database\n", 15);
}

/* (f) reset() right after open empties the index; after an add it is
 * refused. */
static void test_reset(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk_entryidx.XXXXXX";
    make_dir(dir);
    uint8_t h[40][HL];
    for (uint64_t i = 0; i < 40; i++)
        leaf(i, h[i]);
    fki_entry_index *x;
    uint64_t indexed;
    assert_int_equal(fki_entry_index_open(&x, dir, RUN, &indexed), FK_OK);
    assert_int_equal(fki_entry_index_add(x, 0, (const uint8_t(*)[HL])h, 30), FK_OK);
    fki_entry_index_close(x);

    assert_int_equal(fki_entry_index_open(&x, dir, RUN, &indexed), FK_OK);
    assert_int_equal(indexed, 30);
    expect_at(x, (const uint8_t(*)[HL])h, 29);
    assert_int_equal(fki_entry_index_reset(x), FK_OK);
    assert_int_equal(watermark(dir), 0);
    for (uint64_t i = 0; i < 30; i++)
        expect_none(x, h[i]);
    /* It continues from 0: entries 10.. of the old list now sit at 0.. */
    assert_int_not_equal(fki_entry_index_add(x, 30, (const uint8_t(*)[HL])h + 30, 10), FK_OK);
    assert_int_equal(fki_entry_index_add(x, 0, (const uint8_t(*)[HL])h + 10, 5), FK_OK);
    uint64_t got;
    assert_int_equal(fki_entry_index_lookup(x, h[12], &got), FK_OK);
    assert_int_equal(got, 2);
    expect_none(x, h[0]);
    /* Only before the first add. */
    assert_int_not_equal(fki_entry_index_reset(x), FK_OK);
    assert_int_equal(fki_entry_index_lookup(x, h[12], &got), FK_OK);
    assert_int_equal(got, 2);
    fki_entry_index_close(x);

    assert_int_equal(watermark(dir), 5);
    assert_int_equal(fki_entry_index_open(&x, dir, RUN, &indexed), FK_OK);
    assert_int_equal(indexed, 5);
    assert_int_equal(fki_entry_index_lookup(x, h[14], &got), FK_OK);
    assert_int_equal(got, 4);
    expect_none(x, h[0]);
    expect_none(x, h[29]);
    fki_entry_index_close(x);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_and_reopen),
        cmocka_unit_test(test_same_prefix),
        cmocka_unit_test(test_out_of_step),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
