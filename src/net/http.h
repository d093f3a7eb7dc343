/*
 * http.h - the HTTP/1.1 message layer of fairkey's server (RFC 9112): a
 * strict request-head parser and the response writer.  Pure functions over
 * buffers, no sockets, so the parser can be fuzzed alone (fuzz/fuzz_http.c).
 *
 * What the server accepts, on purpose narrow (every fairkey client sends
 * exactly this; anything else is refused with a status, never guessed at):
 *   - "METHOD SP origin-form SP HTTP/1.1" or "HTTP/1.0", CRLF line ends;
 *   - header fields "name: value" with token names, no obsolete line
 *     folding, no control characters in values;
 *   - bodies framed by one Content-Length (repeated only with the same
 *     value); any Transfer-Encoding is refused (501), as is a body larger
 *     than the server's cap (413);
 *   - "Expect: 100-continue", and Connection: close / keep-alive.
 */
#ifndef FK_NET_HTTP_H
#define FK_NET_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Request line plus header fields, bytes (431 beyond). */
#define FKI_HTTP_HEAD_MAX 8192u
/* Header fields kept for fki_net_header(); more is a 431. */
#define FKI_HTTP_MAX_FIELDS 32u
/* Longest method token (ours are GET, HEAD, POST). */
#define FKI_HTTP_METHOD_MAX 15u

struct fki_http_head {
    char method[FKI_HTTP_METHOD_MAX + 1];
    char *path;                     /* into buf: percent-decoded in place, NUL-terminated */
    const char *query;              /* into buf after '?', or NULL */
    size_t query_len;
    int minor;                      /* HTTP/1.<minor>: 0 or 1 */
    int keep_alive;                 /* the connection may serve another request */
    int expect_continue;            /* "Expect: 100-continue" */
    int has_length;
    uint64_t content_length;        /* 0 without Content-Length */
    size_t head_len;                /* bytes of the head, final CRLF CRLF included */
    size_t nfields;
    struct {
        const char *name, *value;   /* into the caller's buffer, not NUL-terminated */
        size_t name_len, value_len;
    } field[FKI_HTTP_MAX_FIELDS];
};

/* Parse the head at the start of buf[0..len); the request target is
 * decoded in place (buf is modified only once the head is complete).  Returns 0 when the head is
 * complete and valid (*h filled), -1 when more bytes are needed (and len is
 * still below FKI_HTTP_HEAD_MAX), or an HTTP status to answer before
 * closing: 400 malformed, 417 unknown expectation, 431 head too large,
 * 501 Transfer-Encoding, 505 not HTTP/1.x. */
int fki_http_parse_head(char *buf, size_t len, struct fki_http_head *h);

/* Reason phrase for a status ("OK", "Not Found", ...). */
const char *fki_http_reason(int status);

/* Write a response head into out (capacity cap): status line, Date,
 * Content-Type, Content-Length, Cache-Control (if set), extra fields,
 * Connection: close when !keep_alive.  Returns the length, or 0 if it does
 * not fit. */
size_t fki_http_write_head(char *out, size_t cap, int status, const char *date,
                           const char *content_type, size_t content_length,
                           const char *cache_control, const char *const *extra_name,
                           const char *const *extra_value, size_t nextra, int keep_alive);

#endif
