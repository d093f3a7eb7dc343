/*
 * Whole reads and writes on a plain file descriptor, retried on EINTR: the
 * bottom of the age module's I/O (io.c's sources and sinks and the armor
 * codec both stand on it).
 */
#include <errno.h>
#include <unistd.h>

#include "age/internal.h"

fk_err fki_read_full(int fd, uint8_t *buf, size_t n, size_t *got)
{
    size_t have = 0;
    while (have < n) {
        ssize_t r = read(fd, buf + have, n - have);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            *got = have;
            return FK_ERR_IO;
        }
        if (r == 0)
            break;
        have += (size_t)r;
    }
    *got = have;
    return FK_OK;
}

fk_err fki_write_all(int fd, const uint8_t *buf, size_t n)
{
    while (n) {
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return FK_ERR_IO;
        }
        buf += w;
        n -= (size_t)w;
    }
    return FK_OK;
}
