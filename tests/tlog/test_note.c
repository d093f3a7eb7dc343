/* C2SP signed-note and tlog-checkpoint: the Tessera log's 16 signed
 * checkpoints (verify and re-sign), Sunlight's cosigned checkpoints, the
 * spec's example, and the format's edges and limits. */
#include "tlog_test.h"

#include <jansson.h>

#define TESSERA MERKLE_DIR "/tessera-posix-log"
#define SUNLIGHT MERKLE_DIR "/sunlight-cosignature-v1"
#define SPECS FK_TESTDATA "/c2sp-specs"
#define HL FK_TLOG_HASH_LEN

/* Published in merkle/README.md (upstream's public test key). */
static const char TESSERA_VKEY[] =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
static const char TESSERA_SKEY[] =
    "PRIVATE+KEY+example.com/log/testdata+33d7b496+AeymY/SZAX0jZcJ8enZ5FY1Dz+wTML2yWSkK+9DSF3eg";
static const char TESSERA_ORIGIN[] = "example.com/log/testdata";
static const char *const TESSERA_ENTRIES[15] = {
    "one", "two", "three", "four", "five", "six", "seven", "eit",
    "nain", "ten", "ileven", "twelf", "threeten", "fourten", "fivten",
};
#define COSIG_TIME 1767139200u /* merkle/README.md section 3 */

static void test_tessera_keys(void **state)
{
    fk_note_verifier v, v2;
    fk_note_signer s;
    char out[FK_NOTE_KEY_TEXT_MAX + 1];
    size_t len;
    (void)state;
    assert_int_equal(fk_note_verifier_parse(&v, TESSERA_VKEY, strlen(TESSERA_VKEY)), FK_OK);
    assert_int_equal(v.alg, FK_NOTE_ALG_ED25519);
    assert_int_equal(v.key_id, 0x33d7b496);
    assert_string_equal(v.name, TESSERA_ORIGIN);
    assert_int_equal(fk_note_verifier_encode(&v, out, sizeof out, &len), FK_OK);
    assert_int_equal(len, strlen(TESSERA_VKEY));
    assert_string_equal(out, TESSERA_VKEY);

    /* The seed derives the published public key and key ID. */
    assert_int_equal(fk_note_signer_parse(&s, TESSERA_SKEY, strlen(TESSERA_SKEY)), FK_OK);
    fk_note_signer_verifier(&s, &v2);
    assert_memory_equal(&v, &v2, sizeof v);
    assert_int_equal(fk_note_signer_encode(&s, out, sizeof out, &len), FK_OK);
    assert_string_equal(out, TESSERA_SKEY);
    assert_int_equal(fk_note_signer_encode(&s, out, len, &len), FK_ERR_LIMIT); /* no room for NUL */
    fk_note_signer_wipe(&s);
}

static void tessera_signer(fk_note_signer *s, fk_note_verifier *v)
{
    assert_int_equal(fk_note_signer_parse(s, TESSERA_SKEY, strlen(TESSERA_SKEY)), FK_OK);
    assert_int_equal(fk_note_verifier_parse(v, TESSERA_VKEY, strlen(TESSERA_VKEY)), FK_OK);
}

static void test_tessera_checkpoints(void **state)
{
    fk_note_verifier v;
    fk_note_signer s;
    uint8_t leaf[15][HL], root[HL];
    char signed_cp[1024];
    (void)state;
    tessera_signer(&s, &v);
    for (int i = 0; i < 15; i++)
        assert_int_equal(fk_tlog_leaf_hash(leaf[i], (const uint8_t *)TESSERA_ENTRIES[i],
                                           strlen(TESSERA_ENTRIES[i])), FK_OK);
    for (int n = 0; n <= 15; n++) {
        size_t len, slen;
        char *buf = read_allf(&len, TESSERA "/checkpoint.%d", n);
        fk_checkpoint c;
        fk_note note;
        uint64_t ok = 0;
        assert_int_equal(fk_checkpoint_open(&c, &note, buf, len, TESSERA_ORIGIN, &v, 1, &ok), FK_OK);
        assert_int_equal(ok, 1);
        assert_int_equal(c.size, (uint64_t)n);
        assert_null(c.ext);
        assert_int_equal(fk_tlog_root(root, (const uint8_t(*)[HL])leaf, (uint64_t)n), FK_OK);
        assert_memory_equal(c.root, root, HL);
        /* Ed25519 is deterministic: re-signing reproduces the file exactly. */
        assert_int_equal(fk_checkpoint_sign(&c, &s, signed_cp, sizeof signed_cp, &slen), FK_OK);
        assert_int_equal(slen, len);
        assert_memory_equal(signed_cp, buf, len);
        /* The wrong origin is refused. */
        assert_int_equal(fk_checkpoint_open(&c, NULL, buf, len, "example.com/log/other", &v, 1, NULL),
                         FK_ERR_INVALID);
        /* One flipped bit in the body or the signature is refused. */
        buf[len - 10] ^= 0x01;
        assert_int_not_equal(fk_checkpoint_open(&c, NULL, buf, len, NULL, &v, 1, NULL), FK_OK);
        buf[len - 10] ^= 0x01;
        buf[0] ^= 0x20;
        assert_int_equal(fk_checkpoint_open(&c, NULL, buf, len, NULL, &v, 1, NULL), FK_ERR_SIGNATURE);
        free(buf);
    }
    {
        size_t a, b;
        char *x = read_allf(&a, TESSERA "/checkpoint"), *y = read_allf(&b, TESSERA "/checkpoint.15");
        assert_int_equal(a, b);
        assert_memory_equal(x, y, a);
        free(x);
        free(y);
    }
    print_message("tessera: 16 checkpoints verified, roots recomputed, signatures reproduced byte for byte\n");
    fk_note_signer_wipe(&s);
}

static void load_vkey(fk_note_verifier *v, const char *json_path)
{
    json_error_t e;
    json_t *j = json_load_file(json_path, 0, &e);
    const char *k;
    if (!j)
        fail_msg("%s: %s", json_path, e.text);
    k = json_string_value(json_array_get(json_object_get(j, "verifier_keys"), 0));
    assert_non_null(k);
    assert_int_equal(fk_note_verifier_parse(v, k, strlen(k)), FK_OK);
    assert_int_equal(v->alg, FK_NOTE_ALG_COSIG_V1);
    json_decref(j);
}

static void test_sunlight_cosignatures(void **state)
{
    static const struct {
        const char *cp, *vkey, *origin;
        size_t nsigs;
    } cases[] = {
        { SUNLIGHT "/witness/000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706/checkpoint",
          SUNLIGHT "/witness/witness.v0.json", "rome2026h1.example.org", 2 },
        { SUNLIGHT "/witness/mirror/000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706/checkpoint",
          SUNLIGHT "/witness/mirror/mirror.v0.json", "rome2026h1.example.org", 1 },
        { SUNLIGHT "/witness2/88ad7a28caeb0b2aa890fdf0304c2fcaf59fca2ee140134ff8c1300bac493482/checkpoint",
          SUNLIGHT "/witness2/witness.v0.json", "milan2026h1.example.org", 1 },
    };
    fk_note_verifier w[3], tv;
    (void)state;
    assert_int_equal(fk_note_verifier_parse(&tv, TESSERA_VKEY, strlen(TESSERA_VKEY)), FK_OK);
    for (int i = 0; i < 3; i++)
        load_vkey(&w[i], cases[i].vkey);
    for (int i = 0; i < 3; i++) {
        size_t len;
        char *buf = read_allf(&len, "%s", cases[i].cp);
        fk_note n;
        fk_checkpoint c;
        uint64_t ok = 0, ts = 0;
        assert_int_equal(fk_note_parse(&n, buf, len), FK_OK);
        assert_int_equal(n.nsigs, cases[i].nsigs);
        /* All three witness keys offered: only this checkpoint's witness
         * matches a line; the rest (including the type 0x05 log signature
         * in the first file) are unknown and ignored. */
        assert_int_equal(fk_note_verify(&n, w, 3, &ok), FK_OK);
        assert_int_equal(ok, (uint64_t)1 << i);
        assert_int_equal(fk_note_cosig_time(&n, &w[i], &ts), FK_OK);
        assert_int_equal(ts, COSIG_TIME);
        assert_int_equal(fk_note_cosig_time(&n, &w[(i + 1) % 3], &ts), FK_ERR_NOT_FOUND);
        /* No known key at all: rejected. */
        assert_int_equal(fk_note_verify(&n, &tv, 1, NULL), FK_ERR_SIGNATURE);
        assert_int_equal(fk_checkpoint_parse(&c, n.text, n.text_len), FK_OK);
        assert_int_equal(c.size, 300);
        assert_int_equal(c.origin_len, strlen(cases[i].origin));
        assert_memory_equal(c.origin, cases[i].origin, c.origin_len);
        /* A changed body breaks the cosignature. */
        buf[c.origin_len + 3] = '1'; /* "300" -> "301" */
        assert_int_equal(fk_note_parse(&n, buf, len), FK_OK);
        assert_int_equal(fk_note_verify(&n, w, 3, NULL), FK_ERR_SIGNATURE);
        assert_int_equal(fk_note_cosig_time(&n, &w[i], &ts), FK_ERR_SIGNATURE);
        free(buf);
    }
    print_message("sunlight: 3 cosignature/v1 lines verified (time %u), type 0x05 line ignored\n",
                  COSIG_TIME);
}

/* The Ed25519 example in specs/signed-note.md, read from the spec itself. */
static void test_spec_examples(void **state)
{
    size_t len;
    char *spec = read_allf(&len, SPECS "/signed-note.md");
    const char *p = strstr(spec, "The following verifier key"), *k, *ke, *nb, *ne;
    fk_note_verifier v, other;
    fk_note n;
    uint64_t ok = 0;
    (void)state;
    assert_non_null(p);
    k = strstr(p, "example.com/foo+");
    assert_non_null(k);
    ke = strchr(k, '\n');
    nb = strstr(ke, "```\n");
    assert_non_null(nb);
    nb += 4;
    ne = strstr(nb, "```");
    assert_non_null(ne);
    assert_int_equal(fk_note_verifier_parse(&v, k, (size_t)(ke - k)), FK_OK);
    assert_int_equal(v.key_id, 0x530d903a);
    assert_int_equal(fk_note_parse(&n, nb, (size_t)(ne - nb)), FK_OK);
    assert_int_equal(n.text_len, strlen("This is an example message.\n"));
    assert_int_equal(fk_note_verify(&n, &v, 1, &ok), FK_OK);
    assert_int_equal(ok, 1);

    /* The quasimodo note at the top (no key published): it parses, the
     * empty line inside the text stays in the text, and an unrelated key
     * finds nothing to verify. */
    nb = strstr(spec, "```\n") + 4;
    ne = strstr(nb, "```");
    assert_int_equal(fk_note_parse(&n, nb, (size_t)(ne - nb)), FK_OK);
    assert_int_equal(n.nsigs, 1);
    assert_non_null(memmem(n.text, n.text_len, "sole:\n\ned", 9));
    assert_int_equal(n.sigs[0].name_len, strlen("quasimodo.example/salvatore"));
    assert_int_equal(fk_note_verifier_parse(&other, TESSERA_VKEY, strlen(TESSERA_VKEY)), FK_OK);
    assert_int_equal(fk_note_verify(&n, &other, 1, NULL), FK_ERR_SIGNATURE);
    free(spec);

    /* tlog-checkpoint.md's example (no key published): body parses. */
    spec = read_allf(&len, SPECS "/tlog-checkpoint.md");
    nb = strstr(spec, "```\n") + 4;
    ne = strstr(nb, "```");
    assert_int_equal(fk_note_parse(&n, nb, (size_t)(ne - nb)), FK_OK);
    {
        fk_checkpoint c;
        assert_int_equal(fk_checkpoint_parse(&c, n.text, n.text_len), FK_OK);
        assert_int_equal(c.size, 20852163);
        assert_string_equal(c.origin, "example.com/behind-the-sofa");
    }
    free(spec);
}

static void test_sign_roundtrip(void **state)
{
    fk_note_signer a, b;
    fk_note_verifier va, vb, vs[2];
    const fk_note_signer *both[2] = { &a, &b };
    static const char text[] = "hello\n\nworld with an empty line\n";
    char out[1024];
    size_t len;
    fk_note n;
    uint64_t ok;
    (void)state;
    assert_int_equal(fk_note_signer_generate(&a, "a.example/k", 11), FK_OK);
    assert_int_equal(fk_note_signer_generate(&b, "b.example/k", 11), FK_OK);
    fk_note_signer_verifier(&a, &va);
    fk_note_signer_verifier(&b, &vb);
    vs[0] = va;
    vs[1] = vb;
    assert_int_equal(fk_note_sign(text, strlen(text), both, 2, out, sizeof out, &len), FK_OK);
    assert_int_equal(strlen(out), len);
    assert_int_equal(fk_note_parse(&n, out, len), FK_OK);
    assert_int_equal(n.text_len, strlen(text));
    assert_int_equal(n.nsigs, 2);
    assert_int_equal(fk_note_verify(&n, vs, 2, &ok), FK_OK);
    assert_int_equal(ok, 3);
    assert_int_equal(fk_note_verify(&n, &vb, 1, &ok), FK_OK);
    assert_int_equal(ok, 1);

    /* A known key whose line fails rejects the note, even beside a good one. */
    {
        char bad[1024];
        memcpy(bad, out, len + 1);
        char *last = strrchr(bad, ' ') + 1; /* b's signature */
        last[10] = last[10] == 'A' ? 'B' : 'A';
        assert_int_equal(fk_note_parse(&n, bad, len), FK_OK);
        assert_int_equal(fk_note_verify(&n, vs, 2, NULL), FK_ERR_SIGNATURE);
        assert_int_equal(fk_note_verify(&n, &va, 1, NULL), FK_OK); /* b unknown: ignored */
    }
    /* Same name, other key ID (or same ID, other name): ignored. */
    {
        fk_note_verifier x = va;
        x.key_id ^= 1;
        assert_int_equal(fk_note_parse(&n, out, len), FK_OK);
        assert_int_equal(fk_note_verify(&n, &x, 1, NULL), FK_ERR_SIGNATURE);
        x = va;
        x.name[0] = 'z';
        assert_int_equal(fk_note_verify(&n, &x, 1, NULL), FK_ERR_SIGNATURE);
    }
    /* Text must end in a newline; no control characters. */
    assert_int_equal(fk_note_sign("x", 1, both, 1, out, sizeof out, &len), FK_ERR_INVALID);
    assert_int_equal(fk_note_sign("x\ty\n", 4, both, 1, out, sizeof out, &len), FK_ERR_INVALID);
    assert_int_equal(fk_note_sign("x\n", 2, both, 1, out, 20, &len), FK_ERR_LIMIT);
    fk_note_signer_wipe(&a);
    fk_note_signer_wipe(&b);
}

static void test_note_parse_edges(void **state)
{
    static const char *const bad[] = {
        "",
        "text\n",                                        /* no blank line */
        "text\n\n",                                      /* no signature line */
        "text\n\n\xe2\x80\x94 k AAAAAA==\n",             /* signature shorter than 5 bytes */
        "text\n\n\xe2\x80\x94 k AAAAAAAAAA==",           /* no final newline */
        "text\n\n- k AAAAAAAAAA==\n",                    /* not an em dash */
        "text\n\n\xe2\x80\x94  AAAAAAAAAA==\n",          /* empty name */
        "text\n\n\xe2\x80\x94 a+b AAAAAAAAAA==\n",       /* '+' in name */
        "text\n\n\xe2\x80\x94 a\xc2\xa0z AAAAAAAAAA==\n", /* Unicode space in name */
        "text\n\n\xe2\x80\x94 k AAAAAAAAAA=\n",          /* bad padding */
        "text\n\n\xe2\x80\x94 k AAAA=AAAAA==\n",         /* '=' inside */
        "text\n\n\xe2\x80\x94 k AAAAAAAAAA==\n\n",       /* blank line after signatures */
        "te\rxt\n\n\xe2\x80\x94 k AAAAAAAAAA==\n",       /* control character */
        "t\xc3\x28xt\n\n\xe2\x80\x94 k AAAAAAAAAA==\n",  /* invalid UTF-8 */
        "t\xc0\xafxt\n\n\xe2\x80\x94 k AAAAAAAAAA==\n",  /* overlong UTF-8 */
        "t\xed\xa0\x80xt\n\n\xe2\x80\x94 k AAAAAAAAAA==\n", /* surrogate */
    };
    fk_note n;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (fk_note_parse(&n, bad[i], strlen(bad[i])) == FK_OK)
            fail_msg("accepted bad note %zu", i);
    static const char good[] = "text\n\n\xe2\x80\x94 k AAAAAAAAAA==\n";
    assert_int_equal(fk_note_parse(&n, good, strlen(good)), FK_OK);
    assert_int_equal(n.sigs[0].key_id, 0);

    /* FK_NOTE_MAX_SIGS lines accepted, one more refused. */
    {
        char buf[4096];
        size_t pos = (size_t)sprintf(buf, "t\n\n");
        for (int i = 0; i < FK_NOTE_MAX_SIGS; i++)
            pos += (size_t)sprintf(buf + pos, "\xe2\x80\x94 k%d AAAAAAAAAA==\n", i);
        assert_int_equal(fk_note_parse(&n, buf, pos), FK_OK);
        assert_int_equal(n.nsigs, FK_NOTE_MAX_SIGS);
        pos += (size_t)sprintf(buf + pos, "\xe2\x80\x94 kx AAAAAAAAAA==\n");
        assert_int_equal(fk_note_parse(&n, buf, pos), FK_ERR_LIMIT);
    }
    /* FK_NOTE_MAX_SIZE bytes accepted, one more refused. */
    {
        static char big[FK_NOTE_MAX_SIZE + 2];
        static const char tail[] = "\n\n\xe2\x80\x94 k AAAAAAAAAA==\n";
        size_t tl = strlen(tail);
        memset(big, 'a', sizeof big);
        memcpy(big + FK_NOTE_MAX_SIZE - tl, tail, tl);
        assert_int_equal(fk_note_parse(&n, big, FK_NOTE_MAX_SIZE), FK_OK);
        memset(big, 'a', sizeof big);
        memcpy(big + FK_NOTE_MAX_SIZE + 1 - tl, tail, tl);
        assert_int_equal(fk_note_parse(&n, big, FK_NOTE_MAX_SIZE + 1), FK_ERR_LIMIT);
    }
    /* Too many verifiers. */
    {
        static fk_note_verifier many[FK_NOTE_MAX_VERIFIERS + 1];
        assert_int_equal(fk_note_parse(&n, good, strlen(good)), FK_OK);
        assert_int_equal(fk_note_verify(&n, many, FK_NOTE_MAX_VERIFIERS + 1, NULL), FK_ERR_LIMIT);
    }
}

static void test_key_edges(void **state)
{
    fk_note_verifier v;
    fk_note_signer s;
    char name[FK_NOTE_NAME_MAX + 2];
    uint8_t seed[32] = { 1 };
    (void)state;
    /* Wrong key ID, uppercase hex, short hex, other type, bad base64. */
    static const char *const bad[] = {
        "example.com/log/testdata+33d7b497+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx",
        "example.com/log/testdata+33D7B496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx",
        "example.com/log/testdata+33d7b49+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx",
        "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkS",
        "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx=",
        "+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx",
        "example.com/log/testdata",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_not_equal(fk_note_verifier_parse(&v, bad[i], strlen(bad[i])), FK_OK);
    /* Type 0x05 (RFC 6962 tree head signatures) is not ours. */
    {
        uint8_t raw[33] = { 0x05 };
        char k[128];
        int p = sprintf(k, "x+00000000+");
        fk_b64_encode_padded(k + p, raw, 33);
        assert_int_equal(fk_note_verifier_parse(&v, k, strlen(k)), FK_ERR_UNSUPPORTED);
    }
    /* Name limit: FK_NOTE_NAME_MAX accepted, one more refused. */
    memset(name, 'n', sizeof name);
    assert_int_equal(fk_note_signer_from_seed(&s, name, FK_NOTE_NAME_MAX, seed), FK_OK);
    {
        char out[FK_NOTE_KEY_TEXT_MAX + 1];
        size_t len;
        fk_note_verifier v2;
        fk_note_signer s2;
        fk_note_signer_verifier(&s, &v);
        assert_int_equal(fk_note_verifier_encode(&v, out, sizeof out, &len), FK_OK);
        assert_int_equal(fk_note_verifier_parse(&v2, out, len), FK_OK);
        assert_memory_equal(&v, &v2, sizeof v);
        assert_int_equal(fk_note_signer_encode(&s, out, sizeof out, &len), FK_OK);
        assert_int_equal(fk_note_signer_parse(&s2, out, len), FK_OK);
        assert_memory_equal(&s, &s2, sizeof s);
        fk_note_signer_wipe(&s2);
        fk_wipe(out, sizeof out);
    }
    assert_int_equal(fk_note_signer_from_seed(&s, name, FK_NOTE_NAME_MAX + 1, seed), FK_ERR_INVALID);
    assert_int_equal(fk_note_signer_from_seed(&s, "a b", 3, seed), FK_ERR_INVALID);
    assert_int_equal(fk_note_signer_from_seed(&s, "", 0, seed), FK_ERR_INVALID);
    /* A private key whose ID does not match is refused. */
    static const char wrong_id[] =
        "PRIVATE+KEY+example.com/log/testdata+33d7b497+AeymY/SZAX0jZcJ8enZ5FY1Dz+wTML2yWSkK+9DSF3eg";
    assert_int_equal(fk_note_signer_parse(&s, wrong_id, strlen(wrong_id)), FK_ERR_INVALID);
    fk_note_signer_wipe(&s);
}

static void test_checkpoint_edges(void **state)
{
    static const char root[] = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    static const char *const bad[] = {
        "o\n03\n%s\n",             /* leading zero */
        "o\n+3\n%s\n",             /* sign */
        "o\n\n%s\n",               /* empty size */
        "\n3\n%s\n",               /* empty origin */
        "o\n3\n%s",                /* no final newline */
        "o\n3\n",                  /* no root */
        "o\n3\n%s\n\n",            /* empty extension line */
        "o\n3\n%s\next\n\nmore\n", /* empty extension line inside */
        "o\n9223372036854775808\n%s\n", /* FK_TLOG_MAX_SIZE + 1 */
        "o\n3\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n", /* unpadded */
        "o\n3\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n", /* non-canonical bits */
        "o\n3\nAAAA\n",                                          /* short root */
        "o\t1\n3\n%s\n",                                         /* control character */
    };
    fk_checkpoint c;
    char buf[512], out[512];
    size_t len;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int n = snprintf(buf, sizeof buf, bad[i], root);
        if (fk_checkpoint_parse(&c, buf, (size_t)n) == FK_OK)
            fail_msg("accepted bad checkpoint %zu", i);
    }
    int n = snprintf(buf, sizeof buf, "o\n9223372036854775807\n%s\next one\next two\n", root);
    assert_int_equal(fk_checkpoint_parse(&c, buf, (size_t)n), FK_OK);
    assert_int_equal(c.size, FK_TLOG_MAX_SIZE);
    assert_int_equal(c.ext_len, strlen("ext one\next two\n"));
    assert_int_equal(fk_checkpoint_encode(&c, out, sizeof out, &len), FK_OK);
    assert_int_equal(len, (size_t)n);
    assert_memory_equal(out, buf, len);
    n = snprintf(buf, sizeof buf, "o\n0\n%s\n", root);
    assert_int_equal(fk_checkpoint_parse(&c, buf, (size_t)n), FK_OK);
    assert_int_equal(c.size, 0);
    /* Origin limit: FK_CHECKPOINT_ORIGIN_MAX accepted, one more refused. */
    memset(buf, 'o', sizeof buf);
    n = FK_CHECKPOINT_ORIGIN_MAX;
    n += sprintf(buf + n, "\n1\n%s\n", root);
    assert_int_equal(fk_checkpoint_parse(&c, buf, (size_t)n), FK_OK);
    memset(buf, 'o', sizeof buf);
    n = FK_CHECKPOINT_ORIGIN_MAX + 1;
    n += sprintf(buf + n, "\n1\n%s\n", root);
    assert_int_equal(fk_checkpoint_parse(&c, buf, (size_t)n), FK_ERR_LIMIT);
    /* Encoding refuses what parsing would refuse. */
    memset(&c, 0, sizeof c);
    assert_int_equal(fk_checkpoint_encode(&c, out, sizeof out, &len), FK_ERR_INVALID);
    memcpy(c.origin, "o", 2);
    c.origin_len = 1;
    c.size = FK_TLOG_MAX_SIZE + 1;
    assert_int_equal(fk_checkpoint_encode(&c, out, sizeof out, &len), FK_ERR_LIMIT);
    c.size = 1;
    c.ext = "a\n\nb\n";
    c.ext_len = 5;
    assert_int_equal(fk_checkpoint_encode(&c, out, sizeof out, &len), FK_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tessera_keys),
        cmocka_unit_test(test_tessera_checkpoints),
        cmocka_unit_test(test_sunlight_cosignatures),
        cmocka_unit_test(test_spec_examples),
        cmocka_unit_test(test_sign_roundtrip),
        cmocka_unit_test(test_note_parse_edges),
        cmocka_unit_test(test_key_edges),
        cmocka_unit_test(test_checkpoint_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
