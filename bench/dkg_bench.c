/*
 * bench_dkg: a whole COCKTAIL-DKG ceremony in one process for n = 5, 16, 64
 * (t = n/2 + 1), reporting per participant the time of round 1, of round 2
 * (every PoP, decryption and share check, the transcript and its
 * signature) and of checking the certificate, the bytes each participant
 * sends and receives, and the time to derive the authority file from the
 * certified transcript.  Participants run one after another on one core;
 * in a real ceremony they run in parallel, so the per-participant figures
 * are the ceremony's latency (plus the network).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fairkey.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define TEST_POLICY                                                                        \
    "log example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx "  \
    "https://log.example.com/\nquorum none\n"

static int run(unsigned n)
{
    unsigned t = n / 2 + 1, blame;
    uint8_t(*d)[32] = malloc(n * 32), (*pk)[32] = malloc(n * 32), ctx[64], sid[32] = { 1 };
    uint8_t **msg = calloc(n, sizeof *msg), (*sig)[64] = malloc(n * 64);
    fk_dkg_msg1 *m = calloc(n, sizeof *m);
    fk_dkg_output out;
    char ext[4096];
    size_t el, len, ml = fk_dkg_msg1_len(t, n);
    fk_escrow_authority *a = malloc(sizeof *a);

    for (unsigned i = 0; i < n; i++)
        if (fk_dkg_keypair(d[i], pk[i]))
            return 1;
    if (fk_dkg_context(ctx, sid, 32, n, (const uint8_t(*)[32])pk) ||
        fk_dkg_authority_ext(ext, sizeof ext, &el, "bench", TEST_POLICY, strlen(TEST_POLICY)))
        return 1;
    fk_dkg_session s = { t, n, (const uint8_t(*)[32])pk, ctx, 64, (const uint8_t *)ext, el };
    double t0 = now();
    for (unsigned i = 1; i <= n; i++) {
        msg[i - 1] = malloc(ml);
        if (fk_dkg_round1(msg[i - 1], ml, &len, &s, i, d[i - 1]) ||
            fk_dkg_msg1_parse(&m[i - 1], msg[i - 1], len, t, n))
            return 1;
    }
    double t1 = now();
    size_t tcap = fk_dkg_transcript_len(&s), tl;
    uint8_t *tr = malloc(tcap);
    for (unsigned i = 1; i <= n; i++) {
        if (fk_dkg_round2(&out, &blame, &s, i, d[i - 1], m) ||
            fk_dkg_transcript(tr, tcap, &tl, &s, m) || fk_dkg_sign(sig[i - 1], d[i - 1], tr, tl))
            return 1;
    }
    double t2 = now();
    fk_dkg_transcript_view v;
    if (fk_dkg_transcript_parse(&v, tr, tl) ||
        fk_dkg_certificate_verify(&v, tr, tl, (const uint8_t(*)[64])sig, &blame))
        return 1;
    double t3 = now();
    if (fk_dkg_authority_from_transcript(a, &v))
        return 1;
    double t4 = now();
    /* Each participant sends msg1 and a signature, and receives the bundle
     * (n msg1s) and the certificate (T and n signatures). */
    size_t sent = ml + 64, recv = n * ml + tl + n * 64;
    printf("n=%-3u t=%-3u round1 %7.2f ms  round2+sign %8.2f ms  certificate %7.2f ms  "
           "authority %7.2f ms  per participant; sends %zu B, receives %zu B; "
           "whole ceremony on one core %.2f s\n",
           n, t, (t1 - t0) * 1e3 / n, (t2 - t1) * 1e3 / n, (t3 - t2) * 1e3, (t4 - t3) * 1e3,
           sent, recv, (t1 - t0) + (t2 - t1) + n * ((t3 - t2) + (t4 - t3)));
    for (unsigned i = 0; i < n; i++)
        free(msg[i]);
    free(msg); free(m); free(d); free(pk); free(sig); free(tr); free(a);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned ns[] = { 5, 16, 64 };
    if (argc > 1) {
        ns[0] = (unsigned)atoi(argv[1]);
        return run(ns[0]);
    }
    for (size_t k = 0; k < 3; k++)
        if (run(ns[k]))
            return 1;
    return 0;
}
