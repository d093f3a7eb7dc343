/*
 * The PostgreSQL storage backend at the seam (storage.h, docs/log.md 7.9),
 * two handles on one database standing for two front ends: the log's
 * identity (another key or origin refused), the lease (one holder at a
 * time, handed over, expired: the late holder commits nothing; free at
 * once when its session ends), the add queue, a batch committed with its tiles,
 * entries and queue rows, duplicate lookups, and the guard that keeps the
 * tree linear: a stale writer's batch fails whole (no tile, no entry, no
 * queue row of it changes).  Run by storage_pg.sh, which starts a private
 * cluster and passes a database URL in FK_TEST_PG_URL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "log/storage.h"

#define VKEY "example.test/log+01234567+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
#define VKEY_OTHER_KEY "example.test/log+89abcdef+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyE="
#define VKEY_OTHER_ORIGIN "other.test/log+01234567+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="

static const char *url;

struct rows {
    size_t n;
    int64_t id[16];
    char entry[16][32];
};

static fk_err collect(void *ctx, int64_t id, const uint8_t *entry, size_t len)
{
    struct rows *r = ctx;
    if (r->n == 16 || len >= sizeof r->entry[0])
        return FK_ERR_LIMIT;
    r->id[r->n] = id;
    memcpy(r->entry[r->n], entry, len);
    r->entry[r->n][len] = 0;
    r->n++;
    return FK_OK;
}

static void hash_of(uint8_t h[FKI_LOG_HASH_LEN], int v)
{
    memset(h, 0, FKI_LOG_HASH_LEN);
    h[0] = (uint8_t)v;
    h[31] = 0xaa;
}

static void test_seam(void **state)
{
    struct fki_log_storage a, b, c;
    const char *why = NULL;
    assert_int_equal(fki_log_storage_pg_open(&a, url, VKEY, &why), FK_OK);
    assert_int_equal(fki_log_storage_pg_open(&b, url, VKEY, &why), FK_OK);
    /* Another log's front end: refused, with a reason naming the log. */
    assert_int_equal(fki_log_storage_pg_open(&c, url, VKEY_OTHER_KEY, &why), FK_ERR_POLICY);
    assert_non_null(strstr(why, "another key of origin example.test/log"));
    assert_int_equal(fki_log_storage_pg_open(&c, url, VKEY_OTHER_ORIGIN, &why), FK_ERR_POLICY);
    assert_non_null(strstr(why, "another log (origin example.test/log)"));

    /* A new log: no checkpoint; the empty tree committed once. */
    uint64_t size = 99;
    uint8_t root[FKI_LOG_HASH_LEN], r0[FKI_LOG_HASH_LEN] = {1}, r2[FKI_LOG_HASH_LEN] = {2};
    char *cp = (char *)"x";
    assert_int_equal(a.load(a.self, &size, root, &cp), FK_OK);
    assert_int_equal(size, 0);
    assert_null(cp);
    /* The lease: one holder; the other is told no. */
    int held = -1;
    assert_int_equal(a.lease(a.self, 1, &held), FK_OK);
    assert_int_equal(held, 1);
    assert_int_equal(b.lease(b.self, 1, &held), FK_OK);
    assert_int_equal(held, 0);
    assert_int_equal(a.lease(a.self, 1, &held), FK_OK);   /* kept */
    assert_int_equal(held, 1);

    /* The empty tree of a new log: committed by any front end as it
     * starts, lease or not, but only once; after it, only the holder
     * commits (over the same size: a new signature). */
    struct fki_log_batch empty = {.root = r0, .checkpoint = "cp0\n", .checkpoint_len = 4};
    assert_int_equal(b.store_batch(b.self, &empty), FK_OK);
    assert_int_equal(b.store_batch(b.self, &empty), FK_ERR_STORAGE);
    assert_int_equal(a.store_batch(a.self, &empty), FK_OK);   /* the holder re-signs it */
    assert_int_equal(b.load(b.self, &size, root, &cp), FK_OK);
    assert_string_equal(cp, "cp0\n");
    assert_memory_equal(root, r0, FKI_LOG_HASH_LEN);
    free(cp);


    /* Adds queued at b, taken in order by a. */
    const uint8_t *ents[3] = {(const uint8_t *)"one", (const uint8_t *)"two",
                              (const uint8_t *)"three"};
    size_t lens[3] = {3, 3, 5};
    assert_int_equal(b.enqueue(b.self, ents, lens, 3), FK_OK);
    struct rows q = {0};
    size_t n = 0;
    assert_int_equal(b.dequeue(b.self, 10, collect, &q, &n), FK_ERR_STORAGE);   /* no lease */
    assert_int_equal(a.dequeue(a.self, 10, collect, &q, &n), FK_OK);
    assert_int_equal(n, 3);
    assert_string_equal(q.entry[0], "one");
    assert_string_equal(q.entry[2], "three");
    assert_true(q.id[0] < q.id[1] && q.id[1] < q.id[2]);

    /* A batch of the first two: tiles, entries and queue rows together. */
    uint8_t leaves[2][FKI_LOG_HASH_LEN];
    hash_of(leaves[0], 1);
    hash_of(leaves[1], 2);
    static const uint8_t bundle[] = {0, 3, 'o', 'n', 'e', 0, 3, 't', 'w', 'o'};
    struct fki_log_tile tiles[2] = {
        {.level = 0, .index = 0, .width = 2, .data = &leaves[0][0], .len = sizeof leaves},
        {.level = FKI_LOG_LEVEL_ENTRIES, .index = 0, .width = 2, .data = bundle,
         .len = sizeof bundle}};
    struct fki_log_batch b1 = {.old_size = 0, .new_size = 2, .root = r2, .tiles = tiles,
                               .ntiles = 2, .leaf_hashes = (const uint8_t(*)[32])leaves,
                               .checkpoint = "cp2\n", .checkpoint_len = 4,
                               .queue_ids = q.id, .nqueue_ids = 2};
    assert_int_equal(a.store_batch(a.self, &b1), FK_OK);
    uint8_t *data;
    size_t len;
    assert_int_equal(b.read_tile(b.self, 0, 0, 2, &data, &len), FK_OK);
    assert_int_equal(len, sizeof leaves);
    assert_memory_equal(data, leaves, len);
    free(data);
    assert_int_equal(b.read_tile(b.self, FKI_LOG_LEVEL_ENTRIES, 0, 2, &data, &len), FK_OK);
    assert_memory_equal(data, bundle, sizeof bundle);
    free(data);
    assert_int_equal(b.read_tile(b.self, 0, 0, 3, &data, &len), FK_ERR_NOT_FOUND);
    /* Lookups: found, absent, and one hash asked twice. */
    uint8_t ask[4][FKI_LOG_HASH_LEN];
    memcpy(ask[0], leaves[1], FKI_LOG_HASH_LEN);
    hash_of(ask[1], 7);
    memcpy(ask[2], leaves[0], FKI_LOG_HASH_LEN);
    memcpy(ask[3], leaves[1], FKI_LOG_HASH_LEN);
    uint64_t idx[4];
    assert_int_equal(b.lookup(b.self, (const uint8_t(*)[32])ask, 4, idx), FK_OK);
    assert_int_equal(idx[0], 1);
    assert_int_equal(idx[1], FKI_LOG_ABSENT);
    assert_int_equal(idx[2], 0);
    assert_int_equal(idx[3], 1);
    /* The third add is still queued. */
    struct rows q2 = {0};
    assert_int_equal(a.dequeue(a.self, 10, collect, &q2, &n), FK_OK);
    assert_int_equal(n, 1);
    assert_string_equal(q2.entry[0], "three");

    /* A stale writer (a holds the lease but believes the tree is still
     * empty): its batch fails whole, the tree stays at 2, none of its
     * rows exist. */
    uint8_t other[1][FKI_LOG_HASH_LEN];
    hash_of(other[0], 9);
    struct fki_log_tile t1 = {.level = 0, .index = 0, .width = 1, .data = other[0],
                              .len = FKI_LOG_HASH_LEN};
    struct fki_log_batch stale = {.old_size = 0, .new_size = 1, .root = r0, .tiles = &t1,
                                  .ntiles = 1, .leaf_hashes = (const uint8_t(*)[32])other,
                                  .checkpoint = "fork\n", .checkpoint_len = 5,
                                  .queue_ids = q2.id, .nqueue_ids = 1};
    assert_int_equal(a.store_batch(a.self, &stale), FK_ERR_STORAGE);
    assert_int_equal(a.load(a.self, &size, root, &cp), FK_OK);
    assert_int_equal(size, 2);
    assert_string_equal(cp, "cp2\n");
    free(cp);
    assert_int_equal(a.read_tile(a.self, 0, 0, 1, &data, &len), FK_ERR_NOT_FOUND);
    assert_int_equal(a.lookup(a.self, (const uint8_t(*)[32])other, 1, idx), FK_OK);
    assert_int_equal(idx[0], FKI_LOG_ABSENT);
    struct rows q3 = {0};
    assert_int_equal(a.dequeue(a.self, 10, collect, &q3, &n), FK_OK);
    assert_int_equal(n, 1);

    /* A batch whose tile exists already (a writer on the right size but
     * with rows someone committed) fails whole too: the state stays. */
    struct fki_log_tile again = tiles[0];
    struct fki_log_batch clash = {.old_size = 2, .new_size = 3, .root = r0, .tiles = &again,
                                  .ntiles = 1, .leaf_hashes = (const uint8_t(*)[32])other,
                                  .checkpoint = "cp3\n", .checkpoint_len = 4};
    assert_int_equal(a.store_batch(a.self, &clash), FK_ERR_STORAGE);
    assert_int_equal(b.load(b.self, &size, root, &cp), FK_OK);
    assert_int_equal(size, 2);
    free(cp);

    /* Only duplicates: the queue row goes, the tree stays. */
    struct fki_log_batch dups = {.old_size = 2, .new_size = 2, .queue_ids = q3.id,
                                 .nqueue_ids = 1};
    assert_int_equal(a.lease(a.self, 1, &held), FK_OK);   /* back after the failure */
    assert_int_equal(held, 1);
    assert_int_equal(a.store_batch(a.self, &dups), FK_OK);
    struct rows q4 = {0};
    assert_int_equal(a.dequeue(a.self, 10, collect, &q4, &n), FK_OK);
    assert_int_equal(n, 0);
    assert_int_equal(b.load(b.self, &size, root, &cp), FK_OK);
    assert_int_equal(size, 2);
    assert_string_equal(cp, "cp2\n");
    free(cp);

    /* a's lease expires (its process hung past it, the database's clock
     * says): b takes it, and a batch of a on the right size, woken up
     * late, fails whole; a is told it lost the lease. */
    PGconn *adm = PQconnectdb(url);
    assert_int_equal(PQstatus(adm), CONNECTION_OK);
    PGresult *res = PQexec(adm, "UPDATE fk_log_lease SET expires_at = clock_timestamp() - "
                                "interval '1 second'");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    assert_string_equal(PQcmdTuples(res), "1");
    PQclear(res);
    assert_int_equal(b.lease(b.self, 1, &held), FK_OK);
    assert_int_equal(held, 1);
    struct fki_log_batch late = {.old_size = 2, .new_size = 2, .root = r2,
                                 .checkpoint = "late\n", .checkpoint_len = 5};
    assert_int_equal(a.store_batch(a.self, &late), FK_ERR_STORAGE);
    assert_int_equal(b.load(b.self, &size, root, &cp), FK_OK);
    assert_int_equal(size, 2);
    assert_string_equal(cp, "cp2\n");
    free(cp);
    /* Expired and not taken: still no commit, until a takes it again. */
    res = PQexec(adm, "UPDATE fk_log_lease SET expires_at = clock_timestamp() - "
                      "interval '1 second'");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    assert_int_equal(b.store_batch(b.self, &late), FK_ERR_STORAGE);
    assert_int_equal(b.load(b.self, &size, root, &cp), FK_OK);
    assert_string_equal(cp, "cp2\n");
    free(cp);

    /* The lease handed over: b (which took it again) gives it up, a
     * takes it at once (no expiry to wait for), b is told no. */
    assert_int_equal(b.lease(b.self, 1, &held), FK_OK);
    assert_int_equal(b.lease(b.self, 0, &held), FK_OK);
    assert_int_equal(held, 0);
    assert_int_equal(a.lease(a.self, 1, &held), FK_OK);
    assert_int_equal(held, 0);   /* first told that it lost the lease it had */
    assert_int_equal(a.lease(a.self, 1, &held), FK_OK);
    assert_int_equal(held, 1);
    assert_int_equal(b.lease(b.self, 1, &held), FK_OK);
    assert_int_equal(held, 0);

    /* The holder's session ends without a release (the process was
     * killed): the lease is free at once, not after its expiry. */
    a.close(a.self);
    held = 0;
    for (int i = 0; i < 40 && !held; i++) {   /* the server ends the session: ms */
        if (i)
            nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
        assert_int_equal(b.lease(b.self, 1, &held), FK_OK);
    }
    assert_int_equal(held, 1);   /* within 2 s, less than the 5 s lease */
    assert_int_equal(b.store_batch(b.self, &late), FK_OK);
    PQfinish(adm);

    b.close(b.self);
}

int main(void)
{
    url = getenv("FK_TEST_PG_URL");
    if (!url) {
        fprintf(stderr, "SKIP: FK_TEST_PG_URL not set (run through storage_pg.sh)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_seam)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
