/*
 * Byte sources and sinks for the age module: a plain fd, or ASCII armor
 * decoded/encoded on the fly.  No buffering of their own on the binary path,
 * so payload batches go straight between the kernel and the batch buffers.
 */
#define _GNU_SOURCE /* sync_file_range */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "age/internal.h"

static size_t take_pending(fki_src *s, uint8_t *buf, size_t n)
{
    size_t k = s->npend < n ? s->npend : n;
    if (k) {
        memcpy(buf, s->pend, k);
        s->pend += k;
        s->npend -= k;
    }
    return k;
}

fk_err fki_src_read_full(fki_src *s, uint8_t *buf, size_t n, size_t *got)
{
    size_t have = take_pending(s, buf, n), g = 0;
    fk_err err = FK_OK;

    if (s->armor) {
        while (have < n && !s->eof) {
            err = fki_armor_read(s->armor, buf + have, n - have, &g);
            if (err != FK_OK)
                break;
            if (g == 0)
                s->eof = 1;
            have += g;
        }
    } else if (have < n && !s->eof) {
        err = fki_read_full(s->fd, buf + have, n - have, &g);
        have += g;
        if (err == FK_OK && have < n)
            s->eof = 1;
    }
    *got = have;
    return err;
}

fk_err fki_src_read_some(fki_src *s, uint8_t *buf, size_t n, size_t *got)
{
    size_t have = take_pending(s, buf, n);
    *got = have;
    if (have || s->eof || n == 0)
        return FK_OK;
    if (s->armor) {
        fk_err err = fki_armor_read(s->armor, buf, n, got);
        if (err == FK_OK && *got == 0)
            s->eof = 1;
        return err;
    }
    for (;;) {
        ssize_t r = read(s->fd, buf, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return FK_ERR_IO;
        if (r == 0)
            s->eof = 1;
        *got = (size_t)r;
        return FK_OK;
    }
}

void fki_sink_writeback(fki_sink *s)
{
    struct stat st;
    off_t pos;
    if (s->armor || fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        (pos = lseek(s->fd, 0, SEEK_CUR)) < 0)
        return;
    s->wb_on = 1;
    s->wb_pos = s->wb_started = (uint64_t)pos;
}

fk_err fki_sink_write(fki_sink *s, const uint8_t *buf, size_t n)
{
    fk_err err;
    if (s->armor)
        return fki_armor_write(s->armor, buf, n);
    err = fki_write_all(s->fd, buf, n);
    if (err == FK_OK && s->wb_on) {
        s->wb_pos += n;
        /* Start writeback of what this step wrote; the kernel does not wait
         * for it, and a failure only means the final fsync has more to do. */
        if (s->wb_pos - s->wb_started >= FK_AGE_WRITEBACK_STEP) {
            (void)sync_file_range(s->fd, (off64_t)s->wb_started,
                                  (off64_t)(s->wb_pos - s->wb_started), SYNC_FILE_RANGE_WRITE);
            s->wb_started = s->wb_pos;
        }
    }
    return err;
}

void fki_src_positional(fki_src *s, int64_t pos)
{
    struct stat sb;
    if (s->armor || pos < 0 || fstat(s->fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
        (uint64_t)sb.st_size < (uint64_t)pos)
        return;
    s->positional = 1;
    s->pos = (uint64_t)pos;
    s->end = (uint64_t)sb.st_size;
    s->pend = NULL;
    s->npend = 0;
}
