/*
 * fairkey/escrow.h - accountable key escrow: escrow authorities (t-of-n
 * Shamir shares with Feldman commitments), the verifiable escrow stanza,
 * threshold partial decryption with DLEQ proofs, and file-key recovery.
 * docs/spec.md ("Escrow") is the normative description of every byte.
 * Included by <fairkey.h>; do not include directly.
 *
 * Group: ristretto255 (RFC 9496) via libsodium.  Every point the library
 * accepts is canonical and not the identity; every scalar is canonical
 * (< L).  The core functions do not allocate: the caller owns every struct.
 */
#ifndef FAIRKEY_ESCROW_H
#define FAIRKEY_ESCROW_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"
#include "age.h"
#include "tlog.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FK_ESCROW_POINT_LEN 32
#define FK_ESCROW_SCALAR_LEN 32
#define FK_ESCROW_ID_LEN 32            /* authority id: SHA-256 output */
#define FK_ESCROW_WRAP_LEN 32          /* ChaCha20-Poly1305(16-byte file key) */
#define FK_ESCROW_PROOF_LEN 64         /* DLEQ proof: c || s */
/* Stanza body: the wrapped file key, then the validity proof (docs/spec.md 4). */
#define FK_ESCROW_BODY_LEN (FK_ESCROW_WRAP_LEN + FK_ESCROW_PROOF_LEN)
/* Agents are independent organisations; 255 is far above any real quorum,
 * keeps an index in one byte of meaning and the authority file under 32 KiB. */
#define FK_ESCROW_MAX_SHARES 255
/* Authority names are labels for people, not data: 64 chars of [A-Za-z0-9._-]. */
#define FK_ESCROW_NAME_MAX 64
/* Caller-supplied proof context (e.g. a log entry hash): 2-byte length prefix
 * in the transcript; 1024 bytes is far more than any hash needs. */
#define FK_ESCROW_CONTEXT_MAX 1024

/* The escrow stanza type (first stanza argument), fully qualified as the age
 * spec recommends for non-native recipients.  The v1 type carried no
 * validity proof, so agents could be used as an s*X oracle; it is retired:
 * a stanza of that type is an escrow failure everywhere, never ignored. */
#define FK_ESCROW_STANZA_TYPE "fairkey.dev/escrow/v2"
#define FK_ESCROW_STANZA_TYPE_RETIRED "fairkey.dev/escrow"
/* Recipient strings: bech32 with this HRP, i.e. "age1fairkey1...". */
#define FK_ESCROW_RECIPIENT_HRP "age1fairkey"
/* Buffer size for a recipient string: 11 hrp + 1 + 52 data + 6 checksum + NUL. */
#define FK_ESCROW_RECIPIENT_STR_MAX 80
/* Hex authority id plus NUL. */
#define FK_ESCROW_ID_HEX_LEN 65
/* The log policy an authority names (C2SP tlog-policy, canonical form,
 * docs/spec.md 2.1): 16 KiB holds one log and 32 witnesses with the longest
 * vkeys and URLs; a policy that needs more is not one agents can follow. */
#define FK_ESCROW_POLICY_MAX 16384
/* Largest authority file: header lines plus 2 * 255 key lines (~31 KiB),
 * and the policy with its "policy " prefixes (at most ~30 KiB more). */
#define FK_ESCROW_AUTHORITY_TEXT_MAX 65536
/* Largest share file (four short lines). */
#define FK_ESCROW_SHARE_TEXT_MAX 256
/* Binary partial-decryption answer: I2OSP(index,2) || D_i || c || s. */
#define FK_ESCROW_PARTIAL_LEN (2 + FK_ESCROW_POINT_LEN + FK_ESCROW_PROOF_LEN)

/* ---- authority (public) ------------------------------------------------- */

/* The public description of an escrow authority.  Every field is checked by
 * fk_escrow_authority_parse / produced by the dealer: pk == commit[0],
 * share_pk[i-1] == sum_j i^j * commit[j], id == the authority id. */
typedef struct fk_escrow_authority {
    char name[FK_ESCROW_NAME_MAX + 1];
    unsigned t;                                    /* threshold, 1 <= t <= n */
    unsigned n;                                    /* number of shares, <= 255 */
    uint8_t pk[FK_ESCROW_POINT_LEN];               /* PK = s*B */
    uint8_t commit[FK_ESCROW_MAX_SHARES][FK_ESCROW_POINT_LEN];   /* C_0..C_{t-1} */
    uint8_t share_pk[FK_ESCROW_MAX_SHARES][FK_ESCROW_POINT_LEN]; /* PK_1..PK_n at [i-1] */
    /* The log policy in canonical tlog-policy form (fk_escrow_policy_canonical):
     * at least one log, each with its URL; NUL-terminated, zero-padded. */
    char policy[FK_ESCROW_POLICY_MAX + 1];
    size_t policy_len;
    uint8_t id[FK_ESCROW_ID_LEN];
} fk_escrow_authority;

/* One agent's secret share.  Holds a secret: wipe with fk_escrow_share_clear,
 * or allocate in guarded memory with fk_escrow_share_alloc. */
typedef struct fk_escrow_share {
    uint8_t authority_id[FK_ESCROW_ID_LEN];
    unsigned index;                                /* 1..n */
    uint8_t secret[FK_ESCROW_SCALAR_LEN];          /* s_i, canonical, non-zero */
} fk_escrow_share;

/* Allocate n zeroed shares in libsodium guarded memory (sodium_malloc).
 * Free with fk_escrow_share_free(p, n), which wipes them. */
fk_err fk_escrow_share_alloc(fk_escrow_share **out, size_t n);
void fk_escrow_share_free(fk_escrow_share *p, size_t n);
/* Wipe n shares in place. */
void fk_escrow_share_clear(fk_escrow_share *p, size_t n);

/* Dealer ceremony: fresh secret s and polynomial coefficients from the OS
 * CSPRNG, PK, Feldman commitments, share public keys, authority id, and the n
 * shares written to shares[0..n-1].  s and the coefficients are wiped before
 * return.  policy (policy_len bytes) is the authority's log policy in
 * canonical form (fk_escrow_policy_canonical); the id commits to it.
 * FK_ERR_INVALID if t < 1, t > n, the name is not 1..64 chars of
 * [A-Za-z0-9._-], or the policy is not canonical; FK_ERR_LIMIT if
 * n > FK_ESCROW_MAX_SHARES or the policy is past a limit.  On failure auth
 * and shares are wiped. */
fk_err fk_escrow_dealer(fk_escrow_authority *auth, fk_escrow_share *shares,
                        const char *name, unsigned t, unsigned n,
                        const char *policy, size_t policy_len);

/* The canonical form of a C2SP tlog-policy file, as an authority file holds
 * it: blank and comment lines dropped, the items of each line joined by one
 * space, every line ending in LF, ASCII only.  It must parse as tlog-policy
 * and list at least one log, each with an http:// or https:// URL (agents and
 * requesters talk to it).  out gets the text and a NUL (capacity cap), *len
 * its length.  FK_ERR_INVALID if the policy is malformed or lacks a log or
 * a URL; FK_ERR_UNSUPPORTED for a key type fairkey cannot verify;
 * FK_ERR_LIMIT past a tlog-policy limit, past FK_ESCROW_POLICY_MAX bytes, or
 * when cap is too small.  out is untouched on failure. */
fk_err fk_escrow_policy_canonical(char *out, size_t cap, size_t *len, const char *text,
                                  size_t text_len);
/* The authority's log policy, parsed (p is caller-owned, ~75 KiB). */
fk_err fk_escrow_authority_policy(fk_tlog_policy *p, const fk_escrow_authority *auth);

/* Check one share against the authority's Feldman commitments:
 * s_i*B == share_pk[i-1] (== sum_j i^j*C_j, which the dealer and
 * fk_escrow_authority_parse establish for every i; auth must come from one
 * of them) and the authority id matches.  FK_ERR_INVALID if it does not. */
fk_err fk_escrow_share_verify(const fk_escrow_authority *auth, const fk_escrow_share *share);

/* The authority id as lowercase hex (64 chars + NUL). */
void fk_escrow_id_hex(char out[FK_ESCROW_ID_HEX_LEN], const uint8_t id[FK_ESCROW_ID_LEN]);

/* Canonical text encodings (docs/spec.md).  encode writes text plus a NUL
 * into out (capacity cap); *len gets the text length without the NUL.
 * FK_ERR_LIMIT if cap is too small.  parse takes exactly len bytes (no NUL
 * needed) and rejects every non-canonical form: FK_ERR_INVALID for a
 * malformed or inconsistent file, FK_ERR_LIMIT for counts or lengths past a
 * limit.  The parsed authority is fully checked (commitments recompute the
 * share keys and PK, the policy is canonical and valid, id recomputes). */
fk_err fk_escrow_authority_encode(char *out, size_t cap, size_t *len,
                                  const fk_escrow_authority *auth);
fk_err fk_escrow_authority_parse(fk_escrow_authority *auth, const char *text, size_t len);
/* The share file carries a secret: the caller wipes out after use. */
fk_err fk_escrow_share_encode(char *out, size_t cap, size_t *len, const fk_escrow_share *share);
fk_err fk_escrow_share_parse(fk_escrow_share *share, const char *text, size_t len);

/* ---- recipient string and escrow stanza --------------------------------- */

/* "age1fairkey1..." for PK. out needs FK_ESCROW_RECIPIENT_STR_MAX bytes. */
fk_err fk_escrow_recipient_encode(char out[FK_ESCROW_RECIPIENT_STR_MAX],
                                  const uint8_t pk[FK_ESCROW_POINT_LEN]);
/* Parse "age1fairkey1..." (lowercase or uppercase) into PK; the point must
 * be canonical and not the identity.  FK_ERR_INVALID otherwise. */
fk_err fk_escrow_recipient_decode(uint8_t pk[FK_ESCROW_POINT_LEN], const char *s);
/* An fk_recipient whose ops->wrap writes the escrow stanza for PK.  Free with
 * fk_recipient_free. */
fk_err fk_escrow_recipient_parse(fk_recipient **out, const char *s);
fk_err fk_escrow_recipient_new(fk_recipient **out, const uint8_t pk[FK_ESCROW_POINT_LEN]);

/* Build the escrow stanza for (PK, file key) (docs/spec.md section 4):
 *   r = H2S("fairkey/v2 escrow r", PK || k), E = r*B, G = H2G(.., PK),
 *   Ebar = r*G, Z = r*PK, wrap = ChaCha20-Poly1305(HKDF(Z, E || PK), 0, k),
 *   proof = DLEQ(log_B E == log_G Ebar) bound to PK and wrap, nonce from
 *   (PK, k);  stanza: TYPE b64(PK) b64(E) b64(Ebar) / wrap || proof.
 * Deterministic: anyone holding k recomputes it byte for byte.  out is
 * initialised with fk_stanza_init (caller clears it). */
fk_err fk_escrow_stanza_make(fk_stanza *out, const uint8_t pk[FK_ESCROW_POINT_LEN],
                             const uint8_t file_key[FK_AGE_FILE_KEY_LEN]);

/* A parsed escrow stanza (public values only).  (e, ebar, body) is the
 * recovery target a request carries. */
typedef struct fk_escrow_stanza_info {
    size_t stanza_index;                 /* position in the header */
    uint8_t pk[FK_ESCROW_POINT_LEN];
    uint8_t e[FK_ESCROW_POINT_LEN];
    uint8_t ebar[FK_ESCROW_POINT_LEN];
    uint8_t body[FK_ESCROW_BODY_LEN];    /* wrap (32) || c (32) || s (32) */
} fk_escrow_stanza_info;

/* Parse one stanza.  FK_ERR_NOT_FOUND if its type is neither
 * FK_ESCROW_STANZA_TYPE nor the retired v1 type; FK_ERR_ESCROW if it is the
 * retired type or malformed (argument count, non-canonical base64, invalid
 * or identity point, body length, non-canonical proof scalar).  Does not
 * check the proof (fk_escrow_stanza_verify). */
fk_err fk_escrow_stanza_parse(fk_escrow_stanza_info *out, const fk_stanza *s);

/* Check the stanza's validity proof under st->pk: whoever made it knew r
 * with E = r*B (and Ebar = r*G), and it was made for exactly this PK, E,
 * Ebar and wrapped key.  This is what an agent checks before it computes
 * s_i*E: a blinded target (c*E, E + x*B, -E, ...) or a point from no file
 * has no proof, and a proof does not carry over to another PK or body.
 * FK_OK, FK_ERR_PROOF (does not verify), FK_ERR_INVALID (a point or scalar
 * is not canonical/valid).  Public inputs only; not constant-time. */
fk_err fk_escrow_stanza_verify(const fk_escrow_stanza_info *st);

/* List the well-formed escrow stanzas of a header (for inspect and audit).
 * Writes up to cap entries; *count gets how many there are, whether or not
 * they fit.  FK_ERR_ESCROW if any escrow-typed stanza is malformed (it is
 * not listed; the well-formed ones still are, and *count is set). */
fk_err fk_escrow_header_list(const fk_header *h, fk_escrow_stanza_info *out, size_t cap,
                             size_t *count);
/* Find the escrow stanza for PK.  FK_ERR_NOT_FOUND if there is none;
 * FK_ERR_ESCROW if there are two or one is malformed. */
fk_err fk_escrow_header_find(const fk_header *h, const uint8_t pk[FK_ESCROW_POINT_LEN],
                             fk_escrow_stanza_info *out);

/* ---- the recipient-side check (fk_header_check_fn) --------------------- */

/* Most escrow stanzas one header may carry: one per authority, and no real
 * policy names 64 authorities.  Each costs the recipient two scalar
 * multiplications, so the cap bounds the work a hostile header can cause
 * (an age header may be 16 MiB).  The 65th and later fail with
 * FK_ERR_LIMIT without being parsed. */
#define FK_ESCROW_MAX_STANZAS 64

/* How many per-stanza results fk_escrow_check_header records in detail. */
#define FK_ESCROW_CHECK_MAX_RESULTS 16

typedef struct fk_escrow_check_result {
    size_t stanza_index;
    uint8_t pk[FK_ESCROW_POINT_LEN];    /* zero if the stanza did not parse */
    fk_err err;  /* FK_OK if it recomputed byte for byte; FK_ERR_ESCROW if it is
                  * malformed, does not recompute, or repeats an earlier
                  * stanza's PK; FK_ERR_LIMIT past FK_ESCROW_MAX_STANZAS */
} fk_escrow_check_result;

typedef struct fk_escrow_check_ctx {
    /* inputs */
    const uint8_t (*required)[FK_ESCROW_POINT_LEN]; /* authorities that must be present */
    size_t nrequired;
    int require_any;   /* 1: refuse a header with no valid escrow stanza at all */
    int warn_only;     /* 1: record failures but return FK_OK */
    /* outputs (set by fk_escrow_check_header) */
    size_t nescrow;    /* escrow-typed stanzas seen */
    size_t nverified;  /* that recomputed byte for byte */
    size_t nfailed;    /* that did not (malformed or mismatching) */
    size_t nmissing;   /* required authorities without a verified stanza */
    fk_escrow_check_result results[FK_ESCROW_CHECK_MAX_RESULTS]; /* first ones */
    size_t nresults;
} fk_escrow_check_ctx;

/* Initialise a check context (zeroes outputs, sets the inputs). */
void fk_escrow_check_init(fk_escrow_check_ctx *ctx,
                          const uint8_t (*required)[FK_ESCROW_POINT_LEN], size_t nrequired,
                          int require_any, int warn_only);

/* fk_header_check_fn for fk_decrypt_opts.check with ctx an
 * fk_escrow_check_ctx*.  Recomputes every escrow stanza from the file key and
 * compares every byte.  A stanza fails if it is malformed, does not
 * recompute, repeats the PK of an earlier escrow stanza (recovery could not
 * tell which is meant), or lies past FK_ESCROW_MAX_STANZAS.  Returns
 * FK_ERR_ESCROW if any escrow stanza fails, a required authority has no
 * verified stanza, or require_any is set and no stanza verified; FK_OK
 * otherwise (always FK_OK when warn_only, with the outcome recorded in ctx). */
fk_err fk_escrow_check_header(void *ctx, const fk_header *h,
                              const uint8_t file_key[FK_AGE_FILE_KEY_LEN]);

/* ---- threshold partial decryption ---------------------------------------- */

/* Agent i's answer: D_i = s_i*E with a DLEQ proof that
 * log_B(PK_i) == log_E(D_i), bound to a caller-supplied context. */
typedef struct fk_escrow_partial {
    unsigned index;                       /* 1..n */
    uint8_t d[FK_ESCROW_POINT_LEN];
    uint8_t proof[FK_ESCROW_PROOF_LEN];   /* c || s */
} fk_escrow_partial;

/* Compute D_i and its proof.  E must be canonical and non-identity
 * (FK_ERR_INVALID).  The proof transcript binds the authority id, the share
 * index and context (e.g. the recovery request's log entry hash; up to
 * FK_ESCROW_CONTEXT_MAX bytes, else FK_ERR_LIMIT).  The nonce is hedged:
 * H2S over s_i, the statement and 32 fresh random bytes.  The share must
 * belong to auth (FK_ERR_INVALID). */
fk_err fk_escrow_partial_decrypt(fk_escrow_partial *out, const fk_escrow_authority *auth,
                                 const fk_escrow_share *share,
                                 const uint8_t e[FK_ESCROW_POINT_LEN],
                                 const uint8_t *context, size_t context_len);

/* Verify a partial against PK_i = auth->share_pk[index-1], auth->id, the
 * index, E and context.
 * FK_ERR_PROOF if the proof fails; FK_ERR_INVALID if the index is out of
 * range or D_i / proof scalars are non-canonical or identity. */
fk_err fk_escrow_partial_verify(const fk_escrow_authority *auth, const fk_escrow_partial *p,
                                const uint8_t e[FK_ESCROW_POINT_LEN],
                                const uint8_t *context, size_t context_len);

/* Binary encoding I2OSP(index,2) || D_i || c || s.  decode is strict:
 * index 1..255, D_i canonical non-identity, c and s canonical scalars. */
void fk_escrow_partial_encode(uint8_t out[FK_ESCROW_PARTIAL_LEN], const fk_escrow_partial *p);
fk_err fk_escrow_partial_decode(fk_escrow_partial *p, const uint8_t in[FK_ESCROW_PARTIAL_LEN]);

/* Lagrange-combine the first auth->t partials into Z = sum lambda_i * D_i.
 * Does NOT verify proofs (call fk_escrow_partial_verify first).
 * FK_ERR_POLICY if nparts < t; FK_ERR_INVALID on a duplicate or
 * out-of-range index.  Z is a shared secret: the caller wipes it. */
fk_err fk_escrow_combine(uint8_t z[FK_ESCROW_POINT_LEN], const fk_escrow_authority *auth,
                         const fk_escrow_partial *parts, size_t nparts);

/* Open an escrow stanza with the combined Z: derive wk, open the body, and
 * check that the recovered k recomputes E (and the whole stanza for PK).
 * FK_ERR_ESCROW on any failure; file_key untouched then. */
fk_err fk_escrow_open(uint8_t file_key[FK_AGE_FILE_KEY_LEN], const fk_escrow_stanza_info *st,
                      const uint8_t z[FK_ESCROW_POINT_LEN]);

/* Full requester-side recovery: find auth's stanza in h, verify every
 * partial's proof against context (FK_ERR_PROOF names nothing: use
 * fk_escrow_partial_verify per answer to name a bad agent), combine t of
 * them, open the stanza and check the header MAC under the recovered key.
 * The caller then decrypts with fk_filekey_identity_new(file_key). */
fk_err fk_escrow_recover(uint8_t file_key[FK_AGE_FILE_KEY_LEN], const fk_escrow_authority *auth,
                         const fk_header *h, const fk_escrow_partial *parts, size_t nparts,
                         const uint8_t *context, size_t context_len);

/* Local recovery with t share holders present (no agents, no log): every
 * share is checked against auth, partials are computed with an empty
 * context, verified, combined and opened as in fk_escrow_recover. */
fk_err fk_escrow_recover_with_shares(uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                                     const fk_escrow_authority *auth, const fk_escrow_share *shares,
                                     size_t nshares, const fk_header *h);

/* As fk_escrow_recover_with_shares, from the texts of an authority file and
 * nshares share files (each share_texts[i] of share_lens[i] bytes). */
fk_err fk_escrow_recover_from_files(uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                                    const char *authority_text, size_t authority_len,
                                    const char *const *share_texts, const size_t *share_lens,
                                    size_t nshares, const fk_header *h);

#ifdef __cplusplus
}
#endif
#endif
