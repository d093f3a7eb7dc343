/* Declarations shared by the fairkey CLI's subcommand files. */
#ifndef FK_CLI_H
#define FK_CLI_H

#include <fairkey.h>

#include "prog/authlog.h"
#include "prog/prog.h"

#define FK_COMMAND(name, fn, help) int fn(int argc, char **argv);
#define FK_NET_COMMAND(name, fn, help) int fn(int argc, char **argv);
#include "commands.h"
#undef FK_COMMAND
#undef FK_NET_COMMAND



/* ---- outputs, passphrases: src/cli/io.c (inputs: prog/prog.h) -----------
 * Every subcommand goes through these helpers.  They print their own error
 * line with cli_err() and return -1 on failure, 0 on success. */

#include <stdio.h>
#include <sys/types.h>

/* A passphrase longer than this is certainly a mistake (a file piped by error). */
#define CLI_PASSPHRASE_MAX 4096


/* An output.  A named output is written to a temporary file in the same
 * folder and renamed into place only by cli_out_commit, so a failed run never
 * leaves a partial file behind under the final name. */
typedef struct cli_out {
    int fd;
    int is_stdout;  /* a stream: standard output, or a device/FIFO (direct) */
    int direct;     /* a device or FIFO opened by name, closed at the end */
    int noclobber;
    char *tmp;    /* temporary path (NULL for stdout) */
    char *final;  /* the name it gets on commit */
} cli_out;

enum {
    CLI_OUT_SECRET = 1,     /* mode 0600 (otherwise 0666 & ~umask, as age) */
    CLI_OUT_NOCLOBBER = 2,  /* refuse to replace an existing file (keygen) */
};
/* NULL or "-" is standard output. */
int cli_out_open(cli_out *o, const char *path, unsigned flags);
/* fsync and rename into place (no-op for stdout). */
int cli_out_commit(cli_out *o);
/* Remove the temporary file (no-op for stdout).  Safe after commit. */
void cli_out_abort(cli_out *o);
/* The option loop of the ceremony steps (authority dkg, authority reshare):
 * long options only, "-h" prints the synopsis on stdout, anything else is
 * cli_bad_option.  Between them: the "case 'x': ...; break;" lines. */
#define CLI_STEP_OPTS_BEGIN(syn)                                                 \
    const char *syn_ = syn;                                                      \
    int c;                                                                       \
    optind = 1;                                                                  \
    opterr = 0;                                                                  \
    while ((c = getopt_long(argc, argv, "+:o:h", longopts, NULL)) != -1) {       \
        switch (c) {
#define CLI_STEP_OPTS_END                                                        \
        case 'h': printf("usage: fairkey %s\n", syn_); return FK_EXIT_OK;         \
        default: return cli_bad_option(c, argv, syn_);                           \
        }                                                                        \
    }

/* src/cli/authfiles.c: a new agent's result of a ceremony (dealerless or resharing): DIR (made
 * 0700 if missing) gets share-<i>.key (0600, never replacing a file) and
 * authority.pub, and the authority's summary goes to stdout; note ends the
 * stderr line.  On failure nothing written is left behind.  0 or -1. */
int cli_authority_write_agent(const char *dir, const fk_escrow_authority *a,
                              const fk_escrow_share *share, const char *note);

/* Write text to a new file at path (never replacing one; created with
 * O_EXCL and renamed into place).  secret: mode 0600. */
int cli_write_new_file(const char *path, const char *text, size_t len, int secret);
/* Write all of buf. */
int cli_write_all(int fd, const void *buf, size_t len);
/* A whole output in one go: cli_out_open with flags, buf, cli_out_commit;
 * on failure one line says why and nothing is left under path. */
int cli_out_write_file(const char *path, unsigned flags, const void *buf, size_t len);

/* SHA-256 and size of a file (NULL or "-": standard input), streamed in
 * CLI_HASH_BUF reads; size may be NULL.  Prints its own error. */
#define CLI_HASH_BUF (256u << 10)
int cli_sha256_file(const char *path, uint8_t out[32], uint64_t *size);
/* A requester's or vendor's public line "<name> <b64 Ed25519 key>" (a
 * third field, the reply key, ignored), given as itself or as a file whose
 * first line it is (--vendor).  opt names the option in messages.  Prints
 * its own error. */
int cli_read_public_line(const char *arg, const char *opt, char name[FK_REQUEST_NAME_MAX + 1],
                         uint8_t key[32]);

/* Where a passphrase comes from: --passphrase-fd N (set cli_passphrase_fd),
 * else the FAIRKEY_PASSPHRASE environment variable, else the terminal
 * (/dev/tty, no echo; asked twice when confirm is set). */
extern int cli_passphrase_fd;
int cli_read_passphrase(const char *prompt, int confirm, char **pass, size_t *len);
/* Parse "--passphrase-fd" 's argument into cli_passphrase_fd. */
int cli_set_passphrase_fd(const char *arg);

/* 1 if s starts like a secret key (any case): such a string is never echoed. */
int cli_looks_secret(const char *s);
/* The single place recipient strings are turned into recipients. */
fk_err cli_parse_recipient(const char *s, fk_recipient **out);
/* A growable list of recipients or identities. */
typedef struct cli_recipients {
    fk_recipient **v;
    size_t n;
} cli_recipients;
int cli_recipients_add(cli_recipients *l, fk_recipient *r);
void cli_recipients_free(cli_recipients *l);
/* -r STRING / -R FILE / encrypt -i FILE (the identities' own recipients). */
int cli_recipients_add_string(cli_recipients *l, const char *s);
int cli_recipients_add_file(cli_recipients *l, const char *path);
int cli_recipients_add_identity_file(cli_recipients *l, const char *path);

typedef struct cli_identities {
    fk_identity **v;
    size_t n;
} cli_identities;
/* decrypt -i FILE: an identity file (read with O_NOFOLLOW), of the kind
 * its first bytes show, as age: lines of AGE-SECRET-KEY-1..., an SSH private
 * key (PEM), or an age file encrypted with a passphrase whose plaintext is
 * an identity file (the passphrase is asked for when a file is decrypted). */
int cli_identities_add_file(cli_identities *l, const char *path);
void cli_identities_free(cli_identities *l);

/* Set when an identity said itself why it failed while a file was being
 * decrypted (a passphrase-encrypted identity file): nothing more to say. */
extern int cli_reported;


/* ---- age plugins, the client side: src/cli/plugin.c ----------------------
 * "age1NAME1..." recipients, "AGE-PLUGIN-NAME-1..." identities and -j NAME
 * run age-plugin-NAME from PATH (recipient-v1, identity-v1).  Messages are
 * printed by the plugin code (cli_reported is set). */
/* The longest plugin name: the spec bounds only its characters; a binary
 * name longer than this is not one anybody installs. */
#define CLI_PLUGIN_NAME_MAX 64
/* The plugin NAME of a plugin recipient or identity string (lowercase,
 * checksum checked); -1 if s is not one. */
int cli_plugin_name(const char *s, char name[65]);
/* identity: s is an identity whose recipient is wanted (add-identity). */
fk_err cli_plugin_recipient(fk_recipient **out, const char *s, int identity);
fk_err cli_plugin_identity(fk_identity **out, const char *s);
/* "AGE-PLUGIN-NAME-1..." with no data: what -j NAME stands for. */
int cli_plugin_default_identity(const char *name, char *out, size_t cap);
/* -j NAME for encrypt and for decrypt. */
int cli_recipients_add_plugin_default(cli_recipients *l, const char *name);
int cli_identities_add_plugin_default(cli_identities *l, const char *name);
/* Ask on the terminal (/dev/tty; echo off when secret).  -1 without a
 * terminal (nothing printed). */
int cli_tty_ask(const char *prompt, int secret, char **out, size_t *len);

/* One line saying what an fk_err means for the user and what to do. */
const char *cli_describe_err(fk_err e);

/* ---- escrow hooks: src/cli/escrow_hook.c -------------------------------
 * The one place where the CLI meets the escrow module. */

/* decrypt's escrow options (--require-escrow RECIPIENT, --escrow-warn-only). */
typedef struct cli_escrow_args {
    const char **require;   /* recipients given with --require-escrow */
    size_t nrequire;
    int warn_only;          /* --escrow-warn-only */
} cli_escrow_args;
/* 1 if this build can verify escrow stanzas (the options are accepted). */
int cli_escrow_available(void);
/* Set opts->check for the decryption.  *state is released with
 * cli_escrow_finish, which also reports the outcome. */
int cli_escrow_setup(const cli_escrow_args *a, fk_decrypt_opts *opts, void **state);
int cli_escrow_finish(void *state, const fk_decrypt_info *info);
/* inspect: describe an escrow stanza in the output; returns 1 if s is one. */
int cli_escrow_describe_stanza(const fk_stanza *s, FILE *out);

/* ---- dealerless authorities: src/cli/dkg.c ------------------------------ */
/* fairkey authority dkg ... and fairkey authority verify (argv[0] is the
 * word after "authority"). */
int cli_authority_dkg(int argc, char **argv);
int cli_authority_verify(int argc, char **argv);
/* The participant key files and message envelopes, shared with resharing:
 * a key file's secret d and public key p; a message file of kind magic
 * ("context" must be ctxhex, then "from" 1..nfrom into *from when from is
 * not NULL, then count "data" lines, each decoded into a new data[k]); and
 * the writer of such a file.  What a blamed party's error code means. */
int cli_dkg_read_key(const char *path, uint8_t d[32], uint8_t p[32]);
int cli_dkg_load_msgs(const char *path, const char *ctxhex, unsigned nfrom, const char *magic,
                      unsigned *from, uint8_t **data, size_t *dlen, unsigned count);
int cli_dkg_write_msgs(const char *path, const char *ctxhex, const char *magic, unsigned from,
                       uint8_t *const *data, const size_t *dlen, unsigned count);
const char *cli_dkg_blame_reason(fk_err e);

/* ---- resharing: src/cli/reshare.c ----------------------------------------- */
/* fairkey authority reshare ... (argv[0] is "reshare"). */
int cli_authority_reshare(int argc, char **argv);
/* An authority file read and fully checked (NULL after cli_err; free it),
 * and a share file (a secret, read with O_NOFOLLOW): src/cli/authfiles.c. */
fk_escrow_authority *cli_load_authority(const char *path);
int cli_load_share(const char *path, fk_escrow_share *share);

/* POST entry to al's log (src/cli/logadd.c, fairkey-net only), check the
 * tlog-proof it answers against the log's key, and return it re-encoded
 * with extra (may be NULL) as its extra data: *receipt (malloc'd, NUL-
 * terminated, *rlen bytes), the entry's *index and the checkpoint's *size.
 * what names the entry in messages ("request").  Prints its own error. */
int cli_log_add(const cli_authlog *al, const char *what, const char *entry, size_t len,
                const uint8_t *extra, size_t extra_len, char **receipt, size_t *rlen,
                uint64_t *index, uint64_t *size);
/* Largest DKG file (a bundle of 255 msg1s of 255 commitments, base64; a
 * certified transcript is smaller). */
#define CLI_DKG_FILE_MAX (32u << 20)
/* The log entry (docs/spec.md 9.7) of certified transcript text, of
 * authority a, in this form: *entry malloc'd.  Prints its own error. */
int cli_transcript_entry(const char *certified, size_t clen, const fk_escrow_authority *a,
                         fk_dkg_entry_form form, char **entry, size_t *elen);
/* authority publish (src/cli/publish.c, fairkey-net only). */
int cli_authority_publish(int argc, char **argv);
#ifdef FK_CLI_LIGHT
/* Run the same command line in fairkey-net (src/cli/fairkey.c); argv is
 * main's argv + 1. */
int cli_exec_net(int argc, char **argv);
#endif

#endif
