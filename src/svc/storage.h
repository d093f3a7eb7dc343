/*
 * storage.h - what a daemon says when its state directory cannot be
 * written at start: the file system is full or mounted read-only (a
 * systemd unit without its StateDirectory under ProtectSystem=strict).
 * Program code (fairkey-net), shared by the log, the agent and the witness.
 */
#ifndef FK_SVC_STORAGE_H
#define FK_SVC_STORAGE_H

#include <stddef.h>

/* Free space below which a file system counts as full: a log's first
 * checkpoint, a database's journal and a key file need a few pages. */
#define FKI_STORAGE_MIN_FREE (256u * 1024u)

/* One line (into buf, capacity cap) naming the problem of the file system
 * that holds path (or its nearest existing parent) and the remedy: full
 * (disk full: under FKI_STORAGE_MIN_FREE bytes free for this user), or
 * read-only.  NULL when neither holds. */
const char *fki_storage_problem(const char *path, char *buf, size_t cap);

#endif
