/*
 * fairkey/common.h - error codes, limits and small helpers shared by every
 * fairkey module.  Included by <fairkey.h>; do not include directly.
 */
#ifndef FAIRKEY_COMMON_H
#define FAIRKEY_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * One error enum for the whole library.  0 is success.  The first classes line
 * up with the outcome classes of the C2SP age test vectors (CCTV): header,
 * armor, no match, HMAC, payload.
 */
typedef enum fk_err {
    FK_OK = 0,
    FK_ERR_HEADER,       /* age header malformed or a stanza failed to parse/unwrap */
    FK_ERR_ARMOR,        /* ASCII armor malformed */
    FK_ERR_NO_MATCH,     /* no identity matched any stanza */
    FK_ERR_HMAC,         /* header MAC did not verify */
    FK_ERR_PAYLOAD,      /* STREAM payload corrupt, truncated or trailing data */
    FK_ERR_INVALID,      /* invalid argument or malformed input (non-canonical, out of range) */
    FK_ERR_UNSUPPORTED,  /* recognised but unsupported (e.g. ML-KEM recipients) */
    FK_ERR_LIMIT,        /* a fixed limit was exceeded */
    FK_ERR_IO,           /* read/write/fsync failed (errno is kept) */
    FK_ERR_NOMEM,        /* allocation failed */
    FK_ERR_CRYPTO,       /* the crypto library refused an operation */
    FK_ERR_ESCROW,       /* an escrow stanza does not recompute or is missing */
    FK_ERR_PROOF,        /* a DLEQ, inclusion or consistency proof did not verify */
    FK_ERR_SIGNATURE,    /* a signature did not verify */
    FK_ERR_NOT_FOUND,    /* a requested item does not exist */
    FK_ERR_STORAGE,      /* the storage backend failed */
    FK_ERR_POLICY,       /* refused by policy (requester, time window, threshold) */
    FK_ERR_NET,          /* network failure talking to a peer */
    FK_ERR__COUNT
} fk_err;

/* A static, one-line English description of an error code. Never NULL. */
const char *fk_strerror(fk_err err);

/* ---- memory and comparison --------------------------------------------- */

/* Wipe a secret. The one primitive used everywhere (OPENSSL_cleanse). */
void fk_wipe(void *p, size_t n);

/* For programs that hold secrets: no core file, and (PR_SET_DUMPABLE 0)
 * no ptrace or /proc/PID/mem access by other unprivileged processes of the
 * same user, as ssh-agent does.  FK_ERR_IO if the system refused. */
fk_err fk_process_protect(void);

/* Constant-time equality of two equal-length buffers: 1 if equal, 0 if not. */
int fk_ct_eq(const void *a, const void *b, size_t n);

/* Fill buf with n bytes from the OS CSPRNG (OpenSSL RAND_bytes). */
fk_err fk_random(void *buf, size_t n);

/* ---- base64 (RFC 4648 standard alphabet) --------------------------------
 * age demands unpadded, canonical base64 (RFC 4648 section 3.5): unused bits
 * of the last character must be zero.  The decoder rejects padding, any
 * character outside the alphabet, and non-canonical trailing bits.  Key and
 * secret encodings go through these functions, which are constant-time in the
 * data (no table lookups indexed by secret bytes). */

/* Length of the unpadded encoding of n bytes (no NUL). */
size_t fk_b64_enc_len(size_t n);
/* Length of the padded encoding of n bytes (no NUL). */
size_t fk_b64_enc_len_padded(size_t n);
/* Encode n bytes; writes fk_b64_enc_len(n) chars plus a NUL; returns chars written. */
size_t fk_b64_encode(char *out, const uint8_t *in, size_t n);
/* As fk_b64_encode but with '=' padding (signed notes, JSON). */
size_t fk_b64_encode_padded(char *out, const uint8_t *in, size_t n);
/* The same output as fk_b64_encode_padded, through a lookup table: faster,
 * and NOT constant-time.  Only for public data (Merkle hashes, proofs,
 * signatures), never for keys or secrets. */
size_t fk_b64_encode_padded_public(char *out, const uint8_t *in, size_t n);
/* Decode exactly inlen chars of unpadded canonical base64 into out (capacity
 * outcap). *outlen gets the decoded length. FK_ERR_INVALID on any defect,
 * FK_ERR_LIMIT if outcap is too small.  out is untouched on failure. */
fk_err fk_b64_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen);
/* Decode padded canonical base64 (length a multiple of 4, '=' padding). */
fk_err fk_b64_decode_padded(uint8_t *out, size_t outcap, size_t *outlen, const char *in, size_t inlen);

/* ---- hex ---------------------------------------------------------------- */
/* Lowercase hex; writes 2n chars plus NUL. */
void fk_hex_encode(char *out, const uint8_t *in, size_t n);
/* Decode exactly 2*outlen hex chars (either case); FK_ERR_INVALID otherwise. */
fk_err fk_hex_decode(uint8_t *out, size_t outlen, const char *in, size_t inlen);

/* ---- bech32 (BIP173, no length limit, as age uses it) ------------------- */
/* Encode data under hrp (lowercase). out must hold fk_bech32_enc_len(). */
size_t fk_bech32_enc_len(size_t hrplen, size_t datalen);
fk_err fk_bech32_encode(char *out, size_t outcap, const char *hrp, const uint8_t *data, size_t datalen);
/* Decode a bech32 string (all lowercase or all uppercase, not mixed).  hrp_out
 * receives the lowercased hrp (NUL-terminated, capacity hrpcap); data gets the
 * 8-bit payload.  Rejects bad checksum, mixed case, non-zero padding bits. */
fk_err fk_bech32_decode(char *hrp_out, size_t hrpcap, uint8_t *data, size_t datacap,
                        size_t *datalen, const char *in, size_t inlen);

#ifdef __cplusplus
}
#endif
#endif
