/* Recipients and identities from the command line and from files: native
 * age keys, SSH keys, plugin keys, recipients files, identity files (plain
 * or passphrase-encrypted). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cli.h"

/* ---- recipients and identities ----------------------------------------- */

static int has_prefix(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

int cli_looks_secret(const char *s)
{
    /* Bech32 is case-insensitive: "age-secret-key-1..." is the same key. */
    return !strncasecmp(s, "AGE-SECRET-KEY-", 15) || !strncasecmp(s, "AGE-PLUGIN-", 11);
}

/* age's own recipient types that OpenSSL 3.0 cannot serve: ML-KEM hybrids
 * (age1pq1...) and the tagged types (age1tag1..., age1tagpq1...). */
static int is_native_unsupported(const char *s)
{
    return has_prefix(s, "age1pq1") || has_prefix(s, "age1tag1") || has_prefix(s, "age1tagpq1");
}

static void native_unsupported_err(const char *where, const char *s)
{
    if (has_prefix(s, "age1pq1") || has_prefix(s, "age1tagpq1"))
        cli_err("%spost-quantum recipients need ML-KEM, which this build's OpenSSL lacks; "
                "use an age1... X25519 recipient", where);
    else
        cli_err("%stagged (age1tag1...) recipients are not supported by this build; use an "
                "age1... X25519 recipient", where);
}

/* An SSH public key line (authorized_keys style), as age recognises one. */
static int is_ssh_key(const char *s)
{
    return has_prefix(s, "ssh-") || has_prefix(s, "ecdsa-") || has_prefix(s, "sk-");
}

fk_err cli_parse_recipient(const char *s, fk_recipient **out)
{
    if (is_ssh_key(s))
        return fk_ssh_recipient_parse(out, s, NULL);
    /* Escrow authorities ("age1fairkey1...") belong to the escrow module;
     * every other "age1..." goes through the age library's dispatcher. */
    if (has_prefix(s, FK_ESCROW_RECIPIENT_HRP "1"))
        return fk_escrow_recipient_parse(out, s);
    if (has_prefix(s, "age1")) {
        fk_err e = fk_recipient_parse(out, s);
        /* age1NAME1...: a plugin's, unless NAME is one of age's own types
         * this build lacks (post-quantum, tagged). */
        if (e == FK_ERR_UNSUPPORTED && !is_native_unsupported(s))
            e = cli_plugin_recipient(out, s, 0);
        return e;
    }
    return FK_ERR_INVALID;
}

int cli_recipients_add(cli_recipients *l, fk_recipient *r)
{
    fk_recipient **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
    if (!nv) {
        fk_recipient_free(r);
        cli_err("out of memory");
        return -1;
    }
    l->v = nv;
    l->v[l->n++] = r;
    return 0;
}

void cli_recipients_free(cli_recipients *l)
{
    for (size_t i = 0; i < l->n; i++)
        fk_recipient_free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* The first word of an SSH key line (its type), cut short, for messages:
 * the key itself is public but long. */
static const char *ssh_type_of(const char *s, char buf[48])
{
    size_t n = strcspn(s, " \t");
    snprintf(buf, 48, "%.*s%s", (int)(n > 40 ? 40 : n), s, n > 40 ? "..." : "");
    return buf;
}

int cli_recipients_add_string(cli_recipients *l, const char *s)
{
    fk_recipient *r = NULL;
    if (is_ssh_key(s)) {
        const char *why = NULL;
        char t[48];
        fk_err e = fk_ssh_recipient_parse(&r, s, &why);
        if (e != FK_OK) {
            cli_err("SSH recipient of type %s: %s", ssh_type_of(s, t), why ? why : fk_strerror(e));
            return -1;
        }
        return cli_recipients_add(l, r);
    }
    fk_err e = cli_parse_recipient(s, &r);
    if (e == FK_ERR_UNSUPPORTED) {
        if (is_native_unsupported(s))
            native_unsupported_err("", s);
        else
            cli_err("recipient '%.40s' is of a kind this build does not support; use an age1... recipient",
                    s);
        return -1;
    }
    if (e != FK_OK) {
        if (cli_looks_secret(s))
            cli_err("that is a secret key, not a recipient; pass the identity file with -i, or its public key (fairkey keygen -y) with -r");
        else
            cli_err("'%.40s%s' is not a valid recipient (%s); check it for a typo: recipients are "
                    "age1... strings as 'fairkey keygen -y' or 'fairkey authority show' print them",
                    s, strlen(s) > 40 ? "..." : "", fk_strerror(e));
        return -1;
    }
    return cli_recipients_add(l, r);
}

struct rfile_ctx {
    cli_recipients *l;
    const char *name;
    size_t added;
};

static int rfile_line(void *vctx, const char *line, size_t len, size_t lineno)
{
    struct rfile_ctx *c = vctx;
    if (len == 0 || line[0] == '#')
        return 0;
    if (len > CLI_LINE_MAX) {
        cli_err("%s: line %zu is too long; is it a recipients file?", c->name, lineno);
        return -1;
    }
    char *s = strndup(line, len);
    if (!s) {
        cli_err("out of memory");
        return -1;
    }
    fk_recipient *r = NULL;
    if (!memchr(line, '\0', len) && is_ssh_key(s)) {
        const char *why = NULL;
        char t[48];
        fk_err e = fk_ssh_recipient_parse(&r, s, &why);
        ssh_type_of(s, t);
        free(s);
        if (e == FK_ERR_UNSUPPORTED) {
            /* As age: a GitHub .keys list or an authorized_keys file may hold
             * ecdsa or security-key lines, which no age recipient can use. */
            fprintf(stderr, "fairkey: warning: %s: ignoring the SSH key of type %s at line %zu "
                            "(age uses ssh-ed25519 and ssh-rsa keys only)\n", c->name, t, lineno);
            return 0;
        }
        if (e != FK_OK) {
            cli_err("%s: line %zu: SSH key of type %s: %s", c->name, lineno, t,
                    why ? why : fk_strerror(e));
            return -1;
        }
        if (cli_recipients_add(c->l, r) < 0)
            return -1;
        c->added++;
        return 0;
    }
    if (has_prefix(s, "-----BEGIN") && strstr(s, "PRIVATE KEY")) {
        free(s);
        cli_err("%s is a private key, not a recipients file; give it with -i, or its public "
                "key (the .pub file) with -R", c->name);
        return -1;
    }
    fk_err e = memchr(line, '\0', len) ? FK_ERR_INVALID : cli_parse_recipient(s, &r);
    free(s);
    if (e == FK_ERR_UNSUPPORTED && is_native_unsupported(line)) {
        char where[300];
        snprintf(where, sizeof where, "%s: line %zu: ", c->name, lineno);
        native_unsupported_err(where, line);
        return -1;
    }
    if (e == FK_ERR_UNSUPPORTED) {
        /* As age: a recipient the user named and fairkey cannot use fails the
         * whole command; skipping it would encrypt to fewer people. */
        cli_err("%s: line %zu: a recipient of a kind this build does not support; "
                "remove the line or use an age1... recipient", c->name, lineno);
        return -1;
    }
    if (e != FK_OK && (line[len - 1] == ' ' || line[len - 1] == '\t')) {
        cli_err("%s: line %zu ends in a space or tab; remove the trailing blanks", c->name,
                lineno);
        return -1;
    }
    if (e != FK_OK) {
        /* The line itself is not echoed: it may come from a confidential file. */
        cli_err("%s: malformed recipient at line %zu; recipients files hold one age1... or "
                "SSH public key per line",
                c->name, lineno);
        return -1;
    }
    if (cli_recipients_add(c->l, r) < 0)
        return -1;
    c->added++;
    return 0;
}

int cli_recipients_add_file(cli_recipients *l, const char *path)
{
    char *text;
    size_t len;
    if (cli_read_file(path, CLI_KEYFILE_MAX, 0, &text, &len) < 0)
        return -1;
    struct stat st;
    if (!cli_is_stdio_name(path) && stat(path, &st) == 0)
        cli_note_read_file(&st);
    struct rfile_ctx c = {l, cli_is_stdio_name(path) ? "standard input" : path, 0};
    int r = cli_for_each_line(text, len, rfile_line, &c);
    free(text);
    if (r)
        return -1;
    if (c.added == 0) {
        cli_err("%s: no recipients found; check the file", c.name);
        return -1;
    }
    return 0;
}

struct ifile_ctx {
    cli_recipients *l;
    const char *name;
    size_t added;
};

static int ifile_line(void *vctx, const char *line, size_t len, size_t lineno)
{
    struct ifile_ctx *c = vctx;
    if (len == 0 || line[0] == '#')
        return 0;
    if (len > 11 && len <= CLI_LINE_MAX && !memchr(line, '\0', len) &&
        !strncmp(line, "AGE-PLUGIN-", 11)) {
        char *s = strndup(line, len);
        fk_recipient *pr = NULL;
        fk_err pe = s ? cli_plugin_recipient(&pr, s, 1) : FK_ERR_NOMEM;
        if (s)
            cli_free_secret(s, len);
        if (pe != FK_OK) {
            cli_err("%s: line %zu is not a valid plugin identity (AGE-PLUGIN-NAME-1...)", c->name,
                    lineno);
            return -1;
        }
        if (cli_recipients_add(c->l, pr) < 0)
            return -1;
        c->added++;
        return 0;
    }
    char sk[FK_AGE_IDENTITY_STR_MAX];
    char pk[FK_AGE_RECIPIENT_STR_MAX];
    if (len >= sizeof(sk) || memchr(line, '\0', len)) {
        cli_err("%s: line %zu is not an identity; identity files hold AGE-SECRET-KEY-1... lines",
                c->name, lineno);
        return -1;
    }
    memcpy(sk, line, len);
    sk[len] = '\0';
    fk_err e = fk_x25519_identity_to_recipient(pk, sk);
    fk_wipe(sk, sizeof(sk));
    if (e != FK_OK) {
        if (line[len - 1] == ' ' || line[len - 1] == '\t')
            cli_err("%s: line %zu ends in a space or tab; remove the trailing blanks", c->name,
                    lineno);
        else
            cli_err("%s: malformed identity at line %zu; identity files hold AGE-SECRET-KEY-1... lines",
                    c->name, lineno);
        return -1;
    }
    fk_recipient *r = NULL;
    e = fk_x25519_recipient_parse(&r, pk);
    if (e != FK_OK) {
        cli_err("%s: line %zu: %s", c->name, lineno, fk_strerror(e));
        return -1;
    }
    if (cli_recipients_add(c->l, r) < 0)
        return -1;
    c->added++;
    return 0;
}

/* ---- what kind of identity file ------------------------------------------
 * As age decides, from the first bytes: an age file (binary or armored) is a
 * passphrase-encrypted identity file; another PEM block is an SSH private
 * key; anything else is lines of AGE-SECRET-KEY-1... */
enum { IDFILE_LINES, IDFILE_SSH, IDFILE_AGE };

static int identity_file_kind(const char *text, size_t len)
{
    if ((len >= 14 && !memcmp(text, "age-encryption", 14)) ||
        (len >= 14 && !memcmp(text, "-----BEGIN AGE", 14)))
        return IDFILE_AGE;
    if (len >= 10 && !memcmp(text, "-----BEGIN", 10))
        return IDFILE_SSH;
    return IDFILE_LINES;
}

static fk_identity *load_ssh_identity(const char *name, const char *text, size_t len)
{
    fk_identity *id = NULL;
    const char *why = NULL;
    fk_err e = fk_ssh_identity_parse(&id, text, len, &why);
    if (e != FK_OK) {
        cli_err("%s: not a usable SSH private key: %s", name, why ? why : fk_strerror(e));
        return NULL;
    }
    return id;
}

/* An identity file that holds plugin identities: line by line, each
 * AGE-PLUGIN-NAME-1... line a plugin identity, the others as
 * fk_identity_parse reads them. */
struct pid_ctx {
    cli_identities *l;
    const char *name;
};

static int plugin_id_line(void *vctx, const char *line, size_t len, size_t lineno)
{
    struct pid_ctx *c = vctx;
    fk_identity *id = NULL, **nv;
    fk_err e;
    if (len == 0 || line[0] == '#')
        return 0;
    char *s = len <= CLI_LINE_MAX && !memchr(line, '\0', len) ? strndup(line, len) : NULL;
    if (!s) {
        cli_err("%s: malformed identity at line %zu", c->name, lineno);
        return -1;
    }
    e = has_prefix(s, "AGE-PLUGIN-") ? cli_plugin_identity(&id, s) : fk_identity_parse(&id, s);
    cli_free_secret(s, len);
    if (e != FK_OK) {
        cli_err("%s: malformed identity at line %zu; identity files hold AGE-SECRET-KEY-1... and "
                "AGE-PLUGIN-NAME-1... lines", c->name, lineno);
        return -1;
    }
    if (!(nv = realloc(c->l->v, (c->l->n + 1) * sizeof *nv))) {
        fk_identity_free(id);
        cli_err("out of memory");
        return -1;
    }
    c->l->v = nv;
    c->l->v[c->l->n++] = id;
    return 0;
}


/* Decrypt a passphrase-encrypted identity file (ct, an age file) into *text
 * (a secret: the caller wipes it).  Asks for the passphrase. */
static int decrypt_identity_file(const char *name, const char *ct, size_t ctlen, char **text,
                                 size_t *tlen)
{
    int in = memfd_create("fairkey-identity", MFD_CLOEXEC);
    int out = memfd_create("fairkey-identity-plain", MFD_CLOEXEC);
    fk_header h = {0};
    int armored = 0, scrypt = 0, rc = -1;
    char prompt[300], *pass = NULL;
    size_t passlen = 0;
    fk_identity *sid = NULL;

    if (in < 0 || out < 0 || cli_write_all(in, ct, ctlen) < 0 || lseek(in, 0, SEEK_SET) != 0) {
        cli_err("cannot read the encrypted identity file %s: %s", name, strerror(errno));
        goto done;
    }
    if (fk_age_read_header_fd(in, &h, &armored, NULL) != FK_OK) {
        cli_err("%s looks like an age file but its header is malformed; it is not a usable "
                "identity file", name);
        goto done;
    }
    for (size_t i = 0; i < h.nstanzas; i++)
        scrypt |= !strcmp(h.stanzas[i].args[0], "scrypt");
    fk_header_clear(&h);
    if (!scrypt) {
        cli_err("%s is encrypted with age but not with a passphrase; decrypt it first", name);
        goto done;
    }
    if (lseek(in, 0, SEEK_SET) != 0)
        goto done;
    snprintf(prompt, sizeof prompt, "Enter passphrase for identity file \"%.200s\"", name);
    if (cli_read_passphrase(prompt, 0, &pass, &passlen) < 0)
        goto done;
    fk_err e = fk_scrypt_identity_new(&sid, pass, passlen);
    cli_free_secret(pass, passlen);
    if (e == FK_OK) {
        fk_decrypt_opts opts = {.threads = 1};
        e = fk_age_decrypt_fd(in, out, &sid, 1, &opts, NULL);
        fk_identity_free(sid);
    }
    if (e == FK_ERR_NO_MATCH) {
        cli_err("the passphrase for identity file %s is wrong; try again", name);
        goto done;
    }
    if (e != FK_OK) {
        cli_err("cannot decrypt identity file %s: %s", name, cli_describe_err(e));
        goto done;
    }
    off_t n = lseek(out, 0, SEEK_END);
    if (n < 0 || (uint64_t)n > CLI_KEYFILE_MAX || lseek(out, 0, SEEK_SET) != 0) {
        cli_err("identity file %s holds more than 16 MiB; it is not an identity file", name);
        goto done;
    }
    if (!(*text = malloc((size_t)n + 1))) {
        cli_err("out of memory");
        goto done;
    }
    size_t got = 0;
    while (got < (size_t)n) {
        ssize_t r = read(out, *text + got, (size_t)n - got);
        if (r <= 0) {
            cli_free_secret(*text, (size_t)n + 1);
            cli_err("cannot read back identity file %s", name);
            goto done;
        }
        got += (size_t)r;
    }
    (*text)[n] = '\0';
    *tlen = (size_t)n;
    rc = 0;
done:
    if (out >= 0) {
        /* The plaintext in the memfd is a secret: overwrite it before the
         * pages go back. */
        off_t size = lseek(out, 0, SEEK_END);
        static const char zero[4096];
        if (size > 0 && lseek(out, 0, SEEK_SET) == 0)
            for (off_t w = 0; w < size; w += (off_t)sizeof zero)
                if (write(out, zero, sizeof zero) < 0)
                    break;
        close(out);
    }
    if (in >= 0)
        close(in);
    return rc;
}

/* A passphrase-encrypted identity file as an identity: the passphrase is
 * asked for only when a file is being decrypted (age does the same), then the
 * identities inside are tried in order. */
struct enc_id {
    char *name;
    char *ct;
    size_t ctlen;
    int tried;
    cli_identities inner;
};

static fk_err enc_unwrap(const fk_identity *id, const fk_header *h,
                         uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    struct enc_id *st = id->state;
    /* A passphrase-encrypted file is for no identity file: do not ask for
     * this one's passphrase (decrypt explains what to do). */
    for (size_t i = 0; i < h->nstanzas; i++)
        if (!strcmp(h->stanzas[i].args[0], "scrypt"))
            return FK_ERR_NO_MATCH;
    if (!st->tried) {
        char *text = NULL;
        size_t tlen = 0;
        st->tried = 1;
        if (decrypt_identity_file(st->name, st->ct, st->ctlen, &text, &tlen) < 0) {
            cli_reported = 1;
            return FK_ERR_INVALID;
        }
        /* age-keygen lines or plugin identities, as in a plain file. */
        struct pid_ctx pc = {&st->inner, st->name};
        int r = cli_for_each_line(text, tlen, plugin_id_line, &pc);
        cli_free_secret(text, tlen);
        if (r == 0 && st->inner.n == 0)
            cli_err("identity file %s decrypts, but holds no identity", st->name);
        if (r != 0 || st->inner.n == 0) {
            cli_reported = 1;
            return FK_ERR_INVALID;
        }
    }
    for (size_t i = 0; i < st->inner.n; i++) {
        fk_err e = st->inner.v[i]->ops->unwrap(st->inner.v[i], h, file_key);
        if (e != FK_ERR_NO_MATCH)
            return e;
    }
    return FK_ERR_NO_MATCH;
}

static void enc_destroy(fk_identity *id)
{
    struct enc_id *st = id->state;
    if (!st)
        return;
    cli_identities_free(&st->inner);
    free(st->name);
    free(st->ct);
    free(st);
    id->state = NULL;
}

static const fk_identity_ops enc_id_ops = {"passphrase-encrypted identity file", enc_unwrap,
                                           enc_destroy};

static fk_identity *encrypted_identity(const char *name, const char *ct, size_t ctlen)
{
    fk_identity *id = malloc(sizeof *id);
    struct enc_id *st = calloc(1, sizeof *st);
    if (id && st && (st->name = strdup(name)) && (st->ct = malloc(ctlen ? ctlen : 1))) {
        memcpy(st->ct, ct, ctlen);
        st->ctlen = ctlen;
        id->ops = &enc_id_ops;
        id->state = st;
        return id;
    }
    if (st)
        free(st->name);
    free(st);
    free(id);
    cli_err("out of memory");
    return NULL;
}

int cli_recipients_add_identity_file(cli_recipients *l, const char *path)
{
    char *text;
    size_t len;
    if (cli_read_file(path, CLI_KEYFILE_MAX, 1, &text, &len) < 0)
        return -1;
    struct ifile_ctx c = {l, cli_is_stdio_name(path) ? "standard input" : path, 0};
    int kind = identity_file_kind(text, len), r;
    if (kind == IDFILE_SSH) {
        fk_identity *id = load_ssh_identity(c.name, text, len);
        cli_free_secret(text, len);
        fk_recipient *rc = NULL;
        fk_err e = id ? fk_ssh_identity_recipient(&rc, id) : FK_ERR_INVALID;
        fk_identity_free(id);
        if (!id)
            return -1;
        if (e != FK_OK) {
            cli_err("%s: %s", c.name, fk_strerror(e));
            return -1;
        }
        return cli_recipients_add(l, rc);
    }
    if (kind == IDFILE_AGE) {
        /* age encrypts to the recipients of the identities inside. */
        char *plain = NULL;
        size_t plen = 0;
        r = decrypt_identity_file(c.name, text, len, &plain, &plen);
        cli_free_secret(text, len);
        if (r < 0)
            return -1;
        text = plain;
        len = plen;
    }
    r = cli_for_each_line(text, len, ifile_line, &c);
    cli_free_secret(text, len);
    if (r)
        return -1;
    if (c.added == 0) {
        cli_err("%s: no identities found; check the file", c.name);
        return -1;
    }
    return 0;
}

/* The first line (1-based) that ends in a space or tab before its "\n" or
 * "\r\n", or 0: such a key was pasted with trailing blanks, and age refuses
 * it too, so say where instead of "malformed". */
static size_t trailing_blank_line(const char *text, size_t len)
{
    size_t lineno = 1;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\n')
            continue;
        size_t j = i;
        if (j > 0 && text[j - 1] == '\r')
            j--;
        if (j > 0 && (text[j - 1] == ' ' || text[j - 1] == '\t'))
            return lineno;
        lineno++;
    }
    if (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        return lineno;
    return 0;
}

int cli_identities_add_file(cli_identities *l, const char *path)
{
    char *text;
    size_t len;
    if (cli_read_file(path, CLI_KEYFILE_MAX, 1, &text, &len) < 0)
        return -1;
    const char *name = cli_is_stdio_name(path) ? "standard input" : path;
    size_t before = l->n;
    int kind = identity_file_kind(text, len);
    if (kind != IDFILE_LINES) {
        fk_identity *id = kind == IDFILE_SSH ? load_ssh_identity(name, text, len)
                                             : encrypted_identity(name, text, len);
        cli_free_secret(text, len);
        if (!id)
            return -1;
        fk_identity **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
        if (!nv) {
            fk_identity_free(id);
            cli_err("out of memory");
            return -1;
        }
        l->v = nv;
        l->v[l->n++] = id;
        return 0;
    }
    if (memmem(text, len, "AGE-PLUGIN-", 11)) {
        struct pid_ctx pc = {l, name};
        int r = cli_for_each_line(text, len, plugin_id_line, &pc);
        cli_free_secret(text, len);
        if (r)
            return -1;
        if (l->n == before) {
            cli_err("%s: no identities found; check the file", name);
            return -1;
        }
        return 0;
    }
    fk_err e = fk_identity_file_parse(&l->v, &l->n, text, len);
    size_t blank = e != FK_OK ? trailing_blank_line(text, len) : 0;
    cli_free_secret(text, len);
    if (e != FK_OK) {
        if (blank)
            cli_err("%s: line %zu ends in a space or tab; remove the trailing blanks", name, blank);
        else if (e == FK_ERR_UNSUPPORTED)
            cli_err("%s holds an identity of a kind this build does not support; use an AGE-SECRET-KEY-1... identity",
                    name);
        else
            cli_err("%s is not a valid identity file (%s); identity files hold AGE-SECRET-KEY-1... lines",
                    name, fk_strerror(e));
        return -1;
    }
    if (l->n == before) {
        cli_err("%s: no identities found; check the file", name);
        return -1;
    }
    return 0;
}

void cli_identities_free(cli_identities *l)
{
    for (size_t i = 0; i < l->n; i++)
        fk_identity_free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int cli_recipients_add_plugin_default(cli_recipients *l, const char *name)
{
    char id[FK_AGE_IDENTITY_STR_MAX + CLI_PLUGIN_NAME_MAX];
    fk_recipient *r = NULL;
    if (cli_plugin_default_identity(name, id, sizeof id) < 0)
        return -1;
    if (cli_plugin_recipient(&r, id, 1) != FK_OK) {
        cli_err("out of memory");
        return -1;
    }
    return cli_recipients_add(l, r);
}
