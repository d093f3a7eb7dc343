/* Unit tests for the daemons' /metrics writer (src/svc/metrics.c): the text
 * format (families, samples, escaped labels, histograms) and its size limit,
 * at it and one past it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "svc/metrics.h"

static void test_format(void **state)
{
    (void)state;
    fki_metrics_out m;
    assert_int_equal(fki_metrics_begin(&m), 0);
    fki_metrics_family(&m, "fk_x_total", "counter", "Things.");
    fki_metrics_sample(&m, "fk_x_total", NULL, NULL, 42);
    fki_metrics_sample(&m, "fk_x_total", "origin", "a\"b\\c\nd", 1.5);
    static const double bounds[] = {1, 10};
    struct fki_metrics_hist h;
    fki_metrics_hist_init(&h, bounds, 2);
    fki_metrics_hist_observe(&h, 0.5);
    fki_metrics_hist_observe(&h, 10);
    fki_metrics_hist_observe(&h, 11);
    fki_metrics_histogram(&m, "fk_h", "Sizes.", &h);
    m.buf[m.len] = 0;
    assert_string_equal(m.buf, "# HELP fk_x_total Things.\n"
                               "# TYPE fk_x_total counter\n"
                               "fk_x_total 42\n"
                               "fk_x_total{origin=\"a\\\"b\\\\c\\nd\"} 1.5\n"
                               "# HELP fk_h Sizes.\n"
                               "# TYPE fk_h histogram\n"
                               "fk_h_bucket{le=\"1\"} 1\n"
                               "fk_h_bucket{le=\"10\"} 2\n"
                               "fk_h_bucket{le=\"+Inf\"} 3\n"
                               "fk_h_sum 21.5\n"
                               "fk_h_count 3\n");
    assert_int_equal(m.full, 0);
    free(m.buf);
}

/* Lines of exactly 64 bytes: FKI_METRICS_MAX / 64 - 1 of them fit (the
 * writer keeps a byte for the terminator); the next is left out whole, even
 * though its first part (the name) would fit. */
static void test_limit(void **state)
{
    (void)state;
    fki_metrics_out m;
    char name[64];
    memset(name, 'a', sizeof name);
    name[61] = 0; /* "aaa...a 1\n": 61 + 3 = 64 bytes */
    assert_int_equal(fki_metrics_begin(&m), 0);
    size_t fit = FKI_METRICS_MAX / 64 - 1;
    for (size_t i = 0; i < fit; i++)
        fki_metrics_sample(&m, name, NULL, NULL, 1);
    assert_int_equal(m.full, 0);
    assert_int_equal(m.len, fit * 64);
    fki_metrics_sample(&m, name, NULL, NULL, 1); /* one past */
    assert_int_equal(m.full, 1);
    assert_int_equal(m.len, fit * 64);
    assert_int_equal(m.buf[m.len - 1], '\n');
    fki_metrics_sample(&m, "b", NULL, NULL, 1); /* nothing after the first loss */
    assert_int_equal(m.len, fit * 64);
    free(m.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
