/*
 * The ceremony's envelopes as the HTTP coordinator and participants parse
 * them (src/cli/dkg.h): input = session text, NUL, a message.  The session
 * parses strictly; then the message is tried as a round1 (collect), a
 * signature (certify) and a bundle, none of which may crash or leak.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dkg.h"
#include "prog/prog.h"

int cli_dkg_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return 1;
}
int cli_dkg_join(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cli_err_quiet(1);   /* every refusal is expected: record, do not print */
    const uint8_t *nul = memchr(data, 0, size);
    if (!nul)
        return 0;
    size_t sl = (size_t)(nul - data), ml = size - sl - 1;
    const char *msg = (const char *)nul + 1;
    cli_dkg_session *S = cli_dkg_session_parse((const char *)data, sl, "session");
    if (!S)
        return 0;
    unsigned from, blame;
    uint8_t(*sigs)[64] = calloc(FK_DKG_MAX_PARTICIPANTS, 64);
    int have[FK_DKG_MAX_PARTICIPANTS] = { 0 };
    if (cli_dkg_collect_add(S, msg, ml, "round1", 0, &from) == 0 && (from < 1 || from > S->n))
        abort();
    if (sigs)
        cli_dkg_certify_add(S, sigs, have, msg, ml, "signature", 0, NULL, 0, &blame);
    cli_dkg_session_free(S);
    if ((S = cli_dkg_session_parse((const char *)data, sl, "session"))) {
        cli_dkg_bundle_parse(S, msg, ml, "bundle");
        cli_dkg_session_free(S);
    }
    free(sigs);
    return 0;
}
