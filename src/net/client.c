/*
 * client.c - the HTTP client helper on libcurl: one GET/POST call with a
 * total timeout, no redirects, http/https only, and the response body in a
 * buffer with a hard cap.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "net.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void curl_init_once(void)
{
    curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

struct sink {
    uint8_t *buf;
    size_t len, cap, max;
    int over;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct sink *k = userdata;
    size_t n = size * nmemb;
    if (n > k->max - k->len) {
        k->over = 1;
        return 0;   /* makes curl fail with CURLE_WRITE_ERROR */
    }
    if (k->len + n + 1 > k->cap) {
        size_t cap = k->cap ? k->cap : 4096;
        while (cap < k->len + n + 1)
            cap *= 2;
        uint8_t *nb = realloc(k->buf, cap);
        if (!nb)
            return 0;
        k->buf = nb;
        k->cap = cap;
    }
    memcpy(k->buf + k->len, ptr, n);
    k->len += n;
    return n;
}

/* The CA file of --cacert (fki_net_set_cacert), NULL: FAIRKEY_CACERT or the
 * system's store.  Set before any thread starts; read-only after. */
static const char *cacert;
static char cacert_path[PATH_MAX];

const char *fki_net_set_cacert(const char *path)
{
    static char why[PATH_MAX + 128];
    if (strlen(path) >= sizeof cacert_path) {
        snprintf(why, sizeof why, "--cacert: path too long");
        return why;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, sizeof why, "--cacert %s: %s; give the CA certificate file (PEM)", path,
                 strerror(errno));
        return why;
    }
    close(fd);
    memcpy(cacert_path, path, strlen(path) + 1);
    cacert = cacert_path;
    return NULL;
}

/* Why this thread's last client call failed (fki_net_strerror). */
static __thread char last_error[384];

const char *fki_net_strerror(fk_err e)
{
    return e == FK_ERR_NET && last_error[0] ? last_error : fk_strerror(e);
}

/* The host part of url, for messages. */
static void url_host(const char *url, char *out, size_t cap)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    size_t n = strcspn(h, "/?#");
    snprintf(out, cap, "%.*s", (int)(n < 200 ? n : 200), h);
}

static void set_error(const char *url, CURLcode rc)
{
    char host[256];
    url_host(url, host, sizeof host);
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(last_error, sizeof last_error,
                 "host not found: %s (DNS lookup failed); check the URL's host name and the "
                 "resolver",
                 host);
        break;
    case CURLE_COULDNT_CONNECT:
        snprintf(last_error, sizeof last_error,
                 "cannot connect to %s (connection refused or unreachable); is the server "
                 "running there?",
                 host);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(last_error, sizeof last_error,
                 "%s did not answer in time; check that it is up, then retry", host);
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
        snprintf(last_error, sizeof last_error,
                 "TLS with %s failed (%s); check its certificate and the CA file", host,
                 curl_easy_strerror(rc));
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        snprintf(last_error, sizeof last_error,
                 "bad URL for %s (%s); use http://HOST:PORT or https://HOST", host,
                 curl_easy_strerror(rc));
        break;
    default:
        snprintf(last_error, sizeof last_error, "network failure talking to %s: %s", host,
                 curl_easy_strerror(rc));
    }
}

struct fki_net_client {
    CURL *h;
};

/* One request on handle c (a fresh one when reuse is NULL; otherwise the
 * reused handle keeps its connections alive between calls). */
static fk_err request(CURL *reuse, const char *url, int post, const void *req_body,
                      size_t req_len, const struct fki_net_client_opts *opts,
                      long *status, uint8_t **body, size_t *body_len)
{
    pthread_once(&curl_once, curl_init_once);
    if (!curl_ok)
        return FK_ERR_NET;
    last_error[0] = 0;
    CURL *c = reuse;
    if (c)
        curl_easy_reset(c);
    else if (!(c = curl_easy_init()))
        return FK_ERR_NOMEM;
    struct sink k = {.max = FKI_NET_DEFAULT_MAX_RESPONSE};
    long timeout = FKI_NET_DEFAULT_CLIENT_TIMEOUT_MS;
    const char *ctype = "application/octet-stream";
    if (opts) {
        if (opts->max_response)
            k.max = opts->max_response;
        if (opts->timeout_ms > 0)
            timeout = opts->timeout_ms;
        if (opts->content_type)
            ctype = opts->content_type;
    }
    struct curl_slist *hdrs = NULL;
    char ct[256];
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    /* https: the server's certificate is verified (libcurl's default) against
     * the system's CA store, or the CA file FAIRKEY_CACERT names (a private
     * CA in front of a log, agent or witness: docs/operations.md 5). */
    const char *ca = cacert ? cacert : getenv(FKI_NET_CACERT_ENV);
    if (ca && ca[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
    /* Entry bundles may be served gzip-compressed (C2SP tlog-tiles). */
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    if (post) {
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
        hdrs = curl_slist_append(hdrs, ct);
        /* No "Expect: 100-continue" round trip for small bodies. */
        if (hdrs)
            hdrs = curl_slist_append(hdrs, "Expect:");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req_len ? req_body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req_len);
    }
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (!reuse)
        curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK || code == 0) {
        if (!k.over)
            set_error(url, rc);
        free(k.buf);
        return k.over ? FK_ERR_LIMIT : FK_ERR_NET;
    }
    if (!k.buf) {
        k.buf = malloc(1);
        if (!k.buf)
            return FK_ERR_NOMEM;
    }
    k.buf[k.len] = 0;
    *status = code;
    *body = k.buf;
    *body_len = k.len;
    return FK_OK;
}

fk_err fki_net_get(const char *url, const struct fki_net_client_opts *opts,
                   long *status, uint8_t **body, size_t *body_len)
{
    return request(NULL, url, 0, NULL, 0, opts, status, body, body_len);
}

fk_err fki_net_post(const char *url, const void *req_body, size_t req_len,
                    const struct fki_net_client_opts *opts,
                    long *status, uint8_t **body, size_t *body_len)
{
    return request(NULL, url, 1, req_body, req_len, opts, status, body, body_len);
}

fk_err fki_net_client_new(fki_net_client **out)
{
    pthread_once(&curl_once, curl_init_once);
    if (!curl_ok)
        return FK_ERR_NET;
    fki_net_client *c = calloc(1, sizeof *c);
    if (!c || !(c->h = curl_easy_init())) {
        free(c);
        return FK_ERR_NOMEM;
    }
    *out = c;
    return FK_OK;
}

fk_err fki_net_client_get(fki_net_client *c, const char *url,
                          const struct fki_net_client_opts *opts, long *status, uint8_t **body,
                          size_t *body_len)
{
    return request(c->h, url, 0, NULL, 0, opts, status, body, body_len);
}

fk_err fki_net_client_post(fki_net_client *c, const char *url, const void *req_body,
                           size_t req_len, const struct fki_net_client_opts *opts, long *status,
                           uint8_t **body, size_t *body_len)
{
    return request(c->h, url, 1, req_body, req_len, opts, status, body, body_len);
}

void fki_net_client_free(fki_net_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->h);
    free(c);
}
