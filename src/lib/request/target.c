/*
 * The escrow target a recovery request or a source deposit carries: the
 * file's escrow stanza less its PK, which the authority fixes, so every party
 * that admits or answers it can check the stanza's validity proof
 * (docs/spec.md section 4, docs/protocol.md sections 2.1 and 10).  One copy
 * and one check serve both records.
 */
#include <string.h>

#include <fairkey.h>

_Static_assert(FK_REQUEST_TARGET_BODY_LEN == FK_ESCROW_BODY_LEN &&
                   FK_REQUEST_POINT_LEN == FK_ESCROW_POINT_LEN,
               "a target is an escrow stanza less its PK");

static void target_set(uint8_t e[FK_REQUEST_POINT_LEN], uint8_t ebar[FK_REQUEST_POINT_LEN],
                       uint8_t body[FK_REQUEST_TARGET_BODY_LEN], const fk_escrow_stanza_info *st)
{
    memcpy(e, st->e, FK_REQUEST_POINT_LEN);
    memcpy(ebar, st->ebar, FK_REQUEST_POINT_LEN);
    memcpy(body, st->body, FK_REQUEST_TARGET_BODY_LEN);
}

static fk_err target_verify(const uint8_t e[FK_REQUEST_POINT_LEN],
                            const uint8_t ebar[FK_REQUEST_POINT_LEN],
                            const uint8_t body[FK_REQUEST_TARGET_BODY_LEN],
                            const uint8_t pk[FK_ESCROW_POINT_LEN])
{
    fk_escrow_stanza_info st;
    memset(&st, 0, sizeof st);
    memcpy(st.pk, pk, sizeof st.pk);
    memcpy(st.e, e, sizeof st.e);
    memcpy(st.ebar, ebar, sizeof st.ebar);
    memcpy(st.body, body, sizeof st.body);
    return fk_escrow_stanza_verify(&st);
}

void fk_request_target_set(fk_request *r, const fk_escrow_stanza_info *st)
{
    target_set(r->target, r->target_ebar, r->target_body, st);
}

int fk_request_target_is(const fk_request *r, const fk_escrow_stanza_info *st)
{
    return !memcmp(r->target, st->e, sizeof r->target) &&
           !memcmp(r->target_ebar, st->ebar, sizeof r->target_ebar) &&
           !memcmp(r->target_body, st->body, sizeof r->target_body);
}

fk_err fk_request_target_verify(const fk_request *r, const uint8_t pk[FK_ESCROW_POINT_LEN])
{
    return target_verify(r->target, r->target_ebar, r->target_body, pk);
}

void fk_deposit_target_set(fk_deposit *d, const fk_escrow_stanza_info *st)
{
    target_set(d->target, d->target_ebar, d->target_body, st);
}

fk_err fk_deposit_target_verify(const fk_deposit *d, const uint8_t pk[FK_ESCROW_POINT_LEN])
{
    return target_verify(d->target, d->target_ebar, d->target_body, pk);
}
