/*
 * dkg_tamper T N J < round1 > round1': a participant that sends participant
 * J a share that does not open (one ciphertext byte changed), re-encoding
 * the round1 file otherwise unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fairkey.h>

int main(int argc, char **argv)
{
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, stdin), len;
    char *data = strstr(text, "\ndata ");
    if (argc != 4 || !data)
        return 2;
    unsigned t = (unsigned)atoi(argv[1]), np = (unsigned)atoi(argv[2]), j = (unsigned)atoi(argv[3]);
    data += 6;
    char *end = strchr(data, '\n');
    static uint8_t msg[1 << 19];
    fk_dkg_msg1 m;
    if (!end || fk_b64_decode_padded(msg, sizeof msg, &len, data, (size_t)(end - data)) ||
        fk_dkg_msg1_parse(&m, msg, len, t, np) || j < 1 || j > np)
        return 1;
    ((uint8_t *)m.ct[j - 1])[3] ^= 0x40;
    static char out[1 << 20];
    fk_b64_encode_padded_public(out, msg, len);
    fwrite(text, 1, (size_t)(data - text), stdout);
    fputs(out, stdout);
    fwrite(end, 1, n - (size_t)(end - text), stdout);
    return 0;
}
