/* libFuzzer: tlog-tiles paths.  A path that parses encodes back to exactly
 * its input; tile arithmetic on the parsed (or raw) numbers never overflows
 * (UBSan) and agrees with itself. */
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t get_u64(const uint8_t *d)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | d[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[FK_TILE_PATH_MAX + 1];
    size_t len = 0;
    fk_tile t, u;

    if (fk_tile_parse_path(&t, (const char *)data, size) == FK_OK) {
        if (t.width < 1 || t.width > FK_TILE_WIDTH ||
            (t.level != FK_TILE_ENTRIES && (t.level < 0 || t.level > FK_TILE_MAX_LEVEL)))
            abort();
        if (fk_tile_path(&t, out, sizeof out, &len) != FK_OK || len != size ||
            memcmp(out, data, size) != 0)
            abort();
    }
    /* Raw numbers: level byte, index, tree size. */
    if (size >= 17) {
        int level = (int)(int8_t)data[0];
        uint64_t index = get_u64(data + 1), tree = get_u64(data + 9);
        uint64_t count = fk_tile_count(level, tree);
        fk_err e = fk_tile_at(&u, level, index, tree);
        if (e == FK_OK) {
            if (index >= count || u.width < 1 || u.width > FK_TILE_WIDTH ||
                (index + 1 < count && u.width != FK_TILE_WIDTH))
                abort();
            if (fk_tile_path(&u, out, sizeof out, &len) != FK_OK ||
                fk_tile_parse_path(&t, out, len) != FK_OK || t.level != u.level ||
                t.index != u.index || t.width != u.width)
                abort();
        } else if (e == FK_ERR_NOT_FOUND) {
            if (index < count)
                abort();
        }
    }
    return 0;
}
