/*
 * evil_agent - a misbehaving escrow agent, for tests only.
 *
 *   evil_agent LISTEN badproof INDEX        answers every request with a
 *       well-sealed partial for share INDEX whose D_i and proof are wrong
 *       (anyone can seal to the requester's public reply key);
 *   evil_agent LISTEN flip UPSTREAM         forwards to a real agent and flips
 *       one bit of its sealed answer (an altered answer);
 *   evil_agent LISTEN replay UPSTREAM       forwards the first request, then
 *       answers every later request with that first answer (a replay).
 *
 * Prints "listening on port N" once ready; stops on SIGTERM/SIGINT.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "net/net.h"

static const char *mode, *upstream;
static unsigned index_arg;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char *replayed; /* first upstream answer, for "replay" */
static size_t replayed_len;

static void answer(struct fki_net_response *resp, int status, char *body)
{
    static __thread char buf[4096];
    size_t n = strlen(body);
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, body, n);
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = buf;
    resp->body_len = n;
}

static void badproof(const struct fki_net_request *req, struct fki_net_response *resp)
{
    fk_tlog_proof *p = malloc(sizeof *p);
    uint8_t note[FK_REQUEST_NOTE_MAX + 1];
    size_t nl = 0;
    fk_request r;
    if (!p || fk_tlog_proof_parse(p, (const char *)req->body, req->body_len) || !p->extra_b64 ||
        fk_b64_decode_padded(note, sizeof note, &nl, p->extra_b64, p->extra_b64_len) ||
        fk_request_verify(&r, (const char *)note, nl)) {
        free(p);
        answer(resp, 400, "{\"status\":\"refused\",\"error\":\"bad receipt\"}");
        return;
    }
    free(p);
    uint8_t eh[32], plain[FK_ESCROW_PARTIAL_LEN], sealed[FK_ESCROW_PARTIAL_LEN + FK_ANSWER_OVERHEAD];
    size_t sl;
    fk_request_entry_hash(eh, note, nl);
    /* D_i = E itself (a valid point, wrong value); c, s small canonical scalars. */
    memset(plain, 0, sizeof plain);
    plain[0] = (uint8_t)(index_arg >> 8);
    plain[1] = (uint8_t)index_arg;
    memcpy(plain + 2, r.target, 32);
    plain[2 + 32] = 1;
    plain[2 + 64] = 2;
    fk_answer_seal(sealed, sizeof sealed, &sl, r.reply_to, eh, index_arg, plain, sizeof plain);
    char b64[512];
    fk_b64_encode_padded(b64, sealed, sl);
    char body[1024];
    snprintf(body, sizeof body, "{\"status\":\"answered\",\"agent\":%u,\"id\":1,\"answer\":\"%s\"}",
             index_arg, b64);
    answer(resp, 200, body);
}

static void proxy(const struct fki_net_request *req, struct fki_net_response *resp)
{
    char url[1024];
    snprintf(url, sizeof url, "%s/recover", upstream);
    pthread_mutex_lock(&mu);
    if (!strcmp(mode, "replay") && replayed) {
        answer(resp, 200, replayed);
        pthread_mutex_unlock(&mu);
        return;
    }
    pthread_mutex_unlock(&mu);
    uint8_t *body = NULL;
    size_t blen = 0;
    long status = 0;
    if (fki_net_post(url, req->body, req->body_len, NULL, &status, &body, &blen)) {
        answer(resp, 502, "{\"status\":\"error\",\"error\":\"upstream\"}");
        return;
    }
    json_error_t je;
    json_t *o = json_loadb((const char *)body, blen, 0, &je);
    free(body);
    const char *ans = o ? json_string_value(json_object_get(o, "answer")) : NULL;
    if (ans && !strcmp(mode, "flip")) {
        uint8_t sealed[1024];
        size_t sl = 0;
        char b64[2048];
        if (!fk_b64_decode_padded(sealed, sizeof sealed, &sl, ans, strlen(ans)) && sl > 40) {
            sealed[40] ^= 0x01;
            fk_b64_encode_padded(b64, sealed, sl);
            json_object_set_new(o, "answer", json_string(b64));
        }
    }
    char *s = o ? json_dumps(o, JSON_COMPACT) : strdup("{}");
    if (!strcmp(mode, "replay")) {
        pthread_mutex_lock(&mu);
        if (!replayed && ans) {
            replayed = strdup(s);
            replayed_len = strlen(s);
        }
        pthread_mutex_unlock(&mu);
    }
    answer(resp, (int)status, s);
    free(s);
    json_decref(o);
}

static void handle(void *ctx, const struct fki_net_request *req, struct fki_net_response *resp)
{
    if (strcmp(req->path, "/recover") || !req->body) {
        answer(resp, 404, "{\"status\":\"error\"}");
        return;
    }
    if (!strcmp(mode, "badproof"))
        badproof(req, resp);
    else
        proxy(req, resp);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: evil_agent LISTEN badproof INDEX | flip UPSTREAM | replay UPSTREAM\n");
        return 2;
    }
    mode = argv[2];
    if (!strcmp(mode, "badproof"))
        index_arg = (unsigned)atoi(argv[3]);
    else
        upstream = argv[3];
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct fki_net_server_config cfg = {.listen = argv[1], .handler = handle};
    fki_net_server *srv;
    if (fki_net_server_start(&srv, &cfg)) {
        fprintf(stderr, "evil_agent: cannot listen on %s\n", argv[1]);
        return 1;
    }
    printf("listening on port %u\n", fki_net_server_port(srv));
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    fki_net_server_stop(srv);
    free(replayed);
    return 0;
}
