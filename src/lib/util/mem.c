/* Secret wiping, constant-time comparison, randomness, error strings. */
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <fairkey.h>

void fk_wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

fk_err fk_process_protect(void)
{
    struct rlimit no = {0, 0};
    int a = setrlimit(RLIMIT_CORE, &no);
    int b = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    return a || b ? FK_ERR_IO : FK_OK;
}

int fk_ct_eq(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

fk_err fk_random(void *buf, size_t n)
{
    /* RAND_bytes takes an int; callers never ask for more than a few KiB. */
    if (n > (size_t)0x7fffffff)
        return FK_ERR_INVALID;
    return RAND_bytes(buf, (int)n) == 1 ? FK_OK : FK_ERR_CRYPTO;
}

static const char *const messages[FK_ERR__COUNT] = {
    [FK_OK] = "success",
    [FK_ERR_HEADER] = "malformed or undecryptable age header",
    [FK_ERR_ARMOR] = "malformed ASCII armor",
    [FK_ERR_NO_MATCH] = "no identity matched any recipient",
    [FK_ERR_HMAC] = "header MAC does not verify",
    [FK_ERR_PAYLOAD] = "payload corrupted or truncated",
    [FK_ERR_INVALID] = "invalid or non-canonical input",
    [FK_ERR_UNSUPPORTED] = "unsupported feature",
    [FK_ERR_LIMIT] = "a size or count limit was exceeded",
    [FK_ERR_IO] = "input/output error",
    [FK_ERR_NOMEM] = "out of memory",
    [FK_ERR_CRYPTO] = "cryptographic library failure",
    [FK_ERR_ESCROW] = "escrow stanza missing or does not verify",
    [FK_ERR_PROOF] = "proof does not verify",
    [FK_ERR_SIGNATURE] = "signature does not verify",
    [FK_ERR_NOT_FOUND] = "not found",
    [FK_ERR_STORAGE] = "storage failure",
    [FK_ERR_POLICY] = "refused by policy",
    [FK_ERR_NET] = "network failure",
};

const char *fk_strerror(fk_err err)
{
    if ((unsigned)err >= FK_ERR__COUNT || !messages[err])
        return "unknown error";
    return messages[err];
}
