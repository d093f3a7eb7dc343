/* Test helper for audit.sh: a checkpoint of any size, validly signed by the
 * log key in KEYFILE (a hostile log), on stdout.
 *   audit_forge KEYFILE ORIGIN SIZE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

int main(int argc, char **argv)
{
    char key[1024], out[FK_CHECKPOINT_TEXT_MAX + 1024];
    size_t n, len;
    fk_note_signer s;
    fk_checkpoint c;
    FILE *f = argc == 4 ? fopen(argv[1], "r") : NULL;
    if (!f)
        return 2;
    n = fread(key, 1, sizeof key - 1, f);
    fclose(f);
    while (n && (key[n - 1] == '\n' || key[n - 1] == '\r'))
        n--;
    if (fk_note_signer_parse(&s, key, n))
        return 1;
    memset(&c, 0, sizeof c);
    c.origin_len = strlen(argv[2]);
    memcpy(c.origin, argv[2], c.origin_len);
    c.size = strtoull(argv[3], NULL, 10);
    memset(c.root, 0x5a, sizeof c.root);
    if (fk_checkpoint_sign(&c, &s, out, sizeof out, &len))
        return 1;
    fk_note_signer_wipe(&s);
    fwrite(out, 1, len, stdout);
    return 0;
}
