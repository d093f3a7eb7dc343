/* Shared between the files of the tlog module; not public. */
#ifndef FK_TLOG_INTERNAL_H
#define FK_TLOG_INTERNAL_H

#include <fairkey.h>
#include <stdbool.h>

/* SHA-256 of one buffer. */
fk_err fki_sha256(uint8_t out[32], const void *data, size_t len);

/* Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF) with no
 * control character but '\n' (signed-note rule). */
bool fki_note_chars_ok(const char *s, size_t len);

/* A key name: non-empty, at most FK_NOTE_NAME_MAX bytes, valid as above,
 * no '\n', no '+', no Unicode space. */
bool fki_note_name_ok(const char *s, size_t len);

/* Decimal without leading zeros ("0" alone allowed), at most max. */
fk_err fki_parse_u64(uint64_t *out, const char *s, size_t len, uint64_t max);
/* Writes the decimal form of v plus NUL; returns its length (<= 20). */
size_t fki_fmt_u64(char out[21], uint64_t v);

/* Find '\n' in s[0:len); returns its offset or len if none. */
size_t fki_line_len(const char *s, size_t len);

/* Split a key text "name+hexid+base64(alg || key)" into its parts (the key
 * ID is not checked against the key here).  FK_ERR_INVALID if malformed. */
fk_err fki_note_split_key(const char *text, size_t len, const char **name, size_t *name_len,
                          uint32_t *id, uint8_t *alg, uint8_t key[32]);
/* Encode prefix || name "+" 8-hex id "+" base64(alg || key), NUL-terminated. */
fk_err fki_note_encode_key(char *out, size_t cap, size_t *len, const char *prefix, const char *name,
                           size_t name_len, uint32_t id, uint8_t alg, const uint8_t key[32]);

/* Ed25519 (RFC 8032, from OpenSSL) by 32-byte seed; outputs untouched on
 * failure (FK_ERR_CRYPTO). */
fk_err fki_ed25519_public(uint8_t pub[32], const uint8_t seed[32]);
fk_err fki_ed25519_sign(uint8_t sig[64], const uint8_t seed[32], const uint8_t *msg, size_t len);

/*
 * Ed25519 note keys.  A signed-note signer (fk_note_signer, type byte
 * FK_NOTE_ALG_ED25519) and a witness's cosigner (fk_cosigner,
 * FK_NOTE_ALG_COSIG_V1) hold the same fields and differ only in the type
 * byte that their key ID and private-key text "PRIVATE+KEY+name+id+b64"
 * carry.  These take that byte as alg and work on an fk_note_signer
 * (cosign.c copies it to and from an fk_cosigner); contracts as the public
 * fk_note_signer_* functions in include/fairkey/tlog.h.
 */
fk_err fki_note_key_from_seed(fk_note_signer *k, uint8_t alg, const char *name, size_t name_len,
                              const uint8_t seed[32]);
fk_err fki_note_key_generate(fk_note_signer *k, uint8_t alg, const char *name, size_t name_len);
/* FK_ERR_UNSUPPORTED when the text carries another type byte than alg. */
fk_err fki_note_key_parse(fk_note_signer *k, uint8_t alg, const char *text, size_t len);
fk_err fki_note_key_encode(const fk_note_signer *k, uint8_t alg, char *out, size_t cap, size_t *len);
void fki_note_key_verifier(const fk_note_signer *k, uint8_t alg, fk_note_verifier *v);

/* One signature line, "— <name> <base64(raw)>\n", into out (room for
 * 4 + name_len + 1 + fk_b64_enc_len_padded(raw_len) + 1 bytes); returns its
 * length.  Signed notes and cosignatures write their lines through it. */
size_t fki_note_sig_line(char *out, const char *name, size_t name_len, const uint8_t *raw,
                         size_t raw_len);

#endif
