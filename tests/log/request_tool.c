/*
 * request_tool - signed recovery requests for the log's admission tests:
 *   request_tool AUTHORITY_FILE NAME COUNT OUTDIR [blind]
 * makes a requester key NAME, writes its public line to OUTDIR/NAME.pub and
 * COUNT requests for the authority, each signed and distinct, to
 * OUTDIR/NAME-<i>.req.  Each target is the escrow stanza of a fresh random
 * file key; with "blind", its E is swapped for the E of another stanza, so
 * the validity proof fails.  Built with libfairkey alone (fk_request_sign).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fairkey.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(FK_ESCROW_AUTHORITY_TEXT_MAX + 1);
    *len = buf ? fread(buf, 1, FK_ESCROW_AUTHORITY_TEXT_MAX, f) : 0;
    fclose(f);
    return buf;
}

static int write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(data, 1, len, f) == len;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

int main(int argc, char **argv)
{
    int blind = argc == 6 && !strcmp(argv[5], "blind");
    if (argc != 5 && !blind) {
        fprintf(stderr, "usage: request_tool AUTHORITY_FILE NAME COUNT OUTDIR [blind]\n");
        return 2;
    }
    size_t len;
    char *text = slurp(argv[1], &len);
    static fk_escrow_authority auth;
    if (!text || fk_escrow_authority_parse(&auth, text, len)) {
        fprintf(stderr, "request_tool: %s is not an authority file\n", argv[1]);
        return 1;
    }
    free(text);
    fk_requester_key k;
    if (fk_requester_key_generate(&k, argv[2])) {
        fprintf(stderr, "request_tool: bad requester name\n");
        return 1;
    }
    char path[4096], line[FK_REQUESTER_PUB_LINE_MAX], note[FK_REQUEST_NOTE_MAX + 1];
    /* A name may hold '/': files are named by its last part. */
    const char *base = strrchr(argv[2], '/') ? strrchr(argv[2], '/') + 1 : argv[2];
    snprintf(path, sizeof path, "%s/%s.pub", argv[4], base);
    if (fk_requester_key_public_line(line, sizeof line, &k) || write_file(path, line, strlen(line)))
        return 1;
    long n = atol(argv[3]);
    for (long i = 0; i < n; i++) {
        fk_request r;
        memset(&r, 0, sizeof r);
        fk_escrow_id_hex(r.authority, auth.id);
        uint8_t fk[FK_AGE_FILE_KEY_LEN];
        fk_stanza st;
        fk_escrow_stanza_info info, other;
        for (int j = 0; j < 2; j++) {
            if (fk_random(fk, sizeof fk) || fk_escrow_stanza_make(&st, auth.pk, fk) ||
                fk_escrow_stanza_parse(j ? &other : &info, &st)) {
                fprintf(stderr, "request_tool: cannot make a stanza\n");
                return 1;
            }
            fk_stanza_clear(&st);
        }
        fk_request_target_set(&r, &info);
        if (blind)
            memcpy(r.target, other.e, sizeof r.target);
        memset(r.warrant, 0x42, sizeof r.warrant);
        snprintf(r.reason, sizeof r.reason, "admission test %ld", i);
        r.time = (int64_t)time(NULL);
        size_t nl;
        if (fk_request_sign(note, sizeof note, &nl, &r, &k)) {
            fprintf(stderr, "request_tool: cannot sign\n");
            return 1;
        }
        snprintf(path, sizeof path, "%s/%s-%ld.req", argv[4], base, i);
        if (write_file(path, note, nl))
            return 1;
    }
    fk_requester_key_wipe(&k);
    return 0;
}
