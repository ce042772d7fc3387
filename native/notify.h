/* notify: the service manager's side of the supervisor (systemd Type=notify,
 * sd_notify(3) through libsystemd). Only the supervisor links it; every
 * function is a no-op when NOTIFY_SOCKET is not set (started from a shell,
 * by a front end, by a test).
 *
 * What is sent, and when (the supervisor decides the state, this module
 * sends each change once):
 *   NOTIFY_READY      "READY=1", "MAINPID=<pid>", "STATUS=<status>": its
 *                     workers serve (sent again when a reload ends, whether
 *                     it committed, failed or was refused);
 *   NOTIFY_RELOADING  "RELOADING=1" with "MONOTONIC_USEC=<CLOCK_MONOTONIC>"
 *                     (systemd >= 253 wants it, older ones ignore it);
 *   NOTIFY_STOPPING   "STOPPING=1".
 * A change of the status text alone sends "STATUS=<status>".
 * "WATCHDOG=1" is sent every WATCHDOG_USEC / 2 by notify_tick, when the
 * service manager asked for it (sd_watchdog_enabled: WATCHDOG_USEC, and
 * WATCHDOG_PID unset or this process): it proves the supervisor's own loop
 * runs (the workers' liveness is the supervisor's watchdog, stats.h).
 *
 * The variables (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID) stay in the
 * supervisor's environment; notify_scrub_env removes them in a child before
 * exec, so that no worker or application talks to the service manager. */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <glib.h>

typedef enum { NOTIFY_STARTING, NOTIFY_READY, NOTIFY_RELOADING, NOTIFY_STOPPING } notify_state;

/* Reads the environment once; logs whether a service manager listens. */
void notify_init(void);
/* The state and status text now; sends what changed since the last call.
 * status may be NULL (no STATUS= line). Reloading may be entered and left
 * any number of times; STOPPING is final. */
void notify_update(notify_state state, const char *status);
/* Sends WATCHDOG=1 if due at now_us (monotonic µs). */
void notify_tick(gint64 now_us);
/* Milliseconds until the next WATCHDOG=1 is due, at most max_ms; max_ms when
 * no watchdog was asked for. */
int notify_timeout_ms(gint64 now_us, int max_ms);
/* In a forked child before exec: removes NOTIFY_SOCKET, WATCHDOG_USEC and
 * WATCHDOG_PID from the environment (async-signal-safe enough: unsetenv). */
void notify_scrub_env(void);

#endif
