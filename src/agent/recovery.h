/*
 * recovery.h - helpers shared by the escrow agent and the recovery commands
 * (request, recover, audit, demo, bench): loading authorities, requester
 * keys and log clients, receipts, reading agents' answers.  Talking to the
 * log (checkpoints, tiles, consistency) is the log client's (src/log/log.h).
 * Program code (fairkey executable), not libfairkey.
 */
#ifndef FK_AGENT_RECOVERY_H
#define FK_AGENT_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include <fairkey.h>

#include "log/log.h"

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
/* Open a client for the log at url (the log client of src/log/, which keeps
 * its HTTP connection alive); vkey is the vkey itself or a file holding it.
 * Prints its own error.  Close with fki_log_client_close. */
int rec_log_open(struct fki_log_client *c, const char *url, const char *vkey);
/* --cacert FILE of the commands and daemons that make https calls
 * (fki_net_set_cacert): 0, or -1 after one line on stderr. */
int rec_cacert(const char *path);

/* The C2SP tlog-policy a receipt's or log's checkpoint must meet.
 * path NULL: the policy of the log `given` alone (quorum none).  Otherwise
 * the policy file at path, and then: with `given` (the key of the vkey
 * option), the policy must list that log (a policy listing no log takes it
 * as known from context); without it, the policy must list exactly one log,
 * whose vkey text goes to vkey_out (FK_NOTE_KEY_TEXT_MAX + 1 bytes).
 * policy_opt and vkey_opt name the options in messages.  Prints its own
 * error. */
int rec_log_policy(fk_tlog_policy *p, const char *path, const fk_note_verifier *given,
                   const char *policy_opt, const char *vkey_opt, char *vkey_out);

/* base + "/" + path without doubling the slash. */
int rec_url(char *out, size_t cap, const char *base, const char *path);

/* Read FILE's age header (armored or not).  Prints its own error; h is
 * cleared by the caller with fk_header_clear on success. */
int rec_read_header(const char *path, fk_header *h);
/* fk_escrow stanza lookup: read FILE's header and find auth's escrow stanza. */
int rec_find_stanza(const char *path, const fk_escrow_authority *auth, fk_escrow_stanza_info *st);

/* One agent's HTTP answer to POST /recover, as a requester reads it. */
enum rec_answer {
    REC_ANSWER_VALID,      /* opened, labelled with its share, proof verified */
    REC_ANSWER_PENDING,    /* manual mode: queued, *id set */
    REC_ANSWER_REFUSED,    /* the agent said no: msg holds its reason */
    REC_ANSWER_UNREADABLE, /* not a JSON answer */
    REC_ANSWER_UNOPENED,   /* does not open for this request and reply key */
    REC_ANSWER_BAD_PROOF,  /* opened, but the DLEQ proof is invalid */
};
/* Parse the JSON answer, open the sealed partial with reply_secret (bound to
 * the entry hash eh and the agent's index), check the index label and verify
 * the proof against auth, target E and eh.  On REC_ANSWER_VALID *out holds
 * the partial (the caller wipes it); nothing secret is left elsewhere. */
enum rec_answer rec_answer_read(long status, const uint8_t *body, size_t len,
                                const fk_escrow_authority *auth, const uint8_t reply_secret[32],
                                const uint8_t eh[32], const uint8_t target[32],
                                fk_escrow_partial *out, long long *id, char *msg, size_t msgcap);

/* Read a requester key file (O_NOFOLLOW).  Prints its own error. */
int rec_load_requester_key(const char *path, fk_requester_key *k);

/* Base64 (padded, standard) of a malloc'd buffer; NULL on failure. */
char *rec_b64(const uint8_t *in, size_t n);

#endif
