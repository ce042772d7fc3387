/* worker: the process that serves requests (build/scgi-mono-worker).
 *
 * It reads the configuration (the same command line as the server), opens or
 * adopts the listening sockets, starts Mono and the worker threads, and runs
 * the event loop until SIGTERM/SIGINT. It is the only executable that links
 * Mono: build/scgi-mono-server (main.c) never starts it and execs this one.
 *
 * Warm-up: when an application has warmup URLs (warmup.h), the worker requests
 * them through its own request path once Mono and the applications are
 * started, before it accepts from any listener and before it says it serves;
 * the log shows each URL's status and time.
 *
 * Exit status: 0 after a clean stop (SIGTERM/SIGINT), 2 for a bad command line
 * or configuration (before anything listens), WORKER_EXIT_WARMUP when the
 * warm-up failed (the log says which URL and why; it never accepted), 1 for
 * any other failure to start.
 */
#ifndef WORKER_H
#define WORKER_H

/* Started by the supervisor (supervisor.h), the environment names the
 * descriptor on which the worker writes one byte "R" once it serves; the
 * listening sockets are then the supervisor's (listener_adopt_handed), the
 * worker dies with the supervisor (PR_SET_PDEATHSIG: SIGTERM, it drains) and
 * the supervisor logs the listeners and "ready:". Without it the worker runs
 * alone, as the whole server did (listener_open_all, its own "ready:"). */
#define WORKER_CONTROL_ENV "SCGI_MONO_CONTROL_FD"
/* Bytes a worker writes on that descriptor: its applications are loaded and
 * it begins its warm-up requests (once, only with `warmup` URLs); it serves
 * (once, at start); it asks to be replaced overlapped (an AppDomain was unloaded in-process, which
 * Mono 6.8 may not survive under load: see monohost_set_supervised). */
#define WORKER_WARMING 'W'
#define WORKER_READY 'R'
#define WORKER_REPLACE_ME 'U'
/* Set (to "1") for a worker meant to replace running ones (SIGHUP reload,
 * application change): it serves only if every application starts; otherwise
 * it logs why and exits 1 before it is ready, and the running workers keep
 * serving (a web.config with broken XML leaves the old one in service until it
 * is fixed). Without it an application that cannot start is retried on its
 * next request (503 meanwhile), as at the server's first start. */
#define WORKER_STRICT_ENV "SCGI_MONO_STRICT_START"
/* The supervisor also names (STATS_FD_ENV, stats.h) the descriptor of the
 * worker's shared counters: the worker counts requests started and answered,
 * ticks them from its event loop, and runs a "heartbeat" thread attached to
 * Mono that calls into managed code twice a second (monohost_ping). */

#define WORKER_EXIT_WARMUP 3

int worker_main(int argc, char **argv);

#endif
