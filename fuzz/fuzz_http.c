/* libFuzzer: the HTTP/1.1 request-head parser (src/net/http.c).  Whatever it
 * accepts is self-consistent: the head fits the input, the path is a
 * NUL-terminated string starting with '/', every field lies inside the head,
 * and the body length is a plain number.  A refusal is one of the statuses
 * http.h names. */
#include <stdlib.h>
#include <string.h>

#include "net/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    struct fki_http_head h;
    int rc = fki_http_parse_head(buf, size, &h);
    if (rc == 0) {
        if (h.head_len > size || h.head_len > FKI_HTTP_HEAD_MAX || h.path < buf ||
            h.path >= buf + h.head_len || h.path[0] != '/' ||
            strlen(h.path) >= h.head_len || h.nfields > FKI_HTTP_MAX_FIELDS ||
            (h.minor != 0 && h.minor != 1) || !h.method[0] ||
            (h.query && (h.query < buf || h.query + h.query_len > buf + h.head_len)))
            abort();
        for (size_t i = 0; i < h.nfields; i++)
            if (h.field[i].name < buf || h.field[i].value < buf ||
                h.field[i].name + h.field[i].name_len > buf + h.head_len ||
                h.field[i].value + h.field[i].value_len > buf + h.head_len || !h.field[i].name_len)
                abort();
        if (!h.has_length && h.content_length)
            abort();
    } else if (rc != -1 && rc != 400 && rc != 417 && rc != 431 && rc != 501 && rc != 505) {
        abort();
    } else if (rc == -1 && size >= FKI_HTTP_HEAD_MAX) {
        abort();   /* never waits for more past the cap */
    }
    free(buf);
    return 0;
}
