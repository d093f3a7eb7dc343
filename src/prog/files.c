/* Inputs of every fairkey program: standard input (one purpose only), files
 * opened or read whole (and remembered, so no output replaces them), and
 * secrets freed (src/prog/prog.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prog/prog.h"

/* ---- standard input: one purpose only ---------------------------------- */

static int stdin_used;
/* Standard descriptors the program was started without (see cli_stdio_init). */
static int stdio_closed[3];

int cli_stdio_closed(int fd)
{
    return fd >= 0 && fd < 3 && stdio_closed[fd];
}

void cli_stdio_init(void)
{
    /* A closed 0, 1 or 2 would be handed to the next open(): a key file or
     * a temporary output would then receive error messages or be read as
     * the input.  Hold each number with /dev/null opened the wrong way
     * round, so using it still fails, and remember it for a clear error. */
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        stdio_closed[fd] = 1;
        int n = open("/dev/null", fd == STDIN_FILENO ? O_WRONLY : O_RDONLY);
        if (n >= 0 && n != fd) {
            dup2(n, fd);
            close(n);
        }
    }
}

int cli_claim_stdin(void)
{
    if (stdio_closed[STDIN_FILENO]) {
        cli_err("standard input is closed; give the input as a file name");
        return -1;
    }
    if (stdin_used) {
        cli_err("standard input is used for more than one purpose; give file names instead of '-'");
        return -1;
    }
    stdin_used = 1;
    return 0;
}

int cli_is_stdio_name(const char *path)
{
    return path == NULL || !strcmp(path, "-");
}

int cli_open_in(const char *path, int nofollow)
{
    if (cli_is_stdio_name(path)) {
        if (cli_claim_stdin() < 0)
            return -1;
        return STDIN_FILENO;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0) {
        if (errno == ELOOP && nofollow)
            cli_err("%s is a symbolic link; key files are read only by their real path", path);
        else
            cli_err("cannot open %s: %s; %s", path, strerror(errno), cli_io_hint(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_err("%s is a directory; give a file", path);
        close(fd);
        return -1;
    }
    return fd;
}

void cli_close_in(int fd)
{
    if (fd > STDERR_FILENO)
        close(fd);
}

/* ---- files read whole: never replaced by this command's output ------------ */

/* Key files (read with O_NOFOLLOW) and recipients files read by this command.
 * An output that would replace one (`decrypt -i key -o key`, `keygen -y -o
 * key key`) is refused: the key would be lost.  Other files read whole may be
 * state a command rewrites (audit --state).  A command reads a handful; past
 * this many the rest are not remembered (a bound, not a real case). */
#define CLI_READ_FILES_MAX 64
static struct {
    dev_t dev;
    ino_t ino;
} read_files[CLI_READ_FILES_MAX];
static size_t nread_files;

void cli_note_read_file(const struct stat *st)
{
    if (nread_files < CLI_READ_FILES_MAX && S_ISREG(st->st_mode)) {
        read_files[nread_files].dev = st->st_dev;
        read_files[nread_files].ino = st->st_ino;
        nread_files++;
    }
}

int cli_is_read_file(const struct stat *st)
{
    for (size_t i = 0; i < nread_files; i++)
        if (read_files[i].dev == st->st_dev && read_files[i].ino == st->st_ino)
            return 1;
    return 0;
}

/* ---- small whole files ------------------------------------------------- */

/* Read all of fd, at most max bytes; -1 with errno (EFBIG past max). */
static int read_all_fd(int fd, size_t max, char **buf, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *b = malloc(cap + 1);
    if (!b)
        return -1;
    for (;;) {
        if (n == cap) {
            if (cap > max) {
                fk_wipe(b, n);
                free(b);
                errno = EFBIG;
                return -1;
            }
            size_t ncap = cap * 2;
            char *nb = malloc(ncap + 1);
            if (!nb) {
                fk_wipe(b, n);
                free(b);
                return -1;
            }
            memcpy(nb, b, n);
            fk_wipe(b, n);
            free(b);
            b = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            fk_wipe(b, n);
            free(b);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > max) {
        fk_wipe(b, n);
        free(b);
        errno = EFBIG;
        return -1;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

int cli_read_file(const char *path, size_t max, int nofollow, char **buf, size_t *len)
{
    int fd = cli_open_in(path, nofollow);
    if (fd < 0)
        return -1;
    struct stat st;
    if (nofollow && fstat(fd, &st) == 0)
        cli_note_read_file(&st); /* a key file */
    const char *name = cli_is_stdio_name(path) ? "standard input" : path;
    int r = read_all_fd(fd, max, buf, len);
    int e = errno;
    cli_close_in(fd);
    if (r < 0) {
        if (e == EFBIG)
            cli_err("%s is larger than %zu bytes; is it the right file?", name, max);
        else
            cli_err("cannot read %s: %s; %s", name, strerror(e), cli_io_hint(e));
        return -1;
    }
    return 0;
}

int cli_for_each_line(const char *text, size_t len,
                      int (*fn)(void *ctx, const char *line, size_t linelen, size_t lineno),
                      void *ctx)
{
    size_t lineno = 0, i = 0;
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t l = end - i;
        if (l > 0 && text[i + l - 1] == '\r')
            l--;
        int r = fn(ctx, text + i, l, ++lineno);
        if (r)
            return r;
        i = nl ? end + 1 : len;
    }
    return 0;
}

void cli_free_secret(char *p, size_t len)
{
    if (!p)
        return;
    fk_wipe(p, len);
    free(p);
}

const char *cli_io_hint(int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR:
        return "check the path";
    case EACCES:
    case EPERM:
        return "check the permissions of the file and its folder";
    case EROFS:
        return "the file system is read-only; write somewhere else";
    case ENOSPC:
    case EDQUOT:
        return "the disk is full; free space or write somewhere else";
    case EPIPE:
        return "the program reading the output stopped; the output is incomplete";
    case EBADF:
        return "a standard input or output is not usable; give file names";
    case EISDIR:
        return "give a file, not a folder";
    case ENAMETOOLONG:
        return "use a shorter path";
    default:
        return "check the input and output files";
    }
}
