/*
 * config.c - the daemons' "key value" configuration files (config.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svc/config.h"

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int fki_conf_parse(const char *text, size_t len, fki_conf_fn fn, void *ctx, size_t *lineno,
                   char *err)
{
    char line[FKI_CONF_LINE_MAX + 1];
    size_t pos = 0, no = 0;
    *lineno = 0;
    if (len > FKI_CONF_MAX) {
        snprintf(err, FKI_CONF_ERR_MAX, "larger than %u bytes; is it the right file?",
                 FKI_CONF_MAX);
        return -1;
    }
    while (pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - s) : len - pos;
        pos += l + (nl ? 1 : 0);
        *lineno = ++no;
        if (l && s[l - 1] == '\r')
            l--;
        if (l > FKI_CONF_LINE_MAX) {
            snprintf(err, FKI_CONF_ERR_MAX, "line longer than %u bytes", FKI_CONF_LINE_MAX);
            return -1;
        }
        for (size_t i = 0; i < l; i++) {
            unsigned char c = (unsigned char)s[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                snprintf(err, FKI_CONF_ERR_MAX,
                         "control character 0x%02x in the line; write plain text", c);
                return -1;
            }
        }
        while (l && is_blank(*s)) {
            s++;
            l--;
        }
        while (l && is_blank(s[l - 1]))
            l--;
        if (!l || s[0] == '#')
            continue;
        size_t k = 0;
        while (k < l && is_key_char(s[k]))
            k++;
        if (k == 0 || (k < l && !is_blank(s[k]))) {
            size_t shown = 0;
            while (shown < l && shown < 40 && !is_blank(s[shown]))
                shown++;
            if (k < l && s[k] == '=')
                snprintf(err, FKI_CONF_ERR_MAX, "'%.*s': write 'KEY VALUE' (a space, not '=')",
                         (int)shown, s);
            else
                snprintf(err, FKI_CONF_ERR_MAX,
                         "'%.*s' is not a key; keys are lowercase long option names such as "
                         "'listen'",
                         (int)shown, s);
            return -1;
        }
        memcpy(line, s, l);
        line[l] = 0;
        line[k] = 0;
        const char *value = NULL;
        if (k < l) {
            size_t v = k + 1;
            while (v < l && is_blank(line[v]))
                v++;
            value = line + v;
        }
        int r = fn(ctx, line, value, no, err);
        if (r)
            return r;
    }
    return 0;
}

const char *fki_conf_path(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            path = argv[++i];
        else if (!strncmp(argv[i], "--config=", 9))
            path = argv[i] + 9;
    }
    return path;
}

/* Index in opts of the long option arg ("--name" or "--name=value") names,
 * exactly or by a unique prefix as getopt_long takes it; -1 if none. */
static int option_index(const struct option *opts, const char *arg)
{
    const char *name = arg + 2;
    size_t n = strcspn(name, "=");
    int found = -1;
    for (int i = 0; opts[i].name; i++) {
        if (strncmp(opts[i].name, name, n))
            continue;
        if (strlen(opts[i].name) == n)
            return i;
        found = found == -1 ? i : -2;
    }
    return found < 0 ? -1 : found;
}

struct build {
    const struct option *opts;
    const char *cmd;
    const unsigned char *given; /* per option: the command line gives it */
    char **items;               /* "--key" then, if any, its value */
    size_t nitems;
};

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int on_setting(void *ctx, const char *key, const char *value, size_t lineno, char *err)
{
    struct build *b = ctx;
    (void)lineno;
    int idx = -1;
    if (strcmp(key, "config") && strcmp(key, "help"))
        for (int i = 0; b->opts[i].name; i++)
            if (!strcmp(b->opts[i].name, key)) {
                idx = i;
                break;
            }
    if (idx < 0) {
        snprintf(err, FKI_CONF_ERR_MAX,
                 "unknown key '%.64s'; the keys are the long options of 'fairkey %s' without "
                 "the '--' (fairkey %s -h)",
                 key, b->cmd, b->cmd);
        return -1;
    }
    const struct option *o = &b->opts[idx];
    if (o->has_arg == required_argument && (!value || !value[0])) {
        snprintf(err, FKI_CONF_ERR_MAX, "'%.64s' needs a value: %.64s VALUE", key, key);
        return -1;
    }
    if (o->has_arg == no_argument && value) {
        if (!strcmp(value, "no"))
            return 0;
        if (strcmp(value, "yes")) {
            snprintf(err, FKI_CONF_ERR_MAX,
                     "'%.64s' is a switch: write '%.64s' (or '%.64s yes') alone", key, key, key);
            return -1;
        }
        value = NULL;
    }
    if (b->given[idx])
        return 0; /* the command line's flag wins */
    if (b->nitems + 2 > 2 * FKI_CONF_MAX_ITEMS) {
        snprintf(err, FKI_CONF_ERR_MAX, "more than %u settings", FKI_CONF_MAX_ITEMS);
        return -1;
    }
    char opt[FKI_CONF_LINE_MAX + 3];
    snprintf(opt, sizeof opt, "--%s", key);
    if (!(b->items[b->nitems] = dupstr(opt))) {
        snprintf(err, FKI_CONF_ERR_MAX, "out of memory");
        return -1;
    }
    b->nitems++;
    if (value) {
        if (!(b->items[b->nitems] = dupstr(value))) {
            snprintf(err, FKI_CONF_ERR_MAX, "out of memory");
            return -1;
        }
        b->nitems++;
    }
    return 0;
}

/* Read the whole file (at most FKI_CONF_MAX bytes) into a malloc'd buffer. */
static int read_conf(const char *path, char **text, size_t *len, char *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, FKI_CONF_ERR_MAX, "%.2048s: cannot open the configuration file: %s", path,
                 strerror(errno));
        return -1;
    }
    char *buf = malloc(FKI_CONF_MAX + 1);
    size_t n = 0;
    int rc = buf ? 0 : -1;
    if (!buf)
        snprintf(err, FKI_CONF_ERR_MAX, "%.2048s: out of memory", path);
    while (!rc) {
        ssize_t r = read(fd, buf + n, FKI_CONF_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, FKI_CONF_ERR_MAX, "%.2048s: cannot read: %s", path, strerror(errno));
            rc = -1;
        } else if (r == 0) {
            break;
        } else if ((n += (size_t)r) > FKI_CONF_MAX) {
            snprintf(err, FKI_CONF_ERR_MAX, "%.2048s: larger than %u bytes; is it the right file?",
                     path, FKI_CONF_MAX);
            rc = -1;
        }
    }
    close(fd);
    if (rc) {
        free(buf);
        return -1;
    }
    buf[n] = 0;
    *text = buf;
    *len = n;
    return 0;
}

void fki_conf_argv_free(struct fki_conf_argv *a)
{
    for (size_t i = 0; i < a->nowned; i++)
        free(a->owned[i]);
    free(a->owned);
    free(a->argv);
    memset(a, 0, sizeof *a);
}

int fki_conf_argv_build(struct fki_conf_argv *out, const char *path, const char *cmd,
                        const struct option *opts, int argc, char **argv, char *err)
{
    memset(out, 0, sizeof *out);
    size_t nopts = 0;
    while (opts[nopts].name)
        nopts++;
    unsigned char *given = calloc(nopts + 1, 1);
    struct build b = {.opts = opts,
                      .cmd = cmd,
                      .given = given,
                      .items = calloc(2 * FKI_CONF_MAX_ITEMS, sizeof(char *))};
    char *text = NULL;
    size_t len = 0;
    int rc = -1;
    if (!given || !b.items) {
        snprintf(err, FKI_CONF_ERR_MAX, "out of memory");
        goto out;
    }
    /* Which keys the command line gives (their values are skipped). */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (strncmp(argv[i], "--", 2))
            continue;
        int idx = option_index(opts, argv[i]);
        if (idx >= 0) {
            given[idx] = 1;
            if (opts[idx].has_arg == required_argument && !strchr(argv[i], '='))
                i++;
        } else if (!strcmp(argv[i], "--config")) {
            i++;
        }
    }
    if (path) {
        size_t lineno;
        char why[FKI_CONF_ERR_MAX];
        if (read_conf(path, &text, &len, err))
            goto out;
        if (fki_conf_parse(text, len, on_setting, &b, &lineno, why)) {
            if (lineno)
                snprintf(err, FKI_CONF_ERR_MAX, "%.2048s:%zu: %.2200s", path, lineno, why);
            else
                snprintf(err, FKI_CONF_ERR_MAX, "%.2048s: %.2200s", path, why);
            goto out;
        }
    }
    out->argv = calloc((size_t)argc + b.nitems + 1, sizeof(char *));
    if (!out->argv) {
        snprintf(err, FKI_CONF_ERR_MAX, "out of memory");
        goto out;
    }
    out->argv[out->argc++] = argc > 0 ? argv[0] : (char *)"serve";
    for (size_t i = 0; i < b.nitems; i++)
        out->argv[out->argc++] = b.items[i];
    int opts_end = 0;
    for (int i = 1; i < argc; i++) {
        if (!opts_end && !strcmp(argv[i], "--"))
            opts_end = 1;
        if (!opts_end && !strcmp(argv[i], "--config") && i + 1 < argc) {
            i++;
            continue;
        }
        if (!opts_end && !strncmp(argv[i], "--config=", 9))
            continue;
        out->argv[out->argc++] = argv[i];
    }
    out->argv[out->argc] = NULL;
    out->owned = b.items;
    out->nowned = b.nitems;
    b.items = NULL;
    rc = 0;
out:
    if (b.items) {
        for (size_t i = 0; i < b.nitems; i++)
            free(b.items[i]);
        free(b.items);
    }
    free(given);
    free(text);
    return rc;
}
