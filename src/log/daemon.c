/*
 * daemon.c - the transparency log daemon: a batching sequencer behind an add
 * endpoint, and the C2SP tlog-tiles read path.
 *
 * One sequencer thread owns the tree.  HTTP threads hash each added entry,
 * queue it and defer the answer (no thread waits); every batch_ms (counted from the
 * oldest pending add) or as soon as batch_max adds are pending, the
 * sequencer takes a batch, extends the tiles in memory, signs the new
 * checkpoint, hands everything to storage (durable when it returns), then
 * publishes the new tree to the read path and answers every waiter with a
 * C2SP tlog-proof (index, inclusion proof, signed checkpoint).  If storage
 * fails, every waiter of the batch gets a 5xx and the tree is unchanged.
 *
 * With a shared backend (PostgreSQL, several front ends on one database,
 * docs/log.md 7.9) the same batch code runs, but the adds come from the
 * database's queue: a shipper thread queues this front end's adds there, a
 * sequencer thread turns queued adds (from every front end) into batches
 * while this front end holds the lease, and an answerer thread answers this
 * front end's adds from the committed tree once their batch is in it,
 * wherever it was sequenced.
 */
#define _GNU_SOURCE   /* pthread_setname_np */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "svc/keyfile.h"
#include "log/web.h"
#include "net/net.h"
#include "svc/metrics.h"
#include "witness/witness.h"

/* 256^8 = 2^64 leaves: eight tile levels hold any tree we accept. */
#define LEVELS 8
/* Rows of a tile's node table: the tile's hashes, then 7 levels above. */
#define NODE_ROWS 9
#define NODES_PER_TILE 511
#define HL FK_TLOG_HASH_LEN

struct item {
    struct item *next;
    size_t len;
    uint8_t leaf[HL];
    fki_net_deferred *d;   /* NULL: an add queued in the database (shared) */
    int64_t qid;           /* its queue row (shared backends) */
    struct timespec arrived;
    uint64_t index;
    int have_index;     /* index known: a duplicate of a committed entry */
    uint8_t entry[];    /* len bytes, allocated with the item */
};

/* All Merkle nodes inside one tile, so a proof reads nodes instead of
 * rehashing the tile for every entry of a batch. */
struct nodetab {
    unsigned width;
    uint8_t n[NODES_PER_TILE][HL];
};

/* x >> n without the undefined shift by 64 or more. */
static uint64_t shr(uint64_t x, unsigned n)
{
    return n >= 64 ? 0 : x >> n;
}

/* row r starts at 512 - (512 >> r): 0, 256, 384, ... */
static unsigned row_off(unsigned r)
{
    return 512u - (512u >> r);
}

static fk_err nodetab_build(struct nodetab *t, const uint8_t *hashes, unsigned width)
{
    t->width = width;
    memcpy(t->n[0], hashes, (size_t)width * HL);
    for (unsigned r = 1; r < NODE_ROWS; r++) {
        unsigned cnt = width >> r;
        for (unsigned i = 0; i < cnt; i++) {
            fk_err e = fk_tlog_node_hash(t->n[row_off(r) + i], t->n[row_off(r - 1) + 2 * i],
                                         t->n[row_off(r - 1) + 2 * i + 1]);
            if (e)
                return e;
        }
    }
    return FK_OK;
}

/* The tiles of one level that a batch touched (or the unchanged edge). */
struct level_tiles {
    uint64_t base;         /* index of tabs[0] */
    size_t ntabs;
    struct nodetab *tabs;
};

struct tileset {
    struct level_tiles lv[LEVELS];
};

/* fk_tlog_node_fn over a tileset. */
static fk_err tileset_node(void *ctx, unsigned level, uint64_t index, uint8_t out[HL])
{
    struct tileset *ts = ctx;
    unsigned l = level / 8, r = level % 8;
    if (l >= LEVELS || index > (UINT64_MAX >> r))
        return FK_ERR_NOT_FOUND;
    uint64_t first = index << r;            /* first hash of the node at level 8l */
    uint64_t tile = first >> 8;
    struct level_tiles *lt = &ts->lv[l];
    if (tile < lt->base || tile - lt->base >= lt->ntabs)
        return FK_ERR_NOT_FOUND;
    struct nodetab *t = &lt->tabs[tile - lt->base];
    unsigned pos = (unsigned)(first & 255) >> r;
    if (pos >= (t->width >> r))
        return FK_ERR_NOT_FOUND;
    memcpy(out, t->n[row_off(r) + pos], HL);
    return FK_OK;
}

static void tileset_free(struct tileset *ts)
{
    for (int l = 0; l < LEVELS; l++)
        free(ts->lv[l].tabs);
    memset(ts, 0, sizeof *ts);
}

struct fki_logd {
    struct fki_log_storage st;
    fk_note_signer signer;
    fk_note_verifier verifier;
    fki_net_server *srv;
    unsigned batch_ms, batch_max;
    /* Recent worst time to make a batch durable and answer it (a maximum
     * that decays by 10% per batch, ms): a batch starts that much before its
     * deadline, so adds are answered within about batch_ms of arriving
     * rather than batch_ms plus the write. */
    double write_ms;
    int lock_fd;   /* DIR/lock, flock()ed while this process owns the log */

    pthread_t thr;
    int thr_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct item *head, *tail;
    size_t count, bytes;
    int stopping;

    /* Published tree: written by the sequencer (the answerer with a shared
     * backend), read by HTTP threads.  It never goes back. */
    pthread_rwlock_t pub;
    uint64_t size;
    char cp[FKI_LOG_MAX_CHECKPOINT + 1];
    size_t cp_len;

    /* Sequencer-owned: the committed tree it extends, and its right edge. */
    uint64_t seq_size;
    fk_tlog_frontier frontier;
    unsigned edge_w[LEVELS];
    uint8_t edge[LEVELS][FK_TILE_WIDTH][HL];
    uint8_t *edge_bundle;
    size_t edge_bundle_len;
    char *answer;   /* scratch for one tlog-proof answer */
    fki_witness_set *witnesses;   /* NULL: no witness configured */
    unsigned cosign_refresh_s;    /* re-cosign a quiet log's checkpoint after this */
    struct timespec cosigned_at;  /* monotonic: the last batch or re-cosigning */
    fki_log_admit *admit;         /* what POST /add takes; swapped whole on reload */
    pthread_rwlock_t admit_lock;  /* admit and the admission gauges below */
    size_t nauthorities;          /* the admission settings, for /metrics */
    unsigned rate;
    int open;
    size_t nrequesters;           /* lines of the requesters list; 0: none (any) */
    struct timespec started;      /* monotonic, for /healthz */
    char vkey[FKI_LOG_VKEY_MAX];  /* "<vkey>\n", served at /vkey */
    size_t vkey_len;
    char *policy;                 /* DIR/policy as read at start, served at /policy; or NULL */
    size_t policy_len;

    /* /metrics (svc/metrics.h): updated with atomic adds. */
    _Atomic uint64_t m_sequenced;     /* new entries made durable */
    _Atomic uint64_t m_duplicates;    /* adds answered with an existing entry */
    _Atomic uint64_t m_refused[8];    /* by enum refusal */
    _Atomic uint64_t m_batch_failed;  /* batches storage could not make durable */
    _Atomic uint64_t m_cosignatures;  /* witness cosignatures added to checkpoints */
    _Atomic uint64_t m_last_cosigs;   /* on the newest checkpoint */
    struct fki_metrics_hist m_batch_s;      /* time to make a batch durable and answer it */
    struct fki_metrics_hist m_batch_size;   /* entries per batch */

    /* Shared backend (PostgreSQL, docs/log.md 7.9): the shipper thread
     * queues local adds in the database and moves them to the waiting
     * list; the answerer answers them once their batch committed, wherever
     * it was sequenced; the sequencer runs only while this front end holds
     * the lease. */
    int shared;
    pthread_t ship_thr, ans_thr;
    int ship_started, ans_started;
    struct item *whead;           /* queued in the database, unanswered (under mu) */
    size_t wcount;
    int seq_stop, ans_stop;       /* under mu */
    int held;                     /* sequencer thread: holds the lease */
    /* /healthz with a shared backend, written by the answerer (atomics):
     * its last read of the tree from the database, whether that failed,
     * and when it last saw a new tree (0: not yet). */
    int64_t db_ok_ms, db_failed, batch_seen_ms;
    int seq_lost;                 /* a batch failed: the lease state is suspect */
    char *answer2;                /* the answerer's tlog-proof scratch */
};

/* Why POST /add was refused, for fairkey_log_add_refused_total. */
enum refusal { R_MALFORMED, R_NOT_ALLOWED, R_TOO_LARGE, R_RATE, R_QUEUE_FULL, R_SHUTDOWN,
               R_STORAGE, R_OTHER, R_COUNT };
static const char *const refusal_names[R_COUNT] = {
    "malformed", "not_allowed", "too_large", "rate_limited", "queue_full", "shutting_down",
    "storage_failed", "other"};
static const double batch_s_bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                        0.25,  0.5,   1,    2.5,   5,    10};
static const double batch_size_bounds[] = {1, 2, 4, 8, 16, 64, 256, 1024, 4096, 16384, 65536};

static void count_refusal(struct fki_logd *d, enum refusal r)
{
    atomic_fetch_add_explicit(&d->m_refused[r], 1, memory_order_relaxed);
}

/* ---- time ----------------------------------------------------------------- */

static void now_mono(struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
}

static void add_ms(struct timespec *ts, unsigned ms)
{
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static int before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* ---- answers -------------------------------------------------------------- */

/* Answer now, or with stage set only stage the answer (the caller releases
 * a whole batch's answers together). */
static void answer_text_at(fki_net_deferred *d, int status, const char *msg, int stage)
{
    struct fki_net_response r = {.status = status, .body = msg, .body_len = strlen(msg)};
    if (status == 503) {
        r.extra_name[0] = "Retry-After";
        r.extra_value[0] = "1";
    }
    if (stage)
        fki_net_stage(d, &r);
    else
        fki_net_complete(d, &r);
}

static void answer_text(fki_net_deferred *d, int status, const char *msg)
{
    answer_text_at(d, status, msg, 0);
}

static void free_items(struct item *it)
{
    while (it) {
        struct item *n = it->next;
        free(it);
        it = n;
    }
}

/* Fetch callback over storage, for proofs that reach committed tiles. */
static fk_err storage_fetch(void *ctx, const fk_tile *t, uint8_t *out, size_t cap, size_t *len)
{
    struct fki_logd *d = ctx;
    uint8_t *data;
    size_t n;
    fk_err e = d->st.read_tile(d->st.self, t->level, t->index, t->width, &data, &n);
    if (e)
        return e;
    if (n > cap) {
        free(data);
        return FK_ERR_STORAGE;
    }
    memcpy(out, data, n);
    *len = n;
    free(data);
    return FK_OK;
}

fk_err fki_log_answer_encode(char *out, const uint8_t *extra, size_t extra_len, uint64_t index,
                             const uint8_t (*proof)[FK_TLOG_HASH_LEN], size_t nproof,
                             const char *cp, size_t cp_len, size_t *len)
{
    return fk_tlog_proof_encode(extra, extra_len, index, proof, nproof, cp, cp_len, out,
                                FKI_LOG_ANSWER_CAP, len);
}

/* Stage one waiter's answer: a tlog-proof for index in the published tree. */
static void stage_proof(struct fki_logd *d, char *answer, const fk_tlog_proof_ctx *pc,
                        struct item *it, uint64_t size, fk_tlog_node_fn fn, void *ctx)
{
    if (!it->d)
        return;   /* queued in the database: its front end answers it */
    uint8_t proof[FK_TLOG_MAX_PROOF][HL];
    size_t np = 0, len = 0;
    fk_err e = pc ? FK_OK : FK_ERR_INVALID;
    if (!e)
        e = fk_tlog_prove_inclusion(it->index, size, fn, ctx, proof, FK_TLOG_MAX_PROOF, &np);
    if (!e)
        e = fk_tlog_proof_encode_ctx(pc, NULL, 0, it->index, (const uint8_t(*)[HL])proof, np,
                                     answer, FKI_LOG_ANSWER_CAP, &len);
    if (e) {
        answer_text_at(it->d, 500, "log could not build the inclusion proof; retry\n", 1);
        return;
    }
    struct fki_net_response r = {.status = 200, .body = answer, .body_len = len,
                                 .cache_control = "no-store"};
    fki_net_stage(it->d, &r);
}

/* ---- the sequencer -------------------------------------------------------- */

/* Publish a committed tree to the read path (cp NUL-terminated at cp_len).
 * Never an older one: with several front ends, this one may have served a
 * newer tree than a slow read of the database returns. */
static void publish(struct fki_logd *d, uint64_t size, const char *cp, size_t cp_len)
{
    pthread_rwlock_wrlock(&d->pub);
    if (size >= d->size && cp_len <= FKI_LOG_MAX_CHECKPOINT) {
        d->size = size;
        memcpy(d->cp, cp, cp_len);
        d->cp[cp_len] = 0;
        d->cp_len = cp_len;
    }
    pthread_rwlock_unlock(&d->pub);
}

/* Nodes of the tree a batch builds, for witness consistency proofs: the
 * tiles the batch touched, else the committed full tiles in storage. */
struct batch_nodes {
    struct tileset *ts;
    fk_tile_reader *rd;
};

static fk_err batch_node(void *ctx, unsigned level, uint64_t index, uint8_t out[HL])
{
    struct batch_nodes *b = ctx;
    fk_err e = tileset_node(b->ts, level, index, out);
    return e == FK_ERR_NOT_FOUND ? fk_tile_reader_node(b->rd, level, index, out) : e;
}

/* Hash set of the leaf hashes of one batch, to find duplicates inside it. */
struct dupset {
    size_t cap;
    struct item **slot;
};

static struct item *dupset_put(struct dupset *s, struct item *it)
{
    size_t h;
    memcpy(&h, it->leaf, sizeof h);
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->slot[i]) {
            s->slot[i] = it;
            return NULL;
        }
        if (!memcmp(s->slot[i]->leaf, it->leaf, HL))
            return s->slot[i];
    }
}

/* One level's hashes for a batch: the old edge plus the new nodes. */
static fk_err build_level(struct fki_logd *d, int l, const uint8_t *newh,
                          size_t nnew, uint8_t **hs_out, size_t *total_out)
{
    size_t w = d->edge_w[l];
    size_t total = w + nnew;
    uint8_t *hs = malloc(total * HL);
    if (!hs)
        return FK_ERR_NOMEM;
    memcpy(hs, d->edge[l], w * HL);
    memcpy(hs + w * HL, newh, nnew * HL);
    *hs_out = hs;
    *total_out = total;
    return FK_OK;
}

static void process_batch(struct fki_logd *d, struct item *items)
{
    uint64_t old_size = d->seq_size;
    int64_t *qids = NULL;
    size_t nq = 0;
    size_t n = 0;
    for (struct item *it = items; it; it = it->next)
        n++;

    /* 1. Duplicates: of committed entries (storage index), and inside the batch. */
    struct dupset ds = {.cap = 16};
    while (ds.cap < 2 * n)
        ds.cap *= 2;
    ds.slot = calloc(ds.cap, sizeof *ds.slot);
    struct item **fresh = malloc((n ? n : 1) * sizeof *fresh);
    uint8_t (*leaves)[HL] = malloc((n ? n : 1) * HL);
    uint64_t *found = malloc((n ? n : 1) * sizeof *found);
    size_t nf = 0, nu = 0;
    if (!ds.slot || !fresh || !leaves || !found) {
        for (struct item *it = items; it; it = it->next)
            if (it->d)
                answer_text(it->d, 503, "log out of memory; retry\n");
        goto out;
    }
    /* The batch's distinct entries (fresh[0..nu)), then one lookup of all
     * of them among the committed entries. */
    for (struct item *it = items; it; it = it->next) {
        struct item *first = dupset_put(&ds, it);
        if (first) {
            it->have_index = 2;   /* resolved below from `first` */
            it->index = (uint64_t)(uintptr_t)first;
            continue;
        }
        memcpy(leaves[nu], it->leaf, HL);
        fresh[nu++] = it;
    }
    fk_err le = nu ? d->st.lookup(d->st.self, (const uint8_t(*)[HL])leaves, nu, found) : FK_OK;
    fk_tile_reader lrd;
    fk_tile_reader_init(&lrd, old_size, storage_fetch, d);
    for (size_t k = 0; k < nu; k++) {
        struct item *it = fresh[k];
        if (!le && found[k] != FKI_LOG_ABSENT) {
            /* The index is a hint: a duplicate's answer proves the leaf at
             * that index, so check it is this entry before using it.  A
             * wrong hint (a damaged index.db) only costs a repeated entry. */
            uint8_t lh[HL];
            fk_err ce = found[k] < old_size ? fk_tile_reader_node(&lrd, 0, found[k], lh)
                                             : FK_ERR_NOT_FOUND;
            if (ce == FK_OK && !memcmp(lh, it->leaf, HL)) {
                it->have_index = 1;
                it->index = found[k];
                continue;
            }
            if (ce && ce != FK_ERR_NOT_FOUND) {
                it->have_index = 3;   /* the tiles are unreadable: answered below */
                continue;
            }
            fprintf(stderr, "fairkey log: the entry index named entry %llu for a different "
                            "entry; logging it again (restart to rebuild index.db)\n",
                    (unsigned long long)found[k]);
        }
        if (le) {
            it->have_index = 3;   /* storage failure: answered below */
        } else {
            it->index = old_size + nf;
            memmove(leaves[nf], leaves[k], HL);
            fresh[nf++] = it;
        }
    }
    for (struct item *it = items; it; it = it->next)
        if (it->have_index == 2) {
            struct item *first = (struct item *)(uintptr_t)it->index;
            it->index = first->index;
            it->have_index = first->have_index == 1 ? 1 : (first->have_index == 3 ? 3 : 0);
        }

    /* Shared: the queued adds this batch consumes go in its transaction.  A
     * lookup that failed leaves them all queued for the next try. */
    if (d->shared) {
        int bad = le != FK_OK;
        for (struct item *it = items; it; it = it->next)
            bad |= it->have_index == 3;
        qids = bad ? NULL : malloc(n * sizeof *qids);
        if (!qids) {
            d->seq_lost = 1;
            goto out;
        }
        for (struct item *it = items; it; it = it->next)
            qids[nq++] = it->qid;
    }

    struct tileset ts;
    memset(&ts, 0, sizeof ts);
    struct fki_log_tile *tiles = NULL;
    size_t ntiles = 0, tiles_cap = 0;
    uint8_t *levelhs[LEVELS] = {0};
    size_t leveltotal[LEVELS] = {0};
    uint8_t *bundle = NULL;
    size_t bundle_len = 0;
    fk_tlog_frontier nf_front = d->frontier;
    uint64_t new_size = old_size + nf;
    fk_err e = FK_OK;

    if (nf) {
        /* 2. Hash tiles, level by level: the new nodes of level l+1 are the
         * roots of the tiles this batch completes at level l. */
        const uint8_t *newh = (const uint8_t *)leaves;
        size_t nnew = nf;
        uint8_t *carry = NULL;
        for (int l = 0; l < LEVELS && !e; l++) {
            uint64_t base = shr(old_size, 8u * (unsigned)(l + 1));
            if (!nnew) {
                /* Unchanged level: its edge tile only, for proofs. */
                if (d->edge_w[l]) {
                    ts.lv[l].tabs = malloc(sizeof(struct nodetab));
                    if (!ts.lv[l].tabs) {
                        e = FK_ERR_NOMEM;
                        break;
                    }
                    ts.lv[l].base = base;
                    ts.lv[l].ntabs = 1;
                    e = nodetab_build(ts.lv[l].tabs, d->edge[l][0], d->edge_w[l]);
                }
                continue;
            }
            e = build_level(d, l, newh, nnew, &levelhs[l], &leveltotal[l]);
            if (e)
                break;
            size_t total = leveltotal[l];
            size_t nt = (total + FK_TILE_WIDTH - 1) / FK_TILE_WIDTH;
            size_t nfull = total / FK_TILE_WIDTH;
            ts.lv[l].base = base;
            ts.lv[l].ntabs = nt;
            ts.lv[l].tabs = malloc(nt * sizeof(struct nodetab));
            uint8_t *next = malloc((nfull ? nfull : 1) * HL);
            if (ntiles + nt + 64 > tiles_cap) {
                tiles_cap = (ntiles + nt + 64) * 2;
                struct fki_log_tile *ntl = realloc(tiles, tiles_cap * sizeof *tiles);
                if (ntl)
                    tiles = ntl;
                else
                    e = FK_ERR_NOMEM;
            }
            if (!ts.lv[l].tabs || !next || e) {
                free(next);
                e = FK_ERR_NOMEM;
                break;
            }
            for (size_t k = 0; k < nt && !e; k++) {
                unsigned w = (unsigned)(k < nfull ? FK_TILE_WIDTH : total % FK_TILE_WIDTH);
                const uint8_t *p = levelhs[l] + k * FK_TILE_WIDTH * HL;
                e = nodetab_build(&ts.lv[l].tabs[k], p, w);
                tiles[ntiles++] = (struct fki_log_tile){
                    .level = l, .index = base + k, .width = w, .data = p, .len = (size_t)w * HL};
                if (w == FK_TILE_WIDTH)
                    memcpy(next + k * HL, ts.lv[l].tabs[k].n[row_off(8)], HL);
            }
            free(carry);
            carry = next;
            newh = next;
            nnew = nfull;
        }
        free(carry);

        /* 3. Entry bundles: the edge bundle plus the new entries. */
        size_t need = ntiles + nf / FK_TILE_WIDTH + 2;
        if (!e && need > tiles_cap) {
            struct fki_log_tile *ntl = realloc(tiles, need * sizeof *tiles);
            if (ntl) {
                tiles = ntl;
                tiles_cap = need;
            } else {
                e = FK_ERR_NOMEM;
            }
        }
        size_t cap = d->edge_bundle_len;
        for (size_t i = 0; i < nf; i++)
            cap += 2 + fresh[i]->len;
        bundle = e ? NULL : malloc(cap ? cap : 1);
        if (!bundle)
            e = e ? e : FK_ERR_NOMEM;
        if (!e) {
            if (d->edge_bundle_len)
                memcpy(bundle, d->edge_bundle, d->edge_bundle_len);
            bundle_len = d->edge_bundle_len;
            size_t count = d->edge_w[0], start = 0;
            uint64_t bidx = old_size >> 8;
            for (size_t i = 0; i < nf && !e; i++) {
                e = fk_bundle_append(bundle, cap, &bundle_len, fresh[i]->entry, fresh[i]->len);
                if (++count == FK_TILE_WIDTH) {
                    tiles[ntiles++] = (struct fki_log_tile){
                        .level = FKI_LOG_LEVEL_ENTRIES, .index = bidx++, .width = FK_TILE_WIDTH,
                        .data = bundle + start, .len = bundle_len - start};
                    start = bundle_len;
                    count = 0;
                }
            }
            if (!e && count)
                tiles[ntiles++] = (struct fki_log_tile){
                    .level = FKI_LOG_LEVEL_ENTRIES, .index = bidx, .width = (unsigned)count,
                    .data = bundle + start, .len = bundle_len - start};
        }

        /* 4. Root and signed checkpoint. */
        uint8_t root[HL];
        for (size_t i = 0; i < nf && !e; i++)
            e = fk_tlog_frontier_append(&nf_front, leaves[i], NULL, NULL);
        if (!e)
            e = fk_tlog_frontier_root(&nf_front, root);
        char cp[FKI_LOG_MAX_CHECKPOINT + 1];
        size_t cp_len = 0;
        if (!e) {
            fk_checkpoint c;
            memset(&c, 0, sizeof c);
            memcpy(c.origin, d->signer.name, d->signer.name_len + 1);
            c.origin_len = d->signer.name_len;
            c.size = new_size;
            memcpy(c.root, root, HL);
            e = fk_checkpoint_sign(&c, &d->signer, cp, sizeof cp, &cp_len);
        }
        /* 4b. Witness cosignatures, appended before the checkpoint is stored
         * and served (a witness that fails is skipped). */
        if (!e && d->witnesses) {
            fk_tile_reader *wrd = malloc(sizeof *wrd);
            if (wrd) {
                fk_tile_reader_init(wrd, old_size, storage_fetch, d);
                struct batch_nodes bn = {.ts = &ts, .rd = wrd};
                size_t got = fki_witness_set_cosign(d->witnesses, cp, &cp_len, sizeof cp,
                                                    new_size, batch_node, &bn);
                atomic_fetch_add_explicit(&d->m_cosignatures, got, memory_order_relaxed);
                atomic_store_explicit(&d->m_last_cosigs, got, memory_order_relaxed);
                free(wrd);
            }
        }

        /* 5. Durable, in order: tiles, state, checkpoint file. */
        if (!e) {
            struct fki_log_batch b = {
                .old_size = old_size, .new_size = new_size, .root = root,
                .tiles = tiles, .ntiles = ntiles,
                .leaf_hashes = (const uint8_t(*)[HL])leaves,
                .checkpoint = cp, .checkpoint_len = cp_len,
                .queue_ids = qids, .nqueue_ids = nq};
            e = d->st.store_batch(d->st.self, &b);
        }
        if (e) {
            /* Nothing of this batch is acknowledged; drop what it wrote. */
            d->st.discard_beyond(d->st.self, old_size);
            fprintf(stderr, "fairkey log: batch of %zu entries failed (%s); tree stays at %llu\n",
                    nf, fk_strerror(e), (unsigned long long)old_size);
            atomic_fetch_add_explicit(&d->m_batch_failed, 1, memory_order_relaxed);
            /* Shared: another front end may have the lease (and the tree)
             * now; the adds stay queued in the database. */
            d->seq_lost = 1;
            for (struct item *it = items; it; it = it->next) {
                count_refusal(d, R_STORAGE);
                if (it->d)
                    answer_text(it->d, 503,
                                "log storage failed; the entry was not logged, retry\n");
            }
            goto out_batch;
        }

        /* 6. Publish, then keep the new edge. */
        d->seq_size = new_size;
        publish(d, new_size, cp, cp_len);
        d->frontier = nf_front;
        for (int l = 0; l < LEVELS; l++) {
            if (!levelhs[l])
                continue;
            unsigned w = (unsigned)(leveltotal[l] % FK_TILE_WIDTH);
            d->edge_w[l] = w;
            memcpy(d->edge[l], levelhs[l] + (leveltotal[l] - w) * HL, (size_t)w * HL);
        }
        {
            /* The edge bundle is the bytes after the last full bundle. */
            size_t off = 0, elen;
            size_t skip = (size_t)(old_size & 255) + nf - d->edge_w[0];
            const uint8_t *ent;
            for (size_t i = 0; i < skip; i++)
                fk_bundle_next(bundle, bundle_len, &off, &ent, &elen);
            uint8_t *eb = malloc(bundle_len - off + 1);
            if (!eb) {
                /* The edge must match the tree; without it we cannot go on. */
                fprintf(stderr, "fairkey log: out of memory keeping the edge bundle\n");
                abort();
            }
            memcpy(eb, bundle + off, bundle_len - off);
            free(d->edge_bundle);
            d->edge_bundle = eb;
            d->edge_bundle_len = bundle_len - off;
        }
    }

    atomic_fetch_add_explicit(&d->m_sequenced, nf, memory_order_relaxed);
    atomic_fetch_add_explicit(&d->m_duplicates, n - nf, memory_order_relaxed);
    if (!nf && nq) {
        /* Only duplicates of committed entries: the tree stays, the queued
         * adds leave the queue (their front ends find them committed). */
        struct fki_log_batch b = {.old_size = old_size, .new_size = old_size,
                                  .queue_ids = qids, .nqueue_ids = nq};
        if (d->st.store_batch(d->st.self, &b))
            d->seq_lost = 1;
    }

    /* 7. Answer every waiter: stage all answers, then release them together
     * (each release wakes a server thread; most wake-ups then serve many). */
    {
        fk_tile_reader rd;
        int rd_init = 0;
        /* The checkpoint is checked once for the whole batch. */
        fk_tlog_proof_ctx pctx;
        const fk_tlog_proof_ctx *pc =
            fk_tlog_proof_ctx_init(&pctx, d->cp, d->cp_len) ? NULL : &pctx;
        for (struct item *it = items; it; it = it->next) {
            if (!it->d) {
                continue;
            } else if (it->have_index == 3) {
                answer_text_at(it->d, 503, "log storage failed; retry\n", 1);
            } else if (it->have_index == 1) {
                if (!rd_init) {
                    fk_tile_reader_init(&rd, new_size, storage_fetch, d);
                    rd_init = 1;
                }
                stage_proof(d, d->answer, pc, it, new_size, fk_tile_reader_node, &rd);
            } else {
                stage_proof(d, d->answer, pc, it, new_size, tileset_node, &ts);
            }
        }
        for (struct item *it = items; it; it = it->next)
            if (it->d)
                fki_net_release(it->d);
    }

out_batch:
    tileset_free(&ts);
    for (int l = 0; l < LEVELS; l++)
        free(levelhs[l]);
    free(tiles);
    free(bundle);
out:
    free(qids);
    free(ds.slot);
    free(fresh);
    free(leaves);
    free(found);
    free_items(items);
}

/* The current checkpoint, cosigned again without a new entry, stored like a
 * batch of no entries and published.
 *
 * refresh 0: a log that gains a witness (or restarts while a witness lacks
 * the current checkpoint) asks the witnesses it lacks now, not at the next
 * entry: a quiet log would otherwise serve a checkpoint that no policy
 * requiring that witness accepts.  Lines already there are kept.
 *
 * refresh 1: a quiet log's checkpoint is cosigned again by every witness
 * (fresh cosignature timestamps for auditors' --max-age): the log's own
 * note (up to its first signature line) plus the new lines, published only
 * if every witness that had a line answered, so a witness that is down
 * costs freshness, never a cosignature. */
static void cosign_again(struct fki_logd *d, int refresh)
{
    char cp[FKI_LOG_MAX_CHECKPOINT + 1];
    uint8_t root[HL];
    int missing[FKI_WITNESS_MAX_WITNESSES];
    size_t had = 0;
    pthread_rwlock_rdlock(&d->pub);
    size_t len = d->cp_len;
    memcpy(cp, d->cp, len + 1);
    pthread_rwlock_unlock(&d->pub);
    if (refresh) {
        had = fki_witness_set_n(d->witnesses) -
              fki_witness_set_missing(d->witnesses, cp, len, missing);
        const char *blank = strstr(cp, "\n\n");
        const char *nl = blank ? strchr(blank + 2, '\n') : NULL;
        if (!nl)
            return;
        len = (size_t)(nl + 1 - cp);
        cp[len] = 0;
    }
    fk_tile_reader *rd = malloc(sizeof *rd);
    if (!rd)
        return;
    fk_tile_reader_init(rd, d->seq_size, storage_fetch, d);
    size_t added =
        refresh ? fki_witness_set_cosign(d->witnesses, cp, &len, sizeof cp, d->seq_size,
                                         fk_tile_reader_node, rd)
                : fki_witness_set_cosign_missing(d->witnesses, cp, &len, sizeof cp, d->seq_size,
                                                 fk_tile_reader_node, rd);
    free(rd);
    if (!added || added < had || fk_tlog_frontier_root(&d->frontier, root))
        return;
    atomic_fetch_add_explicit(&d->m_cosignatures, added, memory_order_relaxed);
    atomic_store_explicit(&d->m_last_cosigs, refresh ? added : had + added, memory_order_relaxed);
    struct fki_log_batch b = {.old_size = d->seq_size, .new_size = d->seq_size, .root = root,
                              .checkpoint = cp, .checkpoint_len = len};
    if (d->st.store_batch(d->st.self, &b)) {
        fprintf(stderr, "fairkey log: could not store the newly cosigned checkpoint; it is "
                        "asked for again later\n");
        return;
    }
    publish(d, d->seq_size, cp, len);
}


/* Detach up to max adds from the head of the queue (under d->mu; the queue
 * is not empty): the first, with *last and *taken for the rest. */
static struct item *take_queued(struct fki_logd *d, size_t max, struct item **last_out,
                                size_t *taken_out)
{
    struct item *batch = d->head, *last = d->head;
    size_t taken = 1, bytes = last->len;
    while (taken < max && last->next) {
        last = last->next;
        taken++;
        bytes += last->len;
    }
    d->head = last->next;
    if (!d->head)
        d->tail = NULL;
    last->next = NULL;
    d->count -= taken;
    d->bytes -= bytes;
    *last_out = last;
    *taken_out = taken;
    return batch;
}

static void *sequencer(void *arg)
{
    struct fki_logd *d = arg;
    pthread_setname_np(pthread_self(), "fk-sequencer");   /* for top -H, perf */
    if (d->witnesses)
        cosign_again(d, 0);
    now_mono(&d->cosigned_at);
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (!d->stopping && !d->count) {
            if (!d->witnesses) {
                pthread_cond_wait(&d->cv, &d->mu);
                continue;
            }
            struct timespec due = d->cosigned_at, now;
            add_ms(&due, d->cosign_refresh_s * 1000u);
            now_mono(&now);
            if (before(&now, &due)) {
                pthread_cond_timedwait(&d->cv, &d->mu, &due);
                continue;
            }
            pthread_mutex_unlock(&d->mu);
            cosign_again(d, 1);
            now_mono(&d->cosigned_at);
            pthread_mutex_lock(&d->mu);
        }
        if (!d->count)
            break;
        struct timespec deadline = d->head->arrived;
        unsigned lead = (unsigned)(d->write_ms < d->batch_ms ? d->write_ms : d->batch_ms);
        add_ms(&deadline, d->batch_ms - lead);
        for (;;) {
            struct timespec now;
            now_mono(&now);
            if (d->stopping || d->count >= d->batch_max || !before(&now, &deadline))
                break;
            pthread_cond_timedwait(&d->cv, &d->mu, &deadline);
        }
        struct item *last;
        size_t taken;
        struct item *batch = take_queued(d, d->batch_max, &last, &taken);
        pthread_mutex_unlock(&d->mu);
        struct timespec t0, t1;
        now_mono(&t0);
        process_batch(d, batch);
        now_mono(&t1);
        d->cosigned_at = t1;
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        fki_metrics_hist_observe(&d->m_batch_s, ms / 1e3);
        fki_metrics_hist_observe(&d->m_batch_size, (double)taken);
        d->write_ms = ms > 0.9 * d->write_ms ? ms : 0.9 * d->write_ms;
        pthread_mutex_lock(&d->mu);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* ---- HTTP ----------------------------------------------------------------- */

static void respond(struct fki_net_response *r, int status, const char *msg)
{
    r->status = status;
    r->body = msg;
    r->body_len = strlen(msg);
}

static void handle_add(struct fki_logd *d, const struct fki_net_request *req,
                       struct fki_net_response *resp)
{
    if (!req->body_len) {
        count_refusal(d, R_MALFORMED);
        return respond(resp, 400, "empty entry; POST the entry bytes as the body\n");
    }
    if (req->body_len > FKI_LOG_MAX_ENTRY) {
        count_refusal(d, R_TOO_LARGE);
        return respond(resp, 413, "entry over 65535 bytes\n");
    }
    struct timespec now;
    now_mono(&now);
    const char *why;
    pthread_rwlock_rdlock(&d->admit_lock);
    int refused = fki_log_admit_check(d->admit, req->body, req->body_len,
                                      (uint64_t)now.tv_sec * 1000u +
                                          (uint64_t)now.tv_nsec / 1000000u,
                                      &why);
    pthread_rwlock_unlock(&d->admit_lock);
    if (refused) {
        count_refusal(d, refused == 400   ? R_MALFORMED
                         : refused == 403 ? R_NOT_ALLOWED
                         : refused == 413 ? R_TOO_LARGE
                         : refused == 429 ? R_RATE
                                          : R_OTHER);
        if (refused == 429) {
            resp->extra_name[0] = "Retry-After";
            resp->extra_value[0] = "60";
        }
        return respond(resp, refused, why);
    }
    struct item *it = malloc(sizeof *it + req->body_len);
    if (!it)
        return respond(resp, 503, "log out of memory; retry\n");
    memset(it, 0, sizeof *it);
    memcpy(it->entry, req->body, req->body_len);
    it->len = req->body_len;
    if (fk_tlog_leaf_hash(it->leaf, it->entry, it->len)) {
        free(it);
        return respond(resp, 500, "log could not hash the entry\n");
    }
    now_mono(&it->arrived);
    /* Defer before the item is visible to the sequencer, so its answer
     * always finds a deferred connection (deferring costs no system call). */
    it->d = fki_net_defer(req);
    if (!it->d) {
        free(it);
        return respond(resp, 503, "log out of memory; retry\n");
    }
    pthread_mutex_lock(&d->mu);
    if (d->stopping || d->count >= FKI_LOG_QUEUE_MAX ||
        d->bytes + it->len > FKI_LOG_QUEUE_BYTES_MAX) {
        int stopping = d->stopping;
        pthread_mutex_unlock(&d->mu);
        count_refusal(d, stopping ? R_SHUTDOWN : R_QUEUE_FULL);
        answer_text(it->d, 503, stopping ? "log is shutting down; retry later\n"
                                         : "log queue is full; retry in a second\n");
        free(it);
        return;
    }
    if (d->tail)
        d->tail->next = it;
    else
        d->head = it;
    d->tail = it;
    d->count++;
    d->bytes += it->len;
    int wake = d->count == 1 || d->count >= d->batch_max;
    pthread_mutex_unlock(&d->mu);
    if (wake)
        pthread_cond_signal(&d->cv);
}

/* GET /metrics: Prometheus text (docs/operations.md 4). */
static void metrics(struct fki_logd *d, struct fki_net_response *resp)
{
    fki_metrics_out m;
    if (fki_metrics_begin(&m))
        return respond(resp, 503, "out of memory\n");
    struct timespec now;
    now_mono(&now);
    fki_metrics_common(&m, d->srv, (double)(now.tv_sec - d->started.tv_sec));
    pthread_rwlock_rdlock(&d->pub);
    uint64_t size = d->size;
    pthread_rwlock_unlock(&d->pub);
    pthread_mutex_lock(&d->mu);
    size_t pending = d->count;
    pthread_mutex_unlock(&d->mu);
    fki_metrics_one(&m, "fairkey_log_tree_size", "gauge",
                    "Entries in the published tree.",
                    (double)size);
    fki_metrics_one(&m, "fairkey_log_pending_entries", "gauge",
                    "Adds waiting for the next batch.",
                    (double)pending);
    fki_metrics_one(&m, "fairkey_log_entries_sequenced_total", "counter",
                    "New entries made durable and answered.",
                    (double)atomic_load(&d->m_sequenced));
    fki_metrics_one(&m, "fairkey_log_duplicates_total", "counter",
                    "Adds answered with the entry already in the tree.",
                    (double)atomic_load(&d->m_duplicates));
    fki_metrics_family(&m, "fairkey_log_add_refused_total", "counter",
                       "Adds refused, by reason.");
    for (int r = 0; r < R_COUNT; r++)
        fki_metrics_sample(&m, "fairkey_log_add_refused_total", "reason", refusal_names[r],
                           (double)atomic_load(&d->m_refused[r]));
    fki_metrics_one(&m, "fairkey_log_batches_failed_total", "counter",
                    "Batches storage could not make durable (their adds got 503).",
                    (double)atomic_load(&d->m_batch_failed));
    fki_metrics_histogram(&m, "fairkey_log_batch_seconds",
                          "Time to sequence a batch: tiles, checkpoint, cosignatures, fsync, "
                          "answers.",
                          &d->m_batch_s);
    fki_metrics_histogram(&m, "fairkey_log_batch_entries", "Adds per batch.", &d->m_batch_size);
    fki_metrics_one(&m, "fairkey_log_witnesses", "gauge",
                    "Witnesses asked to cosign.",
                    (double)(d->witnesses ? fki_witness_set_n(d->witnesses) : 0));
    fki_metrics_one(&m, "fairkey_log_checkpoint_cosignatures", "gauge",
                    "Witness cosignatures on the newest checkpoint.",
                    (double)atomic_load(&d->m_last_cosigs));
    fki_metrics_one(&m, "fairkey_log_cosignatures_total", "counter",
                    "Witness cosignatures received.",
                    (double)atomic_load(&d->m_cosignatures));
    pthread_rwlock_rdlock(&d->admit_lock);
    double nauth = (double)d->nauthorities, rate = d->rate, nreq = (double)d->nrequesters;
    int open = d->open;
    pthread_rwlock_unlock(&d->admit_lock);
    fki_metrics_one(&m, "fairkey_log_open", "gauge",
                    "1: the log takes any entry (--open).",
                    open);
    fki_metrics_one(&m, "fairkey_log_authorities", "gauge",
                    "Authorities whose requests the log takes (reloaded on SIGHUP).",
                    nauth);
    fki_metrics_one(&m, "fairkey_log_requesters", "gauge",
                    "Lines of the requesters allow-list; 0: any signed requester.",
                    nreq);
    fki_metrics_one(&m, "fairkey_log_rate_per_minute", "gauge",
                    "Requests one requester may add per minute.",
                    rate);
    fki_metrics_respond(&m, resp);
}

static void handle_get(struct fki_logd *d, const struct fki_net_request *req,
                       struct fki_net_response *resp)
{
    static __thread char cpbuf[FKI_LOG_MAX_CHECKPOINT + 1];
    if (!strcmp(req->path, "/healthz")) {
        /* For load balancers and monitoring: answered from memory.  With a
         * shared database, 503 once this front end cannot reach it: its
         * adds would get 503 too (docs/log.md 7.9). */
        struct timespec now;
        now_mono(&now);
        pthread_rwlock_rdlock(&d->pub);
        uint64_t size = d->size;
        pthread_rwlock_unlock(&d->pub);
        char extra[256] = "";
        const char *status = "ok";
        resp->status = 200;
        if (d->shared) {
            int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
            int64_t ok_ms = __atomic_load_n(&d->db_ok_ms, __ATOMIC_RELAXED);
            int64_t seen = __atomic_load_n(&d->batch_seen_ms, __ATOMIC_RELAXED);
            int failed = (int)__atomic_load_n(&d->db_failed, __ATOMIC_RELAXED);
            long long age = ok_ms ? (long long)(now_ms - ok_ms) : -1;
            const char *db = "ok";
            if (failed) {
                db = "unreachable";
            } else if (!ok_ms || age > FKI_LOG_HEALTH_DB_MS) {
                /* No answer yet, or a read that hangs (a stalled host). */
                db = "no answer";
                if (!ok_ms && now.tv_sec - d->started.tv_sec < FKI_LOG_HEALTH_DB_MS / 1000)
                    db = "ok";   /* just started: the first read is on its way */
            }
            if (strcmp(db, "ok")) {
                status = "database unavailable";
                resp->status = 503;
            }
            char ages[48] = "null", batch[48] = "null";
            if (ok_ms)
                snprintf(ages, sizeof ages, "%.1f", (double)age / 1000);
            if (seen)
                snprintf(batch, sizeof batch, "%.1f", (double)(now_ms - seen) / 1000);
            snprintf(extra, sizeof extra,
                     ",\"backend\":\"postgresql\",\"database\":\"%s\",\"database_contact_age_s\":%s,"
                     "\"sequencer\":%s,\"last_batch_age_s\":%s",
                     db, ages, __atomic_load_n(&d->held, __ATOMIC_RELAXED) ? "true" : "false",
                     batch);
        }
        int n = snprintf(cpbuf, sizeof cpbuf, "{\"status\":\"%s\",\"tree_size\":%llu,"
                                              "\"uptime_s\":%lld%s}\n",
                         status, (unsigned long long)size,
                         (long long)(now.tv_sec - d->started.tv_sec), extra);
        resp->content_type = "application/json";
        resp->body = cpbuf;
        resp->body_len = n > 0 && (size_t)n < sizeof cpbuf ? (size_t)n : 0;
        resp->cache_control = "no-store";
        return;
    }
    if (!strcmp(req->path, "/vkey")) {
        /* The page's trust on first use (docs/log.md 7.8); constant. */
        resp->status = 200;
        resp->body = d->vkey;
        resp->body_len = d->vkey_len;
        resp->cache_control = "no-cache";
        return;
    }
    if (!strcmp(req->path, "/policy") && d->policy) {
        resp->status = 200;
        resp->body = d->policy;
        resp->body_len = d->policy_len;
        resp->cache_control = "no-cache";
        return;
    }
    const char *page = !strcmp(req->path, "/") ? "/index.html" : req->path;
    for (size_t i = 0; i < fki_web_nfiles; i++) {
        if (strcmp(page, fki_web_files[i].path))
            continue;
        /* The page shows text that log entries carry: it never inserts it as
         * markup, and the policy forbids any script but its own files.
         * connect-src is open so that ?log= and ?policy= may name other hosts. */
        resp->status = 200;
        resp->content_type = fki_web_files[i].content_type;
        resp->body = fki_web_files[i].data;
        resp->body_len = fki_web_files[i].len;
        resp->cache_control = "no-cache";
        resp->extra_name[0] = "Content-Security-Policy";
        resp->extra_value[0] = "default-src 'none'; script-src 'self'; worker-src 'self'; "
                               "style-src 'self'; img-src 'self' data:; connect-src * data:; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        resp->extra_name[1] = "X-Content-Type-Options";
        resp->extra_value[1] = "nosniff";
        return;
    }
    if (!strcmp(req->path, "/metrics"))
        return metrics(d, resp);
    if (!strcmp(req->path, "/checkpoint")) {
        pthread_rwlock_rdlock(&d->pub);
        memcpy(cpbuf, d->cp, d->cp_len);
        size_t n = d->cp_len;
        pthread_rwlock_unlock(&d->pub);
        resp->status = 200;
        resp->body = cpbuf;
        resp->body_len = n;
        /* tlog-tiles: the checkpoint is mutable, no caching beyond seconds. */
        resp->cache_control = "no-cache";
        return;
    }
    fk_tile t, cur;
    if (strncmp(req->path, "/tile/", 6) ||
        fk_tile_parse_path(&t, req->path + 1, strlen(req->path + 1)))
        return respond(resp, 404, "not found\n");
    pthread_rwlock_rdlock(&d->pub);
    uint64_t size = d->size;
    pthread_rwlock_unlock(&d->pub);
    /* Serve only what the committed tree holds: a full tile once complete,
     * a partial one no wider than the tree's. */
    if (fk_tile_at(&cur, t.level, t.index, size) ||
        (t.width == FK_TILE_WIDTH && cur.width != FK_TILE_WIDTH) || t.width > cur.width)
        return respond(resp, 404, "tile not in the tree\n");
    uint8_t *data;
    size_t len;
    fk_err e = d->st.read_tile(d->st.self, t.level, t.index, t.width, &data, &len);
    if (e == FK_ERR_NOT_FOUND)
        return respond(resp, 404, "tile not found\n");
    if (e)
        return respond(resp, 500, "log storage failed\n");
    resp->status = 200;
    resp->body_free = data;
    resp->content_type = "application/octet-stream";
    resp->body = data;
    resp->body_len = len;
    resp->cache_control = t.width == FK_TILE_WIDTH ? "public, max-age=31536000, immutable"
                                                    : "public, max-age=10";
}

static void handler(void *ctx, const struct fki_net_request *req, struct fki_net_response *resp)
{
    struct fki_logd *d = ctx;
    if (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD")) {
        if (!strcmp(req->path, "/add")) {
            resp->extra_name[0] = "Allow";
            resp->extra_value[0] = "POST";
            return respond(resp, 405, "use POST for /add\n");
        }
        return handle_get(d, req, resp);
    }
    if (!strcmp(req->method, "POST")) {
        if (!strcmp(req->path, "/add"))
            return handle_add(d, req, resp);
        return respond(resp, 404, "not found\n");
    }
    resp->extra_name[0] = "Allow";
    resp->extra_value[0] = "GET, HEAD, POST";
    respond(resp, 405, "method not allowed\n");
}

/* ---- start and stop ------------------------------------------------------- */

/* Replace DIR/NAME with data (mode 0644: it is published), atomically. */
static fk_err write_public_file(const char *dir, const char *name, const char *data, size_t len)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= sizeof tmp)
        return FK_ERR_LIMIT;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return FK_ERR_IO;
    int ok = write(fd, data, len) == (ssize_t)len;
    ok = fsync(fd) == 0 && ok;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path)) {
        unlink(tmp);
        return FK_ERR_IO;
    }
    return FK_OK;
}

/* fk_tlog_node_fn over the edge tiles alone (enough for the frontier). */
static fk_err recover_edge(struct fki_logd *d, uint64_t size, const uint8_t root[HL])
{
    struct tileset ts;
    memset(&ts, 0, sizeof ts);
    fk_err e = FK_OK;
    for (int l = 0; l < LEVELS && !e; l++) {
        uint64_t at = shr(size, 8u * (unsigned)l);
        unsigned w = (unsigned)(at & 255);
        d->edge_w[l] = w;
        if (!w)
            continue;
        uint8_t *data;
        size_t len;
        e = d->st.read_tile(d->st.self, l, at >> 8, w, &data, &len);
        if (e)
            break;
        if (len != (size_t)w * HL) {
            free(data);
            e = FK_ERR_STORAGE;
            break;
        }
        memcpy(d->edge[l], data, len);
        free(data);
        ts.lv[l].base = at >> 8;
        ts.lv[l].ntabs = 1;
        ts.lv[l].tabs = malloc(sizeof(struct nodetab));
        e = ts.lv[l].tabs ? nodetab_build(ts.lv[l].tabs, d->edge[l][0], w) : FK_ERR_NOMEM;
    }
    if (!e && d->edge_w[0]) {
        uint8_t *data;
        size_t len;
        e = d->st.read_tile(d->st.self, FKI_LOG_LEVEL_ENTRIES, size >> 8, d->edge_w[0], &data,
                            &len);
        if (!e) {
            uint8_t(*lh)[HL] = malloc((size_t)d->edge_w[0] * HL);
            if (!lh)
                e = FK_ERR_NOMEM;
            else if (fk_bundle_leaf_hashes(data, len, d->edge_w[0], lh) ||
                     memcmp(lh, d->edge[0], (size_t)d->edge_w[0] * HL))
                e = FK_ERR_STORAGE;   /* bundle and level-0 tile disagree */
            free(lh);
            if (e)
                free(data);
            else {
                d->edge_bundle = data;
                d->edge_bundle_len = len;
            }
        }
    }
    uint8_t got[HL];
    if (!e)
        e = fk_tlog_frontier_load(&d->frontier, size, tileset_node, &ts);
    if (!e)
        e = fk_tlog_frontier_root(&d->frontier, got);
    if (!e && memcmp(got, root, HL))
        e = FK_ERR_STORAGE;   /* tiles do not produce the committed root */
    tileset_free(&ts);
    return e;
}

/* ---- several front ends on one database (docs/log.md 7.9) ------------------ */

/* The checkpoint the storage holds: signed by this log's key, naming its
 * size and root (root NULL: not compared). */
static fk_err check_checkpoint(struct fki_logd *d, const char *cp, uint64_t size,
                               const uint8_t *root)
{
    fk_checkpoint c;
    size_t n = strlen(cp);
    fk_err e = n > FKI_LOG_MAX_CHECKPOINT ? FK_ERR_STORAGE
                                          : fk_checkpoint_open(&c, NULL, cp, n, d->signer.name,
                                                               &d->verifier, 1, NULL);
    if (!e && (c.size != size || (root && memcmp(c.root, root, HL))))
        e = FK_ERR_STORAGE;
    return e;
}

static int flag(struct fki_logd *d, const int *f)
{
    pthread_mutex_lock(&d->mu);
    int v = *f;
    pthread_mutex_unlock(&d->mu);
    return v;
}

/* dequeue's callback: one item per queued add, in queue order. */
struct qlist {
    struct item *head, *tail;
};

static fk_err queued_item(void *ctx, int64_t id, const uint8_t *entry, size_t len)
{
    struct qlist *q = ctx;
    if (!len || len > FKI_LOG_MAX_ENTRY)
        return FK_ERR_STORAGE;   /* never queued by a front end */
    struct item *it = malloc(sizeof *it + len);
    if (!it)
        return FK_ERR_NOMEM;
    memset(it, 0, sizeof *it);
    memcpy(it->entry, entry, len);
    it->len = len;
    it->qid = id;
    now_mono(&it->arrived);
    if (fk_tlog_leaf_hash(it->leaf, it->entry, len)) {
        free(it);
        return FK_ERR_INVALID;
    }
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    return FK_OK;
}

/* The lease was just taken: start from the committed tree in the database,
 * checked as on start (key, size, root, tiles), never from memory. */
static fk_err take_over(struct fki_logd *d)
{
    uint64_t size;
    uint8_t root[HL];
    char *cp = NULL;
    fk_err e = d->st.load(d->st.self, &size, root, &cp);
    if (!e && !cp)
        e = FK_ERR_STORAGE;
    if (!e)
        e = check_checkpoint(d, cp, size, root);
    if (!e) {
        free(d->edge_bundle);
        d->edge_bundle = NULL;
        d->edge_bundle_len = 0;
        memset(d->edge_w, 0, sizeof d->edge_w);
        fk_tlog_frontier_init(&d->frontier);
        e = recover_edge(d, size, root);
    }
    if (!e) {
        d->seq_size = size;
        publish(d, size, cp, strlen(cp));
    }
    free(cp);
    return e;
}

static void *shared_sequencer(void *arg)
{
    struct fki_logd *d = arg;
    pthread_setname_np(pthread_self(), "fk-sequencer");
    int held = 0;
    struct timespec since;
    now_mono(&since);
    while (!flag(d, &d->seq_stop)) {
        if (d->seq_lost) {
            /* A batch or a read failed: this front end's view of the tree
             * may be stale.  Give the lease up; whoever takes it next
             * (maybe this one again) starts from the database. */
            d->seq_lost = 0;
            if (held)
                fprintf(stderr, "fairkey log: stopped sequencing after a database failure; "
                                "the lease is free for any front end\n");
            d->st.lease(d->st.self, 0, &held);
            held = 0;
            __atomic_store_n(&d->held, 0, __ATOMIC_RELAXED);
            now_mono(&since);
        }
        if (held) {
            /* Renewed when due; lost when it expired (this process hung
             * or was cut off longer than the lease): start over. */
            int h = 0;
            if (d->st.lease(d->st.self, 1, &h) || !h) {
                fprintf(stderr, "fairkey log: lost the sequencer lease; following\n");
                d->seq_lost = 1;
                continue;
            }
        }
        if (!held) {
            int h = 0;
            if (d->st.lease(d->st.self, 1, &h) || !h) {
                poll(NULL, 0, FKI_LOG_LEASE_POLL_MS);
                continue;
            }
            fk_err e = take_over(d);
            if (e) {
                fprintf(stderr, "fairkey log: cannot sequence: the tree in the database does not "
                                "check out (%s); retrying\n", fk_strerror(e));
                d->seq_lost = 1;
                poll(NULL, 0, FKI_LOG_LEASE_POLL_MS);
                continue;
            }
            held = 1;
            __atomic_store_n(&d->held, 1, __ATOMIC_RELAXED);
            fprintf(stderr, "fairkey log: sequencing from tree size %llu\n",
                    (unsigned long long)d->seq_size);
            if (d->witnesses)
                cosign_again(d, 0);
            now_mono(&d->cosigned_at);
        }
        if (d->witnesses) {
            struct timespec due = d->cosigned_at, now;
            add_ms(&due, d->cosign_refresh_s * 1000u);
            now_mono(&now);
            if (!before(&now, &due)) {
                cosign_again(d, 1);
                now_mono(&d->cosigned_at);
            }
        }
        struct qlist q = {0};
        size_t n = 0;
        if (d->st.dequeue(d->st.self, d->batch_max, queued_item, &q, &n)) {
            free_items(q.head);
            d->seq_lost = 1;
            continue;
        }
        if (!n) {
            d->st.wait(d->st.self, 0, d->batch_ms < 100 ? d->batch_ms : 100);
            continue;
        }
        process_batch(d, q.head);
        now_mono(&d->cosigned_at);
    }
    if (held)
        d->st.lease(d->st.self, 0, &held);
    return NULL;
}

/* Queue local adds in the database, many per transaction: while one COPY
 * commits the next group gathers. */
static void *shipper(void *arg)
{
    struct fki_logd *d = arg;
    pthread_setname_np(pthread_self(), "fk-shipper");
    const uint8_t **ents = malloc(FKI_LOG_SHIP_MAX * sizeof *ents);
    size_t *lens = malloc(FKI_LOG_SHIP_MAX * sizeof *lens);
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (!d->stopping && !d->count)
            pthread_cond_wait(&d->cv, &d->mu);
        if (!d->count)
            break;
        struct item *last;
        size_t taken;
        struct item *batch = take_queued(d, FKI_LOG_SHIP_MAX, &last, &taken);
        pthread_mutex_unlock(&d->mu);
        size_t k = 0;
        for (struct item *it = batch; it && ents && lens; it = it->next, k++) {
            ents[k] = it->entry;
            lens[k] = it->len;
        }
        if (!ents || !lens || d->st.enqueue(d->st.self, ents, lens, k)) {
            for (struct item *it = batch; it; it = it->next)
                answer_text(it->d, 503, "log database unavailable; the entry was not logged, "
                                        "retry\n");
            free_items(batch);
            pthread_mutex_lock(&d->mu);
            continue;
        }
        pthread_mutex_lock(&d->mu);
        last->next = d->whead;
        d->whead = batch;
        d->wcount += taken;
    }
    pthread_mutex_unlock(&d->mu);
    free(ents);
    free(lens);
    return NULL;
}

/* Proof nodes from committed tiles: per tile level the last tile read, with
 * every Merkle node inside it computed once (a nodetab), so the answers of
 * a batch, sorted by index, read and hash each tile about once (a plain
 * tile reader rehashes up to 255 nodes for each node it is asked for). */
#define LR_SLOTS 2   /* per level: the entry's tile and the tree's right edge */
struct level_readers {
    struct fki_logd *d;
    uint64_t size;
    int have[LEVELS][LR_SLOTS];
    unsigned last[LEVELS];     /* the slot used last */
    fk_tile tile[LEVELS][LR_SLOTS];
    struct nodetab tab[LEVELS][LR_SLOTS];
    uint8_t buf[FK_TILE_MAX_BYTES];
};

static void levels_init(struct level_readers *lr, struct fki_logd *d, uint64_t size)
{
    lr->d = d;
    lr->size = size;
    memset(lr->have, 0, sizeof lr->have);
}

static fk_err levels_node(void *ctx, unsigned level, uint64_t index, uint8_t out[HL])
{
    struct level_readers *lr = ctx;
    unsigned l = level / 8, r = level % 8;
    if (l >= LEVELS || index >= shr(lr->size, level))
        return FK_ERR_INVALID;
    uint64_t first = index << r;
    fk_tile t;
    fk_err e = fk_tile_at(&t, (int)l, first / FK_TILE_WIDTH, lr->size);
    if (e)
        return e == FK_ERR_NOT_FOUND ? FK_ERR_INVALID : e;
    unsigned k;
    for (k = 0; k < LR_SLOTS; k++)
        if (lr->have[l][k] && lr->tile[l][k].index == t.index && lr->tile[l][k].width == t.width)
            break;
    if (k == LR_SLOTS) {
        size_t got = 0;
        k = (lr->last[l] + 1) % LR_SLOTS;   /* the one used less recently */
        lr->have[l][k] = 0;
        e = storage_fetch(lr->d, &t, lr->buf, sizeof lr->buf, &got);
        if (e == FK_ERR_NOT_FOUND && t.width < FK_TILE_WIDTH) {
            /* A partial tile deleted once the full one exists (tlog-tiles). */
            fk_tile full = t;
            full.width = FK_TILE_WIDTH;
            e = storage_fetch(lr->d, &full, lr->buf, sizeof lr->buf, &got);
            if (!e && got != FK_TILE_MAX_BYTES)
                return FK_ERR_INVALID;
            got = (size_t)t.width * HL;
        }
        if (e)
            return e;
        if (got != (size_t)t.width * HL)
            return FK_ERR_INVALID;
        if ((e = nodetab_build(&lr->tab[l][k], lr->buf, t.width)))
            return e;
        lr->tile[l][k] = t;
        lr->have[l][k] = 1;
    }
    lr->last[l] = k;
    unsigned pos = (unsigned)(first % FK_TILE_WIDTH) >> r;
    if (pos >= (lr->tab[l][k].width >> r))
        return FK_ERR_INVALID;
    memcpy(out, lr->tab[l][k].n[row_off(r) + pos], HL);
    return FK_OK;
}

static int by_index(const void *a, const void *b)
{
    const struct item *x = *(struct item *const *)a, *y = *(struct item *const *)b;
    return x->index < y->index ? -1 : x->index > y->index;
}

static long ms_since(const struct timespec *t, const struct timespec *now)
{
    return (long)(now->tv_sec - t->tv_sec) * 1000 + (now->tv_nsec - t->tv_nsec) / 1000000;
}

/* One round of the answerer: publish the committed tree, answer every
 * waiter whose entry it holds, refuse those that waited too long. */
static void answer_round(struct fki_logd *d, struct level_readers *lr, int *warned)
{
    uint64_t size = 0;
    uint8_t root[HL];
    char *cp = NULL;
    /* What was served before the read: the sequencer of this front end may
     * publish a newer tree while the read is under way. */
    pthread_rwlock_rdlock(&d->pub);
    uint64_t served_before = d->size;
    pthread_rwlock_unlock(&d->pub);
    fk_err e = d->st.load(d->st.self, &size, root, &cp);
    struct timespec t;
    now_mono(&t);
    int64_t now_ms = (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
    if (e) {
        __atomic_store_n(&d->db_failed, 1, __ATOMIC_RELAXED);
    } else {
        __atomic_store_n(&d->db_ok_ms, now_ms, __ATOMIC_RELAXED);
        __atomic_store_n(&d->db_failed, 0, __ATOMIC_RELAXED);
    }
    if (!e && !cp)
        e = FK_ERR_STORAGE;
    if (!e) {
        size_t n = strlen(cp);
        pthread_rwlock_rdlock(&d->pub);
        int older = size < served_before;
        int newer = size > d->size || (size == d->size && (n != d->cp_len || memcmp(cp, d->cp, n)));
        uint64_t served = d->size;
        int behind = size < d->size;
        pthread_rwlock_unlock(&d->pub);
        if (older) {
            /* A database restored or failed over to a replica that lacks
             * commits: serving it would roll clients back. */
            if (!*warned)
                fprintf(stderr, "fairkey log: the database holds tree size %llu, older than the "
                                "%llu this front end served; not serving it (a failover lost "
                                "commits?)\n",
                        (unsigned long long)size, (unsigned long long)served);
            *warned = 1;
            e = FK_ERR_STORAGE;
        } else if (behind) {
            e = FK_OK;   /* published meanwhile: the next round reads it */
        } else if (newer) {
            if ((e = check_checkpoint(d, cp, size, root)))
                fprintf(stderr, "fairkey log: the checkpoint in the database does not verify "
                                "with this log's key; not serving it\n");
            else {
                publish(d, size, cp, n);
                __atomic_store_n(&d->batch_seen_ms, now_ms, __ATOMIC_RELAXED);
            }
        }
    }
    pthread_mutex_lock(&d->mu);
    struct item *items = d->whead;
    size_t cnt = d->wcount;
    d->whead = NULL;
    d->wcount = 0;
    pthread_mutex_unlock(&d->mu);
    if (!items) {
        free(cp);
        return;
    }
    struct item **ans = malloc(cnt * sizeof *ans);
    uint8_t(*hs)[HL] = malloc(cnt * HL);
    uint64_t *idx = malloc(cnt * sizeof *idx);
    size_t k = 0, nans = 0;
    if (!ans || !hs || !idx)
        e = FK_ERR_NOMEM;
    for (struct item *it = items; it && !e; it = it->next)
        memcpy(hs[k++], it->leaf, HL);
    if (!e)
        e = d->st.lookup(d->st.self, (const uint8_t(*)[HL])hs, cnt, idx);
    k = 0;
    for (struct item *it = items; it; it = it->next, k++) {
        it->have_index = 0;
        if (!e && idx[k] != FKI_LOG_ABSENT && idx[k] < size) {
            it->index = idx[k];
            it->have_index = 1;
            ans[nans++] = it;
        }
    }
    if (nans) {
        qsort(ans, nans, sizeof *ans, by_index);
        fk_tlog_proof_ctx pctx;
        const fk_tlog_proof_ctx *pc = fk_tlog_proof_ctx_init(&pctx, cp, strlen(cp)) ? NULL : &pctx;
        levels_init(lr, d, size);
        /* The index is a hint, as for the sequencer: answer only if the
         * leaf there is this entry.  One that is not (a damaged entry
         * index) waits: the sequencer appends the entry again and the new
         * index replaces the wrong one. */
        size_t ok = 0;
        for (size_t i = 0; i < nans; i++) {
            uint8_t lh[HL];
            if (levels_node(lr, 0, ans[i]->index, lh) || memcmp(lh, ans[i]->leaf, HL)) {
                ans[i]->have_index = 0;
                continue;
            }
            ans[ok++] = ans[i];
        }
        nans = ok;
        for (size_t i = 0; i < nans; i++)
            stage_proof(d, d->answer2, pc, ans[i], size, levels_node, lr);
        for (size_t i = 0; i < nans; i++)
            fki_net_release(ans[i]->d);
    }
    /* The rest wait for a later batch, up to FKI_LOG_SHARED_WAIT_MS. */
    struct timespec now;
    now_mono(&now);
    struct item *keep = NULL, *keep_tail = NULL;
    size_t nkeep = 0;
    for (struct item *it = items, *next; it; it = next) {
        next = it->next;
        it->next = NULL;
        if (it->have_index == 1) {
            free(it);
        } else if (ms_since(&it->arrived, &now) > FKI_LOG_SHARED_WAIT_MS) {
            answer_text(it->d, 503, "log could not commit the entry in time (database "
                                    "unavailable?); retry: if it was logged, the retry gets "
                                    "its index\n");
            free(it);
        } else {
            if (keep_tail)
                keep_tail->next = it;
            else
                keep = it;
            keep_tail = it;
            nkeep++;
        }
    }
    if (keep) {
        pthread_mutex_lock(&d->mu);
        keep_tail->next = d->whead;
        d->whead = keep;
        d->wcount += nkeep;
        pthread_mutex_unlock(&d->mu);
    }
    free(ans);
    free(hs);
    free(idx);
    free(cp);
}

static void *answerer(void *arg)
{
    struct fki_logd *d = arg;
    pthread_setname_np(pthread_self(), "fk-answerer");
    struct level_readers *lr = malloc(sizeof *lr);
    int warned = 0;
    while (lr && !flag(d, &d->ans_stop)) {
        d->st.wait(d->st.self, 1, 100);
        answer_round(d, lr, &warned);
    }
    free(lr);
    pthread_mutex_lock(&d->mu);
    struct item *items = d->whead;
    d->whead = NULL;
    d->wcount = 0;
    pthread_mutex_unlock(&d->mu);
    for (struct item *it = items; it; it = it->next)
        answer_text(it->d, 503, "log is stopping before the entry's batch committed; retry: if "
                                "it was logged, the retry gets its index\n");
    free_items(items);
    return NULL;
}

int fki_logd_default_key(char *out, size_t cap, const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    return (size_t)snprintf(out, cap, "%.*s.key", (int)n, dir) < cap ? 0 : -1;
}

/* A reason built at start (a path in it), for *why. */
static char start_why[3 * PATH_MAX + 160];

/* The key must not be published with DIR: refuse a key file inside DIR
 * (DIR/log.key, where fairkey kept it before, or a --key under DIR). */
static fk_err key_outside_dir(const char *dir, const char *key, const char **why)
{
    char old[PATH_MAX], rdir[PATH_MAX], kparent[PATH_MAX], rkey[PATH_MAX];
    struct stat st;
    if ((size_t)snprintf(old, sizeof old, "%s/log.key", dir) >= sizeof old)
        return FK_ERR_LIMIT;
    if (!lstat(old, &st)) {
        snprintf(start_why, sizeof start_why,
                 "the signing key %s lies inside the directory the log publishes; move it out "
                 "first: mv %s %s",
                 old, old, key);
        *why = start_why;
        return FK_ERR_POLICY;
    }
    if ((size_t)snprintf(kparent, sizeof kparent, "%s", key) >= sizeof kparent ||
        !realpath(dir, rdir) || !realpath(dirname(kparent), rkey)) {
        *why = "cannot resolve the log directory or the key file's directory; check --dir and "
               "--key";
        return FK_ERR_IO;
    }
    size_t n = strlen(rdir);
    if (!strncmp(rkey, rdir, n) && (rkey[n] == 0 || rkey[n] == '/' || n == 1)) {
        snprintf(start_why, sizeof start_why,
                 "--key %s lies inside the directory the log publishes; keep it outside, such as "
                 "the default beside it (drop --key)",
                 key);
        *why = start_why;
        return FK_ERR_POLICY;
    }
    return FK_OK;
}

/* DIR/policy, if the operator put one there: the log policy the page
 * checks the checkpoint against (docs/log.md 7.8).  Read once at start and
 * refused unless it parses, so the page is never handed a broken one. */
static fk_err load_policy(struct fki_logd *d, const char *dir, const char **why)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/policy", dir) >= sizeof path)
        return FK_ERR_LIMIT;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return FK_OK;
    if (fd < 0) {
        snprintf(start_why, sizeof start_why, "cannot read %s (%s); fix its permissions or remove it",
                 path, strerror(errno));
        *why = start_why;
        return FK_ERR_IO;
    }
    char *buf = malloc(FK_TLOG_POLICY_MAX_SIZE + 1);
    fk_tlog_policy *pol = malloc(sizeof *pol);
    size_t len = 0, line = 0;
    ssize_t n = 1;
    while (buf && len <= FK_TLOG_POLICY_MAX_SIZE &&
           (n = read(fd, buf + len, FK_TLOG_POLICY_MAX_SIZE + 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    fk_err e = !buf || !pol ? FK_ERR_NOMEM : n < 0 ? FK_ERR_IO
               : len > FK_TLOG_POLICY_MAX_SIZE ? FK_ERR_LIMIT
                                               : fk_tlog_policy_parse(pol, buf, len, &line);
    free(pol);
    if (e) {
        snprintf(start_why, sizeof start_why,
                 "%s is not a C2SP tlog-policy the page can use (line %zu is at fault; 0: the "
                 "file as a whole); fix or remove it",
                 path, line);
        *why = start_why;
        free(buf);
        return e;
    }
    d->policy = buf;
    d->policy_len = len;
    return FK_OK;
}

static void admit_gauges(struct fki_logd *d, const struct fki_log_admit_config *c)
{
    d->open = c->open;
    d->nauthorities = c->nauthorities;
    d->rate = c->open ? 0 : c->rate ? c->rate : FKI_LOG_DEFAULT_RATE;
    d->nrequesters = fki_metrics_count_lines(c->requesters, c->requesters_len);
}

fk_err fki_logd_set_admit(fki_logd *d, const struct fki_log_admit_config *cfg)
{
    fki_log_admit *n;
    fk_err e = fki_log_admit_new(&n, cfg);
    if (e)
        return e;
    pthread_rwlock_wrlock(&d->admit_lock);
    fki_log_admit *old = d->admit;
    d->admit = n;
    admit_gauges(d, cfg);
    pthread_rwlock_unlock(&d->admit_lock);
    fki_log_admit_free(old);
    return FK_OK;
}

fk_err fki_logd_start(fki_logd **out, const struct fki_logd_config *cfg, char *vkey, size_t cap,
                      const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = "cannot start the log; check the directory and its files";
    unsigned batch_ms = cfg->batch_ms ? cfg->batch_ms : FKI_LOG_DEFAULT_BATCH_MS;
    unsigned batch_max = cfg->batch_max ? cfg->batch_max : FKI_LOG_DEFAULT_BATCH_MAX;
    if (batch_ms > FKI_LOG_MAX_BATCH_MS || batch_max > FKI_LOG_MAX_BATCH_MAX) {
        *why = "batch limits out of range";
        return FK_ERR_LIMIT;
    }
    if (cfg->db && (cfg->dir || !cfg->key)) {
        *why = "--db goes with --key FILE (every front end of the log signs with the same key) "
               "and without --dir";
        return FK_ERR_INVALID;
    }
    if (!cfg->db && mkdir(cfg->dir, 0700) && errno != EEXIST) {
        *why = "cannot create the log directory; check the path and permissions";
        return FK_ERR_IO;
    }
    char keypath[PATH_MAX];
    if (cfg->key) {
        if ((size_t)snprintf(keypath, sizeof keypath, "%s", cfg->key) >= sizeof keypath)
            return FK_ERR_LIMIT;
    } else if (fki_logd_default_key(keypath, sizeof keypath, cfg->dir)) {
        return FK_ERR_LIMIT;
    }
    fk_err e = cfg->db ? FK_OK : key_outside_dir(cfg->dir, keypath, why);
    if (e)
        return e;
    struct fki_logd *d = calloc(1, sizeof *d);
    if (!d)
        return FK_ERR_NOMEM;
    d->lock_fd = -1;
    d->shared = cfg->db != NULL;
    now_mono(&d->started);
    d->batch_ms = batch_ms;
    d->batch_max = batch_max;
    pthread_mutex_init(&d->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_rwlock_init(&d->pub, NULL);
    pthread_rwlock_init(&d->admit_lock, NULL);
    fki_metrics_hist_init(&d->m_batch_s, batch_s_bounds,
                          sizeof batch_s_bounds / sizeof batch_s_bounds[0]);
    fki_metrics_hist_init(&d->m_batch_size, batch_size_bounds,
                          sizeof batch_size_bounds / sizeof batch_size_bounds[0]);
    fk_tlog_frontier_init(&d->frontier);

    /* One writer per log: a second sequencer on the same directory would
     * overwrite the first one's tiles before SQLite refused its commit. */
    if (!d->shared && (d->lock_fd = fki_dir_lock(cfg->dir)) < 0) {
        e = errno == EWOULDBLOCK ? FK_ERR_POLICY : FK_ERR_IO;
        if (e == FK_ERR_POLICY)
            *why = "another process serves this log directory; stop it first";
        goto fail;
    }

    /* The signing key: DIR.key (or --key), created on first start. */
    e = fki_keyfile_load_or_create(&(struct fki_keyfile_key){.signer = &d->signer}, keypath,
                                   cfg->origin, "fairkey-log-");
    if (e) {
        snprintf(start_why, sizeof start_why, "%s %s", keypath,
                 e == FK_ERR_POLICY
                     ? "belongs to another origin; drop --origin or use another --dir and --key"
                     : "cannot be read or created; it must be a signed-note private key, yours, "
                       "mode 0600 (chmod 600), in an existing directory");
        *why = start_why;
        goto fail;
    }
    if ((e = fki_log_admit_new(&d->admit, &cfg->admit))) {
        *why = "--authority or --rate out of range";
        goto fail;
    }
    admit_gauges(d, &cfg->admit);
    fk_note_signer_verifier(&d->signer, &d->verifier);
    size_t vlen;
    if ((e = fk_note_verifier_encode(&d->verifier, vkey, cap, &vlen)))
        goto fail;
    if (vlen + 2 > sizeof d->vkey) {
        e = FK_ERR_LIMIT;
        goto fail;
    }
    memcpy(d->vkey, vkey, vlen);
    d->vkey[vlen] = '\n';
    d->vkey_len = vlen + 1;
    /* DIR/vkey: the public key beside the checkpoint, for the page on a
     * static host of DIR (docs/log.md 7.8).  Front ends on a database have
     * no DIR: they serve /vkey from memory and no /policy. */
    if (cfg->dir && (e = write_public_file(cfg->dir, "vkey", d->vkey, d->vkey_len))) {
        *why = "cannot write DIR/vkey; check the directory's permissions and free space";
        goto fail;
    }
    if (cfg->dir && (e = load_policy(d, cfg->dir, why)))
        goto fail;
    d->cosign_refresh_s = cfg->cosign_refresh_s ? cfg->cosign_refresh_s : FKI_LOG_COSIGN_REFRESH_S;
    if (d->cosign_refresh_s > FKI_LOG_COSIGN_REFRESH_MAX_S)
        d->cosign_refresh_s = FKI_LOG_COSIGN_REFRESH_MAX_S;
    if (cfg->nwitnesses &&
        (e = fki_witness_set_new(&d->witnesses, cfg->witnesses, cfg->nwitnesses, why)))
        goto fail;
    d->answer = malloc(FKI_LOG_ANSWER_CAP);
    d->answer2 = malloc(FKI_LOG_ANSWER_CAP);
    if (!d->answer || !d->answer2) {
        e = FK_ERR_NOMEM;
        goto fail;
    }
    *why = "cannot open log.db or recover the tree; the state, key and tiles disagree or are unreadable";
    if (d->shared) {
        if ((e = fki_log_storage_pg_open(&d->st, cfg->db, vkey, why)))
            goto fail;
        *why = "the tree in the database does not check out with this log's key; is it this "
               "log's database?";
    } else if ((e = fki_log_storage_sqlite_open(&d->st, cfg->dir))) {
        goto fail;
    }

    uint64_t size;
    uint8_t root[HL];
    char *cp = NULL;
    if ((e = d->st.load(d->st.self, &size, root, &cp)))
        goto fail;
    if (!cp) {
        /* A new log: commit the empty tree so there is always a checkpoint. */
        fk_checkpoint c;
        memset(&c, 0, sizeof c);
        memcpy(c.origin, d->signer.name, d->signer.name_len + 1);
        c.origin_len = d->signer.name_len;
        c.size = 0;
        if ((e = fk_tlog_root(c.root, NULL, 0)) ||
            (e = fk_checkpoint_sign(&c, &d->signer, d->cp, sizeof d->cp, &d->cp_len)))
            goto fail;
        struct fki_log_batch b = {.root = c.root, .checkpoint = d->cp,
                                  .checkpoint_len = d->cp_len};
        e = d->st.store_batch(d->st.self, &b);
        if (e && d->shared) {
            /* Another front end started the log first: take its tree. */
            e = d->st.load(d->st.self, &size, root, &cp);
            if (!e && !cp)
                e = FK_ERR_STORAGE;
            if (!e)
                goto loaded;
        }
        if (e)
            goto fail;
        size = 0;
    } else {
    loaded:;
        /* Recover: the state in SQLite is the truth; check it against the
         * key and the tiles before serving anything. */
        fk_checkpoint c;
        size_t n = strlen(cp);
        e = n > FKI_LOG_MAX_CHECKPOINT ? FK_ERR_STORAGE
                                       : fk_checkpoint_open(&c, NULL, cp, n, d->signer.name,
                                                            &d->verifier, 1, NULL);
        if (!e && (c.size != size || memcmp(c.root, root, HL)))
            e = FK_ERR_STORAGE;
        if (!e) {
            memcpy(d->cp, cp, n + 1);
            d->cp_len = n;
        }
        free(cp);
        if (e)
            goto fail;
        /* Shared: the edge is loaded when this front end takes the lease. */
        if (!d->shared &&
            ((e = d->st.discard_beyond(d->st.self, size)) || (e = recover_edge(d, size, root))))
            goto fail;
    }
    d->size = size;
    d->seq_size = size;

    if (pthread_create(&d->thr, NULL, d->shared ? shared_sequencer : sequencer, d)) {
        e = FK_ERR_NOMEM;
        goto fail;
    }
    d->thr_started = 1;
    if (d->shared) {
        if (pthread_create(&d->ship_thr, NULL, shipper, d)) {
            e = FK_ERR_NOMEM;
            goto fail;
        }
        d->ship_started = 1;
        if (pthread_create(&d->ans_thr, NULL, answerer, d)) {
            e = FK_ERR_NOMEM;
            goto fail;
        }
        d->ans_started = 1;
    }
    struct fki_net_server_config sc = {
        .listen = cfg->listen, .max_body = FKI_LOG_MAX_ENTRY,
        .handler = handler, .ctx = d};
    if ((e = fki_net_server_start(&d->srv, &sc))) {
        snprintf(start_why, sizeof start_why, "%s", fki_net_server_error());
        *why = start_why;
        goto fail;
    }
    *out = d;
    return FK_OK;
fail:
    fki_logd_stop(d);
    return e;
}

uint16_t fki_logd_port(const fki_logd *d)
{
    return fki_net_server_port(d->srv);
}

void fki_logd_stop(fki_logd *d)
{
    if (!d)
        return;
    if (d->shared) {
        /* No new adds; queue what was taken; give the queued ones a while
         * to be committed (by whichever front end sequences) and answered;
         * then stop sequencing and answering. */
        pthread_mutex_lock(&d->mu);
        d->stopping = 1;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        if (d->ship_started)
            pthread_join(d->ship_thr, NULL);
        for (int waited = 0; d->ans_started && waited < FKI_LOG_SHARED_STOP_MS; waited += 20) {
            pthread_mutex_lock(&d->mu);
            size_t w = d->wcount;
            pthread_mutex_unlock(&d->mu);
            if (!w)
                break;
            poll(NULL, 0, 20);
        }
        pthread_mutex_lock(&d->mu);
        d->seq_stop = 1;
        d->ans_stop = 1;
        pthread_mutex_unlock(&d->mu);
        if (d->thr_started)
            pthread_join(d->thr, NULL);
        if (d->ans_started)
            pthread_join(d->ans_thr, NULL);
    } else if (d->thr_started) {
        pthread_mutex_lock(&d->mu);
        d->stopping = 1;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->thr, NULL);   /* drains: every waiter gets its answer */
    }
    fki_net_server_stop(d->srv);
    if (d->st.close)
        d->st.close(d->st.self);
    fk_note_signer_wipe(&d->signer);
    fki_witness_set_free(d->witnesses);
    fki_log_admit_free(d->admit);
    free(d->edge_bundle);
    free(d->answer);
    free(d->policy);
    free(d->answer2);
    if (d->lock_fd >= 0)
        close(d->lock_fd);   /* releases the flock */
    pthread_rwlock_destroy(&d->pub);
    pthread_rwlock_destroy(&d->admit_lock);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    free(d);
}
