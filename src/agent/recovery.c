/* Helpers shared by the agent and the recovery commands (see recovery.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "prog/authlog.h"
#include "prog/prog.h"
#include "net/net.h"
#include "recovery.h"

fk_escrow_authority *rec_load_authority(const char *path)
{
    char *text;
    size_t len;
    if (cli_read_file(path, FK_ESCROW_AUTHORITY_TEXT_MAX, 0, &text, &len))
        return NULL;
    fk_escrow_authority *a = malloc(sizeof *a);
    if (!a) {
        free(text);
        cli_err("out of memory");
        return NULL;
    }
    fk_err err = fk_escrow_authority_parse(a, text, len);
    free(text);
    if (err) {
        cli_err("%s is not a valid authority file (%s); use the authority.pub that "
                "'fairkey authority create' wrote", path, fk_strerror(err));
        free(a);
        return NULL;
    }
    return a;
}

int rec_cacert(const char *path)
{
    const char *why = fki_net_set_cacert(path);
    if (why)
        cli_err("%s", why);
    return why ? -1 : 0;
}

int rec_log_open(struct fki_log_client *c, const char *url, const char *vkey)
{
    char *text = NULL;
    size_t len = strlen(vkey);
    if (access(vkey, F_OK) == 0) {
        if (cli_read_file(vkey, FK_NOTE_KEY_TEXT_MAX + 2, 0, &text, &len))
            return -1;
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            len--;
        text[len] = 0;
    }
    fk_err err = fki_log_client_init(c, url, text ? text : vkey);
    free(text);
    if (err == FK_ERR_NOMEM) {
        cli_err("out of memory");
        return -1;
    }
    if (err || c->key.alg != FK_NOTE_ALG_ED25519) {
        fki_log_client_close(c);
        if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
            cli_err("'%s' is not a log URL; pass http://HOST:PORT of the log", url);
        else
            cli_err("'%s' is not a log verifier key (name+id+key); use the vkey the log printed",
                    vkey);
        return -1;
    }
    return 0;
}

int rec_log_policy(fk_tlog_policy *p, const char *path, const fk_note_verifier *given,
                   const char *policy_opt, const char *vkey_opt, char *vkey_out)
{
    char *text;
    size_t len, line = 0;
    if (!path) {
        if (fk_tlog_policy_from_log(p, given)) {
            cli_err("%s is not an Ed25519 log key; use the vkey the log printed", vkey_opt);
            return -1;
        }
        return 0;
    }
    if (cli_read_file(path, FK_TLOG_POLICY_MAX_SIZE, 0, &text, &len))
        return -1;
    fk_err err = fk_tlog_policy_parse(p, text, len, &line);
    free(text);
    if (err) {
        cli_policy_error(policy_opt, path, err, line);
        return -1;
    }
    if (given) {
        size_t i;
        if (p->nlogs == 0 ? fk_tlog_policy_add_log(p, given) != FK_OK
                          : fk_tlog_policy_find_log(p, given, &i) != FK_OK) {
            cli_err("the log key %s names is not a log of %s %s; add a 'log' line for it or drop %s",
                    vkey_opt, policy_opt, path, vkey_opt);
            return -1;
        }
        return 0;
    }
    if (p->nlogs != 1) {
        cli_err("%s %s lists %zu logs; name the one to use with %s", policy_opt, path, p->nlogs,
                vkey_opt);
        return -1;
    }
    if (fk_note_verifier_encode(&p->logs[0], vkey_out, FK_NOTE_KEY_TEXT_MAX + 1, &len)) {
        cli_err("cannot encode the log key of %s %s", policy_opt, path);
        return -1;
    }
    return 0;
}

int rec_url(char *out, size_t cap, const char *base, const char *path)
{
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    int n = snprintf(out, cap, "%.*s/%s", (int)bl, base, path);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int rec_read_header(const char *path, fk_header *h)
{
    int fd = cli_open_in(path, 0);
    if (fd < 0)
        return -1;
    int armored;
    uint64_t plen;
    memset(h, 0, sizeof *h);
    fk_err err = fk_age_read_header_fd(fd, h, &armored, &plen);
    cli_close_in(fd);
    if (err) {
        cli_err("%s: cannot read the age header (%s); is it an age file?", path, fk_strerror(err));
        return -1;
    }
    return 0;
}

int rec_find_stanza(const char *path, const fk_escrow_authority *auth, fk_escrow_stanza_info *st)
{
    fk_header h;
    if (rec_read_header(path, &h))
        return -1;
    fk_err err = fk_escrow_header_find(&h, auth->pk, st);
    fk_header_clear(&h);
    if (err == FK_ERR_NOT_FOUND) {
        cli_err("%s has no escrow stanza for this authority; check --authority", path);
        return -1;
    }
    if (err) {
        cli_err("%s: malformed escrow stanza (%s); the file's header is damaged", path,
                fk_strerror(err));
        return -1;
    }
    return 0;
}

enum rec_answer rec_answer_read(long status, const uint8_t *body, size_t len,
                                const fk_escrow_authority *auth, const uint8_t reply_secret[32],
                                const uint8_t eh[32], const uint8_t target[32],
                                fk_escrow_partial *out, long long *id, char *msg, size_t msgcap)
{
    json_error_t je;
    json_t *js = json_loadb((const char *)body, len, 0, &je);
    const char *st = js ? json_string_value(json_object_get(js, "status")) : NULL;
    enum rec_answer rc = REC_ANSWER_UNREADABLE;
    if (!st) {
        /* not an answer */
    } else if (status == 202 && !strcmp(st, "pending")) {
        *id = (long long)json_integer_value(json_object_get(js, "id"));
        rc = REC_ANSWER_PENDING;
    } else if (status != 200 || strcmp(st, "answered")) {
        const char *e = json_string_value(json_object_get(js, "error"));
        snprintf(msg, msgcap, "%s", e ? e : st);
        rc = REC_ANSWER_REFUSED;
    } else {
        json_int_t idx = json_integer_value(json_object_get(js, "agent"));
        const char *ans = json_string_value(json_object_get(js, "answer"));
        uint8_t sealed[FK_ANSWER_PLAIN_MAX + FK_ANSWER_OVERHEAD], plain[FK_ANSWER_PLAIN_MAX];
        size_t sl = 0, pl = 0;
        fk_escrow_partial p;
        rc = REC_ANSWER_UNOPENED;
        if (idx >= 1 && idx <= (json_int_t)auth->n && ans &&
            !fk_b64_decode_padded(sealed, sizeof sealed, &sl, ans, strlen(ans)) &&
            !fk_answer_open(plain, sizeof plain, &pl, reply_secret, eh, (unsigned)idx, sealed,
                            sl) &&
            pl == FK_ESCROW_PARTIAL_LEN && !fk_escrow_partial_decode(&p, plain) &&
            p.index == (unsigned)idx) {
            rc = REC_ANSWER_BAD_PROOF;
            if (!fk_escrow_partial_verify(auth, &p, target, eh, 32)) {
                *out = p;
                rc = REC_ANSWER_VALID;
            }
        }
        fk_wipe(plain, sizeof plain);
        fk_wipe(&p, sizeof p);
    }
    json_decref(js);
    return rc;
}

char *rec_b64(const uint8_t *in, size_t n)
{
    char *s = malloc(fk_b64_enc_len_padded(n) + 1);
    if (s)
        fk_b64_encode_padded(s, in, n);
    return s;
}

/* Requester key files are tiny (four lines). */
#define REQUESTER_KEYFILE_MAX 1024

int rec_load_requester_key(const char *path, fk_requester_key *k)
{
    char *text;
    size_t len;
    if (cli_read_file(path, REQUESTER_KEYFILE_MAX, 1, &text, &len))
        return -1;
    fk_err err = fk_requester_key_parse(k, text, len);
    cli_free_secret(text, len);
    if (err) {
        cli_err("%s is not a requester key file; create one with 'fairkey request keygen'", path);
        return -1;
    }
    return 0;
}
