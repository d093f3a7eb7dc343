/*
 * age-plugin-fairkey: lets any age client that supports plugins (age, rage)
 * write fairkey escrow stanzas.  The client finds this binary on PATH from a
 * recipient's Bech32 HRP ("age1fairkey1..." -> "age-plugin-fairkey") and runs
 * it as `age-plugin-fairkey --age-plugin=recipient-v1` (C2SP age-plugin).
 *
 * The plugin is recipient-only: escrowed files are opened by the recipients'
 * own keys, or through threshold recovery with `fairkey recover`, never by a
 * key the plugin holds.  identity-v1 is answered with one error per identity.
 * See docs/plugin.md.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

#include "ipc.h"

/* How many recipients / identities / file keys one session may add.  Go age
 * sends one recipient and one file key per process; rage batches recipients
 * of the same plugin.  4096 is far above any real command line and bounds
 * the memory a hostile client can pin. */
#define PLUGIN_MAX_ITEMS 4096

#define NO_IDENTITY_MSG                                                                          \
    "age-plugin-fairkey has no identities: an escrowed file is opened by its other recipients, " \
    "or recovered through the escrow agents with 'fairkey recover'"

static const char usage_text[] =
    "age-plugin-fairkey: fairkey escrow recipients for age clients.\n"
    "\n"
    "Put this program on PATH and encrypt with an authority's recipient as well as\n"
    "your own, e.g.\n"
    "\n"
    "    age -r age1fairkey1... -r age1... -o file.age file\n"
    "\n"
    "The client runs it as 'age-plugin-fairkey --age-plugin=recipient-v1'.  It adds\n"
    "one escrow stanza per authority; it has no identities (see 'fairkey recover').\n";

/* Log one line to stderr; age shows plugin stderr only with AGEDEBUG=plugin,
 * so the user-facing reason travels in the protocol's error command. */
static void plog(const char *fmt, const char *detail)
{
    fputs("age-plugin-fairkey: ", stderr);
    fprintf(stderr, fmt, detail);
    fputc('\n', stderr);
}

/* Send a phase-2 command and wait for the client's "ok".  Returns 0 on ok. */
static int send_expect_ok(FILE *in, FILE *out, const char *const *args, size_t nargs,
                          const uint8_t *body, size_t body_len)
{
    ipc_status st = ipc_write(out, args, nargs, body, body_len);
    if (st != IPC_OK) {
        plog("cannot write to the age client: %s", ipc_status_str(st));
        return -1;
    }
    ipc_stanza resp;
    st = ipc_read(in, &resp);
    if (st != IPC_OK) {
        plog("no answer from the age client: %s", ipc_status_str(st));
        return -1;
    }
    int ok = ipc_is(&resp, "ok", 0);
    if (!ok)
        plog("the age client answered '%s' where 'ok' was expected", resp.args[0]);
    ipc_stanza_clear(&resp);
    return ok ? 0 : -1;
}

static int send_error(FILE *in, FILE *out, const char *kind, size_t index, const char *msg)
{
    char idx[24];
    snprintf(idx, sizeof(idx), "%zu", index);
    const char *args[3] = {"error", kind, idx};
    return send_expect_ok(in, out, args, strcmp(kind, "internal") ? 3 : 2, (const uint8_t *)msg,
                          strlen(msg));
}

struct session {
    char *recipients[PLUGIN_MAX_ITEMS];
    size_t nrecipients;
    size_t nidentities;
    uint8_t (*file_keys)[FK_AGE_FILE_KEY_LEN];
    size_t nfile_keys;
    size_t cap_file_keys;
    const char *internal_error; /* a phase-1 defect to report in phase 2 */
};

static void session_clear(struct session *s)
{
    for (size_t i = 0; i < s->nrecipients; i++)
        free(s->recipients[i]);
    if (s->file_keys) {
        fk_wipe(s->file_keys, s->cap_file_keys * FK_AGE_FILE_KEY_LEN);
        free(s->file_keys);
    }
    memset(s, 0, sizeof(*s));
}

/* Phase 1 of recipient-v1: collect commands until "done".  Unknown commands
 * (grease, future extensions) are ignored as the spec requires of a
 * uni-directional phase.  Returns 0 at "done", -1 if the connection broke. */
static int recipient_phase1(FILE *in, struct session *s)
{
    for (;;) {
        ipc_stanza c;
        ipc_status st = ipc_read(in, &c);
        if (st != IPC_OK) {
            plog("reading the age client's commands failed: %s", ipc_status_str(st));
            return -1;
        }
        const char *cmd = c.args[0];
        if (!strcmp(cmd, "done")) {
            int bare = ipc_is(&c, "done", 0) && c.body_len == 0;
            ipc_stanza_clear(&c);
            if (!bare && !s->internal_error)
                s->internal_error = "malformed done command from the age client";
            return 0;
        } else if (!strcmp(cmd, "add-recipient") || !strcmp(cmd, "add-identity")) {
            int is_rcpt = cmd[4] == 'r';
            if (c.nargs != 2) {
                if (!s->internal_error)
                    s->internal_error = "malformed add-recipient or add-identity command";
            } else if (s->nrecipients + s->nidentities >= PLUGIN_MAX_ITEMS) {
                if (!s->internal_error)
                    s->internal_error = "too many recipients for one age-plugin-fairkey session";
            } else if (is_rcpt) {
                s->recipients[s->nrecipients++] = c.args[1];
                c.args[1] = NULL;
                c.nargs = 1;
            } else {
                s->nidentities++;
            }
        } else if (!strcmp(cmd, "wrap-file-key")) {
            if (c.nargs != 1 || c.body_len != FK_AGE_FILE_KEY_LEN) {
                if (!s->internal_error)
                    s->internal_error = "malformed wrap-file-key command (a file key is 16 bytes)";
            } else if (s->nfile_keys >= PLUGIN_MAX_ITEMS) {
                if (!s->internal_error)
                    s->internal_error = "too many file keys for one age-plugin-fairkey session";
            } else {
                if (s->nfile_keys == s->cap_file_keys) {
                    /* grow geometrically, copying by hand so no key is left
                     * in a block that realloc() would free unwiped */
                    size_t ncap = s->cap_file_keys ? s->cap_file_keys * 2 : 4;
                    uint8_t(*nk)[FK_AGE_FILE_KEY_LEN] = malloc(ncap * FK_AGE_FILE_KEY_LEN);
                    if (!nk) {
                        ipc_stanza_clear(&c);
                        plog("%s", "out of memory");
                        return -1;
                    }
                    if (s->file_keys) {
                        memcpy(nk, s->file_keys, s->nfile_keys * FK_AGE_FILE_KEY_LEN);
                        fk_wipe(s->file_keys, s->nfile_keys * FK_AGE_FILE_KEY_LEN);
                        free(s->file_keys);
                    }
                    s->file_keys = nk;
                    s->cap_file_keys = ncap;
                }
                memcpy(s->file_keys[s->nfile_keys], c.body, FK_AGE_FILE_KEY_LEN);
                s->nfile_keys++;
            }
        }
        /* "extension-labels": our stanzas carry the empty label set, the
         * same as X25519's, so they combine with native recipients and we
         * need not answer with a labels command (the spec's default). */
        ipc_stanza_clear(&c);
    }
}

/* A wrapped stanza waiting to be sent. */
struct wrapped {
    size_t file_index;
    fk_stanza st;
};

static int run_recipient_v1(FILE *in, FILE *out)
{
    struct session s;
    memset(&s, 0, sizeof(s));
    fk_recipient **rcpts = NULL;
    struct wrapped *w = NULL;
    size_t nw = 0;
    int rc = 1, errors = 0;

    if (recipient_phase1(in, &s) != 0)
        goto out;

    /* Phase 2.  First decide whether every recipient and identity can be
     * wrapped to; the spec forbids sending any stanza if one cannot. */
    if (s.internal_error) {
        if (send_error(in, out, "internal", 0, s.internal_error) != 0)
            goto out;
        errors++;
    }
    rcpts = calloc(s.nrecipients ? s.nrecipients : 1, sizeof(*rcpts));
    if (!rcpts) {
        plog("%s", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < s.nrecipients && !errors; i++) {
        fk_err e = fk_escrow_recipient_parse(&rcpts[i], s.recipients[i]);
        if (e != FK_OK) {
            char msg[256];
            snprintf(msg, sizeof(msg),
                     "not a valid fairkey authority recipient (%s); copy the age1fairkey1... "
                     "string from 'fairkey authority show'",
                     fk_strerror(e));
            if (send_error(in, out, "recipient", i, msg) != 0)
                goto out;
            errors++;
        }
    }
    for (size_t i = 0; i < s.nidentities && !errors; i++) {
        if (send_error(in, out, "identity", i, NO_IDENTITY_MSG) != 0)
            goto out;
        errors++;
    }
    if (!errors && s.nfile_keys > 0 && s.nrecipients == 0) {
        if (send_error(in, out, "internal", 0, "no fairkey recipient was given to wrap to") != 0)
            goto out;
        errors++;
    }

    if (!errors && s.nfile_keys && s.nrecipients) {
        if (s.nfile_keys > SIZE_MAX / s.nrecipients / sizeof(*w)) {
            plog("%s", "too many stanzas");
            goto out;
        }
        w = calloc(s.nfile_keys * s.nrecipients, sizeof(*w));
        if (!w) {
            plog("%s", "out of memory");
            goto out;
        }
        for (size_t k = 0; k < s.nfile_keys && !errors; k++) {
            for (size_t r = 0; r < s.nrecipients; r++) {
                fk_err e = rcpts[r]->ops->wrap(rcpts[r], s.file_keys[k], &w[nw].st);
                if (e != FK_OK) {
                    char msg[160];
                    snprintf(msg, sizeof(msg), "wrapping the file key to the authority failed: %s",
                             fk_strerror(e));
                    if (send_error(in, out, "recipient", r, msg) != 0)
                        goto out;
                    errors++;
                    break;
                }
                w[nw++].file_index = k;
            }
        }
    }

    if (!errors) {
        for (size_t i = 0; i < nw; i++) {
            const fk_stanza *st = &w[i].st;
            const char *args[IPC_MAX_ARGS];
            char idx[24];
            if (st->nargs + 2 > IPC_MAX_ARGS) {
                plog("%s", "escrow stanza has too many arguments");
                goto out;
            }
            snprintf(idx, sizeof(idx), "%zu", w[i].file_index);
            args[0] = "recipient-stanza";
            args[1] = idx;
            for (size_t j = 0; j < st->nargs; j++)
                args[j + 2] = st->args[j];
            if (send_expect_ok(in, out, args, st->nargs + 2, st->body, st->body_len) != 0)
                goto out;
        }
    }
    if (ipc_write_cmd(out, "done") != IPC_OK) {
        plog("%s", "cannot write to the age client");
        goto out;
    }
    rc = errors ? 1 : 0;
out:
    for (size_t i = 0; i < nw; i++)
        fk_stanza_clear(&w[i].st);
    free(w);
    if (rcpts) {
        for (size_t i = 0; i < s.nrecipients; i++)
            if (rcpts[i])
                fk_recipient_free(rcpts[i]);
        free(rcpts);
    }
    session_clear(&s);
    return rc;
}

/* identity-v1: fairkey has no plugin identities.  Read phase 1, answer each
 * add-identity with an error (never a file key), then end the phase. */
static int run_identity_v1(FILE *in, FILE *out)
{
    size_t nids = 0;
    for (;;) {
        ipc_stanza c;
        ipc_status st = ipc_read(in, &c);
        if (st != IPC_OK) {
            plog("reading the age client's commands failed: %s", ipc_status_str(st));
            return 1;
        }
        int done = !strcmp(c.args[0], "done");
        if (!strcmp(c.args[0], "add-identity") && nids < PLUGIN_MAX_ITEMS)
            nids++;
        ipc_stanza_clear(&c);
        if (done)
            break;
    }
    for (size_t i = 0; i < nids; i++)
        if (send_error(in, out, "identity", i, NO_IDENTITY_MSG) != 0)
            return 1;
    if (ipc_write_cmd(out, "done") != IPC_OK)
        return 1;
    return 0;
}

static int dispatch(int argc, char **argv)
{
    if (argc == 2 && !strncmp(argv[1], "--age-plugin=", 13)) {
        const char *sm = argv[1] + 13;
        if (!strcmp(sm, "recipient-v1"))
            return run_recipient_v1(stdin, stdout);
        if (!strcmp(sm, "identity-v1"))
            return run_identity_v1(stdin, stdout);
        plog("unknown state machine '%s'; this plugin speaks recipient-v1 and identity-v1", sm);
        return 1;
    }
    if (argc == 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
        printf("age-plugin-fairkey %s\n", FAIRKEY_VERSION);
        return 0;
    }
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(usage_text, stdout);
        return 0;
    }
    fputs(usage_text, stderr);
    return 2;
}

int main(int argc, char **argv)
{
    /* Owned so they can be wiped: stdin's buffer holds the base64 of every
     * file key the client sends.  Static: 16 KiB, and alive until exit. */
    static ipc_stdio io;

    /* A client that hangs up must give us EPIPE, not kill us mid-cleanup. */
    signal(SIGPIPE, SIG_IGN);
    /* File keys pass through: no core file, no ptrace by the user's other
     * processes (best effort). */
    (void)fk_process_protect();

    if (ipc_stdio_own(&io, stdin, stdout) != IPC_OK) {
        plog("%s", "cannot set up the standard input and output buffers");
        return 1;
    }
    int rc = dispatch(argc, argv);
    if (ipc_stdio_wipe(&io) != IPC_OK && rc == 0) {
        plog("%s", "cannot write to standard output");
        rc = 1;
    }
    return rc;
}
