/*
 * Recipient and identity plumbing: freeing, dispatch by string prefix,
 * identity files (age-keygen format), and the file-key identity used by
 * escrow recovery.
 */
#include <stdlib.h>
#include <string.h>

#include "age/internal.h"

void fk_recipient_free(fk_recipient *r)
{
    if (!r)
        return;
    if (r->ops && r->ops->destroy)
        r->ops->destroy(r);
    free(r);
}

void fk_identity_free(fk_identity *id)
{
    if (!id)
        return;
    if (id->ops && id->ops->destroy)
        id->ops->destroy(id);
    free(id);
}

/* ---- the file-key identity ------------------------------------------------ */

static fk_err fkid_unwrap(const fk_identity *id, const fk_header *h,
                          uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    fk_err err = fk_header_verify_mac(h, id->state);
    if (err == FK_ERR_HMAC)
        return FK_ERR_NO_MATCH;
    if (err == FK_OK)
        memcpy(file_key, id->state, FK_AGE_FILE_KEY_LEN);
    return err;
}

static void fkid_destroy(fk_identity *id)
{
    fk_wipe(id->state, FK_AGE_FILE_KEY_LEN);
    free(id->state);
    id->state = NULL;
}

static const fk_identity_ops fkid_ops = {"file key", fkid_unwrap, fkid_destroy};

fk_err fk_filekey_identity_new(fk_identity **out, const uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    fk_identity *id;
    uint8_t *k;
    if (!out || !file_key)
        abort();
    id = malloc(sizeof *id);
    k = malloc(FK_AGE_FILE_KEY_LEN);
    if (!id || !k) {
        free(id);
        free(k);
        return FK_ERR_NOMEM;
    }
    memcpy(k, file_key, FK_AGE_FILE_KEY_LEN);
    id->ops = &fkid_ops;
    id->state = k;
    *out = id;
    return FK_OK;
}

/* ---- parsing by prefix ----------------------------------------------------- */

static int starts(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

fk_err fk_recipient_parse(fk_recipient **out, const char *s)
{
    if (!out || !s)
        abort();
    /* Native post-quantum and plugin recipients are recognised but not
     * implemented; "age1<name>1..." is the plugin naming rule. */
    if (starts(s, "age1pq1") || starts(s, "age1tag1") || starts(s, "age1tagpq1"))
        return FK_ERR_UNSUPPORTED;
    if (starts(s, "age1")) {
        fk_err err = fk_x25519_recipient_parse(out, s);
        if (err == FK_ERR_INVALID && strchr(s + 4, '1'))
            return FK_ERR_UNSUPPORTED; /* age1<plugin>1...: not ours */
        return err;
    }
    return FK_ERR_INVALID;
}

fk_err fk_identity_parse(fk_identity **out, const char *s)
{
    if (!out || !s)
        abort();
    if (starts(s, "AGE-SECRET-KEY-1"))
        return fk_x25519_identity_parse(out, s);
    if (starts(s, "AGE-SECRET-KEY-") || starts(s, "AGE-PLUGIN-"))
        return FK_ERR_UNSUPPORTED; /* ML-KEM hybrid, tagged or plugin identities */
    return FK_ERR_INVALID;
}

fk_err fk_identity_file_parse(fk_identity ***ids, size_t *nids, const char *text, size_t len)
{
    fk_identity **list = NULL;
    size_t n = 0, cap = 0, pos = 0;
    fk_err err = FK_OK;

    if (!ids || !nids || (!text && len))
        abort();
    if (memchr(text, '\0', len))
        return FK_ERR_INVALID;
    while (pos < len && err == FK_OK) {
        const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - line) : len - pos;
        pos += l + (nl ? 1 : 0);
        if (l && line[l - 1] == '\r')
            l--;
        if (l == 0 || line[0] == '#')
            continue;
        char *copy = strndup(line, l);
        fk_identity *id = NULL;
        if (!copy) {
            err = FK_ERR_NOMEM;
            break;
        }
        err = fk_identity_parse(&id, copy);
        fk_wipe(copy, l);
        free(copy);
        if (err != FK_OK)
            break;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            fk_identity **nl2 = realloc(list, ncap * sizeof *nl2);
            if (!nl2) {
                fk_identity_free(id);
                err = FK_ERR_NOMEM;
                break;
            }
            list = nl2;
            cap = ncap;
        }
        list[n++] = id;
    }
    if (err == FK_OK && n == 0)
        err = FK_ERR_INVALID; /* no identity at all is certainly a mistake */
    if (err == FK_OK) {
        fk_identity **all = realloc(*ids, (*nids + n) * sizeof *all);
        if (!all) {
            err = FK_ERR_NOMEM;
        } else {
            memcpy(all + *nids, list, n * sizeof *list);
            *ids = all;
            *nids += n;
        }
    }
    if (err != FK_OK)
        for (size_t i = 0; i < n; i++)
            fk_identity_free(list[i]);
    free(list);
    return err;
}
