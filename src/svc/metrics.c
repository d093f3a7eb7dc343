/*
 * metrics.c - Prometheus text exposition for the daemons (metrics.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "svc/metrics.h"

void fki_metrics_hist_init(struct fki_metrics_hist *h, const double *bounds, size_t nbounds)
{
    memset(h, 0, sizeof *h);
    h->bounds = bounds;
    h->nbounds = nbounds > FKI_METRICS_MAX_BUCKETS ? FKI_METRICS_MAX_BUCKETS : nbounds;
}

void fki_metrics_hist_observe(struct fki_metrics_hist *h, double v)
{
    size_t i = 0;
    while (i < h->nbounds && v > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    if (v > 0)
        atomic_fetch_add_explicit(&h->sum_micro, (uint64_t)(v * 1e6 + 0.5), memory_order_relaxed);
}

int fki_metrics_begin(fki_metrics_out *m)
{
    memset(m, 0, sizeof *m);
    m->cap = FKI_METRICS_MAX;
    m->buf = malloc(m->cap);
    return m->buf ? 0 : -1;
}

static void put(fki_metrics_out *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(fki_metrics_out *m, const char *fmt, ...)
{
    if (m->full || !m->buf)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m->buf + m->len, m->cap - m->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= m->cap - m->len) {
        /* Full: drop the partial line, so the answer ends at a whole one. */
        m->full = 1;
        while (m->len && m->buf[m->len - 1] != '\n')
            m->len--;
        return;
    }
    m->len += (size_t)n;
}

void fki_metrics_family(fki_metrics_out *m, const char *name, const char *type, const char *help)
{
    put(m, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A value as the format writes it: integers without a fraction. */
static void put_value(fki_metrics_out *m, double v)
{
    /* (no libm: the values are counts, gauges and sums of seconds) */
    if (v >= 0 && v < 1e15 && v == (double)(uint64_t)v)
        put(m, "%.0f\n", v);
    else
        put(m, "%.6g\n", v);
}

void fki_metrics_sample(fki_metrics_out *m, const char *name, const char *label, const char *lvalue,
                        double v)
{
    if (!label) {
        put(m, "%s ", name);
    } else {
        char esc[512];
        size_t k = 0;
        for (const char *p = lvalue; *p && k + 3 < sizeof esc; p++) {
            if (*p == '\\' || *p == '"') {
                esc[k++] = '\\';
                esc[k++] = *p;
            } else if (*p == '\n') {
                esc[k++] = '\\';
                esc[k++] = 'n';
            } else {
                esc[k++] = *p;
            }
        }
        esc[k] = 0;
        put(m, "%s{%s=\"%s\"} ", name, label, esc);
    }
    put_value(m, v);
}

void fki_metrics_histogram(fki_metrics_out *m, const char *name, const char *help,
                           const struct fki_metrics_hist *h)
{
    fki_metrics_family(m, name, "histogram", help);
    uint64_t cum = 0;
    for (size_t i = 0; i <= h->nbounds; i++) {
        cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        if (i < h->nbounds)
            put(m, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i], (unsigned long long)cum);
        else
            put(m, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
    }
    put(m, "%s_sum ", name);
    put_value(m, (double)atomic_load_explicit(&h->sum_micro, memory_order_relaxed) / 1e6);
    put(m, "%s_count %llu\n", name,
        (unsigned long long)atomic_load_explicit(&h->count, memory_order_relaxed));
}

/* One daemon per process: its reloads are the process's. */
static _Atomic uint64_t reloads[2];

void fki_metrics_reloaded(int ok)
{
    atomic_fetch_add(&reloads[ok ? 0 : 1], 1);
}

void fki_metrics_common(fki_metrics_out *m, const struct fki_net_server *srv, double uptime_s)
{
    uint64_t reloads_ok = atomic_load(&reloads[0]), reloads_failed = atomic_load(&reloads[1]);
    fki_metrics_one(m, "fairkey_uptime_seconds", "gauge",
                    "Seconds since the daemon started.",
                    (double)(uint64_t)uptime_s);
    fki_metrics_family(m, "fairkey_reloads_total", "counter",
                       "SIGHUP reloads, by result (failed: the previous configuration stayed).");
    fki_metrics_sample(m, "fairkey_reloads_total", "result", "ok", (double)reloads_ok);
    fki_metrics_sample(m, "fairkey_reloads_total", "result", "failed", (double)reloads_failed);
    if (!srv)
        return;
    struct fki_net_server_stats st;
    fki_net_server_stats(srv, &st);
    static const char *const cls[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    fki_metrics_family(m, "fairkey_http_responses_total", "counter",
                       "HTTP responses sent, by status class.");
    for (int i = 0; i < 5; i++)
        fki_metrics_sample(m, "fairkey_http_responses_total", "code", cls[i],
                           (double)st.responses[i]);
    fki_metrics_one(m, "fairkey_http_connections", "gauge",
                    "Open HTTP connections.",
                    (double)st.connections);
    fki_metrics_one(m, "fairkey_http_connections_total", "counter",
                    "HTTP connections accepted.",
                    (double)st.accepted);
}

void fki_metrics_one(fki_metrics_out *m, const char *name, const char *type, const char *help,
                     double v)
{
    fki_metrics_family(m, name, type, help);
    fki_metrics_sample(m, name, NULL, NULL, v);
}

void fki_metrics_respond(fki_metrics_out *m, struct fki_net_response *resp)
{
    resp->status = 200;
    resp->content_type = FKI_METRICS_CONTENT_TYPE;
    resp->cache_control = "no-store";
    resp->body = m->buf;
    resp->body_len = m->len;
    resp->body_free = m->buf;
}

size_t fki_metrics_count_lines(const char *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; text && i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t l = nl ? (size_t)(nl - (text + i)) : len - i, k = 0;
        while (k < l && (text[i + k] == ' ' || text[i + k] == '\t' || text[i + k] == '\r'))
            k++;
        if (k < l && text[i + k] != '#')
            n++;
        i += l + 1;
    }
    return n;
}
