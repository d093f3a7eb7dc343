/*
 * http.c - strict HTTP/1.1 request heads and response heads (RFC 9112,
 * RFC 9110).  See http.h for what is accepted.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <fairkey.h>

#include "http.h"

/* tchar (RFC 9110 5.6.2). */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar, SP or HTAB (obs-text allowed, as RFC 9110 5.5 permits). */
static int is_value_char(unsigned char c)
{
    return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

static int name_is(const char *n, size_t len, const char *want)
{
    return strlen(want) == len && !strncasecmp(n, want, len);
}

/* A comma-separated list of tokens (Connection): sets *close / *ka. */
static void connection_tokens(const char *v, size_t len, int *close, int *ka)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (name_is(v + s, i - s, "close"))
            *close = 1;
        else if (name_is(v + s, i - s, "keep-alive"))
            *ka = 1;
    }
}

int fki_http_parse_head(char *buf, size_t len, struct fki_http_head *h)
{
    size_t lim = len < FKI_HTTP_HEAD_MAX ? len : FKI_HTTP_HEAD_MAX;
    size_t p = 0;
    /* RFC 9112 2.2: empty lines before the request line are ignored. */
    while (p + 1 < lim && buf[p] == '\r' && buf[p + 1] == '\n' && p < 8)
        p += 2;
    size_t start = p, end = 0;
    for (size_t i = start; i + 3 < lim; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            end = i + 4;
            break;
        }
    if (!end) {
        /* Fail early on a byte that can never start a valid head, and on a
         * bare CR or LF (a head with LF line ends never ends for us). */
        for (size_t i = start; i < lim; i++) {
            unsigned char c = (unsigned char)buf[i];
            if (!c || (c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7f ||
                (c == '\r' && i + 1 < lim && buf[i + 1] != '\n') ||
                (c == '\n' && (i == start || buf[i - 1] != '\r')))
                return 400;
        }
        return len >= FKI_HTTP_HEAD_MAX ? 431 : -1;
    }
    memset(h, 0, sizeof *h);
    h->head_len = end;

    /* Every line ends in CRLF; no bare CR, LF or NUL anywhere. */
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (!c || (c == '\r' && buf[i + 1] != '\n') ||
            (c == '\n' && (i == start || buf[i - 1] != '\r')))
            return 400;
    }

    /* Request line: method SP target SP version CRLF. */
    size_t i = start, m = 0;
    while (i < end && is_tchar((unsigned char)buf[i])) {
        if (m >= FKI_HTTP_METHOD_MAX)
            return 400;
        h->method[m++] = buf[i++];
    }
    if (!m || buf[i] != ' ')
        return 400;
    size_t t0 = ++i;
    while (i < end && (unsigned char)buf[i] >= 0x21 && (unsigned char)buf[i] <= 0x7e)
        i++;
    size_t t1 = i;
    if (t1 == t0 || buf[i] != ' ' || buf[t0] != '/')
        return 400;   /* only origin-form: no proxy requests, no "*" */
    i++;
    if (end - i < 10 || memcmp(buf + i, "HTTP/", 5))
        return 400;
    /* HTTP/1.2 and later minors are read as HTTP/1.1 (RFC 9110 2.5). */
    if (buf[i + 5] != '1' || buf[i + 6] != '.' || buf[i + 7] < '0' || buf[i + 7] > '9' ||
        buf[i + 8] != '\r') {
        /* 505 only for a well-formed HTTP/DIGIT.DIGIT (RFC 9112 2.3) we do
         * not speak; anything else is a malformed request line. */
        int wellformed = buf[i + 5] >= '0' && buf[i + 5] <= '9' && buf[i + 6] == '.' &&
                         buf[i + 7] >= '0' && buf[i + 7] <= '9' && buf[i + 8] == '\r';
        return wellformed ? 505 : 400;
    }
    h->minor = buf[i + 7] == '0' ? 0 : 1;
    i += 10;

    /* Header fields. */
    int close = 0, ka = 0;
    while (i < end - 2) {
        size_t n0 = i;
        while (is_tchar((unsigned char)buf[i]))
            i++;
        if (i == n0 || buf[i] != ':')
            return 400;   /* empty name, obs-fold, or space before the colon */
        size_t nlen = i - n0;
        i++;
        while (buf[i] == ' ' || buf[i] == '\t')
            i++;
        size_t v0 = i;
        while (buf[i] != '\r') {
            if (!is_value_char((unsigned char)buf[i]))
                return 400;
            i++;
        }
        size_t v1 = i;
        while (v1 > v0 && (buf[v1 - 1] == ' ' || buf[v1 - 1] == '\t'))
            v1--;
        i += 2;
        if (h->nfields >= FKI_HTTP_MAX_FIELDS)
            return 431;
        h->field[h->nfields].name = buf + n0;
        h->field[h->nfields].name_len = nlen;
        h->field[h->nfields].value = buf + v0;
        h->field[h->nfields].value_len = v1 - v0;
        h->nfields++;

        const char *v = buf + v0;
        size_t vlen = v1 - v0;
        if (name_is(buf + n0, nlen, "Content-Length")) {
            uint64_t x = 0;
            if (!vlen || vlen > 19)
                return 400;
            for (size_t k = 0; k < vlen; k++) {
                if (v[k] < '0' || v[k] > '9')
                    return 400;
                x = x * 10 + (uint64_t)(v[k] - '0');
            }
            if (h->has_length && x != h->content_length)
                return 400;   /* conflicting lengths: a smuggling attempt */
            h->has_length = 1;
            h->content_length = x;
        } else if (name_is(buf + n0, nlen, "Transfer-Encoding")) {
            return 501;
        } else if (name_is(buf + n0, nlen, "Connection")) {
            connection_tokens(v, vlen, &close, &ka);
        } else if (name_is(buf + n0, nlen, "Expect")) {
            if (!name_is(v, vlen, "100-continue"))
                return 417;
            h->expect_continue = h->minor == 1;   /* RFC 9110 10.1.1: ignored from 1.0 */
        }
    }
    h->keep_alive = h->minor == 1 ? !close : (ka && !close);

    /* The target, decoded in place: the path up to '?', then the query. */
    char *out = buf + t0;
    size_t k = t0;
    while (k < t1 && buf[k] != '?') {
        if (buf[k] == '%') {
            uint8_t byte;
            if (k + 2 >= t1 || fk_hex_decode(&byte, 1, buf + k + 1, 2) || !byte)
                return 400;   /* a broken escape, or %00 */
            *out++ = (char)byte;
            k += 3;
        } else {
            *out++ = buf[k++];
        }
    }
    if (k < t1) {
        h->query = buf + k + 1;
        h->query_len = t1 - k - 1;
    }
    buf[t1] = 0;   /* ends the query (the SP before the version) */
    *out = 0;      /* ends the path (at or before the '?') */
    h->path = buf + t0;
    return 0;
}

const char *fki_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
    }
}

/* A header value we write must not end the line early. */
static int safe(const char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            return 0;
    return 1;
}

size_t fki_http_write_head(char *out, size_t cap, int status, const char *date,
                           const char *content_type, size_t content_length,
                           const char *cache_control, const char *const *extra_name,
                           const char *const *extra_value, size_t nextra, int keep_alive)
{
    if (status < 100 || status > 599 || !safe(content_type) || !safe(date) ||
        (cache_control && !safe(cache_control)))
        return 0;
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n",
                     status, fki_http_reason(status), date, content_type, content_length);
    if (n < 0 || (size_t)n >= cap)
        return 0;
    size_t pos = (size_t)n;
    if (cache_control) {
        n = snprintf(out + pos, cap - pos, "Cache-Control: %s\r\n", cache_control);
        if (n < 0 || (size_t)n >= cap - pos)
            return 0;
        pos += (size_t)n;
    }
    for (size_t j = 0; j < nextra; j++) {
        if (!safe(extra_name[j]) || !safe(extra_value[j]))
            return 0;
        n = snprintf(out + pos, cap - pos, "%s: %s\r\n", extra_name[j], extra_value[j]);
        if (n < 0 || (size_t)n >= cap - pos)
            return 0;
        pos += (size_t)n;
    }
    n = snprintf(out + pos, cap - pos, "%s\r\n", keep_alive ? "" : "Connection: close\r\n");
    if (n < 0 || (size_t)n >= cap - pos)
        return 0;
    return pos + (size_t)n;
}
