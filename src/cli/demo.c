/*
 * fairkey demo - the whole system on loopback, in a temporary folder: a
 * transparency log, a 3-of-5 authority made without a dealer (COCKTAIL-DKG:
 * five agent organisations and a coordinator), five agents, a user, a file
 * with an escrow stanza, stock age decrypting it, a logged recovery request, a
 * recovery with three agents (two stopped first), and the audit finding it;
 * then a sealed source deposit, its inspection and the vendor's audit.
 *
 *   fairkey demo [--keep]
 *
 * Every step runs the real commands as child processes; every child is
 * stopped on exit, on error and on Ctrl-C.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

#define DEMO_AGENTS 5
#define DEMO_T 3
/* Children: the log, five agents. */
#define MAX_CHILDREN 8
/* How long a daemon may take to print its port (50 ms steps). */
#define START_POLLS 200

static pid_t children[MAX_CHILDREN];
static int nchildren;
static char dir[1024]; /* short, so every path under it fits PATH_MAX */
static int keep;
static char self[PATH_MAX];

static void stop_child(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100; i++) { /* 5 s, then SIGKILL */
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(50000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void rm_tree(const char *path)
{
    pid_t pid;
    char *argv[] = {"rm", "-rf", (char *)path, NULL};
    if (posix_spawnp(&pid, "rm", NULL, NULL, argv, environ) == 0)
        waitpid(pid, NULL, 0);
}

static void cleanup(void)
{
    for (int i = 0; i < nchildren; i++) {
        stop_child(children[i]);
        children[i] = 0;
    }
    nchildren = 0;
    if (dir[0] && !keep)
        rm_tree(dir);
    dir[0] = 0;
}

static void on_signal(int sig)
{
    for (int i = 0; i < nchildren; i++)
        if (children[i] > 0)
            kill(children[i], SIGTERM);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void step(const char *fmt, ...)
{
    static int n;
    va_list ap;
    printf("\n[%d] ", ++n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* Print a file indented, as the output of a step. */
static void show(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    if (!f)
        return;
    while (fgets(line, sizeof line, f))
        printf("    %s%s", line, strchr(line, '\n') ? "" : "\n");
    fclose(f);
    fflush(stdout);
}

static void path_in(char *out, const char *name)
{
    snprintf(out, PATH_MAX, "%s/%s", dir, name);
}

/* Start argv with stdout to out and stderr to err (either may be NULL:
 * inherited).  Returns the pid or -1. */
static pid_t spawn(char *const argv[], const char *out, const char *err)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    posix_spawn_file_actions_init(&fa);
    if (out)
        posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (err)
        posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc ? -1 : pid;
}

/* Run to completion; returns the exit status (or -1). */
static int run(char *const argv[], const char *out, const char *err);

/* Run a step's command with its output in DIR/NAME.out and DIR/NAME.err;
 * show the output if shown, and the errors (after a line naming the
 * command) if it fails. */
static int run_step(char *const argv[], const char *name, int shown)
{
    char out[PATH_MAX], err[PATH_MAX], file[64];
    snprintf(file, sizeof file, "%s.out", name);
    path_in(out, file);
    snprintf(file, sizeof file, "%s.err", name);
    path_in(err, file);
    if (run(argv, out, err)) {
        cli_err("'fairkey %s %s%s%s' failed:", argv[1], argv[2] ? argv[2] : "",
                argv[2] && argv[3] ? " " : "", argv[2] && argv[3] ? argv[3] : "");
        show(err);
        return -1;
    }
    if (shown)
        show(out);
    return 0;
}

/* Run to completion; returns the exit status (or -1). */
static int run(char *const argv[], const char *out, const char *err)
{
    pid_t pid = spawn(argv, out, err);
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = 0;
    fclose(f);
    return 0;
}

/* Start a daemon and wait until it prints "listening on port N". */
static int start_daemon(char *const argv[], const char *name, unsigned *port, pid_t *pidp)
{
    char out[PATH_MAX + 64], err[PATH_MAX + 64], buf[8192];
    snprintf(out, sizeof out, "%s/%s.out", dir, name);
    snprintf(err, sizeof err, "%s/%s.err", dir, name);
    if (nchildren == MAX_CHILDREN)
        return -1;
    pid_t pid = spawn(argv, out, err);
    if (pid < 0)
        return -1;
    children[nchildren++] = pid;
    *pidp = pid;
    for (int i = 0; i < START_POLLS; i++) {
        if (read_small(out, buf, sizeof buf) == 0) {
            /* agents say "listening on port N"; the log prints its URL */
            char *p = strstr(buf, "listening on port ");
            if (p && sscanf(p, "listening on port %u", port) == 1)
                return 0;
            p = strstr(buf, "http://127.0.0.1:");
            if (p && strchr(p, '\n') && sscanf(p, "http://127.0.0.1:%u", port) == 1)
                return 0;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid)
            break;
        usleep(50000);
    }
    cli_err("%s did not start:", name);
    show(err);
    return -1;
}

static int files_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int eq = fa && fb;
    while (eq) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb)
            eq = 0;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return eq;
}

/* The log's verifier key: the line of its start-up output that is a vkey. */
static int log_vkey(const char *out, char *vkey, size_t cap)
{
    char buf[8192];
    if (read_small(out, buf, sizeof buf))
        return -1;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char *p = strstr(line, "demo.fairkey.test/log+");
        if (!p)
            continue;
        size_t n = strcspn(p, " \t\r");
        fk_note_verifier v;
        if (n < cap && fk_note_verifier_parse(&v, p, n) == FK_OK) {
            memcpy(vkey, p, n);
            vkey[n] = 0;
            return 0;
        }
    }
    return -1;
}

/* The authority without a dealer (COCKTAIL-DKG, docs/spec.md 9): five agent
 * organisations, a coordinator that holds no secret and relays files.  The
 * coordinator's files are in DIR/dkg, organisation i's in DIR/org-<i>; the
 * authority file goes to authpub, the shares to DIR/org-<i>/share-<i>.key. */
static int dkg(const char *logurl, const char *vkey, char *authpub)
{
    char cdir[PATH_MAX], session[PATH_MAX], bundle[PATH_MAX], transcript[PATH_MAX],
        key[DEMO_AGENTS][PATH_MAX], org[DEMO_AGENTS][PATH_MAX], r1[DEMO_AGENTS][PATH_MAX],
        sig[DEMO_AGENTS][PATH_MAX], pub[DEMO_AGENTS][64], name[32], tmp[PATH_MAX];
    path_in(cdir, "dkg");
    path_in(session, "dkg/session");
    path_in(bundle, "dkg/round1-bundle");
    path_in(transcript, "dkg/transcript");
    if (mkdir(cdir, 0700) < 0)
        return -1;

    step("Five agent organisations each make a long-term participant key (kept by them).");
    for (int i = 0; i < DEMO_AGENTS; i++) {
        snprintf(org[i], PATH_MAX, "%s/org-%d", dir, i + 1);
        snprintf(key[i], PATH_MAX, "%s/org-%d/participant.key", dir, i + 1);
        snprintf(r1[i], PATH_MAX, "%s/dkg/round1-%d", dir, i + 1);
        snprintf(sig[i], PATH_MAX, "%s/dkg/signature-%d", dir, i + 1);
        snprintf(name, sizeof name, "dkg-keygen-%d", i + 1);
        if (mkdir(org[i], 0700) < 0)
            return -1;
        char *argv[] = {self, "authority", "dkg", "keygen", "-o", key[i], NULL};
        snprintf(tmp, sizeof tmp, "%s/%s.out", dir, name);
        if (run_step(argv, name, 0) || read_small(tmp, pub[i], sizeof pub[i]))
            return -1;
        pub[i][strcspn(pub[i], "\n")] = 0;
        printf("    organisation %d: %s\n", i + 1, pub[i]);
    }

    step("A coordinator (it holds no secret) opens a 3-of-5 session naming the log.");
    {
        char *argv[8 + 2 * DEMO_AGENTS + 8] = {self, "authority", "dkg", "init", "--threshold",
                                               "3", "--name", "demo-authority", "--log",
                                               (char *)logurl, "--log-vkey", (char *)vkey, "-o",
                                               session};
        int a = 14;
        for (int i = 0; i < DEMO_AGENTS; i++) {
            argv[a++] = "--participant";
            argv[a++] = pub[i];
        }
        argv[a] = NULL;
        if (run_step(argv, "dkg-init", 0))
            return -1;
        printf("    session %s\n", session);
    }

    step("Round 1: each organisation commits to a random polynomial and seals one share for\n"
         "    each of the others; the coordinator relays them as one bundle (checking proofs).");
    for (int i = 0; i < DEMO_AGENTS; i++) {
        char *argv[] = {self, "authority", "dkg", "round1", "--session", session, "--key",
                        key[i], "-o", r1[i], NULL};
        snprintf(name, sizeof name, "dkg-round1-%d", i + 1);
        if (run_step(argv, name, 0))
            return -1;
    }
    {
        char *argv[9 + DEMO_AGENTS] = {self, "authority", "dkg", "collect", "--session",
                                       session, "-o", bundle};
        for (int i = 0; i < DEMO_AGENTS; i++)
            argv[8 + i] = r1[i];
        argv[8 + DEMO_AGENTS] = NULL;
        if (run_step(argv, "dkg-collect", 0))
            return -1;
        printf("    5 round 1 messages, every proof of possession valid\n");
    }

    step("Round 2: each organisation opens and checks the shares sealed to it (a cheater\n"
         "    would be named) and signs the transcript; the coordinator certifies it.");
    for (int i = 0; i < DEMO_AGENTS; i++) {
        char *argv[] = {self, "authority", "dkg", "round2", "--session", session, "--key",
                        key[i], "--bundle", bundle, "-o", sig[i], NULL};
        snprintf(name, sizeof name, "dkg-round2-%d", i + 1);
        if (run_step(argv, name, 0))
            return -1;
    }
    {
        char *argv[13 + DEMO_AGENTS] = {self, "authority", "dkg", "certify", "--session",
                                        session, "--bundle", bundle, "-o", transcript,
                                        "--authority-out", authpub};
        for (int i = 0; i < DEMO_AGENTS; i++)
            argv[12 + i] = sig[i];
        argv[12 + DEMO_AGENTS] = NULL;
        if (run_step(argv, "dkg-certify", 0))
            return -1;
        printf("    transcript signed by all 5: %s\n", transcript);
    }

    step("Each organisation checks the certificate against its own transcript and writes its\n"
         "    share; the secret key was never in any one place.");
    for (int i = 0; i < DEMO_AGENTS; i++) {
        char out[PATH_MAX], theirs[PATH_MAX];
        snprintf(out, sizeof out, "%s/org-%d/authority", dir, i + 1);
        char *argv[] = {self, "authority", "dkg", "finish", "--session", session, "--key",
                        key[i], "--bundle", bundle, "--transcript", transcript, "--out", out,
                        NULL};
        snprintf(name, sizeof name, "dkg-finish-%d", i + 1);
        if (run_step(argv, name, 0))
            return -1;
        snprintf(theirs, sizeof theirs, "%s/org-%d/authority/authority.pub", dir, i + 1);
        if (!files_equal(theirs, authpub)) {
            cli_err("organisation %d made another authority file than the coordinator", i + 1);
            return -1;
        }
        if (i == 0) {
            snprintf(tmp, sizeof tmp, "%s/dkg-finish-1.out", dir);
            show(tmp);
        }
        printf("    organisation %d: share-%d.key\n", i + 1, i + 1);
    }
    return 0;
}

/* A sealed source deposit (docs/protocol.md 10): a vendor deposits an
 * archive, the investigator inspects it through the agents, the recovered
 * archive verifies against the logged hash, and the vendor's audit shows
 * both (exit 3). */
static int deposit_and_inspect(const char *authpub, const char *reqkey, const char *warrant,
                               const char *agents)
{
    char vkey[PATH_MAX], vpub[PATH_MAX], vage[PATH_MAX], archive[PATH_MAX], bin[PATH_MAX],
        dep[PATH_MAX], depr[PATH_MAX], insp[PATH_MAX], got[PATH_MAX], tmp[PATH_MAX],
        tmp2[PATH_MAX], buf[8192], vendor_r[128] = "";
    path_in(vkey, "vendor.key");
    path_in(vpub, "vendor.pub");
    path_in(vage, "vendor-age.key");
    path_in(archive, "acme-1.0-src.tar");
    path_in(bin, "acme-1.0-linux-amd64");
    path_in(dep, "acme-1.0-src.tar.age");
    path_in(depr, "acme-1.0-src.tar.age.deposit.tlog-proof");
    path_in(insp, "inspection.tlog-proof");
    path_in(got, "inspected-src.tar");

    step("A vendor deposits its source code: the archive is encrypted to the vendor and the\n"
         "    authority, and a record signed by the vendor (hashes of the archive, the\n"
         "    ciphertext and the released binary) goes into the log.");
    {
        char *argv[] = {self, "request", "keygen", "--name", "demo.fairkey.test/vendor", "-o",
                        vkey, NULL};
        char *argv2[] = {self, "keygen", "-o", vage, NULL};
        path_in(tmp2, "vendor-keygen.err");
        if (run(argv, vpub, NULL) || run(argv2, NULL, tmp2) || read_small(vage, buf, sizeof buf))
            return -1;
        char *p = strstr(buf, "# public key: ");
        if (!p || sscanf(p, "# public key: %127s", vendor_r) != 1)
            return -1;
        FILE *f = fopen(archive, "w"), *g = f ? fopen(bin, "w") : NULL;
        if (!g) {
            if (f)
                fclose(f);
            return -1;
        }
        for (int i = 0; i < 2000; i++)
            fprintf(f, "acme/src/module%04d.c: int module%04d(void) { return %d; }\n", i, i, i);
        fprintf(g, "ELF acme 1.0 for linux-amd64 (demo)\n");
        fclose(f);
        fclose(g);
        char *argv3[] = {self, "deposit", "--authority", (char *)authpub, "--key", vkey, "-r",
                         vendor_r, "--product", "acme", "--version", "1.0", "--binary", bin,
                         "-o", dep, archive, NULL};
        if (run_step(argv3, "deposit", 1))
            return -1;
    }

    step("An inspection: the investigator files a recovery request against the deposit; the\n"
         "    agents answer it as for any file, and the recovered archive is checked against\n"
         "    the hash the vendor logged.");
    {
        char *argv[] = {self, "request", "--authority", (char *)authpub, "--key",
                        (char *)reqkey, "--warrant", (char *)warrant, "--reason",
                        "source inspection: acme 1.0", "-o", insp, dep, NULL};
        if (run_step(argv, "inspection", 1))
            return -1;
        char *argv2[] = {self, "recover", "--authority", (char *)authpub, "--request", insp,
                         "--key", (char *)reqkey, "--agents", (char *)agents, "-o", got, dep,
                         NULL};
        path_in(tmp2, "inspect-recover.err");
        if (run(argv2, NULL, tmp2) || !files_equal(got, archive)) {
            show(tmp2);
            cli_err("the inspection's recovery failed");
            return -1;
        }
        char *argv3[] = {self, "deposit", "verify", "--authority", (char *)authpub, "--receipt",
                         depr, "--ciphertext", dep, "--archive", got, NULL};
        if (run_step(argv3, "deposit-verify", 1))
            return -1;
    }

    step("The vendor audits the log: its deposit and the inspection of it are on the record.");
    {
        char *argv[] = {self, "audit", "--authority", (char *)authpub, "--vendor", vpub, NULL};
        path_in(tmp, "vendor-audit.out");
        path_in(tmp2, "vendor-audit.err");
        int rc = run(argv, tmp, tmp2);
        show(tmp);
        if (rc != FK_EXIT_RECOVERED || read_small(tmp, buf, sizeof buf) ||
            !strstr(buf, "INSPECTION of the deposit")) {
            show(tmp2);
            cli_err("the vendor's audit did not find the inspection");
            return -1;
        }
    }
    return 0;
}

static int demo(void)
{
    char logdir[PATH_MAX], authpub[PATH_MAX], reqkey[PATH_MAX],
        reqlist[PATH_MAX], userkey[PATH_MAX], plain[PATH_MAX], enc[PATH_MAX], warrant[PATH_MAX],
        receipt[PATH_MAX], recovered[PATH_MAX], tmp[PATH_MAX], tmp2[PATH_MAX], buf[8192];
    char logurl[64], vkey[FK_NOTE_KEY_TEXT_MAX + 1], agents[DEMO_AGENTS * 32 + 1] = "";
    char shares[DEMO_AGENTS][PATH_MAX], states[DEMO_AGENTS][PATH_MAX], listen[] = "127.0.0.1:0";
    char loglisten[64];
    pid_t agent_pid[DEMO_AGENTS], log_pid;
    unsigned port;
    path_in(logdir, "log");
    path_in(authpub, "authority.pub");
    path_in(reqkey, "investigator.key");
    path_in(reqlist, "requesters.txt");
    path_in(userkey, "alice.key");
    path_in(plain, "diary.txt");
    path_in(enc, "diary.txt.age");
    path_in(warrant, "warrant.pdf");
    path_in(receipt, "request.tlog-proof");
    path_in(recovered, "recovered.txt");

    step("Start a transparency log (C2SP checkpoints and tiles) on 127.0.0.1; its key and\n"
         "    address exist before the authority that names them.");
    {
        char *argv[] = {self, "log", "serve", "--dir", logdir, "--listen", listen, "--origin",
                        "demo.fairkey.test/log", "--open", "--batch-ms", "100", NULL};
        if (start_daemon(argv, "log-setup", &port, &log_pid))
            return -1;
        snprintf(logurl, sizeof logurl, "http://127.0.0.1:%u", port);
        snprintf(loglisten, sizeof loglisten, "127.0.0.1:%u", port);
        path_in(tmp, "log-setup.out");
        if (log_vkey(tmp, vkey, sizeof vkey)) {
            cli_err("the log did not print its verifier key");
            return -1;
        }
        printf("    log at %s\n    log key %s\n", logurl, vkey);
    }

    if (dkg(logurl, vkey, authpub))
        return -1;

    step("Make an investigator's requester key; the agents allow only this key to ask.");
    {
        char *argv[] = {self, "request", "keygen", "--name", "demo.fairkey.test/investigator",
                        "-o", reqkey, NULL};
        if (run(argv, reqlist, NULL))
            return -1;
        show(reqlist);
    }

    step("Restart the log on its address: from now on it logs only this authority's certified\n"
         "    transcript and the investigator's signed requests to it.");
    {
        stop_child(log_pid);
        for (int j = 0; j < nchildren; j++)
            if (children[j] == log_pid)
                children[j] = 0;
        char *argv[] = {self, "log", "serve", "--dir", logdir, "--listen", loglisten, "--origin",
                        "demo.fairkey.test/log", "--authority", authpub, "--requesters",
                        reqlist, "--batch-ms", "100", NULL};
        if (start_daemon(argv, "log", &port, &log_pid))
            return -1;
    }

    step("Publish the authority's birth: the certified transcript goes into the log, and the\n"
         "    receipt proves to anyone that this authority is the one its agents certified.");
    {
        char transcript[PATH_MAX], birth[PATH_MAX];
        path_in(transcript, "dkg/transcript");
        path_in(birth, "authority.tlog-proof");
        char *argv[] = {self, "authority", "publish", "--authority", authpub, "--transcript",
                        transcript, "-o", birth, NULL};
        if (run_step(argv, "publish", 1))
            return -1;
        char *argv2[] = {self, "authority", "verify", "--receipt", birth, authpub, transcript,
                         NULL};
        if (run_step(argv2, "verify", 1))
            return -1;
    }

    step("Start five escrow agents, each with one share, each checking the authority's log.");
    for (int i = 0; i < DEMO_AGENTS; i++) {
        char name[32];
        snprintf(shares[i], PATH_MAX, "%s/org-%d/authority/share-%d.key", dir, i + 1, i + 1);
        snprintf(states[i], PATH_MAX, "%s/agent-%d", dir, i + 1);
        snprintf(name, sizeof name, "agent-%d", i + 1);
        char *argv[] = {self, "agent", "serve", "--share", shares[i], "--authority", authpub,
                        "--listen", listen, "--requesters", reqlist, "--state", states[i], NULL};
        if (start_daemon(argv, name, &port, &agent_pid[i]))
            return -1;
        size_t l = strlen(agents);
        snprintf(agents + l, sizeof agents - l, "%shttp://127.0.0.1:%u", i ? "," : "", port);
        printf("    agent %d at http://127.0.0.1:%u\n", i + 1, port);
    }

    step("Alice makes an age key and encrypts her diary to herself and to the authority.");
    char user_r[128] = "", auth_r[FK_ESCROW_RECIPIENT_STR_MAX + 2] = "";
    {
        char *argv[] = {self, "keygen", "-o", userkey, NULL};
        path_in(tmp2, "keygen.err");
        if (run(argv, NULL, tmp2))
            return -1;
        if (read_small(userkey, buf, sizeof buf))
            return -1;
        char *p = strstr(buf, "# public key: ");
        if (!p || sscanf(p, "# public key: %127s", user_r) != 1)
            return -1;
        char *argv2[] = {self, "authority", "show", "--recipient", authpub, NULL};
        path_in(tmp, "recipient.out");
        if (run(argv2, tmp, NULL) || read_small(tmp, auth_r, sizeof auth_r))
            return -1;
        auth_r[strcspn(auth_r, "\n")] = 0;
        FILE *f = fopen(plain, "w");
        if (!f)
            return -1;
        fprintf(f, "Dear diary, today I tried accountable key escrow.\n");
        fclose(f);
        char *argv3[] = {self, "encrypt", "-r", user_r, "-r", auth_r, "-o", enc, plain, NULL};
        if (run(argv3, NULL, NULL))
            return -1;
        printf("    alice: %s\n    authority: %s\n", user_r, auth_r);
        char *argv4[] = {self, "inspect", enc, NULL};
        path_in(tmp, "inspect.out");
        if (run(argv4, tmp, NULL) == 0)
            show(tmp);
    }

    step("Stock age decrypts the file with Alice's key (it is a plain age v1 file).");
    if (access("/usr/bin/age", X_OK) == 0) {
        char *argv[] = {"/usr/bin/age", "-d", "-i", userkey, enc, NULL};
        path_in(tmp, "age.out");
        path_in(tmp2, "age.err");
        if (run(argv, tmp, tmp2) || !files_equal(tmp, plain)) {
            cli_err("age could not decrypt the file:");
            show(tmp2);
            return -1;
        }
        show(tmp);
    } else {
        printf("    /usr/bin/age is not installed; skipping this step (apt-get install age)\n");
    }

    step("The investigator files a recovery request; the log records it publicly.");
    {
        FILE *f = fopen(warrant, "w");
        if (!f)
            return -1;
        fprintf(f, "Warrant 2026-17, District Court of Demo: access to diary.txt.age\n");
        fclose(f);
        char *argv[] = {self, "request", "--authority", authpub, "--key", reqkey, "--warrant",
                        warrant, "--reason", "warrant 2026-17: suspected fraud", "-o", receipt,
                        enc, NULL};
        if (run_step(argv, "request", 1))
            return -1;
    }

    step("Stop agents 4 and 5: any 3 of the 5 agents are enough.");
    for (int i = 3; i < DEMO_AGENTS; i++) {
        stop_child(agent_pid[i]);
        for (int j = 0; j < nchildren; j++)
            if (children[j] == agent_pid[i])
                children[j] = 0;
        printf("    agent %d stopped\n", i + 1);
    }

    step("Recover the file: each agent checks the log, answers, and proves its answer.");
    {
        char *argv[] = {self, "recover", "--authority", authpub, "--request", receipt, "--key",
                        reqkey, "--agents", agents, "-o", recovered, enc, NULL};
        path_in(tmp2, "recover.err");
        int rc = run(argv, NULL, tmp2);
        show(tmp2);
        if (rc || !files_equal(recovered, plain)) {
            cli_err("recovery failed");
            return -1;
        }
        show(recovered);
    }

    step("Alice audits the log: the recovery of her file is on the record.");
    {
        char *argv[] = {self, "audit", "--authority", authpub, enc, NULL};
        path_in(tmp, "audit.out");
        path_in(tmp2, "audit.err");
        int rc = run(argv, tmp, tmp2);
        show(tmp);
        /* audit exits 3 when it finds a recovery: the finding expected here */
        if (rc != FK_EXIT_RECOVERED || read_small(tmp, buf, sizeof buf) ||
            !strstr(buf, "RECOVERY REQUESTED")) {
            show(tmp2);
            cli_err("the audit did not find the request");
            return -1;
        }
    }

    if (deposit_and_inspect(authpub, reqkey, warrant, agents))
        return -1;

    step("Agent 1's own audit table (SQLite) recorded what it answered, before answering.");
    {
        char *argv[] = {self, "agent", "pending", "--all", "--state", states[0], NULL};
        path_in(tmp, "pending.out");
        if (run(argv, tmp, NULL) == 0)
            show(tmp);
    }
    (void)log_pid;
    return 0;
}

int cmd_demo_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"keep", no_argument, 0, 'k'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'k') {
            keep = 1;
        } else if (c == 'h') {
            printf("usage: fairkey demo [--keep]\n");
            return FK_EXIT_OK;
        } else {
            return cli_usage("demo [--keep]");
        }
    }
    if (optind != argc)
        return cli_usage("demo [--keep]");
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        cli_err("cannot find the fairkey executable (/proc/self/exe)");
        return FK_EXIT_FAIL;
    }
    self[n] = 0;
    const char *td = getenv("TMPDIR");
    if (!td || !*td || strlen(td) > 900)
        td = "/tmp";
    snprintf(dir, sizeof dir, "%s/fairkey-demo.XXXXXX", td);
    if (!mkdtemp(dir)) {
        cli_err("cannot create a temporary folder: %s", strerror(errno));
        dir[0] = 0;
        return FK_EXIT_FAIL;
    }
    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    printf("fairkey demo: everything runs on 127.0.0.1 in %s\n", dir);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = demo();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc) {
        cli_err("the demo failed (files kept in %s for a look); see the messages above", dir);
        keep = 1;
        cleanup();
        return FK_EXIT_FAIL;
    }
    printf("\nDone in %.1f s: escrow verified, recovery logged, answered by 3 of 5 agents, audited;\n"
           "a source deposit logged, inspected and audited by its vendor.\n", s);
    if (keep)
        printf("Files kept in %s\n", dir);
    cleanup();
    return FK_EXIT_OK;
}
