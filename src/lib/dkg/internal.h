/*
 * dkg/internal.h - shared between the dkg module's files and its tests,
 * not public: deterministic round 1 (test vectors), the share encryption
 * and decryption (tests that play a misbehaving participant), and the one
 * dealing (Feldman commitments, PoP, shares sealed to each recipient) that
 * COCKTAIL-DKG's round 1 and resharing (reshare.c) both use.
 */
#ifndef FAIRKEY_DKG_INTERNAL_H
#define FAIRKEY_DKG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <fairkey.h>

/* Round 1 from given coefficients a_0..a_{t-1} and ephemeral key e (the
 * spec's vectors draw them from a seeded stream); payload (plen bytes,
 * possibly none) follows every share in its plaintext.  Zero coefficients
 * or e are refused (FK_ERR_INVALID), as the spec resamples them. */
fk_err fki_dkg_round1(uint8_t *out, size_t cap, size_t *len, const fk_dkg_session *s, unsigned i,
                      const uint8_t d[32], const uint8_t (*coeffs)[32], const uint8_t e[32],
                      const uint8_t *payload, size_t plen);

/* c_{i,j} = Enc(pt) from sender i (static key d, ephemeral e, E = e*B) to
 * recipient j; ct gets ptlen + 16 bytes. */
fk_err fki_dkg_seal(uint8_t *ct, const fk_dkg_session *s, unsigned i, unsigned j,
                    const uint8_t d[32], const uint8_t e[32], const uint8_t *pt, size_t ptlen);

/* Recipient i (static key d) opens c_{j,i} sent with ephemeral key E_j:
 * pt gets ctlen - 16 bytes (capacity cap).  FK_ERR_CRYPTO if the tag fails
 * (pt wiped). */
fk_err fki_dkg_open(uint8_t *pt, size_t cap, const fk_dkg_session *s, unsigned j, unsigned i,
                    const uint8_t d[32], const uint8_t ej[32], const uint8_t *ct, size_t ctlen);

/* One dealing: a sender (static key `from`) shares a degree t-1 polynomial
 * among the n recipients `to` under context.  In COCKTAIL-DKG the sender
 * is one of the recipients (from == to[i-1]); in resharing it is an old
 * share holder and the recipients are the new agents. */
typedef struct fki_dkg_deal {
    unsigned t, n;
    const uint8_t (*to)[32];
    const uint8_t *from;
    const uint8_t *context;
    size_t context_len;
} fki_dkg_deal;

/* msg1 of the dealing: C_0..C_{t-1} || PoP (Schnorr by coeffs[0] over
 * context || C || E) || E || n framed ciphertexts of f(j) (|| payload). */
fk_err fki_dkg_deal_msg(uint8_t *out, size_t cap, size_t *len, const fki_dkg_deal *p,
                        const uint8_t d[32], const uint8_t (*coeffs)[32], const uint8_t e[32],
                        const uint8_t *payload, size_t plen);
/* The PoP of dealt = C_0..C_{t-1} || PoP || E (t*32 + 96 bytes) under
 * p's context: FK_OK or FK_ERR_SIGNATURE. */
fk_err fki_dkg_pop_verify(const fki_dkg_deal *p, const uint8_t *dealt);
/* Recipient i (static key d) checks what p's sender dealt it in m: PoP
 * (FK_ERR_SIGNATURE), decryption (FK_ERR_CRYPTO), canonical share
 * (FK_ERR_INVALID), share against the commitments (FK_ERR_PROOF); share
 * gets f(i) only on FK_OK. */
fk_err fki_dkg_check_dealt(uint8_t share[32], const fki_dkg_deal *p, unsigned i,
                           const uint8_t d[32], const fk_dkg_msg1 *m);
/* out[k] = sum_j cj[j] point k (k < t, j < n). */
fk_err fki_dkg_sum_commitments(uint8_t (*out)[32], const uint8_t *const *cj, unsigned t,
                               unsigned n);

#endif
