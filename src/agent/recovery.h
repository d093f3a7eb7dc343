/*
 * recovery.h - helpers shared by the escrow agent and the recovery commands
 * (request, recover, audit, demo): loading authorities and log keys, talking
 * to the log (checkpoint, tiles, consistency), receipts, and the agent's
 * SQLite audit store.  Program code (fairkey executable), not libfairkey.
 */
#ifndef FK_AGENT_RECOVERY_H
#define FK_AGENT_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include <fairkey.h>

/* A receipt file: a C2SP tlog-proof whose extra data is the signed request
 * note, so one file carries both (docs/protocol.md 3).  Bounded by the note
 * (4 KiB, 5.5 KiB in base64), a checkpoint (8 KiB) and 64 proof lines. */
#define REC_RECEIPT_MAX (16u << 10)
/* Policy window: a request older than this is refused (the requester files a
 * new one), and one dated more than the skew into the future too. */
#define REC_WINDOW_S (24 * 3600)
#define REC_SKEW_S 300
/* Longest URL we build (base URL plus a tile path). */
#define REC_URL_MAX 2048

/* Read and fully check an authority file (malloc'd; free with free()).
 * Prints its own error.  Returns NULL on failure. */
fk_escrow_authority *rec_load_authority(const char *path);
/* A log verifier key: the vkey itself or a file holding it. Prints errors. */
int rec_load_vkey(const char *arg, fk_note_verifier *v);

/* base + "/" + path without doubling the slash. */
int rec_url(char *out, size_t cap, const char *base, const char *path);

/* Fetch the log's checkpoint and verify it with v (origin = v's name).
 * *note gets the signed note (malloc'd), may be NULL. */
fk_err rec_fetch_checkpoint(const char *log, const fk_note_verifier *v, fk_checkpoint *cp,
                            char **note, size_t *note_len);

/* fk_tile_fetch_fn over HTTP; ctx is the log base URL.  A partial tile that
 * is gone (the full one exists) is read from the full tile. */
fk_err rec_tile_fetch(void *ctx, const fk_tile *t, uint8_t *out, size_t cap, size_t *len);

/* Check that two checkpoints of the same log are consistent, with a
 * consistency proof built from the log's tiles and verified against both
 * roots.  FK_ERR_PROOF: they are not (a split view or a forked log);
 * FK_ERR_NET/NOT_FOUND: tiles could not be read. */
fk_err rec_check_consistency(const char *log, const fk_checkpoint *a, const fk_checkpoint *b);

/* Parse a receipt and take the request note out of its extra data.  The
 * note is copied to note (capacity FK_REQUEST_NOTE_MAX + 1, NUL-terminated). */
fk_err rec_receipt_parse(fk_tlog_proof *p, char *note, size_t *note_len, const char *buf,
                         size_t len);

/* fk_escrow stanza lookup: read FILE's header and find auth's escrow stanza. */
int rec_find_stanza(const char *path, const fk_escrow_authority *auth, fk_escrow_stanza_info *st);

/* Read a requester key file (O_NOFOLLOW).  Prints its own error. */
int rec_load_requester_key(const char *path, fk_requester_key *k);

/* Base64 (padded, standard) of a malloc'd buffer; NULL on failure. */
char *rec_b64(const uint8_t *in, size_t n);

#endif
