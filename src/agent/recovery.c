/* Helpers shared by the agent and the recovery commands (see recovery.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
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

int rec_load_vkey(const char *arg, fk_note_verifier *v)
{
    char *text = NULL;
    size_t len = strlen(arg);
    const char *s = arg;
    if (access(arg, F_OK) == 0) {
        if (cli_read_file(arg, FK_NOTE_KEY_TEXT_MAX + 2, 0, &text, &len))
            return -1;
        s = text;
        while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
            len--;
    }
    fk_err err = fk_note_verifier_parse(v, s, len);
    free(text);
    if (err || v->alg != FK_NOTE_ALG_ED25519) {
        cli_err("'%s' is not a log verifier key (name+id+key); use the vkey the log printed", arg);
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

fk_err rec_fetch_checkpoint(const char *log, const fk_note_verifier *v, fk_checkpoint *cp,
                            char **note, size_t *note_len)
{
    char url[REC_URL_MAX];
    uint8_t *body = NULL;
    size_t blen = 0;
    long status = 0;
    fk_err err;
    if (rec_url(url, sizeof url, log, "checkpoint"))
        return FK_ERR_LIMIT;
    struct fki_net_client_opts o = {.max_response = 65536};
    if ((err = fki_net_get(url, &o, &status, &body, &blen)))
        return err;
    if (status != 200) {
        free(body);
        return FK_ERR_NET;
    }
    fk_checkpoint c;
    err = fk_checkpoint_open(&c, NULL, (const char *)body, blen, v->name, v, 1, NULL);
    if (err) {
        free(body);
        return err;
    }
    c.ext = NULL; /* points into body, which we may free */
    c.ext_len = 0;
    *cp = c;
    if (note) {
        *note = (char *)body;
        *note_len = blen;
    } else {
        free(body);
    }
    return FK_OK;
}

fk_err rec_tile_fetch(void *ctx, const fk_tile *t, uint8_t *out, size_t cap, size_t *len)
{
    const char *log = ctx;
    char path[FK_TILE_PATH_MAX], url[REC_URL_MAX];
    size_t pl;
    fk_tile full = *t;
    fk_err err;
    for (int attempt = 0; attempt < 2; attempt++) {
        const fk_tile *cur = attempt ? &full : t;
        if ((err = fk_tile_path(cur, path, sizeof path, &pl)) ||
            rec_url(url, sizeof url, log, path))
            return err ? err : FK_ERR_LIMIT;
        uint8_t *body = NULL;
        size_t blen = 0;
        long status = 0;
        struct fki_net_client_opts o = {.max_response = FK_TILE_MAX_BYTES + 1};
        if ((err = fki_net_get(url, &o, &status, &body, &blen)))
            return err;
        if (status == 200) {
            size_t want = (size_t)t->width * FK_TLOG_HASH_LEN;
            if (t->level == FK_TILE_ENTRIES)
                want = blen; /* bundles have no fixed size; used whole */
            if (blen < want || want > cap || (attempt == 0 && blen != want)) {
                free(body);
                return FK_ERR_INVALID;
            }
            memcpy(out, body, want);
            *len = want;
            free(body);
            return FK_OK;
        }
        free(body);
        if (status != 404 || t->width == FK_TILE_WIDTH || t->level == FK_TILE_ENTRIES)
            return status == 404 ? FK_ERR_NOT_FOUND : FK_ERR_NET;
        full.width = FK_TILE_WIDTH;
    }
    return FK_ERR_NOT_FOUND;
}

fk_err rec_check_consistency(const char *log, const fk_checkpoint *a, const fk_checkpoint *b)
{
    const fk_checkpoint *lo = a->size <= b->size ? a : b, *hi = lo == a ? b : a;
    if (lo->size == hi->size)
        return memcmp(lo->root, hi->root, FK_TLOG_HASH_LEN) ? FK_ERR_PROOF : FK_OK;
    if (lo->size == 0)
        return FK_OK;
    fk_tile_reader *r = malloc(sizeof *r);
    uint8_t(*proof)[FK_TLOG_HASH_LEN] = malloc(FK_TLOG_MAX_PROOF * FK_TLOG_HASH_LEN);
    size_t n = 0;
    fk_err err = FK_ERR_NOMEM;
    if (r && proof) {
        fk_tile_reader_init(r, hi->size, rec_tile_fetch, (void *)log);
        err = fk_tlog_prove_consistency(lo->size, hi->size, fk_tile_reader_node, r, proof,
                                        FK_TLOG_MAX_PROOF, &n);
        if (!err)
            err = fk_tlog_verify_consistency(lo->size, hi->size, lo->root, hi->root,
                                             (const uint8_t(*)[FK_TLOG_HASH_LEN])proof, n);
    }
    free(r);
    free(proof);
    return err;
}

fk_err rec_receipt_parse(fk_tlog_proof *p, char *note, size_t *note_len, const char *buf,
                         size_t len)
{
    fk_err err = fk_tlog_proof_parse(p, buf, len);
    if (err)
        return err;
    if (!p->extra_b64)
        return FK_ERR_INVALID;
    size_t n = 0;
    uint8_t *tmp = (uint8_t *)note;
    if (fk_b64_decode_padded(tmp, FK_REQUEST_NOTE_MAX, &n, p->extra_b64, p->extra_b64_len) &&
        fk_b64_decode(tmp, FK_REQUEST_NOTE_MAX, &n, p->extra_b64, p->extra_b64_len))
        return FK_ERR_INVALID;
    note[n] = 0;
    *note_len = n;
    return FK_OK;
}

int rec_find_stanza(const char *path, const fk_escrow_authority *auth, fk_escrow_stanza_info *st)
{
    int fd = cli_open_in(path, 0);
    if (fd < 0)
        return -1;
    fk_header h;
    int armored;
    uint64_t plen;
    memset(&h, 0, sizeof h);
    fk_err err = fk_age_read_header_fd(fd, &h, &armored, &plen);
    cli_close_in(fd);
    if (err) {
        cli_err("%s: cannot read the age header (%s)", path, fk_strerror(err));
        return -1;
    }
    err = fk_escrow_header_find(&h, auth->pk, st);
    fk_header_clear(&h);
    if (err == FK_ERR_NOT_FOUND) {
        cli_err("%s has no escrow stanza for this authority; check --authority", path);
        return -1;
    }
    if (err) {
        cli_err("%s: malformed escrow stanza (%s)", path, fk_strerror(err));
        return -1;
    }
    return 0;
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
