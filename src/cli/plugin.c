/*
 * age plugins, the client side (C2SP age-plugin, ../shared/specs/age-plugin.md):
 * an "age1NAME1..." recipient, an "AGE-PLUGIN-NAME-1..." identity or -j NAME
 * runs age-plugin-NAME from PATH (absolute folders only) with
 * --age-plugin=recipient-v1 or identity-v1 and speaks the stanza IPC over its
 * standard input and output (src/plugin/ipc.c, shared with
 * age-plugin-fairkey).  The plugin's requests in phase 2 (msg, confirm,
 * request-public, request-secret) are answered on the terminal; its standard
 * error is the user's.  One plugin process per recipient or identity: a
 * recipient wraps one file key into one stanza (fk_recipient_ops), and an
 * identity unwraps one header.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "plugin/ipc.h"

extern char **environ;

#define PLUGIN_NAME_MAX CLI_PLUGIN_NAME_MAX
/* A plugin recipient or identity string: post-quantum plugin keys reach a
 * few KiB; a line of a recipients or identity file is at most CLI_LINE_MAX. */
#define PLUGIN_DATA_MAX CLI_LINE_MAX

static int valid_name(const char *n, size_t len)
{
    if (len == 0 || len > PLUGIN_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)n[i]) && !strchr("-_.+", n[i]))
            return 0;
    return 1;
}

int cli_plugin_name(const char *s, char name[PLUGIN_NAME_MAX + 1])
{
    static char hrp[PLUGIN_DATA_MAX];
    static uint8_t data[PLUGIN_DATA_MAX];
    size_t dlen = 0, n;
    const char *p;
    int identity = !strncasecmp(s, "AGE-PLUGIN-", 11);
    if (!identity && strncmp(s, "age1", 4) != 0)
        return -1;
    if (fk_bech32_decode(hrp, sizeof hrp, data, sizeof data, &dlen, s, strlen(s)) != FK_OK)
        return -1;
    fk_wipe(data, sizeof data); /* an identity's data may be a secret */
    if (identity) {
        /* hrp = "age-plugin-NAME-" (lowercased by the decoder); identities
         * are written in uppercase. */
        n = strlen(hrp);
        if (n < 13 || hrp[n - 1] != '-' || strncmp(s, "AGE-PLUGIN-", 11) != 0)
            return -1;
        for (const char *c = s; *c; c++)
            if (islower((unsigned char)*c))
                return -1;
        p = hrp + 11;
        n -= 12;
    } else {
        /* hrp = "age1NAME", lowercase. */
        p = hrp + 4;
        n = strlen(p);
        for (const char *c = s; *c; c++)
            if (isupper((unsigned char)*c))
                return -1;
    }
    if (!valid_name(p, n))
        return -1;
    for (size_t i = 0; i < n; i++)
        name[i] = (char)tolower((unsigned char)p[i]);
    name[n] = '\0';
    return 0;
}

/* ---- the plugin process ---------------------------------------------------- */

typedef struct plugin_proc {
    pid_t pid;
    FILE *to, *from;
    char name[PLUGIN_NAME_MAX + 1];
    struct sigaction old_pipe;
} plugin_proc;

/* Find age-plugin-NAME in PATH's absolute folders (the spec forbids
 * relative ones, "." included). */
static int find_plugin(const char *name, char *path, size_t cap)
{
    const char *env = getenv("PATH");
    char *copy, *save = NULL;
    int found = 0;
    if (!env || !(copy = strdup(env)))
        return 0;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        if (dir[0] != '/')
            continue;
        if ((size_t)snprintf(path, cap, "%s/age-plugin-%s", dir, name) < cap &&
            access(path, X_OK) == 0)
            found = 1;
    }
    free(copy);
    return found;
}

static int plugin_start(plugin_proc *p, const char *name, const char *machine)
{
    char path[4096], flag[64];
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    struct sigaction ign = {.sa_handler = SIG_IGN};
    int rc;

    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    if (!find_plugin(name, path, sizeof path)) {
        cli_err("age-plugin-%s is not on PATH; install the plugin for these recipients or "
                "identities",
                name);
        return -1;
    }
    snprintf(flag, sizeof flag, "--age-plugin=%s", machine);
    char *argv[] = {path, flag, NULL};
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
        cli_err("cannot start age-plugin-%s: %s", name, strerror(errno));
        goto fail;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    rc = posix_spawn(&p->pid, path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        cli_err("cannot start %s: %s", path, strerror(rc));
        goto fail;
    }
    close(in[0]);
    close(out[1]);
    p->to = fdopen(in[1], "w");
    p->from = fdopen(out[0], "r");
    if (!p->to || !p->from) {
        cli_err("cannot talk to age-plugin-%s: %s", name, strerror(errno));
        if (p->to)
            fclose(p->to);
        else
            close(in[1]);
        if (p->from)
            fclose(p->from);
        else
            close(out[0]);
        waitpid(p->pid, NULL, 0);
        return -1;
    }
    /* A plugin that exits early must be an error here, not a SIGPIPE. */
    sigaction(SIGPIPE, &ign, &p->old_pipe);
    return 0;
fail:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            close(in[i]);
        if (out[i] >= 0)
            close(out[i]);
    }
    return -1;
}

/* Close the pipes and reap the plugin; its exit status, or -1. */
static int plugin_finish(plugin_proc *p)
{
    int status = 0;
    fclose(p->to);
    fclose(p->from);
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        ;
    sigaction(SIGPIPE, &p->old_pipe, NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int plugin_send(plugin_proc *p, const char *const *args, size_t nargs, const uint8_t *body,
                       size_t len)
{
    if (ipc_write(p->to, args, nargs, body, len) != IPC_OK) {
        cli_err("age-plugin-%s stopped reading its input (it exited early); see its messages "
                "above",
                p->name);
        return -1;
    }
    return 0;
}

static int send_cmd(plugin_proc *p, const char *cmd)
{
    return plugin_send(p, &cmd, 1, NULL, 0);
}

/* A message from the plugin, printable characters only. */
static void print_plugin_text(const char *what, const plugin_proc *p, const uint8_t *msg,
                              size_t len)
{
    fprintf(stderr, "fairkey: age-plugin-%s%s: ", p->name, what);
    for (size_t i = 0; i < len; i++)
        fputc(isprint(msg[i]) || msg[i] == ' ' ? msg[i] : '?', stderr);
    fputc('\n', stderr);
}

/* Answer the requests both state machines share.  1 if s was one of them
 * (answered), 0 if not, -1 on failure. */
static int common_request(plugin_proc *p, const ipc_stanza *s)
{
    static const char *const ok = "ok", *const fail = "fail";
    char prompt[512];
    char *answer = NULL;
    size_t alen = 0;
    int n;
    if (ipc_is(s, "msg", 0)) {
        print_plugin_text("", p, s->body, s->body_len);
        return send_cmd(p, ok) < 0 ? -1 : 1;
    }
    if (!strcmp(s->args[0], "request-public") || !strcmp(s->args[0], "request-secret")) {
        int secret = s->args[0][8] == 's';
        n = snprintf(prompt, sizeof prompt, "age-plugin-%s: %.*s", p->name,
                     (int)(s->body_len > 400 ? 400 : s->body_len), (const char *)s->body);
        for (int i = 0; i < n && i < (int)sizeof prompt; i++)
            if (!isprint((unsigned char)prompt[i]))
                prompt[i] = '?';
        if (cli_tty_ask(prompt, secret, &answer, &alen) < 0)
            return send_cmd(p, fail) < 0 ? -1 : 1;
        int r = plugin_send(p, &ok, 1, (const uint8_t *)answer, alen);
        cli_free_secret(answer, alen);
        return r < 0 ? -1 : 1;
    }
    if (!strcmp(s->args[0], "confirm") && (s->nargs == 2 || s->nargs == 3)) {
        uint8_t yes[256], no[256];
        size_t ylen = 0, nlen = 0;
        if (fk_b64_decode(yes, sizeof yes - 1, &ylen, s->args[1], strlen(s->args[1])) != FK_OK ||
            (s->nargs == 3 &&
             fk_b64_decode(no, sizeof no - 1, &nlen, s->args[2], strlen(s->args[2])) != FK_OK))
            return send_cmd(p, fail) < 0 ? -1 : 1;
        yes[ylen] = no[nlen] = '\0';
        n = snprintf(prompt, sizeof prompt, "age-plugin-%s: %.*s [%s%s%s]", p->name,
                     (int)(s->body_len > 300 ? 300 : s->body_len), (const char *)s->body,
                     (char *)yes, nlen ? "/" : "", nlen ? (char *)no : "");
        for (int i = 0; i < n && i < (int)sizeof prompt; i++)
            if (!isprint((unsigned char)prompt[i]))
                prompt[i] = '?';
        if (cli_tty_ask(prompt, 0, &answer, &alen) < 0)
            return send_cmd(p, fail) < 0 ? -1 : 1;
        const char *choice = NULL;
        if (!strcasecmp(answer, (char *)yes) || !strcasecmp(answer, "y") ||
            !strcasecmp(answer, "yes"))
            choice = "yes";
        else if (nlen && (!strcasecmp(answer, (char *)no) || !strcasecmp(answer, "n") ||
                          !strcasecmp(answer, "no")))
            choice = "no";
        cli_free_secret(answer, alen);
        if (!choice)
            return send_cmd(p, fail) < 0 ? -1 : 1;
        const char *args[2] = {ok, choice};
        return plugin_send(p, args, 2, NULL, 0) < 0 ? -1 : 1;
    }
    return 0;
}

/* Phase 2: the plugin's commands until "done".  fn handles the state
 * machine's own commands (1 handled, 0 unknown, -1 fatal); unknown ones get
 * "unsupported", as the spec asks. */
static int phase2(plugin_proc *p, int (*fn)(void *ctx, plugin_proc *p, const ipc_stanza *s),
                  void *ctx)
{
    for (;;) {
        ipc_stanza s;
        ipc_status st = ipc_read(p->from, &s);
        int r;
        if (st != IPC_OK) {
            if (st == IPC_EOF)
                cli_err("age-plugin-%s exited before it finished; see its messages above", p->name);
            else
                cli_err("age-plugin-%s sent a malformed message (%s)", p->name, ipc_status_str(st));
            return -1;
        }
        if (ipc_is(&s, "done", 0)) {
            ipc_stanza_clear(&s);
            return 0;
        }
        r = common_request(p, &s);
        if (r == 0)
            r = fn(ctx, p, &s);
        if (r == 0)
            r = send_cmd(p, "unsupported") < 0 ? -1 : 1;
        ipc_stanza_clear(&s);
        if (r < 0)
            return -1;
    }
}

/* An "error" command of either machine: printed; 1 after answering ok. */
static int plugin_error(plugin_proc *p, const ipc_stanza *s, int *failed)
{
    char what[96] = "";
    size_t w = 0;
    /* " (identity 0)", " (stanza FILE STANZA)", " (internal)" */
    for (size_t i = 1; i < s->nargs && w + 2 < sizeof what; i++)
        w +=
            (size_t)snprintf(what + w, sizeof what - w, "%s%.24s", i == 1 ? " (" : " ", s->args[i]);
    if (w && w + 1 < sizeof what)
        snprintf(what + w, sizeof what - w, ")");
    print_plugin_text(what, p, s->body, s->body_len);
    *failed = 1;
    return send_cmd(p, "ok") < 0 ? -1 : 1;
}

/* ---- recipients (recipient-v1) --------------------------------------------- */

typedef struct plugin_target {
    char name[PLUGIN_NAME_MAX + 1];
    int identity; /* add-identity instead of add-recipient (-j, -i) */
    char *str;
} plugin_target;

struct wrap_ctx {
    fk_stanza *out;
    int have, failed, several;
};

static int wrap_cmd(void *vctx, plugin_proc *p, const ipc_stanza *s)
{
    struct wrap_ctx *c = vctx;
    if (!strcmp(s->args[0], "recipient-stanza") && s->nargs >= 3) {
        if (strcmp(s->args[1], "0") != 0 || c->have) {
            c->several = 1;
        } else if (fk_stanza_init(c->out, (const char *const *)s->args + 2, s->nargs - 2, s->body,
                                  s->body_len) == FK_OK) {
            c->have = 1;
        } else {
            c->failed = 1;
        }
        return send_cmd(p, "ok") < 0 ? -1 : 1;
    }
    if (!strcmp(s->args[0], "labels"))
        return send_cmd(p, "ok") < 0 ? -1 : 1; /* none asked for: an empty set is fine */
    if (!strcmp(s->args[0], "error"))
        return plugin_error(p, s, &c->failed);
    return 0;
}

static fk_err plugin_wrap(const fk_recipient *r, const uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                          fk_stanza *out)
{
    const plugin_target *t = r->state;
    plugin_proc p;
    struct wrap_ctx c = {.out = out};
    const char *add[2] = {t->identity ? "add-identity" : "add-recipient", t->str};
    const char *wrap = "wrap-file-key";
    int ok;

    cli_reported = 1; /* every failure below says why */
    if (plugin_start(&p, t->name, "recipient-v1") < 0)
        return FK_ERR_UNSUPPORTED;
    ok = plugin_send(&p, add, 2, NULL, 0) == 0 &&
         plugin_send(&p, &wrap, 1, file_key, FK_AGE_FILE_KEY_LEN) == 0 &&
         send_cmd(&p, "done") == 0 && phase2(&p, wrap_cmd, &c) == 0;
    int status = plugin_finish(&p);
    if (ok && c.several)
        cli_err("age-plugin-%s returned more than one stanza for one recipient, which fairkey "
                "cannot write",
                t->name);
    else if (ok && !c.failed && !c.have)
        cli_err("age-plugin-%s returned no stanza for its recipient", t->name);
    else if (ok && !c.failed && status != 0)
        cli_err("age-plugin-%s exited with status %d", t->name, status);
    if (!ok || c.failed || c.several || !c.have || status != 0) {
        if (c.have)
            fk_stanza_clear(out);
        return FK_ERR_UNSUPPORTED;
    }
    cli_reported = 0;
    return FK_OK;
}

static void target_destroy(plugin_target *t)
{
    if (!t)
        return;
    if (t->str)
        cli_free_secret(t->str, strlen(t->str));
    free(t);
}

static void plugin_destroy_r(fk_recipient *r)
{
    target_destroy(r->state);
    r->state = NULL;
}

static const fk_recipient_ops plugin_rcpt_ops = {"plugin", 0, plugin_wrap, plugin_destroy_r};

static plugin_target *target_new(const char *name, const char *s, int identity)
{
    plugin_target *t = calloc(1, sizeof *t);
    if (!t || !(t->str = strdup(s))) {
        free(t);
        return NULL;
    }
    snprintf(t->name, sizeof t->name, "%s", name);
    t->identity = identity;
    return t;
}

fk_err cli_plugin_recipient(fk_recipient **out, const char *s, int identity)
{
    char name[PLUGIN_NAME_MAX + 1];
    plugin_target *t;
    fk_recipient *r;
    if (cli_plugin_name(s, name) < 0)
        return FK_ERR_INVALID;
    if (!(t = target_new(name, s, identity)) || !(r = malloc(sizeof *r))) {
        target_destroy(t);
        return FK_ERR_NOMEM;
    }
    r->ops = &plugin_rcpt_ops;
    r->state = t;
    *out = r;
    return FK_OK;
}

/* The identity -j NAME stands for: the plugin's name and no data. */
int cli_plugin_default_identity(const char *name, char *out, size_t cap)
{
    char hrp[PLUGIN_NAME_MAX + 16];
    size_t n = strlen(name);
    if (!valid_name(name, n)) {
        cli_err("-j %.64s: a plugin name has only letters, digits and - _ . +", name);
        return -1;
    }
    snprintf(hrp, sizeof hrp, "AGE-PLUGIN-%s-", name);
    for (char *c = hrp; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    if (fk_bech32_encode(out, cap, hrp, (const uint8_t *)"", 0) != FK_OK) {
        cli_err("-j %s: the plugin name is too long", name);
        return -1;
    }
    return 0;
}

/* ---- identities (identity-v1) ------------------------------------------- */

struct unwrap_ctx {
    uint8_t key[FK_AGE_FILE_KEY_LEN];
    int have, stanza_error, failed;
};

static int unwrap_cmd(void *vctx, plugin_proc *p, const ipc_stanza *s)
{
    struct unwrap_ctx *c = vctx;
    if (ipc_is(s, "file-key", 1)) {
        if (!strcmp(s->args[1], "0") && s->body_len == FK_AGE_FILE_KEY_LEN && !c->have) {
            memcpy(c->key, s->body, FK_AGE_FILE_KEY_LEN);
            c->have = 1;
        }
        return send_cmd(p, "ok") < 0 ? -1 : 1;
    }
    if (!strcmp(s->args[0], "error")) {
        if (s->nargs >= 2 && !strcmp(s->args[1], "stanza"))
            c->stanza_error = 1;
        return plugin_error(p, s, &c->failed);
    }
    return 0;
}

static fk_err plugin_unwrap(const fk_identity *id, const fk_header *h,
                            uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    const plugin_target *t = id->state;
    plugin_proc p;
    struct unwrap_ctx c = {0};
    const char *add[2] = {"add-identity", t->str};
    const char *args[IPC_MAX_ARGS];
    int ok;

    if (plugin_start(&p, t->name, "identity-v1") < 0) {
        cli_reported = 1;
        return FK_ERR_UNSUPPORTED;
    }
    ok = plugin_send(&p, add, 2, NULL, 0) == 0;
    for (size_t i = 0; ok && i < h->nstanzas; i++) {
        const fk_stanza *s = &h->stanzas[i];
        size_t n = 0;
        if (s->nargs + 2 > IPC_MAX_ARGS)
            continue; /* no stanza the plugin knows has that many arguments */
        args[n++] = "recipient-stanza";
        args[n++] = "0";
        for (size_t j = 0; j < s->nargs; j++)
            args[n++] = s->args[j];
        ok = plugin_send(&p, args, n, s->body, s->body_len) == 0;
    }
    ok = ok && send_cmd(&p, "done") == 0 && phase2(&p, unwrap_cmd, &c) == 0;
    plugin_finish(&p);
    if (!ok) {
        fk_wipe(c.key, sizeof c.key);
        cli_reported = 1;
        return FK_ERR_UNSUPPORTED;
    }
    if (c.have) {
        memcpy(file_key, c.key, FK_AGE_FILE_KEY_LEN);
        fk_wipe(c.key, sizeof c.key);
        return FK_OK;
    }
    if (c.stanza_error) {
        cli_reported = 1; /* the plugin said which stanza and why */
        return FK_ERR_HEADER;
    }
    /* The plugin said why it could not unwrap; that beats "no identity
     * matched" if nothing else does. */
    if (c.failed)
        cli_reported = 1;
    return FK_ERR_NO_MATCH;
}

static void plugin_destroy_i(fk_identity *id)
{
    target_destroy(id->state);
    id->state = NULL;
}

static const fk_identity_ops plugin_id_ops = {"plugin", plugin_unwrap, plugin_destroy_i};

fk_err cli_plugin_identity(fk_identity **out, const char *s)
{
    char name[PLUGIN_NAME_MAX + 1];
    plugin_target *t;
    fk_identity *id;
    if (cli_plugin_name(s, name) < 0 || strncmp(s, "AGE-PLUGIN-", 11) != 0)
        return FK_ERR_INVALID;
    if (!(t = target_new(name, s, 1)) || !(id = malloc(sizeof *id))) {
        target_destroy(t);
        return FK_ERR_NOMEM;
    }
    id->ops = &plugin_id_ops;
    id->state = t;
    *out = id;
    return FK_OK;
}

int cli_identities_add_plugin_default(cli_identities *l, const char *name)
{
    char id[FK_AGE_IDENTITY_STR_MAX + PLUGIN_NAME_MAX];
    fk_identity *i = NULL, **nv;
    if (cli_plugin_default_identity(name, id, sizeof id) < 0)
        return -1;
    if (cli_plugin_identity(&i, id) != FK_OK || !(nv = realloc(l->v, (l->n + 1) * sizeof *nv))) {
        fk_identity_free(i);
        cli_err("out of memory");
        return -1;
    }
    l->v = nv;
    l->v[l->n++] = i;
    return 0;
}
