/*
 * admit.h - which entries the log takes (docs/log.md 7.6): signed recovery
 * requests for the authorities it serves, from allowed requesters, at most
 * a few a minute per requester; the certified transcripts that made those
 * authorities (in full, or as a hash at most --rate a minute per
 * authority); or, for an open log, anything.  Program
 * code compiled into fairkey-net.
 */
#ifndef FK_LOG_ADMIT_H
#define FK_LOG_ADMIT_H

#include <stddef.h>
#include <stdint.h>

#include <fairkey.h>

/* Authorities one log serves: each add compares its authority id with every
 * one, and a log for more is several logs. */
#define FKI_LOG_MAX_AUTHORITIES 64
/* Requests one requester may add per minute, and the burst it may send at
 * once (a token bucket of that size, refilled at that rate).  Recovery
 * requests are rare; a dozen a minute is an investigation, hundreds a
 * spammer filling the owners' audits. */
#define FKI_LOG_DEFAULT_RATE 10u
/* --rate above this is no limit at all (one request per millisecond). */
#define FKI_LOG_MAX_RATE 60000u
/* Requesters whose buckets are remembered at once: about 48 bytes each, 6
 * MiB in all.  A bucket that has refilled carries nothing and is dropped
 * (swept at most once a second when the table is full); a new requester
 * while every bucket is busy gets 429, so key churn costs a spammer
 * FKI_LOG_RATE_REQUESTERS signed requests a minute at most. */
#define FKI_LOG_RATE_REQUESTERS 65536u

/* A source deposit record is admitted only if dated at most a day before
 * the log's clock and at most 5 minutes after it: a record is logged when
 * it is made, so an older one is a replay (the window of agents' requests,
 * REC_WINDOW_S and REC_SKEW_S). */
#define FKI_LOG_DEPOSIT_WINDOW_S (24 * 3600)
#define FKI_LOG_DEPOSIT_SKEW_S 300

struct fki_log_admit_config {
    int open;   /* take any entry (no other field is used) */
    /* Authority ids (lowercase hex, as in the request's authority line). */
    const char (*authorities)[FK_ESCROW_ID_HEX_LEN];
    /* Their public keys, in the same order: a request's target must carry
     * a valid stanza proof under its authority's PK. */
    const uint8_t (*authority_pks)[FK_ESCROW_POINT_LEN];
    /* Their agent counts n, in the same order: a transcript-hash entry
     * carries exactly n signatures.  NULL: not checked (unit tests). */
    const unsigned *authority_ns;
    size_t nauthorities;
    /* fk_requesters_allowed allow-list text; NULL: any signed requester. */
    const char *requesters;
    size_t requesters_len;
    unsigned rate;   /* per requester per minute; 0 = FKI_LOG_DEFAULT_RATE */
};

typedef struct fki_log_admit fki_log_admit;

/* Copies everything cfg points to.  FK_ERR_LIMIT for too many authorities
 * or a rate out of range. */
fk_err fki_log_admit_new(fki_log_admit **out, const struct fki_log_admit_config *cfg);
void fki_log_admit_free(fki_log_admit *a);

/* May entry be sequenced?  0 if so; else the HTTP status (400, 403, 413,
 * 429) and *why a static one-line reason ending in '\n'.  now_ms is a
 * monotonic clock in milliseconds.  Thread-safe. */
int fki_log_admit_check(fki_log_admit *a, const uint8_t *entry, size_t len, uint64_t now_ms,
                        const char **why);

/* The rate limit alone: take one token from key's bucket.  0 on success,
 * 429 when the bucket is empty or no bucket is free.  (For tests.) */
int fki_log_admit_rate(fki_log_admit *a, const uint8_t key[FK_REQUEST_KEY_LEN], uint64_t now_ms,
                       const char **why);

#endif
