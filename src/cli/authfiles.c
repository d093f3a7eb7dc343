/*
 * Authority and share files as the ceremony commands read and leave them:
 * loading (fully checked; shares as secrets), and writing a new agent's
 * result of a dealerless ceremony or a resharing.  Shared by authority.c,
 * dkg.c and reshare.c, so none of them depends on another for its files.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Read and fully check an authority file.  Returns NULL after cli_err. */
fk_escrow_authority *cli_load_authority(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    if (cli_read_file(path, FK_ESCROW_AUTHORITY_TEXT_MAX, 0, &text, &len) < 0)
        return NULL;
    fk_escrow_authority *a = malloc(sizeof(*a));
    if (!a) {
        free(text);
        cli_err("out of memory");
        return NULL;
    }
    fk_err e = fk_escrow_authority_parse(a, text, len);
    free(text);
    if (e != FK_OK) {
        free(a);
        cli_err("%s is not a valid fairkey authority file (%s); use the authority.pub written by "
                "'fairkey authority create'",
                path, fk_strerror(e));
        return NULL;
    }
    return a;
}

/* Read a share file (a secret: no symlinks, wiped after parsing). */
int cli_load_share(const char *path, fk_escrow_share *share)
{
    char *text = NULL;
    size_t len = 0;
    if (cli_read_file(path, FK_ESCROW_SHARE_TEXT_MAX, 1, &text, &len) < 0)
        return -1;
    fk_err e = fk_escrow_share_parse(share, text, len);
    cli_free_secret(text, len);
    if (e != FK_OK) {
        cli_err("%s is not a valid fairkey share file (%s); use a share-<i>.key written by "
                "'fairkey authority create'",
                path, fk_strerror(e));
        return -1;
    }
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077))
        fprintf(stderr, "fairkey: warning: %s is readable by other users; chmod 600 it\n", path);
    return 0;
}

int cli_authority_write_agent(const char *dir, const fk_escrow_authority *a,
                              const fk_escrow_share *share, const char *note)
{
    char share_path[PATH_MAX], auth_path[PATH_MAX], stext[FK_ESCROW_SHARE_TEXT_MAX];
    char rcpt[FK_ESCROW_RECIPIENT_STR_MAX], idhex[FK_ESCROW_ID_HEX_LEN];
    char *atext = malloc(FK_ESCROW_AUTHORITY_TEXT_MAX);
    size_t slen, alen;
    int rc = -1, share_written = 0;
    if (!atext) {
        cli_err("out of memory");
        return -1;
    }
    if (fk_escrow_share_verify(a, share) ||
        fk_escrow_share_encode(stext, sizeof stext, &slen, share) ||
        fk_escrow_authority_encode(atext, FK_ESCROW_AUTHORITY_TEXT_MAX, &alen, a)) {
        cli_err("the new share does not match the authority it belongs to; nothing was written");
        goto out;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        cli_err("cannot create the folder %s: %s", dir, strerror(errno));
        goto out;
    }
    int n = snprintf(share_path, sizeof share_path, "%s/share-%u.key", dir, share->index);
    int m = snprintf(auth_path, sizeof auth_path, "%s/authority.pub", dir);
    if (n < 0 || (size_t)n >= sizeof share_path || m < 0 || (size_t)m >= sizeof auth_path) {
        cli_err("the folder name %s is too long", dir);
        goto out;
    }
    if (cli_write_new_file(share_path, stext, slen, 1) < 0)
        goto out;
    share_written = 1;
    if (cli_write_new_file(auth_path, atext, alen, 0) < 0)
        goto out;
    fk_escrow_recipient_encode(rcpt, a->pk);
    fk_escrow_id_hex(idhex, a->id);
    printf("authority: %s\nthreshold: %u-of-%u\nid: %s\nrecipient: %s\n", a->name, a->t, a->n,
           idhex, rcpt);
    fprintf(stderr, "Wrote %s/authority.pub and share-%u.key (mode 0600): your share as agent "
                    "%u%s\n",
            dir, share->index, share->index, note);
    rc = fflush(stdout) == 0 ? 0 : -1;
out:
    if (rc != 0 && share_written)
        unlink(share_path);
    fk_wipe(stext, sizeof stext);
    free(atext);
    return rc;
}
