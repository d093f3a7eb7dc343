/*
 * fairkey request - file a recovery request in the transparency log.
 *
 *   fairkey request keygen --name NAME -o KEYFILE
 *   fairkey request public --key KEYFILE
 *   fairkey request --authority FILE --key KEYFILE --warrant DOC --reason TEXT
 *                   [--log URL] [--log-vkey VKEY] [-o RECEIPT] FILE.age
 *
 * The log is the one the authority file names (its agents accept receipts
 * from no other); --log and --log-vkey may only repeat it.
 * The request names the file's escrow target E for the authority; it is
 * signed by the requester key, added to the log, and the receipt (C2SP
 * tlog-proof with the request as its extra data) is written to RECEIPT,
 * by default FILE.age.request-<index>.tlog-proof.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/recovery.h"
#include "cli.h"
#include "net/net.h"

#define USAGE                                                                              \
    "request --authority FILE --key KEYFILE --warrant DOC --reason TEXT\n"                \
    "                [--log URL] [--log-vkey VKEY] [--cacert FILE] [-o RECEIPT] FILE.age\n"                 \
    "       fairkey request keygen --name NAME -o KEYFILE\n"                                \
    "       fairkey request public --key KEYFILE"

static int keygen_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"name", required_argument, 0, 'n'}, {"output", required_argument, 0, 'o'}, {0, 0, 0, 0}};
    const char *name = NULL, *out = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (c == 'n')
            name = optarg;
        else if (c == 'o')
            out = optarg;
        else
            return cli_usage(USAGE);
    }
    if (!name || !out || optind != argc)
        return cli_usage(USAGE);
    fk_requester_key k;
    if (fk_requester_key_generate(&k, name)) {
        cli_err("'%s' is not a valid requester name (printable, no spaces, no '+'); e.g. "
                "court.example/office-7", name);
        return FK_EXIT_FAIL;
    }
    char *text = NULL, line[FK_REQUESTER_PUB_LINE_MAX];
    size_t len = 0;
    int rc = FK_EXIT_FAIL;
    if (fk_requester_key_encode(&text, &len, &k) || fk_requester_key_public_line(line, sizeof line, &k)) {
        cli_err("cannot encode the key; nothing written");
        goto out;
    }
    if (cli_out_write_file(out, CLI_OUT_SECRET | CLI_OUT_NOCLOBBER, text, len))
        goto out;
    /* The public line goes to stdout: agents list it in their requesters file. */
    fputs(line, stdout);
    rc = FK_EXIT_OK;
out:
    if (text)
        cli_free_secret(text, len);
    fk_requester_key_wipe(&k);
    return rc;
}

static int public_main(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, 0, 'k'}, {0, 0, 0, 0}};
    const char *key = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'k')
            return cli_usage(USAGE);
        key = optarg;
    }
    if (!key || optind != argc)
        return cli_usage(USAGE);
    fk_requester_key k;
    char line[FK_REQUESTER_PUB_LINE_MAX];
    if (rec_load_requester_key(key, &k))
        return FK_EXIT_FAIL;
    fk_requester_key_public_line(line, sizeof line, &k);
    fk_requester_key_wipe(&k);
    fputs(line, stdout);
    return FK_EXIT_OK;
}

/* SHA-256 of the warrant, streamed (a warrant can be any size). */
static int hash_file(const char *path, uint8_t out[32])
{
    if (cli_sha256_file(path, out, NULL) == 0)
        return 0;
    cli_err("cannot read the warrant %s; pass a readable file with --warrant", path);
    return -1;
}

static int file_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"authority", required_argument, 0, 'a'}, {"log", required_argument, 0, 'l'},
        {"key", required_argument, 0, 'k'},       {"warrant", required_argument, 0, 'w'},
        {"reason", required_argument, 0, 'r'},    {"log-vkey", required_argument, 0, 'v'},
        {"output", required_argument, 0, 'o'},    {"cacert", required_argument, 0, 'A'},
        {0, 0, 0, 0}};
    const char *authp = NULL, *log = NULL, *keyp = NULL, *warrant = NULL, *reason = NULL,
               *vkeyp = NULL, *out = NULL;
    int c, rc = FK_EXIT_FAIL;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (c) {
        case 'A':
            if (rec_cacert(optarg))
                return FK_EXIT_USAGE;
            break;
        case 'a': authp = optarg; break;
        case 'l': log = optarg; break;
        case 'k': keyp = optarg; break;
        case 'w': warrant = optarg; break;
        case 'r': reason = optarg; break;
        case 'v': vkeyp = optarg; break;
        case 'o': out = optarg; break;
        default: return cli_usage(USAGE);
        }
    }
    if (!authp || !keyp || !warrant || !reason || optind != argc - 1)
        return cli_usage(USAGE);
    const char *file = argv[optind];
    fk_escrow_authority *auth = NULL;
    fk_requester_key k;
    fk_escrow_stanza_info st;
    fk_request r;
    char note[FK_REQUEST_NOTE_MAX + 1];
    size_t note_len;
    char *receipt = NULL;
    static cli_authlog al;
    memset(&k, 0, sizeof k);
    memset(&r, 0, sizeof r);
    if (!(auth = rec_load_authority(authp)) || cli_authority_log(&al, auth, log, vkeyp, NULL) ||
        rec_load_requester_key(keyp, &k) ||
        rec_find_stanza(file, auth, &st) || hash_file(warrant, r.warrant))
        goto out;
    log = al.url;
    fk_escrow_id_hex(r.authority, auth->id);
    fk_request_target_set(&r, &st);
    /* Agents refuse a target without a valid proof; say so before logging. */
    if (fk_request_target_verify(&r, auth->pk)) {
        cli_err("%s: its escrow stanza for this authority has no valid proof, so no agent will "
                "answer; the file was not made by a conforming encryptor", file);
        goto out;
    }
    size_t rl = strlen(reason);
    if (rl == 0 || rl > FK_REQUEST_REASON_MAX) {
        cli_err("--reason must be 1 to %d bytes on one line", FK_REQUEST_REASON_MAX);
        goto out;
    }
    memcpy(r.reason, reason, rl + 1);
    r.time = (int64_t)time(NULL);
    fk_err err = fk_request_sign(note, sizeof note, &note_len, &r, &k);
    if (err) {
        cli_err("cannot build the request (%s); the reason must be one line without "
                "control characters or leading/trailing spaces", fk_strerror(err));
        goto out;
    }
    uint64_t index, size;
    size_t rlen;
    uint8_t eh[32];
    fk_request_entry_hash(eh, note, note_len);
    if (cli_log_add(&al, "request", note, note_len, (const uint8_t *)note, note_len, &receipt,
                    &rlen, &index, &size))
        goto out;
    char defout[4096];
    if (!out) {
        snprintf(defout, sizeof defout, "%s.request-%llu.tlog-proof", file,
                 (unsigned long long)index);
        out = defout;
    }
    if (cli_out_write_file(out, 0, receipt, rlen))
        goto out;
    char ehx[65];
    fk_hex_encode(ehx, eh, 32);
    printf("request logged at index %llu (tree size %llu)\nentry hash %s\nreceipt %s\n",
           (unsigned long long)index, (unsigned long long)size, ehx, out);
    rc = FK_EXIT_OK;
out:
    free(auth);
    free(receipt);
    fk_requester_key_wipe(&k);
    return rc;
}

int cmd_request_main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "keygen"))
        return keygen_main(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "public"))
        return public_main(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: fairkey " USAGE "\n");
        return FK_EXIT_OK;
    }
    return file_main(argc, argv);
}
