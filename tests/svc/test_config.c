/* Unit tests for the daemons' configuration reader (src/svc/config.c):
 * the line syntax, every error with its line number, the limits one past
 * them, and how the file and the command line combine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "svc/config.h"

struct seen {
    char text[4096];
    size_t n;
};

static int collect(void *ctx, const char *key, const char *value, size_t lineno, char *err)
{
    struct seen *s = ctx;
    (void)err;
    s->n += (size_t)snprintf(s->text + s->n, sizeof s->text - s->n, "%zu:%s=%s;", lineno, key,
                             value ? value : "(none)");
    return 0;
}

static int parse(const char *text, struct seen *s, size_t *line, char *err)
{
    memset(s, 0, sizeof *s);
    return fki_conf_parse(text, strlen(text), collect, s, line, err);
}

static void test_syntax(void **state)
{
    (void)state;
    struct seen s;
    size_t line;
    char err[FKI_CONF_ERR_MAX];
    assert_int_equal(parse("# a comment\n\n  listen   127.0.0.1:80  \r\nopen\n\tdir /a b\n"
                           "   # indented comment\nrate 5",
                           &s, &line, err),
                     0);
    assert_string_equal(s.text, "3:listen=127.0.0.1:80;4:open=(none);5:dir=/a b;7:rate=5;");
    assert_int_equal(parse("", &s, &line, err), 0);
    assert_int_equal(s.n, 0);
    /* A value keeps inner blanks and '#' (URLs may hold one). */
    assert_int_equal(parse("witness k=http://x/#a  b\n", &s, &line, err), 0);
    assert_string_equal(s.text, "1:witness=k=http://x/#a  b;");
}

static void expect_error(const char *text, size_t want_line, const char *want)
{
    struct seen s;
    size_t line = 99;
    char err[FKI_CONF_ERR_MAX] = "";
    assert_int_not_equal(parse(text, &s, &line, err), 0);
    assert_int_equal(line, want_line);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("listen 1\nListen 2\n", 2, "'Listen' is not a key");
    expect_error("\n\nlisten=127.0.0.1:1\n", 3, "a space, not '='");
    expect_error("dir /a\x01\n", 1, "control character 0x01");
    expect_error("ok\n\"quoted\" x\n", 2, "is not a key");
    static char nul[] = "dir a\nrate 1\0x\n";
    struct seen s;
    size_t line;
    char err[FKI_CONF_ERR_MAX];
    memset(&s, 0, sizeof s);
    assert_int_not_equal(fki_conf_parse(nul, sizeof nul - 1, collect, &s, &line, err), 0);
    assert_int_equal(line, 2);
}

static void test_limits(void **state)
{
    (void)state;
    struct seen s;
    size_t line;
    char err[FKI_CONF_ERR_MAX];
    /* A line of exactly FKI_CONF_LINE_MAX bytes passes; one more fails. */
    char *t = malloc(FKI_CONF_LINE_MAX + 3);
    memcpy(t, "k ", 2);
    memset(t + 2, 'v', FKI_CONF_LINE_MAX - 2);
    t[FKI_CONF_LINE_MAX] = 0;
    memset(&s, 0, sizeof s);
    assert_int_equal(fki_conf_parse(t, FKI_CONF_LINE_MAX, collect, &s, &line, err), 0);
    t[FKI_CONF_LINE_MAX] = 'v';
    assert_int_not_equal(fki_conf_parse(t, FKI_CONF_LINE_MAX + 1, collect, &s, &line, err), 0);
    assert_non_null(strstr(err, "line longer than"));
    free(t);
    /* A file of FKI_CONF_MAX bytes of comments passes; one byte more fails. */
    char *big = malloc(FKI_CONF_MAX + 1);
    memset(big, '\n', FKI_CONF_MAX + 1);
    big[0] = '#';
    assert_int_equal(fki_conf_parse(big, FKI_CONF_MAX, collect, &s, &line, err), 0);
    assert_int_not_equal(fki_conf_parse(big, FKI_CONF_MAX + 1, collect, &s, &line, err), 0);
    assert_int_equal(line, 0);
    free(big);
}

static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                     {"listen", required_argument, NULL, 'l'},
                                     {"open", no_argument, NULL, 'O'},
                                     {"witness", required_argument, NULL, 'w'},
                                     {"config", required_argument, NULL, 'c'},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/fk-conf-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void joined(const struct fki_conf_argv *a, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i < a->argc; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? " " : "", a->argv[i]);
    assert_null(a->argv[a->argc]);
}

static void test_argv(void **state)
{
    (void)state;
    char err[FKI_CONF_ERR_MAX], buf[1024];
    struct fki_conf_argv a;
    char *path = write_tmp("dir /var/lib/x\nlisten 127.0.0.1:1\nopen yes\nwitness a=1\n"
                           "witness b=2\n");
    /* The file's lines come first; a flag replaces every line of its key. */
    char *argv1[] = {"serve", "--config", path, "--witness", "c=3", NULL};
    assert_string_equal(fki_conf_path(5, argv1), path);
    assert_int_equal(fki_conf_argv_build(&a, path, "log serve", opts, 5, argv1, err), 0);
    joined(&a, buf, sizeof buf);
    assert_string_equal(buf, "serve --dir /var/lib/x --listen 127.0.0.1:1 --open --witness c=3");
    fki_conf_argv_free(&a);
    /* --key=value and unique prefixes count as the command line giving it. */
    char *argv2[] = {"serve", "--list=127.0.0.1:2", "--config=x", NULL};
    assert_null(fki_conf_path(1, argv2));
    assert_int_equal(fki_conf_argv_build(&a, path, "log serve", opts, 3, argv2, err), 0);
    joined(&a, buf, sizeof buf);
    assert_string_equal(buf, "serve --dir /var/lib/x --open --witness a=1 --witness b=2 "
                             "--list=127.0.0.1:2");
    fki_conf_argv_free(&a);
    unlink(path);

    /* Errors name the file and the line. */
    char want[512];
    path = write_tmp("dir /x\n\nbogus 1\n");
    assert_int_not_equal(fki_conf_argv_build(&a, path, "log serve", opts, 1, argv1, err), 0);
    snprintf(want, sizeof want, "%s:3: unknown key 'bogus'", path);
    assert_non_null(strstr(err, want));
    unlink(path);
    path = write_tmp("dir\n");
    assert_int_not_equal(fki_conf_argv_build(&a, path, "log serve", opts, 1, argv1, err), 0);
    snprintf(want, sizeof want, "%s:1: 'dir' needs a value", path);
    assert_non_null(strstr(err, want));
    unlink(path);
    path = write_tmp("open please\n");
    assert_int_not_equal(fki_conf_argv_build(&a, path, "log serve", opts, 1, argv1, err), 0);
    assert_non_null(strstr(err, ":1: 'open' is a switch"));
    unlink(path);
    path = write_tmp("config /etc/other\n");
    assert_int_not_equal(fki_conf_argv_build(&a, path, "log serve", opts, 1, argv1, err), 0);
    assert_non_null(strstr(err, ":1: unknown key 'config'"));
    unlink(path);
    assert_int_not_equal(
        fki_conf_argv_build(&a, "/nonexistent/fk.conf", "log serve", opts, 1, argv1, err), 0);
    assert_non_null(strstr(err, "/nonexistent/fk.conf: cannot open the configuration file"));
    /* Too many settings: FKI_CONF_MAX_ITEMS pass, one more fails. */
    size_t cap = (FKI_CONF_MAX_ITEMS + 1) * 12 + 1, n = 0;
    char *many = malloc(cap);
    for (unsigned i = 0; i < FKI_CONF_MAX_ITEMS; i++)
        n += (size_t)snprintf(many + n, cap - n, "witness %u\n", i % 10);
    path = write_tmp(many);
    assert_int_equal(fki_conf_argv_build(&a, path, "log serve", opts, 1, argv1, err), 0);
    assert_int_equal(a.argc, 1 + 2 * FKI_CONF_MAX_ITEMS);
    fki_conf_argv_free(&a);
    unlink(path);
    snprintf(many + n, cap - n, "open\n");
    path = write_tmp(many);
    assert_int_not_equal(fki_conf_argv_build(&a, path, "log serve", opts, 1, argv1, err), 0);
    assert_non_null(strstr(err, "more than"));
    unlink(path);
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_argv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
