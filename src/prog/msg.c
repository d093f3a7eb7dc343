/* Messages of every fairkey program: one "fairkey: " line per error, the
 * usage line, and the command line's option errors (src/prog/prog.h). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "prog/prog.h"

/* The last line cli_err printed in this thread (a daemon answers with it). */
static __thread char last_err[512];
/* Set while a daemon reloads: it prints one line of its own instead. */
static __thread int err_quiet;

void cli_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_err, sizeof last_err, fmt, ap);
    va_end(ap);
    if (!err_quiet)
        fprintf(stderr, "fairkey: %s\n", last_err);
}

void cli_err_quiet(int on)
{
    err_quiet = on;
    if (on)
        last_err[0] = 0;
}

const char *cli_err_last(void)
{
    return last_err;
}

/* Set when the command line asks for help (-h or --help before any "--"):
 * then every subcommand's usage goes to stdout with exit status 0, however
 * deep the subcommand and whether or not its option table knows -h. */
static int help_wanted;

int cli_usage(const char *synopsis)
{
    if (help_wanted) {
        printf("usage: fairkey %s\n", synopsis);
        return FK_EXIT_OK;
    }
    fprintf(stderr, "usage: fairkey %s\n", synopsis);
    return FK_EXIT_USAGE;
}

int cli_help_wanted(void)
{
    return help_wanted;
}

int cli_set_help_wanted(int on)
{
    return help_wanted = on;
}

int cli_bad_option(int c, char **argv, const char *synopsis)
{
    /* Name the option as the user wrote it: a long option by its name (its
     * optopt is the table's value, which may be no character at all), a
     * short one by its letter (it may sit inside a bundle such as -ao). */
    const char *arg = optind > 0 && argv[optind - 1] ? argv[optind - 1] : "?";
    char name[64];
    if (!strncmp(arg, "--", 2))
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(arg, "="), arg);
    else if (optopt > 0x20 && optopt < 0x7f)
        snprintf(name, sizeof(name), "-%c", optopt);
    else
        snprintf(name, sizeof(name), "%s", arg);
    if (cli_help_wanted())
        return cli_usage(synopsis);
    if (c == ':')
        cli_err("option %s needs a value", name);
    else
        cli_err("unknown option %s", name);
    return cli_usage(synopsis);
}

int cli_extra_inputs(int argc, char **argv, int first, const char *synopsis)
{
    /* As in age, options end at the first file name; an option written after
     * it would otherwise be reported as a second input. */
    int after_dashdash = first > 1 && !strcmp(argv[first - 1], "--");
    for (int i = first + 1; i < argc && !after_dashdash; i++) {
        if (argv[i][0] == '-' && argv[i][1]) {
            cli_err("option %s comes after the input file %s; put every option before the input file",
                    argv[i], argv[first]);
            return cli_usage(synopsis);
        }
    }
    cli_err("only one input file may be given ('%s' and '%s'); process files one at a time",
            argv[first], argv[first + 1]);
    return cli_usage(synopsis);
}

int cli_bad_operand(const char *arg, const char *synopsis)
{
    cli_err("unexpected argument '%s'", arg);
    return cli_usage(synopsis);
}

