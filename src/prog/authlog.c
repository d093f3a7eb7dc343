/*
 * The log an authority names (docs/spec.md 2.1): the one place where the
 * programs that talk to a log on an authority's behalf (agent serve,
 * request, recover, audit) get its URL, vkey and witness policy, and where
 * authority create turns its log options into the policy it embeds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prog/authlog.h"
#include "prog/prog.h"

void cli_policy_error(const char *opt, const char *path, fk_err err, size_t line)
{
    const char *why =
        err == FK_ERR_LIMIT ? "is over a limit (32 logs, 32 witnesses, 32 groups, 255-byte names, "
                              "511-byte URLs, 64 KiB)"
        : err == FK_ERR_UNSUPPORTED ? "has a key type fairkey cannot verify (logs: Ed25519, "
                                      "witnesses: cosignature/v1 Ed25519)"
        : line == 0 ? "needs exactly one 'quorum' line"
                    : "is not valid: check the keyword, the key and its type, that each name "
                      "is defined once on an earlier line, and the threshold";
    if (line)
        cli_err("%s %s line %zu %s (C2SP tlog-policy; see docs/log.md)", opt, path, line, why);
    else
        cli_err("%s %s %s (C2SP tlog-policy; see docs/log.md)", opt, path, why);
}

int cli_vkey_read(const char *arg, char out[FK_NOTE_KEY_TEXT_MAX + 1])
{
    char *text = NULL;
    size_t len = strlen(arg);
    if (access(arg, F_OK) == 0) {
        if (cli_read_file(arg, FK_NOTE_KEY_TEXT_MAX + 2, 0, &text, &len))
            return -1;
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            len--;
    }
    if (len > FK_NOTE_KEY_TEXT_MAX) {
        free(text);
        cli_err("'%.40s...' is too long for a log verifier key; use the vkey the log printed", arg);
        return -1;
    }
    memcpy(out, text ? text : arg, len);
    out[len] = 0;
    free(text);
    return 0;
}

/* The canonical policy text of --log-policy FILE; errors name the option. */
static int policy_file(char *out, size_t *len, const char *opt, const char *path)
{
    char *text;
    size_t tlen, line = 0;
    fk_tlog_policy *p = malloc(sizeof *p);
    if (!p) {
        cli_err("out of memory");
        return -1;
    }
    if (cli_read_file(path, FK_TLOG_POLICY_MAX_SIZE, 0, &text, &tlen)) {
        free(p);
        return -1;
    }
    /* Parsed once as given, so an error names its line. */
    fk_err err = fk_tlog_policy_parse(p, text, tlen, &line);
    free(p);
    if (err) {
        free(text);
        cli_policy_error(opt, path, err, line);
        return -1;
    }
    err = fk_escrow_policy_canonical(out, FK_ESCROW_POLICY_MAX + 1, len, text, tlen);
    free(text);
    if (err == FK_ERR_LIMIT) {
        cli_err("%s %s is over %u bytes without its comments; an authority names a smaller "
                "policy", opt, path, FK_ESCROW_POLICY_MAX);
        return -1;
    }
    if (err) {
        cli_err("%s %s must list the log with its URL ('log VKEY http://HOST:PORT') and use "
                "only ASCII (C2SP tlog-policy; see docs/spec.md 2.1)", opt, path);
        return -1;
    }
    return 0;
}

int cli_policy_for_authority(char out[FK_ESCROW_POLICY_MAX + 1], size_t *len, const char *url,
                             const char *vkey, const char *policy_path)
{
    if (policy_path)
        return policy_file(out, len, "--log-policy", policy_path);
    char key[FK_NOTE_KEY_TEXT_MAX + 1], text[FK_NOTE_KEY_TEXT_MAX + FK_TLOG_POLICY_URL_MAX + 32];
    if (cli_vkey_read(vkey, key))
        return -1;
    if (strlen(url) > FK_TLOG_POLICY_URL_MAX || strpbrk(url, " \t\n")) {
        cli_err("--log '%.40s' is not a log URL; pass http://HOST:PORT of the log", url);
        return -1;
    }
    int n = snprintf(text, sizeof text, "log %s %s\nquorum none\n", key, url);
    fk_err err = n < 0 || (size_t)n >= sizeof text
                     ? FK_ERR_LIMIT
                     : fk_escrow_policy_canonical(out, FK_ESCROW_POLICY_MAX + 1, len, text,
                                                  (size_t)n);
    if (err) {
        cli_err("--log %s --log-vkey %s is not a log (the URL must be http:// or https://, the "
                "vkey the Ed25519 key the log printed)",
                url, key);
        return -1;
    }
    return 0;
}

/* URLs compare without trailing slashes (rec_url adds its own). */
static int same_url(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la && a[la - 1] == '/')
        la--;
    while (lb && b[lb - 1] == '/')
        lb--;
    return la == lb && !memcmp(a, b, la);
}

int cli_authority_log(cli_authlog *out, const fk_escrow_authority *a, const char *url,
                      const char *vkey, const char *policy_path)
{
    fk_tlog_policy *p = &out->policy;
    size_t i = 0, len;
    if (fk_escrow_authority_policy(p, a) != FK_OK || p->nlogs == 0) {
        cli_err("authority %s names no usable log policy; recreate it with 'fairkey authority "
                "create --log-policy FILE'", a->name);
        return -1;
    }
    if (url) {
        for (i = 0; i < p->nlogs && !same_url(p->log_url[i], url); i++)
            ;
        if (i == p->nlogs) {
            cli_err("--log %s is not the log of authority %s (%s); its requests are audited "
                    "there only: drop --log", url, a->name, p->log_url[0]);
            return -1;
        }
    }
    if (vkey) {
        char key[FK_NOTE_KEY_TEXT_MAX + 1];
        fk_note_verifier v;
        size_t j;
        if (cli_vkey_read(vkey, key))
            return -1;
        if (fk_note_verifier_parse(&v, key, strlen(key)) != FK_OK ||
            fk_tlog_policy_find_log(p, &v, &j) != FK_OK || (url && j != i)) {
            cli_err("--log-vkey %s is not the key of authority %s's log%s; its requests are "
                    "audited there only: drop --log-vkey", key, a->name, url ? " at --log" : "");
            return -1;
        }
        i = j;
    }
    if (policy_path) {
        char *canon = malloc(FK_ESCROW_POLICY_MAX + 1);
        if (!canon) {
            cli_err("out of memory");
            return -1;
        }
        int bad = policy_file(canon, &len, "--log-policy", policy_path);
        if (!bad && (len != a->policy_len || memcmp(canon, a->policy, len))) {
            cli_err("--log-policy %s is not the log policy of authority %s (see 'fairkey "
                    "authority show'); drop --log-policy", policy_path, a->name);
            bad = 1;
        }
        free(canon);
        if (bad)
            return -1;
    }
    memcpy(out->url, p->log_url[i], sizeof out->url);
    if (fk_note_verifier_encode(&p->logs[i], out->vkey, sizeof out->vkey, &len) != FK_OK) {
        cli_err("cannot encode the log key of authority %s", a->name);
        return -1;
    }
    return 0;
}

fk_err cli_log_proof_verify(const cli_authlog *al, const fk_tlog_proof *pr,
                            const uint8_t leaf[FK_TLOG_HASH_LEN], fk_checkpoint *cp)
{
    fk_err err = FK_ERR_SIGNATURE;
    fk_note nt;
    for (size_t i = 0; i < al->policy.nlogs && err == FK_ERR_SIGNATURE; i++)
        if (!(err = fk_tlog_proof_verify(pr, leaf, al->policy.logs[i].name, &al->policy.logs[i],
                                         1, cp, &nt)))
            err = fk_tlog_policy_quorum(&al->policy, &nt, NULL);
    return err;
}
