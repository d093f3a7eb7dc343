/*
 * Stanza framing for the age plugin protocol.  The grammar is the age v1
 * header's stanza (C2SP age, "ABNF definition of file header"):
 *
 *   stanza   = "-> " argument *(SP argument) LF body
 *   argument = 1*VCHAR
 *   body     = *(64base64char LF) end-line ; end-line has 0..63 chars
 *
 * Parsing is strict: any deviation (CR, double space, a long last line,
 * non-canonical base64) is IPC_BAD, as a client that speaks the protocol
 * never produces it.
 */
#include "ipc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

const char *ipc_status_str(ipc_status st)
{
    switch (st) {
    case IPC_OK: return "ok";
    case IPC_EOF: return "unexpected end of input";
    case IPC_BAD: return "malformed stanza";
    case IPC_LIMIT: return "stanza too large";
    case IPC_IO: return "I/O error";
    }
    return "unknown status";
}

static int is_vchar(int c)
{
    return c >= 0x21 && c <= 0x7e;
}

static int is_b64char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

/* Read one LF-terminated line (LF not stored, no NUL added).  at_start is set
 * when EOF before any byte is a clean end rather than a truncation. */
static ipc_status read_line(FILE *in, char *buf, size_t cap, size_t *len, int at_start)
{
    size_t n = 0;
    for (;;) {
        int c = getc(in);
        if (c == EOF) {
            if (ferror(in))
                return IPC_IO;
            return (at_start && n == 0) ? IPC_EOF : IPC_BAD;
        }
        if (c == '\n')
            break;
        if (n == cap)
            return IPC_LIMIT;
        buf[n++] = (char)c;
    }
    *len = n;
    return IPC_OK;
}

void ipc_stanza_clear(ipc_stanza *s)
{
    for (size_t i = 0; i < s->nargs; i++)
        free(s->args[i]);
    if (s->body) {
        fk_wipe(s->body, s->body_len);
        free(s->body);
    }
    memset(s, 0, sizeof(*s));
}

int ipc_is(const ipc_stanza *s, const char *cmd, size_t nargs)
{
    return s->nargs == nargs + 1 && strcmp(s->args[0], cmd) == 0;
}

static ipc_status parse_args(ipc_stanza *s, const char *line, size_t len)
{
    if (len < 4 || memcmp(line, "-> ", 3) != 0)
        return IPC_BAD;
    size_t i = 3;
    while (i < len) {
        size_t start = i;
        while (i < len && is_vchar((unsigned char)line[i]))
            i++;
        if (i == start)
            return IPC_BAD; /* empty argument, double space, or a non-VCHAR byte */
        if (i < len) {
            if (line[i] != ' ' || i + 1 == len)
                return IPC_BAD; /* bad separator or trailing space */
            /* the separator is skipped below */
        }
        if (s->nargs == IPC_MAX_ARGS)
            return IPC_LIMIT;
        char *a = strndup(line + start, i - start);
        if (!a)
            return IPC_IO;
        s->args[s->nargs++] = a;
        if (i < len)
            i++;
    }
    return IPC_OK;
}

static ipc_status parse_body(FILE *in, ipc_stanza *s, char *line)
{
    uint8_t *body = NULL;
    size_t blen = 0, cap = 0;
    ipc_status st;
    for (;;) {
        size_t len;
        st = read_line(in, line, IPC_BODY_COLUMNS, &len, 0);
        if (st == IPC_LIMIT)
            st = IPC_BAD; /* a body line longer than 64 columns is malformed */
        if (st != IPC_OK)
            goto fail;
        for (size_t i = 0; i < len; i++)
            if (!is_b64char((unsigned char)line[i])) {
                st = IPC_BAD;
                goto fail;
            }
        size_t add = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
        if (blen + add > IPC_MAX_BODY) {
            st = IPC_LIMIT;
            goto fail;
        }
        if (add) {
            if (blen + add > cap) {
                /* grow geometrically; copy by hand so no secret is left in a
                 * block realloc() would free unwiped */
                size_t ncap = cap ? cap * 2 : 64;
                while (ncap < blen + add)
                    ncap *= 2;
                uint8_t *nb = malloc(ncap);
                if (!nb) {
                    st = IPC_IO;
                    goto fail;
                }
                if (body) {
                    memcpy(nb, body, blen);
                    fk_wipe(body, blen);
                    free(body);
                }
                body = nb;
                cap = ncap;
            }
            size_t got;
            /* full lines are 64 chars = 48 bytes, so lines decode independently */
            if (fk_b64_decode(body + blen, add, &got, line, len) != FK_OK || got != add) {
                st = IPC_BAD;
                goto fail;
            }
            blen += got;
        } else if (len != 0) {
            st = IPC_BAD; /* a single base64 character encodes nothing */
            goto fail;
        }
        if (len < IPC_BODY_COLUMNS)
            break;
    }
    fk_wipe(line, IPC_BODY_COLUMNS);
    s->body = body;
    s->body_len = blen;
    return IPC_OK;
fail:
    fk_wipe(line, IPC_BODY_COLUMNS);
    if (body) {
        fk_wipe(body, blen);
        free(body);
    }
    return st;
}

/* The line scratch of ipc_read: static, as one stanza line may be 8 KiB. */
static char line_scratch[IPC_MAX_LINE];

ipc_status ipc_read(FILE *in, ipc_stanza *s)
{
    size_t len;
    memset(s, 0, sizeof(*s));
    ipc_status st = read_line(in, line_scratch, sizeof(line_scratch), &len, 1);
    if (st != IPC_OK)
        return st;
    st = parse_args(s, line_scratch, len);
    if (st == IPC_OK)
        st = parse_body(in, s, line_scratch);
    if (st != IPC_OK)
        ipc_stanza_clear(s);
    return st;
}

ipc_status ipc_write(FILE *out, const char *const *args, size_t nargs, const uint8_t *body,
                     size_t body_len)
{
    if (nargs == 0)
        return IPC_BAD;
    for (size_t i = 0; i < nargs; i++) {
        const char *a = args[i];
        if (!a || !*a)
            return IPC_BAD;
        for (; *a; a++)
            if (!is_vchar((unsigned char)*a))
                return IPC_BAD;
    }
    fputs("->", out);
    for (size_t i = 0; i < nargs; i++) {
        fputc(' ', out);
        fputs(args[i], out);
    }
    fputc('\n', out);
    /* 48 bytes -> one full 64-column line; the last line is always short
     * (empty when the body is a multiple of 48 bytes, or empty). */
    char enc[IPC_BODY_COLUMNS + 1];
    size_t off = 0;
    for (;;) {
        size_t n = body_len - off < 48 ? body_len - off : 48;
        size_t w = n ? fk_b64_encode(enc, body + off, n) : 0;
        enc[w] = '\n';
        fwrite(enc, 1, w + 1, out);
        off += n;
        if (n < 48)
            break;
    }
    fk_wipe(enc, sizeof(enc));
    if (fflush(out) != 0 || ferror(out))
        return IPC_IO;
    return IPC_OK;
}

ipc_status ipc_write_cmd(FILE *out, const char *cmd)
{
    return ipc_write(out, &cmd, 1, NULL, 0);
}

ipc_status ipc_stdio_own(ipc_stdio *io, FILE *in, FILE *out)
{
    io->in = in;
    io->out = out;
    if (setvbuf(in, io->inbuf, _IOFBF, sizeof(io->inbuf)) != 0 ||
        setvbuf(out, io->outbuf, _IOFBF, sizeof(io->outbuf)) != 0)
        return IPC_IO;
    return IPC_OK;
}

ipc_status ipc_stdio_wipe(ipc_stdio *io)
{
    ipc_status st = IPC_OK;
    if (io->out && (fflush(io->out) != 0 || ferror(io->out)))
        st = IPC_IO;
    fk_wipe(io->inbuf, sizeof(io->inbuf));
    fk_wipe(io->outbuf, sizeof(io->outbuf));
    /* parse_body wipes each body line it reads; this covers the rest. */
    fk_wipe(line_scratch, sizeof(line_scratch));
    return st;
}
