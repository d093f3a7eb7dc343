/* Declarations shared by the fairkey CLI's subcommand files. */
#ifndef FK_CLI_H
#define FK_CLI_H

#include <fairkey.h>

#define FK_COMMAND(name, fn, help) int fn(int argc, char **argv);
#include "commands.h"
#undef FK_COMMAND

/* Exit codes (documented in docs/cli.md). */
enum {
    FK_EXIT_OK = 0,
    FK_EXIT_FAIL = 1,   /* the operation failed: bad input, wrong key, corrupt file */
    FK_EXIT_USAGE = 2,  /* bad command line */
};

/* Print "fairkey: <message>\n" to stderr (one line, printf-style). */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a usage line "usage: fairkey <synopsis>" and return FK_EXIT_USAGE. */
int cli_usage(const char *synopsis);

#endif
