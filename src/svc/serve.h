/*
 * serve.h - what every daemon's main thread does once serving: the signals
 * it waits for (SIGINT and SIGTERM stop it, SIGHUP reloads it), and the two
 * lines the log and the witness print when they start.  Program code
 * (fairkey-net), shared by the log, the agent, the witness and the
 * dealerless ceremony's coordinator.
 */
#ifndef FK_SVC_SERVE_H
#define FK_SVC_SERVE_H

#include <signal.h>
#include <stdint.h>

/* Block SIGINT, SIGTERM and SIGHUP, for fki_serve_wait or sigwait, in this
 * thread and the threads started after (call it before starting a server);
 * ignore SIGPIPE. */
void fki_serve_signals(sigset_t *set);
/* Print the daemon's vkey (line 1) and URL (line 2: http://HOST:PORT, HOST
 * from listen, PORT the one bound), then wait for SIGINT or SIGTERM.  On
 * SIGHUP call reload(ctx), which prints its own line, or (reload NULL) say
 * on stderr that "fairkey <daemon>" has nothing to reload; serving goes on. */
void fki_serve_wait(const sigset_t *set, const char *vkey, const char *listen, uint16_t port,
                    const char *daemon, int (*reload)(void *ctx), void *ctx);

#endif
