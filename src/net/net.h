/*
 * net.h - the one HTTP server wrapper and HTTP client used by every fairkey
 * daemon (log, agents) and every CLI client.  Server: our own HTTP/1.1
 * server (server.c, http.c) on epoll worker threads; client: libcurl easy
 * handles.  Every buffer is
 * bounded; every call has a timeout.
 *
 * Program code (compiled into the fairkey executable), not libfairkey: the
 * library opens no sockets.  Names use the fki_net_ prefix.
 */
#ifndef FK_NET_H
#define FK_NET_H

#include <stddef.h>
#include <stdint.h>

#include <fairkey.h>

/* ---- limits -------------------------------------------------------------- */

/* Default cap on a request body the server reads (a log entry is at most
 * 65,535 bytes; agents' requests are a few kB). */
#define FKI_NET_DEFAULT_MAX_BODY 65535u
/* Hard ceiling on any configured body cap: bounds memory per connection. */
#define FKI_NET_MAX_BODY_CEILING (16u * 1024u * 1024u)
/* Default number of simultaneous connections (file descriptors and memory). */
#define FKI_NET_DEFAULT_CONN_LIMIT 4096u
/* Default idle timeout per connection, seconds: drops slow or idle clients. */
#define FKI_NET_DEFAULT_TIMEOUT_S 15u
/* Default worker threads in the server's pool. */
#define FKI_NET_DEFAULT_THREADS 2u
/* Most response headers a handler may add beyond Content-Type/Cache-Control. */
#define FKI_NET_MAX_EXTRA_HEADERS 4

/* ---- server --------------------------------------------------------------- */

/* One request as the handler sees it.  All pointers are valid only during
 * the handler call. */
struct fki_net_request {
    const char *method;      /* "GET", "POST", ... */
    const char *path;        /* URL path, percent-decoded, no query */
    const uint8_t *body;     /* NULL when empty */
    size_t body_len;
    const char *remote_ip;   /* textual peer address, "" if unknown */
    void *internal;          /* for fki_net_header() */
};

/* Value of a request header (case-insensitive name) or NULL. */
const char *fki_net_header(const struct fki_net_request *req, const char *name);
/* Value of a query argument (?key=value) or NULL. */
const char *fki_net_query(const struct fki_net_request *req, const char *key);

/* A response the handler fills in.  body is copied by the server (the handler
 * may free or reuse it after returning / after fki_net_complete). */
struct fki_net_response {
    int status;                 /* HTTP status; 0 = 500 */
    const char *content_type;   /* NULL = "text/plain; charset=utf-8" */
    const char *cache_control;  /* NULL = no Cache-Control header */
    const void *body;
    size_t body_len;
    void *body_free;            /* if set, free()d by the server once copied */
    const char *extra_name[FKI_NET_MAX_EXTRA_HEADERS];  /* NULL-terminated */
    const char *extra_value[FKI_NET_MAX_EXTRA_HEADERS];
};

/* A request whose answer comes later, from any thread (the log's add
 * endpoint answers only once the entry is durable).  The connection waits
 * in its worker's epoll set (no thread is held, no system call is made)
 * until fki_net_complete() is called. */
typedef struct fki_net_deferred fki_net_deferred;

/* The handler either fills *resp and returns, or calls fki_net_defer() and
 * returns without touching *resp; then it MUST later call fki_net_complete()
 * exactly once on the handle.  Handlers run on the server's worker threads,
 * concurrently, and must not block for long (defer instead). */
typedef void (*fki_net_handler)(void *ctx, const struct fki_net_request *req,
                                struct fki_net_response *resp);

/* Defer the answer of the request being handled; NULL if out of memory
 * (then answer immediately instead). */
fki_net_deferred *fki_net_defer(const struct fki_net_request *req);
/* Answer a deferred request (copies resp->body) and release the handle. */
void fki_net_complete(fki_net_deferred *d, const struct fki_net_response *resp);
/* fki_net_complete in two steps, for a thread that answers many requests at
 * once: stage each answer (copies resp->body), then release them all.  A
 * release puts the connection on its worker's ready list and wakes the
 * worker only when that list was empty; released together, one wake-up per
 * worker serves many.  Stage exactly once, then release exactly once. */
void fki_net_stage(fki_net_deferred *d, const struct fki_net_response *resp);
void fki_net_release(fki_net_deferred *d);

struct fki_net_server_config {
    const char *listen;       /* "127.0.0.1:8080", "[::1]:8080", ":8080"; port 0 = any */
    size_t max_body;          /* 0 = FKI_NET_DEFAULT_MAX_BODY; larger answered 413 */
    unsigned conn_limit;      /* 0 = default */
    unsigned timeout_s;       /* 0 = default */
    unsigned threads;         /* 0 = default */
    fki_net_handler handler;
    void *ctx;
};

typedef struct fki_net_server fki_net_server;

/* Bind and start serving in background threads.  FK_ERR_INVALID for a bad
 * listen string, FK_ERR_NET if binding fails (port in use). */
fk_err fki_net_server_start(fki_net_server **out, const struct fki_net_server_config *cfg);
/* Why the last fki_net_server_start of this thread failed: one line naming
 * the cause (address in use, host not found, not an address of this
 * machine, privileged port) and the remedy; "" if it did not fail. */
const char *fki_net_server_error(void);
/* What the server has done so far, for /metrics. */
struct fki_net_server_stats {
    uint64_t responses[5];   /* answers by status class: 1xx .. 5xx */
    uint64_t connections;    /* open now */
    uint64_t accepted;       /* accepted since start */
};
void fki_net_server_stats(const fki_net_server *s, struct fki_net_server_stats *st);
/* The TCP port actually bound (useful with port 0). */
uint16_t fki_net_server_port(const fki_net_server *s);
/* Stop accepting, close connections, join threads, free.  NULL is a no-op.
 * All deferred requests must have been completed before. */
void fki_net_server_stop(fki_net_server *s);

/* Parse "HOST:PORT" / "[V6]:PORT" / ":PORT" into a host (copied, NUL,
 * capacity hostcap; "" for any) and a port. */
fk_err fki_net_parse_listen(const char *s, char *host, size_t hostcap, uint16_t *port);

/* ---- client --------------------------------------------------------------- */

/* The environment variable naming a CA file (PEM) that every https call
 * verifies servers against instead of the system's CA store. */
#define FKI_NET_CACERT_ENV "FAIRKEY_CACERT"
/* --cacert FILE: every https call of this process verifies servers against
 * this CA file (it overrides FAIRKEY_CACERT).  Call before any client call
 * or thread (the path is copied).  NULL if the file can be read, else
 * one line "--cacert PATH: why; remedy" for the caller to print. */
const char *fki_net_set_cacert(const char *path);
/* Default response cap for the client, bytes. */
#define FKI_NET_DEFAULT_MAX_RESPONSE (1u << 20)
/* Default total timeout per client call, ms. */
#define FKI_NET_DEFAULT_CLIENT_TIMEOUT_MS 10000u

struct fki_net_client_opts {
    long timeout_ms;       /* 0 = default */
    size_t max_response;   /* 0 = default; a longer body is FK_ERR_LIMIT */
    const char *content_type;  /* for POST; NULL = application/octet-stream */
};

/* GET url.  On FK_OK, *status is the HTTP status and *body (malloc'd,
 * NUL-terminated beyond body_len, caller frees) the response body, for any
 * status.  FK_ERR_NET when no HTTP answer came (refused, timeout). opts may be
 * NULL. */
fk_err fki_net_get(const char *url, const struct fki_net_client_opts *opts,
                   long *status, uint8_t **body, size_t *body_len);
/* Why the last client call of this thread that returned FK_ERR_NET failed:
 * one line naming the cause (host not found, connection refused, timed
 * out, TLS certificate not verified...) and the URL's host; else
 * fk_strerror(e).  For the programs' error lines. */
const char *fki_net_strerror(fk_err e);
/* POST body to url; as fki_net_get. */
fk_err fki_net_post(const char *url, const void *req_body, size_t req_len,
                    const struct fki_net_client_opts *opts,
                    long *status, uint8_t **body, size_t *body_len);


/* A client that keeps its connections alive across calls (many tile
 * fetches from one log).  Not thread-safe: one per thread. */
typedef struct fki_net_client fki_net_client;
fk_err fki_net_client_new(fki_net_client **c);
/* As fki_net_get, on c's connections. */
fk_err fki_net_client_get(fki_net_client *c, const char *url,
                          const struct fki_net_client_opts *opts, long *status, uint8_t **body,
                          size_t *body_len);
/* As fki_net_post, on c's connections (a requester asking the same agents
 * and log again and again). */
fk_err fki_net_client_post(fki_net_client *c, const char *url, const void *req_body,
                           size_t req_len, const struct fki_net_client_opts *opts, long *status,
                           uint8_t **body, size_t *body_len);
void fki_net_client_free(fki_net_client *c);

#endif
