/* C2SP tlog-tiles: tile paths, which tiles a tree has, tile contents, node
 * hashes read back from tiles, and entry bundles. */
#include <stdlib.h>
#include <string.h>

#include "tlog/internal.h"

#define HL FK_TLOG_HASH_LEN

/* Number of hashes at Merkle level 8*level in a tree of tree_size leaves. */
static uint64_t level_width(int level, uint64_t tree_size)
{
    unsigned shift = (unsigned)(level < 0 ? 0 : level) * FK_TILE_HEIGHT;
    return shift >= 64 ? 0 : tree_size >> shift;
}

static bool level_ok(int level)
{
    return level == FK_TILE_ENTRIES || (level >= 0 && level <= FK_TILE_MAX_LEVEL);
}

fk_err fk_tile_at(fk_tile *t, int level, uint64_t index, uint64_t tree_size)
{
    uint64_t w, full;
    if (!t)
        abort();
    if (!level_ok(level))
        return FK_ERR_INVALID;
    w = level_width(level, tree_size);
    full = w / FK_TILE_WIDTH;
    if (index < full) {
        t->width = FK_TILE_WIDTH;
    } else if (index == full && w % FK_TILE_WIDTH) {
        t->width = (unsigned)(w % FK_TILE_WIDTH);
    } else {
        return FK_ERR_NOT_FOUND;
    }
    t->level = level;
    t->index = index;
    return FK_OK;
}

uint64_t fk_tile_count(int level, uint64_t tree_size)
{
    uint64_t w;
    if (!level_ok(level))
        return 0;
    w = level_width(level, tree_size);
    return w / FK_TILE_WIDTH + (w % FK_TILE_WIDTH != 0);
}

fk_err fk_tile_path(const fk_tile *t, char *out, size_t cap, size_t *len)
{
    char buf[FK_TILE_PATH_MAX + 1], num[21];
    unsigned groups[7];
    size_t pos, n = 0;
    uint64_t idx;
    if (!t || !out || !len)
        abort();
    if (!level_ok(t->level) || t->width < 1 || t->width > FK_TILE_WIDTH)
        return FK_ERR_INVALID;
    memcpy(buf, "tile/", 5);
    pos = 5;
    if (t->level == FK_TILE_ENTRIES) {
        memcpy(buf + pos, "entries/", 8);
        pos += 8;
    } else {
        size_t nl = fki_fmt_u64(num, (uint64_t)t->level);
        memcpy(buf + pos, num, nl);
        pos += nl;
        buf[pos++] = '/';
    }
    idx = t->index;
    do {
        groups[n++] = (unsigned)(idx % 1000);
        idx /= 1000;
    } while (idx);
    while (n-- > 0) {
        if (n)
            buf[pos++] = 'x';
        buf[pos++] = (char)('0' + groups[n] / 100);
        buf[pos++] = (char)('0' + groups[n] / 10 % 10);
        buf[pos++] = (char)('0' + groups[n] % 10);
        if (n)
            buf[pos++] = '/';
    }
    if (t->width < FK_TILE_WIDTH) {
        memcpy(buf + pos, ".p/", 3);
        pos += 3;
        size_t nl = fki_fmt_u64(num, t->width);
        memcpy(buf + pos, num, nl);
        pos += nl;
    }
    buf[pos] = 0;
    if (cap < pos + 1)
        return FK_ERR_LIMIT;
    memcpy(out, buf, pos + 1);
    *len = pos;
    return FK_OK;
}

static bool digits3(const char *s)
{
    return s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9';
}

fk_err fk_tile_parse_path(fk_tile *t, const char *path, size_t len)
{
    fk_tile r;
    size_t pos, ll;
    uint64_t v, idx = 0;
    unsigned ngroups = 0;
    if (!t || !path)
        abort();
    if (len > FK_TILE_PATH_MAX)
        return FK_ERR_INVALID;
    if (len < 5 || memcmp(path, "tile/", 5) != 0)
        return FK_ERR_INVALID;
    pos = 5;
    memset(&r, 0, sizeof r);
    for (ll = 0; pos + ll < len && path[pos + ll] != '/'; ll++)
        ;
    if (pos + ll == len)
        return FK_ERR_INVALID;
    if (ll == 7 && memcmp(path + pos, "entries", 7) == 0) {
        r.level = FK_TILE_ENTRIES;
    } else {
        if (fki_parse_u64(&v, path + pos, ll, FK_TILE_MAX_LEVEL) != FK_OK)
            return FK_ERR_INVALID;
        r.level = (int)v;
    }
    pos += ll + 1;
    /* x-prefixed groups, then the last 3-digit group */
    for (;;) {
        if (pos < len && path[pos] == 'x') {
            if (len - pos < 5 || !digits3(path + pos + 1) || path[pos + 4] != '/')
                return FK_ERR_INVALID;
            v = (uint64_t)((path[pos + 1] - '0') * 100 + (path[pos + 2] - '0') * 10 +
                           (path[pos + 3] - '0'));
            if (ngroups == 0 && v == 0)
                return FK_ERR_INVALID; /* a leading zero group is not canonical */
            if (++ngroups > 6)
                return FK_ERR_INVALID; /* 7 groups hold any uint64_t */
            idx = idx * 1000 + v;
            pos += 5;
            continue;
        }
        if (len - pos < 3 || !digits3(path + pos))
            return FK_ERR_INVALID;
        v = (uint64_t)((path[pos] - '0') * 100 + (path[pos + 1] - '0') * 10 + (path[pos + 2] - '0'));
        if (idx > (UINT64_MAX - v) / 1000)
            return FK_ERR_INVALID;
        idx = idx * 1000 + v;
        pos += 3;
        break;
    }
    r.index = idx;
    r.width = FK_TILE_WIDTH;
    if (pos < len) {
        if (len - pos < 4 || memcmp(path + pos, ".p/", 3) != 0)
            return FK_ERR_INVALID;
        pos += 3;
        if (fki_parse_u64(&v, path + pos, len - pos, FK_TILE_WIDTH - 1) != FK_OK || v == 0)
            return FK_ERR_INVALID;
        r.width = (unsigned)v;
    }
    *t = r;
    return FK_OK;
}

fk_err fk_tile_build(const fk_tile *t, fk_tlog_node_fn fn, void *ctx, uint8_t *out, size_t cap,
                     size_t *len)
{
    uint8_t buf[FK_TILE_MAX_BYTES];
    fk_err err;
    if (!t || !fn || !out || !len)
        abort();
    if (t->level < 0 || t->level > FK_TILE_MAX_LEVEL || t->width < 1 || t->width > FK_TILE_WIDTH)
        return FK_ERR_INVALID;
    if ((unsigned)t->level * FK_TILE_HEIGHT >= 64 || t->index > (UINT64_MAX >> 8))
        return FK_ERR_LIMIT;
    if (cap < (size_t)t->width * HL)
        return FK_ERR_LIMIT;
    for (unsigned i = 0; i < t->width; i++)
        if ((err = fn(ctx, (unsigned)t->level * FK_TILE_HEIGHT, t->index * FK_TILE_WIDTH + i,
                      buf + (size_t)i * HL)) != FK_OK)
            return err;
    memcpy(out, buf, (size_t)t->width * HL);
    *len = (size_t)t->width * HL;
    return FK_OK;
}

/* ---- node hashes from tiles --------------------------------------------- */

void fk_tile_reader_init(fk_tile_reader *r, uint64_t tree_size, fk_tile_fetch_fn fetch, void *ctx)
{
    if (!r || !fetch)
        abort();
    r->tree_size = tree_size;
    r->fetch = fetch;
    r->ctx = ctx;
    r->cached = 0;
    memset(&r->tile, 0, sizeof r->tile);
}

fk_err fk_tile_reader_node(void *reader, unsigned level, uint64_t index, uint8_t out[HL])
{
    fk_tile_reader *r = reader;
    fk_tile t;
    unsigned tl, sub;
    uint64_t first, count;
    size_t got = 0;
    fk_err err;
    if (!r || !out)
        abort();
    if (level >= 64 || index >= (r->tree_size >> level))
        return FK_ERR_INVALID; /* the node does not exist in this tree */
    tl = level / FK_TILE_HEIGHT;
    sub = level % FK_TILE_HEIGHT;
    first = index << sub; /* first hash at Merkle level 8*tl */
    count = (uint64_t)1 << sub;
    if ((err = fk_tile_at(&t, (int)tl, first / FK_TILE_WIDTH, r->tree_size)) != FK_OK)
        return err == FK_ERR_NOT_FOUND ? FK_ERR_INVALID : err;
    if (first % FK_TILE_WIDTH + count > t.width)
        return FK_ERR_INVALID;
    if (!r->cached || r->tile.level != t.level || r->tile.index != t.index ||
        r->tile.width != t.width) {
        r->cached = 0;
        err = r->fetch(r->ctx, &t, r->data, sizeof r->data, &got);
        if (err == FK_ERR_NOT_FOUND && t.width < FK_TILE_WIDTH) {
            /* A log may delete a partial tile once the full one exists
             * (tlog-tiles); the full tile starts with the same hashes. */
            fk_tile full = t;
            full.width = FK_TILE_WIDTH;
            err = r->fetch(r->ctx, &full, r->data, sizeof r->data, &got);
            if (err == FK_OK && got != FK_TILE_MAX_BYTES)
                return FK_ERR_INVALID;
            got = (size_t)t.width * HL;
        }
        if (err != FK_OK)
            return err;
        if (got != (size_t)t.width * HL)
            return FK_ERR_INVALID;
        r->tile = t;
        r->cached = 1;
    }
    return fk_tlog_root(out, (const uint8_t(*)[HL])(r->data + (first % FK_TILE_WIDTH) * HL), count);
}

/* ---- entry bundles --------------------------------------------------------- */

fk_err fk_bundle_append(uint8_t *buf, size_t cap, size_t *len, const uint8_t *entry,
                        size_t entry_len)
{
    if (!buf || !len || (!entry && entry_len))
        abort();
    if (entry_len > FK_TLOG_MAX_ENTRY)
        return FK_ERR_LIMIT;
    if (*len > cap || cap - *len < 2 + entry_len)
        return FK_ERR_LIMIT;
    buf[*len] = (uint8_t)(entry_len >> 8);
    buf[*len + 1] = (uint8_t)entry_len;
    if (entry_len)
        memcpy(buf + *len + 2, entry, entry_len);
    *len += 2 + entry_len;
    return FK_OK;
}

fk_err fk_bundle_next(const uint8_t *buf, size_t len, size_t *off, const uint8_t **entry,
                      size_t *entry_len)
{
    size_t n;
    if ((!buf && len) || !off || !entry || !entry_len)
        abort();
    if (*off == len)
        return FK_ERR_NOT_FOUND;
    if (*off > len || len - *off < 2)
        return FK_ERR_INVALID;
    n = (size_t)buf[*off] << 8 | buf[*off + 1];
    if (len - *off - 2 < n)
        return FK_ERR_INVALID;
    *entry = buf + *off + 2;
    *entry_len = n;
    *off += 2 + n;
    return FK_OK;
}

fk_err fk_bundle_leaf_hashes(const uint8_t *buf, size_t len, size_t count, uint8_t (*out)[HL])
{
    size_t off = 0, i = 0, elen;
    const uint8_t *e;
    fk_err err;
    if ((!buf && len) || (!out && count))
        abort();
    if (count > FK_TILE_WIDTH)
        return FK_ERR_LIMIT;
    while ((err = fk_bundle_next(buf, len, &off, &e, &elen)) == FK_OK) {
        if (i == count)
            return FK_ERR_INVALID;
        if ((err = fk_tlog_leaf_hash(out[i], e, elen)) != FK_OK)
            return err;
        i++;
    }
    if (err != FK_ERR_NOT_FOUND)
        return err;
    return i == count ? FK_OK : FK_ERR_INVALID;
}
