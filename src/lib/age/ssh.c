/*
 * SSH keys as age recipients and identities: the ssh-ed25519 and ssh-rsa
 * recipient types of age's reference implementation (agessh), which the C2SP
 * age spec leaves to it.  docs/age.md "SSH keys" gives the exact stanzas:
 *
 *   tag    = base64(SHA-256(SSH wire public key)[:4])
 *   ssh-rsa:     "-> ssh-rsa tag", body RSA-OAEP(SHA-256, MGF1-SHA-256,
 *                label "age-encryption.org/v1/ssh-rsa", file key)
 *   ssh-ed25519: "-> ssh-ed25519 tag share", X25519 against the Montgomery
 *                form of the Ed25519 key, the shared secret multiplied by
 *                tweak = HKDF-SHA-256(ikm "", salt wire key, info label),
 *                wrap key = HKDF-SHA-256(shared, share || X25519 key, label)
 *
 * Ed25519 to X25519 is libsodium's conversion; X25519, HKDF, RSA-OAEP and
 * the PEM/DER decoders are OpenSSL's.  The only parser written here is the
 * SSH wire format (strings, mpints) and the openssh-key-v1 container.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "age/internal.h"

#define ED_TYPE        "ssh-ed25519"
#define RSA_TYPE       "ssh-rsa"
#define ED_LABEL       "age-encryption.org/v1/ssh-ed25519"
#define RSA_LABEL      "age-encryption.org/v1/ssh-rsa"
#define TAG_LEN        4
#define TAG_B64_LEN    6
#define ED_WRAPPED_LEN (FK_AGE_FILE_KEY_LEN + FK_AGE_TAG_LEN)
/* SSH wire ed25519 public key: string "ssh-ed25519", string pk[32]. */
#define ED_WIRE_LEN (4 + 11 + 4 + 32)
/* An RSA public key's wire form at the largest modulus: two length
 * prefixes, the type, e (at most 3 bytes + sign) and n. */
#define RSA_WIRE_MAX  (4 + 7 + 4 + 4 + 4 + 1 + FK_SSH_RSA_MAX_BITS / 8)
#define OPENSSH_MAGIC "openssh-key-v1"

typedef struct ssh_key {
    int rsa;                   /* 0: ssh-ed25519 */
    char tag[TAG_B64_LEN + 1]; /* the stanza's first argument */
    uint8_t *wire;             /* the public key, SSH wire form */
    size_t wire_len;
    uint8_t xpk[32]; /* ed25519: Montgomery form of the public key */
    uint8_t xsk[32]; /* ed25519 identity: the X25519 scalar */
    int has_secret;
    EVP_PKEY *pkey; /* rsa: the public (recipient) or private key */
} ssh_key;

static void why_set(const char **why, const char *msg)
{
    if (why)
        *why = msg;
}

static void key_free(ssh_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k->wire);
    fk_wipe(k, sizeof *k);
    free(k);
}

/* ---- the SSH wire format (RFC 4251 section 5) ----------------------------- */

typedef struct rd {
    const uint8_t *p;
    size_t n;
} rd;

static int rd_u32(rd *r, uint32_t *v)
{
    if (r->n < 4)
        return -1;
    *v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    r->n -= 4;
    return 0;
}

static int rd_string(rd *r, const uint8_t **s, size_t *len)
{
    uint32_t l;
    if (rd_u32(r, &l) < 0 || l > r->n)
        return -1;
    *s = r->p;
    *len = l;
    r->p += l;
    r->n -= l;
    return 0;
}

static int rd_string_is(rd *r, const char *want)
{
    const uint8_t *s;
    size_t l;
    return rd_string(r, &s, &l) == 0 && l == strlen(want) && memcmp(s, want, l) == 0 ? 0 : -1;
}

/* An mpint that must be positive (or zero); leading zero bytes are dropped,
 * so *s is the minimal big-endian magnitude. */
static int rd_mpint(rd *r, const uint8_t **s, size_t *len)
{
    if (rd_string(r, s, len) < 0 || (*len && (*s)[0] & 0x80))
        return -1;
    while (*len && (*s)[0] == 0) {
        (*s)++;
        (*len)--;
    }
    return 0;
}

static uint8_t *wr_u32(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

static uint8_t *wr_string(uint8_t *p, const void *s, size_t len)
{
    p = wr_u32(p, len);
    memcpy(p, s, len);
    return p + len;
}

/* A positive mpint from a minimal magnitude: a zero byte in front when the
 * top bit is set, as OpenSSH and Go write it. */
static uint8_t *wr_mpint(uint8_t *p, const uint8_t *mag, size_t len)
{
    int pad = len && mag[0] & 0x80;
    p = wr_u32(p, len + (size_t)pad);
    if (pad)
        *p++ = 0;
    memcpy(p, mag, len);
    return p + len;
}

/* ---- keys -------------------------------------------------------------- */

static fk_err set_tag(ssh_key *k)
{
    uint8_t h[32];
    unsigned int hl = 0;
    if (EVP_Digest(k->wire, k->wire_len, h, &hl, EVP_sha256(), NULL) != 1 || hl != 32)
        return FK_ERR_CRYPTO;
    fk_b64_encode(k->tag, h, TAG_LEN);
    return FK_OK;
}

/* Fill k (wire form, tag, X25519 public key) for an Ed25519 public key. */
static fk_err ed_public(ssh_key *k, const uint8_t pk[32], const char **why)
{
    uint8_t *p;
    if (crypto_sign_ed25519_pk_to_curve25519(k->xpk, pk) != 0) {
        why_set(why, "the Ed25519 public key is not a valid point");
        return FK_ERR_INVALID;
    }
    if (!(k->wire = malloc(ED_WIRE_LEN)))
        return FK_ERR_NOMEM;
    p = wr_string(k->wire, ED_TYPE, strlen(ED_TYPE));
    wr_string(p, pk, 32);
    k->wire_len = ED_WIRE_LEN;
    return set_tag(k);
}

static BIGNUM *bn_of(const uint8_t *mag, size_t len)
{
    return BN_bin2bn(mag, (int)len, NULL);
}

/* The checks Go's x/crypto/ssh and age make of an RSA public key: e odd,
 * 3 <= e < 2^24; the modulus FK_SSH_RSA_MIN_BITS..FK_SSH_RSA_MAX_BITS. */
static fk_err rsa_check(const uint8_t *e, size_t elen, const uint8_t *n, size_t nlen,
                        const char **why)
{
    uint32_t ev = 0;
    int bits;
    if (elen == 0 || elen > 3 || nlen == 0) {
        why_set(why, elen > 3 ? "the RSA exponent is too large" : "the RSA key is malformed");
        return FK_ERR_INVALID;
    }
    for (size_t i = 0; i < elen; i++)
        ev = ev << 8 | e[i];
    if (ev < 3 || !(ev & 1)) {
        why_set(why, "the RSA exponent is invalid");
        return FK_ERR_INVALID;
    }
    bits = (int)nlen * 8;
    for (uint8_t top = n[0]; !(top & 0x80); top <<= 1)
        bits--;
    /* age measures the modulus in whole bytes: 2041 bits pass, as there. */
    if (nlen * 8 < FK_SSH_RSA_MIN_BITS) {
        why_set(why, "the RSA key is shorter than 2048 bits, which age refuses");
        return FK_ERR_LIMIT;
    }
    if (bits > FK_SSH_RSA_MAX_BITS) {
        why_set(why, "the RSA key is longer than 16384 bits");
        return FK_ERR_LIMIT;
    }
    if (!(n[nlen - 1] & 1)) {
        why_set(why, "the RSA modulus is even");
        return FK_ERR_INVALID;
    }
    return FK_OK;
}

/* The canonical wire form of an RSA public key. */
static fk_err rsa_wire(ssh_key *k, const uint8_t *e, size_t elen, const uint8_t *n, size_t nlen)
{
    uint8_t *p;
    if (!(k->wire = malloc(4 + strlen(RSA_TYPE) + 4 + 1 + elen + 4 + 1 + nlen)))
        return FK_ERR_NOMEM;
    p = wr_string(k->wire, RSA_TYPE, strlen(RSA_TYPE));
    p = wr_mpint(p, e, elen);
    p = wr_mpint(p, n, nlen);
    k->wire_len = (size_t)(p - k->wire);
    return set_tag(k);
}

/* params: N and E, and for a private key D, the factors, their exponents
 * and the coefficient (NULL for a public key). */
static fk_err rsa_pkey(EVP_PKEY **out, BIGNUM *const *bn, int priv)
{
    static const char *const names[] = {
        OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
        OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
        OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
        OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    fk_err err = FK_ERR_CRYPTO;
    size_t n = priv ? 8 : 2, i;

    for (i = 0; bld && i < n; i++)
        if (OSSL_PARAM_BLD_push_BN(bld, names[i], bn[i]) != 1)
            break;
    if (bld && ctx && i == n && (params = OSSL_PARAM_BLD_to_param(bld)) &&
        EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, out, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) == 1)
        err = FK_OK;
    /* The builder put secure BIGNUMs (every secret here) in a block that
     * OSSL_PARAM_free clears. */
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return err;
}

static fk_err rsa_public(ssh_key *k, const uint8_t *e, size_t elen, const uint8_t *n, size_t nlen,
                         const char **why)
{
    BIGNUM *bn[2] = {bn_of(n, nlen), bn_of(e, elen)};
    fk_err err = rsa_check(e, elen, n, nlen, why);
    k->rsa = 1;
    if (err == FK_OK && (!bn[0] || !bn[1]))
        err = FK_ERR_NOMEM;
    if (err == FK_OK)
        err = rsa_pkey(&k->pkey, bn, 0);
    if (err == FK_OK)
        err = rsa_wire(k, e, elen, n, nlen);
    BN_free(bn[0]);
    BN_free(bn[1]);
    return err;
}

/* ---- recipients -------------------------------------------------------- */

static fk_err ed_wrap(const ssh_key *k, const uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                      fk_stanza *out);
static fk_err rsa_wrap(const ssh_key *k, const uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                       fk_stanza *out);

static fk_err ssh_wrap(const fk_recipient *r, const uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                       fk_stanza *out)
{
    const ssh_key *k = r->state;
    return k->rsa ? rsa_wrap(k, file_key, out) : ed_wrap(k, file_key, out);
}

static void ssh_destroy_r(fk_recipient *r)
{
    key_free(r->state);
    r->state = NULL;
}

static const fk_recipient_ops ed_rcpt_ops = {"ssh-ed25519", 0, ssh_wrap, ssh_destroy_r};
static const fk_recipient_ops rsa_rcpt_ops = {"ssh-rsa", 0, ssh_wrap, ssh_destroy_r};

static fk_err recipient_of(fk_recipient **out, ssh_key *k)
{
    fk_recipient *r = malloc(sizeof *r);
    if (!r) {
        key_free(k);
        return FK_ERR_NOMEM;
    }
    r->ops = k->rsa ? &rsa_rcpt_ops : &ed_rcpt_ops;
    r->state = k;
    *out = r;
    return FK_OK;
}

/* Parse an SSH wire public key of type `type` into k. */
static fk_err parse_wire_public(ssh_key *k, const uint8_t *blob, size_t len, const char **why)
{
    rd r = {blob, len};
    const uint8_t *t, *a, *b;
    size_t tl, al, bl;
    if (rd_string(&r, &t, &tl) < 0) {
        why_set(why, "the key data is truncated");
        return FK_ERR_INVALID;
    }
    if (tl == strlen(ED_TYPE) && !memcmp(t, ED_TYPE, tl)) {
        if (rd_string(&r, &a, &al) < 0 || al != 32 || r.n != 0) {
            why_set(why, "the ssh-ed25519 key data is malformed");
            return FK_ERR_INVALID;
        }
        return ed_public(k, a, why);
    }
    if (tl == strlen(RSA_TYPE) && !memcmp(t, RSA_TYPE, tl)) {
        if (rd_mpint(&r, &a, &al) < 0 || rd_mpint(&r, &b, &bl) < 0 || r.n != 0) {
            why_set(why, "the ssh-rsa key data is malformed");
            return FK_ERR_INVALID;
        }
        return rsa_public(k, a, al, b, bl, why);
    }
    why_set(why,
            "SSH keys of this type cannot be age recipients (age uses ssh-ed25519 and ssh-rsa)");
    return FK_ERR_UNSUPPORTED;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Key types OpenSSH writes that age does not use: a well-formed line of one
 * of them is "unsupported", not "malformed" (age skips them in recipients
 * files with a warning). */
static int other_ssh_type(const char *t, size_t len)
{
    static const char *const prefixes[] = {"ssh-dss", "ecdsa-sha2-", "sk-ssh-ed25519@openssh.com",
                                           "sk-ecdsa-sha2-", "ssh-ed448"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (len >= strlen(prefixes[i]) && !memcmp(t, prefixes[i], strlen(prefixes[i])))
            return 1;
    return 0;
}

fk_err fk_ssh_recipient_parse(fk_recipient **out, const char *s, const char **why)
{
    const char *type, *b64;
    size_t tlen, blen, cap, got = 0;
    uint8_t *blob;
    ssh_key *k;
    fk_err err;

    if (!out || !s)
        abort();
    while (is_blank(*s))
        s++;
    type = s;
    tlen = strcspn(s, " \t");
    s += tlen;
    while (is_blank(*s))
        s++;
    b64 = s;
    blen = strcspn(s, " \t"); /* the rest, if any, is a comment */
    if (tlen == 0 || blen == 0) {
        why_set(why, "an SSH public key line is 'TYPE BASE64 [COMMENT]'");
        return FK_ERR_INVALID;
    }
    if (!(tlen == strlen(ED_TYPE) && !memcmp(type, ED_TYPE, tlen)) &&
        !(tlen == strlen(RSA_TYPE) && !memcmp(type, RSA_TYPE, tlen))) {
        if (other_ssh_type(type, tlen)) {
            why_set(why, "SSH keys of this type cannot be age recipients (age uses ssh-ed25519 and "
                         "ssh-rsa)");
            return FK_ERR_UNSUPPORTED;
        }
        why_set(why, "not an SSH public key type");
        return FK_ERR_INVALID;
    }
    if (blen > FK_SSH_PUBLIC_B64_MAX) {
        why_set(why, "the key data is too long");
        return FK_ERR_LIMIT;
    }
    cap = blen / 4 * 3;
    if (!(blob = malloc(cap ? cap : 1)))
        return FK_ERR_NOMEM;
    if (fk_b64_decode_padded(blob, cap, &got, b64, blen) != FK_OK) {
        free(blob);
        why_set(why, "the key data is not valid base64");
        return FK_ERR_INVALID;
    }
    /* The wire form names its type again; it must be the one written. */
    if (got < 4 + tlen || blob[0] || blob[1] || blob[2] || blob[3] != tlen ||
        memcmp(blob + 4, type, tlen) != 0) {
        free(blob);
        why_set(why, "the key data's type differs from the type written before it");
        return FK_ERR_INVALID;
    }
    if (!(k = calloc(1, sizeof *k))) {
        free(blob);
        return FK_ERR_NOMEM;
    }
    err = parse_wire_public(k, blob, got, why);
    free(blob);
    if (err != FK_OK) {
        key_free(k);
        return err;
    }
    return recipient_of(out, k);
}

/* ---- ssh-ed25519 ----------------------------------------------------------- */

/* The shared secret of the stanza: X25519(scalar, point), then multiplied by
 * the key's tweak, then the wrap key. */
static fk_err ed_wrap_key(uint8_t key[32], const ssh_key *k, const uint8_t scalar[32],
                          const uint8_t point[32], const uint8_t share[32])
{
    uint8_t shared[32], tweak[32], tweaked[32], salt[64];
    fk_err err;
    if ((err = fki_x25519(shared, scalar, point)) == FK_OK &&
        (err = fki_hkdf_sha256(tweak, 32, (const uint8_t *)"", 0, k->wire, k->wire_len,
                               ED_LABEL)) == FK_OK &&
        (err = fki_x25519(tweaked, tweak, shared)) == FK_OK) {
        memcpy(salt, share, 32);
        memcpy(salt + 32, k->xpk, 32);
        err = fki_hkdf_sha256(key, 32, tweaked, 32, salt, sizeof salt, ED_LABEL);
    }
    fk_wipe(shared, sizeof shared);
    fk_wipe(tweak, sizeof tweak);
    fk_wipe(tweaked, sizeof tweaked);
    return err;
}

static fk_err ed_wrap(const ssh_key *k, const uint8_t file_key[FK_AGE_FILE_KEY_LEN], fk_stanza *out)
{
    uint8_t eph[32], share[32], key[32], body[ED_WRAPPED_LEN];
    char share_b64[44];
    const char *args[3] = {ED_TYPE, k->tag, share_b64};
    fk_err err;

    if ((err = fk_random(eph, sizeof eph)) == FK_OK &&
        (err = fki_x25519_base(share, eph)) == FK_OK &&
        (err = ed_wrap_key(key, k, eph, k->xpk, share)) == FK_OK &&
        (err = fki_aead_seal0(body, key, file_key, FK_AGE_FILE_KEY_LEN)) == FK_OK) {
        fk_b64_encode(share_b64, share, sizeof share);
        err = fk_stanza_init(out, args, 3, body, sizeof body);
    }
    fk_wipe(eph, sizeof eph);
    fk_wipe(key, sizeof key);
    return err;
}

/* As age: a malformed stanza of the type is an error whatever its tag; a
 * stanza with our tag that does not open is an error too (only a damaged or
 * forged file has one), not a reason to try the next. */
static fk_err ed_unwrap(const ssh_key *k, const fk_header *h, uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    for (size_t i = 0; i < h->nstanzas; i++) {
        const fk_stanza *s = &h->stanzas[i];
        uint8_t share[32], key[32];
        fk_err err;
        if (strcmp(s->args[0], ED_TYPE) != 0)
            continue;
        if (s->nargs != 3 || fki_arg_b64(share, sizeof share, s->args[2]) != FK_OK)
            return FK_ERR_HEADER;
        if (strcmp(s->args[1], k->tag) != 0)
            continue;
        if (s->body_len != ED_WRAPPED_LEN)
            return FK_ERR_HEADER;
        if (ed_wrap_key(key, k, k->xsk, share, share) != FK_OK)
            return FK_ERR_HEADER; /* a low-order share */
        err = fki_open_file_key(file_key, key, s->body, s->body_len);
        fk_wipe(key, sizeof key);
        return err == FK_ERR_NO_MATCH ? FK_ERR_HEADER : err;
    }
    return FK_ERR_NO_MATCH;
}

/* ---- ssh-rsa ------------------------------------------------------------- */

static EVP_PKEY_CTX *oaep_ctx(EVP_PKEY *pkey, int enc)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    unsigned char *label = OPENSSL_memdup(RSA_LABEL, strlen(RSA_LABEL));
    if (ctx && label && (enc ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 &&
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
        EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, (int)strlen(RSA_LABEL)) == 1)
        return ctx; /* the label belongs to ctx now */
    OPENSSL_free(label);
    EVP_PKEY_CTX_free(ctx);
    return NULL;
}

static fk_err rsa_wrap(const ssh_key *k, const uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                       fk_stanza *out)
{
    EVP_PKEY_CTX *ctx = oaep_ctx(k->pkey, 1);
    size_t len = (size_t)EVP_PKEY_get_size(k->pkey);
    uint8_t *body = malloc(len);
    const char *args[2] = {RSA_TYPE, k->tag};
    fk_err err = FK_ERR_CRYPTO;
    if (!body)
        err = FK_ERR_NOMEM;
    else if (ctx && EVP_PKEY_encrypt(ctx, body, &len, file_key, FK_AGE_FILE_KEY_LEN) == 1)
        err = fk_stanza_init(out, args, 2, body, len);
    free(body);
    EVP_PKEY_CTX_free(ctx);
    return err;
}

static fk_err rsa_unwrap(const ssh_key *k, const fk_header *h,
                         uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    for (size_t i = 0; i < h->nstanzas; i++) {
        const fk_stanza *s = &h->stanzas[i];
        if (strcmp(s->args[0], RSA_TYPE) != 0)
            continue;
        if (s->nargs != 2)
            return FK_ERR_HEADER;
        if (strcmp(s->args[1], k->tag) != 0)
            continue;
        size_t cap = (size_t)EVP_PKEY_get_size(k->pkey), len = cap;
        uint8_t *pt = malloc(cap);
        EVP_PKEY_CTX *ctx = oaep_ctx(k->pkey, 0);
        fk_err err = FK_ERR_HEADER;
        if (!pt || !ctx)
            err = pt ? FK_ERR_CRYPTO : FK_ERR_NOMEM;
        else if (EVP_PKEY_decrypt(ctx, pt, &len, s->body, s->body_len) == 1 &&
                 len == FK_AGE_FILE_KEY_LEN) {
            memcpy(file_key, pt, FK_AGE_FILE_KEY_LEN);
            err = FK_OK;
        }
        if (pt) {
            fk_wipe(pt, cap);
            free(pt);
        }
        EVP_PKEY_CTX_free(ctx);
        return err;
    }
    return FK_ERR_NO_MATCH;
}

/* ---- identities -------------------------------------------------------- */

static fk_err ssh_unwrap(const fk_identity *id, const fk_header *h,
                         uint8_t file_key[FK_AGE_FILE_KEY_LEN])
{
    const ssh_key *k = id->state;
    return k->rsa ? rsa_unwrap(k, h, file_key) : ed_unwrap(k, h, file_key);
}

static void ssh_destroy_i(fk_identity *id)
{
    key_free(id->state);
    id->state = NULL;
}

static const fk_identity_ops ed_id_ops = {"ssh-ed25519", ssh_unwrap, ssh_destroy_i};
static const fk_identity_ops rsa_id_ops = {"ssh-rsa", ssh_unwrap, ssh_destroy_i};

/* Fill k from an Ed25519 seed, checking the public key the file states
 * (pk_stated, may be NULL) against the one the seed gives. */
static fk_err ed_private(ssh_key *k, const uint8_t seed[32], const uint8_t *pk_stated,
                         const char **why)
{
    uint8_t pk[32], sk[64];
    fk_err err = FK_OK;
    if (crypto_sign_ed25519_seed_keypair(pk, sk, seed) != 0)
        err = FK_ERR_CRYPTO;
    else if (pk_stated && !fk_ct_eq(pk, pk_stated, 32)) {
        why_set(why, "the Ed25519 public key does not match the private key");
        err = FK_ERR_INVALID;
    } else if (crypto_sign_ed25519_sk_to_curve25519(k->xsk, sk) != 0)
        err = FK_ERR_CRYPTO;
    else
        err = ed_public(k, pk, why);
    k->has_secret = err == FK_OK;
    fk_wipe(sk, sizeof sk);
    return err;
}

/* An RSA key pair must be consistent before it is trusted to decrypt. */
static fk_err rsa_private_done(ssh_key *k, const char **why)
{
    BIGNUM *n = NULL, *e = NULL;
    uint8_t *nb = NULL, eb[8];
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    fk_err err = FK_ERR_CRYPTO;
    int nl, el;
    k->rsa = 1;
    if (!ctx || EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
        goto out;
    nl = BN_num_bytes(n);
    el = BN_num_bytes(e);
    if (el > (int)sizeof eb || nl > FK_SSH_RSA_MAX_BITS / 8 + 1) {
        why_set(why, el > (int)sizeof eb ? "the RSA exponent is too large"
                                         : "the RSA key is longer than 16384 bits");
        err = el > (int)sizeof eb ? FK_ERR_INVALID : FK_ERR_LIMIT;
        goto out;
    }
    if (!(nb = malloc((size_t)nl + 1))) {
        err = FK_ERR_NOMEM;
        goto out;
    }
    BN_bn2bin(n, nb);
    BN_bn2bin(e, eb);
    if ((err = rsa_check(eb, (size_t)el, nb, (size_t)nl, why)) != FK_OK)
        goto out;
    if (EVP_PKEY_pairwise_check(ctx) != 1) {
        why_set(why, "the RSA private key is inconsistent");
        err = FK_ERR_INVALID;
        goto out;
    }
    err = rsa_wire(k, eb, (size_t)el, nb, (size_t)nl);
    k->has_secret = err == FK_OK;
out:
    free(nb);
    BN_free(n);
    BN_free(e);
    EVP_PKEY_CTX_free(ctx);
    return err;
}

/* openssh-key-v1's RSA private part: n, e, d, iqmp, p, q (the CRT exponents
 * are not stored; d mod p-1 and d mod q-1 give them). */
static fk_err rsa_openssh(ssh_key *k, rd *r, const char **why)
{
    static const int order[6] = {0, 1, 2, 7, 3, 4}; /* file order -> rsa_pkey's */
    BIGNUM *bn[8] = {0};
    BN_CTX *bctx = BN_CTX_new();
    BIGNUM *t = BN_new();
    fk_err err = FK_ERR_NOMEM;
    int i;
    k->rsa = 1;
    if (!bctx || !t)
        goto out;
    for (i = 0; i < 6; i++) {
        const uint8_t *m;
        size_t ml;
        if (rd_mpint(r, &m, &ml) < 0 || ml > FK_SSH_RSA_MAX_BITS / 8) {
            why_set(why, "the RSA private key is malformed");
            err = FK_ERR_INVALID;
            goto out;
        }
        if (!(bn[order[i]] = i >= 2 ? BN_secure_new() : BN_new()) ||
            !BN_bin2bn(m, (int)ml, bn[order[i]]))
            goto out;
    }
    BN_set_flags(bn[2], BN_FLG_CONSTTIME);
    if (BN_is_zero(bn[3]) || BN_is_zero(bn[4]) || !(bn[5] = BN_secure_new()) ||
        !(bn[6] = BN_secure_new()) || !BN_sub(t, bn[3], BN_value_one()) ||
        !BN_mod(bn[5], bn[2], t, bctx) || !BN_sub(t, bn[4], BN_value_one()) ||
        !BN_mod(bn[6], bn[2], t, bctx)) {
        why_set(why, "the RSA private key is malformed");
        err = FK_ERR_INVALID;
        goto out;
    }
    if ((err = rsa_pkey(&k->pkey, bn, 1)) != FK_OK) {
        why_set(why, "the RSA private key is malformed");
        err = FK_ERR_INVALID;
        goto out;
    }
    err = FK_OK;
out:
    for (i = 0; i < 8; i++)
        BN_clear_free(bn[i]);
    BN_free(t);
    BN_CTX_free(bctx);
    return err;
}

/* The openssh-key-v1 container (OpenSSH's PROTOCOL.key), unencrypted, one
 * key.  The whole private section is checked: both check words, the key,
 * the comment and the padding 1, 2, 3, ... */
static fk_err parse_openssh(ssh_key *k, const uint8_t *b, size_t len, const char **why)
{
    rd r = {b, len}, priv;
    const uint8_t *cipher, *kdf, *opts, *pub, *sec, *tp, *x, *y;
    size_t cl, kl, ol, pl, sl, tl, xl, yl;
    uint32_t nkeys, c1, c2;
    fk_err err;

    why_set(why, "the OpenSSH private key is malformed");
    if (len < sizeof OPENSSH_MAGIC || memcmp(b, OPENSSH_MAGIC, sizeof OPENSSH_MAGIC) != 0)
        return FK_ERR_INVALID;
    r.p += sizeof OPENSSH_MAGIC;
    r.n -= sizeof OPENSSH_MAGIC;
    if (rd_string(&r, &cipher, &cl) < 0 || rd_string(&r, &kdf, &kl) < 0 ||
        rd_string(&r, &opts, &ol) < 0 || rd_u32(&r, &nkeys) < 0)
        return FK_ERR_INVALID;
    if (!(cl == 4 && !memcmp(cipher, "none", 4))) {
        why_set(why, "the OpenSSH key is passphrase-protected (bcrypt-pbkdf), which this build "
                     "cannot decrypt; remove the passphrase from a copy with "
                     "'ssh-keygen -p -N \"\" -f COPY'");
        return FK_ERR_UNSUPPORTED;
    }
    if (!(kl == 4 && !memcmp(kdf, "none", 4)) || ol != 0 || nkeys != 1)
        return FK_ERR_INVALID;
    if (rd_string(&r, &pub, &pl) < 0 || rd_string(&r, &sec, &sl) < 0 || r.n != 0 || sl % 8)
        return FK_ERR_INVALID;
    priv.p = sec;
    priv.n = sl;
    if (rd_u32(&priv, &c1) < 0 || rd_u32(&priv, &c2) < 0 || c1 != c2 ||
        rd_string(&priv, &tp, &tl) < 0)
        return FK_ERR_INVALID;
    /* The public key in front must be of the same type as the private one. */
    {
        rd pr = {pub, pl};
        const uint8_t *pt;
        size_t ptl;
        if (rd_string(&pr, &pt, &ptl) < 0 || ptl != tl || memcmp(pt, tp, tl) != 0)
            return FK_ERR_INVALID;
    }
    if (tl == strlen(ED_TYPE) && !memcmp(tp, ED_TYPE, tl)) {
        rd pr = {pub, pl};
        const uint8_t *ppk;
        size_t ppl;
        if (rd_string(&priv, &x, &xl) < 0 || xl != 32 || rd_string(&priv, &y, &yl) < 0 ||
            yl != 64 || memcmp(y + 32, x, 32) != 0 || rd_string_is(&pr, ED_TYPE) < 0 ||
            rd_string(&pr, &ppk, &ppl) < 0 || ppl != 32 || pr.n != 0 || memcmp(ppk, x, 32) != 0)
            return FK_ERR_INVALID;
        if ((err = ed_private(k, y, x, why)) != FK_OK)
            return err;
    } else if (tl == strlen(RSA_TYPE) && !memcmp(tp, RSA_TYPE, tl)) {
        if ((err = rsa_openssh(k, &priv, why)) != FK_OK)
            return err;
    } else {
        why_set(why, "only ssh-ed25519 and ssh-rsa keys can be age identities");
        return FK_ERR_UNSUPPORTED;
    }
    if (rd_string(&priv, &x, &xl) < 0) /* the comment */
        return FK_ERR_INVALID;
    for (size_t i = 0; i < priv.n; i++)
        if (priv.p[i] != (uint8_t)(i + 1))
            return FK_ERR_INVALID;
    if (priv.n >= 8)
        return FK_ERR_INVALID;
    if (k->rsa && (err = rsa_private_done(k, why)) != FK_OK)
        return err;
    /* An RSA key's stated public key must be the private key's: the same
     * wire form once both are written canonically. */
    if (k->rsa) {
        rd pr = {pub, pl};
        const uint8_t *e, *n;
        size_t el, nl;
        ssh_key stated = {0};
        int same;
        if (rd_string_is(&pr, RSA_TYPE) < 0 || rd_mpint(&pr, &e, &el) < 0 ||
            rd_mpint(&pr, &n, &nl) < 0 || pr.n != 0)
            return FK_ERR_INVALID;
        if ((err = rsa_wire(&stated, e, el, n, nl)) != FK_OK)
            return err;
        same = stated.wire_len == k->wire_len && !memcmp(stated.wire, k->wire, k->wire_len);
        free(stated.wire);
        if (!same) {
            why_set(why, "the RSA public key does not match the private key");
            return FK_ERR_INVALID;
        }
    }
    return FK_OK;
}

/* A PKCS#1 or PKCS#8 key (DER): RSA or Ed25519, as Go's ssh package reads. */
static fk_err parse_der(ssh_key *k, const uint8_t *der, size_t len, const char **why)
{
    const unsigned char *p = der;
    EVP_PKEY *pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
    fk_err err;
    if (!pkey || p != der + len) {
        EVP_PKEY_free(pkey);
        why_set(why, "the PEM private key is malformed");
        return FK_ERR_INVALID;
    }
    if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519) {
        uint8_t seed[32], pk[32];
        size_t sl = sizeof seed, pl = sizeof pk;
        if (EVP_PKEY_get_raw_private_key(pkey, seed, &sl) != 1 || sl != 32 ||
            EVP_PKEY_get_raw_public_key(pkey, pk, &pl) != 1 || pl != 32)
            err = FK_ERR_CRYPTO;
        else
            err = ed_private(k, seed, pk, why);
        fk_wipe(seed, sizeof seed);
        EVP_PKEY_free(pkey);
        return err;
    }
    if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
        k->pkey = pkey;
        return rsa_private_done(k, why);
    }
    EVP_PKEY_free(pkey);
    why_set(why, "only Ed25519 and RSA keys can be age identities");
    return FK_ERR_UNSUPPORTED;
}

fk_err fk_ssh_identity_parse(fk_identity **out, const char *pem, size_t len, const char **why)
{
    BIO *bio;
    char *name = NULL, *hdr = NULL;
    unsigned char *data = NULL;
    long dlen = 0;
    ssh_key *k = NULL;
    fk_identity *id;
    fk_err err;

    if (!out || (!pem && len))
        abort();
    why_set(why, "not a PEM private key");
    if (len > FK_SSH_PRIVATE_MAX || len > INT_MAX) {
        why_set(why, "the file is too large for a private key");
        return FK_ERR_LIMIT;
    }
    if (!(bio = BIO_new_mem_buf(pem, (int)len)))
        return FK_ERR_NOMEM;
    /* PEM_FLAG_SECURE: the decoded key lives in OpenSSL's secure heap when
     * one is set up, and is cleared when freed in any case. */
    if (PEM_read_bio_ex(bio, &name, &hdr, &data, &dlen,
                        PEM_FLAG_SECURE | PEM_FLAG_EAY_COMPATIBLE) != 1) {
        BIO_free(bio);
        return FK_ERR_INVALID;
    }
    BIO_free(bio);
    if (!(k = calloc(1, sizeof *k))) {
        err = FK_ERR_NOMEM;
    } else if (strstr(hdr, "ENCRYPTED") || !strcmp(name, "ENCRYPTED PRIVATE KEY")) {
        why_set(why, "the private key is passphrase-protected, which this build cannot decrypt; "
                     "remove the passphrase from a copy with 'ssh-keygen -p -N \"\" -f COPY'");
        err = FK_ERR_UNSUPPORTED;
    } else if (!strcmp(name, "OPENSSH PRIVATE KEY")) {
        err = parse_openssh(k, data, (size_t)dlen, why);
    } else if (!strcmp(name, "RSA PRIVATE KEY") || !strcmp(name, "PRIVATE KEY")) {
        err = parse_der(k, data, (size_t)dlen, why);
    } else if (strstr(name, "PRIVATE KEY")) {
        why_set(why, "only Ed25519 and RSA keys can be age identities");
        err = FK_ERR_UNSUPPORTED;
    } else {
        err = FK_ERR_INVALID;
    }
    OPENSSL_secure_clear_free(data, (size_t)dlen);
    OPENSSL_secure_free(name);
    OPENSSL_secure_free(hdr);
    id = err == FK_OK ? malloc(sizeof *id) : NULL;
    if (!id) {
        key_free(k);
        return err == FK_OK ? FK_ERR_NOMEM : err;
    }
    why_set(why, NULL);
    id->ops = k->rsa ? &rsa_id_ops : &ed_id_ops;
    id->state = k;
    *out = id;
    return FK_OK;
}

fk_err fk_ssh_identity_recipient(fk_recipient **out, const fk_identity *id)
{
    const ssh_key *src;
    ssh_key *k;
    if (!out || !id)
        abort();
    if (id->ops != &ed_id_ops && id->ops != &rsa_id_ops)
        return FK_ERR_INVALID;
    src = id->state;
    if (!(k = calloc(1, sizeof *k)))
        return FK_ERR_NOMEM;
    k->rsa = src->rsa;
    memcpy(k->tag, src->tag, sizeof k->tag);
    memcpy(k->xpk, src->xpk, sizeof k->xpk);
    if (!(k->wire = malloc(src->wire_len))) {
        key_free(k);
        return FK_ERR_NOMEM;
    }
    memcpy(k->wire, src->wire, src->wire_len);
    k->wire_len = src->wire_len;
    if (src->pkey) {
        /* Encryption needs only the public half; a copy of it, not the pair. */
        BIGNUM *n = NULL, *e = NULL;
        BIGNUM *bn[2];
        fk_err err = FK_ERR_CRYPTO;
        if (EVP_PKEY_get_bn_param(src->pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
            EVP_PKEY_get_bn_param(src->pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1) {
            bn[0] = n;
            bn[1] = e;
            err = rsa_pkey(&k->pkey, bn, 0);
        }
        BN_free(n);
        BN_free(e);
        if (err != FK_OK) {
            key_free(k);
            return err;
        }
    }
    return recipient_of(out, k);
}

int fk_ssh_is_identity(const fk_identity *id)
{
    return id && (id->ops == &ed_id_ops || id->ops == &rsa_id_ops);
}
