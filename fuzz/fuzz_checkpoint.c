/* libFuzzer: checkpoint bodies and signed checkpoints.  A body that parses
 * encodes back to exactly its input (one canonical form); the signed form
 * opens (parse + verify + origin) without crashing. */
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char TESSERA_VKEY[] =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fk_note_verifier v;
    static int init;
    static char out[FK_CHECKPOINT_TEXT_MAX + 1];
    const char *s = (const char *)data;
    fk_checkpoint c;
    fk_note n;
    size_t len = 0;

    if (!init) {
        if (fk_note_verifier_parse(&v, TESSERA_VKEY, sizeof TESSERA_VKEY - 1) != FK_OK)
            abort();
        init = 1;
    }
    if (fk_checkpoint_parse(&c, s, size) == FK_OK) {
        if (c.origin_len == 0 || c.origin_len > FK_CHECKPOINT_ORIGIN_MAX ||
            c.origin[c.origin_len] != 0 || c.size > FK_TLOG_MAX_SIZE ||
            (c.ext && (c.ext < s || c.ext + c.ext_len != s + size)))
            abort();
        fk_err e = fk_checkpoint_encode(&c, out, sizeof out, &len);
        if (size <= FK_CHECKPOINT_TEXT_MAX) {
            if (e != FK_OK || len != size || memcmp(out, s, size) != 0)
                abort();
        } else if (e != FK_ERR_LIMIT) {
            abort();
        }
    }
    if (fk_checkpoint_open(&c, &n, s, size, NULL, &v, 1, NULL) == FK_OK) {
        /* Opening with the origin it carries must succeed too. */
        fk_checkpoint c2;
        if (fk_checkpoint_open(&c2, NULL, s, size, c.origin, &v, 1, NULL) != FK_OK ||
            c2.size != c.size || memcmp(c2.root, c.root, FK_TLOG_HASH_LEN) != 0)
            abort();
    }
    return 0;
}
