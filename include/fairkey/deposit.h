/*
 * fairkey/deposit.h - sealed source deposits (docs/protocol.md section 10).
 *
 * A vendor encrypts a source archive to itself and to an escrow authority
 * and logs a deposit record: a canonical text naming the authority, the
 * ciphertext's escrow stanza (the target an inspection request names), the
 * vendor's Ed25519 key, the product and version, the SHA-256 and size of
 * the archive and of the ciphertext, and optional SHA-256 hashes of the
 * released binaries.  The vendor signs it as a C2SP signed note with
 * exactly one signature, by the key it names; the whole note is one log
 * entry.  The vendor key is a requester key (fk_requester_key, `fairkey
 * request keygen`): only its Ed25519 half signs deposits.
 *
 * Included by <fairkey.h>; do not include directly.
 */
#ifndef FAIRKEY_DEPOSIT_H
#define FAIRKEY_DEPOSIT_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"
#include "request.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The first line of every deposit record: it is also the signature's domain
 * string (the signed text starts with it, and no other fairkey signed text
 * does). */
#define FK_DEPOSIT_MAGIC "fairkey source deposit v1"
/* The whole signed note: the same bound as a request, so a deposit always
 * fits a receipt's extra data (FK_TLOG_PROOF_EXTRA_MAX) and every record
 * whose fields are each within their limits fits (3,571 bytes at most). */
#define FK_DEPOSIT_NOTE_MAX 4096
#define FK_DEPOSIT_TOKEN_MAX 64        /* product and version: short names */
#define FK_DEPOSIT_BINARY_NAME_MAX 128 /* a released file's name */
#define FK_DEPOSIT_BINARIES_MAX 12     /* binary lines; keeps every record under the note limit */
#define FK_DEPOSIT_SIZE_MAX 9223372036854775807ULL /* 2^63 - 1: 19 digits */

typedef struct fk_deposit_binary {
    uint8_t sha256[32];
    char name[FK_DEPOSIT_BINARY_NAME_MAX + 1];
} fk_deposit_binary;

/* A parsed deposit record.  Strings are NUL-terminated. */
typedef struct fk_deposit {
    char authority[FK_REQUEST_AUTHORITY_MAX + 1]; /* hex authority id */
    /* The ciphertext's escrow stanza for the authority, less its PK: what
     * an inspection request's target line repeats. */
    uint8_t target[FK_REQUEST_POINT_LEN];
    uint8_t target_ebar[FK_REQUEST_POINT_LEN];
    uint8_t target_body[FK_REQUEST_TARGET_BODY_LEN];
    char vendor[FK_REQUEST_NAME_MAX + 1];
    uint8_t vendor_key[FK_REQUEST_KEY_LEN]; /* Ed25519 public key */
    char product[FK_DEPOSIT_TOKEN_MAX + 1];
    char version[FK_DEPOSIT_TOKEN_MAX + 1];
    uint8_t archive_sha256[32];
    uint64_t archive_size;
    uint8_t ciphertext_sha256[32];
    uint64_t ciphertext_size;
    size_t nbinaries;
    fk_deposit_binary binaries[FK_DEPOSIT_BINARIES_MAX];
    int64_t time; /* seconds since 1970-01-01T00:00:00Z */
} fk_deposit;

/* The canonical record text (NUL-terminated).  FK_ERR_INVALID if a field
 * breaks the grammar, FK_ERR_LIMIT if cap is too small. */
fk_err fk_deposit_encode(char *out, size_t cap, size_t *len, const fk_deposit *d);
/* Parse canonical record text: exactly what fk_deposit_encode writes.
 * d is untouched on failure (FK_ERR_INVALID). */
fk_err fk_deposit_parse_text(fk_deposit *d, const char *text, size_t len);
/* Fill d's vendor and vendor_key from k, encode and sign as a signed note
 * by k (out: at most FK_DEPOSIT_NOTE_MAX bytes plus the NUL). */
fk_err fk_deposit_sign(char *out, size_t cap, size_t *len, fk_deposit *d,
                       const fk_requester_key *k);
/* Parse a signed deposit note (a log entry) and verify its one signature
 * against the key the record names, under the vendor name.  FK_ERR_LIMIT:
 * longer than FK_DEPOSIT_NOTE_MAX; FK_ERR_INVALID: malformed;
 * FK_ERR_SIGNATURE: does not verify.  d is untouched on failure. */
fk_err fk_deposit_verify(fk_deposit *d, const char *note, size_t len);
/* Set the target from a parsed stanza; check its validity proof under the
 * authority's PK (FK_OK, FK_ERR_PROOF, FK_ERR_INVALID). */
void fk_deposit_target_set(fk_deposit *d, const fk_escrow_stanza_info *st);
fk_err fk_deposit_target_verify(const fk_deposit *d, const uint8_t pk[FK_ESCROW_POINT_LEN]);

#ifdef __cplusplus
}
#endif
#endif
