/*
 * server.c - the HTTP server helper on libmicrohttpd: bounded request bodies,
 * a connection limit, idle timeouts, a thread pool, and deferred answers by
 * suspending the connection (no thread waits while the log makes a batch
 * durable).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "net.h"

struct fki_net_server {
    struct MHD_Daemon *mhd;
    fki_net_handler handler;
    void *ctx;
    size_t max_body;
    uint16_t port;
};

/* Per-request state, MHD's con_cls; it is also the deferred handle. */
struct fki_net_deferred {
    struct MHD_Connection *conn;
    uint8_t *body;
    size_t len, cap;
    int deferred;                 /* the handler deferred the answer */
    struct MHD_Response *ready;   /* the deferred answer, set before resume */
    int ready_status;
};

/* Request-scoped data handed to the handler through req->internal. */
struct req_internal {
    struct MHD_Connection *conn;
    struct fki_net_deferred *st;
};

const char *fki_net_header(const struct fki_net_request *req, const char *name)
{
    const struct req_internal *ri = req->internal;
    return MHD_lookup_connection_value(ri->conn, MHD_HEADER_KIND, name);
}

const char *fki_net_query(const struct fki_net_request *req, const char *key)
{
    const struct req_internal *ri = req->internal;
    return MHD_lookup_connection_value(ri->conn, MHD_GET_ARGUMENT_KIND, key);
}

static struct MHD_Response *make_response(const struct fki_net_response *r, int *status)
{
    struct MHD_Response *mr = MHD_create_response_from_buffer(
        r->body_len, (void *)(r->body_len ? r->body : ""), MHD_RESPMEM_MUST_COPY);
    if (!mr)
        return NULL;
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type ? r->content_type : "text/plain; charset=utf-8");
    if (r->cache_control)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache_control);
    for (int i = 0; i < FKI_NET_MAX_EXTRA_HEADERS && r->extra_name[i]; i++)
        MHD_add_response_header(mr, r->extra_name[i], r->extra_value[i]);
    /* Only 1xx-5xx are meaningful; anything else is our bug, answer 500. */
    *status = (r->status >= 100 && r->status <= 599) ? r->status : 500;
    return mr;
}

static enum MHD_Result queue(struct MHD_Connection *conn, const struct fki_net_response *r)
{
    int status;
    struct MHD_Response *mr = make_response(r, &status);
    free(r->body_free);
    if (!mr)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static enum MHD_Result queue_text(struct MHD_Connection *conn, int status, const char *msg)
{
    struct fki_net_response r = {.status = status, .body = msg, .body_len = strlen(msg)};
    return queue(conn, &r);
}

fki_net_deferred *fki_net_defer(const struct fki_net_request *req)
{
    struct req_internal *ri = req->internal;
    if (ri->st->deferred)
        return NULL;
    ri->st->deferred = 1;
    /* Suspend now, inside the access handler, so a completion racing in from
     * another thread always finds a suspended connection to resume. */
    MHD_suspend_connection(ri->conn);
    return ri->st;
}

void fki_net_stage(fki_net_deferred *d, const struct fki_net_response *resp)
{
    int status = 500;
    struct MHD_Response *mr = make_response(resp, &status);
    free(resp->body_free);
    d->ready = mr;   /* NULL: the access handler closes the connection */
    d->ready_status = status;
}

void fki_net_release(fki_net_deferred *d)
{
    /* MHD's resume takes its internal lock; the daemon thread reads d->ready
     * only after it has processed the resume, so the write in stage is seen. */
    __atomic_store_n(&d->deferred, 2, __ATOMIC_RELEASE);
    MHD_resume_connection(d->conn);
}

void fki_net_complete(fki_net_deferred *d, const struct fki_net_response *resp)
{
    fki_net_stage(d, resp);
    fki_net_release(d);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct fki_net_server *s = cls;
    struct fki_net_deferred *st = *con_cls;

    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        st->conn = conn;
        *con_cls = st;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno || end == cl || *end || n > s->max_body)
                return queue_text(conn, 413, "request body too large\n");
        }
        return MHD_YES;
    }

    if (__atomic_load_n(&st->deferred, __ATOMIC_ACQUIRE) == 2) {
        struct MHD_Response *mr = st->ready;
        st->ready = NULL;
        st->deferred = 3;
        if (!mr)
            return MHD_NO;
        enum MHD_Result ret = MHD_queue_response(conn, (unsigned)st->ready_status, mr);
        MHD_destroy_response(mr);
        return ret;
    }
    if (st->deferred)
        return MHD_YES;   /* spurious call while suspended: nothing to do */

    if (*upload_data_size) {
        size_t n = *upload_data_size;
        if (n > s->max_body - st->len)
            return MHD_NO;   /* chunked body past the cap: drop the connection */
        if (st->len + n > st->cap) {
            size_t cap = st->cap ? st->cap : 1024;
            while (cap < st->len + n)
                cap *= 2;
            if (cap > s->max_body)
                cap = s->max_body;
            uint8_t *nb = realloc(st->body, cap);
            if (!nb)
                return MHD_NO;
            st->body = nb;
            st->cap = cap;
        }
        memcpy(st->body + st->len, upload_data, n);
        st->len += n;
        *upload_data_size = 0;
        return MHD_YES;
    }

    char ip[INET6_ADDRSTRLEN] = "";
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof ip);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof ip);
    }
    struct req_internal ri = {.conn = conn, .st = st};
    struct fki_net_request req = {
        .method = method, .path = url, .body = st->len ? st->body : NULL,
        .body_len = st->len, .remote_ip = ip, .internal = &ri,
    };
    struct fki_net_response resp;
    memset(&resp, 0, sizeof resp);
    s->handler(s->ctx, &req, &resp);
    if (st->deferred)
        return MHD_YES;
    return queue(conn, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct fki_net_deferred *st = *con_cls;
    if (!st)
        return;
    if (st->ready)
        MHD_destroy_response(st->ready);
    free(st->body);
    free(st);
    *con_cls = NULL;
}

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

fk_err fki_net_server_start(fki_net_server **out, const struct fki_net_server_config *cfg)
{
    char host[256];
    uint16_t port;
    if (!cfg->handler || fki_net_parse_listen(cfg->listen, host, sizeof host, &port))
        return FK_ERR_INVALID;
    if (cfg->max_body > FKI_NET_MAX_BODY_CEILING)
        return FK_ERR_INVALID;

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    if (host[0]) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_PASSIVE}, *ai = NULL;
        if (getaddrinfo(host, NULL, &hints, &ai) || !ai)
            return FK_ERR_INVALID;
        memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
        freeaddrinfo(ai);
    } else {
        ss.ss_family = AF_INET;
    }
    if (ss.ss_family == AF_INET6) {
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
        flags |= MHD_USE_IPv6;
    } else {
        ((struct sockaddr_in *)&ss)->sin_port = htons(port);
    }

    fki_net_server *s = calloc(1, sizeof *s);
    if (!s)
        return FK_ERR_NOMEM;
    s->handler = cfg->handler;
    s->ctx = cfg->ctx;
    s->max_body = cfg->max_body ? cfg->max_body : FKI_NET_DEFAULT_MAX_BODY;
    unsigned threads = cfg->threads ? cfg->threads : FKI_NET_DEFAULT_THREADS;
    s->mhd = MHD_start_daemon(
        flags, port, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, cfg->conn_limit ? cfg->conn_limit : FKI_NET_DEFAULT_CONN_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s ? cfg->timeout_s : FKI_NET_DEFAULT_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)FKI_NET_CONN_MEMORY,
        MHD_OPTION_END);
    if (!s->mhd) {
        free(s);
        return FK_ERR_NET;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : port;
    *out = s;
    return FK_OK;
}

uint16_t fki_net_server_port(const fki_net_server *s)
{
    return s->port;
}

void fki_net_server_stop(fki_net_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->mhd);
    free(s);
}
