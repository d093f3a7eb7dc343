/*
 * fairkey audit - does the log record any recovery request for my files?
 *
 *   fairkey audit --log URL --vkey VKEY [--state FILE] [--follow]
 *                 [--interval SECONDS] FILE.age...
 *
 * Verifies the log's checkpoint, checks it is consistent with the one seen
 * last time (state file), reads every entry from the log's entry bundles,
 * checks that the entries recompute the checkpoint's root, and reports for
 * each escrow stanza of each file the requests that target it, or "no
 * recovery recorded up to tree size N".  --follow keeps polling and reports
 * new requests as they are logged.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/recovery.h"
#include "cli.h"

#define USAGE "audit --log URL --vkey VKEY [--state FILE] [--follow] [--interval S] FILE.age..."

/* Escrow stanzas audited across all files: a header has a handful. */
#define MAX_TARGETS 4096

struct target {
    const char *file;
    uint8_t pk[32];
    uint8_t e[32];
    size_t hits;
};

struct audit {
    struct fki_log_client log;
    struct target *t;
    size_t nt;
    uint8_t (*leaves)[32]; /* every leaf hash read so far */
    uint64_t nleaves, capleaves;
};

static int load_targets(struct audit *a, char **files, int nfiles)
{
    for (int i = 0; i < nfiles; i++) {
        fk_header h;
        if (rec_read_header(files[i], &h))
            return -1;
        fk_escrow_stanza_info info[16];
        size_t count = 0;
        fk_err err = fk_escrow_header_list(&h, info, 16, &count);
        fk_header_clear(&h);
        if (err && err != FK_ERR_ESCROW) {
            cli_err("%s: cannot list escrow stanzas (%s); the file's header is damaged",
                files[i], fk_strerror(err));
            return -1;
        }
        if (count == 0)
            printf("%s: no escrow stanza; nothing to audit\n", files[i]);
        for (size_t j = 0; j < count && j < 16; j++) {
            if (a->nt == MAX_TARGETS) {
                cli_err("too many escrow stanzas to audit at once (at most %d); audit fewer "
                        "files per run", MAX_TARGETS);
                return -1;
            }
            a->t[a->nt].file = files[i];
            memcpy(a->t[a->nt].pk, info[j].pk, 32);
            memcpy(a->t[a->nt].e, info[j].e, 32);
            a->nt++;
        }
    }
    return 0;
}

/* One entry: is it a request for one of our targets? */
static void check_entry(struct audit *a, uint64_t index, const uint8_t *entry, size_t len)
{
    fk_request r;
    if (fk_request_verify(&r, (const char *)entry, len))
        return; /* not a (validly signed) request: nothing an agent would answer */
    for (size_t i = 0; i < a->nt; i++) {
        if (memcmp(a->t[i].e, r.target, 32))
            continue;
        char rcp[FK_ESCROW_RECIPIENT_STR_MAX], tm[FK_REQUEST_TIME_STR_LEN + 1];
        fk_escrow_recipient_encode(rcp, a->t[i].pk);
        fk_request_time_format(tm, r.time);
        printf("%s: escrow stanza for %s: RECOVERY REQUESTED at log index %llu by %s at %s: %s\n",
               a->t[i].file, rcp, (unsigned long long)index, r.requester, tm, r.reason);
        a->t[i].hits++;
    }
}

/* One entry read from the log: keep its leaf hash, check it. */
static fk_err on_entry(void *ctx, uint64_t index, const uint8_t *entry, size_t len)
{
    struct audit *a = ctx;
    fk_err err = fk_tlog_leaf_hash(a->leaves[index], entry, len);
    if (!err)
        check_entry(a, index, entry, len);
    return err;
}

/* Read entries [a->nleaves, cp->size), check each new request, and check
 * that all leaves recompute cp's root. */
static fk_err scan(struct audit *a, const fk_checkpoint *cp)
{
    if (cp->size > a->capleaves) {
        uint64_t cap = cp->size + 1024;
        void *nl = realloc(a->leaves, cap * 32);
        if (!nl)
            return FK_ERR_NOMEM;
        a->leaves = nl;
        a->capleaves = cap;
    }
    fk_err err = fki_log_client_entries(&a->log, cp, a->nleaves, on_entry, a);
    if (err)
        return err;
    uint8_t root[32];
    if ((err = fk_tlog_root(root, (const uint8_t(*)[32])a->leaves, cp->size)))
        return err;
    if (memcmp(root, cp->root, 32))
        return FK_ERR_PROOF;
    a->nleaves = cp->size;
    return FK_OK;
}

static int save_state(const char *path, const char *note, size_t len)
{
    cli_out o;
    if (cli_out_open(&o, path, 0))
        return -1;
    if (cli_write_all(o.fd, note, len) || cli_out_commit(&o)) {
        cli_out_abort(&o);
        return -1;
    }
    return 0;
}

/* One audit round.  Returns 0, or -1 after printing an error. */
static int round_once(struct audit *a, const char *state, fk_checkpoint *last, int *have_last,
                      int report_clean)
{
    fk_checkpoint cp;
    static char note[FKI_LOG_MAX_CHECKPOINT + 1];
    fk_err err = fki_log_client_checkpoint(&a->log, &cp, note);
    if (err) {
        cli_err("cannot get a valid checkpoint from %s (%s); check --log and --vkey", a->log.url,
                fk_strerror(err));
        return -1;
    }
    size_t nlen = strlen(note);
    /* A smaller tree than last time is a rollback: the log client says
     * FK_ERR_PROOF for it, as for any fork. */
    if (*have_last && (err = fki_log_client_consistent(&a->log, last, &cp))) {
        cli_err(err == FK_ERR_PROOF
                    ? "the log's checkpoint (size %llu) is INCONSISTENT with the one seen before "
                      "(size %llu): the log forked or shows a split view; keep %s as evidence"
                    : "cannot check the log's checkpoint (size %llu) against the one seen before "
                      "(size %llu); try again (%s)",
                (unsigned long long)cp.size, (unsigned long long)last->size,
                err == FK_ERR_PROOF ? (state ? state : "this output") : fk_strerror(err));
        return -1;
    }
    if ((err = scan(a, &cp))) {
        if (err == FK_ERR_NET || err == FK_ERR_NOT_FOUND || err == FK_ERR_NOMEM)
            cli_err("cannot read the log's entries (%s); try again", fk_strerror(err));
        else
            cli_err("the log's entries do not match its signed checkpoint (%s): the log is "
                    "misbehaving; keep its checkpoint as evidence and tell its operator",
                    fk_strerror(err));
        return -1;
    }
    if (report_clean)
        for (size_t i = 0; i < a->nt; i++) {
            if (a->t[i].hits)
                continue;
            char rcp[FK_ESCROW_RECIPIENT_STR_MAX];
            fk_escrow_recipient_encode(rcp, a->t[i].pk);
            printf("%s: escrow stanza for %s: no recovery recorded up to tree size %llu\n",
                   a->t[i].file, rcp, (unsigned long long)cp.size);
        }
    fflush(stdout);
    if (state && (!*have_last || cp.size != last->size) && save_state(state, note, nlen))
        return -1;
    *last = cp;
    *have_last = 1;
    return 0;
}

int cmd_audit_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"log", required_argument, 0, 'l'},    {"vkey", required_argument, 0, 'k'},
        {"state", required_argument, 0, 's'},  {"follow", no_argument, 0, 'f'},
        {"interval", required_argument, 0, 'i'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *vkey = NULL, *state = NULL, *logurl = NULL;
    int c, follow = 0, interval = 5, rc = FK_EXIT_FAIL;
    struct audit a;
    memset(&a, 0, sizeof a);
    while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        switch (c) {
        case 'l': logurl = optarg; break;
        case 'k': vkey = optarg; break;
        case 's': state = optarg; break;
        case 'f': follow = 1; break;
        case 'i': interval = atoi(optarg); break;
        default: return cli_usage(USAGE);
        }
    }
    if (!logurl || !vkey || optind >= argc || interval < 1)
        return cli_usage(USAGE);
    if (rec_log_open(&a.log, logurl, vkey))
        return FK_EXIT_FAIL;
    a.t = calloc(MAX_TARGETS, sizeof *a.t);
    if (!a.t) {
        cli_err("out of memory");
        goto out;
    }
    if (load_targets(&a, argv + optind, argc - optind))
        goto out;
    fk_checkpoint last;
    int have_last = 0;
    memset(&last, 0, sizeof last);
    if (state && access(state, F_OK) == 0) {
        char *text;
        size_t len;
        if (cli_read_file(state, 65536, 0, &text, &len))
            goto out;
        fk_err err = fk_checkpoint_open(&last, NULL, text, len, a.log.key.name, &a.log.key, 1,
                                        NULL);
        last.ext = NULL;
        free(text);
        if (err) {
            cli_err("%s does not hold a checkpoint signed by this log; remove it or pass the "
                    "right --vkey", state);
            goto out;
        }
        have_last = 1;
    }
    if (round_once(&a, state, &last, &have_last, 1))
        goto out;
    while (follow) {
        sleep((unsigned)interval);
        if (round_once(&a, state, &last, &have_last, 0))
            goto out;
    }
    rc = FK_EXIT_OK;
out:
    fki_log_client_close(&a.log);
    free(a.t);
    free(a.leaves);
    return rc;
}
