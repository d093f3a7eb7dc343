/*
 * Hardening tests for the tlog module: limits that must hold together
 * (a receipt with every part at its own limit), a frontier whose fields do
 * not agree, trees and tiles near FK_TLOG_MAX_SIZE, and parser strictness
 * that the format tests do not reach.
 */
#include "tlog_test.h"

#define HL FK_TLOG_HASH_LEN

/* ---- a tree of 2^63 - 1 identical leaves ---------------------------------
 * With every leaf equal, every full node at one level has the same hash,
 * so a node callback can serve a tree of any size from 64 hashes. */
static uint8_t same_node[64][HL];

static void same_init(void)
{
    assert_int_equal(fk_tlog_leaf_hash(same_node[0], (const uint8_t *)"x", 1), FK_OK);
    for (int l = 1; l < 64; l++)
        assert_int_equal(fk_tlog_node_hash(same_node[l], same_node[l - 1], same_node[l - 1]), FK_OK);
}

static fk_err same_fn(void *ctx, unsigned level, uint64_t index, uint8_t out[HL])
{
    uint64_t size = *(const uint64_t *)ctx;
    /* The library promises to ask only for nodes that exist. */
    if (level >= 63 || index >= (size >> level))
        return FK_ERR_STORAGE;
    memcpy(out, same_node[level], HL);
    return FK_OK;
}

static void test_huge_trees(void **state)
{
    const uint64_t M = FK_TLOG_MAX_SIZE;
    uint8_t proof[FK_TLOG_MAX_PROOF][HL], root[HL], root1[HL], r2[HL];
    size_t np = 0;
    uint64_t size = M;
    fk_tlog_frontier f;
    (void)state;
    same_init();

    assert_int_equal(fk_tlog_range_root(0, M, same_fn, &size, root), FK_OK);
    assert_int_equal(fk_tlog_frontier_load(&f, M, same_fn, &size), FK_OK);
    assert_int_equal(f.count, 63);
    assert_int_equal(fk_tlog_frontier_root(&f, r2), FK_OK);
    assert_memory_equal(root, r2, HL);
    assert_int_equal(fk_tlog_frontier_append(&f, same_node[0], NULL, NULL), FK_ERR_LIMIT);

    /* Inclusion of the first, a middle and the last leaf of the largest
     * tree: 63 hashes for all but the last (a lone right spine). */
    const uint64_t idx[] = { 0, (uint64_t)1 << 62, M - 2, M - 1 };
    for (size_t i = 0; i < sizeof idx / sizeof *idx; i++) {
        assert_int_equal(fk_tlog_prove_inclusion(idx[i], M, same_fn, &size, proof,
                                                 FK_TLOG_MAX_PROOF, &np), FK_OK);
        assert_true(np <= 63);
        assert_int_equal(fk_tlog_verify_inclusion(idx[i], M, same_node[0],
                                                  (const uint8_t(*)[HL])proof, np, root), FK_OK);
        /* With every leaf equal, positions are indistinguishable; a changed
         * hash or a missing element is not. */
        if (np) {
            proof[0][5] ^= 0x20;
            assert_int_equal(fk_tlog_verify_inclusion(idx[i], M, same_node[0],
                                                      (const uint8_t(*)[HL])proof, np, root),
                             FK_ERR_PROOF);
            proof[0][5] ^= 0x20;
            assert_int_equal(fk_tlog_verify_inclusion(idx[i], M, same_node[0],
                                                      (const uint8_t(*)[HL])proof, np - 1, root),
                             FK_ERR_PROOF);
        }
    }
    assert_int_equal(fk_tlog_prove_inclusion(0, M, same_fn, &size, proof, FK_TLOG_MAX_PROOF, &np),
                     FK_OK);
    assert_int_equal(np, 63);

    /* Consistency across the top of the range, both a power of two and
     * not, and the longest proof there is. */
    const uint64_t old[] = { 1, 3, (uint64_t)1 << 62, ((uint64_t)1 << 62) + 1, M - 1 };
    for (size_t i = 0; i < sizeof old / sizeof *old; i++) {
        uint64_t s1 = old[i];
        assert_int_equal(fk_tlog_range_root(0, s1, same_fn, &size, root1), FK_OK);
        assert_int_equal(fk_tlog_prove_consistency(s1, M, same_fn, &size, proof, FK_TLOG_MAX_PROOF,
                                                   &np), FK_OK);
        assert_true(np <= FK_TLOG_MAX_PROOF);
        assert_int_equal(fk_tlog_verify_consistency(s1, M, root1, root, (const uint8_t(*)[HL])proof,
                                                    np), FK_OK);
        if (np) {
            proof[np - 1][0] ^= 1;
            assert_int_equal(fk_tlog_verify_consistency(s1, M, root1, root,
                                                        (const uint8_t(*)[HL])proof, np),
                             FK_ERR_PROOF);
        }
    }
}

/* ---- tiles near the top ---------------------------------------------------- */

static fk_err same_tile_fetch(void *ctx, const fk_tile *t, uint8_t *out, size_t cap, size_t *len)
{
    (void)ctx;
    if (t->level < 0 || t->level > 7 || cap < (size_t)t->width * HL)
        return FK_ERR_STORAGE;
    for (unsigned i = 0; i < t->width; i++)
        memcpy(out + (size_t)i * HL, same_node[8 * t->level], HL);
    *len = (size_t)t->width * HL;
    return FK_OK;
}

static void test_huge_tiles(void **state)
{
    const uint64_t M = FK_TLOG_MAX_SIZE;
    fk_tile t, u;
    char path[FK_TILE_PATH_MAX + 1];
    size_t len = 0;
    uint8_t h[HL], root[HL];
    uint64_t size = M;
    fk_tile_reader *r = malloc(sizeof *r);
    (void)state;
    assert_non_null(r);
    same_init();

    /* 2^63 - 1 = 256 * (2^55 - 1) + 255: 2^55 - 1 full level-0 tiles and a
     * partial one of 255; level 7 holds one partial tile of 127. */
    assert_true(fk_tile_count(0, M) == (uint64_t)1 << 55);
    assert_true(fk_tile_count(FK_TILE_ENTRIES, M) == (uint64_t)1 << 55);
    assert_true(fk_tile_count(7, M) == 1);
    assert_true(fk_tile_count(8, M) == 0);
    assert_true(fk_tile_count(FK_TILE_MAX_LEVEL, UINT64_MAX) == 0);
    assert_int_equal(fk_tile_at(&t, 0, ((uint64_t)1 << 55) - 1, M), FK_OK);
    assert_int_equal(t.width, 255);
    assert_int_equal(fk_tile_at(&t, 0, ((uint64_t)1 << 55) - 2, M), FK_OK);
    assert_int_equal(t.width, FK_TILE_WIDTH);
    assert_int_equal(fk_tile_at(&t, 0, (uint64_t)1 << 55, M), FK_ERR_NOT_FOUND);
    assert_int_equal(fk_tile_at(&t, 7, 0, M), FK_OK);
    assert_int_equal(t.width, 127);
    assert_int_equal(fk_tile_at(&t, 8, 0, M), FK_ERR_NOT_FOUND);
    assert_int_equal(fk_tile_at(&t, 0, UINT64_MAX, UINT64_MAX), FK_ERR_NOT_FOUND);

    /* Paths of the largest indices round-trip. */
    t = (fk_tile){ .level = FK_TILE_ENTRIES, .index = UINT64_MAX, .width = 1 };
    assert_int_equal(fk_tile_path(&t, path, sizeof path, &len), FK_OK);
    assert_string_equal(path, "tile/entries/x018/x446/x744/x073/x709/x551/615.p/1");
    assert_int_equal(fk_tile_parse_path(&u, path, len), FK_OK);
    assert_true(u.index == UINT64_MAX && u.level == FK_TILE_ENTRIES && u.width == 1);
    /* One more than UINT64_MAX, and an eighth group, are refused. */
    static const char *const over[] = {
        "tile/0/x018/x446/x744/x073/x709/x551/616",
        "tile/0/x001/x000/x000/x000/x000/x000/x000/000",
        "tile/64/000",
        "tile/00/000",
        "tile/0/000.p/256",
        "tile/0/000.p/0",
        "tile/0/000.p/010",
        "tile/0/x000/001",
        "tile/0/00",
        "tile/0/0000",
        "tile/0/000/",
        "tile/0/x001",
        "tile/0/X001/000",
        "tile/entries/000.p/",
        "tile/entry/000",
        "/tile/0/000",
    };
    for (size_t i = 0; i < sizeof over / sizeof *over; i++)
        if (fk_tile_parse_path(&u, over[i], strlen(over[i])) == FK_OK)
            fail_msg("accepted tile path %s", over[i]);

    /* fk_tile_build refuses indices whose node index would overflow. */
    uint8_t buf[FK_TILE_MAX_BYTES];
    t = (fk_tile){ .level = 0, .index = (UINT64_MAX >> 8) + 1, .width = 1 };
    assert_int_equal(fk_tile_build(&t, same_fn, &size, buf, sizeof buf, &len), FK_ERR_LIMIT);
    t = (fk_tile){ .level = 0, .index = ((uint64_t)1 << 55) - 1, .width = 255 };
    assert_int_equal(fk_tile_build(&t, same_fn, &size, buf, sizeof buf, &len), FK_OK);
    assert_int_equal(len, 255 * HL);

    /* A client reading the largest tree from its tiles: the highest node
     * (level 62), a node in the last partial tile, and the whole root. */
    fk_tile_reader_init(r, M, same_tile_fetch, NULL);
    assert_int_equal(fk_tile_reader_node(r, 62, 0, h), FK_OK);
    assert_memory_equal(h, same_node[62], HL);
    assert_int_equal(fk_tile_reader_node(r, 63, 0, h), FK_ERR_INVALID);
    assert_int_equal(fk_tile_reader_node(r, 0, M - 1, h), FK_OK);
    assert_memory_equal(h, same_node[0], HL);
    assert_int_equal(fk_tile_reader_node(r, 0, M, h), FK_ERR_INVALID);
    assert_int_equal(fk_tlog_range_root(0, M, fk_tile_reader_node, r, h), FK_OK);
    assert_int_equal(fk_tlog_range_root(0, M, same_fn, &size, root), FK_OK);
    assert_memory_equal(h, root, HL);
    free(r);
}

/* ---- frontier fields that do not agree ------------------------------------ */

static void test_frontier_inconsistent(void **state)
{
    fk_tlog_frontier f;
    uint8_t leaf[HL] = { 0 }, root[HL];
    (void)state;
    /* A frontier restored by a caller (say, copied from disk) whose count
     * does not match its size must be refused, not indexed with. */
    fk_tlog_frontier_init(&f);
    f.size = 1;
    f.count = 0;
    assert_int_equal(fk_tlog_frontier_append(&f, leaf, NULL, NULL), FK_ERR_INVALID);
    assert_int_equal(fk_tlog_frontier_root(&f, root), FK_ERR_INVALID);
    f.size = 3;
    f.count = 1;
    assert_int_equal(fk_tlog_frontier_append(&f, leaf, NULL, NULL), FK_ERR_INVALID);
    f.size = 0;
    f.count = 200;
    assert_int_equal(fk_tlog_frontier_root(&f, root), FK_ERR_INVALID);
    f.count = 0;
    assert_int_equal(fk_tlog_frontier_append(&f, leaf, NULL, NULL), FK_OK);
    assert_int_equal(fk_tlog_frontier_root(&f, root), FK_OK);
}

/* ---- restarting a sequencer at any size ------------------------------------ */

enum { RN = 65536 + 300 };

/* What a sequencer stores: the nodes at levels 0, 8 and 16 (its tiles). */
struct tstore {
    uint8_t (*lv[3])[HL];
    uint64_t n[3];
    int check; /* after a restart: nodes must equal what was stored before */
};

static fk_err tstore_put(void *ctx, unsigned level, uint64_t index, const uint8_t hash[HL])
{
    struct tstore *s = ctx;
    if (level % 8 || level > 16)
        return FK_OK;
    unsigned l = level / 8;
    if (s->check) {
        if (index >= s->n[l] || memcmp(s->lv[l][index], hash, HL) != 0)
            return FK_ERR_STORAGE;
        return FK_OK;
    }
    if (index != s->n[l])
        return FK_ERR_STORAGE;
    memcpy(s->lv[l][s->n[l]++], hash, HL);
    return FK_OK;
}

static fk_err tstore_fetch(void *ctx, const fk_tile *t, uint8_t *out, size_t cap, size_t *len)
{
    struct tstore *s = ctx;
    if (t->level < 0 || t->level > 2 || cap < (size_t)t->width * HL ||
        t->index * FK_TILE_WIDTH + t->width > s->n[t->level])
        return FK_ERR_NOT_FOUND;
    memcpy(out, s->lv[t->level][t->index * FK_TILE_WIDTH], (size_t)t->width * HL);
    *len = (size_t)t->width * HL;
    return FK_OK;
}

static void test_frontier_restart(void **state)
{
    struct tstore s = { { calloc(RN, HL), calloc(RN / 256 + 1, HL), calloc(2, HL) }, { 0 }, 0 };
    uint8_t (*leaf)[HL] = calloc(RN, HL);
    fk_tlog_frontier *f = malloc(sizeof *f), *g = malloc(sizeof *g);
    fk_tile_reader *r = malloc(sizeof *r);
    uint8_t want[HL], got[HL];
    (void)state;
    assert_true(s.lv[0] && s.lv[1] && s.lv[2] && leaf && f && g && r);
    fk_tlog_frontier_init(f);
    for (uint64_t i = 0; i < RN; i++) {
        assert_int_equal(fk_tlog_leaf_hash(leaf[i], (const uint8_t *)&i, sizeof i), FK_OK);
        assert_int_equal(fk_tlog_frontier_append(f, leaf[i], tstore_put, &s), FK_OK);
    }
    assert_int_equal(fk_tlog_frontier_root(f, want), FK_OK);
    /* Crash at size k (tiles of the first k leaves survive; the store
     * serves them as partial tiles of that size), restore, append the
     * rest: the same nodes and the same root as without the crash. */
    static const uint64_t at[] = { 1, 2, 3, 255, 256, 257, 511, 512, 4097, 65535, 65536, 65537, RN - 1 };
    s.check = 1;
    for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
        fk_tile_reader_init(r, at[i], tstore_fetch, &s);
        assert_int_equal(fk_tlog_frontier_load(g, at[i], fk_tile_reader_node, r), FK_OK);
        for (uint64_t k = at[i]; k < RN; k++)
            assert_int_equal(fk_tlog_frontier_append(g, leaf[k], tstore_put, &s), FK_OK);
        assert_int_equal(fk_tlog_frontier_root(g, got), FK_OK);
        assert_memory_equal(got, want, HL);
        assert_true(g->size == f->size && g->count == f->count);
    }
    /* A store that lost a tile cannot restore silently. */
    fk_tile_reader_init(r, RN + 256, tstore_fetch, &s);
    assert_int_equal(fk_tlog_frontier_load(g, RN + 256, fk_tile_reader_node, r), FK_ERR_NOT_FOUND);
    for (int l = 0; l < 3; l++)
        free(s.lv[l]);
    free(leaf);
    free(f);
    free(g);
    free(r);
}

/* ---- a receipt with every part at its limit -------------------------------- */

static void test_receipt_limits(void **state)
{
    static char note[FK_NOTE_MAX_SIZE + 2];
    static char out[FK_TLOG_PROOF_MAX_SIZE + 16];
    static uint8_t extra[FK_TLOG_PROOF_EXTRA_MAX + 1];
    static const char tail[] = "\n\n\xe2\x80\x94 k AAAAAAAAAA==\n";
    uint8_t proof[FK_TLOG_MAX_PROOF][HL];
    fk_tlog_proof *p = malloc(sizeof *p);
    fk_note n;
    size_t tl = strlen(tail), len = 0;
    (void)state;
    assert_non_null(p);
    memset(proof, 7, sizeof proof);
    memset(extra, 'e', sizeof extra);
    /* The largest note FK_NOTE_MAX_SIZE allows. */
    memset(note, 'a', sizeof note);
    memcpy(note + FK_NOTE_MAX_SIZE - tl, tail, tl);
    assert_int_equal(fk_note_parse(&n, note, FK_NOTE_MAX_SIZE), FK_OK);
    /* Largest extra, longest inclusion proof, largest index, largest note:
     * each within its own limit, so the receipt is within its own. */
    assert_int_equal(fk_tlog_proof_encode(extra, FK_TLOG_PROOF_EXTRA_MAX, FK_TLOG_MAX_SIZE - 1,
                                          (const uint8_t(*)[HL])proof, FK_TLOG_MAX_PROOF - 1, note,
                                          FK_NOTE_MAX_SIZE, out, sizeof out, &len),
                     FK_OK);
    assert_int_equal(len, FK_TLOG_PROOF_MAX_SIZE);
    assert_int_equal(fk_tlog_proof_parse(p, out, len), FK_OK);
    assert_int_equal(p->nproof, FK_TLOG_MAX_PROOF - 1);
    assert_true(p->index == FK_TLOG_MAX_SIZE - 1);
    assert_int_equal(p->checkpoint_len, FK_NOTE_MAX_SIZE);
    /* One past: a 64th proof line, one more byte of extra, a byte more. */
    assert_int_equal(fk_tlog_proof_encode(extra, FK_TLOG_PROOF_EXTRA_MAX + 1, 0,
                                          (const uint8_t(*)[HL])proof, 1, note, FK_NOTE_MAX_SIZE,
                                          out, sizeof out, &len),
                     FK_ERR_LIMIT);
    assert_int_equal(fk_tlog_proof_encode(extra, 1, 0, (const uint8_t(*)[HL])proof,
                                          FK_TLOG_MAX_PROOF, note, FK_NOTE_MAX_SIZE, out,
                                          sizeof out, &len),
                     FK_ERR_LIMIT);
    assert_int_equal(fk_tlog_proof_encode(extra, FK_TLOG_PROOF_EXTRA_MAX, FK_TLOG_MAX_SIZE - 1,
                                          (const uint8_t(*)[HL])proof, FK_TLOG_MAX_PROOF - 1, note,
                                          FK_NOTE_MAX_SIZE, out, sizeof out, &len),
                     FK_OK);
    out[len] = '\n';
    assert_int_equal(fk_tlog_proof_parse(p, out, len + 1), FK_ERR_LIMIT);
    /* The answer buffer must hold the NUL too. */
    assert_int_equal(fk_tlog_proof_encode(extra, FK_TLOG_PROOF_EXTRA_MAX, FK_TLOG_MAX_SIZE - 1,
                                          (const uint8_t(*)[HL])proof, FK_TLOG_MAX_PROOF - 1, note,
                                          FK_NOTE_MAX_SIZE, out, FK_TLOG_PROOF_MAX_SIZE, &len),
                     FK_ERR_LIMIT);
    free(p);
}

/* ---- signed-note line rules ------------------------------------------------ */

static void test_note_lines(void **state)
{
    static const char *const bad[] = {
        "t\n\n\xe2\x80\x93 k AAAAAAAAAA==\n",     /* en dash */
        "t\n\n\xe2\x80\x94k AAAAAAAAAA==\n",      /* no space after the dash */
        "t\n\n\xe2\x80\x94\xc2\xa0k AAAAAAAAAA==\n", /* no-break space after the dash */
        "t\n\n\xe2\x80\x94 k  AAAAAAAAAA==\n",    /* two spaces */
        "t\n\n\xe2\x80\x94 k AAAAAAAAAA== \n",    /* trailing space */
        "t\n\n\xe2\x80\x94 k\tAAAAAAAAAA==\n",    /* tab */
        "t\n\n\xe2\x80\x94 k AAAAAAAAAA==\r\n",   /* CRLF */
        "t\n\n \xe2\x80\x94 k AAAAAAAAAA==\n",    /* leading space */
        "t\n\n\xe2\x80\x94 k\n",                  /* no signature */
        "t\n\n\xe2\x80\x94 k \n",                 /* empty signature */
        "t\n\n\xe2\x80\x94 k AAAAAAAAAA==\nx\n",  /* a line that is not a signature */
        "t\n\n\xe2\x80\x94 k AAAAAAAAAA==\n\xe2\x80", /* truncated dash at the end */
        "t\n\n\xe2\x80\x94 k\xe2\x80\x80z AAAAAAAAAA==\n", /* U+2000 in the name */
        "t\n\n\xe2\x80\x94 k\xe3\x80\x80z AAAAAAAAAA==\n", /* U+3000 in the name */
        "t\n\n\xe2\x80\x94 k AAAAAAAAAA-_\n",     /* URL-safe alphabet */
        "t\n\n\xe2\x80\x94 k AAAAAAAAAAAA====\n", /* too much padding */
    };
    fk_note n;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (fk_note_parse(&n, bad[i], strlen(bad[i])) == FK_OK)
            fail_msg("accepted bad note %zu", i);
    /* Empty lines in the text are allowed; the last blank line splits. */
    static const char ok[] = "a\n\nb\n\n\xe2\x80\x94 k AAAAAAAAAA==\n";
    assert_int_equal(fk_note_parse(&n, ok, strlen(ok)), FK_OK);
    assert_int_equal(n.text_len, 5);
    assert_int_equal(n.nsigs, 1);
    /* DEL and non-ASCII are not control characters below U+0020. */
    static const char del[] = "a\x7f\xc3\xa9\n\n\xe2\x80\x94 k AAAAAAAAAA==\n";
    assert_int_equal(fk_note_parse(&n, del, strlen(del)), FK_OK);
}

/* ---- signing and encoding at their limits -------------------------------- */

static void test_sign_limits(void **state)
{
    static char text[FK_NOTE_MAX_SIZE + 2], out[FK_NOTE_MAX_SIZE + 64];
    static char ext[FK_CHECKPOINT_TEXT_MAX + 2], body[FK_CHECKPOINT_TEXT_MAX + 64];
    static const uint8_t seed[32] = { 9 };
    fk_note_signer s;
    fk_note_verifier v;
    fk_checkpoint c;
    fk_note n;
    size_t len = 0;
    uint64_t ok = 0;
    (void)state;
    assert_int_equal(fk_note_signer_from_seed(&s, "k", 1, seed), FK_OK);
    fk_note_signer_verifier(&s, &v);
    const fk_note_signer *sp = &s;
    /* One signature line for key "k" is 4 + 1 + 1 + 92 + 1 = 99 bytes, after
     * the blank line: a text of 65,435 bytes makes a note of exactly
     * FK_NOTE_MAX_SIZE. */
    memset(text, 'a', sizeof text);
    text[FK_NOTE_MAX_SIZE - 100 - 1] = '\n';
    assert_int_equal(fk_note_sign(text, FK_NOTE_MAX_SIZE - 100, &sp, 1, out, sizeof out, &len),
                     FK_OK);
    assert_int_equal(len, FK_NOTE_MAX_SIZE);
    assert_int_equal(fk_note_parse(&n, out, len), FK_OK);
    assert_int_equal(fk_note_verify(&n, &v, 1, &ok), FK_OK);
    text[FK_NOTE_MAX_SIZE - 100 - 1] = 'a';
    text[FK_NOTE_MAX_SIZE - 100] = '\n';
    assert_int_equal(fk_note_sign(text, FK_NOTE_MAX_SIZE - 99, &sp, 1, out, sizeof out, &len),
                     FK_ERR_LIMIT);
    text[FK_NOTE_MAX_SIZE] = '\n';
    assert_int_equal(fk_note_sign(text, FK_NOTE_MAX_SIZE + 1, &sp, 1, out, sizeof out, &len),
                     FK_ERR_LIMIT);

    /* Checkpoint bodies: "o\n1\n<44>\n" is 49 bytes, so 4,047 bytes of
     * extension lines fill FK_CHECKPOINT_TEXT_MAX exactly. */
    memset(&c, 0, sizeof c);
    memcpy(c.origin, "o", 2);
    c.origin_len = 1;
    c.size = 1;
    memset(ext, 'e', sizeof ext);
    c.ext = ext;
    ext[FK_CHECKPOINT_TEXT_MAX - 49 - 1] = '\n';
    c.ext_len = FK_CHECKPOINT_TEXT_MAX - 49;
    assert_int_equal(fk_checkpoint_encode(&c, body, sizeof body, &len), FK_OK);
    assert_int_equal(len, FK_CHECKPOINT_TEXT_MAX);
    assert_int_equal(fk_checkpoint_sign(&c, &s, out, sizeof out, &len), FK_OK);
    ext[FK_CHECKPOINT_TEXT_MAX - 49 - 1] = 'e';
    ext[FK_CHECKPOINT_TEXT_MAX - 49] = '\n';
    c.ext_len = FK_CHECKPOINT_TEXT_MAX - 48;
    assert_int_equal(fk_checkpoint_encode(&c, body, sizeof body, &len), FK_ERR_LIMIT);
    ext[FK_CHECKPOINT_TEXT_MAX] = '\n';
    c.ext_len = FK_CHECKPOINT_TEXT_MAX + 1;
    assert_int_equal(fk_checkpoint_encode(&c, body, sizeof body, &len), FK_ERR_LIMIT);
    fk_note_signer_wipe(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_trees),
        cmocka_unit_test(test_huge_tiles),
        cmocka_unit_test(test_frontier_inconsistent),
        cmocka_unit_test(test_frontier_restart),
        cmocka_unit_test(test_receipt_limits),
        cmocka_unit_test(test_note_lines),
        cmocka_unit_test(test_sign_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
