/* libFuzzer: Merkle proof verification with arbitrary proofs.
 * Mode 0: arbitrary sizes (up to 2^64 - 1), indices, hashes and proofs go
 * straight to the verifiers: no crash, no UB, no success beyond what the
 * hashes allow.
 * Mode 1: a real tree of up to 600 leaves.  Generated proofs verify; a
 * fuzzed change of the proof (a flipped bit, an element dropped, added or
 * moved) must then fail, because RFC 9162 proofs are unique; the frontier
 * restored from stored nodes equals the one built by appends. */
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HL FK_TLOG_HASH_LEN
#define MAXN 600

#define LEVELS 10 /* 2^10 > MAXN */

static uint8_t leaves[MAXN][HL];
/* Every full node of the 600-leaf tree, so the node callback is a lookup. */
static uint8_t nodes[LEVELS][MAXN][HL];

static uint64_t take_u64(const uint8_t **d, size_t *n)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v <<= 8;
        if (*n) {
            v |= **d;
            (*d)++;
            (*n)--;
        }
    }
    return v;
}

static fk_err node(void *ctx, unsigned level, uint64_t index, uint8_t out[HL])
{
    uint64_t n = *(const uint64_t *)ctx;
    if (level >= LEVELS || ((index + 1) << level) > n)
        abort(); /* the library asked for a node outside the tree */
    memcpy(out, nodes[level][index], HL);
    return FK_OK;
}

static int same(const uint8_t (*a)[HL], size_t na, const uint8_t (*b)[HL], size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na * HL) == 0);
}

/* Apply one fuzzed edit to proof p (n elements); returns the new length. */
static size_t mutate(uint8_t (*p)[HL], size_t n, const uint8_t *d, size_t dn)
{
    if (dn < 3)
        return n;
    size_t at = n ? d[1] % n : 0;
    switch (d[0] % 4) {
    case 0:
        if (n)
            p[at][d[2] % HL] ^= (uint8_t)(1u << (d[1] % 8));
        return n;
    case 1:
        if (!n)
            return n;
        memmove(p[at], p[at + 1], (n - at - 1) * HL);
        return n - 1;
    case 2:
        if (n + 1 >= FK_TLOG_MAX_PROOF)
            return n;
        memmove(p[at + 1], p[at], (n - at) * HL);
        memset(p[at], d[2], HL);
        return n + 1;
    default:
        if (n >= 2) {
            uint8_t t[HL];
            size_t b = d[2] % n;
            memcpy(t, p[at], HL);
            memcpy(p[at], p[b], HL);
            memcpy(p[b], t, HL);
        }
        return n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    uint8_t proof[FK_TLOG_MAX_PROOF][HL], orig[FK_TLOG_MAX_PROOF][HL];
    uint8_t r1[HL], r2[HL], leaf[HL];
    size_t np = 0, no;

    if (!init) {
        for (uint64_t i = 0; i < MAXN; i++)
            if (fk_tlog_leaf_hash(leaves[i], (const uint8_t *)&i, sizeof i) != FK_OK)
                abort();
        memcpy(nodes[0], leaves, sizeof leaves);
        for (unsigned l = 1; l < LEVELS; l++)
            for (uint64_t i = 0; (i + 1) << l <= MAXN; i++)
                if (fk_tlog_node_hash(nodes[l][i], nodes[l - 1][2 * i], nodes[l - 1][2 * i + 1]) !=
                    FK_OK)
                    abort();
        init = 1;
    }
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    if (!(mode & 1)) {
        uint64_t a = take_u64(&data, &size), b = take_u64(&data, &size);
        /* Bias towards the edges: sizes near 2^63 and 2^64. */
        if (mode & 2)
            a |= (uint64_t)1 << 62;
        if (mode & 4)
            b |= (uint64_t)1 << 62;
        memset(leaf, mode, HL);
        memset(r1, mode ^ 0x55, HL);
        memset(r2, mode ^ 0xaa, HL);
        np = size / HL;
        if (np > FK_TLOG_MAX_PROOF + 2)
            np = FK_TLOG_MAX_PROOF + 2;
        {
            uint8_t (*pp)[HL] = np ? malloc(np * HL) : NULL;
            if (np && !pp)
                abort();
            if (np)
                memcpy(pp, data, np * HL);
            /* A random proof verifies only if it hashes to the root, which
             * these constant roots never are. */
            if (fk_tlog_verify_inclusion(a, b, leaf, (const uint8_t(*)[HL])pp, np, r1) == FK_OK)
                abort();
            fk_err e = fk_tlog_verify_consistency(a, b, r1, r2, (const uint8_t(*)[HL])pp, np);
            if (e == FK_OK)
                abort();
            free(pp);
        }
        return 0;
    }
    /* Mode 1: a real tree. */
    uint64_t n2 = 1 + take_u64(&data, &size) % MAXN;
    uint64_t n1 = 1 + take_u64(&data, &size) % n2;
    uint64_t idx = take_u64(&data, &size) % n2;
    fk_tlog_frontier f, g;
    fk_tlog_frontier_init(&f);
    for (uint64_t i = 0; i < n2; i++) {
        if (i == n1 && fk_tlog_frontier_root(&f, r1) != FK_OK)
            abort();
        if (fk_tlog_frontier_append(&f, leaves[i], NULL, NULL) != FK_OK)
            abort();
    }
    if (n1 == n2 && fk_tlog_frontier_root(&f, r1) != FK_OK)
        abort();
    if (fk_tlog_frontier_root(&f, r2) != FK_OK ||
        fk_tlog_range_root(0, n2, node, &n2, leaf) != FK_OK || memcmp(leaf, r2, HL) != 0)
        abort();
    if (fk_tlog_frontier_load(&g, n2, node, &n2) != FK_OK || g.size != f.size ||
        g.count != f.count || memcmp(g.hash, f.hash, (size_t)f.count * HL) != 0)
        abort();

    if (fk_tlog_prove_inclusion(idx, n2, node, &n2, proof, FK_TLOG_MAX_PROOF, &np) != FK_OK ||
        fk_tlog_verify_inclusion(idx, n2, leaves[idx], (const uint8_t(*)[HL])proof, np, r2) !=
            FK_OK)
        abort();
    memcpy(orig, proof, sizeof proof);
    no = np;
    np = mutate(proof, np, data, size);
    if (!same((const uint8_t(*)[HL])proof, np, (const uint8_t(*)[HL])orig, no) &&
        fk_tlog_verify_inclusion(idx, n2, leaves[idx], (const uint8_t(*)[HL])proof, np, r2) ==
            FK_OK)
        abort();

    if (fk_tlog_prove_consistency(n1, n2, node, &n2, proof, FK_TLOG_MAX_PROOF, &np) != FK_OK ||
        fk_tlog_verify_consistency(n1, n2, r1, r2, (const uint8_t(*)[HL])proof, np) != FK_OK)
        abort();
    memcpy(orig, proof, sizeof proof);
    no = np;
    if (size >= 3)
        np = mutate(proof, np, data + 3, size - 3);
    if (!same((const uint8_t(*)[HL])proof, np, (const uint8_t(*)[HL])orig, no) &&
        fk_tlog_verify_consistency(n1, n2, r1, r2, (const uint8_t(*)[HL])proof, np) == FK_OK)
        abort();
    return 0;
}
