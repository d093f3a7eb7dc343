/*
 * dkg/internal.h - shared between the dkg module's files and its tests,
 * not public: deterministic round 1 (test vectors) and the share
 * encryption and decryption (tests that play a misbehaving participant).
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

#endif
