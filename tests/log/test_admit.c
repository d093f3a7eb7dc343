/*
 * The log's admission check in-process: the per-requester token bucket at
 * its rate and one past it, refilling, and the table of requesters at
 * FKI_LOG_RATE_REQUESTERS and one past it (refused until buckets refill);
 * entries that are not requests.  Requests themselves are checked
 * black-box by log_admit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log/admit.h"

static fki_log_admit *make(unsigned rate)
{
    static const char auth[1][FK_ESCROW_ID_HEX_LEN] = {{0}};
    static const uint8_t pk[1][FK_ESCROW_POINT_LEN] = {{0}};
    struct fki_log_admit_config c = {.authorities = auth, .authority_pks = pk, .nauthorities = 1,
                                     .rate = rate};
    fki_log_admit *a = NULL;
    assert_int_equal(fki_log_admit_new(&a, &c), FK_OK);
    return a;
}

static void test_bucket(void **state)
{
    (void)state;
    fki_log_admit *a = make(3);
    uint8_t k[FK_REQUEST_KEY_LEN] = {1}, other[FK_REQUEST_KEY_LEN] = {2};
    const char *why;
    for (int i = 0; i < 3; i++)
        assert_int_equal(fki_log_admit_rate(a, k, 1000, &why), 0);
    assert_int_equal(fki_log_admit_rate(a, k, 1000, &why), 429);
    assert_non_null(strstr(why, "rate"));
    /* Another requester has its own bucket. */
    assert_int_equal(fki_log_admit_rate(a, other, 1000, &why), 0);
    /* One token back after 20 s at 3 a minute, not before. */
    assert_int_equal(fki_log_admit_rate(a, k, 20999, &why), 429);
    assert_int_equal(fki_log_admit_rate(a, k, 21000, &why), 0);
    assert_int_equal(fki_log_admit_rate(a, k, 21000, &why), 429);
    fki_log_admit_free(a);
}

static void test_requester_table(void **state)
{
    (void)state;
    fki_log_admit *a = make(1);
    uint8_t k[FK_REQUEST_KEY_LEN] = {0};
    const char *why;
    for (uint32_t i = 0; i < FKI_LOG_RATE_REQUESTERS; i++) {
        memcpy(k, &i, sizeof i);
        memcpy(k + 8, &i, sizeof i);
        assert_int_equal(fki_log_admit_rate(a, k, 0, &why), 0);
    }
    uint32_t past = FKI_LOG_RATE_REQUESTERS;
    memcpy(k, &past, sizeof past);
    memcpy(k + 8, &past, sizeof past);
    assert_int_equal(fki_log_admit_rate(a, k, 0, &why), 429);
    assert_non_null(strstr(why, "too many requesters"));
    /* Known requesters still get their own answer (empty buckets). */
    uint8_t k0[FK_REQUEST_KEY_LEN] = {0};
    assert_int_equal(fki_log_admit_rate(a, k0, 1, &why), 429);
    assert_non_null(strstr(why, "rate"));
    /* Half a minute later nothing has refilled (1 a minute): still full. */
    assert_int_equal(fki_log_admit_rate(a, k, 30000, &why), 429);
    /* A minute later every bucket has refilled and is dropped. */
    assert_int_equal(fki_log_admit_rate(a, k, 60000, &why), 0);
    assert_int_equal(fki_log_admit_rate(a, k0, 60000, &why), 0);
    fki_log_admit_free(a);
}

static void test_kinds(void **state)
{
    (void)state;
    fki_log_admit *a = make(0);
    const char *why;
    static const uint8_t junk[] = "\x01\x02not a request\n";
    static const uint8_t almost[] = "fairkey recovery request v1\nno\n";
    assert_int_equal(fki_log_admit_check(a, junk, sizeof junk - 1, 0, &why), 400);
    assert_int_equal(fki_log_admit_check(a, almost, sizeof almost - 1, 0, &why), 400);
    static uint8_t big[FK_REQUEST_NOTE_MAX + 1];
    memset(big, 'a', sizeof big);
    memcpy(big, "fairkey recovery request v1\n", 28);
    assert_int_equal(fki_log_admit_check(a, big, sizeof big, 0, &why), 413);
    assert_int_equal(fki_log_admit_check(a, big, sizeof big - 1, 0, &why), 400);
    fki_log_admit_free(a);

    struct fki_log_admit_config open = {.open = 1};
    assert_int_equal(fki_log_admit_new(&a, &open), FK_OK);
    assert_int_equal(fki_log_admit_check(a, junk, sizeof junk - 1, 0, &why), 0);
    fki_log_admit_free(a);

    /* Limits at and one past. */
    static const char many[FKI_LOG_MAX_AUTHORITIES + 1][FK_ESCROW_ID_HEX_LEN];
    static const uint8_t pks[FKI_LOG_MAX_AUTHORITIES + 1][FK_ESCROW_POINT_LEN];
    struct fki_log_admit_config c = {.authorities = many,
                                     .authority_pks = pks,
                                     .nauthorities = FKI_LOG_MAX_AUTHORITIES,
                                     .rate = FKI_LOG_MAX_RATE};
    assert_int_equal(fki_log_admit_new(&a, &c), FK_OK);
    fki_log_admit_free(a);
    c.nauthorities++;
    assert_int_equal(fki_log_admit_new(&a, &c), FK_ERR_LIMIT);
    c.nauthorities--;
    c.rate++;
    assert_int_equal(fki_log_admit_new(&a, &c), FK_ERR_LIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_requester_table),
        cmocka_unit_test(test_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
