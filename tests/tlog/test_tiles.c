/* C2SP tlog-tiles and tlog-proof: the Tessera log's tiles and entry bundles
 * rebuilt byte for byte, roots and proofs computed from tiles, path
 * encoding, and receipts. */
#include "tlog_test.h"

#define TESSERA MERKLE_DIR "/tessera-posix-log"
#define HL FK_TLOG_HASH_LEN

static const char TESSERA_VKEY[] =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
static const char TESSERA_ORIGIN[] = "example.com/log/testdata";
static const char *const TESSERA_ENTRIES[15] = {
    "one", "two", "three", "four", "five", "six", "seven", "eit",
    "nain", "ten", "ileven", "twelf", "threeten", "fourten", "fivten",
};

struct tree {
    uint8_t (*leaf)[HL];
    uint64_t n;
};

static fk_err tree_node(void *ctx, unsigned level, uint64_t index, uint8_t out[HL])
{
    struct tree *t = ctx;
    if (level >= 64 || index >= (t->n >> level))
        return FK_ERR_NOT_FOUND;
    return fk_tlog_root(out, (const uint8_t(*)[HL])t->leaf + (index << level), (uint64_t)1 << level);
}

/* Fetch tiles from the Tessera folder by their path. */
struct dir_fetch {
    const char *dir;
    unsigned fetches;
};

static fk_err dir_fetch(void *ctx, const fk_tile *t, uint8_t *out, size_t cap, size_t *len)
{
    struct dir_fetch *d = ctx;
    char path[FK_TILE_PATH_MAX + 1], full[1024];
    size_t pl, n;
    fk_err err;
    if ((err = fk_tile_path(t, path, sizeof path, &pl)) != FK_OK)
        return err;
    snprintf(full, sizeof full, "%s/%s", d->dir, path);
    char *b = read_all(full, &n);
    if (!b)
        return FK_ERR_NOT_FOUND;
    d->fetches++;
    if (n > cap) {
        free(b);
        return FK_ERR_LIMIT;
    }
    memcpy(out, b, n);
    *len = n;
    free(b);
    return FK_OK;
}

static void tessera_leaves(uint8_t leaf[15][HL])
{
    for (int i = 0; i < 15; i++)
        assert_int_equal(fk_tlog_leaf_hash(leaf[i], (const uint8_t *)TESSERA_ENTRIES[i],
                                           strlen(TESSERA_ENTRIES[i])), FK_OK);
}

static void test_tessera_tiles(void **state)
{
    uint8_t leaf[15][HL], tile[FK_TILE_MAX_BYTES], bundle[4096], hashes[15][HL];
    struct tree tr = { leaf, 15 };
    (void)state;
    tessera_leaves(leaf);
    for (uint64_t n = 1; n <= 15; n++) {
        fk_tile t, e;
        char path[FK_TILE_PATH_MAX + 1], want_path[64];
        size_t pl, tl, bl = 0, fl, off = 0, el;
        const uint8_t *entry;
        tr.n = n;
        /* Which tiles a tree of n leaves has: one partial level-0 tile. */
        assert_int_equal(fk_tile_count(0, n), 1);
        assert_int_equal(fk_tile_count(1, n), 0);
        assert_int_equal(fk_tile_at(&t, 0, 0, n), FK_OK);
        assert_int_equal(t.width, n);
        assert_int_equal(fk_tile_at(&t, 0, 1, n), FK_ERR_NOT_FOUND);
        assert_int_equal(fk_tile_at(&t, 0, 0, n), FK_OK);
        assert_int_equal(fk_tile_path(&t, path, sizeof path, &pl), FK_OK);
        snprintf(want_path, sizeof want_path, "tile/0/000.p/%u", (unsigned)n);
        assert_string_equal(path, want_path);
        /* The hash tile. */
        assert_int_equal(fk_tile_build(&t, tree_node, &tr, tile, sizeof tile, &tl), FK_OK);
        char *file = read_allf(&fl, TESSERA "/%s", path);
        assert_int_equal(tl, fl);
        assert_memory_equal(tile, file, fl);
        free(file);
        /* The entry bundle. */
        assert_int_equal(fk_tile_at(&e, FK_TILE_ENTRIES, 0, n), FK_OK);
        assert_int_equal(fk_tile_path(&e, path, sizeof path, &pl), FK_OK);
        snprintf(want_path, sizeof want_path, "tile/entries/000.p/%u", (unsigned)n);
        assert_string_equal(path, want_path);
        for (uint64_t i = 0; i < n; i++)
            assert_int_equal(fk_bundle_append(bundle, sizeof bundle, &bl,
                                              (const uint8_t *)TESSERA_ENTRIES[i],
                                              strlen(TESSERA_ENTRIES[i])), FK_OK);
        file = read_allf(&fl, TESSERA "/%s", path);
        assert_int_equal(bl, fl);
        assert_memory_equal(bundle, file, fl);
        /* Bundle entries hash to the level-0 tile. */
        assert_int_equal(fk_bundle_leaf_hashes((uint8_t *)file, fl, n, hashes), FK_OK);
        assert_memory_equal(hashes, tile, n * HL);
        assert_int_equal(fk_bundle_leaf_hashes((uint8_t *)file, fl, n + 1, hashes), FK_ERR_INVALID);
        if (n > 1)
            assert_int_equal(fk_bundle_leaf_hashes((uint8_t *)file, fl, n - 1, hashes), FK_ERR_INVALID);
        for (uint64_t i = 0; i < n; i++) {
            assert_int_equal(fk_bundle_next((uint8_t *)file, fl, &off, &entry, &el), FK_OK);
            assert_int_equal(el, strlen(TESSERA_ENTRIES[i]));
            assert_memory_equal(entry, TESSERA_ENTRIES[i], el);
        }
        assert_int_equal(fk_bundle_next((uint8_t *)file, fl, &off, &entry, &el), FK_ERR_NOT_FOUND);
        assert_int_equal(fk_bundle_leaf_hashes((uint8_t *)file, fl - 1, n, hashes), FK_ERR_INVALID);
        free(file);
    }
    print_message("tessera: 15 level-0 tiles and 15 entry bundles rebuilt byte for byte\n");
}

/* A client following the Tessera log from its tiles alone: roots match the
 * signed checkpoints; proofs from tiles verify against them. */
static void test_tessera_follow(void **state)
{
    uint8_t leaf[15][HL], root[HL], proof[FK_TLOG_MAX_PROOF][HL], p2[FK_TLOG_MAX_PROOF][HL];
    struct tree tr = { leaf, 15 };
    fk_note_verifier v;
    fk_checkpoint cps[16];
    static fk_tile_reader r;
    struct dir_fetch d = { TESSERA, 0 };
    size_t np, n2, proofs = 0;
    (void)state;
    tessera_leaves(leaf);
    assert_int_equal(fk_note_verifier_parse(&v, TESSERA_VKEY, strlen(TESSERA_VKEY)), FK_OK);
    for (int n = 0; n <= 15; n++) {
        size_t len;
        char *buf = read_allf(&len, TESSERA "/checkpoint.%d", n);
        assert_int_equal(fk_checkpoint_open(&cps[n], NULL, buf, len, TESSERA_ORIGIN, &v, 1, NULL), FK_OK);
        cps[n].ext = NULL;
        free(buf);
    }
    for (uint64_t n = 1; n <= 15; n++) {
        fk_tile_reader_init(&r, n, dir_fetch, &d);
        assert_int_equal(fk_tlog_range_root(0, n, fk_tile_reader_node, &r, root), FK_OK);
        assert_memory_equal(root, cps[n].root, HL);
        tr.n = n;
        for (uint64_t i = 0; i < n; i++) {
            assert_int_equal(fk_tlog_prove_inclusion(i, n, fk_tile_reader_node, &r, proof,
                                                     FK_TLOG_MAX_PROOF, &np), FK_OK);
            assert_int_equal(fk_tlog_prove_inclusion(i, n, tree_node, &tr, p2, FK_TLOG_MAX_PROOF, &n2), FK_OK);
            assert_int_equal(np, n2);
            assert_memory_equal(proof, p2, np * HL);
            assert_int_equal(fk_tlog_verify_inclusion(i, n, leaf[i], (const uint8_t(*)[HL])proof, np,
                                                      cps[n].root), FK_OK);
            proofs++;
        }
        for (uint64_t m = 1; m < n; m++) {
            assert_int_equal(fk_tlog_prove_consistency(m, n, fk_tile_reader_node, &r, proof,
                                                       FK_TLOG_MAX_PROOF, &np), FK_OK);
            assert_int_equal(fk_tlog_verify_consistency(m, n, cps[m].root, cps[n].root,
                                                        (const uint8_t(*)[HL])proof, np), FK_OK);
            proofs++;
        }
        /* The reader refuses nodes outside its tree. */
        assert_int_equal(fk_tile_reader_node(&r, 0, n, root), FK_ERR_INVALID);
    }
    print_message("tessera from tiles: 15 roots equal the signed checkpoints; %zu proofs verified "
                  "(%u tile fetches)\n", proofs, d.fetches);
}

/* A tree spanning three tile levels, tiles held in memory: written from the
 * frontier's node callback, read back through fk_tile_reader. */
enum { BIG = 256 * 256 + 300 };
struct store {
    uint8_t (*l0)[HL];  /* level 0 hashes */
    uint8_t (*l8)[HL];  /* Merkle level 8 */
    uint8_t (*l16)[HL]; /* Merkle level 16 */
    uint64_t n0, n8, n16;
    unsigned fetches;
};

static fk_err store_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[HL])
{
    struct store *s = ctx;
    if (level == 0) {
        assert_int_equal(index, s->n0);
        memcpy(s->l0[s->n0++], hash, HL);
    } else if (level == 8) {
        assert_int_equal(index, s->n8);
        memcpy(s->l8[s->n8++], hash, HL);
    } else if (level == 16) {
        assert_int_equal(index, s->n16);
        memcpy(s->l16[s->n16++], hash, HL);
    }
    return FK_OK;
}

static fk_err store_fetch(void *ctx, const fk_tile *t, uint8_t *out, size_t cap, size_t *len)
{
    struct store *s = ctx;
    uint8_t (*src)[HL] = t->level == 0 ? s->l0 : t->level == 1 ? s->l8 : s->l16;
    uint64_t have = t->level == 0 ? s->n0 : t->level == 1 ? s->n8 : s->n16;
    assert_true(t->level >= 0 && t->level <= 2);
    assert_true(t->index * 256 + t->width <= have);
    assert_true(cap >= t->width * HL);
    memcpy(out, src[t->index * 256], t->width * HL);
    *len = t->width * HL;
    s->fetches++;
    return FK_OK;
}

/* A log that has deleted every partial tile. */
static fk_err full_only_fetch(void *ctx, const fk_tile *t, uint8_t *out, size_t cap, size_t *len)
{
    struct store *s = ctx;
    uint64_t have = t->level == 0 ? s->n0 : t->level == 1 ? s->n8 : s->n16;
    if (t->width < FK_TILE_WIDTH || (t->index + 1) * FK_TILE_WIDTH > have)
        return FK_ERR_NOT_FOUND;
    return store_fetch(ctx, t, out, cap, len);
}

static void test_multilevel_tiles(void **state)
{
    struct store s = { calloc(BIG, HL), calloc(BIG / 256 + 1, HL), calloc(2, HL), 0, 0, 0, 0 };
    uint8_t(*leaf)[HL] = calloc(BIG, HL);
    struct tree tr = { leaf, BIG };
    static fk_tile_reader r;
    static fk_tlog_frontier f;
    uint8_t a[HL], b[HL], proof[FK_TLOG_MAX_PROOF][HL], p2[FK_TLOG_MAX_PROOF][HL];
    static uint8_t tile[FK_TILE_MAX_BYTES], tile2[FK_TILE_MAX_BYTES];
    size_t np, n2, tl, tl2;
    fk_tile t;
    (void)state;
    assert_non_null(s.l0);
    assert_non_null(leaf);
    fk_tlog_frontier_init(&f);
    for (uint64_t i = 0; i < BIG; i++) {
        uint8_t d[8];
        for (int k = 0; k < 8; k++)
            d[k] = (uint8_t)(i >> (8 * k));
        assert_int_equal(fk_tlog_leaf_hash(leaf[i], d, sizeof d), FK_OK);
        assert_int_equal(fk_tlog_frontier_append(&f, leaf[i], store_node, &s), FK_OK);
    }
    assert_int_equal(s.n8, BIG / 256);
    assert_int_equal(s.n16, 1);
    assert_int_equal(fk_tlog_frontier_root(&f, a), FK_OK);
    fk_tile_reader_init(&r, BIG, store_fetch, &s);
    assert_int_equal(fk_tlog_range_root(0, BIG, fk_tile_reader_node, &r, b), FK_OK);
    assert_memory_equal(a, b, HL);
    /* Tiles built from any node source equal the stored ones. */
    assert_int_equal(fk_tile_at(&t, 1, 0, BIG), FK_OK);
    assert_int_equal(t.width, 256);
    assert_int_equal(fk_tile_build(&t, tree_node, &tr, tile, sizeof tile, &tl), FK_OK);
    assert_int_equal(store_fetch(&s, &t, tile2, sizeof tile2, &tl2), FK_OK);
    assert_int_equal(tl, tl2);
    assert_memory_equal(tile, tile2, tl);
    assert_int_equal(fk_tile_at(&t, 2, 0, BIG), FK_OK);
    assert_int_equal(t.width, 1);
    /* Proofs from tiles equal proofs from the leaves, across levels. */
    static const uint64_t idx[] = { 0, 1, 255, 256, 65535, 65536, BIG - 1 };
    for (size_t i = 0; i < sizeof idx / sizeof *idx; i++) {
        assert_int_equal(fk_tlog_prove_inclusion(idx[i], BIG, fk_tile_reader_node, &r, proof,
                                                 FK_TLOG_MAX_PROOF, &np), FK_OK);
        assert_int_equal(fk_tlog_prove_inclusion(idx[i], BIG, tree_node, &tr, p2, FK_TLOG_MAX_PROOF, &n2), FK_OK);
        assert_int_equal(np, n2);
        assert_memory_equal(proof, p2, np * HL);
        assert_int_equal(fk_tlog_verify_inclusion(idx[i], BIG, leaf[idx[i]], (const uint8_t(*)[HL])proof, np, a),
                         FK_OK);
    }
    static const uint64_t sizes[] = { 1, 255, 256, 257, 65536, 65537, BIG - 1 };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        assert_int_equal(fk_tlog_range_root(0, sizes[i], tree_node, &tr, b), FK_OK);
        assert_int_equal(fk_tlog_prove_consistency(sizes[i], BIG, fk_tile_reader_node, &r, proof,
                                                   FK_TLOG_MAX_PROOF, &np), FK_OK);
        assert_int_equal(fk_tlog_verify_consistency(sizes[i], BIG, b, a, (const uint8_t(*)[HL])proof, np), FK_OK);
    }
    /* Partial tiles gone: the reader falls back to the full tiles. */
    {
        enum { OLD = 65536 - 216 }; /* partial level-0 and level-1 tiles */
        assert_int_equal(fk_tlog_range_root(0, OLD, tree_node, &tr, b), FK_OK);
        fk_tile_reader_init(&r, OLD, full_only_fetch, &s);
        assert_int_equal(fk_tlog_range_root(0, OLD, fk_tile_reader_node, &r, a), FK_OK);
        assert_memory_equal(a, b, HL);
        assert_int_equal(fk_tlog_prove_inclusion(OLD - 1, OLD, fk_tile_reader_node, &r, proof,
                                                 FK_TLOG_MAX_PROOF, &np), FK_OK);
        assert_int_equal(fk_tlog_verify_inclusion(OLD - 1, OLD, leaf[OLD - 1], (const uint8_t(*)[HL])proof,
                                                  np, b), FK_OK);
        /* At the log's real edge there is no full tile: the error shows. */
        fk_tile_reader_init(&r, BIG, full_only_fetch, &s);
        assert_int_equal(fk_tlog_range_root(0, BIG, fk_tile_reader_node, &r, a), FK_ERR_NOT_FOUND);
        fk_tile_reader_init(&r, BIG, store_fetch, &s);
        assert_int_equal(fk_tlog_frontier_root(&f, a), FK_OK);
    }
    /* A restarted sequencer restores its frontier from tiles. */
    {
        static fk_tlog_frontier g;
        assert_int_equal(fk_tlog_frontier_load(&g, BIG, fk_tile_reader_node, &r), FK_OK);
        assert_true(g.size == f.size);
        assert_int_equal(g.count, f.count);
        assert_memory_equal(g.hash, f.hash, f.count * HL);
    }
    print_message("multi-level tiles: %d leaves, root and proofs from tiles match (%u fetches)\n",
                  BIG, s.fetches);
    free(s.l0);
    free(s.l8);
    free(s.l16);
    free(leaf);
}

static fk_err short_fetch(void *ctx, const fk_tile *t, uint8_t *out, size_t cap, size_t *len)
{
    (void)ctx;
    memset(out, 0, cap);
    *len = t->width * HL - 1;
    return FK_OK;
}

static void test_tile_paths(void **state)
{
    static const struct {
        int level;
        uint64_t index;
        unsigned width;
        const char *path;
    } good[] = {
        { 0, 0, 256, "tile/0/000" },
        { 0, 1234067, 256, "tile/0/x001/x234/067" },
        { 1, 1234067, 5, "tile/1/x001/x234/067.p/5" },
        { 63, 999, 255, "tile/63/999.p/255" },
        { 2, 1000, 256, "tile/2/x001/000" },
        { FK_TILE_ENTRIES, 0, 1, "tile/entries/000.p/1" },
        { FK_TILE_ENTRIES, UINT64_MAX, 256, "tile/entries/x018/x446/x744/x073/x709/x551/615" },
    };
    static const char *const bad[] = {
        "tile/0/x000/001", "tile/00/000", "tile/64/000", "tile/0/1", "tile/0/0001",
        "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/010", "tile/0/000/", "tile/0/000.p/",
        "tile/0/x001", "tile/0/001/002", "tile/entry/000", "tiles/0/000", "tile/-1/000",
        "tile/0/x018/x446/x744/x073/x709/x551/616", "tile/0/x001/x002/x003/x004/x005/x006/x007/008",
        "tile/0/000.p/1/", "/tile/0/000", "tile/0/x01/000",
    };
    char out[FK_TILE_PATH_MAX + 1];
    size_t len;
    fk_tile t;
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        fk_tile g = { good[i].level, good[i].index, good[i].width };
        assert_int_equal(fk_tile_path(&g, out, sizeof out, &len), FK_OK);
        assert_string_equal(out, good[i].path);
        assert_int_equal(fk_tile_parse_path(&t, out, len), FK_OK);
        assert_int_equal(t.level, g.level);
        assert_true(t.index == g.index);
        assert_int_equal(t.width, g.width);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (fk_tile_parse_path(&t, bad[i], strlen(bad[i])) == FK_OK)
            fail_msg("accepted bad tile path %s", bad[i]);
    t.level = 64;
    t.index = 0;
    t.width = 256;
    assert_int_equal(fk_tile_path(&t, out, sizeof out, &len), FK_ERR_INVALID);
    t.level = 0;
    t.width = 257;
    assert_int_equal(fk_tile_path(&t, out, sizeof out, &len), FK_ERR_INVALID);
    t.width = 0;
    assert_int_equal(fk_tile_path(&t, out, sizeof out, &len), FK_ERR_INVALID);

    /* tlog-tiles' example: a tree of 70,000 leaves. */
    assert_int_equal(fk_tile_count(0, 70000), 274);
    assert_int_equal(fk_tile_at(&t, 0, 272, 70000), FK_OK);
    assert_int_equal(t.width, 256);
    assert_int_equal(fk_tile_at(&t, 0, 273, 70000), FK_OK);
    assert_int_equal(t.width, 112);
    assert_int_equal(fk_tile_count(1, 70000), 2);
    assert_int_equal(fk_tile_at(&t, 1, 0, 70000), FK_OK);
    assert_int_equal(t.width, 256);
    assert_int_equal(fk_tile_at(&t, 1, 1, 70000), FK_OK);
    assert_int_equal(t.width, 17);
    assert_int_equal(fk_tile_count(2, 70000), 1);
    assert_int_equal(fk_tile_at(&t, 2, 0, 70000), FK_OK);
    assert_int_equal(t.width, 1);
    assert_int_equal(fk_tile_count(3, 70000), 0);
    /* ... and 256 leaves: one full level-0 tile, a level-1 tile of width 1. */
    assert_int_equal(fk_tile_count(0, 256), 1);
    assert_int_equal(fk_tile_at(&t, 1, 0, 256), FK_OK);
    assert_int_equal(t.width, 1);
    assert_int_equal(fk_tile_count(FK_TILE_MAX_LEVEL, UINT64_MAX), 0);
    assert_int_equal(fk_tile_at(&t, 64, 0, 256), FK_ERR_INVALID);

    /* A fetched tile of the wrong length is refused. */
    {
        static fk_tile_reader r;
        uint8_t h[HL];
        fk_tile_reader_init(&r, 10, short_fetch, NULL);
        assert_int_equal(fk_tile_reader_node(&r, 0, 3, h), FK_ERR_INVALID);
    }
}

static void test_bundle_limits(void **state)
{
    static uint8_t buf[2 * (FK_TLOG_MAX_ENTRY + 2)], entry[FK_TLOG_MAX_ENTRY + 1];
    size_t len = 0, off = 0, el;
    const uint8_t *e;
    (void)state;
    assert_int_equal(fk_bundle_append(buf, sizeof buf, &len, entry, FK_TLOG_MAX_ENTRY), FK_OK);
    assert_int_equal(len, FK_TLOG_MAX_ENTRY + 2);
    assert_int_equal(buf[0], 0xff);
    assert_int_equal(buf[1], 0xff);
    assert_int_equal(fk_bundle_append(buf, sizeof buf, &len, entry, FK_TLOG_MAX_ENTRY + 1), FK_ERR_LIMIT);
    assert_int_equal(fk_bundle_append(buf, sizeof buf, &len, NULL, 0), FK_OK); /* empty entry */
    assert_int_equal(fk_bundle_append(buf, len + 1, &len, entry, 0), FK_ERR_LIMIT);
    assert_int_equal(fk_bundle_next(buf, len, &off, &e, &el), FK_OK);
    assert_int_equal(el, FK_TLOG_MAX_ENTRY);
    assert_int_equal(fk_bundle_next(buf, len, &off, &e, &el), FK_OK);
    assert_int_equal(el, 0);
    assert_int_equal(fk_bundle_next(buf, len, &off, &e, &el), FK_ERR_NOT_FOUND);
    /* Truncated length prefix or body. */
    off = 0;
    assert_int_equal(fk_bundle_next(buf, 1, &off, &e, &el), FK_ERR_INVALID);
    off = 0;
    assert_int_equal(fk_bundle_next(buf, 100, &off, &e, &el), FK_ERR_INVALID);
    static uint8_t hashes[FK_TILE_WIDTH + 1][HL];
    assert_int_equal(fk_bundle_leaf_hashes(buf, len, FK_TILE_WIDTH + 1, hashes), FK_ERR_LIMIT);
    assert_int_equal(fk_bundle_leaf_hashes(buf, len, 2, hashes), FK_OK);
}

/* ---- tlog-proof ---------------------------------------------------------- */

static void test_tlog_proof(void **state)
{
    uint8_t leaf[15][HL], proof[FK_TLOG_MAX_PROOF][HL];
    struct tree tr = { leaf, 15 };
    fk_note_verifier v, other;
    fk_note_signer s;
    static char out[FK_TLOG_PROOF_MAX_SIZE + 1];
    static fk_tlog_proof p;
    fk_checkpoint c;
    fk_note note;
    size_t np, len, cl;
    char *cp;
    (void)state;
    tessera_leaves(leaf);
    assert_int_equal(fk_note_verifier_parse(&v, TESSERA_VKEY, strlen(TESSERA_VKEY)), FK_OK);
    assert_int_equal(fk_note_signer_generate(&s, TESSERA_ORIGIN, strlen(TESSERA_ORIGIN)), FK_OK);
    fk_note_signer_verifier(&s, &other);
    cp = read_allf(&cl, TESSERA "/checkpoint.15");
    for (uint64_t i = 0; i < 15; i++) {
        static const uint8_t extra[] = "some extra data";
        const uint8_t *x = i % 2 ? extra : NULL;
        size_t xl = i % 2 ? sizeof extra - 1 : 0;
        assert_int_equal(fk_tlog_prove_inclusion(i, 15, tree_node, &tr, proof, FK_TLOG_MAX_PROOF, &np), FK_OK);
        assert_int_equal(fk_tlog_proof_encode(x, xl, i, (const uint8_t(*)[HL])proof, np, cp, cl, out,
                                              sizeof out, &len), FK_OK);
        assert_int_equal(strncmp(out, FK_TLOG_PROOF_HEADER "\n", strlen(FK_TLOG_PROOF_HEADER) + 1), 0);
        assert_int_equal(fk_tlog_proof_parse(&p, out, len), FK_OK);
        assert_true(p.index == i);
        assert_int_equal(p.nproof, np);
        assert_memory_equal(p.proof, proof, np * HL);
        assert_int_equal(p.checkpoint_len, cl);
        assert_int_equal(p.extra_b64 != NULL, x != NULL);
        assert_int_equal(fk_tlog_proof_verify(&p, leaf[i], TESSERA_ORIGIN, &v, 1, &c, &note), FK_OK);
        assert_int_equal(c.size, 15);
        assert_int_equal(note.nsigs, 1);
        /* Another leaf, another origin, another key: refused. */
        assert_int_equal(fk_tlog_proof_verify(&p, leaf[(i + 1) % 15], TESSERA_ORIGIN, &v, 1, NULL, NULL),
                         FK_ERR_PROOF);
        assert_int_equal(fk_tlog_proof_verify(&p, leaf[i], "example.com/other", &v, 1, NULL, NULL),
                         FK_ERR_INVALID);
        assert_int_equal(fk_tlog_proof_verify(&p, leaf[i], TESSERA_ORIGIN, &other, 1, NULL, NULL),
                         FK_ERR_SIGNATURE);
    }
    /* index past the checkpoint's size */
    assert_int_equal(fk_tlog_proof_encode(NULL, 0, 15, (const uint8_t(*)[HL])proof, 0, cp, cl, out,
                                          sizeof out, &len), FK_OK);
    assert_int_equal(fk_tlog_proof_parse(&p, out, len), FK_OK);
    assert_int_equal(fk_tlog_proof_verify(&p, leaf[0], TESSERA_ORIGIN, &v, 1, NULL, NULL), FK_ERR_PROOF);

    /* Malformed receipts. */
    {
        static const char *const bad[] = {
            "c2sp.org/tlog-proof@v2\nindex 0\n\n%s",
            "c2sp.org/tlog-proof@v1\nindex 00\n\n%s",
            "c2sp.org/tlog-proof@v1\nindex -1\n\n%s",
            "c2sp.org/tlog-proof@v1\nindex 9223372036854775807\n\n%s", /* index must be < max size */
            "c2sp.org/tlog-proof@v1\nindex 1\n%s",                     /* no blank line */
            "c2sp.org/tlog-proof@v1\nextra \nindex 1\n\n%s",
            "c2sp.org/tlog-proof@v1\nextra AAA\nindex 1\n\n%s",
            "c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n%s",
            "c2sp.org/tlog-proof@v1\nindex 1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n\n%s",
            "c2sp.org/tlog-proof@v1\nindex 1\n\n",
            "c2sp.org/tlog-proof@v1\nindex 1\n\nnot a note\n",
            "c2sp.org/tlog-proof@v1\r\nindex 1\n\n%s",
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            int n = snprintf(out, sizeof out, bad[i], cp);
            if (fk_tlog_proof_parse(&p, out, (size_t)n) == FK_OK)
                fail_msg("accepted bad receipt %zu", i);
        }
    }
    /* Proof lines: 63 accepted by the format, 64 refused. */
    {
        static uint8_t many[FK_TLOG_MAX_PROOF][HL];
        assert_int_equal(fk_tlog_proof_encode(NULL, 0, 0, (const uint8_t(*)[HL])many, FK_TLOG_MAX_PROOF - 1,
                                              cp, cl, out, sizeof out, &len), FK_OK);
        assert_int_equal(fk_tlog_proof_parse(&p, out, len), FK_OK);
        assert_int_equal(p.nproof, FK_TLOG_MAX_PROOF - 1);
        assert_int_equal(fk_tlog_proof_encode(NULL, 0, 0, (const uint8_t(*)[HL])many, FK_TLOG_MAX_PROOF,
                                              cp, cl, out, sizeof out, &len), FK_ERR_LIMIT);
        /* Hand-built: 64 lines. */
        size_t pos = (size_t)sprintf(out, "%s\nindex 0\n", FK_TLOG_PROOF_HEADER);
        for (int i = 0; i < FK_TLOG_MAX_PROOF; i++)
            pos += (size_t)sprintf(out + pos, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
        pos += (size_t)sprintf(out + pos, "\n%s", cp);
        assert_int_equal(fk_tlog_proof_parse(&p, out, pos), FK_ERR_LIMIT);
    }
    /* Extra data limit: FK_TLOG_PROOF_EXTRA_MAX bytes accepted, one more refused. */
    {
        static uint8_t extra[FK_TLOG_PROOF_EXTRA_MAX + 1];
        assert_int_equal(fk_tlog_proof_encode(extra, FK_TLOG_PROOF_EXTRA_MAX, 0, NULL, 0, cp, cl, out,
                                              sizeof out, &len), FK_OK);
        assert_int_equal(fk_tlog_proof_parse(&p, out, len), FK_OK);
        assert_int_equal(fk_tlog_proof_encode(extra, FK_TLOG_PROOF_EXTRA_MAX + 1, 0, NULL, 0, cp, cl, out,
                                              sizeof out, &len), FK_ERR_LIMIT);
        size_t pos = (size_t)sprintf(out, "%s\nextra ", FK_TLOG_PROOF_HEADER);
        pos += fk_b64_encode_padded(out + pos, extra, FK_TLOG_PROOF_EXTRA_MAX + 1);
        pos += (size_t)sprintf(out + pos, "\nindex 0\n\n%s", cp);
        assert_int_equal(fk_tlog_proof_parse(&p, out, pos), FK_ERR_LIMIT);
    }
    free(cp);
    fk_note_signer_wipe(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tessera_tiles),
        cmocka_unit_test(test_tessera_follow),
        cmocka_unit_test(test_multilevel_tiles),
        cmocka_unit_test(test_tile_paths),
        cmocka_unit_test(test_bundle_limits),
        cmocka_unit_test(test_tlog_proof),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
