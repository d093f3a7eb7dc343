/*
 * keyfile.h - a daemon's signing key file (the log's DIR.key, a witness's
 * DIR/witness.key): the note private-key text and '\n', created 0600 with O_EXCL
 * on first start, read with O_NOFOLLOW; the checks every secret file of a
 * daemon passes, and the lock on a daemon's state directory.  Program code
 * compiled into fairkey-net.
 */
#ifndef FK_SVC_KEYFILE_H
#define FK_SVC_KEYFILE_H

#include <sys/stat.h>

#include <fairkey.h>

/* The key the file holds: exactly one of the two is set. */
struct fki_keyfile_key {
    fk_note_signer *signer;  /* a log's checkpoint key (type 0x01) */
    fk_cosigner *cosigner;   /* a witness's key (type 0x04) */
};

/*
 * Load the key file at path into k or, where there is no such file, generate a key named
 * name (NULL: default_prefix and 8 random hex digits) and write it there.
 * FK_ERR_POLICY when the file's key has another name than a non-NULL name;
 * FK_ERR_IO when the file cannot be read or written; else the parse or
 * generate error.  Every buffer that held the key text is wiped.
 */
fk_err fki_keyfile_load_or_create(const struct fki_keyfile_key *k, const char *path,
                                  const char *name, const char *default_prefix);

/*
 * Why a secret file (a daemon's key, an agent's share) may not be used, or
 * NULL when it may: it must be a regular file owned by this user that group
 * and others can neither read nor write (as ssh asks of its keys).  The
 * text completes "<path> ...".
 */
const char *fki_secret_file_problem(const struct stat *st);

/*
 * Take the lock that makes one process the owner of a state directory:
 * DIR/lock, flock()ed exclusively without waiting.  Returns the descriptor
 * (closing it releases the lock), or -1 with errno EWOULDBLOCK when another
 * process holds it, another errno when DIR/lock cannot be opened.
 */
int fki_dir_lock(const char *dir);

#endif
