/* fairkey keygen: X25519 identities in age-keygen's file format. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char synopsis[] = "keygen [-o OUTPUT]\n       fairkey keygen -y [-o OUTPUT] [INPUT]";
/* -h: the synopsis, then this. */
static const char help[] =
    "  -o, --output OUTPUT  write to OUTPUT; a new identity gets mode 0600 and never\n"
    "                       replaces an existing file\n"
    "  -y                   print the recipient of each identity in INPUT\n"
    "\n"
    "The identity is in age-keygen's format; with -o, its public key is printed\n"
    "on standard error.  INPUT defaults to standard input.  See docs/cli.md.\n";

/* RFC 3339 local time with its offset ("Z" for UTC), as age-keygen writes. */
static void rfc3339_now(char *buf, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff;
    if (off == 0) {
        snprintf(buf + n, cap - n, "Z");
    } else {
        char sign = off < 0 ? '-' : '+';
        if (off < 0)
            off = -off;
        snprintf(buf + n, cap - n, "%c%02ld:%02ld", sign, off / 3600, (off / 60) % 60);
    }
}

static int generate(const char *outpath)
{
    cli_out out;
    if (cli_out_open(&out, outpath, CLI_OUT_SECRET | CLI_OUT_NOCLOBBER) < 0)
        return FK_EXIT_FAIL;
    int to_tty = out.is_stdout && isatty(STDOUT_FILENO);
    if (to_tty)
        fprintf(stderr, "fairkey: warning: writing a secret key to the terminal; use -o FILE to save it to a file\n");
    struct stat st;
    if (out.is_stdout && fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
        (st.st_mode & 0004))
        fprintf(stderr, "fairkey: warning: writing a secret key to a world-readable file; use -o FILE for a 0600 file\n");

    char sk[FK_AGE_IDENTITY_STR_MAX], pk[FK_AGE_RECIPIENT_STR_MAX];
    fk_err e = fk_x25519_keygen(sk, pk);
    if (e != FK_OK) {
        fk_wipe(sk, sizeof(sk));
        cli_err("cannot generate a key: %s", fk_strerror(e));
        cli_out_abort(&out);
        return FK_EXIT_FAIL;
    }
    char created[64];
    rfc3339_now(created, sizeof(created));
    char text[256];
    int n = snprintf(text, sizeof(text), "# created: %s\n# public key: %s\n%s\n", created, pk, sk);
    fk_wipe(sk, sizeof(sk));
    int ok = n > 0 && (size_t)n < sizeof(text) && cli_write_all(out.fd, text, (size_t)n) == 0;
    fk_wipe(text, sizeof(text));
    if (!ok) {
        cli_err("cannot write the key: %m");
        cli_out_abort(&out);
        return FK_EXIT_FAIL;
    }
    if (cli_out_commit(&out) < 0)
        return FK_EXIT_FAIL;
    if (!to_tty)
        fprintf(stderr, "Public key: %s\n", pk);
    return FK_EXIT_OK;
}

struct convert_ctx {
    const char *name;
    int fd;
    size_t count;
};

static int convert_line(void *vctx, const char *line, size_t len, size_t lineno)
{
    struct convert_ctx *c = vctx;
    if (len == 0 || line[0] == '#')
        return 0;
    char sk[FK_AGE_IDENTITY_STR_MAX], pk[FK_AGE_RECIPIENT_STR_MAX + 1];
    fk_err e = FK_ERR_INVALID;
    if (len < sizeof(sk) && !memchr(line, '\0', len)) {
        memcpy(sk, line, len);
        sk[len] = '\0';
        e = fk_x25519_identity_to_recipient(pk, sk);
    }
    fk_wipe(sk, sizeof(sk));
    if (e != FK_OK) {
        cli_err("%s: malformed identity at line %zu; identity files hold AGE-SECRET-KEY-1... lines",
                c->name, lineno);
        return -1;
    }
    size_t pl = strlen(pk);
    pk[pl++] = '\n';
    if (cli_write_all(c->fd, pk, pl) < 0) {
        cli_err("cannot write the recipient: %m");
        return -1;
    }
    c->count++;
    return 0;
}

static int convert(const char *inpath, const char *outpath)
{
    char *text;
    size_t len;
    if (cli_read_file(inpath, CLI_KEYFILE_MAX, 1, &text, &len) < 0)
        return FK_EXIT_FAIL;
    cli_out out;
    if (cli_out_open(&out, outpath, 0) < 0) {
        cli_free_secret(text, len);
        return FK_EXIT_FAIL;
    }
    struct convert_ctx c = {inpath && strcmp(inpath, "-") ? inpath : "standard input", out.fd, 0};
    int r = cli_for_each_line(text, len, convert_line, &c);
    cli_free_secret(text, len);
    if (r == 0 && c.count == 0) {
        cli_err("%s: no identities found; check the file", c.name);
        r = -1;
    }
    if (r != 0) {
        cli_out_abort(&out);
        return FK_EXIT_FAIL;
    }
    return cli_out_commit(&out) < 0 ? FK_EXIT_FAIL : FK_EXIT_OK;
}

int cmd_keygen_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *outpath = NULL;
    int to_public = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:o:yh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            outpath = optarg;
            break;
        case 'y':
            to_public = 1;
            break;
        case 'h':
            printf("usage: fairkey %s\n\n%s", synopsis, help);
            return FK_EXIT_OK;
        default:
            return cli_bad_option(c, argv, synopsis);
        }
    }
    if (to_public) {
        if (argc - optind > 1)
            return cli_bad_operand(argv[optind + 1], synopsis);
        return convert(optind < argc ? argv[optind] : NULL, outpath);
    }
    if (optind != argc)
        return cli_bad_operand(argv[optind], synopsis);
    return generate(outpath);
}
