/* The log an authority names (src/prog/authlog.c): shared by the commands
 * and the agent daemon. */
#ifndef FK_PROG_AUTHLOG_H
#define FK_PROG_AUTHLOG_H

#include <fairkey.h>

/* One line about a tlog-policy file that does not parse (err and line from
 * fk_tlog_policy_parse); opt names the option that gave it. */
void cli_policy_error(const char *opt, const char *path, fk_err err, size_t line);
/* A vkey given as itself or as a file holding it on one line. */
int cli_vkey_read(const char *arg, char out[FK_NOTE_KEY_TEXT_MAX + 1]);
/* authority create: the canonical policy to embed, from --log-policy FILE,
 * or from --log URL --log-vkey VKEY (that one log, quorum none). */
int cli_policy_for_authority(char out[FK_ESCROW_POLICY_MAX + 1], size_t *len, const char *url,
                             const char *vkey, const char *policy_path);

/* What a program that talks to an authority's log uses: the authority's
 * policy, and the URL and vkey of the log it names (the first, or the one
 * --log or --log-vkey picks among its logs). */
typedef struct cli_authlog {
    fk_tlog_policy policy;
    char url[FK_TLOG_POLICY_URL_MAX + 1];
    char vkey[FK_NOTE_KEY_TEXT_MAX + 1];
} cli_authlog;
/* Fill out from the authority.  url, vkey and policy_path (each NULL when
 * not given) are overrides for tests: each must name the authority's own
 * log or policy, or one "fairkey: " line says so and -1 is returned (a
 * program is never pointed at a log where the authority's owner does not
 * look).  out is large (~80 KiB): not on a small stack. */
int cli_authority_log(cli_authlog *out, const fk_escrow_authority *a, const char *url,
                      const char *vkey, const char *policy_path);
/* Does receipt pr prove the entry with this leaf hash is in one of al's
 * logs, under a checkpoint that meets al's witness policy?  FK_OK;
 * FK_ERR_POLICY when the checkpoint lacks the cosignatures; another error
 * when no log's key and inclusion proof verify.  cp (may be NULL) gets the
 * checkpoint.  Prints nothing. */
fk_err cli_log_proof_verify(const cli_authlog *al, const fk_tlog_proof *pr,
                            const uint8_t leaf[FK_TLOG_HASH_LEN], fk_checkpoint *cp);

#endif
