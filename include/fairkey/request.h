/*
 * fairkey/request.h - recovery requests (docs/protocol.md sections 2-4).
 *
 * A recovery request is a canonical text naming an authority, an escrow
 * target (the file's escrow stanza: E, Ebar, wrapped key and proof), the requester's Ed25519 key, an X25519 reply key, the SHA-256 of
 * a warrant, a reason and a time.  The requester signs it as a C2SP signed
 * note; the whole signed note (text, blank line, signature line) is one leaf
 * of the transparency log, so the log publishes who asked, for what and why.
 *
 * An escrow agent's answer is sealed to the request's reply-to key with an
 * ephemeral X25519 key, HKDF-SHA-256 and ChaCha20-Poly1305, bound to the log
 * entry hash and the agent's index, so only the requester can open it and an
 * answer for one request never opens as the answer to another.
 *
 * Included by <fairkey.h>; do not include directly.
 */
#ifndef FAIRKEY_REQUEST_H
#define FAIRKEY_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"
#include "escrow.h"
#include "tlog.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Field limits.  A log entry may be up to 65,535 bytes (tile bundles use a
 * 16-bit length); a request stays far below that so it can never be refused
 * by the log for its size. */
#define FK_REQUEST_AUTHORITY_MAX 128  /* authority ids are short printable tokens */
#define FK_REQUEST_NAME_MAX 128       /* a signed-note key name, e.g. example.gov/office */
#define FK_REQUEST_REASON_MAX 1024    /* one line of free text for auditors */
#define FK_REQUEST_NOTE_MAX 4096      /* the whole signed note, signature included */
#define FK_REQUEST_POINT_LEN 32       /* ristretto255 target E, and Ebar */
/* The target's stanza body: wrapped file key (32) || validity proof (64),
 * the escrow module's FK_ESCROW_BODY_LEN. */
#define FK_REQUEST_TARGET_BODY_LEN 96
#define FK_REQUEST_KEY_LEN 32         /* Ed25519 / X25519 keys, SHA-256 hashes */
#define FK_REQUEST_HASH_LEN 32

/* A parsed request.  Strings are NUL-terminated. */
typedef struct fk_request {
    char authority[FK_REQUEST_AUTHORITY_MAX + 1];
    /* The target: the file's whole escrow stanza but its PK (the authority
     * fixes it), so every agent can check the stanza's validity proof and
     * an audit's comparison of E links the request to exactly one file. */
    uint8_t target[FK_REQUEST_POINT_LEN];       /* E */
    uint8_t target_ebar[FK_REQUEST_POINT_LEN];  /* Ebar */
    uint8_t target_body[FK_REQUEST_TARGET_BODY_LEN];
    char requester[FK_REQUEST_NAME_MAX + 1];
    uint8_t requester_key[FK_REQUEST_KEY_LEN]; /* Ed25519 public key */
    uint8_t reply_to[FK_REQUEST_KEY_LEN];      /* X25519 public key */
    uint8_t warrant[FK_REQUEST_HASH_LEN];      /* SHA-256 of the warrant document */
    char reason[FK_REQUEST_REASON_MAX + 1];
    int64_t time;                              /* seconds since 1970-01-01T00:00:00Z */
} fk_request;

/* Write the canonical request text (the signed note's text, ending in "\n";
 * NUL-terminated).  FK_ERR_INVALID if a field breaks the grammar, FK_ERR_LIMIT
 * if cap is too small. */
fk_err fk_request_encode(char *out, size_t cap, size_t *len, const fk_request *r);

/* Parse canonical request text (exactly what fk_request_encode writes).
 * Rejects anything else: unknown, missing, repeated or reordered lines,
 * non-canonical base64/hex/time, over-long fields. r is untouched on failure. */
fk_err fk_request_parse_text(fk_request *r, const char *text, size_t len);

/* The target is the file's escrow stanza for the authority, less its PK:
 * set it from a parsed stanza; compare it with one (every byte); check its
 * validity proof under the authority's PK (fk_escrow_stanza_verify) -- the
 * check that keeps agents from being an s*X oracle for blinded points, run
 * by every agent before it answers and by the log before it admits.
 * FK_OK, FK_ERR_PROOF, or FK_ERR_INVALID for an invalid point or scalar. */
void fk_request_target_set(fk_request *r, const fk_escrow_stanza_info *st);
int fk_request_target_is(const fk_request *r, const fk_escrow_stanza_info *st);
fk_err fk_request_target_verify(const fk_request *r, const uint8_t pk[FK_ESCROW_POINT_LEN]);

/* A requester's secret keys: Ed25519 signing seed and X25519 reply secret. */
typedef struct fk_requester_key {
    char name[FK_REQUEST_NAME_MAX + 1];
    uint8_t sign_seed[32];   /* secret */
    uint8_t sign_pub[32];
    uint8_t reply_secret[32]; /* secret */
    uint8_t reply_pub[32];
} fk_requester_key;

/* Generate a fresh requester key named name (a signed-note key name: 1 to
 * FK_REQUEST_NAME_MAX printable ASCII bytes, no space, no '+'). */
fk_err fk_requester_key_generate(fk_requester_key *k, const char *name);
/* Key file text (docs/protocol.md section 2.3).  *out is malloc'd; the caller
 * wipes and frees it. */
fk_err fk_requester_key_encode(char **out, size_t *outlen, const fk_requester_key *k);
fk_err fk_requester_key_parse(fk_requester_key *k, const char *text, size_t len);
/* The public line "<name> <b64 Ed25519 key> <b64 X25519 key>\n" (NUL-terminated);
 * cap of FK_REQUESTER_PUB_LINE_MAX is always enough. */
#define FK_REQUESTER_PUB_LINE_MAX (FK_REQUEST_NAME_MAX + 2 * 45 + 4)
fk_err fk_requester_key_public_line(char *out, size_t cap, const fk_requester_key *k);
void fk_requester_key_wipe(fk_requester_key *k);

/* Fill r's requester, requester_key and reply_to from k, encode, and sign as a
 * signed note by k.  out gets the whole note (NUL-terminated, at most
 * FK_REQUEST_NOTE_MAX bytes plus the NUL). */
fk_err fk_request_sign(char *out, size_t cap, size_t *len, fk_request *r,
                       const fk_requester_key *k);

/* Parse a signed request note (a log entry) and verify its one signature
 * against the Ed25519 key the request itself names under the requester
 * name.  FK_ERR_INVALID: malformed; FK_ERR_SIGNATURE: signature does not
 * verify.  r is untouched on failure.  Whether that key is allowed to ask is
 * the agent's policy (fk_requesters_allowed). */
fk_err fk_request_verify(fk_request *r, const char *note, size_t len);

/* The RFC 6962 leaf hash of a log entry: SHA-256(0x00 || entry).  This is
 * the "entry hash" that binds proofs and sealed answers to one request. */
fk_err fk_request_entry_hash(uint8_t out[FK_REQUEST_HASH_LEN], const void *entry, size_t len);

/* A receipt: a C2SP tlog-proof whose extra data (padded base64) is the
 * signed request note.  Parses the proof into p (its pointers point into
 * buf) and copies the note to note, NUL-terminated.  Checks neither the
 * note's signature (fk_request_verify) nor the proof (fk_tlog_proof_verify
 * with fk_request_entry_hash of the note).  FK_ERR_INVALID: not a
 * tlog-proof, or no extra data; FK_ERR_LIMIT: the note is longer than
 * FK_REQUEST_NOTE_MAX. */
fk_err fk_request_receipt_parse(fk_tlog_proof *p, char note[FK_REQUEST_NOTE_MAX + 1],
                                size_t *note_len, const char *buf, size_t len);

/* Allow-list of requesters: lines "<name> <b64 Ed25519 key>" (a public line
 * from fk_requester_key_public_line is accepted too: a third field is
 * ignored), '#' comments, blank lines.  Returns FK_OK if (name, key) is
 * listed, FK_ERR_POLICY if not, FK_ERR_INVALID if the file is malformed. */
fk_err fk_requesters_allowed(const char *text, size_t len, const char *name,
                             const uint8_t key[FK_REQUEST_KEY_LEN]);

/* RFC 3339 UTC time, exactly "YYYY-MM-DDTHH:MM:SSZ" (20 chars + NUL). */
#define FK_REQUEST_TIME_STR_LEN 20
fk_err fk_request_time_format(char out[FK_REQUEST_TIME_STR_LEN + 1], int64_t t);
fk_err fk_request_time_parse(int64_t *t, const char *s, size_t len);

/* ---- sealed answers ------------------------------------------------------
 * sealed = eph_pub (32) || ChaCha20-Poly1305(key, nonce 0, plaintext, aad)
 * key    = HKDF-SHA-256(ikm = X25519(eph, reply_to), salt = eph_pub || reply_to,
 *                       info = "fairkey/v1 recovery answer")
 * aad    = "fairkey/v1 recovery answer" || entry_hash || uint16be(agent index) */
#define FK_ANSWER_PLAIN_MAX 256 /* an answer is a point and a proof: ~100 bytes */
#define FK_ANSWER_OVERHEAD (32 + 16)
fk_err fk_answer_seal(uint8_t *out, size_t cap, size_t *outlen,
                      const uint8_t reply_to[FK_REQUEST_KEY_LEN],
                      const uint8_t entry_hash[FK_REQUEST_HASH_LEN], unsigned agent_index,
                      const uint8_t *plain, size_t plain_len);
/* Open a sealed answer; FK_ERR_CRYPTO if it does not authenticate (altered,
 * for another request, another agent index or another reply key). plain is
 * untouched (wiped) on failure. */
fk_err fk_answer_open(uint8_t *plain, size_t cap, size_t *plain_len,
                      const uint8_t reply_secret[FK_REQUEST_KEY_LEN],
                      const uint8_t entry_hash[FK_REQUEST_HASH_LEN], unsigned agent_index,
                      const uint8_t *sealed, size_t sealed_len);

#ifdef __cplusplus
}
#endif
#endif
