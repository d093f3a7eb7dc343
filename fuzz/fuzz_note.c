/* libFuzzer: signed-note parsing and verification, and key text parsing.
 * Invariants: a parsed note's text is a prefix of the input ending in '\n',
 * followed by exactly one '\n'; every signature line carries a valid name;
 * verification against known keys never crashes; re-signing a parsed text
 * gives a note that parses and verifies; a key that parses re-encodes to the
 * same text. */
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The Tessera test log's published verifier key (outside test data). */
static const char TESSERA_VKEY[] =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

static void check_keys(const char *s, size_t n)
{
    fk_note_verifier v;
    fk_note_signer k;
    char out[FK_NOTE_KEY_TEXT_MAX + 1];
    size_t len = 0;
    if (fk_note_verifier_parse(&v, s, n) == FK_OK) {
        if (fk_note_verifier_encode(&v, out, sizeof out, &len) != FK_OK || len != n ||
            memcmp(out, s, n) != 0)
            abort();
    }
    if (fk_note_signer_parse(&k, s, n) == FK_OK) {
        if (fk_note_signer_encode(&k, out, sizeof out, &len) != FK_OK || len != n ||
            memcmp(out, s, n) != 0)
            abort();
        fk_wipe(out, sizeof out);
        fk_note_signer_wipe(&k);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fk_note_verifier vs[3];
    static fk_note_signer signer;
    static int init;
    static char signed_buf[FK_NOTE_MAX_SIZE + 1];
    const char *s = (const char *)data;
    fk_note n, n2;
    uint64_t ok = 0;
    size_t len = 0;

    if (!init) {
        static const uint8_t seed[32] = {1};
        if (fk_note_verifier_parse(&vs[0], TESSERA_VKEY, sizeof TESSERA_VKEY - 1) != FK_OK ||
            fk_note_signer_from_seed(&signer, "fuzz.example/log", 16, seed) != FK_OK)
            abort();
        fk_note_signer_verifier(&signer, &vs[1]);
        /* A cosignature/v1 key under the Tessera name, so 0x04 lines run too. */
        if (fk_note_verifier_new(&vs[2], "example.com/log/testdata", 24, FK_NOTE_ALG_COSIG_V1,
                                 vs[0].pub) != FK_OK)
            abort();
        init = 1;
    }
    check_keys(s, size);
    if (fk_note_parse(&n, s, size) != FK_OK)
        return 0;
    if (n.text != s || n.text_len == 0 || n.text_len + 1 >= size || s[n.text_len - 1] != '\n' ||
        s[n.text_len] != '\n' || n.nsigs == 0 || n.nsigs > FK_NOTE_MAX_SIGS)
        abort();
    for (size_t i = 0; i < n.nsigs; i++) {
        const fk_note_sig *g = &n.sigs[i];
        if (g->name < s || g->name + g->name_len > s + size || g->name_len == 0 ||
            g->name_len > FK_NOTE_NAME_MAX || memchr(g->name, '+', g->name_len) ||
            memchr(g->name, ' ', g->name_len) || g->b64_len < 8 || g->b64_len % 4)
            abort();
    }
    (void)fk_note_verify(&n, vs, 3, &ok);
    if (ok >> 3)
        abort();
    {
        uint64_t ts = 0;
        (void)fk_note_cosig_time(&n, &vs[2], &ts);
    }
    /* Re-sign the text: the result must parse back to the same text and
     * verify with the signer's key alone. */
    const fk_note_signer *sp = &signer;
    if (fk_note_sign(n.text, n.text_len, &sp, 1, signed_buf, sizeof signed_buf, &len) == FK_OK) {
        if (fk_note_parse(&n2, signed_buf, len) != FK_OK || n2.text_len != n.text_len ||
            memcmp(n2.text, n.text, n.text_len) != 0 || n2.nsigs != 1 ||
            fk_note_verify(&n2, &vs[1], 1, &ok) != FK_OK || ok != 1)
            abort();
    }
    return 0;
}
