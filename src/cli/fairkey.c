/* fairkey: the command-line tool.  Dispatches to one file per subcommand. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
};

static const struct command commands[] = {
#define FK_COMMAND(name, fn, help) {name, fn, help},
#include "commands.h"
#undef FK_COMMAND
};

void cli_err(const char *fmt, ...)
{
    va_list ap;
    fputs("fairkey: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage(const char *synopsis)
{
    fprintf(stderr, "usage: fairkey %s\n", synopsis);
    return FK_EXIT_USAGE;
}

static void show_usage(FILE *f)
{
    fprintf(f, "usage: fairkey <command> [options]\n\nfairkey %s: age v1 encryption with accountable key escrow.\n\ncommands:\n",
            FAIRKEY_VERSION);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nRun 'fairkey <command> -h' for a command's options.\n");
}

int main(int argc, char **argv)
{
    cli_stdio_init();
    if (argc < 2) {
        show_usage(stderr);
        return FK_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        show_usage(stdout);
        return FK_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("fairkey %s\n", FAIRKEY_VERSION);
        return FK_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    cli_err("unknown command '%s'; run 'fairkey help' for the list", argv[1]);
    return FK_EXIT_USAGE;
}
