/*
 * Units under the log daemon: the network helper (listen parsing, body cap,
 * deferred answers, client limits) and the SQLite+files storage seam
 * (commit, guard against a stale writer, lookups, discarding tiles beyond
 * the committed tree).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/sha.h>
#include <sqlite3.h>

#include "log/storage.h"
#include "net/net.h"

static void test_parse_listen(void **state)
{
    char host[64];
    uint16_t port;
    assert_int_equal(fki_net_parse_listen("127.0.0.1:8080", host, sizeof host, &port), FK_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_int_equal(fki_net_parse_listen("[::1]:0", host, sizeof host, &port), FK_OK);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_int_equal(fki_net_parse_listen(":65535", host, sizeof host, &port), FK_OK);
    assert_string_equal(host, "");
    assert_int_equal(port, 65535);
    const char *bad[] = {"127.0.0.1", "127.0.0.1:65536", "::1:80", "[::1]80", "a:b", "host:",
                         ":123456", "h:-1", "h: 80", "[::1:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fki_net_parse_listen(bad[i], host, sizeof host, &port), FK_ERR_INVALID);
    /* Host longer than the caller's buffer. */
    assert_int_equal(fki_net_parse_listen("abcdefgh:1", host, 8, &port), FK_ERR_INVALID);
}

/* ---- server --------------------------------------------------------------- */

static void *complete_later(void *arg)
{
    usleep(50 * 1000);
    struct fki_net_response r = {.status = 202, .body = "later", .body_len = 5};
    fki_net_complete(arg, &r);
    return NULL;
}

static void echo(void *ctx, const struct fki_net_request *req, struct fki_net_response *resp)
{
    if (!strcmp(req->path, "/defer")) {
        fki_net_deferred *d = fki_net_defer(req);
        assert_non_null(d);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, complete_later, d), 0);
        pthread_detach(t);
        return;
    }
    if (!strcmp(req->path, "/big")) {
        static char big[5000];
        memset(big, 'z', sizeof big);
        resp->status = 200;
        resp->body = big;
        resp->body_len = sizeof big;
        return;
    }
    resp->status = 200;
    resp->body = req->body;
    resp->body_len = req->body_len;
    resp->content_type = "application/octet-stream";
}

static void test_server(void **state)
{
    fki_net_server *s;
    struct fki_net_server_config cfg = {.listen = "127.0.0.1:0", .max_body = 100, .handler = echo};
    assert_int_equal(fki_net_server_start(&s, &cfg), FK_OK);
    uint16_t port = fki_net_server_port(s);
    assert_true(port != 0);
    char url[128];
    long status;
    uint8_t *body;
    size_t len;
    uint8_t msg[101];
    memset(msg, 'm', sizeof msg);

    /* At the cap: echoed. One past: 413. */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/echo", port);
    assert_int_equal(fki_net_post(url, msg, 100, NULL, &status, &body, &len), FK_OK);
    assert_int_equal(status, 200);
    assert_int_equal(len, 100);
    assert_memory_equal(body, msg, 100);
    free(body);
    assert_int_equal(fki_net_post(url, msg, 101, NULL, &status, &body, &len), FK_OK);
    assert_int_equal(status, 413);
    free(body);

    /* A deferred answer arrives from another thread. */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/defer", port);
    assert_int_equal(fki_net_get(url, NULL, &status, &body, &len), FK_OK);
    assert_int_equal(status, 202);
    assert_int_equal(len, 5);
    assert_memory_equal(body, "later", 5);
    free(body);

    /* The client's response cap: at the cap fine, one below it FK_ERR_LIMIT. */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/big", port);
    struct fki_net_client_opts o = {.max_response = 5000};
    assert_int_equal(fki_net_get(url, &o, &status, &body, &len), FK_OK);
    assert_int_equal(len, 5000);
    free(body);
    o.max_response = 4999;
    assert_int_equal(fki_net_get(url, &o, &status, &body, &len), FK_ERR_LIMIT);

    /* A second server on the same port fails to bind. */
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
    fki_net_server *s2;
    struct fki_net_server_config cfg2 = {.listen = listen, .handler = echo};
    assert_int_equal(fki_net_server_start(&s2, &cfg2), FK_ERR_NET);
    struct fki_net_server_config cfg3 = {.listen = "127.0.0.1", .handler = echo};
    assert_int_equal(fki_net_server_start(&s2, &cfg3), FK_ERR_INVALID);

    fki_net_server_stop(s);
    /* Nobody listens any more. */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/echo", port);
    struct fki_net_client_opts quick = {.timeout_ms = 2000};
    assert_int_equal(fki_net_get(url, &quick, &status, &body, &len), FK_ERR_NET);
}

/* ---- storage -------------------------------------------------------------- */

static int exists(const char *dir, const char *rel)
{
    char p[1024];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return stat(p, &sb) == 0;
}

static void put(const char *dir, const char *rel)
{
    char p[512], cmd[1200];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\" && echo stale > '%s'", p, p);
    assert_int_equal(system(cmd), 0);
}

/* One hash through the batch lookup: FK_OK with its index, or
 * FK_ERR_NOT_FOUND. */
static fk_err lookup1(struct fki_log_storage *st, const uint8_t hash[32], uint64_t *index)
{
    uint64_t got = 0;
    fk_err e = st->lookup(st->self, (const uint8_t(*)[32])hash, 1, &got);
    if (!e && got == FKI_LOG_ABSENT)
        return FK_ERR_NOT_FOUND;
    if (!e)
        *index = got;
    return e;
}

static void test_storage(void **state)
{
    char dir[] = "/tmp/fk_logstore.XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct fki_log_storage st;
    assert_int_equal(fki_log_storage_sqlite_open(&st, dir), FK_OK);
    uint64_t size = 99, idx;
    uint8_t root[32];
    char *cp = (char *)1;
    assert_int_equal(st.load(st.self, &size, root, &cp), FK_OK);
    assert_int_equal(size, 0);
    assert_null(cp);

    /* Commit the empty tree, then a batch of two entries. */
    uint8_t r0[32] = {0}, r2[32];
    memset(r2, 0x22, sizeof r2);
    struct fki_log_batch b0 = {.root = r0, .checkpoint = "cp0\n", .checkpoint_len = 4};
    assert_int_equal(st.store_batch(st.self, &b0), FK_OK);
    uint8_t leaves[2][32];
    memset(leaves[0], 0xa0, 32);
    memset(leaves[1], 0xa1, 32);
    uint8_t tile[64], bundle[8] = {0, 2, 'h', 'i', 0, 2, 'y', 'o'};
    memcpy(tile, leaves, 64);
    struct fki_log_tile tiles[2] = {
        {.level = 0, .index = 0, .width = 2, .data = tile, .len = 64},
        {.level = FKI_LOG_LEVEL_ENTRIES, .index = 0, .width = 2, .data = bundle, .len = 8}};
    struct fki_log_batch b1 = {.old_size = 0, .new_size = 2, .root = r2, .tiles = tiles,
                               .ntiles = 2, .leaf_hashes = (const uint8_t(*)[32])leaves,
                               .checkpoint = "cp2\n", .checkpoint_len = 4};
    assert_int_equal(st.store_batch(st.self, &b1), FK_OK);
    /* A writer that has the wrong idea of the tree is refused. */
    uint8_t other[1][32];
    memset(other[0], 0xbb, 32);
    struct fki_log_batch stale = {.old_size = 0, .new_size = 1, .root = r2,
                                  .leaf_hashes = (const uint8_t(*)[32])other,
                                  .checkpoint = "bad\n", .checkpoint_len = 4};
    assert_int_equal(st.store_batch(st.self, &stale), FK_ERR_STORAGE);
    assert_int_equal(lookup1(&st, other[0], &idx), FK_ERR_NOT_FOUND);

    assert_int_equal(lookup1(&st, leaves[1], &idx), FK_OK);
    assert_int_equal(idx, 1);
    uint8_t *data;
    size_t len;
    assert_int_equal(st.read_tile(st.self, 0, 0, 2, &data, &len), FK_OK);
    assert_int_equal(len, 64);
    assert_memory_equal(data, tile, 64);
    free(data);
    assert_int_equal(st.read_tile(st.self, 0, 0, 3, &data, &len), FK_ERR_NOT_FOUND);

    /* Leftovers of a failed batch beyond size 2 are discarded; the committed
     * partial tiles stay. */
    put(dir, "tile/0/000.p/5");
    put(dir, "tile/0/000");
    put(dir, "tile/0/001.p/3");
    put(dir, "tile/entries/000.p/9");
    put(dir, "tile/1/000.p/1");
    assert_int_equal(st.discard_beyond(st.self, 2), FK_OK);
    assert_false(exists(dir, "tile/0/000.p/5"));
    assert_false(exists(dir, "tile/0/000"));
    assert_false(exists(dir, "tile/0/001.p/3"));
    assert_false(exists(dir, "tile/entries/000.p/9"));
    assert_false(exists(dir, "tile/1/000.p/1"));
    assert_true(exists(dir, "tile/0/000.p/2"));
    assert_true(exists(dir, "tile/entries/000.p/2"));
    st.close(st.self);

    /* Reopen: the committed state, and the checkpoint file rewritten from it. */
    char cpath[1024];
    snprintf(cpath, sizeof cpath, "%s/checkpoint", dir);
    unlink(cpath);
    assert_int_equal(fki_log_storage_sqlite_open(&st, dir), FK_OK);
    assert_int_equal(st.load(st.self, &size, root, &cp), FK_OK);
    assert_int_equal(size, 2);
    assert_memory_equal(root, r2, 32);
    assert_string_equal(cp, "cp2\n");
    free(cp);
    assert_true(exists(dir, "checkpoint"));
    st.close(st.self);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- the entry index, rebuilt from the level-0 tiles ---------------------- */

#define REB_N 700

static void index_file(const char *dir, const char *suffix, char *out, size_t cap)
{
    assert_true((size_t)snprintf(out, cap, "%s/index.db%s", dir, suffix) < cap);
}

static void remove_index(const char *dir)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[1024];
    for (size_t i = 0; i < 3; i++) {
        index_file(dir, suffix[i], p, sizeof p);
        unlink(p);
    }
}

/* Run SQL on DIR/index.db from outside the storage (closed at the time). */
static void index_sql(const char *dir, const char *sql)
{
    char p[1024];
    sqlite3 *db;
    index_file(dir, "", p, sizeof p);
    assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static int64_t index_watermark(const char *dir)
{
    char p[1024];
    sqlite3 *db;
    sqlite3_stmt *st;
    index_file(dir, "", p, sizeof p);
    assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT indexed FROM meta WHERE id = 1", -1, &st,
                                        NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Open and load: the tree of REB_N leaves; every leaf hash looks up to its
 * index, and a hash that is no leaf is not found. */
static void reopen_check(const char *dir, const uint8_t (*leaf)[32], const uint8_t *root)
{
    struct fki_log_storage st;
    uint64_t size, idx;
    uint8_t r[32];
    char *cp;
    assert_int_equal(fki_log_storage_sqlite_open(&st, dir), FK_OK);
    assert_int_equal(st.load(st.self, &size, r, &cp), FK_OK);
    assert_int_equal(size, REB_N);
    assert_memory_equal(r, root, 32);
    free(cp);
    for (uint64_t i = 0; i < REB_N; i++) {
        idx = UINT64_MAX;
        fk_err e = lookup1(&st, leaf[i], &idx);
        if (e != FK_OK || idx != i)
            fail_msg("leaf %llu: lookup gave error %d, index %llu", (unsigned long long)i,
                     (int)e, (unsigned long long)idx);
    }
    uint8_t none[32];
    memset(none, 0x5a, sizeof none);
    assert_int_equal(lookup1(&st, none, &idx), FK_ERR_NOT_FOUND);
    /* All of them in one batch lookup, with one hash that is not there. */
    static uint8_t all[REB_N + 1][32];
    static uint64_t got[REB_N + 1];
    memcpy(all, leaf, sizeof all - 32);
    memcpy(all[REB_N], none, 32);
    assert_int_equal(st.lookup(st.self, (const uint8_t(*)[32])all, REB_N + 1, got), FK_OK);
    for (uint64_t i = 0; i < REB_N; i++)
        assert_int_equal(got[i], i);
    assert_true(got[REB_N] == FKI_LOG_ABSENT);
    st.close(st.self);
    /* Closing writes what the index held: it covers the tree again. */
    assert_int_equal(index_watermark(dir), REB_N);
}

/* Level-0 tile t of width w, as the daemon writes it: w leaf hashes. */
static struct fki_log_tile tile0(const uint8_t (*leaf)[32], uint64_t t, unsigned w)
{
    struct fki_log_tile x = {.level = 0, .index = t, .width = w, .data = leaf[t * 256],
                             .len = (size_t)w * 32};
    return x;
}

static void test_storage_index_rebuild(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk_logstore.XXXXXX";
    assert_non_null(mkdtemp(dir));
    static uint8_t leaf[REB_N][32];
    for (uint32_t i = 0; i < REB_N; i++) {
        uint8_t m[5] = {'l', (uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16),
                        (uint8_t)(i >> 24)};
        SHA256(m, sizeof m, leaf[i]);
    }
    struct fki_log_storage st;
    uint64_t size, idx;
    uint8_t root[32], roots[3][32];
    char *cp;
    assert_int_equal(fki_log_storage_sqlite_open(&st, dir), FK_OK);
    assert_int_equal(st.load(st.self, &size, root, &cp), FK_OK);
    assert_int_equal(size, 0);

    /* 0 -> 100 -> 300 -> 700, with the tiles each batch writes. */
    struct fki_log_tile t1[] = {tile0(leaf, 0, 100)};
    struct fki_log_tile t2[] = {tile0(leaf, 0, 256), tile0(leaf, 1, 44)};
    struct fki_log_tile t3[] = {tile0(leaf, 1, 256), tile0(leaf, 2, 188)};
    struct {
        uint64_t from, to;
        struct fki_log_tile *tiles;
        size_t n;
    } steps[] = {{0, 100, t1, 1}, {100, 300, t2, 2}, {300, 700, t3, 2}};
    for (size_t k = 0; k < 3; k++) {
        memset(roots[k], (int)(0x30 + k), 32);
        struct fki_log_batch b = {.old_size = steps[k].from, .new_size = steps[k].to,
                                  .root = roots[k], .tiles = steps[k].tiles,
                                  .ntiles = steps[k].n,
                                  .leaf_hashes = (const uint8_t(*)[32])leaf + steps[k].from,
                                  .checkpoint = "cp\n", .checkpoint_len = 3};
        assert_int_equal(st.store_batch(st.self, &b), FK_OK);
        for (uint64_t i = 0; i < steps[k].to; i += 7) {
            assert_int_equal(lookup1(&st, leaf[i], &idx), FK_OK);
            assert_int_equal(idx, i);
        }
        if (steps[k].to < REB_N)
            assert_int_equal(lookup1(&st, leaf[steps[k].to], &idx), FK_ERR_NOT_FOUND);
    }
    st.close(st.self);
    assert_true(exists(dir, "tile/0/000"));
    assert_true(exists(dir, "tile/0/001"));
    assert_true(exists(dir, "tile/0/002.p/188"));

    /* index.db gone: rebuilt from the tiles on load. */
    remove_index(dir);
    reopen_check(dir, (const uint8_t(*)[32])leaf, roots[2]);

    /* The watermark ahead of the tree: not this tree's index, replaced. */
    index_sql(dir, "UPDATE meta SET indexed = 5000");
    reopen_check(dir, (const uint8_t(*)[32])leaf, roots[2]);
    /* Ahead, with rows that disagree with the tree: none of them survive. */
    index_sql(dir, "UPDATE entries SET idx = idx + 1; UPDATE meta SET indexed = 701");
    reopen_check(dir, (const uint8_t(*)[32])leaf, roots[2]);

    /* At or behind the tree but another log's rows (an index.db copied from
     * elsewhere): its last entry is not this tree's, so it is replaced. */
    index_sql(dir, "UPDATE entries SET hash = randomblob(32)");
    reopen_check(dir, (const uint8_t(*)[32])leaf, roots[2]);
    index_sql(dir, "UPDATE entries SET hash = randomblob(32); UPDATE meta SET indexed = 300; "
                   "DELETE FROM entries WHERE idx >= 300");
    reopen_check(dir, (const uint8_t(*)[32])leaf, roots[2]);

    /* Behind, inside a tile, at a tile's edges, one short of the tree: the
     * catch-up starts in the middle of a tile where needed. */
    static const int marks[] = {200, 1, 255, 256, 257, 511, 512, 699, 0};
    for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++) {
        char sql[200];
        snprintf(sql, sizeof sql,
                 "UPDATE meta SET indexed = %d; DELETE FROM entries WHERE idx >= %d", marks[k],
                 marks[k]);
        index_sql(dir, sql);
        reopen_check(dir, (const uint8_t(*)[32])leaf, roots[2]);
    }

    /* A level-0 tile the catch-up needs is missing: load fails rather than
     * leave the index short. */
    index_sql(dir, "UPDATE meta SET indexed = 300; DELETE FROM entries WHERE idx >= 300");
    char p[1024];
    snprintf(p, sizeof p, "%s/tile/0/001", dir);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(fki_log_storage_sqlite_open(&st, dir), FK_OK);
    cp = NULL;
    assert_int_not_equal(st.load(st.self, &size, root, &cp), FK_OK);
    assert_null(cp);
    st.close(st.self);

    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test(test_server),
        cmocka_unit_test(test_storage),
        cmocka_unit_test(test_storage_index_rebuild),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
