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
    double t0;
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
 * polls every socket), so more of the shared cores go to the daemon. */

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
static int raw_start(int ep, struct slot *s, const char *hostport,
                     const struct sockaddr_storage *sa, socklen_t salen)
{
    int head = snprintf(s->req, HEAD_MAX,
                        "POST /add HTTP/1.1\r\nHost: %s\r\n"
                        "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n\r\n",
                        hostport, s->elen);
    memcpy(s->req + head, s->entry, s->elen);
    s->req_len = (size_t)head + s->elen;
    s->sent = 0;
    s->hlen = 0;
    s->in_body = 0;
    if (s->fd < 0) {
        s->fd = raw_connect(sa, salen);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
        if (s->fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev)) {
            raw_close(ep, s);
            return -1;
        }
    }
    return raw_send(ep, s);
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

static int run_raw(struct addrun *r, struct slot *slots, unsigned conc)
{
    char hostport[300];
    const char *hp = r->url + 7;
    if (strncmp(r->url, "http://", 7) || strlen(hp) >= sizeof hostport) {
        fprintf(stderr, "log_bench: the raw engine needs an http:// URL\n");
        return 2;
    }
    memcpy(hostport, hp, strlen(hp) + 1);
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || strchr(hostport, '/') || (size_t)(colon - hostport) >= sizeof host) {
        fprintf(stderr, "log_bench: the raw engine needs http://HOST:PORT\n");
        return 2;
    }
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &ai) || !ai) {
        fprintf(stderr, "log_bench: cannot resolve %s\n", host);
        return 2;
    }
    struct sockaddr_storage sa;
    socklen_t salen = ai->ai_addrlen;
    memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        return 2;
    unsigned active = 0;
    for (unsigned i = 0; i < conc; i++) {
        struct slot *s = &slots[i];
        s->fd = -1;
        s->req = malloc(HEAD_MAX + FK_TLOG_MAX_ENTRY);
        if (!s->req)
            return 2;
    }
    /* Start a slot on its next entry; entries whose connection fails are
     * counted as failed, as libcurl would report them. */
    for (unsigned i = 0; i < conc; i++) {
        struct slot *s = &slots[i];
        while (next_entry(r, s)) {
            if (!raw_start(ep, s, hostport, &sa, salen)) {
                active++;
                break;
            }
            raw_close(ep, s);
            add_done(r, s, 0, 0);
        }
    }
    struct epoll_event evs[256];
    double last_scan = now_s();
    char buf[65536];
    while (active) {
        int k = epoll_wait(ep, evs, 256, 100);
        for (int i = 0; i < k; i++) {
            struct slot *s = evs[i].data.ptr;
            int done = 0, dead = 0;
            long status = 0;
            if (evs[i].events & EPOLLOUT) {
                if (raw_send(ep, s))
                    dead = 1;
                else if (s->sent == s->req_len) {
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
                    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
                }
            }
            if (!dead && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
                ssize_t got = recv(s->fd, buf, sizeof buf, 0);
                if (got < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
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
                continue;
            add_done(r, s, done, status);
            if (dead || s->closes)
                raw_close(ep, s);
            active--;
            while (next_entry(r, s)) {
                if (!raw_start(ep, s, hostport, &sa, salen)) {
                    active++;
                    break;
                }
                raw_close(ep, s);
                add_done(r, s, 0, 0);
            }
        }
        double now = now_s();
        if (now - last_scan >= 1.0) {
            last_scan = now;
            for (unsigned i = 0; i < conc; i++) {
                struct slot *s = &slots[i];
                if (s->fd < 0 || now - s->t0 < ADD_TIMEOUT_S)
                    continue;
                raw_close(ep, s);
                add_done(r, s, 0, 0);
                active--;
                while (next_entry(r, s)) {
                    if (!raw_start(ep, s, hostport, &sa, salen)) {
                        active++;
                        break;
                    }
                    raw_close(ep, s);
                    add_done(r, s, 0, 0);
                }
            }
        }
    }
    for (unsigned i = 0; i < conc; i++) {
        raw_close(ep, &slots[i]);
        free(slots[i].req);
    }
    close(ep);
    return 0;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
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
    int strict = flag(argc, argv, "--strict");
    int raw = !strcmp(engine, "raw");
    if (!conc || conc > 4096 || r.size > FK_TLOG_MAX_ENTRY || (!raw && strcmp(engine, "curl")))
        return 2;
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
    double t_start = now_s(), c_start = cpu_s();
    int rc = raw ? run_raw(&r, slots, conc) : run_curl(&r, slots, conc);
    double el = now_s() - t_start, cpu = cpu_s() - c_start;
    if (rc)
        return rc;
    qsort(r.lat, r.nlat, sizeof *r.lat, cmp_double);
    double med = r.nlat ? r.lat[r.nlat / 2] : 0, p99 = r.nlat ? r.lat[(r.nlat * 99) / 100] : 0;
    double max = r.nlat ? r.lat[r.nlat - 1] : 0;
    printf("adds %llu acked %llu failed %llu bad %llu in %.2f s: %.0f adds/s, latency median %.1f ms p99 %.1f ms max %.1f ms\n",
           (unsigned long long)r.n, (unsigned long long)r.acked, (unsigned long long)r.failed,
           (unsigned long long)r.bad, el, (double)r.acked / el, med * 1e3, p99 * 1e3, max * 1e3);
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
