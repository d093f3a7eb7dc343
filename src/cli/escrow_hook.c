/*
 * The one place where the CLI meets the escrow module: decrypt's escrow
 * verification options and inspect's description of escrow stanzas.
 *
 * This build has no escrow verification yet: cli_escrow_available() says so,
 * decrypt refuses --require-escrow/--escrow-warn-only instead of accepting and
 * ignoring them, and no header check is installed.
 */
#include "cli.h"

int cli_escrow_available(void)
{
    return 0;
}

int cli_escrow_setup(const cli_escrow_args *a, fk_decrypt_opts *opts, void **state)
{
    (void)a;
    opts->check = NULL;
    opts->check_ctx = NULL;
    *state = NULL;
    return 0;
}

int cli_escrow_finish(void *state, const fk_decrypt_info *info)
{
    (void)state;
    (void)info;
    return 0;
}

int cli_escrow_describe_stanza(const fk_stanza *s, FILE *out)
{
    (void)s;
    (void)out;
    return 0;
}
