/*
 * server.c - fairkey's HTTP/1.1 server: a few worker threads, each with its
 * own epoll set over a shared listening socket; strict request parsing
 * (http.c); keep-alive; bounded heads and bodies; idle timeouts; and
 * deferred answers that cost no thread and no system call while they wait.
 *
 * A connection belongs to the worker that accepted it and is touched only
 * by that worker, with one exception: a deferred answer.  The handler calls
 * fki_net_defer(); the connection then sits in the worker's epoll set with
 * nothing to do (the client waits for its answer).  Any thread stages the
 * answer (builds the response bytes) and releases it: the connection goes
 * on its worker's ready list, and the worker is woken through an eventfd
 * only when that list was empty, so a batch of answers costs one wake-up
 * per worker, and each answer one send().  (libmicrohttpd, used before,
 * took two epoll_ctl calls and an eventfd write per suspended request.)
 *
 * Interest sets are level-triggered and stay EPOLLIN in the common path:
 * read a request, answer it, read the next.  Only a client that sends while
 * its answer is pending, or one that does not read its answer, makes the
 * worker change its interest set.
 */
#define _GNU_SOURCE   /* accept4, pthread_setname_np */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "net.h"

/* Input buffer of an idle connection; it grows to head + body for one
 * request and shrinks back after it. */
#define IN_INITIAL 4096u
#define IN_KEEP (16u * 1024u)
/* Room for the response head we write. */
#define HEAD_OUT_MAX 1024u
/* Out of file descriptors, a worker stops accepting for this long. */
#define ACCEPT_PAUSE_MS 100u
/* Accepts per wake-up, so one worker does not starve its connections. */
#define ACCEPT_BURST 64
#define MAX_EVENTS 256
/* Most worker threads (agents block in handlers and ask for 8). */
#define MAX_THREADS 64u
/* A body larger than the cap is read and dropped, up to this much, so the
 * client gets the 413 instead of a reset; beyond it the connection closes. */
#define DISCARD_MAX (1u << 20)

enum cstate {
    C_READ,       /* reading a request head or body */
    C_DEFERRED,   /* the handler deferred; the answer comes from elsewhere */
    C_WRITE,      /* sending the answer */
};

struct worker;

/* One connection; it is also the deferred-answer handle. */
struct fki_net_deferred {
    int fd;
    struct worker *w;
    enum cstate state;
    unsigned events;              /* current epoll interest */
    char *in;
    size_t in_len, in_cap;
    struct fki_http_head head;
    int have_head;
    uint64_t discard;             /* body bytes still to drop (oversized body) */
    int deferred_once;
    int close_after;              /* close once the answer is written */
    int head_only;                /* HEAD: no body in the answer */
    int gone;                     /* the peer went away while deferred */
    int dead;                     /* closed; freed at the end of the loop turn */
    char *out;
    size_t out_len, out_off;
    uint64_t last_ms;
    char ip[INET6_ADDRSTRLEN];
    struct fki_net_deferred *prev, *next;   /* the worker's connections */
    struct fki_net_deferred *ready_next;    /* the worker's ready list */
};
typedef struct fki_net_deferred conn;

struct worker {
    struct fki_net_server *s;
    pthread_t thr;
    int started;
    int ep, evfd;
    pthread_mutex_t mu;           /* the ready list */
    conn *ready;
    conn *conns;                  /* owned by the worker thread */
    conn *dead;                   /* closed this turn: events may still name them */
    uint64_t now_ms;
    uint64_t accept_paused_until;   /* out of descriptors: not accepting until then */
    time_t date_sec;
    char date[40];
};

struct fki_net_server {
    int lfd;
    fki_net_handler handler;
    void *ctx;
    size_t max_body;
    unsigned conn_limit;
    unsigned timeout_ms;
    unsigned nworkers;
    struct worker *w;
    unsigned nconn;               /* atomic */
    int stopping;                 /* atomic */
    uint64_t accepted;            /* atomic: connections accepted */
    uint64_t responses[5];        /* atomic: answers by status class 1xx..5xx */
    uint16_t port;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* RFC 9110 6.6.1: an origin server with a clock sends Date. */
static const char *http_date(struct worker *w)
{
    time_t t = time(NULL);
    if (t != w->date_sec) {
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(w->date, sizeof w->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        w->date_sec = t;
    }
    return w->date;
}

static void set_events(conn *c, unsigned ev)
{
    if (c->events == ev)
        return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(c->w->ep, EPOLL_CTL_MOD, c->fd, &e);
    c->events = ev;
}

/* Close now, free at the end of the loop turn: a later event of the same
 * epoll_wait batch may still point at c. */
static void conn_free(conn *c)
{
    struct worker *w = c->w;
    if (c->dead)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->fd >= 0)
        close(c->fd);   /* also leaves the epoll set */
    c->fd = -1;
    c->dead = 1;
    c->next = w->dead;
    w->dead = c;
    __atomic_fetch_sub(&w->s->nconn, 1, __ATOMIC_RELAXED);
}

static void reap(struct worker *w)
{
    while (w->dead) {
        conn *c = w->dead;
        w->dead = c->next;
        free(c->in);
        free(c->out);
        free(c);
    }
}

/* Build the whole answer (head and body) in c->out. */
static int build_answer(conn *c, const struct fki_net_response *r, const char *date)
{
    const char *names[FKI_NET_MAX_EXTRA_HEADERS], *values[FKI_NET_MAX_EXTRA_HEADERS];
    size_t n = 0;
    for (; n < FKI_NET_MAX_EXTRA_HEADERS && r->extra_name[n]; n++) {
        names[n] = r->extra_name[n];
        values[n] = r->extra_value[n] ? r->extra_value[n] : "";
    }
    int status = (r->status >= 100 && r->status <= 599) ? r->status : 500;
    __atomic_fetch_add(&c->w->s->responses[status / 100 - 1], 1, __ATOMIC_RELAXED);
    size_t blen = r->body_len, send_body = c->head_only ? 0 : blen;
    char *out = malloc(HEAD_OUT_MAX + send_body);
    if (!out)
        return -1;
    size_t hl = fki_http_write_head(out, HEAD_OUT_MAX, status, date,
                                    r->content_type ? r->content_type
                                                    : "text/plain; charset=utf-8",
                                    blen, r->cache_control, names, values, n, !c->close_after);
    if (!hl) {
        free(out);
        return -1;
    }
    if (send_body)
        memcpy(out + hl, r->body, send_body);
    free(c->out);
    c->out = out;
    c->out_len = hl + send_body;
    c->out_off = 0;
    return 0;
}

static void on_input(conn *c);

/* The request is answered: drop it from the input and read the next. */
static void next_request(conn *c)
{
    size_t used = c->have_head ? c->head.head_len + (size_t)c->head.content_length : 0;
    if (used > c->in_len)
        used = c->in_len;
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    c->have_head = 0;
    c->head_only = 0;
    if (c->in_cap > IN_KEEP && c->in_len < IN_INITIAL) {
        char *nb = realloc(c->in, IN_INITIAL);
        if (nb) {
            c->in = nb;
            c->in_cap = IN_INITIAL;
        }
    }
    c->state = C_READ;
    set_events(c, EPOLLIN);
    if (c->in_len)
        on_input(c);   /* a pipelined request already here */
}

/* Send what is left of the answer; returns 0 if c is still alive. */
static int try_write(conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_events(c, EPOLLOUT);
            return 0;
        }
        conn_free(c);
        return -1;
    }
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    c->last_ms = c->w->now_ms;
    if (c->close_after) {
        conn_free(c);
        return -1;
    }
    next_request(c);
    return 0;
}

/* Answer now, from the worker thread. */
static void answer(conn *c, const struct fki_net_response *r)
{
    if (build_answer(c, r, http_date(c->w))) {
        conn_free(c);
        return;
    }
    c->state = C_WRITE;
    try_write(c);
}

static void answer_error(conn *c, int status, const char *msg)
{
    c->close_after = 1;
    struct fki_net_response r = {.status = status, .body = msg, .body_len = strlen(msg)};
    answer(c, &r);
}

static void dispatch(conn *c)
{
    struct fki_net_server *s = c->w->s;
    struct fki_http_head *h = &c->head;
    c->close_after = !h->keep_alive || __atomic_load_n(&s->stopping, __ATOMIC_RELAXED);
    c->head_only = !strcmp(h->method, "HEAD");
    struct fki_net_request req = {
        .method = h->method, .path = h->path,
        .body = h->content_length ? (const uint8_t *)c->in + h->head_len : NULL,
        .body_len = (size_t)h->content_length, .remote_ip = c->ip, .internal = c,
    };
    struct fki_net_response resp;
    memset(&resp, 0, sizeof resp);
    c->deferred_once = 0;
    c->state = C_READ;
    s->handler(s->ctx, &req, &resp);
    if (c->deferred_once) {
        /* From here another thread may stage and release the answer at any
         * moment; the release only queues c for this worker, which sends
         * it on a later turn of its loop.  Touch nothing else now. */
        return;
    }
    if (build_answer(c, &resp, http_date(c->w))) {
        free(resp.body_free);
        conn_free(c);
        return;
    }
    free(resp.body_free);
    c->state = C_WRITE;
    try_write(c);
}

/* Make room for need bytes of input; the parsed head points into the
 * buffer, so its pointers move with it. */
static int in_reserve(conn *c, size_t need)
{
    if (need <= c->in_cap)
        return 0;
    size_t cap = c->in_cap ? c->in_cap : IN_INITIAL;
    while (cap < need)
        cap *= 2;
    struct fki_http_head *h = &c->head;
    size_t path_off = 0, query_off = 0, name_off[FKI_HTTP_MAX_FIELDS], value_off[FKI_HTTP_MAX_FIELDS];
    if (c->have_head) {
        path_off = (size_t)(h->path - c->in);
        query_off = h->query ? (size_t)(h->query - c->in) : 0;
        for (size_t i = 0; i < h->nfields; i++) {
            name_off[i] = (size_t)(h->field[i].name - c->in);
            value_off[i] = (size_t)(h->field[i].value - c->in);
        }
    }
    char *nb = realloc(c->in, cap);
    if (!nb)
        return -1;
    c->in = nb;
    c->in_cap = cap;
    if (c->have_head) {
        h->path = nb + path_off;
        if (h->query)
            h->query = nb + query_off;
        for (size_t i = 0; i < h->nfields; i++) {
            h->field[i].name = nb + name_off[i];
            h->field[i].value = nb + value_off[i];
        }
    }
    return 0;
}

/* Act on the bytes in c->in: a head, a body, or a body being dropped. */
static void on_input(conn *c)
{
    struct fki_net_server *s = c->w->s;
    if (c->discard) {
        size_t n = c->in_len < c->discard ? c->in_len : (size_t)c->discard;
        memmove(c->in, c->in + n, c->in_len - n);
        c->in_len -= n;
        c->discard -= n;
        if (!c->discard)
            answer_error(c, 413, "request body too large\n");
        return;
    }
    if (!c->have_head) {
        int rc = fki_http_parse_head(c->in, c->in_len, &c->head);
        if (rc < 0)
            return;   /* more to come */
        if (rc > 0) {
            answer_error(c, rc, rc == 431 ? "request head too large\n"
                                : rc == 501 ? "Transfer-Encoding is not supported; send Content-Length\n"
                                : rc == 505 ? "HTTP/1.1 only\n"
                                : rc == 417 ? "unsupported Expect\n"
                                            : "malformed request\n");
            return;
        }
        c->have_head = 1;
        if (c->head.content_length > s->max_body) {
            /* Drop a moderate body so the client reads the 413; refuse a
             * huge one at once.  With Expect, the client sends nothing. */
            uint64_t have = c->in_len - c->head.head_len;
            if (c->head.expect_continue || c->head.content_length > DISCARD_MAX) {
                answer_error(c, 413, "request body too large\n");
                return;
            }
            c->discard = c->head.content_length - (have < c->head.content_length ? have : c->head.content_length);
            c->in_len = 0;
            c->have_head = 0;
            if (!c->discard)
                answer_error(c, 413, "request body too large\n");
            return;
        }
        if (in_reserve(c, c->head.head_len + (size_t)c->head.content_length)) {
            answer_error(c, 503, "server out of memory\n");
            return;
        }
        if (c->head.expect_continue && c->head.content_length &&
            c->in_len == c->head.head_len) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            if (send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL | MSG_DONTWAIT) !=
                (ssize_t)(sizeof cont - 1)) {
                conn_free(c);
                return;
            }
        }
    }
    if (c->in_len - c->head.head_len < c->head.content_length)
        return;   /* the body is still coming */
    dispatch(c);
}

static void on_readable(conn *c)
{
    size_t want = c->have_head ? c->head.head_len + (size_t)c->head.content_length
                  : c->in_len < IN_INITIAL ? IN_INITIAL : FKI_HTTP_HEAD_MAX;
    if (c->discard || want < IN_INITIAL)
        want = IN_INITIAL;
    if (in_reserve(c, want)) {
        conn_free(c);
        return;
    }
    size_t had = c->in_len;
    ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        conn_free(c);   /* closed or reset; a half-sent request is dropped */
        return;
    }
    c->in_len += (size_t)n;
    /* The clock restarts at a request's first byte, not at every byte: the
     * whole request must arrive within the timeout (a client trickling a
     * byte at a time is cut off). */
    if (!had && !c->discard)
        c->last_ms = c->w->now_ms;
    on_input(c);
}

static void accept_some(struct worker *w)
{
    struct fki_net_server *s = w->s;
    for (int k = 0; k < ACCEPT_BURST; k++) {
        struct sockaddr_storage sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(s->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* The pending connection stays queued and the listening
                 * socket readable: level-triggered, this worker would spin.
                 * Leave the socket alone for a moment instead. */
                epoll_ctl(w->ep, EPOLL_CTL_DEL, s->lfd, NULL);
                w->accept_paused_until = w->now_ms + ACCEPT_PAUSE_MS;
            }
            return;   /* EAGAIN, or a transient error: next wake-up */
        }
        if (__atomic_fetch_add(&s->nconn, 1, __ATOMIC_RELAXED) >= s->conn_limit ||
            __atomic_load_n(&s->stopping, __ATOMIC_RELAXED)) {
            __atomic_fetch_sub(&s->nconn, 1, __ATOMIC_RELAXED);
            close(fd);
            continue;
        }
        __atomic_fetch_add(&s->accepted, 1, __ATOMIC_RELAXED);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = calloc(1, sizeof *c);
        if (!c) {
            __atomic_fetch_sub(&s->nconn, 1, __ATOMIC_RELAXED);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->w = w;
        c->state = C_READ;
        c->last_ms = w->now_ms;
        if (sa.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, c->ip, sizeof c->ip);
        else if (sa.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, c->ip, sizeof c->ip);
        c->next = w->conns;
        if (w->conns)
            w->conns->prev = c;
        w->conns = c;
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
        c->events = EPOLLIN;
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &e)) {
            conn_free(c);
            continue;
        }
    }
}

/* Answers released by other threads. */
static void take_ready(struct worker *w)
{
    uint64_t v;
    if (read(w->evfd, &v, sizeof v) < 0 && errno != EAGAIN)
        return;
    pthread_mutex_lock(&w->mu);
    conn *list = w->ready;
    w->ready = NULL;
    pthread_mutex_unlock(&w->mu);
    while (list) {
        conn *c = list;
        list = c->ready_next;
        c->ready_next = NULL;
        if (c->gone || !c->out) {
            conn_free(c);   /* nobody to answer, or no answer could be built */
            continue;
        }
        c->state = C_WRITE;
        c->last_ms = w->now_ms;   /* the write's own clock: a batch may take long */
        try_write(c);
    }
}

/* Drop connections idle (or stuck sending) past the timeout. */
static void sweep(struct worker *w)
{
    unsigned t = w->s->timeout_ms;
    for (conn *c = w->conns, *n; c; c = n) {
        n = c->next;
        if (c->state != C_DEFERRED && w->now_ms - c->last_ms > t)
            conn_free(c);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct fki_net_server *s = w->s;
    pthread_setname_np(pthread_self(), "fk-http");
    struct epoll_event evs[MAX_EVENTS];
    uint64_t last_sweep = mono_ms();
    while (!__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE)) {
        int n = epoll_wait(w->ep, evs, MAX_EVENTS, w->accept_paused_until ? 100 : 1000);
        w->now_ms = mono_ms();
        if (w->accept_paused_until && w->now_ms >= w->accept_paused_until) {
            struct epoll_event le = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = s};
            if (!epoll_ctl(w->ep, EPOLL_CTL_ADD, s->lfd, &le))
                w->accept_paused_until = 0;
        }
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == (void *)s) {
                accept_some(w);
                continue;
            }
            if (p == (void *)w) {
                take_ready(w);
                continue;
            }
            conn *c = p;
            unsigned ev = evs[i].events;
            if (c->dead)
                continue;
            if (c->state == C_DEFERRED) {
                if (ev & (EPOLLERR | EPOLLHUP)) {
                    /* Gone while its answer is pending: leave the set; the
                     * release frees it. */
                    epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
                    c->gone = 1;
                } else {
                    set_events(c, 0);
                }
                continue;
            }
            if (c->state == C_WRITE) {
                if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                    try_write(c);   /* fails and closes on a dead peer */
                else
                    set_events(c, EPOLLOUT);
                continue;
            }
            on_readable(c);
        }
        reap(w);
        if (w->now_ms - last_sweep >= 1000) {
            sweep(w);
            reap(w);
            last_sweep = w->now_ms;
        }
    }
    take_ready(w);   /* answers released just before the stop still go out */
    reap(w);
    return NULL;
}

/* ---- the handler's side ---------------------------------------------------- */

const char *fki_net_header(const struct fki_net_request *req, const char *name)
{
    /* Values are not NUL-terminated in the buffer: copy into a per-thread
     * slot (valid until the next call on this thread). */
    static __thread char val[FKI_HTTP_HEAD_MAX];
    conn *c = req->internal;
    size_t nl = strlen(name);
    for (size_t i = 0; i < c->head.nfields; i++)
        if (c->head.field[i].name_len == nl &&
            !strncasecmp(c->head.field[i].name, name, nl)) {
            memcpy(val, c->head.field[i].value, c->head.field[i].value_len);
            val[c->head.field[i].value_len] = 0;
            return val;
        }
    return NULL;
}

const char *fki_net_query(const struct fki_net_request *req, const char *key)
{
    /* key=value pairs of the query, not percent-decoded (fairkey's own
     * clients send plain tokens). */
    static __thread char val[FKI_HTTP_HEAD_MAX];
    conn *c = req->internal;
    const char *q = c->head.query;
    size_t len = c->head.query_len, kl = strlen(key);
    for (size_t i = 0; q && i < len;) {
        size_t j = i;
        while (j < len && q[j] != '&')
            j++;
        if (j - i > kl && q[i + kl] == '=' && !memcmp(q + i, key, kl)) {
            memcpy(val, q + i + kl + 1, j - i - kl - 1);
            val[j - i - kl - 1] = 0;
            return val;
        }
        i = j + 1;
    }
    return NULL;
}

fki_net_deferred *fki_net_defer(const struct fki_net_request *req)
{
    conn *c = req->internal;
    if (c->deferred_once || c->state != C_READ)
        return NULL;
    c->deferred_once = 1;
    c->state = C_DEFERRED;
    return c;
}

void fki_net_stage(fki_net_deferred *c, const struct fki_net_response *resp)
{
    /* Date from this thread's clock: the worker's cache is not ours. */
    char date[40];
    struct tm tm;
    time_t t = time(NULL);
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (build_answer(c, resp, date)) {
        free(c->out);
        c->out = NULL;   /* the worker closes the connection */
    }
    free(resp->body_free);
}

void fki_net_release(fki_net_deferred *c)
{
    struct worker *w = c->w;
    pthread_mutex_lock(&w->mu);
    int wake = !w->ready;
    c->ready_next = w->ready;
    w->ready = c;
    pthread_mutex_unlock(&w->mu);
    if (wake) {
        uint64_t one = 1;
        ssize_t r = write(w->evfd, &one, sizeof one);
        (void)r;   /* a full counter still wakes the worker */
    }
}

void fki_net_complete(fki_net_deferred *c, const struct fki_net_response *resp)
{
    fki_net_stage(c, resp);
    fki_net_release(c);
}

/* ---- start and stop -------------------------------------------------------- */

fk_err fki_net_parse_listen(const char *s, char *host, size_t hostcap, uint16_t *port)
{
    const char *colon, *h = s;
    size_t hlen;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return FK_ERR_INVALID;
        h = s + 1;
        hlen = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return FK_ERR_INVALID;
        hlen = (size_t)(colon - s);
        if (memchr(s, ':', hlen))
            return FK_ERR_INVALID;   /* bare IPv6 needs brackets */
    }
    const char *p = colon + 1;
    if (!*p || strlen(p) > 5)
        return FK_ERR_INVALID;
    unsigned long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return FK_ERR_INVALID;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v > 65535 || hlen + 1 > hostcap)
        return FK_ERR_INVALID;
    memcpy(host, h, hlen);
    host[hlen] = 0;
    *port = (uint16_t)v;
    return FK_OK;
}

/* Why the last fki_net_server_start in this thread failed (one line). */
static __thread char start_error[512];

const char *fki_net_server_error(void)
{
    return start_error;
}

/* Say why binding listen failed, and what to do. */
static void bind_error(const char *host, uint16_t port, int err)
{
    int v6 = strchr(host, ':') != NULL;
    char where[280];
    snprintf(where, sizeof where, "%s%.256s%s:%u", v6 ? "[" : "", host[0] ? host : "0.0.0.0",
             v6 ? "]" : "", (unsigned)port);
    switch (err) {
    case EADDRINUSE:
        snprintf(start_error, sizeof start_error,
                 "address %s is already in use (another process listens there); stop it or "
                 "pick another port",
                 where);
        break;
    case EADDRNOTAVAIL:
        snprintf(start_error, sizeof start_error,
                 "address %s is not an address of this machine; listen on one of its addresses "
                 "(or 0.0.0.0)",
                 where);
        break;
    case EACCES:
    case EPERM:
        snprintf(start_error, sizeof start_error,
                 "not allowed to listen on %s (ports below 1024 need privilege); use a port "
                 "above 1023",
                 where);
        break;
    default:
        snprintf(start_error, sizeof start_error, "cannot listen on %s: %s", where,
                 strerror(err));
    }
}

static int listen_socket(const char *host, uint16_t port, uint16_t *bound)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    if (host[0]) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *ai = NULL;
        int gai = getaddrinfo(host, NULL, &hints, &ai);
        if (gai || !ai) {
            snprintf(start_error, sizeof start_error,
                     "host '%.200s' not found (%s); listen on an IP address such as 127.0.0.1",
                     host, gai ? gai_strerror(gai) : "no address");
            return -2;
        }
        memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
        sl = ai->ai_addrlen;
        freeaddrinfo(ai);
    } else {
        ss.ss_family = AF_INET;
        sl = sizeof(struct sockaddr_in);
    }
    if (ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)&ss)->sin_port = htons(port);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(start_error, sizeof start_error, "cannot open a socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 4096)) {
        bind_error(host, port, errno);
        close(fd);
        return -1;
    }
    struct sockaddr_storage got;
    socklen_t gl = sizeof got;
    if (getsockname(fd, (struct sockaddr *)&got, &gl)) {
        close(fd);
        return -1;
    }
    *bound = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                             : ((struct sockaddr_in *)&got)->sin_port);
    return fd;
}

fk_err fki_net_server_start(fki_net_server **out, const struct fki_net_server_config *cfg)
{
    char host[256];
    uint16_t port;
    start_error[0] = 0;
    if (!cfg->handler || fki_net_parse_listen(cfg->listen, host, sizeof host, &port)) {
        snprintf(start_error, sizeof start_error,
                 "bad listen address '%.200s'; use HOST:PORT such as 127.0.0.1:8080",
                 cfg->listen ? cfg->listen : "");
        return FK_ERR_INVALID;
    }
    if (cfg->max_body > FKI_NET_MAX_BODY_CEILING)
        return FK_ERR_INVALID;
    fki_net_server *s = calloc(1, sizeof *s);
    if (!s)
        return FK_ERR_NOMEM;
    s->handler = cfg->handler;
    s->ctx = cfg->ctx;
    s->max_body = cfg->max_body ? cfg->max_body : FKI_NET_DEFAULT_MAX_BODY;
    s->conn_limit = cfg->conn_limit ? cfg->conn_limit : FKI_NET_DEFAULT_CONN_LIMIT;
    s->timeout_ms = 1000u * (cfg->timeout_s ? cfg->timeout_s : FKI_NET_DEFAULT_TIMEOUT_S);
    s->nworkers = cfg->threads ? cfg->threads : FKI_NET_DEFAULT_THREADS;
    if (s->nworkers > MAX_THREADS)
        s->nworkers = MAX_THREADS;
    /* Each connection is a descriptor: make room for the connection limit
     * (the soft limit is often 1,024), up to the hard limit. */
    struct rlimit nofile;
    if (!getrlimit(RLIMIT_NOFILE, &nofile) && nofile.rlim_cur != RLIM_INFINITY &&
        nofile.rlim_cur < (rlim_t)s->conn_limit + 256) {
        rlim_t want = (rlim_t)s->conn_limit + 256;
        nofile.rlim_cur = nofile.rlim_max == RLIM_INFINITY || want < nofile.rlim_max
                              ? want
                              : nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    int lfd = listen_socket(host, port, &s->port);
    if (lfd < 0) {
        free(s);
        return lfd == -2 ? FK_ERR_INVALID : FK_ERR_NET;
    }
    s->lfd = lfd;
    s->w = calloc(s->nworkers, sizeof *s->w);
    if (!s->w) {
        close(lfd);
        free(s);
        return FK_ERR_NOMEM;
    }
    fk_err e = FK_OK;
    for (unsigned i = 0; i < s->nworkers; i++) {
        struct worker *w = &s->w[i];
        w->s = s;
        w->ep = w->evfd = -1;
        pthread_mutex_init(&w->mu, NULL);
    }
    for (unsigned i = 0; i < s->nworkers && !e; i++) {
        struct worker *w = &s->w[i];
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        /* EPOLLEXCLUSIVE: one worker wakes per new connection. */
        struct epoll_event le = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = s};
        struct epoll_event ee = {.events = EPOLLIN, .data.ptr = w};
        if (w->ep < 0 || w->evfd < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, lfd, &le) ||
            epoll_ctl(w->ep, EPOLL_CTL_ADD, w->evfd, &ee))
            e = FK_ERR_NET;
        else if (pthread_create(&w->thr, NULL, worker_main, w))
            e = FK_ERR_NOMEM;
        else
            w->started = 1;
    }
    if (e) {
        fki_net_server_stop(s);
        return e;
    }
    *out = s;
    return FK_OK;
}

void fki_net_server_stats(const fki_net_server *s, struct fki_net_server_stats *st)
{
    for (int i = 0; i < 5; i++)
        st->responses[i] = __atomic_load_n(&s->responses[i], __ATOMIC_RELAXED);
    st->connections = __atomic_load_n(&s->nconn, __ATOMIC_RELAXED);
    st->accepted = __atomic_load_n(&s->accepted, __ATOMIC_RELAXED);
}

uint16_t fki_net_server_port(const fki_net_server *s)
{
    return s->port;
}

void fki_net_server_stop(fki_net_server *s)
{
    if (!s)
        return;
    __atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < s->nworkers; i++) {
        struct worker *w = &s->w[i];
        if (w->evfd >= 0) {
            uint64_t one = 1;
            ssize_t r = write(w->evfd, &one, sizeof one);
            (void)r;
        }
    }
    for (unsigned i = 0; i < s->nworkers; i++) {
        struct worker *w = &s->w[i];
        if (w->started)
            pthread_join(w->thr, NULL);
        while (w->conns)
            conn_free(w->conns);
        reap(w);
        if (w->ep >= 0)
            close(w->ep);
        if (w->evfd >= 0)
            close(w->evfd);
        pthread_mutex_destroy(&w->mu);
    }
    close(s->lfd);
    free(s->w);
    free(s);
}
