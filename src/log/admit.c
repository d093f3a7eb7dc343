/*
 * admit.c - the log's admission check (admit.h): one function decides from
 * an entry's first line what kind of entry it is, and each kind has its own
 * check: the signed recovery request (docs/protocol.md section 3), the
 * certified transcript of a dealerless authority's ceremony in full or as
 * a hash (docs/spec.md 9.7), and the resharing of an authority to new
 * agents (docs/spec.md 10.6), and a vendor's signed source deposit record
 * (docs/protocol.md section 10).
 */
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "log/admit.h"

struct bucket {
    uint8_t key[FK_REQUEST_KEY_LEN];
    int used;
    double tokens;
    uint64_t at;   /* ms of the last refill */
};

/* Open addressing, linear probing, at most half full. */
#define SLOTS (2u * FKI_LOG_RATE_REQUESTERS)

struct fki_log_admit {
    int open;
    char (*auth)[FK_ESCROW_ID_HEX_LEN];
    uint8_t (*pk)[FK_ESCROW_POINT_LEN];
    unsigned *n;   /* 0: not checked */
    size_t nauth;
    char *requesters;
    size_t requesters_len;
    unsigned rate;
    pthread_mutex_t mu;   /* the buckets */
    struct bucket *slot;
    size_t used;
    uint64_t swept_at;
    int swept;
};

/* What an entry's first line says it is. */
enum entry_kind {
    ENTRY_UNKNOWN,
    ENTRY_REQUEST,
    ENTRY_TRANSCRIPT,
    ENTRY_TRANSCRIPT_HASH,
    ENTRY_RESHARE,
    ENTRY_DEPOSIT
};

static const struct {
    const char *prefix;
    enum entry_kind kind;
} KINDS[] = {
    /* The version is the request parser's to judge (fk_request_verify). */
    {"fairkey recovery request ", ENTRY_REQUEST},
    {"fairkey authority transcript v1", ENTRY_TRANSCRIPT},
    {"fairkey authority transcript-hash v1", ENTRY_TRANSCRIPT_HASH},
    {"fairkey authority reshare v1", ENTRY_RESHARE},
    {FK_DEPOSIT_MAGIC, ENTRY_DEPOSIT},
};

static enum entry_kind entry_kind(const uint8_t *entry, size_t len)
{
    const uint8_t *nl = memchr(entry, '\n', len);
    size_t first = nl ? (size_t)(nl - entry) : len;
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++) {
        size_t pl = strlen(KINDS[i].prefix);
        /* The transcript kinds are whole lines: "v1" is not a prefix of "v10". */
        if (first >= pl && !memcmp(entry, KINDS[i].prefix, pl) &&
            (KINDS[i].kind == ENTRY_REQUEST || first == pl))
            return KINDS[i].kind;
    }
    return ENTRY_UNKNOWN;
}

fk_err fki_log_admit_new(fki_log_admit **out, const struct fki_log_admit_config *cfg)
{
    unsigned rate = cfg->rate ? cfg->rate : FKI_LOG_DEFAULT_RATE;
    if (cfg->nauthorities > FKI_LOG_MAX_AUTHORITIES || rate > FKI_LOG_MAX_RATE)
        return FK_ERR_LIMIT;
    fki_log_admit *a = calloc(1, sizeof *a);
    if (!a)
        return FK_ERR_NOMEM;
    a->open = cfg->open;
    a->rate = rate;
    pthread_mutex_init(&a->mu, NULL);
    if (!a->open) {
        a->auth = calloc(cfg->nauthorities ? cfg->nauthorities : 1, sizeof *a->auth);
        a->pk = calloc(cfg->nauthorities ? cfg->nauthorities : 1, sizeof *a->pk);
        a->n = calloc(cfg->nauthorities ? cfg->nauthorities : 1, sizeof *a->n);
        a->slot = calloc(SLOTS, sizeof *a->slot);
        if (cfg->requesters) {
            a->requesters = malloc(cfg->requesters_len + 1);
            if (a->requesters) {
                memcpy(a->requesters, cfg->requesters, cfg->requesters_len);
                a->requesters_len = cfg->requesters_len;
            }
        }
        if (!a->auth || !a->pk || !a->n || !a->slot || (cfg->requesters && !a->requesters)) {
            fki_log_admit_free(a);
            return FK_ERR_NOMEM;
        }
        memcpy(a->auth, cfg->authorities, cfg->nauthorities * sizeof *a->auth);
        memcpy(a->pk, cfg->authority_pks, cfg->nauthorities * sizeof *a->pk);
        if (cfg->authority_ns)
            memcpy(a->n, cfg->authority_ns, cfg->nauthorities * sizeof *a->n);
        a->nauth = cfg->nauthorities;
    }
    *out = a;
    return FK_OK;
}

void fki_log_admit_free(fki_log_admit *a)
{
    if (!a)
        return;
    free(a->auth);
    free(a->pk);
    free(a->n);
    free(a->requesters);
    free(a->slot);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

static size_t slot_of(const uint8_t key[FK_REQUEST_KEY_LEN])
{
    /* Keys are Ed25519 public keys a requester chooses: a keyed hash would
     * resist crafted collisions, but a requester who crafts keys only slows
     * its own lookups, and probing is bounded by the table. */
    uint64_t h;
    memcpy(&h, key, sizeof h);
    return (size_t)(h % SLOTS);
}

/* Refill b to now; 1 if it is full (it carries no state). */
static int refill(const fki_log_admit *a, struct bucket *b, uint64_t now)
{
    if (now > b->at) {
        b->tokens += (double)(now - b->at) * a->rate / 60000.0;
        b->at = now;
    }
    if (b->tokens >= a->rate) {
        b->tokens = a->rate;
        return 1;
    }
    return 0;
}

static struct bucket *find(fki_log_admit *a, const uint8_t *key, int *found)
{
    for (size_t i = slot_of(key);; i = (i + 1) % SLOTS) {
        struct bucket *b = &a->slot[i];
        if (!b->used || !memcmp(b->key, key, FK_REQUEST_KEY_LEN)) {
            *found = b->used;
            return b;
        }
    }
}

/* Drop every bucket that has refilled (it means the same as no bucket),
 * rebuilding the table so probing stays correct. */
static void sweep(fki_log_admit *a, uint64_t now)
{
    size_t live = 0;
    for (size_t i = 0; i < SLOTS; i++) {
        struct bucket *b = &a->slot[i];
        if (b->used && !refill(a, b, now))
            a->slot[live++] = *b;   /* live < i + 1: never overwrites an unread slot */
    }
    struct bucket *keep = malloc((live ? live : 1) * sizeof *keep);
    if (!keep)
        return;   /* the table stays full; adds get 429 until memory returns */
    memcpy(keep, a->slot, live * sizeof *keep);
    memset(a->slot, 0, SLOTS * sizeof *a->slot);
    for (size_t i = 0; i < live; i++) {
        int f;
        *find(a, keep[i].key, &f) = keep[i];
    }
    a->used = live;
    free(keep);
}

int fki_log_admit_rate(fki_log_admit *a, const uint8_t key[FK_REQUEST_KEY_LEN], uint64_t now_ms,
                       const char **why)
{
    int status = 0, found;
    pthread_mutex_lock(&a->mu);
    struct bucket *b = find(a, key, &found);
    if (!found && a->used == FKI_LOG_RATE_REQUESTERS) {
        if (!a->swept || now_ms - a->swept_at >= 1000) {
            sweep(a, now_ms);
            a->swept = 1;
            a->swept_at = now_ms;
            b = find(a, key, &found);
        }
        if (a->used == FKI_LOG_RATE_REQUESTERS) {
            *why = "too many requesters at once; retry in a minute\n";
            status = 429;
            goto out;
        }
    }
    if (!found) {
        memcpy(b->key, key, FK_REQUEST_KEY_LEN);
        b->used = 1;
        b->tokens = a->rate;
        b->at = now_ms;
        a->used++;
    }
    refill(a, b, now_ms);
    if (b->tokens < 1.0) {
        *why = "this requester is over its rate of requests a minute; retry later\n";
        status = 429;
        goto out;
    }
    b->tokens -= 1.0;
out:
    pthread_mutex_unlock(&a->mu);
    return status;
}

static int admit_request(fki_log_admit *a, const uint8_t *entry, size_t len, uint64_t now_ms,
                         const char **why)
{
    fk_request r;
    if (len > FK_REQUEST_NOTE_MAX) {
        *why = "a recovery request is at most 4096 bytes\n";
        return 413;
    }
    fk_err e = fk_request_verify(&r, (const char *)entry, len);
    if (e == FK_ERR_SIGNATURE) {
        *why = "the request's signature does not verify with the key it names\n";
        return 403;
    }
    if (e) {
        *why = "not a well-formed signed recovery request\n";
        return 400;
    }
    size_t i = 0;
    while (i < a->nauth && strcmp(a->auth[i], r.authority))
        i++;
    if (i == a->nauth) {
        *why = "the request names an authority this log does not serve; send it to that "
               "authority's log\n";
        return 403;
    }
    if (a->requesters &&
        fk_requesters_allowed(a->requesters, a->requesters_len, r.requester, r.requester_key)) {
        *why = "requester not allowed by this log's --requesters list\n";
        return 403;
    }
    int st = fki_log_admit_rate(a, r.requester_key, now_ms, why);
    if (st)
        return st;
    /* After the rate (a refused target still spends a token): the proof
     * costs a few hundred microseconds.  Agents check it again on their own. */
    if (fk_request_target_verify(&r, a->pk[i])) {
        *why = "the request's target is not an escrow stanza of its authority (its validity "
               "proof does not verify); copy the target from the file with 'fairkey request'\n";
        return 400;
    }
    return 0;
}

/* "fairkey authority transcript v1" then a certified transcript file: the
 * log takes it when every PoP and all n certification signatures verify
 * (the participants' keys are in T) and the authority T determines is one
 * this log serves.  No rate: only the authority's participants can make
 * one, and re-logging the same birth changes nothing. */
static const char transcript_line[] = "fairkey authority transcript v1\n";

static int admit_transcript(fki_log_admit *a, const uint8_t *entry, size_t len, const char **why)
{
    size_t hl = sizeof transcript_line - 1, tl;
    fk_dkg_transcript_view v;
    unsigned blame;
    int st = 400;
    uint8_t *t = malloc(len), (*sigs)[FK_DKG_SIG_LEN] = malloc(FK_DKG_MAX_PARTICIPANTS * FK_DKG_SIG_LEN);
    fk_escrow_authority *auth = malloc(sizeof *auth);
    char hex[FK_ESCROW_ID_HEX_LEN];
    *why = "not a well-formed certified authority transcript\n";
    if (!t || !sigs || !auth) {
        *why = "out of memory\n";
        st = 503;
        goto out;
    }
    if (len < hl || memcmp(entry, transcript_line, hl) ||
        fk_dkg_certified_parse(&v, t, len, &tl, sigs, (const char *)entry + hl, len - hl))
        goto out;
    if (fk_dkg_transcript_check_pops(&v, &blame) ||
        fk_dkg_certificate_verify(&v, t, tl, (const uint8_t(*)[FK_DKG_SIG_LEN])sigs, &blame)) {
        *why = "a proof of possession or certification signature in the transcript does not "
               "verify\n";
        st = 403;
        goto out;
    }
    if (fk_dkg_authority_from_transcript(auth, &v))
        goto out;
    fk_escrow_id_hex(hex, auth->id);
    st = 403;
    *why = "the transcript makes an authority this log does not serve\n";
    for (size_t i = 0; i < a->nauth; i++)
        if (!strcmp(a->auth[i], hex))
            st = 0;
out:
    free(t);
    free(sigs);
    free(auth);
    return st;
}

/* "fairkey authority transcript-hash v1": a transcript too large for an
 * entry, as its SHA-256, the authority id and the n signatures.  Without T
 * the log cannot verify the signatures, so it checks what it can: the form
 * (strict), an authority it serves, exactly that authority's n signatures;
 * and, since anyone can write such an entry, at most --rate a minute per
 * authority.  Whoever holds T checks the entry against it (authority verify
 * --receipt rebuilds the entry from T: a made-up entry matches no T). */
static int admit_transcript_hash(fki_log_admit *a, const uint8_t *entry, size_t len,
                                 uint64_t now_ms, const char **why)
{
    fk_dkg_log_hash *h = malloc(sizeof *h);
    char hex[FK_ESCROW_ID_HEX_LEN];
    size_t i = 0;
    int st = 400;
    *why = "not a well-formed authority transcript-hash entry\n";
    if (!h) {
        *why = "out of memory\n";
        return 503;
    }
    if (fk_dkg_log_hash_parse(h, (const char *)entry, len))
        goto out;
    fk_escrow_id_hex(hex, h->authority_id);
    while (i < a->nauth && strcmp(a->auth[i], hex))
        i++;
    st = 403;
    if (i == a->nauth) {
        *why = "the transcript-hash entry names an authority this log does not serve\n";
        goto out;
    }
    if (a->n[i] && h->n != a->n[i]) {
        *why = "the transcript-hash entry does not carry one signature per agent of its "
               "authority\n";
        goto out;
    }
    st = fki_log_admit_rate(a, h->authority_id, now_ms, why);
out:
    free(h);
    return st;
}

/* "fairkey authority reshare v1": taken when the old authority it carries
 * is one this log serves, every dealer's PoP verifies, every constant term
 * is lambda_i * PK_i (so the new commitments interpolate to the same PK),
 * and the dealings make the new authority id the entry names.  No rate, as
 * for transcripts: only a quorum of the old agents can make one. */
static int admit_reshare(fki_log_admit *a, const uint8_t *entry, size_t len, const char **why)
{
    fk_reshare_entry *e = malloc(sizeof *e);
    fk_escrow_authority *auth = malloc(sizeof *auth);
    char hex[FK_ESCROW_ID_HEX_LEN];
    unsigned blame;
    int st = 400;
    *why = "not a well-formed authority resharing entry\n";
    if (!e || !auth) {
        *why = "out of memory\n";
        st = 503;
        goto out;
    }
    if (fk_reshare_entry_parse(e, (const char *)entry, len))
        goto out;
    fk_escrow_id_hex(hex, e->old.id);
    st = 403;
    *why = "the resharing is of an authority this log does not serve\n";
    size_t i = 0;
    while (i < a->nauth && strcmp(a->auth[i], hex))
        i++;
    if (i == a->nauth)
        goto out;
    if (fk_reshare_entry_verify(auth, &blame, e)) {
        *why = "a dealer's proof of possession or constant-term commitment does not verify, or "
               "the dealings do not make the new authority the entry names\n";
        goto out;
    }
    st = 0;
out:
    free(e);
    free(auth);
    return st;
}

/* FK_DEPOSIT_MAGIC: a vendor's signed deposit record.  Taken when it is at
 * most FK_DEPOSIT_NOTE_MAX bytes, parses strictly, its one signature
 * verifies under the vendor key it names, it names an authority this log
 * serves, it is dated within the window around the log's clock (a record
 * is logged when it is made: an old one is a replay), its vendor key is
 * within --rate, and its target carries a valid escrow-stanza proof under
 * that authority's PK (so it names a stanza the authority's agents would
 * answer for, as an inspection request must).  An exact replay of a logged
 * record is the same entry: the log answers with its first index. */
static int admit_deposit(fki_log_admit *a, const uint8_t *entry, size_t len, uint64_t now_ms,
                         const char **why)
{
    fk_deposit *d;
    int st = 400;
    if (len > FK_DEPOSIT_NOTE_MAX) {
        *why = "a source deposit record is at most 4096 bytes\n";
        return 413;
    }
    if (!(d = malloc(sizeof *d))) {
        *why = "out of memory\n";
        return 503;
    }
    fk_err e = fk_deposit_verify(d, (const char *)entry, len);
    if (e == FK_ERR_SIGNATURE) {
        *why = "the deposit record's signature does not verify with the vendor key it names\n";
        st = 403;
        goto out;
    }
    if (e) {
        *why = "not a well-formed signed source deposit record\n";
        goto out;
    }
    size_t i = 0;
    while (i < a->nauth && strcmp(a->auth[i], d->authority))
        i++;
    st = 403;
    if (i == a->nauth) {
        *why = "the deposit record names an authority this log does not serve; send it to that "
               "authority's log\n";
        goto out;
    }
    int64_t now = (int64_t)time(NULL);
    if (d->time < now - FKI_LOG_DEPOSIT_WINDOW_S) {
        *why = "the deposit record is more than a day old: a record is logged when it is made "
               "(a replay?); sign a new one with 'fairkey deposit'\n";
        goto out;
    }
    if (d->time > now + FKI_LOG_DEPOSIT_SKEW_S) {
        *why = "the deposit record is dated in the future; check the vendor's clock\n";
        goto out;
    }
    if ((st = fki_log_admit_rate(a, d->vendor_key, now_ms, why)))
        goto out;
    if (fk_deposit_target_verify(d, a->pk[i])) {
        *why = "the deposit record's target is not an escrow stanza of its authority (its "
               "validity proof does not verify); 'fairkey deposit' copies it from the "
               "ciphertext\n";
        st = 400;
        goto out;
    }
    st = 0;
out:
    free(d);
    return st;
}

int fki_log_admit_check(fki_log_admit *a, const uint8_t *entry, size_t len, uint64_t now_ms,
                        const char **why)
{
    if (a->open)
        return 0;
    switch (entry_kind(entry, len)) {
    case ENTRY_REQUEST:
        return admit_request(a, entry, len, now_ms, why);
    case ENTRY_TRANSCRIPT:
        return admit_transcript(a, entry, len, why);
    case ENTRY_TRANSCRIPT_HASH:
        return admit_transcript_hash(a, entry, len, now_ms, why);
    case ENTRY_RESHARE:
        return admit_reshare(a, entry, len, why);
    case ENTRY_DEPOSIT:
        return admit_deposit(a, entry, len, now_ms, why);
    case ENTRY_UNKNOWN:
    default:
        *why = "not a signed fairkey recovery request, a certified authority transcript, an "
               "authority resharing or a source deposit record; this log takes nothing else\n";
        return 400;
    }
}
