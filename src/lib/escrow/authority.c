/*
 * Escrow authorities: the dealer ceremony (Shamir shares with Feldman
 * commitments), the authority id, share checks, and the canonical
 * authority and share file formats (docs/spec.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "escrow/internal.h"

static const char id_domain[] = "fairkey/v1 authority id\n";
static const char authority_magic[] = "fairkey authority v2";
static const char share_magic[] = "fairkey share v1";
#define B64_POINT_LEN 43 /* unpadded base64 of 32 bytes */

int fki_escrow_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n < 1 || n > FK_ESCROW_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* ---- the log policy (docs/spec.md 2.1) ----------------------------------- */

static int url_ok(const char *u)
{
    return (!strncmp(u, "http://", 7) && u[7]) || (!strncmp(u, "https://", 8) && u[8]);
}

/* Canonical policy text: lines of printable ASCII items joined by single
 * spaces, each ending in LF, none blank or a comment; it parses as
 * tlog-policy and lists at least one log, every log with a URL. */
fk_err fki_escrow_policy_check(const char *text, size_t len)
{
    fk_tlog_policy *p;
    fk_err err;

    if (len > FK_ESCROW_POLICY_MAX)
        return FK_ERR_LIMIT;
    if (len == 0 || text[len - 1] != '\n')
        return FK_ERR_INVALID;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        int bol = i == 0 || text[i - 1] == '\n';
        if (c == '\n') {
            if (bol || text[i - 1] == ' ')
                return FK_ERR_INVALID; /* blank line, trailing space */
        } else if (c == ' ') {
            if (bol || text[i - 1] == ' ')
                return FK_ERR_INVALID; /* leading or doubled space */
        } else if (c < 0x21 || c > 0x7e || (bol && c == '#')) {
            return FK_ERR_INVALID; /* control, non-ASCII, comment */
        }
    }
    if (!(p = malloc(sizeof *p)))
        return FK_ERR_NOMEM;
    err = fk_tlog_policy_parse(p, text, len, NULL);
    if (err == FK_OK && p->nlogs == 0)
        err = FK_ERR_INVALID;
    for (size_t i = 0; err == FK_OK && i < p->nlogs; i++)
        if (!url_ok(p->log_url[i]))
            err = FK_ERR_INVALID;
    free(p);
    return err;
}

fk_err fk_escrow_policy_canonical(char *out, size_t cap, size_t *len, const char *text,
                                  size_t text_len)
{
    char *buf;
    size_t o = 0, pos = 0;
    fk_err err;

    if (!out || !len || (!text && text_len))
        abort();
    if (text_len > FK_TLOG_POLICY_MAX_SIZE)
        return FK_ERR_LIMIT;
    if (!(buf = malloc(FK_ESCROW_POLICY_MAX + 1)))
        return FK_ERR_NOMEM;
    err = FK_OK;
    while (err == FK_OK && pos < text_len) {
        const char *l = text + pos, *nl = memchr(l, '\n', text_len - pos);
        size_t ll, i = 0, items = 0;
        if (!nl) {
            err = FK_ERR_INVALID; /* every line ends in LF (tlog-policy) */
            break;
        }
        ll = (size_t)(nl - l);
        pos += ll + 1;
        while (i < ll && (l[i] == ' ' || l[i] == '\t'))
            i++;
        if (i == ll || l[i] == '#')
            continue; /* blank or comment */
        while (i < ll) {
            size_t start = i;
            while (i < ll && l[i] != ' ' && l[i] != '\t')
                i++;
            if (o + (items ? 1 : 0) + (i - start) + 1 > FK_ESCROW_POLICY_MAX) {
                err = FK_ERR_LIMIT;
                break;
            }
            if (items++)
                buf[o++] = ' ';
            memcpy(buf + o, l + start, i - start);
            o += i - start;
            while (i < ll && (l[i] == ' ' || l[i] == '\t'))
                i++;
        }
        if (err == FK_OK)
            buf[o++] = '\n';
    }
    if (err == FK_OK)
        err = fki_escrow_policy_check(buf, o);
    if (err == FK_OK && o + 1 > cap)
        err = FK_ERR_LIMIT;
    if (err == FK_OK) {
        memcpy(out, buf, o);
        out[o] = '\0';
        *len = o;
    }
    free(buf);
    return err;
}

fk_err fk_escrow_authority_policy(fk_tlog_policy *p, const fk_escrow_authority *auth)
{
    if (!p || !auth)
        abort();
    return fk_tlog_policy_parse(p, auth->policy, auth->policy_len, NULL);
}

static fk_err check_params(const char *name, unsigned t, unsigned n)
{
    if (n > FK_ESCROW_MAX_SHARES)
        return FK_ERR_LIMIT;
    if (t < 1 || t > n || !fki_escrow_name_ok(name))
        return FK_ERR_INVALID;
    return FK_OK;
}

fk_err fki_escrow_share_pk(uint8_t out[32], const fk_escrow_authority *auth, unsigned i)
{
    if (i < 1 || i > FK_ESCROW_MAX_SHARES || auth->t < 1 || auth->t > FK_ESCROW_MAX_SHARES)
        return FK_ERR_INVALID;
    return fki_poly_eval_points(out, (const uint8_t *)auth->commit, auth->t, i);
}

/* Check PK_i == sum_j i^j C_j for every i = 1..n at once: with weights
 * rho_i derived from a hash of all the points (Fiat-Shamir, so the file's
 * author cannot choose keys after the weights),
 *     sum_i rho_i PK_i == sum_j (sum_i rho_i i^j) C_j.
 * In a prime-order group a wrong PK_i passes with probability 1/L per hash
 * query.  n + t scalar multiplications instead of the n * t that checking
 * each key by Horner costs (255-of-255: 510 instead of 65,000, seconds). */
static fk_err check_share_keys(const fk_escrow_authority *a)
{
    static const char dst[] = "fairkey/v1 authority share-key check";
    uint8_t seed[64], rho[32], x[32], pw[32], term[32], lhs[32], rhs[32];
    uint8_t tn[4] = { (uint8_t)(a->t >> 8), (uint8_t)a->t, (uint8_t)(a->n >> 8), (uint8_t)a->n };
    uint8_t(*w)[32];
    fk_err err = FK_OK;

    if (a->t < 1 || a->t > a->n || a->n > FK_ESCROW_MAX_SHARES)
        return FK_ERR_INVALID;
    fki_buf sp[3] = { { tn, 4 }, { a->commit, (size_t)a->t * 32 }, { a->share_pk, (size_t)a->n * 32 } };
    if ((err = fki_sha512(seed, sp, 3)) != FK_OK)
        return err;
    if (!(w = calloc(a->t, 32)))
        return FK_ERR_NOMEM;
    memset(lhs, 0, 32);
    for (unsigned i = 1; i <= a->n && err == FK_OK; i++) {
        uint8_t ib[2] = { (uint8_t)(i >> 8), (uint8_t)i };
        fki_buf rp[2] = { { seed, 64 }, { ib, 2 } };
        if ((err = fki_h2s(rho, dst, sizeof dst - 1, rp, 2)) != FK_OK)
            break;
        if ((err = fki_mul(term, rho, a->share_pk[i - 1])) != FK_OK)
            break;
        if ((err = fki_add(lhs, lhs, term)) != FK_OK)
            break;
        /* w_j += rho_i * i^j */
        fki_scalar_from_uint(x, i);
        memcpy(pw, rho, 32);
        for (unsigned j = 0; j < a->t; j++) {
            crypto_core_ristretto255_scalar_add(w[j], w[j], pw);
            crypto_core_ristretto255_scalar_mul(pw, pw, x);
        }
    }
    memset(rhs, 0, 32);
    for (unsigned j = 0; j < a->t && err == FK_OK; j++)
        if ((err = fki_mul(term, w[j], a->commit[j])) == FK_OK)
            err = fki_add(rhs, rhs, term);
    free(w);
    if (err == FK_OK && !fk_ct_eq(lhs, rhs, 32))
        err = FK_ERR_INVALID;
    return err;
}

/* The text of the authority file up to (not including) the "id" line. */
static fk_err authority_body(char *out, size_t cap, size_t *len, const fk_escrow_authority *a)
{
    char rcpt[FK_ESCROW_RECIPIENT_STR_MAX], b64[B64_POINT_LEN + 1];
    size_t o = 0;
    int w;
    fk_err err;

    if (cap == 0)
        return FK_ERR_LIMIT;
    if ((err = fk_escrow_recipient_encode(rcpt, a->pk)) != FK_OK)
        return err;
    FKI_EMIT("%s\nname %s\nthreshold %u\nshares %u\nrecipient %s\n", authority_magic, a->name, a->t,
         a->n, rcpt);
    for (unsigned j = 0; j < a->t; j++) {
        fk_b64_encode(b64, a->commit[j], 32);
        FKI_EMIT("commitment %u %s\n", j, b64);
    }
    for (unsigned i = 1; i <= a->n; i++) {
        fk_b64_encode(b64, a->share_pk[i - 1], 32);
        FKI_EMIT("share-key %u %s\n", i, b64);
    }
    if ((err = fki_write_policy_lines(out, cap, &o, a->policy, a->policy_len)) != FK_OK)
        return err;
    *len = o;
    return FK_OK;
}

fk_err fki_escrow_authority_id(uint8_t id[32], const fk_escrow_authority *auth)
{
    char *text;
    size_t len;
    unsigned int dlen = 0;
    fk_err err;

    if (!(text = malloc(FK_ESCROW_AUTHORITY_TEXT_MAX)))
        return FK_ERR_NOMEM;
    err = authority_body(text, FK_ESCROW_AUTHORITY_TEXT_MAX, &len, auth);
    if (err == FK_OK) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        uint8_t h[32];
        if (!ctx)
            err = FK_ERR_NOMEM;
        else if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
                 EVP_DigestUpdate(ctx, id_domain, sizeof id_domain - 1) != 1 ||
                 EVP_DigestUpdate(ctx, text, len) != 1 || EVP_DigestFinal_ex(ctx, h, &dlen) != 1 ||
                 dlen != 32)
            err = FK_ERR_CRYPTO;
        else
            memcpy(id, h, 32);
        EVP_MD_CTX_free(ctx);
    }
    free(text);
    return err;
}

void fk_escrow_id_hex(char out[FK_ESCROW_ID_HEX_LEN], const uint8_t id[FK_ESCROW_ID_LEN])
{
    fk_hex_encode(out, id, FK_ESCROW_ID_LEN);
}

/* The fields every authority starts from: name, t, n and the policy, all
 * checked; the rest zero. */
static fk_err authority_init(fk_escrow_authority *auth, const char *name, unsigned t, unsigned n,
                             const char *policy, size_t policy_len)
{
    fk_err err;

    if ((err = check_params(name, t, n)) != FK_OK)
        return err;
    if (!policy && policy_len)
        abort();
    if ((err = fki_escrow_policy_check(policy, policy_len)) != FK_OK)
        return err;
    memset(auth, 0, sizeof *auth);
    memcpy(auth->name, name, strlen(name) + 1);
    memcpy(auth->policy, policy, policy_len);
    auth->policy_len = policy_len;
    auth->t = t;
    auth->n = n;
    return FK_OK;
}

fk_err fki_escrow_authority_build(fk_escrow_authority *auth, const char *name, unsigned t,
                                  unsigned n, const char *policy, size_t policy_len,
                                  const uint8_t (*commit)[32])
{
    fk_err err;

    for (unsigned j = 0; j < t && j < FK_ESCROW_MAX_SHARES; j++)
        if (!fki_point_is_valid(commit[j]))
            return FK_ERR_INVALID;
    if ((err = authority_init(auth, name, t, n, policy, policy_len)) != FK_OK)
        return err;
    memcpy(auth->commit, commit, (size_t)t * 32);
    memcpy(auth->pk, auth->commit[0], 32);
    for (unsigned i = 1; i <= n && err == FK_OK; i++)
        if ((err = fki_escrow_share_pk(auth->share_pk[i - 1], auth, i)) == FK_OK &&
            !fki_point_is_valid(auth->share_pk[i - 1]))
            err = FK_ERR_INVALID; /* f(i) = 0: a share no agent could use */
    if (err == FK_OK)
        err = fki_escrow_authority_id(auth->id, auth);
    if (err != FK_OK)
        fk_wipe(auth, sizeof *auth);
    return err;
}

fk_err fki_escrow_deal(fk_escrow_authority *auth, fk_escrow_share *shares, const char *name,
                       unsigned t, unsigned n, const char *policy, size_t policy_len,
                       const uint8_t (*coeffs)[32])
{
    uint8_t si[32];
    fk_err err;

    for (unsigned j = 0; j < t; j++)
        if (!fki_scalar_is_canonical(coeffs[j]))
            return FK_ERR_INVALID;
    if (fki_scalar_is_zero(coeffs[0]))
        return FK_ERR_INVALID;
    if ((err = authority_init(auth, name, t, n, policy, policy_len)) != FK_OK)
        return err;
    for (unsigned j = 0; j < t; j++)
        (void)fki_mul_base(auth->commit[j], coeffs[j]); /* canonical: checked above */
    memcpy(auth->pk, auth->commit[0], 32);
    for (unsigned i = 1; i <= n; i++) {
        fki_poly_eval_scalars(si, coeffs, t, i);
        /* f(i) = 0 happens with probability ~n/L; such a share has no
         * usable public key, so the ceremony is refused (caller retries). */
        if (fki_scalar_is_zero(si)) {
            err = FK_ERR_CRYPTO;
            goto fail;
        }
        (void)fki_mul_base(auth->share_pk[i - 1], si); /* reduced by the scalar ops */
        shares[i - 1].index = i;
        memcpy(shares[i - 1].secret, si, 32);
    }
    if ((err = fki_escrow_authority_id(auth->id, auth)) != FK_OK)
        goto fail;
    for (unsigned i = 0; i < n; i++)
        memcpy(shares[i].authority_id, auth->id, 32);
    fk_wipe(si, sizeof si);
    return FK_OK;
fail:
    fk_wipe(si, sizeof si);
    fk_escrow_share_clear(shares, n);
    fk_wipe(auth, sizeof *auth);
    return err;
}

fk_err fk_escrow_dealer(fk_escrow_authority *auth, fk_escrow_share *shares, const char *name,
                        unsigned t, unsigned n, const char *policy, size_t policy_len)
{
    uint8_t(*coeffs)[32];
    fk_err err;

    if ((err = check_params(name, t, n)) != FK_OK)
        return err;
    if (!policy && policy_len)
        abort();
    if ((err = fki_escrow_policy_check(policy, policy_len)) != FK_OK)
        return err;
    if (sodium_init() < 0)
        return FK_ERR_CRYPTO;
    /* The coefficients (s among them) live only in guarded memory. */
    if (!(coeffs = sodium_malloc((size_t)t * 32)))
        return FK_ERR_NOMEM;
    for (unsigned j = 0; j < t && err == FK_OK; j++)
        err = fki_scalar_random(coeffs[j]);
    if (err == FK_OK)
        err = fki_escrow_deal(auth, shares, name, t, n, policy, policy_len,
                              (const uint8_t(*)[32])coeffs);
    sodium_free(coeffs); /* wipes before unmapping */
    return err;
}

fk_err fk_escrow_share_verify(const fk_escrow_authority *auth, const fk_escrow_share *share)
{
    uint8_t expect[32], got[32];

    if (share->index < 1 || share->index > auth->n)
        return FK_ERR_INVALID;
    if (!fk_ct_eq(share->authority_id, auth->id, 32))
        return FK_ERR_INVALID;
    if (!fki_scalar_is_canonical(share->secret) || fki_scalar_is_zero(share->secret))
        return FK_ERR_INVALID;
    /* share_pk[i-1] == sum_j i^j C_j holds for every authority that the
     * dealer made or fk_escrow_authority_parse accepted. */
    memcpy(expect, auth->share_pk[share->index - 1], 32);
    if (fki_mul_base(got, share->secret) != FK_OK)
        return FK_ERR_INVALID;
    return fk_ct_eq(expect, got, 32) ? FK_OK : FK_ERR_INVALID;
}

fk_err fk_escrow_share_alloc(fk_escrow_share **out, size_t n)
{
    fk_escrow_share *p;

    if (n == 0 || n > FK_ESCROW_MAX_SHARES)
        return FK_ERR_INVALID;
    if (sodium_init() < 0)
        return FK_ERR_CRYPTO;
    if (!(p = sodium_allocarray(n, sizeof *p)))
        return FK_ERR_NOMEM;
    memset(p, 0, n * sizeof *p);
    *out = p;
    return FK_OK;
}

void fk_escrow_share_free(fk_escrow_share *p, size_t n)
{
    (void)n; /* sodium_free knows the size and wipes it */
    if (p)
        sodium_free(p);
}

void fk_escrow_share_clear(fk_escrow_share *p, size_t n)
{
    if (p && n)
        fk_wipe(p, n * sizeof *p);
}

/* ---- text encodings -------------------------------------------------------- */

fk_err fk_escrow_authority_encode(char *out, size_t cap, size_t *len,
                                  const fk_escrow_authority *auth)
{
    char hex[FK_ESCROW_ID_HEX_LEN];
    size_t o;
    fk_err err;
    int w;

    if ((err = check_params(auth->name, auth->t, auth->n)) != FK_OK)
        return err;
    if ((err = authority_body(out, cap, &o, auth)) != FK_OK)
        return err;
    fk_escrow_id_hex(hex, auth->id);
    w = snprintf(out + o, cap - o, "id %s\n", hex);
    if (w < 0 || (size_t)w >= cap - o)
        return FK_ERR_LIMIT;
    *len = o + (size_t)w;
    return FK_OK;
}

fk_err fki_write_policy_lines(char *out, size_t cap, size_t *po, const char *policy, size_t len)
{
    size_t o = *po;
    int w;

    if (len > FK_ESCROW_POLICY_MAX)
        return FK_ERR_LIMIT;
    for (size_t p = 0; p < len;) {
        const char *nl = memchr(policy + p, '\n', len - p);
        size_t ll = nl ? (size_t)(nl - (policy + p)) : len - p;
        FKI_EMIT("policy %.*s\n", (int)ll, policy + p);
        p += ll + 1;
    }
    *po = o;
    return FK_OK;
}

fk_err fki_read_policy_lines(fki_cursor *c, char *out, size_t *len)
{
    const char *v;
    size_t vn, n = 0;

    while (c->left > 7 && !memcmp(c->p, "policy ", 7)) {
        if (!fki_next_field(c, "policy", &v, &vn))
            return FK_ERR_INVALID;
        if (n + vn + 1 > FK_ESCROW_POLICY_MAX)
            return FK_ERR_LIMIT;
        memcpy(out + n, v, vn);
        out[n + vn] = '\n';
        n += vn + 1;
        out[n] = 0;
    }
    *len = n;
    return FK_OK;
}

/* Next line must start with key followed by one space; *val / *vlen get the
 * rest (without the LF).  Every line, the last included, ends in LF; no CR,
 * no NUL, no tab, no trailing or doubled space. */
int fki_next_field(fki_cursor *c, const char *key, const char **val, size_t *vlen)
{
    size_t klen = strlen(key), n;
    const char *nl = memchr(c->p, '\n', c->left);

    if (!nl)
        return 0;
    n = (size_t)(nl - c->p);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)c->p[i] < 0x21 && c->p[i] != ' ')
            return 0;
        else if ((unsigned char)c->p[i] > 0x7e)
            return 0;
    if (val) {
        if (n < klen + 2 || memcmp(c->p, key, klen) != 0 || c->p[klen] != ' ')
            return 0;
        *val = c->p + klen + 1;
        *vlen = n - klen - 1;
    } else if (n != klen || memcmp(c->p, key, klen) != 0) {
        return 0;
    }
    c->p = nl + 1;
    c->left -= n + 1;
    return 1;
}

/* Canonical decimal in [lo, hi]: no sign, no leading zero. */
int fki_parse_uint(const char *s, size_t n, unsigned lo, unsigned hi, unsigned *out)
{
    unsigned v = 0;

    if (n < 1 || n > 5 || (n > 1 && s[0] == '0'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

int fki_parse_b64_32(uint8_t out[32], const char *s, size_t n)
{
    size_t got;

    return n == B64_POINT_LEN && fk_b64_decode(out, 32, &got, s, n) == FK_OK && got == 32;
}

/* "<index> <b64 point>" with the expected index. */
static int parse_indexed_point(uint8_t out[32], const char *s, size_t n, unsigned want)
{
    const char *sp = memchr(s, ' ', n);
    unsigned idx;

    if (!sp || !fki_parse_uint(s, (size_t)(sp - s), 0, 0xffff, &idx) || idx != want)
        return 0;
    if (!fki_parse_b64_32(out, sp + 1, n - (size_t)(sp - s) - 1))
        return 0;
    return fki_point_is_valid(out);
}

fk_err fk_escrow_authority_parse(fk_escrow_authority *auth, const char *text, size_t len)
{
    fk_escrow_authority *a;
    fki_cursor c = { text, len };
    const char *v;
    size_t vn;
    unsigned t, n;
    uint8_t id[32];
    fk_err err = FK_ERR_INVALID;

    if (len > FK_ESCROW_AUTHORITY_TEXT_MAX)
        return FK_ERR_LIMIT;
    if (!(a = calloc(1, sizeof *a)))
        return FK_ERR_NOMEM;
    if (!fki_next_field(&c, authority_magic, NULL, NULL))
        goto out;
    if (!fki_next_field(&c, "name", &v, &vn))
        goto out;
    if (vn > FK_ESCROW_NAME_MAX) {
        err = FK_ERR_LIMIT;
        goto out;
    }
    memcpy(a->name, v, vn);
    a->name[vn] = '\0';
    if (!fki_escrow_name_ok(a->name))
        goto out;
    /* Counts: parse wide so one past the limit is FK_ERR_LIMIT, not INVALID. */
    if (!fki_next_field(&c, "threshold", &v, &vn) || !fki_parse_uint(v, vn, 1, 99999, &t))
        goto out;
    if (!fki_next_field(&c, "shares", &v, &vn) || !fki_parse_uint(v, vn, 1, 99999, &n))
        goto out;
    if (n > FK_ESCROW_MAX_SHARES || t > FK_ESCROW_MAX_SHARES) {
        err = FK_ERR_LIMIT;
        goto out;
    }
    if (t > n)
        goto out;
    a->t = t;
    a->n = n;
    if (!fki_next_field(&c, "recipient", &v, &vn) || vn >= FK_ESCROW_RECIPIENT_STR_MAX)
        goto out;
    {
        char rc[FK_ESCROW_RECIPIENT_STR_MAX];
        memcpy(rc, v, vn);
        rc[vn] = '\0';
        /* Lowercase only: the canonical form is what encode writes. */
        for (size_t i = 0; i < vn; i++)
            if (rc[i] >= 'A' && rc[i] <= 'Z')
                goto out;
        if (fk_escrow_recipient_decode(a->pk, rc) != FK_OK)
            goto out;
    }
    for (unsigned j = 0; j < t; j++)
        if (!fki_next_field(&c, "commitment", &v, &vn) || !parse_indexed_point(a->commit[j], v, vn, j))
            goto out;
    if (!fk_ct_eq(a->commit[0], a->pk, 32))
        goto out;
    for (unsigned i = 1; i <= n; i++)
        if (!fki_next_field(&c, "share-key", &v, &vn) ||
            !parse_indexed_point(a->share_pk[i - 1], v, vn, i))
            goto out;
    /* The policy lines; checked as a whole once the text is known whole. */
    fk_err pe = fki_read_policy_lines(&c, a->policy, &a->policy_len);
    if (pe != FK_OK) {
        if (pe == FK_ERR_LIMIT)
            err = FK_ERR_LIMIT;
        goto out;
    }
    if (!fki_next_field(&c, "id", &v, &vn) || vn != 64 || fk_hex_decode(a->id, 32, v, vn) != FK_OK)
        goto out;
    for (size_t i = 0; i < 64; i++)
        if (v[i] >= 'A' && v[i] <= 'F')
            goto out;
    if (c.left != 0)
        goto out;
    if ((err = fki_escrow_policy_check(a->policy, a->policy_len)) != FK_OK)
        goto out;
    err = FK_ERR_INVALID;
    /* The cheap checks first: the id, then the share keys (the costly part). */
    if ((err = fki_escrow_authority_id(id, a)) != FK_OK)
        goto out;
    err = FK_ERR_INVALID;
    if (!fk_ct_eq(id, a->id, 32))
        goto out;
    if ((err = check_share_keys(a)) != FK_OK)
        goto out;
    memcpy(auth, a, sizeof *a);
    err = FK_OK;
out:
    free(a);
    return err;
}

fk_err fk_escrow_share_encode(char *out, size_t cap, size_t *len, const fk_escrow_share *share)
{
    char hex[FK_ESCROW_ID_HEX_LEN], b64[B64_POINT_LEN + 1];
    int w;

    if (share->index < 1 || share->index > FK_ESCROW_MAX_SHARES)
        return FK_ERR_INVALID;
    fk_escrow_id_hex(hex, share->authority_id);
    fk_b64_encode(b64, share->secret, 32);
    w = snprintf(out, cap, "%s\nauthority %s\nindex %u\nsecret %s\n", share_magic, hex,
                 share->index, b64);
    fk_wipe(b64, sizeof b64);
    if (w < 0 || (size_t)w >= cap) {
        fk_wipe(out, cap);
        return FK_ERR_LIMIT;
    }
    *len = (size_t)w;
    return FK_OK;
}

fk_err fk_escrow_share_parse(fk_escrow_share *share, const char *text, size_t len)
{
    fk_escrow_share s;
    fki_cursor c = { text, len };
    const char *v;
    size_t vn;
    fk_err err = FK_ERR_INVALID;

    if (len > FK_ESCROW_SHARE_TEXT_MAX)
        return FK_ERR_LIMIT;
    memset(&s, 0, sizeof s);
    if (!fki_next_field(&c, share_magic, NULL, NULL))
        goto out;
    if (!fki_next_field(&c, "authority", &v, &vn) || vn != 64 ||
        fk_hex_decode(s.authority_id, 32, v, vn) != FK_OK)
        goto out;
    for (size_t i = 0; i < 64; i++)
        if (v[i] >= 'A' && v[i] <= 'F')
            goto out;
    if (!fki_next_field(&c, "index", &v, &vn) || !fki_parse_uint(v, vn, 1, 99999, &s.index))
        goto out;
    if (s.index > FK_ESCROW_MAX_SHARES) {
        err = FK_ERR_LIMIT;
        goto out;
    }
    if (!fki_next_field(&c, "secret", &v, &vn) || !fki_parse_b64_32(s.secret, v, vn))
        goto out;
    if (!fki_scalar_is_canonical(s.secret) || fki_scalar_is_zero(s.secret))
        goto out;
    if (c.left != 0)
        goto out;
    memcpy(share, &s, sizeof s);
    err = FK_OK;
out:
    fk_wipe(&s, sizeof s);
    return err;
}
