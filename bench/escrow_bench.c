/*
 * bench_escrow: partial decryptions with proof per second and proof
 * verifications per second, on one core (one thread), for a 3-of-5
 * authority.  Usage: bench_escrow [seconds per measurement, default 2]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <fairkey.h>

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
        fk_escrow_dealer(auth, shares, "bench", 3, 5) != FK_OK || fk_random(k, 16) != FK_OK ||
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

    t0 = now();
    for (n = 0; (dt = now() - t0) < secs; n++) {
        if (fk_escrow_stanza_make(&s, auth->pk, k) != FK_OK)
            return 1;
        fk_stanza_clear(&s);
    }
    printf("escrow stanzas made (= recomputed): %.0f/s\n", (double)n / dt);

    fk_escrow_share_free(shares, 5);
    free(auth);
    return 0;
}
