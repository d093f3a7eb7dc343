/*
 * keyfile.h - a daemon's signing key file (the log's DIR.key, a witness's
 * DIR/witness.key): the note private-key text and '\n', created 0600 with O_EXCL
 * on first start, read with O_NOFOLLOW.  Program code compiled into
 * fairkey-net.
 */
#ifndef FK_LOG_KEYFILE_H
#define FK_LOG_KEYFILE_H

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

#endif
