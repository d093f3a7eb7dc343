/*
 * fairkey deposit - sealed source deposits (docs/protocol.md section 10).
 *
 *   fairkey deposit --authority FILE --key KEYFILE (-r RECIPIENT | -R PATH)...
 *                   --product NAME --version VERSION [--binary FILE]...
 *                   [--receipt RECEIPT] -o OUT.age ARCHIVE
 *   fairkey deposit verify --authority FILE --receipt RECEIPT
 *                   [--ciphertext FILE.age] [--archive FILE]
 *
 * deposit encrypts ARCHIVE to the vendor's recipients and the authority (an
 * ordinary age file with an escrow stanza), hashing the archive as it is
 * read and the ciphertext as it is written (one pass each, in threads beside
 * the encryption), signs the deposit record with the vendor key (a
 * requester key, 'fairkey request keygen') and adds it to the authority's
 * log.  OUT.age is renamed into place only once the record is logged, and
 * the receipt (a C2SP tlog-proof with the record as extra data) is kept.
 *
 * An inspection is an ordinary recovery request against OUT.age ('fairkey
 * request', 'fairkey recover'); verify checks the receipt (the vendor's
 * signature, the log's inclusion proof under the authority's policy) and
 * that a ciphertext and a recovered archive are the ones the record names.
 */
#define _GNU_SOURCE /* pipe2, F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent/recovery.h"
#include "cli.h"

#define USAGE                                                                              \
    "deposit --authority FILE --key KEYFILE (-r RECIPIENT | -R PATH)...\n"                  \
    "                --product NAME --version VERSION [--binary FILE]...\n"                 \
    "                [--receipt RECEIPT] -o OUT.age ARCHIVE\n"                              \
    "       fairkey deposit verify --authority FILE --receipt RECEIPT [--vendor PUBLIC]\n"  \
    "                [--ciphertext FILE.age] [--archive FILE]"

/* Pipe capacity between the hashing threads and the encryption: large
 * writes keep the three threads streaming (Linux caps unprivileged pipes at
 * 1 MiB by default). */
#define PIPE_BYTES (1u << 20)

/* One hashing stage: copy in to out, hashing and counting what passes. */
struct tee {
    int in, out;
    uint8_t md[32];
    uint64_t n;
    int rerr, werr; /* errno of a failed read, of a failed write */
    int err;        /* any other failure (memory, the digest) */
    int close_out; /* close out when done: the reader's end of file */
    pthread_t th;
};

static void *tee_run(void *arg)
{
    struct tee *t = arg;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint8_t *buf = malloc(CLI_HASH_BUF);
    unsigned hl;
    if (!c || !buf || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
        t->err = -1;
        goto out;
    }
    for (;;) {
        ssize_t r = read(t->in, buf, CLI_HASH_BUF);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            t->rerr = errno;
            goto out;
        }
        if (r == 0)
            break;
        if (EVP_DigestUpdate(c, buf, (size_t)r) != 1) {
            t->err = -1;
            goto out;
        }
        t->n += (uint64_t)r;
        if (cli_write_all(t->out, buf, (size_t)r)) {
            t->werr = errno ? errno : EIO;
            goto out;
        }
    }
    if (EVP_DigestFinal_ex(c, t->md, &hl) != 1)
        t->err = -1;
out:
    if (t->close_out)
        close(t->out);
    EVP_MD_CTX_free(c);
    if (buf)
        fk_wipe(buf, CLI_HASH_BUF); /* the archive stage's held plaintext */
    free(buf);
    return NULL;
}

/* Encrypt in_fd to out_fd through two hashing stages: the archive's
 * SHA-256 and size as encryption reads it, the ciphertext's as it is
 * written.  Exactly the bytes encrypted and written are hashed. */
static int encrypt_hashed(int in_fd, int out_fd, fk_recipient *const *r, size_t nr,
                          struct tee *ain, struct tee *cout)
{
    int pa[2] = {-1, -1}, pc[2] = {-1, -1}, rc = -1;
    fk_err e = FK_OK;
    if (pipe2(pa, O_CLOEXEC) || pipe2(pc, O_CLOEXEC)) {
        cli_err("cannot create a pipe: %s", strerror(errno));
        goto out;
    }
    (void)fcntl(pa[1], F_SETPIPE_SZ, PIPE_BYTES);
    (void)fcntl(pc[1], F_SETPIPE_SZ, PIPE_BYTES);
    *ain = (struct tee){.in = in_fd, .out = pa[1], .close_out = 1};
    *cout = (struct tee){.in = pc[0], .out = out_fd};
    if (pthread_create(&ain->th, NULL, tee_run, ain)) {
        cli_err("cannot start a thread");
        goto out;
    }
    pa[1] = -1; /* the archive stage closes it */
    if (pthread_create(&cout->th, NULL, tee_run, cout)) {
        cli_err("cannot start a thread");
        close(pa[0]); /* the reader stops on EPIPE */
        pa[0] = -1;
        pthread_join(ain->th, NULL);
        goto out;
    }
    fk_encrypt_opts opts = {.armor = 0, .threads = 0};
    e = fk_age_encrypt_fd(pa[0], pc[1], r, nr, &opts);
    /* The archive stage stops on EOF, or on EPIPE once its reader is gone;
     * the ciphertext stage on EOF once the write end is closed. */
    close(pa[0]);
    pa[0] = -1;
    close(pc[1]);
    pc[1] = -1;
    pthread_join(ain->th, NULL);
    pthread_join(cout->th, NULL);
    /* A read error ends the archive early, which the encryptor would take
     * for its end: it fails the deposit whatever the encryptor says.  A
     * write error of the archive stage is the encryptor having stopped. */
    if (ain->rerr)
        cli_err("cannot read the archive: %s; %s", strerror(ain->rerr), cli_io_hint(ain->rerr));
    else if (cout->werr)
        cli_err("cannot write the ciphertext: %s; %s", strerror(cout->werr),
                cli_io_hint(cout->werr));
    else if (e)
        cli_err("cannot encrypt the archive: %s", cli_describe_err(e));
    else if (ain->err || cout->err || ain->werr || cout->rerr)
        cli_err("cannot hash the archive or the ciphertext (out of memory?)");
    else
        rc = 0;
out:
    for (int i = 0; i < 2; i++) {
        if (pa[i] >= 0)
            close(pa[i]);
        if (pc[i] >= 0)
            close(pc[i]);
    }
    return rc;
}

/* A record token (product, version, binary name): 1..max bytes of 0x21..0x7E. */
static int token_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return n >= 1 && n <= max;
}

/* A binary's name in the record: its file name, without the folders. */
static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int deposit_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"authority", required_argument, 0, 'a'}, {"key", required_argument, 0, 'k'},
        {"recipient", required_argument, 0, 'r'}, {"recipients-file", required_argument, 0, 'R'},
        {"product", required_argument, 0, 'P'},   {"version", required_argument, 0, 'V'},
        {"binary", required_argument, 0, 'b'},    {"receipt", required_argument, 0, 'c'},
        {"output", required_argument, 0, 'o'},    {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *authp = NULL, *keyp = NULL, *product = NULL, *version = NULL, *out = NULL,
               *receiptp = NULL;
    const char **rsrc = calloc((size_t)argc, sizeof *rsrc), **bins = calloc((size_t)argc, sizeof *bins);
    int *rkind = calloc((size_t)argc, sizeof *rkind);
    size_t nr = 0, nb = 0;
    int c, rc = FK_EXIT_FAIL, in_fd = -1;
    fk_escrow_authority *auth = NULL;
    fk_requester_key k;
    cli_recipients rcpts = {0};
    fk_deposit *d = calloc(1, sizeof *d);
    char *note = malloc(FK_DEPOSIT_NOTE_MAX + 1), *receipt = NULL;
    static cli_authlog al;
    cli_out o = {.fd = -1, .is_stdout = 1};
    memset(&k, 0, sizeof k);
    if (!rsrc || !bins || !rkind || !d || !note) {
        cli_err("out of memory");
        goto done;
    }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:r:R:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': authp = optarg; break;
        case 'k': keyp = optarg; break;
        case 'r':
        case 'R':
            rkind[nr] = c;
            rsrc[nr++] = optarg;
            break;
        case 'P': product = optarg; break;
        case 'V': version = optarg; break;
        case 'b': bins[nb++] = optarg; break;
        case 'c': receiptp = optarg; break;
        case 'o': out = optarg; break;
        case 'h': rc = cli_usage(USAGE); goto done;
        default: rc = cli_bad_option(c, argv, USAGE); goto done;
        }
    }
    if (!authp || !keyp || !product || !version || !out || optind != argc - 1) {
        rc = cli_usage(USAGE);
        goto done;
    }
    if (!nr) {
        cli_err("no vendor recipient: give the vendor's own recipient with -r or -R (the "
                "authority alone could open the deposit only through a logged inspection)");
        rc = FK_EXIT_USAGE;
        goto done;
    }
    if (!strcmp(out, "-")) {
        cli_err("-o must name a file: the ciphertext is hashed and kept only once its record "
                "is logged");
        rc = FK_EXIT_USAGE;
        goto done;
    }
    if (nb > FK_DEPOSIT_BINARIES_MAX) {
        cli_err("at most %d --binary per deposit; hash the others into one manifest file and "
                "give that", FK_DEPOSIT_BINARIES_MAX);
        rc = FK_EXIT_USAGE;
        goto done;
    }
    size_t pl = strlen(product), vl = strlen(version);
    if (!token_ok(product, FK_DEPOSIT_TOKEN_MAX) || !token_ok(version, FK_DEPOSIT_TOKEN_MAX)) {
        cli_err("--product and --version must be 1 to %d printable ASCII characters without "
                "spaces",
                FK_DEPOSIT_TOKEN_MAX);
        rc = FK_EXIT_USAGE;
        goto done;
    }
    const char *archive = argv[optind];
    if (!(auth = rec_load_authority(authp)) || cli_authority_log(&al, auth, NULL, NULL, NULL) ||
        rec_load_requester_key(keyp, &k))
        goto done;
    fk_escrow_id_hex(d->authority, auth->id);
    memcpy(d->product, product, pl + 1);
    memcpy(d->version, version, vl + 1);
    for (size_t i = 0; i < nb; i++) {
        const char *bn = base_name(bins[i]);
        size_t bl = strlen(bn);
        if (!token_ok(bn, FK_DEPOSIT_BINARY_NAME_MAX)) {
            cli_err("--binary %s: its file name must be 1 to %d printable ASCII characters "
                    "without spaces; rename it", bins[i], FK_DEPOSIT_BINARY_NAME_MAX);
            goto done;
        }
        memcpy(d->binaries[i].name, bn, bl + 1);
        if (cli_sha256_file(bins[i], d->binaries[i].sha256, NULL))
            goto done;
    }
    d->nbinaries = nb;
    for (size_t i = 0; i < nr; i++)
        if ((rkind[i] == 'r' ? cli_recipients_add_string(&rcpts, rsrc[i])
                             : cli_recipients_add_file(&rcpts, rsrc[i])) < 0)
            goto done;
    fk_recipient *er = NULL;
    if (fk_escrow_recipient_new(&er, auth->pk) || cli_recipients_add(&rcpts, er) < 0) {
        cli_err("cannot use the authority's escrow recipient");
        goto done;
    }
    if ((in_fd = cli_open_in(archive, 0)) < 0 || cli_out_open(&o, out, 0) < 0)
        goto done;
    if (o.is_stdout) {
        cli_err("-o %s is not a regular file; the deposit's ciphertext must be a file", out);
        goto done;
    }
    struct tee ain, cout;
    if (encrypt_hashed(in_fd, o.fd, rcpts.v, rcpts.n, &ain, &cout))
        goto abort;
    memcpy(d->archive_sha256, ain.md, 32);
    d->archive_size = ain.n;
    memcpy(d->ciphertext_sha256, cout.md, 32);
    d->ciphertext_size = cout.n;
    /* The target is the stanza just written, read back from the file. */
    fk_escrow_stanza_info st;
    if (rec_find_stanza(o.tmp, auth, &st))
        goto abort;
    fk_deposit_target_set(d, &st);
    d->time = (int64_t)time(NULL);
    size_t note_len;
    fk_err err = fk_deposit_sign(note, FK_DEPOSIT_NOTE_MAX + 1, &note_len, d, &k);
    if (err) {
        cli_err("cannot build the deposit record (%s)", fk_strerror(err));
        goto abort;
    }
    uint64_t index, size;
    size_t rlen;
    if (cli_log_add(&al, "deposit record", note, note_len, (const uint8_t *)note, note_len,
                    &receipt, &rlen, &index, &size))
        goto abort;
    if (cli_out_commit(&o))
        goto abort;
    char defout[4096];
    if (!receiptp) {
        snprintf(defout, sizeof defout, "%s.deposit.tlog-proof", out);
        receiptp = defout;
    }
    if (cli_out_write_file(receiptp, 0, receipt, rlen))
        goto lost;
    char ah[65], ch[65], eh[65];
    uint8_t leaf[32];
    fk_request_entry_hash(leaf, note, note_len);
    fk_hex_encode(ah, d->archive_sha256, 32);
    fk_hex_encode(ch, d->ciphertext_sha256, 32);
    fk_hex_encode(eh, leaf, 32);
    printf("deposit logged at index %llu (tree size %llu)\nentry hash %s\n"
           "archive sha256 %s (%llu bytes)\nciphertext sha256 %s (%llu bytes)\n"
           "ciphertext %s\nreceipt %s\n",
           (unsigned long long)index, (unsigned long long)size, eh, ah,
           (unsigned long long)d->archive_size, ch, (unsigned long long)d->ciphertext_size, out,
           receiptp);
    rc = FK_EXIT_OK;
    goto done;
lost:
    cli_err("the deposit is logged at index %llu and %s is written, but its receipt was not "
            "saved; 'fairkey log verify' finds the entry", (unsigned long long)index, out);
    goto done;
abort:
    cli_out_abort(&o);
done:
    if (in_fd >= 0)
        cli_close_in(in_fd);
    cli_recipients_free(&rcpts);
    fk_requester_key_wipe(&k);
    free(auth);
    free(receipt);
    free(note);
    free(d);
    free(rsrc);
    free(bins);
    free(rkind);
    return rc;
}

static void print_record(const fk_deposit *d, uint64_t index)
{
    char h[65], tm[FK_REQUEST_TIME_STR_LEN + 1];
    fk_request_time_format(tm, d->time);
    printf("deposit at log index %llu: vendor %s, product %s, version %s, at %s\n",
           (unsigned long long)index, d->vendor, d->product, d->version, tm);
    fk_hex_encode(h, d->archive_sha256, 32);
    printf("archive sha256 %s (%llu bytes)\n", h, (unsigned long long)d->archive_size);
    fk_hex_encode(h, d->ciphertext_sha256, 32);
    printf("ciphertext sha256 %s (%llu bytes)\n", h, (unsigned long long)d->ciphertext_size);
    for (size_t i = 0; i < d->nbinaries; i++) {
        fk_hex_encode(h, d->binaries[i].sha256, 32);
        printf("binary %s %s\n", h, d->binaries[i].name);
    }
}

/* Does the file at path have this SHA-256 and size?  1 yes, 0 no, -1 unreadable. */
static int file_matches(const char *path, const uint8_t md[32], uint64_t size)
{
    uint8_t h[32];
    uint64_t n;
    if (cli_sha256_file(path, h, &n))
        return -1;
    return n == size && !memcmp(h, md, 32);
}

static int verify_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"authority", required_argument, 0, 'a'}, {"receipt", required_argument, 0, 'c'},
        {"ciphertext", required_argument, 0, 'C'}, {"archive", required_argument, 0, 'A'},
        {"vendor", required_argument, 0, 'V'},    {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *authp = NULL, *receiptp = NULL, *ctp = NULL, *archp = NULL, *vendorp = NULL;
    int c, rc = FK_EXIT_FAIL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': authp = optarg; break;
        case 'c': receiptp = optarg; break;
        case 'C': ctp = optarg; break;
        case 'A': archp = optarg; break;
        case 'V': vendorp = optarg; break;
        case 'h': return cli_usage(USAGE);
        default: return cli_bad_option(c, argv, USAGE);
        }
    }
    if (!authp || !receiptp || optind != argc)
        return cli_usage(USAGE);
    fk_escrow_authority *auth = NULL;
    static cli_authlog al;
    fk_tlog_proof *pr = malloc(sizeof *pr);
    fk_deposit *d = malloc(sizeof *d);
    char *note = malloc(FK_DEPOSIT_NOTE_MAX + 1), *text = NULL;
    size_t note_len, len;
    fk_err err;
    if (!pr || !d || !note) {
        cli_err("out of memory");
        goto out;
    }
    if (!(auth = rec_load_authority(authp)) || cli_authority_log(&al, auth, NULL, NULL, NULL) ||
        cli_read_file(receiptp, REC_RECEIPT_MAX, 0, &text, &len))
        goto out;
    if (fk_request_receipt_parse(pr, note, &note_len, text, len)) {
        cli_err("%s is not a deposit receipt (a tlog-proof carrying the record); use the file "
                "'fairkey deposit' wrote", receiptp);
        goto out;
    }
    if ((err = fk_deposit_verify(d, note, note_len))) {
        cli_err(err == FK_ERR_SIGNATURE
                    ? "%s: the deposit record's signature does not verify with the vendor key it "
                      "names: it was altered or forged; do not trust it"
                    : "%s does not carry a well-formed signed deposit record", receiptp);
        goto out;
    }
    char idhex[FK_ESCROW_ID_HEX_LEN];
    fk_escrow_id_hex(idhex, auth->id);
    if (strcmp(d->authority, idhex)) {
        cli_err("the deposit record is for another authority than %s; check --authority",
                authp);
        goto out;
    }
    uint8_t leaf[32];
    fk_request_entry_hash(leaf, note, note_len);
    if ((err = cli_log_proof_verify(&al, pr, leaf, NULL))) {
        cli_err(err == FK_ERR_POLICY
                    ? "%s: the log's checkpoint lacks the witness cosignatures the authority's "
                      "policy requires"
                    : "%s does not prove the record is in the authority's log (checkpoint "
                      "signature or inclusion proof); it is not a logged deposit",
                receiptp);
        goto out;
    }
    if (fk_deposit_target_verify(d, auth->pk)) {
        cli_err("the deposit record's target is not an escrow stanza of the authority; no agent "
                "would answer an inspection of it");
        goto out;
    }
    if (vendorp) {
        char vname[FK_REQUEST_NAME_MAX + 1];
        uint8_t vkey[32];
        if (cli_read_public_line(vendorp, "--vendor", vname, vkey))
            goto out;
        if (strcmp(vname, d->vendor) || memcmp(vkey, d->vendor_key, 32)) {
            cli_err("the deposit record is signed by %s, not by the --vendor key given; it is "
                    "not that vendor's deposit", d->vendor);
            goto out;
        }
    }
    print_record(d, pr->index);
    printf("record: signed by the vendor key it names%s; logged in the authority's log\n",
           vendorp ? " (the --vendor key)" : "");
    int bad = 0, m;
    if (ctp) {
        fk_escrow_stanza_info st;
        if ((m = file_matches(ctp, d->ciphertext_sha256, d->ciphertext_size)) < 0)
            goto out;
        if (!m) {
            printf("ciphertext %s: DOES NOT MATCH the logged SHA-256 and size\n", ctp);
            bad = 1;
        } else if (rec_find_stanza(ctp, auth, &st)) {
            goto out;
        } else if (memcmp(st.e, d->target, 32) || memcmp(st.ebar, d->target_ebar, 32) ||
                   memcmp(st.body, d->target_body, sizeof st.body)) {
            printf("ciphertext %s: its escrow stanza is not the record's target\n", ctp);
            bad = 1;
        } else {
            printf("ciphertext %s: matches the logged SHA-256 and size\n", ctp);
        }
    }
    if (archp) {
        if ((m = file_matches(archp, d->archive_sha256, d->archive_size)) < 0)
            goto out;
        printf("archive %s: %s the logged SHA-256 and size\n", archp,
               m ? "matches" : "DOES NOT MATCH");
        bad |= !m;
    }
    if (bad) {
        cli_err("the files are not the ones the deposit record names; keep them and the receipt "
                "as evidence");
        goto out;
    }
    rc = FK_EXIT_OK;
out:
    free(auth);
    free(pr);
    free(d);
    free(note);
    free(text);
    return rc;
}

int cmd_deposit_main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "verify"))
        return verify_main(argc - 1, argv + 1);
    return deposit_main(argc, argv);
}
