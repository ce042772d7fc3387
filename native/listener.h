/* listener: opens the listening sockets named by listen specs.
 *
 * TCP (IPv4, IPv6) and UNIX stream sockets, non-blocking, close-on-exec.
 * A UNIX socket path that already exists is replaced only if it is a socket
 * nobody answers on (a stale file left by a crash); a live one is an error.
 * Each listener accepts the protocols its spec names (scgi:, http:, or both);
 * the event loop refuses the other one (conn.c).
 * Ownership: the caller frees each listener with listener_free (NULL accepted),
 * which closes the socket and removes the UNIX socket file it created.
 */
#ifndef LISTENER_H
#define LISTENER_H

#include <glib.h>
#include "config.h"

typedef struct {
    int fd;
    listen_kind kind;
    listen_protocols protocols;
    char *desc;      /* "tcp:127.0.0.1:8000", for messages */
    char *path;      /* UNIX socket path we created, or NULL */
} listener;

/* Returns NULL and sets error (naming the spec and the system error) on failure. */
listener *listener_open(const listen_spec *spec, int socket_mode, int backlog, GError **error);
/* A listening socket this process was started with (systemd socket activation,
 * or fd 0 after the FastCGI convention lighttpd's bin-path follows), accepting
 * protocols (config key inherited_protocols). NULL and error if fd is not a
 * listening stream socket. It is made non-blocking and close-on-exec; origin
 * names it in messages. */
listener *listener_adopt(int fd, const char *origin, listen_protocols protocols, GError **error);
/* TRUE if fd is a socket in the listening state. */
gboolean listener_is_listening(int fd);
void listener_free(listener *l);

/* The listening sockets of a server started with cfg: sockets handed over at
 * start (systemd socket activation: LISTEN_PID/LISTEN_FDS, fds 3...; else a
 * listening socket on fd 0, lighttpd's bin-path, FastCGI style) take the place
 * of the configured listen addresses unless --listen was given on the command
 * line; otherwise cfg->listen is opened. LISTEN_* are removed from the
 * environment either way. Returns NULL and error on failure. */
GPtrArray *listener_open_all(const config *cfg, GError **error);

/* Worker side: the sockets its supervisor handed over, as LISTEN_FDS at fds
 * 3... with LISTEN_PID = this process, and their protocols in the environment
 * variable LISTENER_PROTOCOLS_ENV ("scgi", "http" or "both", comma-separated,
 * one per socket; see listener_protocols_token). The variables are removed
 * from the environment (applications do not inherit them). */
#define LISTENER_PROTOCOLS_ENV "SCGI_MONO_LISTEN_PROTOCOLS"
GPtrArray *listener_adopt_handed(GError **error);
const char *listener_protocols_token(listen_protocols p);

#endif
