/* Shared between the request module's files; not public. */
#ifndef FK_REQUEST_INTERNAL_H
#define FK_REQUEST_INTERNAL_H

#include <fairkey.h>

/* A signed-note key name: 1..FK_REQUEST_NAME_MAX bytes of printable ASCII,
 * no space and no '+' (C2SP signed-note).  Returns 1 if valid. */
int fki_request_name_ok(const char *s, size_t len);

/* Ed25519 via OpenSSL. */
fk_err fki_req_ed25519_public(uint8_t pub[32], const uint8_t seed[32]);
fk_err fki_req_ed25519_sign(uint8_t sig[64], const uint8_t seed[32], const void *msg, size_t len);
fk_err fki_req_ed25519_verify(const uint8_t pub[32], const uint8_t sig[64], const void *msg, size_t len);
/* X25519 via OpenSSL. */
fk_err fki_req_x25519_public(uint8_t pub[32], const uint8_t secret[32]);
fk_err fki_req_x25519(uint8_t shared[32], const uint8_t secret[32], const uint8_t peer[32]);

/* Signed-note key ID for an Ed25519 key: SHA-256(name || 0x0A || 0x01 || pub)[:4]. */
fk_err fki_req_note_key_id(uint8_t id[4], const char *name, const uint8_t pub[32]);

#endif
