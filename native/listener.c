/* listener: see listener.h. */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static listener *fail(GError **error, const listen_spec *spec, const char *what, int err)
{
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "cannot listen on %s: %s: %s",
                spec->spec, what, g_strerror(err));
    return NULL;
}

static listener *open_tcp(const listen_spec *spec, int backlog, GError **error)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char port[16];
    g_snprintf(port, sizeof port, "%d", spec->port);
    int rc = getaddrinfo(spec->host, port, &hints, &res);
    if (rc != 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot listen on %s: %s", spec->spec,
                    gai_strerror(rc));
        return NULL;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        freeaddrinfo(res);
        return fail(error, spec, "socket", e);
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (res->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
        int e = errno;
        freeaddrinfo(res);
        close(fd);
        return fail(error, spec, "bind", e);
    }
    freeaddrinfo(res);
    listener *l = g_new0(listener, 1);
    l->fd = fd;
    l->kind = LISTEN_TCP;
    l->protocols = spec->protocols;
    l->desc = g_strdup(spec->spec);
    return l;
}

/* TRUE if path is a socket file that no process accepts on. */
static gboolean is_stale_socket(const char *path, const struct sockaddr_un *sa)
{
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
        return FALSE;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return FALSE;
    gboolean stale = connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0 && errno == ECONNREFUSED;
    close(fd);
    return stale;
}

static listener *open_unix(const listen_spec *spec, int mode, int backlog, GError **error)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(spec->path) >= sizeof sa.sun_path)
        return fail(error, spec, "path", ENAMETOOLONG);
    strcpy(sa.sun_path, spec->path);
    if (is_stale_socket(spec->path, &sa))
        unlink(spec->path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(error, spec, "socket", errno);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        return fail(error, spec, "bind", e);
    }
    if (chmod(spec->path, (mode_t)mode) < 0 || listen(fd, backlog) < 0) {
        int e = errno;
        close(fd);
        unlink(spec->path);
        return fail(error, spec, "listen", e);
    }
    listener *l = g_new0(listener, 1);
    l->fd = fd;
    l->kind = LISTEN_UNIX;
    l->protocols = spec->protocols;
    l->desc = g_strdup(spec->spec);
    l->path = g_strdup(spec->path);
    return l;
}

listener *listener_open(const listen_spec *spec, int socket_mode, int backlog, GError **error)
{
    if (spec->kind == LISTEN_UNIX)
        return open_unix(spec, socket_mode, backlog, error);
    return open_tcp(spec, backlog, error);
}

gboolean listener_is_listening(int fd)
{
    int on = 0;
    socklen_t len = sizeof on;
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

listener *listener_adopt(int fd, const char *origin, listen_protocols protocols, GError **error)
{
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM ||
        !listener_is_listening(fd)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s: file descriptor %d is not a listening stream socket", origin, fd);
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
        ss.ss_family = AF_UNSPEC;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: file descriptor %d: %s",
                    origin, fd, g_strerror(errno));
        return NULL;
    }
    listener *l = g_new0(listener, 1);
    l->fd = fd;
    l->kind = ss.ss_family == AF_UNIX ? LISTEN_UNIX : LISTEN_TCP;
    l->protocols = protocols;
    char where[128] = "";
    if (ss.ss_family == AF_UNIX) {
        const struct sockaddr_un *su = (const void *)&ss;
        g_snprintf(where, sizeof where, "unix:%s", su->sun_path[0] ? su->sun_path : "(unnamed)");
    } else if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
        char addr[64];
        const void *a = ss.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
                                                : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
        int port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                 : ((struct sockaddr_in6 *)&ss)->sin6_port);
        inet_ntop(ss.ss_family, a, addr, sizeof addr);
        g_snprintf(where, sizeof where, ss.ss_family == AF_INET ? "tcp:%s:%d" : "tcp:[%s]:%d", addr, port);
    }
    l->desc = g_strdup_printf("%s (fd %d from %s)", where, fd, origin);
    return l; /* path stays NULL: the socket file is not ours to remove */
}

void listener_free(listener *l)
{
    if (!l)
        return;
    if (l->fd >= 0)
        close(l->fd);
    if (l->path)
        unlink(l->path);
    g_free(l->desc);
    g_free(l->path);
    g_free(l);
}

/* listener_open_all: see listener.h. */
GPtrArray *listener_open_all(const config *cfg, GError **error)
{
    GPtrArray *ls = g_ptr_array_new_with_free_func((GDestroyNotify)listener_free);
    const char *pid = g_getenv("LISTEN_PID"), *fds = g_getenv("LISTEN_FDS");
    gboolean systemd = pid && fds && g_ascii_strtoll(pid, NULL, 10) == (gint64)getpid();
    if (systemd) {
        gint64 n = g_ascii_strtoll(fds, NULL, 10);
        for (gint64 i = 0; i < n && i < 64 && !cfg->listen_from_cli; i++) {
            listener *l = listener_adopt(3 + (int)i, "systemd", cfg->inherited_protocols, error);
            if (!l)
                goto fail;
            g_ptr_array_add(ls, l);
        }
    }
    /* not for the children: they are not the process systemd meant */
    g_unsetenv("LISTEN_PID");
    g_unsetenv("LISTEN_FDS");
    g_unsetenv("LISTEN_FDNAMES");
    if (!systemd && !cfg->listen_from_cli && listener_is_listening(0)) {
        listener *l = listener_adopt(0, "standard input", cfg->inherited_protocols, error);
        if (!l)
            goto fail;
        g_ptr_array_add(ls, l);
    }
    if (ls->len > 0)
        return ls;
    for (guint i = 0; i < cfg->listen->len; i++) {
        listener *l = listener_open(g_ptr_array_index(cfg->listen, i), cfg->socket_mode, 1024, error);
        if (!l)
            goto fail;
        g_ptr_array_add(ls, l);
    }
    return ls;
fail:
    g_ptr_array_free(ls, TRUE);
    return NULL;
}

/* listener_adopt_handed: see listener.h. */
GPtrArray *listener_adopt_handed(GError **error)
{
    GPtrArray *ls = g_ptr_array_new_with_free_func((GDestroyNotify)listener_free);
    const char *pid = g_getenv("LISTEN_PID"), *fds = g_getenv("LISTEN_FDS");
    const char *protos = g_getenv(LISTENER_PROTOCOLS_ENV);
    gint64 n = fds ? g_ascii_strtoll(fds, NULL, 10) : 0;
    char **names = g_strsplit(protos ? protos : "", ",", -1);
    if (!pid || g_ascii_strtoll(pid, NULL, 10) != (gint64)getpid() || n < 1 || n > 64 ||
        g_strv_length(names) != (guint)n) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "no listening sockets from the supervisor (LISTEN_PID, LISTEN_FDS, %s)", LISTENER_PROTOCOLS_ENV);
        goto fail;
    }
    for (gint64 i = 0; i < n; i++) {
        listen_protocols p = g_str_equal(names[i], "scgi") ? LISTEN_PROTO_SCGI
                           : g_str_equal(names[i], "http") ? LISTEN_PROTO_HTTP : LISTEN_PROTO_BOTH;
        listener *l = listener_adopt(3 + (int)i, "the supervisor", p, error);
        if (!l)
            goto fail;
        g_ptr_array_add(ls, l);
    }
    g_strfreev(names);
    g_unsetenv("LISTEN_PID");
    g_unsetenv("LISTEN_FDS");
    g_unsetenv(LISTENER_PROTOCOLS_ENV);
    return ls;
fail:
    g_strfreev(names);
    g_ptr_array_free(ls, TRUE);
    return NULL;
}

const char *listener_protocols_token(listen_protocols p)
{
    return p == LISTEN_PROTO_SCGI ? "scgi" : p == LISTEN_PROTO_HTTP ? "http" : "both";
}
