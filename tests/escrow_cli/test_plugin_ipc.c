/*
 * The age plugin IPC framing (src/plugin/ipc.c): the age v1 stanza grammar,
 * strictly, with each fixed limit tested at and one past its value.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <fairkey.h>

#include "../../src/plugin/ipc.h"

static FILE *mem_in(const char *text, size_t len)
{
    FILE *f = fmemopen((void *)text, len, "r");
    assert_non_null(f);
    return f;
}

static ipc_status read_str(const char *text, ipc_stanza *s)
{
    FILE *f = mem_in(text, strlen(text));
    ipc_status st = ipc_read(f, s);
    fclose(f);
    return st;
}

/* Write a stanza into a memory buffer; returns the malloc'd text.  Not
 * inlined: GCC 12 at -O3 takes the memstream's pointer to the local buf for
 * a dangling pointer in the caller (-Wdangling-pointer false positive). */
__attribute__((noinline)) static char *write_str(const char *const *args, size_t nargs, const uint8_t *body, size_t blen,
                       ipc_status *st)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    *st = ipc_write(f, args, nargs, body, blen);
    fclose(f);
    return buf;
}

static void test_known_encoding(void **state)
{
    /* The spec's own example shape: a command with metadata and a body. */
    const char *args[] = {"wrap-file-key"};
    const uint8_t key[16] = "YELLOW SUBMARINE";
    ipc_status st;
    char *out = write_str(args, 1, key, 16, &st);
    assert_int_equal(st, IPC_OK);
    assert_string_equal(out, "-> wrap-file-key\nWUVMTE9XIFNVQk1BUklORQ\n");
    free(out);

    const char *ok[] = {"ok"};
    out = write_str(ok, 1, NULL, 0, &st);
    assert_int_equal(st, IPC_OK);
    assert_string_equal(out, "-> ok\n\n");
    free(out);
}

static void test_roundtrip_lengths(void **state)
{
    static const size_t lens[] = {0, 1, 2, 3, 16, 47, 48, 49, 95, 96, 97, 1000};
    uint8_t body[1000];
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        const char *args[] = {"recipient-stanza", "0", "fairkey.dev/escrow", "abc"};
        ipc_status st;
        char *out = write_str(args, 4, body, lens[i], &st);
        assert_int_equal(st, IPC_OK);
        /* every full line has 64 columns and the last one fewer */
        size_t nlines = 0;
        for (char *p = strchr(out, '\n') + 1; *p; nlines++) {
            char *nl = strchr(p, '\n');
            assert_non_null(nl);
            assert_true(nl - p <= 64);
            if (nl[1] != '\0')
                assert_int_equal(nl - p, 64);
            else
                assert_true(nl - p < 64);
            p = nl + 1;
        }
        assert_int_equal(nlines, lens[i] / 48 + 1);
        ipc_stanza s;
        assert_int_equal(read_str(out, &s), IPC_OK);
        assert_int_equal(s.nargs, 4);
        for (size_t j = 0; j < 4; j++)
            assert_string_equal(s.args[j], args[j]);
        assert_int_equal(s.body_len, lens[i]);
        if (lens[i])
            assert_memory_equal(s.body, body, lens[i]);
        ipc_stanza_clear(&s);
        free(out);
    }
}

static void test_sequence_and_eof(void **state)
{
    const char *text = "-> add-recipient age1fairkey1xyz\n\n"
                       "-> grease-3a 12 7\nAAEC\n"
                       "-> done\n\n";
    FILE *f = mem_in(text, strlen(text));
    ipc_stanza s;
    assert_int_equal(ipc_read(f, &s), IPC_OK);
    assert_true(ipc_is(&s, "add-recipient", 1));
    assert_false(ipc_is(&s, "add-recipient", 0));
    assert_string_equal(s.args[1], "age1fairkey1xyz");
    ipc_stanza_clear(&s);
    assert_int_equal(ipc_read(f, &s), IPC_OK);
    assert_int_equal(s.nargs, 3);
    assert_int_equal(s.body_len, 3);
    ipc_stanza_clear(&s);
    assert_int_equal(ipc_read(f, &s), IPC_OK);
    assert_true(ipc_is(&s, "done", 0));
    ipc_stanza_clear(&s);
    assert_int_equal(ipc_read(f, &s), IPC_EOF);
    fclose(f);
}

static void test_malformed(void **state)
{
    static const char *bad[] = {
        "-> done\n",                      /* body line missing */
        "-> done",                        /* truncated first line */
        "->done\n\n",                     /* no space after arrow */
        "-> \n\n",                        /* no command */
        "-> a  b\n\n",                    /* empty argument */
        "-> a b \n\n",                    /* trailing space */
        "-> a\tb\n\n",                    /* tab is not VCHAR */
        "-> ok\r\n\n",                    /* CR */
        "--> ok\n\n",                     /* wrong prefix */
        "-> ok\nAAE=\n",                  /* padding */
        "-> ok\nAAF\n",                   /* non-canonical trailing bits */
        "-> ok\nA\n",                     /* a lone base64 character */
        "-> ok\nAA$A\n",                  /* not base64 */
        "-> ok\nAAAA\r\n",                /* CR in body */
        /* a full 64-column line must be followed by a final line */
        "-> ok\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        /* a 65-column line */
        "-> ok\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\n",
        "\n",                             /* empty line */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ipc_stanza s;
        ipc_status st = read_str(bad[i], &s);
        if (st != IPC_BAD)
            fail_msg("case %zu (%s) gave %d", i, bad[i], (int)st);
        assert_int_equal(s.nargs, 0);
        assert_null(s.body);
    }
    /* the writer refuses what the reader would refuse */
    const char *a1[] = {"ok", ""};
    const char *a2[] = {"o k"};
    const char *a3[] = {"ok\n"};
    ipc_status st;
    free(write_str(a1, 2, NULL, 0, &st));
    assert_int_equal(st, IPC_BAD);
    free(write_str(a2, 1, NULL, 0, &st));
    assert_int_equal(st, IPC_BAD);
    free(write_str(a3, 1, NULL, 0, &st));
    assert_int_equal(st, IPC_BAD);
    free(write_str(a1, 0, NULL, 0, &st));
    assert_int_equal(st, IPC_BAD);
}

static void test_limit_line(void **state)
{
    /* "-> " + argument = exactly IPC_MAX_LINE is accepted, one more is not */
    for (int extra = 0; extra <= 1; extra++) {
        size_t len = IPC_MAX_LINE + (size_t)extra;
        char *text = malloc(len + 3);
        memcpy(text, "-> ", 3);
        memset(text + 3, 'x', len - 3);
        memcpy(text + len, "\n\n", 3);
        ipc_stanza s;
        ipc_status st = read_str(text, &s);
        assert_int_equal(st, extra ? IPC_LIMIT : IPC_OK);
        if (st == IPC_OK)
            assert_int_equal(strlen(s.args[0]), IPC_MAX_LINE - 3);
        ipc_stanza_clear(&s);
        free(text);
    }
}

static void test_limit_args(void **state)
{
    for (int extra = 0; extra <= 1; extra++) {
        size_t n = IPC_MAX_ARGS + (size_t)extra;
        char *text = malloc(n * 2 + 8);
        char *p = text;
        p += sprintf(p, "->");
        for (size_t i = 0; i < n; i++)
            p += sprintf(p, " a");
        sprintf(p, "\n\n");
        ipc_stanza s;
        ipc_status st = read_str(text, &s);
        assert_int_equal(st, extra ? IPC_LIMIT : IPC_OK);
        if (st == IPC_OK)
            assert_int_equal(s.nargs, IPC_MAX_ARGS);
        ipc_stanza_clear(&s);
        free(text);
    }
}

static void test_limit_body(void **state)
{
    /* IPC_MAX_BODY bytes are accepted; one more byte is refused. */
    for (int extra = 0; extra <= 1; extra++) {
        size_t n = IPC_MAX_BODY + (size_t)extra;
        uint8_t *body = calloc(1, n);
        const char *args[] = {"ok"};
        ipc_status st;
        char *text = write_str(args, 1, body, n, &st);
        assert_int_equal(st, IPC_OK);
        ipc_stanza s;
        st = read_str(text, &s);
        assert_int_equal(st, extra ? IPC_LIMIT : IPC_OK);
        if (st == IPC_OK)
            assert_int_equal(s.body_len, IPC_MAX_BODY);
        ipc_stanza_clear(&s);
        free(text);
        free(body);
    }
}

static int all_zero(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void test_stdio_wipe(void **state)
{
    /* The plugin's streams as age gives them: pipes.  A file key's base64
     * passes through the input buffer the caller owns (not one stdio
     * allocated) and is gone from it after ipc_stdio_wipe, with the rest of
     * the input still unread; the output is flushed whole before its buffer
     * is wiped. */
    static ipc_stdio io;
    static const char key64[] = "WUVMTE9XIFNVQk1BUklORQ"; /* "YELLOW SUBMARINE" */
    char text[128];
    int inp[2], outp[2];
    int tn = snprintf(text, sizeof(text), "-> wrap-file-key\n%s\n-> done\n\n", key64);
    assert_true(tn > 0 && (size_t)tn < sizeof(text));
    assert_int_equal(pipe(inp), 0);
    assert_int_equal(pipe(outp), 0);
    assert_int_equal(write(inp[1], text, (size_t)tn), tn);
    close(inp[1]);
    FILE *in = fdopen(inp[0], "r"), *out = fdopen(outp[1], "w");
    assert_non_null(in);
    assert_non_null(out);
    memset(&io, 0, sizeof(io));
    assert_int_equal(ipc_stdio_own(&io, in, out), IPC_OK);

    ipc_stanza s;
    assert_int_equal(ipc_read(in, &s), IPC_OK);
    assert_true(ipc_is(&s, "wrap-file-key", 0));
    assert_int_equal(s.body_len, 16);
    assert_memory_equal(s.body, "YELLOW SUBMARINE", 16);
    ipc_stanza_clear(&s);
    assert_non_null(memmem(io.inbuf, sizeof(io.inbuf), key64, strlen(key64)));
    assert_non_null(memmem(io.inbuf, sizeof(io.inbuf), "-> done", 7));
    assert_int_equal(ipc_write_cmd(out, "ok"), IPC_OK);
    assert_non_null(memmem(io.outbuf, sizeof(io.outbuf), "-> ok\n\n", 7));

    assert_int_equal(ipc_stdio_wipe(&io), IPC_OK);
    assert_true(all_zero(io.inbuf, sizeof(io.inbuf)));
    assert_true(all_zero(io.outbuf, sizeof(io.outbuf)));
    assert_ptr_equal(io.in, in);
    assert_ptr_equal(io.out, out);
    assert_int_equal(fclose(out), 0);
    char got[16];
    assert_int_equal(read(outp[0], got, sizeof(got)), 7);
    assert_memory_equal(got, "-> ok\n\n", 7);
    close(outp[0]);
    fclose(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_encoding), cmocka_unit_test(test_roundtrip_lengths),
        cmocka_unit_test(test_sequence_and_eof), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limit_line),     cmocka_unit_test(test_limit_args),
        cmocka_unit_test(test_limit_body),     cmocka_unit_test(test_stdio_wipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
