/*
 * Whole age files on file descriptors: header, recipients, payload.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "age/internal.h"

/* Bytes read to decide between armor and binary: the whitespace allowed
 * before armor plus the start of the begin line. */
#define PEEK_LEN (FKI_ARMOR_MAX_SPACE + 11)
#define HEADER_READ 65536 /* first header buffer; doubles up to the limit */

typedef struct input {
    fki_src src;
    fki_armor_rd *ar;
    uint8_t *hbuf;
    size_t hlen, hcap, consumed;
    int armored;
    off_t start; /* file offset of the first byte read, -1 if not seekable */
    uint8_t peek[PEEK_LEN];
} input;

static void input_close(input *in)
{
    fki_armor_rd_free(in->ar);
    if (in->hbuf) {
        fk_wipe(in->hbuf, in->hcap);
        free(in->hbuf);
    }
    free(in);
}

static int looks_armored(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && fki_armor_space(p[i]))
        i++;
    return n - i >= 10 && memcmp(p + i, "-----BEGIN", 10) == 0;
}

static fk_err input_open(input **out, int fd, int armor_mode)
{
    input *in = calloc(1, sizeof *in);
    size_t got = 0;
    fk_err err;

    if (!in)
        return FK_ERR_NOMEM;
    in->src.fd = fd;
    in->start = lseek(fd, 0, SEEK_CUR);
    in->hcap = HEADER_READ;
    if (!(in->hbuf = malloc(in->hcap))) {
        free(in);
        return FK_ERR_NOMEM;
    }
    if ((err = fki_read_full(fd, in->peek, armor_mode < 0 ? 0 : PEEK_LEN, &got)) != FK_OK) {
        input_close(in);
        return err;
    }
    if (armor_mode > 0 || (armor_mode == 0 && looks_armored(in->peek, got))) {
        if ((err = fki_armor_rd_new(&in->ar, fd, NULL, 0, in->peek, got)) != FK_OK) {
            input_close(in);
            return err;
        }
        in->src.armor = in->ar;
        in->armored = 1;
    } else {
        memcpy(in->hbuf, in->peek, got);
        in->hlen = got;
        in->src.eof = armor_mode >= 0 && got < PEEK_LEN; /* a short peek read hit EOF */
    }
    *out = in;
    return FK_OK;
}

/* Whether the bytes from `from` on could hold the end of a header. */
static int maybe_end(const uint8_t *b, size_t from, size_t to)
{
    from = from > 3 ? from - 3 : 0;
    for (size_t i = from; i + 4 <= to; i++)
        if (b[i] == '\n' && b[i + 1] == '-' && b[i + 2] == '-' && b[i + 3] == '-')
            return 1;
    return 0;
}

static fk_err read_header(input *in, fk_header *h)
{
    size_t prev = 0;
    int tried = 0;
    for (;;) {
        fk_err err;
        /* Re-parse only when the new bytes may finish the header, so a slow
         * pipe does not make this quadratic. */
        if (!tried || in->src.eof || in->hlen == in->hcap || maybe_end(in->hbuf, prev, in->hlen)) {
            tried = 1;
            err = fk_header_parse(h, in->hbuf, in->hlen, &in->consumed);
            if (err == FK_OK) {
                in->src.pend = in->hbuf + in->consumed;
                in->src.npend = in->hlen - in->consumed;
                return FK_OK;
            }
            if (err != FK_ERR_INVALID)
                return err;
            if (in->src.eof)
                return FK_ERR_HEADER; /* the file ends inside its header */
        }
        if (in->hlen == in->hcap) {
            size_t ncap = in->hcap * 2 > FK_AGE_MAX_HEADER_LEN ? FK_AGE_MAX_HEADER_LEN
                                                               : in->hcap * 2;
            uint8_t *nb;
            if (ncap <= in->hcap)
                return FK_ERR_LIMIT;
            if (!(nb = malloc(ncap)))
                return FK_ERR_NOMEM;
            memcpy(nb, in->hbuf, in->hlen);
            fk_wipe(in->hbuf, in->hcap);
            free(in->hbuf);
            in->hbuf = nb;
            in->hcap = ncap;
        }
        size_t got = 0;
        prev = in->hlen;
        if ((err = fki_src_read_some(&in->src, in->hbuf + in->hlen, in->hcap - in->hlen, &got)) !=
            FK_OK)
            return err;
        in->hlen += got;
    }
}

static fk_err unwrap(const fk_header *h, fk_identity *const *ids, size_t n,
                     uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    /* C2SP age: an scrypt stanza must be the only one, whoever decrypts. */
    for (size_t i = 0; i < h->nstanzas; i++)
        if (strcmp(h->stanzas[i].args[0], "scrypt") == 0 && h->nstanzas != 1)
            return FK_ERR_HEADER;
    for (size_t i = 0; i < n; i++) {
        fk_err err = ids[i]->ops->unwrap(ids[i], h, file_key);
        if (err != FK_ERR_NO_MATCH)
            return err;
    }
    return FK_ERR_NO_MATCH;
}

fk_err fk_age_decrypt_fd(int in_fd, int out_fd, fk_identity *const *ids, size_t n,
                         const fk_decrypt_opts *opts, fk_decrypt_info *info)
{
    static const fk_decrypt_opts defaults = {0};
    fk_decrypt_info inf = {0};
    fk_header h = {0};
    input *in = NULL;
    uint8_t fk[FK_AGE_FILE_KEY_LEN], nonce[FK_AGE_NONCE_LEN], key[FKI_PAYLOAD_KEY_LEN];
    size_t got = 0;
    fk_err err;

    if ((n && !ids) || in_fd < 0 || out_fd < 0)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!ids[i] || !ids[i]->ops || !ids[i]->ops->unwrap)
            abort();
    if (!opts)
        opts = &defaults;
    if ((err = input_open(&in, in_fd, opts->armor)) != FK_OK)
        goto out;
    inf.armored = in->armored;
    if ((err = read_header(in, &h)) != FK_OK)
        goto out;
    if ((err = unwrap(&h, ids, n, fk)) != FK_OK)
        goto out;
    if ((err = fk_header_verify_mac(&h, fk)) != FK_OK)
        goto out;
    if (opts->check && (err = opts->check(opts->check_ctx, &h, fk)) != FK_OK) {
        inf.check_err = err;
        goto out;
    }
    if ((err = fki_src_read_full(&in->src, nonce, sizeof nonce, &got)) != FK_OK)
        goto out;
    if (got != sizeof nonce) {
        err = FK_ERR_HEADER; /* no room for the nonce: the header's file is cut */
        goto out;
    }
    if (!in->armored && in->start >= 0)
        fki_src_positional(&in->src, (int64_t)in->start + (int64_t)in->consumed + FK_AGE_NONCE_LEN);
    if ((err = fki_payload_key(key, fk, nonce)) == FK_OK) {
        fki_sink sink = {.fd = out_fd};
        if (opts->writeback)
            fki_sink_writeback(&sink);
        err = fki_stream_decrypt(&in->src, &sink, key, opts->threads, &inf.plaintext_len);
    }
out:
    fk_wipe(fk, sizeof fk);
    fk_wipe(key, sizeof key);
    fk_header_clear(&h);
    if (in)
        input_close(in);
    if (info)
        *info = inf;
    return err;
}

fk_err fk_age_encrypt_fd(int in_fd, int out_fd, fk_recipient *const *rcpts, size_t n,
                         const fk_encrypt_opts *opts)
{
    static const fk_encrypt_opts defaults = {0};
    fk_stanza *st = NULL;
    size_t made = 0, hlen = 0;
    fk_header h = {0};
    uint8_t fk[FK_AGE_FILE_KEY_LEN], nonce[FK_AGE_NONCE_LEN], key[FKI_PAYLOAD_KEY_LEN];
    uint8_t *henc = NULL;
    fki_sink sink = {.fd = out_fd};
    fki_src src = {.fd = in_fd};
    fk_err err;

    if ((n && !rcpts) || in_fd < 0 || out_fd < 0)
        abort();
    if (!opts)
        opts = &defaults;
    if (n == 0)
        return FK_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        if (!rcpts[i] || !rcpts[i]->ops || !rcpts[i]->ops->wrap)
            abort();
        if (rcpts[i]->ops->alone && n != 1)
            return FK_ERR_INVALID;
    }
    if (!(st = calloc(n, sizeof *st)))
        return FK_ERR_NOMEM;
    fki_src_positional(&src, lseek(in_fd, 0, SEEK_CUR));
    if ((err = fk_random(fk, sizeof fk)) != FK_OK)
        goto out;
    for (; made < n; made++)
        if ((err = rcpts[made]->ops->wrap(rcpts[made], fk, &st[made])) != FK_OK)
            goto out;
    if ((err = fk_header_build(&h, st, n, fk)) != FK_OK ||
        (err = fk_header_encode(&h, &henc, &hlen)) != FK_OK ||
        (err = fk_random(nonce, sizeof nonce)) != FK_OK ||
        (err = fki_payload_key(key, fk, nonce)) != FK_OK)
        goto out;
    if (opts->armor && (err = fki_armor_wr_new(&sink.armor, out_fd)) != FK_OK)
        goto out;
    if (opts->writeback)
        fki_sink_writeback(&sink);
    if ((err = fki_sink_write(&sink, henc, hlen)) != FK_OK ||
        (err = fki_sink_write(&sink, nonce, sizeof nonce)) != FK_OK ||
        (err = fki_stream_encrypt(&src, &sink, key, opts->threads)) != FK_OK)
        goto out;
    if (sink.armor)
        err = fki_armor_wr_finish(sink.armor);
out:
    fk_wipe(fk, sizeof fk);
    fk_wipe(key, sizeof key);
    for (size_t i = 0; i < made; i++)
        fk_stanza_clear(&st[i]);
    free(st);
    fk_header_clear(&h);
    free(henc);
    fki_armor_wr_free(sink.armor);
    return err;
}

fk_err fk_age_read_header_fd(int in_fd, fk_header *h, int *armored, uint64_t *payload_len)
{
    input *in = NULL;
    fk_header t = {0};
    off_t start = lseek(in_fd, 0, SEEK_CUR);
    struct stat sb;
    fk_err err;

    if (!h || in_fd < 0)
        abort();
    if ((err = input_open(&in, in_fd, 0)) != FK_OK)
        return err;
    if ((err = read_header(in, &t)) != FK_OK) {
        input_close(in);
        return err;
    }
    if (payload_len) {
        *payload_len = UINT64_MAX;
        if (!in->armored && start >= 0 && fstat(in_fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
            (uint64_t)sb.st_size >= (uint64_t)start + in->consumed) {
            *payload_len = (uint64_t)sb.st_size - (uint64_t)start - in->consumed;
        } else {
            /* Not seekable, or armored: count what follows, in bounded memory. */
            uint8_t *buf = malloc(HEADER_READ);
            uint64_t total = 0;
            size_t got = 0;
            fk_err rerr = buf ? FK_OK : FK_ERR_NOMEM;
            while (rerr == FK_OK &&
                   (rerr = fki_src_read_full(&in->src, buf, HEADER_READ, &got)) == FK_OK) {
                total += got;
                if (got < HEADER_READ)
                    break;
            }
            free(buf);
            if (rerr == FK_OK)
                *payload_len = total;
        }
    }
    if (armored)
        *armored = in->armored;
    input_close(in);
    *h = t;
    return FK_OK;
}
