/* proc: see proc.h. */
#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct proc {
    server *srv;
    int sigfd;
    int parent_fd;          /* -1 once not watched */
    void (*reopen_logs)(void *ud);
    void *ud;
};

static void on_signal(void *ud)
{
    proc *p = ud;
    struct signalfd_siginfo si;
    while (read(p->sigfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo != SIGUSR1)
            server_stop(p->srv);
        else if (p->reopen_logs)
            p->reopen_logs(p->ud);
    }
}

static void on_parent(void *ud)
{
    proc *p = ud;
    char sink[4096];
    ssize_t r = read(p->parent_fd, sink, sizeof sink);
    if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EINTR)))
        return; /* the parent wrote something: ignored */
    server_unwatch(p->srv, p->parent_fd);
    p->parent_fd = -1;
    if (!server_stopping(p->srv)) {
        g_message("standard input closed: the parent process went away");
        server_stop(p->srv);
    }
}

proc *proc_new(server *s, int parent_fd, void (*reopen_logs)(void *ud), void *ud, GError **error)
{
    proc *p = g_new0(proc, 1);
    p->srv = s;
    p->parent_fd = -1;
    p->reopen_logs = reopen_logs;
    p->ud = ud;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    p->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (p->sigfd < 0 || !server_watch(s, p->sigfd, on_signal, p)) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "event loop: %s", g_strerror(errno));
        proc_free(p);
        return NULL;
    }
    if (parent_fd >= 0) {
        if (server_watch(s, parent_fd, on_parent, p))
            p->parent_fd = parent_fd;
        else
            g_warning("cannot watch file descriptor %d for the parent going away: %s", parent_fd,
                      g_strerror(errno));
    }
    return p;
}

void proc_free(proc *p)
{
    if (!p)
        return;
    if (p->parent_fd >= 0)
        server_unwatch(p->srv, p->parent_fd);
    if (p->sigfd >= 0) {
        server_unwatch(p->srv, p->sigfd);
        close(p->sigfd);
    }
    g_free(p);
}
