/*
 * witness.h - C2SP tlog-witness: a witness daemon (add-checkpoint, the
 * monitoring checkpoint) and the log's side, which asks a set of witnesses
 * to cosign each new checkpoint.  Program code compiled into fairkey-net.
 */
#ifndef FK_WITNESS_WITNESS_H
#define FK_WITNESS_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include <fairkey.h>

/* ---- the witness daemon ---------------------------------------------------- */

/* Most logs one witness follows: their keys are checked per origin with one
 * fk_note_verify call, which takes at most FK_NOTE_MAX_VERIFIERS keys. */
#define FKI_WITNESS_MAX_LOGS 64
/* tlog-witness: a client sends at most 63 consistency proof lines. */
#define FKI_WITNESS_MAX_PROOF 63
/* Largest add-checkpoint body: "old " and 19 digits and '\n', 63 proof lines
 * of 44 base64 characters and '\n', the empty line, the largest note. */
#define FKI_WITNESS_MAX_BODY (4 + 19 + 1 + FKI_WITNESS_MAX_PROOF * 45 + 1 + FK_NOTE_MAX_SIZE)

struct fki_witnessd_config {
    const char *dir;       /* state: witness.key, witness.db */
    const char *listen;    /* "127.0.0.1:PORT" */
    const char *name;      /* key name for a new witness; NULL = default */
    const fk_note_verifier *logs;   /* the logs' keys (alg 0x01); origin = key name */
    size_t nlogs;
};

typedef struct fki_witnessd fki_witnessd;

/* Open (creating on first start) the witness in cfg->dir and serve.  vkey
 * (capacity FK_NOTE_KEY_TEXT_MAX + 1) gets the witness's cosigner vkey; *why
 * (may be NULL) a static one-line reason and remedy on failure. */
fk_err fki_witnessd_start(fki_witnessd **out, const struct fki_witnessd_config *cfg, char *vkey,
                          size_t cap, const char **why);
uint16_t fki_witnessd_port(const fki_witnessd *w);
/* Replace the logs the witness follows (SIGHUP): checked first, then swapped
 * in whole, so a failure leaves the old list; a log dropped keeps its
 * stored state, and its cosigned size still binds it if it comes back. */
fk_err fki_witnessd_set_logs(fki_witnessd *w, const fk_note_verifier *logs, size_t n,
                             const char **why);
void fki_witnessd_stop(fki_witnessd *w);

/* ---- the log's side -------------------------------------------------------- */

/* Most witnesses a log asks: each adds a line to every checkpoint, and a
 * note holds at most FK_NOTE_MAX_SIGS lines (the log's own is one). */
#define FKI_WITNESS_MAX_WITNESSES 16
/* Time for one add-checkpoint call, ms: a slow witness delays a batch by at
 * most this (twice when it answers 409 and is asked again). */
#define FKI_WITNESS_TIMEOUT_MS 2000

typedef struct fki_witness_set fki_witness_set;

/* Parse "VKEY=URL" specs (URL: the witness's submission prefix, http or
 * https, no trailing slash needed).  *why gets a static reason on failure. */
fk_err fki_witness_set_new(fki_witness_set **out, const char *const *specs, size_t n,
                           const char **why);
void fki_witness_set_free(fki_witness_set *s);

/*
 * Ask every witness, in parallel, to cosign the signed checkpoint in cp
 * (cp_len bytes, capacity cap, NUL-terminated), a tree of `size` leaves
 * whose older nodes fn returns.  Each witness gets the size it last
 * cosigned and a consistency proof from there; a 409 answer teaches the
 * size it holds and the witness is asked once more.  Verified cosignature
 * lines are appended to cp (*cp_len updated).  A witness that fails is
 * skipped, with one line on stderr per failure streak.  Never fails the
 * batch: returns the number of cosignatures added.
 */
size_t fki_witness_set_cosign(fki_witness_set *s, char *cp, size_t *cp_len, size_t cap,
                              uint64_t size, fk_tlog_node_fn fn, void *ctx);

/* How many witnesses the set asks. */
size_t fki_witness_set_n(const fki_witness_set *s);
/* Which witnesses have no verifying cosignature line on the signed
 * checkpoint cp: missing[i] (capacity FKI_WITNESS_MAX_WITNESSES) set for
 * each; returns how many. */
size_t fki_witness_set_missing(const fki_witness_set *s, const char *cp, size_t cp_len,
                               int *missing);
/* fki_witness_set_cosign for an existing checkpoint (which may carry other
 * witnesses' lines): only the witnesses it lacks are asked, so a log that
 * gains a witness, or restarts after one was down, has its current
 * checkpoint cosigned without waiting for a new entry. */
size_t fki_witness_set_cosign_missing(fki_witness_set *s, char *cp, size_t *cp_len, size_t cap,
                                      uint64_t size, fk_tlog_node_fn fn, void *ctx);

#endif
