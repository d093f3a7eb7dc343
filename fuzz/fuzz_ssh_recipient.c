/*
 * libFuzzer target: SSH public key lines (fk_ssh_recipient_parse), the
 * parser behind -r, -R files and GitHub .keys lists: the line as given, or
 * (first byte 0) "ssh-ed25519 " / (first byte 1) "ssh-rsa " followed by the
 * base64 of the rest, so the fuzzer reaches the wire-format parser.  A line
 * that parses must wrap a file key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {"ssh-ed25519 ", "ssh-rsa "};
    fk_recipient *r = NULL;
    const char *why = NULL;
    char *line;

    if (size > 16384)
        return 0;
    line = malloc(size / 3 * 4 + 32);
    if (!line)
        return 0;
    if (size > 0 && data[0] < 2) {
        strcpy(line, types[data[0]]);
        fk_b64_encode_padded(line + strlen(line), data + 1, size - 1);
    } else {
        memcpy(line, data, size);
        line[size] = '\0';
    }
    if (fk_ssh_recipient_parse(&r, line, &why) == FK_OK) {
        fk_stanza s = {0};
        uint8_t fk[FK_AGE_FILE_KEY_LEN] = {0};
        if (r->ops->wrap(r, fk, &s) != FK_OK)
            abort();
        fk_stanza_clear(&s);
        fk_recipient_free(r);
    } else if (r || !why) {
        abort(); /* untouched output, and always a reason */
    }
    free(line);
    return 0;
}
