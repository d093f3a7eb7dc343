/*
 * log_bench - load generator and checker for `fairkey log serve`, used by the
 * benchmarks (bench/log_bench.sh) and the black-box tests (tests/log/).
 *
 *   log_bench add URL VKEY --n N --conc C [--prefix P] [--size B] [--out FILE]
 *             [--verify-every K] [--strict]
 *       N adds over C concurrent keep-alive connections (libcurl multi).
 *       Every K-th answer (default every one) is checked as a tlog-proof
 *       against VKEY.  Each acknowledged add is appended to FILE as
 *       "<index> <size> <root b64> <entry hex>" and flushed at once, so the
 *       record survives the daemon being killed.  Prints throughput and
 *       latency (median, p99).  --strict: exit 1 unless every add succeeded.
 *
 *   log_bench check URL VKEY FILE...
 *       Every recorded entry is in the current tree at its index (inclusion
 *       proof from tiles), every recorded checkpoint is consistent with the
 *       current one, and the whole log replays from scratch to its root.
 *
 *   log_bench proofs URL VKEY --n N --conc C
 *       N inclusion proofs of random entries, computed from tiles over HTTP
 *       by C threads; prints proofs per second.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "log/log.h"
#include "net/net.h"

#define HL FK_TLOG_HASH_LEN

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return def;
}

static int flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

/* ---- add ------------------------------------------------------------------ */

/* One answer must stay under this: a checkpoint plus 63 proof lines. */
#define ANSWER_MAX 16384

struct slot {
    CURL *h;
    uint64_t seq;
    char entry[FK_TLOG_MAX_ENTRY + 1];
    size_t elen;
    double t0;
    char resp[ANSWER_MAX];
    size_t rlen;
    int over;
};

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    struct slot *s = ud;
    size_t n = sz * nm;
    if (n > sizeof s->resp - 1 - s->rlen) {
        s->over = 1;
        return 0;
    }
    memcpy(s->resp + s->rlen, p, n);
    s->rlen += n;
    return n;
}

static void make_entry(struct slot *s, const char *prefix, uint64_t seq, size_t size, uint32_t salt)
{
    int n = snprintf(s->entry, sizeof s->entry, "%s-%08x-%llu\n", prefix, salt,
                     (unsigned long long)seq);
    size_t len = (size_t)n;
    for (; len < size && len < FK_TLOG_MAX_ENTRY; len++)
        s->entry[len] = (char)('a' + len % 26);
    s->elen = len;
}

static void start(CURLM *m, struct slot *s, const char *url)
{
    s->rlen = 0;
    s->over = 0;
    s->t0 = now_s();
    curl_easy_setopt(s->h, CURLOPT_URL, url);
    curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->entry);
    curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)s->elen);
    curl_multi_add_handle(m, s->h);
}

static int verify_answer(const struct slot *s, const fk_note_verifier *key, fk_checkpoint *cp,
                         uint64_t *index)
{
    fk_tlog_proof *p = malloc(sizeof *p);
    uint8_t leaf[HL];
    int ok = p && !fk_tlog_proof_parse(p, s->resp, s->rlen) &&
             !fk_tlog_leaf_hash(leaf, (const uint8_t *)s->entry, s->elen) &&
             !fk_tlog_proof_verify(p, leaf, key->name, key, 1, cp, NULL);
    if (ok)
        *index = p->index;
    free(p);
    return ok;
}

/* Index and checkpoint from an answer without verifying it (bench mode). */
static int parse_answer(const struct slot *s, fk_checkpoint *cp, uint64_t *index)
{
    fk_tlog_proof *p = malloc(sizeof *p);
    int ok = p && !fk_tlog_proof_parse(p, s->resp, s->rlen);
    if (ok) {
        fk_note note;
        ok = !fk_note_parse(&note, p->checkpoint, p->checkpoint_len) &&
             !fk_checkpoint_parse(cp, note.text, note.text_len);
        *index = p->index;
    }
    free(p);
    return ok;
}

static int cmd_add(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *base = argv[0];
    fk_note_verifier key;
    if (fk_note_verifier_parse(&key, argv[1], strlen(argv[1]))) {
        fprintf(stderr, "log_bench: bad vkey\n");
        return 2;
    }
    uint64_t n = strtoull(opt(argc, argv, "--n", "1000"), NULL, 10);
    unsigned conc = (unsigned)strtoul(opt(argc, argv, "--conc", "16"), NULL, 10);
    size_t size = strtoul(opt(argc, argv, "--size", "0"), NULL, 10);
    unsigned every = (unsigned)strtoul(opt(argc, argv, "--verify-every", "1"), NULL, 10);
    const char *prefix = opt(argc, argv, "--prefix", "entry");
    const char *out = opt(argc, argv, "--out", NULL);
    int strict = flag(argc, argv, "--strict");
    if (!conc || conc > 4096 || size > FK_TLOG_MAX_ENTRY)
        return 2;
    if (conc > n)
        conc = (unsigned)(n ? n : 1);
    FILE *f = out ? fopen(out, "a") : NULL;
    if (out && !f) {
        perror(out);
        return 2;
    }
    char url[600];
    snprintf(url, sizeof url, "%s/add", base);
    uint32_t salt;
    fk_random(&salt, sizeof salt);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)conc);
    struct slot *slots = calloc(conc, sizeof *slots);
    double *lat = malloc((n ? n : 1) * sizeof *lat);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    if (!slots || !lat)
        return 2;
    uint64_t next = 0, acked = 0, failed = 0, bad = 0, nlat = 0;
    double t_start = now_s();
    for (unsigned i = 0; i < conc; i++) {
        struct slot *s = &slots[i];
        s->h = curl_easy_init();
        curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
        curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, 60000L);
        curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
        s->seq = next++;
        make_entry(s, prefix, s->seq, size, salt);
        start(m, s, url);
    }
    int running = 1;
    while (running) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct slot *s;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            long status = 0;
            curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
            CURLcode rc = msg->data.result;
            curl_multi_remove_handle(m, s->h);
            double dt = now_s() - s->t0;
            if (rc == CURLE_OK && status == 200) {
                fk_checkpoint cp;
                uint64_t idx;
                int ok = (every && s->seq % every == 0) ? verify_answer(s, &key, &cp, &idx)
                                                         : parse_answer(s, &cp, &idx);
                if (!ok) {
                    bad++;
                    fprintf(stderr, "log_bench: answer for entry %llu does not verify\n",
                            (unsigned long long)s->seq);
                } else {
                    acked++;
                    lat[nlat++] = dt;
                    if (f) {
                        char root[64];
                        fk_b64_encode_padded(root, cp.root, HL);
                        fprintf(f, "%llu %llu %s ", (unsigned long long)idx,
                                (unsigned long long)cp.size, root);
                        for (size_t i = 0; i < s->elen; i++)
                            fprintf(f, "%02x", (unsigned char)s->entry[i]);
                        fputc('\n', f);
                        fflush(f);
                    }
                }
            } else {
                failed++;
            }
            if (next < n) {
                s->seq = next++;
                make_entry(s, prefix, s->seq, size, salt);
                start(m, s, url);
                running = 1;
            }
        }
        if (running)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    double el = now_s() - t_start;
    qsort(lat, nlat, sizeof *lat, cmp_double);
    double med = nlat ? lat[nlat / 2] : 0, p99 = nlat ? lat[(nlat * 99) / 100] : 0;
    printf("adds %llu acked %llu failed %llu bad %llu in %.2f s: %.0f adds/s, latency median %.1f ms p99 %.1f ms\n",
           (unsigned long long)n, (unsigned long long)acked, (unsigned long long)failed,
           (unsigned long long)bad, el, (double)acked / el, med * 1e3, p99 * 1e3);
    for (unsigned i = 0; i < conc; i++)
        curl_easy_cleanup(slots[i].h);
    curl_multi_cleanup(m);
    curl_slist_free_all(hdrs);
    free(slots);
    free(lat);
    if (f)
        fclose(f);
    if (bad || (strict && acked != n))
        return 1;
    return 0;
}

/* ---- check ---------------------------------------------------------------- */

static int cmd_check(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    struct fki_log_client c;
    if (fki_log_client_init(&c, argv[0], argv[1])) {
        fprintf(stderr, "log_bench: bad URL or vkey\n");
        return 2;
    }
    fk_checkpoint cur;
    fk_err e = fki_log_client_checkpoint(&c, &cur, NULL);
    if (e) {
        fprintf(stderr, "log_bench: checkpoint: %s\n", fk_strerror(e));
        fki_log_client_close(&c);
        return 1;
    }
    int fails = 0;
    uint64_t entries = 0, cps = 0, last_size = UINT64_MAX;
    for (int a = 2; a < argc; a++) {
        FILE *f = fopen(argv[a], "r");
        if (!f) {
            perror(argv[a]);
            return 2;
        }
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
            unsigned long long idx, size;
            char root[64], hex[2 * FK_TLOG_MAX_ENTRY + 2];
            if (sscanf(line, "%llu %llu %63s %131071s", &idx, &size, root, hex) != 4) {
                fprintf(stderr, "log_bench: bad line in %s\n", argv[a]);
                fails++;
                continue;
            }
            size_t hl = strlen(hex);
            uint8_t *want = malloc(hl / 2 + 1);
            uint8_t *got = NULL;
            size_t glen = 0;
            if (!want || fk_hex_decode(want, hl / 2, hex, hl)) {
                fails++;
                free(want);
                continue;
            }
            e = fki_log_client_entry(&c, &cur, idx, &got, &glen);
            if (e || glen != hl / 2 || memcmp(got, want, glen)) {
                fprintf(stderr, "log_bench: acknowledged entry %llu is missing or different (%s)\n",
                        idx, e ? fk_strerror(e) : "content");
                fails++;
            }
            entries++;
            free(got);
            free(want);
            if (size != last_size) {
                fk_checkpoint old;
                size_t rl;
                memset(&old, 0, sizeof old);
                old.size = size;
                if (fk_b64_decode_padded(old.root, HL, &rl, root, strlen(root)) || rl != HL ||
                    (e = fki_log_client_consistent(&c, &old, &cur))) {
                    fprintf(stderr, "log_bench: checkpoint of size %llu is not consistent with size %llu\n",
                            size, (unsigned long long)cur.size);
                    fails++;
                }
                cps++;
                last_size = size;
            }
        }
        free(line);
        fclose(f);
    }
    if ((e = fki_log_client_follow(&c, &cur))) {
        fprintf(stderr, "log_bench: replay from scratch failed: %s\n", fk_strerror(e));
        fails++;
    }
    fki_log_client_close(&c);
    printf("checked %llu acknowledged entries and %llu checkpoints against tree size %llu: %s\n",
           (unsigned long long)entries, (unsigned long long)cps, (unsigned long long)cur.size,
           fails ? "FAILED" : "ok");
    return fails ? 1 : 0;
}

/* ---- proofs --------------------------------------------------------------- */

struct pjob {
    struct fki_log_client c;   /* one per thread: its connection is not shared */
    const fk_checkpoint *cur;
    uint64_t n;
    uint64_t ok, fail;
    unsigned seed;
};

static void *proof_worker(void *arg)
{
    struct pjob *j = arg;
    for (uint64_t i = 0; i < j->n; i++) {
        uint64_t idx = (uint64_t)rand_r(&j->seed) % j->cur->size;
        uint8_t *got;
        size_t glen;
        if (fki_log_client_entry(&j->c, j->cur, idx, &got, &glen)) {
            j->fail++;
        } else {
            j->ok++;
            free(got);
        }
    }
    return NULL;
}

static int cmd_proofs(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    struct fki_log_client c;
    fk_checkpoint cur;
    if (fki_log_client_init(&c, argv[0], argv[1]) || fki_log_client_checkpoint(&c, &cur, NULL) ||
        !cur.size)
        return 1;
    uint64_t n = strtoull(opt(argc, argv, "--n", "1000"), NULL, 10);
    unsigned conc = (unsigned)strtoul(opt(argc, argv, "--conc", "4"), NULL, 10);
    if (!conc || conc > 256)
        return 2;
    pthread_t *th = calloc(conc, sizeof *th);
    struct pjob *jobs = calloc(conc, sizeof *jobs);
    double t0 = now_s();
    for (unsigned i = 0; i < conc; i++) {
        jobs[i] = (struct pjob){.cur = &cur, .n = n / conc, .seed = 12345 + i};
        if (fki_log_client_init(&jobs[i].c, argv[0], argv[1]))
            return 1;
        pthread_create(&th[i], NULL, proof_worker, &jobs[i]);
    }
    uint64_t ok = 0, fail = 0;
    for (unsigned i = 0; i < conc; i++) {
        pthread_join(th[i], NULL);
        fki_log_client_close(&jobs[i].c);
        ok += jobs[i].ok;
        fail += jobs[i].fail;
    }
    double el = now_s() - t0;
    fki_log_client_close(&c);
    printf("inclusion proofs from tiles over HTTP (entry bundle + tiles fetched over keep-alive connections, proof verified): %llu ok %llu failed in %.2f s: %.0f proofs/s\n",
           (unsigned long long)ok, (unsigned long long)fail, el, (double)ok / el);
    free(th);
    free(jobs);
    return fail ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: log_bench add|check|proofs URL VKEY ...\n");
        return 2;
    }
    if (!strcmp(argv[1], "add"))
        return cmd_add(argc - 2, argv + 2);
    if (!strcmp(argv[1], "check"))
        return cmd_check(argc - 2, argv + 2);
    if (!strcmp(argv[1], "proofs"))
        return cmd_proofs(argc - 2, argv + 2);
    fprintf(stderr, "log_bench: unknown mode %s\n", argv[1]);
    return 2;
}
