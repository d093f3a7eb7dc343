/*
 * follow.c - the log client: verified checkpoints, and consistency and
 * inclusion proofs computed from the log's tiles (C2SP tlog-tiles) by the
 * client itself, so the log is trusted for nothing but availability.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "net/net.h"

#define HL FK_TLOG_HASH_LEN
/* A full entry bundle: 256 entries of 2 + 65,535 bytes. */
#define BUNDLE_MAX ((size_t)FK_TILE_WIDTH * (2 + FK_TLOG_MAX_ENTRY))
/* Most tile levels a tree of at most 2^63 leaves has. */
#define LEVELS 8

fk_err fki_log_client_init(struct fki_log_client *c, const char *url, const char *vkey)
{
    c->http = NULL;
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    if (!n || n >= sizeof c->url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)))
        return FK_ERR_INVALID;
    memcpy(c->url, url, n);
    c->url[n] = 0;
    c->http = NULL;
    fk_err e = fk_note_verifier_parse(&c->key, vkey, strlen(vkey));
    if (!e)
        e = fki_net_client_new(&c->http);
    return e;
}

void fki_log_client_close(struct fki_log_client *c)
{
    fki_net_client_free(c->http);
    c->http = NULL;
}

/* GET <url>/<rel> expecting 200 and at most max bytes. */
static fk_err get(struct fki_log_client *c, const char *rel, size_t max, uint8_t **body,
                  size_t *len)
{
    char url[1024];
    if ((size_t)snprintf(url, sizeof url, "%s/%s", c->url, rel) >= sizeof url)
        return FK_ERR_LIMIT;
    struct fki_net_client_opts o = {.max_response = max};
    long status;
    fk_err e = fki_net_client_get(c->http, url, &o, &status, body, len);
    if (e)
        return e;
    if (status != 200) {
        free(*body);
        *body = NULL;
        return status == 404 ? FK_ERR_NOT_FOUND : FK_ERR_NET;
    }
    return FK_OK;
}

fk_err fki_log_client_checkpoint(struct fki_log_client *c, fk_checkpoint *cp, char *note_out)
{
    uint8_t *body;
    size_t len;
    fk_err e = get(c, "checkpoint", FKI_LOG_MAX_CHECKPOINT, &body, &len);
    if (e)
        return e;
    e = fk_checkpoint_open(cp, NULL, (const char *)body, len, c->key.name, &c->key, 1, NULL);
    if (!e && note_out) {
        memcpy(note_out, body, len);
        note_out[len] = 0;
    }
    cp->ext = NULL;   /* pointed into body */
    cp->ext_len = 0;
    free(body);
    return e;
}

static fk_err fetch_tile(void *ctx, const fk_tile *t, uint8_t *out, size_t cap, size_t *len)
{
    struct fki_log_client *c = ctx;
    char rel[FK_TILE_PATH_MAX];
    size_t n;
    fk_err e = fk_tile_path(t, rel, sizeof rel, &n);
    if (e)
        return e;
    uint8_t *body;
    if ((e = get(c, rel, cap, &body, &n)))
        return e;
    memcpy(out, body, n);
    *len = n;
    free(body);
    return FK_OK;
}

/* Hash tile t of the tree, exactly t->width hashes: a partial tile the log
 * has deleted (C2SP tlog-tiles lets it, once the full tile exists) is read
 * as the first t->width hashes of the full tile.  out holds a full tile. */
static fk_err fetch_hashes(struct fki_log_client *c, const fk_tile *t, uint8_t *out)
{
    size_t n;
    fk_err e = fetch_tile(c, t, out, FK_TILE_MAX_BYTES, &n);
    if (e == FK_ERR_NOT_FOUND && t->width < FK_TILE_WIDTH) {
        fk_tile full = *t;
        full.width = FK_TILE_WIDTH;
        if ((e = fetch_tile(c, &full, out, FK_TILE_MAX_BYTES, &n)))
            return e;
        if (n != FK_TILE_MAX_BYTES)
            return FK_ERR_PROOF;
        n = (size_t)t->width * HL;
    }
    if (!e && n != (size_t)t->width * HL)
        e = FK_ERR_PROOF;
    return e;
}

fk_err fki_log_client_consistent(struct fki_log_client *c, const fk_checkpoint *old,
                                 const fk_checkpoint *cur)
{
    if (old->size == 0)
        return FK_OK;
    if (old->size > cur->size)
        return FK_ERR_PROOF;   /* the log went back: a rollback or a fork */
    if (old->size == cur->size)
        return memcmp(old->root, cur->root, HL) ? FK_ERR_PROOF : FK_OK;
    fk_tile_reader *rd = malloc(sizeof *rd);
    if (!rd)
        return FK_ERR_NOMEM;
    fk_tile_reader_init(rd, cur->size, fetch_tile, c);
    uint8_t proof[FK_TLOG_MAX_PROOF][HL];
    size_t n;
    fk_err e = fk_tlog_prove_consistency(old->size, cur->size, fk_tile_reader_node, rd, proof,
                                         FK_TLOG_MAX_PROOF, &n);
    free(rd);
    if (!e)
        e = fk_tlog_verify_consistency(old->size, cur->size, old->root, cur->root,
                                       (const uint8_t(*)[HL])proof, n);
    return e;
}

static fk_err prove(struct fki_log_client *c, const fk_checkpoint *cur, uint64_t index,
                    const uint8_t leaf[HL])
{
    fk_tile_reader *rd = malloc(sizeof *rd);
    if (!rd)
        return FK_ERR_NOMEM;
    fk_tile_reader_init(rd, cur->size, fetch_tile, c);
    uint8_t proof[FK_TLOG_MAX_PROOF][HL];
    size_t n;
    fk_err e = fk_tlog_prove_inclusion(index, cur->size, fk_tile_reader_node, rd, proof,
                                       FK_TLOG_MAX_PROOF, &n);
    free(rd);
    if (!e)
        e = fk_tlog_verify_inclusion(index, cur->size, leaf, (const uint8_t(*)[HL])proof, n,
                                     cur->root);
    return e;
}

/* Entry bundle bidx of cur, trimmed to its t->width entries: a partial
 * bundle the log has deleted is read from the full one (as for tiles).
 * FK_ERR_PROOF if it holds fewer entries, or bytes after them. */
static fk_err get_bundle(struct fki_log_client *c, const fk_checkpoint *cur, uint64_t bidx,
                         fk_tile *t, uint8_t **buf, size_t *len)
{
    fk_err e = fk_tile_at(t, FK_TILE_ENTRIES, bidx, cur->size);
    if (e)
        return e;
    char rel[FK_TILE_PATH_MAX];
    size_t n;
    fk_tile want = *t;
    for (;;) {
        if ((e = fk_tile_path(&want, rel, sizeof rel, &n)))
            return e;
        e = get(c, rel, BUNDLE_MAX, buf, len);
        if (e != FK_ERR_NOT_FOUND || want.width == FK_TILE_WIDTH)
            break;
        want.width = FK_TILE_WIDTH;
    }
    if (e)
        return e;
    size_t off = 0;
    for (unsigned i = 0; i < t->width && !e; i++) {
        const uint8_t *ent;
        size_t elen;
        e = fk_bundle_next(*buf, *len, &off, &ent, &elen);
    }
    if (!e && want.width == t->width && off != *len)
        e = FK_ERR_PROOF;   /* trailing bytes after the tile's entries */
    if (e) {
        free(*buf);
        *buf = NULL;
        return FK_ERR_PROOF;
    }
    *len = off;
    return FK_OK;
}

fk_err fki_log_client_entries(struct fki_log_client *c, const fk_checkpoint *cur, uint64_t start,
                              fki_log_entry_fn fn, void *ctx)
{
    for (uint64_t b = start / FK_TILE_WIDTH; start < cur->size; b++) {
        fk_tile t;
        uint8_t *buf;
        size_t blen, off = 0;
        fk_err e = get_bundle(c, cur, b, &t, &buf, &blen);
        if (e)
            return e;
        for (unsigned i = 0; i < t.width && !e; i++) {
            const uint8_t *ent;
            size_t elen;
            uint64_t idx = b * FK_TILE_WIDTH + i;
            e = fk_bundle_next(buf, blen, &off, &ent, &elen);   /* checked by get_bundle */
            if (!e && idx >= start)
                e = fn(ctx, idx, ent, elen);
        }
        free(buf);
        if (e)
            return e;
        start = b * FK_TILE_WIDTH + t.width;
    }
    return FK_OK;
}

fk_err fki_log_client_entry(struct fki_log_client *c, const fk_checkpoint *cur, uint64_t index,
                            uint8_t **entry, size_t *len)
{
    if (index >= cur->size)
        return FK_ERR_NOT_FOUND;
    fk_tile t;
    uint8_t *buf;
    size_t blen, off = 0, elen = 0;
    fk_err e = get_bundle(c, cur, index >> 8, &t, &buf, &blen);
    if (e)
        return e;
    const uint8_t *ent = NULL;
    for (uint64_t i = 0; i <= (index & 255) && !e; i++)
        e = fk_bundle_next(buf, blen, &off, &ent, &elen);
    uint8_t leaf[HL];
    if (!e)
        e = fk_tlog_leaf_hash(leaf, ent, elen);
    if (!e)
        e = prove(c, cur, index, leaf);
    if (!e) {
        *entry = malloc(elen ? elen : 1);
        if (!*entry)
            e = FK_ERR_NOMEM;
        else {
            memcpy(*entry, ent, elen);
            *len = elen;
        }
    }
    free(buf);
    return e == FK_ERR_NOT_FOUND ? FK_ERR_PROOF : e;   /* a short bundle is a bad log */
}

struct find {
    const uint8_t *entry;
    size_t len;
    uint64_t index;
    int found;
};

static fk_err find_one(void *ctx, uint64_t index, const uint8_t *entry, size_t len)
{
    struct find *f = ctx;
    if (len != f->len || memcmp(entry, f->entry, len))
        return FK_OK;
    f->index = index;
    f->found = 1;
    return FK_ERR_NOT_FOUND;   /* stops the scan; told apart by f->found */
}

fk_err fki_log_client_find(struct fki_log_client *c, const fk_checkpoint *cur,
                           const uint8_t *entry, size_t len, uint64_t *index)
{
    struct find f = {.entry = entry, .len = len};
    fk_err e = fki_log_client_entries(c, cur, 0, find_one, &f);
    if (!f.found)
        return e ? e : FK_ERR_NOT_FOUND;
    uint8_t leaf[HL];
    if ((e = fk_tlog_leaf_hash(leaf, entry, len)) || (e = prove(c, cur, f.index, leaf)))
        return e;
    *index = f.index;
    return FK_OK;
}

/* Following: every node the frontier completes at a tile level (8, 16, ...)
 * must equal the hash the log serves in that level's tile. */
struct follow {
    struct fki_log_client *c;
    fk_tlog_frontier *fr;
    uint64_t size;
    struct {
        int have;
        fk_tile t;
        uint8_t data[FK_TILE_MAX_BYTES];
    } lv[LEVELS];
};

static fk_err check_node(struct follow *f, unsigned level, uint64_t index, const uint8_t h[HL])
{
    unsigned l = level / 8;
    if (l >= LEVELS)
        return FK_ERR_LIMIT;
    uint64_t ti = index >> 8;
    if (!f->lv[l].have || f->lv[l].t.index != ti) {
        fk_tile t;
        fk_err e = fk_tile_at(&t, (int)l, ti, f->size);
        if (!e)
            e = fetch_hashes(f->c, &t, f->lv[l].data);
        if (e)
            return e;
        f->lv[l].t = t;
        f->lv[l].have = 1;
    }
    unsigned pos = (unsigned)(index & 255);
    if (pos >= f->lv[l].t.width || memcmp(f->lv[l].data + (size_t)pos * HL, h, HL))
        return FK_ERR_PROOF;
    return FK_OK;
}

static fk_err on_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[HL])
{
    if (level % 8)
        return FK_OK;
    return check_node(ctx, level, index, hash);
}

static fk_err follow_one(void *ctx, uint64_t index, const uint8_t *entry, size_t len)
{
    struct follow *f = ctx;
    (void)index;
    uint8_t leaf[HL];
    fk_err e = fk_tlog_leaf_hash(leaf, entry, len);
    return e ? e : fk_tlog_frontier_append(f->fr, leaf, on_node, f);
}

fk_err fki_log_client_follow(struct fki_log_client *c, const fk_checkpoint *cur)
{
    struct follow *f = calloc(1, sizeof *f);
    fk_tlog_frontier *fr = malloc(sizeof *fr);
    fk_err e = (f && fr) ? FK_OK : FK_ERR_NOMEM;
    if (!e) {
        f->c = c;
        f->size = cur->size;
        f->fr = fr;
        fk_tlog_frontier_init(fr);
        e = fki_log_client_entries(c, cur, 0, follow_one, f);
    }
    uint8_t root[HL];
    if (!e)
        e = fk_tlog_frontier_root(fr, root);
    if (!e && (fr->size != cur->size || memcmp(root, cur->root, HL)))
        e = FK_ERR_PROOF;
    free(f);
    free(fr);
    return e;
}
