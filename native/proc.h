/* proc: the worker process's lifecycle, apart from the event loop (nginx keeps
 * ngx_process_cycle.c apart from src/event): what stops the process and what
 * else a signal asks of it.
 *
 * SIGTERM and SIGINT stop the server (server_stop: no new connections, the
 * requests in progress are finished within shutdown_timeout); SIGUSR1 calls
 * reopen_logs; the parent going away (SCGI autolaunch: EOF or hang-up on
 * standard input) stops it as SIGTERM does, with a log line. The signals are
 * read from a signalfd that the loop watches (server_watch), so everything
 * here runs on the loop thread: the caller blocks SIGTERM, SIGINT and SIGUSR1
 * in every thread before any thread exists (a signal that came earlier waits,
 * pending, for the signalfd). SIGQUIT is Mono's and is left alone.
 */
#ifndef PROC_H
#define PROC_H

#include <glib.h>
#include "conn.h"

typedef struct proc proc;

/* Watches the signals, and parent_fd (or -1: no parent to watch) for the
 * parent going away, on s's loop. reopen_logs (may be NULL: SIGUSR1 is then
 * ignored) is called with ud on the loop thread. NULL and *error if the
 * signalfd cannot be made; a parent_fd the loop cannot watch only logs a
 * warning. */
proc *proc_new(server *s, int parent_fd, void (*reopen_logs)(void *ud), void *ud, GError **error);
/* Stops watching and closes the signalfd (not parent_fd); before server_free. NULL-safe. */
void proc_free(proc *p);

#endif
