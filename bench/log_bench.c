/*
 * log_bench - load generator and checker for `fairkey log serve`, used by the
 * benchmarks (bench/log_bench.sh) and the black-box tests (tests/log/).
 *
 *   log_bench add URL VKEY --n N --conc C [--prefix P] [--size B] [--out FILE]
 *             [--verify-every K] [--strict]
 *       N adds over C concurrent keep-alive connections.
 *       Every K-th answer (default every one) is checked as a tlog-proof
 *       against VKEY; with --out the others are parsed, without it only their
 *       first line is checked (a light load generator).  Each acknowledged add is appended to FILE as
 *       "<index> <size> <root b64> <entry hex>" and flushed at once, so the
 *       record survives the daemon being killed.  Prints throughput and
 *       latency (median, p99) and its own CPU time per add.  --strict: exit 1
 *       unless every add succeeded.  --client curl (default: libcurl multi)
 *       or raw (HTTP/1.1 over epoll, a much cheaper load generator).
 *       Closed loop: each connection sends its next add when the previous
 *       answer arrives; latency runs from the send.
 *
 *   log_bench add URL VKEY --client raw --rate R [--warmup] [--bound-ms X] ...
 *       Open loop: add i is due at t0 + i/R.  It goes out on an idle
 *       connection of a pool of up to C, or waits in a queue for one; its
 *       latency runs from the time it was due, so a stalled server or a
 *       saturated client shows as latency (no coordinated omission).  Also
 *       prints the rate achieved and how many adds waited for a connection.
 *       --tick-us T: adds due within a T us grid step go out at one wake-up
 *       (default 1000; 0: a timer wake-up for each add).
 *       --warmup (raw engine, closed or open loop): connect all C before the
 *       clock starts, so connection setup is not measured.  --bound-ms X:
 *       also count the adds slower than X ms.  Latency percentiles p50, p90,
 *       p99, p99.9 and the largest are printed in every mode.
 *
 *   log_bench check URL VKEY FILE...
 *       Every recorded entry is in the current tree at its index (inclusion
 *       proof from tiles), every recorded checkpoint is consistent with the
 *       current one, and the whole log replays from scratch to its root.
 *
 *   log_bench proofs URL VKEY --n N --conc C
 *       N inclusion proofs of random entries, computed from tiles over HTTP
 *       by C threads; prints proofs per second.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "log/log.h"
#include "net/net.h"

#define HL FK_TLOG_HASH_LEN

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return def;
}

static int flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

/* ---- add ------------------------------------------------------------------ */

/* One answer must stay under this: a checkpoint plus 63 proof lines. */
#define ANSWER_MAX 16384
/* Response headers the raw client accepts before the body. */
#define HEAD_MAX 2048
/* Per-request timeout, seconds: an add waits at most one batch (60 s max). */
#define ADD_TIMEOUT_S 60.0

struct slot {
    CURL *h;            /* curl engine */
    int fd;             /* raw engine: the keep-alive connection, -1 if none */
    char *req;          /* raw engine: request head + entry */
    size_t req_len, sent;
    char head[HEAD_MAX];
    size_t hlen, body_need;
    int in_body, closes;
    uint64_t seq;
    char entry[FK_TLOG_MAX_ENTRY + 1];
    size_t elen;
    double t0;          /* latency runs from here: the send, or open loop the schedule */
    double tsend;       /* raw engine: when the request went out (for the timeout) */
    int busy;           /* raw engine: an add in flight (during --warmup: connecting) */
    char resp[ANSWER_MAX];
    size_t rlen;
    int over;
};

/* Everything one add run shares between its engines. */
struct addrun {
    const char *url, *prefix;
    fk_note_verifier key;
    uint64_t n, next, acked, failed, bad, nlat;
    size_t size;
    unsigned every;
    uint32_t salt;
    FILE *f;
    double *lat;
    double t_start, c_start;   /* the clock: wall and CPU */
    double tick;               /* open loop: wake-up grid, seconds */
    double rate;               /* open loop: adds per second; 0: closed loop */
    uint64_t sent, waited;     /* open loop: adds sent, adds that found no idle connection */
    double t_last_send, lag_max;
    int warmup;
    unsigned warm_ok, warm_fail;
    double warm_s, warm_slowest;
};

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    struct slot *s = ud;
    size_t n = sz * nm;
    if (n > sizeof s->resp - 1 - s->rlen) {
        s->over = 1;
        return 0;
    }
    memcpy(s->resp + s->rlen, p, n);
    s->rlen += n;
    return n;
}

static void make_entry(struct slot *s, const char *prefix, uint64_t seq, size_t size, uint32_t salt)
{
    int n = snprintf(s->entry, sizeof s->entry, "%s-%08x-%llu\n", prefix, salt,
                     (unsigned long long)seq);
    size_t len = (size_t)n;
    for (; len < size && len < FK_TLOG_MAX_ENTRY; len++)
        s->entry[len] = (char)('a' + len % 26);
    s->elen = len;
}

/* Take the next entry for a slot; 0 when all N have been started. */
static int next_entry(struct addrun *r, struct slot *s)
{
    if (r->next >= r->n)
        return 0;
    s->seq = r->next++;
    make_entry(s, r->prefix, s->seq, r->size, r->salt);
    s->rlen = 0;
    s->over = 0;
    s->t0 = now_s();
    return 1;
}

static int verify_answer(const struct slot *s, const fk_note_verifier *key, fk_checkpoint *cp,
                         uint64_t *index)
{
    fk_tlog_proof *p = malloc(sizeof *p);
    uint8_t leaf[HL];
    int ok = p && !fk_tlog_proof_parse(p, s->resp, s->rlen) &&
             !fk_tlog_leaf_hash(leaf, (const uint8_t *)s->entry, s->elen) &&
             !fk_tlog_proof_verify(p, leaf, key->name, key, 1, cp, NULL);
    if (ok)
        *index = p->index;
    free(p);
    return ok;
}

/* Index and checkpoint from an answer without verifying it (bench mode). */
static int parse_answer(const struct slot *s, fk_checkpoint *cp, uint64_t *index)
{
    fk_tlog_proof *p = malloc(sizeof *p);
    int ok = p && !fk_tlog_proof_parse(p, s->resp, s->rlen);
    if (ok) {
        fk_note note;
        ok = !fk_note_parse(&note, p->checkpoint, p->checkpoint_len) &&
             !fk_checkpoint_parse(cp, note.text, note.text_len);
        *index = p->index;
    }
    free(p);
    return ok;
}

/* One add finished (answered or failed): check and record it. */
static void add_done(struct addrun *r, struct slot *s, int answered, long status)
{
    double dt = now_s() - s->t0;
    if (!answered || status != 200 || s->over) {
        r->failed++;
        return;
    }
    fk_checkpoint cp;
    uint64_t idx = 0;
    static const char hdr[] = "c2sp.org/tlog-proof@v1\nindex ";
    int ok;
    if (r->every && s->seq % r->every == 0)
        ok = verify_answer(s, &r->key, &cp, &idx);
    else if (r->f)
        ok = parse_answer(s, &cp, &idx);   /* the record needs index, size and root */
    else
        ok = s->rlen > sizeof hdr - 1 && !memcmp(s->resp, hdr, sizeof hdr - 1);
    if (!ok) {
        r->bad++;
        fprintf(stderr, "log_bench: answer for entry %llu does not verify\n",
                (unsigned long long)s->seq);
        return;
    }
    r->acked++;
    r->lat[r->nlat++] = dt;
    if (r->f) {
        char root[64];
        fk_b64_encode_padded(root, cp.root, HL);
        fprintf(r->f, "%llu %llu %s ", (unsigned long long)idx, (unsigned long long)cp.size,
                root);
        for (size_t i = 0; i < s->elen; i++)
            fprintf(r->f, "%02x", (unsigned char)s->entry[i]);
        fputc('\n', r->f);
        fflush(r->f);
    }
}

/* The libcurl engine: a real HTTP client (libcurl multi, keep-alive). */
static int run_curl(struct addrun *r, struct slot *slots, unsigned conc)
{
    char url[600];
    snprintf(url, sizeof url, "%s/add", r->url);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)conc);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    for (unsigned i = 0; i < conc; i++) {
        struct slot *s = &slots[i];
        s->h = curl_easy_init();
        curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
        curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, (long)(ADD_TIMEOUT_S * 1000));
        curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->h, CURLOPT_URL, url);
    }
    for (unsigned i = 0; i < conc; i++) {
        struct slot *s = &slots[i];
        if (!next_entry(r, s))
            break;
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->entry);
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)s->elen);
        curl_multi_add_handle(m, s->h);
    }
    int running = 1;
    while (running) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct slot *s;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            long status = 0;
            curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
            CURLcode rc = msg->data.result;
            curl_multi_remove_handle(m, s->h);
            add_done(r, s, rc == CURLE_OK, status);
            if (next_entry(r, s)) {
                curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->entry);
                curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)s->elen);
                curl_multi_add_handle(m, s->h);
                running = 1;
            }
        }
        if (running)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    for (unsigned i = 0; i < conc; i++)
        curl_easy_cleanup(slots[i].h);
    curl_multi_cleanup(m);
    curl_slist_free_all(hdrs);
    return 0;
}

/* ---- the raw engine: HTTP/1.1 over epoll, one keep-alive connection per
 * slot, one request in flight on each.  A load generator that costs a
 * fraction of libcurl multi's CPU (whose every call walks all handles and
 * polls every socket), so more of the shared cores go to the daemon.
 *
 * Closed loop (default): each connection sends its next add when the answer
 * to the previous one arrives, and an add's latency runs from its send.
 * Open loop (--rate R): add i is due at t0 + i/R whatever the server does;
 * it goes out on an idle connection of the pool or waits in a queue for
 * one, and its latency runs from the time it was due, so a stalled server
 * or a saturated client shows as latency instead of as fewer requests
 * (no coordinated omission). */

/* Non-blocking connects in flight at once during --warmup.  The daemon's
 * listen backlog is 1024: handshakes beyond what it has queued make the
 * kernel drop SYNs, and each dropped SYN costs a 1 s retransmit. */
#define WARMUP_WAVE 512
/* --rate above this is beyond what one epoll thread can send (and far
 * beyond any daemon on the bench machine): a typo, not a test. */
#define RATE_MAX 1e6
/* Open loop wake-ups fall on a grid of this step: every add due within a
 * tick goes out at one wake-up.  One wake-up per add costs the client about
 * 20 us of CPU more per add at 5,000 adds/s, CPU the daemon on the same
 * cores would miss; a 1 ms step adds at most 1 ms to a latency that counts
 * from the schedule anyway.  --tick-us 0: a wake-up for each add. */
#define TICK_DEFAULT_S 0.001
/* A coarser grid would add more than a short batch interval to latency. */
#define TICK_MAX_S 0.1

struct raw {
    struct addrun *r;
    int ep, tfd;                 /* epoll; open loop: its schedule timer */
    char hostport[300];
    struct sockaddr_storage sa;
    socklen_t salen;
    struct slot *slots;
    unsigned conc, busy;         /* slots with an add in flight */
    int open;                    /* open loop */
    struct slot **idle;          /* open loop: FIFO ring of idle slots */
    unsigned idle_head, nidle;
    uint64_t blocked;            /* adds below this found no idle slot when due */
    uint64_t armed;              /* the add the timer is set for */
};

static int raw_connect(const struct sockaddr_storage *sa, socklen_t salen)
{
    int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Loopback: a blocking connect is answered at once (or refused). */
    if (connect(fd, (const struct sockaddr *)sa, salen) ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void raw_close(int ep, struct slot *s)
{
    if (s->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
        s->fd = -1;
    }
}

/* Case-insensitive header value in a response head, or NULL. */
static const char *head_value(const char *head, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
        if (!strncasecmp(p + 2, name, nl) && p[2 + nl] == ':') {
            const char *v = p + 3 + nl;
            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
    }
    return NULL;
}

/* Send what is left of the request; -1 on a dead connection. */
static int raw_send(int ep, struct slot *s)
{
    while (s->sent < s->req_len) {
        ssize_t w = send(s->fd, s->req + s->sent, s->req_len - s->sent, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = s};
            return epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev) ? -1 : 0;
        }
        if (w <= 0)
            return -1;
        s->sent += (size_t)w;
    }
    return 0;
}

/* Start the slot's current entry, connecting first if needed. */
static int raw_start(struct raw *w, struct slot *s)
{
    int head = snprintf(s->req, HEAD_MAX,
                        "POST /add HTTP/1.1\r\nHost: %s\r\n"
                        "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n\r\n",
                        w->hostport, s->elen);
    memcpy(s->req + head, s->entry, s->elen);
    s->req_len = (size_t)head + s->elen;
    s->sent = 0;
    s->hlen = 0;
    s->in_body = 0;
    if (s->fd < 0) {
        s->fd = raw_connect(&w->sa, w->salen);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
        if (s->fd < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, s->fd, &ev)) {
            raw_close(w->ep, s);
            return -1;
        }
    }
    return raw_send(w->ep, s);
}

/* Put the slot's current entry in flight; on failure the add is recorded as
 * failed (as libcurl would report it) and -1 returned. */
static int raw_begin(struct raw *w, struct slot *s)
{
    if (raw_start(w, s)) {
        raw_close(w->ep, s);
        add_done(w->r, s, 0, 0);
        return -1;
    }
    s->busy = 1;
    s->tsend = now_s();
    w->busy++;
    w->r->sent++;
    return 0;
}

/* The slot's add is over (answered or failed): record it. */
static void raw_end(struct raw *w, struct slot *s, int answered, long status, int dead)
{
    add_done(w->r, s, answered, status);
    s->busy = 0;
    w->busy--;
    if (dead || s->closes)
        raw_close(w->ep, s);
}

/* A slot is free: closed loop, it starts its next entry; open loop, it
 * joins the idle ring. */
static void raw_freed(struct raw *w, struct slot *s)
{
    if (w->open) {
        w->idle[(w->idle_head + w->nidle++) % w->conc] = s;
        return;
    }
    while (next_entry(w->r, s) && raw_begin(w, s))
        ;
}

/* Consume received bytes; 1 when the whole answer is in, 0 for more, -1 on
 * a malformed answer. */
static int raw_parse(struct slot *s, const char *p, size_t n, long *status)
{
    while (n && !s->in_body) {
        if (s->hlen >= sizeof s->head - 1)
            return -1;
        s->head[s->hlen++] = *p++;
        n--;
        if (s->hlen >= 4 && !memcmp(s->head + s->hlen - 4, "\r\n\r\n", 4)) {
            s->head[s->hlen] = 0;
            int st;
            if (sscanf(s->head, "HTTP/1.1 %3d ", &st) != 1)
                return -1;
            *status = st;
            const char *cl = head_value(s->head, "Content-Length");
            const char *conn = head_value(s->head, "Connection");
            if (!cl)
                return -1;
            s->body_need = strtoul(cl, NULL, 10);
            s->closes = conn && !strncasecmp(conn, "close", 5);
            s->in_body = 1;
            if (s->body_need > sizeof s->resp - 1)
                return -1;
        }
    }
    if (n > s->body_need - s->rlen)
        return -1;   /* bytes beyond the answer: we sent one request */
    memcpy(s->resp + s->rlen, p, n);
    s->rlen += n;
    return s->in_body && s->rlen == s->body_need;
}

/* One epoll event on a slot's connection; 1 when it freed the slot. */
static int raw_event(struct raw *w, struct slot *s, uint32_t events)
{
    static char buf[65536];
    if (!s->busy) {
        /* An idle keep-alive connection only hears the server closing it
         * (its idle timeout): the next add on this slot reconnects. */
        raw_close(w->ep, s);
        return 0;
    }
    int done = 0, dead = 0;
    long status = 0;
    if (events & EPOLLOUT) {
        if (raw_send(w->ep, s))
            dead = 1;
        else if (s->sent == s->req_len) {
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
            epoll_ctl(w->ep, EPOLL_CTL_MOD, s->fd, &ev);
        }
    }
    if (!dead && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
        ssize_t got = recv(s->fd, buf, sizeof buf, 0);
        if (got < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (got <= 0)
            dead = 1;
        else {
            int rc = raw_parse(s, buf, (size_t)got, &status);
            if (rc < 0)
                dead = 1;
            done = rc > 0;
        }
    }
    if (!dead && !done)
        return 0;
    raw_end(w, s, done, status, dead);
    return 1;
}

/* --warmup: open every connection before the clock starts, at most
 * WARMUP_WAVE handshakes in flight, so connection setup is not measured. */
static void raw_warmup(struct raw *w)
{
    struct addrun *r = w->r;
    double t0 = now_s();
    unsigned next = 0, pending = 0;
    struct epoll_event evs[256];
    while (next < w->conc || pending) {
        while (next < w->conc && pending < WARMUP_WAVE) {
            struct slot *s = &w->slots[next++];
            int one = 1;
            s->fd = socket(w->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            if (s->fd < 0) {
                r->warm_fail++;
                continue;
            }
            setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            s->tsend = now_s();
            int rc = connect(s->fd, (const struct sockaddr *)&w->sa, w->salen);
            struct epoll_event ev = {.events = rc ? EPOLLOUT : EPOLLIN, .data.ptr = s};
            if ((rc && errno != EINPROGRESS) || epoll_ctl(w->ep, EPOLL_CTL_ADD, s->fd, &ev)) {
                raw_close(w->ep, s);
                r->warm_fail++;
            } else if (rc) {
                s->busy = 1;   /* connecting */
                pending++;
            } else {
                r->warm_ok++;
            }
        }
        int k = epoll_wait(w->ep, evs, 256, 100);
        double now = now_s();
        for (int i = 0; i < k; i++) {
            struct slot *s = evs[i].data.ptr;
            int err = 0;
            socklen_t el = sizeof err;
            if (!s->busy)
                continue;
            s->busy = 0;
            pending--;
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
            if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err ||
                epoll_ctl(w->ep, EPOLL_CTL_MOD, s->fd, &ev)) {
                raw_close(w->ep, s);
                r->warm_fail++;
                continue;
            }
            r->warm_ok++;
            if (now - s->tsend > r->warm_slowest)
                r->warm_slowest = now - s->tsend;
        }
        if (now - t0 >= ADD_TIMEOUT_S) {
            /* Bounded: what has not connected by now connects when used. */
            for (unsigned i = 0; i < next; i++) {
                if (w->slots[i].busy) {
                    w->slots[i].busy = 0;
                    raw_close(w->ep, &w->slots[i]);
                    r->warm_fail++;
                }
            }
            pending = 0;
        }
    }
    r->warm_s = now_s() - t0;
}

/* Open loop: send every add that is due on an idle connection; the rest
 * wait for one.  Then set the timer for the next add not yet due. */
static void raw_dispatch(struct raw *w)
{
    struct addrun *r = w->r;
    double now = now_s();
    while (r->next < r->n) {
        double due = r->t_start + (double)r->next / r->rate;
        if (due > now)
            break;
        if (!w->nidle) {
            /* Every add due by now waits for a connection; a completion,
             * not the timer, wakes the loop for them. */
            if (w->blocked < r->next)
                w->blocked = r->next;
            while (w->blocked < r->n && r->t_start + (double)w->blocked / r->rate <= now)
                w->blocked++;
            return;
        }
        struct slot *s = w->idle[w->idle_head];
        w->idle_head = (w->idle_head + 1) % w->conc;
        w->nidle--;
        if (r->next < w->blocked)
            r->waited++;
        next_entry(r, s);
        s->t0 = due;
        if (raw_begin(w, s)) {
            raw_freed(w, s);
        } else {
            now = s->tsend;
            r->t_last_send = now;
            if (now - due > r->lag_max)
                r->lag_max = now - due;
        }
    }
    if (r->next < r->n && w->armed != r->next) {
        double at = r->t_start + (double)r->next / r->rate;
        if (r->tick > 0) {
            /* Wake on a grid of ticks: at most one wake-up per tick. */
            double k = (double)(uint64_t)((at - r->t_start) / r->tick);
            if (r->t_start + k * r->tick < at)
                k += 1;
            at = r->t_start + k * r->tick;
        }
        struct itimerspec its = {0};
        its.it_value.tv_sec = (time_t)at;
        its.it_value.tv_nsec = (long)((at - (double)its.it_value.tv_sec) * 1e9);
        if (its.it_value.tv_nsec >= 1000000000L)
            its.it_value.tv_nsec = 999999999L;
        if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
            its.it_value.tv_nsec = 1;   /* zero would disarm it */
        timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL);
        w->armed = r->next;
    }
}

static int raw_setup(struct raw *w)
{
    struct addrun *r = w->r;
    const char *hp = r->url + 7;
    if (strncmp(r->url, "http://", 7) || strlen(hp) >= sizeof w->hostport) {
        fprintf(stderr, "log_bench: the raw engine needs an http:// URL\n");
        return 2;
    }
    memcpy(w->hostport, hp, strlen(hp) + 1);
    char host[256];
    const char *colon = strrchr(w->hostport, ':');
    if (!colon || strchr(w->hostport, '/') || (size_t)(colon - w->hostport) >= sizeof host) {
        fprintf(stderr, "log_bench: the raw engine needs http://HOST:PORT\n");
        return 2;
    }
    memcpy(host, w->hostport, (size_t)(colon - w->hostport));
    host[colon - w->hostport] = 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &ai) || !ai) {
        fprintf(stderr, "log_bench: cannot resolve %s\n", host);
        return 2;
    }
    w->salen = ai->ai_addrlen;
    memcpy(&w->sa, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    w->idle = malloc(w->conc * sizeof *w->idle);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (w->ep < 0 || w->tfd < 0 || !w->idle || epoll_ctl(w->ep, EPOLL_CTL_ADD, w->tfd, &ev))
        return 2;
    for (unsigned i = 0; i < w->conc; i++) {
        struct slot *s = &w->slots[i];
        s->fd = -1;
        s->req = malloc(HEAD_MAX + FK_TLOG_MAX_ENTRY);
        if (!s->req)
            return 2;
    }
    return 0;
}

static void raw_teardown(struct raw *w)
{
    for (unsigned i = 0; i < w->conc; i++) {
        if (w->ep >= 0)
            raw_close(w->ep, &w->slots[i]);
        free(w->slots[i].req);
    }
    free(w->idle);
    if (w->tfd >= 0)
        close(w->tfd);
    if (w->ep >= 0)
        close(w->ep);
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int run_raw(struct addrun *r, struct slot *slots, unsigned conc)
{
    struct raw w = {.r = r, .ep = -1, .tfd = -1, .slots = slots, .conc = conc,
                    .open = r->rate > 0, .armed = UINT64_MAX};
    int rc = raw_setup(&w);
    if (rc) {
        raw_teardown(&w);
        return rc;
    }
    if (r->warmup)
        raw_warmup(&w);
    r->t_start = now_s();
    r->c_start = cpu_s();
    for (unsigned i = 0; i < conc; i++)
        raw_freed(&w, &slots[i]);
    struct epoll_event evs[256];
    double last_scan = now_s();
    for (;;) {
        if (w.open)
            raw_dispatch(&w);
        if (!w.busy && r->next >= r->n)
            break;
        int k = epoll_wait(w.ep, evs, 256, 100);
        for (int i = 0; i < k; i++) {
            struct slot *s = evs[i].data.ptr;
            if (!s) {
                uint64_t fired;
                ssize_t rd = read(w.tfd, &fired, sizeof fired);   /* re-armed by raw_dispatch */
                (void)rd;
                continue;
            }
            if (raw_event(&w, s, evs[i].events))
                raw_freed(&w, s);
        }
        double now = now_s();
        if (now - last_scan >= 1.0) {
            last_scan = now;
            for (unsigned i = 0; i < conc; i++) {
                struct slot *s = &slots[i];
                if (!s->busy || now - s->tsend < ADD_TIMEOUT_S)
                    continue;
                raw_end(&w, s, 0, 0, 1);
                raw_freed(&w, s);
            }
        }
    }
    raw_teardown(&w);
    return 0;
}

/* Latency at quantile q/10000 (nearest rank) of n sorted values. */
static double pct(const double *v, uint64_t n, uint64_t q)
{
    if (!n)
        return 0;
    uint64_t rank = (n * q + 9999) / 10000;
    return v[rank ? rank - 1 : 0];
}

static int bad_usage(const char *why)
{
    fprintf(stderr, "log_bench: %s\n", why);
    return 2;
}

static int cmd_add(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    struct addrun r = {.url = argv[0]};
    if (fk_note_verifier_parse(&r.key, argv[1], strlen(argv[1]))) {
        fprintf(stderr, "log_bench: bad vkey\n");
        return 2;
    }
    r.n = strtoull(opt(argc, argv, "--n", "1000"), NULL, 10);
    unsigned conc = (unsigned)strtoul(opt(argc, argv, "--conc", "16"), NULL, 10);
    r.size = strtoul(opt(argc, argv, "--size", "0"), NULL, 10);
    r.every = (unsigned)strtoul(opt(argc, argv, "--verify-every", "1"), NULL, 10);
    r.prefix = opt(argc, argv, "--prefix", "entry");
    const char *out = opt(argc, argv, "--out", NULL);
    const char *engine = opt(argc, argv, "--client", "curl");
    const char *rate = opt(argc, argv, "--rate", NULL);
    const char *bound = opt(argc, argv, "--bound-ms", NULL);
    int strict = flag(argc, argv, "--strict");
    r.warmup = flag(argc, argv, "--warmup");
    const char *tick = opt(argc, argv, "--tick-us", NULL);
    int raw = !strcmp(engine, "raw");
    if (!conc || conc > 4096 || r.size > FK_TLOG_MAX_ENTRY || (!raw && strcmp(engine, "curl")))
        return 2;
    char *end;
    if (rate) {
        r.rate = strtod(rate, &end);
        if (*end || !(r.rate > 0 && r.rate <= RATE_MAX))
            return bad_usage("--rate wants adds per second, above 0 and at most 1000000");
    }
    if (tick) {
        r.tick = strtod(tick, &end) / 1e6;
        if (*end || !(r.tick >= 0 && r.tick <= TICK_MAX_S))
            return bad_usage("--tick-us wants microseconds from 0 to 100000");
    } else {
        r.tick = TICK_DEFAULT_S;
    }
    double bound_s = 0;
    if (bound) {
        bound_s = strtod(bound, &end) / 1e3;
        if (*end || !(bound_s > 0))
            return bad_usage("--bound-ms wants a latency in milliseconds above 0");
    }
    if (!raw && (rate || r.warmup))
        return bad_usage("--rate and --warmup need --client raw");
    if (tick && !rate)
        return bad_usage("--tick-us needs --rate");
    if (conc > r.n)
        conc = (unsigned)(r.n ? r.n : 1);
    r.f = out ? fopen(out, "a") : NULL;
    if (out && !r.f) {
        perror(out);
        return 2;
    }
    fk_random(&r.salt, sizeof r.salt);
    struct slot *slots = calloc(conc, sizeof *slots);
    r.lat = malloc((r.n ? r.n : 1) * sizeof *r.lat);
    if (!slots || !r.lat)
        return 2;
    r.t_start = now_s();   /* the raw engine restarts the clock after --warmup */
    r.c_start = cpu_s();
    int rc = raw ? run_raw(&r, slots, conc) : run_curl(&r, slots, conc);
    double el = now_s() - r.t_start, cpu = cpu_s() - r.c_start;
    if (rc)
        return rc;
    qsort(r.lat, r.nlat, sizeof *r.lat, cmp_double);
    const double *l = r.lat;
    uint64_t nl = r.nlat;
    if (r.warmup)
        printf("warm-up: %u of %u connections open in %.2f s before the clock started (slowest connect %.1f ms)\n",
               r.warm_ok, conc, r.warm_s, r.warm_slowest * 1e3);
    printf("adds %llu acked %llu failed %llu bad %llu in %.2f s: %.0f adds/s, latency median %.1f ms p99 %.1f ms max %.1f ms\n",
           (unsigned long long)r.n, (unsigned long long)r.acked, (unsigned long long)r.failed,
           (unsigned long long)r.bad, el, (double)r.acked / el, pct(l, nl, 5000) * 1e3,
           pct(l, nl, 9900) * 1e3, pct(l, nl, 10000) * 1e3);
    printf("latency %s: p50 %.1f ms p90 %.1f ms p99 %.1f ms p99.9 %.1f ms max %.1f ms\n",
           r.rate > 0 ? "from each add's scheduled time" : "from each add's send",
           pct(l, nl, 5000) * 1e3, pct(l, nl, 9000) * 1e3, pct(l, nl, 9900) * 1e3,
           pct(l, nl, 9990) * 1e3, pct(l, nl, 10000) * 1e3);
    if (bound) {
        uint64_t over = 0;
        while (over < nl && l[nl - 1 - over] > bound_s)
            over++;
        printf("latency over %s ms: %llu of %llu acked adds\n", bound, (unsigned long long)over,
               (unsigned long long)nl);
    }
    if (r.rate > 0) {
        double span = r.t_last_send - r.t_start;
        printf("open loop: target %.0f adds/s, sent %llu at %.0f adds/s, %llu waited for a connection, largest send delay %.1f ms\n",
               r.rate, (unsigned long long)r.sent,
               r.sent > 1 && span > 0 ? (double)(r.sent - 1) / span : 0,
               (unsigned long long)r.waited, r.lag_max * 1e3);
    }
    printf("client (%s) CPU: %.2f s = %.1f us per add\n", engine, cpu,
           cpu * 1e6 / (double)(r.n ? r.n : 1));
    free(slots);
    free(r.lat);
    if (r.f)
        fclose(r.f);
    if (r.bad || (strict && r.acked != r.n))
        return 1;
    return 0;
}

/* ---- check ---------------------------------------------------------------- */

static int cmd_check(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    struct fki_log_client c;
    if (fki_log_client_init(&c, argv[0], argv[1])) {
        fprintf(stderr, "log_bench: bad URL or vkey\n");
        return 2;
    }
    fk_checkpoint cur;
    fk_err e = fki_log_client_checkpoint(&c, &cur, NULL);
    if (e) {
        fprintf(stderr, "log_bench: checkpoint: %s\n", fk_strerror(e));
        fki_log_client_close(&c);
        return 1;
    }
    int fails = 0;
    uint64_t entries = 0, cps = 0, last_size = UINT64_MAX;
    for (int a = 2; a < argc; a++) {
        FILE *f = fopen(argv[a], "r");
        if (!f) {
            perror(argv[a]);
            return 2;
        }
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
            unsigned long long idx, size;
            char root[64], hex[2 * FK_TLOG_MAX_ENTRY + 2];
            if (sscanf(line, "%llu %llu %63s %131071s", &idx, &size, root, hex) != 4) {
                fprintf(stderr, "log_bench: bad line in %s\n", argv[a]);
                fails++;
                continue;
            }
            size_t hl = strlen(hex);
            uint8_t *want = malloc(hl / 2 + 1);
            uint8_t *got = NULL;
            size_t glen = 0;
            if (!want || fk_hex_decode(want, hl / 2, hex, hl)) {
                fails++;
                free(want);
                continue;
            }
            e = fki_log_client_entry(&c, &cur, idx, &got, &glen);
            if (e || glen != hl / 2 || memcmp(got, want, glen)) {
                fprintf(stderr, "log_bench: acknowledged entry %llu is missing or different (%s)\n",
                        idx, e ? fk_strerror(e) : "content");
                fails++;
            }
            entries++;
            free(got);
            free(want);
            if (size != last_size) {
                fk_checkpoint old;
                size_t rl;
                memset(&old, 0, sizeof old);
                old.size = size;
                if (fk_b64_decode_padded(old.root, HL, &rl, root, strlen(root)) || rl != HL ||
                    (e = fki_log_client_consistent(&c, &old, &cur))) {
                    fprintf(stderr, "log_bench: checkpoint of size %llu is not consistent with size %llu\n",
                            size, (unsigned long long)cur.size);
                    fails++;
                }
                cps++;
                last_size = size;
            }
        }
        free(line);
        fclose(f);
    }
    if ((e = fki_log_client_follow(&c, &cur))) {
        fprintf(stderr, "log_bench: replay from scratch failed: %s\n", fk_strerror(e));
        fails++;
    }
    fki_log_client_close(&c);
    printf("checked %llu acknowledged entries and %llu checkpoints against tree size %llu: %s\n",
           (unsigned long long)entries, (unsigned long long)cps, (unsigned long long)cur.size,
           fails ? "FAILED" : "ok");
    return fails ? 1 : 0;
}

/* ---- proofs --------------------------------------------------------------- */

struct pjob {
    struct fki_log_client c;   /* one per thread: its connection is not shared */
    const fk_checkpoint *cur;
    uint64_t n;
    uint64_t ok, fail;
    unsigned seed;
};

static void *proof_worker(void *arg)
{
    struct pjob *j = arg;
    for (uint64_t i = 0; i < j->n; i++) {
        uint64_t idx = (uint64_t)rand_r(&j->seed) % j->cur->size;
        uint8_t *got;
        size_t glen;
        if (fki_log_client_entry(&j->c, j->cur, idx, &got, &glen)) {
            j->fail++;
        } else {
            j->ok++;
            free(got);
        }
    }
    return NULL;
}

static int cmd_proofs(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    struct fki_log_client c;
    fk_checkpoint cur;
    if (fki_log_client_init(&c, argv[0], argv[1]) || fki_log_client_checkpoint(&c, &cur, NULL) ||
        !cur.size)
        return 1;
    uint64_t n = strtoull(opt(argc, argv, "--n", "1000"), NULL, 10);
    unsigned conc = (unsigned)strtoul(opt(argc, argv, "--conc", "4"), NULL, 10);
    if (!conc || conc > 256)
        return 2;
    pthread_t *th = calloc(conc, sizeof *th);
    struct pjob *jobs = calloc(conc, sizeof *jobs);
    double t0 = now_s();
    for (unsigned i = 0; i < conc; i++) {
        jobs[i] = (struct pjob){.cur = &cur, .n = n / conc, .seed = 12345 + i};
        if (fki_log_client_init(&jobs[i].c, argv[0], argv[1]))
            return 1;
        pthread_create(&th[i], NULL, proof_worker, &jobs[i]);
    }
    uint64_t ok = 0, fail = 0;
    for (unsigned i = 0; i < conc; i++) {
        pthread_join(th[i], NULL);
        fki_log_client_close(&jobs[i].c);
        ok += jobs[i].ok;
        fail += jobs[i].fail;
    }
    double el = now_s() - t0;
    fki_log_client_close(&c);
    printf("inclusion proofs from tiles over HTTP (entry bundle + tiles fetched over keep-alive connections, proof verified): %llu ok %llu failed in %.2f s: %.0f proofs/s\n",
           (unsigned long long)ok, (unsigned long long)fail, el, (double)ok / el);
    free(th);
    free(jobs);
    return fail ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: log_bench add|check|proofs URL VKEY ...\n");
        return 2;
    }
    if (!strcmp(argv[1], "add"))
        return cmd_add(argc - 2, argv + 2);
    if (!strcmp(argv[1], "check"))
        return cmd_check(argc - 2, argv + 2);
    if (!strcmp(argv[1], "proofs"))
        return cmd_proofs(argc - 2, argv + 2);
    fprintf(stderr, "log_bench: unknown mode %s\n", argv[1]);
    return 2;
}
