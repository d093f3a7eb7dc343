/*
 * bench_tlog: the transparency-log library's per-append hot paths, on one
 * core (one thread).  Usage: bench_tlog [seconds per measurement, default 1]
 *
 * A log append costs: one leaf hash; about one node hash for the frontier
 * and about one more for the hash tiles (a full tile of 256 leaves has 255
 * internal nodes); one bundle append; one inclusion proof and one tlog-proof
 * receipt for the answer; and a share of one checkpoint signature per batch.
 * The last line adds these up into appends per second for a given batch
 * size, which bounds what the daemon can reach before storage and HTTP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fairkey.h>

#define HL FK_TLOG_HASH_LEN
#define ENTRY_LEN 700   /* a signed recovery request is a few hundred bytes */
#define TREE 65536u     /* leaves kept in memory for proofs */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every node of a TREE-leaf tree, level by level, for the node callback. */
static uint8_t (*nodes[17])[HL];

static fk_err node_fn(void *ctx, unsigned level, uint64_t index, uint8_t out[HL])
{
    (void)ctx;
    if (level > 16 || index >= (uint64_t)(TREE >> level))
        return FK_ERR_NOT_FOUND;
    memcpy(out, nodes[level][index], HL);
    return FK_OK;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_tlog: %s failed\n", what);
    exit(1);
}

/* Runs body until secs have passed; returns operations per second. */
#define RATE(secs, body)                                                                           \
    ({                                                                                             \
        double t0_ = now(), dt_;                                                                   \
        unsigned long n_;                                                                          \
        for (n_ = 0; (dt_ = now() - t0_) < (secs); n_++) {                                         \
            body;                                                                                  \
        }                                                                                          \
        (double)n_ / dt_;                                                                          \
    })

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    static uint8_t entry[ENTRY_LEN], bundle[FK_TILE_WIDTH * (2 + ENTRY_LEN)];
    static uint8_t tile[FK_TILE_MAX_BYTES];
    static char cp[1024], receipt[FK_TLOG_PROOF_MAX_SIZE + 1];
    uint8_t h[HL], root[HL], proof[FK_TLOG_MAX_PROOF][HL];
    fk_tlog_frontier f;
    fk_note_signer signer;
    fk_note_verifier v;
    fk_checkpoint c;
    size_t len = 0, np = 0, cp_len = 0;
    uint64_t i = 0;

    memset(entry, 'r', sizeof entry);
    for (unsigned l = 0; l <= 16; l++)
        if (!(nodes[l] = malloc((size_t)(TREE >> l) * HL)))
            die("malloc");
    for (uint64_t k = 0; k < TREE; k++)
        if (fk_tlog_leaf_hash(nodes[0][k], (const uint8_t *)&k, sizeof k))
            die("leaf hash");
    for (unsigned l = 1; l <= 16; l++)
        for (uint64_t k = 0; k < (uint64_t)(TREE >> l); k++)
            if (fk_tlog_node_hash(nodes[l][k], nodes[l - 1][2 * k], nodes[l - 1][2 * k + 1]))
                die("node hash");
    if (fk_note_signer_generate(&signer, "bench.example/log", 17))
        die("signer");
    fk_note_signer_verifier(&signer, &v);

    double leaf = RATE(secs, if (fk_tlog_leaf_hash(h, entry, sizeof entry)) die("leaf hash"));
    printf("leaf hash (%d-byte entry):      %10.0f/s\n", ENTRY_LEN, leaf);
    double nodeh = RATE(secs, if (fk_tlog_node_hash(h, h, nodes[0][0])) die("node hash"));
    printf("node hash:                       %10.0f/s\n", nodeh);

    fk_tlog_frontier_init(&f);
    double app = RATE(secs, if (fk_tlog_frontier_append(&f, nodes[0][i++ % TREE], NULL, NULL))
                                 die("frontier append"));
    printf("frontier append:                 %10.0f/s\n", app);
    double froot = RATE(secs, if (fk_tlog_frontier_root(&f, root)) die("frontier root"));
    printf("frontier root (size %llu):   %10.0f/s\n", (unsigned long long)f.size, froot);

    /* A full level-0 tile from stored nodes, and its 255 internal nodes. */
    fk_tile t = {.level = 0, .index = 3, .width = FK_TILE_WIDTH};
    double tb = RATE(secs, if (fk_tile_build(&t, node_fn, NULL, tile, sizeof tile, &len))
                               die("tile build"));
    printf("tile build (256 stored hashes):  %10.0f tiles/s\n", tb);
    double troot = RATE(secs, if (fk_tlog_root(root, (const uint8_t(*)[HL])tile, FK_TILE_WIDTH))
                                  die("tile root"));
    printf("tile root (255 node hashes):     %10.0f tiles/s\n", troot);

    double ba = RATE(secs, {
        if (len + 2 + ENTRY_LEN > sizeof bundle)
            len = 0;
        if (fk_bundle_append(bundle, sizeof bundle, &len, entry, sizeof entry))
            die("bundle append");
    });
    printf("bundle append (%d bytes):       %10.0f/s\n", ENTRY_LEN, ba);
    len = 0;
    for (int k = 0; k < FK_TILE_WIDTH; k++)
        fk_bundle_append(bundle, sizeof bundle, &len, entry, sizeof entry);
    static uint8_t lh[FK_TILE_WIDTH][HL];
    double bl = RATE(secs, if (fk_bundle_leaf_hashes(bundle, len, FK_TILE_WIDTH, lh))
                               die("bundle leaf hashes"));
    printf("bundle read + 256 leaf hashes:   %10.0f bundles/s\n", bl);

    double pi = RATE(secs, if (fk_tlog_prove_inclusion(i++ % (TREE - 1), TREE - 1, node_fn, NULL,
                                                       proof, FK_TLOG_MAX_PROOF, &np))
                               die("prove inclusion"));
    printf("prove inclusion (size %d):    %10.0f/s\n", TREE - 1, pi);
    if (fk_tlog_range_root(0, TREE - 1, node_fn, NULL, root))
        die("range root");
    double vi = RATE(secs, {
        uint64_t x = i++ % (TREE - 1);
        if (fk_tlog_prove_inclusion(x, TREE - 1, node_fn, NULL, proof, FK_TLOG_MAX_PROOF, &np) ||
            fk_tlog_verify_inclusion(x, TREE - 1, nodes[0][x], (const uint8_t(*)[HL])proof, np,
                                     root))
            die("verify inclusion");
    });
    printf("prove + verify inclusion:        %10.0f/s\n", vi);

    memset(&c, 0, sizeof c);
    memcpy(c.origin, "bench.example/log", 18);
    c.origin_len = 17;
    c.size = TREE - 1;
    memcpy(c.root, root, HL);
    double cs = RATE(secs, if (fk_checkpoint_sign(&c, &signer, cp, sizeof cp, &cp_len))
                               die("checkpoint sign"));
    printf("checkpoint sign (Ed25519):       %10.0f/s\n", cs);
    fk_checkpoint oc;
    double co = RATE(secs, if (fk_checkpoint_open(&oc, NULL, cp, cp_len, "bench.example/log", &v,
                                                  1, NULL))
                               die("checkpoint open"));
    printf("checkpoint open (verify):        %10.0f/s\n", co);

    fk_tlog_prove_inclusion(5, TREE - 1, node_fn, NULL, proof, FK_TLOG_MAX_PROOF, &np);
    double re = RATE(secs, if (fk_tlog_proof_encode(entry, 600, 5, (const uint8_t(*)[HL])proof, np,
                                                    cp, cp_len, receipt, sizeof receipt, &len))
                               die("receipt encode"));
    printf("tlog-proof encode (%zu hashes):  %10.0f/s\n", np, re);
    double re0 = RATE(secs, if (fk_tlog_proof_encode(NULL, 0, 5, (const uint8_t(*)[HL])proof, np,
                                                     cp, cp_len, receipt, sizeof receipt, &len))
                                die("receipt encode"));
    printf("  the same without extra data:   %10.0f/s\n", re0);
    fk_note note;
    double npar = RATE(secs, if (fk_note_parse(&note, cp, cp_len)) die("note parse"));
    printf("  signed checkpoint note parse:  %10.0f/s\n", npar);
    fk_tlog_proof_encode(entry, 600, 5, (const uint8_t(*)[HL])proof, np, cp, cp_len, receipt,
                         sizeof receipt, &len);
    fk_tlog_proof tp;
    double rp = RATE(secs, if (fk_tlog_proof_parse(&tp, receipt, len)) die("receipt parse"));
    printf("tlog-proof parse:                %10.0f/s\n", rp);

    /* Library CPU per append: leaf hash, ~2 node hashes (frontier + tiles),
     * a bundle append, a proof and a receipt (the log answers without extra
     * data); one signature per batch. */
    double per = 1 / leaf + 2 / nodeh + 1 / ba + 1 / pi + 1 / re0;
    for (unsigned b = 1; b <= 4096; b *= 16)
        printf("library ceiling, batches of %4u: %9.0f appends/s\n", b, 1 / (per + 1 / cs / b));
    fk_note_signer_wipe(&signer);
    for (unsigned l = 0; l <= 16; l++)
        free(nodes[l]);
    return 0;
}
