/* supervisor: scgi-mono-server proper. A single-threaded process that never
 * starts Mono (it is compiled and linked without it): it reads and validates
 * the configuration, binds or adopts the listening sockets, and keeps
 * `workers` worker processes (build/scgi-mono-worker, see worker.h) running,
 * started by fork+exec with the sockets as LISTEN_FDS (fds 3...,
 * LISTEN_PID set in the child) and their protocols in the environment.
 * Workers accept directly: the supervisor is never on the request path.
 *
 * It logs "ready:" once every worker it started said it serves (one byte on
 * its control pipe). A worker that exits before that at start makes the
 * supervisor exit 1 (the worker's reason is in the log, which they share).
 * SIGTERM/SIGINT (and, when started with SCGI=1, the parent going away) are
 * forwarded to the workers, which drain; the supervisor waits for them (at
 * most shutdown_timeout + 5 s, then SIGKILL) and exits 0. With drain_delay,
 * a SIGTERM/SIGINT once the server is ready first starts a drain: for
 * drain_delay seconds /health/ready answers 503 (systemd: STOPPING=1) while
 * the workers keep accepting and serving, so that a load balancer takes the
 * server out first; then the stop as above. A second SIGTERM/SIGINT during
 * the drain stops at once; SIGHUP and recycling are ignored during it.
 *
 * Once serving, a worker that exits, is killed or crashes is replaced at once
 * (its exit logged with the status or signal); the listening sockets stay
 * open here, so connections wait in the backlog meanwhile. Workers that die
 * young back off: 0.1 s doubling to 10 s, reset once one lived 30 s.
 * SIGHUP re-reads and validates the configuration (the same command line):
 * if bad, the running workers keep serving and the log says why; if good,
 * new workers start, and once all are ready the old ones get SIGTERM (they
 * finish what they accepted; SIGKILL shutdown_timeout + 5 s later, as for
 * every worker retired here). A new worker that fails first aborts the
 * reload. The listening sockets are kept as they are (listen changes need a
 * restart).
 *
 * Watchdog: each worker gets a block of shared counters (stats.h, a memfd
 * passed as SCGI_MONO_STATS_FD). A worker whose event loop or Mono heartbeat
 * made no progress for hang_timeout is killed (SIGKILL) and replaced as after
 * a crash; one with a request running past request_timeout is replaced
 * overlapped (a new worker starts; once it serves, the old one gets SIGTERM,
 * and SIGKILL shutdown_timeout + 5 s later). Every worker exit that was not
 * clean, or that left requests unanswered, is logged with the number of
 * requests it had in progress ("lost N request(s) in progress") and the
 * watchdog's reason.
 *
 * Recycling: a worker past max_requests or max_age seconds (each plus a
 * random jitter of up to 1/8, drawn per worker) or max_rss MiB resident is
 * replaced overlapped in the same way; it finishes all its requests, so
 * nothing is lost (unless one outlasts shutdown_timeout + 5 s).
 *
 * Application changes (watch = true, appwatch.h): a change to what ASP.NET
 * restarts an application for replaces every worker like a reload that keeps
 * the configuration ("replaced:"); another change meanwhile starts another
 * replacement after it. Workers started to replace running ones (reload or
 * change) get WORKER_STRICT_ENV: one whose application cannot start exits
 * before ready and the running workers keep serving. A worker that writes
 * WORKER_REPLACE_ME (an in-process AppDomain unload) is replaced overlapped,
 * as at max_requests.
 * Warm-up (worker.h, warmup.h): a worker says it serves only after its warm-up
 * passed; one that fails it exits WORKER_EXIT_WARMUP without ever accepting.
 * At start: exit 1, saying so. On a reload: the reload is aborted, saying so.
 * A replacement (crash, watchdog, recycling) that exits before it is ready
 * is not put in service: the running workers keep serving (a condemned one
 * too, until a replacement is ready) and the next attempt backs off (after a
 * failed warm-up 1 s doubling to 60 s, else as for a crash loop).
 *
 * Other signals: SIGUSR1 reopens the error_log file (log.h) here and is
 * passed to every worker, which does the same; SIGQUIT is passed to the
 * workers that serve (Mono prints a managed thread dump) instead of dumping
 * core here. Workers are started with SIGUSR1 still blocked (through exec),
 * so one sent while a worker starts is not its death. A reload that changes
 * error_log moves the supervisor's log once it commits.
 *
 * Privileges (privs.h): started as root with user set, the supervisor stays
 * root and starts each worker as the user (dropped in the child between fork
 * and exec); UNIX sockets and the log files the workers reopen by path are
 * given to the user first (at start, before a reload's workers start, and on
 * SIGUSR1 before the signal is passed on). Root with no user is refused
 * (exit 2) unless allow_root.
 *
 * Health (status_listen): /health/live answers 200 while this loop runs;
 * /health/ready 200 once the server has started (every worker it started
 * warmed up and said it serves) while at least one worker serves and the
 * server neither drains nor stops, else 503 "not ready: starting|draining|
 * stopping|no worker ready".
 *
 * Logging (log.h): error_log and log_level; every line names the process
 * ("[supervisor PID]", "[worker PID]").
 *
 * Under systemd (NOTIFY_SOCKET), the state goes to the service manager
 * through notify.h: READY=1 once every worker serves, RELOADING=1/READY=1
 * around a SIGHUP (a replacement after an application change alone
 * stays READY), STOPPING=1, STATUS= with the workers serving, and
 * WATCHDOG=1 from this loop when WatchdogSec= asks for it.
 *
 * Exit status: 0 after a clean stop, 2 for a bad command line or
 * configuration (before anything listens), 1 if it cannot start otherwise.
 */
#ifndef SUPERVISOR_H
#define SUPERVISOR_H

int supervisor_main(int argc, char **argv);

#endif
