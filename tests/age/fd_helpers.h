/* Input descriptors for the age tests: a seekable memory file (the parallel
 * pread path) and a pipe a child process fills (the sequential reader). */
#ifndef FK_TEST_FD_HELPERS_H
#define FK_TEST_FD_HELPERS_H

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static inline int mem_fd(const uint8_t *data, size_t len)
{
    int fd = memfd_create("fk-test", 0);
    assert_true(fd >= 0);
    if (len)
        assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static inline int pipe_fd(const uint8_t *data, size_t len)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        while (len) {
            ssize_t w = write(p[1], data, len);
            if (w <= 0)
                _exit(1);
            data += w;
            len -= (size_t)w;
        }
        _exit(0);
    }
    close(p[1]);
    return p[0];
}

#endif
