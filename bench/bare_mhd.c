/*
 * bench/bare_mhd.c - the ceiling for bench/http: libmicrohttpd with the same daemon flags and
 * thread pool as reporta serve, answering every request with a fixed 200 JSON body, no
 * routing, no logging. usage: bare_mhd PORT THREADS [BODY_FILE] (stops on SIGTERM/SIGINT);
 * with BODY_FILE the body is that file's bytes (bench/run tiles: a tile-sized body).
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char fixed[] = "{\"status\":\"ok\"}";
static const char *body = fixed;
static size_t body_len = sizeof fixed - 1;
static const char *body_type = "application/json";

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct MHD_Response *r;
    enum MHD_Result ok;

    (void)cls, (void)url, (void)method, (void)version, (void)upload, (void)upload_size;
    /* MHD calls once for the headers and again when the request is complete; answering on
     * the first call makes MHD close the connection (no keep-alive), which is not a ceiling. */
    if (!*con_cls) {
        *con_cls = (void *)body;
        return MHD_YES;
    }
    r = MHD_create_response_from_buffer(body_len, (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, body_type);
    ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

int main(int argc, char **argv)
{
    struct MHD_Daemon *d;
    sigset_t set;
    int sig;

    if (argc < 3)
        return 2;
    if (argc > 3) {
        FILE *f = fopen(argv[3], "rb");
        static char buf[1 << 20];
        if (!f)
            return 2;
        body_len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        body = buf;
        body_type = "application/octet-stream";
    }
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC, (uint16_t)atoi(argv[1]),
                         NULL, NULL, answer, NULL, MHD_OPTION_THREAD_POOL_SIZE,
                         (unsigned)atoi(argv[2]), MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                         MHD_OPTION_END);
    if (!d)
        return 1;
    printf("bare_mhd: listening on %s\n", argv[1]);
    fflush(stdout);
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}
