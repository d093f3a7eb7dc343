/*
 * The HTTP/1.1 server (src/net/server.c) on 127.0.0.1, driven over raw TCP
 * sockets so every byte on the wire is ours: keep-alive, pipelining
 * (also behind a deferred answer), HEAD, Expect: 100-continue, the body
 * cap, malformed heads, clients that vanish while their answer is
 * deferred, idle and slow clients, the connection limit, many deferred
 * answers released at once, and stopping with connections open.
 *
 * Every socket read has a timeout, so a server that fails to answer fails
 * the test instead of hanging it.  The sanitizer build checks that nothing
 * leaks when the server is stopped.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/net.h"

/* Longest any single read may wait before the test calls it a failure. */
#define READ_TIMEOUT_MS 5000
/* Connections answered together in the stage/release test. */
#define MANY 200
/* The fixed document served by GET and HEAD /doc. */
static const char DOC[] = "0123456789abcdef";

/* A check on a server or helper thread, where cmocka cannot jump. */
#define CHECK(x) \
    do { \
        if (!(x)) { \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x); \
            abort(); \
        } \
    } while (0)

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the handler ------------------------------------------------------------ */

static int outstanding;   /* deferred answers not yet completed (atomic) */

static pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t held_cv = PTHREAD_COND_INITIALIZER;
static fki_net_deferred *held[MANY];
static int held_n;

struct job {
    fki_net_deferred *d;
    unsigned ms;
    char *body;
    size_t len;
};

static void *complete_later(void *arg)
{
    struct job *j = arg;
    sleep_ms(j->ms);
    struct fki_net_response r = {.status = 200, .body = j->body, .body_len = j->len,
                                 .body_free = j->body};
    fki_net_complete(j->d, &r);
    free(j);
    __atomic_fetch_sub(&outstanding, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static char *copy_body(const struct fki_net_request *req)
{
    char *b = malloc(req->body_len + 1);
    CHECK(b);
    if (req->body_len)
        memcpy(b, req->body, req->body_len);
    return b;
}

/* /echo: the body back.  /defer, /slowdefer: the body back from another
 * thread after 50 or 300 ms.  /hold: parked until the test answers it.
 * /doc: DOC.  Anything else: 404. */
static void handler(void *ctx, const struct fki_net_request *req, struct fki_net_response *resp)
{
    (void)ctx;
    if (!strcmp(req->path, "/echo")) {
        resp->status = 200;
        resp->body = resp->body_free = copy_body(req);
        resp->body_len = req->body_len;
    } else if (!strcmp(req->path, "/defer") || !strcmp(req->path, "/slowdefer")) {
        struct job *j = calloc(1, sizeof *j);
        CHECK(j);
        j->ms = req->path[1] == 's' ? 300 : 50;
        j->body = copy_body(req);   /* the request is gone once we return */
        j->len = req->body_len;
        j->d = fki_net_defer(req);
        CHECK(j->d);
        __atomic_fetch_add(&outstanding, 1, __ATOMIC_SEQ_CST);
        pthread_t t;
        CHECK(!pthread_create(&t, NULL, complete_later, j));
        pthread_detach(t);
    } else if (!strcmp(req->path, "/hold")) {
        fki_net_deferred *d = fki_net_defer(req);
        CHECK(d);
        pthread_mutex_lock(&held_mu);
        CHECK(held_n < MANY);
        held[held_n++] = d;
        pthread_cond_broadcast(&held_cv);
        pthread_mutex_unlock(&held_mu);
    } else if (!strcmp(req->path, "/doc")) {
        resp->status = 200;
        resp->body = DOC;
        resp->body_len = sizeof DOC - 1;
    } else {
        resp->status = 404;
        resp->body = "not found\n";
        resp->body_len = 10;
    }
}

static void wait_outstanding(void)
{
    uint64_t t0 = now_ms();
    while (__atomic_load_n(&outstanding, __ATOMIC_SEQ_CST)) {
        assert_true(now_ms() - t0 < READ_TIMEOUT_MS);
        sleep_ms(10);
    }
}

/* ---- the server ------------------------------------------------------------- */

struct env {
    fki_net_server *s;
    uint16_t port;
};

static struct env *start(size_t max_body, unsigned conn_limit, unsigned timeout_s)
{
    struct env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    struct fki_net_server_config cfg = {
        .listen = "127.0.0.1:0", .max_body = max_body, .conn_limit = conn_limit,
        .timeout_s = timeout_s, .threads = 2, .handler = handler,
    };
    assert_int_equal(fki_net_server_start(&e->s, &cfg), FK_OK);
    e->port = fki_net_server_port(e->s);
    assert_true(e->port != 0);
    return e;
}

static void stop(struct env *e)
{
    wait_outstanding();
    fki_net_server_stop(e->s);
    free(e);
}

/* ---- the client ------------------------------------------------------------- */

struct cli {
    int fd;
    size_t len;
    char buf[16384];
};

struct resp {
    int status;
    int close;           /* "Connection: close" */
    long content_length; /* -1 without the field */
    size_t body_len;
    char body[8192];
};

static struct cli *cli_open(uint16_t port)
{
    struct cli *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(c->fd >= 0);
    struct timeval tv = {.tv_sec = READ_TIMEOUT_MS / 1000};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return c;
}

static void cli_close(struct cli *c)
{
    close(c->fd);
    free(c);
}

static void cli_send(struct cli *c, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t k = send(c->fd, b, n, MSG_NOSIGNAL);
        assert_true(k > 0);
        b += k;
        n -= (size_t)k;
    }
}

static void cli_sends(struct cli *c, const char *s)
{
    cli_send(c, s, strlen(s));
}

/* A send to a connection the server may already have refused: errors are
 * left to the read that follows. */
static void cli_try_sends(struct cli *c, const char *s)
{
    ssize_t k = send(c->fd, s, strlen(s), MSG_NOSIGNAL);
    (void)k;
}

/* More bytes into c->buf: 1, 0 at EOF or reset, -1 on timeout. */
static int cli_fill(struct cli *c)
{
    assert_true(c->len < sizeof c->buf);
    ssize_t k = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (k > 0) {
        c->len += (size_t)k;
        return 1;
    }
    if (k == 0 || errno == ECONNRESET)
        return 0;
    return -1;
}

/* Read one response (head, then Content-Length bytes unless head_only).
 * Returns the status, 0 when the server closed first, -1 on timeout. */
static int cli_read(struct cli *c, struct resp *r, int head_only)
{
    memset(r, 0, sizeof *r);
    char *end;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4))) {
        int k = cli_fill(c);
        if (k <= 0)
            return k;
    }
    size_t hl = (size_t)(end - c->buf) + 4;
    assert_true(hl > 13 && !memcmp(c->buf, "HTTP/1.1 ", 9) && c->buf[12] == ' ');
    r->status = atoi(c->buf + 9);
    r->content_length = -1;
    for (char *l = memmem(c->buf, hl, "\r\n", 2) + 2; l < end;) {
        char *e = memmem(l, (size_t)(end + 2 - l), "\r\n", 2);
        if (!strncasecmp(l, "Content-Length: ", 16))
            r->content_length = strtol(l + 16, NULL, 10);
        else if (!strncasecmp(l, "Connection: close\r", 18))
            r->close = 1;
        l = e + 2;
    }
    size_t bl = head_only || r->content_length < 0 ? 0 : (size_t)r->content_length;
    assert_true(bl <= sizeof r->body);
    while (c->len < hl + bl) {
        int k = cli_fill(c);
        if (k <= 0)
            return k;
    }
    memcpy(r->body, c->buf + hl, bl);
    r->body_len = bl;
    memmove(c->buf, c->buf + hl + bl, c->len - hl - bl);
    c->len -= hl + bl;
    return r->status;
}

/* Expect the server to close within ms without sending anything more;
 * returns how long it took. */
static uint64_t cli_expect_close(struct cli *c, unsigned ms)
{
    uint64_t t0 = now_ms();
    for (;;) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int left = (int)(ms - (now_ms() - t0));
        if (left <= 0 || poll(&p, 1, left) <= 0)
            fail_msg("the server did not close within %u ms", ms);
        size_t before = c->len;
        int k = cli_fill(c);
        if (k == 0) {
            assert_int_equal(c->len, before);
            return now_ms() - t0;
        }
        if (k > 0)
            fail_msg("unexpected bytes before the close: %.*s", (int)(c->len - before),
                     c->buf + before);
    }
}

/* A POST with a body, and its answer. */
static char *post_req(const char *path, const char *body, const char *extra)
{
    char *s;
    assert_true(asprintf(&s, "POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n%s\r\n%s",
                         path, strlen(body), extra ? extra : "", body) > 0);
    return s;
}

static void expect_answer(struct cli *c, int status, const char *body)
{
    struct resp r;
    int got = cli_read(c, &r, 0);
    if (got != status)
        fail_msg("status %d, want %d", got, status);
    assert_int_equal(r.content_length, (long)strlen(body));
    assert_int_equal(r.body_len, strlen(body));
    assert_memory_equal(r.body, body, r.body_len);
}

static void post(struct cli *c, const char *path, const char *body)
{
    char *s = post_req(path, body, NULL);
    cli_sends(c, s);
    free(s);
    expect_answer(c, 200, body);
}

/* ---- tests -------------------------------------------------------------------- */

/* RFC 9112 9.3: an HTTP/1.1 connection persists; answers in order. */
static void test_keep_alive(void **state)
{
    (void)state;
    struct env *e = start(0, 0, 0);
    struct cli *c = cli_open(e->port);
    post(c, "/echo", "one");
    post(c, "/defer", "two");
    post(c, "/echo", "three");
    cli_sends(c, "GET /nothing HTTP/1.1\r\n\r\n");
    struct resp r;
    assert_int_equal(cli_read(c, &r, 0), 404);
    assert_false(r.close);
    /* Connection: close is honoured: the answer says so, then EOF. */
    cli_sends(c, "GET /doc HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_int_equal(cli_read(c, &r, 0), 200);
    assert_true(r.close);
    cli_expect_close(c, 2000);
    cli_close(c);
    /* HTTP/1.0 without keep-alive: one answer, then the close. */
    c = cli_open(e->port);
    cli_sends(c, "GET /doc HTTP/1.0\r\n\r\n");
    assert_int_equal(cli_read(c, &r, 0), 200);
    assert_true(r.close);
    cli_expect_close(c, 2000);
    cli_close(c);
    stop(e);
}

/* RFC 9112 9.3.2: pipelined requests are answered in the order received,
 * also when the first answer is deferred and the second is immediate. */
static void test_pipelining(void **state)
{
    (void)state;
    struct env *e = start(0, 0, 0);
    struct cli *c = cli_open(e->port);
    const char *order[][2] = {{"/echo", "/echo"}, {"/defer", "/echo"}, {"/slowdefer", "/defer"},
                              {"/echo", "/defer"}};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        char *a = post_req(order[i][0], "first", NULL), *b = post_req(order[i][1], "second", NULL);
        char both[512];
        snprintf(both, sizeof both, "%s%s", a, b);
        cli_sends(c, both);   /* one send: both requests in one segment */
        free(a);
        free(b);
        expect_answer(c, 200, "first");
        expect_answer(c, 200, "second");
    }
    /* Three at once, with a HEAD in the middle. */
    cli_sends(c, "GET /doc HTTP/1.1\r\n\r\nHEAD /doc HTTP/1.1\r\n\r\nGET /doc HTTP/1.1\r\n\r\n");
    expect_answer(c, 200, DOC);
    struct resp r;
    assert_int_equal(cli_read(c, &r, 1), 200);
    expect_answer(c, 200, DOC);
    cli_close(c);
    stop(e);
}

/* RFC 9110 9.3.2: HEAD gets GET's head (Content-Length included) and no
 * content: the next bytes on the connection are the next answer. */
static void test_head(void **state)
{
    (void)state;
    struct env *e = start(0, 0, 0);
    struct cli *c = cli_open(e->port);
    cli_sends(c, "HEAD /doc HTTP/1.1\r\n\r\n");
    struct resp r;
    assert_int_equal(cli_read(c, &r, 1), 200);
    assert_int_equal(r.content_length, (long)strlen(DOC));
    assert_int_equal(c->len, 0);
    /* Nothing else arrives until we ask again. */
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 200), 0);
    cli_sends(c, "GET /doc HTTP/1.1\r\n\r\n");
    expect_answer(c, 200, DOC);
    cli_close(c);
    stop(e);
}

/* RFC 9110 10.1.1: with Expect: 100-continue and no body yet, the server
 * sends 100 (Continue), then the final answer once the body is in. */
static void test_expect_continue(void **state)
{
    (void)state;
    struct env *e = start(0, 0, 0);
    struct cli *c = cli_open(e->port);
    cli_sends(c, "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    struct resp r;
    assert_int_equal(cli_read(c, &r, 0), 100);
    assert_int_equal(c->len, 0);
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 100), 0);   /* no final answer before the body */
    cli_sends(c, "hello");
    expect_answer(c, 200, "hello");
    /* A body sent along with the head needs no 100: the final answer comes
     * straight away (RFC 9110 10.1.1 lets the server omit it). */
    char *s = post_req("/echo", "again", "Expect: 100-continue\r\n");
    cli_sends(c, s);
    free(s);
    expect_answer(c, 200, "again");
    cli_close(c);
    stop(e);
}

/* RFC 9110 15.5.14: a body over the cap is 413, and the connection closes.
 * A body slightly over is read and dropped so the client reads the 413
 * instead of a reset; with Expect: 100-continue the 413 comes at once,
 * without a 100 (RFC 9110 10.1.1). */
static void test_body_cap(void **state)
{
    (void)state;
    enum { CAP = 1000 };
    struct env *e = start(CAP, 0, 0);
    char *body = malloc(CAP + 2);
    assert_non_null(body);
    memset(body, 'b', CAP + 1);
    body[CAP + 1] = 0;

    /* Over by one, the body sent after the head and alongside it. */
    for (int split = 0; split < 2; split++) {
        struct cli *c = cli_open(e->port);
        char head[128];
        snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nContent-Length: %d\r\n\r\n", CAP + 1);
        if (split) {
            cli_sends(c, head);
            sleep_ms(50);
            cli_send(c, body, 600);
            sleep_ms(50);
            cli_send(c, body, CAP + 1 - 600);
        } else {
            char *all = malloc(strlen(head) + CAP + 2);
            assert_non_null(all);
            strcpy(all, head);
            strcat(all, body);
            cli_sends(c, all);
            free(all);
        }
        struct resp r;
        assert_int_equal(cli_read(c, &r, 0), 413);
        assert_true(r.close);
        cli_expect_close(c, 2000);
        cli_close(c);
    }

    /* With Expect: 413 and the close, no 100 first. */
    struct cli *c = cli_open(e->port);
    char head[128];
    snprintf(head, sizeof head,
             "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", CAP + 1);
    cli_sends(c, head);
    struct resp r;
    assert_int_equal(cli_read(c, &r, 0), 413);
    cli_expect_close(c, 2000);
    cli_close(c);

    /* Exactly the cap is served. */
    c = cli_open(e->port);
    body[CAP] = 0;
    post(c, "/echo", body);
    cli_close(c);
    free(body);
    stop(e);
}

/* Malformed heads: 400, then the close (RFC 9112 3, 5); Transfer-Encoding
 * is not implemented: 501 and the close (RFC 9112 6.1); also a head with
 * bare LF line ends, answered without waiting for the idle timeout. */
static void test_malformed(void **state)
{
    (void)state;
    struct env *e = start(0, 0, 30);
    static const struct {
        const char *in;
        int status;
    } t[] = {
        {"GET x HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
        {"GET / HTTP/1.1\nHost: x\n\n", 400},
        {"POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
        {"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501},
        {"GET / HTTP/2.0\r\n\r\n", 505},
        {"POST /echo HTTP/1.1\r\nExpect: 200-ok\r\nContent-Length: 0\r\n\r\n", 417},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct cli *c = cli_open(e->port);
        /* A good request first: the bad one ends a live connection. */
        post(c, "/echo", "ok");
        cli_sends(c, t[i].in);
        struct resp r;
        int got = cli_read(c, &r, 0);
        if (got != t[i].status)
            fail_msg("request %zu: status %d, want %d", i, got, t[i].status);
        assert_true(r.close);
        cli_expect_close(c, 2000);
        cli_close(c);
    }
    /* An oversized head: 431 and the close. */
    struct cli *c = cli_open(e->port);
    char *big = malloc(9000);
    assert_non_null(big);
    memset(big, 'a', 8999);
    big[8999] = 0;
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    cli_send(c, big, 8192);
    free(big);
    struct resp r;
    assert_int_equal(cli_read(c, &r, 0), 431);
    cli_expect_close(c, 2000);
    cli_close(c);
    stop(e);
}

/* A client gone while its answer is deferred: the answer is dropped, the
 * connection freed (the sanitizer build checks for leaks) and its slot
 * given back (with a limit of 2, two fresh connections still work). */
static void test_gone_while_deferred(void **state)
{
    (void)state;
    struct env *e = start(0, 2, 0);
    for (int rst = 0; rst < 2; rst++) {
        struct cli *c = cli_open(e->port);
        char *s = post_req("/slowdefer", "lost", NULL);
        cli_sends(c, s);
        free(s);
        sleep_ms(50);   /* the request is in and deferred */
        if (rst) {
            struct linger l = {.l_onoff = 1, .l_linger = 0};
            setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);   /* close with RST */
        }
        cli_close(c);
    }
    wait_outstanding();
    uint64_t t0 = now_ms();
    for (;;) {
        /* The server frees the connections after their answers: retry
         * until both slots are free, within bounds. */
        struct cli *a = cli_open(e->port), *b = cli_open(e->port);
        char *sa = post_req("/echo", "x", NULL), *sb = post_req("/defer", "after", NULL);
        cli_try_sends(a, sa);
        cli_try_sends(b, sb);
        free(sa);
        free(sb);
        struct resp ra, rb;
        int ga = cli_read(a, &ra, 0), gb = cli_read(b, &rb, 0);
        cli_close(a);
        cli_close(b);
        if (ga == 200 && gb == 200) {
            assert_int_equal(rb.body_len, 5);
            assert_memory_equal(rb.body, "after", 5);
            break;
        }
        /* Refused (closed unanswered) while a slot is still held. */
        assert_true(ga == 0 || gb == 0);
        assert_true(now_ms() - t0 < 3000);
        sleep_ms(100);
    }
    stop(e);
}

/* With timeout_s = 1: an idle connection is closed after about a second
 * (the sweep runs once a second: within 3 s), and a slowloris client
 * trickling one head byte every 300 ms is cut off just as soon: the head
 * must arrive within the timeout, not each byte. */
static void test_timeouts(void **state)
{
    (void)state;
    struct env *e = start(0, 0, 1);
    struct cli *c = cli_open(e->port);
    post(c, "/echo", "hi");
    uint64_t idle = cli_expect_close(c, 3500);
    assert_true(idle >= 900);
    cli_close(c);

    /* Never a byte: closed too. */
    c = cli_open(e->port);
    idle = cli_expect_close(c, 3500);
    assert_true(idle >= 900);
    cli_close(c);

    c = cli_open(e->port);
    const char *trickle = "GET /doc HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    uint64_t t0 = now_ms();
    int closed = 0;
    for (size_t i = 0; trickle[i] && !closed; i++) {
        if (send(c->fd, trickle + i, 1, MSG_NOSIGNAL) != 1) {
            closed = 1;
            break;
        }
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, 300) > 0) {
            size_t before = c->len;
            int k = cli_fill(c);
            if (k > 0)
                fail_msg("an answer to half a head: %.*s", (int)(c->len - before), c->buf);
            closed = 1;
        }
        if (now_ms() - t0 > 4000)
            break;
    }
    uint64_t took = now_ms() - t0;
    if (!closed)
        fail_msg("a slowloris client was still connected after %llu ms",
                 (unsigned long long)took);
    assert_true(took < 3500);
    cli_close(c);

    /* The server still serves. */
    c = cli_open(e->port);
    post(c, "/echo", "alive");
    cli_close(c);
    stop(e);
}

/* conn_limit = 4: a fifth connection is closed unanswered; the four others
 * still work, and a freed slot is taken again. */
static void test_conn_limit(void **state)
{
    (void)state;
    struct env *e = start(0, 4, 0);
    struct cli *c[4];
    for (int i = 0; i < 4; i++) {
        c[i] = cli_open(e->port);
        post(c[i], "/echo", "in");
    }
    struct cli *fifth = cli_open(e->port);   /* the kernel accepts; the server closes */
    cli_try_sends(fifth, "GET /doc HTTP/1.1\r\n\r\n");
    cli_expect_close(fifth, 2000);
    cli_close(fifth);
    for (int i = 0; i < 4; i++)
        post(c[i], "/echo", "still");
    cli_close(c[3]);
    uint64_t t0 = now_ms();
    for (;;) {
        struct cli *n = cli_open(e->port);
        cli_try_sends(n, "GET /doc HTTP/1.1\r\n\r\n");
        struct resp r;
        int got = cli_read(n, &r, 0);
        cli_close(n);
        if (got == 200)
            break;
        assert_int_equal(got, 0);   /* refused while the slot is still held */
        assert_true(now_ms() - t0 < 3000);
        sleep_ms(50);
    }
    for (int i = 0; i < 3; i++)
        cli_close(c[i]);
    stop(e);
}

/* MANY connections each park a request; one thread stages every answer,
 * then releases them all; every client gets its own. */
static void test_many_deferred(void **state)
{
    (void)state;
    struct env *e = start(0, 0, 0);
    struct cli **c = calloc(MANY, sizeof *c);
    assert_non_null(c);
    held_n = 0;
    for (int i = 0; i < MANY; i++) {
        c[i] = cli_open(e->port);
        char b[16];
        snprintf(b, sizeof b, "%d", i);
        char *s = post_req("/hold", b, NULL);
        cli_sends(c[i], s);
        free(s);
    }
    pthread_mutex_lock(&held_mu);
    while (held_n < MANY) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += READ_TIMEOUT_MS / 1000;
        int rc = pthread_cond_timedwait(&held_cv, &held_mu, &ts);
        if (rc)
            fail_msg("only %d of %d requests arrived", held_n, MANY);
    }
    pthread_mutex_unlock(&held_mu);
    /* Nobody is answered before the release. */
    struct pollfd p = {.fd = c[0]->fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 50), 0);
    /* Handle i is answered "ok-<i>"; every client must get one of them,
     * and no two the same. */
    char *body[MANY];
    for (int i = 0; i < MANY; i++) {
        assert_true(asprintf(&body[i], "ok-%d", i) > 0);
        struct fki_net_response r = {.status = 201, .body = body[i], .body_len = strlen(body[i])};
        fki_net_stage(held[i], &r);
    }
    for (int i = 0; i < MANY; i++)
        fki_net_release(held[i]);
    int *seen = calloc(MANY, sizeof *seen);
    assert_non_null(seen);
    for (int i = 0; i < MANY; i++) {
        struct resp r;
        assert_int_equal(cli_read(c[i], &r, 0), 201);
        assert_true(r.body_len > 3 && r.body_len < 8 && !memcmp(r.body, "ok-", 3));
        r.body[r.body_len] = 0;
        int k = atoi(r.body + 3);
        assert_true(k >= 0 && k < MANY);
        assert_false(seen[k]);
        seen[k] = 1;
        cli_close(c[i]);
    }
    for (int i = 0; i < MANY; i++)
        free(body[i]);
    free(seen);
    free(c);
    stop(e);
}

/* Stopping with connections open, idle or mid-head, returns promptly
 * (no wait for the idle timeout) and closes them all. */
static void test_stop(void **state)
{
    (void)state;
    struct env *e = start(0, 0, 30);
    struct cli *c[8];
    for (int i = 0; i < 8; i++) {
        c[i] = cli_open(e->port);
        if (i % 3 == 0)
            post(c[i], "/echo", "x");
        else if (i % 3 == 1)
            cli_sends(c[i], "GET /doc HTTP/1.1\r\nHos");
    }
    sleep_ms(100);   /* every connection accepted */
    uint64_t t0 = now_ms();
    stop(e);
    uint64_t took = now_ms() - t0;
    if (took > 500)
        fail_msg("stop took %llu ms", (unsigned long long)took);
    for (int i = 0; i < 8; i++) {
        cli_expect_close(c[i], 1000);
        cli_close(c[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_expect_continue),
        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_gone_while_deferred),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_conn_limit),
        cmocka_unit_test(test_many_deferred),
        cmocka_unit_test(test_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
