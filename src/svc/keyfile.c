/*
 * keyfile.c - a daemon's signing key file, shared by the log and the witness
 * (keyfile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "svc/keyfile.h"

const char *fki_secret_file_problem(const struct stat *st)
{
    if (!S_ISREG(st->st_mode))
        return "is not a regular file";
    if (st->st_uid != geteuid())
        return "belongs to another user";
    if (st->st_mode & 077)
        return "is readable or writable by group or others";
    return NULL;
}

int fki_dir_lock(const char *dir)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/lock", dir) >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static fk_err key_parse(const struct fki_keyfile_key *k, const char *text, size_t len)
{
    return k->signer ? fk_note_signer_parse(k->signer, text, len)
                     : fk_cosigner_parse(k->cosigner, text, len);
}

static fk_err key_generate(const struct fki_keyfile_key *k, const char *name)
{
    return k->signer ? fk_note_signer_generate(k->signer, name, strlen(name))
                     : fk_cosigner_generate(k->cosigner, name, strlen(name));
}

static fk_err key_encode(const struct fki_keyfile_key *k, char *out, size_t cap, size_t *len)
{
    return k->signer ? fk_note_signer_encode(k->signer, out, cap, len)
                     : fk_cosigner_encode(k->cosigner, out, cap, len);
}

static int key_has_name(const struct fki_keyfile_key *k, const char *name)
{
    const char *kn = k->signer ? k->signer->name : k->cosigner->name;
    size_t kl = k->signer ? k->signer->name_len : k->cosigner->name_len;
    return strlen(name) == kl && !memcmp(name, kn, kl);
}

fk_err fki_keyfile_load_or_create(const struct fki_keyfile_key *k, const char *path,
                                  const char *name, const char *default_prefix)
{
    char text[FK_NOTE_KEY_TEXT_MAX + 2];
    fk_err e;
    if (!k || !k->signer == !k->cosigner)
        abort();
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        /* A private key others can read, or someone else's, is refused
         * (as ssh does), not silently used. */
        struct stat st;
        if (fstat(fd, &st) || fki_secret_file_problem(&st)) {
            close(fd);
            return FK_ERR_IO;
        }
        ssize_t n = read(fd, text, sizeof text - 1);
        close(fd);
        if (n <= 0) {
            fk_wipe(text, sizeof text);
            return FK_ERR_IO;
        }
        size_t len = (size_t)n;
        if (text[len - 1] == '\n')
            len--;
        e = key_parse(k, text, len);
        fk_wipe(text, sizeof text);
        if (!e && name && !key_has_name(k, name))
            e = FK_ERR_POLICY;
        return e;
    }
    if (errno != ENOENT)
        return FK_ERR_IO;
    char defname[64];
    if (!name) {
        uint8_t rnd[4];
        char hex[9];
        if ((e = fk_random(rnd, sizeof rnd)))
            return e;
        fk_hex_encode(hex, rnd, sizeof rnd);
        snprintf(defname, sizeof defname, "%s%s", default_prefix, hex);
        name = defname;
    }
    if ((e = key_generate(k, name)))
        return e;
    size_t len;
    if ((e = key_encode(k, text, sizeof text - 1, &len))) {
        fk_wipe(text, sizeof text);
        return e;
    }
    text[len++] = '\n';
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        fk_wipe(text, sizeof text);
        return FK_ERR_IO;
    }
    e = (write(fd, text, len) == (ssize_t)len && !fsync(fd)) ? FK_OK : FK_ERR_IO;
    close(fd);
    fk_wipe(text, sizeof text);
    if (e)
        unlink(path);
    return e;
}
