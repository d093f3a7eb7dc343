/*
 * blind_requester - a hostile but allowed requester, for the end-to-end
 * test of the escrow stanza's validity proof (tests/e2e/blinding.sh).
 *
 *   blind_requester VARIANT AUTHORITY REQUESTER_KEY LOG_URL AGENT_URL,... FILE.age
 *
 * It reads the victim file's escrow stanza and, instead of the file's target
 * E, logs a request for a blinded point and asks every agent for s_i*E':
 *
 *   mul       E' = c*E          (Ebar' = c*Ebar)      unblind: c^-1 * D'
 *   add       E' = E + x*B      (Ebar' = Ebar + x*G)  unblind: D' - x*PK_i
 *   neg       E' = -E           (Ebar' = -Ebar)       unblind: -D'
 *   peragent  mul with a different c for every agent (one request each)
 *   nofile    E' = x*B, a point in no file, with the file's wrapped key and proof
 *
 * Every request is a genuine, signed, logged request by an allowed key; only
 * its target is forged, the wrapped key and proof copied from the file.  With
 * the answers it unblinds, combines t of them, and tries to open the file's
 * stanza.  Prints one line per agent ("agent N: HTTP S <status>: <error>")
 * and a summary "answered A refused R"; exit 0 if the file key was NOT
 * recovered, 3 if it was (the hole), 1 on a setup error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "agent/recovery.h"
#include "escrow/internal.h"
#include "net/net.h"

#define MAX_AGENTS 16

/* The program helpers (src/agent/recovery.c, src/cli/io.c) print through
 * cli_err and cli_usage, which src/cli/fairkey.c defines for the CLI. */
void cli_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("blind_requester: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
int cli_usage(const char *synopsis)
{
    fprintf(stderr, "usage: %s\n", synopsis);
    return 2;
}
int cli_help_wanted(void)
{
    return 0;
}

static int die(const char *msg)
{
    fprintf(stderr, "blind_requester: %s\n", msg);
    return 1;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(65536);
    size_t n;
    if (!f || !buf) {
        if (f)
            fclose(f);
        free(buf);
        return NULL;
    }
    n = fread(buf, 1, 65535, f);
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Log one request for the forged target; write its receipt and entry hash. */
static int log_request(const char *log, const fk_escrow_authority *auth,
                       const fk_requester_key *k, const uint8_t e[32], const uint8_t ebar[32],
                       const uint8_t body[FK_ESCROW_BODY_LEN], unsigned salt, char *receipt,
                       size_t *rlen, uint8_t eh[32])
{
    fk_request r;
    char note[FK_REQUEST_NOTE_MAX + 1], url[REC_URL_MAX];
    size_t nl, blen = 0;
    uint8_t *ans = NULL;
    long status = 0;
    fk_tlog_proof *lp = malloc(sizeof *lp);
    int rc = -1;

    memset(&r, 0, sizeof r);
    fk_escrow_id_hex(r.authority, auth->id);
    memcpy(r.target, e, 32);
    memcpy(r.target_ebar, ebar, 32);
    memcpy(r.target_body, body, FK_ESCROW_BODY_LEN);
    memset(r.warrant, 0x5a, 32);
    snprintf(r.reason, sizeof r.reason, "routine check %u", salt);
    r.time = (int64_t)time(NULL);
    struct fki_net_client_opts no = {.content_type = "text/plain; charset=utf-8",
                                     .timeout_ms = 30000};
    if (!lp || fk_request_sign(note, sizeof note, &nl, &r, k) ||
        rec_url(url, sizeof url, log, "add") ||
        fki_net_post(url, note, nl, &no, &status, &ans, &blen))
        goto out;
    if (status != 200 || fk_tlog_proof_parse(lp, (const char *)ans, blen)) {
        printf("log: HTTP %ld: %.*s\n", status, (int)(blen > 200 ? 200 : blen),
               ans ? (const char *)ans : "");
        rc = 2;
        goto out;
    }
    if (fk_tlog_proof_encode((const uint8_t *)note, nl, lp->index,
                             (const uint8_t(*)[FK_TLOG_HASH_LEN])lp->proof, lp->nproof,
                             lp->checkpoint, lp->checkpoint_len, receipt, REC_RECEIPT_MAX, rlen))
        goto out;
    fk_request_entry_hash(eh, note, nl);
    rc = 0;
out:
    free(lp);
    free(ans);
    return rc;
}

/* Everything main allocates, freed on every way out (the test also runs
 * under LeakSanitizer). */
static char *atext, *ktext, *receipt;
static fk_escrow_authority *auth;
static fk_requester_key key;

static int done(int rc)
{
    free(atext);
    free(ktext);
    free(auth);
    free(receipt);
    fk_requester_key_wipe(&key);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 7)
        return die("usage: blind_requester mul|add|neg|peragent|nofile AUTHORITY KEY LOG "
                   "AGENTS FILE.age");
    const char *variant = argv[1];
    int peragent = !strcmp(variant, "peragent");
    if (sodium_init() < 0)
        return die("libsodium");

    size_t alen = 0, klen = 0;
    atext = slurp(argv[2], &alen);
    ktext = slurp(argv[3], &klen);
    auth = malloc(sizeof *auth);
    receipt = malloc(REC_RECEIPT_MAX);
    if (!receipt || !atext || !ktext || !auth || fk_escrow_authority_parse(auth, atext, alen) ||
        fk_requester_key_parse(&key, ktext, klen))
        return done(die("cannot read the authority or the requester key"));
    fk_escrow_stanza_info st;
    if (rec_find_stanza(argv[6], auth, &st))
        return done(die("no escrow stanza for the authority in the file"));

    const char *agents[MAX_AGENTS];
    size_t na = 0;
    for (char *p = strtok(argv[5], ","); p && na < MAX_AGENTS; p = strtok(NULL, ","))
        agents[na++] = p;

    /* G, the stanza's second generator, as anyone can compute it. */
    uint8_t g[32];
    {
        static const char dst[] = "fairkey/v2 escrow generator";
        fki_buf in[1] = { { auth->pk, 32 } };
        if (fki_h2g(g, dst, sizeof dst - 1, in, 1))
            return done(die("generator"));
    }

    fk_escrow_partial parts[MAX_AGENTS];
    size_t nparts = 0, answered = 0, refused = 0;
    size_t rlen = 0;
    uint8_t eh[32], blind[32], inv[32], e2[32], eb2[32], t[32];
    int logged = 0;

    for (size_t j = 0; j < na; j++) {
        /* One blinding for all agents, or a fresh one per agent. */
        if (j == 0 || peragent) {
            crypto_core_ristretto255_scalar_random(blind);
            if (!strcmp(variant, "mul") || peragent) {
                fki_mul(e2, blind, st.e);
                fki_mul(eb2, blind, st.ebar);
            } else if (!strcmp(variant, "add")) {
                fki_mul_base(t, blind);
                fki_add(e2, st.e, t);
                fki_mul(t, blind, g);
                fki_add(eb2, st.ebar, t);
            } else if (!strcmp(variant, "neg")) {
                uint8_t one[32];
                fki_scalar_from_uint(one, 1);
                crypto_core_ristretto255_scalar_negate(blind, one);
                fki_mul(e2, blind, st.e);
                fki_mul(eb2, blind, st.ebar);
            } else if (!strcmp(variant, "nofile")) {
                fki_mul_base(e2, blind);
                fki_mul(eb2, blind, g);
            } else {
                return done(die("unknown variant"));
            }
            int lr = log_request(argv[4], auth, &key, e2, eb2, st.body, (unsigned)j, receipt,
                                 &rlen, eh);
            if (lr == 2) {
                /* The log itself refused to record it: nothing to ask. */
                printf("answered 0 refused %zu (log refused the request)\n", na);
                return done(0);
            }
            if (lr)
                return done(die("cannot log the request"));
            logged++;
        }
        char url[REC_URL_MAX];
        uint8_t *body = NULL;
        size_t blen = 0;
        long status = 0;
        struct fki_net_client_opts no = {.timeout_ms = 30000};
        if (rec_url(url, sizeof url, agents[j], "recover") ||
            fki_net_post(url, receipt, rlen, &no, &status, &body, &blen)) {
            printf("agent %zu: no answer\n", j + 1);
            continue;
        }
        fk_escrow_partial p;
        long long id = 0;
        char msg[512] = "";
        enum rec_answer ra = rec_answer_read(status, body, blen, auth, key.reply_secret, eh, e2,
                                             &p, &id, msg, sizeof msg);
        if (ra == REC_ANSWER_VALID) {
            answered++;
            printf("agent %zu: HTTP %ld answered (share %u)\n", j + 1, status, p.index);
            /* Unblind D' into s_i*E. */
            if (!strcmp(variant, "mul") || peragent || !strcmp(variant, "neg")) {
                crypto_core_ristretto255_scalar_invert(inv, blind);
                fki_mul(p.d, inv, p.d);
            } else if (!strcmp(variant, "add")) {
                uint8_t xp[32], neg[32];
                crypto_core_ristretto255_scalar_negate(neg, blind);
                fki_mul(xp, neg, auth->share_pk[p.index - 1]);
                fki_add(p.d, p.d, xp);
            }
            parts[nparts++] = p;
        } else {
            refused++;
            printf("agent %zu: HTTP %ld refused: %s\n", j + 1, status, msg);
        }
        free(body);
    }
    printf("answered %zu refused %zu (%d requests logged)\n", answered, refused, logged);

    uint8_t z[32], k[16];
    if (nparts >= auth->t && !fk_escrow_combine(z, auth, parts, nparts) &&
        !fk_escrow_open(k, &st, z)) {
        printf("RECOVERED the file key without a request naming the file's target\n");
        return done(3);
    }
    printf("file key not recovered\n");
    return done(0);
}
