/*
 * Shared between the files of the age module; not public.  See docs/age.md.
 */
#ifndef FK_AGE_INTERNAL_H
#define FK_AGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <fairkey.h>

/* A sealed STREAM chunk: 64 KiB of plaintext plus the Poly1305 tag. */
#define FKI_CT_CHUNK_LEN (FK_AGE_CHUNK_LEN + FK_AGE_TAG_LEN)
#define FKI_PAYLOAD_KEY_LEN 32

/* ---- crypto glue over OpenSSL (crypto.c) ------------------------------- */

/* HKDF-SHA-256 (RFC 5869).  An empty salt is the same as HashLen zeros. */
fk_err fki_hkdf_sha256(uint8_t *out, size_t outlen, const uint8_t *ikm, size_t ikmlen,
                       const uint8_t *salt, size_t saltlen, const char *info);
/* HMAC-SHA-256 into out[32]. */
fk_err fki_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t keylen, const uint8_t *data,
                       size_t len);
/* One-shot ChaCha20-Poly1305 with the all-zero nonce (stanza bodies).
 * seal writes inlen + 16 bytes; open writes inlen - 16 bytes and returns
 * FK_ERR_NO_MATCH when the tag does not verify (out is wiped then). */
fk_err fki_aead_seal0(uint8_t *out, const uint8_t key[32], const uint8_t *in, size_t inlen);
fk_err fki_aead_open0(uint8_t *out, const uint8_t key[32], const uint8_t *in, size_t inlen);
/* The end of every native identity's unwrap: open a stanza body under key
 * into file_key (untouched unless FK_OK); FK_ERR_NO_MATCH when the tag does
 * not verify.  key and the intermediate copy are wiped on every path. */
fk_err fki_open_file_key(uint8_t file_key[16], uint8_t key[32], const uint8_t *body, size_t len);
/* The ChaCha20-Poly1305 implementation, fetched once per process. */
struct evp_cipher_st;
const struct evp_cipher_st *fki_chacha20_poly1305(void);
/* X25519(scalar, point) per RFC 7748; FK_ERR_CRYPTO when OpenSSL refuses,
 * which includes the all-zero shared secret (low-order point). */
fk_err fki_x25519(uint8_t out[32], const uint8_t scalar[32], const uint8_t point[32]);
/* X25519(scalar, basepoint). */
fk_err fki_x25519_base(uint8_t out[32], const uint8_t scalar[32]);

/* ---- header (header.c) ---------------------------------------------------- */

/* 1 if s is a valid stanza argument: 1*VCHAR (0x21-0x7e). */
int fki_arg_valid(const char *s);
/* Decode an argument that must be the canonical unpadded base64 of exactly
 * n bytes; FK_ERR_HEADER otherwise. */
fk_err fki_arg_b64(uint8_t *out, size_t n, const char *arg);

/* ---- byte sources and sinks (io.c) -----------------------------------------
 * A source yields the binary age file: straight from an fd, or decoded from
 * ASCII armor as it streams in.  Bytes already read while looking for the end
 * of the header are handed back through the pushback area. */

typedef struct fki_armor_rd fki_armor_rd; /* armor.c */

typedef struct fki_src {
    int fd;
    fki_armor_rd *armor;   /* NULL for binary input */
    const uint8_t *pend;   /* pushback, served before the fd */
    size_t npend;
    int eof;
    /* A regular file: the payload is bytes [pos, end) of fd, and the STREAM
     * workers pread(2) their own chunks in parallel (set by fki_src_positional). */
    int positional;
    uint64_t pos, end;
} fki_src;

/* Switch s to positional reads from absolute offset pos when its fd is a
 * regular file and no armor is involved; otherwise leave it as it is. */
void fki_src_positional(fki_src *s, int64_t pos);

/* Read up to n bytes; stops early only at end of input.  *got may be < n
 * only at EOF.  FK_ERR_IO, or FK_ERR_ARMOR for malformed armor. */
fk_err fki_src_read_full(fki_src *s, uint8_t *buf, size_t n, size_t *got);
/* Read at least one byte unless at EOF (*got = 0). */
fk_err fki_src_read_some(fki_src *s, uint8_t *buf, size_t n, size_t *got);

typedef struct fki_armor_wr fki_armor_wr; /* armor.c */

typedef struct fki_sink {
    int fd;
    fki_armor_wr *armor;   /* NULL for binary output */
    /* Writeback (fk_encrypt_opts.writeback): the file offset written up to
     * and the one writeback was last started from; wb_on 0 when off. */
    int wb_on;
    uint64_t wb_pos, wb_started;
} fki_sink;

/* Turn on writeback for s when out is a regular file (and s unarmored). */
void fki_sink_writeback(fki_sink *s);

fk_err fki_sink_write(fki_sink *s, const uint8_t *buf, size_t n);
/* Write everything (an fd without retrying would lose data on EINTR). */
fk_err fki_write_all(int fd, const uint8_t *buf, size_t n);
/* read(2) until n bytes or EOF. */
fk_err fki_read_full(int fd, uint8_t *buf, size_t n, size_t *got);

/* ---- ASCII armor streaming (armor.c) ------------------------------------- */

/* Armor reader over an fd (fd >= 0) or a memory buffer (fd < 0).  pre/npre
 * are bytes already read from the fd, consumed first. */
fk_err fki_armor_rd_new(fki_armor_rd **out, int fd, const uint8_t *mem, size_t memlen,
                        const uint8_t *pre, size_t npre);
void fki_armor_rd_free(fki_armor_rd *r);
/* Decoded bytes, up to n; *got = 0 only at the (verified) end. */
fk_err fki_armor_read(fki_armor_rd *r, uint8_t *buf, size_t n, size_t *got);

fk_err fki_armor_wr_new(fki_armor_wr **out, int fd);
fk_err fki_armor_write(fki_armor_wr *w, const uint8_t *buf, size_t n);
/* Flush the final line and the end marker. */
fk_err fki_armor_wr_finish(fki_armor_wr *w);
void fki_armor_wr_free(fki_armor_wr *w);

#define FKI_ARMOR_BEGIN "-----BEGIN AGE ENCRYPTED FILE-----"
#define FKI_ARMOR_END "-----END AGE ENCRYPTED FILE-----"
/* Whitespace allowed around the PEM block (C2SP age, "ASCII armor"). */
int fki_armor_space(uint8_t c);
/* Whitespace tolerated before and after the armor: 1 KiB is far more than
 * any editor or mail system adds; more is garbage, not padding. */
#define FKI_ARMOR_MAX_SPACE 1024

/* ---- STREAM payload (stream.c) ----------------------------------------------
 * The nonce is not part of these: the caller reads/writes it.  threads is
 * clamped to 1..FK_AGE_MAX_THREADS (0 = online CPUs). */

fk_err fki_payload_key(uint8_t key[FKI_PAYLOAD_KEY_LEN], const uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                       const uint8_t nonce[FK_AGE_NONCE_LEN]);
fk_err fki_stream_encrypt(fki_src *in, fki_sink *out, const uint8_t key[FKI_PAYLOAD_KEY_LEN],
                          unsigned threads);
/* *written counts plaintext bytes released to out, also on failure. */
fk_err fki_stream_decrypt(fki_src *in, fki_sink *out, const uint8_t key[FKI_PAYLOAD_KEY_LEN],
                          unsigned threads, uint64_t *written);
unsigned fki_threads(unsigned requested);

/* Test hooks: the payload (nonce + chunks) for a given file key and nonce,
 * fd to fd, so tests can compare outputs across thread counts. */
fk_err fki_payload_encrypt_fd(int in_fd, int out_fd, const uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                              const uint8_t nonce[FK_AGE_NONCE_LEN], unsigned threads);
fk_err fki_payload_decrypt_fd(int in_fd, int out_fd, const uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                              unsigned threads, uint64_t *written);

#endif
