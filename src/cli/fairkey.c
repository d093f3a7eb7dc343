/* fairkey: the command-line tool.  Dispatches to one file per subcommand. */
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct command {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
};

#ifdef FK_CLI_LIGHT
/* The light executable runs the network and database commands by executing
 * fairkey-net with the same arguments (same process id).  fairkey-net is
 * looked for relative to this executable's own file, as /proc/self/exe names
 * it (symbolic links resolved, so a link to fairkey in another folder still
 * finds the fairkey-net installed with it):
 *   1. beside it: the build folder, or an installation that keeps both in one
 *      folder;
 *   2. FK_NET_RELDIR from it: the installed layout, bin/fairkey and
 *      libexec/fairkey/fairkey-net (set by CMake from GNUInstallDirs).
 * Never through $PATH or an environment variable: whoever sets those would
 * choose the program that receives the command line and the descriptors. */
#define FK_NET_EXE "fairkey-net"
#ifndef FK_NET_RELDIR
#define FK_NET_RELDIR "../libexec/fairkey"
#endif
#define FK_EXE_PATH_MAX 4096 /* Linux's PATH_MAX: longer paths cannot be executed */

int cli_exec_net(int argc, char **argv)
{
    static const char *const reldirs[] = {"", FK_NET_RELDIR "/"};
    char self[FK_EXE_PATH_MAX], tried[sizeof reldirs / sizeof reldirs[0]][FK_EXE_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self);
    char *slash;
    if (n > 0 && (size_t)n < sizeof self)
        self[n] = '\0';
    if (n <= 0 || (size_t)n >= sizeof self || !(slash = strrchr(self, '/'))) {
        cli_err("cannot find the fairkey executable's folder (/proc/self/exe); run %s directly",
                FK_NET_EXE);
        return FK_EXIT_FAIL;
    }
    slash[1] = '\0';
    for (size_t i = 0; i < sizeof reldirs / sizeof reldirs[0]; i++) {
        int len = snprintf(tried[i], sizeof tried[i], "%s%s%s", self, reldirs[i], FK_NET_EXE);
        if (len < 0 || (size_t)len >= sizeof tried[i]) {
            cli_err("the path of %s is too long; install fairkey in a shorter folder", FK_NET_EXE);
            return FK_EXIT_FAIL;
        }
        /* argv is main's argv + 1, so argv[-1] is the program name's slot. */
        argv[-1] = tried[i];
        execv(tried[i], argv - 1);
        if (errno != ENOENT && errno != ENOTDIR) {
            /* It is there but does not run: say so rather than try another copy. */
            cli_err("cannot run %s: %s; reinstall fairkey (it must be an executable file)",
                    tried[i], strerror(errno));
            return FK_EXIT_FAIL;
        }
    }
    cli_err("%s is missing (looked for %s and %s); reinstall fairkey, or run it from its build folder",
            FK_NET_EXE, tried[0], tried[1]);
    (void)argc;
    return FK_EXIT_FAIL;
}
#define FK_NET_COMMAND(name, fn, help) {name, cli_exec_net, help},
#else
#define FK_NET_COMMAND(name, fn, help) {name, fn, help},
#endif

static const struct command commands[] = {
#define FK_COMMAND(name, fn, help) {name, fn, help},
#include "commands.h"
#undef FK_COMMAND
#undef FK_NET_COMMAND
};

static int asks_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            return 0;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
    }
    return 0;
}

static void show_usage(FILE *f)
{
    fprintf(f, "usage: fairkey <command> [options]\n\nfairkey %s: age v1 encryption with accountable key escrow.\n\ncommands:\n",
            FAIRKEY_VERSION);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nRun 'fairkey <command> -h' for a command's options.\n");
}

/* ---- age's invocation ----------------------------------------------------
 * "age [-e | -d] [flags] [INPUT]": as a program named age, or as fairkey with
 * a flag where the command belongs; "age-keygen" and "fairkey-keygen" are
 * keygen.  Scripts written for age then switch by changing one name. */

static const char age_usage[] =
    "Usage:\n"
    "    age [--encrypt] (-r RECIPIENT | -R PATH)... [--armor] [-o OUTPUT] [INPUT]\n"
    "    age [--encrypt] --passphrase [--armor] [-o OUTPUT] [INPUT]\n"
    "    age --decrypt [-i PATH | -j PLUGIN]... [-o OUTPUT] [INPUT]\n"
    "\n"
    "Options:\n"
    "    -e, --encrypt               Encrypt the input to the output. Default if omitted.\n"
    "    -d, --decrypt               Decrypt the input to the output.\n"
    "    -o, --output OUTPUT         Write the result to the file at path OUTPUT.\n"
    "    -a, --armor                 Encrypt to a PEM encoded format.\n"
    "    -p, --passphrase            Encrypt with a passphrase.\n"
    "    -r, --recipient RECIPIENT   Encrypt to the specified RECIPIENT. Can be repeated.\n"
    "    -R, --recipients-file PATH  Encrypt to recipients listed at PATH. Can be repeated.\n"
    "    -i, --identity PATH         Use the identity file at PATH. Can be repeated.\n"
    "    -j PLUGIN                   Encrypt or decrypt with the data-less plugin PLUGIN.\n"
    "\n"
    "INPUT defaults to standard input, and OUTPUT defaults to standard output.\n"
    "This is fairkey " FAIRKEY_VERSION " under age's name: 'fairkey encrypt -h' and\n"
    "'fairkey decrypt -h' list its own flags (escrow, --passphrase-fd).\n";

/* Long options whose value is the next argument (as getopt_long takes them). */
static int long_takes_value(const char *a)
{
    static const char *const names[] = {"--recipient", "--recipients-file", "--identity",
                                        "--output", "--passphrase-fd", "--require-escrow",
                                        "--plugin"};
    if (strchr(a, '='))
        return 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(a, names[i]))
            return 1;
    return 0;
}

static int age_main(int argc, char **argv)
{
    int decrypt = 0, encrypt = 0;
    if (argc < 2) {
        fputs(age_usage, stderr);
        return FK_EXIT_USAGE;
    }
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(age_usage, stderr); /* where age prints it */
        return FK_EXIT_OK;
    }
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("fairkey %s\n", FAIRKEY_VERSION);
        return FK_EXIT_OK;
    }
    /* Options end where encrypt's and decrypt's getopt stop: at "--" or the
     * first operand.  -d among them picks decrypt, as age; else encrypt. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--") || a[0] != '-' || !a[1])
            break;
        if (a[1] == '-') {
            if (!strcmp(a, "--decrypt"))
                decrypt = 1;
            else if (!strcmp(a, "--encrypt"))
                encrypt = 1;
            else if (long_takes_value(a))
                i++;
            continue;
        }
        for (const char *c = a + 1; *c; c++) {
            if (*c == 'd')
                decrypt = 1;
            else if (*c == 'e')
                encrypt = 1;
            else if (strchr("rRioj", *c)) {
                if (!c[1])
                    i++; /* the value is the next argument */
                break;   /* or the rest of this one */
            }
        }
    }
    if (decrypt && encrypt) {
        cli_err("-e and -d cannot be combined; give one of them");
        return FK_EXIT_USAGE;
    }
    return decrypt ? cmd_decrypt_main(argc, argv) : cmd_encrypt_main(argc, argv);
}

int main(int argc, char **argv)
{
    cli_stdio_init();
    /* Keys, shares and plaintext pass through this process: no core file,
     * no ptrace by other processes of the user (best effort). */
    (void)fk_process_protect();
    const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
    const char *self = slash ? slash + 1 : argc > 0 ? argv[0] : "fairkey";
    if (!strcmp(self, "age"))
        return age_main(argc, argv);
    if (!strcmp(self, "age-keygen") || !strcmp(self, "fairkey-keygen"))
        return cmd_keygen_main(argc, argv);
    if (argc >= 2 && argv[1][0] == '-' && argv[1][1] && strcmp(argv[1], "-h") &&
        strcmp(argv[1], "--help") && strcmp(argv[1], "--version"))
        return age_main(argc, argv);
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
    if (cli_set_help_wanted(asks_help(argc - 1, argv + 1)))
        opterr = 0; /* no "invalid option -- 'h'" from getopt before the usage */
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    cli_err("unknown command '%s'; run 'fairkey help' for the list", argv[1]);
    return FK_EXIT_USAGE;
}
