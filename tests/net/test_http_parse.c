/*
 * The HTTP/1.1 request-head parser and response-head writer
 * (src/net/http.c), byte for byte.  Every expectation below comes from RFC
 * 9112 / RFC 9110 (section named beside it) or from the narrow subset
 * src/net/http.h promises to accept; none was read back from the code.
 *
 * Every input is copied into a heap block of exactly its length, so the
 * sanitizer build catches a read one byte past what the parser was given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/http.h"

/* Parse the first len bytes of s from an exact-size heap copy; the copy
 * is kept in *keep (caller frees) when keep is set, since *h points into it. */
static int parse_n(const char *s, size_t len, struct fki_http_head *h, char **keep)
{
    char *b = malloc(len ? len : 1);
    assert_non_null(b);
    memcpy(b, s, len);
    int rc = fki_http_parse_head(b, len, h);
    if (keep)
        *keep = b;
    else
        free(b);
    return rc;
}

static int parse(const char *s)
{
    struct fki_http_head h;
    return parse_n(s, strlen(s), &h, NULL);
}

static void assert_field(const struct fki_http_head *h, size_t i, const char *name,
                         const char *value)
{
    assert_true(i < h->nfields);
    assert_int_equal(h->field[i].name_len, strlen(name));
    assert_memory_equal(h->field[i].name, name, strlen(name));
    assert_int_equal(h->field[i].value_len, strlen(value));
    if (*value)
        assert_memory_equal(h->field[i].value, value, strlen(value));
}

/* RFC 9112 3 (request line), 5 (fields), 6.3 (Content-Length framing),
 * 9.3 (HTTP/1.1 persists by default). */
static void test_get_and_post(void **state)
{
    (void)state;
    struct fki_http_head h;
    char *b;
    const char *get = "GET /tile/8/0/x001/2?a=1&b=2 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n"
                      "Accept: */*\r\n\r\n";
    /* Bytes after the head (a pipelined request) are not part of it. */
    char in[512];
    snprintf(in, sizeof in, "%sGET /next HTTP/1.1\r\n\r\n", get);
    assert_int_equal(parse_n(in, strlen(in), &h, &b), 0);
    assert_string_equal(h.method, "GET");
    assert_string_equal(h.path, "/tile/8/0/x001/2");
    assert_non_null(h.query);
    assert_int_equal(h.query_len, 7);
    assert_memory_equal(h.query, "a=1&b=2", 7);
    assert_int_equal(h.minor, 1);
    assert_true(h.keep_alive);
    assert_false(h.expect_continue);
    assert_false(h.has_length);
    assert_int_equal(h.content_length, 0);
    assert_int_equal(h.head_len, strlen(get));
    assert_int_equal(h.nfields, 2);
    assert_field(&h, 0, "Host", "127.0.0.1:80");
    assert_field(&h, 1, "Accept", "*/*");
    free(b);

    /* RFC 9110 5.5: the leading and trailing whitespace of a field line is
     * not part of its value; field names are case-insensitive (5.1), so
     * "content-length" frames the body too. */
    const char *post = "POST /add HTTP/1.1\r\ncontent-length: 5\r\n"
                       "X-Empty:\r\nX-Pad: \t a b \t\r\n\r\nhello";
    assert_int_equal(parse_n(post, strlen(post), &h, &b), 0);
    assert_string_equal(h.method, "POST");
    assert_string_equal(h.path, "/add");
    assert_null(h.query);
    assert_true(h.has_length);
    assert_int_equal(h.content_length, 5);
    assert_int_equal(h.head_len, strlen(post) - 5);
    assert_int_equal(h.nfields, 3);
    assert_field(&h, 0, "content-length", "5");
    assert_field(&h, 1, "X-Empty", "");
    assert_field(&h, 2, "X-Pad", "a b");
    free(b);

    /* Content-Length: 0 is a length, of nothing. */
    assert_int_equal(parse_n("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 38, &h, NULL), 0);
    assert_true(h.has_length);
    assert_int_equal(h.content_length, 0);
    /* The largest 19-digit length is still a number (the server's cap
     * refuses it, not the parser). */
    const char *big = "POST / HTTP/1.1\r\nContent-Length: 9999999999999999999\r\n\r\n";
    assert_int_equal(parse_n(big, strlen(big), &h, NULL), 0);
    assert_true(h.content_length == UINT64_C(9999999999999999999));
}

/* RFC 9112 9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 persists only
 * with "keep-alive".  RFC 9110 7.6.1: connection options are
 * case-insensitive and form a list. */
static void test_persistence(void **state)
{
    (void)state;
    struct fki_http_head h;
    static const struct {
        const char *in;
        int minor, keep_alive;
    } t[] = {
        {"GET / HTTP/1.0\r\n\r\n", 0, 0},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0, 1},
        {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0, 1},
        {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", 0, 0},
        {"GET / HTTP/1.1\r\n\r\n", 1, 1},
        {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 1, 0},
        {"GET / HTTP/1.1\r\nConnection: CLOSE\r\n\r\n", 1, 0},
        {"GET / HTTP/1.1\r\nConnection: foo,close\r\n\r\n", 1, 0},
        {"GET / HTTP/1.1\r\nConnection: foo\r\nConnection: close\r\n\r\n", 1, 0},
        {"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", 1, 1},
        /* "closed" is another option, not "close". */
        {"GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", 1, 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_int_equal(parse_n(t[i].in, strlen(t[i].in), &h, NULL), 0);
        assert_int_equal(h.minor, t[i].minor);
        if (h.keep_alive != t[i].keep_alive)
            fail_msg("keep_alive %d for %s", h.keep_alive, t[i].in);
    }
}

/* A head is complete only with its empty line (RFC 9112 2.1); every
 * shorter prefix asks for more.  Also with the leading CRLFs a recipient
 * ignores (RFC 9112 2.2). */
static void test_incomplete(void **state)
{
    (void)state;
    const char *heads[] = {
        "POST /a%20b?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
        "Expect: 100-continue\r\nConnection: keep-alive\r\n\r\n",
        "\r\n\r\nGET / HTTP/1.0\r\n\r\n",
    };
    for (size_t k = 0; k < 2; k++) {
        size_t n = strlen(heads[k]);
        struct fki_http_head h;
        for (size_t len = 0; len < n; len++)
            if (parse_n(heads[k], len, &h, NULL) != -1)
                fail_msg("prefix of %zu bytes of head %zu did not ask for more", len, k);
        assert_int_equal(parse_n(heads[k], n, &h, NULL), 0);
        assert_int_equal(h.head_len, n);
    }
}

/* FKI_HTTP_HEAD_MAX and FKI_HTTP_MAX_FIELDS, and one past each (431,
 * RFC 6585 5). */
static void test_limits(void **state)
{
    (void)state;
    const size_t max = FKI_HTTP_HEAD_MAX;
    char *s = malloc(max + 2);
    assert_non_null(s);
    const char *rl = "GET / HTTP/1.1\r\nX: ";

    /* Without the empty line: one byte short of the cap waits, the cap is 431. */
    memset(s, 'a', max + 1);
    memcpy(s, rl, strlen(rl));
    assert_int_equal(parse_n(s, max - 1, &(struct fki_http_head){0}, NULL), -1);
    assert_int_equal(parse_n(s, max, &(struct fki_http_head){0}, NULL), 431);
    assert_int_equal(parse_n(s, max + 1, &(struct fki_http_head){0}, NULL), 431);

    /* A complete head of exactly the cap is accepted; one byte more is 431. */
    struct fki_http_head h;
    memcpy(s + max - 4, "\r\n\r\n", 4);
    assert_int_equal(parse_n(s, max, &h, NULL), 0);
    assert_int_equal(h.head_len, max);
    assert_int_equal(h.nfields, 1);
    assert_int_equal(h.field[0].value_len, max - strlen(rl) - 4);
    memset(s, 'a', max + 1);
    memcpy(s, rl, strlen(rl));
    memcpy(s + max - 3, "\r\n\r\n", 4);
    assert_int_equal(parse_n(s, max + 1, &h, NULL), 431);
    free(s);

    /* FKI_HTTP_MAX_FIELDS fields, then one more. */
    char buf[2048];
    for (size_t extra = 0; extra < 2; extra++) {
        size_t p = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\n");
        for (size_t i = 0; i < FKI_HTTP_MAX_FIELDS + extra; i++)
            p += (size_t)snprintf(buf + p, sizeof buf - p, "F%zu: %zu\r\n", i, i);
        p += (size_t)snprintf(buf + p, sizeof buf - p, "\r\n");
        assert_true(p < sizeof buf);
        int rc = parse_n(buf, p, &h, NULL);
        if (!extra) {
            assert_int_equal(rc, 0);
            assert_int_equal(h.nfields, FKI_HTTP_MAX_FIELDS);
            assert_field(&h, FKI_HTTP_MAX_FIELDS - 1, "F31", "31");
        } else {
            assert_int_equal(rc, 431);
        }
    }

    /* The method token: FKI_HTTP_METHOD_MAX characters fit, one more is refused. */
    char m[64];
    snprintf(m, sizeof m, "%.*s / HTTP/1.1\r\n\r\n", (int)FKI_HTTP_METHOD_MAX, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    assert_int_equal(parse_n(m, strlen(m), &h, NULL), 0);
    assert_int_equal(strlen(h.method), FKI_HTTP_METHOD_MAX);
    snprintf(m, sizeof m, "%.*s / HTTP/1.1\r\n\r\n", (int)FKI_HTTP_METHOD_MAX + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    assert_int_equal(parse(m), 400);
}

/* Malformed heads: 400 (RFC 9112 and the strict subset of http.h). */
static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *why, *in;
    } t[] = {
        /* RFC 9112 2.2: lines end in CRLF; we do not take a bare LF ... */
        {"bare LF everywhere", "GET / HTTP/1.1\nHost: x\n\n"},
        {"bare LF in a field", "GET / HTTP/1.1\r\nHost: x\nA: b\r\n\r\n"},
        {"bare LF ending the request line", "GET / HTTP/1.1\nHost: x\r\n\r\n"},
        /* ... a bare CR is invalid ... */
        {"bare CR in a value", "GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n"},
        {"bare CR in the target", "GET /a\rb HTTP/1.1\r\n\r\n"},
        /* ... whitespace before the first field is refused, and RFC 9112
         * 5.2: obs-fold is not accepted. */
        {"obs-fold", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"},
        {"space before the first field", "GET / HTTP/1.1\r\n Host: x\r\n\r\n"},
        {"tab fold", "GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n"},
        /* RFC 9112 5.1: no whitespace between name and colon (400). */
        {"space before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n"},
        /* RFC 9110 5.1: a field name is a non-empty token. */
        {"empty field name", "GET / HTTP/1.1\r\n: x\r\n\r\n"},
        {"no colon", "GET / HTTP/1.1\r\nHost\r\n\r\n"},
        {"non-token name", "GET / HTTP/1.1\r\nHo(st: x\r\n\r\n"},
        /* RFC 9110 5.5: no CTLs in a value. */
        {"control byte in a value", "GET / HTTP/1.1\r\nA: b\x01" "c\r\n\r\n"},
        {"DEL in a value", "GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n"},
        /* RFC 9112 3.2: only origin-form for an origin server that is
         * not a proxy (absolute-form is for proxies; "*" is for OPTIONS,
         * which we do not serve). */
        {"absolute-form", "GET http://x/ HTTP/1.1\r\n\r\n"},
        {"asterisk-form", "OPTIONS * HTTP/1.1\r\n\r\n"},
        {"target without a slash", "GET x HTTP/1.1\r\n\r\n"},
        {"empty target", "GET  HTTP/1.1\r\n\r\n"},
        /* RFC 9112 3: method SP target SP version, single spaces. */
        {"missing version", "GET /\r\n\r\n"},
        {"empty version", "GET / \r\n\r\n"},
        {"two spaces", "GET /  HTTP/1.1\r\n\r\n"},
        {"no method", " / HTTP/1.1\r\n\r\n"},
        {"non-token method", "G@T / HTTP/1.1\r\n\r\n"},
        /* RFC 9112 2.3: HTTP-name is "HTTP", case-sensitive. */
        {"lowercase http", "GET / http/1.1\r\n\r\n"},
        {"no minor", "GET / HTTP/1\r\n\r\n"},
        {"text after the version", "GET / HTTP/1.1 x\r\n\r\n"},
        /* RFC 9110 8.6: Content-Length is 1*DIGIT; differing values are
         * an unrecoverable framing error (RFC 9112 6.3 item 5). */
        {"conflicting lengths", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"},
        {"non-digit length", "POST / HTTP/1.1\r\nContent-Length: 5a\r\n\r\n"},
        {"signed length", "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n"},
        {"negative length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"},
        {"hex length", "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n"},
        {"empty length", "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n"},
        {"20-digit length", "POST / HTTP/1.1\r\nContent-Length: 10000000000000000000\r\n\r\n"},
        {"length list", "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n"},
        {"inner space in length", "POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n"},
        /* RFC 3986 2.1: pct-encoded is "%" HEXDIG HEXDIG; a NUL would cut
         * the decoded path. */
        {"%00 in the path", "GET /a%00b HTTP/1.1\r\n\r\n"},
        {"broken escape", "GET /a%zzb HTTP/1.1\r\n\r\n"},
        {"half escape", "GET /a%4 HTTP/1.1\r\n\r\n"},
        {"escape at the end", "GET /a% HTTP/1.1\r\n\r\n"},
        {"escape cut by the query", "GET /a%4?x HTTP/1.1\r\n\r\n"},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int rc = parse(t[i].in);
        if (rc != 400) {
            print_error("%s: got %d, want 400\n", t[i].why, rc);
            bad++;
        }
    }
    assert_int_equal(bad, 0);

    /* A NUL byte, anywhere: 400 (RFC 9110 5.5 forbids it in values; it is
     * no token or target character either), also before the head is whole. */
    static const char nul1[] = "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n";
    static const char nul2[] = "GET /\0 HTTP/1.1\r\n\r\n";
    static const char nul3[] = "GET / HT\0";
    struct fki_http_head h;
    assert_int_equal(parse_n(nul1, sizeof nul1 - 1, &h, NULL), 400);
    assert_int_equal(parse_n(nul2, sizeof nul2 - 1, &h, NULL), 400);
    assert_int_equal(parse_n(nul3, sizeof nul3 - 1, &h, NULL), 400);
    /* Bare line ends are refused before the empty line ever comes: a
     * client speaking LF only would otherwise wait for the idle timeout. */
    assert_int_equal(parse("GET / HTTP/1.1\nHost: x\n"), 400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\rY"), 400);
}

/* The same Content-Length twice is one length (RFC 9110 8.6); any
 * Transfer-Encoding is refused with 501 (RFC 9112 6.1: a server that does
 * not understand a transfer coding SHOULD answer 501; we take none);
 * another major version is 505 (RFC 9110 15.6.6), another minor of 1 is
 * HTTP/1.1. */
static void test_framing_and_versions(void **state)
{
    (void)state;
    struct fki_http_head h;
    const char *twice = "POST / HTTP/1.1\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n";
    assert_int_equal(parse_n(twice, strlen(twice), &h, NULL), 0);
    assert_int_equal(h.content_length, 7);
    assert_int_equal(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
    assert_int_equal(parse("POST / HTTP/1.1\r\ntransfer-encoding: identity\r\n\r\n"), 501);
    assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
    assert_int_equal(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
    assert_int_equal(parse("GET / HTTP/2.0\r\n\r\n"), 505);
    assert_int_equal(parse("GET / HTTP/3.0\r\n\r\n"), 505);
    assert_int_equal(parse("GET / HTTP/0.9\r\n\r\n"), 505);
    /* A higher minor of a major we speak is read as the highest we speak
     * (RFC 9110 2.5 SHOULD): HTTP/1.2 as HTTP/1.1, persistent. */
    const char *v12 = "GET / HTTP/1.2\r\n\r\n";
    assert_int_equal(parse_n(v12, strlen(v12), &h, NULL), 0);
    assert_int_equal(h.minor, 1);
    assert_true(h.keep_alive);
}

/* RFC 9110 10.1.1: "100-continue" is the one expectation, matched
 * case-insensitively; any other gets 417.  An HTTP/1.0 request's
 * 100-continue MUST be ignored (a 1.0 client does not read a 1xx). */
static void test_expect(void **state)
{
    (void)state;
    struct fki_http_head h;
    const char *ok[] = {
        "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
        "POST / HTTP/1.1\r\nexpect: 100-Continue\r\nContent-Length: 1\r\n\r\n",
        "POST / HTTP/1.1\r\nEXPECT:100-CONTINUE \r\nContent-Length: 1\r\n\r\n",
    };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(parse_n(ok[i], strlen(ok[i]), &h, NULL), 0);
        assert_true(h.expect_continue);
    }
    const char *plain = "POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\n";
    assert_int_equal(parse_n(plain, strlen(plain), &h, NULL), 0);
    assert_false(h.expect_continue);
    const char *old = "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n";
    assert_int_equal(parse_n(old, strlen(old), &h, NULL), 0);
    assert_false(h.expect_continue);
    assert_int_equal(parse("POST / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n"), 417);
    assert_int_equal(parse("POST / HTTP/1.1\r\nExpect: 100-continue-x\r\n\r\n"), 417);
}

/* RFC 3986 2.1/3.3/3.4: the path is percent-decoded (hex digits either
 * case), the query starts at the first '?' and is handed over raw. */
static void test_target(void **state)
{
    (void)state;
    struct fki_http_head h;
    char *b;
    const char *in = "GET /a%20b%2fc%7E%C3%A9?q=%20x+y&z=%41?w HTTP/1.1\r\n\r\n";
    assert_int_equal(parse_n(in, strlen(in), &h, &b), 0);
    assert_string_equal(h.path, "/a b/c~\xc3\xa9");
    assert_int_equal(h.query_len, strlen("q=%20x+y&z=%41?w"));
    assert_memory_equal(h.query, "q=%20x+y&z=%41?w", h.query_len);
    free(b);

    /* An empty query is a query: present, zero bytes. */
    assert_int_equal(parse_n("GET /x? HTTP/1.1\r\n\r\n", 20, &h, &b), 0);
    assert_string_equal(h.path, "/x");
    assert_non_null(h.query);
    assert_int_equal(h.query_len, 0);
    free(b);

    /* A decoded '?' stays in the path. */
    assert_int_equal(parse_n("GET /%3F?a HTTP/1.1\r\n\r\n", 23, &h, &b), 0);
    assert_string_equal(h.path, "/?");
    assert_int_equal(h.query_len, 1);
    assert_memory_equal(h.query, "a", 1);
    free(b);
}

/* RFC 9112 2.2: a server SHOULD ignore at least one empty line (CRLF)
 * before the request line; head_len counts them, since they are consumed
 * with the head. */
static void test_leading_crlf(void **state)
{
    (void)state;
    struct fki_http_head h;
    const char *one = "\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n";
    assert_int_equal(parse_n(one, strlen(one), &h, NULL), 0);
    assert_string_equal(h.method, "GET");
    assert_int_equal(h.head_len, strlen(one));
    const char *two = "\r\n\r\nPOST /y HTTP/1.1\r\nContent-Length: 2\r\n\r\nab";
    char *b;
    assert_int_equal(parse_n(two, strlen(two), &h, &b), 0);
    assert_string_equal(h.path, "/y");
    assert_int_equal(h.head_len, strlen(two) - 2);
    assert_int_equal(h.content_length, 2);
    free(b);
}

/* The response head: RFC 9112 4 status line, RFC 9110 8.6 Content-Length,
 * RFC 9112 9.6 "Connection: close" on the last response. */
static void test_write_head(void **state)
{
    (void)state;
    char out[512];
    const char *date = "Sun, 06 Nov 1994 08:49:37 GMT";
    size_t n = fki_http_write_head(out, sizeof out, 200, date, "text/plain", 12, NULL, NULL,
                                   NULL, 0, 1);
    const char *want = "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                       "Content-Type: text/plain\r\nContent-Length: 12\r\n\r\n";
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);

    const char *names[] = {"Location", "X-A"}, *values[] = {"/x", ""};
    n = fki_http_write_head(out, sizeof out, 404, date, "application/json", 0, "no-store",
                            names, values, 2, 0);
    want = "HTTP/1.1 404 Not Found\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
           "Content-Type: application/json\r\nContent-Length: 0\r\n"
           "Cache-Control: no-store\r\nLocation: /x\r\nX-A: \r\n"
           "Connection: close\r\n\r\n";
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    /* Exactly the bytes it needs (plus the NUL snprintf writes) fit; one
     * fewer does not. */
    assert_int_equal(fki_http_write_head(out, strlen(want) + 1, 404, date, "application/json",
                                         0, "no-store", names, values, 2, 0),
                     strlen(want));
    assert_int_equal(fki_http_write_head(out, strlen(want), 404, date, "application/json", 0,
                                         "no-store", names, values, 2, 0),
                     0);
    assert_int_equal(fki_http_write_head(out, 10, 200, date, "text/plain", 0, NULL, NULL, NULL,
                                         0, 1),
                     0);

    /* RFC 9112 4: the status code is three digits. */
    assert_int_equal(fki_http_write_head(out, sizeof out, 99, date, "t", 0, NULL, NULL, NULL, 0, 1), 0);
    assert_int_equal(fki_http_write_head(out, sizeof out, 600, date, "t", 0, NULL, NULL, NULL, 0, 1), 0);

    /* No CR or LF inside any value or name: that would be response
     * splitting (RFC 9110 5.5). */
    const char *bad_n[] = {"X-A\r\nX-B"}, *bad_v[] = {"a\nb"}, *good_n[] = {"X"},
               *good_v[] = {"v"};
    assert_int_equal(fki_http_write_head(out, sizeof out, 200, date, "text/plain\r\nX: y", 0,
                                         NULL, NULL, NULL, 0, 1),
                     0);
    assert_int_equal(fki_http_write_head(out, sizeof out, 200, "a\rb", "t", 0, NULL, NULL,
                                         NULL, 0, 1),
                     0);
    assert_int_equal(fki_http_write_head(out, sizeof out, 200, date, "t", 0, "x\n", NULL, NULL,
                                         0, 1),
                     0);
    assert_int_equal(fki_http_write_head(out, sizeof out, 200, date, "t", 0, NULL, bad_n,
                                         good_v, 1, 1),
                     0);
    assert_int_equal(fki_http_write_head(out, sizeof out, 200, date, "t", 0, NULL, good_n,
                                         bad_v, 1, 1),
                     0);
    assert_true(fki_http_write_head(out, sizeof out, 200, date, "t", 0, NULL, good_n, good_v,
                                    1, 1) > 0);

    /* RFC 9110 15: the reason phrases of the statuses the server sends. */
    assert_string_equal(fki_http_reason(100), "Continue");
    assert_string_equal(fki_http_reason(413), "Content Too Large");
    assert_string_equal(fki_http_reason(431), "Request Header Fields Too Large");
    assert_string_equal(fki_http_reason(505), "HTTP Version Not Supported");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_and_post),
        cmocka_unit_test(test_persistence),
        cmocka_unit_test(test_incomplete),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_framing_and_versions),
        cmocka_unit_test(test_expect),
        cmocka_unit_test(test_target),
        cmocka_unit_test(test_leading_crlf),
        cmocka_unit_test(test_write_head),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
