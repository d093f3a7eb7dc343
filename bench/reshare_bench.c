/*
 * bench_reshare: resharing an authority's key to a new agent set
 * (docs/spec.md section 10) for n = 5, 16, 64: a t-of-n authority with
 * t = n/2 + 1 is reshared by t dealers to a new t-of-n set.  Times a
 * dealer's deal, the public check (collect, and the log), and a new agent's
 * finish, and counts the bytes a dealer sends and a new agent receives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fairkey.h>

static const char policy[] =
    "log example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx "
    "https://log.example.com/\nquorum none\n";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define CHECK(x)                                                  \
    do {                                                          \
        if ((x) != FK_OK) {                                       \
            fprintf(stderr, "bench_reshare: %s failed\n", #x);    \
            exit(1);                                              \
        }                                                         \
    } while (0)

int main(void)
{
    static const unsigned ns[] = { 5, 16, 64 };
    printf("%4s %4s %12s %12s %12s %14s %14s %10s\n", "n", "t", "deal ms", "public ms",
           "finish ms", "dealer sends", "agent receives", "entry");
    for (size_t r = 0; r < sizeof ns / sizeof ns[0]; r++) {
        unsigned n = ns[r], t = n / 2 + 1;
        fk_escrow_authority *old = malloc(sizeof *old), *na = malloc(sizeof *na);
        fk_escrow_share *sh, nsh;
        fk_reshare_session *s = calloc(1, sizeof *s);
        uint8_t(*dd)[32] = malloc((size_t)t * 32), (*nd)[32] = malloc((size_t)n * 32);
        uint8_t **msg = calloc(t, sizeof *msg);
        fk_dkg_msg1 *m = calloc(t, sizeof *m);
        const uint8_t **dealt = calloc(t, sizeof *dealt);
        size_t len = 0, cap;
        unsigned blame;
        CHECK(fk_escrow_share_alloc(&sh, n));
        CHECK(fk_escrow_dealer(old, sh, "bench", t, n, policy, sizeof policy - 1));
        memcpy(s->authority_id, old->id, 32);
        strcpy(s->name, "bench");
        s->t = t;
        s->n = n;
        s->ndealers = t;
        for (unsigned k = 0; k < t; k++) {
            s->dealer[k] = k + 1;
            CHECK(fk_dkg_keypair(dd[k], s->dealer_pk[k]));
        }
        for (unsigned j = 0; j < n; j++)
            CHECK(fk_dkg_keypair(nd[j], s->pk[j]));
        memcpy(s->policy, policy, sizeof policy - 1);
        s->policy_len = sizeof policy - 1;
        CHECK(fk_random(s->id, 32));
        CHECK(fk_reshare_session_context(s));
        cap = fk_reshare_deal_len(s);
        double t0 = now();
        for (unsigned k = 0; k < t; k++) {
            msg[k] = malloc(cap);
            CHECK(fk_reshare_deal(msg[k], cap, &len, s, old, &sh[k], dd[k]));
        }
        double t1 = now();
        for (unsigned k = 0; k < t; k++) {
            CHECK(fk_dkg_msg1_parse(&m[k], msg[k], len, t, n));
            dealt[k] = m[k].commit;
        }
        CHECK(fk_reshare_authority(na, &blame, s, old, dealt));
        double t2 = now();
        unsigned reps = n < 16 ? n : 8;
        for (unsigned j = 1; j <= reps; j++) {
            CHECK(fk_reshare_receive(&nsh, na, &blame, s, old, j, nd[j - 1], m));
            fk_escrow_share_clear(&nsh, 1);
        }
        double t3 = now();
        char *entry = malloc(1 << 20);
        size_t el = 0;
        fk_err ee = fk_reshare_entry_encode(entry, 1 << 20, &el, s, old, dealt, na->id);
        /* A new agent gets every dealer's public part and one ciphertext. */
        size_t recv = (size_t)t * ((size_t)t * 32 + 64 + 32 + 8 + 48);
        char es[32];
        if (ee == FK_OK)
            snprintf(es, sizeof es, "%zu", el);
        else
            snprintf(es, sizeof es, "> 65535");
        printf("%4u %4u %12.2f %12.2f %12.2f %14zu %14zu %10s\n", n, t, (t1 - t0) * 1e3 / t,
               (t2 - t1) * 1e3, (t3 - t2) * 1e3 / reps, len, recv, es);
        for (unsigned k = 0; k < t; k++)
            free(msg[k]);
        fk_escrow_share_free(sh, n);
        free(entry);
        free(msg);
        free(m);
        free(dealt);
        free(dd);
        free(nd);
        free(s);
        free(old);
        free(na);
    }
    return 0;
}
