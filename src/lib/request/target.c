/*
 * The recovery request's target and the escrow stanza it names: a request
 * carries the file's stanza (less its PK, which the authority fixes), so
 * every party that admits or answers it can check the stanza's validity
 * proof (docs/spec.md section 4, docs/protocol.md section 2.1).
 */
#include <string.h>

#include <fairkey.h>

void fk_request_target_set(fk_request *r, const fk_escrow_stanza_info *st)
{
    memcpy(r->target, st->e, sizeof r->target);
    memcpy(r->target_ebar, st->ebar, sizeof r->target_ebar);
    memcpy(r->target_body, st->body, sizeof r->target_body);
}

int fk_request_target_is(const fk_request *r, const fk_escrow_stanza_info *st)
{
    return !memcmp(r->target, st->e, sizeof r->target) &&
           !memcmp(r->target_ebar, st->ebar, sizeof r->target_ebar) &&
           !memcmp(r->target_body, st->body, sizeof r->target_body);
}

fk_err fk_request_target_verify(const fk_request *r, const uint8_t pk[FK_ESCROW_POINT_LEN])
{
    fk_escrow_stanza_info st;

    memset(&st, 0, sizeof st);
    memcpy(st.pk, pk, sizeof st.pk);
    memcpy(st.e, r->target, sizeof st.e);
    memcpy(st.ebar, r->target_ebar, sizeof st.ebar);
    memcpy(st.body, r->target_body, sizeof st.body);
    return fk_escrow_stanza_verify(&st);
}
