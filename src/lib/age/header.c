/*
 * The age v1 header (C2SP age, "Header"): stanzas, strict parsing, encoding,
 * and the HMAC-SHA-256 header MAC.
 */
#include <stdlib.h>
#include <string.h>

#include "age/internal.h"

#define V1_LINE "age-encryption.org/v1"
#define V1_LINE_LEN (sizeof V1_LINE - 1)
#define B64_LINE_COLS 64   /* body lines wrap at 64 columns */
#define B64_LINE_BYTES 48  /* bytes a full body line carries */
#define MAC_B64_LEN 43     /* unpadded base64 of the 32-byte MAC */
#define MAC_LINE_LEN (4 + MAC_B64_LEN) /* "--- " + MAC */

int fki_arg_valid(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

fk_err fki_arg_b64(uint8_t *out, size_t n, const char *arg)
{
    uint8_t tmp[64];
    size_t got = 0, len = strlen(arg);
    fk_err err;
    if (n > sizeof tmp || len != fk_b64_enc_len(n))
        return FK_ERR_HEADER;
    err = fk_b64_decode(tmp, sizeof tmp, &got, arg, len);
    if (err != FK_OK || got != n) {
        fk_wipe(tmp, sizeof tmp);
        return FK_ERR_HEADER;
    }
    memcpy(out, tmp, n);
    fk_wipe(tmp, sizeof tmp);
    return FK_OK;
}

void fk_stanza_clear(fk_stanza *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nargs; i++)
        free(s->args ? s->args[i] : NULL);
    free(s->args);
    fk_wipe(s->body, s->body_len);
    free(s->body);
    memset(s, 0, sizeof *s);
}

fk_err fk_stanza_init(fk_stanza *s, const char *const *args, size_t nargs, const uint8_t *body,
                      size_t body_len)
{
    fk_stanza t = {0};
    if (!s || (nargs && !args) || (body_len && !body))
        abort();
    if (nargs == 0)
        return FK_ERR_INVALID;
    for (size_t i = 0; i < nargs; i++)
        if (!args[i] || !fki_arg_valid(args[i]))
            return FK_ERR_INVALID;
    if (!(t.args = calloc(nargs, sizeof *t.args)) || !(t.body = malloc(body_len ? body_len : 1)))
        goto nomem;
    for (; t.nargs < nargs; t.nargs++)
        if (!(t.args[t.nargs] = strdup(args[t.nargs])))
            goto nomem;
    if (body_len)
        memcpy(t.body, body, body_len);
    t.body_len = body_len;
    *s = t;
    return FK_OK;
nomem:
    fk_stanza_clear(&t);
    return FK_ERR_NOMEM;
}

void fk_header_clear(fk_header *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->nstanzas; i++)
        fk_stanza_clear(&h->stanzas[i]);
    free(h->stanzas);
    free(h->mac_input);
    memset(h, 0, sizeof *h);
}

/* ---- parsing ------------------------------------------------------------ */

static int is_b64(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

static int all_b64(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_b64(p[i]))
            return 0;
    return 1;
}

/* Length of the line at pos (without its LF), or -1 if no LF before end. */
static long line_len(const uint8_t *buf, size_t end, size_t pos)
{
    const uint8_t *nl = memchr(buf + pos, '\n', end - pos);
    return nl ? (long)(nl - (buf + pos)) : -1;
}

/* Outcome of a check on a line that has not ended yet: malformed already,
 * or possibly fine once more bytes come. */
#define MORE FK_ERR__COUNT

static fk_err partial_prefix(const uint8_t *p, size_t n, const char *want)
{
    size_t wl = strlen(want);
    return memcmp(p, want, n < wl ? n : wl) == 0 ? MORE : FK_ERR_HEADER;
}

static fk_err parse_args(fk_stanza *s, const uint8_t *line, size_t len)
{
    size_t n = 0, i, start;
    /* line is "-> " arg *(SP arg); count and check before copying. */
    for (i = 3, start = 3; i <= len; i++) {
        if (i == len || line[i] == ' ') {
            if (i == start)
                return FK_ERR_HEADER; /* empty argument, or no argument at all */
            n++;
            start = i + 1;
        } else if (line[i] < 0x21 || line[i] > 0x7e) {
            return FK_ERR_HEADER;
        }
    }
    if (!(s->args = calloc(n, sizeof *s->args)))
        return FK_ERR_NOMEM;
    for (i = 3, start = 3; i <= len; i++) {
        if (i == len || line[i] == ' ') {
            if (!(s->args[s->nargs] = strndup((const char *)line + start, i - start)))
                return FK_ERR_NOMEM;
            s->nargs++;
            start = i + 1;
        }
    }
    return FK_OK;
}

/* Parses one stanza at *pos (which starts "-> "). */
static fk_err parse_stanza(fk_stanza *s, const uint8_t *buf, size_t end, size_t *pos)
{
    size_t p = *pos, cap = 0;
    long ll = line_len(buf, end, p);
    fk_err err;

    if (ll < 0) {
        for (size_t i = p + 3; i < end; i++)
            if (buf[i] < 0x20 || buf[i] > 0x7e)
                return FK_ERR_HEADER;
        return MORE;
    }
    if ((err = parse_args(s, buf + p, (size_t)ll)) != FK_OK)
        return err;
    p += (size_t)ll + 1;
    for (;;) {
        uint8_t dec[B64_LINE_BYTES];
        size_t got = 0;
        ll = line_len(buf, end, p);
        if (ll < 0)
            return (end - p > B64_LINE_COLS || !all_b64(buf + p, end - p)) ? FK_ERR_HEADER : MORE;
        if (ll > B64_LINE_COLS)
            return FK_ERR_HEADER;
        if (fk_b64_decode(dec, sizeof dec, &got, (const char *)buf + p, (size_t)ll) != FK_OK)
            return FK_ERR_HEADER;
        if (s->body_len + got > cap) {
            size_t ncap = cap ? cap * 2 : 64;
            uint8_t *nb = malloc(ncap);
            if (!nb) {
                fk_wipe(dec, sizeof dec);
                return FK_ERR_NOMEM;
            }
            if (s->body_len)
                memcpy(nb, s->body, s->body_len);
            fk_wipe(s->body, s->body_len);
            free(s->body);
            s->body = nb;
            cap = ncap;
        }
        if (got)
            memcpy(s->body + s->body_len, dec, got);
        s->body_len += got;
        fk_wipe(dec, sizeof dec);
        p += (size_t)ll + 1;
        if (ll < B64_LINE_COLS)
            break; /* the short line, possibly empty, ends the body */
    }
    if (!s->body && !(s->body = malloc(1)))
        return FK_ERR_NOMEM;
    *pos = p;
    return FK_OK;
}

static fk_err parse(fk_header *h, const uint8_t *buf, size_t end, size_t *consumed)
{
    size_t pos = 0, cap = 0;
    long ll = line_len(buf, end, 0);

    if (ll < 0)
        return end > V1_LINE_LEN ? FK_ERR_HEADER : partial_prefix(buf, end, V1_LINE);
    if ((size_t)ll != V1_LINE_LEN || memcmp(buf, V1_LINE, V1_LINE_LEN) != 0)
        return FK_ERR_HEADER;
    pos = V1_LINE_LEN + 1;

    for (;;) {
        size_t avail = end - pos;
        if (avail < 3) {
            if (partial_prefix(buf + pos, avail, "-> ") == MORE ||
                partial_prefix(buf + pos, avail, "---") == MORE)
                return MORE;
            return FK_ERR_HEADER;
        }
        if (memcmp(buf + pos, "---", 3) == 0) {
            size_t got = 0;
            ll = line_len(buf, end, pos);
            if (ll < 0) {
                if (avail > MAC_LINE_LEN || (avail >= 4 && buf[pos + 3] != ' ') ||
                    (avail > 4 && !all_b64(buf + pos + 4, avail - 4)))
                    return FK_ERR_HEADER;
                return MORE;
            }
            if (ll != MAC_LINE_LEN || buf[pos + 3] != ' ' || h->nstanzas == 0)
                return FK_ERR_HEADER;
            if (fk_b64_decode(h->mac, sizeof h->mac, &got, (const char *)buf + pos + 4,
                              MAC_B64_LEN) != FK_OK ||
                got != FK_AGE_MAC_LEN)
                return FK_ERR_HEADER;
            if (!(h->mac_input = malloc(pos + 3)))
                return FK_ERR_NOMEM;
            memcpy(h->mac_input, buf, pos + 3);
            h->mac_input_len = pos + 3;
            *consumed = pos + MAC_LINE_LEN + 1;
            return FK_OK;
        }
        if (memcmp(buf + pos, "-> ", 3) != 0)
            return FK_ERR_HEADER;
        if (h->nstanzas == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            fk_stanza *ns = realloc(h->stanzas, ncap * sizeof *ns);
            if (!ns)
                return FK_ERR_NOMEM;
            h->stanzas = ns;
            cap = ncap;
        }
        memset(&h->stanzas[h->nstanzas], 0, sizeof *h->stanzas);
        h->nstanzas++;
        fk_err err = parse_stanza(&h->stanzas[h->nstanzas - 1], buf, end, &pos);
        if (err != FK_OK)
            return err;
    }
}

fk_err fk_header_parse(fk_header *h, const uint8_t *buf, size_t len, size_t *consumed)
{
    fk_header t = {0};
    size_t used = 0;
    size_t end = len < FK_AGE_MAX_HEADER_LEN ? len : FK_AGE_MAX_HEADER_LEN;
    fk_err err;

    if (!h || (!buf && len) || !consumed)
        abort();
    *consumed = 0;
    err = parse(&t, buf, end, &used);
    if (err == FK_OK) {
        *h = t;
        *consumed = used;
        return FK_OK;
    }
    fk_header_clear(&t);
    if (err == MORE)
        return len >= FK_AGE_MAX_HEADER_LEN ? FK_ERR_LIMIT : FK_ERR_INVALID;
    return err;
}

/* ---- MAC ----------------------------------------------------------------- */

static fk_err header_mac(uint8_t mac[FK_AGE_MAC_LEN], const uint8_t *input, size_t len,
                         const uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    uint8_t key[32];
    fk_err err = fki_hkdf_sha256(key, sizeof key, file_key, FK_AGE_FILE_KEY_LEN, NULL, 0, "header");
    if (err == FK_OK)
        err = fki_hmac_sha256(mac, key, sizeof key, input, len);
    fk_wipe(key, sizeof key);
    return err;
}

fk_err fk_header_verify_mac(const fk_header *h, const uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    uint8_t mac[FK_AGE_MAC_LEN];
    fk_err err;
    if (!h || !file_key || !h->mac_input)
        abort();
    err = header_mac(mac, h->mac_input, h->mac_input_len, file_key);
    if (err == FK_OK && !fk_ct_eq(mac, h->mac, sizeof mac))
        err = FK_ERR_HMAC;
    fk_wipe(mac, sizeof mac);
    return err;
}

/* ---- building and encoding -------------------------------------------- */

static size_t stanza_text_len(const fk_stanza *s)
{
    size_t n = 2; /* "->" */
    for (size_t i = 0; i < s->nargs; i++)
        n += 1 + strlen(s->args[i]);
    n += 1;                                                       /* LF */
    n += fk_b64_enc_len(s->body_len) + s->body_len / B64_LINE_BYTES + 1; /* lines + LFs */
    return n;
}

static size_t put_stanza(uint8_t *out, const fk_stanza *s)
{
    size_t o = 0, off = 0;
    char line[B64_LINE_COLS + 1];
    memcpy(out, "->", 2);
    o = 2;
    for (size_t i = 0; i < s->nargs; i++) {
        size_t l = strlen(s->args[i]);
        out[o++] = ' ';
        memcpy(out + o, s->args[i], l);
        o += l;
    }
    out[o++] = '\n';
    /* Full 48-byte lines, then one short (possibly empty) line. */
    for (;;) {
        size_t take = s->body_len - off < B64_LINE_BYTES ? s->body_len - off : B64_LINE_BYTES;
        size_t l = fk_b64_encode(line, s->body + off, take);
        memcpy(out + o, line, l);
        o += l;
        out[o++] = '\n';
        off += take;
        if (take < B64_LINE_BYTES)
            break;
    }
    return o;
}

fk_err fk_header_build(fk_header *h, const fk_stanza *stanzas, size_t n,
                       const uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    fk_header t = {0};
    size_t len = V1_LINE_LEN + 1 + 3, o;
    fk_err err;

    if (!h || (n && !stanzas) || !file_key)
        abort();
    if (n == 0)
        return FK_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        if (stanzas[i].nargs == 0)
            return FK_ERR_INVALID;
        for (size_t j = 0; j < stanzas[i].nargs; j++)
            if (!fki_arg_valid(stanzas[i].args[j]))
                return FK_ERR_INVALID;
        len += stanza_text_len(&stanzas[i]);
    }
    if (len + 1 + MAC_B64_LEN + 1 > FK_AGE_MAX_HEADER_LEN)
        return FK_ERR_LIMIT;
    if (!(t.stanzas = calloc(n, sizeof *t.stanzas)) || !(t.mac_input = malloc(len)))
        goto nomem;
    for (; t.nstanzas < n; t.nstanzas++) {
        const fk_stanza *s = &stanzas[t.nstanzas];
        if ((err = fk_stanza_init(&t.stanzas[t.nstanzas], (const char *const *)s->args, s->nargs,
                                  s->body, s->body_len)) != FK_OK) {
            fk_header_clear(&t);
            return err;
        }
    }
    memcpy(t.mac_input, V1_LINE "\n", V1_LINE_LEN + 1);
    o = V1_LINE_LEN + 1;
    for (size_t i = 0; i < n; i++)
        o += put_stanza(t.mac_input + o, &stanzas[i]);
    memcpy(t.mac_input + o, "---", 3);
    t.mac_input_len = o + 3;
    if ((err = header_mac(t.mac, t.mac_input, t.mac_input_len, file_key)) != FK_OK) {
        fk_header_clear(&t);
        return err;
    }
    *h = t;
    return FK_OK;
nomem:
    fk_header_clear(&t);
    return FK_ERR_NOMEM;
}

fk_err fk_header_encode(const fk_header *h, uint8_t **out, size_t *outlen)
{
    size_t len;
    uint8_t *b;
    if (!h || !out || !outlen || !h->mac_input)
        abort();
    len = h->mac_input_len + 1 + MAC_B64_LEN + 1;
    if (!(b = malloc(len + 1)))
        return FK_ERR_NOMEM;
    memcpy(b, h->mac_input, h->mac_input_len);
    b[h->mac_input_len] = ' ';
    fk_b64_encode((char *)b + h->mac_input_len + 1, h->mac, FK_AGE_MAC_LEN);
    b[len - 1] = '\n';
    *out = b;
    *outlen = len;
    return FK_OK;
}
