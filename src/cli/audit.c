/*
 * fairkey audit - does the log record any recovery request for my files?
 *
 *   fairkey audit --log URL {--vkey VKEY | --policy FILE} [--max-age S]
 *                 [--state FILE] [--follow] [--interval S] FILE.age...
 *
 * Verifies the log's checkpoint (and, with --policy, its witness quorum and
 * the age of the quorum's cosignatures), reads the entries the last audit
 * did not read, folds their leaf hashes into the Merkle frontier kept in the
 * state file, checks that the frontier recomputes the checkpoint's root
 * (which also proves the old tree a prefix of the new one), and reports for
 * every escrow stanza of every file the requests that target it, or "no
 * recovery recorded up to tree size N".  Memory is O(log n): the frontier,
 * one entry bundle, the targets.
 *
 * Exit: 0 no recovery recorded for any stanza; 3 one or more recorded;
 * 1 the audit could not vouch for the log (errors, a stale, forked or
 * misbehaving log, a malformed escrow stanza); 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent/recovery.h"
#include "cli.h"
#include "net/net.h"

#define USAGE                                                                                   \
    "audit --authority FILE... [--max-age S] [--state FILE] [--follow] [--interval S]\n" \
    "             [--cacert FILE] FILE.age...\n" \
    "       audit --authority FILE... --vendor PUBLIC [--max-age S] [--state FILE] [--follow]\n" \
    "             [--interval S] [--cacert FILE] [FILE.age...]\n" \
    "       audit --log URL {--vkey VKEY | --policy FILE | --vkey VKEY --policy FILE} [--max-age S]\n" \
    "             [--state FILE] [--follow] [--interval S] [--cacert FILE] FILE.age...\n" \
    "       (with --authority, --log, --vkey and --policy may only repeat the authority's own)"

/* Authorities one audit takes: a file names at most FK_ESCROW_MAX_STANZAS. */
#define MAX_AUDIT_AUTHORITIES FK_ESCROW_MAX_STANZAS
/* Escrow stanzas audited across all files: 64 files of 64 stanzas. */
#define MAX_TARGETS 4096
/* Largest tree an audit reads.  Every entry is a signed recovery request of
 * at least 200 bytes, so 2^40 entries are over 200 TiB of bundles, more than
 * any auditor downloads; a log claiming more is lying, and the frontier
 * (which could hold 2^63 - 1) is not the limit. */
#define MAX_AUDIT_SIZE ((uint64_t)1 << 40)
/* Default --max-age: a day.  The window in which a replayed view can hide a
 * recovery from an owner who audits daily; a log re-cosigned at least
 * hourly stays well inside it, and one idle longer is reported, not trusted. */
#define DEFAULT_MAX_AGE 86400
/* The state file: the signed checkpoint, the frontier and one line per
 * target, MAX_TARGETS at most. */
#define STATE_MAX (FKI_LOG_MAX_CHECKPOINT + 32 + FK_TLOG_FRONTIER_TEXT_MAX + MAX_TARGETS * 100)
#define STATE_MAGIC "fairkey-audit v1\n"

struct target {
    const char *file;    /* NULL: a deposit found through --vendor (label) */
    char label[FK_REQUEST_NAME_MAX + 2 * FK_DEPOSIT_TOKEN_MAX + 32];
    uint64_t deposit;    /* log index of its deposit record + 1; 0: none seen */
    int hashed;          /* file's SHA-256 and size computed (1), unreadable (-1) */
    uint8_t sha256[32];
    uint64_t size;
    uint8_t pk[32];
    uint8_t e[32];
    uint64_t hits;       /* requests found in this run */
    uint64_t old_hits;   /* found by earlier audits (state) */
    uint64_t last;       /* index of the latest request found */
};

struct audit {
    struct fki_log_client log;
    struct target *t;
    size_t nt;
    int bad_stanzas;           /* malformed escrow stanzas seen */
    fk_tlog_frontier fr;       /* of the tree read so far */
    int have_fr;
    fk_tlog_policy *pol;       /* NULL: the log key alone */
    long max_age;
    /* the state as loaded: targets known and how far they were read */
    size_t nknown;
    struct known {
        uint8_t e[32];
        uint64_t hits, last;
    } *known;
    /* --vendor: its deposits' escrow stanzas are audited too, for the
     * authorities of this log (ids and PKs in the same order). */
    int vendor_mode;
    char vendor[FK_REQUEST_NAME_MAX + 1];
    uint8_t vendor_key[32];
    const char (*auth_id)[FK_ESCROW_ID_HEX_LEN];
    const uint8_t (*auth_pk)[32];
    size_t nauth;
    int bad_deposits;          /* records whose ciphertext hash is not the file's */
};

static const char *tname(const struct target *t)
{
    return t->file ? t->file : t->label;
}

static int load_targets(struct audit *a, char **files, int nfiles)
{
    for (int i = 0; i < nfiles; i++) {
        fk_header h;
        size_t count = 0;
        if (rec_read_header(files[i], &h))
            return -1;
        /* Every stanza of the header, however many: a stanza left out is a
         * recovery path left unwatched. */
        for (size_t j = 0; j < h.nstanzas; j++) {
            fk_escrow_stanza_info info;
            fk_err err = fk_escrow_stanza_parse(&info, &h.stanzas[j]);
            if (err == FK_ERR_NOT_FOUND)
                continue;
            if (err) {
                printf("%s: stanza %zu: MALFORMED escrow stanza (%s): it cannot be audited; the "
                       "file's header is damaged or forged\n",
                       files[i], j + 1, fk_strerror(err));
                a->bad_stanzas++;
                count++;
                continue;
            }
            if (a->nt == MAX_TARGETS) {
                fk_header_clear(&h);
                cli_err("too many escrow stanzas to audit at once (at most %d); audit fewer "
                        "files per run", MAX_TARGETS);
                return -1;
            }
            a->t[a->nt].file = files[i];
            memcpy(a->t[a->nt].pk, info.pk, 32);
            memcpy(a->t[a->nt].e, info.e, 32);
            a->nt++;
            count++;
        }
        fk_header_clear(&h);
        if (count == 0)
            printf("%s: no escrow stanza; nothing to audit\n", files[i]);
    }
    return 0;
}

static void stanza_name(char rcp[FK_ESCROW_RECIPIENT_STR_MAX], const struct target *t)
{
    fk_escrow_recipient_encode(rcp, t->pk);
}

/* A deposit record (docs/protocol.md 10): one naming an audited stanza, or
 * (--vendor) signed by the vendor for an authority of this log, is verified
 * and reported; the vendor's become targets, so their inspections are
 * reported as the requests that name them.  For an audited file the record's
 * ciphertext SHA-256 and size are compared with the file's. */
static void check_deposit(struct audit *a, uint64_t index, const uint8_t *entry, size_t len,
                          const fk_note *n)
{
    fk_deposit *d = malloc(sizeof *d);
    size_t i;
    if (!d || fk_deposit_parse_text(d, n->text, n->text_len))
        goto out;
    for (i = 0; i < a->nt && memcmp(a->t[i].e, d->target, 32); i++)
        ;
    int vendors = a->vendor_mode && !memcmp(d->vendor_key, a->vendor_key, 32) &&
                  !strcmp(d->vendor, a->vendor);
    if ((i == a->nt && !vendors) || fk_deposit_verify(d, (const char *)entry, len))
        goto out; /* not ours, or not validly signed */
    if (i == a->nt) {
        size_t k;
        for (k = 0; k < a->nauth && strcmp(a->auth_id[k], d->authority); k++)
            ;
        if (k == a->nauth || a->nt == MAX_TARGETS)
            goto out; /* another authority's: its log is not this one */
        struct target *t = &a->t[a->nt++];
        memset(t, 0, sizeof *t);
        memcpy(t->pk, a->auth_pk[k], 32);
        memcpy(t->e, d->target, 32);
        snprintf(t->label, sizeof t->label, "deposit %s %s of %s", d->product, d->version,
                 d->vendor);
    }
    char rcp[FK_ESCROW_RECIPIENT_STR_MAX], tm[FK_REQUEST_TIME_STR_LEN + 1], ah[65];
    fk_request_time_format(tm, d->time);
    fk_hex_encode(ah, d->archive_sha256, 32);
    for (; i < a->nt; i++) {
        struct target *t = &a->t[i];
        if (memcmp(t->e, d->target, 32))
            continue;
        const char *match = "";
        if (t->file) {
            if (!t->hashed)
                t->hashed = cli_sha256_file(t->file, t->sha256, &t->size) ? -1 : 1;
            if (t->hashed < 0 || t->size != d->ciphertext_size ||
                memcmp(t->sha256, d->ciphertext_sha256, 32)) {
                match = "; this file DOES NOT MATCH the record's ciphertext SHA-256 and size";
                a->bad_deposits++;
            } else {
                match = "; this file matches the record's ciphertext SHA-256";
            }
        }
        t->deposit = index + 1;
        stanza_name(rcp, t);
        printf("%s: escrow stanza for %s: DEPOSIT logged at log index %llu by vendor %s: "
               "product %s version %s at %s, archive sha256 %s (%llu bytes), %zu binary "
               "hash(es)%s\n",
               tname(t), rcp, (unsigned long long)index, d->vendor, d->product, d->version, tm,
               ah, (unsigned long long)d->archive_size, d->nbinaries, match);
    }
out:
    free(d);
}

/* One entry: is it a request for one of our targets?  The signature is
 * checked only for a request naming a target (the cost of an audit is the
 * entries, most of them for other files). */
static void check_entry(struct audit *a, uint64_t index, const uint8_t *entry, size_t len)
{
    fk_note n;
    fk_request r;
    size_t i;
    if (fk_note_parse(&n, (const char *)entry, len))
        return;
    if (n.text_len >= sizeof FK_DEPOSIT_MAGIC &&
        !memcmp(n.text, FK_DEPOSIT_MAGIC "\n", sizeof FK_DEPOSIT_MAGIC)) {
        check_deposit(a, index, entry, len, &n);
        return;
    }
    if (fk_request_parse_text(&r, n.text, n.text_len))
        return;
    for (i = 0; i < a->nt && memcmp(a->t[i].e, r.target, 32); i++)
        ;
    if (i == a->nt || fk_request_verify(&r, (const char *)entry, len))
        return; /* not ours, or not validly signed: nothing an agent would answer */
    for (; i < a->nt; i++) {
        if (memcmp(a->t[i].e, r.target, 32))
            continue;
        char rcp[FK_ESCROW_RECIPIENT_STR_MAX], tm[FK_REQUEST_TIME_STR_LEN + 1];
        stanza_name(rcp, &a->t[i]);
        fk_request_time_format(tm, r.time);
        if (a->t[i].deposit)
            printf("%s: escrow stanza for %s: INSPECTION of the deposit at log index %llu: "
                   "RECOVERY REQUESTED at log index %llu by %s at %s: %s\n",
                   tname(&a->t[i]), rcp, (unsigned long long)(a->t[i].deposit - 1),
                   (unsigned long long)index, r.requester, tm, r.reason);
        else
            printf("%s: escrow stanza for %s: RECOVERY REQUESTED at log index %llu by %s at %s: "
                   "%s\n",
                   tname(&a->t[i]), rcp, (unsigned long long)index, r.requester, tm, r.reason);
        a->t[i].hits++;
        a->t[i].last = index;
    }
}

struct scan {
    struct audit *a;
    fk_tlog_frontier fr;
};

static fk_err on_entry(void *ctx, uint64_t index, const uint8_t *entry, size_t len)
{
    struct scan *s = ctx;
    uint8_t leaf[FK_TLOG_HASH_LEN];
    fk_err err = fk_tlog_leaf_hash(leaf, entry, len);
    if (!err && index != s->fr.size)
        err = FK_ERR_PROOF;
    if (!err)
        err = fk_tlog_frontier_append(&s->fr, leaf, NULL, NULL);
    if (!err)
        check_entry(s->a, index, entry, len);
    return err;
}

/* Read entries [fr.size, cp->size) into a copy of the frontier, then check
 * that it recomputes cp's root; only then is it kept. */
static fk_err scan(struct audit *a, const fk_checkpoint *cp)
{
    struct scan s = {.a = a};
    uint8_t root[FK_TLOG_HASH_LEN];
    fk_err err;
    if (a->have_fr)
        s.fr = a->fr;
    else
        fk_tlog_frontier_init(&s.fr);
    if ((err = fki_log_client_entries(&a->log, cp, s.fr.size, on_entry, &s)))
        return err;
    if ((err = fk_tlog_frontier_root(&s.fr, root)))
        return err;
    if (s.fr.size != cp->size || memcmp(root, cp->root, FK_TLOG_HASH_LEN))
        return FK_ERR_PROOF;
    a->fr = s.fr;
    a->have_fr = 1;
    return FK_OK;
}

static const struct known *find_known(const struct audit *a, const uint8_t e[32])
{
    for (size_t i = 0; i < a->nknown; i++)
        if (!memcmp(a->known[i].e, e, 32))
            return &a->known[i];
    return NULL;
}

/* Write the state: the signed checkpoint, the magic line, the frontier, one
 * "target <hex E> <requests found> <latest index>" line per target. */
static int save_state(const struct audit *a, const char *path, const char *note)
{
    char *buf = malloc(STATE_MAX);
    size_t len = strlen(note), n;
    int rc = -1;
    if (!buf) {
        cli_err("out of memory");
        return -1;
    }
    memcpy(buf, note, len);
    memcpy(buf + len, STATE_MAGIC, sizeof STATE_MAGIC - 1);
    len += sizeof STATE_MAGIC - 1;
    if (fk_tlog_frontier_encode(&a->fr, buf + len, STATE_MAX - len, &n)) {
        cli_err("cannot encode the audit state");
        goto out;
    }
    len += n;
    for (size_t i = 0; i < a->nt; i++) {
        const struct target *t = &a->t[i];
        char hex[65];
        uint64_t hits = t->hits + t->old_hits;
        for (int j = 0; j < 32; j++)
            snprintf(hex + 2 * j, 3, "%02x", t->e[j]);
        len += (size_t)snprintf(buf + len, STATE_MAX - len, "target %s %llu %llu\n", hex,
                                (unsigned long long)hits, (unsigned long long)t->last);
    }
    if (cli_out_write_file(path, 0, buf, len))
        goto out;
    rc = 0;
out:
    free(buf);
    return rc;
}

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (!len || (len > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* The audit section after the note: frontier and targets.  -1 if damaged. */
static int parse_section(struct audit *a, const fk_checkpoint *last, const char *s, size_t len)
{
    const char *end = s + len, *p = s;
    uint64_t size;
    uint8_t root[FK_TLOG_HASH_LEN];
    const char *nl = memchr(p, '\n', len);
    if (!nl || parse_u64(p, (size_t)(nl - p), &size) || size > FK_TLOG_MAX_SIZE)
        return -1;
    const char *q = nl + 1;
    for (int i = 0; i < __builtin_popcountll(size); i++) {
        if (q >= end || !(nl = memchr(q, '\n', (size_t)(end - q))))
            return -1;
        q = nl + 1;
    }
    if (fk_tlog_frontier_parse(&a->fr, p, (size_t)(q - p)) || fk_tlog_frontier_root(&a->fr, root) ||
        a->fr.size != last->size || memcmp(root, last->root, FK_TLOG_HASH_LEN))
        return -1;
    a->known = calloc(MAX_TARGETS, sizeof *a->known);
    if (!a->known)
        return -1;
    for (p = q; p < end; p = nl + 1) {
        char hex[65];
        unsigned long long hits, lastidx;
        int used = 0;
        if (!(nl = memchr(p, '\n', (size_t)(end - p))) || a->nknown == MAX_TARGETS)
            return -1;
        char line[128];
        if ((size_t)(nl - p) >= sizeof line)
            return -1;
        memcpy(line, p, (size_t)(nl - p));
        line[nl - p] = 0;
        if (sscanf(line, "target %64[0-9a-f] %llu %llu%n", hex, &hits, &lastidx, &used) != 3 ||
            line[used] || strlen(hex) != 64)
            return -1;
        struct known *k = &a->known[a->nknown++];
        for (int j = 0; j < 32; j++) {
            unsigned v;
            sscanf(hex + 2 * j, "%2x", &v);
            k->e[j] = (uint8_t)v;
        }
        k->hits = hits;
        k->last = lastidx;
    }
    a->have_fr = 1;
    return 0;
}

/* Load the state file: a signed checkpoint of this log, optionally followed
 * by the audit section (a state written before it existed holds only the
 * checkpoint: the next run reads the log from index 0). */
static int load_state(struct audit *a, const char *path, fk_checkpoint *last)
{
    char *text;
    size_t len;
    if (cli_read_file(path, STATE_MAX, 0, &text, &len))
        return -1;
    /* The note ends after its blank line and the signature lines ("— "). */
    size_t note_len = len;
    const char *blank = strstr(text, "\n\n");
    if (blank) {
        const char *p = blank + 2;
        while (p < text + len && !strncmp(p, "\xe2\x80\x94 ", 4)) {
            const char *nl = memchr(p, '\n', (size_t)(text + len - p));
            if (!nl)
                break;
            p = nl + 1;
        }
        note_len = (size_t)(p - text);
    }
    fk_err err = fk_checkpoint_open(last, NULL, text, note_len, a->log.key.name, &a->log.key, 1,
                                    NULL);
    last->ext = NULL;
    last->ext_len = 0;
    if (err) {
        free(text);
        cli_err("%s does not hold a checkpoint signed by this log; remove it or pass the right "
                "--vkey", path);
        return -1;
    }
    int rc = 0;
    if (note_len < len) {
        size_t ml = sizeof STATE_MAGIC - 1;
        if (len - note_len < ml || memcmp(text + note_len, STATE_MAGIC, ml) ||
            parse_section(a, last, text + note_len + ml, len - note_len - ml)) {
            cli_err("%s is damaged: its frontier or targets do not match its checkpoint; remove "
                    "it to audit from the start", path);
            rc = -1;
        }
    }
    free(text);
    return rc;
}

/* With a policy: the witness quorum, each cosignature at most max_age old. */
static int check_fresh(struct audit *a, const fk_checkpoint *cp, const char *note)
{
    fk_note n;
    uint64_t witnessed = 0, fresh = 0, newest = 0, now = (uint64_t)time(NULL);
    uint64_t not_before = now > (uint64_t)a->max_age ? now - (uint64_t)a->max_age : 0;
    fk_err err = fk_note_parse(&n, note, strlen(note));
    if (!err)
        err = fk_tlog_policy_quorum_since(a->pol, &n, not_before, &witnessed, &fresh, &newest);
    if (err == FK_ERR_POLICY && fk_tlog_policy_quorum(a->pol, &n, NULL) == FK_OK) {
        cli_err("STALE: the log's checkpoint (size %llu) lacks a witness quorum cosigned in the "
                "last %ld s (newest cosignature %lld s old): a replayed or frozen view, which "
                "can hide recoveries; do not trust this audit and tell the log's operator",
                (unsigned long long)cp->size, a->max_age,
                newest ? (long long)(now - newest) : -1LL);
        return -1;
    }
    if (err == FK_ERR_POLICY) {
        cli_err("the log's checkpoint (size %llu) lacks the witness cosignatures the policy "
                "requires (%d of %zu witnesses cosigned): a view no witness quorum saw; wait "
                "for the witnesses or check --policy",
                (unsigned long long)cp->size, __builtin_popcountll(witnessed),
                a->pol->nwitnesses);
        return -1;
    }
    if (err) {
        cli_err("the log's checkpoint carries a witness cosignature that does not verify (%s); "
                "keep it as evidence", fk_strerror(err));
        return -1;
    }
    return 0;
}

/* One audit round.  Returns 0, or -1 after printing an error. */
static int round_once(struct audit *a, const char *state, fk_checkpoint *last, int *have_last,
                      int first)
{
    fk_checkpoint cp;
    static char note[FKI_LOG_MAX_CHECKPOINT + 1];
    fk_err err = fki_log_client_checkpoint(&a->log, &cp, note);
    if (err) {
        cli_err("cannot get a valid checkpoint from %s (%s); check --log and --vkey", a->log.url,
                fki_net_strerror(err));
        return -1;
    }
    if (cp.size > MAX_AUDIT_SIZE) {
        cli_err("the log's signed checkpoint claims %llu entries, more than an audit reads "
                "(%llu): the log is misbehaving; keep its checkpoint as evidence",
                (unsigned long long)cp.size, (unsigned long long)MAX_AUDIT_SIZE);
        return -1;
    }
    if (a->pol && check_fresh(a, &cp, note))
        return -1;
    if (*have_last && cp.size < last->size) {
        cli_err("STALE: the log's checkpoint (size %llu) is older than the one seen before "
                "(size %llu): a replayed old view or a rollback, which can hide recoveries; keep "
                "%s as evidence",
                (unsigned long long)cp.size, (unsigned long long)last->size,
                state ? state : "this output");
        return -1;
    }
    if (*have_last && cp.size == last->size && memcmp(cp.root, last->root, FK_TLOG_HASH_LEN)) {
        cli_err("the log's checkpoint (size %llu) is INCONSISTENT with the one seen before: the "
                "log forked or shows a split view; keep %s as evidence",
                (unsigned long long)cp.size, state ? state : "this output");
        return -1;
    }
    if (first && !a->pol)
        fprintf(stderr, "fairkey: warning: the log policy names no witness: the checkpoint's "
                        "freshness cannot be verified: a replayed old view of the log looks the "
                        "same\n");
    if (first && !a->pol && *have_last && cp.size == last->size)
        fprintf(stderr, "fairkey: warning: the log has no entry since the last audit (size %llu): "
                        "possibly a stale view\n", (unsigned long long)cp.size);
    /* Without a frontier (no state, or one from an older fairkey) the old
     * checkpoint is checked with a consistency proof; with one, the
     * frontier recomputing the new root proves the same. */
    if (*have_last && !a->have_fr && (err = fki_log_client_consistent(&a->log, last, &cp))) {
        cli_err(err == FK_ERR_PROOF
                    ? "the log's checkpoint (size %llu) is INCONSISTENT with the one seen before "
                      "(size %llu): the log forked or shows a split view; keep %s as evidence"
                    : "cannot check the log's checkpoint (size %llu) against the one seen before "
                      "(size %llu); try again (%s)",
                (unsigned long long)cp.size, (unsigned long long)last->size,
                err == FK_ERR_PROOF ? (state ? state : "this output") : fk_strerror(err));
        return -1;
    }
    uint64_t from = a->have_fr ? a->fr.size : 0;
    if ((err = scan(a, &cp))) {
        if (err == FK_ERR_NET || err == FK_ERR_NOT_FOUND || err == FK_ERR_NOMEM)
            cli_err("cannot read the log's entries (%s); try again", fki_net_strerror(err));
        else
            cli_err("the log's entries do not match its signed checkpoint (%s): the log is "
                    "misbehaving%s; keep its checkpoint as evidence and tell its operator",
                    fk_strerror(err), from ? " or forked since the last audit" : "");
        return -1;
    }
    if (first && a->vendor_mode && !a->nt)
        printf("vendor %s: no deposit recorded up to tree size %llu\n", a->vendor,
               (unsigned long long)cp.size);
    if (first)
        for (size_t i = 0; i < a->nt; i++) {
            char rcp[FK_ESCROW_RECIPIENT_STR_MAX];
            const struct target *t = &a->t[i];
            stanza_name(rcp, t);
            if (t->old_hits)
                printf("%s: escrow stanza for %s: RECOVERY REQUESTED %llu time(s) before tree size "
                       "%llu (found by an earlier audit; the latest at log index %llu)\n",
                       tname(t), rcp, (unsigned long long)t->old_hits, (unsigned long long)from,
                       (unsigned long long)t->last);
            else if (!t->hits)
                printf("%s: escrow stanza for %s: no %s recorded up to tree size %llu\n",
                       tname(t), rcp, t->deposit ? "inspection" : "recovery",
                       (unsigned long long)cp.size);
        }
    fflush(stdout);
    if (state && save_state(a, state, note))
        return -1;
    *last = cp;
    *have_last = 1;
    return 0;
}

/* Incremental only if every target was read up to the state's size. */
static void apply_known(struct audit *a)
{
    if (!a->have_fr)
        return;
    /* --vendor: the deposits are found by reading, so every run reads the
     * whole log (the state's checkpoint is checked by a consistency proof). */
    if (a->vendor_mode)
        a->have_fr = 0;
    for (size_t i = 0; i < a->nt; i++) {
        const struct known *k = find_known(a, a->t[i].e);
        if (!k) {
            a->have_fr = 0;   /* a new file: read the log from the start */
            break;
        }
        a->t[i].old_hits = k->hits;
        a->t[i].last = k->last;
    }
    if (!a->have_fr)
        for (size_t i = 0; i < a->nt; i++)
            a->t[i].old_hits = a->t[i].last = 0;
}

/* One log to read, and the authorities (PKs) whose stanzas it watches. */
struct group {
    cli_authlog *al;               /* URL, vkey and policy (from an authority, or the flags) */
    char *policy_text;             /* the authority's canonical policy text (grouping) */
    char state[PATH_MAX];          /* its state file, or "" */
    uint8_t (*pk)[32];             /* NULL: every stanza (the flags alone name the log) */
    char (*id)[FK_ESCROW_ID_HEX_LEN]; /* the authorities' ids, in the order of pk */
    size_t npk;
    struct audit a;
    fk_checkpoint last;
    int have_last;
};

static int group_has(const struct group *g, const uint8_t pk[32])
{
    if (!g->pk)
        return 1;
    for (size_t i = 0; i < g->npk; i++)
        if (!memcmp(g->pk[i], pk, 32))
            return 1;
    return 0;
}

/* The groups from the authority files: authorities naming the same log
 * (URL, key) under the same policy share one read of it. */
static int groups_from_authorities(struct group *g, size_t *ng, char **paths, size_t np,
                                   const char *url, const char *vkey, const char *policy)
{
    for (size_t i = 0; i < np; i++) {
        fk_escrow_authority *auth = rec_load_authority(paths[i]);
        cli_authlog *al = auth ? malloc(sizeof *al) : NULL;
        if (!al || cli_authority_log(al, auth, url, vkey, policy)) {
            if (auth && !al)
                cli_err("out of memory");
            free(al);
            free(auth);
            return -1;
        }
        size_t j;
        for (j = 0; j < *ng; j++)
            if (!strcmp(g[j].al->url, al->url) && !strcmp(g[j].al->vkey, al->vkey) &&
                !strcmp(g[j].policy_text, auth->policy))
                break;
        if (j == *ng) {
            g[j].al = al;
            g[j].pk = calloc(MAX_AUDIT_AUTHORITIES, sizeof *g[j].pk);
            g[j].id = calloc(MAX_AUDIT_AUTHORITIES, sizeof *g[j].id);
            g[j].policy_text = strdup(auth->policy);
            if (!g[j].pk || !g[j].id || !g[j].policy_text) {
                cli_err("out of memory");
                free(auth);
                return -1;
            }
            (*ng)++;
        } else {
            free(al);
        }
        fk_escrow_id_hex(g[j].id[g[j].npk], auth->id);
        memcpy(g[j].pk[g[j].npk++], auth->pk, 32);
        free(auth);
    }
    return 0;
}

/* The state file of a group: the path given, or with several logs (or one
 * log under several policies) the path plus "." and 16 hex digits of
 * SHA-256(URL, vkey, policy), one file per group. */
static int group_state(struct group *g, size_t ng, const char *state)
{
    if (!state)
        return 0;
    if (ng == 1) {
        snprintf(g->state, sizeof g->state, "%s", state);
        return 0;
    }
    unsigned char md[32];
    char hex[17];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
             EVP_DigestUpdate(c, g->al->url, strlen(g->al->url) + 1) &&
             EVP_DigestUpdate(c, g->al->vkey, strlen(g->al->vkey) + 1) &&
             EVP_DigestUpdate(c, g->policy_text, strlen(g->policy_text)) &&
             EVP_DigestFinal_ex(c, md, NULL);
    EVP_MD_CTX_free(c);
    if (!ok) {
        cli_err("cannot name the state file for log %s", g->al->url);
        return -1;
    }
    fk_hex_encode(hex, md, 8);
    if ((size_t)snprintf(g->state, sizeof g->state, "%s.%s", state, hex) >= sizeof g->state) {
        cli_err("--state %s: path too long", state);
        return -1;
    }
    return 0;
}

static int parse_vendor(struct audit *a, const char *arg)
{
    if (cli_read_public_line(arg, "--vendor", a->vendor, a->vendor_key))
        return -1;
    a->vendor_mode = 1;
    return 0;
}

int cmd_audit_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"authority", required_argument, 0, 'a'},
        {"log", required_argument, 0, 'l'},      {"vkey", required_argument, 0, 'k'},
        {"policy", required_argument, 0, 'P'},   {"max-age", required_argument, 0, 'm'},
        {"state", required_argument, 0, 's'},    {"follow", no_argument, 0, 'f'},
        {"interval", required_argument, 0, 'i'}, {"help", no_argument, 0, 'h'},
        {"vendor", required_argument, 0, 'V'},   {"cacert", required_argument, 0, 'A'},
        {0, 0, 0, 0}};
    const char *vkey = NULL, *state = NULL, *logurl = NULL, *policy = NULL, *vendor = NULL;
    char *auths[MAX_AUDIT_AUTHORITIES];
    size_t nauth = 0, ng = 0;
    int c, follow = 0, interval = 5, rc = FK_EXIT_FAIL, have_max_age = 0, unwatched = 0;
    long max_age = DEFAULT_MAX_AGE;
    struct group *g = NULL;
    struct audit all;
    memset(&all, 0, sizeof all);
    optind = 1;
    while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        switch (c) {
        case 'A':
            if (rec_cacert(optarg))
                return FK_EXIT_USAGE;
            break;
        case 'a':
            if (nauth == MAX_AUDIT_AUTHORITIES) {
                cli_err("at most %d --authority per audit (a file has at most %d escrow stanzas)",
                        MAX_AUDIT_AUTHORITIES, FK_ESCROW_MAX_STANZAS);
                return FK_EXIT_USAGE;
            }
            auths[nauth++] = optarg;
            break;
        case 'l': logurl = optarg; break;
        case 'k': vkey = optarg; break;
        case 'P': policy = optarg; break;
        case 's': state = optarg; break;
        case 'f': follow = 1; break;
        case 'V': vendor = optarg; break;
        case 'i': interval = atoi(optarg); break;
        case 'm': {
            char *end;
            errno = 0;
            max_age = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || max_age < 1) {
                cli_err("--max-age must be a number of seconds, at least 1");
                return FK_EXIT_USAGE;
            }
            have_max_age = 1;
            break;
        }
        case 'h': printf("usage: fairkey %s\n", USAGE); return FK_EXIT_OK;
        default: return cli_usage(USAGE);
        }
    }
    if ((!nauth && (!logurl || (!vkey && !policy))) || (optind >= argc && !vendor) ||
        interval < 1)
        return cli_usage(USAGE);
    if (vendor && !nauth) {
        cli_err("--vendor needs --authority: a deposit is audited in its authority's log");
        return FK_EXIT_USAGE;
    }
    if (vendor && parse_vendor(&all, vendor))
        return FK_EXIT_USAGE;
    if (have_max_age && !policy && !nauth) {
        cli_err("--max-age needs --policy or --authority: only witness cosignatures date a "
                "checkpoint");
        return FK_EXIT_USAGE;
    }
    g = calloc(MAX_AUDIT_AUTHORITIES, sizeof *g);
    all.t = calloc(MAX_TARGETS, sizeof *all.t);
    if (!g || !all.t) {
        cli_err("out of memory");
        goto out;
    }
    if (load_targets(&all, argv + optind, argc - optind))
        goto out;
    if (nauth) {
        if (groups_from_authorities(g, &ng, auths, nauth, logurl, vkey, policy))
            goto out;
    } else {
        /* The flags alone: every stanza against that log.  Tests and owners
         * who know the log use it; the authority file is the sure way. */
        char policy_vkey[FK_NOTE_KEY_TEXT_MAX + 1];
        g[0].al = calloc(1, sizeof *g[0].al);
        if (!g[0].al) {
            cli_err("out of memory");
            goto out;
        }
        ng = 1;
        if (!vkey && rec_log_policy(&g[0].al->policy, policy, NULL, "--policy", "--vkey",
                                    policy_vkey)) {
            rc = FK_EXIT_USAGE;
            goto out;
        }
        if (cli_vkey_read(vkey ? vkey : policy_vkey, g[0].al->vkey))
            goto out;
        snprintf(g[0].al->url, sizeof g[0].al->url, "%s", logurl);
        if (!policy)
            g[0].al->policy.nwitnesses = 0;
        fprintf(stderr, "fairkey: warning: no --authority: every escrow stanza is audited "
                        "against --log, which may not be the log its authority names\n");
    }
    for (size_t i = 0; i < all.nt; i++) {
        size_t j;
        for (j = 0; j < ng && !group_has(&g[j], all.t[i].pk); j++)
            ;
        if (j == ng) {
            char rcp[FK_ESCROW_RECIPIENT_STR_MAX];
            stanza_name(rcp, &all.t[i]);
            printf("%s: escrow stanza for %s: NOT AUDITED: give its authority file with "
                   "--authority (it names the log that records its requests)\n",
                   all.t[i].file, rcp);
            unwatched++;
        }
    }
    for (size_t j = 0; j < ng; j++) {
        struct audit *a = &g[j].a;
        if (!(a->t = calloc(MAX_TARGETS, sizeof *a->t))) {
            cli_err("out of memory");
            goto out;
        }
        for (size_t i = 0; i < all.nt; i++)
            if (group_has(&g[j], all.t[i].pk))
                a->t[a->nt++] = all.t[i];
        if (all.vendor_mode) {
            a->vendor_mode = 1;
            memcpy(a->vendor, all.vendor, sizeof a->vendor);
            memcpy(a->vendor_key, all.vendor_key, 32);
            a->auth_id = (const char(*)[FK_ESCROW_ID_HEX_LEN])g[j].id;
            a->auth_pk = (const uint8_t(*)[32])g[j].pk;
            a->nauth = g[j].npk;
        } else if (a->nt == 0 && g[j].pk) {
            continue; /* an authority none of these files names */
        }
        if (group_state(&g[j], ng, state) || rec_log_open(&a->log, g[j].al->url, g[j].al->vkey))
            goto out;
        if (!nauth && vkey && policy &&
            rec_log_policy(&g[j].al->policy, policy, &a->log.key, "--policy", "--vkey", NULL)) {
            rc = FK_EXIT_USAGE;
            goto out;
        }
        /* Freshness needs witnesses: a policy of the log key alone dates nothing. */
        if (g[j].al->policy.nwitnesses) {
            a->pol = &g[j].al->policy;
            a->max_age = max_age;
        }
        if (g[j].state[0] && access(g[j].state, F_OK) == 0) {
            if (load_state(a, g[j].state, &g[j].last))
                goto out;
            g[j].have_last = 1;
            apply_known(a);
        }
        if (round_once(a, g[j].state[0] ? g[j].state : NULL, &g[j].last, &g[j].have_last, 1))
            goto out;
    }
    while (follow) {
        sleep((unsigned)interval);
        for (size_t j = 0; j < ng; j++)
            if ((g[j].a.nt || !g[j].pk || g[j].a.vendor_mode) &&
                round_once(&g[j].a, g[j].state[0] ? g[j].state : NULL, &g[j].last,
                           &g[j].have_last, 0))
                goto out;
    }
    rc = FK_EXIT_OK;
    for (size_t j = 0; j < ng; j++)
        for (size_t i = 0; i < g[j].a.nt; i++)
            if (g[j].a.t[i].hits || g[j].a.t[i].old_hits)
                rc = FK_EXIT_RECOVERED;
    for (size_t j = 0; j < ng; j++)
        if (rc == FK_EXIT_OK && g[j].a.bad_deposits) {
            cli_err("%d deposit record(s) name a ciphertext other than the audited file; keep "
                    "the file and the log's checkpoint as evidence", g[j].a.bad_deposits);
            rc = FK_EXIT_FAIL;
        }
    if (rc == FK_EXIT_OK && all.bad_stanzas) {
        cli_err("%d malformed escrow stanza(s) could not be audited", all.bad_stanzas);
        rc = FK_EXIT_FAIL;
    }
    if (rc == FK_EXIT_OK && unwatched) {
        cli_err("%d escrow stanza(s) not audited: give every authority file the files name",
                unwatched);
        rc = FK_EXIT_FAIL;
    }
out:
    for (size_t j = 0; g && j < ng; j++) {
        fki_log_client_close(&g[j].a.log);
        free(g[j].a.t);
        free(g[j].a.known);
        free(g[j].al);
        free(g[j].pk);
        free(g[j].id);
        free(g[j].policy_text);
    }
    free(g);
    free(all.t);
    return rc;
}
