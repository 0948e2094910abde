#ifndef STEPWISE_CLIBEV_SHIM_H
#define STEPWISE_CLIBEV_SHIM_H

/* Debian's libev-dev ships no libev.pc: the module map links "ev" and the
 * header comes from /usr/include. Never define EV_MULTIPLICITY or EV_*_ENABLE
 * here: the watcher structs must match the installed libev.so. */
#define EV_COMPAT3 0
#include <ev.h>
#include <sys/eventfd.h> /* not part of the Glibc Swift module */
#include <sys/timerfd.h> /* ditto */
#include <sys/signalfd.h> /* ditto */
#include <sys/epoll.h> /* ditto */
#include <errno.h>

/* accept4 is _GNU_SOURCE-only, and the Glibc Swift module is built without it. Declared here
 * without <sys/socket.h>, so that socket constants keep coming from Glibc. */
struct sockaddr;
extern int accept4(int sockfd, struct sockaddr *addr, unsigned int *addrlen, int flags);
static inline int evshim_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }

typedef void (*evshim_io_cb)(struct ev_loop *loop, ev_io *w, int revents);
typedef void (*evshim_timer_cb)(struct ev_loop *loop, ev_timer *w, int revents);
typedef void (*evshim_fork_cb)(struct ev_loop *loop, ev_fork *w, int revents);

/* ev_*_init / ev_*_set / ev_is_active are function-like macros, which the
 * Clang importer drops. */
static inline void evshim_io_init(ev_io *w, evshim_io_cb cb, int fd, int events) { ev_io_init(w, cb, fd, events); }
static inline void evshim_io_set(ev_io *w, int fd, int events) { ev_io_set(w, fd, events); }
static inline void evshim_timer_init(ev_timer *w, evshim_timer_cb cb, ev_tstamp after, ev_tstamp repeat) { ev_timer_init(w, cb, after, repeat); }
static inline void evshim_timer_set(ev_timer *w, ev_tstamp after, ev_tstamp repeat) { ev_timer_set(w, after, repeat); }
static inline void evshim_fork_init(ev_fork *w, evshim_fork_cb cb) { ev_fork_init(w, cb); }
static inline int evshim_io_is_active(const ev_io *w) { return ev_is_active(w); }
static inline int evshim_timer_is_active(const ev_timer *w) { return ev_is_active(w); }

/* libev has no public getter for its backend fd (ev_backend() returns the
 * backend kind). ev_embed_start() copies the embedded loop's backend fd into
 * ev_embed.io.fd, so probe it with a throw-away select() host loop that never
 * runs: nothing is reified on the probed loop. Returns -1 when the backend is
 * not embeddable (anything but epoll/kqueue/port/io_uring). */
static inline int evshim_backend_fd(struct ev_loop *loop)
{
    if (!(ev_backend(loop) & ev_embeddable_backends()))
        return -1;
    struct ev_loop *host = ev_loop_new(EVBACKEND_SELECT | EVFLAG_NOENV | EVFLAG_NOSIGMASK | EVFLAG_NOTIMERFD | EVFLAG_NOINOTIFY);
    if (!host)
        return -1;
    ev_embed probe;
    ev_embed_init(&probe, 0, loop);
    ev_embed_start(host, &probe);
    int fd = probe.io.fd;
    ev_embed_stop(host, &probe);
    ev_loop_destroy(host);
    return fd;
}

/* Whether epoll refuses fd (EPERM: a regular file, a directory, /dev/null), tried on the scratch
 * epoll instance *probe (made on first use; the caller closes it). libev treats such an fd as
 * always ready by polling without waiting, which its epoll fd never shows a host. */
static inline int evshim_epoll_refuses(int *probe, int fd)
{
    if (*probe < 0)
        *probe = epoll_create1(EPOLL_CLOEXEC);
    if (*probe < 0)
        return 0;
    struct epoll_event event = {.events = EPOLLIN};
    if (epoll_ctl(*probe, EPOLL_CTL_ADD, fd, &event) == 0) {
        epoll_ctl(*probe, EPOLL_CTL_DEL, fd, &event);
        return 0;
    }
    return errno == EPERM;
}

static inline unsigned int evshim_loop_flags(void)
{
    return EVBACKEND_EPOLL | EVFLAG_NOSIGMASK | EVFLAG_NOENV | EVFLAG_NOTIMERFD | EVFLAG_NOINOTIFY;
}

#endif
