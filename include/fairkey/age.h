/*
 * fairkey/age.h - the age v1 file format (C2SP age): header, stanzas,
 * recipients and identities, ASCII armor, and the STREAM payload.
 * Included by <fairkey.h>; do not include directly.
 */
#ifndef FAIRKEY_AGE_H
#define FAIRKEY_AGE_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FK_AGE_FILE_KEY_LEN 16
#define FK_AGE_MAC_LEN 32
#define FK_AGE_NONCE_LEN 16
#define FK_AGE_CHUNK_LEN 65536          /* STREAM plaintext chunk (age spec) */
#define FK_AGE_TAG_LEN 16
/* The age spec sets no header size limit; we refuse headers above 16 MiB so a
 * hostile file cannot make us buffer without bound (Go age has no limit, but
 * no legitimate header approaches this). */
#define FK_AGE_MAX_HEADER_LEN (16u << 20)
/* scrypt work factor: age accepts log2(N) up to 22; CCTV expects 23 to fail. */
#define FK_AGE_SCRYPT_MAX_LOGN 22
#define FK_AGE_SCRYPT_DEFAULT_LOGN 18
#define FK_AGE_X25519_KEY_LEN 32

/* A parsed recipient stanza.  args[0] is the stanza type.  All strings are
 * NUL-terminated copies; body is the decoded body.  Owned by whoever created
 * it; release with fk_stanza_clear(). */
typedef struct fk_stanza {
    size_t nargs; /* >= 1 */
    char **args;
    uint8_t *body;
    size_t body_len;
} fk_stanza;

void fk_stanza_clear(fk_stanza *s);
/* Build a stanza from arguments and a body (copies everything). */
fk_err fk_stanza_init(fk_stanza *s, const char *const *args, size_t nargs,
                      const uint8_t *body, size_t body_len);

/* A parsed age header. */
typedef struct fk_header {
    fk_stanza *stanzas;
    size_t nstanzas;
    uint8_t mac[FK_AGE_MAC_LEN];
    /* The exact header bytes the MAC covers: from "age-encryption.org/v1\n"
     * through "---" (no trailing space). */
    uint8_t *mac_input;
    size_t mac_input_len;
} fk_header;

void fk_header_clear(fk_header *h);
/* Parse a binary (non-armored) header from the start of buf.  On success
 * *consumed is the header's length including the MAC line's newline.
 * FK_ERR_HEADER on any malformation; FK_ERR_LIMIT if no complete header is
 * within FK_AGE_MAX_HEADER_LEN bytes; returns FK_ERR_INVALID with
 * *consumed = 0 when buf ends before the header does (caller reads more). */
fk_err fk_header_parse(fk_header *h, const uint8_t *buf, size_t len, size_t *consumed);
/* Check the header MAC for file_key (constant-time). FK_ERR_HMAC on mismatch. */
fk_err fk_header_verify_mac(const fk_header *h, const uint8_t file_key[FK_AGE_FILE_KEY_LEN]);
/* Build a header from n >= 1 stanzas (deep-copied) and MAC it under file_key.
 * FK_ERR_INVALID for an empty or non-VCHAR argument, FK_ERR_LIMIT if the
 * encoding would exceed FK_AGE_MAX_HEADER_LEN. */
fk_err fk_header_build(fk_header *h, const fk_stanza *stanzas, size_t n,
                       const uint8_t file_key[FK_AGE_FILE_KEY_LEN]);
/* Serialize a parsed or built header: the MAC input, " ", base64 MAC, LF.
 * *out is malloc'd; the bytes equal what fk_header_parse consumed. */
fk_err fk_header_encode(const fk_header *h, uint8_t **out, size_t *outlen);

/* ---- recipients and identities ------------------------------------------
 * A recipient wraps a file key into one stanza.  An identity unwraps: given
 * the whole header it returns FK_OK with the file key, FK_ERR_NO_MATCH if no
 * stanza is for it, or FK_ERR_HEADER if a stanza of its type is malformed or
 * fails to decrypt in a way the spec calls a header failure.  The ops tables
 * let other modules (escrow, plugins) add types without touching the core. */

typedef struct fk_recipient fk_recipient;
typedef struct fk_identity fk_identity;

typedef struct fk_recipient_ops {
    const char *name;     /* for messages, e.g. "X25519" */
    int alone;            /* 1 if the stanza must be the only one (scrypt) */
    fk_err (*wrap)(const fk_recipient *r, const uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                   fk_stanza *out);
    void (*destroy)(fk_recipient *r); /* wipes and frees r->state */
} fk_recipient_ops;

struct fk_recipient {
    const fk_recipient_ops *ops;
    void *state;
};

typedef struct fk_identity_ops {
    const char *name;
    fk_err (*unwrap)(const fk_identity *id, const fk_header *h,
                     uint8_t file_key[FK_AGE_FILE_KEY_LEN]);
    void (*destroy)(fk_identity *id);
} fk_identity_ops;

struct fk_identity {
    const fk_identity_ops *ops;
    void *state;
};

/* Both call ops->destroy (which releases state) and then free() the struct,
 * so recipients and identities made by other modules must be malloc'd. */
void fk_recipient_free(fk_recipient *r);
void fk_identity_free(fk_identity *id);

/* X25519: generate a new identity; writes the "AGE-SECRET-KEY-1..." string
 * (uppercase bech32, NUL-terminated, needs FK_AGE_IDENTITY_STR_MAX) and the
 * "age1..." recipient (FK_AGE_RECIPIENT_STR_MAX). Caller wipes secret_str. */
#define FK_AGE_IDENTITY_STR_MAX 96
#define FK_AGE_RECIPIENT_STR_MAX 96
fk_err fk_x25519_keygen(char *secret_str, char *recipient_str);
/* Derive the "age1..." recipient string of an "AGE-SECRET-KEY-1..." string. */
fk_err fk_x25519_identity_to_recipient(char *recipient_str, const char *secret_str);
fk_err fk_x25519_recipient_parse(fk_recipient **out, const char *s);
fk_err fk_x25519_identity_parse(fk_identity **out, const char *s);

/* scrypt passphrase recipient/identity. logn 0 means the default. */
fk_err fk_scrypt_recipient_new(fk_recipient **out, const char *pass, size_t passlen, int logn);
fk_err fk_scrypt_identity_new(fk_identity **out, const char *pass, size_t passlen);

/* SSH keys (age's ssh-ed25519 and ssh-rsa recipient types, docs/age.md
 * "SSH keys").  *why (may be NULL) gets a static one-line reason on failure,
 * NULL on success. */
#define FK_SSH_RSA_MIN_BITS 2048   /* age refuses smaller RSA moduli (counted in whole bytes) */
#define FK_SSH_RSA_MAX_BITS 16384  /* OpenSSL's own cap; bounds one key's work */
/* The base64 of a public key on one line: an RSA key at the largest size is
 * about 2.8 KB; a line (CLI_LINE_MAX) is at most 8 KiB anyway. */
#define FK_SSH_PUBLIC_B64_MAX 8192
/* A private key file: an RSA key at the largest size is about 13 KB of PEM. */
#define FK_SSH_PRIVATE_MAX (64u << 10)
/* An authorized_keys-style line, "ssh-ed25519 AAAA... [comment]" or
 * "ssh-rsa AAAA... [comment]" (GitHub's .keys lists, ~/.ssh/id_*.pub).
 * FK_ERR_UNSUPPORTED for a well-formed line of another SSH key type (ecdsa,
 * sk-, dss), FK_ERR_LIMIT for an RSA key outside the bounds above,
 * FK_ERR_INVALID for anything else. */
fk_err fk_ssh_recipient_parse(fk_recipient **out, const char *s, const char **why);
/* A PEM private key: "OPENSSH PRIVATE KEY" (openssh-key-v1, ed25519 or RSA,
 * unencrypted), "RSA PRIVATE KEY" (PKCS#1) or "PRIVATE KEY" (PKCS#8, RSA or
 * Ed25519), as age reads them.  FK_ERR_UNSUPPORTED for a passphrase-protected
 * key or another key type; FK_ERR_INVALID when malformed or inconsistent. */
fk_err fk_ssh_identity_parse(fk_identity **out, const char *pem, size_t len, const char **why);
/* The recipient of an SSH identity (encrypt -i); FK_ERR_INVALID if id is not
 * an SSH identity. */
fk_err fk_ssh_identity_recipient(fk_recipient **out, const fk_identity *id);
int fk_ssh_is_identity(const fk_identity *id);

/* An identity that already knows the file key (escrow recovery): matches any
 * header whose MAC verifies under it. */
fk_err fk_filekey_identity_new(fk_identity **out, const uint8_t file_key[FK_AGE_FILE_KEY_LEN]);

/* Parse a native recipient string: "age1..." (X25519).  Post-quantum, tagged
 * and plugin-style strings ("age1pq1...", "age1<name>1...", which includes
 * "age1fairkey1...": see fk_escrow_recipient_parse) give FK_ERR_UNSUPPORTED,
 * anything else FK_ERR_INVALID. */
fk_err fk_recipient_parse(fk_recipient **out, const char *s);
/* Parse one identity string: "AGE-SECRET-KEY-1..." (X25519).  Post-quantum,
 * tagged and plugin identities ("AGE-SECRET-KEY-PQ-1...", "AGE-PLUGIN-...")
 * give FK_ERR_UNSUPPORTED; anything else FK_ERR_INVALID. */
fk_err fk_identity_parse(fk_identity **out, const char *s);
/* Parse an identity file's contents: lines of "AGE-SECRET-KEY-1...", '#'
 * comments and blank lines.  Appends to *ids (realloc'd), *nids updated. */
fk_err fk_identity_file_parse(fk_identity ***ids, size_t *nids, const char *text, size_t len);

/* ---- whole-file encryption and decryption on file descriptors -----------
 * The payload is processed in parallel: `threads` threads (the calling one
 * included) seal or open the chunks of a batch (at most threads *
 * FK_AGE_BATCH_CHUNKS chunks); the calling thread also reads the next batch
 * and writes the previous one, so I/O overlaps the crypto.  Buffers are
 * sized to the work: a regular file's batches to what is left of it, a
 * stream's from one chunk up, doubling; workers start only when a batch has
 * work for them (none for a file of 256 KiB or less).  Memory does not grow
 * with the file: two batches in flight,
 *   encryption (sealed in place): 2 * threads * FK_AGE_BATCH_CHUNKS * (64 KiB + 16),
 *   decryption (input and output): 4 * threads * FK_AGE_BATCH_CHUNKS * (64 KiB + 8),
 * at most 2.1 / 4.2 MB with 2 threads and 8.4 / 16.8 MB at
 * FK_AGE_MAX_THREADS, plus the header buffer (64 KiB, at most
 * FK_AGE_MAX_HEADER_LEN for a hostile header) and 2 * 64 KiB for armor:
 * 34 MB in the worst case.  See docs/age.md. */
#define FK_AGE_BATCH_CHUNKS 8
/* The output is written, in order, by one thread, which bounds throughput
 * long before this many workers would (see docs/age.md), and the cap keeps
 * the memory bound above true on any machine. */
#define FK_AGE_MAX_THREADS 8

/* Called after the file key is unwrapped and the header MAC verified, before
 * any plaintext is released.  Returning non-zero aborts decryption with that
 * error.  Used by the escrow module to recompute escrow stanzas. */
typedef fk_err (*fk_header_check_fn)(void *ctx, const fk_header *h,
                                      const uint8_t file_key[FK_AGE_FILE_KEY_LEN]);

/* writeback (both options): when out_fd is a regular file, ask the kernel to
 * start writing each FK_AGE_WRITEBACK_STEP bytes to disk as soon as they are
 * written (sync_file_range, SYNC_FILE_RANGE_WRITE: it does not wait), so a
 * caller that fsyncs at the end finds little left to write.  Ignored for
 * armored output and anything that is not a regular file. */
#define FK_AGE_WRITEBACK_STEP (8u << 20)

typedef struct fk_encrypt_opts {
    int armor;          /* 1: ASCII armor (PEM-like "AGE ENCRYPTED FILE") */
    unsigned threads;   /* threads in all, the caller's included; 0: one per online CPU */
    int writeback;      /* see above */
} fk_encrypt_opts;

typedef struct fk_decrypt_opts {
    unsigned threads;   /* threads in all, the caller's included; 0: one per online CPU */
    fk_header_check_fn check;  /* optional */
    void *check_ctx;
    /* 0: detect (armored if, after optional whitespace, the input starts
     * with "-----BEGIN"; a wrong label is then an armor failure);
     * 1: the input must be armored; -1: the input must be binary. */
    int armor;
    int writeback;      /* see fk_encrypt_opts */
} fk_decrypt_opts;

typedef struct fk_decrypt_info {
    int armored;
    uint64_t plaintext_len;  /* bytes written to out_fd */
    fk_err check_err;        /* what the header check returned */
} fk_decrypt_info;

/* Encrypt everything read from in_fd to out_fd.  Stanzas come from the
 * recipients in order.  FK_ERR_INVALID if a recipient that must be alone is
 * mixed with others or n == 0. */
fk_err fk_age_encrypt_fd(int in_fd, int out_fd, fk_recipient *const *rcpts, size_t n,
                         const fk_encrypt_opts *opts);

/* Decrypt from in_fd (binary or armored, detected) to out_fd.  Each chunk is
 * written only after its tag verifies; on FK_ERR_PAYLOAD the chunks before
 * the failing one have been written (age's stdout semantics: the caller that
 * writes to a file must discard it).  info may be NULL. */
fk_err fk_age_decrypt_fd(int in_fd, int out_fd, fk_identity *const *ids, size_t n,
                         const fk_decrypt_opts *opts, fk_decrypt_info *info);

/* Read only the header of a file (binary or armored) for inspection.
 * *payload_len gets the payload's byte length (nonce + sealed chunks) when the
 * input is seekable or fully read, UINT64_MAX if unknown. */
fk_err fk_age_read_header_fd(int in_fd, fk_header *h, int *armored, uint64_t *payload_len);

/* ---- ASCII armor (C2SP age, strict PEM subset) -------------------------- */
/* Decode an armored buffer into binary.  *out is malloc'd.  FK_ERR_ARMOR on
 * any deviation the spec forbids. */
fk_err fk_armor_decode(uint8_t **out, size_t *outlen, const uint8_t *in, size_t inlen);
/* Encode binary into armor. *out is malloc'd. */
fk_err fk_armor_encode(char **out, size_t *outlen, const uint8_t *in, size_t inlen);

#ifdef __cplusplus
}
#endif
#endif
