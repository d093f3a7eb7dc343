/* Input, output, passphrases and key files: the helpers every subcommand uses. */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cli.h"

/* ---- outputs: temporary file, renamed into place on success ------------ */

/* The temporary file of the output being written, removed if a signal ends
 * the program.  Only one output is open at a time. */
static volatile sig_atomic_t have_tmp;
static char tmp_for_signal[PATH_MAX];
/* The terminal whose echo a passphrase prompt turned off, and its settings
 * before: a signal during the prompt must not leave the shell without echo. */
static volatile sig_atomic_t tty_fd_for_signal = -1;
static struct termios tty_saved;

static void on_fatal_signal(int sig)
{
    if (tty_fd_for_signal >= 0)
        tcsetattr(tty_fd_for_signal, TCSANOW, &tty_saved);
    if (have_tmp)
        unlink(tmp_for_signal);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Route the signals that end the program through on_fatal_signal (once). */
static void install_fatal_handlers(void)
{
    static int installed;
    if (installed)
        return;
    installed = 1;
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction sa, old;
        /* A signal the caller ignores (a background job's SIGINT) stays ignored. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

static void install_signal_cleanup(const char *tmp)
{
    size_t n = strlen(tmp);
    if (n >= sizeof(tmp_for_signal))
        return;
    memcpy(tmp_for_signal, tmp, n + 1);
    have_tmp = 1;
    install_fatal_handlers();
}

int cli_out_open(cli_out *o, const char *path, unsigned flags)
{
    memset(o, 0, sizeof(*o));
    o->fd = -1;
    /* A closed pipe must be a write error we report, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    if (cli_is_stdio_name(path)) {
        if (cli_stdio_closed(STDOUT_FILENO)) {
            cli_err("standard output is closed; give an output file with -o FILE");
            return -1;
        }
        o->fd = STDOUT_FILENO;
        o->is_stdout = 1;
        return 0;
    }
    o->noclobber = !!(flags & CLI_OUT_NOCLOBBER);
    struct stat st;
    int replacing = 0; /* an existing regular file gets replaced */
    if (lstat(path, &st) == 0) {
        if (o->noclobber) {
            cli_err("%s already exists; refusing to overwrite it, choose another name", path);
            return -1;
        }
        struct stat tgt;
        if (stat(path, &tgt) == 0 && (S_ISCHR(tgt.st_mode) || S_ISFIFO(tgt.st_mode))) {
            /* A device or pipe (/dev/null, /dev/stdout, a FIFO) cannot be
             * replaced by rename: write to it directly, like stdout. */
            o->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
            if (o->fd < 0) {
                cli_err("cannot open %s: %s", path, strerror(errno));
                return -1;
            }
            o->is_stdout = 1;
            o->direct = 1;
            return 0;
        }
        if (S_ISLNK(st.st_mode)) {
            /* Replace the file the link points to, not the link. */
            char *real = realpath(path, NULL);
            if (!real || stat(real, &tgt) < 0 || !S_ISREG(tgt.st_mode)) {
                free(real);
                cli_err("%s is a symbolic link to something that is not a regular file; choose another output name",
                        path);
                return -1;
            }
            int r = cli_out_open(o, real, flags);
            free(real);
            return r;
        }
        if (!S_ISREG(st.st_mode)) {
            cli_err("%s exists and is not a regular file; choose another output name", path);
            return -1;
        }
        if (cli_is_read_file(&st)) {
            cli_err("%s is a key or recipients file this command reads; replacing it would lose "
                    "it, choose another output name",
                    path);
            return -1;
        }
        /* age writes into the existing file, so a file the user may not
         * write (chmod a-w) is protected; a rename would replace it anyway. */
        if (access(path, W_OK) < 0) {
            cli_err("cannot write %s: %s; %s", path, strerror(errno), cli_io_hint(errno));
            return -1;
        }
        replacing = 1;
    }
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = slash ? slash + 1 : path;
    if (!*base) {
        cli_err("%s names a directory; give a file name for the output", path);
        return -1;
    }
    /* "<dir>/.<base>.XXXXXX": same folder, so the final rename is atomic. */
    size_t tmplen = dirlen + 1 + strlen(base) + 8;
    o->tmp = malloc(tmplen);
    o->final = strdup(path);
    if (!o->tmp || !o->final) {
        cli_err("out of memory");
        goto fail;
    }
    snprintf(o->tmp, tmplen, "%.*s.%s.XXXXXX", (int)dirlen, path, base);
    /* mkostemp creates the file 0600 with O_EXCL; close-on-exec, so a
     * plugin started while it is open does not hold it. */
    o->fd = mkostemp(o->tmp, O_CLOEXEC);
    if (o->fd < 0) {
        cli_err("cannot create a file next to %s: %s; %s", path, strerror(errno),
                cli_io_hint(errno));
        goto fail;
    }
    install_signal_cleanup(o->tmp);
    if (!(flags & CLI_OUT_SECRET)) {
        mode_t um = umask(0);
        umask(um);
        mode_t mode = 0666 & ~um;
        if (replacing) {
            /* The new file must not be readable by more people than the
             * one it replaces (age truncates in place, which keeps the mode
             * and owner): a 0600 file stays 0600.  Keep its owner and group
             * where allowed; where the group cannot be kept, no group bits. */
            mode &= st.st_mode;
            if ((st.st_uid != geteuid() || st.st_gid != getegid()) &&
                fchown(o->fd, st.st_uid, st.st_gid) < 0 &&
                fchown(o->fd, (uid_t)-1, st.st_gid) < 0)
                mode &= ~(mode_t)070;
        }
        if (fchmod(o->fd, mode) < 0) {
            cli_err("cannot set the mode of %s: %s", o->tmp, strerror(errno));
            goto fail;
        }
    }
    return 0;
fail:
    cli_out_abort(o);
    return -1;
}

int cli_out_commit(cli_out *o)
{
    if (o->is_stdout) {
        /* written with write(2): nothing buffered */
        if (o->direct && close(o->fd) < 0) {
            o->fd = -1;
            cli_err("cannot write %s: %s", "the output", strerror(errno));
            return -1;
        }
        o->fd = -1;
        return 0;
    }
    if (o->fd < 0)
        return -1;
    if (fsync(o->fd) < 0 || close(o->fd) < 0) {
        o->fd = -1;
        cli_err("cannot write %s: %s; %s", o->final, strerror(errno), cli_io_hint(errno));
        cli_out_abort(o);
        return -1;
    }
    o->fd = -1;
    int r;
    if (o->noclobber) {
        /* link() fails if the name exists: no overwrite even if a file
         * appeared since cli_out_open. */
        r = link(o->tmp, o->final);
        if (r == 0)
            unlink(o->tmp);
    } else {
        r = rename(o->tmp, o->final);
    }
    if (r < 0) {
        if (errno == EEXIST)
            cli_err("%s already exists; refusing to overwrite it, choose another name", o->final);
        else
            cli_err("cannot create %s: %s; %s", o->final, strerror(errno), cli_io_hint(errno));
        cli_out_abort(o);
        return -1;
    }
    have_tmp = 0;
    free(o->tmp);
    free(o->final);
    o->tmp = o->final = NULL;
    return 0;
}

void cli_out_abort(cli_out *o)
{
    if (o->is_stdout) {
        if (o->direct && o->fd >= 0)
            close(o->fd);
        o->fd = -1;
        return;
    }
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
    if (o->tmp) {
        unlink(o->tmp);
        have_tmp = 0;
    }
    free(o->tmp);
    free(o->final);
    o->tmp = o->final = NULL;
}

int cli_write_all(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int cli_out_write_file(const char *path, unsigned flags, const void *buf, size_t len)
{
    cli_out o;
    if (cli_out_open(&o, path, flags))
        return -1;
    if (cli_write_all(o.fd, buf, len)) {
        cli_err("cannot write %s: %s; %s", o.final ? o.final : "standard output", strerror(errno),
                cli_io_hint(errno));
        cli_out_abort(&o);
        return -1;
    }
    return cli_out_commit(&o);
}

/* ---- passphrases ------------------------------------------------------- */

int cli_passphrase_fd = -1;

int cli_set_passphrase_fd(const char *arg)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < 0 || v > INT_MAX) {
        cli_err("--passphrase-fd needs a file descriptor number, not '%s'", arg);
        return -1;
    }
    /* Checked now, before any file is opened: later, a closed number could
     * be the input or the temporary output, read as the passphrase. */
    if (fcntl((int)v, F_GETFD) < 0) {
        cli_err("--passphrase-fd %ld: that descriptor is not open; open it for the command "
                "(%ld<passfile) or set FAIRKEY_PASSPHRASE",
                v, v);
        return -1;
    }
    /* --passphrase-fd 0 is standard input, which then cannot be the input too. */
    if (v == STDIN_FILENO && cli_claim_stdin() < 0)
        return -1;
    cli_passphrase_fd = (int)v;
    return 0;
}


/* Read one line from fd (up to CLI_PASSPHRASE_MAX), without the newline. */
static int read_line_fd(int fd, char **out, size_t *outlen)
{
    char *b = malloc(CLI_PASSPHRASE_MAX + 1);
    if (!b)
        return -1;
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            cli_free_secret(b, CLI_PASSPHRASE_MAX + 1);
            return -1;
        }
        if (r == 0 || c == '\n')
            break;
        if (n == CLI_PASSPHRASE_MAX) {
            cli_free_secret(b, CLI_PASSPHRASE_MAX + 1);
            errno = EFBIG;
            return -1;
        }
        b[n++] = c;
    }
    if (n > 0 && b[n - 1] == '\r')
        n--;
    b[n] = '\0';
    *out = b;
    *outlen = n;
    return 0;
}

static int tty_prompt(int tty, const char *prompt, char **out, size_t *outlen)
{
    struct termios old, noecho;
    if (tcgetattr(tty, &old) < 0)
        return -1;
    noecho = old;
    noecho.c_lflag &= ~(tcflag_t)ECHO;
    noecho.c_lflag |= ECHONL;
    if (cli_write_all(tty, prompt, strlen(prompt)) < 0 || cli_write_all(tty, ": ", 2) < 0)
        return -1;
    tty_saved = old;
    tty_fd_for_signal = tty;
    install_fatal_handlers();
    /* TCSANOW, never TCSAFLUSH: a flush would discard what was typed ahead
     * (a script, expect, a pty that writes before the prompt appears), and the
     * prompt would then wait for input that already came.  Restoring flushes
     * nothing either: a confirmation may be typed ahead too. */
    if (tcsetattr(tty, TCSANOW, &noecho) < 0) {
        tty_fd_for_signal = -1;
        return -1;
    }
    int r = read_line_fd(tty, out, outlen);
    int e = errno;
    tcsetattr(tty, TCSANOW, &old);
    tty_fd_for_signal = -1;
    errno = e;
    return r;
}

int cli_tty_ask(const char *prompt, int secret, char **out, size_t *len)
{
    int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY), r;
    if (tty < 0)
        return -1;
    if (secret) {
        r = tty_prompt(tty, prompt, out, len);
    } else {
        r = cli_write_all(tty, prompt, strlen(prompt)) < 0 || cli_write_all(tty, ": ", 2) < 0
                ? -1
                : read_line_fd(tty, out, len);
    }
    close(tty);
    return r;
}

int cli_read_passphrase(const char *prompt, int confirm, char **pass, size_t *len)
{
    char *p = NULL;
    size_t n = 0;
    if (cli_passphrase_fd >= 0) {
        if (read_line_fd(cli_passphrase_fd, &p, &n) < 0) {
            int e = errno;
            if (e == EFBIG)
                cli_err("cannot read the passphrase from file descriptor %d: longer than %u "
                        "bytes; give the passphrase alone on the first line",
                        cli_passphrase_fd, CLI_PASSPHRASE_MAX);
            else
                cli_err("cannot read the passphrase from file descriptor %d: %s; open it for "
                        "the command (%d<passfile) or set FAIRKEY_PASSPHRASE",
                        cli_passphrase_fd, strerror(e), cli_passphrase_fd);
            return -1;
        }
    } else if (getenv("FAIRKEY_PASSPHRASE")) {
        const char *env = getenv("FAIRKEY_PASSPHRASE");
        n = strlen(env);
        if (n > CLI_PASSPHRASE_MAX) {
            cli_err("FAIRKEY_PASSPHRASE is longer than %u bytes; use a shorter passphrase",
                    CLI_PASSPHRASE_MAX);
            return -1;
        }
        p = strdup(env);
        if (!p) {
            cli_err("out of memory");
            return -1;
        }
    } else {
        int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (tty < 0) {
            cli_err("a passphrase is needed but there is no terminal; set FAIRKEY_PASSPHRASE or use --passphrase-fd N");
            return -1;
        }
        if (tty_prompt(tty, prompt, &p, &n) < 0) {
            cli_err("cannot read the passphrase from the terminal: %s",
                    errno == EFBIG ? "longer than 4096 bytes" : strerror(errno));
            close(tty);
            return -1;
        }
        if (confirm) {
            char *q = NULL;
            size_t qn = 0;
            if (tty_prompt(tty, "Confirm passphrase", &q, &qn) < 0) {
                cli_err("cannot read the passphrase from the terminal: %s", strerror(errno));
                cli_free_secret(p, n);
                close(tty);
                return -1;
            }
            int same = qn == n && fk_ct_eq(p, q, n);
            cli_free_secret(q, qn);
            if (!same) {
                cli_err("the passphrases do not match; try again");
                cli_free_secret(p, n);
                close(tty);
                return -1;
            }
        }
        close(tty);
    }
    if (n == 0) {
        cli_err("the passphrase is empty; give a non-empty passphrase");
        cli_free_secret(p, n);
        return -1;
    }
    *pass = p;
    *len = n;
    return 0;
}

/* ---- errors ------------------------------------------------------------ */

/* Set by a helper that has printed why a step failed (see cli.h). */
int cli_reported;


const char *cli_describe_err(fk_err e)
{
    switch (e) {
    case FK_ERR_HEADER:
        return "the file's header is malformed or a recipient stanza is invalid; the file is corrupted or not an age file";
    case FK_ERR_ARMOR:
        return "the file's ASCII armor is malformed; the file was altered or badly copied";
    case FK_ERR_NO_MATCH:
        return "no identity matched any of the file's recipients; check the -i files";
    case FK_ERR_HMAC:
        return "the header's MAC does not verify; the header was altered, the file cannot be trusted";
    case FK_ERR_PAYLOAD:
        return "the file is truncated or corrupted";
    case FK_ERR_LIMIT:
        return "the header is larger than 16 MiB; this is not a file fairkey will read";
    case FK_ERR_UNSUPPORTED:
        return "the file uses a recipient type this build does not support";
    case FK_ERR_ESCROW:
        return "the file's escrow stanza is missing or does not recompute; the sender did not escrow it as required";
    case FK_ERR_NOMEM:
        return "out of memory";
    default:
        return fk_strerror(e);
    }
}

int cli_write_new_file(const char *path, const char *text, size_t len, int secret)
{
    cli_out o;
    if (cli_out_open(&o, path, CLI_OUT_NOCLOBBER | (secret ? CLI_OUT_SECRET : 0)) < 0)
        return -1;
    if (cli_write_all(o.fd, text, len) < 0) {
        cli_err("cannot write %s: %s", path, strerror(errno));
        cli_out_abort(&o);
        return -1;
    }
    return cli_out_commit(&o);
}

int cli_sha256_file(const char *path, uint8_t out[32], uint64_t *size)
{
    int fd = cli_open_in(path, 0);
    if (fd < 0)
        return -1;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint8_t *buf = malloc(CLI_HASH_BUF);
    ssize_t n = 0;
    uint64_t total = 0;
    unsigned hl;
    int ok = c && buf && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1;
    while (ok && (n = read(fd, buf, CLI_HASH_BUF)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0 && EVP_DigestUpdate(c, buf, (size_t)n) == 1;
        total += n > 0 ? (uint64_t)n : 0;
    }
    int err = errno;
    ok = ok && EVP_DigestFinal_ex(c, out, &hl) == 1;
    EVP_MD_CTX_free(c);
    if (buf)
        fk_wipe(buf, CLI_HASH_BUF); /* it may have held a plaintext (a recovered archive) */
    free(buf);
    cli_close_in(fd);
    if (!ok) {
        cli_err("cannot read %s: %s; %s", path, n < 0 ? strerror(err) : "out of memory",
                cli_io_hint(err));
        return -1;
    }
    if (size)
        *size = total;
    return 0;
}

int cli_read_public_line(const char *arg, const char *opt, char name[FK_REQUEST_NAME_MAX + 1],
                         uint8_t key[32])
{
    char *text = NULL, line[FK_REQUESTER_PUB_LINE_MAX + 1];
    size_t len = 0, n = 0;
    const char *src = arg;
    if (access(arg, F_OK) == 0) {
        if (cli_read_file(arg, CLI_LINE_MAX, 0, &text, &len))
            return -1;
        src = text;
    } else {
        len = strlen(arg);
    }
    const char *nl = memchr(src, '\n', len);
    size_t ll = nl ? (size_t)(nl - src) : len;
    int ok = ll < sizeof line;
    if (ok) {
        memcpy(line, src, ll);
        line[ll] = 0;
    }
    free(text);
    char *sp = ok ? strchr(line, ' ') : NULL, *end;
    if (sp) {
        *sp = 0;
        if ((end = strchr(sp + 1, ' ')))
            *end = 0;
    }
    if (!sp || !line[0] || strlen(line) > FK_REQUEST_NAME_MAX || strpbrk(line, "+\t") ||
        strlen(sp + 1) != 43 || fk_b64_decode(key, 32, &n, sp + 1, 43) || n != 32) {
        cli_err("%s %s: not a public line '<name> <base64 Ed25519 key>' (what 'fairkey request "
                "keygen' printed), nor a file holding one", opt, arg);
        return -1;
    }
    memcpy(name, line, strlen(line) + 1);
    return 0;
}
