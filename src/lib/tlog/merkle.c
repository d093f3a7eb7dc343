/*
 * RFC 9162 section 2.1 Merkle tree: hashes, frontier, proof generation and
 * verification.  SHA-256 comes from OpenSSL; the rest is index arithmetic.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tlog/internal.h"

#define HL FK_TLOG_HASH_LEN

/* SHA-256 fetched from the provider once.  OpenSSL 3 otherwise looks the
 * implementation up (under a lock) on every EVP_sha256() digest, which
 * doubles the cost of a 65-byte node hash; a log hashes two or three nodes
 * per append.  The fetched method lives until the process exits. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256(void)
{
    if (pthread_once(&sha256_once, sha256_fetch) != 0)
        return NULL;
    return sha256_md;
}

fk_err fki_sha256(uint8_t out[32], const void *data, size_t len)
{
    const EVP_MD *md = sha256();
    unsigned int hl = 0;
    uint8_t h[HL];
    if (!out || (!data && len))
        abort();
    if (!md || EVP_Digest(len ? data : "", len, h, &hl, md, NULL) != 1 || hl != HL)
        return FK_ERR_CRYPTO;
    memcpy(out, h, HL);
    return FK_OK;
}

fk_err fk_tlog_leaf_hash(uint8_t out[HL], const uint8_t *data, size_t len)
{
    static const uint8_t prefix = 0x00;
    const EVP_MD *md = sha256();
    uint8_t h[HL];
    unsigned int hl = 0;
    fk_err err = FK_ERR_CRYPTO;
    EVP_MD_CTX *ctx;
    if (!out || (!data && len))
        abort();
    if (!md)
        return FK_ERR_CRYPTO;
    if (!(ctx = EVP_MD_CTX_new()))
        return FK_ERR_NOMEM;
    if (EVP_DigestInit_ex2(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, &prefix, 1) == 1 &&
        (len == 0 || EVP_DigestUpdate(ctx, data, len) == 1) &&
        EVP_DigestFinal_ex(ctx, h, &hl) == 1 && hl == HL) {
        memcpy(out, h, HL);
        err = FK_OK;
    }
    EVP_MD_CTX_free(ctx);
    return err;
}

fk_err fk_tlog_node_hash(uint8_t out[HL], const uint8_t left[HL], const uint8_t right[HL])
{
    uint8_t buf[1 + 2 * HL];
    if (!out || !left || !right)
        abort();
    buf[0] = 0x01;
    memcpy(buf + 1, left, HL);
    memcpy(buf + 1 + HL, right, HL);
    return fki_sha256(out, buf, sizeof buf);
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    /* 2^floor(log2(n - 1)): proof generation calls this O(log^2 n) times,
     * so no bit-by-bit loop. */
    return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

static unsigned log2_exact(uint64_t pow2)
{
    return (unsigned)__builtin_ctzll(pow2);
}

static bool is_pow2(uint64_t n)
{
    return n && !(n & (n - 1));
}

/* ---- frontier ---------------------------------------------------------- */

/* The struct is public and may come from a caller's storage: one hash per
 * set bit of size, or it is not a frontier (and count would index outside
 * hash[]). */
static bool frontier_ok(const fk_tlog_frontier *f)
{
    return f->size <= FK_TLOG_MAX_SIZE && f->count == (unsigned)__builtin_popcountll(f->size);
}

void fk_tlog_frontier_init(fk_tlog_frontier *f)
{
    if (!f)
        abort();
    memset(f, 0, sizeof *f);
}

fk_err fk_tlog_frontier_append(fk_tlog_frontier *f, const uint8_t leaf_hash[HL], fk_tlog_node_cb cb,
                               void *ctx)
{
    uint8_t cur[HL];
    unsigned level = 0, count;
    fk_err err;
    if (!f || !leaf_hash)
        abort();
    if (!frontier_ok(f))
        return FK_ERR_INVALID;
    if (f->size >= FK_TLOG_MAX_SIZE)
        return FK_ERR_LIMIT;
    count = f->count;
    memcpy(cur, leaf_hash, HL);
    if (cb && (err = cb(ctx, 0, f->size, cur)) != FK_OK)
        return err;
    /* Every set low bit of size is a full subtree on top of the stack that
     * the new node completes; the stack is only written once all succeed. */
    while ((f->size >> level) & 1) {
        if ((err = fk_tlog_node_hash(cur, f->hash[count - 1], cur)) != FK_OK)
            return err;
        count--;
        level++;
        if (cb && (err = cb(ctx, level, f->size >> level, cur)) != FK_OK)
            return err;
    }
    memcpy(f->hash[count], cur, HL);
    f->count = count + 1;
    f->size++;
    return FK_OK;
}

static fk_err fold_right(const uint8_t (*hashes)[HL], unsigned count, uint8_t out[HL])
{
    uint8_t r[HL];
    fk_err err;
    if (count == 0)
        return fki_sha256(out, "", 0);
    memcpy(r, hashes[count - 1], HL);
    for (unsigned i = count - 1; i-- > 0;)
        if ((err = fk_tlog_node_hash(r, hashes[i], r)) != FK_OK)
            return err;
    memcpy(out, r, HL);
    return FK_OK;
}

fk_err fk_tlog_frontier_root(const fk_tlog_frontier *f, uint8_t out[HL])
{
    if (!f || !out)
        abort();
    if (!frontier_ok(f))
        return FK_ERR_INVALID;
    return fold_right(f->hash, f->count, out);
}

fk_err fk_tlog_frontier_encode(const fk_tlog_frontier *f, char *out, size_t cap, size_t *len)
{
    char buf[FK_TLOG_FRONTIER_TEXT_MAX + 1];
    size_t n;
    if (!f || !out || !len)
        abort();
    if (!frontier_ok(f))
        return FK_ERR_INVALID;
    n = (size_t)snprintf(buf, sizeof buf, "%llu\n", (unsigned long long)f->size);
    for (unsigned i = 0; i < f->count; i++) {
        n += fk_b64_encode_padded(buf + n, f->hash[i], HL);
        buf[n++] = '\n';
    }
    if (n + 1 > cap)
        return FK_ERR_LIMIT;
    memcpy(out, buf, n);
    out[n] = 0;
    *len = n;
    return FK_OK;
}

fk_err fk_tlog_frontier_parse(fk_tlog_frontier *f, const char *text, size_t len)
{
    fk_tlog_frontier t;
    size_t pos = 0, dlen;
    uint64_t size = 0;
    if (!f || (!text && len))
        abort();
    /* Canonical decimal: no sign, no leading zero, no overflow. */
    while (pos < len && text[pos] >= '0' && text[pos] <= '9') {
        unsigned d = (unsigned)(text[pos] - '0');
        if ((pos == 1 && text[0] == '0') || size > (UINT64_MAX - d) / 10)
            return FK_ERR_INVALID;
        size = size * 10 + d;
        pos++;
    }
    if (pos == 0 || pos >= len || text[pos] != '\n')
        return FK_ERR_INVALID;
    if (size > FK_TLOG_MAX_SIZE)
        return FK_ERR_LIMIT;
    pos++;
    fk_tlog_frontier_init(&t);
    t.size = size;
    t.count = (unsigned)__builtin_popcountll(size);
    for (unsigned i = 0; i < t.count; i++) {
        const char *nl = pos < len ? memchr(text + pos, '\n', len - pos) : NULL;
        if (!nl || fk_b64_decode_padded(t.hash[i], HL, &dlen, text + pos,
                                        (size_t)(nl - (text + pos))) != FK_OK ||
            dlen != HL)
            return FK_ERR_INVALID;
        pos = (size_t)(nl - text) + 1;
    }
    if (pos != len)
        return FK_ERR_INVALID;
    *f = t;
    return FK_OK;
}

fk_err fk_tlog_frontier_load(fk_tlog_frontier *f, uint64_t size, fk_tlog_node_fn fn, void *ctx)
{
    fk_tlog_frontier t;
    uint64_t pos = 0;
    fk_err err;
    if (!f || !fn)
        abort();
    if (size > FK_TLOG_MAX_SIZE)
        return FK_ERR_LIMIT;
    fk_tlog_frontier_init(&t);
    for (unsigned level = 64; level-- > 0;) {
        if (!((size >> level) & 1))
            continue;
        if ((err = fn(ctx, level, pos >> level, t.hash[t.count])) != FK_OK)
            return err;
        t.count++;
        pos += (uint64_t)1 << level;
    }
    t.size = size;
    *f = t;
    return FK_OK;
}

fk_err fk_tlog_root(uint8_t out[HL], const uint8_t (*leaf_hashes)[HL], uint64_t n)
{
    fk_tlog_frontier f;
    fk_err err;
    if (!out || (!leaf_hashes && n))
        abort();
    if (n > FK_TLOG_MAX_SIZE)
        return FK_ERR_LIMIT;
    fk_tlog_frontier_init(&f);
    for (uint64_t i = 0; i < n; i++)
        if ((err = fk_tlog_frontier_append(&f, leaf_hashes[i], NULL, NULL)) != FK_OK)
            return err;
    return fk_tlog_frontier_root(&f, out);
}

/* ---- subtree hashes from stored nodes ----------------------------------- */

fk_err fk_tlog_range_root(uint64_t start, uint64_t end, fk_tlog_node_fn fn, void *ctx, uint8_t out[HL])
{
    uint8_t left[64][HL];
    unsigned nleft = 0;
    fk_err err;
    if (!fn || !out)
        abort();
    if (end < start || end > FK_TLOG_MAX_SIZE)
        return FK_ERR_INVALID;
    if (start == end) {
        if (start != 0)
            return FK_ERR_INVALID;
        return fki_sha256(out, "", 0);
    }
    /* Peel full left subtrees off until the rest is one full, aligned node. */
    for (;;) {
        uint64_t w = end - start;
        if (is_pow2(w)) {
            if (start % w)
                return FK_ERR_INVALID;
            if ((err = fn(ctx, log2_exact(w), start / w, left[nleft])) != FK_OK)
                return err;
            nleft++;
            break;
        }
        uint64_t k = split_point(w);
        if (start % k)
            return FK_ERR_INVALID;
        if ((err = fn(ctx, log2_exact(k), start / k, left[nleft])) != FK_OK)
            return err;
        nleft++;
        start += k;
    }
    return fold_right(left, nleft, out);
}

/* ---- proof generation (RFC 9162 2.1.3.1 and 2.1.4.1) -------------------- */

static void reverse(uint8_t (*a)[HL], size_t n)
{
    uint8_t t[HL];
    for (size_t i = 0; i < n / 2; i++) {
        memcpy(t, a[i], HL);
        memcpy(a[i], a[n - 1 - i], HL);
        memcpy(a[n - 1 - i], t, HL);
    }
}

fk_err fk_tlog_prove_inclusion(uint64_t index, uint64_t size, fk_tlog_node_fn fn, void *ctx,
                               uint8_t (*proof)[HL], size_t cap, size_t *n)
{
    uint8_t tmp[FK_TLOG_MAX_PROOF][HL];
    size_t cnt = 0;
    uint64_t lo = 0, hi = size;
    fk_err err;
    if (!fn || !proof || !n)
        abort();
    if (size > FK_TLOG_MAX_SIZE)
        return FK_ERR_LIMIT;
    if (index >= size)
        return FK_ERR_INVALID;
    /* Walk from the root down to the leaf, recording each sibling. */
    while (hi - lo > 1) {
        uint64_t k = split_point(hi - lo);
        if (index - lo < k) {
            err = fk_tlog_range_root(lo + k, hi, fn, ctx, tmp[cnt]);
            hi = lo + k;
        } else {
            err = fk_tlog_range_root(lo, lo + k, fn, ctx, tmp[cnt]);
            lo += k;
        }
        if (err != FK_OK)
            return err;
        cnt++;
    }
    if (cnt > cap)
        return FK_ERR_LIMIT;
    reverse(tmp, cnt);
    memcpy(proof, tmp, cnt * HL);
    *n = cnt;
    return FK_OK;
}

fk_err fk_tlog_prove_consistency(uint64_t size1, uint64_t size2, fk_tlog_node_fn fn, void *ctx,
                                 uint8_t (*proof)[HL], size_t cap, size_t *n)
{
    uint8_t tmp[FK_TLOG_MAX_PROOF][HL];
    size_t cnt = 0;
    uint64_t lo = 0, hi = size2, m = size1;
    bool whole = true; /* SUBPROOF's b: the old tree is a whole subtree so far */
    fk_err err;
    if (!fn || !proof || !n)
        abort();
    if (size2 > FK_TLOG_MAX_SIZE)
        return FK_ERR_LIMIT;
    if (size1 == 0 || size1 > size2)
        return FK_ERR_INVALID;
    while (m != hi) {
        uint64_t k = split_point(hi - lo);
        if (m - lo <= k) {
            err = fk_tlog_range_root(lo + k, hi, fn, ctx, tmp[cnt]);
            hi = lo + k;
        } else {
            err = fk_tlog_range_root(lo, lo + k, fn, ctx, tmp[cnt]);
            lo += k;
            whole = false;
        }
        if (err != FK_OK)
            return err;
        cnt++;
    }
    if (!whole) {
        if ((err = fk_tlog_range_root(lo, hi, fn, ctx, tmp[cnt])) != FK_OK)
            return err;
        cnt++;
    }
    if (cnt > cap)
        return FK_ERR_LIMIT;
    reverse(tmp, cnt);
    memcpy(proof, tmp, cnt * HL);
    *n = cnt;
    return FK_OK;
}

/* ---- verification (RFC 9162 2.1.3.2 and 2.1.4.2) ------------------------ */

fk_err fk_tlog_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf_hash[HL],
                                const uint8_t (*proof)[HL], size_t n, const uint8_t root[HL])
{
    uint8_t r[HL];
    uint64_t fn, sn;
    fk_err err;
    if (!leaf_hash || !root || (!proof && n))
        abort();
    if (size > FK_TLOG_MAX_SIZE)
        return FK_ERR_LIMIT;
    if (index >= size)
        return FK_ERR_INVALID;
    if (n > FK_TLOG_MAX_PROOF)
        return FK_ERR_PROOF;
    fn = index;
    sn = size - 1;
    memcpy(r, leaf_hash, HL);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0)
            return FK_ERR_PROOF;
        if ((fn & 1) || fn == sn) {
            if ((err = fk_tlog_node_hash(r, proof[i], r)) != FK_OK)
                return err;
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else if ((err = fk_tlog_node_hash(r, r, proof[i])) != FK_OK) {
            return err;
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || !fk_ct_eq(r, root, HL))
        return FK_ERR_PROOF;
    return FK_OK;
}

fk_err fk_tlog_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[HL],
                                  const uint8_t root2[HL], const uint8_t (*proof)[HL], size_t n)
{
    uint8_t fr[HL], sr[HL];
    uint64_t fn, sn;
    size_t i;
    fk_err err;
    if (!root1 || !root2 || (!proof && n))
        abort();
    if (size2 > FK_TLOG_MAX_SIZE)
        return FK_ERR_LIMIT;
    if (size1 == 0 || size1 > size2)
        return FK_ERR_INVALID;
    if (size1 == size2)
        return n == 0 && fk_ct_eq(root1, root2, HL) ? FK_OK : FK_ERR_PROOF;
    if (n == 0 || n > FK_TLOG_MAX_PROOF)
        return FK_ERR_PROOF;
    /* When size1 is a power of two the old root is the first path element. */
    if (is_pow2(size1)) {
        memcpy(fr, root1, HL);
        i = 0;
    } else {
        memcpy(fr, proof[0], HL);
        i = 1;
    }
    memcpy(sr, fr, HL);
    fn = size1 - 1;
    sn = size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; i < n; i++) {
        if (sn == 0)
            return FK_ERR_PROOF;
        if ((fn & 1) || fn == sn) {
            if ((err = fk_tlog_node_hash(fr, proof[i], fr)) != FK_OK ||
                (err = fk_tlog_node_hash(sr, proof[i], sr)) != FK_OK)
                return err;
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else if ((err = fk_tlog_node_hash(sr, sr, proof[i])) != FK_OK) {
            return err;
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0 || !fk_ct_eq(fr, root1, HL) || !fk_ct_eq(sr, root2, HL))
        return FK_ERR_PROOF;
    return FK_OK;
}
