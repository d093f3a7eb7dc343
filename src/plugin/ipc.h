/*
 * The age plugin IPC framing (C2SP age-plugin, "IPC protocol"): commands are
 * age v1 header stanzas ("-> TYPE ARG...", then the body as wrapped base64
 * lines ending with a short, possibly empty, line) sent over stdin/stdout.
 */
#ifndef FK_PLUGIN_IPC_H
#define FK_PLUGIN_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One stanza line ("-> " and the arguments).  The longest line we must accept
 * is an add-recipient / add-identity command with one Bech32 string (ours are
 * under 100 characters; other plugins' keys, e.g. post-quantum ones, reach a
 * few KiB) or the client's grease; 8 KiB bounds memory while leaving room. */
#define IPC_MAX_LINE 8192
/* Arguments per stanza including the command itself: commands defined by the
 * spec have at most a handful, grease a few more. */
#define IPC_MAX_ARGS 32
/* Decoded body bytes: a file key is 16 bytes, grease at most a few hundred;
 * 64 KiB stops a hostile client from making us buffer without bound. */
#define IPC_MAX_BODY 65536
/* Base64 characters on a full body line (age v1 header format). */
#define IPC_BODY_COLUMNS 64

typedef enum ipc_status {
    IPC_OK = 0,
    IPC_EOF,    /* clean end of input before a stanza began */
    IPC_BAD,    /* malformed framing or truncated stanza */
    IPC_LIMIT,  /* a stanza exceeded IPC_MAX_LINE, IPC_MAX_ARGS or IPC_MAX_BODY */
    IPC_IO,     /* read or write failed (errno kept) */
} ipc_status;

typedef struct ipc_stanza {
    size_t nargs;                 /* >= 1; args[0] is the command */
    char *args[IPC_MAX_ARGS];     /* NUL-terminated, owned */
    uint8_t *body;                /* decoded body, owned (may be NULL if empty) */
    size_t body_len;
} ipc_stanza;

/* Read one stanza.  On anything but IPC_OK, *s is left empty. */
ipc_status ipc_read(FILE *in, ipc_stanza *s);
/* Free a stanza, wiping its body (it may hold a file key). */
void ipc_stanza_clear(ipc_stanza *s);
/* 1 if the stanza's command is cmd and it has exactly nargs arguments after it. */
int ipc_is(const ipc_stanza *s, const char *cmd, size_t nargs);

/* Write one stanza: args[0] is the command; every argument must be a
 * non-empty string of VCHARs (IPC_BAD otherwise, nothing written).  Flushes. */
ipc_status ipc_write(FILE *out, const char *const *args, size_t nargs, const uint8_t *body,
                     size_t body_len);
/* Shorthand for a command with no arguments and no body. */
ipc_status ipc_write_cmd(FILE *out, const char *cmd);

const char *ipc_status_str(ipc_status st);

/* stdio buffer for each of the plugin's two streams: glibc's default size for
 * a regular file; the largest stanza we accept spans a few refills, as it
 * would with the default. */
#define IPC_STDIO_BUF BUFSIZ

/* The plugin's standard input and output with buffers the caller owns.  The
 * base64 of every file key the client sends in wrap-file-key passes through
 * the input stream's buffer; stdio's own buffers are left to exit unwiped, so
 * the plugin gives both streams these and wipes them before it exits. */
typedef struct ipc_stdio {
    FILE *in, *out;
    char inbuf[IPC_STDIO_BUF];
    char outbuf[IPC_STDIO_BUF];
} ipc_stdio;

/* Make in and out (fully buffered) use io's buffers.  Call before any I/O on
 * either stream.  IPC_IO if stdio refuses. */
ipc_status ipc_stdio_own(ipc_stdio *io, FILE *in, FILE *out);
/* Flush io->out, then wipe both buffers and the reader's line scratch, even
 * when the flush fails (IPC_IO then).  Read nothing from io->in afterwards. */
ipc_status ipc_stdio_wipe(ipc_stdio *io);

#endif
