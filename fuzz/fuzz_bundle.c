/* libFuzzer: entry bundles.  Iteration never reads past the buffer; a
 * bundle that iterates to its end re-encodes to exactly its input; the
 * leaf-hash reader agrees with the iterator on the count. */
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t (*hashes)[FK_TLOG_HASH_LEN];
    static uint8_t *copy;
    size_t off = 0, n = 0, elen = 0, clen = 0;
    const uint8_t *e = NULL;
    fk_err err;

    if (!hashes) {
        hashes = malloc(FK_TILE_WIDTH * FK_TLOG_HASH_LEN);
        copy = malloc(1 << 20);
        if (!hashes || !copy)
            abort();
    }
    if (size > (1 << 20))
        return 0;
    while ((err = fk_bundle_next(data, size, &off, &e, &elen)) == FK_OK) {
        if (e < data || elen > FK_TLOG_MAX_ENTRY || e + elen > data + size || off > size)
            abort();
        if (fk_bundle_append(copy, 1 << 20, &clen, e, elen) != FK_OK)
            abort();
        n++;
    }
    if (err == FK_ERR_NOT_FOUND) {
        if (off != size || clen != size || memcmp(copy, data, size) != 0)
            abort();
    } else if (err != FK_ERR_INVALID) {
        abort();
    }
    for (size_t count = n ? n - 1 : 0; count <= n + 1 && count <= FK_TILE_WIDTH; count++) {
        fk_err h = fk_bundle_leaf_hashes(data, size, count, hashes);
        if ((h == FK_OK) != (err == FK_ERR_NOT_FOUND && count == n))
            abort();
    }
    return 0;
}
