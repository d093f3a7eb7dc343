/* Shared program helpers (src/prog/): what every fairkey program (the
 * command line, and the log, agent and witness daemons it runs) uses to speak
 * to its user and to read its inputs.  Below cli/, log/, agent/ and
 * witness/; built on the library alone.  Helpers print their own error line
 * with cli_err() and return -1 on failure, 0 on success. */
#ifndef FK_PROG_H
#define FK_PROG_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <fairkey.h>

/* Exit codes (documented in docs/cli.md). */
enum {
    FK_EXIT_OK = 0,
    FK_EXIT_FAIL = 1,   /* the operation failed: bad input, wrong key, corrupt file */
    FK_EXIT_USAGE = 2,  /* bad command line */
    FK_EXIT_RECOVERED = 3, /* audit: a recovery of an audited file is on the log */
};

/* Print "fairkey: <message>\n" to stderr (one line, printf-style). */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The last message cli_err printed in this thread, without "fairkey: " (at
 * most 511 bytes): what a daemon also sends back to the client at fault. */
const char *cli_err_last(void);
/* cli_err_quiet(1): cli_err only records its message (cli_err_last) until
 * cli_err_quiet(0); a daemon reloading on SIGHUP reports one line itself. */
void cli_err_quiet(int on);
/* Print a usage line "usage: fairkey <synopsis>" on stderr and return
 * FK_EXIT_USAGE; when the command line asked for help (-h, --help), on
 * stdout, returning FK_EXIT_OK. */
int cli_usage(const char *synopsis);
/* Did the command line ask for help (-h or --help before any "--")? */
int cli_help_wanted(void);
/* Set by main from its command line; returns on. */
int cli_set_help_wanted(int on);
/* getopt_long returned '?' or ':' (the optstring starts with "+:"): print
 * one "fairkey: " line naming the bad option, then the usage; returns 2. */
int cli_bad_option(int c, char **argv, const char *synopsis);
/* More than one operand where one input file is allowed (argv[first] is the
 * input): names an option written after the input, else the extra file;
 * then the usage; returns 2. */
int cli_extra_inputs(int argc, char **argv, int first, const char *synopsis);
/* One "fairkey: " line about an unexpected operand, then the usage; returns 2. */
int cli_bad_operand(const char *arg, const char *synopsis);

/* Limits on small files read whole (age uses the same bounds). */
#define CLI_KEYFILE_MAX (16u << 20)   /* identity and recipients files: 16 MiB */
#define CLI_LINE_MAX (8u << 10)       /* one line of such a file: 8 KiB, as sshd(8) */

/* Called first by main: a standard descriptor (0, 1, 2) the program was
 * started without is held open on /dev/null so that no file gets its number;
 * using it later is a clear error ("standard input is closed"). */
void cli_stdio_init(void);
/* Open an input: NULL or "-" is standard input (which only one input may use);
 * nofollow refuses symbolic links (key files).  Returns the fd or -1. */
int cli_open_in(const char *path, int nofollow);
/* Close an fd cli_open_in returned (standard input is left open). */
void cli_close_in(int fd);
/* Take standard input for one purpose (an input, a passphrase); -1 with a
 * line when it is closed or already taken. */
int cli_claim_stdin(void);
/* Was standard descriptor fd (0, 1, 2) closed when the program started? */
int cli_stdio_closed(int fd);
/* Files read whole: remember a key or recipients file this command read, so
 * that no output replaces it (cli_is_read_file); and whether a path names
 * standard input ("-" or NULL). */
struct stat;
void cli_note_read_file(const struct stat *st);
int cli_is_read_file(const struct stat *st);
int cli_is_stdio_name(const char *path);
/* Read a whole small file (NULL or "-": standard input) into a NUL-terminated
 * malloc'd buffer; more than max bytes is an error.  The caller wipes and
 * frees it when it may hold secrets. */
int cli_read_file(const char *path, size_t max, int nofollow, char **buf, size_t *len);
/* Split text into lines ("\n" or "\r\n"); calls fn for each with its
 * 1-based number.  Stops at the first non-zero return, which it returns. */
int cli_for_each_line(const char *text, size_t len,
                      int (*fn)(void *ctx, const char *line, size_t linelen, size_t lineno),
                      void *ctx);
/* Wipe and free a passphrase or key text. */
void cli_free_secret(char *p, size_t len);

/* What to do about a failed system call with this errno (no final period). */
const char *cli_io_hint(int err);

#endif
