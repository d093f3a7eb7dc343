/* Test helper for the witness scripts.
 *   witness_tool body OLD NEW DIR    tlog-witness add-checkpoint body for the
 *                                    Tessera log in DIR: "old OLD", the
 *                                    consistency proof OLD -> NEW from its
 *                                    level-0 tile, "", DIR/checkpoint.NEW
 *   witness_tool count FILE LOGVKEY [WVKEY...]
 *                                    verify the signed checkpoint in FILE with
 *                                    the log key; print how many of the
 *                                    witness keys cosigned it validly
 *   witness_tool cosign KEYFILE TIME < TEXT
 *                                    a cosignature/v1 line by the witness key
 *                                    in KEYFILE over TEXT taken as is (no
 *                                    checkpoint parsing: a misbehaving
 *                                    witness for the tests) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

#define HL FK_TLOG_HASH_LEN

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    static char buf[1 << 17];
    if (!f)
        return NULL;
    *len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[*len] = 0;
    return buf;
}

static uint8_t leaves[256][HL];

static fk_err node(void *ctx, unsigned level, uint64_t index, uint8_t out[HL])
{
    (void)ctx;
    uint64_t w = (uint64_t)1 << level;
    return fk_tlog_root(out, (const uint8_t(*)[HL])leaves[index * w], w);
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "body")) {
        unsigned long old = strtoul(argv[2], NULL, 10), n = strtoul(argv[3], NULL, 10);
        char path[1024];
        size_t len;
        snprintf(path, sizeof path, "%s/tile/0/000.p/%lu", argv[4], n);
        char *t = n ? slurp(path, &len) : NULL;
        if (n && (!t || len != n * HL))
            return 1;
        if (n)
            memcpy(leaves, t, len);
        uint8_t proof[FK_TLOG_MAX_PROOF][HL];
        size_t np = 0;
        if (old && old <= n &&
            fk_tlog_prove_consistency(old, n, node, NULL, proof, FK_TLOG_MAX_PROOF, &np))
            return 1;
        printf("old %lu\n", old);
        for (size_t i = 0; i < np; i++) {
            char b[64];
            b[fk_b64_encode_padded(b, proof[i], HL)] = 0;
            printf("%s\n", b);
        }
        printf("\n");
        snprintf(path, sizeof path, "%s/checkpoint.%lu", argv[4], n);
        char *cp = slurp(path, &len);
        if (!cp)
            return 1;
        fwrite(cp, 1, len, stdout);
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "count")) {
        size_t len;
        char *buf = slurp(argv[2], &len);
        fk_note n;
        fk_note_verifier v[FK_NOTE_MAX_VERIFIERS];
        uint64_t ok = 0;
        int nv = argc - 3;
        if (!buf || fk_note_parse(&n, buf, len) || nv > FK_NOTE_MAX_VERIFIERS)
            return 1;
        for (int i = 0; i < nv; i++)
            if (fk_note_verifier_parse(&v[i], argv[3 + i], strlen(argv[3 + i])))
                return 1;
        if (fk_note_verify(&n, v, (size_t)nv, &ok) || !(ok & 1))
            return 1; /* a bad line from a known key, or no log signature */
        int count = 0;
        for (int i = 1; i < nv; i++) {
            uint64_t ts;
            if (ok >> i & 1) {
                if (fk_note_cosig_time(&n, &v[i], &ts) || ts == 0)
                    return 1;
                count++;
            }
        }
        printf("%d\n", count);
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "cosign")) {
        static char key[FK_NOTE_KEY_TEXT_MAX + 2], msg[1 << 17];
        FILE *f = fopen(argv[2], "rb");
        size_t kl = f ? fread(key, 1, sizeof key - 1, f) : 0;
        if (f)
            fclose(f);
        if (kl && key[kl - 1] == '\n')
            kl--;
        fk_cosigner c;
        fk_note_signer s;
        uint64_t ts = strtoull(argv[3], NULL, 10);
        if (!kl || fk_cosigner_parse(&c, key, kl) ||
            fk_note_signer_from_seed(&s, c.name, c.name_len, c.seed))
            return 1;
        size_t ml = (size_t)snprintf(msg, sizeof msg, "cosignature/v1\ntime %llu\n",
                                     (unsigned long long)ts);
        ml += fread(msg + ml, 1, sizeof msg - ml, stdin);
        uint8_t raw[76];
        char b[128];
        for (int i = 0; i < 4; i++)
            raw[i] = (uint8_t)(c.key_id >> (24 - 8 * i));
        for (int i = 0; i < 8; i++)
            raw[4 + i] = (uint8_t)(ts >> (56 - 8 * i));
        if (fk_note_sign_raw(&s, (const uint8_t *)msg, ml, raw + 12))
            return 1;
        b[fk_b64_encode_padded(b, raw, sizeof raw)] = 0;
        printf("\xe2\x80\x94 %s %s\n", c.name, b);
        fk_note_signer_wipe(&s);
        fk_cosigner_wipe(&c);
        return 0;
    }
    fprintf(stderr, "usage: witness_tool body OLD NEW DIR | count FILE LOGVKEY [WVKEY...] | "
                    "cosign KEYFILE TIME\n");
    return 2;
}
