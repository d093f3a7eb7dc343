/* libFuzzer: the daemons' configuration files (src/svc/config.c).  Every
 * setting handed on has a key of [a-z0-9-] and a value without control
 * characters or outer blanks, on increasing lines; a file that fails names
 * a line within it; building a daemon's argument vector from any file never
 * crashes, leaks or hands getopt an option the table lacks. */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "svc/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
    size_t last;
};

static int check(void *ctx, const char *key, const char *value, size_t lineno, char *err)
{
    struct state *s = ctx;
    (void)err;
    if (lineno <= s->last || !key[0])
        abort();
    s->last = lineno;
    for (const char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            abort();
    if (value) {
        size_t n = strlen(value);
        if (n &&
            (value[0] == ' ' || value[0] == '\t' || value[n - 1] == ' ' || value[n - 1] == '\t'))
            abort();
        for (size_t i = 0; i < n; i++)
            if (((unsigned char)value[i] < 0x20 && value[i] != '\t') || value[i] == 0x7f)
                abort();
    }
    /* Some keys stop the parse, as a daemon's unknown key does. */
    return !strcmp(key, "stop");
}

static const struct option opts[] = {
    {"dir", required_argument, NULL, 'd'},  {"listen", required_argument, NULL, 'l'},
    {"open", no_argument, NULL, 'O'},       {"witness", required_argument, NULL, 'w'},
    {"rate", required_argument, NULL, 'R'}, {"config", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct state s = {0};
    size_t line = 0, lines = 1;
    char err[FKI_CONF_ERR_MAX];
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (fki_conf_parse((const char *)data, size, check, &s, &line, err)) {
        if (line > lines || !memchr(err, 0, sizeof err))
            abort();
    }

    /* The same bytes as a file, through the argument vector builder. */
    int fd = memfd_create("fk-conf", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char *argv[] = {"serve", "--rate", "5", "--config", path, NULL};
    struct fki_conf_argv a;
    if (!fki_conf_argv_build(&a, path, "log serve", opts, 5, argv, err)) {
        if (a.argc < 3 || a.argv[a.argc] || strcmp(a.argv[a.argc - 2], "--rate"))
            abort();
        /* The file's part: "--KEY" of a known option, then its value (which
         * getopt takes whatever it looks like) when the option has one. */
        for (int i = 1; i < a.argc - 2; i++) {
            int known = -1;
            for (int k = 0; opts[k].name; k++)
                if (!strncmp(a.argv[i], "--", 2) && !strcmp(a.argv[i] + 2, opts[k].name) &&
                    strcmp(opts[k].name, "config") && strcmp(opts[k].name, "help") &&
                    strcmp(opts[k].name, "rate"))
                    known = k;
            if (known < 0)
                abort();
            if (opts[known].has_arg == required_argument)
                i++;
        }
        fki_conf_argv_free(&a);
    }
    close(fd);
    return 0;
}
