/* fairkey: the command-line tool.  Dispatches to one file per subcommand. */
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
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
 * fairkey-net from its own folder with the same arguments. */
#define FK_NET_EXE "fairkey-net"

static int exec_net(int argc, char **argv)
{
    char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - sizeof FK_NET_EXE - 1);
    char *slash;
    if (n > 0)
        path[n] = '\0';
    if (n <= 0 || !(slash = strrchr(path, '/'))) {
        cli_err("cannot find the fairkey executable's folder (/proc/self/exe); run %s directly",
                FK_NET_EXE);
        return FK_EXIT_FAIL;
    }
    memcpy(slash + 1, FK_NET_EXE, sizeof FK_NET_EXE);
    /* argv is main's argv + 1, so argv[-1] is the program name's slot. */
    argv[-1] = path;
    execv(path, argv - 1);
    cli_err("cannot run %s: %s; it is built and installed beside fairkey", path, strerror(errno));
    (void)argc;
    return FK_EXIT_FAIL;
}
#define FK_NET_COMMAND(name, fn, help) {name, exec_net, help},
#else
#define FK_NET_COMMAND(name, fn, help) {name, fn, help},
#endif

static const struct command commands[] = {
#define FK_COMMAND(name, fn, help) {name, fn, help},
#include "commands.h"
#undef FK_COMMAND
#undef FK_NET_COMMAND
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
