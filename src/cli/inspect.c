/* fairkey inspect: what an age file's header says, without decrypting it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char synopsis[] = "inspect [INPUT]";
/* -h: the synopsis, then this. */
static const char help[] =
    "Print the header of the age file INPUT (default: standard input): its format,\n"
    "its stanzas and escrow authorities, the payload and plaintext sizes.  Nothing\n"
    "is decrypted and no key is needed.  See docs/cli.md.\n";

/* Stanza arguments longer than this are shown as their start and "...":
 * enough to tell keys apart, short enough for one line per stanza. */
#define INSPECT_ARG_SHOW 24
/* Bytes a sealed STREAM chunk adds to its plaintext (the Poly1305 tag). */
#define SEALED_CHUNK_LEN (FK_AGE_CHUNK_LEN + FK_AGE_TAG_LEN)

static void print_arg(const char *a)
{
    size_t n = strlen(a);
    if (n > INSPECT_ARG_SHOW)
        printf(" %.*s...", INSPECT_ARG_SHOW - 3, a);
    else
        printf(" %s", a);
}

static void describe_stanza(size_t idx, const fk_stanza *s)
{
    printf("  %zu. ", idx + 1);
    if (cli_escrow_describe_stanza(s, stdout))
        return;
    const char *type = s->args[0];
    if (!strcmp(type, "X25519"))
        printf("X25519 recipient:");
    else if (!strcmp(type, "scrypt"))
        printf("passphrase (scrypt%s%s):", s->nargs == 3 ? ", work factor 2^" : "",
               s->nargs == 3 ? s->args[2] : "");
    else
        printf("%s stanza:", type);
    printf(" args");
    for (size_t i = 1; i < s->nargs; i++)
        print_arg(s->args[i]);
    if (s->nargs == 1)
        printf(" (none)");
    printf(", body %zu bytes\n", s->body_len);
}

/* The plaintext length a payload of this size carries, or -1 if no valid
 * payload has that size.  Every chunk but the last is full; the last may be
 * empty only when it is the only one. */
static long long plaintext_len(uint64_t payload)
{
    if (payload < FK_AGE_NONCE_LEN + FK_AGE_TAG_LEN)
        return -1;
    uint64_t n = payload - FK_AGE_NONCE_LEN;
    uint64_t chunks = (n + SEALED_CHUNK_LEN - 1) / SEALED_CHUNK_LEN;
    uint64_t last = n - (chunks - 1) * SEALED_CHUNK_LEN;
    if (last < FK_AGE_TAG_LEN || (last == FK_AGE_TAG_LEN && chunks > 1))
        return -1;
    return (long long)(n - chunks * FK_AGE_TAG_LEN);
}

int cmd_inspect_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            printf("usage: fairkey %s\n\n%s", synopsis, help);
            return FK_EXIT_OK;
        }
        return cli_bad_option(c, argv, synopsis);
    }
    if (argc - optind > 1)
        return cli_bad_operand(argv[optind + 1], synopsis);
    const char *inpath = optind < argc ? argv[optind] : NULL;
    int fd = cli_open_in(inpath, 0);
    if (fd < 0)
        return FK_EXIT_FAIL;
    fk_header h;
    memset(&h, 0, sizeof(h));
    int armored = 0;
    uint64_t payload = UINT64_MAX;
    fk_err e = fk_age_read_header_fd(fd, &h, &armored, &payload);
    cli_close_in(fd);
    if (e != FK_OK) {
        cli_err("%s", cli_describe_err(e));
        return FK_EXIT_FAIL;
    }
    /* The header ends with " <43 base64 chars of the MAC>\n" after "---". */
    size_t header_len = h.mac_input_len + 1 + fk_b64_enc_len(FK_AGE_MAC_LEN) + 1;
    printf("format: age-encryption.org/v1 (%s)\n", armored ? "ASCII armored" : "binary");
    printf("header: %zu bytes, %zu stanza%s\n", header_len, h.nstanzas,
           h.nstanzas == 1 ? "" : "s");
    for (size_t i = 0; i < h.nstanzas; i++)
        describe_stanza(i, &h.stanzas[i]);
    if (payload == UINT64_MAX) {
        printf("payload: size unknown\n");
    } else {
        printf("payload: %llu bytes\n", (unsigned long long)payload);
        long long pt = plaintext_len(payload);
        if (pt < 0)
            printf("plaintext: none (no valid payload has this size: truncated or corrupted)\n");
        else
            printf("plaintext: %lld bytes (if the payload is intact)\n", pt);
    }
    fk_header_clear(&h);
    return FK_EXIT_OK;
}
