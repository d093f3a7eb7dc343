/*
 * dkg.h - the dealerless ceremony's steps (src/cli/dkg.c) as the file
 * steps and the HTTP transport (src/cli/dkg_http.c) share them: each takes
 * and gives the very envelopes of docs/spec.md 9.3 and 9.5, so a file and an
 * HTTP body are one format, checked by one helper.  Every helper prints its
 * own "fairkey: " line (cli_err) and returns -1 or NULL on failure.
 */
#ifndef FK_CLI_DKG_H
#define FK_CLI_DKG_H

#include "cli.h"

/* Largest session file: 255 participants and a policy of FK_ESCROW_POLICY_MAX. */
#define CLI_DKG_SESSION_MAX (1u << 20)

/* A parsed session and, once given, the round 1 messages (the bundle). */
typedef struct cli_dkg_session {
    char name[FK_ESCROW_NAME_MAX + 1];
    unsigned t, n;
    uint8_t pk[FK_DKG_MAX_PARTICIPANTS][32];
    char policy[FK_ESCROW_POLICY_MAX + 1];
    size_t policy_len;
    uint8_t sid[32];
    uint8_t context[FK_DKG_CONTEXT_LEN];
    char ctxhex[2 * FK_DKG_CONTEXT_LEN + 1];
    char ext[FK_DKG_EXT_MAX];
    size_t ext_len;
    fk_dkg_session s;
    /* the bundle, once loaded: msg[j] (len[j] bytes) parsed as m[j] */
    uint8_t *msg[FK_DKG_MAX_PARTICIPANTS];
    size_t len[FK_DKG_MAX_PARTICIPANTS];
    fk_dkg_msg1 m[FK_DKG_MAX_PARTICIPANTS];
} cli_dkg_session;

/* The session file's text (what names it in errors). */
cli_dkg_session *cli_dkg_session_parse(const char *text, size_t len, const char *what);
void cli_dkg_session_free(cli_dkg_session *S);
/* A participant key file: its secret d and, with S, its index in S. */
int cli_dkg_load_key(const char *path, const cli_dkg_session *S, uint8_t d[32], unsigned *index);
/* The envelope parser and encoder behind cli_dkg_load_msgs / write_msgs. */
int cli_dkg_parse_msgs(const char *text, size_t len, const char *what, const char *ctxhex,
                       unsigned nfrom, const char *magic, unsigned *from, uint8_t **data,
                       size_t *dlen, unsigned count);
char *cli_dkg_encode_msgs(const char *ctxhex, const char *magic, unsigned from,
                          uint8_t *const *data, const size_t *dlen, unsigned count, size_t *len);

/* Round 1 (participant i with secret d): its round1 envelope. */
char *cli_dkg_round1(const cli_dkg_session *S, unsigned i, const uint8_t d[32], size_t *len);
/* Collect (coordinator), one round1 envelope at a time: parsed into its
 * slot, 0; *from is the sender (0 when the envelope does not say).  1 (and
 * nothing printed) when it is the very message the slot holds; -1 for a
 * malformed one, a second, different one from the same participant, one
 * not from want (when want is not 0), or another ceremony's. */
int cli_dkg_collect_add(cli_dkg_session *S, const char *text, size_t len, const char *what,
                        unsigned want, unsigned *from);
/* Once all n are in: every PoP checked (*blame the first bad one, else 0)
 * and the bundle envelope returned. */
char *cli_dkg_collect_bundle(cli_dkg_session *S, size_t *len, unsigned *blame);
/* The bundle envelope parsed into S (every msg1 strict). */
int cli_dkg_bundle_parse(cli_dkg_session *S, const char *text, size_t len, const char *what);
/* T of the session and its bundle (malloc'd). */
uint8_t *cli_dkg_transcript(const cli_dkg_session *S, size_t *tlen);
/* Round 2 (participant i): every share checked (a cheater named, *blame),
 * T signed: the signature envelope. */
char *cli_dkg_round2(const cli_dkg_session *S, unsigned i, const uint8_t d[32], size_t *len,
                     unsigned *blame);
/* Certify (coordinator): one signature envelope (from want, when not 0)
 * into sigs/have, 0; with t
 * (T of the bundle, tlen bytes) the signature is also checked at once
 * (*blame = its signer when it does not verify).  1 (nothing printed,
 * *blame the signer) when it is the very signature held; -1 otherwise. */
int cli_dkg_certify_add(const cli_dkg_session *S, uint8_t (*sigs)[64], int *have,
                        const char *text, size_t len, const char *what, unsigned want,
                        const uint8_t *t, size_t tlen, unsigned *blame);
/* All n signatures over the bundle's T (*blame the first that fails): the
 * certified transcript text. */
char *cli_dkg_certify(const cli_dkg_session *S, const uint8_t (*sigs)[64], size_t *len,
                      unsigned *blame);
/* Finish (participant i): round 2 again, the certified transcript ctext
 * must certify its own T; writes DIR/share-<i>.key and DIR/authority.pub
 * (nothing on failure).  Prints the authority on standard output. */
int cli_dkg_finish(const cli_dkg_session *S, unsigned i, const uint8_t d[32], const char *ctext,
                   size_t clen, const char *what, const char *dir);

/* The HTTP transport: src/cli/dkg_http.c (fairkey-net only); its
 * synopses live in dkg.c, whose help lists every step. */
extern const char cli_dkg_syn_serve[], cli_dkg_syn_join[];
int cli_dkg_serve(int argc, char **argv);
int cli_dkg_join(int argc, char **argv);

#endif
