/*
 * The log's admission check in-process: the per-requester token bucket at
 * its rate and one past it, refilling, and the table of requesters at
 * FKI_LOG_RATE_REQUESTERS and one past it (refused until buckets refill);
 * entries that are not requests.  Requests themselves are checked
 * black-box by log_admit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "log/admit.h"

static fki_log_admit *make(unsigned rate)
{
    static const char auth[1][FK_ESCROW_ID_HEX_LEN] = {{0}};
    static const uint8_t pk[1][FK_ESCROW_POINT_LEN] = {{0}};
    struct fki_log_admit_config c = {.authorities = auth, .authority_pks = pk, .nauthorities = 1,
                                     .rate = rate};
    fki_log_admit *a = NULL;
    assert_int_equal(fki_log_admit_new(&a, &c), FK_OK);
    return a;
}

static void test_bucket(void **state)
{
    (void)state;
    fki_log_admit *a = make(3);
    uint8_t k[FK_REQUEST_KEY_LEN] = {1}, other[FK_REQUEST_KEY_LEN] = {2};
    const char *why;
    for (int i = 0; i < 3; i++)
        assert_int_equal(fki_log_admit_rate(a, k, 1000, &why), 0);
    assert_int_equal(fki_log_admit_rate(a, k, 1000, &why), 429);
    assert_non_null(strstr(why, "rate"));
    /* Another requester has its own bucket. */
    assert_int_equal(fki_log_admit_rate(a, other, 1000, &why), 0);
    /* One token back after 20 s at 3 a minute, not before. */
    assert_int_equal(fki_log_admit_rate(a, k, 20999, &why), 429);
    assert_int_equal(fki_log_admit_rate(a, k, 21000, &why), 0);
    assert_int_equal(fki_log_admit_rate(a, k, 21000, &why), 429);
    fki_log_admit_free(a);
}

static void test_requester_table(void **state)
{
    (void)state;
    fki_log_admit *a = make(1);
    uint8_t k[FK_REQUEST_KEY_LEN] = {0};
    const char *why;
    for (uint32_t i = 0; i < FKI_LOG_RATE_REQUESTERS; i++) {
        memcpy(k, &i, sizeof i);
        memcpy(k + 8, &i, sizeof i);
        assert_int_equal(fki_log_admit_rate(a, k, 0, &why), 0);
    }
    uint32_t past = FKI_LOG_RATE_REQUESTERS;
    memcpy(k, &past, sizeof past);
    memcpy(k + 8, &past, sizeof past);
    assert_int_equal(fki_log_admit_rate(a, k, 0, &why), 429);
    assert_non_null(strstr(why, "too many requesters"));
    /* Known requesters still get their own answer (empty buckets). */
    uint8_t k0[FK_REQUEST_KEY_LEN] = {0};
    assert_int_equal(fki_log_admit_rate(a, k0, 1, &why), 429);
    assert_non_null(strstr(why, "rate"));
    /* Half a minute later nothing has refilled (1 a minute): still full. */
    assert_int_equal(fki_log_admit_rate(a, k, 30000, &why), 429);
    /* A minute later every bucket has refilled and is dropped. */
    assert_int_equal(fki_log_admit_rate(a, k, 60000, &why), 0);
    assert_int_equal(fki_log_admit_rate(a, k0, 60000, &why), 0);
    fki_log_admit_free(a);
}

static void test_kinds(void **state)
{
    (void)state;
    fki_log_admit *a = make(0);
    const char *why;
    static const uint8_t junk[] = "\x01\x02not a request\n";
    static const uint8_t almost[] = "fairkey recovery request v1\nno\n";
    assert_int_equal(fki_log_admit_check(a, junk, sizeof junk - 1, 0, &why), 400);
    assert_int_equal(fki_log_admit_check(a, almost, sizeof almost - 1, 0, &why), 400);
    static uint8_t big[FK_REQUEST_NOTE_MAX + 1];
    memset(big, 'a', sizeof big);
    memcpy(big, "fairkey recovery request v1\n", 28);
    assert_int_equal(fki_log_admit_check(a, big, sizeof big, 0, &why), 413);
    assert_int_equal(fki_log_admit_check(a, big, sizeof big - 1, 0, &why), 400);
    fki_log_admit_free(a);

    struct fki_log_admit_config open = {.open = 1};
    assert_int_equal(fki_log_admit_new(&a, &open), FK_OK);
    assert_int_equal(fki_log_admit_check(a, junk, sizeof junk - 1, 0, &why), 0);
    fki_log_admit_free(a);

    /* Limits at and one past. */
    static const char many[FKI_LOG_MAX_AUTHORITIES + 1][FK_ESCROW_ID_HEX_LEN];
    static const uint8_t pks[FKI_LOG_MAX_AUTHORITIES + 1][FK_ESCROW_POINT_LEN];
    struct fki_log_admit_config c = {.authorities = many,
                                     .authority_pks = pks,
                                     .nauthorities = FKI_LOG_MAX_AUTHORITIES,
                                     .rate = FKI_LOG_MAX_RATE};
    assert_int_equal(fki_log_admit_new(&a, &c), FK_OK);
    fki_log_admit_free(a);
    c.nauthorities++;
    assert_int_equal(fki_log_admit_new(&a, &c), FK_ERR_LIMIT);
    c.nauthorities--;
    c.rate++;
    assert_int_equal(fki_log_admit_new(&a, &c), FK_ERR_LIMIT);
}

/* A dealerless authority's certified transcript: taken by the log serving
 * that authority, refused by another, refused with a signature changed. */
static void test_transcript(void **state)
{
    (void)state;
    enum { T = 2, N = 3 };
    static const char policy[] =
        "log example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx "
        "https://log.example.com/\nquorum none\n";
    uint8_t d[N][32], pk[N][32], ctx[64], sid[32] = {7}, *msg[N], sig[N][64];
    fk_dkg_msg1 m[N];
    fk_dkg_output out;
    char ext[1024];
    size_t el, len, ml = fk_dkg_msg1_len(T, N), tl;
    unsigned blame;
    for (int i = 0; i < N; i++)
        assert_int_equal(fk_dkg_keypair(d[i], pk[i]), FK_OK);
    assert_int_equal(fk_dkg_context(ctx, sid, 32, N, (const uint8_t(*)[32])pk), FK_OK);
    assert_int_equal(fk_dkg_authority_ext(ext, sizeof ext, &el, "logged", policy, sizeof policy - 1), FK_OK);
    fk_dkg_session s = {T, N, (const uint8_t(*)[32])pk, ctx, 64, (const uint8_t *)ext, el};
    for (unsigned i = 1; i <= N; i++) {
        msg[i - 1] = malloc(ml);
        assert_int_equal(fk_dkg_round1(msg[i - 1], ml, &len, &s, i, d[i - 1]), FK_OK);
        assert_int_equal(fk_dkg_msg1_parse(&m[i - 1], msg[i - 1], len, T, N), FK_OK);
    }
    uint8_t *t = malloc(fk_dkg_transcript_len(&s));
    assert_int_equal(fk_dkg_transcript(t, fk_dkg_transcript_len(&s), &tl, &s, m), FK_OK);
    for (unsigned i = 1; i <= N; i++) {
        assert_int_equal(fk_dkg_round2(&out, &blame, &s, i, d[i - 1], m), FK_OK);
        assert_int_equal(fk_dkg_sign(sig[i - 1], d[i - 1], t, tl), FK_OK);
    }
    size_t cap = 32 + fk_dkg_certified_text_len(tl, N), cl;
    char *entry = malloc(cap);
    strcpy(entry, "fairkey authority transcript v1\n");
    size_t hl = strlen(entry);
    assert_int_equal(fk_dkg_certified_encode(entry + hl, cap - hl, &cl, t, tl, (const uint8_t(*)[64])sig, N), FK_OK);
    fk_dkg_transcript_view v;
    fk_escrow_authority *auth = malloc(sizeof *auth);
    assert_int_equal(fk_dkg_transcript_parse(&v, t, tl), FK_OK);
    assert_int_equal(fk_dkg_authority_from_transcript(auth, &v), FK_OK);
    char ids[2][FK_ESCROW_ID_HEX_LEN];
    uint8_t pks[2][FK_ESCROW_POINT_LEN] = {{0}};
    fk_escrow_id_hex(ids[0], auth->id);
    memset(ids[1], 'a', 64);
    ids[1][64] = 0;
    const char *why;
    fki_log_admit *a;
    struct fki_log_admit_config c = {.authorities = (const char(*)[FK_ESCROW_ID_HEX_LEN])ids, .authority_pks = (const uint8_t(*)[FK_ESCROW_POINT_LEN])pks, .nauthorities = 2};
    assert_int_equal(fki_log_admit_new(&a, &c), FK_OK);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)entry, hl + cl, 0, &why), 0);
    /* A trailing byte, a changed signature. */
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)entry, hl + cl - 1, 0, &why), 400);
    char *sl = strstr(entry, "signature 2 ") + 12;
    char was = *sl;
    *sl = was == 'A' ? 'B' : 'A';
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)entry, hl + cl, 0, &why), 403);
    *sl = was;
    fki_log_admit_free(a);
    /* A log serving only another authority. */
    c.authorities = (const char(*)[FK_ESCROW_ID_HEX_LEN])ids + 1;
    c.nauthorities = 1;
    assert_int_equal(fki_log_admit_new(&a, &c), FK_OK);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)entry, hl + cl, 0, &why), 403);
    fki_log_admit_free(a);

    /* The library builds the same full entry. */
    size_t fcap = fk_dkg_log_entry_len(FK_DKG_ENTRY_FULL, tl, N), fl;
    char *full = malloc(fcap);
    assert_int_equal(fk_dkg_log_entry(full, fcap, &fl, FK_DKG_ENTRY_FULL, t, tl,
                                      (const uint8_t(*)[64])sig, N, NULL), FK_OK);
    assert_int_equal(fl, hl + cl);
    assert_memory_equal(full, entry, fl);
    free(full);

    /* The hash form: taken for the served authority with its n signatures,
     * at most --rate a minute; refused when malformed, for another
     * authority, or with another count of signatures. */
    size_t hcap = fk_dkg_log_entry_len(FK_DKG_ENTRY_HASH, tl, N), hlen;
    char *he = malloc(hcap), *bad = malloc(hcap + 64);
    assert_int_equal(fk_dkg_log_entry(he, hcap, &hlen, FK_DKG_ENTRY_HASH, t, tl,
                                      (const uint8_t(*)[64])sig, N, auth->id), FK_OK);
    fk_dkg_log_hash *h = malloc(sizeof *h);
    assert_int_equal(fk_dkg_log_hash_parse(h, he, hlen), FK_OK);
    assert_int_equal(h->n, N);
    assert_memory_equal(h->authority_id, auth->id, 32);
    assert_memory_equal(h->sigs[N - 1], sig[N - 1], 64);
    unsigned ns[2] = {N, 3};
    c.authorities = (const char(*)[FK_ESCROW_ID_HEX_LEN])ids;
    c.authority_ns = ns;
    c.nauthorities = 2;
    c.rate = 2;
    assert_int_equal(fki_log_admit_new(&a, &c), FK_OK);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)he, hlen, 0, &why), 0);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)he, hlen, 0, &why), 0);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)he, hlen, 0, &why), 429);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)he, hlen, 60000, &why), 0);
    /* A trailing byte; a line lost; uppercase hex; "v10" is another kind. */
    memcpy(bad, he, hlen);
    bad[hlen] = 'x';
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)bad, hlen + 1, 60000, &why), 400);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)he, hlen - 1, 60000, &why), 400);
    char *up = strstr(bad, "transcript-sha256 ") + 18;
    for (int i = 0; i < 64; i++)
        if (up[i] >= 'a' && up[i] <= 'f') {
            up[i] = (char)(up[i] - 'a' + 'A');
            break;
        }
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)bad, hlen, 60000, &why), 400);
    size_t kl = strlen("fairkey authority transcript-hash v1");
    memcpy(bad, he, kl);
    bad[kl] = '0';
    memcpy(bad + kl + 1, he + kl, hlen - kl);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)bad, hlen + 1, 60000, &why), 400);
    /* One signature fewer than the authority's n. */
    char *last = strstr(he, "signature 3 ");
    assert_non_null(last);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)he, (size_t)(last - he), 60000, &why),
                     403);
    fki_log_admit_free(a);
    /* Another authority's log. */
    c.authorities = (const char(*)[FK_ESCROW_ID_HEX_LEN])ids + 1;
    c.authority_ns = ns + 1;
    c.nauthorities = 1;
    assert_int_equal(fki_log_admit_new(&a, &c), FK_OK);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)he, hlen, 0, &why), 403);
    fki_log_admit_free(a);
    free(h);
    free(he);
    free(bad);
    for (int i = 0; i < N; i++)
        free(msg[i]);
    free(t);
    free(entry);
    free(auth);
}

/* An authority's resharing: taken by the log serving the old authority,
 * refused by another, refused with a dealer's commitment changed. */
static void test_reshare(void **state)
{
    (void)state;
    static const char policy[] =
        "log example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx "
        "https://log.example.com/\nquorum none\n";
    fk_escrow_authority *old = malloc(sizeof *old), *na = malloc(sizeof *na);
    fk_escrow_share sh[3];
    fk_reshare_session *s = calloc(1, sizeof *s);
    uint8_t d[2][32], *msg[2];
    const uint8_t *dealt[2];
    fk_dkg_msg1 m[2];
    size_t len;
    unsigned blame;
    assert_int_equal(fk_escrow_dealer(old, sh, "logged", 2, 3, policy, sizeof policy - 1), FK_OK);
    memcpy(s->authority_id, old->id, 32);
    strcpy(s->name, "logged");
    s->t = 2;
    s->n = 2;
    s->ndealers = 2;
    for (unsigned k = 0; k < 2; k++) {
        s->dealer[k] = k + 1;
        assert_int_equal(fk_dkg_keypair(d[k], s->dealer_pk[k]), FK_OK);
        memcpy(s->pk[k], s->dealer_pk[k], 32);
    }
    memcpy(s->policy, policy, sizeof policy - 1);
    s->policy_len = sizeof policy - 1;
    assert_int_equal(fk_reshare_session_context(s), FK_OK);
    for (unsigned k = 0; k < 2; k++) {
        msg[k] = malloc(fk_reshare_deal_len(s));
        assert_int_equal(fk_reshare_deal(msg[k], fk_reshare_deal_len(s), &len, s, old, &sh[k], d[k]), FK_OK);
        assert_int_equal(fk_dkg_msg1_parse(&m[k], msg[k], len, 2, 2), FK_OK);
        dealt[k] = m[k].commit;
    }
    assert_int_equal(fk_reshare_authority(na, &blame, s, old, dealt), FK_OK);
    char *entry = malloc(FK_RESHARE_ENTRY_MAX + 1);
    assert_int_equal(fk_reshare_entry_encode(entry, FK_RESHARE_ENTRY_MAX + 1, &len, s, old, dealt, na->id), FK_OK);
    char ids[2][FK_ESCROW_ID_HEX_LEN];
    uint8_t pks[2][FK_ESCROW_POINT_LEN] = {{0}};
    fk_escrow_id_hex(ids[0], old->id);
    fk_escrow_id_hex(ids[1], na->id);
    const char *why;
    fki_log_admit *a;
    struct fki_log_admit_config c = {.authorities = (const char(*)[FK_ESCROW_ID_HEX_LEN])ids, .authority_pks = (const uint8_t(*)[FK_ESCROW_POINT_LEN])pks, .nauthorities = 1};
    assert_int_equal(fki_log_admit_new(&a, &c), FK_OK);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)entry, len, 0, &why), 0);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)entry, len - 1, 0, &why), 400);
    /* Dealer 2's first commitment (its constant term) changed. */
    char *dl = strstr(entry, "\ndealt 2 ") + 9, was = *dl;
    *dl = was == 'A' ? 'B' : 'A';
    int st = fki_log_admit_check(a, (uint8_t *)entry, len, 0, &why);
    assert_true(st == 403 || st == 400);   /* 400 if it is no longer a point */
    *dl = was;
    fki_log_admit_free(a);
    /* A log serving only the new authority does not take the old one's resharing. */
    c.authorities = (const char(*)[FK_ESCROW_ID_HEX_LEN])ids + 1;
    assert_int_equal(fki_log_admit_new(&a, &c), FK_OK);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)entry, len, 0, &why), 403);
    fki_log_admit_free(a);
    for (unsigned k = 0; k < 2; k++)
        free(msg[k]);
    fk_escrow_share_clear(sh, 3);
    free(entry);
    free(s);
    free(old);
    free(na);
}

/* A vendor's source deposit record (docs/protocol.md 10.3): taken for a
 * served authority when signed by the key it names, dated now and naming a
 * valid stanza; refused when altered, oversized, malformed, for another
 * authority, stale or in the future, with a bad target, or over the rate. */
static void deposit_note(char *note, size_t *n, fk_deposit *d, const fk_requester_key *k)
{
    assert_int_equal(fk_deposit_sign(note, FK_DEPOSIT_NOTE_MAX + 1, n, d, k), FK_OK);
}

static void test_deposit(void **state)
{
    (void)state;
    static const char policy[] =
        "log example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx "
        "https://log.example.com/\nquorum none\n";
    fk_escrow_authority *auth = malloc(sizeof *auth);
    fk_escrow_share *sh = NULL;
    fk_stanza s1, s2;
    fk_escrow_stanza_info i1, i2;
    uint8_t k1[16] = {1}, k2[16] = {2};
    fk_requester_key vk;
    fk_deposit d;
    char note[FK_DEPOSIT_NOTE_MAX + 2];
    size_t n;
    const char *why;
    assert_int_equal(fk_escrow_share_alloc(&sh, 1), FK_OK);
    assert_int_equal(fk_escrow_dealer(auth, sh, "deposit", 1, 1, policy, sizeof policy - 1), FK_OK);
    assert_int_equal(fk_escrow_stanza_make(&s1, auth->pk, k1), FK_OK);
    assert_int_equal(fk_escrow_stanza_make(&s2, auth->pk, k2), FK_OK);
    assert_int_equal(fk_escrow_stanza_parse(&i1, &s1), FK_OK);
    assert_int_equal(fk_escrow_stanza_parse(&i2, &s2), FK_OK);
    assert_int_equal(fk_requester_key_generate(&vk, "vendor.example/acme"), FK_OK);
    char ids[2][FK_ESCROW_ID_HEX_LEN];
    uint8_t pks[2][FK_ESCROW_POINT_LEN];
    fk_escrow_id_hex(ids[0], auth->id);
    memcpy(pks[0], auth->pk, 32);
    memset(ids[1], 'b', 64);
    ids[1][64] = 0;
    memcpy(pks[1], auth->pk, 32);
    fki_log_admit *a;
    struct fki_log_admit_config c = {.authorities = (const char(*)[FK_ESCROW_ID_HEX_LEN])ids,
                                     .authority_pks = (const uint8_t(*)[FK_ESCROW_POINT_LEN])pks,
                                     .nauthorities = 1, .rate = 3};
    assert_int_equal(fki_log_admit_new(&a, &c), FK_OK);

    memset(&d, 0, sizeof d);
    strcpy(d.authority, ids[0]);
    fk_deposit_target_set(&d, &i1);
    strcpy(d.product, "acme");
    strcpy(d.version, "1.0");
    d.archive_size = 10;
    d.ciphertext_size = 300;
    d.time = (int64_t)time(NULL);
    deposit_note(note, &n, &d, &vk);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)note, n, 0, &why), 0);
    /* Altered after signing (the version), truncated, malformed. */
    char *v = strstr(note, "version 1.0") + 8;
    *v = '2';
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)note, n, 0, &why), 403);
    assert_non_null(strstr(why, "signature"));
    *v = '1';
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)note, n - 1, 0, &why), 400);
    static const uint8_t junk[] = FK_DEPOSIT_MAGIC "\nnonsense\n";
    assert_int_equal(fki_log_admit_check(a, junk, sizeof junk - 1, 0, &why), 400);
    /* The magic line is a whole line: "v1" is not a prefix of "v10". */
    static const uint8_t v10[] = FK_DEPOSIT_MAGIC "0\n";
    assert_int_equal(fki_log_admit_check(a, v10, sizeof v10 - 1, 0, &why), 400);
    assert_non_null(strstr(why, "this log takes nothing else"));
    /* Oversized: 4096 bytes is parsed (and refused as malformed), 4097 is 413. */
    static uint8_t big[FK_DEPOSIT_NOTE_MAX + 1];
    memset(big, 'x', sizeof big);
    memcpy(big, FK_DEPOSIT_MAGIC "\n", sizeof FK_DEPOSIT_MAGIC);
    assert_int_equal(fki_log_admit_check(a, big, FK_DEPOSIT_NOTE_MAX, 0, &why), 400);
    assert_int_equal(fki_log_admit_check(a, big, FK_DEPOSIT_NOTE_MAX + 1, 0, &why), 413);
    /* Another authority. */
    fk_deposit o = d;
    strcpy(o.authority, ids[1]);
    deposit_note(note, &n, &o, &vk);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)note, n, 0, &why), 403);
    assert_non_null(strstr(why, "does not serve"));
    /* Over a day old (a replay), and in the future. */
    o = d;
    o.time -= FKI_LOG_DEPOSIT_WINDOW_S + 60;
    deposit_note(note, &n, &o, &vk);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)note, n, 0, &why), 403);
    assert_non_null(strstr(why, "more than a day old"));
    o.time = d.time + FKI_LOG_DEPOSIT_SKEW_S + 60;
    deposit_note(note, &n, &o, &vk);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)note, n, 0, &why), 403);
    assert_non_null(strstr(why, "future"));
    /* A target whose E is another stanza's: its proof fails. */
    o = d;
    memcpy(o.target, i2.e, 32);
    deposit_note(note, &n, &o, &vk);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)note, n, 0, &why), 400);
    assert_non_null(strstr(why, "validity proof"));
    /* The rate: 3 a minute per vendor key (the first and the bad target
     * took two tokens). */
    o = d;
    strcpy(o.version, "1.1");
    deposit_note(note, &n, &o, &vk);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)note, n, 0, &why), 0);
    strcpy(o.version, "1.2");
    deposit_note(note, &n, &o, &vk);
    assert_int_equal(fki_log_admit_check(a, (uint8_t *)note, n, 0, &why), 429);
    fki_log_admit_free(a);
    fk_requester_key_wipe(&vk);
    fk_stanza_clear(&s1);
    fk_stanza_clear(&s2);
    fk_escrow_share_free(sh, 1);
    free(auth);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_requester_table),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_transcript),
        cmocka_unit_test(test_reshare),
        cmocka_unit_test(test_deposit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
