/*
 * config.h - the daemons' configuration files (docs/operations.md 2): one
 * "key value" line per setting, the keys being the long options of the
 * daemon's serve command.  One reader serves the log, the agent and the
 * witness; a flag on the command line overrides the file's lines of the same
 * key.  Program code (fairkey-net), below src/cli, src/log, src/agent and
 * src/witness; it prints nothing (errors come back as text).
 */
#ifndef FK_SVC_CONFIG_H
#define FK_SVC_CONFIG_H

#include <getopt.h>
#include <stddef.h>

/* Largest configuration file: a log's 64 --authority lines and its witnesses
 * fit a few kB; more is a wrong file. */
#define FKI_CONF_MAX (64u * 1024u)
/* Longest line (as sshd_config): a vkey or a URL is well under this. */
#define FKI_CONF_LINE_MAX 4096u
/* Most settings in one file: bounds the argument vector built from it. */
#define FKI_CONF_MAX_ITEMS 512u
/* Room for an error: the path, the line number and the reason. */
#define FKI_CONF_ERR_MAX 4400u

/* Called for each setting in file order: key (NUL-terminated, [a-z0-9-]),
 * value (NUL-terminated; NULL when the line holds only the key) and the
 * 1-based line number.  A non-zero return stops the parse and is returned;
 * the callback then writes its reason into err (capacity FKI_CONF_ERR_MAX). */
typedef int (*fki_conf_fn)(void *ctx, const char *key, const char *value, size_t lineno, char *err);

/* Parse configuration text (no I/O).  0, or non-zero with *lineno set to the
 * line at fault and err (capacity FKI_CONF_ERR_MAX) holding the reason
 * without the location. */
int fki_conf_parse(const char *text, size_t len, fki_conf_fn fn, void *ctx, size_t *lineno,
                   char *err);

/* The path given with --config FILE or --config=FILE in argv[1..argc) (up
 * to a "--"), or NULL. */
const char *fki_conf_path(int argc, char **argv);

/* The argument vector a serve command's getopt_long loop reads: argv[0];
 * then "--key" (and its value) for each line of the file at path whose key
 * the command line does not give (a flag replaces every line of its key);
 * then argv[1..argc) without --config.  Keys are checked against opts (the
 * command's long options; "config" and "help" are not keys): an unknown key,
 * a missing or unexpected value is an error.  path NULL: argv without
 * --config.  0 with *out (free with fki_conf_argv_free), or -1 with err
 * (capacity FKI_CONF_ERR_MAX) one line "PATH:LINE: reason" (or "PATH:
 * reason"); cmd names the command in it ("log serve"). */
struct fki_conf_argv {
    int argc;
    char **argv;  /* argv[argc] is NULL */
    char **owned; /* the strings the file gave */
    size_t nowned;
};
int fki_conf_argv_build(struct fki_conf_argv *out, const char *path, const char *cmd,
                        const struct option *opts, int argc, char **argv, char *err);
void fki_conf_argv_free(struct fki_conf_argv *a);

#endif
