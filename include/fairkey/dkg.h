/*
 * fairkey/dkg.h - dealerless escrow authorities: C2SP COCKTAIL-DKG v0.2.1
 * (https://c2sp.org/cocktail-dkg), ciphersuite COCKTAIL(Ristretto255,
 * SHA-512), and the fairkey glue that turns a certified transcript into an
 * authority file.  docs/spec.md section 9 is the normative description of
 * fairkey's use of it.  Included by <fairkey.h>; do not include directly.
 *
 * Messages are the spec's byte strings (msg1, transcript T, signatures).
 * Parsed messages are views: the structs point into the caller's buffer,
 * which must outlive them.  Nothing here allocates, except
 * fk_dkg_authority_from_transcript (which builds an fk_escrow_authority
 * through the escrow module).  Every secret (coefficients, ephemeral key,
 * shares, ECDH values, AEAD keys) is wiped before return.
 */
#ifndef FAIRKEY_DKG_H
#define FAIRKEY_DKG_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"
#include "escrow.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FK_DKG_CIPHERSUITE "COCKTAIL(Ristretto255, SHA-512)"
#define FK_DKG_POINT_LEN 32
#define FK_DKG_SCALAR_LEN 32
#define FK_DKG_SIG_LEN 64              /* Schnorr (R, z) */
#define FK_DKG_CONTEXT_LEN 64          /* the recommended context: SHA-512 */
/* Participants: one per escrow agent, so the authority limit. */
#define FK_DKG_MAX_PARTICIPANTS FK_ESCROW_MAX_SHARES
/* A share ciphertext: the scalar and the XChaCha20-Poly1305 tag at least
 * (the spec's conformance floor); at most the spec's interoperability floor
 * of 64 KiB, which holds any payload the vectors use.  fairkey sends none. */
#define FK_DKG_CT_MIN (FK_DKG_SCALAR_LEN + 16)
#define FK_DKG_MAX_CIPHERTEXT 65536
/* Context and extension bytes: fairkey's context is 64 bytes and its
 * extension an authority's name and log policy (under 17 KiB). */
#define FK_DKG_CONTEXT_MAX 1024
#define FK_DKG_EXT_MAX 32768

/* One ceremony's public setup (spec "Setup").  pk[j-1] is P_j; the caller
 * owns every buffer.  fk_dkg_session_check validates it. */
typedef struct fk_dkg_session {
    unsigned t, n;
    const uint8_t (*pk)[FK_DKG_POINT_LEN];
    const uint8_t *context;
    size_t context_len;
    const uint8_t *ext;      /* application extension, bound by T */
    size_t ext_len;
} fk_dkg_session;

/* 1 <= t <= n <= FK_DKG_MAX_PARTICIPANTS, every P_j valid and distinct,
 * lengths within limits: FK_OK, else FK_ERR_INVALID or FK_ERR_LIMIT. */
fk_err fk_dkg_session_check(const fk_dkg_session *s);

/* The spec's recommended context:
 *   SHA-512("COCKTAIL-DKG-CONTEXT" || u64be(len sid) || sid
 *            || u64be(len csid) || csid || u32le(n) || P_1 || ... || P_n). */
fk_err fk_dkg_context(uint8_t out[FK_DKG_CONTEXT_LEN], const uint8_t *session_id, size_t sid_len,
                      unsigned n, const uint8_t (*pk)[FK_DKG_POINT_LEN]);

/* A long-term participant key: d random non-zero, P = d*B. */
fk_err fk_dkg_keypair(uint8_t d[FK_DKG_SCALAR_LEN], uint8_t p[FK_DKG_POINT_LEN]);
/* P = d*B for a canonical non-zero d (FK_ERR_INVALID otherwise). */
fk_err fk_dkg_public(uint8_t p[FK_DKG_POINT_LEN], const uint8_t d[FK_DKG_SCALAR_LEN]);

/* The spec's Schnorr signature (PoP and CertEq): deterministic nonce
 * k = H(prefix_nonce || sk || m), challenge H(prefix_H7 || R || pk || m),
 * both SHA-512 reduced mod L.  sign: FK_ERR_CRYPTO in the k = 0 case (the
 * session must be abandoned).  verify: FK_OK or FK_ERR_SIGNATURE. */
fk_err fk_dkg_sign(uint8_t sig[FK_DKG_SIG_LEN], const uint8_t sk[FK_DKG_SCALAR_LEN],
                   const uint8_t *m, size_t mlen);
fk_err fk_dkg_verify(const uint8_t sig[FK_DKG_SIG_LEN], const uint8_t pk[FK_DKG_POINT_LEN],
                     const uint8_t *m, size_t mlen);

/* ---- round 1 -------------------------------------------------------------- */

/* Length of msg1 without payloads: t points, PoP, E, n framed 48-byte
 * ciphertexts. */
size_t fk_dkg_msg1_len(unsigned t, unsigned n);

/* Participant i (1-based, P_i == d*B) draws its polynomial and ephemeral
 * key from the OS CSPRNG and writes msg1 (fk_dkg_msg1_len bytes) to out.
 * The polynomial and e_i are wiped: nothing is kept between rounds (round 2
 * needs only d and the messages).  FK_ERR_INVALID for a bad session, index
 * or key; FK_ERR_LIMIT if cap is too small. */
fk_err fk_dkg_round1(uint8_t *out, size_t cap, size_t *len, const fk_dkg_session *s, unsigned i,
                     const uint8_t d[FK_DKG_SCALAR_LEN]);

/* A parsed msg1 (views into the buffer given to fk_dkg_msg1_parse). */
typedef struct fk_dkg_msg1 {
    unsigned t, n;
    const uint8_t *commit;                      /* C_0..C_{t-1}: t*32 bytes */
    const uint8_t *pop;                         /* 64 bytes (checked in round 2) */
    const uint8_t *eph;                         /* E */
    const uint8_t *ct[FK_DKG_MAX_PARTICIPANTS]; /* c_{i,j} at [j-1], unframed */
    size_t ct_len[FK_DKG_MAX_PARTICIPANTS];
} fk_dkg_msg1;

/* Strict parse of msg1 for (t, n): every commitment point and E canonical
 * and not the identity, every frame's length in [FK_DKG_CT_MIN,
 * FK_DKG_MAX_CIPHERTEXT], nothing left over.  FK_ERR_INVALID or
 * FK_ERR_LIMIT (a length past a limit); m untouched on failure. */
fk_err fk_dkg_msg1_parse(fk_dkg_msg1 *m, const uint8_t *in, size_t len, unsigned t, unsigned n);

/* ---- round 2 -------------------------------------------------------------- */

typedef struct fk_dkg_output {
    uint8_t secret[FK_DKG_SCALAR_LEN];   /* x_i: a secret, wipe it */
    uint8_t group_pk[FK_DKG_POINT_LEN];  /* Y */
    uint8_t share_pk[FK_DKG_POINT_LEN];  /* Y_i */
} fk_dkg_output;

/* Participant i checks every msg1 (msgs[j-1] from participant j, parsed for
 * (s->t, s->n)): the PoP, then decrypts c_{j,i} and checks the share against
 * C_j; sums the shares into x_i and checks x_i*B == Y_i.  On failure *blame
 * is the participant j at fault (0 when no one is: a bad argument):
 * FK_ERR_SIGNATURE (PoP), FK_ERR_CRYPTO (decryption), FK_ERR_INVALID
 * (plaintext not a canonical scalar), FK_ERR_PROOF (share does not match
 * the commitment).  out is wiped on failure. */
fk_err fk_dkg_round2(fk_dkg_output *out, unsigned *blame, const fk_dkg_session *s, unsigned i,
                     const uint8_t d[FK_DKG_SCALAR_LEN], const fk_dkg_msg1 *msgs);

/* ---- round 3: the transcript and its certification ------------------------ */

/* Length of T for this session (msg1 payload sizes do not enter T). */
size_t fk_dkg_transcript_len(const fk_dkg_session *s);
/* CanonicalEncode(transcript_data, ext) of the spec's Round 3. */
fk_err fk_dkg_transcript(uint8_t *out, size_t cap, size_t *len, const fk_dkg_session *s,
                         const fk_dkg_msg1 *msgs);

/* A parsed transcript T (views into it). */
typedef struct fk_dkg_transcript_view {
    const uint8_t *context;
    size_t context_len;
    unsigned n, t;
    const uint8_t *pk;       /* P_1..P_n: n*32 bytes */
    const uint8_t *commit;   /* C_1..C_n, each t points: n*t*32 bytes */
    const uint8_t *pop;      /* n*64 bytes */
    const uint8_t *eph;      /* n*32 bytes */
    const uint8_t *ext;
    size_t ext_len;
} fk_dkg_transcript_view;

/* Strict parse: the ciphersuite id is exactly FK_DKG_CIPHERSUITE, lengths
 * within limits, 1 <= t <= n <= FK_DKG_MAX_PARTICIPANTS, every point valid
 * and not the identity, the P_j distinct, nothing left over.  Does not check
 * PoPs or signatures. */
fk_err fk_dkg_transcript_parse(fk_dkg_transcript_view *v, const uint8_t *t, size_t len);

/* Check every PoP in T (*blame: the first participant whose PoP fails). */
fk_err fk_dkg_transcript_check_pops(const fk_dkg_transcript_view *v, unsigned *blame);

/* The success certificate: sigs[j-1] by P_j over T.  FK_OK if all n verify;
 * FK_ERR_SIGNATURE and *blame = the first j that does not. */
fk_err fk_dkg_certificate_verify(const fk_dkg_transcript_view *v, const uint8_t *t, size_t len,
                                 const uint8_t (*sigs)[FK_DKG_SIG_LEN], unsigned *blame);

/* The group commitments C_k = sum_j C_{j,k} (k = 0..t-1) of T: the Feldman
 * commitments of the authority the ceremony made. */
fk_err fk_dkg_group_commitments(uint8_t (*out)[FK_DKG_POINT_LEN], const fk_dkg_transcript_view *v);

/* ---- fairkey's use: the authority a ceremony makes ---------------------- */

/* The extension fairkey binds into T: the authority's name and its log
 * policy (canonical), as the lines
 *   "fairkey authority dkg v1\nname NAME\npolicy LINE\n..."
 * so that T alone determines the authority file. */
fk_err fk_dkg_authority_ext(char *out, size_t cap, size_t *len, const char *name,
                            const char *policy, size_t policy_len);

/* The authority file of a ceremony from its transcript: the extension names
 * it and its policy, the commitments are the group commitments, the share
 * keys follow from them.  FK_ERR_INVALID if the extension is not fairkey's. */
fk_err fk_dkg_authority_from_transcript(fk_escrow_authority *auth,
                                        const fk_dkg_transcript_view *v);

/* ---- the certified transcript file -------------------------------------- */

/* Text form (docs/spec.md 9.5):
 *   fairkey dkg transcript v1
 *   transcript <padded base64 of T>
 *   signature <j> <padded base64 of sig_j>     (j = 1..n)
 * encode: out gets the text and a NUL; parse: T is decoded into tbuf
 * (capacity tcap), sigs gets n signatures (the caller's array holds
 * FK_DKG_MAX_PARTICIPANTS), v the parsed view of T.  Signatures are not
 * checked here (fk_dkg_certificate_verify). */
size_t fk_dkg_certified_text_len(size_t tlen, unsigned n);
fk_err fk_dkg_certified_encode(char *out, size_t cap, size_t *len, const uint8_t *t, size_t tlen,
                               const uint8_t (*sigs)[FK_DKG_SIG_LEN], unsigned n);
fk_err fk_dkg_certified_parse(fk_dkg_transcript_view *v, uint8_t *tbuf, size_t tcap,
                              size_t *tlen, uint8_t (*sigs)[FK_DKG_SIG_LEN], const char *text,
                              size_t len);

/* Everything `authority verify` checks: the certified transcript parses, its
 * PoPs and all n signatures verify, and the authority it determines is
 * auth, byte for byte (same id).  *blame names a participant whose PoP or
 * signature fails.  FK_ERR_INVALID if the authority differs. */
fk_err fk_dkg_authority_verify(const fk_escrow_authority *auth, const char *certified,
                               size_t len, unsigned *blame);


/* ---- the transcript in a transparency log (docs/spec.md 9.7) ------------- */

/* Two entry forms.  FULL: "fairkey authority transcript v1\n" and the
 * certified transcript file; the log checks every PoP and signature.  HASH,
 * for a transcript whose full entry is over a log entry's 65,535 bytes
 * (FK_TLOG_MAX_ENTRY: 47 KiB at 21-of-40, 69 KiB at 26-of-50):
 *   fairkey authority transcript-hash v1
 *   authority <64 lowercase hex: the id of the authority T determines>
 *   transcript-sha256 <64 lowercase hex: SHA-256(T)>
 *   signature <j> <padded base64 of sig_j>     (j = 1..n)
 * Whoever holds T checks the entry against it (fk_dkg_log_entry of T must
 * give the same bytes); the log can check only the form, the authority and
 * n. */
typedef enum { FK_DKG_ENTRY_FULL, FK_DKG_ENTRY_HASH } fk_dkg_entry_form;

/* Capacity for an entry of this form (with a NUL). */
size_t fk_dkg_log_entry_len(fk_dkg_entry_form form, size_t tlen, unsigned n);
/* The entry for certified transcript T (sigs: n signatures); id (HASH only,
 * may be NULL for FULL) is the authority T determines.  out gets a NUL too;
 * FK_ERR_LIMIT if cap is short.  Whether it fits in a log entry is the
 * caller's check (*len <= FK_TLOG_MAX_ENTRY). */
fk_err fk_dkg_log_entry(char *out, size_t cap, size_t *len, fk_dkg_entry_form form,
                        const uint8_t *t, size_t tlen, const uint8_t (*sigs)[FK_DKG_SIG_LEN],
                        unsigned n, const uint8_t id[FK_ESCROW_ID_LEN]);

typedef struct fk_dkg_log_hash {
    uint8_t authority_id[FK_ESCROW_ID_LEN];
    uint8_t transcript_hash[32];
    unsigned n;
    uint8_t sigs[FK_DKG_MAX_PARTICIPANTS][FK_DKG_SIG_LEN];
} fk_dkg_log_hash;
/* Strict parse of a HASH entry (the whole entry: lowercase hex, signatures
 * numbered 1..n in order, 1 <= n <= FK_DKG_MAX_PARTICIPANTS, every line
 * LF-terminated, nothing else).  Checks no signature. */
fk_err fk_dkg_log_hash_parse(fk_dkg_log_hash *h, const char *entry, size_t len);

#ifdef __cplusplus
}
#endif
#endif
