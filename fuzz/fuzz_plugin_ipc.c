/*
 * libFuzzer target: the age plugin IPC framing (src/plugin/ipc.c).  Every
 * stanza read back is written out again and must re-read identically.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/plugin/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *in = fmemopen((void *)data, size, "r");
    if (!in)
        return 0;
    for (;;) {
        ipc_stanza s;
        if (ipc_read(in, &s) != IPC_OK)
            break;
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        if (ipc_write(out, (const char *const *)s.args, s.nargs, s.body, s.body_len) != IPC_OK)
            abort();
        fclose(out);
        FILE *again = fmemopen(buf, len, "r");
        ipc_stanza t;
        if (ipc_read(again, &t) != IPC_OK || t.nargs != s.nargs || t.body_len != s.body_len ||
            (s.body_len && memcmp(t.body, s.body, s.body_len)))
            abort();
        for (size_t i = 0; i < s.nargs; i++)
            if (strcmp(s.args[i], t.args[i]))
                abort();
        ipc_stanza_clear(&t);
        fclose(again);
        free(buf);
        ipc_stanza_clear(&s);
    }
    fclose(in);
    return 0;
}
