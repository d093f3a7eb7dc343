/*
 * bench_escrow: partial decryptions with proof per second and proof
 * verifications per second, on one core (one thread), for a 3-of-5
 * authority; and the per-file header cost of escrow: one escrow stanza
 * against one X25519 stanza (what `age -r` pays per file), and the
 * recipient-side check of one escrow stanza, and the check of a stanza's
 * validity proof that an agent runs on every request.
 * Usage: bench_escrow [seconds per measurement, default 2]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fairkey.h>

/* The log policy test authorities name (the vkey is the tlog-policy
 * example's test log key). */
#define TEST_POLICY                                                                        \
    "log example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx "  \
    "https://log.example.com/\nquorum none\n"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0, t0, dt;
    fk_escrow_authority *auth = calloc(1, sizeof *auth);
    fk_escrow_share *shares;
    fk_escrow_stanza_info st;
    fk_escrow_partial p;
    fk_stanza s;
    uint8_t k[16], ctx[32] = { 0 };
    unsigned long n;

    if (!auth || fk_escrow_share_alloc(&shares, 5) != FK_OK ||
        fk_escrow_dealer(auth, shares, "bench", 3, 5, TEST_POLICY, sizeof TEST_POLICY - 1) != FK_OK || fk_random(k, 16) != FK_OK ||
        fk_escrow_stanza_make(&s, auth->pk, k) != FK_OK || fk_escrow_stanza_parse(&st, &s) != FK_OK) {
        fprintf(stderr, "bench_escrow: setup failed\n");
        return 1;
    }
    fk_stanza_clear(&s);

    t0 = now();
    for (n = 0; (dt = now() - t0) < secs; n++)
        if (fk_escrow_partial_decrypt(&p, auth, &shares[n % 5], st.e, ctx, sizeof ctx) != FK_OK)
            return 1;
    printf("partial decryptions with proof: %.0f/s\n", (double)n / dt);

    if (fk_escrow_partial_decrypt(&p, auth, &shares[0], st.e, ctx, sizeof ctx) != FK_OK)
        return 1;
    t0 = now();
    for (n = 0; (dt = now() - t0) < secs; n++)
        if (fk_escrow_partial_verify(auth, &p, st.e, ctx, sizeof ctx) != FK_OK)
            return 1;
    printf("proof verifications: %.0f/s\n", (double)n / dt);

    /* What every agent pays per request before it multiplies by its share. */
    t0 = now();
    for (n = 0; (dt = now() - t0) < secs; n++)
        if (fk_escrow_stanza_verify(&st) != FK_OK)
            return 1;
    printf("stanza validity proofs checked: %.0f/s (%.1f us each)\n", (double)n / dt,
           dt / (double)n * 1e6);

    t0 = now();
    for (n = 0; (dt = now() - t0) < secs; n++) {
        if (fk_escrow_stanza_make(&s, auth->pk, k) != FK_OK)
            return 1;
        fk_stanza_clear(&s);
    }
    double escrow_us = dt / (double)n * 1e6;
    printf("escrow stanzas made (= recomputed): %.0f/s (%.1f us each)\n", (double)n / dt,
           escrow_us);

    /* One X25519 stanza: ephemeral key, ECDH, HKDF, ChaCha20-Poly1305. */
    char xsk[FK_AGE_IDENTITY_STR_MAX], xpk[FK_AGE_RECIPIENT_STR_MAX];
    fk_recipient *xr;
    if (fk_x25519_keygen(xsk, xpk) != FK_OK || fk_x25519_recipient_parse(&xr, xpk) != FK_OK)
        return 1;
    fk_wipe(xsk, sizeof xsk);
    t0 = now();
    for (n = 0; (dt = now() - t0) < secs; n++) {
        if (xr->ops->wrap(xr, k, &s) != FK_OK)
            return 1;
        fk_stanza_clear(&s);
    }
    double x25519_us = dt / (double)n * 1e6;
    printf("X25519 stanzas made: %.0f/s (%.1f us each)\n", (double)n / dt, x25519_us);
    printf("per-file header cost, escrow stanza / X25519 stanza: %.2f\n", escrow_us / x25519_us);
    fk_recipient_free(xr);

    /* The recipient-side check of a header with one escrow stanza. */
    fk_stanza hs[1];
    fk_header h;
    fk_escrow_check_ctx cc;
    if (fk_escrow_stanza_make(&hs[0], auth->pk, k) != FK_OK)
        return 1;
    memset(&h, 0, sizeof h);
    h.stanzas = hs;
    h.nstanzas = 1;
    t0 = now();
    for (n = 0; (dt = now() - t0) < secs; n++) {
        fk_escrow_check_init(&cc, NULL, 0, 1, 0);
        if (fk_escrow_check_header(&cc, &h, k) != FK_OK)
            return 1;
    }
    printf("escrow checks (one stanza, recipient side): %.0f/s (%.1f us each)\n",
           (double)n / dt, dt / (double)n * 1e6);
    fk_stanza_clear(&hs[0]);

    fk_escrow_share_free(shares, 5);
    free(auth);
    return 0;
}
