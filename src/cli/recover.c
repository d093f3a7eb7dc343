/*
 * fairkey recover - recover a file from t escrow agents' answers.
 *
 *   fairkey recover --authority FILE --request RECEIPT|INDEX --key KEYFILE
 *                   --agents URL,URL,... -o OUT FILE.age
 *
 * Every agent is asked in parallel with the receipt.  Each answer is opened
 * with the requester's reply key and its DLEQ proof verified; a bad answer
 * names its agent and is skipped.  With t valid answers the file key is
 * combined, checked against the escrow stanza and the header MAC, and the
 * plaintext is written to a temporary file renamed to OUT only when whole.
 * The authority file does not list agent URLs: --agents gives them, in any
 * order (each agent's answer says which share it holds).  It names the log:
 * a receipt that does not place the request in that log, under its witness
 * policy, is refused before any agent is asked.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/recovery.h"
#include "cli.h"
#include "net/net.h"

#define USAGE                                                                              \
    "recover --authority FILE --request RECEIPT|INDEX --key KEYFILE\n"                     \
    "                --agents URL,URL,... [--cacert FILE] -o OUT FILE.age"

/* More agents than shares is a mistake in --agents. */
#define MAX_AGENTS FK_ESCROW_MAX_SHARES
/* An agent that is restarting gets more tries: 250 ms, 500 ms, then 1 s
 * apart, about 9 s in all (a restart opens SQLite and re-checks the log). */
#define AGENT_TRIES 10
#define AGENT_RETRY_MS 250
#define AGENT_RETRY_MAX_MS 1000
#define AGENT_TIMEOUT_MS 10000

enum job_state { JOB_RUNNING, JOB_VALID, JOB_BAD };

struct job {
    char url[REC_URL_MAX];
    int state;
    fk_escrow_partial part;
    char msg[REC_URL_MAX + 600];
};

struct shared {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    /* Once the main thread has what it needs it sets stopping and waits
     * until no worker is busy checking an answer: workers still waiting on a
     * slow agent then never touch the crypto libraries again, which exit()
     * tears down (a late answer checked during exit crashed the process). */
    int stopping, busy;
    size_t done, valid, njobs;
    struct job *jobs;
    char *receipt;
    size_t receipt_len;
    fk_escrow_authority *auth;
    uint8_t eh[32];
    uint8_t target[32];
    uint8_t reply_secret[32];
};

struct arg {
    struct shared *sh;
    size_t i;
};

static void release(struct shared *sh)
{
    pthread_mutex_lock(&sh->mu);
    int last = --sh->refs == 0;
    pthread_mutex_unlock(&sh->mu);
    if (!last)
        return;
    for (size_t i = 0; i < sh->njobs; i++)
        fk_wipe(&sh->jobs[i].part, sizeof sh->jobs[i].part);
    fk_wipe(sh->reply_secret, sizeof sh->reply_secret);
    free(sh->jobs);
    free(sh->receipt);
    free(sh->auth);
    pthread_mutex_destroy(&sh->mu);
    pthread_cond_destroy(&sh->cv);
    free(sh);
}

static int check_answer(struct shared *sh, struct job *j, size_t num, fk_err err, long status,
                        uint8_t *body, size_t blen, fk_escrow_partial *out);

static int stopping(struct shared *sh)
{
    pthread_mutex_lock(&sh->mu);
    int s = sh->stopping;
    pthread_mutex_unlock(&sh->mu);
    return s;
}

/* Ask one agent; fill j->part or j->msg.  Returns JOB_VALID or JOB_BAD. */
static int ask(struct shared *sh, struct job *j, size_t num, fk_escrow_partial *out)
{
    char url[REC_URL_MAX];
    uint8_t *body = NULL;
    size_t blen = 0;
    long status = 0;
    fk_err err = FK_ERR_NET;
    struct fki_net_client_opts o = {.content_type = "text/plain; charset=utf-8",
                                    .timeout_ms = AGENT_TIMEOUT_MS, .max_response = 65536};
    if (rec_url(url, sizeof url, j->url, "recover")) {
        snprintf(j->msg, sizeof j->msg, "--agents entry %zu: URL too long; skipped", num);
        return JOB_BAD;
    }
    for (int t = 0; t < AGENT_TRIES && !stopping(sh); t++) {
        free(body);
        body = NULL;
        err = fki_net_post(url, sh->receipt, sh->receipt_len, &o, &status, &body, &blen);
        if (!err && status != 503)
            break;
        if (t + 1 < AGENT_TRIES) {
            unsigned ms = AGENT_RETRY_MS << (t < 2 ? t : 2);
            usleep((ms < AGENT_RETRY_MAX_MS ? ms : AGENT_RETRY_MAX_MS) * 1000u);
        }
    }
    pthread_mutex_lock(&sh->mu);
    if (sh->stopping) {
        pthread_mutex_unlock(&sh->mu);
        snprintf(j->msg, sizeof j->msg, "--agents entry %zu (%s): not needed any more", num, j->url);
        free(body);
        return JOB_BAD;
    }
    sh->busy++;
    pthread_mutex_unlock(&sh->mu);
    int verdict = check_answer(sh, j, num, err, status, body, blen, out);
    free(body);
    pthread_mutex_lock(&sh->mu);
    sh->busy--;
    pthread_cond_broadcast(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
    return verdict;
}

/* Judge one agent's reply (or its absence); fills j->msg, and out when valid. */
static int check_answer(struct shared *sh, struct job *j, size_t num, fk_err err, long status,
                        uint8_t *body, size_t blen, fk_escrow_partial *out)
{
    if (err) {
        snprintf(j->msg, sizeof j->msg, "--agents entry %zu (%s) did not answer (%s); skipped", num, j->url,
                 fki_net_strerror(err));
        return JOB_BAD;
    }
    char why[256] = "";
    long long id = 0;
    int rc = JOB_BAD;
    switch (rec_answer_read(status, body, blen, sh->auth, sh->reply_secret, sh->eh, sh->target,
                            out, &id, why, sizeof why)) {
    case REC_ANSWER_VALID:
        /* Named by the share it proved, not by its place in --agents. */
        snprintf(j->msg, sizeof j->msg, "agent %u (%s) answered with share %u; proof verified",
                 out->index, j->url, out->index);
        rc = JOB_VALID;
        break;
    case REC_ANSWER_PENDING:
        snprintf(j->msg, sizeof j->msg,
                 "--agents entry %zu (%s) queued the request for manual approval (id %lld); run recover "
                 "again once its operator approves it", num, j->url, id);
        break;
    case REC_ANSWER_REFUSED:
        snprintf(j->msg, sizeof j->msg, "--agents entry %zu (%s) refused: %s (HTTP %ld)", num, j->url, why,
                 status);
        break;
    case REC_ANSWER_UNREADABLE:
        snprintf(j->msg, sizeof j->msg,
                 "--agents entry %zu (%s) sent an unreadable answer (HTTP %ld); skipped", num, j->url,
                 status);
        break;
    case REC_ANSWER_UNOPENED:
        snprintf(j->msg, sizeof j->msg,
                 "--agents entry %zu (%s) returned an answer that does not open for this request; skipped",
                 num, j->url);
        break;
    case REC_ANSWER_BAD_PROOF:
        snprintf(j->msg, sizeof j->msg, "--agents entry %zu (%s) returned an invalid proof; skipped", num,
                 j->url);
        break;
    }
    return rc;
}

static void *worker(void *v)
{
    struct arg *a = v;
    struct shared *sh = a->sh;
    size_t i = a->i;
    free(a);
    fk_escrow_partial p;
    int rc = ask(sh, &sh->jobs[i], i + 1, &p);
    pthread_mutex_lock(&sh->mu);
    if (rc == JOB_VALID) {
        sh->jobs[i].part = p;
        sh->valid++;
    }
    sh->jobs[i].state = rc;
    sh->done++;
    pthread_cond_signal(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
    fk_wipe(&p, sizeof p);
    release(sh);
    return NULL;
}

static int decrypt_to(const char *in, const char *out, const uint8_t key[FK_AGE_FILE_KEY_LEN])
{
    fk_identity *id = NULL;
    cli_out o;
    int rc = -1;
    int fd = cli_open_in(in, 0);
    if (fd < 0)
        return -1;
    if (fk_filekey_identity_new(&id, key)) {
        cli_err("out of memory");
        goto done;
    }
    if (cli_out_open(&o, out, CLI_OUT_SECRET))
        goto done;
    fk_decrypt_opts opts = {0};
    fk_err err = fk_age_decrypt_fd(fd, o.fd, &id, 1, &opts, NULL);
    if (err) {
        cli_out_abort(&o);
        cli_err("%s: %s; nothing written", in, cli_describe_err(err));
        goto done;
    }
    if (cli_out_commit(&o))
        goto done;
    rc = 0;
done:
    if (id)
        fk_identity_free(id);
    cli_close_in(fd);
    return rc;
}

/* The receipt proves the request is in the authority's log, in a
 * checkpoint that meets the authority's witness policy. */
static int check_log(const fk_escrow_authority *auth, const fk_tlog_proof *pr,
                     const uint8_t eh[32], const char *path)
{
    static cli_authlog al;
    if (cli_authority_log(&al, auth, NULL, NULL, NULL))
        return -1;
    fk_err err = cli_log_proof_verify(&al, pr, eh, NULL);
    if (err == FK_ERR_POLICY)
        cli_err("%s: the receipt's checkpoint lacks the witness cosignatures authority %s's log "
                "policy requires; get a receipt under a checkpoint the witnesses cosigned",
                path, auth->name);
    else if (err)
        cli_err("%s does not prove the request is in authority %s's log (%s); file it with "
                "'fairkey request', which uses that log", path, auth->name, al.url);
    return err ? -1 : 0;
}

int cmd_recover_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"authority", required_argument, 0, 'a'}, {"request", required_argument, 0, 'q'},
        {"key", required_argument, 0, 'k'},       {"agents", required_argument, 0, 'g'},
        {"output", required_argument, 0, 'o'},    {"help", no_argument, 0, 'h'},
        {"cacert", required_argument, 0, 'A'},
        {0, 0, 0, 0}};
    const char *authp = NULL, *reqp = NULL, *keyp = NULL, *agents = NULL, *out = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'A':
            if (rec_cacert(optarg))
                return FK_EXIT_USAGE;
            break;
        case 'a': authp = optarg; break;
        case 'q': reqp = optarg; break;
        case 'k': keyp = optarg; break;
        case 'g': agents = optarg; break;
        case 'o': out = optarg; break;
        default: return cli_usage(USAGE);
        }
    }
    if (!authp || !reqp || !keyp || !agents || !out || optind != argc - 1)
        return cli_usage(USAGE);
    const char *file = argv[optind];
    int rc = FK_EXIT_FAIL;
    fk_requester_key k;
    fk_escrow_stanza_info st;
    fk_tlog_proof *pr = malloc(sizeof *pr);
    struct shared *sh = calloc(1, sizeof *sh);
    char note[FK_REQUEST_NOTE_MAX + 1];
    size_t note_len;
    fk_request r;
    memset(&k, 0, sizeof k);
    if (!pr || !sh) {
        free(pr);
        free(sh);
        cli_err("out of memory");
        return FK_EXIT_FAIL;
    }
    pthread_mutex_init(&sh->mu, NULL);
    pthread_cond_init(&sh->cv, NULL);
    sh->refs = 1;
    if (!(sh->auth = rec_load_authority(authp)) || rec_load_requester_key(keyp, &k) ||
        rec_find_stanza(file, sh->auth, &st))
        goto out;
    /* --request: a receipt file, or the index 'fairkey request' put in the
     * default receipt name next to the file. */
    char rpath[4096];
    if (strspn(reqp, "0123456789") == strlen(reqp)) {
        snprintf(rpath, sizeof rpath, "%s.request-%s.tlog-proof", file, reqp);
        reqp = rpath;
    }
    if (cli_read_file(reqp, REC_RECEIPT_MAX, 0, &sh->receipt, &sh->receipt_len))
        goto out;
    if (fk_request_receipt_parse(pr, note, &note_len, sh->receipt, sh->receipt_len) ||
        fk_request_verify(&r, note, note_len)) {
        cli_err("%s is not a valid receipt with a signed request; use the file 'fairkey request' wrote",
                reqp);
        goto out;
    }
    char idhex[FK_ESCROW_ID_HEX_LEN];
    fk_escrow_id_hex(idhex, sh->auth->id);
    if (strcmp(r.authority, idhex)) {
        cli_err("the request is for another authority than %s; check --authority", authp);
        goto out;
    }
    if (!fk_request_target_is(&r, &st)) {
        cli_err("the request names another file's escrow target than %s's; check the file and --request",
                file);
        goto out;
    }
    if (memcmp(r.reply_to, k.reply_pub, 32)) {
        cli_err("the request's answers are sealed to another reply key than %s's; use the key "
                "that filed the request", keyp);
        goto out;
    }
    memcpy(sh->reply_secret, k.reply_secret, 32);
    memcpy(sh->target, st.e, 32);
    fk_request_entry_hash(sh->eh, note, note_len);
    if (check_log(sh->auth, pr, sh->eh, reqp))
        goto out;

    /* Split --agents. */
    size_t n = 1;
    for (const char *p = agents; *p; p++)
        n += *p == ',';
    if (n > MAX_AGENTS || !(sh->jobs = calloc(n, sizeof *sh->jobs))) {
        cli_err("too many agents in --agents (at most %d)", MAX_AGENTS);
        goto out;
    }
    const char *p = agents;
    for (size_t i = 0; i < n; i++) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == 0 || l >= REC_URL_MAX) {
            cli_err("--agents must be a comma-separated list of URLs");
            goto out;
        }
        memcpy(sh->jobs[i].url, p, l);
        p = e ? e + 1 : p + l;
    }
    sh->njobs = n;
    for (size_t i = 0; i < n; i++) {
        struct arg *a = malloc(sizeof *a);
        pthread_t th;
        if (!a)
            break;
        a->sh = sh;
        a->i = i;
        pthread_mutex_lock(&sh->mu);
        sh->refs++;
        pthread_mutex_unlock(&sh->mu);
        if (pthread_create(&th, NULL, worker, a)) {
            free(a);
            pthread_mutex_lock(&sh->mu);
            sh->refs--;
            sh->jobs[i].state = JOB_BAD;
            snprintf(sh->jobs[i].msg, sizeof sh->jobs[i].msg, "--agents entry %zu: cannot start a thread", i + 1);
            sh->done++;
            pthread_mutex_unlock(&sh->mu);
            continue;
        }
        pthread_detach(th);
    }
    /* Wait for t valid answers, or for every agent to have answered. */
    fk_escrow_partial parts[MAX_AGENTS];
    size_t np = 0;
    pthread_mutex_lock(&sh->mu);
    while (sh->valid < sh->auth->t && sh->done < sh->njobs)
        pthread_cond_wait(&sh->cv, &sh->mu);
    for (size_t i = 0; i < n; i++) {
        struct job *j = &sh->jobs[i];
        if (j->state == JOB_RUNNING)
            continue;
        fprintf(stderr, "%s\n", j->msg);
        if (j->state == JOB_VALID && np < sh->auth->t) {
            int dup = 0;
            for (size_t q = 0; q < np; q++)
                dup |= parts[q].index == j->part.index;
            if (dup)
                fprintf(stderr, "agent %u (%s, --agents entry %zu) holds share %u, already used; "
                                "skipped\n", j->part.index, j->url, i + 1, j->part.index);
            else
                parts[np++] = j->part;
        }
    }
    pthread_mutex_unlock(&sh->mu);
    if (np < sh->auth->t) {
        cli_err("only %zu of the %u valid answers needed; nothing written (start more agents or "
                "ask their operators)", np, sh->auth->t);
        goto out_parts;
    }
    /* Combine, open the stanza, check the header MAC, decrypt. */
    fk_header h;
    uint8_t key[FK_AGE_FILE_KEY_LEN];
    if (rec_read_header(file, &h))
        goto out_parts;
    fk_err err = FK_OK;
    /* Every proof was verified as its answer came in: combine, open the
     * stanza (k must recompute E), and check the header MAC under k. */
    uint8_t z[FK_ESCROW_POINT_LEN];
    fk_escrow_stanza_info hst;
    if (!err)
        err = fk_escrow_header_find(&h, sh->auth->pk, &hst);
    if (!err)
        err = fk_escrow_combine(z, sh->auth, parts, np);
    if (!err)
        err = fk_escrow_open(key, &hst, z);
    fk_wipe(z, sizeof z);
    if (!err && (err = fk_header_verify_mac(&h, key)))
        fk_wipe(key, sizeof key);
    fk_header_clear(&h);
    if (err) {
        cli_err("the combined answers do not open %s's escrow stanza (%s); nothing written", file,
                fk_strerror(err));
        goto out_parts;
    }
    if (decrypt_to(file, out, key) == 0) {
        fprintf(stderr, "recovered %s with %zu of %u agents; plaintext written to %s\n", file, np,
                sh->auth->n, out);
        rc = FK_EXIT_OK;
    }
    fk_wipe(key, sizeof key);
out_parts:
    fk_wipe(parts, sizeof parts);
out:
    if (sh) {
        pthread_mutex_lock(&sh->mu);
        sh->stopping = 1;
        while (sh->busy)
            pthread_cond_wait(&sh->cv, &sh->mu);
        pthread_mutex_unlock(&sh->mu);
    }
    fk_requester_key_wipe(&k);
    free(pr);
    release(sh);
    return rc;
}
