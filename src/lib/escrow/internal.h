/*
 * escrow/internal.h - shared between the escrow module's files (and its
 * tests), not public: ristretto255 glue, RFC 9380 hashing, the generic
 * RFC 9497 DLEQ proof, and deterministic entry points for test vectors.
 */
#ifndef FAIRKEY_ESCROW_INTERNAL_H
#define FAIRKEY_ESCROW_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <fairkey.h>

/* A byte string, for hashing several parts without concatenating them. */
typedef struct fki_buf {
    const void *p;
    size_t n;
} fki_buf;

/* Most message parts one xmd call takes: the longest transcript (the
 * partial-decryption challenge) has 17. */
#define FKI_XMD_MAX_PARTS 24

/* RFC 9380 section 5.3.1 expand_message_xmd with SHA-512.  dstlen <= 255,
 * outlen <= 255 * 64.  The message is the concatenation of parts
 * (at most FKI_XMD_MAX_PARTS). */
fk_err fki_xmd_sha512(uint8_t *out, size_t outlen, const void *dst, size_t dstlen,
                      const fki_buf *parts, size_t nparts);
/* Hash to scalar: 64 bytes of xmd reduced mod L (RFC 9497 ristretto255). */
fk_err fki_h2s(uint8_t out[32], const void *dst, size_t dstlen, const fki_buf *parts,
               size_t nparts);
/* Hash to group: 64 bytes of xmd through the RFC 9496 one-way map. */
fk_err fki_h2g(uint8_t out[32], const void *dst, size_t dstlen, const fki_buf *parts,
               size_t nparts);
/* One-shot SHA-512 over parts (RFC 9497's Hash for ristretto255-SHA512). */
fk_err fki_sha512(uint8_t out[64], const fki_buf *parts, size_t nparts);

/* The ristretto255 generator B (RFC 9496). */
extern const uint8_t fki_base_point[32];

/* 1 if s < L (canonical), constant-time in s. */
int fki_scalar_is_canonical(const uint8_t s[32]);
/* 1 if s == 0, constant-time. */
int fki_scalar_is_zero(const uint8_t s[32]);
/* 1 if p is a canonical ristretto255 encoding and not the identity. */
int fki_point_is_valid(const uint8_t p[32]);
/* A uniformly random non-zero scalar. */
fk_err fki_scalar_random(uint8_t out[32]);
/* The scalar with small integer value v. */
void fki_scalar_from_uint(uint8_t out[32], unsigned v);

/* out = n*P for a valid P (canonical; identity allowed); the identity result
 * (n = 0) is written as the all-zero encoding instead of failing, which
 * libsodium 1.0.18 does.  FK_ERR_INVALID if n is not canonical (libsodium
 * does not reduce it: it drops bit 255); FK_ERR_CRYPTO if P does not
 * decode.  Constant-time in n. */
fk_err fki_mul(uint8_t out[32], const uint8_t n[32], const uint8_t p[32]);
/* out = n*B, identity handled as above; FK_ERR_INVALID for a non-canonical n. */
fk_err fki_mul_base(uint8_t out[32], const uint8_t n[32]);
/* out = p + q (both valid encodings, identity allowed). */
fk_err fki_add(uint8_t out[32], const uint8_t p[32], const uint8_t q[32]);

/* Lagrange coefficient at 0 for index xi over the set idx[0..m-1] (distinct,
 * non-zero, xi among them).  FK_ERR_INVALID on a duplicate or zero index. */
fk_err fki_lagrange0(uint8_t out[32], unsigned xi, const unsigned *idx, size_t m);

/* Shamir/Feldman polynomials (t >= 1 coefficients, lowest first):
 * out = f(x) = sum_k a_k x^k mod L (secret-safe: wipes its accumulator),
 * and out = sum_k x^k C_k over the t points at commit (t*32 bytes; the
 * identity may occur). */
void fki_poly_eval_scalars(uint8_t out[32], const uint8_t (*coeffs)[32], unsigned t, unsigned x);
fk_err fki_poly_eval_points(uint8_t out[32], const uint8_t *commit, unsigned t, unsigned x);

/* ---- generic RFC 9497 section 2.2 DLEQ proof ------------------------------
 * Proves log_A(B) == log_C[i](D[i]) for all i.  With composites = 1 it is
 * exactly RFC 9497 GenerateProof/VerifyProof (seed, Composite, Challenge
 * transcripts).  With composites = 0 (only m == 1) M = C[0] and Z = D[0].
 * Each of the nbind parts of bind is prepended to the challenge transcript
 * as I2OSP(len, 2) || part (fairkey binds the authority id, the share index
 * and the context; RFC mode passes none).  Parts are at most 0xffff bytes,
 * nbind at most FKI_DLEQ_MAX_BIND. */
#define FKI_DLEQ_MAX_BIND 3
typedef struct fki_dleq_params {
    const void *h2s_dst;   /* DST of every HashToScalar call */
    size_t h2s_dst_len;
    const void *seed_dst;  /* "Seed-" || contextString (composites only) */
    size_t seed_dst_len;
    int composites;
    const fki_buf *bind;
    size_t nbind;
} fki_dleq_params;

fk_err fki_dleq_prove(uint8_t proof[64], const uint8_t k[32], const uint8_t a[32],
                      const uint8_t b[32], const uint8_t (*c)[32], const uint8_t (*d)[32],
                      size_t m, const uint8_t r[32], const fki_dleq_params *prm);
/* FK_OK if the proof verifies, FK_ERR_PROOF if not, FK_ERR_INVALID if a
 * proof scalar is non-canonical. */
fk_err fki_dleq_verify(const uint8_t proof[64], const uint8_t a[32], const uint8_t b[32],
                       const uint8_t (*c)[32], const uint8_t (*d)[32], size_t m,
                       const fki_dleq_params *prm);

/* Deterministic dealer from given coefficients coeffs[0..t-1] (coeffs[0] = s),
 * used by fk_escrow_dealer and by the RFC 9591 vector test. */
fk_err fki_escrow_deal(fk_escrow_authority *auth, fk_escrow_share *shares, const char *name,
                       unsigned t, unsigned n, const char *policy, size_t policy_len,
                       const uint8_t (*coeffs)[32]);
/* An authority from its Feldman commitments commit[0..t-1] (valid points;
 * PK = commit[0]): share keys by Horner, then the id.  For authorities made
 * without a dealer (src/lib/dkg) and by resharing.  auth wiped on failure. */
fk_err fki_escrow_authority_build(fk_escrow_authority *auth, const char *name, unsigned t,
                                  unsigned n, const char *policy, size_t policy_len,
                                  const uint8_t (*commit)[32]);
/* Name rule of docs/spec.md 2 (1..64 of [A-Za-z0-9._-]): 1 if it holds. */
int fki_escrow_name_ok(const char *name);
/* A canonical log policy as an authority names it (docs/spec.md 2.1):
 * FK_OK, FK_ERR_INVALID or FK_ERR_LIMIT. */
fk_err fki_escrow_policy_check(const char *text, size_t len);

/* Append printf-formatted text at out + o (capacity cap), advancing o;
 * return FK_ERR_LIMIT from the calling function when it does not fit.
 * The writers of the authority and resharing files use it with locals
 * char *out, size_t cap, size_t o and int w. */
#define FKI_EMIT(...)                                                  \
    do {                                                               \
        w = snprintf(out + o, cap - o, __VA_ARGS__);                   \
        if (w < 0 || (size_t)w >= cap - o)                             \
            return FK_ERR_LIMIT;                                       \
        o += (size_t)w;                                                \
    } while (0)

/* The line rules of the authority, share and resharing files: a cursor
 * over text that hands out one LF-terminated line at a time. */
typedef struct fki_cursor {
    const char *p;
    size_t left;
} fki_cursor;
/* The next line must be key (val NULL) or key, one space and a value
 * (*val, *vlen: the rest, without the LF); printable ASCII and spaces only. */
int fki_next_field(fki_cursor *c, const char *key, const char **val, size_t *vlen);
/* The run of "policy <line>" lines at the cursor, each appended to out
 * (capacity FK_ESCROW_POLICY_MAX + 1) with its LF; *len gets the length.
 * FK_OK (none is fine), FK_ERR_INVALID for a bad line, FK_ERR_LIMIT past
 * FK_ESCROW_POLICY_MAX.  Checking the policy as a whole is the caller's. */
fk_err fki_read_policy_lines(fki_cursor *c, char *out, size_t *len);
/* The reverse: each LF-terminated line of policy (len bytes) as "policy
 * <line>\n" at out + *o (capacity cap), advancing *o.  FK_ERR_LIMIT if it
 * does not fit or len is past FK_ESCROW_POLICY_MAX. */
fk_err fki_write_policy_lines(char *out, size_t cap, size_t *o, const char *policy, size_t len);
/* Canonical decimal in [lo, hi]: no sign, no leading zero, at most 5 digits. */
int fki_parse_uint(const char *s, size_t n, unsigned lo, unsigned hi, unsigned *out);
/* 43 characters of canonical unpadded base64 of 32 bytes. */
int fki_parse_b64_32(uint8_t out[32], const char *s, size_t n);

/* Recompute PK_i from the commitments (Horner over i). */
fk_err fki_escrow_share_pk(uint8_t out[32], const fk_escrow_authority *auth, unsigned i);
/* Compute the authority id from the other fields. */
fk_err fki_escrow_authority_id(uint8_t id[32], const fk_escrow_authority *auth);

/* The partial decryption with a caller-given nonce scalar (tests). */
fk_err fki_escrow_partial_with_nonce(fk_escrow_partial *out, const fk_escrow_authority *auth,
                                     const fk_escrow_share *share, const uint8_t e[32],
                                     const uint8_t *context, size_t context_len,
                                     const uint8_t nonce[32]);

/* Escrow stanza values from (PK, k): E, Ebar and body (wrap || proof);
 * r, Z, the wrap key and the proof nonce are wiped. */
fk_err fki_escrow_stanza_values(uint8_t e[32], uint8_t ebar[32],
                                uint8_t body[FK_ESCROW_BODY_LEN], const uint8_t pk[32],
                                const uint8_t file_key[16]);

/* 1 if (st->pk, k) recomputes st byte for byte (constant-time compare). */
int fki_escrow_stanza_matches(const fk_escrow_stanza_info *st, const uint8_t file_key[16]);

/* wk = HKDF-SHA-256(ikm = Z, salt = E || PK, info = "fairkey/v2 escrow wrap"). */
fk_err fki_escrow_wrap_key(uint8_t wk[32], const uint8_t z[32], const uint8_t e[32],
                           const uint8_t pk[32]);
/* Longest fki_escrow_aead input: the body is 32 bytes; more is misuse. */
#define FKI_ESCROW_AEAD_MAX 64
/* ChaCha20-Poly1305, zero nonce, no AAD.  enc: out = ct || tag (inlen + 16);
 * decrypt: in = ct || tag, out gets inlen - 16 bytes, FK_ERR_ESCROW if the
 * tag fails (out wiped). */
fk_err fki_escrow_aead(int enc, uint8_t *out, const uint8_t key[32], const uint8_t *in,
                       size_t inlen);

#endif
