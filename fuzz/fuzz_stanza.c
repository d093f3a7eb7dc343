/*
 * libFuzzer target: escrow stanza parsing, from a whole age header (the
 * path a decrypting recipient and inspect take) and from an authority
 * recipient string.  A stanza that parses must be canonical: rebuilding its
 * arguments from the parsed points gives back the same strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fairkey.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fk_header h;
    size_t consumed;
    memset(&h, 0, sizeof(h));
    if (fk_header_parse(&h, data, size, &consumed) == FK_OK) {
        fk_escrow_stanza_info list[4];
        size_t count = 0;
        fk_err le = fk_escrow_header_list(&h, list, 4, &count);
        size_t seen = 0;
        for (size_t i = 0; i < h.nstanzas; i++) {
            fk_escrow_stanza_info info;
            fk_err e = fk_escrow_stanza_parse(&info, &h.stanzas[i]);
            if (e == FK_ERR_NOT_FOUND)
                continue;
            if (e != FK_OK) {
                if (le != FK_ERR_ESCROW)
                    abort(); /* list must report a malformed escrow stanza */
                continue;
            }
            char b64[64];
            fk_b64_encode(b64, info.pk, FK_ESCROW_POINT_LEN);
            if (h.stanzas[i].nargs != 4 || strcmp(b64, h.stanzas[i].args[1]) != 0)
                abort();
            fk_b64_encode(b64, info.e, FK_ESCROW_POINT_LEN);
            if (strcmp(b64, h.stanzas[i].args[2]) != 0)
                abort();
            fk_b64_encode(b64, info.ebar, FK_ESCROW_POINT_LEN);
            if (strcmp(b64, h.stanzas[i].args[3]) != 0)
                abort();
            /* the proof check must never crash on parsed input */
            (void)fk_escrow_stanza_verify(&info);
            seen++;
        }
        /* count is the number of well-formed escrow stanzas (listed or not) */
        if (seen != count)
            abort();
        uint8_t pk[FK_ESCROW_POINT_LEN] = {0};
        fk_escrow_stanza_info found;
        (void)fk_escrow_header_find(&h, pk, &found);
        fk_header_clear(&h);
    }
    /* The same bytes as a recipient string. */
    char s[256];
    if (size < sizeof(s)) {
        memcpy(s, data, size);
        s[size] = '\0';
        uint8_t pk[FK_ESCROW_POINT_LEN];
        char back[FK_ESCROW_RECIPIENT_STR_MAX];
        if (fk_escrow_recipient_decode(pk, s) == FK_OK) {
            if (fk_escrow_recipient_encode(back, pk) != FK_OK || strcasecmp(back, s) != 0)
                abort();
        }
    }
    return 0;
}
