/* libFuzzer: tlog-proof receipts.  A receipt that parses encodes back to
 * exactly its input, and verifying it against the Tessera log key with an
 * arbitrary leaf hash never crashes (and never succeeds unless the proof
 * really places that leaf under a signed root). */
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
    static char out[FK_TLOG_PROOF_MAX_SIZE + 1];
    static fk_tlog_proof p;
    uint8_t extra[FK_TLOG_PROOF_EXTRA_MAX], leaf[FK_TLOG_HASH_LEN];
    size_t elen = 0, len = 0;
    const char *s = (const char *)data;
    fk_checkpoint c;

    if (!init) {
        if (fk_note_verifier_parse(&v, TESSERA_VKEY, sizeof TESSERA_VKEY - 1) != FK_OK)
            abort();
        init = 1;
    }
    if (fk_tlog_proof_parse(&p, s, size) != FK_OK)
        return 0;
    if (p.nproof >= FK_TLOG_MAX_PROOF || p.index >= FK_TLOG_MAX_SIZE || !p.checkpoint ||
        p.checkpoint + p.checkpoint_len != s + size)
        abort();
    if (p.extra_b64 && fk_b64_decode_padded(extra, sizeof extra, &elen, p.extra_b64,
                                            p.extra_b64_len) != FK_OK)
        abort();
    if (fk_tlog_proof_encode(p.extra_b64 ? extra : NULL, elen, p.index,
                             (const uint8_t(*)[FK_TLOG_HASH_LEN])p.proof, p.nproof, p.checkpoint,
                             p.checkpoint_len, out, sizeof out, &len) != FK_OK ||
        len != size || memcmp(out, s, size) != 0)
        abort();
    /* The leaf hash of the extra data, or of nothing: either is arbitrary. */
    if (fk_tlog_leaf_hash(leaf, extra, elen) != FK_OK)
        abort();
    if (fk_tlog_proof_verify(&p, leaf, NULL, &v, 1, &c, NULL) == FK_OK) {
        if (p.index >= c.size ||
            fk_tlog_verify_inclusion(p.index, c.size, leaf,
                                     (const uint8_t(*)[FK_TLOG_HASH_LEN])p.proof, p.nproof,
                                     c.root) != FK_OK)
            abort();
    }
    return 0;
}
