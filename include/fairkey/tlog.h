/*
 * fairkey/tlog.h - transparency log formats: RFC 9162 Merkle trees and
 * proofs, C2SP signed notes, checkpoints, tiles and tlog-proof receipts.
 * Included by <fairkey.h>; do not include directly.
 *
 * Nothing here opens a socket or a file: wherever stored data is needed
 * (subtree hashes, tiles) the caller passes a callback.  Nothing allocates.
 * Outputs are untouched on failure unless a function says otherwise.
 *
 * Hashes are SHA-256, 32 bytes, held as uint8_t[FK_TLOG_HASH_LEN]; proofs
 * are arrays of such hashes.  A proof element, root or leaf hash of any other
 * length cannot be represented: decoders (fk_tlog_proof_parse, the JSON
 * readers of the tests) reject it before it reaches a verifier.
 *
 * Node coordinates: node (level, index) is the root of the full subtree of
 * 2^level leaves D[index * 2^level : (index + 1) * 2^level]; level 0 nodes
 * are leaf hashes.  A node exists in a tree of size n when
 * (index + 1) * 2^level <= n.
 */
#ifndef FAIRKEY_TLOG_H
#define FAIRKEY_TLOG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * RFC 9162 Merkle tree (section 2.1)
 * ====================================================================== */

#define FK_TLOG_HASH_LEN 32
/* Largest tree size (and entry index + 1) we accept anywhere: 2^63 - 1, so
 * index arithmetic never overflows uint64_t and a proof never exceeds
 * FK_TLOG_MAX_PROOF hashes.  Larger sizes are FK_ERR_LIMIT. */
#define FK_TLOG_MAX_SIZE ((uint64_t)INT64_MAX)
/* Most hashes in an inclusion or consistency proof of a tree of at most
 * FK_TLOG_MAX_SIZE leaves (63 plus one spare for the consistency seed). */
#define FK_TLOG_MAX_PROOF 64

/* SHA-256(0x00 || data). */
fk_err fk_tlog_leaf_hash(uint8_t out[FK_TLOG_HASH_LEN], const uint8_t *data, size_t len);
/* SHA-256(0x01 || left || right). */
fk_err fk_tlog_node_hash(uint8_t out[FK_TLOG_HASH_LEN], const uint8_t left[FK_TLOG_HASH_LEN],
                         const uint8_t right[FK_TLOG_HASH_LEN]);
/* MTH of n leaf hashes held in memory; n == 0 gives SHA-256(""). */
fk_err fk_tlog_root(uint8_t out[FK_TLOG_HASH_LEN], const uint8_t (*leaf_hashes)[FK_TLOG_HASH_LEN],
                    uint64_t n);

/*
 * Source of stored hashes: write the hash of node (level, index) to out.
 * The library only asks for nodes that exist in the tree size it was given.
 * Return FK_OK, or any error (it is passed back to the caller unchanged).
 */
typedef fk_err (*fk_tlog_node_fn)(void *ctx, unsigned level, uint64_t index,
                                  uint8_t out[FK_TLOG_HASH_LEN]);

/* MTH(D[start:end]) for a subtree of the RFC 9162 tree, built from full
 * nodes fetched through fn: start must be a multiple of the largest power of
 * two below end - start (true of every subtree RFC 9162 names, and of
 * start == 0).  start == end == 0 gives SHA-256("").  FK_ERR_INVALID if the
 * range is not such a subtree. */
fk_err fk_tlog_range_root(uint64_t start, uint64_t end, fk_tlog_node_fn fn, void *ctx,
                          uint8_t out[FK_TLOG_HASH_LEN]);

/*
 * Frontier (compact range [0, size)): the roots of the full subtrees that
 * make up a tree of `size` leaves, largest first, one per set bit of size.
 * 64 hashes at most, so appending never needs earlier leaves.  This is what
 * a sequencer keeps in memory.
 */
typedef struct fk_tlog_frontier {
    uint64_t size;
    unsigned count;                            /* popcount(size) */
    uint8_t hash[64][FK_TLOG_HASH_LEN];        /* hash[i] covers the i-th set bit from the top */
} fk_tlog_frontier;

/* Called for every node that an append completes, level 0 (the leaf) first,
 * then each parent it finishes; a sequencer keeps those at levels 0, 8, 16,
 * ... as tile hashes.  Returning an error aborts the append (the frontier is
 * then unchanged). */
typedef fk_err (*fk_tlog_node_cb)(void *ctx, unsigned level, uint64_t index,
                                  const uint8_t hash[FK_TLOG_HASH_LEN]);

void fk_tlog_frontier_init(fk_tlog_frontier *f);
/* Restore the frontier of a tree of `size` leaves from stored nodes. */
fk_err fk_tlog_frontier_load(fk_tlog_frontier *f, uint64_t size, fk_tlog_node_fn fn, void *ctx);
/* Append one leaf hash.  cb may be NULL.  FK_ERR_LIMIT past FK_TLOG_MAX_SIZE;
 * FK_ERR_INVALID if count is not popcount(size) (a frontier restored from
 * storage by other means than fk_tlog_frontier_load); the same check guards
 * fk_tlog_frontier_root. */
fk_err fk_tlog_frontier_append(fk_tlog_frontier *f, const uint8_t leaf_hash[FK_TLOG_HASH_LEN],
                               fk_tlog_node_cb cb, void *ctx);
/* Root of the tree the frontier describes (SHA-256("") when empty). */
fk_err fk_tlog_frontier_root(const fk_tlog_frontier *f, uint8_t out[FK_TLOG_HASH_LEN]);

/* Longest frontier text: a 19-digit size line and 63 lines of padded base64
 * (44 characters and '\n'; a size below 2^63 has at most 63 set bits). */
#define FK_TLOG_FRONTIER_TEXT_MAX (20 + 63 * 45)
/* Text form of a frontier, for an auditor's state file: the decimal size on
 * one line, then one line of padded base64 per hash, largest subtree first.
 * out gets at most FK_TLOG_FRONTIER_TEXT_MAX bytes and a NUL; *len excludes
 * the NUL.  FK_ERR_INVALID for a struct that is not a frontier;
 * FK_ERR_LIMIT if cap is too small. */
fk_err fk_tlog_frontier_encode(const fk_tlog_frontier *f, char *out, size_t cap, size_t *len);
/* Parse that text strictly: canonical decimal size (<= FK_TLOG_MAX_SIZE),
 * exactly popcount(size) hash lines of padded base64 of 32 bytes, every line
 * ending in '\n', nothing after.  FK_ERR_INVALID otherwise (FK_ERR_LIMIT for
 * a size past FK_TLOG_MAX_SIZE). */
fk_err fk_tlog_frontier_parse(fk_tlog_frontier *f, const char *text, size_t len);

/* RFC 9162 section 2.1.3.1: inclusion proof of leaf `index` in a tree of
 * `size` leaves, nodes from fn.  Writes *n hashes (at most cap) to proof.
 * FK_ERR_INVALID if index >= size; FK_ERR_LIMIT if cap is too small. */
fk_err fk_tlog_prove_inclusion(uint64_t index, uint64_t size, fk_tlog_node_fn fn, void *ctx,
                               uint8_t (*proof)[FK_TLOG_HASH_LEN], size_t cap, size_t *n);
/* RFC 9162 section 2.1.4.1: consistency proof from size1 to size2.
 * 0 < size1 <= size2 (size1 == size2 gives an empty proof). */
fk_err fk_tlog_prove_consistency(uint64_t size1, uint64_t size2, fk_tlog_node_fn fn, void *ctx,
                                 uint8_t (*proof)[FK_TLOG_HASH_LEN], size_t cap, size_t *n);

/* RFC 9162 section 2.1.3.2.  FK_OK if the proof places leaf_hash at index in
 * the tree with this root; FK_ERR_PROOF if it does not (wrong length, wrong
 * hashes); FK_ERR_INVALID if index >= size. */
fk_err fk_tlog_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf_hash[FK_TLOG_HASH_LEN],
                                const uint8_t (*proof)[FK_TLOG_HASH_LEN], size_t n,
                                const uint8_t root[FK_TLOG_HASH_LEN]);
/* RFC 9162 section 2.1.4.2, with these deliberate conventions (those of the
 * transparency-dev vectors):
 *   - size1 == 0 is FK_ERR_INVALID: a proof from the empty tree proves
 *     nothing (callers that accept "old size 0" handle it before calling);
 *   - size1 > size2 is FK_ERR_INVALID;
 *   - size1 == size2 succeeds only with an empty proof and root1 == root2;
 *   - otherwise FK_ERR_PROOF unless the proof is exactly right. */
fk_err fk_tlog_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[FK_TLOG_HASH_LEN],
                                  const uint8_t root2[FK_TLOG_HASH_LEN],
                                  const uint8_t (*proof)[FK_TLOG_HASH_LEN], size_t n);

/* ======================================================================
 * C2SP signed-note (Ed25519, type 0x01) and tlog-cosignature (type 0x04)
 * ====================================================================== */

#define FK_NOTE_ALG_ED25519 0x01   /* signed-note Ed25519 */
#define FK_NOTE_ALG_COSIG_V1 0x04  /* tlog-cosignature cosignature/v1 (Ed25519, timestamped) */
/* Longest key name.  The spec sets none; 255 bytes holds any sane schema-less
 * URL and keeps keys in fixed structs. */
#define FK_NOTE_NAME_MAX 255
/* Largest signed note: it must fit one log entry (tile bundles use a 16-bit
 * length), and bounds the work a hostile note can cause. */
#define FK_NOTE_MAX_SIZE 65535
/* Most signature lines in one note: the spec requires accepting at least 16;
 * 32 leaves room for a log key and a witness set. */
#define FK_NOTE_MAX_SIGS 32
/* Most verifiers passed to fk_note_verify (one bit each in its result). */
#define FK_NOTE_MAX_VERIFIERS 64
/* Longest vkey and private-key text (name, 8 hex, 48 base64, 2 '+', "PRIVATE+KEY+"). */
#define FK_NOTE_KEY_TEXT_MAX (FK_NOTE_NAME_MAX + 80)

/* A verifier key: "<name>+<hex key id>+<base64(type || pubkey)>". */
typedef struct fk_note_verifier {
    char name[FK_NOTE_NAME_MAX + 1];  /* NUL-terminated */
    size_t name_len;
    uint32_t key_id;
    uint8_t alg;                      /* FK_NOTE_ALG_ED25519 or FK_NOTE_ALG_COSIG_V1 */
    uint8_t pub[32];
} fk_note_verifier;

/* An Ed25519 signing key.  Holds a secret: wipe with fk_note_signer_wipe. */
typedef struct fk_note_signer {
    char name[FK_NOTE_NAME_MAX + 1];
    size_t name_len;
    uint32_t key_id;
    uint8_t seed[32];
    uint8_t pub[32];
} fk_note_signer;

/* Key ID = first 4 bytes (big-endian) of SHA-256(name || 0x0A || alg || pub). */
fk_err fk_note_key_id(uint32_t *id, const char *name, size_t name_len, uint8_t alg,
                      const uint8_t pub[32]);
/* Build a verifier from its parts (computes the key ID).  Checks the name. */
fk_err fk_note_verifier_new(fk_note_verifier *v, const char *name, size_t name_len, uint8_t alg,
                            const uint8_t pub[32]);
/* Parse a vkey.  Accepts alg 0x01 and 0x04; FK_ERR_UNSUPPORTED for other
 * types; FK_ERR_INVALID when malformed or when the key ID does not match
 * the name and key (a mismatched ID is a copy-paste error we refuse). */
fk_err fk_note_verifier_parse(fk_note_verifier *v, const char *text, size_t len);
/* Encode a vkey; out gets a NUL-terminated string of *len chars. */
fk_err fk_note_verifier_encode(const fk_note_verifier *v, char *out, size_t cap, size_t *len);

/* New random Ed25519 signer. */
fk_err fk_note_signer_generate(fk_note_signer *s, const char *name, size_t name_len);
/* Signer from a 32-byte seed (the RFC 8032 private key). */
fk_err fk_note_signer_from_seed(fk_note_signer *s, const char *name, size_t name_len,
                                const uint8_t seed[32]);
/* Parse "PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>" (Go note
 * private-key form).  Key ID must match. */
fk_err fk_note_signer_parse(fk_note_signer *s, const char *text, size_t len);
/* Encode the private-key form; the output is secret (wipe it). */
fk_err fk_note_signer_encode(const fk_note_signer *s, char *out, size_t cap, size_t *len);
/* The matching verifier (alg 0x01). */
void fk_note_signer_verifier(const fk_note_signer *s, fk_note_verifier *v);
void fk_note_signer_wipe(fk_note_signer *s);

/* Raw Ed25519 signature over msg (no note framing). */
fk_err fk_note_sign_raw(const fk_note_signer *s, const uint8_t *msg, size_t len, uint8_t sig[64]);

/* Sign a note text (non-empty, valid note text, ending in '\n') with n
 * signers: out = text || "\n" || one line per signer
 * "— <name> <base64(key id || sig)>\n".  NUL-terminated; *len excludes it. */
fk_err fk_note_sign(const char *text, size_t text_len, const fk_note_signer *const *signers,
                    size_t nsigners, char *out, size_t cap, size_t *len);

/* One signature line, as parsed.  Pointers point into the parsed buffer. */
typedef struct fk_note_sig {
    const char *name;
    size_t name_len;
    uint32_t key_id;
    const char *b64;   /* the base64 signature (key ID included), unchecked
                          beyond alphabet and padding until a known key asks */
    size_t b64_len;
} fk_note_sig;

/* A parsed signed note.  text points into the caller's buffer, which must
 * outlive the struct; text includes its final '\n'. */
typedef struct fk_note {
    const char *text;
    size_t text_len;
    size_t nsigs;
    fk_note_sig sigs[FK_NOTE_MAX_SIGS];
} fk_note;

/* Parse a signed note: valid UTF-8, no control characters but '\n', text
 * ending in '\n', a blank line (the last one), then 1..FK_NOTE_MAX_SIGS
 * signature lines, each "— <name> <base64>\n" with a valid name and at least
 * 5 bytes of signature.  FK_ERR_LIMIT beyond FK_NOTE_MAX_SIZE or too many
 * signatures; FK_ERR_INVALID for anything malformed. */
fk_err fk_note_parse(fk_note *n, const char *buf, size_t len);

/*
 * Verify a parsed note against known keys (signed-note rules):
 *   - a line whose (name, key ID) matches no verifier is ignored;
 *   - a line matching a verifier must verify, else FK_ERR_SIGNATURE (the
 *     whole note is rejected);
 *   - at least one verifier must have verified, else FK_ERR_SIGNATURE.
 * Alg 0x01 verifies Ed25519 over the text; alg 0x04 verifies a
 * cosignature/v1 (8-byte big-endian timestamp || Ed25519 signature over
 * "cosignature/v1\ntime <t>\n" || text).
 * verified (may be NULL) gets bit i set when vs[i] verified.  nv <= 64.
 */
fk_err fk_note_verify(const fk_note *n, const fk_note_verifier *vs, size_t nv, uint64_t *verified);
/* Timestamp of the verified cosignature by v (alg 0x04) in n.
 * FK_ERR_NOT_FOUND if there is none; FK_ERR_SIGNATURE if it does not verify. */
fk_err fk_note_cosig_time(const fk_note *n, const fk_note_verifier *v, uint64_t *timestamp);

/*
 * A tlog-cosignature cosignature/v1 signer (a witness key): Ed25519, key ID
 * SHA-256(name || 0x0A || 0x04 || pub)[:4].  Holds a secret: wipe with
 * fk_cosigner_wipe.  Its private-key text is the Go note form with type
 * byte 0x04, "PRIVATE+KEY+<name>+<hex key id>+<base64(0x04 || seed)>"
 * (a fairkey convention: tlog-cosignature defines only the vkey), so it is
 * never mistaken for a checkpoint-signing key (type 0x01).
 */
typedef struct fk_cosigner {
    char name[FK_NOTE_NAME_MAX + 1];  /* NUL-terminated */
    size_t name_len;
    uint32_t key_id;                  /* the 0x04 key ID */
    uint8_t seed[32];
    uint8_t pub[32];
} fk_cosigner;

/* Longest cosignature line: "— " (4 bytes), name, ' ', base64 of 76
 * bytes (104), '\n'. */
#define FK_COSIG_LINE_MAX (4 + FK_NOTE_NAME_MAX + 1 + 104 + 1)

/* New random cosigner. */
fk_err fk_cosigner_generate(fk_cosigner *c, const char *name, size_t name_len);
/* Cosigner from a 32-byte Ed25519 seed (RFC 8032 private key). */
fk_err fk_cosigner_from_seed(fk_cosigner *c, const char *name, size_t name_len,
                             const uint8_t seed[32]);
/* Parse the private-key text above.  FK_ERR_UNSUPPORTED for another type
 * byte (a 0x01 signed-note key); FK_ERR_INVALID if malformed or the key ID
 * does not match. */
fk_err fk_cosigner_parse(fk_cosigner *c, const char *text, size_t len);
/* Encode the private-key text (secret: wipe it), NUL-terminated. */
fk_err fk_cosigner_encode(const fk_cosigner *c, char *out, size_t cap, size_t *len);
/* The matching verifier (alg FK_NOTE_ALG_COSIG_V1; encode it for the vkey). */
void fk_cosigner_verifier(const fk_cosigner *c, fk_note_verifier *v);
void fk_cosigner_wipe(fk_cosigner *c);

/* Cosign a checkpoint: text is the checkpoint body (note text, parsed
 * strictly with fk_checkpoint_parse), timestamp the POSIX time (1 ..
 * 2^63 - 1: tlog-witness forbids omitting it).  out gets one signature line
 * "— <name> <base64(key id || u64be timestamp || Ed25519 signature over
 * "cosignature/v1\ntime <timestamp>\n" || text)>\n", NUL-terminated; *len
 * excludes the NUL.  Append it after a signed checkpoint's other lines. */
fk_err fk_cosign_checkpoint(const fk_cosigner *c, const char *text, size_t text_len,
                            uint64_t timestamp, char *out, size_t cap, size_t *len);

/* ======================================================================
 * C2SP tlog-checkpoint
 * ====================================================================== */

/* Origin line limit: the origin is normally also the log's key name. */
#define FK_CHECKPOINT_ORIGIN_MAX FK_NOTE_NAME_MAX
/* Longest checkpoint note text we write (origin, size, root, extensions). */
#define FK_CHECKPOINT_TEXT_MAX 4096

typedef struct fk_checkpoint {
    char origin[FK_CHECKPOINT_ORIGIN_MAX + 1];  /* NUL-terminated */
    size_t origin_len;
    uint64_t size;
    uint8_t root[FK_TLOG_HASH_LEN];
    const char *ext;   /* extension lines verbatim (each non-empty, ending '\n'); NULL if none */
    size_t ext_len;
} fk_checkpoint;

/* Parse a checkpoint body (the note text): origin (non-empty, no control
 * characters), decimal size without leading zeros (<= FK_TLOG_MAX_SIZE),
 * padded base64 of exactly 32 bytes, then optional non-empty extension lines.
 * c->ext points into text. */
fk_err fk_checkpoint_parse(fk_checkpoint *c, const char *text, size_t len);
/* Encode the body (NUL-terminated). */
fk_err fk_checkpoint_encode(const fk_checkpoint *c, char *out, size_t cap, size_t *len);
/* Encode and sign: a complete signed checkpoint note. */
fk_err fk_checkpoint_sign(const fk_checkpoint *c, const fk_note_signer *s, char *out, size_t cap,
                          size_t *len);
/* Parse a signed checkpoint, verify it with the log's keys (fk_note_verify
 * rules) and check that its origin equals `origin` (NULL: any origin).
 * note (may be NULL) gets the parsed note; verified as in fk_note_verify.
 * FK_ERR_SIGNATURE if unsigned by a known key; FK_ERR_INVALID on a
 * malformed body or a different origin. */
fk_err fk_checkpoint_open(fk_checkpoint *c, fk_note *note, const char *buf, size_t len,
                          const char *origin, const fk_note_verifier *vs, size_t nv,
                          uint64_t *verified);

/* ======================================================================
 * C2SP tlog-tiles
 * ====================================================================== */

#define FK_TILE_HEIGHT 8                    /* levels per tile */
#define FK_TILE_WIDTH 256                   /* hashes in a full tile */
#define FK_TILE_MAX_BYTES (FK_TILE_WIDTH * FK_TLOG_HASH_LEN)  /* 8192 */
#define FK_TILE_MAX_LEVEL 63                /* the spec's bound on <L> */
#define FK_TILE_ENTRIES (-1)                /* fk_tile.level of an entry bundle */
/* Largest log entry: bundles prefix each entry with a big-endian uint16. */
#define FK_TLOG_MAX_ENTRY 65535
/* Longest tile path: "tile/entries/" + 7 groups "x000/" + "000" + ".p/255". */
#define FK_TILE_PATH_MAX 64

typedef struct fk_tile {
    int level;        /* 0..63, or FK_TILE_ENTRIES */
    uint64_t index;   /* N */
    unsigned width;   /* 1..256; 256 is a full tile (no .p/ suffix) */
} fk_tile;

/* "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]" (no prefix, no
 * leading '/'), NUL-terminated. */
fk_err fk_tile_path(const fk_tile *t, char *out, size_t cap, size_t *len);
/* Parse such a path strictly (canonical only). */
fk_err fk_tile_parse_path(fk_tile *t, const char *path, size_t len);

/* The tile (level, index) as it exists in a tree of tree_size leaves: sets
 * width (full or partial).  FK_ERR_NOT_FOUND if it would be empty.  Works for
 * level FK_TILE_ENTRIES too (entry bundles follow level 0). */
fk_err fk_tile_at(fk_tile *t, int level, uint64_t index, uint64_t tree_size);
/* Number of tiles (full and partial) at `level` in a tree of tree_size. */
uint64_t fk_tile_count(int level, uint64_t tree_size);

/* The contents of hash tile (level, index, width): width hashes, the node
 * hashes at Merkle level 8*level, indices index*256 .. index*256+width-1,
 * taken from fn.  out needs width*32 bytes. */
fk_err fk_tile_build(const fk_tile *t, fk_tlog_node_fn fn, void *ctx, uint8_t *out, size_t cap,
                     size_t *len);

/* Fetch callback: write the bytes of tile t (its exact resource, partial
 * or full per t->width) into out (capacity cap) and their length to *len.
 * The library checks the length; it cannot check the contents. */
typedef fk_err (*fk_tile_fetch_fn)(void *ctx, const fk_tile *t, uint8_t *out, size_t cap,
                                   size_t *len);

/* Reads node hashes of a tree of tree_size leaves from hash tiles, keeping
 * the last tile fetched.  When fetching a partial tile returns
 * FK_ERR_NOT_FOUND, the reader fetches the full tile instead and uses its
 * first hashes (tlog-tiles lets logs delete partial tiles once full).
 * Use fk_tile_reader_node as an fk_tlog_node_fn with the reader as ctx, to
 * generate proofs or recompute roots from tiles. */
typedef struct fk_tile_reader {
    uint64_t tree_size;
    fk_tile_fetch_fn fetch;
    void *ctx;
    int cached;                  /* 1 if `tile` and `data` hold a fetched tile */
    fk_tile tile;
    uint8_t data[FK_TILE_MAX_BYTES];
} fk_tile_reader;

void fk_tile_reader_init(fk_tile_reader *r, uint64_t tree_size, fk_tile_fetch_fn fetch, void *ctx);
/* fk_tlog_node_fn over a fk_tile_reader (ctx is the reader). */
fk_err fk_tile_reader_node(void *reader, unsigned level, uint64_t index,
                           uint8_t out[FK_TLOG_HASH_LEN]);

/* Entry bundles: a sequence of (big-endian uint16 length, entry). */
/* Append one entry at *len (capacity cap).  FK_ERR_LIMIT if the entry is over
 * FK_TLOG_MAX_ENTRY or does not fit. */
fk_err fk_bundle_append(uint8_t *buf, size_t cap, size_t *len, const uint8_t *entry,
                        size_t entry_len);
/* Iterate: *off starts at 0; each call yields the next entry (pointer into
 * buf).  FK_ERR_NOT_FOUND at the end; FK_ERR_INVALID on a truncated entry. */
fk_err fk_bundle_next(const uint8_t *buf, size_t len, size_t *off, const uint8_t **entry,
                      size_t *entry_len);
/* Parse a whole bundle expected to hold exactly `count` entries and write
 * their leaf hashes (count * 32 bytes) to out.  FK_ERR_INVALID if the bundle
 * is malformed, holds a different count, or has trailing bytes. */
fk_err fk_bundle_leaf_hashes(const uint8_t *buf, size_t len, size_t count,
                             uint8_t (*out)[FK_TLOG_HASH_LEN]);

/* ======================================================================
 * C2SP tlog-proof (receipt: index, inclusion proof, signed checkpoint)
 * ====================================================================== */

#define FK_TLOG_PROOF_HEADER "c2sp.org/tlog-proof@v1"
/* Largest receipt: every part at its own limit, so no receipt whose parts
 * are each acceptable is refused as a whole: the header line, an extra line
 * of FK_TLOG_PROOF_EXTRA_MAX bytes, an index line of 19 digits, 63 proof
 * lines of 44 characters, the blank line and the largest note (73,891). */
#define FK_TLOG_PROOF_MAX_SIZE                                                          \
    (sizeof FK_TLOG_PROOF_HEADER + 6 + (FK_TLOG_PROOF_EXTRA_MAX + 2) / 3 * 4 + 1 + 6 + 19 + 1 + \
     (FK_TLOG_MAX_PROOF - 1) * 45 + 1 + FK_NOTE_MAX_SIZE)
/* Longest extra data (decoded): fairkey carries the signed recovery request
 * there, which FK_REQUEST_NOTE_MAX bounds to the same 4096 bytes. */
#define FK_TLOG_PROOF_EXTRA_MAX 4096

typedef struct fk_tlog_proof {
    const char *extra_b64;         /* base64 of the extra data, or NULL; points into buf */
    size_t extra_b64_len;
    uint64_t index;
    size_t nproof;
    uint8_t proof[FK_TLOG_MAX_PROOF][FK_TLOG_HASH_LEN];
    const char *checkpoint;        /* the signed checkpoint note, verbatim; points into buf */
    size_t checkpoint_len;
} fk_tlog_proof;

/* Encode a receipt.  extra may be NULL (no extra line).  signed_checkpoint
 * is a complete signed note.  NUL-terminated. */
fk_err fk_tlog_proof_encode(const uint8_t *extra, size_t extra_len, uint64_t index,
                            const uint8_t (*proof)[FK_TLOG_HASH_LEN], size_t nproof,
                            const char *signed_checkpoint, size_t cp_len, char *out, size_t cap,
                            size_t *len);

/* Many receipts under one checkpoint (a log answering a batch): the note is
 * checked once by _init; the context points at signed_checkpoint, which must
 * outlive it.  _encode_ctx is fk_tlog_proof_encode without the check. */
typedef struct fk_tlog_proof_ctx {
    const char *checkpoint;
    size_t checkpoint_len;
} fk_tlog_proof_ctx;
fk_err fk_tlog_proof_ctx_init(fk_tlog_proof_ctx *c, const char *signed_checkpoint, size_t cp_len);
fk_err fk_tlog_proof_encode_ctx(const fk_tlog_proof_ctx *c, const uint8_t *extra, size_t extra_len,
                                uint64_t index, const uint8_t (*proof)[FK_TLOG_HASH_LEN],
                                size_t nproof, char *out, size_t cap, size_t *len);
/* Parse a receipt strictly (proof lines: padded base64 of exactly 32 bytes). */
fk_err fk_tlog_proof_parse(fk_tlog_proof *p, const char *buf, size_t len);
/* Verify a parsed receipt for the entry with this leaf hash: the checkpoint
 * is signed by one of the log keys and has this origin, index < size, and the
 * inclusion proof binds leaf_hash to the checkpoint root.  cp (may be NULL)
 * gets the checkpoint; note (may be NULL) the parsed note, so the caller can
 * check witness cosignatures with fk_note_verify. */
fk_err fk_tlog_proof_verify(const fk_tlog_proof *p, const uint8_t leaf_hash[FK_TLOG_HASH_LEN],
                            const char *origin, const fk_note_verifier *log_keys, size_t nkeys,
                            fk_checkpoint *cp, fk_note *note);

/* ======================================================================
 * C2SP tlog-policy: which logs and witness cosignatures make a checkpoint
 * valid.  A policy lives in one caller-owned struct (about 75 KiB: keep it
 * off small thread stacks); nothing here allocates.
 * ====================================================================== */

/* The spec strongly recommends supporting at least 32 logs, 32 witnesses
 * and 32 groups; exactly that keeps logs and witnesses within one
 * fk_note_verify call each (FK_NOTE_MAX_VERIFIERS) and node indices in a byte. */
#define FK_TLOG_POLICY_MAX_LOGS 32
#define FK_TLOG_POLICY_MAX_WITNESSES 32
#define FK_TLOG_POLICY_MAX_GROUPS 32
/* Largest policy file: 96 lines of the longest vkey and URL fit with room
 * for comments; anything bigger is not a policy. */
#define FK_TLOG_POLICY_MAX_SIZE 65536
/* Longest witness or group name: names may be signed-note key names. */
#define FK_TLOG_POLICY_NAME_MAX FK_NOTE_NAME_MAX
/* Longest URL: the log client's URL buffer (512 with its NUL). */
#define FK_TLOG_POLICY_URL_MAX 511
/* fk_tlog_policy.quorum of "quorum none". */
#define FK_TLOG_POLICY_NONE (-1)
/* Group member and quorum numbering: witness i is node i, group j is node
 * FK_TLOG_POLICY_GROUP_BASE + j. */
#define FK_TLOG_POLICY_GROUP_BASE FK_TLOG_POLICY_MAX_WITNESSES

typedef struct fk_tlog_policy_group {
    char name[FK_TLOG_POLICY_NAME_MAX + 1];   /* NUL-terminated (names hold no NUL) */
    size_t name_len;
    unsigned threshold;                       /* 1 .. nmembers ("any" 1, "all" nmembers) */
    unsigned nmembers;
    uint8_t member[FK_TLOG_POLICY_MAX_WITNESSES + FK_TLOG_POLICY_MAX_GROUPS]; /* node numbers */
} fk_tlog_policy_group;

typedef struct fk_tlog_policy {
    size_t nlogs;
    fk_note_verifier logs[FK_TLOG_POLICY_MAX_LOGS];           /* alg FK_NOTE_ALG_ED25519 */
    char log_url[FK_TLOG_POLICY_MAX_LOGS][FK_TLOG_POLICY_URL_MAX + 1];  /* "" if none */
    size_t nwitnesses;
    fk_note_verifier witnesses[FK_TLOG_POLICY_MAX_WITNESSES]; /* alg FK_NOTE_ALG_COSIG_V1 */
    char witness_name[FK_TLOG_POLICY_MAX_WITNESSES][FK_TLOG_POLICY_NAME_MAX + 1];
    size_t witness_name_len[FK_TLOG_POLICY_MAX_WITNESSES];
    char witness_url[FK_TLOG_POLICY_MAX_WITNESSES][FK_TLOG_POLICY_URL_MAX + 1];
    size_t ngroups;
    fk_tlog_policy_group groups[FK_TLOG_POLICY_MAX_GROUPS];
    int quorum;                               /* node number or FK_TLOG_POLICY_NONE */
} fk_tlog_policy;

/*
 * Parse a policy file (C2SP tlog-policy): "log <vkey> [<url>]",
 * "witness <name> <vkey> [<url>]", "group <name> all|any|<k> <name>...",
 * exactly one "quorum <name>|none"; blank and '#' comment lines; items
 * separated by spaces and tabs; every line ends in '\n'; octets 0x09, 0x0A,
 * 0x20-0x7E and 0x80-0xFF only (names are opaque octet strings).
 * Rejected (FK_ERR_INVALID): unknown keywords, missing or extra items, a
 * log key that is not type 0x01 or a witness key not type 0x04, the same
 * public key twice (among logs, among witnesses, or as log and witness), a
 * name defined twice or named "none", a member or quorum name not defined
 * on an earlier line, "none" as a member, a member listed twice, a
 * threshold outside 1..n or not canonical decimal, no quorum line or two.
 * FK_ERR_UNSUPPORTED for a vkey type fairkey cannot verify (ML-DSA-44);
 * FK_ERR_LIMIT past a FK_TLOG_POLICY_* limit.  line (may be NULL) gets the
 * 1-based number of the line at fault (0: the file as a whole).  On
 * failure *p is zeroed.
 */
fk_err fk_tlog_policy_parse(fk_tlog_policy *p, const char *text, size_t len, size_t *line);
/* The policy of a log without witnesses: that one log, "quorum none".
 * FK_ERR_INVALID unless log is an Ed25519 (0x01) key.  Callers holding just
 * a log key go through the same checks as those with a policy file. */
fk_err fk_tlog_policy_from_log(fk_tlog_policy *p, const fk_note_verifier *log);
/* Add a log known from context (the spec lets a policy list none).  Same
 * checks as a log line; FK_ERR_LIMIT when full. */
fk_err fk_tlog_policy_add_log(fk_tlog_policy *p, const fk_note_verifier *log);
/* Index of the log with this key (same name, key ID and public key), or
 * FK_ERR_NOT_FOUND. */
fk_err fk_tlog_policy_find_log(const fk_tlog_policy *p, const fk_note_verifier *log, size_t *index);

/* Witness quorum of a parsed note whose log signature the caller checked
 * (fk_tlog_proof_verify): FK_OK if the cosignatures that verify satisfy
 * the quorum, FK_ERR_POLICY if they do not, FK_ERR_SIGNATURE if a line
 * carrying a policy witness's name and key ID does not verify (signed-note
 * rejects such a note).  witnessed (may be NULL) gets bit i set when
 * witness i cosigned.  Cosignature timestamps are not judged. */
fk_err fk_tlog_policy_quorum(const fk_tlog_policy *p, const fk_note *n, uint64_t *witnessed);
/* The quorum counting only cosignatures made at or after not_before (POSIX
 * seconds, their tlog-cosignature timestamp): the checkpoint was the latest
 * one each of those witnesses had seen at some time since not_before, so a
 * replayed old view fails unless a quorum of witnesses colludes.  Same errors
 * as fk_tlog_policy_quorum; witnessed (may be NULL) as there; fresh (may be
 * NULL) gets the bits of the witnesses whose cosignature is that recent;
 * newest (may be NULL) the newest timestamp among the verified cosignatures
 * of policy witnesses (0 if none).  "quorum none" is always met. */
fk_err fk_tlog_policy_quorum_since(const fk_tlog_policy *p, const fk_note *n, uint64_t not_before,
                                   uint64_t *witnessed, uint64_t *fresh, uint64_t *newest);

/* Check a signed checkpoint against the policy: signed by one of its logs
 * whose key name is the checkpoint's origin, and cosigned per the quorum.
 * FK_ERR_SIGNATURE: no policy log signed it (or a known key's line is bad);
 * FK_ERR_INVALID: malformed, or signed by a log whose name is not the
 * origin; FK_ERR_POLICY: quorum not met.  cp and note (each may be NULL)
 * get the checkpoint and the parsed note (both point into buf). */
fk_err fk_tlog_policy_check(const fk_tlog_policy *p, const char *buf, size_t len, fk_checkpoint *cp,
                            fk_note *note);

#ifdef __cplusplus
}
#endif
#endif
