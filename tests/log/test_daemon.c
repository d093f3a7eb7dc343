/*
 * Units of the log daemon in-process: the add answer buffer at the largest
 * tlog-proof, and a daemon started and stopped inside the test (add,
 * duplicate, tiles) so sanitizers see its threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log/log.h"
#include "net/net.h"

#define HL FK_TLOG_HASH_LEN

/* The largest receipt fits the daemon's answer buffer exactly (NUL included);
 * one more byte of content does not. */
static void test_answer_at_max(void **state)
{
    static char note[FK_NOTE_MAX_SIZE];
    static const char tail[] = "\n\n\xe2\x80\x94 k AAAAAAAAAA==\n";
    static uint8_t extra[FK_TLOG_PROOF_EXTRA_MAX + 1];
    uint8_t proof[FK_TLOG_MAX_PROOF - 1][HL];
    size_t tl = strlen(tail), len = 0;
    (void)state;
    memset(note, 'a', sizeof note);
    memcpy(note + FK_NOTE_MAX_SIZE - tl, tail, tl);
    memset(extra, 'e', sizeof extra);
    memset(proof, 7, sizeof proof);
    /* Exactly FKI_LOG_ANSWER_CAP bytes, so a sanitizer sees any write past it. */
    char *out = malloc(FKI_LOG_ANSWER_CAP);
    assert_non_null(out);
    assert_int_equal(fki_log_answer_encode(out, extra, FK_TLOG_PROOF_EXTRA_MAX,
                                           FK_TLOG_MAX_SIZE - 1, (const uint8_t(*)[HL])proof,
                                           FK_TLOG_MAX_PROOF - 1, note, sizeof note, &len),
                     FK_OK);
    assert_int_equal(len, FK_TLOG_PROOF_MAX_SIZE);
    assert_int_equal(out[len], 0);
    fk_tlog_proof *p = malloc(sizeof *p);
    assert_non_null(p);
    assert_int_equal(fk_tlog_proof_parse(p, out, len), FK_OK);
    assert_int_equal(p->nproof, FK_TLOG_MAX_PROOF - 1);
    free(p);
    /* One past the receipt limit. */
    assert_int_equal(fki_log_answer_encode(out, extra, FK_TLOG_PROOF_EXTRA_MAX + 1,
                                           FK_TLOG_MAX_SIZE - 1, (const uint8_t(*)[HL])proof,
                                           FK_TLOG_MAX_PROOF - 1, note, sizeof note, &len),
                     FK_ERR_LIMIT);
    /* The daemon's own answers (no extra) at their largest. */
    assert_int_equal(fki_log_answer_encode(out, NULL, 0, FK_TLOG_MAX_SIZE - 1,
                                           (const uint8_t(*)[HL])proof, FK_TLOG_MAX_PROOF - 1,
                                           note, sizeof note, &len),
                     FK_OK);
    assert_int_equal(out[len], 0);
    free(out);
}

/* POST body; with p, parse the answer into p, which points into the
 * returned buffer (the caller frees it after using p). */
static uint8_t *post(const char *url, const char *body, long want, fk_tlog_proof *p)
{
    long status;
    uint8_t *ans;
    size_t len;
    assert_int_equal(fki_net_post(url, body, strlen(body), NULL, &status, &ans, &len), FK_OK);
    assert_int_equal(status, want);
    if (p)
        assert_int_equal(fk_tlog_proof_parse(p, (const char *)ans, len), FK_OK);
    return ans;
}

/* A daemon in this process: adds answered with verifying receipts, a
 * duplicate gets the first index, the read path serves the tiles. */
static void test_daemon_inprocess(void **state)
{
    (void)state;
    char dir[] = "/tmp/fk_logd.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[64];
    snprintf(sub, sizeof sub, "%s/log", dir);
    char vkey[FK_NOTE_KEY_TEXT_MAX + 1];
    struct fki_logd_config cfg = {.dir = sub, .listen = "127.0.0.1:0", .batch_ms = 20,
                                  .admit = {.open = 1}};
    fki_logd *d;
    assert_int_equal(fki_logd_start(&d, &cfg, vkey, sizeof vkey, NULL), FK_OK);
    char base[64], url[96];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", fki_logd_port(d));
    snprintf(url, sizeof url, "%s/add", base);
    fk_note_verifier key;
    assert_int_equal(fk_note_verifier_parse(&key, vkey, strlen(vkey)), FK_OK);

    fk_tlog_proof *p = malloc(sizeof *p);
    assert_non_null(p);
    static const char *entries[] = {"one\n", "two\n", "three\n"};
    for (size_t i = 0; i < 3; i++) {
        uint8_t leaf[HL];
        uint8_t *ans = post(url, entries[i], 200, p);
        assert_int_equal(p->index, i);
        assert_int_equal(fk_tlog_leaf_hash(leaf, (const uint8_t *)entries[i],
                                           strlen(entries[i])), FK_OK);
        assert_int_equal(fk_tlog_proof_verify(p, leaf, key.name, &key, 1, NULL, NULL), FK_OK);
        free(ans);
    }
    free(post(url, "two\n", 200, p));
    assert_int_equal(p->index, 1);
    free(post(url, "", 400, NULL));
    free(p);

    struct fki_log_client c;
    fk_checkpoint cp;
    assert_int_equal(fki_log_client_init(&c, base, vkey), FK_OK);
    assert_int_equal(fki_log_client_checkpoint(&c, &cp, NULL), FK_OK);
    assert_int_equal(cp.size, 3);
    assert_int_equal(fki_log_client_follow(&c, &cp), FK_OK);
    fki_log_client_close(&c);
    fki_logd_stop(d);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_at_max),
        cmocka_unit_test(test_daemon_inprocess),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
