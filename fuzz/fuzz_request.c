/* libFuzzer: recovery requests and what an agent parses from a POST body.
 *  - canonical request text: what parses encodes back to exactly the input;
 *  - a signed request note: what verifies has a canonical text;
 *  - a receipt (tlog-proof with the note as extra data), as an agent reads
 *    it: the note, its signature, the allow-list, the entry hash and the
 *    inclusion proof under a fixed log key never crash, and the proof never
 *    verifies unless it places the entry under the signed root;
 *  - requester key files and allow-lists, times, and sealed answers (which
 *    never open under a key nobody sealed to). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char TESSERA_VKEY[] =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

/* The canonical text of r; aborts if a parsed request does not encode. */
static const char *encoded(const fk_request *r, size_t *len)
{
    static char out[8192];
    if (fk_request_encode(out, sizeof out, len, r) != FK_OK)
        abort();
    return out;
}

/* Canonical text: parse, and on success encode back byte for byte. */
static void text(const char *s, size_t size)
{
    fk_request r;
    size_t len = 0;
    if (fk_request_parse_text(&r, s, size) != FK_OK)
        return;
    const char *out = encoded(&r, &len);
    if (len != size || memcmp(out, s, size) != 0)
        abort();
}

/* A signed note: on success its text part is canonical, it fits the
 * limit, and an allow-list naming the signer allows it. */
static void note(const char *s, size_t size)
{
    fk_request r;
    size_t len = 0;
    if (fk_request_verify(&r, s, size) != FK_OK)
        return;
    const char *out = encoded(&r, &len);
    if (size > FK_REQUEST_NOTE_MAX || len >= size || memcmp(out, s, len) != 0 || s[len] != '\n')
        abort();
    char list[FK_REQUESTER_PUB_LINE_MAX + 64];
    char b64[64];
    fk_b64_encode(b64, r.requester_key, 32);
    size_t ll = (size_t)snprintf(list, sizeof list, "# test\n%s %s\n", r.requester, b64);
    if (fk_requesters_allowed(list, ll, r.requester, r.requester_key) != FK_OK)
        abort();
}

/* What an agent does with a POST body, up to its policy decisions. */
static void receipt(const char *s, size_t size, const fk_note_verifier *logkey)
{
    static fk_tlog_proof p;
    static char n[FK_REQUEST_NOTE_MAX + 1];
    size_t nl = 0;
    fk_request r;
    fk_checkpoint cp;
    uint8_t eh[FK_REQUEST_HASH_LEN];
    if (fk_request_receipt_parse(&p, n, &nl, s, size) != FK_OK)
        return;
    if (nl > FK_REQUEST_NOTE_MAX || n[nl] != 0 || !p.extra_b64)
        abort();
    /* Signed or not, the agent goes on to the proof only after this. */
    (void)fk_request_verify(&r, n, nl);
    if (fk_request_entry_hash(eh, n, nl) != FK_OK)
        abort();
    if (fk_tlog_proof_verify(&p, eh, NULL, logkey, 1, &cp, NULL) == FK_OK &&
        (p.index >= cp.size ||
         fk_tlog_verify_inclusion(p.index, cp.size, eh,
                                  (const uint8_t(*)[FK_TLOG_HASH_LEN])p.proof, p.nproof,
                                  cp.root) != FK_OK))
        abort();
}

/* Requester key files: what parses encodes back to the input. */
static void keyfile(const char *s, size_t size)
{
    fk_requester_key k;
    char *out = NULL;
    size_t len = 0;
    if (fk_requester_key_parse(&k, s, size) != FK_OK)
        return;
    if (fk_requester_key_encode(&out, &len, &k) != FK_OK || len != size ||
        memcmp(out, s, size) != 0)
        abort();
    fk_wipe(out, len);
    free(out);
    fk_requester_key_wipe(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fk_note_verifier logkey;
    static int init;
    static uint8_t reply_secret[32];
    const char *s = (const char *)data;
    if (!init) {
        if (fk_note_verifier_parse(&logkey, TESSERA_VKEY, sizeof TESSERA_VKEY - 1) != FK_OK)
            abort();
        for (int i = 0; i < 32; i++)
            reply_secret[i] = (uint8_t)(i * 13 + 1);
        init = 1;
    }
    text(s, size);
    note(s, size);
    receipt(s, size, &logkey);
    keyfile(s, size);

    static const char list_name[] = "court.test/judge";
    static const uint8_t zero[32];
    (void)fk_requesters_allowed(s, size, list_name, zero);

    int64_t t;
    char tm[FK_REQUEST_TIME_STR_LEN + 1];
    if (fk_request_time_parse(&t, s, size) == FK_OK &&
        (fk_request_time_format(tm, t) != FK_OK || size != FK_REQUEST_TIME_STR_LEN ||
         memcmp(tm, s, size) != 0))
        abort();

    /* Nobody sealed to this reply key: nothing ever opens. */
    uint8_t plain[FK_ANSWER_PLAIN_MAX], eh[32] = {0};
    size_t pl = 0;
    if (fk_answer_open(plain, sizeof plain, &pl, reply_secret, eh, size & 0xff, data, size) ==
        FK_OK)
        abort();
    return 0;
}
