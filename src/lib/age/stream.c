/*
 * The age STREAM payload (C2SP age, "Payload"), in parallel.
 *
 * Chunks are independent: chunk i is sealed under the payload key with nonce
 * uint88be(i) || last-flag.  A batch of chunks is read into one buffer (by
 * the calling thread, or, for a regular file, by whichever thread claims a
 * run of chunks, with pread), and the threads - the calling one included -
 * claim runs of CLAIM chunks with an atomic counter and seal or open them
 * into a second buffer.  The calling thread reads the next batch before it
 * joins the work, and writes the finished batch, in order, while the others
 * start on the next one.  Two batches are in flight, so memory is
 * 2 * (input + output) * batch size.
 *
 * Which chunk is the last one is known by reading one byte ahead: the byte
 * past a full batch is carried over into the next batch.
 *
 * Decryption releases plaintext exactly as the reference implementation's
 * streaming reader does (CCTV checks this): chunks in order, each only after
 * its tag verifies; a full-size chunk is opened as non-final and, failing
 * that, as final; a final chunk followed by more data, or a non-final chunk at
 * the end of input, is released and then reported as FK_ERR_PAYLOAD.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "age/internal.h"

#define MAX_BATCH (FK_AGE_MAX_THREADS * FK_AGE_BATCH_CHUNKS)
/* Chunks a thread claims at a time: few enough to balance the load, enough
 * that positional input costs one pread(2) per 256 KiB. */
#define CLAIM 4

enum { ST_FAIL = 0, ST_MORE = 1, ST_LAST = 2, ST_IO = 3 };

/* Input chunks sit FKI_CT_CHUNK_LEN apart in both directions.  Encryption
 * seals each chunk in place (its tag lands in the gap), so a batch needs one
 * buffer, not two, and the sealed batch is one contiguous write: half the
 * memory and cache footprint per chunk.  Decryption cannot work in place (a
 * full chunk may have to be opened twice, as non-final and as final), so it
 * opens into a second buffer with chunks FK_AGE_CHUNK_LEN apart. */
#define STRIDE FKI_CT_CHUNK_LEN

typedef struct batch {
    uint8_t *in, *out; /* out == in when encrypting */
    size_t cap;      /* chunks the buffers hold (grown on demand) */
    size_t in_used, out_used; /* bytes ever written to in/out: what is wiped */
    size_t n;        /* chunks in this batch (>= 1) */
    uint64_t first;  /* STREAM counter of chunk 0 */
    int more;        /* input continues after this batch (lookahead byte held) */
    uint64_t off;    /* positional input: file offset of chunk 0 */
    fk_err read_err; /* the read that filled this batch failed after n chunks */
    atomic_size_t next; /* first chunk not yet claimed */
    atomic_size_t left; /* chunks not yet finished */
    /* Under the pool's mutex: */
    unsigned seq;    /* which dispatch this batch is, while in flight */
    int inflight;    /* dispatched and not yet waited for */
    unsigned users;  /* workers that may touch it */
    size_t len[MAX_BATCH];
    uint8_t st[MAX_BATCH];
} batch;

/* The calling thread is one of the workers: threads - 1 are started. */
typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    unsigned started, gen; /* gen: batches dispatched so far */
    int quit, enc, main_ok;
    atomic_int crypto_failed;
    unsigned threads; /* at most this many, the calling thread included */
    int pread_fd;    /* >= 0: workers read their own chunks from this file */
    batch *jobs[2]; /* batch seq k is jobs[k % 2]; at most two in flight */
    EVP_CIPHER_CTX *main_ctx;
    uint8_t key[FKI_PAYLOAD_KEY_LEN];
    pthread_t tid[FK_AGE_MAX_THREADS];
} pool;

static void set_nonce(uint8_t nonce[12], uint64_t counter, int last)
{
    memset(nonce, 0, 12);
    for (int i = 0; i < 8; i++)
        nonce[10 - i] = (uint8_t)(counter >> (8 * i));
    nonce[11] = last ? 1 : 0;
}

static int seal(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len, uint64_t ctr,
                int last)
{
    uint8_t nonce[12];
    int n = 0, m = 0;
    set_nonce(nonce, ctr, last);
    return EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1 &&
           (len == 0 || EVP_EncryptUpdate(ctx, out, &n, in, (int)len) == 1) &&
           EVP_EncryptFinal_ex(ctx, out + n, &m) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, FK_AGE_TAG_LEN, out + len) == 1;
}

/* Open len bytes (tag included) into out; wipes out on failure. */
static int open_chunk(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len,
                      uint64_t ctr, int last)
{
    uint8_t nonce[12];
    size_t mlen = len - FK_AGE_TAG_LEN;
    int n = 0, m = 0, ok;
    set_nonce(nonce, ctr, last);
    ok = EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, FK_AGE_TAG_LEN, (void *)(in + mlen)) == 1 &&
         (mlen == 0 || EVP_DecryptUpdate(ctx, out, &n, in, (int)mlen) == 1) &&
         EVP_DecryptFinal_ex(ctx, out + n, &m) == 1;
    if (!ok)
        fk_wipe(out, mlen);
    return ok;
}

/* Chunk j is the last of the input (a read error leaves that unknown, and
 * every chunk before it is then treated as not the last). */
static int is_end(const batch *b, size_t j)
{
    return !b->more && b->read_err == FK_OK && j == b->n - 1;
}

/* Positional input: read chunks [lo, hi) with one pread(2); 0 if the file
 * is shorter than it was when planned (it changed under us). */
static int pread_chunks(pool *p, batch *b, size_t lo, size_t hi)
{
    size_t in_chunk = p->enc ? FK_AGE_CHUNK_LEN : FKI_CT_CHUNK_LEN, k = 0, n = hi - lo;
    uint64_t pos = b->off + lo * in_chunk;
    struct iovec iov[CLAIM];
    for (size_t j = lo; j < hi; j++)
        iov[j - lo] = (struct iovec){b->in + j * STRIDE, b->len[j]};
    /* One preadv(2) per run; the loop only continues after a short read. */
    for (;;) {
        while (k < n && iov[k].iov_len == 0) /* done, or the empty payload */
            k++;
        if (k == n)
            return 1;
        ssize_t r = preadv(p->pread_fd, iov + k, (int)(n - k), (off_t)pos);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        size_t got = (size_t)r;
        pos += got;
        while (k < n && got >= iov[k].iov_len)
            got -= iov[k++].iov_len;
        if (k < n) {
            iov[k].iov_base = (uint8_t *)iov[k].iov_base + got;
            iov[k].iov_len -= got;
        }
    }
}

static void crypt_chunk(pool *p, EVP_CIPHER_CTX *ctx, batch *b, size_t j)
{
    uint64_t ctr = b->first + j;
    size_t len = b->len[j];
    int at_end = is_end(b, j);

    if (p->enc) {
        uint8_t *c = b->in + j * STRIDE;
        if (!seal(ctx, c, c, len, ctr, at_end))
            b->st[j] = ST_FAIL;
        else
            b->st[j] = ST_LAST;
        return;
    }
    const uint8_t *in = b->in + j * FKI_CT_CHUNK_LEN;
    uint8_t *out = b->out + j * FK_AGE_CHUNK_LEN;
    b->st[j] = ST_FAIL;
    /* Only the first chunk may be empty, and only as the whole payload. */
    if (len < FK_AGE_TAG_LEN || (len == FK_AGE_TAG_LEN && ctr != 0))
        return;
    if (len < FKI_CT_CHUNK_LEN) {
        if (open_chunk(ctx, out, in, len, ctr, 1))
            b->st[j] = ST_LAST;
        return;
    }
    /* A full chunk: try the flag its position suggests, then the other. */
    if (open_chunk(ctx, out, in, len, ctr, at_end))
        b->st[j] = at_end ? ST_LAST : ST_MORE;
    else if (open_chunk(ctx, out, in, len, ctr, !at_end))
        b->st[j] = at_end ? ST_MORE : ST_LAST;
}

/* One context per thread: the key schedule is set once, then each chunk
 * only re-initialises the nonce. */
static EVP_CIPHER_CTX *new_ctx(const pool *p, int *ok)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    const EVP_CIPHER *c = fki_chacha20_poly1305();
    *ok = ctx && c && EVP_CipherInit_ex(ctx, c, NULL, p->key, NULL, p->enc) == 1;
    return ctx;
}

/* Claim runs of CLAIM chunks of b and process them until none are left. */
static void work(pool *p, EVP_CIPHER_CTX *ctx, int ok, batch *b)
{
    for (;;) {
        size_t lo = atomic_fetch_add(&b->next, CLAIM), hi;
        if (lo >= b->n)
            return;
        hi = lo + CLAIM < b->n ? lo + CLAIM : b->n;
        int io = p->pread_fd >= 0 ? pread_chunks(p, b, lo, hi) : 1;
        for (size_t j = lo; j < hi; j++) {
            if (!io)
                b->st[j] = ST_IO;
            else if (ok)
                crypt_chunk(p, ctx, b, j);
            else
                b->st[j] = ST_FAIL;
        }
        if (!ok)
            atomic_store(&p->crypto_failed, 1);
        if (atomic_fetch_sub(&b->left, hi - lo) == hi - lo) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_broadcast(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

static void *worker(void *arg)
{
    pool *p = arg;
    unsigned seen = 0;
    int ok;
    EVP_CIPHER_CTX *ctx = new_ctx(p, &ok);

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->gen == seen && !p->quit)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->quit)
            break;
        /* Batches in dispatch order; one that was finished and waited for
         * (retired) while this worker was elsewhere is skipped. */
        if (p->gen - seen > 2)
            seen = p->gen - 2;
        batch *b = p->jobs[seen % 2];
        unsigned want = seen++;
        if (!b->inflight || b->seq != want)
            continue;
        /* Counted as a user while it may touch b: the calling thread does
         * not reuse b's buffers until no worker does. */
        b->users++;
        pthread_mutex_unlock(&p->mu);
        work(p, ctx, ok, b);
        pthread_mutex_lock(&p->mu);
        if (--b->users == 0)
            pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    EVP_CIPHER_CTX_free(ctx);
    return NULL;
}

/* Hand b to the workers, who move on to it as soon as the batch before has
 * nothing left to claim: the calling thread dispatches the next batch before
 * it waits for the current one, so no worker idles at a batch boundary.
 * Workers are started here, and only as many as b has runs of CLAIM chunks
 * for: a small file is sealed by the calling thread alone, without the cost
 * of starting threads it would not use. */
static void dispatch(pool *p, batch *b)
{
    size_t runs = (b->n + CLAIM - 1) / CLAIM;
    unsigned want = runs < p->threads ? (unsigned)runs : p->threads;

    atomic_store(&b->left, b->n);
    atomic_store(&b->next, 0);
    pthread_mutex_lock(&p->mu);
    b->seq = p->gen;
    b->inflight = 1;
    p->jobs[p->gen % 2] = b;
    p->gen++;
    if (p->started)
        pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    /* Fewer threads than asked for still work: chunks are claimed by
     * whoever is there, the calling thread included. */
    for (; p->started + 1 < want; p->started++)
        if (pthread_create(&p->tid[p->started], NULL, worker, p) != 0) {
            p->threads = p->started + 1;
            break;
        }
}

/* The calling thread works on b too, then waits for the rest. */
static void wait_batch(pool *p, batch *b)
{
    work(p, p->main_ctx, p->main_ok, b);
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&b->left) != 0 || b->users != 0)
        pthread_cond_wait(&p->done, &p->mu);
    b->inflight = 0;
    pthread_mutex_unlock(&p->mu);
}

unsigned fki_threads(unsigned requested)
{
    if (requested == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        requested = n > 0 ? (unsigned)n : 1;
    }
    return requested > FK_AGE_MAX_THREADS ? FK_AGE_MAX_THREADS : requested;
}

static fk_err pool_start(pool *p, unsigned threads, int enc,
                         const uint8_t key[FKI_PAYLOAD_KEY_LEN], int pread_fd)
{
    memset(p, 0, sizeof *p);
    p->pread_fd = pread_fd;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->crypto_failed, 0);
    p->enc = enc;
    memcpy(p->key, key, FKI_PAYLOAD_KEY_LEN);
    if (!fki_chacha20_poly1305())
        return FK_ERR_CRYPTO;
    p->threads = threads;
    p->main_ctx = new_ctx(p, &p->main_ok);
    if (!p->main_ok)
        return FK_ERR_CRYPTO;
    return FK_OK;
}

static void pool_stop(pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->tid[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    EVP_CIPHER_CTX_free(p->main_ctx);
    fk_wipe(p->key, sizeof p->key);
}

/* Make b's buffers hold n chunks.  Buffers only grow; the old ones are wiped
 * (the bytes that were used) and freed, as their contents are not needed. */
static void batch_release(batch *b)
{
    if (b->in) {
        fk_wipe(b->in, b->in_used);
        free(b->in);
    }
    if (b->out == b->in)
        b->out = NULL;
    if (b->out && b->out != b->in) {
        fk_wipe(b->out, b->out_used);
        free(b->out);
    }
    b->in = b->out = NULL;
    b->cap = b->in_used = b->out_used = 0;
}

static fk_err batch_reserve(batch *b, size_t n, int enc)
{
    if (n <= b->cap)
        return FK_OK;
    batch_release(b);
    b->in = malloc(n * STRIDE + 1); /* + the lookahead byte */
    b->out = enc ? b->in : malloc(n * FK_AGE_CHUNK_LEN);
    if (!b->in || !b->out) {
        batch_release(b);
        return FK_ERR_NOMEM;
    }
    b->cap = n;
    return FK_OK;
}

/* Record how much of b's buffers this batch touches (in_bytes of input,
 * lookahead included), so that only those bytes are wiped. */
static void batch_touch(batch *b, size_t in_bytes, int enc)
{
    size_t out_bytes = 0;
    if (b->n && enc) /* sealed in place: the last chunk's tag */
        in_bytes = in_bytes > (b->n - 1) * STRIDE + b->len[b->n - 1] + FK_AGE_TAG_LEN
                       ? in_bytes
                       : (b->n - 1) * STRIDE + b->len[b->n - 1] + FK_AGE_TAG_LEN;
    if (b->n && !enc)
        out_bytes = (b->n - 1) * FK_AGE_CHUNK_LEN +
                    (b->len[b->n - 1] > FK_AGE_TAG_LEN ? b->len[b->n - 1] - FK_AGE_TAG_LEN : 0);
    if (b->in_used < in_bytes)
        b->in_used = in_bytes;
    if (b->out_used < out_bytes)
        b->out_used = out_bytes;
}

/* Fill b with up to nfill chunks from the source (b holds nfill chunks).
 * in_chunk is the input size of a full chunk; carry is the lookahead byte of
 * the previous batch (-1 for none). */
static void fill_batch(fki_src *src, batch *b, size_t nfill, size_t in_chunk, int carry,
                       uint64_t first, int enc)
{
    size_t j = 0, last = 0, got = 0, touched = 0;
    fk_err err = FK_OK;

    atomic_store(&b->next, SIZE_MAX / 2); /* nothing to claim until dispatched */
    if (carry >= 0)
        b->in[0] = (uint8_t)carry;
    b->more = 0;
    /* Chunk j is read to b->in + j * STRIDE; then one byte past the last
     * full chunk tells whether the input goes on. */
    for (; j <= nfill; j++) {
        size_t want = j == nfill ? 1 : in_chunk, have = j == 0 && carry >= 0;
        err = fki_src_read_full(src, b->in + j * STRIDE + have, want - have, &got);
        have += got;
        touched = j * STRIDE + have;
        if (err != FK_OK) {
            if (have == want && j < nfill) /* whole before the error: keep it */
                j++, last = in_chunk;
            break;
        }
        if (j == nfill) {
            b->more = have == 1;
            break;
        }
        if (have < want) { /* end of input */
            if (have > 0 || j == 0) { /* a short chunk, or the empty payload */
                last = have;
                j++;
            }
            break;
        }
        last = have;
    }
    b->read_err = err;
    b->n = j;
    b->first = first;
    for (size_t i = 0; i < b->n; i++)
        b->len[i] = i + 1 == b->n ? last : in_chunk;
    batch_touch(b, touched, enc);
}

/* Positional input: the next batch is the first nplan chunks of [*off, end)
 * (nplan was sized from what is left), read by the workers themselves. */
static void plan_batch(batch *b, size_t nplan, size_t in_chunk, uint64_t *off, uint64_t end,
                       uint64_t first, int enc)
{
    uint64_t rem = end - *off, n = rem / in_chunk + (rem % in_chunk != 0);
    atomic_store(&b->next, SIZE_MAX / 2); /* nothing to claim until dispatched */
    b->read_err = FK_OK;
    b->first = first;
    b->off = *off;
    if (n == 0)
        n = 1; /* the empty payload: one empty chunk */
    b->more = n > nplan;
    b->n = b->more ? nplan : (size_t)n;
    for (size_t j = 0; j < b->n; j++) {
        b->len[j] = rem - j * in_chunk < in_chunk ? (size_t)(rem - j * in_chunk) : in_chunk;
        *off += b->len[j];
    }
    batch_touch(b, b->n ? (b->n - 1) * STRIDE + b->len[b->n - 1] : 0, enc);
}

/* Chunks in the next batch.  A regular file: all that is left, up to nmax,
 * so a small file gets small buffers.  A stream (pipe, armor): its length is
 * unknown, so batches start at one chunk and double up to nmax; a short
 * stream never touches more memory than it needs. */
static size_t batch_chunks(const fki_src *in, size_t prev, size_t nmax, size_t in_chunk,
                           uint64_t off)
{
    if (in->positional) {
        uint64_t rem = in->end - off, n = rem / in_chunk + (rem % in_chunk != 0);
        return n == 0 ? 1 : n < nmax ? (size_t)n : nmax;
    }
    return prev == 0 ? 1 : 2 * prev < nmax ? 2 * prev : nmax;
}

/* Plan (positional input) or read the next batch into b. */
static fk_err next_batch(fki_src *in, batch *b, const batch *prev, size_t nmax, size_t in_chunk,
                         uint64_t *off, int enc)
{
    size_t k = batch_chunks(in, prev ? prev->n : 0, nmax, in_chunk, *off);
    uint64_t first = prev ? prev->first + prev->n : 0;
    fk_err err = batch_reserve(b, k, enc);
    if (err != FK_OK)
        return err;
    if (in->positional)
        plan_batch(b, k, in_chunk, off, in->end, first, enc);
    else
        fill_batch(in, b, k, in_chunk, prev ? prev->in[prev->n * STRIDE] : -1, first, enc);
    return FK_OK;
}

static fk_err run(fki_src *in, fki_sink *out, const uint8_t key[FKI_PAYLOAD_KEY_LEN],
                  unsigned threads, int enc, uint64_t *written)
{
    size_t in_chunk = enc ? FK_AGE_CHUNK_LEN : FKI_CT_CHUNK_LEN;
    unsigned t = fki_threads(threads);
    size_t nmax = (size_t)t * FK_AGE_BATCH_CHUNKS;
    batch *bs = calloc(2, sizeof *bs);
    pool p;
    fk_err err = FK_OK;
    uint64_t total = 0, off = in->pos;

    if (!bs)
        return FK_ERR_NOMEM;
    if ((err = pool_start(&p, t, enc, key, in->positional ? in->fd : -1)) != FK_OK) {
        pool_stop(&p);
        goto out;
    }

    batch *cur = &bs[0], *next = &bs[1];
    if ((err = next_batch(in, cur, NULL, nmax, in_chunk, &off, enc)) != FK_OK)
        goto stop;
    if (cur->n == 0) { /* nothing whole before a read error */
        err = cur->read_err;
        goto stop;
    }
    dispatch(&p, cur);
    for (;;) {
        size_t bytes = 0;
        fk_err verdict = FK_OK;
        int stop = !cur->more;

        if (cur->more) {
            if ((err = next_batch(in, next, cur, nmax, in_chunk, &off, enc)) != FK_OK)
                break;
            if (next->n > 0)
                dispatch(&p, next);
        }
        wait_batch(&p, cur);
        if (atomic_load(&p.crypto_failed)) {
            err = FK_ERR_CRYPTO;
            break;
        }
        if (enc) {
            for (size_t j = 0; j < cur->n; j++) {
                if (cur->st[j] != ST_LAST) {
                    verdict = cur->st[j] == ST_IO ? FK_ERR_IO : FK_ERR_CRYPTO;
                    break;
                }
                bytes += cur->len[j] + FK_AGE_TAG_LEN;
            }
        } else {
            for (size_t j = 0; j < cur->n; j++) {
                int at_end = is_end(cur, j);
                if (cur->st[j] == ST_IO) { /* the file shrank while we read it */
                    verdict = FK_ERR_IO;
                    break;
                }
                if (cur->st[j] == ST_FAIL) {
                    verdict = FK_ERR_PAYLOAD;
                    break;
                }
                bytes += cur->len[j] - FK_AGE_TAG_LEN;
                if (cur->st[j] == ST_LAST && !at_end) { /* data after the final chunk */
                    verdict = FK_ERR_PAYLOAD;
                    break;
                }
                if (cur->st[j] == ST_MORE && at_end) { /* ends without a final chunk */
                    verdict = FK_ERR_PAYLOAD;
                    break;
                }
            }
        }
        if (verdict == FK_OK && cur->read_err != FK_OK) {
            verdict = cur->read_err;
            stop = 1;
        }
        if (verdict != FK_OK)
            stop = 1;
        /* A read error in the next batch: its whole chunks still go through. */
        if (!stop && next->n == 0) {
            verdict = next->read_err;
            stop = 1;
        }
        if (bytes) {
            fk_err werr = fki_sink_write(out, cur->out, bytes);
            if (werr != FK_OK) {
                err = werr;
                break;
            }
            total += enc ? 0 : bytes;
        }
        if (stop) {
            err = verdict;
            if (err == FK_OK && in->positional) {
                /* The file grew while we read it: what we wrote is not all
                 * of it, and silently stopping would truncate. */
                uint8_t extra;
                if (pread(in->fd, &extra, 1, (off_t)in->end) != 0)
                    err = FK_ERR_IO;
                lseek(in->fd, (off_t)in->end, SEEK_SET);
            }
            break;
        }
        batch *tmp = cur;
        cur = next;
        next = tmp;
    }
    /* After an error the batch in flight is finished and dropped. */
    for (int i = 0; i < 2; i++)
        if (bs[i].inflight)
            wait_batch(&p, &bs[i]);
stop:
    pool_stop(&p);
out:
    batch_release(&bs[0]);
    batch_release(&bs[1]);
    free(bs);
    if (written)
        *written = total;
    return err;
}

fk_err fki_payload_key(uint8_t key[FKI_PAYLOAD_KEY_LEN], const uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                       const uint8_t nonce[FK_AGE_NONCE_LEN])
{
    return fki_hkdf_sha256(key, FKI_PAYLOAD_KEY_LEN, file_key, FK_AGE_FILE_KEY_LEN, nonce,
                           FK_AGE_NONCE_LEN, "payload");
}

fk_err fki_stream_encrypt(fki_src *in, fki_sink *out, const uint8_t key[FKI_PAYLOAD_KEY_LEN],
                          unsigned threads)
{
    return run(in, out, key, threads, 1, NULL);
}

fk_err fki_stream_decrypt(fki_src *in, fki_sink *out, const uint8_t key[FKI_PAYLOAD_KEY_LEN],
                          unsigned threads, uint64_t *written)
{
    return run(in, out, key, threads, 0, written);
}

fk_err fki_payload_encrypt_fd(int in_fd, int out_fd, const uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                              const uint8_t nonce[FK_AGE_NONCE_LEN], unsigned threads)
{
    fki_src src = {.fd = in_fd};
    fki_sink sink = {.fd = out_fd};
    uint8_t key[FKI_PAYLOAD_KEY_LEN];
    fk_err err = fki_payload_key(key, file_key, nonce);
    fki_src_positional(&src, lseek(in_fd, 0, SEEK_CUR));
    if (err == FK_OK)
        err = fki_write_all(out_fd, nonce, FK_AGE_NONCE_LEN);
    if (err == FK_OK)
        err = fki_stream_encrypt(&src, &sink, key, threads);
    fk_wipe(key, sizeof key);
    return err;
}

fk_err fki_payload_decrypt_fd(int in_fd, int out_fd, const uint8_t file_key[FK_AGE_FILE_KEY_LEN],
                              unsigned threads, uint64_t *written)
{
    fki_src src = {.fd = in_fd};
    fki_sink sink = {.fd = out_fd};
    uint8_t nonce[FK_AGE_NONCE_LEN], key[FKI_PAYLOAD_KEY_LEN];
    size_t got = 0;
    fk_err err = fki_read_full(in_fd, nonce, sizeof nonce, &got);
    if (written)
        *written = 0;
    if (err == FK_OK && got != sizeof nonce)
        err = FK_ERR_HEADER;
    if (err == FK_OK)
        err = fki_payload_key(key, file_key, nonce);
    fki_src_positional(&src, lseek(in_fd, 0, SEEK_CUR));
    if (err == FK_OK)
        err = fki_stream_decrypt(&src, &sink, key, threads, written);
    fk_wipe(key, sizeof key);
    return err;
}
