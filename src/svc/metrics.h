/*
 * metrics.h - what the daemons' GET /metrics answers: the Prometheus text
 * exposition format (version 0.0.4), written into a bounded buffer, from
 * counters and histograms the daemons update with atomic adds (no lock on a
 * request's path).  Program code (fairkey-net), shared by the log, the agent
 * and the witness; names use the fki_metrics_ prefix.
 */
#ifndef FK_SVC_METRICS_H
#define FK_SVC_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Largest /metrics answer: a witness's 64 logs with their labels, or a
 * log's families, take a few kB. */
#define FKI_METRICS_MAX (64u * 1024u)
/* Buckets of a histogram (upper bounds, ascending; +Inf is implicit). */
#define FKI_METRICS_MAX_BUCKETS 16

/* Content-Type of the text format. */
#define FKI_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A histogram: counts per bucket, their sum (in the unit of the bounds) and
 * count.  Bounds are static; observe from any thread. */
struct fki_metrics_hist {
    const double *bounds;
    size_t nbounds;                                       /* at most FKI_METRICS_MAX_BUCKETS */
    _Atomic uint64_t bucket[FKI_METRICS_MAX_BUCKETS + 1]; /* the last: above every bound */
    _Atomic uint64_t count;
    _Atomic uint64_t sum_micro; /* sum * 1e6, so an atomic integer holds it */
};
void fki_metrics_hist_init(struct fki_metrics_hist *h, const double *bounds, size_t nbounds);
void fki_metrics_hist_observe(struct fki_metrics_hist *h, double v);

/* The text being written: a malloc'd buffer of at most FKI_METRICS_MAX
 * bytes; what does not fit is left out (the answer stays well-formed up to
 * the last whole line). */
typedef struct fki_metrics_out {
    char *buf;
    size_t len, cap;
    int full;
} fki_metrics_out;

/* 0, or -1 when out of memory. */
int fki_metrics_begin(fki_metrics_out *m);
/* The family's "# HELP" and "# TYPE" lines (type: counter, gauge, histogram). */
void fki_metrics_family(fki_metrics_out *m, const char *name, const char *type, const char *help);
/* One sample: name{label="value"} v.  label NULL: no label; the value is
 * escaped as the format asks (backslash, quote, newline). */
void fki_metrics_sample(fki_metrics_out *m, const char *name, const char *label, const char *lvalue,
                        double v);
/* A family of one unlabelled sample: its HELP and TYPE lines and the value. */
void fki_metrics_one(fki_metrics_out *m, const char *name, const char *type, const char *help,
                     double v);
/* A whole histogram family (HELP, TYPE, buckets, _sum, _count). */
void fki_metrics_histogram(fki_metrics_out *m, const char *name, const char *help,
                           const struct fki_metrics_hist *h);
/* Answer GET /metrics with what m holds (200, the format's content type,
 * no-store); the response owns m's buffer. */
struct fki_net_response;
void fki_metrics_respond(fki_metrics_out *m, struct fki_net_response *resp);
/* Lines of an allow-list that name something (neither blank nor '#'),
 * for the daemons' admission gauges; text NULL: 0. */
size_t fki_metrics_count_lines(const char *text, size_t len);
/* The families every daemon answers: the process's uptime, its SIGHUP
 * reloads (ok, failed) and its HTTP server's answers by status class and
 * connections (net/net.h; srv may be NULL). */
struct fki_net_server;
void fki_metrics_common(fki_metrics_out *m, const struct fki_net_server *srv, double uptime_s);
/* Count one SIGHUP reload (ok: applied; 0: the previous configuration stayed). */
void fki_metrics_reloaded(int ok);

#endif
