/*
 * ASCII armor (C2SP age, "ASCII armor"): the strict PEM of RFC 7468 section 3
 * with label "AGE ENCRYPTED FILE".  Accepted, and nothing else:
 *   - whitespace (SP, HT, CR, LF, VT, FF) before the begin line and after the
 *     end line, at most FKI_ARMOR_MAX_SPACE bytes each;
 *   - lines ending in LF or CRLF; the end line may lack its line ending;
 *   - body lines of padded, canonical base64, exactly 64 columns except the
 *     last, which is shorter (or also 64) and must be followed by the end
 *     line; no empty lines, no headers, no whitespace inside lines.
 * Decoding streams line by line, so memory does not depend on the file size.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "age/internal.h"

#define LINE_COLS 64  /* RFC 7468 strict: 64 base64 characters per line */
#define LINE_BYTES 48 /* bytes per full line */
/* The longest line we ever need to see whole: a body line or a marker plus
 * CRLF.  Anything longer is malformed, and we say so without buffering it. */
#define LINE_MAX_SEEN 72
#define TEXT_CAP (64 * 1024)

int fki_armor_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

enum { ST_START, ST_BODY, ST_FOOTER, ST_DONE };

struct fki_armor_rd {
    int fd;
    const uint8_t *mem, *pre;
    size_t memlen, npre;
    int in_eof, state;
    size_t tpos, tlen, dpos, dlen;
    uint8_t dec[LINE_BYTES];
    uint8_t text[TEXT_CAP];
};

fk_err fki_armor_rd_new(fki_armor_rd **out, int fd, const uint8_t *mem, size_t memlen,
                        const uint8_t *pre, size_t npre)
{
    fki_armor_rd *r = calloc(1, sizeof *r);
    if (!r)
        return FK_ERR_NOMEM;
    r->fd = fd;
    r->mem = mem;
    r->memlen = memlen;
    r->pre = pre;
    r->npre = npre;
    *out = r;
    return FK_OK;
}

void fki_armor_rd_free(fki_armor_rd *r)
{
    free(r);
}

/* Move unread text to the front and top up from pre, memory or the fd. */
static fk_err fill(fki_armor_rd *r)
{
    size_t room, k;
    if (r->in_eof)
        return FK_OK;
    if (r->tpos) {
        memmove(r->text, r->text + r->tpos, r->tlen - r->tpos);
        r->tlen -= r->tpos;
        r->tpos = 0;
    }
    room = TEXT_CAP - r->tlen;
    if (r->npre) {
        k = r->npre < room ? r->npre : room;
        memcpy(r->text + r->tlen, r->pre, k);
        r->pre += k;
        r->npre -= k;
        r->tlen += k;
        return FK_OK;
    }
    if (r->fd < 0) {
        k = r->memlen < room ? r->memlen : room;
        if (k)
            memcpy(r->text + r->tlen, r->mem, k);
        r->mem += k;
        r->memlen -= k;
        r->tlen += k;
        if (k == 0)
            r->in_eof = 1;
        return FK_OK;
    }
    fk_err err = fki_read_full(r->fd, r->text + r->tlen, room, &k);
    r->tlen += k;
    if (err == FK_OK && k < room)
        r->in_eof = 1;
    return err;
}

/* Ensure want bytes are buffered, or everything up to EOF. */
static fk_err need(fki_armor_rd *r, size_t want)
{
    while (r->tlen - r->tpos < want && !r->in_eof) {
        fk_err err = fill(r);
        if (err != FK_OK)
            return err;
    }
    return FK_OK;
}

/* Next line without its LF or CRLF.  *len = (size_t)-1 at EOF. */
static fk_err get_line(fki_armor_rd *r, const uint8_t **line, size_t *len)
{
    fk_err err = need(r, LINE_MAX_SEEN + 1);
    size_t avail, l;
    const uint8_t *nl;
    if (err != FK_OK)
        return err;
    avail = r->tlen - r->tpos;
    if (avail == 0) {
        *len = (size_t)-1;
        return FK_OK;
    }
    nl = memchr(r->text + r->tpos, '\n', avail < LINE_MAX_SEEN + 1 ? avail : LINE_MAX_SEEN + 1);
    if (!nl && avail > LINE_MAX_SEEN)
        return FK_ERR_ARMOR;
    l = nl ? (size_t)(nl - (r->text + r->tpos)) : avail;
    *line = r->text + r->tpos;
    r->tpos += l + (nl ? 1 : 0);
    if (nl && l && (*line)[l - 1] == '\r')
        l--;
    *len = l;
    return FK_OK;
}

static int is_marker(const uint8_t *line, size_t len, const char *m)
{
    return len == strlen(m) && memcmp(line, m, len) == 0;
}

/* After the end line: only whitespace, bounded, then EOF. */
static fk_err drain(fki_armor_rd *r)
{
    size_t seen = 0;
    for (;;) {
        fk_err err = need(r, 1);
        if (err != FK_OK)
            return err;
        if (r->tpos == r->tlen)
            break;
        while (r->tpos < r->tlen) {
            if (!fki_armor_space(r->text[r->tpos]) || ++seen > FKI_ARMOR_MAX_SPACE)
                return FK_ERR_ARMOR;
            r->tpos++;
        }
    }
    r->state = ST_DONE;
    return FK_OK;
}

static fk_err start(fki_armor_rd *r)
{
    size_t seen = 0, len;
    const uint8_t *line;
    fk_err err;
    for (;;) {
        if ((err = need(r, 1)) != FK_OK)
            return err;
        if (r->tpos == r->tlen || !fki_armor_space(r->text[r->tpos]))
            break;
        if (++seen > FKI_ARMOR_MAX_SPACE)
            return FK_ERR_ARMOR;
        r->tpos++;
    }
    if ((err = get_line(r, &line, &len)) != FK_OK)
        return err;
    if (len == (size_t)-1 || !is_marker(line, len, FKI_ARMOR_BEGIN))
        return FK_ERR_ARMOR;
    r->state = ST_BODY;
    return FK_OK;
}

/* Armor carries only public bytes (the header and the ciphertext), so full
 * lines take this table-driven path: util's decoder is constant-time, for
 * keys, and about eight times slower.  Value + 1; 0 marks a non-alphabet
 * byte.  Short and padded lines go through the strict fk_b64_decode_padded. */
static const uint8_t b64v[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15,
    ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
    ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29,
    ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
    ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43,
    ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50,
    ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
    ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64
};

/* A full 64-column line of the base64 alphabet (no padding) into 48 bytes;
 * 0 if any character is outside the alphabet.  Every such line is canonical:
 * 64 characters carry exactly 48 bytes. */
static int decode_full_line(uint8_t out[LINE_BYTES], const uint8_t *line)
{
    unsigned bad = 0;
    for (size_t i = 0, o = 0; i < LINE_COLS; i += 4, o += 3) {
        unsigned a = b64v[line[i]], b = b64v[line[i + 1]], c = b64v[line[i + 2]],
                 d = b64v[line[i + 3]];
        bad |= !a | !b | !c | !d;
        uint32_t v = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
        out[o] = (uint8_t)(v >> 16);
        out[o + 1] = (uint8_t)(v >> 8);
        out[o + 2] = (uint8_t)v;
    }
    return !bad;
}

/* Decode the next body line into r->dec. */
static fk_err next_line(fki_armor_rd *r)
{
    const uint8_t *line;
    size_t len, got = 0;
    fk_err err = get_line(r, &line, &len);
    if (err != FK_OK)
        return err;
    if (len == (size_t)-1)
        return FK_ERR_ARMOR; /* no end line */
    if (is_marker(line, len, FKI_ARMOR_END))
        return drain(r);
    if (r->state == ST_FOOTER || len == 0 || len > LINE_COLS)
        return FK_ERR_ARMOR;
    if (len == LINE_COLS && line[LINE_COLS - 1] != '=') {
        if (!decode_full_line(r->dec, line))
            return FK_ERR_ARMOR;
        got = LINE_BYTES;
    } else if (fk_b64_decode_padded(r->dec, sizeof r->dec, &got, (const char *)line, len) !=
               FK_OK) {
        return FK_ERR_ARMOR;
    }
    r->dpos = 0;
    r->dlen = got;
    if (got < LINE_BYTES)
        r->state = ST_FOOTER; /* a short line must be the last */
    return FK_OK;
}

fk_err fki_armor_read(fki_armor_rd *r, uint8_t *buf, size_t n, size_t *got)
{
    size_t have = 0;
    fk_err err = FK_OK;
    if (r->state == ST_START && (err = start(r)) != FK_OK)
        return err;
    while (have < n) {
        if (r->dpos < r->dlen) {
            size_t k = r->dlen - r->dpos < n - have ? r->dlen - r->dpos : n - have;
            memcpy(buf + have, r->dec + r->dpos, k);
            r->dpos += k;
            have += k;
            continue;
        }
        if (r->state == ST_DONE || (err = next_line(r)) != FK_OK)
            break;
    }
    *got = have;
    return err;
}

/* ---- writer ---------------------------------------------------------------- */

struct fki_armor_wr {
    int fd;
    size_t nrem, olen;
    uint8_t rem[LINE_BYTES];
    uint8_t out[TEXT_CAP];
};

fk_err fki_armor_wr_new(fki_armor_wr **out, int fd)
{
    fki_armor_wr *w = calloc(1, sizeof *w);
    if (!w)
        return FK_ERR_NOMEM;
    w->fd = fd;
    memcpy(w->out, FKI_ARMOR_BEGIN "\n", sizeof FKI_ARMOR_BEGIN);
    w->olen = sizeof FKI_ARMOR_BEGIN;
    *out = w;
    return FK_OK;
}

void fki_armor_wr_free(fki_armor_wr *w)
{
    free(w);
}

/* Full lines of public bytes: table-driven, as decode_full_line. */
static void encode_full_line(char out[LINE_COLS], const uint8_t in[LINE_BYTES])
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0, o = 0; i < LINE_BYTES; i += 3, o += 4) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o] = alpha[v >> 18];
        out[o + 1] = alpha[(v >> 12) & 63];
        out[o + 2] = alpha[(v >> 6) & 63];
        out[o + 3] = alpha[v & 63];
    }
}

static fk_err put_line(fki_armor_wr *w, const uint8_t *in, size_t n)
{
    char line[LINE_COLS + 1];
    size_t l = LINE_COLS;
    if (n == LINE_BYTES)
        encode_full_line(line, in);
    else
        l = fk_b64_encode_padded(line, in, n);
    if (w->olen + l + 1 > sizeof w->out) {
        fk_err err = fki_write_all(w->fd, w->out, w->olen);
        if (err != FK_OK)
            return err;
        w->olen = 0;
    }
    memcpy(w->out + w->olen, line, l);
    w->olen += l;
    w->out[w->olen++] = '\n';
    return FK_OK;
}

fk_err fki_armor_write(fki_armor_wr *w, const uint8_t *buf, size_t n)
{
    fk_err err;
    if (w->nrem) {
        size_t k = LINE_BYTES - w->nrem < n ? LINE_BYTES - w->nrem : n;
        memcpy(w->rem + w->nrem, buf, k);
        w->nrem += k;
        buf += k;
        n -= k;
        if (w->nrem < LINE_BYTES)
            return FK_OK;
        if ((err = put_line(w, w->rem, LINE_BYTES)) != FK_OK)
            return err;
        w->nrem = 0;
    }
    for (; n >= LINE_BYTES; buf += LINE_BYTES, n -= LINE_BYTES)
        if ((err = put_line(w, buf, LINE_BYTES)) != FK_OK)
            return err;
    memcpy(w->rem, buf, n);
    w->nrem = n;
    return FK_OK;
}

fk_err fki_armor_wr_finish(fki_armor_wr *w)
{
    fk_err err;
    if (w->nrem && (err = put_line(w, w->rem, w->nrem)) != FK_OK)
        return err;
    w->nrem = 0;
    if (w->olen + sizeof FKI_ARMOR_END > sizeof w->out) {
        if ((err = fki_write_all(w->fd, w->out, w->olen)) != FK_OK)
            return err;
        w->olen = 0;
    }
    memcpy(w->out + w->olen, FKI_ARMOR_END "\n", sizeof FKI_ARMOR_END);
    w->olen += sizeof FKI_ARMOR_END;
    err = fki_write_all(w->fd, w->out, w->olen);
    w->olen = 0;
    return err;
}

/* ---- whole-buffer API -------------------------------------------------------- */

fk_err fk_armor_decode(uint8_t **out, size_t *outlen, const uint8_t *in, size_t inlen)
{
    fki_armor_rd *r;
    uint8_t *b;
    size_t cap = inlen / 4 * 3 + LINE_BYTES, have = 0, got = 0;
    fk_err err;

    if (!out || !outlen || (!in && inlen))
        abort();
    if ((err = fki_armor_rd_new(&r, -1, in, inlen, NULL, 0)) != FK_OK)
        return err;
    if (!(b = malloc(cap))) {
        fki_armor_rd_free(r);
        return FK_ERR_NOMEM;
    }
    do {
        err = fki_armor_read(r, b + have, cap - have, &got);
        have += got;
    } while (err == FK_OK && got && have < cap);
    if (err == FK_OK && r->state != ST_DONE)
        err = FK_ERR_ARMOR; /* cannot happen: output never exceeds 3/4 of input */
    fki_armor_rd_free(r);
    if (err != FK_OK) {
        free(b);
        return err;
    }
    *out = b;
    *outlen = have;
    return FK_OK;
}

fk_err fk_armor_encode(char **out, size_t *outlen, const uint8_t *in, size_t inlen)
{
    size_t lines = (inlen + LINE_BYTES - 1) / LINE_BYTES;
    size_t len = sizeof FKI_ARMOR_BEGIN + fk_b64_enc_len_padded(inlen) + lines +
                 sizeof FKI_ARMOR_END, o;
    char *b;

    if (!out || !outlen || (!in && inlen))
        abort();
    if (!(b = malloc(len + 1)))
        return FK_ERR_NOMEM;
    memcpy(b, FKI_ARMOR_BEGIN "\n", sizeof FKI_ARMOR_BEGIN);
    o = sizeof FKI_ARMOR_BEGIN;
    for (size_t off = 0; off < inlen; off += LINE_BYTES) {
        size_t k = inlen - off < LINE_BYTES ? inlen - off : LINE_BYTES;
        o += fk_b64_encode_padded(b + o, in + off, k);
        b[o++] = '\n';
    }
    memcpy(b + o, FKI_ARMOR_END "\n", sizeof FKI_ARMOR_END);
    o += sizeof FKI_ARMOR_END;
    b[o] = '\0';
    *out = b;
    *outlen = o;
    return FK_OK;
}
