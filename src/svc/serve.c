/*
 * serve.c - the signals a daemon waits on and the lines it prints once
 * serving (serve.h).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "net/net.h"
#include "svc/serve.h"

void fki_serve_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP); /* reload (fki_serve_wait), never the default: death */
    /* Signals go to sigwait() in fki_serve_wait, not to the server's threads
     * (they inherit this mask). */
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void fki_serve_wait(const sigset_t *set, const char *vkey, const char *listen, uint16_t port,
                    const char *daemon, int (*reload)(void *ctx), void *ctx)
{
    /* stdout: line 1 the verifier key, line 2 the URL (scripts read both). */
    char host[256];
    uint16_t listen_port;
    fki_net_parse_listen(listen, host, sizeof host, &listen_port);
    int v6 = strchr(host, ':') != NULL;
    printf("%s\nhttp://%s%s%s:%u\n", vkey, v6 ? "[" : "", host[0] ? host : "127.0.0.1",
           v6 ? "]" : "", (unsigned)port);
    fflush(stdout);
    for (;;) {
        int sig;
        if (sigwait(set, &sig) || sig != SIGHUP)
            return;
        /* Connections are served throughout: only the reloaded data changes. */
        if (reload)
            reload(ctx);
        else
            fprintf(stderr, "fairkey %s: SIGHUP: nothing to reload (its files are read at "
                            "start); still serving\n", daemon);
    }
}
