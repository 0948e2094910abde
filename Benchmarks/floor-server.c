/*
 * The floor: the cheapest HTTP/1.1 keep-alive server a libev loop allows, as a yardstick for
 * the CPU target (see README.md, "How low can it go"). Not a real server: one read per
 * readiness, one fixed response per read that holds a blank line (no parsing, no pipelining,
 * no timeouts, no limits). Answers every request with the 13-byte "Hello, World!".
 *
 *   cc -O2 -o /tmp/floor-server Benchmarks/floor-server.c -lev
 *   STEPWISE_BENCH_SERVER_CMD='/tmp/floor-server {port}' STEPWISE_BENCH_SERVER_NAME=floor Benchmarks/run.sh
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char response[] =
    "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 13\r\n"
    "date: Sat, 21 Nov 2026 10:00:00 GMT\r\n\r\nHello, World!";

static void readable(struct ev_loop *loop, ev_io *watcher, int events) {
    char buffer[65536];
    ssize_t n = read(watcher->fd, buffer, sizeof buffer);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
        ev_io_stop(loop, watcher);
        close(watcher->fd);
        free(watcher);
        return;
    }
    if (memmem(buffer, (size_t)n, "\r\n\r\n", 4))
        send(watcher->fd, response, sizeof response - 1, MSG_NOSIGNAL);
}

static void acceptable(struct ev_loop *loop, ev_io *listener, int events) {
    int fd = accept4(listener->fd, NULL, NULL, SOCK_NONBLOCK);
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ev_io *watcher = malloc(sizeof *watcher);
    ev_io_init(watcher, readable, fd, EV_READ);
    ev_io_start(loop, watcher);
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 4096) < 0) return 1;
    struct ev_loop *loop = EV_DEFAULT;
    ev_io watcher;
    ev_io_init(&watcher, acceptable, listener, EV_READ);
    ev_io_start(loop, &watcher);
    ev_run(loop, 0);
    return 0;
}
