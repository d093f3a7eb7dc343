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
    assert_int_equal(st.lookup(st.self, other[0], &idx), FK_ERR_NOT_FOUND);

    assert_int_equal(st.lookup(st.self, leaves[1], &idx), FK_OK);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test(test_server),
        cmocka_unit_test(test_storage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
