/* Helpers shared by the tlog tests: reading files and outside vectors. */
#ifndef FK_TLOG_TEST_H
#define FK_TLOG_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fairkey.h>

#define MERKLE_DIR FK_TESTDATA "/merkle"

/* Read a whole file (NUL-terminated); NULL if it cannot be read. */
static inline char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = (n + 4096 + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

static inline char *read_allf(size_t *len, const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    char *b = read_all(path, len);
    if (!b)
        fail_msg("cannot read %s", path);
    return b;
}

static inline void hex32(uint8_t out[32], const char *hex)
{
    assert_int_equal(fk_hex_decode(out, 32, hex, strlen(hex)), FK_OK);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.json file under dir, recursively, sorted; returns the count. */
static inline size_t list_json(const char *dir, char ***out)
{
    char **list = NULL;
    size_t n = 0, cap = 0;
    char *stack[64];
    size_t sp = 0;
    stack[sp++] = strdup(dir);
    while (sp) {
        char *d = stack[--sp];
        DIR *dh = opendir(d);
        struct dirent *e;
        if (!dh)
            fail_msg("cannot open %s", d);
        while ((e = readdir(dh))) {
            char p[2048];
            size_t nl = strlen(e->d_name);
            if (e->d_name[0] == '.')
                continue;
            snprintf(p, sizeof p, "%s/%s", d, e->d_name);
            if (nl > 5 && strcmp(e->d_name + nl - 5, ".json") == 0) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 64;
                    list = realloc(list, cap * sizeof *list);
                    assert_non_null(list);
                }
                list[n++] = strdup(p);
            } else if (e->d_type == DT_DIR && sp < 64) {
                stack[sp++] = strdup(p);
            }
        }
        closedir(dh);
        free(d);
    }
    qsort(list, n, sizeof *list, cmp_str);
    *out = list;
    return n;
}

static inline void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

#endif
