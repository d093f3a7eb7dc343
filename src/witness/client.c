/*
 * client.c - the log's side of C2SP tlog-witness: ask each configured
 * witness to cosign a new checkpoint (add-checkpoint with the size it last
 * cosigned and a consistency proof), check each answer with the witness's
 * key and append the verified lines to the checkpoint.  Calls run in
 * parallel, one thread per witness, each with a bounded timeout; a witness
 * that fails is skipped (the log stays available).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/net.h"
#include "witness/witness.h"

#define HL FK_TLOG_HASH_LEN
/* Longest witness URL we keep (with "/add-checkpoint" appended). */
#define URL_MAX 512
/* A failing witness is asked again after 1 s, then 2, 4, ... up to this:
 * a witness that hangs costs a batch its timeout once per period, not
 * every batch. */
#define BACKOFF_MIN_MS 1000u
#define BACKOFF_MAX_MS 60000u
/* A witness answer: a few cosignature lines. */
#define ANSWER_MAX 4096

struct witness {
    fk_note_verifier key;
    char url[URL_MAX + 16];
    uint64_t size;        /* the size it last cosigned, as far as we know */
    int failing;          /* in a failure streak (reported once) */
    uint64_t retry_at;    /* while failing: not asked before this (monotonic ms) */
    unsigned backoff;     /* ms; doubles per failure up to BACKOFF_MAX_MS */
    fki_net_client *http; /* keep-alive; used by one thread at a time */
    /* One round: */
    char *body;
    size_t body_len;
    const char *cp;
    size_t cp_len;
    int result; /* 0 failed, 1 cosigned, 2 conflict */
    uint64_t conflict;
    char why[96];
    char line[FK_COSIG_LINE_MAX * 2 + 1];
    size_t line_len;
};

struct fki_witness_set {
    size_t n;
    struct witness w[FKI_WITNESS_MAX_WITNESSES];
};

fk_err fki_witness_set_new(fki_witness_set **out, const char *const *specs, size_t n,
                           const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (n > FKI_WITNESS_MAX_WITNESSES) {
        *why = "too many --witness; a log asks at most 16 witnesses";
        return FK_ERR_LIMIT;
    }
    fki_witness_set *s = calloc(1, sizeof *s);
    if (!s)
        return FK_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        struct witness *w = &s->w[i];
        const char *eq = strchr(specs[i], '=');
        size_t ul;
        if (!eq || fk_note_verifier_parse(&w->key, specs[i], (size_t)(eq - specs[i])) ||
            w->key.alg != FK_NOTE_ALG_COSIG_V1) {
            *why = "--witness wants VKEY=URL with the vkey `fairkey witness serve` printed";
            goto fail;
        }
        ul = strlen(eq + 1);
        while (ul && eq[ul] == '/')
            ul--;
        if ((strncmp(eq + 1, "http://", 7) && strncmp(eq + 1, "https://", 8)) || ul > URL_MAX) {
            *why = "--witness URL must be http:// or https:// and at most 512 bytes";
            goto fail;
        }
        memcpy(w->url, eq + 1, ul);
        memcpy(w->url + ul, "/add-checkpoint", 16);
        if (fki_net_client_new(&w->http)) {
            *why = "out of memory";
            goto fail;
        }
        s->n++;
    }
    *out = s;
    return FK_OK;
fail:
    fki_witness_set_free(s);
    return FK_ERR_INVALID;
}

void fki_witness_set_free(fki_witness_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        fki_net_client_free(s->w[i].http);
        free(s->w[i].body);
    }
    free(s);
}

/* "old S\n", the proof lines, "\n", the checkpoint. */
static fk_err build_body(struct witness *w, const char *cp, size_t cp_len, uint64_t size,
                         fk_tlog_node_fn fn, void *ctx)
{
    uint8_t proof[FK_TLOG_MAX_PROOF][HL];
    size_t np = 0;
    fk_err e;
    if (w->size > size)
        return FK_ERR_INVALID;
    if (w->size &&
        (e = fk_tlog_prove_consistency(w->size, size, fn, ctx, proof, FK_TLOG_MAX_PROOF, &np)))
        return e;
    free(w->body);
    w->body = malloc(32 + np * 45 + 1 + cp_len);
    if (!w->body)
        return FK_ERR_NOMEM;
    size_t pos = (size_t)sprintf(w->body, "old %llu\n", (unsigned long long)w->size);
    for (size_t i = 0; i < np; i++) {
        pos += fk_b64_encode_padded(w->body + pos, proof[i], HL);
        w->body[pos++] = '\n';
    }
    w->body[pos++] = '\n';
    memcpy(w->body + pos, cp, cp_len);
    w->body_len = pos + cp_len;
    return FK_OK;
}

/* One call: POST, then keep only lines that verify with this witness's key. */
static void *ask(void *arg)
{
    struct witness *w = arg;
    struct fki_net_client_opts o = {.timeout_ms = FKI_WITNESS_TIMEOUT_MS,
                                    .max_response = ANSWER_MAX,
                                    .content_type = "text/plain; charset=utf-8"};
    long status = 0;
    uint8_t *resp = NULL;
    size_t rlen = 0;
    w->result = 0;
    if (fki_net_client_post(w->http, w->url, w->body, w->body_len, &o, &status, &resp, &rlen)) {
        snprintf(w->why, sizeof w->why, "no answer within %d ms", FKI_WITNESS_TIMEOUT_MS);
        return NULL;
    }
    if (status == 409) {
        uint64_t v = 0;
        size_t i = 0;
        for (; i < rlen && i < 20 && resp[i] >= '0' && resp[i] <= '9'; i++)
            v = v * 10 + (uint64_t)(resp[i] - '0');
        if (i > 0 && i < 20 && i + 1 == rlen && resp[i] == '\n' && (resp[0] != '0' || i == 1)) {
            w->conflict = v;
            w->result = 2;
        } else {
            snprintf(w->why, sizeof w->why, "409 with a malformed size");
        }
        free(resp);
        return NULL;
    }
    if (status != 200) {
        snprintf(w->why, sizeof w->why, "HTTP status %ld", status);
        free(resp);
        return NULL;
    }
    /* The spec's way: the answer appended to the checkpoint is a note.  Its
     * text must still be the log's text: an answer opening with a blank line
     * would move the split and have the witness sign the log's lines too. */
    char *note = malloc(w->cp_len + rlen + 1);
    fk_note n, logn;
    uint64_t ok = 0;
    snprintf(w->why, sizeof w->why, "answer is not a valid cosignature by its key");
    if (note && !fk_note_parse(&logn, w->cp, w->cp_len)) {
        memcpy(note, w->cp, w->cp_len);
        memcpy(note + w->cp_len, resp, rlen);
        if (!fk_note_parse(&n, note, w->cp_len + rlen) && n.text_len == logn.text_len &&
            !fk_note_verify(&n, &w->key, 1, &ok)) {
            uint64_t ts;
            w->line_len = 0;
            /* Only a line with the witness's name and key ID is one that
             * fk_note_verify checked; keep the first (one per witness). */
            for (size_t i = 0; i < n.nsigs; i++) {
                const fk_note_sig *s = &n.sigs[i];
                if (s->name < note + w->cp_len || s->key_id != w->key.key_id ||
                    s->name_len != w->key.name_len || memcmp(s->name, w->key.name, s->name_len))
                    continue;
                const char *start = s->name - 4; /* "— " */
                size_t l = (size_t)(s->b64 + s->b64_len - start) + 1;
                if (l < sizeof w->line) {
                    memcpy(w->line, start, l);
                    w->line_len = l;
                }
                break;
            }
            if (w->line_len && !fk_note_cosig_time(&n, &w->key, &ts) && ts)
                w->result = 1;
        }
    }
    free(note);
    free(resp);
    return NULL;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Ask the witnesses with want[i] set (all when want is NULL). */
static size_t cosign(fki_witness_set *s, char *cp, size_t *cp_len, size_t cap, uint64_t size,
                     fk_tlog_node_fn fn, void *ctx, const int *want)
{
    size_t added = 0, orig_len = *cp_len;
    int pending[FKI_WITNESS_MAX_WITNESSES];
    uint64_t now = mono_ms();
    for (size_t i = 0; i < s->n; i++)
        /* A failing witness waits out its backoff: the batch does not. */
        pending[i] = (!want || want[i]) && (!s->w[i].failing || now >= s->w[i].retry_at);
    /* Round 0 with what we know; round 1 for those that answered 409. */
    for (int round = 0; round < 2; round++) {
        pthread_t thr[FKI_WITNESS_MAX_WITNESSES];
        int started[FKI_WITNESS_MAX_WITNESSES] = {0};
        for (size_t i = 0; i < s->n; i++) {
            struct witness *w = &s->w[i];
            if (!pending[i])
                continue;
            w->cp = cp;
            w->cp_len = orig_len; /* witnesses see the log's note alone */
            w->result = 0;
            if (build_body(w, cp, orig_len, size, fn, ctx)) {
                snprintf(w->why, sizeof w->why, "no consistency proof from size %llu",
                         (unsigned long long)w->size);
                continue;
            }
            if (pthread_create(&thr[i], NULL, ask, w) == 0)
                started[i] = 1;
            else
                ask(w);
        }
        for (size_t i = 0; i < s->n; i++)
            if (started[i])
                pthread_join(thr[i], NULL);
        int again = 0;
        for (size_t i = 0; i < s->n; i++) {
            struct witness *w = &s->w[i];
            if (!pending[i])
                continue;
            pending[i] = 0;
            if (w->result == 2 && round == 0 && w->conflict != w->size && w->conflict <= size) {
                w->size = w->conflict; /* the size it holds: ask again from there */
                pending[i] = 1;
                again = 1;
                continue;
            }
            if (w->result == 2)
                snprintf(w->why, sizeof w->why, "409: it holds size %llu",
                         (unsigned long long)w->conflict);
            if (w->result == 1 && *cp_len + w->line_len < cap) {
                memcpy(cp + *cp_len, w->line, w->line_len);
                *cp_len += w->line_len;
                cp[*cp_len] = 0;
                w->size = size;
                added++;
                if (w->failing)
                    fprintf(stderr, "fairkey log: witness %s cosigns again (size %llu)\n",
                            w->key.name, (unsigned long long)size);
                w->failing = 0;
                w->backoff = 0;
                continue;
            }
            if (w->result == 1)
                snprintf(w->why, sizeof w->why, "checkpoint too large for its line");
            if (!w->failing)
                fprintf(stderr,
                        "fairkey log: witness %s skipped (%s); checkpoints go out "
                        "without its cosignature until it answers\n",
                        w->key.name, w->why);
            w->failing = 1;
            w->backoff = w->backoff ? w->backoff * 2 : BACKOFF_MIN_MS;
            if (w->backoff > BACKOFF_MAX_MS)
                w->backoff = BACKOFF_MAX_MS;
            w->retry_at = mono_ms() + w->backoff;
        }
        if (!again)
            break;
    }
    return added;
}

size_t fki_witness_set_cosign(fki_witness_set *s, char *cp, size_t *cp_len, size_t cap,
                              uint64_t size, fk_tlog_node_fn fn, void *ctx)
{
    return cosign(s, cp, cp_len, cap, size, fn, ctx, NULL);
}

size_t fki_witness_set_n(const fki_witness_set *s)
{
    return s->n;
}

size_t fki_witness_set_missing(const fki_witness_set *s, const char *cp, size_t cp_len,
                               int *missing)
{
    fk_note n;
    size_t count = 0;
    int parsed = !fk_note_parse(&n, cp, cp_len);
    for (size_t i = 0; i < s->n; i++) {
        uint64_t ok = 0;
        missing[i] = !parsed || fk_note_verify(&n, &s->w[i].key, 1, &ok) || !(ok & 1);
        count += (size_t)missing[i];
    }
    return count;
}

size_t fki_witness_set_cosign_missing(fki_witness_set *s, char *cp, size_t *cp_len, size_t cap,
                                      uint64_t size, fk_tlog_node_fn fn, void *ctx)
{
    int missing[FKI_WITNESS_MAX_WITNESSES];
    if (!fki_witness_set_missing(s, cp, *cp_len, missing))
        return 0;
    return cosign(s, cp, cp_len, cap, size, fn, ctx, missing);
}
