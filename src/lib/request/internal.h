/* Shared between the request module's files; not public. */
#ifndef FK_REQUEST_INTERNAL_H
#define FK_REQUEST_INTERNAL_H

#include <fairkey.h>

/* A signed-note key name: 1..FK_REQUEST_NAME_MAX bytes of printable ASCII,
 * no space and no '+' (C2SP signed-note).  Returns 1 if valid. */
int fki_request_name_ok(const char *s, size_t len);

/* Take one line "<tag> <value>\n" from *p (the value may be empty; the
 * caller checks it).  Returns 1 and the value's span, or 0. */
int fki_request_line(const char **p, const char *end, const char *tag, const char **v, size_t *vl);
/* Canonical unpadded base64 of exactly 32 bytes (43 characters).  Returns 1
 * if v is that, filling out. */
int fki_request_b64_32(uint8_t out[32], const char *v, size_t vl);

/* A request's or deposit's one signature: made under the name its text
 * names, by the Ed25519 key its text names.  FK_ERR_INVALID for another
 * name (or a malformed key), FK_ERR_SIGNATURE when the signature does not
 * verify (a line whose key ID is not the named key's is ignored by
 * signed-note rules, leaving none verified). */
fk_err fki_request_check_signer(const fk_note *nt, const char *name, const uint8_t key[32]);

/* Ed25519 public key of a seed (OpenSSL). */
fk_err fki_req_ed25519_public(uint8_t pub[32], const uint8_t seed[32]);
/* X25519 via OpenSSL. */
fk_err fki_req_x25519_public(uint8_t pub[32], const uint8_t secret[32]);
/* X25519(secret, peer); mine (may be NULL) gets X25519(secret, 9).  An
 * all-zero shared secret is FK_ERR_CRYPTO. */
fk_err fki_req_x25519(uint8_t shared[32], uint8_t mine[32], const uint8_t secret[32],
                      const uint8_t peer[32]);

#endif
