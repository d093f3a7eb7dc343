/*
 * libFuzzer target: the agents' partial-decryption answer decoder
 * (fk_escrow_partial_decode), and what a requester does next with decoded
 * answers (proof verification, Lagrange combination).
 *
 * Input: up to three 98-byte answers, then a proof context (the rest, at
 * most FK_ESCROW_CONTEXT_MAX + 1 bytes).  Checked properties:
 *  - decode accepts exactly the canonical answers: index 1..255, D_i a valid
 *    non-identity point, c and s canonical scalars (an oracle built from
 *    libsodium directly, not from the decoder's helpers);
 *  - an accepted answer re-encodes to the same 98 bytes, and a rejected one
 *    leaves the output untouched;
 *  - an answer verifies against a fixed authority only if its D_i really is
 *    s_i * E (anything else would be a forged proof), and combination never
 *    crashes or accepts a duplicate or short set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <fairkey.h>
#include "escrow/internal.h"

/* The log policy test authorities name (the vkey is the tlog-policy
 * example's test log key). */
#define TEST_POLICY                                                                        \
    "log example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx "  \
    "https://log.example.com/\nquorum none\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fk_escrow_authority auth;
static fk_escrow_share shares[3]; /* fixed and public: this is a test */
static uint8_t target_e[32];
static int ready;

/* A 2-of-3 authority from fixed coefficients, and a fixed E. */
static void init(void)
{
    uint8_t coeffs[2][32], r[32];

    if (sodium_init() < 0)
        abort();
    memset(coeffs, 0, sizeof coeffs);
    coeffs[0][0] = 7;
    coeffs[1][0] = 11;
    if (fki_escrow_deal(&auth, shares, "fuzz", 2, 3, TEST_POLICY, sizeof TEST_POLICY - 1, (const uint8_t(*)[32])coeffs) != FK_OK)
        abort();
    memset(r, 0, sizeof r);
    r[0] = 5;
    if (fki_mul_base(target_e, r) != FK_OK)
        abort();
    ready = 1;
}

static int canonical_scalar(const uint8_t s[32])
{
    uint8_t wide[64] = { 0 }, red[32];

    memcpy(wide, s, 32);
    crypto_core_ristretto255_scalar_reduce(red, wide);
    return memcmp(red, s, 32) == 0;
}

static int expect_ok(const uint8_t in[FK_ESCROW_PARTIAL_LEN])
{
    static const uint8_t zero[32];
    unsigned index = (unsigned)in[0] << 8 | in[1];

    return index >= 1 && index <= 255 && crypto_core_ristretto255_is_valid_point(in + 2) &&
           memcmp(in + 2, zero, 32) != 0 && canonical_scalar(in + 34) && canonical_scalar(in + 66);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fk_escrow_partial parts[3], blank;
    uint8_t back[FK_ESCROW_PARTIAL_LEN], z[32];
    size_t nparts = 0, used = 0;

    if (!ready)
        init();
    while (nparts < 3 && size - used >= FK_ESCROW_PARTIAL_LEN) {
        const uint8_t *in = data + used;
        fk_escrow_partial *p = &parts[nparts];
        memset(p, 0xa5, sizeof *p);
        memset(&blank, 0xa5, sizeof blank);
        fk_err err = fk_escrow_partial_decode(p, in);
        used += FK_ESCROW_PARTIAL_LEN;
        if ((err == FK_OK) != expect_ok(in))
            abort();
        if (err != FK_OK) {
            if (err != FK_ERR_INVALID || memcmp(p, &blank, sizeof blank) != 0)
                abort();
            break;
        }
        fk_escrow_partial_encode(back, p);
        if (memcmp(back, in, FK_ESCROW_PARTIAL_LEN) != 0)
            abort();
        nparts++;
    }
    const uint8_t *ctx = data + used;
    size_t ctxlen = size - used;
    if (ctxlen > FK_ESCROW_CONTEXT_MAX + 1)
        ctxlen = FK_ESCROW_CONTEXT_MAX + 1;
    for (size_t i = 0; i < nparts; i++) {
        fk_err err = fk_escrow_partial_verify(&auth, &parts[i], target_e, ctx, ctxlen);
        if (ctxlen > FK_ESCROW_CONTEXT_MAX && err != FK_ERR_LIMIT)
            abort();
        if (err == FK_OK) {
            uint8_t d[32];
            if (parts[i].index > auth.n ||
                fki_mul(d, shares[parts[i].index - 1].secret, target_e) != FK_OK ||
                memcmp(d, parts[i].d, 32) != 0)
                abort(); /* a proof for a wrong D_i verified */
        }
    }
    if (nparts) {
        fk_err err = fk_escrow_combine(z, &auth, parts, nparts);
        int dup = nparts > 1 && (parts[0].index == parts[1].index ||
                                 (nparts > 2 && (parts[0].index == parts[2].index ||
                                                 parts[1].index == parts[2].index)));
        if (err == FK_OK && (dup || nparts < auth.t))
            abort();
        fk_wipe(z, sizeof z);
    }
    return 0;
}
