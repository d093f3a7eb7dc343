/*
 * tls_proxy CERT KEY BACKEND_PORT - terminate TLS on 127.0.0.1 (a port the
 * kernel picks, printed as "listening on port N") and relay each connection
 * in plain HTTP to 127.0.0.1:BACKEND_PORT, as nginx or stunnel does in front
 * of a fairkey daemon (docs/operations.md section 5).  For tests/svc/tls.sh
 * only: one process per connection, no timeouts beyond the test's own.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void relay(SSL_CTX *ctx, int c, unsigned short port)
{
    SSL *s = SSL_new(ctx);
    if (!s || SSL_set_fd(s, c) != 1 || SSL_accept(s) != 1)
        return; /* a client that rejects our certificate ends here */
    int b = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (b < 0 || connect(b, (struct sockaddr *)&sa, sizeof sa))
        return;
    char buf[16384];
    for (;;) {
        if (!SSL_pending(s)) {
            struct pollfd p[2] = {{.fd = c, .events = POLLIN}, {.fd = b, .events = POLLIN}};
            if (poll(p, 2, -1) < 0)
                break;
            if (p[1].revents) {
                ssize_t n = read(b, buf, sizeof buf);
                if (n <= 0 || SSL_write(s, buf, (int)n) != (int)n)
                    break;
            }
            if (!p[0].revents)
                continue;
        }
        int n = SSL_read(s, buf, sizeof buf);
        if (n <= 0 || write_all(b, buf, (size_t)n))
            break;
    }
    SSL_shutdown(s);
    SSL_free(s);
    close(b);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: tls_proxy CERT KEY BACKEND_PORT\n");
        return 2;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, argv[1]) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, argv[2], SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    unsigned short backend = (unsigned short)atoi(argv[3]);
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof sa;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) || listen(l, 64) ||
        getsockname(l, (struct sockaddr *)&sa, &sl)) {
        perror("tls_proxy: listen");
        return 1;
    }
    printf("listening on port %u\n", (unsigned)ntohs(sa.sin_port));
    fflush(stdout);
    signal(SIGCHLD, SIG_IGN); /* no zombies */
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0)
            continue;
        pid_t pid = fork();
        if (pid == 0) {
            close(l);
            relay(ctx, c, backend);
            _exit(0);
        }
        close(c);
    }
}
