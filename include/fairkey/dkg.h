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

/* ---- resharing without changing PK (docs/spec.md section 10) ------------
 * Wong, Wang and Wing's verifiable secret redistribution (after Desmedt and
 * Jajodia): the t holders of shares i in D of an authority each deal a
 * Feldman-committed Shamir sharing of lambda_i * s_i (lambda_i the Lagrange
 * coefficient at 0 over D) to the new agents (t', n'); a dealing is a
 * COCKTAIL msg1 (its PoP by lambda_i * s_i, its shares sealed to the new
 * participants' keys as in round 1), so fk_dkg_msg1_parse reads it.  Every
 * new agent checks each dealer's constant-term commitment against
 * lambda_i * PK_i from the old authority file, so the new commitments
 * C'_k = sum_i C'_{i,k} interpolate to the same PK; its new share is the
 * sum of what the dealers sent it. */

/* Largest session text: 255 dealer and 255 participant lines and the
 * policy with its prefixes. */
#define FK_RESHARE_SESSION_TEXT_MAX 65536
/* The log entry is one log entry (FK_TLOG_MAX_ENTRY). */
#define FK_RESHARE_ENTRY_MAX 65535

/* A resharing session (public; the coordinator writes it, docs/spec.md
 * 10.1).  fk_reshare_session_context checks the fields and sets context. */
typedef struct fk_reshare_session {
    uint8_t authority_id[FK_ESCROW_ID_LEN];          /* the old authority */
    char name[FK_ESCROW_NAME_MAX + 1];               /* the new authority's */
    unsigned t, n;                                   /* new threshold and agents */
    unsigned ndealers;                               /* the old threshold */
    unsigned dealer[FK_ESCROW_MAX_SHARES];           /* old indices, increasing */
    uint8_t dealer_pk[FK_ESCROW_MAX_SHARES][FK_DKG_POINT_LEN]; /* their participant keys */
    uint8_t pk[FK_ESCROW_MAX_SHARES][FK_DKG_POINT_LEN];        /* P'_1..P'_n */
    char policy[FK_ESCROW_POLICY_MAX + 1];           /* the new authority's log policy */
    size_t policy_len;
    uint8_t id[32];                                  /* random session id */
    uint8_t context[FK_DKG_CONTEXT_LEN];
} fk_reshare_session;

/* Check the fields (1 <= t <= n <= 255, 1 <= ndealers <= 255, dealer
 * indices increasing in 1..255, every key valid, dealer keys distinct and
 * participant keys distinct, name and policy as an authority's) and set
 * context = SHA-512("fairkey/v1 authority reshare context\n" || text).
 * FK_ERR_INVALID or FK_ERR_LIMIT. */
fk_err fk_reshare_session_context(fk_reshare_session *s);
/* The canonical text (out gets it and a NUL); parse is strict (encode of
 * the result is the input byte for byte) and sets context. */
fk_err fk_reshare_session_encode(char *out, size_t cap, size_t *len, const fk_reshare_session *s);
fk_err fk_reshare_session_parse(fk_reshare_session *s, const char *text, size_t len);
/* The session reshares old: same id, one dealer per share of a quorum
 * (ndealers == old->t), every dealer index <= old->n.  FK_ERR_INVALID. */
fk_err fk_reshare_session_check_old(const fk_reshare_session *s, const fk_escrow_authority *old);

/* Length of a dealing: fk_dkg_msg1_len(s->t, s->n). */
size_t fk_reshare_deal_len(const fk_reshare_session *s);
/* Old agent share->index (a dealer of s, whose participant key is d*B)
 * deals lambda_i * s_i: fresh coefficients and ephemeral key (wiped), out
 * gets the msg1.  FK_ERR_INVALID if the share does not verify against old,
 * is not a dealer's, or d is not its dealer key. */
fk_err fk_reshare_deal(uint8_t *out, size_t cap, size_t *len, const fk_reshare_session *s,
                       const fk_escrow_authority *old, const fk_escrow_share *share,
                       const uint8_t d[FK_DKG_SCALAR_LEN]);

/* What anyone can check of the dealings: dealt[k] is dealer k's
 * C'_0..C'_{t'-1} || PoP || E (the first s->t * 32 + 96 bytes of its msg1).
 * Every PoP verifies (FK_ERR_SIGNATURE) and every C'_{k,0} equals
 * lambda_k * PK_k of the old authority (FK_ERR_PROOF); *blame is the old
 * index of the first dealer at fault.  Then auth is the new authority:
 * commitments the sums (C'_0 == PK checked), name, t', n' and policy from
 * s, a new id. */
fk_err fk_reshare_authority(fk_escrow_authority *auth, unsigned *blame,
                            const fk_reshare_session *s, const fk_escrow_authority *old,
                            const uint8_t *const *dealt);

/* New agent j (1..s->n, participant key d*B == s->pk[j-1]) checks every
 * dealing (msgs[k] parsed for (s->t, s->n), in session order): the public
 * checks of fk_reshare_authority, then its sub-share from each dealer
 * (decryption FK_ERR_CRYPTO, scalar FK_ERR_INVALID, commitments
 * FK_ERR_PROOF; *blame the dealer's old index).  On FK_OK share is its new
 * share (index j, secret the sum) and auth the new authority; both are
 * wiped on failure. */
fk_err fk_reshare_receive(fk_escrow_share *share, fk_escrow_authority *auth, unsigned *blame,
                          const fk_reshare_session *s, const fk_escrow_authority *old,
                          unsigned j, const uint8_t d[FK_DKG_SCALAR_LEN],
                          const fk_dkg_msg1 *msgs);

/* The log entry (docs/spec.md 10.6): "fairkey authority reshare v1", the
 * old authority file, the session file, one "dealt <i> <padded base64>"
 * line per dealer (C' || PoP || E), "new-authority <hex id>". */
typedef struct fk_reshare_entry {
    fk_escrow_authority old;
    fk_reshare_session session;
    const uint8_t *dealt[FK_ESCROW_MAX_SHARES];     /* into buf */
    uint8_t new_id[FK_ESCROW_ID_LEN];
    uint8_t buf[FK_RESHARE_ENTRY_MAX];
} fk_reshare_entry;

fk_err fk_reshare_entry_encode(char *out, size_t cap, size_t *len, const fk_reshare_session *s,
                               const fk_escrow_authority *old, const uint8_t *const *dealt,
                               const uint8_t new_id[FK_ESCROW_ID_LEN]);
/* Strict parse (the old authority file fully checked as by
 * fk_escrow_authority_parse, the session as by fk_reshare_session_parse,
 * dealers in session order); no signature or commitment check. */
fk_err fk_reshare_entry_parse(fk_reshare_entry *e, const char *text, size_t len);
/* What the log checks: the session reshares the entry's old authority,
 * fk_reshare_authority accepts the dealings, and the authority they make
 * has the entry's new id.  auth gets it.  FK_ERR_INVALID if the id differs. */
fk_err fk_reshare_entry_verify(fk_escrow_authority *auth, unsigned *blame,
                               const fk_reshare_entry *e);

#ifdef __cplusplus
}
#endif
#endif
